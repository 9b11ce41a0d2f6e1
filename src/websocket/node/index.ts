/**
 * Node adapter for the sans-I/O WebSocket connection, with an API a `ws`
 * user finds familiar:
 *
 * ```ts
 * import { WebSocketServer, connect } from 'pullwire/websocket/node';
 *
 * const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: true });
 * wss.on('connection', (ws, request) => {
 *   ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
 * });
 *
 * const ws = connect('ws://127.0.0.1:8080/chat', { protocols: ['chat'] });
 * ws.on('open', () => ws.send('hello'));
 * ws.on('close', (code, reason) => console.log(code, reason.toString()));
 * ```
 *
 * The adapter owns the socket, the timers (closing timeout) and the
 * randomness (`crypto.randomBytes`); the protocol is entirely the
 * connection's. It writes every need-write at once (Node buffers what the
 * socket cannot take yet: `bufferedAmount`, `send()` returning false and the
 * 'drain' event are the backpressure) and stops reading from the socket while
 * its write buffer is over the high-water mark, so a peer that does not read
 * cannot make it queue answers without bound.
 */
import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from 'node:tls';
import { UsageError } from '../../combinators/index.js';
import type { BodyFraming, Header, RequestHead } from '../../miniproto/http1.js';
import { WebSocketConnection, type ClientOptions, type ConnectionOptions, type SendOptions, type ServerOptions } from '../connection.js';
import type { DeflateCodec, PerMessageDeflateOptions } from '../deflate.js';
import type { CloseEvent, WebSocketEvent } from '../events.js';
import { rejectionResponse, type ServerHandshakeOptions } from '../handshake.js';
import { zlibCodec } from './zlib.js';

export { zlibCodec } from './zlib.js';
export type { ZlibCodecOptions } from './zlib.js';

/** The random source of the Node adapter: `crypto.randomBytes`. */
export const nodeRandom = (n: number): Uint8Array => randomBytes(n);

let defaultZlib: DeflateCodec | null = null;

/** permessage-deflate options with the node:zlib codec unless another is given. */
function withCodec(v: boolean | PerMessageDeflateOptions | undefined): boolean | PerMessageDeflateOptions | undefined {
  if (v === undefined || v === false) return v;
  const o = v === true ? {} : v;
  if (o.codec !== undefined) return o;
  defaultZlib ??= zlibCodec();
  return { ...o, codec: defaultZlib };
}

/**
 * The connection options the adapter sets (unless given): randomness from
 * `crypto.randomBytes`, `node:buffer`'s native `isUtf8` for large text
 * pieces, and `Buffer.allocUnsafe` for large message buffers (as ws: no
 * zeroing; a Buffer is also what 'message' listeners get). The benchmark
 * configures its connections with these too.
 */
export const NODE_CONNECTION_DEFAULTS: Required<Pick<ConnectionOptions, 'random' | 'utf8Check' | 'allocate'>> = {
  random: nodeRandom,
  utf8Check: isUtf8,
  allocate: (n) => Buffer.allocUnsafe(n),
};

/** The Node defaults for randomness, UTF-8, allocation and compression. */
function nodeDefaults<T extends ConnectionOptions & { perMessageDeflate?: boolean | PerMessageDeflateOptions }>(o: T): T {
  const pmd = withCodec(o.perMessageDeflate);
  return { ...NODE_CONNECTION_DEFAULTS, ...o, ...(pmd === undefined ? {} : { perMessageDeflate: pmd }) };
}

export interface AdapterOptions {
  /** After `close()`, destroy the socket if the peer has not answered within this many ms. Default 30000 (as ws). */
  readonly closeTimeout?: number;
  /** Stop reading from the socket while more than this many bytes wait to be written. Default 1 MiB. */
  readonly highWaterMark?: number;
}

const DEFAULT_CLOSE_TIMEOUT = 30_000;
const DEFAULT_HIGH_WATER = 1024 * 1024;

/** Bytes as a Buffer without copying. */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * One WebSocket over a socket. Events (as `ws`): 'open', 'message' (data:
 * Buffer, isBinary: boolean), 'message-piece' (data, isBinary, fin) for
 * messages over `streamOver`, 'ping' (data), 'pong' (data), 'close' (code,
 * reason: Buffer), 'error' (a WebSocketError or socket error; only emitted
 * when someone listens), 'drain'.
 */
export class WebSocket extends EventEmitter {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  /** The sans-I/O connection underneath. */
  readonly connection: WebSocketConnection;
  private socket: Duplex;
  private readonly closeTimeout: number;
  private readonly highWater: number;
  private pumping = false;
  private again = false;
  private finished = false;
  private closeInfo: CloseEvent | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  private closedEmitted = false;

