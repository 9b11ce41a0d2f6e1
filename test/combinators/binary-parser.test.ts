import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Parser as BinaryParser } from 'binary-parser';
import { ParseError, UsageError, Writer, fromBinaryParser, parse, parseAll, tuple, u8 } from '../../src/combinators/index.js';
import { hex } from '../support/bytes.js';
import { backToBack, canonical, checkCorruption, checkParserSplits, fixture, streamingDecode } from '../support/splits.js';

type Fields = Record<string, unknown>;

// binary-parser's own method names for the fixed-size numbers our bridge translates.
const NUMBER_TYPES = [
  'uint8',
  'uint16be',
  'uint16le',
  'uint32be',
  'uint32le',
  'int8',
  'int16be',
  'int16le',
  'int32be',
  'int32le',
  'uint64be',
  'uint64le',
  'int64be',
  'int64le',
  'floatbe',
  'floatle',
  'doublebe',
  'doublele',
] as const;
type NumberType = (typeof NUMBER_TYPES)[number];
type FieldSpec = { kind: 'number'; type: NumberType } | { kind: 'skip'; length: number };

function build(specs: readonly FieldSpec[]): BinaryParser {
  let p = new BinaryParser();
  specs.forEach((f, i) => {
    p = f.kind === 'number' ? p[f.type](`f${i}`) : p.skip(f.length);
  });
  return p;
}

const fieldSpec: fc.Arbitrary<FieldSpec> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NUMBER_TYPES).map((type) => ({ kind: 'number' as const, type })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 5 }).map((length) => ({ kind: 'skip' as const, length })) },
);

/** A definition with random bytes of exactly its size. */
const definitionAndInput = fc
  .array(fieldSpec, { minLength: 1, maxLength: 10 })
  .filter((specs) => specs.some((f) => f.kind === 'number' || f.length > 0))
  .chain((specs) => {
    const def = build(specs);
    return fc.tuple(fc.constant(def), fc.uint8Array({ minLength: def.sizeOf(), maxLength: def.sizeOf() }));
  });

