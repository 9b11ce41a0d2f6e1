/**
 * The static Huffman code of HPACK (RFC 7541 Appendix B), used unchanged by
 * QPACK string literals (RFC 9204 section 4.1.2).
 *
 * Decoding runs a finite-state machine over nibbles: the states are the 256
 * internal nodes of the code tree, and a table gives, for each state and each
 * 4-bit input, the next state and the symbol completed on the way (at most
 * one: the shortest code is 5 bits). RFC 7541 section 5.2 is enforced: a
 * string that contains the EOS symbol, ends with more than 7 bits of padding,
 * or ends with padding that is not a prefix of EOS (all ones) is an error.
 */

/** The code of each symbol 0..255 and EOS (256), right-aligned (RFC 7541 Appendix B, "code as hex"). */
// prettier-ignore
export const HUFFMAN_CODES: Uint32Array = Uint32Array.from([
  0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7,
  0xfffffe8, 0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec,
  0xfffffed, 0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3,
  0xffffff4, 0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb,
  0x14, 0x3f8, 0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa, 0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18,
  0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb, 0x3fc,
  0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
  0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0, 0x1ffc, 0x3ffc, 0x22,
  0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26, 0x27, 0x6, 0x74, 0x75, 0x28, 0x29, 0x2a, 0x7,
  0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7ffe, 0x7fc, 0x3ffd, 0x1ffd, 0xffffffc,
  0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4, 0x3fffd5, 0x7fffd9,
  0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb, 0x7fffdf,
  0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3,
  0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef,
  0x3fffda, 0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde,
  0x7fffea, 0x3fffdd, 0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec,
  0x1fffe0, 0x1fffe1, 0x3fffe0, 0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef,
  0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4, 0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1,
  0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7, 0x7ffff2, 0x3fffe8, 0x1ffffec,
  0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf, 0x3ffffe5, 0xfffff1, 0x1ffffed,
  0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7, 0x7ffffe2, 0xfffff2,
  0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4, 0x7ffffe5,
  0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3,
  0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4,
  0x3ffffeb, 0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea,
  0x7ffffeb, 0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
  0x3fffffff,
]);

/** The length in bits of each code (RFC 7541 Appendix B, "len in bits"). */
// prettier-ignore
export const HUFFMAN_LENGTHS: Uint8Array = Uint8Array.from([
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
]);

/** The EOS symbol (RFC 7541 section 5.2). */
export const HUFFMAN_EOS = 256;

/** {@link huffmanDecode} result: the string contains EOS. */
export const HUFFMAN_ERR_EOS = -1;
/** {@link huffmanDecode} result: padding longer than 7 bits, or not all ones. */
export const HUFFMAN_ERR_PADDING = -2;

// ---------------------------------------------------------------------------------------------------
// decoding tables

const NO_SYMBOL = -1;
const FAIL = -2;
/** Next state for (state << 4 | nibble). */
const NEXT = new Uint8Array(256 * 16);
/** Symbol completed while reading (state << 4 | nibble), NO_SYMBOL, or FAIL (EOS was completed). */
const EMIT = new Int16Array(256 * 16);
/** States where the input may end: the root and the all-ones nodes of depth 1..7 (RFC 7541 section 5.2). */
const ACCEPT = new Uint8Array(256);

function buildDecoder(): void {
  // The code tree: internal nodes 0..255 (0 is the root); a child is an internal node id (>= 0)
  // or a leaf, stored as -(symbol + 1).
  const child: number[][] = [[0, 0]];
  const isSet: boolean[][] = [[false, false]];
  for (let sym = 0; sym <= HUFFMAN_EOS; sym++) {
    const code = HUFFMAN_CODES[sym]!;
    const len = HUFFMAN_LENGTHS[sym]!;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = (code >>> i) & 1;
      if (i === 0) {
        if (isSet[node]![bit]) throw new Error(`huffman table: code of ${sym} collides`);
        child[node]![bit] = -(sym + 1);
        isSet[node]![bit] = true;
      } else {
        if (!isSet[node]![bit]) {
          child.push([0, 0]);
          isSet.push([false, false]);
          child[node]![bit] = child.length - 1;
          isSet[node]![bit] = true;
        }
        const next = child[node]![bit]!;
        if (next < 0) throw new Error(`huffman table: code of ${sym} extends a shorter code`);
        node = next;
      }
    }
  }
  if (child.length !== 256) throw new Error(`huffman table: ${child.length} internal nodes, expected 256`);
  for (let state = 0; state < 256; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let emit = NO_SYMBOL;
      for (let i = 3; i >= 0; i--) {
        const c = child[node]![(nibble >>> i) & 1]!;
        if (c < 0) {
          const sym = -c - 1;
          emit = sym === HUFFMAN_EOS ? FAIL : sym;
          node = 0;
          if (emit === FAIL) break;
        } else {
          node = c;
        }
      }
      NEXT[(state << 4) | nibble] = node;
      EMIT[(state << 4) | nibble] = emit;
    }
  }
  let node = 0;
  ACCEPT[0] = 1;
  for (let depth = 1; depth <= 7; depth++) {
    node = child[node]![1]!;
    ACCEPT[node] = 1;
  }
}
buildDecoder();

