/**
 * The crypto provider interface of the QUIC layer.
 *
 * QUIC protects every packet with an AEAD and a header-protection mask
 * (RFC 9001 section 5), so the two operations that run per packet are shaped
 * for the hot path: a context is created once per key ({@link CryptoProvider.aead},
 * {@link CryptoProvider.headerProtection}) and then used for every packet
 * without re-deriving or re-expanding the key. The nonce (`iv XOR pn`) is
 * computed into a buffer owned by the context, and callers pass output buffers,
 * so a backend that can work in place allocates nothing per packet.
 *
 * An authentication failure is not an exception: `open` returns `null`,
 * because a packet that fails to decrypt is simply dropped (RFC 9001 section 5.5
 * and RFC 9000 section 12.2), and an attacker can make that happen at will.
 *
 * Everything that is not per-packet (HKDF, hashes, HMAC) takes and returns
 * plain byte arrays. Randomness is an input (DESIGN.md): every provider takes an
 * injectable `random(n)` source so a test can replay a connection bit for bit.
 *
 * The TLS 1.3 handshake adds an incremental transcript hash, (EC)DHE key
 * exchange on X25519 and P-256, and CertificateVerify signatures (ECDSA P-256,
 * Ed25519, RSA-PSS). Peer-supplied keys are validated here and failures are a
 * typed {@link CryptoError}; a wrong signature is simply `false`.
 */
import { PullwireError, UsageError } from '../../combinators/errors.js';

/** The three TLS 1.3 cipher suites QUIC v1 and v2 use (RFC 9001 section 5.3; RFC 8446 appendix B.4). */
export type CipherSuite = 'TLS_AES_128_GCM_SHA256' | 'TLS_AES_256_GCM_SHA384' | 'TLS_CHACHA20_POLY1305_SHA256';

/** Hash functions of the TLS 1.3 cipher suites above. */
export type HashAlgorithm = 'sha256' | 'sha384';

/** A packet number: a `number` up to 2^53 - 1, a `bigint` above (QUIC allows up to 2^62 - 1, RFC 9000 section 12.3). */
export type PacketNumber = number | bigint;

/** What the rest of the stack needs to know about a cipher suite. */
export interface CipherSuiteInfo {
  /** The TLS code point (RFC 8446 appendix B.4). */
  readonly code: number;
  /** AEAD key length in bytes; also the header-protection key length (RFC 9001 sections 5.4.3, 5.4.4). */
  readonly keyLength: 16 | 32;
  /** AEAD nonce / IV length: 12 for all three suites (RFC 8446 section 5.3). */
  readonly ivLength: 12;
  /** AEAD authentication tag length (RFC 9001 section 5.3: all three expand the payload by 16 bytes). */
  readonly tagLength: 16;
  readonly hash: HashAlgorithm;
  /** Output length of `hash`: the length of a traffic secret. */
  readonly hashLength: 32 | 48;
  /** Header protection algorithm (RFC 9001 sections 5.4.3 and 5.4.4). */
  readonly headerProtection: 'aes-ecb' | 'chacha20';
  /**
   * Most packets one key may protect (RFC 9001 section 6.6): 2^23 for AES-GCM;
   * for ChaCha20-Poly1305 the limit exceeds the packet number space, so none.
   */
  readonly confidentialityLimit: number;
  /** Most packets that may fail authentication under one key before the connection must close (RFC 9001 section 6.6). */
  readonly integrityLimit: number;
}

/** Constants of the supported suites. */
export const CIPHER_SUITES: Readonly<Record<CipherSuite, CipherSuiteInfo>> = Object.freeze({
  TLS_AES_128_GCM_SHA256: Object.freeze({
    code: 0x1301,
    keyLength: 16,
    ivLength: 12,
    tagLength: 16,
    hash: 'sha256',
    hashLength: 32,
    headerProtection: 'aes-ecb',
    confidentialityLimit: 2 ** 23,
    integrityLimit: 2 ** 52,
  }),
  TLS_AES_256_GCM_SHA384: Object.freeze({
    code: 0x1302,
    keyLength: 32,
    ivLength: 12,
    tagLength: 16,
    hash: 'sha384',
    hashLength: 48,
    headerProtection: 'aes-ecb',
    confidentialityLimit: 2 ** 23,
    integrityLimit: 2 ** 52,
  }),
  TLS_CHACHA20_POLY1305_SHA256: Object.freeze({
    code: 0x1303,
    keyLength: 32,
    ivLength: 12,
    tagLength: 16,
    hash: 'sha256',
    hashLength: 32,
    headerProtection: 'chacha20',
    confidentialityLimit: Number.POSITIVE_INFINITY,
    integrityLimit: 2 ** 36,
  }),
} as const);

