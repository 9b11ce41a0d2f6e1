/**
 * An HTTP/3 (and hq-interop) server on Node: `serveHttp3()` listens on a UDP
 * port, speaks the ALPN the client picks (`h3` and/or `hq-interop`), and
 * calls the handler for each request; `fileHandler(root)` serves a folder.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve as resolvePath, sep } from 'node:path';
import { listen, type ListenOptions, type QuicConnection, type QuicServer } from '../../quic/node.js';
import type { Http3Options } from '../events.js';
import type { HeaderField } from '../qpack/index.js';
import { Body, Http3StreamError, PROTOCOLS, Session, WritableSignal, type Protocol } from './session.js';

export interface Http3Request {
  readonly method: string;
  readonly path: string;
  /** ':authority' (empty for hq-interop). */
  readonly authority: string;
  /** Header fields without pseudo-headers. */
  readonly headers: readonly HeaderField[];
  readonly body: Body;
  readonly protocol: Protocol;
  readonly connection: QuicConnection;
}

export interface Http3ServerResponse {
  readonly status: number;
  readonly headers?: readonly HeaderField[];
  readonly body?: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

export type Http3Handler = (request: Http3Request) => Http3ServerResponse | Promise<Http3ServerResponse>;

export interface Http3ServerOptions extends Omit<ListenOptions, 'alpn' | 'rawStreams'> {
  /** Protocols offered, in preference order (default both: h3, hq-interop). */
  readonly protocols?: readonly Protocol[];
  readonly http3?: Http3Options;
  readonly handler: Http3Handler;
  /** Called with errors of single exchanges (a handler that threw, a stream the client reset). */
  readonly onError?: (e: unknown) => void;
}

/** H3_INTERNAL_ERROR (RFC 9114 section 8.1): a handler failed after the response started. */
const INTERNAL_ERROR = 0x102;

/** Starts a server; resolves once it listens. Close it with `server.close()`. */
export async function serveHttp3(options: Http3ServerOptions): Promise<QuicServer> {
  const { protocols = PROTOCOLS, http3, handler, onError = () => {}, ...rest } = options;
  const server = await listen({ ...rest, alpn: protocols, rawStreams: true });
  server.on('connection', (conn) => {
    new Session(conn, {
      ...(http3 === undefined ? {} : { http3 }),
      onRequest: (session, id, fields) => void exchange(session, id, fields, handler).catch(onError),
    });
  });
  return server;
}

async function exchange(session: Session, id: number, fields: readonly HeaderField[], handler: Http3Handler): Promise<void> {
  const body = new Body(session, id);
  const writable = new WritableSignal();
  session.own(id, {
    onData: () => body.signal(),
    onEnd: () => body.end(),
    onWritable: () => writable.fire(),
    onError: (e: Http3StreamError) => {
      body.fail(e);
      writable.fail(e);
    },
  });
  if (session.protocol === 'hq-interop') body.end(); // hq: the request is the line; the stream is finished
  const pseudo = (n: string): string => fields.find((f) => f.name === n)?.value ?? '';
  const request: Http3Request = {
    method: pseudo(':method'),
    path: pseudo(':path'),
    authority: pseudo(':authority'),
    headers: fields.filter((f) => !f.name.startsWith(':')),
    body,
    protocol: session.protocol,
    connection: session.quic,
  };
  let started = false;
  try {
    const response = await handler(request);
    const head: HeaderField[] = [{ name: ':status', value: String(response.status) }, ...(response.headers ?? [])];
    started = true;
    if (response.body === undefined) {
      session.respond(id, head, true);
      return;
    }
    session.respond(id, head, false);
    await session.writeBody(id, response.body, writable.wait);
  } catch (e) {
    if (e instanceof Http3StreamError) throw e; // the stream or connection is gone already
    if (!started && session.protocol === 'h3') {
      session.respond(id, [{ name: ':status', value: '500' }], true);
    } else {
      session.cancel(id, INTERNAL_ERROR); // the response started (or hq has no status): reset it
    }
    throw e;
  } finally {
    session.release(id);
  }
}

/**
 * A handler serving the files under `root` for GET (404 for anything that is
 * not a regular file inside it, 405 for other methods). Paths are decoded and
 * resolved; `..` cannot leave `root`.
 */
export function fileHandler(root: string): Http3Handler {
  const base = resolvePath(root);
  return async (req) => {
    if (req.method !== 'GET') return { status: 405, headers: [{ name: 'allow', value: 'GET' }] };
    let path = req.path.split('?')[0] ?? '/';
    try {
      path = decodeURIComponent(path);
    } catch {
      return { status: 400 };
    }
    const file = resolvePath(base, `.${path.startsWith('/') ? path : `/${path}`}`);
    if (file !== base && !file.startsWith(base + sep)) return { status: 404 };
    const info = await stat(file).catch(() => null);
    if (info === null || !info.isFile()) return { status: 404 };
    const headers = [{ name: 'content-length', value: String(info.size) }];
    return { status: 200, headers, body: createReadStream(file, { highWaterMark: 64 * 1024 }) as AsyncIterable<Uint8Array> };
  };
}
