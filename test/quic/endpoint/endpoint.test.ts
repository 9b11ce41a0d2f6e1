/**
 * The sans-I/O endpoint: routing by connection ID, client and server connections on one endpoint, Retry
 * (RFC 9000 section 8.1.2), Version Negotiation (section 6.1), stateless reset after a restart (section
 * 10.3), garbage dropped, connection limit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Endpoint } from '../../../src/quic/endpoint/endpoint.js';
import { decodeDatagram } from '../../../src/quic/packet.js';
import { QUIC_V1 } from '../../../src/quic/version.js';
import { CLIENT_ADDRESS, clientOptions, provider, SERVER_ADDRESS, serverOptions } from '../connection/support.js';
import { has, Wire } from './support.js';

function serverEndpoint(extra: Partial<ConstructorParameters<typeof Endpoint>[0]> = {}): Endpoint {
  const { provider: p, ...server } = serverOptions();
  return new Endpoint({ provider: p, server, local: SERVER_ADDRESS, ...extra });
}

function clientEndpoint(): Endpoint {
  return new Endpoint({ provider: provider('node'), local: CLIENT_ADDRESS });
}

function clientConfig(): Omit<ReturnType<typeof clientOptions>, 'provider'> {
  const { provider: _p, ...rest } = clientOptions();
  void _p;
  return rest;
}

describe('endpoint', () => {
  it('routes a handshake between a client endpoint and a server endpoint', () => {
    const wire = new Wire();
    const server = wire.add(serverEndpoint(), SERVER_ADDRESS);
    const client = wire.add(clientEndpoint(), CLIENT_ADDRESS);
    const conn = client.connect(clientConfig(), SERVER_ADDRESS, 0);
    wire.run(() => has(wire.events.get(client), conn, 'handshake-confirmed') && has(wire.events.get(server), null, 'handshake-confirmed'));
    assert.equal(wire.incoming.get(server)!.length, 1);
    assert.equal(server.stats.connectionsAccepted, 1);
    assert.equal(server.stats.retriesSent, 0);
  });

  it('validates the client address with Retry, and the connection checks the Retry transport parameters', () => {
    const wire = new Wire();
    const server = wire.add(serverEndpoint({ validateAddress: true }), SERVER_ADDRESS);
    const client = wire.add(clientEndpoint(), CLIENT_ADDRESS);
    const conn = client.connect(clientConfig(), SERVER_ADDRESS, 0);
    wire.run(() => has(wire.events.get(client), conn, 'handshake-confirmed'));
    assert.equal(server.stats.retriesSent, 1);
    assert.equal(server.stats.connectionsAccepted, 1);
    // The second datagram on the wire is the Retry.
    const retry = decodeDatagram(wire.sent[1]!.datagram, { shortDcidLength: 8 });
    assert.equal(retry.packets[0]!.kind, 'retry');
  });

  it('a Retry token presented from another address is refused', () => {
    const wire = new Wire();
    const server = wire.add(serverEndpoint({ validateAddress: true }), SERVER_ADDRESS);
    const client = wire.add(clientEndpoint(), CLIENT_ADDRESS);
    client.connect(clientConfig(), SERVER_ADDRESS, 0);
    // Rewrite the source of the client's second Initial (the one with the token): a different address.
    let count = 0;
    wire.filter = (from, _to, datagram) => {
      if (from.startsWith(CLIENT_ADDRESS.address) && ++count === 2) {
        server.receive(datagram, { local: SERVER_ADDRESS, remote: { address: '10.9.9.9', port: 1 } }, wire.now);
        return false;
      }
      return true;
    };
    wire.flush();
    assert.equal(server.stats.retriesSent, 1);
    assert.equal(server.stats.connectionsAccepted, 0);
  });

  it('answers an unknown version with Version Negotiation listing v1, and the client gives up', () => {
    const wire = new Wire();
    const server = wire.add(serverEndpoint(), SERVER_ADDRESS);
    const client = wire.add(clientEndpoint(), CLIENT_ADDRESS);
    // A long header of version 0x1a2a3a4a padded to 1200 bytes.
    const probe = new Uint8Array(1200);
    probe.set([0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8, 1, 2, 3, 4, 5, 6, 7, 8, 4, 9, 9, 9, 9]);
    server.receive(probe, { local: SERVER_ADDRESS, remote: CLIENT_ADDRESS }, 0);
    const r = server.poll(0);
    assert.equal(r.type, 'need-write');
    if (r.type !== 'need-write') return;
    const vn = decodeDatagram(r.datagram, { shortDcidLength: 8 }).packets[0]!;
    assert.equal(vn.kind, 'version-negotiation');
    if (vn.kind !== 'version-negotiation') return;
    assert.ok(vn.versions.includes(QUIC_V1));
    assert.deepEqual([...vn.dcid], [9, 9, 9, 9]);
    assert.deepEqual([...vn.scid], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(server.stats.versionNegotiationsSent, 1);
    void client;
    void wire;
  });

  it('a small unknown-version datagram gets no answer (amplification)', () => {
    const server = serverEndpoint();
    const probe = new Uint8Array(100);
    probe.set([0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8, 1, 2, 3, 4, 5, 6, 7, 8, 4, 9, 9, 9, 9]);
    server.receive(probe, { local: SERVER_ADDRESS, remote: CLIENT_ADDRESS }, 0);
    assert.equal(server.poll(0).type, 'need-read');
  });

  it('after a server restart with the same reset key, a stateless reset ends the client connection at once', () => {
    const wire = new Wire();
    const resetKey = new Uint8Array(32).fill(7);
    wire.add(serverEndpoint({ resetKey }), SERVER_ADDRESS);
    const client = wire.add(clientEndpoint(), CLIENT_ADDRESS);
    const conn = client.connect(clientConfig(), SERVER_ADDRESS, 0);
    wire.run(() => has(wire.events.get(client), conn, 'handshake-confirmed'));
    // The server loses its state; the new endpoint has the same reset key.
    const restarted = serverEndpoint({ resetKey });
    wire.replace(SERVER_ADDRESS, restarted);
    conn.ping();
    const start = wire.now;
    wire.run(() => has(wire.events.get(client), conn, 'closed'));
    const closed = wire.events.get(client)!.find((l) => l.event.type === 'closed')!.event;
    assert.ok(closed.type === 'closed' && closed.reason.initiator === 'stateless-reset');
    assert.equal(restarted.stats.statelessResetsSent, 1);
    assert.ok(wire.now - start < 1000, `closed after ${wire.now - start} ms`);
  });

  it('one endpoint is client and server at once (peer to peer on one socket)', () => {
    const wire = new Wire();
    const a = wire.add(serverEndpoint({ local: CLIENT_ADDRESS }), CLIENT_ADDRESS);
    const b = wire.add(serverEndpoint(), SERVER_ADDRESS);
    const ab = a.connect(clientConfig(), SERVER_ADDRESS, 0);
    const ba = b.connect(clientConfig(), CLIENT_ADDRESS, 0);
    wire.run(() => has(wire.events.get(a), ab, 'handshake-confirmed') && has(wire.events.get(b), ba, 'handshake-confirmed'));
    assert.equal(a.connections.length, 2);
    assert.equal(b.connections.length, 2);
  });

  it('garbage creates no connection; the only answers are Version Negotiation for big long-header datagrams', () => {
    const server = serverEndpoint({ statelessReset: false });
    const p = provider('node', 99);
    let answers = 0;
    for (let i = 0; i < 300; i++) {
      const g = p.random(1 + ((i * 37) % 1400));
      server.receive(g, { local: SERVER_ADDRESS, remote: CLIENT_ADDRESS }, i);
      for (let r = server.poll(i); r.type !== 'need-read'; r = server.poll(i)) {
        assert.equal(r.type, 'need-write');
        if (r.type !== 'need-write') continue;
        answers++;
        assert.ok(g.length >= 1200 && (g[0]! & 0x80) !== 0, 'answered a datagram that is not a big long header');
        assert.equal(decodeDatagram(r.datagram, { shortDcidLength: 8 }).packets[0]!.kind, 'version-negotiation');
      }
    }
    assert.equal(server.connections.length, 0);
    assert.equal(answers, server.stats.versionNegotiationsSent);
  });

  it('refuses new connections beyond maxConnections', () => {
    const wire = new Wire();
    const server = wire.add(serverEndpoint({ maxConnections: 1 }), SERVER_ADDRESS);
    const client = wire.add(clientEndpoint(), CLIENT_ADDRESS);
    const c1 = client.connect(clientConfig(), SERVER_ADDRESS, 0);
    client.connect(clientConfig(), SERVER_ADDRESS, 0);
    wire.run(() => has(wire.events.get(client), c1, 'handshake-confirmed'));
    wire.flush();
    assert.equal(server.connections.length, 1);
  });
});
