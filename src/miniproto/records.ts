/**
 * Ready-made phases: separator-delimited records (lines), length-delimited
 * records, and a request/response handshake; plus the encoders for the
 * first two.
 *
 * Record phases read with the parser's fast path in a loop inside one phase
 * run, so a phase that reads millions of records creates no generator and
 * makes no generator round trip per record; it suspends only when the input
 * runs short (or to emit an event, when no `onRecord` callback is given).
 */
import {
  EncodeError,
  INCOMPLETE,
  ParseError,
  Writer,
  u16be,
  u16le,
  u24be,
  u32be,
  u32le,
  u8,
  until,
  varint,
  type LengthPrefix,
  type Parser,
} from '../combinators/index.js';
import { phase, type Phase, type PhaseGen, type PhaseIO } from './session.js';

/** The event a record phase emits for each record when it has no `onRecord` callback. */
export interface RecordEvent {
  readonly type: 'record';
  /** Name of the phase that read it. */
  readonly phase: string;
  /**
   * The record, separator or length prefix excluded: a zero-copy view of a
   * received buffer when it lies in one (valid as long as that buffer is not
   * modified; `.slice()` to own a copy), else an owned copy.
   */
  readonly data: Uint8Array;
}

/**
 * What `onRecord` returns: nothing to go on reading records, a phase to
 * switch to it right after this record (the bytes after it are that phase's
 * input), or null to end the session's phase chain.
 */
export type RecordNext<E> = Phase<E> | null | undefined | void;

export interface RecordPhaseOptions<E> {
  /** Phase name (for `switched` results). */
  readonly name?: string;
  /**
   * Called for each record inside the phase's read loop: no event, no
   * generator round trip. The record view is borrowed as in {@link RecordEvent}.
   * Without it the phase emits a {@link RecordEvent} per record.
   */
  readonly onRecord?: (record: Uint8Array) => RecordNext<E | RecordEvent>;
  /** The phase that follows a clean end of input (at a record boundary). Default null: done. */
  readonly next?: Phase<E | RecordEvent> | null;
}

export interface LinesOptions<E> extends RecordPhaseOptions<E> {
  /** Record separator. Default CR LF. */
  readonly separator?: string | Uint8Array;
  /**
   * Longest record, separator excluded. Past it the phase fails with
   * ERR_TOO_LONG as soon as that many bytes arrived without a separator.
   * Default 8 KiB (SMTP's 1000-octet line limit and Redis's 64 KiB inline
   * limit bracket it; set your protocol's).
   */
  readonly max?: number;
}

const DEFAULT_MAX_LINE = 8 * 1024;

/**
 * Separator-delimited records. The separator is consumed and not returned;
 * the phase ends (returning `next`) when the input ends at a record
 * boundary, and fails with ERR_UNEXPECTED_END when it ends inside one.
 */
export function lines<E = never>(options: LinesOptions<E> = {}): Phase<E | RecordEvent> {
  const name = options.name ?? 'lines';
  const parser = until(options.separator ?? '\r\n', { max: options.max ?? DEFAULT_MAX_LINE, name });
  return recordPhase(name, parser, options);
}

export interface LengthRecordsOptions<E> extends RecordPhaseOptions<E> {
  /**
   * The length prefix: big/little-endian fixed widths, or a QUIC
   * variable-length integer (RFC 9000 section 16) for 'varint'.
   */
  readonly prefix: LengthPrefix;
  /**
   * Largest record length accepted: a larger prefix fails with ERR_TOO_LONG
   * before any of the record is buffered. Default 1 MiB. A record is handed
   * out whole, so it must also fit the session's `maxBuffered`.
   */
  readonly max?: number;
}

const PREFIX: Record<LengthPrefix, Parser<number>> = { u8, u16be, u16le, u24be, u32be, u32le, varint };
const DEFAULT_MAX_RECORD = 1024 * 1024;

/** Length-prefixed records; ends like {@link lines}. */
export function lengthRecords<E = never>(options: LengthRecordsOptions<E>): Phase<E | RecordEvent> {
  const name = options.name ?? `${options.prefix} records`;
  const prefix = PREFIX[options.prefix];
  const max = options.max ?? DEFAULT_MAX_RECORD;
  const onRecord = options.onRecord;
  const next = options.next ?? null;
  return phase<E | RecordEvent>(name, function* (io): PhaseGen<E | RecordEvent> {
    const src = io.source;
    for (;;) {
      if (src.ended && src.buffered === 0) return next;
      const at = src.position;
      const len = prefix.readFast(src);
      if (len === INCOMPLETE) {
        yield* io.more();
        continue;
      }
      if (len > max) throw new ParseError('ERR_TOO_LONG', at, `${name}: length <= ${max}`, `length ${len}`);
      // The prefix is consumed; this loop's locals keep the length while the body arrives.
      let data = io.take(len);
      while (data === INCOMPLETE) {
        yield* io.more();
        data = io.take(len);
      }
      if (onRecord === undefined) {
        yield* io.emit({ type: 'record', phase: name, data });
        continue;
      }
      const r = onRecord(data);
      if (r !== undefined) return r;
    }
  });
}

