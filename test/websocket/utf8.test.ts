import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Utf8Validator, isValidUtf8 } from '../../src/websocket/index.js';
import { hex } from '../support/bytes.js';

/** The oracle: a fatal TextDecoder over the whole buffer (independent of our automaton). */
function oracle(b: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/** Index of the first byte at which no valid continuation exists, by brute force with the oracle. */
function firstBad(b: Uint8Array): number {
  // A prefix p is "viable" when some completion (up to 3 more bytes) makes it valid.
  const completions = [
    new Uint8Array(0),
    hex('80'),
    hex('80 80'),
    hex('80 80 80'),
    hex('90 80 80'),
    hex('a0 80'),
    hex('bf'),
    hex('bf bf'),
    hex('bf bf bf'),
  ];
  const viable = (p: Uint8Array): boolean =>
    completions.some((c) => {
      const x = new Uint8Array(p.length + c.length);
      x.set(p);
      x.set(c, p.length);
      return oracle(x);
    });
  for (let i = 0; i < b.length; i++) if (!viable(b.subarray(0, i + 1))) return i;
  return -1;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

// Invalid sequences (RFC 3629 section 3 and 10; the classes Autobahn's 6.x cases exercise).
const INVALID: [string, Uint8Array, number][] = [
  ['lone continuation byte', hex('80'), 0],
  ['C0 overlong lead', hex('c0 80'), 0],
  ['C1 overlong lead', hex('c1 bf'), 0],
  ['overlong 3-byte (E0 80..9F)', hex('e0 80 80'), 1],
  ['overlong 4-byte (F0 80..8F)', hex('f0 8f bf bf'), 1],
  ['UTF-16 surrogate D800 (ED A0 80)', hex('ed a0 80'), 1],
  ['UTF-16 surrogate DFFF (ED BF BF)', hex('ed bf bf'), 1],
  ['above U+10FFFF (F4 90 80 80)', hex('f4 90 80 80'), 1],
  ['F5 lead', hex('f5 80 80 80'), 0],
  ['FF byte', hex('ff'), 0],
  ['missing continuation', hex('e2 82 41'), 2],
  ['cut 4-byte then ASCII', hex('f0 9f 98 41'), 3],
  ['valid then invalid: κόσμε + ED A0 80', new Uint8Array([...utf8('κόσμε'), 0xed, 0xa0, 0x80]), 11],
];

describe('UTF-8 validation', () => {
  it('valid text of every width, whole and byte by byte', () => {
    for (const s of [
      '',
      'hello',
      'κόσμε',
      '€ and 𝄞',
      '\u0000\u007f\u0080\u07ff\u0800\uffff',
      '\u{10000}\u{10ffff}',
      'Hello-µ@ßöäüàá-UTF-8!!',
    ]) {
      const b = utf8(s);
      assert.ok(isValidUtf8(b), s);
      const v = new Utf8Validator();
      for (let i = 0; i < b.length; i++) assert.equal(v.update(b, i, i + 1), -1);
      assert.ok(v.complete);
    }
  });

  for (const [name, bytes, at] of INVALID) {
    it(`${name}: fails at byte ${at}, whole and split at every point`, () => {
      assert.equal(firstBad(bytes), at, 'oracle agrees on the position');
      assert.equal(new Utf8Validator().update(bytes), at);
      for (let k = 0; k <= bytes.length; k++) {
        const v = new Utf8Validator();
        const r1 = v.update(bytes, 0, k);
        if (at < k) {
          assert.equal(r1, at, `split at ${k}: fails in the first piece`);
          continue;
        }
        assert.equal(r1, -1, `split at ${k}: the first piece is still a valid prefix`);
        assert.equal(v.update(bytes, k, bytes.length), at, `split at ${k}`);
      }
    });
  }

  it('truncated sequences are valid prefixes but not complete', () => {
    for (const b of [hex('c3'), hex('e2 82'), hex('f0 9f 98')]) {
      const v = new Utf8Validator();
      assert.equal(v.update(b), -1);
      assert.equal(v.complete, false);
      assert.equal(isValidUtf8(b), false);
    }
  });

  it('agrees with the oracle on random bytes, and fails exactly where no completion exists', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        assert.equal(isValidUtf8(b), oracle(b));
        const v = new Utf8Validator();
        assert.equal(v.update(b), firstBad(b));
      }),
      { numRuns: 400 },
    );
  });

  it('agrees with the oracle on mostly-valid text with injected bytes, split into random pieces', () => {
    const mostlyValid = fc
      .tuple(
        fc.string({ unit: 'grapheme', maxLength: 60 }),
        fc.array(fc.tuple(fc.nat(300), fc.integer({ min: 0x80, max: 0xff })), { maxLength: 2 }),
      )
      .map(([s, edits]) => {
        const b = utf8(s);
        for (const [at, v] of edits) if (b.length > 0) b[at % b.length] = v;
        return b;
      });
    fc.assert(
      fc.property(mostlyValid, fc.array(fc.nat(400), { maxLength: 6 }), (b, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
        const v = new Utf8Validator();
        let at = 0;
        let failed = -1;
        for (const c of [...points, b.length]) {
          const r = v.update(b, at, c);
          if (r !== -1) {
            failed = r;
            break;
          }
          at = c;
        }
        const bad = firstBad(b);
        assert.equal(failed, bad);
        if (bad === -1) assert.equal(v.complete, oracle(b));
      }),
      { numRuns: 300 },
    );
  });

  it('an injected whole-buffer check (node:buffer isUtf8) gives the same answers and positions', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 60, maxLength: 200 }),
        fc.string({ unit: 'binary', minLength: 30, maxLength: 80 }),
        fc.nat(250),
        (noise, text, cut) => {
          const b = new Uint8Array([...utf8(text), ...(cut % 2 === 0 ? [] : noise.subarray(0, 3))]);
          const k = cut % (b.length + 1);
          const plain = new Utf8Validator();
          const fast = new Utf8Validator(isUtf8);
          const r1 = [plain.update(b, 0, k), plain.update(b, k, b.length), plain.complete];
          const r2 = [fast.update(b, 0, k), fast.update(b, k, b.length), fast.complete];
          assert.deepStrictEqual(r2, r1);
        },
      ),
      { numRuns: 120 },
    );
  });
});
