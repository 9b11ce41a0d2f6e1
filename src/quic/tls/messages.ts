/**
 * TLS 1.3 handshake messages (RFC 8446 section 4 and appendix B.3) for QUIC: a discriminated union
 * {@link HandshakeMessage}, and for each message a decoder and an encoder, side by side.
 *
 * A handshake message on the wire is `msg_type (1 byte) || length (3 bytes) || body`. In QUIC the
 * messages are carried in CRYPTO frames, without TLS records (RFC 9001 section 4); the streaming
 * framer (framer.ts) cuts the CRYPTO stream of one encryption level into whole messages, and
 * {@link decodeHandshake} decodes one of them in complete mode.
 *
 * Errors: every decoding failure is a {@link TlsAlertError}. Syntax errors (a vector length out of its
 * bounds or past its enclosing length, bytes left over, a truncated field) are `decode_error` (RFC 8446
 * section 6.2); the extension rules of section 4.2 are `illegal_parameter` (see extensions.ts); a
 * handshake type that QUIC forbids (KeyUpdate, RFC 9001 section 6; EndOfEarlyData, section 8.3) or that
 * TLS 1.3 does not define is `unexpected_message`.
 *
 * What the codecs do not check is negotiation: versions, suites, groups, whether an extension was
 * offered or is required, Finished lengths against the negotiated hash (unless asked through
 * {@link DecodeOptions}). The state machines do that, with the alerts RFC 8446 names for each case.
 *
 * Byte fields of decoded messages (random, session ids, key shares, certificates, signatures...) are
 * views into the bytes given to the decoder: they stay valid as long as those bytes are not modified.
 * The framer hands out owned copies of each message, so decoding its output is safe to keep.
 */
import { EncodeError } from '../../combinators/errors.js';
import { Parser, gen, parse } from '../../combinators/parser.js';
import { bytes, u16be, u32be, u8 } from '../../combinators/primitives.js';
import { Writer } from '../../combinators/writer.js';
import { HANDSHAKE_TYPES, HELLO_RETRY_REQUEST_RANDOM, handshakeTypeName, type HandshakeTypeName } from './constants.js';
import { opaque, vector, writeFixedBytes, writeOpaque, writeU16s, writeVector, type VectorBounds } from './codec.js';
import { TlsAlertError, toTlsAlert } from './errors.js';
import {
  extensionBlock,
  writeExtensionBlock,
  type CertificateEntryExtension,
  type CertificateRequestExtension,
  type ClientHelloExtension,
  type EncryptedExtensionsExtension,
  type HelloRetryRequestExtension,
  type NewSessionTicketExtension,
  type ServerHelloExtension,
} from './extensions.js';

// ---------------------------------------------------------------------------------------------------
// message values

/** ClientHello (RFC 8446 section 4.1.2). */
export interface ClientHello {
  readonly type: 'client_hello';
  /** 0x0303 in TLS 1.3. */
  readonly legacyVersion: number;
  /** 32 bytes. */
  readonly random: Uint8Array;
  /** 0 to 32 bytes; QUIC clients send it empty (RFC 9001 section 8.4). */
  readonly legacySessionId: Uint8Array;
  /** CipherSuite codes, in preference order. */
  readonly cipherSuites: readonly number[];
  /** `[0]` in TLS 1.3. */
  readonly legacyCompressionMethods: Uint8Array;
  readonly extensions: readonly ClientHelloExtension[];
}

/** ServerHello (RFC 8446 section 4.1.3) that is not a HelloRetryRequest. */
export interface ServerHello {
  readonly type: 'server_hello';
  readonly legacyVersion: number;
  /** 32 bytes, never {@link HELLO_RETRY_REQUEST_RANDOM}. */
  readonly random: Uint8Array;
  readonly legacySessionIdEcho: Uint8Array;
  readonly cipherSuite: number;
  readonly legacyCompressionMethod: number;
  readonly extensions: readonly ServerHelloExtension[];
}

