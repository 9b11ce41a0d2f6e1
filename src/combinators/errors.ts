/**
 * The typed error family of the combinator core.
 *
 * Every failure caused by input bytes is a {@link ParseError} with a stable
 * string `code`, the absolute byte `offset` in the input where it was found,
 * and what was `expected` there. Misuse of the API (for example feeding a
 * Source after `end()`) raises a {@link UsageError}. Tests and callers should
 * branch on `code`, never on the message wording.
 */

/** Every error code the combinator layer raises, with its one-line meaning. */
export const COMBINATOR_ERROR_CODES = {
  ERR_UNEXPECTED_END: 'the input ended (complete mode, or end() was called) before the parser had what it needed',
  ERR_MALFORMED: 'a value read from the input is not allowed here (bad separator, value out of range, non-minimal encoding)',
  ERR_REGION_OVERRUN: 'a parser tried to read past the end of the length-prefixed region it runs in',
  ERR_REGION_UNDERRUN: 'a parser finished before consuming its whole length-prefixed region',
  ERR_TOO_LONG: 'a delimited record or length prefix is longer than the configured maximum',
  ERR_UNKNOWN_TAG: 'tagged dispatch met a tag that has no parser',
  ERR_NUMBER_RANGE: 'a 64-bit integer does not fit in a JavaScript number (above 2^53 - 1)',
  ERR_TRAILING_BYTES: 'complete mode finished with bytes left over',
  ERR_BUFFER_LIMIT: 'feeding this chunk would buffer more than the Source allows (maxBuffered)',
  ERR_WRITER_OVERFLOW: 'a fixed-size Writer has no room for what was written',
  ERR_ENCODE_RANGE: 'a value cannot be encoded in the requested wire type',
  ERR_USAGE: 'the API was called in a way it does not allow (not caused by input bytes)',
} as const;

export type CombinatorErrorCode = keyof typeof COMBINATOR_ERROR_CODES;

/** Base class of every error pullwire raises on purpose. */
export class PullwireError extends Error {
  /** Stable, documented code: branch on this, not on `message`. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad or missing input bytes. */
export class ParseError extends PullwireError {
  declare readonly code: Exclude<CombinatorErrorCode, 'ERR_WRITER_OVERFLOW' | 'ERR_ENCODE_RANGE' | 'ERR_USAGE'>;
  /** Absolute offset (bytes consumed from the start of the Source) where the problem was found. */
  readonly offset: number;
  /** What the parser expected at `offset`, e.g. `"u16be"`, `"varint length <= 1024"`. */
  readonly expected: string;
  constructor(code: ParseError['code'], offset: number, expected: string, detail?: string) {
    super(code, `${COMBINATOR_ERROR_CODES[code]}: expected ${expected} at offset ${offset}${detail ? ` (${detail})` : ''}`);
    this.offset = offset;
    this.expected = expected;
  }
}

/** Encoding failures: no room in a fixed buffer, or a value that does not fit its wire type. */
export class EncodeError extends PullwireError {
  declare readonly code: 'ERR_WRITER_OVERFLOW' | 'ERR_ENCODE_RANGE';
  constructor(code: EncodeError['code'], detail: string) {
    super(code, `${COMBINATOR_ERROR_CODES[code]}: ${detail}`);
  }
}

/** The caller broke the API contract (not the peer's fault). */
export class UsageError extends PullwireError {
  declare readonly code: 'ERR_USAGE';
  constructor(detail: string) {
    super('ERR_USAGE', detail);
  }
}
