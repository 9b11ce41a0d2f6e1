import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../../src/combinators/errors.js';
import { FieldLineReader, type FieldLine } from '../../../src/http3/qpack/field-lines.js';
import { QpackDecoder, QpackEncoder, QpackError, type HeaderField } from '../../../src/http3/qpack/index.js';
import { StringReader } from '../../../src/http3/qpack/wire.js';
import { hex } from '../../support/bytes.js';

const f = (name: string, value: string): HeaderField => ({ name, value });
const isQpack = (code: string, kind: string) => (e: unknown) => e instanceof QpackError && e.code === code && e.kind === kind;

/** An encoder and a decoder wired together by hand. */
class Pair {
  readonly enc: QpackEncoder;
  readonly dec: QpackDecoder;
  constructor(capacity: number, blocked: number, encoderCap = 4096, huffman = false) {
    this.enc = new QpackEncoder({ maxTableCapacity: encoderCap, huffman });
    this.dec = new QpackDecoder({ maxTableCapacity: capacity, maxBlockedStreams: blocked });
    this.enc.applyPeerSettings({ maxTableCapacity: capacity, blockedStreams: blocked });
  }
  /** Encodes; moves the encoder stream, decodes the section, and returns the acknowledgments, all unless `hold`. */
  send(streamId: number, fields: HeaderField[], hold = false): { section: Uint8Array; encoderStream: Uint8Array | null } {
    const section = this.enc.encodeFieldSection(streamId, fields);
    const encoderStream = this.enc.takeEncoderStreamData();
    if (!hold) {
      if (encoderStream !== null) this.dec.receiveEncoderStream(encoderStream);
      const r = this.dec.decodeFieldSection(streamId, section);
      assert.equal(r.kind, 'fields');
      assert.deepEqual(r.kind === 'fields' && r.fields.map((x) => ({ ...x })), fields);
      this.ack();
    }
    return { section, encoderStream };
  }
  ack(): void {
    const d = this.dec.takeDecoderStreamData();
    if (d !== null) this.enc.receiveDecoderStream(d);
  }
}

/** The field lines of a section (after a 2-byte prefix), as representations. */
function linesOf(section: Uint8Array): FieldLine[] {
  const cur = { buf: section, pos: 2, end: section.length };
  const r = new FieldLineReader(new StringReader());
  const out: FieldLine[] = [];
  while (cur.pos < cur.end) {
    r.read(cur);
    out.push(r.toFieldLine());
  }
  return out;
}

const v25 = 'v'.repeat(25); // 'x-?' + 25 + 32 = 60-byte entries
const A = f('x-a', v25);
const B = f('x-b', v25);
const C = f('x-c', v25);
const D = f('x-d', v25);

describe('QpackEncoder: without a dynamic table', () => {
  it('static exact match -> indexed; static name -> literal with name reference; else literal name', () => {
    const e = new QpackEncoder({ huffman: false });
    const s = e.encodeFieldSection(0, [f(':method', 'GET'), f(':path', '/x'), f('x-custom', 'y')]);
    assert.deepEqual(s, hex('0000 d1 5102 2f78 2701 782d 6375 7374 6f6d 0179'));
    assert.equal(e.takeEncoderStreamData(), null);
  });

  it('no Set Dynamic Table Capacity when our cap or the peer allows less than one entry', () => {
    for (const [ours, theirs] of [
      [0, 4096],
      [4096, 0],
      [31, 4096],
    ] as const) {
      const e = new QpackEncoder({ maxTableCapacity: ours });
      e.applyPeerSettings({ maxTableCapacity: theirs, blockedStreams: 100 });
      assert.equal(e.tableCapacity, 0);
      assert.equal(e.takeEncoderStreamData(), null);
      assert.deepEqual(e.encodeFieldSection(0, [f('x-custom', 'y')]).subarray(0, 2), hex('0000'));
      assert.equal(e.takeEncoderStreamData(), null);
    }
  });

  it('uses min(ours, theirs) as capacity', () => {
    const e = new QpackEncoder({ maxTableCapacity: 300 });
    e.applyPeerSettings({ maxTableCapacity: 2 ** 62, blockedStreams: 0 });
    assert.equal(e.tableCapacity, 300);
    assert.deepEqual(e.takeEncoderStreamData(), hex('3f 8d 02'));
  });

  it('SETTINGS are applied once; bad arguments are UsageError', () => {
    const e = new QpackEncoder();
    e.applyPeerSettings({ maxTableCapacity: 0, blockedStreams: 0 });
    assert.throws(() => e.applyPeerSettings({ maxTableCapacity: 0, blockedStreams: 0 }), UsageError);
    assert.throws(() => new QpackEncoder().applyPeerSettings({ maxTableCapacity: -1, blockedStreams: 0 }), UsageError);
    assert.throws(() => new QpackEncoder({ maxTableCapacity: 0.5 }), UsageError);
    assert.throws(() => e.encodeFieldSection(-1, []), UsageError);
  });
});

