/**
 * A QUIC endpoint, sans-I/O: any number of client and server connections
 * behind one UDP socket (RFC 9000 section 5.2). The peer-to-peer case is the
 * reason it exists: hole punching needs the client and server connections of
 * one application to share a port.
 *
 * - Routing: datagrams go to a connection by Destination Connection ID (every
 *   ID a connection issued, plus the client's original DCID while its first
 *   Initials still use it). All our connection IDs have the same length, so
 *   short headers can be parsed.
 * - Stateless answers: Version Negotiation for an unknown version (section
 *   6.1), Retry when address validation is on (section 8.1.2, with sealed,
 *   expiring, address-bound tokens), stateless reset for a short header packet
 *   of an unknown connection (section 10.3). Anything else unknown is dropped
 *   silently.
 * - Limits: at most `maxConnections`; closed connections are forgotten once
 *   their closing or draining period ends.
 *
 * Driver loop: `receive` each datagram, then `poll` until `need-read`, exactly
 * as for one {@link Connection}; events come tagged with their connection.
 */
import { UsageError } from '../../combinators/errors.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { Connection, readFirstInitial } from '../connection/connection.js';
import type { ConnectionEvent, EcnMark, Path, SocketAddress } from '../connection/events.js';
import type { ClientConnectionOptions, ServerConnectionOptions } from '../connection/options.js';
import { decodePacketHeader } from '../packet.js';
import { isSupportedVersion } from '../packet-protection.js';
import { encodeRetryPacket, encodeVersionNegotiationPacket, ResetTokens, RetryTokens } from './tokens.js';
import { equalBytes } from '../bytes.js';

/**
 * Server settings for accepted connections (what {@link ServerConnectionOptions} has, minus what the
 * endpoint decides). `tickets` plus `earlyData` accept 0-RTT from resuming clients (read the replay
 * note of `ServerConnectionOptions.earlyData`); the Retry of `validateAddress` does not prevent it (the
 * client sends its 0-RTT packets again after the Retry, RFC 9000 section 17.2.5.3).
 */
export type EndpointServerOptions = Omit<
  ServerConnectionOptions,
  'provider' | 'connectionIdLength' | 'retry' | 'sourceConnectionId' | 'statelessResetToken' | 'resetTokenFor' | 'addressValidated'
>;

/** Client settings for {@link Endpoint.connect}. */
export type EndpointClientOptions = Omit<ClientConnectionOptions, 'provider' | 'connectionIdLength'>;

export interface EndpointOptions {
  /** Crypto provider for every connection (and the endpoint's own keys and random values). */
  readonly provider: CryptoProvider;
  /** Accept incoming connections with these settings; absent: client-only endpoint (incoming Initials are dropped). */
  readonly server?: EndpointServerOptions;
  /** Length of every connection ID we issue, 1..20 (default 8). */
  readonly connectionIdLength?: number;
  /** Send Retry to validate client addresses before creating state (default false). */
  readonly validateAddress?: boolean;
  /** How long a Retry token stays valid, ms (default 10 000). */
  readonly retryTokenLifetime?: number;
  /** Most connections at once (default 10 000); new Initials beyond it are dropped. */
  readonly maxConnections?: number;
  /** Send stateless resets for unknown short-header packets (default true). */
  readonly statelessReset?: boolean;
  /** 32-byte key for stateless reset tokens; keep it across restarts to reset old connections (default random). */
  readonly resetKey?: Uint8Array;
  /** Our local address as the socket sees it (default 0.0.0.0:0). */
  readonly local?: SocketAddress;
}

/** One result of {@link Endpoint.poll}. */
export type EndpointPollResult =
  /** A datagram to send, with the ECN codepoint to set (see the connection option `ecn`; 'not-ect' for the endpoint's own answers). */
  | { readonly type: 'need-write'; readonly datagram: Uint8Array; readonly path: Path; readonly ecn: EcnMark }
  /** A server connection was created for a client's first Initial; its events follow. */
  | { readonly type: 'incoming'; readonly connection: Connection }
  | { readonly type: 'event'; readonly connection: Connection; readonly event: ConnectionEvent }
  /** A connection is over and forgotten. */
  | { readonly type: 'connection-done'; readonly connection: Connection }
  | { readonly type: 'need-read'; readonly deadline: number | null };

/** Counters for logs and tests. */
export interface EndpointStats {
  datagramsReceived: number;
  /** Datagrams dropped without an answer (unknown, malformed, over the limit). */
  datagramsDropped: number;
  versionNegotiationsSent: number;
  retriesSent: number;
  statelessResetsSent: number;
  connectionsAccepted: number;
}

const ANY: SocketAddress = Object.freeze({ address: '0.0.0.0', port: 0 });

