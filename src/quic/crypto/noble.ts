/**
 * The portable default crypto provider, on @noble/ciphers and @noble/hashes.
 * Runs wherever JavaScript runs (browsers, mobile JS runtimes, Node), with no
 * native code. It is several times slower per packet than `./node.js` (see
 * PERF-NOTES.md) but byte-identical.
 *
 * Per-packet costs avoided here:
 * - AES header protection encrypts one block with a key expanded once per hp
 *   key (noble's low-level `unsafe.encrypt`), instead of building an ECB cipher
 *   per packet. If a future noble drops that export, it falls back to a
 *   one-block ECB call.
 * - ChaCha20 header protection runs the block function on words prepared once
 *   per key (see ./chacha20-block.ts for why noble's stream API is not used).
 * - ChaCha20-Poly1305 seals and opens straight into the caller's buffer.
 * AES-GCM goes through noble's `gcm()`, which takes no output buffer and
 * re-expands the key per call: one allocation and copy per packet.
 *
 * Handshake crypto (@noble/curves): X25519 and P-256 key exchange, ECDSA P-256
 * and Ed25519 signing and verification, and RSA-PSS verification (./rsa-pss.ts;
 * @noble has no RSA, so RSA signing is `ERR_UNSUPPORTED_ALGORITHM` here).
 * Private keys are raw values ({@link RawPrivateKey}): this provider reads no
 * PEM or PKCS#8. ECDSA signatures are RFC 6979 deterministic, hedged with 32
 * bytes from the provider's random source (so a seeded source replays them).
 * Ed25519 verification follows RFC 8032 strictly (no ZIP-215 leniency), as
 * OpenSSL does, so both providers accept the same signatures.
 */
import { ecb, gcm } from '@noble/ciphers/aes.js';
// A namespace import: a missing `unsafe` export must not fail module linking.
import * as nobleAes from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { UsageError } from '../../combinators/errors.js';
import { chacha20BlockFromSample, chacha20KeyWords } from './chacha20-block.js';
import { ed25519SubjectPublicKeyInfo, p256SubjectPublicKeyInfo, readSubjectPublicKeyInfo } from './der.js';
import { rsaPssVerify } from './rsa-pss.js';
import {
  AEAD_TAG_LENGTH,
  CryptoError,
  HP_MASK_LENGTH,
  SCHEMES_BY_KEY_TYPE,
  checkAeadKey,
  checkExpand,
  checkGroup,
  checkHash,
  checkHpKey,
  checkKeySharePublic,
  checkOut,
  checkRandomLength,
  checkSample,
  checkScheme,
  checkSharedSecret,
  checkSignerScheme,
  checkedRandom,
  isP256PrivateKey,
  p256PrivateKey,
  writeNonce,
} from './provider.js';
import type {
  Aead,
  CipherSuite,
  CryptoProvider,
  HashAlgorithm,
  HashContext,
  HeaderProtection,
  KeyShare,
  KeyType,
  NamedGroup,
  PacketNumber,
  RandomSource,
  RawPrivateKey,
  SignatureScheme,
  SignatureVerifier,
  Signer,
} from './provider.js';

export interface NobleProviderOptions {
  /**
   * Source of random bytes. Default: `globalThis.crypto.getRandomValues`
   * (Web Crypto, present in browsers and Node >= 19).
   */
  readonly random?: RandomSource;
}

const HASHES = { sha256, sha384 } as const;

/** Web Crypto's getRandomValues fills at most 65536 bytes per call. */
const GET_RANDOM_VALUES_MAX = 65536;

interface WebCryptoLike {
  getRandomValues(array: Uint8Array): Uint8Array;
}

/** The default random source: Web Crypto via `globalThis.crypto`, no `node:*` import. */
export function webCryptoRandom(n: number): Uint8Array {
  checkRandomLength(n);
  const webCrypto = (globalThis as { crypto?: Partial<WebCryptoLike> }).crypto;
  if (webCrypto === undefined || typeof webCrypto.getRandomValues !== 'function') {
    throw new UsageError('no globalThis.crypto.getRandomValues in this runtime: pass a random source to the provider');
  }
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += GET_RANDOM_VALUES_MAX) {
    webCrypto.getRandomValues(out.subarray(o, Math.min(n, o + GET_RANDOM_VALUES_MAX)));
  }
  return out;
}

class NobleAead implements Aead {
  readonly suite: CipherSuite;
  private readonly key: Uint8Array;
  private readonly iv: Uint8Array;
  private readonly nonce = new Uint8Array(12);
  private readonly chacha: boolean;

