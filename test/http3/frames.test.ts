import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NEED_READ, Writer } from '../../src/combinators/index.js';
import { Http3Error, type Http3ErrorName } from '../../src/http3/errors.js';
import {
  FrameReader,
  decodeFrame,
  decodeFrames,
  encodeFrame,
  frameSize,
  isReservedCode,
  readSettings,
  reservedCode,
  type Http3Frame,
} from '../../src/http3/frames.js';
import { concat, hex } from '../support/bytes.js';
import { backToBack, checkCorruption, checkSplits, fixture, type SplitDriver } from '../support/splits.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Frames built by hand from the layouts of RFC 9114 section 7.2 (Type (i), Length (i), payload) and
 * the varint encoding of RFC 9000 section 16; independent of the encoder under test.
 */
const VECTORS: [string, string, Http3Frame][] = [
  ['DATA "hello"', '00 05 68656c6c6f', { type: 'data', payload: hex('68656c6c6f') }],
  ['empty DATA', '00 00', { type: 'data', payload: new Uint8Array(0) }],
  // QPACK field section: Required Insert Count 0, Base 0, indexed static entry 17 (:method GET) = 0xd1.
  ['HEADERS', '01 03 0000d1', { type: 'headers', fieldSection: hex('0000d1') }],
  ['CANCEL_PUSH 7', '03 01 07', { type: 'cancel-push', pushId: 7 }],
  [
    'SETTINGS QPACK_MAX_TABLE_CAPACITY=100, MAX_FIELD_SECTION_SIZE=512',
    '04 06 01 4064 06 4200',
    {
      type: 'settings',
      settings: [
        { id: 1, value: 100 },
        { id: 6, value: 512 },
      ],
    },
  ],
  ['empty SETTINGS', '04 00', { type: 'settings', settings: [] }],
  ['PUSH_PROMISE 3', '05 04 03 0000d1', { type: 'push-promise', pushId: 3, fieldSection: hex('0000d1') }],
  ['GOAWAY 4', '07 01 04', { type: 'goaway', id: 4 }],
  ['GOAWAY 2^62-4 (8-byte varint, above 2^53: clamped)', '07 08 fffffffffffffffc', { type: 'goaway', id: MAX_SAFE }],
  ['MAX_PUSH_ID 10', '0d 01 0a', { type: 'max-push-id', pushId: 10 }],
  ['reserved type 0x21', '21 02 abcd', { type: 'unknown', frameType: 0x21, payload: hex('abcd') }],
  ['reserved type 0x5f in a 2-byte varint', '405f 00', { type: 'unknown', frameType: 0x5f, payload: new Uint8Array(0) }],
  ['unknown type 0x0c (ORIGIN, not implemented)', '0c 01 00', { type: 'unknown', frameType: 0x0c, payload: hex('00') }],
];