describe('QpackEncoder: dynamic table', () => {
  it('with no blocked streams allowed, inserts but sends literals until the insert is acknowledged', () => {
    const p = new Pair(4096, 0);
    const first = p.send(0, [f('x-custom', 'foo')]);
    assert.deepEqual(first.section, hex('0000 2701 782d 6375 7374 6f6d 0366 6f6f'));
    // Insert with Literal Name (section 4.3.3), after Set Dynamic Table Capacity 4096.
    assert.deepEqual(first.encoderStream, hex('3fe11f 4878 2d63 7573 746f 6d03 666f 6f'));
    assert.equal(p.enc.knownReceived, 1); // the decoder's Insert Count Increment
    // Acknowledged now: RIC 1 (encoded 2 with MaxEntries 128), Base 1, relative index 0.
    assert.deepEqual(p.send(4, [f('x-custom', 'foo')]).section, hex('02 00 80'));
    assert.equal(p.enc.blockingStreamCount, 0);
  });

  it('never lets more streams risk blocking than SETTINGS_QPACK_BLOCKED_STREAMS', () => {
    const p = new Pair(4096, 1);
    const s0 = p.send(0, [A], true);
    assert.deepEqual(linesOf(s0.section), [{ kind: 'indexed-post-base', index: 0 }]);
    assert.equal(p.enc.blockingStreamCount, 1);
    // Stream 4 may not block: B is inserted but sent as a literal, and A (unacknowledged) is not referenced.
    const s4 = p.send(4, [B, A], true);
    assert.deepEqual(s4.section.subarray(0, 2), hex('0000'));
    assert.deepEqual(
      linesOf(s4.section).map((l) => l.kind),
      ['literal', 'literal'],
    );
    // Stream 0 already risks blocking: it may reference both.
    const s0b = p.send(0, [B, A], true);
    assert.deepEqual(linesOf(s0b.section), [
      { kind: 'indexed', isStatic: false, index: 0 },
      { kind: 'indexed', isStatic: false, index: 1 },
    ]);
    assert.equal(p.enc.blockingStreamCount, 1);
    // Deliver everything: stream 0 blocks (its inserts come later), the limit holds.
    assert.equal(p.dec.decodeFieldSection(0, s0.section).kind, 'blocked');
    assert.equal(p.dec.decodeFieldSection(4, s4.section).kind, 'fields');
    p.dec.receiveEncoderStream(s0.encoderStream!);
    p.dec.receiveEncoderStream(s4.encoderStream!);
    assert.deepEqual(
      p.dec.takeUnblocked().map((u) => u.streamId),
      [0],
    );
    assert.equal(p.dec.decodeFieldSection(0, s0b.section).kind, 'fields');
    p.ack();
    assert.equal(p.enc.blockingStreamCount, 0);
    assert.equal(p.enc.outstandingSectionCount, 0);
    assert.equal(p.enc.knownReceived, 2);
  });

  it('never evicts an unacknowledged entry: the insert is skipped instead', () => {
    const p = new Pair(128, 10, 128);
    p.send(0, [A], true);
    p.send(4, [B], true);
    assert.equal(p.enc.tableSize, 120);
    const s8 = p.send(8, [C], true);
    assert.equal(s8.encoderStream, null); // no room without evicting A, which the decoder has not acknowledged
    assert.equal(p.enc.tableSize, 120);
    assert.deepEqual(
      linesOf(s8.section).map((l) => l.kind),
      ['literal'],
    );
  });

  it('never evicts an entry referenced by an unacknowledged section', () => {
    const p = new Pair(128, 10, 128);
    p.send(0, [A]); // inserted, referenced, acknowledged
    const s4 = p.send(4, [A], true); // A referenced again, not acknowledged yet
    assert.equal(p.enc.outstandingSectionCount, 1);
    p.send(8, [B]);
    // C needs A's room: A is acknowledged but referenced by stream 4's section.
    assert.equal(p.send(12, [C]).encoderStream, null);
    // Once stream 4's section is acknowledged, A can go.
    assert.equal(p.dec.decodeFieldSection(4, s4.section).kind, 'fields');
    p.ack();
    const s16 = p.send(16, [C]);
    assert.notEqual(s16.encoderStream, null);
    assert.equal(p.enc.tableSize, 120);
    assert.equal(p.dec.tableSize, 120);
  });

  it('duplicates a draining entry instead of referencing it (RFC 9204 section 2.1.1.1)', () => {
    const p = new Pair(256, 10, 256);
    for (const [i, x] of [A, B, C, D].entries()) p.send(4 * i, [x]);
    assert.equal(p.enc.tableSize, 240);
    // A (oldest) is outside the newest 3/4 of the capacity (192 bytes): draining.
    const s = p.send(16, [A]);
    // Duplicate (000 + relative index 3 = absolute 0); A is evicted to make room.
    assert.deepEqual(s.encoderStream, hex('03'));
    // RIC 5 (MaxEntries 8: encoded 6), Base 4, post-Base 0.
    assert.deepEqual(s.section, hex('06 80 10'));
    assert.equal(p.enc.tableSize, 240);
    assert.equal(p.dec.tableSize, 240);
  });

  it('uses a dynamic name reference for a new value of a name only in the dynamic table', () => {
    const p = new Pair(4096, 10);
    p.send(0, [f('x-custom', 'one')]);
    const s = p.send(4, [f('x-custom', 'two')]);
    // Inserted with a name reference to relative index 0 (section 4.3.2, T=0) ...
    assert.deepEqual(s.encoderStream, hex('80 03 74 77 6f'));
    // ... and referenced after the Base (post-Base 0).
    assert.deepEqual(linesOf(s.section), [{ kind: 'indexed-post-base', index: 0 }]);
  });

  it('does not index values that change with every message, but may use their names', () => {
    const p = new Pair(4096, 10);
    const s = p.send(0, [f('content-length', '1234'), f('date', 'Mon, 21 Oct 2013 20:13:21 GMT')]);
    assert.equal(s.encoderStream!.length, 3); // only Set Dynamic Table Capacity
    assert.deepEqual(
      linesOf(s.section).map((l) => l.kind),
      ['literal-name-ref', 'literal-name-ref'],
    );
  });

  it('sends sensitive fields as never-indexed literals and never inserts them', () => {
    const p = new Pair(4096, 10);
    const fields = [
      f('authorization', 'Bearer abc'),
      { name: 'x-secret', value: 's3cr3t', sensitive: true },
      f('cookie', 'short=1'),
      f('cookie', 'a-long-cookie-value=0123456789'),
    ];
    const section = p.enc.encodeFieldSection(0, fields);
    const stream = p.enc.takeEncoderStreamData()!;
    p.dec.receiveEncoderStream(stream);
    assert.equal(p.dec.insertCount, 1); // only the long cookie
    const lines = linesOf(section.subarray(0));
    assert.deepEqual(
      lines.map((l) => 'never' in l && l.never),
      [true, true, true, false],
    );
    const r = p.dec.decodeFieldSection(0, section);
    assert.deepEqual(r.kind === 'fields' && r.fields.map((x) => ({ ...x })), [
      { name: 'authorization', value: 'Bearer abc', sensitive: true },
      { name: 'x-secret', value: 's3cr3t', sensitive: true },
      { name: 'cookie', value: 'short=1', sensitive: true },
      { name: 'cookie', value: 'a-long-cookie-value=0123456789' },
    ]);
  });

  it('Huffman-codes strings when that is shorter, and the result decodes the same', () => {
    const fields = [f(':authority', 'www.example.com'), f('user-agent', 'Mozilla/5.0 (X11; Linux x86_64)'), f('x-unicode', 'caf\u00e9')];
    const plain = new QpackEncoder({ huffman: false }).encodeFieldSection(0, fields);
    const huff = new QpackEncoder().encodeFieldSection(0, fields);
    assert.ok(huff.length < plain.length, `${huff.length} < ${plain.length}`);
    const d = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
    const r = d.decodeFieldSection(0, huff);
    assert.deepEqual(r.kind === 'fields' && r.fields.map((x) => ({ ...x })), fields);
  });
});

