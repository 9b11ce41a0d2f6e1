/**
 * The handshake part of the crypto providers: transcript hashing, X25519 / P-256 key exchange with
 * peer-key validation, CertificateVerify signatures (ECDSA P-256, Ed25519, RSA-PSS), the portable DER
 * reader, and the Node provider's PEM/DER loaders. Both providers must agree with each other and with
 * node:crypto used directly; the RFC 8448 traces are in key-schedule.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { certificatePublicKey, ed25519SubjectPublicKeyInfo, readSubjectPublicKeyInfo } from '../../../src/quic/crypto/der.js';
import { certificateSubjectPublicKeyInfo, loadCertificateChain, loadPrivateKey } from '../../../src/quic/crypto/node.js';
import { CryptoError } from '../../../src/quic/crypto/provider.js';
import type { CryptoProvider, HashAlgorithm, NamedGroup, RawPrivateKey, SignatureScheme } from '../../../src/quic/crypto/provider.js';
import { decodeHandshake } from '../../../src/quic/tls/messages.js';
import { checkCorruption } from '../../support/splits.js';
import { RFC8448 } from '../../vectors/rfc8448.js';
import { PROVIDERS, PROVIDER_KINDS, coded, concat, hex, replayProvider, toHex } from './support.js';

const full = (b: Uint8Array): string => toHex(b, 1 << 20);
const usage = (e: unknown): boolean => (e as { code?: unknown }).code === 'ERR_USAGE';
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

/** The server certificate of RFC 8448 sections 3 to 7, and its SubjectPublicKeyInfo. */
const RFC8448_CERT = (() => {
  const m = decodeHandshake(hex(RFC8448.simple.certificate));
  assert.ok(m.type === 'certificate');
  return m.certificateList[0]!.certData;
})();

/** The RFC 8448 section 2 RSA key as raw components. */
const RFC8448_RSA: RawPrivateKey = {
  type: 'rsa',
  n: hex(RFC8448.rsaKey.modulus),
  e: hex(RFC8448.rsaKey.publicExponent),
  d: hex(RFC8448.rsaKey.privateExponent),
  p: hex(RFC8448.rsaKey.prime1),
  q: hex(RFC8448.rsaKey.prime2),
  dp: hex(RFC8448.rsaKey.exponent1),
  dq: hex(RFC8448.rsaKey.exponent2),
  qi: hex(RFC8448.rsaKey.coefficient),
};

