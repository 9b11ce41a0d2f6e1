import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { frameSize, type Frame, type StreamFrame } from '../../../src/quic/frame.js';
import { StreamManager, type StreamControlFrame } from '../../../src/quic/streams/manager.js';
import { TransportError } from '../../../src/quic/errors.js';
import { frameArbitraries } from '../support/frames.js';
import { collect, events, flush, LIMITS, pair, readAll, streamBytes, streamError, transportError, wire } from './support.js';

const types = (frames: readonly Frame[]): string[] => frames.map((f) => f.type);
const stream = (streamId: number, offset: number, len: number, fin = false): StreamFrame => ({
  type: 'stream',
  streamId,
  offset,
  fin,
  data: streamBytes(streamId, offset, len),
});

describe('StreamManager: stream IDs and limits (RFC 9000 2.1, 3.2, 4.6)', () => {
  it('3.2: a stream used out of order opens every lower-numbered stream of its type', () => {
    const [, s] = pair();
    s.handleFrame(stream(8, 0, 3));
    assert.deepEqual(
      events(s).filter((e) => e.type === 'stream-opened'),
      [0, 4, 8].map((streamId) => ({ type: 'stream-opened', streamId, bidi: true })),
    );
    s.handleFrame(stream(4, 0, 3));
    assert.deepEqual(types(events(s) as never), ['stream-readable']);
    assert.deepEqual(s.streamIds().sort(), [0, 4, 8]);
  });

  it('3.2: MAX_STREAM_DATA or STOP_SENDING opens a peer bidirectional stream too', () => {
    const [, s] = pair();
    s.handleFrame({ type: 'max-stream-data', streamId: 0, maximum: 5000 });
    s.handleFrame({ type: 'stop-sending', streamId: 4, errorCode: 1n });
    assert.deepEqual(
      events(s).map((e) => [e.type, 'streamId' in e ? e.streamId : -1]),
      [
        ['stream-opened', 0],
        ['stream-opened', 4],
        ['stream-stop-sending', 4],
      ],
    );
  });

  it('4.6: a peer stream beyond our limit is STREAM_LIMIT_ERROR, for every frame that names a stream', () => {
    const frames: StreamControlFrame[] = [
      stream(8, 0, 1),
      { type: 'reset-stream', streamId: 8, errorCode: 0n, finalSize: 0 },
      { type: 'stop-sending', streamId: 8, errorCode: 0n },
      { type: 'max-stream-data', streamId: 8, maximum: 10 },
      { type: 'stream-data-blocked', streamId: 8, limit: 0 },
    ];
    for (const f of frames) {
      const [, s] = pair({}, { initialMaxStreamsBidi: 2 });
      s.handleFrame(stream(4, 0, 1));
      transportError(() => s.handleFrame(wire(f)), 'STREAM_LIMIT_ERROR');
    }
    // Unidirectional: client uni stream 2 + 4 * 2 = 10 is the third.
    const [, s] = pair({}, { initialMaxStreamsUni: 2 });
    s.handleFrame(stream(6, 0, 1));
    transportError(() => s.handleFrame(stream(10, 0, 1)), 'STREAM_LIMIT_ERROR', 0x08);
  });

  it('19.8/19.5/19.10: frames for our streams not yet opened, or for the wrong direction: STREAM_STATE_ERROR', () => {
    const [c] = pair();
    transportError(() => c.handleFrame(stream(0, 0, 1)), 'STREAM_STATE_ERROR', 0x08);
    transportError(() => c.handleFrame({ type: 'max-stream-data', streamId: 4, maximum: 1 }), 'STREAM_STATE_ERROR', 0x11);
    transportError(() => c.handleFrame({ type: 'reset-stream', streamId: 0, errorCode: 0n, finalSize: 0 }), 'STREAM_STATE_ERROR', 0x04);
    const uni = c.openStream(false)!;
    assert.equal(uni, 2);
    // Our unidirectional stream is send-only: nothing may arrive on it.
    transportError(() => c.handleFrame(stream(uni, 0, 1)), 'STREAM_STATE_ERROR', 0x08);
    transportError(() => c.handleFrame({ type: 'stream-data-blocked', streamId: uni, limit: 0 }), 'STREAM_STATE_ERROR', 0x15);
    // The server's unidirectional stream is receive-only for us: no STOP_SENDING / MAX_STREAM_DATA for it.
    transportError(() => c.handleFrame({ type: 'stop-sending', streamId: 3, errorCode: 0n }), 'STREAM_STATE_ERROR', 0x05);
    transportError(() => c.handleFrame({ type: 'max-stream-data', streamId: 3, maximum: 9 }), 'STREAM_STATE_ERROR', 0x11);
    c.handleFrame(stream(3, 0, 1));
    assert.equal(c.has(3), true);
  });

  it('late frames for a closed stream are ignored', () => {
    const [c, s] = pair();
    const id = c.openStream(false)!;
    c.write(id, streamBytes(id, 0, 10));
    c.finish(id);
    const sent = collect(c);
    for (const x of sent) s.handleFrame(wire(x.frame));
    assert.deepEqual(readAll(s, id), { data: [...streamBytes(id, 0, 10)], fin: true });
    assert.equal(s.has(id), false, 'read to the end: closed');
    for (const x of sent) s.handleFrame(wire(x.frame));
    s.handleFrame({ type: 'reset-stream', streamId: id, errorCode: 1n, finalSize: 10 });
    assert.deepEqual(types(events(s) as never), ['stream-opened', 'stream-readable', 'stream-closed']);
  });

  it('19.14: opening stops at the peer limit with STREAMS_BLOCKED; MAX_STREAMS brings streams-available', () => {
    const [c, s] = pair({}, { initialMaxStreamsBidi: 1 });
    assert.equal(c.openStream(true), 0);
    assert.equal(c.openStream(true), null);
    assert.equal(c.openStream(false), 2, 'the other type has its own limit');
    const frames = flush(c, s);
    assert.deepEqual(frames, [{ type: 'streams-blocked', bidi: true, limit: 1 }]);
    c.handleFrame({ type: 'max-streams', bidi: true, maximum: 1 });
    assert.deepEqual(events(c), [], 'a MAX_STREAMS that does not raise the limit is ignored');
    c.handleFrame({ type: 'max-streams', bidi: true, maximum: 2 });
    assert.deepEqual(events(c), [{ type: 'streams-available', bidi: true }]);
    assert.equal(c.openStream(true), 4);
  });

  it('4.6: MAX_STREAMS credit comes back only when the peer streams are closed and discarded', () => {
    const [c, s] = pair({}, { initialMaxStreamsBidi: 2 });
    const ids = [c.openStream(true)!, c.openStream(true)!];
    for (const id of ids) {
      c.write(id, streamBytes(id, 0, 5));
      c.finish(id);
    }
    flush(c, s);
    for (const id of ids) readAll(s, id);
    assert.deepEqual(flush(s, c), [], 'read but our halves are still open: no credit');
    s.finish(ids[0]!);
    assert.deepEqual(types(flush(s, c)), ['stream']);
    readAll(c, ids[0]!);
    s.finish(ids[1]!);
    const frames = flush(s, c);
    assert.deepEqual(frames.at(0), { type: 'max-streams', bidi: true, maximum: 3 });
    assert.equal(c.openStream(true), 8);
  });
});

