/**
 * The shared helpers in test/support must be able to fail: each check here feeds them a parser or a
 * driver with one specific defect and expects the helper to reject it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INCOMPLETE, Parser, ParseError, bytes, gen, parse, u16be, u8 } from '../../src/combinators/index.js';
import type { Incomplete, Source } from '../../src/combinators/index.js';
import { hex } from '../support/bytes.js';
import { backToBack, checkCorruption, checkParserSplits, checkSplits, decoderDriver, fixture } from '../support/splits.js';
import type { SplitDriver } from '../support/splits.js';

/** The message of an error and of its causes (fast-check puts the property's own failure in `cause`). */
const messages = (e: unknown): string => (e instanceof Error ? `${e.message}\n${messages(e.cause)}` : '');

/** `fn` must fail (the helper's verdict), and with `reason` in its message when given. */
const fails = (fn: () => void, label: string, reason?: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof Error && (reason === undefined || reason.test(messages(e))), label);
};

/** Returns its bytes in one scratch array shared by every call: earlier values change under the caller. */
class ScratchBytes extends Parser<Uint8Array> {
  private readonly scratch = new Uint8Array(2);
  constructor() {
    super('scratchBytes', 2);
  }
  readFast(s: Source): Uint8Array | Incomplete {
    const v = bytes(2).readFast(s);
    if (v === INCOMPLETE) return v;
    this.scratch.set(v);
    return this.scratch;
  }
}

describe('checkSplits / checkParserSplits reject', () => {
  it('a parser that reads one byte past its value', () => {
    const greedy = gen('greedy', function* () {
      const v = yield* u16be;
      yield* u8;
      return v;
    });
    fails(() => checkParserSplits(greedy, fixture(hex('0102'), 0x0102), { numRuns: 5 }), 'over-read', /left over|values differ/);
  });

  it('a parser whose earlier values alias memory it reuses', () => {
    const fx = backToBack(fixture(hex('0102'), hex('0102')), fixture(hex('0304'), hex('0304')));
    fails(() => checkParserSplits(new ScratchBytes(), fx, { numRuns: 5, complete: false }), 'aliasing', /values differ/);
  });

  it('a parser whose value depends on how the input arrived', () => {
    // Answers 0 when more than its own two bytes are buffered: right on a lone value, wrong when
    // trailing bytes (or the next value) arrive in the same chunk.
    const flaky = new (class extends Parser<number> {
      constructor() {
        super('flaky', 2);
      }
      readFast(s: Source): number | Incomplete {
        const crowded = s.buffered > 2;
        const v = u16be.readFast(s);
        return v === INCOMPLETE ? v : crowded ? 0 : v;
      }
    })();
    assert.equal(parse(flaky, hex('0102')), 0x0102);
    fails(
      () => checkParserSplits(flaky, fixture(hex('0102'), 0x0102), { numRuns: 5, complete: false }),
      'input-dependent',
      /values differ/,
    );
  });

  it('a driver that reports a value one chunk late, or too early', () => {
    const late: SplitDriver<number> = (want) => {
      const inner = decoderDriver(u16be)(want);
      let held: number[] = [];
      return {
        feed(chunk) {
          const out = held;
          held = [...inner.feed(chunk)];
          return out;
        },
        rest: () => inner.rest(),
      };
    };
    const fx = backToBack(fixture(hex('0001'), 1), fixture(hex('0002'), 2));
    fails(() => checkSplits(late, fx, { numRuns: 5 }), 'late values', /values (were out|differ)/);
    // Claims the value is complete after its first byte.
    const wrongEnds = { input: hex('0001 0002'), values: [1, 2], ends: [1, 4] };
    fails(() => checkSplits(decoderDriver(u16be), wrongEnds, { numRuns: 5 }), 'early value', /after 1 bytes 0 values were out, expected 1/);
  });

  it('a driver that asks for more bytes than the value has', () => {
    const greedyNeeds: SplitDriver<number> = (want) => {
      const inner = decoderDriver(u16be)(want);
      return { feed: (c) => inner.feed(c), needed: () => 5, rest: () => inner.rest() };
    };
    fails(() => checkSplits(greedyNeeds, fixture(hex('0001'), 1), { numRuns: 5 }), 'needed past the value', /asks for 5 more/);
  });
});

describe('checkCorruption rejects', () => {
  it('an untyped exception', () => {
    const decode = (b: Uint8Array): number => {
      if (b.length > 1 && b[0]! >= 0x40) throw new RangeError('offset out of bounds');
      return parse(u16be, b);
    };
    fails(() => checkCorruption(decode, hex('0102'), { numRuns: 50 }), 'RangeError', /RangeError: offset out of bounds/);
    fails(() => checkCorruption(decode, hex('4200'), { numRuns: 50 }), 'an invalid "valid" fixture', /the valid fixture 4200 must decode/);
  });

  it('a usage error raised for bad input', () => {
    // A generator parser resumed outside a driver raises ERR_USAGE: API misuse, not a typed input error.
    const misused = gen('misused', function* () {
      return yield* u8;
    });
    const decode = (b: Uint8Array): void => {
      if (b.length !== 2) throw new ParseError('ERR_MALFORMED', 0, 'two bytes');
      if (b[0]! >= 0x80) misused[Symbol.iterator]().next();
    };
    fails(() => checkCorruption(decode, hex('0001'), { numRuns: 100 }), 'UsageError', /not a typed PullwireError/);
  });

  it('accepts a decode that only ever returns or raises typed errors', () => {
    checkCorruption((b) => parse(u16be, b), hex('0102'), { numRuns: 50 });
  });
});

// Last in the file: stopping a runaway loop (V8 TerminateExecution) skips `finally` blocks, so the
// parser module's "active Source" stays set afterwards, which would hide the misuse checked above.
describe('hangs are reported, not waited for', () => {
  it('a parser that loops forever, without hanging the suite', () => {
    const stuck = gen('stuck', function* () {
      const v = yield* u8;
      if (v === 0xff) for (;;);
      return v;
    });
    fails(() => checkParserSplits(stuck, fixture(hex('ff'), 0xff), { numRuns: 5, timeoutMs: 100 }), 'hang', /did not terminate/);
  });
  it('a decode that hangs on some input', () => {
    const decode = (b: Uint8Array): void => {
      if (b.length > 0 && b[0]! >= 0x80) for (;;);
    };
    fails(() => checkCorruption(decode, hex('0001'), { numRuns: 100, timeoutMs: 100 }), 'hang', /did not terminate/);
  });
});
