/**
 * QUIC frames (RFC 9000 sections 12.4 and 19; DATAGRAM from RFC 9221):
 * one table of frame types, a discriminated union {@link Frame}, and for each
 * frame a decoder, an encoder and an exact size.
 *
 * Decoding runs on a complete-mode {@link Source} over the packet payload (a
 * decrypted payload is always whole), through the combinators' fast paths:
 * no generator, no copy. STREAM, CRYPTO, DATAGRAM, NEW_TOKEN, PATH_* and
 * CONNECTION_CLOSE bytes are views into the payload (borrowed: copy them
 * with `.slice()` to keep them past the payload buffer's reuse).
 *
 * ## Numbers
 *
 * Every integer on the wire is a varint up to 2^62 - 1. The union uses
 * `number` wherever a value can be kept below 2^53 - 1, and says how:
 *
 * - Positions this endpoint validates — stream IDs, stream and CRYPTO
 *   offsets (and `offset + data.length`), final sizes, packet numbers in ACK
 *   frames, connection ID sequence numbers — are exact numbers. A value above
 *   2^53 - 1 could only be legitimate if this endpoint had advertised a limit
 *   that large, which it never does (no connection may advertise stream or
 *   data limits above 2^53 - 1, nor send 2^53 packets or connection IDs), so
 *   the decoder raises the error the RFC gives for exceeding the limit:
 *   STREAM_LIMIT_ERROR (stream IDs), FLOW_CONTROL_ERROR (stream data, final
 *   sizes), CRYPTO_BUFFER_EXCEEDED (CRYPTO data), PROTOCOL_VIOLATION (ACK of a
 *   packet never sent, RFC 9000 section 13.1; connection ID sequence numbers,
 *   sections 5.1.1 and 19.16). Beyond 2^62 - 1 the RFC's own
 *   FRAME_ENCODING_ERROR wins.
 * - Limits and counters the peer gives us — MAX_DATA, MAX_STREAM_DATA,
 *   MAX_STREAMS, the *_BLOCKED values, ACK Delay, ECN counts — saturate at
 *   2^53 - 1 (`Number.MAX_SAFE_INTEGER`): a credit that large can never be
 *   used up, and the peers do send 2^62 - 1 as "unlimited" (RFC 9001 A.2's
 *   ClientHello advertises initial_max_data = 2^62 - 1).
 * - Opaque codes — application error codes of RESET_STREAM, STOP_SENDING and
 *   CONNECTION_CLOSE — are `bigint`, exact over 62 bits (HTTP/3 reserves
 *   GREASE codes up to 2^62).
 */
import { EncodeError, ParseError } from '../combinators/errors.js';
import { Parser } from '../combinators/parser.js';
import { u8, varint, varintBig } from '../combinators/primitives.js';
import { INCOMPLETE, Source, type Incomplete } from '../combinators/source.js';
import { varintSize, type Writer } from '../combinators/writer.js';
import { frameEncodingError, TransportError, type TransportErrorName } from './errors.js';

// ---------------------------------------------------------------------------------------------------
// the table

/** Packet types that carry frames (RFC 9000 section 12.4, Table 3 "Pkts" column). */
export type PacketType = 'initial' | '0rtt' | 'handshake' | '1rtt';

/** One row of RFC 9000 Table 3, with its "Spec" letters turned into flags. */
export interface FrameTypeInfo {
  /** First and last type value of the range. */
  readonly code: number;
  readonly last: number;
  /** The RFC's name, e.g. `RESET_STREAM`. */
  readonly name: string;
  /**
   * The "Pkts" column: I = Initial, H = Handshake, 0 = 0-RTT, 1 = 1-RTT,
   * `_` = not allowed; lower-case `ih` = only the first code of the range
   * (CONNECTION_CLOSE 0x1c).
   */
  readonly packets: string;
  /** False for "N": a packet of only such frames is not ack-eliciting (section 13.2). */
  readonly ackEliciting: boolean;
  /** False for "C": such frames do not count toward bytes in flight (RFC 9002). */
  readonly congestionControlled: boolean;
  /** "P": allowed in a packet probing a new path (section 9.1). */
  readonly probing: boolean;
  /** "F": the contents count toward flow control (section 4). */
  readonly flowControlled: boolean;
}

const row = (code: number, last: number, name: string, packets: string, spec: '' | 'N' | 'NC' | 'NP' | 'P' | 'F'): FrameTypeInfo => ({
  code,
  last,
  name,
  packets,
  ackEliciting: !spec.includes('N'),
  congestionControlled: !spec.includes('C'),
  probing: spec.includes('P'),
  flowControlled: spec.includes('F'),
});

/**
 * Every frame type, once: RFC 9000 section 12.4 Table 3 (type values, "Pkts"
 * and "Spec" columns, as printed there), plus DATAGRAM from RFC 9221 sections
 * 4 and 5 (0-RTT and 1-RTT only; ack-eliciting, congestion controlled, not
 * flow controlled). Everything else in this module derives from it.
 */
