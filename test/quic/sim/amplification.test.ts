/**
 * Interop runner "amplificationlimit" in the simulator: a server whose certificate chain is over 7500 bytes
 * (made here: four intermediates with a padding extension each) must not send more than three times what it
 * received before the client's address is validated (RFC 9000 section 8.1: "Prior to validating the client
 * address, servers MUST NOT send more than three times as many bytes as the number of bytes they have
 * received"), and the handshake still completes: the client's PTO keeps sending (RFC 9002 section 6.2.2.1:
 * the anti-deadlock probe, "the client MUST set the PTO timer if the client has not received an
 * acknowledgment for any of its Handshake packets and the handshake is not confirmed").
 *
 * The check is made on the wire, with the tap, independently of the server's own counters: the client's
 * address is validated when the server first receives a Handshake packet from it (section 8.1); every
 * datagram the server sent before that is held against the bytes it had received by then.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeDatagram, type TapRecord } from '../support/sim.js';
import { TlsAlertError } from '../../../src/quic/tls/errors.js';
import { nodeCertificateVerifier } from '../../../src/quic/tls/node.js';
import { clientErrors, makeChain, PROVIDER_KINDS, Scenario, SERVER_NAME } from './support.js';

const chain = makeChain(4, 1800);

/** Time the server first received a Handshake packet from the client (null: never). */
function validationTime(tap: readonly TapRecord[]): number | null {
  let t: number | null = null;
  for (const r of tap) {
    if (r.link !== 'client->server' || r.arrived === null) continue;
    if (!describeDatagram(r.deliveredBytes!, 8).packets.some((p) => p.kind === 'handshake')) continue;
    if (t === null || r.arrived < t) t = r.arrived;
  }
  return t;
}

/** Checks the 3x limit at every datagram the server sent before `validated`; returns the totals at the end of that period. */
function checkLimit(tap: readonly TapRecord[], validated: number): { sent: number; received: number; datagrams: number } {
  const received = tap.filter((r) => r.link === 'client->server' && r.arrived !== null);
  let sent = 0;
  let datagrams = 0;
  let got = 0;
  for (const r of tap) {
    if (r.link !== 'server->client' || r.sent >= validated) continue;
    sent += r.size;
    datagrams++;
    got = received.filter((x) => x.arrived! <= r.sent).reduce((n, x) => n + x.size, 0);
    assert.ok(sent <= 3 * got, `at t=${r.sent} the server had sent ${sent} bytes against ${got} received`);
  }
  return { sent, received: got, datagrams };
}

describe('sim: amplificationlimit', () => {
  it('the test chain is over 7500 bytes and verifies against its root', () => {
    assert.ok(chain.size > 7500, `chain of ${chain.size} bytes`);
    assert.equal(chain.chain.length, 5);
    nodeCertificateVerifier({ ca: [chain.root] })(chain.chain, SERVER_NAME);
    // A root with the same name and another key is refused (the client really checks the chain in these runs).
    const other = makeChain(0, 0, 100);
    assert.throws(
      () => nodeCertificateVerifier({ ca: [other.root] })(chain.chain, SERVER_NAME),
      (e: unknown) => e instanceof TlsAlertError,
    );
  });

  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: the server stays within 3x before validation and the handshake completes`, () => {
      const s = new Scenario({ seed: 40, kind, chain, link: { latency: 10 }, sim: { tap: true } });
      const app = s.connect([2000]);
      s.sim.runUntil(() => app.complete || app.closed !== null, { maxTime: 30_000 });
      assert.deepEqual(clientErrors(s), []);
      assert.ok(app.complete);
      const validated = validationTime(s.sim.tap);
      assert.ok(validated !== null);
      const { sent, received } = checkLimit(s.sim.tap, validated);
      // The limit was what held the server back: its first flight could not carry the chain.
      assert.ok(sent < chain.size, `sent ${sent} bytes before validation, chain ${chain.size}`);
      assert.equal(sent, 3 * received, 'the server used its whole allowance');
      // The simulator's own per-path counters agree with the tap at the end.
      const totals = s.serverNode.trafficWith(s.clientNode.address);
      assert.equal(
        totals.sentBytes,
        s.sim.tap.filter((r) => r.link === 'server->client').reduce((n, r) => n + r.size, 0),
      );
    });

    it(`${kind}: the client's acknowledgment is lost; its anti-deadlock probe unblocks the server`, () => {
      // The client's second datagram (Initial ACK + Handshake ACK, padded) is dropped: the server, blocked
      // at 3x, cannot send, and the client has nothing ack-eliciting in flight. Only the client's PTO can
      // break the wait (section 6.2.2.1); its probe is a Handshake packet, which validates the address.
      const s = new Scenario({
        seed: 41,
        kind,
        chain,
        sim: { tap: true },
        link: { latency: 10, filter: (_d, info) => (info.index === 1 ? 'drop' : 'deliver') },
        reverse: { latency: 10 },
      });
      const app = s.connect([2000]);
      s.sim.runUntil(() => app.complete || app.closed !== null, { maxTime: 30_000 });
      assert.deepEqual(clientErrors(s), []);
      assert.ok(app.complete);
      const fromClient = s.sim.tap.filter((r) => r.link === 'client->server');
      assert.equal(fromClient[1]!.fate, 'filtered');
      const probe = fromClient[2]!;
      assert.ok(probe.sent > fromClient[1]!.sent, 'a later datagram: the PTO probe');
      assert.ok(describeDatagram(probe.bytes!, 8).packets.some((p) => p.kind === 'handshake'));
      const validated = validationTime(s.sim.tap);
      assert.equal(validated, probe.arrived);
      const before = checkLimit(s.sim.tap, validated!);
      // Nothing left the server between using up its allowance and the probe's arrival.
      const stalled = s.sim.tap.filter((r) => r.link === 'server->client' && r.sent > fromClient[1]!.sent && r.sent < validated!);
      assert.deepEqual(stalled, []);
      assert.equal(before.sent, 3 * before.received);
    });
  }
});
