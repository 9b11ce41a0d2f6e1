/**
 * A token-bucket pacer (RFC 9002 section 7.7): "A sender SHOULD pace sending
 * of all in-flight packets based on input from the congestion controller."
 *
 * The bucket fills at the congestion controller's pacing rate (N *
 * congestion_window / smoothed_rtt) up to a burst of `burstPackets`
 * datagrams ("Senders SHOULD limit bursts to the initial congestion window"),
 * and each packet sent takes its size out. The pacer never reads a clock and
 * never sets a timer: {@link Pacer.nextSendTime} says when the next packet may
 * go, and the connection reports that as a deadline.
 */

/** Burst size in datagrams: the initial window is 10 datagrams (RFC 9002 section 7.2). */
export const DEFAULT_BURST_PACKETS = 10;

export interface PacerOptions {
  /** max_datagram_size in bytes (default 1200). */
  readonly maxDatagramSize?: number;
  /** Bucket capacity in datagrams (default 10). */
  readonly burstPackets?: number;
}

/** Token bucket pacer; rates are bytes per ms, times ms on the caller's monotonic clock. */
export class Pacer {
  private maxDatagramSize: number;
  private readonly burstPackets: number;
  /** Bytes that may be sent now; negative after a send the pacer did not allow (a probe). */
  private tokens: number;
  private lastUpdate: number | null = null;

  constructor(options: PacerOptions = {}) {
    this.maxDatagramSize = options.maxDatagramSize ?? 1200;
    this.burstPackets = options.burstPackets ?? DEFAULT_BURST_PACKETS;
    this.tokens = this.capacity;
  }

  /** Bucket size in bytes. */
  get capacity(): number {
    return this.burstPackets * this.maxDatagramSize;
  }

  setMaxDatagramSize(size: number): void {
    this.maxDatagramSize = size;
    if (this.tokens > this.capacity) this.tokens = this.capacity;
  }

  /** Tokens available at `now` at `rate` bytes per ms (without changing state). */
  available(now: number, rate: number): number {
    if (rate === Infinity) return this.capacity;
    if (this.lastUpdate === null) return this.tokens;
    const elapsed = now > this.lastUpdate ? now - this.lastUpdate : 0;
    return Math.min(this.capacity, this.tokens + elapsed * rate);
  }

  /**
   * Earliest time at which a packet of `bytes` may be sent at `rate` bytes per
   * ms: `now` if the bucket holds enough, otherwise when it will. A packet
   * larger than the bucket waits for a full bucket.
   */
  nextSendTime(now: number, bytes: number, rate: number): number {
    if (!(rate > 0)) return Infinity;
    const need = Math.min(bytes, this.capacity);
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