export const FRAME_TYPES = {
  padding: row(0x00, 0x00, 'PADDING', 'IH01', 'NP'),
  ping: row(0x01, 0x01, 'PING', 'IH01', ''),
  ack: row(0x02, 0x03, 'ACK', 'IH_1', 'NC'),
  'reset-stream': row(0x04, 0x04, 'RESET_STREAM', '__01', ''),
  'stop-sending': row(0x05, 0x05, 'STOP_SENDING', '__01', ''),
  crypto: row(0x06, 0x06, 'CRYPTO', 'IH_1', ''),
  'new-token': row(0x07, 0x07, 'NEW_TOKEN', '___1', ''),
  stream: row(0x08, 0x0f, 'STREAM', '__01', 'F'),
  'max-data': row(0x10, 0x10, 'MAX_DATA', '__01', ''),
  'max-stream-data': row(0x11, 0x11, 'MAX_STREAM_DATA', '__01', ''),
  'max-streams': row(0x12, 0x13, 'MAX_STREAMS', '__01', ''),
  'data-blocked': row(0x14, 0x14, 'DATA_BLOCKED', '__01', ''),
  'stream-data-blocked': row(0x15, 0x15, 'STREAM_DATA_BLOCKED', '__01', ''),
  'streams-blocked': row(0x16, 0x17, 'STREAMS_BLOCKED', '__01', ''),
  'new-connection-id': row(0x18, 0x18, 'NEW_CONNECTION_ID', '__01', 'P'),
  'retire-connection-id': row(0x19, 0x19, 'RETIRE_CONNECTION_ID', '__01', ''),
  'path-challenge': row(0x1a, 0x1a, 'PATH_CHALLENGE', '__01', 'P'),
  'path-response': row(0x1b, 0x1b, 'PATH_RESPONSE', '___1', 'P'),
  'connection-close': row(0x1c, 0x1d, 'CONNECTION_CLOSE', 'ih01', 'N'),
  'handshake-done': row(0x1e, 0x1e, 'HANDSHAKE_DONE', '___1', ''),
  datagram: row(0x30, 0x31, 'DATAGRAM', '__01', ''),
} as const satisfies Record<string, FrameTypeInfo>;

export type FrameKind = keyof typeof FRAME_TYPES;

const PACKET_BIT: Readonly<Record<PacketType, number>> = { initial: 1, handshake: 2, '0rtt': 4, '1rtt': 8 };
const PKTS_ORDER = ['initial', 'handshake', '0rtt', '1rtt'] as const;

/** Per type code (0x00..0x31): the kind and a bit mask of the packet types allowed to carry it. */
const BY_CODE: ({ readonly kind: FrameKind; readonly packets: number } | undefined)[] = [];
for (const kind of Object.keys(FRAME_TYPES) as FrameKind[]) {
  const t = FRAME_TYPES[kind];
  for (let code = t.code; code <= t.last; code++) {
    let mask = 0;
    for (let i = 0; i < 4; i++) {
      const c = t.packets[i]!;
      // Lower case: only the first code of the range (RFC 9000 Table 3, "ih": CONNECTION_CLOSE 0x1c only).
      if (c !== '_' && (c === c.toUpperCase() || code === t.code)) mask |= PACKET_BIT[PKTS_ORDER[i]!];
    }
    BY_CODE[code] = { kind, packets: mask };
  }
}

/** The table row of a frame type code, or undefined for an unknown type. */
export function frameKindOf(typeCode: number): FrameKind | undefined {
  return BY_CODE[typeCode]?.kind;
}

/** True if a frame with this type code may appear in this packet type (RFC 9000 section 12.4, Table 3). */
export function frameAllowedIn(typeCode: number, packetType: PacketType): boolean {
  const row = BY_CODE[typeCode];
  return row !== undefined && (row.packets & PACKET_BIT[packetType]) !== 0;
}

/** A packet with any of these frames must be acknowledged (RFC 9000 section 13.2; "N" in Table 3). */
export function isAckEliciting(frame: Frame): boolean {
  return FRAME_TYPES[frame.type].ackEliciting;
}

/** Counts toward bytes in flight (RFC 9002 section 2; every frame but ACK, "C" in Table 3). */
export function isCongestionControlled(frame: Frame): boolean {
  return FRAME_TYPES[frame.type].congestionControlled;
}

/** A packet made only of probing frames may probe a new path (RFC 9000 section 9.1; "P" in Table 3). */
export function isProbing(frame: Frame): boolean {
  return FRAME_TYPES[frame.type].probing;
}

// ---------------------------------------------------------------------------------------------------
// the frames

/** One or more consecutive PADDING bytes (decoded as one frame; `length` bytes of 0x00). */
export interface PaddingFrame {
  readonly type: 'padding';
  readonly length: number;
}
export interface PingFrame {
  readonly type: 'ping';
}
/** An acknowledged range, both ends inclusive: `[smallest, largest]`. */
export type AckRange = readonly [smallest: number, largest: number];
/** ECN counts of an ACK frame of type 0x03 (RFC 9000 section 19.3.2); saturating at 2^53 - 1. */
export interface EcnCounts {
  readonly ect0: number;
  readonly ect1: number;
  readonly ce: number;
}
/**
 * ACK (RFC 9000 section 19.3). `ranges` in descending order, the first one
 * holding the Largest Acknowledged; consecutive ranges are separated by at
 * least one missing packet number. `ackDelay` is the raw field (multiply by
 * 2^ack_delay_exponent for microseconds), saturating at 2^53 - 1.
 */
