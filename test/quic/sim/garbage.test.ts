/**
 * Bad input at `receive` (DESIGN.md "Errors": bad input never surfaces as an exception or a hang; STYLE.md
 * habit 7): random bytes, bit flips and truncations of datagrams captured from a real run, and correctly
 * encrypted 1-RTT packets whose payloads are random bytes or random frames. Each goes into a live pair of
 * endpoints in the simulator; afterwards each connection has either processed or dropped it (it is still
 * established, and still transfers data correctly), or has closed with a transport error code of RFC 9000
 * section 20.1 that is not INTERNAL_ERROR (which the connection uses for exceptions it caught), or has
 * processed a CONNECTION_CLOSE (a valid frame). Never an exception out of `receive` or `poll`, and never a
 * hang: every simulator run is bounded (SimLivelockError).
 *
 * RFC 9001 section 5.5: packets that fail authentication are discarded; RFC 9000 section 12.2: a datagram's
 * packets that do not parse are dropped; section 12.4 / 19: malformed or forbidden frames in an
 * authenticated packet are connection errors (FRAME_ENCODING_ERROR, PROTOCOL_VIOLATION, ...).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Writer } from '../../../src/combinators/writer.js';
import type { ConnectionEvent } from '../../../src/quic/connection/events.js';
import type { Connection } from '../../../src/quic/connection/connection.js';
import { createNodeProvider } from '../../../src/quic/crypto/node.js';
import { encodeFrame, type Frame } from '../../../src/quic/frame.js';
import { createPacketKeys, protect, QUIC_V1 } from '../../../src/quic/packet-protection.js';
import { anyFrame } from '../support/frames.js';
import { describeDatagram } from '../support/sim.js';
import { CLIENT_ADDRESS, PROVIDER_KINDS, Scenario, SERVER_ADDRESS, type ClientApp, type ProviderKind } from './support.js';

const SUITE = 'TLS_AES_128_GCM_SHA256';

/** An established pair with the client's key log and the connection IDs each side uses. */
interface Live {
  readonly s: Scenario;
  readonly app: ClientApp;
  readonly server: Connection;
  readonly secrets: Map<string, Uint8Array>;
  /** DCID the client sends to (the server's CID) and the server sends to (the client's), from the wire. */
  readonly serverCid: Uint8Array;
  readonly clientCid: Uint8Array;
  /** Datagrams captured on the wire during the handshake and a transfer. */
  readonly captured: { readonly toServer: boolean; readonly bytes: Uint8Array }[];
}

let pairs = 0;

function livePair(kind: ProviderKind, download = 30_000): Live {
  const seed = 700 + pairs++;
  const s = new Scenario({ seed, kind, sim: { tap: { limit: 400 } }, link: { latency: 5 } });
  const secrets = new Map<string, Uint8Array>();
  const app = s.connect([download], Infinity, {
    cipherSuites: [SUITE],
    keylog: (line) => {
      const [label, , secret] = line.split(' ');
      secrets.set(label!, Uint8Array.from(Buffer.from(secret!, 'hex')));
    },
  });
  s.sim.runUntil(() => app.complete, { maxTime: 5_000 });
  const captured = s.sim.tap.map((r) => ({ toServer: r.link === 'client->server', bytes: r.bytes! }));
  const shortDcid = (toServer: boolean): Uint8Array => {
    for (const c of captured) {
      if (c.toServer !== toServer) continue;
      const p = describeDatagram(c.bytes, 8).packets.find((x) => x.kind === '1rtt');
      if (p !== undefined) return Uint8Array.from(Buffer.from(p.dcid, 'hex'));
    }
    throw new Error('no 1-RTT packet captured');
  };
  return { s, app, server: s.serverList[0]!.conn, secrets, serverCid: shortDcid(true), clientCid: shortDcid(false), captured };
}

/** The first `closed` event of a connection's log, if any. */
function closedOf(events: readonly ConnectionEvent[]): Extract<ConnectionEvent, { type: 'closed' }> | null {
  const e = events.find((x) => x.type === 'closed');
  return e !== undefined && e.type === 'closed' ? e : null;
}

