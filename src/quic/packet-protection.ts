/**
 * QUIC packet protection (RFC 9001 section 5, RFC 9369 section 3.3): Initial
 * secrets, packet protection keys, key updates, AEAD payload protection,
 * header protection, and the Retry integrity tag, for QUIC v1 and v2.
 *
 * Provider-agnostic and portable: every cryptographic operation goes through
 * a {@link CryptoProvider}. Packet parsing is not done here: the caller (the
 * packet codec) says where the packet number starts (`pnOffset`), and
 * packet-number expansion (RFC 9000 appendix A.3) happens on its side; this
 * module hands out the truncated packet number and takes the full one for the
 * nonce.
 *
 * Buffers are protected and unprotected in place: `protect` turns
 * `header || plaintext` into `protected header || ciphertext || tag` inside the
 * caller's buffer, and `unprotect` turns a received packet into
 * `header || plaintext || (16 stale bytes)` and returns a view of the plaintext.
 *
 * Bad input bytes never throw: a packet too short to sample is
 * `{ ok: false, reason: 'short' }`, one that fails authentication is
 * `{ ok: false, reason: 'aead' }`. Both mean "drop the packet" (RFC 9001
 * section 5.5). Only caller mistakes (inconsistent offsets, an unknown
 * version) raise a `UsageError`.
 */
import { UsageError } from '../combinators/errors.js';
import { AEAD_TAG_LENGTH, HP_SAMPLE_LENGTH, hkdfExpandLabel, suiteInfo } from './crypto/provider.js';
import type { Aead, CipherSuite, CryptoProvider, HeaderProtection, PacketNumber } from './crypto/provider.js';

import { QUIC_V1, QUIC_V2, SUPPORTED_VERSIONS } from './version.js';

export { QUIC_V1, QUIC_V2, SUPPORTED_VERSIONS };

/** What differs between QUIC versions at the packet-protection layer. */
export interface QuicVersionParams {
  readonly version: number;
  readonly name: 'v1' | 'v2';
  /** Salt for HKDF-Extract of the Initial secret (RFC 9001 section 5.2; RFC 9369 section 3.3.1). */
  readonly initialSalt: Uint8Array;
  /** HKDF-Expand-Label labels for packet protection (RFC 9001 sections 5.1, 5.4, 6.1; RFC 9369 section 3.3.2). */
  readonly labels: { readonly key: string; readonly iv: string; readonly hp: string; readonly ku: string };
  /** AEAD_AES_128_GCM key of the Retry integrity tag (RFC 9001 section 5.8; RFC 9369 section 3.3.3). */
  readonly retryKey: Uint8Array;
  /** Nonce of the Retry integrity tag (same sections). */
  readonly retryNonce: Uint8Array;
}

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Private table: the byte arrays never leave this module (see {@link quicVersionParams}). */
const VERSIONS = new Map<number, QuicVersionParams>([
  [
    QUIC_V1,
    {
      version: QUIC_V1,
      name: 'v1',
      // RFC 9001 section 5.2.
      initialSalt: hex('38762cf7f55934b34d179ae6a4c80cadccbb7f0a'),
      // RFC 9001 sections 5.1, 5.4, 6.1.
      labels: { key: 'quic key', iv: 'quic iv', hp: 'quic hp', ku: 'quic ku' },
      // RFC 9001 section 5.8.
      retryKey: hex('be0c690b9f66575a1d766b54e368c84e'),
      retryNonce: hex('461599d35d632bf2239825bb'),
    },
  ],
  [
    QUIC_V2,
    {
      version: QUIC_V2,
      name: 'v2',
      // RFC 9369 section 3.3.1.
      initialSalt: hex('0dede3def700a6db819381be6e269dcbf9bd2ed9'),
      // RFC 9369 section 3.3.2.
      labels: { key: 'quicv2 key', iv: 'quicv2 iv', hp: 'quicv2 hp', ku: 'quicv2 ku' },
      // RFC 9369 section 3.3.3.
      retryKey: hex('8fb4b01b56ac48e260fbcbcead7ccc92'),
      retryNonce: hex('d86969bc2d7c6d9990efb04a'),
    },
  ],
]);

