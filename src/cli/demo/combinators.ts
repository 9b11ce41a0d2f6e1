/**
 * Part 1, combinators: decodes a large stream of a small binary protocol, fed
 * in random chunks, and checks every message against what was generated.
 *
 * The protocol: a message is a u8 type, a QUIC varint length (RFC 9000
 * section 16) and a body of exactly that length:
 *   type 1, reading: sensor u16, seq u32, time u64 (ms), value i32 (18 bytes)
 *   type 2, note:    seq u32, then UTF-8 text up to the end of the body
 *
 * The stream is encoded here by hand (DataView), not with pullwire's Writer,
 * so the check does not depend on the code under test. It is decoded twice:
 * streaming (a Decoder fed chunks of 1 byte to 64 KiB, seeded) and complete
 * mode (the whole buffer as one input).
 */
import {
  Decoder,
  END,
  NEED_READ,
  ParseError,
  Source,
  i32be,
  lengthPrefixed,
  rest,
  runComplete,
  struct,
  tagged,
  u16be,
  u32be,
  u64beNumber,
  u8,
  type ValueOf,
} from '../../combinators/index.js';
import { between, fail, int, outcome, rng, say, type DemoOptions, type PartOutcome } from './common.js';

// ---------------------------------------------------------------- the protocol

const reading = struct({ sensor: u16be, seq: u32be, time: u64beNumber, value: i32be }, 'reading');
const note = struct({ seq: u32be, text: rest }, 'note');
const message = tagged(u8, { 1: lengthPrefixed('varint', reading), 2: lengthPrefixed('varint', note) }, { name: 'message' });
type Message = ValueOf<typeof message>;

const TYPE_READING = 1;
const TYPE_NOTE = 2;
const READING_SIZE = 18;

// ---------------------------------------------------------------- generating the stream

/** What was generated, one column per field (typed arrays: 2M objects would dwarf the stream). */
interface Generated {
  readonly stream: Uint8Array;
  readonly type: Uint8Array;
  readonly sensor: Uint16Array;
  readonly seq: Uint32Array;
  readonly time: Float64Array;
  readonly value: Int32Array;
  /** Text of note i: textPool[textStart[i] .. textStart[i] + textLength[i]) */
  readonly textStart: Uint32Array;
  readonly textLength: Uint16Array;
  readonly textPool: Uint8Array;
}

const WORDS = ['door', 'open', 'closed', 'battery', 'low', 'ok', 'temperature', 'alarm', 'reset', 'sensor', 'été', 'über'].map((w) =>
  new TextEncoder().encode(w),
);

function generate(n: number, seed: number): Generated {
  const r = rng(seed);
  const type = new Uint8Array(n);
  const sensor = new Uint16Array(n);
  const seq = new Uint32Array(n);
  const time = new Float64Array(n);
  const value = new Int32Array(n);
  const textStart = new Uint32Array(n);
  const textLength = new Uint16Array(n);
  // Worst case per message: 1 type + 2 length + 4 seq + 200 text bytes.
  let stream: Uint8Array = new Uint8Array(n * 24 + 1024);
  let pool: Uint8Array = new Uint8Array(1 << 20);
  let poolEnd = 0;
  let o = 0;
  let clock = 1_700_000_000_000; // ms since 1970: above 2^32, so the u64 read needs both halves
  for (let i = 0; i < n; i++) {
    clock += between(r, 0, 50);
    seq[i] = i;
    if (o + 256 > stream.length) stream = grow(stream, o);
    const dv = new DataView(stream.buffer, o);
    if (r() < 0.9) {
      type[i] = TYPE_READING;
      sensor[i] = between(r, 0, 0xffff);
      time[i] = clock;
      value[i] = between(r, -0x80000000, 0x7fffffff);
      dv.setUint8(0, TYPE_READING);
      dv.setUint8(1, READING_SIZE); // varint, 1 byte: 18 < 64
      dv.setUint16(2, sensor[i]!);
      dv.setUint32(4, i);
      dv.setUint32(8, Math.floor(clock / 2 ** 32));
      dv.setUint32(12, clock % 2 ** 32);
      dv.setInt32(16, value[i]!);
      o += 2 + READING_SIZE;
    } else {
      type[i] = TYPE_NOTE;
      // Words joined by spaces, up to ~200 bytes: bodies cross the 63-byte line where the varint length takes 2 bytes.
      const start = poolEnd;
      const words = between(r, 0, 25);
      if (poolEnd + 256 > pool.length) pool = grow(pool, poolEnd);
      for (let w = 0; w < words && poolEnd - start < 180; w++) {
        if (w > 0) pool[poolEnd++] = 0x20;
        const word = WORDS[between(r, 0, WORDS.length - 1)]!;
        pool.set(word, poolEnd);
        poolEnd += word.length;
      }
      const len = poolEnd - start;
      textStart[i] = start;
      textLength[i] = len;
      const body = 4 + len;
      dv.setUint8(0, TYPE_NOTE);
      let h = 1;
      if (body < 64) dv.setUint8(h++, body);
      else {
        dv.setUint16(h, 0x4000 | body);
        h += 2;
      }
      dv.setUint32(h, i);
      stream.set(pool.subarray(start, poolEnd), o + h + 4);
      o += h + 4 + len;
    }
  }
  return { stream: stream.subarray(0, o), type, sensor, seq, time, value, textStart, textLength, textPool: pool };
}

