/**
 * The chunk-split property and the corruption invariant, shared by every streaming parser of the
 * project (DESIGN.md, "Testing and measuring"; STYLE.md habits 6 and 7).
 *
 * ## Chunk splits
 *
 * {@link checkSplits} feeds one fixture (bytes and the values they encode, back to back) to a fresh
 * driver in many ways and checks that every way gives the same values:
 *
 *  (a) the input whole, with and without trailing bytes;
 *  (b) byte by byte: no value may come out before the last byte of that value has arrived, and each
 *      value must come out as soon as it has (the driver reports NEED_READ in between). When the driver
 *      reports how many bytes it still needs, that count must not reach past the end of the value being
 *      parsed (a driver that waits for `needed` bytes must never wait for bytes that are not coming);
 *  (c) every two-way split;
 *  (d) random multi-way splits (fast-check), empty chunks included;
 *  (e) in (a)-(d), trailing bytes follow the fixture; once the expected values are out they must still be
 *      in the driver, unconsumed and unmodified (`rest()` returns exactly them): no over-read.
 *
 * Values are compared with deep strict equality after the run ends, with every byte view (Uint8Array,
 * Buffer) replaced by a plain copy of its content: a value that aliased a reused scratch buffer or a
 * chunk the parser overwrote shows up as a mismatch. Each chunk is fed as its own copy, as a socket
 * would deliver it. Every run is bounded in time, so a parser that loops forever fails instead of
 * hanging the suite.
 *
 * The driver is pluggable. {@link decoderDriver} runs a combinator `Parser` in a `Decoder`; a later layer
 * passes its own {@link SplitDriver} (a mini-protocol phase, a WebSocket connection) that feeds chunks
 * through its own API and collects its own values or events:
 *
 * ```ts
 * checkParserSplits(record, fixture(bytesOfRecord, expectedRecord));          // a combinator parser
 * checkSplits(() => wsSession(), backToBack(fx1, fx2), { trailing: nextProto }); // any feed/poll API
 * ```
 *
 * ## Corruption invariant
 *
 * {@link checkCorruption} runs a decode function on random bytes and on bit flips, byte overwrites,
 * insertions, deletions and truncations of valid fixtures, and checks that each call either returns or
 * raises the project's typed error (a `PullwireError` with a non-empty `code`; `UsageError` does not
 * count, since bad input is never the caller's misuse), and that it terminates. {@link streamingDecode}
 * turns a parser into such a decode function that goes through a Decoder in small chunks.
 */
import assert from 'node:assert/strict';
import vm from 'node:vm';
import fc from 'fast-check';
import { Decoder, END, NEED_READ, ParseError, PullwireError, UsageError, parse, parseAll } from '../../src/combinators/index.js';
import type { Parser, SourceOptions } from '../../src/combinators/index.js';
import { concat, sameBytes, toHex } from './bytes.js';

// ---------------------------------------------------------------------------------------------------
// fixtures

/** Bytes and the values they encode, back to back. `ends[i]` is the offset just past value `i`. */
export interface SplitFixture<V> {
  readonly input: Uint8Array;
  readonly values: readonly V[];
  readonly ends: readonly number[];
}

/** A fixture holding one value that spans the whole input. */
export function fixture<V>(input: Uint8Array, value: V): SplitFixture<V> {
  return { input, values: [value], ends: [input.length] };
}

/** Fixtures one after another, as one fixture (the ends are shifted). */
export function backToBack<V>(...parts: readonly SplitFixture<V>[]): SplitFixture<V> {
  const values: V[] = [];
  const ends: number[] = [];
  let at = 0;
  for (const p of parts) {
    values.push(...p.values);
    for (const e of p.ends) ends.push(at + e);
    at += p.input.length;
  }
  return { input: concat(...parts.map((p) => p.input)), values, ends };
}

// ---------------------------------------------------------------------------------------------------
// drivers

