/**
 * Loss detection (RFC 9002 section 6 and appendix A), sans-I/O.
 *
 * The detector keeps the sent packets of the three packet number spaces and
 * the RTT estimator, and owns the loss detection timer as a *deadline*: it
 * never reads a clock and never starts a timer. Every input carries `now`
 * (ms on the caller's monotonic clock); {@link LossDetector.deadline} is when
 * the caller must call {@link LossDetector.onTimeout} next.
 *
 * Inputs, in the words of appendix A: `onPacketSent` (A.5),
 * `onAckReceived` (A.7, with DetectAndRemoveLostPackets of A.10),
 * `onTimeout` (OnLossDetectionTimeout, A.9), `discardSpace`
 * (OnPacketNumberSpaceDiscarded, A.11), and the state changes that move the
 * timer (handshake keys, handshake confirmation, the server's
 * anti-amplification limit). Outputs: the packets newly acknowledged and
 * newly lost (with their opaque payload `R`, so the connection decides what
 * retransmission means), whether persistent congestion was established,
 * an ECN-CE congestion signal, and which space needs PTO probes.
 *
 * Congestion control is not done here: {@link Recovery} feeds these results
 * to a {@link CongestionController}.
 */
import { UsageError } from '../../combinators/errors.js';
import { TransportError } from '../errors.js';
import type { AckRange, EcnCounts } from '../frame.js';
import type { PacketNumberSpace } from '../packet-io.js';
import { DEFAULT_MAX_ACK_DELAY_MS, INITIAL_RTT_MS, RttEstimator } from './rtt.js';
import { SentPackets, type SentPacket } from './sent-packets.js';

/** kPacketThreshold (RFC 9002 section 6.1.1). */
export const PACKET_THRESHOLD = 3;

/** The PTO backoff stops doubling after this many consecutive PTOs (2^24 PTOs is months; the idle timeout ends it first). */
export const MAX_PTO_BACKOFF_EXPONENT = 24;

/** The spaces in the order RFC 9002 appendix A.8 scans them. */
export const PACKET_NUMBER_SPACES: readonly PacketNumberSpace[] = ['initial', 'handshake', 'application'];

/** The part of an ACK frame loss detection reads ({@link AckFrame} satisfies it). */
export interface AckInput {
  /** Acknowledged ranges `[smallest, largest]`, descending, disjoint (as decodeFrames returns them). */
  readonly ranges: readonly AckRange[];
  /** ECN counts of an ACK of type 0x03, else null. */
  readonly ecn: EcnCounts | null;
}

/** What one ACK frame did. */
export interface AckOutcome<R> {
  /** Packets newly acknowledged, ascending packet number. */
  readonly acked: readonly SentPacket<R>[];
  /** Packets newly declared lost, ascending packet number (including non-in-flight ones). */
  readonly lost: readonly SentPacket<R>[];
  /** latest_rtt if this ACK produced an RTT sample (RFC 9002 section 5.1), else null. */
  readonly rttSample: number | null;
  /** Persistent congestion was established by the losses (section 7.6.2). */
  readonly persistentCongestion: boolean;
  /** The ECN-CE count increased: send time of the largest newly acked packet (section 7.1, appendix A.7 ProcessECN), else null. */
  readonly ecnCeSentTime: number | null;
}

/** What the loss detection timer did when it fired. */
export type TimeoutOutcome<R> =
  /** Time-threshold loss (section 6.1.2): these packets are lost. */
  | {
      readonly type: 'loss';
      readonly space: PacketNumberSpace;
      readonly lost: readonly SentPacket<R>[];
      readonly persistentCongestion: boolean;
    }
  /**
   * Probe timeout (section 6.2.4): send `probes` ack-eliciting packets in
   * `space` (new data, else retransmitted data, else a PING), even beyond
   * the congestion window (section 7.5). `antiDeadlock` is the client's
   * probe when nothing is in flight but the server may be blocked by its
   * anti-amplification limit (section 6.2.2.1): a padded Initial, or a
   * Handshake packet once Handshake keys exist.
   */
  | {
      readonly type: 'pto';
      readonly space: PacketNumberSpace;
      readonly probes: 1 | 2;
      readonly antiDeadlock: boolean;
    };