/** The shared loop of record phases whose record is one atomic parser read. */
function recordPhase<E>(name: string, parser: Parser<Uint8Array>, options: RecordPhaseOptions<E>): Phase<E | RecordEvent> {
  const onRecord = options.onRecord;
  const next = options.next ?? null;
  return phase<E | RecordEvent>(name, function* (io: PhaseIO<E | RecordEvent>): PhaseGen<E | RecordEvent> {
    const src = io.source;
    for (;;) {
      if (src.ended && src.buffered === 0) return next;
      const data = parser.readFast(src);
      if (data === INCOMPLETE) {
        yield* io.more();
        continue;
      }
      if (onRecord === undefined) {
        yield* io.emit({ type: 'record', phase: name, data });
        continue;
      }
      const r = onRecord(data);
      if (r !== undefined) return r;
    }
  });
}

// ---------------------------------------------------------------- handshake

/** What a handshake does after the peer's message: an optional reply, an optional event, and the next phase. */
export interface HandshakeOutcome<E> {
  /** Bytes to send back (a server's answer). */
  readonly reply?: Uint8Array;
  /** An event for the application (e.g. the negotiated parameters). */
  readonly event?: E;
  /** The phase that follows (null: done). */
  readonly next: Phase<E> | null;
}

export interface HandshakeOptions<T, E> {
  readonly name?: string;
  /** Bytes sent before reading (a client's request or greeting). Omit on the side that listens first. */
  readonly send?: Uint8Array;
  /** Parser of the peer's message (any combinator parser, e.g. `parseRequestHead()` or `line()`). */
  readonly expect: Parser<T>;
  /**
   * Checks the peer's message and decides what follows. Throw a
   * `ProtocolError` (e.g. `handshakeRejected(...)`) to fail the session.
   */
  readonly then: (message: T) => HandshakeOutcome<E>;
  /** Hold application output queued with `session.send` until the handshake is over. Default true. */
  readonly holdOutput?: boolean;
}

/**
 * One request/response exchange: write `send` (if any), read one `expect`
 * message, then write `then`'s reply (if any), emit its event (if any) and
 * switch to its next phase. The client side says need-write first, the
 * server side need-read first: the driver never guesses.
 */
export function handshake<T, E>(options: HandshakeOptions<T, E>): Phase<E> {
  const { send, expect, then } = options;
  return phase<E>(
    options.name ?? 'handshake',
    function* (io) {
      if (send !== undefined) yield* io.write(send);
      const message = yield* io.read(expect);
      const outcome = then(message);
      if (outcome.reply !== undefined) yield* io.write(outcome.reply);
      if (outcome.event !== undefined) yield* io.emit(outcome.event);
      return outcome.next;
    },
    { holdOutput: options.holdOutput ?? true },
  );
}

// ---------------------------------------------------------------- encoders

/** `record` followed by the separator (default CR LF). Raises ERR_ENCODE_RANGE when the record contains the separator. */
export function encodeLine(record: Uint8Array | string, separator: string | Uint8Array = '\r\n'): Uint8Array {
  const data = typeof record === 'string' ? new TextEncoder().encode(record) : record;
  const sep = typeof separator === 'string' ? new TextEncoder().encode(separator) : separator;
  if (sep.length === 0) throw new EncodeError('ERR_ENCODE_RANGE', 'encodeLine: empty separator');
  if (contains(data, sep)) throw new EncodeError('ERR_ENCODE_RANGE', 'encodeLine: the record contains the separator');
  const out = new Uint8Array(data.length + sep.length);
  out.set(data, 0);
  out.set(sep, data.length);
  return out;
}

/** The length prefix followed by `record` (one copy). Raises ERR_ENCODE_RANGE when the length does not fit the prefix. */
export function encodeLengthRecord(prefix: LengthPrefix, record: Uint8Array): Uint8Array {
  const w = new Writer({ initialSize: record.length + 8 });
  PREFIX[prefix].write(w, record.length);
  w.bytes(record);
  return w.finish();
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  const first = needle[0]!;
  for (let i = hay.indexOf(first); i !== -1 && i + needle.length <= hay.length; i = hay.indexOf(first, i + 1)) {
    let ok = true;
    for (let t = 1; t < needle.length && ok; t++) ok = hay[i + t] === needle[t];
    if (ok) return true;
  }
  return false;
}