/** `true` for QUIC v1 and v2. A version read from a packet should be checked with this first. */
export function isSupportedVersion(version: number): boolean {
  return VERSIONS.has(version);
}

/** The parameters of `version` (fresh copies of the byte arrays), or `undefined` if unsupported. */
export function quicVersionParams(version: number): QuicVersionParams | undefined {
  const v = VERSIONS.get(version);
  if (v === undefined) return undefined;
  return { ...v, initialSalt: v.initialSalt.slice(), retryKey: v.retryKey.slice(), retryNonce: v.retryNonce.slice() };
}

function versionParams(version: number): QuicVersionParams {
  const v = VERSIONS.get(version);
  if (v === undefined)
    throw new UsageError(`QUIC version 0x${(version >>> 0).toString(16)} is not supported (check isSupportedVersion first)`);
  return v;
}

/** Initial packets always use AEAD_AES_128_GCM with SHA-256 (RFC 9001 section 5.2). */
export const INITIAL_SUITE: CipherSuite = 'TLS_AES_128_GCM_SHA256';

/** The two Initial secrets (RFC 9001 section 5.2). */
export interface InitialSecrets {
  /** client_initial_secret: protects packets the client sends. */
  readonly client: Uint8Array;
  /** server_initial_secret: protects packets the server sends. */
  readonly server: Uint8Array;
}

/**
 * RFC 9001 section 5.2:
 * ```
 * initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id)
 * client_initial_secret = HKDF-Expand-Label(initial_secret, "client in", "", Hash.length)
 * server_initial_secret = HKDF-Expand-Label(initial_secret, "server in", "", Hash.length)
 * ```
 * `dcid` is the Destination Connection ID of the client's first Initial packet.
 */
export function initialSecrets(provider: CryptoProvider, version: number, dcid: Uint8Array): InitialSecrets {
  const v = versionParams(version);
  const initialSecret = provider.hkdfExtract('sha256', v.initialSalt, dcid);
  const empty = new Uint8Array(0);
  return {
    client: hkdfExpandLabel(provider, 'sha256', initialSecret, 'client in', empty, 32),
    server: hkdfExpandLabel(provider, 'sha256', initialSecret, 'server in', empty, 32),
  };
}

/** The raw key material derived from one traffic secret. */
export interface PacketKeyMaterial {
  /** AEAD key (RFC 9001 section 5.1, label "quic key"). */
  readonly key: Uint8Array;
  /** AEAD IV (label "quic iv"). */
  readonly iv: Uint8Array;
  /** Header protection key (section 5.4, label "quic hp"). */
  readonly hp: Uint8Array;
}

/** Derives key, IV and hp key from a traffic secret (RFC 9001 sections 5.1 and 5.4; RFC 9369 section 3.3.2 for v2 labels). */
export function deriveKeys(provider: CryptoProvider, version: number, suite: CipherSuite, secret: Uint8Array): PacketKeyMaterial {
  const v = versionParams(version);
  const info = suiteInfo(suite);
  const empty = new Uint8Array(0);
  return {
    key: hkdfExpandLabel(provider, info.hash, secret, v.labels.key, empty, info.keyLength),
    iv: hkdfExpandLabel(provider, info.hash, secret, v.labels.iv, empty, info.ivLength),
    hp: hkdfExpandLabel(provider, info.hash, secret, v.labels.hp, empty, info.keyLength),
  };
}

/**
 * The secret of the next key phase (RFC 9001 section 6.1):
 * `secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku", "", Hash.length)`
 * ("quicv2 ku" for v2). The header protection key does not change.
 */
export function nextGenerationSecret(provider: CryptoProvider, version: number, suite: CipherSuite, secret: Uint8Array): Uint8Array {
  const v = versionParams(version);
  const info = suiteInfo(suite);
  return hkdfExpandLabel(provider, info.hash, secret, v.labels.ku, new Uint8Array(0), info.hashLength);
}

