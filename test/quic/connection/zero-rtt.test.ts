/**
 * 0-RTT on a lossless in-memory pair (RFC 9001 section 4.6, RFC 9000 section 7.4.1): what the client
 * sends before the handshake completes, within the server's remembered parameters; the server's
 * decision (its option, its ticket's parameters, TLS's own conditions); and what happens on rejection
 * (the data goes again in 1-RTT on the same streams, RFC 9001 section 4.6.2). Network scenarios are in
 * ../sim/zerortt.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConnectionEvent } from '../../../src/quic/connection/events.js';
import { decodeRememberedParameters, encodeRememberedParameters } from '../../../src/quic/connection/early-data.js';
import type { ServerConnectionOptions } from '../../../src/quic/connection/options.js';
import { decodeSessionTicket, encodeSessionTicket } from '../../../src/quic/tls/session.js';
import { SingleUseTicketCache, type EarlyDataInfo } from '../../../src/quic/tls/tickets.js';
import { concat } from '../../support/bytes.js';
import { describeDatagram } from '../support/sim.js';
import { Pair, PROVIDER_KINDS, type PairOptions, type ProviderKind } from './support.js';

const KEY = new Uint8Array(32).fill(7);
const TEXT = new TextEncoder();
const REQUEST = TEXT.encode('GET /index.html, sent before the handshake completed');

/** A session ticket from a first connection to a server with `server` options (tickets with KEY). */
function ticket(kind: ProviderKind, server: Partial<ServerConnectionOptions> = {}, seed = 1): Uint8Array {
  const pair = new Pair({ clientKind: kind, serverKind: kind, seed, server: { tickets: { key: KEY }, earlyData: true, ...server } });
  pair.handshake();
  pair.run(() => pair.clientEvents.some((e) => e.type === 'session-ticket'));
  const t = pair.clientEvents.find((e) => e.type === 'session-ticket');
  assert.ok(t !== undefined && t.type === 'session-ticket');
  return t.ticket;
}

/** A second connection resuming with `session` and 0-RTT; the client opens stream 0 and writes REQUEST + FIN at once. */
function resume(kind: ProviderKind, session: Uint8Array, o: PairOptions = {}): { pair: Pair; id: number } {
  const pair = new Pair({
    clientKind: kind,
    serverKind: kind,
    seed: 2,
    ...o,
    server: { tickets: { key: KEY }, earlyData: true, ...o.server },
    client: { session, earlyData: true, ...o.client },
  });
  const id = pair.client.openStream(true);
  assert.equal(id, 0);
  assert.equal(pair.client.streamWrite(0, REQUEST), REQUEST.length);
  pair.client.streamFinish(0);
  return { pair, id };
}

/** Packet kinds of the client's first datagram. */
function firstFlight(pair: Pair): string[] {
  const first = pair.wire[0];
  assert.ok(first !== undefined && first.from === 'client');
  return describeDatagram(first.datagram, 8).packets.map((p) => p.kind);
}

/** Everything the server read on `id` (and whether the FIN came). */
function serverRead(pair: Pair, id: number): { data: Uint8Array; fin: boolean } {
  const parts: Uint8Array[] = [];
  let fin = false;
  for (let r = pair.server!.streamRead(id); r !== null; r = r.fin ? null : pair.server!.streamRead(id)) {
    parts.push(r.data.slice());
    fin ||= r.fin;
  }
  return { data: concat(...parts), fin };
}

function completed(events: readonly ConnectionEvent[]): Extract<ConnectionEvent, { type: 'handshake-completed' }> {
  const e = events.find((x) => x.type === 'handshake-completed');
  assert.ok(e !== undefined && e.type === 'handshake-completed', 'handshake-completed');
  return e;
}

const hasReadable = (pair: Pair, id: number): boolean => pair.serverEvents.some((e) => e.type === 'stream-readable' && e.streamId === id);

