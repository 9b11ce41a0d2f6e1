import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../../src/combinators/errors.js';
import { TransportError } from '../../../src/quic/errors.js';
import { LossDetector, type AckInput } from '../../../src/quic/recovery/loss.js';
import type { SentPacket } from '../../../src/quic/recovery/sent-packets.js';

// Scenarios of RFC 9002 sections 5 and 6 as exact sequences with explicit `now` (ms). Expected
// times are worked out in the comments from the RFC formulas: PTO = smoothed_rtt + max(4 * rttvar, 1)
// (+ max_ack_delay for Application Data) times 2^pto_count; loss delay = 9/8 * max(latest, smoothed).

type P = SentPacket<string>;

function pkt(pn: number, timeSent: number, opts: { size?: number; ackEliciting?: boolean; inFlight?: boolean } = {}): P {
  return {
    pn,
    timeSent,
    size: opts.size ?? 1000,
    ackEliciting: opts.ackEliciting ?? true,
    inFlight: opts.inFlight ?? true,
    frames: `f${pn}`,
  };
}

function ack(...ranges: [number, number][]): AckInput {
  return { ranges: [...ranges].sort((a, b) => b[0] - a[0]), ecn: null };
}

const pns = (ps: readonly P[]): number[] => ps.map((p) => p.pn);

function isTransportError(code: string, frameType: number) {
  return (e: unknown): boolean => e instanceof TransportError && e.code === code && e.frameType === frameType;
}

describe('LossDetector: RTT samples (RFC 9002 section 5.1)', () => {
  it('samples only when the largest acknowledged is newly acked and something newly acked is ack-eliciting', () => {
    const d = new LossDetector<string>({ role: 'server' });
    d.onHandshakeConfirmed(0);
    d.onPacketSent('application', pkt(0, 0));
    d.onPacketSent('application', pkt(1, 10, { ackEliciting: false, inFlight: false })); // an ACK-only packet
    let out = d.onAckReceived('application', ack([1, 1]), 0, 50);
    assert.deepEqual(pns(out.acked), [1]);
    assert.equal(out.rttSample, null, 'the newly acked packet is not ack-eliciting');
    assert.equal(d.rtt.hasSample, false);
    out = d.onAckReceived('application', ack([0, 1]), 0, 60);
    assert.deepEqual(pns(out.acked), [0]);
    assert.equal(out.rttSample, null, 'the largest acknowledged (1) was not newly acknowledged');
    d.onPacketSent('application', pkt(2, 70));
    out = d.onAckReceived('application', ack([0, 2]), 0, 100);
    assert.deepEqual(pns(out.acked), [2]);
    assert.equal(out.rttSample, 30);
    assert.equal(d.rtt.smoothed, 30);
    assert.equal(d.rtt.firstSampleTime, 100);
  });

  it('ack delay: ignored for Initial, uncapped before confirmation, capped by max_ack_delay after (section 5.3)', () => {
    const d = new LossDetector<string>({ role: 'server', maxAckDelay: 25 });
    d.onPacketSent('initial', pkt(0, 0));
    d.onPacketSent('initial', pkt(1, 100));
    d.onAckReceived('initial', ack([0, 0]), 1000, 100); // first sample: 100
    d.onAckReceived('initial', ack([0, 1]), 40, 250); // latest 150, Initial: delay ignored
    const s1 = 0.875 * 100 + 0.125 * 150;
    assert.equal(d.rtt.smoothed, s1);
    d.onPacketSent('application', pkt(0, 300));
    d.onAckReceived('application', ack([0, 0]), 60, 500); // latest 200 >= min 100 + 60: adjusted 140, not capped
    const s2 = 0.875 * s1 + 0.125 * 140;
    assert.equal(d.rtt.smoothed, s2);
    d.onHandshakeConfirmed(500);
    d.onPacketSent('application', pkt(1, 600));
    d.onAckReceived('application', ack([0, 1]), 60, 800); // latest 200, delay capped at 25: adjusted 175
    assert.equal(d.rtt.smoothed, 0.875 * s2 + 0.125 * 175);
  });
});

