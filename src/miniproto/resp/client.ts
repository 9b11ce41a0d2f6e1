/**
 * The RESP client codec, sans-I/O: encodes commands (arrays of bulk
 * strings), and matches replies to commands in order (pipelining: send as
 * many commands as you like before the first reply arrives). Push messages
 * (RESP3 `>`, and RESP2 pub/sub messages that arrive with no command
 * waiting) are reported apart.
 *
 * ```ts
 * const conn = new RespConnection();
 * const id = conn.command(['SET', 'key', bytes]);
 * // driver: conn.session.poll() → need-write (send it), need-read (feed replies),
 * //         event { type: 'reply', id, value }
 * ```
 */
import { EncodeError, UsageError, Writer } from '../../combinators/index.js';
import { Session, type SessionOptions } from '../index.js';
import { respReplies, type RespReaderOptions } from './decode.js';
import { RespPush, type RespValue } from './types.js';

/** A command argument: text (sent as UTF-8), bytes, or an integer (sent as its decimal text). */
export type RespArg = string | Uint8Array | number | bigint;

export type RespClientEvent =
  /** The reply to command `id` (an error reply is a `RedisError` value). */
  | { readonly type: 'reply'; readonly id: number; readonly value: RespValue }
  /** Out-of-band data: a RESP3 push, or a RESP2 pub/sub message. */
  | { readonly type: 'push'; readonly value: RespValue };

/** Arguments at least this long go out as their own chunk, without a copy. */
const ZERO_COPY_ARG = 16 * 1024;
const enc = new TextEncoder();

/** Bytes of a decimal number or an ASCII/UTF-8 string. */
function argBytes(a: RespArg): Uint8Array {
  if (a instanceof Uint8Array) return a;
  if (typeof a === 'number') {
    if (!Number.isFinite(a)) throw new EncodeError('ERR_ENCODE_RANGE', `RESP argument ${a}`);
    return ascii(String(a));
  }
  if (typeof a === 'bigint') return ascii(a.toString());
  return ascii(a);
}

/** Latin/ASCII text by hand (short command names and keys), UTF-8 otherwise. */
function ascii(s: string): Uint8Array {
  if (s.length > 64) return enc.encode(s);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return enc.encode(s);
    out[i] = c;
  }
  return out;
}

function writeDecimal(out: Uint8Array, at: number, n: number): number {
  if (n < 10) {
    out[at] = 0x30 + n;
    return at + 1;
  }
  const s = String(n);
  for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
  return at + s.length;
}

const decimalLength = (n: number): number => (n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : String(n).length);

/**
 * A command as RESP: `*<n>\r\n` then `$<len>\r\n<arg>\r\n` per argument
 * (the form every Redis server accepts). Returns the chunks to send in
 * order: small arguments are packed into one array; arguments of 16 KiB and
 * more are returned as they are (zero-copy), between packed parts.
 */
export function encodeCommand(args: readonly RespArg[]): Uint8Array[] {
  if (args.length === 0) throw new UsageError('encodeCommand: a command needs at least its name');
  const parts = args.map(argBytes);
  let size = 1 + decimalLength(parts.length) + 2;
  let large = false;
  for (const p of parts) {
    size += 1 + decimalLength(p.length) + 2 + p.length + 2;
    if (p.length >= ZERO_COPY_ARG) large = true;
  }
  if (!large) {
    // The common case: one array, filled by hand.
    const out = new Uint8Array(size);
    out[0] = 0x2a;
    let o = writeDecimal(out, 1, parts.length);
    out[o++] = 13;
    out[o++] = 10;
    for (const p of parts) {
      out[o++] = 0x24;
      o = writeDecimal(out, o, p.length);
      out[o++] = 13;
      out[o++] = 10;
      out.set(p, o);
      o += p.length;
      out[o++] = 13;
      out[o++] = 10;
    }
    return [out];
  }
  const chunks: Uint8Array[] = [];
  const w = new Writer({ initialSize: 256 });
  w.bytes(ascii(`*${parts.length}\r\n`));
  for (const p of parts) {
    w.bytes(ascii(`$${p.length}\r\n`));
    if (p.length >= ZERO_COPY_ARG) {
      chunks.push(w.toBytes(), p);
      w.reset();
    } else {
      w.bytes(p);
    }
    w.bytes(CRLF);
  }
  chunks.push(w.toBytes());
  return chunks;
}

const CRLF = Uint8Array.of(13, 10);

export interface RespConnectionOptions extends RespReaderOptions {
  /** Session options; maxBuffered defaults to maxBulk + 64 KiB so the largest bulk string fits. */
  readonly session?: SessionOptions;
}

/**
 * A RESP client connection without I/O: `command()` queues requests,
 * `session` is what a driver runs (`attachDuplex`, `runWebStreams`,
 * `runSync`), replies come out as events matched to command ids in order.
 */
export class RespConnection {
  readonly session: Session<RespClientEvent>;
  private readonly pending: number[] = [];
  private head = 0;
  private nextId = 1;

  constructor(options: RespConnectionOptions = {}) {
    const maxBulk = options.maxBulk ?? 64 * 1024 * 1024;
    const phaseOptions = {
      ...options,
      name: 'resp client',
      toEvent: (value: RespValue): RespClientEvent => this.route(value),
    };
    this.session = new Session(respReplies<RespClientEvent>(phaseOptions), {
      maxBuffered: maxBulk + 64 * 1024,
      ...options.session,
    });
  }

  /** Queues one command; returns its id (ids count up from 1, replies come back in the same order). */
  command(args: readonly RespArg[]): number {
    const chunks = encodeCommand(args);
    const id = this.nextId++;
    this.pending.push(id);
    for (const c of chunks) this.session.send(c);
    return id;
  }

  /** Commands sent and not yet answered. */
  get waiting(): number {
    return this.pending.length - this.head;
  }

  private route(value: RespValue): RespClientEvent {
    if (value instanceof RespPush) return { type: 'push', value };
    if (this.head === this.pending.length) {
      // RESP2 pub/sub: messages arrive as arrays while nothing waits for a reply.
      return { type: 'push', value };
    }
    const id = this.pending[this.head++]!;
    if (this.head === this.pending.length) {
      this.pending.length = 0;
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    return { type: 'reply', id, value };
  }
}
