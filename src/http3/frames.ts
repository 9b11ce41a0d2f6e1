/**
 * HTTP/3 frames and stream types (RFC 9114 sections 6.2 and 7), on the
 * combinators.
 *
 * ```
 * HTTP/3 Frame Format {
 *   Type (i),
 *   Length (i),
 *   Frame Payload (..),
 * }
 * ```
 *
 * Two ways in:
 * - Complete mode, for whole frames in one buffer (tests, vectors, tools):
 *   {@link decodeFrame} / {@link decodeFrames} and {@link encodeFrame}.
 * - Streaming, for frames arriving in stream chunks of any size:
 *   {@link FrameReader}. It never buffers a DATA payload: after a DATA
 *   header, `readData` hands out the payload bytes as they arrive (views of
 *   the chunks fed). The payloads of other known frames are buffered whole,
 *   up to a limit (HEADERS and PUSH_PROMISE: `maxFieldSectionFrame`, the rest:
 *   `maxControlFrame`); unknown and reserved frames are skipped as they
 *   arrive, whatever their length.
 *
 * Which frame may appear on which stream, and in which order, is the
 * connection's business ({@link FRAME_TYPES} lists what section 7 allows);
 * this module checks layouts only. Every layout error is an
 * {@link Http3Error} H3_FRAME_ERROR (section 7.1), the HTTP/2 frame types
 * are H3_FRAME_UNEXPECTED (section 7.2.8), oversized payloads
 * H3_EXCESSIVE_LOAD (section 10.5).
 *
 * Variable-length integers above 2^53 - 1 (legal on the wire up to 2^62 - 1)
 * are read as `Number.MAX_SAFE_INTEGER`: no frame type, setting identifier or
 * stream ID this implementation knows is that large, so such a value only
 * ever names something unknown (to skip) or a limit larger than any we reach.
 */
import {
  INCOMPLETE,
  NEED_READ,
  ParseError,
  Parser,
  Source,
  UsageError,
  Writer,
  manyUntilEnd,
  parse,
  rest,
  struct,
  varint,
  varintBig,
  varintSize,
  type Incomplete,
  type NeedRead,
} from '../combinators/index.js';
import { Http3Error } from './errors.js';

// ---------------------------------------------------------------------------------------------------
// code spaces

/**
 * The frame types of RFC 9114 section 7.2 and the streams each is allowed on
 * (section 7, Table 1). `control` for SETTINGS means "as the first frame only".
 */
export const FRAME_TYPES = {
  DATA: { type: 0x00, control: false, request: true, push: true },
  HEADERS: { type: 0x01, control: false, request: true, push: true },
  CANCEL_PUSH: { type: 0x03, control: true, request: false, push: false },
  SETTINGS: { type: 0x04, control: true, request: false, push: false },
  PUSH_PROMISE: { type: 0x05, control: false, request: true, push: false },
  GOAWAY: { type: 0x07, control: true, request: false, push: false },
  MAX_PUSH_ID: { type: 0x0d, control: true, request: false, push: false },
} as const;

export type FrameTypeName = keyof typeof FRAME_TYPES;

const T_DATA = FRAME_TYPES.DATA.type;
const T_HEADERS = FRAME_TYPES.HEADERS.type;
const T_CANCEL_PUSH = FRAME_TYPES.CANCEL_PUSH.type;
const T_SETTINGS = FRAME_TYPES.SETTINGS.type;
const T_PUSH_PROMISE = FRAME_TYPES.PUSH_PROMISE.type;
const T_GOAWAY = FRAME_TYPES.GOAWAY.type;
const T_MAX_PUSH_ID = FRAME_TYPES.MAX_PUSH_ID.type;

/**
 * HTTP/2 frame types with no HTTP/3 equivalent (PRIORITY 0x2, PING 0x6,
 * WINDOW_UPDATE 0x8, CONTINUATION 0x9): "their receipt MUST be treated as a
 * connection error of type H3_FRAME_UNEXPECTED" (RFC 9114 section 7.2.8).
 */