describe('incremental transcript hash (createHash)', () => {
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: matches node:crypto createHash, digest is non-destructive, clones are independent (property)`, () => {
      const p = PROVIDERS[kind];
      fc.assert(
        fc.property(
          fc.constantFrom<HashAlgorithm>('sha256', 'sha384'),
          fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 5 }),
          (alg, parts) => {
            const h = p.createHash(alg);
            assert.equal(h.algorithm, alg);
            const ref = createHash(alg);
            for (const part of parts) {
              h.update(part);
              ref.update(part);
              assert.equal(full(h.digest()), ref.copy().digest('hex'));
            }
            const c = h.clone();
            c.update(Uint8Array.of(1));
            assert.equal(full(h.digest()), ref.copy().digest('hex'));
            assert.equal(full(c.digest()), ref.copy().update(Uint8Array.of(1)).digest('hex'));
          },
        ),
        { numRuns: 40 },
      );
      assert.throws(() => p.createHash('md5' as HashAlgorithm), usage);
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// key exchange

/** The P-256 group order n, big-endian. */
const P256_N = hex('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

describe('key exchange: both providers, same key shares and secrets', () => {
  for (const group of ['x25519', 'secp256r1'] as const) {
    it(`${group}: the same random bytes give the same key share in both providers, and any pair agrees (property)`, () => {
      fc.assert(
        fc.property(bytes(32), (a) => {
          const shares = PROVIDER_KINDS.map((k) => {
            try {
              return replayProvider(k, a).generateKeyShare(group);
            } catch {
              return null;
            }
          });
          fc.pre(shares[0] !== null && shares[1] !== null); // P-256 draws outside 1..n-1 need a second draw
          assert.equal(full(shares[0]!.publicKey), full(shares[1]!.publicKey));
          assert.equal(shares[0]!.publicKey.length, group === 'x25519' ? 32 : 65);
          const peer = PROVIDERS.node.generateKeyShare(group);
          const s0 = shares[0]!.deriveSecret(peer.publicKey);
          const s1 = shares[1]!.deriveSecret(peer.publicKey);
          assert.equal(full(s0), full(s1));
          assert.equal(full(peer.deriveSecret(shares[0]!.publicKey)), full(s0));
          assert.equal(s0.length, 32);
        }),
        { numRuns: 6 },
      );
    });
  }

  it('P-256 private keys are drawn again until they lie in 1..n-1 (same choice in both providers)', () => {
    const valid = new Uint8Array(32).fill(0x11);
    for (const kind of PROVIDER_KINDS) {
      const p = replayProvider(kind, new Uint8Array(32), P256_N, new Uint8Array(32).fill(0xff), valid);
      const share = p.generateKeyShare('secp256r1');
      assert.equal(full(share.publicKey), full(replayProvider(kind, valid).generateKeyShare('secp256r1').publicKey));
    }
  });

  it('refuses unknown groups with UsageError', () => {
    for (const kind of PROVIDER_KINDS) assert.throws(() => PROVIDERS[kind].generateKeyShare('x448' as NamedGroup), usage);
  });
});

describe('key exchange: peer key validation (RFC 8446 sections 4.2.8.2 and 7.4)', () => {
  const invalidX25519 = [
    new Uint8Array(31),
    new Uint8Array(33),
    new Uint8Array(0),
    // Low-order points give an all-zero shared secret (section 7.4.2): 0 and 1.
    new Uint8Array(32),
    concat(Uint8Array.of(1), new Uint8Array(31)),
  ];
  const p = hex(RFC8448.helloRetry.serverP256PublicKey);
  const offCurve = p.slice();
  offCurve[64]! ^= 1;
  const invalidP256 = [
    p.subarray(0, 64),
    concat(p, Uint8Array.of(0)),
    // Compressed form (legacy_form must be 4).
    concat(Uint8Array.of(0x02 | (p[64]! & 1)), p.subarray(1, 33)),
    concat(Uint8Array.of(0x05), p.subarray(1)),
    offCurve,
    // x = p (the field prime), not a field element.
    concat(Uint8Array.of(4), hex('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff'), p.subarray(33)),
    new Uint8Array(65),
  ];

  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: wrong lengths, invalid points and low-order points raise ERR_INVALID_KEY_SHARE`, () => {
      const x = PROVIDERS[kind].generateKeyShare('x25519');
      for (const bad of invalidX25519) assert.throws(() => x.deriveSecret(bad), coded('ERR_INVALID_KEY_SHARE'), `x25519 ${toHex(bad)}`);
      const e = PROVIDERS[kind].generateKeyShare('secp256r1');
      for (const bad of invalidP256) assert.throws(() => e.deriveSecret(bad), coded('ERR_INVALID_KEY_SHARE'), `secp256r1 ${toHex(bad)}`);
      // The two groups' shares are not interchangeable.
      assert.throws(() => x.deriveSecret(e.publicKey), coded('ERR_INVALID_KEY_SHARE'));
      assert.throws(() => e.deriveSecret(x.publicKey), coded('ERR_INVALID_KEY_SHARE'));
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// signatures

/** RFC 8032 section 7.1, TEST 1: Ed25519 with an empty message. */
const RFC8032_TEST1 = {
  secretKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  signature:
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
};

/** DER ECDSA-Sig-Value with s replaced by n - s (the other valid signature; OpenSSL emits either). */
function flipS(der: Uint8Array): Uint8Array {
  const rLen = der[3]!;
  const r = der.subarray(4, 4 + rLen);
  const sLen = der[5 + rLen]!;
  const s = BigInt('0x' + full(der.subarray(6 + rLen, 6 + rLen + sLen)));
  const n = BigInt('0x' + full(P256_N));
  let t = (n - s).toString(16);
  if (t.length % 2) t = '0' + t;
  let sBytes = hex(t);
  if (sBytes[0]! & 0x80) sBytes = concat(Uint8Array.of(0), sBytes);
  const body = concat(Uint8Array.of(2, r.length), r, Uint8Array.of(2, sBytes.length), sBytes);
  return concat(Uint8Array.of(0x30, body.length), body);
}

describe('signatures: Ed25519', () => {
  it('both providers sign RFC 8032 TEST 1 byte for byte and verify it', () => {
    for (const kind of PROVIDER_KINDS) {
      const signer = PROVIDERS[kind].createSigner({ type: 'ed25519', privateKey: hex(RFC8032_TEST1.secretKey) });
      assert.equal(signer.keyType, 'ed25519');
      assert.deepEqual(signer.schemes, ['ed25519']);
      assert.equal(full(signer.publicKey), full(ed25519SubjectPublicKeyInfo(hex(RFC8032_TEST1.publicKey))));
      assert.equal(full(signer.sign('ed25519', new Uint8Array(0))), RFC8032_TEST1.signature);
      for (const v of PROVIDER_KINDS) {
        assert.ok(PROVIDERS[v].signatureVerifier.verify('ed25519', signer.publicKey, new Uint8Array(0), hex(RFC8032_TEST1.signature)));
        assert.equal(
          PROVIDERS[v].signatureVerifier.verify('ed25519', signer.publicKey, Uint8Array.of(0), hex(RFC8032_TEST1.signature)),
          false,
        );
      }
    }
  });
});

describe('signatures: ECDSA P-256 (DER-encoded, RFC 8446 section 4.2.3)', () => {
  const key: RawPrivateKey = { type: 'ecdsa-p256', privateKey: hex('c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721') };

  it('each provider verifies the other: both halves of s, any message (property)', () => {
    const signers = PROVIDER_KINDS.map((k) => PROVIDERS[k].createSigner(key));
    assert.equal(full(signers[0]!.publicKey), full(signers[1]!.publicKey));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 130 }), fc.constantFrom(0, 1), (message, which) => {
        const sig = signers[which]!.sign('ecdsa_secp256r1_sha256', message);
        assert.equal(sig[0], 0x30);
        for (const v of [sig, flipS(sig)]) {
          for (const kind of PROVIDER_KINDS)
            assert.ok(PROVIDERS[kind].signatureVerifier.verify('ecdsa_secp256r1_sha256', signers[0]!.publicKey, message, v));
        }
        const other = concat(message, Uint8Array.of(0));
        for (const kind of PROVIDER_KINDS)
          assert.equal(PROVIDERS[kind].signatureVerifier.verify('ecdsa_secp256r1_sha256', signers[0]!.publicKey, other, sig), false);
      }),
      { numRuns: 3 },
    );
  });

  it('the portable signer hedges with the injected random source: replayed randomness replays the signature', () => {
    const seed = new Uint8Array(32).fill(7);
    const a = replayProvider('noble', seed).createSigner(key).sign('ecdsa_secp256r1_sha256', Uint8Array.of(1));
    const b = replayProvider('noble', seed).createSigner(key).sign('ecdsa_secp256r1_sha256', Uint8Array.of(1));
    assert.equal(full(a), full(b));
    const c = replayProvider('noble', new Uint8Array(32).fill(8)).createSigner(key).sign('ecdsa_secp256r1_sha256', Uint8Array.of(1));
    assert.notEqual(full(a), full(c));
  });
});