describe('StreamManager: flow control (RFC 9000 4)', () => {
  it('habit 9: MAX_STREAM_DATA / MAX_DATA only after the application reads', () => {
    const [c, s] = pair({}, { initialMaxData: 2000, initialMaxStreamDataBidiRemote: 1000 });
    const id = c.openStream(true)!;
    assert.equal(c.write(id, streamBytes(id, 0, 1500)), 1500);
    const first = flush(c, s);
    assert.equal(
      first.reduce((n, f) => n + (f.type === 'stream' ? f.data.length : 0), 0),
      1000,
    );
    assert.ok(first.some((f) => f.type === 'stream-data-blocked' && f.limit === 1000));
    assert.deepEqual(flush(s, c), [], 'a full window arrived, nothing read: no credit');
    assert.equal(s.read(id, 400)?.data.length, 400);
    assert.deepEqual(flush(s, c), [], 'less than half a window read');
    assert.equal(s.read(id, 100)?.data.length, 100);
    assert.deepEqual(flush(s, c), [{ type: 'max-stream-data', streamId: id, maximum: 1500 }]);
    const second = flush(c, s);
    assert.deepEqual(types(second), ['stream']);
    assert.deepEqual(readAll(s, id).data, [...streamBytes(id, 500, 1000)]);
    // 1500 consumed of a 2000 window: MAX_DATA due (3500), and MAX_STREAM_DATA (2500).
    assert.deepEqual(flush(s, c), [
      { type: 'max-data', maximum: 3500 },
      { type: 'max-stream-data', streamId: id, maximum: 2500 },
    ]);
  });

  it('4.1: DATA_BLOCKED when the connection credit runs out, once per limit; MAX_DATA resumes', () => {
    const [c, s] = pair({}, { initialMaxData: 100 });
    const a = c.openStream(true)!;
    const b = c.openStream(true)!;
    c.write(a, streamBytes(a, 0, 80));
    c.write(b, streamBytes(b, 0, 80));
    const frames = flush(c, s);
    assert.equal(
      frames.reduce((n, f) => n + (f.type === 'stream' ? f.data.length : 0), 0),
      100,
    );
    assert.equal(frames.filter((f) => f.type === 'data-blocked').length, 1);
    assert.ok(frames.some((f) => f.type === 'data-blocked' && f.limit === 100));
    assert.deepEqual(flush(c, s), [], 'blocked: no repeat at the same limit');
    assert.equal(c.hasPendingFrames(), false);
    const got = readAll(s, a).data.length + readAll(s, b).data.length;
    assert.equal(got, 100);
    assert.deepEqual(flush(s, c), [{ type: 'max-data', maximum: 200 }]);
    assert.equal(c.hasPendingFrames(), true);
    const more = flush(c, s);
    assert.equal(
      more.reduce((n, f) => n + (f.type === 'stream' ? f.data.length : 0), 0),
      60,
    );
    assert.equal(c.connectionFlow().sent, 160);
  });

  it('4.1: the peer exceeding our limits is FLOW_CONTROL_ERROR (stream and connection)', () => {
    const [, s] = pair({}, { initialMaxStreamDataBidiRemote: 100, initialMaxData: 150 });
    transportError(() => s.handleFrame(stream(0, 50, 51)), 'FLOW_CONTROL_ERROR', 0x08);
    s.handleFrame(stream(0, 0, 100));
    transportError(() => s.handleFrame(stream(4, 0, 51)), 'FLOW_CONTROL_ERROR', 0x08);
    transportError(() => s.handleFrame({ type: 'reset-stream', streamId: 4, errorCode: 0n, finalSize: 51 }), 'FLOW_CONTROL_ERROR', 0x04);
  });

  it('4.5: a RESET_STREAM returns the unread part of its final size to the connection window', () => {
    const [, s] = pair({}, { initialMaxData: 1000 });
    s.handleFrame(stream(0, 0, 600));
    s.handleFrame({ type: 'reset-stream', streamId: 0, errorCode: 4n, finalSize: 700 });
    const ev = events(s);
    assert.deepEqual(ev.at(-1), { type: 'stream-reset', streamId: 0, errorCode: 4n, finalSize: 700 });
    assert.equal(s.connectionFlow().consumed, 700);
    const frames = collect(s).map((x) => x.frame);
    assert.deepEqual(frames.at(0), { type: 'max-data', maximum: 1700 });
  });

  it('peer parameters raise the credit of streams opened before they were known', () => {
    const c = new StreamManager({ role: 'client', local: LIMITS });
    assert.equal(c.openStream(true), null, 'no peer limit yet');
    c.setPeerTransportParameters({ ...LIMITS, initialMaxStreamDataBidiRemote: 10, initialMaxData: 25 });
    const id = c.openStream(true)!;
    c.write(id, streamBytes(id, 0, 100));
    assert.equal(c.streamFlow(id)?.sendLimit, 10);
    c.setPeerTransportParameters({ ...LIMITS, initialMaxStreamDataBidiRemote: 50, initialMaxData: 25 });
    assert.equal(c.streamFlow(id)?.sendLimit, 50);
    const sent = collect(c).filter((x) => x.frame.type === 'stream');
    assert.equal(
      sent.reduce((n, x) => n + (x.frame.type === 'stream' ? x.frame.data.length : 0), 0),
      25,
    );
  });
});