describe('HTTP/3 frame codec: vectors', () => {
  for (const [name, bytes, frame] of VECTORS) {
    it(`decodes ${name}`, () => {
      assert.deepEqual(decodeFrame(hex(bytes)), frame);
    });
    if (!name.includes('clamped')) {
      it(`encodes ${name}`, () => {
        assert.deepEqual(encodeFrame(frame), hex(bytes));
        assert.equal(frameSize(frame), hex(bytes).length);
      });
    }
  }

  it('decodes frames back to back', () => {
    const all = concat(...VECTORS.map(([, b]) => hex(b)));
    assert.deepEqual(
      decodeFrames(all),
      VECTORS.map(([, , f]) => f),
    );
  });

  const errors: [string, string, Http3ErrorName][] = [
    ['HTTP/2 PRIORITY', '02 00', 'H3_FRAME_UNEXPECTED'],
    ['HTTP/2 PING', '06 08 0000000000000000', 'H3_FRAME_UNEXPECTED'],
    ['HTTP/2 WINDOW_UPDATE', '08 04 00000001', 'H3_FRAME_UNEXPECTED'],
    ['HTTP/2 CONTINUATION', '09 00', 'H3_FRAME_UNEXPECTED'],
    ['GOAWAY with a byte after its ID', '07 02 0400', 'H3_FRAME_ERROR'],
    ['GOAWAY with an empty payload', '07 00', 'H3_FRAME_ERROR'],
    ['GOAWAY whose varint runs past the payload', '07 01 40', 'H3_FRAME_ERROR'],
    ['CANCEL_PUSH with two varints', '03 02 0101', 'H3_FRAME_ERROR'],
    ['MAX_PUSH_ID empty', '0d 00', 'H3_FRAME_ERROR'],
    ['SETTINGS with an identifier and no value', '04 01 01', 'H3_FRAME_ERROR'],
    ['PUSH_PROMISE without its push ID', '05 00', 'H3_FRAME_ERROR'],
    ['a payload longer than the input', '00 05 6869', 'H3_FRAME_ERROR'],
    ['a truncated frame header', '40', 'H3_FRAME_ERROR'],
  ];
  for (const [name, bytes, code] of errors) {
    it(`rejects ${name}: ${code}`, () => {
      assert.throws(
        () => decodeFrames(hex(bytes)),
        (e: unknown) => e instanceof Http3Error && e.code === code,
      );
    });
  }
});

describe('HTTP/3 settings', () => {
  it('applies the defaults of RFC 9114 section 7.2.4.2 and RFC 9204 section 5', () => {
    const s = readSettings([]);
    assert.equal(s.qpackMaxTableCapacity, 0);
    assert.equal(s.qpackBlockedStreams, 0);
    assert.equal(s.maxFieldSectionSize, Infinity);
  });

  it('reads the known settings and ignores unknown and reserved ones', () => {
    const s = readSettings([
      { id: 0x21, value: 5 },
      { id: 0x1, value: 4096 },
      { id: 0x7, value: 16 },
      { id: 0x6, value: 1000 },
      { id: 0x33, value: 1 },
    ]);
    assert.deepEqual([s.qpackMaxTableCapacity, s.qpackBlockedStreams, s.maxFieldSectionSize], [4096, 16, 1000]);
  });

  for (const id of [0x2, 0x3, 0x4, 0x5]) {
    it(`rejects the HTTP/2 setting 0x${id.toString(16)} (section 7.2.4.1)`, () => {
      assert.throws(() => readSettings([{ id, value: 0 }]), { code: 'H3_SETTINGS_ERROR' });
    });
  }

  it('rejects a duplicate identifier (section 7.2.4)', () => {
    assert.throws(
      () =>
        readSettings([
          { id: 0x21, value: 1 },
          { id: 0x21, value: 2 },
        ]),
      { code: 'H3_SETTINGS_ERROR' },
    );
  });

  it('reserved codes are exactly 0x1f * N + 0x21', () => {
    const reserved = new Set<number>();
    for (let n = 0; n < 200; n++) reserved.add(0x1f * n + 0x21);
    for (let v = 0; v < 0x1f * 199 + 0x21; v++) assert.equal(isReservedCode(v), reserved.has(v), `0x${v.toString(16)}`);
    fc.assert(fc.property(fc.nat(2 ** 40), (n) => isReservedCode(reservedCode(n))));
  });
});

// ---------------------------------------------------------------------------------------------------
// streaming

/** Frames as the streaming reader sees them: unknown payloads are skipped, so only their length is known. */
type Seen = Http3Frame | { readonly type: 'skipped'; readonly frameType: number; readonly length: number };

function seen(f: Http3Frame): Seen {
  return f.type === 'unknown' ? { type: 'skipped', frameType: f.frameType, length: f.payload.length } : f;
}

