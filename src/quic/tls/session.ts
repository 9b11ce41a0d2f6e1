/**
 * Client-side session resumption state (RFC 8446 sections 2.2, 4.6.1) and the PSK binder computation
 * both roles share (section 4.2.11.2).
 *
 * A {@link SessionTicket} is what a client keeps from one NewSessionTicket: the opaque ticket it sends
 * back as a PSK identity, the PSK itself (derived from the resumption master secret and the ticket
 * nonce, section 4.6.1), the parameters the PSK is bound to (cipher suite, ALPN, server name), the
 * values for the obfuscated ticket age (section 4.2.11.1), and whether the server allows 0-RTT with
 * it. `applicationData` belongs to the QUIC layer: it stores the server's transport parameters there,
 * because a client attempting 0-RTT must use the remembered values (RFC 9000 section 7.4.1).
 *
 * A ticket holds a secret (the PSK): whoever has it can resume the session and send 0-RTT data as
 * this client. Store encoded tickets ({@link encodeSessionTicket}) as carefully as cookies or tokens.
 * RFC 9001 section 4.5 / RFC 8446 appendix C.4: use each ticket once ("Clients SHOULD NOT reuse
 * tickets"), since reuse lets observers link connections; servers usually send several.
 *
 * Times are on the caller's clock (see handshake.ts): `receivedAt` is the `now` of the `receive` call
 * that delivered the NewSessionTicket. A ticket stored across process restarts needs a clock that
 * survives them (wall-clock milliseconds).
 */
import { PullwireError, UsageError } from '../../combinators/errors.js';
import { gen, parse } from '../../combinators/parser.js';
import { bytes, f64be, u16be, u32be } from '../../combinators/primitives.js';
import { Writer } from '../../combinators/writer.js';
import { suiteInfo, type CipherSuite, type CryptoProvider } from '../crypto/provider.js';
import { opaque, writeOpaque, type VectorBounds } from './codec.js';
import { CIPHER_SUITE_CODES, supportedCipherSuite } from './constants.js';
import { TlsAlertError } from './errors.js';
import { findExtension } from './extensions.js';
import { KeySchedule, constantTimeEqual, resumptionPsk, type PskKind, type Transcript } from './key-schedule.js';
import { encodeHandshake, fillBinders, truncateClientHello, type ClientHello, type NewSessionTicket } from './messages.js';

/** RFC 8446 section 4.6.1: "Servers MUST NOT use any value greater than 604800 seconds (7 days)". */
export const MAX_TICKET_LIFETIME_SECONDS = 604800;

/**
 * RFC 9001 section 4.6.1: in QUIC the early_data extension of a NewSessionTicket carries this sentinel
 * when the server accepts 0-RTT (and is absent otherwise); QUIC's own flow control limits 0-RTT data.
 */
export const QUIC_MAX_EARLY_DATA = 0xffffffff;

/** What a client needs to resume a session (see the module doc). */
export interface SessionTicket {
  /** The ticket as the server sent it: the PSK identity to offer (RFC 8446 section 4.2.11). */
  readonly ticket: Uint8Array;
  /** The resumption PSK: HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length). */
  readonly psk: Uint8Array;
  /** The suite of the session; the PSK may only be used with a suite of the same hash (section 4.2.11). */
  readonly suite: CipherSuite;
  /** The ALPN protocol of the session; 0-RTT is only attempted when it is offered again (section 4.2.10). */
  readonly alpn: string;
  /** The server name the session authenticated, or null; the ticket is only offered for the same name (section 4.6.1). */
  readonly serverName: string | null;
  /** ticket_age_add (section 4.6.1), added to the ticket age to obfuscate it (section 4.2.11.1). */
  readonly ticketAgeAdd: number;
  /** When the NewSessionTicket arrived, in ms on the caller's clock. */
  readonly receivedAt: number;
  /** Lifetime in seconds from `receivedAt`, at most {@link MAX_TICKET_LIFETIME_SECONDS}. */
  readonly lifetime: number;
  /** The NewSessionTicket's max_early_data_size: {@link QUIC_MAX_EARLY_DATA} when 0-RTT is allowed, else 0. */
  readonly maxEarlyDataSize: number;
  /** Bytes for the QUIC layer (the server's transport parameters, RFC 9001 section 4.6.3); empty as emitted. */
  applicationData: Uint8Array;
}