/**
 * HelloRetryRequest: a ServerHello whose random is {@link HELLO_RETRY_REQUEST_RANDOM} (RFC 8446 section
 * 4.1.3); it has the ServerHello's type code and layout.
 */
export interface HelloRetryRequest {
  readonly type: 'hello_retry_request';
  readonly legacyVersion: number;
  readonly legacySessionIdEcho: Uint8Array;
  readonly cipherSuite: number;
  readonly legacyCompressionMethod: number;
  readonly extensions: readonly HelloRetryRequestExtension[];
}

/** EncryptedExtensions (RFC 8446 section 4.3.1). */
export interface EncryptedExtensions {
  readonly type: 'encrypted_extensions';
  readonly extensions: readonly EncryptedExtensionsExtension[];
}

/** CertificateRequest (RFC 8446 section 4.3.2). */
export interface CertificateRequest {
  readonly type: 'certificate_request';
  /** Empty during the handshake (section 4.3.2). */
  readonly certificateRequestContext: Uint8Array;
  readonly extensions: readonly CertificateRequestExtension[];
}

/** One CertificateEntry (RFC 8446 section 4.4.2): a DER X.509 certificate (or a raw public key, RFC 7250). */
export interface CertificateEntry {
  readonly certData: Uint8Array;
  readonly extensions: readonly CertificateEntryExtension[];
}

/** Certificate (RFC 8446 section 4.4.2): the sender's certificate first, then its chain. */
export interface Certificate {
  readonly type: 'certificate';
  readonly certificateRequestContext: Uint8Array;
  readonly certificateList: readonly CertificateEntry[];
}

/** CertificateVerify (RFC 8446 section 4.4.3). */
export interface CertificateVerify {
  readonly type: 'certificate_verify';
  /** SignatureScheme code. */
  readonly algorithm: number;
  readonly signature: Uint8Array;
}

/** Finished (RFC 8446 section 4.4.4): verify_data, Hash.length bytes. */
export interface Finished {
  readonly type: 'finished';
  readonly verifyData: Uint8Array;
}

/** NewSessionTicket (RFC 8446 section 4.6.1). */
export interface NewSessionTicket {
  readonly type: 'new_session_ticket';
  /** Seconds, at most 604800 (7 days; the state machine checks). */
  readonly ticketLifetime: number;
  readonly ticketAgeAdd: number;
  readonly ticketNonce: Uint8Array;
  readonly ticket: Uint8Array;
  readonly extensions: readonly NewSessionTicketExtension[];
}

/** Every handshake message QUIC carries. */
export type HandshakeMessage =
  | ClientHello
  | ServerHello
  | HelloRetryRequest
  | EncryptedExtensions
  | CertificateRequest
  | Certificate
  | CertificateVerify
  | Finished
  | NewSessionTicket;

/** The wire type code of a message (a HelloRetryRequest is a server_hello, RFC 8446 section 4.1.3). */
export function handshakeTypeOf(m: HandshakeMessage): number {
  return m.type === 'hello_retry_request' ? HANDSHAKE_TYPES.server_hello.code : HANDSHAKE_TYPES[m.type].code;
}

// ---------------------------------------------------------------------------------------------------
// bounds (RFC 8446 appendix B.3)

const SESSION_ID: VectorBounds = { width: 1, min: 0, max: 32, name: 'legacy_session_id' };
const CIPHER_SUITES: VectorBounds = { width: 2, min: 2, max: 0xfffe, name: 'cipher_suites' };
const COMPRESSION_METHODS: VectorBounds = { width: 1, min: 1, max: 0xff, name: 'legacy_compression_methods' };
const REQUEST_CONTEXT: VectorBounds = { width: 1, min: 0, max: 0xff, name: 'certificate_request_context' };
const CERTIFICATE_LIST: VectorBounds = { width: 3, min: 0, max: 0xffffff, name: 'certificate_list' };
const CERT_DATA: VectorBounds = { width: 3, min: 1, max: 0xffffff, name: 'cert_data' };
const SIGNATURE: VectorBounds = { width: 2, min: 0, max: 0xffff, name: 'signature' };
const TICKET_NONCE: VectorBounds = { width: 1, min: 0, max: 0xff, name: 'ticket_nonce' };
const TICKET: VectorBounds = { width: 2, min: 1, max: 0xffff, name: 'ticket' };

