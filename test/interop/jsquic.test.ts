/**
 * Interop with @matrixai/quic 2.0.9 (Cloudflare quiche 0.18 + BoringSSL), a
 * QUIC implementation nobody here wrote, over real UDP on loopback, in both
 * directions: our client against ../shared/peers/jsquic-server.mjs (which
 * always answers with Retry, so every handshake here goes through RFC 9000
 * section 8.1.2), and jsquic-client.mjs against our server. The request
 * protocol is the peers' (README there): "N\n" gets N bytes of i % 251.
 *
 * What the peer saw is read from its output: jsquic-server with QUIC_LOG=INFO
 * logs each connection's end; jsquic-peer.ts (our glue on the same library)
 * prints how its connection ended.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { requestPattern } from '../../src/cli/quic-client.js';
import { startQuicServer } from '../../src/cli/quic-server.js';
import { connect, listen, QuicError, type QuicConnection, type QuicServer } from '../../src/quic/node.js';
import type { CloseReason } from '../../src/quic/connection/events.js';
import { JSQUIC_PEER, PEERS, Peer, cert, freeUdpPort, key, requirePeers, runPeer } from './support.js';

const T = { timeout: 90_000 };

async function ourClient(port: number, extra: { idleTimeout?: number; ca?: string } = {}): Promise<QuicConnection> {
  return connect({
    host: '127.0.0.1',
    port,
    serverName: 'localhost',
    alpn: 'bench',
    ca: extra.ca ?? cert(),
    ...(extra.idleTimeout === undefined ? {} : { idleTimeout: extra.idleTimeout }),
  });
}

/** Sends `data` on a new stream while reading the echo; resolves with what came back. */
async function echo(conn: QuicConnection, data: Uint8Array): Promise<Uint8Array> {
  const stream = await conn.openStream();
  const writing = (async () => {
    const w = stream.writable.getWriter();
    for (let off = 0; off < data.length; off += 16_384) await w.write(data.subarray(off, off + 16_384));
    await w.close();
  })();
  const chunks: Uint8Array[] = [];
  for await (const c of stream.readable) chunks.push(c);
  await writing;
  return Buffer.concat(chunks);
}

describe('interop: @matrixai/quic peers are installed', () => {
  it('finds them (run .ci/run otherwise)', () => requirePeers());
});

