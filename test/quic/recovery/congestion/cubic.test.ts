import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Cubic } from '../../../../src/quic/recovery/congestion/cubic.js';
import type { RttView } from '../../../../src/quic/recovery/rtt.js';

// RFC 9438 constants, written out here rather than imported from the module under test.
const C = 0.4;
const BETA = 0.7;
const ALPHA = (3 * (1 - BETA)) / (1 + BETA);
const MDS = 1200;

const rtt = (ms: number): RttView => ({ latest: ms, min: ms, smoothed: ms, rttvar: ms / 2, hasSample: true });
const p = (timeSent: number, size = MDS) => ({ timeSent, size });

/**
 * An independent model of one CUBIC congestion avoidance stage (RFC 9438 sections 4.2 to 4.5), in
 * segments and seconds as the RFC writes it, converted to bytes only at the end.
 */
class CubicModel {
  cwnd: number; // segments
  wEst: number;
  readonly k: number;
  readonly epochMs: number;
  regions = { reno: 0, cubic: 0, alphaOne: 0 };
  constructor(
    cwndEpochBytes: number,
    readonly wMax: number, // segments
    readonly cwndPrior: number, // segments
    epochMs: number,
  ) {
    this.cwnd = cwndEpochBytes / MDS;
    this.wEst = this.cwnd;
    this.k = this.cwnd >= wMax ? 0 : Math.cbrt((wMax - this.cwnd) / C); // Figure 2
    this.epochMs = epochMs;
  }
  wCubic(t: number): number {
    return C * (t - this.k) ** 3 + this.wMax; // Figure 1
  }
  ack(nowMs: number, rttMs: number, segmentsAcked = 1): void {
    const t = (nowMs - this.epochMs) / 1000;
    const alpha = this.wEst >= this.cwndPrior ? 1 : ALPHA;
    if (alpha === 1) this.regions.alphaOne++;
    this.wEst += (alpha * segmentsAcked) / this.cwnd; // Figure 4
    if (this.wCubic(t) < this.wEst) {
      this.regions.reno++;
      this.cwnd = Math.max(this.cwnd, this.wEst);
      return;
    }
    this.regions.cubic++;
    const w = this.wCubic(t + rttMs / 1000);
    const target = w < this.cwnd ? this.cwnd : w > 1.5 * this.cwnd ? 1.5 * this.cwnd : w;
    this.cwnd += ((target - this.cwnd) / this.cwnd) * segmentsAcked;
  }
  get bytes(): number {
    return this.cwnd * MDS;
  }
}

