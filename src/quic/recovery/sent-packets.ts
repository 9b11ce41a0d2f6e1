/**
 * The record of sent packets of one packet number space (RFC 9002 appendix
 * A.1), built for many packets in flight.
 *
 * Packets are kept in a ring indexed by packet number: packet numbers only
 * grow and are nearly contiguous (RFC 9000 section 12.3), so `pn & mask` finds
 * a packet in O(1) without a map or a search. The ring covers the window from
 * the oldest packet still held (`base`) to the largest sent. Consequences:
 *
 * - acknowledging a range visits only the slots of that range that lie inside
 *   the window, and loss detection removes from the front (the oldest), so
 *   the work per ACK is the acked ranges plus the lost packets plus a constant;
 * - a slot inside the window is either a packet in flight, a packet number the
 *   sender skipped ({@link SentPackets.add} with a gap), or empty: an empty
 *   slot can only come from an acknowledgment, because losses and discards
 *   always remove the oldest packets first. Loss detection uses that to tell
 *   whether an acknowledged packet was sent between two lost ones (RFC 9002
 *   section 7.6.2).
 *
 * The payload `R` is opaque (the frames to retransmit, or whatever the
 * connection wants back when the packet is acked or lost).
 */
import { UsageError } from '../../combinators/errors.js';

/** One sent packet (RFC 9002 appendix A.1.1). Stored as given: the record is returned on ack, loss or discard. */
export interface SentPacket<R> {
  /** Packet number. */
  readonly pn: number;
  /** time_sent, ms on the caller's monotonic clock. */
  readonly timeSent: number;
  /** sent_bytes: the packet's size including QUIC framing and the AEAD tag, without UDP/IP headers. */
  readonly size: number;
  /** Contains an ack-eliciting frame (RFC 9000 section 13.2). */
  readonly ackEliciting: boolean;
  /** Counts toward bytes in flight: contains a frame other than ACK (RFC 9002 section 2). */
  readonly inFlight: boolean;
  /** What the connection wants back when the packet is acked or lost (frames to retransmit). */
  readonly frames: R;
}

/** Marks a packet number the sender skipped (never sent): acknowledging it is a protocol violation. */
const SKIPPED: unique symbol = Symbol('skipped');
type Slot<R> = SentPacket<R> | typeof SKIPPED | undefined;

/** A window wider than this means packet numbers jumped absurdly far: a caller bug, not a reason to allocate gigabytes. */
const MAX_WINDOW = 1 << 24;
const INITIAL_CAPACITY = 64;

/** The sent packets of one packet number space, with the counters loss detection needs. */
export class SentPackets<R> {
  private slots: Slot<R>[] = new Array<Slot<R>>(INITIAL_CAPACITY);
  private mask = INITIAL_CAPACITY - 1;
  /** Lowest packet number that may still be held; the slot at `base` holds a packet whenever `live > 0`. */
  private base = 0;
  /** One past the largest packet number added. */
  private end = 0;
  private live = 0;
  private lastTimeSent = -Infinity;
  /** True when the last advance of `base` crossed an empty (acknowledged) slot. */
  private crossedAcked = false;

  /** Largest packet number sent in this space, null before the first. */
  largestSent: number | null = null;
  /** Largest packet number the peer acknowledged, `largest_acked_packet` (null before the first ACK). */
  largestAcked: number | null = null;
  /** `time_of_last_ack_eliciting_packet` (RFC 9002 appendix A.2), null before the first one. */
  timeOfLastAckEliciting: number | null = null;
  /** Ack-eliciting packets in flight (unacknowledged, not lost). */
  ackElicitingInFlight = 0;
  /** Bytes of the in-flight packets held here. */
  bytesInFlight = 0;
  /** Ring slots visited by acknowledgments and removals: a work counter for tests and benchmarks. */
  slotVisits = 0;

  /** Number of packets held (neither acknowledged, lost nor discarded). */
  get size(): number {
    return this.live;
  }

  /**
   * Records a sent packet. Packet numbers must increase and send times must
   * not go backwards (the caller's clock is monotonic); packet numbers between
   * the previous one and `p.pn` count as skipped (RFC 9000 section 21.4) while
   * older packets are still held.
   */
  add(p: SentPacket<R>): void {
    if (this.largestSent !== null && p.pn <= this.largestSent)
      throw new UsageError(`packet number ${p.pn} sent after ${this.largestSent}: packet numbers must increase`);
    if (p.timeSent < this.lastTimeSent)
      throw new UsageError(`packet sent at ${p.timeSent}, before ${this.lastTimeSent}: now must not go backwards`);
    if (this.live === 0) {
      // Nothing held: the window restarts at this packet (no slot to clear, see advance()).
      this.base = p.pn;
      this.end = p.pn;
    } else {
      const needed = p.pn - this.base + 1;
      if (needed > MAX_WINDOW) throw new UsageError(`packet number ${p.pn} is ${needed} past the oldest packet in flight`);
      if (needed > this.slots.length) this.grow(needed);
      for (let pn = this.end; pn < p.pn; pn++) this.slots[pn & this.mask] = SKIPPED;
    }
    this.slots[p.pn & this.mask] = p;
    this.end = p.pn + 1;
    this.live++;
    this.largestSent = p.pn;
    this.lastTimeSent = p.timeSent;
    if (p.inFlight) {
      this.bytesInFlight += p.size;
      if (p.ackEliciting) {
        this.ackElicitingInFlight++;
        this.timeOfLastAckEliciting = p.timeSent;
      }
    }
  }

