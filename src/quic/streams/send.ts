/**
 * The sending part of a stream (RFC 9000 section 3.1): a bounded send
 * buffer the application writes into (a write takes what fits, so the
 * application sees backpressure), pieces `(offset, data, fin)` handed to the
 * packet builder within a given room and within the peer's stream credit,
 * acknowledged ranges (memory is freed as the acknowledged prefix grows),
 * lost ranges queued for retransmission before new data (section 13.3), FIN,
 * and RESET_STREAM.
 *
 * States (section 3.1, Figure 2), changed only through {@link SendStream.setState}:
 *
 * ```
 * ready --STREAM / STREAM_DATA_BLOCKED--> send --STREAM+FIN--> data-sent --all ACKs--> data-recvd
 *   |                                       |                     |
 *   +------------RESET_STREAM---------------+---------------------+--> reset-sent --ACK--> reset-recvd
 * ```
 *
 * The connection-level credit is owned by the caller and passed in.
 */
import { streamDataCapacity, streamFrameOverhead } from '../frame.js';
import { SendCredit } from './flow.js';
import { RangeSet } from './range-set.js';

/** RFC 9000 section 3.1 sending-part states. */
export type SendState = 'ready' | 'send' | 'data-sent' | 'reset-sent' | 'data-recvd' | 'reset-recvd';

/** The allowed transitions, the only place they are listed. */
export const SEND_TRANSITIONS: { readonly [S in SendState]: readonly SendState[] } = {
  ready: ['send', 'reset-sent'],
  send: ['data-sent', 'reset-sent'],
  'data-sent': ['data-recvd', 'reset-sent'],
  'reset-sent': ['reset-recvd'],
  'data-recvd': [],
  'reset-recvd': [],
};

/** A piece of stream data to put in a STREAM frame. */
export interface StreamPiece {
  readonly offset: number;
  /** A view of the send buffer, stable until the frame is encoded (the buffer never rewrites written bytes). */
  readonly data: Uint8Array;
  readonly fin: boolean;
}

/** New allocations of the send buffer are at least this big, so small writes share chunks. */
const CHUNK = 16 * 1024;
const EMPTY = new Uint8Array(0);

/**
 * The bytes written and not yet acknowledged, `[start, end)` in stream
 * offsets, in chunks copied from the application's writes. Only the last
 * chunk has room left; written bytes never change, so views of them stay
 * valid.
 */
class SendBuffer {
  private chunks: Uint8Array[] = [];
  private starts: number[] = [];
  private head = 0;
  /** First offset still held (everything below is acknowledged). */
  start = 0;
  /** Offset after the last written byte. */
  end = 0;
  /** Free bytes at the end of the last chunk. */
  private tailFree = 0;

  append(data: Uint8Array): void {
    let src = data;
    if (this.tailFree > 0) {
      const last = this.chunks[this.chunks.length - 1]!;
      const n = Math.min(this.tailFree, src.length);
      last.set(src.subarray(0, n), last.length - this.tailFree);
      this.tailFree -= n;
      this.end += n;
      src = src.subarray(n);
    }
    if (src.length === 0) return;
    const chunk = new Uint8Array(Math.max(src.length, CHUNK));
    chunk.set(src);
    this.chunks.push(chunk);
    this.starts.push(this.end);
    this.tailFree = chunk.length - src.length;
    this.end += src.length;
  }

  private chunkEnd(i: number): number {
    return i + 1 < this.chunks.length ? this.starts[i + 1]! : this.end;
  }

  /** `len` bytes at `offset` (within `[start, end)`): a view inside one chunk, else a copy. */
  slice(offset: number, len: number): Uint8Array {
    if (len === 0) return EMPTY;
    let lo = this.head;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const at = offset - this.starts[lo]!;
    if (offset + len <= this.chunkEnd(lo)) return this.chunks[lo]!.subarray(at, at + len);
    const out = new Uint8Array(len);
    let filled = 0;
    for (let i = lo; filled < len; i++) {
      const from = i === lo ? at : 0;
      const n = Math.min(len - filled, this.chunkEnd(i) - this.starts[i]! - from);
      out.set(this.chunks[i]!.subarray(from, from + n), filled);
      filled += n;
    }
    return out;
  }

  /** Forgets every byte below `upTo` (acknowledged). */
  release(upTo: number): void {
    if (upTo <= this.start) return;
    this.start = upTo;
    while (this.head < this.chunks.length && this.chunkEnd(this.head) <= upTo) {
      if (this.head === this.chunks.length - 1) {
        this.clearChunks();
        return;
      }
      this.chunks[this.head] = EMPTY;
      this.head++;
    }
    if (this.head >= 32 && this.head * 2 >= this.chunks.length) {
      this.chunks.splice(0, this.head);
      this.starts.splice(0, this.head);
      this.head = 0;
    }
  }

  private clearChunks(): void {
    this.chunks.length = 0;
    this.starts.length = 0;
    this.head = 0;
    this.tailFree = 0;
  }

