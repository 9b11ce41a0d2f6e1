/**
 * Small parsers for text-framed protocols (RESP, HTTP/1.1 chunk sizes,
 * memcached, SMTP): a decimal integer on its own CRLF-terminated line, and a
 * bare CRLF. They allocate nothing on their fast path, which is what makes a
 * record loop over short lines (a RESP integer reply) as cheap as a
 * hand-written one: `line()` followed by a parse of the returned view costs a
 * `subarray` (~35 ns) per line.
 */
import { INCOMPLETE, ParseError, Parser, line, literal, type Incomplete, type Source, type Writer } from '../combinators/index.js';

const CRLF = Uint8Array.of(13, 10);
const crlfLiteral = literal(CRLF);

export interface DecimalLineOptions {
  /** Most digits accepted (sign excluded). Default 19 (the longest signed 64-bit value). */
  readonly maxDigits?: number;
  /** Accept a leading '+' or '-' (default true). */
  readonly signed?: boolean;
}

/**
 * `[+|-]DIGITS CRLF` as a number. Values beyond 2^53 - 1 raise
 * ERR_NUMBER_RANGE (use {@link decimalLineBig}); an empty number, a
 * non-digit or a missing CRLF raise ERR_MALFORMED; more than `maxDigits`
 * digits raise ERR_TOO_LONG.
 */
export function decimalLine(options: DecimalLineOptions = {}): Parser<number> {
  return new DecimalLine(options.maxDigits ?? 19, options.signed ?? true, false) as Parser<number>;
}

/** Like {@link decimalLine}, but a value beyond 2^53 - 1 comes back as a bigint instead of raising. */
export function decimalLineBig(options: DecimalLineOptions = {}): Parser<number | bigint> {
  return new DecimalLine(options.maxDigits ?? 19, options.signed ?? true, true);
}

class DecimalLine extends Parser<number | bigint> {
  constructor(
    private readonly maxDigits: number,
    private readonly signed: boolean,
    private readonly big: boolean,
  ) {
    super('decimal line');
  }

  readFast(s: Source): number | bigint | Incomplete {
    // Fast path: the whole line is in the current chunk.
    const b = s.buf;
    const o = s.off;
    const lim = s.lim;
    let i = o;
    let neg = false;
    if (i < lim && this.signed) {
      const c = b[i]!;
      if (c === 0x2d) {
        neg = true;
        i++;
      } else if (c === 0x2b) i++;
    }
    const start = i;
    let v = 0;
    while (i < lim) {
      const d = b[i]! - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      i++;
    }
    if (i + 1 < lim) {
      if (b[i] !== 13 || b[i + 1] !== 10 || i === start) throw this.malformed(s, i - o);
      const digits = i - start;
      if (digits > this.maxDigits) throw this.tooLong(s);
      if (digits > 15) {
        const x = this.exactAt(b.subarray(start, i), neg, s.position);
        s.off = i + 2;
        return x;
      }
      s.off = i + 2;
      return neg ? -v : v;
    }
    return this.readSpanning(s);
  }

  /**
   * The line spans chunks, or has not fully arrived: scanned byte by byte
   * in place (no copy), consumed only when complete.
   */
  private readSpanning(s: Source): number | bigint | Incomplete {
    let i = 0;
    let neg = false;
    let c = s.byteAt(0);
    if (this.signed && (c === 0x2d || c === 0x2b)) {
      neg = c === 0x2d;
      i = 1;
    }
    const start = i;
    let v = 0;
    for (;;) {
      c = s.byteAt(i);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      i++;
      if (i - start > this.maxDigits) throw this.tooLong(s);
    }
    // Garbage fails as soon as it arrives, not after maxDigits bytes.
    if (c === -1) return s.shortUnknown(this.name);
    if (c !== 13 || i === start) throw this.malformed(s, i);
    const lf = s.byteAt(i + 1);
    if (lf === -1) return s.shortUnknown(this.name);
    if (lf !== 10) throw this.malformed(s, i + 1);
    const at = s.position;
    if (i - start > 15) {
      const digits = new Uint8Array(i - start);
      for (let k = 0; k < digits.length; k++) digits[k] = s.byteAt(start + k);
      const x = this.exactAt(digits, neg, at);
      s.skipBytes(i + 2, this.name);
      return x;
    }
    s.skipBytes(i + 2, this.name);
    return neg ? -v : v;
  }

