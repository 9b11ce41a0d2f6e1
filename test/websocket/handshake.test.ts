import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  WebSocketConnection,
  acceptKey,
  isValidKey,
  parseExtensions,
  parseProtocols,
  type HandshakeFailedEvent,
  type OpenEvent,
  type ServerOptions,
} from '../../src/websocket/index.js';
import { concat } from '../support/bytes.js';
import { Driver, counterRandom, readFrames, summary, wire } from './support.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

// RFC 6455 section 1.3.
const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

const GOOD: Record<string, string> = {
  Host: 'server.example.com',
  Upgrade: 'websocket',
  Connection: 'Upgrade',
  'Sec-WebSocket-Key': RFC_KEY,
  'Sec-WebSocket-Version': '13',
};

function request(fields: Record<string, string | undefined> = {}, start = 'GET /chat HTTP/1.1', body = ''): Uint8Array {
  const all = { ...GOOD, ...fields };
  let s = `${start}\r\n`;
  for (const [k, v] of Object.entries(all)) if (v !== undefined) s += `${k}: ${v}\r\n`;
  return utf8(`${s}\r\n${body}`);
}

/** Parses a response head by hand: status and fields (lower-case names). */
function responseOf(b: Uint8Array): { status: number; fields: Map<string, string>; rest: Uint8Array } {
  const t = text(b);
  const end = t.indexOf('\r\n\r\n');
  assert.ok(end > 0, 'a complete response head');
  const lines = t.slice(0, end).split('\r\n');
  const status = Number(lines[0]!.split(' ')[1]);
  const fields = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    fields.set(l.slice(0, i).toLowerCase(), l.slice(i + 1).trim());
  }
  return { status, fields, rest: b.subarray(utf8(t.slice(0, end + 4)).length) };
}

function serve(input: Uint8Array, options: ServerOptions = {}): Driver {
  return new Driver(WebSocketConnection.server(options), { echo: true }).feed(input);
}

describe('Sec-WebSocket-Accept', () => {
  it('RFC 6455 section 1.3: dGhlIHNhbXBsZSBub25jZQ== gives s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', () => {
    assert.equal(acceptKey(RFC_KEY), RFC_ACCEPT);
  });
  it('agrees with node:crypto for random keys', () => {
    for (let i = 0; i < 20; i++) {
      const key = Buffer.from(counterRandom(i * 16)(16)).toString('base64');
      const want = createHash('sha1')
        .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
        .digest('base64');
      assert.equal(acceptKey(key), want);
    }
  });
  it('a key must be the canonical base64 of 16 bytes', () => {
    assert.ok(isValidKey(RFC_KEY));
    for (const bad of [
      '',
      'abc',
      'dGhlIHNhbXBsZSBub25jZQ=',
      'dGhlIHNhbXBsZSBub25jZR==',
      'dGhlIHNhbXBsZSBub25jZQ==x',
      'dGhlIHNhbXBsZSBub25j ZQ==',
      'AAAAAAAAAAAAAAAAAAAAAAAA',
    ]) {
      assert.equal(isValidKey(bad), false, bad);
    }
  });
});

