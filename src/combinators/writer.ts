import { EncodeError, UsageError } from './errors.js';

export interface WriterOptions {
  /** Initial capacity of a growable Writer (default 256 bytes). */
  readonly initialSize?: number;
  /**
   * Write into this buffer and never grow: a write past its end raises
   * ERR_WRITER_OVERFLOW. For pooled buffers and datagrams with a size budget.
   */
  readonly buffer?: Uint8Array;
}

/** Width of a back-filled length prefix (see {@link Writer.beginLength}). */
export type LengthPrefix = 'u8' | 'u16be' | 'u16le' | 'u24be' | 'u32be' | 'u32le' | 'varint';

/** Marker returned by `beginLength`, passed back to `endLength`. */
export interface LengthMark {
  readonly at: number;
  readonly prefix: LengthPrefix;
  readonly width: number;
  readonly minimal: boolean;
}

const TWO_32 = 2 ** 32;
/** Largest QUIC variable-length integer, 2^62 - 1 (RFC 9000 section 16). */
export const VARINT_MAX = 2n ** 62n - 1n;

/** Bytes a QUIC varint of `v` takes in its shortest form (RFC 9000 section 16). */
export function varintSize(v: number | bigint): 1 | 2 | 4 | 8 {
  if (typeof v === 'bigint') {
    if (v < 0n || v > VARINT_MAX) throw new EncodeError('ERR_ENCODE_RANGE', `varint ${v} outside 0..2^62-1`);
    if (v < 0x40n) return 1;
    if (v < 0x4000n) return 2;
    if (v < 0x40000000n) return 4;
    return 8;
  }
  if (!(v >= 0) || !Number.isInteger(v) || v > Number.MAX_SAFE_INTEGER) {
    throw new EncodeError('ERR_ENCODE_RANGE', `varint ${v} is not an integer in 0..2^53-1 (use a bigint above)`);
  }
  if (v < 0x40) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x40000000) return 4;
  return 8;
}

/**
 * Serializes into a growable buffer, or into a fixed one without allocating.
 * Every parser's `write` method writes here. `finish()` returns a view of
 * what was written (valid until the next write or `reset`).
 */
export class Writer {
  /** @internal */
  buf: Uint8Array;
  /** Bytes written so far. */
  pos = 0;
  private readonly fixed: boolean;

  constructor(options: WriterOptions = {}) {
    if (options.buffer !== undefined) {
      this.buf = options.buffer;
      this.fixed = true;
    } else {
      this.buf = new Uint8Array(options.initialSize ?? 256);
      this.fixed = false;
    }
  }

  /** Room left in a fixed Writer (Infinity when growable). */
  get remaining(): number {
    return this.fixed ? this.buf.length - this.pos : Infinity;
  }

  /** Forgets what was written; the buffer is reused. */
  reset(): void {
    this.pos = 0;
  }

