/**
 * Receive-side reassembly of one stream's bytes (RFC 9000 section 2.2:
 * "Endpoints MUST be able to deliver stream data to an application as an
 * ordered byte stream ... an endpoint could receive stream data for a stream
 * at different stream offsets, out of order ... and data at a given offset
 * can be received more than once").
 *
 * Segments are kept sorted and non-overlapping: a new piece only fills the
 * gaps between what is already held (section 2.2: "the data at a given
 * offset MUST NOT change if it is sent multiple times", so the first copy
 * wins and later copies are dropped, never compared or merged).
 *
 * Zero-copy where it is safe: a piece that covers at least half of its
 * underlying buffer (the usual STREAM frame in a datagram) is kept as a view
 * of the received packet; a small piece of a large buffer (a few bytes of
 * a 1200-byte datagram, or of a pooled Node slab) is copied, so that the
 * memory held stays within twice the bytes flow control allows, whatever
 * frame sizes the peer picks. With `retainViews` false every piece is copied
 * (for callers that reuse their datagram buffers).
 *
 * The assembler does not check limits: the receive stream checks flow
 * control and final size before inserting, so what is held never exceeds the
 * advertised window.
 */
export class Assembler {
  /** Offsets of the held segments, ascending, from `head`. */
  private offs: number[] = [];
  private bufs: Uint8Array[] = [];
  /** Index of the first live segment (front removal without shifting). */
  private head = 0;
  /** Bytes delivered to the reader: everything below is gone. */
  private readPos = 0;
  /** Bytes held. */
  private held = 0;
  private readonly retainViews: boolean;

  constructor(retainViews = true) {
    this.retainViews = retainViews;
  }

  /** Offset of the next byte the reader gets. */
  get readOffset(): number {
    return this.readPos;
  }

  /** Bytes held (received, not yet read). */
  get buffered(): number {
    return this.held;
  }

  /** Number of held segments (for tests). */
  get segmentCount(): number {
    return this.offs.length - this.head;
  }

  /** Bytes readable now: the contiguous run at `readOffset`. */
  get contiguous(): number {
    let n = 0;
    let pos = this.readPos;
    for (let i = this.head; i < this.offs.length && this.offs[i] === pos; i++) {
      const len = this.bufs[i]!.length;
      n += len;
      pos += len;
    }
    return n;
  }

  /** True if at least one byte is readable now. */
  get hasContiguous(): boolean {
    return this.head < this.offs.length && this.offs[this.head] === this.readPos;
  }

  private own(piece: Uint8Array): Uint8Array {
    return this.retainViews && piece.byteLength * 2 >= piece.buffer.byteLength ? piece : piece.slice();
  }

