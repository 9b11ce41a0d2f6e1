/**
 * HTTP/3 and HTTP/0.9 (hq-interop) on the Node QUIC adapter: the sans-I/O
 * {@link Http3Connection} / {@link HqConnection} attached to a
 * `pullwire/quic/node` connection in raw mode, with promises and async
 * iterables on top.
 *
 * One {@link Session} per QUIC connection does the plumbing both roles share:
 * every QUIC event goes to the protocol object, whose events are routed to
 * the stream they name; bodies are read on demand (nothing is read from QUIC
 * before the consumer asks, so a slow consumer holds the peer back through
 * flow control) and written with backpressure (a partial write waits for the
 * stream's `stream-writable`).
 */
import { UsageError } from '../../combinators/errors.js';
import type { CloseReason, ConnectionEvent } from '../../quic/connection/events.js';
import type { QuicConnection } from '../../quic/node.js';
import { Http3Connection } from '../connection.js';
import type { Http3Event, Http3Options } from '../events.js';
import { HqConnection, type HqEvent } from '../hq.js';
import type { HeaderField } from '../qpack/index.js';

/** The application protocol of a session: HTTP/3 (`h3`) or HTTP/0.9 over QUIC (`hq-interop`). */
export type Protocol = 'h3' | 'hq-interop';

export const PROTOCOLS: readonly Protocol[] = ['h3', 'hq-interop'];

/** An error of an HTTP exchange: the stream was reset or failed, or the connection ended. */
export class Http3StreamError extends Error {
  constructor(
    readonly code: 'ERR_HTTP3_STREAM_RESET' | 'ERR_HTTP3_STREAM_ERROR' | 'ERR_HTTP3_CONNECTION_CLOSED',
    message: string,
    /** The HTTP/3 (or application) error code when there is one. */
    readonly errorCode: bigint | null = null,
  ) {
    super(message);
    this.name = 'Http3StreamError';
  }
}

/** What a stream's owner is told. */
export interface StreamSink {
  /** h3: a header section (`informational` ones are skipped); hq (server): the request line's path as ':path'. */
  onHeaders?(headers: readonly HeaderField[]): void;
  onData(): void;
  onEnd(): void;
  onWritable(): void;
  onError(e: Http3StreamError): void;
}

const EMPTY = new Uint8Array(0);

/** Stream events HTTP/3 and hq-interop report alike. */
type SharedStreamEvent = Extract<Http3Event | HqEvent, { type: 'data' | 'end' | 'stream-writable' | 'reset' | 'stop-sending' }>;

export interface SessionOptions {
  readonly http3?: Http3Options;
  /** The connection's ALPN (default `quic.alpn`); a client in 0-RTT passes the one it offered (not negotiated yet). */
  readonly protocol?: Protocol;
  /** Server: called for each new request (h3 headers; hq: the request line's path as ':path'). */
  readonly onRequest?: (session: Session, streamId: number, headers: readonly HeaderField[]) => void;
}

/** One QUIC connection running HTTP/3 or hq-interop. */
export class Session {
  readonly protocol: Protocol;
  private readonly h3: Http3Connection | null;
  private readonly hq: HqConnection | null;
  private readonly sinks = new Map<number, StreamSink>();
  /** Server: called for each new request (h3 headers, hq request line). */
  private readonly onRequest: ((session: Session, streamId: number, headers: readonly HeaderField[]) => void) | null;
  private streamWaiters: (() => void)[] = [];
  private closedReason: CloseReason | null = null;

  constructor(
    readonly quic: QuicConnection,
    options: SessionOptions = {},
  ) {
    const alpn = options.protocol ?? quic.alpn;
    if (alpn !== 'h3' && alpn !== 'hq-interop') throw new UsageError(`the connection speaks ${alpn}, not h3 or hq-interop`);
    this.protocol = alpn;
    this.onRequest = options.onRequest ?? null;
    const engine = quic.engine;
    this.h3 = alpn === 'h3' ? new Http3Connection(engine, options.http3 ?? {}) : null;
    this.hq = alpn === 'hq-interop' ? new HqConnection(engine) : null;
    // Attaching replays the events queued since the handshake: with 0-RTT they include whole requests,
    // so `onRequest` must be in place before this line.
    quic.attach((e) => this.onQuicEvent(e));
  }

  /** Why the connection closed (null while open). */
  get closeReason(): CloseReason | null {
    return this.closedReason;
  }

  /** The HTTP/3 protocol object (null for hq-interop): settings, shutdown, the sans-I/O API. */
  get http3(): Http3Connection | null {
    return this.h3;
  }

  // ---------------------------------------------------------------------------------------------
  // commands (callable from anywhere: each wakes the socket)