  /** Drops everything (after a reset): `start` moves to `end`. */
  clear(): void {
    this.clearChunks();
    this.start = this.end;
  }
}

export class SendStream {
  readonly id: number;
  private st: SendState = 'ready';
  /** Stream-level credit from the peer (initial_max_stream_data_*, MAX_STREAM_DATA); `used` is the next new offset. */
  readonly credit: SendCredit;
  private readonly buf = new SendBuffer();
  /** Most bytes held (unsent plus unacknowledged). */
  readonly maxBuffered: number;
  /** Known once the application finished the stream, or reset it (section 4.5). */
  finalSize: number | null = null;
  private finished = false;
  private finSent = false;
  private finAcked = false;
  private finLost = false;
  /** Acknowledged ranges above the acknowledged prefix `buf.start`. */
  private readonly acked = new RangeSet();
  /** Ranges to send again, not acknowledged since. */
  private readonly lost = new RangeSet();
  /** Application error code of our RESET_STREAM. */
  resetCode: bigint | null = null;
  /** A RESET_STREAM frame should be sent (section 3.1; resent until acknowledged, section 13.3). */
  resetPending = false;
  /** A write was cut short: tell the application when room comes back. */
  wantWritable = false;

  constructor(id: number, creditLimit: number, maxBuffered: number) {
    this.id = id;
    this.credit = new SendCredit(creditLimit);
    this.maxBuffered = maxBuffered;
  }

  get state(): SendState {
    return this.st;
  }

  private setState(to: SendState): void {
    if (!SEND_TRANSITIONS[this.st].includes(to)) throw new Error(`send stream ${this.id}: illegal transition ${this.st} -> ${to}`);
    this.st = to;
  }

  /** Reached a terminal state (its state may be discarded). */
  get terminal(): boolean {
    return this.st === 'data-recvd' || this.st === 'reset-recvd';
  }

  /** True once reset (by the application or in answer to STOP_SENDING). */
  get isReset(): boolean {
    return this.st === 'reset-sent' || this.st === 'reset-recvd';
  }

  /** True once the application finished the stream (no more writes). */
  get isFinished(): boolean {
    return this.finished;
  }

  /** Next new offset to send; everything below was sent at least once. */
  get sendOffset(): number {
    return this.credit.used;
  }

  /** Offset after the last byte written. */
  get writeOffset(): number {
    return this.buf.end;
  }

  /** Bytes held: written and not yet acknowledged. */
  get buffered(): number {
    return this.buf.end - this.buf.start;
  }

  /** Bytes written but never sent. */
  get unsent(): number {
    return this.buf.end - this.credit.used;
  }

  /** How many bytes a write would take now. */
  get capacity(): number {
    if (this.finished || this.isReset || this.st === 'data-recvd') return 0;
    return Math.max(0, this.maxBuffered - this.buffered);
  }

  /**
   * Copies as much of `data` as fits in the send buffer; returns the number
   * of bytes taken (the rest is the application's to write again after a
   * writable event). The caller checked that the stream accepts writes.
   */
  write(data: Uint8Array): number {
    const n = Math.min(data.length, this.capacity);
    if (n < data.length) this.wantWritable = true;
    if (n > 0) this.buf.append(n === data.length ? data : data.subarray(0, n));
    return n;
  }

