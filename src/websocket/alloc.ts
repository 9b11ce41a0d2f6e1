/**
 * Short byte arrays from a shared slab.
 *
 * V8 keeps a typed array of up to 64 bytes inside the JavaScript heap, but
 * gives a longer one its own off-heap backing store: measured on this
 * machine, `new Uint8Array(125)` costs ~790 ns and `new Uint8Array(1024)`
 * ~1.2 µs, against ~50-90 ns for a view of a preallocated slab (Node's
 * `Buffer.allocUnsafe` pools small buffers for the same reason). Frames and
 * small messages are that size, so they are carved from 64 KiB slabs.
 *
 * Regions are never reused: a slab is dropped when full and collected once
 * no view refers to it, so arrays never alias each other and start zeroed.
 * The cost is retention: a small array keeps its whole slab alive. Keep a
 * `.slice()` of data you hold for long.
 */

const SLAB = 64 * 1024;
/** Typed arrays up to this size live in the V8 heap and are cheap to create directly. */
const ON_HEAP = 64;
/** Larger arrays get their own buffer (the allocation is small next to filling them). */
const FROM_SLAB_MAX = 8 * 1024;

let slab = new ArrayBuffer(SLAB);
let at = 0;

/** Allocates `n` bytes for arrays larger than the slab serves. */
export type Allocate = (n: number) => Uint8Array;

const zeroed: Allocate = (n) => new Uint8Array(n);

/**
 * An array of `n` bytes; see the module documentation. Arrays larger than
 * 8 KiB come from `large` (default: a new zeroed array; the Node adapter
 * passes `Buffer.allocUnsafe`, whose contents are arbitrary until written).
 */
export function allocBytes(n: number, large: Allocate = zeroed): Uint8Array {
  if (n > FROM_SLAB_MAX) return large(n);
  if (n <= ON_HEAP) return new Uint8Array(n);
  if (at + n > SLAB) {
    slab = new ArrayBuffer(SLAB);
    at = 0;
  }
  const v = new Uint8Array(slab, at, n);
  // 8-byte alignment keeps the word-at-a-time masking on its fast path.
  at = (at + n + 7) & ~7;
  return v;
}
