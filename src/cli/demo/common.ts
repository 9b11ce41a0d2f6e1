/**
 * What the parts of the demo share: options, seeded randomness, number
 * formatting, byte comparison and a list of things to tear down when a part
 * fails half-way.
 */

export interface DemoOptions {
  /** Small sizes everywhere (the test runs this): the same checks, a fraction of the work. */
  readonly quick: boolean;
  /** Messages of the combinators part. */
  readonly records: number;
  readonly seed: number;
}

/** What every part returns (parts print their own lines, FAIL lines on stderr). */
export type PartOutcome = 'ok' | 'failed' | 'skipped';

export const outcome = (ok: boolean): PartOutcome => (ok ? 'ok' : 'failed');

/** mulberry32: seeded, so a failing run can be replayed with the same --seed. */
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

/** A uniform integer in lo..hi (both included). */
export const between = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

/** A log-uniform integer in lo..hi: as many 16-256 B sizes as 64 KiB-1 MiB ones. */
export const logUniform = (r: () => number, lo: number, hi: number): number => Math.min(hi, Math.floor(lo * Math.pow(hi / lo, r())));

/** `n` bytes from a seeded xorshift32: a fast, reproducible payload. */
export function randomBytes(n: number, seed: number, alphabetBits = 8): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  const shift = 32 - alphabetBits;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) >>> shift;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  // Buffer.compare is native (memcmp): the checks must not dominate the figures.
  return a.length === b.length && Buffer.compare(asBuffer(a), asBuffer(b)) === 0;
}

export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** FNV-1a over bytes, continued from `h`: an independent checksum of what crossed a socket. */
export function fnv1a(h: number, b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}
export const FNV_SEED = 0x811c9dc5;

// ---------------------------------------------------------------- formatting

export const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** "1,234 k/s" style rate: per second, scaled. */
export function perSecond(count: number, seconds: number, unit: string): string {
  const r = count / seconds;
  if (r >= 1e6) return `${(r / 1e6).toFixed(2)} M ${unit}/s`;
  if (r >= 1e4) return `${(r / 1e3).toFixed(0)} k ${unit}/s`;
  if (r >= 1e3) return `${(r / 1e3).toFixed(1)} k ${unit}/s`;
  return `${r.toFixed(0)} ${unit}/s`;
}

export const mbps = (bytes: number, seconds: number): string => `${(bytes / seconds / 1e6).toFixed(bytes / seconds >= 1e7 ? 0 : 1)} MB/s`;
export const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
export const secs = (s: number): string => `${s.toFixed(2)} s`;

/** Seconds since `t0` (from `now()`). */
export const now = (): bigint => process.hrtime.bigint();
export const since = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

/** A part's line: indented under the part's title. */
export const say = (line: string): void => console.log(`   ${line}`);
export const fail = (line: string): void => console.error(`   FAIL: ${line}`);

// ---------------------------------------------------------------- teardown

/**
 * Things a part opened (servers, sockets). A part closes them gracefully on
 * success and proves it by awaiting their 'close'; when it fails or times out
 * part-way, the demo calls `destroyAll` so the process can still exit.
 */
export class Teardown {
  private readonly fns: (() => void)[] = [];
  add(fn: () => void): void {
    this.fns.push(fn);
  }
  destroyAll(): void {
    for (const fn of this.fns.splice(0).reverse()) {
      try {
        fn();
      } catch {
        // Already closed: nothing more to do.
      }
    }
  }
}

export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}
