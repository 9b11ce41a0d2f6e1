/**
 * Conformance suite, organised like the Autobahn testsuite's categories (the case numbers in the test
 * names follow Autobahn's numbering where a case corresponds). Each case drives our sans-I/O connection
 * (mostly a server, as Autobahn's fuzzing client does; it echoes messages back) with exact frames built by
 * hand, and asserts the exact required behaviour: which frames come back, which close code, and whether
 * the connection fails fast (before the rest of the input arrives).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocketConnection, type CloseEvent, type WebSocketEvent } from '../../src/websocket/index.js';
import { concat, hex } from '../support/bytes.js';
import { Driver, assertClosedWith, closeBody, openClient, openServer, readFrames, summary, wire } from './support.js';

const TEXT = 1;
const BINARY = 2;
const CONT = 0;
const CLOSE = 8;
const PING = 9;
const PONG = 10;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const bytes = (n: number, seed = 0): Uint8Array => new Uint8Array(n).map((_, i) => (i * 131 + seed) & 0xff);
const textOf = (n: number): string => 'abcdefghij*'.repeat(Math.ceil(n / 11)).slice(0, n);

function closeEvent(d: Driver): CloseEvent {
  const e = d.events.find((x): x is CloseEvent => x.type === 'close');
  assert.ok(e !== undefined, 'a close event');
  return e;
}

/** Feeds all chunks, whole, byte by byte, and as frames: the outcome must be the same (frames written, events). */
function sameEverySplit(frames: Uint8Array[], check: (d: Driver) => void): void {
  const whole = openServer().feed(concat(...frames));
  check(whole);
  const frameWise = openServer().feed(...frames);
  check(frameWise);
  const bytewise = openServer().feedBytewise(concat(...frames));
  check(bytewise);
}

describe('1 framing: text and binary messages of every length class are echoed', () => {
  for (const n of [0, 125, 126, 127, 128, 65535, 65536]) {
    it(`1.1 text ${n} bytes`, () => {
      const t = textOf(n);
      const d = openServer().feed(wire({ opcode: TEXT, payload: t }));
      assert.deepStrictEqual(
        d.frames().map((f) => [f.opcode, f.fin, f.masked, new TextDecoder().decode(f.payload)]),
        [[TEXT, true, false, t]],
      );
      assert.equal(d.events[0]?.type, 'text');
    });
    it(`1.2 binary ${n} bytes`, () => {
      const b = bytes(n);
      const d = openServer().feed(wire({ opcode: BINARY, payload: b }));
      const f = d.frames();
      assert.equal(f.length, 1);
      assert.equal(f[0]!.opcode, BINARY);
      assert.deepStrictEqual(f[0]!.payload, b);
    });
  }
  it('1.1.8 / 1.2.8: 65536 bytes sent in chops of 997 bytes', () => {
    const b = bytes(65536, 3);
    const all = wire({ opcode: BINARY, payload: b });
    const chops: Uint8Array[] = [];
    for (let i = 0; i < all.length; i += 997) chops.push(all.slice(i, i + 997));
    const d = openServer().feed(...chops);
    assert.deepStrictEqual(d.frames()[0]!.payload, b);
  });
  it('a client receives unmasked frames and masks what it sends', () => {
    const d = openClient().feed(wire({ opcode: TEXT, payload: 'hi', mask: null }));
    const f = d.frames();
    assert.deepStrictEqual(summary(f), ['1:F:hi']);
    assert.equal(f[0]!.masked, true);
  });
  it('a server fails on an unmasked frame (1002), a client on a masked one', () => {
    assertClosedWith(openServer().feed(wire({ opcode: TEXT, payload: 'x', mask: null })), 1002, 'ERR_WS_UNMASKED_FRAME');
    assertClosedWith(openClient().feed(wire({ opcode: TEXT, payload: 'x' })), 1002, 'ERR_WS_MASKED_FRAME');
  });
  it('non-minimal length encodings fail with 1002 before the payload arrives', () => {
    const d = openServer().feed(hex('82 fe 00 05'));
    assertClosedWith(d, 1002, 'ERR_WS_NON_MINIMAL_LENGTH');
  });
});

