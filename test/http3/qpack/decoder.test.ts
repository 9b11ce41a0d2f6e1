import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../../../src/combinators/errors.js';
import { QpackDecoder, QpackError, type HeaderField } from '../../../src/http3/qpack/index.js';
import { hex } from '../../support/bytes.js';

const isQpack = (code: string, kind: string) => (e: unknown) => e instanceof QpackError && e.code === code && e.kind === kind;
const fieldsOf = (r: ReturnType<QpackDecoder['decodeFieldSection']>): HeaderField[] => {
  assert.equal(r.kind, 'fields');
  return r.kind === 'fields' ? r.fields.map((x) => ({ ...x })) : [];
};

// Encoder-stream instructions written by hand from RFC 9204 section 4.3 (no Huffman):
/** Set Dynamic Table Capacity: 001 + 5-bit prefix. */
function setCapacity(n: number): Uint8Array {
  return n < 31 ? Uint8Array.of(0x20 | n) : Uint8Array.of(0x3f, ...rest(n - 31));
}
function rest(v: number): number[] {
  const out: number[] = [];
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
const enc = new TextEncoder();
/** Insert with Literal Name: 01 H=0 + 5-bit name length, name, H=0 + 7-bit value length, value (lengths < 31 / 127 here). */
function insertLiteral(name: string, value: string): Uint8Array {
  const n = enc.encode(name);
  const v = enc.encode(value);
  assert.ok(n.length < 31 && v.length < 127);
  return Uint8Array.of(0x40 | n.length, ...n, v.length, ...v);
}
/** Insert with Name Reference to the static table: 1 T=1 + 6-bit index, value. */
function insertStaticName(index: number, value: string): Uint8Array {
  const v = enc.encode(value);
  assert.ok(index < 63 && v.length < 127);
  return Uint8Array.of(0xc0 | index, v.length, ...v);
}
/** Duplicate: 000 + 5-bit relative index. */
function duplicate(rel: number): Uint8Array {
  assert.ok(rel < 31);
  return Uint8Array.of(rel);
}
/** A field section prefix for a decoder advertising `maxCapacity` (RFC 9204 section 4.5.1). */
function prefix(ric: number, base: number, maxCapacity: number): number[] {
  const maxEntries = Math.floor(maxCapacity / 32);
  const e = ric === 0 ? 0 : (ric % (2 * maxEntries)) + 1;
  assert.ok(e < 255);
  const [s, d] = base >= ric ? [0, base - ric] : [0x80, ric - base - 1];
  assert.ok(d < 127);
  return [e, s | d];
}

function decoderWith(entries: Array<[string, string]>, maxTableCapacity = 1000, maxBlockedStreams = 8): QpackDecoder {
  const d = new QpackDecoder({ maxTableCapacity, maxBlockedStreams });
  d.receiveEncoderStream(setCapacity(maxTableCapacity));
  for (const [n, v] of entries) d.receiveEncoderStream(insertLiteral(n, v));
  return d;
}

describe('QpackDecoder: field sections', () => {
  it('resolves relative, post-Base and static references and literal names', () => {
    const d = decoderWith([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]);
    // RIC 3, Base 1: relative 0 = abs 0; post-Base 0 = abs 1, 1 = abs 2.
    const good = Uint8Array.of(
      ...prefix(3, 1, 1000),
      0x80, // indexed, relative 0 -> abs 0
      0x10, // post-Base 0 -> abs 1
      0x11, // post-Base 1 -> abs 2
      0xd1, // static 17
      0x5f,
      0x00,
      0x01,
      0x78, // literal, static name ref 15 (:method), value "x"
      0x40,
      0x01,
      0x79, // literal, dynamic name ref relative 0 (abs 0, "a"), value "y"
      0x01,
      0x01,
      0x7a, // literal, post-Base name ref 1 (abs 2, "c"), value "z"
      0x23,
      0x6e,
      0x6e,
      0x6e,
      0x00, // literal name "nnn", value ""
    );
    assert.deepEqual(fieldsOf(d.decodeFieldSection(0, good)), [
      { name: 'a', value: '1' },
      { name: 'b', value: '2' },
      { name: 'c', value: '3' },
      { name: ':method', value: 'GET' },
      { name: ':method', value: 'x' },
      { name: 'a', value: 'y' },
      { name: 'c', value: 'z' },
      { name: 'nnn', value: '' },
    ]);
    // RIC 3 > 0: Section Acknowledgment (stream 0) and nothing else (it covers the three inserts).
    assert.deepEqual(d.takeDecoderStreamData(), hex('80'));
  });

  it('marks fields sent with the N bit as sensitive', () => {
    const d = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
    // 0x7f 0x45 = literal, N=1, static name ref 15+69 = 84 (authorization); 0x33 = literal name, N=1, length 3.
    const r = d.decodeFieldSection(0, Uint8Array.of(0, 0, 0x7f, 0x45, 0x01, 0x73, 0x33, 0x6b, 0x65, 0x79, 0x01, 0x76));
    assert.deepEqual(fieldsOf(r), [
      { name: 'authorization', value: 's', sensitive: true },
      { name: 'key', value: 'v', sensitive: true },
    ]);
  });

  it('decodes UTF-8, and replaces invalid UTF-8 instead of failing', () => {
    const d = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
    const value = enc.encode('caf\u00e9 \u{1f600}');
    const r = d.decodeFieldSection(0, Uint8Array.of(0, 0, 0x5f, 0x00, value.length, ...value, 0x5f, 0x00, 0x02, 0xc3, 0x28));
    assert.deepEqual(fieldsOf(r), [
      { name: ':method', value: 'caf\u00e9 \u{1f600}' },
      { name: ':method', value: '\ufffd(' },
    ]);
  });

  it('a reference at or above the Required Insert Count, or to an evicted entry, is QPACK_DECOMPRESSION_FAILED', () => {
    const d = decoderWith([
      ['a', '1'],
      ['b', '2'],
    ]);
    // RIC 1, Base 1: post-Base 0 is abs 1 >= RIC.
    assert.throws(
      () => d.decodeFieldSection(0, Uint8Array.of(...prefix(1, 1, 1000), 0x10)),
      isQpack('QPACK_DECOMPRESSION_FAILED', 'dynamic-index'),
    );
    // RIC 0 but a dynamic reference.
    assert.throws(() => d.decodeFieldSection(0, Uint8Array.of(0, 0, 0x80)), isQpack('QPACK_DECOMPRESSION_FAILED', 'dynamic-index'));
    // Relative index past the oldest entry (abs -1).
    assert.throws(
      () => d.decodeFieldSection(0, Uint8Array.of(...prefix(2, 2, 1000), 0x82)),
      isQpack('QPACK_DECOMPRESSION_FAILED', 'dynamic-index'),
    );
    // Name reference beyond RIC.
    assert.throws(
      () => d.decodeFieldSection(0, Uint8Array.of(...prefix(1, 1, 1000), 0x00, 0x00)),
      isQpack('QPACK_DECOMPRESSION_FAILED', 'dynamic-index'),
    );
    // Evicted: shrink the capacity to fit one entry (35 bytes each), leaving only abs 1.
    d.receiveEncoderStream(setCapacity(40));
    assert.equal(d.tableSize, 34);
    assert.throws(
      () => d.decodeFieldSection(0, Uint8Array.of(...prefix(2, 2, 1000), 0x81)),
      isQpack('QPACK_DECOMPRESSION_FAILED', 'dynamic-index'),
    );
    assert.deepEqual(fieldsOf(d.decodeFieldSection(0, Uint8Array.of(...prefix(2, 2, 1000), 0x80))), [{ name: 'b', value: '2' }]);
  });

  it('a static index >= 99 is QPACK_DECOMPRESSION_FAILED', () => {
    const d = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
    assert.deepEqual(fieldsOf(d.decodeFieldSection(0, Uint8Array.of(0, 0, 0xff, 0x23))), [
      { name: 'x-frame-options', value: 'sameorigin' },
    ]);
    assert.throws(() => d.decodeFieldSection(0, Uint8Array.of(0, 0, 0xff, 0x24)), isQpack('QPACK_DECOMPRESSION_FAILED', 'static-index'));
    assert.throws(
      () => d.decodeFieldSection(0, Uint8Array.of(0, 0, 0x5f, 0x54, 0x00)),
      isQpack('QPACK_DECOMPRESSION_FAILED', 'static-index'),
    );
  });

  it('a Required Insert Count with no table (MaxEntries 0) is QPACK_DECOMPRESSION_FAILED', () => {
    const d = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 10 });
    assert.throws(() => d.decodeFieldSection(0, Uint8Array.of(1, 0)), isQpack('QPACK_DECOMPRESSION_FAILED', 'required-insert-count'));
  });

  it('maxFieldSectionSize counts name + value + 32 per line (RFC 9114 section 4.2.2)', () => {
    // :method GET = 7 + 3 + 32 = 42 octets per line.
    const d = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0, maxFieldSectionSize: 84 });
    assert.equal(fieldsOf(d.decodeFieldSection(0, Uint8Array.of(0, 0, 0xd1, 0xd1))).length, 2);
    assert.throws(
      () => d.decodeFieldSection(0, Uint8Array.of(0, 0, 0xd1, 0xd1, 0xd1)),
      isQpack('QPACK_DECOMPRESSION_FAILED', 'field-section-size'),
    );
    // Octets, not UTF-16 units: "é" is 2 octets; ":method" + 22 x "é" = 7 + 44 + 32 = 83.
    const v = enc.encode('\u00e9'.repeat(22));
    assert.equal(fieldsOf(d.decodeFieldSection(0, Uint8Array.of(0, 0, 0x5f, 0x00, v.length, ...v))).length, 1);
    const w = enc.encode('\u00e9'.repeat(23));
    assert.throws(
      () => d.decodeFieldSection(0, Uint8Array.of(0, 0, 0x5f, 0x00, w.length, ...w)),
      isQpack('QPACK_DECOMPRESSION_FAILED', 'field-section-size'),
    );
  });
});

