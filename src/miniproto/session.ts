/**
 * Phases and the Session that runs them: the sans-I/O core of the
 * mini-protocol layer.
 *
 * A real protocol is a chain of mini-protocols (a line handshake, then
 * length-delimited records; an HTTP/1.1 upgrade, then WebSocket frames). Each
 * link is a {@link Phase}: straight-line generator code over a {@link PhaseIO}
 * that reads with any combinator `Parser`, writes bytes, emits events for the
 * application and returns the next phase. All phases of a session read one
 * shared `Source`, so the bytes a phase did not consume are exactly where the
 * next phase starts: nothing is lost, duplicated or copied at a switch.
 *
 * ```ts
 * const greeting = phase<Greeting>('greeting', function* (io) {
 *   yield* io.write(encodeHello());                 // need-write
 *   const text = yield* io.read(line({ max: 512 })); // need-read while short
 *   yield* io.emit({ type: 'greeting', text });      // an event
 *   return records;                                  // the next phase (null: done)
 * });
 * ```
 */
import { Decoder, END, INCOMPLETE, NEED_READ, ParseError, Source, UsageError, type Parser, type Incomplete } from '../combinators/index.js';
import { isSessionError, type SessionError } from './errors.js';

/** What a phase yields (via `io.read` / `io.write` / `io.emit`); `Session.poll` hands it to the driver as is. */
export type PhaseOutput<E> = NeedRead | NeedWrite | EventResult<E>;

/**
 * More input is needed before anything else can happen: feed it with
 * `receive` (or call `end`), then poll again. `needed` is the number of
 * further bytes that will let the phase make progress, when it is known.
 */
export interface NeedRead {
  readonly type: 'need-read';
  readonly needed?: number;
}

/**
 * Bytes to send, in order, before anything else the session says. The
 * result is consumed when it is returned: the bytes now belong to the
 * caller, the session keeps no reference and never writes to them again, and
 * the next `poll` goes on without waiting for a `written` acknowledgement. A
 * driver that cannot send at once (a full socket buffer) simply stops
 * polling until it can: that is the backpressure.
 */
export interface NeedWrite {
  readonly type: 'need-write';
  readonly data: Uint8Array;
}

/** Something for the application (a record, a parsed head, a reply). */
export interface EventResult<E> {
  readonly type: 'event';
  readonly event: E;
}

/** A phase returned its successor (informational; the new phase runs on the next poll). */
export interface Switched {
  readonly type: 'switched';
  readonly from: string;
  readonly to: string;
}

/** The last phase returned null. Unconsumed input is still in `session.source`. */
export interface Done {
  readonly type: 'done';
}

/** The peer broke the protocol; the session is failed and every later poll returns this same result. */
export interface ErrorResult {
  readonly type: 'error';
  readonly error: SessionError;
}

/** One result of {@link Session.poll}. Match it exhaustively on `type`. */
export type PollResult<E> = PhaseOutput<E> | Switched | Done | ErrorResult;

/**
 * The generator a phase body is: it yields outputs through `yield* io.…`
 * and returns the next phase, or null when the session is done.
 */
export type PhaseGen<E> = Generator<PhaseOutput<E>, Phase<E> | null, undefined>;

/** One mini-protocol: a name (for `switched` results and errors) and a body run over a session's {@link PhaseIO}. */
export interface Phase<E> {
  readonly name: string;
  /**
   * While this phase runs, bytes the application queues with
   * `session.send` are held back (a handshake: application data may only go
   * out after it). The driver is told need-read instead, so it never guesses.
   */
  readonly holdOutput: boolean;
  run(io: PhaseIO<E>): PhaseGen<E>;
}

export interface PhaseOptions {
  /** See {@link Phase.holdOutput}. Default false. */
  readonly holdOutput?: boolean;
}

