/**
 * The TLS 1.3 client handshake for QUIC (RFC 8446 section 2, RFC 9001 section 4), sans-I/O: full 1-RTT
 * handshakes with (EC)DHE and certificate authentication of the server.
 *
 * ```
 * start()                      -> send(initial, ClientHello)
 * client-expect-server-hello          ServerHello         -> keys(handshake, read + write)
 * client-expect-encrypted-extensions  EncryptedExtensions -> alpn, peer-transport-parameters
 * client-expect-certificate           Certificate         (chain checked by verifyCertificate)
 * client-expect-certificate-verify    CertificateVerify   (signature by the leaf's key)
 * client-expect-finished              Finished            -> keys(application, read), send(handshake,
 *                                                            Finished), keys(application, write), complete
 * client-complete
 * ```
 *
 * A HelloRetryRequest (section 4.1.4) is answered once: `client-expect-server-hello` goes to
 * `client-expect-server-hello-after-retry` after sending ClientHello2.
 *
 * A CertificateRequest may come before the server's Certificate (stay in `client-expect-certificate`);
 * the client then sends Certificate (empty without a chain), CertificateVerify and Finished.
 *
 * Not handled yet: PSK resumption, 0-RTT, NewSessionTicket contents (accepted and ignored after
 * completion).
 */
import { UsageError } from '../../combinators/errors.js';
import { certificatePublicKey } from '../crypto/der.js';
import { suiteInfo } from '../crypto/provider.js';
import type { CipherSuite, CryptoProvider, KeyShare, NamedGroup, SignatureScheme, Signer } from '../crypto/provider.js';
import { SIGNATURE_SCHEMES_SUPPORTED } from '../crypto/provider.js';
import {
  CIPHER_SUITE_CODES,
  LEGACY_VERSION,
  NAMED_GROUPS,
  SERVER_NAME_HOST_NAME,
  SIGNATURE_SCHEMES,
  TLS13,
  supportedCipherSuite,
  supportedSignatureScheme,
} from './constants.js';
import { TlsAlertError } from './errors.js';
import { findExtension, type ClientHelloExtension } from './extensions.js';
import { alpnBytes, alpnString, concatBytes, HandshakeMachine, type EncryptionLevel } from './handshake.js';
import { KeySchedule, Transcript, certificateVerifyContent, finishedVerifyData, verifyFinished } from './key-schedule.js';
import {
  encodeHandshake,
  type Certificate,
  type CertificateRequest,
  type CertificateVerify,
  type ClientHello,
  type EncryptedExtensions,
  type Finished,
  type HandshakeMessage,
  type HelloRetryRequest,
  type ServerHello,
} from './messages.js';

/**
 * Checks the server's certificate chain (DER, leaf first) for `serverName`. Raise a
 * {@link TlsAlertError} to refuse it (`bad_certificate`, `unknown_ca`, `certificate_expired`...);
 * anything else it raises is reported as `bad_certificate`.
 */
export type CertificateVerifier = (chain: readonly Uint8Array[], serverName: string | undefined) => void;

export interface TlsClientOptions {
  readonly provider: CryptoProvider;
  /** The host name to authenticate; sent as server_name (RFC 6066) unless it is an IP literal. */
  readonly serverName?: string;
  /** ALPN protocol ids offered, in preference order; QUIC needs at least one (RFC 9001 section 8.1). */
  readonly alpn: readonly string[];
  /** Our quic_transport_parameters extension body, encoded by the QUIC layer (RFC 9001 section 8.2). */
  readonly transportParameters: Uint8Array;
  /** Suites offered, in preference order. Default: AES-128-GCM, ChaCha20-Poly1305, AES-256-GCM. */
  readonly cipherSuites?: readonly CipherSuite[];
  /** Groups offered; a key share is sent for the first one. Default: x25519, secp256r1. */
  readonly groups?: readonly NamedGroup[];
  /** CertificateVerify schemes offered. Default: every scheme the providers implement. */
  readonly signatureSchemes?: readonly SignatureScheme[];
  /** Certificate chain check; required unless {@link TlsClientOptions.insecureSkipVerify}. */
  readonly verifyCertificate?: CertificateVerifier;
  /**
   * Accept any certificate chain (the CertificateVerify signature is still checked against the leaf
   * key, so the peer holds the key of the certificate it sent; but anyone can make such a
   * certificate). For tests and lab setups only.
   */
  readonly insecureSkipVerify?: boolean;
  /** Our certificate chain (DER, leaf first), sent when the server asks for one (RFC 8446 section 4.3.2). */
  readonly certificateChain?: readonly Uint8Array[];
  /** The private key of {@link TlsClientOptions.certificateChain}'s leaf. */
  readonly signer?: Signer;
  /**
   * Require the server's quic_transport_parameters (default true: RFC 9001 section 8.2, a missing
   * extension is `missing_extension`). False only for non-QUIC traces such as RFC 8448.
   */
  readonly requireTransportParameters?: boolean;
}

