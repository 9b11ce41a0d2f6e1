import { ParseError, UsageError } from './errors.js';
import { INCOMPLETE, Source, type Incomplete, type SourceOptions } from './source.js';
import type { Writer } from './writer.js';

/**
 * What a suspended parser yields: how many more bytes it needs, 0 when unknown.
 * Parsers never yield anything else.
 */
export type Needed = number;

/** The generator type of a resumable parser body. `yield*` a Parser inside it to read. */
export type ParseGen<T> = Generator<Needed, T, undefined>;

/**
 * The Source that generator parsers read from. A driver sets it around each
 * resumption and restores the previous one afterwards, so drivers nest.
 */
let active: Source | null = null;

/** @internal */
export function activeSource(): Source {
  if (active === null) throw new UsageError('a generator parser was resumed outside a driver (use Decoder, parse or parseAll)');
  return active;
}

/** @internal Runs `it.next()` with `src` as the active Source. */
export function resume<T>(it: Iterator<Needed, T, undefined>, src: Source): IteratorResult<Needed, T> {
  const prev = active;
  active = src;
  try {
    return it.next();
  } finally {
    active = prev;
  }
}

/**
 * A parser. Every parser has two paths over a {@link Source}:
 *
 * - `readFast(src)`: atomic. Returns the value when the buffered bytes
 *   suffice, else INCOMPLETE with the Source unchanged (`src.needed` says how
 *   many more bytes would help). This is the path taken whenever the bytes are
 *   already buffered, and it costs no generator round trip.
 * - `readSlow(src)`: resumable. An iterator that yields how many more bytes it
 *   needs and returns the value; drivers use it when the fast path ran short.
 *
 * Inside a generator parser (see {@link gen}) any parser is read with
 * `yield* parser`, which tries the fast path first.
 *
 * Both paths raise {@link ParseError} for bad input. In complete mode (the
 * Source is ended) running short is the error ERR_UNEXPECTED_END.
 */
export abstract class Parser<T> implements Iterable<Needed, T, undefined> {
  /** Name used in errors ("expected u16be at offset 12"). */
  readonly name: string;
  /** Encoded size when it is the same for every value, else -1. */
  readonly fixedSize: number;
  /**
   * True when the parser keeps state across suspensions (a generator body):
   * drivers run it through `readSlow` from the start instead of retrying
   * `readFast`.
   */
  readonly resumable: boolean;

  /** @internal the stateless iterator `yield* parser` uses (created on first use) */
  sharedIterator: Iterator<Needed, T, undefined> | undefined;

  constructor(name: string, fixedSize = -1, resumable = false) {
    this.sharedIterator = undefined;
    this.name = name;
    this.fixedSize = fixedSize;
    this.resumable = resumable;
  }

  abstract readFast(src: Source): T | Incomplete;

  readSlow(src: Source): Iterator<Needed, T, undefined> {
    return retryIterator(this, src);
  }

  /** For `yield* parser` inside a generator parser: reads from the active Source. */
  [Symbol.iterator](): Iterator<Needed, T, undefined> {
    return retryIterator(this, null);
  }

  /**
   * Serializes `value` the way this parser reads it. Parsers built from parts
   * that cannot encode (a `map` without an inverse, a generator body) raise
   * ERR_USAGE.
   */
  write(w: Writer, value: T): void {
    void w;
    void value;
    throw new UsageError(`parser ${this.name} has no encoder`);
  }

  /** A parser for `fn(value)`; `unmap` (the inverse) gives it an encoder too. */
  map<U>(fn: (value: T) => U, unmap?: (value: U) => T): Parser<U> {
    return new MapParser(this, fn, unmap);
  }
}

type Result<T> = { done: boolean; value: T | Needed };

/**
 * A stateless iterator that retries an atomic fast path: safe to share
 * between suspended generators because it keeps nothing between calls.
 */
class RetryIterator<T> implements Iterator<Needed, T, undefined> {
  private readonly result: Result<T> = { done: false, value: 0 };
  constructor(
    private readonly parser: Parser<T>,
    private readonly src: Source | null,
  ) {}
  next(): IteratorResult<Needed, T> {
    const s = this.src ?? activeSource();
    const v = this.parser.readFast(s);
    const r = this.result;
    if (v === INCOMPLETE) {
      r.done = false;
      r.value = s.needed;
    } else {
      r.done = true;
      r.value = v;
    }
    // The result object is reused: `yield*` and drivers read it at once.
    return r as IteratorResult<Needed, T>;
  }
}

