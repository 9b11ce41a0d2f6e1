/**
 * The QPACK decoder (RFC 9204 sections 2.2, 4.3 and 4.5), sans-I/O.
 *
 * Inputs: the bytes of the peer's encoder stream ({@link QpackDecoder.receiveEncoderStream},
 * any chunking) and complete field sections, one HEADERS frame payload at a
 * time ({@link QpackDecoder.decodeFieldSection}). Outputs: decoded fields
 * (immediately, or later through {@link QpackDecoder.takeUnblocked} for
 * sections that had to wait for inserts) and the bytes of our decoder stream
 * ({@link QpackDecoder.takeDecoderStreamData}).
 *
 * Decoder stream policy (RFC 9204 section 2.2.2): a Section Acknowledgment is
 * queued as soon as a section with a non-zero Required Insert Count is decoded
 * (section 4.4.1); Stream Cancellation when a stream is cancelled (section
 * 4.4.2, omitted when our maximum capacity is 0, as section 2.2.2.2 allows);
 * and the Insert Count Increment is computed when the caller takes the
 * decoder-stream bytes, covering every insert the acknowledgments did not
 * already imply (section 2.2.2.3 lets the decoder coalesce; this emits the
 * bytes of RFC 9204 Appendix B exactly).
 *
 * Every error is a {@link QpackError} that HTTP/3 treats as a connection
 * error (RFC 9204 section 6); after one, the decoder must not be used again.
 */
import { UsageError } from '../../combinators/errors.js';
import { DynamicTable, ENTRY_OVERHEAD, type DynamicEntry } from './dynamic-table.js';
import { QpackError } from './errors.js';
import { FieldLineReader, maxEntriesOf, readSectionPrefix, type SectionPrefix } from './field-lines.js';
import { decodePrefixedInt, INT_INCOMPLETE, type ByteCursor } from './prefixed-int.js';
import { STATIC_TABLE, STATIC_TABLE_SIZE } from './static-table.js';
import type { HeaderField } from './types.js';
import { ByteSink, StringReader } from './wire.js';

export interface QpackDecoderOptions {
  /** What we advertise as SETTINGS_QPACK_MAX_TABLE_CAPACITY (0 allowed: static table and literals only). */
  readonly maxTableCapacity: number;
  /** What we advertise as SETTINGS_QPACK_BLOCKED_STREAMS. */
  readonly maxBlockedStreams: number;
  /**
   * Limit on a decoded field section, counted as in RFC 9114 section 4.2.2
   * (name octets + value octets + 32 per field line); a larger section is a
   * QPACK_DECOMPRESSION_FAILED error of kind `field-section-size`. Default: no
   * limit (a section is still bounded by the frame that carries it times the
   * largest table entry).
   */
  readonly maxFieldSectionSize?: number;
}

/** Result of {@link QpackDecoder.decodeFieldSection}. */
export type DecodeResult = { readonly kind: 'fields'; readonly fields: HeaderField[] } | { readonly kind: 'blocked' };

/** A section decoded after it was blocked. */
export interface UnblockedSection {
  readonly streamId: number;
  readonly fields: HeaderField[];
}

interface BlockedSection {
  readonly streamId: number;
  /** The field lines after the prefix (an owned copy). */
  readonly lines: Uint8Array;
  readonly requiredInsertCount: number;
  readonly base: number;
}

const BLOCKED: DecodeResult = Object.freeze({ kind: 'blocked' });
const EMPTY = new Uint8Array(0);

function checkCount(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new UsageError(`QpackDecoder: ${what} must be a non-negative safe integer, got ${v}`);
}

function checkStreamId(streamId: number): void {
  if (!Number.isSafeInteger(streamId) || streamId < 0)
    throw new UsageError(`QPACK: stream ID must be a non-negative safe integer, got ${streamId}`);
}

export class QpackDecoder {
  private readonly maxTableCapacity: number;
  private readonly maxEntries: number;
  private readonly maxBlockedStreams: number;
  private readonly maxFieldSectionSize: number;
  private readonly table = new DynamicTable();
  private readonly strings = new StringReader();
  private readonly lines = new FieldLineReader(this.strings);
  private readonly prefix: SectionPrefix = { requiredInsertCount: 0, base: 0 };
  /** Cursor over field sections. */
  private readonly sectionCur: ByteCursor = { buf: EMPTY, pos: 0, end: 0 };
  /** Cursor over encoder-stream bytes (separate: decoding an unblocked section runs inside the stream loop). */
  private readonly streamCur: ByteCursor = { buf: EMPTY, pos: 0, end: 0 };

