/**
 * What we received in one packet number space, and when to acknowledge it
 * (RFC 9000 section 13.2).
 *
 * One tracker per packet number space ("Each packet number space maintains
 * separate acknowledgment state and separate ECN counts", section 13.4.1).
 * It answers three questions for the connection:
 *
 * - is this packet number a duplicate? ({@link AckTracker.isDuplicate},
 *   asked before the packet's frames are processed);
 * - must an ACK go now, or by when? ({@link AckTracker.ackDue},
 *   {@link AckTracker.deadline}, {@link AckTracker.hasNewAck});
 * - what does the ACK frame say? ({@link AckTracker.buildAck}).
 *
 * Memory is bounded: at most `maxRanges` ranges of received packet numbers
 * are kept. When a new range would exceed that, the oldest ranges are
 * dropped and a floor rises above them: anything below the floor counts as
 * a duplicate (section 13.2.3: "A receiver MUST retain an ACK Range unless
 * it can ensure that it will not subsequently accept packets with numbers in
 * that range. Maintaining a minimum packet number that increases as ranges
 * are discarded is one way to achieve this with minimal state.").
 *
 * Times are milliseconds on the caller's monotonic clock; the tracker never
 * reads a clock.
 */
import type { AckFrame, AckRange, EcnCounts } from '../frame.js';
import type { PacketNumberSpace } from '../packet-io.js';
import { RangeSet } from '../streams/range-set.js';

/** The ECN codepoint of a received IP packet (RFC 9000 section 13.4, RFC 3168). */
export type EcnMark = 'not-ect' | 'ect0' | 'ect1' | 'ce';

export interface AckTrackerOptions {
  readonly space: PacketNumberSpace;
  /** Our max_ack_delay in ms (application space; Initial/Handshake ACK at once, 13.2.1). */
  readonly maxAckDelay: number;
  /** Our ack_delay_exponent (to encode ACK Delay). */
  readonly ackDelayExponent: number;
  /** Ack-eliciting packets received before an ACK is sent at once (default 2, 13.2.2). */
  readonly ackElicitingThreshold?: number;
  /** Most ACK ranges kept and sent (default 64); the oldest are dropped first (13.2.4). */
  readonly maxRanges?: number;
}

/** Default {@link AckTrackerOptions.ackElicitingThreshold}: section 13.2.2, "after receiving at least two ack-eliciting packets". */
export const DEFAULT_ACK_ELICITING_THRESHOLD = 2;
/** Default {@link AckTrackerOptions.maxRanges}. */
export const DEFAULT_MAX_ACK_RANGES = 64;
/** Most ACK-carrying packets remembered for ack-of-ack pruning (older ones are forgotten first). */
const MAX_SENT_ACKS = 256;

export class AckTracker {
  readonly space: PacketNumberSpace;
  private readonly maxAckDelay: number;
  private readonly ackDelayExponent: number;
  private readonly threshold: number;
  private readonly maxRanges: number;

  /** Received packet numbers at or above `floor`, as `[pn, pn + 1)` ranges. */
  private readonly received = new RangeSet();
  /** Everything below is treated as a duplicate (raised when old ranges are dropped). */
  private floor = 0;
  /** Ranges below this were acknowledged by an ACK the peer acknowledged: not sent again (13.2.4). */
  private ackFloor = 0;
  private largest: number | null = null;
  /** Receive time of `largest`, for the ACK Delay field (section 13.2.5). */
  private largestTime = 0;
  /** Largest ack-eliciting packet number received, for the out-of-order rule of section 13.2.1. */
  private largestAckEliciting: number | null = null;

  /** Ack-eliciting packets received since the last ACK we sent. */
  private unackedEliciting = 0;
  /** Receive time of the first of those (starts the max_ack_delay timer). */
  private firstUnackedTime: number | null = null;
  /** An ACK must go without delay (section 13.2.1). */
  private immediate = false;
  /** Any packet received since the last ACK we sent. */
  private newSinceAck = false;

  private ect0 = 0;
  private ect1 = 0;
  private ce = 0;
  private ecnSeen = false;

  /** Our packets that carried an ACK: packet number and the ACK's Largest Acknowledged, ascending. */
  private readonly sentAcks: { readonly pn: number; readonly largest: number }[] = [];