describe('signatures: RSA-PSS', () => {
  const message = new TextEncoder().encode('TLS 1.3, RSA-PSS test');
  const certSpki = certificatePublicKey(RFC8448_CERT);

  it('the node provider signs with the RFC 8448 key (rsa_pss_rsae_sha256); both providers verify', () => {
    const signer = PROVIDERS.node.createSigner(RFC8448_RSA);
    assert.equal(signer.keyType, 'rsa');
    // The key's public half is the one in the trace's certificate.
    assert.equal(full(signer.publicKey), full(certSpki));
    const sig = signer.sign('rsa_pss_rsae_sha256', message);
    assert.equal(sig.length, 128);
    for (const kind of PROVIDER_KINDS) {
      assert.ok(PROVIDERS[kind].signatureVerifier.verify('rsa_pss_rsae_sha256', certSpki, message, sig));
      assert.equal(PROVIDERS[kind].signatureVerifier.verify('rsa_pss_rsae_sha256', certSpki, message.subarray(1), sig), false);
      assert.throws(
        () => PROVIDERS[kind].signatureVerifier.verify('rsa_pss_pss_sha256', certSpki, message, sig),
        coded('ERR_KEY_SCHEME_MISMATCH'),
      );
    }
  });

  it('the portable provider does not sign with RSA: ERR_UNSUPPORTED_ALGORITHM', () => {
    assert.throws(() => PROVIDERS.noble.createSigner(RFC8448_RSA), coded('ERR_UNSUPPORTED_ALGORITHM'));
  });

  it('rsa_pss_pss_sha256 with an RSASSA-PSS key (the RFC 8448 key under the id-RSASSA-PSS OID)', () => {
    // PKCS#8 PrivateKeyInfo { version 0, AlgorithmIdentifier { 1.2.840.113549.1.1.10 }, OCTET STRING { RSAPrivateKey } }.
    const pkcs1 = new Uint8Array(
      createPrivateKey({ key: { kty: 'RSA', ...jwkOf(RFC8448_RSA) }, format: 'jwk' }).export({ type: 'pkcs1', format: 'der' }),
    );
    const octet = concat(Uint8Array.of(0x04, 0x82, pkcs1.length >> 8, pkcs1.length & 0xff), pkcs1);
    const body = concat(hex('020100'), hex('300b06092a864886f70d01010a'), octet);
    const pkcs8 = concat(Uint8Array.of(0x30, 0x82, body.length >> 8, body.length & 0xff), body);
    const signer = loadPrivateKey(pkcs8);
    assert.equal(signer.keyType, 'rsa-pss');
    assert.deepEqual(signer.schemes, ['rsa_pss_pss_sha256']);
    const info = readSubjectPublicKeyInfo(signer.publicKey);
    assert.equal(info.kind, 'rsa-pss');
    const sig = signer.sign('rsa_pss_pss_sha256', message);
    for (const kind of PROVIDER_KINDS) {
      assert.ok(PROVIDERS[kind].signatureVerifier.verify('rsa_pss_pss_sha256', signer.publicKey, message, sig));
      assert.throws(
        () => PROVIDERS[kind].signatureVerifier.verify('rsa_pss_rsae_sha256', signer.publicKey, message, sig),
        coded('ERR_KEY_SCHEME_MISMATCH'),
      );
    }
    assert.throws(() => signer.sign('rsa_pss_rsae_sha256', message), coded('ERR_KEY_SCHEME_MISMATCH'));
  });

  it('keys outside 1024..8192 bits are ERR_UNSUPPORTED_ALGORITHM in both providers', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 512 }).publicKey.export({ type: 'spki', format: 'der' });
    for (const kind of PROVIDER_KINDS) {
      assert.throws(
        () => PROVIDERS[kind].signatureVerifier.verify('rsa_pss_rsae_sha256', new Uint8Array(small), message, new Uint8Array(64)),
        coded('ERR_UNSUPPORTED_ALGORITHM'),
      );
    }
  });
});

