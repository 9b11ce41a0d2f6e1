import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  Decoder,
  END,
  NEED_READ,
  Source,
  UsageError,
  Writer,
  bytes,
  gen,
  line,
  parse,
  parseAll,
  runComplete,
  u16be,
  u32be,
  u8,
  until,
  varint,
} from '../../src/combinators/index.js';
import type { ParseGen, Step } from '../../src/combinators/index.js';
import { isParseError } from '../support/combinators.js';
import { ascii, concat, hex } from '../support/bytes.js';
import { backToBack, checkCorruption, checkParserSplits, fixture, streamingDecode } from '../support/splits.js';

const isUsage = (e: unknown) => e instanceof UsageError && e.code === 'ERR_USAGE';

/** type, varint length, that many bytes (the README's example record). */
const tlv = gen('tlv', function* () {
  const type = yield* u8;
  const length = yield* varint;
  const value = yield* bytes(length);
  return { type, value };
});

/** Hand-built TLV bytes: the varint length is written out independently (RFC 9000 section 16 layout). */
function tlvBytes(type: number, value: Uint8Array): Uint8Array {
  const n = value.length;
  const len = n < 64 ? Uint8Array.of(n) : Uint8Array.of(0x40 | (n >> 8), n & 0xff);
  return concat(Uint8Array.of(type), len, value);
}

describe('gen()', () => {
  it('parses straight-line generator code in complete mode', () => {
    assert.deepStrictEqual(parse(tlv, hex('07 03 aabbcc')), { type: 7, value: hex('aabbcc') });
    assert.deepStrictEqual(parseAll(tlv, hex('07 01 aa 08 00')), [
      { type: 7, value: hex('aa') },
      { type: 8, value: new Uint8Array(0) },
    ]);
  });

  it('gives the same values for any chunk split', () => {
    const big = Uint8Array.from({ length: 200 }, (_, i) => i);
    const fx = backToBack(
      fixture(tlvBytes(7, hex('aabbcc')), { type: 7, value: hex('aabbcc') }),
      fixture(tlvBytes(1, new Uint8Array(0)), { type: 1, value: new Uint8Array(0) }),
      fixture(tlvBytes(9, big), { type: 9, value: big }),
    );
    checkParserSplits(tlv, fx, { numRuns: 100, maxTwoWay: 300 });
  });

  it('branches, loops and nests other generator parsers', () => {
    const list = gen('list', function* (): ParseGen<number[]> {
      const n = yield* u8;
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const kind = yield* u8;
        out.push(kind === 0 ? yield* u8 : kind === 1 ? yield* u16be : (yield* tlv).value.length);
      }
      return out;
    });
    const input = hex('04 00 05 01 0102 02 09 02 aabb 00 ff');
    assert.deepStrictEqual(parse(list, input), [5, 0x0102, 2, 0xff]);
    checkParserSplits(list, fixture(input, [5, 0x0102, 2, 0xff]), { numRuns: 100 });
  });

  it('reports a truncation at the offset of the field that ran short', () => {
    const rec = gen('rec', function* () {
      const a = yield* u8;
      const b = yield* u32be;
      return a + b;
    });
    assert.throws(() => parse(rec, hex('01 020304')), isParseError('ERR_UNEXPECTED_END', 1));
    assert.throws(() => parse(tlv, hex('07 05 aabb')), isParseError('ERR_UNEXPECTED_END', 2));
    assert.throws(() => parse(tlv, hex('07 40')), isParseError('ERR_UNEXPECTED_END', 1));
  });

  it('can call a complete-mode parse inside its body without losing its own input', () => {
    const outer = gen('outer', function* () {
      const raw = yield* bytes(4);
      const inner = parse(u16be, raw.subarray(1, 3));
      const after = yield* u8;
      return [inner, after];
    });
    assert.deepStrictEqual(parse(outer, hex('00 1234 00 ff')), [0x1234, 0xff]);
    checkParserSplits(outer, fixture(hex('00 1234 00 ff'), [0x1234, 0xff]), { numRuns: 50 });
  });

  it('has no encoder: write raises ERR_USAGE', () => {
    assert.throws(() => tlv.write(new Writer(), { type: 1, value: hex('00') }), isUsage);
  });

  it('raises ERR_USAGE when resumed outside a driver', () => {
    assert.throws(() => tlv[Symbol.iterator]().next(), isUsage);
  });
});