export interface AckFrame {
  readonly type: 'ack';
  readonly ackDelay: number;
  readonly ranges: readonly AckRange[];
  readonly ecn: EcnCounts | null;
}
export interface ResetStreamFrame {
  readonly type: 'reset-stream';
  readonly streamId: number;
  readonly errorCode: bigint;
  readonly finalSize: number;
}
export interface StopSendingFrame {
  readonly type: 'stop-sending';
  readonly streamId: number;
  readonly errorCode: bigint;
}
/** CRYPTO: `offset + data.length` <= 2^53 - 1 after decoding. */
export interface CryptoFrame {
  readonly type: 'crypto';
  readonly offset: number;
  readonly data: Uint8Array;
}
export interface NewTokenFrame {
  readonly type: 'new-token';
  readonly token: Uint8Array;
}
/** STREAM: `offset + data.length` <= 2^53 - 1 after decoding. */
export interface StreamFrame {
  readonly type: 'stream';
  readonly streamId: number;
  readonly offset: number;
  readonly fin: boolean;
  readonly data: Uint8Array;
}
export interface MaxDataFrame {
  readonly type: 'max-data';
  readonly maximum: number;
}
export interface MaxStreamDataFrame {
  readonly type: 'max-stream-data';
  readonly streamId: number;
  readonly maximum: number;
}
/** MAX_STREAMS: `bidi` is type 0x12, else 0x13. `maximum` <= 2^60 on the wire, saturated at 2^53 - 1. */
export interface MaxStreamsFrame {
  readonly type: 'max-streams';
  readonly bidi: boolean;
  readonly maximum: number;
}
export interface DataBlockedFrame {
  readonly type: 'data-blocked';
  readonly limit: number;
}
export interface StreamDataBlockedFrame {
  readonly type: 'stream-data-blocked';
  readonly streamId: number;
  readonly limit: number;
}
export interface StreamsBlockedFrame {
  readonly type: 'streams-blocked';
  readonly bidi: boolean;
  readonly limit: number;
}
export interface NewConnectionIdFrame {
  readonly type: 'new-connection-id';
  readonly sequence: number;
  readonly retirePriorTo: number;
  /** 1 to 20 bytes. */
  readonly connectionId: Uint8Array;
  /** 16 bytes. */
  readonly statelessResetToken: Uint8Array;
}
export interface RetireConnectionIdFrame {
  readonly type: 'retire-connection-id';
  readonly sequence: number;
}
/** 8 bytes of data. */
export interface PathChallengeFrame {
  readonly type: 'path-challenge';
  readonly data: Uint8Array;
}
export interface PathResponseFrame {
  readonly type: 'path-response';
  readonly data: Uint8Array;
}
/**
 * CONNECTION_CLOSE: type 0x1c (transport, `frameType` is the offending
 * frame's type, 0 when unknown; saturating at 2^53 - 1) or 0x1d (application,
 * `frameType` null). `reason` is raw bytes (UTF-8 by convention, not checked).
 */
export interface ConnectionCloseFrame {
  readonly type: 'connection-close';
  readonly errorCode: bigint;
  readonly frameType: number | null;
  readonly reason: Uint8Array;
}
export interface HandshakeDoneFrame {
  readonly type: 'handshake-done';
}
export interface DatagramFrame {
  readonly type: 'datagram';
  readonly data: Uint8Array;
}

export type Frame =
  | PaddingFrame
  | PingFrame
  | AckFrame
  | ResetStreamFrame
  | StopSendingFrame
  | CryptoFrame
  | NewTokenFrame
  | StreamFrame
  | MaxDataFrame
  | MaxStreamDataFrame
  | MaxStreamsFrame
  | DataBlockedFrame
  | StreamDataBlockedFrame
  | StreamsBlockedFrame
  | NewConnectionIdFrame
  | RetireConnectionIdFrame
  | PathChallengeFrame
  | PathResponseFrame
  | ConnectionCloseFrame
  | HandshakeDoneFrame
  | DatagramFrame;

/** The frame interface of one kind. */
export type FrameOf<K extends FrameKind> = Extract<Frame, { type: K }>;

// The union and the table must list the same kinds.
type _EveryKindHasAFrame = [Exclude<FrameKind, Frame['type']>] extends [never] ? true : never;
type _EveryFrameHasAKind = [Exclude<Frame['type'], FrameKind>] extends [never] ? true : never;
const _tableMatchesUnion: [_EveryKindHasAFrame, _EveryFrameHasAKind] = [true, true];
void _tableMatchesUnion;

// ---------------------------------------------------------------------------------------------------
// readers: the combinators' fast paths on a complete-mode Source

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(MAX_SAFE);
/** Largest varint, 2^62 - 1 (RFC 9000 section 16). */
const VARINT_MAX_BIG = (1n << 62n) - 1n;
/** MAX_STREAMS / STREAMS_BLOCKED and initial_max_streams_* ceiling (RFC 9000 sections 4.6, 19.11). */
export const MAX_STREAMS_LIMIT = 1n << 60n;

/**
 * @internal A QUIC varint with nothing lost: a number up to 2^53 - 1, a
 * bigint above. Usable in streaming mode too (a Parser like the others).
 */
class U62Parser extends Parser<number | bigint> {
  constructor() {
    super('varint');
  }
  readFast(s: Source): number | bigint | Incomplete {
    const o = s.off;
    // 1-, 2- and 4-byte varints always fit a number: take the number parser's fast path.
    if (o < s.lim && s.buf[o]! < 0xc0) return varint.readFast(s);
    const b = varintBig.readFast(s);
    if (b === INCOMPLETE) return b;
    return b > MAX_SAFE_BIG ? b : Number(b);
  }
  override write(w: Writer, value: number | bigint): void {
    w.varint(value);
  }
}

/** @internal */
export const varint62: Parser<number | bigint> = new U62Parser();

/** @internal Unwraps a fast-path result on a complete-mode Source (INCOMPLETE cannot happen there). */
export function need<T>(v: T | Incomplete, s: Source, what: string): T {
  if (v === INCOMPLETE) throw new ParseError('ERR_UNEXPECTED_END', s.position, what);
  return v;
}

