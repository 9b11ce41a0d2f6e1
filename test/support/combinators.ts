/** Small helpers shared by the combinator tests. */
import { ParseError, Writer } from '../../src/combinators/index.js';
import type { Parser } from '../../src/combinators/index.js';

/** An `assert.throws` matcher: a ParseError with this code (and offset, when given). */
export const isParseError =
  (code: string, offset?: number) =>
  (e: unknown): boolean =>
    e instanceof ParseError && e.code === code && (offset === undefined || e.offset === offset);

/** The bytes `p` writes for `v`. */
export function encode<T>(p: Parser<T>, v: T): Uint8Array {
  const w = new Writer();
  p.write(w, v);
  return w.toBytes();
}
