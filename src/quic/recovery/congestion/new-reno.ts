/**
 * NewReno congestion control as RFC 9002 section 7 and appendix B describe it:
 * slow start, a recovery period per congestion event, and congestion
 * avoidance that adds one max_datagram_size per congestion window
 * acknowledged.
 */
import type { RttView } from '../rtt.js';
import { WindowController, type CongestionPacket, type WindowControllerOptions } from './controller.js';

/** kLossReductionFactor (RFC 9002 section 7.3.2). */
export const LOSS_REDUCTION_FACTOR = 0.5;

/** NewReno (RFC 9002 section 7.3). */
export class NewReno extends WindowController {
  readonly name = 'new-reno';
  /** Bytes acknowledged in congestion avoidance since the window last grew. */
  private bytesAcked = 0;

  constructor(options: WindowControllerOptions = {}) {
    super(options);
  }

  protected growInAvoidance(packet: CongestionPacket, _now: number, _rtt: RttView): void {
    // Section 7.3.3: "MUST limit the increase to no more than one maximum
    // datagram size for each congestion window that is acknowledged". Counting
    // acknowledged bytes (as RFC 3465) keeps the window an integer.
    this.bytesAcked += packet.size;
    if (this.bytesAcked >= this.cwnd) {
      this.bytesAcked -= this.cwnd;
      this.cwnd += this.maxDatagramSize;
    }
  }

  protected reduceWindow(_now: number): void {
    // Appendix B.6: ssthresh = cwnd * kLossReductionFactor; cwnd = max(ssthresh, kMinimumWindow).
    this.threshold = Math.floor(this.cwnd * LOSS_REDUCTION_FACTOR);
    this.cwnd = Math.max(this.threshold, this.minimumWindow);
    this.bytesAcked = 0;
  }

  protected override resetAfterPersistentCongestion(): void {
    this.bytesAcked = 0;
  }
}
