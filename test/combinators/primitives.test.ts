import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  Decoder,
  NEED_READ,
  bytes,
  f32be,
  f32le,
  f64be,
  f64le,
  gen,
  i16be,
  i16le,
  i32be,
  i32le,
  i64be,
  i64le,
  i8,
  literal,
  parse,
  peek,
  skip,
  tuple,
  u16be,
  u16le,
  u24be,
  u24le,
  u32be,
  u32le,
  u64be,
  u64beNumber,
  u64le,
  u64leNumber,
  u8,
  varint,
  varintBig,
} from '../../src/combinators/index.js';
import type { Parser } from '../../src/combinators/index.js';
import { encode, isParseError } from '../support/combinators.js';
import { ascii, concat, hex } from '../support/bytes.js';
import { backToBack, checkParserSplits, fixture } from '../support/splits.js';

// ---------------------------------------------------------------------------------------------------
// fixed-size primitives against Node's Buffer readers and writers (an independent implementation)

interface FixedCase<T> {
  readonly parser: Parser<T>;
  readonly size: number;
  readonly read: (b: Buffer) => T;
  readonly write: (b: Buffer, v: T) => void;
  readonly values: fc.Arbitrary<T>;
}

const numberCase = (
  parser: Parser<number>,
  size: number,
  read: (b: Buffer) => number,
  write: (b: Buffer, v: number) => void,
  values: fc.Arbitrary<number>,
): FixedCase<number> => ({ parser, size, read, write, values });
const bigCase = (
  parser: Parser<bigint>,
  read: (b: Buffer) => bigint,
  write: (b: Buffer, v: bigint) => void,
  values: fc.Arbitrary<bigint>,
): FixedCase<bigint> => ({ parser, size: 8, read, write, values });

const int = (min: number, max: number) => fc.integer({ min, max });
const f32 = fc.float();
const f64 = fc.double();

const NUMBER_CASES: FixedCase<number>[] = [
  numberCase(
    u8,
    1,
    (b) => b.readUInt8(0),
    (b, v) => b.writeUInt8(v),
    int(0, 0xff),
  ),
  numberCase(
    i8,
    1,
    (b) => b.readInt8(0),
    (b, v) => b.writeInt8(v),
    int(-0x80, 0x7f),
  ),
  numberCase(
    u16be,
    2,
    (b) => b.readUInt16BE(0),
    (b, v) => b.writeUInt16BE(v),
    int(0, 0xffff),
  ),
  numberCase(
    u16le,
    2,
    (b) => b.readUInt16LE(0),
    (b, v) => b.writeUInt16LE(v),
    int(0, 0xffff),
  ),
  numberCase(
    i16be,
    2,
    (b) => b.readInt16BE(0),
    (b, v) => b.writeInt16BE(v),
    int(-0x8000, 0x7fff),
  ),
  numberCase(
    i16le,
    2,
    (b) => b.readInt16LE(0),
    (b, v) => b.writeInt16LE(v),
    int(-0x8000, 0x7fff),
  ),
  numberCase(
    u24be,
    3,
    (b) => b.readUIntBE(0, 3),
    (b, v) => b.writeUIntBE(v, 0, 3),
    int(0, 0xffffff),
  ),
  numberCase(
    u24le,
    3,
    (b) => b.readUIntLE(0, 3),
    (b, v) => b.writeUIntLE(v, 0, 3),
    int(0, 0xffffff),
  ),
  numberCase(
    u32be,
    4,
    (b) => b.readUInt32BE(0),
    (b, v) => b.writeUInt32BE(v),
    int(0, 0xffffffff),
  ),
  numberCase(
    u32le,
    4,
    (b) => b.readUInt32LE(0),
    (b, v) => b.writeUInt32LE(v),
    int(0, 0xffffffff),
  ),
  numberCase(
    i32be,
    4,
    (b) => b.readInt32BE(0),
    (b, v) => b.writeInt32BE(v),
    int(-0x80000000, 0x7fffffff),
  ),
  numberCase(
    i32le,
    4,
    (b) => b.readInt32LE(0),
    (b, v) => b.writeInt32LE(v),
    int(-0x80000000, 0x7fffffff),
  ),
  numberCase(
    f32be,
    4,
    (b) => b.readFloatBE(0),
    (b, v) => b.writeFloatBE(v),
    f32,
  ),
  numberCase(
    f32le,
    4,
    (b) => b.readFloatLE(0),
    (b, v) => b.writeFloatLE(v),
    f32,
  ),
  numberCase(
    f64be,
    8,
    (b) => b.readDoubleBE(0),
    (b, v) => b.writeDoubleBE(v),
    f64,
  ),
  numberCase(
    f64le,
    8,
    (b) => b.readDoubleLE(0),
    (b, v) => b.writeDoubleLE(v),
    f64,
  ),
  numberCase(
    u64beNumber,
    8,
    (b) => Number(b.readBigUInt64BE(0)),
    (b, v) => b.writeBigUInt64BE(BigInt(v)),
    fc.maxSafeNat(),
  ),
  numberCase(
    u64leNumber,
    8,
    (b) => Number(b.readBigUInt64LE(0)),
    (b, v) => b.writeBigUInt64LE(BigInt(v)),
    fc.maxSafeNat(),
  ),
];

