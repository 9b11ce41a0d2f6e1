/**
 * The driver: one `node:dgram` socket, one sans-I/O {@link Endpoint}, one
 * timer. Any number of client connections and at most one server share the
 * socket (the peer-to-peer case: hole punching needs both on one port).
 *
 * ## The drive loop
 * - A datagram arrives ('message'): `endpoint.receive(buffer, path, now)`.
 *   dgram hands over a fresh Buffer per datagram, which the engine may keep
 *   views of (received stream data): nothing is copied. The flush runs in
 *   `setImmediate`, after every datagram of the same event-loop turn was
 *   received, so they are answered together.
 * - A command from the application (write, read, open, close...) schedules a
 *   flush in a microtask.
 * - Flush: `endpoint.poll(now)` until need-read. A need-write datagram is
 *   copied and sent at once: the engine reuses its buffer, and
 *   `socket.send()` may hold the bytes until after the next poll (libuv
 *   queues them when the socket would block). Events go to their connection.
 *   need-read arms one timer for the earliest deadline (re-armed only when it
 *   moves earlier: waking early costs one poll).
 * - After {@link MAX_BATCH} datagrams the flush yields (setImmediate), so
 *   incoming ACKs are read between bursts.
 *
 * ## Errors
 * Socket errors never throw out of the loop. A failed send to one address
 * (EACCES, ENETUNREACH...) closes the connections to that address with
 * `ERR_QUIC_SOCKET`; transient ones (ENOBUFS, EAGAIN) count as packet loss.
 * Any other socket error closes every connection on the socket and the
 * socket. 'error' is emitted (on the socket and on the server) only when
 * someone listens, so an unhandled socket error never kills the process.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { UsageError } from '../../combinators/errors.js';
import type { Connection } from '../connection/connection.js';
import { sameAddress, type Path, type SocketAddress } from '../connection/events.js';
import { toHex } from '../connection/trace.js';
import { createNodeProvider, loadCertificateChain, loadPrivateKey } from '../crypto/node.js';
import type { Signer } from '../crypto/provider.js';
import {
  Endpoint,
  type EndpointClientOptions,
  type EndpointOptions,
  type EndpointPollResult,
  type EndpointServerOptions,
} from '../endpoint/endpoint.js';
import type { CertificateVerifier } from '../tls/client.js';
import { nodeCertificateVerifier } from '../tls/node.js';
import { BoundedCache } from './bounded-cache.js';
import { clock } from './clock.js';
import { QuicConnection, type ConnectionCloseOptions, type ConnectionDriver } from './connection.js';
import { QuicError } from './errors.js';
import { keylogSink } from './keylog.js';
import type { ClientOptions, ServerOptions, SocketOptions, TransportOptions } from './options.js';
import { QlogWriter } from './qlog.js';
import { QuicServer } from './server.js';
import type { StreamBufferOptions } from './streams.js';

/** Datagrams sent in one flush before yielding to the event loop. */
const MAX_BATCH = 128;

/**
 * Verifiers by trust anchors: parsing the anchors costs ~0.2 ms per certificate (the system store
 * holds ~140), so connections given the same `ca` (the same string, or the same array object) share
 * one verifier. Bounded: a program passing a new string each time only re-parses.
 */
const verifiersByText = new BoundedCache<CertificateVerifier>(32);
const verifiersByObject = new WeakMap<object, CertificateVerifier>();

function verifierFor(ca: string | Uint8Array | readonly (string | Uint8Array)[]): CertificateVerifier {
  if (typeof ca === 'string') return verifiersByText.get(ca, () => nodeCertificateVerifier({ ca: [ca] }));
  let v = verifiersByObject.get(ca);
  if (v === undefined) {
    v = nodeCertificateVerifier({ ca: ca instanceof Uint8Array ? [ca] : (ca as readonly (string | Uint8Array)[]) });
    verifiersByObject.set(ca, v);
  }
  return v;
}
/**
 * SO_RCVBUF / SO_SNDBUF default. The system default (~208 KiB on Linux) overflows within a
 * congestion window on loopback whenever the receiver spends a millisecond elsewhere (GC, the
 * application): measured, 20 % of a 100 MB transfer's datagrams dropped with receive buffer errors,
 * holding CUBIC's window near 100 KB. The kernel caps the request at net.core.rmem_max / wmem_max.
 */
