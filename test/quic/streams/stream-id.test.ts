import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TransportError } from '../../../src/quic/errors.js';
import {
  canReceive,
  canSend,
  checkIncomingStreamFrame,
  isBidirectional,
  isLocallyInitiated,
  streamIdOf,
  streamIndex,
  streamInitiator,
  streamType,
  streamTypeOf,
} from '../../../src/quic/streams/stream-id.js';

describe('stream IDs', () => {
  it('RFC 9000 2.1 Table 1: the two low bits give initiator and direction', () => {
    // 0x00 client bidi, 0x01 server bidi, 0x02 client uni, 0x03 server uni.
    const table = [
      [0, 'client', true],
      [1, 'server', true],
      [2, 'client', false],
      [3, 'server', false],
    ] as const;
    for (const [bits, who, bidi] of table) {
      for (const index of [0, 1, 7, 2 ** 40, 2 ** 50]) {
        const id = index * 4 + bits;
        assert.equal(streamInitiator(id), who);
        assert.equal(isBidirectional(id), bidi);
        assert.equal(streamTypeOf(id), bits);
        assert.equal(streamIndex(id), index);
        assert.equal(streamIdOf(streamType(who, bidi), index), id);
      }
    }
  });

  it('RFC 9000 2.1: the first streams of each type are 0, 1, 2, 3 and the next are 4 apart', () => {
    assert.equal(streamIdOf(streamType('client', true), 0), 0);
    assert.equal(streamIdOf(streamType('server', true), 0), 1);
    assert.equal(streamIdOf(streamType('client', false), 0), 2);
    assert.equal(streamIdOf(streamType('server', false), 0), 3);
    assert.equal(streamIdOf(streamType('client', true), 1), 4);
    assert.equal(streamIdOf(streamType('server', false), 2), 11);
  });

  it('RFC 9000 2.1: who sends and who receives on each type', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 51 }), fc.constantFrom('client' as const, 'server' as const), (id, role) => {
        const local = isLocallyInitiated(id, role);
        const bidi = isBidirectional(id);
        assert.equal(canSend(id, role), bidi || local);
        assert.equal(canReceive(id, role), bidi || !local);
        assert.ok(canSend(id, role) || canReceive(id, role));
      }),
    );
  });
});

function stateError(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => e instanceof TransportError && e.code === 'STREAM_STATE_ERROR');
}

describe('checkIncomingStreamFrame', () => {
  it('RFC 9000 19.8/19.4/19.13: STREAM, RESET_STREAM, STREAM_DATA_BLOCKED on our send-only stream: STREAM_STATE_ERROR', () => {
    // Client uni stream 2, opened by the client (1 opened): the client cannot receive on it.
    stateError(() => checkIncomingStreamFrame(2, 'client', 'receive', 1, 0x08));
    // The server receives on it fine.
    assert.equal(checkIncomingStreamFrame(2, 'server', 'receive', 0, 0x08), false);
  });

  it('RFC 9000 19.5/19.10: STOP_SENDING, MAX_STREAM_DATA on our receive-only stream: STREAM_STATE_ERROR', () => {
    stateError(() => checkIncomingStreamFrame(3, 'client', 'send', 0, 0x05));
    stateError(() => checkIncomingStreamFrame(2, 'server', 'send', 0, 0x11));
    assert.equal(checkIncomingStreamFrame(3, 'server', 'send', 1, 0x11), true);
  });

  it('RFC 9000 19.8/19.5/19.10: any frame for a stream of ours not opened yet: STREAM_STATE_ERROR', () => {
    for (const part of ['receive', 'send'] as const) {
      stateError(() => checkIncomingStreamFrame(0, 'client', part, 0, 0x08));
      stateError(() => checkIncomingStreamFrame(8, 'client', part, 2, 0x08));
      assert.equal(checkIncomingStreamFrame(4, 'client', part, 2, 0x08), true);
      stateError(() => checkIncomingStreamFrame(1, 'server', part, 0, 0x04));
    }
  });

  it('carries the frame type', () => {
    try {
      checkIncomingStreamFrame(0, 'client', 'receive', 0, 0x0f);
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof TransportError);
      assert.equal(e.frameType, 0x0f);
    }
  });
});
