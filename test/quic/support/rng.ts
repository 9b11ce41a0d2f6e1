/**
 * A seeded pseudo-random generator for tests: PCG32 (O'Neill's PCG-XSH-RR with 64-bit state and a
 * selectable stream, as in pcg-c-basic's `pcg32_srandom_r` / `pcg32_random_r`), plus a
 * {@link RandomSource} built on it for the crypto providers:
 *
 * ```ts
 * const provider = createNobleProvider({ random: seededRandomSource(42, 'client') });
 * ```
 *
 * Not cryptographically secure, and not meant to be: the point is that a test run replays bit for bit.
 * Every generator is named by a seed and a label; {@link Rng.fork} derives an independent child from a
 * label, so a test can give each consumer (each simulated link, each endpoint's crypto) its own stream
 * and changing how much one consumer draws never shifts another's draws.
 *
 * The 64-bit state is kept as two 32-bit halves so a draw costs a few integer operations (BigInt is only
 * used once, to hash the seed and label when a generator is created).
 */
import type { RandomSource } from '../../../src/quic/crypto/provider.js';

/** What a generator can be seeded with: an integer (up to 2^64 - 1 as a bigint) or any string. */
export type Seed = number | bigint | string;

const MASK64 = (1n << 64n) - 1n;
const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
/** PCG's default 64-bit LCG multiplier 6364136223846793005. */
const MUL_HI = 0x5851f42d;
const MUL_LO = 0x4c957f2d;

/** FNV-1a over the UTF-8 bytes of `text`, 64 bits: only used to turn seeds and labels into state. */
function fnv1a64(text: string, basis = FNV64_OFFSET): bigint {
  let h = basis;
  for (const b of new TextEncoder().encode(text)) {
    h ^= BigInt(b);
    h = (h * FNV64_PRIME) & MASK64;
  }
  return h;
}

/** A final avalanche (splitmix64's finalizer) so that similar labels give unrelated states. */
function mix64(x: bigint): bigint {
  let z = x & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return (z ^ (z >> 31n)) & MASK64;
}

function seedText(seed: Seed): string {
  if (typeof seed === 'string') return `s:${seed}`;
  if (typeof seed === 'number' && !Number.isSafeInteger(seed)) throw new RangeError(`seed ${seed} is not a safe integer`);
  return `n:${BigInt(seed).toString()}`;
}

/** Full 64-bit product of two unsigned 32-bit numbers, as [high, low] halves. */
function mul32(a: number, b: number): [number, number] {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const lo = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  const hi = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
  return [hi, lo];
}

/**
 * PCG32 generator. `new Rng(initState, initSeq)` matches the reference `pcg32_srandom_r(initstate,
 * initseq)`; {@link Rng.fromSeed} is the usual way to make one from a seed and a label.
 */
export class Rng {
  private hi = 0;
  private lo = 0;
  private readonly incHi: number;
  private readonly incLo: number;
  /** The seed text and label path this generator was derived from (for {@link fork}). */
  private readonly origin: string;

  /** Reference seeding: state 0, increment 2 * initSeq + 1, step, add initState, step. */
  constructor(initState: bigint, initSeq: bigint, origin = `pcg:${initState}:${initSeq}`) {
    const inc = ((initSeq << 1n) | 1n) & MASK64;
    this.incHi = Number(inc >> 32n);
    this.incLo = Number(inc & 0xffffffffn);
    this.origin = origin;
    this.u32();
    const s = ((BigInt(this.hi) << 32n) + BigInt(this.lo) + (initState & MASK64)) & MASK64;
    this.hi = Number(s >> 32n);
    this.lo = Number(s & 0xffffffffn);
    this.u32();
  }

  /** A generator for `seed` and `label`: equal inputs give equal sequences, any difference an unrelated one. */
  static fromSeed(seed: Seed, label = ''): Rng {
    const origin = `${seedText(seed)}/${label}`;
    const state = mix64(fnv1a64(origin));
    const seq = mix64(fnv1a64(origin, state)) >> 1n;
    return new Rng(state, seq, origin);
  }

  /** An independent generator derived from this one's seed and label path plus `label` (does not draw from this one). */
  fork(label: string): Rng {
    const origin = `${this.origin}/${label}`;
    const state = mix64(fnv1a64(origin));
    return new Rng(state, mix64(fnv1a64(origin, state)) >> 1n, origin);
  }

  /** Next 32-bit output (PCG-XSH-RR of the old state, then the LCG step). */
  u32(): number {
    const ohi = this.hi;
    const olo = this.lo;
    // state = state * MUL + inc (mod 2^64)
    const [phi, plo] = mul32(olo, MUL_LO);
    let nhi = (phi + Math.imul(ohi, MUL_LO) + Math.imul(olo, MUL_HI)) >>> 0;
    const nlo = (plo + this.incLo) >>> 0;
    const carry = nlo < plo ? 1 : 0;
    nhi = (nhi + this.incHi + carry) >>> 0;
    this.hi = nhi;
    this.lo = nlo;
    // output: rotr32(((old ^ (old >> 18)) >> 27) as u32, old >> 59)
    const xhi = ohi ^ (ohi >>> 18);
    const xlo = olo ^ ((olo >>> 18) | (ohi << 14));
    const v = ((xlo >>> 27) | (xhi << 5)) >>> 0;
    const rot = ohi >>> 27;
    return ((v >>> rot) | (v << (-rot & 31))) >>> 0;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  float(): number {
    const a = this.u32() >>> 5;
    const b = this.u32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [0, n) without modulo bias (n a positive integer up to 2^53). */
  below(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`below(${n}): need a positive safe integer`);
    if (n <= 0x100000000) {
      // Reject the low (2^32 mod n) outputs so every residue is equally likely.
      const threshold = (0x100000000 - n) % n;
      for (;;) {
        const r = this.u32();
        if (r >= threshold) return r % n;
      }
    }
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number {
    if (max < min) throw new RangeError(`int(${min}, ${max}): empty range`);
    return min + this.below(max - min + 1);
  }

  /** True with probability `p`. Draws nothing when p <= 0 or p >= 1. */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.float() < p;
  }

  /** Fills `out` with random bytes (four per draw, little-endian) and returns it. */
  fill(out: Uint8Array): Uint8Array {
    let i = 0;
    for (; i + 4 <= out.length; i += 4) {
      const r = this.u32();
      out[i] = r & 0xff;
      out[i + 1] = (r >>> 8) & 0xff;
      out[i + 2] = (r >>> 16) & 0xff;
      out[i + 3] = r >>> 24;
    }
    if (i < out.length) {
      let r = this.u32();
      for (; i < out.length; i++, r >>>= 8) out[i] = r & 0xff;
    }
    return out;
  }

  /** `n` fresh random bytes. */
  bytes(n: number): Uint8Array {
    return this.fill(new Uint8Array(n));
  }
}

/**
 * A {@link RandomSource} (`(n) => Uint8Array`) replaying the same bytes for the same seed and label: pass
 * it to `createNobleProvider({ random })` / `createNodeProvider({ random })` so CIDs, key shares, client
 * randoms and reset tokens repeat from run to run. Use a different label per endpoint.
 */
export function seededRandomSource(seed: Seed, label = 'random'): RandomSource {
  const rng = Rng.fromSeed(seed, label);
  return (n: number) => rng.bytes(n);
}
