/**
 * Benchmarks of the mini-protocol layer (src/miniproto), each against an
 * anchor in the same process:
 *
 * - record phases (`lines`, `lengthRecords`) in a Session, fed in 1500-byte
 *   and 64 KiB chunks, against a hand-written streaming loop over the same
 *   chunks (what one writes without a library: indexOf / a length prefix,
 *   subarray views, a carry-over buffer for the record cut by a chunk end);
 * - the RESP reply reader (resp/decode.ts, built only from the public API)
 *   against redis-parser, the parser ioredis uses (returnBuffers: true, as
 *   ioredis runs it), on the same Buffers: bulk strings, integers, nested
 *   arrays.
 *
 * Both sides hand every record/reply to the same kind of consumer, which
 * folds a few bytes of it into a digest; every run's digest must equal the
 * one the generator computed while writing the input.
 */
import RedisParser from 'redis-parser';
import { Session, lengthRecords, lines } from '../src/miniproto/index.js';
import { respReplies, type RespValue } from '../src/miniproto/resp/index.js';
import { defineCase, rng, type BenchCase, type Prepared } from './harness.js';

// ---------------------------------------------------------------- digests

const SEED = 0x811c9dc5;
const mix = (h: number, v: number): number => Math.imul(h ^ (v | 0), 0x01000193);

/** A record's digest: its length, first and last byte. */
function mixRecord(h: number, b: Uint8Array): number {
  const n = b.length;
  return mix(mix(mix(h, n), n > 0 ? b[0]! : 0), n > 0 ? b[n - 1]! : 0);
}

/** Splits `buf` into `size`-byte Buffers (views made up front: a socket hands over buffers it already allocated). */
function chunksOf(buf: Uint8Array, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; o < buf.length; o += size) out.push(Buffer.from(buf.buffer, buf.byteOffset + o, Math.min(size, buf.length - o)));
  return out;
}

function caseOf(name: string, unit: string, target: number, description: string, prepare: () => Prepared<number>): BenchCase {
  return defineCase({ name, unit, scale: 1e6, target, description, prepare });
}

// ---------------------------------------------------------------- records

type Framing = 'line' | 'u16be';

interface RecordData {
  buf: Uint8Array;
  expected: number;
}

/** `count` records of `size` bytes (printable, no CR/LF), framed by CRLF or a u16be length. */
function makeRecords(count: number, size: number, framing: Framing, seed: number): RecordData {
  const r = rng(seed);
  const per = size + 2;
  const buf = new Uint8Array(count * per);
  let h = SEED;
  let o = 0;
  for (let i = 0; i < count; i++) {
    if (framing === 'u16be') {
      buf[o++] = size >>> 8;
      buf[o++] = size & 0xff;
    }
    const start = o;
    for (let k = 0; k < size; k++) buf[o++] = 0x21 + Math.floor(r() * 94);
    h = mixRecord(h, buf.subarray(start, o));
    if (framing === 'line') {
      buf[o++] = 13;
      buf[o++] = 10;
    }
  }
  return { buf, expected: h >>> 0 };
}

/** Ours: a Session running the record phase, one receive + poll per chunk. */
function oursRecords(framing: Framing, chunks: Buffer[]): number {
  let h = SEED;
  const onRecord = (rec: Uint8Array): void => {
    h = mixRecord(h, rec);
  };
  const p = framing === 'line' ? lines({ max: 4096, onRecord }) : lengthRecords({ prefix: 'u16be', max: 4096, onRecord });
  const s = new Session(p);
  for (const c of chunks) {
    s.receive(c);
    const r = s.poll();
    if (r.type !== 'need-read') throw new Error(`unexpected ${r.type}`);
  }
  return h >>> 0;
}

/** The anchor: a hand-written streaming loop with a carry-over buffer. */
function handRecords(framing: Framing, chunks: Buffer[]): number {
  let h = SEED;
  let carry: Uint8Array | null = null;
  for (const chunk of chunks) {
    let b: Uint8Array = chunk;
    if (carry !== null) {
      const joined = new Uint8Array(carry.length + chunk.length);
      joined.set(carry, 0);
      joined.set(chunk, carry.length);
      b = joined;
      carry = null;
    }
    let o = 0;
    if (framing === 'line') {
      for (;;) {
        const j = b.indexOf(13, o);
        if (j === -1 || j + 1 >= b.length) break;
        if (b[j + 1] !== 10) throw new Error('bad line end');
        if (j - o > 4096) throw new Error('line too long');
        h = mixRecord(h, b.subarray(o, j));
        o = j + 2;
      }
    } else {
      while (o + 2 <= b.length) {
        const n = (b[o]! << 8) | b[o + 1]!;
        if (n > 4096) throw new Error('record too long');
        if (o + 2 + n > b.length) break;
        h = mixRecord(h, b.subarray(o + 2, o + 2 + n));
        o += 2 + n;
      }
    }
    if (o < b.length) carry = b.slice(o);
  }
  return h >>> 0;
}

function recordCase(framing: Framing, size: number, chunk: number, count: number, target: number): BenchCase {
  const label = `${framing === 'line' ? 'lines' : 'length'}-${size === 1024 ? '1k' : size}-${chunk === 1500 ? '1500' : '64k'}`;
  return caseOf(
    label,
    'M records/s',
    target,
    `${count / 1000}k ${size}-byte records (${framing === 'line' ? 'CRLF lines' : 'u16be length prefix'}) through a Session (${framing === 'line' ? 'lines' : 'lengthRecords'} phase, onRecord) in ${chunk}-byte chunks vs a hand-written streaming loop over the same chunks`,
    () => {
      const d = makeRecords(count, size, framing, size + chunk);
      const chunks = chunksOf(d.buf, chunk);
      return {
        ours: { items: count, run: () => oursRecords(framing, chunks) },
        anchor: { items: count, run: () => handRecords(framing, chunks) },
        checksum: (h) => h,
        expected: d.expected,
      };
    },
  );
}