/** The two contexts protect/unprotect need. */
export interface ProtectionContexts {
  readonly aead: Aead;
  readonly hp: HeaderProtection;
}

/** Ready-to-use keys for one direction and one encryption level / key phase. */
export interface PacketKeys extends ProtectionContexts {
  readonly version: number;
  readonly suite: CipherSuite;
  /** The traffic secret of this key phase: the input of the next key update. */
  readonly secret: Uint8Array;
}

/** Derives keys from `secret` and creates their AEAD and header-protection contexts. */
export function createPacketKeys(provider: CryptoProvider, version: number, suite: CipherSuite, secret: Uint8Array): PacketKeys {
  const m = deriveKeys(provider, version, suite, secret);
  return {
    version,
    suite,
    secret: secret.slice(),
    aead: provider.aead(suite, m.key, m.iv),
    hp: provider.headerProtection(suite, m.hp),
  };
}

/**
 * Keys of the next key phase (RFC 9001 section 6.1): a new secret, key and IV;
 * the header protection context is shared with `keys`, because "the header
 * protection key is not updated".
 */
export function nextPacketKeys(provider: CryptoProvider, keys: PacketKeys): PacketKeys {
  const secret = nextGenerationSecret(provider, keys.version, keys.suite, keys.secret);
  const m = deriveKeys(provider, keys.version, keys.suite, secret);
  return { version: keys.version, suite: keys.suite, secret, aead: provider.aead(keys.suite, m.key, m.iv), hp: keys.hp };
}

/** Client and server Initial keys for a connection whose client chose `dcid` (RFC 9001 section 5.2). */
export function initialPacketKeys(provider: CryptoProvider, version: number, dcid: Uint8Array): { client: PacketKeys; server: PacketKeys } {
  const s = initialSecrets(provider, version, dcid);
  return {
    client: createPacketKeys(provider, version, INITIAL_SUITE, s.client),
    server: createPacketKeys(provider, version, INITIAL_SUITE, s.server),
  };
}

/**
 * Bits of the first byte covered by header protection (RFC 9001 section 5.4.1):
 * the low 4 bits of a long header (reserved bits + packet number length), the
 * low 5 of a short header (reserved bits + key phase + packet number length).
 */
function firstByteMask(firstByte: number): number {
  return (firstByte & 0x80) !== 0 ? 0x0f : 0x1f;
}

/**
 * Protects a packet in place and returns its total length.
 *
 * On entry, `packet[0 .. pnOffset + pnLength)` is the complete unprotected
 * header (with the truncated packet number already encoded and, for a long
 * header, a Length field that counts the 16-byte tag), and
 * `packet[pnOffset + pnLength .. payloadEnd)` is the plaintext payload.
 * `packet` must have 16 bytes of room after `payloadEnd` for the tag.
 * `pn` is the full packet number, used for the nonce (RFC 9001 section 5.3).
 *
 * Steps: AEAD-seal the payload with the header as AAD (section 5.3), then
 * sample the ciphertext 4 bytes after `pnOffset` and mask the first byte and
 * the packet number (sections 5.4.1, 5.4.2).
 *
 * The caller must have padded the payload so that the packet number plus the
 * payload is at least 4 bytes (section 5.4.2); anything else here is a
 * `UsageError`, since it is the sender's own mistake.
 */
