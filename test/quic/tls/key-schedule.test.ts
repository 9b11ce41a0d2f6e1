/**
 * The key schedule and transcript hash (RFC 8446 sections 4.4.1 and 7) against the RFC 8448 traces,
 * run from the traces' own private keys through each provider's key exchange, plus SHA-384 against an
 * independent HKDF written here on node:crypto's HMAC.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { certificatePublicKey } from '../../../src/quic/crypto/der.js';
import type { CryptoProvider, HashAlgorithm } from '../../../src/quic/crypto/provider.js';
import { decodeHandshake, truncateClientHello, type ClientHello } from '../../../src/quic/tls/messages.js';
import {
  KeySchedule,
  Transcript,
  certificateVerifyContent,
  deriveSecret,
  exportKeyingMaterial,
  finishedKey,
  finishedVerifyData,
  resumptionPsk,
  tlsTrafficKeys,
  verifyFinished,
} from '../../../src/quic/tls/key-schedule.js';
import { RFC8448 } from '../../vectors/rfc8448.js';
import { PROVIDERS, PROVIDER_KINDS, concat, hex, replayProvider, toHex, type ProviderKind } from './support.js';

const full = (b: Uint8Array): string => toHex(b, 1 << 20);
const AES128 = 'TLS_AES_128_GCM_SHA256' as const;

/** Both sides' key shares from the trace's private keys, through the provider's generateKeyShare. */
function exchange(
  kind: ProviderKind,
  group: 'x25519' | 'secp256r1',
  v: { clientPrivate: string; clientPublic: string; serverPrivate: string; serverPublic: string; shared: string },
): Uint8Array {
  const client = replayProvider(kind, hex(v.clientPrivate)).generateKeyShare(group);
  const server = replayProvider(kind, hex(v.serverPrivate)).generateKeyShare(group);
  assert.equal(full(client.publicKey), v.clientPublic, 'client public key');
  assert.equal(full(server.publicKey), v.serverPublic, 'server public key');
  const fromClient = client.deriveSecret(server.publicKey);
  const fromServer = server.deriveSecret(client.publicKey);
  assert.equal(full(fromClient), v.shared, "client's shared secret");
  assert.equal(full(fromServer), v.shared, "server's shared secret");
  return fromClient;
}

/** The trace's server CertificateVerify must verify under the certificate's key. */
function checkCertificateVerify(p: CryptoProvider, certificate: string, certificateVerify: string, transcriptHash: Uint8Array): void {
  const cert = decodeHandshake(hex(certificate));
  const cv = decodeHandshake(hex(certificateVerify));
  assert.ok(cert.type === 'certificate' && cv.type === 'certificate_verify');
  const spki = certificatePublicKey(cert.certificateList[0]!.certData);
  const content = certificateVerifyContent('server', transcriptHash);
  assert.equal(content.length, 64 + 33 + 1 + 32);
  assert.ok(p.signatureVerifier.verify('rsa_pss_rsae_sha256', spki, content, cv.signature), 'the trace signature verifies');
  const tampered = content.slice();
  tampered[tampered.length - 1]! ^= 1;
  assert.equal(p.signatureVerifier.verify('rsa_pss_rsae_sha256', spki, tampered, cv.signature), false);
  // The client's context string must not verify: the signature is bound to the server role.
  assert.equal(
    p.signatureVerifier.verify('rsa_pss_rsae_sha256', spki, certificateVerifyContent('client', transcriptHash), cv.signature),
    false,
  );
}