export interface LossDetectorOptions {
  /** Which side we are: a server assumes the client validated its address (appendix A.6, PeerCompletedAddressValidation). */
  readonly role: 'client' | 'server';
  /** kInitialRtt in ms (default 333, section 6.2.2; a resumed connection may remember a better value). */
  readonly initialRtt?: number;
  /** The peer's max_ack_delay in ms (default 25 until its transport parameters say otherwise). */
  readonly maxAckDelay?: number;
}

interface SpaceState<R> {
  readonly sent: SentPackets<R>;
  /** loss_time: when the oldest unacked packet below largest acked will be lost by time; null if none. */
  lossTime: number | null;
  /** ECN-CE count last reported by the peer in this space. */
  ecnCe: number;
  discarded: boolean;
}

const NO_ACK: AckOutcome<never> = Object.freeze({
  acked: Object.freeze([]),
  lost: Object.freeze([]),
  rttSample: null,
  persistentCongestion: false,
  ecnCeSentTime: null,
});

/** Loss detection state of one connection (one path). */
export class LossDetector<R> {
  readonly rtt: RttEstimator;
  readonly role: 'client' | 'server';
  /** The peer's max_ack_delay, ms. */
  maxAckDelay: number;
  /** pto_count: consecutive PTOs without an acknowledgment (section 6.2.1). */
  ptoCount = 0;
  private handshakeConfirmed = false;
  private hasHandshakeKeys = false;
  private handshakeAckReceived = false;
  private amplificationLimited = false;
  private timerDeadline: number | null = null;
  private readonly spaces: Record<PacketNumberSpace, SpaceState<R>>;

  constructor(options: LossDetectorOptions) {
    this.role = options.role;
    this.rtt = new RttEstimator(options.initialRtt ?? INITIAL_RTT_MS);
    this.maxAckDelay = options.maxAckDelay ?? DEFAULT_MAX_ACK_DELAY_MS;
    const space = (): SpaceState<R> => ({ sent: new SentPackets<R>(), lossTime: null, ecnCe: 0, discarded: false });
    this.spaces = { initial: space(), handshake: space(), application: space() };
  }

  // ---------------------------------------------------------------------------------------------
  // getters

  /** When {@link onTimeout} must be called next (the loss detection timer), or null when it is not armed. */
  get deadline(): number | null {
    return this.timerDeadline;
  }

  /** The sent-packet record of a space (read it; change it only through this detector). */
  sent(space: PacketNumberSpace): SentPackets<R> {
    return this.spaces[space].sent;
  }

  /** True once {@link discardSpace} dropped the keys of this space. */
  isDiscarded(space: PacketNumberSpace): boolean {
    return this.spaces[space].discarded;
  }

  /** loss_time of a space (section 6.1.2), null when no packet waits for the time threshold. */
  lossTime(space: PacketNumberSpace): number | null {
    return this.spaces[space].lossTime;
  }

  /** Bytes in flight over all spaces. */
  get bytesInFlight(): number {
    const s = this.spaces;
    return s.initial.sent.bytesInFlight + s.handshake.sent.bytesInFlight + s.application.sent.bytesInFlight;
  }

  /** Ack-eliciting packets in flight over all spaces. */
  get ackElicitingInFlight(): number {
    const s = this.spaces;
    return s.initial.sent.ackElicitingInFlight + s.handshake.sent.ackElicitingInFlight + s.application.sent.ackElicitingInFlight;
  }

  /**
   * The current PTO period without backoff: smoothed_rtt + max(4 * rttvar,
   * kGranularity) + max_ack_delay. RFC 9000 sizes the closing and draining
   * periods, the idle timeout floor and key discard on it ("three times the
   * current PTO", sections 10.1, 10.2).
   */
  ptoPeriod(): number {
    return this.rtt.ptoBase() + this.maxAckDelay;
  }

  /** Appendix A.6 PeerCompletedAddressValidation: servers assume it; a client knows it from a Handshake ACK or confirmation. */
  peerCompletedAddressValidation(): boolean {
    return this.role === 'server' || this.handshakeAckReceived || this.handshakeConfirmed;
  }

