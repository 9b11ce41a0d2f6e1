/**
 * Configuration of a QUIC connection: what both roles share, what only a
 * client or a server needs, and the defaults (each justified where it is
 * not the RFC's own default).
 */
import { UsageError } from '../../combinators/errors.js';
import type { CipherSuite, CryptoProvider, NamedGroup, Signer } from '../crypto/provider.js';
import type { CongestionAlgorithm } from '../recovery/recovery.js';
import type { CongestionController } from '../recovery/congestion/controller.js';
import type { CertificateVerifier } from '../tls/client.js';
import type { EarlyDataInfo, TicketOptions } from '../tls/tickets.js';
import { QUIC_V1 } from '../version.js';
import type { TraceOptions } from './trace.js';
import type { PreferredAddressOption } from './paths.js';

/** Limits we advertise (our transport parameters) and enforce. */
export interface ConnectionLimits {
  /** Connection-level receive window in bytes (initial_max_data; credit returns as the application reads). Default 8 MiB. */
  readonly maxData?: number;
  /** Per-stream receive window for streams we open (initial_max_stream_data_bidi_local). Default 1 MiB. */
  readonly maxStreamDataBidiLocal?: number;
  /** Per-stream receive window for streams the peer opens (initial_max_stream_data_bidi_remote). Default 1 MiB. */
  readonly maxStreamDataBidiRemote?: number;
  /** Per-stream receive window for the peer's unidirectional streams (initial_max_stream_data_uni). Default 1 MiB. */
  readonly maxStreamDataUni?: number;
  /** Peer bidirectional streams open at once (initial_max_streams_bidi). Default 100 (quinn, quiche). */
  readonly maxStreamsBidi?: number;
  /** Peer unidirectional streams open at once (initial_max_streams_uni). Default 100. */
  readonly maxStreamsUni?: number;
  /** Bytes a stream holds for sending (written, not yet acknowledged). Default 1 MiB. */
  readonly sendBufferSize?: number;
  /** Out-of-order CRYPTO bytes held per level (RFC 9000 section 7.5: at least 4096). Default 64 KiB. */
  readonly cryptoBufferSize?: number;
  /** Largest DATAGRAM frame we accept (max_datagram_frame_size); 0 (default) disables DATAGRAM (RFC 9221). */
  readonly maxDatagramFrameSize?: number;
  /** Received DATAGRAM frames queued before the oldest are dropped. Default 256. */
  readonly datagramQueueLength?: number;
  /** Our active_connection_id_limit (peer CIDs we keep). Default 4. */
  readonly activeConnectionIdLimit?: number;
}