describe('2 pings and pongs', () => {
  it('2.1 ping without payload → pong without payload', () => {
    const d = openServer().feed(wire({ opcode: PING }));
    assert.deepStrictEqual(summary(d.frames()), ['10:F:']);
    assert.deepStrictEqual(
      d.events.map((e) => e.type),
      ['ping'],
    );
  });
  it('2.2 / 2.3 ping with text and binary payload → pong with the same payload', () => {
    const payload = bytes(20, 9);
    const d = openServer().feed(wire({ opcode: PING, payload: 'Hello, world!' }), wire({ opcode: PING, payload }));
    const f = d.frames();
    assert.deepStrictEqual(summary(f.slice(0, 1)), ['10:F:Hello, world!']);
    assert.deepStrictEqual(f[1]!.payload, payload);
  });
  it('2.4 ping with 125 bytes → pong with 125 bytes', () => {
    const payload = bytes(125);
    const d = openServer().feed(wire({ opcode: PING, payload }));
    assert.deepStrictEqual(d.frames()[0]!.payload, payload);
  });
  it('2.5 ping with 126 bytes → fail 1002, no pong', () => {
    const d = openServer().feed(wire({ opcode: PING, payload: bytes(126) }));
    assert.deepStrictEqual(
      d.frames().map((f) => f.opcode),
      [CLOSE],
    );
    assertClosedWith(d, 1002, 'ERR_WS_CONTROL_TOO_LONG');
  });
  it('2.6 ping with 125 bytes sent byte by byte → pong', () => {
    const payload = bytes(125, 5);
    const d = openServer().feedBytewise(wire({ opcode: PING, payload }));
    assert.deepStrictEqual(d.frames()[0]!.payload, payload);
  });
  it('2.7 / 2.8 unsolicited pongs → nothing sent', () => {
    const d = openServer().feed(wire({ opcode: PONG }), wire({ opcode: PONG, payload: 'unsolicited' }));
    assert.deepStrictEqual(d.frames(), []);
    assert.deepStrictEqual(
      d.events.map((e) => e.type),
      ['pong', 'pong'],
    );
  });
  it('2.9 unsolicited pong, then ping → one pong for the ping', () => {
    const d = openServer().feed(wire({ opcode: PONG, payload: 'x' }), wire({ opcode: PING, payload: 'ping' }));
    assert.deepStrictEqual(summary(d.frames()), ['10:F:ping']);
  });
  it('2.10 / 2.11 ten pings (whole, then byte by byte) → ten pongs in order', () => {
    const pings = Array.from({ length: 10 }, (_, i) => wire({ opcode: PING, payload: `p${i}` }));
    const want = Array.from({ length: 10 }, (_, i) => `10:F:p${i}`);
    assert.deepStrictEqual(
      summary(
        openServer()
          .feed(concat(...pings))
          .frames(),
      ),
      want,
    );
    assert.deepStrictEqual(
      summary(
        openServer()
          .feedBytewise(concat(...pings))
          .frames(),
      ),
      want,
    );
  });
  it('autoPong off: the ping is reported and nothing is sent', () => {
    const d = openServer({ autoPong: false }).feed(wire({ opcode: PING, payload: 'x' }));
    assert.deepStrictEqual(d.frames(), []);
    assert.equal(d.events[0]?.type, 'ping');
  });
});

