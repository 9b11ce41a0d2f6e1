/**
 * 1-RTT key updates (RFC 9001 section 6) and the AEAD limits (section 6.6) on a lossless in-memory
 * pair: the `updateKeys` command and its preconditions, `keyUpdateAfterPackets`, updates forced by a
 * (lowered) confidentiality limit, the integrity limit closing with AEAD_LIMIT_REACHED, and reordering
 * across an update (old-phase packets opened until the old keys go, three PTOs later). The key phase of
 * each packet is read from the receiver's qlog (`key_phase_bit` of packet_received).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Connection } from '../../../src/quic/connection/connection.js';
import type { QlogEvent } from '../../../src/quic/connection/trace.js';
import { AEAD_LIMITS, KeyUpdatePolicy } from '../../../src/quic/connection/key-update.js';
import { concat } from '../../support/bytes.js';
import { pump } from '../sim/support.js';
import { CLIENT_PATH, Pair, PROVIDER_KINDS } from './support.js';

/** Records the key phase bit of every 1-RTT packet a side received. */
class PhaseLog {
  readonly phases: number[] = [];
  readonly updates: string[] = [];
  readonly sink = (e: QlogEvent): void => {
    if (e.name === 'security:key_updated') this.updates.push(String(e.data['trigger']));
    if (e.name !== 'transport:packet_received') return;
    const h = e.data['header'] as { packet_type: string; key_phase_bit?: number };
    if (h.packet_type === '1rtt') this.phases.push(h.key_phase_bit!);
  };
  count(bit: 0 | 1): number {
    return this.phases.filter((p) => p === bit).length;
  }
  /** Lengths of the runs of consecutive packets with the same bit. */
  runs(): number[] {
    const out: number[] = [];
    let prev = -1;
    for (const p of this.phases) {
      if (p === prev) out[out.length - 1]!++;
      else out.push(1);
      prev = p;
    }
    return out;
  }
}

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** The server sends `data` on a new server-initiated stream; returns what the client read (to the FIN). */
function download(pair: Pair, data: Uint8Array): Uint8Array {
  const server = pair.server!;
  const id = server.openStream(false)!;
  let written = pump(server, id, data, 0);
  const got: Uint8Array[] = [];
  let fin = false;
  pair.run(() => {
    if (written < data.length) written = pump(server, id, data, written);
    if (!pair.clientEvents.some((e) => e.type === 'stream-opened' && e.streamId === id)) return false;
    for (let r = fin ? null : pair.client.streamRead(id); r !== null; r = r.fin ? null : pair.client.streamRead(id)) {
      got.push(r.data.slice());
      fin ||= r.fin;
    }
    return fin;
  }, 100_000);
  return concat(...got);
}

function closedName(events: readonly { type: string }[]): string | null {
  const e = events.find((x) => x.type === 'closed') as { reason: { name: string | null } } | undefined;
  return e === undefined ? null : e.reason.name;
}

