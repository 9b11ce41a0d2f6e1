/**
 * The Node crypto provider, on `node:crypto` (OpenSSL). About ten times faster
 * per packet than the portable noble provider for AES-GCM (PERF-NOTES.md), and
 * byte-identical to it.
 *
 * Per-packet costs:
 * - AEAD: Node has no way to re-key or re-nonce an existing cipher object, so
 *   each seal/open creates one (createCipheriv/createDecipheriv): that fixed
 *   cost (~5 µs) dominates a 1200-byte packet. The output of `update` is a new
 *   Buffer that is copied into the caller's buffer.
 * - AES header protection reuses one ECB cipher object per hp key: ECB has no
 *   chaining state, so each 16-byte `update` is independent.
 * - ChaCha20 header protection creates a `chacha20` cipher per packet: its
 *   16-byte IV is exactly the sample (counter little-endian || nonce, RFC 9001
 *   section 5.4.4 and OpenSSL's IV layout).
 *
 * Handshake crypto: X25519 (KeyObjects from a PKCS#8 wrapping of the random
 * private key), P-256 (`createECDH`), ECDSA P-256, Ed25519 and RSA-PSS signing
 * and verification. Peer public keys are imported as JWK, which costs a tenth
 * of a SubjectPublicKeyInfo import (PERF-NOTES.md). ECDSA and RSA-PSS
 * signatures take their randomness from OpenSSL, not from the injected random
 * source: they verify everywhere but differ from run to run.
 *
 * Keys and certificates from files: {@link loadPrivateKey} (PEM or DER, PKCS#8,
 * PKCS#1 or SEC1, optionally encrypted) gives a {@link Signer};
 * {@link loadCertificateChain} turns PEM into DER certificates (parsed by
 * node:crypto's X509Certificate, so a broken certificate is refused at load
 * time); {@link certificateSubjectPublicKeyInfo} extracts a certificate's key.
 */