/** AEAD tag length shared by every suite. */
export const AEAD_TAG_LENGTH = 16;
/** Header protection samples 16 bytes of ciphertext (RFC 9001 section 5.4.2). */
export const HP_SAMPLE_LENGTH = 16;
/** Header protection produces a 5-byte mask (RFC 9001 section 5.4.1). */
export const HP_MASK_LENGTH = 5;

/**
 * An AEAD bound to one key and IV: create it once per key, use it for every packet.
 *
 * Buffers: `seal` writes `ciphertext || tag` (plaintext.length + 16 bytes) at the
 * start of `out`; `open` writes the plaintext (ciphertext.length - 16 bytes) at the
 * start of `out`. `out` may be the very same memory as the input (same buffer,
 * same start offset) to work in place; other overlaps are not supported.
 * The AAD must not overlap `out`.
 *
 * A context is not reentrant (it owns a nonce buffer); use one per direction.
 */
export interface Aead {
  readonly suite: CipherSuite;
  /**
   * Encrypts and authenticates. The nonce is `iv XOR pn` (RFC 9001 section 5.3).
   * Returns the number of bytes written (`plaintext.length + 16`).
   * Throws a `UsageError` if `out` is too short or `pn` is not a packet number.
   */
  seal(pn: PacketNumber, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array): number;
  /**
   * Checks and decrypts `ciphertext || tag`. Returns the plaintext length, or
   * `null` when authentication fails or the input is shorter than a tag: the
   * packet is to be dropped (RFC 9001 section 5.5). On failure neither
   * `ciphertext` nor `out` has been modified, so the caller may retry with
   * another key (a key update, RFC 9001 section 6.3).
   * Throws a `UsageError` only for caller mistakes (`out` too short, bad `pn`).
   */
  open(pn: PacketNumber, aad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array): number | null;
}

/**
 * A header-protection mask generator bound to one hp key (RFC 9001 section 5.4).
 */
export interface HeaderProtection {
  readonly suite: CipherSuite;
  /**
   * The 5-byte mask for a 16-byte `sample` (only its first 16 bytes are read;
   * a shorter sample is a `UsageError`). AES suites: the first 5 bytes of
   * AES-ECB(hp, sample) (section 5.4.3). ChaCha20: 5 bytes of ChaCha20 keystream
   * with counter = sample[0..4] little-endian and nonce = sample[4..16]
   * (section 5.4.4).
   *
   * The returned array is owned by the context and overwritten by the next call:
   * copy it to keep it.
   */
  mask(sample: Uint8Array): Uint8Array;
}

// ---------------------------------------------------------------------------------------------------
// TLS 1.3 handshake crypto: transcript hash, key exchange, signatures

/**
 * Typed failures of the handshake crypto. Every one is caused by bytes from the peer or by key
 * material the caller loaded, never by API misuse (that is a `UsageError`). The TLS layer turns them
 * into alerts (tls/errors.ts): a bad key share is `illegal_parameter` (RFC 8446 section 4.2.8), a
 * certificate key that does not fit the signature scheme is `illegal_parameter` too, a malformed
 * certificate or key `bad_certificate`, a key type this provider does not handle `unsupported_certificate`.
 */
