import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRequestHead, checkResponseHead, checkTrailers, fieldSectionSize } from '../../src/http3/fields.js';
import { fields } from './support.js';

const req = (...extra: [string, string][]) =>
  fields([':method', 'GET'], [':scheme', 'https'], [':authority', 'example.org'], [':path', '/a?b=c'], ...extra);

const malformed = { code: 'H3_MESSAGE_ERROR' };

describe('HTTP/3 request header sections (RFC 9114 section 4.3.1)', () => {
  it('accepts a plain GET and reports its parts', () => {
    assert.deepEqual(checkRequestHead(req()), {
      method: 'GET',
      scheme: 'https',
      authority: 'example.org',
      path: '/a?b=c',
      contentLength: null,
    });
  });

  it('accepts Host instead of :authority, TE: trailers, OPTIONS *, CONNECT', () => {
    const r = checkRequestHead(fields([':method', 'GET'], [':scheme', 'https'], [':path', '/'], ['host', 'h.example']));
    assert.equal(r.authority, 'h.example');
    assert.doesNotThrow(() => checkRequestHead(req(['te', 'trailers'])));
    assert.doesNotThrow(() => checkRequestHead(fields([':method', 'OPTIONS'], [':scheme', 'https'], [':authority', 'x'], [':path', '*'])));
    const c = checkRequestHead(fields([':method', 'CONNECT'], [':authority', 'example.org:443']));
    assert.deepEqual([c.scheme, c.path, c.authority], [null, null, 'example.org:443']);
  });

  const bad: [string, [string, string][]][] = [
    [
      'no :method',
      [
        [':scheme', 'https'],
        [':authority', 'x'],
        [':path', '/'],
      ],
    ],
    [
      'no :scheme',
      [
        [':method', 'GET'],
        [':authority', 'x'],
        [':path', '/'],
      ],
    ],
    [
      'empty :path',
      [
        [':method', 'GET'],
        [':scheme', 'https'],
        [':authority', 'x'],
        [':path', ''],
      ],
    ],
    [
      'relative :path',
      [
        [':method', 'GET'],
        [':scheme', 'https'],
        [':authority', 'x'],
        [':path', 'a'],
      ],
    ],
    [
      '* outside OPTIONS',
      [
        [':method', 'GET'],
        [':scheme', 'https'],
        [':authority', 'x'],
        [':path', '*'],
      ],
    ],
    [
      'https without authority or host',
      [
        [':method', 'GET'],
        [':scheme', 'https'],
        [':path', '/'],
      ],
    ],
    [
      'two :method',
      [
        [':method', 'GET'],
        [':method', 'GET'],
        [':scheme', 'https'],
        [':authority', 'x'],
        [':path', '/'],
      ],
    ],
    [
      'a pseudo-header after a field',
      [
        [':method', 'GET'],
        [':scheme', 'https'],
        ['a', 'b'],
        [':authority', 'x'],
        [':path', '/'],
      ],
    ],
    [
      'a response pseudo-header',
      [
        [':status', '200'],
        [':method', 'GET'],
        [':scheme', 'https'],
        [':authority', 'x'],
        [':path', '/'],
      ],
    ],
    [
      ':protocol (extended CONNECT not negotiated)',
      [
        [':method', 'CONNECT'],
        [':protocol', 'websocket'],
        [':authority', 'x'],
      ],
    ],
    [
      'CONNECT with :path',
      [
        [':method', 'CONNECT'],
        [':authority', 'x'],
        [':path', '/'],
      ],
    ],
    ['CONNECT without :authority', [[':method', 'CONNECT']]],
    [
      'authority and host differ',
      [
        [':method', 'GET'],
        [':scheme', 'https'],
        [':authority', 'x'],
        [':path', '/'],
        ['host', 'y'],
      ],
    ],
    [
      'userinfo in :authority',
      [
        [':method', 'GET'],
        [':scheme', 'https'],
        [':authority', 'u@x'],
        [':path', '/'],
      ],
    ],
  ];
  for (const [name, f] of bad) {
    it(`rejects ${name}`, () => assert.throws(() => checkRequestHead(fields(...f), 4), malformed));
  }

  const badFields: [string, [string, string]][] = [
    ['an uppercase name', ['Accept', '*/*']],
    ['a space in a name', ['a b', 'x']],
    ['an empty name', ['', 'x']],
    ['CR in a value', ['x', 'a\rb']],
    ['LF in a value', ['x', 'a\nb']],
    ['NUL in a value', ['x', 'a\0b']],
    ['leading whitespace', ['x', ' a']],
    ['trailing tab', ['x', 'a\t']],
    ['connection', ['connection', 'close']],
    ['keep-alive', ['keep-alive', '5']],
    ['proxy-connection', ['proxy-connection', 'x']],
    ['transfer-encoding', ['transfer-encoding', 'chunked']],
    ['upgrade', ['upgrade', 'websocket']],
    ['TE other than trailers', ['te', 'gzip']],
    ['a non-numeric content-length', ['content-length', '12a']],
    ['a negative content-length', ['content-length', '-1']],
    ['conflicting content-length values', ['content-length', '5, 6']],
  ];
  for (const [name, f] of badFields) {
    it(`rejects ${name}`, () => assert.throws(() => checkRequestHead(req(f)), malformed));
  }

  it('merges identical content-length values', () => {
    assert.equal(checkRequestHead(req(['content-length', '7, 7'], ['content-length', '7'])).contentLength, 7);
    assert.throws(() => checkRequestHead(req(['content-length', '7'], ['content-length', '8'])), malformed);
  });

  it('reports the stream ID in the error and a stream scope', () => {
    assert.throws(() => checkRequestHead(req(['Bad', 'x']), 8), { code: 'H3_MESSAGE_ERROR', streamId: 8, scope: 'stream' });
  });
});

describe('HTTP/3 response header sections and trailers (RFC 9114 sections 4.3.2, 4.5)', () => {
  it('accepts a status and a content-length', () => {
    assert.deepEqual(checkResponseHead(fields([':status', '404'], ['content-length', '0'])), { status: 404, contentLength: 0 });
  });

  for (const [name, f] of [
    ['no :status', [['content-type', 'text/plain']]],
    [
      'two :status',
      [
        [':status', '200'],
        [':status', '200'],
      ],
    ],
    ['a two-digit status', [[':status', '20']]],
    ['a status with letters', [[':status', '2xx']]],
    ['101 Switching Protocols', [[':status', '101']]],
    [
      'a request pseudo-header',
      [
        [':status', '200'],
        [':path', '/'],
      ],
    ],
    [
      'TE in a response',
      [
        [':status', '200'],
        ['te', 'trailers'],
      ],
    ],
  ] as [string, [string, string][]][]) {
    it(`rejects ${name}`, () => assert.throws(() => checkResponseHead(fields(...f)), malformed));
  }

  it('trailers: regular fields only', () => {
    assert.doesNotThrow(() => checkTrailers(fields(['x-checksum', 'abc'])));
    assert.throws(() => checkTrailers(fields([':status', '200'])), malformed);
    assert.throws(() => checkTrailers(fields(['Bad', 'x'])), malformed);
  });

  it('field section size counts name + value bytes + 32 per field (section 4.2.2)', () => {
    // 'a' (1) + 'bc' (2) + 32, then 'é' is 2 UTF-8 bytes: 1 + 2 + 32.
    assert.equal(fieldSectionSize(fields(['a', 'bc'], ['x', 'é'])), 35 + 35);
  });
});
