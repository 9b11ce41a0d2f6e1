/**
 * The per-datagram pipelines of the QUIC wire layer, with no connection
 * state: datagram in, verified frames out; PacketBuilder output in, protected
 * datagram out.
 *
 * Receive ({@link PacketOpener}, {@link openDatagram}): split the datagram
 * into its coalesced packets (RFC 9000 section 12.2), remove header and
 * payload protection with the keys of each packet's type (RFC 9001 section
 * 5), recover the full packet number against the largest one opened so far
 * in its packet number space (RFC 9000 appendix A.3), check the reserved bits
 * and decode the frames. Each packet gets a result; nothing throws on bad
 * input:
 *
 * - `opened`: authenticated, frames decoded;
 * - `invalid`: authenticated, but a connection error (RFC 9000 sections 12.4,
 *   17.2, 17.3.1: bad frames, frames not allowed in the packet type,
 *   reserved bits set): the caller closes with `error`;
 * - `dropped`: discarded without an error (RFC 9001 section 5.5, RFC 9000
 *   section 12.2): unparsable header, no keys, too short, failed
 *   authentication, other Destination Connection ID;
 * - `unprotected`: Retry, Version Negotiation or a version we do not
 *   support, which carry no protected payload: handled by the caller.
 *
 * Decryption happens in place: the datagram passed in is modified, and the
 * frames' byte fields (STREAM data, CRYPTO data, ...) are views into it, valid
 * until the caller reuses that buffer. A dropped packet's bytes are left (or
 * restored) exactly as received, so it can be buffered and retried when keys
 * arrive (RFC 9001 section 5.7) or checked for a stateless reset token
 * (RFC 9000 section 10.3.1).
 *
 * Send ({@link protectDatagram}): the {@link PacketBuilder} writes unprotected
 * packets into its buffer and says where each one's parts are; protecting
 * seals each payload and masks each header in that same buffer.
 *
 * Portable: no `node:*` import; all cryptography goes through the provider
 * behind the given keys.
 */
import { ParseError, UsageError } from '../combinators/errors.js';
import type { Aead, HeaderProtection } from './crypto/provider.js';
import { TransportError } from './errors.js';
import { decodeFrames, isAckEliciting, type Frame, type PacketType } from './frame.js';
import {
  checkReservedBits,
  decodePacketHeader,
  decodePacketNumber,
  keyPhaseOf,
  packetNumberLengthOf,
  type BuiltDatagram,
  type BuiltPacket,
  type DecodePacketOptions,
  type PacketHeader,
  type ProtectedPacketHeader,
  type RetryPacketHeader,
  type UnsupportedVersionPacket,
  type VersionNegotiationPacket,
} from './packet.js';
import {
  openPayload,
  protect,
  unmaskedFirstByte,
  unmaskedTruncatedPn,
  unmaskHeader,
  unprotect,
  type ProtectionContexts,
} from './packet-protection.js';
import { equalBytes } from './bytes.js';

// ---------------------------------------------------------------------------------------------------
// packet number spaces and keys

/**
 * The three packet number spaces (RFC 9000 section 12.3): Initial, Handshake,
 * and application data, which 0-RTT and 1-RTT packets share.
 */
export type PacketNumberSpace = 'initial' | 'handshake' | 'application';

/** The packet number space of a packet type (RFC 9000 section 12.3). */
export function packetNumberSpaceOf(type: PacketType): PacketNumberSpace {
  switch (type) {
    case 'initial':
      return 'initial';
    case 'handshake':
      return 'handshake';
    case '0rtt':
    case '1rtt':
      return 'application';
    default: {
      const never: never = type;
      throw new UsageError(`unknown packet type ${String(never)}`);
    }
  }
}

/**
 * 1-RTT receive keys. The header protection key never changes, but the
 * packet protection keys do, and the Key Phase bit (readable only once the
 * header mask is removed) says which ones a packet uses (RFC 9001 section
 * 6): `aead[0]` opens packets whose Key Phase bit is 0, `aead[1]` those whose
 * bit is 1. During a key update one of them is the current key phase and the
 * other the next (or the previous) one; `null` drops such packets with
 * reason `no-keys`.
 */
