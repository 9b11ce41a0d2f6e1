import { EncodeError, ParseError } from './errors.js';
import { Parser } from './parser.js';
import { INCOMPLETE, type Incomplete, type Source } from './source.js';
import type { Writer } from './writer.js';

/**
 * Fixed-size primitives. Each is described once, by a reader over
 * `(bytes, offset)` and a Writer method; the parser classes, the compiled
 * `struct` and the encoders all come from that description.
 */
export interface FixedSpec<T> {
  readonly name: string;
  readonly size: number;
  /** Reads the value at `b[o..o+size)`; returns `undefined` for a value the type rejects. */
  read(b: Uint8Array, o: number): T | undefined;
  write(w: Writer, v: T): void;
  /** What the rejection means, for types whose `read` can return undefined. */
  readonly reject?: { readonly code: 'ERR_NUMBER_RANGE' | 'ERR_MALFORMED'; readonly detail: string };
}

const TWO_32 = 2 ** 32;
const floatScratch = new DataView(new ArrayBuffer(8));
const floatBytes = new Uint8Array(floatScratch.buffer);

function copy8(b: Uint8Array, o: number, n: number): void {
  for (let i = 0; i < n; i++) floatBytes[i] = b[o + i]!;
}

const u32beAt = (b: Uint8Array, o: number): number => b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
const u32leAt = (b: Uint8Array, o: number): number => b[o + 3]! * 0x1000000 + ((b[o + 2]! << 16) | (b[o + 1]! << 8) | b[o]!);

/** A parser (and encoder) for one fixed-size primitive. */
export class FixedParser<T> extends Parser<T> {
  readonly spec: FixedSpec<T>;
  constructor(spec: FixedSpec<T>) {
    super(spec.name, spec.size);
    this.spec = spec;
  }
  readFast(s: Source): T | Incomplete {
    const o = s.off;
    const n = this.spec.size;
    let v: T | undefined;
    if (o + n <= s.lim) {
      v = this.spec.read(s.buf, o);
      if (v === undefined) throw this.rejected(s.position);
      s.off = o + n;
      return v;
    }
    const at = s.position;
    const g = s.gather(n, this.name);
    if (g === INCOMPLETE) return g;
    v = this.spec.read(g, 0);
    if (v === undefined) throw this.rejected(at);
    return v;
  }
  override write(w: Writer, value: T): void {
    this.spec.write(w, value);
  }
  private rejected(at: number): ParseError {
    const r = this.spec.reject ?? { code: 'ERR_MALFORMED' as const, detail: 'rejected value' };
    return new ParseError(r.code, at, this.name, r.detail);
  }
}

const fixed = <T>(spec: FixedSpec<T>): FixedParser<T> => new FixedParser(spec);

/**
 * The most used primitives get their own class: `FixedParser.readFast` is
 * shared by every primitive, so its call to `spec.read` turns megamorphic in a
 * program that uses many of them; these fast paths stay monomorphic and inline.
 */
class U8Parser extends FixedParser<number> {
  override readFast(s: Source): number | Incomplete {
    const o = s.off;
    if (o < s.lim) {
      s.off = o + 1;
      return s.buf[o]!;
    }
    return super.readFast(s);
  }
}
class U16beParser extends FixedParser<number> {
  override readFast(s: Source): number | Incomplete {
    const o = s.off;
    if (o + 2 <= s.lim) {
      const b = s.buf;
      s.off = o + 2;
      return (b[o]! << 8) | b[o + 1]!;
    }
    return super.readFast(s);
  }
}
class U32beParser extends FixedParser<number> {
  override readFast(s: Source): number | Incomplete {
    const o = s.off;
    if (o + 4 <= s.lim) {
      s.off = o + 4;
      return u32beAt(s.buf, o);
    }
    return super.readFast(s);
  }
}