  /**
   * Adds `data` received at `offset`. Bytes below `readOffset` or already
   * held are ignored. Returns the number of new bytes held. The assembler may
   * keep a view of `data` (see the class doc).
   */
  insert(offset: number, data: Uint8Array): number {
    let start = offset;
    const end = offset + data.length;
    if (end <= this.readPos) return 0;
    if (start < this.readPos) start = this.readPos;
    const offs = this.offs;
    const bufs = this.bufs;
    const n = offs.length;
    // Fast path: in order, after everything held.
    if (n === this.head || start >= offs[n - 1]! + bufs[n - 1]!.length) {
      offs.push(start);
      bufs.push(this.own(start === offset ? data : data.subarray(start - offset)));
      this.held += end - start;
      return end - start;
    }
    // First segment ending after `start` (binary search over the live part).
    let lo = this.head;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offs[mid]! + bufs[mid]!.length <= start) lo = mid + 1;
      else hi = mid;
    }
    let cur = start;
    let i = lo;
    let added = 0;
    while (cur < end) {
      if (i >= offs.length) {
        offs.push(cur);
        bufs.push(this.own(data.subarray(cur - offset)));
        added += end - cur;
        break;
      }
      const segStart = offs[i]!;
      const segEnd = segStart + bufs[i]!.length;
      if (segStart > cur) {
        const gapEnd = Math.min(end, segStart);
        offs.splice(i, 0, cur);
        bufs.splice(i, 0, this.own(data.subarray(cur - offset, gapEnd - offset)));
        added += gapEnd - cur;
        i++;
      }
      cur = Math.max(cur, segEnd);
      i++;
    }
    this.held += added;
    return added;
  }

  /**
   * Reads up to `max` contiguous bytes at `readOffset` (an empty array when
   * none is readable). Zero-copy for the usual case: a received piece of at
   * least {@link GATHER_BELOW} bytes is returned as it is (a view), even when
   * more contiguous bytes follow it (the caller reads again); only smaller
   * pieces are gathered with what follows, up to `max`, into a new array.
   * The caller owns the result: the assembler keeps no reference to it.
   */
  read(max: number): Uint8Array {
    if (!(max > 0) || !this.hasContiguous) return EMPTY;
    const first = this.bufs[this.head]!;
    if (
      first.length >= max ||
      first.length >= GATHER_BELOW ||
      this.head + 1 >= this.offs.length ||
      this.offs[this.head + 1] !== this.readPos + first.length
    ) {
      return this.takeFront(Math.min(max, first.length));
    }
    // Several contiguous pieces: gather into one array.
    const total = Math.min(max, this.contiguous);
    const out = new Uint8Array(total);
    let filled = 0;
    while (filled < total) {
      const piece = this.takeFront(Math.min(total - filled, this.bufs[this.head]!.length));
      out.set(piece, filled);
      filled += piece.length;
    }
    return out;
  }

  /** Removes and returns the first `n` bytes of the front segment (n <= its length). */
  private takeFront(n: number): Uint8Array {
    const h = this.head;
    const seg = this.bufs[h]!;
    this.readPos += n;
    this.held -= n;
    if (n === seg.length) {
      this.bufs[h] = EMPTY;
      this.head = h + 1;
      this.compact();
      return seg;
    }
    this.bufs[h] = seg.subarray(n);
    this.offs[h] = this.readPos;
    return seg.subarray(0, n);
  }

  private compact(): void {
    if (this.head === this.offs.length) {
      this.offs.length = 0;
      this.bufs.length = 0;
      this.head = 0;
    } else if (this.head >= 32 && this.head * 2 >= this.offs.length) {
      this.offs.splice(0, this.head);
      this.bufs.splice(0, this.head);
      this.head = 0;
    }
  }

  /**
   * Merges runs of touching segments into one array each (copying them), so
   * the segment count falls to the number of separate runs. A defence
   * against peers that fragment a stream into many tiny pieces (RFC 9000
   * section 21.7); the caller decides when it is worth the copy.
   */
  coalesce(): void {
    const offs: number[] = [];
    const bufs: Uint8Array[] = [];
    let i = this.head;
    const n = this.offs.length;
    while (i < n) {
      const start = this.offs[i]!;
      let end = start + this.bufs[i]!.length;
      let j = i + 1;
      while (j < n && this.offs[j] === end) end += this.bufs[j++]!.length;
      if (j === i + 1) {
        bufs.push(this.bufs[i]!);
      } else {
        const run = new Uint8Array(end - start);
        for (let k = i; k < j; k++) run.set(this.bufs[k]!, this.offs[k]! - start);
        bufs.push(run);
      }
      offs.push(start);
      i = j;
    }
    this.offs = offs;
    this.bufs = bufs;
    this.head = 0;
  }

  /**
   * Drops everything held and moves `readOffset` to `offset` (a reset, or a
   * reader that stopped reading): later inserts below it are ignored.
   */
  discard(offset: number): void {
    this.offs.length = 0;
    this.bufs.length = 0;
    this.head = 0;
    this.held = 0;
    if (offset > this.readPos) this.readPos = offset;
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Pieces this big are handed to the reader as they are; smaller ones are
 * gathered, so a stream of tiny frames does not mean one read per frame.
 */
export const GATHER_BELOW = 512;
