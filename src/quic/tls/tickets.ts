/**
 * Server-side session tickets (RFC 8446 section 4.6.1), stateless: the ticket a client gets is the
 * resumption state itself, sealed with an AEAD under a server key, so the server stores nothing per
 * session and any process holding the key can resume it.
 *
 * Ticket layout: `format (1 byte, 0x01) || nonce (12 random bytes) || ChaCha20-Poly1305(key, nonce,
 * aad = format byte, state) || tag (16)`. The 32-byte server key is used as the ChaCha20-Poly1305 key
 * (through the provider's AEAD). The sealed state is the PSK (already derived from the resumption
 * master secret and the ticket nonce), the suite, the ALPN protocol, the server name, the issue time,
 * lifetime and ticket_age_add, whether 0-RTT was allowed, whether the client authenticated with a
 * certificate, and the server's `applicationData`. A ticket that does not open (another key,
 * tampering, garbage) or whose state does not decode is simply not a ticket: the handshake falls back
 * to a full one (RFC 8446 section 4.2.11: the server "MUST ... select a compatible PSK (if any)").
 *
 * Replay: 0-RTT data is not protected against replay (RFC 8446 sections 2.3, 8): anyone who recorded
 * the client's first flight can send it again, to this server or another one sharing the ticket key,
 * and the server will accept the same early data again. Stateless tickets make this worse: every
 * server process accepts the ticket until it expires. The `earlyData` hook of the server options
 * gets an {@link EarlyDataInfo}; a server that must not process early data twice accepts it only
 * the first time it sees the ticket, with a single-use cache of its own (RFC 8446 section 8.1), for
 * example {@link SingleUseTicketCache} when one process handles every connection for the key, or a
 * shared store otherwise. The handshake itself (and 1-RTT data) is never replayable.
 */
import { UsageError } from '../../combinators/errors.js';
import { gen, parse } from '../../combinators/parser.js';
import { f64be, u16be, u32be, u8 } from '../../combinators/primitives.js';
import { Writer } from '../../combinators/writer.js';
import { suiteInfo, type CipherSuite, type CryptoProvider } from '../crypto/provider.js';
import { opaque, writeOpaque, type VectorBounds } from './codec.js';
import { CIPHER_SUITE_CODES, supportedCipherSuite } from './constants.js';
import { MAX_TICKET_LIFETIME_SECONDS, QUIC_MAX_EARLY_DATA } from './session.js';

/** Server options for issuing and accepting session tickets. */
export interface TicketOptions {
  /**
   * 32 secret random bytes (e.g. `provider.random(32)`), the ChaCha20-Poly1305 key that seals the
   * tickets. Every server that should resume a session needs the same key; changing it invalidates
   * every ticket issued (they fall back to full handshakes).
   */
  readonly key: Uint8Array;
  /** ticket_lifetime in seconds, 1..604800 (RFC 8446 section 4.6.1). Default 86400 (one day). */
  readonly lifetimeSeconds?: number;
  /** NewSessionTickets sent after each handshake, 0..16 (default 1). Several let a client use each once. */
  readonly count?: number;
  /**
   * max_early_data_size to advertise: 0 (default) sends no early_data extension, so clients do not
   * attempt 0-RTT with these tickets; {@link QUIC_MAX_EARLY_DATA} (0xffffffff) allows 0-RTT. RFC 9001
   * section 4.6.1: "Servers MUST NOT send the early_data extension with a max_early_data_size field set
   * to any value other than 0xffffffff"; any other value is a UsageError.
   */
  readonly maxEarlyData?: number;
  /**
   * Bytes sealed into each ticket and given back when it is used (at most 32768): typically the
   * server's transport parameters and application settings, so the QUIC layer can tell whether 0-RTT
   * remains acceptable (RFC 9001 section 4.6.3). Default empty.
   */
  readonly applicationData?: Uint8Array;
  /**
   * How far the client's ticket age may differ from the server's view of it before 0-RTT is refused
   * (RFC 8446 section 8.3), in ms. Default 10 000. The PSK itself is still accepted.
   */
  readonly ageToleranceMs?: number;
}

/** What the server's `earlyData` hook is told about a ClientHello offering 0-RTT that TLS would accept. */
export interface EarlyDataInfo {
  /** The negotiated ALPN protocol (the same as the ticket's, or TLS would already have refused). */
  readonly alpn: string;
  /** The ClientHello's server_name, or null. */
  readonly serverName: string | null;
  /** The ticket's applicationData (what the server sealed into it when issuing it). */
  readonly applicationData: Uint8Array;
  /** A string unique to this ticket (its nonce and tag, hex): the key for a single-use cache. */
  readonly ticketId: string;
  /** When the ticket was issued and when it expires, in ms on the server's clock. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** The ticket age the client claims (ms, deobfuscated) and the server's `now`. */
  readonly clientTicketAge: number;
  readonly now: number;
}