/** Makes a phase from a generator body. */
export function phase<E>(name: string, body: (io: PhaseIO<E>) => PhaseGen<E>, options: PhaseOptions = {}): Phase<E> {
  return { name, holdOutput: options.holdOutput ?? false, run: body };
}

/** An operation used with `yield*` inside a phase body; its value is what `yield*` returns. */
export type PhaseOp<E, T> = Iterable<PhaseOutput<E>, T, undefined>;

/**
 * What a phase body works with. Use each operation at once with `yield*`:
 * `const v = yield* io.read(p)`. The operation objects are reused, so do not
 * keep one to use later.
 */
export interface PhaseIO<E> {
  /**
   * The session's shared input. Hot record loops call `parser.readFast(io.source)`
   * directly (no generator round trip per record) and `yield* io.more()` when
   * it returns INCOMPLETE.
   */
  readonly source: Source;
  /** True when the input has ended and every byte of it was consumed: a clean end at a record boundary. */
  readonly eof: boolean;
  /**
   * Reads one value with `parser`: its fast path first, and need-read results
   * only while the input is short (a generator parser then resumes where it
   * stopped). Raises the parser's ParseError on bad input (the session turns
   * it into an `error` result).
   */
  read<T>(parser: Parser<T>): PhaseOp<E, T>;
  /** Yields one need-write result: `data` goes to the driver without a copy (do not modify it afterwards). */
  write(data: Uint8Array): PhaseOp<E, void>;
  /** Yields one event result. */
  emit(event: E): PhaseOp<E, void>;
  /**
   * Yields one need-read result (with `source.needed` when known): for
   * readFast loops that got INCOMPLETE. When the input has ended it raises
   * ERR_UNEXPECTED_END instead, since nothing more can come.
   */
  more(): PhaseOp<E, void>;
  /**
   * The next `n` bytes, consumed: a zero-copy view when they lie in one fed
   * chunk, else an owned copy; INCOMPLETE (nothing consumed, `source.needed`
   * set) when fewer are buffered. Raises ERR_BUFFER_LIMIT when `n` is more
   * than the Source may ever hold, and ERR_UNEXPECTED_END after `end()`.
   */
  take(n: number): Uint8Array | Incomplete;
}

// ---------------------------------------------------------------- operations

/** The reused iterator result of a finished operation (read at once by `yield*`). */
interface Finished {
  done: true;
  value: unknown;
}

function needRead(needed: number | undefined): NeedRead {
  return needed !== undefined && needed > 0 ? { type: 'need-read', needed } : { type: 'need-read' };
}

/** `io.read(parser)`: fast path, then a Decoder over the same Source while short. */
class ReadOp<E> implements Iterator<PhaseOutput<E>, unknown, undefined> {
  parser: Parser<unknown> | null = null;
  /** Set while a generator parser is suspended part-way through a value. */
  slow: Decoder<unknown> | null = null;
  /** Source position where the pending read started. */
  private start = 0;
  private readonly finished: Finished = { done: true, value: undefined };
  constructor(private readonly src: Source) {}
  [Symbol.iterator](): this {
    return this;
  }
  arm(parser: Parser<unknown>): this {
    if (this.parser !== null)
      throw new UsageError('io.read(): the previous read has not finished (use each operation at once with yield*)');
    this.parser = parser;
    return this;
  }
  next(): IteratorResult<PhaseOutput<E>, unknown> {
    const p = this.parser;
    if (p === null) throw new UsageError('io.read(): operation used twice');
    const s = this.src;
    let v: unknown;
    try {
      if (this.slow === null) {
        if (s.ended && s.buffered === 0) throw new ParseError('ERR_UNEXPECTED_END', s.position, p.name);
        v = p.readFast(s);
        if (v === INCOMPLETE) {
          // An atomic parser left the Source as it was: wait and retry. A
          // generator parser resumes from where it stops in a Decoder.
          if (!p.resumable) return { done: false, value: needRead(s.needed) };
          this.slow = new Decoder(p, s);
          this.start = s.position;
        }
      }
      if (this.slow !== null) {
        v = this.slow.read();
        if (v === NEED_READ) return { done: false, value: needRead(this.slow.needed) };
        if (v === END) throw new ParseError('ERR_UNEXPECTED_END', s.position, p.name);
        this.slow = null;
      }
    } catch (e) {
      this.parser = null;
      this.slow = null;
      throw e;
    }
    this.parser = null;
    const f = this.finished;
    f.value = v;
    return f as IteratorResult<PhaseOutput<E>, unknown>;
  }
  return(): IteratorResult<PhaseOutput<E>, unknown> {
    // The phase was abandoned (switchTo) while this read was pending.
    this.parser = null;
    this.slow = null;
    return { done: true, value: undefined };
  }
  /** True when a generator parser has consumed part of a value. */
  get midValue(): boolean {
    return this.slow !== null && this.slow.inProgress && this.src.position !== this.start;
  }
}