/**
 * A varint of 1, 2 or 4 bytes read straight from the current chunk, or -1
 * when it is longer or ends at (or past) the chunk's end: the caller then
 * takes the general path. Frame fields are nearly always such varints, and
 * this skips a parser call and its INCOMPLETE check per field. Stopping
 * short of the chunk's end leaves the Source's chunk bookkeeping to the
 * general path.
 */
function varintInChunk(s: Source): number {
  const b = s.buf;
  const o = s.off;
  if (o >= s.lim) return -1;
  const first = b[o]!;
  if (first < 0x40) {
    if (o + 1 >= s.lim) return -1;
    s.off = o + 1;
    return first;
  }
  if (first < 0x80) {
    if (o + 2 >= s.lim) return -1;
    s.off = o + 2;
    return ((first & 0x3f) << 8) | b[o + 1]!;
  }
  if (first < 0xc0) {
    if (o + 4 >= s.lim) return -1;
    s.off = o + 4;
    return (first & 0x3f) * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
  }
  return -1;
}

/** @internal A varint, exact (bigint above 2^53 - 1). */
export function readU62(s: Source): number | bigint {
  const v = varintInChunk(s);
  if (v >= 0) return v;
  return need(varint62.readFast(s), s, 'varint');
}

/** @internal A varint saturated at 2^53 - 1. */
export function readSaturated(s: Source): number {
  const f = varintInChunk(s);
  if (f >= 0) return f;
  const v = need(varint62.readFast(s), s, 'varint');
  return typeof v === 'bigint' ? MAX_SAFE : v;
}

/** @internal `n` bytes, a view into the input. */
export function readBytes(s: Source, n: number | bigint, what: string): Uint8Array {
  if (typeof n === 'bigint') throw new ParseError('ERR_UNEXPECTED_END', s.position, what, `length ${n}`);
  return need(s.take(n, what), s, what);
}

/** @internal */
export function readU8(s: Source): number {
  return need(u8.readFast(s), s, 'u8');
}

function fail(code: TransportErrorName, reason: string, type: number): never {
  throw new TransportError(code, reason, { frameType: type });
}

function readStreamId(s: Source, type: number): number {
  const id = readU62(s);
  // We never allow the peer 2^51 streams of a type, so no valid stream ID is above 2^53 - 1 (module doc).
  if (typeof id === 'bigint') fail('STREAM_LIMIT_ERROR', `stream ID ${id} beyond any stream limit`, type);
  return id;
}

function readErrorCode(s: Source): bigint {
  return need(varintBig.readFast(s), s, 'error code');
}

/**
 * Checks that `offset + length` (a position in a stream) is at most 2^62 - 1
 * (else FRAME_ENCODING_ERROR) and at most 2^53 - 1 (else `overLimit`).
 */
function checkEnd(offset: number | bigint, length: number, overLimit: TransportErrorName, type: number): number {
  if (typeof offset === 'number' && offset <= MAX_SAFE - length) return offset;
  const end = BigInt(offset) + BigInt(length);
  if (end > VARINT_MAX_BIG) fail('FRAME_ENCODING_ERROR', `offset + length = ${end} exceeds 2^62 - 1`, type);
  return fail(overLimit, `offset + length = ${end} exceeds every limit this endpoint advertises`, type);
}

function readStreamCount(s: Source, type: number, what: string): number {
  const v = readU62(s);
  if (typeof v === 'bigint') {
    // RFC 9000 sections 19.11 and 19.14: above 2^60 is FRAME_ENCODING_ERROR.
    if (v > MAX_STREAMS_LIMIT) fail('FRAME_ENCODING_ERROR', `${what} ${v} exceeds 2^60`, type);
    return MAX_SAFE;
  }
  return v;
}

function readSequence(s: Source, type: number): number {
  const v = readU62(s);
  if (typeof v === 'bigint') fail('PROTOCOL_VIOLATION', `connection ID sequence number ${v} was never issued`, type);
  return v;
}

// ---------------------------------------------------------------------------------------------------
// decoders

type Decode<K extends FrameKind> = (s: Source, type: number) => FrameOf<K>;

const PING: PingFrame = Object.freeze({ type: 'ping' });
const HANDSHAKE_DONE: HandshakeDoneFrame = Object.freeze({ type: 'handshake-done' });

