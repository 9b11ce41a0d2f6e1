import { EncodeError, ParseError } from './errors.js';
import { Parser, type ParseGen } from './parser.js';
import { delegate } from './delimited.js';
import { FixedParser, literal, skip, bytes as bytesParser } from './primitives.js';
import { INCOMPLETE, type Incomplete, type Source } from './source.js';
import type { Writer } from './writer.js';

/** The value type a parser produces. */
export type ValueOf<P> = P extends Parser<infer T> ? T : never;

type VoidKeys<F> = { [K in keyof F]: ValueOf<F[K]> extends void ? (void extends ValueOf<F[K]> ? K : never) : never }[keyof F];

/** The object a `struct` produces: one property per field, except fields that read nothing (skip, literal). */
export type StructValue<F extends Record<string, Parser<unknown>>> = { [K in Exclude<keyof F, VoidKeys<F>>]: ValueOf<F[K]> };

/**
 * Fields read in order into an object. Fields that yield nothing (`skip(n)`,
 * `literal(...)`) are checked but not stored.
 *
 * When every field has a fixed size (ints, floats, `bytes(n)`, `skip(n)`),
 * the struct is compiled into one function that checks the length once and
 * builds the object with a fixed shape: that is what makes it run at the speed
 * of hand-written DataView code. Other structs read field by field and
 * suspend between fields in streaming mode.
 *
 * ```ts
 * const header = struct({ type: u8, flags: u8, length: u16be, id: u32be });
 * parse(header, bytes) // -> { type, flags, length, id }
 * ```
 */
export function struct<F extends Record<string, Parser<unknown>>>(fields: F, name = 'struct'): Parser<StructValue<F>> {
  const entries = Object.entries(fields);
  const compiled = compileFixed(entries, name);
  return (compiled ?? new SequentialStruct(entries, name)) as Parser<StructValue<F>>;
}

const skipProto = Object.getPrototypeOf(skip(1)) as object;
const literalProto = Object.getPrototypeOf(literal(new Uint8Array(1))) as object;
const bytesProto = Object.getPrototypeOf(bytesParser(1)) as object;

function storesValue(p: Parser<unknown>): boolean {
  const proto = Object.getPrototypeOf(p) as object;
  return proto !== skipProto && proto !== literalProto;
}

// ---------- the generic, field-by-field struct ----------

class SequentialStruct<T extends Record<string, unknown>> extends Parser<T> {
  constructor(
    private readonly entries: [string, Parser<unknown>][],
    name: string,
  ) {
    const size = entries.every(([, p]) => p.fixedSize >= 0) ? entries.reduce((n, [, p]) => n + p.fixedSize, 0) : -1;
    super(
      name,
      size,
      entries.some(([, p]) => p.resumable),
    );
  }
  readFast(s: Source): T | Incomplete {
    const m = s.mark();
    const out: Record<string, unknown> = {};
    try {
      for (const [k, p] of this.entries) {
        const v = p.readFast(s);
        if (v === INCOMPLETE) {
          s.reset(m);
          return INCOMPLETE;
        }
        if (storesValue(p)) out[k] = v;
      }
    } catch (e) {
      s.reset(m);
      throw e;
    }
    s.commit();
    return out as T;
  }
  override *readSlow(s: Source): ParseGen<T> {
    const out: Record<string, unknown> = {};
    for (const [k, p] of this.entries) {
      const v: unknown = yield* delegate(p.readSlow(s), s);
      if (storesValue(p)) out[k] = v;
    }
    return out as T;
  }
  override write(w: Writer, value: T): void {
    for (const [k, p] of this.entries) p.write(w, value[k]);
  }
}

// ---------- the compiled struct for fixed layouts ----------

type FieldPlan =
  | { kind: 'fixed'; key: string; parser: FixedParser<unknown>; at: number }
  | { kind: 'bytes'; key: string; size: number; at: number }
  | { kind: 'skip'; key: string; size: number; at: number; parser: Parser<unknown> };