const DEFAULT_SOCKET_BUFFER = 4 * 1024 * 1024;
/** The endpoint's default connection limit. */
const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Send errors that are packet loss, not a broken path. */
const TRANSIENT_SEND_ERRORS = new Set(['ENOBUFS', 'EAGAIN', 'EWOULDBLOCK', 'EINTR', 'ENOMEM']);

/** Events of a {@link QuicSocket}. */
export interface QuicSocketEvents {
  /** A socket error (emitted only when listened to; the connections concerned are closed either way). */
  error: [error: QuicError];
  /** The socket is closed. */
  close: [];
}

interface Entry {
  readonly wrapper: QuicConnection;
  readonly qlog: QlogWriter | null;
  readonly server: QuicServer | null;
}

interface Listener {
  readonly server: QuicServer;
  readonly options: EndpointServerOptions;
  readonly qlogDir: string | undefined;
  readonly validateAddress: boolean;
  readonly maxConnections: number;
  readonly streamOptions: StreamBufferOptions;
}

/**
 * dgram's address lookup, without the asynchronous hop for IP literals:
 * dns.lookup answers those on the next tick, which would delay every send.
 */
function lookupAddress(
  hostname: string,
  options: LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dnsLookup(hostname, options, callback);
}

function transportOptions(o: TransportOptions): TransportOptions & { readonly ecn: false } {
  // node:dgram can neither set nor read the IP ECN bits: tell the engine not to mark (it would only fail
  // its ECN validation at the first ACK, RFC 9000 section 13.4.2).
  const out: Record<string, unknown> = { ecn: false };
  for (const k of [
    'idleTimeout',
    'keepAlive',
    'maxDatagramSize',
    'congestion',
    'initialWindow',
    'pacing',
    'maxAckDelay',
    'ackDelayExponent',
    'cipherSuites',
    'groups',
    'limits',
    'version',
  ] as const) {
    if (o[k] !== undefined) out[k] = o[k];
  }
  return out as TransportOptions & { readonly ecn: false };
}

function streamBufferOptions(o: StreamBufferOptions): StreamBufferOptions {
  return {
    ...(o.readableHighWaterMark === undefined ? {} : { readableHighWaterMark: o.readableHighWaterMark }),
    ...(o.writableHighWaterMark === undefined ? {} : { writableHighWaterMark: o.writableHighWaterMark }),
    ...(o.rawStreams === undefined ? {} : { rawStreams: o.rawStreams }),
  };
}

function alpnList(alpn: string | readonly string[]): readonly string[] {
  const list = typeof alpn === 'string' ? [alpn] : alpn;
  if (list.length === 0) throw new UsageError('at least one ALPN protocol is required (RFC 9001 section 8.1)');
  return list;
}

/**
 * Closes a connection for a socket or server shutting down. An established one waits for its closing
 * period (we may have to repeat CONNECTION_CLOSE). Let go at once: one the peer closed, which is only
 * draining (RFC 9000 section 10.2.2: it sends nothing more), and one whose handshake never completed,
 * which carried no application data and whose three PTOs, with no RTT sample yet, would hold the
 * shutdown for about three seconds (RFC 9002 section 6.2.2: initial RTT 333 ms); it gets
 * CONNECTION_CLOSE once (unless already closing).
 */
function closeGracefully(conn: QuicConnection, options: ConnectionCloseOptions): Promise<unknown> {
  const state = conn.engine.state;
  if (state === 'draining' || state === 'closed' || !conn.engine.isHandshakeComplete) {
    conn.destroy(options);
    return Promise.resolve();
  }
  return conn.close(options);
}

