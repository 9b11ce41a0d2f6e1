/**
 * The TLS presentation language's vectors (RFC 8446 section 3.4) on the combinators: a length prefix
 * of 1, 2 or 3 bytes whose value must lie in the vector's `<floor..ceiling>` bounds, then exactly that
 * many bytes, read inside a length-scoped region. An element running past the region
 * (ERR_REGION_OVERRUN), a region not consumed exactly (ERR_REGION_UNDERRUN) or a length out of bounds
 * (ERR_MALFORMED) is a {@link ParseError}; the message decoders turn every ParseError into a
 * `decode_error` alert (RFC 8446 section 6.2).
 *
 * Each reader has its writer next to it; writers check the same bounds and raise an
 * {@link EncodeError} (ERR_ENCODE_RANGE) for a value that cannot be sent.
 *
 * @internal Shared by extensions.ts and messages.ts.
 */
import { EncodeError, ParseError } from '../../combinators/errors.js';
import { Parser } from '../../combinators/parser.js';
import { bytes, u16be, u24be, u8 } from '../../combinators/primitives.js';
import { INCOMPLETE, type Incomplete, type Source } from '../../combinators/source.js';
import type { Writer } from '../../combinators/writer.js';

/** Width of a vector's length prefix: `<..2^8-1>` is 1 byte, `<..2^16-1>` 2, `<..2^24-1>` 3. */
export type LengthWidth = 1 | 2 | 3;

const PREFIX = { 1: u8, 2: u16be, 3: u24be } as const;
const WRITER_PREFIX = { 1: 'u8', 2: 'u16be', 3: 'u24be' } as const;

/** A vector length prefix that raises ERR_MALFORMED at its own offset when outside `min..max`. */
class BoundedLength extends Parser<number> {
  private readonly prefix: Parser<number>;
  constructor(
    width: LengthWidth,
    private readonly min: number,
    private readonly max: number,
    name: string,
  ) {
    super(`${name} length`, width);
    this.prefix = PREFIX[width];
  }
  readFast(s: Source): number | Incomplete {
    const at = s.position;
    const v = this.prefix.readFast(s);
    if (v === INCOMPLETE) return v;
    if (v < this.min || v > this.max) throw new ParseError('ERR_MALFORMED', at, `${this.name} in ${this.min}..${this.max}`, `length ${v}`);
    return v;
  }
  override write(w: Writer, value: number): void {
    this.prefix.write(w, value);
  }
}

/** Bounds of a vector, in bytes, as written in the RFC: `<min..max>`. */
export interface VectorBounds {
  readonly width: LengthWidth;
  readonly min: number;
  readonly max: number;
  /** Name used in errors, e.g. "cipher_suites". */
  readonly name: string;
}

/**
 * `T items<min..max>`: a bounded length, then items read inside a region of exactly that many bytes.
 *
 * Written as a parser class rather than `gen` + `region`: handshake messages are full of small
 * vectors, and a generator plus a region object per vector was most of the decoding time (measured:
 * about a third of a ClientHello decode went to garbage collection). Handshake messages are decoded in
 * complete mode, where this fast path always finishes; streaming callers get the usual atomic retry.
 */
class VectorParser<T> extends Parser<T[]> {
  constructor(
    private readonly length: BoundedLength,
    private readonly item: Parser<T>,
    name: string,
  ) {
    super(name);
  }
  readFast(s: Source): T[] | Incomplete {
    const m = s.mark();
    try {
      const len = this.length.readFast(s);
      const v = len === INCOMPLETE ? INCOMPLETE : readRegion(s, len, this.name, this.readItems);
      if (v === INCOMPLETE) s.reset(m);
      else s.commit();
      return v;
    } catch (e) {
      s.reset(m);
      throw e;
    }
  }
  private readonly readItems = (s: Source): T[] => {
    const out: T[] = [];
    while (!s.atEnd) {
      const before = s.position;
      const v = this.item.readFast(s);
      // Unreachable with the whole region buffered (a short read raises at a region end); and an item
      // that reads nothing would loop forever.
      if (v === INCOMPLETE || s.position === before) throw new ParseError('ERR_MALFORMED', before, this.item.name, 'item made no progress');
      out.push(v);
    }
    return out;
  };
}