import {
  X509Certificate,
  constants as cryptoConstants,
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  randomFillSync,
  sign as cryptoSign,
  verify as cryptoVerify,
} from 'node:crypto';
import type { Cipher, ECDH, Hash, JsonWebKey, KeyObject } from 'node:crypto';
import { UsageError } from '../../combinators/errors.js';
import { readSubjectPublicKeyInfo } from './der.js';
import { portableHeaderProtection } from './noble.js';
import { checkRsaPublicKey } from './rsa-pss.js';
import { BoundedCache } from '../node/bounded-cache.js';
import {
  AEAD_TAG_LENGTH,
  CryptoError,
  HASH_LENGTH,
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

export interface NodeProviderOptions {
  /** Source of random bytes. Default: `crypto.randomFillSync`. */
  readonly random?: RandomSource;
  /**
   * Header protection implementation. `'portable'` (default) is the same
   * JavaScript AES / ChaCha20 block code as the noble provider, which is
   * faster per packet than a node:crypto cipher call; `'node'` uses
   * node:crypto (kept so the two providers can be checked against each other).
   */
  readonly headerProtection?: 'portable' | 'node';
}

/** The part of Node's GCM / ChaCha20-Poly1305 cipher objects used here. */
interface AuthCipher {
  setAAD(buffer: Uint8Array, options?: { plaintextLength: number }): unknown;
  update(data: Uint8Array): Buffer;
  final(): Buffer;
}
interface AuthEncrypt extends AuthCipher {
  getAuthTag(): Buffer;
}
interface AuthDecrypt extends AuthCipher {
  setAuthTag(tag: Uint8Array): unknown;
}

const TAG_OPTIONS = { authTagLength: AEAD_TAG_LENGTH };

type Factory<T> = (key: Uint8Array, nonce: Uint8Array) => T;

function encryptFactory(suite: CipherSuite): Factory<AuthEncrypt> {
  switch (suite) {
    case 'TLS_AES_128_GCM_SHA256':
      return (key, nonce) => createCipheriv('aes-128-gcm', key, nonce, TAG_OPTIONS);
    case 'TLS_AES_256_GCM_SHA384':
      return (key, nonce) => createCipheriv('aes-256-gcm', key, nonce, TAG_OPTIONS);
    case 'TLS_CHACHA20_POLY1305_SHA256':
      return (key, nonce) => createCipheriv('chacha20-poly1305', key, nonce, TAG_OPTIONS);
    default: {
      const never: never = suite;
      throw new UsageError(`unsupported cipher suite ${String(never)}`);
    }
  }
}

function decryptFactory(suite: CipherSuite): Factory<AuthDecrypt> {
  switch (suite) {
    case 'TLS_AES_128_GCM_SHA256':
      return (key, nonce) => createDecipheriv('aes-128-gcm', key, nonce, TAG_OPTIONS);
    case 'TLS_AES_256_GCM_SHA384':
      return (key, nonce) => createDecipheriv('aes-256-gcm', key, nonce, TAG_OPTIONS);
    case 'TLS_CHACHA20_POLY1305_SHA256':
      return (key, nonce) => createDecipheriv('chacha20-poly1305', key, nonce, TAG_OPTIONS);
    default: {
      const never: never = suite;
      throw new UsageError(`unsupported cipher suite ${String(never)}`);
    }
  }
}

class NodeAead implements Aead {
  readonly suite: CipherSuite;
  private readonly key: Uint8Array;
  private readonly iv: Uint8Array;
  private readonly nonce = new Uint8Array(12);
  private readonly encrypt: Factory<AuthEncrypt>;
  private readonly decrypt: Factory<AuthDecrypt>;
  private readonly gcm: boolean;

  constructor(suite: CipherSuite, key: Uint8Array, iv: Uint8Array) {
    checkAeadKey(suite, key, iv);
    this.suite = suite;
    this.gcm = suite !== 'TLS_CHACHA20_POLY1305_SHA256';
    this.key = key.slice();
    this.iv = iv.slice();
    this.encrypt = encryptFactory(suite);
    this.decrypt = decryptFactory(suite);
  }

  seal(pn: PacketNumber, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array): number {
    const n = plaintext.length;
    checkOut(out, n + AEAD_TAG_LENGTH);
    writeNonce(this.iv, pn, this.nonce);
    const cipher = this.encrypt(this.key, this.nonce);
    // GCM takes no `plaintextLength` (passing one allocates and validates an
    // options object per packet); Node's typings ask for it with ChaCha20-Poly1305.
    if (this.gcm) cipher.setAAD(aad);
    else cipher.setAAD(aad, { plaintextLength: n });
    // `update` returns a new Buffer: the input is fully read before `out` is
    // written, so sealing in place is safe.
    const body = cipher.update(plaintext);
    const rest = cipher.final();
    out.set(body, 0);
    if (rest.length > 0) out.set(rest, body.length);
    out.set(cipher.getAuthTag(), n);
    return n + AEAD_TAG_LENGTH;
  }

  open(pn: PacketNumber, aad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array): number | null {
    const n = ciphertext.length - AEAD_TAG_LENGTH;
    if (n < 0) return null;
    checkOut(out, n);
    writeNonce(this.iv, pn, this.nonce);
    const decipher = this.decrypt(this.key, this.nonce);
    if (this.gcm) decipher.setAAD(aad);
    else decipher.setAAD(aad, { plaintextLength: n });
    decipher.setAuthTag(ciphertext.subarray(n));
    // Opening in place (packet-io passes `out` = the ciphertext without its tag): `out` is
    // already the view `update` needs, so skip making another.
    const inPlace = out.length === n && out.byteOffset === ciphertext.byteOffset && out.buffer === ciphertext.buffer;
    const body = decipher.update(inPlace ? out : ciphertext.subarray(0, n));
    let rest: Buffer;
    try {
      // OpenSSL checks the tag in `final`: the plaintext from `update` is
      // unauthenticated until then, so nothing reaches `out` before.
      rest = decipher.final();
    } catch {
      return null;
    }
    out.set(body, 0);
    if (rest.length > 0) out.set(rest, body.length);
    return n;
  }
}

class NodeAesHeaderProtection implements HeaderProtection {
  readonly suite: CipherSuite;
  private readonly out = new Uint8Array(HP_MASK_LENGTH);
  private readonly ecb: Cipher;

  constructor(suite: CipherSuite, key: Uint8Array) {
    this.suite = suite;
    this.ecb = createCipheriv(key.length === 16 ? 'aes-128-ecb' : 'aes-256-ecb', key, null);
    this.ecb.setAutoPadding(false);
  }

  mask(sample: Uint8Array): Uint8Array {
    checkSample(sample);
    const block = this.ecb.update(sample.length === 16 ? sample : sample.subarray(0, 16));
    const out = this.out;
    for (let i = 0; i < HP_MASK_LENGTH; i++) out[i] = block[i]!;
    return out;
  }
}

const FIVE_ZEROS = new Uint8Array(HP_MASK_LENGTH);

class NodeChachaHeaderProtection implements HeaderProtection {
  readonly suite: CipherSuite;
  private readonly out = new Uint8Array(HP_MASK_LENGTH);
  private readonly key: Uint8Array;

  constructor(suite: CipherSuite, key: Uint8Array) {
    this.suite = suite;
    this.key = key.slice();
  }

  mask(sample: Uint8Array): Uint8Array {
    checkSample(sample);
    // RFC 9001 section 5.4.4: ChaCha20 keystream with counter = sample[0..4]
    // (little-endian) and nonce = sample[4..16]; OpenSSL's 16-byte chacha20
    // IV is that same counter || nonce layout.
    const cipher = createCipheriv('chacha20', this.key, sample.length === 16 ? sample : sample.subarray(0, 16));
    const block = cipher.update(FIVE_ZEROS);
    const out = this.out;
    for (let i = 0; i < HP_MASK_LENGTH; i++) out[i] = block[i]!;
    return out;
  }
}

/** The default random source of the Node provider. */
function nodeRandom(n: number): Uint8Array {
  checkRandomLength(n);
  const out = new Uint8Array(n);
  randomFillSync(out);
  return out;
}

function toBytes(b: Buffer): Uint8Array {
  // A plain Uint8Array over the same memory, so both providers return the same type.
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function hmacBytes(alg: HashAlgorithm, key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac(alg, key);
  for (const p of parts) h.update(p);
  return toBytes(h.digest());
}

// ---------------------------------------------------------------------------------------------------
// handshake crypto

class NodeHashContext implements HashContext {
  constructor(
    readonly algorithm: HashAlgorithm,
    private readonly state: Hash,
  ) {}
  update(data: Uint8Array): void {
    this.state.update(data);
  }
  digest(): Uint8Array {
    // A node Hash can be digested once: digest a copy so the transcript can go on.
    return toBytes(this.state.copy().digest());
  }
  clone(): HashContext {
    return new NodeHashContext(this.algorithm, this.state.copy());
  }
}

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
const fromB64url = (text: string | undefined): Uint8Array => toBytes(Buffer.from(text ?? '', 'base64url'));

/** PKCS#8 PrivateKeyInfo prefixes for a raw 32-byte key (RFC 8410 section 7: X25519 1.3.101.110, Ed25519 1.3.101.112). */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** A syntactically valid `x` for OKP private JWKs (see {@link okpPrivateKey}). */
const PLACEHOLDER_X = Buffer.alloc(32).toString('base64url');

/**
 * An X25519 or Ed25519 private KeyObject from its 32 raw bytes. A JWK import costs about a tenth of a
 * PKCS#8 import (62 against 445 µs measured for X25519 on this machine: OpenSSL's PKCS#8 decoder tries
 * many formats). Node's JWK import requires `x` but builds the key from `d` alone, so `x` is a
 * placeholder: the public key is read back from the KeyObject, never taken from the JWK. Should a
 * Node version refuse the placeholder, the PKCS#8 wrapping is used instead.
 */
function okpPrivateKey(crv: 'X25519' | 'Ed25519', raw: Uint8Array): KeyObject {
  try {
    return createPrivateKey({ key: { kty: 'OKP', crv, d: b64url(raw), x: PLACEHOLDER_X }, format: 'jwk' });
  } catch {
    const prefix = crv === 'X25519' ? X25519_PKCS8_PREFIX : ED25519_PKCS8_PREFIX;
    return createPrivateKey({ key: Buffer.concat([prefix, raw]), format: 'der', type: 'pkcs8' });
  }
}

/** A P-256 private KeyObject from its scalar: the public point comes from ECDH, then a JWK import (PKCS#8 costs 10x more). */
function p256PrivateKeyObject(scalar: Uint8Array): KeyObject {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(scalar);
  const point = ecdh.getPublicKey();
  const jwk = { kty: 'EC', crv: 'P-256', x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33)), d: b64url(scalar) };
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

class NodeX25519KeyShare implements KeyShare {
  readonly group = 'x25519' as const;
  readonly publicKey: Uint8Array;
  constructor(private readonly key: KeyObject) {
    this.publicKey = fromB64url(key.export({ format: 'jwk' }).x);
  }
  deriveSecret(peer: Uint8Array): Uint8Array {
    checkKeySharePublic('x25519', peer);
    let secret: Buffer;
    try {
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(peer) }, format: 'jwk' });
      // OpenSSL fails the derivation when the result is all zeros (a low-order peer point).
      secret = diffieHellman({ privateKey: this.key, publicKey });
    } catch (e) {
      throw new CryptoError('ERR_INVALID_KEY_SHARE', `x25519: ${e instanceof Error ? e.message : String(e)}`);
    }
    return checkSharedSecret('x25519', toBytes(secret));
  }
}

