/**
 * The QPACK encoder (RFC 9204 sections 2.1, 4.3 and 4.5), sans-I/O.
 *
 * Inputs: the peer's SETTINGS ({@link QpackEncoder.applyPeerSettings}), field
 * sections to encode, and the bytes of the peer's decoder stream. Outputs:
 * encoded field sections (HEADERS frame payloads) and the bytes of our encoder
 * stream.
 *
 * ## Strategy, per field line
 *
 * 1. Marked sensitive (or sensitive by default, see {@link isSensitiveByDefault}):
 *    a literal with the 'N' bit (RFC 9204 section 4.5.4), never inserted.
 * 2. Exact match in the static table: indexed static.
 * 3. With a dynamic table: an exact match in the dynamic table is referenced
 *    (after a Duplicate when it is draining, section 2.1.1.1); else, when the
 *    field is worth indexing and room can be made by evicting only evictable
 *    entries, it is inserted (name by reference to the static or dynamic
 *    table when possible) and referenced.
 * 4. Otherwise a literal: with a static name reference, else a dynamic name
 *    reference, else a literal name.
 *
 * A dynamic entry is referenced only when the reference cannot break a rule:
 * entries not yet acknowledged (absolute index >= Known Received Count) only
 * when this stream may block (it already risks blocking, or fewer than
 * SETTINGS_QPACK_BLOCKED_STREAMS streams do: section 2.1.2), and never an
 * entry in the draining region (the oldest entries beyond 3/4 of the
 * capacity), so that those can become evictable. Entries with unacknowledged
 * references, or not yet acknowledged, are never evicted (section 2.1.1): an
 * insert that would need that is not made.
 *
 * Within a section the Base is the insert count when encoding starts; entries
 * inserted for this section are referenced with post-Base indices (sections
 * 3.2.6, 4.5.3, 4.5.5). A section without dynamic references has Required
 * Insert Count 0 and Delta Base 0 (section 4.5.1.2).
 */
import { UsageError } from '../../combinators/errors.js';
import { DynamicTable, ENTRY_OVERHEAD } from './dynamic-table.js';
import { QpackError } from './errors.js';
import {
  maxEntriesOf,
  writeIndexed,
  writeIndexedPostBase,
  writeLiteral,
  writeLiteralNameRef,
  writeLiteralPostBaseNameRef,
  writeSectionPrefix,
} from './field-lines.js';
import { decodePrefixedInt, INT_INCOMPLETE, type ByteCursor } from './prefixed-int.js';
import { STATIC_BY_NAME, type StaticNameMatch } from './static-table.js';
import type { HeaderField } from './types.js';
import { ByteSink, utf8Length } from './wire.js';

export interface QpackEncoderOptions {
  /**
   * Our own cap on the dynamic table we are willing to use (default 4096);
   * the table used is min(this, the peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY).
   * 0 = static table and literals only.
   */
  readonly maxTableCapacity?: number;
  /** Use Huffman coding for a string when it is shorter (default true). */
  readonly huffman?: boolean;
}

/** The peer's QPACK settings (RFC 9204 section 5; absent settings are 0). */
export interface QpackPeerSettings {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY. */
  readonly maxTableCapacity: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS. */
  readonly blockedStreams: number;
}

/** Default of {@link QpackEncoderOptions.maxTableCapacity}: the HPACK default table size (RFC 7541 section 4.2), what nghttp3 and quiche also use. */
export const DEFAULT_ENCODER_TABLE_CAPACITY = 4096;

/**
 * The newest entries within this fraction of the capacity may be referenced;
 * older ones are draining (RFC 9204 section 2.1.1.1). Also the largest entry
 * worth inserting, as a fraction of the capacity (a larger one would start
 * out draining).
 */
const REFERENCEABLE_FRACTION = 0.75;

/**
 * Fields whose values change with nearly every message: inserting them would
 * only churn the table and the encoder stream.
 */
const NOT_INDEXED = new Set([
  'age',
  'content-length',
  'content-range',
  'date',
  'etag',
  'expires',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'last-modified',
  'location',
  'range',
  'referer',
  'x-request-id',
]);

/**
 * Fields sent as never-indexed literals even when not marked sensitive, as
 * RFC 7541 section 7.1.3 advises (carried over by RFC 9204 section 7.1.3):
 * credentials, and cookies short enough to be guessed (under 20 bytes, the
 * threshold nghttp2 uses).
 */