describe('fromBinaryParser', () => {
  it('numbers and skips: gives exactly what binary-parser parse() gives (differential)', () => {
    fc.assert(
      fc.property(definitionAndInput, ([def, input]) => {
        const ours = fromBinaryParser(def);
        assert.equal(ours.fixedSize, def.sizeOf());
        assert.deepStrictEqual(canonical(parse(ours, input)), canonical(def.parse(input)));
      }),
      { numRuns: 200 },
    );
  });

  it('numbers and skips are translated into a compiled struct (it has an encoder, binary-parser has none)', () => {
    fc.assert(
      fc.property(definitionAndInput, ([def, input]) => {
        const ours = fromBinaryParser<Fields>(def);
        const value = parse(ours, input);
        const w = new Writer();
        ours.write(w, value);
        // Skipped bytes are written as zeros; everything else comes back as it was.
        assert.deepStrictEqual(canonical(parse(ours, w.toBytes())), canonical(value));
        assert.equal(w.pos, def.sizeOf());
      }),
      { numRuns: 100 },
    );
  });

  it('applies formatters like binary-parser does', () => {
    const def = new BinaryParser()
      .uint16be('port')
      .uint8('flags', { formatter: (x: number) => ({ syn: (x & 1) === 1, ack: (x & 2) === 2 }) })
      .skip(1)
      .int32le('delta', { formatter: (x: number) => x * 2 });
    const input = hex('1f90 03 00 feffffff');
    assert.deepStrictEqual(parse(fromBinaryParser(def), input), def.parse(input));
    assert.deepStrictEqual(parse(fromBinaryParser(def), input), { port: 8080, flags: { syn: true, ack: true }, delta: -4 });
  });

  it('bit fields, strings, buffers and asserts fall back to binary-parser and still match', () => {
    const defs: [string, BinaryParser][] = [
      ['bits', new BinaryParser().bit4('version').bit4('ihl').uint8('tos').bit3('flags').bit13('fragment')],
      ['bits across 32', new BinaryParser().bit1('a').bit32('b').bit7('c').uint16le('d')],
      ['odd bits', new BinaryParser().bit3('a').bit3('b').uint8('c')],
      ['string', new BinaryParser().uint8('kind').string('name', { length: 5 }).uint16be('port')],
      ['buffer', new BinaryParser().uint8('kind').buffer('raw', { length: 4 })],
      ['array', new BinaryParser().array('xs', { type: 'uint16le', length: 3 })],
      ['assert', new BinaryParser().uint8('magic', { assert: 0x7f }).uint8('v')],
    ];
    for (const [label, def] of defs) {
      const ours = fromBinaryParser(def, label);
      const size = ours.fixedSize;
      assert.ok(size > 0, label);
      fc.assert(
        fc.property(fc.uint8Array({ minLength: size, maxLength: size }), (input) => {
          if (label === 'assert') input[0] = 0x7f;
          assert.deepStrictEqual(canonical(parse(ours, input)), canonical(def.parse(input)), label);
        }),
        { numRuns: 50 },
      );
      assert.throws(
        () => ours.write(new Writer(), {}),
        (e: unknown) => e instanceof UsageError,
        `${label}: no encoder`,
      );
    }
  });

  it('sizes a run of bit fields the way binary-parser reads it (random bit widths)', () => {
    const widths = fc.array(fc.integer({ min: 1, max: 32 }), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(widths, fc.boolean(), (ws, trailingByte) => {
        let def = new BinaryParser();
        ws.forEach((n, i) => {
          def = (def as unknown as Record<string, (name: string) => BinaryParser>)[`bit${n}`]!.call(def, `b${i}`);
        });
        if (trailingByte) def = def.uint8('tail');
        const ours = fromBinaryParser(def);
        // binary-parser's own count of consumed bytes, from a saveOffset at the end of a copy.
        const probe = build([]).nest('all', { type: def }).saveOffset('end');
        const input = new Uint8Array(64).fill(0xa5);
        const consumed = (probe.parse(input) as { end: number }).end;
        assert.equal(ours.fixedSize, consumed, `bits ${ws.join(',')}${trailingByte ? ' + u8' : ''}`);
        assert.deepStrictEqual(parse(ours, input.subarray(0, consumed)), def.parse(input));
      }),
      { numRuns: 100 },
    );
  });

  it('a bad assert is a typed ERR_MALFORMED at the record offset, not a plain Error', () => {
    const ours = fromBinaryParser(new BinaryParser().uint8('magic', { assert: 0x7f }).uint8('v'));
    assert.throws(
      () => parse(tuple(u8, ours), hex('00 7e 01')),
      (e: unknown) => e instanceof ParseError && e.code === 'ERR_MALFORMED' && e.offset === 1,
    );
    checkCorruption((b) => parseAll(ours, b), hex('7f 01 7f 02'), { numRuns: 100 });
    checkCorruption(streamingDecode(ours), hex('7f 01 7f 02'), { numRuns: 50 });
  });

  it('a definition without a fixed size raises ERR_USAGE', () => {
    const variable = [
      new BinaryParser().uint8('n').buffer('data', { length: 'n' }),
      new BinaryParser().string('s', { zeroTerminated: true }),
      new BinaryParser().uint8('n').array('xs', { type: 'uint8', length: 'n' }),
      new BinaryParser().uint8('n').bit4('a').string('s', { greedy: true }),
    ];
    for (const def of variable) {
      assert.throws(
        () => fromBinaryParser(def),
        (e: unknown) => e instanceof UsageError && e.code === 'ERR_USAGE',
      );
    }
  });

  it('gives the same values for any chunk split (translated and fallback)', () => {
    const fast = new BinaryParser().uint8('type').skip(1).uint16be('length').uint32le('id').doublebe('x');
    const a = hex('01 00 0004 09000000 3ff0000000000000');
    const b = hex('ff ee ffff ffffffff c000000000000000');
    checkParserSplits(
      fromBinaryParser<Fields>(fast),
      backToBack(fixture(a, fast.parse(a) as Fields), fixture(b, fast.parse(b) as Fields)),
      {
        numRuns: 80,
      },
    );
    const slow = new BinaryParser().bit4('v').bit4('h').string('tag', { length: 3 }).buffer('raw', { length: 3 });
    const c = hex('45 414243 010203');
    const d = hex('ff 787978 fffefd');
    checkParserSplits(
      fromBinaryParser<Fields>(slow),
      backToBack(fixture(c, slow.parse(c) as Fields), fixture(d, slow.parse(d) as Fields)),
      {
        numRuns: 80,
      },
    );
  });
});
