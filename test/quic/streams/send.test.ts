import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameSize } from '../../../src/quic/frame.js';
import { SendStream, type StreamPiece } from '../../../src/quic/streams/send.js';
import { streamBytes } from './support.js';

const ID = 4;
const bytes = (offset: number, len: number): Uint8Array => streamBytes(ID, offset, len);
const BIG = Number.MAX_SAFE_INTEGER;

function sizeOf(p: StreamPiece): number {
  return frameSize({ type: 'stream', streamId: ID, offset: p.offset, fin: p.fin, data: p.data });
}

/** Takes every new piece that fits in frames of `room` bytes. */
function drain(s: SendStream, room = 1200, conn = BIG): StreamPiece[] {
  const out: StreamPiece[] = [];
  let credit = conn;
  for (let p = s.nextNew(room, credit); p !== null; p = s.nextNew(room, credit)) {
    out.push(p);
    credit -= p.data.length;
  }
  return out;
}

describe('SendStream writes and backpressure', () => {
  it('a write takes what fits in the send buffer and reports it', () => {
    const s = new SendStream(ID, BIG, 100);
    assert.equal(s.write(bytes(0, 60)), 60);
    assert.equal(s.capacity, 40);
    assert.equal(s.write(bytes(60, 60)), 40);
    assert.equal(s.wantWritable, true);
    assert.equal(s.write(bytes(100, 1)), 0);
    assert.equal(s.buffered, 100);
  });

  it('memory is freed as the acknowledged prefix grows, not by acknowledgements beyond a gap', () => {
    const s = new SendStream(ID, BIG, 1000);
    s.write(bytes(0, 1000));
    const [a, b, c] = drain(s, 400);
    assert.ok(a && b && c);
    s.onAcked(b.offset, b.data.length, b.fin);
    assert.equal(s.buffered, 1000, 'a gap before: nothing freed');
    s.onAcked(a.offset, a.data.length, a.fin);
    assert.equal(s.buffered, 1000 - a.data.length - b.data.length);
    assert.equal(s.capacity, a.data.length + b.data.length);
  });
});

describe('SendStream pieces', () => {
  it('every piece fits the room, and the pieces cover the data in order with the FIN last', () => {
    for (const room of [6, 7, 8, 20, 70, 100, 1200]) {
      const s = new SendStream(ID, BIG, 10_000);
      s.write(bytes(0, 3000));
      s.finish();
      const pieces = drain(s, room);
      let next = 0;
      for (const p of pieces) {
        assert.ok(sizeOf(p) <= room, `room ${room}: frame of ${sizeOf(p)}`);
        assert.equal(p.offset, next);
        assert.deepEqual(p.data, bytes(next, p.data.length));
        next += p.data.length;
      }
      assert.equal(next, 3000);
      assert.deepEqual(
        pieces.map((p) => p.fin),
        pieces.map((_, i) => i === pieces.length - 1),
      );
    }
  });

  it('new data never exceeds the stream credit or the connection credit given', () => {
    const s = new SendStream(ID, 100, 10_000);
    s.write(bytes(0, 1000));
    assert.equal(
      drain(s, 1200, 30).reduce((n, p) => n + p.data.length, 0),
      30,
    );
    assert.equal(
      drain(s).reduce((n, p) => n + p.data.length, 0),
      70,
    );
    assert.equal(s.sendOffset, 100);
    assert.equal(s.nextNew(1200, BIG), null);
  });

  it('RFC 9000 4.1: blocked on stream credit with data waiting: STREAM_DATA_BLOCKED once per limit', () => {
    const s = new SendStream(ID, 100, 10_000);
    s.write(bytes(0, 200));
    drain(s);
    assert.equal(s.blockedPending, true);
    assert.equal(s.state, 'send');
    s.onBlockedSent();
    assert.equal(s.checkSendNew(), false);
    assert.equal(s.blockedPending, false, 'already signalled at this limit');
    s.credit.raise(150);
    assert.equal(s.checkSendNew(), true);
    drain(s);
    assert.equal(s.blockedPending, true, 'blocked again at a new limit');
  });

  it('RFC 9000 3.3: STREAM_DATA_BLOCKED alone moves Ready to Send', () => {
    const s = new SendStream(ID, 0, 10_000);
    s.write(bytes(0, 10));
    assert.equal(s.checkSendNew(), false);
    assert.equal(s.blockedPending, true);
    s.onBlockedSent();
    assert.equal(s.state, 'send');
  });

  it('a lone FIN when finish comes after all data was sent, even with no credit left', () => {
    const s = new SendStream(ID, 10, 10_000);
    s.write(bytes(0, 10));
    drain(s);
    assert.equal(s.state, 'send');
    s.finish();
    const p = s.nextNew(1200, 0);
    assert.deepEqual(p, { offset: 10, data: new Uint8Array(0), fin: true });
    assert.equal(s.state, 'data-sent');
    assert.equal(s.nextNew(1200, BIG), null);
  });
});

