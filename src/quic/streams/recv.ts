/**
 * The receiving part of a stream (RFC 9000 section 3.2): reassembly, final
 * size (section 4.5), stream-level flow control (section 4.1) with credit
 * returned as the application reads, RESET_STREAM, and the application's
 * STOP_SENDING request (section 3.5).
 *
 * States (section 3.2, Figure 3), changed only through {@link RecvStream.setState}:
 *
 * ```
 * recv --STREAM+FIN--> size-known --all data--> data-recvd --app read all--> data-read
 *   |                     |
 *   +----RESET_STREAM-----+--------------------> reset-recvd --app told-----> reset-read
 * ```
 *
 * The two optional transitions of Figure 3 are not taken: a RESET_STREAM in
 * data-recvd is ignored (the data is all there; the application gets it), and
 * data arriving in reset-recvd is dropped. Both still have their final size
 * checked.
 *
 * The connection-level window is passed in by the caller (one per
 * connection), so that a frame is checked against both limits before any
 * state changes.
 */
import { TransportError } from '../errors.js';
import { Assembler } from './assembler.js';
import { RecvWindow } from './flow.js';

/** RFC 9000 section 3.2 receiving-part states. */
export type RecvState = 'recv' | 'size-known' | 'data-recvd' | 'data-read' | 'reset-recvd' | 'reset-read';

/** The allowed transitions, the only place they are listed. */
export const RECV_TRANSITIONS: { readonly [S in RecvState]: readonly RecvState[] } = {
  recv: ['size-known', 'reset-recvd'],
  'size-known': ['data-recvd', 'reset-recvd'],
  'data-recvd': ['data-read'],
  'data-read': [],
  'reset-recvd': ['reset-read'],
  'reset-read': [],
};

const STREAM_TYPE = 0x08;
/** Default reassembly limit: up to 1024 gaps in one stream's received data (quic-go allows 1000). */
export const DEFAULT_MAX_SEGMENTS = 2048;
const RESET_STREAM_TYPE = 0x04;

/** What the application gets from a read. */
export interface StreamRead {
  /** The bytes, in order (may be empty when only the end of the stream is reported). Owned by the caller. */
  readonly data: Uint8Array;
  /** True when `data` ends the stream: nothing follows. */
  readonly fin: boolean;
}

/** The result of a RESET_STREAM that changed the stream's state. */
export interface RecvReset {
  readonly errorCode: bigint;
  readonly finalSize: number;
}

export class RecvStream {
  readonly id: number;
  private st: RecvState = 'recv';
  /** Stream-level credit we gave the peer. */
  readonly window: RecvWindow;
  private readonly asm: Assembler;
  /** Known once a FIN or RESET_STREAM arrived (section 4.5). */
  finalSize: number | null = null;
  /** Highest offset received (counts toward connection flow control). */
  private highest = 0;
  /** Application error code of the peer's RESET_STREAM. */
  resetCode: bigint | null = null;
  /** Set by {@link stopSending}: the application does not want the data. */
  stopCode: bigint | null = null;
  /** A STOP_SENDING frame should be sent (section 3.5; resent on loss, section 13.3). */
  stopPending = false;
  /** The readable hint was given and the reader has not drained since (see StreamManager events). */
  readableNotified = false;
  /** Read everything, FIN included. */
  private finDelivered = false;

  /** Most separate pieces held before they are merged (and, past half of it after merging, refused). */
  private readonly maxSegments: number;

  constructor(id: number, window: number, retainViews: boolean, maxSegments = DEFAULT_MAX_SEGMENTS) {
    this.id = id;
    this.window = new RecvWindow(window);
    this.asm = new Assembler(retainViews);
    this.maxSegments = maxSegments;
  }

  get state(): RecvState {
    return this.st;
  }

  /** The single place the state changes; an illegal transition is a bug here, not the peer's fault. */
  private setState(to: RecvState): void {
    if (!RECV_TRANSITIONS[this.st].includes(to)) throw new Error(`recv stream ${this.id}: illegal transition ${this.st} -> ${to}`);
    this.st = to;
  }

  /** Bytes held, received but not read. */
  get buffered(): number {
    return this.asm.buffered;
  }

  /** Offset of the next byte the application reads. */
  get readOffset(): number {
    return this.asm.readOffset;
  }