describe('CUBIC (RFC 9438)', () => {
  it('multiplicative decrease: ssthresh = cwnd * 0.7, W_max = cwnd before the reduction (4.6)', () => {
    const cc = new Cubic({ maxDatagramSize: MDS });
    assert.equal(cc.window, 12_000);
    cc.onCongestionEvent(999, 1000, 'loss');
    assert.equal(cc.ssthresh, 8400);
    assert.equal(cc.window, 8400);
    assert.equal(cc.state.wMax, 12_000);
    assert.equal(cc.state.cwndPrior, 12_000);
  });

  it('window growth follows W_cubic and the Reno-friendly W_est, step by step', () => {
    const cc = new Cubic({ maxDatagramSize: MDS });
    cc.onCongestionEvent(999, 1000, 'loss');
    const r = rtt(200);
    const model = new CubicModel(8400, 12_000 / MDS, 12_000 / MDS, 1100);
    // K = cubic_root((W_max - cwnd_epoch) / C) = cubic_root((10 - 7) / 0.4) s, and W_cubic(0) = cwnd_epoch.
    assert.equal(model.k, Math.cbrt(7.5));
    assert.ok(Math.abs(model.wCubic(0) - 7) < 1e-12);
    // One 1200-byte packet (sent after the recovery start) acknowledged every 20 ms for 6 s.
    for (let i = 0; i < 300; i++) {
      const now = 1100 + 20 * i;
      cc.onPacketAcked(p(1001), now, r);
      model.ack(now, 200);
      assert.ok(Math.abs(cc.window - Math.floor(model.bytes)) <= 1, `ack ${i}: ${cc.window} vs ${model.bytes}`);
    }
    assert.equal(cc.state.epochStart, 1100);
    assert.equal(cc.state.k, Math.cbrt(7.5));
    // Both regions were exercised, and alpha switched to 1 once W_est reached cwnd_prior.
    assert.ok(model.regions.reno > 0 && model.regions.cubic > 0 && model.regions.alphaOne > 0, JSON.stringify(model.regions));
    assert.ok(cc.window > 12_000, 'past W_max: the convex region');
  });

  it('long after the epoch, the target is capped at 1.5 * cwnd: each segment acked adds half a segment (4.2)', () => {
    const cc = new Cubic({ maxDatagramSize: MDS });
    cc.onCongestionEvent(0, 1, 'loss');
    cc.onPacketAcked(p(2), 10, rtt(100)); // starts the epoch at t=10 ms
    // t = 0: W_cubic(0) = cwnd_epoch = 8400 < W_est = 8400 + alpha * 1200 * 1200 / 8400: Reno-friendly.
    const wFirst = 8400 + (ALPHA * MDS * MDS) / 8400;
    assert.equal(cc.window, Math.floor(wFirst));
    assert.equal(cc.state.epochStart, 10);
    // At t = 30 s, W_cubic(t + RTT) is far above 1.5 * cwnd and W_cubic(t) far above W_est: cubic region,
    // target = 1.5 * cwnd, so cwnd grows by (1.5 cwnd - cwnd) / cwnd segments = 600 bytes.
    cc.onPacketAcked(p(2), 30_010, rtt(100));
    assert.equal(cc.window, Math.floor(wFirst + 600));
  });

  it('fast convergence lowers W_max to cwnd * (1 + beta) / 2 when cwnd < W_max (4.7); off keeps cwnd', () => {
    const on = new Cubic();
    on.onCongestionEvent(0, 10, 'loss'); // W_max 12000, cwnd 8400
    on.onCongestionEvent(20, 30, 'loss'); // cwnd 8400 < W_max
    assert.equal(on.state.wMax, (8400 * (1 + BETA)) / 2);
    assert.equal(on.state.cwndPrior, 8400);
    assert.equal(on.window, 5880);
    const off = new Cubic({ fastConvergence: false });
    off.onCongestionEvent(0, 10, 'loss');
    off.onCongestionEvent(20, 30, 'loss');
    assert.equal(off.state.wMax, 8400);
  });

  it('after persistent congestion: minimum window, slow start, then K = 0 and W_max = cwnd at the epoch (4.8)', () => {
    const cc = new Cubic();
    cc.onCongestionEvent(0, 10, 'loss'); // ssthresh 8400
    cc.onPersistentCongestion(10);
    assert.equal(cc.window, 2400);
    assert.equal(cc.inSlowStart, true);
    let now = 20;
    while (cc.inSlowStart) cc.onPacketAcked(p(15), now++, rtt(50));
    assert.equal(cc.window, 8400, 'slow start stops at ssthresh (1200-byte steps from 2400)');
    cc.onPacketAcked(p(15), now, rtt(50));
    assert.equal(cc.state.k, 0);
    assert.equal(cc.state.epochStart, now);
    assert.equal(cc.state.wMax, 8400);
  });

  it('never below the minimum window; no growth for packets sent before recovery', () => {
    const cc = new Cubic();
    for (let t = 1; t <= 20; t++) {
      cc.onCongestionEvent(t * 10, t * 10 + 1, 'loss');
      assert.ok(cc.window >= 2400);
    }
    assert.equal(cc.window, 2400);
    cc.onPacketAcked(p(100), 500, rtt(50));
    assert.equal(cc.window, 2400);
  });
});