export class Endpoint {
  private readonly provider: CryptoProvider;
  private readonly options: EndpointOptions;
  private readonly cidLength: number;
  private readonly routes = new Map<string, Connection>();
  /** Every connection, in creation order; `done` ones are removed. */
  private readonly connectionList: Connection[] = [];
  /** Routing keys of each connection, to remove them when it is done. */
  private readonly keysOf = new Map<Connection, Set<string>>();
  private readonly outbox: { datagram: Uint8Array; path: Path }[] = [];
  private readonly incoming: Connection[] = [];
  private readonly retryTokens: RetryTokens;
  private readonly resetTokens: ResetTokens;
  private cursor = 0;
  readonly local: SocketAddress;
  readonly stats: EndpointStats = {
    datagramsReceived: 0,
    datagramsDropped: 0,
    versionNegotiationsSent: 0,
    retriesSent: 0,
    statelessResetsSent: 0,
    connectionsAccepted: 0,
  };

  constructor(options: EndpointOptions) {
    this.provider = options.provider;
    this.options = options;
    const n = options.connectionIdLength ?? 8;
    if (!Number.isInteger(n) || n < 1 || n > 20) throw new UsageError(`connectionIdLength ${n} outside 1..20`);
    this.cidLength = n;
    this.local = options.local ?? ANY;
    this.retryTokens = new RetryTokens(this.provider, this.provider.random(16), options.retryTokenLifetime ?? 10_000);
    this.resetTokens = new ResetTokens(this.provider, options.resetKey ?? this.provider.random(32));
  }

  /** Live connections (client and server). */
  get connections(): readonly Connection[] {
    return this.connectionList;
  }

  /** Opens a client connection to `remote`; its first Initial comes out of the next `poll`. */
  connect(options: EndpointClientOptions, remote: SocketAddress, now: number): Connection {
    this.checkCapacity();
    const conn = Connection.client(
      { ...options, provider: this.provider, connectionIdLength: this.cidLength },
      { local: this.local, remote },
      now,
    );
    this.add(conn);
    return conn;
  }

  /**
   * A datagram arrived on `path` (path.local: our address, path.remote: the
   * sender), with its ECN codepoint when the socket reports it. Never throws because of the datagram's contents.
   */
  receive(datagram: Uint8Array, path: Path, now: number, ecn: EcnMark = 'not-ect'): void {
    this.stats.datagramsReceived++;
    if (datagram.length === 0) return this.drop();
    let dcid: Uint8Array;
    let long: boolean;
    try {
      const h = decodePacketHeader(datagram, 0, { shortDcidLength: this.cidLength });
      dcid = h.dcid;
      long = h.kind !== '1rtt';
      if (h.kind === 'unsupported-version') return this.answerUnknownVersion(datagram, h.dcid, h.scid, path);
    } catch {
      return this.drop();
    }
    const conn = this.routes.get(keyOf(dcid));
    if (conn !== undefined) {
      conn.receive(datagram, path, now, ecn);
      return;
    }
    if (!long) {
      // RFC 9000 section 10.3.1: an unroutable datagram may be a stateless reset for one of our connections.
      for (const c of this.connectionList) if (c.receiveStatelessReset(datagram, now)) return;
      return this.answerUnknownShort(dcid, datagram.length, path);
    }
    this.accept(datagram, path, now, ecn);
  }

  /** Endpoint answers first, then each connection's output; need-read carries the earliest deadline. */
  poll(now: number): EndpointPollResult {
    const out = this.outbox.shift();
    if (out !== undefined) return { type: 'need-write', datagram: out.datagram, path: out.path, ecn: 'not-ect' };
    const fresh = this.incoming.shift();
    if (fresh !== undefined) return { type: 'incoming', connection: fresh };
    const list = this.connectionList;
    for (let tried = 0; tried < list.length; tried++) {
      if (this.cursor >= list.length) this.cursor = 0;
      const conn = list[this.cursor]!;
      if (!conn.needsPoll(now)) {
        this.cursor++;
        continue;
      }
      const r = conn.poll(now);
      this.syncRoutes(conn);
      switch (r.type) {
        case 'need-write':
          // Stay on this connection: it may have more to send (the round robin moves on when it is done).
          return r;
        case 'event':
          return { type: 'event', connection: conn, event: r.event };
        case 'done':
          this.remove(conn);
          return { type: 'connection-done', connection: conn };
        case 'need-read':
          this.cursor++;
          break;
        default: {
          const never: never = r;
          throw new UsageError(`unknown poll result ${JSON.stringify(never)}`);
        }
      }
    }
    let deadline: number | null = null;
    for (const c of list) {
      const d = c.pollDeadline;
      if (d !== null && (deadline === null || d < deadline)) deadline = d;
    }
    return { type: 'need-read', deadline };
  }

  /** Closes every connection (application close with `errorCode`). */
  closeAll(errorCode = 0, reason = ''): void {
    for (const c of this.connectionList) c.close({ errorCode, reason });
  }

  // ---------------------------------------------------------------------------------------------