/**
 * Decodes the Huffman string `src[start, end)` into `dst` from `dstPos`.
 * `dst` must have room for `floor((end - start) * 8 / 5)` bytes (the shortest
 * code is 5 bits). Returns the position after the last decoded byte, or
 * {@link HUFFMAN_ERR_EOS} / {@link HUFFMAN_ERR_PADDING}.
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number, dst: Uint8Array, dstPos: number): number {
  // Locals: a module binding costs a check on every access in the loop.
  const next = NEXT;
  const emit = EMIT;
  let state = 0;
  let p = dstPos;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    let t = (state << 4) | (b >>> 4);
    let e = emit[t]!;
    if (e !== NO_SYMBOL) {
      if (e === FAIL) return HUFFMAN_ERR_EOS;
      dst[p++] = e;
    }
    state = next[t]!;
    t = (state << 4) | (b & 0x0f);
    e = emit[t]!;
    if (e !== NO_SYMBOL) {
      if (e === FAIL) return HUFFMAN_ERR_EOS;
      dst[p++] = e;
    }
    state = next[t]!;
  }
  return ACCEPT[state] === 1 ? p : HUFFMAN_ERR_PADDING;
}

/** Upper bound of the decoded length of `encodedLength` Huffman bytes (5-bit shortest code). */
export function huffmanMaxDecodedLength(encodedLength: number): number {
  return Math.floor((encodedLength * 8) / 5);
}

/** Lower bound of the decoded length of `encodedLength` Huffman bytes (30-bit longest code, up to 7 padding bits). */
export function huffmanMinDecodedLength(encodedLength: number): number {
  return encodedLength === 0 ? 0 : Math.ceil((encodedLength * 8 - 7) / 30);
}

// ---------------------------------------------------------------------------------------------------
// encoding

/** Encoded length in bytes of `src[start, end)`. */
export function huffmanEncodedLength(src: Uint8Array, start: number, end: number): number {
  const lengths = HUFFMAN_LENGTHS;
  let bits = 0;
  for (let i = start; i < end; i++) bits += lengths[src[i]!]!;
  return (bits + 7) >>> 3;
}

/**
 * Writes Huffman codes MSB first into `dst` (RFC 7541 section 5.2). One writer serves the byte and the
 * string entry points, so the bit packing exists once.
 */
class CodeWriter {
  /** Fewer than 8 pending bits, in the low bits. */
  private acc = 0;
  private bits = 0;

  constructor(
    private readonly dst: Uint8Array,
    public pos: number,
  ) {}

  put(sym: number): void {
    const code = HUFFMAN_CODES[sym]!;
    const len = HUFFMAN_LENGTHS[sym]!;
    const dst = this.dst;
    let acc = this.acc;
    let bits = this.bits;
    // acc holds < 8 pending bits; 8 + 24 bits still fit a 32-bit int, longer codes go in two parts.
    if (len > 24) {
      acc = (acc << (len - 16)) | (code >>> 16);
      bits += len - 16;
      while (bits >= 8) {
        bits -= 8;
        dst[this.pos++] = acc >>> bits;
      }
      acc = ((acc & ((1 << bits) - 1)) << 16) | (code & 0xffff);
      bits += 16;
    } else {
      acc = (acc << len) | code;
      bits += len;
    }
    while (bits >= 8) {
      bits -= 8;
      dst[this.pos++] = acc >>> bits;
    }
    this.acc = acc & ((1 << bits) - 1);
    this.bits = bits;
  }

  /** Pads the last byte with the most significant bits of EOS (ones); returns the end position. */
  finish(): number {
    const bits = this.bits;
    if (bits > 0) this.dst[this.pos++] = (this.acc << (8 - bits)) | (0xff >>> bits);
    return this.pos;
  }
}

/**
 * Encodes `src[start, end)` into `dst` from `pos` (room for
 * {@link huffmanEncodedLength} bytes required); returns the end position.
 * The last byte is padded with the most significant bits of EOS (ones).
 */
export function huffmanEncode(src: Uint8Array, start: number, end: number, dst: Uint8Array, pos: number): number {
  const w = new CodeWriter(dst, pos);
  for (let i = start; i < end; i++) w.put(src[i]!);
  return w.finish();
}

/** {@link huffmanEncodedLength} of a string whose chars are all below 0x80 (one byte each in UTF-8). */
export function huffmanEncodedLengthAscii(s: string): number {
  const lengths = HUFFMAN_LENGTHS;
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += lengths[s.charCodeAt(i)]!;
  return (bits + 7) >>> 3;
}

/** {@link huffmanEncode} of a string whose chars are all below 0x80. */
export function huffmanEncodeAscii(s: string, dst: Uint8Array, pos: number): number {
  const w = new CodeWriter(dst, pos);
  for (let i = 0; i < s.length; i++) w.put(s.charCodeAt(i));
  return w.finish();
}
