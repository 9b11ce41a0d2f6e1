/**
 * QUIC packet headers, packet numbers, coalescing and a packet builder
 * (RFC 9000 sections 12.2, 14.1, 17 and appendix A; RFC 8999 for the
 * version-independent parts; RFC 9369 section 3.2 for v2's packet types).
 *
 * This module stops where packet protection starts. Decoding a datagram
 * gives each packet's cleartext header fields and its byte ranges (`start`,
 * `pnOffset`, `end`) without removing header protection: the first byte's
 * low bits (packet number length, reserved bits, key phase) and the packet
 * number are still masked until the protection layer removes the mask
 * (RFC 9001 section 5.4). The helpers at the end of the "header bits"
 * section read them once it has. The builder works the other way: it writes
 * unprotected packets, reserving room for the AEAD tag, and tells the caller
 * where each packet's parts are so it can protect them in place.
 */
import { EncodeError, ParseError, UsageError } from '../combinators/errors.js';
import { u32be } from '../combinators/primitives.js';
import { Source } from '../combinators/source.js';
import { Writer } from '../combinators/writer.js';
import { TransportError } from './errors.js';
import {
  encodeFrame,
  frameAllowedIn,
  frameSize,
  frameTypeCode,
  isAckEliciting,
  isCongestionControlled,
  need,
  readBytes,
  readU62,
  readU8,
  type EncodeFrameOptions,
  type Frame,
  type PacketType,
} from './frame.js';
import { QUIC_V1, QUIC_V2, SUPPORTED_VERSIONS } from './version.js';
import { AEAD_TAG_LENGTH } from './crypto/provider.js';

export type { PacketType } from './frame.js';

// ---------------------------------------------------------------------------------------------------
// versions and long packet types

export { QUIC_V1, QUIC_V2, SUPPORTED_VERSIONS, AEAD_TAG_LENGTH };

/** Packet types that use the long header and carry a version. */
export type LongPacketType = 'initial' | '0rtt' | 'handshake' | 'retry';

/**
 * The two Long Packet Type bits per version: RFC 9000 section 17.2 Table 5
 * for v1, RFC 9369 section 3.2 for v2 (which rotates them).
 */
export const LONG_PACKET_TYPE_BITS: Readonly<Record<number, Readonly<Record<LongPacketType, number>>>> = {
  [QUIC_V1]: { initial: 0b00, '0rtt': 0b01, handshake: 0b10, retry: 0b11 },
  [QUIC_V2]: { initial: 0b01, '0rtt': 0b10, handshake: 0b11, retry: 0b00 },
};

const LONG_TYPE_BY_BITS: Readonly<Record<number, readonly LongPacketType[]>> = Object.fromEntries(
  Object.entries(LONG_PACKET_TYPE_BITS).map(([v, bits]) => {
    const byBits: LongPacketType[] = [];
    for (const t of Object.keys(bits) as LongPacketType[]) byBits[bits[t]] = t;
    return [v, byBits];
  }),
);

/** Largest connection ID in QUIC v1 and v2 (RFC 9000 section 17.2); other versions may use up to 255 (RFC 8999). */
export const MAX_CID_LENGTH = 20;
/** Smallest datagram carrying an Initial packet (RFC 9000 section 14.1). */
export const MIN_INITIAL_DATAGRAM_SIZE = 1200;

// ---------------------------------------------------------------------------------------------------
// decoded headers

interface PacketRange {
  /** Offset of the packet's first byte in the datagram. */
  readonly start: number;
  /** Offset just past the packet (for long headers: the end given by the Length field). */
  readonly end: number;
}

interface LongHeaderCommon extends PacketRange {
  readonly version: number;
  readonly dcid: Uint8Array;
  readonly scid: Uint8Array;
}

/**
 * Initial, 0-RTT and Handshake packets. `pnOffset` (absolute, in the
 * datagram) is where the protected packet number starts; the Length field
 * covered `pnOffset..end` (packet number + payload + AEAD tag).
 */
export interface InitialPacketHeader extends LongHeaderCommon {
  readonly kind: 'initial';
  readonly token: Uint8Array;
  readonly pnOffset: number;
}
export interface ZeroRttPacketHeader extends LongHeaderCommon {
  readonly kind: '0rtt';
  readonly pnOffset: number;
}
export interface HandshakePacketHeader extends LongHeaderCommon {
  readonly kind: 'handshake';
  readonly pnOffset: number;
}
/** Retry (RFC 9000 section 17.2.5): not protected; extends to the end of the datagram. */
export interface RetryPacketHeader extends LongHeaderCommon {
  readonly kind: 'retry';
  readonly token: Uint8Array;
  /** The 16-byte Retry Integrity Tag (RFC 9001 section 5.8). */
  readonly integrityTag: Uint8Array;
}
/** Version Negotiation (RFC 9000 section 17.2.1): version 0; extends to the end of the datagram. */
export interface VersionNegotiationPacket extends PacketRange {
  readonly kind: 'version-negotiation';
  /** Up to 255 bytes each (RFC 8999 section 5.1). */
  readonly dcid: Uint8Array;
  readonly scid: Uint8Array;
  readonly versions: readonly number[];
}
/**
 * A long header of a version not in `versions`: only the invariant fields
 * (RFC 8999 section 5.1) are known, enough for a server to answer with
 * Version Negotiation. It extends to the end of the datagram.
 */