export const CRYPTO_ERROR_CODES = {
  ERR_INVALID_KEY_SHARE:
    'a peer key share has the wrong length, is not a point of the curve, or gives an all-zero shared secret (RFC 8446 sections 4.2.8.2, 7.4)',
  ERR_INVALID_PUBLIC_KEY: 'a public key (DER SubjectPublicKeyInfo) is malformed, or its value is out of range',
  ERR_INVALID_PRIVATE_KEY: 'a private key given to the provider cannot be loaded (bad PEM/DER, wrong length or value, wrong passphrase)',
  ERR_INVALID_CERTIFICATE: 'a certificate is not a well-formed DER X.509 certificate',
  ERR_KEY_SCHEME_MISMATCH: 'the public or private key cannot be used with the requested signature scheme',
  ERR_UNSUPPORTED_ALGORITHM: 'this provider does not implement the algorithm (for example RSA signing in the portable provider)',
} as const;

export type CryptoErrorCode = keyof typeof CRYPTO_ERROR_CODES;

/** A handshake-crypto failure with a stable {@link CryptoErrorCode}. */
export class CryptoError extends PullwireError {
  declare readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, detail: string) {
    super(code, `${CRYPTO_ERROR_CODES[code]}: ${detail}`);
  }
}

/**
 * An incremental hash (RFC 8446 section 4.4.1: the transcript hash is updated message by message,
 * and TLS reads intermediate values of it: after ServerHello, after the server Finished...).
 */
export interface HashContext {
  readonly algorithm: HashAlgorithm;
  update(data: Uint8Array): void;
  /** The digest of everything so far. Non-destructive: it finishes a copy, the context stays usable. */
  digest(): Uint8Array;
  /** An independent context with the same state (for "the transcript plus one more message"). */
  clone(): HashContext;
}

/** Key exchange groups the providers implement (RFC 8446 section 4.2.7). Other groups are named in the TLS tables only. */
export type NamedGroup = 'x25519' | 'secp256r1';

/** The length of a KeyShareEntry.key_exchange per group (RFC 8446 section 4.2.8.2: X25519 32 bytes, P-256 uncompressed 65). */
export const KEY_SHARE_LENGTH: Readonly<Record<NamedGroup, number>> = Object.freeze({ x25519: 32, secp256r1: 65 });

/**
 * An ephemeral (EC)DHE key pair for one handshake. Its private key never leaves the object.
 */
export interface KeyShare {
  readonly group: NamedGroup;
  /**
   * The public value as sent in a KeyShareEntry (RFC 8446 section 4.2.8.2): the 32-byte X25519 public
   * key, or the 65-byte uncompressed P-256 point `04 || X || Y`.
   */
  readonly publicKey: Uint8Array;
  /**
   * The (EC)DHE shared secret with the peer's public value (RFC 8446 section 7.4): the 32-byte X25519
   * output, or the 32-byte X coordinate of the P-256 shared point. Validates the peer value first, as
   * RFC 8446 section 4.2.8.2 requires: a wrong length, a P-256 value that is not an uncompressed point
   * on the curve, or an X25519 result of all zeros (section 7.4.2) raise a {@link CryptoError} with code
   * `ERR_INVALID_KEY_SHARE` (the TLS layer answers with an `illegal_parameter` alert).
   */
  deriveSecret(peerPublicKey: Uint8Array): Uint8Array;
}

/**
 * Signature schemes the providers implement for CertificateVerify (RFC 8446 section 4.2.3). Only the
 * SHA-256 variants: they are the ones QUIC deployments use, and the TLS tables name the others.
 */
export type SignatureScheme = 'ecdsa_secp256r1_sha256' | 'ed25519' | 'rsa_pss_rsae_sha256' | 'rsa_pss_pss_sha256';

/** Every {@link SignatureScheme}, in our order of preference. */
export const SIGNATURE_SCHEMES_SUPPORTED: readonly SignatureScheme[] = Object.freeze([
  'ecdsa_secp256r1_sha256',
  'ed25519',
  'rsa_pss_rsae_sha256',
  'rsa_pss_pss_sha256',
]);

/**
 * Kinds of signing keys: a P-256 key, an Ed25519 key, an RSA key with the rsaEncryption OID (signs
 * `rsa_pss_rsae_*`), or an RSA key with the RSASSA-PSS OID (signs `rsa_pss_pss_*`; RFC 8446 section 4.2.3).
 */
export type KeyType = 'ecdsa-p256' | 'ed25519' | 'rsa' | 'rsa-pss';