describe('0-RTT accepted', () => {
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: the request goes in a 0-RTT packet with the Initial and the server reads it before its handshake completes`, () => {
      const { pair, id } = resume(kind, ticket(kind));
      pair.flush();
      // RFC 9000 section 12.2: the 0-RTT packet is coalesced behind the Initial in the first datagram.
      assert.deepEqual(firstFlight(pair), ['initial', '0rtt']);
      pair.run(() => completed(pair.serverEvents) !== undefined && hasReadable(pair, id));
      const order = pair.serverEvents.map((e) => e.type);
      assert.ok(order.indexOf('stream-readable') < order.indexOf('handshake-completed'), order.join(' '));
      assert.deepEqual(serverRead(pair, id), { data: REQUEST, fin: true });
      const c = completed(pair.clientEvents);
      assert.equal(c.resumed, true);
      assert.equal(c.earlyDataAccepted, true);
      assert.equal(completed(pair.serverEvents).earlyDataAccepted, true);
      // Stats: what the client sent in 0-RTT was acknowledged, and the server processed as much.
      const cs = pair.client.stats;
      assert.ok(cs.zeroRttBytesSent > REQUEST.length, `${cs.zeroRttBytesSent} bytes of 0-RTT`);
      assert.equal(cs.zeroRttBytesAccepted, cs.zeroRttBytesSent);
      assert.equal(pair.server!.stats.zeroRttBytesAccepted, cs.zeroRttBytesSent);
      // The answer comes back on the same stream.
      const answer = TEXT.encode('200 OK');
      pair.server!.streamWrite(id, answer);
      pair.server!.streamFinish(id);
      const got: Uint8Array[] = [];
      let fin = false;
      pair.run(() => {
        // After the FIN is read the stream is over (both directions done) and its ID unknown: stop there.
        for (let r = fin ? null : pair.client.streamRead(id); r !== null; r = r.fin ? null : pair.client.streamRead(id)) {
          got.push(r.data.slice());
          fin ||= r.fin;
        }
        return fin;
      });
      assert.deepEqual(concat(...got), answer);
    });
  }

  it('0-RTT packets respect the remembered limits (RFC 9000 section 7.4.1), the handshake raises them', () => {
    // The first server allowed 1000 bytes per stream and 2 streams; the second allows more (not a reduction).
    const session = ticket('node', { limits: { maxStreamDataBidiRemote: 1000, maxStreamsBidi: 2 } });
    const zeroRttStreamBytes: number[] = [];
    const pair = new Pair({
      seed: 3,
      server: { tickets: { key: KEY }, earlyData: true },
      client: {
        session,
        earlyData: true,
        qlog: (e) => {
          const h = e.data['header'] as { packet_type?: string } | undefined;
          if (e.name !== 'transport:packet_sent' || h?.packet_type !== '0rtt') return;
          for (const f of e.data['frames'] as { frame_type: string; length?: number }[])
            if (f.frame_type === 'stream') zeroRttStreamBytes.push(f.length!);
        },
      },
    });
    const data = new Uint8Array(5000).map((_, i) => i * 7);
    assert.equal(pair.client.openStream(true), 0);
    assert.equal(pair.client.openStream(true), 4);
    assert.equal(pair.client.openStream(true), null, 'the remembered initial_max_streams_bidi is 2');
    assert.equal(pair.client.streamWrite(0, data), data.length);
    pair.client.streamFinish(0);
    pair.run(() => pair.clientEvents.some((e) => e.type === 'handshake-completed'));
    assert.equal(completed(pair.clientEvents).earlyDataAccepted, true);
    assert.equal(
      zeroRttStreamBytes.reduce((a, b) => a + b, 0),
      1000,
      'stream data in 0-RTT packets: the remembered initial_max_stream_data_bidi_remote',
    );
    // The handshake's limits apply to 1-RTT: the rest of the data flows, and a third stream can be opened.
    assert.ok(pair.clientEvents.some((e) => e.type === 'streams-available' && e.bidi));
    assert.equal(pair.client.openStream(true), 8);
    const got: Uint8Array[] = [];
    let fin = false;
    pair.run(() => {
      if (pair.server === null) return false;
      const r = serverRead(pair, 0);
      got.push(r.data);
      fin ||= r.fin;
      return fin;
    });
    assert.deepEqual(concat(...got), data);
  });
});

describe('0-RTT rejected: the data goes again in 1-RTT on the same stream (RFC 9001 section 4.6.2)', () => {
  /** Runs the pair to the end of the exchange and checks the request arrived once, whole, in 1-RTT. */
  function checkReplayed(pair: Pair, id: number): void {
    pair.run(() => pair.serverEvents.some((e) => e.type === 'handshake-confirmed') && hasReadable(pair, id));
    assert.deepEqual(serverRead(pair, id), { data: REQUEST, fin: true });
    assert.equal(completed(pair.clientEvents).earlyDataAccepted, false);
    assert.equal(completed(pair.serverEvents).earlyDataAccepted, false);
    assert.ok(pair.client.stats.zeroRttBytesSent > 0, 'the client did send 0-RTT');
    assert.equal(pair.client.stats.zeroRttBytesAccepted, 0);
    assert.equal(pair.server!.stats.zeroRttBytesAccepted, 0);
    assert.ok(!pair.clientEvents.some((e) => e.type === 'closed'));
    // The rejected 0-RTT packets left bytes in flight without a congestion signal (RFC 9002 section 6.4): on this
    // lossless wire the window never went below the initial 12000 bytes (a loss would have cut it to 8400).
    assert.ok(pair.client.congestionWindow >= 12_000, `congestion window ${pair.client.congestionWindow}`);
  }

  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: the server's earlyData hook declines`, () => {
      const infos: EarlyDataInfo[] = [];
      const { pair, id } = resume(kind, ticket(kind, { tickets: { key: KEY, applicationData: Uint8Array.of(1, 2, 3) } }), {
        server: {
          tickets: { key: KEY, applicationData: Uint8Array.of(1, 2, 3) },
          earlyData: (info) => {
            infos.push(info);
            return false;
          },
        },
      });
      pair.flush();
      assert.deepEqual(firstFlight(pair), ['initial', '0rtt']);
      checkReplayed(pair, id);
      // The hook saw the application's own ticket data, not the transport parameters sealed next to it.
      assert.equal(infos.length, 1);
      assert.deepEqual(infos[0]!.applicationData, Uint8Array.of(1, 2, 3));
      // The server could not open the 0-RTT packet (no 0-RTT keys): it was dropped, not processed.
      assert.ok(pair.server!.stats.packetsDropped >= 1);
      assert.equal(completed(pair.clientEvents).resumed, true);
    });
  }

  it('a HelloRetryRequest rejects 0-RTT (RFC 8446 section 4.1.2): replayed once the handshake parameters arrive', () => {
    // The client offers an x25519 share first; this server only takes P-256: HelloRetryRequest.
    const { pair, id } = resume('node', ticket('node'), { server: { groups: ['secp256r1'] } });
    checkReplayed(pair, id);
  });

  it('the server lowered initial_max_data since the ticket: 0-RTT declined (RFC 9000 section 7.4.1)', () => {
    const session = ticket('node', { limits: { maxData: 1 << 20 } });
    const { pair, id } = resume('node', session, { server: { limits: { maxData: 1 << 19 } } });
    checkReplayed(pair, id);
    // Raised instead of lowered: accepted.
    const again = resume('node', ticket('node', { limits: { maxData: 1 << 19 } }), { server: { limits: { maxData: 1 << 20 } } });
    again.pair.handshake();
    assert.equal(completed(again.pair.clientEvents).earlyDataAccepted, true);
  });

  it('a single-use ticket cache accepts 0-RTT the first time a ticket is used and declines a replay of it', () => {
    const cache = new SingleUseTicketCache();
    const earlyData = (info: EarlyDataInfo): boolean => cache.useOnce(info.ticketId, info.expiresAt, info.now);
    const session = ticket('node');
    const first = resume('node', session, { server: { earlyData } });
    first.pair.handshake();
    assert.equal(completed(first.pair.clientEvents).earlyDataAccepted, true);
    const replay = resume('node', session, { server: { earlyData } });
    checkReplayed(replay.pair, replay.id);
  });

  it('another ALPN protocol negotiated: the 0-RTT streams end with stream-closed and nothing is replayed', () => {
    const session = ticket('node');
    const { pair, id } = resume('node', session, { client: { alpn: ['other', 'test'] }, server: { alpn: ['other', 'test'] } });
    pair.handshake();
    assert.equal(pair.client.alpn, 'other');
    assert.equal(completed(pair.clientEvents).earlyDataAccepted, false);
    assert.ok(pair.clientEvents.some((e) => e.type === 'stream-closed' && e.streamId === id));
    assert.ok(!pair.serverEvents.some((e) => e.type === 'stream-opened'), 'the server never saw the stream');
    // New streams start again at the first ID.
    assert.equal(pair.client.openStream(true), 0);
  });
});