  /** Highest offset received so far. */
  get highestReceived(): number {
    return this.highest;
  }

  /** Data (or the end of the stream) can be read now. */
  get readable(): boolean {
    if (this.st === 'reset-recvd' || this.st === 'reset-read' || this.st === 'data-read' || this.stopCode !== null) return false;
    return this.asm.hasContiguous || (this.finalSize !== null && this.asm.readOffset === this.finalSize && !this.finDelivered);
  }

  /** The receiving part reached a terminal state (its state may be discarded). */
  get terminal(): boolean {
    return this.st === 'data-read' || this.st === 'reset-read';
  }

  /** A MAX_STREAM_DATA is due: only in Recv (section 3.3: "The receiver only sends MAX_STREAM_DATA frames in the Recv state"), never once the application stopped reading. */
  get maxStreamDataPending(): boolean {
    return this.window.updatePending && this.st === 'recv' && this.stopCode === null;
  }

  /**
   * Checks the final-size rules of RFC 9000 section 4.5 for data or a reset ending at `end`:
   * "Once a final size for a stream is known, it cannot change. If a RESET_STREAM or STREAM frame is
   * received indicating a change in the final size for the stream, an endpoint SHOULD respond with an error
   * of type FINAL_SIZE_ERROR"; "a receiver SHOULD treat receipt of data at or beyond the final size as an
   * error of type FINAL_SIZE_ERROR"; "If an endpoint receives a RESET_STREAM frame or a STREAM frame with a
   * FIN ... with a final size lower than the amount already received, FINAL_SIZE_ERROR".
   */
  private checkFinalSize(end: number, isFinal: boolean, frameType: number): void {
    const known = this.finalSize;
    if (known !== null) {
      if (isFinal ? end !== known : end > known) {
        throw new TransportError(
          'FINAL_SIZE_ERROR',
          `stream ${this.id}: ${isFinal ? `final size ${end}` : `data up to ${end}`} conflicts with the final size ${known}`,
          { frameType },
        );
      }
    } else if (isFinal && end < this.highest) {
      throw new TransportError('FINAL_SIZE_ERROR', `stream ${this.id}: final size ${end} below the ${this.highest} bytes received`, {
        frameType,
      });
    }
  }

  /**
   * A STREAM frame. Checks final size, then stream and connection flow
   * control, before changing anything; the connection-level count grows by
   * the new highest offset. The caller then looks at `readable`.
   */
  handleStream(offset: number, data: Uint8Array, fin: boolean, conn: RecvWindow): void {
    const end = offset + data.length;
    this.checkFinalSize(end, fin, STREAM_TYPE);
    const growth = end > this.highest ? end - this.highest : 0;
    this.window.check(end, STREAM_TYPE, `stream ${this.id}`);
    conn.check(conn.received + growth, STREAM_TYPE, 'connection');
    this.window.onReceived(end);
    conn.onReceived(conn.received + growth);
    if (growth > 0) this.highest = end;
    if (fin && this.finalSize === null) {
      this.finalSize = end;
      if (this.st === 'recv') this.setState('size-known');
    }
    const s = this.st;
    if (s === 'recv' || s === 'size-known') {
      if (this.stopCode !== null) {
        // Section 3.5: data after STOP_SENDING still counts toward flow control "even though these frames
        // can be discarded upon receipt": everything received is consumed at once.
        this.asm.discard(this.highest);
        this.consume(conn);
      } else {
        this.asm.insert(offset, data);
        if (this.asm.segmentCount > this.maxSegments) this.defragment();
      }
      if (s === 'size-known' && this.asm.readOffset + this.asm.contiguous === this.finalSize) {
        this.setState('data-recvd');
        // Nobody will read a stopped stream: it is done.
        if (this.stopCode !== null) this.setState('data-read');
      }
    }
  }

