/**
 * A token-bucket pacer (RFC 9002 section 7.7): "A sender SHOULD pace sending
 * of all in-flight packets based on input from the congestion controller."
 *
 * The bucket fills at the congestion controller's pacing rate (N *
 * congestion_window / smoothed_rtt) and each packet sent takes its size out.
 * The pacer never reads a clock and never sets a timer:
 * {@link Pacer.nextSendTime} says when the next packet may go, and the
 * connection reports that as a deadline.
 *
 * The bucket holds `burstInterval` ms worth of the rate, at least
 * `burstPackets` datagrams ("Senders SHOULD limit bursts to the initial
 * congestion window") and at most `maxBurstPackets`. Why more than the
 * initial window at high rates: a driver's timer does not fire sooner than
 * about 1 ms (Node's setTimeout granularity), so a bucket holding less than
 * what the rate earns in one timer period caps the rate at bucket / period
 * whatever the window says (measured on loopback: 10 x 1200 bytes per wake
 * held a transfer near 12-35 MB/s with both processes idle a third of the time).
 */

/** Smallest burst in datagrams: the initial window is 10 datagrams (RFC 9002 section 7.2). */
export const DEFAULT_BURST_PACKETS = 10;
/** Largest burst in datagrams. */
export const DEFAULT_MAX_BURST_PACKETS = 256;
/** The bucket holds this many ms of the pacing rate (about two timer periods of a typical driver). */
export const DEFAULT_BURST_INTERVAL = 2;

export interface PacerOptions {
  /** max_datagram_size in bytes (default 1200). */
  readonly maxDatagramSize?: number;
  /** Smallest bucket capacity in datagrams (default 10). */
  readonly burstPackets?: number;
  /** Largest bucket capacity in datagrams (default 256; never below burstPackets). */
  readonly maxBurstPackets?: number;
  /** Bucket capacity as ms of the pacing rate, between the two bounds above (default 2). */
  readonly burstInterval?: number;
}

/** Token bucket pacer; rates are bytes per ms, times ms on the caller's monotonic clock. */
export class Pacer {
  private maxDatagramSize: number;
  private readonly burstPackets: number;
  private readonly maxBurstPackets: number;
  private readonly burstInterval: number;
  /** Bytes that may be sent now; negative after a send the pacer did not allow (a probe). */
  private tokens: number;
  private lastUpdate: number | null = null;

  constructor(options: PacerOptions = {}) {
    this.maxDatagramSize = options.maxDatagramSize ?? 1200;
    this.burstPackets = options.burstPackets ?? DEFAULT_BURST_PACKETS;
    this.maxBurstPackets = Math.max(this.burstPackets, options.maxBurstPackets ?? DEFAULT_MAX_BURST_PACKETS);
    this.burstInterval = options.burstInterval ?? DEFAULT_BURST_INTERVAL;
    this.tokens = this.capacity(0);
  }

  /** Bucket size in bytes at `rate` bytes per ms. */
  capacity(rate: number): number {
    const mds = this.maxDatagramSize;
    const bytes = rate * this.burstInterval;
    const min = this.burstPackets * mds;
    if (!(bytes > min)) return min;
    const max = this.maxBurstPackets * mds;
    return bytes < max ? bytes : max;
  }

  setMaxDatagramSize(size: number): void {
    this.maxDatagramSize = size;
    if (this.tokens > this.capacity(0)) this.tokens = this.capacity(0);
  }

  /** Tokens available at `now` at `rate` bytes per ms (without changing state). */
  available(now: number, rate: number): number {
    const capacity = this.capacity(rate);
    if (rate === Infinity) return capacity;
    if (this.lastUpdate === null) return this.tokens;
    const elapsed = now > this.lastUpdate ? now - this.lastUpdate : 0;
    return Math.min(capacity, this.tokens + elapsed * rate);
  }

  /**
   * Earliest time at which a packet of `bytes` may be sent at `rate` bytes per
   * ms: `now` if the bucket holds enough, otherwise when it will. A packet
   * larger than the bucket waits for a full bucket.
   */
  nextSendTime(now: number, bytes: number, rate: number): number {
    if (!(rate > 0)) return Infinity;
    const need = Math.min(bytes, this.capacity(rate));
    const have = this.available(now, rate);
    if (have >= need) return now;
    return now + (need - have) / rate;
  }

  /** A packet of `bytes` was sent at `now`; the bucket had been filling at `rate`. */
  onPacketSent(now: number, bytes: number, rate: number): void {
    this.tokens = this.available(now, rate) - bytes;
    this.lastUpdate = this.lastUpdate === null || now > this.lastUpdate ? now : this.lastUpdate;
  }
}
