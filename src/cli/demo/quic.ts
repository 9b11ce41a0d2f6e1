/**
 * Part 4, the QUIC wire layer (RFC 9000 sections 12, 17, 19; RFC 9001
 * section 5), with no connection: a sender cuts a stream of seeded random
 * bytes into 1200-byte 1-RTT packets, one STREAM frame each (PacketBuilder,
 * then protectDatagram: AEAD seal and header protection); a receiver opens
 * them (PacketOpener: header protection off, packet number recovery, AEAD
 * open, frame decoding) and checks every frame: packet number, stream id,
 * offset, FIN on the last one only, and the data byte for byte.
 *
 * The 1-RTT keys are derived from a (seeded) traffic secret with HKDF, as
 * after a handshake (RFC 9001 section 5.1), for AES-128-GCM. It runs with
 * the node:crypto provider and with the portable @noble provider; the
 * datagrams both produce must be byte-identical, and identical again to those
 * of the node provider with node:crypto header protection (so AEAD and
 * header protection are each checked against a second implementation).
 */
import {
  PacketBuilder,
  PacketOpener,
  QUIC_V1,
  createNobleProvider,
  createPacketKeys,
  oneRttOpenKeys,
  protectDatagram,
  streamDataCapacity,
  type CipherSuite,
  type CryptoProvider,
  type OneRttOpenKeys,
  type PacketKeys,
} from '../../quic/index.js';
import { createNodeProvider } from '../../quic/node.js';
import {
  equalBytes,
  fail,
  int,
  mb,
  mbps,
  outcome,
  perSecond,
  randomBytes,
  say,
  secs,
  since,
  now,
  type DemoOptions,
  type PartOutcome,
} from './common.js';

const DATAGRAM = 1200;
const SUITE: CipherSuite = 'TLS_AES_128_GCM_SHA256';
/** A client-initiated bidirectional stream (RFC 9000 section 2.1). */
const STREAM_ID = 4;

interface Setup {
  readonly secret: Uint8Array;
  readonly dcid: Uint8Array;
  /** The stream's bytes (more than the packets carry). */
  readonly data: Uint8Array;
}

/** Packets sealed back to back, DATAGRAM bytes each, and what each carries. */
interface Sealed {
  readonly wire: Uint8Array;
  readonly n: number;
  readonly seconds: number;
  /** Stream offset of packet i's data; `offsets[n]` is the total carried. */
  readonly offsets: Float64Array;
}

function keysFor(provider: CryptoProvider, s: Setup): PacketKeys {
  return createPacketKeys(provider, QUIC_V1, SUITE, s.secret);
}

/** Builds and protects `n` packets; throws on anything the builder refuses. */
function sealAll(provider: CryptoProvider, s: Setup, n: number): Sealed {
  const keys = { oneRtt: keysFor(provider, s) };
  const builder = new PacketBuilder({ maxDatagramSize: DATAGRAM, role: 'client' });
  const wire = new Uint8Array(n * DATAGRAM);
  const offsets = new Float64Array(n + 1);
  let offset = 0;
  const t0 = now();
  for (let pn = 0; pn < n; pn++) {
    // As if the peer acknowledged every earlier packet: the packet number takes 1 byte (RFC 9000 appendix A.2).
    if (!builder.startShort({ dcid: s.dcid, pn, largestAcked: pn === 0 ? null : pn - 1 })) throw new Error(`packet ${pn}: no room`);
    const len = streamDataCapacity(builder.room, STREAM_ID, offset);
    const frame = { type: 'stream', streamId: STREAM_ID, offset, fin: pn === n - 1, data: s.data.subarray(offset, offset + len) } as const;
    if (!builder.addFrame(frame)) throw new Error(`packet ${pn}: the STREAM frame does not fit`);
    const datagram = protectDatagram(builder.finishDatagram()!, keys);
    if (datagram.length !== DATAGRAM) throw new Error(`packet ${pn}: ${datagram.length} bytes, expected ${DATAGRAM}`);
    wire.set(datagram, pn * DATAGRAM);
    offset += len;
    offsets[pn + 1] = offset;
  }
  return { wire, n, seconds: since(t0), offsets };
}

