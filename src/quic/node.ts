/**
 * pullwire/quic/node: the crypto provider on `node:crypto` (OpenSSL), for
 * Node only. Byte-identical to the portable provider of `pullwire/quic` and
 * several times faster per packet (bench/RESULTS.md, quic-wire). Kept out of
 * the portable entry so that importing `pullwire/quic` never loads
 * `node:crypto`.
 */
export { createNodeProvider } from './crypto/node.js';
export type { NodeProviderOptions } from './crypto/node.js';
