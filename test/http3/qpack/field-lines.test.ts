import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { QpackError } from '../../../src/http3/qpack/errors.js';
import {
  decodeRequiredInsertCount,
  encodeRequiredInsertCount,
  FieldLineReader,
  maxEntriesOf,
  readSectionPrefix,
  writeFieldLine,
  writeSectionPrefix,
  type FieldLine,
  type SectionPrefix,
} from '../../../src/http3/qpack/field-lines.js';
import type { ByteCursor } from '../../../src/http3/qpack/prefixed-int.js';
import { ByteSink, StringReader } from '../../../src/http3/qpack/wire.js';
import { hex } from '../../support/bytes.js';

const isQpack = (code: string, kind?: string) => (e: unknown) =>
  e instanceof QpackError && e.code === code && (kind === undefined || e.kind === kind);

function readLines(bytes: Uint8Array): FieldLine[] {
  const cur: ByteCursor = { buf: bytes, pos: 0, end: bytes.length };
  const r = new FieldLineReader(new StringReader());
  const out: FieldLine[] = [];
  while (cur.pos < cur.end) {
    r.read(cur);
    out.push(r.toFieldLine());
  }
  return out;
}

function prefixOf(bytes: Uint8Array, maxEntries: number, inserts: number): SectionPrefix {
  const out: SectionPrefix = { requiredInsertCount: -1, base: -1 };
  readSectionPrefix({ buf: bytes, pos: 0, end: bytes.length }, maxEntries, inserts, out);
  return out;
}

describe('Required Insert Count (RFC 9204 section 4.5.1.1)', () => {
  it("the RFC's example: a 100-byte table, 10 inserts received, encoded 4 means 9", () => {
    const maxEntries = maxEntriesOf(100);
    assert.equal(maxEntries, 3);
    assert.equal(decodeRequiredInsertCount(4, maxEntries, 10), 9);
    assert.equal(encodeRequiredInsertCount(9, maxEntries), 4);
  });

  it('decodes every value a conformant encoder can send, for many table sizes and insert counts (exhaustive)', () => {
    for (const maxEntries of [1, 2, 3, 6, 7, 64]) {
      for (let inserts = 0; inserts <= 4 * maxEntries + 3; inserts++) {
        // A conformant encoder's RIC lies in (inserts - maxEntries, inserts + maxEntries]: the decoder still has
        // every entry it references (at most maxEntries older ones), and cannot be more than maxEntries behind.
        const seen = new Set<number>();
        for (let ric = Math.max(1, inserts - maxEntries + 1); ric <= inserts + maxEntries; ric++) {
          const enc = encodeRequiredInsertCount(ric, maxEntries);
          assert.ok(enc >= 1 && enc <= 2 * maxEntries);
          assert.equal(
            decodeRequiredInsertCount(enc, maxEntries, inserts),
            ric,
            `MaxEntries ${maxEntries}, inserts ${inserts}, RIC ${ric}`,
          );
          seen.add(enc);
        }
        // Every other encoded value either decodes outside that window or is an error, never inside it twice.
        for (let enc = 1; enc <= 2 * maxEntries + 2; enc++) {
          const ric = decodeRequiredInsertCount(enc, maxEntries, inserts);
          if (enc > 2 * maxEntries) assert.equal(ric, -1);
          else if (!seen.has(enc)) assert.ok(ric === -1 || ric > inserts + maxEntries || ric <= inserts - maxEntries);
        }
      }
    }
  });

  it('rejects 0 in disguise, values above the full range, and any non-zero value when MaxEntries is 0', () => {
    // MaxEntries 3 (FullRange 6), 0 inserts: MaxValue 3; encoded 6 -> 5 > 3, and 5 <= FullRange: error.
    assert.equal(decodeRequiredInsertCount(6, 3, 0), -1);
    assert.equal(decodeRequiredInsertCount(7, 3, 100), -1);
    assert.equal(decodeRequiredInsertCount(1, 0, 0), -1);
    assert.equal(decodeRequiredInsertCount(0, 0, 0), 0);
    // MaxEntries 3, 6 inserts: MaxValue 9, MaxWrapped 6, encoded 1 -> 6 + 0 = 6: RIC 6 (the wrap to a multiple).
    assert.equal(decodeRequiredInsertCount(1, 3, 6), 6);
    // MaxEntries 3, 3 inserts: MaxValue 6, MaxWrapped 6, encoded 1 -> 6; 6 <= 6 so RIC 6.
    assert.equal(decodeRequiredInsertCount(1, 3, 3), 6);
    // ... and 0 inserts: MaxValue 3, MaxWrapped 0, encoded 1 -> 0: "Value of 0 must be encoded as 0".
    assert.equal(decodeRequiredInsertCount(1, 3, 0), -1);
  });
});

