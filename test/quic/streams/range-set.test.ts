import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RangeSet } from '../../../src/quic/streams/range-set.js';

const SPAN = 64;

/** The model: one boolean per offset. */
function ranges(bits: readonly boolean[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < bits.length; i++) {
    if (!bits[i]) continue;
    const s = i;
    while (i < bits.length && bits[i]) i++;
    out.push([s, i]);
  }
  return out;
}

const op = fc.tuple(fc.constantFrom('add', 'remove', 'removeBelow'), fc.nat(SPAN), fc.nat(SPAN));

describe('RangeSet', () => {
  it('matches a per-offset model under any add/remove sequence, merging adjacent ranges', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const set = new RangeSet();
        const bits: boolean[] = new Array<boolean>(SPAN + 1).fill(false);
        for (const [kind, a, b] of ops) {
          const s = Math.min(a, b);
          const e = Math.max(a, b);
          if (kind === 'add') {
            set.add(s, e);
            for (let i = s; i < e; i++) bits[i] = true;
          } else if (kind === 'remove') {
            set.remove(s, e);
            for (let i = s; i < e; i++) bits[i] = false;
          } else {
            set.removeBelow(a);
            for (let i = 0; i < a; i++) bits[i] = false;
          }
          assert.deepEqual(set.toArray(), ranges(bits));
        }
        assert.equal(set.size, bits.filter(Boolean).length);
        assert.equal(set.isEmpty, !bits.some(Boolean));
        for (let i = 0; i <= SPAN; i++) assert.equal(set.has(i), bits[i], `has(${i})`);
      }),
      { numRuns: 300 },
    );
  });

  it('forEachGap visits exactly the offsets of [start, end) not in the set, as maximal runs', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(SPAN), fc.nat(SPAN)), { maxLength: 10 }), fc.nat(SPAN), fc.nat(SPAN), (adds, a, b) => {
        const set = new RangeSet();
        const bits: boolean[] = new Array<boolean>(SPAN + 1).fill(false);
        for (const [x, y] of adds) {
          set.add(Math.min(x, y), Math.max(x, y));
          for (let i = Math.min(x, y); i < Math.max(x, y); i++) bits[i] = true;
        }
        const s = Math.min(a, b);
        const e = Math.max(a, b);
        const gaps: [number, number][] = [];
        set.forEachGap(s, e, (gs, ge) => gaps.push([gs, ge]));
        const expected = ranges(bits.map((v, i) => i >= s && i < e && !v));
        assert.deepEqual(gaps, expected);
      }),
      { numRuns: 300 },
    );
  });
});