export function protect(
  packet: Uint8Array,
  pnOffset: number,
  pnLength: number,
  payloadEnd: number,
  pn: PacketNumber,
  keys: ProtectionContexts,
): number {
  if (!Number.isInteger(pnOffset) || pnOffset < 1) throw new UsageError(`pnOffset ${pnOffset} is not a positive integer`);
  if (!Number.isInteger(pnLength) || pnLength < 1 || pnLength > 4) throw new UsageError(`packet number length ${pnLength} is not 1..4`);
  // The length is encoded in the first byte (RFC 9000 sections 17.2 and 17.3).
  if ((packet[0]! & 0x03) + 1 !== pnLength)
    throw new UsageError(`first byte encodes a ${(packet[0]! & 0x03) + 1}-byte packet number, not ${pnLength}`);
  const headerEnd = pnOffset + pnLength;
  if (!Number.isInteger(payloadEnd) || payloadEnd < headerEnd)
    throw new UsageError(`payloadEnd ${payloadEnd} is before the end of the header (${headerEnd})`);
  const end = payloadEnd + AEAD_TAG_LENGTH;
  if (packet.length < end) throw new UsageError(`packet buffer has ${packet.length} bytes, ${end} needed for the payload and tag`);
  // RFC 9001 section 5.4.2: the sample starts 4 bytes after pnOffset and must fit in the packet.
  if (pnOffset + 4 + HP_SAMPLE_LENGTH > end) {
    throw new UsageError(
      `packet number + payload is ${payloadEnd - pnOffset} bytes; at least 4 are needed for the header protection sample (pad it)`,
    );
  }
  keys.aead.seal(pn, packet.subarray(0, headerEnd), packet.subarray(headerEnd, payloadEnd), packet.subarray(headerEnd, end));
  const mask = keys.hp.mask(packet.subarray(pnOffset + 4, pnOffset + 4 + HP_SAMPLE_LENGTH));
  packet[0] = packet[0]! ^ (mask[0]! & firstByteMask(packet[0]!));
  for (let i = 0; i < pnLength; i++) packet[pnOffset + i] = packet[pnOffset + i]! ^ mask[1 + i]!;
  return end;
}

/** Result of {@link removeHeaderProtection}. */
export type HeaderProtectionResult =
  | {
      readonly ok: true;
      /** The first byte after removal (reserved bits, key phase, packet number length). */
      readonly firstByte: number;
      /** Encoded packet number length, 1..4. */
      readonly pnLength: number;
      /** The packet number as encoded on the wire (to be expanded, RFC 9000 appendix A.3). */
      readonly truncatedPn: number;
    }
  | { readonly ok: false; readonly reason: 'short' };

const SHORT: { readonly ok: false; readonly reason: 'short' } = Object.freeze({ ok: false, reason: 'short' });
const AEAD_FAILED: { readonly ok: false; readonly reason: 'aead' } = Object.freeze({ ok: false, reason: 'aead' });

function checkPnOffset(pnOffset: number): void {
  if (!Number.isInteger(pnOffset) || pnOffset < 1) throw new UsageError(`pnOffset ${pnOffset} is not a positive integer`);
}

/**
 * Removes header protection in place (RFC 9001 sections 5.4.1, 5.4.2).
 * `packet` is exactly one QUIC packet (for a long header, as delimited by its
 * Length field); `pnOffset` is where its packet number starts.
 * A packet too short for a sample is `{ ok: false, reason: 'short' }` and is
 * left untouched (section 5.4.2: such packets are discarded).
 *
 * Use this with {@link decryptPayload} when the keys depend on the first byte
 * (the key phase bit, RFC 9001 section 6); otherwise {@link unprotect} does both.
 */
export function removeHeaderProtection(packet: Uint8Array, pnOffset: number, hp: HeaderProtection): HeaderProtectionResult {
  const r = unmaskHeader(packet, pnOffset, hp);
  if (r < 0) return SHORT;
  const firstByte = unmaskedFirstByte(r);
  return { ok: true, firstByte, pnLength: (firstByte & 0x03) + 1, truncatedPn: unmaskedTruncatedPn(r) };
}

/**
 * @internal {@link removeHeaderProtection} without a result object, for the
 * per-packet path of packet-io: -1 for a packet too short to sample, else
 * `firstByte * 2^32 + truncatedPn` (40 bits, exact in a number); read it with
 * {@link unmaskedFirstByte} and {@link unmaskedTruncatedPn}.
 */
