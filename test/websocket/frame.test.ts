import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Decoder, NEED_READ, ParseError, Source, Writer, parse } from '../../src/combinators/index.js';
import {
  WebSocketError,
  encodeFrame,
  encodeFrameParts,
  frame,
  frameHeader,
  frameHeaderSize,
  maskCopy,
  maskInPlace,
  maskKeyAt,
  type Frame,
  type WebSocketErrorCode,
} from '../../src/websocket/index.js';
import { ascii, concat, hex } from '../support/bytes.js';
import { checkCorruption, checkParserSplits, fixture, streamingDecode, backToBack } from '../support/splits.js';

/** The frame a test expects, with the payload as plain bytes. */
const f = (fin: boolean, opcode: number, payload: Uint8Array, mask?: number, rsv = 0): Frame => ({ fin, rsv, opcode, mask, payload });

/** Independent mask: byte i XOR key byte i mod 4 (RFC 6455 section 5.3). */
function naiveMask(p: Uint8Array, key: Uint8Array): Uint8Array {
  return p.map((b, i) => b ^ key[i % 4]!);
}

const errCode = (code: WebSocketErrorCode) => (e: unknown) => e instanceof WebSocketError && e.code === code;

// RFC 6455 section 5.7.
const RFC_5_7 = {
  unmaskedHello: hex('81 05 48 65 6c 6c 6f'),
  maskedHello: hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'),
  fragmented1: hex('01 03 48 65 6c'),
  fragmented2: hex('80 02 6c 6f'),
  unmaskedPing: hex('89 05 48 65 6c 6c 6f'),
  maskedPong: hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58'),
  binary256Header: hex('82 7e 01 00'),
  binary64kHeader: hex('82 7f 00 00 00 00 00 01 00 00'),
};
const KEY = 0x37fa213d;

describe('RFC 6455 section 5.7 examples, decoded and encoded', () => {
  const cases: [string, Uint8Array, Frame][] = [
    ['single-frame unmasked text', RFC_5_7.unmaskedHello, f(true, 1, ascii('Hello'))],
    ['single-frame masked text', RFC_5_7.maskedHello, f(true, 1, ascii('Hello'), KEY)],
    ['first fragment', RFC_5_7.fragmented1, f(false, 1, ascii('Hel'))],
    ['last fragment', RFC_5_7.fragmented2, f(true, 0, ascii('lo'))],
    ['unmasked ping', RFC_5_7.unmaskedPing, f(true, 9, ascii('Hello'))],
    ['masked pong', RFC_5_7.maskedPong, f(true, 10, ascii('Hello'), KEY)],
  ];
  for (const [name, bytes, value] of cases) {
    it(name, () => {
      assert.deepStrictEqual(parse(frame(), bytes), value);
      const w = new Writer();
      frame().write(w, value);
      assert.deepStrictEqual(w.finish(), bytes);
      assert.deepStrictEqual(encodeFrame({ fin: value.fin, opcode: value.opcode, payload: value.payload, mask: value.mask }), bytes);
    });
  }
  it('256 bytes binary: 16-bit length', () => {
    const payload = new Uint8Array(256).map((_, i) => i);
    const bytes = concat(RFC_5_7.binary256Header, payload);
    assert.deepStrictEqual(parse(frame(), bytes), f(true, 2, payload));
    assert.deepStrictEqual(encodeFrame({ opcode: 2, payload }), bytes);
  });
  it('64 KiB binary: 64-bit length', () => {
    const payload = new Uint8Array(65536).map((_, i) => i * 7);
    const bytes = concat(RFC_5_7.binary64kHeader, payload);
    assert.deepStrictEqual(parse(frame(), bytes), f(true, 2, payload));
    assert.deepStrictEqual(encodeFrame({ opcode: 2, payload }), bytes);
  });
});

