/**
 * A QUIC v1 connection, client or server (RFC 9000, 9001, 9002), sans-I/O.
 *
 * The connection is a thin orchestrator over one module per concern: the TLS
 * handshake (../tls), packet protection keys (keys.ts), CRYPTO streams
 * (crypto-stream.ts), ACK tracking (ack-tracker.ts), connection IDs (cid.ts),
 * loss recovery and congestion control (../recovery), streams and flow
 * control (../streams), packets and frames (../packet-io.ts), and the
 * sending path: datagram assembly, retransmission, PTO probe content and the
 * anti-amplification limit (sender.ts).
 *
 * ## The driver's contract
 *
 * - Input: {@link Connection.receive}`(datagram, path, now)` for every UDP
 *   datagram that belongs to the connection. The connection decrypts the
 *   datagram in place and may keep views of it (received stream data): hand
 *   over a buffer you will not reuse.
 * - Output: {@link Connection.poll}`(now)` until it returns `need-read`:
 *   `need-write` is a datagram and the path it goes on (send it before the
 *   next call: its bytes may be reused), `event` one {@link ConnectionEvent},
 *   `need-read` carries the deadline at which to call `poll` again even if
 *   nothing arrives (null: no timer), `done` means the connection is over.
 * - Commands (open a stream, write, read, finish, reset, stop sending, send a
 *   datagram, ping, update keys, close) change state; call `poll` afterwards.
 *   A client created with `session` and `earlyData` may use streams right
 *   away: what it writes goes in 0-RTT packets (see the `earlyData` option).
 * - `now` is milliseconds on the caller's monotonic clock and never goes
 *   backwards. The connection never reads a clock; all randomness comes from
 *   the crypto provider's random source.
 *
 * ```ts
 * const conn = Connection.client({ provider, alpn: ['hq-interop'], serverName: 'example.org', verifyCertificate }, path, now());
 * for (;;) {
 *   const r = conn.poll(now());
 *   if (r.type === 'need-write') socket.send(r.datagram, r.path.remote);
 *   else if (r.type === 'event') handle(r.event);
 *   else if (r.type === 'need-read') { await datagramOrDeadline(r.deadline); }
 *   else break; // done
 * }
 * ```
 */
import { UsageError } from '../../combinators/errors.js';
import { Writer } from '../../combinators/writer.js';
import type { CipherSuite, CryptoProvider } from '../crypto/provider.js';
import { TransportError, transportErrorName } from '../errors.js';
import type { AckFrame, ConnectionCloseFrame, Frame } from '../frame.js';
import { PacketOpener, type OpenedPacket, type PacketNumberSpace, type PacketResult, type UnprotectedPacket } from '../packet-io.js';
import { decodePacketHeader } from '../packet.js';
import { isSupportedVersion, SUPPORTED_VERSIONS, verifyRetryIntegrity } from '../packet-protection.js';
import { Recovery } from '../recovery/recovery.js';
import { decodeAckDelay, INITIAL_RTT_MS } from '../recovery/rtt.js';
import { TimerTable } from '../recovery/timers.js';
import { StreamManager, type StreamLimits, type StreamManagerOptions } from '../streams/manager.js';
import type { StreamRead } from '../streams/recv.js';
import { TlsClient, type TlsClientOptions } from '../tls/client.js';
import { TlsAlertError } from '../tls/errors.js';
import type { HandshakeOutput } from '../tls/handshake.js';
import { TlsServer, type TlsServerOptions } from '../tls/server.js';
import { decodeSessionTicket, encodeSessionTicket, sessionAllowsEarlyData } from '../tls/session.js';
import {
  decodeTransportParameters,
  encodeTransportParameters,
  type PreferredAddress,
  type Role,
  type TransportParameters,
} from '../transport-params.js';
import { AckTracker, type EcnMark } from './ack-tracker.js';
import { EcnValidator, type EcnState } from './ecn.js';
import { acceptsServerVersion, checkServerVersionInformation, chooseVersion } from './version-negotiation.js';
import { LocalConnectionIds, PeerConnectionIds } from './cid.js';
import { CryptoStream } from './crypto-stream.js';
import { PacketSender, type SentFrame } from './sender.js';
import { qlogFrame, toHex, keylogLabel, type QlogEvent } from './trace.js';
import { type CloseReason, type ConnectionEvent, type ConnectionPollResult, type Path, type SocketAddress, samePath } from './events.js';
import {
  ipv4Bytes,
  ipv4Text,
  ipv6Bytes,
  ipv6Text,
  isIpv6,
  PathManager,
  type PathChangeReason,
  type PathEntry,
  type PreferredAddressOption,
} from './paths.js';
import {
  decodeRememberedParameters,
  EarlyDataError,
  EarlyDataJournal,
  encodeRememberedParameters,
  reducedParameter,
  rememberedFrom,
  serverEarlyData,
  type RememberedParameters,
} from './early-data.js';
import { KeyUpdatePolicy } from './key-update.js';
import { ConnectionKeys } from './keys.js';
import {
  resolveCommon,
  type ClientConnectionOptions,
  type CommonConnectionOptions,
  type ResolvedCommon,
  type ServerConnectionOptions,
} from './options.js';
import { equalBytes } from '../bytes.js';

/** The connection's lifecycle (RFC 9000 section 10). */
export type ConnectionState =
  /** Handshake in progress. */
  | 'handshake'
  /** Handshake complete (1-RTT). */
  | 'established'
  /** We closed: only CONNECTION_CLOSE is sent, for three PTOs (section 10.2.1). */
  | 'closing'
  /** The peer closed: nothing is sent, for three PTOs (section 10.2.2). */
  | 'draining'
  /** Over: poll returns done. */
  | 'closed';

type TimerKind = 'idle' | 'close' | 'loss' | 'ack' | 'pacing' | 'keep-alive' | 'key-discard' | 'early-discard' | 'path';
const TIMER_KINDS: readonly TimerKind[] = ['idle', 'close', 'loss', 'ack', 'pacing', 'keep-alive', 'key-discard', 'early-discard', 'path'];

/** Frame type codes used in errors. */
const T_NEW_TOKEN = 0x07;
const T_HANDSHAKE_DONE = 0x1e;
const T_DATAGRAM = 0x30;
/** Longest reason phrase we put in CONNECTION_CLOSE (it must fit a packet with room to spare). */
const MAX_REASON_BYTES = 256;

const UTF8 = new TextEncoder();
const FROM_UTF8 = new TextDecoder('utf-8', { fatal: false });

/** Counters for logs and benchmarks. */
export interface ConnectionStats {
  datagramsSent: number;
  datagramsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  packetsLost: number;
  /** Packets dropped on receipt (no keys, failed authentication, duplicates, malformed). */
  packetsDropped: number;
  /** Client: bytes of 0-RTT packets sent (RFC 9001 section 4.6). */
  zeroRttBytesSent: number;
  /**
   * Bytes of 0-RTT packets accepted: on a client, those the server acknowledged; on a server, those it
   * opened and processed. 0 when 0-RTT was not used or was rejected.
   */
  zeroRttBytesAccepted: number;
  /** 1-RTT key updates (RFC 9001 section 6), initiated by either side. */
  keyUpdates: number;
}

/** A client's 0-RTT attempt (RFC 9001 section 4.6, RFC 9000 section 7.4.1). */
interface ZeroRttAttempt {
  /** The server's transport parameters remembered with the session: the limits of 0-RTT packets. */
  readonly remembered: RememberedParameters;
  /** The session's ALPN protocol: rejected 0-RTT data is only replayed for the same protocol. */
  readonly alpn: string;
  /** What the application did on its streams while the server had not answered; null once accepted. */
  journal: EarlyDataJournal | null;
  /** Rejected: the journal waiting to be replayed in 1-RTT (for the handshake's parameters, or stream credit). */
  replay: EarlyDataJournal | null;
  /** The handshake's parameters, kept from the streams while 0-RTT packets still go out (RFC 9000 section 7.4.1). */
  heldLimits: StreamLimits | null;
}

/** A close the application asks for. */
export interface CloseOptions {
  /** Application error code (default 0), or a transport error code with `kind: 'transport'`. */
  readonly errorCode?: number | bigint;
  readonly reason?: string;
  /** Default 'application' (CONNECTION_CLOSE type 0x1d). */
  readonly kind?: 'application' | 'transport';
}

/** What a server connection needs from the client's first Initial packet. */
export interface FirstInitial {
  readonly version: number;
  /** The client's chosen Destination Connection ID (the Initial keys derive from it). */
  readonly dcid: Uint8Array;
  /** The client's Source Connection ID. */
  readonly scid: Uint8Array;
}

/**
 * Reads the header of a datagram's first packet, if it is a client Initial a
 * server can accept (RFC 9000 sections 7.2, 14.1): a supported version, a
 * datagram of at least 1200 bytes, a Destination Connection ID of at least
 * 8 bytes. Null otherwise (drop it, or answer with Version Negotiation).
 */
export function readFirstInitial(datagram: Uint8Array): (FirstInitial & { readonly token: Uint8Array }) | null {
  if (datagram.length < 1200) return null;
  try {
    const h = decodePacketHeader(datagram, 0, { shortDcidLength: 0 });
    if (h.kind !== 'initial' || h.dcid.length < 8) return null;
    return { version: h.version, dcid: h.dcid.slice(), scid: h.scid.slice(), token: h.token.slice() };
  } catch {
    return null;
  }
}

export class Connection {
  readonly role: Role;
  private readonly provider: CryptoProvider;
  private readonly config: ResolvedCommon;
  private readonly tls: TlsClient | TlsServer;
  private readonly keys: ConnectionKeys;
  private readonly opener: PacketOpener;
  private readonly recovery: Recovery<SentFrame[]>;
  private readonly sender: PacketSender;
  /** Replaced by a fresh one when the server rejects our 0-RTT (RFC 9001 section 4.6.2). */
  private streams: StreamManager;
  private readonly streamOptions: StreamManagerOptions;
  private readonly localCids: LocalConnectionIds;
  private readonly peerCids: PeerConnectionIds;
  private readonly acks: Record<PacketNumberSpace, AckTracker>;
  private readonly crypto: Record<PacketNumberSpace, CryptoStream>;
  private readonly timers = new TimerTable<TimerKind>(TIMER_KINDS);
  private readonly events: ConnectionEvent[] = [];
  private eventHead = 0;
  private stateValue: ConnectionState = 'handshake';
  private pathValue: Path;
  // paths and migration (RFC 9000 section 9; paths.ts)
  private readonly paths: PathManager;
  /** The path of the datagram being processed, and whether it carried a non-probing packet with a new largest number. */
  private rxPath: Path;
  private rxSwitch = false;
  /** Whether the packet that set `rxSwitch` carried the connection ID the peer last used on the current path. */
  private rxSwitchSameDcid = false;
  /** The connection ID (ours) the peer's last 1-RTT packet on the current path carried (section 9.5). */
  private rxPathDcid: Uint8Array | null = null;
  /** The last path validated before we moved to one not validated yet (section 9.3.2: revert to it on failure). */
  private lastValidatedPath: Path | null = null;
  /** Client: a path being probed before moving to it (`migrate`, preferred_address). */
  private migration: { readonly entry: PathEntry; readonly reason: PathChangeReason } | null = null;
  /** Server: the local addresses of our preferred_address (RFC 9000 section 9.6). */
  private preferredLocal: readonly SocketAddress[] = [];
  /** Client: the server's preferred address of our family and its connection ID, until we act on it. */
  private preferredTarget: { readonly remote: SocketAddress; readonly cid: Uint8Array } | null = null;
  /** Client: move to the server's preferred_address (option `followPreferredAddress`). */
  private followPreferred = true;
  /** The path of the datagram `nextDatagram` returned. */
  private writePath: Path;
  private readonly localTransportParameters: Partial<TransportParameters>;
  private peerParams: TransportParameters | null = null;
  private alpnValue: string | null = null;
  private version: number;
  /** The version we started with (RFC 9368: compatible negotiation may move us to another). */
  private readonly originalVersion: number;
  /** Client: versions listed in our version_information; server: versions we accept, preferred first. */
  private versionList: readonly number[] = [];