  private accept(datagram: Uint8Array, path: Path, now: number, ecn: EcnMark): void {
    const server = this.options.server;
    const first = readFirstInitial(datagram);
    if (server === undefined || first === null) return this.drop();
    // A version we parse but the server does not accept (its `versions`): Version Negotiation (RFC 9000 section 6.1).
    if (server.versions !== undefined && !server.versions.includes(first.version))
      return this.answerUnknownVersion(datagram, first.dcid, first.scid, path);
    if (this.connectionList.length >= (this.options.maxConnections ?? 10_000)) return this.drop();
    let retry: { originalDestinationConnectionId: Uint8Array; retrySourceConnectionId: Uint8Array } | undefined;
    if (this.options.validateAddress === true) {
      if (first.token.length === 0) return this.sendRetry(first, path, now);
      const contents = this.retryTokens.open(path.remote, first.token, now);
      // RFC 9000 section 8.1.3: a token that does not validate; the client sent an Initial with a token we
      // cannot use: start over with a Retry would loop (one Retry per connection), so drop it.
      if (contents === null || !equalBytes(contents.retryScid, first.dcid)) return this.drop();
      retry = { originalDestinationConnectionId: contents.originalDcid, retrySourceConnectionId: contents.retryScid };
    }
    const scid = this.provider.random(this.cidLength);
    const conn = Connection.server(
      {
        ...server,
        provider: this.provider,
        connectionIdLength: this.cidLength,
        sourceConnectionId: scid,
        statelessResetToken: this.resetTokens.tokenFor(scid),
        resetTokenFor: (cid) => this.resetTokens.tokenFor(cid),
        addressValidated: retry !== undefined,
        ...(retry === undefined ? {} : { retry }),
      },
      first,
      path,
      now,
    );
    this.add(conn);
    // The client keeps using its chosen DCID until it hears from us (RFC 9000 section 7.2).
    this.route(conn, first.dcid);
    conn.receive(datagram, path, now, ecn);
    // No packet of the datagram could be opened (RFC 9001 section 5.5: packets that fail authentication are
    // discarded): it was damaged or forged, and keeping a connection for it would only hold a slot until the
    // idle timeout. The client's next Initial starts over.
    if (conn.stats.packetsReceived === 0) {
      this.remove(conn);
      return this.drop();
    }
    this.stats.connectionsAccepted++;
    this.incoming.push(conn);
  }

  private sendRetry(first: { version: number; dcid: Uint8Array; scid: Uint8Array }, path: Path, now: number): void {
    const retryScid = this.provider.random(this.cidLength);
    const token = this.retryTokens.seal(path.remote, { originalDcid: first.dcid, retryScid }, now);
    this.outbox.push({ datagram: encodeRetryPacket(this.provider, first.version, first.dcid, first.scid, retryScid, token), path });
    this.stats.retriesSent++;
  }

  private answerUnknownVersion(datagram: Uint8Array, dcid: Uint8Array, scid: Uint8Array, path: Path): void {
    // RFC 9000 section 6.1: only for datagrams big enough to be a client's first Initial (amplification).
    if (datagram.length < 1200 || this.options.server === undefined) return this.drop();
    const versions = this.options.server.versions?.filter((v) => isSupportedVersion(v));
    this.outbox.push({ datagram: encodeVersionNegotiationPacket(this.provider, dcid, scid, versions), path });
    this.stats.versionNegotiationsSent++;
  }

  private answerUnknownShort(dcid: Uint8Array, receivedLength: number, path: Path): void {
    if (this.options.statelessReset === false) return this.drop();
    const reset = this.resetTokens.packetFor(dcid, receivedLength);
    if (reset === null) return this.drop();
    this.outbox.push({ datagram: reset, path });
    this.stats.statelessResetsSent++;
  }

  private checkCapacity(): void {
    if (this.connectionList.length >= (this.options.maxConnections ?? 10_000)) throw new UsageError('the endpoint is at maxConnections');
  }

  private add(conn: Connection): void {
    this.connectionList.push(conn);
    this.keysOf.set(conn, new Set());
    for (const cid of conn.localConnectionIds) this.route(conn, cid);
    conn.takeConnectionIdChanges();
  }

  private route(conn: Connection, cid: Uint8Array): void {
    const key = keyOf(cid);
    this.routes.set(key, conn);
    this.keysOf.get(conn)?.add(key);
  }

  private syncRoutes(conn: Connection): void {
    const changes = conn.takeConnectionIdChanges();
    for (const cid of changes.added) this.route(conn, cid);
    for (const cid of changes.retired) {
      const key = keyOf(cid);
      if (this.routes.get(key) === conn) this.routes.delete(key);
      this.keysOf.get(conn)?.delete(key);
    }
  }

  private remove(conn: Connection): void {
    for (const key of this.keysOf.get(conn) ?? []) if (this.routes.get(key) === conn) this.routes.delete(key);
    this.keysOf.delete(conn);
    const i = this.connectionList.indexOf(conn);
    if (i >= 0) this.connectionList.splice(i, 1);
  }

  private drop(): void {
    this.stats.datagramsDropped++;
  }
}

/** A map key for a connection ID (latin1 string: one char per byte, cheap to build). */
function keyOf(cid: Uint8Array): string {
  let s = '';
  for (let i = 0; i < cid.length; i++) s += String.fromCharCode(cid[i]!);
  return s;
}
