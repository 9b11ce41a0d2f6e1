/**
 * Prefixed integers (RFC 7541 section 5.1, used unmodified by RFC 9204
 * section 4.1.1): an N-bit prefix in the first byte (the other 8 - N bits
 * belong to the enclosing representation), then, when the prefix is all ones,
 * continuation bytes carrying 7 bits each, least significant group first.
 *
 * ## Limit
 *
 * RFC 9204 section 4.1.1 asks decoders to handle integers of up to 62 bits;
 * RFC 7541 section 5.1 lets an implementation reject integers that exceed its
 * limits. Ours: a value must be at most 2^53 - 1 (`Number.MAX_SAFE_INTEGER`,
 * so it is exact as a JavaScript number), and an encoding may have at most 8
 * continuation bytes (9 bytes in all: every value up to 2^53 - 1 fits in 8
 * continuation bytes whatever the prefix, so only padded encodings are
 * refused). Both are checked as the bytes arrive, so a peer can never make
 * the decoder loop or lose precision. No QPACK value can legitimately exceed
 * the limit: lengths and indices are bounded by table and frame sizes, and
 * stream IDs by what the QUIC layer accepted (numbers below 2^53).
 */

/** Result of {@link decodePrefixedInt}: the input ended inside the integer. */
export const INT_INCOMPLETE = -1;
/** Result of {@link decodePrefixedInt}: the integer breaks the limit above. */
export const INT_OVERFLOW = -2;
/** Most continuation bytes accepted after the prefix. */
export const MAX_CONTINUATION_BYTES = 8;
/** Longest encoding {@link writePrefixedInt} can produce, in bytes. */
export const MAX_PREFIXED_INT_SIZE = 1 + MAX_CONTINUATION_BYTES;

/** A read position over `buf[pos, end)`; decoders advance `pos` only on success. */
export interface ByteCursor {
  buf: Uint8Array;
  pos: number;
  end: number;
}

/**
 * Decodes an integer whose prefix is the low `prefixBits` (1..8) bits of the
 * byte at `cur.pos`. Returns the value and advances `cur.pos`, or returns
 * {@link INT_INCOMPLETE} / {@link INT_OVERFLOW} with `cur.pos` unchanged.
 */
export function decodePrefixedInt(cur: ByteCursor, prefixBits: number): number {
  const buf = cur.buf;
  const end = cur.end;
  let pos = cur.pos;
  if (pos >= end) return INT_INCOMPLETE;
  const max = (1 << prefixBits) - 1;
  let value = buf[pos++]! & max;
  if (value < max) {
    cur.pos = pos;
    return value;
  }
  let scale = 1;
  for (let i = 0; i < MAX_CONTINUATION_BYTES; i++) {
    if (pos >= end) return INT_INCOMPLETE;
    const b = buf[pos++]!;
    // Each term is exact (7 bits times a power of two); a sum above 2^53 - 1 rounds to >= 2^53, never below.
    value += (b & 0x7f) * scale;
    if (value > Number.MAX_SAFE_INTEGER) return INT_OVERFLOW;
    if ((b & 0x80) === 0) {
      cur.pos = pos;
      return value;
    }
    scale *= 128;
  }
  return INT_OVERFLOW;
}

/** Encoded size of `value` with an N-bit prefix. */
export function prefixedIntSize(value: number, prefixBits: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) return 1;
  let rest = value - max;
  let n = 2;
  while (rest >= 128) {
    rest = Math.floor(rest / 128);
    n++;
  }
  return n;
}

/**
 * Writes `value` (a safe non-negative integer: the caller checks) with an
 * N-bit prefix at `buf[pos]`, OR-ing `flags` (the representation's high
 * bits) into the first byte. The caller provides room for
 * {@link MAX_PREFIXED_INT_SIZE} bytes. Returns the end position.
 */
export function writePrefixedInt(buf: Uint8Array, pos: number, flags: number, prefixBits: number, value: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    buf[pos++] = flags | value;
    return pos;
  }
  buf[pos++] = flags | max;
  let rest = value - max;
  // Division, not bit operations: values may exceed 2^31.
  while (rest >= 128) {
    buf[pos++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  buf[pos++] = rest;
  return pos;
}
