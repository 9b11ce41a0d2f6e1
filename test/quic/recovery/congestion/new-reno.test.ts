import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialWindow, minimumWindow } from '../../../../src/quic/recovery/congestion/controller.js';
import { NewReno } from '../../../../src/quic/recovery/congestion/new-reno.js';
import type { RttView } from '../../../../src/quic/recovery/rtt.js';

const RTT: RttView = { latest: 100, min: 100, smoothed: 100, rttvar: 50, hasSample: true };
const p = (timeSent: number, size = 1200) => ({ timeSent, size });

describe('NewReno (RFC 9002 section 7)', () => {
  it('initial window min(10 * mds, max(14720, 2 * mds)) and minimum window 2 * mds (7.2)', () => {
    assert.equal(initialWindow(1200), 12_000);
    assert.equal(initialWindow(1472), 14_720);
    assert.equal(initialWindow(1500), 14_720);
    assert.equal(initialWindow(9000), 18_000);
    assert.equal(minimumWindow(1200), 2400);
    const cc = new NewReno({ maxDatagramSize: 1500 });
    assert.equal(cc.window, 14_720);
    assert.equal(cc.minimumWindow, 3000);
    assert.equal(cc.ssthresh, Infinity);
    assert.equal(cc.inSlowStart, true);
  });

  it('slow start → congestion avoidance → recovery, not re-entered for packets sent before it started', () => {
    const cc = new NewReno({ maxDatagramSize: 1200 });
    for (let i = 0; i < 10; i++) cc.onPacketSent(p(0), 0);
    assert.equal(cc.bytesInFlight, 12_000);
    assert.equal(cc.canSend(1), false);
    assert.equal(cc.canSend(0), true);
    // Slow start: the window grows by the bytes acknowledged (7.3.1).
    for (let i = 0; i < 10; i++) cc.onPacketAcked(p(0), 100, RTT);
    assert.equal(cc.window, 24_000);
    assert.equal(cc.bytesInFlight, 0);

    for (let i = 0; i < 20; i++) cc.onPacketSent(p(100), 100);
    // A loss of a packet sent at t=100, detected at t=200: ssthresh = cwnd / 2, cwnd = ssthresh (7.3.2).
    cc.onPacketLost(p(100), 200);
    cc.onCongestionEvent(100, 200, 'loss');
    assert.equal(cc.ssthresh, 12_000);
    assert.equal(cc.window, 12_000);
    assert.equal(cc.inSlowStart, false);
    // Packets sent before the recovery period: no growth, no second reduction.
    cc.onPacketAcked(p(100), 210, RTT);
    assert.equal(cc.window, 12_000);
    cc.onPacketLost(p(150), 220);
    cc.onCongestionEvent(150, 220, 'loss');
    cc.onCongestionEvent(200, 221, 'ecn-ce'); // sent at the very start of recovery: still inside it
    assert.equal(cc.window, 12_000);
    assert.equal(cc.ssthresh, 12_000);

    // Congestion avoidance: one max_datagram_size per congestion window acknowledged (7.3.3).
    for (let i = 0; i < 9; i++) cc.onPacketAcked(p(250), 300, RTT);
    assert.equal(cc.window, 12_000);
    cc.onPacketAcked(p(250), 300, RTT);
    assert.equal(cc.window, 13_200);
    for (let i = 0; i < 10; i++) cc.onPacketAcked(p(250), 400, RTT);
    assert.equal(cc.window, 13_200, '12000 of the 13200 bytes needed');
    cc.onPacketAcked(p(250), 400, RTT);
    assert.equal(cc.window, 14_400);

    // A packet sent after the recovery start is lost: a new recovery period.
    cc.onCongestionEvent(250, 500, 'loss');
    assert.equal(cc.ssthresh, 7200);
    assert.equal(cc.window, 7200);
  });

  it('persistent congestion collapses the window to the minimum, then slow start resumes (7.6.2)', () => {
    const cc = new NewReno();
    cc.onCongestionEvent(0, 10, 'loss');
    assert.equal(cc.window, 6000);
    cc.onPersistentCongestion(10);
    assert.equal(cc.window, 2400);
    assert.equal(cc.inSlowStart, true);
    // Recovery was reset: even a packet sent before t=10 now counts.
    cc.onPacketAcked(p(5), 20, RTT);
    assert.equal(cc.window, 3600);
  });

  it('the window never goes below the minimum', () => {
    const cc = new NewReno();
    for (let t = 1; t <= 10; t++) {
      cc.onCongestionEvent(t * 10, t * 10 + 1, 'loss');
      assert.ok(cc.window >= 2400);
    }
    assert.equal(cc.window, 2400);
    assert.equal(cc.ssthresh, 1200, 'ssthresh itself may be lower (appendix B.6)');
  });

  it('no growth while application limited (7.8)', () => {
    const cc = new NewReno();
    cc.setAppLimited(true, 0);
    cc.onPacketSent(p(0), 0);
    cc.onPacketAcked(p(0), 10, RTT);
    assert.equal(cc.window, 12_000);
    assert.equal(cc.bytesInFlight, 0);
    cc.setAppLimited(false, 10);
    cc.onPacketAcked(p(0), 10, RTT);
    assert.equal(cc.window, 13_200);
  });

  it('discarded packets leave bytes in flight without a congestion signal; pacing rate = 1.25 * cwnd / srtt', () => {
    const cc = new NewReno();
    cc.onPacketSent(p(0, 1000), 0);
    cc.onPacketDiscarded(p(0, 1000));
    assert.equal(cc.bytesInFlight, 0);
    assert.equal(cc.window, 12_000);
    assert.equal(cc.pacingRate(RTT), (1.25 * 12_000) / 100);
  });

  it('a larger max_datagram_size raises the minimum window', () => {
    const cc = new NewReno();
    for (let t = 1; t <= 10; t++) cc.onCongestionEvent(t * 10, t * 10 + 1, 'loss');
    cc.setMaxDatagramSize(1500);
    assert.equal(cc.window, 3000);
  });
});