  /** Encoder-stream bytes of an incomplete instruction, kept until the rest arrives. */
  private pending: Uint8Array = EMPTY;
  private pendingLen = 0;
  /** `pendingLen` must reach this before parsing is worth retrying. */
  private pendingNeeded = 0;

  /** Blocked sections in arrival order. */
  private blocked: BlockedSection[] = [];
  /** Stream ID -> number of its sections in `blocked`. Its size is the number of blocked streams. */
  private readonly blockedStreams = new Map<number, number>();
  /** Smallest Required Insert Count that would unblock something (Infinity when nothing is blocked). */
  private unblockAt = Infinity;
  private unblockedReady: UnblockedSection[] = [];

  /** Our decoder stream. */
  private readonly out = new ByteSink(64);
  /** Inserts the encoder knows we received (RFC 9204 section 2.1.4), from our acknowledgments and increments. */
  private knownReceivedCount = 0;

  constructor(options: QpackDecoderOptions) {
    checkCount('maxTableCapacity', options.maxTableCapacity);
    checkCount('maxBlockedStreams', options.maxBlockedStreams);
    if (options.maxFieldSectionSize !== undefined) checkCount('maxFieldSectionSize', options.maxFieldSectionSize);
    this.maxTableCapacity = options.maxTableCapacity;
    this.maxEntries = maxEntriesOf(options.maxTableCapacity);
    this.maxBlockedStreams = options.maxBlockedStreams;
    this.maxFieldSectionSize = options.maxFieldSectionSize ?? Infinity;
  }

  /** Inserts received on the encoder stream so far (the decoder's Insert Count). */
  get insertCount(): number {
    return this.table.insertCount;
  }

  /** Current dynamic table capacity, as set by the encoder. */
  get tableCapacity(): number {
    return this.table.capacity;
  }

  /** Current dynamic table size (RFC 9204 section 3.2.1). */
  get tableSize(): number {
    return this.table.size;
  }

  /** Streams with a blocked section. */
  get blockedStreamCount(): number {
    return this.blockedStreams.size;
  }

  // -------------------------------------------------------------------------------------------------
  // field sections

  /**
   * Decodes one encoded field section (a complete HEADERS frame payload) of
   * `streamId`. Returns the fields, or 'blocked' when its Required Insert
   * Count is above the inserts received so far (RFC 9204 section 2.2.1), or
   * when an earlier section of the same stream is still blocked (field
   * sections of a stream are delivered in order). A blocked section is copied;
   * `block` is not kept. Raises QPACK_DECOMPRESSION_FAILED, also when this
   * would block more streams than `maxBlockedStreams` (section 2.1.2).
   */
  decodeFieldSection(streamId: number, block: Uint8Array): DecodeResult {
    checkStreamId(streamId);
    const cur = this.sectionCur;
    cur.buf = block;
    cur.pos = 0;
    cur.end = block.length;
    readSectionPrefix(cur, this.maxEntries, this.table.insertCount, this.prefix);
    const ric = this.prefix.requiredInsertCount;
    const base = this.prefix.base;
    const queued = this.blockedStreams.size === 0 ? undefined : this.blockedStreams.get(streamId);
    if (ric > this.table.insertCount || queued !== undefined) {
      if (queued === undefined) {
        // "If a decoder encounters more blocked streams than it promised to support, it MUST treat this
        // as a connection error of type QPACK_DECOMPRESSION_FAILED" (section 2.1.2).
        if (this.blockedStreams.size >= this.maxBlockedStreams) {
          throw new QpackError('QPACK_DECOMPRESSION_FAILED', 'blocked-streams', `limit ${this.maxBlockedStreams}`);
        }
        this.blockedStreams.set(streamId, 1);
        if (ric < this.unblockAt) this.unblockAt = ric;
      } else {
        this.blockedStreams.set(streamId, queued + 1);
      }
      this.blocked.push({ streamId, lines: block.slice(cur.pos), requiredInsertCount: ric, base });
      return BLOCKED;
    }
    const fields = this.decodeLines(cur, ric, base);
    cur.buf = EMPTY; // do not keep the caller's buffer alive
    if (ric > 0) this.acknowledge(streamId, ric);
    return { kind: 'fields', fields };
  }

