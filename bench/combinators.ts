/**
 * Benchmarks of the combinator core (src/combinators), each against an
 * anchor in the same process: hand-written DataView code (the physical limit
 * for a combinator), binary-parser, or our own complete mode (for the
 * streaming cases).
 *
 * How values are consumed matters more than anything else here. Keeping 1M
 * decoded values in an array costs ~20 ns per value in array growth and GC
 * (more than decoding a varint, ~3 ns), on both sides, which hides the
 * parser's own cost. So most cases hand every value to a consumer that folds
 * it into a digest and lets the object escape (`keep`), as a protocol
 * handler would; the `-array` cases measure the array-returning calls
 * (`parse(manyUntilEnd(...))`, `parseAll`) as a user collecting everything
 * would write them.
 *
 * Inputs come from a seeded generator that folds what it wrote into the
 * same digest; every run's digest must equal it, so a fast but broken parser
 * cannot pass.
 */
import { Parser as BinaryParser } from 'binary-parser';
import {
  Decoder,
  END,
  NEED_READ,
  Source,
  bytes,
  fromBinaryParser,
  gen,
  manyUntilEnd,
  parse,
  parseAll,
  runComplete,
  struct,
  u16be,
  u32be,
  u8,
  varint,
  type Parser,
} from '../src/combinators/index.js';
import { between, defineCase, rng, type BenchCase, type Prepared } from './harness.js';

// ---------------------------------------------------------------- digests

const DIGEST_SEED = 0x811c9dc5;

/** Folds a number (up to 2^53) into `h`: its low and high 32 bits. */
function mixNumber(h: number, v: number): number {
  return Math.imul(h ^ (v | 0) ^ Math.imul((v / 4294967296) | 0, 0x9e3779b1), 0x01000193);
}

/**
 * Where consumers put each decoded object, so it escapes: without it V8 may
 * optimize the allocation away on one side (escape analysis) and not the other.
 */
export let keep: unknown = null;

/** A digest where both sides' outputs are already numbers: one case shape for all. */
function digestCase(name: string, unit: string, target: number, description: string, prepare: () => Prepared<number>): BenchCase {
  return defineCase({ name, unit, scale: 1e6, target, description, prepare });
}

// ---------------------------------------------------------------- varints

interface VarintData {
  buf: Uint8Array;
  expected: number;
}

/**
 * `n` QUIC varints (RFC 9000 section 16), the four lengths equally likely,
 * each value uniform in the range that needs exactly that length (so the
 * encoding is the minimal one); 8-byte values stay below 2^53.
 */
function makeVarints(n: number, seed: number): VarintData {
  const r = rng(seed);
  const buf = new Uint8Array(n * 8);
  const dv = new DataView(buf.buffer);
  let h = DIGEST_SEED;
  let o = 0;
  for (let i = 0; i < n; i++) {
    const kind = between(r, 0, 3);
    let v: number;
    if (kind === 0) {
      v = between(r, 0, 0x3f);
      buf[o++] = v;
    } else if (kind === 1) {
      v = between(r, 0x40, 0x3fff);
      dv.setUint16(o, 0x4000 | v);
      o += 2;
    } else if (kind === 2) {
      v = between(r, 0x4000, 0x3fffffff);
      dv.setUint32(o, (0x80000000 | v) >>> 0);
      o += 4;
    } else {
      const hi = between(r, 1, 0x1fffff);
      const lo = between(r, 0, 0xffffffff);
      v = hi * 4294967296 + lo;
      dv.setUint32(o, (0xc0000000 | hi) >>> 0);
      dv.setUint32(o + 4, lo);
      o += 8;
    }
    h = mixNumber(h, v);
  }
  return { buf: buf.subarray(0, o), expected: h };
}

/**
 * The anchor: a hand-written DataView varint loop with the checks a real
 * decoder needs (truncation, the 2^53 limit), each value handed to the digest.
 */
