/**
 * Raw mode of the Node adapter (`rawStreams: true`): a sans-I/O application
 * protocol attaches to a connection and drives its streams with the engine's
 * commands, while the adapter still owns the socket, the timers and the
 * handshake. Events that arrive before `attach` are queued, not lost.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../../src/combinators/errors.js';
import type { ConnectionEvent } from '../../../src/quic/connection/events.js';
import { connect, type QuicConnection } from '../../../src/quic/node.js';
import { ALPN, CERT, bytes, readAll, testServer, writeAll } from './support.js';

/** A raw-mode echo of every bidirectional stream, with backpressure (what streamWrite does not take waits). */
function rawEcho(conn: QuicConnection): void {
  const engine = conn.engine;
  const pending = new Map<number, { data: Uint8Array[]; fin: boolean }>();
  const flush = (id: number): void => {
    const p = pending.get(id);
    if (p === undefined) return;
    while (p.data.length > 0) {
      const chunk = p.data[0]!;
      const n = engine.streamWrite(id, chunk);
      if (n < chunk.length) {
        p.data[0] = chunk.subarray(n);
        return;
      }
      p.data.shift();
    }
    if (p.fin) {
      engine.streamFinish(id);
      pending.delete(id);
    }
  };
  conn.attach((e: ConnectionEvent) => {
    if (e.type === 'stream-readable' && e.streamId % 4 === 0) {
      let p = pending.get(e.streamId);
      if (p === undefined) pending.set(e.streamId, (p = { data: [], fin: false }));
      for (let r = engine.streamRead(e.streamId); r !== null; r = r.fin ? null : engine.streamRead(e.streamId)) {
        if (r.data.length > 0) p.data.push(r.data);
        if (r.fin) p.fin = true;
      }
      flush(e.streamId);
    } else if (e.type === 'stream-writable') {
      flush(e.streamId);
    }
  });
}

describe('Node adapter, raw mode (rawStreams: true)', () => {
  it('a raw server echoes 300 KB through engine commands to a Web Streams client', async () => {
    const server = await testServer((c) => rawEcho(c), { rawStreams: true });
    try {
      const conn = await connect({ host: '127.0.0.1', port: server.address().port, alpn: ALPN, serverName: 'localhost', ca: CERT });
      const s = await conn.openStream();
      const data = bytes(300_000, 7);
      const [, back] = await Promise.all([writeAll(s, data), readAll(s.readable)]);
      assert.ok(back.equals(data));
      await conn.close();
    } finally {
      await server.close();
    }
  });

  it('a raw client gets the events that came before attach (a server uni stream sent at once), and cannot use openStream()', async () => {
    const server = await testServer(
      (c) => {
        const id = c.engine.openStream(false)!;
        c.engine.streamWrite(id, new TextEncoder().encode('early bytes'));
        c.engine.streamFinish(id);
        c.wake();
        rawEcho(c);
      },
      { rawStreams: true },
    );
    try {
      const conn = await connect({
        host: '127.0.0.1',
        port: server.address().port,
        alpn: ALPN,
        serverName: 'localhost',
        ca: CERT,
        rawStreams: true,
      });
      await assert.rejects(conn.openStream(), UsageError);
      await new Promise((r) => setTimeout(r, 50)); // the server's stream arrives meanwhile
      const got = new Map<number, string>();
      let done!: () => void;
      const finished = new Promise<void>((r) => (done = r));
      const seen: string[] = [];
      conn.attach((e) => {
        seen.push(e.type);
        if (e.type !== 'stream-readable') return;
        for (let r = conn.engine.streamRead(e.streamId); r !== null; r = r.fin ? null : conn.engine.streamRead(e.streamId)) {
          got.set(e.streamId, (got.get(e.streamId) ?? '') + new TextDecoder().decode(r.data));
          if (r.fin && e.streamId % 4 === 0) done();
        }
      });
      // Every event is forwarded, in order, the queued ones first.
      assert.equal(seen[0], 'handshake-completed');
      assert.ok(seen.includes('stream-opened'), seen.join());
      assert.equal(got.get(3), 'early bytes'); // server-initiated uni stream 3 (RFC 9000 section 2.1)
      // Our own stream through the engine, echoed by the raw server.
      const id = conn.engine.openStream(true)!;
      conn.engine.streamWrite(id, new TextEncoder().encode('ping'));
      conn.engine.streamFinish(id);
      conn.wake();
      await finished;
      assert.equal(got.get(id), 'ping');
      assert.throws(() => conn.attach(() => {}), UsageError);
      await conn.close();
    } finally {
      await server.close();
    }
  });
});
