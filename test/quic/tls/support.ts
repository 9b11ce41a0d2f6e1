/**
 * Helpers for the TLS tests: the provider pair, providers whose random source replays given bytes
 * (to turn RFC 8448's private keys into key shares), and byte helpers.
 */
import { createNobleProvider } from '../../../src/quic/crypto/noble.js';
import { createNodeProvider } from '../../../src/quic/crypto/node.js';
import type { CryptoProvider } from '../../../src/quic/crypto/provider.js';
import { PullwireError, UsageError } from '../../../src/combinators/errors.js';
import { TlsAlertError } from '../../../src/quic/tls/errors.js';

export { hex, toHex, concat, plain } from '../../support/bytes.js';

export type ProviderKind = 'noble' | 'node';
export const PROVIDER_KINDS: readonly ProviderKind[] = ['noble', 'node'];

/** A provider of `kind` whose random source returns `values` in order (each must be asked with its exact length). */
export function replayProvider(kind: ProviderKind, ...values: Uint8Array[]): CryptoProvider {
  const queue = [...values];
  const random = (n: number): Uint8Array => {
    const next = queue.shift();
    if (next === undefined) throw new Error(`replayProvider: no more random values (asked ${n})`);
    if (next.length !== n) throw new Error(`replayProvider: asked ${n} bytes, next value has ${next.length}`);
    return next.slice();
  };
  return kind === 'noble' ? createNobleProvider({ random }) : createNodeProvider({ random });
}

/** Providers with the default (real) random sources. */
export const PROVIDERS: Readonly<Record<ProviderKind, CryptoProvider>> = { noble: createNobleProvider(), node: createNodeProvider() };

/** An assert.throws predicate: a TlsAlertError with alert name `code`. */
export function alert(code: string): (e: unknown) => boolean {
  return (e: unknown) => {
    if (e instanceof TlsAlertError && e.code === code) return true;
    throw e;
  };
}

/** An assert.throws predicate: a PullwireError (not a UsageError) with this code. */
export function coded(code: string): (e: unknown) => boolean {
  return (e: unknown) => {
    if (e instanceof PullwireError && !(e instanceof UsageError) && e.code === code) return true;
    throw e;
  };
}