  /** The packet `pn` if it is still held. */
  get(pn: number): SentPacket<R> | undefined {
    if (pn < this.base || pn >= this.end) return undefined;
    const s = this.slots[pn & this.mask];
    return s === undefined || s === SKIPPED ? undefined : s;
  }

  /** The oldest packet held (smallest packet number). */
  first(): SentPacket<R> | undefined {
    if (this.live === 0) return undefined;
    return this.slots[this.base & this.mask] as SentPacket<R>;
  }

  /**
   * Removes the oldest packet (loss detection) and returns it. Afterwards
   * {@link crossedAckedSlot} says whether an acknowledged packet lay between
   * it and the new oldest packet.
   */
  removeFirst(): SentPacket<R> | undefined {
    const p = this.first();
    if (p === undefined) return undefined;
    this.take(p);
    this.slots[this.base & this.mask] = undefined;
    this.base++;
    this.advance();
    return p;
  }

  /** After {@link removeFirst}: true if an acknowledged packet was sent between the removed packet and the next one held. */
  get crossedAckedSlot(): boolean {
    return this.crossedAcked;
  }

  /**
   * Removes the packets with numbers in `[smallest, largest]` and appends them
   * to `out` in ascending order. Returns true if the range covers a skipped
   * packet number still in the window (an acknowledgment of a packet never sent).
   */
  removeRange(smallest: number, largest: number, out: SentPacket<R>[]): boolean {
    const lo = Math.max(smallest, this.base);
    const hi = Math.min(largest, this.end - 1);
    let skipped = false;
    for (let pn = lo; pn <= hi; pn++) {
      this.slotVisits++;
      const i = pn & this.mask;
      const s = this.slots[i];
      if (s === undefined) continue;
      if (s === SKIPPED) {
        skipped = true;
        continue;
      }
      this.take(s);
      this.slots[i] = undefined;
      out.push(s);
    }
    this.advance();
    return skipped;
  }

  /** Removes and returns every packet held, oldest first (discarding the space, RFC 9002 section 6.4). */
  clear(): SentPacket<R>[] {
    const out: SentPacket<R>[] = [];
    for (let pn = this.base; pn < this.end; pn++) {
      const i = pn & this.mask;
      const s = this.slots[i];
      if (s !== undefined && s !== SKIPPED) out.push(s);
      this.slots[i] = undefined;
    }
    this.base = this.end;
    this.live = 0;
    this.bytesInFlight = 0;
    this.ackElicitingInFlight = 0;
    return out;
  }

  /** Iterates the packets held, oldest first (for tests and diagnostics: O(window)). */
  *[Symbol.iterator](): IterableIterator<SentPacket<R>> {
    for (let pn = this.base; pn < this.end; pn++) {
      const s = this.slots[pn & this.mask];
      if (s !== undefined && s !== SKIPPED) yield s;
    }
  }

  /** Bookkeeping for a packet leaving the record (its slot is cleared by the caller or by advance()). */
  private take(p: SentPacket<R>): void {
    this.live--;
    if (p.inFlight) {
      this.bytesInFlight -= p.size;
      if (p.ackEliciting) this.ackElicitingInFlight--;
    }
  }

  /** Moves `base` forward to the oldest packet held, clearing the empty and skipped slots it passes. */
  private advance(): void {
    let crossed = false;
    const slots = this.slots;
    const mask = this.mask;
    while (this.base < this.end) {
      const i = this.base & mask;
      const s = slots[i];
      if (s !== undefined && s !== SKIPPED) break;
      this.slotVisits++;
      if (s === undefined) crossed = true;
      slots[i] = undefined;
      this.base++;
    }
    this.crossedAcked = crossed;
  }

  private grow(needed: number): void {
    let cap = this.slots.length;
    while (cap < needed) cap *= 2;
    const next = new Array<Slot<R>>(cap);
    const mask = cap - 1;
    for (let pn = this.base; pn < this.end; pn++) next[pn & mask] = this.slots[pn & this.mask];
    this.slots = next;
    this.mask = mask;
  }
}
