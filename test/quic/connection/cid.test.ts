import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LocalConnectionIds, PeerConnectionIds, type CidFrameRecord } from '../../../src/quic/connection/cid.js';
import { TransportError, type TransportErrorName } from '../../../src/quic/errors.js';
import { decodeFrames, encodeFrame, frameSize, type NewConnectionIdFrame } from '../../../src/quic/frame.js';
import type { RandomSource } from '../../../src/quic/crypto/provider.js';
import { Writer } from '../../../src/combinators/writer.js';

/** Deterministic "random" bytes: a counter, so every call gives fresh bytes. */
function counterRandom(): RandomSource {
  let n = 0;
  return (len) => {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = (n + i * 31) & 0xff;
    n++;
    return out;
  };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (...v: number[]): Uint8Array => Uint8Array.from(v);
const token = (fill: number): Uint8Array => new Uint8Array(16).fill(fill);

function throwsCode(fn: () => void, code: TransportErrorName, frameType: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TransportError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.frameType, frameType);
    return true;
  });
}

function local(extra: Partial<ConstructorParameters<typeof LocalConnectionIds>[0]> = {}): LocalConnectionIds {
  return new LocalConnectionIds({ initial: bytes(0xaa, 0xaa, 0xaa, 0xaa), length: 8, random: counterRandom(), ...extra });
}

/** Drains every pending NEW_CONNECTION_ID frame. */
function drainNew(ids: LocalConnectionIds): { frame: NewConnectionIdFrame; record: CidFrameRecord }[] {
  const out = [];
  for (let f = ids.nextFrame(1500); f !== null; f = ids.nextFrame(1500)) out.push(f);
  return out;
}

function ncid(sequence: number, retirePriorTo: number, cidByte: number, tokenByte = cidByte): NewConnectionIdFrame {
  return {
    type: 'new-connection-id',
    sequence,
    retirePriorTo,
    connectionId: new Uint8Array(8).fill(cidByte),
    statelessResetToken: token(tokenByte),
  };
}

function peer(activeLimit = 4): PeerConnectionIds {
  return new PeerConnectionIds({ initial: bytes(1, 2, 3, 4), activeLimit });
}

function drainRetire(ids: PeerConnectionIds): number[] {
  const out: number[] = [];
  for (let f = ids.nextFrame(100); f !== null; f = ids.nextFrame(100)) out.push(f.frame.sequence);
  return out;
}

