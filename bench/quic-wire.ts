/**
 * Benchmarks of the QUIC wire layer's per-packet pipelines (src/quic/packet-io.ts),
 * each against raw AES-128-GCM of the same provider family in the same process:
 *
 * - open ("unprotect + parse frames"): `PacketOpener.open` on a protected 1-RTT
 *   datagram (header protection off, AEAD open, packet number recovery, frame
 *   decoding) vs the raw AEAD open of the same ciphertext with the same AAD;
 * - seal ("build + protect"): `PacketBuilder` (startShort, addFrame, finishDatagram)
 *   then `protectDatagram` (AEAD seal, header protection) vs the raw AEAD seal of
 *   the same plaintext with the same AAD.
 *
 * The anchors are the physical limit of each provider: `node:crypto`
 * createCipheriv/createDecipheriv + setAAD + auth tag for the node provider,
 * `@noble/ciphers` gcm() for the noble one. They do no header protection, no
 * packet parsing and no frame encoding.
 *
 * Packets: 1200 bytes, 1-RTT, 8-byte DCID, 2-byte packet number, AES-128-GCM
 * (the keys of RFC 9001 appendix A.1, used as 1-RTT keys). `stream`: one STREAM
 * frame (stream 4, 4-byte offset, explicit length) filling the packet (1165 data
 * bytes). `ack`: an ACK frame with 10 ranges, then a STREAM frame filling the
 * rest (1138 data bytes), as a data packet carrying an acknowledgement.
 *
 * The inputs are written by hand here (frame bytes, then node:crypto for the
 * AEAD and the AES-ECB header protection mask), not by the code under test, and
 * every run's digest must equal the generator's: for open, each packet's STREAM
 * data length and first and last bytes; for seal, each packet's last four tag
 * bytes (the tag covers the whole header and payload).
 *
 * Open decrypts in place, so ours copies each protected packet into a 1200-byte
 * receive buffer first (~30 ns, as a socket read would fill it); the anchor
 * reads the stored bytes directly.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes.js';
import {
  createNobleProvider,
  PacketBuilder,
  PacketOpener,
  protectDatagram,
  type CryptoProvider,
  type Frame,
  type OpenKeys,
  type ProtectKeys,
} from '../src/quic/index.js';
import { createNodeProvider } from '../src/quic/node.js';
import { defineCase, type BenchCase, type Prepared } from './harness.js';

const PACKET_SIZE = 1200;
const TAG = 16;
const DCID = Uint8Array.from([0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08]);
/** First byte of the unprotected short header: fixed bit, spin 0, key phase 0, 2-byte packet number (RFC 9000 section 17.3.1). */
const FIRST_BYTE = 0x41;
const PN_OFFSET = 1 + DCID.length;
const HEADER = PN_OFFSET + 2;
const PAYLOAD = PACKET_SIZE - HEADER - TAG; // 1173
/** Packet numbers start here; all need 2 bytes on the wire against the previous one (RFC 9000 appendix A.2). */
const PN_BASE = 1000;
/** STREAM offsets start at 2^20 so that every Offset field takes 4 bytes. */
const OFFSET_BASE = 1 << 20;
const STREAM_ID = 4;

// RFC 9001 appendix A.1, client Initial key, iv and hp (AES-128-GCM), used here as 1-RTT keys.
const KEY = hexBytes('1f369613dd76d5467730efcbe3b1a22d');
const IV = hexBytes('fa044b2f42a3fd3b46fb255c');
const HP = hexBytes('9f50449e04a0e810283a1e9933adedd2');
const SUITE = 'TLS_AES_128_GCM_SHA256';