  // ---------------------------------------------------------------------------------------------
  // inputs

  /**
   * A packet was sent in `space` at `packet.timeSent` (appendix A.5). Packet
   * numbers must increase within a space and `timeSent` must not go backwards.
   */
  onPacketSent(space: PacketNumberSpace, packet: SentPacket<R>): void {
    const st = this.spaces[space];
    if (st.discarded) throw new UsageError(`packet ${packet.pn} sent in the ${space} space after its keys were discarded`);
    st.sent.add(packet);
    if (packet.inFlight) this.setTimer(packet.timeSent);
  }

  /**
   * An ACK frame arrived in `space` (appendix A.7). `ackDelay` is the decoded
   * ACK Delay in ms ({@link decodeAckDelay}); it is ignored for the Initial
   * space (section 5.3: "MAY ignore the acknowledgment delay for Initial
   * packets"). Raises {@link TransportError} PROTOCOL_VIOLATION for an
   * acknowledgment of a packet never sent (RFC 9000 section 13.1), after
   * which this detector must not be used again (the connection closes).
   */
  onAckReceived(space: PacketNumberSpace, ack: AckInput, ackDelay: number, now: number): AckOutcome<R> {
    const st = this.spaces[space];
    const first = ack.ranges[0];
    // An ACK for a discarded space cannot be decrypted any more; a lingering one is harmless.
    if (st.discarded || first === undefined) return NO_ACK;
    const frameType = ack.ecn === null ? 0x02 : 0x03;
    const largest = first[1];
    const sent = st.sent;
    // RFC 9000 section 13.1: "An endpoint SHOULD treat receipt of an
    // acknowledgment for a packet it did not send as a connection error of
    // type PROTOCOL_VIOLATION, if it is able to detect the condition."
    if (sent.largestSent === null || largest > sent.largestSent)
      throw new TransportError('PROTOCOL_VIOLATION', `ACK of ${space} packet ${largest}, never sent`, { frameType });
    if (space === 'handshake') this.handshakeAckReceived = true;
    if (sent.largestAcked === null || largest > sent.largestAcked) sent.largestAcked = largest;

    // DetectAndRemoveAckedPackets: ascending order, so the largest newly acked is last.
    const acked: SentPacket<R>[] = [];
    let skipped = false;
    for (let i = ack.ranges.length - 1; i >= 0; i--) {
      const r = ack.ranges[i]!;
      if (sent.removeRange(r[0], r[1], acked)) skipped = true;
    }
    // RFC 9000 section 21.4: a sender that skips packet numbers detects optimistic acknowledgments this way.
    if (skipped) throw new TransportError('PROTOCOL_VIOLATION', `ACK of a skipped ${space} packet number`, { frameType });
    if (acked.length === 0) return NO_ACK;

    // Section 5.1: an RTT sample when the largest acknowledged is newly
    // acknowledged and at least one newly acknowledged packet is ack-eliciting.
    const newest = acked[acked.length - 1]!;
    let rttSample: number | null = null;
    if (newest.pn === largest && acked.some((p) => p.ackEliciting)) {
      const delay = space === 'initial' ? 0 : ackDelay;
      this.rtt.addSample(now - newest.timeSent, delay, now, this.handshakeConfirmed ? this.maxAckDelay : Infinity);
      rttSample = this.rtt.latest;
    }

    // Appendix A.7 ProcessECN: an increased CE count is a congestion signal.
    let ecnCeSentTime: number | null = null;
    if (ack.ecn !== null && ack.ecn.ce > st.ecnCe) {
      st.ecnCe = ack.ecn.ce;
      ecnCeSentTime = newest.timeSent;
    }

    const { lost, persistentCongestion } = this.detectLostPackets(space, now);
    // Section 6.2.1: "The PTO backoff is reset upon receiving an
    // acknowledgment", except by a client that does not know whether the
    // server validated its address (6.2.2.1).
    if (this.peerCompletedAddressValidation()) this.ptoCount = 0;
    this.setTimer(now);
    return { acked, lost, rttSample, persistentCongestion, ecnCeSentTime };
  }

