import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  EncodeError,
  UsageError,
  VARINT_MAX,
  Writer,
  lengthPrefixed,
  parse,
  rest,
  tuple,
  varint,
  varintBig,
  varintSize,
} from '../../src/combinators/index.js';
import type { LengthPrefix } from '../../src/combinators/index.js';
import { hex } from '../support/bytes.js';
import { bounded } from '../support/splits.js';

const isEncodeError = (code: string) => (e: unknown) => e instanceof EncodeError && e.code === code;
const RANGE = isEncodeError('ERR_ENCODE_RANGE');

describe('Writer buffers', () => {
  it('grows as needed; finish() is a view, toBytes() a copy', () => {
    const w = new Writer({ initialSize: 4 });
    for (let i = 0; i < 1000; i++) w.u8(i & 0xff);
    assert.equal(w.pos, 1000);
    assert.equal(w.remaining, Infinity);
    const view = w.finish();
    const copy = w.toBytes();
    assert.deepStrictEqual(view, copy);
    assert.equal(view[999], 999 & 0xff);
    w.reset();
    w.u8(0xee);
    assert.equal(view[0], 0xee, 'finish() aliases the buffer');
    assert.equal(copy[0], 0, 'toBytes() owns its bytes');
    assert.deepStrictEqual(w.finish(), hex('ee'));
  });

  it('grows from an initial size of 0 (terminates)', () => {
    const w = new Writer({ initialSize: 0 });
    bounded('Writer({ initialSize: 0 })', 2000, () => w.u32be(1).u8(2));
    assert.deepStrictEqual(w.toBytes(), hex('00000001 02'));
  });

  it('writes into a fixed buffer without allocating, and raises ERR_WRITER_OVERFLOW past its end', () => {
    const backing = new Uint8Array(8);
    const w = new Writer({ buffer: backing.subarray(2, 6) });
    assert.equal(w.remaining, 4);
    w.u16be(0x0102).u8(3);
    assert.equal(w.remaining, 1);
    assert.deepStrictEqual(backing, hex('0000 0102 03 00 0000'));
    assert.throws(() => w.u16be(1), isEncodeError('ERR_WRITER_OVERFLOW'));
    w.u8(4);
    assert.throws(() => w.u8(5), isEncodeError('ERR_WRITER_OVERFLOW'));
    // Floats go through a DataView that must honour the view's byteOffset.
    const f = new Writer({ buffer: backing.subarray(4, 8) });
    f.f32be(1);
    assert.deepStrictEqual(backing.subarray(4), hex('3f800000'));
  });

  it('chains, copies bytes and writes zeros', () => {
    const w = new Writer();
    assert.equal(w.bytes(hex('0102')).zeros(3).u8(9), w);
    assert.deepStrictEqual(w.toBytes(), hex('0102 000000 09'));
  });
});