const DECODERS: { readonly [K in FrameKind]: Decode<K> } = {
  padding: (s) => {
    // Runs of PADDING become one frame: a 1200-byte Initial must not cost 1000 objects.
    const b = s.buf;
    let i = s.off;
    while (i < s.lim && b[i] === 0) i++;
    const n = i - s.off;
    if (n > 0) s.skipBytes(n, 'padding');
    return { type: 'padding', length: n + 1 };
  },
  ping: () => PING,
  ack: (s, type) => {
    const largest = readU62(s);
    // RFC 9000 section 13.1: acknowledging a packet we never sent (we never reach 2^53) is PROTOCOL_VIOLATION.
    if (typeof largest === 'bigint') fail('PROTOCOL_VIOLATION', `ACK of packet ${largest}, never sent`, type);
    const ackDelay = readSaturated(s);
    const count = readU62(s);
    // Each further range takes at least 2 bytes: more than that is "more ranges than the packet could carry".
    if (typeof count === 'bigint' || count > s.available / 2)
      fail('FRAME_ENCODING_ERROR', `ACK Range Count ${count} exceeds the packet`, type);
    const first = readU62(s);
    // RFC 9000 section 19.3.1: a negative packet number is FRAME_ENCODING_ERROR.
    if (typeof first === 'bigint' || first > largest)
      fail('FRAME_ENCODING_ERROR', `First ACK Range ${first} > Largest Acknowledged ${largest}`, type);
    let smallest = largest - first;
    const ranges: AckRange[] = [[smallest, largest]];
    for (let i = 0; i < count; i++) {
      const gap = readU62(s);
      const len = readU62(s);
      // largest = previous_smallest - gap - 2; smallest = largest - ack_range (section 19.3.1).
      if (typeof gap === 'bigint' || gap + 2 > smallest) fail('FRAME_ENCODING_ERROR', `ACK gap ${gap} below packet number 0`, type);
      const hi = smallest - gap - 2;
      if (typeof len === 'bigint' || len > hi) fail('FRAME_ENCODING_ERROR', `ACK Range Length ${len} below packet number 0`, type);
      smallest = hi - len;
      ranges.push([smallest, hi]);
    }
    let ecn: EcnCounts | null = null;
    if (type === 0x03) ecn = { ect0: readSaturated(s), ect1: readSaturated(s), ce: readSaturated(s) };
    return { type: 'ack', ackDelay, ranges, ecn };
  },
  'reset-stream': (s, type) => {
    const streamId = readStreamId(s, type);
    const errorCode = readErrorCode(s);
    const finalSize = checkEnd(readU62(s), 0, 'FLOW_CONTROL_ERROR', type);
    return { type: 'reset-stream', streamId, errorCode, finalSize };
  },
  'stop-sending': (s, type) => ({ type: 'stop-sending', streamId: readStreamId(s, type), errorCode: readErrorCode(s) }),
  crypto: (s, type) => {
    const offset = readU62(s);
    const data = readBytes(s, readU62(s), 'CRYPTO data');
    // RFC 9000 section 19.6: beyond 2^62 - 1 is FRAME_ENCODING_ERROR; we cannot buffer beyond 2^53 - 1.
    return { type: 'crypto', offset: checkEnd(offset, data.length, 'CRYPTO_BUFFER_EXCEEDED', type), data };
  },
  'new-token': (s, type) => {
    const token = readBytes(s, readU62(s), 'NEW_TOKEN token');
    // RFC 9000 section 19.7: "A client MUST treat receipt of a NEW_TOKEN frame with an empty Token field as
    // a connection error of type FRAME_ENCODING_ERROR."
    if (token.length === 0) fail('FRAME_ENCODING_ERROR', 'empty NEW_TOKEN token', type);
    return { type: 'new-token', token };
  },
  stream: (s, type) => {
    const streamId = readStreamId(s, type);
    const offset = type & 0x04 ? readU62(s) : 0;
    // Without the LEN bit the data extends to the end of the packet (RFC 9000 section 19.8).
    const data = type & 0x02 ? readBytes(s, readU62(s), 'STREAM data') : readBytes(s, s.available, 'STREAM data');
    // RFC 9000 section 19.8: beyond 2^62 - 1 is FRAME_ENCODING_ERROR; beyond our limits FLOW_CONTROL_ERROR.
    return { type: 'stream', streamId, offset: checkEnd(offset, data.length, 'FLOW_CONTROL_ERROR', type), fin: (type & 0x01) !== 0, data };
  },
  'max-data': (s) => ({ type: 'max-data', maximum: readSaturated(s) }),
  'max-stream-data': (s, type) => ({ type: 'max-stream-data', streamId: readStreamId(s, type), maximum: readSaturated(s) }),
  'max-streams': (s, type) => ({ type: 'max-streams', bidi: type === 0x12, maximum: readStreamCount(s, type, 'Maximum Streams') }),
  'data-blocked': (s) => ({ type: 'data-blocked', limit: readSaturated(s) }),
  'stream-data-blocked': (s, type) => ({ type: 'stream-data-blocked', streamId: readStreamId(s, type), limit: readSaturated(s) }),
  'streams-blocked': (s, type) => ({ type: 'streams-blocked', bidi: type === 0x16, limit: readStreamCount(s, type, 'Maximum Streams') }),
  'new-connection-id': (s, type) => {
    const sequence = readU62(s);
    const retirePriorTo = readU62(s);
    // RFC 9000 section 19.15: Retire Prior To > Sequence Number "MUST be treated as a connection error of
    // type FRAME_ENCODING_ERROR"; Length outside 1..20 likewise.
    if (retirePriorTo > sequence) fail('FRAME_ENCODING_ERROR', `Retire Prior To ${retirePriorTo} > Sequence Number ${sequence}`, type);
    if (typeof sequence === 'bigint') fail('PROTOCOL_VIOLATION', `connection ID sequence number ${sequence} was never issued`, type);
    const length = readU8(s);
    if (length < 1 || length > 20) fail('FRAME_ENCODING_ERROR', `connection ID length ${length} outside 1..20`, type);
    const connectionId = readBytes(s, length, 'Connection ID');
    const statelessResetToken = readBytes(s, 16, 'Stateless Reset Token');
    return { type: 'new-connection-id', sequence, retirePriorTo: retirePriorTo as number, connectionId, statelessResetToken };
  },
  'retire-connection-id': (s, type) => ({ type: 'retire-connection-id', sequence: readSequence(s, type) }),
  'path-challenge': (s) => ({ type: 'path-challenge', data: readBytes(s, 8, 'PATH_CHALLENGE data') }),
  'path-response': (s) => ({ type: 'path-response', data: readBytes(s, 8, 'PATH_RESPONSE data') }),
  'connection-close': (s, type) => {
    const errorCode = readErrorCode(s);
    const frameType = type === 0x1c ? readSaturated(s) : null;
    const reason = readBytes(s, readU62(s), 'Reason Phrase');
    return { type: 'connection-close', errorCode, frameType, reason };
  },
  'handshake-done': () => HANDSHAKE_DONE,
  datagram: (s, type) => {
    // RFC 9221 section 4: type 0x30 has no Length field and extends to the end of the packet.
    const data = type === 0x31 ? readBytes(s, readU62(s), 'DATAGRAM data') : readBytes(s, s.available, 'DATAGRAM data');
    return { type: 'datagram', data };
  },
};

