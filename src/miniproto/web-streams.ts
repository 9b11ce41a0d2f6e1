/**
 * Web Streams adapter: runs a Session over a ReadableStream / WritableStream
 * pair (a browser WebTransport or fetch-upgrade stream, Deno/Bun sockets,
 * Node's `Duplex.toWeb`). Portable: it uses only the global stream types.
 *
 * Optimistic: it writes while the writer's `desiredSize` is positive and
 * awaits `writer.ready` only when the sink's queue is full (backpressure);
 * it reads only when the session says need-read. A `session.send` or
 * `switchTo` while it waits for input wakes it (queued output goes out
 * without waiting for the peer to speak).
 */
import { UsageError } from '../combinators/index.js';
import type { Session } from './session.js';

export interface WebStreamsOptions<E> {
  /** Receives each event, in order. It may call `session.send` / `switchTo`. */
  readonly onEvent?: (event: E) => void;
  readonly onSwitched?: (from: string, to: string) => void;
  /** Close the writable stream when the session is done (default true). */
  readonly closeOnDone?: boolean;
}

export interface WebStreamPair {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

/** 'done': the last phase finished; 'closed': the readable side ended and the phase chain finished with it. */
export type WebStreamsOutcome = 'done' | 'closed';

const WOKEN = Symbol('woken');

/**
 * Drives `session` over `streams` until it is done or fails. Resolves with
 * how it ended; rejects with the session's typed error (after cancelling
 * the readable and aborting the writable with it) or a stream error. The
 * streams are locked while it runs and released afterwards.
 */
export async function runWebStreams<E>(
  session: Session<E>,
  streams: WebStreamPair,
  options: WebStreamsOptions<E> = {},
): Promise<WebStreamsOutcome> {
  if (session.onWake !== null) throw new UsageError('runWebStreams: the session already has a driver');
  const reader = streams.readable.getReader();
  const writer = streams.writable.getWriter();
  let pendingRead: ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']> | null = null;
  let wakeUp: (() => void) | null = null;
  let woken = false;
  const failed: { write: { error: unknown } | null } = { write: null };
  let inputEnded = false;
  session.onWake = () => {
    woken = true;
    wakeUp?.();
  };
  const noteWriteError = (error: unknown): void => {
    failed.write ??= { error };
  };
  try {
    for (;;) {
      if (failed.write !== null) throw failed.write.error;
      woken = false;
      const r = session.poll();
      switch (r.type) {
        case 'need-write':
          if (writer.desiredSize !== null && writer.desiredSize <= 0) await writer.ready;
          // Not awaited: completion is the sink's business; failures come back through noteWriteError / ready.
          writer.write(r.data).catch(noteWriteError);
          break;
        case 'event':
          options.onEvent?.(r.event);
          break;
        case 'switched':
          options.onSwitched?.(r.from, r.to);
          break;
        case 'need-read': {
          if (inputEnded) throw new UsageError(`phase ${session.phase ?? '?'} asked for input after the input ended`);
          if (woken) break;
          pendingRead ??= reader.read();
          const wake = new Promise<typeof WOKEN>((res) => {
            wakeUp = () => res(WOKEN);
          });
          const got = await Promise.race([pendingRead, wake]);
          wakeUp = null;
          if (got === WOKEN) break;
          pendingRead = null;
          if (got.done) {
            inputEnded = true;
            session.end();
          } else {
            session.receive(got.value);
          }
          break;
        }
        case 'done': {
          if (options.closeOnDone ?? true) await writer.close();
          return inputEnded ? 'closed' : 'done';
        }
        case 'error':
          await Promise.allSettled([reader.cancel(r.error), writer.abort(r.error)]);
          throw r.error;
        default: {
          const never: never = r;
          throw new Error(`unknown poll result ${String(never)}`);
        }
      }
    }
  } finally {
    session.onWake = null;
    reader.releaseLock();
    writer.releaseLock();
  }
}