function varintsByHand(buf: Uint8Array): number {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = buf.byteLength;
  let h = DIGEST_SEED;
  let o = 0;
  while (o < n) {
    const first = dv.getUint8(o);
    const tag = first >> 6;
    let v: number;
    if (tag === 0) {
      v = first;
      o += 1;
    } else {
      const len = 1 << tag;
      if (o + len > n) throw new Error('truncated varint');
      if (tag === 1) v = dv.getUint16(o) & 0x3fff;
      else if (tag === 2) v = dv.getUint32(o) & 0x3fffffff;
      else {
        const hi = dv.getUint32(o) & 0x3fffffff;
        if (hi >= 0x200000) throw new Error('varint above 2^53 - 1');
        v = hi * 4294967296 + dv.getUint32(o + 4);
      }
      o += len;
    }
    h = mixNumber(h, v);
  }
  return h;
}

/** The same loop collecting the values in an array first ("the same array of numbers"). */
function varintArrayByHand(buf: Uint8Array): number[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = buf.byteLength;
  const out: number[] = [];
  let o = 0;
  while (o < n) {
    const first = dv.getUint8(o);
    const tag = first >> 6;
    if (tag === 0) {
      out.push(first);
      o += 1;
      continue;
    }
    const len = 1 << tag;
    if (o + len > n) throw new Error('truncated varint');
    if (tag === 1) out.push(dv.getUint16(o) & 0x3fff);
    else if (tag === 2) out.push(dv.getUint32(o) & 0x3fffffff);
    else {
      const hi = dv.getUint32(o) & 0x3fffffff;
      if (hi >= 0x200000) throw new Error('varint above 2^53 - 1');
      out.push(hi * 4294967296 + dv.getUint32(o + 4));
    }
    o += len;
  }
  return out;
}

function digestNumbers(xs: readonly number[]): number {
  let h = DIGEST_SEED;
  for (let i = 0; i < xs.length; i++) h = mixNumber(h, xs[i]!);
  return h;
}

const VARINTS = 1_000_000;

const varintComplete = digestCase(
  'varint-complete-each',
  'M varints/s',
  0.6,
  `same input, one value at a time through the generic driver; ours: runComplete(varint, src) in a loop over Source.complete(buf), each value to a consumer; anchor: DataView loop, same consumer`,
  () => {
    const d = makeVarints(VARINTS, 1);
    return {
      ours: {
        items: VARINTS,
        run: () => {
          const src = Source.complete(d.buf);
          let h = DIGEST_SEED;
          while (!src.atEnd) h = mixNumber(h, runComplete(varint, src));
          return h;
        },
      },
      anchor: { items: VARINTS, run: () => varintsByHand(d.buf) },
      checksum: (h) => h,
      expected: d.expected,
    };
  },
);

const varintCompleteArray = digestCase(
  'varint-complete',
  'M varints/s',
  0.6,
  `${VARINTS / 1e6}M mixed 1/2/4/8-byte varints in one buffer, decoded in complete mode; ours: parse(manyUntilEnd(varint), buf) -> number[]; anchor: DataView loop pushing into number[] (digest of the array included on both sides)`,
  () => {
    const d = makeVarints(VARINTS, 1);
    const many = manyUntilEnd(varint);
    return {
      ours: { items: VARINTS, run: () => digestNumbers(parse(many, d.buf)) },
      anchor: { items: VARINTS, run: () => digestNumbers(varintArrayByHand(d.buf)) },
      checksum: (h) => h,
      expected: d.expected,
    };
  },
);

// ---------------------------------------------------------------- 16-byte records

/** A 16-byte record, e.g. a telemetry sample: two 16-bit ids and three 32-bit counters, big-endian. */
interface Record16 {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
}

const RECORD16 = 16;
const record16 = struct({ a: u16be, b: u16be, c: u32be, d: u32be, e: u32be }, 'record16');

/** binary-parser's definition of the same layout. */
function binaryParserRecord16(): BinaryParser {
  return new BinaryParser().uint16be('a').uint16be('b').uint32be('c').uint32be('d').uint32be('e');
}

function mixFields(h: number, a: number, b: number, c: number, d: number, e: number): number {
  return Math.imul(h ^ a ^ (b << 16) ^ Math.imul(c, 3) ^ Math.imul(d, 5) ^ Math.imul(e, 7), 0x01000193);
}

/** The consumer of a decoded record: reads every field, keeps the object alive past the call. */
function mixRecord(h: number, r: Record16): number {
  keep = r;
  return mixFields(h, r.a, r.b, r.c, r.d, r.e);
}

