import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Session } from '../../src/miniproto/index.js';
import {
  RedisError,
  RespAttributed,
  RespConnection,
  RespMap,
  RespProtocolError,
  RespPush,
  RespSet,
  RespVerbatim,
  encodeCommand,
  respReplies,
  type RespReaderOptions,
  type RespReplyEvent,
  type RespValue,
} from '../../src/miniproto/resp/index.js';
import { ascii, concat } from '../support/bytes.js';
import { backToBack, checkCorruption, checkSplits, fixture, type SplitFixture } from '../support/splits.js';
import { chunked, drive, sessionDriver } from './support.js';

/** Decodes whole input (complete mode): the replies, or throws the session's typed error. */
function decode(input: Uint8Array, options: RespReaderOptions = {}, chunk = input.length || 1): RespValue[] {
  const t = drive(new Session(respReplies(options)), chunked(input, chunk), { end: true });
  if (t.final.type === 'error') throw t.final.error;
  assert.equal(t.final.type, 'done');
  return t.events.map((e) => (e as RespReplyEvent).value);
}
const one = (text: string, options: RespReaderOptions = {}): RespValue => {
  const vs = decode(ascii(text), options);
  assert.equal(vs.length, 1);
  return vs[0]!;
};
const b = (s: string): Uint8Array => ascii(s);

// Vectors from the RESP protocol specification (redis.io, "RESP protocol spec"), written out by hand.
const VECTORS: [string, RespValue][] = [
  ['+OK\r\n', 'OK'],
  [':0\r\n', 0],
  [':1000\r\n', 1000],
  [':-1000\r\n', -1000],
  [':+5\r\n', 5],
  ['$5\r\nhello\r\n', b('hello')],
  ['$0\r\n\r\n', b('')],
  ['$-1\r\n', null],
  ['*0\r\n', []],
  ['*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n', [b('hello'), b('world')]],
  ['*3\r\n:1\r\n:2\r\n:3\r\n', [1, 2, 3]],
  ['*5\r\n:1\r\n:2\r\n:3\r\n:4\r\n$5\r\nhello\r\n', [1, 2, 3, 4, b('hello')]],
  ['*-1\r\n', null],
  ['*3\r\n$5\r\nhello\r\n$-1\r\n$5\r\nworld\r\n', [b('hello'), null, b('world')]],
  ['_\r\n', null],
  ['#t\r\n', true],
  ['#f\r\n', false],
  [',1.23\r\n', 1.23],
  [',10\r\n', 10],
  [',-1.5e3\r\n', -1500],
  [',inf\r\n', Infinity],
  [',-inf\r\n', -Infinity],
  ['(3492890328409238509324850943850943825024385\r\n', 3492890328409238509324850943850943825024385n],
  ['(-3492890328409238509324850943850943825024385\r\n', -3492890328409238509324850943850943825024385n],
  ['=15\r\ntxt:Some string\r\n', new RespVerbatim('txt', b('Some string'))],
  [
    '%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n',
    new RespMap([
      ['first', 1],
      ['second', 2],
    ]),
  ],
  ['~3\r\n+orange\r\n+apple\r\n#t\r\n', new RespSet(['orange', 'apple', true])],
  [
    '>4\r\n+pubsub\r\n+message\r\n+somechannel\r\n+this is the message\r\n',
    new RespPush(['pubsub', 'message', 'somechannel', 'this is the message']),
  ],
  [
    '*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n*2\r\n+Hello\r\n-World\r\n',
    [
      [1, 2, 3],
      ['Hello', new RedisError('World')],
    ],
  ],
];

// The attribute example of the spec: a popularity map attached to an array reply.
const ATTRIBUTE = '|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n';