function hexBytes(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

// ---------------------------------------------------------------- digests

const DIGEST_SEED = 0x811c9dc5;

function mix(h: number, v: number): number {
  return Math.imul(h ^ v, 0x01000193);
}

/** Last four bytes of `b` ending at `end`, as one number. */
function tail32(b: Uint8Array, end: number): number {
  return ((b[end - 4]! << 24) | (b[end - 3]! << 16) | (b[end - 2]! << 8) | b[end - 1]!) >>> 0;
}

// ---------------------------------------------------------------- the packets

/** A QUIC varint in exactly `size` bytes (RFC 9000 section 16). */
function putVarint(b: Uint8Array, at: number, v: number, size: 1 | 2 | 4): number {
  if (size === 1) b[at] = v;
  else if (size === 2) {
    b[at] = 0x40 | (v >> 8);
    b[at + 1] = v & 0xff;
  } else {
    b[at] = 0x80 | (v >>> 24);
    b[at + 1] = (v >>> 16) & 0xff;
    b[at + 2] = (v >>> 8) & 0xff;
    b[at + 3] = v & 0xff;
  }
  return at + size;
}

/** (gap, ack range length) pairs after the first range: 9 of them, so 10 ranges (RFC 9000 section 19.3.1). */
const ACK_GAPS: readonly [number, number][] = [
  [0, 3],
  [1, 0],
  [4, 7],
  [0, 0],
  [2, 12],
  [9, 1],
  [0, 5],
  [3, 3],
  [1, 20],
];
const ACK_FIRST_RANGE = 2;
const ACK_DELAY = 0x123;
/** ACK frame bytes: type, 4-byte Largest, 2-byte Delay, Range Count, First Range, then 9 one-byte pairs. */
const ACK_SIZE = 1 + 4 + 2 + 1 + 1 + 2 * ACK_GAPS.length;

type Kind = 'stream' | 'ack';

interface PacketSet {
  readonly n: number;
  /** Frames to give the builder, per packet. */
  readonly frames: readonly (readonly Frame[])[];
  /** n unprotected packets, header || payload || 16 zero bytes, back to back. */
  readonly plain: Uint8Array;
  /** n protected packets, back to back. */
  readonly protectedBytes: Uint8Array;
  /** Views per packet: the unprotected header (AAD), the plaintext payload, the ciphertext || tag, the ciphertext, the tag. */
  readonly aad: readonly Uint8Array[];
  readonly payload: readonly Uint8Array[];
  readonly sealed: readonly Uint8Array[];
  readonly ciphertext: readonly Uint8Array[];
  readonly tag: readonly Uint8Array[];
  /** Offset of the STREAM data in the payload, and its length. */
  readonly dataOffset: number;
  readonly dataLength: number;
  /** Digest of what open must return, and of what seal must produce. */
  readonly openDigest: number;
  readonly sealDigest: number;
}

function nonceFor(pn: number, out: Uint8Array): Uint8Array {
  // RFC 9001 section 5.3: the IV XOR the packet number, left-padded to 12 bytes.
  out.set(IV);
  out[8] = out[8]! ^ ((pn >>> 24) & 0xff);
  out[9] = out[9]! ^ ((pn >>> 16) & 0xff);
  out[10] = out[10]! ^ ((pn >>> 8) & 0xff);
  out[11] = out[11]! ^ (pn & 0xff);
  return out;
}

function makePackets(kind: Kind, n: number, seed: number): PacketSet {
  const plain = new Uint8Array(n * PACKET_SIZE);
  const protectedBytes = new Uint8Array(n * PACKET_SIZE);
  const frames: Frame[][] = [];
  const aad: Uint8Array[] = [];
  const payload: Uint8Array[] = [];
  const sealed: Uint8Array[] = [];
  const ciphertext: Uint8Array[] = [];
  const tag: Uint8Array[] = [];
  const ackBytes = kind === 'ack' ? ACK_SIZE : 0;
  // STREAM with OFF and LEN bits: type, Stream ID (1 byte), Offset (4), Length (2), data.
  const dataOffset = ackBytes + 1 + 1 + 4 + 2;
  const dataLength = PAYLOAD - dataOffset;
  const hpEcb = createCipheriv('aes-128-ecb', HP, null).setAutoPadding(false);
  const nonce = new Uint8Array(12);
  let openDigest = DIGEST_SEED;
  let sealDigest = DIGEST_SEED;
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    const pn = PN_BASE + i;
    const base = i * PACKET_SIZE;
    const p = plain.subarray(base, base + PACKET_SIZE);
    // Header (RFC 9000 section 17.3.1).
    p[0] = FIRST_BYTE;
    p.set(DCID, 1);
    p[PN_OFFSET] = (pn >> 8) & 0xff;
    p[PN_OFFSET + 1] = pn & 0xff;
    let at = HEADER;
    const packetFrames: Frame[] = [];
    if (kind === 'ack') {
      // ACK (RFC 9000 section 19.3): Largest, Delay, Range Count, First Range, then (Gap, Length) pairs.
      const largest = 100_000 + i;
      p[at++] = 0x02;
      at = putVarint(p, at, largest, 4);
      at = putVarint(p, at, ACK_DELAY, 2);
      at = putVarint(p, at, ACK_GAPS.length, 1);
      at = putVarint(p, at, ACK_FIRST_RANGE, 1);
      let smallest = largest - ACK_FIRST_RANGE;
      const ranges: [number, number][] = [[smallest, largest]];
      for (const [gap, len] of ACK_GAPS) {
        at = putVarint(p, at, gap, 1);
        at = putVarint(p, at, len, 1);
        const hi = smallest - gap - 2;
        smallest = hi - len;
        ranges.push([smallest, hi]);
      }
      packetFrames.push({ type: 'ack', ackDelay: ACK_DELAY, ranges, ecn: null });
    }
    // STREAM with OFF and LEN, no FIN (RFC 9000 section 19.8): type 0x0e.
    const offset = OFFSET_BASE + i * dataLength;
    p[at++] = 0x0e;
    at = putVarint(p, at, STREAM_ID, 1);
    at = putVarint(p, at, offset, 4);
    at = putVarint(p, at, dataLength, 2);
    for (let j = 0; j < dataLength; j++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      p[at + j] = x >>> 24;
    }
    const data = p.subarray(at, at + dataLength);
    packetFrames.push({ type: 'stream', streamId: STREAM_ID, offset, fin: false, data });
    frames.push(packetFrames);
    openDigest = mix(mix(mix(openDigest, dataLength), data[0]!), data[dataLength - 1]!);

    // AEAD (RFC 9001 section 5.3) and header protection (section 5.4), with node:crypto directly.
    const header = p.subarray(0, HEADER);
    const c = createCipheriv('aes-128-gcm', KEY, nonceFor(pn, nonce), { authTagLength: TAG });
    c.setAAD(header);
    const ct = Buffer.concat([c.update(p.subarray(HEADER, HEADER + PAYLOAD)), c.final()]);
    const t = c.getAuthTag();
    const q = protectedBytes.subarray(base, base + PACKET_SIZE);
    q.set(header);
    q.set(ct, HEADER);
    q.set(t, HEADER + PAYLOAD);
    sealDigest = mix(sealDigest, tail32(t, TAG));
    const mask = hpEcb.update(q.subarray(PN_OFFSET + 4, PN_OFFSET + 20));
    q[0] = q[0]! ^ (mask[0]! & 0x1f);
    q[PN_OFFSET] = q[PN_OFFSET]! ^ mask[1]!;
    q[PN_OFFSET + 1] = q[PN_OFFSET + 1]! ^ mask[2]!;

    aad.push(header);
    payload.push(p.subarray(HEADER, HEADER + PAYLOAD));
    sealed.push(protectedBytes.subarray(base + HEADER, base + PACKET_SIZE));
    ciphertext.push(protectedBytes.subarray(base + HEADER, base + HEADER + PAYLOAD));
    tag.push(protectedBytes.subarray(base + HEADER + PAYLOAD, base + PACKET_SIZE));
  }
  return { n, frames, plain, protectedBytes, aad, payload, sealed, ciphertext, tag, dataOffset, dataLength, openDigest, sealDigest };
}

