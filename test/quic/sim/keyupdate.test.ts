/**
 * Interop runner "keyupdate" in the simulator, both crypto providers: a 2 MB download during which the
 * client forces a 1-RTT key update in the first megabyte (RFC 9001 section 6.1), the same with the
 * server initiating (`keyUpdateAfterPackets`), and an update on a link that reorders packets (old-phase
 * packets arriving after the switch are still opened, section 6.5). The key phase of every packet is
 * read from the receiver's qlog (`key_phase_bit` of transport:packet_received); every byte is checked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QlogEvent } from '../../../src/quic/connection/trace.js';
import { clientErrors, KiB, MiB, PROVIDER_KINDS, Scenario, type ClientApp, type ServerApp } from './support.js';

/** The key phase bits of the 1-RTT packets one side received, and its key_updated triggers. */
class PhaseLog {
  readonly phases: number[] = [];
  readonly triggers: string[] = [];
  readonly sink = (e: QlogEvent): void => {
    if (e.name === 'security:key_updated') this.triggers.push(String(e.data['trigger']));
    if (e.name !== 'transport:packet_received') return;
    const h = e.data['header'] as { packet_type: string; key_phase_bit?: number };
    if (h.packet_type === '1rtt') this.phases.push(h.key_phase_bit!);
  };
  count(bit: 0 | 1): number {
    return this.phases.filter((p) => p === bit).length;
  }
}

function run(s: Scenario, app: ClientApp): void {
  s.sim.runUntil(() => app.complete || app.closed !== null || app.errors.length > 0, { maxTime: 60_000 });
  assert.deepEqual(clientErrors(s), []);
  assert.equal(app.closed, null);
  assert.ok(app.complete);
}

function server(s: Scenario): ServerApp {
  const sv = s.serverList[0];
  assert.ok(sv !== undefined);
  return sv;
}

describe('sim: keyupdate', () => {
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: the client updates its keys in the first megabyte of a 2 MB download; both sides send key phase 1`, () => {
      const c = new PhaseLog();
      const sv = new PhaseLog();
      const s = new Scenario({ seed: 80, kind, link: { latency: 10, bandwidth: 100e6 }, server: { qlog: sv.sink }, keepEvents: false });
      const app = s.connect([2 * MiB], Infinity, { qlog: c.sink });
      s.sim.runUntil(() => app.bytesReceived >= 256 * KiB, { maxTime: 10_000 });
      // RFC 9001 section 6.1: allowed once the handshake is confirmed and a packet of the current phase was acknowledged.
      assert.equal(app.conn.updateKeys(s.sim.now), true);
      const at = app.bytesReceived;
      run(s, app);
      assert.ok(at < MiB, `update after ${at} bytes`);
      assert.deepEqual(c.triggers, ['local_update']);
      assert.deepEqual(sv.triggers, ['remote_update']);
      // The server received the client's packets (ACKs, MAX_DATA) in phase 1, and the client the server's data.
      assert.ok(sv.count(1) > 0, 'client -> server packets with key phase 1');
      assert.ok(c.count(1) > 1000, `${c.count(1)} server -> client packets with key phase 1`);
      assert.equal(app.conn.stats.keyUpdates, 1);
      assert.equal(server(s).conn.stats.keyUpdates, 1);
    });

    it(`${kind}: the server initiates (keyUpdateAfterPackets 500) during a 2 MB download`, () => {
      const c = new PhaseLog();
      const sv = new PhaseLog();
      const s = new Scenario({
        seed: 81,
        kind,
        link: { latency: 10, bandwidth: 100e6 },
        server: { qlog: sv.sink, keyUpdateAfterPackets: 500 },
        keepEvents: false,
      });
      const app = s.connect([2 * MiB], Infinity, { qlog: c.sink });
      run(s, app);
      const updates = server(s).conn.stats.keyUpdates;
      // About 1750 data packets: an update after 500, then after 500 more of each phase (with the three-PTO wait).
      assert.ok(updates >= 2, `${updates} updates`);
      assert.ok(sv.triggers.every((t) => t === 'local_update'));
      // The client follows each update it sees a packet of (the last one may come after the last data packet).
      assert.ok(c.triggers.length >= 1 && c.triggers.every((t) => t === 'remote_update'), c.triggers.join(' '));
      assert.ok(c.count(1) > 0 && sv.count(1) > 0, 'both sides sent key phase 1 packets');
      // The first phase change came after about 500 server packets, well within the first megabyte.
      const firstSwitch = c.phases.indexOf(1);
      assert.ok(firstSwitch >= 480 && firstSwitch <= 520, `first phase-1 packet is the client's ${firstSwitch}th`);
    });
  }

  it('reordering across the update: late phase-0 packets are still opened, nothing fails authentication', () => {
    const c = new PhaseLog();
    // 5% of the server's datagrams are held back 15 ms (several packets later at 100 Mbit/s).
    const s = new Scenario({
      seed: 82,
      kind: 'node',
      link: { latency: 10, bandwidth: 100e6 },
      reverse: { latency: 10, bandwidth: 100e6, reorder: 0.05, reorderDelay: 15 },
      server: { keyUpdateAfterPackets: 300 },
      keepEvents: false,
    });
    const app = s.connect([2 * MiB], Infinity, { qlog: c.sink });
    run(s, app);
    assert.ok(server(s).conn.stats.keyUpdates >= 2);
    // Some phase-0 packets did arrive after phase-1 ones ...
    let late = 0;
    for (let i = 1; i < c.phases.length; i++) if (c.phases[i] !== c.phases[i - 1] && c.phases.slice(0, i).includes(c.phases[i]!)) late++;
    assert.ok(late > 0, 'a packet of an earlier phase arrived after the switch');
    // ... and the client dropped nothing: no packet failed authentication (RFC 9001 section 6.5).
    assert.equal(app.conn.stats.packetsDropped, 0);
  });
});