export interface UnsupportedVersionPacket extends LongHeaderCommon {
  readonly kind: 'unsupported-version';
}
/** 1-RTT (short header, RFC 9000 section 17.3.1): extends to the end of the datagram. */
export interface ShortPacketHeader extends PacketRange {
  readonly kind: '1rtt';
  readonly dcid: Uint8Array;
  readonly pnOffset: number;
}

export type PacketHeader =
  | InitialPacketHeader
  | ZeroRttPacketHeader
  | HandshakePacketHeader
  | RetryPacketHeader
  | VersionNegotiationPacket
  | UnsupportedVersionPacket
  | ShortPacketHeader;

/** Headers that are followed by a protected packet number and payload. */
export type ProtectedPacketHeader = InitialPacketHeader | ZeroRttPacketHeader | HandshakePacketHeader | ShortPacketHeader;

export interface DecodePacketOptions {
  /**
   * Length of the connection IDs this endpoint issued: the DCID length of
   * short-header packets, which do not carry it (RFC 9000 section 17.3).
   */
  readonly shortDcidLength: number;
  /** Versions whose long headers are fully parsed (default {@link SUPPORTED_VERSIONS}). */
  readonly versions?: readonly number[];
  /**
   * Accept a cleared fixed bit (0x40). Only after the peer sent
   * grease_quic_bit (RFC 9287 section 3); otherwise such packets "MUST be
   * discarded" (RFC 9000 sections 17.2 and 17.3.1).
   */
  readonly allowFixedBitZero?: boolean;
}

function malformed(s: Source, expected: string, detail?: string): never {
  throw new ParseError('ERR_MALFORMED', s.position, expected, detail);
}

function readCid(s: Source, max: number, what: string): Uint8Array {
  const len = readU8(s);
  if (len > max) malformed(s, `${what} length <= ${max}`, `length ${len}`);
  return readBytes(s, len, what);
}

/**
 * One Source reused for every header (decoding is synchronous and never
 * re-entered): a reset costs a fraction of a fresh `Source.complete`, and a
 * header is parsed per packet received. Values read from it are views into
 * the datagram, not into the Source.
 */
const HEADER_SOURCE = new Source();

/**
 * Decodes the header of the packet starting at `offset` in `datagram`.
 * Raises {@link ParseError} for a packet that must be dropped (truncated,
 * fixed bit cleared, connection ID too long, Length past the datagram). Byte
 * fields are views into `datagram`.
 */
