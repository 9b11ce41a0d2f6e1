import { EncodeError, ParseError, UsageError } from './errors.js';
import { Parser, activeSource, resume, type Needed, type ParseGen } from './parser.js';
import { INCOMPLETE, type Incomplete, type Source } from './source.js';
import type { LengthPrefix, Writer } from './writer.js';
import { u16be, u16le, u24be, u32be, u32le, u8, varint } from './primitives.js';

export interface DelimitedOptions {
  /**
   * Longest record accepted, separator excluded. Past it the parser raises
   * ERR_TOO_LONG as soon as that many bytes have arrived without a separator,
   * so a peer cannot make it buffer without bound. Default 64 KiB.
   */
  readonly max?: number;
  /** Name used in errors. */
  readonly name?: string;
}

const DEFAULT_MAX_RECORD = 64 * 1024;

/**
 * Bytes up to a separator; the separator is consumed and not returned.
 * The record is a zero-copy view when it lies in one chunk. Scanning resumes
 * where it stopped, so feeding one byte at a time stays linear.
 *
 * ```ts
 * parse(until('\r\n'), bytesOf('PING\r\n'))   // -> bytes of "PING"
 * ```
 */
export function until(separator: Uint8Array | string, options: DelimitedOptions = {}): Parser<Uint8Array> {
  const sep = typeof separator === 'string' ? new TextEncoder().encode(separator) : separator;
  if (sep.length === 0) throw new EncodeError('ERR_ENCODE_RANGE', 'until: empty separator');
  return new UntilParser(sep, options.max ?? DEFAULT_MAX_RECORD, options.name);
}

/** A CRLF-terminated line (HTTP/1.1, RESP, SMTP), CRLF not included. */
export function line(options: DelimitedOptions = {}): Parser<Uint8Array> {
  return until('\r\n', { name: 'line', ...options });
}

/** A NUL-terminated string, NUL not included. */
export function cstring(options: DelimitedOptions = {}): Parser<Uint8Array> {
  return until(new Uint8Array([0]), { name: 'cstring', ...options });
}

class UntilParser extends Parser<Uint8Array> {
  constructor(
    private readonly sep: Uint8Array,
    private readonly max: number,
    name: string | undefined,
  ) {
    // Resumable: drivers and `yield*` keep the scan position across suspensions (see readSlow), so a
    // record fed in many small chunks is scanned once, not once per chunk.
    super(name ?? `until(${Array.from(sep, (x) => x.toString(16).padStart(2, '0')).join('')})`, -1, true);
  }

  readFast(s: Source): Uint8Array | Incomplete {
    return this.scanFrom(s, 0);
  }

  /** Looks for the separator from `from`; on success consumes record + separator. */
  private scanFrom(s: Source, from: number): Uint8Array | Incomplete {
    const sep = this.sep;
    const o = s.off;
    const b = s.buf;
    // Fast path: the whole record and separator are in the current chunk.
    if (from === 0 && sep.length <= 2) {
      const end = Math.min(s.lim, o + this.max + sep.length);
      const first = sep[0]!;
      // Short records are the common case: a plain loop finds their end faster than
      // TypedArray.indexOf's call overhead; long ones switch to indexOf (memchr speed).
      const quick = Math.min(end, o + 64);
      let j = -1;
      for (let i = o; i < quick; i++) {
        if (b[i] === first) {
          j = i;
          break;
        }
      }
      if (j === -1 && quick < end) j = b.indexOf(first, quick);
      while (j !== -1 && j + sep.length <= end) {
        if (sep.length === 1 || b[j + 1] === sep[1]) {
          s.off = j + sep.length;
          return b.subarray(o, j);
        }
        j = b.indexOf(first, j + 1);
      }
      if (j === -1 && end - o === this.max + sep.length) this.tooLong(s);
    }
    const d = s.indexOf(sep, from, this.max);
    if (d === -1) {
      if (s.available >= this.max + sep.length) this.tooLong(s);
      return s.shortUnknown(this.name);
    }
    const rec = s.take(d, this.name) as Uint8Array;
    s.skipBytes(sep.length, this.name);
    return rec;
  }

  private tooLong(s: Source): never {
    throw new ParseError('ERR_TOO_LONG', s.position, `${this.name} of at most ${this.max} bytes`, 'no separator found');
  }

  /** Resumable scan: remembers how far it looked, so byte-by-byte input stays linear. */
  override *readSlow(s: Source): ParseGen<Uint8Array> {
    let from = 0;
    for (;;) {
      const v = this.scanFrom(s, from);
      if (v !== INCOMPLETE) return v;
      from = Math.max(0, s.available - this.sep.length + 1);
      yield 0;
    }
  }