/** Codes of {@link SessionTicketError}. */
export const SESSION_TICKET_ERROR_CODES = {
  ERR_SESSION_TICKET_VERSION: 'the stored session ticket was written in a format version this code does not read',
  ERR_SESSION_TICKET_MALFORMED: 'the bytes are not a stored session ticket (truncated, corrupted, or a field out of range)',
} as const;

export type SessionTicketErrorCode = keyof typeof SESSION_TICKET_ERROR_CODES;

/** {@link decodeSessionTicket} refused its input. */
export class SessionTicketError extends PullwireError {
  declare readonly code: SessionTicketErrorCode;
  constructor(code: SessionTicketErrorCode, detail: string) {
    super(code, `${SESSION_TICKET_ERROR_CODES[code]}: ${detail}`);
  }
}

/** The format version {@link encodeSessionTicket} writes. */
const FORMAT_VERSION = 1;

const TICKET: VectorBounds = { width: 2, min: 1, max: 0xffff, name: 'ticket' };
const PSK: VectorBounds = { width: 1, min: 32, max: 48, name: 'psk' };
const ALPN: VectorBounds = { width: 1, min: 1, max: 0xff, name: 'alpn' };
const SERVER_NAME: VectorBounds = { width: 2, min: 0, max: 0xffff, name: 'server_name' };

const UTF8 = new TextEncoder();
const FROM_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes a session for storage: a version byte, then every field (layout: version u8, suite u16,
 * ticket opaque16, psk opaque8, alpn opaque8, server name opaque16 (empty: none), ticket_age_add u32,
 * receivedAt f64, lifetime u32, max_early_data_size u32, applicationData u32-length + bytes). The
 * result contains the PSK: keep it secret.
 */
export function encodeSessionTicket(t: SessionTicket): Uint8Array {
  const w = new Writer({ initialSize: 128 + t.ticket.length + t.applicationData.length });
  w.u8(FORMAT_VERSION);
  w.u16be(CIPHER_SUITE_CODES[t.suite].code);
  writeOpaque(w, TICKET, t.ticket);
  writeOpaque(w, PSK, t.psk);
  writeOpaque(w, ALPN, UTF8.encode(t.alpn));
  writeOpaque(w, SERVER_NAME, t.serverName === null ? new Uint8Array(0) : UTF8.encode(t.serverName));
  w.u32be(t.ticketAgeAdd);
  w.f64be(t.receivedAt);
  w.u32be(t.lifetime);
  w.u32be(t.maxEarlyDataSize);
  w.u32be(t.applicationData.length);
  w.bytes(t.applicationData);
  return w.toBytes();
}

const storedTicket = gen('SessionTicket', function* () {
  const suiteCode = yield* u16be;
  const ticket = yield* opaque(TICKET);
  const psk = yield* opaque(PSK);
  const alpn = yield* opaque(ALPN);
  const serverName = yield* opaque(SERVER_NAME);
  const ticketAgeAdd = yield* u32be;
  const receivedAt = yield* f64be;
  const lifetime = yield* u32be;
  const maxEarlyDataSize = yield* u32be;
  const appLength = yield* u32be;
  const applicationData = yield* bytes(appLength);
  return { suiteCode, ticket, psk, alpn, serverName, ticketAgeAdd, receivedAt, lifetime, maxEarlyDataSize, applicationData };
});