/**
 * DECODERS indexed by type code, like BY_CODE: an array read per frame
 * instead of a property lookup keyed by a varying kind string.
 */
const DECODER_BY_CODE: (Decode<FrameKind> | undefined)[] = BY_CODE.map((r) =>
  r === undefined ? undefined : (DECODERS[r.kind] as Decode<FrameKind>),
);

/**
 * Reads a frame type and checks it (RFC 9000 section 12.4): a type must use
 * the shortest varint encoding (else PROTOCOL_VIOLATION; every type we know
 * is one byte), and unknown types are FRAME_ENCODING_ERROR.
 */
function readFrameType(s: Source): number {
  const first = s.buf[s.off]!;
  if (first < 0x40) {
    s.skipBytes(1, 'frame type');
    return first;
  }
  let type: number | bigint;
  try {
    type = readU62(s);
  } catch (e) {
    throw frameEncodingError(e, 0);
  }
  const shown = typeof type === 'bigint' ? MAX_SAFE : type;
  const encodedLength = 1 << (first >> 6);
  if (varintSize(type) < encodedLength) {
    throw new TransportError('PROTOCOL_VIOLATION', `frame type 0x${type.toString(16)} not minimally encoded`, { frameType: shown });
  }
  throw new TransportError('FRAME_ENCODING_ERROR', `unknown frame type 0x${type.toString(16)}`, { frameType: shown });
}

/**
 * Decodes one frame at the Source's position (a complete-mode, single-chunk
 * Source with at least one byte left), checking that it may appear in
 * `packetType`. Raises {@link TransportError}; codec errors
 * are converted here to FRAME_ENCODING_ERROR with the frame type.
 */
function decodeFrame(s: Source, packetType: PacketType): Frame {
  const type = readFrameType(s);
  const row = BY_CODE[type];
  if (row === undefined) throw new TransportError('FRAME_ENCODING_ERROR', `unknown frame type 0x${type.toString(16)}`, { frameType: type });
  // RFC 9000 section 12.4: "An endpoint MUST treat receipt of a frame in a packet type that is not
  // permitted as a connection error of type PROTOCOL_VIOLATION."
  if ((row.packets & PACKET_BIT[packetType]) === 0) {
    throw new TransportError('PROTOCOL_VIOLATION', `${FRAME_TYPES[row.kind].name} not allowed in a ${packetType} packet`, {
      frameType: type,
    });
  }
  try {
    return DECODER_BY_CODE[type]!(s, type);
  } catch (e) {
    throw frameEncodingError(e, type);
  }
}

/**
 * One Source reused for every payload (decoding is synchronous and never
 * re-entered): resetting it costs a fraction of a fresh `Source.complete`,
 * once per packet received. Frames hold views into the payload, not the Source.
 */
const FRAMES_SOURCE = new Source();

/**
 * Decodes a whole packet payload (after packet protection is removed) into
 * its frames. Raises {@link TransportError}: FRAME_ENCODING_ERROR for a
 * malformed or unknown frame, PROTOCOL_VIOLATION for a frame not allowed in
 * `packetType`, a non-minimal frame type, or a payload with no frames (RFC
 * 9000 section 12.4). Data fields are views into `payload`.
 */
export function decodeFrames(payload: Uint8Array, packetType: PacketType): Frame[] {
  if (payload.length === 0) throw new TransportError('PROTOCOL_VIOLATION', 'packet payload contains no frames');
  const s = FRAMES_SOURCE.resetComplete(payload);
  const out: Frame[] = [];
  while (s.off < s.lim) out.push(decodeFrame(s, packetType));
  return out;
}

// ---------------------------------------------------------------------------------------------------
// encoders and sizes

export interface EncodeFrameOptions {
  /**
   * For STREAM and DATAGRAM: omit the Length field, so the data runs to the
   * end of the packet (RFC 9000 section 19.8, RFC 9221 section 4). The caller
   * must write nothing after this frame in the packet.
   */
  readonly implicitLength?: boolean;
}

/** The default options: one shared object, not a fresh `{}` per frame encoded. */
const NO_OPTIONS: EncodeFrameOptions = Object.freeze({});

function bad(detail: string): never {
  throw new EncodeError('ERR_ENCODE_RANGE', detail);
}

/** Checks ACK ranges: non-empty, each smallest <= largest, descending with a gap of at least one. */
function checkAckRanges(ranges: readonly AckRange[]): void {
  if (ranges.length === 0) bad('ACK frame with no ranges');
  let prevSmallest = Infinity;
  // Indexed reads, not `for..of` with destructuring: this runs for every ACK sent.
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    const lo = r[0];
    const hi = r[1];
    if (!(lo >= 0 && lo <= hi)) bad(`ACK range [${lo}, ${hi}] is not a range of packet numbers`);
    if (hi > prevSmallest - 2) bad(`ACK range [${lo}, ${hi}] not below the previous range with a gap`);
    prevSmallest = lo;
  }
}

/** The frame type code `encodeFrame` writes for `frame`. */
export function frameTypeCode(frame: Frame, options: EncodeFrameOptions = NO_OPTIONS): number {
  return typeCodeOf(frame, options.implicitLength === true);
}

