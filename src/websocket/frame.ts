/**
 * The WebSocket frame codec (RFC 6455 section 5.2), on the combinators.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-------+-+-------------+-------------------------------+
 * |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 * |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 * |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 * | |1|2|3|       |K|             |                               |
 * +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 * |     Extended payload length continued, if payload len == 127  |
 * + - - - - - - - - - - - - - - - +-------------------------------+
 * |                               |Masking-key, if MASK set to 1  |
 * +-------------------------------+-------------------------------+
 * | Masking-key (continued)       |          Payload Data         |
 * +-------------------------------- - - - - - - - - - - - - - - - +
 * ```
 *
 * Decoding is strict and fails fast: the first byte is checked (reserved
 * bits, reserved opcodes) as soon as it arrives, the second (mask bit by
 * role, control-frame rules) as soon as it arrives, and the extended length
 * (minimal encoding, high bit, size limit) before the masking key and the
 * payload. Every violation is a {@link WebSocketError} whose `closeCode` is
 * what the connection sends.
 *
 * Decoded payloads are unmasked. An unmasked payload that lies inside one
 * received chunk is a zero-copy view of it; a masked one is copied once into
 * an owned array and unmasked there (the received buffer is never modified).
 */
import { EncodeError, INCOMPLETE, Parser, type Incomplete, type Source, type Writer } from '../combinators/index.js';
import { isControlOpcode, isDefinedOpcode } from './codes.js';
import { WebSocketError } from './errors.js';
import { allocBytes } from './alloc.js';
import { maskCopy, maskInPlace, maskKeyAt } from './mask.js';

/** RSV bits as they sit in the first byte, shifted down: RSV1 = 4, RSV2 = 2, RSV3 = 1. */
export const RSV1 = 4;
export const RSV2 = 2;
export const RSV3 = 1;

/** Largest payload of a control frame (RFC 6455 section 5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/** A decoded frame header. */
export interface FrameHeader {
  readonly fin: boolean;
  /** The RSV bits: RSV1 = 4, RSV2 = 2, RSV3 = 1. */
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  /** The masking key as a big-endian number (0 when unmasked). */
  readonly maskKey: number;
  /** Payload length in bytes. */
  readonly length: number;
  /** Header length in bytes (2 to 14). */
  readonly headerSize: number;
}

/** A whole frame, payload unmasked. */
export interface Frame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  /** The masking key the frame carried (undefined: unmasked). Encoding with it gives the same bytes back. */
  readonly mask: number | undefined;
  /** The payload, unmasked. A view of a received chunk when it was unmasked and lay in one chunk. */
  readonly payload: Uint8Array;
}

/** What the receiving side allows (the rules that depend on role and extensions). */
export interface FrameRules {
  /**
   * Who receives: a server requires masked frames, a client unmasked ones
   * (RFC 6455 section 5.1). Undefined accepts both (a codec used on its own).
   */
  readonly receiver?: 'client' | 'server';
  /** RSV bits a negotiated extension defines (permessage-deflate: RSV1). Default none. */
  readonly allowedRsv?: number;
  /** Largest payload accepted; a longer one is ERR_WS_MESSAGE_TOO_BIG (1009). Default 2^53 - 1. */
  readonly maxPayload?: number;
}

const TWO_32 = 2 ** 32;

/** Frame header parser: see the module documentation. */
export class FrameHeaderParser extends Parser<FrameHeader> {
  private readonly requireMask: number; // 1: must be masked, 0: must not, -1: either
  private readonly allowedRsv: number;
  /**
   * Largest data-frame payload accepted. A connection lowers it while a
   * fragmented message is in progress (to what is left of the message's
   * budget), so a fragment that would take the message past its limit fails
   * from its length bytes alone.
   */
  maxPayload: number;

  constructor(rules: FrameRules = {}) {
    super('WebSocket frame header');
    this.requireMask = rules.receiver === 'server' ? 1 : rules.receiver === 'client' ? 0 : -1;
    this.allowedRsv = rules.allowedRsv ?? 0;
    this.maxPayload = rules.maxPayload ?? Number.MAX_SAFE_INTEGER;
  }