describe('QpackDecoder: blocked streams', () => {
  it('blocks until the inserts arrive, then unblocks in arrival order and acknowledges', () => {
    const d = decoderWith([], 1000, 3);
    const s4 = Uint8Array.of(...prefix(2, 2, 1000), 0x80);
    const s8 = Uint8Array.of(...prefix(1, 1, 1000), 0x80);
    const s12 = Uint8Array.of(...prefix(2, 0, 1000), 0x10, 0x11);
    assert.deepEqual(d.decodeFieldSection(4, s4), { kind: 'blocked' });
    assert.deepEqual(d.decodeFieldSection(8, s8), { kind: 'blocked' });
    assert.deepEqual(d.decodeFieldSection(12, s12), { kind: 'blocked' });
    assert.equal(d.blockedStreamCount, 3);
    d.receiveEncoderStream(insertLiteral('a', '1'));
    assert.deepEqual(
      d.takeUnblocked().map((u) => [u.streamId, u.fields.map((x) => ({ ...x }))]),
      [[8, [{ name: 'a', value: '1' }]]],
    );
    assert.deepEqual(d.takeUnblocked(), []);
    d.receiveEncoderStream(insertLiteral('b', '2'));
    assert.deepEqual(
      d.takeUnblocked().map((u) => [u.streamId, u.fields.map((x) => ({ ...x }))]),
      [
        [4, [{ name: 'b', value: '2' }]],
        [
          12,
          [
            { name: 'a', value: '1' },
            { name: 'b', value: '2' },
          ],
        ],
      ],
    );
    assert.equal(d.blockedStreamCount, 0);
    // Acknowledgments in decoding order (8, 4, 12); they cover both inserts.
    assert.deepEqual(d.takeDecoderStreamData(), Uint8Array.of(0x88, 0x84, 0x8c));
  });

  it('a section whose inserts arrive in the same chunk as later inserts is decoded as soon as its entries exist', () => {
    // Capacity fits one entry only: entry 0 is evicted by entry 1. The section needs entry 0 (RIC 1).
    const d = decoderWith([], 40, 1);
    assert.deepEqual(d.decodeFieldSection(4, Uint8Array.of(...prefix(1, 1, 40), 0x80)), { kind: 'blocked' });
    d.receiveEncoderStream(new Uint8Array([...insertLiteral('a', '1'), ...insertLiteral('b', '2')]));
    assert.deepEqual(
      d.takeUnblocked().map((u) => u.fields.map((x) => ({ ...x }))),
      [[{ name: 'a', value: '1' }]],
    );
  });

  it('more blocked streams than maxBlockedStreams is QPACK_DECOMPRESSION_FAILED; later sections of a blocked stream wait behind it', () => {
    const d = decoderWith([], 1000, 1);
    assert.deepEqual(d.decodeFieldSection(4, Uint8Array.of(...prefix(1, 1, 1000), 0x80)), { kind: 'blocked' });
    // Same stream (trailers): queued even though it needs nothing, and it does not count as a new blocked stream.
    assert.deepEqual(d.decodeFieldSection(4, Uint8Array.of(0, 0, 0xd1)), { kind: 'blocked' });
    assert.equal(d.blockedStreamCount, 1);
    // A section that needs nothing, on another stream, is not blocked.
    assert.equal(d.decodeFieldSection(8, Uint8Array.of(0, 0, 0xd1)).kind, 'fields');
    assert.throws(
      () => d.decodeFieldSection(12, Uint8Array.of(...prefix(1, 1, 1000), 0x80)),
      isQpack('QPACK_DECOMPRESSION_FAILED', 'blocked-streams'),
    );
    const zero = decoderWith([], 1000, 0);
    assert.throws(
      () => zero.decodeFieldSection(4, Uint8Array.of(...prefix(1, 1, 1000), 0x80)),
      isQpack('QPACK_DECOMPRESSION_FAILED', 'blocked-streams'),
    );
  });

  it('both sections of a stream come out in order when unblocked', () => {
    const d = decoderWith([], 1000, 1);
    d.decodeFieldSection(4, Uint8Array.of(...prefix(1, 1, 1000), 0x80));
    d.decodeFieldSection(4, Uint8Array.of(0, 0, 0xd1));
    d.receiveEncoderStream(insertLiteral('a', '1'));
    assert.deepEqual(
      d.takeUnblocked().map((u) => [u.streamId, u.fields.map((x) => ({ ...x }))]),
      [
        [4, [{ name: 'a', value: '1' }]],
        [4, [{ name: ':method', value: 'GET' }]],
      ],
    );
    // One acknowledgment: only the first section had a non-zero Required Insert Count.
    assert.deepEqual(d.takeDecoderStreamData(), hex('84'));
  });

  it('cancelStream forgets blocked sections, frees the slot, and sends Stream Cancellation unless the capacity is 0', () => {
    const d = decoderWith([], 1000, 1);
    d.decodeFieldSection(4, Uint8Array.of(...prefix(1, 1, 1000), 0x80));
    d.cancelStream(4);
    assert.equal(d.blockedStreamCount, 0);
    assert.equal(d.decodeFieldSection(8, Uint8Array.of(...prefix(1, 1, 1000), 0x80)).kind, 'blocked');
    d.receiveEncoderStream(insertLiteral('a', '1'));
    assert.deepEqual(
      d.takeUnblocked().map((u) => u.streamId),
      [8],
    );
    // Stream Cancellation 4 (01 + 6-bit), then the acknowledgment of 8.
    assert.deepEqual(d.takeDecoderStreamData(), hex('44 88'));
    // Stream IDs above the 6-bit prefix.
    d.cancelStream(400);
    assert.deepEqual(d.takeDecoderStreamData(), Uint8Array.of(0x7f, ...rest(400 - 63)));
    const none = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
    none.cancelStream(4);
    assert.equal(none.takeDecoderStreamData(), null);
  });
});

