/**
 * The RESP2/RESP3 reply reader: one phase that reads replies back to back.
 *
 * This is the reference example of a mini-protocol built only from the
 * public API (`pullwire/combinators` and `pullwire/miniproto`). RESP mixes
 * both kinds of framing: a type byte and a CRLF-terminated header line
 * (separator-delimited), then for strings a payload of the announced length
 * and a CRLF (length-delimited). Aggregates nest.
 *
 * How it stays fast: the phase runs the parsers' fast paths (`readFast`) in
 * one loop and keeps the aggregates being filled on an explicit stack in its
 * own locals. When the input runs short, mid-reply, it yields need-read and
 * resumes exactly where it stopped: nothing is re-parsed (unlike a
 * parser that must restart a large array from its first element), and no
 * generator is created per reply.
 */
import { INCOMPLETE, u8, type Incomplete, type Parser } from '../../combinators/index.js';
import { crlf, decimalLine, decimalLineBig, phase, textLine, type Phase, type PhaseGen, type PhaseIO } from '../index.js';
import {
  RedisError,
  RespAttributed,
  RespMap,
  RespProtocolError,
  RespPush,
  RespSet,
  RespVerbatim,
  type RespErrorCode,
  type RespValue,
} from './types.js';

export interface RespReaderOptions {
  /**
   * Largest bulk string (and verbatim string / blob error). Default 64 MiB;
   * Redis itself allows 512 MiB (proto-max-bulk-len). A string is handed out
   * whole, so it must also fit the session's maxBuffered.
   */
  readonly maxBulk?: number;
  /** Most elements in one aggregate (pairs count twice in maps). Default 2^24. */
  readonly maxElements?: number;
  /** Deepest nesting of aggregates. Default 64. */
  readonly maxDepth?: number;
  /** Longest simple string, error, double or big number line. Default 64 KiB (Redis's inline limit). */
  readonly maxLine?: number;
  /** RESP3 attributes: skip them (default) or wrap the annotated value in {@link RespAttributed}. */
  readonly attributes?: 'skip' | 'expose';
}

/** The event the reply phase emits per reply when no `onReply` callback is given. */
export interface RespReplyEvent {
  readonly type: 'reply';
  readonly value: RespValue;
}

export interface RespPhaseOptions<E> extends RespReaderOptions {
  /** Phase name. */
  readonly name?: string;
  /** Called for each top-level reply inside the read loop (fastest); else each reply is emitted through `toEvent`. */
  readonly onReply?: (value: RespValue) => void;
  /** Maps a reply to the event emitted (default `{ type: 'reply', value }`). */
  readonly toEvent?: (value: RespValue) => E;
}

// Type bytes. Plain numeric constants (not an enum object): the switch below compiles to a jump table.
const SIMPLE = 0x2b;
const ERROR = 0x2d;
const INTEGER = 0x3a;
const BULK = 0x24;
const ARRAY = 0x2a;
const NULL = 0x5f;
const BOOLEAN = 0x23;
const DOUBLE = 0x2c;
const BIGNUM = 0x28;
const BLOB_ERROR = 0x21;
const VERBATIM = 0x3d;
const MAP = 0x25;
const SET = 0x7e;
const ATTRIBUTE = 0x7c;
const PUSH = 0x3e;

// Aggregate kinds (plain constants, as above).
const K_ARRAY = 0;
const K_MAP = 1;
const K_SET = 2;
const K_PUSH = 3;
const K_ATTRIBUTE = 4;
/** the value an attribute annotates */
const K_ANNOTATED = 5;

const utf8 = new TextDecoder();
const OK = 'OK';

/** Text of a short line: ASCII decoded by hand (most status replies), else UTF-8. */
function text(b: Uint8Array): string {
  if (b.length === 2 && b[0] === 0x4f && b[1] === 0x4b) return OK;
  if (b.length <= 32) {
    let s = '';
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c >= 0x80) return utf8.decode(b);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8.decode(b);
}