/** Options both roles share (including the debug sinks of {@link TraceOptions}). */
export interface CommonConnectionOptions extends TraceOptions {
  /** Crypto provider (portable noble or Node). Its random source is the connection's only source of randomness. */
  readonly provider: CryptoProvider;
  /** ALPN protocol ids (client: offered in order; server: accepted, in preference order). */
  readonly alpn: readonly string[];
  /**
   * QUIC version (default v1; QUIC_V2 = 0x6b3343cf for RFC 9369). A client starts in it; a server is
   * given the version of the client's first Initial (see the server's `versions` for compatible
   * version negotiation, RFC 9368).
   */
  readonly version?: number;
  /**
   * Use ECN (RFC 9000 section 13.4, default true): mark datagrams ECT(0) while the path is tested and
   * once it is validated (`need-write` results carry the codepoint in `ecn`), and stop marking when the
   * peer's ACK frames show the marks bleached, miscounted or not reported. The driver must set the
   * codepoint on the socket and pass the received one to `receive`; the Node adapter cannot (node:dgram
   * neither reads nor sets the ECN bits), so it sends everything Not-ECT and passes nothing: validation
   * then fails at the first acknowledgment and marking stops, which is harmless. Received codepoints are
   * counted and reported in ACK frames (type 0x03) whatever this option says.
   */
  readonly ecn?: boolean;
  /** max_idle_timeout in ms (default 30 000; 0 = none). The effective timeout is the smaller of both sides' (RFC 9000 section 10.1). */
  readonly idleTimeout?: number;
  /** Send a PING after this many ms without sending ack-eliciting packets, to keep the connection (and NAT bindings) alive. Default off. */
  readonly keepAlive?: number;
  /** Largest UDP payload we send once the peer allows it (its max_udp_payload_size). Default 1200 (RFC 9000 section 14: always safe). */
  readonly maxDatagramSize?: number;
  /** Length of the connection IDs we issue, 0..20 (default 8). */
  readonly connectionIdLength?: number;
  /** Congestion controller (default 'cubic'). */
  readonly congestion?: CongestionAlgorithm | CongestionController;
  /** Initial congestion window in bytes (default per RFC 9002 section 7.2). */
  readonly initialWindow?: number;
  /** Pace in-flight packets (default true). */
  readonly pacing?: boolean;
  /** Our max_ack_delay in ms (default 25). */
  readonly maxAckDelay?: number;
  /** Our ack_delay_exponent (default 3). */
  readonly ackDelayExponent?: number;
  /** TLS cipher suites (default AES-128-GCM, ChaCha20-Poly1305, AES-256-GCM). */
  readonly cipherSuites?: readonly CipherSuite[];
  /** Key exchange groups (default x25519, secp256r1). */
  readonly groups?: readonly NamedGroup[];
  readonly limits?: ConnectionLimits;
  /**
   * Start a 1-RTT key update (RFC 9001 section 6) by ourselves once this many 1-RTT packets were sent
   * in the current key phase, and again in each later phase. Default: only when the AEAD's
   * confidentiality limit comes near (always on, RFC 9001 section 6.6) or on `updateKeys()`. An update
   * waits, as the RFC requires, until the handshake is confirmed, a packet of the current phase was
   * acknowledged and the previous phase's keys were dropped (three PTOs after the last update). Interop
   * runners' "keyupdate" case sets a small value to force an early update.
   */
  readonly keyUpdateAfterPackets?: number;
  /**
   * Lower AEAD limits than RFC 9001 section 6.6 gives (tests, or extra caution): `confidentiality`
   * (packets one key protects; an update starts at seven eighths of it, and the connection closes with
   * AEAD_LIMIT_REACHED near it when no update was possible) and `integrity` (received packets failing
   * authentication over the connection; reaching it closes with AEAD_LIMIT_REACHED). Values above the
   * RFC's for the negotiated suite are capped to them.
   */
  readonly aeadLimits?: { readonly confidentiality?: number; readonly integrity?: number };
}

export interface ClientConnectionOptions extends CommonConnectionOptions {
  /** Host name to verify and send as SNI. */
  readonly serverName?: string;
  /** Certificate chain check (see src/quic/tls/node.ts for the Node verifier). Required unless `insecureSkipVerify`. */
  readonly verifyCertificate?: CertificateVerifier;
  /** Accept any server certificate. Tests and labs only. */
  readonly insecureSkipVerify?: boolean;
  /** Client certificate (mutual TLS): DER chain, leaf first, and its key. */
  readonly certificateChain?: readonly Uint8Array[];
  readonly signer?: Signer;
  /** A token from NEW_TOKEN of an earlier connection, sent in Initial packets (RFC 9000 section 8.1.3). */
  readonly token?: Uint8Array;
  /**
   * Resume a session: the `ticket` of an earlier connection's `session-ticket` event (opaque bytes; they
   * hold the resumption secret, keep them like a password). An expired or foreign ticket is simply not used.
   */
  readonly session?: Uint8Array;
  /**
   * Send 0-RTT data (RFC 9001 section 4.6, RFC 9000 section 7.4.1) when `session` allows it (its
   * ticket advertised early data, and it holds the server's remembered transport parameters: tickets
   * from the `session-ticket` event do). Streams can then be opened and written right after
   * `Connection.client`; their frames go in 0-RTT packets within the remembered limits. The
   * `handshake-completed` event says whether the server accepted (`earlyDataAccepted`). When it did not,
   * the connection resets its stream state and sends the data again in 1-RTT on the same stream IDs
   * (RFC 9001 section 4.6.2), unless the server chose another ALPN protocol: then those streams end with
   * `stream-closed` and the application decides. Default false.
   *
   * 0-RTT data can be replayed by an attacker (RFC 8446 section 8, RFC 9001 section 9.2): send in it
   * only what is safe to process twice (idempotent requests).
   */
  readonly earlyData?: boolean;
  /**
   * Versions we list in version_information (RFC 9368 section 5, in our order of preference; default:
   * `version` alone). A server may move the connection to another listed version it prefers (compatible
   * version negotiation, e.g. v1 to v2): its packets then come in that version and we follow. The server's
   * version_information is checked against the version we end up using (downgrade protection, section 4:
   * VERSION_NEGOTIATION_ERROR).
   */
  readonly compatibleVersions?: readonly number[];
  /**
   * Move to the server's preferred_address (RFC 9000 section 9.6) when it sends one: once the handshake is
   * confirmed the address of our family is validated (PATH_CHALLENGE with the connection ID that came with
   * it), then used (`path-changed`, reason 'preferred-address'). When validation fails we stay. Default true.
   */
  readonly followPreferredAddress?: boolean;
}