export function unmaskHeader(packet: Uint8Array, pnOffset: number, hp: HeaderProtection): number {
  checkPnOffset(pnOffset);
  if (packet.length < pnOffset + 4 + HP_SAMPLE_LENGTH) return -1;
  const mask = hp.mask(packet.subarray(pnOffset + 4, pnOffset + 4 + HP_SAMPLE_LENGTH));
  const firstByte = packet[0]! ^ (mask[0]! & firstByteMask(packet[0]!));
  packet[0] = firstByte;
  const pnLength = (firstByte & 0x03) + 1;
  let truncatedPn = 0;
  for (let i = 0; i < pnLength; i++) {
    const b = packet[pnOffset + i]! ^ mask[1 + i]!;
    packet[pnOffset + i] = b;
    truncatedPn = truncatedPn * 256 + b;
  }
  return firstByte * 0x100000000 + truncatedPn;
}

/** @internal The first byte packed in an {@link unmaskHeader} result. */
export function unmaskedFirstByte(r: number): number {
  return Math.floor(r / 0x100000000);
}

/** @internal The truncated packet number packed in an {@link unmaskHeader} result. */
export function unmaskedTruncatedPn(r: number): number {
  return r % 0x100000000;
}

/** Result of {@link decryptPayload}. */
export type DecryptResult = { readonly ok: true; readonly payload: Uint8Array } | { readonly ok: false; readonly reason: 'aead' };

/**
 * Opens the payload of a packet whose header protection is already removed
 * (RFC 9001 section 5.3): AAD = `packet[0 .. pnOffset + pnLength)`, ciphertext
 * and tag = the rest of `packet`, nonce from the full packet number `pn`.
 * The plaintext is written in place; `payload` is a view of it inside `packet`
 * (valid as long as `packet` is). On failure `packet` is unchanged.
 */
export function decryptPayload(packet: Uint8Array, pnOffset: number, pnLength: number, pn: PacketNumber, aead: Aead): DecryptResult {
  const payload = openPayload(packet, pnOffset, pnLength, pn, aead);
  return payload === null ? AEAD_FAILED : { ok: true, payload };
}

/** @internal {@link decryptPayload} without a result object: the payload, or null when the AEAD fails. */
export function openPayload(packet: Uint8Array, pnOffset: number, pnLength: number, pn: PacketNumber, aead: Aead): Uint8Array | null {
  checkPnOffset(pnOffset);
  const headerEnd = pnOffset + pnLength;
  if (packet.length < headerEnd + AEAD_TAG_LENGTH) return null;
  const out = packet.subarray(headerEnd, packet.length - AEAD_TAG_LENGTH);
  const n = aead.open(pn, packet.subarray(0, headerEnd), packet.subarray(headerEnd), out);
  if (n === null) return null;
  return out.length === n ? out : out.subarray(0, n);
}

/** Result of {@link unprotect}. */
export type UnprotectResult =
  | {
      readonly ok: true;
      /** The first byte after header protection removal. */
      readonly firstByte: number;
      readonly pnLength: number;
      /** The packet number as encoded on the wire. */
      readonly truncatedPn: number;
      /** The full packet number `expandPn` returned (and the nonce used). */
      readonly pn: PacketNumber;
      /** The decrypted payload: a view inside `packet`. */
      readonly payload: Uint8Array;
    }
  | { readonly ok: false; readonly reason: 'short' | 'aead' };

/**
 * Removes header protection and decrypts a packet in place.
 *
 * `expandPn(truncatedPn, pnLength)` turns the wire packet number into the full
 * one (RFC 9000 appendix A.3, done by the packet codec against the largest
 * packet number received so far). On any failure the packet bytes are
 * restored exactly as received, so the caller may try other keys.
 * Never throws on bad packet bytes.
 */
