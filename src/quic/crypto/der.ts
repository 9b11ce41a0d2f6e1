/**
 * The little DER (ITU-T X.690) the handshake needs without a certificate library: reading a
 * SubjectPublicKeyInfo (RFC 5280 section 4.1.2.7) to verify CertificateVerify signatures in the
 * portable provider, finding the SubjectPublicKeyInfo inside a certificate, and writing the
 * SubjectPublicKeyInfo of the key types we sign with.
 *
 * This is not an X.509 validator: chain building, names, dates and extensions are the job of the
 * certificate verifier (node:crypto's X509Certificate in the Node provider, a user-supplied
 * verifier in the portable one). It only has to be safe on any input: every malformed structure is
 * a {@link CryptoError}, never a RangeError or an out-of-bounds read.
 */
import { CryptoError, type CryptoErrorCode } from './provider.js';

/** One DER element: its tag byte, its content, and the whole encoding (tag, length, content). */
export interface DerElement {
  readonly tag: number;
  readonly value: Uint8Array;
  readonly whole: Uint8Array;
}

/** DER tags used here (X.690 section 8; context-specific constructed tags are 0xa0 + n). */
export const DER_TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
  CONTEXT_0: 0xa0,
} as const;

/** Longest element accepted: certificates and keys are far below 16 MiB; the cap keeps lengths in safe arithmetic. */
const MAX_DER_LENGTH = 0xffffff;

/**
 * A cursor over DER elements in `bytes`. Errors carry the code given to the constructor, so a
 * malformed key and a malformed certificate are reported as what they are.
 */
export class DerReader {
  private pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly code: CryptoErrorCode,
  ) {}

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** The tag of the next element, or -1 at the end. */
  peekTag(): number {
    return this.pos < this.bytes.length ? this.bytes[this.pos]! : -1;
  }

  /** Reads the next element; `tag` (when given) must match. */
  read(tag?: number): DerElement {
    const b = this.bytes;
    const start = this.pos;
    if (start + 2 > b.length) throw this.fail(`truncated element at ${start}`);
    const t = b[start]!;
    // X.690 8.1.2.4: tag number 31 means a multi-byte tag; nothing we read uses one.
    if ((t & 0x1f) === 0x1f) throw this.fail(`multi-byte tag at ${start}`);
    if (tag !== undefined && t !== tag) throw this.fail(`tag 0x${t.toString(16)} at ${start}, 0x${tag.toString(16)} expected`);
    let len = b[start + 1]!;
    let at = start + 2;
    if (len >= 0x80) {
      const n = len & 0x7f;
      // 0x80 is the BER indefinite form, which DER forbids (X.690 10.1); more than 3 length bytes is over our cap.
      if (n === 0 || n > 3) throw this.fail(`unsupported length form 0x${len.toString(16)} at ${start}`);
      if (at + n > b.length) throw this.fail(`truncated length at ${start}`);
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[at + i]!;
      at += n;
    }
    if (len > MAX_DER_LENGTH || at + len > b.length) throw this.fail(`element at ${start} claims ${len} bytes, ${b.length - at} left`);
    this.pos = at + len;
    return { tag: t, value: b.subarray(at, at + len), whole: b.subarray(start, at + len) };
  }

  /** Reads an element and returns a reader over its content (for SEQUENCE and constructed context tags). */
  enter(tag: number): DerReader {
    return new DerReader(this.read(tag).value, this.code);
  }

  /** Raises unless every byte was read. */
  end(): void {
    if (!this.done) throw this.fail(`${this.bytes.length - this.pos} bytes after the last element`);
  }

  fail(detail: string): CryptoError {
    return new CryptoError(this.code, `DER: ${detail}`);
  }
}

/** Dotted form of an OBJECT IDENTIFIER's content (X.690 8.19), for messages and comparisons. */
export function oidToString(content: Uint8Array): string {
  if (content.length === 0) return '';
  const parts: number[] = [];
  let v = 0;
  for (const byte of content) {
    v = v * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
    if (v > Number.MAX_SAFE_INTEGER / 128) return '?';
  }
  const first = parts[0] ?? 0;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts.slice(1)].join('.');
}

/** OIDs of the key algorithms and hashes the handshake knows (RFC 5480, RFC 8410, RFC 8017, RFC 4055). */
export const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  ed25519: '1.3.101.112',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const;