const U64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const I64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const BIG_CASES: FixedCase<bigint>[] = [
  bigCase(
    u64be,
    (b) => b.readBigUInt64BE(0),
    (b, v) => b.writeBigUInt64BE(v),
    U64,
  ),
  bigCase(
    u64le,
    (b) => b.readBigUInt64LE(0),
    (b, v) => b.writeBigUInt64LE(v),
    U64,
  ),
  bigCase(
    i64be,
    (b) => b.readBigInt64BE(0),
    (b, v) => b.writeBigInt64BE(v),
    I64,
  ),
  bigCase(
    i64le,
    (b) => b.readBigInt64LE(0),
    (b, v) => b.writeBigInt64LE(v),
    I64,
  ),
];

function fixedSuite<T>(c: FixedCase<T>): void {
  describe(c.parser.name, () => {
    it('has the fixed size of its wire type', () => {
      assert.equal(c.parser.fixedSize, c.size);
    });

    it('decodes random bytes like Buffer does', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: c.size, maxLength: c.size }), (b) => {
          const buf = Buffer.from(b);
          const want = c.read(buf);
          if (typeof want === 'number' && (c.parser.name === u64beNumber.name || c.parser.name === u64leNumber.name)) {
            if (!Number.isSafeInteger(want)) {
              assert.throws(() => parse(c.parser, b), isParseError('ERR_NUMBER_RANGE', 0));
              return;
            }
          }
          assert.deepStrictEqual(parse(c.parser, b), want);
        }),
        { numRuns: 200 },
      );
    });

    it('encodes like Buffer does, and decodes its own encoding back', () => {
      fc.assert(
        fc.property(c.values, (v) => {
          const buf = Buffer.alloc(c.size);
          c.write(buf, v);
          const got = encode(c.parser, v);
          assert.deepStrictEqual(got, new Uint8Array(buf));
          assert.deepStrictEqual(parse(c.parser, got), c.read(buf));
        }),
        { numRuns: 200 },
      );
    });

    it('gives the same values for any chunk split, and reads no further', () => {
      const vs = fc.sample(c.values, { numRuns: 3, seed: 42 });
      const parts = vs.map((v) => {
        const buf = Buffer.alloc(c.size);
        c.write(buf, v);
        return fixture(new Uint8Array(buf), c.read(buf));
      });
      checkParserSplits(c.parser, backToBack(...parts), { numRuns: 60 });
      checkParserSplits(c.parser, parts[0]!, { numRuns: 20 });
    });
  });
}

