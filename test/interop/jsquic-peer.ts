/**
 * Test-peer glue for what ../shared/peers/jsquic-{client,server}.mjs cannot
 * do: close a connection with a chosen application error code, and report
 * how the peer's connection ended (a close code, an idle timeout). Runs as a
 * child process on @matrixai/quic (Cloudflare quiche) installed by
 * ../shared/peers/setup.sh into PULLWIRE_PEERS (see jsquic.test.ts).
 *
 *   node jsquic-peer.js client --port P [--close-code C --close-reason R] [--wait-close]
 *   node jsquic-peer.js server --port P --close-code C [--close-after MS]
 *
 * Prints one line per fact, parsed by the tests:
 *   CONNECTED | LISTENING <port> | CLOSED-BY-US code=<C>
 *   PEER-CLOSED|LOCAL-CLOSED app=<bool> code=<n> reason=<text> | IDLE-TIMEOUT | ERROR <text>
 * Not project code: the library's API is typed here only as far as it is used.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface JsquicError extends Error {
  readonly data?: { readonly isApp?: boolean; readonly errorCode?: number; readonly reason?: Uint8Array };
}
interface JsquicEvent {
  readonly detail: unknown;
}
interface JsquicConnection {
  addEventListener(name: string, f: (e: JsquicEvent) => void): void;
  stop(o: { isApp: boolean; errorCode: number; reason: Uint8Array; force: boolean }): Promise<void>;
  processStreams(): void;
}
interface JsquicClient {
  readonly connection: JsquicConnection;
  destroy(o: { isApp: boolean; errorCode: number; reason: Uint8Array; force: boolean }): Promise<void>;
}
interface JsquicServer {
  addEventListener(name: string, f: (e: JsquicEvent) => void): void;
  start(o: { host: string; port: number }): Promise<void>;
  readonly port: number;
}
interface JsquicModule {
  QUICClient: { createQUICClient(o: Record<string, unknown>, ctx?: { timer: number }): Promise<JsquicClient> };
  QUICServer: new (o: Record<string, unknown>) => JsquicServer;
  events: Record<string, { name: string }>;
}
interface CommonModule {
  makeLogger(name: string): unknown;
  loadCert(kind?: string): { key: string; cert: string };
  serverCrypto(): unknown;
  clientCrypto(): unknown;
  patchEarlyStreams(): void;
}

const peers = process.env.PULLWIRE_PEERS;
if (peers === undefined) throw new Error('PULLWIRE_PEERS is not set');
// The package only has an "import" export: resolve its entry by hand from the peers' node_modules.
const pkgDir = join(peers, 'node_modules', '@matrixai', 'quic');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { exports: { '.': { import: string } } };
const quic = (await import(pathToFileURL(join(pkgDir, pkg.exports['.'].import)).href)) as JsquicModule;
const common = (await import(pathToFileURL(join(peers, 'jsquic-common.mjs')).href)) as CommonModule;
common.patchEarlyStreams();

const [mode, ...rest] = process.argv.slice(2);
const args = new Map<string, string>();
for (let i = 0; i < rest.length; i++) {
  const k = rest[i]!;
  const v = rest[i + 1];
  if (v !== undefined && !v.startsWith('--')) {
    args.set(k, v);
    i++;
  } else args.set(k, 'true');
}
const port = Number(args.get('--port') ?? '4433');
const closeCode = args.has('--close-code') ? Number(args.get('--close-code')) : null;
const reason = new TextEncoder().encode(args.get('--close-reason') ?? 'bye from quiche');

function report(err: unknown): void {
  const e = err as JsquicError;
  if (e?.constructor?.name === 'ErrorQUICConnectionIdleTimeout') console.log('IDLE-TIMEOUT');
  else if (e?.data?.errorCode !== undefined)
    console.log(
      `${e.constructor.name.startsWith('ErrorQUICConnectionPeer') ? 'PEER' : 'LOCAL'}-CLOSED app=${String(e.data.isApp)} code=${e.data.errorCode} reason=${Buffer.from(e.data.reason ?? new Uint8Array()).toString()}`,
    );
  else console.log(`ERROR ${e?.constructor?.name}: ${e?.message}`);
}

if (mode === 'client') {
  const client = await quic.QUICClient.createQUICClient(
    {
      host: '127.0.0.1',
      port,
      serverName: 'localhost',
      localHost: '0.0.0.0',
      crypto: common.clientCrypto(),
      config: {
        applicationProtos: ['bench'],
        verifyPeer: true,
        ca: readFileSync(join(peers, 'certs', 'ecdsa-cert.pem'), 'utf8'),
        maxIdleTimeout: 30_000,
      },
      logger: common.makeLogger('jsquic-peer'),
    },
    { timer: 10_000 },
  );
  const conn = client.connection;
  conn.processStreams();
  console.log('CONNECTED');
  if (closeCode !== null) {
    await client.destroy({ isApp: true, errorCode: closeCode, reason, force: true });
    console.log(`CLOSED-BY-US code=${closeCode}`);
    process.exit(0);
  }
  if (args.has('--wait-close')) {
    const ended = new Promise<void>((resolve) => {
      conn.addEventListener(quic.events.EventQUICConnectionError!.name, (e) => {
        report(e.detail);
        resolve();
      });
    });
    await ended;
    process.exit(0);
  }
} else if (mode === 'server') {
  const server = new quic.QUICServer({
    crypto: common.serverCrypto(),
    config: { ...common.loadCert('ecdsa'), applicationProtos: ['bench'], verifyPeer: false, maxIdleTimeout: 30_000 },
    logger: common.makeLogger('jsquic-peer'),
  });
  server.addEventListener(quic.events.EventQUICServerConnection!.name, (e) => {
    const conn = e.detail as JsquicConnection;
    conn.processStreams();
    conn.addEventListener(quic.events.EventQUICConnectionError!.name, (ev) => report(ev.detail));
    if (closeCode !== null) {
      setTimeout(
        () => {
          void conn
            .stop({ isApp: true, errorCode: closeCode, reason, force: true })
            .then(() => console.log(`CLOSED-BY-US code=${closeCode}`));
        },
        Number(args.get('--close-after') ?? '50'),
      );
    }
  });
  await server.start({ host: '127.0.0.1', port });
  console.log(`LISTENING ${server.port}`);
  process.on('SIGTERM', () => process.exit(0));
} else {
  console.log(`ERROR unknown mode ${mode}`);
  process.exit(2);
}
