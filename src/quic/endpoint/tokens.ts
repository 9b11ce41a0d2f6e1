/**
 * What an endpoint answers without connection state: Retry tokens (RFC 9000
 * section 8.1.2), stateless reset tokens and packets (section 10.3), and
 * Version Negotiation packets (section 6.1).
 *
 * Retry tokens are sealed with an AEAD under a key only this endpoint knows,
 * so a token proves that the client received our Retry at the address it
 * claims, and carries what the connection needs afterwards: the client's
 * original Destination Connection ID and the Retry's Source Connection ID
 * (RFC 9000 section 7.3 transport parameters).
 */
import { Writer } from '../../combinators/writer.js';
import type { Aead, CryptoProvider } from '../crypto/provider.js';
import type { SocketAddress } from '../connection/events.js';
import { encodeRetry, encodeVersionNegotiation } from '../packet.js';
import { retryIntegrityTag } from '../packet-protection.js';
import { SUPPORTED_VERSIONS } from '../version.js';

const UTF8 = new TextEncoder();
/** First byte of our tokens: a format version, so a future format can tell old tokens apart. */
const TOKEN_FORMAT = 0x01;
const NONCE_LENGTH = 6;
const TAG_LENGTH = 16;

/** What a valid Retry token says. */
export interface RetryTokenContents {
  /** The Destination Connection ID of the client's first Initial. */
  readonly originalDcid: Uint8Array;
  /** The Source Connection ID of our Retry (the client's DCID since). */
  readonly retryScid: Uint8Array;
}

/** Seals and opens Retry tokens bound to the client's address and to time. */
export class RetryTokens {
  private readonly aead: Aead;
  private readonly provider: CryptoProvider;
  private readonly lifetime: number;

  /** `key`: 16 secret bytes; `lifetime`: ms a token stays valid (RFC 9000 section 8.1.3: Retry tokens are short-lived). */
  constructor(provider: CryptoProvider, key: Uint8Array, lifetime: number) {
    this.provider = provider;
    // A fixed IV: the nonce is the random 48-bit "packet number" carried in the token (iv XOR pn).
    this.aead = provider.aead('TLS_AES_128_GCM_SHA256', key, provider.hkdfExpand('sha256', pad32(key), UTF8.encode('retry iv'), 12));
    this.lifetime = lifetime;
  }

  seal(address: SocketAddress, contents: RetryTokenContents, now: number): Uint8Array {
    const w = new Writer();
    w.f64be(now);
    w.u8(contents.originalDcid.length).bytes(contents.originalDcid);
    w.u8(contents.retryScid.length).bytes(contents.retryScid);
    const plain = w.toBytes();
    const nonce = this.provider.random(NONCE_LENGTH);
    const out = new Uint8Array(1 + NONCE_LENGTH + plain.length + TAG_LENGTH);
    out[0] = TOKEN_FORMAT;
    out.set(nonce, 1);
    this.aead.seal(nonceNumber(nonce), addressAad(address), plain, out.subarray(1 + NONCE_LENGTH));
    return out;
  }

  /** The token's contents if it is ours, for this address, and not expired; null otherwise. */
  open(address: SocketAddress, token: Uint8Array, now: number): RetryTokenContents | null {
    if (token.length < 1 + NONCE_LENGTH + TAG_LENGTH + 10 || token[0] !== TOKEN_FORMAT) return null;
    const nonce = token.subarray(1, 1 + NONCE_LENGTH);
    const sealed = token.subarray(1 + NONCE_LENGTH);
    const plain = new Uint8Array(sealed.length - TAG_LENGTH);
    if (this.aead.open(nonceNumber(nonce), addressAad(address), sealed, plain) === null) return null;
    const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
    const issued = view.getFloat64(0);
    if (!(now >= issued - 1000 && now <= issued + this.lifetime)) return null;
    let at = 8;
    const odcidLength = plain[at++]!;
    if (at + odcidLength + 1 > plain.length) return null;
    const originalDcid = plain.slice(at, at + odcidLength);
    at += odcidLength;
    const rscidLength = plain[at++]!;
    if (at + rscidLength !== plain.length) return null;
    return { originalDcid, retryScid: plain.slice(at, at + rscidLength) };
  }
}