describe('Writer integers and floats', () => {
  it('match Buffer for random values of every type', () => {
    const check = (
      name: string,
      arb: fc.Arbitrary<number>,
      ours: (w: Writer, v: number) => void,
      theirs: (b: Buffer, v: number) => void,
      size: number,
    ): void => {
      fc.assert(
        fc.property(arb, (v) => {
          const w = new Writer();
          ours(w, v);
          const b = Buffer.alloc(size);
          theirs(b, v);
          assert.deepStrictEqual(w.toBytes(), new Uint8Array(b), `${name}(${v})`);
        }),
        { numRuns: 50 },
      );
    };
    const int = (min: number, max: number) => fc.integer({ min, max });
    check(
      'u8',
      int(0, 255),
      (w, v) => w.u8(v),
      (b, v) => b.writeUInt8(v),
      1,
    );
    check(
      'i8',
      int(-128, 127),
      (w, v) => w.i8(v),
      (b, v) => b.writeInt8(v),
      1,
    );
    check(
      'u16be',
      int(0, 0xffff),
      (w, v) => w.u16be(v),
      (b, v) => b.writeUInt16BE(v),
      2,
    );
    check(
      'u16le',
      int(0, 0xffff),
      (w, v) => w.u16le(v),
      (b, v) => b.writeUInt16LE(v),
      2,
    );
    check(
      'i16be',
      int(-0x8000, 0x7fff),
      (w, v) => w.i16be(v),
      (b, v) => b.writeInt16BE(v),
      2,
    );
    check(
      'i16le',
      int(-0x8000, 0x7fff),
      (w, v) => w.i16le(v),
      (b, v) => b.writeInt16LE(v),
      2,
    );
    check(
      'u24be',
      int(0, 0xffffff),
      (w, v) => w.u24be(v),
      (b, v) => b.writeUIntBE(v, 0, 3),
      3,
    );
    check(
      'u24le',
      int(0, 0xffffff),
      (w, v) => w.u24le(v),
      (b, v) => b.writeUIntLE(v, 0, 3),
      3,
    );
    check(
      'u32be',
      int(0, 0xffffffff),
      (w, v) => w.u32be(v),
      (b, v) => b.writeUInt32BE(v),
      4,
    );
    check(
      'u32le',
      int(0, 0xffffffff),
      (w, v) => w.u32le(v),
      (b, v) => b.writeUInt32LE(v),
      4,
    );
    check(
      'i32be',
      int(-0x80000000, 0x7fffffff),
      (w, v) => w.i32be(v),
      (b, v) => b.writeInt32BE(v),
      4,
    );
    check(
      'i32le',
      int(-0x80000000, 0x7fffffff),
      (w, v) => w.i32le(v),
      (b, v) => b.writeInt32LE(v),
      4,
    );
    check(
      'u64be(number)',
      fc.maxSafeNat(),
      (w, v) => w.u64be(v),
      (b, v) => b.writeBigUInt64BE(BigInt(v)),
      8,
    );
    check(
      'u64le(number)',
      fc.maxSafeNat(),
      (w, v) => w.u64le(v),
      (b, v) => b.writeBigUInt64LE(BigInt(v)),
      8,
    );
    check(
      'i64be(number)',
      fc.maxSafeInteger(),
      (w, v) => w.i64be(v),
      (b, v) => b.writeBigInt64BE(BigInt(v)),
      8,
    );
    check(
      'i64le(number)',
      fc.maxSafeInteger(),
      (w, v) => w.i64le(v),
      (b, v) => b.writeBigInt64LE(BigInt(v)),
      8,
    );
    check(
      'f32be',
      fc.float(),
      (w, v) => w.f32be(v),
      (b, v) => b.writeFloatBE(v),
      4,
    );
    check(
      'f32le',
      fc.float(),
      (w, v) => w.f32le(v),
      (b, v) => b.writeFloatLE(v),
      4,
    );
    check(
      'f64be',
      fc.double(),
      (w, v) => w.f64be(v),
      (b, v) => b.writeDoubleBE(v),
      8,
    );
    check(
      'f64le',
      fc.double(),
      (w, v) => w.f64le(v),
      (b, v) => b.writeDoubleLE(v),
      8,
    );
  });

  it('64-bit bigints match Buffer at the limits', () => {
    const cases: [bigint, (w: Writer, v: bigint) => void, (b: Buffer, v: bigint) => void][] = [
      [2n ** 64n - 1n, (w, v) => w.u64be(v), (b, v) => b.writeBigUInt64BE(v)],
      [2n ** 63n + 5n, (w, v) => w.u64le(v), (b, v) => b.writeBigUInt64LE(v)],
      [-(2n ** 63n), (w, v) => w.i64be(v), (b, v) => b.writeBigInt64BE(v)],
      [2n ** 63n - 1n, (w, v) => w.i64le(v), (b, v) => b.writeBigInt64LE(v)],
      [-1n, (w, v) => w.i64be(v), (b, v) => b.writeBigInt64BE(v)],
    ];
    for (const [v, ours, theirs] of cases) {
      const w = new Writer();
      ours(w, v);
      const b = Buffer.alloc(8);
      theirs(b, v);
      assert.deepStrictEqual(w.toBytes(), new Uint8Array(b), String(v));
    }
  });

  it('refuses out-of-range and non-integer values with ERR_ENCODE_RANGE', () => {
    const bad: [string, (w: Writer) => void][] = [
      ['u8 256', (w) => w.u8(256)],
      ['u8 -1', (w) => w.u8(-1)],
      ['u8 1.5', (w) => w.u8(1.5)],
      ['u8 NaN', (w) => w.u8(NaN)],
      ['i8 128', (w) => w.i8(128)],
      ['i8 -129', (w) => w.i8(-129)],
      ['u16 65536', (w) => w.u16be(65536)],
      ['i16 32768', (w) => w.i16le(32768)],
      ['u24 2^24', (w) => w.u24be(2 ** 24)],
      ['u32 2^32', (w) => w.u32le(2 ** 32)],
      ['i32 2^31', (w) => w.i32be(2 ** 31)],
      ['i32 Infinity', (w) => w.i32be(Infinity)],
      ['u64 -1', (w) => w.u64be(-1)],
      ['u64 -1n', (w) => w.u64be(-1n)],
      ['u64 2^64', (w) => w.u64le(2n ** 64n)],
      ['u64 2^53 (unsafe number)', (w) => w.u64be(2 ** 53)],
      ['u64 0.5', (w) => w.u64be(0.5)],
      ['i64 -2^63-1', (w) => w.i64be(-(2n ** 63n) - 1n)],
      ['i64 2^63', (w) => w.i64le(2n ** 63n)],
      ['i64 -2^53 (unsafe number)', (w) => w.i64be(-(2 ** 53))],
    ];
    for (const [what, write] of bad) {
      const w = new Writer();
      assert.throws(() => write(w), RANGE, what);
      assert.equal(w.pos, 0, `${what}: nothing written`);
    }
  });
});