describe('interop: pullwire client -> @matrixai/quic server', () => {
  let server: Peer;
  let port: number;

  before(async () => {
    requirePeers();
    port = await freeUdpPort();
    server = new Peer([`${PEERS}/jsquic-server.mjs`, '--port', String(port), '--alpn', 'bench'], { QUIC_LOG: 'INFO' });
    await server.waitFor(/LISTENING/);
  });
  after(async () => server?.stop());

  it('handshakes through its Retry, verifying its certificate (test CA, name localhost)', T, async () => {
    const conn = await ourClient(port);
    assert.equal(conn.alpn, 'bench');
    // RFC 9000 section 7.3: after a Retry the server must send retry_source_connection_id.
    assert.ok(conn.peerParameters?.retrySourceConnectionId instanceof Uint8Array);
    await conn.close();
  });

  it('refuses its certificate when it does not chain to the CA given', T, async () => {
    const err = await ourClient(port, { ca: cert('rsa') }).then(
      () => assert.fail('connected'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof QuicError);
    assert.equal(err.code, 'ERR_QUIC_HANDSHAKE_FAILED');
    // RFC 9001 section 4.8: a TLS alert becomes CRYPTO_ERROR 0x100 + alert; unknown_ca is 48 (RFC 8446 section 6.2).
    assert.equal(err.closeReason?.code, 0x100n + 48n);
    assert.equal(err.closeReason?.initiator, 'local');
  });

  it('echoes 200 KB on one stream', T, async () => {
    const conn = await ourClient(port);
    const data = randomBytes(200_000);
    data[0] = 0; // never an "N\n" request
    assert.ok(Buffer.from(await echo(conn, data)).equals(data));
    await conn.close();
  });

  it('sends 10 MB on one stream', T, async () => {
    const conn = await ourClient(port);
    assert.equal(await requestPattern(conn, 10_000_000), 10_000_000);
    await conn.close();
  });

  it('serves 100 concurrent streams of 100 KB', T, async () => {
    const conn = await ourClient(port);
    const counts = await Promise.all(Array.from({ length: 100 }, () => requestPattern(conn, 100_000)));
    assert.deepEqual(counts, new Array(100).fill(100_000));
    await conn.close();
  });

  it('sees our application close code and reason', T, async () => {
    const from = server.stderr.length;
    const conn = await ourClient(port);
    const reason = await conn.close({ errorCode: 0x42, reason: 'bye from pullwire' });
    assert.deepEqual([reason.kind, reason.code, reason.initiator], ['application', 0x42n, 'local']);
    await server.waitFor(/connection closed: Peer closed with application code 66 \{"isApp":true,"errorCode":66/, 10_000, 'stderr', from);
  });

  it('times out idle connections with the smaller idle timeout (ours), on both sides', T, async () => {
    const from = server.stderr.length;
    const conn = await ourClient(port, { idleTimeout: 300 });
    const reason = await conn.closed;
    assert.equal(reason.initiator, 'idle-timeout');
    // RFC 9000 section 10.1: each side uses the minimum of both max_idle_timeout values.
    await server.waitFor(/ErrorQUICConnectionIdleTimeout/, 10_000, 'stderr', from);
  });
});

describe('interop: @matrixai/quic server closing with an application code', () => {
  it('reaches our client as the peer close reason', T, async () => {
    requirePeers();
    const port = await freeUdpPort();
    const peer = new Peer([JSQUIC_PEER, 'server', '--port', String(port), '--close-code', '77', '--close-after', '50']);
    try {
      await peer.waitFor(/LISTENING/);
      const conn = await ourClient(port);
      const reason = await conn.closed;
      assert.deepEqual([reason.kind, reason.code, reason.reason, reason.initiator], ['application', 77n, 'bye from quiche', 'peer']);
    } finally {
      await peer.stop();
    }
  });
});

describe('interop: @matrixai/quic client -> pullwire server', () => {
  let server: QuicServer;
  let port: number;
  const closes: CloseReason[] = [];

  before(async () => {
    requirePeers();
    server = await startQuicServer({ host: '127.0.0.1', port: 0, cert: cert(), key: key(), alpn: 'bench' });
    server.on('connection', (c) => void c.closed.then((r) => closes.push(r)));
    port = server.address().port;
  });
  after(async () => server?.close());

  const client = (...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    runPeer([`${PEERS}/jsquic-client.mjs`, '--port', String(port), '--verify', '1', ...args]);

  it('handshakes and verifies our certificate (test CA, name localhost)', T, async () => {
    const r = await client('--handshake-only');
    assert.match(r.stdout, /^OK handshake .* alpn=bench/m, r.stdout + r.stderr);
    assert.equal(r.code, 0);
  });

  it('handshakes through our Retry', T, async () => {
    const retrying = await startQuicServer({ host: '127.0.0.1', port: 0, cert: cert(), key: key(), alpn: 'bench', validateAddress: true });
    try {
      const r = await runPeer([
        `${PEERS}/jsquic-client.mjs`,
        '--port',
        String(retrying.address().port),
        '--verify',
        '1',
        '--bytes',
        '100000',
      ]);
      assert.match(r.stdout, /^OK get bytes=100000 /m, r.stdout + r.stderr);
      assert.equal(retrying.socket.endpoint.stats.retriesSent, 1);
      assert.equal(retrying.socket.endpoint.stats.connectionsAccepted, 1);
    } finally {
      await retrying.close();
    }
  });

  it('echoes 100 KB on one stream', T, async () => {
    const r = await client('--bytes', '10', '--echo', '100000');
    assert.match(r.stdout, /^OK get bytes=10 .* echo_bytes=100000 /m, r.stdout + r.stderr);
  });

  it('receives 10 MB on one stream', T, async () => {
    const r = await client('--bytes', '10000000');
    assert.match(r.stdout, /^OK get bytes=10000000 streams=1 /m, r.stdout + r.stderr);
  });

  it('receives 100 concurrent streams of 100 KB', T, async () => {
    const r = await client('--bytes', '100000', '--streams', '100');
    assert.match(r.stdout, /^OK get bytes=10000000 streams=100 /m, r.stdout + r.stderr);
  });

  it('closes with its application code and reason, which we report', T, async () => {
    const seen = closes.length;
    const r = await runPeer([JSQUIC_PEER, 'client', '--port', String(port), '--close-code', '88', '--close-reason', 'client done']);
    assert.match(r.stdout, /CLOSED-BY-US code=88/, r.stdout + r.stderr);
    const deadline = Date.now() + 5_000;
    while (closes.length === seen && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const reason = closes[closes.length - 1];
    assert.deepEqual([reason?.kind, reason?.code, reason?.reason, reason?.initiator], ['application', 88n, 'client done', 'peer']);
  });

  it('sees our application close code and reason', T, async () => {
    const closing = await listen({ host: '127.0.0.1', port: 0, cert: cert(), key: key(), alpn: 'bench' });
    closing.on('connection', (c) => void c.close({ errorCode: 99, reason: 'bye from pullwire' }));
    try {
      const r = await runPeer([JSQUIC_PEER, 'client', '--port', String(closing.address().port), '--wait-close']);
      assert.match(r.stdout, /^PEER-CLOSED app=true code=99 reason=bye from pullwire$/m, r.stdout + r.stderr);
    } finally {
      await closing.close();
    }
  });

  it('idles out with our idle timeout, on both sides', T, async () => {
    const idle = await listen({ host: '127.0.0.1', port: 0, cert: cert(), key: key(), alpn: 'bench', idleTimeout: 300 });
    const reasons: Promise<CloseReason>[] = [];
    idle.on('connection', (c) => reasons.push(c.closed));
    try {
      const r = await runPeer([JSQUIC_PEER, 'client', '--port', String(idle.address().port), '--wait-close']);
      assert.match(r.stdout, /^IDLE-TIMEOUT$/m, r.stdout + r.stderr);
      assert.equal(reasons.length, 1);
      assert.equal((await reasons[0])!.initiator, 'idle-timeout');
    } finally {
      await idle.close();
    }
  });
});