/**
 * @internal Runs `read` on exactly the next `len` bytes, as a length-scoped region: reading past it is
 * ERR_REGION_OVERRUN, stopping before its end ERR_REGION_UNDERRUN. Returns INCOMPLETE (with
 * `s.needed` set) while the region is not all buffered, or raises ERR_UNEXPECTED_END in complete mode;
 * the caller rolls back to its mark then.
 */
export function readRegion<T>(s: Source, len: number, name: string, read: (s: Source) => T): T | Incomplete {
  if (s.available < len) return s.short(len, name);
  s.pushLimit(len);
  try {
    const v = read(s);
    const left = s.remainingInRegion;
    if (left !== 0) throw new ParseError('ERR_REGION_UNDERRUN', s.position, `end of ${name}`, `${left} bytes not consumed`);
    return v;
  } finally {
    s.popLimit();
  }
}

/** `T items<min..max>`: a bounded length, then items read until the region ends. */
export function vector<T>(b: VectorBounds, item: Parser<T>): Parser<T[]> {
  return new VectorParser(new BoundedLength(b.width, b.min, b.max, b.name), item, b.name);
}

/** `opaque data<min..max>` (see {@link opaque}). */
class OpaqueParser extends Parser<Uint8Array> {
  constructor(
    private readonly length: BoundedLength,
    name: string,
  ) {
    super(name);
  }
  readFast(s: Source): Uint8Array | Incomplete {
    const m = s.mark();
    try {
      const len = this.length.readFast(s);
      if (len === INCOMPLETE) {
        s.reset(m);
        return INCOMPLETE;
      }
      const v = s.take(len, this.name);
      if (v === INCOMPLETE) {
        s.reset(m);
        return INCOMPLETE;
      }
      s.commit();
      return v;
    } catch (e) {
      s.reset(m);
      throw e;
    }
  }
}

/**
 * `opaque data<min..max>`: a bounded length, then the bytes (a view when they lie in one chunk, else an
 * owned copy).
 */
export function opaque(b: VectorBounds): Parser<Uint8Array> {
  return new OpaqueParser(new BoundedLength(b.width, b.min, b.max, b.name), b.name);
}

/** `opaque data[n]`: exactly `n` bytes. */
export function fixedBytes(n: number): Parser<Uint8Array> {
  return bytes(n);
}

function checkLength(b: VectorBounds, n: number): void {
  if (n < b.min || n > b.max) throw new EncodeError('ERR_ENCODE_RANGE', `${b.name}: ${n} bytes, ${b.min}..${b.max} allowed`);
}

/** Writes a vector: the length prefix is back-filled after `body` wrote the items, then checked. */
export function writeVector(w: Writer, b: VectorBounds, body: () => void): void {
  const mark = w.beginLength(WRITER_PREFIX[b.width]);
  body();
  checkLength(b, w.pos - mark.at - mark.width);
  w.endLength(mark);
}

/** Writes `opaque data<min..max>`. */
export function writeOpaque(w: Writer, b: VectorBounds, data: Uint8Array): void {
  checkLength(b, data.length);
  if (b.width === 1) w.u8(data.length);
  else if (b.width === 2) w.u16be(data.length);
  else w.u24be(data.length);
  w.bytes(data);
}

/** Writes `opaque data[n]`. */
export function writeFixedBytes(w: Writer, n: number, data: Uint8Array, name: string): void {
  if (data.length !== n) throw new EncodeError('ERR_ENCODE_RANGE', `${name}: ${data.length} bytes, exactly ${n} required`);
  w.bytes(data);
}

/** Writes a list of uint16 code points (cipher suites, groups, schemes, versions), checking each. */
export function writeU16s(w: Writer, values: readonly number[]): void {
  for (const v of values) w.u16be(v);
}
