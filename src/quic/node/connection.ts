/**
 * A QUIC connection as the Node adapter presents it: streams as Web Streams,
 * async iteration of the peer's streams and datagrams, promises for the
 * handshake and the end, typed errors. Every method is a command on the
 * sans-I/O {@link Connection} underneath followed by a flush of the socket
 * (soon, in a microtask); every engine event lands here from the socket's
 * drive loop.
 */
import { EventEmitter } from 'node:events';
import { UsageError } from '../../combinators/errors.js';
import { clock } from './clock.js';
import type { Connection, ConnectionStats } from '../connection/connection.js';
import type { CloseReason, ConnectionEvent, Path, SocketAddress } from '../connection/events.js';
import type { PathChangeReason } from '../connection/paths.js';
import type { TransportParameters } from '../transport-params.js';
import { QuicError, closeError } from './errors.js';
import { AsyncQueue } from './queue.js';
import { QuicStream, type StreamBufferOptions, type StreamHost } from './streams.js';

/** What a connection needs from the socket that drives it. */
export interface ConnectionDriver {
  /** Commands changed the engine's state: flush soon. */
  kick(): void;
  /** Flush now (used by destroy, so CONNECTION_CLOSE leaves before the socket may close). */
  flushNow(): void;
  /** The connection is over and forgotten by the endpoint. */
  connectionGone(conn: QuicConnection): void;
}

/** Options of {@link QuicConnection.openStream}. */
export interface OpenStreamOptions extends StreamBufferOptions {
  /** Bidirectional (default) or unidirectional (we only send). */
  readonly bidi?: boolean;
  /**
   * Aborts the stream: RESET_STREAM and STOP_SENDING with the application
   * error code of `signal.reason` (a number or bigint; otherwise 0). Also
   * cancels waiting for stream credit.
   */
  readonly signal?: AbortSignal;
}

/** How to close a connection (RFC 9000 section 10.2). */
export interface ConnectionCloseOptions {
  /** Application error code (CONNECTION_CLOSE type 0x1d). Default 0. */
  readonly errorCode?: number | bigint;
  /** Reason phrase (UTF-8, truncated to fit a packet). */
  readonly reason?: string;
}

/** Events of a {@link QuicConnection} (listener signatures). */
export interface QuicConnectionEvents {
  /** The peer opened a stream. Also delivered through {@link QuicConnection.incomingStreams}. */
  stream: [stream: QuicStream];
  /** A DATAGRAM frame arrived (RFC 9221). Also delivered through {@link QuicConnection.datagrams}. */
  datagram: [data: Uint8Array];
  /** A TLS session ticket arrived (client): opaque bytes to resume a later connection. */
  'session-ticket': [ticket: Uint8Array, maxEarlyData: number];
  /** The connection moved to another path (RFC 9000 section 9): NAT rebinding, migration, preferred_address. */
  'path-changed': [path: Path, reason: PathChangeReason];
  /** The connection ended (the same reason `closed` resolves with). */
  close: [reason: CloseReason];
}

/** Most received datagrams held for a consumer before the oldest are dropped. */
const DATAGRAM_QUEUE = 1024;

/**
 * A QUIC connection (client or server) on a {@link QuicSocket}. Obtain one
 * from `connect()` (the handshake is complete) or from a server (`listen()`).
 */