function isSigner(key: ServerOptions['key']): key is Signer {
  return typeof key === 'object' && !(key instanceof Uint8Array);
}

/**
 * A UDP socket carrying QUIC connections: clients (`connect`) and at most one
 * server (`listen`), on the same port.
 *
 * ```ts
 * const socket = await QuicSocket.create({ host: '0.0.0.0', port: 4433 });
 * const server = socket.listen({ cert, key, alpn: 'my-proto' });
 * const conn = await socket.connect({ host: 'peer.example', port: 4433, alpn: 'my-proto', ca });
 * ```
 */
export class QuicSocket extends EventEmitter<QuicSocketEvents> implements ConnectionDriver {
  /** The sans-I/O endpoint (read its `stats`; do not drive it). */
  readonly endpoint: Endpoint;
  /** The socket type. */
  readonly type: 'udp4' | 'udp6';
  private readonly udp: Socket;
  private readonly local: SocketAddress;
  private readonly entries = new Map<Connection, Entry>();
  private listener: Listener | null = null;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closedPromise: Promise<void> | null = null;

  private flushing = false;
  private kickQueued = false;
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private refed = true;
  private lastPath: Path | null = null;
  /** qlog writer made for the Initial being accepted (see the endpoint's `server` getter below). */
  private acceptSlot: QlogWriter | null = null;
  private readonly acceptedSlots: (QlogWriter | null)[] = [];
  private readonly pendingWrites: Promise<void>[] = [];
  /** @internal Close the socket when its last connection is gone and no server listens (sockets `connect()` made). */
  autoClose = false;
  /** Datagrams whose send failed with a transient error (counted as loss). */
  sendErrors = 0;

  private constructor(udp: Socket, type: 'udp4' | 'udp6', options: SocketOptions) {
    super();
    this.udp = udp;
    this.type = type;
    const a = udp.address();
    this.local = { address: a.address, port: a.port };
    // The endpoint reads `server`, `validateAddress` and `maxConnections` when it needs them: getters let
    // a server start (and stop) on a socket whose endpoint already carries client connections, and give
    // each accepted connection its own qlog sink.
    const endpointOptions = {
      provider: options.provider ?? createNodeProvider(),
      local: this.local,
      ...(options.connectionIdLength === undefined ? {} : { connectionIdLength: options.connectionIdLength }),
      ...(options.statelessReset === undefined ? {} : { statelessReset: options.statelessReset }),
      ...(options.resetKey === undefined ? {} : { resetKey: options.resetKey }),
      ...(options.retryTokenLifetime === undefined ? {} : { retryTokenLifetime: options.retryTokenLifetime }),
    };
    Object.defineProperties(endpointOptions, {
      server: { enumerable: true, get: (): EndpointServerOptions | undefined => this.serverOptionsForAccept() },
      validateAddress: { enumerable: true, get: (): boolean => this.listener?.validateAddress ?? false },
      maxConnections: { enumerable: true, get: (): number => this.listener?.maxConnections ?? DEFAULT_MAX_CONNECTIONS },
    });
    this.endpoint = new Endpoint(endpointOptions as unknown as EndpointOptions);
    udp.on('message', this.onMessage);
    udp.on('error', this.onUdpError);
  }