describe('QpackEncoder: decoder stream', () => {
  it('a Section Acknowledgment with nothing to acknowledge is QPACK_DECODER_STREAM_ERROR', () => {
    const p = new Pair(4096, 10);
    p.send(0, [A]);
    assert.throws(() => p.enc.receiveDecoderStream(hex('80')), isQpack('QPACK_DECODER_STREAM_ERROR', 'unknown-section'));
    assert.throws(() => new QpackEncoder().receiveDecoderStream(hex('84')), isQpack('QPACK_DECODER_STREAM_ERROR', 'unknown-section'));
  });

  it('an Insert Count Increment of 0 is QPACK_DECODER_STREAM_ERROR', () => {
    assert.throws(
      () => new QpackEncoder().receiveDecoderStream(hex('00')),
      isQpack('QPACK_DECODER_STREAM_ERROR', 'insert-count-increment'),
    );
  });

  it('an integer beyond the limit is QPACK_DECODER_STREAM_ERROR, also when split', () => {
    const big = hex('7f ff ff ff ff ff ff ff ff 01');
    assert.throws(() => new QpackEncoder().receiveDecoderStream(big), isQpack('QPACK_DECODER_STREAM_ERROR', 'integer-overflow'));
    const e = new QpackEncoder();
    assert.throws(
      () => {
        for (const b of big) e.receiveDecoderStream(Uint8Array.of(b));
      },
      isQpack('QPACK_DECODER_STREAM_ERROR', 'integer-overflow'),
    );
  });

  it('instructions split byte by byte are applied once complete', () => {
    const p = new Pair(4096, 10);
    // Stream 1000: its acknowledgment needs a multi-byte integer.
    const s = p.send(1000, [A], true);
    p.dec.receiveEncoderStream(s.encoderStream!);
    p.dec.decodeFieldSection(1000, s.section);
    const acks = p.dec.takeDecoderStreamData()!;
    assert.deepEqual(acks, hex('ff e9 06'));
    for (const b of acks) p.enc.receiveDecoderStream(Uint8Array.of(b));
    assert.equal(p.enc.outstandingSectionCount, 0);
    assert.equal(p.enc.knownReceived, 1);
  });

  it('Stream Cancellation releases the references of every section of the stream', () => {
    const p = new Pair(128, 10, 128);
    p.send(0, [A]);
    p.send(4, [A], true);
    p.send(4, [A], true);
    assert.equal(p.enc.outstandingSectionCount, 2);
    p.dec.cancelStream(4);
    p.ack();
    assert.equal(p.enc.outstandingSectionCount, 0);
    p.send(8, [B]);
    // A is evictable again.
    assert.notEqual(p.send(12, [C]).encoderStream, null);
  });
});
