import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from '../../src/combinators/index.js';
import {
  HttpError,
  Session,
  bodyPhase,
  encodeChunk,
  encodeLastChunk,
  encodeRequestHead,
  encodeResponseHead,
  headerTokens,
  headerValue,
  parseRequestHead,
  parseResponseHead,
  readBody,
  responseFraming,
  type BodyEvent,
  type Header,
  type RequestHead,
  type ResponseHead,
} from '../../src/miniproto/index.js';
import { ascii, concat, hex } from '../support/bytes.js';
import {
  backToBack,
  checkCorruption,
  checkParserSplits,
  checkSplits,
  fixture,
  streamingDecode,
  type SplitDriver,
} from '../support/splits.js';
import { sessionDriver } from './support.js';

const crlf = (lines: string[]): Uint8Array => ascii(lines.map((l) => `${l}\r\n`).join(''));
const httpError = (code: string, status?: number) => (e: unknown) =>
  e instanceof HttpError && e.code === code && (status === undefined || e.status === status);

// RFC 9110 section 3.9 (Example Message Exchange), written out by hand.
const RFC9110_REQUEST = crlf([
  'GET /hello.txt HTTP/1.1',
  'User-Agent: curl/7.64.1',
  'Host: www.example.com',
  'Accept-Language: en, mi',
  '',
]);
const RFC9110_REQUEST_HEAD: RequestHead = {
  method: 'GET',
  target: '/hello.txt',
  version: '1.1',
  headers: [
    ['user-agent', 'curl/7.64.1'],
    ['host', 'www.example.com'],
    ['accept-language', 'en, mi'],
  ],
  framing: { kind: 'none' },
};
const RFC9110_RESPONSE = crlf([
  'HTTP/1.1 200 OK',
  'Date: Mon, 27 Jul 2009 12:28:53 GMT',
  'Server: Apache',
  'Last-Modified: Wed, 22 Jul 2009 19:15:56 GMT',
  'ETag: "34aa387-d-1568eb00"',
  'Accept-Ranges: bytes',
  'Content-Length: 51',
  'Vary: Accept-Encoding',
  'Content-Type: text/plain',
  '',
]);
const RFC9110_BODY = ascii('Hello World! My content includes a trailing CRLF.\r\n');

// RFC 6455 section 1.3: the opening handshake (what the WebSocket layer will parse with this module).
const WS_REQUEST = crlf([
  'GET /chat HTTP/1.1',
  'Host: server.example.com',
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  'Origin: http://example.com',
  'Sec-WebSocket-Protocol: chat, superchat',
  'Sec-WebSocket-Version: 13',
  '',
]);
const WS_RESPONSE = crlf([
  'HTTP/1.1 101 Switching Protocols',
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
  'Sec-WebSocket-Protocol: chat',
  '',
]);

