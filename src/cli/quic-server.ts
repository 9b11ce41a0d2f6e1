/**
 * `pullwire quic-server --port <n> --cert <pem> --key <pem> --alpn <id>`:
 * a QUIC server on the Node adapter that serves the request protocol of the
 * interop peers (../shared/peers/README.md), per client bidirectional stream:
 *
 * - a stream that starts with a decimal N and "\n" gets N bytes back (byte i
 *   is i % 251), then FIN; the rest of the request is read and discarded;
 * - any other stream is echoed, FIN after the client's FIN.
 *
 * The peer's unidirectional streams are drained. The pattern helpers are
 * shared with `pullwire quic-client`.
 */
import { readFileSync } from 'node:fs';
import type { ReadableStream, WritableStream } from 'node:stream/web';
import { listen, type ListenOptions, type QuicConnection, type QuicServer, type QuicStream } from '../quic/node.js';
import { peakRssMiB, providerByName } from './crypto-provider.js';
import { intOption, parseCommandLine, untilSignal } from './args.js';

/** The request protocol's pattern: byte i of a response is i % 251. */
export const PATTERN_PERIOD = 251;
/** Largest piece written at once: a multiple of the period, so every piece starts at phase 0. */
const PIECE = PATTERN_PERIOD * 256;
const PATTERN = new Uint8Array(PIECE + PATTERN_PERIOD);
for (let i = 0; i < PATTERN.length; i++) PATTERN[i] = i % PATTERN_PERIOD;

/** `length` (at most 64256) pattern bytes as they appear at absolute `offset` of a response (a view: do not modify). */
export function patternPiece(offset: number, length: number): Uint8Array {
  const start = offset % PATTERN_PERIOD;
  return PATTERN.subarray(start, start + Math.min(length, PIECE));
}

/** The first absolute offset where `chunk` (found at `offset` of a response) differs from the pattern, or -1. */
export function checkPattern(chunk: Uint8Array, offset: number): number {
  for (let p = 0; p < chunk.length; p += PIECE) {
    const part = chunk.subarray(p, p + PIECE);
    const expected = patternPiece(offset + p, part.length);
    if (Buffer.from(part.buffer, part.byteOffset, part.byteLength).equals(expected)) continue;
    for (let i = 0; i < part.length; i++) if (part[i] !== (offset + p + i) % PATTERN_PERIOD) return offset + p + i;
  }
  return -1;
}

/** Writes `n` pattern bytes then FIN. */
export async function writePattern(writable: WritableStream<Uint8Array>, n: number): Promise<void> {
  const w = writable.getWriter();
  for (let off = 0; off < n; off += PIECE) await w.write(patternPiece(off, Math.min(PIECE, n - off)));
  await w.close();
}

const NEWLINE = 0x0a;
/** "N\n" with N up to 16 digits. */
const MAX_HEAD = 17;

async function drain(readable: ReadableStream<Uint8Array>): Promise<void> {
  const r = readable.getReader();
  while (!(await r.read()).done);
}

/** Serves one stream of the request protocol (see the module doc). */
export async function serveStream(stream: QuicStream): Promise<void> {
  if (!stream.bidirectional) return drain(stream.readable);
  const reader = stream.readable.getReader();
  const parts: Uint8Array[] = [];
  let have = 0;
  let done = false;
  while (have < MAX_HEAD && !parts.some((p) => p.includes(NEWLINE))) {
    const r = await reader.read();
    if (r.done) {
      done = true;
      break;
    }
    parts.push(r.value);
    have += r.value.length;
  }
  const head = Buffer.concat(parts);
  const m = /^(\d{1,16})\n/.exec(head.subarray(0, MAX_HEAD).toString('latin1'));
  if (m !== null) {
    const draining = done
      ? Promise.resolve()
      : (async () => {
          while (!(await reader.read()).done);
        })();
    await writePattern(stream.writable, Number(m[1]));
    await draining;
    return;
  }
  const w = stream.writable.getWriter();
  if (head.length > 0) await w.write(head);
  while (!done) {
    const r = await reader.read();
    if (r.done) break;
    await w.write(r.value);
  }
  await w.close();
}

