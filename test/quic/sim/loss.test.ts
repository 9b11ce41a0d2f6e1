/**
 * Interop runner cases on a bad network, in the simulator: "handshakeloss", "handshakecorruption",
 * "transferloss", "transfercorruption" and "blackhole", with both crypto providers, every byte checked,
 * plus seeds of a harsher loss model that once stalled a handshake (regressions).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LinkSettings } from '../support/sim.js';
import { clientErrors, dropRate, KiB, MiB, PROVIDER_KINDS, Scenario, timed, type ClientApp, type ProviderKind } from './support.js';

/** Runs `count` connections at once, each downloading `size` bytes and closing when done. */
function manyHandshakes(kind: ProviderKind, seed: number, link: LinkSettings, reverse: LinkSettings, count: number): Scenario {
  const s = new Scenario({ seed, kind, link, reverse, keepEvents: false });
  const apps: ClientApp[] = [];
  for (let i = 0; i < count; i++) {
    const app = s.connect([1000 + i]);
    app.onComplete = () => app.conn.close({ errorCode: 0 });
    apps.push(app);
  }
  const { ms } = timed(() => s.sim.runUntil(() => apps.every((a) => a.complete || a.closed !== null), { maxTime: 600_000 }));
  assert.deepEqual(clientErrors(s), []);
  const failed = apps.filter((a) => !a.complete);
  assert.deepEqual(
    failed.map((a) => (a.closed?.type === 'closed' ? a.closed.reason : null)),
    [],
    'every handshake completes and its request is answered',
  );
  const server = s.serverEndpoint.stats;
  // One server connection per client: a damaged Initial that opens nothing creates no state.
  assert.equal(server.connectionsAccepted, count);
  console.log(
    `${count} handshakes (${kind}): ${s.sim.now.toFixed(0)} ms virtual, ${ms.toFixed(0)} ms wall; ` +
      `server accepted ${server.connectionsAccepted} connections, dropped ${server.datagramsDropped} datagrams`,
  );
  return s;
}

describe('sim: handshakeloss', () => {
  // Interop "handshakeloss": 30% of the datagrams dropped in each direction, at most 3 in a row (the network
  // simulator's drop-rate model), 50 connections. RFC 9002 section 6.2: PTO probes repeat the handshake data
  // (section 6.2.4: of every space with data in flight, so a lost ServerHello is not probed around with
  // Handshake packets the client cannot open); section 6.2.2.1: the client keeps a PTO armed until it knows
  // the server validated its address, so an amplification-limited server is never left waiting.
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: 50 connections through 30% loss (bursts up to 3) all complete and answer a request`, () => {
      const seed = kind === 'node' ? 11 : 12;
      manyHandshakes(
        kind,
        seed,
        { latency: 10, filter: dropRate(0.3, 3, seed, 'c2s') },
        { latency: 10, filter: dropRate(0.3, 3, seed, 's2c') },
        50,
      );
    });
  }

  // The simulator's own burst model is harsher (a burst of 1..3 starts on 30% of the datagrams: about 46%
  // lost); about 1.5% of the connections then idle out (30 s) before a first round trip gets through. These
  // seeds used to fail after the handshake had progressed: PTO probes repeated Handshake packets the client
  // could not open (its ServerHello was lost), or carried only PINGs and 0.5-RTT frames while the response
  // and HANDSHAKE_DONE waited for a loss to be detected through acknowledgments that were lost too.
  it('node: seeds that once stalled under 46% bursty loss complete', () => {
    for (const seed of [8, 20, 22, 174, 183, 329]) {
      const s = new Scenario({ seed, kind: 'node', link: { latency: 10, loss: 0.3, maxBurst: 3 }, keepEvents: false });
      const app = s.connect([1000]);
      s.sim.runUntil(() => app.complete || app.closed !== null, { maxTime: 120_000 });
      assert.deepEqual(app.errors, []);
      assert.ok(app.complete, `seed ${seed}: ${JSON.stringify(app.closed, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
    }
  });
});