function typeCodeOf(frame: Frame, implicitLength: boolean): number {
  switch (frame.type) {
    case 'ack':
      return frame.ecn === null ? 0x02 : 0x03;
    case 'stream':
      return 0x08 | (frame.offset > 0 ? 0x04 : 0) | (implicitLength ? 0 : 0x02) | (frame.fin ? 0x01 : 0);
    case 'max-streams':
      return frame.bidi ? 0x12 : 0x13;
    case 'streams-blocked':
      return frame.bidi ? 0x16 : 0x17;
    case 'connection-close':
      return frame.frameType === null ? 0x1d : 0x1c;
    case 'datagram':
      return implicitLength ? 0x30 : 0x31;
    default:
      return FRAME_TYPES[frame.type].code;
  }
}

/**
 * Writes `frame` (RFC 9000 section 19). Values the wire cannot carry raise
 * EncodeError ERR_ENCODE_RANGE (or ERR_WRITER_OVERFLOW for a full fixed
 * Writer); use {@link frameSize} first to check room. STREAM frames carry
 * the Offset field only when `offset > 0`.
 */
export function encodeFrame(w: Writer, frame: Frame, options: EncodeFrameOptions = NO_OPTIONS): void {
  const implicit = options.implicitLength === true;
  switch (frame.type) {
    case 'padding':
      if (!(frame.length >= 1)) bad(`PADDING length ${frame.length}`);
      w.zeros(frame.length);
      return;
    case 'ping':
    case 'handshake-done':
      w.u8(FRAME_TYPES[frame.type].code);
      return;
    case 'ack': {
      const ranges = frame.ranges;
      checkAckRanges(ranges);
      // Indexed reads (no spread of the ranges, no destructuring): one ACK per packet sent.
      const first = ranges[0]!;
      w.u8(typeCodeOf(frame, false));
      putVarint(w, first[1]);
      putVarint(w, frame.ackDelay);
      putVarint(w, ranges.length - 1);
      putVarint(w, first[1] - first[0]);
      let prevSmallest = first[0];
      for (let i = 1; i < ranges.length; i++) {
        const r = ranges[i]!;
        const lo = r[0];
        const hi = r[1];
        putVarint(w, prevSmallest - hi - 2);
        putVarint(w, hi - lo);
        prevSmallest = lo;
      }
      if (frame.ecn !== null) w.varint(frame.ecn.ect0).varint(frame.ecn.ect1).varint(frame.ecn.ce);
      return;
    }
    case 'reset-stream':
      w.u8(0x04).varint(frame.streamId).varint(frame.errorCode).varint(frame.finalSize);
      return;
    case 'stop-sending':
      w.u8(0x05).varint(frame.streamId).varint(frame.errorCode);
      return;
    case 'crypto':
      w.u8(0x06).varint(frame.offset).varint(frame.data.length).bytes(frame.data);
      return;
    case 'new-token':
      if (frame.token.length === 0) bad('NEW_TOKEN with an empty token');
      w.u8(0x07).varint(frame.token.length).bytes(frame.token);
      return;
    case 'stream':
      w.u8(typeCodeOf(frame, implicit));
      putVarint(w, frame.streamId);
      if (frame.offset > 0) putVarint(w, frame.offset);
      if (!implicit) putVarint(w, frame.data.length);
      w.bytes(frame.data);
      return;
    case 'max-data':
      w.u8(0x10).varint(frame.maximum);
      return;
    case 'max-stream-data':
      w.u8(0x11).varint(frame.streamId).varint(frame.maximum);
      return;
    case 'max-streams':
      w.u8(typeCodeOf(frame, false)).varint(frame.maximum);
      return;
    case 'data-blocked':
      w.u8(0x14).varint(frame.limit);
      return;
    case 'stream-data-blocked':
      w.u8(0x15).varint(frame.streamId).varint(frame.limit);
      return;
    case 'streams-blocked':
      w.u8(typeCodeOf(frame, false)).varint(frame.limit);
      return;
    case 'new-connection-id': {
      const cid = frame.connectionId;
      if (cid.length < 1 || cid.length > 20) bad(`connection ID length ${cid.length} outside 1..20`);
      if (frame.statelessResetToken.length !== 16) bad('stateless reset token must be 16 bytes');
      if (frame.retirePriorTo > frame.sequence) bad('Retire Prior To > Sequence Number');
      w.u8(0x18).varint(frame.sequence).varint(frame.retirePriorTo).u8(cid.length).bytes(cid).bytes(frame.statelessResetToken);
      return;
    }
    case 'retire-connection-id':
      w.u8(0x19).varint(frame.sequence);
      return;
    case 'path-challenge':
    case 'path-response':
      if (frame.data.length !== 8) bad(`${frame.type} data must be 8 bytes`);
      w.u8(FRAME_TYPES[frame.type].code).bytes(frame.data);
      return;
    case 'connection-close':
      w.u8(typeCodeOf(frame, false)).varint(frame.errorCode);
      if (frame.frameType !== null) w.varint(frame.frameType);
      w.varint(frame.reason.length).bytes(frame.reason);
      return;
    case 'datagram':
      w.u8(typeCodeOf(frame, implicit));
      if (!implicit) w.varint(frame.data.length);
      w.bytes(frame.data);
      return;
    default: {
      const never: never = frame;
      bad(`unknown frame ${JSON.stringify(never)}`);
    }
  }
}

/**
 * `varintSize`, answering integers below 2^30 (nearly every frame field)
 * without its range and integer checks: `v & 0x3fffffff` equals `v` only for
 * such integers, everything else goes to `varintSize` (which raises).
 */
