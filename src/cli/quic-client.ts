/**
 * `pullwire quic-client <host> <port> --alpn <id> --get <N> [--streams <k>]`:
 * a QUIC client for the request protocol (see quic-server.ts): it sends
 * "N\n" on each of k concurrent bidirectional streams, checks that every
 * answer is exactly N bytes of the pattern (byte i = i % 251), and prints a
 * JSON summary: bytes, seconds, MBps (10^6 bytes per second), handshakeMs,
 * streams, peakRssMiB. With `--handshakes <n>` it makes n connections one
 * after another instead (handshake, then close) and prints handshakes/s.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { connect, type ConnectOptions, type QuicConnection } from '../quic/node.js';
import { intOption, parseCommandLine } from './args.js';
import { peakRssMiB, providerByName } from './crypto-provider.js';
import { checkPattern } from './quic-server.js';

export interface QuicClientOptions extends Omit<ConnectOptions, 'host' | 'port'> {
  readonly host: string;
  readonly port: number;
  /** Bytes to request on each stream. */
  readonly get: number;
  /** Concurrent streams (default 1). */
  readonly streams?: number;
}

/** What `pullwire quic-client` prints. */
export interface QuicClientSummary {
  /** Bytes received and verified, all streams. */
  readonly bytes: number;
  /** Transfer time (after the handshake). */
  readonly seconds: number;
  /** bytes / 10^6 / seconds. */
  readonly MBps: number;
  readonly handshakeMs: number;
  readonly streams: number;
  /** The process's peak resident set size so far, MiB. */
  readonly peakRssMiB: number;
}

/** What `pullwire quic-client --handshakes <n>` prints. */
export interface QuicHandshakeSummary {
  readonly handshakes: number;
  /** Wall time of all of them, connect until 1-RTT each (closing is not waited for). */
  readonly seconds: number;
  readonly perSecond: number;
  readonly msEach: number;
  readonly peakRssMiB: number;
}

/** Requests `n` bytes on a new stream and verifies them; resolves with the count, rejects on a wrong byte or length. */
export async function requestPattern(conn: QuicConnection, n: number): Promise<number> {
  const stream = await conn.openStream();
  const w = stream.writable.getWriter();
  await w.write(new TextEncoder().encode(`${n}\n`));
  await w.close();
  let got = 0;
  const reader = stream.readable.getReader();
  for (;;) {
    const r = await reader.read();
    if (r.done) break;
    const bad = checkPattern(r.value, got);
    if (bad >= 0) throw new Error(`stream ${stream.id}: wrong byte at offset ${bad}`);
    got += r.value.length;
  }
  if (got !== n) throw new Error(`stream ${stream.id}: got ${got} bytes, expected ${n}`);
  return got;
}

/** Connects, runs the requests, closes; resolves with the summary. */
export async function runQuicClient(options: QuicClientOptions): Promise<QuicClientSummary> {
  const { get, streams: k = 1, ...connectOptions } = options;
  const t0 = performance.now();
  const conn = await connect(connectOptions);
  const t1 = performance.now();
  try {
    const counts = await Promise.all(Array.from({ length: k }, () => requestPattern(conn, get)));
    const t2 = performance.now();
    const bytes = counts.reduce((a, b) => a + b, 0);
    const seconds = (t2 - t1) / 1000;
    return {
      bytes,
      seconds: round(seconds, 4),
      MBps: round(seconds > 0 ? bytes / 1e6 / seconds : 0, 2),
      handshakeMs: round(t1 - t0, 2),
      streams: k,
      peakRssMiB: peakRssMiB(),
    };
  } finally {
    await conn.close({ errorCode: 0 });
  }
}

/**
 * Makes `count` connections one after another, each closed (without waiting
 * for its closing period) once its handshake completes.
 */
