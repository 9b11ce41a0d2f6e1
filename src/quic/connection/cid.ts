/**
 * Connection IDs (RFC 9000 sections 5.1, 10.3, 19.15 and 19.16): the ones we
 * issue ({@link LocalConnectionIds}, the peer puts them in its Destination
 * Connection ID) and the ones the peer issued ({@link PeerConnectionIds}, we
 * put them in ours).
 *
 * Each side queues its frames (NEW_CONNECTION_ID, RETIRE_CONNECTION_ID) and
 * hands them to the packet builder with an opaque {@link CidFrameRecord};
 * the connection reports the record back when the packet is acknowledged or
 * lost, and a lost frame is queued again unless it became pointless
 * (section 13.3: "New connection IDs are sent in NEW_CONNECTION_ID frames
 * and retransmitted if the packet containing them is lost ... Retirement of
 * connection IDs is sent in RETIRE_CONNECTION_ID frames and retransmitted
 * if the packet containing them is lost").
 *
 * Randomness comes from the injected {@link RandomSource}; nothing here
 * reads a clock.
 */
import type { RandomSource } from '../crypto/provider.js';
import { TransportError } from '../errors.js';
import { frameSize, type NewConnectionIdFrame, type RetireConnectionIdFrame } from '../frame.js';
import { RangeSet } from '../streams/range-set.js';
import { equalBytes } from '../bytes.js';

/** Frame type codes, for the `frameType` of the errors raised here. */
const NEW_CONNECTION_ID = 0x18;
const RETIRE_CONNECTION_ID = 0x19;

/** Stateless reset tokens are 16 bytes (section 10.3). */
export const RESET_TOKEN_LENGTH = 16;
/**
 * The smallest datagram that can be a Stateless Reset: 5 bytes of header
 * ("the Unpredictable Bits field needs to include at least 38 bits") plus
 * the 16-byte token, "the resulting minimum size of 21 bytes" (section 10.3).
 */
export const MIN_STATELESS_RESET_LENGTH = 21;
/** Default {@link LocalConnectionIdsOptions.maxIssued}. */
export const DEFAULT_MAX_ISSUED = 8;

export interface IssuedConnectionId {
  readonly sequence: number;
  readonly cid: Uint8Array;
  readonly resetToken: Uint8Array;
}

/**
 * What went out in a packet, for the ack/loss callbacks (opaque to the
 * connection: keep it with the sent packet and give it back).
 */
export interface CidFrameRecord {
  readonly kind: 'new-connection-id' | 'retire-connection-id';
  readonly sequence: number;
}

/** Removes the first occurrence of `v` from `list` (small lists). */
function removeValue(list: number[], v: number): void {
  const i = list.indexOf(v);
  if (i >= 0) list.splice(i, 1);
}

// ---------------------------------------------------------------------------------------------------
// ours

export interface LocalConnectionIdsOptions {
  /** Sequence number 0: the Source Connection ID of our first packets (section 5.1.1). */
  readonly initial: Uint8Array;
  /** Length of the IDs we issue, 0..20; 0 (or an empty `initial`) means zero-length IDs and no NEW_CONNECTION_ID ever. */
  readonly length: number;
  readonly random: RandomSource;
  /**
   * The stateless reset token of a connection ID. Default: 16 random bytes.
   * An endpoint that wants to reset connections after a restart passes a
   * keyed hash (HMAC of a static key) of the ID instead (section 10.3.2).
   */
  readonly resetToken?: (cid: Uint8Array) => Uint8Array;
  /**
   * Most of our connection IDs active at once, the initial one included
   * (default 8): fewer than the peer's active_connection_id_limit is allowed
   * (section 5.1.1: "An endpoint MAY also limit the issuance of connection
   * IDs to reduce the amount of per-path state it maintains").
   */
  readonly maxIssued?: number;
}

interface LocalEntry extends IssuedConnectionId {
  /** A NEW_CONNECTION_ID for it was acknowledged (no need to send it again). */
  acked: boolean;
}