const DOUBLE_RE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

function parseDouble(s: string, at: number): number {
  // RESP3 spec: inf, -inf and nan are the special values (Redis also sends "-nan" on some platforms).
  if (s === 'inf' || s === '+inf') return Infinity;
  if (s === '-inf') return -Infinity;
  if (s === 'nan' || s === '-nan') return NaN;
  if (!DOUBLE_RE.test(s)) throw new RespProtocolError('ERR_RESP_MALFORMED', `double ${JSON.stringify(s)}`, at);
  return Number(s);
}

/** An aggregate being filled. */
interface Frame {
  kind: number;
  items: RespValue[];
  n: number;
  i: number;
  attrs: RespMap | null;
}

const NO_ITEMS: RespValue[] = [];

/**
 * Reads replies element by element with the parsers' fast paths. Plain code,
 * not a generator: the phase below calls it in a loop and suspends only
 * when it returns INCOMPLETE. What a reply has read so far survives that:
 * the aggregates being filled (`frames[0..depth)`), and for the element being read its
 * type byte (`type`) and, for strings, the announced length (`len`) and the
 * payload (`data`, waiting for its CRLF). Nothing is ever re-parsed.
 */
class ReplyReader {
  /** Frames are reused by depth (one allocation per level ever reached, not per aggregate). */
  private readonly frames: Frame[] = [];
  private depth = 0;
  private type = -1;
  private len = -1;
  private data: Uint8Array | null = null;
  private readonly maxBulk: number;
  private readonly maxElements: number;
  private readonly maxDepth: number;
  private readonly expose: boolean;
  private readonly textLine: Parser<string>;
  private readonly length: Parser<number> = decimalLine({ maxDigits: 19 });
  private readonly integer: Parser<number | bigint> = decimalLineBig({ maxDigits: 19 });

  constructor(
    private readonly io: PhaseIO<unknown>,
    options: RespReaderOptions,
  ) {
    this.maxBulk = options.maxBulk ?? 64 * 1024 * 1024;
    this.maxElements = options.maxElements ?? 1 << 24;
    this.maxDepth = options.maxDepth ?? 64;
    this.expose = options.attributes === 'expose';
    this.textLine = textLine({ max: options.maxLine ?? 64 * 1024 });
  }

  /** Starts filling an aggregate one level deeper. */
  private open(kind: number, items: RespValue[], n: number, attrs: RespMap | null): void {
    let f = this.frames[this.depth];
    if (f === undefined) {
      f = { kind, items, n, i: 0, attrs };
      this.frames.push(f);
    } else {
      f.kind = kind;
      f.items = items;
      f.n = n;
      f.i = 0;
      f.attrs = attrs;
    }
    this.depth++;
  }

  /** Keeps the element's type byte for the next call and reports the shortage. */
  private suspend(t: number): Incomplete {
    this.type = t;
    return INCOMPLETE;
  }

  /** True between replies. */
  get idle(): boolean {
    return this.type === -1 && this.depth === 0;
  }