export type ClientState =
  | 'client-start'
  | 'client-expect-server-hello'
  | 'client-expect-server-hello-after-retry'
  | 'client-expect-encrypted-extensions'
  | 'client-expect-certificate'
  | 'client-expect-certificate-verify'
  | 'client-expect-finished'
  | 'client-complete';

const DEFAULT_SUITES: readonly CipherSuite[] = ['TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_256_GCM_SHA384'];
const DEFAULT_GROUPS: readonly NamedGroup[] = ['x25519', 'secp256r1'];

/** RFC 6066 section 3: "Literal IPv4 and IPv6 addresses are not permitted in HostName". */
function isIpLiteral(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(':');
}

/** A TLS 1.3 client handshake for one QUIC connection. */
export class TlsClient extends HandshakeMachine<ClientState> {
  private readonly provider: CryptoProvider;
  private readonly options: TlsClientOptions;
  private readonly suites: readonly CipherSuite[];
  private readonly schemes: readonly SignatureScheme[];
  private readonly transcript: Transcript;
  private keyShare: KeyShare | null = null;
  private suite: CipherSuite | null = null;
  private schedule: KeySchedule | null = null;
  private clientHandshakeSecret: Uint8Array | null = null;
  private serverHandshakeSecret: Uint8Array | null = null;
  private leafPublicKey: Uint8Array | null = null;
  private alpnValue: string | null = null;
  /** The ClientHello sent, kept to build the second one after a HelloRetryRequest. */
  private hello: ClientHello | null = null;
  /** The schemes of the server's CertificateRequest, when it asked for a client certificate. */
  private certificateRequest: readonly number[] | null = null;
  /** The suite a HelloRetryRequest chose, which the ServerHello must repeat (RFC 8446 section 4.1.4). */
  private retrySuite: CipherSuite | null = null;

  constructor(options: TlsClientOptions) {
    super('client-start');
    if (options.alpn.length === 0) throw new UsageError('QUIC requires at least one ALPN protocol (RFC 9001 section 8.1)');
    if (options.verifyCertificate === undefined && options.insecureSkipVerify !== true) {
      throw new UsageError('give verifyCertificate, or set insecureSkipVerify: true explicitly');
    }
    this.provider = options.provider;
    this.options = options;
    this.suites = options.cipherSuites ?? DEFAULT_SUITES;
    this.schemes = options.signatureSchemes ?? SIGNATURE_SCHEMES_SUPPORTED;
    this.transcript = new Transcript(options.provider);
  }

  /** The negotiated ALPN protocol, once EncryptedExtensions was processed. */
  get alpn(): string | null {
    return this.alpnValue;
  }

  /** The negotiated suite, once ServerHello was processed. */
  get cipherSuite(): CipherSuite | null {
    return this.suite;
  }