describe('Writer.varint', () => {
  it('writes the shortest form, or a forced longer width (RFC 9000 section 16)', () => {
    const cases: [number | bigint, 1 | 2 | 4 | 8 | undefined, string][] = [
      [37, undefined, '25'],
      [37, 2, '4025'],
      [37, 4, '80000025'],
      [0, 8, 'c000000000000000'],
      [15293, undefined, '7bbd'],
      [494878333, undefined, '9d7f3e7d'],
      [151288809941952652n, undefined, 'c2197c5eff14e88c'],
      [VARINT_MAX, undefined, 'ffffffffffffffff'],
      [Number.MAX_SAFE_INTEGER, undefined, 'c01fffffffffffff'],
    ];
    for (const [v, width, h] of cases) {
      const w = new Writer();
      w.varint(v, width);
      assert.deepStrictEqual(w.toBytes(), hex(h), `${v} width ${width}`);
    }
    assert.equal(VARINT_MAX, 2n ** 62n - 1n);
  });

  it('varintSize gives 1/2/4/8 at the boundaries, for numbers and bigints', () => {
    const table: [number, number][] = [
      [0, 1],
      [63, 1],
      [64, 2],
      [16383, 2],
      [16384, 4],
      [2 ** 30 - 1, 4],
      [2 ** 30, 8],
      [Number.MAX_SAFE_INTEGER, 8],
    ];
    for (const [v, n] of table) {
      assert.equal(varintSize(v), n, String(v));
      assert.equal(varintSize(BigInt(v)), n, `${v}n`);
    }
    assert.equal(varintSize(VARINT_MAX), 8);
  });

  it('refuses values outside 0..2^62-1, unsafe numbers and too-narrow widths', () => {
    const bad: [string, (w: Writer) => void][] = [
      ['-1', (w) => w.varint(-1)],
      ['-1n', (w) => w.varint(-1n)],
      ['2^62', (w) => w.varint(2n ** 62n)],
      ['2^53 as a number', (w) => w.varint(2 ** 53)],
      ['1.5', (w) => w.varint(1.5)],
      ['NaN', (w) => w.varint(NaN)],
      ['64 in 1 byte', (w) => w.varint(64, 1)],
      ['16384 in 2 bytes', (w) => w.varint(16384, 2)],
      ['2^30 in 4 bytes', (w) => w.varint(2 ** 30, 4)],
    ];
    for (const [what, write] of bad) assert.throws(() => write(new Writer()), RANGE, what);
    assert.throws(() => varintSize(2n ** 62n), RANGE);
  });

  it('round-trips through varint and varintBig for random values and widths', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: VARINT_MAX }), fc.constantFrom<1 | 2 | 4 | 8>(1, 2, 4, 8), (v, width) => {
        const w = new Writer();
        if (varintSize(v) > width) {
          assert.throws(() => w.varint(v, width), RANGE);
          return;
        }
        w.varint(v, width);
        const b = w.toBytes();
        assert.equal(b.length, width);
        assert.equal(b[0]! >> 6, Math.log2(width), 'length bits');
        assert.equal(parse(varintBig, b), v);
        if (v <= BigInt(Number.MAX_SAFE_INTEGER)) assert.equal(parse(varint, b), Number(v));
      }),
      { numRuns: 300 },
    );
  });
});