export const HTTP2_ONLY_FRAME_TYPES: readonly number[] = [0x02, 0x06, 0x08, 0x09];

/** Unidirectional stream types (RFC 9114 section 6.2, RFC 9204 section 4.2). */
export const STREAM_TYPES = {
  CONTROL: 0x00,
  PUSH: 0x01,
  QPACK_ENCODER: 0x02,
  QPACK_DECODER: 0x03,
} as const;

/** Settings this implementation understands (RFC 9114 section 7.2.4.1, RFC 9204 section 5). */
export const SETTINGS_IDS = {
  QPACK_MAX_TABLE_CAPACITY: 0x01,
  MAX_FIELD_SECTION_SIZE: 0x06,
  QPACK_BLOCKED_STREAMS: 0x07,
} as const;

/**
 * Setting identifiers reserved because HTTP/2 defined them with no HTTP/3
 * counterpart (ENABLE_PUSH 0x2, MAX_CONCURRENT_STREAMS 0x3,
 * INITIAL_WINDOW_SIZE 0x4, MAX_FRAME_SIZE 0x5): "their receipt MUST be
 * treated as a connection error of type H3_SETTINGS_ERROR" (section 7.2.4.1).
 * (0x00 is also listed as reserved in section 11.2.2 but was never defined
 * by HTTP/2, so it falls outside that MUST and is ignored like any unknown
 * identifier.)
 */
export const HTTP2_ONLY_SETTINGS: readonly number[] = [0x02, 0x03, 0x04, 0x05];

/**
 * True for the reserved "grease" values 0x1f * N + 0x21 of frame types,
 * stream types, setting identifiers and error codes (RFC 9114 sections
 * 6.2.3, 7.2.4.1, 7.2.8, 8.1). They mean nothing and are ignored.
 */
export function isReservedCode(v: number): boolean {
  return v >= 0x21 && (v - 0x21) % 0x1f === 0;
}

/** The reserved code 0x1f * n + 0x21 (n >= 0; capped so the result stays a safe integer). */
export function reservedCode(n: number): number {
  const k = Math.min(Math.max(0, Math.floor(n)), Math.floor((Number.MAX_SAFE_INTEGER - 0x21) / 0x1f));
  return 0x1f * k + 0x21;
}

// ---------------------------------------------------------------------------------------------------
// frame values

/** One setting: identifier and value, in the order they appeared. */
export interface Setting {
  readonly id: number;
  readonly value: number;
}

/**
 * An HTTP/3 frame. `unknown` covers every type this implementation does not
 * define (extensions, the reserved 0x1f * N + 0x21 types): receivers skip
 * them (section 9); the encoder writes them for greasing.
 */
export type Http3Frame =
  /** DATA (section 7.2.1): request or response content. */
  | { readonly type: 'data'; readonly payload: Uint8Array }
  /** HEADERS (section 7.2.2): a QPACK-encoded field section. */
  | { readonly type: 'headers'; readonly fieldSection: Uint8Array }
  /** CANCEL_PUSH (section 7.2.3). */
  | { readonly type: 'cancel-push'; readonly pushId: number }
  /** SETTINGS (section 7.2.4): the parameters as sent (duplicates and meaning are checked by {@link readSettings}). */
  | { readonly type: 'settings'; readonly settings: readonly Setting[] }
  /** PUSH_PROMISE (section 7.2.5). */
  | { readonly type: 'push-promise'; readonly pushId: number; readonly fieldSection: Uint8Array }
  /** GOAWAY (section 7.2.6): a client-initiated bidirectional stream ID (from a server) or a push ID (from a client). */
  | { readonly type: 'goaway'; readonly id: number }
  /** MAX_PUSH_ID (section 7.2.7). */
  | { readonly type: 'max-push-id'; readonly pushId: number }
  /** A frame type this implementation does not define. */
  | { readonly type: 'unknown'; readonly frameType: number; readonly payload: Uint8Array };

