/**
 * The sending path of a {@link Connection}: what goes into each datagram and when, what each sent packet
 * carried, and what to send again when it is lost or probed (RFC 9000 sections 12, 13.3 and 14; RFC 9002
 * sections 6.2.4 and 7; RFC 9000 section 8.1 for the server's anti-amplification limit).
 *
 * The connection keeps the state machine (handshake, closing, timers) and the receive path; it asks the
 * sender for the next datagram in `poll`, tells it what happened to sent packets (acknowledged, lost), and
 * queues the small things only it decides (PING, PATH_RESPONSE, HANDSHAKE_DONE, DATAGRAM frames). The
 * per-concern modules (CRYPTO streams, streams, connection IDs, ACK tracking, recovery) produce the
 * frames; the sender puts them in packets in the order of RFC 9000 section 12.2 (Initial, Handshake,
 * 1-RTT, coalesced in one datagram) and records them.
 */
import { UsageError } from '../../combinators/errors.js';
import type { ConnectionCloseFrame, Frame } from '../frame.js';
import { frameSize } from '../frame.js';
import { protectDatagram, type PacketNumberSpace } from '../packet-io.js';
import { PacketBuilder, type BuiltPacket } from '../packet.js';
import type { Recovery } from '../recovery/recovery.js';
import type { SentPacket } from '../recovery/sent-packets.js';
import type { StreamFrameRecord, StreamManager } from '../streams/manager.js';
import type { Role } from '../transport-params.js';
import type { AckTracker } from './ack-tracker.js';
import type { CidFrameRecord, LocalConnectionIds, PeerConnectionIds } from './cid.js';
import type { CryptoFrameRecord, CryptoStream } from './crypto-stream.js';
import type { ConnectionKeys } from './keys.js';
import { qlogFrame } from './trace.js';

/** What a sent packet carried that matters when it is acknowledged or lost (RFC 9000 section 13.3). */
export type SentFrame =
  | { readonly kind: 'crypto'; readonly record: CryptoFrameRecord }
  | { readonly kind: 'stream'; readonly record: StreamFrameRecord }
  | { readonly kind: 'ack' }
  | { readonly kind: 'handshake-done' }
  | { readonly kind: 'local-cid'; readonly record: CidFrameRecord }
  | { readonly kind: 'peer-cid'; readonly record: CidFrameRecord };

export type Sent = SentPacket<SentFrame[]>;

export const SPACES: readonly PacketNumberSpace[] = ['initial', 'handshake', 'application'];

/** Counters the sender updates (a part of the connection's stats). */
export interface SenderStats {
  datagramsSent: number;
  bytesSent: number;
  packetsSent: number;
  packetsLost: number;
  /** Bytes of 0-RTT packets sent (client). */
  zeroRttBytesSent: number;
}

/** The connection's parts the sender reads and drives, and what it reports back. */
export interface SenderContext {
  readonly role: Role;
  readonly version: number;
  readonly keys: ConnectionKeys;
  readonly recovery: Recovery<SentFrame[]>;
  readonly streams: StreamManager;
  readonly localCids: LocalConnectionIds;
  readonly peerCids: PeerConnectionIds;
  readonly acks: Readonly<Record<PacketNumberSpace, AckTracker>>;
  readonly crypto: Readonly<Record<PacketNumberSpace, CryptoStream>>;
  readonly stats: SenderStats;
  /** qlog output, when tracing (undefined: off). */
  readonly qlog: ((name: string, data: Record<string, unknown>) => void) | undefined;
  /** An ack-eliciting packet went out at `now` (the idle and keep-alive timers restart, RFC 9000 section 10.1). */
  onAckElicitingSent(now: number): void;
  /** A client sent its first Handshake packet (it discards its Initial keys, RFC 9001 section 4.9.1). */
  onHandshakePacketSent(now: number): void;
}

const PING_FRAME: Frame = Object.freeze({ type: 'ping' });
const HANDSHAKE_DONE_FRAME: Frame = Object.freeze({ type: 'handshake-done' });
const EMPTY = new Uint8Array(0);
/** Most in-flight packets looked at to find data for a PTO probe (see requeueOldestInFlight). */
const PROBE_SCAN_LIMIT = 1024;

