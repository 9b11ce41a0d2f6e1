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
 * Session tickets (with `tickets`, see tickets.ts): after the client Finished the server sends
 * `tickets.count` NewSessionTickets at the application level (RFC 9001 section 4.5: in 1-RTT CRYPTO
 * frames), each a stateless ticket sealed under `tickets.key`. A later ClientHello offering one of
 * them (pre_shared_key with psk_dhe_ke) resumes: the binder is checked (decrypt_error when wrong),
 * the ServerHello selects the identity and carries a key share (QUIC keeps (EC)DHE), and the server
 * flight is EncryptedExtensions and Finished only (no Certificate, CertificateVerify or
 * CertificateRequest, RFC 8446 section 2.2). A ticket that does not open, has expired, was issued for
 * another server name, or has no suite in common is ignored: full handshake, no alert.
 *
 * ```
 * server-expect-client-hello  ClientHello (resumed) -> alpn, peer-transport-parameters,
 *                                            [early-data, keys(early, read) when accepted],
 *                                            send(initial, ServerHello + pre_shared_key), keys(handshake),
 *                                            send(handshake, EncryptedExtensions [early_data] Finished),
 *                                            keys(application, write)
 * server-expect-finished      Finished    -> keys(application, read), complete(resumed),
 *                                            send(application, NewSessionTicket x count)
 * ```
 *
 * 0-RTT: a ClientHello with early_data gets an `early-data` output with the decision. It is accepted
 * only when the PSK is the first identity, the ticket allowed 0-RTT (`tickets.maxEarlyData`), the
 * suite and ALPN are the ticket's (RFC 8446 section 4.2.10), the client's ticket age agrees with the
 * server's within `tickets.ageToleranceMs` (section 8.3), no HelloRetryRequest was needed (RFC 9001
 * section 4.6.2), and the `earlyData` option allows it. Accepting emits `keys(early, read)`
 * (client_early_traffic_secret). 0-RTT data can be replayed: see the `earlyData` option and tickets.ts.
 */
import { UsageError } from '../../combinators/errors.js';
import { suiteInfo } from '../crypto/provider.js';
import type { CipherSuite, CryptoProvider, NamedGroup, SignatureScheme, Signer } from '../crypto/provider.js';
import { SIGNATURE_SCHEMES_SUPPORTED } from '../crypto/provider.js';
import { certificatePublicKey } from '../crypto/der.js';
import type { CertificateVerifier } from './client.js';
import {
  CIPHER_SUITE_CODES,
  LEGACY_VERSION,
  NAMED_GROUPS,
  PSK_KEY_EXCHANGE_MODES,
  SERVER_NAME_HOST_NAME,
  SIGNATURE_SCHEMES,
  TLS13,
  supportedSignatureScheme,
} from './constants.js';
import { TlsAlertError } from './errors.js';
import { findExtension, type KeyShareEntry } from './extensions.js';
import { alpnBytes, alpnString, concatBytes, DEFAULT_GROUPS, DEFAULT_SUITES, HandshakeMachine, type EncryptionLevel } from './handshake.js';
import { KeySchedule, Transcript, certificateVerifyContent, finishedVerifyData, resumptionPsk, verifyFinished } from './key-schedule.js';
import {
  encodeHandshake,
  type Certificate,
  type CertificateVerify,
  type ClientHello,
  type Finished,
  type HandshakeMessage,
} from './messages.js';
import { verifyPskBinder } from './session.js';
import {
  DEFAULT_AGE_TOLERANCE_MS,
  DEFAULT_TICKET_LIFETIME_SECONDS,
  checkTicketOptions,
  openTicket,
  sealTicket,
  type EarlyDataInfo,
  type TicketOptions,
  type TicketState,
} from './tickets.js';

