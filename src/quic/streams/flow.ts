/**
 * Flow control (RFC 9000 section 4), at stream and connection level, in both
 * directions, and the stream-count limits (section 4.6).
 *
 * Two views of one mechanism:
 *
 * - {@link SendCredit}: a limit the PEER gave us (initial_max_data /
 *   initial_max_stream_data_*, then MAX_DATA / MAX_STREAM_DATA) that the data
 *   we send must never exceed; when we have data but no credit we say so
 *   once per limit (DATA_BLOCKED / STREAM_DATA_BLOCKED, section 4.1).
 * - {@link RecvWindow}: the limit WE gave the peer. Credit goes back to the
 *   peer as the application CONSUMES data (reads it, or it is discarded after
 *   a reset / STOP_SENDING), never merely as it arrives: a slow reader must
 *   slow the sender down (STYLE.md habit 9; aioquic grows the window on
 *   arrival, which is the mistake avoided here). Receiving beyond the limit
 *   is FLOW_CONTROL_ERROR (section 4.1).
 *
 * The same pair exists for stream counts: {@link LocalStreamCredit} (how many
 * streams of a type the peer lets us open; STREAMS_BLOCKED) and
 * {@link RemoteStreamCredit} (how many the peer may open; STREAM_LIMIT_ERROR
 * beyond it, MAX_STREAMS as its streams close and their state is discarded).
 *
 * Pure counters, no frames and no I/O: the stream manager turns their
 * "update due" / "blocked" flags into frames and back.
 */
import { TransportError } from '../errors.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Credit the peer gave us: `used` (bytes sent at new offsets, or streams
 * opened) never exceeds `limit`.
 *
 * Blocked signals (RFC 9000 sections 4.1 and 13.3): {@link noteBlocked} is
 * called when the sender wanted to send but had no credit; it asks for one
 * BLOCKED frame per limit value. A lost BLOCKED frame is sent again only while
 * we are still blocked at the limit it carried ({@link onBlockedLost}).
 */
export class SendCredit {
  /** The peer's current maximum (absolute: an offset, a byte total or a stream count). */
  limit: number;
  /** How much of it is used. */
  used = 0;
  /** A BLOCKED frame carrying `limit` should be sent. */
  blockedPending = false;
  /** The limit for which a BLOCKED frame was last queued (-1: none). */
  private blockedAt = -1;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Credit left. */
  get available(): number {
    return this.limit - this.used;
  }

  /**
   * Applies a new maximum from the peer. "A sender MUST ignore any MAX_STREAM_DATA or MAX_DATA frames
   * that do not increase flow control limits" (section 4.1); "MAX_STREAMS frames that do not increase the
   * stream limit MUST be ignored" (section 4.6). Returns true if the limit grew.
   */
  raise(maximum: number): boolean {
    if (maximum <= this.limit) return false;
    this.limit = maximum;
    // A pending BLOCKED frame for the old limit is stale now.
    this.blockedPending = false;
    return true;
  }

  /** Uses `n` units of credit (the caller checked `available`). */
  consume(n: number): void {
    this.used += n;
  }

  /** The sender wanted more than `available`: ask for a BLOCKED frame, once per limit. */
  noteBlocked(): void {
    if (this.available > 0 || this.blockedAt === this.limit) return;
    this.blockedAt = this.limit;
    this.blockedPending = true;
  }

  /** The BLOCKED frame was put in a packet. */
  onBlockedSent(): void {
    this.blockedPending = false;
  }

  /** A BLOCKED frame carrying `limit` was lost: send it again if we are still blocked at that limit. */
  onBlockedLost(limit: number): void {
    if (limit === this.limit && this.available <= 0) this.blockedPending = true;
  }
}

/**
 * The credit we give the peer, kept `window` ahead of what was released
 * (bytes consumed, or peer streams closed): the advertised maximum is
 * `released + window`, and an update is due when it would raise the limit by
 * at least half a window (at least 1), so updates are neither per-release nor
 * too late. Shared by the data windows and the stream-count credit.
 */
abstract class SlidingLimit {
  /** The largest maximum advertised so far. */
  limit: number;
  /** Credit kept open ahead of what was released. */
  readonly window: number;
  /** An update (MAX_DATA / MAX_STREAM_DATA / MAX_STREAMS) should be sent. */
  updatePending = false;
  protected released = 0;

  constructor(window: number) {
    this.window = window;
    this.limit = window;
  }

