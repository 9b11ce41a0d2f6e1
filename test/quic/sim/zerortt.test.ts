/**
 * Interop runner "zerortt" in the simulator, both crypto providers: a first connection gets a session
 * ticket, a second one resumes it and sends 40 requests in 0-RTT packets (RFC 9001 section 4.6, RFC 9000
 * section 7.4.1); then the cases where the server declines (a ticket used twice, with a single-use cache:
 * the requests go again in 1-RTT, RFC 9001 section 4.6.2) and where it answers with a Retry first (0-RTT
 * goes on after it, RFC 9000 section 17.2.5.3). Every response byte is checked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QlogEvent } from '../../../src/quic/connection/trace.js';
import { SingleUseTicketCache } from '../../../src/quic/tls/tickets.js';
import { describeDatagram } from '../support/sim.js';
import { clientErrors, PROVIDER_KINDS, Scenario, type ClientApp, type ProviderKind, type ScenarioOptions } from './support.js';

const KEY = new Uint8Array(32).fill(0x5e);
const LATENCY = 20;
const RTT = 2 * LATENCY;
/** 40 small responses of different sizes. */
const SIZES = Array.from({ length: 40 }, (_, i) => 100 + 37 * i);

function completed(app: ClientApp): { resumed: boolean; earlyDataAccepted: boolean } {
  const e = app.events.find((x) => x.type === 'handshake-completed');
  assert.ok(e !== undefined && e.type === 'handshake-completed');
  return e;
}

/** Runs a first connection to completion and returns its session ticket. */
function firstTicket(s: Scenario): Uint8Array {
  const first = s.connect([1000]);
  s.sim.runUntil(() => (first.complete && first.events.some((e) => e.type === 'session-ticket')) || first.closed !== null, {
    maxTime: 5_000,
  });
  assert.deepEqual(clientErrors(s), []);
  const t = first.events.find((e) => e.type === 'session-ticket');
  assert.ok(t !== undefined && t.type === 'session-ticket');
  assert.ok(t.maxEarlyData > 0, 'the ticket allows 0-RTT');
  assert.equal(completed(first).resumed, false);
  return t.ticket;
}

/** A resumed connection that opens its 40 streams right away (0-RTT) and runs until every response is in. */
function resumeWith40(s: Scenario, session: Uint8Array, qlog?: (e: QlogEvent) => void): { app: ClientApp; start: number } {
  const start = s.sim.now;
  const app = s.connect(SIZES, Infinity, { session, earlyData: true, ...(qlog === undefined ? {} : { qlog }) });
  app.openEarly();
  assert.equal(app.maxOpen, 40, 'all 40 streams opened before the handshake (remembered initial_max_streams_bidi)');
  s.sim.runUntil(() => app.complete || app.closed !== null || app.errors.length > 0, { maxTime: 10_000 });
  assert.deepEqual(clientErrors(s), []);
  assert.equal(app.closed, null);
  assert.ok(app.complete);
  return { app, start };
}

function scenario(kind: ProviderKind, seed: number, extra: Partial<ScenarioOptions> = {}): Scenario {
  return new Scenario({
    seed,
    kind,
    link: { latency: LATENCY },
    ...extra,
    server: { tickets: { key: KEY, count: 2 }, earlyData: true, ...extra.server },
  });
}

