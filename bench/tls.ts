/**
 * Full TLS 1.3 handshakes per second: our sans-I/O client and server (src/quic/tls) run against each
 * other in memory, vs Node's own TLS (node:tls, OpenSSL) client and server over an in-memory duplex
 * pair, in the same process.
 *
 * Every handshake is a full one (no resumption, no HelloRetryRequest): X25519,
 * TLS_AES_128_GCM_SHA256, and a server certificate signed by a CA that the client trusts, with chain
 * verification on in every client (the leaf's signature is checked against the CA key, its validity
 * dates and its name against "localhost"). The certificates are bench/certs (make-certs.sh there): a
 * CA and a leaf per key type, so that verification checks a real signature; a self-signed leaf trusted
 * as its own anchor has no signature checked, by OpenSSL or by our verifiers.
 *
 * Ours, per handshake: a new TlsClient and TlsServer (options, certificate chain, signer and
 * verifier built once), `client.start()`, then each side's `send` outputs fed to the other's
 * `receive(level, bytes)` until neither has output. Client verifier:
 * - node provider: src/quic/tls/node.ts `nodeCertificateVerifier({ ca })` (X509Certificate parse,
 *   dates, checkIssued + verify against the CA, checkHost);
 * - noble provider: {@link nobleCertificateVerifier} below, which parses the leaf with our DER reader
 *   and checks the issuer name, the dates, the dNSName against the server name and the signature over
 *   the TBSCertificate with the noble provider's verifier (the same one CertificateVerify uses).
 * The QUIC handshake carries ALPN and quic_transport_parameters (RFC 9001 section 8), which node:tls
 * does not; both sides negotiate ALPN "h3".
 *
 * Anchor, per handshake: two stream.Duplex objects wired to each other (a write on one is a push
 * on the other), a server `new tls.TLSSocket(b, { isServer: true, secureContext })` and a client
 * `tls.connect({ socket: a, secureContext, servername: 'localhost' })`, TLS 1.3 only, the same suite
 * and group, ALPN "h3"; done when the client has 'secureConnect' (OpenSSL verified the chain against
 * the CA and Node checked the host name) and the server 'secure'; then both sockets are destroyed.
 * Secure contexts are built once. OpenSSL's server sends two NewSessionTickets after the handshake
 * by default (Node has no way to turn that off); ours sends none, except in the `-tickets2` case
 * where our server issues two as well (the like-for-like comparison).
 *
 * Handshakes run one after the other, each to completion, on one thread. Output check: every run
 * counts handshakes where both sides finished and agree (ours: the client's application write
 * secret equals the server's application read secret; node: the client's Finished equals the
 * server's peer Finished, and the client says the chain was authorized); any failure or a short
 * count fails the run.
 */
import { Duplex } from 'node:stream';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { TLSSocket, connect as tlsConnect, createSecureContext, type SecureContext } from 'node:tls';
import { createNobleProvider } from '../src/quic/crypto/noble.js';
import { createNodeProvider, loadCertificateChain, loadPrivateKey } from '../src/quic/crypto/node.js';
import { DER_TAG, DerReader, oidToString } from '../src/quic/crypto/der.js';
import type { CryptoProvider, SignatureScheme, Signer } from '../src/quic/crypto/provider.js';
import { TlsClient, TlsServer, TlsAlertError, type CertificateVerifier, type HandshakeOutput } from '../src/quic/tls/index.js';
import { nodeCertificateVerifier } from '../src/quic/tls/node.js';
import { defineCase, type BenchCase, type Prepared, type Side } from './harness.js';

const CERTS = new URL('../../bench/certs/', import.meta.url);
const SERVER_NAME = 'localhost';
const ALPN = 'h3';
const SUITE = 'TLS_AES_128_GCM_SHA256';
const CLIENT_TP = Uint8Array.of(0x01, 0x02, 0x43, 0xe8); // max_idle_timeout = 1000 (RFC 9000 section 18.2)
const SERVER_TP = Uint8Array.of(0x01, 0x02, 0x43, 0xe8);