/** The rule every connection must satisfy after bad input (see the module doc). */
function checkOutcome(events: readonly ConnectionEvent[], state: string, what: string): boolean {
  const closed = closedOf(events);
  if (closed === null) {
    assert.ok(state === 'established', `${what}: state ${state} without a closed event`);
    return false;
  }
  const r = closed.reason;
  if (r.initiator === 'peer') return true; // a valid CONNECTION_CLOSE frame was processed
  assert.equal(r.initiator, 'local', `${what}: closed by ${r.initiator}`);
  assert.equal(r.kind, 'transport', what);
  assert.ok(r.name !== null, `${what}: code ${r.code} has no name`);
  assert.notEqual(r.name, 'INTERNAL_ERROR', `${what}: ${r.reason}`);
  return true;
}

/** Protects a 1-RTT packet with `secret` (RFC 9001 section 5): any payload, a 4-byte packet number. */
function sealOneRtt(secret: Uint8Array, dcid: Uint8Array, pn: number, payload: Uint8Array, firstByteBits: number): Uint8Array {
  const keys = createPacketKeys(createNodeProvider(), QUIC_V1, SUITE, secret);
  const pnOffset = 1 + dcid.length;
  const packet = new Uint8Array(pnOffset + 4 + payload.length + 16);
  // Short header, fixed bit, key phase 0, a 4-byte packet number; `firstByteBits` may set the reserved bits (0x18).
  packet[0] = 0x40 | 0x03 | (firstByteBits & 0x18);
  packet.set(dcid, 1);
  new DataView(packet.buffer).setUint32(pnOffset, pn);
  packet.set(payload, pnOffset + 4);
  protect(packet, pnOffset, 4, pnOffset + 4 + payload.length, pn, keys);
  return packet;
}

function encodeFrames(frames: readonly Frame[]): Uint8Array {
  const w = new Writer();
  for (const f of frames) encodeFrame(w, f);
  return w.toBytes();
}