export class PacketSender {
  private readonly c: SenderContext;
  private builder: PacketBuilder;
  private size = 1200;
  /** Next packet number per space (RFC 9000 section 12.3). */
  readonly nextPn: Record<PacketNumberSpace, number> = { initial: 0, handshake: 0, application: 0 };
  /** Client: the token sent in Initial packets (from Retry or NEW_TOKEN, RFC 9000 section 8.1). */
  token: Uint8Array;
  /** The pacer's next send time while data waits for it (null: not waiting). */
  private pacingAt: number | null = null;

  // frames only the connection decides to send
  private pingPending = false;
  private handshakeDonePending = false;
  private handshakeDoneSent = false;
  private handshakeDoneAcked = false;
  private readonly pathResponses: Uint8Array[] = [];
  private readonly datagramsOut: Uint8Array[] = [];
  private datagramsOutBytes = 0;

  // address validation (RFC 9000 section 8.1)
  private validated: boolean;
  private amplificationReceived = 0;
  private amplificationSent = 0;

  // qlog: frames of the packet being built, and of the packets of the datagram being built
  private qlogFrames: Record<string, unknown>[] | null = null;
  private readonly qlogSent: { type: string; pn: number; frames: Record<string, unknown>[] }[] = [];

  constructor(context: SenderContext, options: { readonly addressValidated: boolean; readonly token: Uint8Array }) {
    this.c = context;
    this.validated = options.addressValidated;
    this.token = options.token;
    this.builder = new PacketBuilder({ maxDatagramSize: this.size, role: context.role });
  }

  /** Largest UDP payload we send. */
  get datagramSize(): number {
    return this.size;
  }

  /** The peer allows larger datagrams (its max_udp_payload_size, within our own limit). */
  setDatagramSize(size: number): void {
    if (size === this.size) return;
    this.size = size;
    this.builder = new PacketBuilder({ maxDatagramSize: size, role: this.c.role });
    this.c.recovery.setMaxDatagramSize(size);
  }

  // ---------------------------------------------------------------------------------------------
  // what the connection queues

  /** Send an ack-eliciting PING in the next 1-RTT packet (ping command, keep-alive). */
  queuePing(): void {
    this.pingPending = true;
  }

  /** Server: send HANDSHAKE_DONE (RFC 9001 section 4.1.2) until it is acknowledged. */
  queueHandshakeDone(): void {
    this.handshakeDonePending = true;
  }

  /** RFC 9000 section 8.2.2: echo PATH_CHALLENGE data in PATH_RESPONSE (bounded: a flood keeps the latest few). */
  queuePathResponse(data: Uint8Array): void {
    if (this.pathResponses.length >= 4) this.pathResponses.shift();
    this.pathResponses.push(data.slice());
  }