  /**
   * The loss detection timer fired (appendix A.9). Call it when `now` has
   * reached {@link deadline}; earlier calls, or calls with no timer armed,
   * return null and change nothing.
   */
  onTimeout(now: number): TimeoutOutcome<R> | null {
    if (this.timerDeadline === null || now < this.timerDeadline) return null;
    const loss = this.earliestLossTime();
    if (loss !== null) {
      const { lost, persistentCongestion } = this.detectLostPackets(loss.space, now);
      this.setTimer(now);
      return { type: 'loss', space: loss.space, lost, persistentCongestion };
    }
    let outcome: TimeoutOutcome<R>;
    if (this.ackElicitingInFlight === 0) {
      // Section 6.2.2.1: the client's anti-deadlock probe.
      outcome = { type: 'pto', space: this.hasHandshakeKeys ? 'handshake' : 'initial', probes: 1, antiDeadlock: true };
    } else {
      const pto = this.ptoTimeAndSpace(now);
      if (pto === null) {
        // Nothing can be probed (state changed without a timer update): just re-arm.
        this.setTimer(now);
        return null;
      }
      // Section 6.2.4: "An endpoint MAY send up to two full-sized datagrams containing ack-eliciting packets".
      outcome = { type: 'pto', space: pto.space, probes: 2, antiDeadlock: false };
    }
    this.ptoCount++;
    this.setTimer(now);
    return outcome;
  }

  /**
   * Drops the keys of a space (appendix A.11, section 6.4): its packets leave
   * bytes in flight without a congestion signal, and the timers are reset.
   * Returns the packets dropped, oldest first. For 'application' this is the
   * client's reaction to rejected 0-RTT (section 6.4: "all in-flight 0-RTT
   * packets are removed from bytes in flight"); the space stays usable and
   * packet numbers continue (RFC 9000 section 17.2.3). `keepSpace` does the
   * same for another space (a client's Initial packets after a Retry).
   */
  discardSpace(space: PacketNumberSpace, now: number, keepSpace = false): SentPacket<R>[] {
    const st = this.spaces[space];
    const dropped = st.sent.clear();
    st.sent.timeOfLastAckEliciting = null;
    st.lossTime = null;
    if (space !== 'application' && !keepSpace) {
      st.discarded = true;
      this.ptoCount = 0;
    }
    this.setTimer(now);
    return dropped;
  }

  /** Handshake keys are installed: the client's anti-deadlock probe becomes a Handshake packet (section 6.2.2.1). */
  onHandshakeKeysAvailable(): void {
    this.hasHandshakeKeys = true;
  }

  /**
   * The handshake is confirmed (RFC 9001 section 4.1.2): ack delays are capped
   * by max_ack_delay from now on (section 5.3) and the Application Data space
   * gets a PTO (section 6.2.1).
   */
  onHandshakeConfirmed(now: number): void {
    this.handshakeConfirmed = true;
    this.setTimer(now);
  }

  /**
   * A server reached (true) or left (false) its anti-amplification limit
   * (RFC 9000 section 8.1). While at the limit its timer is not armed
   * (appendix A.8); when a datagram lifts the limit the timer is re-armed and
   * may already be due (appendix A.6): check {@link deadline} against `now`.
   */
  setAmplificationLimited(limited: boolean, now: number): void {
    if (this.amplificationLimited === limited) return;
    this.amplificationLimited = limited;
    this.setTimer(now);
  }

  // ---------------------------------------------------------------------------------------------
  // internals