export function isSensitiveByDefault(name: string, value: string): boolean {
  return name === 'authorization' || name === 'proxy-authorization' || (name === 'cookie' && value.length < 20);
}

/** An encoded section not yet acknowledged, with references to the dynamic table. */
interface OutstandingSection {
  /** Absolute indices referenced (one per reference). */
  readonly refs: number[];
  readonly requiredInsertCount: number;
}

const EMPTY = new Uint8Array(0);

export class QpackEncoder {
  private readonly ownMaxCapacity: number;
  private readonly huffman: boolean;
  private settingsApplied = false;
  /** The peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY, which fixes MaxEntries (section 4.5.1.1). */
  private maxEntries = 0;
  private peerBlockedStreams = 0;
  private readonly table = new DynamicTable();
  /** Inserts the decoder acknowledged (section 2.1.4). */
  private knownReceivedCount = 0;
  /** name -> value -> newest absolute index holding that field. */
  private readonly byNameValue = new Map<string, Map<string, number>>();
  /** name -> newest absolute index with that name. */
  private readonly byName = new Map<string, number>();
  /** Stream ID -> its unacknowledged sections with dynamic references, oldest first. */
  private readonly outstanding = new Map<number, OutstandingSection[]>();
  /** Smallest absolute index that may be referenced (cached; -1 = recompute). */
  private drainingIndexCache = -1;

  private readonly encoderStream = new ByteSink(256);
  private readonly lines = new ByteSink(256);
  private readonly prefix = new ByteSink(32);

  /** Decoder-stream bytes of an incomplete instruction (at most one prefixed integer). */
  private readonly pending = new Uint8Array(16);
  private pendingLen = 0;
  private readonly cur: ByteCursor = { buf: EMPTY, pos: 0, end: 0 };

  constructor(options: QpackEncoderOptions = {}) {
    const cap = options.maxTableCapacity ?? DEFAULT_ENCODER_TABLE_CAPACITY;
    if (!Number.isSafeInteger(cap) || cap < 0)
      throw new UsageError(`QpackEncoder: maxTableCapacity must be a non-negative safe integer, got ${cap}`);
    this.ownMaxCapacity = cap;
    this.huffman = options.huffman ?? true;
  }

  /** Dynamic table capacity in use (0 until {@link applyPeerSettings}). */
  get tableCapacity(): number {
    return this.table.capacity;
  }

  /** Current dynamic table size (RFC 9204 section 3.2.1). */
  get tableSize(): number {
    return this.table.size;
  }

  /** Entries inserted so far. */
  get insertCount(): number {
    return this.table.insertCount;
  }

  /** Inserts the decoder has acknowledged (RFC 9204 section 2.1.4). */
  get knownReceived(): number {
    return this.knownReceivedCount;
  }

  /** Field sections with dynamic references not yet acknowledged (nor cancelled). */
  get outstandingSectionCount(): number {
    let n = 0;
    for (const sections of this.outstanding.values()) n += sections.length;
    return n;
  }

  /** Streams whose unacknowledged sections could be blocked at the decoder now. */
  get blockingStreamCount(): number {
    let n = 0;
    for (const sections of this.outstanding.values()) if (this.risksBlocking(sections)) n++;
    return n;
  }

  /**
   * Takes the peer's SETTINGS (call once; absent settings are 0). Until then
   * the encoder uses no dynamic table (RFC 9204 section 3.2.3: the initial
   * capacity is 0). When the table used, min(ours, theirs), can hold an entry
   * (32 bytes or more) this queues Set Dynamic Table Capacity on the encoder
   * stream (section 4.3.1), ahead of any insert.
   */
  applyPeerSettings(settings: QpackPeerSettings): void {
    const { maxTableCapacity, blockedStreams } = settings;
    // SETTINGS values are varints up to 2^62 - 1; a large one is just "plenty", precision does not matter.
    if (!Number.isInteger(maxTableCapacity) || maxTableCapacity < 0 || !Number.isInteger(blockedStreams) || blockedStreams < 0) {
      throw new UsageError(`QpackEncoder.applyPeerSettings: settings must be non-negative integers`);
    }
    if (this.settingsApplied) throw new UsageError('QpackEncoder.applyPeerSettings: the peer sends SETTINGS once');
    this.settingsApplied = true;
    this.maxEntries = maxEntriesOf(maxTableCapacity);
    this.peerBlockedStreams = blockedStreams;
    const capacity = Math.min(this.ownMaxCapacity, maxTableCapacity);
    // Below 32 bytes no entry fits (section 3.2.1): same as no table, and MaxEntries would be 0.
    if (capacity >= ENTRY_OVERHEAD) {
      this.table.capacity = capacity;
      this.encoderStream.int(0x20, 5, capacity);
    }
  }

