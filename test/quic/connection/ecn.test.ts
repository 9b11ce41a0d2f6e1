/** ECN validation (RFC 9000 section 13.4.2) of ecn.ts, on hand-built ACK frames. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ECN_TESTING_PACKETS, EcnValidator } from '../../../src/quic/connection/ecn.js';
import type { AckFrame, EcnCounts } from '../../../src/quic/frame.js';

const ack = (largest: number, ecn: EcnCounts | null, smallest = 0): AckFrame => ({
  type: 'ack',
  ackDelay: 0,
  ranges: [[smallest, largest]],
  ecn,
});
const pns = (from: number, to: number): { pn: number }[] => Array.from({ length: to - from }, (_, i) => ({ pn: from + i }));

/** Sends `n` single-packet datagrams in the application space from packet number `from`, each with the current mark. */
function send(v: EcnValidator, from: number, n: number): number {
  let marked = 0;
  for (let pn = from; pn < from + n; pn++) {
    const mark = v.mark;
    if (mark === 'ect0') marked++;
    v.onSent('application', pn, pn + 1, mark);
  }
  return marked;
}

describe('EcnValidator', () => {
  it('marks the first ten packets, then waits for validation', () => {
    const v = new EcnValidator(true);
    assert.equal(send(v, 0, 15), ECN_TESTING_PACKETS);
    assert.equal(v.state, 'unknown');
    assert.equal(v.mark, 'not-ect');
  });

  it('validates on counts that cover the newly acknowledged ECT(0) packets, then marks everything', () => {
    const v = new EcnValidator(true);
    send(v, 0, 10);
    v.onAck('application', ack(4, { ect0: 4, ect1: 0, ce: 1 }), pns(0, 5));
    assert.equal(v.state, 'capable');
    assert.equal(v.mark, 'ect0');
  });

  it('fails without ECN counts in an ACK of marked packets (section 13.4.2.1)', () => {
    const v = new EcnValidator(true);
    send(v, 0, 3);
    v.onAck('application', ack(2, null), pns(0, 3));
    assert.equal(v.state, 'failed');
    assert.equal(v.failure, 'no-counts');
    assert.equal(v.mark, 'not-ect');
  });

  it('fails when the counts grew less than the marked packets acknowledged (bleaching)', () => {
    const v = new EcnValidator(true);
    send(v, 0, 4);
    v.onAck('application', ack(3, { ect0: 2, ect1: 0, ce: 0 }), pns(0, 4));
    assert.equal(v.failure, 'bleached');
  });

  it('fails on counts above what was sent, or on ECT(1) we never sent', () => {
    const a = new EcnValidator(true);
    send(a, 0, 2);
    a.onAck('application', ack(1, { ect0: 5, ect1: 0, ce: 0 }), pns(0, 2));
    assert.equal(a.failure, 'overcounted');
    const b = new EcnValidator(true);
    send(b, 0, 2);
    b.onAck('application', ack(1, { ect0: 2, ect1: 1, ce: 0 }), pns(0, 2));
    assert.equal(b.failure, 'overcounted');
  });

  it('ignores an ACK that does not increase the largest acknowledged', () => {
    const v = new EcnValidator(true);
    send(v, 0, 6);
    v.onAck('application', ack(5, { ect0: 6, ect1: 0, ce: 0 }), pns(0, 6));
    assert.equal(v.state, 'capable');
    v.onAck('application', ack(5, null), []);
    v.onAck('application', ack(3, { ect0: 0, ect1: 0, ce: 0 }), []);
    assert.equal(v.state, 'capable');
  });

  it('fails when every testing packet is lost', () => {
    const v = new EcnValidator(true);
    send(v, 0, 10);
    v.onLost('application', pns(0, 9));
    assert.equal(v.state, 'unknown');
    v.onLost('application', pns(9, 10));
    assert.equal(v.failure, 'lost');
  });

  it('unmarked packets need no counts; disabled never marks; reset tests again', () => {
    const v = new EcnValidator(true);
    send(v, 0, 10);
    send(v, 10, 5);
    v.onAck('application', ack(14, null, 10), pns(10, 15));
    assert.equal(v.state, 'unknown');
    v.onAck('application', ack(16, null, 0), pns(0, 10));
    assert.equal(v.state, 'failed');
    v.reset();
    assert.equal(v.state, 'testing');
    assert.equal(v.mark, 'ect0');
    const off = new EcnValidator(false);
    assert.equal(off.mark, 'not-ect');
    off.reset();
    assert.equal(off.state, 'failed');
  });
});