  readFast(s: Source): FrameHeader | Incomplete {
    const o = s.off;
    const b = s.buf;
    let b0: number;
    let b1: number;
    if (o + 2 <= s.lim) {
      b0 = b[o]!;
      b1 = b[o + 1]!;
    } else {
      // Fail on a bad first byte even before the second one arrives.
      b0 = s.byteAt(0);
      if (b0 === -1) return s.short(2, this.name);
      this.checkFirst(b0, s.position);
      b1 = s.byteAt(1);
      if (b1 === -1) return s.short(2, this.name);
    }
    this.checkFirst(b0, s.position);
    this.checkSecond(b0, b1, s.position);
    const len7 = b1 & 0x7f;
    const masked = b1 >= 0x80;
    const ext = len7 < 126 ? 0 : len7 === 126 ? 2 : 8;
    const size = 2 + ext + (masked ? 4 : 0);
    let hb: Uint8Array;
    let ho: number;
    if (o + size <= s.lim) {
      hb = b;
      ho = o;
    } else {
      if (ext > 0) {
        // Check the extended length as soon as it is here, before the key arrives.
        const e = s.peekBytes(2 + ext, this.name);
        if (e === INCOMPLETE) return s.short(size, this.name);
        this.lengthOf(e, 0, len7, s.position);
      }
      const g = s.peekBytes(size, this.name);
      if (g === INCOMPLETE) return INCOMPLETE;
      hb = g;
      ho = 0;
    }
    const length = ext === 0 ? len7 : this.lengthOf(hb, ho, len7, s.position);
    const maskKey = masked ? maskKeyAt(hb, ho + 2 + ext) : 0;
    if (hb === b) {
      s.off = o + size;
      if (s.off === b.length) s.advance();
    } else {
      s.skipBytes(size, this.name);
    }
    return { fin: b0 >= 0x80, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, maskKey, length, headerSize: size };
  }

  private checkFirst(b0: number, at: number): void {
    const op = b0 & 0x0f;
    if (!isDefinedOpcode(op)) throw new WebSocketError('ERR_WS_RESERVED_OPCODE', `opcode 0x${op.toString(16)}`, at);
    const rsv = (b0 >> 4) & 7;
    if (rsv !== 0) {
      // RFC 6455 section 5.2: a nonzero RSV bit with no negotiated meaning MUST fail the connection.
      // RFC 7692 section 6.1: permessage-deflate's RSV1 is never set on a control frame.
      if ((rsv & ~this.allowedRsv) !== 0 || isControlOpcode(op)) {
        throw new WebSocketError('ERR_WS_RESERVED_BITS', `RSV bits ${rsv.toString(2).padStart(3, '0')} on opcode 0x${op.toString(16)}`, at);
      }
    }
    if (isControlOpcode(op) && b0 < 0x80) throw new WebSocketError('ERR_WS_CONTROL_FRAGMENTED', `opcode 0x${op.toString(16)}`, at);
  }

  private checkSecond(b0: number, b1: number, at: number): void {
    const masked = b1 >= 0x80;
    if (this.requireMask === 1 && !masked) throw new WebSocketError('ERR_WS_UNMASKED_FRAME', '', at + 1);
    if (this.requireMask === 0 && masked) throw new WebSocketError('ERR_WS_MASKED_FRAME', '', at + 1);
    const len7 = b1 & 0x7f;
    const control = isControlOpcode(b0 & 0x0f);
    if (len7 > MAX_CONTROL_PAYLOAD && control) throw new WebSocketError('ERR_WS_CONTROL_TOO_LONG', `payload length code ${len7}`, at + 1);
    if (!control && len7 < 126 && len7 > this.maxPayload)
      throw new WebSocketError('ERR_WS_MESSAGE_TOO_BIG', `${len7} bytes, at most ${this.maxPayload}`, at + 1);
  }