describe('QpackDecoder: encoder stream', () => {
  it('Insert Count Increment covers inserts not implied by acknowledgments, coalesced until taken', () => {
    const d = decoderWith([], 1000, 1);
    assert.deepEqual(d.takeDecoderStreamData(), null);
    d.receiveEncoderStream(insertLiteral('a', '1'));
    d.receiveEncoderStream(insertStaticName(0, 'example.org'));
    d.receiveEncoderStream(duplicate(0));
    assert.deepEqual(d.takeDecoderStreamData(), hex('03'));
    assert.equal(d.takeDecoderStreamData(), null);
    // A section with RIC 2 after 3 inserts: its acknowledgment implies 2, which is already known.
    d.decodeFieldSection(4, Uint8Array.of(...prefix(2, 2, 1000), 0x80));
    assert.deepEqual(d.takeDecoderStreamData(), hex('84'));
  });

  it('Set Dynamic Table Capacity above the maximum is QPACK_ENCODER_STREAM_ERROR', () => {
    const d = new QpackDecoder({ maxTableCapacity: 100, maxBlockedStreams: 0 });
    d.receiveEncoderStream(setCapacity(100));
    assert.throws(() => d.receiveEncoderStream(setCapacity(101)), isQpack('QPACK_ENCODER_STREAM_ERROR', 'capacity'));
    const zero = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
    zero.receiveEncoderStream(setCapacity(0));
    assert.throws(() => zero.receiveEncoderStream(setCapacity(1)), isQpack('QPACK_ENCODER_STREAM_ERROR', 'capacity'));
  });

  it('an entry larger than the capacity is QPACK_ENCODER_STREAM_ERROR, raised from the length before the bytes arrive', () => {
    const d = new QpackDecoder({ maxTableCapacity: 64, maxBlockedStreams: 0 });
    d.receiveEncoderStream(setCapacity(64));
    // name "abcd" (4) + value 28 + 32 = 64 fits exactly.
    d.receiveEncoderStream(insertLiteral('abcd', 'x'.repeat(28)));
    assert.equal(d.tableSize, 64);
    // value 29: only the header bytes are sent.
    const ins = insertLiteral('abcd', 'x'.repeat(29));
    assert.throws(() => d.receiveEncoderStream(ins.subarray(0, 7)), isQpack('QPACK_ENCODER_STREAM_ERROR', 'entry-too-large'));
    // A huge declared length is refused at once (nothing buffered for it).
    const d2 = new QpackDecoder({ maxTableCapacity: 64, maxBlockedStreams: 0 });
    d2.receiveEncoderStream(setCapacity(64));
    assert.throws(
      () => d2.receiveEncoderStream(Uint8Array.of(0x41, 0x61, 0x7f, 0xff, 0xff, 0x7f)),
      isQpack('QPACK_ENCODER_STREAM_ERROR', 'entry-too-large'),
    );
    // With no capacity set yet (0), any insert is too large.
    const d3 = new QpackDecoder({ maxTableCapacity: 64, maxBlockedStreams: 0 });
    assert.throws(() => d3.receiveEncoderStream(insertLiteral('a', '')), isQpack('QPACK_ENCODER_STREAM_ERROR', 'entry-too-large'));
  });

  it('references to missing entries and bad static indices are QPACK_ENCODER_STREAM_ERROR', () => {
    const d = decoderWith([['a', '1']]);
    assert.throws(() => d.receiveEncoderStream(duplicate(1)), isQpack('QPACK_ENCODER_STREAM_ERROR', 'dynamic-index'));
    assert.throws(() => d.receiveEncoderStream(Uint8Array.of(0x81, 0x00)), isQpack('QPACK_ENCODER_STREAM_ERROR', 'dynamic-index'));
    assert.throws(() => d.receiveEncoderStream(Uint8Array.of(0xff, 0x24, 0x00)), isQpack('QPACK_ENCODER_STREAM_ERROR', 'static-index'));
    const d2 = decoderWith([['a', '1']]);
    d2.receiveEncoderStream(Uint8Array.of(0xff, 0x23, 0x00)); // static 98 is fine
    assert.equal(d2.insertCount, 2);
  });

  it('Huffman errors and oversized integers on the encoder stream are QPACK_ENCODER_STREAM_ERROR', () => {
    assert.throws(
      () => decoderWith([]).receiveEncoderStream(Uint8Array.of(0x41, 0x61, 0x81, 0xff)),
      isQpack('QPACK_ENCODER_STREAM_ERROR', 'huffman-padding'),
    );
    assert.throws(
      () => decoderWith([]).receiveEncoderStream(Uint8Array.of(0x41, 0x61, 0x84, 0xff, 0xff, 0xff, 0xff)),
      isQpack('QPACK_ENCODER_STREAM_ERROR', 'huffman-eos'),
    );
    assert.throws(
      () => decoderWith([]).receiveEncoderStream(Uint8Array.of(0x3f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)),
      isQpack('QPACK_ENCODER_STREAM_ERROR', 'integer-overflow'),
    );
  });

  it('any chunking of a stream of instructions gives the same table (property)', () => {
    const all = new Uint8Array([
      ...setCapacity(300),
      ...insertLiteral('custom-key', 'custom-value'),
      ...insertStaticName(0, 'www.example.com'),
      ...duplicate(1),
      // Insert with Name Reference, dynamic relative 0 (the duplicate), Huffman value "custom-key" (RFC 7541 C.4.3).
      ...hex('80 88 25a8 49e9 5ba9 7d7f'),
      ...setCapacity(200),
      ...insertLiteral('k', 'v'.repeat(100)),
    ]);
    const reference = decoderWith([], 300, 0);
    reference.receiveEncoderStream(all.subarray(setCapacity(300).length));
    const expectSize = reference.tableSize;
    const expectCount = reference.insertCount;
    fc.assert(
      fc.property(fc.array(fc.nat(all.length), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const d = new QpackDecoder({ maxTableCapacity: 300, maxBlockedStreams: 0 });
        let at = 0;
        for (const p of [...points, all.length]) {
          d.receiveEncoderStream(all.slice(at, p));
          at = p;
        }
        assert.equal(d.insertCount, expectCount);
        assert.equal(d.tableSize, expectSize);
      }),
    );
    assert.equal(expectCount, 5);
    // Sizes 54, 57, 54, 52 (217); the drop to 200 evicts the first, the 133-byte insert the next two.
    assert.equal(expectSize, 133 + 52);
  });
});

describe('QpackDecoder: options', () => {
  it('rejects bad options as UsageError', () => {
    assert.throws(() => new QpackDecoder({ maxTableCapacity: -1, maxBlockedStreams: 0 }), UsageError);
    assert.throws(() => new QpackDecoder({ maxTableCapacity: 1.5, maxBlockedStreams: 0 }), UsageError);
    assert.throws(() => new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: NaN }), UsageError);
    assert.throws(
      () => new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 }).decodeFieldSection(-4, Uint8Array.of(0, 0)),
      UsageError,
    );
  });
});
