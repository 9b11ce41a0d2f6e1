/**
 * QUIC packet protection against RFC 9001 Appendix A (v1) and RFC 9369
 * Appendix A (v2), for every crypto provider, plus round-trip, corruption and
 * provider-agreement properties.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CIPHER_SUITES } from '../../src/quic/crypto/provider.js';
import type { CipherSuite, CryptoProvider, PacketNumber } from '../../src/quic/crypto/provider.js';
import {
  QUIC_V1,
  QUIC_V2,
  createPacketKeys,
  decryptPayload,
  deriveKeys,
  initialPacketKeys,
  initialSecrets,
  isSupportedVersion,
  nextGenerationSecret,
  nextPacketKeys,
  protect,
  quicVersionParams,
  removeHeaderProtection,
  retryIntegrityTag,
  unprotect,
  verifyRetryIntegrity,
} from '../../src/quic/packet-protection.js';
import type { InitialPacketVectors, PacketProtectionVectors } from '../vectors/rfc9001.js';
import { RFC9001 } from '../vectors/rfc9001.js';
import { RFC9369 } from '../vectors/rfc9369.js';
import { PROVIDERS, SUITES, hex, toHex } from './crypto/support.js';

const VECTORS: readonly [string, PacketProtectionVectors][] = [
  ['RFC 9001 (v1)', RFC9001],
  ['RFC 9369 (v2)', RFC9369],
];
const CHACHA: CipherSuite = 'TLS_CHACHA20_POLY1305_SHA256';
const [noble, node] = PROVIDERS as [CryptoProvider, CryptoProvider];

function usage(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => (e as { code?: unknown }).code === 'ERR_USAGE');
}

/** The packet number length is in the low two bits of the first byte (RFC 9000 section 17). */
function pnLengthOf(header: Uint8Array): number {
  return (header[0]! & 0x03) + 1;
}

/** header || frames || PADDING up to payloadLength || 16 bytes of room for the tag. */
function unprotectedPacket(v: InitialPacketVectors): { buf: Uint8Array; pnOffset: number; pnLength: number; payloadEnd: number } {
  const header = hex(v.header);
  const frames = hex(v.frames);
  const buf = new Uint8Array(header.length + v.payloadLength + 16);
  buf.set(header);
  buf.set(frames, header.length);
  const pnLength = pnLengthOf(header);
  return { buf, pnOffset: header.length - pnLength, pnLength, payloadEnd: header.length + v.payloadLength };
}

const fixed = (pn: number) => (): PacketNumber => pn;