export function decodePacketHeader(datagram: Uint8Array, offset: number, options: DecodePacketOptions): PacketHeader {
  const s = HEADER_SOURCE.resetComplete(datagram);
  if (offset > 0) s.skipBytes(offset, 'packet');
  const start = offset;
  const first = readU8(s);
  if ((first & 0x80) === 0) {
    // Short header (RFC 9000 section 17.3.1).
    if ((first & 0x40) === 0 && options.allowFixedBitZero !== true)
      malformed(s, 'fixed bit set', 'short header with the fixed bit cleared');
    const dcid = readBytes(s, options.shortDcidLength, 'Destination Connection ID');
    if (s.available === 0) malformed(s, 'packet number', 'short header without a packet number');
    return { kind: '1rtt', dcid, pnOffset: s.position, start, end: datagram.length };
  }
  const version = need(u32be.readFast(s), s, 'version');
  if (version === 0) {
    // Version Negotiation (RFC 9000 section 17.2.1): the Unused bits, fixed bit included, are arbitrary.
    const dcid = readCid(s, 255, 'Destination Connection ID');
    const scid = readCid(s, 255, 'Source Connection ID');
    const left = s.available;
    if (left % 4 !== 0) malformed(s, 'a list of 32-bit versions', `${left} bytes left`);
    const versions: number[] = [];
    for (let i = 0; i < left; i += 4) versions.push(need(u32be.readFast(s), s, 'Supported Version'));
    return { kind: 'version-negotiation', dcid, scid, versions, start, end: datagram.length };
  }
  const versions = options.versions ?? SUPPORTED_VERSIONS;
  const byBits = LONG_TYPE_BY_BITS[version];
  if (!versions.includes(version) || byBits === undefined) {
    // RFC 9000 section 17.2: servers "SHOULD be able to read longer connection IDs from other QUIC versions".
    const dcid = readCid(s, 255, 'Destination Connection ID');
    const scid = readCid(s, 255, 'Source Connection ID');
    return { kind: 'unsupported-version', version, dcid, scid, start, end: datagram.length };
  }
  if ((first & 0x40) === 0 && options.allowFixedBitZero !== true) malformed(s, 'fixed bit set', 'long header with the fixed bit cleared');
  // RFC 9000 section 17.2: "Endpoints that receive a version 1 long header with a value larger than 20 MUST drop the packet."
  const dcid = readCid(s, MAX_CID_LENGTH, 'Destination Connection ID');
  const scid = readCid(s, MAX_CID_LENGTH, 'Source Connection ID');
  const kind = byBits[(first >> 4) & 0x03]!;
  if (kind === 'retry') {
    const left = s.available;
    if (left < AEAD_TAG_LENGTH) throw new ParseError('ERR_UNEXPECTED_END', s.position, 'Retry Integrity Tag', `${left} bytes left`);
    const token = readBytes(s, left - AEAD_TAG_LENGTH, 'Retry Token');
    const integrityTag = readBytes(s, AEAD_TAG_LENGTH, 'Retry Integrity Tag');
    return { kind, version, dcid, scid, token, integrityTag, start, end: datagram.length };
  }
  const token = kind === 'initial' ? readBytes(s, readU62(s), 'Token') : null;
  const lengthAt = s.position;
  const length = readU62(s);
  const pnOffset = s.position;
  if (typeof length === 'bigint' || length > s.available) {
    throw new ParseError('ERR_UNEXPECTED_END', lengthAt, 'Length within the datagram', `Length ${length}, ${s.available} bytes left`);
  }
  // The packet number takes at least one byte (RFC 9000 section 17.1).
  if (length === 0) malformed(s, 'packet number', 'Length 0');
  const end = pnOffset + length;
  if (kind === 'initial') return { kind, version, dcid, scid, token: token!, pnOffset, start, end };
  return { kind, version, dcid, scid, pnOffset, start, end };
}

/** The packets of one datagram, and why parsing stopped early, if it did. */
export interface DecodedDatagram {
  /** Every packet whose header parsed, in order. */
  readonly packets: PacketHeader[];
  /**
   * The error that stopped parsing at `errorOffset` (null when the whole
   * datagram parsed). Packets before it are still valid: RFC 9000 section
   * 14.1 notes Initial packets "can even be coalesced with invalid packets,
   * which a receiver will discard".
   */
  readonly error: ParseError | null;
  readonly errorOffset: number;
}

/**
 * Splits a datagram into its coalesced packets (RFC 9000 section 12.2):
 * long-header packets delimited by their Length field, then possibly one
 * packet that runs to the end (short header, Retry, Version Negotiation, or
 * an unsupported version). Never throws for bad bytes: a malformed part ends
 * the list and is reported in `error`. Checking that every packet has the
 * same Destination Connection ID as the first ("Receivers SHOULD ignore any
 * subsequent packets with a different Destination Connection ID") is left
 * to the caller, who knows which packets it can route.
 */
export function decodeDatagram(datagram: Uint8Array, options: DecodePacketOptions): DecodedDatagram {
  const packets: PacketHeader[] = [];
  if (datagram.length === 0) return { packets, error: new ParseError('ERR_UNEXPECTED_END', 0, 'a packet'), errorOffset: 0 };
  let off = 0;
  while (off < datagram.length) {
    let h: PacketHeader;
    try {
      h = decodePacketHeader(datagram, off, options);
    } catch (e) {
      if (e instanceof ParseError) return { packets, error: e, errorOffset: off };
      throw e;
    }
    packets.push(h);
    off = h.end;
  }
  return { packets, error: null, errorOffset: datagram.length };
}

// ---------------------------------------------------------------------------------------------------
// header bits readable once header protection is removed (RFC 9000 sections 17.2, 17.3.1)

/** Packet Number Length bits of an unprotected first byte: 1 to 4. */
export function packetNumberLengthOf(firstByte: number): 1 | 2 | 3 | 4 {
  return ((firstByte & 0x03) + 1) as 1 | 2 | 3 | 4;
}

/** Key Phase bit of an unprotected short header. */
export function keyPhaseOf(firstByte: number): 0 | 1 {
  return ((firstByte >> 2) & 1) as 0 | 1;
}

/** Latency spin bit of a short header (not protected). */
export function spinBitOf(firstByte: number): 0 | 1 {
  return ((firstByte >> 5) & 1) as 0 | 1;
}

