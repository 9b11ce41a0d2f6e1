import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pacer } from '../../../src/quic/recovery/pacer.js';

describe('Pacer (RFC 9002 section 7.7)', () => {
  it('allows a burst of 10 datagrams, then spaces packets at the rate', () => {
    const p = new Pacer({ maxDatagramSize: 1200 });
    const rate = 10; // bytes per ms
    assert.equal(p.capacity(rate), 12_000);
    for (let i = 0; i < 10; i++) {
      assert.equal(p.nextSendTime(0, 1200, rate), 0);
      p.onPacketSent(0, 1200, rate);
    }
    // Bucket empty: 1200 bytes need 120 ms at 10 B/ms.
    assert.equal(p.nextSendTime(0, 1200, rate), 120);
    // Half refilled at t=60: 600 more bytes, 60 ms.
    assert.equal(p.nextSendTime(60, 1200, rate), 120);
    assert.equal(p.nextSendTime(120, 1200, rate), 120);
    p.onPacketSent(120, 1200, rate);
    assert.equal(p.nextSendTime(120, 1200, rate), 240);
  });

  it('caps the bucket at the burst size after idle time', () => {
    const p = new Pacer({ maxDatagramSize: 1000, burstPackets: 4 });
    p.onPacketSent(0, 1000, 1);
    assert.equal(p.available(1_000_000, 1), 4000);
    for (let i = 0; i < 4; i++) p.onPacketSent(1_000_000, 1000, 1);
    assert.equal(p.nextSendTime(1_000_000, 1000, 1), 1_001_000);
  });

  it('a send it did not allow (a probe) leaves a debt that delays the next packet', () => {
    const p = new Pacer({ maxDatagramSize: 1000, burstPackets: 1 });
    p.onPacketSent(0, 1000, 2);
    p.onPacketSent(0, 1000, 2); // tokens -1000
    assert.equal(p.nextSendTime(0, 1000, 2), 1000);
  });

  it('at high rates the bucket holds burstInterval ms of the rate, between the two bounds', () => {
    const p = new Pacer({ maxDatagramSize: 1000, burstPackets: 10, maxBurstPackets: 100, burstInterval: 2 });
    assert.equal(p.capacity(1), 10_000); // 2 bytes per interval: the floor
    assert.equal(p.capacity(20_000), 40_000); // 20 MB/s: 2 ms = 40 kB
    assert.equal(p.capacity(1e6), 100_000); // 1 GB/s: the ceiling
    // After 1 ms idle at 20 MB/s a 1 ms timer driver may send 20 packets at once, not 10.
    while (p.nextSendTime(0, 1000, 20_000) === 0) p.onPacketSent(0, 1000, 20_000);
    let sent = 0;
    while (p.nextSendTime(1, 1000, 20_000) === 1) {
      p.onPacketSent(1, 1000, 20_000);
      sent++;
    }
    assert.equal(sent, 20);
  });

  it('an infinite rate never delays; a zero rate never sends', () => {
    const p = new Pacer();
    for (let i = 0; i < 100; i++) p.onPacketSent(0, 1200, Infinity);
    assert.equal(p.nextSendTime(0, 1200, Infinity), 0);
    const q = new Pacer({ burstPackets: 1 });
    q.onPacketSent(0, 1200, 0);
    assert.equal(q.nextSendTime(5, 1200, 0), Infinity);
  });
});
