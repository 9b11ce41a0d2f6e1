/**
 * Round-trip time estimation (RFC 9002 section 5).
 *
 * Sans-I/O: the estimator never reads a clock. Times and durations are
 * milliseconds on the caller's monotonic clock (fractions allowed); the loss
 * detector feeds it one sample per qualifying ACK (section 5.1).
 */

/** Timer granularity, kGranularity (RFC 9002 section 6.1.2: "1 millisecond"). */
export const GRANULARITY_MS = 1;

/** kInitialRtt (RFC 9002 section 6.2.2): the RTT assumed before the first sample. */
export const INITIAL_RTT_MS = 333;

/** kTimeThreshold (RFC 9002 section 6.1.2): 9/8 of an RTT before a packet is deemed lost by time. */
export const TIME_THRESHOLD = 9 / 8;

/** kPersistentCongestionThreshold (RFC 9002 section 7.6.1). */
export const PERSISTENT_CONGESTION_THRESHOLD = 3;

/** Default max_ack_delay of the peer (RFC 9000 section 18.2: 25 ms when the parameter is absent). */
export const DEFAULT_MAX_ACK_DELAY_MS = 25;

/**
 * Decodes the ACK Delay field of an ACK frame into milliseconds (RFC 9000
 * section 19.3: the field times 2^ack_delay_exponent, in microseconds).
 * `exponent` is the peer's ack_delay_exponent (default 3, at most 20).
 */
export function decodeAckDelay(raw: number, exponent = 3): number {
  return (raw * 2 ** exponent) / 1000;
}

/** What congestion controllers and pacers read from the estimator. */
export interface RttView {
  /** latest_rtt: the most recent sample, before any ack-delay adjustment (0 before the first). */
  readonly latest: number;
  /** min_rtt: the smallest sample seen, ignoring ack delay (0 before the first). */
  readonly min: number;
  /** smoothed_rtt (kInitialRtt before the first sample). */
  readonly smoothed: number;
  /** rttvar (kInitialRtt / 2 before the first sample). */
  readonly rttvar: number;
  /** True once a sample was taken. */
  readonly hasSample: boolean;
}

/**
 * The RTT estimator of one path: latest_rtt, min_rtt, smoothed_rtt and rttvar
 * (RFC 9002 sections 5.1 to 5.3).
 */
export class RttEstimator implements RttView {
  latest = 0;
  min = 0;
  smoothed: number;
  rttvar: number;
  /** Time of the first sample, `first_rtt_sample` in RFC 9002 appendix A (null before it). */
  firstSampleTime: number | null = null;
  private readonly initialRtt: number;

  constructor(initialRtt: number = INITIAL_RTT_MS) {
    this.initialRtt = initialRtt;
    this.smoothed = initialRtt;
    this.rttvar = initialRtt / 2;
  }

  get hasSample(): boolean {
    return this.firstSampleTime !== null;
  }

  /**
   * Takes one RTT sample: `latestRtt` = now - time the largest newly acked
   * packet was sent, `ackDelay` = the peer's decoded ACK Delay (ms).
   * `ackDelayCap` is the peer's max_ack_delay once the handshake is confirmed
   * and Infinity before: RFC 9002 section 5.3, "SHOULD ignore the peer's
   * max_ack_delay until the handshake is confirmed" and "MUST use the lesser
   * of the acknowledgment delay and the peer's max_ack_delay after".
   */
  addSample(latestRtt: number, ackDelay: number, now: number, ackDelayCap = Infinity): void {
    // A clock that goes backwards is the caller's bug; never let it make a negative RTT.
    const sample = latestRtt > 0 ? latestRtt : 0;
    this.latest = sample;
    if (this.firstSampleTime === null) {
      // Section 5.3: the first sample resets the estimator, keeping no history.
      this.min = sample;
      this.smoothed = sample;
      this.rttvar = sample / 2;
      this.firstSampleTime = now;
      return;
    }
    // Section 5.2: min_rtt ignores acknowledgment delay.
    if (sample < this.min) this.min = sample;
    const delay = ackDelay > 0 ? Math.min(ackDelay, ackDelayCap) : 0;
    // Section 5.3: "MUST NOT subtract the acknowledgment delay from the RTT
    // sample if the resulting value is smaller than the min_rtt".
    const adjusted = sample >= this.min + delay ? sample - delay : sample;
    // Appendix A.7 order (as RFC 6298): rttvar uses the smoothed_rtt from before this sample.
    this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.smoothed - adjusted);
    this.smoothed = 0.875 * this.smoothed + 0.125 * adjusted;
  }

  /** smoothed_rtt + max(4 * rttvar, kGranularity): the PTO without max_ack_delay or backoff (section 6.2.1). */
  ptoBase(): number {
    return this.smoothed + Math.max(4 * this.rttvar, GRANULARITY_MS);
  }

  /**
   * The time-threshold loss delay: max(kTimeThreshold * max(smoothed_rtt,
   * latest_rtt), kGranularity) with kTimeThreshold = 9/8 (section 6.1.2).
   */
  lossDelay(): number {
    return Math.max(TIME_THRESHOLD * Math.max(this.latest, this.smoothed), GRANULARITY_MS);
  }

  /**
   * (smoothed_rtt + max(4 * rttvar, kGranularity) + max_ack_delay) *
   * kPersistentCongestionThreshold (section 7.6.1).
   */
  persistentCongestionDuration(maxAckDelay: number): number {
    return (this.ptoBase() + maxAckDelay) * PERSISTENT_CONGESTION_THRESHOLD;
  }

  /** Section 5.2: "Endpoints SHOULD set the min_rtt to the newest RTT sample after persistent congestion is established." */
  resetMinRtt(): void {
    if (this.hasSample) this.min = this.latest;
  }

  /** Back to the initial state, for a new path (RFC 9000 section 9.4; RFC 9002 section 5.3). */
  reset(): void {
    this.latest = 0;
    this.min = 0;
    this.smoothed = this.initialRtt;
    this.rttvar = this.initialRtt / 2;
    this.firstSampleTime = null;
  }
}