describe('LossDetector: loss detection (RFC 9002 section 6.1)', () => {
  it('packet threshold, then time threshold with the loss timer firing', () => {
    const d = new LossDetector<string>({ role: 'server', maxAckDelay: 25 });
    d.onHandshakeConfirmed(0);
    for (let pn = 0; pn <= 5; pn++) d.onPacketSent('application', pkt(pn, pn));
    // ACK of 3 at t=100: latest_rtt = 97 = smoothed, rttvar 48.5; loss delay = 9/8 * 97 = 109.125.
    const out = d.onAckReceived('application', ack([3, 3]), 0, 100);
    assert.deepEqual(pns(out.acked), [3]);
    assert.deepEqual(pns(out.lost), [0], '3 >= 0 + kPacketThreshold');
    assert.equal(out.rttSample, 97);
    // Packet 1: not lost by number (3 < 1 + 3) nor yet by time: loss_time = 1 + 109.125.
    assert.equal(d.lossTime('application'), 110.125);
    assert.equal(d.deadline, 110.125);
    assert.equal(d.onTimeout(110), null, 'an early call does nothing');
    const t1 = d.onTimeout(110.125);
    assert.ok(t1 !== null && t1.type === 'loss');
    assert.equal(t1.space, 'application');
    assert.deepEqual(pns(t1.lost), [1]);
    assert.equal(d.deadline, 2 + 109.125);
    const t2 = d.onTimeout(111.125);
    assert.ok(t2 !== null && t2.type === 'loss');
    assert.deepEqual(pns(t2.lost), [2]);
    // 4 and 5 are above the largest acknowledged: only the PTO is left, from the last ack-eliciting packet (t=5):
    // 5 + 97 + max(4 * 48.5, 1) + 25.
    assert.equal(d.lossTime('application'), null);
    assert.equal(d.deadline, 5 + 97 + 194 + 25);
    assert.equal(d.ptoCount, 0);
    assert.equal(d.bytesInFlight, 2000);
  });

  it('never reports a packet twice: a late ACK of a lost packet acknowledges nothing', () => {
    const d = new LossDetector<string>({ role: 'server' });
    for (let pn = 0; pn <= 4; pn++) d.onPacketSent('application', pkt(pn, pn));
    // Sample 46 ms: loss delay 51.75, so 2 (2 + 51.75 > 50) is not lost yet.
    const out = d.onAckReceived('application', ack([4, 4]), 0, 50);
    assert.deepEqual(pns(out.lost), [0, 1]);
    const late = d.onAckReceived('application', ack([0, 4]), 0, 52);
    assert.deepEqual(pns(late.acked), [2, 3]);
    assert.deepEqual(pns(late.lost), []);
  });
});