describe('RESP reply reader', () => {
  it('vectors from the RESP specification', () => {
    for (const [text, want] of VECTORS) assert.deepStrictEqual(one(text), want, JSON.stringify(text));
    assert.ok(Number.isNaN(one(',nan\r\n') as number));
  });

  it('errors are RedisError values with their prefix (simple and blob)', () => {
    const e = one("-ERR unknown command 'asdf'\r\n");
    assert.ok(e instanceof RedisError);
    assert.equal(e.prefix, 'ERR');
    assert.equal(e.code, 'ERR_REDIS_REPLY');
    const w = one('-WRONGTYPE Operation against a key holding the wrong kind of value\r\n') as RedisError;
    assert.equal(w.prefix, 'WRONGTYPE');
    const blob = one('!21\r\nSYNTAX invalid syntax\r\n') as RedisError;
    assert.ok(blob instanceof RedisError);
    assert.equal(blob.text, 'SYNTAX invalid syntax');
  });

  it('attributes: skipped by default, exposed on request', () => {
    assert.deepStrictEqual(one(ATTRIBUTE), [2039123, 9543892]);
    const a = one(ATTRIBUTE, { attributes: 'expose' });
    assert.ok(a instanceof RespAttributed);
    assert.deepStrictEqual(a.value, [2039123, 9543892]);
    const pop = a.attributes.get('key-popularity');
    assert.ok(pop instanceof RespMap);
    assert.deepStrictEqual(pop.get('a'), 0.1923);
    // An attribute inside an aggregate annotates the next element only.
    assert.deepStrictEqual(one('*2\r\n|1\r\n+k\r\n+v\r\n:1\r\n:2\r\n'), [1, 2]);
    assert.deepStrictEqual(one('*1\r\n|0\r\n:7\r\n'), [7]);
  });

  it('RespMap helpers', () => {
    const m = one('%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n+proto\r\n:3\r\n') as RespMap;
    assert.equal(m.size, 2);
    assert.deepStrictEqual(m.get('server'), b('redis'));
    assert.deepStrictEqual(m.toObject(), { server: b('redis'), proto: 3 });
  });

  it('chunk splits over every vector back to back (RESP2 and RESP3 mixed)', () => {
    const fx: SplitFixture<RespValue> = backToBack(
      ...VECTORS.map(([text, v]) => fixture(ascii(text), v)),
      fixture(ascii(ATTRIBUTE), [2039123, 9543892] as RespValue),
    );
    checkSplits(
      sessionDriver(
        () => new Session(respReplies()),
        (e: RespReplyEvent) => e.value,
      ),
      fx,
      { numRuns: 60, maxTwoWay: 400 },
    );
  });

  it('a large bulk string split anywhere comes out whole (and as one view when it lies in one chunk)', () => {
    const payload = new Uint8Array(70000).map((_, i) => (i * 31) & 0xff);
    const wire = concat(ascii(`$${payload.length}\r\n`), payload, ascii('\r\n:1\r\n'));
    for (const size of [1000, 1500, 65536, wire.length]) {
      const vs = decode(wire, {}, size);
      assert.deepStrictEqual(vs[0], payload, `chunks of ${size}`);
      assert.equal(vs[1], 1);
    }
    const whole = decode(wire)[0] as Uint8Array;
    assert.equal(whole.buffer, wire.buffer, 'zero-copy view of the received buffer');
  });

  it('malformed replies give typed errors', () => {
    const bad = (text: string, code: string, options: RespReaderOptions = {}) =>
      assert.throws(
        () => decode(ascii(text), options),
        (e: unknown) => (e as { code?: string }).code === code,
        `${JSON.stringify(text)} should fail with ${code}`,
      );
    bad('x\r\n', 'ERR_RESP_UNKNOWN_TYPE');
    bad('$-2\r\n', 'ERR_RESP_BAD_LENGTH');
    bad('%-1\r\n', 'ERR_RESP_BAD_LENGTH');
    bad('$5\r\nhelloXX', 'ERR_MALFORMED');
    bad('$abc\r\n', 'ERR_MALFORMED');
    bad(':12a\r\n', 'ERR_MALFORMED');
    bad('#x\r\n', 'ERR_RESP_MALFORMED');
    bad('_x\r\n', 'ERR_RESP_MALFORMED');
    bad(',1.2.3\r\n', 'ERR_RESP_MALFORMED');
    bad('(12x\r\n', 'ERR_RESP_MALFORMED');
    bad('=2\r\nab\r\n', 'ERR_RESP_MALFORMED');
    bad('$?\r\n;4\r\nHell\r\n;0\r\n', 'ERR_MALFORMED');
    bad(';4\r\nHell\r\n', 'ERR_RESP_UNSUPPORTED');
    bad('*2\r\n:1\r\n', 'ERR_UNEXPECTED_END');
    bad('$10\r\nabc', 'ERR_UNEXPECTED_END');
  });

  it('limits: bulk size, element count and nesting depth are enforced before anything is buffered', () => {
    const code = (text: string, c: string, options: RespReaderOptions) =>
      assert.throws(
        () => decode(ascii(text), options),
        (e: unknown) => e instanceof RespProtocolError && e.code === c,
      );
    code('$11\r\n', 'ERR_RESP_TOO_LARGE', { maxBulk: 10 });
    code('*1000001\r\n', 'ERR_RESP_TOO_LARGE', { maxElements: 1_000_000 });
    code('%600000\r\n', 'ERR_RESP_TOO_LARGE', { maxElements: 1_000_000 });
    code('*1\r\n'.repeat(65) + ':1\r\n', 'ERR_RESP_TOO_DEEP', {});
    assert.deepStrictEqual(one('*1\r\n'.repeat(3) + ':1\r\n', { maxDepth: 3 }), [[[1]]]);
    code('|0\r\n'.repeat(10) + ':1\r\n', 'ERR_RESP_TOO_DEEP', { maxDepth: 5 });
    // A huge announced bulk is refused at once, not after buffering up to the session cap.
    const s = new Session(respReplies(), { maxBuffered: 1 << 20 });
    s.receive(ascii('$100000000\r\n'));
    const r = s.poll();
    assert.equal(r.type, 'error');
  });

  it('corruption: mangled reply streams give values or a typed error, never a crash or hang', () => {
    const seeds = [
      concat(...VECTORS.slice(0, 12).map(([t]) => ascii(t))),
      concat(...VECTORS.slice(12).map(([t]) => ascii(t))),
      ascii(ATTRIBUTE),
    ];
    checkCorruption((input) => decode(input, { maxBulk: 4096, maxElements: 4096 }, 7), seeds);
  });
});

