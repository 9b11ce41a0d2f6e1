import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AckTracker, type AckTrackerOptions } from '../../../src/quic/connection/ack-tracker.js';
import { decodeFrames, encodeFrame, frameSize, type AckFrame, type AckRange } from '../../../src/quic/frame.js';
import { decodeAckDelay } from '../../../src/quic/recovery/rtt.js';
import { Writer } from '../../../src/combinators/writer.js';

function tracker(options: Partial<AckTrackerOptions> = {}): AckTracker {
  return new AckTracker({ space: 'application', maxAckDelay: 25, ackDelayExponent: 3, ...options });
}

/** The model: maximal runs of a set of packet numbers, descending, as inclusive [smallest, largest]. */
function rangesOf(pns: Iterable<number>): AckRange[] {
  const sorted = [...new Set(pns)].sort((a, b) => b - a);
  const out: [number, number][] = [];
  for (const pn of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last[0] === pn + 1) last[0] = pn;
    else out.push([pn, pn]);
  }
  return out;
}

function ack(t: AckTracker, now = 0): AckFrame {
  const a = t.buildAck(now);
  assert.ok(a !== null, 'an ACK frame');
  return a;
}

describe('AckTracker: ranges', () => {
  it('returns null before anything is received', () => {
    const t = tracker();
    assert.equal(t.buildAck(0), null);
    assert.equal(t.largestReceived, null);
    assert.equal(t.hasNewAck, false);
    assert.equal(t.deadline, null);
  });

  it('acknowledges in-order packets in one range', () => {
    const t = tracker();
    for (let pn = 0; pn < 5; pn++) t.onPacketReceived(pn, true, 0);
    assert.deepEqual(ack(t).ranges, [[0, 4]]);
    assert.equal(t.largestReceived, 4);
  });

  it('describes gaps and reordering with descending ranges', () => {
    const t = tracker();
    for (const pn of [0, 1, 5, 3, 9, 8]) t.onPacketReceived(pn, true, 0);
    assert.deepEqual(ack(t).ranges, [
      [8, 9],
      [5, 5],
      [3, 3],
      [0, 1],
    ]);
    t.onPacketReceived(4, true, 0);
    t.onPacketReceived(2, true, 0);
    assert.deepEqual(ack(t).ranges, [
      [8, 9],
      [0, 5],
    ]);
  });

  it('detects duplicates and ignores them', () => {
    const t = tracker();
    t.onPacketReceived(3, true, 0, 'ect0');
    assert.equal(t.isDuplicate(3), true);
    assert.equal(t.isDuplicate(2), false);
    assert.equal(t.isDuplicate(4), false);
    // A duplicate fed anyway changes neither ranges nor ECN counts (RFC 9000 section 13.4.1).
    t.onPacketReceived(3, true, 0, 'ect0');
    const a = ack(t);
    assert.deepEqual(a.ranges, [[3, 3]]);
    assert.deepEqual(a.ecn, { ect0: 1, ect1: 0, ce: 0 });
  });

  it('encodes to a frame the decoder reads back', () => {
    const t = tracker();
    for (const pn of [0, 2, 3, 7, 100, 64]) t.onPacketReceived(pn, true, 0);
    const a = ack(t, 10);
    const w = new Writer();
    encodeFrame(w, a);
    const bytes = w.finish();
    assert.equal(bytes.length, frameSize(a));
    assert.deepEqual(decodeFrames(bytes, '1rtt'), [a]);
  });
});

