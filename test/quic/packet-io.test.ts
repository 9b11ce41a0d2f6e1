/**
 * The receive and send pipelines (src/quic/packet-io.ts): RFC 9001 appendix A packets open to the frames
 * the RFC shows, builder -> protect -> open round trips for every suite, both versions and every pair of
 * providers, and corrupted datagrams that are dropped without a throw.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Writer } from '../../src/combinators/writer.js';
import { CIPHER_SUITES, type CipherSuite, type CryptoProvider } from '../../src/quic/crypto/provider.js';
import { TransportError } from '../../src/quic/errors.js';
import { frameAllowedIn, frameTypeCode, type Frame, type PacketType } from '../../src/quic/frame.js';
import { encodeVersionNegotiation, PacketBuilder, QUIC_V1, QUIC_V2, type BuiltDatagram } from '../../src/quic/packet.js';
import {
  createPacketKeys,
  initialPacketKeys,
  nextPacketKeys,
  type PacketKeys,
  type ProtectionContexts,
} from '../../src/quic/packet-protection.js';
import {
  openDatagram,
  oneRttOpenKeys,
  PacketOpener,
  packetNumberSpaceOf,
  protectDatagram,
  type OpenKeys,
  type OpenedPacket,
  type PacketResult,
  type ProtectKeys,
} from '../../src/quic/packet-io.js';
import { concat, hex, sameBytes } from '../support/bytes.js';
import { RFC9001 } from '../vectors/rfc9001.js';
import { A2_CRYPTO_FRAME, A3_PAYLOAD, A4_RETRY, A5_PACKET_NUMBER, A_CLIENT_DCID, A_SERVER_SCID } from '../vectors/rfc9001-frames.js';
import { PROVIDERS, SUITES } from './crypto/support.js';
import { anyFrame, plainValue } from './support/frames.js';

const [noble, node] = PROVIDERS as [CryptoProvider, CryptoProvider];
const CHACHA: CipherSuite = 'TLS_CHACHA20_POLY1305_SHA256';

function opened(r: PacketResult | undefined): OpenedPacket {
  assert.ok(r !== undefined, 'a result');
  assert.equal(r.status, 'opened', r.status === 'dropped' ? `dropped: ${r.reason}` : r.status);
  return r as OpenedPacket;
}

function statuses(rs: readonly PacketResult[]): string[] {
  return rs.map((r) => (r.status === 'dropped' ? `dropped:${r.reason}` : r.status));
}

/** Frames without PADDING (the builder adds PADDING of its own, and the decoder merges runs of it). */
function withoutPadding(frames: readonly Frame[]): Frame[] {
  return frames.filter((f) => f.type !== 'padding').map(plainValue);
}

// ---------------------------------------------------------------------------------------------------
// RFC 9001 appendix A

