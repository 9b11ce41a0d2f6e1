/**
 * CUBIC congestion control (RFC 9438) on the shared QUIC window machinery:
 * slow start, recovery periods and the minimum window come from RFC 9002;
 * congestion avoidance follows the cubic function with its Reno-friendly
 * region, and a congestion event reduces by beta_cubic with fast convergence.
 *
 * Units: the RFC counts windows in segments and time in seconds; this module
 * keeps windows in bytes (a segment is max_datagram_size bytes) and converts
 * the caller's milliseconds to seconds for the cubic function.
 */
import type { RttView } from '../rtt.js';
import { WindowController, type CongestionPacket, type WindowControllerOptions } from './controller.js';

/** C (RFC 9438 section 4.1.1): 0.4 segments per second cubed. */
export const CUBIC_C = 0.4;
/** beta_cubic (RFC 9438 section 4.1.1): the multiplicative decrease factor. */
export const CUBIC_BETA = 0.7;
/** alpha_cubic = 3 * (1 - beta_cubic) / (1 + beta_cubic) (RFC 9438 section 4.3). */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

export interface CubicOptions extends WindowControllerOptions {
  /**
   * Fast convergence (RFC 9438 section 4.7, default on): "SHOULD be
   * implemented", though the RFC notes it helps only when flows share a link.
   */
  readonly fastConvergence?: boolean;
}

/** CUBIC (RFC 9438). */
export class Cubic extends WindowController {
  readonly name = 'cubic';
  private readonly fastConvergence: boolean;
  /** W_max in bytes: the window before the last reduction (maybe lowered by fast convergence); null until one. */
  private wMax: number | null = null;
  /** cwnd_prior in bytes: the window before the last reduction (section 4.6). */
  private cwndPrior = 0;
  /** t_epoch in ms: start of the current congestion avoidance stage; null when none started. */
  private epochStart: number | null = null;
  /** K in seconds (section 4.2). */
  private k = 0;
  /** W_est in bytes: the Reno-friendly estimate (section 4.3). */
  private wEst = 0;

  constructor(options: CubicOptions = {}) {
    super(options);
    this.fastConvergence = options.fastConvergence ?? true;
  }

  /** W_cubic(t) in bytes for t seconds into the epoch (section 4.2, Figure 1). */
  private wCubic(t: number): number {
    const d = t - this.k;
    return CUBIC_C * d * d * d * this.maxDatagramSize + (this.wMax ?? 0);
  }

  private startEpoch(now: number): void {
    this.epochStart = now;
    // Section 4.3: "W_est is set equal to cwnd_epoch at the start of the congestion avoidance stage".
    this.wEst = this.cwnd;
    if (this.wMax === null) {
      // Sections 4.8 and 4.10: with W_max undefined (first avoidance after a
      // timeout, or slow start left without a loss) K = 0 and W_max is the
      // window at the start of this stage.
      this.wMax = this.cwnd;
      this.k = 0;
    } else if (this.cwnd >= this.wMax) {
      // Section 4.2: "if cwnd_epoch is greater than W_max, K is set to 0".
      this.k = 0;
    } else {
      // Section 4.2, Figure 2: K = cubic_root((W_max - cwnd_epoch) / C), in segments.
      this.k = Math.cbrt((this.wMax - this.cwnd) / this.maxDatagramSize / CUBIC_C);
    }
  }

  protected growInAvoidance(packet: CongestionPacket, now: number, rtt: RttView): void {
    if (this.epochStart === null) this.startEpoch(now);
    const t = (now - this.epochStart!) / 1000;
    const mds = this.maxDatagramSize;
    // Section 4.3, Figure 4: W_est += alpha_cubic * segments_acked / cwnd
    // (in bytes: alpha * mds * bytes_acked / cwnd). "Once W_est has grown to
    // reach ... cwnd_prior, the sender SHOULD set alpha_cubic to 1".
    const alpha = this.wEst >= this.cwndPrior ? 1 : CUBIC_ALPHA;
    this.wEst += (alpha * mds * packet.size) / this.cwnd;
    if (this.wCubic(t) < this.wEst) {
      // Reno-friendly region: "cwnd SHOULD be set to W_est" (never lowered here).
      if (this.wEst > this.cwnd) this.cwnd = this.wEst;
      return;
    }
    // Section 4.2: target = W_cubic(t + RTT) bounded to [cwnd, 1.5 * cwnd], RTT = smoothed_rtt.
    const next = this.wCubic(t + rtt.smoothed / 1000);
    const target = next < this.cwnd ? this.cwnd : next > 1.5 * this.cwnd ? 1.5 * this.cwnd : next;
    // Sections 4.4 and 4.5: cwnd grows by (target - cwnd) / cwnd per segment acknowledged.
    this.cwnd += ((target - this.cwnd) * packet.size) / this.cwnd;
  }

  protected reduceWindow(_now: number): void {
    const cwnd = this.cwnd;
    // Section 4.7: with fast convergence, a flow whose window did not get back
    // to W_max releases more: W_max = cwnd * (1 + beta_cubic) / 2.
    this.wMax = this.fastConvergence && this.wMax !== null && cwnd < this.wMax ? (cwnd * (1 + CUBIC_BETA)) / 2 : cwnd;
    // Section 4.6: ssthresh = cwnd * beta_cubic, at least the minimum window
    // (RFC 9438 says 2 segments, RFC 9002 section 7.2 the same 2 * mds).
    this.cwndPrior = cwnd;
    this.threshold = Math.max(Math.floor(cwnd * CUBIC_BETA), this.minimumWindow);
    this.cwnd = this.threshold;
    this.epochStart = null;
  }

  protected override resetAfterPersistentCongestion(): void {
    // Section 4.8: the first avoidance stage after a timeout uses K = 0 and W_max = cwnd at its start.
    this.wMax = null;
    this.epochStart = null;
  }

  override setAppLimited(limited: boolean, now: number): void {
    // Section 5.8: time spent application-limited must not count in t, or the
    // window would jump when sending resumes; restart the epoch instead.
    if (limited && !this.appLimited) this.epochStart = null;
    super.setAppLimited(limited, now);
  }

  /** Diagnostics: the cubic state (W_max and cwnd_prior in bytes, K in seconds, t_epoch in ms). */
  get state(): {
    readonly wMax: number | null;
    readonly k: number;
    readonly epochStart: number | null;
    readonly wEst: number;
    readonly cwndPrior: number;
  } {
    return { wMax: this.wMax, k: this.k, epochStart: this.epochStart, wEst: this.wEst, cwndPrior: this.cwndPrior };
  }
}
