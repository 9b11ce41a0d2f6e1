import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  Decoder,
  NEED_READ,
  bytes,
  f64le,
  gen,
  i16le,
  i8,
  lengthPrefixed,
  line,
  literal,
  manyUntilEnd,
  parse,
  parseAll,
  rest,
  skip,
  struct,
  tagged,
  tuple,
  u16be,
  u32be,
  u64be,
  u64beNumber,
  u8,
  varint,
} from '../../src/combinators/index.js';
import type { Parser, StructValue, TaggedValue, ValueOf } from '../../src/combinators/index.js';
import { encode, isParseError } from '../support/combinators.js';
import { ascii, concat, hex } from '../support/bytes.js';
import { backToBack, checkCorruption, checkParserSplits, fixture, streamingDecode } from '../support/splits.js';

/** Same bytes, one generator parser: forces the resumable path of whatever contains it. */
const slowU16 = gen('slowU16', function* () {
  const hi = yield* u8;
  const lo = yield* u8;
  return (hi << 8) | lo;
});

const header = struct({ type: u8, flags: u8, length: u16be, id: u32be });

describe('struct (compiled fixed layout)', () => {
  it('reads fields in order into an object', () => {
    assert.equal(header.fixedSize, 8);
    assert.deepStrictEqual(parse(header, hex('01 00 0004 00000009')), { type: 1, flags: 0, length: 4, id: 9 });
  });

  it('checks but does not store skip fields (values and types)', () => {
    const p = struct({ a: u8, pad: skip(2), b: i16le, big: u64be });
    const v = parse(p, hex('07 ffff feff 0000000000000100'));
    assert.deepStrictEqual(v, { a: 7, b: -2, big: 256n });
    const typed: { a: number; b: number; big: bigint } = v;
    // @ts-expect-error skip fields are not part of the value type
    void typed.pad;
    type Expect = StructValue<{ a: typeof u8; pad: ReturnType<typeof skip> }>;
    const check: Expect = { a: 1 };
    assert.deepStrictEqual(check, { a: 1 });
    assert.deepStrictEqual(encode(p, v), hex('07 0000 feff 0000000000000100'));
  });

  it('bytes fields are views of the chunk inside one chunk and owned copies across chunks', () => {
    const rec = struct({ id: u8, tag: bytes(3) });
    const chunk = hex('01 aabbcc 02 ddee');
    const d = new Decoder(rec);
    d.feed(chunk);
    const first = d.read() as { id: number; tag: Uint8Array };
    assert.equal(first.tag.buffer, chunk.buffer);
    assert.equal(d.read(), NEED_READ);
    d.feed(hex('ff 03 010203'));
    const second = d.read() as { id: number; tag: Uint8Array };
    assert.deepStrictEqual(second, { id: 2, tag: hex('ddeeff') });
    // A third spanning record must not reuse the second one's memory.
    d.feed(hex('04 0a'));
    d.feed(hex('0b0c'));
    assert.deepStrictEqual(d.read(), { id: 3, tag: hex('010203') });
    assert.deepStrictEqual(d.read(), { id: 4, tag: hex('0a0b0c') });
    assert.deepStrictEqual(second.tag, hex('ddeeff'));
  });

  it('reports a rejected field at its own offset, in one chunk and across chunks', () => {
    const p = struct({ a: u8, n: u64beNumber });
    assert.throws(() => parse(p, hex('00 ffffffffffffffff')), isParseError('ERR_NUMBER_RANGE', 1));
    assert.throws(() => parse(tuple(u16be, p), hex('0000 00 ffffffffffffffff')), isParseError('ERR_NUMBER_RANGE', 3));
    const d = new Decoder(tuple(u16be, p));
    d.feed(hex('0000 00 ff'));
    assert.equal(d.read(), NEED_READ);
    d.feed(hex('ffffffffffffff'));
    assert.throws(() => d.read(), isParseError('ERR_NUMBER_RANGE', 3));
  });

  it('gives the same values for any chunk split', () => {
    const fx = backToBack(
      fixture(hex('01 00 0004 00000009'), { type: 1, flags: 0, length: 4, id: 9 }),
      fixture(hex('ff ff ffff ffffffff'), { type: 255, flags: 255, length: 0xffff, id: 0xffffffff }),
    );
    checkParserSplits(header, fx, { numRuns: 100 });
    const withBytes = struct({ k: u8, v: bytes(70), f: f64le });
    const data = Uint8Array.from({ length: 70 }, (_, i) => i);
    const one = concat(hex('05'), data, new Uint8Array(Buffer.from(new Float64Array([0.1]).buffer)));
    checkParserSplits(withBytes, backToBack(fixture(one, { k: 5, v: data, f: 0.1 }), fixture(one, { k: 5, v: data, f: 0.1 })), {
      numRuns: 60,
      maxTwoWay: 200,
    });
  });

  it('still works where code generation is forbidden (Content-Security-Policy)', () => {
    const original = globalThis.Function;
    let p: Parser<{ a: number; b: Uint8Array; n: number }>;
    globalThis.Function = function () {
      throw new EvalError('code generation from strings disallowed');
    } as unknown as FunctionConstructor;
    try {
      p = struct({ a: u16be, pad: skip(1), b: bytes(2), n: u64beNumber });
    } finally {
      globalThis.Function = original;
    }
    assert.deepStrictEqual(parse(p, hex('0102 00 aabb 0000000000000005')), { a: 0x0102, b: hex('aabb'), n: 5 });
    assert.throws(() => parse(p, hex('0102 00 aabb ffffffffffffffff')), isParseError('ERR_NUMBER_RANGE', 5));
    checkParserSplits(p, fixture(hex('0102 00 aabb 0000000000000005'), { a: 0x0102, b: hex('aabb'), n: 5 }), { numRuns: 30 });
  });

  it('round-trips random values', () => {
    const p = struct({ a: u8, b: i8, pad: skip(1), c: u16be, d: u64be, e: f64le, raw: bytes(4) });
    const arb = fc.record(
      {
        a: fc.integer({ min: 0, max: 255 }),
        b: fc.integer({ min: -128, max: 127 }),
        c: fc.integer({ min: 0, max: 0xffff }),
        d: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        e: fc.double(),
        raw: fc.uint8Array({ minLength: 4, maxLength: 4 }),
      },
      { noNullPrototype: true },
    );
    fc.assert(
      fc.property(arb, (v) => {
        const b = encode(p, v);
        assert.equal(b.length, p.fixedSize);
        assert.deepStrictEqual(parse(p, b), v);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses to encode a bytes field of the wrong size', () => {
    const p = struct({ raw: bytes(2) });
    assert.throws(
      () => encode(p, { raw: hex('01') }),
      (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'ERR_ENCODE_RANGE',
    );
  });
});

describe('struct (field by field)', () => {
  const rec = struct({ magic: literal('PW'), version: u8, id: varint, name: lengthPrefixed('u8', rest), note: line() });

  it('reads variable-size fields and checks literals', () => {
    assert.equal(rec.fixedSize, -1);
    const input = concat(ascii('PW'), hex('01 4040 03'), ascii('abc'), ascii('hi\r\n'));
    const v = parse(rec, input);
    assert.deepStrictEqual(v, { version: 1, id: 64, name: ascii('abc'), note: ascii('hi') });
    assert.throws(() => parse(rec, concat(ascii('PX'), input.subarray(2))), isParseError('ERR_MALFORMED', 1));
    assert.equal(struct({ m: literal('AB'), v: u8 }).fixedSize, 3);
  });

  it('gives the same values for any chunk split, with fast and generator fields', () => {
    const input = concat(ascii('PW'), hex('01 4040 03'), ascii('abc'), ascii('hi\r\n'));
    const value = { version: 1, id: 64, name: ascii('abc'), note: ascii('hi') };
    checkParserSplits(rec, backToBack(fixture(input, value), fixture(input, value)), { numRuns: 100 });
    const mixed = struct({ a: u8, b: slowU16, c: varint });
    checkParserSplits(
      mixed,
      backToBack(fixture(hex('01 0203 25'), { a: 1, b: 0x0203, c: 37 }), fixture(hex('ff ffff 7bbd'), { a: 255, b: 0xffff, c: 15293 })),
      {
        numRuns: 100,
      },
    );
  });

  it('reports a truncated field at its own offset', () => {
    assert.throws(() => parse(rec, concat(ascii('PW'), hex('01 4040 05'), ascii('ab'))), isParseError('ERR_UNEXPECTED_END'));
    assert.throws(() => parse(struct({ a: u8, b: varint }), hex('00 40')), isParseError('ERR_UNEXPECTED_END', 1));
  });

  it('round-trips random values', () => {
    const arb = fc.record(
      {
        version: fc.integer({ min: 0, max: 255 }),
        id: fc.maxSafeNat(),
        name: fc.uint8Array({ maxLength: 255 }),
        note: fc.uint8Array({ maxLength: 30 }).map((b) => b.filter((x) => x !== 0x0d)),
      },
      { noNullPrototype: true },
    );
    fc.assert(
      fc.property(arb, (v) => {
        assert.deepStrictEqual(parse(rec, encode(rec, v)), v);
      }),
      { numRuns: 200 },
    );
  });
});

describe('tuple', () => {
  it('reads parsers in order into an array, and encodes it back', () => {
    const p = tuple(u8, u16be, varint);
    assert.deepStrictEqual(parse(p, hex('01 0203 4025')), [1, 0x0203, 37]);
    assert.deepStrictEqual(encode(p, [1, 0x0203, 37]), hex('01 0203 25'));
    assert.equal(tuple(u8, u32be).fixedSize, 5);
    const typed: [number, number, number] = parse(p, hex('01 0203 25'));
    assert.equal(typed.length, 3);
  });

  it('gives the same values for any chunk split (compiled and field by field)', () => {
    checkParserSplits(tuple(u8, u32be), backToBack(fixture(hex('01 00000002'), [1, 2]), fixture(hex('03 00000004'), [3, 4])), {
      numRuns: 60,
    });
    checkParserSplits(tuple(slowU16, varint, bytes(2)), fixture(hex('0102 80004000 aabb'), [0x0102, 16384, hex('aabb')]), { numRuns: 60 });
  });

  it('round-trips random values', () => {
    const p = tuple(u8, varint, lengthPrefixed('u8', rest));
    fc.assert(
      fc.property(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.maxSafeNat(), fc.uint8Array({ maxLength: 50 })), (v) => {
        assert.deepStrictEqual(parse(p, encode(p, v)), v);
      }),
      { numRuns: 100 },
    );
  });
});

// A QUIC-like frame set (RFC 9000 section 19 layouts, simplified): PADDING 0x00, PING 0x01,
// CRYPTO 0x06 (offset, length, data), and a made-up type 0x3fff (a two-byte varint, 7f ff) to exercise
// tags above 255.
const frame = tagged(varint, {
  0x00: struct({}),
  0x01: struct({}),
  0x06: struct({ offset: varint, data: lengthPrefixed('varint', rest) }),
  0x3fff: u16be,
});

describe('tagged', () => {
  it('dispatches on the tag and returns { tag, value }', () => {
    assert.deepStrictEqual(parseAll(frame, hex('00 01 06 05 03 aabbcc 7fff 0102 4006 4001 00')), [
      { tag: 0, value: {} },
      { tag: 1, value: {} },
      { tag: 6, value: { offset: 5, data: hex('aabbcc') } },
      { tag: 0x3fff, value: 0x0102 },
      // Non-minimal varints are still the same tag and values (RFC 9000 section 16).
      { tag: 6, value: { offset: 1, data: new Uint8Array(0) } },
    ]);
    // The result type is a union discriminated by `tag`.
    const v = parse(frame, hex('06 00 01 ff'));
    const described = ((f: TaggedValue<{ 0x06: typeof frame; 1: typeof u8 }>) => f.tag)({ tag: 1, value: 3 });
    assert.equal(described, 1);
    assert.equal(v.tag, 6);
  });

  it('raises ERR_UNKNOWN_TAG at the tag offset (fast and resumable paths)', () => {
    assert.throws(() => parse(frame, hex('07 00')), isParseError('ERR_UNKNOWN_TAG', 0));
    assert.throws(() => parse(tuple(u16be, frame), hex('0000 7ffe 00')), isParseError('ERR_UNKNOWN_TAG', 2));
    const slow = tagged(u8, { 1: slowU16 });
    assert.throws(() => parse(tuple(u8, slow), hex('00 02 0000')), isParseError('ERR_UNKNOWN_TAG', 1));
    const d = new Decoder(slow);
    d.feed(hex('01 0203'));
    assert.deepStrictEqual(d.read(), { tag: 1, value: 0x0203 });
    d.feed(hex('09'));
    assert.throws(() => d.read(), isParseError('ERR_UNKNOWN_TAG', 3));
  });

  it('uses the fallback for unknown tags when given one', () => {
    // Unknown tags carry a one-byte length, as extension points in many formats do.
    const p = tagged(u8, { 1: u8 }, { fallback: () => lengthPrefixed('u8', rest) });
    assert.deepStrictEqual(parseAll(p, hex('01 07 09 02 aabb')), [
      { tag: 1, value: 7 },
      { tag: 9, value: hex('aabb') },
    ]);
    // Fallback values are outside the declared union: the fixture is typed loosely.
    const fx = backToBack<{ tag: number; value: unknown }>(
      fixture(hex('01 07'), { tag: 1, value: 7 }),
      fixture(hex('09 02 aabb'), { tag: 9, value: hex('aabb') }),
    );
    checkParserSplits(p as Parser<{ tag: number; value: unknown }>, fx, { numRuns: 60 });
  });

  it('finds negative tags (signed tag parsers)', () => {
    const p = tagged(i8, { [-1]: u8, 1: u16be } as Record<number, Parser<number>>);
    assert.deepStrictEqual(parse(p, hex('01 0102')), { tag: 1, value: 0x0102 });
    assert.deepStrictEqual(parse(p, hex('ff 07')), { tag: -1, value: 7 });
    assert.throws(() => parse(p, hex('fe 07')), isParseError('ERR_UNKNOWN_TAG', 0));
  });

  it('gives the same values for any chunk split (fast and generator cases)', () => {
    const fx = backToBack(
      fixture(hex('00'), { tag: 0, value: {} }),
      fixture(hex('06 4001 03 aabbcc'), { tag: 6, value: { offset: 1, data: hex('aabbcc') } }),
      fixture(hex('7fff ffee'), { tag: 0x3fff, value: 0xffee }),
    );
    checkParserSplits(frame, fx, { numRuns: 100 });
    const slow = tagged(u8, { 1: slowU16, 2: line() });
    const slowFx = backToBack<ValueOf<typeof slow>>(
      fixture(hex('01 0203'), { tag: 1, value: 0x0203 }),
      fixture(concat(hex('02'), ascii('hi\r\n')), { tag: 2, value: ascii('hi') }),
    );
    checkParserSplits(slow, slowFx, { numRuns: 60 });
  });

  it('round-trips random frames', () => {
    const arb = fc.oneof(
      fc.constant({ tag: 1 as const, value: {} }),
      fc
        .record({ offset: fc.maxSafeNat(), data: fc.uint8Array({ maxLength: 70 }) }, { noNullPrototype: true })
        .map((value) => ({ tag: 6 as const, value })),
      fc.integer({ min: 0, max: 0xffff }).map((value) => ({ tag: 0x3fff as const, value })),
    );
    fc.assert(
      fc.property(arb, (f) => {
        assert.deepStrictEqual(parse(frame, encode(frame, f)), f);
      }),
      { numRuns: 200 },
    );
  });
});

describe('corruption', () => {
  // A TLV record format: u8 type, u16be length, then a body that depends on the type.
  const tlv = tagged(u8, {
    1: lengthPrefixed('u16be', struct({ id: u32be, flags: u8, name: lengthPrefixed('u8', rest) })),
    2: lengthPrefixed('u16be', manyUntilEnd(varint)),
    3: lengthPrefixed('u16be', struct({ x: i16le, y: i16le, t: u64beNumber })),
    4: lengthPrefixed('u16be', tuple(line({ max: 32 }), slowU16)),
  });
  const valid = concat(
    encode(tlv, { tag: 1, value: { id: 7, flags: 1, name: ascii('seven') } }),
    encode(tlv, { tag: 2, value: [1, 64, 16384, 2 ** 40] }),
    encode(tlv, { tag: 3, value: { x: -1, y: 2, t: 2 ** 50 } }),
    hex('04 0006'),
    ascii('ok\r\n'),
    hex('0102'),
  );

  it('a TLV record stream gives a value or a typed error on any input (complete and streaming)', () => {
    assert.equal(parseAll(tlv, valid).length, 4);
    checkCorruption((b) => parseAll(tlv, b), valid, { numRuns: 150 });
    checkCorruption(streamingDecode(tlv, { maxBuffered: 128 }), valid, { numRuns: 100 });
  });

  it('a varint-framed QUIC-like frame list does too', () => {
    const frames = lengthPrefixed('varint', manyUntilEnd(frame));
    const good = encode(frames, [
      { tag: 1, value: {} },
      { tag: 6, value: { offset: 1000, data: ascii('client hello') } },
      { tag: 0x3fff, value: 7 },
    ]);
    checkCorruption((b) => parse(frames, b), good, { numRuns: 150 });
  });
});
