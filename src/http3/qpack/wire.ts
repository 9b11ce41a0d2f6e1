/**
 * Byte-level helpers shared by the QPACK codecs: a growable output buffer
 * with prefixed-integer and string-literal writers, the string-literal reader
 * (RFC 9204 section 4.1.2: an N-bit prefix string literal is an 'H' Huffman
 * flag then the length as an (N-1)-bit prefix integer, then the bytes), and
 * UTF-8 conversion with an ASCII fast path.
 *
 * Plain Uint8Array code rather than the combinators' Writer/Source: QPACK
 * fields are bit-packed into the first byte of each representation and a
 * field section is always complete, so the hot path is a cursor over one
 * buffer; only the encoder and decoder streams need resumption, which
 * encoder.ts and decoder.ts do by keeping the unparsed tail of the stream.
 */
import { QpackError, type QpackErrorCode } from './errors.js';
import {
  HUFFMAN_ERR_EOS,
  HUFFMAN_LENGTHS,
  huffmanDecode,
  huffmanEncode,
  huffmanEncodeAscii,
  huffmanEncodedLength,
  huffmanMaxDecodedLength,
  huffmanMinDecodedLength,
} from './huffman.js';
import { decodePrefixedInt, INT_INCOMPLETE, MAX_PREFIXED_INT_SIZE, writePrefixedInt, type ByteCursor } from './prefixed-int.js';

const utf8Encoder = new TextEncoder();
/** Not fatal: invalid UTF-8 becomes U+FFFD instead of a TypeError (field validity is HTTP's business). */
const utf8Decoder = new TextDecoder();

/** Strings up to this length are built char by char when ASCII: cheaper than a TextDecoder call (about 150 ns), which wins above it. */
const SHORT_STRING = 16;

/** The string of UTF-8 bytes `buf[start, end)`. */
export function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= SHORT_STRING) {
    let s = '';
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      if (b >= 0x80) return utf8Decoder.decode(buf.subarray(start, end));
      s += String.fromCharCode(b);
    }
    return s;
  }
  return utf8Decoder.decode(buf.subarray(start, end));
}

/** Octets of `s` in UTF-8 (lone surrogates count as U+FFFD, 3 octets, as TextEncoder writes them). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a pair: 2 UTF-16 units, 4 octets
      i++;
    } else n += 2;
  }
  return n;
}

/** A growable output buffer. */
export class ByteSink {
  buf: Uint8Array;
  pos = 0;

  constructor(initialSize = 256) {
    this.buf = new Uint8Array(initialSize);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** A prefixed integer (RFC 7541 section 5.1) with `flags` in the first byte's high bits. */
  int(flags: number, prefixBits: number, value: number): void {
    this.ensure(MAX_PREFIXED_INT_SIZE);
    this.pos = writePrefixedInt(this.buf, this.pos, flags, prefixBits, value);
  }

  /** Raw bytes. */
  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /**
   * An N-bit prefix string literal (RFC 9204 section 4.1.2) holding the UTF-8
   * of `s`, with `flags` in the first byte's high 8 - N bits. Huffman-coded
   * when `huffman` is set and that is strictly shorter (RFC 7541 section 5.2).
   */
  string(flags: number, n: number, s: string, huffman: boolean): void {
    const len = s.length;
    if (huffman) {
      const lengths = HUFFMAN_LENGTHS;
      let bits = 0;
      for (let i = 0; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          this.stringBytes(flags, n, utf8Encoder.encode(s), true);
          return;
        }
        bits += lengths[c]!;
      }
      const hlen = (bits + 7) >>> 3;
      if (hlen < len) {
        this.int(flags | (1 << (n - 1)), n - 1, hlen);
        this.ensure(hlen);
        this.pos = huffmanEncodeAscii(s, this.buf, this.pos);
        return;
      }
    }
    // Optimistically ASCII (one octet per UTF-16 unit): write the length, then the bytes; start over
    // with the UTF-8 encoding at the first unit that is not ASCII.
    const start = this.pos;
    this.int(flags, n - 1, len);
    this.ensure(len);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = start;
        this.stringBytes(flags, n, utf8Encoder.encode(s), false);
        return;
      }
      buf[p++] = c;
    }
    this.pos = p;
  }

  /** {@link string} for bytes already in UTF-8 (or any octets). */
  stringBytes(flags: number, n: number, bytes: Uint8Array, huffman: boolean): void {
    const hlen = huffman ? huffmanEncodedLength(bytes, 0, bytes.length) : Infinity;
    if (hlen < bytes.length) {
      this.int(flags | (1 << (n - 1)), n - 1, hlen);
      this.ensure(hlen);
      this.pos = huffmanEncode(bytes, 0, bytes.length, this.buf, this.pos);
      return;
    }
    this.int(flags, n - 1, bytes.length);
    this.bytes(bytes);
  }

  /** An owned copy of what was written, or null when nothing was; then empties the sink. */
  take(): Uint8Array | null {
    if (this.pos === 0) return null;
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }
}

/**
 * Reads N-bit prefix string literals, Huffman-decoding into a scratch buffer
 * that it owns and reuses.
 */
export class StringReader {
  private scratch = new Uint8Array(256);
  /** Octets (after Huffman decoding) of the last string returned by {@link read}. */
  octets = 0;
  /** After {@link read} returned null: how many more input bytes it needs at least. */
  missing = 1;

  /**
   * Reads the N-bit prefix string literal at `cur.pos` (the caller has looked
   * at the first byte's high 8 - N bits). Returns the string and advances
   * `cur.pos`, or returns null, `cur.pos` unchanged, when the input ends
   * inside it. Raises a QpackError with `code` for a bad integer or Huffman
   * string, and with kind `entry-too-large` when the string is (or, from its
   * encoded length alone, must be) longer than `maxOctets`: this bounds what
   * an encoder-stream parser buffers before the string is complete.
   */
  read(cur: ByteCursor, n: number, code: QpackErrorCode, maxOctets: number): string | null {
    const start = cur.pos;
    this.missing = 1;
    if (start >= cur.end) return null;
    const huffman = (cur.buf[start]! & (1 << (n - 1))) !== 0;
    const len = decodePrefixedInt(cur, n - 1);
    if (len < 0) {
      if (len === INT_INCOMPLETE) return null;
      throw new QpackError(code, 'integer-overflow');
    }
    if ((huffman ? huffmanMinDecodedLength(len) : len) > maxOctets) {
      cur.pos = start;
      throw new QpackError(code, 'entry-too-large', `string of ${len} encoded octets, at most ${maxOctets} allowed`);
    }
    const from = cur.pos;
    if (cur.end - from < len) {
      this.missing = len - (cur.end - from);
      cur.pos = start;
      return null;
    }
    cur.pos = from + len;
    if (!huffman) {
      this.octets = len;
      return decodeUtf8(cur.buf, from, from + len);
    }
    const need = huffmanMaxDecodedLength(len);
    if (this.scratch.length < need) this.scratch = new Uint8Array(Math.max(need, this.scratch.length * 2));
    const out = huffmanDecode(cur.buf, from, from + len, this.scratch, 0);
    if (out < 0) {
      cur.pos = start;
      throw new QpackError(code, out === HUFFMAN_ERR_EOS ? 'huffman-eos' : 'huffman-padding');
    }
    if (out > maxOctets) {
      cur.pos = start;
      throw new QpackError(code, 'entry-too-large', `string of ${out} octets, at most ${maxOctets} allowed`);
    }
    this.octets = out;
    return decodeUtf8(this.scratch, 0, out);
  }
}