  constructor(suite: CipherSuite, key: Uint8Array, iv: Uint8Array) {
    checkAeadKey(suite, key, iv);
    this.suite = suite;
    // Own copies: the caller may reuse or wipe its buffers.
    this.key = key.slice();
    this.iv = iv.slice();
    this.chacha = suite === 'TLS_CHACHA20_POLY1305_SHA256';
  }

  seal(pn: PacketNumber, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array): number {
    const n = plaintext.length + AEAD_TAG_LENGTH;
    checkOut(out, n);
    writeNonce(this.iv, pn, this.nonce);
    if (this.chacha) {
      // noble wants an output of exactly the sealed length; it copies the
      // plaintext in first, so the same memory as input is fine.
      chacha20poly1305(this.key, this.nonce, aad).encrypt(plaintext, out.length === n ? out : out.subarray(0, n));
    } else {
      out.set(gcm(this.key, this.nonce, aad).encrypt(plaintext));
    }
    return n;
  }

  open(pn: PacketNumber, aad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array): number | null {
    const n = ciphertext.length - AEAD_TAG_LENGTH;
    if (n < 0) return null;
    checkOut(out, n);
    writeNonce(this.iv, pn, this.nonce);
    if (this.chacha) {
      try {
        // noble checks the tag before it writes anything to `out`.
        chacha20poly1305(this.key, this.nonce, aad).decrypt(ciphertext, out.length === n ? out : out.subarray(0, n));
      } catch {
        return null;
      }
      return n;
    }
    let plaintext: Uint8Array;
    try {
      plaintext = gcm(this.key, this.nonce, aad).decrypt(ciphertext);
    } catch {
      return null;
    }
    out.set(plaintext);
    return n;
  }
}

/** Whether this noble exposes the raw block function with a pre-expanded key. */
const rawAes = (nobleAes as { unsafe?: Partial<typeof nobleAes.unsafe> }).unsafe;
const HAS_RAW_AES = typeof rawAes?.expandKeyLE === 'function' && typeof rawAes.encrypt === 'function';

class NobleAesHeaderProtection implements HeaderProtection {
  readonly suite: CipherSuite;
  private readonly out = new Uint8Array(HP_MASK_LENGTH);
  private readonly expandedKey: Uint32Array | null;
  private readonly key: Uint8Array;

  constructor(suite: CipherSuite, key: Uint8Array, raw: boolean) {
    this.suite = suite;
    this.key = key.slice();
    this.expandedKey = raw ? nobleAes.unsafe.expandKeyLE(this.key) : null;
  }

  mask(sample: Uint8Array): Uint8Array {
    checkSample(sample);
    const out = this.out;
    if (this.expandedKey === null) {
      const block = ecb(this.key, { disablePadding: true }).encrypt(sample.length === 16 ? sample : sample.subarray(0, 16));
      for (let i = 0; i < HP_MASK_LENGTH; i++) out[i] = block[i]!;
      return out;
    }
    // noble's block function takes and returns the AES state as four
    // little-endian 32-bit words of the 16-byte block.
    const r = nobleAes.unsafe.encrypt(
      this.expandedKey,
      sample[0]! | (sample[1]! << 8) | (sample[2]! << 16) | (sample[3]! << 24),
      sample[4]! | (sample[5]! << 8) | (sample[6]! << 16) | (sample[7]! << 24),
      sample[8]! | (sample[9]! << 8) | (sample[10]! << 16) | (sample[11]! << 24),
      sample[12]! | (sample[13]! << 8) | (sample[14]! << 16) | (sample[15]! << 24),
    );
    out[0] = r.s0 & 0xff;
    out[1] = (r.s0 >>> 8) & 0xff;
    out[2] = (r.s0 >>> 16) & 0xff;
    out[3] = (r.s0 >>> 24) & 0xff;
    out[4] = r.s1 & 0xff;
    return out;
  }
}

class ChachaHeaderProtection implements HeaderProtection {
  readonly suite: CipherSuite;
  private readonly out = new Uint8Array(HP_MASK_LENGTH);
  private readonly keyWords: Uint32Array;
  private readonly state = new Uint32Array(16);
  private readonly work = new Uint32Array(16);

  constructor(suite: CipherSuite, key: Uint8Array) {
    this.suite = suite;
    this.keyWords = chacha20KeyWords(key);
  }

  mask(sample: Uint8Array): Uint8Array {
    checkSample(sample);
    // RFC 9001 section 5.4.4: mask = ChaCha20(hp, counter, nonce, {0,0,0,0,0}),
    // i.e. the first 5 keystream bytes of the block.
    chacha20BlockFromSample(this.keyWords, sample, this.state, this.work, this.out);
    return this.out;
  }
}