type KeyKind = 'ecdsa' | 'ed25519';
type ProviderKind = 'node' | 'noble';

interface Pems {
  readonly caCert: string;
  readonly leafCert: string;
  readonly leafKey: string;
}

function pems(kind: KeyKind): Pems {
  const read = (name: string): string => readFileSync(new URL(`${kind}-${name}.pem`, CERTS), 'utf8');
  return { caCert: read('ca-cert'), leafCert: read('leaf-cert'), leafKey: read('leaf-key') };
}

// ---------------------------------------------------------------- a portable certificate verifier

/** The parts of an X.509 certificate (RFC 5280 section 4.1) the portable verifier checks. */
interface CertificateParts {
  readonly tbs: Uint8Array;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly spki: Uint8Array;
  readonly dnsNames: readonly string[];
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
}

const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const OID_ED25519 = '1.3.101.112';
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;
const CONTEXT_3 = 0xa3;
const DNS_NAME = 0x82;

/** RFC 5280 section 4.1.2.5: UTCTime YYMMDDHHMMSSZ (years 50-99 are 19xx) or GeneralizedTime YYYYMMDDHHMMSSZ. */
function readTime(r: DerReader): number {
  const e = r.read();
  const s = Buffer.from(e.value).toString('latin1');
  const m = e.tag === UTC_TIME ? /^(\d\d)(\d{10})Z$/.exec(s) : e.tag === GENERALIZED_TIME ? /^(\d{4})(\d{10})Z$/.exec(s) : null;
  if (m === null) throw new TlsAlertError('bad_certificate', `validity time ${s}`);
  const year = m[1]!.length === 2 ? (Number(m[1]) < 50 ? 2000 : 1900) + Number(m[1]) : Number(m[1]);
  const d = m[2]!;
  return Date.UTC(
    year,
    Number(d.slice(0, 2)) - 1,
    Number(d.slice(2, 4)),
    Number(d.slice(4, 6)),
    Number(d.slice(6, 8)),
    Number(d.slice(8, 10)),
  );
}

function readCertificate(der: Uint8Array): CertificateParts {
  const top = new DerReader(der, 'ERR_INVALID_CERTIFICATE');
  const cert = top.enter(DER_TAG.SEQUENCE);
  top.end();
  const tbsElement = cert.read(DER_TAG.SEQUENCE);
  const algorithm = new DerReader(cert.read(DER_TAG.SEQUENCE).value, 'ERR_INVALID_CERTIFICATE');
  const signatureAlgorithm = oidToString(algorithm.read(DER_TAG.OID).value);
  const bits = cert.read(DER_TAG.BIT_STRING).value;
  cert.end();
  if (bits.length === 0 || bits[0] !== 0) throw new TlsAlertError('bad_certificate', 'signature BIT STRING with unused bits');
  const tbs = new DerReader(tbsElement.value, 'ERR_INVALID_CERTIFICATE');
  if (tbs.peekTag() === DER_TAG.CONTEXT_0) tbs.read(DER_TAG.CONTEXT_0);
  tbs.read(DER_TAG.INTEGER); // serialNumber
  tbs.read(DER_TAG.SEQUENCE); // signature
  const issuer = tbs.read(DER_TAG.SEQUENCE).whole;
  const validity = tbs.enter(DER_TAG.SEQUENCE);
  const notBefore = readTime(validity);
  const notAfter = readTime(validity);
  const subject = tbs.read(DER_TAG.SEQUENCE).whole;
  const spki = tbs.read(DER_TAG.SEQUENCE).whole;
  const dnsNames: string[] = [];
  while (!tbs.done) {
    if (tbs.peekTag() !== CONTEXT_3) {
      tbs.read(); // issuerUniqueID / subjectUniqueID
      continue;
    }
    const extensions = tbs.enter(CONTEXT_3).enter(DER_TAG.SEQUENCE);
    while (!extensions.done) {
      const ext = extensions.enter(DER_TAG.SEQUENCE);
      const oid = oidToString(ext.read(DER_TAG.OID).value);
      if (ext.peekTag() === 0x01) ext.read(0x01); // critical
      const value = ext.read(DER_TAG.OCTET_STRING).value;
      if (oid !== OID_SUBJECT_ALT_NAME) continue;
      const names = new DerReader(value, 'ERR_INVALID_CERTIFICATE').enter(DER_TAG.SEQUENCE);
      while (!names.done) {
        const n = names.read();
        if (n.tag === DNS_NAME) dnsNames.push(Buffer.from(n.value).toString('latin1').toLowerCase());
      }
    }
  }
  return { tbs: tbsElement.whole, issuer, subject, notBefore, notAfter, spki, dnsNames, signatureAlgorithm, signature: bits.subarray(1) };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function pemToDer(pem: string): Uint8Array {
  const body = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pem)?.[1];
  if (body === undefined) throw new Error('no certificate in PEM');
  return new Uint8Array(Buffer.from(body.replace(/\s+/g, ''), 'base64'));
}

