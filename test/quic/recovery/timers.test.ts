import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimerTable } from '../../../src/quic/recovery/timers.js';

describe('TimerTable', () => {
  type Kind = 'loss-detection' | 'idle' | 'ack-delay' | 'pacing';
  const kinds: readonly Kind[] = ['loss-detection', 'idle', 'ack-delay', 'pacing'];

  it('reports the earliest armed deadline, null when none', () => {
    const t = new TimerTable<Kind>(kinds);
    assert.equal(t.next(), null);
    assert.equal(t.nextDeadline(), null);
    t.set('idle', 30_000);
    t.set('ack-delay', 25);
    t.set('loss-detection', 999);
    assert.deepEqual(t.next(), { kind: 'ack-delay', deadline: 25 });
    t.stop('ack-delay');
    assert.deepEqual(t.next(), { kind: 'loss-detection', deadline: 999 });
    t.set('loss-detection', null);
    assert.equal(t.nextDeadline(), 30_000);
    assert.equal(t.get('loss-detection'), null);
    assert.equal(t.get('idle'), 30_000);
  });

  it('expired(now) lists due kinds in table order and keeps them armed; ties go to the first kind', () => {
    const t = new TimerTable<Kind>(kinds);
    t.set('pacing', 10);
    t.set('idle', 10);
    t.set('ack-delay', 11);
    assert.deepEqual(t.next(), { kind: 'idle', deadline: 10 });
    assert.deepEqual(t.expired(9), []);
    assert.deepEqual(t.expired(10), ['idle', 'pacing']);
    assert.deepEqual(t.expired(11), ['idle', 'ack-delay', 'pacing']);
    t.stopAll();
    assert.deepEqual(t.expired(1e9), []);
  });
});
