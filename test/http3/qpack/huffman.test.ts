import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  HUFFMAN_CODES,
  HUFFMAN_EOS,
  HUFFMAN_ERR_EOS,
  HUFFMAN_ERR_PADDING,
  HUFFMAN_LENGTHS,
  huffmanDecode,
  huffmanEncode,
  huffmanEncodedLength,
  huffmanMaxDecodedLength,
} from '../../../src/http3/qpack/huffman.js';
import { ascii, hex } from '../../support/bytes.js';

function encode(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(huffmanEncodedLength(bytes, 0, bytes.length));
  assert.equal(huffmanEncode(bytes, 0, bytes.length, out, 0), out.length);
  return out;
}

function decode(bytes: Uint8Array): Uint8Array | number {
  const out = new Uint8Array(huffmanMaxDecodedLength(bytes.length));
  const n = huffmanDecode(bytes, 0, bytes.length, out, 0);
  return n < 0 ? n : out.slice(0, n);
}

// RFC 7541 Appendix C.4 (requests) and C.6 (responses) Huffman-coded string literals.
const VECTORS: Array<[string, string]> = [
  ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'], // C.4.1
  ['no-cache', 'a8eb 1064 9cbf'], // C.4.2
  ['custom-key', '25a8 49e9 5ba9 7d7f'], // C.4.3
  ['custom-value', '25a8 49e9 5bb8 e8b4 bf'], // C.4.3
  ['302', '6402'], // C.6.1
  ['private', 'aec3 771a 4b'], // C.6.1
  ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'], // C.6.1
  ['https://www.example.com', '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'], // C.6.1
  ['307', '640e ff'], // C.6.2
  ['Mon, 21 Oct 2013 20:13:22 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff'], // C.6.3
  ['gzip', '9bd9 ab'], // C.6.3
  [
    'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
    '94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
  ], // C.6.3
];

describe('Huffman code (RFC 7541 Appendix B)', () => {
  it('the table is a complete prefix code: Kraft sum exactly 1, lengths 5..30', () => {
    let sum = 0;
    for (let s = 0; s <= HUFFMAN_EOS; s++) {
      const len = HUFFMAN_LENGTHS[s]!;
      assert.ok(len >= 5 && len <= 30, `length of ${s}`);
      assert.ok(HUFFMAN_CODES[s]! < 2 ** len, `code of ${s} fits its length`);
      sum += 2 ** (30 - len);
    }
    assert.equal(sum, 2 ** 30);
  });

  it('the table is canonical: codes, ordered by (length, symbol), count up (cross-checks the two transcribed columns)', () => {
    const order = [...Array(257).keys()].sort((a, b) => HUFFMAN_LENGTHS[a]! - HUFFMAN_LENGTHS[b]! || a - b);
    let code = 0;
    let len = HUFFMAN_LENGTHS[order[0]!]!;
    for (const s of order) {
      code *= 2 ** (HUFFMAN_LENGTHS[s]! - len);
      len = HUFFMAN_LENGTHS[s]!;
      assert.equal(HUFFMAN_CODES[s], code, `symbol ${s}`);
      code++;
    }
    assert.equal(HUFFMAN_CODES[HUFFMAN_EOS], 0x3fffffff);
  });

  for (const [text, h] of VECTORS) {
    it(`RFC 7541 C.4/C.6: ${JSON.stringify(text)}`, () => {
      assert.deepEqual(encode(ascii(text)), hex(h));
      assert.deepEqual(decode(hex(h)), ascii(text));
    });
  }

  it('round-trips any bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        assert.deepEqual(decode(encode(b)), b);
      }),
    );
  });

  it('decodes every single symbol, padded with ones', () => {
    for (let s = 0; s < 256; s++) assert.deepEqual(decode(encode(Uint8Array.of(s))), Uint8Array.of(s), `symbol ${s}`);
  });

  it('rejects EOS inside the string (RFC 7541 section 5.2)', () => {
    // EOS (30 ones) then 2 padding ones.
    assert.equal(decode(hex('ffffffff')), HUFFMAN_ERR_EOS);
    // 'a' (00011) then EOS then padding: 00011111 11111111 11111111 11111111 11110000 -> last bits not ones, but EOS comes first.
    assert.equal(decode(hex('1f ff ff ff ff')), HUFFMAN_ERR_EOS);
  });

  it('rejects padding longer than 7 bits (RFC 7541 section 5.2)', () => {
    assert.equal(decode(hex('ff')), HUFFMAN_ERR_PADDING); // 8 ones, no symbol
    // 'a' (00011) + 111 then a whole byte of ones: 11 bits of padding
    assert.equal(decode(hex('1f ff')), HUFFMAN_ERR_PADDING);
  });

  it('rejects padding that is not a prefix of EOS (RFC 7541 section 5.2)', () => {
    // 'a' is 00011: 'a' + 000 padding, and 'a' + 110.
    assert.equal(decode(hex('18')), HUFFMAN_ERR_PADDING);
    assert.equal(decode(hex('1e')), HUFFMAN_ERR_PADDING);
    assert.deepEqual(decode(hex('1f')), ascii('a'));
  });

  it('never throws and stays within the output bound on random input (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const out = new Uint8Array(huffmanMaxDecodedLength(b.length));
        const n = huffmanDecode(b, 0, b.length, out, 0);
        assert.ok(n === HUFFMAN_ERR_EOS || n === HUFFMAN_ERR_PADDING || (n >= 0 && n <= out.length));
        // Whatever decodes re-encodes to the same bytes (the code is a bijection on valid strings).
        if (n >= 0) assert.deepEqual(encode(out.subarray(0, n)), b);
      }),
      { numRuns: 500 },
    );
  });
});
