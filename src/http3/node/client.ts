/**
 * An HTTP/3 (or hq-interop) client on Node: `Http3Client.connect()` makes one
 * QUIC connection; `request()` runs requests on it, as many at once as the
 * server's stream limit allows (more wait for it).
 */
import { UsageError } from '../../combinators/errors.js';
import type { CloseReason } from '../../quic/connection/events.js';
import { connect, type ConnectOptions, type QuicConnection } from '../../quic/node.js';
import type { Http3Options } from '../events.js';
import type { HeaderField } from '../qpack/index.js';
import { Body, Http3StreamError, Session, WritableSignal, type Protocol } from './session.js';

export interface Http3ClientOptions extends Omit<ConnectOptions, 'alpn' | 'rawStreams'> {
  /** `h3` (default) or `hq-interop` (HTTP/0.9 over QUIC: GET only, no status or headers). */
  readonly protocol?: Protocol;
  /** HTTP/3 settings (QPACK table, field section limit). */
  readonly http3?: Http3Options;
}

export interface Http3RequestInit {
  /** Default GET. */
  readonly method?: string;
  /** Path and query, e.g. `/index.html` (default `/`). */
  readonly path?: string;
  /** Default: the host (and port) the client connected to. */
  readonly authority?: string;
  /** Default https. */
  readonly scheme?: string;
  /** More header fields (lowercase names). */
  readonly headers?: readonly HeaderField[];
  /** Request body. */
  readonly body?: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

export interface Http3Response {
  readonly streamId: number;
  /** The status code (null for hq-interop, which has none). */
  readonly status: number | null;
  /** Response header fields without pseudo-headers (empty for hq-interop). */
  readonly headers: readonly HeaderField[];
  /** The body, read on demand. Read it (or `cancel()`): unread bodies hold flow-control credit. */
  readonly body: Body;
  /** Abandons the response (H3_REQUEST_CANCELLED). */
  cancel(): void;
}

/** H3_REQUEST_CANCELLED (RFC 9114 section 8.1). */
const REQUEST_CANCELLED = 0x10c;

export class Http3Client {
  private constructor(
    readonly session: Session,
    private readonly authority: string,
  ) {}

  /** Connects (QUIC handshake with ALPN `h3` or `hq-interop`); resolves once the connection is ready for requests. */
  static async connect(options: Http3ClientOptions): Promise<Http3Client> {
    const { protocol = 'h3', http3, ...rest } = options;
    const quic = await connect({ ...rest, alpn: protocol, rawStreams: true });
    const session = new Session(quic, { protocol, ...(http3 === undefined ? {} : { http3 }) });
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    return new Http3Client(session, `${options.serverName ?? host}:${options.port}`);
  }

  /** The QUIC connection (stats, rtt, key update...). */
  get quic(): QuicConnection {
    return this.session.quic;
  }

  /** Sends a request; resolves when the response head arrives (hq-interop: at once). */
  async request(init: Http3RequestInit = {}): Promise<Http3Response> {
    const method = init.method ?? 'GET';
    const path = init.path ?? '/';
    if (this.session.protocol === 'hq-interop' && (method !== 'GET' || init.body !== undefined)) {
      throw new UsageError('hq-interop only has GET without a body');
    }
    const headers: HeaderField[] = [
      { name: ':method', value: method },
      { name: ':scheme', value: init.scheme ?? 'https' },
      { name: ':authority', value: init.authority ?? this.authority },
      { name: ':path', value: path },
      ...(init.headers ?? []),
    ];
    const writable = new WritableSignal();
    let body: Body | null = null;
    let head: { resolve: (h: readonly HeaderField[]) => void; reject: (e: unknown) => void } | null = null;
    const headPromise = new Promise<readonly HeaderField[]>((resolve, reject) => (head = { resolve, reject }));
    const session = this.session;
    // The stream's sink is released once the response ended and the request body is sent.
    let responseEnded = false;
    let requestSent = init.body === undefined;
    const id: number = await session.openRequest(headers, init.body === undefined, {
      onHeaders: (h) => head?.resolve(h),
      onData: () => body?.signal(),
      onEnd: () => {
        head?.resolve([]); // hq-interop: the end may come first
        body?.end();
        responseEnded = true;
        if (requestSent) session.release(id);
      },
      onWritable: () => writable.fire(),
      onError: (e: Http3StreamError) => {
        head?.reject(e);
        body?.fail(e);
        writable.fail(e);
      },
    });
    body = new Body(session, id);
    if (init.body !== undefined) {
      void session
        .writeBody(id, init.body, writable.wait)
        .then(() => {
          requestSent = true;
          if (responseEnded) session.release(id);
        })
        .catch(() => {});
    }
    const fields = session.protocol === 'h3' ? await headPromise : [];
    const status = fields.find((f) => f.name === ':status');
    return {
      streamId: id,
      status: session.protocol === 'h3' ? Number(status?.value ?? NaN) : null,
      headers: fields.filter((f) => !f.name.startsWith(':')),
      body,
      cancel: () => {
        session.cancel(id, REQUEST_CANCELLED);
        const e = new Http3StreamError('ERR_HTTP3_STREAM_RESET', `request ${id} cancelled`, BigInt(REQUEST_CANCELLED));
        body?.fail(e);
        writable.fail(e);
      },
    };
  }

  /** GET `path` and the whole body. */
  async get(path: string): Promise<{ status: number | null; headers: readonly HeaderField[]; body: Uint8Array }> {
    const r = await this.request({ path });
    return { status: r.status, headers: r.headers, body: await r.body.bytes() };
  }

  /** Closes the connection gracefully; resolves once it is gone. */
  close(): Promise<CloseReason> {
    return this.session.close();
  }
}
