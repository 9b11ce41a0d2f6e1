import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParseError, UsageError, bytes, gen, line, u16be, u8 } from '../../src/combinators/index.js';
import { ProtocolError, Session, lengthRecords, phase, type Phase, type PollResult } from '../../src/miniproto/index.js';
import { ascii, concat } from '../support/bytes.js';
import { drive, expectError } from './support.js';

type Ev = { type: 'text'; text: string } | { type: 'n'; n: number };
const td = new TextDecoder();

describe('Session / phase contract', () => {
  it('a phase that must write first says need-write first; one that must read first says need-read', () => {
    const client = phase<Ev>('client', function* (io) {
      yield* io.write(ascii('HELLO\r\n'));
      const l = yield* io.read(line());
      yield* io.emit({ type: 'text', text: td.decode(l) });
      return null;
    });
    const server = phase<Ev>('server', function* (io) {
      const l = yield* io.read(line());
      yield* io.write(ascii(`ACK ${td.decode(l)}\r\n`));
      return null;
    });
    const c = new Session(client);
    const first = c.poll();
    assert.equal(first.type, 'need-write');
    assert.deepEqual(first.type === 'need-write' ? td.decode(first.data) : '', 'HELLO\r\n');
    assert.deepEqual(c.poll(), { type: 'need-read' });
    c.receive(ascii('WELCOME\r\n'));
    assert.deepEqual(c.poll(), { type: 'event', event: { type: 'text', text: 'WELCOME' } });
    assert.deepEqual(c.poll(), { type: 'done' });
    assert.deepEqual(c.poll(), { type: 'done' }, 'done is sticky');

    const s = new Session(server);
    assert.equal(s.poll().type, 'need-read');
    s.receive(ascii('HELLO\r\n'));
    const w = s.poll();
    assert.equal(w.type === 'need-write' ? td.decode(w.data) : w.type, 'ACK HELLO\r\n');
    assert.equal(s.poll().type, 'done');
  });

  it('need-read carries the byte count when the parser knows it', () => {
    const p = phase<Ev>('p', function* (io) {
      const n = yield* io.read(u16be);
      yield* io.read(bytes(n));
      return null;
    });
    const s = new Session(p);
    assert.deepEqual(s.poll(), { type: 'need-read', needed: 2 });
    s.receive(Uint8Array.of(0));
    assert.deepEqual(s.poll(), { type: 'need-read', needed: 1 });
    s.receive(Uint8Array.of(10, 1, 2, 3));
    assert.deepEqual(s.poll(), { type: 'need-read', needed: 7 });
  });

  it('a generator parser resumes where it stopped (no byte read twice)', () => {
    let runs = 0;
    const rec = gen('rec', function* () {
      runs++;
      const a = yield* u8;
      const b = yield* u8;
      const c = yield* u8;
      return [a, b, c];
    });
    const p = phase<Ev>('p', function* (io) {
      const v = yield* io.read(rec);
      yield* io.emit({ type: 'n', n: v[0]! * 100 + v[1]! * 10 + v[2]! });
      return null;
    });
    const s = new Session(p);
    assert.equal(s.poll().type, 'need-read');
    s.receive(Uint8Array.of(1));
    assert.equal(s.poll().type, 'need-read');
    const started = runs;
    const t = drive(s, [Uint8Array.of(2), Uint8Array.of(3)]);
    assert.deepEqual(t.events, [{ type: 'n', n: 123 }]);
    assert.equal(t.final.type, 'done');
    assert.equal(runs, started, 'the suspended body was resumed, not restarted');
  });

  it('phase switch: the next phase starts exactly after the bytes the previous one consumed', () => {
    const records = lengthRecords<Ev>({ prefix: 'u8' });
    const greet = phase<Ev | { type: 'record'; phase: string; data: Uint8Array }>('greet', function* (io) {
      yield* io.read(line());
      return records;
    });
    const input = concat(ascii('HI\r\n'), Uint8Array.of(2, 0xaa, 0xbb, 1, 0xcc));
    const t = drive(new Session(greet), [input], { end: true });
    assert.deepEqual(t.switched, ['greet->u8 records']);
    assert.deepEqual(
      t.events.map((e) => (e.type === 'record' ? Array.from(e.data) : [])),
      [[0xaa, 0xbb], [0xcc]],
    );
    assert.equal(t.final.type, 'done');
  });

  it('a peer error becomes a sticky error result with the typed code; later receive is ignored', () => {
    const p = phase<Ev>('p', function* (io) {
      const n = yield* io.read(u8);
      if (n !== 1) throw new ProtocolError('ERR_PROTOCOL', 'want 1');
      return null;
    });
    const s = new Session(p);
    s.receive(Uint8Array.of(2));
    const e = expectError(s.poll(), 'ERR_PROTOCOL');
    assert.ok(e instanceof ProtocolError);
    s.receive(Uint8Array.of(1));
    assert.equal(s.poll(), s.poll());
    assert.ok(s.failed);
  });

  it('input that ends inside a value gives ERR_UNEXPECTED_END', () => {
    const p = phase<Ev>('p', function* (io) {
      yield* io.read(u16be);
      return null;
    });
    const s = new Session(p);
    s.receive(Uint8Array.of(1));
    assert.equal(s.poll().type, 'need-read');
    s.end();
    const e = expectError(s.poll(), 'ERR_UNEXPECTED_END');
    assert.ok(e instanceof ParseError);
  });

  it('receiving past maxBuffered fails the session with ERR_BUFFER_LIMIT, and buffered stays under the cap', () => {
    const p = phase<Ev>('p', function* (io) {
      yield* io.read(bytes(100));
      return null;
    });
    const s = new Session(p, { maxBuffered: 64 });
    assert.equal(s.poll().type, 'error', 'a value larger than the cap fails at once (waiting could never help)');
    const s2 = new Session(
      phase<Ev>('idle', function* (io) {
        for (;;) yield* io.more();
      }),
      { maxBuffered: 64 },
    );
    for (let i = 0; i < 10; i++) {
      s2.receive(new Uint8Array(10));
      assert.ok(s2.buffered <= 64);
    }
    expectError(s2.poll(), 'ERR_BUFFER_LIMIT');
  });

  it('API misuse throws UsageError (not an error result)', () => {
    const bad = phase<Ev>('bad', function* (io) {
      const a = io.read(u8);
      io.read(u8); // the first operation was not used: misuse
      yield* a;
      return null;
    });
    const s = new Session(bad);
    assert.throws(
      () => s.poll(),
      (e: unknown) => e instanceof UsageError,
    );
    assert.throws(
      () => s.poll(),
      (e: unknown) => e instanceof UsageError,
      'a broken session keeps throwing',
    );

    let session: Session<Ev> | null = null;
    const switcher = phase<Ev>('switcher', function* (io) {
      session!.switchTo(null);
      yield* io.emit({ type: 'n', n: 0 });
      return null;
    });
    session = new Session(switcher);
    assert.throws(
      () => session!.poll(),
      (e: unknown) => e instanceof UsageError,
    );
  });

  it('send() output is held while a holdOutput phase runs, then flushed in order', () => {
    const after = phase<Ev>('after', function* (io) {
      for (;;) {
        if (io.eof) return null;
        yield* io.more();
      }
    });
    const hs = phase<Ev>(
      'hs',
      function* (io) {
        yield* io.write(ascii('A'));
        yield* io.read(u8);
        return after;
      },
      { holdOutput: true },
    );
    const s = new Session(hs, { coalesce: 0 });
    s.send(ascii('x'));
    s.send(ascii('y'));
    const out: string[] = [];
    let r: PollResult<Ev> = s.poll();
    for (; r.type === 'need-write'; r = s.poll()) out.push(td.decode(r.data));
    assert.deepEqual(out, ['A'], 'only the handshake bytes go out');
    assert.equal(r.type, 'need-read', 'the application data waits for a read, and the result says so');
    assert.equal(s.pendingOutput, 2);
    s.receive(Uint8Array.of(1));
    assert.deepEqual(s.poll(), { type: 'switched', from: 'hs', to: 'after' });
    const rest: string[] = [];
    for (r = s.poll(); r.type === 'need-write'; r = s.poll()) rest.push(td.decode(r.data));
    assert.deepEqual(rest, ['x', 'y']);
    assert.equal(r.type, 'need-read');
  });

  it('small queued writes are joined (one copy), large ones pass through without a copy', () => {
    const idle = phase<Ev>('idle', function* (io) {
      for (;;) yield* io.more();
    });
    const s = new Session(idle, { coalesce: 8 });
    const big = new Uint8Array(100);
    s.send(ascii('ab'));
    s.send(ascii('cd'));
    s.send(ascii('efgh'));
    s.send(ascii('ij'));
    s.send(big);
    const out: Uint8Array[] = [];
    for (let r = s.poll(); r.type === 'need-write'; r = s.poll()) out.push(r.data);
    assert.deepEqual(
      out.map((d) => d.length),
      [8, 2, 100],
    );
    assert.equal(td.decode(concat(...out.slice(0, 2))), 'abcdefghij');
    assert.equal(out[2], big, 'a large chunk is handed out as is');
  });

  it('switchTo() between polls abandons the phase (its finally runs) and keeps unread bytes for the next', () => {
    let cleaned = false;
    const first: Phase<Ev> = phase('first', function* (io) {
      try {
        for (;;) {
          const n = yield* io.read(u8);
          yield* io.emit({ type: 'n', n });
        }
      } finally {
        cleaned = true;
      }
    });
    const second: Phase<Ev> = phase('second', function* (io) {
      const l = yield* io.read(line());
      yield* io.emit({ type: 'text', text: td.decode(l) });
      return null;
    });
    const s = new Session(first);
    s.receive(concat(Uint8Array.of(7), ascii('rest\r\n')));
    assert.deepEqual(s.poll(), { type: 'event', event: { type: 'n', n: 7 } });
    s.switchTo(second);
    assert.ok(cleaned);
    assert.equal(s.phase, 'second');
    assert.deepEqual(s.poll(), { type: 'event', event: { type: 'text', text: 'rest' } });
    assert.equal(s.poll().type, 'done');
  });

  it('switchTo() in the middle of a generator-parsed value is refused', () => {
    const pair = gen('pair', function* () {
      const a = yield* u8;
      const b = yield* u8;
      return a + b;
    });
    const p = phase<Ev>('p', function* (io) {
      yield* io.read(pair);
      return null;
    });
    const s = new Session(p);
    s.receive(Uint8Array.of(1));
    assert.equal(s.poll().type, 'need-read');
    assert.throws(
      () => s.switchTo(null),
      (e: unknown) => e instanceof UsageError,
    );
  });

  it('io.more() after end() raises ERR_UNEXPECTED_END; io.eof marks a clean end', () => {
    const p = phase<Ev>('p', function* (io) {
      for (;;) {
        if (io.eof) return null;
        const v = u16be.readFast(io.source);
        if (typeof v === 'number') {
          yield* io.emit({ type: 'n', n: v });
          continue;
        }
        yield* io.more();
      }
    });
    const clean = drive(new Session(p), [Uint8Array.of(0, 5)], { end: true });
    assert.deepEqual(clean.events, [{ type: 'n', n: 5 }]);
    assert.equal(clean.final.type, 'done');
    const cut = drive(new Session(p), [Uint8Array.of(0, 5, 1)], { end: true });
    expectError(cut.final, 'ERR_UNEXPECTED_END');
  });

  it('a received Buffer comes back as plain Uint8Array views', () => {
    const p = phase<{ type: 'b'; data: Uint8Array }>('p', function* (io) {
      const d = yield* io.read(bytes(2));
      yield* io.emit({ type: 'b', data: d });
      return null;
    });
    const s = new Session(p);
    s.receive(Buffer.from([1, 2, 3]));
    const r = s.poll();
    assert.equal(r.type, 'event');
    if (r.type === 'event') {
      assert.equal(Object.getPrototypeOf(r.event.data), Uint8Array.prototype);
      assert.deepEqual(Array.from(r.event.data), [1, 2]);
    }
    assert.deepEqual(Array.from(s.source.takeRest()), [3]);
  });
});