/** The frames a {@link FrameReader} returns whole (DATA is streamed, unknown frames skipped). */
export type ControlOrHeadersFrame = Exclude<Http3Frame, { readonly type: 'data' } | { readonly type: 'unknown' }>;

// ---------------------------------------------------------------------------------------------------
// parsers

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * A QUIC varint (RFC 9000 section 16) as a number, values above 2^53 - 1
 * clamped to Number.MAX_SAFE_INTEGER (see the module comment).
 */
class ClampedVarintParser extends Parser<number> {
  constructor() {
    super('varint');
  }
  readFast(s: Source): number | Incomplete {
    // The 1-, 2- and 4-byte forms always fit: the core parser handles them (and every spanning case).
    if (s.off < s.lim && s.buf[s.off]! < 0xc0) return varint.readFast(s);
    const v = varintBig.readFast(s);
    if (v === INCOMPLETE) return v;
    return v > BigInt(MAX_SAFE) ? MAX_SAFE : Number(v);
  }
  override write(w: Writer, value: number): void {
    w.varint(value);
  }
}

/** QUIC varint, clamped to 2^53 - 1. */
export const h3varint: Parser<number> = new ClampedVarintParser();

/** The frame header: type and payload length. */
export const frameHeader = struct({ type: h3varint, length: h3varint }, 'frame header');

const settingsPayload = manyUntilEnd(struct({ id: h3varint, value: h3varint }, 'setting'));
const pushPromisePayload = struct({ pushId: h3varint, fieldSection: rest }, 'PUSH_PROMISE');

/** Parses one known frame's payload (complete mode); layout errors are H3_FRAME_ERROR (section 7.1). */
function decodePayload(type: number, payload: Uint8Array): ControlOrHeadersFrame {
  try {
    switch (type) {
      case T_HEADERS:
        return { type: 'headers', fieldSection: payload };
      case T_CANCEL_PUSH:
        return { type: 'cancel-push', pushId: parse(h3varint, payload) };
      case T_SETTINGS:
        return { type: 'settings', settings: parse(settingsPayload, payload) };
      case T_PUSH_PROMISE: {
        const v = parse(pushPromisePayload, payload);
        return { type: 'push-promise', pushId: v.pushId, fieldSection: v.fieldSection };
      }
      case T_GOAWAY:
        return { type: 'goaway', id: parse(h3varint, payload) };
      case T_MAX_PUSH_ID:
        return { type: 'max-push-id', pushId: parse(h3varint, payload) };
      default:
        throw new UsageError(`decodePayload: frame type 0x${type.toString(16)} is not a buffered frame`);
    }
  } catch (e) {
    if (e instanceof ParseError) throw new Http3Error('H3_FRAME_ERROR', `${frameName(type)} payload: ${e.code} at ${e.offset}`);
    throw e;
  }
}

/** True for the frame types whose payload is read whole (HEADERS, SETTINGS, ...). */
function isBufferedType(type: number): boolean {
  return (
    type === T_HEADERS ||
    type === T_CANCEL_PUSH ||
    type === T_SETTINGS ||
    type === T_PUSH_PROMISE ||
    type === T_GOAWAY ||
    type === T_MAX_PUSH_ID
  );
}

/** A frame type's name for messages: the RFC name, or hex. */
export function frameName(type: number): string {
  for (const [name, t] of Object.entries(FRAME_TYPES)) if (t.type === type) return name;
  return `0x${type.toString(16)}`;
}

function checkNotHttp2(type: number): void {
  if (HTTP2_ONLY_FRAME_TYPES.includes(type)) {
    throw new Http3Error('H3_FRAME_UNEXPECTED', `HTTP/2 frame type 0x${type.toString(16)} (RFC 9114 section 7.2.8)`);
  }
}

/** Consumes `n` buffered bytes: a view when they lie in one chunk, else an owned copy. */
function takeBytes(s: Source, n: number): Uint8Array {
  const v = s.take(n, 'frame payload');
  if (v === INCOMPLETE) throw new UsageError('takeBytes: fewer bytes buffered than checked');
  return v;
}