for (const p of PROVIDERS) {
  for (const [name, v] of VECTORS) {
    describe(`${name} Appendix A with the ${p.name} provider`, () => {
      it('A.1: Initial secrets, keys, IVs and hp keys', () => {
        const s = initialSecrets(p, v.version, hex(v.dcid));
        assert.equal(toHex(s.client), v.client.secret);
        assert.equal(toHex(s.server), v.server.secret);
        for (const [secret, expected] of [
          [s.client, v.client],
          [s.server, v.server],
        ] as const) {
          const m = deriveKeys(p, v.version, 'TLS_AES_128_GCM_SHA256', secret);
          assert.equal(toHex(m.key), expected.key);
          assert.equal(toHex(m.iv), expected.iv);
          assert.equal(toHex(m.hp), expected.hp);
        }
      });

      for (const [section, side] of [
        ['A.2: client Initial', 'clientInitial'],
        ['A.3: server Initial', 'serverInitial'],
      ] as const) {
        it(`${section}: protect gives the protected packet byte for byte`, () => {
          const vec = v[side];
          const keys = initialPacketKeys(p, v.version, hex(v.dcid))[side === 'clientInitial' ? 'client' : 'server'];
          const { buf, pnOffset, pnLength, payloadEnd } = unprotectedPacket(vec);
          assert.equal(protect(buf, pnOffset, pnLength, payloadEnd, vec.pn, keys), buf.length);
          assert.equal(toHex(buf.subarray(pnOffset + 4, pnOffset + 20)), vec.sample);
          assert.equal(toHex(buf), vec.packet);
        });

        it(`${section}: unprotect gives back the header and payload`, () => {
          const vec = v[side];
          const keys = initialPacketKeys(p, v.version, hex(v.dcid))[side === 'clientInitial' ? 'client' : 'server'];
          const packet = hex(vec.packet);
          const header = hex(vec.header);
          const pnLength = pnLengthOf(header);
          const r = unprotect(packet, header.length - pnLength, keys, (truncated, length) => {
            assert.equal(truncated, vec.pn);
            assert.equal(length, pnLength);
            return vec.pn;
          });
          assert.ok(r.ok);
          assert.equal(r.pnLength, pnLength);
          assert.equal(r.truncatedPn, vec.pn);
          assert.equal(r.pn, vec.pn);
          assert.equal(r.firstByte, header[0]);
          assert.equal(toHex(packet.subarray(0, header.length)), vec.header);
          const payload = new Uint8Array(vec.payloadLength);
          payload.set(hex(vec.frames));
          assert.deepEqual(r.payload, payload);
          // The payload is a view into the packet buffer.
          assert.equal(r.payload.buffer, packet.buffer);
        });
      }

      it('A.4: Retry integrity tag', () => {
        const retry = hex(v.retry);
        const dcid = hex(v.dcid);
        assert.equal(verifyRetryIntegrity(p, v.version, dcid, retry), true);
        assert.equal(
          toHex(retryIntegrityTag(p, v.version, dcid, retry.subarray(0, retry.length - 16))),
          toHex(retry.subarray(retry.length - 16)),
        );
        // Wrong original DCID, wrong version, any flipped bit, truncated: rejected.
        assert.equal(verifyRetryIntegrity(p, v.version, hex('8394c8f03e515709'), retry), false);
        assert.equal(verifyRetryIntegrity(p, v.version === QUIC_V1 ? QUIC_V2 : QUIC_V1, dcid, retry), false);
        for (let i = 0; i < retry.length; i++) {
          const bad = retry.slice();
          bad[i]! ^= 0x10;
          assert.equal(verifyRetryIntegrity(p, v.version, dcid, bad), false, `flip at ${i}`);
        }
        assert.equal(verifyRetryIntegrity(p, v.version, dcid, retry.subarray(0, 15)), false);
        assert.equal(verifyRetryIntegrity(p, v.version, dcid, retry.subarray(1)), false);
      });

      it('A.5: ChaCha20-Poly1305 keys, key update secret, and the short header packet', () => {
        const c = v.chacha20;
        const m = deriveKeys(p, v.version, CHACHA, hex(c.secret));
        assert.equal(toHex(m.key), c.key);
        assert.equal(toHex(m.iv), c.iv);
        assert.equal(toHex(m.hp), c.hp);
        assert.equal(toHex(nextGenerationSecret(p, v.version, CHACHA, hex(c.secret))), c.ku);

        const keys = createPacketKeys(p, v.version, CHACHA, hex(c.secret));
        const header = hex(c.header);
        const buf = new Uint8Array(header.length + 1 + 16);
        buf.set(header);
        buf.set(hex(c.plaintext), header.length);
        const pnLength = pnLengthOf(header);
        const pnOffset = header.length - pnLength;
        assert.equal(protect(buf, pnOffset, pnLength, header.length + 1, c.pn, keys), 21);
        assert.equal(toHex(buf), c.packet);
        assert.equal(toHex(buf.subarray(0, header.length)), c.protectedHeader);

        const packet = hex(c.packet);
        const r = unprotect(packet, pnOffset, keys, fixed(c.pn));
        assert.ok(r.ok);
        // 654360564 encoded on 3 bytes is 49140 (0x00bff4).
        assert.equal(r.truncatedPn, 49140);
        assert.equal(r.pnLength, 3);
        assert.equal(toHex(r.payload), c.plaintext);
        assert.equal(toHex(packet.subarray(0, 4)), c.header);
      });

      it('key update (RFC 9001 section 6.1): the next keys come from the ku secret, keep the hp key, and differ at each step', () => {
        const c = v.chacha20;
        const k0 = createPacketKeys(p, v.version, CHACHA, hex(c.secret));
        const k1 = nextPacketKeys(p, k0);
        const k2 = nextPacketKeys(p, k1);
        assert.equal(toHex(k1.secret), c.ku);
        assert.equal(k1.hp, k0.hp);
        assert.equal(k2.hp, k0.hp);
        assert.notEqual(toHex(k2.secret), toHex(k1.secret));
        assert.notEqual(toHex(k2.secret), toHex(k0.secret));
        // The key and IV of generation 1 are those of the ku secret.
        const m1 = deriveKeys(p, v.version, CHACHA, hex(c.ku));
        const seal = (aeadKeys: { aead: { seal: (pn: number, a: Uint8Array, pt: Uint8Array, o: Uint8Array) => number } }) => {
          const out = new Uint8Array(20);
          aeadKeys.aead.seal(1, new Uint8Array(3), new Uint8Array(4), out);
          return toHex(out);
        };
        assert.equal(seal(k1), seal({ aead: p.aead(CHACHA, m1.key, m1.iv) }));
        assert.notEqual(seal(k1), seal(k0));
        assert.notEqual(seal(k2), seal(k1));
        // A packet protected with generation 1 does not open with generation 0 or 2, and the failure leaves it intact.
        const buf = new Uint8Array(4 + 10 + 16);
        buf.set([0x41, 0x00, 0x00, 0x07]);
        const end = protect(buf, 1, 2, 14, 7, k1);
        const sent = buf.slice(0, end);
        for (const wrong of [k0, k2]) {
          const copy = sent.slice();
          assert.deepEqual(unprotect(copy, 1, wrong, fixed(7)), { ok: false, reason: 'aead' });
          assert.deepEqual(copy, sent);
        }
        assert.ok(unprotect(sent.slice(), 1, k1, fixed(7)).ok);
      });
    });
  }
}