  /** The application has written everything: the final size is what was written (section 4.5). */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.finalSize = this.buf.end;
  }

  /**
   * Abandons the stream (section 3.1 "Reset Sent", 19.4): unsent and
   * unacknowledged data is dropped and never retransmitted; the final size
   * is the highest offset sent. Returns false when too late (all data was
   * acknowledged) or already reset.
   */
  reset(errorCode: bigint): boolean {
    if (this.isReset || this.st === 'data-recvd') return false;
    this.setState('reset-sent');
    this.resetCode = errorCode;
    this.resetPending = true;
    this.finalSize = this.credit.used;
    this.wantWritable = false;
    this.buf.clear();
    this.acked.clear();
    this.lost.clear();
    this.finLost = false;
    this.credit.blockedPending = false;
    return true;
  }

  /** True if lost data or a lost FIN waits for retransmission. */
  get hasRetransmit(): boolean {
    return !this.isReset && (!this.lost.isEmpty || this.finLost);
  }

  /** True if a FIN must go out with no more data (all written data was sent). */
  get finToSend(): boolean {
    return this.finished && !this.finSent && !this.isReset && this.credit.used === this.buf.end;
  }

  /**
   * True if new data, or a lone FIN, is waiting and stream credit allows
   * some of it (connection credit is the caller's concern). Notes
   * STREAM_DATA_BLOCKED (once per limit) when data waits with no stream credit.
   */
  checkSendNew(): boolean {
    if (this.isReset) return false;
    if (this.unsent > 0) {
      if (this.credit.available > 0) return true;
      this.credit.noteBlocked();
      return false;
    }
    return this.finToSend;
  }

  /** A STREAM_DATA_BLOCKED should be sent (never after a reset, section 3.3). */
  get blockedPending(): boolean {
    return this.credit.blockedPending && !this.isReset;
  }

  /** STREAM_DATA_BLOCKED was put in a packet: that counts as sending on the stream (Ready -> Send). */
  onBlockedSent(): void {
    this.credit.onBlockedSent();
    if (this.st === 'ready') this.setState('send');
  }

  /** The next retransmission within `room` bytes of STREAM frame, or null. */
  nextRetransmit(room: number): StreamPiece | null {
    if (this.isReset) return null;
    if (!this.lost.isEmpty) {
      const s = this.lost.start(0);
      const e = this.lost.end(0);
      const cap = streamDataCapacity(room, this.id, s);
      if (cap <= 0) return null;
      const n = Math.min(e - s, cap);
      this.lost.remove(s, s + n);
      const fin = this.finLost && s + n === this.finalSize;
      if (fin) this.finLost = false;
      return { offset: s, data: this.buf.slice(s, n), fin };
    }
    if (this.finLost) {
      const at = this.finalSize!;
      if (streamFrameOverhead(this.id, at, 0) > room) return null;
      this.finLost = false;
      return { offset: at, data: EMPTY, fin: true };
    }
    return null;
  }

  /**
   * The next new data within `room` bytes of STREAM frame, the stream
   * credit and `connAvailable` bytes of connection credit, with the FIN when
   * it reaches the end. Null when nothing fits or nothing may be sent. The
   * caller takes the returned data's length from the connection credit.
   */
  nextNew(room: number, connAvailable: number): StreamPiece | null {
    if (this.isReset) return null;
    const offset = this.credit.used;
    const want = Math.min(this.unsent, this.credit.available, connAvailable);
    let n = 0;
    if (want > 0) {
      n = Math.min(want, streamDataCapacity(room, this.id, offset));
      if (n <= 0) return null;
    } else if (!this.finToSend || streamFrameOverhead(this.id, offset, 0) > room) {
      return null;
    }
    const data = this.buf.slice(offset, n);
    this.credit.consume(n);
    const fin = this.finished && this.credit.used === this.buf.end;
    if (this.st === 'ready') this.setState('send');
    if (fin) {
      this.finSent = true;
      this.setState('data-sent');
    }
    if (this.unsent > 0 && this.credit.available === 0) this.credit.noteBlocked();
    return { offset, data, fin };
  }

  /**
   * A STREAM frame `[offset, offset + length)` (with the FIN when `fin`) was
   * acknowledged. Returns true when this completed the stream (Data Recvd:
   * every byte and the FIN acknowledged).
   */
  onAcked(offset: number, length: number, fin: boolean): boolean {
    if (this.st !== 'send' && this.st !== 'data-sent') return false;
    const end = offset + length;
    if (end > this.buf.start) {
      this.acked.add(Math.max(offset, this.buf.start), end);
      // A spuriously lost range acknowledged after all: no need to send it again.
      this.lost.remove(offset, end);
    }
    if (fin) {
      this.finAcked = true;
      this.finLost = false;
    }
    if (!this.acked.isEmpty && this.acked.start(0) <= this.buf.start) {
      const upTo = this.acked.end(0);
      this.acked.removeBelow(upTo);
      this.buf.release(upTo);
    }
    if (this.finAcked && this.st === 'data-sent' && this.buf.start === this.finalSize) {
      this.setState('data-recvd');
      return true;
    }
    return false;
  }

  /**
   * A STREAM frame was declared lost: its unacknowledged bytes (and FIN)
   * are queued for retransmission, unless the stream was reset ("Application
   * data sent in STREAM frames is retransmitted in new STREAM frames unless
   * the endpoint has sent a RESET_STREAM for that stream", section 13.3).
   */
  onLost(offset: number, length: number, fin: boolean): void {
    if (this.st !== 'send' && this.st !== 'data-sent') return;
    const start = Math.max(offset, this.buf.start);
    const end = offset + length;
    if (end > start) this.acked.forEachGap(start, end, (s, e) => this.lost.add(s, e));
    if (fin && !this.finAcked) this.finLost = true;
  }

  /** Our RESET_STREAM was acknowledged (Reset Recvd). */
  onResetAcked(): void {
    if (this.st === 'reset-sent') this.setState('reset-recvd');
  }

  /** Our RESET_STREAM was lost: send it again until acknowledged (section 13.3). */
  onResetLost(): void {
    if (this.st === 'reset-sent') this.resetPending = true;
  }

  /** The lost and acknowledged ranges (for tests). */
  debugRanges(): { lost: [number, number][]; acked: [number, number][]; ackedPrefix: number } {
    return { lost: this.lost.toArray(), acked: this.acked.toArray(), ackedPrefix: this.buf.start };
  }
}