  /**
   * The next whole top-level reply, or INCOMPLETE when the input runs short
   * (progress is kept). With `deliver`, every reply that completes is handed
   * to it instead, and the call returns INCOMPLETE once the buffered input is
   * used up (one call per buffered batch, not per reply).
   */
  next(deliver?: (value: RespValue) => void): RespValue | Incomplete {
    const src = this.io.source;
    for (;;) {
      // State is written only when the input runs short (`suspend`), never on the fast path.
      let t = this.type;
      if (t === -1) {
        if (src.ended && src.buffered === 0) return INCOMPLETE;
        const b = u8.readFast(src);
        if (b === INCOMPLETE) return INCOMPLETE;
        t = b;
      } else {
        this.type = -1;
      }
      let value: RespValue;
      switch (t) {
        case INTEGER: {
          const v = this.integer.readFast(src);
          if (v === INCOMPLETE) return this.suspend(t);
          value = v;
          break;
        }
        case BULK:
        case BLOB_ERROR:
        case VERBATIM: {
          let data = this.data;
          if (data === null) {
            let len = this.len;
            if (len === -1) {
              const l = this.length.readFast(src);
              if (l === INCOMPLETE) return this.suspend(t);
              if (l < 0) {
                if (l === -1 && t === BULK) {
                  value = null; // RESP2 null bulk string
                  break;
                }
                fail('ERR_RESP_BAD_LENGTH', l, src.position);
              }
              if (l > this.maxBulk) fail('ERR_RESP_TOO_LARGE', l, src.position);
              len = l;
            } else {
              this.len = -1;
            }
            const d = this.io.take(len);
            if (d === INCOMPLETE) {
              this.len = len;
              return this.suspend(t);
            }
            data = d;
          } else {
            this.data = null;
          }
          if (crlf.readFast(src) === INCOMPLETE) {
            this.data = data;
            return this.suspend(t);
          }
          value = t === BULK ? data : stringValue(t, data, src.position);
          break;
        }
        case ARRAY:
        case MAP:
        case SET:
        case PUSH:
        case ATTRIBUTE: {
          const len = this.length.readFast(src);
          if (len === INCOMPLETE) return this.suspend(t);
          if (len < 0) {
            if (len === -1 && t === ARRAY) {
              value = null; // RESP2 null array
              break;
            }
            fail('ERR_RESP_BAD_LENGTH', len, src.position);
          }
          const n = t === MAP || t === ATTRIBUTE ? len * 2 : len;
          if (n > this.maxElements) fail('ERR_RESP_TOO_LARGE', n, src.position);
          if (this.depth >= this.maxDepth) fail('ERR_RESP_TOO_DEEP', this.maxDepth, src.position);
          const kind = t === ARRAY ? K_ARRAY : t === MAP ? K_MAP : t === SET ? K_SET : t === PUSH ? K_PUSH : K_ATTRIBUTE;
          if (n > 0) {
            this.open(kind, n <= 1024 ? new Array<RespValue>(n) : [], n, null);
            continue;
          }
          if (kind === K_ATTRIBUTE) {
            // An empty attribute map: the annotated value follows.
            this.open(K_ANNOTATED, new Array<RespValue>(1), 1, this.expose ? new RespMap([]) : null);
            continue;
          }
          value = close(kind, []);
          break;
        }
        case SIMPLE: {
          const l = this.textLine.readFast(src);
          if (l === INCOMPLETE) return this.suspend(t);
          value = l;
          break;
        }
        case ERROR:
        case NULL:
        case BOOLEAN:
        case DOUBLE:
        case BIGNUM: {
          const l = this.textLine.readFast(src);
          if (l === INCOMPLETE) return this.suspend(t);
          value = lineValue(t, l, src.position);
          break;
        }
        default:
          // ';' (streamed string chunk) and '.' (end of streamed aggregate) belong to the streamed forms;
          // "$?" and "*?" fail in the length parser (ERR_MALFORMED).
          fail(t === 0x3b || t === 0x2e ? 'ERR_RESP_UNSUPPORTED' : 'ERR_RESP_UNKNOWN_TYPE', t, src.position - 1);
      }
      // Fold the value into the aggregates it completes.
      for (;;) {
        if (this.depth === 0) {
          if (deliver === undefined) return value;
          deliver(value);
          break;
        }
        const top = this.frames[this.depth - 1]!;
        top.items[top.i++] = value;
        if (top.i < top.n) break;
        this.depth--;
        if (top.kind === K_ATTRIBUTE) {
          const attrs = this.expose ? pairs(top.items) : null;
          this.open(K_ANNOTATED, new Array<RespValue>(1), 1, attrs);
          break;
        }
        value = close(top.kind, top.items, top.attrs);
        top.items = NO_ITEMS; // let the finished aggregate go
        top.attrs = null;
      }
    }
  }
}

