/**
 * The TLS 1.3 client handshake for QUIC (RFC 8446 section 2, RFC 9001 section 4), sans-I/O: full 1-RTT
 * handshakes with (EC)DHE and certificate authentication of the server, session resumption with a
 * ticket (PSK with (EC)DHE, RFC 8446 section 2.2) and 0-RTT (section 2.3, RFC 9001 section 4.6).
 *
 * ```
 * start(now)                          -> send(initial, ClientHello) [keys(early, write)]
 * client-expect-server-hello          ServerHello         -> keys(handshake, read + write)
 * client-expect-encrypted-extensions  EncryptedExtensions -> alpn, peer-transport-parameters, [early-data]
 *                                                            (resumed: to client-expect-finished)
 * client-expect-certificate           Certificate         (chain checked by verifyCertificate)
 * client-expect-certificate-verify    CertificateVerify   (signature by the leaf's key)
 * client-expect-finished              Finished            -> keys(application, read), send(handshake,
 *                                                            Finished), keys(application, write),
 *                                                            complete(resumed)
 * client-complete                     NewSessionTicket    -> session-ticket (at the application level)
 * ```
 *
 * A HelloRetryRequest (section 4.1.4) is answered once: `client-expect-server-hello` goes to
 * `client-expect-server-hello-after-retry` after sending ClientHello2.
 *
 * A CertificateRequest may come before the server's Certificate (stay in `client-expect-certificate`);
 * the client then sends Certificate (empty without a chain), CertificateVerify and Finished.
 *
 * Resumption: with `session` (a {@link SessionTicket} from an earlier connection's `session-ticket`
 * output) the ClientHello also offers the ticket as a PSK (psk_key_exchange_modes psk_dhe_ke: QUIC
 * keeps the (EC)DHE exchange, so a key share is always sent; pre_shared_key last, with its binder,
 * RFC 8446 section 4.2.11). The ticket is not offered when it has expired at `now`, was issued for
 * another server name, or no offered suite has its hash. If the server accepts it, there is no
 * Certificate / CertificateVerify (and no CertificateRequest); if it declines, the handshake is a
 * full one and the server's certificate is verified as usual.
 *
 * 0-RTT: with `earlyData: true` and a ticket that allows it (max_early_data_size 0xffffffff, RFC 9001
 * section 4.6.1) whose suite and ALPN are offered again, the ClientHello carries early_data and
 * `keys(early, write)` (client_early_traffic_secret) follows it at once. The answer comes as
 * `early-data` (accepted or not) from EncryptedExtensions, or, rejected, from a HelloRetryRequest
 * (section 4.1.2: the second ClientHello drops early_data and recomputes the PSK age and binder).
 * QUIC sends no EndOfEarlyData (RFC 9001 section 8.3).
 */