describe('sim: handshakecorruption', () => {
  // Interop "handshakecorruption": 30% of the datagrams have bytes flipped. RFC 9001 section 5.5: a packet
  // that fails authentication is discarded (never an error); RFC 9000 section 12.2: a coalesced packet
  // that does not parse ends the datagram's processing, the packets before it still count. Corruption is
  // just loss to the recovery layer; 50 connections complete.
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: 50 connections through 30% corruption all complete and answer a request`, () => {
      const seed = kind === 'node' ? 13 : 14;
      const link: LinkSettings = { latency: 10, corruption: 0.3, corruptBytes: 3 };
      const s = manyHandshakes(kind, seed, link, link, 50);
      const c2s = s.sim.link('client', 'server').counters;
      assert.ok(c2s.corrupted > 0);
    });
  }
});

describe('sim: transferloss and transfercorruption', () => {
  // Interop "transferloss" / "transfercorruption": 2% of the datagrams dropped / corrupted during a transfer.
  // RFC 9002 section 6.1: losses are detected by packet and time thresholds and the lost STREAM data is sent
  // again (RFC 9000 section 13.3) until acknowledged; the receiver reassembles it in order, byte-exact.
  const cases: [string, ProviderKind, number[], LinkSettings & { readonly seedLabel: string }][] = [
    ['loss', 'node', [3 * MiB, 1 * MiB], { latency: 10, bandwidth: 50e6, seedLabel: 'loss' }],
    ['loss', 'noble', [512 * KiB, 256 * KiB], { latency: 10, bandwidth: 50e6, seedLabel: 'loss' }],
    [
      'corruption',
      'node',
      [3 * MiB, 1 * MiB],
      { latency: 10, bandwidth: 50e6, corruption: 0.02, corruptBytes: 2, seedLabel: 'corruption' },
    ],
    ['corruption', 'noble', [512 * KiB, 256 * KiB], { latency: 10, bandwidth: 50e6, corruption: 0.02, seedLabel: 'corruption' }],
  ];
  for (const [what, kind, sizes, settings] of cases) {
    const total = sizes.reduce((a, b) => a + b, 0);
    it(`${kind}: ${(total / MiB).toFixed(2)} MB on two streams through 2% ${what}, byte-exact`, () => {
      const seed = 20 + cases.findIndex((c) => c[1] === kind && c[0] === what);
      const { seedLabel, ...base } = settings;
      const link = (dir: string): LinkSettings =>
        what === 'loss' ? { ...base, filter: dropRate(0.02, 1000, seed, `${seedLabel}:${dir}`) } : base;
      const s = new Scenario({ seed, kind, link: link('c2s'), reverse: link('s2c'), keepEvents: false });
      const app = s.connect(sizes);
      const { ms } = timed(() => s.sim.runUntil(() => app.complete || app.errors.length > 0 || app.closed !== null, { maxTime: 120_000 }));
      assert.deepEqual(clientErrors(s), []);
      assert.ok(app.complete);
      assert.equal(app.bytesReceived, total);
      const server = s.serverList[0]!.conn.stats;
      const s2c = s.sim.link('server', 'client').counters;
      const damaged = what === 'loss' ? s2c.dropped.filtered : s2c.corrupted;
      assert.ok(damaged > 0 && server.packetsLost > 0, 'the link did damage and the sender saw losses');
      console.log(
        `transfer${what} ${kind} ${(total / MiB).toFixed(2)} MB: ${s.sim.now.toFixed(0)} ms virtual, ${ms.toFixed(0)} ms wall; ` +
          `${damaged} of ${s2c.sent} server datagrams ${what === 'loss' ? 'dropped' : 'corrupted'}, ${server.packetsLost} packets declared lost`,
      );
    });
  }
});

describe('sim: blackhole', () => {
  // Interop "blackhole": the link drops everything, both ways, for 2 s at a time during a transfer. RFC 9002
  // section 6.2: PTOs back off exponentially while nothing comes back, section 7.6: persistent congestion
  // collapses the window; when the link returns a probe gets through and the transfer resumes and completes.
  const cases: [ProviderKind, number, [number, number][]][] = [
    [
      'node',
      10 * MiB,
      [
        [1_000, 3_000],
        [5_000, 7_000],
      ],
    ],
    ['noble', 1 * MiB, [[300, 2_300]]],
  ];
  for (const [kind, size, holes] of cases) {
    it(`${kind}: ${size / MiB} MB with ${holes.length} two-second outage(s) completes byte-exact`, () => {
      const link: LinkSettings = { latency: 15, bandwidth: 10e6, queueBytes: 64 * KiB, blackholes: holes };
      const s = new Scenario({ seed: 30, kind, link, keepEvents: false });
      const app = s.connect([size]);
      const { ms } = timed(() => s.sim.runUntil(() => app.complete || app.errors.length > 0 || app.closed !== null, { maxTime: 120_000 }));
      assert.deepEqual(clientErrors(s), []);
      assert.ok(app.complete);
      assert.equal(app.bytesReceived, size);
      const s2c = s.sim.link('server', 'client').counters;
      assert.ok(s2c.dropped.blackhole > 0, 'the outages dropped datagrams');
      // Completes after the last outage ends (it is not all in the first second).
      assert.ok(app.downloads[0]!.doneAt! > holes[holes.length - 1]![1]);
      console.log(
        `blackhole ${kind} ${size / MiB} MB: ${s.sim.now.toFixed(0)} ms virtual, ${ms.toFixed(0)} ms wall; ` +
          `${s2c.dropped.blackhole} datagrams into the hole`,
      );
    });
  }
});
