import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PacketNumberSpace } from '../../../src/quic/packet-io.js';
import { Cubic } from '../../../src/quic/recovery/congestion/cubic.js';
import { NewReno } from '../../../src/quic/recovery/congestion/new-reno.js';
import type { AckInput } from '../../../src/quic/recovery/loss.js';
import { Recovery, type CongestionAlgorithm } from '../../../src/quic/recovery/recovery.js';
import type { SentPacket } from '../../../src/quic/recovery/sent-packets.js';

type P = SentPacket<number>;

function pkt(pn: number, timeSent: number, size = 1200, ackEliciting = true, inFlight = true): P {
  return { pn, timeSent, size, ackEliciting, inFlight, frames: pn };
}

function ack(...ranges: [number, number][]): AckInput {
  return { ranges: [...ranges].sort((a, b) => b[0] - a[0]), ecn: null };
}

/** ACK ranges (descending, maximal runs of consecutive numbers) for a set of packet numbers. */
function rangesOf(pns: Iterable<number>): [number, number][] {
  const sorted = [...new Set(pns)].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const pn of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last[1] === pn - 1) last[1] = pn;
    else out.push([pn, pn]);
  }
  return out.reverse();
}

describe('Recovery: congestion reactions to loss detection (RFC 9002 appendices A and B)', () => {
  it('one reduction per recovery period: later losses of packets sent before it change nothing', () => {
    const rec = new Recovery<number>({ role: 'server', pacing: false });
    rec.onHandshakeConfirmed(0);
    for (let pn = 0; pn < 20; pn++) rec.onPacketSent('application', pkt(pn, pn, 500));
    assert.equal(rec.bytesInFlight, 10_000);
    // ACK of 5..9 at t=100: 0..4 lost (packet threshold); cwnd 12000 -> 6000; acks of packets sent before
    // the recovery start do not grow it.
    let out = rec.onAckReceived('application', ack([5, 9]), 0, 100);
    assert.deepEqual(
      out.lost.map((p) => p.pn),
      [0, 1, 2, 3, 4],
    );
    assert.equal(rec.congestionWindow, 6000);
    out = rec.onAckReceived('application', ack([5, 9], [15, 19]), 0, 110);
    assert.deepEqual(
      out.lost.map((p) => p.pn),
      [10, 11, 12, 13, 14],
    );
    assert.equal(rec.congestionWindow, 6000);
    assert.equal(rec.bytesInFlight, 0);
    // Packets sent after the recovery start (t=100) and lost: a new reduction, 6000 -> 3000.
    for (let pn = 20; pn < 25; pn++) rec.onPacketSent('application', pkt(pn, 100 + pn, 500));
    out = rec.onAckReceived('application', ack([24, 24]), 0, 230);
    assert.deepEqual(
      out.lost.map((p) => p.pn),
      [20, 21],
    );
    assert.equal(rec.congestionWindow, 3000);
  });

  it('ECN-CE increase: one reduction, ignored for packets sent before the recovery start (7.1)', () => {
    const rec = new Recovery<number>({ role: 'server', pacing: false });
    for (let pn = 0; pn < 4; pn++) rec.onPacketSent('application', pkt(pn, pn * 10));
    rec.onAckReceived('application', { ranges: [[0, 1]], ecn: { ect0: 2, ect1: 0, ce: 1 } }, 0, 50);
    assert.equal(rec.congestionWindow, 6000);
    rec.onAckReceived('application', { ranges: [[0, 3]], ecn: { ect0: 2, ect1: 0, ce: 2 } }, 0, 60);
    assert.equal(rec.congestionWindow, 6000);
  });

  for (const algo of ['new-reno', 'cubic'] as const) {
    it(`persistent congestion collapses the ${algo} window to 2 * mds (RFC 9002 section 7.6.3 example)`, () => {
      // Units of 100 ms; see loss.test.ts for why the first sample is 50 ms and max_ack_delay 50 ms.
      // Records the window right after the collapse (the same ACK then acknowledges #9).
      const cc = algo === 'new-reno' ? new NewReno() : new Cubic();
      let afterCollapse: number | null = null;
      const collapse = cc.onPersistentCongestion.bind(cc);
      cc.onPersistentCongestion = (now: number): void => {
        collapse(now);
        afterCollapse = cc.window;
      };
      const rec = new Recovery<number>({ role: 'server', maxAckDelay: 50, congestion: cc, pacing: false });
      rec.onHandshakeConfirmed(0);
      rec.onPacketSent('application', pkt(1, 0));
      rec.onAckReceived('application', ack([1, 1]), 0, 50);
      for (let pn = 2; pn <= 7; pn++) rec.onPacketSent('application', pkt(pn, (pn - 1) * 100));
      assert.equal(rec.onTimeout(800)?.type, 'pto');
      assert.equal(rec.probesPending('application'), 2);
      assert.equal(rec.canSend(1200), true);
      rec.onPacketSent('application', pkt(8, 800));
      assert.equal(rec.probesPending('application'), 1);
      assert.equal(rec.onTimeout(1200)?.type, 'pto');
      rec.onPacketSent('application', pkt(9, 1200));
      const out = rec.onAckReceived('application', ack([9, 9]), 0, 1220);
      assert.equal(out.persistentCongestion, true);
      assert.equal(afterCollapse, 2400);
      // Appendix B order: losses first (persistent congestion also clears the recovery start time), then
      // the acknowledgment of #9, sent after that start, grows the minimum window in slow start.
      assert.equal(rec.congestionWindow, 2400 + 1200);
      assert.equal(rec.congestion.inSlowStart, true);
      assert.equal(rec.bytesInFlight, 0);
    });
  }

  it('discarding the Initial space removes its bytes from the congestion controller too', () => {
    const rec = new Recovery<number>({ role: 'client' });
    rec.onPacketSent('initial', pkt(0, 0));
    rec.onPacketSent('initial', pkt(1, 0, 50, false, false)); // ACK only: not in flight
    rec.onPacketSent('handshake', pkt(0, 1, 700));
    assert.equal(rec.bytesInFlight, 1900);
    const dropped = rec.discardSpace('initial', 5);
    assert.deepEqual(
      dropped.map((p) => p.pn),
      [0, 1],
    );
    assert.equal(rec.bytesInFlight, 700);
    assert.equal(rec.loss.bytesInFlight, 700);
    assert.equal(rec.congestionWindow, 12_000, 'no congestion signal');
  });

  it('pacing: the first burst goes at once, then packets are spaced at 1.25 * cwnd / srtt', () => {
    const rec = new Recovery<number>({ role: 'server' });
    for (let pn = 0; pn < 10; pn++) {
      assert.equal(rec.nextSendTime(0, 1200), 0);
      rec.onPacketSent('application', pkt(pn, 0));
    }
    // kInitialRtt 333 ms, cwnd 12000: 45.045 bytes per ms, 1200 bytes take 1200 / (1.25 * 12000 / 333) ms.
    assert.equal(rec.nextSendTime(0, 1200), 1200 / ((1.25 * 12_000) / 333));
    const unpaced = new Recovery<number>({ role: 'server', pacing: false });
    for (let pn = 0; pn < 20; pn++) unpaced.onPacketSent('application', pkt(pn, 0));
    assert.equal(unpaced.nextSendTime(0, 1200), 0);
  });
});

