/**
 * ECN in the simulator (RFC 9000 section 13.4, RFC 9002 section 7.1), with both crypto providers: a path
 * that carries the marks (both sides validate and keep marking ECT(0), ACK frames of type 0x03 both ways),
 * a path that bleaches them (validation fails, marking stops, the transfer completes), and a path whose
 * router marks CE (the congestion window shrinks without any loss). Every response byte is checked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Connection } from '../../../src/quic/connection/connection.js';
import { ECN_TESTING_PACKETS } from '../../../src/quic/connection/ecn.js';
import type { LinkSettings } from '../support/sim.js';
import { clientErrors, KiB, PROVIDER_KINDS, Scenario, type ClientApp, type ProviderKind } from './support.js';

interface AckTypes {
  plain: number;
  ecn: number;
  maxCe: number;
}

/** Counts the ACK frames a connection sends, by type, from its qlog (frame type 0x02 vs 0x03). */
function ackCounter(): { counts: AckTypes; qlog: (e: { name: string; data: Record<string, unknown> }) => void } {
  const counts: AckTypes = { plain: 0, ecn: 0, maxCe: 0 };
  return {
    counts,
    qlog: (e) => {
      if (e.name !== 'transport:packet_sent') return;
      for (const f of e.data['frames'] as { frame_type: string; ce?: number }[]) {
        if (f.frame_type !== 'ack') continue;
        if (f.ce !== undefined) counts.ecn++;
        else counts.plain++;
        if (typeof f.ce === 'number') counts.maxCe = Math.max(counts.maxCe, f.ce);
      }
    },
  };
}

function run(
  kind: ProviderKind,
  link: LinkSettings,
  size: number,
): { s: Scenario; app: ClientApp; server: Connection; client: AckTypes; serverAcks: AckTypes } {
  const serverAcks = ackCounter();
  const s = new Scenario({ seed: 11, kind, link, server: { qlog: serverAcks.qlog }, sim: { tap: { bytes: false, limit: 1_000_000 } } });
  const clientAcks = ackCounter();
  const app = s.connect([size], Infinity, { qlog: clientAcks.qlog });
  s.sim.runUntil(() => app.complete || app.errors.length > 0 || app.closed !== null, { maxTime: 60_000 });
  assert.deepEqual(clientErrors(s), []);
  assert.equal(app.closed, null);
  assert.ok(app.complete);
  assert.equal(app.bytesReceived, size);
  return { s, app, server: s.serverList[0]!.conn, client: clientAcks.counts, serverAcks: serverAcks.counts };
}

describe('sim: ecn', () => {
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: a path that carries ECN: both sides validate, mark ECT(0) and send ACK_ECN, no CE`, () => {
      const { s, app, server, client, serverAcks } = run(kind, { latency: 10 }, 200 * KiB);
      assert.equal(app.conn.ecnState, 'capable');
      assert.equal(server.ecnState, 'capable');
      const tap = s.sim.tap;
      const up = tap.filter((r) => r.link === 'client->server');
      const down = tap.filter((r) => r.link === 'server->client');
      // Once validated every datagram is marked: far more than the testing packets, in both directions.
      assert.ok(up.filter((r) => r.ecn === 'ect0').length > ECN_TESTING_PACKETS, 'client marks after validation');
      assert.ok(down.filter((r) => r.ecn === 'ect0').length > ECN_TESTING_PACKETS * 5, 'server marks after validation');
      assert.equal(tap.filter((r) => r.deliveredEcn === 'ce').length, 0);
      // Section 13.4.1: both report the counts of what they received (ACK frame type 0x03), never CE here.
      assert.ok(client.ecn > 0 && serverAcks.ecn > 0, `ACK_ECN sent: client ${client.ecn}, server ${serverAcks.ecn}`);
      assert.equal(client.maxCe, 0);
      assert.equal(serverAcks.maxCe, 0);
    });

    it(`${kind}: a path that bleaches ECN: validation fails, marking stops, the transfer completes`, () => {
      const { s, app, server, client } = run(kind, { latency: 10, ecn: 'bleach' }, 200 * KiB);
      assert.equal(app.conn.ecnState, 'failed');
      assert.equal(server.ecnState, 'failed');
      // The peer saw no marks: it sends plain ACK frames only.
      assert.equal(client.ecn, 0);
      assert.ok(client.plain > 0);
      // Each side marked at most its testing packets, then stopped (section 13.4.2.2).
      for (const link of ['client->server', 'server->client']) {
        const marked = s.sim.tap.filter((r) => r.link === link && r.ecn === 'ect0');
        assert.ok(marked.length > 0 && marked.length <= ECN_TESTING_PACKETS, `${link}: ${marked.length} marked datagrams`);
        assert.ok(s.sim.tap.filter((r) => r.link === link).length > marked.length);
      }
    });

    it(`${kind}: a router marking CE: the congestion window shrinks without loss, the transfer completes`, () => {
      const uncongested = run(kind, { latency: 10, bandwidth: 50e6 }, 400 * KiB);
      const { s, server, client } = run(kind, { latency: 10, bandwidth: 50e6, ceMarking: 0.05 }, 400 * KiB);
      assert.equal(server.ecnState, 'capable');
      assert.ok(s.sim.tap.filter((r) => r.link === 'server->client' && r.deliveredEcn === 'ce').length > 0);
      // The client reports the CE marks; the server reacts (RFC 9002 section 7.1) with no packet lost.
      assert.ok(client.maxCe > 0);
      assert.equal(server.stats.packetsLost, 0);
      assert.ok(
        server.congestionWindow < uncongested.server.congestionWindow,
        `cwnd ${server.congestionWindow} with CE vs ${uncongested.server.congestionWindow} without`,
      );
    });
  }

  it('ecn: false never marks, and the peer still counts what it receives', () => {
    const serverAcks = ackCounter();
    const s = new Scenario({
      seed: 12,
      kind: 'node',
      link: { latency: 5 },
      server: { qlog: serverAcks.qlog },
      sim: { tap: { bytes: false, limit: 1_000_000 } },
    });
    const app = s.connect([10 * KiB], Infinity, { ecn: false });
    s.sim.runUntil(() => app.complete || app.closed !== null, { maxTime: 10_000 });
    assert.ok(app.complete);
    assert.equal(app.conn.ecnState, 'failed');
    assert.equal(s.sim.tap.filter((r) => r.link === 'client->server' && r.ecn !== 'not-ect').length, 0);
    assert.equal(serverAcks.counts.ecn, 0);
    // The server still marks and validates: the client counts and reports it.
    assert.equal(s.serverList[0]!.conn.ecnState, 'capable');
  });
});