/** The schemes a key of each type can produce (RFC 8446 section 4.2.3). */
export const SCHEMES_BY_KEY_TYPE: Readonly<Record<KeyType, readonly SignatureScheme[]>> = Object.freeze({
  'ecdsa-p256': Object.freeze(['ecdsa_secp256r1_sha256'] as const),
  ed25519: Object.freeze(['ed25519'] as const),
  rsa: Object.freeze(['rsa_pss_rsae_sha256'] as const),
  'rsa-pss': Object.freeze(['rsa_pss_pss_sha256'] as const),
});

/**
 * A private key given as raw values, accepted by every provider (the portable one takes no PEM/DER:
 * decode those with your platform, or use the Node provider's `loadPrivateKey`).
 *
 * - `ecdsa-p256`: the 32-byte big-endian private scalar.
 * - `ed25519`: the 32-byte seed (RFC 8032 section 5.1.5 "private key").
 * - `rsa`: the RSA private key components, big-endian unsigned integers (RFC 8017 section 3.2). Only the
 *   Node provider signs with RSA; the portable provider raises `ERR_UNSUPPORTED_ALGORITHM`.
 */
export type RawPrivateKey =
  | { readonly type: 'ecdsa-p256'; readonly privateKey: Uint8Array }
  | { readonly type: 'ed25519'; readonly privateKey: Uint8Array }
  | {
      readonly type: 'rsa';
      readonly n: Uint8Array;
      readonly e: Uint8Array;
      readonly d: Uint8Array;
      readonly p: Uint8Array;
      readonly q: Uint8Array;
      readonly dp: Uint8Array;
      readonly dq: Uint8Array;
      readonly qi: Uint8Array;
    };

/** A private key able to produce CertificateVerify signatures. */
export interface Signer {
  readonly keyType: KeyType;
  /** The schemes this key can sign with (see {@link SCHEMES_BY_KEY_TYPE}). */
  readonly schemes: readonly SignatureScheme[];
  /** The matching public key as a DER SubjectPublicKeyInfo (what a certificate for this key carries). */
  readonly publicKey: Uint8Array;
  /**
   * Signs `message` (the whole CertificateVerify content of RFC 8446 section 4.4.3; hashing is part of
   * the scheme). ECDSA signatures are DER-encoded `ECDSA-Sig-Value`s (section 4.2.3); RSA-PSS uses MGF1
   * with the same hash and a salt as long as the hash. Raises `ERR_KEY_SCHEME_MISMATCH` for a scheme
   * not in `schemes`.
   */
  sign(scheme: SignatureScheme, message: Uint8Array): Uint8Array;
}