describe('server: the opening request (RFC 6455 section 4.2.1)', () => {
  it('accepts a valid request: 101 with Upgrade, Connection and Sec-WebSocket-Accept', () => {
    const d = serve(request());
    const r = responseOf(d.written);
    assert.equal(r.status, 101);
    assert.equal(r.fields.get('upgrade'), 'websocket');
    assert.equal(r.fields.get('connection'), 'Upgrade');
    assert.equal(r.fields.get('sec-websocket-accept'), RFC_ACCEPT);
    assert.equal(r.fields.has('sec-websocket-protocol'), false);
    assert.equal(d.conn.state, 'open');
    const open = d.events[0] as OpenEvent;
    assert.equal(open.type, 'open');
  });
  it('is case-insensitive where HTTP is: upgrade tokens, field names, connection lists', () => {
    const d = serve(request({ Upgrade: 'WebSocket', Connection: 'keep-alive, UPGRADE' }));
    assert.equal(responseOf(d.written).status, 101);
  });
  const rejections: [string, Uint8Array, number, string][] = [
    ['POST', request({}, 'POST /chat HTTP/1.1'), 405, 'ERR_WS_METHOD'],
    ['HTTP/1.0', request({}, 'GET /chat HTTP/1.0'), 400, 'ERR_WS_HTTP_VERSION'],
    ['no Host', request({ Host: undefined }), 400, 'ERR_WS_HOST'],
    ['no Upgrade', request({ Upgrade: undefined }), 400, 'ERR_WS_UPGRADE'],
    ['Upgrade: h2c', request({ Upgrade: 'h2c' }), 400, 'ERR_WS_UPGRADE'],
    ['Connection without upgrade', request({ Connection: 'keep-alive' }), 400, 'ERR_WS_UPGRADE'],
    ['version 8', request({ 'Sec-WebSocket-Version': '8' }), 426, 'ERR_WS_VERSION'],
    ['no version', request({ 'Sec-WebSocket-Version': undefined }), 426, 'ERR_WS_VERSION'],
    ['no key', request({ 'Sec-WebSocket-Key': undefined }), 400, 'ERR_WS_KEY'],
    ['a key of 15 bytes', request({ 'Sec-WebSocket-Key': 'AAAAAAAAAAAAAAAAAAAA' }), 400, 'ERR_WS_KEY'],
    ['a body', request({ 'Content-Length': '3' }, 'GET /chat HTTP/1.1', 'abc'), 400, 'ERR_WS_REQUEST_BODY'],
    ['a malformed extension list', request({ 'Sec-WebSocket-Extensions': 'permessage-deflate; =x' }), 400, 'ERR_WS_BAD_EXTENSIONS'],
    ['a malformed protocol list', request({ 'Sec-WebSocket-Protocol': 'chat, a b' }), 400, 'ERR_WS_BAD_PROTOCOLS'],
    ['bad HTTP (bare LF)', utf8('GET / HTTP/1.1\nHost: x\r\n\r\n'), 400, 'ERR_WS_HTTP'],
    ['HTTP/2.0', request({}, 'GET /chat HTTP/2.0'), 505, 'ERR_WS_HTTP'],
    ['a head over 16 KiB', request({ 'X-Big': 'x'.repeat(17000) }), 431, 'ERR_WS_HTTP'],
  ];
  for (const [name, input, status, code] of rejections) {
    it(`${name} → ${status}`, () => {
      const d = serve(input);
      const r = responseOf(d.written);
      assert.equal(r.status, status);
      assert.equal(r.fields.get('connection'), 'close');
      if (status === 426) assert.equal(r.fields.get('sec-websocket-version'), '13', 'section 4.4: the versions we speak');
      if (status === 405) assert.equal(r.fields.get('allow'), 'GET');
      const e = d.events[0] as HandshakeFailedEvent;
      assert.equal(e.type, 'handshake-failed');
      assert.equal(e.error.code, code);
      assert.equal(e.status, status);
      assert.equal(d.done, true);
      assert.equal(d.conn.state, 'closed');
    });
  }
  it('the application can refuse with its own status and headers', () => {
    const d = serve(request({ Origin: 'https://evil.example' }), {
      verify: (req) =>
        req.headers.some(([k, v]) => k === 'origin' && v === 'https://evil.example')
          ? { status: 403, headers: [['X-Why', 'origin']] }
          : true,
    });
    const r = responseOf(d.written);
    assert.equal(r.status, 403);
    assert.equal(r.fields.get('x-why'), 'origin');
    assert.equal((d.events[0] as HandshakeFailedEvent).error.code, 'ERR_WS_REJECTED');
  });
  it('subprotocols: the server picks its preferred one among the client’s', () => {
    const d = serve(request({ 'Sec-WebSocket-Protocol': 'chat, superchat' }), { protocols: ['superchat', 'chat'] });
    assert.equal(responseOf(d.written).fields.get('sec-websocket-protocol'), 'superchat');
    assert.equal(d.conn.protocol, 'superchat');
    const none = serve(request({ 'Sec-WebSocket-Protocol': 'mqtt' }), { protocols: ['chat'] });
    assert.equal(responseOf(none.written).fields.has('sec-websocket-protocol'), false);
    const fn = serve(request({ 'Sec-WebSocket-Protocol': 'a, b' }), { protocols: (offered) => offered[offered.length - 1] });
    assert.equal(responseOf(fn.written).fields.get('sec-websocket-protocol'), 'b');
  });
  it('the request may arrive byte by byte; frames right after the head are not lost', () => {
    const input = concat(request(), wire({ opcode: 1, payload: 'first' }));
    const d = new Driver(WebSocketConnection.server()).feedBytewise(input);
    const r = responseOf(d.written);
    assert.equal(r.status, 101);
    assert.deepStrictEqual(summary(readFrames(r.rest)), ['1:F:first']);
  });
  it('a request cut short by the end of input fails the handshake without an answer', () => {
    const d = new Driver(WebSocketConnection.server()).feed(request().subarray(0, 30)).end();
    assert.equal(d.written.length, 0);
    assert.equal((d.events[0] as HandshakeFailedEvent).error.code, 'ERR_WS_ABNORMAL_CLOSURE');
  });
});