describe('key derivation agrees between providers', () => {
  it('key update secrets and keys of every suite and version (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SUITES),
        fc.constantFrom(QUIC_V1, QUIC_V2),
        fc.uint8Array({ minLength: 48, maxLength: 48 }),
        (suite, version, raw) => {
          const secret = raw.subarray(0, CIPHER_SUITES[suite].hashLength);
          let a = createPacketKeys(noble, version, suite, secret);
          let b = createPacketKeys(node, version, suite, secret);
          for (let i = 0; i < 3; i++) {
            a = nextPacketKeys(noble, a);
            b = nextPacketKeys(node, b);
            assert.equal(toHex(a.secret), toHex(b.secret));
            assert.equal(a.secret.length, CIPHER_SUITES[suite].hashLength);
          }
          const ma = deriveKeys(noble, version, suite, a.secret);
          const mb = deriveKeys(node, version, suite, b.secret);
          assert.deepEqual([toHex(ma.key), toHex(ma.iv), toHex(ma.hp)], [toHex(mb.key), toHex(mb.iv), toHex(mb.hp)]);
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('versions', () => {
  it('knows v1 and v2 only, and hands out copies of its constants', () => {
    assert.equal(isSupportedVersion(QUIC_V1), true);
    assert.equal(isSupportedVersion(QUIC_V2), true);
    assert.equal(isSupportedVersion(0xff00001d), false);
    assert.equal(quicVersionParams(0x1a2a3a4a), undefined);
    const v1 = quicVersionParams(QUIC_V1)!;
    assert.equal(toHex(v1.initialSalt), '38762cf7f55934b34d179ae6a4c80cadccbb7f0a');
    v1.initialSalt.fill(0);
    assert.equal(toHex(quicVersionParams(QUIC_V1)!.initialSalt), '38762cf7f55934b34d179ae6a4c80cadccbb7f0a');
    usage(() => initialSecrets(noble, 0x1a2a3a4a, new Uint8Array(8)));
  });

  it('the v2 Retry key and nonce derive from the v2 retry secret with the quicv2 labels (RFC 9369 section 3.3.3)', () => {
    const secret = hex('c4dd2484d681aefa4ff4d69c2c20299984a765a5d3c31982f38fc74162155e9f');
    const m = deriveKeys(noble, QUIC_V2, 'TLS_AES_128_GCM_SHA256', secret);
    const v2 = quicVersionParams(QUIC_V2)!;
    assert.equal(toHex(m.key), toHex(v2.retryKey));
    assert.equal(toHex(m.iv), toHex(v2.retryNonce));
  });
});

/** A random packet: long or short header, pn length 1..4, payload long enough to sample. */
const packetArb = fc
  .record({
    long: fc.boolean(),
    pnLength: fc.integer({ min: 1, max: 4 }),
    headerRest: fc.uint8Array({ minLength: 0, maxLength: 40 }),
    payload: fc.uint8Array({ minLength: 3, maxLength: 300 }),
    pn: fc.oneof(fc.nat(), fc.maxSafeNat(), fc.bigInt({ min: 0n, max: 2n ** 62n - 1n })),
    low: fc.integer({ min: 0, max: 0x3f }),
  })
  .filter((r) => r.pnLength + r.payload.length >= 4);

function buildPacket(r: { long: boolean; pnLength: number; headerRest: Uint8Array; payload: Uint8Array; pn: PacketNumber; low: number }) {
  const pnOffset = 1 + r.headerRest.length;
  const buf = new Uint8Array(pnOffset + r.pnLength + r.payload.length + 16);
  buf[0] = (r.long ? 0xc0 : 0x40) | (r.low & (r.long ? 0x0c : 0x1c)) | (r.pnLength - 1);
  buf.set(r.headerRest, 1);
  const truncated = Number(BigInt(r.pn) % 2n ** BigInt(8 * r.pnLength));
  for (let i = 0; i < r.pnLength; i++) buf[pnOffset + i] = Math.floor(truncated / 256 ** (r.pnLength - 1 - i)) & 0xff;
  buf.set(r.payload, pnOffset + r.pnLength);
  return { buf, pnOffset, payloadEnd: pnOffset + r.pnLength + r.payload.length, truncated };
}

function keysFor(p: CryptoProvider, suite: CipherSuite, version: number) {
  return createPacketKeys(p, version, suite, new Uint8Array(CIPHER_SUITES[suite].hashLength).fill(0x42));
}

describe('protect / unprotect properties', () => {
  for (const p of PROVIDERS) {
    for (const suite of SUITES) {
      it(`${p.name} ${suite}: unprotect(protect(packet)) gives back header, packet number and payload`, () => {
        const keys = keysFor(p, suite, QUIC_V1);
        fc.assert(
          fc.property(packetArb, (r) => {
            const { buf, pnOffset, payloadEnd, truncated } = buildPacket(r);
            const original = buf.slice(0, payloadEnd);
            const end = protect(buf, pnOffset, r.pnLength, payloadEnd, r.pn, keys);
            assert.equal(end, buf.length);
            const res = unprotect(buf, pnOffset, keys, (t, l) => {
              assert.equal(t, truncated);
              assert.equal(l, r.pnLength);
              return r.pn;
            });
            assert.ok(res.ok);
            assert.equal(res.truncatedPn, truncated);
            assert.equal(res.firstByte, original[0]);
            assert.deepEqual(buf.subarray(0, pnOffset + r.pnLength), original.subarray(0, pnOffset + r.pnLength));
            assert.deepEqual(res.payload, r.payload);
          }),
          { numRuns: 40 },
        );
      });
    }

    it(`${p.name}: any corruption of a protected packet fails cleanly and leaves the bytes as received (property)`, () => {
      const cases = VECTORS.flatMap(([, v]) => {
        const keys = initialPacketKeys(p, v.version, hex(v.dcid));
        const chacha = createPacketKeys(p, v.version, CHACHA, hex(v.chacha20.secret));
        const offset = (h: string) => hex(h).length - pnLengthOf(hex(h));
        return [
          { packet: hex(v.clientInitial.packet), pnOffset: offset(v.clientInitial.header), keys: keys.client, pn: v.clientInitial.pn },
          { packet: hex(v.serverInitial.packet), pnOffset: offset(v.serverInitial.header), keys: keys.server, pn: v.serverInitial.pn },
          { packet: hex(v.chacha20.packet), pnOffset: offset(v.chacha20.header), keys: chacha, pn: v.chacha20.pn },
        ];
      });
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: cases.length - 1 }),
          fc.uniqueArray(fc.nat({ max: 1199 * 8 + 7 }), { minLength: 1, maxLength: 8 }),
          (which, bits) => {
            const c = cases[which]!;
            const packet = c.packet.slice();
            for (const bit of bits) packet[(bit >>> 3) % packet.length]! ^= 1 << (bit & 7);
            if (toHex(packet) === toHex(c.packet)) return; // flips that cancel out (same byte and bit modulo the length)
            const received = packet.slice();
            const r = unprotect(packet, c.pnOffset, c.keys, fixed(c.pn));
            assert.equal(r.ok, false);
            assert.deepEqual(packet, received);
          },
        ),
        { numRuns: 150 },
      );
    });

    it(`${p.name}: truncated packets and random bytes give { ok: false }, never an exception (property)`, () => {
      const v = RFC9001;
      const keys = initialPacketKeys(p, v.version, hex(v.dcid)).client;
      const whole = hex(v.clientInitial.packet);
      fc.assert(
        fc.property(
          fc.nat({ max: whole.length - 1 }),
          fc.uint8Array({ maxLength: 120 }),
          fc.integer({ min: 1, max: 60 }),
          (cut, junk, pnOffset) => {
            const truncated = whole.slice(0, cut);
            const r1 = unprotect(truncated, 18, keys, fixed(2));
            assert.equal(r1.ok, false);
            if (cut < 18 + 20) assert.deepEqual(r1, { ok: false, reason: 'short' });
            const r2 = unprotect(junk, pnOffset, keys, fixed(0));
            assert.equal(r2.ok, false);
            if (junk.length < pnOffset + 20) assert.deepEqual(r2, { ok: false, reason: 'short' });
          },
        ),
        { numRuns: 150 },
      );
    });
  }

  it('noble and node protect every packet to the same bytes (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SUITES), fc.constantFrom(QUIC_V1, QUIC_V2), packetArb, (suite, version, r) => {
        const a = buildPacket(r);
        const b = buildPacket(r);
        protect(a.buf, a.pnOffset, r.pnLength, a.payloadEnd, r.pn, keysFor(noble, suite, version));
        protect(b.buf, b.pnOffset, r.pnLength, b.payloadEnd, r.pn, keysFor(node, suite, version));
        assert.equal(toHex(a.buf), toHex(b.buf));
      }),
      { numRuns: 60 },
    );
  });
});