// ---------------------------------------------------------------- RESP

type RespKind = 'bulk' | 'int' | 'nested';

/** One reply's bytes and the digest a decoder must compute for it. */
function makeReplies(kind: RespKind, count: number, seed: number): RecordData {
  const r = rng(seed);
  const parts: string[] = [];
  let h = SEED;
  for (let i = 0; i < count; i++) {
    if (kind === 'int') {
      const v = Math.floor(r() * 2 ** 40) - 2 ** 39;
      parts.push(`:${v}\r\n`);
      h = mix(h, v);
    } else if (kind === 'bulk') {
      const n = 8 + Math.floor(r() * 25);
      let s = '';
      for (let k = 0; k < n; k++) s += String.fromCharCode(0x61 + Math.floor(r() * 26));
      parts.push(`$${n}\r\n${s}\r\n`);
      h = mix(mix(mix(h, n), s.charCodeAt(0)), s.charCodeAt(n - 1));
    } else {
      // An HGETALL/LRANGE-like reply: [key, [int, bulk, [bulk, int]], int]
      const a = Math.floor(r() * 1000);
      const b = Math.floor(r() * 1e6);
      parts.push(`*3\r\n$4\r\nkey${a % 10}\r\n*3\r\n:${a}\r\n$5\r\nvalue\r\n*2\r\n$1\r\nx\r\n:${b}\r\n:7\r\n`);
      h = mix(mix(mix(mix(mix(mix(h, 4), 0x6b), 0x30 + (a % 10)), a), 5), 0x76);
      h = mix(mix(mix(mix(mix(h, 0x65), 1), 0x78), 0x78), b);
      h = mix(h, 7);
    }
  }
  return { buf: new TextEncoder().encode(parts.join('')), expected: h >>> 0 };
}

/** The same digest over a decoded reply, for both decoders (Buffers are Uint8Arrays). */
function mixReply(h: number, v: unknown): number {
  if (typeof v === 'number') return mix(h, v);
  if (v instanceof Uint8Array) {
    const n = v.length;
    return mix(mix(mix(h, n), v[0]!), v[n - 1]!);
  }
  if (Array.isArray(v)) {
    for (const x of v) h = mixReply(h, x);
    return h;
  }
  throw new Error(`unexpected reply ${String(v)}`);
}

function oursResp(chunks: Buffer[]): number {
  let h = SEED;
  const s = new Session(
    respReplies({
      onReply: (v: RespValue) => {
        h = mixReply(h, v);
      },
    }),
  );
  for (const c of chunks) {
    s.receive(c);
    const r = s.poll();
    if (r.type !== 'need-read') throw new Error(`unexpected ${r.type}`);
  }
  return h >>> 0;
}

function redisParserResp(chunks: Buffer[]): number {
  let h = SEED;
  const p = new RedisParser({
    returnBuffers: true,
    returnReply: (v) => {
      h = mixReply(h, v);
    },
    returnError: (e) => {
      throw e;
    },
    returnFatalError: (e) => {
      throw e;
    },
  });
  for (const c of chunks) p.execute(c);
  return h >>> 0;
}

function respCase(kind: RespKind, chunk: number, count: number): BenchCase {
  const what =
    kind === 'bulk' ? 'bulk strings of 8-32 bytes' : kind === 'int' ? 'integers (up to 2^39)' : 'nested arrays (3 levels, 8 elements)';
  return caseOf(
    `resp-${kind}-${chunk === 1500 ? '1500' : '64k'}`,
    'M replies/s',
    1.0,
    `${count / 1000}k RESP replies, ${what}, in ${chunk}-byte Buffers: our reply phase (Session, onReply) vs redis-parser 3 (returnBuffers) on the same Buffers`,
    () => {
      const d = makeReplies(kind, count, kind.length * 7 + chunk);
      const chunks = chunksOf(d.buf, chunk);
      return {
        ours: { items: count, run: () => oursResp(chunks) },
        anchor: { items: count, run: () => redisParserResp(chunks) },
        checksum: (h) => h,
        expected: d.expected,
      };
    },
  );
}

const SMALL = 1_000_000;
const LARGE = 50_000;

export const cases: BenchCase[] = [
  recordCase('line', 16, 1500, SMALL, 0.9),
  recordCase('line', 16, 65536, SMALL, 0.9),
  recordCase('line', 1024, 1500, LARGE, 0.9),
  recordCase('line', 1024, 65536, LARGE, 0.9),
  recordCase('u16be', 16, 1500, SMALL, 0.9),
  recordCase('u16be', 16, 65536, SMALL, 0.9),
  recordCase('u16be', 1024, 1500, LARGE, 0.9),
  recordCase('u16be', 1024, 65536, LARGE, 0.9),
  respCase('bulk', 65536, 500_000),
  respCase('int', 65536, 1_000_000),
  respCase('nested', 65536, 200_000),
  respCase('bulk', 1500, 500_000),
  respCase('int', 1500, 1_000_000),
  respCase('nested', 1500, 200_000),
];