function vs(v: number | bigint): number {
  if (typeof v === 'number' && v === (v & 0x3fffffff)) return v < 0x40 ? 1 : v < 0x4000 ? 2 : 4;
  return varintSize(v);
}

/**
 * `w.varint(v)` with the common case inline: an integer below 2^30 (the
 * same test as {@link vs}) is written straight into the buffer; anything
 * else goes through `Writer.varint`, which checks and raises.
 */
function putVarint(w: Writer, v: number): void {
  if (v !== (v & 0x3fffffff)) {
    w.varint(v);
    return;
  }
  if (v < 0x40) {
    w.ensure(1);
    w.buf[w.pos++] = v;
  } else if (v < 0x4000) {
    w.ensure(2);
    const b = w.buf;
    const p = w.pos;
    b[p] = 0x40 | (v >>> 8);
    b[p + 1] = v & 0xff;
    w.pos = p + 2;
  } else {
    w.ensure(4);
    const b = w.buf;
    const p = w.pos;
    b[p] = 0x80 | (v >>> 24);
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
    w.pos = p + 4;
  }
}

/**
 * Exact encoded size of `frame` as {@link encodeFrame} writes it, so a packet
 * builder can check room before writing. Raises EncodeError for values no
 * varint can hold.
 */
export function frameSize(frame: Frame, options: EncodeFrameOptions = NO_OPTIONS): number {
  const implicit = options.implicitLength === true;
  switch (frame.type) {
    case 'padding':
      return frame.length;
    case 'ping':
    case 'handshake-done':
      return 1;
    case 'ack': {
      const r = frame.ranges;
      if (r.length === 0) bad('ACK frame with no ranges');
      const first = r[0]!;
      let prevSmallest = first[0];
      let n = 1 + vs(first[1]) + vs(frame.ackDelay) + vs(r.length - 1) + vs(first[1] - prevSmallest);
      for (let i = 1; i < r.length; i++) {
        const ri = r[i]!;
        const lo = ri[0];
        const hi = ri[1];
        n += vs(prevSmallest - hi - 2) + vs(hi - lo);
        prevSmallest = lo;
      }
      if (frame.ecn !== null) n += vs(frame.ecn.ect0) + vs(frame.ecn.ect1) + vs(frame.ecn.ce);
      return n;
    }
    case 'reset-stream':
      return 1 + vs(frame.streamId) + vs(frame.errorCode) + vs(frame.finalSize);
    case 'stop-sending':
      return 1 + vs(frame.streamId) + vs(frame.errorCode);
    case 'crypto':
      return 1 + vs(frame.offset) + vs(frame.data.length) + frame.data.length;
    case 'new-token':
      return 1 + vs(frame.token.length) + frame.token.length;
    case 'stream':
      return streamFrameOverhead(frame.streamId, frame.offset, implicit ? null : frame.data.length) + frame.data.length;
    case 'max-data':
      return 1 + vs(frame.maximum);
    case 'max-stream-data':
      return 1 + vs(frame.streamId) + vs(frame.maximum);
    case 'max-streams':
      return 1 + vs(frame.maximum);
    case 'data-blocked':
      return 1 + vs(frame.limit);
    case 'stream-data-blocked':
      return 1 + vs(frame.streamId) + vs(frame.limit);
    case 'streams-blocked':
      return 1 + vs(frame.limit);
    case 'new-connection-id':
      return 1 + vs(frame.sequence) + vs(frame.retirePriorTo) + 1 + frame.connectionId.length + 16;
    case 'retire-connection-id':
      return 1 + vs(frame.sequence);
    case 'path-challenge':
    case 'path-response':
      return 9;
    case 'connection-close':
      return 1 + vs(frame.errorCode) + (frame.frameType === null ? 0 : vs(frame.frameType)) + vs(frame.reason.length) + frame.reason.length;
    case 'datagram':
      return 1 + (implicit ? 0 : vs(frame.data.length)) + frame.data.length;
    default: {
      const never: never = frame;
      return bad(`unknown frame ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Bytes of a STREAM frame besides its data: type, Stream ID, Offset (only
 * when > 0) and, unless `dataLength` is null (implicit length), the Length.
 */
export function streamFrameOverhead(streamId: number, offset: number, dataLength: number | null): number {
  return 1 + vs(streamId) + (offset > 0 ? vs(offset) : 0) + (dataLength === null ? 0 : vs(dataLength));
}

/**
 * How many data bytes fit in a frame of at most `room` bytes whose header
 * takes `fixed` bytes plus a varint Length (0 when nothing fits).
 */
function dataCapacity(room: number, fixed: number): number {
  let best = 0;
  for (const lenSize of [1, 2, 4, 8] as const) {
    const max = lenSize === 1 ? 0x3f : lenSize === 2 ? 0x3fff : lenSize === 4 ? 0x3fffffff : MAX_SAFE;
    const n = Math.min(room - fixed - lenSize, max);
    if (n > best) best = n;
  }
  return best;
}

/**
 * Most data bytes a STREAM frame with an explicit Length can carry in `room`
 * bytes (0 if not even an empty frame fits: check `room >= streamFrameOverhead(...)`
 * for a FIN-only frame).
 */
export function streamDataCapacity(room: number, streamId: number, offset: number): number {
  return dataCapacity(room, 1 + vs(streamId) + (offset > 0 ? vs(offset) : 0));
}

/** Most data bytes a CRYPTO frame at `offset` can carry in `room` bytes. */
export function cryptoDataCapacity(room: number, offset: number): number {
  return dataCapacity(room, 1 + vs(offset));
}