  // ECN (ecn.ts; RFC 9000 section 13.4)
  private readonly ecn: EcnValidator;
  /** The codepoint of the datagram being processed (counted per packet by the ACK tracker). */
  private rxEcn: EcnMark = 'not-ect';
  /** The codepoint of the datagram `nextDatagram` returned. */
  private txEcn: EcnMark = 'not-ect';

  // handshake progress
  private handshakeComplete = false;
  private handshakeConfirmed = false;
  private resumed = false;
  private earlyDataAccepted = false;
  /** Client: the 0-RTT attempt, null when none. */
  private zeroRtt: ZeroRttAttempt | null = null;
  /** First application packet number sent with 1-RTT keys: the ones below are 0-RTT (client). */
  private zeroRttPnEnd = Infinity;
  /** Client: the DCID of our first Initial (the Initial keys and original_destination_connection_id derive from it). */
  private readonly originalDcid: Uint8Array;
  /** Client: the server's SCID from its first Initial (checked against initial_source_connection_id). */
  private serverScid: Uint8Array | null = null;
  /** Client: the SCID of a Retry we accepted. */
  private retryScid: Uint8Array | null = null;
  private newTokenValue: Uint8Array | null = null;
  /** Client: a packet from the server was processed (Version Negotiation and Retry are ignored after that). */
  private receivedFromPeer = false;

  // idle and keep-alive (RFC 9000 section 10.1)
  private lastActivity: number;
  private ackElicitingSinceReceive = false;
  private lastAckElicitingSent: number;
  /** The latest `now` given to receive or poll (commands use it). */
  private now: number;
  /** poll returned need-read and nothing happened since (see {@link needsPoll}). */
  private quiet = false;
  private quietDeadline: number | null = null;

  // application data
  private datagramsIn = 0;

  // closing
  private closeFrame: { transport: ConnectionCloseFrame; application: ConnectionCloseFrame | null } | null = null;
  private closeSendPending = false;
  /** Spaces still owed a CONNECTION_CLOSE datagram of the current round (one datagram per space). */
  private closeSpaces: PacketNumberSpace[] = [];
  private peerMaxUdpPayload = 1200;
  private closesSent = 0;
  private packetsSinceClose = 0;
  private closedReported = false;

  // key update and AEAD limits (RFC 9001 section 6)
  private readonly keyPolicy: KeyUpdatePolicy;

  // tracing (trace.ts)
  private readonly keylogSink: ((line: string) => void) | undefined;
  private readonly qlogSink: ((event: QlogEvent) => void) | undefined;
  /** The ClientHello's random (the key log's index): bytes 6..38 of the Initial CRYPTO stream. */
  private clientRandom: Uint8Array | null = null;

  readonly stats: ConnectionStats = {
    datagramsSent: 0,
    datagramsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    packetsSent: 0,
    packetsReceived: 0,
    packetsLost: 0,
    packetsDropped: 0,
    zeroRttBytesSent: 0,
    zeroRttBytesAccepted: 0,
    keyUpdates: 0,
  };

  private constructor(
    role: Role,
    options: CommonConnectionOptions,
    config: ResolvedCommon,
    path: Path,
    now: number,
    cids: { scid: Uint8Array; dcid: Uint8Array; originalDcid: Uint8Array; resetToken?: Uint8Array },
    makeTls: (tp: Uint8Array) => TlsClient | TlsServer,
    extraParams: Partial<TransportParameters>,
    addressValidated: boolean,
    token: Uint8Array,
    resetTokenFor: ((cid: Uint8Array) => Uint8Array) | undefined,
    preferred?: PreferredAddressOption,
  ) {
    this.role = role;
    this.provider = options.provider;
    this.keylogSink = options.keylog;
    this.qlogSink = options.qlog;
    this.config = config;
    const c = config;
    this.version = c.version;
    this.originalVersion = c.version;
    this.ecn = new EcnValidator(options.ecn ?? true);
    if (!isSupportedVersion(this.version)) throw new UsageError(`QUIC version 0x${this.version.toString(16)} is not supported`);
    this.pathValue = path;
    this.rxPath = path;
    this.writePath = path;
    this.paths = new PathManager({ random: (n) => this.provider.random(n) });
    this.now = now;
    this.lastActivity = now;
    this.lastAckElicitingSent = now;
    this.originalDcid = cids.originalDcid;
    this.keys = new ConnectionKeys(this.provider, role, this.version);
    this.keys.installInitial(role === 'client' ? cids.dcid : cids.originalDcid);
    this.opener = new PacketOpener({ shortDcidLength: c.connectionIdLength === 0 ? 0 : cids.scid.length });
    this.recovery = new Recovery<SentFrame[]>({
      role,
      congestion: options.congestion ?? 'cubic',
      ...(options.initialWindow === undefined ? {} : { initialWindow: options.initialWindow }),
      ...(options.pacing === undefined ? {} : { pacing: options.pacing }),
    });
    // Our stream limits are both the StreamManager's windows and the transport parameters we advertise.
    const limits: StreamLimits = {
      initialMaxData: c.maxData,
      initialMaxStreamDataBidiLocal: c.maxStreamDataBidiLocal,
      initialMaxStreamDataBidiRemote: c.maxStreamDataBidiRemote,
      initialMaxStreamDataUni: c.maxStreamDataUni,
      initialMaxStreamsBidi: c.maxStreamsBidi,
      initialMaxStreamsUni: c.maxStreamsUni,
    };
    this.streamOptions = { role, local: limits, sendBufferSize: c.sendBufferSize };
    this.streams = new StreamManager(this.streamOptions);
    this.keyPolicy = new KeyUpdatePolicy({
      afterPackets: options.keyUpdateAfterPackets ?? null,
      ...(options.aeadLimits === undefined ? {} : { limits: options.aeadLimits }),
    });
    this.localCids = new LocalConnectionIds({
      initial: cids.scid,
      length: c.connectionIdLength,
      random: (n) => this.provider.random(n),
      ...(resetTokenFor === undefined ? {} : { resetToken: resetTokenFor }),
    });
    this.peerCids = new PeerConnectionIds({ initial: cids.dcid, activeLimit: c.activeConnectionIdLimit });
    const tracker = (space: PacketNumberSpace): AckTracker =>
      new AckTracker({ space, maxAckDelay: space === 'application' ? c.maxAckDelay : 0, ackDelayExponent: c.ackDelayExponent });
    this.acks = { initial: tracker('initial'), handshake: tracker('handshake'), application: tracker('application') };
    const crypto = (): CryptoStream => new CryptoStream({ maxBuffered: c.cryptoBufferSize });
    this.crypto = { initial: crypto(), handshake: crypto(), application: crypto() };
    // The stream manager may be replaced (rejected 0-RTT): the sender reads the current one.
    const currentStreams = (): StreamManager => this.streams;
    // Compatible version negotiation (RFC 9368) may change the version of the packets we send.
    const currentVersion = (): number => this.version;
    this.sender = new PacketSender(
      {
        role,
        get version(): number {
          return currentVersion();
        },
        keys: this.keys,
        recovery: this.recovery,
        get streams(): StreamManager {
          return currentStreams();
        },
        localCids: this.localCids,
        peerCids: this.peerCids,
        acks: this.acks,
        crypto: this.crypto,
        stats: this.stats,
        qlog: this.qlogSink === undefined ? undefined : (name, data) => this.qlog(name, data),
        onAckElicitingSent: (at) => this.onAckElicitingSent(at),
        // RFC 9001 section 4.9.1: a client discards Initial keys when it first sends a Handshake packet.
        onHandshakePacketSent: (at) => this.discardSpace('initial', at),
      },
      { addressValidated, token },
    );

    this.localTransportParameters = {
      maxIdleTimeout: c.idleTimeout,
      ...limits,
      ackDelayExponent: c.ackDelayExponent,
      maxAckDelay: c.maxAckDelay,
      activeConnectionIdLimit: c.activeConnectionIdLimit,
      initialSourceConnectionId: cids.scid,
      maxDatagramFrameSize: c.maxDatagramFrameSize,
      ...extraParams,
      ...(preferred === undefined ? {} : { preferredAddress: this.preferredAddressParameter(preferred) }),
    };
    const w = new Writer();
    encodeTransportParameters(w, this.localTransportParameters, role);
    this.tls = makeTls(w.toBytes());
    this.armIdle();
  }

  /**
   * A client connection to `path.remote`. The ClientHello is built at once:
   * the first `poll` returns the first Initial datagram.
   */
  static client(options: ClientConnectionOptions, path: Path, now: number): Connection {
    const c = resolveCommon(options);
    const random = (n: number): Uint8Array => options.provider.random(n);
    // RFC 9000 section 7.2: the first Destination Connection ID is unpredictable and at least 8 bytes.
    const dcid = random(8);
    const scid = random(c.connectionIdLength);
    const session = options.session === undefined ? undefined : decodeSessionTicket(options.session);
    // RFC 9000 section 7.4.1: 0-RTT needs the server's remembered transport parameters. A session without
    // them in a format we read (stored by another version) still resumes, without 0-RTT.
    let remembered: RememberedParameters | null = null;
    if (options.earlyData === true && session !== undefined && sessionAllowsEarlyData(session)) {
      try {
        remembered = decodeRememberedParameters(session.applicationData);
      } catch (e) {
        if (!(e instanceof EarlyDataError)) throw e;
      }
    }
    // RFC 9368 section 5: our Chosen Version and the versions we would accept, ours first.
    const offered = [c.version, ...(options.compatibleVersions ?? []).filter((v) => v !== c.version)];
    const conn = new Connection(
      'client',
      options,
      c,
      path,
      now,
      { scid, dcid, originalDcid: dcid },
      (tp) => {
        const tlsOptions: TlsClientOptions = {
          provider: options.provider,
          alpn: options.alpn,
          transportParameters: tp,
          ...(options.serverName === undefined ? {} : { serverName: options.serverName }),
          ...(options.cipherSuites === undefined ? {} : { cipherSuites: options.cipherSuites }),
          ...(options.groups === undefined ? {} : { groups: options.groups }),
          ...(options.verifyCertificate === undefined ? {} : { verifyCertificate: options.verifyCertificate }),
          ...(options.insecureSkipVerify === undefined ? {} : { insecureSkipVerify: options.insecureSkipVerify }),
          ...(options.certificateChain === undefined ? {} : { certificateChain: options.certificateChain }),
          ...(options.signer === undefined ? {} : { signer: options.signer }),
          ...(session === undefined ? {} : { session }),
          earlyData: remembered !== null,
        };
        return new TlsClient(tlsOptions);
      },
      { versionInformation: { chosenVersion: c.version, availableVersions: offered } },
      true,
      options.token ?? new Uint8Array(0),
      undefined,
    );
    conn.versionList = offered;
    conn.followPreferred = options.followPreferredAddress !== false;
    if (remembered !== null && session !== undefined)
      conn.zeroRtt = { remembered, alpn: session.alpn, journal: null, replay: null, heldLimits: null };
    conn.startClient();
    return conn;
  }

