/**
 * The CRYPTO stream of one encryption level (RFC 9000 sections 7.5 and
 * 19.6): reassembly of the peer's handshake bytes, and framing,
 * acknowledgement and retransmission of ours.
 *
 * CRYPTO data has no flow control (section 7.5: "Because there is no flow
 * control of CRYPTO frames, an endpoint could potentially force its peer to
 * buffer an unbounded amount of data"), so the receive side enforces
 * `maxBuffered`: the span held ahead of the read offset. Contiguous bytes go
 * to TLS at once, so only out-of-order data is ever held.
 *
 * The send side keeps every written byte until it is acknowledged; lost
 * ranges are sent again before new data (section 13.3: "Data sent in CRYPTO
 * frames is retransmitted according to the rules in [QUIC-RECOVERY], until
 * all data has been acknowledged").
 */
import { TransportError } from '../errors.js';
import { cryptoDataCapacity, type CryptoFrame } from '../frame.js';
import { Assembler } from '../streams/assembler.js';
import { RangeSet } from '../streams/range-set.js';

/** Frame type of CRYPTO, for the errors raised here. */
const CRYPTO = 0x06;
/** Section 7.5: "Implementations MUST support buffering at least 4096 bytes of data received in out-of-order CRYPTO frames." */
export const MIN_CRYPTO_BUFFER = 4096;

const EMPTY = new Uint8Array(0);

/** What went out in a packet, for the ack/loss callbacks (opaque to the connection). */
export interface CryptoFrameRecord {
  readonly offset: number;
  readonly length: number;
}

export interface CryptoStreamOptions {
  /** Out-of-order bytes held ahead of the read offset (section 7.5 says at least 4096; smaller values are raised to it). */
  readonly maxBuffered: number;
}

export class CryptoStream {
  private readonly maxBuffered: number;
  /** Copies what it holds: frame data are views of a packet buffer the driver may reuse. */
  private readonly recv = new Assembler(false);

  /** Written bytes from `sendBase` on, as chunks (copies of the writes), with the offset of each. */
  private chunks: Uint8Array[] = [];
  private chunkStarts: number[] = [];
  /** Everything below is acknowledged and released. */
  private sendBase = 0;
  /** Offset after the last written byte. */
  private writeEnd = 0;
  /** Next offset never sent. */
  private sendOffset = 0;
  /** Acknowledged ranges above `sendBase`. */
  private readonly acked = new RangeSet();
  /** Ranges to send again. */
  private readonly lost = new RangeSet();

  constructor(options: CryptoStreamOptions) {
    this.maxBuffered = Math.max(MIN_CRYPTO_BUFFER, options.maxBuffered);
  }

  /** Offset of the next byte handed to TLS. */
  get readOffset(): number {
    return this.recv.readOffset;
  }

  /** Out-of-order bytes held. */
  get buffered(): number {
    return this.recv.buffered;
  }

  /**
   * A CRYPTO frame arrived: returns the bytes that became contiguous, in
   * order (owned by the caller; an empty array if none). Repeats and
   * overlaps are tolerated (the first copy of a byte wins). Data ending
   * beyond `readOffset + maxBuffered`, unless it starts at or before
   * `readOffset` (then it is delivered at once, not held), is
   * CRYPTO_BUFFER_EXCEEDED (section 7.5: "If an endpoint does not expand its
   * buffer, it MUST close the connection with a CRYPTO_BUFFER_EXCEEDED error
   * code").
   */
  handleCryptoFrame(frame: CryptoFrame): Uint8Array[] {
    const start = frame.offset;
    const end = start + frame.data.length;
    const base = this.recv.readOffset;
    if (end <= base) return [];
    if (start > base && end - base > this.maxBuffered)
      throw new TransportError('CRYPTO_BUFFER_EXCEEDED', `CRYPTO data up to ${end}, read offset ${base}, buffer ${this.maxBuffered}`, {
        frameType: CRYPTO,
      });
    this.recv.insert(start, frame.data);
    const out: Uint8Array[] = [];
    for (let piece = this.recv.read(Infinity); piece.length > 0; piece = this.recv.read(Infinity)) out.push(piece);
    return out;
  }