/**
 * Decodes what {@link encodeSessionTicket} wrote. Raises a {@link SessionTicketError}:
 * `ERR_SESSION_TICKET_VERSION` for another format version, `ERR_SESSION_TICKET_MALFORMED` for anything
 * else that is wrong (truncated, trailing bytes, an unknown suite, a PSK of the wrong length, a
 * lifetime over 7 days, a non-finite time, ALPN or server name not UTF-8). Byte fields are copies.
 */
export function decodeSessionTicket(input: Uint8Array): SessionTicket {
  if (input.length === 0) throw new SessionTicketError('ERR_SESSION_TICKET_MALFORMED', 'empty input');
  if (input[0] !== FORMAT_VERSION) throw new SessionTicketError('ERR_SESSION_TICKET_VERSION', `version ${input[0]}`);
  let v;
  try {
    v = parse(storedTicket, input.subarray(1));
  } catch (e) {
    if (e instanceof PullwireError && !(e instanceof UsageError)) throw new SessionTicketError('ERR_SESSION_TICKET_MALFORMED', e.message);
    throw e;
  }
  const bad = (why: string): never => {
    throw new SessionTicketError('ERR_SESSION_TICKET_MALFORMED', why);
  };
  const suite = supportedCipherSuite(v.suiteCode) ?? bad(`unknown cipher suite 0x${v.suiteCode.toString(16)}`);
  if (v.psk.length !== suiteInfo(suite).hashLength) bad(`a ${v.psk.length}-byte PSK for ${suite}`);
  if (!Number.isFinite(v.receivedAt)) bad('receivedAt is not a finite number');
  if (v.lifetime > MAX_TICKET_LIFETIME_SECONDS) bad(`lifetime ${v.lifetime} s is over 7 days`);
  const text = (b: Uint8Array, what: string): string => {
    try {
      return FROM_UTF8.decode(b);
    } catch {
      return bad(`${what} is not UTF-8`);
    }
  };
  return {
    ticket: v.ticket.slice(),
    psk: v.psk.slice(),
    suite,
    alpn: text(v.alpn, 'alpn'),
    serverName: v.serverName.length === 0 ? null : text(v.serverName, 'server name'),
    ticketAgeAdd: v.ticketAgeAdd,
    receivedAt: v.receivedAt,
    lifetime: v.lifetime,
    maxEarlyDataSize: v.maxEarlyDataSize,
    applicationData: v.applicationData.slice(),
  };
}

/** The ticket's age at `now`, in whole ms (0 when `now` is before `receivedAt`). */
export function ticketAge(t: SessionTicket, now: number): number {
  return Math.max(0, Math.floor(now - t.receivedAt));
}

/** Whether the ticket's lifetime has run out at `now` (RFC 8446 section 4.6.1). */
export function sessionExpired(t: SessionTicket, now: number): boolean {
  return now - t.receivedAt >= t.lifetime * 1000;
}

/** Whether the server allows 0-RTT with this ticket (RFC 9001 section 4.6.1). */
export function sessionAllowsEarlyData(t: SessionTicket): boolean {
  return t.maxEarlyDataSize === QUIC_MAX_EARLY_DATA;
}

/** obfuscated_ticket_age = (ticket age in ms + ticket_age_add) mod 2^32 (RFC 8446 section 4.2.11.1). */
export function obfuscatedTicketAge(t: SessionTicket, now: number): number {
  return (ticketAge(t, now) + t.ticketAgeAdd) % 2 ** 32;
}

/** What a client knows about the session a NewSessionTicket belongs to. */
export interface SessionContext {
  readonly suite: CipherSuite;
  /** resumption_master_secret of the connection (RFC 8446 section 7.1). */
  readonly resumptionMasterSecret: Uint8Array;
  readonly alpn: string;
  readonly serverName: string | null;
}

/**
 * The session a NewSessionTicket describes (RFC 8446 section 4.6.1), received at `now`; null for a
 * ticket_lifetime of 0 ("the ticket should be discarded immediately"). A lifetime above 7 days is cut
 * to 7 days ("Clients MUST NOT cache tickets for longer than 7 days"). An early_data extension other
 * than 0xffffffff raises a {@link TlsAlertError} that closes the connection with PROTOCOL_VIOLATION
 * (RFC 9001 section 4.6.1).
 */