describe('AckTracker: when to ACK (RFC 9000 13.2.1, 13.2.2)', () => {
  it('delays one in-order ack-eliciting packet until max_ack_delay', () => {
    const t = tracker({ maxAckDelay: 25 });
    t.onPacketReceived(0, true, 100);
    assert.equal(t.ackDue(100), false);
    assert.equal(t.deadline, 125);
    assert.equal(t.ackDue(124.9), false);
    assert.equal(t.ackDue(125), true);
    assert.equal(t.hasNewAck, true);
  });

  it('acknowledges at once after the threshold of ack-eliciting packets', () => {
    const t = tracker();
    t.onPacketReceived(0, true, 100);
    t.onPacketReceived(1, true, 101);
    assert.equal(t.ackDue(101), true);
    const t3 = tracker({ ackElicitingThreshold: 3 });
    t3.onPacketReceived(0, true, 100);
    t3.onPacketReceived(1, true, 101);
    assert.equal(t3.ackDue(101), false);
    t3.onPacketReceived(2, true, 102);
    assert.equal(t3.ackDue(102), true);
  });

  it('never makes an ACK due for non-ack-eliciting packets alone, even with gaps', () => {
    const t = tracker();
    for (const pn of [0, 5, 2, 9]) t.onPacketReceived(pn, false, 100);
    assert.equal(t.ackDue(1e9), false);
    assert.equal(t.deadline, null);
    // ... but they can be piggybacked.
    assert.equal(t.hasNewAck, true);
    assert.deepEqual(ack(t).ranges, rangesOf([0, 5, 2, 9]));
  });

  it('acknowledges at once an ack-eliciting packet below the largest ack-eliciting one', () => {
    const t = tracker();
    t.onPacketReceived(1, true, 0);
    t.onPacketReceived(2, true, 0);
    t.onAckSent(0, ack(t));
    t.onPacketReceived(0, true, 10);
    assert.equal(t.ackDue(10), true);
  });

  it('acknowledges at once an ack-eliciting packet after a gap', () => {
    const t = tracker();
    t.onPacketReceived(0, true, 0);
    t.onPacketReceived(1, true, 0);
    t.onAckSent(0, ack(t));
    t.onPacketReceived(3, true, 10);
    assert.equal(t.ackDue(10), true);
    // The next in-order packet after that is not out of order again.
    t.onAckSent(1, ack(t));
    t.onPacketReceived(4, true, 20);
    assert.equal(t.ackDue(20), false);
  });

  it('does not count a gap filled by non-ack-eliciting packets', () => {
    const t = tracker();
    t.onPacketReceived(0, true, 0);
    t.onAckSent(0, ack(t));
    t.onPacketReceived(1, false, 5);
    t.onPacketReceived(2, true, 10);
    assert.equal(t.ackDue(10), false);
  });

  it('acknowledges a gap before the very first packet at once', () => {
    const t = tracker();
    t.onPacketReceived(2, true, 0);
    assert.equal(t.ackDue(0), true);
  });

  it('acknowledges CE-marked ack-eliciting packets at once, not CE-marked non-eliciting ones', () => {
    const t = tracker();
    t.onPacketReceived(0, false, 0, 'ce');
    assert.equal(t.ackDue(0), false);
    t.onPacketReceived(1, true, 0, 'ce');
    assert.equal(t.ackDue(0), true);
  });

  for (const space of ['initial', 'handshake'] as const) {
    it(`acknowledges every ack-eliciting ${space} packet at once`, () => {
      const t = tracker({ space, maxAckDelay: 25 });
      t.onPacketReceived(0, false, 50);
      assert.equal(t.ackDue(50), false);
      t.onPacketReceived(1, true, 50);
      assert.equal(t.ackDue(50), true);
      assert.equal(t.deadline, 50);
    });
  }

  it('starts over after an ACK is sent', () => {
    const t = tracker({ maxAckDelay: 25 });
    t.onPacketReceived(0, true, 0);
    t.onPacketReceived(1, true, 1);
    assert.equal(t.ackDue(1), true);
    t.onAckSent(7, ack(t, 1));
    assert.equal(t.ackDue(1000), false);
    assert.equal(t.hasNewAck, false);
    assert.equal(t.deadline, null);
    t.onPacketReceived(2, true, 40);
    assert.equal(t.deadline, 65);
    // The timer runs from the first unacknowledged ack-eliciting packet, not the latest.
    t.onPacketReceived(3, false, 50);
    assert.equal(t.deadline, 65);
  });
});

describe('AckTracker: ACK Delay and ECN', () => {
  it('encodes now - receive time of the largest in microseconds >> exponent', () => {
    for (const exponent of [0, 3, 10, 20]) {
      const t = tracker({ ackDelayExponent: exponent });
      t.onPacketReceived(5, true, 1000);
      t.onPacketReceived(2, true, 1003); // not the largest: does not move the reference time
      const a = ack(t, 1012.5);
      // 12.5 ms = 12500 us, computed independently.
      assert.equal(a.ackDelay, Math.floor(12500 / Math.pow(2, exponent)));
      assert.ok(Math.abs(decodeAckDelay(a.ackDelay, exponent) - 12.5) <= Math.pow(2, exponent) / 1000);
    }
  });

  it('never encodes a negative delay', () => {
    const t = tracker();
    t.onPacketReceived(0, true, 100);
    assert.equal(ack(t, 50).ackDelay, 0);
  });

  it('reports ECN counts once any mark was seen, cumulatively', () => {
    const t = tracker();
    t.onPacketReceived(0, true, 0, null);
    t.onPacketReceived(1, true, 0, 'not-ect');
    assert.equal(ack(t).ecn, null);
    t.onPacketReceived(2, true, 0, 'ect0');
    t.onPacketReceived(3, true, 0, 'ect0');
    t.onPacketReceived(4, true, 0, 'ect1');
    t.onPacketReceived(5, true, 0, 'ce');
    t.onAckSent(0, ack(t));
    t.onPacketReceived(6, true, 0, 'ect0');
    assert.deepEqual(ack(t).ecn, { ect0: 3, ect1: 1, ce: 1 });
  });
});