  /** Queues handshake bytes from TLS (copied). */
  write(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data.slice());
    this.chunkStarts.push(this.writeEnd);
    this.writeEnd += data.length;
  }

  /** Lost data, or new data, waits to be sent. */
  hasPendingFrames(): boolean {
    return !this.lost.isEmpty || this.sendOffset < this.writeEnd;
  }

  /** Everything written has been acknowledged (true before anything is written). */
  get allAcked(): boolean {
    return this.sendBase === this.writeEnd;
  }

  /**
   * The next CRYPTO frame of at most `room` bytes: lost ranges first, then
   * new data. Null when nothing waits or not even one data byte fits. The
   * frame's data is a view of the send buffer or a copy; either stays valid
   * (written bytes never change).
   */
  nextFrame(room: number): { frame: CryptoFrame; record: CryptoFrameRecord } | null {
    let offset: number;
    let length: number;
    if (!this.lost.isEmpty) {
      offset = this.lost.start(0);
      const cap = cryptoDataCapacity(room, offset);
      if (cap <= 0) return null;
      length = Math.min(this.lost.end(0) - offset, cap);
      this.lost.remove(offset, offset + length);
    } else if (this.sendOffset < this.writeEnd) {
      offset = this.sendOffset;
      const cap = cryptoDataCapacity(room, offset);
      if (cap <= 0) return null;
      length = Math.min(this.writeEnd - offset, cap);
      this.sendOffset += length;
    } else {
      return null;
    }
    return { frame: { type: 'crypto', offset, data: this.slice(offset, length) }, record: { offset, length } };
  }

  /** The bytes `[offset, offset + length)` (all at or above `sendBase`): a view inside one chunk, else a copy. */
  private slice(offset: number, length: number): Uint8Array {
    if (length === 0) return EMPTY;
    let i = 0;
    while (i + 1 < this.chunks.length && this.chunkStarts[i + 1]! <= offset) i++;
    const at = offset - this.chunkStarts[i]!;
    const first = this.chunks[i]!;
    if (at + length <= first.length) return first.subarray(at, at + length);
    const out = new Uint8Array(length);
    let filled = 0;
    for (let from = at; filled < length; i++, from = 0) {
      const piece = this.chunks[i]!.subarray(from, from + (length - filled));
      out.set(piece, filled);
      filled += piece.length;
    }
    return out;
  }

  /** A CRYPTO frame was acknowledged: its bytes are never sent again, and the acknowledged prefix is released. */
  onFrameAcked(record: CryptoFrameRecord): void {
    const end = record.offset + record.length;
    if (end <= this.sendBase) return;
    this.acked.add(Math.max(record.offset, this.sendBase), end);
    // A range declared lost, then acknowledged after all: no need to send it again.
    this.lost.remove(record.offset, end);
    if (this.acked.start(0) <= this.sendBase) {
      const upTo = this.acked.end(0);
      this.acked.removeBelow(upTo);
      this.release(upTo);
    }
  }

  /** Drops the chunks wholly below `upTo` and moves `sendBase` there. */
  private release(upTo: number): void {
    this.sendBase = upTo;
    let n = 0;
    while (n < this.chunks.length && this.chunkStarts[n]! + this.chunks[n]!.length <= upTo) n++;
    if (n > 0) {
      this.chunks.splice(0, n);
      this.chunkStarts.splice(0, n);
    }
  }

  /** A CRYPTO frame was declared lost: its unacknowledged bytes are queued to be sent again. */
  onFrameLost(record: CryptoFrameRecord): void {
    this.queueUnacked(record.offset, record.offset + record.length);
  }

  /**
   * PTO probe: every byte sent and not acknowledged is pending again (RFC
   * 9002 section 6.2.4: a probe should "retransmit ... unacknowledged CRYPTO
   * data"). Copies still in flight may be acknowledged later; that is fine.
   */
  requeueUnacked(): void {
    this.queueUnacked(this.sendBase, this.sendOffset);
  }

  private queueUnacked(start: number, end: number): void {
    const s = Math.max(start, this.sendBase);
    if (end > s) this.acked.forEachGap(s, end, (a, b) => this.lost.add(a, b));
  }
}
