/**
 * `pullwire h3-server --port <n> --cert <pem> --key <pem> --root <dir>`: serves
 * the files under a folder over HTTP/3 and hq-interop (the client picks by
 * ALPN), with session tickets (resumption) and optional address validation.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileHandler, serveHttp3 } from '../http3/node.js';
import { PROTOCOLS, type Protocol } from '../http3/node/session.js';
import type { QuicServer } from '../quic/node.js';
import { intOption, parseCommandLine, untilSignal } from './args.js';
import { peakRssMiB } from './crypto-provider.js';

const USAGE = `usage: pullwire h3-server --port <n> [--host 127.0.0.1] --cert <pem> --key <pem> --root <dir>
                         [--alpn h3|hq-interop]... [--retry] [--keylog <file>] [--qlog-dir <dir>]
                         [--max-datagram-size <n>] [--verbose]

Serves the files under --root (GET; 404 outside it) over HTTP/3 and HTTP/0.9 (hq-interop); --alpn
limits the protocols (default both). --retry validates client addresses with Retry. Session tickets
are issued (resumption and 0-RTT work for the server's lifetime). Stop with Ctrl-C.`;

export interface H3ServerOptions {
  readonly host?: string;
  readonly port: number;
  readonly cert: string;
  readonly key: string;
  readonly root: string;
  readonly protocols?: readonly Protocol[];
  readonly retry?: boolean;
  readonly keylog?: string;
  readonly qlogDir?: string;
  readonly maxDatagramSize?: number;
  readonly log?: (line: string) => void;
}

/** Starts a file server; resolves once it listens. */
export async function startH3Server(o: H3ServerOptions): Promise<QuicServer> {
  const log = o.log ?? (() => {});
  const server = await serveHttp3({
    host: o.host ?? '127.0.0.1',
    port: o.port,
    cert: o.cert,
    key: o.key,
    protocols: o.protocols ?? PROTOCOLS,
    validateAddress: o.retry ?? false,
    handler: async (req) => {
      const res = await fileHandler(o.root)(req);
      log(`${req.protocol} ${req.method} ${req.path} -> ${res.status}`);
      return res;
    },
    onError: (e) => log(`exchange failed: ${e instanceof Error ? e.message : String(e)}`),
    // One ticket key per server process: tickets resume sessions until it restarts. GET of static
    // files is idempotent, so 0-RTT requests are accepted (RFC 9001 section 9.2: replay is harmless here).
    tickets: { key: new Uint8Array(randomBytes(32)), count: 2 },
    earlyData: true,
    ...(o.keylog === undefined ? {} : { keylog: o.keylog }),
    ...(o.qlogDir === undefined ? {} : { qlogDir: o.qlogDir }),
    ...(o.maxDatagramSize === undefined ? {} : { maxDatagramSize: o.maxDatagramSize }),
  });
  server.on('error', (e) => log(`socket error: ${e.message}`));
  return server;
}

/** The command-line entry of `pullwire h3-server`. Returns the exit code once the server stops. */
export async function h3ServerMain(argv: readonly string[]): Promise<number> {
  const args = parseCommandLine(
    argv,
    {
      values: ['--port', '--host', '--cert', '--key', '--root', '--keylog', '--qlog-dir', '--max-datagram-size'],
      lists: ['--alpn'],
      flags: ['--retry', '--verbose'],
    },
    USAGE,
  );
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const port = intOption(args, '--port');
  const cert = args.values.get('--cert');
  const key = args.values.get('--key');
  const root = args.values.get('--root');
  if (port === undefined || cert === undefined || key === undefined || root === undefined) {
    throw new Error(`--port, --cert, --key and --root are required\n${USAGE}`);
  }
  const protocols = args.lists.get('--alpn') ?? [...PROTOCOLS];
  for (const p of protocols) if (p !== 'h3' && p !== 'hq-interop') throw new Error(`--alpn must be h3 or hq-interop, not ${p}`);
  const keylog = args.values.get('--keylog');
  const qlogDir = args.values.get('--qlog-dir');
  const maxDatagramSize = intOption(args, '--max-datagram-size');
  const verbose = args.flags.has('--verbose');
  const server = await startH3Server({
    host: args.values.get('--host') ?? '127.0.0.1',
    port,
    cert: readFileSync(cert, 'utf8'),
    key: readFileSync(key, 'utf8'),
    root,
    protocols: protocols as Protocol[],
    retry: args.flags.has('--retry'),
    ...(keylog === undefined ? {} : { keylog }),
    ...(qlogDir === undefined ? {} : { qlogDir }),
    ...(maxDatagramSize === undefined ? {} : { maxDatagramSize }),
    ...(verbose ? { log: (l: string) => console.error(l) } : {}),
  });
  const a = server.address();
  console.log(`pullwire h3-server listening on ${a.address} port ${a.port} alpn=${protocols.join(',')} root=${root}`);
  await untilSignal(() => server.close());
  console.log(`pullwire h3-server stopped peakRssMiB=${peakRssMiB()}`);
  return 0;
}
