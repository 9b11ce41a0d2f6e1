/**
 * The TLS 1.3 server handshake for QUIC (RFC 8446 section 2, RFC 9001 section 4), sans-I/O: full 1-RTT
 * handshakes with (EC)DHE, authenticated by a certificate chain and its signing key.
 *
 * ```
 * server-expect-client-hello  ClientHello -> send(initial, ServerHello), keys(handshake, read + write),
 *                                            alpn, peer-transport-parameters,
 *                                            send(handshake, EncryptedExtensions [CertificateRequest]
 *                                                 Certificate CertificateVerify Finished),
 *                                            keys(application, write)
 * server-expect-finished      Finished    -> keys(application, read), complete
 * server-complete
 * ```
 *
 * The 1-RTT read keys are released only after the client Finished verifies: RFC 9001 section 5.7, "a
 * server MUST NOT process incoming 1-RTT protected packets before the TLS handshake is complete".
 *
 * A ClientHello whose key shares are all in groups we do not accept, while its supported_groups lists
 * one we do, gets a HelloRetryRequest (RFC 8446 section 4.1.4) and the state
 * `server-expect-second-client-hello`; the HelloRetryRequest carries no cookie (the server keeps its
 * state; address validation is QUIC's Retry packet, RFC 9000 section 8.1).
 *
 * With `clientAuthentication` the server flight includes a CertificateRequest and the client's
 * Certificate and CertificateVerify are expected before its Finished
 * (`server-expect-client-certificate`, `server-expect-client-certificate-verify`).
 *
 * Not handled yet: PSK resumption and tickets, 0-RTT (offers are ignored, which declines them).
 */
import { UsageError } from '../../combinators/errors.js';
import { suiteInfo } from '../crypto/provider.js';
import type { CipherSuite, CryptoProvider, NamedGroup, SignatureScheme, Signer } from '../crypto/provider.js';
import { SIGNATURE_SCHEMES_SUPPORTED } from '../crypto/provider.js';
import { certificatePublicKey } from '../crypto/der.js';
import type { CertificateVerifier } from './client.js';
import { CIPHER_SUITE_CODES, LEGACY_VERSION, NAMED_GROUPS, SIGNATURE_SCHEMES, TLS13, supportedSignatureScheme } from './constants.js';
import { TlsAlertError } from './errors.js';
import { findExtension, type KeyShareEntry } from './extensions.js';
import { alpnBytes, alpnString, concatBytes, HandshakeMachine, type EncryptionLevel } from './handshake.js';
import { KeySchedule, Transcript, certificateVerifyContent, finishedVerifyData, verifyFinished } from './key-schedule.js';
import {
  encodeHandshake,
  type Certificate,
  type CertificateVerify,
  type ClientHello,
  type Finished,
  type HandshakeMessage,
} from './messages.js';

export interface TlsServerOptions {
  readonly provider: CryptoProvider;
  /** DER certificates, leaf first (e.g. from the Node provider's loadCertificateChain). */
  readonly certificateChain: readonly Uint8Array[];
  /** The leaf certificate's private key (provider.createSigner, or loadPrivateKey in Node). */
  readonly signer: Signer;
  /** ALPN protocol ids accepted, in the server's preference order. */
  readonly alpn: readonly string[];
  /** Our quic_transport_parameters extension body, encoded by the QUIC layer (RFC 9001 section 8.2). */
  readonly transportParameters: Uint8Array;
  /** Suites accepted, in the server's preference order. Default: AES-128-GCM, ChaCha20-Poly1305, AES-256-GCM. */
  readonly cipherSuites?: readonly CipherSuite[];
  /** Groups accepted, in preference order. Default: x25519, secp256r1. */
  readonly groups?: readonly NamedGroup[];
  /**
   * Ask for a client certificate (mutual TLS, RFC 8446 section 4.3.2). `verifyCertificate` gets the
   * client's chain (and no server name); `required` (default true) refuses a client without one with
   * certificate_required.
   */
  readonly clientAuthentication?: { readonly verifyCertificate: CertificateVerifier; readonly required?: boolean };
}

export type ServerState =
  | 'server-expect-client-hello'
  | 'server-expect-second-client-hello'
  | 'server-expect-client-certificate'
  | 'server-expect-client-certificate-verify'
  | 'server-expect-finished'
  | 'server-complete';

const DEFAULT_SUITES: readonly CipherSuite[] = ['TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_256_GCM_SHA384'];
const DEFAULT_GROUPS: readonly NamedGroup[] = ['x25519', 'secp256r1'];