  /** Sections that became decodable while processing encoder-stream bytes, in arrival order; empties the list. */
  takeUnblocked(): UnblockedSection[] {
    if (this.unblockedReady.length === 0) return [];
    const out = this.unblockedReady;
    this.unblockedReady = [];
    return out;
  }

  /**
   * The stream was reset or its reading abandoned: forgets its blocked
   * sections (and decoded ones not taken yet), and queues a Stream
   * Cancellation (RFC 9204 section 4.4.2) unless our maximum table capacity is
   * 0 (section 2.2.2.2: the encoder cannot have referenced the dynamic table).
   */
  cancelStream(streamId: number): void {
    checkStreamId(streamId);
    if (this.blockedStreams.delete(streamId)) {
      this.blocked = this.blocked.filter((s) => s.streamId !== streamId);
      this.recomputeUnblockAt();
    }
    if (this.unblockedReady.length > 0) this.unblockedReady = this.unblockedReady.filter((s) => s.streamId !== streamId);
    if (this.maxTableCapacity > 0) this.out.int(0x40, 6, streamId);
  }

  /** Bytes to write on our decoder stream, or null when there are none. */
  takeDecoderStreamData(): Uint8Array | null {
    const inserts = this.table.insertCount;
    if (inserts > this.knownReceivedCount) {
      // Insert Count Increment (section 4.4.3) up to every insert processed so far.
      this.out.int(0x00, 6, inserts - this.knownReceivedCount);
      this.knownReceivedCount = inserts;
    }
    return this.out.take();
  }

  /** Section Acknowledgment (section 4.4.1); it also moves the Known Received Count (section 2.1.4). */
  private acknowledge(streamId: number, ric: number): void {
    this.out.int(0x80, 7, streamId);
    if (ric > this.knownReceivedCount) this.knownReceivedCount = ric;
  }

  /** A dynamic entry referenced from a field section with absolute index `abs` (section 2.2.3). */
  private dynamicEntry(abs: number, ric: number): DynamicEntry {
    const e = abs < ric ? this.table.get(abs) : undefined;
    if (e === undefined) {
      // "a reference ... to a dynamic table entry that has already been evicted or that has an absolute
      // index greater than or equal to the declared Required Insert Count" (section 2.2.3).
      throw new QpackError('QPACK_DECOMPRESSION_FAILED', 'dynamic-index', `absolute index ${abs}, Required Insert Count ${ric}`);
    }
    return e;
  }

  private decodeLines(cur: ByteCursor, ric: number, base: number): HeaderField[] {
    const fields: HeaderField[] = [];
    const limit = this.maxFieldSectionSize;
    const lines = this.lines;
    let total = 0;
    while (cur.pos < cur.end) {
      lines.read(cur);
      let field: HeaderField;
      let size: number;
      switch (lines.kind) {
        case 'indexed': {
          if (lines.isStatic) {
            const f = STATIC_TABLE[lines.index];
            if (f === undefined) throw staticIndexError(lines.index);
            field = f;
            size = f.name.length + f.value.length + ENTRY_OVERHEAD; // the static table is ASCII
          } else {
            const e = this.dynamicEntry(base - 1 - lines.index, ric);
            field = e.field;
            size = e.size;
          }
          break;
        }
        case 'indexed-post-base': {
          const e = this.dynamicEntry(base + lines.index, ric);
          field = e.field;
          size = e.size;
          break;
        }
        case 'literal-name-ref': {
          let name: string;
          let nameSize: number;
          if (lines.isStatic) {
            const f = STATIC_TABLE[lines.index];
            if (f === undefined) throw staticIndexError(lines.index);
            name = f.name;
            nameSize = name.length;
          } else {
            const e = this.dynamicEntry(base - 1 - lines.index, ric);
            name = e.field.name;
            nameSize = e.nameSize;
          }
          field = lines.never ? { name, value: lines.value, sensitive: true } : { name, value: lines.value };
          size = nameSize + lines.valueOctets + ENTRY_OVERHEAD;
          break;
        }
        case 'literal-post-base-name-ref': {
          const e = this.dynamicEntry(base + lines.index, ric);
          const name = e.field.name;
          field = lines.never ? { name, value: lines.value, sensitive: true } : { name, value: lines.value };
          size = e.nameSize + lines.valueOctets + ENTRY_OVERHEAD;
          break;
        }
        case 'literal':
          field = lines.never ? { name: lines.name, value: lines.value, sensitive: true } : { name: lines.name, value: lines.value };
          size = lines.nameOctets + lines.valueOctets + ENTRY_OVERHEAD;
          break;
        default: {
          const never: never = lines.kind;
          throw new Error(`unreachable: ${String(never)}`);
        }
      }
      total += size;
      if (total > limit) throw new QpackError('QPACK_DECOMPRESSION_FAILED', 'field-section-size', `more than ${limit}`);
      fields.push(field);
    }
    return fields;
  }