export const u8: FixedParser<number> = new U8Parser({ name: 'u8', size: 1, read: (b, o) => b[o]!, write: (w, v) => w.u8(v) });
export const i8 = fixed<number>({ name: 'i8', size: 1, read: (b, o) => (b[o]! << 24) >> 24, write: (w, v) => w.i8(v) });
export const u16be: FixedParser<number> = new U16beParser({
  name: 'u16be',
  size: 2,
  read: (b, o) => (b[o]! << 8) | b[o + 1]!,
  write: (w, v) => w.u16be(v),
});
export const u16le = fixed<number>({ name: 'u16le', size: 2, read: (b, o) => (b[o + 1]! << 8) | b[o]!, write: (w, v) => w.u16le(v) });
export const i16be = fixed<number>({
  name: 'i16be',
  size: 2,
  read: (b, o) => ((b[o]! << 24) >> 16) | b[o + 1]!,
  write: (w, v) => w.i16be(v),
});
export const i16le = fixed<number>({
  name: 'i16le',
  size: 2,
  read: (b, o) => ((b[o + 1]! << 24) >> 16) | b[o]!,
  write: (w, v) => w.i16le(v),
});
export const u24be = fixed<number>({
  name: 'u24be',
  size: 3,
  read: (b, o) => (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!,
  write: (w, v) => w.u24be(v),
});
export const u24le = fixed<number>({
  name: 'u24le',
  size: 3,
  read: (b, o) => (b[o + 2]! << 16) | (b[o + 1]! << 8) | b[o]!,
  write: (w, v) => w.u24le(v),
});
export const u32be: FixedParser<number> = new U32beParser({ name: 'u32be', size: 4, read: u32beAt, write: (w, v) => w.u32be(v) });
export const u32le = fixed<number>({ name: 'u32le', size: 4, read: u32leAt, write: (w, v) => w.u32le(v) });
export const i32be = fixed<number>({
  name: 'i32be',
  size: 4,
  read: (b, o) => (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!,
  write: (w, v) => w.i32be(v),
});
export const i32le = fixed<number>({
  name: 'i32le',
  size: 4,
  read: (b, o) => (b[o + 3]! << 24) | (b[o + 2]! << 16) | (b[o + 1]! << 8) | b[o]!,
  write: (w, v) => w.i32le(v),
});
export const u64be = fixed<bigint>({
  name: 'u64be',
  size: 8,
  read: (b, o) => (BigInt(u32beAt(b, o)) << 32n) | BigInt(u32beAt(b, o + 4)),
  write: (w, v) => w.u64be(v),
});
export const u64le = fixed<bigint>({
  name: 'u64le',
  size: 8,
  read: (b, o) => (BigInt(u32leAt(b, o + 4)) << 32n) | BigInt(u32leAt(b, o)),
  write: (w, v) => w.u64le(v),
});
export const i64be = fixed<bigint>({
  name: 'i64be',
  size: 8,
  read: (b, o) => BigInt.asIntN(64, (BigInt(u32beAt(b, o)) << 32n) | BigInt(u32beAt(b, o + 4))),
  write: (w, v) => w.i64be(v),
});
export const i64le = fixed<bigint>({
  name: 'i64le',
  size: 8,
  read: (b, o) => BigInt.asIntN(64, (BigInt(u32leAt(b, o + 4)) << 32n) | BigInt(u32leAt(b, o))),
  write: (w, v) => w.i64le(v),
});
const NUMBER_RANGE = { code: 'ERR_NUMBER_RANGE', detail: 'value above 2^53 - 1; use the bigint variant' } as const;
/** u64 as a number; values above 2^53 - 1 raise ERR_NUMBER_RANGE. */
export const u64beNumber = fixed<number>({
  name: 'u64be(number)',
  size: 8,
  read: (b, o) => {
    const hi = u32beAt(b, o);
    return hi < 0x200000 ? hi * TWO_32 + u32beAt(b, o + 4) : undefined;
  },
  write: (w, v) => w.u64be(v),
  reject: NUMBER_RANGE,
});
export const u64leNumber = fixed<number>({
  name: 'u64le(number)',
  size: 8,
  read: (b, o) => {
    const hi = u32leAt(b, o + 4);
    return hi < 0x200000 ? hi * TWO_32 + u32leAt(b, o) : undefined;
  },
  write: (w, v) => w.u64le(v),
  reject: NUMBER_RANGE,
});
export const f32be = fixed<number>({
  name: 'f32be',
  size: 4,
  read: (b, o) => (copy8(b, o, 4), floatScratch.getFloat32(0, false)),
  write: (w, v) => w.f32be(v),
});
export const f32le = fixed<number>({
  name: 'f32le',
  size: 4,
  read: (b, o) => (copy8(b, o, 4), floatScratch.getFloat32(0, true)),
  write: (w, v) => w.f32le(v),
});
export const f64be = fixed<number>({
  name: 'f64be',
  size: 8,
  read: (b, o) => (copy8(b, o, 8), floatScratch.getFloat64(0, false)),
  write: (w, v) => w.f64be(v),
});
export const f64le = fixed<number>({
  name: 'f64le',
  size: 8,
  read: (b, o) => (copy8(b, o, 8), floatScratch.getFloat64(0, true)),
  write: (w, v) => w.f64le(v),
});

/**
 * QUIC variable-length integer (RFC 9000 section 16): the two high bits of
 * the first byte give the length (1, 2, 4 or 8 bytes), the rest is the value,
 * big-endian. Non-minimal encodings are accepted, as section 16 allows
 * (frame types, which must be minimal, are checked by the QUIC layer).
 * Values above 2^53 - 1 raise ERR_NUMBER_RANGE: use {@link varintBig} for
 * the full 62-bit range.
 */
class VarintParser extends Parser<number> {
  constructor() {
    super('varint');
  }
  readFast(s: Source): number | Incomplete {
    const o = s.off;
    const b = s.buf;
    if (o < s.lim) {
      const first = b[o]!;
      const len = 1 << (first >> 6);
      if (o + len <= s.lim) {
        if (len === 1) {
          s.off = o + 1;
          return first;
        }
        if (len === 2) {
          s.off = o + 2;
          return ((first & 0x3f) << 8) | b[o + 1]!;
        }
        if (len === 4) {
          s.off = o + 4;
          return (first & 0x3f) * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
        }
        const hi = (first & 0x3f) * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
        if (hi >= 0x200000) throw tooBig(s);
        s.off = o + 8;
        return hi * TWO_32 + (b[o + 4]! * 0x1000000 + ((b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!));
      }
    }
    return this.readSpanning(s);
  }
  /** The varint starts at a chunk end or spans chunks. */
  private readSpanning(s: Source): number | Incomplete {
    const first = s.byteAt(0);
    if (first === -1) return s.short(1, 'varint');
    const len = 1 << (first >> 6);
    const at = s.position;
    const g = s.gather(len, 'varint');
    if (g === INCOMPLETE) return g;
    const v = varintAt(g, 0, len);
    if (v === undefined) throw new ParseError('ERR_NUMBER_RANGE', at, 'varint', NUMBER_RANGE.detail);
    return v;
  }
  override write(w: Writer, value: number): void {
    w.varint(value);
  }
}

function tooBig(s: Source): ParseError {
  return new ParseError('ERR_NUMBER_RANGE', s.position, 'varint', NUMBER_RANGE.detail);
}

function varint8At(b: Uint8Array, o: number): number | undefined {
  const hi = (b[o]! & 0x3f) * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
  return hi < 0x200000 ? hi * TWO_32 + u32beAt(b, o + 4) : undefined;
}

function varintAt(b: Uint8Array, o: number, len: number): number | undefined {
  const first = b[o]! & 0x3f;
  if (len === 1) return first;
  if (len === 2) return (first << 8) | b[o + 1]!;
  if (len === 4) return first * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
  return varint8At(b, o);
}

export const varint: Parser<number> = new VarintParser();

/** QUIC varint as a bigint: the full range 0..2^62-1. */
class VarintBigParser extends Parser<bigint> {
  constructor() {
    super('varint(bigint)');
  }
  readFast(s: Source): bigint | Incomplete {
    const first = s.off < s.lim ? s.buf[s.off]! : s.byteAt(0);
    if (first === -1) return s.short(1, this.name);
    const len = 1 << (first >> 6);
    const o = s.off;
    if (o + len <= s.lim) {
      s.off = o + len;
      return varintBigAt(s.buf, o, len);
    }
    const g = s.gather(len, this.name);
    return g === INCOMPLETE ? g : varintBigAt(g, 0, len);
  }
  override write(w: Writer, value: bigint): void {
    w.varint(value);
  }
}

function varintBigAt(b: Uint8Array, o: number, len: number): bigint {
  if (len < 8) return BigInt(varintAt(b, o, len)!);
  const hi = (b[o]! & 0x3f) * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
  return (BigInt(hi) << 32n) | BigInt(u32beAt(b, o + 4));
}

export const varintBig: Parser<bigint> = new VarintBigParser();

/**
 * `n` bytes. When they lie inside one fed chunk the result is a zero-copy
 * view (`subarray`) of that chunk: it stays valid as long as you do not
 * modify or reuse the buffer you fed. Call `.slice()` to own a copy. When
 * they span chunks the result is already an owned copy.
 */
export function bytes(n: number): Parser<Uint8Array> {
  return new BytesParser(n);
}

class BytesParser extends Parser<Uint8Array> {
  constructor(private readonly n: number) {
    // A constant name: bytes(n) is created per record in generator parsers, so no string building here
    // (errors report the byte count themselves).
    super('bytes', n);
  }
  readFast(s: Source): Uint8Array | Incomplete {
    return s.take(this.n, this.name);
  }
  override write(w: Writer, value: Uint8Array): void {
    if (value.length !== this.n) throw new EncodeError('ERR_ENCODE_RANGE', `${this.name}: got ${value.length} bytes`);
    w.bytes(value);
  }
}

/** Skips `n` bytes. */
export function skip(n: number): Parser<void> {
  return new SkipParser(n);
}

class SkipParser extends Parser<void> {
  constructor(private readonly n: number) {
    super(`skip(${n})`, n);
  }
  readFast(s: Source): void | Incomplete {
    return s.skipBytes(this.n, this.name);
  }
  override write(w: Writer): void {
    w.zeros(this.n);
  }
}

/**
 * Exactly these bytes (a magic number, a version string, a CRLF), or
 * ERR_MALFORMED at the first byte that differs.
 */
export function literal(expected: Uint8Array | string): Parser<void> {
  return new LiteralParser(typeof expected === 'string' ? new TextEncoder().encode(expected) : expected);
}

class LiteralParser extends Parser<void> {
  constructor(private readonly want: Uint8Array) {
    super(`literal(${Array.from(want, (x) => x.toString(16).padStart(2, '0')).join('')})`, want.length);
  }
  readFast(s: Source): void | Incomplete {
    const n = this.want.length;
    const avail = Math.min(s.available, n);
    // Fail at the first wrong byte even before the whole literal has arrived.
    for (let i = 0; i < avail; i++) {
      if (s.byteAt(i) !== this.want[i]) throw new ParseError('ERR_MALFORMED', s.position + i, this.name);
    }
    if (avail < n) return s.short(n, this.name);
    return s.skipBytes(n, this.name);
  }
  override write(w: Writer): void {
    w.bytes(this.want);
  }
}

/** Runs `p` without consuming anything: looks ahead. */
export function peek<T>(p: Parser<T>): Parser<T> {
  return new PeekParser(p);
}

class PeekParser<T> extends Parser<T> {
  constructor(private readonly inner: Parser<T>) {
    super(`peek(${inner.name})`);
  }
  readFast(s: Source): T | Incomplete {
    const m = s.mark();
    try {
      return this.inner.readFast(s);
    } finally {
      s.reset(m);
    }
  }
  override write(): void {
    // A look-ahead writes nothing: the bytes belong to whatever parser reads them next.
  }
}