/** The hash named in RSASSA-PSS key parameters (RFC 4055 section 3.1; absent `hashAlgorithm` means SHA-1). */
export type PssParamsHash = 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'other';

/** What a SubjectPublicKeyInfo holds, for the key types the handshake can verify with. */
export type PublicKeyInfo =
  /** id-ecPublicKey on prime256v1 (RFC 5480), `point` = the 65-byte uncompressed point. */
  | { readonly kind: 'ecdsa-p256'; readonly point: Uint8Array }
  /** RFC 8410: the 32-byte public key. */
  | { readonly kind: 'ed25519'; readonly key: Uint8Array }
  /** rsaEncryption (RFC 8017 appendix A.1): modulus and exponent, big-endian without sign byte. */
  | { readonly kind: 'rsa'; readonly n: Uint8Array; readonly e: Uint8Array }
  /**
   * id-RSASSA-PSS (RFC 4055 section 3.1). `hash` is the hash the key is restricted to, or null when the
   * parameters are absent (the key may be used with any PSS parameters).
   */
  | { readonly kind: 'rsa-pss'; readonly n: Uint8Array; readonly e: Uint8Array; readonly hash: PssParamsHash | null }
  /** Any other algorithm or curve: the dotted OIDs, for the error message. */
  | { readonly kind: 'unsupported'; readonly algorithm: string };

/** Strips the sign byte of a DER INTEGER; raises for a negative or empty one (keys are positive). */
function unsignedInteger(r: DerReader, e: DerElement): Uint8Array {
  const v = e.value;
  if (v.length === 0 || (v[0]! & 0x80) !== 0) throw r.fail('negative or empty INTEGER in a public key');
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  return v.subarray(i);
}

function readRsaPublicKey(r: DerReader, bits: Uint8Array): { n: Uint8Array; e: Uint8Array } {
  const inner = new DerReader(bits, 'ERR_INVALID_PUBLIC_KEY');
  const seq = inner.enter(DER_TAG.SEQUENCE);
  inner.end();
  const n = unsignedInteger(r, seq.read(DER_TAG.INTEGER));
  const e = unsignedInteger(r, seq.read(DER_TAG.INTEGER));
  seq.end();
  return { n, e };
}

function hashOfOid(oid: string): PssParamsHash {
  switch (oid) {
    case OID.sha1:
      return 'sha1';
    case OID.sha256:
      return 'sha256';
    case OID.sha384:
      return 'sha384';
    case OID.sha512:
      return 'sha512';
    default:
      return 'other';
  }
}

/** The hashAlgorithm of RSASSA-PSS-params (RFC 4055 section 3.1), SHA-1 when absent. */
function readPssHash(params: DerElement): PssParamsHash {
  const r = new DerReader(params.value, 'ERR_INVALID_PUBLIC_KEY');
  if (r.peekTag() !== DER_TAG.CONTEXT_0) return 'sha1';
  const explicit = r.enter(DER_TAG.CONTEXT_0);
  const alg = explicit.enter(DER_TAG.SEQUENCE);
  return hashOfOid(oidToString(alg.read(DER_TAG.OID).value));
}

/**
 * Reads a DER SubjectPublicKeyInfo (RFC 5280 section 4.1.2.7):
 *
 * ```
 * SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
 * AlgorithmIdentifier  ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }
 * ```
 *
 * Raises `ERR_INVALID_PUBLIC_KEY` for a malformed structure; an algorithm it does not know is not an
 * error but `{ kind: 'unsupported' }`.
 */