export interface OneRttOpenKeys {
  readonly hp: HeaderProtection;
  readonly aead: readonly [Aead | null, Aead | null];
}

/**
 * 1-RTT receive keys from the keys of the current key phase, whose Key Phase
 * bit is `keyPhase`, and optionally the AEAD of the other phase.
 */
export function oneRttOpenKeys(current: ProtectionContexts, keyPhase: 0 | 1, otherPhase: Aead | null = null): OneRttOpenKeys {
  return { hp: current.hp, aead: keyPhase === 0 ? [current.aead, otherPhase] : [otherPhase, current.aead] };
}

/**
 * The keys to open each packet type with; a missing or null entry drops
 * packets of that type with reason `no-keys` (keys not yet available, or
 * already discarded: RFC 9001 sections 4.9 and 5.7).
 */
export interface OpenKeys {
  readonly initial?: ProtectionContexts | null;
  readonly handshake?: ProtectionContexts | null;
  /** 0-RTT (a server only: clients never receive 0-RTT packets, RFC 9001 section 5.6). */
  readonly zeroRtt?: ProtectionContexts | null;
  readonly oneRtt?: OneRttOpenKeys | null;
}

/** The keys to protect each packet type with (a packet of a type without keys is a UsageError). */
export interface ProtectKeys {
  readonly initial?: ProtectionContexts | null;
  readonly handshake?: ProtectionContexts | null;
  readonly zeroRtt?: ProtectionContexts | null;
  /** The keys of the key phase the builder wrote into the header (`ShortPacketFields.keyPhase`). */
  readonly oneRtt?: ProtectionContexts | null;
}

/** Largest packet number opened so far in each space; null before the first (RFC 9000 appendix A.3). */
export interface LargestPacketNumbers {
  initial: number | null;
  handshake: number | null;
  application: number | null;
}

// ---------------------------------------------------------------------------------------------------
// results

/** An authenticated packet and its frames. */
export interface OpenedPacket {
  readonly status: 'opened';
  readonly header: ProtectedPacketHeader;
  readonly space: PacketNumberSpace;
  /** The full packet number. */
  readonly pn: number;
  /** The first byte without header protection (packet number length, reserved bits, key phase). */
  readonly firstByte: number;
  /** The Key Phase bit of a 1-RTT packet (0 for long headers). */
  readonly keyPhase: 0 | 1;
  /** Frames in order; byte fields are views into the datagram. */
  readonly frames: Frame[];
  /** The packet must be acknowledged (RFC 9000 section 13.2). */
  readonly ackEliciting: boolean;
  /** Bytes of the packet on the wire (`header.end - header.start`). */
  readonly size: number;
}

/**
 * An authenticated packet whose contents are a connection error: close the
 * connection with `error` (its `code`, `errorCode` and `frameType` go into
 * CONNECTION_CLOSE).
 */
export interface InvalidPacket {
  readonly status: 'invalid';
  readonly header: ProtectedPacketHeader;
  readonly space: PacketNumberSpace;
  readonly pn: number;
  readonly error: TransportError;
  readonly size: number;
}

/**
 * Why a packet was discarded without an error:
 * - `malformed`: its header does not parse (RFC 9000 sections 12.2, 17); the
 *   rest of the datagram from `offset` is discarded with it, `error` says why;
 * - `dcid-mismatch`: not the first packet, and its Destination Connection ID
 *   differs from the first one's (RFC 9000 section 12.2: "Receivers SHOULD
 *   ignore any subsequent packets with a different Destination Connection ID");
 * - `no-keys`: no keys for its type (or key phase);
 * - `short`: too short to sample for header protection (RFC 9001 section 5.4.2);
 * - `aead`: authentication failed (RFC 9001 section 5.5).
 */