  /** The 16- or 64-bit length at `hb[ho + 2..]`, checked (control frames never get here: their length is at most 125). */
  private lengthOf(hb: Uint8Array, ho: number, len7: number, at: number): number {
    let length: number;
    if (len7 === 126) {
      length = (hb[ho + 2]! << 8) | hb[ho + 3]!;
      if (length < 126) throw new WebSocketError('ERR_WS_NON_MINIMAL_LENGTH', `${length} in 16 bits`, at + 2);
    } else {
      const hi = maskKeyAt(hb, ho + 2);
      if (hi >= 0x80000000) throw new WebSocketError('ERR_WS_LENGTH_HIGH_BIT', '', at + 2);
      // Above 2^53 - 1 no limit can allow it: report it as too big rather than lose precision.
      if (hi >= 0x200000) throw new WebSocketError('ERR_WS_MESSAGE_TOO_BIG', 'a 64-bit length of 2^53 or more', at + 2);
      length = hi * TWO_32 + maskKeyAt(hb, ho + 6);
      if (length < 65536) throw new WebSocketError('ERR_WS_NON_MINIMAL_LENGTH', `${length} in 64 bits`, at + 2);
    }
    if (length > this.maxPayload) throw new WebSocketError('ERR_WS_MESSAGE_TOO_BIG', `${length} bytes, at most ${this.maxPayload}`, at + 2);
    return length;
  }

  override write(w: Writer, h: FrameHeader): void {
    w.ensure(frameHeaderSize(h.length, h.masked));
    w.pos += writeFrameHeader(w.buf, w.pos, h.fin, h.rsv, h.opcode, h.length, h.masked ? h.maskKey : undefined);
  }
}

/** A frame header parser for the given rules. */
export function frameHeader(rules: FrameRules = {}): FrameHeaderParser {
  return new FrameHeaderParser(rules);
}

/** Header plus payload. Atomic: it completes when the whole frame is buffered. */
class FrameParser extends Parser<Frame> {
  private readonly header: FrameHeaderParser;
  constructor(rules: FrameRules) {
    super('WebSocket frame');
    this.header = new FrameHeaderParser(rules);
  }
  readFast(s: Source): Frame | Incomplete {
    const m = s.mark();
    try {
      const h = this.header.readFast(s);
      if (h === INCOMPLETE) {
        const needed = s.needed;
        s.reset(m);
        s.needed = needed;
        return INCOMPLETE;
      }
      const n = h.length;
      const inChunk = s.off + n <= s.lim;
      const p = s.take(n, 'WebSocket frame payload');
      if (p === INCOMPLETE) {
        const needed = s.needed;
        s.reset(m);
        s.needed = needed;
        return INCOMPLETE;
      }
      s.commit();
      let payload = p;
      if (h.masked) {
        // A view of a received chunk is copied before unmasking; a gathered copy is already ours.
        if (inChunk) {
          payload = allocBytes(n);
          maskCopy(p, payload, 0, h.maskKey);
        } else {
          maskInPlace(p, 0, n, h.maskKey);
        }
      }
      return { fin: h.fin, rsv: h.rsv, opcode: h.opcode, mask: h.masked ? h.maskKey : undefined, payload };
    } catch (e) {
      s.reset(m);
      throw e;
    }
  }
  override write(w: Writer, f: Frame): void {
    checkFrame(f.fin, f.rsv, f.opcode, f.payload.length, f.mask);
    const n = f.payload.length;
    w.ensure(frameHeaderSize(n, f.mask !== undefined) + n);
    w.pos += writeFrameHeader(w.buf, w.pos, f.fin, f.rsv, f.opcode, n, f.mask);
    if (f.mask === undefined) w.bytes(f.payload);
    else {
      maskCopy(f.payload, w.buf, w.pos, f.mask);
      w.pos += n;
    }
  }
}

/** A whole-frame parser (header, then the payload, unmasked) and encoder. */
export function frame(rules: FrameRules = {}): Parser<Frame> {
  return new FrameParser(rules);
}

// ---------------------------------------------------------------- encoding