/** An operation that yields one prepared output, then finishes. */
class OnceOp<E> implements Iterator<PhaseOutput<E>, void, undefined> {
  private out: PhaseOutput<E> | null = null;
  private fired = false;
  private readonly finished: Finished = { done: true, value: undefined };
  constructor(private readonly what: string) {}
  [Symbol.iterator](): this {
    return this;
  }
  arm(out: PhaseOutput<E>): this {
    if (this.out !== null)
      throw new UsageError(`io.${this.what}(): the previous ${this.what} has not finished (use each operation at once with yield*)`);
    this.out = out;
    this.fired = false;
    return this;
  }
  next(): IteratorResult<PhaseOutput<E>, void> {
    const out = this.out;
    if (out === null) throw new UsageError(`io.${this.what}(): operation used twice`);
    if (!this.fired) {
      this.fired = true;
      return { done: false, value: out };
    }
    this.out = null;
    return this.finished as IteratorResult<PhaseOutput<E>, void>;
  }
  return(): IteratorResult<PhaseOutput<E>, void> {
    this.out = null;
    return { done: true, value: undefined };
  }
}

/** `io.more()`: one need-read, or ERR_UNEXPECTED_END when nothing more can come. */
class MoreOp<E> implements Iterator<PhaseOutput<E>, void, undefined> {
  private state = 0; // 0 idle, 1 armed, 2 yielded
  private readonly finished: Finished = { done: true, value: undefined };
  constructor(private readonly src: Source) {}
  [Symbol.iterator](): this {
    return this;
  }
  arm(): this {
    if (this.state !== 0) throw new UsageError('io.more(): the previous more() has not finished (use each operation at once with yield*)');
    this.state = 1;
    return this;
  }
  next(): IteratorResult<PhaseOutput<E>, void> {
    if (this.state === 1) {
      const s = this.src;
      if (s.ended) {
        this.state = 0;
        throw new ParseError('ERR_UNEXPECTED_END', s.position, 'more input', `${s.buffered} bytes left`);
      }
      this.state = 2;
      return { done: false, value: needRead(s.needed) };
    }
    this.state = 0;
    return this.finished as IteratorResult<PhaseOutput<E>, void>;
  }
  return(): IteratorResult<PhaseOutput<E>, void> {
    this.state = 0;
    return { done: true, value: undefined };
  }
}

