/**
 * The synchronous driver: runs a session against blocking-style read and
 * write functions (tests, files, a worker with synchronous I/O).
 */
import type { Done, ErrorResult, Session } from './session.js';

export interface SyncIO<E> {
  /**
   * Returns the next input chunk, or null when the input has ended. `needed`
   * is how many more bytes the session knows it needs (a hint: any non-empty
   * chunk is fine).
   */
  read(needed: number | undefined): Uint8Array | null;
  /** Sends bytes (they belong to the callee). */
  write(data: Uint8Array): void;
  /** Receives each event. */
  event?(event: E): void;
  /** Told of each phase switch. */
  switched?(from: string, to: string): void;
}

/**
 * Polls `session` until it is done or failed, reading only on need-read and
 * writing every need-write at once. Returns the final result (errors are
 * returned, not thrown).
 */
export function runSync<E>(session: Session<E>, io: SyncIO<E>): Done | ErrorResult {
  for (;;) {
    const r = session.poll();
    switch (r.type) {
      case 'need-read': {
        const chunk = io.read(r.needed);
        if (chunk === null) session.end();
        else session.receive(chunk);
        break;
      }
      case 'need-write':
        io.write(r.data);
        break;
      case 'event':
        io.event?.(r.event);
        break;
      case 'switched':
        io.switched?.(r.from, r.to);
        break;
      case 'done':
      case 'error':
        return r;
      default: {
        const never: never = r;
        throw new Error(`unknown poll result ${String(never)}`);
      }
    }
  }
}

/**
 * Runs a session over an input held in memory (complete mode): feeds `input`
 * (whole, or in `chunks` of the given size), ends it, and returns the events,
 * what was written, and the final result.
 */
export function runOnBytes<E>(
  session: Session<E>,
  input: Uint8Array,
  options: { chunk?: number } = {},
): { events: E[]; written: Uint8Array[]; result: Done | ErrorResult } {
  const events: E[] = [];
  const written: Uint8Array[] = [];
  const size = options.chunk ?? Math.max(1, input.length);
  let at = 0;
  const result = runSync(session, {
    read: () => {
      if (at >= input.length) return null;
      const c = input.subarray(at, at + size);
      at += size;
      return c;
    },
    write: (d) => written.push(d),
    event: (e) => events.push(e),
  });
  return { events, written, result };
}