/**
 * A chain of one leaf issued by `caPem`: issuer name = the CA's subject, within its dates, a dNSName
 * equal to the server name (no wildcards), and the CA's signature over the TBSCertificate checked with
 * `provider`'s signature verifier (ECDSA P-256 SHA-256 or Ed25519). Enough for this bench, not a PKIX
 * validator (no intermediates, constraints or key usage).
 */
function nobleCertificateVerifier(provider: CryptoProvider, caPem: string): CertificateVerifier {
  const ca = readCertificate(pemToDer(caPem));
  return (chain, serverName) => {
    if (chain.length !== 1) throw new TlsAlertError('bad_certificate', `chain of ${chain.length}, this verifier takes one leaf`);
    const leaf = readCertificate(chain[0]!);
    if (!sameBytes(leaf.issuer, ca.subject)) throw new TlsAlertError('unknown_ca', 'leaf not issued by the CA');
    const now = Date.now();
    if (now < leaf.notBefore || now > leaf.notAfter) throw new TlsAlertError('certificate_expired', 'leaf is not valid now');
    if (serverName === undefined || !leaf.dnsNames.includes(serverName.toLowerCase()))
      throw new TlsAlertError('bad_certificate', `leaf does not name ${String(serverName)}`);
    const scheme: SignatureScheme | null =
      leaf.signatureAlgorithm === OID_ECDSA_WITH_SHA256
        ? 'ecdsa_secp256r1_sha256'
        : leaf.signatureAlgorithm === OID_ED25519
          ? 'ed25519'
          : null;
    if (scheme === null) throw new TlsAlertError('bad_certificate', `signature algorithm ${leaf.signatureAlgorithm}`);
    if (!provider.signatureVerifier.verify(scheme, ca.spki, leaf.tbs, leaf.signature))
      throw new TlsAlertError('bad_certificate', 'bad CA signature on the leaf');
  };
}

// ---------------------------------------------------------------- ours

interface Outcome {
  readonly planned: number;
  readonly done: number;
}

/** The server signer: the node provider takes the PEM; noble takes the raw key (P-256 scalar or Ed25519 seed). */
function signerFor(provider: CryptoProvider, kind: ProviderKind, key: KeyKind, pem: string): Signer {
  if (kind === 'node') return loadPrivateKey(pem);
  const jwk = createPrivateKey(pem).export({ format: 'jwk' });
  const raw = new Uint8Array(Buffer.from(jwk.d!, 'base64url'));
  return provider.createSigner(key === 'ecdsa' ? { type: 'ecdsa-p256', privateKey: raw } : { type: 'ed25519', privateKey: raw });
}

function secretOf(out: readonly HandshakeOutput[], direction: 'read' | 'write'): Uint8Array | null {
  for (const o of out) if (o.type === 'keys' && o.level === 'application' && o.direction === direction) return o.secret;
  return null;
}