describe('two-step unprotect and misuse', () => {
  const keys = initialPacketKeys(noble, QUIC_V1, hex(RFC9001.dcid)).client;

  it('removeHeaderProtection + decryptPayload equal unprotect', () => {
    const packet = hex(RFC9001.clientInitial.packet);
    const h = removeHeaderProtection(packet, 18, keys.hp);
    assert.deepEqual(h, { ok: true, firstByte: 0xc3, pnLength: 4, truncatedPn: 2 });
    const d = decryptPayload(packet, 18, 4, 2, keys.aead);
    assert.ok(d.ok);
    assert.equal(toHex(d.payload.subarray(0, hex(RFC9001.clientInitial.frames).length)), RFC9001.clientInitial.frames);
    assert.equal(d.payload.length, 1162);
  });

  it('a packet one byte too short for the sample is "short" and untouched (RFC 9001 section 5.4.2)', () => {
    const packet = hex(RFC9001.chacha20.packet).subarray(0, 1 + 4 + 15);
    const copy = packet.slice();
    const chacha = createPacketKeys(noble, QUIC_V1, CHACHA, hex(RFC9001.chacha20.secret));
    assert.deepEqual(removeHeaderProtection(packet, 1, chacha.hp), { ok: false, reason: 'short' });
    assert.deepEqual(unprotect(packet, 1, chacha, fixed(0)), { ok: false, reason: 'short' });
    assert.deepEqual(packet, copy);
  });

  it('protect refuses inconsistent arguments with ERR_USAGE', () => {
    const fresh = () => {
      const { buf, pnOffset, pnLength, payloadEnd } = unprotectedPacket(RFC9001.clientInitial);
      return { buf, pnOffset, pnLength, payloadEnd };
    };
    const a = fresh();
    usage(() => protect(a.buf, a.pnOffset, 2, a.payloadEnd, 2, keys)); // first byte says 4
    usage(() => protect(a.buf, a.pnOffset, a.pnLength, a.buf.length, 2, keys)); // no room for the tag
    usage(() => protect(a.buf, 0, a.pnLength, a.payloadEnd, 2, keys));
    usage(() => protect(a.buf, a.pnOffset, a.pnLength, a.pnOffset, 2, keys)); // payload ends inside the header
    // pn + payload of 3 bytes: too short to sample (RFC 9001 section 5.4.2).
    const small = new Uint8Array(1 + 1 + 2 + 16);
    small[0] = 0x40;
    usage(() => protect(small, 1, 1, 4, 0, keys));
    usage(() => protect(a.buf, a.pnOffset, a.pnLength, a.payloadEnd, -1, keys));
    usage(() => removeHeaderProtection(a.buf, -1, keys.hp));
  });
});