/** Serves every stream of a connection until it ends. */
export async function serveConnection(conn: QuicConnection, onError: (e: unknown) => void = () => {}): Promise<void> {
  const running: Promise<void>[] = [];
  for await (const stream of conn.incomingStreams()) running.push(serveStream(stream).catch(onError));
  await Promise.all(running);
}

export interface QuicServerOptions extends Omit<ListenOptions, 'host' | 'port'> {
  readonly host?: string;
  readonly port: number;
  /** Log connections and stream errors on stderr. */
  readonly verbose?: boolean;
}

/** Starts a request-protocol server; resolves once it listens. */
export async function startQuicServer(options: QuicServerOptions): Promise<QuicServer> {
  const { verbose, ...listenOptions } = options;
  const server = await listen({ host: '127.0.0.1', ...listenOptions });
  const log = (s: string): void => {
    if (verbose === true) console.error(s);
  };
  server.on('connection', (conn) => {
    const peer = `${conn.remoteAddress.address} port ${conn.remoteAddress.port}`;
    log(`connection from ${peer} alpn=${conn.alpn}`);
    void conn.closed.then((r) => log(`connection from ${peer} closed: ${r.initiator} ${r.kind} 0x${r.code.toString(16)} ${r.reason}`));
    void serveConnection(conn, (e) => log(`stream error: ${e instanceof Error ? e.message : String(e)}`));
  });
  server.on('error', (e) => log(`socket error: ${e.message}`));
  return server;
}

const USAGE = `usage: pullwire quic-server --port <n> [--host 127.0.0.1] --cert <pem> --key <pem> --alpn <id>
                           [--retry] [--keylog <file>] [--qlog-dir <dir>] [--max-datagram-size <n>]
                           [--provider node|noble] [--verbose]

QUIC server for the request protocol: a stream that starts with a decimal N and "\\n" gets N bytes
back (byte i = i % 251) then FIN; any other stream is echoed. --port 0 picks a free port.
--retry validates client addresses with Retry. --alpn may be given several times. Stop with Ctrl-C.`;

/** The command-line entry of `pullwire quic-server`. Returns the exit code once the server stops. */
export async function quicServerMain(argv: readonly string[]): Promise<number> {
  const args = parseCommandLine(
    argv,
    {
      values: ['--port', '--host', '--cert', '--key', '--provider', '--keylog', '--qlog-dir', '--max-datagram-size'],
      lists: ['--alpn'],
      flags: ['--retry', '--verbose'],
      aliases: { '-p': '--port', '-v': '--verbose' },
      positional: false,
    },
    USAGE,
  );
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const port = intOption(args, '--port');
  const host = args.values.get('--host') ?? '127.0.0.1';
  const cert = args.values.get('--cert');
  const key = args.values.get('--key');
  const alpn = args.lists.get('--alpn') ?? [];
  const retry = args.flags.has('--retry');
  const providerName = args.values.get('--provider');
  const provider = providerName === undefined ? undefined : providerByName(providerName);
  const keylog = args.values.get('--keylog');
  const qlogDir = args.values.get('--qlog-dir');
  const maxDatagramSize = intOption(args, '--max-datagram-size');
  const verbose = args.flags.has('--verbose');
  if (port === undefined || port > 65535) throw new Error(`--port <0-65535> is required\n${USAGE}`);
  if (cert === undefined || key === undefined) throw new Error(`--cert and --key are required\n${USAGE}`);
  if (alpn.length === 0) throw new Error(`--alpn is required\n${USAGE}`);
  const server = await startQuicServer({
    host,
    port,
    cert: readFileSync(cert, 'utf8'),
    key: readFileSync(key),
    alpn,
    validateAddress: retry,
    ...(provider === undefined ? {} : { provider }),
    verbose,
    ...(keylog === undefined ? {} : { keylog }),
    ...(qlogDir === undefined ? {} : { qlogDir }),
    ...(maxDatagramSize === undefined ? {} : { maxDatagramSize }),
  });
  const a = server.address();
  console.log(`pullwire quic-server listening on ${a.address} port ${a.port} alpn=${alpn.join(',')}${retry ? ' retry' : ''}`);
  await untilSignal(() => server.close());
  console.log(`pullwire quic-server stopped peakRssMiB=${peakRssMiB()}`);
  return 0;
}