describe('LocalConnectionIds', () => {
  it('issues nothing until the peer limit is known, then limit - 1 more IDs with sequence numbers +1', () => {
    const ids = local();
    assert.equal(ids.hasPendingFrames(), false);
    assert.equal(ids.active().length, 1);
    ids.setPeerLimit(3);
    const frames = drainNew(ids);
    assert.deepEqual(
      frames.map((f) => f.frame.sequence),
      [1, 2],
    );
    assert.deepEqual(
      ids.active().map((a) => a.sequence),
      [0, 1, 2],
    );
    for (const { frame } of frames) {
      assert.equal(frame.connectionId.length, 8);
      assert.equal(frame.statelessResetToken.length, 16);
      assert.equal(frame.retirePriorTo, 0);
      assert.ok(ids.has(frame.connectionId));
      assert.equal(hex(ids.resetTokenOf(frame.sequence)!), hex(frame.statelessResetToken));
    }
    assert.notEqual(hex(frames[0]!.frame.connectionId), hex(frames[1]!.frame.connectionId));
    // Every frame encodes and decodes back.
    const w = new Writer();
    encodeFrame(w, frames[0]!.frame);
    assert.deepEqual(decodeFrames(w.finish(), '1rtt'), [frames[0]!.frame]);
  });

  it('caps the active IDs at maxIssued', () => {
    const ids = local({ maxIssued: 3 });
    ids.setPeerLimit(8);
    assert.equal(drainNew(ids).length, 2);
    assert.equal(ids.active().length, 3);
  });

  it('reports routing changes once', () => {
    const ids = local();
    ids.setPeerLimit(2);
    const first = ids.takeChanges();
    assert.equal(first.added.length, 1);
    assert.equal(first.retired.length, 0);
    assert.deepEqual(ids.takeChanges(), { added: [], retired: [] });
  });

  it('uses the resetToken function (section 10.3.2) for every ID, seq 0 included', () => {
    const derive = (cid: Uint8Array): Uint8Array => new Uint8Array(16).fill(cid[0]! ^ 0x5a);
    const ids = local({ resetToken: derive });
    ids.setPeerLimit(2);
    assert.equal(hex(ids.resetTokenOf(0)!), hex(token(0xaa ^ 0x5a)));
    for (const a of ids.active()) assert.equal(hex(a.resetToken), hex(derive(a.cid)));
  });

  it('does not send a frame that does not fit', () => {
    const ids = local();
    ids.setPeerLimit(2);
    // 1 type + 1 seq + 1 retire prior to + 1 length + 8 + 16 = 28 bytes.
    assert.equal(ids.nextFrame(27), null);
    assert.equal(ids.hasPendingFrames(), true);
    const f = ids.nextFrame(28);
    assert.ok(f !== null);
    assert.equal(frameSize(f.frame), 28);
  });

  it('retire -> replacement, routing change, sequence numbers keep rising', () => {
    const ids = local();
    ids.setPeerLimit(2);
    const [one] = drainNew(ids);
    ids.takeChanges();
    ids.handleRetireConnectionId({ type: 'retire-connection-id', sequence: 0 }, one!.frame.connectionId);
    assert.equal(ids.has(bytes(0xaa, 0xaa, 0xaa, 0xaa)), false);
    assert.equal(ids.resetTokenOf(0), null);
    const changes = ids.takeChanges();
    assert.deepEqual(changes.retired.map(hex), ['aaaaaaaa']);
    assert.equal(changes.added.length, 1);
    const [two] = drainNew(ids);
    assert.equal(two!.frame.sequence, 2);
    assert.equal(hex(two!.frame.connectionId), hex(changes.added[0]!));
    // Retiring it again is a repeat: ignored.
    ids.handleRetireConnectionId({ type: 'retire-connection-id', sequence: 0 }, one!.frame.connectionId);
    assert.deepEqual(ids.takeChanges(), { added: [], retired: [] });
  });

  it('rejects retiring a sequence never issued (PROTOCOL_VIOLATION, 19.16)', () => {
    const ids = local();
    ids.setPeerLimit(2);
    throwsCode(
      () => ids.handleRetireConnectionId({ type: 'retire-connection-id', sequence: 2 }, bytes(0xaa, 0xaa, 0xaa, 0xaa)),
      'PROTOCOL_VIOLATION',
      0x19,
    );
  });

  it("rejects retiring the packet's own Destination Connection ID (PROTOCOL_VIOLATION, 19.16)", () => {
    const ids = local();
    throwsCode(
      () => ids.handleRetireConnectionId({ type: 'retire-connection-id', sequence: 0 }, bytes(0xaa, 0xaa, 0xaa, 0xaa)),
      'PROTOCOL_VIOLATION',
      0x19,
    );
  });

  it('re-queues a lost NEW_CONNECTION_ID, unless acknowledged or retired meanwhile', () => {
    const ids = local();
    ids.setPeerLimit(4);
    const [a, b, c] = drainNew(ids);
    assert.equal(ids.hasPendingFrames(), false);
    ids.onFrameLost(a!.record);
    const again = drainNew(ids);
    assert.equal(again.length, 1);
    assert.deepEqual(again[0]!.frame, a!.frame);
    // Acknowledged: a later loss report of another copy does not resend it.
    ids.onFrameAcked(b!.record);
    ids.onFrameLost(b!.record);
    assert.equal(ids.hasPendingFrames(), false);
    // Retired by the peer: nothing to resend (and the replacement is queued instead).
    ids.handleRetireConnectionId({ type: 'retire-connection-id', sequence: c!.frame.sequence }, bytes(0xaa, 0xaa, 0xaa, 0xaa));
    ids.onFrameLost(c!.record);
    assert.deepEqual(
      drainNew(ids).map((f) => f.frame.sequence),
      [4],
    );
  });

  it('with zero-length IDs: never issues, and RETIRE_CONNECTION_ID is PROTOCOL_VIOLATION', () => {
    for (const opts of [{ initial: new Uint8Array(0), length: 0 }, { length: 0 }]) {
      const ids = local(opts);
      ids.setPeerLimit(8);
      assert.equal(ids.hasPendingFrames(), false);
      assert.equal(ids.nextFrame(1500), null);
      assert.equal(ids.active().length, 1);
      throwsCode(
        () => ids.handleRetireConnectionId({ type: 'retire-connection-id', sequence: 0 }, new Uint8Array(0)),
        'PROTOCOL_VIOLATION',
        0x19,
      );
    }
  });
});