describe('field section prefix (RFC 9204 section 4.5.1)', () => {
  it("Base: the RFC's example, RIC 9 with S=1 and Delta Base 2 is Base 6", () => {
    // MaxEntries 3, 10 inserts: encoded 4 -> 9; S=1, Delta Base 2 -> 0x82.
    assert.deepEqual(prefixOf(hex('04 82'), 3, 10), { requiredInsertCount: 9, base: 6 });
  });

  it('Appendix B prefixes: 0000, 0381, 0500', () => {
    assert.deepEqual(prefixOf(hex('0000'), 6, 0), { requiredInsertCount: 0, base: 0 });
    assert.deepEqual(prefixOf(hex('0381'), 6, 2), { requiredInsertCount: 2, base: 0 });
    assert.deepEqual(prefixOf(hex('0500'), 6, 3), { requiredInsertCount: 4, base: 4 });
  });

  it('writes what it reads (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.nat(1000), fc.nat(), fc.nat(), (maxEntries, inserts, a, b) => {
        // A RIC a conformant encoder could send to a decoder with `inserts` inserts, and any Base >= 0.
        const ric = a % 4 === 0 ? 0 : Math.max(1, inserts + 1 - (a % maxEntries));
        const base = b % (ric + 50);
        const sink = new ByteSink(4);
        writeSectionPrefix(sink, ric, base, maxEntries);
        assert.deepEqual(prefixOf(sink.buf.subarray(0, sink.pos), maxEntries, inserts), { requiredInsertCount: ric, base });
      }),
    );
  });

  it('rejects a negative Base (S=1 with Delta Base >= RIC), a bad RIC, an oversized integer and truncation', () => {
    assert.throws(() => prefixOf(hex('03 82'), 6, 2), isQpack('QPACK_DECOMPRESSION_FAILED', 'base'));
    assert.throws(() => prefixOf(hex('03 ff 00'), 6, 2), isQpack('QPACK_DECOMPRESSION_FAILED', 'base'));
    assert.throws(() => prefixOf(hex('0e 00'), 6, 2), isQpack('QPACK_DECOMPRESSION_FAILED', 'required-insert-count'));
    assert.throws(() => prefixOf(hex('01 00'), 0, 0), isQpack('QPACK_DECOMPRESSION_FAILED', 'required-insert-count'));
    assert.throws(() => prefixOf(hex('ff ff ff ff ff ff ff ff ff 01 00'), 6, 2), isQpack('QPACK_DECOMPRESSION_FAILED', 'integer-overflow'));
    assert.throws(() => prefixOf(hex(''), 6, 2), isQpack('QPACK_DECOMPRESSION_FAILED', 'truncated'));
    assert.throws(() => prefixOf(hex('00'), 6, 2), isQpack('QPACK_DECOMPRESSION_FAILED', 'truncated'));
    assert.throws(() => prefixOf(hex('00 7f'), 6, 2), isQpack('QPACK_DECOMPRESSION_FAILED', 'truncated'));
  });
});