  override [Symbol.iterator](): Iterator<Needed, Uint8Array, undefined> {
    return this.readSlow(activeSource());
  }

  override write(w: Writer, value: Uint8Array): void {
    if (value.length > this.max) throw new EncodeError('ERR_ENCODE_RANGE', `${this.name}: ${value.length} > max ${this.max}`);
    if (indexOfBytes(value, this.sep) !== -1) throw new EncodeError('ERR_ENCODE_RANGE', `${this.name}: value contains the separator`);
    w.bytes(value).bytes(this.sep);
  }
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = hay.indexOf(needle[0]!); i !== -1 && i + needle.length <= hay.length; i = hay.indexOf(needle[0]!, i + 1)) {
    for (let t = 1; t < needle.length; t++) if (hay[i + t] !== needle[t]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Runs `inner` on exactly the next `n` bytes: inside, the region looks like
 * the whole input. Reading past it is ERR_REGION_OVERRUN; finishing before its
 * end is ERR_REGION_UNDERRUN (RFC-style "the length must match exactly").
 */
export function region<T>(n: number, inner: Parser<T>): Parser<T> {
  return new RegionParser(null, n, inner, Infinity, `region(${n})`);
}

export interface LengthPrefixedOptions {
  /** Largest length accepted (ERR_TOO_LONG above it). Default 16 MiB. */
  readonly max?: number;
  readonly name?: string;
}

const PREFIX_PARSERS: Record<LengthPrefix, Parser<number>> = {
  u8,
  u16be,
  u16le,
  u24be,
  u32be,
  u32le,
  varint,
};

/**
 * A length prefix, then a region of that many bytes parsed by `inner`, which
 * must consume it exactly. Encodes with a back-filled prefix.
 *
 * ```ts
 * const record = lengthPrefixed('varint', struct({ id: u16be, payload: rest }));
 * ```
 */
export function lengthPrefixed<T>(prefix: LengthPrefix, inner: Parser<T>, options: LengthPrefixedOptions = {}): Parser<T> {
  return new RegionParser(prefix, -1, inner, options.max ?? 16 * 1024 * 1024, options.name ?? `${prefix}-prefixed(${inner.name})`);
}

class RegionParser<T> extends Parser<T> {
  private readonly lengthParser: Parser<number> | null;
  constructor(
    private readonly prefix: LengthPrefix | null,
    private readonly n: number,
    private readonly inner: Parser<T>,
    private readonly max: number,
    name: string,
  ) {
    super(name, prefix === null && inner.fixedSize === n ? n : -1, inner.resumable);
    this.lengthParser = prefix === null ? null : PREFIX_PARSERS[prefix];
  }

  private checkLength(len: number, at: number): void {
    if (len > this.max) throw new ParseError('ERR_TOO_LONG', at, `${this.name} length <= ${this.max}`, `length ${len}`);
  }

  readFast(s: Source): T | Incomplete {
    const m = s.mark();
    let pushed = false;
    try {
      let len = this.n;
      if (this.lengthParser !== null) {
        const at = s.position;
        const l = this.lengthParser.readFast(s);
        if (l === INCOMPLETE) {
          s.reset(m);
          return l;
        }
        this.checkLength(l, at);
        len = l;
      }
      // A region reaching past the enclosing one can never be satisfied (waiting would hang).
      if (len > s.remainingInRegion) s.short(len, this.name);
      if (s.available < len && !s.ended) {
        // Wait for the whole region: the inner parser then runs once, without suspending. A resumable
        // inner parser streams instead (readSlow), so only a non-resumable one must fit in the buffer.
        s.needed = len - s.available;
        if (!this.inner.resumable && len > s.maxBuffered) s.short(len, this.name);
        s.reset(m);
        return INCOMPLETE;
      }
      s.pushLimit(len);
      pushed = true;
      const v = this.inner.readFast(s);
      if (v === INCOMPLETE) {
        // Unreachable for a complete region (short() raises at a region end); kept for safety.
        s.popLimit();
        pushed = false;
        s.reset(m);
        return v;
      }
      this.checkConsumed(s);
      s.popLimit();
      pushed = false;
      s.commit();
      return v;
    } catch (e) {
      if (pushed) s.popLimit();
      s.reset(m);
      throw e;
    }
  }

  private checkConsumed(s: Source): void {
    const left = s.remainingInRegion;
    if (left === 0) return;
    // The input ended inside the region: a truncation, not an inner parser that stopped early.
    if (s.ended && s.buffered === 0) throw new ParseError('ERR_UNEXPECTED_END', s.position, `end of ${this.name}`, `${left} bytes missing`);
    throw new ParseError('ERR_REGION_UNDERRUN', s.position, `end of ${this.name}`, `${left} bytes not consumed`);
  }

  /** Streams the region: the inner parser may suspend inside it (large regions). */
  override *readSlow(s: Source): ParseGen<T> {
    let len = this.n;
    if (this.lengthParser !== null) {
      const at = s.position;
      len = yield* delegate(this.lengthParser.readSlow(s), s);
      this.checkLength(len, at);
    }
    if (len > s.remainingInRegion) s.short(len, this.name);
    s.pushLimit(len);
    try {
      const v = yield* delegate(this.inner.readSlow(s), s);
      this.checkConsumed(s);
      return v;
    } finally {
      s.popLimit();
    }
  }

  override write(w: Writer, value: T): void {
    if (this.prefix === null) {
      const start = w.pos;
      this.inner.write(w, value);
      if (w.pos - start !== this.n) throw new EncodeError('ERR_ENCODE_RANGE', `${this.name}: wrote ${w.pos - start} bytes`);
      return;
    }
    const mark = w.beginLength(this.prefix, { minimal: true });
    this.inner.write(w, value);
    if (w.pos - mark.at - mark.width > this.max) throw new EncodeError('ERR_ENCODE_RANGE', `${this.name}: longer than ${this.max}`);
    w.endLength(mark);
  }
}

/** @internal Drives a sub-iterator with `s` active (for iterators made outside `yield*`). */
export function* delegate<T>(it: Iterator<Needed, T, undefined>, s: Source): ParseGen<T> {
  for (;;) {
    const r = resume(it, s);
    if (r.done) return r.value;
    yield r.value;
  }
}

/** Everything up to the end of the current region (or of complete-mode input). */
export const rest: Parser<Uint8Array> = new (class RestParser extends Parser<Uint8Array> {
  constructor() {
    super('rest');
  }
  readFast(s: Source): Uint8Array | Incomplete {
    const want = s.remainingInRegion;
    if (want !== Infinity) return s.take(want, this.name);
    if (!s.ended) return s.shortUnknown(this.name);
    return s.take(s.available, this.name);
  }
  override write(w: Writer, value: Uint8Array): void {
    w.bytes(value);
  }
})();

/**
 * `p` repeated until the end of the current region (or of complete-mode
 * input). Outside a region, in streaming mode, it completes only after
 * `end()`.
 */
export function manyUntilEnd<T>(p: Parser<T>): Parser<T[]> {
  return new ManyParser(p, -1);
}

/** Exactly `n` values of `p`. */
export function count<T>(p: Parser<T>, n: number): Parser<T[]> {
  return new ManyParser(p, n);
}

class ManyParser<T> extends Parser<T[]> {
  constructor(
    private readonly item: Parser<T>,
    private readonly n: number,
  ) {
    super(
      n < 0 ? `many(${item.name})` : `count(${item.name}, ${n})`,
      n >= 0 && item.fixedSize >= 0 ? n * item.fixedSize : -1,
      item.resumable,
    );
  }
  private more(s: Source, got: number): boolean {
    return this.n < 0 ? !s.atEnd : got < this.n;
  }
  readFast(s: Source): T[] | Incomplete {
    const m = s.mark();
    const out: T[] = [];
    try {
      while (this.more(s, out.length)) {
        const at = s.position;
        const v = this.item.readFast(s);
        if (v === INCOMPLETE) {
          s.reset(m);
          return INCOMPLETE;
        }
        if (this.n < 0 && s.position === at) this.noProgress();
        out.push(v);
      }
      if (this.n < 0 && !s.atEnd) {
        s.reset(m);
        return s.shortUnknown(this.name);
      }
    } catch (e) {
      s.reset(m);
      throw e;
    }
    s.commit();
    return out;
  }
  override *readSlow(s: Source): ParseGen<T[]> {
    const out: T[] = [];
    for (;;) {
      if (this.n < 0 && !s.atEnd && s.available === 0) {
        // Not at the end, nothing buffered: wait (raises at an ended Source).
        if (s.shortUnknown(this.name) === INCOMPLETE) yield 0;
        continue;
      }
      if (!this.more(s, out.length)) return out;
      const at = s.position;
      out.push(yield* delegate(this.item.readSlow(s), s));
      if (this.n < 0 && s.position === at) this.noProgress();
    }
  }
  /** An item that reads nothing would repeat forever (a grammar bug, whatever the input). */
  private noProgress(): never {
    throw new UsageError(`${this.name}: the item parser consumed no input, so the list would never end`);
  }
  override write(w: Writer, value: T[]): void {
    if (this.n >= 0 && value.length !== this.n) throw new EncodeError('ERR_ENCODE_RANGE', `${this.name}: ${value.length} values`);
    for (const v of value) this.item.write(w, v);
  }
}