export type DropReason = 'malformed' | 'dcid-mismatch' | 'no-keys' | 'short' | 'aead';

export interface DroppedPacket {
  readonly status: 'dropped';
  readonly reason: DropReason;
  /** null for `malformed` (no header could be read). */
  readonly header: PacketHeader | null;
  /** Offset of the packet (of the unparsable rest, for `malformed`) in the datagram. */
  readonly offset: number;
  /** Bytes discarded. */
  readonly size: number;
  /** The parse error, for `malformed`; null otherwise. */
  readonly error: ParseError | null;
}

/** Packets without protected payload, left to the caller (RFC 9000 sections 6, 17.2.1, 17.2.5). */
export interface UnprotectedPacket {
  readonly status: 'unprotected';
  readonly header: RetryPacketHeader | VersionNegotiationPacket | UnsupportedVersionPacket;
  readonly size: number;
}

export type PacketResult = OpenedPacket | InvalidPacket | DroppedPacket | UnprotectedPacket;

// ---------------------------------------------------------------------------------------------------
// receive

export type PacketOpenerOptions = DecodePacketOptions;

/**
 * Opens datagrams one after another, keeping the largest packet number
 * opened in each space for packet number recovery:
 *
 * ```ts
 * const opener = new PacketOpener({ shortDcidLength: 8 });
 * const initial = initialPacketKeys(provider, QUIC_V1, clientDcid);
 * // A server opens what the client sent with the client's keys.
 * for (const r of opener.open(datagram, { initial: initial.client })) {
 *   if (r.status === 'opened') handle(r.frames);
 *   else if (r.status === 'invalid') closeConnection(r.error);
 * }
 * ```
 *
 * `largestPn` is updated when a packet opens with valid frames ("the largest
 * packet number successfully processed", RFC 9000 appendix A.3); the caller
 * may also set it.
 */
export class PacketOpener {
  /** Largest packet number opened per space (the input of packet number recovery). */
  readonly largestPn: LargestPacketNumbers = { initial: null, handshake: null, application: null };
  private readonly options: DecodePacketOptions;
  /** Space of the packet being opened, read by `expandPn` (one closure for the opener's life, not one per packet). */
  private space: PacketNumberSpace = 'initial';
  private readonly expandPn = (truncated: number, pnLength: number): number =>
    decodePacketNumber(this.largestPn[this.space], truncated, pnLength as 1 | 2 | 3 | 4);

  constructor(options: PacketOpenerOptions) {
    const n = options.shortDcidLength;
    if (!Number.isInteger(n) || n < 0 || n > 20) throw new UsageError(`shortDcidLength ${n} outside 0..20`);
    this.options = options;
  }

  /**
   * Opens every packet of `datagram` (in place) with `keys`. Returns one
   * result per packet, in datagram order, plus a final `malformed` result
   * when the datagram ends in bytes that do not parse as a packet. Never
   * throws because of the datagram's bytes.
   */
  open(datagram: Uint8Array, keys: OpenKeys): PacketResult[] {
    // decodeDatagram's walk, inlined so that a datagram of one packet costs no
    // header list and no DecodedDatagram object. Opening a packet only touches
    // its own bytes, so decoding each header just before opening its packet
    // gives the same results as decoding them all first.
    const out: PacketResult[] = [];
    if (datagram.length === 0) {
      out.push(dropped('malformed', null, 0, 0, new ParseError('ERR_UNEXPECTED_END', 0, 'a packet')));
      return out;
    }
    let firstDcid: Uint8Array | null = null;
    let off = 0;
    while (off < datagram.length) {
      let h: PacketHeader;
      try {
        h = decodePacketHeader(datagram, off, this.options);
      } catch (e) {
        if (e instanceof ParseError) {
          out.push(dropped('malformed', null, off, datagram.length - off, e));
          return out;
        }
        throw e;
      }
      off = h.end;
      if (firstDcid === null) firstDcid = h.dcid;
      else if (!equalBytes(h.dcid, firstDcid)) {
        out.push(dropped('dcid-mismatch', h, h.start, h.end - h.start, null));
        continue;
      }
      out.push(this.openPacket(datagram, h, keys));
    }
    return out;
  }