describe('field line representations (RFC 9204 sections 4.5.2-4.5.6)', () => {
  it('the bit patterns of each representation', () => {
    // Appendix B.1: 51 0b "/index.html" is a literal with static name reference 1.
    assert.deepEqual(readLines(hex('510b 2f69 6e64 6578 2e68 746d 6c')), [
      { kind: 'literal-name-ref', isStatic: true, index: 1, value: '/index.html', never: false },
    ]);
    // Appendix B.2 and B.4 lines.
    assert.deepEqual(readLines(hex('10 11 80 c1 81')), [
      { kind: 'indexed-post-base', index: 0 },
      { kind: 'indexed-post-base', index: 1 },
      { kind: 'indexed', isStatic: false, index: 0 },
      { kind: 'indexed', isStatic: true, index: 1 },
      { kind: 'indexed', isStatic: false, index: 1 },
    ]);
    // N bits: 0x7x = 01 1 1 (literal name ref, N, static); 0x0f = 0000 1 111 (post-base name ref, N, index 7);
    // 0x3x = 001 1 0 (literal name, N, no Huffman).
    assert.deepEqual(readLines(hex('71 01 61  0f 00 01 62  33 61 62 63 01 64')), [
      { kind: 'literal-name-ref', isStatic: true, index: 1, value: 'a', never: true },
      { kind: 'literal-post-base-name-ref', index: 7, value: 'b', never: true },
      { kind: 'literal', name: 'abc', value: 'd', never: true },
    ]);
  });

  const line: fc.Arbitrary<FieldLine> = fc.oneof(
    fc.record({ kind: fc.constant('indexed' as const), isStatic: fc.boolean(), index: fc.nat(100000) }),
    fc.record({ kind: fc.constant('indexed-post-base' as const), index: fc.nat(100000) }),
    fc.record({
      kind: fc.constant('literal-name-ref' as const),
      isStatic: fc.boolean(),
      index: fc.nat(1000),
      value: fc.string(),
      never: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('literal-post-base-name-ref' as const),
      index: fc.nat(1000),
      value: fc.string({ unit: 'grapheme' }),
      never: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('literal' as const), name: fc.string(), value: fc.string({ unit: 'binary' }), never: fc.boolean() }),
  );

  it('every representation round-trips, with and without Huffman (property)', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.boolean(), (lines, huffman) => {
        const sink = new ByteSink(8);
        for (const l of lines) writeFieldLine(sink, l, huffman);
        assert.deepEqual(
          readLines(sink.buf.subarray(0, sink.pos)),
          lines.map((l) => ({ ...l })),
        );
      }),
    );
  });

  it('truncation anywhere inside a representation is QPACK_DECOMPRESSION_FAILED/truncated', () => {
    const sink = new ByteSink(8);
    writeFieldLine(sink, { kind: 'literal', name: 'custom-key', value: 'custom-value', never: false }, true);
    const whole = sink.buf.slice(0, sink.pos);
    for (let k = 1; k < whole.length; k++) {
      assert.throws(() => readLines(whole.subarray(0, k)), isQpack('QPACK_DECOMPRESSION_FAILED', 'truncated'), `first ${k} bytes`);
    }
  });

  it('Huffman errors in a field line are QPACK_DECOMPRESSION_FAILED', () => {
    // literal name ref, static 1, value H=1 length 1: 0xff (8 ones of padding) / 0x18 ('a' then 000).
    assert.throws(() => readLines(hex('51 81 ff')), isQpack('QPACK_DECOMPRESSION_FAILED', 'huffman-padding'));
    assert.throws(() => readLines(hex('51 81 18')), isQpack('QPACK_DECOMPRESSION_FAILED', 'huffman-padding'));
    assert.throws(() => readLines(hex('51 84 ff ff ff ff')), isQpack('QPACK_DECOMPRESSION_FAILED', 'huffman-eos'));
  });
});
