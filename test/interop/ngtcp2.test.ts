/**
 * HTTP/3 interop with ngtcp2 0.12 + nghttp3 (C, GnuTLS; Debian packages
 * ngtcp2-server and ngtcp2-client, installed by .ci/run): our client fetching
 * files from `gtlsserver`, and `gtlsclient` fetching files from our server,
 * over real UDP on loopback. Every transferred file is compared byte for byte
 * with the original (gtlsclient exits 0 even when it fails: the files are the
 * verdict).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { h3Get } from '../../src/cli/h3-get.js';
import { Http3Client, fileHandler, serveHttp3 } from '../../src/http3/node.js';
import type { QuicServer } from '../../src/quic/node.js';
import { PEERS, Peer, cert, freeUdpPort, key } from './support.js';

const T = { timeout: 120_000 };
const GTLSSERVER = existsSync('/usr/sbin/gtlsserver') ? '/usr/sbin/gtlsserver' : 'gtlsserver';
const GTLSCLIENT = existsSync('/usr/bin/gtlsclient') ? '/usr/bin/gtlsclient' : 'gtlsclient';
const CERT_FILE = join(PEERS, 'certs', 'ecdsa-cert.pem');
const KEY_FILE = join(PEERS, 'certs', 'ecdsa-key.pem');
/** GnuTLS priority string with ChaCha20-Poly1305 as the only TLS 1.3 cipher. */
const CHACHA_ONLY = 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305';