/**
 * Checks the Reserved Bits of an unprotected first byte: 0x0c in long
 * headers, 0x18 in short headers. RFC 9000 sections 17.2 and 17.3.1: "An
 * endpoint MUST treat receipt of a packet that has a non-zero value for these
 * bits after removing both packet and header protection as a connection
 * error of type PROTOCOL_VIOLATION" — so call this after the AEAD opened the
 * payload, never before (RFC 9001 section 9.5).
 */
export function checkReservedBits(firstByte: number): void {
  const mask = firstByte & 0x80 ? 0x0c : 0x18;
  if ((firstByte & mask) !== 0) {
    throw new TransportError('PROTOCOL_VIOLATION', `reserved header bits set (first byte 0x${firstByte.toString(16)})`);
  }
}

/** The truncated packet number at `bytes[pnOffset..pnOffset+pnLength)`, big-endian (after unmasking). */
export function readTruncatedPacketNumber(bytes: Uint8Array, pnOffset: number, pnLength: 1 | 2 | 3 | 4): number {
  if (pnOffset < 0 || pnOffset + pnLength > bytes.length) {
    throw new ParseError('ERR_UNEXPECTED_END', pnOffset, `${pnLength}-byte packet number`);
  }
  let v = 0;
  for (let i = 0; i < pnLength; i++) v = v * 256 + bytes[pnOffset + i]!;
  return v;
}

// ---------------------------------------------------------------------------------------------------
// packet numbers (RFC 9000 section 17.1, appendices A.2 and A.3)

const PN_WINDOW = [0, 2 ** 8, 2 ** 16, 2 ** 24, 2 ** 32] as const;

/**
 * How many bytes to encode `pn` in (RFC 9000 appendix A.2): enough to
 * represent more than twice the distance from the largest acknowledged
 * packet, i.e. the smallest L with `num_unacked <= 2^(8L - 1)`.
 * `largestAcked` null: nothing acknowledged yet in this space. Raises
 * EncodeError when more than 2^31 packets are unacknowledged.
 */
export function choosePacketNumberLength(pn: number, largestAcked: number | null): 1 | 2 | 3 | 4 {
  const numUnacked = largestAcked === null ? pn + 1 : pn - largestAcked;
  if (!Number.isSafeInteger(pn) || pn < 0 || !(numUnacked >= 1)) {
    throw new EncodeError('ERR_ENCODE_RANGE', `packet number ${pn} with largest acknowledged ${largestAcked}`);
  }
  if (numUnacked <= 2 ** 7) return 1;
  if (numUnacked <= 2 ** 15) return 2;
  if (numUnacked <= 2 ** 23) return 3;
  if (numUnacked <= 2 ** 31) return 4;
  throw new EncodeError('ERR_ENCODE_RANGE', `${numUnacked} unacknowledged packets: no packet number encoding is long enough`);
}

/** The low `pnLength` bytes of `pn`, as a number. */
export function truncatePacketNumber(pn: number, pnLength: 1 | 2 | 3 | 4): number {
  return pn % PN_WINDOW[pnLength];
}

/** Writes the low `pnLength` bytes of `pn`, big-endian. */
export function encodePacketNumber(w: Writer, pn: number, pnLength: 1 | 2 | 3 | 4): void {
  if (!Number.isSafeInteger(pn) || pn < 0) throw new EncodeError('ERR_ENCODE_RANGE', `packet number ${pn}`);
  const t = pn % PN_WINDOW[pnLength];
  if (pnLength === 1) w.u8(t);
  else if (pnLength === 2) w.u16be(t);
  else if (pnLength === 3) w.u24be(t);
  else w.u32be(t);
}

/**
 * Recovers a full packet number from its truncated form (RFC 9000 appendix
 * A.3): the value closest to `largestPn + 1` whose low bits are `truncated`.
 * `largestPn` is the largest packet number successfully processed in this
 * space, or null before the first. Exact for packet numbers below
 * 2^53 - 2^32 (a connection never gets near them).
 */
export function decodePacketNumber(largestPn: number | null, truncated: number, pnLength: 1 | 2 | 3 | 4): number {
  const win = PN_WINDOW[pnLength];
  if (!(truncated >= 0 && truncated < win) || !Number.isInteger(truncated)) {
    throw new UsageError(`truncated packet number ${truncated} does not fit ${pnLength} bytes`);
  }
  const expected = largestPn === null ? 0 : largestPn + 1;
  const hwin = win / 2;
  // (expected_pn & ~pn_mask) | truncated_pn, without 32-bit bitwise operators.
  const candidate = expected - (expected % win) + truncated;
  if (candidate <= expected - hwin && candidate < 2 ** 62 - win) return candidate + win;
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}

// ---------------------------------------------------------------------------------------------------
// Version Negotiation and Retry (no frames, no packet protection)