describe('StreamManager: reset and stop (RFC 9000 3.5, 19.4, 19.5)', () => {
  it('3.5: STOP_SENDING makes us reset with the same code; writes then fail with ERR_STREAM_RESET', () => {
    const [c, s] = pair();
    const id = c.openStream(true)!;
    c.write(id, streamBytes(id, 0, 300));
    flush(c, s);
    s.stopSending(id, 77n);
    assert.deepEqual(flush(s, c), [{ type: 'stop-sending', streamId: id, errorCode: 77n }]);
    assert.deepEqual(events(c), [{ type: 'stream-stop-sending', streamId: id, errorCode: 77n }]);
    assert.equal(c.sendState(id), 'reset-sent');
    streamError(() => c.write(id, new Uint8Array(1)), 'ERR_STREAM_RESET', 77n);
    assert.deepEqual(flush(c, s), [{ type: 'reset-stream', streamId: id, errorCode: 77n, finalSize: 300 }]);
    assert.equal(c.sendState(id), 'reset-recvd');
    streamError(() => s.read(id), 'ERR_STREAM_STOPPED', 77n);
  });

  it('13.3: lost RESET_STREAM and STOP_SENDING are repeated; data of a reset stream is not', () => {
    const [c] = pair();
    const id = c.openStream(true)!;
    c.write(id, streamBytes(id, 0, 100));
    const data = collect(c);
    c.resetStream(id, 5n);
    c.stopSending(id, 6n);
    const control = collect(c);
    assert.deepEqual(types(control.map((x) => x.frame)), ['reset-stream', 'stop-sending']);
    for (const x of [...data, ...control]) c.onFrameLost(x.record);
    assert.deepEqual(
      collect(c).map((x) => x.frame),
      [
        { type: 'reset-stream', streamId: id, errorCode: 5n, finalSize: 100 },
        { type: 'stop-sending', streamId: id, errorCode: 6n },
      ],
    );
    assert.equal(c.hasPendingFrames(), false);
  });

  it('19.4: RESET_STREAM from the peer: stream-reset event, then the ID is gone (uni) or read fails (bidi)', () => {
    const [c, s] = pair();
    const uni = c.openStream(false)!;
    const bidi = c.openStream(true)!;
    for (const id of [uni, bidi]) {
      c.write(id, streamBytes(id, 0, 10));
      c.resetStream(id, 9n);
    }
    flush(c, s);
    const ev = events(s);
    assert.ok(ev.some((e) => e.type === 'stream-reset' && e.streamId === uni && e.errorCode === 9n));
    assert.ok(ev.some((e) => e.type === 'stream-closed' && e.streamId === uni));
    streamError(() => s.read(uni), 'ERR_STREAM_UNKNOWN');
    streamError(() => s.read(bidi), 'ERR_STREAM_RESET', 9n);
    // Our half of the bidirectional stream still works.
    assert.equal(s.write(bidi, streamBytes(bidi, 0, 5)), 5);
  });

  it('API misuse raises StreamError codes', () => {
    const [c, s] = pair();
    streamError(() => c.write(0, new Uint8Array(1)), 'ERR_STREAM_UNKNOWN');
    const uni = c.openStream(false)!;
    streamError(() => c.read(uni), 'ERR_STREAM_NOT_READABLE');
    streamError(() => c.stopSending(uni, 0n), 'ERR_STREAM_NOT_READABLE');
    c.write(uni, new Uint8Array(1));
    c.finish(uni);
    c.finish(uni);
    streamError(() => c.write(uni, new Uint8Array(1)), 'ERR_STREAM_FINISHED');
    flush(c, s);
    streamError(() => s.write(uni, new Uint8Array(1)), 'ERR_STREAM_NOT_WRITABLE');
    streamError(() => s.resetStream(uni, 0n), 'ERR_STREAM_NOT_WRITABLE');
    assert.equal(s.writableBytes(uni), 0);
    assert.throws(() => new StreamManager({ role: 'client', local: LIMITS, sendBufferSize: 0 }), { code: 'ERR_STREAM_LIMIT' });
  });
});