  /**
   * A server connection for a client whose first Initial is `first` (see
   * {@link readFirstInitial}); pass that datagram to `receive` next.
   */
  static server(options: ServerConnectionOptions, first: FirstInitial, path: Path, now: number): Connection {
    const serverOptions = { ...options, version: first.version };
    const c = resolveCommon(serverOptions);
    const scid = options.sourceConnectionId ?? options.provider.random(c.connectionIdLength);
    const resetToken = options.statelessResetToken ?? options.provider.random(16);
    const originalDcid = options.retry?.originalDestinationConnectionId ?? first.dcid;
    const extra: Partial<TransportParameters> = {
      originalDestinationConnectionId: originalDcid,
      statelessResetToken: resetToken,
      ...(options.disableActiveMigration === true ? { disableActiveMigration: true } : {}),
      ...(options.retry === undefined ? {} : { retrySourceConnectionId: options.retry.retrySourceConnectionId }),
    };
    // The TLS server asks for our transport parameters once it has the client's (see negotiateVersion).
    let created: Connection | null = null;
    const conn = new Connection(
      'server',
      serverOptions,
      c,
      path,
      now,
      // The Initial keys derive from the DCID of the Initial being answered (after a Retry: the Retry's SCID).
      { scid, dcid: first.scid, originalDcid: first.dcid },
      (tp) => {
        const tlsOptions: TlsServerOptions = {
          provider: options.provider,
          alpn: options.alpn,
          transportParameters: (client) => (created === null ? tp : created.negotiateVersion(client)),
          certificateChain: options.certificateChain,
          signer: options.signer,
          ...(options.cipherSuites === undefined ? {} : { cipherSuites: options.cipherSuites }),
          ...(options.groups === undefined ? {} : { groups: options.groups }),
          ...(options.clientAuthentication === undefined ? {} : { clientAuthentication: options.clientAuthentication }),
          ...serverEarlyData(options, tp),
        };
        return new TlsServer(tlsOptions);
      },
      extra,
      options.addressValidated ?? false,
      new Uint8Array(0),
      options.resetTokenFor,
      options.preferredAddress,
    );
    conn.versionList = (options.versions ?? SUPPORTED_VERSIONS).filter((v) => isSupportedVersion(v));
    created = conn;
    return conn;
  }

  /**
   * Server: the client's transport parameters arrived in its ClientHello; before our first flight, pick
   * the version (RFC 9368 section 2.3: the first flight is already in the negotiated version, with Initial
   * keys from the client's original Destination Connection ID, RFC 9369 section 3.3.1) and return our
   * transport parameters with version_information saying so (section 5).
   */
  private negotiateVersion(clientBytes: Uint8Array): Uint8Array {
    const client = decodeTransportParameters(clientBytes, 'client');
    const chosen = chooseVersion(client.versionInformation, this.originalVersion, this.versionList);
    if (chosen !== this.version) {
      this.version = chosen;
      this.keys.installInitial(this.originalDcid, chosen);
    }
    const available = this.versionList.includes(chosen) ? this.versionList : [chosen, ...this.versionList];
    const w = new Writer();
    encodeTransportParameters(
      w,
      { ...this.localTransportParameters, versionInformation: { chosenVersion: chosen, availableVersions: available } },
      'server',
    );
    return w.toBytes();
  }

  // ---------------------------------------------------------------------------------------------
  // getters

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** The path datagrams are sent on. */
  get path(): Path {
    return this.pathValue;
  }

  /** The negotiated ALPN protocol (null before the handshake got that far). */
  get alpn(): string | null {
    return this.alpnValue;
  }

  /** The peer's transport parameters (null until received). */
  get peerParameters(): TransportParameters | null {
    return this.peerParams;
  }

  get isHandshakeComplete(): boolean {
    return this.handshakeComplete;
  }

  /** True once the handshake completed with a session ticket (PSK resumption, RFC 8446 section 2.2). */
  get isResumed(): boolean {
    return this.resumed;
  }

  /** True while the client sends application data in 0-RTT packets (a resumed session with early data, before the handshake completes). */
  get isSendingEarlyData(): boolean {
    return this.keys.sendsZeroRtt;
  }

  get isHandshakeConfirmed(): boolean {
    return this.handshakeConfirmed;
  }

  /** The QUIC version in use (it may change during the handshake: compatible version negotiation, RFC 9368). */
  get negotiatedVersion(): number {
    return this.version;
  }

  /** ECN validation of the current path (RFC 9000 section 13.4.2; see ecn.ts). */
  get ecnState(): EcnState {
    return this.ecn.state;
  }

  /** Our connection IDs the peer may use (an endpoint routes datagrams by them). */
  get localConnectionIds(): Uint8Array[] {
    return this.localCids.active().map((c) => c.cid);
  }

  /** Connection IDs added and retired since the last call (for an endpoint's routing table). */
  takeConnectionIdChanges(): { added: Uint8Array[]; retired: Uint8Array[] } {
    return this.localCids.takeChanges();
  }

  /** The Destination Connection ID of the client's first Initial (what the server's Initial keys derive from). */
  get originalDestinationConnectionId(): Uint8Array {
    return this.originalDcid;
  }

  /** A NEW_TOKEN token the server gave us (client), for a later connection's `token` option. */
  get newToken(): Uint8Array | null {
    return this.newTokenValue;
  }

  /** RTT estimate (ms) and congestion state. */
  get rtt(): { readonly smoothed: number; readonly min: number; readonly latest: number; readonly variance: number } {
    const r = this.recovery.rtt;
    return { smoothed: r.smoothed, min: r.min, latest: r.latest, variance: r.rttvar };
  }

  get congestionWindow(): number {
    return this.recovery.congestionWindow;
  }

  get bytesInFlight(): number {
    return this.recovery.bytesInFlight;
  }

  /**
   * False while polling cannot return anything new: the last poll said
   * need-read, nothing was received or commanded since, and its deadline
   * has not come. An endpoint with many connections polls only the others.
   */
  needsPoll(now: number): boolean {
    return !this.quiet || (this.quietDeadline !== null && now >= this.quietDeadline);
  }

  /** The deadline of the last need-read (null: none, or not quiet). */
  get pollDeadline(): number | null {
    return this.quiet ? this.quietDeadline : null;
  }

  // ---------------------------------------------------------------------------------------------
  // input

  /**
   * A datagram arrived on `path` at `now`. It is decrypted in place and
   * stream data may stay as views of it: do not reuse its buffer. Never
   * throws because of the datagram's contents: a peer's protocol error closes
   * the connection (see the `closed` event).
   */
  receive(datagram: Uint8Array, path: Path, now: number, ecn: EcnMark = 'not-ect'): void {
    const st = this.stateValue;
    this.rxEcn = ecn;
    if (st === 'closed' || st === 'draining') return;
    if (now > this.now) this.now = now;
    this.quiet = false;
    this.stats.datagramsReceived++;
    this.stats.bytesReceived += datagram.length;
    const onPath = samePath(path, this.pathValue);
    if (onPath) this.sender.onDatagramReceived(datagram.length);
    else if (st === 'established') this.paths.onReceived(this.pathEntry(path), datagram.length, now);
    if (st === 'closing') {
      // RFC 9000 section 10.2.1: answer packets with CONNECTION_CLOSE, with a limit on the rate.
      this.packetsSinceClose++;
      if (this.packetsSinceClose >= 2 ** Math.min(this.closesSent, 10)) {
        this.packetsSinceClose = 0;
        this.closeSendPending = true;
      }
      return;
    }
    this.rxPath = path;
    this.rxSwitch = false;
    let results: PacketResult[];
    const versionBefore = this.version;
    if (this.role === 'client' && !this.receivedFromPeer) this.followServerVersion(datagram);
    const keysAtOpen = this.keys.openKeys();
    try {
      results = this.opener.open(datagram, keysAtOpen);
    } catch (e) {
      this.failInternal(e);
      return;
    }
    let opened = false;
    for (let r of results) {
      if (this.stateValue !== 'handshake' && this.stateValue !== 'established') break;
      // RFC 9000 section 12.2: coalesced packets are processed in order, and an earlier one may install the
      // keys a later one needs (the server's Initial carries the ServerHello, its Handshake packet follows in
      // the same datagram). A packet dropped for want of keys is opened again once the keys changed; its
      // bytes are untouched (nothing is unmasked without keys).
      if (r.status === 'dropped' && r.reason === 'no-keys' && this.keys.openKeys() !== keysAtOpen) {
        const again = this.reopen(datagram.subarray(r.offset, r.offset + r.size));
        if (again !== null) r = again;
      }
      switch (r.status) {
        case 'opened':
          this.stats.packetsReceived++;
          if (this.handlePacketSafely(r, now)) opened = true;
          break;
        case 'invalid':
          this.stats.packetsReceived++;
          this.closeWithError(r.error, now);
          break;
        case 'dropped':
          this.stats.packetsDropped++;
          if (r.reason === 'aead') this.onAuthenticationFailure(now);
          break;
        case 'unprotected':
          this.handleUnprotected(r, datagram, now);
          break;
        default: {
          const never: never = r;
          throw new UsageError(`unknown packet result ${JSON.stringify(never)}`);
        }
      }
    }
    // A forged packet of another version must not move us: go back unless something opened with it.
    if (!opened && this.version !== versionBefore && !this.receivedFromPeer) this.setVersion(versionBefore);
    // RFC 9000 section 10.3.1: a datagram that opens nothing may be a stateless reset.
    if (!opened) this.receiveStatelessReset(datagram, now);
    if (!onPath && this.rxSwitch) this.onPeerAddressChange(path, now);
    this.sender.updateAmplification(now);
  }

  /**
   * Client, before anything from the server was processed: a long header packet in another version we
   * offered means the server chose it (RFC 9368 section 2.4): from now on we use it, with Initial keys
   * derived again for it (RFC 9369 section 3.3.1).
   */
  private followServerVersion(datagram: Uint8Array): void {
    let version: number;
    try {
      const h = decodePacketHeader(datagram, 0, { shortDcidLength: 0 });
      if (h.kind !== 'initial' && h.kind !== 'handshake') return;
      version = h.version;
    } catch {
      return;
    }
    if (acceptsServerVersion(version, this.version, this.versionList)) this.setVersion(version);
  }