describe('sim: garbage datagrams', () => {
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: random bytes, bit flips and truncations of captured datagrams are dropped or end in a transport error`, () => {
      let live = livePair(kind);
      const mutated = fc.oneof(
        fc.record({
          kind: fc.constant('random' as const),
          toServer: fc.boolean(),
          bytes: fc.uint8Array({ minLength: 0, maxLength: 1500 }),
        }),
        fc.record({
          kind: fc.constant('flip' as const),
          index: fc.nat(),
          flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 8 }),
          truncate: fc.option(fc.nat(), { nil: null }),
        }),
      );
      fc.assert(
        fc.property(mutated, (m) => {
          let toServer: boolean;
          let bytes: Uint8Array;
          if (m.kind === 'random') {
            toServer = m.toServer;
            bytes = m.bytes;
          } else {
            const c = live.captured[m.index % live.captured.length]!;
            toServer = c.toServer;
            bytes = c.bytes.slice(0, m.truncate === null ? undefined : m.truncate % (c.bytes.length + 1));
            for (const [at, bit] of m.flips) if (bytes.length > 0) bytes[at % bytes.length]! ^= 1 << bit;
          }
          live.s.sim.inject(bytes, toServer ? CLIENT_ADDRESS : SERVER_ADDRESS, toServer ? SERVER_ADDRESS : CLIENT_ADDRESS);
          live.s.sim.runFor(50);
          // Nothing that fails authentication creates server state (a damaged Initial is dropped by the endpoint).
          assert.ok(live.s.serverEndpoint.connections.length <= 1, `${live.s.serverEndpoint.connections.length} server connections`);
          const ended =
            checkOutcome(live.app.events, live.app.conn.state, 'client') ||
            checkOutcome(live.s.serverList[0]!.events, live.server.state, 'server');
          if (ended) live = livePair(kind);
        }),
        { numRuns: 300 },
      );
      // The last pair still works: a fresh request is answered byte for byte.
      const more = live.s.connect([50_000]);
      live.s.sim.runUntil(() => more.complete || more.closed !== null, { maxTime: 10_000 });
      assert.deepEqual(more.errors, []);
      assert.ok(more.complete);
    });
  }

  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: authenticated 1-RTT packets of random bytes or random frames are processed or close with a transport error`, () => {
      let live = livePair(kind, 1000);
      let pn = 1_000;
      let closes = 0;
      let runs = 0;
      const payload = fc.oneof(
        fc.uint8Array({ minLength: 0, maxLength: 1100 }),
        fc.array(anyFrame, { minLength: 1, maxLength: 4 }).map(encodeFrames),
      );
      fc.assert(
        fc.property(payload, fc.boolean(), fc.nat(), (bytes, toServer, bits) => {
          const secret = live.secrets.get(toServer ? 'CLIENT_TRAFFIC_SECRET_0' : 'SERVER_TRAFFIC_SECRET_0');
          assert.ok(secret !== undefined, 'the key log gave the 1-RTT secrets');
          // Mostly valid reserved bits; sometimes not (PROTOCOL_VIOLATION after authentication, RFC 9000 17.3.1).
          const datagram = sealOneRtt(secret, toServer ? live.serverCid : live.clientCid, pn++, bytes, bits % 8 === 0 ? bits : 0);
          // The receiver's answers go nowhere: they would acknowledge a packet number its peer never sent,
          // which the peer rightly treats as PROTOCOL_VIOLATION (RFC 9000 section 13.1).
          const back = toServer ? live.s.sim.link('server', 'client') : live.s.sim.link('client', 'server');
          back.configure({ filter: () => 'drop' });
          live.s.sim.inject(datagram, toServer ? CLIENT_ADDRESS : SERVER_ADDRESS, toServer ? SERVER_ADDRESS : CLIENT_ADDRESS);
          live.s.sim.runFor(50);
          back.configure({ filter: null });
          const ended =
            checkOutcome(live.app.events, live.app.conn.state, 'client') ||
            checkOutcome(live.s.serverList[0]!.events, live.server.state, 'server');
          // Packet numbers jumped ahead of the real ones: start over with a fresh pair now and then.
          runs++;
          if (ended || pn % 20 === 0) {
            if (ended) closes++;
            live = livePair(kind, 1000);
            pn = 1_000;
          }
        }),
        { numRuns: kind === 'node' ? 150 : 60 },
      );
      // Random frames must have hit real errors, not all been ignored; and not every packet closed.
      assert.ok(closes > 0 && closes < runs, `${closes} closes in ${runs} packets`);
    });
  }

  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: a mutated datagram in place of each handshake datagram: the handshake completes or ends in a transport error`, () => {
      // The replacement happens on the wire (the link's filter), so the mutation meets every handshake state.
      fc.assert(
        fc.property(
          fc.boolean(),
          fc.integer({ min: 0, max: 5 }),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }),
          (toServer, index, flips) => {
            const replace = (d: Uint8Array): Uint8Array => {
              const b = d.slice();
              for (const [at, bit] of flips) b[at % b.length]! ^= 1 << bit;
              return b;
            };
            const filter = (d: Uint8Array, info: { index: number }): { replace: Uint8Array } | 'deliver' =>
              info.index === index ? { replace: replace(d) } : 'deliver';
            const s = new Scenario({
              seed: 800 + index,
              kind,
              link: toServer ? { latency: 5, filter } : { latency: 5 },
              reverse: toServer ? { latency: 5 } : { latency: 5, filter },
            });
            const app = s.connect([2000]);
            s.sim.runUntil(() => app.complete || app.closed !== null, { maxTime: 60_000 });
            assert.deepEqual(app.errors, []);
            if (!app.complete) checkOutcome(app.events, app.conn.state, 'client');
            else assert.equal(closedOf(app.events), null);
          },
        ),
        { numRuns: kind === 'node' ? 60 : 25 },
      );
    });
  }
});
