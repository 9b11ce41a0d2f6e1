import { ParseError, UsageError } from './errors.js';
import { Parser } from './parser.js';
import * as P from './primitives.js';
import { INCOMPLETE, type Incomplete, type Source } from './source.js';
import { struct } from './struct.js';

/** binary-parser primitive type names mapped to ours. */
const PRIMITIVES: Record<string, P.FixedParser<unknown>> = {
  uint8: P.u8,
  uint16be: P.u16be,
  uint16le: P.u16le,
  uint32be: P.u32be,
  uint32le: P.u32le,
  int8: P.i8,
  int16be: P.i16be,
  int16le: P.i16le,
  int32be: P.i32be,
  int32le: P.i32le,
  uint64be: P.u64be as P.FixedParser<unknown>,
  uint64le: P.u64le as P.FixedParser<unknown>,
  int64be: P.i64be as P.FixedParser<unknown>,
  int64le: P.i64le as P.FixedParser<unknown>,
  floatbe: P.f32be,
  floatle: P.f32le,
  doublebe: P.f64be,
  doublele: P.f64le,
};

/** The part of a `binary-parser` Parser this bridge uses (structural, so any version fits). */
export interface BinaryParserLike {
  sizeOf(): number;
  parse(buffer: Uint8Array): unknown;
}

interface BinaryParserNode {
  type: string;
  varName: string;
  options: Record<string, unknown>;
  next?: BinaryParserNode;
  constructorFn?: unknown;
  useContextVariables?: boolean;
}

/**
 * Runs an existing `binary-parser` definition on a fixed-size record, so
 * such definitions plug into pullwire's Sources, streaming and regions.
 *
 * A definition made only of fixed-size numbers (with or without
 * `formatter`) and numeric `skip`s is translated into a compiled
 * {@link struct}: it then runs at pullwire's speed, without binary-parser's
 * per-call DataView and `delete`. Anything else (bit fields, strings, arrays,
 * asserts, `create`) runs through the definition's own `parse()` on exactly
 * `sizeOf()` bytes. A definition with no fixed size raises ERR_USAGE.
 */
export function fromBinaryParser<T = Record<string, unknown>>(definition: BinaryParserLike, name = 'binary-parser'): Parser<T> {
  const translated = translate(definition as unknown as BinaryParserNode, name);
  if (translated !== null) return translated as Parser<T>;
  let size: number;
  try {
    size = definition.sizeOf();
    // binary-parser's sizeOf() does not count bit fields (NaN): count them here.
    if (Number.isNaN(size)) size = sizeWithBits(definition as unknown as BinaryParserNode);
  } catch {
    size = NaN;
  }
  if (!Number.isInteger(size) || size <= 0) {
    throw new UsageError(`fromBinaryParser: ${name} has no fixed size (binary-parser sizeOf() failed)`);
  }
  return new BinaryParserRecord<T>(definition, size, name);
}

function translate(root: BinaryParserNode, name: string): Parser<unknown> | null {
  if (root.constructorFn || root.useContextVariables) return null;
  const fields: Record<string, Parser<unknown>> = {};
  const formatters: [string, (v: unknown) => unknown][] = [];
  let skips = 0;
  for (let node = root.next; node !== undefined; node = node.next) {
    const opts = node.options ?? {};
    const prim = PRIMITIVES[node.type];
    if (prim !== undefined) {
      const extra = Object.keys(opts).filter((k) => k !== 'formatter');
      if (extra.length > 0 || node.varName in fields) return null;
      fields[node.varName] = prim;
      if (typeof opts['formatter'] === 'function') formatters.push([node.varName, opts['formatter'] as (v: unknown) => unknown]);
    } else if (
      // binary-parser 2.x records skip(n) as a 'seek' node
      (node.type === 'skip' || node.type === 'seek') &&
      typeof opts['length'] === 'number' &&
      opts['length'] >= 0 &&
      Object.keys(opts).length === 1
    ) {
      fields[`\0skip${skips++}`] = P.skip(opts['length']);
    } else {
      return null;
    }
  }
  const s = struct(fields, name) as Parser<Record<string, unknown>>;
  if (formatters.length === 0) return s;
  return s.map((o) => {
    for (const [k, f] of formatters) o[k] = f(o[k]);
    return o;
  });
}

/**
 * Size of a definition whose only unsized nodes are bit fields. binary-parser packs a run of
 * consecutive bit fields into whole bytes (it starts a new 1-4 byte read only when the bits left are
 * used up), so a run takes ceil(bits / 8) bytes. Other nodes are sized by binary-parser itself.
 */
function sizeWithBits(root: BinaryParserNode): number {
  let size = 0;
  let bits = 0;
  for (let node = root.next; node !== undefined; node = node.next) {
    if (node.type === 'bit') {
      bits += Number(node.options['length']);
      continue;
    }
    size += Math.ceil(bits / 8);
    bits = 0;
    // The node alone, without the rest of the chain that its own sizeOf() would add.
    const alone = Object.assign(Object.create(Object.getPrototypeOf(node) as object) as BinaryParserLike, node, { next: undefined });
    size += alone.sizeOf();
  }
  return size + Math.ceil(bits / 8);
}

class BinaryParserRecord<T> extends Parser<T> {
  constructor(
    private readonly definition: BinaryParserLike,
    size: number,
    name: string,
  ) {
    super(name, size);
  }
  readFast(s: Source): T | Incomplete {
    const at = s.position;
    const b = s.take(this.fixedSize, this.name);
    if (b === INCOMPLETE) return b;
    try {
      return this.definition.parse(b) as T;
    } catch (e) {
      // binary-parser reports a failed `assert` (bad input) as a plain Error.
      throw new ParseError('ERR_MALFORMED', at, this.name, e instanceof Error ? e.message : String(e));
    }
  }
}
