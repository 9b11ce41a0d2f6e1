/**
 * pullwire/quic/tls: the TLS 1.3 handshake layer of the QUIC engine (RFC 8446, RFC 9001).
 *
 * Handshake message codecs and extensions, the streaming message framer, the key schedule and
 * transcript, CertificateVerify content, typed alerts and the code point tables; and on them the
 * sans-I/O client and server state machines ({@link TlsClient}, {@link TlsServer}), with session
 * tickets, resumption and 0-RTT (session.ts for the client's stored sessions and PSK binders,
 * tickets.ts for the server's stateless tickets). The Node certificate verifier is in `./node.js`
 * (not re-exported here: it imports node:crypto).
 */
export {
  HANDSHAKE_TYPES,
  EXTENSION_TYPES,
  ALERTS,
  NAMED_GROUPS,
  SIGNATURE_SCHEMES,
  CIPHER_SUITE_CODES,
  TLS13,
  LEGACY_VERSION,
  HELLO_RETRY_REQUEST_RANDOM,
  DOWNGRADE_TLS12,
  DOWNGRADE_TLS11,
  PSK_KEY_EXCHANGE_MODES,
  SERVER_NAME_HOST_NAME,
  CERTIFICATE_VERIFY_CONTEXT,
  handshakeTypeName,
  extensionTypeName,
  alertName,
  namedGroupName,
  supportedGroup,
  signatureSchemeName,
  supportedSignatureScheme,
  cipherSuiteName,
  supportedCipherSuite,
} from './constants.js';
export type {
  HandshakeTypeName,
  ExtensionTypeName,
  ExtensionContext,
  AlertName,
  NamedGroupName,
  SignatureSchemeName,
  CipherSuiteName,
} from './constants.js';
export { TlsAlertError, toTlsAlert, alertForCryptoError } from './errors.js';
export { extensionBlock, writeExtensionBlock, extensionCode, extensionAllowedIn, findExtension } from './extensions.js';
export type {
  Extension,
  ExtensionsOf,
  OpaqueExtension,
  ServerName,
  ServerNameList,
  ServerNameAck,
  SupportedGroups,
  SignatureAlgorithms,
  SignatureAlgorithmsCert,
  Alpn,
  QuicTransportParameters,
  PskKeyExchangeModes,
  PskIdentity,
  OfferedPsks,
  SelectedPsk,
  EarlyDataIndication,
  EarlyDataTicket,
  Cookie,
  SupportedVersionsList,
  SelectedVersion,
  KeyShareEntry,
  KeyShareClientHello,
  KeyShareServerHello,
  KeyShareHelloRetryRequest,
  ClientHelloExtension,
  ServerHelloExtension,
  HelloRetryRequestExtension,
  EncryptedExtensionsExtension,
  CertificateRequestExtension,
  CertificateEntryExtension,
  NewSessionTicketExtension,
} from './extensions.js';
export {
  HANDSHAKE_HEADER_LENGTH,
  decodeHandshake,
  decodeHandshakeBody,
  encodeHandshake,
  writeHandshake,
  writeHandshakeBody,
  handshakeTypeOf,
  handshakeTypeNameOf,
  bindersLength,
  truncateClientHello,
  fillBinders,
} from './messages.js';
export type {
  HandshakeMessage,
  ClientHello,
  ServerHello,
  HelloRetryRequest,
  EncryptedExtensions,
  CertificateRequest,
  CertificateEntry,
  Certificate,
  CertificateVerify,
  Finished,
  NewSessionTicket,
  DecodeOptions,
} from './messages.js';
export { HandshakeFramer } from './framer.js';
export type { FramedMessage, HandshakeFramerOptions } from './framer.js';
export {
  KeySchedule,
  Transcript,
  deriveSecret,
  finishedKey,
  finishedVerifyData,
  verifyFinished,
  constantTimeEqual,
  resumptionPsk,
  exportKeyingMaterial,
  tlsTrafficKeys,
  certificateVerifyContent,
} from './key-schedule.js';
export type { PskKind, KeyScheduleStage } from './key-schedule.js';
export { TlsClient } from './client.js';
export type { TlsClientOptions, ClientState, CertificateVerifier } from './client.js';
export { TlsServer } from './server.js';
export type { TlsServerOptions, ServerState } from './server.js';
export type { EncryptionLevel, HandshakeOutput } from './handshake.js';
export {
  MAX_TICKET_LIFETIME_SECONDS,
  QUIC_MAX_EARLY_DATA,
  SESSION_TICKET_ERROR_CODES,
  SessionTicketError,
  encodeSessionTicket,
  decodeSessionTicket,
  ticketAge,
  sessionExpired,
  sessionAllowsEarlyData,
  obfuscatedTicketAge,
  sessionFromNewSessionTicket,
  encodeClientHelloWithBinders,
  verifyPskBinder,
} from './session.js';
export type { SessionTicket, SessionTicketErrorCode, SessionContext } from './session.js';
export {
  DEFAULT_TICKET_LIFETIME_SECONDS,
  DEFAULT_AGE_TOLERANCE_MS,
  MAX_TICKET_APPLICATION_DATA,
  SingleUseTicketCache,
  checkTicketOptions,
  sealTicket,
  openTicket,
} from './tickets.js';
export type { TicketOptions, TicketState, OpenedTicket, EarlyDataInfo } from './tickets.js';