describe('Recovery: properties', () => {
  type Op =
    | { kind: 'send'; space: 0 | 1; count: number; size: number; flags: number; skip: boolean }
    | { kind: 'tick'; ms: number }
    | { kind: 'ack'; space: 0 | 1; picks: number[]; cumulative: number | null; delay: number }
    | { kind: 'timeout' }
    | { kind: 'discard-handshake' };
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('send' as const),
        space: fc.constantFrom(0 as const, 1 as const),
        count: fc.integer({ min: 1, max: 8 }),
        size: fc.integer({ min: 30, max: 1200 }),
        flags: fc.nat({ max: 7 }),
        skip: fc.boolean(),
      }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 400 }) }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('ack' as const),
        space: fc.constantFrom(0 as const, 1 as const),
        picks: fc.array(fc.nat(), { maxLength: 12 }),
        cumulative: fc.option(fc.nat()),
        delay: fc.integer({ min: 0, max: 50 }),
      }),
    },
    { weight: 2, arbitrary: fc.constant({ kind: 'timeout' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'discard-handshake' as const }) },
  );

  it('random sends and ACK patterns: nothing acked twice, nothing both acked and lost, exact bytes in flight, cwnd >= minimum', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 80 }),
        fc.constantFrom<CongestionAlgorithm>('new-reno', 'cubic'),
        fc.boolean(),
        (ops, algo, confirmed) => {
          const rec = new Recovery<number>({ role: 'client', congestion: algo });
          if (confirmed) rec.onHandshakeConfirmed(0);
          const spaces: PacketNumberSpace[] = ['handshake', 'application'];
          type State = 'out' | 'acked' | 'lost' | 'discarded';
          const status = new Map<string, State>();
          const packets = new Map<string, P>();
          const sentPns: Record<string, number[]> = { handshake: [], application: [] };
          const nextPn: Record<string, number> = { handshake: 0, application: 0 };
          let discarded = false;
          let now = 0;
          const key = (space: PacketNumberSpace, pn: number) => `${space}:${pn}`;
          const settle = (space: PacketNumberSpace, list: readonly P[], to: State) => {
            for (const p of list) {
              const k = key(space, p.pn);
              assert.equal(status.get(k), 'out', `${k} reported ${to} while ${status.get(k)}`);
              status.set(k, to);
            }
          };
          for (const o of ops) {
            if (o.kind === 'tick') now += o.ms;
            else if (o.kind === 'send') {
              const space = spaces[o.space]!;
              if (space === 'handshake' && discarded) continue;
              if (o.skip) nextPn[space]!++;
              for (let i = 0; i < o.count; i++) {
                const pn = nextPn[space]!++;
                const ackEliciting = (o.flags & 1) === 0;
                const p = pkt(pn, now, o.size, ackEliciting, ackEliciting || (o.flags & 2) === 0);
                rec.onPacketSent(space, p);
                status.set(key(space, pn), 'out');
                packets.set(key(space, pn), p);
                sentPns[space]!.push(pn);
              }
            } else if (o.kind === 'ack') {
              const space = spaces[o.space]!;
              const list = sentPns[space]!;
              if (list.length === 0 || (space === 'handshake' && discarded)) continue;
              const chosen = o.picks.map((i) => list[i % list.length]!);
              if (o.cumulative !== null) chosen.push(...list.slice(0, (o.cumulative % list.length) + 1));
              const out = rec.onAckReceived(space, { ranges: rangesOf(chosen), ecn: null }, o.delay, now);
              const ackedSet = new Set(out.acked.map((p) => p.pn));
              for (const p of out.lost) assert.ok(!ackedSet.has(p.pn), `${p.pn} both acked and lost`);
              for (const p of out.acked) assert.ok(chosen.includes(p.pn), `${p.pn} acked but not in the ACK`);
              settle(space, out.acked, 'acked');
              settle(space, out.lost, 'lost');
            } else if (o.kind === 'timeout') {
              const d = rec.deadline;
              if (d === null) continue;
              now = Math.max(now, d);
              const t = rec.onTimeout(now);
              assert.ok(t !== null);
              if (t.type === 'loss') settle(t.space, t.lost, 'lost');
            } else if (!discarded) {
              discarded = true;
              settle('handshake', rec.discardSpace('handshake', now), 'discarded');
            }
            let expected = 0;
            for (const [k, s] of status) if (s === 'out' && packets.get(k)!.inFlight) expected += packets.get(k)!.size;
            assert.equal(rec.bytesInFlight, expected);
            assert.equal(rec.loss.bytesInFlight, expected);
            assert.ok(rec.congestionWindow >= rec.congestion.minimumWindow);
            const d = rec.deadline;
            assert.ok(d === null || Number.isFinite(d));
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('Recovery: 10k packets in flight, linear work', () => {
  const N = 10_000;

  function fill(): Recovery<number> {
    const rec = new Recovery<number>({ role: 'server', pacing: false });
    rec.onHandshakeConfirmed(0);
    for (let pn = 0; pn < N; pn++) rec.onPacketSent('application', pkt(pn, pn / 100));
    return rec;
  }

  it('cumulative ACKs [0, k] every 10 packets visit each slot a bounded number of times', () => {
    const rec = fill();
    let acked = 0;
    for (let k = 9; k < N; k += 10) acked += rec.onAckReceived('application', ack([0, k]), 0, 100 + k / 100).acked.length;
    assert.equal(acked, N);
    const visits = rec.loss.sent('application').slotVisits;
    // Re-scanning [0, k] each time would be ~N^2 / 20 = 5,000,000 visits.
    assert.ok(visits <= 2 * N, `${visits} slot visits`);
  });

  it('ACK frames with many ranges over a lossy stream (every 7th packet lost) stay linear', () => {
    const rec = fill();
    const received: number[] = [];
    let reported = 0;
    let acks = 0;
    for (let pn = 0; pn < N; pn++) {
      if (pn % 7 !== 3) received.push(pn);
      if (pn % 10 === 9) {
        // The receiver reports its last 32 ranges, as a real ACK frame would.
        const out = rec.onAckReceived('application', { ranges: rangesOf(received).slice(0, 32), ecn: null }, 0, 100 + pn / 100);
        reported += out.acked.length + out.lost.length;
        acks++;
      }
    }
    const out = rec.onAckReceived('application', { ranges: rangesOf(received).slice(0, 32), ecn: null }, 0, 1000);
    reported += out.acked.length + out.lost.length;
    const visits = rec.loss.sent('application').slotVisits;
    // The ranges span ~224 slots per ACK: without clamping to the oldest packet held this would be ~220,000.
    assert.ok(visits <= 3 * N + 10 * acks, `${visits} slot visits for ${acks} ACKs`);
    assert.equal(rec.loss.sent('application').size + reported, N);
  });

  it('one ACK of the last packet declares the rest lost in one pass', () => {
    const rec = fill();
    const out = rec.onAckReceived('application', ack([N - 1, N - 1]), 0, 500);
    assert.equal(out.acked.length, 1);
    assert.equal(out.lost.length + rec.loss.sent('application').size, N - 1);
    assert.ok(rec.loss.sent('application').slotVisits <= N + 10);
  });
});
