import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CryptoStream, type CryptoFrameRecord } from '../../../src/quic/connection/crypto-stream.js';
import { TransportError } from '../../../src/quic/errors.js';
import { frameSize, type CryptoFrame } from '../../../src/quic/frame.js';
import { concat as concatBytes } from '../../support/bytes.js';

const crypto = (offset: number, data: Uint8Array): CryptoFrame => ({ type: 'crypto', offset, data });

/** Bytes 0, 1, 2, ... (mod 251, so that a shifted copy never looks right). */
function pattern(n: number, seed = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i + seed) % 251;
  return out;
}

/** {@link concatBytes} over an array. */
const concat = (parts: readonly Uint8Array[]): Uint8Array => concatBytes(...parts);

const stream = (maxBuffered = 4096): CryptoStream => new CryptoStream({ maxBuffered });

describe('CryptoStream: receive', () => {
  it('delivers in-order frames at once', () => {
    const s = stream();
    const data = pattern(300);
    assert.deepEqual(concat(s.handleCryptoFrame(crypto(0, data.subarray(0, 100)))), data.subarray(0, 100));
    assert.deepEqual(concat(s.handleCryptoFrame(crypto(100, data.subarray(100)))), data.subarray(100));
    assert.equal(s.readOffset, 300);
    assert.equal(s.buffered, 0);
  });

  it('holds reordered data until the gap is filled', () => {
    const s = stream();
    const data = pattern(30);
    assert.deepEqual(s.handleCryptoFrame(crypto(20, data.subarray(20))), []);
    assert.deepEqual(s.handleCryptoFrame(crypto(10, data.subarray(10, 20))), []);
    assert.equal(s.buffered, 20);
    assert.deepEqual(concat(s.handleCryptoFrame(crypto(0, data.subarray(0, 10)))), data);
    assert.equal(s.readOffset, 30);
  });

  it('tolerates overlaps and duplicates', () => {
    const s = stream();
    const data = pattern(50);
    const out: Uint8Array[] = [];
    out.push(...s.handleCryptoFrame(crypto(0, data.subarray(0, 20))));
    out.push(...s.handleCryptoFrame(crypto(0, data.subarray(0, 20))));
    out.push(...s.handleCryptoFrame(crypto(10, data.subarray(10, 30))));
    out.push(...s.handleCryptoFrame(crypto(40, data.subarray(40, 50))));
    out.push(...s.handleCryptoFrame(crypto(35, data.subarray(35, 45))));
    out.push(...s.handleCryptoFrame(crypto(5, data.subarray(5, 50))));
    assert.deepEqual(concat(out), data);
    assert.deepEqual(s.handleCryptoFrame(crypto(0, data)), []);
  });

  it('returns owned copies: reusing the packet buffer does not change delivered or held bytes', () => {
    const s = stream();
    const packet = pattern(20);
    assert.deepEqual(s.handleCryptoFrame(crypto(10, packet.subarray(10, 20))), []);
    const held = packet.slice(10, 20);
    packet.fill(0xee);
    const got = concat(s.handleCryptoFrame(crypto(0, pattern(10))));
    assert.deepEqual(got, concat([pattern(10), held]));
  });

  it('CRYPTO_BUFFER_EXCEEDED beyond readOffset + maxBuffered (RFC 9000 7.5)', () => {
    const s = stream(4096);
    s.handleCryptoFrame(crypto(0, pattern(100)));
    // Up to readOffset + 4096 is fine.
    assert.deepEqual(s.handleCryptoFrame(crypto(4000, pattern(196))), []);
    assert.throws(
      () => s.handleCryptoFrame(crypto(4196, pattern(1))),
      (e: unknown) => e instanceof TransportError && e.code === 'CRYPTO_BUFFER_EXCEEDED' && e.frameType === 0x06,
    );
    assert.throws(
      () => s.handleCryptoFrame(crypto(1_000_000_000, pattern(10))),
      (e: unknown) => e instanceof TransportError && e.code === 'CRYPTO_BUFFER_EXCEEDED',
    );
  });

  it('never goes below the 4096 bytes section 7.5 requires', () => {
    const s = stream(10);
    assert.deepEqual(s.handleCryptoFrame(crypto(1, pattern(4095))), []);
  });

  it('any split and order of the received bytes gives back the original (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 400 })), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (data, pieces, order) => {
          // Pieces (possibly overlapping), then a final cover of everything so the whole is delivered.
          const frames = pieces.map(([at, len]) => {
            const start = at % data.length;
            return crypto(start, data.subarray(start, Math.min(data.length, start + len)));
          });
          for (let i = 0; i < order.length && frames.length > 1; i++) {
            const j = order[i]! % frames.length;
            const k = (i * 7) % frames.length;
            [frames[j], frames[k]] = [frames[k]!, frames[j]!];
          }
          for (let at = 0; at < data.length; at += 500) frames.push(crypto(at, data.subarray(at, at + 500)));
          const s = stream();
          const out: Uint8Array[] = [];
          for (const f of frames) out.push(...s.handleCryptoFrame(f));
          assert.deepEqual(concat(out), data);
          assert.equal(s.readOffset, data.length);
          assert.equal(s.buffered, 0);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('CryptoStream: send', () => {
  it('frames written bytes within the room, exactly', () => {
    const s = stream();
    const data = pattern(1000);
    s.write(data.subarray(0, 600));
    s.write(data.subarray(600));
    assert.equal(s.hasPendingFrames(), true);
    assert.equal(s.allAcked, false);
    const frames: CryptoFrame[] = [];
    for (const room of [3, 4, 10, 64, 70, 300, 2000]) {
      const f = s.nextFrame(room);
      if (room < 4) {
        // 1 type + 1 offset + 1 length + at least 1 byte.
        assert.equal(f, null);
        continue;
      }
      assert.ok(f !== null);
      assert.ok(frameSize(f.frame) <= room, `frame of ${frameSize(f.frame)} in ${room}`);
      assert.deepEqual(f.record, { offset: f.frame.offset, length: f.frame.data.length });
      frames.push(f.frame);
    }
    assert.equal(s.nextFrame(2000), null);
    assert.equal(s.hasPendingFrames(), false);
    // Contiguous, starting at 0, covering all 1000 bytes (one crossing the two writes).
    let at = 0;
    for (const f of frames) {
      assert.equal(f.offset, at);
      at += f.data.length;
    }
    assert.equal(at, 1000);
    assert.deepEqual(concat(frames.map((f) => f.data)), data);
  });

  it('fills the room exactly when data is plentiful', () => {
    const s = stream();
    s.write(pattern(5000));
    for (const room of [10, 66, 67, 1200]) {
      const f = s.nextFrame(room)!;
      assert.equal(frameSize(f.frame), room);
    }
  });

  it('sends lost ranges first, with the exact bytes, then new data', () => {
    const s = stream();
    const data = pattern(300);
    s.write(data.subarray(0, 200));
    const a = s.nextFrame(104)!; // [0, 100)
    const b = s.nextFrame(200)!; // [100, 200)
    assert.equal(a.frame.data.length, 100);
    s.write(data.subarray(200));
    s.onFrameLost(a.record);
    const r = s.nextFrame(1000)!;
    assert.equal(r.frame.offset, 0);
    assert.deepEqual(r.frame.data, data.subarray(0, 100));
    const n = s.nextFrame(1000)!;
    assert.equal(n.frame.offset, 200);
    assert.deepEqual(n.frame.data, data.subarray(200));
    s.onFrameAcked(b.record);
    s.onFrameAcked(r.record);
    assert.equal(s.allAcked, false);
    s.onFrameAcked(n.record);
    assert.equal(s.allAcked, true);
    assert.equal(s.hasPendingFrames(), false);
  });

  it('does not resend acknowledged parts of a lost frame', () => {
    const s = stream();
    const data = pattern(100);
    s.write(data);
    const whole = s.nextFrame(1000)!;
    // A retransmission of [40, 60) was acknowledged (a copy), then the original is declared lost.
    s.onFrameAcked({ offset: 40, length: 20 });
    s.onFrameLost(whole.record);
    const parts: CryptoFrame[] = [];
    for (let f = s.nextFrame(1000); f !== null; f = s.nextFrame(1000)) parts.push(f.frame);
    assert.deepEqual(
      parts.map((p) => [p.offset, p.data.length]),
      [
        [0, 40],
        [60, 40],
      ],
    );
    assert.deepEqual(parts[1]!.data, data.subarray(60));
  });

  it('a lost range acknowledged before it is resent is not resent', () => {
    const s = stream();
    s.write(pattern(50));
    const f = s.nextFrame(1000)!;
    s.onFrameLost(f.record);
    s.onFrameAcked(f.record);
    assert.equal(s.hasPendingFrames(), false);
    assert.equal(s.allAcked, true);
  });

  it('requeueUnacked makes every sent, unacknowledged byte pending again', () => {
    const s = stream();
    const data = pattern(300);
    s.write(data);
    const a = s.nextFrame(104)!; // [0, 100)
    // [100, 200): 1 type + 2 offset + 2 length + 100.
    assert.equal(s.nextFrame(105)!.frame.data.length, 100);
    s.onFrameAcked(a.record);
    s.requeueUnacked();
    const r = s.nextFrame(1000)!;
    assert.equal(r.frame.offset, 100);
    assert.deepEqual(r.frame.data, data.subarray(100, 200));
    // Then the never-sent tail.
    const n = s.nextFrame(1000)!;
    assert.equal(n.frame.offset, 200);
    assert.equal(s.nextFrame(1000), null);
  });

  it('acknowledgements out of order release the prefix once it is complete', () => {
    const s = stream();
    s.write(pattern(30));
    const recs: CryptoFrameRecord[] = [];
    for (let f = s.nextFrame(13); f !== null; f = s.nextFrame(13)) recs.push(f.record);
    assert.equal(recs.length, 3);
    s.onFrameAcked(recs[2]!);
    s.onFrameAcked(recs[1]!);
    assert.equal(s.allAcked, false);
    s.onFrameAcked(recs[0]!);
    assert.equal(s.allAcked, true);
    // Stale reports after release change nothing.
    s.onFrameLost(recs[0]!);
    s.onFrameAcked(recs[1]!);
    assert.equal(s.hasPendingFrames(), false);
  });

  it('random send/ack/loss/probe sequences: the receiver rebuilds the written bytes exactly (property)', () => {
    type Op =
      | { kind: 'write'; n: number }
      | { kind: 'send'; room: number }
      | { kind: 'ack' | 'lose' | 'deliver'; pick: number }
      | { kind: 'probe' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('write' as const), n: fc.integer({ min: 1, max: 700 }) }),
      fc.record({ kind: fc.constant('send' as const), room: fc.integer({ min: 1, max: 400 }) }),
      fc.record({ kind: fc.constantFrom('ack' as const, 'lose' as const, 'deliver' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('probe' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const sender = stream();
        const receiver = stream(1 << 20);
        const written: Uint8Array[] = [];
        const received: Uint8Array[] = [];
        let total = 0;
        const inFlight: CryptoFrameRecord[] = [];
        // Every frame produced reaches the receiver, in any order (loss only means "declared lost" to the sender).
        const network: CryptoFrame[] = [];
        const deliver = (f: CryptoFrame): void => {
          received.push(...receiver.handleCryptoFrame(f));
        };
        for (const o of ops) {
          switch (o.kind) {
            case 'write': {
              const data = pattern(o.n, total);
              total += o.n;
              written.push(data);
              sender.write(data);
              break;
            }
            case 'send': {
              const f = sender.nextFrame(o.room);
              if (f !== null) {
                assert.ok(frameSize(f.frame) <= o.room);
                assert.ok(f.frame.data.length > 0);
                inFlight.push(f.record);
                network.push(f.frame);
              }
              break;
            }
            case 'deliver':
              if (network.length > 0) deliver(network.splice(o.pick % network.length, 1)[0]!);
              break;
            case 'ack':
            case 'lose': {
              if (inFlight.length === 0) break;
              const [rec] = inFlight.splice(o.pick % inFlight.length, 1);
              if (o.kind === 'ack') sender.onFrameAcked(rec!);
              else sender.onFrameLost(rec!);
              break;
            }
            case 'probe':
              sender.requeueUnacked();
              break;
          }
        }
        // Drain: send everything pending, acknowledge every frame.
        for (let guard = 0; guard < 10_000; guard++) {
          const f = sender.nextFrame(200);
          if (f === null) break;
          inFlight.push(f.record);
          deliver(f.frame);
        }
        assert.equal(sender.hasPendingFrames(), false);
        for (const f of network) deliver(f);
        assert.deepEqual(concat(received), concat(written));
        for (const rec of inFlight) sender.onFrameAcked(rec);
        assert.equal(sender.allAcked, true);
      }),
      { numRuns: 200 },
    );
  });
});