export interface TlsServerOptions {
  readonly provider: CryptoProvider;
  /** DER certificates, leaf first (e.g. from the Node provider's loadCertificateChain). */
  readonly certificateChain: readonly Uint8Array[];
  /** The leaf certificate's private key (provider.createSigner, or loadPrivateKey in Node). */
  readonly signer: Signer;
  /** ALPN protocol ids accepted, in the server's preference order. */
  readonly alpn: readonly string[];
  /**
   * Our quic_transport_parameters extension body, encoded by the QUIC layer (RFC 9001 section 8.2), or a
   * function of the client's (called once, before EncryptedExtensions is built: compatible version
   * negotiation, RFC 9368, puts the version chosen from the client's parameters in ours).
   */
  readonly transportParameters: Uint8Array | ((clientParameters: Uint8Array) => Uint8Array);
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
  /**
   * Issue session tickets after each handshake and accept them for resumption (stateless tickets,
   * see tickets.ts). Without it no ticket is sent and resumption offers are declined (full handshake).
   * A resumed handshake of a server with a required `clientAuthentication` is only accepted for a
   * ticket whose original handshake authenticated the client.
   */
  readonly tickets?: TicketOptions;
  /**
   * Whether to accept 0-RTT data (RFC 8446 section 2.3, RFC 9001 section 4.6.2) when TLS allows it
   * for the offered ticket (see the class doc). A function decides per connection from an
   * {@link EarlyDataInfo}; the QUIC layer compares `applicationData` (the transport parameters it
   * sealed into the ticket) with its current ones (RFC 9001 section 4.6.3) and the application can add
   * its own checks. Default: accept when `tickets.maxEarlyData` advertises 0-RTT.
   *
   * Replay (RFC 8446 section 8): 0-RTT data is not protected against replay. An attacker who recorded
   * the client's first flight can have it processed again, by this server or any other holding the
   * ticket key, for as long as the ticket lives. Accept only requests that are safe to execute twice
   * (idempotent), or make each ticket single-use for 0-RTT: return
   * `cache.useOnce(info.ticketId, info.expiresAt, info.now)` from a `SingleUseTicketCache` (tickets.ts, one
   * process) or a shared store (several processes). Refusing 0-RTT never fails the connection: the
   * client resends the data in 1-RTT.
   */
  readonly earlyData?: boolean | ((info: EarlyDataInfo) => boolean);
}

/** The PSK the server accepts: the identity's index, its ticket, and the suite chosen for it. */
interface SelectedPsk {
  readonly index: number;
  readonly state: TicketState;
  readonly id: string;
  readonly suite: CipherSuite;
  readonly obfuscatedTicketAge: number;
}

const ASCII = new TextDecoder();

/** PSK identities of one ClientHello the server tries to open (see selectPsk). */
const MAX_PSK_IDENTITIES_TRIED = 4;

/** The host_name of the ClientHello's server_name (RFC 6066 section 3), or null. */
function clientServerName(m: ClientHello): string | null {
  const ext = findExtension(m.extensions, 'server_name');
  const name = ext?.names.find((n) => n.nameType === SERVER_NAME_HOST_NAME);
  return name === undefined ? null : ASCII.decode(name.name);
}