/**
 * Header protection in portable JavaScript for any suite: the AES block with
 * a key expanded once, or the ChaCha20 block function. Also used by the Node
 * provider by default, because it beats a node:crypto cipher call per packet
 * (measured 0.14 vs 0.69 µs for AES, 0.58 vs 2.8 µs for ChaCha20).
 */
export function portableHeaderProtection(suite: CipherSuite, hpKey: Uint8Array): HeaderProtection {
  const info = checkHpKey(suite, hpKey);
  return info.headerProtection === 'aes-ecb'
    ? new NobleAesHeaderProtection(suite, hpKey, HAS_RAW_AES)
    : new ChachaHeaderProtection(suite, hpKey);
}

/**
 * @internal Builds an AES header-protection context with the raw block
 * function (`raw = true`, the default path) or the ECB fallback, so tests can
 * cover both.
 */
export function nobleAesHeaderProtection(suite: CipherSuite, hpKey: Uint8Array, raw: boolean): HeaderProtection {
  const info = checkHpKey(suite, hpKey);
  if (info.headerProtection !== 'aes-ecb') throw new UsageError(`${suite} does not use AES header protection`);
  return new NobleAesHeaderProtection(suite, hpKey, raw && HAS_RAW_AES);
}

// ---------------------------------------------------------------------------------------------------
// handshake crypto

/** noble's incremental hash objects: `digest` finishes them, `clone` copies the state. */
interface NobleHash {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
  clone(): NobleHash;
}

class NobleHashContext implements HashContext {
  constructor(
    readonly algorithm: HashAlgorithm,
    private readonly state: NobleHash,
  ) {}
  update(data: Uint8Array): void {
    this.state.update(data);
  }
  digest(): Uint8Array {
    // A noble hash is finished by digest(): finish a copy so the transcript can go on.
    return this.state.clone().digest();
  }
  clone(): HashContext {
    return new NobleHashContext(this.algorithm, this.state.clone());
  }
}