  private setVersion(version: number): void {
    this.version = version;
    this.keys.installInitial(this.retryScid ?? this.originalDcid, version);
  }

  /** Opens one packet of a datagram again with the current keys (see `receive`); null if that fails unexpectedly. */
  private reopen(packet: Uint8Array): PacketResult | null {
    try {
      const again = this.opener.open(packet, this.keys.openKeys());
      return again.length === 1 ? again[0]! : null;
    } catch {
      return null;
    }
  }

  /**
   * A datagram the endpoint could not route: if it ends in one of the peer's
   * stateless reset tokens (RFC 9000 section 10.3.1) the connection ends at
   * once and this returns true.
   */
  receiveStatelessReset(datagram: Uint8Array, now: number): boolean {
    const st = this.stateValue;
    if (st === 'closed' || st === 'draining' || !this.peerCids.isStatelessReset(datagram)) return false;
    this.quiet = false;
    this.enterDraining(
      { kind: 'transport', code: 0n, name: 'NO_ERROR', frameType: null, reason: 'stateless reset', initiator: 'stateless-reset' },
      now,
    );
    return true;
  }

  private handlePacketSafely(p: OpenedPacket, now: number): boolean {
    try {
      return this.handlePacket(p, now);
    } catch (e) {
      if (e instanceof TransportError) this.closeWithError(e, now);
      else if (e instanceof TlsAlertError) this.closeWithError(e.toTransportError(), now);
      else this.failInternal(e, now);
      return false;
    }
  }

  private handlePacket(p: OpenedPacket, now: number): boolean {
    const space = p.space;
    const tracker = this.acks[space];
    if (tracker.isDuplicate(p.pn)) {
      this.stats.packetsDropped++;
      return false;
    }
    const h = p.header;
    if (this.role === 'client') {
      if (h.kind === 'initial' || h.kind === 'handshake') {
        if (this.serverScid === null) {
          // RFC 9000 section 7.2: the client uses the server's SCID as its DCID from now on.
          this.serverScid = h.scid.slice();
          this.peerCids.replaceInitial(this.serverScid);
        } else if (!equalBytes(h.scid, this.serverScid)) {
          // "...MUST discard packets with a different Source Connection ID" (section 7.2).
          return false;
        }
      }
    } else if (h.kind === 'handshake') {
      // RFC 9000 section 8.1: a Handshake packet proves the client received our Initial.
      this.sender.setAddressValidated(now);
      // RFC 9001 section 4.9.1: a server discards Initial keys when it first processes a Handshake packet.
      this.discardSpace('initial', now);
    }
    this.receivedFromPeer = true;
    if (h.kind === '1rtt') {
      if (p.keyPhase !== this.keys.keyPhase) this.onPeerKeyPhase(now);
      // RFC 9001 section 4.9.3: "After receiving a 1-RTT packet, servers MUST discard 0-RTT keys within a
      // short time; the RECOMMENDED time period is three times the Probe Timeout" (reordered 0-RTT packets).
      if (this.role === 'server' && this.keys.has('early', 'read') && this.timers.get('early-discard') === null)
        this.timers.set('early-discard', now + 3 * this.recovery.loss.ptoPeriod());
    } else if (h.kind === '0rtt') {
      this.stats.zeroRttBytesAccepted += p.size;
    }

    if (this.qlogSink !== undefined)
      this.qlog('transport:packet_received', {
        header: { packet_type: h.kind, packet_number: p.pn, ...(h.kind === '1rtt' ? { key_phase_bit: p.keyPhase } : {}) },
        raw: { length: p.size },
        frames: p.frames.map(qlogFrame),
      });
    // RFC 9000 section 9.3: a non-probing packet with the largest packet number so far moves us to its path.
    if (h.kind === '1rtt' && p.pn > (tracker.largestReceived ?? -1) && p.frames.some((f) => !PROBING_FRAMES.has(f.type))) {
      this.rxSwitch = true;
      this.rxSwitchSameDcid = this.rxPathDcid !== null && equalBytes(h.dcid, this.rxPathDcid);
    }
    if (h.kind === '1rtt' && samePath(this.rxPath, this.pathValue) && (this.rxPathDcid === null || !equalBytes(h.dcid, this.rxPathDcid)))
      this.rxPathDcid = h.dcid.slice();
    for (const frame of p.frames) this.handleFrame(frame, p, now);
    if (this.stateValue === 'closed') return true;
    tracker.onPacketReceived(p.pn, p.ackEliciting, now, this.rxEcn);
    // RFC 9000 section 10.1: the idle timer restarts on a packet processed.
    this.lastActivity = now;
    this.ackElicitingSinceReceive = false;
    this.armIdle();
    return true;
  }

  private handleFrame(frame: Frame, p: OpenedPacket, now: number): void {
    switch (frame.type) {
      case 'padding':
      case 'ping':
        return;
      case 'ack':
        this.handleAckFrame(p.space, frame, now);
        return;
      case 'crypto': {
        const chunks = this.crypto[p.space].handleCryptoFrame(frame);
        for (const chunk of chunks) {
          if (this.clientRandom === null && this.role === 'server' && p.space === 'initial') this.collectClientRandom(chunk);
          this.tls.receive(p.space, chunk, now);
        }
        this.processTlsOutputs(now);
        return;
      }
      case 'new-token':
        // RFC 9000 section 19.7: "A server MUST treat receipt of a NEW_TOKEN frame as a connection error of type PROTOCOL_VIOLATION."
        if (this.role === 'server') throw new TransportError('PROTOCOL_VIOLATION', 'NEW_TOKEN from a client', { frameType: T_NEW_TOKEN });
        this.newTokenValue = frame.token.slice();
        return;
      case 'stream':
      case 'reset-stream':
      case 'stop-sending':
      case 'max-data':
      case 'max-stream-data':
      case 'max-streams':
      case 'data-blocked':
      case 'stream-data-blocked':
      case 'streams-blocked':
        this.streams.handleFrame(frame);
        this.drainStreamEvents();
        return;
      case 'new-connection-id':
        this.peerCids.handleNewConnectionId(frame);
        return;
      case 'retire-connection-id':
        this.localCids.handleRetireConnectionId(frame, p.header.dcid);
        return;
      case 'path-challenge':
        // RFC 9000 section 8.2.2: the PATH_RESPONSE goes on the path the challenge came from.
        this.paths.onChallenge(this.pathEntry(this.rxPath), frame.data);
        return;
      case 'path-response':
        this.onPathResponse(frame.data, now);
        return;
      case 'connection-close':
        this.handleConnectionCloseFrame(frame, now);
        return;
      case 'handshake-done':
        // RFC 9000 section 19.20: "A server MUST treat receipt of a HANDSHAKE_DONE frame as a connection error of type PROTOCOL_VIOLATION."
        if (this.role === 'server')
          throw new TransportError('PROTOCOL_VIOLATION', 'HANDSHAKE_DONE from a client', { frameType: T_HANDSHAKE_DONE });
        this.confirmHandshake(now);
        return;
      case 'datagram':
        this.handleDatagramFrame(frame.data);
        return;
      default: {
        const never: never = frame;
        throw new UsageError(`unknown frame ${JSON.stringify(never)}`);
      }
    }
  }

  /** The server learns the client random from the start of the ClientHello (handshake header 4 + version 2). */
  private collectClientRandom(chunk: Uint8Array): void {
    const have = this.clientHelloStart;
    const next = new Uint8Array(Math.min(38, have.length + chunk.length));
    next.set(have);
    next.set(chunk.subarray(0, next.length - have.length), have.length);
    this.clientHelloStart = next;
    if (next.length === 38) this.clientRandom = next.slice(6, 38);
  }
  private clientHelloStart: Uint8Array = new Uint8Array(0);

  private handleAckFrame(space: PacketNumberSpace, frame: AckFrame, now: number): void {
    const exponent = this.peerParams?.ackDelayExponent ?? 3;
    const out = this.recovery.onAckReceived(space, frame, decodeAckDelay(frame.ackDelay, exponent), now);
    this.ecn.onAck(space, frame, out.acked);
    if (out.lost.length > 0) this.ecn.onLost(space, out.lost);
    let oneRttAcked = false;
    for (const p of out.acked) {
      this.sender.onPacketAcked(space, p);
      if (space === 'application') {
        this.keyPolicy.onAcked(p.pn);
        if (p.pn < this.zeroRttPnEnd) this.stats.zeroRttBytesAccepted += p.size;
        else oneRttAcked = true;
      }
    }
    this.sender.onPacketsLost(space, out.lost);
    this.drainStreamEvents();
    // RFC 9001 section 4.1.2: a client MAY consider the handshake confirmed on an acknowledgment of a 1-RTT
    // packet (not of a 0-RTT one: the server acknowledges those before it has our Finished).
    if (oneRttAcked && this.role === 'client' && this.handshakeComplete) this.confirmHandshake(now);
  }

  private handleConnectionCloseFrame(frame: ConnectionCloseFrame, now: number): void {
    const application = frame.frameType === null;
    this.enterDraining(
      {
        kind: application ? 'application' : 'transport',
        code: frame.errorCode,
        name: application ? null : transportErrorName(frame.errorCode),
        frameType: frame.frameType,
        reason: FROM_UTF8.decode(frame.reason),
        initiator: 'peer',
      },
      now,
    );
  }

  private handleDatagramFrame(data: Uint8Array): void {
    const max = this.config.maxDatagramFrameSize;
    // RFC 9221 section 3: receiving DATAGRAM without advertising support, or larger than advertised, is PROTOCOL_VIOLATION.
    if (max === 0)
      throw new TransportError('PROTOCOL_VIOLATION', 'DATAGRAM frame without max_datagram_frame_size', { frameType: T_DATAGRAM });
    if (data.length + 3 > max)
      throw new TransportError('PROTOCOL_VIOLATION', `DATAGRAM of ${data.length} bytes exceeds our limit`, { frameType: T_DATAGRAM });
    // DATAGRAM is unreliable: when the application does not keep up, newer ones are dropped.
    if (this.datagramsIn >= this.config.datagramQueueLength) return;
    this.datagramsIn++;
    this.emit({ type: 'datagram', data: data.slice() });
  }