export function unprotect(
  packet: Uint8Array,
  pnOffset: number,
  keys: ProtectionContexts,
  expandPn: (truncatedPn: number, pnLength: number) => PacketNumber,
): UnprotectResult {
  // The protected bytes, to put back if decryption fails (a packet longer
  // than a sample always has these 4 bytes; a shorter one is never modified).
  const b0 = packet[0] ?? 0;
  const p0 = packet[pnOffset] ?? 0;
  const p1 = packet[pnOffset + 1] ?? 0;
  const p2 = packet[pnOffset + 2] ?? 0;
  const p3 = packet[pnOffset + 3] ?? 0;
  const h = removeHeaderProtection(packet, pnOffset, keys.hp);
  if (!h.ok) return h;
  const pn = expandPn(h.truncatedPn, h.pnLength);
  const d = decryptPayload(packet, pnOffset, h.pnLength, pn, keys.aead);
  if (!d.ok) {
    packet[0] = b0;
    packet[pnOffset] = p0;
    if (h.pnLength > 1) packet[pnOffset + 1] = p1;
    if (h.pnLength > 2) packet[pnOffset + 2] = p2;
    if (h.pnLength > 3) packet[pnOffset + 3] = p3;
    return d;
  }
  return { ok: true, firstByte: h.firstByte, pnLength: h.pnLength, truncatedPn: h.truncatedPn, pn, payload: d.payload };
}

/** Length of the Retry Integrity Tag (RFC 9001 section 5.8). */
export const RETRY_INTEGRITY_TAG_LENGTH = 16;

/** The Retry Pseudo-Packet of RFC 9001 section 5.8: ODCID Length (1) || ODCID || Retry packet without its tag. */
function retryPseudoPacket(originalDcid: Uint8Array, retryWithoutTag: Uint8Array): Uint8Array {
  if (originalDcid.length > 255) throw new UsageError(`original destination connection ID has ${originalDcid.length} bytes (max 255)`);
  const p = new Uint8Array(1 + originalDcid.length + retryWithoutTag.length);
  p[0] = originalDcid.length;
  p.set(originalDcid, 1);
  p.set(retryWithoutTag, 1 + originalDcid.length);
  return p;
}

function retryAead(provider: CryptoProvider, version: number): Aead {
  const v = versionParams(version);
  // RFC 9001 section 5.8: AEAD_AES_128_GCM with a fixed key and nonce; the
  // nonce is passed as the IV and packet number 0 leaves it unchanged.
  return provider.aead('TLS_AES_128_GCM_SHA256', v.retryKey, v.retryNonce);
}

/**
 * The Retry Integrity Tag (RFC 9001 section 5.8; RFC 9369 section 3.3.3 for
 * v2): the AEAD tag over an empty plaintext with the Retry Pseudo-Packet as
 * AAD. `retryWithoutTag` is the Retry packet up to (not including) the tag;
 * `originalDcid` is the Destination Connection ID of the client's Initial.
 */
export function retryIntegrityTag(
  provider: CryptoProvider,
  version: number,
  originalDcid: Uint8Array,
  retryWithoutTag: Uint8Array,
): Uint8Array {
  const aead = retryAead(provider, version);
  const tag = new Uint8Array(RETRY_INTEGRITY_TAG_LENGTH);
  aead.seal(0, retryPseudoPacket(originalDcid, retryWithoutTag), new Uint8Array(0), tag);
  return tag;
}

/**
 * Checks the tag of a whole Retry packet (the tag is its last 16 bytes).
 * `false` for a packet shorter than a tag or a wrong tag: the client discards
 * such a Retry (RFC 9001 section 5.8, RFC 9000 section 17.2.5.2).
 */
export function verifyRetryIntegrity(
  provider: CryptoProvider,
  version: number,
  originalDcid: Uint8Array,
  retryPacket: Uint8Array,
): boolean {
  if (retryPacket.length < RETRY_INTEGRITY_TAG_LENGTH) return false;
  const aead = retryAead(provider, version);
  const split = retryPacket.length - RETRY_INTEGRITY_TAG_LENGTH;
  // Opening an empty plaintext checks the tag in constant time inside the AEAD.
  return (
    aead.open(0, retryPseudoPacket(originalDcid, retryPacket.subarray(0, split)), retryPacket.subarray(split), new Uint8Array(0)) === 0
  );
}
