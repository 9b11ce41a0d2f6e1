/**
 * The shared pieces of every layer's benchmark: the case shape, a seeded
 * random generator, a checksum, and the timed loop.
 *
 * A layer registers by being a module `bench/<layer>.ts` that exports
 * `cases: BenchCase[]` (see bench/run.ts). Every case measures OUR code and
 * an ANCHOR (hand-written code or another library) in the same process,
 * with passes interleaved so that machine drift hits both sides alike.
 *
 * Timing is a small hand-written harness rather than mitata: each pass runs
 * a whole workload once (e.g. decode 1M varints), so per-iteration
 * calibration is not needed, and the harness needs interleaving, a GC
 * between runs and an output check after every run, which is simpler to do
 * directly.
 */

/** One side of a case: a workload run once per pass. */
export interface Side<R> {
  /** Units of work one `run()` does (varints, records, bytes): throughput = items / time. */
  readonly items: number;
  /**
   * Runs the workload once and returns its output, checked outside the timed region. A side driven by
   * Node's event loop (e.g. node:tls sockets) returns a promise; the clock stops when it settles.
   */
  run(): R | Promise<R>;
}

/** What `prepare()` builds: the two sides and how to check their outputs. */
export interface Prepared<R> {
  readonly ours: Side<R>;
  readonly anchor: Side<R>;
  /** A checksum of one run's output (computed outside the timed region). */
  checksum(output: R): number;
  /** The checksum of the expected output, computed from the generator's own record of what it wrote. */
  readonly expected: number;
}

export interface BenchCase {
  readonly name: string;
  /** Throughput unit, e.g. "M varints/s": `items / seconds / scale`. */
  readonly unit: string;
  readonly scale: number;
  /** Minimum ours/anchor throughput ratio. */
  readonly target: number;
  /** One line: what ours runs and what the anchor runs. */
  readonly description: string;
  /** Builds the input data (lazily: only the selected cases pay for it). */
  prepare(): Prepared<unknown>;
}

/** Erases a case's output type (the checksum closes over it). */
export function defineCase<R>(c: Omit<BenchCase, 'prepare'> & { prepare(): Prepared<R> }): BenchCase {
  return {
    ...c,
    prepare(): Prepared<unknown> {
      const p = c.prepare();
      return {
        ours: p.ours,
        anchor: p.anchor,
        expected: p.expected,
        checksum: (output) => p.checksum(output as R),
      };
    },
  };
}

/** mulberry32: a small seeded generator, so every run decodes the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer in [lo, hi] from `r`. */
export function between(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/**
 * Order-sensitive checksum over numbers (FNV-1a style mixing of the low and
 * high 32 bits of each value), so a wrong value, a missing value or a swap
 * changes it.
 */
export class Checksum {
  h = 0x811c9dc5;
  add(v: number): void {
    const lo = v >>> 0;
    const hi = Math.floor(v / 4294967296) >>> 0;
    this.h = Math.imul(this.h ^ lo, 0x01000193);
    this.h = Math.imul(this.h ^ hi, 0x01000193);
  }
  addBytes(b: Uint8Array): void {
    this.add(b.length);
    for (let i = 0; i < b.length; i++) this.h = Math.imul(this.h ^ b[i]!, 0x01000193);
  }
  get value(): number {
    return this.h >>> 0;
  }
}

/** The figures of one case, as measured in one process. */
export interface CaseResult {
  readonly case: string;
  /** Throughput per pass, in the case's unit. */
  readonly ours: number[];
  readonly anchor: number[];
}

export interface RunOptions {
  readonly passes: number;
  readonly warmup: number;
  readonly gc: (() => void) | undefined;
}

/**
 * Runs one case: `warmup` untimed runs of each side, then `passes` timed
 * passes, each running ours and the anchor once, alternating which goes
 * first. Every run's output is checked against `expected`; a mismatch throws.
 * Async only for sides whose `run()` returns a promise: a synchronous run is
 * timed before anything is awaited.
 */
export async function runCase(c: BenchCase, options: RunOptions): Promise<CaseResult> {
  const p = c.prepare();
  const check = (side: 'ours' | 'anchor', output: unknown): void => {
    const got = p.checksum(output);
    if (got !== p.expected) {
      throw new Error(`${c.name}: ${side} produced wrong output (checksum ${got.toString(16)}, expected ${p.expected.toString(16)})`);
    }
  };
  const timed = async (side: 'ours' | 'anchor'): Promise<number> => {
    const s = side === 'ours' ? p.ours : p.anchor;
    options.gc?.();
    const t0 = process.hrtime.bigint();
    let out = s.run();
    if (out instanceof Promise) out = await out;
    const t1 = process.hrtime.bigint();
    check(side, out);
    const seconds = Number(t1 - t0) / 1e9;
    return s.items / seconds / c.scale;
  };
  for (let i = 0; i < options.warmup; i++) {
    check('ours', await p.ours.run());
    check('anchor', await p.anchor.run());
  }
  const ours: number[] = [];
  const anchor: number[] = [];
  for (let i = 0; i < options.passes; i++) {
    if (i % 2 === 0) {
      ours.push(await timed('ours'));
      anchor.push(await timed('anchor'));
    } else {
      anchor.push(await timed('anchor'));
      ours.push(await timed('ours'));
    }
  }
  return { case: c.name, ours, anchor };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