/** Random is `opaque Random[32]`. */
const RANDOM_LENGTH = 32;

// ---------------------------------------------------------------------------------------------------
// ClientHello

const clientHello: Parser<ClientHello> = gen('ClientHello', function* () {
  const legacyVersion = yield* u16be;
  const random = yield* bytes(RANDOM_LENGTH);
  const legacySessionId = yield* opaque(SESSION_ID);
  const cipherSuites = yield* vector(CIPHER_SUITES, u16be);
  const legacyCompressionMethods = yield* opaque(COMPRESSION_METHODS);
  const extensions = yield* extensionBlock('CH');
  return {
    type: 'client_hello',
    legacyVersion,
    random,
    legacySessionId,
    cipherSuites,
    legacyCompressionMethods,
    extensions,
  } as ClientHello;
});

function writeClientHello(w: Writer, m: ClientHello): void {
  w.u16be(m.legacyVersion);
  writeFixedBytes(w, RANDOM_LENGTH, m.random, 'random');
  writeOpaque(w, SESSION_ID, m.legacySessionId);
  writeVector(w, CIPHER_SUITES, () => writeU16s(w, m.cipherSuites));
  writeOpaque(w, COMPRESSION_METHODS, m.legacyCompressionMethods);
  writeExtensionBlock(w, 'CH', m.extensions);
}

// ---------------------------------------------------------------------------------------------------
// ServerHello and HelloRetryRequest

function isHelloRetryRandom(random: Uint8Array): boolean {
  for (let i = 0; i < RANDOM_LENGTH; i++) if (random[i] !== HELLO_RETRY_REQUEST_RANDOM[i]) return false;
  return true;
}

const serverHello: Parser<ServerHello | HelloRetryRequest> = gen('ServerHello', function* () {
  const legacyVersion = yield* u16be;
  const random = yield* bytes(RANDOM_LENGTH);
  const legacySessionIdEcho = yield* opaque(SESSION_ID);
  const cipherSuite = yield* u16be;
  const legacyCompressionMethod = yield* u8;
  // RFC 8446 section 4.1.3: the special random makes this a HelloRetryRequest, whose extensions are
  // those of the "HRR" column of section 4.2.
  if (isHelloRetryRandom(random)) {
    const extensions = yield* extensionBlock('HRR');
    return {
      type: 'hello_retry_request',
      legacyVersion,
      legacySessionIdEcho,
      cipherSuite,
      legacyCompressionMethod,
      extensions,
    } as HelloRetryRequest;
  }
  const extensions = yield* extensionBlock('SH');
  return {
    type: 'server_hello',
    legacyVersion,
    random,
    legacySessionIdEcho,
    cipherSuite,
    legacyCompressionMethod,
    extensions,
  } as ServerHello;
});

function writeServerHello(w: Writer, m: ServerHello | HelloRetryRequest): void {
  w.u16be(m.legacyVersion);
  if (m.type === 'hello_retry_request') {
    w.bytes(HELLO_RETRY_REQUEST_RANDOM);
  } else {
    // A ServerHello carrying the HelloRetryRequest random would decode as a HelloRetryRequest.
    if (m.random.length === RANDOM_LENGTH && isHelloRetryRandom(m.random)) {
      throw new EncodeError('ERR_ENCODE_RANGE', 'a ServerHello random equal to the HelloRetryRequest value');
    }
    writeFixedBytes(w, RANDOM_LENGTH, m.random, 'random');
  }
  writeOpaque(w, SESSION_ID, m.legacySessionIdEcho);
  w.u16be(m.cipherSuite);
  w.u8(m.legacyCompressionMethod);
  if (m.type === 'hello_retry_request') writeExtensionBlock(w, 'HRR', m.extensions);
  else writeExtensionBlock(w, 'SH', m.extensions);
}

