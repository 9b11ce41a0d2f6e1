import { ParseError, UsageError } from './errors.js';

/**
 * Returned by a parser's fast path when the buffered bytes are not enough yet.
 * The Source is left exactly as it was; `source.needed` says how many more
 * bytes would let the parser make progress (0 when unknown).
 */
export const INCOMPLETE: unique symbol = Symbol('INCOMPLETE');
export type Incomplete = typeof INCOMPLETE;

export interface SourceOptions {
  /**
   * Most unconsumed bytes the Source will hold; `feed` raises
   * ERR_BUFFER_LIMIT past it. Default 16 MiB: the largest record most
   * protocols allow (a Redis bulk string is 512 MiB, but a client sets its own
   * cap; ws's maxPayload is 100 MiB, h11 caps heads at 16 KiB).
   */
  readonly maxBuffered?: number;
}

const EMPTY = new Uint8Array(0);
const DEFAULT_MAX_BUFFERED = 16 * 1024 * 1024;
/** Fixed-size gathers up to this size reuse one scratch array instead of allocating. */
const SCRATCH_SIZE = 64;

/**
 * The input side: owns the chunks fed to it, hands parsers exactly the bytes
 * they ask for, and keeps the rest for the next parser.
 *
 * - `feed(chunk)` appends without copying. The Source keeps a reference, so
 *   do not reuse a fed buffer while views into it are alive (see `bytes`).
 * - Consumed chunks are released as soon as no mark (a pending atomic parse)
 *   refers to them.
 * - Length-prefixed regions push a limit: inside it, parsers see the region
 *   as the whole input.
 *
 * The fields marked internal are the fast path used by the parsers of this
 * package: `buf[off..lim)` is the readable part of the current chunk.
 */
export class Source {
  /** @internal current chunk */
  buf: Uint8Array = EMPTY;
  /** @internal read offset inside `buf` */
  off = 0;
  /** @internal end of what may be read from `buf` (chunk end or region limit) */
  lim = 0;
  /** @internal absolute offset of `buf[0]` */
  base = 0;
  /** @internal bytes a stalled parser needs beyond what is available (0 = unknown) */
  needed = 0;

  private readonly chunks: Uint8Array[] = [];
  /** index of `buf` in `chunks` */
  private ci = -1;
  /** chunks before this index are already replaced by EMPTY (see `release`) */
  private dropped = 0;
  /** absolute offset of the end of everything fed */
  private fedEnd = 0;
  /** absolute end of the innermost region, or Infinity */
  private limit = Infinity;
  /** enclosing region ends, created on first use (complete-mode Sources are made per datagram) */
  private limits: number[] | null = null;
  private marks = 0;
  private endedFlag = false;
  private scratch: Uint8Array | null = null;
  /** Where the last `indexOf` started walking, valid while (base, off, ci) are unchanged. */
  private scanBase = -1;
  private scanOff = -1;
  private scanCi = -1;
  private scanK = 0;
  private scanStart = 0;
  readonly maxBuffered: number;

  constructor(options: SourceOptions = {}) {
    this.maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
  }

  /** A Source holding `bytes` and already ended: complete mode. */
  static complete(bytes: Uint8Array): Source {
    const s = new Source({ maxBuffered: Math.max(bytes.length, 1) });
    s.feed(bytes);
    s.end();
    return s;
  }

  /**
   * Reuses this Source for complete mode over `bytes`, forgetting everything
   * it held: for hot loops that parse one datagram after another without
   * allocating a Source each time. Positions restart at 0.
   */
  resetComplete(bytes: Uint8Array): this {
    // Truncating with `length = 0` is a runtime call that cost more than a fresh Source;
    // a Source reused in complete mode always holds exactly one chunk, so overwrite it.
    const chunks = this.chunks;
    if (chunks.length === 1) chunks[0] = bytes;
    else {
      chunks.length = 0;
      chunks.push(bytes);
    }
    this.ci = 0;
    this.dropped = 0;
    this.buf = bytes;
    this.off = 0;
    this.base = 0;
    this.fedEnd = bytes.length;
    this.limit = Infinity;
    if (this.limits !== null) this.limits.length = 0;
    this.marks = 0;
    this.needed = 0;
    this.endedFlag = true;
    // A resumed indexOf scan is keyed on (base, off, ci), which restart at 0: forget the old one.
    this.scanBase = -1;
    this.updateLim();
    return this;
  }