  /** 16+ digits: exact through BigInt. */
  private exactAt(digits: Uint8Array, neg: boolean, at: number): number | bigint {
    let v = 0n;
    for (let i = 0; i < digits.length; i++) v = v * 10n + BigInt(digits[i]! - 0x30);
    if (neg) v = -v;
    if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    if (this.big) return v;
    throw new ParseError('ERR_NUMBER_RANGE', at, this.name, 'beyond 2^53 - 1');
  }

  private malformed(s: Source, i: number): ParseError {
    return new ParseError('ERR_MALFORMED', s.position + i, `${this.name}: [sign] digits CRLF`);
  }

  private tooLong(s: Source): ParseError {
    return new ParseError('ERR_TOO_LONG', s.position, `${this.name} of at most ${this.maxDigits} digits`);
  }
}

/** Exactly CR LF (ERR_MALFORMED otherwise): the terminator after a length-delimited payload in RESP and HTTP chunks. */
export const crlf: Parser<void> = new (class CrlfParser extends Parser<void> {
  constructor() {
    super('CRLF', 2);
  }
  readFast(s: Source): void | Incomplete {
    const o = s.off;
    if (o + 2 <= s.lim) {
      const b = s.buf;
      if (b[o] !== 13 || b[o + 1] !== 10) throw new ParseError('ERR_MALFORMED', s.position, 'CRLF');
      s.off = o + 2;
      return;
    }
    const r = crlfLiteral.readFast(s);
    return r === INCOMPLETE ? INCOMPLETE : undefined;
  }
  override write(w: Writer): void {
    w.bytes(CRLF);
  }
})();

export interface TextLineOptions {
  /** Longest line in bytes, CRLF excluded (ERR_TOO_LONG past it). Default 64 KiB. */
  readonly max?: number;
}

const SHORT_LINE = 64;
const utf8 = new TextDecoder();

/**
 * A CRLF-terminated line decoded as UTF-8 text (CRLF not included): status
 * lines of text protocols (RESP simple strings, SMTP/POP3 replies). Short
 * ASCII lines are decoded while they are scanned, with no intermediate view;
 * anything else goes through the combinators' `line()`.
 */
export function textLine(options: TextLineOptions = {}): Parser<string> {
  return new TextLine(options.max ?? 64 * 1024);
}

class TextLine extends Parser<string> {
  private readonly general: Parser<Uint8Array>;
  /** The fast scan looks at most this far: a CR found within it ends a line no longer than max. */
  private readonly scan: number;
  constructor(max: number) {
    super('text line');
    this.scan = Math.min(SHORT_LINE, max) + 1;
    this.general = line({ max, name: this.name });
  }
  readFast(s: Source): string | Incomplete {
    const b = s.buf;
    const o = s.off;
    const end = Math.min(s.lim - 1, o + this.scan);
    if (end > o + 2 && b[o] === 0x4f && b[o + 1] === 0x4b && b[o + 2] === 13 && o + 3 < s.lim && b[o + 3] === 10) {
      s.off = o + 4;
      return 'OK'; // the most common status reply of all
    }
    let str = '';
    for (let i = o; i < end; i++) {
      const c = b[i]!;
      if (c === 13) {
        if (b[i + 1] !== 10) break;
        s.off = i + 2;
        return str;
      }
      if (c >= 0x80) break;
      str += String.fromCharCode(c);
    }
    const l = this.general.readFast(s);
    return l === INCOMPLETE ? INCOMPLETE : utf8.decode(l);
  }
  override write(w: Writer, value: string): void {
    this.general.write(w, new TextEncoder().encode(value));
  }
}