describe('Writer.beginLength / endLength', () => {
  /** The prefix value read back with Buffer (independent of our parsers). */
  const readPrefix = (prefix: Exclude<LengthPrefix, 'varint'>, b: Uint8Array): number => {
    const buf = Buffer.from(b);
    switch (prefix) {
      case 'u8':
        return buf.readUInt8(0);
      case 'u16be':
        return buf.readUInt16BE(0);
      case 'u16le':
        return buf.readUInt16LE(0);
      case 'u24be':
        return buf.readUIntBE(0, 3);
      case 'u32be':
        return buf.readUInt32BE(0);
      case 'u32le':
        return buf.readUInt32LE(0);
    }
  };
  const WIDTH = { u8: 1, u16be: 2, u16le: 2, u24be: 3, u32be: 4, u32le: 4 } as const;

  for (const prefix of ['u8', 'u16be', 'u16le', 'u24be', 'u32be', 'u32le'] as const) {
    it(`back-fills a ${prefix} prefix`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 255 }), fc.uint8Array({ maxLength: 4 }), (body, before) => {
          const w = new Writer({ initialSize: 1 });
          w.bytes(before);
          const mark = w.beginLength(prefix);
          w.bytes(body);
          w.endLength(mark);
          const out = w.toBytes();
          assert.deepStrictEqual(out.subarray(0, before.length), before);
          assert.equal(readPrefix(prefix, out.subarray(before.length)), body.length);
          assert.deepStrictEqual(out.subarray(before.length + WIDTH[prefix]), body);
          assert.deepStrictEqual(parse(tuple(rest), out.subarray(before.length + WIDTH[prefix])), [body]);
        }),
        { numRuns: 50 },
      );
    });
  }

  it('refuses a body too long for the prefix', () => {
    const w = new Writer();
    const m = w.beginLength('u8');
    w.zeros(256);
    assert.throws(() => w.endLength(m), RANGE);
  });

  it('varint: keeps the reserved width, grows it, or shrinks it with minimal', () => {
    // [reserved width, minimal, body length, expected prefix]
    const cases: [1 | 2 | 4 | 8, boolean, number, string][] = [
      [2, false, 0, '4000'],
      [2, false, 37, '4025'],
      [2, true, 37, '25'],
      [4, false, 3, '80000003'],
      [4, true, 3, '03'],
      [1, false, 63, '3f'],
      [1, false, 64, '4040'],
      [1, false, 16383, '7fff'],
      [2, false, 16384, '80004000'],
      [8, true, 16384, '80004000'],
      [1, true, 100, '4064'],
    ];
    for (const [width, minimal, n, h] of cases) {
      const body = Uint8Array.from({ length: n }, (_, i) => (i * 13) & 0xff);
      const w = new Writer({ initialSize: 8 });
      w.u8(0xaa);
      const m = w.beginLength('varint', { width, minimal });
      w.bytes(body);
      w.endLength(m);
      w.u8(0xbb); // the Writer continues right after the moved body
      const out = w.toBytes();
      const p = hex(h);
      assert.deepStrictEqual(out.subarray(1, 1 + p.length), p, `width ${width}, minimal ${minimal}, body ${n}`);
      assert.deepStrictEqual(out.subarray(1 + p.length, 1 + p.length + n), body);
      assert.equal(out.length, 1 + p.length + n + 1);
      assert.equal(out[0], 0xaa);
      assert.equal(out[out.length - 1], 0xbb);
    }
  });

  it('varint: nested prefixes that grow and shrink decode back (random sizes and widths)', () => {
    const p = lengthPrefixed('varint', tuple(lengthPrefixed('varint', rest), rest));
    const width = fc.constantFrom<1 | 2 | 4 | 8>(1, 2, 4, 8);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 100 }),
        width,
        width,
        fc.boolean(),
        fc.boolean(),
        (inner, tail, w1, w2, min1, min2) => {
          const w = new Writer({ initialSize: 2 });
          const outer = w.beginLength('varint', { width: w1, minimal: min1 });
          const m = w.beginLength('varint', { width: w2, minimal: min2 });
          w.bytes(inner);
          w.endLength(m);
          w.bytes(tail);
          w.endLength(outer);
          assert.deepStrictEqual(parse(p, w.toBytes()), [inner, tail]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('varint growth in a fixed buffer without room is ERR_WRITER_OVERFLOW', () => {
    // 1 reserved + 64 body = 65 bytes: the 2-byte prefix needs one more.
    const w = new Writer({ buffer: new Uint8Array(65) });
    const m = w.beginLength('varint', { width: 1 });
    w.zeros(64);
    assert.throws(() => w.endLength(m), isEncodeError('ERR_WRITER_OVERFLOW'));
    const ok = new Writer({ buffer: new Uint8Array(66) });
    const m2 = ok.beginLength('varint', { width: 1 });
    ok.zeros(64);
    ok.endLength(m2);
    assert.equal(ok.remaining, 0);
  });

  it('endLength after reset() is ERR_USAGE', () => {
    const w = new Writer();
    w.zeros(4);
    const m = w.beginLength('u16be');
    w.reset();
    assert.throws(
      () => w.endLength(m),
      (e: unknown) => e instanceof UsageError && e.code === 'ERR_USAGE',
    );
  });
});