/**
 * One run of a driver: a fresh parser, decoder or connection.
 *
 * - `feed(chunk)` hands over one chunk and returns the values that became available because of it, in
 *   order (an empty array means NEED_READ). Once `want` values are out (see {@link SplitDriver}) it must
 *   stop parsing, so trailing bytes stay where they are.
 * - `end()` (optional) says no more input will come and returns the values that completes; needed only
 *   for fixtures run with `endInput`.
 * - `needed()` (optional) is asked right after a feed that gave nothing: how many more bytes the driver
 *   knows it needs, or undefined.
 * - `rest()` consumes and returns the bytes the driver still holds unparsed (`source.takeRest()`).
 *
 * A feed may throw; the run then fails with the driver's error.
 */
export interface SplitSession<V> {
  feed(chunk: Uint8Array): readonly V[];
  end?(): readonly V[];
  needed?(): number | undefined;
  rest(): Uint8Array;
}

/** Makes a fresh session that should produce `want` values and then leave the rest of the input alone. */
export type SplitDriver<V> = (want: number) => SplitSession<V>;

/**
 * The driver for a combinator parser: a `Decoder` over a fresh Source. It reads values until `want` are
 * out, checks that `read()` answers NEED_READ (never END) while input may still come, and END after
 * `end()` once the input is used up.
 */
export function decoderDriver<T>(parser: Parser<T>, sourceOptions: SourceOptions = {}): SplitDriver<T> {
  return (want) => {
    const decoder = new Decoder(parser, sourceOptions);
    let got = 0;
    const pull = (): T[] => {
      const out: T[] = [];
      while (got < want) {
        const v = decoder.read();
        if (v === NEED_READ) break;
        if (v === END) {
          assert.ok(decoder.source.ended, 'Decoder.read() returned END before end() was called');
          assert.fail(`Decoder.read() returned END after ${got} of ${want} values`);
        }
        out.push(v);
        got++;
      }
      return out;
    };
    return {
      feed(chunk) {
        decoder.feed(chunk);
        return pull();
      },
      end() {
        decoder.end();
        const out = pull();
        if (got === want) assert.equal(decoder.read(), END, 'Decoder.read() after the last value of an ended, used-up Source');
        return out;
      },
      needed: () => decoder.needed,
      rest: () => decoder.source.takeRest(),
    };
  };
}

// ---------------------------------------------------------------------------------------------------
// the split property

export interface SplitOptions<V> {
  /**
   * Bytes appended after the fixture in every run, which must come back untouched from `rest()`.
   * Default: CR LF NUL 0xff 0x40 0x7f (a line end, a NUL, and varint prefixes, to tempt over-reads).
   */
  readonly trailing?: Uint8Array;
  /**
   * The last values only complete when the input ends (`manyUntilEnd` or `rest` outside a region, a
   * stream that ends with FIN): every run calls `end()` after the input, and no trailing bytes are used.
   */
  readonly endInput?: boolean;
  /** Check (b)'s value boundaries and `needed` (default true). Turn off for drivers that emit partial values. */
  readonly boundaries?: boolean;
  /** Maps the collected values before comparing (e.g. joins partial payloads). Default: identity. */
  readonly normalize?: (values: readonly V[]) => unknown;
  /** fast-check runs for (d). Default 100. */
  readonly numRuns?: number;
  /** fast-check seed for (d), to replay a failure. */
  readonly seed?: number;
  /** Above this many two-way split points, (c) tries a sample (around value ends, plus a stride). Default 1024. */
  readonly maxTwoWay?: number;
  /** Time budget of one run in ms; past it the run fails as a hang. Default 2000. */
  readonly timeoutMs?: number;
}

const DEFAULT_TRAILING = Uint8Array.of(0x0d, 0x0a, 0x00, 0xff, 0x40, 0x7f);