class SessionIO<E> implements PhaseIO<E> {
  readonly readOp: ReadOp<E>;
  private readonly writeOp = new OnceOp<E>('write');
  private readonly emitOp = new OnceOp<E>('emit');
  private readonly moreOp: MoreOp<E>;
  constructor(readonly source: Source) {
    this.readOp = new ReadOp<E>(source);
    this.moreOp = new MoreOp<E>(source);
  }
  get eof(): boolean {
    const s = this.source;
    return s.ended && s.buffered === 0;
  }
  read<T>(parser: Parser<T>): PhaseOp<E, T> {
    return this.readOp.arm(parser) as unknown as PhaseOp<E, T>;
  }
  write(data: Uint8Array): PhaseOp<E, void> {
    return this.writeOp.arm({ type: 'need-write', data });
  }
  emit(event: E): PhaseOp<E, void> {
    return this.emitOp.arm({ type: 'event', event });
  }
  more(): PhaseOp<E, void> {
    return this.moreOp.arm();
  }
  take(n: number): Uint8Array | Incomplete {
    // A constant name: a template string here would cost more than the take itself.
    return this.source.take(n, 'io.take');
  }
  /** Forgets pending operations of an abandoned phase. */
  reset(): void {
    this.readOp.return();
    this.writeOp.return();
    this.emitOp.return();
    this.moreOp.return();
  }
}

// ---------------------------------------------------------------- the session

export interface SessionOptions {
  /**
   * Most unconsumed input bytes held (the Source's cap, default 16 MiB).
   * Receiving past it fails the session with ERR_BUFFER_LIMIT, so a peer
   * cannot make it buffer without bound.
   */
  readonly maxBuffered?: number;
  /**
   * Queued `send` chunks smaller than this are joined (one copy) into one
   * need-write of at most this size, so many small writes (a pipeline of
   * commands) cost one system call. Larger chunks go out as they are, without
   * a copy. 0 turns joining off. Default 16 KiB.
   */
  readonly coalesce?: number;
}

const DONE: Done = { type: 'done' };
const DEFAULT_COALESCE = 16 * 1024;

/**
 * Runs a chain of phases over one input Source and one output queue.
 *
 * The contract (sans-I/O; the session never touches a socket or a clock):
 *
 * - Input: `receive(bytes)` as bytes arrive (no copy: do not modify a
 *   received buffer afterwards, views into it may be handed out), `end()` when
 *   the peer closed its side.
 * - Application output: `send(bytes)` queues bytes to go out in order
 *   (held while a `holdOutput` phase runs).
 * - Output: call `poll()` until it returns need-read (or done / error). It
 *   returns queued bytes first (need-write), then resumes the current phase.
 *   Every need-write must be sent, in order. Drivers are optimistic: they poll
 *   first and wait only on need-read (for input) or when their own output
 *   cannot take more.
 * - `switchTo(phase)` replaces the current phase at a record boundary.
 *
 * Events and views handed out borrow the received buffers; see `PhaseIO.take`.
 */
export class Session<E> {
  /** The shared input of every phase. */
  readonly source: Source;
  /**
   * Called when `send` or `switchTo` made work for the driver while it may be
   * waiting for input (a driver sets it to schedule a poll). One driver per session.
   */
  onWake: (() => void) | null = null;

  private current: Phase<E> | null;
  private it: PhaseGen<E> | null = null;
  private readonly io: SessionIO<E>;
  private readonly out: Uint8Array[] = [];
  private outHead = 0;
  private outBytes = 0;
  private readonly coalesce: number;
  private failure: ErrorResult | null = null;
  private broken: unknown = null;
  private running = false;

  constructor(initial: Phase<E>, options: SessionOptions = {}) {
    this.source = new Source(options.maxBuffered === undefined ? {} : { maxBuffered: options.maxBuffered });
    this.io = new SessionIO<E>(this.source);
    this.current = initial;
    this.coalesce = options.coalesce ?? DEFAULT_COALESCE;
  }

  /** Name of the running phase, or null when done. */
  get phase(): string | null {
    return this.current === null ? null : this.current.name;
  }

  /** Unconsumed input bytes held by the Source. */
  get buffered(): number {
    return this.source.buffered;
  }

  /** Bytes queued by `send` and not yet handed out by `poll`. */
  get pendingOutput(): number {
    return this.outBytes;
  }

  /** True after an error result or a thrown local error. */
  get failed(): boolean {
    return this.failure !== null || this.broken !== null;
  }

