import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { bytes, line, u8 } from '../../src/combinators/index.js';
import {
  ProtocolError,
  Session,
  encodeLine,
  lines,
  phase,
  runOnBytes,
  runSync,
  runWebStreams,
  type RecordEvent,
} from '../../src/miniproto/index.js';
import { attachDuplex } from '../../src/miniproto/node.js';
import { ascii, concat } from '../support/bytes.js';

const td = new TextDecoder();

/** A client phase: greet, read the greeting back, then read lines until the peer closes. */
function greeter(): Session<RecordEvent | { type: 'greeting'; text: string }> {
  type Ev = RecordEvent | { type: 'greeting'; text: string };
  const rest = lines<Ev>({ max: 1000 });
  return new Session(
    phase<Ev>('greet', function* (io) {
      yield* io.write(ascii('HELLO\r\n'));
      const l = yield* io.read(line());
      yield* io.emit({ type: 'greeting', text: td.decode(l) });
      return rest;
    }),
  );
}

describe('runSync', () => {
  it('reads only on need-read, writes every need-write, returns the final result', () => {
    const script = [ascii('WEL'), ascii('COME\r\na\r\n'), ascii('b\r\n')];
    const reads: (number | undefined)[] = [];
    const written: string[] = [];
    const events: string[] = [];
    const r = runSync(greeter(), {
      read: (needed) => {
        reads.push(needed);
        return script.shift() ?? null;
      },
      write: (d) => written.push(td.decode(d)),
      event: (e) => events.push(e.type === 'greeting' ? `greeting ${e.text}` : td.decode(e.data)),
    });
    assert.deepEqual(r, { type: 'done' });
    assert.deepEqual(written, ['HELLO\r\n']);
    assert.deepEqual(events, ['greeting WELCOME', 'a', 'b']);
    assert.equal(reads.length, 4, 'three chunks, then the end');
  });

  it('returns a typed error result', () => {
    const s = new Session(
      phase('p', function* (io) {
        const n = yield* io.read(u8);
        if (n !== 0) throw new ProtocolError('ERR_PROTOCOL', 'bad');
        return null;
      }),
    );
    const { result } = runOnBytes(s, Uint8Array.of(1));
    assert.equal(result.type, 'error');
    if (result.type === 'error') assert.equal(result.error.code, 'ERR_PROTOCOL');
  });
});

/** A loopback TCP pair. */
async function tcpPair(): Promise<{ client: Socket; server: Socket; close: () => void }> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  const accepted = once(srv, 'connection') as Promise<[Socket]>;
  const client = connect({ port, host: '127.0.0.1' });
  await once(client, 'connect');
  const [server] = await accepted;
  return { client, server, close: () => srv.close() };
}