  /** @internal use {@link connect} or {@link WebSocketServer} */
  constructor(connection: WebSocketConnection, socket: Duplex, options: AdapterOptions = {}) {
    super();
    this.connection = connection;
    this.socket = socket;
    this.closeTimeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
    this.highWater = options.highWaterMark ?? DEFAULT_HIGH_WATER;
    connection.onWake = () => queueMicrotask(() => this.pump());
    socket.on('data', (chunk: Buffer) => {
      this.connection.receive(chunk);
      this.pump();
    });
    socket.on('end', () => {
      this.connection.end();
      this.pump();
    });
    socket.on('drain', () => {
      if (this.socket.isPaused() && !this.finished) this.socket.resume();
      this.emit('drain');
    });
    socket.on('error', (e: Error) => this.emitError(e));
    socket.on('close', () => this.onSocketClose());
    queueMicrotask(() => this.pump());
  }

  /** 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED (as the WebSocket API). */
  get readyState(): number {
    if (this.closedEmitted) return WebSocket.CLOSED;
    switch (this.connection.state) {
      case 'connecting':
        return WebSocket.CONNECTING;
      case 'open':
        return WebSocket.OPEN;
      case 'closing':
        return WebSocket.CLOSING;
      case 'closed':
        return this.socket.destroyed ? WebSocket.CLOSED : WebSocket.CLOSING;
      default: {
        const never: never = this.connection.state;
        throw new Error(`unknown state ${String(never)}`);
      }
    }
  }

  get protocol(): string {
    return this.connection.protocol ?? '';
  }

  get extensions(): string {
    return this.connection.extensions;
  }

  /** Bytes queued and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.connection.pendingOutput + this.socket.writableLength;
  }

  /**
   * Sends a message (string: text, bytes: binary, unless `binary` says
   * otherwise). Returns false when the socket's buffer is over its
   * high-water mark: wait for 'drain' before sending much more.
   */
  send(data: string | Uint8Array | ArrayBuffer, options: SendOptions = {}): boolean {
    const d = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    this.connection.send(d, options);
    this.pump();
    return !this.socket.writableNeedDrain;
  }

  ping(data: string | Uint8Array = new Uint8Array(0)): void {
    this.connection.ping(data);
    this.pump();
  }

  pong(data: string | Uint8Array = new Uint8Array(0)): void {
    this.connection.pong(data);
    this.pump();
  }

  /** Starts the closing handshake; the socket is destroyed if the peer does not answer within `closeTimeout`. */
  close(code?: number, reason = ''): void {
    const state = this.connection.state;
    if (state === 'connecting') {
      // No WebSocket yet: abandon the handshake.
      this.socket.destroy();
      return;
    }
    if (state !== 'open') return;
    this.connection.close(code ?? 1000, reason);
    this.armCloseTimer();
    this.pump();
  }

  /** Destroys the socket at once. */
  terminate(): void {
    this.socket.destroy();
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== null) return;
    this.closeTimer = setTimeout(() => this.socket.destroy(), this.closeTimeout);
    this.closeTimer.unref();
  }

  /**
   * 'error' is emitted only to listeners: the 'close' event that follows
   * carries the outcome anyway, and a peer's protocol violation must not be
   * able to crash a process that did not listen for errors.
   */
  private emitError(e: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }

  /** Polls the connection until it needs input or is done. */
  private pump(): void {
    if (this.finished) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        for (;;) {
          const r = this.connection.poll();
          if (r.type === 'need-read') break;
          if (r.type === 'need-write') {
            this.socket.write(r.data);
            continue;
          }
          if (r.type === 'done') {
            this.finish();
            return;
          }
          this.dispatch(r.event);
        }
      } while (this.again && !this.finished);
    } finally {
      this.pumping = false;
    }
    // Backpressure on the read side: do not read (and answer) more while our output waits.
    if (this.socket.writableLength > this.highWater && !this.socket.isPaused()) this.socket.pause();
  }

  private dispatch(e: WebSocketEvent): void {
    switch (e.type) {
      case 'open':
        this.emit('open');
        break;
      case 'text':
        this.emit('message', asBuffer(e.data), false);
        break;
      case 'binary':
        this.emit('message', asBuffer(e.data), true);
        break;
      case 'message-piece':
        this.emit('message-piece', asBuffer(e.data), e.binary, e.fin);
        break;
      case 'ping':
        this.emit('ping', asBuffer(e.data));
        break;
      case 'pong':
        this.emit('pong', asBuffer(e.data));
        break;
      case 'close':
        this.closeInfo = e;
        if (e.error !== null && e.error.code !== 'ERR_WS_ABNORMAL_CLOSURE') this.emitError(e.error);
        break;
      case 'handshake-failed':
        this.emitError(e.error);
        break;
      default: {
        const never: never = e;
        throw new Error(`unknown event ${String(never)}`);
      }
    }
  }

  /** The connection is done: close the transport (RFC 6455 section 7.1.1: the server first; the client too once both close frames passed). */
  private finish(): void {
    this.finished = true;
    this.socket.end();
    if (this.socket.isPaused()) this.socket.resume();
    // A peer that never closes its side: do not wait forever.
    const t = setTimeout(() => this.socket.destroy(), this.closeTimeout);
    t.unref();
    this.socket.once('close', () => clearTimeout(t));
  }

  private onSocketClose(): void {
    if (!this.finished) {
      this.connection.end();
      this.pump();
    }
    if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    const c = this.closeInfo;
    this.emit('close', c?.code ?? 1006, Buffer.from(c?.reason ?? ''));
  }
}