/** A TLS 1.3 server handshake for one QUIC connection. */
export class TlsServer extends HandshakeMachine<ServerState> {
  private readonly provider: CryptoProvider;
  private readonly options: TlsServerOptions;
  private readonly transcript: Transcript;
  private schedule: KeySchedule | null = null;
  private suite: CipherSuite | null = null;
  private clientHandshakeSecret: Uint8Array | null = null;
  private clientApplicationSecret: Uint8Array | null = null;
  private alpnValue: string | null = null;
  private clientPublicKey: Uint8Array | null = null;
  /** After a HelloRetryRequest: the suite and group it fixed (RFC 8446 section 4.1.4). */
  private retry: { suite: CipherSuite; group: NamedGroup } | null = null;

  constructor(options: TlsServerOptions) {
    super('server-expect-client-hello');
    if (options.certificateChain.length === 0) throw new UsageError('the server needs a certificate chain');
    if (options.alpn.length === 0) throw new UsageError('QUIC requires at least one ALPN protocol (RFC 9001 section 8.1)');
    this.provider = options.provider;
    this.options = options;
    this.transcript = new Transcript(options.provider);
  }

  /** The negotiated ALPN protocol, once the ClientHello was processed. */
  get alpn(): string | null {
    return this.alpnValue;
  }

  /** The negotiated suite, once the ClientHello was processed. */
  get cipherSuite(): CipherSuite | null {
    return this.suite;
  }

  protected expectedLevel(): EncryptionLevel | null {
    switch (this.state) {
      case 'server-expect-client-hello':
      case 'server-expect-second-client-hello':
        return 'initial';
      case 'server-expect-client-certificate':
      case 'server-expect-client-certificate-verify':
      case 'server-expect-finished':
        return 'handshake';
      case 'server-complete':
        return null;
    }
  }

  protected handle(message: HandshakeMessage, raw: Uint8Array): void {
    switch (this.state) {
      case 'server-expect-client-hello':
        if (message.type !== 'client_hello') return this.unexpected(message);
        return this.onClientHello(message, raw);
      case 'server-expect-second-client-hello':
        if (message.type !== 'client_hello') return this.unexpected(message);
        return this.onClientHello(message, raw);
      case 'server-expect-client-certificate':
        if (message.type !== 'certificate') return this.unexpected(message);
        return this.onClientCertificate(message, raw);
      case 'server-expect-client-certificate-verify':
        if (message.type !== 'certificate_verify') return this.unexpected(message);
        return this.onClientCertificateVerify(message, raw);
      case 'server-expect-finished':
        if (message.type !== 'finished') return this.unexpected(message);
        return this.onFinished(message, raw);
      case 'server-complete':
        return this.unexpected(message);
    }
  }

