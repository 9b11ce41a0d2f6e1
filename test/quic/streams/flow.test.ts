import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalStreamCredit, RecvWindow, RemoteStreamCredit, SendCredit } from '../../../src/quic/streams/flow.js';
import { transportError } from './support.js';

describe('SendCredit', () => {
  it('RFC 9000 4.1: a MAX_DATA / MAX_STREAM_DATA that does not increase the limit is ignored', () => {
    const c = new SendCredit(100);
    assert.equal(c.raise(100), false);
    assert.equal(c.raise(50), false);
    assert.equal(c.limit, 100);
    assert.equal(c.raise(101), true);
    assert.equal(c.limit, 101);
  });

  it('RFC 9000 4.1: a BLOCKED signal once per limit, none while credit remains', () => {
    const c = new SendCredit(10);
    c.noteBlocked();
    assert.equal(c.blockedPending, false, 'credit left: not blocked');
    c.consume(10);
    c.noteBlocked();
    assert.equal(c.blockedPending, true);
    c.onBlockedSent();
    c.noteBlocked();
    assert.equal(c.blockedPending, false, 'already signalled for this limit');
    c.raise(20);
    c.consume(10);
    c.noteBlocked();
    assert.equal(c.blockedPending, true, 'a new limit: a new signal');
  });

  it('RFC 9000 13.3: a lost BLOCKED frame is repeated only while blocked at the limit it carried', () => {
    const c = new SendCredit(10);
    c.consume(10);
    c.noteBlocked();
    c.onBlockedSent();
    c.onBlockedLost(10);
    assert.equal(c.blockedPending, true);
    c.onBlockedSent();
    c.raise(30);
    c.onBlockedLost(10);
    assert.equal(c.blockedPending, false, 'no longer blocked');
  });
});

describe('RecvWindow', () => {
  it('RFC 9000 4.1: data beyond the advertised limit is FLOW_CONTROL_ERROR', () => {
    const w = new RecvWindow(1000);
    w.check(1000, 0x08, 'stream 0');
    transportError(() => w.check(1001, 0x08, 'stream 0'), 'FLOW_CONTROL_ERROR', 0x08);
  });

  it('STYLE habit 9: credit is not returned as data arrives, only as it is consumed', () => {
    const w = new RecvWindow(1000);
    w.onReceived(1000);
    assert.equal(w.updatePending, false, 'a full window received and unread: no more credit');
    w.onConsumed(499);
    assert.equal(w.updatePending, false, 'less than half a window consumed');
    w.onConsumed(1);
    assert.equal(w.updatePending, true);
    assert.equal(w.takeUpdate(), 1500, 'consumed + window');
    assert.equal(w.limit, 1500);
    assert.equal(w.updatePending, false);
  });

  it('the update carries the freshest consumption and never lowers the limit', () => {
    const w = new RecvWindow(100);
    w.onConsumed(60);
    w.onConsumed(30);
    assert.equal(w.peekUpdate(), 190);
    assert.equal(w.takeUpdate(), 190);
    const z = new RecvWindow(0);
    z.onConsumed(0);
    assert.equal(z.updatePending, false, 'a zero window never grows');
  });

  it('RFC 9000 13.3: a lost MAX_DATA is repeated only if it carried the latest value', () => {
    const w = new RecvWindow(100);
    w.onConsumed(50);
    const first = w.takeUpdate();
    w.onConsumed(50);
    const second = w.takeUpdate();
    w.onUpdateLost(first);
    assert.equal(w.updatePending, false);
    w.onUpdateLost(second);
    assert.equal(w.updatePending, true);
    assert.equal(w.takeUpdate(), second);
  });
});

describe('stream-count credit', () => {
  it('RFC 9000 4.6/19.14: opening stops at the peer limit, with STREAMS_BLOCKED once per limit', () => {
    const c = new LocalStreamCredit(2);
    assert.equal(c.open(), 0);
    assert.equal(c.open(), 1);
    assert.equal(c.open(), null);
    assert.equal(c.blockedPending, true);
    c.onBlockedSent();
    assert.equal(c.open(), null);
    assert.equal(c.blockedPending, false);
    assert.equal(c.raise(1), false, 'MAX_STREAMS that does not increase the limit is ignored (4.6)');
    assert.equal(c.raise(3), true);
    assert.equal(c.open(), 2);
  });

  it('RFC 9000 4.6: a stream beyond our limit is STREAM_LIMIT_ERROR', () => {
    const c = new RemoteStreamCredit(3);
    c.check(2, 9, 0x08);
    transportError(() => c.check(3, 13, 0x08), 'STREAM_LIMIT_ERROR', 0x08);
  });

  it('RFC 9000 4.6: MAX_STREAMS credit comes back as the peer streams close, half a window at a time', () => {
    const c = new RemoteStreamCredit(4);
    c.onClosed();
    assert.equal(c.updatePending, false);
    c.onClosed();
    assert.equal(c.updatePending, true);
    assert.equal(c.takeUpdate(), 6, 'closed + window');
    const one = new RemoteStreamCredit(1);
    one.onClosed();
    assert.equal(one.updatePending, true, 'a window of one: every closure');
    assert.equal(one.takeUpdate(), 2);
  });
});
