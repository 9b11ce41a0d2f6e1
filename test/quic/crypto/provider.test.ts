/**
 * The crypto providers (noble and node:crypto) against RFC vectors, against
 * node:crypto used directly as an independent reference (hkdfSync, createHash,
 * createHmac), and against each other on random inputs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { createNobleProvider, nobleAesHeaderProtection } from '../../../src/quic/crypto/noble.js';
import { createNodeProvider } from '../../../src/quic/crypto/node.js';
import { CIPHER_SUITES, encodeHkdfLabel, hkdfExpandLabel, writeNonce } from '../../../src/quic/crypto/provider.js';
import type { CipherSuite, CryptoProvider, HashAlgorithm } from '../../../src/quic/crypto/provider.js';
import { RFC9001 } from '../../vectors/rfc9001.js';
import { RFC9369 } from '../../vectors/rfc9369.js';
import { PROVIDERS, SUITES, hex, toHex } from './support.js';

const [noble, node] = PROVIDERS as [CryptoProvider, CryptoProvider];
const EMPTY = new Uint8Array(0);
const AES128: CipherSuite = 'TLS_AES_128_GCM_SHA256';
const CHACHA: CipherSuite = 'TLS_CHACHA20_POLY1305_SHA256';

function usage(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => (e as { code?: unknown }).code === 'ERR_USAGE');
}

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

describe('HKDF-Expand-Label encoding (RFC 8446 section 7.1)', () => {
  // RFC 9001 / RFC 9369 Appendix A.1 list the HkdfLabel bytes of each label.
  for (const [v, p] of [
    [RFC9001, 'quic'],
    [RFC9369, 'quicv2'],
  ] as const) {
    it(`matches the ${p} labels of Appendix A.1`, () => {
      assert.equal(toHex(encodeHkdfLabel('client in', EMPTY, 32)), v.hkdfLabels.clientIn);
      assert.equal(toHex(encodeHkdfLabel('server in', EMPTY, 32)), v.hkdfLabels.serverIn);
      assert.equal(toHex(encodeHkdfLabel(`${p} key`, EMPTY, 16)), v.hkdfLabels.key);
      assert.equal(toHex(encodeHkdfLabel(`${p} iv`, EMPTY, 12)), v.hkdfLabels.iv);
      assert.equal(toHex(encodeHkdfLabel(`${p} hp`, EMPTY, 16)), v.hkdfLabels.hp);
    });
  }

  it('rejects labels and contexts that do not fit their length bytes', () => {
    usage(() => encodeHkdfLabel('x'.repeat(250), EMPTY, 32));
    usage(() => encodeHkdfLabel('ok', new Uint8Array(256), 32));
    usage(() => encodeHkdfLabel('ok', EMPTY, 0x10000));
    usage(() => encodeHkdfLabel('é', EMPTY, 16));
  });
});

describe('AEAD nonce (RFC 9001 section 5.3)', () => {
  it('is iv XOR pn: the nonces of RFC 9001 and RFC 9369 Appendix A.5', () => {
    for (const v of [RFC9001, RFC9369]) {
      const out = new Uint8Array(12);
      writeNonce(hex(v.chacha20.iv), v.chacha20.pn, out);
      assert.equal(toHex(out), v.chacha20.nonce);
      writeNonce(hex(v.chacha20.iv), BigInt(v.chacha20.pn), out);
      assert.equal(toHex(out), v.chacha20.nonce);
    }
  });

  it('accepts packet numbers up to 2^62 - 1 and refuses others', () => {
    const out = new Uint8Array(12);
    writeNonce(new Uint8Array(12), 2n ** 62n - 1n, out);
    assert.equal(toHex(out), '00000000' + '3fffffffffffffff');
    writeNonce(new Uint8Array(12), Number.MAX_SAFE_INTEGER, out);
    assert.equal(toHex(out), '00000000' + '001fffffffffffff');
    usage(() => writeNonce(new Uint8Array(12), 2n ** 62n, out));
    usage(() => writeNonce(new Uint8Array(12), -1, out));
    usage(() => writeNonce(new Uint8Array(12), 1.5, out));
    usage(() => writeNonce(new Uint8Array(12), 2 ** 53, out));
  });

  it('agrees for number and bigint packet numbers (property)', () => {
    fc.assert(
      fc.property(bytes(12, 12), fc.maxSafeNat(), (iv, pn) => {
        const a = new Uint8Array(12);
        const b = new Uint8Array(12);
        writeNonce(iv, pn, a);
        writeNonce(iv, BigInt(pn), b);
        assert.deepEqual(a, b);
      }),
    );
  });
});

for (const p of PROVIDERS) {
  describe(`${p.name} provider`, () => {
    it('derives the Initial secrets of RFC 9001 and RFC 9369 Appendix A.1 with HKDF-Extract and HKDF-Expand-Label', () => {
      for (const [v, salt] of [
        [RFC9001, '38762cf7f55934b34d179ae6a4c80cadccbb7f0a'],
        [RFC9369, '0dede3def700a6db819381be6e269dcbf9bd2ed9'],
      ] as const) {
        const initial = p.hkdfExtract('sha256', hex(salt), hex(v.dcid));
        assert.equal(toHex(initial), v.initialSecret);
        assert.equal(toHex(hkdfExpandLabel(p, 'sha256', initial, 'client in', EMPTY, 32)), v.client.secret);
        assert.equal(toHex(hkdfExpandLabel(p, 'sha256', initial, 'server in', EMPTY, 32)), v.server.secret);
      }
    });

    it('matches node:crypto hkdfSync for SHA-256 and SHA-384 (property)', () => {
      fc.assert(
        fc.property(
          fc.constantFrom<HashAlgorithm>('sha256', 'sha384'),
          bytes(0, 80),
          bytes(0, 80),
          bytes(0, 60),
          fc.integer({ min: 1, max: 200 }),
          (alg, salt, ikm, info, length) => {
            const expected = new Uint8Array(hkdfSync(alg, ikm, salt, info, length));
            const okm = p.hkdfExpand(alg, p.hkdfExtract(alg, salt, ikm), info, length);
            assert.equal(toHex(okm), toHex(expected));
          },
        ),
        { numRuns: 60 },
      );
    });

    it('hashes and HMACs like node:crypto (property)', () => {
      fc.assert(
        fc.property(fc.constantFrom<HashAlgorithm>('sha256', 'sha384'), bytes(0, 200), bytes(0, 200), (alg, key, data) => {
          assert.equal(toHex(p.hash(alg, data)), createHash(alg).update(data).digest('hex'));
          assert.equal(toHex(p.hmac(alg, key, data)), createHmac(alg, key).update(data).digest('hex'));
        }),
        { numRuns: 60 },
      );
    });

    it('refuses HKDF-Expand misuse with ERR_USAGE', () => {
      usage(() => p.hkdfExpand('sha256', new Uint8Array(31), EMPTY, 32));
      usage(() => p.hkdfExpand('sha256', new Uint8Array(32), EMPTY, 255 * 32 + 1));
      usage(() => p.hkdfExpand('sha384', new Uint8Array(48), EMPTY, -1));
      usage(() => p.hash('md5' as HashAlgorithm, EMPTY));
    });

    it('seals the RFC 9001 and RFC 9369 Appendix A.5 ChaCha20-Poly1305 payload', () => {
      for (const v of [RFC9001, RFC9369]) {
        const c = v.chacha20;
        const aead = p.aead(CHACHA, hex(c.key), hex(c.iv));
        const out = new Uint8Array(17);
        assert.equal(aead.seal(c.pn, hex(c.header), hex(c.plaintext), out), 17);
        assert.equal(toHex(out), c.ciphertext);
        const back = new Uint8Array(1);
        assert.equal(aead.open(c.pn, hex(c.header), hex(c.ciphertext), back), 1);
        assert.equal(toHex(back), c.plaintext);
      }
    });

    it('computes the header protection masks of RFC 9001 and RFC 9369 Appendix A.2, A.3 (AES) and A.5 (ChaCha20)', () => {
      for (const v of [RFC9001, RFC9369]) {
        assert.equal(toHex(p.headerProtection(AES128, hex(v.client.hp)).mask(hex(v.clientInitial.sample))), v.clientInitial.mask);
        assert.equal(toHex(p.headerProtection(AES128, hex(v.server.hp)).mask(hex(v.serverInitial.sample))), v.serverInitial.mask);
        assert.equal(toHex(p.headerProtection(CHACHA, hex(v.chacha20.hp)).mask(hex(v.chacha20.sample))), v.chacha20.mask);
      }
    });

    it('reads only the first 16 bytes of a longer sample, and refuses a shorter one', () => {
      const v = RFC9001.clientInitial;
      const hp = p.headerProtection(AES128, hex(RFC9001.client.hp));
      assert.equal(toHex(hp.mask(hex(v.sample + 'ffffff'))), v.mask);
      usage(() => hp.mask(hex(v.sample).subarray(0, 15)));
      const chacha = p.headerProtection(CHACHA, hex(RFC9001.chacha20.hp));
      assert.equal(toHex(chacha.mask(hex(RFC9001.chacha20.sample + '00'))), RFC9001.chacha20.mask);
    });

    it('refuses wrong key, IV and hp key lengths with ERR_USAGE', () => {
      usage(() => p.aead(AES128, new Uint8Array(32), new Uint8Array(12)));
      usage(() => p.aead('TLS_AES_256_GCM_SHA384', new Uint8Array(16), new Uint8Array(12)));
      usage(() => p.aead(CHACHA, new Uint8Array(32), new Uint8Array(8)));
      usage(() => p.aead('TLS_AES_128_CCM_SHA256' as CipherSuite, new Uint8Array(16), new Uint8Array(12)));
      usage(() => p.headerProtection(AES128, new Uint8Array(32)));
      usage(() => p.headerProtection(CHACHA, new Uint8Array(16)));
    });

    for (const suite of SUITES) {
      const keyLength = CIPHER_SUITES[suite].keyLength;

      it(`${suite}: open returns null for any tampering and leaves its buffers untouched (property)`, () => {
        fc.assert(
          fc.property(
            bytes(keyLength, keyLength),
            bytes(12, 12),
            bytes(0, 40),
            bytes(0, 300),
            fc.nat(),
            fc.nat(),
            (key, iv, aad, pt, pn, at) => {
              const aead = p.aead(suite, key, iv);
              const sealed = new Uint8Array(pt.length + 16);
              aead.seal(pn, aad, pt, sealed);
              // Flip one bit of the AAD or of the sealed bytes, or use another packet number.
              const which = at % 3;
              const aad2 = aad.slice();
              const sealed2 = sealed.slice();
              let pn2 = pn;
              if (which === 0 && aad2.length > 0) aad2[at % aad2.length]! ^= 1 << (at % 8);
              else if (which === 1) sealed2[at % sealed2.length]! ^= 1 << (at % 8);
              else pn2 = pn + 1;
              const before = sealed2.slice();
              const out = new Uint8Array(pt.length).fill(0xaa);
              assert.equal(aead.open(pn2, aad2, sealed2, out), null);
              assert.deepEqual(sealed2, before);
              assert.ok(out.every((b) => b === 0xaa));
            },
          ),
          { numRuns: 40 },
        );
      });

      it(`${suite}: seals and opens in place, the same as out of place`, () => {
        const key = new Uint8Array(keyLength).map((_, i) => i);
        const iv = new Uint8Array(12).fill(7);
        const aead = p.aead(suite, key, iv);
        const pt = new Uint8Array(100).map((_, i) => i * 3);
        const outside = new Uint8Array(116);
        aead.seal(5, EMPTY, pt, outside);
        // In place, at an unaligned offset of a larger buffer.
        const buf = new Uint8Array(200);
        buf.set(pt, 3);
        assert.equal(aead.seal(5, EMPTY, buf.subarray(3, 103), buf.subarray(3)), 116);
        assert.deepEqual(buf.subarray(3, 119), outside);
        assert.equal(aead.open(5, EMPTY, buf.subarray(3, 119), buf.subarray(3, 103)), 100);
        assert.deepEqual(buf.subarray(3, 103), pt);
        assert.equal(aead.open(5, EMPTY, new Uint8Array(15), new Uint8Array(0)), null);
        usage(() => aead.seal(5, EMPTY, pt, new Uint8Array(115)));
        usage(() => aead.open(5, EMPTY, outside, new Uint8Array(99)));
      });
    }

    it('takes its random bytes from the injected source', () => {
      let calls = 0;
      const make = p.name === 'noble' ? createNobleProvider : createNodeProvider;
      const seeded = make({
        random: (n) => {
          calls++;
          return new Uint8Array(n).fill(0x5a);
        },
      });
      assert.deepEqual(seeded.random(3), Uint8Array.of(0x5a, 0x5a, 0x5a));
      assert.equal(calls, 1);
      const liar = make({ random: () => new Uint8Array(1) });
      usage(() => liar.random(2));
      assert.equal(p.random(70000).length, 70000);
      assert.equal(p.random(0).length, 0);
      usage(() => p.random(-1));
    });
  });
}

describe('noble and node providers agree (property)', () => {
  for (const suite of SUITES) {
    const keyLength = CIPHER_SUITES[suite].keyLength;
    it(`${suite}: same ciphertext and tag, each opens the other's, same header protection mask`, () => {
      fc.assert(
        fc.property(
          bytes(keyLength, keyLength),
          bytes(12, 12),
          bytes(0, 64),
          bytes(0, 1300),
          fc.oneof(fc.maxSafeNat(), fc.bigInt({ min: 0n, max: 2n ** 62n - 1n })),
          bytes(16, 16),
          (key, iv, aad, pt, pn, sample) => {
            const a = noble.aead(suite, key, iv);
            const b = node.aead(suite, key, iv);
            const sa = new Uint8Array(pt.length + 16);
            const sb = new Uint8Array(pt.length + 16);
            a.seal(pn, aad, pt, sa);
            b.seal(pn, aad, pt, sb);
            assert.equal(toHex(sa), toHex(sb));
            const oa = new Uint8Array(pt.length);
            assert.equal(a.open(pn, aad, sb, oa), pt.length);
            assert.deepEqual(oa, pt);
            const ob = new Uint8Array(pt.length);
            assert.equal(b.open(pn, aad, sa, ob), pt.length);
            assert.deepEqual(ob, pt);
            const ma = noble.headerProtection(suite, key).mask(sample);
            const mb = node.headerProtection(suite, key).mask(sample);
            assert.equal(toHex(ma), toHex(mb));
          },
        ),
        { numRuns: 50 },
      );
    });
  }

  it('ChaCha20 header protection handles a sample whose counter is 0xffffffff (noble refuses that counter in its stream API)', () => {
    // RFC 9001 section 5.4.4 takes the counter from the ciphertext: a peer
    // can make it anything. node:crypto (OpenSSL) is the reference here.
    const key = new Uint8Array(32).map((_, i) => 255 - i);
    for (const counter of ['ffffffff', 'feffffff', '00000000']) {
      const sample = hex(counter + '0102030405060708090a0b0c');
      assert.equal(toHex(noble.headerProtection(CHACHA, key).mask(sample)), toHex(node.headerProtection(CHACHA, key).mask(sample)));
    }
  });

  it('the ECB fallback of noble AES header protection equals the raw block path', () => {
    for (const v of [RFC9001, RFC9369]) {
      for (const [hp, sample, mask] of [
        [v.client.hp, v.clientInitial.sample, v.clientInitial.mask],
        [v.server.hp, v.serverInitial.sample, v.serverInitial.mask],
      ] as const) {
        assert.equal(toHex(nobleAesHeaderProtection(AES128, hex(hp), false).mask(hex(sample))), mask);
        assert.equal(toHex(nobleAesHeaderProtection(AES128, hex(hp), true).mask(hex(sample))), mask);
      }
    }
    const key = new Uint8Array(32).fill(9);
    const sample = new Uint8Array(16).map((_, i) => i * 17);
    assert.equal(
      toHex(nobleAesHeaderProtection('TLS_AES_256_GCM_SHA384', key, false).mask(sample)),
      toHex(node.headerProtection('TLS_AES_256_GCM_SHA384', key).mask(sample)),
    );
  });
});