for (const provider of PROVIDERS) {
  describe(`RFC 9001 appendix A packets open (${provider.name})`, () => {
    const keys = initialPacketKeys(provider, QUIC_V1, hex(A_CLIENT_DCID));

    it('A.2: the client Initial opens to one CRYPTO frame and PADDING', () => {
      const datagram = hex(RFC9001.clientInitial.packet);
      const [r, more] = openDatagram(datagram, { initial: keys.client }, { shortDcidLength: 8 });
      assert.equal(more, undefined);
      const p = opened(r);
      assert.equal(p.header.kind, 'initial');
      assert.equal(p.space, 'initial');
      assert.equal(p.pn, RFC9001.clientInitial.pn);
      assert.equal(p.size, 1200);
      assert.ok(p.ackEliciting);
      // The CRYPTO frame as printed in the RFC: type 0x06, Offset 0 (1 byte), Length 0x40f1 (2 bytes), then the ClientHello.
      const frame = hex(A2_CRYPTO_FRAME);
      const padding = RFC9001.clientInitial.payloadLength - frame.length;
      assert.deepEqual(plainValue(p.frames), [
        { type: 'crypto', offset: 0, data: frame.subarray(4) },
        { type: 'padding', length: padding },
      ]);
      assert.equal(frame.length - 4, 0xf1);
      // In place: the header is now the RFC's unprotected header.
      assert.ok(sameBytes(datagram.subarray(0, 22), hex(RFC9001.clientInitial.header)));
    });

    it('A.3: the server Initial opens to ACK and CRYPTO', () => {
      const datagram = hex(RFC9001.serverInitial.packet);
      const results = openDatagram(datagram, { initial: keys.server }, { shortDcidLength: 8 });
      assert.equal(results.length, 1);
      const p = opened(results[0]);
      assert.equal(p.pn, RFC9001.serverInitial.pn);
      assert.ok(p.header.kind === 'initial' && sameBytes(p.header.scid, hex(A_SERVER_SCID)));
      // A3_PAYLOAD: ACK 02 | Largest 0 | Delay 0 | Range Count 0 | First Range 0, then CRYPTO 06 | Offset 0 | Length 0x405a.
      const payload = hex(A3_PAYLOAD);
      assert.deepEqual(plainValue(p.frames), [
        { type: 'ack', ackDelay: 0, ranges: [[0, 0]], ecn: null },
        { type: 'crypto', offset: 0, data: payload.subarray(9) },
      ]);
      assert.equal(payload.length - 9, 0x5a);
    });

    it('A.5: the ChaCha20 short-header packet opens to PING, given the largest packet number', () => {
      const v = RFC9001.chacha20;
      const k = createPacketKeys(provider, QUIC_V1, CHACHA, hex(v.secret));
      const datagram = hex(v.packet);
      const results = openDatagram(
        datagram,
        { oneRtt: oneRttOpenKeys(k, 0) },
        { shortDcidLength: 0, largestPn: { application: v.pn - 1 } },
      );
      const p = opened(results[0]);
      assert.equal(p.header.kind, '1rtt');
      assert.equal(p.space, 'application');
      assert.equal(p.pn, A5_PACKET_NUMBER);
      assert.equal(p.keyPhase, 0);
      assert.equal(p.firstByte, hex(v.header)[0]);
      assert.deepEqual(p.frames, [{ type: 'ping' }]);
    });

    it('A.5 with keys for the other key phase only: dropped, bytes restored', () => {
      const v = RFC9001.chacha20;
      const k = createPacketKeys(provider, QUIC_V1, CHACHA, hex(v.secret));
      const datagram = hex(v.packet);
      const results = openDatagram(datagram, { oneRtt: oneRttOpenKeys(k, 1) }, { shortDcidLength: 0 });
      assert.deepEqual(statuses(results), ['dropped:no-keys']);
      assert.ok(sameBytes(datagram, hex(v.packet)));
    });

    it('A.2 with the wrong keys or none: dropped, bytes as received', () => {
      const datagram = hex(RFC9001.clientInitial.packet);
      assert.deepEqual(statuses(openDatagram(datagram, { initial: keys.server }, { shortDcidLength: 8 })), ['dropped:aead']);
      assert.ok(sameBytes(datagram, hex(RFC9001.clientInitial.packet)));
      assert.deepEqual(statuses(openDatagram(datagram, { handshake: keys.client }, { shortDcidLength: 8 })), ['dropped:no-keys']);
      assert.ok(sameBytes(datagram, hex(RFC9001.clientInitial.packet)));
    });

    it('A.4 Retry and a Version Negotiation packet come back unprotected', () => {
      const [retry] = openDatagram(hex(A4_RETRY), {}, { shortDcidLength: 8 });
      assert.ok(retry?.status === 'unprotected' && retry.header.kind === 'retry');
      const w = new Writer();
      encodeVersionNegotiation(w, { dcid: hex('0102'), scid: hex('0304'), versions: [QUIC_V1, QUIC_V2] });
      const [vn] = openDatagram(w.toBytes(), {}, { shortDcidLength: 8 });
      assert.ok(vn?.status === 'unprotected' && vn.header.kind === 'version-negotiation');
      assert.deepEqual(vn.header.versions, [QUIC_V1, QUIC_V2]);
    });

    it('A.3 followed by bytes that do not parse: the packet opens, the rest is dropped as malformed', () => {
      // 0xc0 + version 1 + DCID length 25: over the v1 limit of 20 (RFC 9000 section 17.2).
      const datagram = concat(hex(RFC9001.serverInitial.packet), hex('c000000001 19'), new Uint8Array(30));
      const results = openDatagram(datagram, { initial: keys.server }, { shortDcidLength: 8 });
      assert.deepEqual(statuses(results), ['opened', 'dropped:malformed']);
      const bad = results[1]!;
      assert.ok(bad.status === 'dropped');
      assert.equal(bad.offset, 135);
      assert.equal(bad.size, datagram.length - 135);
      assert.equal(bad.error?.code, 'ERR_MALFORMED');
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// round trips

const DCID = hex('0011223344556677');
const SCID = hex('8899aabb');

interface Sides {
  readonly send: ProtectKeys;
  readonly open: OpenKeys;
}

function secretFor(suite: CipherSuite, seed: number): Uint8Array {
  return Uint8Array.from({ length: CIPHER_SUITES[suite].hashLength }, (_, i) => (i * 7 + seed) & 0xff);
}

/** The sender's and the receiver's keys: same secrets, each side's own provider and contexts. */
function sides(version: number, suite: CipherSuite, sender: CryptoProvider, receiver: CryptoProvider): Sides {
  const keysOf = (p: CryptoProvider, seed: number): PacketKeys => createPacketKeys(p, version, suite, secretFor(suite, seed));
  const ctx = (k: PacketKeys): ProtectionContexts => ({ aead: k.aead, hp: k.hp });
  const oneRtt = keysOf(receiver, 3);
  return {
    send: {
      initial: initialPacketKeys(sender, version, DCID).client,
      handshake: keysOf(sender, 1),
      zeroRtt: keysOf(sender, 2),
      oneRtt: keysOf(sender, 3),
    },
    open: {
      initial: initialPacketKeys(receiver, version, DCID).client,
      handshake: ctx(keysOf(receiver, 1)),
      zeroRtt: ctx(keysOf(receiver, 2)),
      oneRtt: oneRttOpenKeys(oneRtt, 0),
    },
  };
}

const ORDER: readonly PacketType[] = ['initial', '0rtt', 'handshake', '1rtt'];

/** 1 to 4 packets in coalescing order (long headers first, 1-RTT last), each with frames it may carry. */
const datagramSpec = fc
  .tuple(
    fc.subarray([...ORDER], { minLength: 1 }),
    fc.array(fc.array(anyFrame, { minLength: 1, maxLength: 5 }), { minLength: 4, maxLength: 4 }),
    fc.integer({ min: 0, max: 5000 }),
  )
  .map(([types, frameLists, firstPn]) =>
    types.map((type, i) => {
      const frames = frameLists[i]!.filter((f) => frameAllowedIn(frameTypeCode(f), type));
      return { type, frames: frames.length > 0 ? frames : [{ type: 'ping' } as Frame], pn: firstPn + i };
    }),
  );

type Spec = readonly { readonly type: PacketType; readonly frames: readonly Frame[]; readonly pn: number }[];

interface Built {
  readonly built: BuiltDatagram;
  /** Per packet in the datagram: its type, packet number, start offset and the frames that fit. */
  readonly packets: readonly { type: PacketType; pn: number; start: number; end: number; frames: Frame[] }[];
}

function build(spec: Spec, version: number, maxDatagramSize = 1500): Built {
  const b = new PacketBuilder({ maxDatagramSize, role: 'client' });
  const added: Frame[][] = [];
  const types: PacketType[] = [];
  for (const p of spec) {
    const started =
      p.type === '1rtt'
        ? b.startShort({ dcid: DCID, pn: p.pn, largestAcked: p.pn > 0 ? p.pn - 1 : null })
        : b.startLong({ type: p.type, version, dcid: DCID, scid: SCID, pn: p.pn });
    if (!started) break;
    const frames: Frame[] = [];
    for (const f of p.frames) if (b.addFrame(f)) frames.push(f);
    added.push(frames);
    types.push(p.type);
  }
  const built = b.finishDatagram();
  assert.ok(built !== null);
  // Packets with no frame are dropped by the builder: pair what was built with what was added.
  const nonEmpty = added.map((frames, i) => ({ frames, type: types[i]! })).filter((x) => x.frames.length > 0);
  assert.equal(built.packets.length, nonEmpty.length);
  return {
    built,
    packets: built.packets.map((p, i) => ({
      type: p.type,
      pn: p.pn,
      start: p.start,
      end: p.end,
      frames: nonEmpty[i]!.frames.map(plainValue),
    })),
  };
}

/** An opener that recovers the packet numbers of `spec` (the previous number in each space was received). */
function openerFor(spec: Spec): PacketOpener {
  const o = new PacketOpener({ shortDcidLength: DCID.length });
  for (const p of spec) o.largestPn[packetNumberSpaceOf(p.type)] = p.pn > 0 ? p.pn - 1 : null;
  return o;
}

const PAIRS: readonly [CryptoProvider, CryptoProvider][] = [
  [noble, noble],
  [noble, node],
  [node, noble],
  [node, node],
];

describe('build -> protect -> open round trips', () => {
  for (const version of [QUIC_V1, QUIC_V2]) {
    for (const suite of SUITES) {
      for (const [sender, receiver] of PAIRS) {
        it(`v${version === QUIC_V1 ? 1 : 2} ${suite}, ${sender.name} -> ${receiver.name}`, () => {
          const k = sides(version, suite, sender, receiver);
          fc.assert(
            fc.property(datagramSpec, (spec) => {
              const { built, packets } = build(spec, version);
              protectDatagram(built, k.send);
              const results = openerFor(spec).open(built.datagram, k.open);
              assert.equal(results.length, packets.length);
              results.forEach((r, i) => {
                const p = opened(r);
                const want = packets[i]!;
                assert.equal(p.header.kind, want.type);
                assert.equal(p.header.start, want.start);
                assert.equal(p.pn, want.pn);
                assert.deepEqual(withoutPadding(p.frames), withoutPadding(want.frames));
              });
            }),
            { numRuns: 15 },
          );
        });
      }
    }
  }

  it('an Initial-only client datagram is padded to 1200 bytes and opens', () => {
    const k = sides(QUIC_V1, 'TLS_AES_128_GCM_SHA256', node, noble);
    const b = new PacketBuilder({ maxDatagramSize: 1452, role: 'client' });
    b.startLong({ type: 'initial', version: QUIC_V1, dcid: DCID, scid: SCID, pn: 0 });
    b.addFrame({ type: 'crypto', offset: 0, data: new Uint8Array(300).fill(7) });
    const datagram = protectDatagram(b.finishDatagram()!, k.send);
    assert.equal(datagram.length, 1200);
    const [r] = openDatagram(datagram, k.open, { shortDcidLength: 8 });
    assert.deepEqual(withoutPadding(opened(r).frames), [{ type: 'crypto', offset: 0, data: new Uint8Array(300).fill(7) }]);
  });

  it('packet numbers are recovered across a 1-byte wrap, and largestPn follows', () => {
    const k = sides(QUIC_V1, CHACHA, noble, node);
    const opener = new PacketOpener({ shortDcidLength: 8 });
    const b = new PacketBuilder({ maxDatagramSize: 1200, role: 'server' });
    for (let pn = 250; pn < 262; pn++) {
      b.startShort({ dcid: DCID, pn, pnLength: 1 });
      b.addFrame({ type: 'ping' });
      const [r] = opener.open(protectDatagram(b.finishDatagram()!, k.send), k.open);
      assert.equal(opened(r).pn, pn);
      assert.equal(opener.largestPn.application, pn);
    }
    assert.equal(opener.largestPn.initial, null);
  });

  it('a key update: packets of the next key phase open with the other AEAD', () => {
    const secret = secretFor('TLS_AES_256_GCM_SHA384', 9);
    const send0 = createPacketKeys(node, QUIC_V1, 'TLS_AES_256_GCM_SHA384', secret);
    const send1 = nextPacketKeys(node, send0);
    const recv0 = createPacketKeys(noble, QUIC_V1, 'TLS_AES_256_GCM_SHA384', secret);
    const recv1 = nextPacketKeys(noble, recv0);
    const keys: OpenKeys = { oneRtt: oneRttOpenKeys(recv0, 0, recv1.aead) };
    const b = new PacketBuilder({ maxDatagramSize: 1200, role: 'server' });
    const opener = new PacketOpener({ shortDcidLength: 8 });
    b.startShort({ dcid: DCID, pn: 0 });
    b.addFrame({ type: 'ping' });
    assert.equal(opened(opener.open(protectDatagram(b.finishDatagram()!, { oneRtt: send0 }), keys)[0]).keyPhase, 0);
    b.startShort({ dcid: DCID, pn: 1, keyPhase: true });
    b.addFrame({ type: 'ping' });
    const p = opened(opener.open(protectDatagram(b.finishDatagram()!, { oneRtt: send1 }), keys)[0]);
    assert.equal(p.keyPhase, 1);
    assert.equal(p.pn, 1);
    // Phase 1 bit, but sealed with phase 0 keys: authentication fails.
    b.startShort({ dcid: DCID, pn: 2, keyPhase: true });
    b.addFrame({ type: 'ping' });
    assert.deepEqual(statuses(opener.open(protectDatagram(b.finishDatagram()!, { oneRtt: send0 }), keys)), ['dropped:aead']);
  });
});

// ---------------------------------------------------------------------------------------------------
// packets that authenticate but are connection errors; packets dropped before decryption

describe('invalid and dropped packets', () => {
  const k = sides(QUIC_V1, 'TLS_AES_128_GCM_SHA256', noble, node);

  /** An Initial with one PING whose payload byte and first byte are then rewritten before protection. */
  function initialWith(payloadByte: number, firstByteBits = 0): { datagram: Uint8Array; results: PacketResult[]; opener: PacketOpener } {
    const b = new PacketBuilder({ maxDatagramSize: 1200, role: 'server' });
    b.startLong({ type: 'initial', version: QUIC_V1, dcid: DCID, scid: SCID, pn: 5 });
    b.addFrame({ type: 'ping' });
    const built = b.finishDatagram()!;
    const p = built.packets[0]!;
    built.datagram[p.payloadOffset] = payloadByte;
    built.datagram[p.start] = built.datagram[p.start]! | firstByteBits;
    protectDatagram(built, k.send);
    const opener = new PacketOpener({ shortDcidLength: 8 });
    return { datagram: built.datagram, results: opener.open(built.datagram, k.open), opener };
  }

  function invalid(results: readonly PacketResult[]): TransportError {
    const r = results[0];
    assert.ok(r?.status === 'invalid', `got ${r?.status}`);
    assert.ok(r.error instanceof TransportError);
    assert.equal(r.pn, 5);
    return r.error;
  }

  it('a STREAM frame in an Initial: PROTOCOL_VIOLATION (RFC 9000 section 12.4)', () => {
    const { results, opener } = initialWith(0x08);
    const e = invalid(results);
    assert.equal(e.code, 'PROTOCOL_VIOLATION');
    assert.equal(e.frameType, 0x08);
    assert.equal(opener.largestPn.initial, null, 'an invalid packet does not advance the largest packet number');
  });

  it('an unknown frame type: FRAME_ENCODING_ERROR', () => {
    const e = invalid(initialWith(0x21).results);
    assert.equal(e.code, 'FRAME_ENCODING_ERROR');
    assert.equal(e.frameType, 0x21);
  });

  it('reserved bits set under protection: PROTOCOL_VIOLATION (RFC 9000 section 17.2)', () => {
    assert.equal(invalid(initialWith(0x01, 0x0c).results).code, 'PROTOCOL_VIOLATION');
  });

  it('a later packet with another Destination Connection ID is dropped (RFC 9000 section 12.2)', () => {
    const b = new PacketBuilder({ maxDatagramSize: 1200, role: 'server' });
    b.startLong({ type: 'initial', version: QUIC_V1, dcid: DCID, scid: SCID, pn: 0 });
    b.addFrame({ type: 'ping' });
    b.startLong({ type: 'handshake', version: QUIC_V1, dcid: hex('01'), scid: SCID, pn: 0 });
    b.addFrame({ type: 'ping' });
    const results = openDatagram(protectDatagram(b.finishDatagram()!, k.send), k.open, { shortDcidLength: 8 });
    assert.deepEqual(statuses(results), ['opened', 'dropped:dcid-mismatch']);
  });

  it('a 1-RTT packet too short to sample is dropped as short', () => {
    const datagram = concat(hex('41'), DCID, hex('000102'));
    assert.deepEqual(statuses(openDatagram(datagram, k.open, { shortDcidLength: 8 })), ['dropped:short']);
    assert.ok(sameBytes(datagram, concat(hex('41'), DCID, hex('000102'))));
  });

  it('protectDatagram without the keys of a packet type is a usage error and changes nothing', () => {
    const b = new PacketBuilder({ maxDatagramSize: 1200, role: 'server' });
    b.startLong({ type: 'initial', version: QUIC_V1, dcid: DCID, scid: SCID, pn: 0 });
    b.addFrame({ type: 'ping' });
    b.startLong({ type: 'handshake', version: QUIC_V1, dcid: DCID, scid: SCID, pn: 0 });
    b.addFrame({ type: 'ping' });
    const built = b.finishDatagram()!;
    const before = built.datagram.slice();
    assert.throws(
      () => protectDatagram(built, { initial: k.send.initial ?? null }),
      (e: unknown) => (e as { code?: unknown }).code === 'ERR_USAGE',
    );
    assert.ok(sameBytes(built.datagram, before));
  });

  it('an empty datagram is one malformed drop', () => {
    const [r, more] = openDatagram(new Uint8Array(0), k.open, { shortDcidLength: 8 });
    assert.equal(more, undefined);
    assert.ok(r?.status === 'dropped' && r.reason === 'malformed' && r.error?.code === 'ERR_UNEXPECTED_END');
  });
});

// ---------------------------------------------------------------------------------------------------
// corruption

type Corruption =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'overwrite'; at: number; bytes: Uint8Array }
  | { kind: 'random'; bytes: Uint8Array };

const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ minLength: 0, maxLength: 1300 }) }),
);