  // -------------------------------------------------------------------------------------------------
  // encoder stream

  /**
   * Processes bytes of the peer's encoder stream (RFC 9204 section 4.3), in
   * any chunking: an instruction split across calls is completed by the next
   * ones. Sections unblocked by the inserts are decoded here and wait in
   * {@link takeUnblocked}. Raises QPACK_ENCODER_STREAM_ERROR for a bad
   * instruction, or QPACK_DECOMPRESSION_FAILED for a bad unblocked section.
   * Buffers at most one incomplete instruction, whose strings are bounded by
   * the table capacity before their bytes arrive.
   */
  receiveEncoderStream(data: Uint8Array): void {
    if (data.length === 0) return;
    const cur = this.streamCur;
    if (this.pendingLen === 0) {
      cur.buf = data;
      cur.end = data.length;
    } else {
      const need = this.pendingLen + data.length;
      if (this.pending.length < need) {
        const grown = new Uint8Array(Math.max(need, this.pending.length * 2));
        grown.set(this.pending.subarray(0, this.pendingLen));
        this.pending = grown;
      }
      this.pending.set(data, this.pendingLen);
      this.pendingLen = need;
      if (need < this.pendingNeeded) return;
      cur.buf = this.pending;
      cur.end = need;
    }
    cur.pos = 0;
    let missing = 0;
    while (cur.pos < cur.end) {
      missing = this.readEncoderInstruction(cur);
      if (missing > 0) break;
    }
    const left = cur.end - cur.pos;
    if (left === 0) {
      this.pendingLen = 0;
      this.pendingNeeded = 0;
    } else {
      if (cur.buf === this.pending) {
        this.pending.copyWithin(0, cur.pos, cur.end);
      } else {
        if (this.pending.length < left) this.pending = new Uint8Array(Math.max(left, 64));
        this.pending.set(cur.buf.subarray(cur.pos, cur.end));
      }
      this.pendingLen = left;
      this.pendingNeeded = left + missing;
    }
    cur.buf = EMPTY;
  }

  /** Reads and applies one instruction; returns 0, or how many more bytes it needs at least (nothing consumed). */
  private readEncoderInstruction(cur: ByteCursor): number {
    const start = cur.pos;
    const b = cur.buf[start]!;
    const table = this.table;
    if (b & 0x80) {
      // Insert with Name Reference (section 4.3.2): '1', T, name index (6+), value.
      const index = streamInt(cur, 6);
      if (index < 0) return 1;
      let name: string;
      let nameSize: number;
      if (b & 0x40) {
        const f = STATIC_TABLE[index];
        if (f === undefined) throw new QpackError('QPACK_ENCODER_STREAM_ERROR', 'static-index', `index ${index}`);
        name = f.name;
        nameSize = name.length;
      } else {
        const e = this.relativeEntry(index);
        name = e.field.name;
        nameSize = e.nameSize;
      }
      const value = this.strings.read(cur, 8, 'QPACK_ENCODER_STREAM_ERROR', table.capacity - ENTRY_OVERHEAD - nameSize);
      if (value === null) return this.rewind(cur, start);
      this.insert({ name, value }, nameSize, nameSize + this.strings.octets + ENTRY_OVERHEAD);
    } else if (b & 0x40) {
      // Insert with Literal Name (section 4.3.3): '01', H, name length (5+), name, value.
      const name = this.strings.read(cur, 6, 'QPACK_ENCODER_STREAM_ERROR', table.capacity - ENTRY_OVERHEAD);
      if (name === null) return this.rewind(cur, start);
      const nameSize = this.strings.octets;
      const value = this.strings.read(cur, 8, 'QPACK_ENCODER_STREAM_ERROR', table.capacity - ENTRY_OVERHEAD - nameSize);
      if (value === null) return this.rewind(cur, start);
      this.insert({ name, value }, nameSize, nameSize + this.strings.octets + ENTRY_OVERHEAD);
    } else if (b & 0x20) {
      // Set Dynamic Table Capacity (section 4.3.1): '001', capacity (5+).
      const capacity = streamInt(cur, 5);
      if (capacity < 0) return 1;
      // "The decoder MUST treat a new dynamic table capacity value that exceeds this limit as a
      // connection error of type QPACK_ENCODER_STREAM_ERROR" (section 4.3.1).
      if (capacity > this.maxTableCapacity) {
        throw new QpackError('QPACK_ENCODER_STREAM_ERROR', 'capacity', `${capacity} > ${this.maxTableCapacity}`);
      }
      table.capacity = capacity;
      table.evictToFit(0);
    } else {
      // Duplicate (section 4.3.4): '000', relative index (5+).
      const index = streamInt(cur, 5);
      if (index < 0) return 1;
      const e = this.relativeEntry(index);
      this.insert(e.field, e.nameSize, e.size);
    }
    return 0;
  }