describe('3 reserved bits', () => {
  it('3.1 text with RSV1 → fail 1002', () => {
    assertClosedWith(openServer().feed(wire({ opcode: TEXT, rsv: 4, payload: 'x' })), 1002, 'ERR_WS_RESERVED_BITS');
  });
  for (const [id, rsv, how] of [
    ['3.2', 2, 'whole'],
    ['3.3', 3, 'frame-wise'],
    ['3.4', 4, 'byte by byte'],
  ] as const) {
    it(`${id} text, text with RSV=${rsv}, ping (${how}) → echo of the first, then fail; no pong`, () => {
      const frames = [
        wire({ opcode: TEXT, payload: 'Hello' }),
        wire({ opcode: TEXT, rsv, payload: 'Hello' }),
        wire({ opcode: PING, payload: 'p' }),
      ];
      const d = openServer();
      if (how === 'whole') d.feed(concat(...frames));
      else if (how === 'frame-wise') d.feed(...frames);
      else d.feedBytewise(concat(...frames));
      assert.deepStrictEqual(
        d.frames().map((f) => f.opcode),
        [TEXT, CLOSE],
      );
      assertClosedWith(d, 1002, 'ERR_WS_RESERVED_BITS');
    });
  }
  it('3.5 binary with RSV=5, 3.6 ping with RSV=6, 3.7 close with RSV=7 → fail 1002', () => {
    assertClosedWith(openServer().feed(wire({ opcode: BINARY, rsv: 5, payload: bytes(8) })), 1002);
    assertClosedWith(openServer().feed(wire({ opcode: PING, rsv: 6, payload: 'x' })), 1002);
    assertClosedWith(openServer().feed(wire({ opcode: CLOSE, rsv: 7, payload: closeBody(1000) })), 1002);
  });
  it('fails on the first byte: nothing else of the frame is needed', () => {
    assertClosedWith(openServer().feed(Uint8Array.of(0xc1)), 1002, 'ERR_WS_RESERVED_BITS');
  });
});

describe('4 opcodes', () => {
  for (const op of [3, 4, 5, 6, 7]) {
    it(`4.1 reserved non-control opcode ${op} → fail 1002 (after echoing the text before it)`, () => {
      const d = openServer().feed(
        wire({ opcode: TEXT, payload: 'before' }),
        wire({ opcode: op, payload: 'reserved' }),
        wire({ opcode: PING }),
      );
      assert.deepStrictEqual(summary(d.frames()).slice(0, 1), ['1:F:before']);
      assertClosedWith(d, 1002, 'ERR_WS_RESERVED_OPCODE');
    });
  }
  for (const op of [11, 12, 13, 14, 15]) {
    it(`4.2 reserved control opcode ${op} → fail 1002 on the first byte`, () => {
      assertClosedWith(openServer().feed(Uint8Array.of(0x80 | op)), 1002, 'ERR_WS_RESERVED_OPCODE');
    });
  }
});