  /**
   * Too many pieces held: merge the touching ones. RFC 9000 section 21.7
   * asks for a mitigation of stream fragmentation attacks ("limiting the size
   * of tracking data structures"): flow control bounds the bytes, not the
   * number of pieces, and a peer sending 1-byte frames with gaps would
   * otherwise cost an object per byte and quadratic insertion time. After
   * merging, more than half the limit in separate runs (that many gaps at
   * once) is refused with INTERNAL_ERROR: the limit is ours, not a rule the
   * peer broke. Merging only when the count doubles keeps its copying
   * amortized. quic-go refuses more than 1000 gaps per stream likewise.
   */
  private defragment(): void {
    this.asm.coalesce();
    if (this.asm.segmentCount > this.maxSegments / 2) {
      throw new TransportError(
        'INTERNAL_ERROR',
        `stream ${this.id}: data in ${this.asm.segmentCount} separate pieces exceeds the reassembly limit`,
        { frameType: STREAM_TYPE },
      );
    }
  }

  /** Returns connection credit for bytes that became consumed without being read (discarded). */
  private consume(conn: RecvWindow): void {
    const upTo = this.highest > this.asm.readOffset ? this.highest : this.asm.readOffset;
    const n = upTo - this.window.consumed;
    if (n > 0) {
      this.window.onConsumed(n);
      conn.onConsumed(n);
    }
  }

  /**
   * A RESET_STREAM (section 3.2, 19.4). Returns the reset when it moved the
   * stream to reset-recvd (the caller tells the application), null when it
   * was a duplicate or came too late to matter.
   */
  handleReset(errorCode: bigint, finalSize: number, conn: RecvWindow): RecvReset | null {
    this.checkFinalSize(finalSize, true, RESET_STREAM_TYPE);
    const growth = finalSize > this.highest ? finalSize - this.highest : 0;
    this.window.check(finalSize, RESET_STREAM_TYPE, `stream ${this.id}`);
    conn.check(conn.received + growth, RESET_STREAM_TYPE, 'connection');
    this.window.onReceived(finalSize);
    conn.onReceived(conn.received + growth);
    this.highest = finalSize;
    this.finalSize = finalSize;
    if (this.st !== 'recv' && this.st !== 'size-known') return null;
    this.setState('reset-recvd');
    this.resetCode = errorCode;
    this.stopPending = false;
    this.readableNotified = false;
    // Section 4.5: "the final size is the amount of flow control credit that is consumed by a stream";
    // the application will read none of it, so all of it comes back to the connection now.
    this.asm.discard(finalSize);
    this.consume(conn);
    return { errorCode, finalSize };
  }

  /** The application was told about the reset (section 3.2 "App Read Reset"). */
  onResetDelivered(): void {
    if (this.st === 'reset-recvd') this.setState('reset-read');
  }

  /**
   * The application reads up to `max` bytes. Returns null when nothing is
   * readable. Credit is returned here, as the application consumes
   * (STYLE.md habit 9).
   */
  read(max: number, conn: RecvWindow): StreamRead | null {
    if (!this.readable) return null;
    const data = this.asm.read(max);
    if (data.length > 0) {
      this.window.onConsumed(data.length);
      conn.onConsumed(data.length);
    }
    const fin = this.finalSize !== null && this.asm.readOffset === this.finalSize;
    if (fin) {
      this.finDelivered = true;
      if (this.st === 'data-recvd') this.setState('data-read');
    }
    if (!this.readable) this.readableNotified = false;
    return { data, fin };
  }

  /**
   * The application no longer wants the data (section 3.5): discard what is
   * held (its credit comes back to the connection), ask the peer to stop
   * with STOP_SENDING while in Recv or Size Known. Returns false when it
   * changed nothing (already stopped, reset, or all data received).
   */
  stopSending(errorCode: bigint, conn: RecvWindow): boolean {
    if (this.stopCode !== null || (this.st !== 'recv' && this.st !== 'size-known')) {
      if (this.st === 'data-recvd' && this.stopCode === null) {
        // Everything arrived: nothing to ask the peer; the application just drops it.
        this.stopCode = errorCode;
        this.asm.discard(this.highest);
        this.consume(conn);
        this.setState('data-read');
        return true;
      }
      return false;
    }
    this.stopCode = errorCode;
    this.stopPending = true;
    this.readableNotified = false;
    this.asm.discard(this.highest);
    this.consume(conn);
    return true;
  }

  /** The STOP_SENDING was lost: send it again until the peer's reset or all data arrived (section 13.3). */
  onStopLost(): void {
    if (this.stopCode !== null && (this.st === 'recv' || this.st === 'size-known')) this.stopPending = true;
  }
}