// ---------------------------------------------------------------------------------------------------
// EncryptedExtensions, CertificateRequest

const encryptedExtensions: Parser<EncryptedExtensions> = extensionBlock('EE').map((extensions) => ({
  type: 'encrypted_extensions',
  extensions,
}));

function writeEncryptedExtensions(w: Writer, m: EncryptedExtensions): void {
  writeExtensionBlock(w, 'EE', m.extensions);
}

const certificateRequest: Parser<CertificateRequest> = gen('CertificateRequest', function* () {
  const certificateRequestContext = yield* opaque(REQUEST_CONTEXT);
  const extensions = yield* extensionBlock('CR');
  return { type: 'certificate_request', certificateRequestContext, extensions } as CertificateRequest;
});

function writeCertificateRequest(w: Writer, m: CertificateRequest): void {
  writeOpaque(w, REQUEST_CONTEXT, m.certificateRequestContext);
  writeExtensionBlock(w, 'CR', m.extensions);
}

// ---------------------------------------------------------------------------------------------------
// Certificate, CertificateVerify, Finished

const certificateEntry: Parser<CertificateEntry> = gen('CertificateEntry', function* () {
  const certData = yield* opaque(CERT_DATA);
  const extensions = yield* extensionBlock('CT');
  return { certData, extensions };
});

const certificate: Parser<Certificate> = gen('Certificate', function* () {
  const certificateRequestContext = yield* opaque(REQUEST_CONTEXT);
  const certificateList = yield* vector(CERTIFICATE_LIST, certificateEntry);
  return { type: 'certificate', certificateRequestContext, certificateList } as Certificate;
});

function writeCertificate(w: Writer, m: Certificate): void {
  writeOpaque(w, REQUEST_CONTEXT, m.certificateRequestContext);
  writeVector(w, CERTIFICATE_LIST, () => {
    for (const e of m.certificateList) {
      writeOpaque(w, CERT_DATA, e.certData);
      writeExtensionBlock(w, 'CT', e.extensions);
    }
  });
}

const certificateVerify: Parser<CertificateVerify> = gen('CertificateVerify', function* () {
  const algorithm = yield* u16be;
  const signature = yield* opaque(SIGNATURE);
  return { type: 'certificate_verify', algorithm, signature } as CertificateVerify;
});

function writeCertificateVerify(w: Writer, m: CertificateVerify): void {
  w.u16be(m.algorithm);
  writeOpaque(w, SIGNATURE, m.signature);
}

// ---------------------------------------------------------------------------------------------------
// NewSessionTicket

const newSessionTicket: Parser<NewSessionTicket> = gen('NewSessionTicket', function* () {
  const ticketLifetime = yield* u32be;
  const ticketAgeAdd = yield* u32be;
  const ticketNonce = yield* opaque(TICKET_NONCE);
  const ticket = yield* opaque(TICKET);
  const extensions = yield* extensionBlock('NST');
  return { type: 'new_session_ticket', ticketLifetime, ticketAgeAdd, ticketNonce, ticket, extensions } as NewSessionTicket;
});

function writeNewSessionTicket(w: Writer, m: NewSessionTicket): void {
  w.u32be(m.ticketLifetime);
  w.u32be(m.ticketAgeAdd);
  writeOpaque(w, TICKET_NONCE, m.ticketNonce);
  writeOpaque(w, TICKET, m.ticket);
  writeExtensionBlock(w, 'NST', m.extensions);
}