/** The connection IDs we issued. */
export class LocalConnectionIds {
  private readonly length: number;
  private readonly random: RandomSource;
  private readonly makeToken: (cid: Uint8Array) => Uint8Array;
  private readonly maxIssued: number;
  /** Zero-length IDs: the peer sends us an empty Destination Connection ID, we never issue more. */
  readonly zeroLength: boolean;
  /** Active (issued, not retired) IDs by sequence number. */
  private readonly entries = new Map<number, LocalEntry>();
  private nextSequence = 1;
  /** How many of ours may be active: min(peer's limit, maxIssued); 1 until the peer's limit is known. */
  private target = 1;
  /** Sequence numbers whose NEW_CONNECTION_ID is to be sent. */
  private readonly pending: number[] = [];
  private added: Uint8Array[] = [];
  private retired: Uint8Array[] = [];

  constructor(options: LocalConnectionIdsOptions) {
    this.length = options.length;
    this.random = options.random;
    this.makeToken = options.resetToken ?? (() => this.random(RESET_TOKEN_LENGTH));
    this.maxIssued = Math.max(1, options.maxIssued ?? DEFAULT_MAX_ISSUED);
    this.zeroLength = options.initial.length === 0 || options.length === 0;
    if (!(options.length >= 0 && options.length <= 20)) throw new RangeError(`connection ID length ${options.length} outside 0..20`);
    this.entries.set(0, { sequence: 0, cid: options.initial, resetToken: this.makeToken(options.initial), acked: true });
  }

  /**
   * Server: issues the connection ID of the preferred_address transport parameter. Section 5.1.1: "The
   * sequence number of the connection ID supplied in the preferred_address transport parameter is 1";
   * it reaches the peer in the handshake, not in NEW_CONNECTION_ID. Call before {@link setPeerLimit}.
   */
  issuePreferred(): IssuedConnectionId {
    if (this.zeroLength || this.nextSequence !== 1) throw new RangeError('preferred_address needs a non-zero-length connection ID 1');
    const cid = this.freshCid();
    const sequence = this.nextSequence++;
    const resetToken = this.makeToken(cid);
    this.entries.set(sequence, { sequence, cid, resetToken, acked: true });
    this.added.push(cid);
    return { sequence, cid, resetToken };
  }

  /**
   * The peer's active_connection_id_limit (section 18.2; 2 when absent):
   * we issue IDs until that many (at most `maxIssued`) are active. Section
   * 5.1.1: "An endpoint MUST NOT provide more connection IDs than the peer's
   * limit."
   */
  setPeerLimit(limit: number): void {
    this.target = Math.max(1, Math.min(limit, this.maxIssued));
    this.topUp();
  }

  /** Issues new IDs until `target` are active (never with zero-length IDs, section 5.1.1). */
  private topUp(): void {
    if (this.zeroLength) return;
    while (this.entries.size < this.target) {
      const cid = this.freshCid();
      // Section 5.1.1: "The sequence number on each newly issued connection ID MUST increase by 1."
      const sequence = this.nextSequence++;
      const token = this.makeToken(cid);
      this.entries.set(sequence, { sequence, cid, resetToken: token, acked: false });
      this.pending.push(sequence);
      this.added.push(cid);
    }
  }

  /** Random bytes not equal to an active ID of ours (a collision is astronomically rare, but would break routing). */
  private freshCid(): Uint8Array {
    for (let attempt = 0; attempt < 8; attempt++) {
      const cid = this.random(this.length).slice(0, this.length);
      if (!this.has(cid)) return cid;
    }
    throw new Error('random source keeps returning connection IDs already in use');
  }

  /** Our stateless reset token for `sequence` while that ID is active (servers send seq 0's in transport parameters). */
  resetTokenOf(sequence: number): Uint8Array | null {
    return this.entries.get(sequence)?.resetToken ?? null;
  }

  /** True if `cid` is one of our active IDs (routing; checking a short header's Destination Connection ID). */
  has(cid: Uint8Array): boolean {
    for (const e of this.entries.values()) if (equalBytes(e.cid, cid)) return true;
    return false;
  }

  /** The active IDs, by ascending sequence number. */
  active(): readonly IssuedConnectionId[] {
    return [...this.entries.values()]
      .sort((a, b) => a.sequence - b.sequence)
      .map(({ sequence, cid, resetToken }) => ({ sequence, cid, resetToken }));
  }

