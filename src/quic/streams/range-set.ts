/**
 * A set of stream byte offsets kept as sorted, disjoint, non-adjacent
 * half-open ranges `[start, end)`. The send side uses it for acknowledged
 * and lost ranges (RFC 9000 section 13.3: lost STREAM data is sent again,
 * acknowledged data never is). Sets stay small in practice: acknowledged
 * ranges are trimmed as soon as they join the acknowledged prefix, and lost
 * ranges are consumed by retransmission.
 */
export class RangeSet {
  /** start0, end0, start1, end1, ...: ascending, `end_i < start_{i+1}` (adjacent ranges are merged). */
  private r: number[] = [];

  /** True when no offset is in the set. */
  get isEmpty(): boolean {
    return this.r.length === 0;
  }

  /** Number of ranges. */
  get count(): number {
    return this.r.length >> 1;
  }

  /** Start of range `i` (0 <= i < count). */
  start(i: number): number {
    return this.r[2 * i]!;
  }

  /** End (exclusive) of range `i`. */
  end(i: number): number {
    return this.r[2 * i + 1]!;
  }

  /** Total number of offsets in the set. */
  get size(): number {
    let n = 0;
    for (let i = 0; i < this.r.length; i += 2) n += this.r[i + 1]! - this.r[i]!;
    return n;
  }

  /** Index of the first range whose end is >= `offset` (ranges.count if none). */
  private firstEndingAtOrAfter(offset: number): number {
    let lo = 0;
    let hi = this.r.length >> 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.r[2 * mid + 1]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Adds `[start, end)`, merging with overlapping and adjacent ranges. */
  add(start: number, end: number): void {
    if (end <= start) return;
    const r = this.r;
    const n = r.length >> 1;
    // Fast path: at or after the last range (in-order acknowledgements).
    if (n === 0 || start > r[r.length - 1]!) {
      r.push(start, end);
      return;
    }
    const i = this.firstEndingAtOrAfter(start);
    let j = i;
    let s = start;
    let e = end;
    // Ranges i..j-1 touch [start, end] (overlap or adjacency): merge them.
    while (j < n && r[2 * j]! <= end) {
      if (r[2 * j]! < s) s = r[2 * j]!;
      if (r[2 * j + 1]! > e) e = r[2 * j + 1]!;
      j++;
    }
    r.splice(2 * i, 2 * (j - i), s, e);
  }

  /** Removes `[start, end)`. */
  remove(start: number, end: number): void {
    if (end <= start) return;
    const r = this.r;
    const n = r.length >> 1;
    // First range with end > start.
    let i = this.firstEndingAtOrAfter(start);
    if (i < n && r[2 * i + 1]! === start) i++;
    const pieces: number[] = [];
    let j = i;
    while (j < n && r[2 * j]! < end) {
      const s = r[2 * j]!;
      const e = r[2 * j + 1]!;
      if (s < start) pieces.push(s, start);
      if (e > end) pieces.push(end, e);
      j++;
    }
    if (j > i) r.splice(2 * i, 2 * (j - i), ...pieces);
  }

  /** Removes every offset below `offset`. */
  removeBelow(offset: number): void {
    const r = this.r;
    let k = 0;
    while (k < r.length && r[k + 1]! <= offset) k += 2;
    if (k > 0) r.splice(0, k);
    if (r.length > 0 && r[0]! < offset) r[0] = offset;
  }

  /** True if `offset` is in the set. */
  has(offset: number): boolean {
    const i = this.firstEndingAtOrAfter(offset + 1);
    return i < this.r.length >> 1 && this.r[2 * i]! <= offset;
  }

  /** Calls `fn` for each maximal sub-range of `[start, end)` that is NOT in the set, in order. */
  forEachGap(start: number, end: number, fn: (start: number, end: number) => void): void {
    const r = this.r;
    const n = r.length >> 1;
    let cur = start;
    for (let i = this.firstEndingAtOrAfter(start + 1); i < n && cur < end; i++) {
      const s = r[2 * i]!;
      if (s >= end) break;
      if (s > cur) fn(cur, s);
      cur = Math.max(cur, r[2 * i + 1]!);
    }
    if (cur < end) fn(cur, end);
  }

  /** Removes everything. */
  clear(): void {
    this.r.length = 0;
  }

  /** The ranges as `[start, end)` pairs (for tests and diagnostics). */
  toArray(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.r.length; i += 2) out.push([this.r[i]!, this.r[i + 1]!]);
    return out;
  }
}