/**
 * The phase that reads replies until the input ends at a reply boundary
 * (then it returns `next`, default null). Top-level push replies come out
 * like the others, as {@link RespPush} values.
 */
export function respReplies<E = RespReplyEvent>(options: RespPhaseOptions<E> = {}, next: Phase<E> | null = null): Phase<E> {
  const onReply = options.onReply;
  const toEvent = options.toEvent ?? ((value: RespValue) => ({ type: 'reply', value }) as E);
  return phase<E>(options.name ?? 'resp replies', function* (io: PhaseIO<E>): PhaseGen<E> {
    const reader = new ReplyReader(io as PhaseIO<unknown>, options);
    for (;;) {
      const v = reader.next(onReply);
      if (v !== INCOMPLETE) {
        yield* io.emit(toEvent(v));
        continue;
      }
      if (reader.idle && io.eof) return next;
      yield* io.more();
    }
  });
}

/**
 * Raises the protocol error `code` (kept out of the hot loop: the message is
 * built here, so the reader stays small enough for V8 to inline its parsers).
 */
function fail(code: RespErrorCode, n: number, at: number): never {
  const detail: Record<string, string> = {
    ERR_RESP_BAD_LENGTH: `length ${n}`,
    ERR_RESP_TOO_LARGE: `${n} bytes or elements, over the configured limit`,
    ERR_RESP_TOO_DEEP: `more than ${n} levels`,
    ERR_RESP_UNSUPPORTED: `streamed string or aggregate part 0x${n.toString(16)}`,
    ERR_RESP_UNKNOWN_TYPE: `type byte 0x${n.toString(16)}`,
  };
  throw new RespProtocolError(code, detail[code] ?? String(n), at);
}

/** A blob error or verbatim string from its payload. */
function stringValue(t: number, data: Uint8Array, at: number): RespValue {
  if (t === BLOB_ERROR) return new RedisError(utf8.decode(data));
  // RESP3: =<len>\r\n<3-byte format>:<text>\r\n
  if (data.length < 4 || data[3] !== 0x3a) throw new RespProtocolError('ERR_RESP_MALFORMED', 'verbatim string without "fmt:"', at);
  return new RespVerbatim(text(data.subarray(0, 3)), data.subarray(4));
}

/** The value of the line-framed types other than simple strings (kept out of the hot loop). */
function lineValue(t: number, l: string, at: number): RespValue {
  switch (t) {
    case ERROR:
      return new RedisError(l);
    case NULL:
      if (l.length !== 0) throw new RespProtocolError('ERR_RESP_MALFORMED', 'null with a payload', at);
      return null;
    case BOOLEAN:
      if (l !== 't' && l !== 'f') throw new RespProtocolError('ERR_RESP_MALFORMED', 'boolean is not t or f', at);
      return l === 't';
    case DOUBLE:
      return parseDouble(l, at);
    default:
      if (!/^[+-]?[0-9]+$/.test(l)) throw new RespProtocolError('ERR_RESP_MALFORMED', `big number ${JSON.stringify(l)}`, at);
      return BigInt(l);
  }
}

/** The value of a completed aggregate (attribute frames are handled by the caller). */
function close(kind: number, items: RespValue[], attrs: RespMap | null = null): RespValue {
  switch (kind) {
    case K_MAP:
      return pairs(items);
    case K_SET:
      return new RespSet(items);
    case K_PUSH:
      return new RespPush(items);
    case K_ANNOTATED:
      return attrs === null ? items[0]! : new RespAttributed(items[0]!, attrs);
    default:
      return items;
  }
}

function pairs(items: RespValue[]): RespMap {
  const entries: [RespValue, RespValue][] = [];
  for (let i = 0; i < items.length; i += 2) entries.push([items[i]!, items[i + 1]!]);
  return new RespMap(entries);
}