describe('HTTP/1.1 request head', () => {
  it('RFC 9110 section 3.9 example request', () => {
    assert.deepEqual(parse(parseRequestHead(), RFC9110_REQUEST), RFC9110_REQUEST_HEAD);
  });

  it('the four request-target forms of RFC 9112 section 3.2', () => {
    const target = (line: string) => parse(parseRequestHead(), crlf([line, 'Host: www.example.org', ''])).target;
    assert.equal(target('GET /where?q=now HTTP/1.1'), '/where?q=now');
    assert.equal(target('GET http://www.example.org/pub/WWW/TheProject.html HTTP/1.1'), 'http://www.example.org/pub/WWW/TheProject.html');
    assert.equal(target('CONNECT www.example.com:80 HTTP/1.1'), 'www.example.com:80');
    assert.equal(target('OPTIONS * HTTP/1.1'), '*');
  });

  it('RFC 6455 opening handshake: names lower-cased and in order, list values kept, frame bytes after the head untouched', () => {
    const frame = hex('81 05 48 65 6c 6c 6f'); // RFC 6455 section 5.7: unmasked "Hello"
    const head = parse(parseRequestHead(), concat(WS_REQUEST, frame), { allowTrailing: true });
    assert.deepEqual(
      head.headers.map(([n]) => n),
      ['host', 'upgrade', 'connection', 'sec-websocket-key', 'origin', 'sec-websocket-protocol', 'sec-websocket-version'],
    );
    assert.deepEqual(headerTokens(head.headers, 'Sec-WebSocket-Protocol'), ['chat', 'superchat']);
    assert.equal(headerValue(head.headers, 'SEC-WEBSOCKET-KEY'), 'dGhlIHNhbXBsZSBub25jZQ==');
    checkParserSplits(parseRequestHead(), fixture(WS_REQUEST, head), { trailing: frame });
  });

  it('chunk splits, several requests back to back (keep-alive), and leading empty lines ignored (RFC 9112 section 2.2)', () => {
    const post = crlf(['POST /p HTTP/1.1', 'Host: a', 'Content-Length: 3', '']);
    const postHead: RequestHead = {
      method: 'POST',
      target: '/p',
      version: '1.1',
      headers: [
        ['host', 'a'],
        ['content-length', '3'],
      ],
      framing: { kind: 'length', length: 3 },
    };
    checkParserSplits(
      parseRequestHead(),
      backToBack(fixture(RFC9110_REQUEST, RFC9110_REQUEST_HEAD), fixture(concat(ascii('\r\n'), post), postHead)),
      {
        trailing: ascii('abc'),
      },
    );
  });

  it('OWS around field values is trimmed; obs-text survives as latin1; empty values allowed', () => {
    const h = parse(parseRequestHead(), concat(ascii('GET / HTTP/1.1\r\nA:  x y \t\r\nB:\r\nC: '), Uint8Array.of(0xe9), ascii('\r\n\r\n')));
    assert.deepEqual(h.headers, [
      ['a', 'x y'],
      ['b', ''],
      ['c', '\u00e9'],
    ]);
  });

  it('malformed heads give typed errors with the status a server should answer', () => {
    const bad = (text: string, code: string, status: number) =>
      assert.throws(() => parse(parseRequestHead(), ascii(text)), httpError(code, status), JSON.stringify(text));
    bad('GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n', 'ERR_HTTP_OBS_FOLD', 400);
    bad('GET / HTTP/1.1\r\nHost : x\r\n\r\n', 'ERR_HTTP_BAD_HEADER', 400);
    bad('GET / HTTP/1.1\r\nNoColon\r\n\r\n', 'ERR_HTTP_BAD_HEADER', 400);
    bad('GET / HTTP/1.1\r\n: x\r\n\r\n', 'ERR_HTTP_BAD_HEADER', 400);
    bad('GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n', 'ERR_HTTP_BAD_HEADER', 400);
    bad('GET / HTTP/1.1\r\nA: b\x7fc\r\n\r\n', 'ERR_HTTP_BAD_HEADER', 400);
    bad('GET / HTTP/1.1\nHost: x\r\n\r\n', 'ERR_HTTP_BAD_LINE_END', 400);
    bad('GET / HTTP/1.1\r\nA: b\rc\r\n\r\n', 'ERR_HTTP_BAD_LINE_END', 400);
    bad('GET  / HTTP/1.1\r\n\r\n', 'ERR_HTTP_BAD_REQUEST_LINE', 400);
    bad('GET /a b HTTP/1.1\r\n\r\n', 'ERR_HTTP_BAD_REQUEST_LINE', 400);
    bad('G(T / HTTP/1.1\r\n\r\n', 'ERR_HTTP_BAD_REQUEST_LINE', 400);
    bad('GET / http/1.1\r\n\r\n', 'ERR_HTTP_BAD_REQUEST_LINE', 400);
    bad('GET / HTTP/1.10\r\n\r\n', 'ERR_HTTP_BAD_REQUEST_LINE', 400);
    bad('GET / HTTP/2.0\r\n\r\n', 'ERR_HTTP_BAD_VERSION', 505);
    bad('GET /\r\n\r\n', 'ERR_HTTP_BAD_REQUEST_LINE', 400);
  });

  it('message framing (RFC 9112 section 6): Content-Length, chunked, and the smuggling cases', () => {
    const framing = (...fields: string[]) => parse(parseRequestHead(), crlf(['POST / HTTP/1.1', ...fields, ''])).framing;
    assert.deepEqual(framing('Content-Length: 42'), { kind: 'length', length: 42 });
    assert.deepEqual(
      framing('Content-Length: 42, 42', 'Content-Length: 42'),
      { kind: 'length', length: 42 },
      'identical values may be merged (RFC 9110 section 8.6)',
    );
    assert.deepEqual(framing('Content-Length: 0'), { kind: 'none' });
    assert.deepEqual(framing('Transfer-Encoding: Chunked'), { kind: 'chunked' });
    assert.deepEqual(framing(), { kind: 'none' });
    const bad = (code: string, status: number, ...fields: string[]) =>
      assert.throws(() => parse(parseRequestHead(), crlf(['POST / HTTP/1.1', ...fields, ''])), httpError(code, status), fields.join(' | '));
    bad('ERR_HTTP_BAD_CONTENT_LENGTH', 400, 'Content-Length: 5', 'Content-Length: 6');
    bad('ERR_HTTP_BAD_CONTENT_LENGTH', 400, 'Content-Length: 5, 6');
    bad('ERR_HTTP_BAD_CONTENT_LENGTH', 400, 'Content-Length: -1');
    bad('ERR_HTTP_BAD_CONTENT_LENGTH', 400, 'Content-Length: 1e3');
    bad('ERR_HTTP_BAD_CONTENT_LENGTH', 400, 'Content-Length: +5');
    bad('ERR_HTTP_BAD_CONTENT_LENGTH', 400, 'Content-Length: 1234567890123456');
    bad('ERR_HTTP_TE_AND_CL', 400, 'Transfer-Encoding: chunked', 'Content-Length: 5');
    bad('ERR_HTTP_BAD_TRANSFER_ENCODING', 400, 'Transfer-Encoding: chunked, gzip');
    bad('ERR_HTTP_BAD_TRANSFER_ENCODING', 400, 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked');
    bad('ERR_HTTP_UNSUPPORTED_TRANSFER_CODING', 501, 'Transfer-Encoding: gzip');
    bad('ERR_HTTP_UNSUPPORTED_TRANSFER_CODING', 501, 'Transfer-Encoding: gzip, chunked');
    assert.throws(
      () => parse(parseRequestHead(), crlf(['POST / HTTP/1.0', 'Transfer-Encoding: chunked', ''])),
      httpError('ERR_HTTP_BAD_TRANSFER_ENCODING', 400),
      'Transfer-Encoding in HTTP/1.0 is faulty framing (RFC 9112 section 6.1)',
    );
  });

  it('limits: too many fields and too large a head give 431, as soon as the head passes the limit', () => {
    const fields = Array.from({ length: 101 }, (_, i) => `X-${i}: v`);
    assert.throws(() => parse(parseRequestHead(), crlf(['GET / HTTP/1.1', ...fields, ''])), httpError('ERR_HTTP_TOO_MANY_HEADERS', 431));
    assert.doesNotThrow(() => parse(parseRequestHead(), crlf(['GET / HTTP/1.1', ...fields.slice(1), ''])));
    assert.throws(
      () => parse(parseRequestHead({ maxHeaders: 2 }), crlf(['GET / HTTP/1.1', 'A: 1', 'B: 2', 'C: 3', ''])),
      httpError('ERR_HTTP_TOO_MANY_HEADERS', 431),
    );
    // A head of exactly maxHeadSize bytes passes; one more byte fails.
    const sized = (n: number) => {
      const start = 'GET / HTTP/1.1\r\nX: ';
      return ascii(start + 'a'.repeat(n - start.length - 4) + '\r\n\r\n');
    };
    assert.doesNotThrow(() => parse(parseRequestHead({ maxHeadSize: 100 }), sized(100)));
    assert.throws(() => parse(parseRequestHead({ maxHeadSize: 100 }), sized(101)), httpError('ERR_HTTP_HEAD_TOO_LARGE', 431));
    // Streaming: the error comes once 16 KiB arrived without a blank line; nothing more is buffered.
    const s = new Session(bodyPhaseAfterHead(), { maxBuffered: 64 * 1024 });
    let r = s.poll();
    let fed = 0;
    while (r.type === 'need-read') {
      s.receive(ascii('X-Padding: ' + 'a'.repeat(1000) + '\r\n'));
      fed += 1013;
      r = s.poll();
    }
    assert.equal(r.type, 'error');
    if (r.type === 'error') {
      assert.ok(r.error instanceof HttpError && r.error.code === 'ERR_HTTP_HEAD_TOO_LARGE' && r.error.status === 431);
    }
    assert.ok(fed <= 16 * 1024 + 1013, `failed after ${fed} bytes`);
  });

  it('round trip: any request head the encoder accepts parses back to itself (property)', () => {
    fc.assert(
      fc.property(arbRequest(), (req) => {
        const bytes = encodeRequestHead(req);
        const back = parse(parseRequestHead({ maxHeaders: 1000, maxHeadSize: 1 << 20 }), bytes);
        assert.equal(back.method, req.method);
        assert.equal(back.target, req.target);
        assert.deepEqual(
          back.headers,
          req.headers.map(([n, v]) => [n.toLowerCase(), v]),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('the encoder refuses what the parser would reject', () => {
    const bad = (head: Parameters<typeof encodeRequestHead>[0]) =>
      assert.throws(
        () => encodeRequestHead(head),
        (e: unknown) => (e as { code?: string }).code === 'ERR_ENCODE_RANGE',
      );
    bad({ method: 'G T', target: '/', headers: [] });
    bad({ method: 'GET', target: '/a b', headers: [] });
    bad({ method: 'GET', target: '/', headers: [['Bad Name', 'x']] });
    bad({ method: 'GET', target: '/', headers: [['X', 'a\r\nInjected: 1']] });
    bad({ method: 'GET', target: '/', headers: [['X', ' padded']] });
    bad({ method: 'GET', target: '/', version: '2.0', headers: [] });
  });

  it('corruption: any mangled head gives a head or a typed error', () => {
    checkCorruption(
      streamingDecode(parseRequestHead({ maxHeadSize: 512 })),
      [RFC9110_REQUEST, WS_REQUEST, crlf(['POST / HTTP/1.1', 'Transfer-Encoding: chunked', ''])],
      { numRuns: 100 },
    );
  });
});

/** A server-side session: request head, then its body. */
function bodyPhaseAfterHead(): import('../../src/miniproto/index.js').Phase<BodyEvent | { type: 'head'; head: RequestHead }> {
  return {
    name: 'head',
    holdOutput: false,
    *run(io) {
      const head = yield* io.read(parseRequestHead());
      yield* io.emit({ type: 'head', head });
      return bodyPhase(head.framing, null);
    },
  };
}

describe('HTTP/1.1 response head', () => {
  it('RFC 9110 section 3.9 example response, with its body', () => {
    const head = parse(parseResponseHead(), concat(RFC9110_RESPONSE, RFC9110_BODY), { allowTrailing: true });
    assert.equal(head.status, 200);
    assert.equal(head.reason, 'OK');
    assert.equal(head.headers.length, 8);
    assert.equal(headerValue(head.headers, 'etag'), '"34aa387-d-1568eb00"');
    const framing = responseFraming(head, 'GET');
    assert.deepEqual(framing, { kind: 'length', length: 51 });
    assert.equal(RFC9110_BODY.length, 51);
    const body = parse(readBody(framing), RFC9110_BODY);
    assert.deepEqual(body.data, RFC9110_BODY);
  });

  it('RFC 6455 handshake response: chunk splits, WebSocket frame bytes stay in the Source', () => {
    const head: ResponseHead = {
      version: '1.1',
      status: 101,
      reason: 'Switching Protocols',
      headers: [
        ['upgrade', 'websocket'],
        ['connection', 'Upgrade'],
        ['sec-websocket-accept', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='],
        ['sec-websocket-protocol', 'chat'],
      ],
    };
    checkParserSplits(parseResponseHead(), fixture(WS_RESPONSE, head), { trailing: hex('81 05 48 65 6c 6c 6f') });
    assert.deepEqual(responseFraming(head, 'GET'), { kind: 'none' });
  });

  it('status-line variants and errors', () => {
    assert.equal(parse(parseResponseHead(), ascii('HTTP/1.1 204\r\n\r\n')).reason, '', 'an omitted reason is tolerated');
    assert.equal(parse(parseResponseHead(), ascii('HTTP/1.0 404 Not  Found\r\n\r\n')).reason, 'Not  Found');
    const bad = (text: string, code: string) =>
      assert.throws(
        () => parse(parseResponseHead(), ascii(text)),
        httpError(code, code === 'ERR_HTTP_BAD_VERSION' ? 502 : undefined),
        text,
      );
    bad('HTTP/1.1 20\r\n\r\n', 'ERR_HTTP_BAD_STATUS_LINE');
    bad('HTTP/1.1 099 x\r\n\r\n', 'ERR_HTTP_BAD_STATUS_LINE');
    bad('HTTP/1.1 200OK\r\n\r\n', 'ERR_HTTP_BAD_STATUS_LINE');
    bad('HTTP/1.1  200 OK\r\n\r\n', 'ERR_HTTP_BAD_STATUS_LINE');
    bad('HTTP/3.0 200 OK\r\n\r\n', 'ERR_HTTP_BAD_VERSION');
    bad('ICY 200 OK\r\n\r\n', 'ERR_HTTP_BAD_STATUS_LINE');
  });

  it('response framing (RFC 9112 section 6.3)', () => {
    const head = (status: number, ...fields: Header[]): ResponseHead => ({ version: '1.1', status, reason: '', headers: fields });
    assert.deepEqual(responseFraming(head(200, ['content-length', '10']), 'HEAD'), { kind: 'none' });
    assert.deepEqual(responseFraming(head(204), 'GET'), { kind: 'none' });
    assert.deepEqual(responseFraming(head(304, ['content-length', '10']), 'GET'), { kind: 'none' });
    assert.deepEqual(responseFraming(head(100), 'GET'), { kind: 'none' });
    assert.deepEqual(responseFraming(head(200), 'CONNECT'), { kind: 'none' });
    assert.deepEqual(responseFraming(head(200, ['transfer-encoding', 'chunked']), 'GET'), { kind: 'chunked' });
    assert.deepEqual(responseFraming(head(200), 'GET'), { kind: 'until-close' });
    assert.throws(
      () => responseFraming(head(200, ['transfer-encoding', 'chunked'], ['content-length', '1']), 'GET'),
      httpError('ERR_HTTP_TE_AND_CL', 502),
    );
  });

  it('round trip (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 999 }), fc.stringMatching(/^[\x20-\x7e]{0,20}$/), arbHeaders(), (status, reason, headers) => {
        const back = parse(parseResponseHead(), encodeResponseHead({ status, reason, headers }));
        assert.equal(back.status, status);
        assert.equal(back.reason, reason);
        assert.deepEqual(
          back.headers,
          headers.map(([n, v]) => [n.toLowerCase(), v]),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('corruption', () => {
    checkCorruption(streamingDecode(parseResponseHead({ maxHeadSize: 512 })), [RFC9110_RESPONSE, WS_RESPONSE], { numRuns: 100 });
  });
});

describe('HTTP/1.1 bodies', () => {
  // RFC 9112 section 7.1 grammar: chunk-size [ chunk-ext ] CRLF chunk-data CRLF ... last-chunk trailer-section CRLF
  const CHUNKED = ascii('4\r\nWiki\r\n6;name=value\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n');
  const DECODED = ascii('Wikipedia in \r\n\r\nchunks.');

  it('chunked body: vector, extensions skipped, trailers parsed, chunk splits', () => {
    const body = parse(readBody({ kind: 'chunked' }), CHUNKED);
    assert.deepEqual(body.data, DECODED);
    assert.deepEqual(body.trailers, [['expires', 'never']]);
    checkParserSplits(readBody({ kind: 'chunked' }), fixture(CHUNKED, { data: DECODED, trailers: [['expires', 'never']] as Header[] }), {
      trailing: ascii('GET / HTTP/1.1\r\n'),
    });
  });

  it('chunked body errors', () => {
    const bad = (text: string, code: string) =>
      assert.throws(() => parse(readBody({ kind: 'chunked' }), ascii(text)), httpError(code), text);
    bad('x\r\n', 'ERR_HTTP_BAD_CHUNK');
    bad('4 x\r\nWiki\r\n0\r\n\r\n', 'ERR_HTTP_BAD_CHUNK');
    bad('4\r\nWikiX\r\n0\r\n\r\n', 'ERR_HTTP_BAD_CHUNK');
    bad('10000000000000\r\n', 'ERR_HTTP_BAD_CHUNK'); // 14 hex digits: over 2^52
    bad('4;a\x01\r\nWiki\r\n0\r\n\r\n', 'ERR_HTTP_BAD_CHUNK');
    bad('0\r\nBad Trailer: x\r\n\r\n', 'ERR_HTTP_BAD_HEADER');
    assert.throws(
      () => parse(readBody({ kind: 'chunked' }, { maxBodySize: 5 }), ascii('4\r\nWiki\r\n4\r\npedi\r\n0\r\n\r\n')),
      httpError('ERR_HTTP_BODY_TOO_LARGE', 413),
    );
    assert.throws(
      () => parse(readBody({ kind: 'length', length: 10 }, { maxBodySize: 5 }), new Uint8Array(10)),
      httpError('ERR_HTTP_BODY_TOO_LARGE', 413),
    );
    assert.equal(parse(readBody({ kind: 'chunked' }), ascii('000004\r\nWiki\r\n0\r\n\r\n')).data.length, 4, 'leading zeros do not count');
  });

  it('encodeChunk / encodeLastChunk round-trip through the chunked reader (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 5 }), arbHeaders(), (chunks, trailers) => {
        const wire = concat(...chunks.map(encodeChunk), encodeLastChunk(trailers));
        const body = parse(readBody({ kind: 'chunked' }), wire);
        assert.deepEqual(body.data, concat(...chunks));
        assert.deepEqual(
          body.trailers,
          trailers.map(([n, v]) => [n.toLowerCase(), v]),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('streaming body phase: head, then body pieces, then the next request on the same Source, for every split', () => {
    type Ev = BodyEvent | { type: 'head'; head: RequestHead };
    const second = crlf(['GET /next HTTP/1.1', '']);
    const first = concat(crlf(['POST /upload HTTP/1.1', 'Transfer-Encoding: chunked', '']), CHUNKED);
    const make = (): Session<Ev> => {
      const head = (): import('../../src/miniproto/index.js').Phase<Ev> => ({
        name: 'head',
        holdOutput: false,
        *run(io) {
          const h = yield* io.read(parseRequestHead());
          yield* io.emit({ type: 'head', head: h });
          return bodyPhase<Ev>(h.framing, head());
        },
      });
      return new Session(head());
    };
    // Body pieces come out as they arrive; this driver joins them and reports the body at body-end.
    const driver: SplitDriver<string | Uint8Array> = (want) => {
      let pieces: Uint8Array[] = [];
      const pick = (e: Ev): string | Uint8Array | undefined => {
        if (e.type === 'head') return `${e.head.method} ${e.head.target}`;
        if (e.type === 'body') {
          assert.ok(e.data.length > 0, 'no empty pieces');
          pieces.push(e.data.slice());
          return undefined;
        }
        const body = concat(...pieces);
        pieces = [];
        return body;
      };
      return sessionDriver(make, pick)(want);
    };
    const input = concat(first, second);
    checkSplits(
      driver,
      {
        input,
        values: ['POST /upload', DECODED, 'GET /next', new Uint8Array(0)],
        ends: [first.length - CHUNKED.length, first.length, input.length, input.length],
      },
      { trailing: ascii('X') },
    );
  });

  it('corruption: mangled chunked bodies give a body or a typed error', () => {
    checkCorruption(streamingDecode(readBody({ kind: 'chunked' }, { maxBodySize: 4096 })), [CHUNKED, encodeLastChunk([['a', 'b']])], {
      numRuns: 100,
    });
  });

  it('until-close body ends with the input', () => {
    const body = streamingDecode(readBody({ kind: 'until-close' }))(ascii('all the rest'));
    assert.deepEqual(body[0]!.data, ascii('all the rest'));
  });
});

// ---------------------------------------------------------------- generators

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const arbToken = () => fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });
const arbValue = () =>
  fc.oneof(
    fc.constant(''),
    fc
      .tuple(fc.stringMatching(/^[\x21-\x7e]$/), fc.stringMatching(/^[\x20-\x7e\t]{0,20}$/), fc.stringMatching(/^[\x21-\x7e]$/))
      .map(([a, b, c]) => a + b + c),
    fc.stringMatching(/^[\x21-\x7e]$/),
  );
function arbHeaders() {
  return fc.array(fc.tuple(arbToken(), arbValue()), { maxLength: 8 }) as fc.Arbitrary<Header[]>;
}
function arbRequest() {
  return fc.record({
    method: arbToken(),
    target: fc.stringMatching(/^[\x21-\x7e]{1,40}$/),
    headers: arbHeaders().filter((hs) => !hs.some(([n]) => /^(content-length|transfer-encoding)$/i.test(n))),
  });
}