describe('5 fragmentation', () => {
  it('5.1 / 5.2 fragmented ping / pong → fail 1002', () => {
    assertClosedWith(openServer().feed(wire({ opcode: PING, fin: false, payload: 'a' })), 1002, 'ERR_WS_CONTROL_FRAGMENTED');
    assertClosedWith(openServer().feed(wire({ opcode: PONG, fin: false, payload: 'a' })), 1002, 'ERR_WS_CONTROL_FRAGMENTED');
  });
  it('5.3-5.5 text in two fragments (whole, frame-wise, byte by byte) → one message echoed', () => {
    sameEverySplit([wire({ opcode: TEXT, fin: false, payload: 'fragment1' }), wire({ opcode: CONT, payload: 'fragment2' })], (d) => {
      assert.deepStrictEqual(summary(d.frames()), ['1:F:fragment1fragment2']);
      assert.equal(d.events.length, 1);
    });
  });
  it('5.6-5.8 two fragments with a ping between → pong first, then the echo', () => {
    sameEverySplit(
      [
        wire({ opcode: TEXT, fin: false, payload: 'fragment1' }),
        wire({ opcode: PING, payload: 'ping' }),
        wire({ opcode: CONT, payload: 'fragment2' }),
      ],
      (d) => assert.deepStrictEqual(summary(d.frames()), ['10:F:ping', '1:F:fragment1fragment2']),
    );
  });
  it('5.9-5.11 continuation (FIN) with nothing to continue → fail 1002', () => {
    sameEverySplit([wire({ opcode: CONT, payload: 'x' }), wire({ opcode: TEXT, payload: 'y' })], (d) => {
      assert.deepStrictEqual(
        d.frames().map((f) => f.opcode),
        [CLOSE],
      );
      assertClosedWith(d, 1002, 'ERR_WS_UNEXPECTED_CONTINUATION');
    });
  });
  it('5.12-5.14 continuation (no FIN) with nothing to continue → fail 1002', () => {
    sameEverySplit([wire({ opcode: CONT, fin: false, payload: 'x' }), wire({ opcode: TEXT, payload: 'y' })], (d) =>
      assertClosedWith(d, 1002),
    );
  });
  it('5.15 text(no FIN), continuation(FIN), continuation(no FIN), text → the first message is echoed, then fail', () => {
    const d = openServer().feed(
      wire({ opcode: TEXT, fin: false, payload: 'fragment1' }),
      wire({ opcode: CONT, payload: 'fragment2' }),
      wire({ opcode: CONT, fin: false, payload: 'fragment3' }),
      wire({ opcode: TEXT, payload: 'fragment4' }),
    );
    assert.deepStrictEqual(summary(d.frames()).slice(0, 1), ['1:F:fragment1fragment2']);
    assertClosedWith(d, 1002, 'ERR_WS_UNEXPECTED_CONTINUATION');
  });
  it('5.16 / 5.17 continuation first, then a fragmented text → fail at the first frame', () => {
    const d = openServer().feed(
      wire({ opcode: CONT, fin: false, payload: 'a' }),
      wire({ opcode: TEXT, fin: false, payload: 'b' }),
      wire({ opcode: CONT, payload: 'c' }),
    );
    assert.deepStrictEqual(
      d.frames().map((f) => f.opcode),
      [CLOSE],
    );
  });
  it('5.18 text(no FIN) then text(FIN) → fail 1002 (a continuation was expected)', () => {
    assertClosedWith(
      openServer().feed(wire({ opcode: TEXT, fin: false, payload: 'a' }), wire({ opcode: TEXT, payload: 'b' })),
      1002,
      'ERR_WS_EXPECTED_CONTINUATION',
    );
  });
  it('5.19 / 5.20 five fragments with pings between → every pong, then the message', () => {
    const frames = [
      wire({ opcode: TEXT, fin: false, payload: 'f1' }),
      wire({ opcode: CONT, fin: false, payload: 'f2' }),
      wire({ opcode: PING, payload: 'p1' }),
      wire({ opcode: CONT, fin: false, payload: 'f3' }),
      wire({ opcode: CONT, fin: false, payload: 'f4' }),
      wire({ opcode: PING, payload: 'p2' }),
      wire({ opcode: CONT, payload: 'f5' }),
    ];
    sameEverySplit(frames, (d) => assert.deepStrictEqual(summary(d.frames()), ['10:F:p1', '10:F:p2', '1:F:f1f2f3f4f5']));
  });
  it('empty fragments are fine', () => {
    const d = openServer().feed(
      wire({ opcode: BINARY, fin: false }),
      wire({ opcode: CONT, fin: false }),
      wire({ opcode: CONT, payload: bytes(3) }),
    );
    assert.deepStrictEqual(d.frames()[0]!.payload, bytes(3));
  });
});

// Markus Kuhn's UTF-8 decoder capability test classes, as Autobahn's 6.x cases use them.
const VALID_UTF8: [string, Uint8Array][] = [
  ['6.2 Hello-µ@ßöäüàá-UTF-8!!', utf8('Hello-µ@ßöäüàá-UTF-8!!')],
  ['6.5.1 κόσμε', hex('ce ba e1 bd b9 cf 83 ce bc ce b5')],
  ['6.6 first of each length', hex('00 c2 80 e0 a0 80 f0 90 80 80')],
  ['6.7 last of each length', hex('7f df bf ef bf bf f4 8f bf bf')],
  ['6.8 boundaries', hex('ed 9f bf ee 80 80 ef bf bd f4 8f bf bf')],
  ['6.9 noncharacters U+FFFE U+FFFF are valid', hex('ef bf be ef bf bf')],
];
const INVALID_UTF8: [string, Uint8Array][] = [
  ['6.3 κόσμε-edited (ED A0 80)', hex('ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64')],
  ['6.10 unexpected continuation', hex('80')],
  ['6.10 two continuations', hex('80 bf')],
  ['6.12 lonely start characters', hex('c0 20 c1 20')],
  ['6.14 sequence with the last byte missing', hex('e0 80')],
  ['6.15 concatenated incomplete sequences', hex('c0 e0 80 f0 80 80')],
  ['6.16 impossible bytes FE', hex('fe')],
  ['6.16 impossible bytes FF', hex('ff')],
  ['6.17 overlong slash (C0 AF)', hex('c0 af')],
  ['6.17 overlong slash (E0 80 AF)', hex('e0 80 af')],
  ['6.17 overlong slash (F0 80 80 AF)', hex('f0 80 80 af')],
  ['6.18 maximum overlong (F0 8F BF BF)', hex('f0 8f bf bf')],
  ['6.19 single surrogate (ED A0 80)', hex('ed a0 80')],
  ['6.19 single surrogate (ED BF BF)', hex('ed bf bf')],
  ['6.20 paired surrogates', hex('ed a0 80 ed b0 80')],
  ['above U+10FFFF (F4 90 80 80)', hex('f4 90 80 80')],
];