describe('fixed-size primitives', () => {
  for (const c of NUMBER_CASES) fixedSuite(c);
  for (const c of BIG_CASES) fixedSuite(c);

  // Limits written out by hand from the two's-complement and IEEE 754 layouts.
  it('reads the boundary values of every width and byte order', () => {
    const table: [Parser<number | bigint>, string, number | bigint][] = [
      [u8, 'ff', 255],
      [i8, '80', -128],
      [i8, '7f', 127],
      [i8, 'ff', -1],
      [u16be, 'ffff', 65535],
      [u16be, '0102', 0x0102],
      [u16le, '0102', 0x0201],
      [i16be, '8000', -32768],
      [i16le, '0080', -32768],
      [i16be, '7fff', 32767],
      [i16be, 'ffff', -1],
      [u24be, 'ffffff', 0xffffff],
      [u24be, '010203', 0x010203],
      [u24le, '010203', 0x030201],
      [u32be, 'ffffffff', 4294967295],
      [u32be, '80000000', 2147483648],
      [u32le, '00000080', 2147483648],
      [i32be, '80000000', -2147483648],
      [i32le, '00000080', -2147483648],
      [i32be, '7fffffff', 2147483647],
      [u64be, 'ffffffffffffffff', 2n ** 64n - 1n],
      [u64le, '0100000000000080', 2n ** 63n + 1n],
      [i64be, '8000000000000000', -(2n ** 63n)],
      [i64le, 'ffffffffffffffff', -1n],
      [i64be, '7fffffffffffffff', 2n ** 63n - 1n],
      [u64beNumber, '001fffffffffffff', Number.MAX_SAFE_INTEGER],
      [u64leNumber, 'ffffffffffff1f00', Number.MAX_SAFE_INTEGER],
      [u64beNumber, '0000000100000000', 2 ** 32],
      [f32be, '3f800000', 1],
      [f32le, '0000803f', 1],
      [f32be, '7f800000', Infinity],
      [f32be, 'ff800000', -Infinity],
      [f32be, '80000000', -0],
      [f64be, '3ff0000000000000', 1],
      [f64le, '000000000000f03f', 1],
      [f64be, 'c000000000000000', -2],
      [f64be, '0000000000000001', 5e-324],
    ];
    for (const [p, h, want] of table) assert.deepStrictEqual(parse(p, hex(h)), want, `${p.name} ${h}`);
    assert.ok(Number.isNaN(parse(f32be, hex('7fc00000'))));
  });

  it('u64 as number rejects values above 2^53 - 1 with ERR_NUMBER_RANGE at the field offset', () => {
    assert.throws(() => parse(u64beNumber, hex('0020000000000000')), isParseError('ERR_NUMBER_RANGE', 0));
    assert.throws(() => parse(u64leNumber, hex('0000000000002000')), isParseError('ERR_NUMBER_RANGE', 0));
    assert.throws(() => parse(tuple(u8, u64beNumber), hex('07 ffffffffffffffff')), isParseError('ERR_NUMBER_RANGE', 1));
    // The same through a value that spans chunks (the gather path).
    const d = new Decoder(tuple(u8, u64beNumber));
    d.feed(hex('07 ffff'));
    assert.equal(d.read(), NEED_READ);
    d.feed(hex('ffffffffffff'));
    assert.throws(() => d.read(), isParseError('ERR_NUMBER_RANGE', 1));
  });

  it('complete mode reports a truncated primitive at its first byte', () => {
    assert.throws(() => parse(u32be, hex('010203')), isParseError('ERR_UNEXPECTED_END', 0));
    // A field-by-field record reports the field that ran short; a compiled fixed layout checks its length
    // once and reports the record's start (its `expected` names the record).
    assert.throws(() => parse(tuple(varint, u32le), hex('01 020304')), isParseError('ERR_UNEXPECTED_END', 1));
    assert.throws(() => parse(tuple(u16be, u32le), hex('0001 020304')), isParseError('ERR_UNEXPECTED_END', 0));
    assert.throws(() => parse(u8, new Uint8Array(0)), isParseError('ERR_UNEXPECTED_END', 0));
  });
});

// ---------------------------------------------------------------------------------------------------
// QUIC variable-length integers (RFC 9000 section 16)

/** An independent reference decoder: RFC 9000 section 16, written with BigInt and no shortcuts. */
function refVarint(b: Uint8Array): { value: bigint; length: number } {
  const length = 1 << (b[0]! >> 6);
  let value = BigInt(b[0]! & 0x3f);
  for (let i = 1; i < length; i++) value = value * 256n + BigInt(b[i]!);
  return { value, length };
}