  /** Appends a chunk (no copy). Raises ERR_BUFFER_LIMIT if the cap would be exceeded. */
  feed(chunk: Uint8Array): void {
    if (this.endedFlag) throw new UsageError('feed() after end()');
    if (chunk.length === 0) return;
    if (this.buffered + chunk.length > this.maxBuffered) {
      throw new ParseError(
        'ERR_BUFFER_LIMIT',
        this.fedEnd,
        `at most ${this.maxBuffered} buffered bytes`,
        `${this.buffered} buffered + ${chunk.length} fed`,
      );
    }
    this.fedEnd += chunk.length;
    this.chunks.push(chunk);
    // The current chunk is used up (or there is none): the new one becomes current.
    if (this.off === this.buf.length) this.advance();
  }

  /** No more input will come: a parser that runs short now fails with ERR_UNEXPECTED_END. */
  end(): void {
    this.endedFlag = true;
  }

  get ended(): boolean {
    return this.endedFlag;
  }

  /** Absolute number of bytes consumed so far (the offset reported in errors). */
  get position(): number {
    return this.base + this.off;
  }

  /** Unconsumed bytes held. */
  get buffered(): number {
    return this.fedEnd - this.base - this.off;
  }

  /** Bytes a parser may still read: buffered bytes, cut at the current region's end. */
  get available(): number {
    const pos = this.base + this.off;
    return Math.min(this.fedEnd, this.limit) - pos;
  }

  /** Bytes left in the current region (Infinity outside any region). */
  get remainingInRegion(): number {
    return this.limit - this.base - this.off;
  }

  /**
   * True when no more bytes can ever be read here: at the end of the current
   * region, or at the end of an ended Source.
   */
  get atEnd(): boolean {
    if (this.off < this.lim) return false; // readable bytes in the current chunk: the common case
    const pos = this.base + this.off;
    return pos === this.limit || (this.endedFlag && pos === this.fedEnd);
  }

  /** Returns the unconsumed bytes (copied into one array) and consumes them. For handing leftovers to another component. */
  takeRest(): Uint8Array {
    const n = this.buffered;
    const out = new Uint8Array(n);
    let w = 0;
    while (w < n) {
      const len = Math.min(this.buf.length - this.off, n - w);
      out.set(this.buf.subarray(this.off, this.off + len), w);
      w += len;
      this.off += len;
      if (this.off === this.buf.length) this.advance();
    }
    return out;
  }

  // ---- internal machinery used by parsers ----

  /**
   * @internal Moves to the next chunk when the current one is used up.
   * `buf` is `chunks[ci]` (or EMPTY before the first feed); a used-up chunk
   * stays current until a later chunk exists.
   */
  advance(): void {
    while (this.off === this.buf.length && this.ci + 1 < this.chunks.length) {
      this.base += this.buf.length;
      this.ci++;
      this.buf = this.chunks[this.ci]!;
      this.off = 0;
    }
    if (this.marks === 0) this.release();
    this.updateLim();
  }

  /** drops chunks before the current one: nothing can walk back to them */
  private release(): void {
    const ci = this.ci;
    if (ci === 0) return;
    if (ci >= 32) {
      this.chunks.splice(0, ci);
      this.ci = 0;
      this.dropped = 0;
      return;
    }
    // Drop the references now (the memory is what matters) and compact the array later in one
    // splice: splicing per chunk made tiny chunks (1-byte feeds) pay a splice per byte.
    for (let i = this.dropped; i < ci; i++) this.chunks[i] = EMPTY;
    this.dropped = ci;
  }

  /** @internal */
  updateLim(): void {
    const regionEnd = this.limit - this.base;
    this.lim = regionEnd < this.buf.length ? regionEnd : this.buf.length;
  }

