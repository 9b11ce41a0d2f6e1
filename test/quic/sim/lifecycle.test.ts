/**
 * How connections and streams end, in the simulator, with both crypto providers: idle timeout (and
 * keep-alive holding it off), application and transport close codes seen by the peer (also when the first
 * CONNECTION_CLOSE is lost), and the stream reset / STOP_SENDING round trips, through loss.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeDatagram } from '../support/sim.js';
import { clientErrors, dropRate, KiB, MiB, PROVIDER_KINDS, Scenario, type ClientApp, type ServerApp } from './support.js';

function closeReason(app: { closed: unknown }): { kind: string; code: bigint; name: string | null; reason: string; initiator: string } {
  const e = app.closed as {
    type: string;
    reason?: { kind: string; code: bigint; name: string | null; reason: string; initiator: string };
  } | null;
  assert.ok(e !== null && e.type === 'closed' && e.reason !== undefined, 'a closed event');
  return e.reason;
}

function serverOf(s: Scenario): ServerApp {
  const server = s.serverList[0];
  assert.ok(server !== undefined, 'the server accepted the connection');
  return server;
}

describe('sim: idle timeout', () => {
  // RFC 9000 section 10.1: each side advertises max_idle_timeout and the effective timeout is the minimum of
  // the two; "An endpoint restarts its idle timer when a packet from its peer is received and processed
  // successfully" and the connection is then "silently closed and its state discarded" when it expires.
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: with no traffic both sides close silently after the smaller timeout (4 s of 4 s / 30 s)`, () => {
      const s = new Scenario({ seed: 50, kind, sim: { tap: true }, link: { latency: 10 }, client: { idleTimeout: 4_000 } });
      const app = s.connect([1000]);
      s.sim.runUntil(() => app.complete, { maxTime: 5_000 });
      s.sim.runUntil(() => s.doneAt.size === 2, { maxTime: 60_000 });
      const server = serverOf(s);
      for (const side of [app, server]) {
        const r = closeReason(side);
        assert.equal(r.initiator, 'idle-timeout');
        assert.equal(r.kind, 'transport');
        assert.equal(r.code, 0n);
      }
      // Each side times out 4 s (more than 3 PTOs here) after the last packet it received.
      const lastTo = (link: string): number =>
        Math.max(...s.sim.tap.filter((r) => r.link === link && r.arrived !== null).map((r) => r.arrived!));
      assert.equal(app.closedAt, lastTo('server->client') + 4_000);
      assert.equal(server.closedAt, lastTo('client->server') + 4_000);
      // Silently: nothing was sent after the last datagram that restarted a timer (no CONNECTION_CLOSE).
      const closes = s.sim.tap.filter((r) => r.sent >= Math.min(app.closedAt!, server.closedAt!));
      assert.deepEqual(closes, []);
      assert.equal(s.clientEndpoint.connections.length, 0);
      assert.equal(s.serverEndpoint.connections.length, 0);
    });

    it(`${kind}: a keep-alive PING every second holds the same connection open for 20 s`, () => {
      const s = new Scenario({ seed: 51, kind, link: { latency: 10 }, client: { idleTimeout: 4_000, keepAlive: 1_000 } });
      const app = s.connect([1000]);
      s.sim.runUntil(() => app.complete, { maxTime: 5_000 });
      s.sim.runFor(20_000);
      assert.equal(app.closed, null);
      assert.equal(serverOf(s).closed, null);
      assert.equal(app.conn.state, 'established');
    });
  }
});

describe('sim: close codes', () => {
  // RFC 9000 section 10.2: an immediate close sends CONNECTION_CLOSE; type 0x1d carries the application's
  // error code and reason (section 19.19), type 0x1c a transport error code. The peer enters the draining
  // state (10.2.2) and reports the code; both sides forget the connection after three PTOs.
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: the client's application close (0x1234, "enough") reaches the server during a download`, () => {
      const s = new Scenario({ seed: 52, kind, link: { latency: 10, bandwidth: 20e6 } });
      const app = s.connect([2 * MiB]);
      s.sim.runUntil(() => app.bytesReceived >= 256 * KiB, { maxTime: 10_000 });
      app.conn.close({ errorCode: 0x1234, reason: 'enough' });
      s.sim.runUntil(() => s.doneAt.size === 2, { maxTime: 30_000 });
      assert.deepEqual(clientErrors(s), []);
      assert.deepEqual(closeReason(app), {
        kind: 'application',
        code: 0x1234n,
        name: null,
        frameType: null,
        reason: 'enough',
        initiator: 'local',
      });
      assert.deepEqual(closeReason(serverOf(s)), {
        kind: 'application',
        code: 0x1234n,
        name: null,
        frameType: null,
        reason: 'enough',
        initiator: 'peer',
      });
    });

    it(`${kind}: a transport close (PROTOCOL_VIOLATION) by the server is reported with its name`, () => {
      const s = new Scenario({ seed: 53, kind, link: { latency: 10 } });
      const app = s.connect([1000]);
      s.sim.runUntil(() => app.complete, { maxTime: 5_000 });
      serverOf(s).conn.close({ kind: 'transport', errorCode: 0x0a, reason: 'test' });
      s.sim.runUntil(() => s.doneAt.size === 2, { maxTime: 30_000 });
      const r = closeReason(app);
      assert.equal(r.kind, 'transport');
      assert.equal(r.code, 0x0an);
      assert.equal(r.name, 'PROTOCOL_VIOLATION');
      assert.equal(r.reason, 'test');
      assert.equal(r.initiator, 'peer');
    });

    it(`${kind}: the first CONNECTION_CLOSE is lost; the closing client repeats it when data keeps arriving`, () => {
      // RFC 9000 section 10.2.1: "An endpoint in the closing state sends a packet containing a
      // CONNECTION_CLOSE frame in response to any incoming packet that it attributes to the connection".
      let closing = false;
      let dropped = false;
      const s = new Scenario({
        seed: 54,
        kind,
        sim: { tap: true },
        link: {
          latency: 10,
          bandwidth: 20e6,
          // Drop the first datagram the client sends after it closed (the filter runs as datagrams are sent).
          filter: () => {
            if (!closing || dropped) return 'deliver';
            dropped = true;
            return 'drop';
          },
        },
        reverse: { latency: 10, bandwidth: 20e6 },
      });
      const app = s.connect([4 * MiB]);
      s.sim.runUntil(() => app.bytesReceived >= 512 * KiB, { maxTime: 10_000 });
      const tapBefore = s.sim.tap.length;
      closing = true;
      app.conn.close({ errorCode: 7, reason: 'stop' });
      s.sim.runUntil(() => serverOf(s).closed !== null, { maxTime: 30_000 });
      const r = closeReason(serverOf(s));
      assert.equal(r.code, 7n);
      assert.equal(r.kind, 'application');
      const after = s.sim.tap.slice(tapBefore).filter((x) => x.link === 'client->server');
      assert.ok(after.length >= 2, 'the close was sent again');
      assert.equal(after[0]!.fate, 'filtered');
      // Closing sends nothing but CONNECTION_CLOSE: short packets, far fewer than the data that kept coming.
      for (const x of after) assert.ok(describeDatagram(x.bytes!, 8).packets.every((p) => p.kind === '1rtt' && p.length < 100));
      s.sim.runUntil(() => s.doneAt.size === 2, { maxTime: 30_000 });
    });
  }
});

describe('sim: stream reset and STOP_SENDING', () => {
  // RFC 9000 section 3.5: "An endpoint that receives a STOP_SENDING frame MUST send a RESET_STREAM frame if
  // the stream is in the 'Ready' or 'Send' state" (with, here, the peer's code); section 19.4: RESET_STREAM
  // carries the application error code and the final size; section 4.5: the final size is the amount of
  // flow-control credit consumed and must match on both sides. Section 13.3: both frames are sent again
  // until acknowledged, so the round trips also run through 5% loss.
  for (const kind of PROVIDER_KINDS) {
    for (const lossy of [false, true]) {
      const where = lossy ? 'through 5% loss' : 'on a clean link';
      const link = (seed: number, dir: string) => ({ latency: 10, ...(lossy ? { filter: dropRate(0.05, 3, seed, dir) } : {}) });

      it(`${kind}: STOP_SENDING from the client comes back as RESET_STREAM with its code, ${where}`, () => {
        const seed = lossy ? 61 : 60;
        const s = new Scenario({ seed, kind, link: link(seed, 'c2s'), reverse: link(seed, 's2c') });
        const app: ClientApp = s.connect([1 * MiB]);
        s.sim.runUntil(() => app.bytesReceived >= 64 * KiB, { maxTime: 20_000 });
        const id = app.downloads[0]!.streamId!;
        app.conn.streamStopSending(id, 7);
        s.sim.runUntil(() => app.events.some((e) => e.type === 'stream-reset'), { maxTime: 20_000 });
        const server = serverOf(s);
        const stop = server.events.find((e) => e.type === 'stream-stop-sending');
        assert.ok(stop !== undefined && stop.type === 'stream-stop-sending');
        assert.equal(stop.streamId, id);
        assert.equal(stop.errorCode, 7n);
        const reset = app.events.find((e) => e.type === 'stream-reset');
        assert.ok(reset !== undefined && reset.type === 'stream-reset');
        assert.equal(reset.streamId, id);
        assert.equal(reset.errorCode, 7n);
        // The final size: at least what the client read, at most the response.
        assert.ok(reset.finalSize >= app.bytesReceived && reset.finalSize <= MiB, `final size ${reset.finalSize}`);
        assert.ok(!app.complete);
        // The ClientApp records the reset as an error; nothing else went wrong.
        assert.deepEqual(clientErrors(s), [`stream ${id} reset by the server (7)`]);
        // Both sides reach the terminal states and forget the stream; the connection goes on.
        s.sim.runUntil(() => server.events.some((e) => e.type === 'stream-closed' && e.streamId === id), { maxTime: 20_000 });
        const more = s.connect([10_000]);
        s.sim.runUntil(() => more.complete, { maxTime: 20_000 });
      });

      it(`${kind}: STOP_SENDING while the server waits on backpressure: no stale stream-writable, no failed write, ${where}`, () => {
        // A 16 KiB send buffer keeps the server's writer waiting for `stream-writable`. The client's packet
        // carries an ACK (freeing the buffer: a writable hint is queued) and STOP_SENDING (the sending part is
        // reset). The hint must not reach the application once it is false: writing then would throw
        // ERR_STREAM_RESET (before the fix, most seeds failed this way).
        for (let i = 0; i < 5; i++) {
          const seed = (lossy ? 90 : 70) + i;
          const s = new Scenario({
            seed,
            kind,
            link: link(seed, 'c2s'),
            reverse: link(seed, 's2c'),
            server: { limits: { sendBufferSize: 16 * KiB } },
          });
          const app = s.connect([1 * MiB]);
          s.sim.runUntil(() => app.bytesReceived >= (20 + 7 * i) * KiB, { maxTime: 20_000 });
          app.conn.streamStopSending(app.downloads[0]!.streamId!, 3);
          s.sim.runUntil(() => app.events.some((e) => e.type === 'stream-reset'), { maxTime: 20_000 });
          const server = serverOf(s);
          assert.ok(server.events.some((e) => e.type === 'stream-stop-sending' && e.errorCode === 3n));
          assert.equal(server.closed, null);
        }
      });

      it(`${kind}: RESET_STREAM from the client reaches the server with its code and the exact final size, ${where}`, () => {
        const seed = lossy ? 63 : 62;
        const s = new Scenario({ seed, kind, link: link(seed, 'c2s'), reverse: link(seed, 's2c') });
        const app = s.connect([]);
        s.sim.runUntil(() => app.handshakeAt !== null, { maxTime: 20_000 });
        const id = app.conn.openStream(true)!;
        // An upload that never ends (no FIN): 50 KiB, all read by the server, then abandoned.
        const upload = new Uint8Array(50 * KiB).fill(0x61);
        assert.equal(app.conn.streamWrite(id, upload), upload.length);
        const server = serverOf(s);
        s.sim.runUntil(() => server.requestBytes(id) === upload.length, { maxTime: 20_000 });
        app.conn.streamReset(id, 9);
        s.sim.runUntil(() => server.events.some((e) => e.type === 'stream-reset'), { maxTime: 20_000 });
        const reset = server.events.find((e) => e.type === 'stream-reset');
        assert.ok(reset !== undefined && reset.type === 'stream-reset');
        assert.equal(reset.streamId, id);
        assert.equal(reset.errorCode, 9n);
        assert.equal(reset.finalSize, upload.length);
        assert.equal(server.closed, null);
        assert.equal(app.closed, null);
      });
    }
  }
});
