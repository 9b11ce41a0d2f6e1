/**
 * The congestion controller interface (RFC 9002 section 7) and the parts
 * every window-based controller shares: bytes in flight, the recovery period,
 * slow start, the minimum and initial windows, persistent congestion and the
 * pacing rate. NewReno and CUBIC differ only in how the window grows in
 * congestion avoidance and how much it shrinks on a congestion event.
 *
 * The loss detector owns the sent-packet records; a controller only sees the
 * in-flight packets it is told about (sent, acknowledged, lost, discarded) and
 * the congestion signals. Every method takes `now` (ms, the caller's monotonic
 * clock): controllers never read a clock.
 */
import type { RttView } from '../rtt.js';

/** What a controller needs to know about a packet. {@link SentPacket} satisfies it. */
export interface CongestionPacket {
  /** ms on the caller's monotonic clock. */
  readonly timeSent: number;
  /** Bytes counted in flight. */
  readonly size: number;
}

/** Why the window shrinks: packets declared lost, or an increased ECN-CE count (RFC 9002 section 7.1). */
export type CongestionCause = 'loss' | 'ecn-ce';

/**
 * A pluggable congestion controller. The recovery layer calls it for
 * in-flight packets only (packets with a frame other than ACK, RFC 9002
 * section 2), in this order for one ACK frame: {@link onCongestionEvent} for
 * ECN-CE, {@link onPacketLost} for each lost packet then
 * {@link onCongestionEvent} and maybe {@link onPersistentCongestion},
 * then {@link onPacketAcked} for each newly acknowledged packet (appendix B).
 */
export interface CongestionController {
  /** Algorithm name, for logs ("new-reno", "cubic"). */
  readonly name: string;
  /** congestion_window, whole bytes. */
  readonly window: number;
  /** Bytes sent and neither acknowledged, lost nor discarded. */
  readonly bytesInFlight: number;
  /** Slow start threshold (Infinity until the first congestion event). */
  readonly ssthresh: number;
  /** kMinimumWindow: 2 * max_datagram_size (RFC 9002 section 7.2). */
  readonly minimumWindow: number;
  /** In slow start: the window is below ssthresh (RFC 9002 section 7.3.1). */
  readonly inSlowStart: boolean;
  /**
   * True if `bytes` more may be sent: RFC 9002 section 7, "An endpoint MUST
   * NOT send a packet if it would cause bytes_in_flight ... to be larger than
   * the congestion window, unless the packet is sent on a PTO timer expiration
   * ... or when entering recovery". Probes bypass this check.
   */
  canSend(bytes: number): boolean;
  /** An in-flight packet was sent. */
  onPacketSent(packet: CongestionPacket, now: number): void;
  /** An in-flight packet was newly acknowledged (RFC 9002 appendix B.5). */
  onPacketAcked(packet: CongestionPacket, now: number, rtt: RttView): void;
  /** An in-flight packet was declared lost: it leaves bytes in flight (appendix B.8); the reaction is {@link onCongestionEvent}. */
  onPacketLost(packet: CongestionPacket, now: number): void;
  /** An in-flight packet was discarded with its space or 0-RTT keys (RFC 9002 section 6.4): no congestion signal. */
  onPacketDiscarded(packet: CongestionPacket): void;
  /**
   * A congestion signal about a packet sent at `sentTime` (the newest lost
   * one, or the largest acknowledged for ECN-CE). Ignored when that packet was
   * sent before the current recovery period started (RFC 9002 section 7.3.2).
   */
  onCongestionEvent(sentTime: number, now: number, cause: CongestionCause): void;
  /** Persistent congestion was established (RFC 9002 section 7.6.2): the window collapses to the minimum. */
  onPersistentCongestion(now: number): void;
  /**
   * Tells the controller whether the sender is application or flow-control
   * limited (it had less to send than the window allows): RFC 9002 section
   * 7.8, the window "SHOULD NOT be increased" while underutilized.
   */
  setAppLimited(limited: boolean, now: number): void;
  /** The path's max_datagram_size changed (path MTU discovery, RFC 9002 section 7.2). */
  setMaxDatagramSize(size: number): void;
  /** Pacing rate in bytes per ms (RFC 9002 section 7.7); Infinity disables pacing. */
  pacingRate(rtt: RttView): number;
  /** Back to the initial window and slow start for a new path (RFC 9000 section 9.4); optional for custom controllers. */
  resetForNewPath?(now: number): void;
}

/** Options shared by the window-based controllers. */
export interface WindowControllerOptions {
  /** max_datagram_size in bytes (default 1200, the minimum QUIC datagram size). */
  readonly maxDatagramSize?: number;
  /** Initial window in bytes (default min(10 * mds, max(14720, 2 * mds)), RFC 9002 section 7.2). */
  readonly initialWindow?: number;
  /** Pacing gain N of RFC 9002 section 7.7 (default 1.25). */
  readonly pacingGain?: number;
}

/** The default max_datagram_size: the smallest datagram QUIC allows (RFC 9000 section 14). */
export const DEFAULT_MAX_DATAGRAM_SIZE = 1200;