  private onClientHello(m: ClientHello, raw: Uint8Array): void {
    // RFC 8446 section 4.2.1: without supported_versions listing 0x0304 the client does not offer TLS 1.3.
    const versions = findExtension(m.extensions, 'supported_versions');
    if (versions === undefined || !versions.versions.includes(TLS13))
      throw new TlsAlertError('protocol_version', 'client does not offer TLS 1.3');
    // RFC 8446 section 4.1.2: TLS 1.3 ClientHellos carry exactly one compression method, null.
    if (m.legacyCompressionMethods.length !== 1 || m.legacyCompressionMethods[0] !== 0) {
      throw new TlsAlertError('illegal_parameter', 'legacy_compression_methods is not [0]');
    }
    const suite = (this.options.cipherSuites ?? DEFAULT_SUITES).find((s) => m.cipherSuites.includes(CIPHER_SUITE_CODES[s].code));
    if (suite === undefined) throw new TlsAlertError('handshake_failure', 'no common cipher suite');

    // RFC 8446 section 9.2: a ClientHello offering (EC)DHE must carry supported_groups and key_share,
    // and with certificates signature_algorithms; missing ones are missing_extension.
    const groups = findExtension(m.extensions, 'supported_groups');
    const shares = findExtension(m.extensions, 'key_share');
    const sigAlgs = findExtension(m.extensions, 'signature_algorithms');
    if (groups === undefined || shares === undefined || sigAlgs === undefined) {
      throw new TlsAlertError('missing_extension', 'ClientHello lacks supported_groups, key_share or signature_algorithms');
    }
    let chosen: { group: NamedGroup; entry: KeyShareEntry } | undefined;
    for (const g of this.options.groups ?? DEFAULT_GROUPS) {
      const entry = shares.shares.find((s) => s.group === NAMED_GROUPS[g].code);
      if (entry !== undefined) {
        chosen = { group: g, entry };
        break;
      }
    }
    const scheme: SignatureScheme | undefined = this.options.signer.schemes.find((s) =>
      sigAlgs.schemes.some((code) => supportedSignatureScheme(code) === s),
    );
    if (scheme === undefined) throw new TlsAlertError('handshake_failure', 'no signature scheme in common with our key');

    // RFC 7301 section 3.2 and RFC 9001 section 8.1: no common protocol is no_application_protocol.
    const offered = findExtension(m.extensions, 'application_layer_protocol_negotiation');
    const offeredNames = offered === undefined ? [] : offered.protocols.map(alpnString);
    const protocol = this.options.alpn.find((p) => offeredNames.includes(p));
    if (protocol === undefined) throw new TlsAlertError('no_application_protocol', 'no ALPN protocol in common');
    const params = findExtension(m.extensions, 'quic_transport_parameters');
    if (params === undefined) throw new TlsAlertError('missing_extension', 'no quic_transport_parameters (RFC 9001 section 8.2)');

    if (this.retry !== null) {
      // RFC 8446 section 4.2.8: after a HelloRetryRequest the client sends exactly one share, in the
      // selected group; section 4.1.4: the suite must stay the one the HelloRetryRequest named.
      if (shares.shares.length !== 1 || chosen?.group !== this.retry.group) {
        throw new TlsAlertError('illegal_parameter', 'second ClientHello does not carry one key share in the selected group');
      }
      if (suite !== this.retry.suite) throw new TlsAlertError('illegal_parameter', 'second ClientHello changes the cipher suite');
    }
    if (chosen === undefined) {
      // RFC 8446 section 4.1.4: a group both support but without a share is asked for with a
      // HelloRetryRequest; with no common group at all the handshake fails.
      const group = (this.options.groups ?? DEFAULT_GROUPS).find((g) => groups.groups.includes(NAMED_GROUPS[g].code));
      if (group === undefined) throw new TlsAlertError('handshake_failure', 'no group in common');
      return this.sendHelloRetryRequest(m, raw, suite, group);
    }

    const keyShare = this.provider.generateKeyShare(chosen.group);
    const shared = keyShare.deriveSecret(chosen.entry.keyExchange);
    const info = suiteInfo(suite);
    this.suite = suite;
    this.hashLength = info.hashLength;
    this.alpnValue = protocol;
    this.transcript.setHash(info.hash);
    this.transcript.add(raw);
    this.emit({ type: 'alpn', protocol });
    this.emit({ type: 'peer-transport-parameters', bytes: params.data });

    const serverHello = encodeHandshake({
      type: 'server_hello',
      legacyVersion: LEGACY_VERSION,
      random: this.provider.random(32),
      // RFC 8446 section 4.1.3: echo the client's value (empty from a QUIC client, RFC 9001 section 8.4).
      legacySessionIdEcho: m.legacySessionId,
      cipherSuite: CIPHER_SUITE_CODES[suite].code,
      legacyCompressionMethod: 0,
      extensions: [
        { type: 'supported_versions', version: TLS13 },
        { type: 'key_share', share: { group: NAMED_GROUPS[chosen.group].code, keyExchange: keyShare.publicKey } },
      ],
    });
    this.transcript.add(serverHello);
    this.emit({ type: 'send', level: 'initial', data: serverHello });

    const schedule = new KeySchedule(this.provider, info.hash);
    schedule.toHandshake(shared);
    const helloHash = this.transcript.digest();
    const clientHs = schedule.clientHandshakeTrafficSecret(helloHash);
    const serverHs = schedule.serverHandshakeTrafficSecret(helloHash);
    this.schedule = schedule;
    this.clientHandshakeSecret = clientHs;
    this.emit({ type: 'keys', level: 'handshake', direction: 'read', suite, secret: clientHs });
    this.emit({ type: 'keys', level: 'handshake', direction: 'write', suite, secret: serverHs });

    const parts: Uint8Array[] = [];
    const add = (bytes: Uint8Array): void => {
      this.transcript.add(bytes);
      parts.push(bytes);
    };
    add(
      encodeHandshake({
        type: 'encrypted_extensions',
        extensions: [
          { type: 'application_layer_protocol_negotiation', protocols: alpnBytes([protocol]) },
          { type: 'quic_transport_parameters', data: this.options.transportParameters },
        ],
      }),
    );
    if (this.options.clientAuthentication !== undefined) {
      // RFC 8446 section 4.3.2: signature_algorithms is mandatory in a CertificateRequest.
      add(
        encodeHandshake({
          type: 'certificate_request',
          certificateRequestContext: new Uint8Array(0),
          extensions: [{ type: 'signature_algorithms', schemes: SIGNATURE_SCHEMES_SUPPORTED.map((x) => SIGNATURE_SCHEMES[x].code) }],
        }),
      );
    }
    add(
      encodeHandshake({
        type: 'certificate',
        certificateRequestContext: new Uint8Array(0),
        certificateList: this.options.certificateChain.map((certData) => ({ certData, extensions: [] })),
      }),
    );
    const content = certificateVerifyContent('server', this.transcript.digest());
    add(
      encodeHandshake({
        type: 'certificate_verify',
        algorithm: SIGNATURE_SCHEMES[scheme].code,
        signature: this.options.signer.sign(scheme, content),
      }),
    );
    add(
      encodeHandshake({ type: 'finished', verifyData: finishedVerifyData(this.provider, info.hash, serverHs, this.transcript.digest()) }),
    );
    this.emit({ type: 'send', level: 'handshake', data: concatBytes(parts) });

    schedule.toMaster();
    const serverFinishedHash = this.transcript.digest();
    this.clientApplicationSecret = schedule.clientApplicationTrafficSecret(serverFinishedHash);
    this.emit({
      type: 'keys',
      level: 'application',
      direction: 'write',
      suite,
      secret: schedule.serverApplicationTrafficSecret(serverFinishedHash),
    });
    this.transition(this.options.clientAuthentication === undefined ? 'server-expect-finished' : 'server-expect-client-certificate');
  }

