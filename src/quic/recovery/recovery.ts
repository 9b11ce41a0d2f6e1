/**
 * The recovery layer a connection talks to: loss detection, the congestion
 * controller and the pacer behind one object, called in the order RFC 9002
 * appendices A and B give (ECN, losses, persistent congestion, then acks).
 *
 * Sans-I/O contract: every call that depends on time takes `now` (ms on the
 * caller's monotonic clock, never decreasing); nothing here reads a clock or
 * starts a timer. The connection:
 *
 * ```ts
 * const rec = new Recovery<MyFrames>({ role: 'client', congestion: 'cubic' });
 * // sending: respect the window and the pacer, except for PTO probes
 * if (rec.probesPending(space) > 0 || (rec.canSend(size) && rec.nextSendTime(now, size) <= now)) {
 *   rec.onPacketSent(space, { pn, timeSent: now, size, ackEliciting, inFlight, frames });
 * }
 * // an ACK frame arrived
 * const { acked, lost } = rec.onAckReceived(space, ackFrame, decodeAckDelay(ackFrame.ackDelay, exp), now);
 * // the timer: report rec.deadline (with the other timers) and, when it is due,
 * const t = rec.onTimeout(now); // 'loss' → retransmit t.lost; 'pto' → send t.probes probes in t.space
 * ```
 */
import type { PacketNumberSpace } from '../packet-io.js';
import type { CongestionController } from './congestion/controller.js';
import { DEFAULT_MAX_DATAGRAM_SIZE } from './congestion/controller.js';
import { Cubic } from './congestion/cubic.js';
import { NewReno } from './congestion/new-reno.js';
import { LossDetector, type AckInput, type AckOutcome, type LossDetectorOptions, type TimeoutOutcome } from './loss.js';
import { Pacer } from './pacer.js';
import type { RttEstimator } from './rtt.js';
import type { SentPacket } from './sent-packets.js';

/** Built-in congestion controllers. */
export type CongestionAlgorithm = 'new-reno' | 'cubic';

export interface RecoveryOptions extends LossDetectorOptions {
  /** max_datagram_size in bytes (default 1200). */
  readonly maxDatagramSize?: number;
  /** 'new-reno' (default), 'cubic', or a controller of your own. */
  readonly congestion?: CongestionAlgorithm | CongestionController;
  /** Initial congestion window in bytes for the built-in controllers (default per RFC 9002 section 7.2). */
  readonly initialWindow?: number;
  /** Pace in-flight packets (default true; RFC 9002 section 7.7 "SHOULD pace"). */
  readonly pacing?: boolean;
  /** Pacer burst in datagrams (default 10). */
  readonly burstPackets?: number;
}

/** Loss detection + congestion control + pacing for one connection (one path). */
export class Recovery<R> {
  readonly loss: LossDetector<R>;
  readonly congestion: CongestionController;
  private readonly pacer: Pacer | null;
  private readonly probes: Record<PacketNumberSpace, number> = { initial: 0, handshake: 0, application: 0 };

  constructor(options: RecoveryOptions) {
    this.loss = new LossDetector<R>(options);
    const mds = options.maxDatagramSize ?? DEFAULT_MAX_DATAGRAM_SIZE;
    const cc = options.congestion ?? 'new-reno';
    const ccOptions =
      options.initialWindow === undefined ? { maxDatagramSize: mds } : { maxDatagramSize: mds, initialWindow: options.initialWindow };
    this.congestion = cc === 'new-reno' ? new NewReno(ccOptions) : cc === 'cubic' ? new Cubic(ccOptions) : cc;
    this.pacer =
      options.pacing === false
        ? null
        : new Pacer(
            options.burstPackets === undefined ? { maxDatagramSize: mds } : { maxDatagramSize: mds, burstPackets: options.burstPackets },
          );
  }

  // ---------------------------------------------------------------------------------------------
  // getters

  get rtt(): RttEstimator {
    return this.loss.rtt;
  }

  /** When {@link onTimeout} must be called (the loss detection timer), or null. */
  get deadline(): number | null {
    return this.loss.deadline;
  }

  get congestionWindow(): number {
    return this.congestion.window;
  }

  get bytesInFlight(): number {
    return this.congestion.bytesInFlight;
  }

  /** True if an in-flight packet of `bytes` fits in the congestion window (PTO probes need not ask). */
  canSend(bytes: number): boolean {
    return this.congestion.canSend(bytes);
  }

  /** Earliest time the pacer lets an in-flight packet of `bytes` go (`now` when it may go at once). */
  nextSendTime(now: number, bytes: number): number {
    if (this.pacer === null) return now;
    return this.pacer.nextSendTime(now, bytes, this.congestion.pacingRate(this.loss.rtt));
  }

