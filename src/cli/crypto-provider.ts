/** What the QUIC commands share: the `--provider` option and the peak memory they report. */
import { createNobleProvider } from '../quic/crypto/noble.js';
import type { CryptoProvider } from '../quic/crypto/provider.js';
import { createNodeProvider } from '../quic/node.js';

/** The crypto provider named on a command line: `node` (node:crypto, the default) or `noble` (portable). */
export function providerByName(name: string): CryptoProvider {
  if (name === 'node') return createNodeProvider();
  if (name === 'noble') return createNobleProvider();
  throw new Error(`--provider must be node or noble, not ${name}`);
}

/** The process's peak resident set size in MiB, one decimal (resourceUsage reports KiB). */
export function peakRssMiB(): number {
  return Math.round(process.resourceUsage().maxRSS / 102.4) / 10;
}