/** Runs a FrameReader over chunks: DATA payload pieces are joined per frame (the test holds them, not the reader). */
const readerDriver: SplitDriver<Seen> = (want) => {
  const r = new FrameReader();
  let got = 0;
  let pieces: Uint8Array[] | null = null;
  const pull = (): Seen[] => {
    const out: Seen[] = [];
    while (got < want) {
      if (pieces !== null) {
        while (r.dataLeft > 0) {
          const d = r.readData();
          if (d === NEED_READ) return out;
          pieces.push(d.slice());
        }
        out.push({ type: 'data', payload: concat(...pieces) });
        pieces = null;
        got++;
        continue;
      }
      const f = r.next();
      if (f === NEED_READ) break;
      if (f.kind === 'data') pieces = [];
      else {
        out.push(f.kind === 'frame' ? f.frame : { type: 'skipped', frameType: f.frameType, length: f.length });
        got++;
      }
    }
    return out;
  };
  return {
    feed(chunk) {
      r.feed(chunk);
      return pull();
    },
    rest: () => r.source.takeRest(),
  };
};

const arbFrame: fc.Arbitrary<Http3Frame> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((payload): Http3Frame => ({ type: 'data', payload })),
  fc.uint8Array({ maxLength: 100 }).map((fieldSection): Http3Frame => ({ type: 'headers', fieldSection })),
  fc.nat(2 ** 40).map((pushId): Http3Frame => ({ type: 'cancel-push', pushId })),
  fc
    .array(fc.record({ id: fc.nat(2 ** 30), value: fc.nat(2 ** 50) }), { maxLength: 6 })
    .map((settings): Http3Frame => ({ type: 'settings', settings })),
  fc
    .record({ pushId: fc.nat(1000), fieldSection: fc.uint8Array({ maxLength: 50 }) })
    .map((v): Http3Frame => ({ type: 'push-promise', ...v })),
  fc.nat(2 ** 50).map((id): Http3Frame => ({ type: 'goaway', id })),
  fc.nat(2 ** 20).map((pushId): Http3Frame => ({ type: 'max-push-id', pushId })),
  fc
    .record({ n: fc.nat(1000), payload: fc.uint8Array({ maxLength: 200 }) })
    .map(({ n, payload }): Http3Frame => ({ type: 'unknown', frameType: reservedCode(n), payload })),
);

