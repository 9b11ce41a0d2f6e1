/**
 * RFC 9204 Appendix B, "Encoding and Decoding Examples": the RFC's bytes fed to our decoder (fields,
 * table state, decoder-stream bytes), and our encoder run through the same scenario where the RFC's
 * choices are the ones our strategy makes (B.1, B.2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QpackDecoder, QpackEncoder, QpackError, type HeaderField } from '../../../src/http3/qpack/index.js';
import { hex } from '../../support/bytes.js';

const B1_STREAM_0 = hex('0000 510b 2f69 6e64 6578 2e68 746d 6c');
const B2_ENCODER = hex('3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468');
const B2_STREAM_4 = hex('0381 10 11');
const B2_DECODER = hex('84');
const B3_ENCODER = hex('4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565');
const B3_DECODER = hex('01');
const B4_ENCODER = hex('02');
const B4_STREAM_8 = hex('0500 80 c1 81');
const B4_DECODER = hex('48');
const B5_ENCODER = hex('810d 6375 7374 6f6d 2d76 616c 7565 32');

const f = (name: string, value: string): HeaderField => ({ name, value });
const plainFields = (fields: readonly HeaderField[]): HeaderField[] => fields.map((x) => ({ ...x }));

/** The RFC's decoder advertises a capacity of at least 220 (B.2 sets it); 220 gives MaxEntries 6, as the encoded RICs need. */
function rfcDecoder(): QpackDecoder {
  return new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 4 });
}

/** Runs B.1 to B.3 on a decoder. */
function throughB3(d: QpackDecoder): void {
  d.decodeFieldSection(0, B1_STREAM_0);
  d.receiveEncoderStream(B2_ENCODER);
  d.decodeFieldSection(4, B2_STREAM_4);
  d.receiveEncoderStream(B3_ENCODER);
  d.takeDecoderStreamData();
}

describe('RFC 9204 Appendix B, decoder side', () => {
  it('B.1 literal field line with name reference', () => {
    const d = rfcDecoder();
    const r = d.decodeFieldSection(0, B1_STREAM_0);
    assert.equal(r.kind, 'fields');
    assert.deepEqual(r.kind === 'fields' && plainFields(r.fields), [f(':path', '/index.html')]);
    // Required Insert Count 0: no Section Acknowledgment (section 4.4.1).
    assert.equal(d.takeDecoderStreamData(), null);
    assert.equal(d.tableSize, 0);
  });

  it('B.2 dynamic table: inserts, a post-Base section, then Section Acknowledgment 84', () => {
    const d = rfcDecoder();
    d.decodeFieldSection(0, B1_STREAM_0);
    d.receiveEncoderStream(B2_ENCODER);
    assert.equal(d.tableCapacity, 220);
    assert.equal(d.insertCount, 2);
    assert.equal(d.tableSize, 106);
    const r = d.decodeFieldSection(4, B2_STREAM_4);
    assert.deepEqual(r.kind === 'fields' && plainFields(r.fields), [f(':authority', 'www.example.com'), f(':path', '/sample/path')]);
    // The acknowledgment implies both inserts: no Insert Count Increment with it.
    assert.deepEqual(d.takeDecoderStreamData(), B2_DECODER);
  });

  it('B.3 speculative insert, then Insert Count Increment 01', () => {
    const d = rfcDecoder();
    d.decodeFieldSection(0, B1_STREAM_0);
    d.receiveEncoderStream(B2_ENCODER);
    d.decodeFieldSection(4, B2_STREAM_4);
    assert.deepEqual(d.takeDecoderStreamData(), B2_DECODER);
    d.receiveEncoderStream(B3_ENCODER);
    assert.equal(d.tableSize, 160);
    assert.deepEqual(d.takeDecoderStreamData(), B3_DECODER);
  });

  it('B.4 duplicate delayed, section blocked, stream cancelled: Stream Cancellation 48', () => {
    const d = rfcDecoder();
    throughB3(d);
    // "The packet containing the encoder stream data is delayed."
    assert.deepEqual(d.decodeFieldSection(8, B4_STREAM_8), { kind: 'blocked' });
    assert.equal(d.blockedStreamCount, 1);
    d.cancelStream(8);
    assert.equal(d.blockedStreamCount, 0);
    assert.deepEqual(d.takeDecoderStreamData(), B4_DECODER);
    // The duplicate arrives: the cancelled section stays forgotten.
    d.receiveEncoderStream(B4_ENCODER);
    assert.equal(d.tableSize, 217);
    assert.deepEqual(d.takeUnblocked(), []);
  });

  it('B.4 without the cancellation: the duplicate unblocks the section, acknowledged with 88', () => {
    const d = rfcDecoder();
    throughB3(d);
    assert.deepEqual(d.decodeFieldSection(8, B4_STREAM_8), { kind: 'blocked' });
    assert.deepEqual(d.takeUnblocked(), []);
    d.receiveEncoderStream(B4_ENCODER);
    const u = d.takeUnblocked();
    assert.equal(u.length, 1);
    assert.equal(u[0]!.streamId, 8);
    assert.deepEqual(plainFields(u[0]!.fields), [f(':authority', 'www.example.com'), f(':path', '/'), f('custom-key', 'custom-value')]);
    // Section Acknowledgment for stream 8; its Required Insert Count (4) covers every insert.
    assert.deepEqual(d.takeDecoderStreamData(), hex('88'));
  });

  it('B.5 insert with a dynamic name reference evicts the oldest entry', () => {
    const d = rfcDecoder();
    throughB3(d);
    d.decodeFieldSection(8, B4_STREAM_8);
    d.cancelStream(8);
    d.receiveEncoderStream(B4_ENCODER);
    d.receiveEncoderStream(B5_ENCODER);
    assert.equal(d.insertCount, 5);
    assert.equal(d.tableSize, 215);
    // Sections of our own (RIC 5 -> encoded 5 mod 12 + 1 = 6; Base 5): relative index 0 is the new entry
    // (absolute 4), relative 1 the duplicate (absolute 3); absolute 0 was evicted.
    const r = d.decodeFieldSection(12, hex('0600 80 81 82 83'));
    assert.deepEqual(r.kind === 'fields' && plainFields(r.fields), [
      f('custom-key', 'custom-value2'),
      f(':authority', 'www.example.com'),
      f('custom-key', 'custom-value'),
      f(':path', '/sample/path'),
    ]);
    assert.throws(
      () => d.decodeFieldSection(16, hex('0600 84')),
      (e: unknown) =>
        e instanceof QpackError && e.code === 'QPACK_DECOMPRESSION_FAILED' && e.kind === 'dynamic-index' && e.h3Code === 0x200,
    );
  });

  it('the whole encoder stream of B.2-B.5 gives the same table in any chunking (every 2-way split, byte by byte)', () => {
    const all = new Uint8Array([...B2_ENCODER, ...B3_ENCODER, ...B4_ENCODER, ...B5_ENCODER]);
    const check = (chunks: Uint8Array[]): void => {
      const d = rfcDecoder();
      for (const c of chunks) d.receiveEncoderStream(c.slice());
      assert.equal(d.insertCount, 5);
      assert.equal(d.tableSize, 215);
      const r = d.decodeFieldSection(12, hex('0600 80 81 82 83'));
      assert.deepEqual(r.kind === 'fields' && r.fields.map((x) => x.value), [
        'custom-value2',
        'www.example.com',
        'custom-value',
        '/sample/path',
      ]);
    };
    check([all]);
    check([...all].map((b) => Uint8Array.of(b)));
    for (let k = 0; k <= all.length; k++) check([all.subarray(0, k), all.subarray(k)]);
  });
});

