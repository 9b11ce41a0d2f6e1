/**
 * Streams, datagrams and closes of the Node adapter over loopback: Web
 * Streams with the engine's backpressure, cancellation in both directions
 * (AbortSignal, writer.abort, reader.cancel), unidirectional streams, the
 * peer's stream limit, what streams see when the connection ends.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../../src/combinators/errors.js';
import { connect, QuicError, type QuicConnection, type QuicServer, type QuicStream } from '../../../src/quic/node.js';
import type { ConnectOptions, ListenOptions } from '../../../src/quic/node.js';
import { ALPN, CERT, bytes, echoStreams, first, readAll, rejection, sleep, testServer, writeAll } from './support.js';

/** A server running `onConnection` and a client connected to it. */
async function pair(
  onConnection: (conn: QuicConnection) => void,
  serverOptions: Partial<ListenOptions> = {},
  clientOptions: Partial<ConnectOptions> = {},
): Promise<{ server: QuicServer; client: QuicConnection; serverConn: QuicConnection; done: () => Promise<void> }> {
  const server = await testServer(onConnection, serverOptions);
  const accepted = first(server);
  const client = await connect({
    host: '127.0.0.1',
    port: server.address().port,
    serverName: 'localhost',
    alpn: ALPN,
    ca: CERT,
    ...clientOptions,
  });
  const serverConn = await accepted;
  return {
    server,
    client,
    serverConn,
    done: async () => {
      await client.close();
      await server.close();
    },
  };
}

const isQuicError =
  (code: QuicError['code'], errorCode?: bigint) =>
  (e: unknown): boolean =>
    e instanceof QuicError && e.code === code && (errorCode === undefined || e.errorCode === errorCode);

/** Waits until `value()` has not changed for `quietMs` (the pipeline stalled). */
async function settle(value: () => number, quietMs = 300): Promise<number> {
  let last = -1;
  let still = 0;
  while (still * 25 < quietMs) {
    await sleep(25);
    const v = value();
    if (v === last) still++;
    else {
      last = v;
      still = 0;
    }
  }
  return last;
}