/** Verifies CertificateVerify signatures with a public key taken from a certificate. */
export interface SignatureVerifier {
  /**
   * `true` when `signature` is a valid `scheme` signature of `message` under `publicKey` (a DER
   * SubjectPublicKeyInfo), `false` when it is not (a wrong or malformed signature: RFC 8446 section
   * 4.4.3 answers with `decrypt_error`). Raises a {@link CryptoError} when the key itself is the
   * problem: `ERR_INVALID_PUBLIC_KEY` (malformed), `ERR_KEY_SCHEME_MISMATCH` (an Ed25519 key with an
   * ECDSA scheme, an rsaEncryption key with `rsa_pss_pss_sha256`...), `ERR_UNSUPPORTED_ALGORITHM`.
   */
  verify(scheme: SignatureScheme, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

/** A source of random bytes. Must return exactly `n` fresh bytes. */
export type RandomSource = (n: number) => Uint8Array;

/**
 * Everything QUIC needs from cryptography. Two implementations exist: the
 * portable default on @noble/* (`./noble.js`) and a faster one on `node:crypto`
 * (`./node.js`). Both must produce byte-identical results (signatures aside:
 * ECDSA and RSA-PSS signatures are randomized, see the providers' docs).
 */
export interface CryptoProvider {
  /** For logs and benchmarks, e.g. `"noble"`, `"node"`. */
  readonly name: string;
  /** A reusable AEAD context for one key and IV (see {@link Aead}). Checks the key and IV lengths. */
  aead(suite: CipherSuite, key: Uint8Array, iv: Uint8Array): Aead;
  /** A reusable header-protection context for one hp key (see {@link HeaderProtection}). */
  headerProtection(suite: CipherSuite, hpKey: Uint8Array): HeaderProtection;
  hash(alg: HashAlgorithm, data: Uint8Array): Uint8Array;
  hmac(alg: HashAlgorithm, key: Uint8Array, data: Uint8Array): Uint8Array;
  /** HKDF-Extract(salt, IKM) (RFC 5869 section 2.2). An empty salt means HashLen zero bytes. */
  hkdfExtract(alg: HashAlgorithm, salt: Uint8Array, ikm: Uint8Array): Uint8Array;
  /** HKDF-Expand(PRK, info, L) (RFC 5869 section 2.3): PRK of at least HashLen bytes, `length` at most 255 * HashLen. */
  hkdfExpand(alg: HashAlgorithm, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** `n` random bytes from the provider's (injectable) source. */
  random(n: number): Uint8Array;

  /** An incremental hash for the TLS transcript (see {@link HashContext}). */
  createHash(alg: HashAlgorithm): HashContext;
  /**
   * A fresh ephemeral key pair for `group`. The private key is drawn from `random` (32 bytes; for
   * P-256 draws repeat until the value is a valid scalar in 1..n-1), so a seeded random source gives
   * the same key share in every provider.
   */
  generateKeyShare(group: NamedGroup): KeyShare;
  /** A signing key from raw values (see {@link RawPrivateKey}). Raises `ERR_INVALID_PRIVATE_KEY` or `ERR_UNSUPPORTED_ALGORITHM`. */
  createSigner(key: RawPrivateKey): Signer;
  /** CertificateVerify signature checks (see {@link SignatureVerifier}). */
  readonly signatureVerifier: SignatureVerifier;
}

/** Output length of each hash. */
export const HASH_LENGTH: Readonly<Record<HashAlgorithm, 32 | 48>> = Object.freeze({ sha256: 32, sha384: 48 });

const TLS13_LABEL_PREFIX = 'tls13 ';

/**
 * HKDF-Expand-Label (RFC 8446 section 7.1):
 *
 * ```
 * HkdfLabel = uint16 length || opaque label<7..255> ("tls13 " + Label) || opaque context<0..255>
 * HKDF-Expand-Label(Secret, Label, Context, Length) = HKDF-Expand(Secret, HkdfLabel, Length)
 * ```
 *
 * `label` is ASCII without the "tls13 " prefix (e.g. `"quic key"`).
 */
export function hkdfExpandLabel(
  provider: CryptoProvider,
  alg: HashAlgorithm,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  return provider.hkdfExpand(alg, secret, encodeHkdfLabel(label, context, length), length);
}

/** The HkdfLabel structure of RFC 8446 section 7.1 (exported for tests and for TLS's Derive-Secret). */
export function encodeHkdfLabel(label: string, context: Uint8Array, length: number): Uint8Array {
  const fullLength = TLS13_LABEL_PREFIX.length + label.length;
  if (!Number.isInteger(length) || length < 0 || length > 0xffff)
    throw new UsageError(`HKDF-Expand-Label length ${length} is not a uint16`);
  // RFC 8446 section 7.1: opaque label<7..255>.
  if (fullLength > 255) throw new UsageError(`HKDF label "${label}" is longer than 249 bytes`);
  if (context.length > 255) throw new UsageError(`HKDF-Expand-Label context is longer than 255 bytes`);
  const out = new Uint8Array(2 + 1 + fullLength + 1 + context.length);
  out[0] = length >>> 8;
  out[1] = length & 0xff;
  out[2] = fullLength;
  let o = 3;
  for (const text of [TLS13_LABEL_PREFIX, label]) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) throw new UsageError(`HKDF label "${label}" is not ASCII`);
      out[o++] = c;
    }
  }
  out[o++] = context.length;
  out.set(context, o);
  return out;
}

const TWO_32 = 2 ** 32;
const PN_MAX = 2n ** 62n - 1n;

/**
 * Writes the AEAD nonce for packet number `pn` into `out` (12 bytes):
 * the 62-bit packet number, big-endian and left-padded with zeros to the IV
 * length, XORed with the IV (RFC 9001 section 5.3). Shared by the providers.
 */