export interface ServerConnectionOptions extends CommonConnectionOptions {
  /** DER chain, leaf first. */
  readonly certificateChain: readonly Uint8Array[];
  readonly signer: Signer;
  /**
   * Issue session tickets and accept them for resumption (see src/quic/tls/tickets.ts): `key` is 32
   * secret bytes shared by every server that should accept the tickets.
   */
  readonly tickets?: TicketOptions;
  /**
   * Send disable_active_migration (RFC 9000 section 18.2): the client must not move to another address
   * on purpose (NAT rebinding is still followed). Default false.
   */
  readonly disableActiveMigration?: boolean;
  /**
   * preferred_address (RFC 9000 sections 9.6 and 18.2): an address per family the client should move to
   * once the handshake is confirmed. The connection issues connection ID 1 and its stateless reset token
   * for it (section 5.1.1). The driver must receive on these addresses (the path's `local` says which one
   * a datagram came to) and send from the `local` address of each `need-write` path. Needs a non-zero
   * connection ID length.
   */
  readonly preferredAddress?: PreferredAddressOption;
  /** Mutual TLS: verify the client's chain. */
  readonly clientAuthentication?: { readonly verifyCertificate: CertificateVerifier; readonly required?: boolean };
  /**
   * The client's address is already validated (a valid Retry or NEW_TOKEN
   * token): no anti-amplification limit (RFC 9000 section 8.1).
   */
  readonly addressValidated?: boolean;
  /**
   * Set when the endpoint answered the client's first Initial with Retry:
   * the DCID of that first Initial (original_destination_connection_id) and
   * the SCID of the Retry (retry_source_connection_id), RFC 9000 section 7.3.
   */
  readonly retry?: { readonly originalDestinationConnectionId: Uint8Array; readonly retrySourceConnectionId: Uint8Array };
  /** The connection ID to use as our first SCID (default: random). An endpoint passes one it can route. */
  readonly sourceConnectionId?: Uint8Array;
  /** Stateless reset token for our first connection ID (default: random). */
  readonly statelessResetToken?: Uint8Array;
  /** Stateless reset tokens for the IDs we issue later (default: random). */
  readonly resetTokenFor?: (cid: Uint8Array) => Uint8Array;
  /**
   * Accept 0-RTT data (RFC 9001 section 4.6) from clients resuming with our tickets: `true`, or a
   * function deciding per connection (its `info.applicationData` is `tickets.applicationData` as it was
   * when the ticket was issued). Tickets then advertise 0-RTT (max_early_data_size 0xffffffff, RFC 9001
   * section 4.6.1) unless `tickets.maxEarlyData` says otherwise. Before asking, the connection checks
   * what TLS checks (first PSK, same suite and ALPN, plausible ticket age) and that its transport
   * parameters are not below those the ticket remembered (RFC 9000 section 7.4.1: a server that
   * accepts 0-RTT "MUST NOT set values ... that are smaller than the remembered values"); otherwise
   * 0-RTT is declined and the client sends the data again in 1-RTT. Default false.
   *
   * Replay (RFC 8446 section 8, RFC 9001 section 9.2): 0-RTT data is not protected against replay. An
   * attacker who recorded a client's first flight can have it processed again, by this server or any
   * other holding the ticket key, for as long as the ticket lives. Accept only what is safe to process
   * twice, or make each ticket single-use for 0-RTT: return `cache.useOnce(info.ticketId,
   * info.expiresAt, info.now)` from a `SingleUseTicketCache` (src/quic/tls/tickets.ts; one process) or
   * a shared store (several processes).
   */
  readonly earlyData?: boolean | ((info: EarlyDataInfo) => boolean);
  /**
   * Versions we support, in order of preference (default [v1, v2]). When the client's version_information
   * lists a version we prefer to that of its first Initial, the connection moves there before our first
   * packet (compatible version negotiation, RFC 9368 section 2.3): e.g. [QUIC_V2, QUIC_V1] moves v1
   * clients that offer v2. An endpoint answers Initials of other versions with Version Negotiation.
   */
  readonly versions?: readonly number[];
}