export interface VersionNegotiationFields {
  /** The client's Source Connection ID (RFC 9000 section 17.2.1). */
  readonly dcid: Uint8Array;
  /** The client's Destination Connection ID. */
  readonly scid: Uint8Array;
  readonly versions: readonly number[];
  /**
   * The 7 Unused bits of the first byte. Default 0x40: "servers SHOULD set
   * the most significant bit of this field (0x40) to 1" (section 17.2.1).
   */
  readonly unusedBits?: number;
}

/** Writes a Version Negotiation packet (RFC 9000 section 17.2.1). */
export function encodeVersionNegotiation(w: Writer, p: VersionNegotiationFields): void {
  if (p.dcid.length > 255 || p.scid.length > 255) throw new EncodeError('ERR_ENCODE_RANGE', 'connection ID longer than 255 bytes');
  w.u8(0x80 | ((p.unusedBits ?? 0x40) & 0x7f)).u32be(0);
  w.u8(p.dcid.length).bytes(p.dcid).u8(p.scid.length).bytes(p.scid);
  for (const v of p.versions) w.u32be(v);
}

export interface RetryFields {
  readonly version: number;
  readonly dcid: Uint8Array;
  readonly scid: Uint8Array;
  /** Must not be empty (a client discards a Retry with an empty token, section 17.2.5.2). */
  readonly token: Uint8Array;
  /** 16 bytes, computed over {@link encodeRetryPseudoPacket} (RFC 9001 section 5.8). */
  readonly integrityTag: Uint8Array;
  /** The 4 Unused bits (default 0). */
  readonly unusedBits?: number;
}

function longFirstByte(version: number, type: LongPacketType, low: number): number {
  const bits = LONG_PACKET_TYPE_BITS[version];
  if (bits === undefined) throw new EncodeError('ERR_ENCODE_RANGE', `no long packet types known for version 0x${version.toString(16)}`);
  return 0xc0 | (bits[type] << 4) | (low & 0x0f);
}

function writeLongPrefix(w: Writer, first: number, version: number, dcid: Uint8Array, scid: Uint8Array): void {
  if (dcid.length > MAX_CID_LENGTH || scid.length > MAX_CID_LENGTH)
    throw new EncodeError('ERR_ENCODE_RANGE', 'connection ID longer than 20 bytes');
  w.u8(first).u32be(version).u8(dcid.length).bytes(dcid).u8(scid.length).bytes(scid);
}

/** Writes a Retry packet (RFC 9000 section 17.2.5). */
export function encodeRetry(w: Writer, p: RetryFields): void {
  if (p.integrityTag.length !== AEAD_TAG_LENGTH) throw new EncodeError('ERR_ENCODE_RANGE', 'Retry Integrity Tag must be 16 bytes');
  if (p.token.length === 0) throw new EncodeError('ERR_ENCODE_RANGE', 'Retry Token must not be empty');
  writeLongPrefix(w, longFirstByte(p.version, 'retry', p.unusedBits ?? 0), p.version, p.dcid, p.scid);
  w.bytes(p.token).bytes(p.integrityTag);
}

/**
 * The Retry Pseudo-Packet the integrity tag is computed over (RFC 9001
 * section 5.8): ODCID Length, Original Destination Connection ID, then the
 * Retry packet without its tag.
 */