describe('Decoder', () => {
  it('reads values, NEED_READ with the bytes still needed, and END after end()', () => {
    const d = new Decoder(u32be);
    assert.equal(d.read(), NEED_READ);
    assert.equal(d.needed, 4);
    d.feed(hex('01'));
    assert.equal(d.read(), NEED_READ);
    assert.equal(d.needed, 3);
    d.feed(hex('020304 05060708 09'));
    assert.equal(d.read(), 0x01020304);
    assert.equal(d.read(), 0x05060708);
    assert.equal(d.read(), NEED_READ);
    assert.equal(d.needed, 3);
    d.feed(hex('0a0b0c'));
    d.end();
    assert.equal(d.read(), 0x090a0b0c);
    assert.equal(d.read(), END);
    assert.equal(d.read(), END);
  });

  it('ends cleanly (END) with a generator parser that was started at a value boundary', () => {
    // Regression: the Decoder starts the generator eagerly after each value; end() before any byte of
    // the next value used to raise ERR_UNEXPECTED_END instead of END.
    const d = new Decoder(tlv);
    d.feed(hex('07 01 aa'));
    assert.deepStrictEqual(d.read(), { type: 7, value: hex('aa') });
    assert.equal(d.read(), NEED_READ);
    d.end();
    assert.equal(d.read(), END);
    assert.equal(d.inProgress, false);
    assert.equal(d.read(), END);
    // Ending one byte into the next value is still a truncation.
    const e = new Decoder(tlv);
    e.feed(hex('07 01 aa 08'));
    assert.deepStrictEqual(e.read(), { type: 7, value: hex('aa') });
    assert.equal(e.read(), NEED_READ);
    e.end();
    assert.throws(() => e.read(), isParseError('ERR_UNEXPECTED_END', 4));
  });

  it('reports an unknown need as undefined (a separator not seen yet)', () => {
    const d = new Decoder(line());
    d.feed(ascii('abc'));
    assert.equal(d.read(), NEED_READ);
    assert.equal(d.needed, undefined);
  });

  it('inProgress is true while a generator parser is suspended inside a value', () => {
    const d = new Decoder(tlv);
    assert.equal(d.inProgress, false);
    d.feed(hex('07 03 aa'));
    assert.equal(d.read(), NEED_READ);
    assert.equal(d.inProgress, true);
    assert.equal(d.needed, 2);
    d.feed(hex('bbcc'));
    assert.deepStrictEqual(d.read(), { type: 7, value: hex('aabbcc') });
    assert.equal(d.inProgress, false);
  });

  it('inProgress stays false when a generator parser stopped before the first byte of a value', () => {
    const d = new Decoder(tlv);
    assert.equal(d.read(), NEED_READ); // nothing fed: the generator waits at the value boundary
    assert.equal(d.inProgress, false);
    d.end();
    assert.equal(d.read(), END);
  });

  it('end() inside a value raises ERR_UNEXPECTED_END at the short field', () => {
    const d = new Decoder(tlv);
    d.feed(hex('07 03 aa'));
    assert.equal(d.read(), NEED_READ);
    d.end();
    assert.throws(() => d.read(), isParseError('ERR_UNEXPECTED_END', 2));
    const e = new Decoder(u16be);
    e.feed(hex('0102 03'));
    e.end();
    assert.equal(e.read(), 0x0102);
    assert.throws(() => e.read(), isParseError('ERR_UNEXPECTED_END', 2));
  });

  it('after an error keeps raising the same error, whatever is fed', () => {
    const d = new Decoder(tlv);
    d.feed(hex('07 c0 ff ff ff ff ff ff ff'));
    let first: unknown;
    assert.throws(
      () => d.read(),
      (e: unknown) => {
        first = e;
        return isParseError('ERR_NUMBER_RANGE', 1)(e);
      },
    );
    d.feed(hex('0000'));
    assert.throws(
      () => d.read(),
      (e: unknown) => e === first,
    );
    const s = d.step();
    assert.equal(s.type, 'error');
    assert.equal(s.type === 'error' ? s.error : undefined, first);
    assert.throws(
      () => [...d.drain()],
      (e: unknown) => e === first,
    );
  });

  it('step() returns the discriminated union and never throws a ParseError', () => {
    const d = new Decoder(u16be);
    const kinds: Step<number>['type'][] = [];
    const seen: Step<number>[] = [];
    const step = (): Step<number> => {
      const s = d.step();
      kinds.push(s.type);
      seen.push(s);
      return s;
    };
    d.feed(hex('00'));
    const a = step();
    assert.deepStrictEqual(a, { type: 'need-read', needed: 1 });
    d.feed(hex('2a'));
    assert.deepStrictEqual(step(), { type: 'value', value: 42 });
    d.feed(hex('ff'));
    d.end();
    const err = step();
    assert.equal(err.type, 'error');
    if (err.type === 'error') assert.equal(err.error.code, 'ERR_UNEXPECTED_END');
    const e = new Decoder(u8);
    e.end();
    assert.deepStrictEqual(e.step(), { type: 'end' });
    assert.deepStrictEqual(kinds, ['need-read', 'value', 'error']);
    // Exhaustiveness at the type level: every case is handled.
    for (const s of seen) {
      switch (s.type) {
        case 'value':
        case 'need-read':
        case 'end':
        case 'error':
          break;
        default: {
          const never: never = s;
          assert.fail(String(never));
        }
      }
    }
  });

  it('drain() yields every value buffered now and stops at NEED_READ', () => {
    const d = new Decoder(u8);
    d.feed(hex('010203'));
    assert.deepStrictEqual([...d.drain()], [1, 2, 3]);
    assert.deepStrictEqual([...d.drain()], []);
    d.feed(hex('04'));
    d.end();
    assert.deepStrictEqual([...d.drain()], [4]);
    assert.equal(d.read(), END);
  });

  it('takes SourceOptions or a shared Source', () => {
    const capped = new Decoder(u8, { maxBuffered: 2 });
    assert.equal(capped.source.maxBuffered, 2);
    const s = new Source();
    const a = new Decoder(u8, s);
    const b = new Decoder(u16be, s);
    assert.equal(a.source, s);
    s.feed(hex('01 0203'));
    assert.equal(a.read(), 1);
    assert.equal(b.read(), 0x0203);
  });
});