describe('QUIC over node:dgram: streams', () => {
  it('echoes 1 MiB in both directions at once', async () => {
    const p = await pair(echoStreams);
    try {
      const s = await p.client.openStream();
      const data = bytes(1 << 20, 7);
      const [, back] = await Promise.all([writeAll(s, data, 10_000), readAll(s.readable)]);
      assert.ok(back.equals(data));
      await s.finished;
    } finally {
      await p.done();
    }
  });

  it('applies backpressure to a writer whose peer does not read, and resumes when it does', async () => {
    let peerStream: QuicStream | null = null;
    const window = 64 * 1024;
    const sendBuffer = 64 * 1024;
    const p = await pair(
      (c) => c.on('stream', (s) => (peerStream = s)),
      { limits: { maxStreamDataBidiRemote: window }, readableHighWaterMark: 8 * 1024 },
      { limits: { sendBufferSize: sendBuffer }, writableHighWaterMark: 8 * 1024 },
    );
    try {
      const s = await p.client.openStream();
      const data = bytes(1 << 20, 3);
      const piece = 8 * 1024;
      let accepted = 0;
      const w = s.writable.getWriter();
      const writing = (async () => {
        const writes: Promise<void>[] = [];
        for (let off = 0; off < data.length; off += piece) {
          await w.ready;
          const write = w.write(data.subarray(off, off + piece)).then(() => void (accepted += piece));
          write.catch(() => {}); // failures surface through Promise.all below
          writes.push(write);
        }
        await Promise.all(writes);
        await w.close();
      })();
      writing.catch(() => {});
      // Nobody reads on the server: the writer stops once the peer's stream window and our send buffer are full.
      const stalled = await settle(() => accepted);
      assert.ok(stalled >= window, `accepted ${stalled}`);
      assert.ok(stalled <= window + sendBuffer + 2 * piece, `accepted ${stalled}: more than window + send buffer`);
      // The engine's buffer is (nearly: it signals room again at half) full, and so is the writable's queue.
      assert.ok(s.writableBytes < sendBuffer / 2);
      assert.ok(w.desiredSize !== null && w.desiredSize <= 0);
      // The server starts reading: everything arrives, in order.
      assert.ok(peerStream !== null);
      const [back] = await Promise.all([readAll((peerStream as QuicStream).readable), writing]);
      assert.equal(accepted, data.length);
      assert.ok(back.equals(data));
    } finally {
      await p.done();
    }
  });

  it('returns flow-control credit only as the reader consumes', async () => {
    const window = 32 * 1024;
    const total = 512 * 1024;
    let written = 0;
    const p = await pair(
      (c) =>
        c.on('stream', (s) => {
          void (async () => {
            const w = s.writable.getWriter();
            const data = bytes(total, 11);
            for (let off = 0; off < total; off += 4096) {
              await w.write(data.subarray(off, off + 4096));
              written += 4096;
            }
            await w.close();
          })().catch(() => {});
        }),
      { limits: { sendBufferSize: 32 * 1024 } },
      { limits: { maxStreamDataBidiLocal: window }, readableHighWaterMark: 4096 },
    );
    try {
      const s = await p.client.openStream();
      await s.writable.getWriter().write(new Uint8Array([1]));
      const reader = s.readable.getReader();
      const before = await settle(() => written);
      assert.ok(before < total / 2, `the server wrote ${before} bytes to a reader that reads nothing`);
      // Read a little: the server moves on by about what was read, not to the end.
      let got = 0;
      const chunks: Uint8Array[] = [];
      while (got < 64 * 1024) {
        const r = await reader.read();
        assert.equal(r.done, false);
        chunks.push(r.value!);
        got += r.value!.length;
      }
      const after = await settle(() => written);
      assert.ok(after > before && after < total, `wrote ${before} then ${after}`);
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        chunks.push(r.value);
      }
      assert.ok(Buffer.concat(chunks).equals(bytes(total, 11)));
    } finally {
      await p.done();
    }
  });

  it('aborts a stream with an AbortSignal: the peer sees RESET_STREAM and STOP_SENDING with the code', async () => {
    let peerStream: QuicStream | null = null;
    const p = await pair((c) => c.on('stream', (s) => (peerStream = s)));
    try {
      const ac = new AbortController();
      const s = await p.client.openStream({ signal: ac.signal });
      const w = s.writable.getWriter();
      await w.write(bytes(1000));
      while (peerStream === null) await sleep(5);
      const peer = peerStream as QuicStream;
      const peerReader = peer.readable.getReader();
      assert.equal((await peerReader.read()).done, false);
      ac.abort(42n);
      assert.ok(isQuicError('ERR_QUIC_STREAM_RESET', 42n)(await rejection(peerReader.read())));
      // STOP_SENDING arrived too: the peer's writes fail with the same code.
      const peerWriter = peer.writable.getWriter();
      let e: unknown = null;
      for (let i = 0; i < 100 && e === null; i++) {
        e = await peerWriter.write(bytes(100)).then(
          () => sleep(10).then(() => null),
          (x: unknown) => x,
        );
      }
      assert.ok(isQuicError('ERR_QUIC_STREAM_STOPPED', 42n)(e));
      // Our own sides fail with ERR_QUIC_STREAM_ABORTED.
      assert.ok(isQuicError('ERR_QUIC_STREAM_ABORTED', 42n)(await rejection(w.write(bytes(1)))));
      assert.ok(isQuicError('ERR_QUIC_STREAM_ABORTED', 42n)(await rejection(s.readable.getReader().read())));
    } finally {
      await p.done();
    }
  });

  it('writer.abort(code) resets the stream; reader.cancel(code) stops the peer', async () => {
    const peerStreams: QuicStream[] = [];
    const p = await pair((c) => c.on('stream', (s) => peerStreams.push(s)));
    try {
      const a = await p.client.openStream();
      const wa = a.writable.getWriter();
      await wa.write(bytes(10));
      await wa.abort(9);
      const b = await p.client.openStream();
      await b.writable.getWriter().write(bytes(10));
      while (peerStreams.length < 2) await sleep(5);
      assert.ok(isQuicError('ERR_QUIC_STREAM_RESET', 9n)(await rejection(readAll(peerStreams[0]!.readable))));
      await b.readable.cancel(7);
      const w = peerStreams[1]!.writable.getWriter();
      let e: unknown = null;
      for (let i = 0; i < 100 && e === null; i++) {
        e = await w.write(bytes(100)).then(
          () => sleep(10).then(() => null),
          (x: unknown) => x,
        );
      }
      assert.ok(isQuicError('ERR_QUIC_STREAM_STOPPED', 7n)(e));
    } finally {
      await p.done();
    }
  });

  it('opens unidirectional streams: one readable side at the peer, an empty one here', async () => {
    const p = await pair(() => {});
    try {
      const incoming = first(p.serverConn.incomingStreams());
      const s = await p.client.openStream({ bidi: false });
      assert.equal(s.bidirectional, false);
      assert.deepEqual(await readAll(s.readable), Buffer.alloc(0));
      await writeAll(s, new TextEncoder().encode('one way'));
      const peer = await incoming;
      assert.deepEqual([peer.bidirectional, peer.initiator, peer.id], [false, 'peer', s.id]);
      assert.equal((await readAll(peer.readable)).toString(), 'one way');
      const e = await rejection(peer.writable.getWriter().write(bytes(1)));
      assert.ok(e instanceof UsageError);
    } finally {
      await p.done();
    }
  });

  it('waits in openStream while the peer allows no more streams (RFC 9000 section 4.6)', async () => {
    const p = await pair(echoStreams, { limits: { maxStreamsBidi: 2 } });
    try {
      const a = await p.client.openStream();
      const b = await p.client.openStream();
      let third: QuicStream | null = null;
      const opening = p.client.openStream().then((s) => (third = s));
      await b.writable.getWriter().write(bytes(10)); // b stays open
      await sleep(50);
      assert.equal(third, null);
      // Stream a completes in both directions: the server's credit comes back with MAX_STREAMS.
      await Promise.all([writeAll(a, bytes(100)), readAll(a.readable)]);
      await opening;
      const c = third as QuicStream | null;
      assert.ok(c !== null);
      const [, back] = await Promise.all([writeAll(c, bytes(300, 5)), readAll(c.readable)]);
      assert.ok(back.equals(bytes(300, 5)));
      // An AbortSignal cancels the wait for credit (b and d open: none left).
      const d = await p.client.openStream();
      await d.writable.getWriter().write(bytes(1));
      const ac = new AbortController();
      const waiting = p.client.openStream({ signal: ac.signal });
      ac.abort();
      assert.ok(isQuicError('ERR_QUIC_ABORTED')(await rejection(waiting)));
    } finally {
      await p.done();
    }
  });
});