describe('payload lengths: 7, 16 and 64 bits at their boundaries (RFC 6455 section 5.2)', () => {
  for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
    it(`${n} bytes`, () => {
      const payload = new Uint8Array(n).map((_, i) => (i * 31) & 0xff);
      const bytes = encodeFrame({ opcode: 2, payload });
      // The header is written independently here: 7-bit up to 125, 126 + u16 up to 65535, else 127 + u64.
      const expectedHeader =
        n <= 125
          ? Uint8Array.of(0x82, n)
          : n <= 0xffff
            ? Uint8Array.of(0x82, 126, n >> 8, n & 0xff)
            : Uint8Array.of(0x82, 127, 0, 0, 0, 0, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
      assert.deepStrictEqual(bytes.subarray(0, expectedHeader.length), expectedHeader);
      assert.equal(frameHeaderSize(n, false), expectedHeader.length);
      assert.deepStrictEqual(parse(frame(), bytes).payload, payload);
    });
  }

  it('a 16-bit length below 126 is not minimal (1002)', () => {
    assert.throws(() => parse(frame(), concat(hex('82 7e 00 7d'), new Uint8Array(125))), errCode('ERR_WS_NON_MINIMAL_LENGTH'));
  });
  it('a 64-bit length below 65536 is not minimal', () => {
    assert.throws(
      () => parse(frame(), concat(hex('82 7f 00 00 00 00 00 00 ff ff'), new Uint8Array(65535))),
      errCode('ERR_WS_NON_MINIMAL_LENGTH'),
    );
  });
  it('a 64-bit length with the high bit set', () => {
    assert.throws(() => parse(frame(), hex('82 7f 80 00 00 00 00 01 00 00')), errCode('ERR_WS_LENGTH_HIGH_BIT'));
  });
  it('a length of 2^53 or more is too big (1009), never a precision loss', () => {
    assert.throws(() => parse(frame(), hex('82 7f 00 20 00 00 00 00 00 00')), errCode('ERR_WS_MESSAGE_TOO_BIG'));
  });
  it('maxPayload is enforced from the header alone', () => {
    const p = frameHeader({ maxPayload: 1000 });
    const src = new Source();
    src.feed(hex('82 7e 03 e9')); // 1001, no payload yet
    assert.throws(
      () => p.readFast(src),
      (e: unknown) => e instanceof WebSocketError && e.code === 'ERR_WS_MESSAGE_TOO_BIG' && e.closeCode === 1009,
    );
  });
  it('the length errors fail before the masking key arrives', () => {
    const src = new Source();
    src.feed(hex('82 fe 00 05')); // masked, 16-bit length 5: not minimal; no key yet
    assert.throws(() => frameHeader().readFast(src), errCode('ERR_WS_NON_MINIMAL_LENGTH'));
  });
});

describe('header rules, failing on the first byte that breaks them', () => {
  const firstByteOnly = (b0: number, rules = {}): unknown => {
    const src = new Source();
    src.feed(Uint8Array.of(b0));
    return frameHeader(rules).readFast(src);
  };
  for (const op of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    it(`reserved opcode 0x${op.toString(16)} (1002) from the first byte`, () => {
      assert.throws(
        () => firstByteOnly(0x80 | op),
        (e: unknown) => e instanceof WebSocketError && e.code === 'ERR_WS_RESERVED_OPCODE' && e.closeCode === 1002,
      );
    });
  }
  for (const rsv of [1, 2, 3, 4, 5, 6, 7]) {
    it(`RSV bits ${rsv.toString(2)} without an extension`, () => {
      assert.throws(() => firstByteOnly(0x81 | (rsv << 4)), errCode('ERR_WS_RESERVED_BITS'));
    });
  }
  it('RSV1 is allowed on data frames when an extension defines it, never RSV2/RSV3', () => {
    assert.deepStrictEqual(parse(frame({ allowedRsv: 4 }), hex('c1 01 00')), f(true, 1, Uint8Array.of(0), undefined, 4));
    assert.throws(() => parse(frame({ allowedRsv: 4 }), hex('a1 01 00')), errCode('ERR_WS_RESERVED_BITS'));
    assert.throws(() => parse(frame({ allowedRsv: 4 }), hex('91 01 00')), errCode('ERR_WS_RESERVED_BITS'));
  });
  it('RSV1 is never allowed on a control frame (RFC 7692 section 6.1)', () => {
    assert.throws(() => parse(frame({ allowedRsv: 4 }), hex('c9 00')), errCode('ERR_WS_RESERVED_BITS'));
  });
  it('a control frame without FIN (never fragmented)', () => {
    for (const op of [8, 9, 10]) assert.throws(() => firstByteOnly(op), errCode('ERR_WS_CONTROL_FRAGMENTED'));
  });
  it('a control frame longer than 125 bytes, from the second byte', () => {
    const src = new Source();
    src.feed(hex('89 7e'));
    assert.throws(() => frameHeader().readFast(src), errCode('ERR_WS_CONTROL_TOO_LONG'));
    assert.doesNotThrow(() => parse(frame(), concat(hex('89 7d'), new Uint8Array(125))));
  });
  it('a server rejects unmasked frames, a client masked ones (RFC 6455 section 5.1)', () => {
    assert.throws(() => parse(frame({ receiver: 'server' }), RFC_5_7.unmaskedHello), errCode('ERR_WS_UNMASKED_FRAME'));
    assert.throws(() => parse(frame({ receiver: 'client' }), RFC_5_7.maskedHello), errCode('ERR_WS_MASKED_FRAME'));
    assert.equal(parse(frame({ receiver: 'server' }), RFC_5_7.maskedHello).opcode, 1);
    assert.equal(parse(frame({ receiver: 'client' }), RFC_5_7.unmaskedHello).opcode, 1);
  });
  it('a header split anywhere reports how many bytes it still needs', () => {
    const bytes = concat(hex('82 ff 00 00 00 00 00 01 00 00 11 22 33 44'));
    for (let k = 0; k < bytes.length; k++) {
      const src = new Source();
      src.feed(bytes.subarray(0, k));
      const d = new Decoder(frameHeader(), src);
      assert.equal(d.read(), NEED_READ);
      if (k >= 2) assert.equal(d.needed, bytes.length - k, `after ${k} bytes`);
    }
  });
});