  hasPendingFrames(): boolean {
    return this.pending.length > 0;
  }

  /** The next NEW_CONNECTION_ID frame if one waits and fits in `room` bytes, with its record. */
  nextFrame(room: number): { frame: NewConnectionIdFrame; record: CidFrameRecord } | null {
    const sequence = this.pending[0];
    if (sequence === undefined) return null;
    const e = this.entries.get(sequence)!;
    const frame: NewConnectionIdFrame = {
      type: 'new-connection-id',
      sequence,
      // We never ask the peer to retire our IDs early (section 5.1.2).
      retirePriorTo: 0,
      connectionId: e.cid,
      statelessResetToken: e.resetToken,
    };
    if (frameSize(frame) > room) return null;
    this.pending.shift();
    return { frame, record: { kind: 'new-connection-id', sequence } };
  }

  onFrameAcked(record: CidFrameRecord): void {
    const e = this.entries.get(record.sequence);
    if (e !== undefined) e.acked = true;
  }

  /** A NEW_CONNECTION_ID was lost: send it again, unless the peer retired the ID meanwhile or another copy arrived. */
  onFrameLost(record: CidFrameRecord): void {
    const e = this.entries.get(record.sequence);
    if (e !== undefined && !e.acked && !this.pending.includes(record.sequence)) this.pending.push(record.sequence);
  }

  /**
   * RETIRE_CONNECTION_ID from the peer, received in a packet whose
   * Destination Connection ID was `packetDcid`. The retired ID is forgotten
   * (see {@link takeChanges}) and a replacement issued (section 5.1.1: "An
   * endpoint SHOULD supply a new connection ID when the peer retires a
   * connection ID"). Retiring an already retired ID is a repeat and ignored.
   */
  handleRetireConnectionId(frame: RetireConnectionIdFrame, packetDcid: Uint8Array): void {
    // Section 19.16: "An endpoint that provides a zero-length connection ID MUST treat receipt of a
    // RETIRE_CONNECTION_ID frame as a connection error of type PROTOCOL_VIOLATION."
    if (this.zeroLength)
      throw new TransportError('PROTOCOL_VIOLATION', 'RETIRE_CONNECTION_ID for zero-length connection IDs', {
        frameType: RETIRE_CONNECTION_ID,
      });
    // Section 19.16: "Receipt of a RETIRE_CONNECTION_ID frame containing a sequence number greater than any
    // previously sent to the peer MUST be treated as a connection error of type PROTOCOL_VIOLATION."
    if (frame.sequence >= this.nextSequence)
      throw new TransportError('PROTOCOL_VIOLATION', `retiring connection ID ${frame.sequence}, never issued`, {
        frameType: RETIRE_CONNECTION_ID,
      });
    const e = this.entries.get(frame.sequence);
    if (e === undefined) return;
    // Section 19.16: the sequence number "MUST NOT refer to the Destination Connection ID field of the packet
    // in which the frame is contained. The peer MAY treat this as a connection error of type PROTOCOL_VIOLATION."
    if (equalBytes(e.cid, packetDcid))
      throw new TransportError('PROTOCOL_VIOLATION', `retiring connection ID ${frame.sequence} in a packet sent to it`, {
        frameType: RETIRE_CONNECTION_ID,
      });
    this.entries.delete(frame.sequence);
    removeValue(this.pending, frame.sequence);
    this.retired.push(e.cid);
    this.topUp();
  }