/** A Retry packet (RFC 9000 section 17.2.5) answering a client Initial. */
export function encodeRetryPacket(
  provider: CryptoProvider,
  version: number,
  clientDcid: Uint8Array,
  clientScid: Uint8Array,
  retryScid: Uint8Array,
  token: Uint8Array,
): Uint8Array {
  // The tag covers the packet without the tag: write it once with a placeholder, then with the tag.
  const fields = { version, dcid: clientScid, scid: retryScid, token, integrityTag: new Uint8Array(16) };
  const w = new Writer();
  encodeRetry(w, fields);
  const withPlaceholder = w.toBytes();
  const tag = retryIntegrityTag(provider, version, clientDcid, withPlaceholder.subarray(0, withPlaceholder.length - 16));
  withPlaceholder.set(tag, withPlaceholder.length - 16);
  return withPlaceholder;
}

/** A Version Negotiation packet (RFC 9000 section 17.2.1) listing our versions. */
export function encodeVersionNegotiationPacket(
  provider: CryptoProvider,
  clientDcid: Uint8Array,
  clientScid: Uint8Array,
  supported: readonly number[] = SUPPORTED_VERSIONS,
): Uint8Array {
  const w = new Writer();
  // The DCID/SCID are the client's swapped (RFC 8999 section 6); the unused bits are random.
  encodeVersionNegotiation(w, {
    dcid: clientScid,
    scid: clientDcid,
    versions: [...supported, greaseVersion(provider)],
    unusedBits: provider.random(1)[0]! & 0x7f,
  });
  return w.toBytes();
}

/** A reserved version 0x?a?a?a?a (RFC 9000 section 15) so clients do not ossify on our list. */
function greaseVersion(provider: CryptoProvider): number {
  const r = provider.random(4);
  return (
    (((r[0]! & 0xf0) | 0x0a) * 0x1000000 + (((r[1]! & 0xf0) | 0x0a) << 16) + (((r[2]! & 0xf0) | 0x0a) << 8) + ((r[3]! & 0xf0) | 0x0a)) >>> 0
  );
}

/**
 * Stateless reset tokens derived from a static key (RFC 9000 section
 * 10.3.2): the same connection ID always gives the same token, so an endpoint
 * that lost its state (a restart with the same key) can still reset.
 */
export class ResetTokens {
  private readonly provider: CryptoProvider;
  private readonly key: Uint8Array;

  constructor(provider: CryptoProvider, key: Uint8Array) {
    this.provider = provider;
    this.key = key;
  }

  tokenFor(cid: Uint8Array): Uint8Array {
    return this.provider.hmac('sha256', this.key, cid).slice(0, 16);
  }

  /**
   * A stateless reset (RFC 9000 section 10.3) answering a datagram of
   * `receivedLength` bytes: shorter than it (so two endpoints cannot loop),
   * at least 21 bytes, else null (do not answer). Looks like a short header
   * packet with random contents, ending in the token.
   */
  packetFor(cid: Uint8Array, receivedLength: number): Uint8Array | null {
    const length = Math.min(receivedLength - 1, 43);
    if (length < 21) return null;
    const p = this.provider.random(length);
    p[0] = 0x40 | (p[0]! & 0x3f);
    p.set(this.tokenFor(cid), length - 16);
    return p;
  }
}

function nonceNumber(nonce: Uint8Array): number {
  let n = 0;
  for (const b of nonce) n = n * 256 + b;
  return n;
}

function addressAad(a: SocketAddress): Uint8Array {
  return UTF8.encode(`${a.address}|${a.port}`);
}

function pad32(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  out.set(key.subarray(0, 32));
  return out;
}
