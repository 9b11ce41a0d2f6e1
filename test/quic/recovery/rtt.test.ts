import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeAckDelay, RttEstimator } from '../../../src/quic/recovery/rtt.js';

// Expected values are computed here from the RFC 9002 formulas (section 5.3 and appendix A.7), step by step.

describe('RttEstimator (RFC 9002 section 5)', () => {
  it('starts from kInitialRtt = 333 ms: smoothed 333, rttvar 166.5, no sample (section 6.2.2)', () => {
    const r = new RttEstimator();
    assert.equal(r.smoothed, 333);
    assert.equal(r.rttvar, 166.5);
    assert.equal(r.hasSample, false);
    assert.equal(r.firstSampleTime, null);
    // PTO base = smoothed + max(4 * rttvar, kGranularity) = 333 + 666
    assert.equal(r.ptoBase(), 999);
  });

  it('first sample: min = smoothed = latest, rttvar = latest / 2, ack delay ignored (section 5.3)', () => {
    const r = new RttEstimator();
    r.addSample(100, 50, 1000);
    assert.equal(r.latest, 100);
    assert.equal(r.min, 100);
    assert.equal(r.smoothed, 100);
    assert.equal(r.rttvar, 50);
    assert.equal(r.firstSampleTime, 1000);
    assert.equal(r.hasSample, true);
  });

  it('subsequent samples: ack delay subtracted when plausible; rttvar uses the previous smoothed_rtt (A.7)', () => {
    const r = new RttEstimator();
    r.addSample(100, 0, 0);
    r.addSample(150, 20, 10);
    // min_rtt stays 100; 150 >= 100 + 20, so adjusted = 130
    assert.equal(r.min, 100);
    assert.equal(r.rttvar, 0.75 * 50 + 0.25 * Math.abs(100 - 130));
    assert.equal(r.smoothed, 0.875 * 100 + 0.125 * 130);
    assert.equal(r.firstSampleTime, 0);
  });

  it('ack delay capped by max_ack_delay only when a cap is given (handshake confirmed)', () => {
    const uncapped = new RttEstimator();
    uncapped.addSample(100, 0, 0);
    uncapped.addSample(200, 80, 1);
    assert.equal(uncapped.smoothed, 0.875 * 100 + 0.125 * (200 - 80));
    const capped = new RttEstimator();
    capped.addSample(100, 0, 0);
    capped.addSample(200, 80, 1, 25);
    assert.equal(capped.smoothed, 0.875 * 100 + 0.125 * (200 - 25));
    assert.equal(capped.rttvar, 0.75 * 50 + 0.25 * Math.abs(100 - 175));
  });

  it('never subtracts ack delay below min_rtt (section 5.3 MUST NOT)', () => {
    const r = new RttEstimator();
    r.addSample(100, 0, 0);
    r.addSample(110, 30, 1); // 110 < 100 + 30: adjusted stays 110
    assert.equal(r.smoothed, 0.875 * 100 + 0.125 * 110);
  });

  it('min_rtt ignores ack delay and can drop below an adjusted sample (section 5.2)', () => {
    const r = new RttEstimator();
    r.addSample(100, 0, 0);
    r.addSample(90, 50, 1);
    assert.equal(r.min, 90);
    assert.equal(r.latest, 90);
    assert.equal(r.smoothed, 0.875 * 100 + 0.125 * 90);
  });

  it('loss delay = max(9/8 * max(latest, smoothed), 1 ms); persistent congestion duration (7.6.1)', () => {
    const r = new RttEstimator();
    r.addSample(80, 0, 0);
    r.addSample(40, 0, 1);
    const smoothed = 0.875 * 80 + 0.125 * 40;
    const rttvar = 0.75 * 40 + 0.25 * 40;
    assert.equal(r.lossDelay(), (9 / 8) * Math.max(40, smoothed));
    assert.equal(r.persistentCongestionDuration(25), (smoothed + Math.max(4 * rttvar, 1) + 25) * 3);
    const tiny = new RttEstimator();
    tiny.addSample(0.1, 0, 0);
    assert.equal(tiny.lossDelay(), 1);
    assert.equal(tiny.ptoBase(), 0.1 + 1);
  });

  it('resetMinRtt takes the newest sample; reset() returns to the initial state', () => {
    const r = new RttEstimator(100);
    r.addSample(50, 0, 0);
    r.addSample(70, 0, 1);
    assert.equal(r.min, 50);
    r.resetMinRtt();
    assert.equal(r.min, 70);
    r.reset();
    assert.equal(r.smoothed, 100);
    assert.equal(r.rttvar, 50);
    assert.equal(r.hasSample, false);
  });

  it('decodeAckDelay: field * 2^exponent microseconds (RFC 9000 section 19.3)', () => {
    assert.equal(decodeAckDelay(1000), 8); // default exponent 3
    assert.equal(decodeAckDelay(1000, 0), 1);
    assert.equal(decodeAckDelay(3, 10), 3.072);
  });

  it('property: smoothed_rtt stays within [min sample - max delay, max sample] and rttvar >= 0', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: 0, max: 1e4, noNaN: true }), fc.double({ min: 0, max: 1e3, noNaN: true })), {
          minLength: 1,
          maxLength: 50,
        }),
        (samples) => {
          const r = new RttEstimator();
          let lo = Infinity;
          let hi = -Infinity;
          samples.forEach(([rtt, delay], i) => {
            r.addSample(rtt, delay, i);
            lo = Math.min(lo, rtt);
            hi = Math.max(hi, rtt);
          });
          assert.ok(r.min === lo);
          assert.ok(r.smoothed <= hi + 1e-9 && r.smoothed >= 0);
          assert.ok(r.rttvar >= 0);
        },
      ),
    );
  });
});