  /** Builds the ClientHello and queues it at the Initial level. Call once. */
  start(): void {
    this.guard(() => {
      if (this.state !== 'client-start') throw new UsageError('start() called twice');
      const groups = this.options.groups ?? DEFAULT_GROUPS;
      const first = groups[0];
      if (first === undefined) throw new UsageError('no group to offer');
      this.keyShare = this.provider.generateKeyShare(first);
      const extensions: ClientHelloExtension[] = [];
      const name = this.options.serverName;
      if (name !== undefined && !isIpLiteral(name)) {
        extensions.push({ type: 'server_name', names: [{ nameType: SERVER_NAME_HOST_NAME, name: new TextEncoder().encode(name) }] });
      }
      extensions.push(
        { type: 'supported_versions', versions: [TLS13] },
        { type: 'supported_groups', groups: groups.map((g) => NAMED_GROUPS[g].code) },
        { type: 'signature_algorithms', schemes: this.schemes.map((s) => SIGNATURE_SCHEMES[s].code) },
        { type: 'key_share', shares: [{ group: NAMED_GROUPS[first].code, keyExchange: this.keyShare.publicKey }] },
        { type: 'application_layer_protocol_negotiation', protocols: alpnBytes(this.options.alpn) },
        { type: 'quic_transport_parameters', data: this.options.transportParameters },
      );
      const hello: ClientHello = {
        type: 'client_hello',
        legacyVersion: LEGACY_VERSION,
        random: this.provider.random(32),
        // RFC 9001 section 8.4: a QUIC client does not use the middlebox compatibility mode.
        legacySessionId: new Uint8Array(0),
        cipherSuites: this.suites.map((s) => CIPHER_SUITE_CODES[s].code),
        legacyCompressionMethods: Uint8Array.of(0),
        extensions,
      };
      this.sendHello(hello);
      this.transition('client-expect-server-hello');
    });
  }

  protected expectedLevel(): EncryptionLevel | null {
    switch (this.state) {
      case 'client-start':
        return null;
      case 'client-expect-server-hello':
      case 'client-expect-server-hello-after-retry':
        return 'initial';
      case 'client-expect-encrypted-extensions':
      case 'client-expect-certificate':
      case 'client-expect-certificate-verify':
      case 'client-expect-finished':
        return 'handshake';
      case 'client-complete':
        return 'application';
    }
  }

  protected handle(message: HandshakeMessage, raw: Uint8Array): void {
    switch (this.state) {
      case 'client-expect-server-hello':
        if (message.type === 'hello_retry_request') return this.onHelloRetryRequest(message, raw);
        if (message.type !== 'server_hello') return this.unexpected(message);
        return this.onServerHello(message, raw);
      case 'client-expect-server-hello-after-retry':
        // RFC 8446 section 4.1.4: a second HelloRetryRequest is an unexpected_message.
        if (message.type !== 'server_hello') return this.unexpected(message);
        return this.onServerHello(message, raw);
      case 'client-expect-encrypted-extensions':
        if (message.type !== 'encrypted_extensions') return this.unexpected(message);
        return this.onEncryptedExtensions(message, raw);
      case 'client-expect-certificate':
        if (message.type === 'certificate_request') return this.onCertificateRequest(message, raw);
        if (message.type !== 'certificate') return this.unexpected(message);
        return this.onCertificate(message, raw);
      case 'client-expect-certificate-verify':
        if (message.type !== 'certificate_verify') return this.unexpected(message);
        return this.onCertificateVerify(message, raw);
      case 'client-expect-finished':
        if (message.type !== 'finished') return this.unexpected(message);
        return this.onFinished(message, raw);
      case 'client-complete':
        // RFC 8446 section 4.6.1: tickets are optional to use; resumption is not implemented yet.
        if (message.type !== 'new_session_ticket') return this.unexpected(message);
        return;
      case 'client-start':
        return this.unexpected(message);
    }
  }

  private sendHello(hello: ClientHello): void {
    const bytes = encodeHandshake(hello);
    this.hello = hello;
    this.transcript.add(bytes);
    this.emit({ type: 'send', level: 'initial', data: bytes });
  }