describe('client: the request and the checks of the response (RFC 6455 section 4.1)', () => {
  const client = (options: Partial<Parameters<typeof WebSocketConnection.client>[0]> = {}): Driver =>
    new Driver(WebSocketConnection.client({ host: 'example.com:8080', path: '/ws?x=1', random: counterRandom(1), ...options }), {
      echo: false,
    }).pump();

  /** The key the client sent. */
  const keyOf = (d: Driver): string => {
    const m = /\r\nSec-WebSocket-Key: ([^\r]+)\r\n/.exec(text(d.written));
    assert.ok(m !== null);
    return m[1]!;
  };

  it('sends GET with Host, Upgrade, Connection, a key from the random source, version 13', () => {
    const d = client({ protocols: ['chat', 'superchat'], origin: 'https://example.com', headers: [['Authorization', 'Bearer x']] });
    const t = text(d.written);
    assert.ok(t.startsWith('GET /ws?x=1 HTTP/1.1\r\n'));
    for (const f of [
      'Host: example.com:8080',
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Version: 13',
      'Origin: https://example.com',
      'Sec-WebSocket-Protocol: chat, superchat',
      'Authorization: Bearer x',
    ]) {
      assert.ok(t.includes(`\r\n${f}\r\n`), f);
    }
    // counterRandom(1) gives the bytes 1..16.
    assert.equal(keyOf(d), Buffer.from(Array.from({ length: 16 }, (_, i) => i + 1)).toString('base64'));
    assert.ok(t.endsWith('\r\n\r\n'));
  });

  const answer = (d: Driver, fields: Record<string, string | undefined>, status = '101 Switching Protocols'): Driver => {
    const all: Record<string, string | undefined> = {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Accept': acceptKey(keyOf(d)),
      ...fields,
    };
    let s = `HTTP/1.1 ${status}\r\n`;
    for (const [k, v] of Object.entries(all)) if (v !== undefined) s += `${k}: ${v}\r\n`;
    return d.feed(utf8(`${s}\r\n`));
  };

  it('opens on a valid 101; frames in the same chunk as the response are read', () => {
    const d = client({ protocols: ['chat'] });
    const key = keyOf(d);
    d.feed(
      concat(
        utf8(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\nSec-WebSocket-Protocol: chat\r\n\r\n`,
        ),
        wire({ opcode: 1, payload: 'hi', mask: null }),
      ),
    );
    assert.deepStrictEqual(
      d.events.map((e) => e.type),
      ['open', 'text'],
    );
    assert.equal(d.conn.protocol, 'chat');
  });
  const failures: [string, Record<string, string | undefined>, string, string?][] = [
    ['a 200', {}, 'ERR_WS_HANDSHAKE_STATUS', '200 OK'],
    ['a 403', {}, 'ERR_WS_HANDSHAKE_STATUS', '403 Forbidden'],
    ['no Upgrade', { Upgrade: undefined }, 'ERR_WS_HANDSHAKE_UPGRADE'],
    ['Upgrade: websocket2', { Upgrade: 'websocket2' }, 'ERR_WS_HANDSHAKE_UPGRADE'],
    ['no Connection: upgrade', { Connection: 'close' }, 'ERR_WS_HANDSHAKE_UPGRADE'],
    ['a wrong accept', { 'Sec-WebSocket-Accept': RFC_ACCEPT }, 'ERR_WS_HANDSHAKE_ACCEPT'],
    ['no accept', { 'Sec-WebSocket-Accept': undefined }, 'ERR_WS_HANDSHAKE_ACCEPT'],
    ['an extension not offered', { 'Sec-WebSocket-Extensions': 'permessage-deflate' }, 'ERR_WS_HANDSHAKE_EXTENSIONS'],
    ['a subprotocol not offered', { 'Sec-WebSocket-Protocol': 'chat' }, 'ERR_WS_HANDSHAKE_PROTOCOL'],
  ];
  for (const [name, fields, code, status] of failures) {
    it(`fails on ${name}`, () => {
      const d = answer(client(), fields, status);
      const e = d.events[0] as HandshakeFailedEvent;
      assert.equal(e.type, 'handshake-failed');
      assert.equal(e.error.code, code);
      if (status !== undefined) assert.equal(e.status, Number(status.split(' ')[0]));
      assert.equal(d.done, true);
      assert.equal(d.conn.state, 'closed');
    });
  }
  it('fails on a malformed response head', () => {
    const d = client().feed(utf8('HTTP/1.1 1O1 Nope\r\n\r\n'));
    assert.equal((d.events[0] as HandshakeFailedEvent).error.code, 'ERR_WS_HANDSHAKE_HTTP');
  });
  it('refuses to send before the handshake completes', () => {
    const d = client();
    assert.throws(
      () => d.conn.send('early'),
      (e: unknown) => (e as { code?: string }).code === 'ERR_USAGE',
    );
  });
});

describe('Sec-WebSocket-Extensions and Sec-WebSocket-Protocol grammar (RFC 6455 section 9.1, 4.1)', () => {
  it('parses tokens, parameters, quoted values, whitespace, several fields and empty elements', () => {
    assert.deepStrictEqual(
      parseExtensions(['permessage-deflate; client_max_window_bits, x-foo ; a="10" ;b', ' , bar'], 'ERR_WS_BAD_EXTENSIONS'),
      [
        { name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: undefined }] },
        {
          name: 'x-foo',
          params: [
            { name: 'a', value: '10' },
            { name: 'b', value: undefined },
          ],
        },
        { name: 'bar', params: [] },
      ],
    );
    assert.deepStrictEqual(parseExtensions(['foo; a = 1'], 'ERR_WS_BAD_EXTENSIONS'), [
      { name: 'foo', params: [{ name: 'a', value: '1' }] },
    ]);
  });
  for (const bad of ['foo;', 'foo; a=', 'foo; a="x y"', 'foo; a="unterminated', 'foo bar', 'foo; a=1 b', '"foo"', 'foo; =1']) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(
        () => parseExtensions([bad], 'ERR_WS_BAD_EXTENSIONS'),
        (e: unknown) => (e as { code?: string }).code === 'ERR_WS_BAD_EXTENSIONS',
      );
    });
  }
  it('protocol lists are tokens', () => {
    assert.deepStrictEqual(parseProtocols(['chat, superchat', 'v2.json'], 'ERR_WS_BAD_PROTOCOLS'), ['chat', 'superchat', 'v2.json']);
    assert.throws(
      () => parseProtocols(['a b'], 'ERR_WS_BAD_PROTOCOLS'),
      (e: unknown) => (e as { code?: string }).code === 'ERR_WS_BAD_PROTOCOLS',
    );
  });
});
