/**
 * `pullwire h3-get <url>...`: fetches URLs over HTTP/3 (or hq-interop) on one
 * QUIC connection, all requests at once, optionally saving the bodies, and
 * prints a JSON summary (per file: status, bytes, sha256; totals: seconds,
 * MB/s, handshake ms, whether the session was resumed).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CipherSuite } from '../quic/crypto/provider.js';
import { Http3Client, type Http3ClientOptions } from '../http3/node.js';
import type { Protocol } from '../http3/node/session.js';
import { intOption, parseCommandLine } from './args.js';
import { peakRssMiB } from './crypto-provider.js';

const USAGE = `usage: pullwire h3-get <url>... [--ca <pem> | --insecure] [--server-name <name>] [--output <dir>]
                      [--alpn h3|hq-interop] [--key-update] [--chacha20] [--session <file> [--early-data]]
                      [--keylog <file>] [--qlog-dir <dir>] [--max-datagram-size <n>] [--timeout <ms>]

Fetches every URL (same host and port: one connection, all requests at once) and prints a JSON
summary. --output saves each body as <dir>/<last path segment>. --key-update makes the client start
a QUIC key update as soon as the handshake is confirmed. --chacha20 offers only
TLS_CHACHA20_POLY1305_SHA256. --session reads a session ticket from the file (resumption) and writes
the newest one the server sends back into it; with --early-data the requests go out in 0-RTT when the
ticket allows it (replayable: GET only).`;

export interface H3GetFile {
  readonly url: string;
  readonly status: number | null;
  readonly bytes: number;
  readonly sha256: string;
}

export interface H3GetSummary {
  readonly files: H3GetFile[];
  readonly bytes: number;
  readonly seconds: number;
  readonly MBps: number;
  readonly handshakeMs: number;
  readonly resumed: boolean;
  /** Requests went out in 0-RTT (`earlyData` with a ticket that allows it), and whether the server took them. */
  readonly earlyData: { readonly sentBytes: number; readonly accepted: boolean };
  readonly keyUpdated: boolean;
  readonly peakRssMiB: number;
}

export interface H3GetOptions extends Omit<Http3ClientOptions, 'host' | 'port'> {
  readonly urls: readonly string[];
  readonly output?: string;
  readonly keyUpdate?: boolean;
  /** A file holding a session ticket to resume with; the newest ticket received is written back. */
  readonly sessionFile?: string;
}

export async function h3Get(options: H3GetOptions): Promise<H3GetSummary> {
  const { urls, output, keyUpdate = false, sessionFile, ...clientOptions } = options;
  const parsed = urls.map((u) => new URL(u));
  const first = parsed[0];
  if (first === undefined) throw new Error('at least one URL is needed');
  for (const u of parsed) {
    if (u.protocol !== 'https:') throw new Error(`${u.href}: only https URLs`);
    if (u.host !== first.host) throw new Error(`${u.href}: every URL must have the host and port of the first (one connection)`);
  }
  const host = first.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = first.port === '' ? 443 : Number(first.port);
  if (output !== undefined) mkdirSync(output, { recursive: true });
  const session = sessionFile !== undefined && existsSync(sessionFile) ? new Uint8Array(readFileSync(sessionFile)) : undefined;
  const t0 = performance.now();
  const client = await Http3Client.connect({
    ...clientOptions,
    host,
    port,
    ...(session === undefined ? {} : { session }),
  });
  const t1 = performance.now();
  if (sessionFile !== undefined) client.quic.on('session-ticket', (ticket: Uint8Array) => writeFileSync(sessionFile, ticket));
  let keyUpdated = false;
  const maybeUpdateKeys = (): void => {
    if (keyUpdate && !keyUpdated && client.quic.engine.isHandshakeConfirmed) keyUpdated = client.quic.updateKeys();
  };
  try {
    const files = await Promise.all(
      parsed.map(async (u): Promise<H3GetFile> => {
        const r = await client.request({ path: `${u.pathname}${u.search}`, authority: u.host });
        const hash = createHash('sha256');
        const sink = output === undefined ? null : createWriteStream(join(output, basename(u.pathname) || 'index.html'));
        let bytes = 0;
        for await (const chunk of r.body) {
          maybeUpdateKeys();
          bytes += chunk.length;
          hash.update(chunk);
          if (sink !== null && !sink.write(chunk)) await once(sink, 'drain');
        }
        if (sink !== null) await new Promise<void>((resolve, reject) => sink.end((e?: Error | null) => (e ? reject(e) : resolve())));
        return { url: u.href, status: r.status, bytes, sha256: hash.digest('hex') };
      }),
    );
    await client.quic.handshake; // a 0-RTT start: the verdict on the early data
    const t2 = performance.now();
    const bytes = files.reduce((a, f) => a + f.bytes, 0);
    const seconds = (t2 - t1) / 1000;
    return {
      files,
      bytes,
      seconds: Math.round(seconds * 1e4) / 1e4,
      MBps: Math.round((seconds > 0 ? bytes / 1e6 / seconds : 0) * 100) / 100,
      handshakeMs: Math.round((t1 - t0) * 100) / 100,
      resumed: client.quic.engine.isResumed,
      earlyData: { sentBytes: client.quic.stats.zeroRttBytesSent, accepted: client.quic.earlyDataAccepted },
      keyUpdated,
      peakRssMiB: peakRssMiB(),
    };
  } finally {
    await client.close();
  }
}