describe('attachDuplex (Node net.Socket / Duplex)', () => {
  it('runs a client and a server session over loopback TCP: greeting, application lines, clean end', async () => {
    const { client, server, close } = await tcpPair();
    try {
      // Server: read the greeting, answer, then echo every line upper-cased.
      type SEv = RecordEvent;
      const echo = lines<SEv>({ max: 1000 });
      const serverSession = new Session<SEv>(
        phase<SEv>('accept', function* (io) {
          yield* io.read(line());
          yield* io.write(ascii('WELCOME\r\n'));
          return echo;
        }),
      );
      const serverDone = attachDuplex(serverSession, server, {
        onEvent: (e) => serverSession.send(encodeLine(td.decode(e.data).toUpperCase())),
      }).finished;

      const clientSession = greeter();
      const got: string[] = [];
      const clientDone = attachDuplex(clientSession, client, {
        onEvent: (e) => {
          if (e.type === 'greeting') {
            got.push(e.text);
            for (const w of ['one', 'two', 'three']) clientSession.send(encodeLine(w));
            return;
          }
          got.push(td.decode(e.data));
          if (got.length === 4) client.end(); // half-close: the server's lines phase ends cleanly
        },
      }).finished;
      assert.equal(await serverDone, 'done');
      assert.ok(['done', 'closed'].includes(await clientDone));
      assert.deepEqual(got, ['WELCOME', 'ONE', 'TWO', 'THREE']);
    } finally {
      client.destroy();
      server.destroy();
      close();
    }
  });

  it('honours write() returning false: no more polling until drain', async () => {
    const held: (() => void)[] = [];
    let maxQueued = 0;
    const sink = new Duplex({
      read() {},
      write(_chunk, _enc, cb) {
        held.push(cb);
      },
      writableHighWaterMark: 1024,
    });
    const chunk = new Uint8Array(1000);
    let produced = 0;
    const s = new Session(
      phase('flood', function* (io) {
        for (let i = 0; i < 50; i++) {
          produced++;
          yield* io.write(chunk);
        }
        for (;;) {
          if (io.eof) return null;
          yield* io.more();
        }
      }),
    );
    const att = attachDuplex(s, sink, { endOnDone: false });
    await new Promise((r) => setImmediate(r));
    maxQueued = Math.max(maxQueued, sink.writableLength);
    assert.ok(produced <= 3, `the phase ran on after write() returned false (${produced} chunks produced)`);
    // Release the sink step by step: each 'drain' lets the adapter poll again.
    for (let i = 0; i < 200 && produced < 50; i++) {
      held.splice(0).forEach((cb) => cb());
      await new Promise((r) => setImmediate(r));
      maxQueued = Math.max(maxQueued, sink.writableLength);
    }
    assert.equal(produced, 50);
    assert.ok(maxQueued <= 2 * chunk.length, `queued ${maxQueued} bytes in the stream`);
    att.detach();
    sink.destroy();
  });

  it('pauses reading past the high-water mark while it cannot poll, and resumes when the phase reads again', async () => {
    const held: (() => void)[] = [];
    const duplex = new Duplex({
      read() {},
      write(_chunk, _enc, cb) {
        held.push(cb);
      },
      writableHighWaterMark: 1,
    });
    let got = 0;
    const s = new Session(
      phase('write-then-read', function* (io) {
        yield* io.write(new Uint8Array(10)); // write() returns false: the adapter waits for 'drain'
        for (;;) {
          yield* io.read(bytes(100));
          got++;
        }
      }),
    );
    const att = attachDuplex(s, duplex, { highWaterMark: 300 });
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 5; i++) duplex.push(new Uint8Array(100));
    await new Promise((r) => setImmediate(r));
    assert.ok(duplex.isPaused(), 'reading paused: 500 bytes buffered, phase blocked on drain');
    assert.ok(s.buffered >= 300);
    held.splice(0).forEach((cb) => cb());
    await new Promise((r) => setImmediate(r));
    assert.equal(got, 5);
    assert.ok(!duplex.isPaused(), 'reading resumed once the phase consumed');
    att.detach();
    duplex.destroy();
  });

  it('a protocol error rejects `finished` with the typed error and destroys the socket', async () => {
    const duplex = new Duplex({
      read() {},
      write(_c, _e, cb) {
        cb();
      },
    });
    const s = new Session(lines({ max: 4 }));
    const { finished } = attachDuplex(s, duplex);
    duplex.push(ascii('too long line\r\n'));
    await assert.rejects(finished, (e: unknown) => (e as { code?: string }).code === 'ERR_TOO_LONG');
    assert.ok(duplex.destroyed);
  });
});

describe('runWebStreams', () => {
  it('runs a session over a ReadableStream/WritableStream pair with backpressure (writer.ready)', async () => {
    const input = [ascii('WELC'), ascii('OME\r\nx\r\n'), ascii('y\r\n')];
    const readable = new ReadableStream<Uint8Array>({
      pull(controller) {
        const c = input.shift();
        if (c === undefined) controller.close();
        else controller.enqueue(c);
      },
    });
    const written: Uint8Array[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const writable = new WritableStream<Uint8Array>(
      {
        async write(chunk) {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((r) => setTimeout(r, 1));
          written.push(chunk);
          inFlight--;
        },
      },
      new CountQueuingStrategy({ highWaterMark: 1 }),
    );
    const s = greeter();
    const events: string[] = [];
    const outcome = await runWebStreams(
      s,
      { readable, writable },
      {
        onEvent: (e) => {
          events.push(e.type === 'greeting' ? e.text : td.decode(e.data));
          if (e.type === 'greeting') for (let i = 0; i < 5; i++) s.send(encodeLine(`m${i}`));
        },
      },
    );
    assert.equal(outcome, 'closed');
    assert.deepEqual(events, ['WELCOME', 'x', 'y']);
    assert.equal(td.decode(concat(...written)), 'HELLO\r\nm0\r\nm1\r\nm2\r\nm3\r\nm4\r\n');
    assert.equal(maxInFlight, 1);
  });

  it('send() while waiting for input wakes the driver (output does not wait for the peer)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const readable = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await gate;
        controller.close();
      },
    });
    const written: string[] = [];
    const writable = new WritableStream<Uint8Array>({
      write(chunk) {
        written.push(td.decode(chunk));
        if (written.length === 1) release();
      },
    });
    const s = new Session(lines({ max: 100 }));
    const run = runWebStreams(s, { readable, writable });
    await new Promise((r) => setTimeout(r, 5));
    s.send(ascii('ping\r\n'));
    assert.equal(await run, 'closed');
    assert.deepEqual(written, ['ping\r\n']);
  });

  it('a protocol error rejects with the typed error and aborts the streams', async () => {
    const readable = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(ascii('far too long\r\n'));
      },
    });
    let aborted: unknown = null;
    const writable = new WritableStream<Uint8Array>({
      abort(reason) {
        aborted = reason;
      },
    });
    await assert.rejects(
      runWebStreams(new Session(lines({ max: 3 })), { readable, writable }),
      (e: unknown) => (e as { code?: string }).code === 'ERR_TOO_LONG',
    );
    assert.equal((aborted as { code?: string } | null)?.code, 'ERR_TOO_LONG');
  });
});