  /**
   * @internal Called by a fast path that found fewer than `n` readable bytes
   * in the current chunk. Returns INCOMPLETE (setting `needed`) when more
   * input may arrive; raises when it cannot (region end, ended source).
   * Callers first try `gather` for values that span chunks.
   */
  short(n: number, expected: string): Incomplete {
    const pos = this.base + this.off;
    if (this.limit - pos < n) {
      throw new ParseError('ERR_REGION_OVERRUN', pos, expected, `${this.limit - pos} bytes left in region, ${n} needed`);
    }
    if (this.endedFlag) {
      throw new ParseError('ERR_UNEXPECTED_END', pos, expected, `${this.fedEnd - pos} bytes left, ${n} needed`);
    }
    if (n > this.maxBuffered) {
      // Waiting could never help: the Source will not hold that many bytes.
      throw new ParseError('ERR_BUFFER_LIMIT', pos, expected, `${n} bytes needed, maxBuffered is ${this.maxBuffered}`);
    }
    this.needed = n - (this.fedEnd - pos);
    return INCOMPLETE;
  }

  /**
   * @internal Reports an unknown-size shortage (a delimiter not found yet):
   * INCOMPLETE with `needed` = 0, or an error at a region end or ended source.
   */
  shortUnknown(expected: string): Incomplete {
    const pos = this.base + this.off;
    if (this.fedEnd >= this.limit) {
      throw new ParseError('ERR_REGION_OVERRUN', pos, expected, 'region ended first');
    }
    if (this.endedFlag) throw new ParseError('ERR_UNEXPECTED_END', pos, expected);
    this.needed = 0;
    return INCOMPLETE;
  }

  /**
   * @internal Consumes `n` bytes that span chunks, copied into a scratch array
   * (reused when `n` <= 64 and `owned` is false). Returns INCOMPLETE when fewer
   * than `n` bytes are available (see `short`).
   */
  gather(n: number, expected: string, owned = false): Uint8Array | Incomplete {
    if (this.available < n) return this.short(n, expected);
    let out: Uint8Array;
    if (!owned && n <= SCRATCH_SIZE) out = this.scratch ??= new Uint8Array(SCRATCH_SIZE);
    else out = new Uint8Array(n);
    let w = 0;
    while (w < n) {
      if (this.off === this.buf.length) this.advance();
      const len = Math.min(this.buf.length - this.off, n - w);
      if (len < 16) {
        // A few bytes: a loop beats creating a subarray view for `set`.
        const b = this.buf;
        for (let i = 0, o = this.off; i < len; i++) out[w + i] = b[o + i]!;
      } else {
        out.set(this.buf.subarray(this.off, this.off + len), w);
      }
      w += len;
      this.off += len;
    }
    if (this.off === this.buf.length) this.advance();
    else this.updateLim();
    return out;
  }

  /**
   * @internal Returns `n` bytes without consuming them (a view when they lie
   * in one chunk, else a copy), or INCOMPLETE.
   */
  peekBytes(n: number, expected: string): Uint8Array | Incomplete {
    if (this.off + n <= this.lim) return this.buf.subarray(this.off, this.off + n);
    const m = this.mark();
    const got = this.gather(n, expected, true);
    this.reset(m);
    return got;
  }

  /** @internal Skips `n` bytes, or returns INCOMPLETE without consuming. */
  skipBytes(n: number, expected: string): void | Incomplete {
    if (this.available < n) return this.short(n, expected);
    let left = n;
    while (left > 0) {
      if (this.off === this.buf.length) this.advance();
      const len = Math.min(this.buf.length - this.off, left);
      this.off += len;
      left -= len;
    }
    if (this.off === this.buf.length) this.advance();
    else this.updateLim();
  }

  /**
   * @internal Byte at `i` bytes past the read position, or -1 when it is not
   * buffered (or lies past the region end). Used by delimiter scans.
   */
  byteAt(i: number): number {
    const pos = this.base + this.off + i;
    if (pos >= this.fedEnd || pos >= this.limit) return -1;
    let idx = this.off + i;
    let k = this.ci;
    while (idx >= this.chunks[k]!.length) {
      idx -= this.chunks[k]!.length;
      k++;
    }
    return this.chunks[k]![idx]!;
  }