describe('LossDetector: probe timeout (RFC 9002 section 6.2)', () => {
  it('handshake PTO excludes max_ack_delay, backs off by doubling, and resets on an ACK', () => {
    const d = new LossDetector<string>({ role: 'server' });
    d.onPacketSent('handshake', pkt(0, 0));
    // No sample yet: 333 + 4 * 166.5 = 999.
    assert.equal(d.deadline, 999);
    const t1 = d.onTimeout(999);
    assert.deepEqual(t1, { type: 'pto', space: 'handshake', probes: 2, antiDeadlock: false });
    assert.equal(d.ptoCount, 1);
    assert.equal(d.deadline, 0 + 999 * 2);
    d.onPacketSent('handshake', pkt(1, 999));
    assert.equal(d.deadline, 999 + 999 * 2);
    const t2 = d.onTimeout(2997);
    assert.equal(t2?.type, 'pto');
    assert.equal(d.ptoCount, 2);
    d.onPacketSent('handshake', pkt(2, 2997));
    assert.equal(d.deadline, 2997 + 999 * 4);
    // ACK of the last probe: sample 100, PTO count reset, 0 and 1 lost by time (t + 112.5 <= 3097).
    const out = d.onAckReceived('handshake', ack([2, 2]), 0, 3097);
    assert.deepEqual(pns(out.lost), [0, 1]);
    assert.equal(d.ptoCount, 0);
    assert.equal(d.deadline, null, 'nothing in flight, the client counts as validated for a server');
    d.onPacketSent('handshake', pkt(3, 3100));
    assert.equal(d.deadline, 3100 + 100 + 200, 'no backoff any more');
  });

  it('application data: no PTO before handshake confirmation; max_ack_delay included and backed off', () => {
    const d = new LossDetector<string>({ role: 'server', maxAckDelay: 25 });
    d.onPacketSent('application', pkt(0, 0));
    assert.equal(d.deadline, null);
    d.onHandshakeConfirmed(10);
    assert.equal(d.deadline, 999 + 25);
    d.onTimeout(1024);
    assert.equal(d.deadline, 999 * 2 + 25 * 2);
  });

  it('the earliest space wins', () => {
    const d = new LossDetector<string>({ role: 'server', maxAckDelay: 25 });
    d.onHandshakeConfirmed(0);
    d.onPacketSent('application', pkt(0, 0));
    d.onPacketSent('handshake', pkt(0, 100));
    assert.equal(d.deadline, 1024); // min(0 + 999 + 25, 100 + 999)
    assert.equal(d.onTimeout(1024)?.space, 'application');
    assert.equal(d.deadline, Math.min(0 + 2 * 1024, 100 + 2 * 999));
  });

  it('a client does not reset the backoff before it knows the server validated its address (6.2.1)', () => {
    const d = new LossDetector<string>({ role: 'client' });
    d.onPacketSent('initial', pkt(0, 0));
    d.onPacketSent('initial', pkt(1, 10));
    assert.equal(d.deadline, 10 + 999);
    d.onTimeout(1009);
    assert.equal(d.ptoCount, 1);
    d.onAckReceived('initial', ack([0, 0]), 0, 1100); // sample 1100: PTO base 1100 + 2200
    assert.equal(d.ptoCount, 1);
    assert.equal(d.deadline, 10 + 3300 * 2);
  });

  it("client anti-deadlock: armed with nothing in flight until the server's address validation is known (6.2.2.1)", () => {
    const d = new LossDetector<string>({ role: 'client' });
    d.onPacketSent('initial', pkt(0, 0, { size: 1200 }));
    d.onAckReceived('initial', ack([0, 0]), 0, 100); // sample 100: PTO base 100 + 200
    assert.equal(d.ackElicitingInFlight, 0);
    assert.equal(d.deadline, 100 + 300, 'from now, not from a sent packet');
    assert.deepEqual(d.onTimeout(400), { type: 'pto', space: 'initial', probes: 1, antiDeadlock: true });
    assert.equal(d.deadline, 400 + 600);
    d.onHandshakeKeysAvailable();
    assert.deepEqual(d.onTimeout(1000), { type: 'pto', space: 'handshake', probes: 1, antiDeadlock: true });
    d.onPacketSent('handshake', pkt(0, 1000));
    assert.equal(d.deadline, 1000 + 300 * 4);
    d.onAckReceived('handshake', ack([0, 0]), 0, 1100);
    assert.equal(d.peerCompletedAddressValidation(), true);
    assert.equal(d.ptoCount, 0);
    assert.equal(d.deadline, null);
  });

  it('a server at its anti-amplification limit arms no timer; lifting the limit re-arms it (A.6, A.8)', () => {
    const d = new LossDetector<string>({ role: 'server' });
    d.onPacketSent('initial', pkt(0, 0));
    assert.equal(d.deadline, 999);
    d.setAmplificationLimited(true, 10);
    assert.equal(d.deadline, null);
    d.setAmplificationLimited(false, 2000);
    assert.equal(d.deadline, 999, 'already due: the caller sees deadline <= now');
    assert.equal(d.onTimeout(2000)?.type, 'pto');
  });
});