describe('PeerConnectionIds', () => {
  it('starts on sequence 0 and can replace it (Retry / server SCID)', () => {
    const ids = peer();
    assert.deepEqual(ids.current, { sequence: 0, cid: bytes(1, 2, 3, 4) });
    ids.replaceInitial(bytes(9, 9));
    assert.deepEqual(ids.current, { sequence: 0, cid: bytes(9, 9) });
  });

  it('accepts new IDs up to the limit and ignores repeats', () => {
    const ids = peer(3);
    ids.handleNewConnectionId(ncid(1, 0, 0x11));
    ids.handleNewConnectionId(ncid(2, 0, 0x22));
    ids.handleNewConnectionId(ncid(2, 0, 0x22));
    ids.handleNewConnectionId(ncid(1, 0, 0x11));
    assert.equal(ids.activeCount, 3);
    assert.equal(ids.hasPendingFrames(), false);
    assert.equal(ids.current.sequence, 0);
  });

  it('CONNECTION_ID_LIMIT_ERROR beyond active_connection_id_limit (5.1.1)', () => {
    const ids = peer(2);
    ids.handleNewConnectionId(ncid(1, 0, 0x11));
    throwsCode(() => ids.handleNewConnectionId(ncid(2, 0, 0x22)), 'CONNECTION_ID_LIMIT_ERROR', 0x18);
  });

  it('a frame that exceeds the limit but retires enough with Retire Prior To is fine (5.1.1)', () => {
    const ids = peer(2);
    ids.handleNewConnectionId(ncid(1, 0, 0x11));
    ids.handleNewConnectionId(ncid(2, 1, 0x22));
    assert.equal(ids.activeCount, 2);
    assert.deepEqual(drainRetire(ids), [0]);
  });

  it('PROTOCOL_VIOLATION for a sequence reused with another ID or token, or an ID under another sequence', () => {
    const ids = peer();
    ids.handleNewConnectionId(ncid(1, 0, 0x11));
    throwsCode(() => ids.handleNewConnectionId(ncid(1, 0, 0x12, 0x11)), 'PROTOCOL_VIOLATION', 0x18);
    throwsCode(() => ids.handleNewConnectionId(ncid(1, 0, 0x11, 0x99)), 'PROTOCOL_VIOLATION', 0x18);
    throwsCode(() => ids.handleNewConnectionId(ncid(2, 0, 0x11)), 'PROTOCOL_VIOLATION', 0x18);
  });

  it('PROTOCOL_VIOLATION for NEW_CONNECTION_ID when the peer uses zero-length IDs (19.15)', () => {
    const ids = new PeerConnectionIds({ initial: new Uint8Array(0), activeLimit: 4 });
    throwsCode(() => ids.handleNewConnectionId(ncid(1, 0, 0x11)), 'PROTOCOL_VIOLATION', 0x18);
    assert.equal(ids.rotate(), false);
  });

  it('Retire Prior To retires older IDs, queues RETIRE_CONNECTION_ID and switches away from a retired current', () => {
    const ids = peer(4);
    ids.handleNewConnectionId(ncid(1, 0, 0x11));
    ids.handleNewConnectionId(ncid(2, 0, 0x22));
    ids.handleNewConnectionId(ncid(3, 2, 0x33));
    assert.deepEqual(drainRetire(ids), [0, 1]);
    assert.deepEqual(ids.current, { sequence: 2, cid: new Uint8Array(8).fill(0x22) });
    assert.equal(ids.activeCount, 2);
    // A smaller Retire Prior To is ignored (19.15).
    ids.handleNewConnectionId(ncid(4, 1, 0x44));
    assert.equal(ids.hasPendingFrames(), false);
    assert.equal(ids.activeCount, 3);
  });

  it('retires at once a new ID below the largest Retire Prior To, once (19.15)', () => {
    const ids = peer(4);
    ids.handleNewConnectionId(ncid(5, 5, 0x55));
    assert.deepEqual(drainRetire(ids), [0]);
    assert.equal(ids.current.sequence, 5);
    // Sequence 3 arrives late (reordered): retired without being used.
    ids.handleNewConnectionId(ncid(3, 0, 0x33));
    assert.deepEqual(drainRetire(ids), [3]);
    assert.equal(ids.activeCount, 1);
    // The same frame again: already retired, nothing more.
    ids.handleNewConnectionId(ncid(3, 0, 0x33));
    assert.equal(ids.hasPendingFrames(), false);
  });

  it('rotates to an unused ID and retires the old one; false when none is left', () => {
    const ids = peer(4);
    assert.equal(ids.rotate(), false);
    ids.handleNewConnectionId(ncid(2, 0, 0x22));
    ids.handleNewConnectionId(ncid(1, 0, 0x11));
    assert.equal(ids.rotate(), true);
    assert.equal(ids.current.sequence, 1);
    assert.equal(ids.rotate(), true);
    assert.equal(ids.current.sequence, 2);
    assert.equal(ids.rotate(), false);
    assert.deepEqual(drainRetire(ids), [0, 1]);
    // A repeat of a frame for an ID we retired does not bring it back.
    ids.handleNewConnectionId(ncid(1, 0, 0x11));
    assert.equal(ids.activeCount, 1);
    assert.equal(ids.hasPendingFrames(), false);
  });

  it('re-sends a lost RETIRE_CONNECTION_ID until acknowledged', () => {
    const ids = peer(4);
    ids.handleNewConnectionId(ncid(1, 1, 0x11));
    const f = ids.nextFrame(100);
    assert.ok(f !== null);
    assert.deepEqual(f.frame, { type: 'retire-connection-id', sequence: 0 });
    assert.equal(ids.nextFrame(100), null);
    ids.onFrameLost(f.record);
    const again = ids.nextFrame(100);
    assert.deepEqual(again?.frame, f.frame);
    ids.onFrameAcked(again!.record);
    ids.onFrameLost(f.record);
    assert.equal(ids.hasPendingFrames(), false);
  });

  it('does not send a RETIRE_CONNECTION_ID that does not fit', () => {
    const ids = peer(4);
    ids.handleNewConnectionId(ncid(1, 1, 0x11));
    assert.equal(ids.nextFrame(1), null);
    assert.equal(ids.nextFrame(2)?.frame.sequence, 0);
  });

  it('CONNECTION_ID_LIMIT_ERROR when too many retirements are unacknowledged (5.1.2)', () => {
    const ids = new PeerConnectionIds({ initial: bytes(1), activeLimit: 2, maxUnackedRetires: 3 });
    ids.handleNewConnectionId(ncid(1, 1, 0x11));
    ids.handleNewConnectionId(ncid(2, 2, 0x22));
    ids.handleNewConnectionId(ncid(3, 3, 0x33));
    throwsCode(() => ids.handleNewConnectionId(ncid(4, 4, 0x44)), 'CONNECTION_ID_LIMIT_ERROR', 0x18);
  });

  it('acknowledged retirements free room under that limit', () => {
    const ids = new PeerConnectionIds({ initial: bytes(1), activeLimit: 2, maxUnackedRetires: 1 });
    for (let seq = 1; seq < 20; seq++) {
      ids.handleNewConnectionId(ncid(seq, seq, seq));
      const f = ids.nextFrame(100);
      assert.ok(f !== null);
      ids.onFrameAcked(f.record);
    }
    assert.equal(ids.current.sequence, 19);
  });

  describe('stateless reset detection (10.3.1)', () => {
    const datagram = (tail: Uint8Array, length = 40): Uint8Array => {
      const d = new Uint8Array(length).fill(0x47);
      d.set(tail, length - 16);
      return d;
    };

    it('matches the token of the current ID, from transport parameters or NEW_CONNECTION_ID', () => {
      const ids = peer();
      assert.equal(ids.isStatelessReset(datagram(token(0x77))), false);
      ids.setInitialResetToken(token(0x77));
      assert.equal(ids.isStatelessReset(datagram(token(0x77))), true);
      assert.equal(ids.isStatelessReset(datagram(token(0x78))), false);
      const almost = token(0x77);
      almost[15] = 0x76;
      assert.equal(ids.isStatelessReset(datagram(almost)), false);
      // Too short to be a Stateless Reset (section 10.3: 21 bytes at least).
      assert.equal(ids.isStatelessReset(datagram(token(0x77), 20)), false);
      assert.equal(ids.isStatelessReset(datagram(token(0x77), 21)), true);
    });

    it('ignores tokens of IDs not used yet and of retired IDs', () => {
      const ids = peer();
      ids.setInitialResetToken(token(0x70));
      ids.handleNewConnectionId(ncid(1, 0, 0x11, 0x71));
      assert.equal(ids.isStatelessReset(datagram(token(0x71))), false, 'unused');
      assert.equal(ids.rotate(), true);
      assert.equal(ids.isStatelessReset(datagram(token(0x71))), true, 'in use');
      assert.equal(ids.isStatelessReset(datagram(token(0x70))), false, 'retired');
    });

    it('matches exactly the datagrams ending in an active used token (property)', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 0, maxLength: 60 }), (tok, prefix) => {
          const ids = peer();
          ids.setInitialResetToken(tok);
          const d = new Uint8Array(prefix.length + 16);
          d.set(prefix);
          d.set(tok, prefix.length);
          assert.equal(ids.isStatelessReset(d), d.length >= 21);
          const flipped = d.slice();
          flipped[d.length - 1 - (prefix.length % 16)]! ^= 1;
          assert.equal(ids.isStatelessReset(flipped), false);
        }),
        { numRuns: 200 },
      );
    });
  });
});