/** Opens every packet (each copied into one receive buffer first, as a socket read would) and checks its frame. */
function openAll(provider: CryptoProvider, s: Setup, sealed: Sealed, label: string): { seconds: number; bad: number } {
  const keys: { oneRtt: OneRttOpenKeys } = { oneRtt: oneRttOpenKeys(keysFor(provider, s), 0) };
  const opener = new PacketOpener({ shortDcidLength: s.dcid.length });
  const rx = new Uint8Array(DATAGRAM);
  let bad = 0;
  const t0 = now();
  for (let pn = 0; pn < sealed.n; pn++) {
    const offset = sealed.offsets[pn]!;
    const end = sealed.offsets[pn + 1]!;
    rx.set(sealed.wire.subarray(pn * DATAGRAM, (pn + 1) * DATAGRAM));
    const results = opener.open(rx, keys);
    const r = results[0];
    const f = r?.status === 'opened' && r.frames.length === 1 ? r.frames[0] : undefined;
    if (
      results.length !== 1 ||
      r?.status !== 'opened' ||
      r.pn !== pn ||
      f?.type !== 'stream' ||
      f.streamId !== STREAM_ID ||
      f.offset !== offset ||
      f.fin !== (pn === sealed.n - 1) ||
      !equalBytes(f.data, s.data.subarray(offset, end))
    ) {
      if (bad++ < 5) fail(`${label}: packet ${pn} did not open to its STREAM frame (${r === undefined ? 'no result' : r.status})`);
    }
  }
  return { seconds: since(t0), bad };
}

function run(name: string, provider: CryptoProvider, s: Setup, n: number): { ok: boolean; sealed: Sealed } {
  const sealed = sealAll(provider, s, n);
  const opened = openAll(provider, s, sealed, name);
  const bytes = n * DATAGRAM;
  const ok = opened.bad === 0;
  const line =
    `${name}: ${int(n)} packets (${mb(sealed.offsets[n]!)} of stream ${STREAM_ID}):` +
    ` build + protect ${secs(sealed.seconds)}, ${perSecond(n, sealed.seconds, 'packets')}, ${mbps(bytes, sealed.seconds)};` +
    ` open + parse ${secs(opened.seconds)}, ${perSecond(n, opened.seconds, 'packets')}, ${mbps(bytes, opened.seconds)};` +
    ` ${ok ? 'every frame verified' : `FAIL (${opened.bad} bad packets)`}`;
  if (ok) say(line);
  else fail(line);
  return { ok, sealed };
}

export function runQuicWire(opts: DemoOptions): PartOutcome {
  const nNode = opts.quick ? 2_000 : 50_000;
  const nNoble = opts.quick ? 300 : 4_000;
  const setup: Setup = {
    secret: randomBytes(32, opts.seed ^ 0x51c),
    dcid: randomBytes(8, opts.seed ^ 0xdc1d),
    data: randomBytes(nNode * DATAGRAM, opts.seed ^ 0x5eaa),
  };
  const node = run('node provider ', createNodeProvider(), setup, nNode);
  const noble = run('noble provider', createNobleProvider(), setup, nNoble);
  // A third sender whose header protection is node:crypto's AES-ECB rather than the shared portable code.
  const nodeHp = sealAll(createNodeProvider({ headerProtection: 'node' }), setup, nNoble);
  // The same packets, except that the last of the shorter runs carries FIN: compare all but that one with the long run.
  const common = (nNoble - 1) * DATAGRAM;
  const same =
    equalBytes(noble.sealed.wire, nodeHp.wire) && equalBytes(node.sealed.wire.subarray(0, common), noble.sealed.wire.subarray(0, common));
  if (same) {
    say(
      `cross-check: the first ${int(nNoble)} datagrams are byte-identical from node:crypto (AEAD and header protection), node (portable header protection) and noble`,
    );
  } else fail(`cross-check: the providers protect the same ${int(nNoble)} packets differently`);
  return outcome(node.ok && noble.ok && same);
}