/** The resumption state sealed in a ticket. */
export interface TicketState {
  readonly suite: CipherSuite;
  readonly psk: Uint8Array;
  readonly alpn: string;
  readonly serverName: string | null;
  /** Issue time, ms on the server's clock. */
  readonly issuedAt: number;
  readonly lifetimeSeconds: number;
  readonly ticketAgeAdd: number;
  /** The max_early_data_size advertised with the ticket (0 or 0xffffffff). */
  readonly maxEarlyData: number;
  /** The client presented a certificate that verified in the handshake the ticket came from. */
  readonly clientAuthenticated: boolean;
  readonly applicationData: Uint8Array;
}

/** An opened ticket: its state and its id. */
export interface OpenedTicket {
  readonly state: TicketState;
  readonly id: string;
}

export const DEFAULT_TICKET_LIFETIME_SECONDS = 86400;
export const DEFAULT_AGE_TOLERANCE_MS = 10_000;
export const MAX_TICKET_APPLICATION_DATA = 32768;
const MAX_TICKET_COUNT = 16;

const FORMAT = 0x01;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const TICKET_AEAD: CipherSuite = 'TLS_CHACHA20_POLY1305_SHA256';

const PSK: VectorBounds = { width: 1, min: 32, max: 48, name: 'psk' };
const ALPN: VectorBounds = { width: 1, min: 1, max: 0xff, name: 'alpn' };
const NAME: VectorBounds = { width: 2, min: 0, max: 0xffff, name: 'server_name' };
const APP: VectorBounds = { width: 2, min: 0, max: MAX_TICKET_APPLICATION_DATA, name: 'applicationData' };

const UTF8 = new TextEncoder();
const FROM_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Checks ticket options; raises a UsageError for values the RFCs or this module do not allow. */
export function checkTicketOptions(t: TicketOptions): void {
  if (t.key.length !== 32) throw new UsageError(`tickets.key must be 32 bytes, got ${t.key.length}`);
  const lifetime = t.lifetimeSeconds ?? DEFAULT_TICKET_LIFETIME_SECONDS;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > MAX_TICKET_LIFETIME_SECONDS) {
    throw new UsageError(`tickets.lifetimeSeconds must be 1..${MAX_TICKET_LIFETIME_SECONDS} (RFC 8446 section 4.6.1)`);
  }
  const count = t.count ?? 1;
  if (!Number.isInteger(count) || count < 0 || count > MAX_TICKET_COUNT)
    throw new UsageError(`tickets.count must be 0..${MAX_TICKET_COUNT}`);
  const early = t.maxEarlyData ?? 0;
  if (early !== 0 && early !== QUIC_MAX_EARLY_DATA) {
    throw new UsageError('tickets.maxEarlyData must be 0 or 0xffffffff in QUIC (RFC 9001 section 4.6.1)');
  }
  if ((t.applicationData?.length ?? 0) > MAX_TICKET_APPLICATION_DATA) {
    throw new UsageError(`tickets.applicationData is limited to ${MAX_TICKET_APPLICATION_DATA} bytes`);
  }
  const tolerance = t.ageToleranceMs ?? DEFAULT_AGE_TOLERANCE_MS;
  if (!(tolerance >= 0)) throw new UsageError('tickets.ageToleranceMs must be >= 0');
}

function encodeState(s: TicketState): Uint8Array {
  const w = new Writer({ initialSize: 128 + s.applicationData.length });
  w.u16be(CIPHER_SUITE_CODES[s.suite].code);
  writeOpaque(w, PSK, s.psk);
  writeOpaque(w, ALPN, UTF8.encode(s.alpn));
  writeOpaque(w, NAME, s.serverName === null ? new Uint8Array(0) : UTF8.encode(s.serverName));
  w.f64be(s.issuedAt);
  w.u32be(s.lifetimeSeconds);
  w.u32be(s.ticketAgeAdd);
  w.u32be(s.maxEarlyData);
  w.u8(s.clientAuthenticated ? 1 : 0);
  writeOpaque(w, APP, s.applicationData);
  return w.toBytes();
}

