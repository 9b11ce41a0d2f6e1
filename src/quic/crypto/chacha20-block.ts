/**
 * The ChaCha20 block function (RFC 8439 section 2.3), used only for QUIC
 * header protection (RFC 9001 section 5.4.4), which needs the first 5 bytes of
 * one keystream block.
 *
 * Why not @noble/ciphers' `chacha20`: its public API refuses an initial block
 * counter of 0xffffffff (it never wraps its 32-bit counter), but in QUIC the
 * counter is the first 4 bytes of the header-protection sample, i.e. of the
 * ciphertext, which a peer controls. A packet whose sample starts with
 * ff ff ff ff is valid and must be processed like any other. The block
 * function itself never increments the counter, so this case is ordinary
 * here. It also avoids the ~2 µs of per-call allocation and key copying of a
 * general stream-cipher call: the key is turned into words once per key.
 */

const SIGMA0 = 0x61707865; // "expa"
const SIGMA1 = 0x3320646e; // "nd 3"
const SIGMA2 = 0x79622d32; // "2-by"
const SIGMA3 = 0x6b206574; // "te k"

/** Reads 4 bytes little-endian (RFC 8439 section 2.3 serializes words little-endian). */
function le32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

/** Converts a 32-byte key into the 8 little-endian words of the state (RFC 8439 section 2.3). */
export function chacha20KeyWords(key: Uint8Array): Uint32Array {
  const w = new Uint32Array(8);
  for (let i = 0; i < 8; i++) w[i] = le32(key, 4 * i);
  return w;
}

/** One quarter round on state words a, b, c, d (RFC 8439 section 2.2). */
function quarterRound(x: Uint32Array, a: number, b: number, c: number, d: number): void {
  let va = x[a]!;
  let vb = x[b]!;
  let vc = x[c]!;
  let vd = x[d]!;
  va = (va + vb) | 0;
  vd ^= va;
  vd = (vd << 16) | (vd >>> 16);
  vc = (vc + vd) | 0;
  vb ^= vc;
  vb = (vb << 12) | (vb >>> 20);
  va = (va + vb) | 0;
  vd ^= va;
  vd = (vd << 8) | (vd >>> 24);
  vc = (vc + vd) | 0;
  vb ^= vc;
  vb = (vb << 7) | (vb >>> 25);
  x[a] = va;
  x[b] = vb;
  x[c] = vc;
  x[d] = vd;
}

/**
 * Computes one 64-byte ChaCha20 block for (key, counter, nonce = sample[4..16])
 * where the counter and nonce are read from `sample` as RFC 9001 section 5.4.4
 * lays them out (counter = sample[0..4] little-endian, nonce = sample[4..16]),
 * and writes its first `out.length` bytes (at most 64) into `out`.
 *
 * `state` and `work` are 16-word scratch arrays owned by the caller, so that
 * nothing is allocated per call.
 */
export function chacha20BlockFromSample(
  keyWords: Uint32Array,
  sample: Uint8Array,
  state: Uint32Array,
  work: Uint32Array,
  out: Uint8Array,
): void {
  state[0] = SIGMA0;
  state[1] = SIGMA1;
  state[2] = SIGMA2;
  state[3] = SIGMA3;
  for (let i = 0; i < 8; i++) state[4 + i] = keyWords[i]!;
  state[12] = le32(sample, 0);
  state[13] = le32(sample, 4);
  state[14] = le32(sample, 8);
  state[15] = le32(sample, 12);
  work.set(state);
  // 20 rounds = 10 x (column round, diagonal round), RFC 8439 section 2.3.
  for (let i = 0; i < 10; i++) {
    quarterRound(work, 0, 4, 8, 12);
    quarterRound(work, 1, 5, 9, 13);
    quarterRound(work, 2, 6, 10, 14);
    quarterRound(work, 3, 7, 11, 15);
    quarterRound(work, 0, 5, 10, 15);
    quarterRound(work, 1, 6, 11, 12);
    quarterRound(work, 2, 7, 8, 13);
    quarterRound(work, 3, 4, 9, 14);
  }
  const n = Math.min(out.length, 64);
  for (let i = 0; i < n; i++) {
    const word = (work[i >>> 2]! + state[i >>> 2]!) >>> 0;
    out[i] = (word >>> (8 * (i & 3))) & 0xff;
  }
}