export function writeNonce(iv: Uint8Array, pn: PacketNumber, out: Uint8Array): void {
  let hi: number;
  let lo: number;
  if (typeof pn === 'number') {
    if (!Number.isInteger(pn) || pn < 0 || pn > Number.MAX_SAFE_INTEGER)
      throw new UsageError(`packet number ${pn} is not an integer in 0..2^53-1`);
    hi = Math.floor(pn / TWO_32);
    lo = pn >>> 0;
  } else {
    if (pn < 0n || pn > PN_MAX) throw new UsageError(`packet number ${pn} is outside 0..2^62-1`);
    hi = Number(pn >> 32n);
    lo = Number(pn & 0xffffffffn);
  }
  for (let i = 0; i < 4; i++) out[i] = iv[i]!;
  out[4] = iv[4]! ^ (hi >>> 24);
  out[5] = iv[5]! ^ ((hi >>> 16) & 0xff);
  out[6] = iv[6]! ^ ((hi >>> 8) & 0xff);
  out[7] = iv[7]! ^ (hi & 0xff);
  out[8] = iv[8]! ^ (lo >>> 24);
  out[9] = iv[9]! ^ ((lo >>> 16) & 0xff);
  out[10] = iv[10]! ^ ((lo >>> 8) & 0xff);
  out[11] = iv[11]! ^ (lo & 0xff);
}

/** Looks up a suite, rejecting anything outside the three supported ones (a string may come from untyped callers). */
export function suiteInfo(suite: CipherSuite): CipherSuiteInfo {
  const info = Object.prototype.hasOwnProperty.call(CIPHER_SUITES, suite) ? CIPHER_SUITES[suite] : undefined;
  if (info === undefined) throw new UsageError(`unsupported cipher suite ${String(suite)}`);
  return info;
}

/** Validates the key and IV lengths for `suite` (shared by the providers). */
export function checkAeadKey(suite: CipherSuite, key: Uint8Array, iv: Uint8Array): CipherSuiteInfo {
  const info = suiteInfo(suite);
  if (key.length !== info.keyLength) throw new UsageError(`${suite} needs a ${info.keyLength}-byte key, got ${key.length}`);
  if (iv.length !== info.ivLength) throw new UsageError(`${suite} needs a ${info.ivLength}-byte IV, got ${iv.length}`);
  return info;
}

/** Validates the header-protection key length for `suite` (RFC 9001 sections 5.4.3, 5.4.4). */
export function checkHpKey(suite: CipherSuite, hpKey: Uint8Array): CipherSuiteInfo {
  const info = suiteInfo(suite);
  if (hpKey.length !== info.keyLength)
    throw new UsageError(`${suite} needs a ${info.keyLength}-byte header protection key, got ${hpKey.length}`);
  return info;
}

/** Validates the output buffer of `seal`/`open`. */
export function checkOut(out: Uint8Array, needed: number): void {
  if (out.length < needed) throw new UsageError(`output buffer has ${out.length} bytes, ${needed} needed`);
}

/** Validates a header-protection sample. */
export function checkSample(sample: Uint8Array): void {
  if (sample.length < HP_SAMPLE_LENGTH) throw new UsageError(`header protection sample has ${sample.length} bytes, 16 needed`);
}

/**
 * Validates HKDF-Expand arguments (RFC 5869 section 2.3): PRK of at least
 * HashLen bytes, L <= 255 * HashLen.
 */
export function checkExpand(alg: HashAlgorithm, prk: Uint8Array, length: number): void {
  if (prk.length < HASH_LENGTH[alg]) throw new UsageError(`HKDF-Expand PRK has ${prk.length} bytes, at least ${HASH_LENGTH[alg]} needed`);
  if (!Number.isInteger(length) || length < 0 || length > 255 * HASH_LENGTH[alg]) {
    throw new UsageError(`HKDF-Expand length ${length} is outside 0..${255 * HASH_LENGTH[alg]}`);
  }
}

/** Validates a hash algorithm name. */
export function checkHash(alg: HashAlgorithm): void {
  if (alg !== 'sha256' && alg !== 'sha384') throw new UsageError(`unsupported hash ${String(alg)}`);
}

