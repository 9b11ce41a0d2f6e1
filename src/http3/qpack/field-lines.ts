/**
 * Encoded field sections (RFC 9204 section 4.5): the prefix (Required Insert
 * Count and Base, section 4.5.1) and the five field line representations
 * (sections 4.5.2 to 4.5.6), as writers and a reader.
 *
 * Indices on the wire are what the representation carries: a static index, a
 * relative index (section 3.2.5: absolute = Base - 1 - relative) or a
 * post-Base index (section 3.2.6: absolute = Base + post-Base). Resolving them
 * against a table is the decoder's job. Every error here is
 * QPACK_DECOMPRESSION_FAILED: a field section is only ever decoded whole.
 */
import { QpackError } from './errors.js';
import { decodePrefixedInt, INT_INCOMPLETE, type ByteCursor } from './prefixed-int.js';
import type { ByteSink, StringReader } from './wire.js';

/** One field line representation, as on the wire. `never` is the 'N' bit (section 4.5.4). */
export type FieldLine =
  /** Section 4.5.2: static index (T=1) or relative index into the dynamic table (T=0). */
  | { readonly kind: 'indexed'; readonly isStatic: boolean; readonly index: number }
  /** Section 4.5.3. */
  | { readonly kind: 'indexed-post-base'; readonly index: number }
  /** Section 4.5.4: name from the static table (T=1) or a relative dynamic index (T=0). */
  | {
      readonly kind: 'literal-name-ref';
      readonly isStatic: boolean;
      readonly index: number;
      readonly value: string;
      readonly never: boolean;
    }
  /** Section 4.5.5. */
  | { readonly kind: 'literal-post-base-name-ref'; readonly index: number; readonly value: string; readonly never: boolean }
  /** Section 4.5.6. */
  | { readonly kind: 'literal'; readonly name: string; readonly value: string; readonly never: boolean };

export type FieldLineKind = FieldLine['kind'];

// ---------------------------------------------------------------------------------------------------
// prefix (section 4.5.1)

/** MaxEntries = floor(MaxTableCapacity / 32) (RFC 9204 section 4.5.1.1). */
export function maxEntriesOf(maxTableCapacity: number): number {
  return Math.floor(maxTableCapacity / 32);
}

/** EncInsertCount = 0 for 0, else (ReqInsertCount mod (2 * MaxEntries)) + 1 (RFC 9204 section 4.5.1.1). */
export function encodeRequiredInsertCount(requiredInsertCount: number, maxEntries: number): number {
  return requiredInsertCount === 0 ? 0 : (requiredInsertCount % (2 * maxEntries)) + 1;
}

/**
 * The Required Insert Count from its encoding, the decoder's MaxEntries and
 * its TotalNumberOfInserts (the algorithm of RFC 9204 section 4.5.1.1), or -1
 * for a value "that could not have been produced by a conformant encoder".
 */
export function decodeRequiredInsertCount(encoded: number, maxEntries: number, totalInserts: number): number {
  if (encoded === 0) return 0;
  const fullRange = 2 * maxEntries;
  if (encoded > fullRange) return -1;
  const maxValue = totalInserts + maxEntries;
  // The largest value <= maxValue that is 0 mod fullRange.
  const maxWrapped = Math.floor(maxValue / fullRange) * fullRange;
  let ric = maxWrapped + encoded - 1;
  // Above maxValue: the encoder's value wrapped one time fewer.
  if (ric > maxValue) {
    if (ric <= fullRange) return -1;
    ric -= fullRange;
  }
  // 0 must be encoded as 0.
  if (ric === 0) return -1;
  return ric;
}

/** Writes the field section prefix: Required Insert Count (8-bit prefix), then Sign + Delta Base (7-bit prefix). */
export function writeSectionPrefix(sink: ByteSink, requiredInsertCount: number, base: number, maxEntries: number): void {
  sink.int(0, 8, encodeRequiredInsertCount(requiredInsertCount, maxEntries));
  // Section 4.5.1.2: S=0 and Base - RIC when Base >= RIC, else S=1 and RIC - Base - 1.
  if (base >= requiredInsertCount) sink.int(0x00, 7, base - requiredInsertCount);
  else sink.int(0x80, 7, requiredInsertCount - base - 1);
}