  private onClientCertificate(m: Certificate, raw: Uint8Array): void {
    const auth = this.options.clientAuthentication!;
    if (m.certificateRequestContext.length !== 0) throw new TlsAlertError('illegal_parameter', 'certificate_request_context not empty');
    this.transcript.add(raw);
    const chain = m.certificateList.map((e) => e.certData);
    const leaf = chain[0];
    if (leaf === undefined) {
      // RFC 8446 section 4.4.2.4: a server that requires a client certificate answers an empty one
      // with certificate_required; otherwise the handshake goes on unauthenticated.
      if (auth.required !== false) throw new TlsAlertError('certificate_required', 'client sent no certificate');
      this.transition('server-expect-finished');
      return;
    }
    this.clientPublicKey = certificatePublicKey(leaf);
    try {
      auth.verifyCertificate(chain, undefined);
    } catch (e) {
      if (e instanceof TlsAlertError) throw e;
      throw new TlsAlertError('bad_certificate', e instanceof Error ? e.message : 'certificate rejected');
    }
    this.transition('server-expect-client-certificate-verify');
  }

  private onClientCertificateVerify(m: CertificateVerify, raw: Uint8Array): void {
    const scheme = supportedSignatureScheme(m.algorithm);
    // RFC 8446 section 4.4.3: the scheme must be one the CertificateRequest listed (all we support).
    if (scheme === null) throw new TlsAlertError('illegal_parameter', 'signature scheme not offered');
    const content = certificateVerifyContent('client', this.transcript.digest());
    if (!this.provider.signatureVerifier.verify(scheme, this.clientPublicKey!, content, m.signature)) {
      throw new TlsAlertError('decrypt_error', 'client CertificateVerify signature does not verify');
    }
    this.transcript.add(raw);
    this.transition('server-expect-finished');
  }

  private sendHelloRetryRequest(m: ClientHello, raw: Uint8Array, suite: CipherSuite, group: NamedGroup): void {
    const hrr = encodeHandshake({
      type: 'hello_retry_request',
      legacyVersion: LEGACY_VERSION,
      legacySessionIdEcho: m.legacySessionId,
      cipherSuite: CIPHER_SUITE_CODES[suite].code,
      legacyCompressionMethod: 0,
      extensions: [
        { type: 'supported_versions', version: TLS13 },
        { type: 'key_share', selectedGroup: NAMED_GROUPS[group].code },
      ],
    });
    // RFC 8446 section 4.4.1: the transcript continues from message_hash(ClientHello1).
    this.transcript.setHash(suiteInfo(suite).hash);
    this.transcript.add(raw);
    this.transcript.replaceWithMessageHash();
    this.transcript.add(hrr);
    this.retry = { suite, group };
    this.emit({ type: 'send', level: 'initial', data: hrr });
    this.transition('server-expect-second-client-hello');
  }

  private onFinished(m: Finished, raw: Uint8Array): void {
    const schedule = this.schedule!;
    // RFC 8446 section 4.4.4: a Finished that does not verify is a decrypt_error.
    if (!verifyFinished(this.provider, schedule.hash, this.clientHandshakeSecret!, this.transcript.digest(), m.verifyData)) {
      throw new TlsAlertError('decrypt_error', 'client Finished does not verify');
    }
    this.transcript.add(raw);
    this.emit({ type: 'keys', level: 'application', direction: 'read', suite: this.suite!, secret: this.clientApplicationSecret! });
    this.emit({ type: 'complete' });
    this.transition('server-complete');
  }
}