/** Runs the split property (a)-(e) described at the top of this file. */
export function checkSplits<V>(driver: SplitDriver<V>, fx: SplitFixture<V>, options: SplitOptions<V> = {}): void {
  checkFixture(fx);
  const endInput = options.endInput ?? false;
  const trailing = endInput ? new Uint8Array(0) : (options.trailing ?? DEFAULT_TRAILING);
  const full = concat(fx.input, trailing);
  const normalize = options.normalize ?? ((vs: readonly V[]) => vs);
  const expected = canonical(normalize(fx.values));
  const timeoutMs = options.timeoutMs ?? 2000;
  const guard = new HangGuard(timeoutMs);

  /** Feeds `chunks` (each as its own copy) to a fresh session and checks values and leftovers. */
  const run = (label: string, chunks: readonly Uint8Array[], withTrailing: boolean): void => {
    guard.run(label, () => {
      const session = driver(fx.values.length);
      const fed = chunks.map((c) => c.slice());
      const got: V[] = [];
      for (const c of fed) got.push(...context(label, () => session.feed(c)));
      if (endInput) got.push(...context(label, () => endSession(session)));
      const rest = session.rest();
      assert.deepStrictEqual(canonical(normalize(got)), expected, `${label}: values differ`);
      const want = withTrailing ? trailing : new Uint8Array(0);
      assert.ok(sameBytes(rest, want), `${label}: left over ${toHex(rest)}, expected ${toHex(want)} (over-read or under-read)`);
      fed.forEach((c, i) => assert.ok(sameBytes(c, chunks[i]!), `${label}: the parser modified fed chunk #${i}`));
    });
  };

  // (a) whole
  run('whole', [fx.input], false);
  if (trailing.length > 0) run('whole + trailing', [full], true);

  // (b) byte by byte
  bounded('byte by byte', timeoutMs, () => checkByteByByte(driver, fx, full, endInput, options.boundaries ?? true, normalize, expected));

  // (c) every two-way split
  for (const k of twoWayPoints(full.length, fx.ends, options.maxTwoWay ?? 1024)) {
    run(`split at ${k} of ${full.length}`, [full.subarray(0, k), full.subarray(k)], true);
  }

  // (d) random multi-way splits; duplicates and 0/length give empty chunks
  const cuts = fc.array(fc.integer({ min: 0, max: full.length }), { maxLength: Math.min(24, full.length + 2) });
  fc.assert(
    fc.property(cuts, (points) => {
      const sorted = [...points].sort((a, b) => a - b);
      const chunks: Uint8Array[] = [];
      let at = 0;
      for (const p of sorted) {
        chunks.push(full.subarray(at, p));
        at = p;
      }
      chunks.push(full.subarray(at));
      run(`chunks ${chunks.map((c) => c.length).join('+')}`, chunks, true);
    }),
    { numRuns: options.numRuns ?? 100, ...(options.seed === undefined ? {} : { seed: options.seed }) },
  );
}

function checkByteByByte<V>(
  driver: SplitDriver<V>,
  fx: SplitFixture<V>,
  full: Uint8Array,
  endInput: boolean,
  boundaries: boolean,
  normalize: (values: readonly V[]) => unknown,
  expected: unknown,
): void {
  const n = fx.values.length;
  const session = driver(n);
  const got: V[] = [];
  for (let i = 0; i < full.length; i++) {
    const fedCount = i + 1;
    const before = got.length;
    got.push(...context(`byte by byte, byte ${i}`, () => session.feed(full.subarray(i, i + 1).slice())));
    if (!boundaries) continue;
    // Values whose last byte has arrived must be out; values whose last byte has not must not be.
    // With endInput, values ending exactly at the end of the input may wait for end().
    const max = fx.ends.filter((e) => e <= fedCount).length;
    const min = fx.ends.filter((e) => e <= fedCount && !(endInput && e === fx.input.length)).length;
    assert.ok(
      got.length >= min && got.length <= max,
      `byte by byte: after ${fedCount} bytes ${got.length} values were out, expected ${min === max ? max : `${min}..${max}`}` +
        ` (value ends at ${fx.ends.join(', ')})`,
    );
    const end = fx.ends[got.length];
    // With endInput the extent of a value that ends with the input is open: any `needed` is fine there.
    const open = endInput && end === fx.input.length;
    if (got.length === before && end !== undefined && !open && session.needed !== undefined) {
      const needed = session.needed();
      if (needed !== undefined) {
        assert.ok(needed >= 1, `byte by byte: needed ${needed} after ${fedCount} bytes`);
        assert.ok(
          fedCount + needed <= end,
          `byte by byte: after ${fedCount} bytes the driver asks for ${needed} more, but value #${got.length} ends at ${end}`,
        );
      }
    }
  }
  if (endInput) got.push(...context('byte by byte, end()', () => endSession(session)));
  const rest = session.rest();
  assert.deepStrictEqual(canonical(normalize(got)), expected, 'byte by byte: values differ');
  const trailing = full.subarray(fx.input.length);
  assert.ok(sameBytes(rest, trailing), `byte by byte: left over ${toHex(rest)}, expected ${toHex(trailing)}`);
}

