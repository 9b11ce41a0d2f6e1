/**
 * Shared helpers for the QUIC crypto tests: hex conversion and the list of
 * providers every test loops over.
 */
import { createNobleProvider } from '../../../src/quic/crypto/noble.js';
import { createNodeProvider } from '../../../src/quic/crypto/node.js';
import type { CipherSuite, CryptoProvider } from '../../../src/quic/crypto/provider.js';

/** Every provider must pass every test. */
// The Node provider twice: with its default (portable) header protection and with node:crypto's.
export const PROVIDERS: readonly CryptoProvider[] = [
  createNobleProvider(),
  createNodeProvider(),
  createNodeProvider({ headerProtection: 'node' }),
];

export const SUITES: readonly CipherSuite[] = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

export function hex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-f]*$/.test(s)) throw new Error(`bad hex in a test vector: ${s.slice(0, 20)}...`);
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