/** The parser's shared `yield*` iterator lives on the parser itself (no side table to look up or collect). */
function retryIterator<T>(parser: Parser<T>, src: Source | null): Iterator<Needed, T, undefined> {
  if (src !== null) return new RetryIterator(parser, src);
  let it = parser.sharedIterator as RetryIterator<T> | undefined;
  if (it === undefined) {
    it = new RetryIterator(parser, null);
    parser.sharedIterator = it;
  }
  return it;
}

class MapParser<A, B> extends Parser<B> {
  constructor(
    private readonly inner: Parser<A>,
    private readonly fn: (value: A) => B,
    private readonly unmap: ((value: B) => A) | undefined,
  ) {
    super(inner.name, inner.fixedSize, inner.resumable);
  }
  readFast(src: Source): B | Incomplete {
    const v = this.inner.readFast(src);
    return v === INCOMPLETE ? INCOMPLETE : this.fn(v);
  }
  override readSlow(src: Source): Iterator<Needed, B, undefined> {
    return this.resumable ? this.mapSlow(src) : super.readSlow(src);
  }
  private *mapSlow(src: Source): ParseGen<B> {
    const it = this.inner.readSlow(src);
    for (;;) {
      const r = resume(it, src);
      if (r.done) return this.fn(r.value);
      yield r.value;
    }
  }
  override [Symbol.iterator](): Iterator<Needed, B, undefined> {
    return this.resumable ? this.mapSlow(activeSource()) : super[Symbol.iterator]();
  }
  override write(w: Writer, value: B): void {
    if (this.unmap === undefined) super.write(w, value);
    else this.inner.write(w, this.unmap(value));
  }
}

/**
 * A parser written as straight-line generator code:
 *
 * ```ts
 * const record = gen('record', function* () {
 *   const type = yield* u8;
 *   const length = yield* varint;
 *   const body = yield* bytes(length);
 *   return { type, body };
 * });
 * ```
 *
 * The body suspends wherever the input runs short and resumes when more is
 * fed. Each run costs one generator (~25 ns) plus a cheap `yield*` per field,
 * so for hot fixed layouts prefer {@link struct}, which has no generator.
 */
export function gen<T>(name: string, body: () => ParseGen<T>): Parser<T> {
  return new GenParser(name, body);
}

class GenParser<T> extends Parser<T> {
  constructor(
    name: string,
    private readonly body: () => ParseGen<T>,
  ) {
    super(name, -1, true);
  }
  /** Atomic attempt: runs the body and rolls the Source back if it suspends. */
  readFast(src: Source): T | Incomplete {
    const m = src.mark();
    let r: IteratorResult<Needed, T>;
    try {
      r = resume(this.body(), src);
    } catch (e) {
      src.reset(m);
      throw e;
    }
    if (r.done) {
      src.commit();
      return r.value;
    }
    src.reset(m);
    src.needed = r.value;
    return INCOMPLETE;
  }
  override readSlow(src: Source): Iterator<Needed, T, undefined> {
    void src;
    return this.body();
  }
  override [Symbol.iterator](): Iterator<Needed, T, undefined> {
    return this.body();
  }
}

/** The driver wants more input. `needed` is the byte count when known. */
export const NEED_READ: unique symbol = Symbol('NEED_READ');
/** The Source is ended and fully consumed at a value boundary. */
export const END: unique symbol = Symbol('END');
export type NeedRead = typeof NEED_READ;
export type End = typeof END;

/** One result of {@link Decoder.step}. */
export type Step<T> =
  | { readonly type: 'value'; readonly value: T }
  | { readonly type: 'need-read'; /** more bytes needed, when known */ readonly needed: number | undefined }
  | { readonly type: 'end' }
  | { readonly type: 'error'; readonly error: ParseError };

/**
 * Streaming driver: runs `parser` again and again over a Source that is fed
 * as bytes arrive.
 *
 * ```ts
 * const d = new Decoder(record);
 * d.feed(chunk);
 * for (let v = d.read(); v !== NEED_READ && v !== END; v = d.read()) handle(v);
 * ```
 *
 * After a ParseError the decoder is failed and every call raises that error.
 * Whatever a finished parse did not consume stays in `source` for the next
 * parser (another Decoder on the same Source, or `source.takeRest()`).
 */
