/**
 * HTTP/3 test helpers: an HTTP/3 (or hq-interop) client and server over the lossless in-memory QUIC
 * Pair of test/quic/connection/support.ts, in virtual time. Each side can also be left "raw" (a plain
 * QUIC connection the test drives by hand), to play a misbehaving peer byte by byte.
 */
import type { ConnectionEvent } from '../../src/quic/connection/events.js';
import type { Connection } from '../../src/quic/connection/connection.js';
import { Http3Connection } from '../../src/http3/connection.js';
import type { Http3Event, Http3Options } from '../../src/http3/events.js';
import { HqConnection, type HqEvent } from '../../src/http3/hq.js';
import type { HeaderField } from '../../src/http3/qpack/index.js';
import { Pair, type PairOptions } from '../quic/connection/support.js';

/** One side of the pair: an HTTP/3 connection, an hq connection, or the raw QUIC connection. */
export type Side<E> = {
  /** The QUIC events this side saw, in order. */
  readonly quicEvents: ConnectionEvent[];
  /** The application events this side produced, in order. */
  readonly events: E[];
};

export interface H3PairOptions extends PairOptions {
  readonly clientH3?: Http3Options;
  readonly serverH3?: Http3Options;
  /** Leave the server as plain QUIC (the test plays the HTTP/3 server by hand). */
  readonly rawServer?: boolean;
  /** Leave the client as plain QUIC. */
  readonly rawClient?: boolean;
}

/**
 * Client and server HTTP/3 connections over a QUIC {@link Pair}. `onClient` / `onServer` see each
 * application event as it comes out (issue commands there); `onServerQuic` / `onClientQuic` see the QUIC
 * events of a raw side.
 */
export class H3Pair {
  readonly pair: Pair;
  readonly client: Http3Connection | null;
  server: Http3Connection | null = null;
  readonly clientEvents: Http3Event[] = [];
  readonly serverEvents: Http3Event[] = [];
  onClient: (e: Http3Event) => void = () => {};
  onServer: (e: Http3Event) => void = () => {};
  onServerQuic: (e: ConnectionEvent, quic: Connection) => void = () => {};
  onClientQuic: (e: ConnectionEvent, quic: Connection) => void = () => {};
  private ci = 0;
  private si = 0;
  private readonly options: H3PairOptions;

  constructor(o: H3PairOptions = {}) {
    this.options = o;
    this.pair = new Pair({
      ...o,
      client: { alpn: ['h3'], ...o.client },
      server: { alpn: ['h3'], ...o.server },
    });
    this.client = o.rawClient === true ? null : new Http3Connection(this.pair.client, o.clientH3);
  }

  /** Feeds new QUIC events to both sides and hands out the application events; true when anything moved. */
  private pump(): boolean {
    let moved = false;
    const p = this.pair;
    while (this.ci < p.clientEvents.length) {
      const ev = p.clientEvents[this.ci++]!;
      moved = true;
      if (this.client === null) this.onClientQuic(ev, p.client);
      else this.client.handleEvent(ev);
    }
    if (p.server !== null && this.server === null && this.options.rawServer !== true) {
      this.server = new Http3Connection(p.server, this.options.serverH3);
    }
    while (p.server !== null && this.si < p.serverEvents.length) {
      const ev = p.serverEvents[this.si++]!;
      moved = true;
      if (this.server === null) this.onServerQuic(ev, p.server);
      else this.server.handleEvent(ev);
    }
    for (let e = this.client?.nextEvent() ?? null; e !== null; e = this.client!.nextEvent()) {
      moved = true;
      this.clientEvents.push(e);
      this.onClient(e);
    }
    for (let e = this.server?.nextEvent() ?? null; e !== null; e = this.server!.nextEvent()) {
      moved = true;
      this.serverEvents.push(e);
      this.onServer(e);
    }
    return moved;
  }

  /** Drives both sides until `until` holds (bounded). */
  run(until: () => boolean, maxSteps = 20_000): void {
    this.pair.run(() => {
      for (let i = 0; this.pump(); i++) if (i > 100_000) throw new Error('H3Pair: events never settle');
      return until();
    }, maxSteps);
  }