  private openPacket(datagram: Uint8Array, h: PacketHeader, keys: OpenKeys): PacketResult {
    switch (h.kind) {
      case 'retry':
      case 'version-negotiation':
      case 'unsupported-version':
        return { status: 'unprotected', header: h, size: h.end - h.start };
      case '1rtt':
        return this.openShort(datagram, h, keys.oneRtt ?? null);
      case 'initial':
        return this.openLong(datagram, h, keys.initial ?? null);
      case 'handshake':
        return this.openLong(datagram, h, keys.handshake ?? null);
      case '0rtt':
        return this.openLong(datagram, h, keys.zeroRtt ?? null);
      default: {
        const never: never = h;
        throw new UsageError(`unknown packet ${JSON.stringify(never)}`);
      }
    }
  }

  private openLong(datagram: Uint8Array, h: ProtectedPacketHeader, keys: ProtectionContexts | null): PacketResult {
    const size = h.end - h.start;
    if (keys === null) return dropped('no-keys', h, h.start, size, null);
    const packet = packetView(datagram, h);
    this.space = packetNumberSpaceOf(h.kind);
    const r = unprotect(packet, h.pnOffset - h.start, keys, this.expandPn);
    if (!r.ok) return dropped(r.reason, h, h.start, size, null);
    return this.finish(h, r.pn as number, r.firstByte, 0, r.payload, size);
  }

  /**
   * 1-RTT: the AEAD depends on the Key Phase bit, which header protection
   * hides, so the two steps of `unprotect` run separately here (RFC 9001
   * section 6.3), restoring the bytes when the packet is dropped.
   */
  private openShort(datagram: Uint8Array, h: ProtectedPacketHeader, keys: OneRttOpenKeys | null): PacketResult {
    const size = h.end - h.start;
    if (keys === null) return dropped('no-keys', h, h.start, size, null);
    const packet = packetView(datagram, h);
    const pnOffset = h.pnOffset - h.start;
    // The masked bytes, to restore on failure (a packet long enough to sample has all five).
    const b0 = packet[0]!;
    const p0 = packet[pnOffset] ?? 0;
    const p1 = packet[pnOffset + 1] ?? 0;
    const p2 = packet[pnOffset + 2] ?? 0;
    const p3 = packet[pnOffset + 3] ?? 0;
    // The result-object-free forms of removeHeaderProtection / decryptPayload: this runs per packet.
    const unmasked = unmaskHeader(packet, pnOffset, keys.hp);
    if (unmasked < 0) return dropped('short', h, h.start, size, null);
    const firstByte = unmaskedFirstByte(unmasked);
    const pnLength = packetNumberLengthOf(firstByte);
    const keyPhase = keyPhaseOf(firstByte);
    const aead = keys.aead[keyPhase];
    let reason: DropReason = 'no-keys';
    if (aead !== null) {
      const pn = decodePacketNumber(this.largestPn.application, unmaskedTruncatedPn(unmasked), pnLength);
      const payload = openPayload(packet, pnOffset, pnLength, pn, aead);
      if (payload !== null) return this.finish(h, pn, firstByte, keyPhase, payload, size);
      reason = 'aead';
    }
    packet[0] = b0;
    packet[pnOffset] = p0;
    if (pnLength > 1) packet[pnOffset + 1] = p1;
    if (pnLength > 2) packet[pnOffset + 2] = p2;
    if (pnLength > 3) packet[pnOffset + 3] = p3;
    return dropped(reason, h, h.start, size, null);
  }