/** The decoded prefix of a field section. */
export interface SectionPrefix {
  requiredInsertCount: number;
  base: number;
}

function truncated(): QpackError {
  return new QpackError('QPACK_DECOMPRESSION_FAILED', 'truncated');
}

function readInt(cur: ByteCursor, prefixBits: number): number {
  const v = decodePrefixedInt(cur, prefixBits);
  if (v < 0) throw v === INT_INCOMPLETE ? truncated() : new QpackError('QPACK_DECOMPRESSION_FAILED', 'integer-overflow');
  return v;
}

/**
 * Reads the field section prefix at `cur.pos` into `out`, given the decoder's
 * MaxEntries and its insert count so far. Raises QPACK_DECOMPRESSION_FAILED
 * for a truncated prefix, an impossible Encoded Required Insert Count
 * (section 4.5.1.1) or a negative Base (section 4.5.1.2).
 */
export function readSectionPrefix(cur: ByteCursor, maxEntries: number, totalInserts: number, out: SectionPrefix): void {
  const encoded = readInt(cur, 8);
  const ric = decodeRequiredInsertCount(encoded, maxEntries, totalInserts);
  if (ric < 0) {
    throw new QpackError('QPACK_DECOMPRESSION_FAILED', 'required-insert-count', `encoded ${encoded}, MaxEntries ${maxEntries}`);
  }
  if (cur.pos >= cur.end) throw truncated();
  const sign = cur.buf[cur.pos]! & 0x80;
  const delta = readInt(cur, 7);
  let base: number;
  if (sign === 0) {
    base = ric + delta;
    // Only a Base this large could lose precision; no valid reference can use it.
    if (base > Number.MAX_SAFE_INTEGER) throw new QpackError('QPACK_DECOMPRESSION_FAILED', 'base', `Delta Base ${delta}`);
  } else {
    // "An endpoint MUST treat a field block with a Sign bit of 1 as invalid if the value of Required
    // Insert Count is less than or equal to the value of Delta Base" (section 4.5.1.2).
    if (ric <= delta) throw new QpackError('QPACK_DECOMPRESSION_FAILED', 'base', `Required Insert Count ${ric}, Delta Base ${delta}`);
    base = ric - delta - 1;
  }
  out.requiredInsertCount = ric;
  out.base = base;
}

// ---------------------------------------------------------------------------------------------------
// writers

/** Section 4.5.2: '1', T, index (6+). */
export function writeIndexed(sink: ByteSink, isStatic: boolean, index: number): void {
  sink.int(isStatic ? 0xc0 : 0x80, 6, index);
}

/** Section 4.5.3: '0001', post-Base index (4+). */
export function writeIndexedPostBase(sink: ByteSink, index: number): void {
  sink.int(0x10, 4, index);
}

/** Section 4.5.4: '01', N, T, name index (4+), value (8-bit prefix string). */
export function writeLiteralNameRef(
  sink: ByteSink,
  isStatic: boolean,
  index: number,
  value: string,
  never: boolean,
  huffman: boolean,
): void {
  sink.int(0x40 | (never ? 0x20 : 0) | (isStatic ? 0x10 : 0), 4, index);
  sink.string(0, 8, value, huffman);
}

/** Section 4.5.5: '0000', N, name post-Base index (3+), value (8-bit prefix string). */
export function writeLiteralPostBaseNameRef(sink: ByteSink, index: number, value: string, never: boolean, huffman: boolean): void {
  sink.int(never ? 0x08 : 0, 3, index);
  sink.string(0, 8, value, huffman);
}

/** Section 4.5.6: '001', N, name (4-bit prefix string), value (8-bit prefix string). */
export function writeLiteral(sink: ByteSink, name: string, value: string, never: boolean, huffman: boolean): void {
  sink.string(0x20 | (never ? 0x10 : 0), 4, name, huffman);
  sink.string(0, 8, value, huffman);
}