describe('StreamManager: output (frame order, room, round-robin)', () => {
  it('every frame fits the room it was produced for', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 40 }), (rooms) => {
        const [c, s] = pair({}, { initialMaxStreamDataBidiRemote: 5000 });
        const ids = [c.openStream(true)!, c.openStream(true)!, c.openStream(false)!];
        for (const id of ids) c.write(id, streamBytes(id, 0, 3000));
        c.resetStream(ids[2]!, 1n);
        c.stopSending(ids[1]!, 2n);
        for (const room of rooms) {
          const p = c.nextFrame(room);
          if (p !== null) {
            assert.ok(frameSize(p.frame) <= room);
            s.handleFrame(wire(p.frame));
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('credit and control frames come first, retransmissions before new data', () => {
    const [c] = pair();
    const a = c.openStream(true)!;
    c.write(a, streamBytes(a, 0, 100));
    const first = c.nextFrame(60);
    assert.ok(first?.frame.type === 'stream');
    c.onFrameLost(first.record);
    c.handleFrame(stream(1, 0, 600));
    readAll(c, 1);
    const b = c.openStream(true)!;
    c.write(b, streamBytes(b, 0, 10));
    c.resetStream(b, 3n);
    const order = collect(c, 1200).map((x) => x.frame);
    assert.deepEqual(types(order), ['max-stream-data', 'reset-stream', 'stream', 'stream']);
    assert.ok(order[2]?.type === 'stream' && order[2].offset === 0, 'the lost piece first');
    assert.ok(order[3]?.type === 'stream' && order[3].offset > 0, 'then new data');
  });

  it('new data goes round-robin across streams, one frame each', () => {
    const [c] = pair();
    const ids = [c.openStream(true)!, c.openStream(true)!, c.openStream(false)!];
    for (const id of ids) c.write(id, streamBytes(id, 0, 500));
    const order = collect(c, 120)
      .map((x) => x.frame)
      .filter((f) => f.type === 'stream')
      .map((f) => f.streamId);
    assert.deepEqual(order.slice(0, 9), [...ids, ...ids, ...ids]);
  });
});

describe('StreamManager: events', () => {
  it('readable is a hint given once until the reader drains the stream', () => {
    const [, s] = pair();
    s.handleFrame(stream(0, 0, 10));
    s.handleFrame(stream(0, 10, 10));
    assert.deepEqual(types(events(s) as never), ['stream-opened', 'stream-readable']);
    s.read(0, 5);
    s.handleFrame(stream(0, 20, 10));
    assert.deepEqual(events(s), [], 'not drained yet');
    readAll(s, 0);
    s.handleFrame(stream(0, 40, 10));
    assert.deepEqual(events(s), [], 'a gap: nothing readable');
    s.handleFrame(stream(0, 30, 10, false));
    assert.deepEqual(events(s), [{ type: 'stream-readable', streamId: 0 }]);
  });

  it('writable after a short write once half the buffer is free; finished and closed when all is acknowledged', () => {
    const [c, s] = pair({}, {}, 1000);
    const id = c.openStream(false)!;
    assert.equal(c.write(id, streamBytes(id, 0, 1500)), 1000);
    const sent = collect(c, 300);
    for (const x of sent) s.handleFrame(wire(x.frame));
    c.onFrameAcked(sent[0]!.record);
    assert.deepEqual(events(c), [], 'less than half free');
    c.onFrameAcked(sent[1]!.record);
    assert.deepEqual(events(c), [{ type: 'stream-writable', streamId: id }]);
    assert.ok(c.writableBytes(id) >= 500);
    c.finish(id);
    for (const x of sent.slice(2)) c.onFrameAcked(x.record);
    const fin = collect(c);
    for (const x of fin) c.onFrameAcked(x.record);
    assert.deepEqual(events(c), [
      { type: 'stream-finished', streamId: id },
      { type: 'stream-closed', streamId: id },
    ]);
    assert.equal(c.has(id), false);
  });
});

/** Stream-related frames from the shared codec arbitraries, half of them steered to small stream IDs and offsets. */
const peerFrame: fc.Arbitrary<StreamControlFrame> = fc
  .tuple(
    fc.oneof(
      frameArbitraries.stream,
      frameArbitraries['reset-stream'],
      frameArbitraries['stop-sending'],
      frameArbitraries['max-data'],
      frameArbitraries['max-stream-data'],
      frameArbitraries['max-streams'],
      frameArbitraries['data-blocked'],
      frameArbitraries['stream-data-blocked'],
      frameArbitraries['streams-blocked'],
    ),
    fc.boolean(),
  )
  .map(([f, small]): StreamControlFrame => {
    if (!small) return f;
    const g = { ...f } as Record<string, unknown>;
    if (typeof g.streamId === 'number') g.streamId = g.streamId % 40;
    if (typeof g.offset === 'number') g.offset = g.offset % 3000;
    if (typeof g.finalSize === 'number') g.finalSize = g.finalSize % 3000;
    return g as unknown as StreamControlFrame;
  });

describe('StreamManager: any peer input (STYLE habit 7)', () => {
  it('any sequence of stream frames is handled or raises a TransportError, and memory stays within the windows', () => {
    fc.assert(
      fc.property(fc.constantFrom('client' as const, 'server' as const), fc.array(peerFrame, { maxLength: 60 }), (role, frames) => {
        const m = new StreamManager({ role, local: { ...LIMITS, initialMaxStreamDataBidiRemote: 2000, initialMaxStreamDataUni: 2000 } });
        m.setPeerTransportParameters(LIMITS);
        m.openStream(true);
        m.openStream(false);
        for (const f of frames) {
          try {
            m.handleFrame(f);
          } catch (e) {
            assert.ok(e instanceof TransportError, `not a TransportError: ${String(e)}`);
            return;
          }
          let held = 0;
          for (const id of m.streamIds()) {
            const fl = m.streamFlow(id)!;
            if (fl.recvBuffered !== null) {
              assert.ok(fl.recvBuffered <= fl.recvLimit! - fl.recvConsumed!);
              held += fl.recvBuffered;
            }
          }
          const c = m.connectionFlow();
          assert.ok(held <= c.recvLimit - c.consumed);
          assert.ok(m.streamIds().length <= 2 + LIMITS.initialMaxStreamsBidi + LIMITS.initialMaxStreamsUni);
          // Whatever came in, what we produce still fits and encodes.
          for (const x of collect(m, 1200, 50)) wire(x.frame);
        }
      }),
      { numRuns: 300 },
    );
  });
});