// ---------------------------------------------------------------------------------------------------
// dispatch

export interface DecodeOptions {
  /**
   * The negotiated hash length: a Finished whose verify_data is not this long is a `decode_error`
   * (RFC 8446 section 4.4.4: `opaque verify_data[Hash.length]`). Without it any length is accepted.
   */
  readonly hashLength?: number;
}

/** Handshake header: msg_type (1) and a 24-bit length (RFC 8446 section 4). */
export const HANDSHAKE_HEADER_LENGTH = 4;

/**
 * Decodes the body of a handshake message of type `msgType` (complete mode: `body` is the whole body).
 * Raises {@link TlsAlertError} for anything wrong (see the module doc).
 */
export function decodeHandshakeBody(msgType: number, body: Uint8Array, options: DecodeOptions = {}): HandshakeMessage {
  const name = handshakeTypeName(msgType);
  try {
    switch (name) {
      case 'client_hello':
        return parse(clientHello, body);
      case 'server_hello':
        return parse(serverHello, body);
      case 'encrypted_extensions':
        return parse(encryptedExtensions, body);
      case 'certificate_request':
        return parse(certificateRequest, body);
      case 'certificate':
        return parse(certificate, body);
      case 'certificate_verify':
        return parse(certificateVerify, body);
      case 'finished':
        // RFC 8446 section 4.4.4: verify_data is the whole body, Hash.length bytes.
        if (options.hashLength !== undefined && body.length !== options.hashLength) {
          throw new TlsAlertError('decode_error', `Finished of ${body.length} bytes, ${options.hashLength} expected`);
        }
        return { type: 'finished', verifyData: body };
      case 'new_session_ticket':
        return parse(newSessionTicket, body);
      case 'key_update':
        // RFC 9001 section 6: "Endpoints MUST treat the receipt of a TLS KeyUpdate message as a connection
        // error of type 0x010a, equivalent to a fatal TLS alert of unexpected_message".
        throw new TlsAlertError('unexpected_message', 'KeyUpdate is not used in QUIC (RFC 9001 section 6)');
      case 'end_of_early_data':
        // RFC 9001 section 8.3: "Clients MUST NOT send the EndOfEarlyData message."
        throw new TlsAlertError('unexpected_message', 'EndOfEarlyData is not used in QUIC (RFC 9001 section 8.3)');
      case 'message_hash':
      case null:
        throw new TlsAlertError('unexpected_message', `handshake message type ${msgType}`);
      default: {
        const never: never = name;
        throw new TlsAlertError('unexpected_message', `handshake message type ${String(never)}`);
      }
    }
  } catch (e) {
    throw toTlsAlert(e, `decoding ${name ?? `handshake type ${msgType}`}`);
  }
}

/**
 * Decodes one whole handshake message, header included (as the framer returns it). A length field that
 * does not match the bytes given is a `decode_error`.
 */
export function decodeHandshake(message: Uint8Array, options: DecodeOptions = {}): HandshakeMessage {
  if (message.length < HANDSHAKE_HEADER_LENGTH) throw new TlsAlertError('decode_error', `handshake message of ${message.length} bytes`);
  const length = (message[1]! << 16) | (message[2]! << 8) | message[3]!;
  if (length !== message.length - HANDSHAKE_HEADER_LENGTH) {
    throw new TlsAlertError('decode_error', `handshake length ${length}, ${message.length - HANDSHAKE_HEADER_LENGTH} body bytes`);
  }
  return decodeHandshakeBody(message[0]!, message.subarray(HANDSHAKE_HEADER_LENGTH), options);
}