/**
 * A factory of one full in-memory handshake of ours; returns whether both sides completed and agree.
 * With `tickets` the server also issues that many NewSessionTickets (never used: every handshake is
 * full) and the client must have taken them all.
 */
function oursHandshake(kind: ProviderKind, key: KeyKind, tickets: number): () => boolean {
  const p = pems(key);
  const provider = kind === 'node' ? createNodeProvider() : createNobleProvider();
  const verifyCertificate = kind === 'node' ? nodeCertificateVerifier({ ca: [p.caCert] }) : nobleCertificateVerifier(provider, p.caCert);
  const clientOptions = {
    provider,
    serverName: SERVER_NAME,
    alpn: [ALPN],
    transportParameters: CLIENT_TP,
    cipherSuites: [SUITE] as const,
    groups: ['x25519'] as const,
    verifyCertificate,
  };
  const serverOptions = {
    provider,
    certificateChain: loadCertificateChain(p.leafCert),
    signer: signerFor(provider, kind, key, p.leafKey),
    alpn: [ALPN],
    transportParameters: SERVER_TP,
    ...(tickets > 0 ? { tickets: { key: provider.random(32), count: tickets } } : {}),
  };
  return () => {
    const client = new TlsClient(clientOptions);
    const server = new TlsServer(serverOptions);
    let clientWrite: Uint8Array | null = null;
    let serverRead: Uint8Array | null = null;
    let sessions = 0;
    client.start();
    for (let round = 0; round < 8; round++) {
      const c = client.takeOutputs();
      for (const o of c) {
        if (o.type === 'send') server.receive(o.level, o.data);
        else if (o.type === 'session-ticket') sessions++;
      }
      clientWrite ??= secretOf(c, 'write');
      const s = server.takeOutputs();
      for (const o of s) if (o.type === 'send') client.receive(o.level, o.data);
      serverRead ??= secretOf(s, 'read');
      if (c.length === 0 && s.length === 0) break;
    }
    return (
      client.state === 'client-complete' &&
      server.state === 'server-complete' &&
      client.alpn === ALPN &&
      sessions === tickets &&
      clientWrite !== null &&
      serverRead !== null &&
      sameBytes(clientWrite, serverRead)
    );
  };
}

// ---------------------------------------------------------------- node:tls

/** Two Duplex streams wired to each other: what one writes, the other reads. */
function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        peer().push(chunk);
        callback();
      },
      final(callback) {
        peer().push(null);
        callback();
      },
    });
  sides.push(
    make(() => sides[1]!),
    make(() => sides[0]!),
  );
  return [sides[0]!, sides[1]!];
}

const NODE_TLS = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: SUITE, ecdhCurve: 'X25519' } as const;

interface NodeTls {
  readonly server: SecureContext;
  readonly client: SecureContext;
}

function nodeContexts(key: KeyKind): NodeTls {
  const p = pems(key);
  return {
    server: createSecureContext({ ...NODE_TLS, cert: p.leafCert, key: p.leafKey }),
    client: createSecureContext({ ...NODE_TLS, ca: p.caCert }),
  };
}

/** One node:tls handshake over a duplex pair; resolves to whether it completed and both sides agree. */
async function nodeHandshake(ctx: NodeTls, details?: (client: TLSSocket) => void): Promise<boolean> {
  const [a, b] = duplexPair();
  const server = new TLSSocket(b, { isServer: true, secureContext: ctx.server, ALPNProtocols: [ALPN] });
  const client = tlsConnect({ socket: a, secureContext: ctx.client, servername: SERVER_NAME, ALPNProtocols: [ALPN] });
  try {
    await Promise.all([once(server, 'secure'), once(client, 'secureConnect')]);
    details?.(client);
    const finished = client.getFinished();
    const peerFinished = server.getPeerFinished();
    return (
      client.authorized &&
      client.alpnProtocol === ALPN &&
      finished !== undefined &&
      peerFinished !== undefined &&
      finished.equals(peerFinished)
    );
  } finally {
    client.destroy();
    server.destroy();
  }
}