// ---------------------------------------------------------------- client

export interface ConnectOptions extends Omit<ClientOptions, 'host' | 'path'>, AdapterOptions {
  /** TLS options for wss: URLs (ca, rejectUnauthorized, ...). */
  readonly tls?: TlsOptions;
  /** Host header override (default: the URL's host). */
  readonly host?: string;
}

/** Opens a client WebSocket to a ws:// or wss:// URL. */
export function connect(url: string | URL, options: ConnectOptions = {}): WebSocket {
  const u = typeof url === 'string' ? new URL(url) : url;
  const secure = u.protocol === 'wss:' || u.protocol === 'https:';
  if (!secure && u.protocol !== 'ws:' && u.protocol !== 'http:') throw new UsageError(`unsupported URL scheme ${u.protocol}`);
  const port = u.port === '' ? (secure ? 443 : 80) : Number(u.port);
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const socket: Socket = secure
    ? tlsConnect({ host: hostname, port, servername: hostname, ...options.tls })
    : netConnect({ host: hostname, port });
  socket.setNoDelay(true);
  const { tls: _tls, closeTimeout, highWaterMark, host, ...rest } = options;
  const conn = WebSocketConnection.client(nodeDefaults({ ...rest, host: host ?? u.host, path: `${u.pathname}${u.search}` || '/' }));
  const adapter: AdapterOptions = {
    ...(closeTimeout === undefined ? {} : { closeTimeout }),
    ...(highWaterMark === undefined ? {} : { highWaterMark }),
  };
  return new WebSocket(conn, socket, adapter);
}

// ---------------------------------------------------------------- server

export interface WebSocketServerOptions extends Omit<ServerOptions, 'head'>, AdapterOptions {
  /** Attach to this http.Server's 'upgrade' event. */
  readonly server?: HttpServer;
  /** Only handle upgrades for this path (others get 400). Default: every path. */
  readonly path?: string;
}

/** A request from Node's HTTP parser as a RequestHead. */
function requestHeadOf(req: IncomingMessage): RequestHead {
  const headers: Header[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  let framing: BodyFraming = { kind: 'none' };
  const te = req.headers['transfer-encoding'];
  const cl = req.headers['content-length'];
  if (te !== undefined) framing = { kind: 'chunked' };
  else if (cl !== undefined && cl !== '0') framing = { kind: 'length', length: Number(cl) };
  return { method: req.method ?? 'GET', target: req.url ?? '/', version: req.httpVersion, headers, framing };
}

/**
 * A WebSocket server on an http.Server's 'upgrade' event. Emits
 * 'connection' (ws, request) for each accepted client, and
 * 'handshake-failed' (error, request) for refused ones.
 */
export class WebSocketServer extends EventEmitter {
  readonly clients = new Set<WebSocket>();
  private readonly options: WebSocketServerOptions;
  private readonly onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

  constructor(options: WebSocketServerOptions = {}) {
    super();
    this.options = options;
    this.onUpgrade = (req, socket, head) => this.handleUpgrade(req, socket, head);
    options.server?.on('upgrade', this.onUpgrade);
  }

  /** Handles one upgrade request (for servers that route 'upgrade' themselves). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, onConnection?: (ws: WebSocket, req: IncomingMessage) => void): void {
    const o = this.options;
    if (o.path !== undefined && new URL(req.url ?? '/', 'http://x').pathname !== o.path) {
      socket.end(rejectionResponse({ status: 400 }));
      return;
    }
    if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') (socket as Socket).setNoDelay(true);
    const { server: _server, path: _path, closeTimeout, highWaterMark, ...rest } = o;
    const handshake: ServerHandshakeOptions & ConnectionOptions = rest;
    const conn = WebSocketConnection.serverFromRequest(requestHeadOf(req), nodeDefaults(handshake));
    if (head.length > 0) conn.receive(head);
    const adapter: AdapterOptions = {
      ...(closeTimeout === undefined ? {} : { closeTimeout }),
      ...(highWaterMark === undefined ? {} : { highWaterMark }),
    };
    const ws = new WebSocket(conn, socket, adapter);
    ws.once('open', () => {
      this.clients.add(ws);
      if (onConnection !== undefined) onConnection(ws, req);
      else this.emit('connection', ws, req);
    });
    ws.on('error', (e: unknown) => {
      if (conn.state === 'closed' && !this.clients.has(ws)) this.emit('handshake-failed', e, req);
    });
    ws.once('close', () => this.clients.delete(ws));
  }

  /** Stops handling upgrades; with `terminate`, destroys every open connection (else closes them with 1001). */
  close(terminate = false): void {
    this.options.server?.off('upgrade', this.onUpgrade);
    for (const ws of this.clients) {
      if (terminate) ws.terminate();
      else if (ws.readyState === WebSocket.OPEN) ws.close(1001, 'server shutting down');
    }
  }
}
