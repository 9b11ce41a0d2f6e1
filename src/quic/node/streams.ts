/**
 * QUIC streams as Web Streams, over the engine's stream commands (streams
 * are IDs on the connection; this object only translates).
 *
 * Backpressure is the engine's, end to end:
 * - Reading: the `readable` pulls from the engine (`streamRead` with at most
 *   the queue's free room) only while its queue is below its high-water mark
 *   (64 KiB by default). Flow-control credit goes back to the peer as data
 *   leaves the engine, so a reader that stops reading stops the peer after
 *   one stream window plus one high-water mark.
 * - Writing: a `write()` resolves once the engine's send buffer took the
 *   whole chunk (`streamWrite`), waiting for `stream-writable` events when it
 *   is full; the writable's own queue holds at most its high-water mark
 *   (64 KiB by default) on top, so `writer.ready` / `desiredSize` follow the
 *   engine. {@link QuicStream.writableBytes} is the engine's free room.
 */
import {
  ReadableStream,
  WritableStream,
  type ReadableStreamDefaultController,
  type WritableStreamDefaultController,
} from 'node:stream/web';
import { PullwireError, UsageError } from '../../combinators/errors.js';
import type { Connection } from '../connection/connection.js';
import { StreamError } from '../streams/errors.js';
import { QuicError, errorCodeOf } from './errors.js';

/** What a stream needs from its connection. */
export interface StreamHost {
  readonly engine: Connection;
  /** Commands changed the engine's state: flush the socket soon. */
  kick(): void;
  /** Why the connection ended, when it did (null while open). */
  closeError(): QuicError | null;
}

/** Queue sizes of a stream's Web Streams. */
export interface StreamBufferOptions {
  /** Bytes the readable pulls ahead of the application (default 64 KiB). */
  readonly readableHighWaterMark?: number;
  /** Bytes the writable queues on top of the engine's send buffer before `writer.ready` waits (default 64 KiB). */
  readonly writableHighWaterMark?: number;
  /**
   * Hand the connection's stream and datagram events to a sans-I/O application protocol instead of
   * making {@link QuicStream}s (default false): the application calls `conn.attach(handler)` and
   * drives the streams with `conn.engine`'s commands (pullwire/http3 works this way). Events that
   * arrive before `attach` are queued for it.
   */
  readonly rawStreams?: boolean;
}

const DEFAULT_HWM = 64 * 1024;

const byteSize = (chunk: Uint8Array): number => (chunk instanceof Uint8Array ? chunk.byteLength : 0);

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

/**
 * One QUIC stream (RFC 9000 section 2). `readable` and `writable` are
 * created on first access. A unidirectional stream has only one side: the
 * other is an empty readable (our streams) or an errored writable (the
 * peer's).
 */
export class QuicStream {
  /** The stream ID (RFC 9000 section 2.1: its two low bits say who opened it and its direction). */
  readonly id: number;
  /** True for a bidirectional stream. */
  readonly bidirectional: boolean;
  /** Who opened the stream. */
  readonly initiator: 'local' | 'peer';
  private readonly host: StreamHost;
  private readonly readHwm: number;
  private readonly writeHwm: number;

  private readableValue: ReadableStream<Uint8Array> | null = null;
  private writableValue: WritableStream<Uint8Array> | null = null;
  private rc: ReadableStreamDefaultController<Uint8Array> | null = null;
  private wc: WritableStreamDefaultController | null = null;

  /** The reading side is over (closed, errored or cancelled). */
  private readDone: boolean;
  /** Fail the readable with this at once (the peer reset: data is gone). */
  private readFailure: QuicError | null = null;
  /** Fail the readable with this once what the engine still holds is read (the connection ended). */
  private readTerminal: QuicError | null = null;
  /** The writing side is over (finished, errored or aborted). */
  private writeDone: boolean;
  private writeFailure: QuicError | null = null;
  private writeWaiter: Waiter | null = null;
  /** The engine forgot the stream (`stream-closed`): no more commands. */
  private gone = false;
  private pumping = false;
  private finishedPromise: Promise<void> | null = null;
  private finishedWaiter: Waiter | null = null;
  private finishedState: 'pending' | 'acked' | QuicError = 'pending';
  private signalCleanup: (() => void) | null = null;

