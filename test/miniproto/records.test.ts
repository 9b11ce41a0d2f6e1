import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { line, type LengthPrefix } from '../../src/combinators/index.js';
import {
  ProtocolError,
  Session,
  encodeLengthRecord,
  encodeLine,
  handshake,
  handshakeRejected,
  lengthRecords,
  lines,
  phase,
  type Phase,
  type RecordEvent,
} from '../../src/miniproto/index.js';
import { ascii, concat, hex } from '../support/bytes.js';
import { backToBack, checkCorruption, checkSplits, fixture, type SplitFixture } from '../support/splits.js';
import { drive, expectError, sessionDriver } from './support.js';

const recordData = (e: RecordEvent | { type: string }): Uint8Array | undefined =>
  e.type === 'record' ? (e as RecordEvent).data : undefined;

/** A fixture of records framed by hand (independent of the encoders under test). */
function lineFixture(records: string[], sep = '\r\n'): SplitFixture<Uint8Array> {
  return backToBack(...records.map((r) => fixture(ascii(r + sep), ascii(r))));
}

/** Big-endian / QUIC-varint prefix written by hand. */
function prefixBytes(prefix: LengthPrefix, n: number): Uint8Array {
  switch (prefix) {
    case 'u8':
      return Uint8Array.of(n);
    case 'u16be':
      return Uint8Array.of(n >> 8, n & 0xff);
    case 'u16le':
      return Uint8Array.of(n & 0xff, n >> 8);
    case 'u24be':
      return Uint8Array.of(n >> 16, (n >> 8) & 0xff, n & 0xff);
    case 'u32be':
      return Uint8Array.of(n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
    case 'u32le':
      return Uint8Array.of(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
    case 'varint':
      // RFC 9000 section 16: 2-bit length prefix
      if (n < 64) return Uint8Array.of(n);
      if (n < 16384) return Uint8Array.of(0x40 | (n >> 8), n & 0xff);
      return Uint8Array.of(0x80 | (n >>> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
  }
}

function lengthFixture(prefix: LengthPrefix, payloads: Uint8Array[]): SplitFixture<Uint8Array> {
  return backToBack(...payloads.map((p) => fixture(concat(prefixBytes(prefix, p.length), p), p)));
}

const PREFIXES: LengthPrefix[] = ['u8', 'u16be', 'u16le', 'u24be', 'u32be', 'u32le', 'varint'];

describe('lines phase', () => {
  it('chunk splits: records come out whole, in order, trailing bytes untouched', () => {
    const fx = lineFixture(['PING', '', 'SET k v', 'x'.repeat(70)]);
    checkSplits(
      sessionDriver(() => new Session(lines({ max: 100 })), recordData),
      fx,
      { trailing: ascii('NEXT') },
    );
  });

  it('a custom separator (LF)', () => {
    checkSplits(
      sessionDriver(() => new Session(lines({ separator: '\n' })), recordData),
      lineFixture(['{"a":1}', '{"b":2}'], '\n'),
      { trailing: ascii('{"c"') },
    );
  });

  it('onRecord gets every record without events, and can switch phase at a record boundary', () => {
    const seen: string[] = [];
    const td = new TextDecoder();
    let got: Uint8Array[] = [];
    const records: Phase<RecordEvent> = lengthRecords({ prefix: 'u8', onRecord: (r) => void got.push(r.slice()) });
    const p = lines({
      onRecord: (l) => {
        seen.push(td.decode(l));
        return td.decode(l) === 'BINARY' ? records : undefined;
      },
    });
    const input = concat(ascii('A\r\nB\r\nBINARY\r\n'), Uint8Array.of(2, 13, 10, 0));
    for (const size of [1, 2, 3, 5, input.length]) {
      seen.length = 0;
      got = [];
      const chunks: Uint8Array[] = [];
      for (let o = 0; o < input.length; o += size) chunks.push(input.slice(o, o + size));
      const t = drive(new Session(p), chunks, { end: true });
      assert.equal(t.final.type, 'done');
      assert.deepEqual(seen, ['A', 'B', 'BINARY']);
      assert.deepEqual(got, [Uint8Array.of(13, 10), new Uint8Array(0)], `chunk size ${size}`);
    }
  });

  it('an over-long line fails with ERR_TOO_LONG as soon as max + separator bytes arrived, without buffering more', () => {
    const s = new Session(lines({ max: 10 }), { maxBuffered: 1000 });
    s.receive(ascii('0123456789'));
    assert.equal(s.poll().type, 'need-read');
    s.receive(ascii('ab'));
    expectError(s.poll(), 'ERR_TOO_LONG');
  });

  it('input that ends inside a line is ERR_UNEXPECTED_END; at a boundary it is done', () => {
    expectError(drive(new Session(lines()), [ascii('a\r\nb')], { end: true }).final, 'ERR_UNEXPECTED_END');
    assert.equal(drive(new Session(lines()), [ascii('a\r\n')], { end: true }).final.type, 'done');
  });

  it('buffered bytes stay under the session cap while a peer sends without separators', () => {
    const s = new Session(lines({ max: 1 << 20 }), { maxBuffered: 4096 });
    let failed = false;
    for (let i = 0; i < 100 && !failed; i++) {
      s.receive(new Uint8Array(100).fill(0x61));
      assert.ok(s.buffered <= 4096);
      const r = s.poll();
      if (r.type === 'error') {
        assert.equal(r.error.code, 'ERR_BUFFER_LIMIT');
        failed = true;
      }
    }
    assert.ok(failed);
  });
});

describe('lengthRecords phase', () => {
  for (const prefix of PREFIXES) {
    it(`chunk splits with a ${prefix} prefix`, () => {
      // 70 bytes: a 2-byte varint; 260 bytes (u16be only, to keep the run short): a non-zero high byte.
      const payloads = [new Uint8Array(0), hex('00 0d 0a ff'), new Uint8Array(70).map((_, i) => i)];
      checkSplits(
        sessionDriver(() => new Session(lengthRecords({ prefix })), recordData),
        lengthFixture(prefix, prefix === 'u16be' ? [...payloads, new Uint8Array(260).fill(7)] : payloads),
        { numRuns: 50 },
      );
    });
  }

  it('an over-large length prefix fails with ERR_TOO_LONG before the record is buffered', () => {
    const s = new Session(lengthRecords({ prefix: 'u32be', max: 1000 }));
    s.receive(hex('00 00 03 e9'));
    const e = expectError(s.poll(), 'ERR_TOO_LONG');
    assert.equal((e as { offset?: number }).offset, 0);
    // within max but over the session cap: waiting could never help
    const t = new Session(lengthRecords({ prefix: 'u32be', max: 1 << 30 }), { maxBuffered: 1024 });
    t.receive(hex('00 10 00 00'));
    expectError(t.poll(), 'ERR_BUFFER_LIMIT');
  });

  it('encodeLengthRecord round-trips through the phase for every prefix (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PREFIXES),
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }),
        fc.integer({ min: 1, max: 64 }),
        (prefix, payloads, size) => {
          const ps = prefix === 'u8' ? payloads.map((p) => p.subarray(0, 255)) : payloads;
          const input = concat(...ps.map((p) => encodeLengthRecord(prefix, p)));
          assert.deepEqual(
            input,
            concat(...ps.map((p) => concat(prefixBytes(prefix, p.length), p))),
            'encoder matches the hand-written framing',
          );
          const chunks: Uint8Array[] = [];
          for (let o = 0; o < input.length; o += size) chunks.push(input.slice(o, o + size));
          const t = drive(new Session(lengthRecords({ prefix })), chunks, { end: true });
          assert.equal(t.final.type, 'done');
          assert.deepEqual(
            t.events.map((e) => new Uint8Array(recordData(e)!)),
            ps.map((p) => new Uint8Array(p)),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('encodeLine refuses a record that contains the separator', () => {
    assert.deepEqual(encodeLine('abc'), ascii('abc\r\n'));
    assert.throws(
      () => encodeLine('a\r\nb'),
      (e: unknown) => (e as { code?: string }).code === 'ERR_ENCODE_RANGE',
    );
  });

  it('corruption: random or mangled input gives records or a typed error, never a crash or hang', () => {
    const decode = (input: Uint8Array): unknown[] => {
      const t = drive(new Session(lengthRecords({ prefix: 'varint', max: 1000 }), { maxBuffered: 2048 }), [input], { end: true });
      if (t.final.type === 'error') throw t.final.error;
      return t.events;
    };
    checkCorruption(decode, [lengthFixture('varint', [ascii('hello'), new Uint8Array(100)]).input], { numRuns: 100 });
    const decodeLines = (input: Uint8Array): unknown[] => {
      const t = drive(new Session(lines({ max: 16 })), [input], { end: true });
      if (t.final.type === 'error') throw t.final.error;
      return t.events;
    };
    checkCorruption(decodeLines, [lineFixture(['a', 'bc', '']).input], { numRuns: 100 });
  });
});

describe('phase switch: line handshake, then length records, on one Source', () => {
  type Ev = RecordEvent | { type: 'greeting'; text: Uint8Array };
  const make = (): Session<Ev> => {
    const records: Phase<Ev> = lengthRecords({ prefix: 'u16be' });
    const greeting = phase<Ev>('greeting', function* (io) {
      const l = yield* io.read(line({ max: 64 }));
      yield* io.emit({ type: 'greeting', text: l });
      return records;
    });
    return new Session(greeting);
  };
  const pick = (e: Ev): Uint8Array | undefined => (e.type === 'greeting' ? e.text : e.data);

  it('leftover bytes after the handshake reach the next phase intact, for every split', () => {
    // One buffer holds the end of the handshake and the first records: a split anywhere must not lose,
    // duplicate or reorder a byte across the switch.
    const fx = backToBack(
      fixture(ascii('HELLO v1\r\n'), ascii('HELLO v1')),
      lengthFixture('u16be', [hex('0d0a0d0a'), new Uint8Array(0), ascii('payload with CRLF\r\n inside')]),
    );
    checkSplits(sessionDriver(make, pick), fx, { trailing: hex('00') });
  });
});

describe('handshake phase', () => {
  type Ev = { type: 'ready'; version: string } | RecordEvent;
  const td = new TextDecoder();
  const records: Phase<Ev> = lengthRecords({ prefix: 'u8' });
  const client = (): Session<Ev> =>
    new Session(
      handshake<Uint8Array, Ev>({
        name: 'client hello',
        send: ascii('HELLO 2\r\n'),
        expect: line({ max: 100 }),
        then: (l) => {
          const text = td.decode(l);
          if (!text.startsWith('OK ')) throw handshakeRejected(text);
          return { event: { type: 'ready', version: text.slice(3) }, next: records };
        },
      }),
    );
  const server = (): Session<Ev> =>
    new Session(
      handshake<Uint8Array, Ev>({
        name: 'server hello',
        expect: line({ max: 100 }),
        then: (l) => ({ reply: ascii(`OK ${td.decode(l).split(' ')[1]}\r\n`), next: records }),
      }),
    );

  it('client and server talk through the helper, then both switch to records; app output waits for the handshake', () => {
    const c = client();
    const s = server();
    c.send(encodeLengthRecord('u8', ascii('early')));
    // Pump both sessions against each other until neither has anything to say.
    const cEvents: Ev[] = [];
    const sEvents: Ev[] = [];
    const pump = (from: Session<Ev>, to: Session<Ev>, events: Ev[]): boolean => {
      let moved = false;
      for (;;) {
        const r = from.poll();
        if (r.type === 'need-write') {
          to.receive(r.data);
          moved = true;
        } else if (r.type === 'event') events.push(r.event);
        else if (r.type === 'need-read') return moved;
        else if (r.type === 'switched') continue;
        else assert.fail(`unexpected ${r.type}`);
      }
    };
    for (let i = 0; i < 10; i++) if (!pump(c, s, cEvents) && !pump(s, c, sEvents)) break;
    assert.deepEqual(cEvents, [{ type: 'ready', version: '2' }]);
    assert.equal(sEvents.length, 1);
    assert.deepEqual(recordData(sEvents[0]!), ascii('early'), 'application data sent before the handshake arrived after it');
    assert.equal(c.phase, 'u8 records');
    assert.equal(s.phase, 'u8 records');
  });

  it('a rejected handshake is a typed error', () => {
    const c = client();
    assert.equal(c.poll().type, 'need-write');
    c.receive(ascii('NO\r\n'));
    const e = expectError(c.poll(), 'ERR_HANDSHAKE_REJECTED');
    assert.ok(e instanceof ProtocolError);
  });

  it('chunk splits: the server reads the hello and hands the rest to the record phase', () => {
    const fx = backToBack<Uint8Array>(lengthFixture('u8', [ascii('abc'), ascii('')]));
    const input = concat(ascii('HELLO 7\r\n'), fx.input);
    checkSplits(
      sessionDriver(server, recordData),
      { input, values: fx.values, ends: fx.ends.map((e) => e + 9) },
      { trailing: Uint8Array.of(9) },
    );
  });
});