export function sessionFromNewSessionTicket(
  provider: CryptoProvider,
  nst: NewSessionTicket,
  context: SessionContext,
  now: number,
): SessionTicket | null {
  const early = findExtension(nst.extensions, 'early_data');
  if (early !== undefined && early.maxEarlyDataSize !== QUIC_MAX_EARLY_DATA) {
    throw new TlsAlertError(
      'illegal_parameter',
      `NewSessionTicket max_early_data_size ${early.maxEarlyDataSize}, QUIC requires 0xffffffff (RFC 9001 section 4.6.1)`,
      null,
      'PROTOCOL_VIOLATION',
    );
  }
  if (nst.ticketLifetime === 0) return null;
  const hash = suiteInfo(context.suite).hash;
  return {
    ticket: nst.ticket.slice(),
    psk: resumptionPsk(provider, hash, context.resumptionMasterSecret, nst.ticketNonce),
    suite: context.suite,
    alpn: context.alpn,
    serverName: context.serverName,
    ticketAgeAdd: nst.ticketAgeAdd,
    receivedAt: now,
    lifetime: Math.min(nst.ticketLifetime, MAX_TICKET_LIFETIME_SECONDS),
    maxEarlyDataSize: early === undefined ? 0 : QUIC_MAX_EARLY_DATA,
    applicationData: new Uint8Array(0),
  };
}

// ---------------------------------------------------------------------------------------------------
// PSK binders (RFC 8446 section 4.2.11.2)

/**
 * Encodes a ClientHello that offers PSKs, with its binders: `hello`'s pre_shared_key (the last
 * extension) carries placeholder binders of the right lengths; each binder is computed over
 * Transcript-Hash(messages before this ClientHello, Truncate(ClientHello)) with the binder key of the
 * PSK at the same index, then written in place. `transcript` holds the messages before this
 * ClientHello (none for a first ClientHello; ClientHello1 as message_hash and the HelloRetryRequest
 * for a second one) and must have its hash set: the PSKs' hash.
 */
export function encodeClientHelloWithBinders(
  provider: CryptoProvider,
  transcript: Transcript,
  hello: ClientHello,
  psks: readonly Uint8Array[],
  kind: PskKind = 'resumption',
): Uint8Array {
  const hash = transcript.hash;
  if (hash === null) throw new UsageError('encodeClientHelloWithBinders needs a transcript with its hash set');
  const encoded = encodeHandshake(hello);
  const binderHash = transcript.digestWith(truncateClientHello(encoded, hello));
  fillBinders(
    encoded,
    hello,
    psks.map((psk) => new KeySchedule(provider, hash, psk).binder(kind, binderHash)),
  );
  return encoded;
}

/**
 * Checks the binder at `index` of a received ClientHello (`raw` as received, `hello` decoded from it)
 * for `psk`, over `transcript` (the messages before this ClientHello, hash set). False for a wrong
 * binder or one of the wrong length; the caller answers with decrypt_error (RFC 8446 section 4.2.11:
 * "If this value is not present or does not validate, the server MUST abort the handshake").
 */
export function verifyPskBinder(
  provider: CryptoProvider,
  transcript: Transcript,
  raw: Uint8Array,
  hello: ClientHello,
  index: number,
  psk: Uint8Array,
  kind: PskKind = 'resumption',
): boolean {
  const hash = transcript.hash;
  if (hash === null) throw new UsageError('verifyPskBinder needs a transcript with its hash set');
  const offered = hello.extensions[hello.extensions.length - 1];
  if (offered === undefined || offered.type !== 'pre_shared_key') return false;
  const binder = offered.binders[index];
  if (binder === undefined) return false;
  const expected = new KeySchedule(provider, hash, psk).binder(kind, transcript.digestWith(truncateClientHello(raw, hello)));
  return constantTimeEqual(expected, binder);
}