describe('RFC 9204 Appendix B, encoder side', () => {
  it('B.1: before SETTINGS, a literal with a static name reference', () => {
    const e = new QpackEncoder({ huffman: false });
    assert.deepEqual(e.encodeFieldSection(0, [f(':path', '/index.html')]), B1_STREAM_0);
    assert.equal(e.takeEncoderStreamData(), null);
  });

  it('B.2: capacity 220, two inserts with static name references, post-Base references; 84 acknowledges', () => {
    const e = new QpackEncoder({ huffman: false });
    e.encodeFieldSection(0, [f(':path', '/index.html')]);
    e.applyPeerSettings({ maxTableCapacity: 220, blockedStreams: 1 });
    assert.deepEqual(e.encodeFieldSection(4, [f(':authority', 'www.example.com'), f(':path', '/sample/path')]), B2_STREAM_4);
    assert.deepEqual(e.takeEncoderStreamData(), B2_ENCODER);
    assert.equal(e.tableSize, 106);
    assert.equal(e.blockingStreamCount, 1);
    e.receiveDecoderStream(B2_DECODER);
    assert.equal(e.knownReceived, 2);
    assert.equal(e.blockingStreamCount, 0);
  });

  it('B.3: an Insert Count Increment for an insert we never made is QPACK_DECODER_STREAM_ERROR', () => {
    const e = new QpackEncoder({ huffman: false });
    e.applyPeerSettings({ maxTableCapacity: 220, blockedStreams: 1 });
    e.encodeFieldSection(4, [f(':authority', 'www.example.com'), f(':path', '/sample/path')]);
    e.receiveDecoderStream(B2_DECODER);
    assert.throws(
      () => e.receiveDecoderStream(B3_DECODER),
      (err: unknown) =>
        err instanceof QpackError &&
        err.code === 'QPACK_DECODER_STREAM_ERROR' &&
        err.kind === 'insert-count-increment' &&
        err.h3Code === 0x202,
    );
  });

  it("B.4's Stream Cancellation 48 for a stream with no outstanding section is accepted", () => {
    const e = new QpackEncoder();
    e.receiveDecoderStream(B4_DECODER);
    assert.equal(e.blockingStreamCount, 0);
  });
});