describe('key update command (RFC 9001 section 6.1)', () => {
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: the client updates, the server follows, both send key phase 1 and data flows byte-exact`, () => {
      const c = new PhaseLog();
      const s = new PhaseLog();
      const pair = new Pair({ clientKind: kind, serverKind: kind, seed: 20, client: { qlog: c.sink }, server: { qlog: s.sink } });
      pair.handshake();
      // A packet of the current phase must be acknowledged first; after the handshake it is (HANDSHAKE_DONE's ACK).
      const first = download(pair, pattern(20_000, 1));
      assert.deepEqual(first, pattern(20_000, 1));
      assert.equal(pair.client.updateKeys(pair.now), true);
      // "An endpoint MUST NOT initiate a subsequent key update unless it has received an acknowledgment for a
      // packet that was sent protected with keys from the current key phase": not yet.
      assert.equal(pair.client.updateKeys(pair.now), false);
      const data = pattern(50_000, 2);
      assert.deepEqual(download(pair, data), data);
      assert.ok(s.count(1) > 0, 'the server received key phase 1 packets from the client');
      assert.ok(c.count(1) > 0, 'the client received key phase 1 packets from the server');
      assert.deepEqual(c.updates, ['local_update']);
      assert.deepEqual(s.updates, ['remote_update']);
      assert.equal(pair.client.stats.keyUpdates, 1);
      assert.equal(pair.server!.stats.keyUpdates, 1);
      // Once the phase switched, only phase-1 packets arrive (a lossless, ordered wire).
      assert.deepEqual(c.runs().length, 2);
    });
  }

  it('no update before the handshake is confirmed', () => {
    const pair = new Pair({ seed: 21 });
    assert.equal(pair.client.updateKeys(0), false);
    pair.handshake();
    assert.equal(pair.client.updateKeys(pair.now), true);
  });

  it('a second update waits for an acknowledgment in the new phase and for the old keys to go (three PTOs)', () => {
    const pair = new Pair({ seed: 22 });
    pair.handshake();
    assert.equal(pair.server!.updateKeys(pair.now), true);
    download(pair, pattern(5000, 3));
    // Acknowledged in the new phase, but the previous read keys are still kept.
    assert.equal(pair.server!.updateKeys(pair.now), false);
    pair.now += 2_000;
    pair.flush();
    assert.equal(pair.server!.updateKeys(pair.now), true);
    assert.equal(pair.server!.stats.keyUpdates, 2);
    download(pair, pattern(5000, 4));
    assert.equal(pair.client.stats.keyUpdates, 2);
  });
});

describe('automatic key updates', () => {
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: keyUpdateAfterPackets 40 on the server: an update after 40 packets of each phase`, () => {
      const c = new PhaseLog();
      const pair = new Pair({
        clientKind: kind,
        serverKind: kind,
        seed: 23,
        client: { qlog: c.sink },
        server: { keyUpdateAfterPackets: 40 },
      });
      pair.handshake();
      // The zero-latency pair runs a whole download at one instant: a later update must wait three PTOs (the
      // old keys are kept that long, RFC 9001 section 6.5), so time moves between the downloads.
      for (let i = 0; i < 3; i++) {
        const data = pattern(100_000, 5 + i);
        assert.deepEqual(download(pair, data), data);
        pair.now += 1_000;
        pair.flush();
      }
      assert.ok(pair.server!.stats.keyUpdates >= 3, `${pair.server!.stats.keyUpdates} server updates`);
      assert.ok(pair.client.stats.keyUpdates >= 3, `${pair.client.stats.keyUpdates} client updates`);
      // Each phase the client saw end lasted at least 40 server packets; the first about 40 (the handshake's
      // 1-RTT packets count too).
      const runs = c.runs();
      assert.ok(runs.length >= 4, runs.join(' '));
      assert.ok(runs[0]! >= 40 && runs[0]! <= 45, `first phase: ${runs[0]} packets`);
      for (const n of runs.slice(0, -1)) assert.ok(n >= 40, runs.join(' '));
    });
  }

  it('a confidentiality limit of 64 packets (lowered for the test): no key protects more than 64 packets', () => {
    const c = new PhaseLog();
    const pair = new Pair({ seed: 24, client: { qlog: c.sink }, server: { aeadLimits: { confidentiality: 64 } } });
    pair.handshake();
    const data = pattern(400_000, 6);
    const got: Uint8Array[] = [];
    // 40 KB at a time, a second apart (see above: a later update waits three PTOs).
    for (let at = 0; at < data.length; at += 40_000) {
      got.push(download(pair, data.subarray(at, at + 40_000)));
      pair.now += 1_000;
      pair.flush();
    }
    assert.deepEqual(concat(...got), data);
    assert.ok(pair.server!.stats.keyUpdates >= 3, `${pair.server!.stats.keyUpdates} updates`);
    // The client received every server packet in order: each run of one key phase is one key's packets
    // (the first run also holds the handshake's 1-RTT packets, which count too).
    for (const n of c.runs()) assert.ok(n <= 64, `${n} packets under one key`);
    assert.equal(closedName(pair.serverEvents), null);
  });
});

describe('AEAD integrity limit (RFC 9001 section 6.6)', () => {
  it('packets failing authentication up to the (lowered) limit close the connection with AEAD_LIMIT_REACHED', () => {
    const pair = new Pair({ seed: 25, client: { aeadLimits: { integrity: 3 } } });
    pair.handshake();
    download(pair, pattern(3000, 7));
    // The largest 1-RTT datagram of the server (the header protection sample lies far from its end), with one
    // byte of its AEAD tag flipped.
    const last = pair.wire
      .filter((w) => w.from === 'server' && (w.datagram[0]! & 0x80) === 0)
      .reduce((a, b) => (b.datagram.length > a.datagram.length ? b : a));
    assert.ok(last.datagram.length > 1000);
    const forged = (): Uint8Array => {
      const d = last.datagram.slice();
      d[d.length - 1]! ^= 0x01;
      return d;
    };
    const dropped = pair.client.stats.packetsDropped;
    pair.client.receive(forged(), CLIENT_PATH, pair.now);
    pair.client.receive(forged(), CLIENT_PATH, pair.now);
    pair.flush();
    assert.equal(pair.client.stats.packetsDropped, dropped + 2);
    assert.equal(closedName(pair.clientEvents), null, 'two failures: still open');
    pair.client.receive(forged(), CLIENT_PATH, pair.now);
    pair.flush();
    assert.equal(closedName(pair.clientEvents), 'AEAD_LIMIT_REACHED');
    // The server hears it: CONNECTION_CLOSE with error 0x0f.
    const closed = pair.serverEvents.find((e) => e.type === 'closed');
    assert.ok(closed !== undefined && closed.type === 'closed');
    assert.equal(closed.reason.code, 0x0fn);
    assert.equal(closed.reason.initiator, 'peer');
  });
});