  /** Binds a UDP socket (IPv6 when `host` contains ':' or `type` is udp6). Rejects with `ERR_QUIC_SOCKET` (e.g. EADDRINUSE). */
  static async create(options: SocketOptions = {}): Promise<QuicSocket> {
    const type = options.type ?? (options.host?.includes(':') ? 'udp6' : 'udp4');
    const udp = createSocket({
      type,
      lookup: lookupAddress,
      ...(options.reuseAddr === undefined ? {} : { reuseAddr: options.reuseAddr }),
      ...(options.ipv6Only === undefined ? {} : { ipv6Only: options.ipv6Only }),
      recvBufferSize: options.receiveBufferSize ?? DEFAULT_SOCKET_BUFFER,
      sendBufferSize: options.sendBufferSize ?? DEFAULT_SOCKET_BUFFER,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ port: options.port ?? 0, address: options.host ?? (type === 'udp6' ? '::' : '0.0.0.0') }, () => {
          udp.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      udp.close();
      throw new QuicError('ERR_QUIC_SOCKET', { cause: e, detail: e instanceof Error ? e.message : String(e) });
    }
    return new QuicSocket(udp, type, options);
  }

  /** The bound address. */
  address(): SocketAddress {
    return this.local;
  }

  /** The connections on this socket (client and server, including those still in their handshake). */
  get connections(): QuicConnection[] {
    return [...this.entries.values()].map((e) => e.wrapper);
  }

  /** The server listening on this socket, if any. */
  get server(): QuicServer | null {
    return this.listener?.server ?? null;
  }

  /** True once close() or destroy() was called. */
  get isClosed(): boolean {
    return this.state !== 'open';
  }

  /** Keeps the process alive while the socket is open (the default). */
  ref(): this {
    this.refed = true;
    this.udp.ref();
    this.timer?.ref();
    return this;
  }

  /** Lets the process exit even though the socket is open. */
  unref(): this {
    this.refed = false;
    this.udp.unref();
    this.timer?.unref();
    return this;
  }

  // ---------------------------------------------------------------------------------------------
  // server and client

  /**
   * Accepts connections on this socket. The server delivers each connection
   * once its handshake is complete. One server per socket. `ownsSocket`
   * (used by `listen()`): `server.close()` closes the socket too.
   */
  listen(options: ServerOptions, ownsSocket = false): QuicServer {
    this.checkOpen();
    if (this.listener !== null) throw new UsageError('this socket already has a server');
    const certificateChain = Array.isArray(options.cert)
      ? (options.cert as readonly Uint8Array[])
      : loadCertificateChain(options.cert as string | Uint8Array);
    const key = options.key;
    const signer = isSigner(key) ? key : loadPrivateKey(key, options.passphrase === undefined ? {} : { passphrase: options.passphrase });
    const keylog = keylogSink(options.keylog);
    const serverOptions: EndpointServerOptions = {
      ...transportOptions(options),
      alpn: alpnList(options.alpn),
      certificateChain,
      signer,
      ...(options.tickets === undefined ? {} : { tickets: options.tickets }),
      ...(options.earlyData === undefined ? {} : { earlyData: options.earlyData }),
      ...(keylog === undefined ? {} : { keylog }),
      ...options.engine,
    };
    const server = new QuicServer(this, ownsSocket);
    this.listener = {
      server,
      options: serverOptions,
      qlogDir: options.qlogDir,
      validateAddress: options.validateAddress ?? false,
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      streamOptions: streamBufferOptions(options),
    };
    return server;
  }

  /**
   * Opens a client connection; resolves once the handshake is complete, or at
   * once when it can send 0-RTT (`session` + `earlyData`: see
   * `QuicConnection.handshake`).
   * Rejects with `ERR_QUIC_HANDSHAKE_FAILED` (see `closeReason`: e.g. a TLS
   * alert for a certificate that does not verify), `ERR_QUIC_HANDSHAKE_TIMEOUT`,
   * `ERR_QUIC_ABORTED` or `ERR_QUIC_SOCKET`.
   */
  async connect(options: ClientOptions): Promise<QuicConnection> {
    this.checkOpen();
    const remote = await this.resolve(options.host, options.port);
    this.checkOpen();
    const keylog = keylogSink(options.keylog);
    const qlog = options.qlogDir === undefined ? null : new QlogWriter(options.qlogDir);
    let verification: Pick<EndpointClientOptions, 'verifyCertificate' | 'insecureSkipVerify'>;
    if (options.insecure === true) verification = { insecureSkipVerify: true };
    else if (options.verifyCertificate !== undefined) verification = { verifyCertificate: options.verifyCertificate };
    else verification = { verifyCertificate: verifierFor(options.ca ?? rootCertificates) };
    const engineOptions: EndpointClientOptions = {
      ...transportOptions(options),
      alpn: alpnList(options.alpn),
      serverName: options.serverName ?? options.host,
      ...verification,
      ...(options.token === undefined ? {} : { token: options.token }),
      ...(options.session === undefined ? {} : { session: options.session }),
      ...(options.earlyData === undefined ? {} : { earlyData: options.earlyData }),
      ...(keylog === undefined ? {} : { keylog }),
      ...(qlog === null ? {} : { qlog: qlog.sink }),
      ...options.engine,
    };
    const now = clock();
    const conn = this.endpoint.connect(engineOptions, remote, now);
    qlog?.bind({ role: 'client', odcid: toHex(conn.originalDestinationConnectionId) });
    const wrapper = new QuicConnection(this, conn, 'client', streamBufferOptions(options), now);
    this.entries.set(conn, { wrapper, qlog, server: null });
    this.flushNow();
    // 0-RTT: the connection takes streams now; `handshake` tells how it ends.
    if (conn.isSendingEarlyData) return wrapper;

    const timeout = options.handshakeTimeout ?? 10_000;
    const signal = options.signal;
    let timer: NodeJS.Timeout | null = null;
    let onAbort: (() => void) | null = null;
    try {
      await Promise.race([
        wrapper.established(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new QuicError('ERR_QUIC_HANDSHAKE_TIMEOUT', { detail: `${timeout} ms` })), timeout);
          if (signal !== undefined) {
            onAbort = () => reject(new QuicError('ERR_QUIC_ABORTED', { cause: signal.reason }));
            if (signal.aborted) onAbort();
            else signal.addEventListener('abort', onAbort, { once: true });
          }
        }),
      ]);
    } catch (e) {
      wrapper.destroy({ reason: e instanceof QuicError ? e.code : 'handshake failed' });
      throw e;
    } finally {
      if (timer !== null) clearTimeout(timer);
      if (onAbort !== null) signal?.removeEventListener('abort', onAbort);
    }
    return wrapper;
  }

  /** The address to send to: resolved, and IPv4 written as IPv4-mapped IPv6 on a udp6 socket. */
  private async resolve(host: string, port: number): Promise<SocketAddress> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`port ${port} outside 1..65535`);
    let address = host;
    let family = isIP(host);
    if (family === 0) {
      const r = await new Promise<{ address: string; family: number }>((resolve, reject) =>
        dnsLookup(host, { family: this.type === 'udp4' ? 4 : 0 }, (err, a, f) =>
          err === null ? resolve({ address: a, family: f }) : reject(err),
        ),
      ).catch((e: unknown) => {
        throw new QuicError('ERR_QUIC_SOCKET', { cause: e, detail: `cannot resolve ${host}` });
      });
      address = r.address;
      family = r.family;
    }
    if (family === 6 && this.type === 'udp4') throw new UsageError(`cannot reach IPv6 address ${address} from an IPv4 socket`);
    if (family === 4 && this.type === 'udp6') address = `::ffff:${address}`;
    return { address, port };
  }

  private checkOpen(): void {
    if (this.state !== 'open') throw new QuicError('ERR_QUIC_SOCKET_CLOSED');
  }

  // ---------------------------------------------------------------------------------------------
  // closing

  /**
   * Stops the server, closes every connection (application error 0 unless
   * given) and waits for their closing periods, then closes the socket.
   */
  close(options: ConnectionCloseOptions = {}): Promise<void> {
    if (this.closedPromise !== null) return this.closedPromise;
    this.state = 'closing';
    this.closedPromise = (async () => {
      const waiting: Promise<unknown>[] = [];
      for (const e of [...this.entries.values()]) waiting.push(closeGracefully(e.wrapper, options));
      await Promise.all(waiting);
      this.finish();
      await Promise.all(this.pendingWrites);
    })();
    return this.closedPromise;
  }

  /** Closes every connection at once (CONNECTION_CLOSE is sent, nothing waits) and the socket. */
  destroy(options: ConnectionCloseOptions = {}): void {
    if (this.state === 'closed') return;
    this.state = 'closing';
    for (const e of [...this.entries.values()]) e.wrapper.destroy(options);
    this.finish();
    this.closedPromise ??= Promise.all(this.pendingWrites).then(() => undefined);
  }

  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    for (const e of [...this.entries.values()]) e.wrapper.markDone();
    this.listener?.server.onSocketClosed();
    this.listener = null;
    try {
      this.udp.close();
    } catch {
      // already closed
    }
    this.emit('close');
  }

  /** @internal The server stops: no new connections; closes the ones it accepted (and those in their handshake). */
  stopListening(server: QuicServer, options: ConnectionCloseOptions): Promise<void> {
    if (this.listener?.server === server) this.listener = null;
    const waiting: Promise<unknown>[] = [];
    for (const e of [...this.entries.values()]) if (e.server === server) waiting.push(closeGracefully(e.wrapper, options));
    return Promise.all(waiting).then(() => undefined);
  }

  // ---------------------------------------------------------------------------------------------
  // the drive loop

  private serverOptionsForAccept(): EndpointServerOptions | undefined {
    const l = this.listener;
    if (l === null || this.state !== 'open') return undefined;
    if (l.qlogDir === undefined) {
      this.acceptSlot = null;
      return l.options;
    }
    const writer = new QlogWriter(l.qlogDir);
    this.acceptSlot = writer;
    return { ...l.options, qlog: writer.sink };
  }

  private readonly onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    if (this.state === 'closed') return;
    let path = this.lastPath;
    if (path === null || path.remote.port !== rinfo.port || path.remote.address !== rinfo.address) {
      path = { local: this.local, remote: { address: rinfo.address, port: rinfo.port } };
      this.lastPath = path;
    }
    const ep = this.endpoint;
    const accepted = ep.stats.connectionsAccepted;
    ep.receive(msg, path, clock());
    // The connection the endpoint just created got the options (and the qlog sink) read last.
    if (ep.stats.connectionsAccepted !== accepted) this.acceptedSlots.push(this.acceptSlot);
    if (this.immediate === null) this.immediate = setImmediate(this.onImmediate);
  };

  private readonly onImmediate = (): void => {
    this.immediate = null;
    this.flush();
  };

  private readonly onKick = (): void => {
    this.kickQueued = false;
    this.flush();
  };

  private readonly onTimer = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    this.flush();
  };

  /** @internal A command changed a connection: flush in a microtask (at once inside a flush: the loop sees it). */
  kick(): void {
    if (this.flushing || this.kickQueued || this.state === 'closed') return;
    this.kickQueued = true;
    queueMicrotask(this.onKick);
  }

  /** @internal Flush now (re-entrant calls are absorbed by the running flush). */
  flushNow(): void {
    this.flush();
  }

  private flush(): void {
    if (this.flushing || this.state === 'closed') return;
    this.flushing = true;
    let sent = 0;
    try {
      const ep = this.endpoint;
      for (;;) {
        const now = clock();
        const r = ep.poll(now);
        if (r.type === 'need-read') {
          this.armTimer(r.deadline, now);
          break;
        }
        if (r.type === 'need-write') {
          this.send(r.datagram, r.path.remote);
          if (++sent >= MAX_BATCH) {
            if (this.immediate === null) this.immediate = setImmediate(this.onImmediate);
            break;
          }
          continue;
        }
        this.dispatchSafely(r, now);
        if (this.hasFinished()) break;
      }
    } finally {
      this.flushing = false;
    }
  }

  /** A listener may have closed the socket during a dispatch. */
  private hasFinished(): boolean {
    return this.state === 'closed';
  }

  private dispatchSafely(r: Exclude<EndpointPollResult, { type: 'need-read' | 'need-write' }>, now: number): void {
    try {
      this.dispatch(r, now);
    } catch (e) {
      // A listener threw: surface it as Node would, without leaving the loop half-way.
      process.nextTick(() => {
        throw e;
      });
    }
  }

  private dispatch(r: Exclude<EndpointPollResult, { type: 'need-read' | 'need-write' }>, now: number): void {
    switch (r.type) {
      case 'incoming': {
        const writer = this.acceptedSlots.shift() ?? null;
        const l = this.listener;
        const wrapper = new QuicConnection(this, r.connection, 'server', l?.streamOptions ?? {}, now);
        writer?.bind({ role: 'server', odcid: toHex(r.connection.originalDestinationConnectionId) });
        this.entries.set(r.connection, { wrapper, qlog: writer, server: l?.server ?? null });
        return;
      }
      case 'event': {
        const e = this.entries.get(r.connection);
        if (e === undefined) return;
        if (e.wrapper.handleEvent(r.event, now) && e.server !== null) e.server.deliver(e.wrapper);
        return;
      }
      case 'connection-done':
        this.entries.get(r.connection)?.wrapper.markDone();
        return;
      default: {
        const never: never = r;
        throw new UsageError(`unknown endpoint result ${JSON.stringify(never)}`);
      }
    }
  }

  /** @internal */
  connectionGone(conn: QuicConnection): void {
    const e = this.entries.get(conn.engine);
    if (e === undefined) return;
    this.entries.delete(conn.engine);
    if (e.qlog !== null) this.pendingWrites.push(e.qlog.close());
    e.server?.forget(conn);
    if (this.autoClose && this.entries.size === 0 && this.listener === null && this.state === 'open') void this.close();
  }

  private armTimer(deadline: number | null, now: number): void {
    if (deadline === null || this.state === 'closed') return;
    if (this.timer !== null) {
      if (this.timerAt <= deadline) return;
      clearTimeout(this.timer);
    }
    this.timerAt = deadline;
    this.timer = setTimeout(this.onTimer, Math.max(0, deadline - now));
    if (!this.refed) this.timer.unref();
  }

  private send(datagram: Uint8Array, to: SocketAddress): void {
    const copy = Buffer.allocUnsafe(datagram.length);
    copy.set(datagram);
    try {
      // Without a callback dgram drops send errors silently (no 'error' event): one shared callback.
      this.udp.send(copy, to.port, to.address, this.onSent);
    } catch (e) {
      this.onSendError(e as NodeJS.ErrnoException, to);
    }
  }

  private readonly onSent = (e: Error | null): void => {
    if (e === null) return;
    const ne = e as NodeJS.ErrnoException & { address?: unknown; port?: unknown };
    if (typeof ne.address === 'string' && typeof ne.port === 'number') this.onSendError(ne, { address: ne.address, port: ne.port });
    else this.onSendError(ne, { address: '', port: 0 });
  };

  // ---------------------------------------------------------------------------------------------
  // errors

  private readonly onUdpError = (e: Error): void => {
    const ne = e as NodeJS.ErrnoException & { address?: unknown; port?: unknown };
    if (ne.syscall === 'send' && typeof ne.address === 'string' && typeof ne.port === 'number') {
      this.onSendError(ne, { address: ne.address, port: ne.port });
      return;
    }
    const err = new QuicError('ERR_QUIC_SOCKET', { cause: e, detail: e.message });
    for (const entry of [...this.entries.values()]) {
      entry.wrapper.failSocket(err);
      entry.wrapper.markDone();
    }
    this.reportError(err);
    this.destroy();
  };

  private onSendError(e: NodeJS.ErrnoException, to: SocketAddress): void {
    if (e.code !== undefined && TRANSIENT_SEND_ERRORS.has(e.code)) {
      this.sendErrors++;
      return;
    }
    const err = new QuicError('ERR_QUIC_SOCKET', { cause: e, detail: `send to ${to.address} port ${to.port}: ${e.code ?? e.message}` });
    for (const entry of [...this.entries.values()]) {
      if (!sameAddress(entry.wrapper.remoteAddress, to)) continue;
      entry.wrapper.failSocket(err);
      entry.wrapper.markDone();
    }
    this.reportError(err);
  }

  private reportError(err: QuicError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.listener?.server.reportError(err);
  }
}