const stateParser = gen('TicketState', function* () {
  const suiteCode = yield* u16be;
  const psk = yield* opaque(PSK);
  const alpn = yield* opaque(ALPN);
  const serverName = yield* opaque(NAME);
  const issuedAt = yield* f64be;
  const lifetimeSeconds = yield* u32be;
  const ticketAgeAdd = yield* u32be;
  const maxEarlyData = yield* u32be;
  const flags = yield* u8;
  const applicationData = yield* opaque(APP);
  return { suiteCode, psk, alpn, serverName, issuedAt, lifetimeSeconds, ticketAgeAdd, maxEarlyData, flags, applicationData };
});

/** Seals `state` into a ticket under `key` with a fresh random nonce from the provider. */
export function sealTicket(provider: CryptoProvider, key: Uint8Array, state: TicketState): Uint8Array {
  const plain = encodeState(state);
  const nonce = provider.random(NONCE_LENGTH);
  const out = new Uint8Array(1 + NONCE_LENGTH + plain.length + TAG_LENGTH);
  out[0] = FORMAT;
  out.set(nonce, 1);
  provider.aead(TICKET_AEAD, key, nonce).seal(0, out.subarray(0, 1), plain, out.subarray(1 + NONCE_LENGTH));
  return out;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/**
 * Opens a ticket sealed by {@link sealTicket} under `key`. Null for anything else (another key or
 * format, a modified byte, garbage, a state that does not decode): an unknown ticket is not an error,
 * the handshake just does not resume (RFC 8446 section 4.2.11).
 */
export function openTicket(provider: CryptoProvider, key: Uint8Array, ticket: Uint8Array): OpenedTicket | null {
  if (ticket.length < 1 + NONCE_LENGTH + TAG_LENGTH || ticket[0] !== FORMAT) return null;
  const nonce = ticket.subarray(1, 1 + NONCE_LENGTH);
  const sealed = ticket.subarray(1 + NONCE_LENGTH);
  const plain = new Uint8Array(sealed.length - TAG_LENGTH);
  const n = provider.aead(TICKET_AEAD, key, nonce).open(0, ticket.subarray(0, 1), sealed, plain);
  if (n === null) return null;
  let v;
  try {
    v = parse(stateParser, plain.subarray(0, n));
  } catch {
    return null;
  }
  const suite = supportedCipherSuite(v.suiteCode);
  if (suite === null || v.psk.length !== suiteInfo(suite).hashLength || !Number.isFinite(v.issuedAt)) return null;
  let alpn: string;
  let serverName: string | null;
  try {
    alpn = FROM_UTF8.decode(v.alpn);
    serverName = v.serverName.length === 0 ? null : FROM_UTF8.decode(v.serverName);
  } catch {
    return null;
  }
  return {
    id: hex(nonce) + hex(ticket.subarray(ticket.length - TAG_LENGTH)),
    state: {
      suite,
      psk: v.psk.slice(),
      alpn,
      serverName,
      issuedAt: v.issuedAt,
      lifetimeSeconds: v.lifetimeSeconds,
      ticketAgeAdd: v.ticketAgeAdd,
      maxEarlyData: v.maxEarlyData,
      clientAuthenticated: (v.flags & 1) !== 0,
      applicationData: v.applicationData.slice(),
    },
  };
}

/**
 * A bounded in-memory record of tickets already used for 0-RTT, for a server's `earlyData` hook
 * (RFC 8446 section 8.1, single-use tickets): `earlyData: (info) => cache.useOnce(info.ticketId,
 * info.expiresAt, info.now)` accepts 0-RTT at most once per ticket. Entries are kept until their
 * ticket expires (after that the ticket is refused anyway). When `capacity` entries are live, new
 * tickets are refused 0-RTT (they still resume, in 1-RTT): failing closed is always safe, since
 * rejecting 0-RTT never breaks a connection.
 *
 * It only protects what one process sees: servers sharing a ticket key need a shared store to get the
 * same guarantee.
 */
export class SingleUseTicketCache {
  private readonly entries = new Map<string, number>();

  constructor(readonly capacity = 100_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new UsageError('capacity must be a positive integer');
  }

  /** Live entries (expired ones may remain until the next eviction). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * True the first time `id` is seen (it is then remembered until `expiresAt`), false when it was
   * already used, or when the cache is full of live entries.
   */
  useOnce(id: string, expiresAt: number, now: number): boolean {
    const seen = this.entries.get(id);
    if (seen !== undefined && seen > now) return false;
    if (seen === undefined && this.entries.size >= this.capacity) {
      this.evict(now);
      if (this.entries.size >= this.capacity) return false;
    }
    this.entries.set(id, expiresAt);
    return true;
  }

  /** Drops the entries whose ticket has expired at `now`. */
  evict(now: number): void {
    for (const [id, expiresAt] of this.entries) if (expiresAt <= now) this.entries.delete(id);
  }
}