import { UsageError } from '../../combinators/errors.js';
import { certificatePublicKey } from '../crypto/der.js';
import { suiteInfo } from '../crypto/provider.js';
import type { CipherSuite, CryptoProvider, HashAlgorithm, KeyShare, NamedGroup, SignatureScheme, Signer } from '../crypto/provider.js';
import { SIGNATURE_SCHEMES_SUPPORTED } from '../crypto/provider.js';
import {
  CIPHER_SUITE_CODES,
  LEGACY_VERSION,
  NAMED_GROUPS,
  PSK_KEY_EXCHANGE_MODES,
  SERVER_NAME_HOST_NAME,
  SIGNATURE_SCHEMES,
  TLS13,
  supportedCipherSuite,
  supportedSignatureScheme,
} from './constants.js';
import { TlsAlertError } from './errors.js';
import { findExtension, type ClientHelloExtension } from './extensions.js';
import { alpnBytes, alpnString, concatBytes, DEFAULT_GROUPS, DEFAULT_SUITES, HandshakeMachine, type EncryptionLevel } from './handshake.js';
import { KeySchedule, Transcript, certificateVerifyContent, finishedVerifyData, verifyFinished } from './key-schedule.js';
import {
  encodeHandshake,
  type Certificate,
  type NewSessionTicket,
  type CertificateRequest,
  type CertificateVerify,
  type ClientHello,
  type EncryptedExtensions,
  type Finished,
  type HandshakeMessage,
  type HelloRetryRequest,
  type ServerHello,
} from './messages.js';
import {
  encodeClientHelloWithBinders,
  obfuscatedTicketAge,
  sessionAllowsEarlyData,
  sessionExpired,
  sessionFromNewSessionTicket,
  type SessionTicket,
} from './session.js';

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
  /**
   * A session to resume (RFC 8446 section 2.2): a ticket from an earlier connection to the same server
   * (the `session-ticket` output, possibly stored with encodeSessionTicket / decodeSessionTicket). Use
   * each ticket once (RFC 9001 section 4.5).
   */
  readonly session?: SessionTicket;
  /**
   * Attempt 0-RTT with {@link TlsClientOptions.session} when its ticket allows it (default false): the
   * ClientHello carries early_data and `keys(early, write)` is emitted right after it. The QUIC layer
   * must then send 0-RTT data only as the RFCs allow (RFC 9001 section 4.6; the data may be replayed,
   * RFC 8446 section 8) and resend it in 1-RTT when the `early-data` output says `accepted: false`.
   */
  readonly earlyData?: boolean;
}

/** The session offered in the ClientHello, and whether 0-RTT is attempted with it. */
interface PskOffer {
  readonly session: SessionTicket;
  readonly hash: HashAlgorithm;
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
  /** The session offered in the last ClientHello sent, or null. */
  private offer: PskOffer | null = null;
  /** ClientHello1 carried early_data (0-RTT attempted). */
  private earlyOffered = false;
  /** The server's answer to early_data, once known. */
  private earlyResult: boolean | null = null;
  /** The server accepted the PSK. */
  private resumedValue = false;
  /** resumption_master_secret, once the client Finished is sent (for NewSessionTickets). */
  private resumptionSecret: Uint8Array | null = null;

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

  /** Whether the server accepted the offered session (known once ServerHello was processed). */
  get resumed(): boolean {
    return this.resumedValue;
  }

  /** Whether the server accepted 0-RTT: null until known, or when it was not attempted. */
  get earlyDataAccepted(): boolean | null {
    return this.earlyResult;
  }

