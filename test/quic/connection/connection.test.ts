/**
 * The connection's own behaviour on a lossless in-memory wire: handshake with both providers, streams,
 * flow control credit, datagrams, close codes, idle timeout, Retry and Version Negotiation handling,
 * transport parameter checks. Network conditions are in ../sim/.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { concat } from '../../support/bytes.js';
import { pump } from '../sim/support.js';
import { Pair, PROVIDER_KINDS } from './support.js';

describe('connection handshake', () => {
  for (const clientKind of PROVIDER_KINDS) {
    for (const serverKind of PROVIDER_KINDS) {
      it(`${clientKind} client, ${serverKind} server: handshake completes and is confirmed`, () => {
        const pair = new Pair({ clientKind, serverKind });
        pair.handshake();
        const c = pair.clientEvents.find((e) => e.type === 'handshake-completed');
        const s = pair.serverEvents.find((e) => e.type === 'handshake-completed');
        assert.ok(c && c.type === 'handshake-completed' && c.alpn === 'test');
        assert.ok(s && s.type === 'handshake-completed' && s.alpn === 'test');
        assert.equal(pair.client.state, 'established');
        assert.equal(pair.server!.state, 'established');
      });
    }
  }
});

function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('connection streams', () => {
  it('client sends 3 MB on one stream with small windows; the server reads it all, credit grows as it reads', () => {
    const pair = new Pair({
      client: { limits: { maxData: 64 * 1024, maxStreamDataBidiLocal: 32 * 1024 } },
      server: { limits: { maxData: 64 * 1024, maxStreamDataBidiRemote: 32 * 1024 } },
    });
    pair.handshake();
    const data = pattern(3 * 1024 * 1024);
    const id = pair.client.openStream(true);
    assert.equal(id, 0);
    let written = pump(pair.client, 0, data, 0);
    const received: Uint8Array[] = [];
    let fin = false;
    pair.run(() => {
      if (written < data.length) written = pump(pair.client, 0, data, written);
      if (!pair.serverEvents.some((e) => e.type === 'stream-opened')) return false;
      for (let r = pair.server!.streamRead(0); r !== null; r = pair.server!.streamRead(0)) {
        received.push(r.data);
        if (r.fin) fin = true;
      }
      return fin;
    }, 100_000);
    const all = concat(...received);
    assert.equal(all.length, data.length);
    assert.deepEqual(all, data);
  });
});

describe('connection resumption', () => {
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: a session ticket from one connection resumes the next (no certificate check the second time)`, () => {
      const key = new Uint8Array(32).fill(3);
      const first = new Pair({ clientKind: kind, serverKind: kind, server: { tickets: { key } } });
      first.handshake();
      first.run(() => first.clientEvents.some((e) => e.type === 'session-ticket'));
      const t = first.clientEvents.find((e) => e.type === 'session-ticket');
      assert.ok(t && t.type === 'session-ticket');
      const done = first.clientEvents.find((e) => e.type === 'handshake-completed');
      assert.ok(done && done.type === 'handshake-completed' && !done.resumed);

      let verified = 0;
      const second = new Pair({
        clientKind: kind,
        serverKind: kind,
        server: { tickets: { key } },
        client: {
          session: t.ticket,
          verifyCertificate: () => {
            verified++;
          },
        },
      });
      second.handshake();
      const resumed = second.clientEvents.find((e) => e.type === 'handshake-completed');
      assert.ok(resumed && resumed.type === 'handshake-completed' && resumed.resumed);
      assert.equal(verified, 0);
      // A server with another ticket key cannot open the ticket: full handshake, certificate checked.
      const third = new Pair({
        clientKind: kind,
        serverKind: kind,
        server: { tickets: { key: new Uint8Array(32).fill(4) } },
        client: {
          session: t.ticket,
          verifyCertificate: () => {
            verified++;
          },
        },
      });
      third.handshake();
      const full = third.clientEvents.find((e) => e.type === 'handshake-completed');
      assert.ok(full && full.type === 'handshake-completed' && !full.resumed);
      assert.equal(verified, 1);
    });
  }
});