describe('6 UTF-8 handling', () => {
  it('6.1 empty text message, and empty fragments of a text message', () => {
    assert.deepStrictEqual(
      summary(
        openServer()
          .feed(wire({ opcode: TEXT }))
          .frames(),
      ),
      ['1:F:'],
    );
    assert.deepStrictEqual(
      summary(
        openServer()
          .feed(wire({ opcode: TEXT, fin: false }), wire({ opcode: CONT, fin: false }), wire({ opcode: CONT }))
          .frames(),
      ),
      ['1:F:'],
    );
  });
  for (const [name, payload] of VALID_UTF8) {
    it(`${name}: echoed, in one frame and fragmented at every byte`, () => {
      const d = openServer().feed(wire({ opcode: TEXT, payload }));
      assert.deepStrictEqual(d.frames()[0]!.payload, payload);
      for (let k = 1; k < payload.length; k++) {
        const f = openServer().feed(
          wire({ opcode: TEXT, fin: false, payload: payload.subarray(0, k) }),
          wire({ opcode: CONT, payload: payload.subarray(k) }),
        );
        assert.deepStrictEqual(f.frames()[0]!.payload, payload, `fragmented at ${k}`);
      }
    });
  }
  for (const [name, payload] of INVALID_UTF8) {
    it(`${name}: fail 1007, in one frame, fragmented at every byte, and byte by byte`, () => {
      assertClosedWith(openServer().feed(wire({ opcode: TEXT, payload })), 1007, 'ERR_WS_INVALID_UTF8');
      for (let k = 1; k < payload.length; k++) {
        const d = openServer().feed(
          wire({ opcode: TEXT, fin: false, payload: payload.subarray(0, k) }),
          wire({ opcode: CONT, payload: payload.subarray(k) }),
        );
        assertClosedWith(d, 1007);
        assert.equal(d.frames().filter((f) => f.opcode === TEXT).length, 0, 'nothing echoed');
      }
      assertClosedWith(openServer().feedBytewise(wire({ opcode: TEXT, payload })), 1007);
    });
  }
  it('6.4.1 fail fast: invalid UTF-8 in the first fragment fails before the second fragment arrives', () => {
    const payload = hex('ce ba e1 bd b9 cf 83 ce bc ce b5 f4 90 80 80');
    const d = openServer().feed(wire({ opcode: TEXT, fin: false, payload }));
    assertClosedWith(d, 1007, 'ERR_WS_INVALID_UTF8');
  });
  it('6.4.3 / 6.4.4 fail fast inside one frame: the invalid byte fails the connection before the rest of the payload arrives', () => {
    const payload = concat(
      hex('ce ba e1 bd b9 cf 83 ce bc ce b5'),
      hex('f4 90 80 80'),
      utf8('and then a lot more text that never needs to arrive'),
    );
    const frame = wire({ opcode: TEXT, payload });
    // The frame header is 6 bytes (masked, 7-bit length): the first invalid byte (0x90) is payload byte 12.
    const upToBad = frame.subarray(0, 6 + 12 + 1);
    const d = openServer().feedBytewise(upToBad);
    assertClosedWith(d, 1007, 'ERR_WS_INVALID_UTF8');
    const before = openServer().feedBytewise(frame.subarray(0, 6 + 12));
    assert.equal(before.done, false, 'not failed one byte earlier');
  });
  it('a text message that ends inside a sequence fails 1007 at its last frame', () => {
    const d = openServer().feed(wire({ opcode: TEXT, fin: false, payload: hex('e2 82') }));
    assert.equal(d.done, false);
    d.feed(wire({ opcode: CONT }));
    assertClosedWith(d, 1007);
  });
  it('binary messages are not checked', () => {
    assert.deepStrictEqual(
      openServer()
        .feed(wire({ opcode: BINARY, payload: hex('ff fe') }))
        .frames()[0]!.payload,
      hex('ff fe'),
    );
  });
});

