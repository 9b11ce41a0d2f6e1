import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodePrefixedInt,
  INT_INCOMPLETE,
  INT_OVERFLOW,
  MAX_PREFIXED_INT_SIZE,
  prefixedIntSize,
  writePrefixedInt,
  type ByteCursor,
} from '../../../src/http3/qpack/prefixed-int.js';
import { hex } from '../../support/bytes.js';

function encode(flags: number, prefixBits: number, value: number): Uint8Array {
  const buf = new Uint8Array(MAX_PREFIXED_INT_SIZE);
  return buf.slice(0, writePrefixedInt(buf, 0, flags, prefixBits, value));
}

function decode(bytes: Uint8Array, prefixBits: number): { value: number; pos: number } {
  const cur: ByteCursor = { buf: bytes, pos: 0, end: bytes.length };
  const value = decodePrefixedInt(cur, prefixBits);
  return { value, pos: cur.pos };
}

/** RFC 7541 section 5.1 pseudocode, with bigint: the independent reference encoder. */
function referenceEncode(prefixBits: number, value: bigint): Uint8Array {
  const max = (1n << BigInt(prefixBits)) - 1n;
  if (value < max) return Uint8Array.of(Number(value));
  const out = [Number(max)];
  let i = value - max;
  while (i >= 128n) {
    out.push(Number((i % 128n) + 128n));
    i /= 128n;
  }
  out.push(Number(i));
  return Uint8Array.from(out);
}

describe('prefixed integers (RFC 7541 section 5.1)', () => {
  it('C.1.1: 10 with a 5-bit prefix is 0a', () => {
    assert.deepEqual(encode(0, 5, 10), hex('0a'));
    assert.deepEqual(decode(hex('0a'), 5), { value: 10, pos: 1 });
  });

  it('C.1.2: 1337 with a 5-bit prefix is 1f 9a 0a', () => {
    assert.deepEqual(encode(0, 5, 1337), hex('1f9a0a'));
    assert.deepEqual(decode(hex('1f9a0a'), 5), { value: 1337, pos: 3 });
  });

  it('C.1.3: 42 at an octet boundary (8-bit prefix) is 2a', () => {
    assert.deepEqual(encode(0, 8, 42), hex('2a'));
    assert.deepEqual(decode(hex('2a'), 8), { value: 42, pos: 1 });
  });

  it('keeps the flag bits and ignores them when decoding', () => {
    assert.deepEqual(encode(0xe0, 5, 10), hex('ea'));
    assert.deepEqual(encode(0xe0, 5, 1337), hex('ff9a0a'));
    assert.deepEqual(decode(hex('ff9a0a'), 5), { value: 1337, pos: 3 });
  });

  it('agrees with the RFC pseudocode on every prefix size and boundary value', () => {
    for (let n = 1; n <= 8; n++) {
      const max = (1 << n) - 1;
      const values = [
        0,
        1,
        max - 1,
        max,
        max + 1,
        max + 127,
        max + 128,
        max + 16383,
        max + 16384,
        2 ** 31,
        2 ** 32 + 5,
        Number.MAX_SAFE_INTEGER,
      ];
      for (const v of values) {
        if (v < 0) continue;
        const ref = referenceEncode(n, BigInt(v));
        assert.deepEqual(encode(0, n, v), ref, `encode ${v} /${n}`);
        assert.equal(prefixedIntSize(v, n), ref.length, `size ${v} /${n}`);
        assert.deepEqual(decode(ref, n), { value: v, pos: ref.length }, `decode ${v} /${n}`);
      }
    }
  });

  it('round-trips every safe integer (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.maxSafeNat(), fc.integer({ min: 0, max: 255 }), (n, v, flags) => {
        const f = flags & ~((1 << n) - 1) & 0xff;
        const bytes = encode(f, n, v);
        assert.deepEqual(
          bytes,
          (() => {
            const r = referenceEncode(n, BigInt(v));
            r[0]! |= f;
            return r;
          })(),
        );
        assert.deepEqual(decode(bytes, n), { value: v, pos: bytes.length });
      }),
    );
  });

  it('reports INCOMPLETE on every strict prefix, without moving', () => {
    const bytes = referenceEncode(5, 2n ** 40n + 12345n);
    for (let k = 0; k < bytes.length; k++) assert.deepEqual(decode(bytes.subarray(0, k), 5), { value: INT_INCOMPLETE, pos: 0 });
  });

  it('limit: 2^53 - 1 decodes, 2^53 and 62-bit values overflow, more than 8 continuation bytes overflow', () => {
    assert.equal(decode(referenceEncode(5, 2n ** 53n - 1n), 5).value, Number.MAX_SAFE_INTEGER);
    assert.equal(decode(referenceEncode(5, 2n ** 53n), 5).value, INT_OVERFLOW);
    assert.equal(decode(referenceEncode(8, 2n ** 62n - 1n), 8).value, INT_OVERFLOW);
    // Padded zero groups are accepted up to 8 continuation bytes ...
    assert.deepEqual(decode(hex('1f 81 80 80 80 80 80 80 00'), 5), { value: 32, pos: 9 });
    // ... and a 9th is refused, even before it arrives (the limit is known after the 8th).
    assert.equal(decode(hex('1f 80 80 80 80 80 80 80 80 00'), 5).value, INT_OVERFLOW);
    assert.equal(decode(hex('1f 80 80 80 80 80 80 80 80'), 5).value, INT_OVERFLOW);
    assert.equal(decode(hex('1f ff ff ff ff ff ff ff 7f'), 5).value, INT_OVERFLOW);
  });
});