  /**
   * RFC 8446 section 4.1.4: the server wants a key share in another group. Checks the request, restarts
   * the transcript with message_hash(ClientHello1) (section 4.4.1), and sends ClientHello2: the same
   * hello with one new key share and the cookie echoed (section 4.1.2).
   */
  private onHelloRetryRequest(m: HelloRetryRequest, raw: Uint8Array): void {
    const version = findExtension(m.extensions, 'supported_versions');
    if (version === undefined || version.version !== TLS13) throw new TlsAlertError('protocol_version', 'server did not select TLS 1.3');
    if (m.legacySessionIdEcho.length !== 0) throw new TlsAlertError('illegal_parameter', 'legacy_session_id_echo is not empty');
    if (m.legacyCompressionMethod !== 0) throw new TlsAlertError('illegal_parameter', 'legacy_compression_method is not 0');
    const suite = supportedCipherSuite(m.cipherSuite);
    if (suite === null || !this.suites.includes(suite)) throw new TlsAlertError('illegal_parameter', 'cipher suite not offered');
    const selected = findExtension(m.extensions, 'key_share');
    const cookie = findExtension(m.extensions, 'cookie');
    // "Clients MUST abort the handshake with an "illegal_parameter" alert if the HelloRetryRequest would
    // not result in any change in the ClientHello", and the selected group must be one offered.
    if (selected === undefined && cookie === undefined)
      throw new TlsAlertError('illegal_parameter', 'HelloRetryRequest asks for no change');
    const groups = this.options.groups ?? DEFAULT_GROUPS;
    let hello = this.hello!;
    if (selected !== undefined) {
      const group = groups.find((g) => NAMED_GROUPS[g].code === selected.selectedGroup);
      if (group === undefined || group === this.keyShare!.group) {
        throw new TlsAlertError('illegal_parameter', 'HelloRetryRequest selected a group not offered or already shared');
      }
      this.keyShare = this.provider.generateKeyShare(group);
      const share = { type: 'key_share' as const, shares: [{ group: selected.selectedGroup, keyExchange: this.keyShare.publicKey }] };
      hello = { ...hello, extensions: hello.extensions.map((e) => (e.type === 'key_share' ? share : e)) };
    }
    if (cookie !== undefined) hello = { ...hello, extensions: [...hello.extensions, cookie] };
    this.retrySuite = suite;
    this.transcript.setHash(suiteInfo(suite).hash);
    this.transcript.replaceWithMessageHash();
    this.transcript.add(raw);
    this.sendHello(hello);
    this.transition('client-expect-server-hello-after-retry');
  }

  private onServerHello(m: ServerHello, raw: Uint8Array): void {
    // RFC 8446 section 4.2.1: a TLS 1.3 ServerHello carries supported_versions = 0x0304; without it the
    // server negotiated an older version, which this client does not speak.
    const version = findExtension(m.extensions, 'supported_versions');
    if (version === undefined || version.version !== TLS13) throw new TlsAlertError('protocol_version', 'server did not select TLS 1.3');
    if (m.legacyVersion !== LEGACY_VERSION) throw new TlsAlertError('illegal_parameter', 'ServerHello legacy_version is not 0x0303');
    // RFC 8446 section 4.1.3: the echo must match what was sent (empty, RFC 9001 section 8.4).
    if (m.legacySessionIdEcho.length !== 0) throw new TlsAlertError('illegal_parameter', 'legacy_session_id_echo is not empty');
    if (m.legacyCompressionMethod !== 0) throw new TlsAlertError('illegal_parameter', 'legacy_compression_method is not 0');
    const suite = supportedCipherSuite(m.cipherSuite);
    if (suite === null || !this.suites.includes(suite)) throw new TlsAlertError('illegal_parameter', 'cipher suite not offered');
    if (this.retrySuite !== null && suite !== this.retrySuite) {
      throw new TlsAlertError('illegal_parameter', 'ServerHello suite differs from the HelloRetryRequest');
    }
    if (findExtension(m.extensions, 'pre_shared_key') !== undefined)
      throw new TlsAlertError('illegal_parameter', 'pre_shared_key not offered');
    const share = findExtension(m.extensions, 'key_share');
    if (share === undefined) throw new TlsAlertError('missing_extension', 'ServerHello has no key_share');
    const ours = this.keyShare!;
    // RFC 8446 section 4.2.8: the server's share must be in the group of a share the client sent.
    if (share.share.group !== NAMED_GROUPS[ours.group].code) throw new TlsAlertError('illegal_parameter', 'key share group not offered');
    const shared = ours.deriveSecret(share.share.keyExchange);

    const hash = suiteInfo(suite).hash;
    this.suite = suite;
    this.transcript.setHash(hash);
    this.transcript.add(raw);
    this.hashLength = suiteInfo(suite).hashLength;
    const schedule = new KeySchedule(this.provider, hash);
    schedule.toHandshake(shared);
    const helloHash = this.transcript.digest();
    this.clientHandshakeSecret = schedule.clientHandshakeTrafficSecret(helloHash);
    this.serverHandshakeSecret = schedule.serverHandshakeTrafficSecret(helloHash);
    this.schedule = schedule;
    this.emit({ type: 'keys', level: 'handshake', direction: 'read', suite, secret: this.serverHandshakeSecret });
    this.emit({ type: 'keys', level: 'handshake', direction: 'write', suite, secret: this.clientHandshakeSecret });
    this.transition('client-expect-encrypted-extensions');
  }