describe('complete mode: parse, parseAll, runComplete', () => {
  it('parse raises ERR_TRAILING_BYTES at the end of the value unless allowTrailing', () => {
    assert.throws(() => parse(u16be, hex('0102 03')), isParseError('ERR_TRAILING_BYTES', 2));
    assert.equal(parse(u16be, hex('0102 03'), { allowTrailing: true }), 0x0102);
  });

  it('parseAll reads values back to back until the input ends exactly', () => {
    assert.deepStrictEqual(parseAll(u16be, hex('0001 0002')), [1, 2]);
    assert.deepStrictEqual(parseAll(u16be, new Uint8Array(0)), []);
    assert.throws(() => parseAll(u16be, hex('0001 00')), isParseError('ERR_UNEXPECTED_END', 2));
  });

  it('runComplete runs a parser on an ended Source and leaves the rest there', () => {
    const s = Source.complete(hex('07 01 aa ff'));
    assert.deepStrictEqual(runComplete(tlv, s), { type: 7, value: hex('aa') });
    assert.equal(s.position, 3);
    assert.deepStrictEqual(s.takeRest(), hex('ff'));
  });
});

describe('Parser.map', () => {
  it('maps values and, with an inverse, encodes', () => {
    const port = u16be.map(
      (n) => ({ port: n }),
      (o) => o.port,
    );
    assert.deepStrictEqual(parse(port, hex('1f90')), { port: 8080 });
    const w = new Writer();
    port.write(w, { port: 443 });
    assert.deepStrictEqual(w.toBytes(), hex('01bb'));
    checkParserSplits(port, backToBack(fixture(hex('1f90'), { port: 8080 }), fixture(hex('0050'), { port: 80 })), { numRuns: 30 });
  });

  it('without an inverse has no encoder', () => {
    assert.throws(() => u8.map(String).write(new Writer(), '1'), isUsage);
  });

  it('maps a generator parser in streaming mode too', () => {
    const len = tlv.map((r) => r.value.length);
    checkParserSplits(len, backToBack(fixture(hex('07 02 aabb'), 2), fixture(hex('01 00'), 0)), { numRuns: 50 });
  });

  it('round-trips a mapped parser with an inverse', () => {
    const signed = u8.map(
      (n) => (n << 24) >> 24,
      (v) => v & 0xff,
    );
    fc.assert(
      fc.property(fc.integer({ min: -128, max: 127 }), (v) => {
        const w = new Writer();
        signed.write(w, v);
        assert.equal(parse(signed, w.toBytes()), v);
      }),
      { numRuns: 100 },
    );
  });
});

describe('corruption', () => {
  it('a generator TLV stream gives a value or a typed error on any input, in both modes', () => {
    const valid = concat(tlvBytes(7, hex('aabbcc')), tlvBytes(1, ascii('hello world, a longer value')), tlvBytes(2, new Uint8Array(0)));
    checkCorruption((b) => parseAll(tlv, b), valid, { numRuns: 150 });
    checkCorruption(streamingDecode(tlv), valid, { numRuns: 100 });
    const lines = until('\r\n', { max: 16 });
    checkCorruption(streamingDecode(lines, { maxBuffered: 64 }), ascii('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), { numRuns: 100 });
  });
});