  /** Reserved bits, then frames; both only after authentication (RFC 9001 section 9.5). */
  private finish(
    h: ProtectedPacketHeader,
    pn: number,
    firstByte: number,
    keyPhase: 0 | 1,
    payload: Uint8Array,
    size: number,
  ): OpenedPacket | InvalidPacket {
    const space = packetNumberSpaceOf(h.kind);
    let frames: Frame[];
    try {
      checkReservedBits(firstByte);
      frames = decodeFrames(payload, h.kind);
    } catch (e) {
      if (e instanceof TransportError) return { status: 'invalid', header: h, space, pn, error: e, size };
      throw e;
    }
    const largest = this.largestPn[space];
    if (largest === null || pn > largest) this.largestPn[space] = pn;
    let ackEliciting = false;
    for (let i = 0; i < frames.length; i++) {
      if (isAckEliciting(frames[i]!)) {
        ackEliciting = true;
        break;
      }
    }
    return { status: 'opened', header: h, space, pn, firstByte, keyPhase, frames, ackEliciting, size };
  }
}

/** The packet's bytes; the datagram itself when the packet is all of it (no view to create). */
function packetView(datagram: Uint8Array, h: ProtectedPacketHeader): Uint8Array {
  return h.start === 0 && h.end === datagram.length ? datagram : datagram.subarray(h.start, h.end);
}

function dropped(reason: DropReason, header: PacketHeader | null, offset: number, size: number, error: ParseError | null): DroppedPacket {
  return { status: 'dropped', reason, header, offset, size, error };
}

export interface OpenDatagramOptions extends PacketOpenerOptions {
  /** Largest packet number opened so far per space (default: none in any space). */
  readonly largestPn?: Partial<Readonly<LargestPacketNumbers>>;
}

/**
 * Opens one datagram: {@link PacketOpener.open} on a fresh opener whose
 * largest packet numbers are `options.largestPn`. Decrypts in place; never
 * throws because of the datagram's bytes.
 */
export function openDatagram(datagram: Uint8Array, keys: OpenKeys, options: OpenDatagramOptions): PacketResult[] {
  const opener = new PacketOpener(options);
  const l = options.largestPn;
  if (l !== undefined) {
    opener.largestPn.initial = l.initial ?? null;
    opener.largestPn.handshake = l.handshake ?? null;
    opener.largestPn.application = l.application ?? null;
  }
  return opener.open(datagram, keys);
}

// ---------------------------------------------------------------------------------------------------
// send

function protectKeysFor(keys: ProtectKeys, type: PacketType): ProtectionContexts | null {
  switch (type) {
    case 'initial':
      return keys.initial ?? null;
    case 'handshake':
      return keys.handshake ?? null;
    case '0rtt':
      return keys.zeroRtt ?? null;
    case '1rtt':
      return keys.oneRtt ?? null;
    default: {
      const never: never = type;
      throw new UsageError(`unknown packet type ${String(never)}`);
    }
  }
}

/**
 * Protects one packet the {@link PacketBuilder} finished, in place in
 * `datagram` (RFC 9001 section 5: seal the payload, then mask the header).
 */
export function protectPacket(datagram: Uint8Array, p: BuiltPacket, keys: ProtectionContexts): void {
  // Offsets are relative to the packet's first byte; the first packet needs no view.
  const packet = p.start === 0 ? datagram : datagram.subarray(p.start);
  protect(packet, p.pnOffset - p.start, p.pnLength, p.payloadEnd - p.start, p.pn, keys);
}

/**
 * Protects every packet of a datagram the {@link PacketBuilder} finished, in
 * place, and returns the datagram (a view of the builder's buffer: send it
 * before the builder writes the next datagram). A packet type without keys
 * in `keys` is a UsageError (checked before anything is modified).
 */
export function protectDatagram(built: BuiltDatagram, keys: ProtectKeys): Uint8Array {
  const packets = built.packets;
  for (let i = 0; i < packets.length; i++) {
    if (protectKeysFor(keys, packets[i]!.type) === null) throw new UsageError(`no keys to protect a ${packets[i]!.type} packet`);
  }
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i]!;
    protectPacket(built.datagram, p, protectKeysFor(keys, p.type)!);
  }
  return built.datagram;
}