  /** @internal Made by the connection. */
  constructor(
    host: StreamHost,
    id: number,
    initiator: 'local' | 'peer',
    bidirectional: boolean,
    options: StreamBufferOptions = {},
    signal?: AbortSignal,
  ) {
    this.host = host;
    this.id = id;
    this.initiator = initiator;
    this.bidirectional = bidirectional;
    this.readHwm = options.readableHighWaterMark ?? DEFAULT_HWM;
    this.writeHwm = options.writableHighWaterMark ?? DEFAULT_HWM;
    this.readDone = !bidirectional && initiator === 'local';
    this.writeDone = !bidirectional && initiator === 'peer';
    if (signal !== undefined) {
      const onAbort = (): void => this.abort(signal.reason);
      if (signal.aborted) queueMicrotask(onAbort);
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        this.signalCleanup = () => signal.removeEventListener('abort', onAbort);
      }
    }
  }

  /** The bytes the peer sends, in order; ends at the peer's FIN, errors with a {@link QuicError} on reset or connection loss. */
  get readable(): ReadableStream<Uint8Array> {
    if (this.readableValue === null) {
      this.readableValue =
        !this.bidirectional && this.initiator === 'local'
          ? new ReadableStream<Uint8Array>({ start: (c) => c.close() })
          : new ReadableStream<Uint8Array>(
              {
                start: (c) => {
                  this.rc = c;
                  if (this.readFailure !== null) this.failRead(this.readFailure);
                  else if (this.readTerminal !== null) {
                    this.pump(true);
                    this.failRead(this.readTerminal);
                  }
                },
                pull: () => this.pump(false),
                cancel: (reason) => this.cancelRead(reason),
              },
              { highWaterMark: this.readHwm, size: byteSize },
            );
    }
    return this.readableValue;
  }

  /** Where the application writes; `close()` sends FIN, `abort(code)` resets the stream (RESET_STREAM with `code`, see {@link errorCodeOf}). */
  get writable(): WritableStream<Uint8Array> {
    if (this.writableValue === null) {
      this.writableValue =
        !this.bidirectional && this.initiator === 'peer'
          ? new WritableStream<Uint8Array>({
              start: (c) => c.error(new UsageError(`stream ${this.id} is the peer's unidirectional stream: it cannot be written`)),
            })
          : new WritableStream<Uint8Array>(
              {
                start: (c) => {
                  this.wc = c;
                  if (this.writeFailure !== null) c.error(this.writeFailure);
                },
                write: (chunk) => this.write(chunk),
                close: () => this.finish(),
                abort: (reason) => this.abortWrite(reason),
              },
              { highWaterMark: this.writeHwm, size: byteSize },
            );
    }
    return this.writableValue;
  }

  /** Bytes the engine's send buffer takes now (0 when full or not writable). */
  get writableBytes(): number {
    return this.gone || this.writeDone ? 0 : this.host.engine.streamWritableBytes(this.id);
  }

  /**
   * Resolves when everything written and the FIN were acknowledged by the
   * peer (the sending part's "Data Recvd" state, RFC 9000 section 3.1);
   * rejects with a {@link QuicError} if the stream or the connection ends
   * before that.
   */
  get finished(): Promise<void> {
    if (this.finishedPromise === null) {
      const s = this.finishedState;
      this.finishedPromise =
        s === 'acked'
          ? Promise.resolve()
          : s !== 'pending'
            ? Promise.reject(s)
            : new Promise<void>((resolve, reject) => (this.finishedWaiter = { resolve, reject }));
    }
    return this.finishedPromise;
  }

  /**
   * Abandons the stream in both directions: RESET_STREAM and STOP_SENDING
   * with the application error code of `reason` (see {@link errorCodeOf}),
   * and both Web Streams error with `ERR_QUIC_STREAM_ABORTED`. What an
   * AbortSignal given to `openStream` does.
   */
  abort(reason?: unknown): void {
    const code = errorCodeOf(reason);
    const err = new QuicError('ERR_QUIC_STREAM_ABORTED', { errorCode: code, cause: reason });
    if (!this.writeDone) {
      this.engineCommand(() => this.host.engine.streamReset(this.id, code));
      this.failWrite(err);
    }
    if (!this.readDone) {
      this.engineCommand(() => this.host.engine.streamStopSending(this.id, code));
      this.failRead(err);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // reading

  /** Moves readable data from the engine into the queue: while it has room, or all of it (`all`). */
  private pump(all: boolean): void {
    const c = this.rc;
    // enqueue() calls pull() synchronously, which lands here again: the running loop goes on instead.
    if (c === null || this.readDone || this.pumping) return;
    this.pumping = true;
    let moved = false;
    try {
      while (!this.readDone) {
        const room = c.desiredSize ?? 0;
        if (!all && room <= 0) break;
        const r = this.host.engine.streamRead(this.id, all ? undefined : room);
        if (r === null) break;
        moved = true;
        if (r.data.length > 0) c.enqueue(r.data);
        if (r.fin) {
          this.readDone = true;
          c.close();
        }
      }
    } catch (e) {
      this.pumping = false;
      this.failRead(this.readErrorFrom(e));
    }
    this.pumping = false;
    if (moved) this.host.kick();
  }

  private cancelRead(reason: unknown): void {
    if (this.readDone) return;
    this.readDone = true;
    this.engineCommand(() => this.host.engine.streamStopSending(this.id, errorCodeOf(reason)));
  }

  private failRead(err: QuicError): void {
    if (this.readDone) return;
    if (this.rc === null) {
      // Applied when the readable is created.
      this.readFailure = err;
      return;
    }
    this.readDone = true;
    this.rc.error(err);
  }

  private readErrorFrom(e: unknown): QuicError {
    if (e instanceof QuicError) return e;
    if (e instanceof StreamError && e.code === 'ERR_STREAM_RESET')
      return new QuicError('ERR_QUIC_STREAM_RESET', { errorCode: e.errorCode, cause: e });
    return (
      this.host.closeError() ?? new QuicError('ERR_QUIC_STREAM_RESET', { cause: e, detail: e instanceof Error ? e.message : String(e) })
    );
  }

  // ---------------------------------------------------------------------------------------------
  // writing

  private write(chunk: Uint8Array): Promise<void> | undefined {
    if (!(chunk instanceof Uint8Array)) throw new UsageError('QUIC stream chunks must be Uint8Array');
    if (this.writeFailure !== null) throw this.writeFailure;
    if (chunk.length === 0) return undefined;
    let offset = 0;
    const step = (): boolean => {
      try {
        offset += this.host.engine.streamWrite(this.id, offset === 0 ? chunk : chunk.subarray(offset));
      } catch (e) {
        throw this.writeErrorFrom(e);
      }
      this.host.kick();
      return offset >= chunk.length;
    };
    if (step()) return undefined;
    return (async () => {
      for (;;) {
        await new Promise<void>((resolve, reject) => (this.writeWaiter = { resolve, reject }));
        if (step()) return;
      }
    })();
  }

  private finish(): void {
    if (this.writeFailure !== null) throw this.writeFailure;
    try {
      this.host.engine.streamFinish(this.id);
    } catch (e) {
      throw this.writeErrorFrom(e);
    }
    this.writeDone = true;
    this.host.kick();
  }

  private abortWrite(reason: unknown): void {
    if (this.writeDone) return;
    this.writeDone = true;
    const code = errorCodeOf(reason);
    this.engineCommand(() => this.host.engine.streamReset(this.id, code));
    this.settleFinished(new QuicError('ERR_QUIC_STREAM_ABORTED', { errorCode: code, cause: reason }));
    this.rejectWaiter(new QuicError('ERR_QUIC_STREAM_ABORTED', { errorCode: code, cause: reason }));
  }

  private failWrite(err: QuicError): void {
    this.settleFinished(err);
    this.rejectWaiter(err);
    if (this.writeFailure !== null) return;
    this.writeFailure = err;
    this.writeDone = true;
    // No effect on a writable already closed; applied at creation when there is none yet.
    this.wc?.error(err);
  }

  private rejectWaiter(err: QuicError): void {
    const w = this.writeWaiter;
    this.writeWaiter = null;
    w?.reject(err);
  }

  private writeErrorFrom(e: unknown): unknown {
    if (e instanceof StreamError && e.code === 'ERR_STREAM_RESET') {
      // Our sending part was reset: by the peer's STOP_SENDING (the event may still be on its way) or by us.
      return this.writeFailure ?? new QuicError('ERR_QUIC_STREAM_STOPPED', { errorCode: e.errorCode, cause: e });
    }
    if (e instanceof StreamError && e.code === 'ERR_STREAM_FINISHED') return new UsageError(`stream ${this.id}: write after close`);
    if (e instanceof PullwireError && e.code === 'ERR_USAGE') return this.host.closeError() ?? e;
    return e;
  }

  private settleFinished(outcome: 'acked' | QuicError): void {
    if (this.finishedState !== 'pending') return;
    this.finishedState = outcome;
    const w = this.finishedWaiter;
    this.finishedWaiter = null;
    if (w === null) return;
    if (outcome === 'acked') w.resolve();
    else w.reject(outcome);
  }

  /** Runs a command on the engine's stream unless it is gone; a stream the engine no longer knows needs nothing. */
  private engineCommand(f: () => void): void {
    if (this.gone || this.host.closeError() !== null) return;
    try {
      f();
      this.host.kick();
    } catch {
      // The stream part ended meanwhile (a reset crossed ours): nothing to undo.
    }
  }

  // ---------------------------------------------------------------------------------------------
  // engine events (called by the connection)

  /** @internal */
  onReadable(): void {
    this.pump(false);
  }

  /** @internal */
  onWritable(): void {
    const w = this.writeWaiter;
    this.writeWaiter = null;
    w?.resolve();
  }

  /** @internal Everything written and the FIN were acknowledged. */
  onFinished(): void {
    this.settleFinished('acked');
  }

  /** @internal The peer reset its sending part: unread data is gone. */
  onReset(errorCode: bigint): void {
    if (!this.readDone) this.failRead(new QuicError('ERR_QUIC_STREAM_RESET', { errorCode }));
  }

  /** @internal The peer asked us to stop sending: the engine already reset our sending part. */
  onStopSending(errorCode: bigint): void {
    this.failWrite(new QuicError('ERR_QUIC_STREAM_STOPPED', { errorCode }));
  }

  /** @internal The engine forgot the stream. */
  onClosed(): void {
    this.gone = true;
    this.signalCleanup?.();
    this.signalCleanup = null;
  }

  /** @internal The connection ended: hand over what the engine still holds, then fail with `err`. */
  onConnectionClosed(err: QuicError): void {
    this.signalCleanup?.();
    this.signalCleanup = null;
    if (!this.readDone) {
      if (this.rc === null) this.readTerminal = err;
      else {
        this.pump(true);
        if (!this.readDone) this.failRead(err);
      }
    }
    this.failWrite(err);
  }
}
