import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  Decoder,
  EncodeError,
  NEED_READ,
  UsageError,
  bytes,
  count,
  cstring,
  gen,
  lengthPrefixed,
  line,
  manyUntilEnd,
  parse,
  peek,
  region,
  rest,
  struct,
  tuple,
  u16be,
  u32be,
  u8,
  until,
  varint,
} from '../../src/combinators/index.js';
import type { LengthPrefix, Parser } from '../../src/combinators/index.js';
import { encode, isParseError } from '../support/combinators.js';
import { ascii, concat, hex } from '../support/bytes.js';
import { backToBack, bounded, checkCorruption, checkParserSplits, fixture, streamingDecode } from '../support/splits.js';

const isEncodeError = (code: string) => (e: unknown) => e instanceof EncodeError && e.code === code;

/** A generator parser that reads one byte at a time: forces the resumable paths of whatever contains it. */
const slowBytes = (n: number): Parser<Uint8Array> =>
  gen(`slowBytes(${n})`, function* () {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = yield* u8;
    return out;
  });

/** Same, until the end of the region. */
const slowRest = gen('slowRest', function* () {
  const out: number[] = [];
  for (const v of yield* manyUntilEnd(u8)) out.push(v);
  return Uint8Array.from(out);
});

describe('until / line / cstring', () => {
  it('returns the bytes before the separator and consumes the separator', () => {
    assert.deepStrictEqual(parse(line(), ascii('PING\r\n')), ascii('PING'));
    assert.deepStrictEqual(parse(cstring(), hex('616200')), ascii('ab'));
    assert.deepStrictEqual(parse(until('--'), ascii('a-b--')), ascii('a-b'));
    assert.deepStrictEqual(parse(until('\r\n\r\n'), ascii('Host: x\r\n\r\n')), ascii('Host: x'));
    assert.deepStrictEqual(parse(line(), ascii('\r\n')), new Uint8Array(0));
    assert.deepStrictEqual(parse(until('\n\n'), ascii('a\n\n\n'), { allowTrailing: true }), ascii('a'));
  });

  it('returns a view of the chunk when the record lies in one chunk', () => {
    const chunk = ascii('hello\r\nworld');
    const d = new Decoder(line());
    d.feed(chunk);
    const v = d.read();
    assert.ok(v instanceof Uint8Array);
    assert.equal(v.buffer, chunk.buffer);
    assert.deepStrictEqual(d.source.takeRest(), ascii('world'));
  });

  it('gives the same records for any chunk split (short and long separators)', () => {
    const lines = backToBack(
      fixture(ascii('GET / HTTP/1.1\r\n'), ascii('GET / HTTP/1.1')),
      fixture(ascii('\r\n'), new Uint8Array(0)),
      fixture(ascii('a\rb\nc\r\n'), ascii('a\rb\nc')),
    );
    checkParserSplits(line(), lines, { numRuns: 100 });
    const parts = backToBack(fixture(ascii('one\r\n\r\n'), ascii('one')), fixture(ascii('t\r\n\rwo\r\n\r\n'), ascii('t\r\n\rwo')));
    checkParserSplits(until('\r\n\r\n'), parts, { numRuns: 100 });
    checkParserSplits(cstring(), backToBack(fixture(hex('41424300'), ascii('ABC')), fixture(hex('00'), new Uint8Array(0))), {
      numRuns: 50,
    });
  });

  describe('max', () => {
    it('accepts a record of exactly max bytes and rejects max + 1', () => {
      assert.deepStrictEqual(parse(line({ max: 4 }), ascii('abcd\r\n')), ascii('abcd'));
      assert.throws(() => parse(line({ max: 4 }), ascii('abcde\r\n')), isParseError('ERR_TOO_LONG', 0));
      assert.throws(() => parse(until('\r\n\r\n', { max: 4 }), ascii('abcde\r\n\r\n')), isParseError('ERR_TOO_LONG', 0));
    });

    it('raises ERR_TOO_LONG as soon as max + separator bytes arrived, never later, never earlier (streaming)', () => {
      for (const [sep, max] of [
        ['\r\n', 4],
        ['\0', 3],
        ['\r\n\r\n', 5],
      ] as const) {
        const p = until(sep, { max });
        const limit = max + sep.length;
        // Byte by byte, with a text that keeps starting the separator but never completes it.
        const text = ascii(`${sep.slice(0, -1)}x`.repeat(20));
        const d = new Decoder(p);
        let failedAt = -1;
        for (let i = 0; i < text.length && failedAt < 0; i++) {
          d.feed(text.subarray(i, i + 1));
          try {
            assert.equal(d.read(), NEED_READ);
          } catch (e) {
            assert.ok(isParseError('ERR_TOO_LONG', 0)(e), String(e));
            failedAt = i + 1;
          }
          assert.ok(d.source.buffered <= limit, 'never buffers past max + separator');
        }
        assert.equal(failedAt, limit, `separator ${JSON.stringify(sep)}, max ${max}`);
      }
    });

    it('raises ERR_TOO_LONG at the first read after a chunk carries it past the limit, for any split', () => {
      const p = line({ max: 10 });
      const text = ascii('0123456789ABCDEFGHIJ\r\n');
      fc.assert(
        fc.property(fc.uniqueArray(fc.integer({ min: 1, max: text.length - 1 }), { maxLength: 6 }), (cuts) => {
          const points = [0, ...cuts.sort((a, b) => a - b), text.length];
          const d = new Decoder(p);
          for (let i = 1; i < points.length; i++) {
            d.feed(text.subarray(points[i - 1], points[i]));
            if (points[i]! < 12) assert.equal(d.read(), NEED_READ);
            else {
              assert.throws(() => d.read(), isParseError('ERR_TOO_LONG', 0));
              return;
            }
          }
          assert.fail('never raised');
        }),
        { numRuns: 100 },
      );
    });

    it('enforces the default maximum of 64 KiB', () => {
      const big = new Uint8Array(64 * 1024 + 2).fill(0x61);
      assert.throws(() => parse(line(), big), isParseError('ERR_TOO_LONG', 0));
      big.set(ascii('\r\n'), 64 * 1024);
      assert.equal(parse(line(), big).length, 64 * 1024);
    });
  });

  it('scans each buffered byte a bounded number of times when fed byte by byte', () => {
    // Counted, not timed: a scan searches each chunk it looks at with Uint8Array.prototype.indexOf, so
    // the number of indexOf calls measures the scanning work. Resuming where the last scan stopped keeps
    // it O(n); rescanning the record from its start on every read makes it O(n^2) (n^2/2 = 2,000,000
    // here; a 64 KiB line fed byte by byte used to take over a minute of CPU). The texts keep starting
    // the separator without completing it, so every byte is also a candidate match.
    const n = 2000;
    const cases: [Parser<Uint8Array>, string][] = [
      [line({ max: 1 << 20 }), 'abc'],
      [line({ max: 1 << 20 }), '\r'],
      [until('\r\n\r\n', { max: 1 << 20 }), '\r\n\r'],
      [until('\r\n\r\n', { max: 1 << 20 }), '\r\na'],
    ];
    const wraps = [
      (q: Parser<Uint8Array>) => q,
      (q: Parser<Uint8Array>) =>
        gen('wrapped', function* () {
          return yield* q;
        }),
    ];
    for (const [p, pattern] of cases) {
      for (const wrap of wraps) {
        const text = ascii(pattern.repeat(Math.ceil(n / pattern.length))).subarray(0, n);
        const d = new Decoder(wrap(p));
        const original = Uint8Array.prototype.indexOf;
        let calls = 0;
        Uint8Array.prototype.indexOf = function (this: Uint8Array, ...args: Parameters<Uint8Array['indexOf']>) {
          calls++;
          return original.apply(this, args);
        };
        let record: unknown;
        try {
          for (let i = 0; i < n; i++) {
            d.feed(text.slice(i, i + 1));
            assert.equal(d.read(), NEED_READ);
          }
          d.feed(ascii('x\r\n\r\n'));
          record = d.read();
        } finally {
          Uint8Array.prototype.indexOf = original;
        }
        assert.ok(record instanceof Uint8Array);
        assert.equal(record.length, n + 1);
        assert.ok(calls < 10 * n, `${p.name} on ${JSON.stringify(pattern)}: ${calls} chunk searches for ${n} one-byte chunks`);
      }
    }
  });

  it('inside a region, a missing separator is ERR_REGION_OVERRUN', () => {
    assert.throws(() => parse(tuple(region(3, line()), u8), ascii('abc\r\n')), isParseError('ERR_REGION_OVERRUN'));
  });

  it('complete mode without a separator is ERR_UNEXPECTED_END', () => {
    assert.throws(() => parse(line(), ascii('abc')), isParseError('ERR_UNEXPECTED_END', 0));
    assert.throws(() => parse(line(), ascii('abc\r')), isParseError('ERR_UNEXPECTED_END', 0));
  });

  it('encodes with the separator, refuses a value that contains it or is too long', () => {
    assert.deepStrictEqual(encode(line(), ascii('OK')), ascii('OK\r\n'));
    assert.throws(() => encode(line(), ascii('a\r\nb')), isEncodeError('ERR_ENCODE_RANGE'));
    assert.throws(() => encode(cstring(), hex('610062')), isEncodeError('ERR_ENCODE_RANGE'));
    assert.throws(() => encode(line({ max: 2 }), ascii('abc')), isEncodeError('ERR_ENCODE_RANGE'));
    assert.throws(() => until(''), isEncodeError('ERR_ENCODE_RANGE'));
  });

  it('round-trips random records without the separator', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (raw) => {
        const v = raw.filter((b) => b !== 0);
        assert.deepStrictEqual(parse(cstring(), encode(cstring(), v)), v);
        const t = raw.filter((b) => b !== 0x0d);
        assert.deepStrictEqual(parse(line(), encode(line(), t)), t);
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// regions

/** A length prefix written by Buffer (independent of our Writer). */
function prefixBytes(prefix: LengthPrefix, n: number): Uint8Array {
  const b = Buffer.alloc(8);
  switch (prefix) {
    case 'u8':
      return Uint8Array.of(n);
    case 'u16be':
      b.writeUInt16BE(n);
      return new Uint8Array(b.subarray(0, 2));
    case 'u16le':
      b.writeUInt16LE(n);
      return new Uint8Array(b.subarray(0, 2));
    case 'u24be':
      b.writeUIntBE(n, 0, 3);
      return new Uint8Array(b.subarray(0, 3));
    case 'u32be':
      b.writeUInt32BE(n);
      return new Uint8Array(b.subarray(0, 4));
    case 'u32le':
      b.writeUInt32LE(n);
      return new Uint8Array(b.subarray(0, 4));
    case 'varint':
      // RFC 9000 section 16, shortest form.
      if (n < 0x40) return Uint8Array.of(n);
      if (n < 0x4000) return Uint8Array.of(0x40 | (n >> 8), n & 0xff);
      b.writeUInt32BE(n);
      b[0] = b[0]! | 0x80;
      return new Uint8Array(b.subarray(0, 4));
  }
}

const PREFIXES: [LengthPrefix, number][] = [
  ['u8', 0xff],
  ['u16be', 0xffff],
  ['u16le', 0xffff],
  ['u24be', 0xffffff],
  ['u32be', 0xffffffff],
  ['u32le', 0xffffffff],
  ['varint', 2 ** 30 - 1],
];

describe('region(n, inner)', () => {
  it('runs the inner parser on exactly n bytes', () => {
    assert.deepStrictEqual(parse(region(3, rest), hex('010203')), hex('010203'));
    assert.deepStrictEqual(parse(tuple(region(2, u16be), u8), hex('0102 03')), [0x0102, 3]);
    assert.equal(region(4, u32be).fixedSize, 4);
  });

  it('raises ERR_REGION_OVERRUN when the inner parser reads past the region', () => {
    assert.throws(() => parse(tuple(region(2, u32be), u16be), hex('01020304 0506')), isParseError('ERR_REGION_OVERRUN', 0));
    // A compiled fixed layout checks its size once and reports its own start.
    assert.throws(() => parse(tuple(u8, region(3, tuple(u16be, u16be))), hex('00 0102 0304 05')), isParseError('ERR_REGION_OVERRUN', 1));
    assert.throws(() => parse(tuple(u8, region(3, tuple(u16be, varint))), hex('00 0102 4004 05')), isParseError('ERR_REGION_OVERRUN', 3));
    assert.throws(() => parse(region(3, slowBytes(4)), hex('01020304')), isParseError('ERR_REGION_OVERRUN', 3));
  });

  it('raises ERR_REGION_UNDERRUN when the inner parser stops before the end', () => {
    assert.throws(() => parse(region(4, tuple(u16be, u8)), hex('01020304')), isParseError('ERR_REGION_UNDERRUN', 3));
    assert.throws(() => parse(region(4, slowBytes(2)), hex('01020304')), isParseError('ERR_REGION_UNDERRUN', 2));
  });

  it('gives the same values for any chunk split, with a fast and with a generator inner parser', () => {
    const fast = region(6, struct({ a: u16be, b: u32be }));
    checkParserSplits(
      fast,
      backToBack(fixture(hex('0001 00000002'), { a: 1, b: 2 }), fixture(hex('ffff ffffffff'), { a: 0xffff, b: 0xffffffff })),
      {
        numRuns: 60,
      },
    );
    const slow = region(5, slowBytes(5));
    checkParserSplits(slow, backToBack(fixture(hex('0102030405'), hex('0102030405')), fixture(hex('0607080900'), hex('0607080900'))), {
      numRuns: 60,
    });
  });

  it('encodes its inner value and checks the size', () => {
    assert.deepStrictEqual(encode(region(2, u16be), 0x0102), hex('0102'));
    assert.throws(() => encode(region(3, u16be), 1), isEncodeError('ERR_ENCODE_RANGE'));
  });
});

describe('lengthPrefixed(prefix, inner)', () => {
  for (const [prefix, maxLen] of PREFIXES) {
    it(`${prefix}: decodes a hand-built record and round-trips random payloads`, () => {
      const p = lengthPrefixed(prefix, rest);
      const payload = ascii('payload');
      assert.deepStrictEqual(parse(p, concat(prefixBytes(prefix, payload.length), payload)), payload);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: Math.min(maxLen, 300) }), (v) => {
          const enc = encode(p, v);
          assert.deepStrictEqual(enc, concat(prefixBytes(prefix, v.length), v));
          assert.deepStrictEqual(parse(p, enc), v);
        }),
        { numRuns: 60 },
      );
    });
  }

  it('varint prefix: every prefix length (1, 2 and 4 bytes) for any chunk split', () => {
    const p = lengthPrefixed('varint', rest);
    const sizes = [0, 63, 64, 300];
    const fx = backToBack(
      ...sizes.map((n) => {
        const v = Uint8Array.from({ length: n }, (_, i) => i & 0xff);
        return fixture(concat(prefixBytes('varint', n), v), v);
      }),
    );
    checkParserSplits(p, fx, { numRuns: 60, maxTwoWay: 200 });
    const big = new Uint8Array(16384).fill(7);
    assert.deepStrictEqual(parse(p, concat(hex('80004000'), big)), big);
  });

  it('gives the same values for any chunk split, with fast and generator inner parsers', () => {
    const fast = lengthPrefixed('u16be', struct({ id: u16be, body: rest }));
    const fastFx = backToBack(
      fixture(hex('0004 0007 abcd'), { id: 7, body: hex('abcd') }),
      fixture(hex('0002 0009'), { id: 9, body: new Uint8Array(0) }),
    );
    checkParserSplits(fast, fastFx, { numRuns: 80 });
    const slow = lengthPrefixed('varint', tuple(u8, slowRest));
    checkParserSplits(slow, backToBack(fixture(hex('04 01 aabbcc'), [1, hex('aabbcc')]), fixture(hex('01 02'), [2, new Uint8Array(0)])), {
      numRuns: 80,
    });
  });

  it('raises ERR_TOO_LONG at the prefix as soon as the prefix arrives', () => {
    const p = lengthPrefixed('u16be', rest, { max: 10 });
    assert.throws(() => parse(p, concat(hex('000b'), new Uint8Array(11))), isParseError('ERR_TOO_LONG', 0));
    assert.equal(parse(p, concat(hex('000a'), new Uint8Array(10))).length, 10);
    const d = new Decoder(tuple(u8, p));
    d.feed(hex('00 00'));
    assert.equal(d.read(), NEED_READ);
    d.feed(hex('0b'));
    assert.throws(() => d.read(), isParseError('ERR_TOO_LONG', 1));
    const g = new Decoder(lengthPrefixed('u16be', slowRest, { max: 10 }));
    g.feed(hex('ffff'));
    assert.throws(() => g.read(), isParseError('ERR_TOO_LONG', 0));
  });

  it('raises ERR_BUFFER_LIMIT for a region it would have to buffer whole beyond maxBuffered', () => {
    const d = new Decoder(lengthPrefixed('u16be', rest), { maxBuffered: 100 });
    d.feed(hex('0200'));
    assert.throws(() => d.read(), isParseError('ERR_BUFFER_LIMIT'));
  });

  it('streams a region larger than maxBuffered through a generator inner parser', () => {
    const p = lengthPrefixed('u16be', manyUntilEnd(slowBytes(2)));
    const d = new Decoder(p, { maxBuffered: 16 });
    d.feed(hex('03e8'));
    for (let i = 0; i < 100; i++) {
      assert.equal(d.read(), NEED_READ);
      d.feed(new Uint8Array(10).fill(i));
    }
    const v = d.read();
    assert.ok(Array.isArray(v));
    assert.equal(v.length, 500);
    assert.deepStrictEqual(v[499], hex('6363'));
  });

  it('raises ERR_REGION_OVERRUN when an inner length reaches past the outer region (no wait, no over-read)', () => {
    // Outer region of 3 bytes whose inner length claims 5: waiting for more input cannot help.
    const nested = lengthPrefixed('u8', lengthPrefixed('u8', rest));
    assert.throws(() => parse(nested, hex('03 05 aabb ccddeeff'), { allowTrailing: true }), isParseError('ERR_REGION_OVERRUN', 2));
    const d = new Decoder(nested);
    d.feed(hex('03 05 aabb'));
    assert.throws(() => d.read(), isParseError('ERR_REGION_OVERRUN', 2));
    const slowNested = lengthPrefixed('u8', lengthPrefixed('u8', slowRest));
    const e = new Decoder(slowNested);
    e.feed(hex('03 05 aabb'));
    assert.throws(() => e.read(), isParseError('ERR_REGION_OVERRUN', 2));
  });

  it('complete mode: a truncated region is ERR_UNEXPECTED_END at the end of the input', () => {
    const cases: [Parser<unknown>, string][] = [
      [lengthPrefixed('u8', rest), '05 aabb'],
      [lengthPrefixed('u8', manyUntilEnd(u8)), '05 aabb'],
      [lengthPrefixed('u8', manyUntilEnd(slowBytes(1))), '05 aabb'],
      [lengthPrefixed('u8', slowRest), '05 aabb'],
      [lengthPrefixed('u16be', struct({ a: u16be, b: u16be })), '0004 aabb'],
    ];
    for (const [p, h] of cases) {
      assert.throws(() => parse(p, hex(h)), isParseError('ERR_UNEXPECTED_END'), `${p.name} on ${h}`);
      const d = new Decoder(p);
      d.feed(hex(h));
      assert.equal(d.read(), NEED_READ);
      d.end();
      assert.throws(() => d.read(), isParseError('ERR_UNEXPECTED_END'), `${p.name} streaming, then end()`);
    }
  });

  it('encodes with a back-filled prefix and refuses a body longer than max', () => {
    assert.deepStrictEqual(encode(lengthPrefixed('u16le', tuple(u8, u8)), [1, 2]), hex('0200 0102'));
    assert.throws(() => encode(lengthPrefixed('u8', rest), new Uint8Array(256)), isEncodeError('ERR_ENCODE_RANGE'));
    assert.throws(() => encode(lengthPrefixed('u16be', rest, { max: 3 }), new Uint8Array(4)), isEncodeError('ERR_ENCODE_RANGE'));
  });
});

