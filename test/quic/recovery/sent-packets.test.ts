import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../../../src/combinators/errors.js';
import { SentPackets, type SentPacket } from '../../../src/quic/recovery/sent-packets.js';

function pkt(pn: number, timeSent = pn, opts: { size?: number; ackEliciting?: boolean; inFlight?: boolean } = {}): SentPacket<string> {
  return {
    pn,
    timeSent,
    size: opts.size ?? 100,
    ackEliciting: opts.ackEliciting ?? true,
    inFlight: opts.inFlight ?? true,
    frames: `f${pn}`,
  };
}

describe('SentPackets', () => {
  it('adds, finds, removes ranges in ascending order and keeps the counters', () => {
    const s = new SentPackets<string>();
    for (let pn = 0; pn < 10; pn++) s.add(pkt(pn, pn, { ackEliciting: pn % 2 === 0, inFlight: pn !== 9 }));
    assert.equal(s.size, 10);
    assert.equal(s.largestSent, 9);
    assert.equal(s.bytesInFlight, 900);
    assert.equal(s.ackElicitingInFlight, 5);
    assert.equal(s.timeOfLastAckEliciting, 8);
    assert.equal(s.get(4)?.frames, 'f4');
    const out: SentPacket<string>[] = [];
    assert.equal(s.removeRange(3, 5, out), false);
    assert.deepEqual(
      out.map((p) => p.pn),
      [3, 4, 5],
    );
    assert.equal(s.get(4), undefined);
    assert.equal(s.size, 7);
    assert.equal(s.bytesInFlight, 600);
    assert.equal(s.ackElicitingInFlight, 4);
    // Removing again finds nothing.
    const again: SentPacket<string>[] = [];
    s.removeRange(0, 9, again);
    assert.deepEqual(
      again.map((p) => p.pn),
      [0, 1, 2, 6, 7, 8, 9],
    );
    assert.equal(s.size, 0);
    assert.equal(s.bytesInFlight, 0);
    assert.equal(s.first(), undefined);
  });

  it('removeFirst reports whether an acknowledged packet lies between it and the next one', () => {
    const s = new SentPackets<string>();
    for (let pn = 0; pn < 6; pn++) s.add(pkt(pn));
    s.removeRange(2, 2, []);
    assert.equal(s.removeFirst()?.pn, 0);
    assert.equal(s.crossedAckedSlot, false);
    assert.equal(s.removeFirst()?.pn, 1);
    assert.equal(s.crossedAckedSlot, true); // packet 2 was acknowledged
    assert.equal(s.first()?.pn, 3);
  });

  it('packet numbers skipped while packets are in flight are reported when acknowledged', () => {
    const s = new SentPackets<string>();
    s.add(pkt(0));
    s.add(pkt(3)); // 1 and 2 skipped
    const out: SentPacket<string>[] = [];
    assert.equal(s.removeRange(3, 3, out), false);
    assert.equal(s.removeRange(1, 1, out), true);
    assert.deepEqual(
      out.map((p) => p.pn),
      [3],
    );
    // Removing 0 crosses the skipped 1 and 2 and the acknowledged 3.
    assert.equal(s.removeFirst()?.pn, 0);
    assert.equal(s.crossedAckedSlot, true);
    assert.equal(s.size, 0);
  });

  it('rejects packet numbers that do not increase and clocks that go backwards', () => {
    const s = new SentPackets<string>();
    s.add(pkt(5, 10));
    assert.throws(
      () => s.add(pkt(5, 11)),
      (e: unknown) => e instanceof UsageError && e.code === 'ERR_USAGE',
    );
    assert.throws(
      () => s.add(pkt(6, 9)),
      (e: unknown) => e instanceof UsageError && e.code === 'ERR_USAGE',
    );
    assert.throws(
      () => s.add(pkt(5 + (1 << 25), 20)),
      (e: unknown) => e instanceof UsageError,
    );
  });

  it('clear() returns every packet held and keeps the packet number sequence', () => {
    const s = new SentPackets<string>();
    for (let pn = 0; pn < 5; pn++) s.add(pkt(pn));
    s.removeRange(1, 1, []);
    assert.deepEqual(
      s.clear().map((p) => p.pn),
      [0, 2, 3, 4],
    );
    assert.equal(s.size, 0);
    assert.equal(s.bytesInFlight, 0);
    assert.throws(() => s.add(pkt(4, 100)), UsageError);
    s.add(pkt(5, 100));
    assert.equal(s.first()?.pn, 5);
  });

  it('grows past its initial capacity and stays consistent (10k packets)', () => {
    const s = new SentPackets<string>();
    for (let pn = 0; pn < 10_000; pn++) s.add(pkt(pn));
    assert.equal(s.size, 10_000);
    assert.equal(s.get(9_999)?.pn, 9_999);
    assert.equal(s.get(0)?.pn, 0);
    assert.deepEqual([...s].map((p) => p.pn).slice(0, 3), [0, 1, 2]);
  });

  it('property: matches a Map model under random adds, range removals and front removals', () => {
    type Op = { kind: 'add'; gap: number; size: number } | { kind: 'ack'; lo: number; len: number } | { kind: 'pop' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), gap: fc.nat({ max: 3 }), size: fc.integer({ min: 1, max: 1500 }) }),
      fc.record({ kind: fc.constant('ack' as const), lo: fc.nat({ max: 300 }), len: fc.nat({ max: 40 }) }),
      fc.record({ kind: fc.constant('pop' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const s = new SentPackets<string>();
        const model = new Map<number, SentPacket<string>>();
        const skipped = new Set<number>();
        let next = 0;
        let t = 0;
        for (const o of ops) {
          if (o.kind === 'add') {
            if (model.size > 0) for (let k = 0; k < o.gap; k++) skipped.add(next + k);
            next += o.gap;
            const p = pkt(next, t++, { size: o.size });
            s.add(p);
            model.set(next, p);
            next++;
          } else if (o.kind === 'ack') {
            const out: SentPacket<string>[] = [];
            const hit = s.removeRange(o.lo, o.lo + o.len, out);
            const expected = [...model.keys()].filter((pn) => pn >= o.lo && pn <= o.lo + o.len).sort((a, b) => a - b);
            assert.deepEqual(
              out.map((p) => p.pn),
              expected,
            );
            for (const pn of expected) model.delete(pn);
            // Skipped numbers are only known inside the window of packets still held (from the oldest on).
            if (hit) assert.ok([...skipped].some((pn) => pn >= o.lo && pn <= o.lo + o.len));
          } else {
            const oldest = [...model.keys()].sort((a, b) => a - b)[0];
            assert.equal(s.removeFirst()?.pn, oldest);
            if (oldest !== undefined) model.delete(oldest);
          }
          assert.equal(s.size, model.size);
          assert.equal(
            s.bytesInFlight,
            [...model.values()].reduce((a, p) => a + p.size, 0),
          );
          assert.equal(s.ackElicitingInFlight, model.size);
          assert.equal(s.first()?.pn, [...model.keys()].sort((a, b) => a - b)[0]);
        }
      }),
    );
  });
});