  /** The bytes written so far, as a view of the Writer's buffer. */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** The bytes written so far, as an owned copy. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** @internal Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.fixed) {
      throw new EncodeError('ERR_WRITER_OVERFLOW', `${n} bytes at ${this.pos}, buffer holds ${this.buf.length}`);
    }
    let size = Math.max(1, this.buf.length * 2); // an initialSize of 0 must still grow
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private checkUint(v: number, max: number, what: string): void {
    if (!(v >= 0 && v <= max) || !Number.isInteger(v)) throw new EncodeError('ERR_ENCODE_RANGE', `${what}: ${v}`);
  }
  private checkInt(v: number, min: number, max: number, what: string): void {
    if (!(v >= min && v <= max) || !Number.isInteger(v)) throw new EncodeError('ERR_ENCODE_RANGE', `${what}: ${v}`);
  }

  u8(v: number): this {
    this.checkUint(v, 0xff, 'u8');
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }
  i8(v: number): this {
    this.checkInt(v, -0x80, 0x7f, 'i8');
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }
  u16be(v: number): this {
    this.checkUint(v, 0xffff, 'u16');
    return this.raw16be(v);
  }
  u16le(v: number): this {
    this.checkUint(v, 0xffff, 'u16');
    return this.raw16le(v);
  }
  i16be(v: number): this {
    this.checkInt(v, -0x8000, 0x7fff, 'i16');
    return this.raw16be(v & 0xffff);
  }
  i16le(v: number): this {
    this.checkInt(v, -0x8000, 0x7fff, 'i16');
    return this.raw16le(v & 0xffff);
  }
  u24be(v: number): this {
    this.checkUint(v, 0xffffff, 'u24');
    this.ensure(3);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 16;
    b[p + 1] = v >>> 8;
    b[p + 2] = v;
    this.pos = p + 3;
    return this;
  }
  u24le(v: number): this {
    this.checkUint(v, 0xffffff, 'u24');
    this.ensure(3);
    const b = this.buf;
    const p = this.pos;
    b[p] = v;
    b[p + 1] = v >>> 8;
    b[p + 2] = v >>> 16;
    this.pos = p + 3;
    return this;
  }
  u32be(v: number): this {
    this.checkUint(v, 0xffffffff, 'u32');
    return this.raw32be(v);
  }
  u32le(v: number): this {
    this.checkUint(v, 0xffffffff, 'u32');
    return this.raw32le(v);
  }
  i32be(v: number): this {
    this.checkInt(v, -0x80000000, 0x7fffffff, 'i32');
    return this.raw32be(v >>> 0);
  }
  i32le(v: number): this {
    this.checkInt(v, -0x80000000, 0x7fffffff, 'i32');
    return this.raw32le(v >>> 0);
  }
  /** 64-bit unsigned, from a bigint or a safe integer number. */
  u64be(v: bigint | number): this {
    const [hi, lo] = split64(v, false);
    return this.raw32be(hi).raw32be(lo);
  }
  u64le(v: bigint | number): this {
    const [hi, lo] = split64(v, false);
    return this.raw32le(lo).raw32le(hi);
  }
  i64be(v: bigint | number): this {
    const [hi, lo] = split64(v, true);
    return this.raw32be(hi).raw32be(lo);
  }
  i64le(v: bigint | number): this {
    const [hi, lo] = split64(v, true);
    return this.raw32le(lo).raw32le(hi);
  }
  f32be(v: number): this {
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).setFloat32(0, v, false);
    this.pos += 4;
    return this;
  }
  f32le(v: number): this {
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).setFloat32(0, v, true);
    this.pos += 4;
    return this;
  }
  f64be(v: number): this {
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).setFloat64(0, v, false);
    this.pos += 8;
    return this;
  }
  f64le(v: number): this {
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).setFloat64(0, v, true);
    this.pos += 8;
    return this;
  }

  /**
   * QUIC variable-length integer (RFC 9000 section 16), shortest form unless
   * `width` forces a longer one (QUIC allows non-minimal lengths, e.g. a
   * 2-byte Length reserved before a packet payload is known).
   */
  varint(v: number | bigint, width?: 1 | 2 | 4 | 8): this {
    const min = varintSize(v);
    const w = width ?? min;
    if (w < min) throw new EncodeError('ERR_ENCODE_RANGE', `varint ${v} needs ${min} bytes, ${w} requested`);
    this.ensure(w);
    const b = this.buf;
    const p = this.pos;
    if (w === 1) {
      b[p] = Number(v);
    } else if (w === 2) {
      const n = Number(v);
      b[p] = 0x40 | (n >>> 8);
      b[p + 1] = n;
    } else if (w === 4) {
      const n = Number(v);
      b[p] = 0x80 | (n >>> 24);
      b[p + 1] = n >>> 16;
      b[p + 2] = n >>> 8;
      b[p + 3] = n;
    } else {
      const [hi, lo] = split64(v, false);
      this.raw32be((hi | 0xc0000000) >>> 0).raw32be(lo);
      return this;
    }
    this.pos = p + w;
    return this;
  }

  /** Copies `bytes` in. */
  bytes(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** `n` zero bytes (padding). */
  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }

  /**
   * Reserves a length prefix; the bytes written until `endLength(mark)` are
   * counted and the prefix is back-filled. A varint prefix reserves `width`
   * bytes (default 2): if the length turns out to need more, or `minimal` is
   * set and it needs fewer, the body is moved (one copyWithin) so the prefix
   * has the right size.
   */
  beginLength(prefix: LengthPrefix, options: { width?: 1 | 2 | 4 | 8; minimal?: boolean } = {}): LengthMark {
    const width = prefix === 'varint' ? (options.width ?? 2) : PREFIX_WIDTH[prefix];
    this.ensure(width);
    const mark: LengthMark = { at: this.pos, prefix, width, minimal: options.minimal ?? false };
    this.pos += width;
    return mark;
  }

  endLength(mark: LengthMark): this {
    const bodyStart = mark.at + mark.width;
    if (bodyStart > this.pos) throw new UsageError('endLength: the Writer was reset after beginLength');
    const len = this.pos - bodyStart;
    const end = this.pos;
    if (mark.prefix === 'varint') {
      const need = varintSize(len);
      const width = need > mark.width || mark.minimal ? need : (mark.width as 1 | 2 | 4 | 8);
      if (width !== mark.width) {
        const shift = width - mark.width;
        if (shift > 0) this.ensure(shift);
        this.buf.copyWithin(bodyStart + shift, bodyStart, end);
      }
      this.pos = mark.at;
      this.varint(len, width);
      this.pos = mark.at + width + len;
      return this;
    }
    this.pos = mark.at;
    switch (mark.prefix) {
      case 'u8':
        this.u8(len);
        break;
      case 'u16be':
        this.u16be(len);
        break;
      case 'u16le':
        this.u16le(len);
        break;
      case 'u24be':
        this.u24be(len);
        break;
      case 'u32be':
        this.u32be(len);
        break;
      case 'u32le':
        this.u32le(len);
        break;
      default: {
        const never: never = mark.prefix;
        throw new UsageError(`unknown length prefix ${String(never)}`);
      }
    }
    this.pos = end;
    return this;
  }

  private raw16be(v: number): this {
    this.ensure(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 8;
    b[p + 1] = v;
    this.pos = p + 2;
    return this;
  }
  private raw16le(v: number): this {
    this.ensure(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = v;
    b[p + 1] = v >>> 8;
    this.pos = p + 2;
    return this;
  }
  private raw32be(v: number): this {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.pos = p + 4;
    return this;
  }
  private raw32le(v: number): this {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v;
    b[p + 1] = v >>> 8;
    b[p + 2] = v >>> 16;
    b[p + 3] = v >>> 24;
    this.pos = p + 4;
    return this;
  }
}

const PREFIX_WIDTH = { u8: 1, u16be: 2, u16le: 2, u24be: 3, u32be: 4, u32le: 4 } as const;

/** Splits a 64-bit integer into unsigned 32-bit halves, checking its range. */
function split64(v: bigint | number, signed: boolean): [number, number] {
  if (typeof v === 'number') {
    if (v >= 0 && Number.isSafeInteger(v)) return [Math.floor(v / TWO_32), v >>> 0];
    if (!Number.isSafeInteger(v) || !signed) {
      throw new EncodeError('ERR_ENCODE_RANGE', `64-bit value ${v} is not a safe ${signed ? '' : 'non-negative '}integer (use a bigint)`);
    }
    v = BigInt(v);
  }
  const min = signed ? -(2n ** 63n) : 0n;
  const max = signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
  if (v < min || v > max) throw new EncodeError('ERR_ENCODE_RANGE', `64-bit value ${v} out of range`);
  const u = BigInt.asUintN(64, v);
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
}