for (const kind of PROVIDER_KINDS) {
  const p = PROVIDERS[kind];

  describe(`${kind} provider: RFC 8448 section 3, simple 1-RTT handshake`, () => {
    const s = RFC8448.simple;

    it('derives every secret, key, IV and Finished of the trace', () => {
      const shared = exchange(kind, 'x25519', {
        clientPrivate: s.clientPrivateKey,
        clientPublic: s.clientPublicKey,
        serverPrivate: s.serverPrivateKey,
        serverPublic: s.serverPublicKey,
        shared: s.sharedSecret,
      });
      const t = new Transcript(p);
      t.add(hex(s.clientHello));
      t.setHash('sha256');
      t.add(hex(s.serverHello));
      assert.equal(full(t.digest()), s.helloHash);

      const ks = new KeySchedule(p, 'sha256', null);
      assert.equal(full(ks.earlySecret), s.earlySecret);
      assert.equal(full(p.hash('sha256', new Uint8Array(0))), s.emptyHash);
      assert.equal(full(deriveSecret(p, 'sha256', ks.earlySecret, 'derived', hex(s.emptyHash))), s.derivedForHandshake);
      assert.equal(full(ks.toHandshake(shared)), s.handshakeSecret);
      const chs = ks.clientHandshakeTrafficSecret(t.digest());
      const shs = ks.serverHandshakeTrafficSecret(t.digest());
      assert.equal(full(chs), s.clientHandshakeTrafficSecret);
      assert.equal(full(shs), s.serverHandshakeTrafficSecret);
      assert.deepEqual(
        [tlsTrafficKeys(p, AES128, shs), tlsTrafficKeys(p, AES128, chs)].map((k) => [full(k.key), full(k.iv)]),
        [
          [s.serverHandshakeKey, s.serverHandshakeIv],
          [s.clientHandshakeKey, s.clientHandshakeIv],
        ],
      );

      t.add(hex(s.encryptedExtensions));
      t.add(hex(s.certificate));
      checkCertificateVerify(p, s.certificate, s.certificateVerify, t.digest());
      t.add(hex(s.certificateVerify));
      assert.equal(full(finishedKey(p, 'sha256', shs)), s.serverFinishedKey);
      const serverVerify = finishedVerifyData(p, 'sha256', shs, t.digest());
      assert.equal(full(serverVerify), s.serverVerifyData);
      assert.ok(verifyFinished(p, 'sha256', shs, t.digest(), hex(s.serverVerifyData)));
      assert.equal(verifyFinished(p, 'sha256', chs, t.digest(), hex(s.serverVerifyData)), false);
      t.add(hex(s.serverFinished));
      assert.equal(full(t.digest()), s.serverFinishedHash);

      assert.equal(full(deriveSecret(p, 'sha256', ks.handshakeSecret, 'derived', hex(s.emptyHash))), s.derivedForMaster);
      assert.equal(full(ks.toMaster()), s.masterSecret);
      const cap = ks.clientApplicationTrafficSecret(t.digest());
      const sap = ks.serverApplicationTrafficSecret(t.digest());
      assert.equal(full(cap), s.clientApplicationTrafficSecret);
      assert.equal(full(sap), s.serverApplicationTrafficSecret);
      assert.equal(full(ks.exporterMasterSecret(t.digest())), s.exporterMasterSecret);
      assert.deepEqual(
        [tlsTrafficKeys(p, AES128, sap), tlsTrafficKeys(p, AES128, cap)].map((k) => [full(k.key), full(k.iv)]),
        [
          [s.serverApplicationKey, s.serverApplicationIv],
          [s.clientApplicationKey, s.clientApplicationIv],
        ],
      );

      assert.equal(full(finishedKey(p, 'sha256', chs)), s.clientFinishedKey);
      assert.equal(full(finishedVerifyData(p, 'sha256', chs, t.digest())), s.clientVerifyData);
      t.add(hex(s.clientFinished));
      assert.equal(full(t.digest()), s.clientFinishedHash);
      const rms = ks.resumptionMasterSecret(t.digest());
      assert.equal(full(rms), s.resumptionMasterSecret);

      const nst = decodeHandshake(hex(s.newSessionTicket));
      assert.ok(nst.type === 'new_session_ticket');
      const psk = resumptionPsk(p, 'sha256', rms, nst.ticketNonce);
      assert.equal(full(psk), s.resumptionPsk);
      // Section 4 resumes this session: its PSK is this ticket's.
      assert.equal(full(psk), RFC8448.resumed.psk);
    });
  });

  describe(`${kind} provider: RFC 8448 section 4, resumed 0-RTT handshake`, () => {
    const r = RFC8448.resumed;

    it('derives the early secret, the PSK binder and the early traffic secrets', () => {
      const ks = new KeySchedule(p, 'sha256', hex(r.psk));
      assert.equal(full(ks.earlySecret), r.earlySecret);
      assert.equal(full(ks.binderKey('resumption')), r.binderKey);
      assert.equal(full(finishedKey(p, 'sha256', ks.binderKey('resumption'))), r.binderFinishedKey);

      const chBytes = hex(r.clientHello);
      const ch = decodeHandshake(chBytes) as ClientHello;
      const t = new Transcript(p);
      t.setHash('sha256');
      const binderHash = t.digestWith(truncateClientHello(chBytes, ch));
      assert.equal(full(binderHash), r.binderHash);
      assert.equal(full(ks.binder('resumption', binderHash)), r.binder);
      // An external PSK has its own label: the same key gives another binder.
      assert.notEqual(full(ks.binder('external', binderHash)), r.binder);

      t.add(chBytes);
      assert.equal(full(t.digest()), r.clientHelloHash);
      const early = ks.clientEarlyTrafficSecret(t.digest());
      assert.equal(full(early), r.clientEarlyTrafficSecret);
      assert.equal(full(ks.earlyExporterMasterSecret(t.digest())), r.earlyExporterMasterSecret);
      const keys = tlsTrafficKeys(p, AES128, early);
      assert.deepEqual([full(keys.key), full(keys.iv)], [r.clientEarlyKey, r.clientEarlyIv]);
    });

    it('derives the handshake and application secrets of the resumed session', () => {
      const shared = exchange(kind, 'x25519', {
        clientPrivate: r.clientPrivateKey,
        clientPublic: r.clientPublicKey,
        serverPrivate: r.serverPrivateKey,
        serverPublic: r.serverPublicKey,
        shared: r.sharedSecret,
      });
      const ks = new KeySchedule(p, 'sha256', hex(r.psk));
      const t = new Transcript(p);
      t.setHash('sha256');
      t.add(hex(r.clientHello));
      t.add(hex(r.serverHello));
      assert.equal(full(t.digest()), r.helloHash);
      assert.equal(full(ks.toHandshake(shared)), r.handshakeSecret);
      const chs = ks.clientHandshakeTrafficSecret(t.digest());
      const shs = ks.serverHandshakeTrafficSecret(t.digest());
      assert.deepEqual([full(chs), full(shs)], [r.clientHandshakeTrafficSecret, r.serverHandshakeTrafficSecret]);
      t.add(hex(r.encryptedExtensions));
      assert.equal(full(finishedVerifyData(p, 'sha256', shs, t.digest())), r.serverVerifyData);
      t.add(hex(r.serverFinished));
      assert.equal(full(t.digest()), r.serverFinishedHash);
      assert.equal(full(ks.toMaster()), r.masterSecret);
      assert.equal(full(ks.clientApplicationTrafficSecret(t.digest())), r.clientApplicationTrafficSecret);
      assert.equal(full(ks.serverApplicationTrafficSecret(t.digest())), r.serverApplicationTrafficSecret);
      assert.equal(full(ks.exporterMasterSecret(t.digest())), r.exporterMasterSecret);
      // TLS over TCP (the trace) sends EndOfEarlyData before the client Finished; QUIC does not (RFC 9001
      // section 8.3), but this transcript is the trace's.
      t.add(hex(r.endOfEarlyData));
      assert.equal(full(finishedVerifyData(p, 'sha256', chs, t.digest())), r.clientVerifyData);
      t.add(hex(r.clientFinished));
      assert.equal(full(t.digest()), r.clientFinishedHash);
      assert.equal(full(ks.resumptionMasterSecret(t.digest())), r.resumptionMasterSecret);
    });
  });

  describe(`${kind} provider: RFC 8448 section 5, HelloRetryRequest`, () => {
    const h = RFC8448.helloRetry;

    it('rewrites ClientHello1 as message_hash in the transcript (RFC 8446 section 4.4.1) and derives every secret', () => {
      // The client's first X25519 share is generated, then abandoned.
      const first = replayProvider(kind, hex(h.clientX25519PrivateKey)).generateKeyShare('x25519');
      assert.equal(full(first.publicKey), h.clientX25519PublicKey);
      const shared = exchange(kind, 'secp256r1', {
        clientPrivate: h.clientP256PrivateKey,
        clientPublic: h.clientP256PublicKey,
        serverPrivate: h.serverP256PrivateKey,
        serverPublic: h.serverP256PublicKey,
        shared: h.sharedSecret,
      });

      const t = new Transcript(p);
      // A client adds ClientHello1 before it knows the hash; the HelloRetryRequest names the suite.
      t.add(hex(h.clientHello1));
      t.setHash('sha256');
      t.replaceWithMessageHash();
      t.add(hex(h.helloRetryRequest));
      t.add(hex(h.clientHello2));
      t.add(hex(h.serverHello));
      assert.equal(full(t.digest()), h.helloHash);

      // Independently: Hash(message_hash || HRR || CH2 || SH) with message_hash = fe 00 00 20 || Hash(CH1).
      const synthetic = concat(hex('fe000020'), createHash('sha256').update(hex(h.clientHello1)).digest());
      const expected = createHash('sha256')
        .update(concat(synthetic, hex(h.helloRetryRequest), hex(h.clientHello2), hex(h.serverHello)))
        .digest('hex');
      assert.equal(full(t.digest()), expected);

      const ks = new KeySchedule(p, 'sha256');
      assert.equal(full(ks.earlySecret), h.earlySecret);
      assert.equal(full(ks.toHandshake(shared)), h.handshakeSecret);
      const chs = ks.clientHandshakeTrafficSecret(t.digest());
      const shs = ks.serverHandshakeTrafficSecret(t.digest());
      assert.deepEqual([full(chs), full(shs)], [h.clientHandshakeTrafficSecret, h.serverHandshakeTrafficSecret]);
      t.add(hex(h.encryptedExtensions));
      t.add(hex(h.certificate));
      checkCertificateVerify(p, h.certificate, h.certificateVerify, t.digest());
      t.add(hex(h.certificateVerify));
      assert.equal(full(finishedVerifyData(p, 'sha256', shs, t.digest())), h.serverVerifyData);
      t.add(hex(h.serverFinished));
      assert.equal(full(t.digest()), h.serverFinishedHash);
      assert.equal(full(ks.toMaster()), h.masterSecret);
      assert.equal(full(ks.clientApplicationTrafficSecret(t.digest())), h.clientApplicationTrafficSecret);
      assert.equal(full(ks.serverApplicationTrafficSecret(t.digest())), h.serverApplicationTrafficSecret);
      assert.equal(full(ks.exporterMasterSecret(t.digest())), h.exporterMasterSecret);
      assert.equal(full(finishedVerifyData(p, 'sha256', chs, t.digest())), h.clientVerifyData);
      t.add(hex(h.clientFinished));
      assert.equal(full(t.digest()), h.clientFinishedHash);
      assert.equal(full(ks.resumptionMasterSecret(t.digest())), h.resumptionMasterSecret);
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// SHA-384 and the exporter against an independent HKDF (node:crypto HMAC, RFC 5869 by hand)

function refExpand(hash: HashAlgorithm, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const out: number[] = [];
  let t = Buffer.alloc(0);
  for (let i = 1; out.length < length; i++) {
    t = createHmac(hash, prk)
      .update(t)
      .update(info)
      .update(Buffer.from([i]))
      .digest();
    out.push(...t);
  }
  return Uint8Array.from(out.slice(0, length));
}
function refLabel(hash: HashAlgorithm, secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  const l = Buffer.from(`tls13 ${label}`, 'latin1');
  return refExpand(
    hash,
    secret,
    concat(Uint8Array.of(length >> 8, length & 0xff, l.length), l, Uint8Array.of(context.length), context),
    length,
  );
}
const refExtract = (hash: HashAlgorithm, salt: Uint8Array, ikm: Uint8Array): Uint8Array =>
  new Uint8Array(createHmac(hash, salt).update(ikm).digest());
const refHash = (hash: HashAlgorithm, data: Uint8Array): Uint8Array => new Uint8Array(createHash(hash).update(data).digest());

describe('key schedule for SHA-256 and SHA-384 suites against an independent HKDF (property)', () => {
  for (const kind of PROVIDER_KINDS) {
    it(`${kind} provider`, () => {
      const p = PROVIDERS[kind];
      fc.assert(
        fc.property(
          fc.constantFrom<HashAlgorithm>('sha256', 'sha384'),
          fc.option(fc.uint8Array({ minLength: 1, maxLength: 64 }), { nil: null }),
          fc.uint8Array({ minLength: 32, maxLength: 66 }),
          fc.uint8Array({ maxLength: 40 }),
          (hash, psk, shared, messages) => {
            const len = hash === 'sha256' ? 32 : 48;
            const zeros = new Uint8Array(len);
            const empty = refHash(hash, new Uint8Array(0));
            const th = refHash(hash, messages);
            const early = refExtract(hash, new Uint8Array(0), psk ?? zeros);
            const hs = refExtract(hash, refLabel(hash, early, 'derived', empty, len), shared);
            const ms = refExtract(hash, refLabel(hash, hs, 'derived', empty, len), zeros);
            const ks = new KeySchedule(p, hash, psk);
            assert.equal(full(ks.earlySecret), full(early));
            assert.equal(full(ks.binderKey('external')), full(refLabel(hash, early, 'ext binder', empty, len)));
            assert.equal(full(ks.clientEarlyTrafficSecret(th)), full(refLabel(hash, early, 'c e traffic', th, len)));
            assert.equal(full(ks.toHandshake(shared)), full(hs));
            assert.equal(full(ks.serverHandshakeTrafficSecret(th)), full(refLabel(hash, hs, 's hs traffic', th, len)));
            assert.equal(full(ks.toMaster()), full(ms));
            assert.equal(full(ks.clientApplicationTrafficSecret(th)), full(refLabel(hash, ms, 'c ap traffic', th, len)));
            const rms = ks.resumptionMasterSecret(th);
            assert.equal(full(rms), full(refLabel(hash, ms, 'res master', th, len)));
            const fk = refLabel(hash, rms, 'finished', new Uint8Array(0), len);
            assert.equal(full(finishedVerifyData(p, hash, rms, th)), createHmac(hash, fk).update(th).digest('hex'));
            // RFC 8446 section 7.5: HKDF-Expand-Label(Derive-Secret(Secret, label, ""), "exporter", Hash(context), length).
            const exp = ks.exporterMasterSecret(th);
            const inner = refLabel(hash, exp, 'EXPORTER-test', empty, len);
            assert.equal(
              full(exportKeyingMaterial(p, hash, exp, 'EXPORTER-test', messages, 20)),
              full(refLabel(hash, inner, 'exporter', refHash(hash, messages), 20)),
            );
          },
        ),
        { numRuns: 30 },
      );
    });
  }

  it('psk_ke mode (no (EC)DHE) extracts Hash.length zeros into the handshake secret', () => {
    const p = PROVIDERS.noble;
    const a = new KeySchedule(p, 'sha384', new Uint8Array(48).fill(1));
    const b = new KeySchedule(p, 'sha384', new Uint8Array(48).fill(1));
    assert.equal(full(a.toHandshake(null)), full(b.toHandshake(new Uint8Array(48))));
  });
});

describe('transcript hash', () => {
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: equals the hash of the concatenated messages at every step, before and after setHash (property)`, () => {
      const p = PROVIDERS[kind];
      fc.assert(
        fc.property(
          fc.constantFrom<HashAlgorithm>('sha256', 'sha384'),
          fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 6 }),
          fc.nat(),
          (hash, messages, at) => {
            const t = new Transcript(p);
            const k = at % (messages.length + 1);
            messages.slice(0, k).forEach((m) => t.add(m));
            t.setHash(hash);
            messages.slice(k).forEach((m) => t.add(m));
            assert.equal(full(t.digest()), full(refHash(hash, concat(...messages))));
            const extra = Uint8Array.of(1, 2, 3);
            assert.equal(full(t.digestWith(extra)), full(refHash(hash, concat(...messages, extra))));
            // digest and digestWith do not change the state.
            assert.equal(full(t.digest()), full(refHash(hash, concat(...messages))));
            assert.equal(t.length, messages.length);
          },
        ),
        { numRuns: 40 },
      );
    });
  }

  it('refuses misuse with UsageError: digest before setHash, switching hash, message_hash after two messages', () => {
    const usage = (e: unknown) => (e as { code?: unknown }).code === 'ERR_USAGE';
    const t = new Transcript(PROVIDERS.node);
    assert.throws(() => t.digest(), usage);
    t.add(hex('0100000000'));
    t.setHash('sha256');
    t.setHash('sha256');
    assert.throws(() => t.setHash('sha384'), usage);
    t.add(hex('0200000000'));
    assert.throws(() => t.replaceWithMessageHash(), usage);
  });

  it('the key schedule refuses secrets out of order with UsageError', () => {
    const usage = (e: unknown) => (e as { code?: unknown }).code === 'ERR_USAGE';
    const ks = new KeySchedule(PROVIDERS.node, 'sha256');
    assert.throws(() => ks.clientHandshakeTrafficSecret(new Uint8Array(32)), usage);
    assert.throws(() => ks.toMaster(), usage);
    ks.toHandshake(new Uint8Array(32));
    assert.throws(() => ks.toHandshake(new Uint8Array(32)), usage);
    assert.throws(() => ks.clientApplicationTrafficSecret(new Uint8Array(32)), usage);
    assert.equal(ks.stage, 'handshake');
  });
});

describe('CertificateVerify content (RFC 8446 section 4.4.3)', () => {
  it('is 64 spaces, the context string, a zero byte and the transcript hash', () => {
    const hash = new Uint8Array(32).fill(0xab);
    const expected = concat(
      new Uint8Array(64).fill(0x20),
      new TextEncoder().encode('TLS 1.3, server CertificateVerify'),
      Uint8Array.of(0),
      hash,
    );
    assert.equal(full(certificateVerifyContent('server', hash)), full(expected));
    const client = certificateVerifyContent('client', new Uint8Array(48));
    assert.equal(client.length, 64 + 33 + 1 + 48);
    assert.equal(new TextDecoder().decode(client.subarray(64, 97)), 'TLS 1.3, client CertificateVerify');
  });
});