describe('rest, manyUntilEnd, count', () => {
  it('rest takes the rest of the region, or of complete-mode input', () => {
    assert.deepStrictEqual(parse(rest, hex('010203')), hex('010203'));
    assert.deepStrictEqual(parse(rest, new Uint8Array(0)), new Uint8Array(0));
    assert.deepStrictEqual(parse(tuple(region(2, rest), rest), hex('0102 03')), [hex('0102'), hex('03')]);
  });

  it('rest outside a region completes only at end() in streaming mode', () => {
    const d = new Decoder(rest);
    d.feed(hex('0102'));
    assert.equal(d.read(), NEED_READ);
    d.feed(hex('03'));
    assert.equal(d.read(), NEED_READ);
    d.end();
    assert.deepStrictEqual(d.read(), hex('010203'));
    checkParserSplits(rest, fixture(hex('0102030405'), hex('0102030405')), { endInput: true, numRuns: 50 });
  });

  it('manyUntilEnd reads items to the end of its region, for any chunk split', () => {
    const list = lengthPrefixed('u8', manyUntilEnd(struct({ k: u8, v: u16be })));
    const fx = backToBack(
      fixture(hex('06 01 0001 02 0002'), [
        { k: 1, v: 1 },
        { k: 2, v: 2 },
      ]),
      fixture(hex('00'), []),
    );
    checkParserSplits(list, fx, { numRuns: 80 });
    const slowList = lengthPrefixed('u8', manyUntilEnd(slowBytes(2)));
    checkParserSplits(slowList, backToBack(fixture(hex('04 0102 0304'), [hex('0102'), hex('0304')]), fixture(hex('00'), [])), {
      numRuns: 80,
    });
    const lines = region(10, manyUntilEnd(line()));
    checkParserSplits(lines, fixture(ascii('ab\r\n\r\ncd\r\n'), [ascii('ab'), new Uint8Array(0), ascii('cd')]), { numRuns: 80 });
  });

  it('manyUntilEnd at the top level needs end() in streaming mode', () => {
    const fx = fixture(hex('0001 0002 0003'), [1, 2, 3]);
    checkParserSplits(manyUntilEnd(u16be), fx, { endInput: true, numRuns: 50 });
    checkParserSplits(manyUntilEnd(slowBytes(1)), fixture(hex('0102'), [hex('01'), hex('02')]), { endInput: true, numRuns: 50 });
    assert.throws(() => parse(manyUntilEnd(u16be), hex('0001 00')), isParseError('ERR_UNEXPECTED_END', 2));
  });

  it('manyUntilEnd raises the item error at the right offset inside a region', () => {
    assert.throws(() => parse(lengthPrefixed('u8', manyUntilEnd(u16be)), hex('03 0001 02')), isParseError('ERR_REGION_OVERRUN', 3));
  });

  it('manyUntilEnd with an item that reads nothing raises ERR_USAGE instead of looping forever', () => {
    const isUsage = (e: unknown) => e instanceof UsageError && e.code === 'ERR_USAGE';
    // Zero-width for some inputs only: an optional field decided by a look-ahead.
    const optional = gen('optional', function* () {
      const first = yield* peek(u8);
      return first === 0 ? null : yield* u8;
    });
    const cases: [Parser<unknown>, string][] = [
      [region(2, manyUntilEnd(peek(u8))), '0100'],
      [lengthPrefixed('u8', manyUntilEnd(optional)), '02 0100'],
    ];
    for (const [p, input] of cases) {
      bounded(p.name, 2000, () => {
        assert.throws(() => parse(p, hex(input)), isUsage);
        const d = new Decoder(p);
        d.feed(hex(input));
        assert.throws(() => d.read(), isUsage);
      });
    }
    assert.deepStrictEqual(parse(lengthPrefixed('u8', manyUntilEnd(optional)), hex('02 0102')), [1, 2]);
  });

  it('count(p, n) reads exactly n items', () => {
    assert.equal(count(u16be, 3).fixedSize, 6);
    assert.deepStrictEqual(parse(count(u16be, 2), hex('0001 0002')), [1, 2]);
    checkParserSplits(count(varint, 3), fixture(hex('01 4040 80004000'), [1, 64, 16384]), { numRuns: 60 });
    checkParserSplits(count(slowBytes(2), 2), fixture(hex('0102 0304'), [hex('0102'), hex('0304')]), { numRuns: 60 });
    assert.deepStrictEqual(encode(count(u8, 2), [1, 2]), hex('0102'));
    assert.throws(() => encode(count(u8, 2), [1]), isEncodeError('ERR_ENCODE_RANGE'));
  });

  it('round-trips lists in length-prefixed regions', () => {
    const p = lengthPrefixed('varint', manyUntilEnd(struct({ id: varint, name: lengthPrefixed('u8', rest) })));
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.maxSafeNat(), name: fc.uint8Array({ maxLength: 20 }) }, { noNullPrototype: true }), { maxLength: 8 }),
        (v) => {
          assert.deepStrictEqual(parse(p, encode(p, v)), v);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('corruption', () => {
  it('a length-prefixed list of records gives a value or a typed error on any input', () => {
    const item = struct({ id: varint, flags: u8, name: lengthPrefixed('u8', rest) });
    const list = lengthPrefixed('u16be', manyUntilEnd(item));
    const valid = encode(list, [
      { id: 1, flags: 0, name: ascii('alpha') },
      { id: 70000, flags: 255, name: ascii('') },
      { id: 2 ** 40, flags: 3, name: ascii('gamma delta') },
    ]);
    checkCorruption((b) => parse(list, b), valid, { numRuns: 150 });
    checkCorruption(streamingDecode(list, { maxBuffered: 256 }), valid, { numRuns: 100 });
    const slow = lengthPrefixed('u8', manyUntilEnd(slowBytes(3)));
    checkCorruption(streamingDecode(slow), hex('06 010203 040506'), { numRuns: 100 });
    checkCorruption(streamingDecode(bytes(2)), hex('0102'), { numRuns: 50 });
  });
});