  /**
   * Queues a DATAGRAM frame's data (RFC 9221, copied). False when the queue already holds more than
   * `limit` bytes: unreliable and unbounded queues are a bad mix.
   */
  queueDatagram(data: Uint8Array, limit: number): boolean {
    if (this.datagramsOutBytes + data.length > limit) return false;
    this.datagramsOut.push(data.slice());
    this.datagramsOutBytes += data.length;
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // address validation (RFC 9000 section 8.1)

  get addressValidated(): boolean {
    return this.validated;
  }

  /** Before validation a server sends at most three times what it received. */
  get amplificationBlocked(): boolean {
    return !this.validated && this.amplificationSent + this.size > 3 * this.amplificationReceived;
  }

  /** Bytes the anti-amplification limit lets us send now (Infinity once the path is validated). */
  get amplificationBudget(): number {
    return this.validated ? Infinity : Math.max(0, 3 * this.amplificationReceived - this.amplificationSent);
  }

  /**
   * The connection moved to a path not validated yet (RFC 9000 section 9.3): the three-times limit of
   * section 8.1 applies again, counting from the `received` bytes that arrived on that path.
   */
  startPathValidation(received: number, now: number): void {
    this.validated = false;
    this.amplificationReceived = received;
    this.amplificationSent = 0;
    this.updateAmplification(now);
  }

  /** A datagram of `bytes` arrived on the path (counts toward the limit until validation). */
  onDatagramReceived(bytes: number): void {
    if (!this.validated) this.amplificationReceived += bytes;
  }

  setAddressValidated(now: number): void {
    if (this.validated) return;
    this.validated = true;
    this.c.recovery.setAmplificationLimited(false, now);
  }

  /** Tells loss detection whether the limit holds the sender back (its timer is off while it does). */
  updateAmplification(now: number): void {
    if (!this.validated) this.c.recovery.setAmplificationLimited(this.amplificationBlocked, now);
  }

  // ---------------------------------------------------------------------------------------------
  // timers

  /** Earliest ACK deadline of a space we can write in (null: none, or blocked by the amplification limit). */
  ackDeadline(): number | null {
    if (this.amplificationBlocked) return null;
    let ack: number | null = null;
    for (const space of SPACES) {
      const d = this.c.acks[space].deadline;
      if (d !== null && this.canWrite(space) && (ack === null || d < ack)) ack = d;
    }
    return ack;
  }

  /** When the pacer lets waiting data go (null: nothing waits for it). */
  pacingDeadline(now: number): number | null {
    return this.amplificationBlocked || this.pacingAt === null || this.pacingAt <= now ? null : this.pacingAt;
  }

  canWrite(space: PacketNumberSpace): boolean {
    return this.c.keys.writable(space);
  }

  // ---------------------------------------------------------------------------------------------
  // acknowledgments, losses and probes

  /** A packet was acknowledged: each frame's module learns it (RFC 9000 section 13.3). */
  onPacketAcked(space: PacketNumberSpace, p: Sent): void {
    for (const f of p.frames) {
      switch (f.kind) {
        case 'crypto':
          this.c.crypto[space].onFrameAcked(f.record);
          break;
        case 'stream':
          this.c.streams.onFrameAcked(f.record);
          break;
        case 'ack':
          this.c.acks[space].onAckOfAckReceived(p.pn);
          break;
        case 'handshake-done':
          this.handshakeDoneAcked = true;
          break;
        case 'local-cid':
          this.c.localCids.onFrameAcked(f.record);
          break;
        case 'peer-cid':
          this.c.peerCids.onFrameAcked(f.record);
          break;
        default: {
          const never: never = f;
          throw new UsageError(`unknown record ${JSON.stringify(never)}`);
        }
      }
    }
  }

  /** Packets were declared lost: what they carried is sent again where RFC 9000 section 13.3 says so. */
  onPacketsLost(space: PacketNumberSpace, lost: readonly Sent[]): void {
    for (const p of lost) {
      this.c.stats.packetsLost++;
      this.requeueFrames(space, p.frames);
    }
  }

  private requeueFrames(space: PacketNumberSpace, frames: readonly SentFrame[]): void {
    for (const f of frames) {
      switch (f.kind) {
        case 'crypto':
          this.c.crypto[space].onFrameLost(f.record);
          break;
        case 'stream':
          this.c.streams.onFrameLost(f.record);
          break;
        case 'ack':
          break;
        case 'handshake-done':
          // RFC 9000 section 13.3: "The HANDSHAKE_DONE frame MUST be retransmitted until it is acknowledged."
          if (!this.handshakeDoneAcked) this.handshakeDonePending = true;
          break;
        case 'local-cid':
          this.c.localCids.onFrameLost(f.record);
          break;
        case 'peer-cid':
          this.c.peerCids.onFrameLost(f.record);
          break;
        default: {
          const never: never = f;
          throw new UsageError(`unknown record ${JSON.stringify(never)}`);
        }
      }
    }
  }

  /**
   * Called when a PTO fired and before each probe datagram (RFC 9002 section 6.2.4). Probes carry data:
   * the unacknowledged CRYPTO data of the space owed a probe and, because "the sender SHOULD send
   * ack-eliciting packets from other packet number spaces with in-flight data, coalescing packets if
   * possible", of every other space with data in flight (a server whose Initial with the ServerHello was
   * lost must not probe with Handshake packets alone, which the client cannot open; a client whose
   * Finished is unacknowledged repeats its 1-RTT data too). Application probes carry new data when there is
   * some, else ("Previously sent data MAY be sent if no new data can be sent") the frames of the oldest
   * packets in flight. Refilling before the second probe datagram makes both carry the data ("Sending two
   * packets on PTO expiration increases resilience to packet drops"), not one data packet and one PING.
   */
  refillProbes(): void {
    const rec = this.c.recovery;
    for (const space of SPACES) {
      if (!this.canWrite(space)) continue;
      if (rec.probesPending(space) === 0 && rec.loss.sent(space).ackElicitingInFlight === 0) continue;
      if (space !== 'application') {
        if (!this.c.crypto[space].hasPendingFrames()) this.c.crypto[space].requeueUnacked();
      } else if (!this.hasDataFor('application')) this.requeueOldestInFlight();
    }
  }

  /**
   * Requeues the frames of the oldest in-flight application packets, about two datagrams' worth (the
   * probes' room), for PTO probes. An unacknowledged HANDSHAKE_DONE always goes with them: until it is
   * acknowledged the client cannot confirm the handshake (RFC 9000 section 13.3, RFC 9001 section 4.1.2).
   */
  private requeueOldestInFlight(): void {
    if (this.handshakeDoneSent && !this.handshakeDoneAcked) this.handshakeDonePending = true;
    const sent = this.c.recovery.loss.sent('application');
    const first = sent.first();
    const last = sent.largestSent;
    if (first === undefined || last === null) return;
    // Budget in frame bytes, not packet sizes: a padded packet with a few small frames must not crowd out
    // the stream data of the packets after it.
    let budget = 2 * this.size;
    // Bounded scan: packets that carry data are normally at the front (ACK-only packets are not probed).
    for (let pn = first.pn; pn <= last && pn < first.pn + PROBE_SCAN_LIMIT && budget > 0; pn++) {
      const p = sent.get(pn);
      if (p === undefined || !p.ackEliciting || !p.frames.some((f) => f.kind !== 'ack')) continue;
      this.requeueFrames('application', p.frames);
      for (const f of p.frames) budget -= sentFrameCost(f);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // building datagrams

  /**
   * The next datagram to send, protected, or null when nothing may or needs to go now. It is a view of
   * the builder's buffer: send it before the next call.
   */
  buildDatagram(now: number): Uint8Array | null {
    if (this.amplificationBlocked) return null;
    const c = this.c;
    const size = this.size;
    const rec = c.recovery;
    const probing = rec.probesPending('initial') > 0 || rec.probesPending('handshake') > 0 || rec.probesPending('application') > 0;
    let mayFill = probing;
    if (probing) this.refillProbes();
    this.pacingAt = null;
    if (!mayFill && rec.canSend(size)) {
      const at = rec.nextSendTime(now, size);
      if (at <= now) mayFill = true;
      else if (this.hasAnyData()) this.pacingAt = at;
    }

    const b = this.builder;
    const plan: { space: PacketNumberSpace; frames: SentFrame[] }[] = [];
    let handshakeSent = false;
    for (const space of SPACES) {
      if (!this.canWrite(space)) continue;
      const tracker = c.acks[space];
      const probe = rec.probesPending(space) > 0;
      const ackNow = tracker.hasNewAck && tracker.ackDue(now);
      const fill = (mayFill || probe) && this.hasDataFor(space);
      if (!ackNow && !fill && !probe && !(space === 'application' && this.pingPending && mayFill)) continue;
      if (!this.startPacket(space)) break;
      const frames: SentFrame[] = [];
      const pn = this.nextPn[space];
      if (tracker.hasNewAck) {
        const ack = tracker.buildAck(now);
        if (ack !== null && this.add(ack)) {
          tracker.onAckSent(pn, ack);
          frames.push({ kind: 'ack' });
        }
      }
      let eliciting = false;
      if (mayFill || probe) eliciting = this.fillPacket(space, frames);
      if (probe && !eliciting && b.room > 0) this.add(PING_FRAME);
      if (space === 'application' && this.pingPending && b.room > 0) {
        this.add(PING_FRAME);
        this.pingPending = false;
      }
      const built = b.finishPacket();
      if (built === null) continue;
      if (this.qlogFrames !== null) this.qlogSent.push({ type: built.type, pn: built.pn, frames: this.qlogFrames });
      this.nextPn[space]++;
      plan.push({ space, frames });
      if (space === 'handshake') handshakeSent = true;
    }
    const dg = b.finishDatagram();
    if (dg === null) return null;
    const datagram = protectDatagram(dg, c.keys.protectKeys());
    this.recordSent(dg.packets, plan, now);
    if (c.qlog !== undefined) this.qlogPacketsSent(dg.packets);
    c.stats.datagramsSent++;
    c.stats.bytesSent += datagram.length;
    if (!this.validated) {
      this.amplificationSent += datagram.length;
      this.updateAmplification(now);
    }
    if (handshakeSent && c.role === 'client') c.onHandshakePacketSent(now);
    rec.setAppLimited(!this.hasAnyData(), now);
    return datagram;
  }

  /** The spaces we hold write keys for: a close goes to each (RFC 9000 section 10.2.3: the peer may lack some keys). */
  writableSpaces(): PacketNumberSpace[] {
    return SPACES.filter((space) => this.canWrite(space));
  }

  /** A datagram with CONNECTION_CLOSE in `space`, not recorded for recovery. */
  buildClose(space: PacketNumberSpace, frame: ConnectionCloseFrame): Uint8Array | null {
    const b = this.builder;
    if (!this.canWrite(space) || !this.startPacket(space)) return null;
    this.add(frame);
    if (b.finishPacket() !== null) this.nextPn[space]++;
    const dg = b.finishDatagram();
    if (dg === null) return null;
    this.c.stats.datagramsSent++;
    return protectDatagram(dg, this.c.keys.protectKeys());
  }

  /**
   * A 1-RTT datagram with only `frames` (PATH_CHALLENGE / PATH_RESPONSE, RFC 9000 section 8.2) to
   * `dcid`, padded to `padTo` bytes (sections 8.2.1, 8.2.2). On the current path (`onPath`) it counts
   * toward the anti-amplification limit and congestion control; on another path it is not in flight
   * (it does not load the current path's congestion window). Null without 1-RTT keys.
   */
  buildPathProbe(dcid: Uint8Array, frames: readonly Frame[], padTo: number, onPath: boolean, now: number): Uint8Array | null {
    const c = this.c;
    if (!this.canWrite('application') || c.keys.sendsZeroRtt) return null;
    const b = this.builder;
    if (!this.startPacket('application', dcid)) return null;
    for (const f of frames) this.add(f);
    const built = b.finishPacket();
    if (built === null) return null;
    if (this.qlogFrames !== null) this.qlogSent.push({ type: built.type, pn: built.pn, frames: this.qlogFrames });
    this.nextPn.application++;
    const dg = b.finishDatagram({ padTo: Math.min(padTo, this.size) });
    if (dg === null) return null;
    const datagram = protectDatagram(dg, c.keys.protectKeys());
    const p = dg.packets[0]!;
    c.recovery.onPacketSent('application', {
      pn: p.pn,
      timeSent: now,
      size: p.end - p.start,
      ackEliciting: p.ackEliciting,
      inFlight: onPath && p.inFlight,
      frames: [],
    });
    c.stats.packetsSent++;
    if (c.qlog !== undefined) this.qlogPacketsSent(dg.packets);
    c.stats.datagramsSent++;
    c.stats.bytesSent += datagram.length;
    if (onPath && !this.validated) {
      this.amplificationSent += datagram.length;
      this.updateAmplification(now);
    }
    return datagram;
  }

  private startPacket(space: PacketNumberSpace, pathDcid?: Uint8Array): boolean {
    const b = this.builder;
    const c = this.c;
    if (c.qlog !== undefined) this.qlogFrames = [];
    const pn = this.nextPn[space];
    const largestAcked = c.recovery.loss.sent(space).largestAcked;
    const dcid = pathDcid ?? c.peerCids.current.cid;
    if (space === 'application' && !c.keys.sendsZeroRtt) return b.startShort({ dcid, pn, largestAcked, keyPhase: c.keys.keyPhase === 1 });
    return b.startLong({
      // Before its 1-RTT keys a client sends application data in 0-RTT packets (RFC 9001 section 4.6.1).
      type: space === 'application' ? '0rtt' : space,
      version: c.version,
      dcid,
      scid: c.localCids.active()[0]?.cid ?? EMPTY,
      pn,
      largestAcked,
      ...(space === 'initial' && c.role === 'client' ? { token: this.token } : {}),
    });
  }

  /** Adds the frames of `space` that fit; returns true if any is ack-eliciting. */
  private fillPacket(space: PacketNumberSpace, frames: SentFrame[]): boolean {
    const b = this.builder;
    const c = this.c;
    let eliciting = false;
    const crypto = c.crypto[space];
    while (crypto.hasPendingFrames()) {
      const f = crypto.nextFrame(b.room);
      if (f === null || !this.add(f.frame)) break;
      frames.push({ kind: 'crypto', record: f.record });
      eliciting = true;
    }
    if (space !== 'application') return eliciting;
    if (this.handshakeDonePending && this.add(HANDSHAKE_DONE_FRAME)) {
      this.handshakeDonePending = false;
      this.handshakeDoneSent = true;
      frames.push({ kind: 'handshake-done' });
      eliciting = true;
    }
    while (this.pathResponses.length > 0 && this.add({ type: 'path-response', data: this.pathResponses[0]! })) {
      this.pathResponses.shift();
      eliciting = true;
    }
    for (;;) {
      const f = c.localCids.nextFrame(b.room);
      if (f === null || !this.add(f.frame)) break;
      frames.push({ kind: 'local-cid', record: f.record });
      eliciting = true;
    }
    for (;;) {
      const f = c.peerCids.nextFrame(b.room);
      if (f === null || !this.add(f.frame)) break;
      frames.push({ kind: 'peer-cid', record: f.record });
      eliciting = true;
    }
    while (this.datagramsOut.length > 0) {
      const data = this.datagramsOut[0]!;
      const frame: Frame = { type: 'datagram', data };
      if (frameSize(frame) > b.room) break;
      this.add(frame);
      this.datagramsOut.shift();
      this.datagramsOutBytes -= data.length;
      eliciting = true;
    }
    for (;;) {
      const room = b.room;
      if (room < 8) break;
      const f = c.streams.nextFrame(room);
      if (f === null) break;
      if (!this.add(f.frame)) throw new UsageError('stream frame larger than the room it was built for');
      frames.push({ kind: 'stream', record: f.record });
      eliciting = true;
    }
    return eliciting;
  }

  private hasDataFor(space: PacketNumberSpace): boolean {
    const c = this.c;
    if (c.crypto[space].hasPendingFrames()) return true;
    if (space !== 'application') return false;
    return (
      this.handshakeDonePending ||
      this.pathResponses.length > 0 ||
      this.datagramsOut.length > 0 ||
      c.localCids.hasPendingFrames() ||
      c.peerCids.hasPendingFrames() ||
      c.streams.hasPendingFrames()
    );
  }

  private hasAnyData(): boolean {
    for (const space of SPACES) if (this.canWrite(space) && this.hasDataFor(space)) return true;
    return false;
  }

  private recordSent(
    packets: readonly BuiltPacket[],
    plan: readonly { space: PacketNumberSpace; frames: SentFrame[] }[],
    now: number,
  ): void {
    const c = this.c;
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i]!;
      const space = plan[i]!.space;
      c.recovery.onPacketSent(space, {
        pn: p.pn,
        timeSent: now,
        size: p.end - p.start,
        ackEliciting: p.ackEliciting,
        inFlight: p.inFlight,
        frames: plan[i]!.frames,
      });
      c.stats.packetsSent++;
      if (p.type === '0rtt') c.stats.zeroRttBytesSent += p.end - p.start;
      if (p.ackEliciting) c.onAckElicitingSent(now);
    }
  }

  private qlogPacketsSent(packets: readonly BuiltPacket[]): void {
    const qlog = this.c.qlog!;
    for (let i = 0; i < packets.length; i++) {
      const q = this.qlogSent[i];
      const p = packets[i]!;
      if (q === undefined) continue;
      qlog('transport:packet_sent', {
        header: { packet_type: q.type, packet_number: q.pn },
        raw: { length: p.end - p.start },
        frames: q.frames,
      });
    }
    this.qlogSent.length = 0;
    const rec = this.c.recovery;
    const r = rec.rtt;
    qlog('recovery:metrics_updated', {
      smoothed_rtt: r.smoothed,
      min_rtt: r.min,
      latest_rtt: r.latest,
      rtt_variance: r.rttvar,
      congestion_window: rec.congestionWindow,
      bytes_in_flight: rec.bytesInFlight,
    });
  }

  /** Adds a frame to the open packet (and to the qlog record when tracing). */
  private add(frame: Frame): boolean {
    const ok = this.builder.addFrame(frame);
    if (ok && this.qlogFrames !== null) this.qlogFrames.push(qlogFrame(frame));
    return ok;
  }
}

/** About how many bytes a frame takes when it is sent again (data plus a frame header). */
function sentFrameCost(f: SentFrame): number {
  switch (f.kind) {
    case 'crypto':
      return f.record.length + 8;
    case 'stream':
      return f.record.kind === 'stream' ? f.record.length + 12 : 12;
    case 'ack':
      return 0;
    case 'handshake-done':
      return 1;
    case 'local-cid':
    case 'peer-cid':
      return 32;
    default: {
      const never: never = f;
      throw new UsageError(`unknown record ${JSON.stringify(never)}`);
    }
  }
}
