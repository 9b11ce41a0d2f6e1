/**
 * RSASSA-PSS signature verification (RFC 8017 sections 8.1.2 and 9.1.2) for the portable provider,
 * which has no RSA in @noble/*. Verification only: it needs nothing secret, so plain BigInt
 * arithmetic (not constant-time) is fine. Signing with RSA is left to the Node provider.
 *
 * TLS 1.3 fixes the parameters (RFC 8446 section 4.2.3): MGF1 with the same hash as the signature,
 * and a salt exactly as long as the hash output.
 */
import { CryptoError } from './provider.js';

/** A hash function: the whole input in, the digest out. */
export type HashFunction = (data: Uint8Array) => Uint8Array;

/**
 * Sizes accepted. 1024 bits is the smallest modulus anyone still issues certificates for (and well
 * below what CAs sign today, 2048); 8192 bits bounds the work a peer can make us do (one modular
 * exponentiation with a 64-bit exponent on 8192-bit numbers takes milliseconds).
 */
const MIN_MODULUS_BITS = 1024;
const MAX_MODULUS_BITS = 8192;
const MAX_EXPONENT_BITS = 64;

function bigintOf(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if ((e & 1n) === 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

/** I2OSP (RFC 8017 section 4.1): `v` as exactly `length` big-endian bytes; null when it does not fit. */
function toBytes(v: bigint, length: number): Uint8Array | null {
  const out = new Uint8Array(length);
  let x = v;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return x === 0n ? out : null;
}

/** MGF1 (RFC 8017 appendix B.2.1): `length` bytes of Hash(seed || counter) blocks. */
function mgf1(hash: HashFunction, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const input = new Uint8Array(seed.length + 4);
  input.set(seed, 0);
  for (let counter = 0, o = 0; o < length; counter++) {
    input[seed.length] = counter >>> 24;
    input[seed.length + 1] = (counter >>> 16) & 0xff;
    input[seed.length + 2] = (counter >>> 8) & 0xff;
    input[seed.length + 3] = counter & 0xff;
    const block = hash(input);
    const n = Math.min(block.length, length - o);
    out.set(block.subarray(0, n), o);
    o += n;
  }
  return out;
}

/**
 * The RSA public keys accepted by both providers: a modulus of 1024 to 8192 bits (else
 * `ERR_UNSUPPORTED_ALGORITHM`) and an odd exponent of 3 to 2^64 - 1 (else `ERR_INVALID_PUBLIC_KEY`).
 */
export function checkRsaPublicKey(nBytes: Uint8Array, eBytes: Uint8Array): { n: bigint; e: bigint; modBits: number } {
  const n = bigintOf(nBytes);
  const e = bigintOf(eBytes);
  const modBits = bitLength(n);
  if (modBits < MIN_MODULUS_BITS || modBits > MAX_MODULUS_BITS) {
    throw new CryptoError(
      'ERR_UNSUPPORTED_ALGORITHM',
      `RSA modulus of ${modBits} bits (${MIN_MODULUS_BITS}..${MAX_MODULUS_BITS} supported)`,
    );
  }
  if (e < 3n || (e & 1n) === 0n || bitLength(e) > MAX_EXPONENT_BITS)
    throw new CryptoError('ERR_INVALID_PUBLIC_KEY', `RSA public exponent ${e}`);
  return { n, e, modBits };
}

/**
 * RSASSA-PSS-VERIFY((n, e), M, S) with MGF1(hash) and sLen = hLen. `n` and `e` are big-endian unsigned
 * integers (from the SubjectPublicKeyInfo). Returns false for any invalid signature; raises for keys
 * {@link checkRsaPublicKey} refuses.
 */
export function rsaPssVerify(
  hash: HashFunction,
  hashLength: number,
  nBytes: Uint8Array,
  eBytes: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const { n, e, modBits } = checkRsaPublicKey(nBytes, eBytes);
  // RFC 8017 section 8.1.2 step 1: the signature is exactly k octets.
  const k = Math.ceil(modBits / 8);
  if (signature.length !== k) return false;
  // RSAVP1 (section 5.2.2): s must be below n.
  const s = bigintOf(signature);
  if (s >= n) return false;
  const m = modPow(s, e, n);
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const em = toBytes(m, emLen);
  if (em === null) return false;
  return emsaPssVerify(hash, hashLength, message, em, emBits);
}

/** EMSA-PSS-VERIFY (RFC 8017 section 9.1.2) with sLen = hLen. */
function emsaPssVerify(hash: HashFunction, hLen: number, message: Uint8Array, em: Uint8Array, emBits: number): boolean {
  const sLen = hLen;
  const emLen = em.length;
  const mHash = hash(message);
  // Steps 3 and 4.
  if (emLen < hLen + sLen + 2) return false;
  if (em[emLen - 1] !== 0xbc) return false;
  const dbLen = emLen - hLen - 1;
  const maskedDb = em.subarray(0, dbLen);
  const h = em.subarray(dbLen, dbLen + hLen);
  // Step 6: the leftmost 8 * emLen - emBits bits of maskedDB must be zero.
  const zeroBits = 8 * emLen - emBits;
  const topMask = (0xff << (8 - zeroBits)) & 0xff;
  if ((maskedDb[0]! & topMask) !== 0) return false;
  // Steps 7 to 9.
  const db = mgf1(hash, h, dbLen);
  for (let i = 0; i < dbLen; i++) db[i]! ^= maskedDb[i]!;
  db[0]! &= ~topMask & 0xff;
  // Step 10: PS (zeros) then 0x01.
  const psLen = emLen - hLen - sLen - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 0x01) return false;
  // Steps 11 to 14: H' = Hash(0x00 * 8 || mHash || salt).
  const mPrime = new Uint8Array(8 + hLen + sLen);
  mPrime.set(mHash, 8);
  mPrime.set(db.subarray(dbLen - sLen), 8 + hLen);
  const hPrime = hash(mPrime);
  let diff = 0;
  for (let i = 0; i < hLen; i++) diff |= hPrime[i]! ^ h[i]!;
  return diff === 0;
}