describe('varint', () => {
  // Boundaries of the four lengths (section 16, table 4: 6, 14, 30 and 62 usable bits), hand-encoded.
  const BOUNDARIES: [string, number][] = [
    ['00', 0],
    ['3f', 63],
    ['4040', 64],
    ['7fff', 16383],
    ['80004000', 16384],
    ['bfffffff', 2 ** 30 - 1],
    ['c000000040000000', 2 ** 30],
    ['c01fffffffffffff', Number.MAX_SAFE_INTEGER],
  ];

  it('decodes and encodes the 1/2/4/8-byte boundaries', () => {
    for (const [h, v] of BOUNDARIES) {
      assert.equal(parse(varint, hex(h)), v, h);
      assert.equal(parse(varintBig, hex(h)), BigInt(v), h);
      assert.deepStrictEqual(encode(varint, v), hex(h), `encode ${v}`);
      assert.deepStrictEqual(encode(varintBig, BigInt(v)), hex(h), `encode ${v}n`);
    }
    assert.equal(parse(varintBig, hex('ffffffffffffffff')), 2n ** 62n - 1n);
    assert.deepStrictEqual(encode(varintBig, 2n ** 62n - 1n), hex('ffffffffffffffff'));
  });

  it('decodes the RFC 9000 Appendix A.1 examples', () => {
    assert.equal(parse(varintBig, hex('c2197c5eff14e88c')), 151288809941952652n);
    assert.equal(parse(varint, hex('9d7f3e7d')), 494878333);
    assert.equal(parse(varint, hex('7bbd')), 15293);
    assert.equal(parse(varint, hex('25')), 37);
    // "the two-byte sequence 0x4025 also decodes to 37": non-minimal encodings are valid (section 16).
    assert.equal(parse(varint, hex('4025')), 37);
    assert.equal(parse(varintBig, hex('4025')), 37n);
    // Encoding picks the shortest form, which is what the appendix lists.
    assert.deepStrictEqual(encode(varintBig, 151288809941952652n), hex('c2197c5eff14e88c'));
    assert.deepStrictEqual(encode(varint, 494878333), hex('9d7f3e7d'));
    assert.deepStrictEqual(encode(varint, 15293), hex('7bbd'));
    assert.deepStrictEqual(encode(varint, 37), hex('25'));
  });

  it('raises ERR_NUMBER_RANGE (number variant) above 2^53 - 1, in one chunk and across chunks', () => {
    assert.throws(() => parse(varint, hex('c2197c5eff14e88c')), isParseError('ERR_NUMBER_RANGE', 0));
    assert.throws(() => parse(varint, hex('c020000000000000')), isParseError('ERR_NUMBER_RANGE', 0));
    assert.throws(() => parse(tuple(u16be, varint), hex('0000 ffffffffffffffff')), isParseError('ERR_NUMBER_RANGE', 2));
    const d = new Decoder(tuple(u8, varint));
    d.feed(hex('01 c020'));
    assert.equal(d.read(), NEED_READ);
    d.feed(hex('000000000000'));
    assert.throws(() => d.read(), isParseError('ERR_NUMBER_RANGE', 1));
  });

  it('agrees with a reference decoder on random bytes (number and bigint variants)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), (b) => {
        const ref = refVarint(b);
        const exact = b.subarray(0, ref.length);
        assert.equal(parse(varintBig, exact), ref.value);
        if (ref.value <= BigInt(Number.MAX_SAFE_INTEGER)) assert.equal(parse(varint, exact), Number(ref.value));
        else assert.throws(() => parse(varint, exact), isParseError('ERR_NUMBER_RANGE', 0));
        // A varint never reads past its own length.
        assert.equal(parse(varintBig, b, { allowTrailing: true }), ref.value);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips random values, shortest form', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (v) => {
        const b = encode(varint, v);
        assert.equal(refVarint(b).value, BigInt(v));
        assert.equal(refVarint(b).length, b.length);
        assert.equal(parse(varint, b), v);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 62n - 1n }), (v) => {
        const b = encode(varintBig, v);
        assert.equal(refVarint(b).value, v);
        assert.equal(parse(varintBig, b), v);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same values for any chunk split (every length)', () => {
    const fx = backToBack(...BOUNDARIES.map(([h, v]) => fixture(hex(h), v)), fixture(hex('4025'), 37));
    checkParserSplits(varint, fx, { numRuns: 100 });
    const big = backToBack(
      fixture(hex('c2197c5eff14e88c'), 151288809941952652n),
      fixture(hex('7bbd'), 15293n),
      fixture(hex('ffffffffffffffff'), 2n ** 62n - 1n),
    );
    checkParserSplits(varintBig, big, { numRuns: 100 });
    for (const [h, v] of BOUNDARIES) checkParserSplits(varint, fixture(hex(h), v), { numRuns: 10 });
  });
});

// ---------------------------------------------------------------------------------------------------
// bytes, skip, literal, peek

