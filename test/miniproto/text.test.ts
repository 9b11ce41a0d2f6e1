import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ParseError, parse, parseAll } from '../../src/combinators/index.js';
import { crlf, decimalLine, decimalLineBig, textLine } from '../../src/miniproto/index.js';
import { ascii } from '../support/bytes.js';
import { backToBack, checkCorruption, checkParserSplits, fixture, streamingDecode } from '../support/splits.js';

const code = (c: string) => (e: unknown) => e instanceof ParseError && e.code === c;

describe('decimalLine', () => {
  it('vectors', () => {
    assert.equal(parse(decimalLine(), ascii('0\r\n')), 0);
    assert.equal(parse(decimalLine(), ascii('-1\r\n')), -1);
    assert.equal(parse(decimalLine(), ascii('+42\r\n')), 42);
    assert.equal(parse(decimalLine(), ascii('9007199254740991\r\n')), Number.MAX_SAFE_INTEGER);
    assert.equal(parse(decimalLine(), ascii('-9007199254740991\r\n')), -Number.MAX_SAFE_INTEGER);
    assert.equal(parse(decimalLineBig(), ascii('9223372036854775807\r\n')), 9223372036854775807n);
    assert.equal(parse(decimalLineBig(), ascii('-9223372036854775808\r\n')), -9223372036854775808n);
    assert.equal(parse(decimalLineBig(), ascii('0000000000000000012\r\n')), 12);
  });

  it('errors: empty, junk, bare CR, too long, out of range', () => {
    assert.throws(() => parse(decimalLine(), ascii('\r\n')), code('ERR_MALFORMED'));
    assert.throws(() => parse(decimalLine(), ascii('-\r\n')), code('ERR_MALFORMED'));
    assert.throws(() => parse(decimalLine(), ascii('12a\r\n')), code('ERR_MALFORMED'));
    assert.throws(() => parse(decimalLine(), ascii('12\rx')), code('ERR_MALFORMED'));
    assert.throws(() => parse(decimalLine({ maxDigits: 3 }), ascii('1234\r\n')), code('ERR_TOO_LONG'));
    assert.throws(() => parse(decimalLine(), ascii('9007199254740992\r\n')), code('ERR_NUMBER_RANGE'));
    assert.throws(() => parse(decimalLine({ signed: false }), ascii('-1\r\n')), code('ERR_MALFORMED'));
    // garbage fails at once in streaming mode too, without waiting for maxDigits bytes
    assert.throws(() => streamingDecode(decimalLine())(ascii('1x')), code('ERR_MALFORMED'));
  });

  it('chunk splits', () => {
    checkParserSplits(
      decimalLineBig(),
      backToBack<number | bigint>(
        fixture(ascii('123\r\n'), 123),
        fixture(ascii('-9223372036854775808\r\n'), -9223372036854775808n),
        fixture(ascii('+0\r\n'), 0),
      ),
    );
  });

  it('property: any safe integer round-trips through its decimal text', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        assert.equal(parse(decimalLine(), ascii(`${n}\r\n`)), n);
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
        const v = parse(decimalLineBig(), ascii(`${n}\r\n`));
        assert.equal(BigInt(v), n);
        assert.equal(typeof v, n >= -(2n ** 53n - 1n) && n <= 2n ** 53n - 1n ? 'number' : 'bigint');
      }),
    );
  });

  it('corruption', () => {
    checkCorruption(streamingDecode(decimalLineBig()), [ascii('123\r\n-45\r\n')], { numRuns: 100 });
  });
});

describe('textLine and crlf', () => {
  it('vectors: ASCII, UTF-8, empty, the OK shortcut, a line longer than the scan window', () => {
    assert.deepEqual(parseAll(textLine(), ascii('OK\r\nPONG\r\n\r\nhé ✓\r\n')), ['OK', 'PONG', '', 'hé ✓']);
    const long = 'x'.repeat(500);
    assert.equal(parse(textLine(), ascii(`${long}\r\n`)), long);
    assert.equal(parse(textLine(), ascii('a\rb\r\n')), 'a\rb', 'a CR not followed by LF is part of the line');
    assert.throws(() => parse(textLine({ max: 4 }), ascii('12345\r\n')), code('ERR_TOO_LONG'));
    assert.equal(parse(crlf, ascii('\r\n')), undefined);
    assert.throws(() => parse(crlf, ascii('\n\r')), code('ERR_MALFORMED'));
  });

  it('chunk splits', () => {
    checkParserSplits(
      textLine(),
      backToBack(fixture(ascii('OK\r\n'), 'OK'), fixture(ascii('héllo\r\n'), 'héllo'), fixture(ascii('\r\n'), '')),
    );
  });
});