export class QuicConnection extends EventEmitter<QuicConnectionEvents> {
  /**
   * The sans-I/O connection underneath: read its getters (rtt, stats, state). Drive its stream
   * commands only in raw mode (`rawStreams: true`, see {@link QuicConnection.attach}).
   */
  readonly engine: Connection;
  /** Which side we are. */
  readonly role: 'client' | 'server';
  private readonly driver: ConnectionDriver;
  private readonly streamOptions: StreamBufferOptions;
  private readonly streamsById = new Map<number, QuicStream>();
  private readonly incoming = new AsyncQueue<QuicStream>();
  private readonly datagramQueue = new AsyncQueue<Uint8Array>(DATAGRAM_QUEUE);
  private readonly openWaiters: { bidi: boolean; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private readonly host: StreamHost;
  private iterating = false;
  /** Raw mode (options.rawStreams): the attached application, or the events waiting for one. */
  private application: ((event: ConnectionEvent) => void) | null = null;
  private readonly rawQueue: ConnectionEvent[] | null;

  private handshakeState: 'pending' | 'done' | 'failed' = 'pending';
  private handshakeWaiter: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  private handshakePromise: Promise<void> | null = null;
  private reasonValue: CloseReason | null = null;
  private errorValue: QuicError | null = null;
  private resolveClosed!: (r: CloseReason) => void;
  private resolveDone!: () => void;
  private doneValue = false;

  /** Resolves with the reason once the connection has ended (never rejects). */
  readonly closed: Promise<CloseReason>;
  /** Resolves once the connection is gone (after the closing or draining period). */
  readonly done: Promise<void>;
  /** When the connection object was created and when its handshake completed (the adapter's clock: epoch ms, see clock.ts). */
  readonly startedAt: number;
  handshakeCompletedAt: number | null = null;
  private earlyDataAcceptedValue = false;

  /** @internal Made by {@link QuicSocket}. */
  constructor(driver: ConnectionDriver, engine: Connection, role: 'client' | 'server', streamOptions: StreamBufferOptions, now: number) {
    super();
    this.driver = driver;
    this.engine = engine;
    this.role = role;
    this.streamOptions = streamOptions;
    this.rawQueue = streamOptions.rawStreams === true ? [] : null;
    this.startedAt = now;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.host = {
      engine,
      kick: () => this.driver.kick(),
      closeError: () => this.errorValue,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // getters

  /** The negotiated ALPN protocol ('' before the handshake). */
  get alpn(): string {
    return this.engine.alpn ?? '';
  }

  /**
   * Resolves when the handshake completes; rejects if the connection ends first. Already resolved
   * when `connect()` returns, unless the connection started in 0-RTT (`earlyData`).
   */
  get handshake(): Promise<void> {
    return this.established();
  }

  /** True when the server accepted our 0-RTT data (known once `handshake` resolved). */
  get earlyDataAccepted(): boolean {
    return this.earlyDataAcceptedValue;
  }

  /** The peer's address. */
  get remoteAddress(): SocketAddress {
    return this.engine.path.remote;
  }

  /** Our address as the socket is bound (0.0.0.0 / :: when bound to every interface). */
  get localAddress(): SocketAddress {
    return this.engine.path.local;
  }

  /** The peer's transport parameters (null before the handshake got that far). */
  get peerParameters(): TransportParameters | null {
    return this.engine.peerParameters;
  }

  /** Round-trip time estimate in ms (RFC 9002 section 5). */
  get rtt(): { readonly smoothed: number; readonly min: number; readonly latest: number; readonly variance: number } {
    return this.engine.rtt;
  }

  /** Packet and byte counters. */
  get stats(): Readonly<ConnectionStats> {
    return this.engine.stats;
  }

  /** Why the connection ended (null while it is open). */
  get closeReason(): CloseReason | null {
    return this.reasonValue;
  }

  /** True once the connection ended (closing, draining or gone). */
  get isClosed(): boolean {
    return this.reasonValue !== null;
  }

  /** Streams with state (ours and the peer's). */
  get streams(): readonly QuicStream[] {
    return [...this.streamsById.values()];
  }

  // ---------------------------------------------------------------------------------------------
  // commands

  /**
   * Opens a stream. Waits while the peer's stream limit is reached (until a
   * MAX_STREAMS raises it); rejects with the connection's error if it ends,
   * or `ERR_QUIC_ABORTED` if `signal` aborts first.
   */
  async openStream(options: OpenStreamOptions = {}): Promise<QuicStream> {
    if (this.rawQueue !== null) throw new UsageError('rawStreams: open streams with conn.engine.openStream()');
    const bidi = options.bidi ?? true;
    const signal = options.signal;
    for (;;) {
      this.checkOpen();
      if (signal?.aborted) throw new QuicError('ERR_QUIC_ABORTED', { cause: signal.reason });
      const id = this.engine.openStream(bidi);
      if (id !== null) {
        const buffers: StreamBufferOptions = {
          ...this.streamOptions,
          ...(options.readableHighWaterMark === undefined ? {} : { readableHighWaterMark: options.readableHighWaterMark }),
          ...(options.writableHighWaterMark === undefined ? {} : { writableHighWaterMark: options.writableHighWaterMark }),
        };
        const s = new QuicStream(this.host, id, 'local', bidi, buffers, signal);
        this.streamsById.set(id, s);
        return s;
      }
      this.driver.kick(); // STREAMS_BLOCKED goes out
      let onAbort: (() => void) | null = null;
      try {
        await new Promise<void>((resolve, reject) => {
          const waiter = { bidi, resolve, reject };
          this.openWaiters.push(waiter);
          if (signal !== undefined) {
            onAbort = () => {
              const i = this.openWaiters.indexOf(waiter);
              if (i >= 0) this.openWaiters.splice(i, 1);
              reject(new QuicError('ERR_QUIC_ABORTED', { cause: signal.reason }));
            };
            signal.addEventListener('abort', onAbort, { once: true });
          }
        });
      } finally {
        if (onAbort !== null) signal?.removeEventListener('abort', onAbort);
      }
    }
  }

  /**
   * The peer's streams, in the order it opened them. One iterator per
   * connection: breaking out of the loop stops the queueing (the 'stream'
   * event still fires). Ends when the connection ends. Streams are queued
   * for it from the start, unless the application takes them with 'stream'
   * listeners and never asked for this iterator.
   */
  incomingStreams(): AsyncIterableIterator<QuicStream> {
    this.iterating = true;
    return this.incoming;
  }

  /**
   * Sends an unreliable DATAGRAM (RFC 9221). False when the peer does not
   * accept datagrams (it sets max_datagram_frame_size; ours is
   * `limits.maxDatagramFrameSize`), when `data` does not fit in one packet,
   * or when too many wait to be sent.
   */
  sendDatagram(data: Uint8Array): boolean {
    this.checkOpen();
    const ok = this.engine.sendDatagram(data);
    if (ok) this.driver.kick();
    return ok;
  }

  /** Received datagrams (the newest 1024 are kept until read); ends when the connection ends. */
  datagrams(): AsyncIterableIterator<Uint8Array> {
    return this.datagramQueue;
  }

  /** Sends a PING: checks that the peer is alive and resets the idle timer. */
  ping(): void {
    this.checkOpen();
    this.engine.ping();
    this.driver.kick();
  }

  /** Starts a key update (RFC 9001 section 6); false when one cannot start now. */
  updateKeys(): boolean {
    this.checkOpen();
    const ok = this.engine.updateKeys(clock());
    this.driver.kick();
    return ok;
  }

  /**
   * Closes the connection with an application error code (CONNECTION_CLOSE,
   * RFC 9000 section 10.2): unfinished streams fail, the peer sees the code
   * and reason. Resolves with the close reason once the closing period is
   * over (three PTOs); at once if it was already over.
   */
  async close(options: ConnectionCloseOptions = {}): Promise<CloseReason> {
    if (this.reasonValue === null) {
      this.engine.close({
        errorCode: options.errorCode ?? 0,
        ...(options.reason === undefined ? {} : { reason: options.reason }),
      });
      this.driver.kick();
    }
    const reason = await this.closed;
    await this.done;
    return reason;
  }

  /**
   * Ends the connection now: CONNECTION_CLOSE goes out at once (application
   * error `errorCode`, default 0), streams and pending operations fail, and
   * nothing waits for the closing period (the endpoint absorbs it).
   */
  destroy(options: ConnectionCloseOptions = {}): void {
    if (this.reasonValue === null) {
      this.engine.close({
        errorCode: options.errorCode ?? 0,
        ...(options.reason === undefined ? {} : { reason: options.reason }),
      });
      this.driver.flushNow();
    }
    this.markDone();
  }

  private checkOpen(): void {
    if (this.errorValue !== null) throw this.errorValue;
  }

  // ---------------------------------------------------------------------------------------------
  // from the socket

  /** @internal Resolves when the handshake completes; rejects when the connection ends first. */
  established(): Promise<void> {
    if (this.handshakePromise === null) {
      this.handshakePromise =
        this.handshakeState === 'done'
          ? Promise.resolve()
          : this.handshakeState === 'failed'
            ? Promise.reject(this.errorValue)
            : new Promise<void>((resolve, reject) => (this.handshakeWaiter = { resolve, reject }));
    }
    return this.handshakePromise;
  }

  /**
   * Raw mode only (`rawStreams: true`): from now on `handler` gets every
   * event of the connection, synchronously inside the socket's flush (events
   * queued before this call first). The handler (and code it schedules)
   * drives streams with `engine`'s commands; commands issued outside a
   * handler call need {@link QuicConnection.wake} so the socket sends what
   * they produced.
   */
  attach(handler: (event: ConnectionEvent) => void): void {
    const queue = this.rawQueue;
    if (queue === null) throw new UsageError('attach() needs a connection made with rawStreams: true');
    if (this.application !== null) throw new UsageError('an application is already attached');
    this.application = handler;
    for (const e of queue.splice(0)) handler(e);
    this.driver.kick();
  }

  /** Raw mode: the engine has something to send (after commands issued outside an event handler). */
  wake(): void {
    this.driver.kick();
  }

  /** @internal One engine event. Returns true when it completed the handshake. */
  handleEvent(event: ConnectionEvent, now: number): boolean {
    if (this.rawQueue !== null) return this.handleRawEvent(event, now);
    return this.handleWrappedEvent(event, now);
  }

  private handleRawEvent(event: ConnectionEvent, now: number): boolean {
    // Handshake and close state are kept as in the wrapped mode (connect(), closed, errors).
    const completed =
      event.type === 'handshake-completed' || event.type === 'closed' || event.type === 'session-ticket' || event.type === 'path-changed'
        ? this.handleWrappedEvent(event, now)
        : false;
    if (this.application !== null) this.application(event);
    else this.queueRaw(event);
    return completed;
  }

  /** Before attach(): readiness notifications are kept once per stream, so the queue stays small. */
  private queueRaw(event: ConnectionEvent): void {
    const queue = this.rawQueue!;
    if (event.type === 'stream-readable' || event.type === 'stream-writable') {
      if (queue.some((e) => e.type === event.type && e.streamId === event.streamId)) return;
    }
    queue.push(event);
  }

  private handleWrappedEvent(event: ConnectionEvent, now: number): boolean {
    switch (event.type) {
      case 'handshake-completed':
        this.earlyDataAcceptedValue = event.earlyDataAccepted;
        this.handshakeState = 'done';
        this.handshakeCompletedAt = now;
        this.handshakeWaiter?.resolve();
        this.handshakeWaiter = null;
        return true;
      case 'handshake-confirmed':
        return false;
      case 'stream-opened': {
        const s = new QuicStream(this.host, event.streamId, 'peer', event.bidi, this.streamOptions);
        this.streamsById.set(event.streamId, s);
        // Queued for incomingStreams() unless only 'stream' listeners take streams (then nothing would drain it).
        if (this.iterating || this.listenerCount('stream') === 0) this.incoming.push(s);
        this.emit('stream', s);
        return false;
      }
      case 'stream-readable':
        this.streamsById.get(event.streamId)?.onReadable();
        return false;
      case 'stream-writable':
        this.streamsById.get(event.streamId)?.onWritable();
        return false;
      case 'stream-finished':
        this.streamsById.get(event.streamId)?.onFinished();
        return false;
      case 'stream-reset':
        this.streamsById.get(event.streamId)?.onReset(event.errorCode);
        return false;
      case 'stream-stop-sending':
        this.streamsById.get(event.streamId)?.onStopSending(event.errorCode);
        return false;
      case 'stream-closed':
        this.streamsById.get(event.streamId)?.onClosed();
        this.streamsById.delete(event.streamId);
        return false;
      case 'streams-available': {
        const ready = this.openWaiters.filter((w) => w.bidi === event.bidi);
        for (const w of ready) this.openWaiters.splice(this.openWaiters.indexOf(w), 1);
        for (const w of ready) w.resolve();
        return false;
      }
      case 'datagram':
        this.datagramQueue.push(event.data);
        this.emit('datagram', event.data);
        return false;
      case 'session-ticket':
        this.emit('session-ticket', event.ticket, event.maxEarlyData);
        return false;
      case 'closed':
        this.onClosed(event.reason);
        return false;
      case 'path-changed':
        this.emit('path-changed', event.path, event.reason);
        return false;
      case 'path-validated':
      case 'path-failed':
        return false;
      default: {
        // An event kind newer than this adapter: nothing to do with it.
        const never: never = event;
        void never;
        return false;
      }
    }
  }

  /** @internal The connection ended (engine event, or the socket failed with `error`). */
  onClosed(reason: CloseReason, error?: QuicError): void {
    if (this.reasonValue !== null) return;
    this.reasonValue = reason;
    const err = error ?? closeError(reason, this.handshakeState === 'done');
    this.errorValue = err;
    if (this.handshakeState === 'pending') {
      this.handshakeState = 'failed';
      this.handshakeWaiter?.reject(err);
      this.handshakeWaiter = null;
    }
    for (const s of this.streamsById.values()) s.onConnectionClosed(err);
    this.incoming.end();
    this.datagramQueue.end();
    for (const w of this.openWaiters.splice(0)) w.reject(err);
    this.resolveClosed(reason);
    this.emit('close', reason);
  }

  /** @internal The endpoint forgot the connection (or it was destroyed). */
  markDone(): void {
    if (this.doneValue) return;
    this.doneValue = true;
    if (this.reasonValue === null) {
      // Destroyed before the engine reported its close (the event comes from a flush that could not run).
      this.onClosed(
        { kind: 'application', code: 0n, name: null, frameType: null, reason: 'destroyed', initiator: 'local' },
        new QuicError('ERR_QUIC_CONNECTION_CLOSED', { detail: 'destroyed' }),
      );
    }
    this.resolveDone();
    this.driver.connectionGone(this);
  }

  /** @internal Fails the connection because its socket failed. */
  failSocket(error: QuicError): void {
    if (this.reasonValue === null) {
      try {
        this.engine.close({ kind: 'transport', errorCode: 0x01, reason: 'socket error' });
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
      }
      this.onClosed(
        { kind: 'transport', code: 0x01n, name: 'INTERNAL_ERROR', frameType: null, reason: error.message, initiator: 'local' },
        error,
      );
    }
  }
}