export type ServerState =
  | 'server-expect-client-hello'
  | 'server-expect-second-client-hello'
  | 'server-expect-client-certificate'
  | 'server-expect-client-certificate-verify'
  | 'server-expect-finished'
  | 'server-complete';

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
  private resumedValue = false;
  private ticketApplicationDataValue: Uint8Array | null = null;
  private earlyResult: boolean | null = null;
  /** The client proved a certificate in this handshake, or in the one its ticket came from. */
  private clientAuthenticated = false;
  /** The ClientHello's server name, sealed into tickets. */
  private serverNameValue: string | null = null;

  constructor(options: TlsServerOptions) {
    super('server-expect-client-hello');
    if (options.certificateChain.length === 0) throw new UsageError('the server needs a certificate chain');
    if (options.alpn.length === 0) throw new UsageError('QUIC requires at least one ALPN protocol (RFC 9001 section 8.1)');
    if (options.tickets !== undefined) checkTicketOptions(options.tickets);
    this.provider = options.provider;
    this.options = options;
    this.transcript = new Transcript(options.provider);
  }

  /** Whether the handshake resumed a session (a ticket was accepted); known once the ClientHello was processed. */
  get resumed(): boolean {
    return this.resumedValue;
  }

  /** The applicationData sealed in the accepted ticket, or null when the handshake did not resume. */
  get ticketApplicationData(): Uint8Array | null {
    return this.ticketApplicationDataValue;
  }

  /** Whether 0-RTT was accepted: null until decided, or when the client did not offer it. */
  get earlyDataAccepted(): boolean | null {
    return this.earlyResult;
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
    const common = (this.options.cipherSuites ?? DEFAULT_SUITES).filter((s) => m.cipherSuites.includes(CIPHER_SUITE_CODES[s].code));
    if (common.length === 0) throw new TlsAlertError('handshake_failure', 'no common cipher suite');
    // RFC 8446 section 4.1.4: after a HelloRetryRequest the suite stays the one it named.
    if (this.retry !== null && !common.includes(this.retry.suite)) {
      throw new TlsAlertError('illegal_parameter', 'second ClientHello changes the cipher suite');
    }
    const candidates = this.retry === null ? common : [this.retry.suite];

    // RFC 8446 section 9.2: a ClientHello offering (EC)DHE must carry supported_groups and key_share
    // (QUIC always uses (EC)DHE, also when resuming: psk_dhe_ke only), and without a PSK
    // signature_algorithms; missing ones are missing_extension.
    const groups = findExtension(m.extensions, 'supported_groups');
    const shares = findExtension(m.extensions, 'key_share');
    const sigAlgs = findExtension(m.extensions, 'signature_algorithms');
    if (groups === undefined || shares === undefined) {
      throw new TlsAlertError('missing_extension', 'ClientHello lacks supported_groups or key_share');
    }
    let chosen: { group: NamedGroup; entry: KeyShareEntry } | undefined;
    for (const g of this.options.groups ?? DEFAULT_GROUPS) {
      const entry = shares.shares.find((s) => s.group === NAMED_GROUPS[g].code);
      if (entry !== undefined) {
        chosen = { group: g, entry };
        break;
      }
    }

    // RFC 7301 section 3.2 and RFC 9001 section 8.1: no common protocol is no_application_protocol.
    const offered = findExtension(m.extensions, 'application_layer_protocol_negotiation');
    const offeredNames = offered === undefined ? [] : offered.protocols.map(alpnString);
    const protocol = this.options.alpn.find((p) => offeredNames.includes(p));
    if (protocol === undefined) throw new TlsAlertError('no_application_protocol', 'no ALPN protocol in common');
    const params = findExtension(m.extensions, 'quic_transport_parameters');
    if (params === undefined) throw new TlsAlertError('missing_extension', 'no quic_transport_parameters (RFC 9001 section 8.2)');
    const earlyOffered = findExtension(m.extensions, 'early_data') !== undefined;
    // RFC 8446 section 4.1.2: "Early data is not permitted after a HelloRetryRequest".
    if (this.retry !== null && earlyOffered) throw new TlsAlertError('illegal_parameter', 'early_data in the second ClientHello');

    const serverName = clientServerName(m);
    this.serverNameValue = serverName;
    const resumption = this.selectPsk(m, candidates, serverName);
    const suite = resumption?.suite ?? candidates[0]!;
    let scheme: SignatureScheme | undefined;
    if (resumption === null) {
      if (sigAlgs === undefined) throw new TlsAlertError('missing_extension', 'ClientHello lacks signature_algorithms');
      scheme = this.options.signer.schemes.find((s) => sigAlgs.schemes.some((code) => supportedSignatureScheme(code) === s));
      if (scheme === undefined) throw new TlsAlertError('handshake_failure', 'no signature scheme in common with our key');
    }

    if (this.retry !== null) {
      // RFC 8446 section 4.2.8: after a HelloRetryRequest the client sends exactly one share, in the
      // selected group.
      if (shares.shares.length !== 1 || chosen?.group !== this.retry.group) {
        throw new TlsAlertError('illegal_parameter', 'second ClientHello does not carry one key share in the selected group');
      }
    }
    const info = suiteInfo(suite);
    this.transcript.setHash(info.hash);
    // RFC 8446 section 4.2.11: "Prior to accepting PSK key establishment, the server MUST validate the
    // corresponding binder value ... If this value is not present or does not validate, the server
    // MUST abort the handshake" (decrypt_error, section 4.2.11.2 via section 6.2). The transcript holds
    // what precedes this ClientHello (nothing, or message_hash and the HelloRetryRequest).
    if (resumption !== null && !verifyPskBinder(this.provider, this.transcript, raw, m, resumption.index, resumption.state.psk)) {
      throw new TlsAlertError('decrypt_error', 'PSK binder does not verify');
    }
    if (chosen === undefined) {
      // RFC 8446 section 4.1.4: a group both support but without a share is asked for with a
      // HelloRetryRequest; with no common group at all the handshake fails. RFC 9001 section 4.6.2: "A
      // server will always reject 0-RTT if it sends a TLS HelloRetryRequest".
      const group = (this.options.groups ?? DEFAULT_GROUPS).find((g) => groups.groups.includes(NAMED_GROUPS[g].code));
      if (group === undefined) throw new TlsAlertError('handshake_failure', 'no group in common');
      if (earlyOffered) this.decideEarlyData(false);
      return this.sendHelloRetryRequest(m, raw, suite, group);
    }

    const keyShare = this.provider.generateKeyShare(chosen.group);
    const shared = keyShare.deriveSecret(chosen.entry.keyExchange);
    this.suite = suite;
    this.hashLength = info.hashLength;
    this.alpnValue = protocol;
    this.transcript.add(raw);
    this.emit({ type: 'alpn', protocol });
    this.emit({ type: 'peer-transport-parameters', bytes: params.data });
    const tp = this.options.transportParameters;
    const ourParameters = typeof tp === 'function' ? tp(params.data) : tp;

    const schedule = new KeySchedule(this.provider, info.hash, resumption?.state.psk ?? null);
    let early = false;
    if (earlyOffered) {
      early = resumption !== null && this.acceptEarlyData(resumption, suite, protocol, serverName);
      this.decideEarlyData(early);
      if (early) {
        // RFC 8446 section 7.1: Derive-Secret(Early Secret, "c e traffic", ClientHello).
        const secret = schedule.clientEarlyTrafficSecret(this.transcript.digest());
        this.emit({ type: 'keys', level: 'early', direction: 'read', suite, secret });
      }
    }
    if (resumption !== null) {
      this.resumedValue = true;
      this.ticketApplicationDataValue = resumption.state.applicationData;
      this.clientAuthenticated = resumption.state.clientAuthenticated;
    }

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
        ...(resumption === null ? [] : [{ type: 'pre_shared_key' as const, selectedIdentity: resumption.index }]),
      ],
    });
    this.transcript.add(serverHello);
    this.emit({ type: 'send', level: 'initial', data: serverHello });

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
          { type: 'quic_transport_parameters', data: ourParameters },
          // RFC 9001 section 4.6.2: "A server accepts 0-RTT by sending an early_data extension in the
          // EncryptedExtensions".
          ...(early ? [{ type: 'early_data' as const }] : []),
        ],
      }),
    );
    // RFC 8446 section 2.2: a resumed handshake is authenticated by the PSK: no CertificateRequest
    // (section 4.3.2: "Servers which are authenticating with a PSK MUST NOT send the
    // CertificateRequest message in the main handshake"), Certificate or CertificateVerify.
    const requestCertificate = resumption === null && this.options.clientAuthentication !== undefined;
    if (resumption === null) {
      if (requestCertificate) {
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
          algorithm: SIGNATURE_SCHEMES[scheme!].code,
          signature: this.options.signer.sign(scheme!, content),
        }),
      );
    }
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
    this.transition(requestCertificate ? 'server-expect-client-certificate' : 'server-expect-finished');
  }

  /**
   * The PSK to accept among the ClientHello's identities (RFC 8446 section 4.2.11), or null for a full
   * handshake: the first ticket that opens under our key, has not expired, was issued for the same
   * server name, satisfies our client authentication requirement, and has a hash some candidate suite
   * shares (the ticket's own suite first). Raises for a malformed offer.
   */
  private selectPsk(m: ClientHello, candidates: readonly CipherSuite[], serverName: string | null): SelectedPsk | null {
    const offered = findExtension(m.extensions, 'pre_shared_key');
    if (offered === undefined) return null;
    // RFC 8446 sections 4.2.9 and 9.2: "If clients offer "pre_shared_key" without a
    // "psk_key_exchange_modes" extension, servers MUST abort the handshake" (missing_extension).
    const modes = findExtension(m.extensions, 'psk_key_exchange_modes');
    if (modes === undefined) throw new TlsAlertError('missing_extension', 'pre_shared_key without psk_key_exchange_modes');
    // Section 4.2.11: one binder per identity, in the same order.
    if (offered.binders.length !== offered.identities.length) {
      throw new TlsAlertError('illegal_parameter', `${offered.identities.length} PSK identities but ${offered.binders.length} binders`);
    }
    const tickets = this.options.tickets;
    // QUIC keeps (EC)DHE: without psk_dhe_ke the offer is declined (section 4.2.9).
    if (tickets === undefined || !modes.modes.includes(PSK_KEY_EXCHANGE_MODES.psk_dhe_ke)) return null;
    const auth = this.options.clientAuthentication;
    const needClientCertificate = auth !== undefined && auth.required !== false;
    // Each identity costs an AEAD open: look at the first few only, so a ClientHello full of
    // identities cannot make the server do thousands of them.
    const tried = Math.min(offered.identities.length, MAX_PSK_IDENTITIES_TRIED);
    for (let index = 0; index < tried; index++) {
      const identity = offered.identities[index]!;
      const opened = openTicket(this.provider, tickets.key, identity.identity);
      if (opened === null) continue;
      const state = opened.state;
      // Section 4.6.1: a ticket is not used past its lifetime (nor long before it was issued: a clock
      // that went backwards, or a ticket from another clock).
      const age = this.now - state.issuedAt;
      if (age >= state.lifetimeSeconds * 1000 || age < -(tickets.ageToleranceMs ?? DEFAULT_AGE_TOLERANCE_MS)) continue;
      if (state.serverName !== serverName) continue;
      if (needClientCertificate && !state.clientAuthenticated) continue;
      const hash = suiteInfo(state.suite).hash;
      const suite = candidates.includes(state.suite) ? state.suite : candidates.find((s) => suiteInfo(s).hash === hash);
      if (suite === undefined) continue;
      return { index, state, id: opened.id, suite, obfuscatedTicketAge: identity.obfuscatedTicketAge };
    }
    return null;
  }

  /**
   * Whether to accept 0-RTT with the selected PSK: RFC 8446 section 4.2.10, "the server MUST have
   * accepted a PSK cipher suite and selected the first key offered" and the suite and ALPN must be the
   * ticket's; the ticket must have allowed early data; the client's ticket age must agree with ours
   * (section 8.3, anti-replay freshness); then the application's `earlyData` option decides.
   */
  private acceptEarlyData(r: SelectedPsk, suite: CipherSuite, alpn: string, serverName: string | null): boolean {
    const tickets = this.options.tickets!;
    const s = r.state;
    if (r.index !== 0 || s.maxEarlyData === 0 || suite !== s.suite || alpn !== s.alpn) return false;
    const clientAge = (r.obfuscatedTicketAge - s.ticketAgeAdd) >>> 0;
    const serverAge = this.now - s.issuedAt;
    if (Math.abs(clientAge - serverAge) > (tickets.ageToleranceMs ?? DEFAULT_AGE_TOLERANCE_MS)) return false;
    const policy = this.options.earlyData ?? (tickets.maxEarlyData ?? 0) !== 0;
    if (typeof policy === 'boolean') return policy;
    return policy({
      alpn,
      serverName,
      applicationData: s.applicationData,
      ticketId: r.id,
      issuedAt: s.issuedAt,
      expiresAt: s.issuedAt + s.lifetimeSeconds * 1000,
      clientTicketAge: clientAge,
      now: this.now,
    });
  }

  private decideEarlyData(accepted: boolean): void {
    this.earlyResult = accepted;
    this.emit({ type: 'early-data', accepted });
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
    this.clientAuthenticated = true;
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
    this.emit({ type: 'complete', resumed: this.resumedValue });
    this.transition('server-complete');
    // RFC 8446 section 7.1: resumption_master_secret covers ClientHello...client Finished.
    if (this.options.tickets !== undefined)
      this.sendTickets(this.options.tickets, schedule.resumptionMasterSecret(this.transcript.digest()));
  }

  /**
   * NewSessionTickets (RFC 8446 section 4.6.1), at the application level (RFC 9001 section 4.5). Each
   * has its own nonce (a counter: "unique across all tickets issued on this connection"), its own
   * random ticket_age_add, and the PSK derived from that nonce sealed in the ticket.
   */
  private sendTickets(t: TicketOptions, resumptionMasterSecret: Uint8Array): void {
    const suite = this.suite!;
    const hash = suiteInfo(suite).hash;
    const lifetime = t.lifetimeSeconds ?? DEFAULT_TICKET_LIFETIME_SECONDS;
    const maxEarlyData = t.maxEarlyData ?? 0;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < (t.count ?? 1); i++) {
      const nonce = Uint8Array.of(i >> 8, i & 0xff);
      const r = this.provider.random(4);
      const ticketAgeAdd = ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0;
      const ticket = sealTicket(this.provider, t.key, {
        suite,
        psk: resumptionPsk(this.provider, hash, resumptionMasterSecret, nonce),
        alpn: this.alpnValue!,
        serverName: this.serverNameValue,
        issuedAt: this.now,
        lifetimeSeconds: lifetime,
        ticketAgeAdd,
        maxEarlyData,
        clientAuthenticated: this.clientAuthenticated,
        applicationData: t.applicationData ?? new Uint8Array(0),
      });
      parts.push(
        encodeHandshake({
          type: 'new_session_ticket',
          ticketLifetime: lifetime,
          ticketAgeAdd,
          ticketNonce: nonce,
          ticket,
          // RFC 9001 section 4.6.1: early_data carries 0xffffffff when 0-RTT is allowed, else is absent.
          extensions: maxEarlyData === 0 ? [] : [{ type: 'early_data', maxEarlyDataSize: maxEarlyData }],
        }),
      );
    }
    if (parts.length > 0) this.emit({ type: 'send', level: 'application', data: concatBytes(parts) });
  }
}