/**
 * The same consumer for the anchors. A separate function on purpose: its
 * property loads keep their own type feedback, so the objects of one side
 * (binary-parser returns dictionary-mode objects: it `delete`s two
 * properties) cannot make the other side's consumer megamorphic.
 */
function mixRecordAnchor(h: number, r: Record16): number {
  keep = r;
  return mixFields(h, r.a, r.b, r.c, r.d, r.e);
}

interface RecordData {
  buf: Uint8Array;
  expected: number;
}

function makeRecords(n: number, seed: number): RecordData {
  const r = rng(seed);
  const buf = new Uint8Array(n * RECORD16);
  const dv = new DataView(buf.buffer);
  let h = DIGEST_SEED;
  for (let i = 0; i < n; i++) {
    const o = i * RECORD16;
    const a = between(r, 0, 0xffff);
    const b = between(r, 0, 0xffff);
    const c = between(r, 0, 0xffffffff);
    const d = between(r, 0, 0xffffffff);
    const e = between(r, 0, 0xffffffff);
    dv.setUint16(o, a);
    dv.setUint16(o + 2, b);
    dv.setUint32(o + 4, c);
    dv.setUint32(o + 8, d);
    dv.setUint32(o + 12, e);
    h = mixFields(h, a, b, c, d, e);
  }
  return { buf, expected: h };
}

/** The anchor: hand-written DataView decoding into the same objects, same consumer. */
function recordsByHand(buf: Uint8Array): number {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = buf.byteLength;
  if (n % RECORD16 !== 0) throw new Error('truncated record');
  let h = DIGEST_SEED;
  for (let o = 0; o < n; o += RECORD16) {
    h = mixRecordAnchor(h, {
      a: dv.getUint16(o),
      b: dv.getUint16(o + 2),
      c: dv.getUint32(o + 4),
      d: dv.getUint32(o + 8),
      e: dv.getUint32(o + 12),
    });
  }
  return h;
}

function recordArrayByHand(buf: Uint8Array): Record16[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = buf.byteLength;
  if (n % RECORD16 !== 0) throw new Error('truncated record');
  const out: Record16[] = [];
  for (let o = 0; o < n; o += RECORD16) {
    out.push({ a: dv.getUint16(o), b: dv.getUint16(o + 2), c: dv.getUint32(o + 4), d: dv.getUint32(o + 8), e: dv.getUint32(o + 12) });
  }
  return out;
}

function digestRecords(rs: readonly Record16[]): number {
  let h = DIGEST_SEED;
  for (let i = 0; i < rs.length; i++) h = mixRecord(h, rs[i]!);
  return h;
}

function digestRecordsAnchor(rs: readonly Record16[]): number {
  let h = DIGEST_SEED;
  for (let i = 0; i < rs.length; i++) h = mixRecordAnchor(h, rs[i]!);
  return h;
}

/** Ours in complete mode, one value at a time: what a handler consuming records as it goes writes. */
function recordsComplete(p: Parser<Record16>, buf: Uint8Array): number {
  const src = Source.complete(buf);
  let h = DIGEST_SEED;
  while (!src.atEnd) h = mixRecord(h, runComplete(p, src));
  return h;
}

/** binary-parser has no stream or sequence API for a run of records: parse() each record's bytes. */
function recordsByBinaryParser(p: BinaryParser, buf: Uint8Array): number {
  let h = DIGEST_SEED;
  for (let o = 0; o + RECORD16 <= buf.length; o += RECORD16) h = mixRecordAnchor(h, p.parse(buf.subarray(o, o + RECORD16)) as Record16);
  return h;
}

/** Feeds `chunks` to a Decoder, consuming every value as soon as it is complete. */
function recordsStreamed(p: Parser<Record16>, chunks: readonly Uint8Array[]): number {
  const d = new Decoder(p);
  let h = DIGEST_SEED;
  for (const c of chunks) {
    d.feed(c);
    for (let v = d.read(); v !== NEED_READ; v = d.read()) {
      if (v === END) throw new Error('END before end()');
      h = mixRecord(h, v);
    }
  }
  d.end();
  if (d.read() !== END) throw new Error('bytes left after the last record');
  return h;
}

function split(buf: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < buf.length; o += size) out.push(buf.subarray(o, Math.min(buf.length, o + size)));
  return out;
}

