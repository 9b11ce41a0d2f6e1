/**
 * pullwire/quic/node: QUIC on Node. The UDP adapter (`listen`, `connect`,
 * `QuicSocket`: see ./node/index.ts) and the crypto provider on
 * `node:crypto` (OpenSSL), byte-identical to the portable provider of
 * `pullwire/quic` and several times faster per packet (bench/RESULTS.md,
 * quic-wire). Kept out of the portable entry so that importing
 * `pullwire/quic` never loads `node:*`.
 */
export { createNodeProvider, loadCertificateChain, loadPrivateKey } from './crypto/node.js';
export type { NodeProviderOptions, LoadPrivateKeyOptions } from './crypto/node.js';
export { nodeCertificateVerifier } from './tls/node.js';
export type { NodeCertificateVerifierOptions } from './tls/node.js';
export {
  listen,
  connect,
  QuicSocket,
  QuicServer,
  QuicConnection,
  QuicStream,
  QuicError,
  QUIC_NODE_ERROR_CODES,
  describeCloseReason,
  errorCodeOf,
  keylogSink,
  QlogWriter,
} from './node/index.js';
export type {
  QuicSocketEvents,
  QuicServerEvents,
  QuicConnectionEvents,
  ConnectionCloseOptions,
  OpenStreamOptions,
  StreamBufferOptions,
  QuicErrorOptions,
  QuicNodeErrorCode,
  KeylogOption,
  QlogTraceInfo,
  ClientOptions,
  ConnectOptions,
  DebugOptions,
  ListenOptions,
  ServerOptions,
  SocketOptions,
  TransportOptions,
} from './node/index.js';