  private rewind(cur: ByteCursor, start: number): number {
    cur.pos = start;
    return this.strings.missing;
  }

  /** The entry an encoder instruction's relative index names (section 3.2.5: Insert Count - 1 - index). */
  private relativeEntry(index: number): DynamicEntry {
    const e = this.table.get(this.table.insertCount - 1 - index);
    if (e === undefined) {
      // "a reference in an encoder instruction to a dynamic table entry that has already been evicted"
      // (section 2.2.3), or one never inserted.
      throw new QpackError(
        'QPACK_ENCODER_STREAM_ERROR',
        'dynamic-index',
        `relative index ${index}, insert count ${this.table.insertCount}`,
      );
    }
    return e;
  }

  /** Adds an entry, evicting as needed (section 3.2.2), then decodes what that unblocked. */
  private insert(field: HeaderField, nameSize: number, size: number): void {
    const table = this.table;
    if (size > table.capacity) {
      // "It is an error if the encoder attempts to add an entry that is larger than the dynamic table
      // capacity" (section 3.2.2). The string reads already bound this; kept for Duplicate after a
      // capacity reduction.
      throw new QpackError('QPACK_ENCODER_STREAM_ERROR', 'entry-too-large', `entry of ${size}, capacity ${table.capacity}`);
    }
    table.evictToFit(size);
    table.push(field, nameSize, size);
    if (table.insertCount >= this.unblockAt) this.decodeUnblocked();
  }

  /** Decodes, in arrival order, every blocked section whose Required Insert Count is now reached. */
  private decodeUnblocked(): void {
    const inserts = this.table.insertCount;
    const keep: BlockedSection[] = [];
    let waiting: Set<number> | null = null;
    for (const s of this.blocked) {
      if (s.requiredInsertCount <= inserts && (waiting === null || !waiting.has(s.streamId))) {
        const cur = this.sectionCur;
        cur.buf = s.lines;
        cur.pos = 0;
        cur.end = s.lines.length;
        const fields = this.decodeLines(cur, s.requiredInsertCount, s.base);
        if (s.requiredInsertCount > 0) this.acknowledge(s.streamId, s.requiredInsertCount);
        this.unblockedReady.push({ streamId: s.streamId, fields });
        const n = this.blockedStreams.get(s.streamId)!;
        if (n === 1) this.blockedStreams.delete(s.streamId);
        else this.blockedStreams.set(s.streamId, n - 1);
      } else {
        // Later sections of this stream wait behind this one.
        (waiting ??= new Set()).add(s.streamId);
        keep.push(s);
      }
    }
    this.blocked = keep;
    this.recomputeUnblockAt();
  }

  /** The smallest Required Insert Count among the first blocked section of each stream. */
  private recomputeUnblockAt(): void {
    let min = Infinity;
    const seen = new Set<number>();
    for (const s of this.blocked) {
      if (seen.has(s.streamId)) continue;
      seen.add(s.streamId);
      if (s.requiredInsertCount < min) min = s.requiredInsertCount;
    }
    this.unblockAt = min;
  }
}

function staticIndexError(index: number): QpackError {
  return new QpackError('QPACK_DECOMPRESSION_FAILED', 'static-index', `index ${index} >= ${STATIC_TABLE_SIZE}`);
}

/** A prefixed integer on the encoder stream: the value, or -1 when incomplete. */
function streamInt(cur: ByteCursor, prefixBits: number): number {
  const v = decodePrefixedInt(cur, prefixBits);
  if (v === INT_INCOMPLETE) return -1;
  if (v < 0) throw new QpackError('QPACK_ENCODER_STREAM_ERROR', 'integer-overflow');
  return v;
}