describe('bytes(n)', () => {
  it('returns a view sharing the chunk buffer when the bytes lie in one chunk', () => {
    const chunk = hex('00 01 02 03 04 05 06');
    const d = new Decoder(bytes(4));
    d.feed(chunk.subarray(1));
    const v = d.read();
    assert.ok(v instanceof Uint8Array);
    assert.equal(v.buffer, chunk.buffer, 'zero-copy: same ArrayBuffer');
    assert.equal(v.byteOffset, chunk.byteOffset + 1);
    assert.deepStrictEqual(v, hex('01020304'));
    // A view: changing the fed chunk shows through (the documented borrowing rule).
    chunk[2] = 0xee;
    assert.equal(v[1], 0xee);
  });

  it('returns an owned copy when the bytes span chunks, which later input does not disturb', () => {
    const a = hex('01 02');
    const b = hex('03 04 05 06 07');
    const d = new Decoder(bytes(4));
    d.feed(a);
    assert.equal(d.read(), NEED_READ);
    assert.equal(d.needed, 2);
    d.feed(b);
    const v = d.read();
    assert.ok(v instanceof Uint8Array);
    assert.notEqual(v.buffer, a.buffer);
    assert.notEqual(v.buffer, b.buffer);
    assert.deepStrictEqual(v, hex('01020304'));
    // Another spanning read of a short field must not reuse the first value's memory.
    d.feed(hex('08 09'));
    const w = d.read();
    assert.deepStrictEqual(w, hex('05060708'));
    assert.deepStrictEqual(v, hex('01020304'));
    a.fill(0);
    b.fill(0);
    assert.deepStrictEqual(v, hex('01020304'));
  });

  it('fails with ERR_BUFFER_LIMIT instead of waiting forever when n exceeds maxBuffered', () => {
    const d = new Decoder(bytes(100), { maxBuffered: 64 });
    d.feed(new Uint8Array(10));
    assert.throws(() => d.read(), isParseError('ERR_BUFFER_LIMIT', 0));
    const empty = new Decoder(bytes(65), { maxBuffered: 64 });
    assert.throws(() => empty.read(), isParseError('ERR_BUFFER_LIMIT', 0));
    // n == maxBuffered can still be satisfied.
    const ok = new Decoder(bytes(64), { maxBuffered: 64 });
    ok.feed(new Uint8Array(30));
    assert.equal(ok.read(), NEED_READ);
    ok.feed(new Uint8Array(34).fill(1));
    assert.equal((ok.read() as Uint8Array).length, 64);
  });

  it('gives the same bytes for any chunk split (short, scratch-sized and long fields)', () => {
    for (const n of [1, 5, 64, 65, 300]) {
      const data = Uint8Array.from({ length: n * 3 }, (_, i) => (i * 7 + n) & 0xff);
      const fx = backToBack(fixture(data.subarray(0, n), data.slice(0, n)), fixture(data.subarray(n, 2 * n), data.slice(n, 2 * n)));
      checkParserSplits(bytes(n), fx, { numRuns: 40, maxTwoWay: 200 });
    }
  });

  it('round-trips and rejects a value of the wrong length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 7, maxLength: 7 }), (v) => {
        assert.deepStrictEqual(parse(bytes(7), encode(bytes(7), v)), v);
      }),
      { numRuns: 100 },
    );
    assert.throws(
      () => encode(bytes(3), hex('0102')),
      (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'ERR_ENCODE_RANGE',
    );
  });
});

describe('skip(n)', () => {
  it('consumes n bytes and yields nothing; encodes zeros', () => {
    assert.equal(parse(skip(3), hex('010203')), undefined);
    assert.deepStrictEqual(encode(skip(3), undefined), hex('000000'));
    assert.throws(() => parse(skip(3), hex('0102')), isParseError('ERR_UNEXPECTED_END', 0));
  });

  it('gives the same result for any chunk split', () => {
    checkParserSplits(skip(5), backToBack(fixture(hex('0102030405'), undefined), fixture(hex('0607080910'), undefined)), { numRuns: 50 });
    checkParserSplits(skip(70), fixture(new Uint8Array(70).fill(9), undefined), { numRuns: 30, maxTwoWay: 100 });
  });

  it('fails with ERR_BUFFER_LIMIT when n exceeds maxBuffered', () => {
    const d = new Decoder(skip(1000), { maxBuffered: 100 });
    d.feed(new Uint8Array(50));
    assert.throws(() => d.read(), isParseError('ERR_BUFFER_LIMIT'));
  });
});