/** The command-line entry of `pullwire h3-get`. */
export async function h3GetMain(argv: readonly string[]): Promise<number> {
  const args = parseCommandLine(
    argv,
    {
      values: ['--ca', '--server-name', '--output', '--alpn', '--session', '--keylog', '--qlog-dir', '--max-datagram-size', '--timeout'],
      flags: ['--insecure', '--key-update', '--chacha20', '--early-data'],
    },
    USAGE,
  );
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.positional.length === 0) throw new Error(`at least one URL is needed\n${USAGE}`);
  const ca = args.values.get('--ca');
  const insecure = args.flags.has('--insecure');
  if (ca !== undefined && insecure) throw new Error('--ca and --insecure exclude each other');
  const alpn = args.values.get('--alpn') ?? 'h3';
  if (alpn !== 'h3' && alpn !== 'hq-interop') throw new Error(`--alpn must be h3 or hq-interop, not ${alpn}`);
  const serverName = args.values.get('--server-name');
  const output = args.values.get('--output');
  const sessionFile = args.values.get('--session');
  const keylog = args.values.get('--keylog');
  const qlogDir = args.values.get('--qlog-dir');
  const maxDatagramSize = intOption(args, '--max-datagram-size');
  const timeout = intOption(args, '--timeout');
  const suites: CipherSuite[] = ['TLS_CHACHA20_POLY1305_SHA256'];
  const summary = await h3Get({
    urls: args.positional,
    protocol: alpn as Protocol,
    keyUpdate: args.flags.has('--key-update'),
    ...(args.flags.has('--early-data') ? { earlyData: true } : {}),
    ...(ca === undefined ? {} : { ca: readFileSync(ca, 'utf8') }),
    ...(insecure ? { insecure } : {}),
    ...(serverName === undefined ? {} : { serverName }),
    ...(output === undefined ? {} : { output }),
    ...(sessionFile === undefined ? {} : { sessionFile }),
    ...(args.flags.has('--chacha20') ? { cipherSuites: suites } : {}),
    ...(keylog === undefined ? {} : { keylog }),
    ...(qlogDir === undefined ? {} : { qlogDir }),
    ...(maxDatagramSize === undefined ? {} : { maxDatagramSize }),
    ...(timeout === undefined ? {} : { handshakeTimeout: timeout }),
  });
  console.log(JSON.stringify(summary));
  return summary.files.every((f) => f.status === null || (f.status >= 200 && f.status < 300)) ? 0 : 1;
}