function jwkOf(k: RawPrivateKey): Record<string, string> {
  assert.ok(k.type === 'rsa');
  const b = (x: Uint8Array) => Buffer.from(x).toString('base64url');
  return { n: b(k.n), e: b(k.e), d: b(k.d), p: b(k.p), q: b(k.q), dp: b(k.dp), dq: b(k.dq), qi: b(k.qi) };
}

describe('signatures: misuse and malformed input', () => {
  const ed = PROVIDERS.node.createSigner({ type: 'ed25519', privateKey: new Uint8Array(32).fill(3) });
  const ec = PROVIDERS.node.createSigner({ type: 'ecdsa-p256', privateKey: new Uint8Array(32).fill(4) });

  for (const kind of PROVIDER_KINDS) {
    const p: CryptoProvider = PROVIDERS[kind];
    it(`${kind}: a key that does not fit the scheme is ERR_KEY_SCHEME_MISMATCH`, () => {
      assert.throws(
        () => p.signatureVerifier.verify('ecdsa_secp256r1_sha256', ed.publicKey, Uint8Array.of(1), new Uint8Array(64)),
        coded('ERR_KEY_SCHEME_MISMATCH'),
      );
      assert.throws(
        () => p.signatureVerifier.verify('ed25519', ec.publicKey, Uint8Array.of(1), new Uint8Array(64)),
        coded('ERR_KEY_SCHEME_MISMATCH'),
      );
      const signer = p.createSigner({ type: 'ed25519', privateKey: new Uint8Array(32).fill(3) });
      assert.throws(() => signer.sign('ecdsa_secp256r1_sha256', Uint8Array.of(1)), coded('ERR_KEY_SCHEME_MISMATCH'));
      assert.throws(
        () => p.signatureVerifier.verify('rsa_pkcs1_sha256' as SignatureScheme, ed.publicKey, Uint8Array.of(1), new Uint8Array(64)),
        coded('ERR_UNSUPPORTED_ALGORITHM'),
      );
    });

    it(`${kind}: bad private keys are ERR_INVALID_PRIVATE_KEY`, () => {
      assert.throws(() => p.createSigner({ type: 'ed25519', privateKey: new Uint8Array(31) }), coded('ERR_INVALID_PRIVATE_KEY'));
      assert.throws(() => p.createSigner({ type: 'ecdsa-p256', privateKey: new Uint8Array(32) }), coded('ERR_INVALID_PRIVATE_KEY'));
      assert.throws(() => p.createSigner({ type: 'ecdsa-p256', privateKey: P256_N }), coded('ERR_INVALID_PRIVATE_KEY'));
    });

    it(`${kind}: malformed or wrong signatures are false, never an exception (property)`, () => {
      const message = Uint8Array.of(1, 2, 3);
      const good = ec.sign('ecdsa_secp256r1_sha256', message);
      const edGood = ed.sign('ed25519', message);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(), (junk, at) => {
          assert.equal(p.signatureVerifier.verify('ed25519', ed.publicKey, message, junk), false);
          const flipped = edGood.slice();
          flipped[at % flipped.length]! ^= 1 << (at % 8);
          assert.equal(p.signatureVerifier.verify('ed25519', ed.publicKey, message, flipped), false);
          const truncated = good.subarray(0, at % good.length);
          assert.equal(p.signatureVerifier.verify('ecdsa_secp256r1_sha256', ec.publicKey, message, truncated), false);
        }),
        { numRuns: kind === 'noble' ? 8 : 40 },
      );
      assert.equal(
        p.signatureVerifier.verify('ecdsa_secp256r1_sha256', ec.publicKey, message, concat(Uint8Array.of(0x30, 0x06, 2, 1, 0, 2, 1, 0))),
        false,
      );
      assert.equal(
        p.signatureVerifier.verify('rsa_pss_rsae_sha256', certificatePublicKey(RFC8448_CERT), message, new Uint8Array(128).fill(0xff)),
        false,
      );
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// DER and the Node loaders

describe('DER: SubjectPublicKeyInfo and certificates', () => {
  it('finds the RFC 8448 certificate key, as node:crypto X509Certificate does', () => {
    const ours = certificatePublicKey(RFC8448_CERT);
    assert.equal(full(ours), full(certificateSubjectPublicKeyInfo(RFC8448_CERT)));
    const info = readSubjectPublicKeyInfo(ours);
    assert.ok(info.kind === 'rsa');
    assert.equal(full(info.n), RFC8448.rsaKey.modulus);
    assert.equal(full(info.e), RFC8448.rsaKey.publicExponent);
  });

  it('reads the key kinds node:crypto generates; other curves are "unsupported", not errors', () => {
    const spki = (k: ReturnType<typeof generateKeyPairSync>['publicKey']) => new Uint8Array(k.export({ type: 'spki', format: 'der' }));
    assert.equal(readSubjectPublicKeyInfo(spki(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey)).kind, 'ecdsa-p256');
    assert.equal(readSubjectPublicKeyInfo(spki(generateKeyPairSync('ed25519').publicKey)).kind, 'ed25519');
    assert.equal(readSubjectPublicKeyInfo(spki(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey)).kind, 'unsupported');
    const p384 = spki(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey);
    for (const kind of PROVIDER_KINDS) {
      assert.throws(
        () => PROVIDERS[kind].signatureVerifier.verify('ecdsa_secp256r1_sha256', p384, Uint8Array.of(1), new Uint8Array(8)),
        coded('ERR_UNSUPPORTED_ALGORITHM'),
      );
    }
  });

  it('corruption: any bytes give a key, a certificate key, or a CryptoError', () => {
    const isCrypto = (e: unknown) => e instanceof CryptoError;
    checkCorruption((b) => certificatePublicKey(b), RFC8448_CERT, { isTypedError: isCrypto, numRuns: 100 });
    const spkis = [
      certificatePublicKey(RFC8448_CERT),
      ed25519SubjectPublicKeyInfo(new Uint8Array(32)),
      PROVIDERS.node.createSigner({ type: 'ecdsa-p256', privateKey: new Uint8Array(32).fill(5) }).publicKey,
    ];
    checkCorruption((b) => readSubjectPublicKeyInfo(b), spkis, { isTypedError: isCrypto, numRuns: 100 });
    // The verifiers take untrusted certificate keys: same rule, with a wrong signature.
    for (const kind of PROVIDER_KINDS) {
      checkCorruption((b) => PROVIDERS[kind].signatureVerifier.verify('ed25519', b, Uint8Array.of(1), new Uint8Array(64)), spkis[1]!, {
        isTypedError: isCrypto,
        numRuns: 30,
      });
    }
  });
});

describe('Node provider: loading keys and certificates', () => {
  const pem = (label: string, der: Uint8Array): string =>
    `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`;

  it('loads PEM and DER private keys (PKCS#8, SEC1, PKCS#1, encrypted PKCS#8) as signers', () => {
    const ed = generateKeyPairSync('ed25519');
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const message = Uint8Array.of(9, 9, 9);
    const cases: [string | Uint8Array, string | undefined, SignatureScheme][] = [
      [ed.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, undefined, 'ed25519'],
      [new Uint8Array(ed.privateKey.export({ type: 'pkcs8', format: 'der' })), undefined, 'ed25519'],
      [ec.privateKey.export({ type: 'sec1', format: 'pem' }) as string, undefined, 'ecdsa_secp256r1_sha256'],
      [new Uint8Array(ec.privateKey.export({ type: 'sec1', format: 'der' })), undefined, 'ecdsa_secp256r1_sha256'],
      [
        ec.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'pw' }) as string,
        'pw',
        'ecdsa_secp256r1_sha256',
      ],
      [
        new Uint8Array(
          createPrivateKey({ key: { kty: 'RSA', ...jwkOf(RFC8448_RSA) }, format: 'jwk' }).export({ type: 'pkcs1', format: 'der' }),
        ),
        undefined,
        'rsa_pss_rsae_sha256',
      ],
    ];
    for (const [key, passphrase, scheme] of cases) {
      const signer = loadPrivateKey(key, passphrase === undefined ? {} : { passphrase });
      assert.deepEqual(signer.schemes, [scheme]);
      const sig = signer.sign(scheme, message);
      for (const kind of PROVIDER_KINDS) assert.ok(PROVIDERS[kind].signatureVerifier.verify(scheme, signer.publicKey, message, sig));
    }
  });

  it('refuses keys it cannot load or use', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const encrypted = ec.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'pw' }) as string;
    assert.throws(() => loadPrivateKey(encrypted, { passphrase: 'wrong' }), coded('ERR_INVALID_PRIVATE_KEY'));
    assert.throws(() => loadPrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), coded('ERR_INVALID_PRIVATE_KEY'));
    assert.throws(() => loadPrivateKey(new Uint8Array([1, 2, 3])), coded('ERR_INVALID_PRIVATE_KEY'));
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    assert.throws(() => loadPrivateKey(p384), coded('ERR_UNSUPPORTED_ALGORITHM'));
  });

  it('loads certificate chains from PEM (in file order) or one DER certificate', () => {
    const text = `junk before\n${pem('CERTIFICATE', RFC8448_CERT)}${pem('CERTIFICATE', RFC8448_CERT)}`;
    const chain = loadCertificateChain(text);
    assert.equal(chain.length, 2);
    assert.equal(full(chain[0]!), full(RFC8448_CERT));
    assert.equal(full(loadCertificateChain(new TextEncoder().encode(text))[1]!), full(RFC8448_CERT));
    assert.equal(full(loadCertificateChain(RFC8448_CERT)[0]!), full(RFC8448_CERT));
    assert.equal(new X509Certificate(chain[0]!).subject, 'CN=rsa');
    assert.throws(() => loadCertificateChain('no certificate here'), coded('ERR_INVALID_CERTIFICATE'));
    assert.throws(() => loadCertificateChain(pem('CERTIFICATE', RFC8448_CERT.subarray(0, 100))), coded('ERR_INVALID_CERTIFICATE'));
    assert.throws(() => certificateSubjectPublicKeyInfo(Uint8Array.of(0x30, 0)), coded('ERR_INVALID_CERTIFICATE'));
  });
});