export function readSubjectPublicKeyInfo(spki: Uint8Array): PublicKeyInfo {
  const top = new DerReader(spki, 'ERR_INVALID_PUBLIC_KEY');
  const seq = top.enter(DER_TAG.SEQUENCE);
  top.end();
  const alg = seq.enter(DER_TAG.SEQUENCE);
  const oid = oidToString(alg.read(DER_TAG.OID).value);
  const params = alg.done ? null : alg.read();
  alg.end();
  const bitString = seq.read(DER_TAG.BIT_STRING).value;
  seq.end();
  // X.690 8.6.2: the first content byte counts unused bits in the last byte; a key is whole bytes.
  if (bitString.length === 0 || bitString[0] !== 0) throw seq.fail('subjectPublicKey BIT STRING with unused bits');
  const bits = bitString.subarray(1);
  switch (oid) {
    case OID.ecPublicKey: {
      const curve = params !== null && params.tag === DER_TAG.OID ? oidToString(params.value) : '?';
      if (curve !== OID.prime256v1) return { kind: 'unsupported', algorithm: `${oid} (curve ${curve})` };
      // RFC 5480 section 2.2: the point as an ECPoint octet string; only the uncompressed form is used here.
      if (bits.length !== 65 || bits[0] !== 0x04) return { kind: 'unsupported', algorithm: `${oid} (compressed or malformed point)` };
      return { kind: 'ecdsa-p256', point: bits };
    }
    case OID.ed25519:
      // RFC 8410 section 3: parameters MUST be absent; the key is 32 bytes.
      if (params !== null) throw seq.fail('Ed25519 AlgorithmIdentifier with parameters');
      if (bits.length !== 32) throw seq.fail(`Ed25519 key of ${bits.length} bytes`);
      return { kind: 'ed25519', key: bits };
    case OID.rsaEncryption:
      return { kind: 'rsa', ...readRsaPublicKey(seq, bits) };
    case OID.rsassaPss: {
      const hash = params === null ? null : params.tag === DER_TAG.SEQUENCE ? readPssHash(params) : 'other';
      return { kind: 'rsa-pss', ...readRsaPublicKey(seq, bits), hash };
    }
    default:
      return { kind: 'unsupported', algorithm: oid };
  }
}

/**
 * The DER SubjectPublicKeyInfo inside a DER X.509 certificate (RFC 5280 section 4.1), as a view of
 * `certificate`. Only the structure up to that field is checked. Raises `ERR_INVALID_CERTIFICATE`.
 *
 * ```
 * Certificate  ::= SEQUENCE { tbsCertificate TBSCertificate, signatureAlgorithm, signatureValue }
 * TBSCertificate ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, serialNumber, signature,
 *                               issuer, validity, subject, subjectPublicKeyInfo, ... }
 * ```
 */
export function certificatePublicKey(certificate: Uint8Array): Uint8Array {
  const top = new DerReader(certificate, 'ERR_INVALID_CERTIFICATE');
  const cert = top.enter(DER_TAG.SEQUENCE);
  top.end();
  const tbs = cert.enter(DER_TAG.SEQUENCE);
  if (tbs.peekTag() === DER_TAG.CONTEXT_0) tbs.read(DER_TAG.CONTEXT_0);
  tbs.read(DER_TAG.INTEGER); // serialNumber
  tbs.read(DER_TAG.SEQUENCE); // signature
  tbs.read(DER_TAG.SEQUENCE); // issuer
  tbs.read(DER_TAG.SEQUENCE); // validity
  tbs.read(DER_TAG.SEQUENCE); // subject
  return tbs.read(DER_TAG.SEQUENCE).whole;
}

/** DER prefix of a P-256 SubjectPublicKeyInfo, up to the 65-byte point (RFC 5480 section 2). */
// prettier-ignore
const P256_SPKI_PREFIX = Uint8Array.of(
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
  0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
);
/** DER prefix of an Ed25519 SubjectPublicKeyInfo, up to the 32-byte key (RFC 8410 section 4). */
const ED25519_SPKI_PREFIX = Uint8Array.of(0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00);

function prefixed(prefix: Uint8Array, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + key.length);
  out.set(prefix, 0);
  out.set(key, prefix.length);
  return out;
}

/** The SubjectPublicKeyInfo of a P-256 public key given as its 65-byte uncompressed point. */
export function p256SubjectPublicKeyInfo(point: Uint8Array): Uint8Array {
  if (point.length !== 65 || point[0] !== 0x04)
    throw new CryptoError('ERR_INVALID_PUBLIC_KEY', 'P-256 point is not 65 bytes starting with 0x04');
  return prefixed(P256_SPKI_PREFIX, point);
}

/** The SubjectPublicKeyInfo of a 32-byte Ed25519 public key. */
export function ed25519SubjectPublicKeyInfo(key: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new CryptoError('ERR_INVALID_PUBLIC_KEY', `Ed25519 public key of ${key.length} bytes`);
  return prefixed(ED25519_SPKI_PREFIX, key);
}
