import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { concat } from '../support/bytes.js';
import { HqPair, patternBytes } from './support.js';

describe('hq-interop (HTTP/0.9 over QUIC)', () => {
  it('GET /path: the server sees the path, the client gets the bytes byte-exact and the end', () => {
    const p = new HqPair({ seed: 21 });
    const files = new Map<string, Uint8Array>([
      ['/small.txt', new TextEncoder().encode('hello hq\n')],
      ['/big.bin', patternBytes(1_500_000, 3)],
    ]);
    const offsets = new Map<number, { body: Uint8Array; off: number }>();
    const push = (id: number): void => {
      const o = offsets.get(id)!;
      while (o.off < o.body.length) {
        const n = p.server!.sendData(id, o.body.subarray(o.off), true);
        o.off += n;
        if (o.off < o.body.length) return;
      }
    };
    p.onServer = (e) => {
      if (e.type === 'request') {
        offsets.set(e.streamId, { body: files.get(e.path) ?? new Uint8Array(0), off: 0 });
        push(e.streamId);
      } else if (e.type === 'stream-writable') push(e.streamId);
    };
    const bodies = new Map<number, Uint8Array[]>();
    const ended = new Set<number>();
    p.onClient = (e) => {
      if (e.type === 'data') {
        for (let d = p.client.readData(e.streamId); d !== null; d = p.client.readData(e.streamId)) bodies.get(e.streamId)!.push(d.slice());
      } else if (e.type === 'end') ended.add(e.streamId);
    };
    p.pair.handshake();
    const ids = ['/small.txt', '/big.bin'].map((path) => {
      const id = p.client.get(path)!;
      bodies.set(id, []);
      return id;
    });
    p.run(() => ids.every((id) => ended.has(id)));
    assert.deepEqual(
      p.serverEvents.filter((e) => e.type === 'request').map((e) => (e.type === 'request' ? e.path : '')),
      ['/small.txt', '/big.bin'],
    );
    assert.equal(new TextDecoder().decode(concat(...bodies.get(ids[0]!)!)), 'hello hq\n');
    assert.ok(Buffer.from(concat(...bodies.get(ids[1]!)!)).equals(Buffer.from(files.get('/big.bin')!)));
  });

  it('a request that is not GET <path> is reset', () => {
    const p = new HqPair({ seed: 22 });
    p.pair.handshake();
    const id = p.pair.client.openStream(true)!;
    p.pair.client.streamWrite(id, new TextEncoder().encode('POST /x\r\n'));
    p.pair.client.streamFinish(id);
    p.run(() => p.serverEvents.some((e) => e.type === 'bad-request'));
    p.run(() => p.pair.clientEvents.some((e) => e.type === 'stream-reset' && e.streamId === id));
  });
});