  constructor(options: AckTrackerOptions) {
    this.space = options.space;
    this.maxAckDelay = options.maxAckDelay;
    this.ackDelayExponent = options.ackDelayExponent;
    this.threshold = Math.max(1, options.ackElicitingThreshold ?? DEFAULT_ACK_ELICITING_THRESHOLD);
    this.maxRanges = Math.max(1, options.maxRanges ?? DEFAULT_MAX_ACK_RANGES);
  }

  /** Largest packet number received (section 13.2.3: kept even when ranges are dropped, to decode packet numbers). */
  get largestReceived(): number | null {
    return this.largest;
  }

  /** Lowest packet number still tracked: anything below is reported as a duplicate. */
  get smallestTracked(): number {
    return this.floor;
  }

  /**
   * True if `pn` was already received, or lies below what is still tracked
   * (then it may have been received: treat it as a duplicate and drop the
   * packet). Check before processing the packet's frames.
   */
  isDuplicate(pn: number): boolean {
    return pn < this.floor || this.received.has(pn);
  }

  /**
   * A packet was processed. `ecn` is its IP ECN mark (null or absent when
   * the driver does not know). A duplicate is ignored: it changes neither
   * the ranges nor the ECN counts (section 13.4.1: "A packet detected by a
   * receiver as a duplicate does not affect the receiver's local ECN
   * codepoint counts").
   */
  onPacketReceived(pn: number, ackEliciting: boolean, now: number, ecn: EcnMark | null = null): void {
    if (this.isDuplicate(pn)) return;
    if (ackEliciting && this.isOutOfOrder(pn)) this.immediate = true;

    this.received.add(pn, pn + 1);
    if (this.largest === null || pn > this.largest) {
      this.largest = pn;
      this.largestTime = now;
    }
    // A late packet below what the peer already knows we have: acknowledge it again from there.
    if (pn < this.ackFloor) this.ackFloor = pn;
    this.capRanges();

    switch (ecn) {
      case 'ect0':
        this.ect0++;
        this.ecnSeen = true;
        break;
      case 'ect1':
        this.ect1++;
        this.ecnSeen = true;
        break;
      case 'ce':
        this.ce++;
        this.ecnSeen = true;
        // Section 13.2.1: "packets marked with the ECN Congestion Experienced (CE) codepoint in the IP header
        // SHOULD be acknowledged immediately". Only ack-eliciting ones: "An endpoint MUST NOT send a
        // non-ack-eliciting packet in response to a non-ack-eliciting packet".
        if (ackEliciting) this.immediate = true;
        break;
      case 'not-ect':
      case null:
        break;
      default: {
        const never: never = ecn;
        return never;
      }
    }

    this.newSinceAck = true;
    if (!ackEliciting) return;
    if (this.largestAckEliciting === null || pn > this.largestAckEliciting) this.largestAckEliciting = pn;
    this.unackedEliciting++;
    if (this.firstUnackedTime === null) this.firstUnackedTime = now;
    // Section 13.2.1: "An endpoint MUST acknowledge all ack-eliciting Initial and Handshake packets immediately".
    if (this.space !== 'application') this.immediate = true;
  }

  /**
   * Section 13.2.1: an endpoint "SHOULD generate and send an ACK frame without delay when it receives an
   * ack-eliciting packet either: when the received packet has a packet number less than another
   * ack-eliciting packet that has been received, or when the packet has a packet number larger than the
   * highest-numbered ack-eliciting packet that has been received and there are missing packets between that
   * packet and this packet." Before any ack-eliciting packet, a gap above the lowest tracked number counts.
   */
  private isOutOfOrder(pn: number): boolean {
    const lae = this.largestAckEliciting;
    if (lae !== null && pn < lae) return true;
    const from = lae === null ? this.floor : lae + 1;
    let gap = false;
    if (from < pn) this.received.forEachGap(from, pn, () => (gap = true));
    return gap;
  }

  /** Drops the oldest ranges beyond `maxRanges`, raising the duplicate floor above them. */
  private capRanges(): void {
    const excess = this.received.count - this.maxRanges;
    if (excess <= 0) return;
    this.floor = this.received.start(excess);
    this.received.removeBelow(this.floor);
    if (this.ackFloor < this.floor) this.ackFloor = this.floor;
  }

