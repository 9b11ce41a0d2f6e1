import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EncodeError } from '../../src/combinators/errors.js';
import { Writer } from '../../src/combinators/writer.js';
import { Source } from '../../src/combinators/source.js';
import { TransportError, type TransportErrorName } from '../../src/quic/errors.js';
import {
  cryptoDataCapacity,
  decodeFrames,
  encodeFrame,
  frameAllowedIn,
  frameKindOf,
  frameSize,
  FRAME_TYPES,
  isAckEliciting,
  readU62,
  streamDataCapacity,
  streamFrameOverhead,
  type EncodeFrameOptions,
  type Frame,
  type FrameKind,
  type PacketType,
} from '../../src/quic/frame.js';
import { concat, hex } from '../support/bytes.js';
import { checkCorruption } from '../support/splits.js';
import { A2_CRYPTO_FRAME, A3_PAYLOAD, A5_PAYLOAD } from '../vectors/rfc9001-frames.js';
import { anyFrame, frameArbitraries, plainValue } from './support/frames.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const ALL_PACKET_TYPES: readonly PacketType[] = ['initial', '0rtt', 'handshake', '1rtt'];

function encode(frames: readonly Frame[], lastOptions: EncodeFrameOptions = {}): Uint8Array {
  const w = new Writer();
  frames.forEach((f, i) => encodeFrame(w, f, i === frames.length - 1 ? lastOptions : {}));
  return w.toBytes();
}

