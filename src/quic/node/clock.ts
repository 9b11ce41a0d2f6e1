/**
 * The adapter's clock, given to the engine as `now` everywhere: milliseconds
 * since the Unix epoch, monotonic within the process
 * (`performance.timeOrigin + performance.now()`).
 *
 * Why not `performance.now()` alone: it restarts at 0 in every process, and
 * session tickets carry times from one process to the next. A client that
 * stores a ticket and resumes from a new process reports the ticket's age
 * (RFC 8446 section 4.2.11.1) from its own clock, and the server checks it
 * against its own to refuse stale 0-RTT (section 8.3): both clocks must mean
 * the same thing. A double holds epoch milliseconds to ~0.25 µs.
 */
import { performance } from 'node:perf_hooks';

export function clock(): number {
  return performance.timeOrigin + performance.now();
}
