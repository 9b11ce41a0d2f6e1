/**
 * The QPACK dynamic table (RFC 9204 section 3.2), shared by the encoder's and
 * the decoder's view of it: a FIFO of entries addressed by absolute index
 * (section 3.2.4: the first entry inserted is 0, and indices never change),
 * with a size (sum of entry sizes, section 3.2.1: name octets + value octets
 * + 32) and a capacity that bounds it (section 3.2.2).
 *
 * The table only stores and evicts. Policy lives with its owner: the decoder
 * evicts whatever the encoder's instructions require (decoder.ts); the encoder
 * evicts only entries that are acknowledged and unreferenced and tracks
 * references in {@link DynamicEntry.refs} (encoder.ts, section 2.1.1).
 */
import type { HeaderField } from './types.js';

/** Per-entry overhead in the table size (RFC 9204 section 3.2.1). */
export const ENTRY_OVERHEAD = 32;

export interface DynamicEntry {
  /** The field; the decoder hands this same object out for every reference to the entry. */
  readonly field: HeaderField;
  /** name octets + value octets + 32 (RFC 9204 section 3.2.1). */
  readonly size: number;
  /** Octets of the name (for an insert that references this entry's name). */
  readonly nameSize: number;
  /** Encoder only: references from field sections not yet acknowledged (section 2.1.1). */
  refs: number;
}

/** A ring buffer of entries with absolute indexing. */
export class DynamicTable {
  private ring: Array<DynamicEntry | undefined> = new Array<DynamicEntry | undefined>(16);
  private mask = 15;
  /** Ring slot of the oldest entry. */
  private head = 0;
  private count = 0;
  /** Current capacity in bytes (RFC 9204 section 3.2.2); starts at 0 (section 3.2.3). */
  capacity = 0;
  /** Sum of the entries' sizes. */
  size = 0;
  /** Entries inserted so far: the absolute index the next entry gets (section 3.2.4). */
  insertCount = 0;

  /** Number of entries in the table. */
  get length(): number {
    return this.count;
  }

  /** Absolute index of the oldest entry still present (`insertCount` when empty). */
  get firstIndex(): number {
    return this.insertCount - this.count;
  }

  /** The entry with absolute index `abs`, or undefined when evicted or not inserted yet. */
  get(abs: number): DynamicEntry | undefined {
    const rel = abs - (this.insertCount - this.count);
    if (rel < 0 || rel >= this.count) return undefined;
    return this.ring[(this.head + rel) & this.mask];
  }

  /** The oldest entry, or undefined when empty. */
  oldest(): DynamicEntry | undefined {
    return this.count === 0 ? undefined : this.ring[this.head];
  }

  /** Removes the oldest entry (the table must not be empty) and returns it. */
  evictOldest(): DynamicEntry {
    const e = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.count--;
    this.size -= e.size;
    return e;
  }

  /** Evicts the oldest entries until `size + extra <= capacity` (or the table is empty). */
  evictToFit(extra: number): void {
    while (this.count > 0 && this.size + extra > this.capacity) this.evictOldest();
  }

  /** Appends an entry (the caller made room) and returns its absolute index. */
  push(field: HeaderField, nameSize: number, size: number): number {
    if (this.count === this.ring.length) this.grow();
    this.ring[(this.head + this.count) & this.mask] = { field, size, nameSize, refs: 0 };
    this.count++;
    this.size += size;
    return this.insertCount++;
  }

  private grow(): void {
    const next = new Array<DynamicEntry | undefined>(this.ring.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.ring[(this.head + i) & this.mask];
    this.ring = next;
    this.mask = next.length - 1;
    this.head = 0;
  }
}