describe('7 close handling', () => {
  it('7.1.1 echo, then close → close reply with the same code, clean', () => {
    const d = openServer().feed(wire({ opcode: TEXT, payload: 'Hello World!' }), wire({ opcode: CLOSE, payload: closeBody(1000) }));
    assert.deepStrictEqual(summary(d.frames()), ['1:F:Hello World!', `8:F:${new TextDecoder().decode(closeBody(1000))}`]);
    const c = closeEvent(d);
    assert.deepStrictEqual([c.code, c.wasClean, c.initiator, c.error], [1000, true, 'remote', null]);
  });
  it('7.1.2-7.1.4 nothing is read or sent after the close: a second close, a ping, a text stay unread', () => {
    const after = concat(
      wire({ opcode: CLOSE, payload: closeBody(1000) }),
      wire({ opcode: PING, payload: 'x' }),
      wire({ opcode: TEXT, payload: 'y' }),
    );
    const d = openServer().feed(concat(wire({ opcode: CLOSE, payload: closeBody(1000) }), after));
    assert.deepStrictEqual(
      d.frames().map((f) => f.opcode),
      [CLOSE],
    );
    assert.equal(d.done, true);
    assert.deepStrictEqual(d.conn.source.takeRest(), after, 'the bytes after the close frame are left in the Source');
  });
  it('7.1.5 close in the middle of a fragmented message → close reply, no echo', () => {
    const d = openServer().feed(
      wire({ opcode: TEXT, fin: false, payload: 'frag' }),
      wire({ opcode: CLOSE, payload: closeBody(1000) }),
      wire({ opcode: CONT, payload: 'x' }),
    );
    assert.deepStrictEqual(
      d.frames().map((f) => f.opcode),
      [CLOSE],
    );
  });
  it('7.3.1 close without a payload → close reply without a status, code 1005', () => {
    const d = openServer().feed(wire({ opcode: CLOSE }));
    assertClosedWith(d, undefined);
    assert.equal(closeEvent(d).code, 1005);
  });
  it('7.3.2 close with a 1-byte payload → fail 1002', () => {
    assertClosedWith(openServer().feed(wire({ opcode: CLOSE, payload: hex('03') })), 1002, 'ERR_WS_BAD_CLOSE_PAYLOAD');
  });
  it('7.3.3-7.3.5 close with a code and a reason up to 123 bytes → reply with the code', () => {
    for (const reason of ['', 'Hello World!', '*'.repeat(123)]) {
      const d = openServer().feed(wire({ opcode: CLOSE, payload: closeBody(1000, reason) }));
      assertClosedWith(d, 1000);
      assert.equal(closeEvent(d).reason, reason);
    }
  });
  it('7.3.6 close with a 124-byte reason (a 126-byte control payload) → fail 1002', () => {
    assertClosedWith(
      openServer().feed(wire({ opcode: CLOSE, payload: closeBody(1000, '*'.repeat(124)) })),
      1002,
      'ERR_WS_CONTROL_TOO_LONG',
    );
  });
  it('7.5.1 close reason that is not UTF-8 → fail 1007', () => {
    assertClosedWith(
      openServer().feed(wire({ opcode: CLOSE, payload: closeBody(1000, hex('ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80')) })),
      1007,
      'ERR_WS_INVALID_UTF8',
    );
  });
  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) {
    it(`7.7 valid close code ${code} is echoed`, () =>
      assertClosedWith(openServer().feed(wire({ opcode: CLOSE, payload: closeBody(code) })), code));
  }
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
    it(`7.9 / 7.13 invalid close code ${code} → fail 1002`, () =>
      assertClosedWith(openServer().feed(wire({ opcode: CLOSE, payload: closeBody(code) })), 1002, 'ERR_WS_INVALID_CLOSE_CODE'));
  }
  it('a locally started close: close frame out, messages still read, clean close when the peer answers', () => {
    const d = openServer();
    d.conn.close(1001, 'going');
    d.pump();
    assert.equal(d.conn.state, 'closing');
    assert.throws(
      () => d.conn.send('late'),
      (e: unknown) => (e as { code?: string }).code === 'ERR_USAGE',
    );
    d.feed(wire({ opcode: TEXT, payload: 'in flight' }), wire({ opcode: PING, payload: 'p' }));
    // The message sent before the peer saw our close is reported; no echo and no pong after our close.
    assert.deepStrictEqual(
      d.events.map((e) => e.type),
      ['text', 'ping'],
    );
    d.feed(wire({ opcode: CLOSE, payload: closeBody(1001) }));
    assert.deepStrictEqual(
      d.frames().map((f) => f.opcode),
      [CLOSE],
    );
    const c = closeEvent(d);
    assert.deepStrictEqual([c.code, c.wasClean, c.initiator, c.sent], [1001, true, 'local', { code: 1001, reason: 'going' }]);
    assert.equal(d.done, true);
  });
  it('the transport ending without a close frame is an abnormal closure (1006), also in the middle of a frame', () => {
    for (const input of [
      new Uint8Array(0),
      wire({ opcode: TEXT, payload: 'abc' }).subarray(0, 4),
      wire({ opcode: TEXT, payload: 'abc' }).subarray(0, 7),
    ]) {
      const d = openServer().feed(input).end();
      const c = closeEvent(d);
      assert.deepStrictEqual([c.code, c.wasClean, c.error?.code], [1006, false, 'ERR_WS_ABNORMAL_CLOSURE']);
      assert.deepStrictEqual(d.frames(), [], 'nothing is sent to a closed transport');
      assert.equal(d.done, true);
    }
  });
  it('failing the connection reports 1006 (no close frame received) and the code sent', () => {
    const d = openServer().feed(wire({ opcode: 3 }));
    const c = closeEvent(d);
    assert.deepStrictEqual([c.code, c.wasClean, c.sent?.code, c.error?.code], [1006, false, 1002, 'ERR_WS_RESERVED_OPCODE']);
  });
  it('the API refuses invalid close codes and long reasons', () => {
    const c = WebSocketConnection.open('server');
    for (const code of [999, 1005, 1006, 1015, 2000, 5000])
      assert.throws(
        () => c.close(code),
        (e: unknown) => (e as { code?: string }).code === 'ERR_USAGE',
      );
    assert.throws(
      () => c.close(1000, 'x'.repeat(124)),
      (e: unknown) => (e as { code?: string }).code === 'ERR_USAGE',
    );
  });
});