class NodeP256KeyShare implements KeyShare {
  readonly group = 'secp256r1' as const;
  readonly publicKey: Uint8Array;
  private readonly ecdh: ECDH;
  constructor(privateKey: Uint8Array) {
    this.ecdh = createECDH('prime256v1');
    this.ecdh.setPrivateKey(privateKey);
    this.publicKey = toBytes(this.ecdh.getPublicKey());
  }
  deriveSecret(peer: Uint8Array): Uint8Array {
    checkKeySharePublic('secp256r1', peer);
    try {
      // OpenSSL checks that the point is on the curve; the output is the X coordinate (RFC 8446 section 7.4.1).
      return toBytes(this.ecdh.computeSecret(peer));
    } catch (e) {
      throw new CryptoError('ERR_INVALID_KEY_SHARE', `secp256r1: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** RFC 8446 section 4.2.3: RSASSA-PSS with MGF1 on the same hash and a salt as long as the hash. */
const PSS_SHA256 = { padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as const;

/** The key type of a node KeyObject, or a CryptoError for keys the handshake cannot sign with. */
function keyTypeOf(key: KeyObject): KeyType {
  switch (key.asymmetricKeyType) {
    case 'ec':
      if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
        throw new CryptoError('ERR_UNSUPPORTED_ALGORITHM', `EC key on curve ${String(key.asymmetricKeyDetails?.namedCurve)} (only P-256)`);
      }
      return 'ecdsa-p256';
    case 'ed25519':
      return 'ed25519';
    case 'rsa':
      return 'rsa';
    case 'rsa-pss': {
      const hash = key.asymmetricKeyDetails?.hashAlgorithm;
      // RFC 4055: a key with PSS parameters may only be used with their hash.
      if (hash !== undefined && hash !== 'sha256')
        throw new CryptoError('ERR_UNSUPPORTED_ALGORITHM', `RSASSA-PSS key restricted to ${hash}`);
      return 'rsa-pss';
    }
    default:
      throw new CryptoError('ERR_UNSUPPORTED_ALGORITHM', `key type ${String(key.asymmetricKeyType)}`);
  }
}

class NodeSigner implements Signer {
  readonly keyType: KeyType;
  readonly schemes: readonly SignatureScheme[];
  readonly publicKey: Uint8Array;
  constructor(private readonly key: KeyObject) {
    if (key.type !== 'private') throw new CryptoError('ERR_INVALID_PRIVATE_KEY', `a ${key.type} key cannot sign`);
    this.keyType = keyTypeOf(key);
    if (this.keyType === 'ecdsa-p256' && !isP256PrivateKey(fromB64url(key.export({ format: 'jwk' }).d))) {
      throw new CryptoError('ERR_INVALID_PRIVATE_KEY', 'P-256 private key is not a scalar in 1..n-1');
    }
    this.schemes = SCHEMES_BY_KEY_TYPE[this.keyType];
    this.publicKey = toBytes(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  }
  sign(scheme: SignatureScheme, message: Uint8Array): Uint8Array {
    checkSignerScheme(this.keyType, scheme);
    switch (this.keyType) {
      case 'ed25519':
        return toBytes(cryptoSign(null, message, this.key));
      case 'ecdsa-p256':
        return toBytes(cryptoSign('sha256', message, { key: this.key, dsaEncoding: 'der' }));
      case 'rsa':
      case 'rsa-pss':
        return toBytes(cryptoSign('sha256', message, { key: this.key, ...PSS_SHA256 }));
      default: {
        const never: never = this.keyType;
        throw new CryptoError('ERR_UNSUPPORTED_ALGORITHM', String(never));
      }
    }
  }
}

function invalidPrivateKey(e: unknown): CryptoError {
  return e instanceof CryptoError ? e : new CryptoError('ERR_INVALID_PRIVATE_KEY', e instanceof Error ? e.message : String(e));
}

function nodeSigner(key: RawPrivateKey): Signer {
  let keyObject: KeyObject;
  try {
    switch (key.type) {
      case 'ecdsa-p256':
        // OpenSSL imports a zero or out-of-range scalar without complaint: check it here.
        if (!isP256PrivateKey(key.privateKey))
          throw new CryptoError('ERR_INVALID_PRIVATE_KEY', 'P-256 private key is not a 32-byte scalar in 1..n-1');
        keyObject = p256PrivateKeyObject(key.privateKey);
        break;
      case 'ed25519':
        if (!(key.privateKey instanceof Uint8Array) || key.privateKey.length !== 32)
          throw new CryptoError('ERR_INVALID_PRIVATE_KEY', 'Ed25519 seed is not 32 bytes');
        keyObject = okpPrivateKey('Ed25519', key.privateKey);
        break;
      case 'rsa': {
        const jwk: JsonWebKey = { kty: 'RSA', n: b64url(key.n), e: b64url(key.e), d: b64url(key.d), p: b64url(key.p), q: b64url(key.q) };
        Object.assign(jwk, { dp: b64url(key.dp), dq: b64url(key.dq), qi: b64url(key.qi) });
        keyObject = createPrivateKey({ key: jwk, format: 'jwk' });
        break;
      }
      default: {
        const never: never = key;
        throw new CryptoError('ERR_INVALID_PRIVATE_KEY', `unknown key type ${String((never as { type?: unknown }).type)}`);
      }
    }
    return new NodeSigner(keyObject);
  } catch (e) {
    throw invalidPrivateKey(e);
  }
}

/**
 * Imported public keys by their SubjectPublicKeyInfo bytes, shared by every provider in the process:
 * a client making many connections to the same server (each with its own provider) imports the
 * server's key once (an import is ~0.2 ms, as much as the verification). KeyObjects are immutable.
 * Bounded; cleared when full.
 */
const importedKeys = new BoundedCache<KeyObject>(64);

class NodeVerifier implements SignatureVerifier {
  verify(scheme: SignatureScheme, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    checkScheme(scheme);
    const info = readSubjectPublicKeyInfo(publicKey);
    if (info.kind === 'unsupported') throw new CryptoError('ERR_UNSUPPORTED_ALGORITHM', `public key algorithm ${info.algorithm}`);
    if (!SCHEMES_BY_KEY_TYPE[info.kind].includes(scheme))
      throw new CryptoError('ERR_KEY_SCHEME_MISMATCH', `a ${info.kind} key cannot verify ${scheme}`);
    if (info.kind === 'rsa' || info.kind === 'rsa-pss') {
      // The same size limits as the portable provider, so both accept the same keys.
      checkRsaPublicKey(info.n, info.e);
      if (info.kind === 'rsa-pss' && info.hash !== null && info.hash !== 'sha256') {
        throw new CryptoError('ERR_KEY_SCHEME_MISMATCH', `RSASSA-PSS key restricted to ${info.hash}`);
      }
    }
    const key = this.importKey(publicKey, info);
    try {
      switch (info.kind) {
        case 'ecdsa-p256':
          return cryptoVerify('sha256', message, { key, dsaEncoding: 'der' }, signature);
        case 'ed25519':
          return cryptoVerify(null, message, key, signature);
        case 'rsa':
        case 'rsa-pss':
          return cryptoVerify('sha256', message, { key, ...PSS_SHA256 }, signature);
        default: {
          const never: never = info;
          throw new CryptoError('ERR_UNSUPPORTED_ALGORITHM', String(never));
        }
      }
    } catch (e) {
      if (e instanceof CryptoError) throw e;
      // OpenSSL raises on some malformed signatures (bad DER): that is a bad signature.
      return false;
    }
  }

  private importKey(spki: Uint8Array, info: ReturnType<typeof readSubjectPublicKeyInfo>): KeyObject {
    return importedKeys.get(spki, () => {
      try {
        switch (info.kind) {
          case 'ecdsa-p256':
            return createPublicKey({
              key: { kty: 'EC', crv: 'P-256', x: b64url(info.point.subarray(1, 33)), y: b64url(info.point.subarray(33)) },
              format: 'jwk',
            });
          case 'ed25519':
            return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(info.key) }, format: 'jwk' });
          case 'rsa':
            return createPublicKey({ key: { kty: 'RSA', n: b64url(info.n), e: b64url(info.e) }, format: 'jwk' });
          default:
            // JWK has no RSASSA-PSS key type: import the SubjectPublicKeyInfo itself.
            return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
        }
      } catch (e) {
        throw new CryptoError('ERR_INVALID_PUBLIC_KEY', e instanceof Error ? e.message : String(e));
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// keys and certificates from PEM / DER

export interface LoadPrivateKeyOptions {
  /** Passphrase of an encrypted PEM or PKCS#8 key. */
  readonly passphrase?: string;
}

/** PEM text anywhere in the bytes ("-----BEGIN "): PEM files may start with comments ("Bag Attributes"...). */
function looksLikePem(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes('-----BEGIN ', 0, 'latin1');
}

/**
 * A {@link Signer} from a private key file: PEM text (PKCS#8, PKCS#1 "RSA PRIVATE KEY", SEC1 "EC
 * PRIVATE KEY", encrypted PKCS#8 with `passphrase`) or DER bytes (PKCS#8, PKCS#1 or SEC1). Supported
 * keys: P-256, Ed25519, RSA and RSASSA-PSS (SHA-256). Raises `ERR_INVALID_PRIVATE_KEY` or
 * `ERR_UNSUPPORTED_ALGORITHM`.
 */
export function loadPrivateKey(key: string | Uint8Array, options: LoadPrivateKeyOptions = {}): Signer {
  const pass = options.passphrase === undefined ? {} : { passphrase: options.passphrase };
  let keyObject: KeyObject | undefined;
  let firstError: unknown;
  try {
    if (typeof key === 'string' || looksLikePem(key)) {
      keyObject = createPrivateKey({ key: typeof key === 'string' ? key : Buffer.from(key), format: 'pem', ...pass });
    } else {
      for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
        try {
          keyObject = createPrivateKey({ key: Buffer.from(key), format: 'der', type, ...pass });
          break;
        } catch (e) {
          firstError ??= e;
        }
      }
    }
  } catch (e) {
    firstError = e;
  }
  if (keyObject === undefined) throw invalidPrivateKey(firstError ?? new Error('no key'));
  try {
    return new NodeSigner(keyObject);
  } catch (e) {
    throw invalidPrivateKey(e);
  }
}

/** A {@link Signer} from a node:crypto private KeyObject. */
export function signerFromKeyObject(key: KeyObject): Signer {
  try {
    return new NodeSigner(key);
  } catch (e) {
    throw invalidPrivateKey(e);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g;

/**
 * The DER certificates of a PEM file, in file order (leaf first, as TLS sends them: RFC 8446 section
 * 4.4.2). A Uint8Array that is not PEM text is taken as one DER certificate. Each certificate is
 * parsed by node:crypto's X509Certificate, so a broken one raises `ERR_INVALID_CERTIFICATE` here,
 * not in the middle of a handshake. Raises the same when the input holds no certificate.
 */
export function loadCertificateChain(pem: string | Uint8Array): Uint8Array[] {
  const ders: Uint8Array[] = [];
  if (typeof pem !== 'string' && !looksLikePem(pem)) {
    ders.push(pem.slice());
  } else {
    const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('latin1');
    for (const m of text.matchAll(PEM_CERTIFICATE)) ders.push(toBytes(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
  }
  if (ders.length === 0) throw new CryptoError('ERR_INVALID_CERTIFICATE', 'no certificate found');
  for (const der of ders) parseCertificate(der);
  return ders;
}

function parseCertificate(der: Uint8Array): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (e) {
    throw new CryptoError('ERR_INVALID_CERTIFICATE', e instanceof Error ? e.message : String(e));
  }
}

/** The DER SubjectPublicKeyInfo of a DER certificate, through node:crypto's X509Certificate. */
export function certificateSubjectPublicKeyInfo(certificate: Uint8Array): Uint8Array {
  return toBytes(parseCertificate(certificate).publicKey.export({ type: 'spki', format: 'der' }));
}

/** The provider on `node:crypto`. */
export function createNodeProvider(options: NodeProviderOptions = {}): CryptoProvider {
  const random = options.random === undefined ? nodeRandom : checkedRandom(options.random);
  return {
    name: 'node',
    aead: (suite, key, iv) => new NodeAead(suite, key, iv),
    headerProtection(suite, hpKey) {
      if (options.headerProtection !== 'node') return portableHeaderProtection(suite, hpKey);
      const info = checkHpKey(suite, hpKey);
      return info.headerProtection === 'aes-ecb' ? new NodeAesHeaderProtection(suite, hpKey) : new NodeChachaHeaderProtection(suite, hpKey);
    },
    hash(alg, data) {
      checkHash(alg);
      return toBytes(createHash(alg).update(data).digest());
    },
    hmac(alg, key, data) {
      checkHash(alg);
      return hmacBytes(alg, key, data);
    },
    hkdfExtract(alg, salt, ikm) {
      checkHash(alg);
      // RFC 5869 section 2.2: PRK = HMAC-Hash(salt, IKM); an empty salt is the
      // same HMAC key as HashLen zeros (HMAC zero-pads keys).
      return hmacBytes(alg, salt, ikm);
    },
    hkdfExpand(alg, prk, info, length) {
      checkHash(alg);
      checkExpand(alg, prk, length);
      // RFC 5869 section 2.3: T(i) = HMAC(PRK, T(i-1) || info || i), OKM = first L bytes of T(1) || T(2) ...
      const hashLength = HASH_LENGTH[alg];
      const okm = new Uint8Array(length);
      let t: Uint8Array = new Uint8Array(0);
      const counter = new Uint8Array(1);
      for (let i = 1, o = 0; o < length; i++, o += hashLength) {
        counter[0] = i;
        t = hmacBytes(alg, prk, t, info, counter);
        okm.set(length - o >= hashLength ? t : t.subarray(0, length - o), o);
      }
      return okm;
    },
    random,
    createHash(alg) {
      checkHash(alg);
      return new NodeHashContext(alg, createHash(alg));
    },
    generateKeyShare(group: NamedGroup) {
      checkGroup(group);
      return group === 'x25519'
        ? new NodeX25519KeyShare(okpPrivateKey('X25519', random(32)))
        : new NodeP256KeyShare(p256PrivateKey(random));
    },
    createSigner: (key: RawPrivateKey) => nodeSigner(key),
    signatureVerifier: new NodeVerifier(),
  };
}
