/**
 * ECN on the sending side (RFC 9000 section 13.4.2, RFC 9002 section 7.1): which codepoint our datagrams
 * carry, and whether the path and the peer report it faithfully.
 *
 * Receiving is the {@link AckTracker}'s job (it counts the codepoints of the packets it records, per
 * packet number space, and puts them in ACK frames of type 0x03). This module watches the counts the
 * peer sends back:
 *
 * - `testing`: the first {@link ECN_TESTING_PACKETS} packets go out marked ECT(0) (section 13.4.2.1:
 *   "an endpoint could set the ECT(0) codepoint for only the first ten outgoing packets on a path");
 * - `unknown`: the testing packets are out, later ones are not marked until an ACK validates them;
 * - `capable`: an ACK frame acknowledged ECT(0) packets with counts that add up: every packet is marked;
 * - `failed`: the marks were bleached, miscounted, never reported, or every testing packet was lost:
 *   nothing is marked any more on this path (section 13.4.2.2).
 *
 * Congestion Experienced reports are not handled here: recovery reacts to an increased CE count
 * (RFC 9002 section 7.1, at most one reduction per round trip: the recovery period).
 *
 * One validator per path: a new path starts testing again ({@link EcnValidator.reset}).
 */
import type { AckFrame } from '../frame.js';
import type { PacketNumberSpace } from '../packet-io.js';
import type { EcnMark } from './ack-tracker.js';

/** Packets marked while testing a path (RFC 9000 section 13.4.2.1). */
export const ECN_TESTING_PACKETS = 10;

/** Where a path's ECN validation stands (see the module comment). */
export type EcnState = 'testing' | 'unknown' | 'capable' | 'failed';

/** Why validation failed, for logs. */
export type EcnFailure = 'no-counts' | 'bleached' | 'overcounted' | 'decreased' | 'lost' | 'disabled';

interface SpaceState {
  /** Packet numbers sent with ECT(0), as disjoint ascending [from, to) runs (marking starts and stops rarely). */
  readonly marked: [number, number][];
  /** Packets sent with ECT(0) in this space. */
  sentEct0: number;
  /** The counts of the last ACK frame that validated (cumulative, section 19.3.2). */
  ect0: number;
  ect1: number;
  ce: number;
  /** Largest Acknowledged of the last ACK looked at. */
  largestAcked: number;
}

function freshSpace(): SpaceState {
  return { marked: [], sentEct0: 0, ect0: 0, ect1: 0, ce: 0, largestAcked: -1 };
}

export class EcnValidator {
  private stateValue: EcnState;
  private failureValue: EcnFailure | null = null;
  private spaces: Record<PacketNumberSpace, SpaceState> = { initial: freshSpace(), handshake: freshSpace(), application: freshSpace() };
  private testingSent = 0;
  private testingAcked = 0;
  private testingLost = 0;

  /** `enabled` false: never mark (the driver cannot set ECN bits, or the application said no). */
  constructor(private readonly enabled: boolean) {
    this.stateValue = enabled ? 'testing' : 'failed';
    if (!enabled) this.failureValue = 'disabled';
  }

  get state(): EcnState {
    return this.stateValue;
  }

  /** Why validation failed (null unless `state` is 'failed'). */
  get failure(): EcnFailure | null {
    return this.failureValue;
  }

  /** The codepoint for the next datagram. */
  get mark(): EcnMark {
    const s = this.stateValue;
    return s === 'capable' || (s === 'testing' && this.testingSent < ECN_TESTING_PACKETS) ? 'ect0' : 'not-ect';
  }

  /** A new path (RFC 9000 section 13.4.2: validation is per path): start testing again. */
  reset(): void {
    if (!this.enabled) return;
    this.stateValue = 'testing';
    this.failureValue = null;
    this.spaces = { initial: freshSpace(), handshake: freshSpace(), application: freshSpace() };
    this.testingSent = this.testingAcked = this.testingLost = 0;
  }

  /** Packets `from` .. `to - 1` of `space` went out in a datagram marked `mark`. */
  onSent(space: PacketNumberSpace, from: number, to: number, mark: EcnMark): void {
    if (mark !== 'ect0' || to <= from) return;
    const st = this.spaces[space];
    const last = st.marked[st.marked.length - 1];
    if (last !== undefined && last[1] === from) last[1] = to;
    else st.marked.push([from, to]);
    st.sentEct0 += to - from;
    if (this.stateValue === 'testing') {
      this.testingSent += to - from;
      if (this.testingSent >= ECN_TESTING_PACKETS) this.stateValue = 'unknown';
    }
  }

  /**
   * An ACK frame of `space` newly acknowledged the packets `acked`. Section 13.4.2.1: validation fails
   * when ECT(0) packets are newly acknowledged without ECN counts, when ECT(0) + CE grew less than the
   * ECT(0) packets newly acknowledged (bleached), or when a count exceeds the packets we sent with that
   * codepoint (we send no ECT(1)). "An endpoint MUST NOT fail ECN validation as a result of processing an
   * ACK frame that does not increase the largest acknowledged packet number": such ACKs are skipped.
   */
  onAck(space: PacketNumberSpace, ack: AckFrame, acked: readonly { readonly pn: number }[]): void {
    const s = this.stateValue;
    if (s === 'failed') return;
    const st = this.spaces[space];
    const largest = ack.ranges[0]?.[1] ?? -1;
    if (largest <= st.largestAcked) return;
    st.largestAcked = largest;
    let newlyMarked = 0;
    for (const p of acked) if (this.isMarked(st, p.pn)) newlyMarked++;
    if (s === 'testing' || s === 'unknown') this.testingAcked += newlyMarked;
    const ecn = ack.ecn;
    if (ecn === null) {
      if (newlyMarked > 0) this.fail('no-counts');
      return;
    }
    if (ecn.ect0 < st.ect0 || ecn.ect1 < st.ect1 || ecn.ce < st.ce) return this.fail('decreased');
    if (ecn.ect0 + ecn.ce > st.sentEct0 || ecn.ect1 > 0) return this.fail('overcounted');
    if (ecn.ect0 - st.ect0 + (ecn.ce - st.ce) < newlyMarked) return this.fail('bleached');
    st.ect0 = ecn.ect0;
    st.ect1 = ecn.ect1;
    st.ce = ecn.ce;
    if (newlyMarked > 0 && (s === 'testing' || s === 'unknown')) this.stateValue = 'capable';
  }

  /** Packets of `space` were declared lost: if every testing packet is lost, the path may drop ECT packets. */
  onLost(space: PacketNumberSpace, lost: readonly { readonly pn: number }[]): void {
    const s = this.stateValue;
    if (s !== 'testing' && s !== 'unknown') return;
    const st = this.spaces[space];
    for (const p of lost) if (this.isMarked(st, p.pn)) this.testingLost++;
    // Section 13.4.2.1: "If all packets marked with non-zero ECN codepoints are subsequently lost, it can
    // disable marking on the assumption that the marking caused the loss."
    if (s === 'unknown' && this.testingAcked === 0 && this.testingLost >= this.testingSent) this.fail('lost');
  }

  private isMarked(st: SpaceState, pn: number): boolean {
    for (const [from, to] of st.marked) if (pn >= from && pn < to) return true;
    return false;
  }

  private fail(why: EcnFailure): void {
    this.stateValue = 'failed';
    this.failureValue = why;
  }
}
