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
// The adapter's whole public surface (its index exports nothing internal).
export * from './node/index.js';