  /** Client: opens a request stream, waiting while the server's stream limit is reached. */
  async openRequest(headers: readonly HeaderField[], endStream: boolean, sink: StreamSink): Promise<number> {
    for (;;) {
      this.checkOpen();
      let id: number | null;
      if (this.h3 !== null) id = this.h3.request(headers, { endStream });
      else {
        const path = headers.find((f) => f.name === ':path')?.value ?? '/';
        id = this.hq!.get(path);
      }
      if (id !== null) {
        this.sinks.set(id, sink);
        this.pump();
        return id;
      }
      this.quic.wake();
      await new Promise<void>((resolve) => this.streamWaiters.push(resolve));
    }
  }

  /** Server: the response head (h3 only; hq has none). */
  respond(streamId: number, headers: readonly HeaderField[], endStream: boolean): void {
    this.h3?.respond(streamId, headers, { endStream });
    if (this.hq !== null && endStream) this.hq.sendData(streamId, EMPTY, true);
    this.pump();
  }

  /** Registers the owner of a peer-initiated request stream (server). */
  own(streamId: number, sink: StreamSink): void {
    this.sinks.set(streamId, sink);
  }

  /**
   * The owner is done with a stream (both messages over): forget its sink.
   * Owners call this themselves: the peer's message may end long before ours
   * does, and the QUIC stream may close before the application has read the
   * end of the peer's message.
   */
  release(streamId: number): void {
    this.sinks.delete(streamId);
  }

  /** Up to `max` body bytes of a stream, or null when none are readable now. */
  read(streamId: number, max?: number): Uint8Array | null {
    const data = this.h3 !== null ? this.h3.readData(streamId, max) : this.hq!.readData(streamId, max);
    this.pump();
    return data;
  }

  /** Writes body bytes; returns how many the stream took. `fin` ends the message once all are taken. */
  write(streamId: number, data: Uint8Array, fin: boolean): number {
    const n = this.h3 !== null ? this.h3.sendData(streamId, data, fin) : this.hq!.sendData(streamId, data, fin);
    this.pump();
    return n;
  }

  /** Abandons a stream (both directions). */
  cancel(streamId: number, errorCode: number): void {
    this.sinks.delete(streamId);
    if (this.h3 !== null) this.h3.cancel(streamId, errorCode);
    else this.hq!.cancel(streamId, errorCode);
    this.pump();
  }

  /** Writes a whole body (bytes or chunks) with backpressure, then ends the message. */
  async writeBody(
    streamId: number,
    body: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    writable: () => Promise<void>,
  ): Promise<void> {
    const chunks = body instanceof Uint8Array ? [body] : body;
    for await (const chunk of chunks) {
      let off = 0;
      while (off < chunk.length) {
        this.checkOpen();
        off += this.write(streamId, off === 0 ? chunk : chunk.subarray(off), false);
        if (off < chunk.length) await writable();
      }
    }
    this.checkOpen();
    this.write(streamId, EMPTY, true);
  }

  /** Closes the connection (h3: GOAWAY first, then CONNECTION_CLOSE H3_NO_ERROR once no request is left). */
  async close(): Promise<CloseReason> {
    if (this.closedReason === null) {
      if (this.h3 !== null && !this.h3.isClosed) {
        this.h3.close();
      } else if (this.hq !== null) {
        this.quic.engine.close({ errorCode: 0 });
      }
      this.quic.wake();
    }
    return this.quic.close();
  }

