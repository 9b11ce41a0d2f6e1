/**
 * fast-check generators of valid QUIC frames (RFC 9000 section 19, RFC 9221), shared by the frame and packet
 * tests. Values stay inside what the decoder returns exactly (module doc of src/quic/frame.ts): positions and
 * limits up to 2^53 - 1, error codes as bigints over the whole 62 bits.
 */
import fc from 'fast-check';
import type { AckRange, Frame, FrameKind } from '../../../src/quic/frame.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** A varint-sized integer, biased to the 1/2/4/8-byte encoding boundaries. */
export const u53 = (max = MAX_SAFE): fc.Arbitrary<number> =>
  fc.oneof(
    fc.integer({ min: 0, max: Math.min(max, 0x3f) }),
    fc.integer({ min: 0, max: Math.min(max, 0x3fff) }),
    fc.integer({ min: 0, max: Math.min(max, 0x3fffffff) }),
    fc.integer({ min: 0, max }),
    fc.constantFrom(...[0, 0x3f, 0x40, 0x3fff, 0x4000, 0x3fffffff, 0x40000000, max].filter((v) => v <= max)),
  );

export const u62big: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 62n) - 1n }),
  fc.constantFrom(0n, 0x3fn, 0x40n, 0x3fffn, 0x4000n, (1n << 62n) - 1n),
);

const bytes = (min: number, max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: max });

/**
 * Descending ACK ranges separated by at least one missing packet number, all within 0..2^53 - 1: built
 * from the bottom up out of (gap, length) pairs.
 */
export const ackRanges: fc.Arbitrary<AckRange[]> = fc
  .tuple(
    u53(1 << 40),
    fc.array(fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 0, max: 1000 })), { minLength: 1, maxLength: 12 }),
  )
  .map(([base, parts]) => {
    const ranges: AckRange[] = [];
    let next = base;
    for (const [gap, len] of parts) {
      const lo = next;
      const hi = lo + len;
      ranges.push([lo, hi]);
      next = hi + 1 + gap;
    }
    return ranges.reverse();
  });

/** One arbitrary per frame kind. */
export const frameArbitraries: { readonly [K in FrameKind]: fc.Arbitrary<Extract<Frame, { type: K }>> } = {
  padding: fc.integer({ min: 1, max: 64 }).map((length) => ({ type: 'padding', length })),
  ping: fc.constant({ type: 'ping' }),
  ack: fc
    .record({
      ackDelay: u53(),
      ranges: ackRanges,
      ecn: fc.option(fc.record({ ect0: u53(), ect1: u53(), ce: u53() }), { nil: null }),
    })
    .map((r) => ({ type: 'ack', ...r })),
  'reset-stream': fc.record({ streamId: u53(), errorCode: u62big, finalSize: u53() }).map((r) => ({ type: 'reset-stream', ...r })),
  'stop-sending': fc.record({ streamId: u53(), errorCode: u62big }).map((r) => ({ type: 'stop-sending', ...r })),
  crypto: fc.tuple(u53(MAX_SAFE - 64), bytes(0, 64)).map(([offset, data]) => ({ type: 'crypto', offset, data })),
  'new-token': bytes(1, 64).map((token) => ({ type: 'new-token', token })),
  stream: fc
    .record({ streamId: u53(), offset: u53(MAX_SAFE - 64), fin: fc.boolean(), data: bytes(0, 64) })
    .map((r) => ({ type: 'stream', ...r })),
  'max-data': u53().map((maximum) => ({ type: 'max-data', maximum })),
  'max-stream-data': fc.record({ streamId: u53(), maximum: u53() }).map((r) => ({ type: 'max-stream-data', ...r })),
  'max-streams': fc.record({ bidi: fc.boolean(), maximum: u53() }).map((r) => ({ type: 'max-streams', ...r })),
  'data-blocked': u53().map((limit) => ({ type: 'data-blocked', limit })),
  'stream-data-blocked': fc.record({ streamId: u53(), limit: u53() }).map((r) => ({ type: 'stream-data-blocked', ...r })),
  'streams-blocked': fc.record({ bidi: fc.boolean(), limit: u53() }).map((r) => ({ type: 'streams-blocked', ...r })),
  'new-connection-id': fc
    .tuple(u53(), fc.double({ min: 0, max: 1, noNaN: true }), bytes(1, 20), bytes(16, 16))
    .map(([sequence, f, connectionId, statelessResetToken]) => ({
      type: 'new-connection-id',
      sequence,
      retirePriorTo: Math.floor(sequence * f),
      connectionId,
      statelessResetToken,
    })),
  'retire-connection-id': u53().map((sequence) => ({ type: 'retire-connection-id', sequence })),
  'path-challenge': bytes(8, 8).map((data) => ({ type: 'path-challenge', data })),
  'path-response': bytes(8, 8).map((data) => ({ type: 'path-response', data })),
  'connection-close': fc
    .record({ errorCode: u62big, frameType: fc.option(u53(), { nil: null }), reason: bytes(0, 32) })
    .map((r) => ({ type: 'connection-close', ...r })),
  'handshake-done': fc.constant({ type: 'handshake-done' }),
  datagram: bytes(0, 64).map((data) => ({ type: 'datagram', data })),
};

/** Any frame. */
export const anyFrame: fc.Arbitrary<Frame> = fc.oneof(...Object.values(frameArbitraries));

/** Deep copy of a decoded value with every byte view replaced by a plain array, for deepStrictEqual. */
export function plainValue<T>(v: T): T {
  if (v instanceof Uint8Array) return new Uint8Array(v) as T;
  if (Array.isArray(v)) return v.map(plainValue) as T;
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plainValue(x);
    return out as T;
  }
  return v;
}