describe('AckTracker: memory (RFC 9000 13.2.3, 13.2.4)', () => {
  it('keeps at most maxRanges ranges, dropping the oldest and treating them as duplicates', () => {
    const t = tracker({ maxRanges: 3 });
    for (const pn of [0, 2, 4, 6, 8]) t.onPacketReceived(pn, false, 0);
    assert.deepEqual(ack(t).ranges, [
      [8, 8],
      [6, 6],
      [4, 4],
    ]);
    // Below the floor: duplicates, whether received or not.
    for (const pn of [0, 1, 2, 3]) assert.equal(t.isDuplicate(pn), true, `pn ${pn}`);
    assert.equal(t.isDuplicate(5), false);
    assert.equal(t.smallestTracked, 4);
    // Filling a gap merges ranges: room for a new one.
    t.onPacketReceived(5, false, 0);
    t.onPacketReceived(10, false, 0);
    assert.deepEqual(ack(t).ranges, [
      [10, 10],
      [8, 8],
      [4, 6],
    ]);
  });

  it('stops sending ranges up to the Largest Acknowledged of an ACK the peer acknowledged', () => {
    const t = tracker();
    for (const pn of [0, 1, 3, 4]) t.onPacketReceived(pn, true, 0);
    const first = ack(t);
    t.onAckSent(10, first);
    t.onPacketReceived(6, true, 0);
    t.onPacketReceived(7, true, 0);
    t.onAckSent(11, ack(t));
    t.onPacketReceived(9, true, 0);
    // The peer acknowledged packet 10, which carried ACK [3..4],[0..1].
    t.onAckOfAckReceived(10);
    assert.deepEqual(ack(t).ranges, [
      [9, 9],
      [6, 7],
    ]);
    // Still known, for duplicate detection.
    assert.equal(t.isDuplicate(0), true);
    assert.equal(t.isDuplicate(4), true);
    assert.equal(t.isDuplicate(2), false);
    // An unknown or stale packet number changes nothing.
    t.onAckOfAckReceived(3);
    t.onAckOfAckReceived(10);
    assert.deepEqual(ack(t).ranges, [
      [9, 9],
      [6, 7],
    ]);
  });

  it('still acknowledges the largest after everything was acknowledged', () => {
    const t = tracker();
    t.onPacketReceived(0, true, 0);
    t.onPacketReceived(1, true, 0);
    t.onAckSent(0, ack(t));
    t.onAckOfAckReceived(0);
    assert.deepEqual(ack(t).ranges, [[1, 1]]);
  });

  it('acknowledges a late packet below the pruned ranges', () => {
    const t = tracker();
    for (const pn of [0, 1, 3, 4]) t.onPacketReceived(pn, true, 0);
    t.onAckSent(0, ack(t));
    t.onAckOfAckReceived(0);
    t.onPacketReceived(2, true, 5);
    assert.equal(t.ackDue(5), true);
    const ranges = ack(t).ranges;
    assert.ok(
      ranges.some(([lo, hi]) => lo <= 2 && 2 <= hi),
      JSON.stringify(ranges),
    );
  });
});

describe('AckTracker: properties', () => {
  it('ACK ranges describe exactly the received set, in any order (below the cap)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 120 }),
        fc.array(fc.boolean(), { minLength: 120, maxLength: 120 }),
        (pns, eliciting) => {
          const t = tracker({ maxRanges: 1000 });
          const seen = new Set<number>();
          pns.forEach((pn, i) => {
            assert.equal(t.isDuplicate(pn), false);
            t.onPacketReceived(pn, eliciting[i]!, i);
            seen.add(pn);
            assert.equal(t.isDuplicate(pn), true);
          });
          assert.deepEqual(ack(t, 1000).ranges, rangesOf(seen));
          assert.equal(t.largestReceived, Math.max(...seen));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('with a cap: at most maxRanges ranges, all received, the newest kept, nothing received is accepted twice', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 100 }),
        fc.integer({ min: 1, max: 8 }),
        (pns, maxRanges) => {
          const t = tracker({ maxRanges });
          const accepted = new Set<number>();
          for (const pn of pns) {
            if (t.isDuplicate(pn)) continue;
            t.onPacketReceived(pn, true, 0);
            accepted.add(pn);
          }
          const ranges = ack(t).ranges;
          assert.ok(ranges.length <= maxRanges);
          for (const [lo, hi] of ranges) for (let pn = lo; pn <= hi; pn++) assert.ok(accepted.has(pn), `pn ${pn} acked, not received`);
          // The model's newest ranges, truncated: what the tracker sends is exactly their top.
          assert.deepEqual(ranges, rangesOf(accepted).slice(0, ranges.length));
          // Every accepted packet is a duplicate now.
          for (const pn of accepted) assert.equal(t.isDuplicate(pn), true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
