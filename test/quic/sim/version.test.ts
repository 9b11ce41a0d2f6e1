/**
 * QUIC v2 (RFC 9369) and compatible version negotiation (RFC 9368) in the simulator, both providers: a v1
 * client offering v2 is moved to v2 by a server preferring it (the server's first flight is already v2,
 * read from the packets' version field on the wire), a client starting in v2, and a downgrade attempt: an
 * on-path attacker rewrites the Chosen Version in the client's Initial (Initial keys are public, RFC 9001
 * section 5.2) and the server closes with VERSION_NEGOTIATION_ERROR (RFC 9368 section 4).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialPacketKeys, protect, QUIC_V1, QUIC_V2, unprotect } from '../../../src/quic/packet-protection.js';
import { decodePacketHeader } from '../../../src/quic/packet.js';
import type { FilterVerdict, TapRecord } from '../support/sim.js';
import { describeDatagram } from '../support/sim.js';
import { clientErrors, KiB, makeProvider, PROVIDER_KINDS, Scenario, type ClientApp } from './support.js';

/** The version field of every long header packet in the recorded datagrams of `link`. */
function longHeaderVersions(tap: readonly TapRecord[], link: string): { kind: string; version: number }[] {
  const out: { kind: string; version: number }[] = [];
  for (const r of tap) {
    if (r.link !== link || r.bytes === null) continue;
    for (const p of describeDatagram(r.bytes, 8).packets)
      if (p.version !== null && p.kind !== 'version-negotiation') out.push({ kind: p.kind, version: p.version });
  }
  return out;
}

function finish(s: Scenario, app: ClientApp): void {
  s.sim.runUntil(() => app.complete || app.errors.length > 0 || app.closed !== null, { maxTime: 30_000 });
  assert.deepEqual(clientErrors(s), []);
  assert.equal(app.closed, null);
  assert.ok(app.complete);
}

const u32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

describe('sim: QUIC v2 and compatible version negotiation', () => {
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: a v1 client offering v2 is moved to v2 by a server preferring v2; transfer byte-exact`, () => {
      const s = new Scenario({ seed: 21, kind, link: { latency: 10 }, server: { versions: [QUIC_V2, QUIC_V1] }, sim: { tap: true } });
      const app = s.connect([100 * KiB], Infinity, { version: QUIC_V1, compatibleVersions: [QUIC_V1, QUIC_V2] });
      finish(s, app);
      assert.equal(app.bytesReceived, 100 * KiB);
      assert.equal(app.conn.negotiatedVersion, QUIC_V2);
      assert.equal(s.serverList[0]!.conn.negotiatedVersion, QUIC_V2);
      const up = longHeaderVersions(s.sim.tap, 'client->server');
      const down = longHeaderVersions(s.sim.tap, 'server->client');
      // The client's first Initial is v1; every packet of the server, its first flight included, is v2.
      assert.deepEqual(up[0], { kind: 'initial', version: QUIC_V1 });
      assert.ok(down.some((p) => p.kind === 'handshake'));
      for (const p of down) assert.equal(p.version, QUIC_V2, `server ${p.kind} packet in 0x${p.version.toString(16)}`);
      // After the server's first flight the client sends v2 only (RFC 9368 section 2.4).
      assert.ok(up.some((p) => p.kind === 'handshake'));
      for (const p of up.filter((x) => x.kind === 'handshake')) assert.equal(p.version, QUIC_V2);
    });

    it(`${kind}: a server preferring v1 keeps a v1 client that offers v2 in v1`, () => {
      const s = new Scenario({ seed: 22, kind, link: { latency: 10 }, server: { versions: [QUIC_V1, QUIC_V2] }, sim: { tap: true } });
      const app = s.connect([10 * KiB], Infinity, { version: QUIC_V1, compatibleVersions: [QUIC_V1, QUIC_V2] });
      finish(s, app);
      assert.equal(app.conn.negotiatedVersion, QUIC_V1);
      for (const p of longHeaderVersions(s.sim.tap, 'server->client')) assert.equal(p.version, QUIC_V1);
    });

    it(`${kind}: a client starting in v2`, () => {
      const s = new Scenario({ seed: 23, kind, link: { latency: 10 }, sim: { tap: true } });
      const app = s.connect([100 * KiB], Infinity, { version: QUIC_V2 });
      finish(s, app);
      assert.equal(app.bytesReceived, 100 * KiB);
      assert.equal(s.serverList[0]!.conn.negotiatedVersion, QUIC_V2);
      const all = [...longHeaderVersions(s.sim.tap, 'client->server'), ...longHeaderVersions(s.sim.tap, 'server->client')];
      assert.ok(all.length > 0);
      for (const p of all) assert.equal(p.version, QUIC_V2);
    });

    it(`${kind}: a rewritten Chosen Version in the client's Initial is a VERSION_NEGOTIATION_ERROR`, () => {
      // The attacker decrypts the client's Initial, changes version_information's Chosen Version from v1 to
      // v2 (parameter 0x11, length 12: chosen + available [v1, v2]), and protects it again.
      const attacker = makeProvider(kind, 99, 'attacker');
      let tampered = 0;
      const filter = (datagram: Uint8Array): FilterVerdict => {
        if (tampered > 0) return 'deliver';
        const h = decodePacketHeader(datagram, 0, { shortDcidLength: 8 });
        if (h.kind !== 'initial') return 'deliver';
        const keys = initialPacketKeys(attacker, h.version, h.dcid).client;
        const packet = datagram.slice(h.start, h.end);
        const pnOffset = h.pnOffset - h.start;
        const r = unprotect(packet, pnOffset, keys, (t) => t);
        if (!r.ok) return 'deliver';
        const needle = [0x11, 0x0c, ...u32(QUIC_V1), ...u32(QUIC_V1), ...u32(QUIC_V2)];
        const p = r.payload;
        let at = -1;
        for (let i = 0; i + needle.length <= p.length && at < 0; i++) if (needle.every((b, j) => p[i + j] === b)) at = i;
        assert.ok(at >= 0, 'version_information found in the ClientHello');
        p.set(u32(QUIC_V2), at + 2);
        protect(packet, pnOffset, r.pnLength, packet.length - 16, r.pn, keys);
        const out = datagram.slice();
        out.set(packet, h.start);
        tampered++;
        return { replace: out };
      };
      const s = new Scenario({ seed: 24, kind, link: { latency: 10 }, server: { versions: [QUIC_V2, QUIC_V1] } });
      s.sim.link(s.clientNode, s.serverNode).configure({ filter });
      const app = s.connect([10 * KiB], Infinity, { version: QUIC_V1, compatibleVersions: [QUIC_V1, QUIC_V2] });
      s.sim.runUntil(() => app.closed !== null, { maxTime: 10_000 });
      assert.equal(tampered, 1);
      assert.ok(!app.complete);
      const closed = app.closed;
      assert.ok(closed !== null && closed.type === 'closed');
      assert.equal(closed.reason.code, 0x11n);
      assert.equal(closed.reason.name, 'VERSION_NEGOTIATION_ERROR');
      assert.equal(closed.reason.initiator, 'peer');
    });
  }
});