describe('HTTP/3 FrameReader', () => {
  it('any chunking gives the frames decodeFrames finds in the whole input (vectors)', () => {
    const known = VECTORS.filter(([name]) => !name.includes('clamped') && !name.includes('reserved') && !name.includes('unknown'));
    const fx = backToBack(...known.map(([, b, f]) => fixture<Seen>(hex(b), f)));
    checkSplits(readerDriver, fx);
    // Unknown frames are reported at their header (their payload is skipped afterwards): no boundary check,
    // and a known frame last, so the reader has finished skipping when the last value comes out.
    const withUnknown = backToBack(
      ...VECTORS.map(([, b, f]) => fixture<Seen>(hex(b), seen(f))),
      fixture<Seen>(hex('07 01 08'), { type: 'goaway', id: 8 }),
    );
    checkSplits(readerDriver, withUnknown, { boundaries: false });
  });

  it('any chunking of random frame sequences gives the same frames (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(arbFrame, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(400), { maxLength: 12 }), (frames, cuts) => {
        const bytes = concat(...frames.map(encodeFrame));
        const expected = decodeFrames(bytes).map(seen);
        assert.deepEqual(expected.map(plainFrame), frames.map(seen).map(plainFrame));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const session = readerDriver(frames.length);
        const got: Seen[] = [];
        let at = 0;
        for (const p of [...points, bytes.length]) {
          got.push(...session.feed(bytes.slice(at, p)));
          at = p;
        }
        assert.deepEqual(got.map(plainFrame), expected.map(plainFrame));
      }),
      { numRuns: 300 },
    );
  });

  it('hands out a DATA payload as views of the chunks fed, never buffering it', () => {
    const r = new FrameReader();
    const w = new Writer();
    w.varint(0).varint(3_000_000);
    r.feed(w.toBytes());
    const f = r.next();
    assert.deepEqual(f, { kind: 'data', length: 3_000_000 });
    let total = 0;
    for (let i = 0; i < 100; i++) {
      const chunk = new Uint8Array(30_000).fill(i);
      r.feed(chunk);
      const d = r.readData();
      assert.ok(d !== NEED_READ);
      assert.equal(d.buffer, chunk.buffer, 'a view of the chunk, not a copy');
      assert.equal(d.length, chunk.length);
      assert.equal(r.buffered, 0);
      total += d.length;
    }
    assert.equal(total, 3_000_000);
    assert.equal(r.dataLeft, 0);
    assert.ok(r.atFrameBoundary);
  });

  it('readData respects max and never reads past the frame', () => {
    const r = new FrameReader();
    r.feed(concat(hex('00 05 0102030405'), hex('07 01 04')));
    assert.deepEqual(r.next(), { kind: 'data', length: 5 });
    assert.deepEqual(r.readData(2), hex('0102'));
    assert.deepEqual(r.readData(), hex('030405'));
    assert.deepEqual(r.next(), { kind: 'frame', frame: { type: 'goaway', id: 4 } });
    assert.equal(r.next(), NEED_READ);
  });

  it('skips a large unknown frame as it arrives, holding nothing', () => {
    const r = new FrameReader();
    const w = new Writer();
    w.varint(reservedCode(7)).varint(1_000_000);
    r.feed(w.toBytes());
    assert.deepEqual(r.next(), { kind: 'unknown', frameType: reservedCode(7), length: 1_000_000 });
    for (let i = 0; i < 10; i++) {
      r.feed(new Uint8Array(100_000));
      assert.equal(r.next(), NEED_READ);
      assert.equal(r.buffered, 0);
    }
    r.feed(hex('07 01 08'));
    assert.deepEqual(r.next(), { kind: 'frame', frame: { type: 'goaway', id: 8 } });
  });

  it('refuses a HEADERS payload above its limit before buffering it: H3_EXCESSIVE_LOAD', () => {
    const r = new FrameReader({ maxFieldSectionFrame: 1000 });
    r.feed(hex('01 43e9')); // HEADERS, length 1001
    assert.throws(() => r.next(), { code: 'H3_EXCESSIVE_LOAD' });
    const s = new FrameReader({ maxControlFrame: 10 });
    s.feed(hex('04 0b'));
    assert.throws(() => s.next(), { code: 'H3_EXCESSIVE_LOAD' });
  });

  it('a stream that ends inside a frame is H3_FRAME_ERROR (section 7.1)', () => {
    for (const cut of ['00', '00 05 0102', '04 06 01', '40']) {
      const r = new FrameReader();
      r.feed(hex(cut));
      const f = r.next();
      if (f !== NEED_READ && f.kind === 'data') assert.ok(r.readData() !== NEED_READ);
      assert.throws(() => r.checkEnd(), { code: 'H3_FRAME_ERROR' }, cut);
    }
    const ok = new FrameReader();
    ok.feed(hex('07 01 04'));
    ok.next();
    assert.doesNotThrow(() => ok.checkEnd());
  });

  it('garbage never raises anything but Http3Error (complete and streaming)', () => {
    const isH3 = (e: unknown): boolean => e instanceof Http3Error;
    const valid = VECTORS.map(([, b]) => hex(b));
    checkCorruption(decodeFrames, valid, { isTypedError: isH3 });
    const streaming = (input: Uint8Array): void => {
      const r = new FrameReader({ maxFieldSectionFrame: 64, maxControlFrame: 64 });
      for (let i = 0; i < input.length; i += 3) {
        r.feed(input.slice(i, i + 3));
        for (;;) {
          if (r.dataLeft > 0) {
            if (r.readData(2) === NEED_READ) break;
            continue;
          }
          if (r.next() === NEED_READ) break;
        }
      }
      r.checkEnd();
    };
    checkCorruption(streaming, valid, { isTypedError: isH3 });
  });
});

function plainFrame(f: Seen): unknown {
  return JSON.parse(JSON.stringify(f, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v))) as unknown;
}