  /**
   * Builds the ClientHello and queues it at the Initial level (then the 0-RTT keys when early data is
   * attempted). Call once.
   *
   * @param now the caller's time in ms (default 0): the offered ticket's age and expiry are measured
   *   with it (see handshake.ts).
   */
  start(now = 0): void {
    this.setNow(now);
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
      this.offer = this.sessionOffer();
      const session = this.offer?.session;
      if (session !== undefined) {
        // RFC 8446 section 4.2.9: a PSK offer needs psk_key_exchange_modes; only psk_dhe_ke, since QUIC
        // keeps the (EC)DHE exchange (forward secrecy for the resumed session).
        extensions.push({ type: 'psk_key_exchange_modes', modes: [PSK_KEY_EXCHANGE_MODES.psk_dhe_ke] });
        // RFC 8446 section 4.2.10: early data is sent with the ticket's suite and ALPN only.
        this.earlyOffered =
          this.options.earlyData === true &&
          sessionAllowsEarlyData(session) &&
          this.suites.includes(session.suite) &&
          this.options.alpn.includes(session.alpn);
        if (this.earlyOffered) extensions.push({ type: 'early_data' });
      }
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
      const bytes = this.sendHello(hello);
      if (this.earlyOffered) {
        // RFC 8446 section 7.1: client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic",
        // ClientHello); the early secret is the ticket's PSK, the hash the ticket suite's.
        const { session: s, hash } = this.offer!;
        const secret = new KeySchedule(this.provider, hash, s.psk).clientEarlyTrafficSecret(this.provider.hash(hash, bytes));
        this.emit({ type: 'keys', level: 'early', direction: 'write', suite: s.suite, secret });
      }
      this.transition('client-expect-server-hello');
    });
  }

  /** The session to offer, or null (none given, expired, another server name, no suite with its hash). */
  private sessionOffer(): PskOffer | null {
    const session = this.options.session;
    if (session === undefined || sessionExpired(session, this.now)) return null;
    // RFC 8446 section 4.6.1: "Clients ... SHOULD only resume if the SNI value matches the one used in
    // the original session".
    if (session.serverName !== (this.options.serverName ?? null)) return null;
    // Section 4.2.11: the PSK is used with a suite of its own hash only.
    const hash = suiteInfo(session.suite).hash;
    if (!this.suites.some((s) => suiteInfo(s).hash === hash)) return null;
    return { session, hash };
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
        // RFC 9001 section 4.1.3: after the handshake only NewSessionTicket is allowed (KeyUpdate is
        // refused by the decoder, RFC 9001 section 6).
        if (message.type !== 'new_session_ticket') return this.unexpected(message);
        return this.onNewSessionTicket(message);
      case 'client-start':
        return this.unexpected(message);
    }
  }

  /**
   * Sends a ClientHello: `hello` as built, plus, when a session is offered, pre_shared_key as the last
   * extension (RFC 8446 section 4.2.11) with the ticket's age at `now` and its binder over this
   * ClientHello (and, for a second one, the transcript before it). Returns the bytes sent.
   */
  private sendHello(hello: ClientHello): Uint8Array {
    let bytes: Uint8Array;
    const offer = this.offer;
    if (offer === null) {
      bytes = encodeHandshake(hello);
    } else {
      const s = offer.session;
      const withPsk: ClientHello = {
        ...hello,
        extensions: [
          ...hello.extensions,
          {
            type: 'pre_shared_key',
            identities: [{ identity: s.ticket, obfuscatedTicketAge: obfuscatedTicketAge(s, this.now) }],
            binders: [new Uint8Array(suiteInfo(s.suite).hashLength)],
          },
        ],
      };
      // ClientHello1: its hash is the ticket's (the suite is not negotiated yet); ClientHello2: the
      // transcript so far (message_hash, HelloRetryRequest), whose hash the caller checked is the same.
      let prefix = this.transcript;
      if (prefix.hash === null) {
        prefix = new Transcript(this.provider);
        prefix.setHash(offer.hash);
      }
      bytes = encodeClientHelloWithBinders(this.provider, prefix, withPsk, [s.psk]);
    }
    this.hello = hello;
    this.transcript.add(bytes);
    this.emit({ type: 'send', level: 'initial', data: bytes });
    return bytes;
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
    // RFC 8446 section 4.1.2: the second ClientHello drops early_data ("Early data is not permitted
    // after a HelloRetryRequest") and keeps the PSK only if its hash is the selected suite's.
    if (this.earlyOffered) {
      hello = { ...hello, extensions: hello.extensions.filter((e) => e.type !== 'early_data') };
      this.earlyResult = false;
      this.emit({ type: 'early-data', accepted: false });
    }
    if (this.offer !== null && this.offer.hash !== suiteInfo(suite).hash) this.offer = null;
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
    const selected = findExtension(m.extensions, 'pre_shared_key');
    let psk: Uint8Array | null = null;
    if (selected !== undefined) {
      // RFC 8446 section 4.2: a response to an extension not sent is unsupported_extension.
      if (this.offer === null) throw new TlsAlertError('unsupported_extension', 'pre_shared_key not offered');
      // Section 4.2.11: "Clients MUST verify that the server's selected_identity is within the range
      // supplied by the client, that the server selected a cipher suite indicating a Hash associated
      // with the PSK, and that a server "key_share" extension is present if required by the
      // ClientHello "psk_key_exchange_modes" extension" (illegal_parameter otherwise). One identity is
      // offered.
      if (selected.selectedIdentity !== 0)
        throw new TlsAlertError('illegal_parameter', `selected_identity ${selected.selectedIdentity} out of range`);
      if (suiteInfo(suite).hash !== this.offer.hash) throw new TlsAlertError('illegal_parameter', 'suite hash differs from the PSK hash');
      psk = this.offer.session.psk;
    }
    const share = findExtension(m.extensions, 'key_share');
    if (share === undefined) {
      // psk_dhe_ke is the only mode offered: a PSK accepted without key_share breaks section 4.2.11.
      if (psk !== null) throw new TlsAlertError('illegal_parameter', 'PSK accepted without key_share (psk_dhe_ke offered)');
      throw new TlsAlertError('missing_extension', 'ServerHello has no key_share');
    }
    const ours = this.keyShare!;
    // RFC 8446 section 4.2.8: the server's share must be in the group of a share the client sent.
    if (share.share.group !== NAMED_GROUPS[ours.group].code) throw new TlsAlertError('illegal_parameter', 'key share group not offered');
    const shared = ours.deriveSecret(share.share.keyExchange);

    const hash = suiteInfo(suite).hash;
    this.suite = suite;
    this.transcript.setHash(hash);
    this.transcript.add(raw);
    this.hashLength = suiteInfo(suite).hashLength;
    this.resumedValue = psk !== null;
    const schedule = new KeySchedule(this.provider, hash, psk);
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
    const early = findExtension(m.extensions, 'early_data') !== undefined;
    if (early) {
      // RFC 8446 section 4.2: early_data in EncryptedExtensions answers one in the ClientHello (never
      // the second one, section 4.1.2).
      if (!this.earlyOffered || this.earlyResult !== null) throw new TlsAlertError('unsupported_extension', 'early_data not offered');
      const session = this.offer!.session;
      // Section 4.2.11: with early_data the selected identity must be 0, so a PSK must be accepted;
      // section 4.2.10: the early data was sent for the ticket's suite and ALPN.
      if (!this.resumedValue) throw new TlsAlertError('illegal_parameter', 'early_data accepted without the PSK');
      if (this.suite !== session.suite || protocol !== session.alpn) {
        throw new TlsAlertError('illegal_parameter', "early_data accepted with another suite or ALPN than the ticket's");
      }
    }
    this.transcript.add(raw);
    this.alpnValue = protocol;
    this.emit({ type: 'alpn', protocol });
    if (params !== undefined) this.emit({ type: 'peer-transport-parameters', bytes: params.data });
    if (this.earlyOffered && this.earlyResult === null) {
      this.earlyResult = early;
      this.emit({ type: 'early-data', accepted: early });
    }
    // RFC 8446 section 2.2: a PSK handshake authenticates with the PSK: no Certificate, CertificateVerify
    // or CertificateRequest (section 4.3.2) follow.
    this.transition(this.resumedValue ? 'client-expect-finished' : 'client-expect-certificate');
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
    // RFC 8446 section 7.1: resumption_master_secret covers ClientHello...client Finished.
    this.resumptionSecret = schedule.resumptionMasterSecret(this.transcript.digest());
    this.emit({ type: 'send', level: 'handshake', data: concatBytes(flight) });
    this.emit({ type: 'keys', level: 'application', direction: 'write', suite, secret: clientApp });
    this.emit({ type: 'complete', resumed: this.resumedValue });
    this.transition('client-complete');
  }

  /** RFC 8446 section 4.6.1: a ticket for a later connection, as a {@link SessionTicket}. */
  private onNewSessionTicket(m: NewSessionTicket): void {
    const session = sessionFromNewSessionTicket(
      this.provider,
      m,
      {
        suite: this.suite!,
        resumptionMasterSecret: this.resumptionSecret!,
        alpn: this.alpnValue!,
        serverName: this.options.serverName ?? null,
      },
      this.now,
    );
    if (session !== null) this.emit({ type: 'session-ticket', session });
  }
}