/** kInitialWindow (RFC 9002 section 7.2): min(10 * max_datagram_size, max(14720, 2 * max_datagram_size)). */
export function initialWindow(maxDatagramSize: number): number {
  return Math.min(10 * maxDatagramSize, Math.max(14720, 2 * maxDatagramSize));
}

/** kMinimumWindow (RFC 9002 section 7.2): 2 * max_datagram_size. */
export function minimumWindow(maxDatagramSize: number): number {
  return 2 * maxDatagramSize;
}

/**
 * The shared machinery of NewReno and CUBIC (RFC 9002 appendix B). Subclasses
 * implement congestion avoidance ({@link growInAvoidance}) and the window
 * reduction on a congestion event ({@link reduceWindow}).
 */
export abstract class WindowController implements CongestionController {
  abstract readonly name: string;
  /** The window as a real number (CUBIC grows by fractions); {@link window} floors it. */
  protected cwnd: number;
  /** ssthresh. */
  protected threshold = Infinity;
  protected flight = 0;
  protected maxDatagramSize: number;
  /** congestion_recovery_start_time; -Infinity when no recovery period started (appendix B.2 uses 0). */
  protected recoveryStartTime = -Infinity;
  protected appLimited = false;
  private readonly initialCwnd: number;
  private readonly pacingGain: number;

  constructor(options: WindowControllerOptions = {}) {
    this.maxDatagramSize = options.maxDatagramSize ?? DEFAULT_MAX_DATAGRAM_SIZE;
    this.cwnd = options.initialWindow ?? initialWindow(this.maxDatagramSize);
    this.initialCwnd = this.cwnd;
    this.pacingGain = options.pacingGain ?? 1.25;
  }

  get window(): number {
    return Math.floor(this.cwnd);
  }

  get ssthresh(): number {
    return this.threshold;
  }

  get bytesInFlight(): number {
    return this.flight;
  }

  get minimumWindow(): number {
    return minimumWindow(this.maxDatagramSize);
  }

  get inSlowStart(): boolean {
    return this.cwnd < this.threshold;
  }

  /** True while `sentTime` is at or before the start of the current recovery period (appendix B.4, InCongestionRecovery). */
  inRecovery(sentTime: number): boolean {
    return sentTime <= this.recoveryStartTime;
  }

  canSend(bytes: number): boolean {
    return this.flight + bytes <= this.window;
  }

  onPacketSent(packet: CongestionPacket, _now: number): void {
    this.flight += packet.size;
  }

  onPacketAcked(packet: CongestionPacket, now: number, rtt: RttView): void {
    this.removeFromFlight(packet.size);
    // Section 7.8: no growth while the window is not fully used.
    if (this.appLimited) return;
    // Section 7.3.2: no growth for packets sent before the recovery period started.
    if (this.inRecovery(packet.timeSent)) return;
    if (this.cwnd < this.threshold) {
      // Section 7.3.1: slow start grows by the bytes acknowledged.
      this.cwnd += packet.size;
      return;
    }
    this.growInAvoidance(packet, now, rtt);
  }

  onPacketLost(packet: CongestionPacket, _now: number): void {
    this.removeFromFlight(packet.size);
  }

  onPacketDiscarded(packet: CongestionPacket): void {
    this.removeFromFlight(packet.size);
  }

  onCongestionEvent(sentTime: number, now: number, _cause: CongestionCause): void {
    // Section 7.3.2: one reduction per round trip; a signal about a packet sent before recovery started is ignored.
    if (this.inRecovery(sentTime)) return;
    this.recoveryStartTime = now;
    this.reduceWindow(now);
  }

  resetForNewPath(_now: number): void {
    // RFC 9000 section 9.4: "reset the congestion controller ... for the new path to initial values".
    this.cwnd = this.initialCwnd;
    this.threshold = Infinity;
    this.recoveryStartTime = -Infinity;
    this.resetAfterPersistentCongestion();
  }

  onPersistentCongestion(_now: number): void {
    // Section 7.6.2: "the sender's congestion window MUST be reduced to the minimum congestion window".
    this.cwnd = this.minimumWindow;
    this.recoveryStartTime = -Infinity;
    this.resetAfterPersistentCongestion();
  }

  setAppLimited(limited: boolean, _now: number): void {
    this.appLimited = limited;
  }

  setMaxDatagramSize(size: number): void {
    this.maxDatagramSize = size;
    if (this.cwnd < this.minimumWindow) this.cwnd = this.minimumWindow;
  }

  /** Section 7.7: rate = N * congestion_window / smoothed_rtt, in bytes per ms. */
  pacingRate(rtt: RttView): number {
    const srtt = rtt.smoothed;
    return srtt > 0 ? (this.pacingGain * this.cwnd) / srtt : Infinity;
  }

  /** Congestion avoidance growth for one acknowledged packet (not in recovery, not app-limited). */
  protected abstract growInAvoidance(packet: CongestionPacket, now: number, rtt: RttView): void;
  /** Sets ssthresh and the window on entering a recovery period. */
  protected abstract reduceWindow(now: number): void;
  /** Algorithm state to forget after persistent congestion (the window is already at the minimum). */
  protected resetAfterPersistentCongestion(): void {}

  private removeFromFlight(size: number): void {
    // Never below zero, even if a caller reports a packet twice.
    this.flight = this.flight > size ? this.flight - size : 0;
  }
}