export async function runQuicHandshakes(options: Omit<QuicClientOptions, 'get' | 'streams'>, count: number): Promise<QuicHandshakeSummary> {
  const closing: Promise<unknown>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const conn = await connect(options);
    // Closing lingers three PTOs (RFC 9000 section 10.2): not part of the handshake time.
    closing.push(conn.close({ errorCode: 0 }));
  }
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(closing);
  return {
    handshakes: count,
    seconds: round(seconds, 4),
    perSecond: round(count / seconds, 1),
    msEach: round((seconds * 1000) / count, 2),
    peakRssMiB: peakRssMiB(),
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const USAGE = `usage: pullwire quic-client <host> <port> --alpn <id> (--get <N> [--streams <k>] | --handshakes <n>)
                           [--ca <pem> | --insecure] [--server-name <name>] [--provider node|noble]
                           [--keylog <file>] [--qlog-dir <dir>] [--max-datagram-size <n>] [--timeout <ms>]

Requests N bytes on each of k concurrent streams from a quic-server (or any server of the request
protocol), verifies every byte and prints {bytes, seconds, MBps, handshakeMs, streams, peakRssMiB} as
JSON. --handshakes n makes n connections one after another instead and prints {handshakes, seconds,
perSecond, msEach, peakRssMiB}. Without --ca or --insecure the server certificate is checked against
the system CAs. --provider picks the crypto provider (default node).`;

/** The command-line entry of `pullwire quic-client`. */
export async function quicClientMain(argv: readonly string[]): Promise<number> {
  const args = parseCommandLine(
    argv,
    {
      values: [
        '--get',
        '--handshakes',
        '--provider',
        '--streams',
        '--ca',
        '--server-name',
        '--keylog',
        '--qlog-dir',
        '--max-datagram-size',
        '--timeout',
      ],
      lists: ['--alpn'],
      flags: ['--insecure'],
    },
    USAGE,
  );
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const positional = args.positional;
  const alpn = args.lists.get('--alpn') ?? [];
  const get = intOption(args, '--get');
  const handshakes = intOption(args, '--handshakes');
  const providerName = args.values.get('--provider');
  const provider = providerName === undefined ? undefined : providerByName(providerName);
  const streams = intOption(args, '--streams') ?? 1;
  const ca = args.values.get('--ca');
  const insecure = args.flags.has('--insecure');
  const serverName = args.values.get('--server-name');
  const keylog = args.values.get('--keylog');
  const qlogDir = args.values.get('--qlog-dir');
  const maxDatagramSize = intOption(args, '--max-datagram-size');
  const timeout = intOption(args, '--timeout');
  const [host, portText, ...extra] = positional;
  const port = Number(portText);
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65535 || extra.length > 0)
    throw new Error(`<host> <port> are required\n${USAGE}`);
  if (alpn.length === 0) throw new Error(`--alpn is required\n${USAGE}`);
  if ((get === undefined) === (handshakes === undefined)) throw new Error(`one of --get <N> or --handshakes <n> is required\n${USAGE}`);
  if (streams < 1) throw new Error('--streams must be at least 1');
  if (ca !== undefined && insecure) throw new Error('--ca and --insecure exclude each other');
  const connectOptions = {
    host,
    port,
    alpn,
    ...(provider === undefined ? {} : { provider }),
    ...(ca === undefined ? {} : { ca: readFileSync(ca, 'utf8') }),
    ...(insecure ? { insecure } : {}),
    ...(serverName === undefined ? {} : { serverName }),
    ...(keylog === undefined ? {} : { keylog }),
    ...(qlogDir === undefined ? {} : { qlogDir }),
    ...(maxDatagramSize === undefined ? {} : { maxDatagramSize }),
    ...(timeout === undefined ? {} : { handshakeTimeout: timeout }),
  };
  const summary =
    handshakes === undefined
      ? await runQuicClient({ ...connectOptions, get: get ?? 0, streams })
      : await runQuicHandshakes(connectOptions, handshakes);
  console.log(JSON.stringify(summary));
  return 0;
}