describe('encoder checks', () => {
  it('refuses reserved opcodes, long or fragmented control frames, bad keys', () => {
    const bad = (spec: Parameters<typeof encodeFrame>[0]) =>
      assert.throws(
        () => encodeFrame(spec),
        (e: unknown) => (e as { code?: string }).code === 'ERR_ENCODE_RANGE',
      );
    bad({ opcode: 3, payload: new Uint8Array(0) });
    bad({ opcode: 9, payload: new Uint8Array(126) });
    bad({ opcode: 8, fin: false, payload: new Uint8Array(0) });
    bad({ opcode: 1, payload: new Uint8Array(0), mask: 2 ** 32 });
  });
  it('encodeFrameParts: the payload itself after the header when unmasked, one array when masked or empty', () => {
    const big = new Uint8Array(5000).fill(7);
    const parts = encodeFrameParts({ opcode: 2, payload: big });
    assert.equal(parts.length, 2);
    assert.equal(parts[1], big);
    assert.deepStrictEqual(concat(...parts), encodeFrame({ opcode: 2, payload: big }));
    assert.equal(encodeFrameParts({ opcode: 2, payload: big, mask: 1 }).length, 1);
    assert.equal(encodeFrameParts({ opcode: 2, payload: new Uint8Array(0) }).length, 1);
    assert.equal(encodeFrameParts({ opcode: 2, payload: new Uint8Array(10) }).length, 2);
  });
  it('encodeFrame never modifies the payload it masks', () => {
    const p = ascii('do not touch');
    encodeFrame({ opcode: 1, payload: p, mask: 0xdeadbeef });
    assert.deepStrictEqual(p, ascii('do not touch'));
  });
});

describe('masking (word at a time) against a byte-by-byte definition', () => {
  it('any payload, offset, alignment and starting phase', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.nat(7),
        fc.nat(3),
        (p, key, pad, phase) => {
          // Place the payload at an arbitrary offset of a larger buffer to vary alignment.
          const buf = new Uint8Array(pad + p.length + 3);
          buf.set(p, pad);
          const k = maskKeyAt(key, 0);
          const rotated = Uint8Array.of(key[phase]!, key[(phase + 1) % 4]!, key[(phase + 2) % 4]!, key[(phase + 3) % 4]!);
          const end = maskInPlace(buf, pad, pad + p.length, k, phase);
          assert.deepStrictEqual(buf.subarray(pad, pad + p.length), naiveMask(p, rotated));
          assert.equal(end, (phase + p.length) % 4);
          const out = new Uint8Array(p.length + 5);
          maskCopy(p, out, 5 % (pad + 1), k, phase);
          assert.deepStrictEqual(out.subarray(5 % (pad + 1), (5 % (pad + 1)) + p.length), naiveMask(p, rotated));
        },
      ),
    );
  });
  it('masking in pieces equals masking at once', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 0xffffffff }), fc.array(fc.nat(200)), (p, key, cuts) => {
        const whole = p.slice();
        maskInPlace(whole, 0, whole.length, key);
        const pieces = p.slice();
        let phase = 0;
        let at = 0;
        for (const c of [...cuts.map((x) => Math.min(x, p.length))].sort((a, b) => a - b).concat([p.length])) {
          phase = maskInPlace(pieces, at, c, key, phase);
          at = c;
        }
        assert.deepStrictEqual(pieces, whole);
      }),
    );
  });
});

describe('streaming: chunk splits and corruption', () => {
  const payload = new Uint8Array(300).map((_, i) => i);
  const fixtures = backToBack(
    fixture(RFC_5_7.maskedHello, f(true, 1, ascii('Hello'), KEY)),
    fixture(RFC_5_7.unmaskedPing, f(true, 9, ascii('Hello'))),
    fixture(encodeFrame({ opcode: 2, payload, mask: 0x01020304 }), f(true, 2, payload, 0x01020304)),
    fixture(RFC_5_7.fragmented1, f(false, 1, ascii('Hel'))),
  );
  it('any split gives the same frames; trailing bytes stay in the Source; fed chunks are not modified', () => {
    checkParserSplits(frame(), fixtures, { numRuns: 60 });
  });
  it('random and mutated input gives frames or a typed error, never another exception', () => {
    const seeds = [
      RFC_5_7.maskedHello,
      RFC_5_7.unmaskedHello,
      RFC_5_7.fragmented1,
      RFC_5_7.maskedPong,
      concat(RFC_5_7.binary256Header, payload.subarray(0, 256)),
    ];
    const masked = [RFC_5_7.maskedHello, RFC_5_7.maskedPong, encodeFrame({ opcode: 2, payload, mask: 0x01020304 })];
    checkCorruption(streamingDecode(frame({ receiver: 'server', maxPayload: 1 << 20 })), masked, { numRuns: 150 });
    checkCorruption((b) => parse(frame(), b, { allowTrailing: true }), seeds, { numRuns: 150 });
  });
  it('a truncated frame in complete mode is ERR_UNEXPECTED_END', () => {
    assert.throws(
      () => parse(frame(), RFC_5_7.maskedHello.subarray(0, 8)),
      (e: unknown) => e instanceof ParseError && e.code === 'ERR_UNEXPECTED_END',
    );
  });
});
