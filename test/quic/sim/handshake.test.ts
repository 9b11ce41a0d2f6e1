/**
 * Interop runner handshake cases in the simulator: "handshake", "longrtt" and "retry", each with both
 * crypto providers (and a mixed pair), every response byte checked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Connection } from '../../../src/quic/connection/connection.js';
import { Endpoint } from '../../../src/quic/endpoint/endpoint.js';
import { describeDatagram, Sim } from '../support/sim.js';
import {
  ClientApp,
  clientConnection,
  clientErrors,
  CLIENT_ADDRESS,
  EndpointNode,
  makeProvider,
  PROVIDER_KINDS,
  Scenario,
  SERVER_ADDRESS,
  serverSettings,
  ServerApp,
  type ProviderKind,
} from './support.js';

function handshakeEvents(app: ClientApp): string[] {
  return app.events.filter((e) => e.type === 'handshake-completed' || e.type === 'handshake-confirmed').map((e) => e.type);
}

describe('sim: handshake', () => {
  // RFC 9001 section 4.1: the handshake runs over CRYPTO frames in Initial and Handshake packets; the client
  // completes it after one round trip (the server's flight), and confirms it on HANDSHAKE_DONE (4.1.2).
  // RFC 9000 section 12.2: the server's Initial and Handshake packets arrive coalesced in one datagram and
  // are both processed (the Handshake packet with the keys the Initial just installed), so no PTO is needed.
  const pairs: [ProviderKind, ProviderKind][] = [
    ['noble', 'noble'],
    ['node', 'node'],
    ['noble', 'node'],
  ];
  for (const [clientKind, serverKind] of pairs) {
    it(`${clientKind} client, ${serverKind} server: completes in one round trip, confirmed on both sides, 1 KiB response byte-exact`, () => {
      const s = new Scenario({ seed: 1, clientKind, serverKind, link: { latency: 15 } });
      const app = s.connect([1024]);
      s.sim.runUntil(() => app.complete || app.closed !== null, { maxTime: 5_000 });
      assert.deepEqual(clientErrors(s), []);
      assert.ok(app.complete);
      assert.deepEqual(handshakeEvents(app), ['handshake-completed', 'handshake-confirmed']);
      const server = s.serverList[0]!;
      assert.ok(server.events.some((e) => e.type === 'handshake-confirmed'));
      // One round trip (2 x 15 ms) for the handshake, one more for the request and its response.
      assert.equal(app.handshakeAt, 30);
      assert.equal(app.downloads[0]!.doneAt, 60);
    });
  }
});

describe('sim: a bare Connection as a node', () => {
  // The simulator drives anything with receive/poll: here the client is a Connection itself (its poll results
  // are the node's), the server an Endpoint through EndpointNode. Same handshake, same checks.
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: a client Connection node completes the handshake with the server endpoint and reads a response`, () => {
      const conn = clientConnection(kind, 2);
      const app = new ClientApp(conn, [3000]);
      const sim = new Sim({ seed: 2 });
      const server = new Endpoint({
        provider: makeProvider(kind, 2, 'server'),
        local: SERVER_ADDRESS,
        server: serverSettings(makeProvider(kind, 2, 'signer')),
      });
      const apps = new Map<Connection, ServerApp>();
      const client = sim.addNode('client', conn, { addresses: CLIENT_ADDRESS, onEvent: (e, now) => app.onEvent(e, now) });
      const node = sim.addNode('server', new EndpointNode(server), {
        addresses: SERVER_ADDRESS,
        onEvent: (e, now) => {
          if (e.type === 'incoming') apps.set(e.connection, new ServerApp(e.connection));
          else if (e.type === 'connection-event') apps.get(e.connection)?.onEvent(e.event, now);
        },
      });
      sim.connect(client, node, { latency: 15 });
      sim.runUntil(() => app.complete || app.closed !== null, { maxTime: 5_000 });
      assert.deepEqual(app.errors, []);
      assert.ok(app.complete);
      assert.equal(app.handshakeAt, 30);
      assert.ok(client.events.some((e) => e.type === 'handshake-confirmed'));
    });
  }
});

describe('sim: longrtt', () => {
  // Interop "longrtt": 750 ms one-way delay and the client's first Initial is lost. RFC 9002 section 6.2.2:
  // with no RTT sample the PTO is based on kInitialRtt (333 ms), so the client retransmits its Initial after
  // PTO = 3 x 333 ms (section 6.2.1, smoothed_rtt + 4 * rttvar with rttvar = kInitialRtt / 2); the server's
  // own spurious PTOs (its RTT estimate is also 333 ms) must not break anything; the handshake completes.
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: the first Initial is dropped, retransmitted after the PTO, and the handshake completes`, () => {
      const s = new Scenario({
        seed: 4,
        kind,
        sim: { tap: true },
        link: { latency: 750, filter: (_d, info) => (info.index === 0 ? 'drop' : 'deliver') },
        reverse: { latency: 750 },
      });
      const app = s.connect([4096]);
      s.sim.runUntil(() => app.complete || app.closed !== null, { maxTime: 30_000 });
      assert.deepEqual(clientErrors(s), []);
      assert.ok(app.complete);
      const fromClient = s.sim.tap.filter((r) => r.link === 'client->server');
      assert.equal(fromClient[0]!.fate, 'filtered');
      // The retransmission: an Initial sent at the PTO, 999 ms after the first.
      const retransmit = fromClient[1]!;
      assert.equal(retransmit.sent, 999);
      assert.equal(describeDatagram(retransmit.bytes!, 8).packets[0]!.kind, 'initial');
      // Handshake: PTO + one round trip (1500 ms); response: one more round trip.
      assert.equal(app.handshakeAt, 999 + 1500);
      assert.equal(app.downloads[0]!.doneAt, 999 + 3000);
    });
  }
});

describe('sim: retry', () => {
  // Interop "retry": the server endpoint validates addresses with Retry (RFC 9000 section 8.1.2). The client
  // sends its second Initial with the token to the Retry's Source Connection ID, keeps its packet numbers
  // (section 17.2.5.3), and checks that the server's retry_source_connection_id transport parameter is the
  // Retry's SCID (section 7.3: otherwise TRANSPORT_PARAMETER_ERROR). One Retry per connection (17.2.5.2).
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: exactly one Retry, the token comes back, retry_source_connection_id matches, transfer byte-exact`, () => {
      const s = new Scenario({ seed: 5, kind, sim: { tap: true }, link: { latency: 10 }, endpoint: { validateAddress: true } });
      const app = s.connect([20_000]);
      s.sim.runUntil(() => app.complete || app.closed !== null, { maxTime: 10_000 });
      assert.deepEqual(clientErrors(s), []);
      assert.ok(app.complete);
      assert.equal(s.serverEndpoint.stats.retriesSent, 1);
      const packets = s.sim.tap.flatMap((r) => describeDatagram(r.bytes!, 8).packets.map((p) => ({ link: r.link, sent: r.sent, p })));
      const retries = packets.filter((x) => x.p.kind === 'retry');
      assert.equal(retries.length, 1);
      const retry = retries[0]!;
      assert.equal(retry.link, 'server->client');
      // The client's Initials after the Retry: the first goes to the Retry's SCID (later ones to the server's
      // own SCID, section 7.2), and every one carries the token (section 17.2.5.2).
      const later = packets.filter((x) => x.link === 'client->server' && x.p.kind === 'initial' && x.sent >= retry.sent);
      assert.ok(later.length > 0);
      assert.equal(later[0]!.p.dcid, retry.p.scid);
      for (const x of later) assert.equal(x.p.tokenLength, retry.p.tokenLength);
      assert.ok(retry.p.tokenLength! > 0);
      const done = app.events.find((e) => e.type === 'handshake-completed');
      assert.ok(done !== undefined && done.type === 'handshake-completed');
      const rscid = done.peerParameters.retrySourceConnectionId;
      assert.ok(rscid !== null);
      assert.equal(Buffer.from(rscid).toString('hex'), retry.p.scid);
      // Address validated by the token: one connection, accepted once.
      assert.equal(s.serverEndpoint.stats.connectionsAccepted, 1);
    });
  }
});

describe('sim: determinism', () => {
  // Time and randomness are inputs (DESIGN.md): with seeded providers and the same simulator seed, a run
  // replays bit for bit, so any failure can be reproduced from its seed.
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: the same seed gives the same datagrams, byte for byte, through 5% loss`, () => {
      const run = (): string[] => {
        const s = new Scenario({ seed: 3, kind, sim: { tap: true }, link: { latency: 10, loss: 0.05 } });
        const app = s.connect([50_000]);
        s.sim.runUntil(() => app.complete, { maxTime: 10_000 });
        return s.sim.tap.map((r) => `${r.sent} ${r.fate} ${Buffer.from(r.bytes!).toString('hex')}`);
      };
      const first = run();
      assert.ok(first.length > 40);
      assert.deepEqual(run(), first);
    });
  }
});