describe('SendStream states (RFC 9000 3.1) and recovery (13.3)', () => {
  it('Ready -> Send -> Data Sent -> Data Recvd when every byte and the FIN are acknowledged', () => {
    const s = new SendStream(ID, BIG, 10_000);
    assert.equal(s.state, 'ready');
    s.write(bytes(0, 500));
    const [a, ...more] = drain(s, 300);
    assert.equal(s.state, 'send');
    s.finish();
    const rest = [...more, ...drain(s, 300)];
    assert.equal(s.state, 'data-sent');
    assert.ok(a);
    let done = false;
    for (const p of [...rest].reverse()) done = s.onAcked(p.offset, p.data.length, p.fin);
    assert.equal(done, false, 'the first piece is not acknowledged yet');
    assert.equal(s.onAcked(a.offset, a.data.length, a.fin), true);
    assert.equal(s.state, 'data-recvd');
    assert.equal(s.buffered, 0);
    assert.equal(s.terminal, true);
  });

  it('lost ranges are sent again, minus what was acknowledged since', () => {
    const s = new SendStream(ID, BIG, 10_000);
    s.write(bytes(0, 1000));
    s.finish();
    const [a] = drain(s, 2000);
    assert.ok(a && a.fin && a.data.length === 1000);
    s.onAcked(200, 100, false);
    s.onLost(0, 1000, true);
    assert.equal(s.hasRetransmit, true);
    const again: StreamPiece[] = [];
    for (let p = s.nextRetransmit(150); p !== null; p = s.nextRetransmit(150)) {
      assert.ok(sizeOf(p) <= 150);
      again.push(p);
    }
    const covered = new Set<number>();
    for (const p of again) {
      assert.deepEqual(p.data, bytes(p.offset, p.data.length));
      for (let i = p.offset; i < p.offset + p.data.length; i++) covered.add(i);
    }
    for (let i = 0; i < 1000; i++) assert.equal(covered.has(i), i < 200 || i >= 300, `offset ${i}`);
    assert.equal(again.filter((p) => p.fin).length, 1, 'the FIN goes again, once');
    assert.equal(again.at(-1)?.fin, true);
    assert.equal(s.hasRetransmit, false);
  });

  it('a lost FIN alone is resent as an empty frame at the final size', () => {
    const s = new SendStream(ID, BIG, 10_000);
    s.write(bytes(0, 10));
    drain(s);
    s.finish();
    const [fin] = drain(s);
    assert.ok(fin);
    s.onAcked(0, 10, false);
    s.onLost(fin.offset, 0, true);
    assert.deepEqual(s.nextRetransmit(1200), { offset: 10, data: new Uint8Array(0), fin: true });
  });

  it('RESET_STREAM: final size is the highest offset sent; nothing is retransmitted after it', () => {
    const s = new SendStream(ID, BIG, 10_000);
    s.write(bytes(0, 1000));
    drain(s, 300, 600);
    assert.equal(s.sendOffset, 600);
    assert.equal(s.reset(5n), true);
    assert.equal(s.state, 'reset-sent');
    assert.equal(s.finalSize, 600);
    assert.equal(s.buffered, 0, 'unsent and unacknowledged data dropped');
    s.onLost(0, 300, false);
    assert.equal(s.hasRetransmit, false);
    assert.equal(s.nextNew(1200, BIG), null);
    assert.equal(s.reset(6n), false, 'a second reset changes nothing');
    assert.equal(s.resetCode, 5n);
    s.resetPending = false;
    s.onResetLost();
    assert.equal(s.resetPending, true, 'repeated until acknowledged');
    s.onResetAcked();
    assert.equal(s.state, 'reset-recvd');
    s.onResetLost();
    assert.equal(s.terminal, true);
  });

  it('no reset once everything was acknowledged (3.3: nothing is sent from a terminal state)', () => {
    const s = new SendStream(ID, BIG, 10_000);
    s.write(bytes(0, 10));
    s.finish();
    const [p] = drain(s);
    assert.ok(p);
    s.onAcked(p.offset, p.data.length, p.fin);
    assert.equal(s.reset(1n), false);
    assert.equal(s.state, 'data-recvd');
  });
});