/** Writes a message's body (no header). */
export function writeHandshakeBody(w: Writer, m: HandshakeMessage): void {
  switch (m.type) {
    case 'client_hello':
      return writeClientHello(w, m);
    case 'server_hello':
    case 'hello_retry_request':
      return writeServerHello(w, m);
    case 'encrypted_extensions':
      return writeEncryptedExtensions(w, m);
    case 'certificate_request':
      return writeCertificateRequest(w, m);
    case 'certificate':
      return writeCertificate(w, m);
    case 'certificate_verify':
      return writeCertificateVerify(w, m);
    case 'finished':
      w.bytes(m.verifyData);
      return;
    case 'new_session_ticket':
      return writeNewSessionTicket(w, m);
    default: {
      const never: never = m;
      throw new TlsAlertError('internal_error', `unknown message ${String((never as { type?: unknown }).type)}`);
    }
  }
}

/** Writes a whole handshake message: type, 24-bit length, body (RFC 8446 section 4). */
export function writeHandshake(w: Writer, m: HandshakeMessage): void {
  w.u8(handshakeTypeOf(m));
  const mark = w.beginLength('u24be');
  writeHandshakeBody(w, m);
  w.endLength(mark);
}

/**
 * Encodes a whole handshake message into a new array. Raises an EncodeError (ERR_ENCODE_RANGE) for a
 * value the wire format cannot carry (a vector out of its bounds, a misplaced extension...).
 */
export function encodeHandshake(m: HandshakeMessage): Uint8Array {
  const w = new Writer({ initialSize: 512 });
  writeHandshake(w, m);
  return w.toBytes();
}

/** The name of a message's handshake type (a HelloRetryRequest is a server_hello). */
export function handshakeTypeNameOf(m: HandshakeMessage): HandshakeTypeName {
  return m.type === 'hello_retry_request' ? 'server_hello' : m.type;
}

// ---------------------------------------------------------------------------------------------------
// PSK binders (RFC 8446 section 4.2.11.2)

/**
 * The number of bytes the binders list takes at the end of an encoded ClientHello (its 2-byte length
 * and every `opaque PskBinderEntry<32..255>`), or 0 when the ClientHello offers no PSK. pre_shared_key
 * is the last extension and binders its last field, so the list is the message's tail.
 */
export function bindersLength(ch: ClientHello): number {
  const last = ch.extensions[ch.extensions.length - 1];
  if (last === undefined || last.type !== 'pre_shared_key') return 0;
  let n = 2;
  for (const b of last.binders) n += 1 + b.length;
  return n;
}

/**
 * Truncate(ClientHello) of RFC 8446 section 4.2.11.2: the encoded message (header included) without
 * the binders list, the part the binders are computed over. "The length fields for the message
 * (including the overall length, the length of the extensions block, and the length of the
 * "pre_shared_key" extension) are all set as if binders of the correct lengths were present."
 */
export function truncateClientHello(message: Uint8Array, ch: ClientHello): Uint8Array {
  const n = bindersLength(ch);
  if (n === 0 || n > message.length) throw new TlsAlertError('internal_error', 'ClientHello has no binders to truncate');
  return message.subarray(0, message.length - n);
}

/**
 * Writes `binders` into the binders list at the end of an encoded ClientHello, in place: the client
 * encodes the message with placeholder binders of the right lengths, computes each binder over
 * {@link truncateClientHello}, then fills them in. Each binder must have the placeholder's length.
 */
export function fillBinders(message: Uint8Array, ch: ClientHello, binders: readonly Uint8Array[]): void {
  const last = ch.extensions[ch.extensions.length - 1];
  if (last === undefined || last.type !== 'pre_shared_key' || last.binders.length !== binders.length) {
    throw new TlsAlertError('internal_error', 'binders do not match the ClientHello pre_shared_key');
  }
  let at = message.length - bindersLength(ch) + 2;
  for (let i = 0; i < binders.length; i++) {
    const b = binders[i]!;
    if (b.length !== last.binders[i]!.length || message[at] !== b.length)
      throw new TlsAlertError('internal_error', `binder ${i} has the wrong length`);
    message.set(b, at + 1);
    at += 1 + b.length;
  }
}