  private checkOpen(): void {
    if (this.closedReason !== null) {
      throw new Http3StreamError('ERR_HTTP3_CONNECTION_CLOSED', `the connection closed: ${describe(this.closedReason)}`);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // events

  private onQuicEvent(e: ConnectionEvent): void {
    if (this.h3 !== null) this.h3.handleEvent(e);
    else this.hq!.handleEvent(e);
    this.pump();
  }

  /** Routes the protocol's queued events; wakes the socket for what commands produced. */
  private pump(): void {
    if (this.h3 !== null) {
      for (let e = this.h3.nextEvent(); e !== null; e = this.h3.nextEvent()) this.onHttp3Event(e);
    } else {
      for (let e = this.hq!.nextEvent(); e !== null; e = this.hq!.nextEvent()) this.onHqEvent(e);
    }
    this.quic.wake();
  }

  private onHttp3Event(e: Http3Event): void {
    switch (e.type) {
      case 'headers':
        if (this.quic.role === 'server' && !this.sinks.has(e.streamId)) this.onRequest?.(this, e.streamId, e.headers);
        else this.sinks.get(e.streamId)?.onHeaders?.(e.headers);
        return;
      case 'informational':
      case 'trailers':
      case 'settings':
        return;
      case 'data':
      case 'end':
      case 'stream-writable':
      case 'reset':
      case 'stop-sending':
        this.onStreamEvent(e);
        return;
      case 'stream-error':
        this.finishStream(e.streamId)?.onError(new Http3StreamError('ERR_HTTP3_STREAM_ERROR', e.error.message, BigInt(e.error.errorCode)));
        return;
      case 'goaway':
        for (const id of e.rejected) {
          this.finishStream(id)?.onError(
            new Http3StreamError('ERR_HTTP3_STREAM_RESET', `the server's GOAWAY rejected stream ${id} (safe to retry)`),
          );
        }
        return;
      case 'streams-available':
        this.wakeOpeners();
        return;
      case 'closed':
        this.onClosed(e.reason);
        return;
      default: {
        const never: never = e;
        void never;
      }
    }
  }

  /** The stream events both protocols share. */
  private onStreamEvent(e: SharedStreamEvent): void {
    switch (e.type) {
      case 'data':
        this.sinks.get(e.streamId)?.onData();
        return;
      case 'end':
        this.sinks.get(e.streamId)?.onEnd();
        return;
      case 'stream-writable':
        this.sinks.get(e.streamId)?.onWritable();
        return;
      case 'reset':
      case 'stop-sending': {
        const what = e.type === 'reset' ? 'reset' : 'stopped';
        const message = `the peer ${what} stream ${e.streamId} (code 0x${e.errorCode.toString(16)})`;
        this.finishStream(e.streamId)?.onError(new Http3StreamError('ERR_HTTP3_STREAM_RESET', message, e.errorCode));
        return;
      }
      default: {
        const never: never = e;
        void never;
      }
    }
  }

  private onHqEvent(e: HqEvent): void {
    switch (e.type) {
      case 'request':
        this.onRequest?.(this, e.streamId, [
          { name: ':method', value: 'GET' },
          { name: ':path', value: e.path },
        ]);
        return;
      case 'bad-request':
        return;
      case 'data':
      case 'end':
      case 'stream-writable':
      case 'reset':
      case 'stop-sending':
        this.onStreamEvent(e);
        return;
      case 'closed':
        this.onClosed(e.reason);
        return;
      default: {
        const never: never = e;
        void never;
      }
    }
  }

  /** A stream failed: its sink is told last and forgotten. */
  private finishStream(id: number): StreamSink | undefined {
    const sink = this.sinks.get(id);
    this.sinks.delete(id);
    return sink;
  }

  private wakeOpeners(): void {
    for (const w of this.streamWaiters.splice(0)) w();
  }

  private onClosed(reason: CloseReason): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    const err = new Http3StreamError('ERR_HTTP3_CONNECTION_CLOSED', `the connection closed: ${describe(reason)}`, reason.code);
    for (const sink of [...this.sinks.values()]) sink.onError(err);
    this.sinks.clear();
    this.wakeOpeners();
  }
}

function describe(r: CloseReason): string {
  return `${r.initiator} ${r.kind} 0x${r.code.toString(16)}${r.name === null ? '' : ` ${r.name}`}${r.reason === '' ? '' : ` (${r.reason})`}`;
}

/**
 * A message body read on demand: an async iterable of chunks (each the
 * caller's to keep). Ends at the peer's end of the message; throws an
 * {@link Http3StreamError} if the stream fails first.
 */
export class Body implements AsyncIterable<Uint8Array> {
  private ended = false;
  private failed: Http3StreamError | null = null;
  private waiter: (() => void) | null = null;
  /** A signal came while nobody waited (e.g. from inside a read): the next wait returns at once. */
  private pending = false;
  private iterated = false;

  constructor(
    private readonly session: Session,
    private readonly streamId: number,
  ) {}

  /** @internal */
  signal(): void {
    const w = this.waiter;
    this.waiter = null;
    if (w === null) this.pending = true;
    else w();
  }

  /** @internal */
  end(): void {
    this.ended = true;
    this.signal();
  }

  /** @internal */
  fail(e: Http3StreamError): void {
    this.failed = e;
    this.signal();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.iterated) throw new UsageError('a body can be read once');
    this.iterated = true;
    for (;;) {
      const chunk = this.ended || this.failed !== null ? null : this.session.read(this.streamId);
      if (chunk !== null) {
        if (chunk.length > 0) yield chunk;
        continue;
      }
      if (this.failed !== null) throw this.failed;
      if (this.ended) return;
      if (this.pending) {
        this.pending = false;
        continue;
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** The whole body in one buffer. */
  async bytes(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let n = 0;
    for await (const c of this) {
      parts.push(c);
      n += c.length;
    }
    const out = new Uint8Array(n);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
}

/**
 * A promise for a stream's next `stream-writable`. Level-triggered: the event
 * may fire inside the very write that came up short (before anyone waits),
 * so a fire without a waiter makes the next wait return at once (a spurious
 * wake costs one write attempt).
 */
export class WritableSignal {
  private waiter: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  private failed: Http3StreamError | null = null;
  private pending = false;

  wait = (): Promise<void> => {
    if (this.failed !== null) return Promise.reject(this.failed);
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  };

  fire(): void {
    const w = this.waiter;
    this.waiter = null;
    if (w === null) this.pending = true;
    else w.resolve();
  }

  fail(e: Http3StreamError): void {
    this.failed = e;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(e);
  }
}