  /** Ack-eliciting probe packets still owed in `space` after a PTO; each ack-eliciting packet sent there counts one. */
  probesPending(space: PacketNumberSpace): number {
    return this.probes[space];
  }

  // ---------------------------------------------------------------------------------------------
  // inputs

  /** A packet was sent (at `packet.timeSent`). */
  onPacketSent(space: PacketNumberSpace, packet: SentPacket<R>): void {
    this.loss.onPacketSent(space, packet);
    if (packet.inFlight) {
      const now = packet.timeSent;
      this.pacer?.onPacketSent(now, packet.size, this.congestion.pacingRate(this.loss.rtt));
      this.congestion.onPacketSent(packet, now);
    }
    if (packet.ackEliciting && this.probes[space] > 0) this.probes[space]--;
  }

  /**
   * An ACK frame arrived in `space`; `ackDelay` is its decoded ACK Delay in
   * ms. Returns what was newly acknowledged and lost: retransmit what the
   * lost packets carried. Raises TransportError PROTOCOL_VIOLATION for an
   * ACK of a packet never sent.
   */
  onAckReceived(space: PacketNumberSpace, ack: AckInput, ackDelay: number, now: number): AckOutcome<R> {
    const out = this.loss.onAckReceived(space, ack, ackDelay, now);
    if (out.ecnCeSentTime !== null) this.congestion.onCongestionEvent(out.ecnCeSentTime, now, 'ecn-ce');
    this.onLost(out.lost, out.persistentCongestion, now);
    const rtt = this.loss.rtt;
    for (const p of out.acked) if (p.inFlight) this.congestion.onPacketAcked(p, now, rtt);
    return out;
  }

  /** The loss detection timer is due (`now >= deadline`); null if it was not. */
  onTimeout(now: number): TimeoutOutcome<R> | null {
    const out = this.loss.onTimeout(now);
    if (out === null) return null;
    if (out.type === 'loss') this.onLost(out.lost, out.persistentCongestion, now);
    else this.probes[out.space] = out.probes;
    return out;
  }

  /**
   * Drops a space's keys (or rejected 0-RTT for 'application'): its packets
   * leave bytes in flight, no congestion signal. `keepSpace` empties the
   * space but keeps it usable: a client's Initial packets after a Retry
   * (RFC 9002 section 6.3: they are no longer in flight, packet numbers go on).
   */
  discardSpace(space: PacketNumberSpace, now: number, keepSpace = false): SentPacket<R>[] {
    const dropped = this.loss.discardSpace(space, now, keepSpace);
    for (const p of dropped) if (p.inFlight) this.congestion.onPacketDiscarded(p);
    this.probes[space] = 0;
    return dropped;
  }

  onHandshakeKeysAvailable(): void {
    this.loss.onHandshakeKeysAvailable();
  }

  onHandshakeConfirmed(now: number): void {
    this.loss.onHandshakeConfirmed(now);
  }

  setAmplificationLimited(limited: boolean, now: number): void {
    this.loss.setAmplificationLimited(limited, now);
  }

  /** The peer's max_ack_delay transport parameter, in ms. */
  setMaxAckDelay(ms: number): void {
    this.loss.maxAckDelay = ms;
  }

  /** The sender had less to send than the window allowed (true) or fills it again (false): RFC 9002 section 7.8. */
  setAppLimited(limited: boolean, now: number): void {
    this.congestion.setAppLimited(limited, now);
  }

  /**
   * The connection moved to a path whose peer address changed by more than the port (RFC 9000 section
   * 9.4): RTT estimate and congestion controller start over; packets in flight stay tracked.
   */
  resetForNewPath(now: number): void {
    this.loss.rtt.reset();
    this.congestion.resetForNewPath?.(now);
  }

  setMaxDatagramSize(size: number): void {
    this.congestion.setMaxDatagramSize(size);
    this.pacer?.setMaxDatagramSize(size);
  }

  /** Appendix B.8 OnPacketsLost: leave bytes in flight, one congestion event for the newest, then persistent congestion. */
  private onLost(lost: readonly SentPacket<R>[], persistentCongestion: boolean, now: number): void {
    let newest: number | null = null;
    for (const p of lost) {
      if (!p.inFlight) continue;
      this.congestion.onPacketLost(p, now);
      if (newest === null || p.timeSent > newest) newest = p.timeSent;
    }
    if (newest !== null) this.congestion.onCongestionEvent(newest, now, 'loss');
    if (persistentCongestion) this.congestion.onPersistentCongestion(now);
  }
}