const RECORDS = 1_000_000;
const RECORDS_BP = 200_000;
const LAYOUT = '16-byte records {a,b:u16be; c,d,e:u32be}';

const record16Complete = digestCase(
  'record16-complete',
  'M records/s',
  0.6,
  `${RECORDS / 1e6}M ${LAYOUT} to objects; ours: struct via runComplete in a loop over Source.complete(buf); anchor: DataView; each object to the same consumer`,
  () => {
    const d = makeRecords(RECORDS, 2);
    return {
      ours: { items: RECORDS, run: () => recordsComplete(record16, d.buf) },
      anchor: { items: RECORDS, run: () => recordsByHand(d.buf) },
      checksum: (h) => h,
      expected: d.expected,
    };
  },
);

const record16CompleteArray = digestCase(
  'record16-complete-array',
  'M records/s',
  0.6,
  `same, collected: ours parseAll(struct, buf) -> objects[]; anchor: DataView pushing objects (digest of the array included on both sides)`,
  () => {
    const d = makeRecords(RECORDS, 2);
    return {
      ours: { items: RECORDS, run: () => digestRecords(parseAll(record16, d.buf)) },
      anchor: { items: RECORDS, run: () => digestRecordsAnchor(recordArrayByHand(d.buf)) },
      checksum: (h) => h,
      expected: d.expected,
    };
  },
);

const record16VsBinaryParser = digestCase(
  'record16-vs-binary-parser',
  'M records/s',
  10,
  `${RECORDS_BP / 1e3}k records; ours: struct via runComplete loop; anchor: compiled binary-parser Parser, parse(subarray) per record`,
  () => {
    const d = makeRecords(RECORDS_BP, 3);
    const bp = binaryParserRecord16();
    return {
      ours: { items: RECORDS_BP, run: () => recordsComplete(record16, d.buf) },
      anchor: { items: RECORDS_BP, run: () => recordsByBinaryParser(bp, d.buf) },
      checksum: (h) => h,
      expected: d.expected,
    };
  },
);

const binaryParserBridge = digestCase(
  'binary-parser-bridge',
  'M records/s',
  10,
  `${RECORDS_BP / 1e3}k records; ours: fromBinaryParser(definition) via runComplete loop; anchor: the same definition's parse(subarray) per record`,
  () => {
    const d = makeRecords(RECORDS_BP, 4);
    const bp = binaryParserRecord16();
    const bridged = fromBinaryParser<Record16>(binaryParserRecord16());
    return {
      ours: { items: RECORDS_BP, run: () => recordsComplete(bridged, d.buf) },
      anchor: { items: RECORDS_BP, run: () => recordsByBinaryParser(bp, d.buf) },
      checksum: (h) => h,
      expected: d.expected,
    };
  },
);

function streamCase(name: string, chunkSize: number, records: number, target: number): BenchCase {
  // The anchor (complete mode) is much faster in the 1-byte case: repeat it so one timed run lasts long enough.
  const reps = Math.max(1, Math.round(RECORDS / records));
  const count = records >= 1e6 ? `${records / 1e6}M` : `${records / 1e3}k`;
  return digestCase(
    name,
    'M records/s',
    target,
    `${count} records fed to a Decoder(struct) in ${chunkSize}-byte chunks vs our complete mode (runComplete loop) on the same bytes; same consumer`,
    () => {
      const d = makeRecords(records, 5);
      // Chunks are views made up front: a socket hands over buffers it has already allocated.
      const chunks = split(d.buf, chunkSize);
      return {
        ours: { items: records, run: () => recordsStreamed(record16, chunks) },
        anchor: {
          items: records * reps,
          run: () => {
            let h = 0;
            for (let i = 0; i < reps; i++) h = recordsComplete(record16, d.buf);
            return h;
          },
        },
        checksum: (h) => h,
        expected: d.expected,
      };
    },
  );
}

// ---------------------------------------------------------------- TLV through gen()

interface Tlv {
  type: number;
  value: Uint8Array;
}

/** What a user writes for a TLV with gen(): straight-line code, one field per line. */
const tlvGen = gen('tlv', function* () {
  const type = yield* u8;
  const length = yield* varint;
  const value = yield* bytes(length);
  return { type, value };
});