  protected release(n: number): void {
    this.released += n;
    if (!this.updatePending && this.window > 0 && this.peekUpdate() - this.limit >= Math.max(1, this.window / 2)) {
      this.updatePending = true;
    }
  }

  /** The maximum {@link takeUpdate} would advertise now. */
  peekUpdate(): number {
    return Math.max(this.limit, Math.min(this.released + this.window, MAX_SAFE));
  }

  /** Takes the pending update: raises `limit` and returns the maximum to advertise. */
  takeUpdate(): number {
    this.updatePending = false;
    this.limit = this.peekUpdate();
    return this.limit;
  }

  /**
   * An update carrying `maximum` was lost: "An updated value is sent ... if the packet containing the most
   * recently sent MAX_DATA frame is declared lost" (RFC 9000 section 13.3; likewise MAX_STREAM_DATA and
   * MAX_STREAMS). An older value was superseded by a later frame.
   */
  onUpdateLost(maximum: number): void {
    if (maximum === this.limit) this.updatePending = true;
  }
}

/**
 * The credit we gave the peer for data (one stream, or the whole connection).
 *
 * `received` is the highest offset (stream) or the sum of the highest offsets
 * (connection) the peer has used; `consumed` how much the application has
 * read or discarded; `limit` the maximum we advertised. A new maximum of
 * `consumed + window` is due when that would extend the advertised limit by
 * at least half a window, so updates are neither per-read nor too late (the
 * peer still has half a window of credit when it gets the update).
 *
 * Memory bound: the bytes a receiver buffers never exceed `limit - consumed`,
 * which never exceeds `window`.
 */
export class RecvWindow extends SlidingLimit {
  /** Highest offset / total the peer has sent. */
  received = 0;

  /** Read by the application or discarded. */
  get consumed(): number {
    return this.released;
  }

  /**
   * Checks that the peer may reach `newReceived` (RFC 9000 section 4.1: "A receiver MUST close the
   * connection with an error of type FLOW_CONTROL_ERROR if the sender violates the advertised connection
   * or stream data limits"). Raises TransportError FLOW_CONTROL_ERROR with `frameType`.
   */
  check(newReceived: number, frameType: number, what: string): void {
    if (newReceived > this.limit) {
      throw new TransportError('FLOW_CONTROL_ERROR', `${what}: ${newReceived} bytes exceed the advertised limit ${this.limit}`, {
        frameType,
      });
    }
  }

  /** Records a checked new `received` value. */
  onReceived(newReceived: number): void {
    if (newReceived > this.received) this.received = newReceived;
  }

  /** The application consumed (read or discarded) `n` more bytes. */
  onConsumed(n: number): void {
    this.release(n);
  }
}

/**
 * How many streams of one type we may open (the peer's initial_max_streams_*
 * and MAX_STREAMS, RFC 9000 section 4.6), with STREAMS_BLOCKED once per limit
 * (section 19.14: "A sender SHOULD send a STREAMS_BLOCKED frame ... when it
 * wishes to open a stream but is unable to do so due to the maximum stream
 * limit set by its peer").
 */
export class LocalStreamCredit extends SendCredit {
  /** Opens the next stream: returns its index, or null (and notes the blocking) at the limit. */
  open(): number | null {
    if (this.available <= 0) {
      this.noteBlocked();
      return null;
    }
    this.consume(1);
    return this.used - 1;
  }
}

/**
 * How many streams of one type the peer may open. The advertised maximum is
 * `closed + window`: at most `window` (our initial_max_streams_*) of the
 * peer's streams are ever open at once, so the state they cost is bounded by
 * configuration. MAX_STREAMS is due when closing streams would raise the
 * maximum by half the window (at least 1).
 */
export class RemoteStreamCredit extends SlidingLimit {
  /** Streams the peer opened (explicitly or implicitly): the next index expected. */
  opened = 0;

  /** Peer streams whose state was discarded. */
  get closed(): number {
    return this.released;
  }

  /**
   * Checks that the peer may use the stream with this index (RFC 9000 section 4.6: "An endpoint that
   * receives a frame with a stream ID exceeding the limit it has sent MUST treat this as a connection
   * error of type STREAM_LIMIT_ERROR").
   */
  check(index: number, streamId: number, frameType: number): void {
    if (index >= this.limit) {
      throw new TransportError('STREAM_LIMIT_ERROR', `stream ${streamId} is beyond the limit of ${this.limit} streams of its type`, {
        frameType,
      });
    }
  }

  /** A peer stream's state was discarded: its credit comes back. */
  onClosed(): void {
    this.release(1);
  }
}