/** Deterministic file contents (an LCG), different per seed. */
function fileBytes(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const FILES: Record<string, number> = { f1k: 1000, f2m: 2_000_000, f3m: 3_000_000, f5m: 5_000_000 };
const SMALL = Array.from({ length: 100 }, (_, i) => `s${i}`);
let htdocs: string;
let work: string;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function requireNgtcp2(): void {
  for (const p of [GTLSSERVER, GTLSCLIENT]) {
    if (p.startsWith('/') && !existsSync(p)) throw new Error(`${p} missing: run .ci/run (apt-get install ngtcp2-server ngtcp2-client)`);
  }
}

before(() => {
  requireNgtcp2();
  work = mkdtempSync(join(tmpdir(), 'pw-ngtcp2-'));
  htdocs = join(work, 'htdocs');
  mkdirSync(htdocs);
  let seed = 1;
  for (const [name, size] of Object.entries(FILES)) writeFileSync(join(htdocs, name), fileBytes(size, seed++));
  for (const name of SMALL) writeFileSync(join(htdocs, name), fileBytes(1000 + seed, seed++));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Asserts each downloaded file equals the original. */
function assertSame(dir: string, names: readonly string[]): void {
  for (const name of names) {
    const path = join(dir, name);
    assert.ok(existsSync(path), `${name} was not downloaded`);
    assert.equal(sha(readFileSync(path)), sha(readFileSync(join(htdocs, name))), `${name} differs`);
  }
}

describe('interop: pullwire HTTP/3 client -> ngtcp2 gtlsserver', () => {
  const servers: Peer[] = [];
  const ports: Record<'plain' | 'retry' | 'lossy', number> = { plain: 0, retry: 0, lossy: 0 };

  before(async () => {
    const variants: [keyof typeof ports, string[]][] = [
      ['plain', []],
      ['retry', ['-V']],
      ['lossy', ['--tx-loss=0.1', '--rx-loss=0.1']],
    ];
    for (const [name, extra] of variants) {
      ports[name] = await freeUdpPort();
      const p = new Peer(['-q', ...extra, '-d', htdocs, '127.0.0.1', String(ports[name]), KEY_FILE, CERT_FILE], {}, GTLSSERVER);
      servers.push(p);
    }
    await new Promise((r) => setTimeout(r, 300)); // gtlsserver prints nothing when it is ready with -q
  });
  after(async () => {
    for (const s of servers) await s.stop();
  });

  const get = async (
    port: number,
    names: readonly string[],
    extra: Partial<Parameters<typeof h3Get>[0]> = {},
  ): Promise<Awaited<ReturnType<typeof h3Get>>> => {
    const output = mkdtempSync(join(work, 'dl-'));
    const summary = await h3Get({
      urls: names.map((n) => `https://127.0.0.1:${port}/${n}`),
      ca: cert(),
      serverName: 'localhost',
      output,
      ...extra,
    });
    assertSame(output, names);
    for (const f of summary.files) assert.equal(f.status, 200);
    return summary;
  };

  it('handshake (certificate verified) and a 1 KB file', T, async () => {
    const s = await get(ports.plain, ['f1k']);
    assert.equal(s.bytes, 1000);
  });

  it('2 + 3 + 5 MB files over one connection', T, async () => {
    const s = await get(ports.plain, ['f2m', 'f3m', 'f5m']);
    assert.equal(s.bytes, 10_000_000);
  });

  it('100 concurrent small requests', T, async () => {
    await get(ports.plain, SMALL);
  });

  it('ChaCha20-Poly1305 only (the one suite we offer)', T, async () => {
    await get(ports.plain, ['f1k', 'f2m'], { cipherSuites: ['TLS_CHACHA20_POLY1305_SHA256'] });
  });

  it('Retry (gtlsserver -V): the handshake goes through it', T, async () => {
    const client = await Http3Client.connect({ host: '127.0.0.1', port: ports.retry, serverName: 'localhost', ca: cert() });
    try {
      // RFC 9000 section 7.3: after a Retry the server's transport parameters carry retry_source_connection_id.
      assert.ok(client.quic.peerParameters?.retrySourceConnectionId instanceof Uint8Array);
      const r = await client.get('/f2m');
      assert.equal(sha(r.body), sha(readFileSync(join(htdocs, 'f2m'))));
    } finally {
      await client.close();
    }
  });

  it('key update initiated by our client, during a 5 MB transfer', T, async () => {
    const s = await get(ports.plain, ['f5m'], { keyUpdate: true });
    assert.equal(s.keyUpdated, true);
  });

  it('session resumption with a ticket from an earlier connection, then 0-RTT requests', T, async () => {
    const sessionFile = join(work, 'session.bin');
    const first = await get(ports.plain, ['f1k'], { sessionFile });
    assert.equal(first.resumed, false);
    assert.ok(existsSync(sessionFile), 'gtlsserver sent a session ticket');
    const second = await get(ports.plain, ['f2m'], { sessionFile });
    assert.equal(second.resumed, true);
    assert.equal(second.earlyData.sentBytes, 0, 'no 0-RTT unless asked');
    // RFC 9001 section 4.6: the requests go in 0-RTT packets and gtlsserver takes them.
    const third = await get(ports.plain, ['f1k', 'f3m'], { sessionFile, earlyData: true });
    assert.equal(third.resumed, true);
    assert.ok(third.earlyData.sentBytes > 0, 'requests sent in 0-RTT');
    assert.equal(third.earlyData.accepted, true);
  });

  it("10% loss on both of gtlsserver's directions (--tx-loss / --rx-loss): files byte-exact", T, async () => {
    await get(ports.lossy, ['f2m', 'f3m', 'f5m']);
  });
});

describe('interop: ngtcp2 gtlsclient -> pullwire HTTP/3 server', () => {
  let plain: QuicServer;
  let retry: QuicServer;
  const resumedSeen: boolean[] = [];
  const earlySeen: number[] = [];
  const pathChanges: string[] = [];

  before(async () => {
    const ticketKey = new Uint8Array(32).fill(7);
    const files = fileHandler(htdocs);
    const common = { host: '127.0.0.1', port: 0, cert: cert(), key: key(), tickets: { key: ticketKey, count: 2 }, earlyData: true };
    plain = await serveHttp3({
      ...common,
      handler: (req) => {
        resumedSeen.push(req.connection.engine.isResumed);
        earlySeen.push(req.connection.stats.zeroRttBytesAccepted);
        return files(req);
      },
    });
    plain.on('connection', (conn) => conn.on('path-changed', (_path, reason) => pathChanges.push(reason)));
    retry = await serveHttp3({ ...common, validateAddress: true, handler: files });
  });
  after(async () => {
    await plain?.close();
    await retry?.close();
  });

  /** Runs gtlsclient for `names` and checks every downloaded file. */
  const fetch = async (server: QuicServer, names: readonly string[], extra: readonly string[] = []): Promise<Peer> => {
    const dir = mkdtempSync(join(work, 'gc-'));
    const port = server.address().port;
    const args = [
      '-q',
      '--no-quic-dump',
      '--no-http-dump',
      '--exit-on-all-streams-close',
      '--download',
      dir,
      ...extra,
      '127.0.0.1',
      String(port),
      ...names.map((n) => `https://127.0.0.1:${port}/${n}`),
    ];
    const p = new Peer(args, {}, GTLSCLIENT);
    await p.exit(60_000);
    assertSame(dir, names);
    return p;
  };

  it('handshake and a 1 KB file', T, async () => {
    await fetch(plain, ['f1k']);
  });

  it('2 + 3 + 5 MB files over one connection', T, async () => {
    await fetch(plain, ['f2m', 'f3m', 'f5m']);
  });

  it('100 concurrent small requests', T, async () => {
    await fetch(plain, SMALL);
  });

  it('ChaCha20-Poly1305 only (gtlsclient --ciphers)', T, async () => {
    await fetch(plain, ['f1k', 'f2m'], [`--ciphers=${CHACHA_ONLY}`]);
  });

  it('our address validation: Retry, then the files', T, async () => {
    await fetch(retry, ['f1k', 'f2m']);
  });

  it('resumption and 0-RTT (gtlsclient --session-file / --tp-file)', T, async () => {
    const session = join(work, 'gc-session.pem');
    const tp = join(work, 'gc-tp.pem');
    resumedSeen.length = 0;
    earlySeen.length = 0;
    await fetch(plain, ['f1k'], [`--session-file=${session}`, `--tp-file=${tp}`]);
    assert.ok(existsSync(session), 'gtlsclient saved our ticket');
    await fetch(plain, ['f2m'], [`--session-file=${session}`, `--tp-file=${tp}`]);
    assert.deepEqual(resumedSeen, [false, true]);
    assert.equal(earlySeen[0], 0);
    assert.ok(earlySeen[1]! > 0, 'the request came in 0-RTT packets we accepted');
  });

  it('key update initiated by gtlsclient (--key-update)', T, async () => {
    await fetch(plain, ['f5m'], ['--key-update=10ms']);
  });

  it("10% loss on both of gtlsclient's directions: files byte-exact", T, async () => {
    await fetch(plain, ['f2m', 'f3m', 'f5m'], ['--tx-loss=0.1', '--rx-loss=0.1']);
  });

  it('client migration (gtlsclient --change-local-addr): we follow the client to its new address', T, async () => {
    pathChanges.length = 0;
    await fetch(plain, ['f2m', 'f5m'], ['--change-local-addr=50ms']);
    // RFC 9000 section 9.3: the server moves to the new path (after validating it) and keeps serving.
    assert.ok(pathChanges.includes('migration'), `our server saw the client migrate (${pathChanges.join()})`);
  });

  it('NAT rebinding (gtlsclient --nat-rebinding): we follow the client to its new port', T, async () => {
    pathChanges.length = 0;
    // With --nat-rebinding gtlsclient moves its socket without probing and ignores the old one. Small
    // receive windows keep it sending MAX_STREAM_DATA from the new port during the download: with its
    // default windows it has nothing left to send after the move, and no server can learn the new port.
    const windows = ['--max-stream-data-bidi-local=64K', '--max-data=128K'];
    await fetch(plain, ['f5m', 'f2m'], [...windows, '--change-local-addr=100ms', '--nat-rebinding']);
    // RFC 9000 section 9.3: a non-probing packet from a new address moves the server there, which validates it.
    assert.ok(pathChanges.includes('rebinding'), `our server saw the rebinding (${pathChanges.join()})`);
  });
});