export function encodeRetryPseudoPacket(originalDcid: Uint8Array, retryWithoutTag: Uint8Array): Uint8Array {
  if (originalDcid.length > 255) throw new EncodeError('ERR_ENCODE_RANGE', 'ODCID longer than 255 bytes');
  const out = new Uint8Array(1 + originalDcid.length + retryWithoutTag.length);
  out[0] = originalDcid.length;
  out.set(originalDcid, 1);
  out.set(retryWithoutTag, 1 + originalDcid.length);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// the packet builder

interface PacketNumberChoice {
  readonly pn: number;
  /** Explicit length; by default chosen from `largestAcked` (RFC 9000 appendix A.2). */
  readonly pnLength?: 1 | 2 | 3 | 4;
  /** Largest packet number the peer acknowledged in this space (null or absent: none yet). */
  readonly largestAcked?: number | null;
}

export interface LongPacketFields extends PacketNumberChoice {
  readonly type: 'initial' | '0rtt' | 'handshake';
  readonly version: number;
  readonly dcid: Uint8Array;
  readonly scid: Uint8Array;
  /** Initial only: the token from a Retry or NEW_TOKEN (default empty). */
  readonly token?: Uint8Array;
}

export interface ShortPacketFields extends PacketNumberChoice {
  readonly dcid: Uint8Array;
  readonly spin?: boolean;
  readonly keyPhase?: boolean;
}

/** Where a finished packet lies in the datagram, for the protection step. */
export interface BuiltPacket {
  readonly type: PacketType;
  readonly pn: number;
  readonly pnLength: 1 | 2 | 3 | 4;
  /** Offset of the first byte (the one header protection masks). */
  readonly start: number;
  /** Offset of the packet number field: header is `start..pnOffset + pnLength`. */
  readonly pnOffset: number;
  /** Offset of the first frame byte (= pnOffset + pnLength). */
  readonly payloadOffset: number;
  /** End of the plaintext payload; the AEAD tag goes at `payloadEnd..end`. */
  readonly payloadEnd: number;
  readonly end: number;
  /** Contains an ack-eliciting frame (RFC 9000 section 13.2). */
  readonly ackEliciting: boolean;
  /** Counts toward bytes in flight (contains a frame other than ACK; RFC 9002 section 2). */
  readonly inFlight: boolean;
}

export interface BuiltDatagram {
  /** View of the builder's buffer: valid until the builder writes the next datagram. */
  readonly datagram: Uint8Array;
  readonly packets: readonly BuiltPacket[];
}

export interface PacketBuilderOptions {
  /** Size budget of one datagram (path MTU less IP/UDP headers, and at most the peer's max_udp_payload_size). */
  readonly maxDatagramSize: number;
  /**
   * Who sends: a client pads every datagram carrying an Initial to 1200
   * bytes, a server only those carrying an ack-eliciting Initial (RFC 9000
   * section 14.1).
   */
  readonly role: 'client' | 'server';
  /** Buffer to write into, reused for every datagram (default: a new one of maxDatagramSize bytes). */
  readonly buffer?: Uint8Array;
  /** Bytes reserved after each payload for the AEAD tag (default 16, RFC 9001 section 5.3). */
  readonly tagLength?: number;
}

interface OpenPacket {
  type: PacketType;
  pn: number;
  pnLength: 1 | 2 | 3 | 4;
  start: number;
  /** offset of the reserved Length field, -1 for a short header */
  lengthAt: number;
  pnOffset: number;
  payloadOffset: number;
  ackEliciting: boolean;
  inFlight: boolean;
  /** a frame without a Length field was written last: nothing may follow it */
  closed: boolean;
}

/** Minimum of pnLength + payload so header protection has its 16-byte sample (RFC 9001 section 5.4.2). */
const MIN_PN_AND_PAYLOAD = 4;

/**
 * Fills a datagram with one or more coalesced packets, unprotected, up to a
 * size budget (RFC 9000 sections 12.2 and 14.1):
 *
 * ```ts
 * const b = new PacketBuilder({ maxDatagramSize: 1200, role: 'client' });
 * b.startLong({ type: 'initial', version: QUIC_V1, dcid, scid, pn: 0 });
 * b.addFrame({ type: 'crypto', offset: 0, data: clientHello }); // false: no room
 * const out = b.finishDatagram(); // padded to 1200 (it carries an Initial)
 * for (const p of out.packets) protect(out.datagram, p);         // seal payload, then mask header
 * ```
 *
 * Long headers get a 2-byte Length field (4 bytes when the budget exceeds
 * 16383), back-filled when the packet is finished; `tagLength` bytes after
 * each payload are left zero for the AEAD tag. A packet with no frames is
 * dropped when finished (its packet number unused). A packet shorter than
 * header protection needs is padded (RFC 9001 section 5.4.2), and a datagram
 * that must reach 1200 bytes gets PADDING frames in its last packet.
 */
export class PacketBuilder {
  readonly maxDatagramSize: number;
  readonly tagLength: number;
  readonly role: 'client' | 'server';
  private readonly w: Writer;
  private readonly lengthWidth: 2 | 4;
  private open: OpenPacket | null = null;

  private built: BuiltPacket[] = [];
  /** a short-header packet was finished: nothing can follow it in this datagram */
  private ended = false;
  /** Length field offset (-1: short header) and closed flag of the last finished packet, for padding it later */
  private lastLengthAt = -1;
  private lastClosed = false;

  constructor(options: PacketBuilderOptions) {
    const size = options.maxDatagramSize;
    if (!Number.isInteger(size) || size < 21 || size > 65527) throw new UsageError(`maxDatagramSize ${size} outside 21..65527`);
    const buffer = options.buffer ?? new Uint8Array(size);
    if (buffer.length < size) throw new UsageError(`buffer of ${buffer.length} bytes is smaller than maxDatagramSize ${size}`);
    this.maxDatagramSize = size;
    this.role = options.role;
    this.tagLength = options.tagLength ?? AEAD_TAG_LENGTH;
    this.w = new Writer({ buffer: buffer.subarray(0, size) });
    this.lengthWidth = size <= 0x3fff ? 2 : 4;
  }

  /** Bytes written to the datagram so far. */
  get size(): number {
    return this.w.pos;
  }

  /** Packets finished in the current datagram. */
  get packets(): readonly BuiltPacket[] {
    return this.built;
  }

  /** True while a packet is open for frames. */
  get isOpen(): boolean {
    return this.open !== null;
  }

  /** Frame bytes that still fit in the open packet (0 when none is open or it is closed by an implicit-length frame). */
  get room(): number {
    const p = this.open;
    if (p === null || p.closed) return 0;
    return Math.max(0, this.maxDatagramSize - this.w.pos - this.tagLength);
  }

  /**
   * Starts a long-header packet (finishing the open one). Returns false,
   * writing nothing, when the datagram has no room for it (header, at least
   * one frame byte and the tag) or a short-header packet already ends it.
   */
  startLong(h: LongPacketFields): boolean {
    this.finishPacket();
    const pnLength = h.pnLength ?? choosePacketNumberLength(h.pn, h.largestAcked ?? null);
    const token = h.token ?? EMPTY;
    if (h.type !== 'initial' && token.length > 0) throw new UsageError('only Initial packets carry a token');
    const headerLength =
      7 + h.dcid.length + h.scid.length + (h.type === 'initial' ? sizeOfVarint(token.length) + token.length : 0) + this.lengthWidth;
    if (!this.fits(headerLength, pnLength)) return false;
    const w = this.w;
    const start = w.pos;
    writeLongPrefix(w, longFirstByte(h.version, h.type, pnLength - 1), h.version, h.dcid, h.scid);
    if (h.type === 'initial') w.varint(token.length).bytes(token);
    const lengthAt = w.pos;
    w.zeros(this.lengthWidth);
    this.begin(h.type, h.pn, pnLength, start, lengthAt);
    return true;
  }

  /** Starts a 1-RTT packet (short header); it must be the last packet of the datagram. Returns false when it does not fit. */
  startShort(h: ShortPacketFields): boolean {
    this.finishPacket();
    const pnLength = h.pnLength ?? choosePacketNumberLength(h.pn, h.largestAcked ?? null);
    if (h.dcid.length > MAX_CID_LENGTH) throw new EncodeError('ERR_ENCODE_RANGE', 'connection ID longer than 20 bytes');
    if (!this.fits(1 + h.dcid.length, pnLength)) return false;
    const w = this.w;
    const start = w.pos;
    w.u8(0x40 | (h.spin ? 0x20 : 0) | (h.keyPhase ? 0x04 : 0) | (pnLength - 1)).bytes(h.dcid);
    this.begin('1rtt', h.pn, pnLength, start, -1);
    return true;
  }

  /**
   * Adds a frame to the open packet if it fits; returns false (writing
   * nothing) if not. `implicitLength` (STREAM, DATAGRAM) omits the Length
   * field: the frame then runs to the end of the packet and nothing more can
   * be added to it. A frame the packet type may not carry (RFC 9000 section
   * 12.4) is a UsageError.
   */
  addFrame(frame: Frame, options: EncodeFrameOptions = NO_FRAME_OPTIONS): boolean {
    const p = this.open;
    if (p === null) throw new UsageError('addFrame() without an open packet');
    if (p.closed) return false;
    const code = frameTypeCode(frame, options);
    if (!frameAllowedIn(code, p.type)) throw new UsageError(`frame type 0x${code.toString(16)} is not allowed in a ${p.type} packet`);
    if (frameSize(frame, options) > this.room) return false;
    encodeFrame(this.w, frame, options);
    if (isAckEliciting(frame)) p.ackEliciting = true;
    if (isCongestionControlled(frame)) p.inFlight = true;
    if (options.implicitLength === true && (frame.type === 'stream' || frame.type === 'datagram')) p.closed = true;
    return true;
  }

  /**
   * Finishes the open packet: pads it for header protection if needed,
   * reserves the tag, back-fills Length. Returns its layout, or null when no
   * packet was open or it had no frames (then nothing of it remains).
   */
  finishPacket(): BuiltPacket | null {
    const p = this.open;
    if (p === null) return null;
    this.open = null;
    const w = this.w;
    if (w.pos === p.payloadOffset) {
      w.pos = p.start;
      return null;
    }
    const short = MIN_PN_AND_PAYLOAD - p.pnLength - (w.pos - p.payloadOffset);
    if (short > 0) {
      this.insertPadding(p, w.pos, short);
      p.inFlight = true; // PADDING counts toward bytes in flight (RFC 9000 Table 3: not "C")
    }
    const payloadEnd = w.pos;
    w.zeros(this.tagLength);
    const packet: BuiltPacket = {
      type: p.type,
      pn: p.pn,
      pnLength: p.pnLength,
      start: p.start,
      pnOffset: p.pnOffset,
      payloadOffset: p.payloadOffset,
      payloadEnd,
      end: w.pos,
      ackEliciting: p.ackEliciting,
      inFlight: p.inFlight,
    };
    this.writeLength(packet, p.lengthAt);
    this.lastLengthAt = p.lengthAt;
    this.lastClosed = p.closed;
    this.built.push(packet);
    if (p.type === '1rtt') this.ended = true;
    return packet;
  }

  /**
   * Finishes the open packet and the datagram. Pads it to `padTo` bytes
   * with PADDING frames in its last packet; by default to 1200 when it
   * carries an Initial that must be padded (RFC 9000 section 14.1: every
   * client Initial, ack-eliciting server Initials). Returns null when the
   * datagram is empty. The builder is then ready for the next datagram, in
   * the same buffer.
   */
  finishDatagram(options: { readonly padTo?: number } = NO_PAD_OPTIONS): BuiltDatagram | null {
    this.finishPacket();
    const packets = this.built;
    this.built = [];
    this.ended = false;
    const last = packets[packets.length - 1];
    if (last === undefined) {
      this.w.pos = 0;
      return null;
    }
    let mustPad = false;
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i]!;
      if (p.type === 'initial' && (this.role === 'client' || p.ackEliciting)) mustPad = true;
    }
    const padTo = options.padTo ?? (mustPad ? MIN_INITIAL_DATAGRAM_SIZE : 0);
    if (padTo > this.maxDatagramSize) throw new UsageError(`cannot pad to ${padTo} bytes with a budget of ${this.maxDatagramSize}`);
    const extra = padTo - this.w.pos;
    if (extra > 0) packets[packets.length - 1] = this.padFinished(last, extra);
    // A full datagram (the usual case when sending data) is the whole buffer: no view to create.
    const w = this.w;
    const datagram = w.pos === w.buf.length ? w.buf : w.finish();
    w.pos = 0;
    return { datagram, packets };
  }

  private fits(headerLength: number, pnLength: number): boolean {
    // Header, packet number, at least one frame byte padded to the sample minimum, and the tag.
    const minPayload = Math.max(1, MIN_PN_AND_PAYLOAD - pnLength);
    return !this.ended && this.w.pos + headerLength + pnLength + minPayload + this.tagLength <= this.maxDatagramSize;
  }

  private begin(type: PacketType, pn: number, pnLength: 1 | 2 | 3 | 4, start: number, lengthAt: number): void {
    const pnOffset = this.w.pos;
    encodePacketNumber(this.w, pn, pnLength);
    this.open = {
      type,
      pn,
      pnLength,
      start,
      lengthAt,
      pnOffset,
      payloadOffset: this.w.pos,
      ackEliciting: false,
      inFlight: false,
      closed: false,
    };
  }

  /**
   * Writes `n` PADDING bytes into a payload ending at `payloadEnd` (= w.pos):
   * at its end, or at its start when its last frame has no Length field.
   */
  private insertPadding(p: { payloadOffset: number; closed: boolean }, payloadEnd: number, n: number): void {
    const w = this.w;
    if (payloadEnd + n + this.tagLength > this.maxDatagramSize) throw new UsageError('no room left to pad the packet');
    w.zeros(n);
    if (p.closed) {
      w.buf.copyWithin(p.payloadOffset + n, p.payloadOffset, payloadEnd);
      w.buf.fill(0, p.payloadOffset, p.payloadOffset + n);
    }
  }

  /** Pads the last finished packet (it ends at w.pos) by `n` bytes. */
  private padFinished(p: BuiltPacket, n: number): BuiltPacket {
    const w = this.w;
    // Drop the reserved tag, pad the payload, reserve the tag again.
    w.pos = p.payloadEnd;
    this.insertPadding({ payloadOffset: p.payloadOffset, closed: this.lastClosed }, p.payloadEnd, n);
    const payloadEnd = w.pos;
    w.zeros(this.tagLength);
    const padded: BuiltPacket = { ...p, payloadEnd, end: w.pos, inFlight: true };
    this.writeLength(padded, this.lastLengthAt);
    return padded;
  }

  private writeLength(p: BuiltPacket, lengthAt: number): void {
    if (lengthAt < 0) return;
    const w = this.w;
    const end = w.pos;
    w.pos = lengthAt;
    // The Length field covers the packet number and the protected payload, tag included (RFC 9000 section 17.2).
    w.varint(p.end - p.pnOffset, this.lengthWidth);
    w.pos = end;
  }
}

const EMPTY = new Uint8Array(0);
/** Default options shared by every call (a `{}` default would be allocated per call). */
const NO_FRAME_OPTIONS: EncodeFrameOptions = Object.freeze({});
const NO_PAD_OPTIONS: { readonly padTo?: number } = Object.freeze({});

function sizeOfVarint(n: number): number {
  return n < 0x40 ? 1 : n < 0x4000 ? 2 : n < 0x40000000 ? 4 : 8;
}