// ---------------------------------------------------------------- the sides

type Family = 'node' | 'noble';

function provider(family: Family): CryptoProvider {
  return family === 'node' ? createNodeProvider() : createNobleProvider();
}

function openPrepared(kind: Kind, family: Family, n: number): Prepared<number> {
  const set = makePackets(kind, n, 7);
  const pr = provider(family);
  const keys: OpenKeys = { oneRtt: { hp: pr.headerProtection(SUITE, HP), aead: [pr.aead(SUITE, KEY, IV), null] } };
  const opener = new PacketOpener({ shortDcidLength: DCID.length });
  const rx = new Uint8Array(PACKET_SIZE);
  const received: Uint8Array[] = [];
  for (let i = 0; i < n; i++) received.push(set.protectedBytes.subarray(i * PACKET_SIZE, (i + 1) * PACKET_SIZE));
  const ours = {
    items: n,
    run(): number {
      opener.largestPn.application = PN_BASE - 1;
      let h = DIGEST_SEED;
      for (let i = 0; i < n; i++) {
        rx.set(received[i]!);
        const r = opener.open(rx, keys)[0]!;
        if (r.status !== 'opened') return -1;
        const f = r.frames[r.frames.length - 1]!;
        if (f.type !== 'stream') return -2;
        const d = f.data;
        h = mix(mix(mix(h, d.length), d[0]!), d[d.length - 1]!);
      }
      return h;
    },
  };
  const nonce = new Uint8Array(12);
  const { aad, ciphertext, tag, sealed, dataOffset, dataLength } = set;
  const tagOptions = { authTagLength: TAG };
  const anchor =
    family === 'node'
      ? {
          items: n,
          run(): number {
            let h = DIGEST_SEED;
            for (let i = 0; i < n; i++) {
              const d = createDecipheriv('aes-128-gcm', KEY, nonceFor(PN_BASE + i, nonce), tagOptions);
              d.setAAD(aad[i]!);
              d.setAuthTag(tag[i]!);
              const pt = d.update(ciphertext[i]!);
              d.final();
              h = mix(mix(mix(h, dataLength), pt[dataOffset]!), pt[dataOffset + dataLength - 1]!);
            }
            return h;
          },
        }
      : {
          items: n,
          run(): number {
            let h = DIGEST_SEED;
            for (let i = 0; i < n; i++) {
              const pt = gcm(KEY, nonceFor(PN_BASE + i, nonce), aad[i]!).decrypt(sealed[i]!);
              h = mix(mix(mix(h, dataLength), pt[dataOffset]!), pt[dataOffset + dataLength - 1]!);
            }
            return h;
          },
        };
  return { ours, anchor, checksum: (h) => h, expected: set.openDigest };
}