/** Writes any representation. */
export function writeFieldLine(sink: ByteSink, line: FieldLine, huffman: boolean): void {
  switch (line.kind) {
    case 'indexed':
      return writeIndexed(sink, line.isStatic, line.index);
    case 'indexed-post-base':
      return writeIndexedPostBase(sink, line.index);
    case 'literal-name-ref':
      return writeLiteralNameRef(sink, line.isStatic, line.index, line.value, line.never, huffman);
    case 'literal-post-base-name-ref':
      return writeLiteralPostBaseNameRef(sink, line.index, line.value, line.never, huffman);
    case 'literal':
      return writeLiteral(sink, line.name, line.value, line.never, huffman);
    default: {
      const never: never = line;
      return never;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// reader

/**
 * Reads representations one at a time into its own fields (no allocation per
 * line beyond the strings): after {@link read}, `kind` says which fields are
 * meaningful, as in {@link FieldLine}. `valueOctets` / `nameOctets` are the
 * decoded lengths in octets, for size accounting.
 */
export class FieldLineReader {
  kind: FieldLineKind = 'indexed';
  isStatic = false;
  index = 0;
  name = '';
  value = '';
  never = false;
  nameOctets = 0;
  valueOctets = 0;

  constructor(private readonly strings: StringReader) {}

  /** Reads the representation at `cur.pos` (which must be < `cur.end`). */
  read(cur: ByteCursor): void {
    const b = cur.buf[cur.pos]!;
    if (b & 0x80) {
      // 1T: indexed field line (section 4.5.2)
      this.kind = 'indexed';
      this.isStatic = (b & 0x40) !== 0;
      this.index = readInt(cur, 6);
    } else if (b & 0x40) {
      // 01NT: literal with name reference (section 4.5.4)
      this.kind = 'literal-name-ref';
      this.never = (b & 0x20) !== 0;
      this.isStatic = (b & 0x10) !== 0;
      this.index = readInt(cur, 4);
      this.readValue(cur);
    } else if (b & 0x20) {
      // 001N: literal with literal name (section 4.5.6)
      this.kind = 'literal';
      this.never = (b & 0x10) !== 0;
      const name = this.strings.read(cur, 4, 'QPACK_DECOMPRESSION_FAILED', Infinity);
      if (name === null) throw truncated();
      this.name = name;
      this.nameOctets = this.strings.octets;
      this.readValue(cur);
    } else if (b & 0x10) {
      // 0001: indexed with post-Base index (section 4.5.3)
      this.kind = 'indexed-post-base';
      this.index = readInt(cur, 4);
    } else {
      // 0000N: literal with post-Base name reference (section 4.5.5)
      this.kind = 'literal-post-base-name-ref';
      this.never = (b & 0x08) !== 0;
      this.index = readInt(cur, 3);
      this.readValue(cur);
    }
  }

  private readValue(cur: ByteCursor): void {
    const value = this.strings.read(cur, 8, 'QPACK_DECOMPRESSION_FAILED', Infinity);
    if (value === null) throw truncated();
    this.value = value;
    this.valueOctets = this.strings.octets;
  }

  /** The last representation read, as an immutable {@link FieldLine} (allocates; for tests and tools). */
  toFieldLine(): FieldLine {
    switch (this.kind) {
      case 'indexed':
        return { kind: 'indexed', isStatic: this.isStatic, index: this.index };
      case 'indexed-post-base':
        return { kind: 'indexed-post-base', index: this.index };
      case 'literal-name-ref':
        return { kind: 'literal-name-ref', isStatic: this.isStatic, index: this.index, value: this.value, never: this.never };
      case 'literal-post-base-name-ref':
        return { kind: 'literal-post-base-name-ref', index: this.index, value: this.value, never: this.never };
      case 'literal':
        return { kind: 'literal', name: this.name, value: this.value, never: this.never };
      default: {
        const never: never = this.kind;
        return never;
      }
    }
  }
}