class NobleKeyShare implements KeyShare {
  readonly publicKey: Uint8Array;
  constructor(
    readonly group: NamedGroup,
    private readonly privateKey: Uint8Array,
  ) {
    this.publicKey = group === 'x25519' ? x25519.getPublicKey(privateKey) : p256.getPublicKey(privateKey, false);
  }
  deriveSecret(peer: Uint8Array): Uint8Array {
    checkKeySharePublic(this.group, peer);
    let secret: Uint8Array;
    try {
      // X25519: noble itself refuses low-order points (all-zero output). P-256: it checks that the
      // point is on the curve; the shared secret is the X coordinate (RFC 8446 section 7.4.1), i.e. the
      // compressed encoding without its first byte.
      secret =
        this.group === 'x25519'
          ? x25519.getSharedSecret(this.privateKey, peer)
          : p256.getSharedSecret(this.privateKey, peer, true).subarray(1);
    } catch (e) {
      throw new CryptoError('ERR_INVALID_KEY_SHARE', `${this.group}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return checkSharedSecret(this.group, secret);
  }
}

/** RFC 8446 section 4.2.3: RSASSA-PSS uses the scheme's hash for the digest and for MGF1. */
const verifyRsaPss = (message: Uint8Array, n: Uint8Array, e: Uint8Array, signature: Uint8Array): boolean =>
  rsaPssVerify(sha256, 32, n, e, message, signature);

const nobleVerifier: SignatureVerifier = {
  verify(scheme: SignatureScheme, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    checkScheme(scheme);
    const key = readSubjectPublicKeyInfo(publicKey);
    if (key.kind === 'unsupported') throw new CryptoError('ERR_UNSUPPORTED_ALGORITHM', `public key algorithm ${key.algorithm}`);
    if (!SCHEMES_BY_KEY_TYPE[key.kind].includes(scheme))
      throw new CryptoError('ERR_KEY_SCHEME_MISMATCH', `a ${key.kind} key cannot verify ${scheme}`);
    try {
      switch (key.kind) {
        case 'ecdsa-p256':
          // OpenSSL makes high-S signatures: accept both halves (lowS: false), DER-encoded (RFC 8446 section 4.2.3).
          return p256.verify(signature, message, key.point, { prehash: true, lowS: false, format: 'der' });
        case 'ed25519':
          return ed25519.verify(signature, message, key.key, { zip215: false });
        case 'rsa':
          return verifyRsaPss(message, key.n, key.e, signature);
        case 'rsa-pss':
          // RFC 4055: parameters, when present, restrict the key to one hash.
          if (key.hash !== null && key.hash !== 'sha256')
            throw new CryptoError('ERR_KEY_SCHEME_MISMATCH', `RSASSA-PSS key restricted to ${key.hash}`);
          return verifyRsaPss(message, key.n, key.e, signature);
        default: {
          const never: never = key;
          throw new CryptoError('ERR_UNSUPPORTED_ALGORITHM', String(never));
        }
      }
    } catch (e) {
      if (e instanceof CryptoError) throw e;
      // noble raises on signatures it cannot parse (bad DER, wrong length): that is a bad signature.
      return false;
    }
  },
};

class NobleSigner implements Signer {
  readonly schemes: readonly SignatureScheme[];
  readonly publicKey: Uint8Array;
  constructor(
    readonly keyType: KeyType,
    private readonly privateKey: Uint8Array,
    private readonly random: RandomSource,
  ) {
    this.schemes = SCHEMES_BY_KEY_TYPE[keyType];
    this.publicKey =
      keyType === 'ed25519'
        ? ed25519SubjectPublicKeyInfo(ed25519.getPublicKey(privateKey))
        : p256SubjectPublicKeyInfo(p256.getPublicKey(privateKey, false));
  }
  sign(scheme: SignatureScheme, message: Uint8Array): Uint8Array {
    checkSignerScheme(this.keyType, scheme);
    if (this.keyType === 'ed25519') return ed25519.sign(message, this.privateKey);
    return p256.sign(message, this.privateKey, { prehash: true, format: 'der', extraEntropy: this.random(32) });
  }
}

function nobleSigner(key: RawPrivateKey, random: RandomSource): Signer {
  switch (key.type) {
    case 'ecdsa-p256':
      if (!isP256PrivateKey(key.privateKey)) {
        throw new CryptoError('ERR_INVALID_PRIVATE_KEY', 'P-256 private key is not a 32-byte scalar in 1..n-1');
      }
      return new NobleSigner('ecdsa-p256', key.privateKey.slice(), random);
    case 'ed25519':
      if (!(key.privateKey instanceof Uint8Array) || key.privateKey.length !== 32)
        throw new CryptoError('ERR_INVALID_PRIVATE_KEY', 'Ed25519 seed is not 32 bytes');
      return new NobleSigner('ed25519', key.privateKey.slice(), random);
    case 'rsa':
      throw new CryptoError('ERR_UNSUPPORTED_ALGORITHM', 'RSA signing is not supported in the portable provider (use the Node provider)');
    default: {
      const never: never = key;
      throw new CryptoError('ERR_INVALID_PRIVATE_KEY', `unknown key type ${String((never as { type?: unknown }).type)}`);
    }
  }
}

/** The portable provider on @noble/ciphers, @noble/hashes and @noble/curves. */
export function createNobleProvider(options: NobleProviderOptions = {}): CryptoProvider {
  const random = options.random === undefined ? webCryptoRandom : checkedRandom(options.random);
  return {
    name: 'noble',
    aead: (suite, key, iv) => new NobleAead(suite, key, iv),
    headerProtection: portableHeaderProtection,
    hash(alg: HashAlgorithm, data: Uint8Array) {
      checkHash(alg);
      return HASHES[alg](data);
    },
    hmac(alg: HashAlgorithm, key: Uint8Array, data: Uint8Array) {
      checkHash(alg);
      return hmac(HASHES[alg], key, data);
    },
    hkdfExtract(alg: HashAlgorithm, salt: Uint8Array, ikm: Uint8Array) {
      checkHash(alg);
      // RFC 5869 section 2.2: an absent salt is HashLen zeros; HMAC pads an
      // empty key with zeros, so an empty salt gives the same PRK.
      return extract(HASHES[alg], ikm, salt);
    },
    hkdfExpand(alg: HashAlgorithm, prk: Uint8Array, info: Uint8Array, length: number) {
      checkHash(alg);
      checkExpand(alg, prk, length);
      if (length === 0) return new Uint8Array(0);
      return expand(HASHES[alg], prk, info, length);
    },
    random,
    createHash(alg: HashAlgorithm) {
      checkHash(alg);
      return new NobleHashContext(alg, HASHES[alg].create());
    },
    generateKeyShare(group: NamedGroup) {
      checkGroup(group);
      // RFC 7748 section 5: any 32 bytes are an X25519 private key (clamped when used).
      return new NobleKeyShare(group, group === 'x25519' ? random(32) : p256PrivateKey(random));
    },
    createSigner: (key: RawPrivateKey) => nobleSigner(key, random),
    signatureVerifier: nobleVerifier,
  };
}