  /** Bytes to write on our encoder stream, or null when there are none. */
  takeEncoderStreamData(): Uint8Array | null {
    return this.encoderStream.take();
  }

  /**
   * Encodes a field section (the payload of a HEADERS frame) for `streamId`.
   * Instructions it needs are queued for {@link takeEncoderStreamData}; write
   * those before (or with) the section, which may otherwise stay blocked at
   * the peer until they arrive. Never makes more streams able to block than
   * the peer allows.
   */
  encodeFieldSection(streamId: number, fields: readonly HeaderField[]): Uint8Array {
    if (!Number.isSafeInteger(streamId) || streamId < 0)
      throw new UsageError(`QPACK: stream ID must be a non-negative safe integer, got ${streamId}`);
    const lines = this.lines;
    lines.pos = 0;
    const table = this.table;
    const huffman = this.huffman;
    const useDynamic = table.capacity > 0;
    const base = table.insertCount;
    let ric = 0;
    let refs: number[] | null = null;
    /** Whether this section may reference unacknowledged entries: -1 until needed. */
    let mayBlock = -1;

    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      const name = field.name;
      const value = field.value;
      const st = STATIC_BY_NAME.get(name);
      if (field.sensitive === true || isSensitiveByDefault(name, value)) {
        // Section 4.5.4: "When the 'N' bit is set, the encoded field line MUST always be encoded with a
        // literal representation"; the name may still come from the static table.
        if (st !== undefined) writeLiteralNameRef(lines, true, st.nameIndex, value, true, huffman);
        else writeLiteral(lines, name, value, true, huffman);
        continue;
      }
      if (st !== undefined) {
        const si = st.values.get(value);
        if (si !== undefined) {
          writeIndexed(lines, true, si);
          continue;
        }
      }
      if (useDynamic) {
        let abs = this.byNameValue.get(name)?.get(value) ?? -1;
        if (abs >= 0 && abs < this.drainingIndex()) abs = this.duplicate(abs);
        else if (abs < 0 && !NOT_INDEXED.has(name)) abs = this.insert(name, value, st);
        if (abs >= 0) {
          if (abs >= this.knownReceivedCount && mayBlock < 0) mayBlock = this.mayBlock(streamId) ? 1 : 0;
          if (abs < this.knownReceivedCount || mayBlock === 1) {
            table.get(abs)!.refs++;
            (refs ??= []).push(abs);
            if (abs >= ric) ric = abs + 1;
            if (abs < base) writeIndexed(lines, false, base - 1 - abs);
            else writeIndexedPostBase(lines, abs - base);
            continue;
          }
        }
        if (st === undefined) {
          // A name reference into the dynamic table, under the same rules as a full reference.
          const nameAbs = this.byName.get(name) ?? -1;
          if (nameAbs >= 0 && nameAbs >= this.drainingIndex()) {
            if (nameAbs >= this.knownReceivedCount && mayBlock < 0) mayBlock = this.mayBlock(streamId) ? 1 : 0;
            if (nameAbs < this.knownReceivedCount || mayBlock === 1) {
              table.get(nameAbs)!.refs++;
              (refs ??= []).push(nameAbs);
              if (nameAbs >= ric) ric = nameAbs + 1;
              if (nameAbs < base) writeLiteralNameRef(lines, false, base - 1 - nameAbs, value, false, huffman);
              else writeLiteralPostBaseNameRef(lines, nameAbs - base, value, false, huffman);
              continue;
            }
          }
        }
      }
      if (st !== undefined) writeLiteralNameRef(lines, true, st.nameIndex, value, false, huffman);
      else writeLiteral(lines, name, value, false, huffman);
    }