function grow(b: Uint8Array, used: number): Uint8Array {
  const out = new Uint8Array(b.length * 2);
  out.set(b.subarray(0, used));
  return out;
}

/**
 * Chunk sizes as a socket might deliver them: log-uniform over 1 byte..64 KiB
 * (many small reads, some large), plus runs of 1-byte chunks now and then.
 */
function chunk(stream: Uint8Array, seed: number): { chunks: Uint8Array[]; ones: number } {
  const r = rng(seed ^ 0x5eed);
  const chunks: Uint8Array[] = [];
  let ones = 0;
  for (let o = 0; o < stream.length;) {
    if (r() < 0.01) {
      const run = between(r, 1, 64);
      for (let k = 0; k < run && o < stream.length; k++, o++, ones++) chunks.push(stream.subarray(o, o + 1));
      continue;
    }
    const size = Math.min(stream.length - o, Math.max(1, Math.floor(2 ** (r() * 16))));
    chunks.push(stream.subarray(o, o + size));
    o += size;
  }
  return { chunks, ones };
}

// ---------------------------------------------------------------- checking

class Checker {
  next = 0;
  mismatches = 0;
  constructor(
    private readonly g: Generated,
    private readonly mode: string,
  ) {}

  check(m: Message): void {
    const i = this.next++;
    if (!this.matches(m, i)) {
      this.mismatches++;
      if (this.mismatches <= 5) fail(`${this.mode}: message ${i} differs from what was generated: ${describe(m)}`);
    }
  }

  private matches(m: Message, i: number): boolean {
    const g = this.g;
    if (i >= g.type.length) return false;
    switch (m.tag) {
      case TYPE_READING: {
        const v = m.value;
        return (
          g.type[i] === TYPE_READING && v.sensor === g.sensor[i] && v.seq === g.seq[i] && v.time === g.time[i] && v.value === g.value[i]
        );
      }
      case TYPE_NOTE: {
        const v = m.value;
        const start = g.textStart[i]!;
        return g.type[i] === TYPE_NOTE && v.seq === g.seq[i] && equalBytes(v.text, g.textPool.subarray(start, start + g.textLength[i]!));
      }
      default: {
        const unexpected: never = m;
        return unexpected;
      }
    }
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function describe(m: Message): string {
  return JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : v));
}

// ---------------------------------------------------------------- the two modes

interface Outcome {
  readonly records: number;
  readonly seconds: number;
  readonly mismatches: number;
}

function streaming(g: Generated, chunks: readonly Uint8Array[]): Outcome {
  const checker = new Checker(g, 'streaming');
  const t0 = process.hrtime.bigint();
  const d = new Decoder(message);
  for (const c of chunks) {
    d.feed(c);
    for (let v = d.read(); v !== NEED_READ; v = d.read()) {
      if (v === END) break;
      checker.check(v);
    }
  }
  d.end();
  if (d.read() !== END) throw new Error('streaming: bytes left after the last message');
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { records: checker.next, seconds, mismatches: checker.mismatches };
}

function complete(g: Generated): Outcome {
  const checker = new Checker(g, 'complete');
  const t0 = process.hrtime.bigint();
  const src = Source.complete(g.stream);
  while (!src.atEnd) checker.check(runComplete(message, src));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { records: checker.next, seconds, mismatches: checker.mismatches };
}

// ---------------------------------------------------------------- the part

function report(label: string, out: Outcome, bytes: number, expected: number): boolean {
  const ok = out.mismatches === 0 && out.records === expected;
  const rate = out.records / out.seconds;
  const line =
    `${label} ${int(out.records)} messages ${ok ? 'match' : `FAIL (${int(out.mismatches)} differ, ${int(expected)} expected)`}` +
    ` in ${out.seconds.toFixed(2)} s: ${(rate / 1e6).toFixed(2)} M messages/s, ${(bytes / out.seconds / 1e6).toFixed(0)} MB/s`;
  if (ok) say(line);
  else fail(line);
  return ok;
}

export function runCombinators(opts: DemoOptions): PartOutcome {
  const g = generate(opts.records, opts.seed);
  const { chunks, ones } = chunk(g.stream, opts.seed);
  const mb = (g.stream.length / 1e6).toFixed(1);
  say(`${int(opts.records)} messages (u8 type, varint length, struct body), ${mb} MB, decoded twice`);
  try {
    let ok = report(
      `streaming: ${int(chunks.length)} chunks of 1 B..64 KiB (${int(ones)} of 1 byte):`,
      streaming(g, chunks),
      g.stream.length,
      opts.records,
    );
    ok = report(`complete:  one ${mb} MB buffer:`, complete(g), g.stream.length, opts.records) && ok;
    return outcome(ok);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    fail(`decoder error ${e.code} at offset ${e.offset}: ${e.message}`);
    return 'failed';
  }
}
