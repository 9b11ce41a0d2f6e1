/**
 * The Node adapter over real UDP on loopback: handshakes (verification, ALPN,
 * Retry, limits, timeouts), IPv6, one socket carrying client and server
 * connections, socket errors, closing.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { connect, QuicError, QuicSocket, type QuicConnection } from '../../../src/quic/node.js';
import { ALPN, CERT, KEY, RSA_CERT, bytes, echoStreams, first, readAll, rejection, testServer, writeAll } from './support.js';

const clientTo = (port: number, extra: Partial<Parameters<typeof connect>[0]> = {}): Promise<QuicConnection> =>
  connect({ host: '127.0.0.1', port, serverName: 'localhost', alpn: ALPN, ca: CERT, ...extra });

async function echoOnce(conn: QuicConnection, n = 50_000): Promise<void> {
  const s = await conn.openStream();
  const data = bytes(n, conn.engine.localConnectionIds.length + n);
  const [, back] = await Promise.all([writeAll(s, data), readAll(s.readable)]);
  assert.ok(back.equals(data));
}

describe('QUIC over node:dgram: handshake', () => {
  it('connects with certificate verification and delivers the connection to the server', async () => {
    const server = await testServer(echoStreams);
    const accepted = first(server);
    const conn = await clientTo(server.address().port);
    try {
      assert.equal(conn.alpn, ALPN);
      assert.equal(conn.role, 'client');
      const s = await accepted;
      assert.equal(s.role, 'server');
      assert.equal(s.alpn, ALPN);
      // The server sees the client's address as the client's socket is bound.
      assert.equal(s.remoteAddress.port, conn.localAddress.port);
      assert.deepEqual(server.connections, [s]);
      await echoOnce(conn);
    } finally {
      await conn.close();
      await server.close();
    }
  });

  it('rejects a certificate that does not chain to the CA (CRYPTO_ERROR unknown_ca)', async () => {
    const server = await testServer(() => assert.fail('no connection may be delivered'));
    try {
      const e = await rejection(clientTo(server.address().port, { ca: RSA_CERT }));
      assert.ok(e instanceof QuicError);
      assert.equal(e.code, 'ERR_QUIC_HANDSHAKE_FAILED');
      // RFC 9001 section 4.8: CRYPTO_ERROR 0x100 + TLS alert; unknown_ca = 48 (RFC 8446 section 6.2).
      assert.equal(e.closeReason?.code, 0x100n + 48n);
      assert.equal(e.closeReason?.initiator, 'local');
    } finally {
      await server.close();
    }
  });

  it('rejects a server name the certificate does not name (bad_certificate)', async () => {
    const server = await testServer(() => {});
    try {
      const e = await rejection(clientTo(server.address().port, { serverName: 'example.org' }));
      assert.ok(e instanceof QuicError);
      assert.equal(e.code, 'ERR_QUIC_HANDSHAKE_FAILED');
      assert.equal(e.closeReason?.code, 0x100n + 42n);
    } finally {
      await server.close();
    }
  });

  it('fails the handshake when no ALPN protocol matches (no_application_protocol)', async () => {
    const server = await testServer(() => assert.fail('no connection may be delivered'));
    try {
      const e = await rejection(clientTo(server.address().port, { alpn: ['h3', 'other'] }));
      assert.ok(e instanceof QuicError);
      assert.equal(e.code, 'ERR_QUIC_HANDSHAKE_FAILED');
      // RFC 9001 section 8.1: no_application_protocol (120) closes with CRYPTO_ERROR 0x178, sent by the server.
      assert.equal(e.closeReason?.code, 0x100n + 120n);
      assert.equal(e.closeReason?.initiator, 'peer');
    } finally {
      await server.close();
    }
  });

  it('times out against a port where nothing answers, and closes its own socket', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    let received = 0;
    silent.on('message', () => received++);
    try {
      const e = await rejection(clientTo(silent.address().port, { handshakeTimeout: 300 }));
      assert.ok(e instanceof QuicError);
      assert.equal(e.code, 'ERR_QUIC_HANDSHAKE_TIMEOUT');
      assert.ok(received >= 1);
    } finally {
      silent.close();
    }
  });

  it('stops a handshake when its AbortSignal aborts', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    try {
      const ac = new AbortController();
      const p = clientTo(silent.address().port, { signal: ac.signal });
      setTimeout(() => ac.abort('stop'), 20);
      const e = await rejection(p);
      assert.ok(e instanceof QuicError);
      assert.equal(e.code, 'ERR_QUIC_ABORTED');
      assert.equal((e as Error & { cause?: unknown }).cause, 'stop');
    } finally {
      silent.close();
    }
  });

  it('validates the client address with Retry when asked (RFC 9000 section 8.1.2)', async () => {
    const server = await testServer(echoStreams, { validateAddress: true });
    const conn = await clientTo(server.address().port);
    try {
      assert.equal(server.socket.endpoint.stats.retriesSent, 1);
      assert.ok(conn.peerParameters?.retrySourceConnectionId instanceof Uint8Array);
      await echoOnce(conn);
    } finally {
      await conn.close();
      await server.close();
    }
  });

  it('drops new clients beyond maxConnections', async () => {
    const server = await testServer(() => {}, { maxConnections: 1 });
    const a = await clientTo(server.address().port);
    try {
      const e = await rejection(clientTo(server.address().port, { handshakeTimeout: 300 }));
      assert.ok(e instanceof QuicError);
      assert.equal(e.code, 'ERR_QUIC_HANDSHAKE_TIMEOUT');
    } finally {
      await a.close();
      await server.close();
    }
  });
});

describe('QUIC over node:dgram: sockets', () => {
  it('works over IPv6 (::1)', async () => {
    const server = await testServer(echoStreams, { host: '::1' });
    assert.equal(server.socket.type, 'udp6');
    const conn = await connect({ host: '::1', port: server.address().port, serverName: 'localhost', alpn: ALPN, ca: CERT });
    try {
      assert.equal(conn.remoteAddress.address, '::1');
      await echoOnce(conn);
    } finally {
      await conn.close();
      await server.close();
    }
  });

  it('carries a client and a server connection on one socket, in both directions (peer to peer)', async () => {
    const a = await QuicSocket.create({ host: '127.0.0.1' });
    const b = await QuicSocket.create({ host: '127.0.0.1' });
    try {
      // b listens; a connects first and only then starts its own server: the endpoint takes both roles.
      const bServer = b.listen({ cert: CERT, key: KEY, alpn: ALPN });
      bServer.on('connection', echoStreams);
      const bAccepted = first(bServer);
      const aToB = await a.connect({ host: '127.0.0.1', port: b.address().port, serverName: 'localhost', alpn: ALPN, ca: CERT });
      const aServer = a.listen({ cert: CERT, key: KEY, alpn: ALPN });
      aServer.on('connection', echoStreams);
      const aAccepted = first(aServer);
      const bToA = await b.connect({ host: '127.0.0.1', port: a.address().port, serverName: 'localhost', alpn: ALPN, ca: CERT });
      // Each side's client connection leaves from the port its server listens on.
      assert.equal((await bAccepted).remoteAddress.port, a.address().port);
      assert.equal((await aAccepted).remoteAddress.port, b.address().port);
      assert.deepEqual(a.connections.map((c) => c.role).sort(), ['client', 'server']);
      assert.deepEqual(b.connections.map((c) => c.role).sort(), ['client', 'server']);
      await Promise.all([echoOnce(aToB, 200_000), echoOnce(bToA, 200_000)]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('routes a send error to the connection and rejects with ERR_QUIC_SOCKET, without crashing', async () => {
    // Broadcast without SO_BROADCAST: sendmsg fails with EACCES.
    const e = await rejection(connect({ host: '255.255.255.255', port: 4433, alpn: ALPN, insecure: true, handshakeTimeout: 5_000 }));
    assert.ok(e instanceof QuicError);
    assert.equal(e.code, 'ERR_QUIC_SOCKET');
    assert.equal((e.cause as NodeJS.ErrnoException).code, 'EACCES');
  });

  it('reports a port in use as ERR_QUIC_SOCKET', async () => {
    const a = await QuicSocket.create({ host: '127.0.0.1' });
    try {
      const e = await rejection(QuicSocket.create({ host: '127.0.0.1', port: a.address().port }));
      assert.ok(e instanceof QuicError);
      assert.equal(e.code, 'ERR_QUIC_SOCKET');
      assert.equal((e.cause as NodeJS.ErrnoException).code, 'EADDRINUSE');
    } finally {
      await a.close();
    }
  });

  it('server.close() closes its connections with the code given and frees the port', async () => {
    const server = await testServer(() => {});
    const port = server.address().port;
    const accepted = first(server);
    const conn = await clientTo(port);
    await accepted;
    await server.close({ errorCode: 5, reason: 'shutting down' });
    const r = await conn.closed;
    assert.deepEqual([r.kind, r.code, r.reason, r.initiator], ['application', 5n, 'shutting down', 'peer']);
    // Iteration over a closed server ends at once.
    for await (const _ of server) assert.fail('no connection after close');
    const again = await QuicSocket.create({ host: '127.0.0.1', port });
    await again.close();
    await assert.rejects(conn.openStream(), (e: unknown) => e instanceof QuicError && e.code === 'ERR_QUIC_CONNECTION_CLOSED');
  });

  it('destroy() ends a connection at once; the peer still gets the close code', async () => {
    let serverSide: QuicConnection | null = null;
    const server = await testServer((c) => {
      serverSide = c;
      echoStreams(c);
    });
    const conn = await clientTo(server.address().port);
    try {
      await echoOnce(conn, 10);
      conn.destroy({ errorCode: 0x77, reason: 'gone' });
      assert.equal(conn.isClosed, true);
      await conn.done;
      const r = await (serverSide as QuicConnection | null)!.closed;
      assert.deepEqual([r.code, r.reason, r.initiator], [0x77n, 'gone', 'peer']);
    } finally {
      await server.close();
    }
  });
});