describe('sim: zerortt', () => {
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: 40 requests in 0-RTT on the resumed connection, accepted, answered byte-exact from one round trip on`, () => {
      const s = scenario(kind, 70, { sim: { tap: true } });
      const ticket = firstTicket(s);
      s.sim.clearTap();
      const { app, start } = resumeWith40(s, ticket);
      const c = completed(app);
      assert.deepEqual(c, { ...c, resumed: true, earlyDataAccepted: true });
      const stats = app.conn.stats;
      assert.ok(stats.zeroRttBytesSent > 40 * 'GET 100'.length, `${stats.zeroRttBytesSent} bytes of 0-RTT`);
      assert.equal(stats.zeroRttBytesAccepted, stats.zeroRttBytesSent);
      const server = s.serverList[1]!;
      assert.equal(server.conn.stats.zeroRttBytesAccepted, stats.zeroRttBytesSent);
      assert.equal(server.answered, 40);
      // The requests rode in the first flight: 0-RTT packets coalesced with the first Initial.
      const flight = describeDatagram(s.sim.tap.find((r) => r.link === 'client->server')!.bytes!, 8);
      assert.deepEqual(
        flight.packets.map((p) => p.kind),
        ['initial', '0rtt'],
      );
      // 0-RTT saves a round trip: the first responses arrive one round trip after the start (a 1-RTT client
      // could only send its requests after one).
      const first = Math.min(...app.downloads.map((d) => d.doneAt!));
      assert.equal(first - start, RTT);
      console.log(
        `zerortt ${kind}: ${stats.zeroRttBytesSent} bytes of 0-RTT, first response after ${first - start} ms, ` +
          `last after ${Math.max(...app.downloads.map((d) => d.doneAt!)) - start} ms`,
      );
    });

    it(`${kind}: a ticket used twice with a single-use cache: 0-RTT declined the second time, the requests replayed in 1-RTT`, () => {
      const cache = new SingleUseTicketCache();
      const s = scenario(kind, 71, { server: { earlyData: (info) => cache.useOnce(info.ticketId, info.expiresAt, info.now) } });
      const ticket = firstTicket(s);
      const accepted = resumeWith40(s, ticket);
      assert.equal(completed(accepted.app).earlyDataAccepted, true);
      // RFC 8446 section 8.1: the same ticket (a replayed first flight looks the same) is not accepted again.
      const { app, start } = resumeWith40(s, ticket);
      assert.equal(completed(app).earlyDataAccepted, false);
      assert.equal(completed(app).resumed, true);
      assert.ok(app.conn.stats.zeroRttBytesSent > 0);
      assert.equal(app.conn.stats.zeroRttBytesAccepted, 0);
      const server = s.serverList[2]!;
      assert.equal(server.conn.stats.zeroRttBytesAccepted, 0);
      assert.equal(server.answered, 40);
      // Same stream IDs as the 0-RTT attempt (the client app checks each response against its stream's pattern).
      assert.deepEqual(
        app.downloads.map((d) => d.streamId),
        SIZES.map((_, i) => 4 * i),
      );
      // The requests left after the handshake: no response before two round trips.
      assert.ok(Math.min(...app.downloads.map((d) => d.doneAt!)) - start >= 2 * RTT);
    });
  }

  it('0-RTT after a Retry (RFC 9000 section 17.2.5.3): same keys, packet numbers go on, new connection ID, accepted', () => {
    const s = scenario('node', 72, { endpoint: { validateAddress: true }, sim: { tap: true } });
    const ticket = firstTicket(s);
    s.sim.clearTap();
    const zeroRttPns: number[] = [];
    const { app } = resumeWith40(s, ticket, (e) => {
      const h = e.data['header'] as { packet_type?: string; packet_number?: number } | undefined;
      if (e.name === 'transport:packet_sent' && h?.packet_type === '0rtt') zeroRttPns.push(h.packet_number!);
    });
    assert.equal(s.serverEndpoint.stats.retriesSent, 2, 'one Retry per connection');
    assert.equal(completed(app).earlyDataAccepted, true);
    // "A client MUST NOT reset the packet number for any packet number space after processing a Retry packet".
    assert.ok(zeroRttPns.length >= 2);
    for (let i = 1; i < zeroRttPns.length; i++) assert.ok(zeroRttPns[i]! > zeroRttPns[i - 1]!, zeroRttPns.join(' '));
    // The 0-RTT packets before the Retry went to the client's first DCID, those after it to the Retry's SCID.
    const dcids = s.sim.tap
      .filter((r) => r.link === 'client->server')
      .flatMap((r) => describeDatagram(r.bytes!, 8).packets)
      .filter((p) => p.kind === '0rtt')
      .map((p) => p.dcid);
    assert.ok(new Set(dcids).size >= 2, dcids.join(' '));
    assert.equal(s.serverList[1]!.answered, 40);
  });
});