export class Decoder<T> {
  readonly source: Source;
  /** After NEED_READ: how many more bytes are needed (undefined when unknown). */
  needed: number | undefined = undefined;
  private it: Iterator<Needed, T, undefined> | null = null;
  private failure: ParseError | null = null;
  /** Source position where the suspended generator (`it`) started its value. */
  private valueStart = 0;

  constructor(
    private readonly parser: Parser<T>,
    source: Source | SourceOptions = {},
  ) {
    this.source = source instanceof Source ? source : new Source(source);
  }

  feed(chunk: Uint8Array): void {
    this.source.feed(chunk);
  }

  end(): void {
    this.source.end();
  }

  /**
   * True when a value is partly parsed: a generator parser is suspended and
   * has consumed bytes of it (a parser that stopped before its first byte is
   * not in progress: ending the input there is a clean END).
   */
  get inProgress(): boolean {
    return this.it !== null && this.source.position !== this.valueStart;
  }

  /** The next value, NEED_READ, or END. Raises ParseError on bad input. */
  read(): T | NeedRead | End {
    if (this.failure !== null) throw this.failure;
    const s = this.source;
    try {
      if (this.it === null) {
        if (s.ended && s.buffered === 0) return END;
        // Fast path first, for every parser: when the value is buffered no generator is created.
        const v = this.parser.readFast(s);
        if (v !== INCOMPLETE) return v;
        if (!this.parser.resumable) {
          this.needed = s.needed === 0 ? undefined : s.needed;
          return NEED_READ;
        }
        // Ran short: continue in the resumable path, which keeps its state across feeds.
        this.valueStart = s.position;
        this.it = this.parser.readSlow(s);
      } else if (s.ended && s.buffered === 0 && s.position === this.valueStart) {
        // The input ended at a value boundary before the suspended parser consumed anything: a clean end.
        this.it = null;
        return END;
      }
      const r = resume(this.it, s);
      if (r.done) {
        this.it = null;
        return r.value;
      }
      this.needed = r.value === 0 ? undefined : r.value;
      return NEED_READ;
    } catch (e) {
      if (e instanceof ParseError) this.failure = e;
      throw e;
    }
  }

  /** Like `read`, as a discriminated union that never throws a ParseError. */
  step(): Step<T> {
    try {
      const v = this.read();
      if (v === NEED_READ) return { type: 'need-read', needed: this.needed };
      if (v === END) return { type: 'end' };
      return { type: 'value', value: v };
    } catch (e) {
      if (e instanceof ParseError) return { type: 'error', error: e };
      throw e;
    }
  }

  /** Every value parseable from what is buffered now. Stops at NEED_READ or END. */
  *drain(): Generator<T, void, undefined> {
    for (;;) {
      const v = this.read();
      if (v === NEED_READ || v === END) return;
      yield v;
    }
  }
}

export interface CompleteOptions {
  /** Allow bytes after the value (default false: ERR_TRAILING_BYTES). */
  readonly allowTrailing?: boolean;
}

/** Runs `parser` to completion on a Source that will get no more input. */
export function runComplete<T>(parser: Parser<T>, src: Source): T {
  const v = parser.readFast(src);
  return v !== INCOMPLETE ? v : runCompleteSlow(parser, src);
}

/** Kept apart so `runComplete` stays small enough to inline into a caller's loop. */
function runCompleteSlow<T>(parser: Parser<T>, src: Source): T {
  // Only a generator parser can get here (an ended Source makes fast paths throw).
  const it = parser.readSlow(src);
  const r = resume(it, src);
  if (r.done) return r.value;
  throw new ParseError('ERR_UNEXPECTED_END', src.position, parser.name);
}

/**
 * Complete mode: parses one value from a whole buffer (a datagram, a file).
 * Running out of bytes is ERR_UNEXPECTED_END; leftover bytes are
 * ERR_TRAILING_BYTES unless `allowTrailing`.
 */
export function parse<T>(parser: Parser<T>, bytes: Uint8Array, options: CompleteOptions = {}): T {
  const src = Source.complete(bytes);
  const v = runComplete(parser, src);
  if (!options.allowTrailing && src.buffered > 0) {
    throw new ParseError('ERR_TRAILING_BYTES', src.position, 'end of input', `${src.buffered} bytes left`);
  }
  return v;
}

/** Complete mode: parses values back to back until the buffer ends exactly. */
export function parseAll<T>(parser: Parser<T>, bytes: Uint8Array): T[] {
  const src = Source.complete(bytes);
  const out: T[] = [];
  while (src.buffered > 0) out.push(runComplete(parser, src));
  return out;
}