    if (refs !== null) {
      const list = this.outstanding.get(streamId);
      const section: OutstandingSection = { refs, requiredInsertCount: ric };
      if (list === undefined) this.outstanding.set(streamId, [section]);
      else list.push(section);
    }
    const prefix = this.prefix;
    prefix.pos = 0;
    // Without dynamic references any Base will do; Delta Base 0 is the shortest (section 4.5.1.2).
    writeSectionPrefix(prefix, ric, ric === 0 ? 0 : base, this.maxEntries);
    const out = new Uint8Array(prefix.pos + lines.pos);
    out.set(prefix.buf.subarray(0, prefix.pos), 0);
    out.set(lines.buf.subarray(0, lines.pos), prefix.pos);
    return out;
  }

  /**
   * Processes bytes of the peer's decoder stream (RFC 9204 section 4.4), in
   * any chunking. Raises QPACK_DECODER_STREAM_ERROR for a Section
   * Acknowledgment with nothing to acknowledge (section 4.4.1), an Insert Count
   * Increment of 0 or beyond our inserts (section 4.4.3), or an integer over
   * the limit.
   */
  receiveDecoderStream(data: Uint8Array): void {
    let i = 0;
    const cur = this.cur;
    // Finish an instruction split by the previous chunk: it is one prefixed integer, at most 9 bytes.
    while (this.pendingLen > 0 && i < data.length) {
      this.pending[this.pendingLen++] = data[i++]!;
      cur.buf = this.pending;
      cur.pos = 0;
      cur.end = this.pendingLen;
      if (this.readDecoderInstruction(cur)) this.pendingLen = 0;
    }
    cur.buf = data;
    cur.pos = i;
    cur.end = data.length;
    while (cur.pos < cur.end) {
      if (!this.readDecoderInstruction(cur)) {
        this.pending.set(data.subarray(cur.pos), 0);
        this.pendingLen = cur.end - cur.pos;
        break;
      }
    }
    cur.buf = EMPTY;
  }

  /** Reads and applies one decoder instruction; false when incomplete (nothing consumed). */
  private readDecoderInstruction(cur: ByteCursor): boolean {
    const b = cur.buf[cur.pos]!;
    if (b & 0x80) {
      const streamId = decoderStreamInt(cur, 7);
      if (streamId < 0) return false;
      this.onSectionAcknowledgment(streamId);
    } else if (b & 0x40) {
      const streamId = decoderStreamInt(cur, 6);
      if (streamId < 0) return false;
      this.onStreamCancellation(streamId);
    } else {
      const increment = decoderStreamInt(cur, 6);
      if (increment < 0) return false;
      // "An encoder that receives an Increment field equal to zero, or one that increases the Known
      // Received Count beyond what the encoder has sent, MUST treat this as a connection error of type
      // QPACK_DECODER_STREAM_ERROR" (section 4.4.3).
      if (increment === 0 || this.knownReceivedCount + increment > this.table.insertCount) {
        throw new QpackError(
          'QPACK_DECODER_STREAM_ERROR',
          'insert-count-increment',
          `increment ${increment}, known ${this.knownReceivedCount}, inserted ${this.table.insertCount}`,
        );
      }
      this.knownReceivedCount += increment;
    }
    return true;
  }

  /** Section 4.4.1: acknowledges the oldest unacknowledged section of the stream. */
  private onSectionAcknowledgment(streamId: number): void {
    const list = this.outstanding.get(streamId);
    const section = list?.shift();
    if (section === undefined) {
      // "If an encoder receives a Section Acknowledgment instruction referring to a stream on which every
      // encoded field section with a non-zero Required Insert Count has already been acknowledged, this
      // MUST be treated as a connection error of type QPACK_DECODER_STREAM_ERROR" (section 4.4.1).
      throw new QpackError('QPACK_DECODER_STREAM_ERROR', 'unknown-section', `stream ${streamId}`);
    }
    if (list!.length === 0) this.outstanding.delete(streamId);
    this.release(section.refs);
    // Section 2.1.4: the acknowledgment implies every insert up to its Required Insert Count.
    if (section.requiredInsertCount > this.knownReceivedCount) this.knownReceivedCount = section.requiredInsertCount;
  }

  /** Section 4.4.2: every reference of the stream's sections is released (an unknown stream is fine). */
  private onStreamCancellation(streamId: number): void {
    const list = this.outstanding.get(streamId);
    if (list === undefined) return;
    this.outstanding.delete(streamId);
    for (const s of list) this.release(s.refs);
  }

  private release(refs: readonly number[]): void {
    for (const abs of refs) {
      // Referenced entries are never evicted, so the entry is still there.
      const e = this.table.get(abs);
      if (e !== undefined) e.refs--;
    }
  }

  /** Whether a stream's sections include one that the decoder may not be able to decode yet. */
  private risksBlocking(sections: readonly OutstandingSection[]): boolean {
    for (const s of sections) if (s.requiredInsertCount > this.knownReceivedCount) return true;
    return false;
  }

  /** Section 2.1.2: may a section of this stream reference entries the decoder may not have yet? */
  private mayBlock(streamId: number): boolean {
    if (this.peerBlockedStreams === 0) return false;
    const own = this.outstanding.get(streamId);
    if (own !== undefined && this.risksBlocking(own)) return true;
    return this.blockingStreamCount < this.peerBlockedStreams;
  }

  /** Smallest absolute index the encoder still references (section 2.1.1.1). */
  private drainingIndex(): number {
    if (this.drainingIndexCache >= 0) return this.drainingIndexCache;
    const table = this.table;
    const budget = table.capacity * REFERENCEABLE_FRACTION;
    let used = 0;
    let abs = table.insertCount;
    while (abs > table.firstIndex) {
      const size = table.get(abs - 1)!.size;
      if (used + size > budget) break;
      used += size;
      abs--;
    }
    this.drainingIndexCache = abs;
    return abs;
  }

  /**
   * Evicts entries, oldest first, until `size` more bytes fit; only when all of
   * them are evictable (acknowledged, section 2.1.1, and unreferenced), else
   * evicts nothing and returns false.
   */
  private makeRoom(size: number): boolean {
    const table = this.table;
    if (size > table.capacity) return false;
    let freed = 0;
    let abs = table.firstIndex;
    while (table.size - freed + size > table.capacity) {
      const e = table.get(abs);
      if (e === undefined || abs >= this.knownReceivedCount || e.refs > 0) return false;
      freed += e.size;
      abs++;
    }
    while (table.size + size > table.capacity) {
      const evictedAbs = table.firstIndex;
      const e = table.evictOldest();
      const { name, value } = e.field;
      const values = this.byNameValue.get(name);
      if (values !== undefined && values.get(value) === evictedAbs) {
        values.delete(value);
        if (values.size === 0) this.byNameValue.delete(name);
      }
      if (this.byName.get(name) === evictedAbs) this.byName.delete(name);
    }
    this.drainingIndexCache = -1;
    return true;
  }

  /** Records a new entry (the instruction is already queued); returns its absolute index. */
  private added(name: string, value: string, nameSize: number, size: number): number {
    const abs = this.table.push({ name, value }, nameSize, size);
    let values = this.byNameValue.get(name);
    if (values === undefined) {
      values = new Map();
      this.byNameValue.set(name, values);
    }
    values.set(value, abs);
    this.byName.set(name, abs);
    this.drainingIndexCache = -1;
    return abs;
  }

  /**
   * Inserts a field (section 4.3.2 or 4.3.3) when it is small enough to be
   * worth it and room can be made; returns its absolute index, or -1.
   */
  private insert(name: string, value: string, st: StaticNameMatch | undefined): number {
    const table = this.table;
    const nameSize = utf8Length(name);
    const size = nameSize + utf8Length(value) + ENTRY_OVERHEAD;
    if (size > table.capacity * REFERENCEABLE_FRACTION) return -1;
    // The name reference is chosen before making room: the decoder resolves it before evicting
    // (section 3.2.2), so an entry this insert evicts may still lend its name.
    const nameAbs = st === undefined ? (this.byName.get(name) ?? -1) : -1;
    if (!this.makeRoom(size)) return -1;
    const stream = this.encoderStream;
    if (st !== undefined) {
      stream.int(0xc0, 6, st.nameIndex);
      stream.string(0, 8, value, this.huffman);
    } else if (nameAbs >= 0) {
      stream.int(0x80, 6, table.insertCount - 1 - nameAbs);
      stream.string(0, 8, value, this.huffman);
    } else {
      stream.string(0x40, 6, name, this.huffman);
      stream.string(0, 8, value, this.huffman);
    }
    return this.added(name, value, nameSize, size);
  }

  /** Duplicates a draining entry (section 4.3.4) when room can be made; returns the new index, or -1. */
  private duplicate(abs: number): number {
    const table = this.table;
    const e = table.get(abs)!;
    const relative = table.insertCount - 1 - abs;
    if (!this.makeRoom(e.size)) return -1;
    this.encoderStream.int(0x00, 5, relative);
    return this.added(e.field.name, e.field.value, e.nameSize, e.size);
  }
}

/** A prefixed integer on the decoder stream: the value, or -1 when incomplete. */
function decoderStreamInt(cur: ByteCursor, prefixBits: number): number {
  const v = decodePrefixedInt(cur, prefixBits);
  if (v === INT_INCOMPLETE) return -1;
  if (v < 0) throw new QpackError('QPACK_DECODER_STREAM_ERROR', 'integer-overflow');
  return v;
}