/** Runs `fn`, expects a TransportError with this code (and frame type, when given). */
function rejects(fn: () => unknown, code: TransportErrorName, frameType?: number | null): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TransportError, `expected a TransportError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (frameType !== undefined) assert.equal(e.frameType, frameType);
    return true;
  });
}

/** A varint written with a forced width, for hand-made frames. */
function v(value: number | bigint, width?: 1 | 2 | 4 | 8): Uint8Array {
  return new Writer().varint(value, width).toBytes();
}

describe('RFC 9000 appendix A.1 varints', () => {
  const cases: [string, number | bigint][] = [
    ['c2197c5eff14e88c', 151288809941952652n],
    ['9d7f3e7d', 494878333],
    ['7bbd', 15293],
    ['25', 37],
    ['4025', 37],
  ];
  for (const [h, value] of cases) {
    it(`${h} -> ${value}`, () => {
      const s = Source.complete(hex(h));
      assert.equal(readU62(s), value);
      assert.equal(s.buffered, 0);
    });
  }

  it('an error code keeps all 62 bits; a limit saturates at 2^53 - 1', () => {
    const [close] = decodeFrames(hex('1d c2197c5eff14e88c 00'), '1rtt');
    assert.deepEqual(close, { type: 'connection-close', errorCode: 151288809941952652n, frameType: null, reason: new Uint8Array(0) });
    assert.deepEqual(decodeFrames(hex('10 c2197c5eff14e88c'), '1rtt'), [{ type: 'max-data', maximum: MAX_SAFE }]);
    assert.deepEqual(decodeFrames(hex('10 9d7f3e7d'), '1rtt'), [{ type: 'max-data', maximum: 494878333 }]);
  });
});

describe('RFC 9001 appendix A payloads', () => {
  const crypto = hex(A2_CRYPTO_FRAME);
  const a2Payload = concat(crypto, new Uint8Array(1162 - crypto.length));

  it('A.2: the client Initial payload is one CRYPTO frame and PADDING to 1162 bytes', () => {
    assert.equal(a2Payload.length, 1162);
    const frames = decodeFrames(a2Payload, 'initial');
    assert.equal(frames.length, 2);
    const [c, p] = frames;
    assert.ok(c !== undefined && c.type === 'crypto');
    assert.equal(c.offset, 0);
    assert.equal(c.data.length, 0xf1);
    assert.deepEqual(new Uint8Array(c.data), crypto.subarray(4));
    assert.equal(c.data[0], 0x01, 'a ClientHello (handshake type 1)');
    // Zero-copy: the data is a view into the payload.
    assert.equal(c.data.buffer, a2Payload.buffer);
    assert.equal(c.data.byteOffset, a2Payload.byteOffset + 4);
    assert.deepEqual(p, { type: 'padding', length: 1162 - 245 });
    assert.equal(isAckEliciting(c), true);
    // Byte-exact both ways.
    assert.deepEqual(encode(frames), a2Payload);
  });

  it('A.3: the server Initial payload is an ACK of packet 0 and a CRYPTO frame', () => {
    const payload = hex(A3_PAYLOAD);
    const frames = decodeFrames(payload, 'initial');
    assert.equal(frames.length, 2);
    assert.deepEqual(frames[0], { type: 'ack', ackDelay: 0, ranges: [[0, 0]], ecn: null });
    const c = frames[1]!;
    assert.ok(c.type === 'crypto');
    assert.equal(c.offset, 0);
    assert.equal(c.data.length, 0x5a);
    assert.equal(c.data[0], 0x02, 'a ServerHello (handshake type 2)');
    assert.deepEqual(encode(frames), payload);
  });

  it('A.5: the short-header payload is one PING', () => {
    assert.deepEqual(decodeFrames(hex(A5_PAYLOAD), '1rtt'), [{ type: 'ping' }]);
  });
});

describe('round trips (encode -> decode equal, size exact)', () => {
  for (const kind of Object.keys(frameArbitraries) as FrameKind[]) {
    it(kind, () => {
      fc.assert(
        fc.property(frameArbitraries[kind] as fc.Arbitrary<Frame>, (frame) => {
          const bytes = encode([frame]);
          assert.equal(frameSize(frame), bytes.length, 'frameSize is exact');
          assert.deepEqual(plainValue(decodeFrames(bytes, '1rtt')), [plainValue(frame)]);
        }),
        { numRuns: 150 },
      );
    });
  }

  it('STREAM and DATAGRAM without a Length field run to the end of the packet', () => {
    const arb = fc.tuple(
      fc.array(
        anyFrame.filter((f) => f.type !== 'padding' && f.type !== 'stream' && f.type !== 'datagram'),
        { maxLength: 5 },
      ),
      fc.oneof(frameArbitraries.stream as fc.Arbitrary<Frame>, frameArbitraries.datagram as fc.Arbitrary<Frame>),
    );
    fc.assert(
      fc.property(arb, ([head, last]) => {
        const bytes = encode([...head, last], { implicitLength: true });
        assert.equal(head.reduce((n, f) => n + frameSize(f), 0) + frameSize(last, { implicitLength: true }), bytes.length);
        assert.deepEqual(plainValue(decodeFrames(bytes, '1rtt')), plainValue([...head, last]));
      }),
      { numRuns: 200 },
    );
  });

  it('several frames back to back', () => {
    const arb = fc.array(
      anyFrame.filter((f) => f.type !== 'padding'),
      { minLength: 1, maxLength: 10 },
    );
    fc.assert(
      fc.property(arb, (frames) => {
        assert.deepEqual(plainValue(decodeFrames(encode(frames), '1rtt')), plainValue(frames));
      }),
      { numRuns: 200 },
    );
  });

  it('the STREAM type bits: OFF only for offset > 0, LEN unless implicit, FIN', () => {
    const data = hex('aabb');
    assert.deepEqual(encode([{ type: 'stream', streamId: 4, offset: 0, fin: false, data }]), hex('0a 04 02 aabb'));
    assert.deepEqual(encode([{ type: 'stream', streamId: 4, offset: 1, fin: true, data }]), hex('0f 04 01 02 aabb'));
    assert.deepEqual(encode([{ type: 'stream', streamId: 4, offset: 0, fin: true, data }], { implicitLength: true }), hex('09 04 aabb'));
    // Decoding accepts every combination, including OFF with offset 0.
    assert.deepEqual(plainValue(decodeFrames(hex('0c 04 00 aabb'), '1rtt')), [
      { type: 'stream', streamId: 4, offset: 0, fin: false, data },
    ]);
    assert.deepEqual(plainValue(decodeFrames(hex('0b 04 00'), '1rtt')), [
      { type: 'stream', streamId: 4, offset: 0, fin: true, data: new Uint8Array(0) },
    ]);
  });

  it('ACK ranges on the wire (RFC 9000 section 19.3.1 formulas)', () => {
    // largest 100, first range 5 -> [95,100]; gap 3 -> largest 95-3-2 = 90, len 10 -> [80,90]; gap 0 -> 78, len 0 -> [78,78].
    const wire = hex('02 4064 00 02 05 03 0a 00 00');
    const ack: Frame = {
      type: 'ack',
      ackDelay: 0,
      ranges: [
        [95, 100],
        [80, 90],
        [78, 78],
      ],
      ecn: null,
    };
    assert.deepEqual(decodeFrames(wire, 'handshake'), [ack]);
    assert.deepEqual(encode([ack]), wire);
    const ecn: Frame = { type: 'ack', ackDelay: 7, ranges: [[0, 3]], ecn: { ect0: 1, ect1: 2, ce: 3 } };
    assert.deepEqual(encode([ecn]), hex('03 03 07 00 03 01 02 03'));
    // Ranges reaching exactly packet number 0 are fine.
    assert.deepEqual(decodeFrames(hex('02 05 00 01 01 02 00'), '1rtt'), [
      {
        type: 'ack',
        ackDelay: 0,
        ranges: [
          [4, 5],
          [0, 0],
        ],
        ecn: null,
      },
    ]);
  });
});

describe('the frame table (RFC 9000 section 12.4, Table 3; RFC 9221)', () => {
  // Which frames each packet type may carry, from RFC 9000 sections 17.2.2, 17.2.4, 12.5 and Table 3.
  const initialOrHandshake = [0x00, 0x01, 0x02, 0x03, 0x06, 0x1c];
  const notIn0Rtt = [0x02, 0x03, 0x06, 0x07, 0x1b, 0x1e];
  const known = [...Array.from({ length: 0x1f }, (_, i) => i), 0x30, 0x31];

  it('allows exactly the RFC packet types for every type code', () => {
    for (const code of known) {
      assert.equal(frameAllowedIn(code, 'initial'), initialOrHandshake.includes(code), `0x${code.toString(16)} in Initial`);
      assert.equal(frameAllowedIn(code, 'handshake'), initialOrHandshake.includes(code), `0x${code.toString(16)} in Handshake`);
      assert.equal(frameAllowedIn(code, '0rtt'), !notIn0Rtt.includes(code), `0x${code.toString(16)} in 0-RTT`);
      assert.equal(frameAllowedIn(code, '1rtt'), true, `0x${code.toString(16)} in 1-RTT`);
    }
    for (const code of [0x1f, 0x20, 0x2f, 0x32, 0x3f, 0x40]) assert.equal(frameKindOf(code), undefined);
  });

  it('marks ACK, PADDING and CONNECTION_CLOSE as not ack-eliciting, and only ACK as not congestion controlled', () => {
    const notEliciting = Object.entries(FRAME_TYPES)
      .filter(([, t]) => !t.ackEliciting)
      .map(([k]) => k);
    assert.deepEqual(notEliciting.sort(), ['ack', 'connection-close', 'padding']);
    const notCc = Object.entries(FRAME_TYPES)
      .filter(([, t]) => !t.congestionControlled)
      .map(([k]) => k);
    assert.deepEqual(notCc, ['ack']);
  });

  it('decodeFrames enforces it with PROTOCOL_VIOLATION', () => {
    fc.assert(
      fc.property(anyFrame, fc.constantFrom(...ALL_PACKET_TYPES), (frame, pt) => {
        const bytes = encode([frame]);
        const code = bytes[0]!;
        if (frameAllowedIn(code, pt)) assert.equal(decodeFrames(bytes, pt).length, 1);
        else rejects(() => decodeFrames(bytes, pt), 'PROTOCOL_VIOLATION', code);
      }),
      { numRuns: 400 },
    );
    rejects(() => decodeFrames(hex('1d 00 00'), 'initial'), 'PROTOCOL_VIOLATION', 0x1d);
    assert.equal(decodeFrames(hex('1c 00 00 00'), 'initial').length, 1);
  });
});

describe('validation on decode', () => {
  it('a payload without frames is PROTOCOL_VIOLATION (RFC 9000 section 12.4)', () => {
    rejects(() => decodeFrames(new Uint8Array(0), '1rtt'), 'PROTOCOL_VIOLATION');
  });

  it('a non-minimal frame type is PROTOCOL_VIOLATION, an unknown one FRAME_ENCODING_ERROR', () => {
    rejects(() => decodeFrames(hex('4001'), '1rtt'), 'PROTOCOL_VIOLATION', 0x01);
    rejects(() => decodeFrames(hex('80000008 00 00'), '1rtt'), 'PROTOCOL_VIOLATION', 0x08);
    rejects(() => decodeFrames(hex('c000000000000001'), '1rtt'), 'PROTOCOL_VIOLATION', 0x01);
    for (const t of ['1f', '20', '2f', '32', '3f', '4040', '40af', '80004000', 'ffffffffffffffff']) {
      rejects(() => decodeFrames(hex(t), '1rtt'), 'FRAME_ENCODING_ERROR');
    }
    rejects(() => decodeFrames(hex('1f'), '1rtt'), 'FRAME_ENCODING_ERROR', 0x1f);
    rejects(() => decodeFrames(hex('01 21'), '1rtt'), 'FRAME_ENCODING_ERROR', 0x21);
    rejects(() => decodeFrames(hex('40'), '1rtt'), 'FRAME_ENCODING_ERROR', 0);
  });

  it('ACK: negative packet numbers and impossible range counts are FRAME_ENCODING_ERROR', () => {
    rejects(() => decodeFrames(hex('02 05 00 00 06'), '1rtt'), 'FRAME_ENCODING_ERROR', 0x02); // first range > largest
    rejects(() => decodeFrames(hex('02 05 00 01 01 03 00'), '1rtt'), 'FRAME_ENCODING_ERROR', 0x02); // 4-3-2 < 0
    rejects(() => decodeFrames(hex('02 05 00 01 01 02 01'), '1rtt'), 'FRAME_ENCODING_ERROR', 0x02); // range below 0
    rejects(() => decodeFrames(hex('02 05 00 05 00 00 00'), '1rtt'), 'FRAME_ENCODING_ERROR', 0x02); // count > packet
    rejects(() => decodeFrames(hex('02 05 00 bfffffff 00'), '1rtt'), 'FRAME_ENCODING_ERROR', 0x02);
    rejects(() => decodeFrames(hex('03 05 00 00 00 01 02'), '1rtt'), 'FRAME_ENCODING_ERROR', 0x03); // ECN counts cut
    rejects(() => decodeFrames(concat(hex('02'), v(2n ** 53n), hex('00 00 00')), '1rtt'), 'PROTOCOL_VIOLATION', 0x02);
    assert.deepEqual(decodeFrames(concat(hex('02'), v(MAX_SAFE), hex('00 00 00')), '1rtt'), [
      { type: 'ack', ackDelay: 0, ranges: [[MAX_SAFE, MAX_SAFE]], ecn: null },
    ]);
  });

  it('STREAM: lengths inside the packet, offset + length <= 2^62 - 1, our limits below 2^53', () => {
    rejects(() => decodeFrames(hex('0a 00 05 aabb'), '1rtt'), 'FRAME_ENCODING_ERROR', 0x0a);
    rejects(() => decodeFrames(concat(hex('0e 00'), v((1n << 62n) - 1n), hex('01 aa')), '1rtt'), 'FRAME_ENCODING_ERROR', 0x0e);
    // Exactly 2^62 - 1 with no data is a valid position, but beyond what we ever allow.
    rejects(() => decodeFrames(concat(hex('0e 00'), v((1n << 62n) - 1n), hex('00')), '1rtt'), 'FLOW_CONTROL_ERROR', 0x0e);
    rejects(() => decodeFrames(concat(hex('0e 00'), v(MAX_SAFE), hex('01 aa')), '1rtt'), 'FLOW_CONTROL_ERROR', 0x0e);
    assert.equal(decodeFrames(concat(hex('0e 00'), v(MAX_SAFE - 1), hex('01 aa')), '1rtt').length, 1);
    rejects(() => decodeFrames(concat(hex('08'), v(2n ** 53n), hex('aa')), '1rtt'), 'STREAM_LIMIT_ERROR', 0x08);
    assert.deepEqual(plainValue(decodeFrames(hex('08 00 aabbcc'), '1rtt')), [
      { type: 'stream', streamId: 0, offset: 0, fin: false, data: hex('aabbcc') },
    ]);
  });

  it('CRYPTO, RESET_STREAM: beyond 2^62 - 1 FRAME_ENCODING_ERROR, beyond our buffers the RFC code for limits', () => {
    rejects(() => decodeFrames(concat(hex('06'), v((1n << 62n) - 1n), hex('01 aa')), 'initial'), 'FRAME_ENCODING_ERROR', 0x06);
    rejects(() => decodeFrames(concat(hex('06'), v(2n ** 53n), hex('01 aa')), 'initial'), 'CRYPTO_BUFFER_EXCEEDED', 0x06);
    rejects(() => decodeFrames(hex('06 00 05 aa'), 'initial'), 'FRAME_ENCODING_ERROR', 0x06);
    rejects(() => decodeFrames(concat(hex('04 00 00'), v(2n ** 60n)), '1rtt'), 'FLOW_CONTROL_ERROR', 0x04);
  });

  it('MAX_STREAMS / STREAMS_BLOCKED: at most 2^60 (RFC 9000 sections 19.11, 19.14)', () => {
    assert.deepEqual(decodeFrames(concat(hex('12'), v(2n ** 60n)), '1rtt'), [{ type: 'max-streams', bidi: true, maximum: MAX_SAFE }]);
    rejects(() => decodeFrames(concat(hex('13'), v(2n ** 60n + 1n)), '1rtt'), 'FRAME_ENCODING_ERROR', 0x13);
    assert.deepEqual(decodeFrames(concat(hex('17'), v(2n ** 60n)), '1rtt'), [{ type: 'streams-blocked', bidi: false, limit: MAX_SAFE }]);
    rejects(() => decodeFrames(concat(hex('16'), v(2n ** 60n + 1n)), '1rtt'), 'FRAME_ENCODING_ERROR', 0x16);
  });

  it('NEW_CONNECTION_ID: length 1..20, Retire Prior To <= Sequence Number (RFC 9000 section 19.15)', () => {
    const token = '00112233445566778899aabbccddeeff';
    assert.equal(decodeFrames(hex(`18 05 05 01 aa ${token}`), '1rtt').length, 1);
    rejects(() => decodeFrames(hex(`18 05 06 01 aa ${token}`), '1rtt'), 'FRAME_ENCODING_ERROR', 0x18);
    rejects(() => decodeFrames(hex(`18 05 00 00 ${token}`), '1rtt'), 'FRAME_ENCODING_ERROR', 0x18);
    rejects(() => decodeFrames(hex(`18 05 00 15 ${'aa'.repeat(21)} ${token}`), '1rtt'), 'FRAME_ENCODING_ERROR', 0x18);
    rejects(() => decodeFrames(hex(`18 05 00 01 aa ${token.slice(2)}`), '1rtt'), 'FRAME_ENCODING_ERROR', 0x18);
    rejects(() => decodeFrames(concat(hex('18'), v(2n ** 53n), hex(`00 01 aa ${token}`)), '1rtt'), 'PROTOCOL_VIOLATION', 0x18);
    rejects(() => decodeFrames(concat(hex('19'), v(2n ** 53n)), '1rtt'), 'PROTOCOL_VIOLATION', 0x19);
  });

  it('NEW_TOKEN: an empty token is FRAME_ENCODING_ERROR (RFC 9000 section 19.7)', () => {
    rejects(() => decodeFrames(hex('07 00'), '1rtt'), 'FRAME_ENCODING_ERROR', 0x07);
  });

  it('PATH_CHALLENGE needs 8 bytes; CONNECTION_CLOSE reason inside the packet', () => {
    rejects(() => decodeFrames(hex('1a 01020304050607'), '1rtt'), 'FRAME_ENCODING_ERROR', 0x1a);
    rejects(() => decodeFrames(hex('1c 00 00 05 6162'), '1rtt'), 'FRAME_ENCODING_ERROR', 0x1c);
  });

  it('every truncation of a valid frame is FRAME_ENCODING_ERROR with its frame type', () => {
    const nonEmpty = anyFrame.filter((f) => !['padding', 'ping', 'handshake-done', 'datagram'].includes(f.type) && !(f.type === 'stream'));
    fc.assert(
      fc.property(nonEmpty, (frame) => {
        const bytes = encode([frame]);
        for (let k = 1; k < bytes.length; k++) rejects(() => decodeFrames(bytes.subarray(0, k), '1rtt'), 'FRAME_ENCODING_ERROR', bytes[0]!);
      }),
      { numRuns: 100 },
    );
  });

  it('runs of PADDING are one frame', () => {
    assert.deepEqual(decodeFrames(hex('00 00 00 01 00'), 'initial'), [
      { type: 'padding', length: 3 },
      { type: 'ping' },
      { type: 'padding', length: 1 },
    ]);
  });
});

describe('encoding', () => {
  it('rejects frames the wire cannot carry with EncodeError', () => {
    const bad: Frame[] = [
      {
        type: 'new-connection-id',
        sequence: 1,
        retirePriorTo: 0,
        connectionId: new Uint8Array(0),
        statelessResetToken: new Uint8Array(16),
      },
      {
        type: 'new-connection-id',
        sequence: 1,
        retirePriorTo: 2,
        connectionId: new Uint8Array(4),
        statelessResetToken: new Uint8Array(16),
      },
      {
        type: 'new-connection-id',
        sequence: 1,
        retirePriorTo: 0,
        connectionId: new Uint8Array(4),
        statelessResetToken: new Uint8Array(15),
      },
      { type: 'new-token', token: new Uint8Array(0) },
      { type: 'path-challenge', data: new Uint8Array(7) },
      { type: 'ack', ackDelay: 0, ranges: [], ecn: null },
      { type: 'ack', ackDelay: 0, ranges: [[5, 4]], ecn: null },
      {
        type: 'ack',
        ackDelay: 0,
        ranges: [
          [5, 6],
          [3, 4],
        ],
        ecn: null,
      },
      {
        type: 'ack',
        ackDelay: 0,
        ranges: [
          [1, 2],
          [5, 6],
        ],
        ecn: null,
      },
      { type: 'max-data', maximum: -1 },
      { type: 'stream', streamId: 0.5, offset: 0, fin: false, data: new Uint8Array(0) },
      { type: 'padding', length: 0 },
    ];
    for (const f of bad)
      assert.throws(
        () => encode([f]),
        (e: unknown) => e instanceof EncodeError,
        JSON.stringify(f),
      );
  });

  it('streamDataCapacity / cryptoDataCapacity give the largest data that fits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 70000 }),
        fc.integer({ min: 0, max: MAX_SAFE }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (room, streamId, offset) => {
          const n = streamDataCapacity(room, streamId, offset);
          const size = (len: number): number => frameSize({ type: 'stream', streamId, offset, fin: false, data: new Uint8Array(len) });
          if (n > 0) assert.ok(size(n) <= room, `${n} bytes fit in ${room}`);
          assert.ok(size(n + 1) > room, `${n + 1} bytes do not fit in ${room}`);
          assert.equal(streamFrameOverhead(streamId, offset, n) + n, size(n));
          const c = cryptoDataCapacity(room, offset);
          const csize = (len: number): number => frameSize({ type: 'crypto', offset, data: new Uint8Array(len) });
          if (c > 0) assert.ok(csize(c) <= room);
          assert.ok(csize(c + 1) > room);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('corruption invariant: decodeFrames returns frames or raises TransportError', () => {
  const appFrames: Frame[] = [
    { type: 'stream', streamId: 4, offset: 1000, fin: true, data: hex('68656c6c6f') },
    {
      type: 'new-connection-id',
      sequence: 3,
      retirePriorTo: 1,
      connectionId: hex('0102030405060708'),
      statelessResetToken: new Uint8Array(16),
    },
    { type: 'connection-close', errorCode: 0x0an, frameType: 0x08, reason: hex('6f6f7073') },
    { type: 'max-streams', bidi: true, maximum: 100 },
    { type: 'reset-stream', streamId: 8, errorCode: 0x10cn, finalSize: 77 },
    { type: 'datagram', data: hex('0102') },
  ];
  const ack: Frame = {
    type: 'ack',
    ackDelay: 3,
    ranges: [
      [10, 20],
      [2, 5],
    ],
    ecn: { ect0: 1, ect1: 0, ce: 2 },
  };
  const seeds: Record<PacketType, Uint8Array[]> = {
    initial: [concat(hex(A2_CRYPTO_FRAME), new Uint8Array(40)), hex(A3_PAYLOAD)],
    handshake: [hex(A3_PAYLOAD), encode([ack, { type: 'ping' }, { type: 'padding', length: 3 }])],
    '0rtt': [encode(appFrames)],
    '1rtt': [
      encode([ack, ...appFrames]),
      encode([{ type: 'new-token', token: hex('abcdef') }, { type: 'handshake-done' }, { type: 'path-response', data: new Uint8Array(8) }]),
    ],
  };
  for (const pt of ALL_PACKET_TYPES) {
    it(pt, () => {
      checkCorruption((b) => decodeFrames(b, pt), seeds[pt], { numRuns: 150, isTypedError: (e) => e instanceof TransportError });
    });
  }
});
