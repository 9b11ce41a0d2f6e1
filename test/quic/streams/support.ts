/** Shared helpers of the stream tests. */
import assert from 'node:assert/strict';
import { TransportError, type TransportErrorName } from '../../../src/quic/errors.js';
import { StreamError, type StreamErrorCode } from '../../../src/quic/streams/errors.js';
import { Writer } from '../../../src/combinators/writer.js';
import { decodeFrames, encodeFrame, frameSize, type Frame } from '../../../src/quic/frame.js';
import {
  StreamManager,
  type StreamControlFrame,
  type StreamEvent,
  type StreamFrameRecord,
  type StreamLimits,
} from '../../../src/quic/streams/manager.js';

/** Runs `fn` and expects a TransportError with this code (and frame type, when given). */
export function transportError(fn: () => unknown, code: TransportErrorName, frameType?: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TransportError, `expected a TransportError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (frameType !== undefined) assert.equal(e.frameType, frameType);
    return true;
  });
}

/** Runs `fn` and expects a StreamError with this code. */
export function streamError(fn: () => unknown, code: StreamErrorCode, errorCode?: bigint): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof StreamError, `expected a StreamError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (errorCode !== undefined) assert.equal(e.errorCode, errorCode);
    return true;
  });
}

/** The byte at `offset` of stream `id`: an independent pattern, so misplaced or mixed-up bytes show. */
export const byteAt = (id: number, offset: number): number => (offset * 7 + id * 13 + (offset >> 8)) & 0xff;

/** `len` bytes of stream `id` starting at `offset`. */
export function streamBytes(id: number, offset: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = byteAt(id, offset + i);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// two managers and a wire between them

export const LIMITS: StreamLimits = {
  initialMaxData: 10_000,
  initialMaxStreamDataBidiLocal: 1000,
  initialMaxStreamDataBidiRemote: 1000,
  initialMaxStreamDataUni: 1000,
  initialMaxStreamsBidi: 10,
  initialMaxStreamsUni: 10,
};

/** A client and a server manager that know each other's limits. */
export function pair(
  client: Partial<StreamLimits> = {},
  server: Partial<StreamLimits> = {},
  sendBufferSize?: number,
): [StreamManager, StreamManager] {
  const cl = { ...LIMITS, ...client };
  const sl = { ...LIMITS, ...server };
  const extra = sendBufferSize === undefined ? {} : { sendBufferSize };
  const c = new StreamManager({ role: 'client', local: cl, ...extra });
  const s = new StreamManager({ role: 'server', local: sl, ...extra });
  c.setPeerTransportParameters(sl);
  s.setPeerTransportParameters(cl);
  return [c, s];
}

/**
 * Puts `frame` on the wire and back: encoded with the frame codec and decoded from fresh bytes, as a
 * peer would see it (and checks the codec agrees with the size the manager planned for).
 */
export function wire(frame: Frame): StreamControlFrame {
  const w = new Writer();
  encodeFrame(w, frame);
  const bytes = w.toBytes();
  assert.equal(bytes.length, frameSize(frame));
  const [decoded, ...rest] = decodeFrames(bytes, '1rtt');
  assert.equal(rest.length, 0);
  return decoded as StreamControlFrame;
}

export interface Sent {
  readonly frame: Frame;
  readonly record: StreamFrameRecord;
}

/** Every frame `m` wants to send, in packets of `room` bytes (each frame checked to fit). */
export function collect(m: StreamManager, room = 1200, maxFrames = 10_000): Sent[] {
  const out: Sent[] = [];
  while (out.length < maxFrames) {
    let left = room;
    let any = false;
    for (let p = m.nextFrame(left); p !== null; p = m.nextFrame(left)) {
      const size = frameSize(p.frame);
      assert.ok(size <= left, `frame of ${size} bytes in ${left}`);
      left -= size;
      out.push(p);
      any = true;
    }
    if (!any) break;
  }
  return out;
}

/** Sends everything pending from `from` to `to` without loss, acknowledging it all. Returns the frames. */
export function flush(from: StreamManager, to: StreamManager, room = 1200): Frame[] {
  const sent = collect(from, room);
  for (const s of sent) to.handleFrame(wire(s.frame));
  for (const s of sent) from.onFrameAcked(s.record);
  return sent.map((s) => s.frame);
}

/** Every event queued on `m`. */
export function events(m: StreamManager): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (let e = m.pollEvent(); e !== null; e = m.pollEvent()) out.push(e);
  return out;
}

/** Reads everything readable on `id`; returns the bytes and whether the FIN was read. */
export function readAll(m: StreamManager, id: number): { data: number[]; fin: boolean } {
  const data: number[] = [];
  let fin = false;
  for (let r = m.read(id); r !== null; r = m.read(id)) {
    for (const b of r.data) data.push(b);
    if (r.fin) {
      fin = true;
      break;
    }
  }
  return { data, fin };
}