// ---------------------------------------------------------------- cases

const outcome = (planned: number, done: number): Outcome => ({ planned, done });

function syncSide(items: number, handshake: () => boolean): Side<Outcome> {
  return {
    items,
    run() {
      let done = 0;
      for (let i = 0; i < items; i++) if (handshake()) done++;
      return outcome(items, done);
    },
  };
}

function nodeSide(items: number, ctx: NodeTls): Side<Outcome> {
  return {
    items,
    async run() {
      let done = 0;
      for (let i = 0; i < items; i++) if (await nodeHandshake(ctx)) done++;
      return outcome(items, done);
    },
  };
}

/** Checks once, outside the timing, that node:tls negotiates what ours does (a silent fallback would flatter it). */
async function checkNodeNegotiation(ctx: NodeTls, key: KeyKind): Promise<void> {
  let seen = '';
  const ok = await nodeHandshake(ctx, (c) => {
    const cipher = c.getCipher() as { standardName?: string };
    const group = c.getEphemeralKeyInfo() as { name?: string };
    seen = `${c.getProtocol()} ${cipher.standardName} ${group.name} ${c.getPeerCertificate().pubkey?.length ?? 0}`;
  });
  const want = `TLSv1.3 ${SUITE} X25519`;
  if (!ok || !seen.startsWith(want)) throw new Error(`node:tls ${key} negotiated "${seen}", wanted "${want}"`);
}

interface CaseSpec {
  readonly kind: ProviderKind;
  readonly key: KeyKind;
  /** NewSessionTickets our server issues per handshake (OpenSSL's server sends 2 by default). */
  readonly tickets: number;
  readonly oursItems: number;
  readonly anchorItems: number;
  readonly target: number;
}

function handshakeCase(spec: CaseSpec): BenchCase {
  const { kind, key, tickets } = spec;
  return defineCase<Outcome>({
    name: `full-${key}-${kind}${tickets > 0 ? `-tickets${tickets}` : ''}`,
    unit: 'handshakes/s',
    scale: 1,
    target: spec.target,
    description:
      `full TLS 1.3 handshake in memory (X25519, ${SUITE}, ${key === 'ecdsa' ? 'ECDSA P-256' : 'Ed25519'} leaf + CA, chain verified` +
      `${tickets > 0 ? `, our server issuing ${tickets} session tickets` : ''}), ` +
      `ours with the ${kind} provider vs node:tls TLSSocket client + server over a duplex pair`,
    prepare(): Prepared<Outcome> {
      const ctx = nodeContexts(key);
      let checked = false;
      const anchor = nodeSide(spec.anchorItems, ctx);
      return {
        ours: syncSide(spec.oursItems, oursHandshake(kind, key, tickets)),
        anchor: {
          items: anchor.items,
          async run() {
            if (!checked) {
              await checkNodeNegotiation(ctx, key);
              checked = true;
            }
            return anchor.run();
          },
        },
        checksum: (o) => (o.planned > 0 && o.done === o.planned ? 1 : 0),
        expected: 1,
      };
    },
  });
}

export const cases: BenchCase[] = [
  handshakeCase({ kind: 'node', key: 'ecdsa', tickets: 0, oursItems: 300, anchorItems: 300, target: 1.0 }),
  handshakeCase({ kind: 'noble', key: 'ecdsa', tickets: 0, oursItems: 12, anchorItems: 300, target: 0.1 }),
  handshakeCase({ kind: 'node', key: 'ed25519', tickets: 0, oursItems: 300, anchorItems: 300, target: 1.0 }),
  handshakeCase({ kind: 'noble', key: 'ed25519', tickets: 0, oursItems: 20, anchorItems: 300, target: 0.1 }),
  // The same work as OpenSSL's server, which sends two tickets after every handshake.
  handshakeCase({ kind: 'node', key: 'ecdsa', tickets: 2, oursItems: 300, anchorItems: 300, target: 1.0 }),
];