describe('reordering across a key update (RFC 9001 section 6.5)', () => {
  it('old-phase packets that arrive after the switch are opened until the old keys go, then dropped', () => {
    const pair = new Pair({ seed: 26 });
    pair.handshake();
    download(pair, pattern(2000, 8));
    const server: Connection = pair.server!;
    // Hold back the server's next two datagrams (phase 0).
    const held: Uint8Array[] = [];
    pair.filter = (from, d) => {
      if (from === 'server' && held.length < 2) {
        held.push(d.slice());
        return false;
      }
      return true;
    };
    const id = server.openStream(false)!;
    server.streamWrite(id, pattern(2000, 9));
    server.ping();
    pair.flush();
    assert.equal(held.length, 2);
    // The server switches to phase 1; its next packet reaches the client, which follows.
    assert.equal(server.updateKeys(pair.now), true);
    server.ping();
    pair.flush();
    assert.equal(pair.client.stats.keyUpdates, 1);
    // A phase-0 packet arriving now still opens (the previous keys are kept).
    const received = pair.client.stats.packetsReceived;
    const dropped = pair.client.stats.packetsDropped;
    pair.client.receive(held[0]!, CLIENT_PATH, pair.now);
    assert.equal(pair.client.stats.packetsReceived, received + 1);
    assert.equal(pair.client.stats.packetsDropped, dropped);
    // Three PTOs later the old keys are gone: the other phase-0 packet fails authentication.
    pair.now += 5_000;
    pair.flush();
    const dropped2 = pair.client.stats.packetsDropped;
    pair.client.receive(held[1]!, CLIENT_PATH, pair.now);
    assert.equal(pair.client.stats.packetsDropped, dropped2 + 1);
    assert.equal(closedName(pair.clientEvents), null);
  });
});

describe('KeyUpdatePolicy thresholds', () => {
  it('the AEAD limits are RFC 9001 section 6.6 values', () => {
    // "the confidentiality limit is 2^23 encrypted packets" (AES-GCM); "the integrity limit is 2^52
    // invalid packets" (AES-GCM) and 2^36 (ChaCha20-Poly1305, whose confidentiality limit "can be disregarded").
    assert.deepEqual(AEAD_LIMITS.TLS_AES_128_GCM_SHA256, { confidentiality: 8388608, integrity: 4503599627370496 });
    assert.deepEqual(AEAD_LIMITS.TLS_AES_256_GCM_SHA384, { confidentiality: 8388608, integrity: 4503599627370496 });
    assert.deepEqual(AEAD_LIMITS.TLS_CHACHA20_POLY1305_SHA256, { confidentiality: Infinity, integrity: 68719476736 });
  });

  it('updates at seven eighths of the confidentiality limit, gives up just before it, and counts from the phase start', () => {
    const p = new KeyUpdatePolicy({ afterPackets: null, limits: { confidentiality: 64 } });
    assert.equal(p.check(1000), null, 'no 1-RTT keys yet');
    p.start('TLS_AES_128_GCM_SHA256', 10);
    assert.equal(p.check(10 + 55), null);
    assert.equal(p.check(10 + 56), 'update');
    assert.equal(p.check(10 + 62), 'update');
    assert.equal(p.check(10 + 63), 'limit');
    p.onPhaseChange(73);
    assert.equal(p.check(74), null);
    assert.equal(p.updates, 1);
    // A lowered limit never raises the RFC's: ChaCha20's integrity limit stays 2^36.
    const q = new KeyUpdatePolicy({ afterPackets: 100, limits: { integrity: 2 ** 40 } });
    q.start('TLS_CHACHA20_POLY1305_SHA256', 0);
    assert.equal(q.limits.integrity, 2 ** 36);
    assert.equal(q.check(99), null);
    assert.equal(q.check(100), 'update');
    // AES-GCM without options: an update at 2^23 - 2^20 packets.
    const r = new KeyUpdatePolicy({ afterPackets: null });
    r.start('TLS_AES_128_GCM_SHA256', 0);
    assert.equal(r.check(2 ** 23 - 2 ** 20 - 1), null);
    assert.equal(r.check(2 ** 23 - 2 ** 20), 'update');
    assert.equal(r.check(2 ** 23 - 1000), 'limit');
  });

  it('acknowledgments count for the current phase only', () => {
    const p = new KeyUpdatePolicy({ afterPackets: null });
    p.start('TLS_AES_128_GCM_SHA256', 5);
    p.onAcked(4);
    assert.equal(p.currentPhaseAcked, false, 'a 0-RTT packet (below the first 1-RTT one)');
    p.onAcked(5);
    assert.equal(p.currentPhaseAcked, true);
    p.onPhaseChange(20);
    p.onAcked(19);
    assert.equal(p.currentPhaseAcked, false);
  });

  it('rejects option values that are not positive integers', () => {
    for (const afterPackets of [0, -1, 1.5, NaN]) {
      assert.throws(
        () => new KeyUpdatePolicy({ afterPackets }),
        (e: unknown) => (e as { code?: string }).code === 'ERR_USAGE',
      );
    }
    assert.throws(
      () => new KeyUpdatePolicy({ afterPackets: null, limits: { integrity: 0 } }),
      (e: unknown) => (e as { code?: string }).code === 'ERR_USAGE',
    );
  });
});