describe('RESP commands and the pipelining connection', () => {
  it('encodeCommand: the spec example, and large arguments passed without a copy', () => {
    assert.deepStrictEqual(encodeCommand(['LLEN', 'mylist']), [ascii('*2\r\n$4\r\nLLEN\r\n$6\r\nmylist\r\n')]);
    assert.deepStrictEqual(encodeCommand(['SET', 'k', 42]), [ascii('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n42\r\n')]);
    assert.deepStrictEqual(encodeCommand(['ECHO', 'é']), [ascii('*2\r\n$4\r\nECHO\r\n$2\r\né\r\n')]);
    const big = new Uint8Array(20000).fill(1);
    const parts = encodeCommand(['SET', 'key', big, 'EX', 10]);
    assert.equal(parts[1], big, 'the large argument is its own chunk');
    assert.deepStrictEqual(
      concat(...parts),
      concat(ascii('*5\r\n$3\r\nSET\r\n$3\r\nkey\r\n$20000\r\n'), big, ascii('\r\n$2\r\nEX\r\n$2\r\n10\r\n')),
    );
  });

  it('encodeCommand output is a RESP array of bulk strings: the reader decodes it back (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.string(), fc.integer({ min: 0 })), { minLength: 1, maxLength: 8 }),
        (args) => {
          const [value] = decode(concat(...encodeCommand(args)));
          const want = args.map((a) => (a instanceof Uint8Array ? a : ascii(String(a))));
          assert.deepStrictEqual(
            (value as Uint8Array[]).map((x) => new Uint8Array(x)),
            want.map((x) => new Uint8Array(x)),
          );
        },
      ),
    );
  });

  it('replies are matched to command ids in order; pushes are reported apart', () => {
    const conn = new RespConnection();
    const ids = [conn.command(['PING']), conn.command(['GET', 'a']), conn.command(['INCR', 'n'])];
    assert.deepEqual(ids, [1, 2, 3]);
    assert.equal(conn.waiting, 3);
    const out: Uint8Array[] = [];
    for (let r = conn.session.poll(); r.type === 'need-write'; r = conn.session.poll()) out.push(r.data);
    assert.deepStrictEqual(
      concat(...out),
      concat(...encodeCommand(['PING']), ...encodeCommand(['GET', 'a']), ...encodeCommand(['INCR', 'n'])),
    );
    const t = drive(conn.session, [ascii('+PONG\r\n>2\r\n+invalidate\r\n*1\r\n$1\r\na\r\n$-1\r\n-WRONGTYPE x\r\n')]);
    assert.deepStrictEqual(t.events, [
      { type: 'reply', id: 1, value: 'PONG' },
      { type: 'push', value: new RespPush(['invalidate', [b('a')]]) },
      { type: 'reply', id: 2, value: null },
      { type: 'reply', id: 3, value: new RedisError('WRONGTYPE x') },
    ]);
    assert.equal(conn.waiting, 0);
  });
});