/** Type, length and three sample bytes of the value (a full byte hash would cost more than parsing). */
function mixTlvFields(h: number, type: number, value: Uint8Array): number {
  const n = value.length;
  const sample = n === 0 ? 0 : value[0]! | (value[n >> 1]! << 8) | (value[n - 1]! << 16);
  return Math.imul(h ^ type ^ (n << 8) ^ Math.imul(sample, 0x9e3779b1), 0x01000193);
}

function mixTlv(h: number, t: Tlv): number {
  keep = t;
  return mixTlvFields(h, t.type, t.value);
}

/** The anchor's consumer: a separate copy, see mixRecordAnchor. */
function mixTlvAnchor(h: number, t: Tlv): number {
  keep = t;
  return mixTlvFields(h, t.type, t.value);
}

interface TlvData {
  buf: Uint8Array;
  expected: number;
}

/** TLVs (u8 type, varint length, value): 90 % short values (0..40 bytes, 1-byte length), 10 % 64..300 bytes (2-byte length). */
function makeTlvs(n: number, seed: number): TlvData {
  const r = rng(seed);
  const buf = new Uint8Array(n * 303);
  let h = DIGEST_SEED;
  let o = 0;
  for (let i = 0; i < n; i++) {
    const type = between(r, 0, 255);
    const len = r() < 0.9 ? between(r, 0, 40) : between(r, 64, 300);
    buf[o++] = type;
    if (len < 64) buf[o++] = len;
    else {
      buf[o++] = 0x40 | (len >> 8);
      buf[o++] = len & 0xff;
    }
    const start = o;
    for (let k = 0; k < len; k++) buf[o++] = between(r, 0, 255);
    h = mixTlvFields(h, type, buf.subarray(start, o));
  }
  return { buf: buf.slice(0, o), expected: h };
}

/** The anchor: a hand-written TLV loop over the whole buffer, values as views like ours. */
function tlvsByHand(buf: Uint8Array): number {
  const n = buf.length;
  let h = DIGEST_SEED;
  let o = 0;
  while (o < n) {
    if (o + 2 > n) throw new Error('truncated TLV');
    const type = buf[o]!;
    const first = buf[o + 1]!;
    const tag = first >> 6;
    let len: number;
    if (tag === 0) {
      len = first;
      o += 2;
    } else if (tag === 1) {
      if (o + 3 > n) throw new Error('truncated TLV');
      len = ((first & 0x3f) << 8) | buf[o + 2]!;
      o += 3;
    } else throw new Error('TLV length too large for this bench');
    if (o + len > n) throw new Error('truncated TLV');
    h = mixTlvAnchor(h, { type, value: buf.subarray(o, o + len) });
    o += len;
  }
  return h;
}

function tlvsStreamed(chunks: readonly Uint8Array[]): number {
  const d = new Decoder(tlvGen);
  let h = DIGEST_SEED;
  for (const c of chunks) {
    d.feed(c);
    for (let v = d.read(); v !== NEED_READ; v = d.read()) {
      if (v === END) throw new Error('END before end()');
      h = mixTlv(h, v);
    }
  }
  d.end();
  if (d.read() !== END) throw new Error('bytes left after the last TLV');
  return h;
}

const TLVS = 500_000;

const tlvGenStream = digestCase(
  'tlv-gen-stream-1500',
  'M records/s',
  0.2,
  `${TLVS / 1e3}k TLVs (u8 type, varint length, bytes); ours: a gen() parser fed to a Decoder in 1500-byte chunks; anchor: hand-written loop over the whole buffer`,
  () => {
    const d = makeTlvs(TLVS, 6);
    const chunks = split(d.buf, 1500);
    return {
      ours: { items: TLVS, run: () => tlvsStreamed(chunks) },
      anchor: { items: TLVS, run: () => tlvsByHand(d.buf) },
      checksum: (h) => h,
      expected: d.expected,
    };
  },
);

export const cases: BenchCase[] = [
  varintComplete,
  varintCompleteArray,
  record16Complete,
  record16CompleteArray,
  record16VsBinaryParser,
  binaryParserBridge,
  streamCase('record16-stream-1500', 1500, RECORDS, 0.67),
  streamCase('record16-stream-64k', 65536, RECORDS, 0.67),
  streamCase('record16-stream-1', 1, 50_000, 0.01),
  tlvGenStream,
];