function planFields(entries: [string, Parser<unknown>][]): { plan: FieldPlan[]; size: number } | null {
  const plan: FieldPlan[] = [];
  let at = 0;
  for (const [key, p] of entries) {
    const proto = Object.getPrototypeOf(p) as object;
    if (p instanceof FixedParser) plan.push({ kind: 'fixed', key, parser: p, at });
    else if (proto === bytesProto) plan.push({ kind: 'bytes', key, size: p.fixedSize, at });
    else if (proto === skipProto) plan.push({ kind: 'skip', key, size: p.fixedSize, at, parser: p });
    else return null;
    at += p.fixedSize;
  }
  return { plan, size: at };
}

type RecordReader = (b: Uint8Array, o: number, at: number) => Record<string, unknown>;

function compileFixed(entries: [string, Parser<unknown>][], name: string): Parser<unknown> | null {
  const planned = planFields(entries);
  if (planned === null) return null;
  const reader = buildReader(planned.plan, name);
  return new CompiledStruct(planned.plan, planned.size, reader, name);
}

/** Field readers for the generated code, and a way to raise a field's rejection. */
function buildReader(plan: FieldPlan[], name: string): RecordReader {
  const readers = plan.map((f) => (f.kind === 'fixed' ? f.parser.spec.read : null));
  const reject = (i: number, at: number): ParseError => {
    const f = plan[i]!;
    const spec = f.kind === 'fixed' ? f.parser.spec : undefined;
    const r = spec?.reject ?? { code: 'ERR_MALFORMED' as const, detail: 'rejected value' };
    return new ParseError(r.code, at + f.at, `${name}.${f.key} (${spec?.name ?? '?'})`, r.detail);
  };
  const body: string[] = [];
  const props: string[] = [];
  plan.forEach((f, i) => {
    if (f.kind === 'fixed') {
      body.push(`const v${i} = R${i}(b, o + ${f.at});`);
      if (f.parser.spec.reject !== undefined) body.push(`if (v${i} === undefined) throw reject(${i}, at);`);
      props.push(`${JSON.stringify(f.key)}: v${i}`);
    } else if (f.kind === 'bytes') {
      props.push(`${JSON.stringify(f.key)}: b.subarray(o + ${f.at}, o + ${f.at + f.size})`);
    }
  });
  const params = readers.map((_, i) => `R${i}`);
  const src = `${body.join('\n')}\nreturn { ${props.join(', ')} };`;
  try {
    // One generated function per struct: each field read is a monomorphic call V8 can inline.
    const factory = new Function(...params, 'reject', `return function readRecord(b, o, at) {\n${src}\n};`) as (
      ...args: unknown[]
    ) => RecordReader;
    return factory(...readers, reject);
  } catch {
    // No code generation allowed (a strict Content-Security-Policy): read field by field.
    return (b, o, at) => {
      const out: Record<string, unknown> = {};
      plan.forEach((f, i) => {
        if (f.kind === 'fixed') {
          const v = f.parser.spec.read(b, o + f.at);
          if (v === undefined) throw reject(i, at);
          out[f.key] = v;
        } else if (f.kind === 'bytes') out[f.key] = b.subarray(o + f.at, o + f.at + f.size);
      });
      return out;
    };
  }
}

class CompiledStruct extends Parser<Record<string, unknown>> {
  private readonly ownsScratch: boolean;
  constructor(
    private readonly plan: FieldPlan[],
    size: number,
    private readonly readRecord: RecordReader,
    name: string,
  ) {
    super(name, size);
    // Views of `bytes` fields must not point into the Source's reusable scratch.
    this.ownsScratch = plan.some((f) => f.kind === 'bytes');
  }
  readFast(s: Source): Record<string, unknown> | Incomplete {
    const o = s.off;
    const n = this.fixedSize;
    if (o + n <= s.lim) {
      const v = this.readRecord(s.buf, o, s.base + o);
      s.off = o + n;
      return v;
    }
    const at = s.position;
    const g = s.gather(n, this.name, this.ownsScratch);
    if (g === INCOMPLETE) return g;
    return this.readRecord(g, 0, at);
  }
  override write(w: Writer, value: Record<string, unknown>): void {
    for (const f of this.plan) {
      if (f.kind === 'fixed') f.parser.write(w, value[f.key]);
      else if (f.kind === 'bytes') {
        const v = value[f.key];
        if (!(v instanceof Uint8Array) || v.length !== f.size)
          throw new EncodeError('ERR_ENCODE_RANGE', `${this.name}.${f.key}: want ${f.size} bytes`);
        w.bytes(v);
      } else f.parser.write(w, undefined);
    }
  }
}