describe('9 limits', () => {
  it('9.1 / 9.2 large text and binary messages (4 MiB) in one frame, fed in 64 KiB chunks', () => {
    for (const op of [TEXT, BINARY]) {
      const payload = op === TEXT ? utf8(textOf(4 << 20)) : bytes(4 << 20, 1);
      const all = wire({ opcode: op, payload });
      const d = openServer({}, { echo: false });
      for (let i = 0; i < all.length; i += 65536) d.feed(all.subarray(i, i + 65536));
      const e = d.events[0]!;
      assert.ok(e.type === 'text' || e.type === 'binary');
      assert.deepStrictEqual(e.data, payload);
    }
  });
  it('9.3 / 9.4 a 1 MiB message in fragments of 64 B to 64 KiB', () => {
    const payload = bytes(1 << 20, 7);
    for (const size of [64, 4096, 65536]) {
      const frames: Uint8Array[] = [];
      for (let i = 0; i < payload.length; i += size) {
        frames.push(wire({ opcode: i === 0 ? BINARY : CONT, fin: i + size >= payload.length, payload: payload.subarray(i, i + size) }));
      }
      const d = openServer({}, { echo: false }).feed(concat(...frames));
      const e = d.events[0]!;
      assert.ok(e.type === 'binary');
      assert.deepStrictEqual(e.data, payload, `fragments of ${size}`);
    }
  });
  it('maxMessageSize: a frame header announcing more fails 1009 before any payload', () => {
    const d = openServer({ maxMessageSize: 1000 }).feed(hex('82 fe 03 e9'));
    assertClosedWith(d, 1009, 'ERR_WS_MESSAGE_TOO_BIG');
  });
  it('maxMessageSize: fragments adding up to more fail 1009 at the fragment that crosses it', () => {
    const d = openServer({ maxMessageSize: 1000 }).feed(wire({ opcode: BINARY, fin: false, payload: bytes(600) }));
    assert.equal(d.done, false);
    d.feed(wire({ opcode: CONT, payload: bytes(401) }).subarray(0, 4));
    assertClosedWith(d, 1009, 'ERR_WS_MESSAGE_TOO_BIG');
    assert.ok(
      !openServer({ maxMessageSize: 1000 }).feed(
        wire({ opcode: BINARY, fin: false, payload: bytes(600) }),
        wire({ opcode: CONT, payload: bytes(400) }),
      ).done,
    );
  });
  it('streamOver: a large message comes in pieces as it arrives, without being buffered whole', () => {
    const payload = bytes(200_000, 3);
    const all = wire({ opcode: BINARY, payload });
    const d = openServer({ streamOver: 1000 }, { echo: false });
    for (let i = 0; i < all.length; i += 50_000) d.feed(all.subarray(i, i + 50_000));
    const pieces = d.events.filter((e) => e.type === 'message-piece');
    assert.ok(pieces.length >= 4, `${pieces.length} pieces`);
    assert.equal(
      pieces.every((p) => p.type === 'message-piece' && p.binary),
      true,
    );
    assert.deepStrictEqual(
      pieces.map((p) => (p.type === 'message-piece' ? [p.first, p.fin] : [])),
      pieces.map((_, i) => [i === 0, i === pieces.length - 1]),
    );
    assert.deepStrictEqual(concat(...pieces.map((p) => (p.type === 'message-piece' ? p.data : new Uint8Array(0)))), payload);
  });
  it('streamOver: text pieces still fail fast on invalid UTF-8', () => {
    const d = openServer({ streamOver: 10 }, { echo: false }).feed(
      wire({ opcode: TEXT, fin: false, payload: 'a'.repeat(20) }),
      wire({ opcode: CONT, fin: false, payload: hex('ff') }),
    );
    assertClosedWith(d, 1007);
  });
});

describe('handshake then frames through the same input', () => {
  const request = (extra = ''): Uint8Array =>
    utf8(
      `GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
    );

  it('the bytes after the request head are the first frames (no byte lost), in one chunk', () => {
    const d = new Driver(WebSocketConnection.server()).feed(
      concat(request(), wire({ opcode: TEXT, payload: 'first' }), wire({ opcode: PING, payload: 'p' })),
    );
    const text = new TextDecoder().decode(d.written);
    assert.ok(text.startsWith('HTTP/1.1 101 Switching Protocols\r\n'));
    assert.ok(
      text.includes('\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n'.replace('sec-websocket-accept', 'Sec-WebSocket-Accept')),
    );
    const headEnd = text.indexOf('\r\n\r\n') + 4;
    assert.deepStrictEqual(summary(readFrames(d.written.subarray(headEnd))), ['1:F:first', '10:F:p']);
    assert.deepStrictEqual(
      d.events.map((e: WebSocketEvent) => e.type),
      ['open', 'text', 'ping'],
    );
  });
});