describe('QUIC over node:dgram: closing, datagrams', () => {
  it('close(code, reason): the peer sees both; unfinished streams and new commands fail with the reason', async () => {
    let peerStream: QuicStream | null = null;
    const p = await pair((c) => c.on('stream', (s) => (peerStream = s)));
    try {
      const s = await p.client.openStream();
      await s.writable.getWriter().write(bytes(10));
      while (peerStream === null) await sleep(5);
      const peerRead = rejection(readAll((peerStream as QuicStream).readable));
      const mine = await p.client.close({ errorCode: 7, reason: 'done here' });
      assert.deepEqual([mine.kind, mine.code, mine.reason, mine.initiator], ['application', 7n, 'done here', 'local']);
      const theirs = await p.serverConn.closed;
      assert.deepEqual([theirs.kind, theirs.code, theirs.reason, theirs.initiator], ['application', 7n, 'done here', 'peer']);
      const e = await peerRead;
      assert.ok(isQuicError('ERR_QUIC_CONNECTION_CLOSED')(e));
      assert.equal((e as QuicError).closeReason?.code, 7n);
      assert.ok(isQuicError('ERR_QUIC_CONNECTION_CLOSED')(await rejection(p.serverConn.openStream())));
      assert.throws(() => p.client.sendDatagram(bytes(1)), isQuicError('ERR_QUIC_CONNECTION_CLOSED'));
    } finally {
      await p.server.close();
    }
  });

  it('keeps data that arrived before the peer closed readable, to its FIN', async () => {
    const data = bytes(100_000, 9);
    const p = await pair((c) => {
      c.on('stream', (s) => {
        void (async () => {
          await writeAll(s, data);
          await s.finished; // acknowledged: it is in the client's engine
          await c.close({ errorCode: 0 });
        })();
      });
    });
    try {
      const s = await p.client.openStream();
      await s.writable.getWriter().write(bytes(1));
      const r = await p.client.closed;
      assert.equal(r.initiator, 'peer');
      // The readable is created only now, after the close: it still gives everything, then ends.
      assert.ok((await readAll(s.readable)).equals(data));
    } finally {
      await p.server.close();
    }
  });

  it('sends and receives datagrams (RFC 9221) when both sides accept them', async () => {
    const limits = { maxDatagramFrameSize: 1200 };
    const p = await pair((c) => c.on('datagram', (d) => c.sendDatagram(Uint8Array.from(d, (x) => x ^ 0xff))), { limits }, { limits });
    try {
      const received = p.client.datagrams();
      const sent = bytes(500, 2);
      // Datagrams are unreliable: resend until one answer comes (loopback loses none in practice).
      let answer: IteratorResult<Uint8Array> | null = null;
      for (let i = 0; i < 20 && answer === null; i++) {
        assert.equal(p.client.sendDatagram(sent), true);
        answer = await Promise.race([received.next(), sleep(200).then(() => null)]);
      }
      assert.ok(answer !== null && answer.done !== true);
      assert.ok(Buffer.from(answer.value).equals(Uint8Array.from(sent, (x) => x ^ 0xff)));
      // Larger than the peer's max_datagram_frame_size: refused here, not sent.
      assert.equal(p.client.sendDatagram(bytes(1300)), false);
    } finally {
      await p.done();
    }
  });

  it('refuses datagrams when the peer does not accept them', async () => {
    const p = await pair(() => {});
    try {
      assert.equal(p.client.sendDatagram(bytes(10)), false);
    } finally {
      await p.done();
    }
  });

  it('ends an idle connection on both sides (RFC 9000 section 10.1)', async () => {
    const p = await pair(() => {}, {}, { idleTimeout: 200 });
    try {
      const [a, b] = await Promise.all([p.client.closed, p.serverConn.closed]);
      assert.equal(a.initiator, 'idle-timeout');
      assert.equal(b.initiator, 'idle-timeout');
      assert.ok(isQuicError('ERR_QUIC_IDLE_TIMEOUT')(await rejection(p.client.openStream())));
    } finally {
      await p.server.close();
    }
  });
});