/** Consumes up to `max` bytes lying in the current chunk (a view, never a copy), or null when nothing is buffered. */
function takeContiguous(s: Source, max: number): Uint8Array | null {
  if (s.off === s.buf.length) s.advance();
  const avail = s.lim - s.off;
  if (avail <= 0) return null;
  return takeBytes(s, Math.min(avail, max));
}

// ---------------------------------------------------------------------------------------------------
// complete mode

/**
 * Decodes exactly one whole frame (DATA included, payload as a view of
 * `bytes` when it lies inside it). Raises {@link Http3Error}: H3_FRAME_ERROR
 * for a truncated or inconsistent frame or trailing bytes, H3_FRAME_UNEXPECTED
 * for an HTTP/2 frame type.
 */
export function decodeFrame(bytes: Uint8Array): Http3Frame {
  const frames = decodeFrames(bytes);
  if (frames.length !== 1) throw new Http3Error('H3_FRAME_ERROR', `expected one frame, found ${frames.length}`);
  return frames[0]!;
}

/** Decodes back-to-back whole frames filling `bytes` exactly. Errors as {@link decodeFrame}. */
export function decodeFrames(bytes: Uint8Array): Http3Frame[] {
  const src = Source.complete(bytes);
  const out: Http3Frame[] = [];
  while (src.buffered > 0) {
    let h: { type: number; length: number } | Incomplete;
    try {
      h = frameHeader.readFast(src);
    } catch (e) {
      if (e instanceof ParseError) throw new Http3Error('H3_FRAME_ERROR', `truncated frame header at ${e.offset}`);
      throw e;
    }
    if (h === INCOMPLETE) throw new Http3Error('H3_FRAME_ERROR', 'truncated frame header');
    checkNotHttp2(h.type);
    if (h.length > src.buffered) throw new Http3Error('H3_FRAME_ERROR', `${frameName(h.type)} payload of ${h.length} bytes truncated`);
    const payload = takeBytes(src, h.length);
    if (h.type === T_DATA) out.push({ type: 'data', payload });
    else if (isBufferedType(h.type)) out.push(decodePayload(h.type, payload));
    else out.push({ type: 'unknown', frameType: h.type, payload });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// encoders

/** Bytes of a frame header for `type` and a payload of `length` bytes. */
export function frameHeaderSize(type: number, length: number): number {
  return varintSize(type) + varintSize(length);
}

/** Writes a frame header (type, length). */
export function writeFrameHeader(w: Writer, type: number, length: number): void {
  w.varint(type).varint(length);
}

/** The header of a DATA frame whose `length` payload bytes follow separately. */
export function encodeDataFrameHeader(length: number): Uint8Array {
  const w = new Writer({ initialSize: 9 });
  writeFrameHeader(w, T_DATA, length);
  return w.toBytes();
}

/** Size of the payload {@link writeFrame} writes for `frame`. */
function payloadSize(frame: Http3Frame): number {
  switch (frame.type) {
    case 'data':
    case 'unknown':
      return frame.payload.length;
    case 'headers':
      return frame.fieldSection.length;
    case 'cancel-push':
    case 'max-push-id':
      return varintSize(frame.pushId);
    case 'goaway':
      return varintSize(frame.id);
    case 'push-promise':
      return varintSize(frame.pushId) + frame.fieldSection.length;
    case 'settings':
      return frame.settings.reduce((n, s) => n + varintSize(s.id) + varintSize(s.value), 0);
    default: {
      const never: never = frame;
      return never;
    }
  }
}

function wireType(frame: Http3Frame): number {
  switch (frame.type) {
    case 'data':
      return T_DATA;
    case 'headers':
      return T_HEADERS;
    case 'cancel-push':
      return T_CANCEL_PUSH;
    case 'settings':
      return T_SETTINGS;
    case 'push-promise':
      return T_PUSH_PROMISE;
    case 'goaway':
      return T_GOAWAY;
    case 'max-push-id':
      return T_MAX_PUSH_ID;
    case 'unknown':
      return frame.frameType;
    default: {
      const never: never = frame;
      return never;
    }
  }
}

/** Encoded size of `frame`, header included. */
export function frameSize(frame: Http3Frame): number {
  const n = payloadSize(frame);
  return frameHeaderSize(wireType(frame), n) + n;
}

/** Writes `frame` (header and payload). */
export function writeFrame(w: Writer, frame: Http3Frame): void {
  writeFrameHeader(w, wireType(frame), payloadSize(frame));
  switch (frame.type) {
    case 'data':
    case 'unknown':
      w.bytes(frame.payload);
      return;
    case 'headers':
      w.bytes(frame.fieldSection);
      return;
    case 'cancel-push':
    case 'max-push-id':
      w.varint(frame.pushId);
      return;
    case 'goaway':
      w.varint(frame.id);
      return;
    case 'push-promise':
      w.varint(frame.pushId).bytes(frame.fieldSection);
      return;
    case 'settings':
      for (const s of frame.settings) w.varint(s.id).varint(s.value);
      return;
    default: {
      const never: never = frame;
      return never;
    }
  }
}

/** Encodes one frame into a new array. */
export function encodeFrame(frame: Http3Frame): Uint8Array {
  const w = new Writer({ initialSize: frameSize(frame) });
  writeFrame(w, frame);
  return w.toBytes();
}

/** The stream header of a unidirectional stream: its type as a varint (section 6.2). */
export function encodeStreamType(type: number): Uint8Array {
  return new Writer({ initialSize: 8 }).varint(type).toBytes();
}

// ---------------------------------------------------------------------------------------------------
// settings

/** Peer settings with their defaults applied (RFC 9114 section 7.2.4.2, RFC 9204 section 5). */
export interface Http3Settings {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY (0x01): default 0 (no dynamic table). */
  readonly qpackMaxTableCapacity: number;
  /** SETTINGS_MAX_FIELD_SECTION_SIZE (0x06): default unlimited (Infinity). */
  readonly maxFieldSectionSize: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS (0x07): default 0. */
  readonly qpackBlockedStreams: number;
  /** Every parameter as received, in order (unknown and reserved ones included). */
  readonly all: readonly Setting[];
}

/** The settings in force before the peer's SETTINGS frame arrives (the defaults). */
export const DEFAULT_SETTINGS: Http3Settings = {
  qpackMaxTableCapacity: 0,
  maxFieldSectionSize: Infinity,
  qpackBlockedStreams: 0,
  all: [],
};

/**
 * Interprets a received SETTINGS frame. Raises {@link Http3Error}
 * H3_SETTINGS_ERROR for a duplicate identifier (section 7.2.4: a receiver
 * MAY treat it so; we do) or an HTTP/2-only identifier (section 7.2.4.1).
 * Unknown identifiers are ignored ("An implementation MUST ignore any
 * parameter with an identifier it does not understand").
 */
export function readSettings(settings: readonly Setting[]): Http3Settings {
  const seen = new Set<number>();
  let qpackMaxTableCapacity = DEFAULT_SETTINGS.qpackMaxTableCapacity;
  let maxFieldSectionSize = DEFAULT_SETTINGS.maxFieldSectionSize;
  let qpackBlockedStreams = DEFAULT_SETTINGS.qpackBlockedStreams;
  for (const { id, value } of settings) {
    if (seen.has(id)) throw new Http3Error('H3_SETTINGS_ERROR', `setting 0x${id.toString(16)} appears twice (RFC 9114 section 7.2.4)`);
    seen.add(id);
    if (HTTP2_ONLY_SETTINGS.includes(id)) {
      throw new Http3Error('H3_SETTINGS_ERROR', `HTTP/2 setting 0x${id.toString(16)} (RFC 9114 section 7.2.4.1)`);
    }
    if (id === SETTINGS_IDS.QPACK_MAX_TABLE_CAPACITY) qpackMaxTableCapacity = value;
    else if (id === SETTINGS_IDS.MAX_FIELD_SECTION_SIZE) maxFieldSectionSize = value;
    else if (id === SETTINGS_IDS.QPACK_BLOCKED_STREAMS) qpackBlockedStreams = value;
  }
  return { qpackMaxTableCapacity, maxFieldSectionSize, qpackBlockedStreams, all: settings };
}

// ---------------------------------------------------------------------------------------------------
// streaming

/** What {@link FrameReader.next} found. */
export type FrameStart =
  /** A whole frame other than DATA. `fieldSection` of HEADERS / PUSH_PROMISE is a view or an owned copy (see `bytes`). */
  | { readonly kind: 'frame'; readonly frame: ControlOrHeadersFrame }
  /** A DATA frame header: `length` payload bytes follow, read them with {@link FrameReader.readData}. */
  | { readonly kind: 'data'; readonly length: number }
  /** A frame of a type this implementation does not define: its payload is skipped as it arrives. */
  | { readonly kind: 'unknown'; readonly frameType: number; readonly length: number };

/** Limits of a {@link FrameReader}. */
export interface FrameReaderOptions {
  /**
   * Largest HEADERS / PUSH_PROMISE payload (encoded field section) held
   * whole. Default 64 KiB; larger frames are H3_EXCESSIVE_LOAD.
   */
  readonly maxFieldSectionFrame?: number;
  /**
   * Largest payload of the other buffered frames (SETTINGS, GOAWAY,
   * MAX_PUSH_ID, CANCEL_PUSH). Default 16 KiB: a SETTINGS frame of hundreds
   * of parameters; the others hold one varint.
   */
  readonly maxControlFrame?: number;
}

export const DEFAULT_MAX_FIELD_SECTION_FRAME = 64 * 1024;
export const DEFAULT_MAX_CONTROL_FRAME = 16 * 1024;

/**
 * Reads HTTP/3 frames from a stream's bytes as they arrive.
 *
 * ```ts
 * const r = new FrameReader();
 * r.feed(chunk);
 * for (let f = r.next(); f !== NEED_READ; f = r.next()) {
 *   if (f.kind === 'data') while (r.dataLeft > 0) { const d = r.readData(); if (d === NEED_READ) break; use(d); }
 *   else ...
 * }
 * ```
 *
 * - {@link next} returns the next frame start, or NEED_READ. After a DATA
 *   header it must not be called again until the payload is read
 *   ({@link dataLeft} is 0).
 * - {@link readData} returns the next piece of the DATA payload: a view of a
 *   fed chunk (never a copy), at most `max` bytes, or NEED_READ.
 * - {@link atFrameBoundary}: nothing of a started frame is pending. A stream
 *   that ends anywhere else ends inside a frame (H3_FRAME_ERROR, section 7.1:
 *   check with {@link checkEnd}).
 *
 * Bytes fed stay owned by the caller's buffers: views returned point into
 * them, so do not reuse a fed buffer while views are in use.
 */
export class FrameReader {
  readonly source: Source;
  private readonly maxFieldSectionFrame: number;
  private readonly maxControlFrame: number;
  /** Bytes of a DATA payload still to read. */
  private dataRemaining = 0;
  /** Bytes of an unknown frame still to skip. */
  private skipRemaining = 0;
  /** A buffered frame whose payload is still arriving: its type and length. */
  private pendingType = -1;
  private pendingLength = 0;

  constructor(options: FrameReaderOptions = {}) {
    this.maxFieldSectionFrame = options.maxFieldSectionFrame ?? DEFAULT_MAX_FIELD_SECTION_FRAME;
    this.maxControlFrame = options.maxControlFrame ?? DEFAULT_MAX_CONTROL_FRAME;
    // No cap of its own: what the Source holds is what the caller fed. A caller that feeds only after
    // NEED_READ (as the connection does) holds at most one frame header, one buffered payload (bounded
    // above) and one chunk; DATA and unknown payloads are never accumulated.
    this.source = new Source({ maxBuffered: Number.MAX_SAFE_INTEGER });
  }

  /** Appends received stream bytes (not copied). */
  feed(chunk: Uint8Array): void {
    this.source.feed(chunk);
  }

  /** Payload bytes of the current DATA frame not read yet. */
  get dataLeft(): number {
    return this.dataRemaining;
  }

  /** Bytes fed and not consumed yet. */
  get buffered(): number {
    return this.source.buffered;
  }

  /** True when no frame is partly read (its header, a buffered payload, a DATA payload or a skipped one). */
  get atFrameBoundary(): boolean {
    return this.dataRemaining === 0 && this.skipRemaining === 0 && this.pendingType === -1 && this.source.buffered === 0;
  }

  /**
   * The stream ended cleanly (FIN) after everything fed: raises H3_FRAME_ERROR
   * when it ended inside a frame (RFC 9114 section 7.1: "When a stream
   * terminates cleanly, if the last frame on the stream was truncated, this
   * MUST be treated as a connection error of type H3_FRAME_ERROR").
   */
  checkEnd(): void {
    if (!this.atFrameBoundary) throw new Http3Error('H3_FRAME_ERROR', 'the stream ended inside a frame (RFC 9114 section 7.1)');
  }

  /** The next frame start, or NEED_READ. Raises Http3Error for bad frames. */
  next(): FrameStart | NeedRead {
    if (this.dataRemaining > 0) throw new UsageError('FrameReader.next() inside a DATA payload: read it with readData() first');
    const s = this.source;
    if (this.skipRemaining > 0) {
      const n = Math.min(this.skipRemaining, s.buffered);
      if (n > 0) s.skipBytes(n, 'unknown frame payload');
      this.skipRemaining -= n;
      if (this.skipRemaining > 0) return NEED_READ;
    }
    let type = this.pendingType;
    let length = this.pendingLength;
    if (type === -1) {
      let h: { type: number; length: number } | Incomplete;
      try {
        h = frameHeader.readFast(s);
      } catch (e) {
        // Only ERR_BUFFER_LIMIT-like conditions can raise here (the Source is never ended): report as layout.
        if (e instanceof ParseError) throw new Http3Error('H3_FRAME_ERROR', `frame header: ${e.code}`);
        throw e;
      }
      if (h === INCOMPLETE) return NEED_READ;
      type = h.type;
      length = h.length;
      checkNotHttp2(type);
      if (type === T_DATA) {
        this.dataRemaining = length;
        return { kind: 'data', length };
      }
      if (!isBufferedType(type)) {
        this.skipRemaining = length;
        const n = Math.min(length, s.buffered);
        if (n > 0) s.skipBytes(n, 'unknown frame payload');
        this.skipRemaining -= n;
        return { kind: 'unknown', frameType: type, length };
      }
      const max = type === T_HEADERS || type === T_PUSH_PROMISE ? this.maxFieldSectionFrame : this.maxControlFrame;
      if (length > max) {
        throw new Http3Error('H3_EXCESSIVE_LOAD', `${frameName(type)} payload of ${length} bytes, at most ${max} accepted`);
      }
      this.pendingType = type;
      this.pendingLength = length;
    }
    if (s.buffered < length) return NEED_READ;
    this.pendingType = -1;
    // Copy when the payload spans chunks (it is kept by the caller, e.g. a blocked field section).
    const payload = takeBytes(s, length);
    return { kind: 'frame', frame: decodePayload(type, payload) };
  }

  /**
   * The next piece of the current DATA payload (at most `max` bytes, a view
   * of a fed chunk), or NEED_READ when none is buffered. Raises UsageError
   * outside a DATA payload.
   */
  readData(max = Infinity): Uint8Array | NeedRead {
    if (this.dataRemaining === 0) throw new UsageError('FrameReader.readData() outside a DATA payload');
    if (!(max >= 1)) throw new UsageError(`FrameReader.readData(max): max must be at least 1, got ${max}`);
    const piece = takeContiguous(this.source, Math.min(max, this.dataRemaining));
    if (piece === null) return NEED_READ;
    this.dataRemaining -= piece.length;
    return piece;
  }
}