function endSession<V>(session: SplitSession<V>): readonly V[] {
  if (session.end === undefined) throw new Error('checkSplits: endInput needs a driver with end()');
  return session.end();
}

function checkFixture<V>(fx: SplitFixture<V>): void {
  if (fx.values.length === 0) throw new Error('checkSplits: the fixture has no values');
  if (fx.ends.length !== fx.values.length) throw new Error('checkSplits: one end offset per value is needed');
  let prev = 0;
  for (const e of fx.ends) {
    if (!Number.isInteger(e) || e < prev || e > fx.input.length) throw new Error(`checkSplits: bad end offsets ${fx.ends.join(', ')}`);
    prev = e;
  }
  if (prev !== fx.input.length) throw new Error('checkSplits: the last value must end at the end of the input');
}

/** Split points for (c): all of them, or a sample around value ends plus a stride when there are too many. */
function twoWayPoints(length: number, ends: readonly number[], max: number): number[] {
  if (length - 1 <= max) return Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1);
  const points = new Set<number>();
  for (const e of [0, ...ends]) for (let d = -3; d <= 3; d++) points.add(e + d);
  const stride = Math.ceil(length / (max / 2));
  for (let k = 1; k < length; k += stride) points.add(k);
  return [...points].filter((k) => k >= 1 && k < length).sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------------
// combinator parsers: streaming splits plus complete mode

export interface ParserSplitOptions<T> extends SplitOptions<T> {
  /** Options of the Decoder's Source. */
  readonly source?: SourceOptions;
  /**
   * Also check complete mode (default true): `parseAll(input)` gives the values; for a one-value fixture
   * `parse(input)` gives it, `parse(input + trailing)` raises ERR_TRAILING_BYTES at the end of the value
   * (and succeeds with `allowTrailing`), and every strict prefix raises ERR_UNEXPECTED_END.
   */
  readonly complete?: boolean;
}

/**
 * The split property for a combinator `Parser` through a `Decoder` ({@link decoderDriver}), plus the
 * complete-mode checks described in {@link ParserSplitOptions.complete}.
 */