  private onEncryptedExtensions(m: EncryptedExtensions, raw: Uint8Array): void {
    const alpn = findExtension(m.extensions, 'application_layer_protocol_negotiation');
    // RFC 9001 section 8.1: without an ALPN agreement the handshake fails with no_application_protocol.
    if (alpn === undefined) throw new TlsAlertError('no_application_protocol', 'server selected no ALPN protocol');
    const chosen = alpn.protocols[0];
    // RFC 7301 section 3.1: the server answers with exactly one protocol, one the client offered.
    if (alpn.protocols.length !== 1 || chosen === undefined)
      throw new TlsAlertError('illegal_parameter', 'server ALPN list is not one protocol');
    const protocol = alpnString(chosen);
    if (!this.options.alpn.includes(protocol)) throw new TlsAlertError('illegal_parameter', `ALPN ${protocol} was not offered`);
    const params = findExtension(m.extensions, 'quic_transport_parameters');
    if (params === undefined && this.options.requireTransportParameters !== false) {
      throw new TlsAlertError('missing_extension', 'no quic_transport_parameters (RFC 9001 section 8.2)');
    }
    this.transcript.add(raw);
    this.alpnValue = protocol;
    this.emit({ type: 'alpn', protocol });
    if (params !== undefined) this.emit({ type: 'peer-transport-parameters', bytes: params.data });
    this.transition('client-expect-certificate');
  }

  private onCertificate(m: Certificate, raw: Uint8Array): void {
    // RFC 8446 section 4.4.2: zero length for server authentication.
    if (m.certificateRequestContext.length !== 0) throw new TlsAlertError('illegal_parameter', 'certificate_request_context not empty');
    const chain = m.certificateList.map((e) => e.certData);
    const leaf = chain[0];
    // RFC 8446 section 4.4.2.4: an empty server Certificate is a decode_error.
    if (leaf === undefined) throw new TlsAlertError('decode_error', 'empty server Certificate');
    this.leafPublicKey = certificatePublicKey(leaf);
    if (this.options.insecureSkipVerify !== true) {
      try {
        this.options.verifyCertificate!(chain, this.options.serverName);
      } catch (e) {
        if (e instanceof TlsAlertError) throw e;
        throw new TlsAlertError('bad_certificate', e instanceof Error ? e.message : 'certificate rejected');
      }
    }
    this.transcript.add(raw);
    this.transition('client-expect-certificate-verify');
  }

