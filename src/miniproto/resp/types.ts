/**
 * RESP2/RESP3 values (the Redis serialization protocol, "RESP protocol
 * specification" in the Redis documentation) as JavaScript values.
 *
 * | wire type | value |
 * | --- | --- |
 * | simple string `+` | `string` |
 * | simple error `-`, blob error `!` | {@link RedisError} (a value; the client rejects with it) |
 * | integer `:` | `number` (a `bigint` beyond 2^53 - 1) |
 * | bulk string `$` | `Uint8Array` (a zero-copy view, see below) |
 * | null: `_`, RESP2 `$-1` and `*-1` | `null` |
 * | array `*` | `RespValue[]` |
 * | boolean `#` | `boolean` |
 * | double `,` | `number` (incl. `Infinity`, `-Infinity`, `NaN`) |
 * | big number `(` | `bigint` |
 * | verbatim string `=` | {@link RespVerbatim} |
 * | map `%` | {@link RespMap} (pairs in order: keys are often byte strings) |
 * | set `~` | {@link RespSet} |
 * | push `>` | {@link RespPush} (routed apart from replies) |
 * | attribute `|` | skipped, or {@link RespAttributed} around the value it annotates |
 *
 * Byte strings are views of the received buffers: valid as long as those
 * buffers are not modified (the Node client never modifies them); `.slice()`
 * to own a copy.
 */
import { PullwireError } from '../../combinators/index.js';
import { ProtocolError } from '../errors.js';

export type RespValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | RedisError
  | RespValue[]
  | RespMap
  | RespSet
  | RespVerbatim
  | RespPush
  | RespAttributed;

/**
 * An error reply from the server (`-ERR unknown command`, `!21\r\nSYNTAX ...`).
 * It is a value in arrays (e.g. EXEC results); a client call that gets one
 * as its reply rejects with it. Not a protocol failure: the connection is fine.
 */
export class RedisError extends PullwireError {
  declare readonly code: 'ERR_REDIS_REPLY';
  /** The error's first word, by Redis convention its kind: "ERR", "WRONGTYPE", "MOVED", "NOSCRIPT"... */
  readonly prefix: string;
  /** The whole error text as sent. */
  readonly text: string;
  constructor(text: string) {
    super('ERR_REDIS_REPLY', text);
    this.text = text;
    const sp = text.indexOf(' ');
    this.prefix = sp === -1 ? text : text.slice(0, sp);
  }
}

/** RESP3 map: key/value pairs in the order sent. */
export class RespMap {
  constructor(readonly entries: readonly (readonly [RespValue, RespValue])[]) {}
  get size(): number {
    return this.entries.length;
  }
  /** The value whose key is the string `key` (a simple string, or a byte string with that UTF-8 text). */
  get(key: string): RespValue | undefined {
    for (const [k, v] of this.entries) if (keyText(k) === key) return v;
    return undefined;
  }
  /** A plain object keyed by the keys' text (simple or byte strings; other keys are skipped). */
  toObject(): Record<string, RespValue> {
    const out: Record<string, RespValue> = {};
    for (const [k, v] of this.entries) {
      const t = keyText(k);
      if (t !== undefined) out[t] = v;
    }
    return out;
  }
}

const utf8 = new TextDecoder();
function keyText(k: RespValue): string | undefined {
  if (typeof k === 'string') return k;
  if (k instanceof Uint8Array) return utf8.decode(k);
  return undefined;
}

/** RESP3 set (kept as sent: RESP does not promise unique elements to a parser). */
export class RespSet {
  constructor(readonly items: readonly RespValue[]) {}
}

/** RESP3 verbatim string: a 3-letter format ("txt", "mkd") and the text bytes. */
export class RespVerbatim {
  constructor(
    readonly format: string,
    readonly data: Uint8Array,
  ) {}
  get text(): string {
    return utf8.decode(this.data);
  }
}

/** RESP3 out-of-band data (pub/sub messages, client-side caching invalidations). */
export class RespPush {
  constructor(readonly items: readonly RespValue[]) {}
  /** The push kind: its first element as text ("message", "invalidate"...). */
  get kind(): string | undefined {
    const k = this.items[0];
    return k === undefined ? undefined : keyText(k);
  }
}

/** A value with the RESP3 attributes sent before it (only when attributes are exposed). */
export class RespAttributed {
  constructor(
    readonly value: RespValue,
    readonly attributes: RespMap,
  ) {}
}

/** Every code the RESP codec raises for a broken reply stream, with its one-line meaning. */
export const RESP_ERROR_CODES = {
  ERR_RESP_UNKNOWN_TYPE: 'a reply starts with a byte that is no RESP2/RESP3 type',
  ERR_RESP_BAD_LENGTH: 'a length is negative (other than the RESP2 null -1)',
  ERR_RESP_TOO_LARGE: 'a bulk string or aggregate is larger than the configured limit',
  ERR_RESP_TOO_DEEP: 'aggregates nest deeper than the configured limit',
  ERR_RESP_MALFORMED: 'a boolean, double, big number, null or verbatim string is malformed',
  ERR_RESP_UNSUPPORTED: 'a RESP3 streamed string or aggregate (not used by Redis replies)',
  ERR_RESP_UNEXPECTED_REPLY: 'a reply arrived with no command waiting for it',
} as const;

export type RespErrorCode = keyof typeof RESP_ERROR_CODES;

/** The reply stream is broken: the connection must be closed. */
export class RespProtocolError extends ProtocolError {
  declare readonly code: RespErrorCode;
  constructor(code: RespErrorCode, detail: string, offset = -1) {
    super(code, `${RESP_ERROR_CODES[code]}: ${detail}${offset >= 0 ? ` (at offset ${offset})` : ''}`, offset);
  }
}