  /**
   * @internal Finds `sep` starting `from` bytes past the read position, looking
   * at most `maxScan` bytes ahead. Returns its distance from the read
   * position, or -1.
   */
  indexOf(sep: Uint8Array, from: number, maxScan: number): number {
    const avail = this.available;
    const stop = Math.min(avail, maxScan + sep.length);
    if (stop - from < sep.length) return -1;
    const first = sep[0]!;
    const chunks = this.chunks;
    // Walk chunk by chunk so a scan is linear in the bytes looked at. A resumed scan (same read
    // position, `from` further on) starts at the chunk the previous one started at, so feeding a
    // record in many small chunks does not rewalk the chunks already scanned.
    let k = this.ci;
    let chunkStart = -this.off; // distance of chunks[k][0] from the read position
    if (this.scanBase === this.base && this.scanOff === this.off && this.scanCi === this.ci && this.scanStart <= from) {
      k = this.scanK;
      chunkStart = this.scanStart;
    }
    while (k + 1 < chunks.length && chunkStart + chunks[k]!.length <= from) {
      chunkStart += chunks[k]!.length;
      k++;
    }
    this.scanBase = this.base;
    this.scanOff = this.off;
    this.scanCi = this.ci;
    this.scanK = k;
    this.scanStart = chunkStart;
    while (k < chunks.length) {
      const c = chunks[k]!;
      const chunkEnd = chunkStart + c.length;
      if (chunkEnd > from) {
        let i = Math.max(from, chunkStart) - chunkStart;
        const end = Math.min(c.length, stop - chunkStart);
        while (i < end) {
          const j = c.indexOf(first, i);
          if (j === -1 || j >= end) break;
          const d = chunkStart + j;
          if (d + sep.length > stop) return -1;
          // Compare the rest of the separator, walking into the next chunks when needed.
          let ok = true;
          let m = k;
          let idx = j + 1;
          for (let t = 1; t < sep.length; t++) {
            while (idx >= chunks[m]!.length) {
              idx -= chunks[m]!.length;
              m++;
            }
            if (chunks[m]![idx] !== sep[t]) {
              ok = false;
              break;
            }
            idx++;
          }
          if (ok) return d;
          i = j + 1;
        }
      }
      if (chunkEnd >= stop) break;
      chunkStart = chunkEnd;
      k++;
    }
    return -1;
  }

  /**
   * @internal Returns the next `n` bytes and consumes them: a view of the
   * current chunk when they lie in it, else an owned copy. INCOMPLETE when
   * fewer than `n` are available.
   */
  take(n: number, expected: string): Uint8Array | Incomplete {
    const o = this.off;
    const b = this.buf;
    if (o + n <= this.lim) {
      this.off = o + n;
      if (this.off === b.length) this.advance();
      return b.subarray(o, o + n);
    }
    return this.gather(n, expected, true);
  }

  /** @internal Saves the read position for an atomic parse; chunks are kept until `reset` or `commit`. */
  mark(): number {
    this.marks++;
    return this.base + this.off;
  }

  /** @internal Returns to a mark (the parse did not complete). */
  reset(mark: number): void {
    this.marks--;
    // Walk back to the chunk holding `mark`.
    while (mark < this.base) {
      this.ci--;
      this.buf = this.chunks[this.ci]!;
      this.base -= this.buf.length;
    }
    this.off = mark - this.base;
    if (this.off === this.buf.length) this.advance();
    else this.updateLim();
  }

  /** @internal The atomic parse completed: forget the mark. */
  commit(): void {
    this.marks--;
    if (this.marks === 0) this.release();
  }

  /** @internal Opens a region of `n` bytes from the read position. */
  pushLimit(n: number): void {
    (this.limits ??= []).push(this.limit);
    this.limit = this.base + this.off + n;
    this.updateLim();
  }

  /** @internal Closes the innermost region. */
  popLimit(): void {
    this.limit = this.limits?.pop() ?? Infinity;
    this.updateLim();
  }
}