  private onCertificateVerify(m: CertificateVerify, raw: Uint8Array): void {
    const scheme = supportedSignatureScheme(m.algorithm);
    // RFC 8446 section 4.4.3: the algorithm must be one offered in signature_algorithms.
    if (scheme === null || !this.schemes.includes(scheme)) throw new TlsAlertError('illegal_parameter', 'signature scheme not offered');
    const content = certificateVerifyContent('server', this.transcript.digest());
    if (!this.provider.signatureVerifier.verify(scheme, this.leafPublicKey!, content, m.signature)) {
      throw new TlsAlertError('decrypt_error', 'CertificateVerify signature does not verify');
    }
    this.transcript.add(raw);
    this.transition('client-expect-finished');
  }

  /**
   * RFC 8446 section 4.3.2: a CertificateRequest comes between EncryptedExtensions and Certificate, at
   * most once. It must carry signature_algorithms (missing_extension otherwise).
   */
  private onCertificateRequest(m: CertificateRequest, raw: Uint8Array): void {
    if (this.certificateRequest !== null) return this.unexpected(m);
    // RFC 8446 section 4.3.2: the context is zero length except in post-handshake authentication.
    if (m.certificateRequestContext.length !== 0) throw new TlsAlertError('illegal_parameter', 'certificate_request_context not empty');
    const algorithms = findExtension(m.extensions, 'signature_algorithms');
    if (algorithms === undefined) throw new TlsAlertError('missing_extension', 'CertificateRequest without signature_algorithms');
    this.transcript.add(raw);
    this.certificateRequest = algorithms.schemes;
  }

  /**
   * The client's Certificate and CertificateVerify (RFC 8446 section 4.4.2, 4.4.3). Without a
   * certificate, or without a scheme the server accepts for our key, the Certificate is empty: the
   * server decides whether that is acceptable (certificate_required).
   */
  private authenticate(requested: readonly number[], add: (bytes: Uint8Array) => void): void {
    const chain = this.options.certificateChain ?? [];
    const signer = this.options.signer;
    const scheme = signer?.schemes.find((s) => requested.includes(SIGNATURE_SCHEMES[s].code));
    const send = chain.length > 0 && signer !== undefined && scheme !== undefined;
    add(
      encodeHandshake({
        type: 'certificate',
        certificateRequestContext: new Uint8Array(0),
        certificateList: send ? chain.map((certData) => ({ certData, extensions: [] })) : [],
      }),
    );
    if (!send) return;
    const content = certificateVerifyContent('client', this.transcript.digest());
    add(
      encodeHandshake({ type: 'certificate_verify', algorithm: SIGNATURE_SCHEMES[scheme].code, signature: signer.sign(scheme, content) }),
    );
  }

  private onFinished(m: Finished, raw: Uint8Array): void {
    const schedule = this.schedule!;
    const suite = this.suite!;
    if (!verifyFinished(this.provider, schedule.hash, this.serverHandshakeSecret!, this.transcript.digest(), m.verifyData)) {
      throw new TlsAlertError('decrypt_error', 'server Finished does not verify');
    }
    this.transcript.add(raw);
    schedule.toMaster();
    const serverFinishedHash = this.transcript.digest();
    const clientApp = schedule.clientApplicationTrafficSecret(serverFinishedHash);
    const serverApp = schedule.serverApplicationTrafficSecret(serverFinishedHash);
    this.emit({ type: 'keys', level: 'application', direction: 'read', suite, secret: serverApp });
    const flight: Uint8Array[] = [];
    const add = (bytes: Uint8Array): void => {
      this.transcript.add(bytes);
      flight.push(bytes);
    };
    if (this.certificateRequest !== null) this.authenticate(this.certificateRequest, add);
    // RFC 8446 section 4.4.4: the client Finished covers the client's Certificate and CertificateVerify.
    add(
      encodeHandshake({
        type: 'finished',
        verifyData: finishedVerifyData(this.provider, schedule.hash, this.clientHandshakeSecret!, this.transcript.digest()),
      }),
    );
    this.emit({ type: 'send', level: 'handshake', data: concatBytes(flight) });
    this.emit({ type: 'keys', level: 'application', direction: 'write', suite, secret: clientApp });
    this.emit({ type: 'complete' });
    this.transition('client-complete');
  }
}