describe('LossDetector: persistent congestion (RFC 9002 section 7.6)', () => {
  // The example of section 7.6.3 in units of 100 ms. The RFC assumes smoothed_rtt + max(4 * rttvar,
  // kGranularity) + max_ack_delay = 2 units; a first sample of 50 ms (ACK of #1 at t=50 ms rather than
  // 120) with max_ack_delay 50 ms gives exactly that: 50 + 100 + 50 = 200 ms, so the PTOs fire at t=8 and
  // t=12 units as in the example.
  function example(opts: { ackOfFirst: boolean; alsoAck?: number }) {
    const d = new LossDetector<string>({ role: 'server', maxAckDelay: 50 });
    d.onHandshakeConfirmed(0);
    d.onPacketSent('application', pkt(1, 0));
    if (opts.ackOfFirst) d.onAckReceived('application', ack([1, 1]), 0, 50);
    d.onPacketSent('application', pkt(2, 100));
    for (let pn = 3; pn <= 7; pn++) d.onPacketSent('application', pkt(pn, (pn - 1) * 100));
    if (opts.ackOfFirst) {
      assert.equal(d.deadline, 800);
      assert.equal(d.onTimeout(800)?.type, 'pto');
    }
    d.onPacketSent('application', pkt(8, 800));
    if (opts.ackOfFirst) {
      assert.equal(d.deadline, 800 + 2 * 200);
      assert.equal(d.onTimeout(1200)?.type, 'pto');
    }
    d.onPacketSent('application', pkt(9, 1200));
    const ranges: [number, number][] = [[9, 9]];
    if (opts.alsoAck !== undefined) ranges.push([opts.alsoAck, opts.alsoAck]);
    return { d, out: d.onAckReceived('application', ack(...ranges), 0, 1220) };
  }

  it('packets 2 to 8 lost over 7 units > 6: persistent congestion, min_rtt reset to the newest sample', () => {
    const { d, out } = example({ ackOfFirst: true });
    assert.deepEqual(pns(out.lost), [2, 3, 4, 5, 6, 7, 8]);
    // After the sample of 20 ms: smoothed 46.25, rttvar 26.25; duration (46.25 + 105 + 50) * 3 = 603.75 < 700.
    assert.equal(d.rtt.persistentCongestionDuration(50), (46.25 + 105 + 50) * 3);
    assert.equal(out.persistentCongestion, true);
    assert.equal(d.rtt.min, 20);
    assert.equal(d.ptoCount, 0);
  });

  it('an acknowledged packet in the middle splits the period: no persistent congestion', () => {
    const { out } = example({ ackOfFirst: true, alsoAck: 5 });
    assert.deepEqual(pns(out.acked), [5, 9]);
    assert.deepEqual(pns(out.lost), [2, 3, 4, 6, 7, 8]);
    assert.equal(out.persistentCongestion, false);
  });

  it('no persistent congestion without an RTT sample taken before the packets were sent', () => {
    const { out } = example({ ackOfFirst: false });
    assert.deepEqual(pns(out.lost), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(out.persistentCongestion, false);
  });

  it('the two packets must be ack-eliciting', () => {
    const d = new LossDetector<string>({ role: 'server', maxAckDelay: 0 });
    d.onHandshakeConfirmed(0);
    d.onPacketSent('application', pkt(0, 0));
    d.onAckReceived('application', ack([0, 0]), 0, 10); // sample 10: duration (10 + 20) * 3 = 90
    d.onPacketSent('application', pkt(1, 20, { ackEliciting: false }));
    d.onPacketSent('application', pkt(2, 30));
    d.onPacketSent('application', pkt(3, 200, { ackEliciting: false }));
    d.onPacketSent('application', pkt(4, 300));
    d.onPacketSent('application', pkt(5, 310));
    const out = d.onAckReceived('application', ack([5, 5]), 0, 320);
    assert.deepEqual(pns(out.lost), [1, 2, 3, 4]);
    assert.equal(out.persistentCongestion, true, '2 and 4 are 270 ms apart');
    const e = new LossDetector<string>({ role: 'server', maxAckDelay: 0 });
    e.onHandshakeConfirmed(0);
    e.onPacketSent('application', pkt(0, 0));
    e.onAckReceived('application', ack([0, 0]), 0, 10);
    e.onPacketSent('application', pkt(1, 20, { ackEliciting: false }));
    e.onPacketSent('application', pkt(2, 30));
    e.onPacketSent('application', pkt(3, 200, { ackEliciting: false }));
    e.onPacketSent('application', pkt(4, 300, { ackEliciting: false }));
    e.onPacketSent('application', pkt(5, 310));
    const out2 = e.onAckReceived('application', ack([5, 5]), 0, 320);
    assert.deepEqual(pns(out2.lost), [1, 2, 3, 4]);
    assert.equal(out2.persistentCongestion, false, 'only packet 2 of those is ack-eliciting');
  });
});

describe('LossDetector: discarding a packet number space (RFC 9002 section 6.4)', () => {
  it('drops the packets, their bytes in flight and the timers; later packets in that space are refused', () => {
    const d = new LossDetector<string>({ role: 'client' });
    d.onPacketSent('initial', pkt(0, 0, { size: 1200 }));
    d.onPacketSent('initial', pkt(1, 1, { size: 1200 }));
    d.onPacketSent('handshake', pkt(0, 2, { size: 500 }));
    assert.equal(d.deadline, 1 + 999);
    d.onTimeout(1000);
    assert.equal(d.ptoCount, 1);
    const dropped = d.discardSpace('initial', 1000);
    assert.deepEqual(pns(dropped), [0, 1]);
    assert.equal(d.bytesInFlight, 500);
    assert.equal(d.ptoCount, 0);
    assert.equal(d.isDiscarded('initial'), true);
    assert.equal(d.deadline, 2 + 999);
    assert.throws(() => d.onPacketSent('initial', pkt(2, 1001)), UsageError);
    assert.equal(d.onAckReceived('initial', ack([0, 1]), 0, 1002).acked.length, 0);
  });

  it('rejected 0-RTT: the application space is emptied but stays usable, packet numbers continue', () => {
    const d = new LossDetector<string>({ role: 'client' });
    d.onPacketSent('application', pkt(0, 0));
    d.onPacketSent('application', pkt(1, 1));
    assert.deepEqual(pns(d.discardSpace('application', 5)), [0, 1]);
    assert.equal(d.bytesInFlight, 0);
    assert.equal(d.isDiscarded('application'), false);
    assert.throws(() => d.onPacketSent('application', pkt(1, 6)), UsageError);
    d.onPacketSent('application', pkt(2, 6));
    assert.equal(d.sent('application').size, 1);
  });
});

describe('LossDetector: invalid acknowledgments (RFC 9000 sections 13.1, 21.4)', () => {
  it('ACK of a packet never sent is PROTOCOL_VIOLATION with the ACK frame type', () => {
    const d = new LossDetector<string>({ role: 'server' });
    assert.throws(() => d.onAckReceived('application', ack([0, 0]), 0, 0), isTransportError('PROTOCOL_VIOLATION', 0x02));
    d.onPacketSent('application', pkt(0, 0));
    d.onPacketSent('application', pkt(1, 1));
    assert.throws(() => d.onAckReceived('application', ack([0, 2]), 0, 5), isTransportError('PROTOCOL_VIOLATION', 0x02));
    assert.throws(
      () => d.onAckReceived('application', { ranges: [[5, 5]], ecn: { ect0: 1, ect1: 0, ce: 0 } }, 0, 5),
      isTransportError('PROTOCOL_VIOLATION', 0x03),
    );
  });

  it('ACK covering a skipped packet number is PROTOCOL_VIOLATION', () => {
    const d = new LossDetector<string>({ role: 'server' });
    d.onPacketSent('application', pkt(0, 0));
    d.onPacketSent('application', pkt(2, 1)); // 1 skipped
    assert.throws(() => d.onAckReceived('application', ack([0, 2]), 0, 5), isTransportError('PROTOCOL_VIOLATION', 0x02));
  });

  it('an ACK with no ranges, or for a discarded space, does nothing', () => {
    const d = new LossDetector<string>({ role: 'server' });
    d.onPacketSent('application', pkt(0, 0));
    const out = d.onAckReceived('application', { ranges: [], ecn: null }, 0, 5);
    assert.equal(out.acked.length, 0);
    assert.equal(d.sent('application').size, 1);
  });
});

describe('LossDetector: ECN (RFC 9002 section 7.1, appendix A.7)', () => {
  it('reports an increase of the ECN-CE count with the send time of the largest newly acked packet', () => {
    const d = new LossDetector<string>({ role: 'server' });
    for (let pn = 0; pn < 4; pn++) d.onPacketSent('application', pkt(pn, pn * 10));
    const ecn = (ce: number) => ({ ect0: 4, ect1: 0, ce });
    assert.equal(d.onAckReceived('application', { ranges: [[0, 0]], ecn: ecn(0) }, 0, 50).ecnCeSentTime, null);
    assert.equal(d.onAckReceived('application', { ranges: [[0, 2]], ecn: ecn(1) }, 0, 60).ecnCeSentTime, 20);
    assert.equal(d.onAckReceived('application', { ranges: [[0, 3]], ecn: ecn(1) }, 0, 70).ecnCeSentTime, null, 'same count');
  });
});
