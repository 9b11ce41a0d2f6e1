/**
 * Node adapter: runs a Session on a `net.Socket` or any `stream.Duplex`.
 *
 * Optimistic, as DESIGN.md asks: it polls and writes at once, and waits only
 * when told to: for input on need-read, for 'drain' when `write()` returned
 * false. Backpressure both ways:
 * - output: after `write()` returns false it stops polling until 'drain';
 * - input: while it is not polling (waiting for 'drain') it pauses the
 *   socket once the session holds more than `highWaterMark` unconsumed
 *   bytes, and resumes it when the session asks for input again. It never
 *   pauses while the session asks for input (a record larger than the mark
 *   must still be able to arrive); the session's `maxBuffered` bounds that.
 */
import type { Duplex } from 'node:stream';
import { UsageError } from '../combinators/index.js';
import type { SessionError } from './errors.js';
import type { Session } from './session.js';

export interface DuplexOptions<E> {
  /** Receives each event, synchronously, in order. It may call `session.send` / `switchTo`. */
  readonly onEvent?: (event: E) => void;
  readonly onSwitched?: (from: string, to: string) => void;
  /** See the module documentation. Default 1 MiB. */
  readonly highWaterMark?: number;
  /** End the socket's writable side when the session is done (default true). */
  readonly endOnDone?: boolean;
  /** Destroy the socket when the session fails (default true). */
  readonly destroyOnError?: boolean;
}

/** How the session ended: its last phase finished, or the socket closed first. */
export type DuplexOutcome = 'done' | 'closed';

export interface DuplexAttachment {
  /** Settles when the session is done or the socket closed; rejects with the session's error or the socket's. */
  readonly finished: Promise<DuplexOutcome>;
  /** Polls now. Not needed after `send`/`switchTo` (the session wakes the adapter itself). */
  pump(): void;
  /** Stops driving the session; listeners are removed, the socket is left as it is. */
  detach(): void;
}

const DEFAULT_HIGH_WATER = 1024 * 1024;

/** Drives `session` over `socket` until it is done, fails, or the socket closes. */
export function attachDuplex<E>(session: Session<E>, socket: Duplex, options: DuplexOptions<E> = {}): DuplexAttachment {
  const highWater = options.highWaterMark ?? DEFAULT_HIGH_WATER;
  const endOnDone = options.endOnDone ?? true;
  const destroyOnError = options.destroyOnError ?? true;
  let settled = false;
  let waitingDrain = false;
  let pumping = false;
  let again = false;
  let scheduled = false;
  /** The socket closed: output from the last polls (a phase finishing on end of input) has nowhere to go. */
  let closed = false;
  let resolveFinished!: (o: DuplexOutcome) => void;
  let rejectFinished!: (e: unknown) => void;
  const finished = new Promise<DuplexOutcome>((res, rej) => {
    resolveFinished = res;
    rejectFinished = rej;
  });
  // A caller that only awaits some other promise must not get an unhandled rejection from here.
  finished.catch(() => undefined);

  const settle = (outcome: DuplexOutcome | { error: unknown }): void => {
    if (settled) return;
    settled = true;
    detach();
    if (typeof outcome === 'string') resolveFinished(outcome);
    else rejectFinished(outcome.error);
  };

  const fail = (error: SessionError): void => {
    if (destroyOnError) socket.destroy();
    settle({ error });
  };

  const pump = (): void => {
    if (settled) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    let wantsInput = false;
    try {
      do {
        again = false;
        wantsInput = false;
        while (!settled && !waitingDrain) {
          const r = session.poll();
          if (r.type === 'need-write') {
            if (!closed && !socket.write(r.data)) waitingDrain = true;
          } else if (r.type === 'event') {
            options.onEvent?.(r.event);
          } else if (r.type === 'switched') {
            options.onSwitched?.(r.from, r.to);
          } else if (r.type === 'need-read') {
            if (socket.readableEnded && session.source.ended) {
              throw new UsageError(`phase ${session.phase ?? '?'} asked for input after the input ended`);
            }
            wantsInput = true;
            break;
          } else if (r.type === 'done') {
            if (endOnDone && !closed) socket.end();
            settle('done');
          } else if (r.type === 'error') {
            fail(r.error);
          } else {
            const never: never = r;
            throw new Error(`unknown poll result ${String(never)}`);
          }
        }
      } while (again && !settled && !waitingDrain);
    } catch (e) {
      socket.destroy();
      settle({ error: e });
    } finally {
      pumping = false;
    }
    if (settled) return;
    if (wantsInput) {
      if (socket.isPaused()) socket.resume();
    } else if (session.buffered > highWater && !socket.isPaused()) {
      socket.pause();
    }
  };

  const onData = (chunk: unknown): void => {
    if (!(chunk instanceof Uint8Array)) {
      socket.destroy();
      settle({ error: new UsageError('attachDuplex: the stream delivers strings (do not call setEncoding)') });
      return;
    }
    session.receive(chunk);
    pump();
  };
  const onEnd = (): void => {
    session.end();
    pump();
  };
  const onDrain = (): void => {
    waitingDrain = false;
    pump();
  };
  const onError = (e: unknown): void => settle({ error: e });
  const onClose = (): void => {
    if (settled) return;
    closed = true;
    // Let the phase see the end of input (it may finish cleanly), then report a close.
    session.end();
    pump();
    settle('closed');
  };
  const wake = (): void => {
    if (scheduled || settled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      pump();
    });
  };

  function detach(): void {
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('drain', onDrain);
    socket.off('error', onError);
    socket.off('close', onClose);
    if (session.onWake === wake) session.onWake = null;
  }

  if (session.onWake !== null) throw new UsageError('attachDuplex: the session already has a driver');
  session.onWake = wake;
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('drain', onDrain);
  socket.on('error', onError);
  socket.on('close', onClose);
  // Optimistic start: a phase that writes first (a client greeting) writes now.
  queueMicrotask(pump);
  return {
    finished,
    pump,
    detach: () => {
      if (settled) return;
      settled = true;
      detach();
    },
  };
}