  /** Feeds input. Never throws for peer-caused problems: a buffer overflow shows up as the next poll's error. */
  receive(bytes: Uint8Array): void {
    if (this.failed) return;
    // A Node Buffer (or another subclass) becomes a plain Uint8Array view, once per chunk: every
    // record view handed out is then a plain subarray (~35 ns) instead of a Buffer one (~53 ns).
    const chunk = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    try {
      this.source.feed(chunk);
    } catch (e) {
      if (!isSessionError(e)) throw e;
      this.failure = { type: 'error', error: e };
    }
  }

  /** The peer will send nothing more. A phase that is part-way through a value then fails with ERR_UNEXPECTED_END. */
  end(): void {
    if (!this.source.ended) this.source.end();
  }

  /** Queues bytes for the peer (no copy). They go out, in order, through need-write results. */
  send(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.out.push(bytes);
    this.outBytes += bytes.length;
    this.onWake?.();
  }

  /**
   * Replaces the current phase (null: done). Call it between polls, at a
   * record boundary: after an event, or while the phase waits for input
   * between values. The abandoned phase's `finally` blocks run. Raises
   * ERR_USAGE when called from inside a phase (return the next phase
   * instead) or while a generator parser is part-way through a value.
   */
  switchTo(next: Phase<E> | null): void {
    if (this.running) throw new UsageError('switchTo() from inside a phase: return the next phase from the phase body instead');
    if (this.io.readOp.midValue) throw new UsageError('switchTo() while a value is part-way parsed: switch at a record boundary');
    const it = this.it;
    this.it = null;
    this.current = next;
    if (it !== null) {
      this.running = true;
      try {
        it.return(null);
      } finally {
        this.running = false;
        this.io.reset();
      }
    }
    this.onWake?.();
  }

  /** The next thing the driver must do or know. See the class documentation. */
  poll(): PollResult<E> {
    if (this.failure !== null) return this.failure;
    if (this.broken !== null) throw this.broken;
    if (this.running) throw new UsageError('poll() from inside a phase');
    const cur = this.current;
    if (this.outHead < this.out.length && (cur === null || !cur.holdOutput)) return this.nextWrite();
    if (cur === null) return DONE;
    this.running = true;
    try {
      let it = this.it;
      if (it === null) it = this.it = cur.run(this.io);
      const r = it.next();
      if (!r.done) return r.value;
      this.it = null;
      const next = r.value;
      this.current = next;
      if (next === null) return this.outHead < this.out.length ? this.nextWrite() : DONE;
      return { type: 'switched', from: cur.name, to: next.name };
    } catch (e) {
      this.it = null;
      this.io.reset();
      if (isSessionError(e)) return (this.failure = { type: 'error', error: e });
      this.broken = e;
      throw e;
    } finally {
      this.running = false;
    }
  }

  /** Dequeues the next need-write, joining small chunks. */
  private nextWrite(): NeedWrite {
    const out = this.out;
    let first = out[this.outHead]!;
    out[this.outHead++] = EMPTY;
    const limit = this.coalesce;
    if (first.length < limit && this.outHead < out.length && out[this.outHead]!.length < limit) {
      let n = first.length;
      let end = this.outHead;
      while (end < out.length && n + out[end]!.length <= limit) n += out[end++]!.length;
      if (end > this.outHead) {
        const joined = new Uint8Array(n);
        joined.set(first, 0);
        let at = first.length;
        for (; this.outHead < end; this.outHead++) {
          const c = out[this.outHead]!;
          joined.set(c, at);
          at += c.length;
          out[this.outHead] = EMPTY;
        }
        first = joined;
      }
    }
    this.outBytes -= first.length;
    if (this.outHead === out.length) {
      out.length = 0;
      this.outHead = 0;
    } else if (this.outHead > 1024 && this.outHead * 2 > out.length) {
      out.splice(0, this.outHead);
      this.outHead = 0;
    }
    return { type: 'need-write', data: first };
  }
}

const EMPTY = new Uint8Array(0);
