/**
 * Test helpers for the mini-protocol layer: a split driver (test/support/splits.ts) that runs a
 * Session, and a collector that runs a session over chunks and gathers what it says.
 */
import assert from 'node:assert/strict';
import type { SplitDriver } from '../support/splits.js';
import type { PollResult, Session, SessionError } from '../../src/miniproto/index.js';

/**
 * A split driver over a fresh session from `make()`: after each chunk it polls until need-read (or until
 * `want` values are out, so trailing bytes stay in the Source), and turns events into values with
 * `pick` (undefined: not a value). need-write results are ignored; an error result throws its error;
 * `done` stops polling. `needed()` is the last need-read's `needed`.
 */
export function sessionDriver<E, V>(make: () => Session<E>, pick: (event: E) => V | undefined): SplitDriver<V> {
  return (want) => {
    const session = make();
    let got = 0;
    let needed: number | undefined;
    let finished = false;
    const pull = (): V[] => {
      const out: V[] = [];
      for (let guard = 0; got < want && !finished; guard++) {
        assert.ok(guard < 1_000_000, 'sessionDriver: poll made no progress');
        const r: PollResult<E> = session.poll();
        if (r.type === 'need-read') {
          needed = r.needed;
          break;
        }
        if (r.type === 'error') throw r.error;
        if (r.type === 'done') {
          finished = true;
          break;
        }
        if (r.type === 'event') {
          const v = pick(r.event);
          if (v !== undefined) {
            out.push(v);
            got++;
          }
        }
      }
      return out;
    };
    return {
      feed(chunk) {
        session.receive(chunk);
        return pull();
      },
      end() {
        session.end();
        return pull();
      },
      needed: () => needed,
      rest: () => session.source.takeRest(),
    };
  };
}

/** Everything a session said while fed `chunks` (then end() if `end`), until done / error / need-read after the input. */
export interface Transcript<E> {
  readonly events: E[];
  readonly written: Uint8Array[];
  readonly switched: string[];
  readonly final: PollResult<E>;
}

export function drive<E>(session: Session<E>, chunks: readonly Uint8Array[], options: { end?: boolean } = {}): Transcript<E> {
  const events: E[] = [];
  const written: Uint8Array[] = [];
  const switched: string[] = [];
  const poll = (): PollResult<E> => {
    for (let guard = 0; ; guard++) {
      assert.ok(guard < 10_000_000, 'drive: poll made no progress');
      const r = session.poll();
      if (r.type === 'event') events.push(r.event);
      else if (r.type === 'need-write') written.push(r.data);
      else if (r.type === 'switched') switched.push(`${r.from}->${r.to}`);
      else return r;
    }
  };
  let final = poll();
  for (const c of chunks) {
    if (final.type !== 'need-read') break;
    session.receive(c);
    final = poll();
  }
  if (options.end && final.type === 'need-read') {
    session.end();
    final = poll();
  }
  return { events, written, switched, final };
}

/** Asserts that `r` is an error result with `code`, and returns the error. */
export function expectError<E>(r: PollResult<E>, code: string): SessionError {
  assert.equal(r.type, 'error', `expected an error ${code}, got ${r.type}`);
  if (r.type !== 'error') throw new Error('unreachable');
  assert.equal(r.error.code, code, `expected ${code}, got ${r.error.code}: ${r.error.message}`);
  return r.error;
}

/** `bytes` cut into chunks of `size`. */
export function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; o += size) out.push(bytes.subarray(o, o + size));
  return out;
}