  private handleUnprotected(r: UnprotectedPacket, datagram: Uint8Array, now: number): void {
    const h = r.header;
    if (this.role !== 'client' || this.receivedFromPeer) return;
    if (h.kind === 'retry') {
      // RFC 9000 section 17.2.5.2: one Retry, a non-empty token, a valid integrity tag.
      if (this.retryScid !== null || h.token.length === 0) return;
      if (!verifyRetryIntegrity(this.provider, h.version, this.originalDcid, datagram.subarray(h.start, h.end))) return;
      this.retryScid = h.scid.slice();
      this.sender.token = h.token.slice();
      this.peerCids.replaceInitial(this.retryScid);
      this.keys.installInitial(this.retryScid, h.version);
      // RFC 9002 section 6.3: the Initial packets sent so far are no longer in flight; resend their data in new packets.
      this.recovery.discardSpace('initial', now, true);
      this.crypto.initial.requeueUnacked();
      // RFC 9000 section 17.2.5.3: 0-RTT may go on after a Retry, to the new connection ID, with the same
      // 0-RTT keys and packet numbers that keep increasing; the 0-RTT packets sent before it were not
      // processed (the Retry is stateless) and their data goes again in new packets.
      this.sender.onPacketsLost('application', this.recovery.discardSpace('application', now, true));
      return;
    }
    if (h.kind === 'version-negotiation') {
      // RFC 9000 section 6.2: ignore one that lists our version; otherwise no common version: give up.
      if (h.versions.includes(this.version)) return;
      if (!equalBytes(h.dcid, this.localCids.active()[0]?.cid ?? new Uint8Array(0))) return;
      this.closedReported = false;
      this.emitClosed({
        kind: 'transport',
        code: 0x11n,
        name: 'VERSION_NEGOTIATION_ERROR',
        frameType: null,
        reason: `server supports versions ${h.versions.map((v) => `0x${v.toString(16)}`).join(', ')}`,
        initiator: 'peer',
      });
      this.setState('closed');
    }
  }

  // ---------------------------------------------------------------------------------------------
  // TLS

  private startClient(): void {
    (this.tls as TlsClient).start(this.now);
    this.processTlsOutputs(this.lastActivity);
  }

  private processTlsOutputs(now: number): void {
    for (const o of this.tls.takeOutputs()) this.handleTlsOutput(o, now);
  }

  private handleTlsOutput(o: HandshakeOutput, now: number): void {
    switch (o.type) {
      case 'send':
        if (this.clientRandom === null && this.role === 'client' && o.level === 'initial' && o.data.length >= 38)
          this.clientRandom = o.data.slice(6, 38);
        this.crypto[o.level].write(o.data);
        return;
      case 'keys':
        this.keys.install(o.level, o.direction, o.suite, o.secret);
        this.keylog(o.level, o.direction, o.secret);
        if (o.direction === 'write') {
          if (o.level === 'handshake') this.recovery.onHandshakeKeysAvailable();
          else if (o.level === 'early') this.onZeroRttKeys();
          else this.onOneRttWriteKeys(o.suite);
        }
        return;
      case 'alpn':
        this.alpnValue = o.protocol;
        return;
      case 'peer-transport-parameters':
        this.applyPeerTransportParameters(o.bytes, now);
        return;
      case 'complete':
        this.resumed = o.resumed;
        this.onHandshakeComplete(now);
        return;
      case 'early-data':
        this.earlyDataAccepted = o.accepted;
        if (this.role === 'client') this.onZeroRttAnswer(o.accepted, now);
        return;
      case 'session-ticket': {
        // RFC 9001 section 4.6.3 / RFC 9000 section 7.4.1: remember the server's transport parameters with the ticket.
        const tp = this.peerParams;
        const ticket = encodeSessionTicket({
          ...o.session,
          applicationData: tp === null ? EMPTY : encodeRememberedParameters(rememberedFrom(tp)),
        });
        this.emit({ type: 'session-ticket', ticket, maxEarlyData: o.session.maxEarlyDataSize });
        return;
      }
      default: {
        const never: never = o;
        throw new UsageError(`unknown TLS output ${JSON.stringify(never)}`);
      }
    }
  }

  /** RFC 9000 section 7.3 (connection IDs) and 7.4 (parameters apply). */
  private applyPeerTransportParameters(bytes: Uint8Array, now: number): void {
    const peerRole: Role = this.role === 'client' ? 'server' : 'client';
    const tp = decodeTransportParameters(bytes, peerRole);
    const mismatch = (what: string): never => {
      throw new TransportError('TRANSPORT_PARAMETER_ERROR', `${what} does not match the connection IDs used`);
    };
    if (this.role === 'client') {
      if (tp.originalDestinationConnectionId === null || !equalBytes(tp.originalDestinationConnectionId, this.originalDcid))
        mismatch('original_destination_connection_id');
      if (tp.initialSourceConnectionId === null || this.serverScid === null || !equalBytes(tp.initialSourceConnectionId, this.serverScid))
        mismatch('initial_source_connection_id');
      if (this.retryScid === null ? tp.retrySourceConnectionId !== null : !equalBytes(tp.retrySourceConnectionId ?? EMPTY, this.retryScid))
        mismatch('retry_source_connection_id');
      if (tp.statelessResetToken !== null) this.peerCids.setInitialResetToken(tp.statelessResetToken);
      if (tp.preferredAddress !== null) this.acceptPreferredAddress(tp.preferredAddress);
      // RFC 9368 section 4: downgrade protection.
      checkServerVersionInformation(tp.versionInformation, this.version, this.originalVersion);
    } else if (tp.initialSourceConnectionId === null || !equalBytes(tp.initialSourceConnectionId, this.peerCids.current.cid)) {
      mismatch('initial_source_connection_id');
    }
    this.peerParams = tp;
    const z = this.zeroRtt;
    // RFC 9000 section 7.4.1: "When sending frames in 0-RTT packets, a client MUST only use remembered
    // transport parameters": the new limits apply once 1-RTT packets go out (onOneRttWriteKeys).
    if (z !== null && this.keys.sendsZeroRtt) {
      z.heldLimits = tp;
    } else {
      this.streams.setPeerTransportParameters(tp);
      if (z?.replay != null) this.replayJournal();
    }
    this.drainStreamEvents();
    this.recovery.setMaxAckDelay(tp.maxAckDelay);
    this.localCids.setPeerLimit(tp.activeConnectionIdLimit);
    // Datagrams above 1200 bytes wait for handshake confirmation (confirmHandshake): before it the
    // anti-amplification budget (RFC 9000 section 8.1) and unvalidated paths favour the size every path carries.
    this.peerMaxUdpPayload = tp.maxUdpPayloadSize;
    this.armIdle();
    void now;
  }

  private onHandshakeComplete(now: number): void {
    if (this.handshakeComplete) return;
    this.handshakeComplete = true;
    const peer = this.peerParams;
    const alpn = this.alpnValue;
    if (peer === null || alpn === null) throw new TransportError('INTERNAL_ERROR', 'handshake complete without parameters or ALPN');
    this.setState('established');
    this.emit({
      type: 'handshake-completed',
      alpn,
      peerParameters: peer,
      resumed: this.resumed,
      earlyDataAccepted: this.earlyDataAccepted,
    });
    if (this.role === 'server') {
      // RFC 9001 section 4.1.2: the server's handshake is confirmed when it completes; it sends HANDSHAKE_DONE.
      this.sender.queueHandshakeDone();
      this.confirmHandshake(now);
    }
  }

  private confirmHandshake(now: number): void {
    if (this.handshakeConfirmed) return;
    this.handshakeConfirmed = true;
    this.sender.setDatagramSize(Math.min(this.config.maxDatagramSize, this.peerMaxUdpPayload));
    // RFC 9001 section 4.9.2: Handshake keys are discarded once the handshake is confirmed.
    this.discardSpace('handshake', now);
    this.recovery.onHandshakeConfirmed(now);
    this.emit({ type: 'handshake-confirmed' });
    this.followPreferredAddress(now);
  }

  private discardSpace(space: 'initial' | 'handshake', now: number): void {
    if (space === 'initial' ? this.keys.isInitialDiscarded : !this.keys.has('handshake', 'read')) return;
    this.keys.discard(space);
    this.recovery.discardSpace(space, now);
  }

  // ---------------------------------------------------------------------------------------------
  // 0-RTT (RFC 9001 section 4.6, RFC 9000 section 7.4.1)

  /** Client: the 0-RTT keys are installed (right after the ClientHello): streams may be used within the remembered limits. */
  private onZeroRttKeys(): void {
    const z = this.zeroRtt;
    if (z === null) return;
    this.streams.setPeerTransportParameters(z.remembered);
    z.journal = new EarlyDataJournal();
  }

  /** 1-RTT write keys (key phase 0) are installed. */
  private onOneRttWriteKeys(suite: CipherSuite): void {
    const pn = this.sender.nextPn.application;
    this.keyPolicy.start(suite, pn);
    this.zeroRttPnEnd = pn;
    if (this.role !== 'client') return;
    // RFC 9001 section 4.9.3: "a client SHOULD discard 0-RTT keys as soon as it installs 1-RTT keys";
    // section 5.6: "Once a client has installed 1-RTT keys, it MUST NOT send any more 0-RTT packets."
    if (this.keys.has('early', 'write')) this.keys.discard('early');
    const z = this.zeroRtt;
    if (z !== null && z.heldLimits !== null) {
      // "Once the handshake completes, the client updates the flow control limits on all sending streams" (RFC 9000 section 7.4.1).
      this.streams.setPeerTransportParameters(z.heldLimits);
      z.heldLimits = null;
      this.drainStreamEvents();
    }
  }

  /** Client: the server accepted or rejected our 0-RTT data (EncryptedExtensions, or a HelloRetryRequest). */
  private onZeroRttAnswer(accepted: boolean, now: number): void {
    const z = this.zeroRtt;
    if (z === null) return;
    if (!accepted) {
      this.rejectZeroRtt(z, now);
      return;
    }
    const tp = this.peerParams;
    // RFC 9000 section 7.4.1: a server that accepts 0-RTT "MUST NOT set values ... that are smaller than the
    // remembered values"; RFC 9221 section 3: for max_datagram_frame_size the client "MUST terminate the
    // connection with error PROTOCOL_VIOLATION".
    const reduced = tp === null ? null : reducedParameter(z.remembered, rememberedFrom(tp));
    if (reduced !== null) throw new TransportError('PROTOCOL_VIOLATION', `0-RTT accepted with ${reduced} below its remembered value`);
    z.journal = null;
  }

  /**
   * RFC 9001 section 4.6.2: the 0-RTT packets were not processed and "all connection characteristics that
   * the client assumed might be incorrect ... The client therefore MUST reset the state of all streams".
   * The 0-RTT keys go, the packets in flight leave bytes in flight without a congestion signal (RFC 9002
   * section 6.4), the stream state starts afresh and the journal of what the application did is replayed
   * onto it once the handshake's parameters are known: the data goes again in 1-RTT, same stream IDs.
   */
  private rejectZeroRtt(z: ZeroRttAttempt, now: number): void {
    if (this.keys.has('early', 'write')) this.keys.discard('early');
    this.sender.onPacketsLost('application', this.recovery.discardSpace('application', now, true));
    z.replay = z.journal ?? new EarlyDataJournal();
    z.journal = null;
    z.heldLimits = null;
    this.streams = new StreamManager(this.streamOptions);
    const tp = this.peerParams;
    if (tp !== null) {
      this.streams.setPeerTransportParameters(tp);
      this.replayJournal();
    }
  }