/** Every option with its default applied. */
export interface ResolvedCommon {
  readonly version: number;
  readonly idleTimeout: number;
  readonly keepAlive: number | null;
  readonly maxDatagramSize: number;
  readonly connectionIdLength: number;
  readonly maxAckDelay: number;
  readonly ackDelayExponent: number;
  readonly maxData: number;
  readonly maxStreamDataBidiLocal: number;
  readonly maxStreamDataBidiRemote: number;
  readonly maxStreamDataUni: number;
  readonly maxStreamsBidi: number;
  readonly maxStreamsUni: number;
  readonly sendBufferSize: number;
  readonly cryptoBufferSize: number;
  readonly maxDatagramFrameSize: number;
  readonly datagramQueueLength: number;
  readonly activeConnectionIdLimit: number;
}

function check(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`${name} ${v} outside ${min}..${max}`);
  return v;
}

export function resolveCommon(o: CommonConnectionOptions): ResolvedCommon {
  if (o.alpn.length === 0) throw new UsageError('QUIC requires at least one ALPN protocol (RFC 9001 section 8.1)');
  const l = o.limits ?? {};
  const MAX = Number.MAX_SAFE_INTEGER;
  return {
    version: o.version ?? QUIC_V1,
    idleTimeout: check('idleTimeout', o.idleTimeout ?? 30_000, 0, MAX),
    keepAlive: o.keepAlive === undefined ? null : check('keepAlive', o.keepAlive, 1, MAX),
    maxDatagramSize: check('maxDatagramSize', o.maxDatagramSize ?? 1200, 1200, 65527),
    connectionIdLength: check('connectionIdLength', o.connectionIdLength ?? 8, 0, 20),
    maxAckDelay: check('maxAckDelay', o.maxAckDelay ?? 25, 1, 2 ** 14 - 1),
    ackDelayExponent: check('ackDelayExponent', o.ackDelayExponent ?? 3, 0, 20),
    maxData: check('maxData', l.maxData ?? 8 * 1024 * 1024, 0, MAX),
    maxStreamDataBidiLocal: check('maxStreamDataBidiLocal', l.maxStreamDataBidiLocal ?? 1024 * 1024, 0, MAX),
    maxStreamDataBidiRemote: check('maxStreamDataBidiRemote', l.maxStreamDataBidiRemote ?? 1024 * 1024, 0, MAX),
    maxStreamDataUni: check('maxStreamDataUni', l.maxStreamDataUni ?? 1024 * 1024, 0, MAX),
    maxStreamsBidi: check('maxStreamsBidi', l.maxStreamsBidi ?? 100, 0, 2 ** 50),
    maxStreamsUni: check('maxStreamsUni', l.maxStreamsUni ?? 100, 0, 2 ** 50),
    sendBufferSize: check('sendBufferSize', l.sendBufferSize ?? 1024 * 1024, 1, MAX),
    cryptoBufferSize: check('cryptoBufferSize', l.cryptoBufferSize ?? 64 * 1024, 4096, MAX),
    maxDatagramFrameSize: check('maxDatagramFrameSize', l.maxDatagramFrameSize ?? 0, 0, 65535),
    datagramQueueLength: check('datagramQueueLength', l.datagramQueueLength ?? 256, 1, MAX),
    activeConnectionIdLimit: check('activeConnectionIdLimit', l.activeConnectionIdLimit ?? 4, 2, 64),
  };
}