  /**
   * Appendix A.10 DetectAndRemoveLostPackets, scanning from the oldest packet:
   * packet numbers and send times grow together, so the first packet that is
   * not lost ends the scan and gives loss_time.
   */
  private detectLostPackets(space: PacketNumberSpace, now: number): { lost: SentPacket<R>[]; persistentCongestion: boolean } {
    const st = this.spaces[space];
    const sent = st.sent;
    st.lossTime = null;
    const lost: SentPacket<R>[] = [];
    const largestAcked = sent.largestAcked;
    if (largestAcked === null) return { lost, persistentCongestion: false };
    const lossDelay = this.rtt.lossDelay();

    // Section 7.6.2: persistent congestion needs two ack-eliciting lost
    // packets sent more than the persistent congestion duration apart, with
    // no acknowledged packet sent between them, both sent after the first
    // RTT sample. Only this space's losses of this scan are considered (the
    // RFC allows using just the space acknowledged): it may find persistent
    // congestion later than a cross-space check, never wrongly.
    const firstSample = this.rtt.firstSampleTime;
    const pcDuration = this.rtt.persistentCongestionDuration(this.maxAckDelay);
    let runStart: number | null = null;
    let persistentCongestion = false;

    for (let p = sent.first(); p !== undefined && p.pn <= largestAcked; p = sent.first()) {
      // Section 6.1: lost by time (kTimeThreshold) or by packet number (kPacketThreshold).
      // loss_time below uses the same sum, so a timer firing at loss_time always finds the packet lost.
      const lossAt = p.timeSent + lossDelay;
      if (!(lossAt <= now || largestAcked >= p.pn + PACKET_THRESHOLD)) {
        st.lossTime = lossAt;
        break;
      }
      sent.removeFirst();
      lost.push(p);
      if (firstSample !== null && p.ackEliciting && p.timeSent > firstSample) {
        if (runStart === null) runStart = p.timeSent;
        else if (p.timeSent - runStart > pcDuration) persistentCongestion = true;
      }
      // An acknowledged packet between this one and the next ends the run.
      if (sent.crossedAckedSlot) runStart = null;
    }
    if (persistentCongestion) this.rtt.resetMinRtt();
    return { lost, persistentCongestion };
  }

  /** Appendix A.8 GetLossTimeAndSpace. */
  private earliestLossTime(): { time: number; space: PacketNumberSpace } | null {
    let best: { time: number; space: PacketNumberSpace } | null = null;
    for (const space of PACKET_NUMBER_SPACES) {
      const t = this.spaces[space].lossTime;
      if (t !== null && (best === null || t < best.time)) best = { time: t, space };
    }
    return best;
  }

  /** Appendix A.8 GetPtoTimeAndSpace. */
  private ptoTimeAndSpace(now: number): { time: number; space: PacketNumberSpace } | null {
    const backoff = 2 ** Math.min(this.ptoCount, MAX_PTO_BACKOFF_EXPONENT);
    let duration = this.rtt.ptoBase() * backoff;
    if (this.ackElicitingInFlight === 0) {
      // Anti-deadlock PTO (section 6.2.2.1) starts from now.
      return { time: now + duration, space: this.hasHandshakeKeys ? 'handshake' : 'initial' };
    }
    let best: { time: number; space: PacketNumberSpace } | null = null;
    for (const space of PACKET_NUMBER_SPACES) {
      const st = this.spaces[space];
      if (st.discarded || st.sent.ackElicitingInFlight === 0) continue;
      if (space === 'application') {
        // Section 6.2.1: "An endpoint MUST NOT set its PTO timer for the
        // Application Data packet number space until the handshake is confirmed."
        if (!this.handshakeConfirmed) return best;
        // Section 6.2.1: max_ack_delay, with backoff, only for Application Data.
        duration += this.maxAckDelay * backoff;
      }
      const t = st.sent.timeOfLastAckEliciting! + duration;
      if (best === null || t < best.time) best = { time: t, space };
    }
    return best;
  }

  /** Appendix A.8 SetLossDetectionTimer. */
  private setTimer(now: number): void {
    const loss = this.earliestLossTime();
    if (loss !== null) {
      this.timerDeadline = loss.time;
      return;
    }
    // "The server's timer is not set if nothing can be sent."
    if (this.amplificationLimited) {
      this.timerDeadline = null;
      return;
    }
    if (this.ackElicitingInFlight === 0 && this.peerCompletedAddressValidation()) {
      this.timerDeadline = null;
      return;
    }
    this.timerDeadline = this.ptoTimeAndSpace(now)?.time ?? null;
  }
}