  /** Replays the 0-RTT journal onto the fresh stream state (see rejectZeroRtt), as far as stream credit allows. */
  private replayJournal(): void {
    const z = this.zeroRtt;
    const journal = z?.replay;
    if (z == null || journal == null || this.replaying) return;
    if (this.alpnValue !== z.alpn) {
      // Another application protocol was negotiated: what was written for the old one is not sent; the
      // streams are gone, and the application decides what to do.
      for (const streamId of journal.streamIds) this.emit({ type: 'stream-closed', streamId });
      z.replay = null;
      return;
    }
    this.replaying = true;
    try {
      const replayed = journal.replay(this.streams);
      if (journal.isEmpty) z.replay = null;
      this.drainStreamEvents();
      // Hints: the application may have been waiting to write or to open streams.
      for (const streamId of replayed) if (this.streams.writableBytes(streamId) > 0) this.emit({ type: 'stream-writable', streamId });
      if (z.replay === null) {
        this.emit({ type: 'streams-available', bidi: true });
        this.emit({ type: 'streams-available', bidi: false });
      }
    } finally {
      this.replaying = false;
    }
  }
  private replaying = false;

  // ---------------------------------------------------------------------------------------------
  // key update (RFC 9001 section 6)

  /**
   * A 1-RTT packet opened with the other Key Phase bit. While the previous
   * phase's read keys are kept, that bit opens with them: a late packet of
   * the old phase, nothing to do. Otherwise it opened with the next keys: the
   * peer started a key update, and we follow (RFC 9001 section 6.2).
   */
  private onPeerKeyPhase(now: number): void {
    if (this.keys.hasPreviousReadKeys) return;
    // No check that our handshake is confirmed: the peer may initiate once its own is ("An endpoint MUST
    // NOT initiate a key update prior to having confirmed the handshake", section 6.1), which for a server
    // is at completion, possibly before its HANDSHAKE_DONE reached us.
    this.keys.updateKeys();
    this.startPhase('remote_update', now);
  }

  private startPhase(trigger: 'local_update' | 'remote_update', now: number): void {
    this.keyPolicy.onPhaseChange(this.sender.nextPn.application);
    this.stats.keyUpdates++;
    // RFC 9001 section 6.5: keep the old read keys for a while (three PTOs) for reordered packets.
    this.timers.set('key-discard', now + 3 * this.recovery.loss.ptoPeriod());
    if (this.qlogSink !== undefined) this.qlog('security:key_updated', { key_type: '1rtt', key_phase: this.stats.keyUpdates, trigger });
  }

  /**
   * Starts a key update (RFC 9001 section 6.1). Allowed once the handshake
   * is confirmed and a packet of the current phase was acknowledged; returns
   * false (changing nothing) otherwise.
   */
  updateKeys(now: number = this.now): boolean {
    this.quiet = false;
    // "An endpoint MUST NOT initiate a subsequent key update unless it has received an acknowledgment
    // for a packet that was sent protected with keys from the current key phase" (section 6.1).
    if (!this.handshakeConfirmed || !this.keyPolicy.currentPhaseAcked || this.keys.hasPreviousReadKeys) return false;
    this.keys.updateKeys();
    this.startPhase('local_update', now);
    return true;
  }

  /** Before sending: an update for `keyUpdateAfterPackets` or the confidentiality limit (RFC 9001 section 6.6). */
  private checkKeyPhase(now: number): void {
    const action = this.keyPolicy.check(this.sender.nextPn.application);
    if (action === null || this.updateKeys(now)) return;
    // "If a key update is not possible or integrity limits are reached, the endpoint MUST stop using the
    // connection ... It is RECOMMENDED that endpoints immediately close the connection with a connection
    // error of type AEAD_LIMIT_REACHED before reaching a state where key updates are not possible."
    if (action === 'limit')
      this.closeWithError(new TransportError('AEAD_LIMIT_REACHED', 'confidentiality limit reached, no key update possible'), now);
  }

  private onAuthenticationFailure(now: number): void {
    // RFC 9001 section 6.6: at the integrity limit the connection must close with AEAD_LIMIT_REACHED
    // "and not process any more packets".
    if (this.keyPolicy.onAuthenticationFailure())
      this.closeWithError(new TransportError('AEAD_LIMIT_REACHED', 'integrity limit reached'), now);
  }

  // ---------------------------------------------------------------------------------------------
  // commands

  // While a client's 0-RTT attempt is undecided, stream commands are also written to its journal; after a
  // rejection, commands on streams not replayed yet go to the journal (see rejectZeroRtt).

  /**
   * Opens a stream of ours; null when the peer's stream limit is reached (wait for `streams-available`).
   * A client attempting 0-RTT can open streams before the handshake completes (within the remembered limits).
   */
  openStream(bidi = true): number | null {
    this.checkOpen();
    const z = this.zeroRtt;
    // Streams opened in 0-RTT keep their IDs through a rejection: new ones wait until those are replayed.
    if (z?.replay?.waiting(bidi) === true) return null;
    const id = this.streams.openStream(bidi);
    if (id !== null) z?.journal?.opened(id, bidi);
    return id;
  }

  /** Queues as much of `data` as the stream's send buffer takes; returns the bytes taken (backpressure: wait for `stream-writable`). */
  streamWrite(streamId: number, data: Uint8Array): number {
    this.checkOpen();
    const z = this.zeroRtt;
    if (z === null) return this.streams.write(streamId, data);
    if (z.replay?.has(streamId) === true) return z.replay.write(streamId, data, this.config.sendBufferSize);
    const n = this.streams.write(streamId, data);
    z.journal?.wrote(streamId, data.subarray(0, n));
    return n;
  }

  /** Bytes `streamWrite` would take now. */
  streamWritableBytes(streamId: number): number {
    const replay = this.zeroRtt?.replay;
    if (replay?.has(streamId) === true) return replay.writable(streamId, this.config.sendBufferSize);
    return this.streams.writableBytes(streamId);
  }

  /** Ends the stream after what was written (FIN). */
  streamFinish(streamId: number): void {
    this.checkOpen();
    const z = this.zeroRtt;
    if (z?.replay?.has(streamId) === true) return z.replay.finished(streamId);
    this.streams.finish(streamId);
    z?.journal?.finished(streamId);
  }

  /** Abandons sending on the stream (RESET_STREAM with `errorCode`). */
  streamReset(streamId: number, errorCode: number | bigint): void {
    this.checkOpen();
    const z = this.zeroRtt;
    if (z?.replay?.has(streamId) === true) return z.replay.reset(streamId, BigInt(errorCode));
    this.streams.resetStream(streamId, BigInt(errorCode));
    z?.journal?.reset(streamId, BigInt(errorCode));
  }

  /** Asks the peer to stop sending on the stream (STOP_SENDING). */
  streamStopSending(streamId: number, errorCode: number | bigint): void {
    this.checkOpen();
    const z = this.zeroRtt;
    if (z?.replay?.has(streamId) === true) return z.replay.stopSending(streamId, BigInt(errorCode));
    this.streams.stopSending(streamId, BigInt(errorCode));
    z?.journal?.stopSending(streamId, BigInt(errorCode));
  }

  /**
   * Reads up to `max` bytes of the stream in order; null when nothing is
   * readable now. Reading is what returns flow-control credit to the peer.
   */
  streamRead(streamId: number, max?: number): StreamRead | null {
    this.quiet = false;
    if (this.zeroRtt?.replay?.has(streamId) === true) return null;
    const r = this.streams.read(streamId, max);
    this.drainStreamEvents();
    return r;
  }

  /** Stream IDs with state. */
  streamIds(): number[] {
    return this.streams.streamIds();
  }

  /**
   * Queues a DATAGRAM frame (RFC 9221). Returns false when the peer does not
   * accept DATAGRAM frames or `data` is larger than it allows or fits a
   * packet; the datagram may still be lost on the way (unreliable).
   */
  sendDatagram(data: Uint8Array): boolean {
    this.checkOpen();
    const z = this.zeroRtt;
    // In 0-RTT packets, the remembered limit (RFC 9221 section 3 lets the client store it for 0-RTT).
    const peerMax = z !== null && this.keys.sendsZeroRtt ? z.remembered.maxDatagramFrameSize : (this.peerParams?.maxDatagramFrameSize ?? 0);
    if (peerMax === 0 || data.length + 3 > peerMax || data.length + 64 > this.sender.datagramSize) return false;
    // Unreliable and unbounded queues are a bad mix: keep at most a congestion window's worth waiting.
    return this.sender.queueDatagram(data, Math.max(this.recovery.congestionWindow, 64 * 1024));
  }

  /** Sends a PING (an ack-eliciting packet): checks the peer is alive and refreshes the idle timer. */
  ping(): void {
    this.checkOpen();
    this.sender.queuePing();
  }

  /**
   * Closes the connection immediately (RFC 9000 section 10.2): CONNECTION_CLOSE
   * goes out, the `closed` event follows, and after three PTOs `poll` returns `done`.
   */
  close(options: CloseOptions = {}): void {
    const now = this.now;
    this.quiet = false;
    if (this.stateValue === 'closing' || this.stateValue === 'draining' || this.stateValue === 'closed') return;
    const kind = options.kind ?? 'application';
    const code = BigInt(options.errorCode ?? 0);
    const reason = options.reason ?? '';
    this.startClosing(
      {
        kind,
        code,
        name: kind === 'transport' ? transportErrorName(code) : null,
        frameType: kind === 'transport' ? 0 : null,
        reason,
        initiator: 'local',
      },
      now,
    );
  }

  private checkOpen(): void {
    this.quiet = false;
    if (this.stateValue === 'closing' || this.stateValue === 'draining' || this.stateValue === 'closed')
      throw new UsageError(`the connection is ${this.stateValue}`);
  }

  // ---------------------------------------------------------------------------------------------
  // paths and migration (RFC 9000 section 9; the state lives in paths.ts)

  /** Path validation counters: PATH_CHALLENGE / PATH_RESPONSE sent and received, paths validated and failed. */
  get pathStats(): Readonly<PathManager['stats']> {
    return this.paths.stats;
  }

  /**
   * Client: moves the connection to a new local address (RFC 9000 section 9.2). The driver has bound a
   * socket at `local` and delivers what arrives there with that path. The new path is probed first with
   * PATH_CHALLENGE, on a connection ID the server gave us and we have not used (section 9.5); the
   * connection moves once the PATH_RESPONSE comes back (`path-changed`, reason 'migration'), or reports
   * `path-failed` and stays. Throws UsageError on a server, before the handshake is confirmed (section 9:
   * "An endpoint MUST NOT initiate connection migration before the handshake is confirmed"), when the
   * server sent disable_active_migration (section 18.2), or when the server gave us no spare connection ID.
   */
  migrate(local: SocketAddress, now: number): void {
    this.checkOpen();
    if (now > this.now) this.now = now;
    if (this.role !== 'client') throw new UsageError('only a client migrates (RFC 9000 section 9)');
    if (!this.handshakeConfirmed) throw new UsageError('cannot migrate before the handshake is confirmed (RFC 9000 section 9)');
    if (this.peerParams?.disableActiveMigration === true)
      throw new UsageError('the peer sent disable_active_migration: it does not allow active migration (RFC 9000 section 18.2)');
    const path: Path = { local, remote: this.pathValue.remote };
    if (samePath(path, this.pathValue)) return;
    this.probeNewPath(path, 'migration', null, now);
  }