export function checkParserSplits<T>(parser: Parser<T>, fx: SplitFixture<T>, options: ParserSplitOptions<T> = {}): void {
  checkSplits(decoderDriver(parser, options.source ?? {}), fx, options);
  if (options.complete === false) return;
  const normalize = options.normalize ?? ((vs: readonly T[]) => vs);
  const expected = canonical(normalize(fx.values));
  assert.deepStrictEqual(canonical(normalize(parseAll(parser, fx.input))), expected, 'complete mode: parseAll differs');
  if (fx.values.length !== 1 || options.endInput) return;
  assert.deepStrictEqual(canonical(normalize([parse(parser, fx.input)])), expected, 'complete mode: parse differs');
  const trailing = options.trailing ?? DEFAULT_TRAILING;
  if (trailing.length > 0) {
    const withTrailing = concat(fx.input, trailing);
    assert.deepStrictEqual(canonical(normalize([parse(parser, withTrailing, { allowTrailing: true })])), expected);
    assert.throws(
      () => parse(parser, withTrailing),
      (e: unknown) => e instanceof ParseError && e.code === 'ERR_TRAILING_BYTES' && e.offset === fx.input.length,
      'complete mode: trailing bytes must raise ERR_TRAILING_BYTES at the end of the value',
    );
  }
  for (let k = 0; k < fx.input.length; k++) {
    assert.throws(
      () => parse(parser, fx.input.subarray(0, k)),
      (e: unknown) => e instanceof ParseError && e.code === 'ERR_UNEXPECTED_END',
      `complete mode: the first ${k} of ${fx.input.length} bytes must raise ERR_UNEXPECTED_END`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// corruption invariant

export interface CorruptionOptions {
  /** fast-check runs per mutation family (random bytes, bit flips, overwrites, splices, truncations). Default 200. */
  readonly numRuns?: number;
  /** Longest random input. Default: twice the longest fixture, at least 64. */
  readonly maxRandomLength?: number;
  /** Time budget of one decode call in ms; past it the call fails as a hang. Default 2000. */
  readonly timeoutMs?: number;
  /** What counts as the typed error. Default {@link isTypedInputError}. */
  readonly isTypedError?: (e: unknown) => boolean;
  readonly seed?: number;
}

/** A PullwireError with a non-empty code that is not a UsageError (bad bytes are not API misuse). */
export function isTypedInputError(e: unknown): boolean {
  return e instanceof PullwireError && typeof e.code === 'string' && e.code.length > 0 && !(e instanceof UsageError);
}

/**
 * The corruption invariant: `decode` on any input returns, or raises the typed error, and terminates.
 * `valid` fixtures must decode without error (checked first); the mutations start from them.
 */
export function checkCorruption(
  decode: (input: Uint8Array) => unknown,
  valid: Uint8Array | readonly Uint8Array[],
  options: CorruptionOptions = {},
): void {
  const seeds = valid instanceof Uint8Array ? [valid] : [...valid];
  if (seeds.length === 0) throw new Error('checkCorruption: give at least one valid fixture');
  const timeoutMs = options.timeoutMs ?? 2000;
  const isTyped = options.isTypedError ?? isTypedInputError;
  const longest = Math.max(...seeds.map((s) => s.length));
  const maxRandom = options.maxRandomLength ?? Math.max(64, 2 * longest);
  const params = { numRuns: options.numRuns ?? 200, ...(options.seed === undefined ? {} : { seed: options.seed }) };

  for (const s of seeds) {
    bounded(`valid fixture ${toHex(s)}`, timeoutMs, () => {
      try {
        decode(s.slice());
      } catch (e) {
        assert.fail(
          `checkCorruption: the valid fixture ${toHex(s)} must decode, but raised ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
        );
      }
    });
  }

  const guard = new HangGuard(timeoutMs);
  const attempt = (input: Uint8Array): void => {
    const label = `input ${toHex(input)}`;
    guard.run(label, () => {
      try {
        decode(input);
      } catch (e) {
        if (!isTyped(e)) {
          const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
          assert.fail(`${label}: raised ${what}, not a typed PullwireError\n${e instanceof Error ? e.stack : ''}`);
        }
      }
    });
  };

  const seed = fc.constantFrom(...seeds);
  // random bytes
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: maxRandom }), (b) => attempt(b)),
    params,
  );
  // bit flips
  fc.assert(
    fc.property(
      seed.chain((s) => fc.tuple(fc.constant(s), fc.array(fc.nat(Math.max(0, s.length * 8 - 1)), { minLength: 1, maxLength: 8 }))),
      ([s, bits]) => {
        const b = s.slice();
        if (b.length > 0) for (const bit of bits) b[bit >> 3]! ^= 1 << (bit & 7);
        attempt(b);
      },
    ),
    params,
  );
  // byte overwrites
  fc.assert(
    fc.property(
      seed.chain((s) =>
        fc.tuple(
          fc.constant(s),
          fc.array(fc.tuple(fc.nat(Math.max(0, s.length - 1)), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        ),
      ),
      ([s, edits]) => {
        const b = s.slice();
        if (b.length > 0) for (const [at, v] of edits) b[at] = v;
        attempt(b);
      },
    ),
    params,
  );
  // splices: delete a run and insert random bytes at one place
  fc.assert(
    fc.property(
      seed.chain((s) => fc.tuple(fc.constant(s), fc.nat(s.length), fc.nat(Math.min(8, s.length)), fc.uint8Array({ maxLength: 8 }))),
      ([s, at, del, ins]) => attempt(concat(s.subarray(0, at), ins, s.subarray(Math.min(s.length, at + del)))),
    ),
    params,
  );
  // truncations: every prefix of short fixtures, random ones of long fixtures
  for (const s of seeds) {
    if (s.length <= 512) for (let k = 0; k < s.length; k++) attempt(s.slice(0, k));
  }
  fc.assert(
    fc.property(
      seed.chain((s) => fc.tuple(fc.constant(s), fc.nat(s.length))),
      ([s, k]) => attempt(s.slice(0, k)),
    ),
    params,
  );
}

/**
 * A decode function for {@link checkCorruption} that drives `parser` through a Decoder: the input is fed
 * in chunks of 1, 2, 3, 5, 8, 13... bytes, then `end()`, and values are read until END. Raises the
 * Decoder's errors; a read loop that makes no progress raises a plain Error (which fails the invariant).
 */
export function streamingDecode<T>(parser: Parser<T>, sourceOptions: SourceOptions = {}): (input: Uint8Array) => T[] {
  return (input) => {
    const decoder = new Decoder(parser, sourceOptions);
    const out: T[] = [];
    let budget = 4 * (input.length + 4);
    const drain = (): void => {
      for (;;) {
        if (--budget < 0) throw new Error(`streamingDecode: no progress after ${out.length} values (a parser that reads nothing?)`);
        const v = decoder.read();
        if (v === NEED_READ || v === END) return;
        out.push(v);
      }
    };
    const sizes = [1, 2, 3, 5, 8, 13, 21];
    let at = 0;
    for (let i = 0; at < input.length; i++) {
      const n = sizes[i % sizes.length]!;
      decoder.feed(input.subarray(at, at + n));
      at += n;
      drain();
    }
    decoder.end();
    drain();
    assert.equal(decoder.read(), END, 'streamingDecode: an ended Source must end with END');
    return out;
  };
}

// ---------------------------------------------------------------------------------------------------
// shared machinery

/** Values with every byte view replaced by a plain Uint8Array copy, recursively through arrays and plain objects. */
export function canonical(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = canonical(v);
      return out;
    }
  }
  return value;
}

const watchdog = vm.createContext({ run: null as (() => unknown) | null });
const callRun = new vm.Script('run()');

/**
 * Runs `fn` with a time limit: a synchronous loop that never ends is stopped by V8 (a vm watchdog) and
 * reported as an assertion failure instead of hanging the test process. Costs about 0.1 ms per call.
 *
 * Stopping a loop this way cannot be caught, so the stopped code's `finally` blocks do not run: module
 * state they would have restored (for example the parser module's active Source) may be left behind.
 * The test has failed by then; later tests in the same file may report follow-on failures.
 */
export function bounded<T>(label: string, timeoutMs: number, fn: () => T): T {
  const ctx = watchdog as { run: (() => unknown) | null };
  const previous = ctx.run;
  ctx.run = fn;
  try {
    return callRun.runInContext(watchdog, { timeout: timeoutMs }) as T;
  } catch (e) {
    // (The timeout error may come from another realm: test its code, not its class.)
    if (typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      assert.fail(`${label}: did not terminate within ${timeoutMs} ms`);
    }
    throw e;
  } finally {
    ctx.run = previous;
  }
}

/**
 * {@link bounded} for the runs of one fast-check property. After the first run that does not
 * terminate, later runs are skipped: fast-check's shrinking would otherwise spend the whole time
 * budget on every smaller candidate, and the first hanging input is already reported.
 */
class HangGuard {
  private hung = false;
  constructor(private readonly timeoutMs: number) {}
  run(label: string, fn: () => void): void {
    if (this.hung) return;
    try {
      bounded(label, this.timeoutMs, fn);
    } catch (e) {
      if (e instanceof assert.AssertionError && e.message.endsWith(`did not terminate within ${this.timeoutMs} ms`)) this.hung = true;
      throw e;
    }
  }
}

/**
 * Runs one step of a split run, naming the step in any failure. No error is expected there, so a typed
 * error becomes an assertion failure that says which step raised it.
 */
function context<T>(label: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PullwireError) assert.fail(`${label}: raised ${e.name} ${e.code}: ${e.message}`);
    if (e instanceof Error) e.message = `${label}: ${e.message}`;
    throw e;
  }
}