/** Header length for a payload of `length` bytes: 2, 4 or 10, plus 4 when masked. */
export function frameHeaderSize(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

function checkFrame(fin: boolean, rsv: number, opcode: number, length: number, mask: number | undefined): void {
  if (!isDefinedOpcode(opcode)) throw new EncodeError('ERR_ENCODE_RANGE', `opcode ${opcode} is reserved`);
  if (!Number.isInteger(rsv) || rsv < 0 || rsv > 7) throw new EncodeError('ERR_ENCODE_RANGE', `rsv ${rsv}`);
  if (isControlOpcode(opcode) && (!fin || length > MAX_CONTROL_PAYLOAD)) {
    throw new EncodeError('ERR_ENCODE_RANGE', `control frames have FIN and at most ${MAX_CONTROL_PAYLOAD} bytes (got ${length})`);
  }
  if (mask !== undefined && !(Number.isInteger(mask) && mask >= 0 && mask < TWO_32)) {
    throw new EncodeError('ERR_ENCODE_RANGE', `mask ${mask} is not a 32-bit unsigned integer`);
  }
}

/**
 * Writes a frame header at `out[at..]` (which must have room, see
 * {@link frameHeaderSize}) with the minimal length encoding. `mask`
 * undefined writes an unmasked header. Returns the header length. No checks:
 * see {@link encodeFrame} for the checked form.
 */
export function writeFrameHeader(
  out: Uint8Array,
  at: number,
  fin: boolean,
  rsv: number,
  opcode: number,
  length: number,
  mask: number | undefined,
): number {
  out[at] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  const m = mask === undefined ? 0 : 0x80;
  let o = at + 2;
  if (length < 126) {
    out[at + 1] = m | length;
  } else if (length < 65536) {
    out[at + 1] = m | 126;
    out[at + 2] = length >>> 8;
    out[at + 3] = length & 0xff;
    o = at + 4;
  } else {
    out[at + 1] = m | 127;
    const hi = Math.floor(length / TWO_32);
    const lo = length >>> 0;
    out[at + 2] = hi >>> 24;
    out[at + 3] = (hi >>> 16) & 0xff;
    out[at + 4] = (hi >>> 8) & 0xff;
    out[at + 5] = hi & 0xff;
    out[at + 6] = lo >>> 24;
    out[at + 7] = (lo >>> 16) & 0xff;
    out[at + 8] = (lo >>> 8) & 0xff;
    out[at + 9] = lo & 0xff;
    o = at + 10;
  }
  if (mask !== undefined) {
    out[o] = mask >>> 24;
    out[o + 1] = (mask >>> 16) & 0xff;
    out[o + 2] = (mask >>> 8) & 0xff;
    out[o + 3] = mask & 0xff;
    o += 4;
  }
  return o - at;
}

/** What {@link encodeFrame} encodes. */
export interface FrameSpec {
  /** Default true. */
  readonly fin?: boolean;
  /** RSV bits (RSV1 = 4). Default 0. */
  readonly rsv?: number;
  readonly opcode: number;
  readonly payload: Uint8Array;
  /** The masking key (a client must mask every frame, a server must not: RFC 6455 section 5.1). */
  readonly mask?: number | undefined;
}

/** One frame as one array: the header and the payload (masked with `spec.mask` when given; `payload` is not modified). */
export function encodeFrame(spec: FrameSpec): Uint8Array {
  const fin = spec.fin ?? true;
  const rsv = spec.rsv ?? 0;
  const p = spec.payload;
  checkFrame(fin, rsv, spec.opcode, p.length, spec.mask);
  const out = allocBytes(frameHeaderSize(p.length, spec.mask !== undefined) + p.length);
  const hs = writeFrameHeader(out, 0, fin, rsv, spec.opcode, p.length, spec.mask);
  if (spec.mask === undefined) out.set(p, hs);
  else maskCopy(p, out, hs, spec.mask);
  return out;
}

/**
 * One frame as the arrays to send: one array when masked (the payload is
 * copied and masked after the header) or empty, else the header and the
 * payload itself (not copied: do not modify it until it is sent). The form a
 * sender hands to a vectored write; small parts are joined later by the
 * Session's output coalescing.
 */
export function encodeFrameParts(spec: FrameSpec): Uint8Array[] {
  const p = spec.payload;
  if (spec.mask !== undefined || p.length === 0) return [encodeFrame(spec)];
  const fin = spec.fin ?? true;
  const rsv = spec.rsv ?? 0;
  checkFrame(fin, rsv, spec.opcode, p.length, undefined);
  const header = new Uint8Array(frameHeaderSize(p.length, false));
  writeFrameHeader(header, 0, fin, rsv, spec.opcode, p.length, undefined);
  return [header, p];
}
