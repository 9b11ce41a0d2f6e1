import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Assembler, GATHER_BELOW } from '../../../src/quic/streams/assembler.js';

/** The stream's byte at `offset` (an independent pattern, so any misplaced byte shows). */
const byteAt = (offset: number): number => (offset * 31 + 7) & 0xff;

/** `len` stream bytes at `offset`, inside a datagram-like buffer with `pad` bytes around them. */
function piece(offset: number, len: number, pad = 0): Uint8Array {
  const dgram = new Uint8Array(len + 2 * pad).fill(0xee);
  for (let i = 0; i < len; i++) dgram[pad + i] = byteAt(offset + i);
  return dgram.subarray(pad, pad + len);
}

const op = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), offset: fc.nat(400), len: fc.nat(80), pad: fc.nat(200) }),
  fc.record({ kind: fc.constant('read' as const), max: fc.integer({ min: 1, max: 120 }) }),
);

describe('Assembler (RFC 9000 2.2: any order, overlap and duplication)', () => {
  it('delivers exactly the stream bytes, in order, whatever the arrival pattern', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.boolean(), (ops, retainViews) => {
        const a = new Assembler(retainViews);
        const got: number[] = [];
        const have = new Set<number>();
        for (const o of ops) {
          if (o.kind === 'insert') {
            const before = a.buffered;
            const added = a.insert(o.offset, piece(o.offset, o.len, o.pad));
            let fresh = 0;
            for (let i = o.offset; i < o.offset + o.len; i++) {
              if (i >= a.readOffset && !have.has(i)) fresh++;
              if (i >= got.length) have.add(i);
            }
            assert.equal(added, fresh);
            assert.equal(a.buffered, before + fresh);
          } else {
            const out = a.read(o.max);
            assert.ok(out.length <= o.max);
            for (const b of out) got.push(b);
          }
          // Held bytes: exactly the distinct offsets received at or above readOffset.
          let held = 0;
          for (const i of have) if (i >= got.length) held++;
          assert.equal(a.buffered, held);
          assert.equal(a.readOffset, got.length);
          let contiguous = 0;
          while (have.has(got.length + contiguous)) contiguous++;
          assert.equal(a.contiguous, contiguous);
        }
        for (let i = 0; i < got.length; i++) assert.equal(got[i], byteAt(i), `byte ${i}`);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the first copy of repeated data (2.2: data at an offset does not change)', () => {
    const a = new Assembler();
    a.insert(0, Uint8Array.of(1, 2, 3, 4));
    a.insert(2, Uint8Array.of(9, 9, 5, 6));
    assert.deepEqual([...a.read(100)], [1, 2, 3, 4, 5, 6]);
  });

  it('fills only the gaps between held segments', () => {
    const a = new Assembler();
    a.insert(2, piece(2, 2));
    a.insert(6, piece(6, 2));
    assert.equal(a.segmentCount, 2);
    assert.equal(a.insert(0, piece(0, 10)), 6);
    assert.equal(a.segmentCount, 5);
    assert.equal(a.buffered, 10);
    assert.deepEqual([...a.read(10)], [...piece(0, 10)]);
  });

  it('keeps a view of a piece that fills most of its buffer, copies a small piece of a big buffer', () => {
    const a = new Assembler();
    const big = piece(0, 1100, 50);
    a.insert(0, big);
    const small = piece(1100, 10, 600);
    a.insert(1100, small);
    // Overwrite both sources: the view shows the change, the copy does not.
    big.fill(0);
    small.fill(0);
    const first = a.read(1100);
    assert.equal(first.buffer, big.buffer, 'zero-copy view of the large piece');
    assert.ok(first.every((b) => b === 0));
    const second = a.read(10);
    assert.notEqual(second.buffer, small.buffer);
    assert.deepEqual([...second], [...piece(1100, 10)]);
  });

  it('copies every piece when retainViews is false', () => {
    const a = new Assembler(false);
    const data = piece(0, 100);
    a.insert(0, data);
    data.fill(0);
    assert.deepEqual([...a.read(100)], [...piece(0, 100)]);
  });

  it('returns a view within one piece and gathers across pieces only when asked for more', () => {
    const a = new Assembler();
    const p1 = piece(0, 100);
    const p2 = piece(100, 100);
    a.insert(0, p1);
    a.insert(100, p2);
    const r1 = a.read(50);
    assert.equal(r1.buffer, p1.buffer);
    const r2 = a.read(100);
    assert.notEqual(r2.buffer, p1.buffer);
    assert.deepEqual([...r2], [...piece(50, 100)]);
    assert.equal(a.read(100).buffer, p2.buffer);
  });

  it('hands out big pieces one at a time as views, even when asked for more', () => {
    const a = new Assembler();
    const p1 = piece(0, GATHER_BELOW);
    const p2 = piece(GATHER_BELOW, 1000);
    a.insert(0, p1);
    a.insert(GATHER_BELOW, p2);
    const r1 = a.read(Infinity);
    assert.equal(r1.buffer, p1.buffer);
    assert.equal(r1.length, GATHER_BELOW);
    assert.equal(a.read(Infinity).buffer, p2.buffer);
  });

  it('discard drops everything and ignores data below the new read offset', () => {
    const a = new Assembler();
    a.insert(0, piece(0, 10));
    a.insert(20, piece(20, 10));
    a.discard(25);
    assert.equal(a.buffered, 0);
    assert.equal(a.readOffset, 25);
    assert.equal(a.insert(0, piece(0, 25)), 0);
    assert.equal(a.insert(20, piece(20, 10)), 5);
    assert.deepEqual([...a.read(10)], [...piece(25, 5)]);
  });

  it('coalesce merges touching pieces into one per run and changes no byte', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(300), fc.integer({ min: 1, max: 40 })), { maxLength: 40 }), fc.nat(100), (pieces, readFirst) => {
        const a = new Assembler();
        const have = new Set<number>();
        for (const [off, len] of pieces) {
          a.insert(off, piece(off, len));
          for (let i = off; i < off + len; i++) have.add(i);
        }
        const first = a.read(readFirst);
        const held = a.buffered;
        a.coalesce();
        assert.equal(a.buffered, held);
        // One segment per maximal run of received offsets at or above readOffset.
        let runs = 0;
        for (const i of have) if (i >= a.readOffset && !have.has(i - 1)) runs++;
        if (have.has(a.readOffset) && have.has(a.readOffset - 1)) runs++;
        assert.equal(a.segmentCount, runs);
        const rest = a.read(1000);
        const got = [...first, ...rest];
        assert.deepEqual(got, [...piece(0, got.length)]);
      }),
      { numRuns: 200 },
    );
  });
});