// ---------- tuples ----------

type TupleValue<P extends readonly Parser<unknown>[]> = { [K in keyof P]: ValueOf<P[K]> };

/** Parsers in order, values as a tuple. */
export function tuple<P extends readonly Parser<unknown>[]>(...parsers: P): Parser<TupleValue<P>> {
  const fields = Object.fromEntries(parsers.map((p, i) => [`_${i}`, p]));
  const inner = struct(fields, `tuple(${parsers.map((p) => p.name).join(', ')})`) as Parser<Record<string, unknown>>;
  return inner.map(
    (o) => parsers.map((_, i) => o[`_${i}`]) as TupleValue<P>,
    (t) => Object.fromEntries((t as unknown[]).map((v, i) => [`_${i}`, v])),
  );
}

// ---------- tagged dispatch ----------

/**
 * Reads a tag, then the parser registered for it. Unknown tags raise
 * ERR_UNKNOWN_TAG at the tag's offset unless a `fallback(tag)` parser is given.
 * The result carries the tag, so it can be matched exhaustively:
 *
 * ```ts
 * const frame = tagged(varint, { 0x00: padding, 0x01: ping, 0x06: crypto });
 * // -> { tag: 0x06, value: { offset, data } }
 * ```
 */
export function tagged<K extends number, C extends { [T in K]: Parser<unknown> }>(
  tagParser: Parser<number>,
  cases: C,
  options: { fallback?: (tag: number) => Parser<unknown>; name?: string } = {},
): Parser<TaggedValue<C>> {
  return new TaggedParser(
    tagParser,
    cases as unknown as Record<number, Parser<unknown>>,
    options.fallback,
    options.name ?? `tagged(${tagParser.name})`,
  ) as unknown as Parser<TaggedValue<C>>;
}

export type TaggedValue<C> = {
  [T in keyof C]: { readonly tag: T extends `${infer N extends number}` ? N : T; readonly value: ValueOf<C[T]> };
}[keyof C];

class TaggedParser extends Parser<{ tag: number; value: unknown }> {
  private readonly table: (Parser<unknown> | undefined)[] = [];
  private readonly byTag = new Map<number, Parser<unknown>>();
  constructor(
    private readonly tagParser: Parser<number>,
    cases: Record<number, Parser<unknown>>,
    private readonly fallback: ((tag: number) => Parser<unknown>) | undefined,
    name: string,
  ) {
    super(name, -1, tagParser.resumable || Object.values(cases).some((p) => p.resumable) || fallback !== undefined);
    for (const [k, p] of Object.entries(cases)) {
      const tag = Number(k);
      if (tag >= 0 && tag < 256) this.table[tag] = p;
      this.byTag.set(tag, p);
    }
  }
  private caseFor(tag: number, at: number): Parser<unknown> {
    const p = tag >= 0 && tag < 256 ? this.table[tag] : this.byTag.get(tag);
    if (p !== undefined) return p;
    if (this.fallback !== undefined) return this.fallback(tag);
    throw new ParseError('ERR_UNKNOWN_TAG', at, `${this.name} tag`, `tag ${tag}`);
  }
  readFast(s: Source): { tag: number; value: unknown } | Incomplete {
    const m = s.mark();
    try {
      const at = s.position;
      const tag = this.tagParser.readFast(s);
      if (tag === INCOMPLETE) {
        s.reset(m);
        return tag;
      }
      const value = this.caseFor(tag, at).readFast(s);
      if (value === INCOMPLETE) {
        s.reset(m);
        return value;
      }
      s.commit();
      return { tag, value };
    } catch (e) {
      s.reset(m);
      throw e;
    }
  }
  override *readSlow(s: Source): ParseGen<{ tag: number; value: unknown }> {
    const at = s.position;
    const tag = yield* delegate(this.tagParser.readSlow(s), s);
    const value: unknown = yield* delegate(this.caseFor(tag, at).readSlow(s), s);
    return { tag, value };
  }
  override write(w: Writer, v: { tag: number; value: unknown }): void {
    this.tagParser.write(w, v.tag);
    this.caseFor(v.tag, 0).write(w, v.value);
  }
}