function sealPrepared(kind: Kind, family: Family, n: number): Prepared<number> {
  const set = makePackets(kind, n, 11);
  const pr = provider(family);
  const keys: ProtectKeys = { oneRtt: { hp: pr.headerProtection(SUITE, HP), aead: pr.aead(SUITE, KEY, IV) } };
  const builder = new PacketBuilder({ maxDatagramSize: PACKET_SIZE, role: 'client' });
  const frames = set.frames;
  const ours = {
    items: n,
    run(): number {
      let h = DIGEST_SEED;
      for (let i = 0; i < n; i++) {
        builder.startShort({ dcid: DCID, pn: PN_BASE + i, pnLength: 2 });
        const fs = frames[i]!;
        for (let j = 0; j < fs.length; j++) if (!builder.addFrame(fs[j]!)) return -1;
        const d = protectDatagram(builder.finishDatagram()!, keys);
        if (d.length !== PACKET_SIZE) return -2;
        h = mix(h, tail32(d, PACKET_SIZE));
      }
      return h;
    },
  };
  const nonce = new Uint8Array(12);
  const { aad, payload } = set;
  const tagOptions = { authTagLength: TAG };
  const anchor =
    family === 'node'
      ? {
          items: n,
          run(): number {
            let h = DIGEST_SEED;
            for (let i = 0; i < n; i++) {
              const c = createCipheriv('aes-128-gcm', KEY, nonceFor(PN_BASE + i, nonce), tagOptions);
              c.setAAD(aad[i]!);
              c.update(payload[i]!);
              c.final();
              h = mix(h, tail32(c.getAuthTag(), TAG));
            }
            return h;
          },
        }
      : {
          items: n,
          run(): number {
            let h = DIGEST_SEED;
            for (let i = 0; i < n; i++) {
              const sealedOut = gcm(KEY, nonceFor(PN_BASE + i, nonce), aad[i]!).encrypt(payload[i]!);
              h = mix(h, tail32(sealedOut, sealedOut.length));
            }
            return h;
          },
        };
  return { ours, anchor, checksum: (h) => h, expected: set.sealDigest };
}

// ---------------------------------------------------------------- cases

/** Packets per run: ~50-100 ms per run on this machine for each family. */
const N: Readonly<Record<Family, number>> = { node: 10_000, noble: 1_000 };
const TARGET: Readonly<Record<Family, number>> = { node: 0.6, noble: 0.8 };
const ANCHOR: Readonly<Record<Family, string>> = {
  node: 'node:crypto createDecipheriv/createCipheriv aes-128-gcm + setAAD + auth tag',
  noble: '@noble/ciphers gcm() decrypt/encrypt',
};
const WHAT: Readonly<Record<Kind, string>> = {
  stream: '1200-byte 1-RTT packet, one STREAM frame (1165 B)',
  ack: '1200-byte 1-RTT packet, ACK with 10 ranges + STREAM (1138 B)',
};

function makeCases(): BenchCase[] {
  const out: BenchCase[] = [];
  for (const family of ['node', 'noble'] as const) {
    for (const kind of ['stream', 'ack'] as const) {
      out.push(
        defineCase({
          name: `open-${kind}-${family}`,
          unit: 'k packets/s',
          scale: 1e3,
          target: TARGET[family],
          description: `${WHAT[kind]}: PacketOpener.open (unprotect + parse frames, ${family} provider) vs raw ${ANCHOR[family]}; MB/s = k packets/s x 1.2`,
          prepare: () => openPrepared(kind, family, N[family]),
        }),
        defineCase({
          name: `seal-${kind}-${family}`,
          unit: 'k packets/s',
          scale: 1e3,
          target: TARGET[family],
          description: `${WHAT[kind]}: PacketBuilder + protectDatagram (build + protect, ${family} provider) vs raw ${ANCHOR[family]}; MB/s = k packets/s x 1.2`,
          prepare: () => sealPrepared(kind, family, N[family]),
        }),
      );
    }
  }
  return out;
}

export const cases: BenchCase[] = makeCases();