describe('literal', () => {
  it('matches exactly its bytes and encodes them', () => {
    assert.equal(parse(literal('HTTP/1.1'), ascii('HTTP/1.1')), undefined);
    assert.equal(parse(literal(hex('cafe')), hex('cafe')), undefined);
    assert.deepStrictEqual(encode(literal('PRI'), undefined), ascii('PRI'));
  });

  it('raises ERR_MALFORMED at the first differing byte', () => {
    assert.throws(() => parse(literal('HTTP'), ascii('HTXP')), isParseError('ERR_MALFORMED', 2));
    assert.throws(() => parse(tuple(u8, literal('AB')), hex('00 4142').subarray(0, 2)), isParseError('ERR_UNEXPECTED_END', 1));
    assert.throws(() => parse(tuple(u8, literal('AB')), hex('00 4143')), isParseError('ERR_MALFORMED', 2));
  });

  it('fails on a wrong byte before the whole literal has arrived (streaming)', () => {
    const d = new Decoder(literal('HTTP/1.1'));
    d.feed(ascii('HT'));
    assert.equal(d.read(), NEED_READ);
    d.feed(ascii('X'));
    assert.throws(() => d.read(), isParseError('ERR_MALFORMED', 2));
  });

  it('gives the same result for any chunk split', () => {
    checkParserSplits(literal('HTTP/1.1 '), backToBack(fixture(ascii('HTTP/1.1 '), undefined), fixture(ascii('HTTP/1.1 '), undefined)), {
      numRuns: 50,
    });
  });
});

describe('peek', () => {
  it('returns the value without consuming it', () => {
    const p = tuple(peek(u16be), u32be);
    assert.deepStrictEqual(parse(p, hex('01020304')), [0x0102, 0x01020304]);
    assert.deepStrictEqual(encode(p, [0x0102, 0x01020304]), hex('01020304'), 'a peek writes nothing');
  });

  it('dispatches a generator parser on a look-ahead, for any chunk split', () => {
    // A long-header-like dispatch: the first bit decides, the byte itself still belongs to the record.
    const rec = gen('dispatch', function* () {
      const first = yield* peek(u8);
      if (first & 0x80) return { long: true, head: yield* u32be };
      return { long: false, head: yield* u8 };
    });
    const fx = backToBack(fixture(hex('c0000001'), { long: true, head: 0xc0000001 }), fixture(hex('17'), { long: false, head: 0x17 }));
    checkParserSplits(rec, fx, { numRuns: 80 });
    const both = tuple(peek(u16be), u32be);
    checkParserSplits(both, backToBack(fixture(hex('01020304'), [0x0102, 0x01020304]), fixture(hex('ffeeddcc'), [0xffee, 0xffeeddcc])), {
      numRuns: 80,
    });
  });

  it('complete mode: a peek past the end is ERR_UNEXPECTED_END', () => {
    assert.throws(() => parse(tuple(u8, peek(u32be)), hex('00 0102')), isParseError('ERR_UNEXPECTED_END', 1));
  });
});

it('a composite of every primitive survives any chunk split', () => {
  const all = tuple(
    u8,
    i8,
    u16le,
    i16be,
    u24le,
    u32be,
    i32le,
    u64le,
    i64be,
    f32le,
    f64be,
    varint,
    varintBig,
    bytes(3),
    skip(2),
    literal('!'),
  );
  const input = concat(
    hex('ff 80 3412 fffe 563412 deadbeef ffffffff 0100000000000080 8000000000000000 0000803f 4009_21fb_5444_2d18 4025 c2197c5eff14e88c'),
    hex('616263 0000 21'),
  );
  const value = [
    255,
    -128,
    0x1234,
    -2,
    0x123456,
    0xdeadbeef,
    -1,
    2n ** 63n + 1n,
    -(2n ** 63n),
    1,
    Math.PI,
    37,
    151288809941952652n,
    ascii('abc'),
  ];
  const got = parse(all, input);
  // skip and literal keep their tuple slot (undefined): a tuple is positional.
  assert.deepStrictEqual(got, [...value, undefined, undefined]);
  checkParserSplits(all, fixture(input, got), { numRuns: 60 });
});