  /**
   * An ACK should be sent now: an Initial/Handshake ack-eliciting packet,
   * an out-of-order or CE-marked ack-eliciting packet (13.2.1), the
   * threshold of ack-eliciting packets reached (13.2.2), or the delayed-ACK
   * timer expired at `now`. Non-ack-eliciting packets alone never make an
   * ACK due (13.2.1: "An endpoint MUST NOT send a non-ack-eliciting packet in
   * response to a non-ack-eliciting packet").
   */
  ackDue(now: number): boolean {
    const d = this.deadline;
    return d !== null && now >= d;
  }

  /** Something was received since the last ACK we sent (an ACK can be piggybacked on a packet sent anyway). */
  get hasNewAck(): boolean {
    return this.newSinceAck;
  }

  /**
   * When the ACK must go: the receive time of the first unacknowledged
   * ack-eliciting packet plus max_ack_delay (13.2.1: ack-eliciting 1-RTT
   * packets MUST be acknowledged "within its advertised max_ack_delay"), or
   * that receive time itself when an ACK is due at once. Null when no
   * ack-eliciting packet waits.
   */
  get deadline(): number | null {
    const t = this.firstUnackedTime;
    if (t === null) return null;
    if (this.immediate || this.unackedEliciting >= this.threshold) return t;
    return t + this.maxAckDelay;
  }

  /**
   * The ACK frame for the current state, or null if nothing was ever
   * received. Ranges descend from the largest received; ranges the peer
   * already saw acknowledged are left out (13.2.4), but the range holding
   * the largest packet number always goes (13.2.3: "A receiver SHOULD
   * include an ACK Range containing the largest received packet number in
   * every ACK frame"). ACK Delay is `now` minus the receive time of the
   * largest, in microseconds divided by 2^ack_delay_exponent (19.3). Does
   * not change state.
   */
  buildAck(now: number): AckFrame | null {
    const largest = this.largest;
    if (largest === null) return null;
    const ranges: AckRange[] = [];
    const rs = this.received;
    for (let i = rs.count - 1; i >= 0; i--) {
      const end = rs.end(i);
      if (end <= this.ackFloor) break;
      ranges.push([Math.max(rs.start(i), this.ackFloor), end - 1]);
    }
    if (ranges.length === 0) ranges.push([largest, largest]);
    const delayUs = Math.max(0, now - this.largestTime) * 1000;
    const ackDelay = Math.floor(delayUs / 2 ** this.ackDelayExponent);
    const ecn: EcnCounts | null = this.ecnSeen ? { ect0: this.ect0, ect1: this.ect1, ce: this.ce } : null;
    return { type: 'ack', ackDelay, ranges, ecn };
  }

  /**
   * The ACK built by {@link buildAck} went out in our packet `packetPn`:
   * the delayed-ACK state (counter, timer, immediate flag) starts over, and
   * the ACK's Largest Acknowledged is remembered for {@link onAckOfAckReceived}.
   */
  onAckSent(packetPn: number, ack: AckFrame): void {
    this.unackedEliciting = 0;
    this.firstUnackedTime = null;
    this.immediate = false;
    this.newSinceAck = false;
    const first = ack.ranges[0];
    if (first === undefined) return;
    this.sentAcks.push({ pn: packetPn, largest: first[1] });
    if (this.sentAcks.length > MAX_SENT_ACKS) this.sentAcks.shift();
  }

  /**
   * Our packet `packetPn`, which carried an ACK, was acknowledged: the peer
   * knows what that ACK said, so ranges up to its Largest Acknowledged are
   * not sent again (13.2.4: "When a packet containing an ACK frame is
   * acknowledged, the receiver can stop acknowledging packets less than or
   * equal to the Largest Acknowledged field in the sent ACK frame"; 13.2.3:
   * "the receiver SHOULD stop tracking those acknowledged ACK Ranges").
   * Received packet numbers are still remembered for duplicate detection.
   */
  onAckOfAckReceived(packetPn: number): void {
    const acks = this.sentAcks;
    let i = 0;
    let largest = -1;
    // Older ACK-carrying packets had a Largest Acknowledged no greater (we always include the largest): forget them too.
    while (i < acks.length && acks[i]!.pn <= packetPn) {
      if (acks[i]!.pn === packetPn) largest = acks[i]!.largest;
      i++;
    }
    if (largest < 0) return;
    acks.splice(0, i);
    if (largest + 1 > this.ackFloor) this.ackFloor = largest + 1;
  }
}