  /** Runs until both handshakes are confirmed and both sides have the peer's SETTINGS (when HTTP/3). */
  connect(): void {
    this.run(
      () =>
        this.pair.clientEvents.some((e) => e.type === 'handshake-confirmed') &&
        this.pair.serverEvents.some((e) => e.type === 'handshake-confirmed') &&
        (this.client === null || this.client.settingsReceived) &&
        (this.server === null || this.options.rawServer === true || this.server.settingsReceived),
    );
  }
}

/** An hq-interop client and server over a QUIC {@link Pair}. */
export class HqPair {
  readonly pair: Pair;
  readonly client: HqConnection;
  server: HqConnection | null = null;
  readonly clientEvents: HqEvent[] = [];
  readonly serverEvents: HqEvent[] = [];
  onClient: (e: HqEvent) => void = () => {};
  onServer: (e: HqEvent) => void = () => {};
  private ci = 0;
  private si = 0;

  constructor(o: PairOptions = {}) {
    this.pair = new Pair({ ...o, client: { alpn: ['hq-interop'], ...o.client }, server: { alpn: ['hq-interop'], ...o.server } });
    this.client = new HqConnection(this.pair.client);
  }

  private pump(): boolean {
    let moved = false;
    const p = this.pair;
    while (this.ci < p.clientEvents.length) {
      moved = true;
      this.client.handleEvent(p.clientEvents[this.ci++]!);
    }
    if (p.server !== null && this.server === null) this.server = new HqConnection(p.server);
    while (this.server !== null && this.si < p.serverEvents.length) {
      moved = true;
      this.server.handleEvent(p.serverEvents[this.si++]!);
    }
    for (let e = this.client.nextEvent(); e !== null; e = this.client.nextEvent()) {
      moved = true;
      this.clientEvents.push(e);
      this.onClient(e);
    }
    for (let e = this.server?.nextEvent() ?? null; e !== null; e = this.server!.nextEvent()) {
      moved = true;
      this.serverEvents.push(e);
      this.onServer(e);
    }
    return moved;
  }

  run(until: () => boolean, maxSteps = 20_000): void {
    this.pair.run(() => {
      for (let i = 0; this.pump(); i++) if (i > 100_000) throw new Error('HqPair: events never settle');
      return until();
    }, maxSteps);
  }
}

/** Header fields from pairs. */
export function fields(...pairs: [string, string][]): HeaderField[] {
  return pairs.map(([name, value]) => ({ name, value }));
}

/** A GET request for `path`. */
export function getRequest(path: string, extra: [string, string][] = []): HeaderField[] {
  return fields([':method', 'GET'], [':scheme', 'https'], [':authority', 'localhost'], [':path', path], ...extra);
}

/** Deterministic pseudo-random bytes (byte i of stream `seed`), independent of the code under test. */
export function patternBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
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

/**
 * Sends `body` on a stream with backpressure: writes what the stream takes, and again on each
 * `stream-writable` event (call `resume` from the event handler). Finishes with FIN (and trailers when given).
 */
export class BodySender {
  private off = 0;
  done = false;
  constructor(
    private readonly h3: Http3Connection,
    readonly streamId: number,
    private readonly body: Uint8Array,
    private readonly trailers: HeaderField[] | null = null,
  ) {}
  resume(): void {
    if (this.done) return;
    while (this.off < this.body.length) {
      const n = this.h3.sendData(this.streamId, this.body.subarray(this.off), this.trailers === null);
      this.off += n;
      if (this.off < this.body.length) return; // wait for stream-writable
    }
    if (this.trailers !== null) this.h3.sendTrailers(this.streamId, this.trailers);
    else if (this.body.length === 0) this.h3.finish(this.streamId);
    this.done = true;
  }
}

/** Collects a stream's body from `data` hints. */
export function readAll(h3: Http3Connection, streamId: number, sink: Uint8Array[]): void {
  for (let d = h3.readData(streamId); d !== null; d = h3.readData(streamId)) sink.push(d.slice());
}