describe('0-RTT checks and fallbacks', () => {
  it('a server accepting 0-RTT with a smaller initial_max_data than remembered: the client closes with PROTOCOL_VIOLATION', () => {
    // The client's copy of the parameters claims more than the server ever offered (the server's own sealed
    // copy agrees with its current values, so it accepts): RFC 9000 section 7.4.1 / RFC 9221 section 3.
    const t = decodeSessionTicket(ticket('node'));
    const remembered = decodeRememberedParameters(t.applicationData);
    const forged = encodeSessionTicket({
      ...t,
      applicationData: encodeRememberedParameters({ ...remembered, initialMaxData: remembered.initialMaxData + 1 }),
    });
    const { pair } = resume('node', forged);
    pair.run(() => pair.clientEvents.some((e) => e.type === 'closed'));
    const closed = pair.clientEvents.find((e) => e.type === 'closed');
    assert.ok(closed !== undefined && closed.type === 'closed');
    assert.equal(closed.reason.name, 'PROTOCOL_VIOLATION');
    assert.equal(closed.reason.initiator, 'local');
  });

  /** A resumption in which 0-RTT is not attempted: no stream before the handshake, a first flight of one Initial. */
  function withoutZeroRtt(session: Uint8Array, earlyData: boolean): void {
    const pair = new Pair({ seed: 5, server: { tickets: { key: KEY }, earlyData: true }, client: { session, earlyData } });
    // No remembered limits in use: the peer's stream limit is 0 until the handshake gives it.
    assert.equal(pair.client.openStream(true), null);
    pair.flush();
    assert.deepEqual(firstFlight(pair), ['initial']);
    pair.handshake();
    assert.equal(completed(pair.clientEvents).resumed, true);
    assert.equal(completed(pair.clientEvents).earlyDataAccepted, false);
    assert.equal(pair.client.stats.zeroRttBytesSent, 0);
    const id = pair.client.openStream(true);
    assert.equal(id, 0);
    pair.client.streamWrite(0, REQUEST);
    pair.client.streamFinish(0);
    pair.run(() => hasReadable(pair, 0));
    assert.deepEqual(serverRead(pair, 0), { data: REQUEST, fin: true });
  }

  it('a session without remembered parameters in our format resumes without 0-RTT', () => {
    const t = decodeSessionTicket(ticket('node'));
    withoutZeroRtt(encodeSessionTicket({ ...t, applicationData: Uint8Array.of(0x0f, 0x04, 0xaa) }), true);
  });

  it('without the earlyData option the client waits for 1-RTT even with a ticket that allows 0-RTT', () => {
    withoutZeroRtt(ticket('node'), false);
  });

  it('a server without the earlyData option issues tickets that do not allow 0-RTT', () => {
    const pair = new Pair({ seed: 4, server: { tickets: { key: KEY } } });
    pair.handshake();
    pair.run(() => pair.clientEvents.some((e) => e.type === 'session-ticket'));
    const t = pair.clientEvents.find((e) => e.type === 'session-ticket');
    assert.ok(t !== undefined && t.type === 'session-ticket');
    assert.equal(t.maxEarlyData, 0);
  });
});
