/**
 * Interop runner data cases in the simulator: "transfer" (flow-control credit must grow), "multiplexing"
 * (stream limits must be raised) and "goodput" (the figure is reported, only its sanity asserted). Every
 * response byte is checked against an independent pattern. The 10 MB runs use the node provider; the noble
 * provider runs smaller variants of the same cases (its AES-GCM costs more CPU per byte, not virtual time).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goodput } from '../support/sim.js';
import { clientErrors, KiB, MiB, Scenario, timed, type ClientApp, type ProviderKind } from './support.js';

/** The case's small windows: the receiver must send MAX_DATA / MAX_STREAM_DATA many times over. */
const SMALL_WINDOWS = { maxData: 64 * KiB, maxStreamDataBidiLocal: 32 * KiB, maxStreamDataBidiRemote: 32 * KiB };

function finish(s: Scenario, app: ClientApp, maxTime: number): number {
  const { ms } = timed(() => s.sim.runUntil(() => app.complete || app.errors.length > 0 || app.closed !== null, { maxTime }));
  assert.deepEqual(clientErrors(s), []);
  assert.equal(app.closed, null);
  assert.ok(app.complete);
  return ms;
}

describe('sim: transfer', () => {
  // RFC 9000 section 4.2: "A receiver MUST close the connection with an error of type FLOW_CONTROL_ERROR if the
  // sender violates the advertised connection or stream data limits"; the receiver keeps the sender going by
  // sending MAX_STREAM_DATA / MAX_DATA as the application consumes data (section 4.1). With a 64 KiB connection
  // window and 32 KiB stream windows, 10 MB only gets through if credit is returned over and over.
  const cases: [ProviderKind, number[], number][] = [
    ['node', [2 * MiB, 3 * MiB, 5 * MiB], 2],
    ['noble', [200 * KiB, 300 * KiB, 500 * KiB], 3],
  ];
  for (const [kind, sizes, seed] of cases) {
    const label = sizes.map((n) => (n >= MiB ? `${n / MiB} MB` : `${n / KiB} KiB`)).join(' + ');
    it(`${kind}: ${label} on three concurrent streams of one connection, 64 KiB / 32 KiB windows, byte-exact`, () => {
      const s = new Scenario({
        seed,
        kind,
        link: { latency: 10, bandwidth: 100e6 },
        client: { limits: SMALL_WINDOWS },
        server: { limits: SMALL_WINDOWS },
        keepEvents: false,
      });
      // The client's qlog shows the credit it returned: MAX_DATA / MAX_STREAM_DATA frames and their maxima.
      let maxData = 0;
      let maxDataFrames = 0;
      const maxStreamData = new Map<number, number>();
      const app = s.connect(sizes, Infinity, {
        qlog: (e) => {
          if (e.name !== 'transport:packet_sent') return;
          for (const f of e.data['frames'] as { frame_type: string; maximum?: number; stream_id?: number }[]) {
            if (f.frame_type === 'max_data') {
              maxDataFrames++;
              maxData = Math.max(maxData, f.maximum!);
            } else if (f.frame_type === 'max_stream_data') {
              maxStreamData.set(f.stream_id!, Math.max(maxStreamData.get(f.stream_id!) ?? 0, f.maximum!));
            }
          }
        },
      });
      const ms = finish(s, app, 120_000);
      const total = sizes.reduce((a, b) => a + b, 0);
      assert.equal(app.bytesReceived, total);
      assert.equal(app.maxOpen, 3);
      // Credit grew from 64 KiB to cover everything, in many steps; each stream's from 32 KiB to its size.
      assert.ok(maxData >= total, `largest MAX_DATA ${maxData} < ${total}`);
      assert.ok(maxDataFrames >= total / (64 * KiB), `${maxDataFrames} MAX_DATA frames`);
      for (const d of app.downloads) assert.ok((maxStreamData.get(d.streamId!) ?? 0) >= d.size, `stream ${d.streamId} credit`);
      const server = s.serverList[0]!.conn;
      console.log(
        `transfer ${kind} ${label}: ${s.sim.now.toFixed(0)} ms virtual, ${ms.toFixed(0)} ms wall, ` +
          `${server.stats.packetsSent} server packets (${server.stats.packetsLost} declared lost)`,
      );
    });
  }
});

describe('sim: multiplexing', () => {
  // RFC 9000 section 4.6: a peer may open at most initial_max_streams_bidi streams until MAX_STREAMS raises the
  // limit ("An endpoint MUST NOT exceed the limit set by its peer"); the server raises it as streams close.
  // The client asks for 2000 small responses with a server limit of 1000 (quic-go uses 1000 too): it must
  // wait for MAX_STREAMS (openStream returns null, then `streams-available`), and every stream completes.
  for (const kind of ['node', 'noble'] as const) {
    const count = kind === 'node' ? 2000 : 1200;
    it(`${kind}: ${count} streams with initial_max_streams_bidi 1000, the client waits for MAX_STREAMS, all complete`, () => {
      const s = new Scenario({ seed: 6, kind, link: { latency: 10, bandwidth: 50e6 }, server: { limits: { maxStreamsBidi: 1000 } } });
      const app = s.connect(
        Array.from({ length: count }, (_, i) => 32 + (i % 7) * 100),
        Infinity,
      );
      const ms = finish(s, app, 60_000);
      assert.ok(app.downloads.every((d) => d.done));
      // Never more than the server's limit open at once; the limit was reached and raised.
      assert.equal(app.maxOpen, 1000);
      assert.ok(app.blockedOnStreams);
      assert.ok(app.events.some((e) => e.type === 'streams-available' && e.bidi));
      const ids = new Set(app.downloads.map((d) => d.streamId));
      assert.equal(ids.size, count);
      console.log(`multiplexing ${kind} ${count} streams: ${s.sim.now.toFixed(0)} ms virtual, ${ms.toFixed(0)} ms wall`);
    });
  }
});

describe('sim: goodput', () => {
  // Interop "goodput" on a 10 Mbps link with 15 ms one-way delay and a 32 KiB queue (26 ms at 10 Mbps, about
  // one bandwidth-delay product): the download's application bytes over the time from the end of the
  // handshake to the last byte. Only a sane fraction of the link is asserted (RFC 9002 congestion control
  // must not collapse on a clean link); the figure is printed for the report. Virtual time: the figure does
  // not depend on the machine.
  const cases: [ProviderKind, number][] = [
    ['node', 10 * MiB],
    ['noble', 2 * MiB],
  ];
  for (const [kind, size] of cases) {
    it(`${kind}: ${size / MiB} MB over 10 Mbps / 15 ms uses more than half of the link`, () => {
      const s = new Scenario({ seed: 7, kind, link: { latency: 15, bandwidth: 10e6, queueBytes: 32 * KiB }, keepEvents: false });
      const app = s.connect([size]);
      const ms = finish(s, app, 120_000);
      const start = app.handshakeAt!;
      const end = app.downloads[0]!.doneAt!;
      const bps = goodput(size, end - start);
      console.log(
        `goodput ${kind} ${size / MiB} MB over 10 Mbps / 15 ms: ${(bps / 1e6).toFixed(2)} Mbit/s ` +
          `(${((bps / 10e6) * 100).toFixed(1)}% of the link; ${(end - start).toFixed(0)} ms virtual, ${ms.toFixed(0)} ms wall)`,
      );
      assert.ok(bps > 0.5 * 10e6, `goodput ${bps} bit/s`);
      assert.ok(bps <= 10e6, 'faster than the link: the simulator or the measure is wrong');
    });
  }
});