/** Applies `c` to a copy of `d`. */
function corrupt(d: Uint8Array, c: Corruption): Uint8Array {
  switch (c.kind) {
    case 'flip': {
      const bytes = d.slice();
      const at = c.at % d.length;
      bytes[at] = bytes[at]! ^ (1 << c.bit);
      return bytes;
    }
    case 'truncate':
      return d.slice(0, c.at % d.length);
    case 'overwrite': {
      const bytes = d.slice();
      const at = c.at % d.length;
      bytes.set(c.bytes.subarray(0, d.length - at), at);
      return bytes;
    }
    case 'random':
      return c.bytes.slice();
  }
}

describe('corrupted datagrams', () => {
  for (const [sender, receiver] of PAIRS) {
    it(`never throw, never open a changed packet, restore dropped bytes (${sender.name} -> ${receiver.name})`, () => {
      const k = sides(QUIC_V1, 'TLS_AES_128_GCM_SHA256', sender, receiver);
      fc.assert(
        fc.property(datagramSpec, corruption, (spec, c) => {
          const { built, packets } = build(spec, QUIC_V1);
          protectDatagram(built, k.send);
          const original = built.datagram.slice();
          const bytes = corrupt(original, c);
          const received = bytes.slice();
          let results: PacketResult[] = [];
          assert.doesNotThrow(() => {
            results = openerFor(spec).open(bytes, k.open);
          });
          for (const r of results) {
            assert.ok(['opened', 'invalid', 'dropped', 'unprotected'].includes(r.status));
            // What we built authenticates only unchanged, and its frames are valid: never 'invalid'.
            assert.notEqual(r.status, 'invalid');
            if (r.status === 'opened') {
              // Only a packet that was built there and arrived unchanged can open, to what was built.
              const { start, end } = r.header;
              const want = packets.find((p) => p.start === start && p.end === end);
              assert.ok(
                want !== undefined && sameBytes(received.subarray(start, end), original.subarray(start, end)),
                'a changed packet opened',
              );
              assert.deepEqual(withoutPadding(r.frames), withoutPadding(want.frames));
            }
            if (r.status === 'dropped' && r.header !== null) {
              const { start, end } = r.header;
              assert.ok(sameBytes(bytes.subarray(start, end), received.subarray(start, end)), `${r.reason}: bytes not restored`);
            }
          }
        }),
        { numRuns: 150 },
      );
    });
  }
});
