/**
 * pullwire/combinators: pull-based, resumable parsers over a Source that owns
 * the input, and a Writer for the encode side.
 */
export { Source, INCOMPLETE } from './source.js';
export type { SourceOptions, Incomplete } from './source.js';
export { Parser, gen, Decoder, parse, parseAll, runComplete, NEED_READ, END } from './parser.js';
export type { Needed, ParseGen, Step, NeedRead, End, CompleteOptions } from './parser.js';
export {
  FixedParser,
  u8,
  i8,
  u16be,
  u16le,
  i16be,
  i16le,
  u24be,
  u24le,
  u32be,
  u32le,
  i32be,
  i32le,
  u64be,
  u64le,
  i64be,
  i64le,
  u64beNumber,
  u64leNumber,
  f32be,
  f32le,
  f64be,
  f64le,
  varint,
  varintBig,
  bytes,
  skip,
  literal,
  peek,
} from './primitives.js';
export type { FixedSpec } from './primitives.js';
export { until, line, cstring, region, lengthPrefixed, rest, manyUntilEnd, count } from './delimited.js';
export type { DelimitedOptions, LengthPrefixedOptions } from './delimited.js';
export { struct, tuple, tagged } from './struct.js';
export type { ValueOf, StructValue, TaggedValue } from './struct.js';
export { fromBinaryParser } from './binary-parser.js';
export type { BinaryParserLike } from './binary-parser.js';
export { Writer, varintSize, VARINT_MAX } from './writer.js';
export type { WriterOptions, LengthPrefix, LengthMark } from './writer.js';
export { PullwireError, ParseError, EncodeError, UsageError, COMBINATOR_ERROR_CODES } from './errors.js';
export type { CombinatorErrorCode } from './errors.js';