  /**
   * Changes for the endpoint's routing table since the last call: IDs
   * issued and IDs retired by the peer. The initial ID (sequence 0) is
   * never in `added`: the endpoint routes it from the first packet.
   */
  takeChanges(): { added: Uint8Array[]; retired: Uint8Array[] } {
    const out = { added: this.added, retired: this.retired };
    this.added = [];
    this.retired = [];
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------
// the peer's

export interface PeerConnectionIdsOptions {
  /** Sequence number 0: the Source Connection ID of the peer's first packet (zero-length if the peer uses none). */
  readonly initial: Uint8Array;
  /** Our active_connection_id_limit (at least 2, section 18.2). */
  readonly activeLimit: number;
  /**
   * Most IDs retired by us whose RETIRE_CONNECTION_ID is not acknowledged
   * yet; beyond it, CONNECTION_ID_LIMIT_ERROR. Default 4 x activeLimit
   * (section 5.1.2: "An endpoint SHOULD allow for sending and tracking a
   * number of RETIRE_CONNECTION_ID frames of at least twice the value of the
   * active_connection_id_limit transport parameter").
   */
  readonly maxUnackedRetires?: number;
}

interface PeerEntry {
  readonly sequence: number;
  cid: Uint8Array;
  resetToken: Uint8Array | null;
  /** We sent packets with it (section 10.3.1: only tokens of used IDs may match a Stateless Reset). */
  used: boolean;
}

/** The connection IDs the peer issued. */
export class PeerConnectionIds {
  private readonly activeLimit: number;
  private readonly maxUnackedRetires: number;
  /** The peer uses zero-length IDs: it may never send NEW_CONNECTION_ID (section 19.15). */
  readonly zeroLength: boolean;
  /** Active IDs by sequence number. */
  private readonly entries = new Map<number, PeerEntry>();
  private cur: PeerEntry;
  /** Largest Retire Prior To received (section 19.15). */
  private retirePriorTo = 0;
  /** Sequence numbers we retired (RETIRE_CONNECTION_ID queued once for each): compact, as ranges. */
  private readonly retiredSeqs = new RangeSet();
  /** Sequence numbers whose RETIRE_CONNECTION_ID is to be sent. */
  private readonly pending: number[] = [];
  /** Retired, RETIRE_CONNECTION_ID not acknowledged yet (pending or in flight). */
  private readonly unacked = new Set<number>();

  constructor(options: PeerConnectionIdsOptions) {
    this.activeLimit = Math.max(2, options.activeLimit);
    this.maxUnackedRetires = options.maxUnackedRetires ?? 4 * this.activeLimit;
    this.zeroLength = options.initial.length === 0;
    this.cur = { sequence: 0, cid: options.initial, resetToken: null, used: true };
    this.entries.set(0, this.cur);
  }

  /** The peer's stateless_reset_token transport parameter: the token of sequence 0 (only servers send one, section 10.3). */
  setInitialResetToken(token: Uint8Array): void {
    const e = this.entries.get(0);
    if (e !== undefined) e.resetToken = token;
  }

  /**
   * Replaces sequence 0's ID: the client made up the first Destination
   * Connection ID, then takes the server's Source Connection ID from its
   * first Initial or from a Retry (section 7.2).
   */
  replaceInitial(cid: Uint8Array): void {
    const e = this.entries.get(0);
    if (e !== undefined) e.cid = cid;
  }

  /** The ID to put in our packets' Destination Connection ID. */
  get current(): { readonly sequence: number; readonly cid: Uint8Array } {
    return { sequence: this.cur.sequence, cid: this.cur.cid };
  }

  /** Number of active peer IDs (for tests and diagnostics). */
  get activeCount(): number {
    return this.entries.size;
  }

  /**
   * NEW_CONNECTION_ID from the peer. Retire Prior To > Sequence Number is
   * caught by the frame decoder (FRAME_ENCODING_ERROR, section 19.15).
   */
  handleNewConnectionId(frame: NewConnectionIdFrame): void {
    const err = (code: 'PROTOCOL_VIOLATION' | 'CONNECTION_ID_LIMIT_ERROR', reason: string): TransportError =>
      new TransportError(code, reason, { frameType: NEW_CONNECTION_ID });
    // Section 19.15: "An endpoint that is sending packets with a zero-length Destination Connection ID MUST
    // treat receipt of a NEW_CONNECTION_ID frame as a connection error of type PROTOCOL_VIOLATION."
    if (this.zeroLength) throw err('PROTOCOL_VIOLATION', 'NEW_CONNECTION_ID while the peer uses zero-length connection IDs');
    const { sequence, connectionId: cid, statelessResetToken: token } = frame;
    const known = this.entries.get(sequence);
    // Section 19.15: "Receipt of the same frame multiple times MUST NOT be treated as a connection error", but
    // "if a sequence number is used for different connection IDs, the endpoint MAY treat that receipt as a
    // connection error of type PROTOCOL_VIOLATION".
    if (known !== undefined && (!equalBytes(known.cid, cid) || (known.resetToken !== null && !equalBytes(known.resetToken, token))))
      throw err('PROTOCOL_VIOLATION', `connection ID sequence ${sequence} reused with a different ID or token`);
    // Likewise "a NEW_CONNECTION_ID frame that repeats a previously issued connection ID with a different ...
    // Sequence Number field value".
    for (const e of this.entries.values())
      if (e.sequence !== sequence && equalBytes(e.cid, cid))
        throw err('PROTOCOL_VIOLATION', `connection ID of sequence ${e.sequence} repeated as sequence ${sequence}`);

    // Section 19.15: "A receiver MUST ignore any Retire Prior To fields that do not increase the largest
    // received Retire Prior To value." Section 5.1.2: "Upon receipt of an increased Retire Prior To field, the
    // peer MUST stop using the corresponding connection IDs and retire them with RETIRE_CONNECTION_ID frames
    // before adding the newly provided connection ID to the set of active connection IDs."
    if (frame.retirePriorTo > this.retirePriorTo) {
      this.retirePriorTo = frame.retirePriorTo;
      for (const e of [...this.entries.values()]) if (e.sequence < this.retirePriorTo) this.retire(e.sequence);
    }

    if (known === undefined) {
      if (sequence < this.retirePriorTo) {
        // Section 19.15: a sequence number "smaller than the Retire Prior To field of a previously received
        // NEW_CONNECTION_ID frame MUST send a corresponding RETIRE_CONNECTION_ID frame that retires the newly
        // received connection ID, unless it has already done so for that sequence number".
        this.retire(sequence);
      } else if (!this.retiredSeqs.has(sequence)) {
        this.entries.set(sequence, { sequence, cid, resetToken: token, used: false });
        // Section 5.1.1: "After processing a NEW_CONNECTION_ID frame and adding and retiring active connection
        // IDs, if the number of active connection IDs exceeds the value advertised in its
        // active_connection_id_limit transport parameter, an endpoint MUST close the connection with an error
        // of type CONNECTION_ID_LIMIT_ERROR."
        if (this.entries.size > this.activeLimit)
          throw err('CONNECTION_ID_LIMIT_ERROR', `${this.entries.size} active connection IDs, limit ${this.activeLimit}`);
      }
    } else if (known.resetToken === null) {
      known.resetToken = token;
    }

    if (!this.entries.has(this.cur.sequence)) {
      // Cannot happen with a peer that follows section 5.1.2 (the frame's own ID is at or above Retire Prior
      // To, and unused); a frame that leaves us nothing to send to is a violation, not a crash.
      const next = this.smallestUnused();
      if (next === null) throw err('PROTOCOL_VIOLATION', 'Retire Prior To left no connection ID to use');
      this.switchTo(next);
    }
    // Section 5.1.2: an endpoint "MAY choose to treat having connection IDs in need of retirement that exceed
    // this limit as a connection error of type CONNECTION_ID_LIMIT_ERROR".
    if (this.unacked.size > this.maxUnackedRetires)
      throw err('CONNECTION_ID_LIMIT_ERROR', `${this.unacked.size} connection IDs awaiting retirement`);
  }

  /** Stops using `sequence` and queues its RETIRE_CONNECTION_ID, once per sequence number. */
  private retire(sequence: number): void {
    this.entries.delete(sequence);
    if (this.retiredSeqs.has(sequence)) return;
    this.retiredSeqs.add(sequence, sequence + 1);
    this.pending.push(sequence);
    this.unacked.add(sequence);
  }

  /** The active ID with the smallest sequence number that we have not used yet, or null. */
  private smallestUnused(): PeerEntry | null {
    let best: PeerEntry | null = null;
    for (const e of this.entries.values()) if (!e.used && (best === null || e.sequence < best.sequence)) best = e;
    return best;
  }

  private switchTo(e: PeerEntry): void {
    e.used = true;
    this.cur = e;
  }

  /**
   * Switches to an unused ID (migration, section 9.5) and retires the
   * previous one (section 5.1.2: "Endpoints SHOULD retire connection IDs
   * when they are no longer actively using either the local or destination
   * address"). False when no unused ID is available.
   */
  rotate(): boolean {
    const next = this.smallestUnused();
    if (next === null) return false;
    const old = this.cur.sequence;
    this.switchTo(next);
    this.retire(old);
    return true;
  }

  /** The unused active ID {@link rotate} would switch to, without switching (a new path's ID, section 9.5). */
  peekUnused(exclude: readonly number[] = []): { readonly sequence: number; readonly cid: Uint8Array } | null {
    let best: PeerEntry | null = null;
    for (const e of this.entries.values())
      if (!e.used && !exclude.includes(e.sequence) && (best === null || e.sequence < best.sequence)) best = e;
    return best === null ? null : { sequence: best.sequence, cid: best.cid };
  }

  /**
   * Starts using the active ID `sequence` for a path (section 9.5: a new path gets an ID not used on
   * another one) without retiring the others; false when it is not active.
   */
  markUsed(sequence: number): boolean {
    const e = this.entries.get(sequence);
    if (e === undefined) return false;
    e.used = true;
    return true;
  }

  /** Sends to `sequence` from now on and retires the previous ID (it was used on a path we left); false if not active. */
  rotateTo(sequence: number): boolean {
    const e = this.entries.get(sequence);
    if (e === undefined) return false;
    if (e === this.cur) return true;
    const old = this.cur.sequence;
    this.switchTo(e);
    this.retire(old);
    return true;
  }

  /** True while `sequence` is an active ID. */
  isActive(sequence: number): boolean {
    return this.entries.has(sequence);
  }

  /**
   * Client: the server's preferred_address connection ID, sequence 1 (section 5.1.1), with its stateless
   * reset token. Ignored if sequence 1 is already known.
   */
  addPreferred(cid: Uint8Array, resetToken: Uint8Array): void {
    if (this.zeroLength || this.entries.has(1) || this.retiredSeqs.has(1)) return;
    this.entries.set(1, { sequence: 1, cid, resetToken, used: false });
  }

  hasPendingFrames(): boolean {
    return this.pending.length > 0;
  }

  /** The next RETIRE_CONNECTION_ID frame if one waits and fits in `room` bytes, with its record. */
  nextFrame(room: number): { frame: RetireConnectionIdFrame; record: CidFrameRecord } | null {
    const sequence = this.pending[0];
    if (sequence === undefined) return null;
    const frame: RetireConnectionIdFrame = { type: 'retire-connection-id', sequence };
    if (frameSize(frame) > room) return null;
    this.pending.shift();
    return { frame, record: { kind: 'retire-connection-id', sequence } };
  }

  onFrameAcked(record: CidFrameRecord): void {
    this.unacked.delete(record.sequence);
    removeValue(this.pending, record.sequence);
  }

  /** A RETIRE_CONNECTION_ID was lost: send it again unless another copy was acknowledged. */
  onFrameLost(record: CidFrameRecord): void {
    if (this.unacked.has(record.sequence) && !this.pending.includes(record.sequence)) this.pending.push(record.sequence);
  }

  /**
   * True if the last 16 bytes of `datagram` equal the stateless reset token
   * of an active peer ID we have used (section 10.3.1: "An endpoint MUST NOT
   * check for any stateless reset tokens associated with connection IDs it
   * has not used or for connection IDs that have been retired"). Every
   * candidate is compared in full with no early exit ("endpoints MUST
   * perform the comparison without leaking information about the value of
   * the token"). Datagrams under 21 bytes never match (section 10.3).
   */
  isStatelessReset(datagram: Uint8Array): boolean {
    if (datagram.length < MIN_STATELESS_RESET_LENGTH) return false;
    const tail = datagram.length - RESET_TOKEN_LENGTH;
    let found = 0;
    for (const e of this.entries.values()) {
      const token = e.resetToken;
      if (!e.used || token === null || token.length !== RESET_TOKEN_LENGTH) continue;
      let diff = 0;
      for (let i = 0; i < RESET_TOKEN_LENGTH; i++) diff |= token[i]! ^ datagram[tail + i]!;
      found |= diff === 0 ? 1 : 0;
    }
    return found === 1;
  }
}