/** Validates a byte count for `random`. */
export function checkRandomLength(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`random(${n}): not a byte count`);
}

/**
 * Wraps an injected random source so that a wrong-sized answer is caught here,
 * not as a short key much later.
 */
export function checkedRandom(source: RandomSource): RandomSource {
  return (n) => {
    checkRandomLength(n);
    const out = source(n);
    if (!(out instanceof Uint8Array) || out.length !== n) throw new UsageError(`random source returned ${out?.length} bytes, ${n} asked`);
    return out;
  };
}

// ---------------------------------------------------------------------------------------------------
// helpers shared by the providers' handshake crypto

/** The order n of the P-256 group (FIPS 186-4 D.1.2.3 / SEC 2 2.4.2). */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** Most draws `p256PrivateKey` makes before giving up: each is below n with probability > 1 - 2^-32. */
const P256_MAX_DRAWS = 64;

function bigintOf(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** Whether `k` is a P-256 private scalar: 32 big-endian bytes in 1..n-1. */
export function isP256PrivateKey(k: unknown): k is Uint8Array {
  if (!(k instanceof Uint8Array) || k.length !== 32) return false;
  const v = bigintOf(k);
  return v > 0n && v < P256_ORDER;
}

/**
 * A P-256 private scalar from `random`: 32-byte draws until one is in 1..n-1 (rejection sampling, so
 * every provider turns the same random bytes into the same key). A source that keeps returning
 * out-of-range values is broken: `UsageError`.
 */
export function p256PrivateKey(random: RandomSource): Uint8Array {
  for (let i = 0; i < P256_MAX_DRAWS; i++) {
    const k = random(32);
    if (isP256PrivateKey(k)) return k;
  }
  throw new UsageError(`random source gave no valid P-256 scalar in ${P256_MAX_DRAWS} draws`);
}

/** Validates a group name (it may come from untyped callers). */
export function checkGroup(group: NamedGroup): void {
  if (group !== 'x25519' && group !== 'secp256r1') throw new UsageError(`unsupported key exchange group ${String(group)}`);
}

/**
 * The checks RFC 8446 section 4.2.8.2 asks for that do not need curve arithmetic: the exact length,
 * and for P-256 the uncompressed form (`legacy_form = 4`; compressed points are not allowed in TLS 1.3).
 */
export function checkKeySharePublic(group: NamedGroup, peer: Uint8Array): void {
  const want = KEY_SHARE_LENGTH[group];
  if (peer.length !== want) throw new CryptoError('ERR_INVALID_KEY_SHARE', `${group} key share of ${peer.length} bytes, ${want} expected`);
  if (group === 'secp256r1' && peer[0] !== 0x04) {
    throw new CryptoError('ERR_INVALID_KEY_SHARE', `secp256r1 key share does not start with 0x04 (uncompressed form)`);
  }
}

/** RFC 8446 section 7.4.2: an all-zero X25519 output means the peer sent a low-order point; abort. */
export function checkSharedSecret(group: NamedGroup, secret: Uint8Array): Uint8Array {
  let acc = 0;
  for (const b of secret) acc |= b;
  if (acc === 0) throw new CryptoError('ERR_INVALID_KEY_SHARE', `${group} shared secret is all zeros (low-order peer point)`);
  return secret;
}

/** Raises `ERR_KEY_SCHEME_MISMATCH` unless `scheme` is one a key of `keyType` signs with. */
export function checkSignerScheme(keyType: KeyType, scheme: SignatureScheme): void {
  if (!SCHEMES_BY_KEY_TYPE[keyType].includes(scheme)) {
    throw new CryptoError('ERR_KEY_SCHEME_MISMATCH', `a ${keyType} key cannot sign ${String(scheme)}`);
  }
}

/** Validates a scheme name (it may come from untyped callers). */
export function checkScheme(scheme: SignatureScheme): void {
  if (!SIGNATURE_SCHEMES_SUPPORTED.includes(scheme))
    throw new CryptoError('ERR_UNSUPPORTED_ALGORITHM', `signature scheme ${String(scheme)}`);
}