  /** Client: starts validating `path` with a fresh connection ID (or `dcid`), to move there once validated. */
  private probeNewPath(path: Path, reason: PathChangeReason, dcid: { sequence: number; cid: Uint8Array } | null, now: number): void {
    const fresh = dcid ?? this.peerCids.peekUnused([this.peerCids.current.sequence]);
    if (fresh === null && !this.peerCids.zeroLength)
      throw new UsageError('the peer has not provided a spare connection ID for a new path (RFC 9000 section 9.5)');
    const entry = this.pathEntry(path);
    if (fresh !== null) {
      entry.dcid = fresh;
      this.peerCids.markUsed(fresh.sequence);
    }
    // The client's own address is new: the server's budget does not apply to what we send.
    entry.received = Infinity;
    this.paths.startValidation(entry, now, this.validationTimeout());
    this.migration = { entry, reason };
  }

  /** Server: the preferred_address parameter for `o`, with connection ID 1 issued for it (RFC 9000 section 5.1.1). */
  private preferredAddressParameter(o: PreferredAddressOption): PreferredAddress {
    if (this.role !== 'server') throw new UsageError('only a server sends preferred_address (RFC 9000 section 18.2)');
    // Section 18.2: "A server that chooses a zero-length connection ID MUST NOT provide a preferred address."
    if (this.localCids.zeroLength) throw new UsageError('preferred_address needs a non-zero connection ID length (RFC 9000 section 18.2)');
    if (o.ipv4 === undefined && o.ipv6 === undefined) throw new UsageError('preferredAddress needs an ipv4 or an ipv6 address');
    const port = (a: SocketAddress): number => {
      if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535)
        throw new UsageError(`preferredAddress port ${a.port} outside 1..65535`);
      return a.port;
    };
    const v4 = o.ipv4 === undefined ? new Uint8Array(4) : ipv4Bytes(o.ipv4.address);
    if (v4 === null) throw new UsageError(`preferredAddress.ipv4 ${o.ipv4?.address} is not a dotted quad`);
    const v6 = o.ipv6 === undefined ? new Uint8Array(16) : ipv6Bytes(o.ipv6.address);
    if (v6 === null) throw new UsageError(`preferredAddress.ipv6 ${o.ipv6?.address} is not an IPv6 address`);
    const id = this.localCids.issuePreferred();
    this.preferredLocal = [o.ipv4, o.ipv6].filter((a): a is SocketAddress => a !== undefined);
    return {
      ipv4Address: v4,
      ipv4Port: o.ipv4 === undefined ? 0 : port(o.ipv4),
      ipv6Address: v6,
      ipv6Port: o.ipv6 === undefined ? 0 : port(o.ipv6),
      connectionId: id.cid,
      statelessResetToken: id.resetToken,
    };
  }

  /** Client: the server's preferred_address arrived (RFC 9000 sections 9.6 and 18.2). */
  private acceptPreferredAddress(p: PreferredAddress): void {
    // Section 18.2: a zero-length connection ID (the codec refuses one in the parameter) and a server that
    // uses zero-length connection IDs must not send it; "A client MUST treat a violation of these
    // requirements as a connection error of type TRANSPORT_PARAMETER_ERROR".
    if (this.peerCids.zeroLength)
      throw new TransportError('TRANSPORT_PARAMETER_ERROR', 'preferred_address from a server with zero-length connection IDs');
    // Section 5.1.1: its connection ID has sequence number 1, and its reset token works like any other.
    this.peerCids.addPreferred(p.connectionId.slice(), p.statelessResetToken.slice());
    // The address of the family we use (a socket of one family cannot reach the other); all zero: not offered.
    const v6 = isIpv6(this.pathValue.remote);
    const bytes = v6 ? p.ipv6Address : p.ipv4Address;
    const port = v6 ? p.ipv6Port : p.ipv4Port;
    if (port === 0 || bytes.every((b) => b === 0)) return;
    this.preferredTarget = { remote: { address: v6 ? ipv6Text(bytes) : ipv4Text(bytes), port }, cid: p.connectionId.slice() };
  }

  /**
   * Client, once the handshake is confirmed: validate the server's preferred address with connection ID 1,
   * and move there when the PATH_RESPONSE comes back (section 9.6.1: "Once the handshake is confirmed, the
   * client SHOULD select one of the two addresses provided by the server and initiate path validation").
   * disable_active_migration does not forbid this (section 18.2).
   */
  private followPreferredAddress(now: number): void {
    const t = this.preferredTarget;
    this.preferredTarget = null;
    if (t === null || !this.followPreferred || this.role !== 'client') return;
    const path: Path = { local: this.pathValue.local, remote: t.remote };
    if (samePath(path, this.pathValue) || !this.peerCids.isActive(1)) return;
    this.probeNewPath(path, 'preferred-address', { sequence: 1, cid: t.cid }, now);
  }

  /** The entry of `path` in the path table (created if new). */
  private pathEntry(path: Path): PathEntry {
    return this.paths.entry(path, this.now, (e) => samePath(e.path, this.pathValue) || e === this.migration?.entry);
  }

  /** Bytes we may send on the path now (section 8.1; the current path's budget is the sender's). */
  private pathBudget(e: PathEntry): number {
    return samePath(e.path, this.pathValue) ? this.sender.amplificationBudget : this.paths.budget(e);
  }

  /**
   * RFC 9000 section 8.2.4: validation is abandoned after "three times the larger of the current PTO or
   * the PTO for the new path (using kInitialRtt, as defined in [QUIC-RECOVERY])".
   */
  private validationTimeout(): number {
    const initialPto = 3 * INITIAL_RTT_MS + (this.peerParams?.maxAckDelay ?? 25);
    return 3 * Math.max(this.recovery.loss.ptoPeriod(), initialPto);
  }

  /** A PATH_CHALLENGE / PATH_RESPONSE datagram due now, on the path it belongs to (sets `writePath`). */
  private nextPathProbe(now: number): Uint8Array | null {
    if (!this.handshakeComplete) return null;
    const probe = this.paths.nextProbe(now, this.recovery.loss.ptoPeriod(), (e) => this.pathBudget(e));
    if (probe === null) return null;
    const e = probe.entry;
    const onPath = samePath(e.path, this.pathValue);
    // Section 9.5: a path other than the current one gets its own connection ID when the peer gave us one.
    if (!onPath && (e.dcid === null || !this.peerCids.isActive(e.dcid.sequence))) {
      const fresh = this.peerCids.peekUnused([this.peerCids.current.sequence]);
      if (fresh !== null) this.peerCids.markUsed(fresh.sequence);
      e.dcid = fresh;
    }
    const dcid = onPath || e.dcid === null ? this.peerCids.current.cid : e.dcid.cid;
    const datagram = this.sender.buildPathProbe(dcid, probe.frames, probe.padTo, onPath, now);
    if (datagram === null) return null;
    if (!onPath && !e.validated) e.sent += datagram.length;
    this.writePath = e.path;
    return datagram;
  }

  private onPathResponse(data: Uint8Array, now: number): void {
    const e = this.paths.onResponse(data);
    if (e === null) return; // Section 8.2.3: a response to no outstanding challenge is ignored.
    this.emit({ type: 'path-validated', path: e.path });
    if (samePath(e.path, this.pathValue)) {
      this.sender.setAddressValidated(now);
      return;
    }
    const m = this.migration;
    if (m !== null && m.entry === e) {
      this.migration = null;
      this.switchPath(e, m.reason, now);
    }
  }

  /**
   * Server: a non-probing packet with a new largest packet number came from another address (RFC 9000
   * section 9.3): the peer moved (or a NAT rebound it). Move to that path and validate it unless it is.
   */
  private onPeerAddressChange(path: Path, now: number): void {
    if (this.role !== 'server' || !this.handshakeConfirmed || this.stateValue !== 'established') return;
    const e = this.pathEntry(path);
    if (path.local.address !== this.pathValue.local.address || path.local.port !== this.pathValue.local.port) {
      if (this.preferredLocal.some((a) => a.address === path.local.address && a.port === path.local.port)) {
        // Section 9.6.1: "The server MUST send non-probing packets from its original address until it receives
        // a non-probing packet from the client at its preferred address and until the server has validated
        // the new path": validate first, move when the PATH_RESPONSE comes back (onPathResponse).
        if (e.validated) this.switchPath(e, 'preferred-address', now);
        else if (this.migration?.entry !== e) {
          this.migration = { entry: e, reason: 'preferred-address' };
          if (e.nextChallengeAt === null) this.paths.startValidation(e, now, this.validationTimeout());
        }
        this.rxPathDcid = null;
        return;
      }
    }
    const rebinding = !e.peerProbed;
    // Section 9.5: "an endpoint might receive packets from a new source address with the same Destination
    // Connection ID field value, in which case it MAY continue to use the current connection ID with the
    // new remote address". A NAT rebinding keeps the peer's connection ID: so do we (a new one would only
    // spend one of the peer's, and a failed validation reverts to the old path with it).
    if (rebinding && this.rxSwitchSameDcid && e.dcid === null) e.dcid = this.peerCids.current;
    this.switchPath(e, rebinding ? 'rebinding' : 'migration', now);
    this.rxPathDcid = null;
  }

  /** Makes `e` the current path (section 9.3 / 9.4) and starts validating it if needed. */
  private switchPath(e: PathEntry, reason: PathChangeReason, now: number): void {
    const old = this.pathValue;
    // Section 8.2.4: the timeout uses the larger of the current PTO and the new path's: take it before the reset.
    const timeout = this.validationTimeout();
    if (this.sender.addressValidated) this.lastValidatedPath = old;
    // Section 9.5: never the same connection ID on two paths; the old one is retired (section 5.1.2).
    if (e.dcid !== null && this.peerCids.isActive(e.dcid.sequence)) this.peerCids.rotateTo(e.dcid.sequence);
    else if (!this.peerCids.zeroLength && this.peerCids.rotate()) e.dcid = this.peerCids.current;
    else e.dcid = this.peerCids.current;
    this.pathValue = e.path;
    // RFC 9000 section 13.4.2: ECN is validated per path.
    this.ecn.reset();
    // Section 9.4: RTT and congestion start over on a new path "unless the only change in the peer's
    // address is its port number" (and likewise for our own address when we moved).
    if (e.path.remote.address !== old.remote.address || e.path.local.address !== old.local.address) this.recovery.resetForNewPath(now);
    if (e.validated) this.sender.setAddressValidated(now);
    else {
      this.sender.startPathValidation(e.received, now);
      if (e.nextChallengeAt === null) this.paths.startValidation(e, now, timeout);
    }
    this.emit({ type: 'path-changed', path: e.path, reason });
  }

  /** Abandoned validations (section 8.2.4): a probed path is given up, a current one reverts (section 9.3.2). */
  private onPathTimers(now: number): void {
    for (const e of this.paths.takeFailed(now)) {
      this.emit({ type: 'path-failed', path: e.path });
      if (this.migration?.entry === e) this.migration = null;
      if (!samePath(e.path, this.pathValue)) continue;
      const back = this.lastValidatedPath;
      if (back === null) continue;
      this.lastValidatedPath = null;
      const entry = this.pathEntry(back);
      this.paths.markValidated(entry);
      this.switchPath(entry, 'revert', now);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // closing

  private closeWithError(e: TransportError, now: number): void {
    if (this.stateValue === 'closing' || this.stateValue === 'draining' || this.stateValue === 'closed') return;
    this.startClosing(
      { kind: 'transport', code: BigInt(e.errorCode), name: e.code, frameType: e.frameType ?? 0, reason: e.reason, initiator: 'local' },
      now,
    );
  }

  private failInternal(e: unknown, now: number = this.now): void {
    const msg = e instanceof Error ? e.message : String(e);
    this.closeWithError(new TransportError('INTERNAL_ERROR', msg), now);
  }

  private startClosing(reason: CloseReason, now: number): void {
    const phrase = truncateUtf8(reason.reason, MAX_REASON_BYTES);
    const transport: ConnectionCloseFrame =
      reason.kind === 'transport'
        ? { type: 'connection-close', errorCode: reason.code, frameType: reason.frameType ?? 0, reason: phrase }
        : // RFC 9000 section 10.2.3: an application close in Initial/Handshake packets becomes APPLICATION_ERROR.
          { type: 'connection-close', errorCode: 0x0cn, frameType: 0, reason: new Uint8Array(0) };
    const application: ConnectionCloseFrame | null =
      reason.kind === 'application' ? { type: 'connection-close', errorCode: reason.code, frameType: null, reason: phrase } : null;
    this.closeFrame = { transport, application };
    this.closeSendPending = true;
    this.setState('closing');
    this.emitClosed(reason);
    this.timers.stopAll();
    this.timers.set('close', now + 3 * this.recovery.loss.ptoPeriod());
  }

  private enterDraining(reason: CloseReason, now: number): void {
    this.setState('draining');
    this.emitClosed(reason);
    this.timers.stopAll();
    // RFC 9000 section 10.2.2: the draining state lasts three PTOs; a stateless reset ends at once (10.3.1).
    this.timers.set('close', reason.initiator === 'stateless-reset' ? now : now + 3 * this.recovery.loss.ptoPeriod());
  }

  private emitClosed(reason: CloseReason): void {
    if (this.closedReported) return;
    this.closedReported = true;
    this.emit({ type: 'closed', reason });
  }

  private closeFrameFor(space: PacketNumberSpace): ConnectionCloseFrame {
    const f = this.closeFrame!;
    return space === 'application' && f.application !== null ? f.application : f.transport;
  }

  // ---------------------------------------------------------------------------------------------
  // output

  /** Events first, then datagrams to send, then NEED_READ with the next deadline; `done` at the end. */
  poll(now: number): ConnectionPollResult {
    if (now > this.now) this.now = now;
    this.onTimers(now);
    while (this.eventHead < this.events.length) {
      const event = this.events[this.eventHead++]!;
      if (this.eventHead === this.events.length) {
        this.events.length = 0;
        this.eventHead = 0;
      }
      if (event.type === 'datagram') this.datagramsIn--;
      // A `stream-writable` hint queued before the sending part was reset (a STOP_SENDING after the ACK in
      // the same packet) is no longer true: a write would fail. The `stream-stop-sending` event follows.
      if (event.type === 'stream-writable' && this.streams.writableBytes(event.streamId) === 0) continue;
      return { type: 'event', event };
    }
    if (this.stateValue === 'closed') return DONE;
    if (this.stateValue === 'established') this.checkKeyPhase(now);
    let datagram: Uint8Array | null;
    try {
      datagram = this.nextDatagram(now);
    } catch (e) {
      if (e instanceof TransportError) this.closeWithError(e, now);
      else this.failInternal(e, now);
      return this.poll(now);
    }
    if (datagram !== null) return { type: 'need-write', datagram, path: this.writePath, ecn: this.txEcn };
    const deadline = this.nextDeadline(now);
    this.quiet = true;
    this.quietDeadline = deadline;
    return { type: 'need-read', deadline };
  }

  private onTimers(now: number): void {
    if (this.stateValue === 'closed') return;
    const close = this.timers.get('close');
    // The closing period starts when the first CONNECTION_CLOSE goes out (a close issued long after the last
    // poll must not end before it is sent).
    if (close !== null && now >= close && !(this.stateValue === 'closing' && this.closesSent === 0)) {
      this.setState('closed');
      this.timers.stopAll();
      return;
    }
    if (this.stateValue === 'closing' || this.stateValue === 'draining') return;
    const idle = this.timers.get('idle');
    if (idle !== null && now >= idle) {
      // RFC 9000 section 10.1: the connection is silently closed and its state discarded.
      this.emitClosed({
        kind: 'transport',
        code: 0n,
        name: 'NO_ERROR',
        frameType: null,
        reason: 'idle timeout',
        initiator: 'idle-timeout',
      });
      this.setState('closed');
      this.timers.stopAll();
      return;
    }
    const lossDeadline = this.recovery.deadline;
    if (lossDeadline !== null && now >= lossDeadline) {
      const out = this.recovery.onTimeout(now);
      if (out !== null) {
        if (out.type === 'loss') {
          this.sender.onPacketsLost(out.space, out.lost);
          this.ecn.onLost(out.space, out.lost);
        } else this.sender.refillProbes();
        this.drainStreamEvents();
      }
    }
    const keepAlive = this.config.keepAlive;
    if (keepAlive !== null && this.handshakeComplete && now >= this.lastAckElicitingSent + keepAlive) this.sender.queuePing();
    const discard = this.timers.get('key-discard');
    if (discard !== null && now >= discard) {
      this.keys.dropPreviousReadKeys();
      this.timers.stop('key-discard');
    }
    this.onPathTimers(now);
    const earlyDiscard = this.timers.get('early-discard');
    if (earlyDiscard !== null && now >= earlyDiscard) {
      this.keys.discard('early');
      this.timers.stop('early-discard');
    }
  }

  private nextDeadline(now: number): number | null {
    const t = this.timers;
    if (this.stateValue === 'closing' || this.stateValue === 'draining') return t.get('close');
    t.set('loss', this.recovery.deadline);
    t.set('ack', this.sender.ackDeadline());
    t.set('pacing', this.sender.pacingDeadline(now));
    t.set(
      'path',
      this.paths.deadline(now, (e) => this.pathBudget(e)),
    );
    const keepAlive = this.config.keepAlive;
    t.set('keep-alive', keepAlive !== null && this.handshakeComplete ? this.lastAckElicitingSent + keepAlive : null);
    return t.nextDeadline();
  }

  // ---------------------------------------------------------------------------------------------
  // sending (sender.ts)

  private nextDatagram(now: number): Uint8Array | null {
    const st = this.stateValue;
    if (st === 'draining' || st === 'closed') return null;
    this.writePath = this.pathValue;
    this.txEcn = 'not-ect';
    if (st !== 'closing') return this.nextPathProbe(now) ?? this.buildMarked(now);
    if (this.closeSendPending) {
      this.closeSendPending = false;
      this.closeSpaces = this.sender.writableSpaces();
    }
    // One datagram per level rather than coalesced: a peer that dropped a level's keys may discard the whole
    // datagram (quiche 0.18 does) and miss the close in the level it can read.
    for (let space = this.closeSpaces.shift(); space !== undefined; space = this.closeSpaces.shift()) {
      const datagram = this.sender.buildClose(space, this.closeFrameFor(space));
      if (datagram === null) continue;
      if (this.closesSent === 0) this.timers.set('close', now + 3 * this.recovery.loss.ptoPeriod());
      this.closesSent++;
      return datagram;
    }
    return null;
  }

  /** The sender's next datagram, with the ECN codepoint it goes with (the validator learns which packets were marked). */
  private buildMarked(now: number): Uint8Array | null {
    const mark = this.ecn.mark;
    const pn = this.sender.nextPn;
    const initial = pn.initial;
    const handshake = pn.handshake;
    const application = pn.application;
    const datagram = this.sender.buildDatagram(now);
    if (datagram === null) return null;
    this.txEcn = mark;
    if (mark !== 'not-ect') {
      this.ecn.onSent('initial', initial, pn.initial, mark);
      this.ecn.onSent('handshake', handshake, pn.handshake, mark);
      this.ecn.onSent('application', application, pn.application, mark);
    }
    return datagram;
  }

  /** RFC 9000 section 10.1: sending the first ack-eliciting packet since the last receipt restarts the idle timer. */
  private onAckElicitingSent(now: number): void {
    if (!this.ackElicitingSinceReceive) {
      this.ackElicitingSinceReceive = true;
      this.lastActivity = now;
      this.armIdle();
    }
    this.lastAckElicitingSent = now;
  }

  private qlog(name: string, data: Record<string, unknown>): void {
    this.qlogSink?.({ time: this.now, name, data });
  }

  /** NSS key log line for a secret (RFC 9001 secrets are the TLS 1.3 traffic secrets). */
  private keylog(level: 'early' | 'handshake' | 'application', direction: 'read' | 'write', secret: Uint8Array): void {
    const sink = this.keylogSink;
    if (sink === undefined || this.clientRandom === null) return;
    const sender = (direction === 'write') === (this.role === 'client') ? 'client' : 'server';
    sink(`${keylogLabel(level, sender)} ${toHex(this.clientRandom)} ${toHex(secret)}`);
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  private armIdle(): void {
    const ours = this.config.idleTimeout;
    const theirs = this.peerParams?.maxIdleTimeout ?? 0;
    // RFC 9000 section 10.1: the smaller of the two non-zero values, and at least three PTOs.
    const timeout = ours === 0 ? theirs : theirs === 0 ? ours : Math.min(ours, theirs);
    if (timeout === 0) {
      this.timers.stop('idle');
      return;
    }
    this.timers.set('idle', this.lastActivity + Math.max(timeout, 3 * this.recovery.loss.ptoPeriod()));
  }

  private drainStreamEvents(): void {
    let raised = false;
    for (let e = this.streams.pollEvent(); e !== null; e = this.streams.pollEvent()) {
      if (e.type === 'streams-available') raised = true;
      this.emit(e);
    }
    // A 0-RTT replay held back by the stream limit goes on when it rises.
    if (raised && this.zeroRtt?.replay != null) this.replayJournal();
  }

  private emit(event: ConnectionEvent): void {
    this.events.push(event);
  }

  private setState(next: ConnectionState): void {
    if (this.qlogSink !== undefined && next !== this.stateValue)
      this.qlog('connectivity:connection_state_updated', { old: this.stateValue, new: next });
    this.stateValue = next;
  }
}

const DONE: ConnectionPollResult = Object.freeze({ type: 'done' });
/** RFC 9000 section 9.1: packets with only these frames are probing packets (they do not move a connection). */
const PROBING_FRAMES: ReadonlySet<Frame['type']> = new Set(['path-challenge', 'path-response', 'new-connection-id', 'padding']);
const EMPTY = new Uint8Array(0);

function truncateUtf8(s: string, max: number): Uint8Array {
  const bytes = UTF8.encode(s);
  if (bytes.length <= max) return bytes;
  let end = max;
  // Do not cut a multi-byte character: back up to a lead byte.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
