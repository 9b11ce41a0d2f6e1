/**
 * Certificate chain verification for the TLS client on Node, with node:crypto's X509Certificate.
 *
 * Checks, in order (the alert each failure gives, RFC 8446 section 6.2):
 * - every certificate parses (`bad_certificate`);
 * - every certificate is within its validity period at `now` (`certificate_expired`);
 * - each certificate is issued and signed by the next one in the chain (`bad_certificate`);
 * - the last one is one of the trusted CAs, or is issued and signed by one (`unknown_ca`);
 * - the leaf matches the server name: checkIP for an IP literal, checkHost otherwise, which follow
 *   RFC 6125 (subjectAltName first) (`bad_certificate`; no name given is also `bad_certificate`).
 *
 * Not checked: basicConstraints/keyUsage of intermediates beyond what checkIssued does, revocation,
 * name constraints. Use a full PKIX library through a custom {@link CertificateVerifier} for those.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { BoundedCache } from '../node/bounded-cache.js';
import type { CertificateVerifier } from './client.js';
import { TlsAlertError } from './errors.js';

export interface NodeCertificateVerifierOptions {
  /** Trusted CA certificates: PEM text (one or more certificates each) or DER. */
  readonly ca: readonly (string | Uint8Array)[];
  /**
   * Check the leaf against the server name (default true). Set false to verify client certificates
   * (mutual TLS), where there is no name to match.
   */
  readonly checkServerName?: boolean;
  /** The time to check validity at (default: the current time, read at each verification). */
  readonly now?: () => Date;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g;

function parse(der: string | Uint8Array, what: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (e) {
    throw new TlsAlertError('bad_certificate', `${what} does not parse: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Certificates parsed from DER, by their bytes: a client connecting to the same server again gets
 * the same chain, and parsing is the largest single cost of verification (~0.2-0.4 ms each).
 * X509Certificate objects are immutable. Bounded; cleared when full.
 */
const parsedByDer = new BoundedCache<X509Certificate>(256);

function parseCached(der: Uint8Array, what: string): X509Certificate {
  return parsedByDer.get(der, () => parse(der, what));
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey as KeyObject);
}

/** A {@link CertificateVerifier} checking the chain against `ca` and the host name (see the module doc). */
export function nodeCertificateVerifier(options: NodeCertificateVerifierOptions): CertificateVerifier {
  const anchors: X509Certificate[] = [];
  for (const c of options.ca) {
    if (typeof c === 'string') {
      for (const m of c.matchAll(PEM_CERTIFICATE)) anchors.push(parse(m[0], 'CA certificate'));
    } else {
      anchors.push(parse(c, 'CA certificate'));
    }
  }
  const anchorPrints = new Set(anchors.map((a) => a.fingerprint256));
  return (chain, serverName) => {
    const certs = chain.map((der, i) => parseCached(der, `certificate ${i}`));
    const now = (options.now ?? (() => new Date()))().getTime();
    for (const [i, c] of certs.entries()) {
      if (now < Date.parse(c.validFrom) || now > Date.parse(c.validTo)) {
        throw new TlsAlertError('certificate_expired', `certificate ${i} is not valid now`);
      }
    }
    for (let i = 0; i + 1 < certs.length; i++) {
      if (!signedBy(certs[i]!, certs[i + 1]!))
        throw new TlsAlertError('bad_certificate', `certificate ${i} is not signed by certificate ${i + 1}`);
    }
    const last = certs[certs.length - 1];
    if (last === undefined) throw new TlsAlertError('bad_certificate', 'empty chain');
    const trusted = anchorPrints.has(last.fingerprint256) || anchors.some((a) => signedBy(last, a));
    if (!trusted) throw new TlsAlertError('unknown_ca', 'the chain does not lead to a trusted CA');
    if (options.checkServerName === false) return;
    if (serverName === undefined) throw new TlsAlertError('bad_certificate', 'no server name to check the certificate against');
    const leaf = certs[0]!;
    const match = isIP(serverName) !== 0 ? leaf.checkIP(serverName) : leaf.checkHost(serverName);
    if (match === undefined) throw new TlsAlertError('bad_certificate', `certificate does not match ${serverName}`);
  };
}
