/**
 * Model-based tests of the stream layer (STYLE.md habit 14): random command
 * sequences run against a client and a server StreamManager joined by a
 * network that loses, reorders and duplicates frames, with the acknowledgement
 * and loss decisions of a recovery layer also random. Every frame crosses the
 * real frame codec. After every command the invariants of RFC 9000 sections
 * 2 to 4 are checked; after the run, a loss-free drain must deliver every
 * byte of every finished stream exactly once, in order, and close it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Frame } from '../../../src/quic/frame.js';
import { StreamError } from '../../../src/quic/streams/errors.js';
import { StreamManager, type StreamFrameRecord, type StreamLimits } from '../../../src/quic/streams/manager.js';
import { canReceive, canSend, isLocallyInitiated } from '../../../src/quic/streams/stream-id.js';
import type { Role } from '../../../src/quic/transport-params.js';
import { byteAt, streamBytes, wire } from './support.js';

type Side = 0 | 1;
const ROLE: readonly [Role, Role] = ['client', 'server'];
const other = (s: Side): Side => (s === 0 ? 1 : 0);

interface InFlight {
  readonly from: Side;
  readonly frame: Frame;
  readonly record: StreamFrameRecord;
  delivered: boolean;
  /** Acknowledged or declared lost: the sender will not hear of it again. */
  resolved: boolean;
  /** The network still holds a copy that may arrive (again). */
  inNetwork: boolean;
}

/** What the applications did and saw, per side and stream: the reference the managers are checked against. */
interface AppStream {
  written: number;
  finished: boolean;
  /** Our sending part was reset (by us, or by the manager in answer to STOP_SENDING). */
  reset: boolean;
  stopped: boolean;
  read: number;
  finRead: boolean;
  /** The peer's reset as the event reported it. */
  peerReset: { errorCode: bigint; finalSize: number } | null;
  firstFinalSize: number | null;
  closed: boolean;
  opened: boolean;
}

interface Config {
  readonly limits: readonly [StreamLimits, StreamLimits];
  readonly sendBufferSize: number;
}

class World {
  readonly m: [StreamManager, StreamManager];
  readonly net: InFlight[] = [];
  readonly apps: [Map<number, AppStream>, Map<number, AppStream>] = [new Map(), new Map()];
  readonly cfg: Config;

  constructor(cfg: Config) {
    this.cfg = cfg;
    this.m = [0, 1].map((i) => new StreamManager({ role: ROLE[i]!, local: cfg.limits[i]!, sendBufferSize: cfg.sendBufferSize })) as [
      StreamManager,
      StreamManager,
    ];
    this.m[0].setPeerTransportParameters(cfg.limits[1]);
    this.m[1].setPeerTransportParameters(cfg.limits[0]);
  }

  app(side: Side, id: number): AppStream {
    let a = this.apps[side].get(id);
    if (a === undefined) {
      a = {
        written: 0,
        finished: false,
        reset: false,
        stopped: false,
        read: 0,
        finRead: false,
        peerReset: null,
        firstFinalSize: null,
        closed: false,
        opened: false,
      };
      this.apps[side].set(id, a);
    }
    return a;
  }

  /** A stream this side knows of (open or once open), picked by index. */
  pick(side: Side, n: number): number | null {
    const ids = [...this.apps[side].keys()].sort((a, b) => a - b);
    return ids.length === 0 ? null : ids[n % ids.length]!;
  }

  // --- application commands, each checking the outcome against the app record ---

  open(side: Side, bidi: boolean): void {
    const id = this.m[side].openStream(bidi);
    if (id === null) return;
    assert.ok(isLocallyInitiated(id, ROLE[side]));
    assert.equal(this.apps[side].has(id), false, 'a stream ID is never reused');
    this.app(side, id).opened = true;
  }

  write(side: Side, id: number, len: number): void {
    const a = this.app(side, id);
    const expected = !this.m[side].has(id)
      ? 'ERR_STREAM_UNKNOWN'
      : !canSend(id, ROLE[side])
        ? 'ERR_STREAM_NOT_WRITABLE'
        : a.reset
          ? 'ERR_STREAM_RESET'
          : a.finished
            ? 'ERR_STREAM_FINISHED'
            : null;
    try {
      const n = this.m[side].write(id, streamBytes(id, a.written, len));
      assert.equal(expected, null, `write should have failed with ${expected}`);
      assert.ok(n >= 0 && n <= len);
      a.written += n;
    } catch (e) {
      if (!(e instanceof StreamError)) throw e;
      assert.equal(e.code, expected);
    }
  }

  finish(side: Side, id: number): void {
    const a = this.app(side, id);
    try {
      this.m[side].finish(id);
      assert.ok(canSend(id, ROLE[side]) && !a.reset);
      a.finished = true;
    } catch (e) {
      if (!(e instanceof StreamError)) throw e;
      assert.ok(['ERR_STREAM_UNKNOWN', 'ERR_STREAM_NOT_WRITABLE', 'ERR_STREAM_RESET'].includes(e.code), e.code);
    }
  }

  reset(side: Side, id: number, code: bigint): void {
    const a = this.app(side, id);
    try {
      const before = this.m[side].sendState(id);
      this.m[side].resetStream(id, code);
      if (before !== 'data-recvd' && before !== null) a.reset = true;
    } catch (e) {
      if (!(e instanceof StreamError)) throw e;
      assert.ok(['ERR_STREAM_UNKNOWN', 'ERR_STREAM_NOT_WRITABLE'].includes(e.code), e.code);
    }
  }

  stop(side: Side, id: number, code: bigint): void {
    const a = this.app(side, id);
    try {
      const known = this.m[side].has(id);
      this.m[side].stopSending(id, code);
      if (known && a.peerReset === null && !a.finRead) a.stopped = true;
    } catch (e) {
      if (!(e instanceof StreamError)) throw e;
      assert.ok(['ERR_STREAM_UNKNOWN', 'ERR_STREAM_NOT_READABLE'].includes(e.code), e.code);
    }
  }

  read(side: Side, id: number, max: number): void {
    const a = this.app(side, id);
    try {
      const r = this.m[side].read(id, max);
      assert.ok(canReceive(id, ROLE[side]));
      assert.ok(!a.stopped && a.peerReset === null, 'read succeeded on a stopped or reset stream');
      if (r === null) return;
      assert.ok(r.data.length <= max);
      assert.ok(!a.finRead, 'data after the FIN');
      for (let i = 0; i < r.data.length; i++) assert.equal(r.data[i], byteAt(id, a.read + i), `stream ${id} byte ${a.read + i}`);
      a.read += r.data.length;
      if (r.fin) {
        // The FIN comes exactly after everything the peer application wrote and finished.
        const sender = this.app(other(side), id);
        assert.ok(sender.finished, 'FIN read but the sender never finished');
        assert.equal(a.read, sender.written, 'final size differs from what the sender wrote');
        a.finRead = true;
      }
    } catch (e) {
      if (!(e instanceof StreamError)) throw e;
      const ok =
        e.code === 'ERR_STREAM_UNKNOWN' ||
        (e.code === 'ERR_STREAM_NOT_READABLE' && !canReceive(id, ROLE[side])) ||
        (e.code === 'ERR_STREAM_STOPPED' && a.stopped) ||
        (e.code === 'ERR_STREAM_RESET' && a.peerReset !== null);
      assert.ok(ok, `unexpected ${e.code}`);
    }
  }

  // --- the network and the recovery layer ---

  transmit(side: Side, room: number, count: number): void {
    for (let i = 0; i < count; i++) {
      const p = this.m[side].nextFrame(room);
      if (p === null) return;
      // wire() re-encodes and decodes: the receiver gets fresh bytes, and sizes are checked.
      const frame = wire(p.frame);
      this.net.push({ from: side, frame, record: p.record, delivered: false, resolved: false, inNetwork: true });
    }
  }

  deliver(n: number, keep: boolean): void {
    const live = this.net.filter((x) => x.inNetwork);
    const x = live[n % Math.max(1, live.length)];
    if (x === undefined) return;
    this.handle(other(x.from), x.frame);
    x.delivered = true;
    if (!keep) x.inNetwork = false;
    this.gc();
  }

  handle(side: Side, frame: Frame): void {
    // Both managers follow the rules: any transport error is a bug on one side or the other.
    this.m[side].handleFrame(frame as never);
  }

  ack(n: number): void {
    const c = this.net.filter((x) => x.delivered && !x.resolved);
    const x = c[n % Math.max(1, c.length)];
    if (x === undefined) return;
    x.resolved = true;
    this.m[x.from].onFrameAcked(x.record);
    this.gc();
  }

  lose(n: number): void {
    const c = this.net.filter((x) => !x.resolved);
    const x = c[n % Math.max(1, c.length)];
    if (x === undefined) return;
    x.resolved = true;
    this.m[x.from].onFrameLost(x.record);
    this.gc();
  }

  drop(n: number): void {
    const live = this.net.filter((x) => x.inNetwork);
    const x = live[n % Math.max(1, live.length)];
    if (x !== undefined) x.inNetwork = false;
    this.gc();
  }

  private gc(): void {
    for (let i = this.net.length - 1; i >= 0; i--) if (this.net[i]!.resolved && !this.net[i]!.inNetwork) this.net.splice(i, 1);
  }

  // --- events and invariants ---

  drainEvents(): void {
    for (const side of [0, 1] as const) {
      for (let e = this.m[side].pollEvent(); e !== null; e = this.m[side].pollEvent()) {
        switch (e.type) {
          case 'stream-opened': {
            assert.ok(!isLocallyInitiated(e.streamId, ROLE[side]));
            const a = this.app(side, e.streamId);
            assert.equal(a.opened, false, 'opened twice');
            a.opened = true;
            break;
          }
          case 'stream-readable':
            assert.ok(canReceive(e.streamId, ROLE[side]));
            break;
          case 'stream-writable':
            assert.ok(this.m[side].writableBytes(e.streamId) * 2 >= this.cfg.sendBufferSize);
            break;
          case 'stream-finished':
            assert.ok(this.app(side, e.streamId).finished);
            break;
          case 'stream-reset': {
            const a = this.app(side, e.streamId);
            const sender = this.app(other(side), e.streamId);
            assert.ok(sender.reset, 'reset event but the peer never reset');
            assert.ok(e.finalSize >= a.read && e.finalSize <= sender.written);
            a.peerReset = { errorCode: e.errorCode, finalSize: e.finalSize };
            break;
          }
          case 'stream-stop-sending': {
            const a = this.app(side, e.streamId);
            assert.ok(this.app(other(side), e.streamId).stopped, 'stop-sending event but the peer never stopped');
            a.reset = true;
            break;
          }
          case 'stream-closed': {
            const a = this.app(side, e.streamId);
            assert.equal(a.closed, false, 'closed twice');
            assert.equal(this.m[side].has(e.streamId), false);
            a.closed = true;
            break;
          }
          case 'streams-available':
            break;
          default: {
            const never: never = e;
            assert.fail(`unknown event ${JSON.stringify(never)}`);
          }
        }
      }
    }
  }

  checkInvariants(): void {
    for (const side of [0, 1] as const) {
      const me = this.m[side];
      const peer = this.m[other(side)];
      const cf = me.connectionFlow();
      const pf = peer.connectionFlow();
      // Credit is never exceeded, and never believed larger than what the receiver granted.
      assert.ok(cf.sent <= cf.sendLimit, 'connection credit exceeded');
      assert.ok(cf.sendLimit <= pf.recvLimit, 'sender credit above the receiver limit');
      assert.ok(pf.received <= cf.sent, 'receiver counts more than was sent');
      let held = 0;
      for (const id of me.streamIds()) {
        const f = me.streamFlow(id)!;
        const a = this.app(side, id);
        if (f.sendBuffered !== null) assert.ok(f.sendBuffered <= this.cfg.sendBufferSize, 'send buffer over its bound');
        if (f.sendOffset !== null && f.sendLimit !== null) assert.ok(f.sendOffset <= f.sendLimit, 'stream credit exceeded');
        const pfl = peer.streamFlow(id);
        if (f.sendLimit !== null && pfl !== null && pfl.recvLimit !== null) assert.ok(f.sendLimit <= pfl.recvLimit);
        if (f.recvBuffered !== null) {
          // Memory stays within what flow control allows: at most one window beyond what was consumed.
          assert.ok(f.recvBuffered <= f.recvLimit! - f.recvConsumed!, 'receive buffer beyond the window');
          held += f.recvBuffered;
        }
        // The final size, once known, never changes.
        if (f.finalSizeReceived !== null) {
          if (a.firstFinalSize === null) a.firstFinalSize = f.finalSizeReceived;
          assert.equal(f.finalSizeReceived, a.firstFinalSize, 'final size changed');
        }
      }
      assert.ok(held <= cf.recvLimit - cf.consumed, 'connection receive buffers beyond the window');
      const counts = me.streamCounts();
      for (const d of [0, 1]) assert.ok(counts.localOpened[d]! <= counts.localLimit[d]!, 'opened more streams than allowed');
    }
  }

  /** Loss-free rounds until quiet: everything in flight is acknowledged or lost, everything readable read. */
  drain(): void {
    for (const x of this.net) x.inNetwork = false;
    for (const x of this.net) {
      if (x.resolved) continue;
      x.resolved = true;
      if (x.delivered) this.m[x.from].onFrameAcked(x.record);
      else this.m[x.from].onFrameLost(x.record);
    }
    this.net.length = 0;
    let quiet = 0;
    for (let round = 0; round < 20_000 && quiet < 2; round++) {
      let moved = false;
      for (const side of [0, 1] as const) {
        for (let p = this.m[side].nextFrame(1200); p !== null; p = this.m[side].nextFrame(1200)) {
          this.handle(other(side), wire(p.frame));
          this.m[side].onFrameAcked(p.record);
          // Events describe the moment they were queued: look at them before anything else happens.
          this.drainEvents();
          moved = true;
        }
        for (const id of [...this.apps[side].keys()]) {
          if (this.m[side].has(id) && canReceive(id, ROLE[side])) this.read(side, id, Infinity);
        }
        this.drainEvents();
        this.checkInvariants();
      }
      quiet = moved ? 0 : quiet + 1;
    }
    assert.equal(this.m[0].hasPendingFrames() || this.m[1].hasPendingFrames(), false, `still sending after the drain: ${this.dump()}`);
    this.checkDelivery();
  }

  /** The state of both managers, for failure messages. */
  dump(): string {
    return JSON.stringify(
      this.m.map((m) => ({
        pending: m.hasPendingFrames(),
        conn: m.connectionFlow(),
        streams: m.streamIds().map((id) => ({ id, send: m.sendState(id), recv: m.recvState(id), ...m.streamFlow(id) })),
      })),
    );
  }

  /** After the drain: every byte of a finished stream arrived once and in order, and done streams are closed. */
  checkDelivery(): void {
    for (const side of [0, 1] as const) {
      for (const [id, a] of this.apps[side]) {
        if (!canSend(id, ROLE[side])) continue;
        const r = this.app(other(side), id);
        if (a.finished && !a.reset && !r.stopped) {
          assert.equal(r.read, a.written, `stream ${id}: ${r.read} of ${a.written} bytes read`);
          assert.ok(r.finRead, `stream ${id}: FIN not read`);
        }
        if (a.reset && !r.stopped && !r.finRead) {
          assert.ok(r.peerReset !== null, `stream ${id}: reset never reached the receiver`);
        }
        // Liveness: a stream whose every sending part is done (finished or reset) ends up closed on both sides.
        const reverseDone = !canSend(id, ROLE[other(side)]) || r.finished || r.reset;
        if ((a.finished || a.reset) && reverseDone && a.opened && r.opened) {
          assert.equal(this.m[side].has(id), false, `stream ${id} still open on side ${side}`);
          assert.equal(this.m[other(side)].has(id), false, `stream ${id} still open on side ${other(side)}`);
        }
      }
    }
  }
}

type Cmd = fc.Command<object, World>;

/** fc.commands picks uniformly among its arbitraries: repeat each by its weight. */
function weighted(table: Record<string, [number, fc.Arbitrary<Cmd>]>): fc.Arbitrary<Cmd>[] {
  return Object.values(table).flatMap(([n, arb]) => new Array<fc.Arbitrary<Cmd>>(n).fill(arb));
}

const side = fc.constantFrom<Side>(0, 1);
const pickN = fc.nat(1000);

function cmd(name: string, run: (w: World) => void): Cmd {
  return {
    check: () => true,
    run: (_m, w) => {
      run(w);
      w.drainEvents();
      w.checkInvariants();
    },
    toString: () => name,
  };
}

const commands: fc.Arbitrary<Cmd>[] = weighted({
  open: [1, fc.tuple(side, fc.boolean()).map(([s, b]) => cmd(`open(${s},${b})`, (w) => w.open(s, b)))],
  write: [
    4,
    fc.tuple(side, pickN, fc.integer({ min: 0, max: 400 })).map(([s, n, len]) =>
      cmd(`write(${s},${n},${len})`, (w) => {
        const id = w.pick(s, n);
        if (id !== null) w.write(s, id, len);
      }),
    ),
  ],
  finish: [
    2,
    fc.tuple(side, pickN).map(([s, n]) =>
      cmd(`finish(${s},${n})`, (w) => {
        const id = w.pick(s, n);
        if (id !== null) w.finish(s, id);
      }),
    ),
  ],
  reset: [
    1,
    fc.tuple(side, pickN, fc.bigInt({ min: 0n, max: (1n << 62n) - 1n })).map(([s, n, code]) =>
      cmd(`reset(${s},${n})`, (w) => {
        const id = w.pick(s, n);
        if (id !== null) w.reset(s, id, code);
      }),
    ),
  ],
  stop: [
    1,
    fc.tuple(side, pickN, fc.bigInt({ min: 0n, max: 1000n })).map(([s, n, code]) =>
      cmd(`stop(${s},${n})`, (w) => {
        const id = w.pick(s, n);
        if (id !== null) w.stop(s, id, code);
      }),
    ),
  ],
  read: [
    3,
    fc.tuple(side, pickN, fc.integer({ min: 1, max: 500 })).map(([s, n, max]) =>
      cmd(`read(${s},${n},${max})`, (w) => {
        const id = w.pick(s, n);
        if (id !== null) w.read(s, id, max);
      }),
    ),
  ],
  transmit: [
    4,
    fc
      .tuple(side, fc.integer({ min: 1, max: 1200 }), fc.integer({ min: 1, max: 8 }))
      .map(([s, room, count]) => cmd(`transmit(${s},${room},${count})`, (w) => w.transmit(s, room, count))),
  ],
  deliver: [5, fc.tuple(pickN, fc.boolean()).map(([n, keep]) => cmd(`deliver(${n},${keep})`, (w) => w.deliver(n, keep)))],
  ack: [3, pickN.map((n) => cmd(`ack(${n})`, (w) => w.ack(n)))],
  lose: [2, pickN.map((n) => cmd(`lose(${n})`, (w) => w.lose(n)))],
  drop: [1, pickN.map((n) => cmd(`drop(${n})`, (w) => w.drop(n)))],
});

const limits: fc.Arbitrary<StreamLimits> = fc.record({
  initialMaxData: fc.integer({ min: 0, max: 3000 }),
  initialMaxStreamDataBidiLocal: fc.integer({ min: 0, max: 800 }),
  initialMaxStreamDataBidiRemote: fc.integer({ min: 0, max: 800 }),
  initialMaxStreamDataUni: fc.integer({ min: 0, max: 800 }),
  initialMaxStreamsBidi: fc.integer({ min: 0, max: 4 }),
  initialMaxStreamsUni: fc.integer({ min: 0, max: 4 }),
});

/**
 * Limits under which every stream can finish: nonzero windows (a zero window never grows, by design), and
 * not so tiny that the drain needs thousands of round trips (the other property covers tiny ones).
 */
const workingLimits: fc.Arbitrary<StreamLimits> = fc.record({
  initialMaxData: fc.integer({ min: 40, max: 3000 }),
  initialMaxStreamDataBidiLocal: fc.integer({ min: 20, max: 800 }),
  initialMaxStreamDataBidiRemote: fc.integer({ min: 20, max: 800 }),
  initialMaxStreamDataUni: fc.integer({ min: 20, max: 800 }),
  initialMaxStreamsBidi: fc.integer({ min: 1, max: 4 }),
  initialMaxStreamsUni: fc.integer({ min: 1, max: 4 }),
});

describe('stream layer model (RFC 9000 2-4, 13.3)', () => {
  it('random operations over a lossy, reordering, duplicating network keep every invariant and deliver every byte', () => {
    fc.assert(
      fc.property(
        fc.tuple(workingLimits, workingLimits),
        fc.integer({ min: 64, max: 2000 }),
        fc.commands(commands, { maxCommands: 150, size: 'medium' }),
        ([a, b], sendBufferSize, cmds) => {
          const w = new World({ limits: [a, b], sendBufferSize });
          for (const s of [0, 1] as const) for (const bidi of [true, true, false]) w.open(s, bidi);
          fc.modelRun(() => ({ model: {}, real: w }), cmds);
          w.drain();
        },
      ),
      { numRuns: 200, includeErrorInReport: true },
    );
  });

  it('with any limits, including zero windows and no streams, nothing breaks a rule', () => {
    fc.assert(
      fc.property(
        fc.tuple(limits, limits),
        fc.integer({ min: 1, max: 500 }),
        fc.commands(commands, { maxCommands: 80, size: 'medium' }),
        ([a, b], size, cmds) => {
          const w = new World({ limits: [a, b], sendBufferSize: size });
          fc.modelRun(() => ({ model: {}, real: w }), cmds);
        },
      ),
      { numRuns: 100, includeErrorInReport: true },
    );
  });
});

/** A small deterministic PRNG for the network (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('end-to-end pipe', () => {
  it('bytes written on one side are read, identical and in order, through loss, reordering and duplication', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 1, max: 40_000 }),
        fc.double({ min: 0, max: 0.4, noNaN: true }),
        fc.integer({ min: 100, max: 4000 }),
        fc.integer({ min: 200, max: 8000 }),
        (seed, total, lossRate, streamWindow, connWindow) => {
          const rnd = prng(seed);
          const lim: StreamLimits = {
            initialMaxData: connWindow,
            initialMaxStreamDataBidiLocal: streamWindow,
            initialMaxStreamDataBidiRemote: streamWindow,
            initialMaxStreamDataUni: streamWindow,
            initialMaxStreamsBidi: 1,
            initialMaxStreamsUni: 1,
          };
          const w = new World({ limits: [lim, lim], sendBufferSize: 3000 });
          const id = w.m[0].openStream(false)!;
          w.app(0, id).opened = true;
          let steps = 0;
          while (!w.app(1, id).finRead) {
            assert.ok(++steps < 20_000, 'no progress');
            const a = w.app(0, id);
            if (a.written < total) w.write(0, id, Math.min(total - a.written, 1 + Math.floor(rnd() * 2500)));
            else if (!a.finished) w.finish(0, id);
            for (const s of [0, 1] as const) w.transmit(s, 200 + Math.floor(rnd() * 1000), 1 + Math.floor(rnd() * 6));
            // The network: deliver a random frame (reordering), sometimes twice; lose some.
            for (let k = 0; k < 6 && w.net.length > 0; k++) {
              const r = rnd();
              const n = Math.floor(rnd() * 1000);
              if (r < lossRate) w.drop(n);
              else w.deliver(n, rnd() < 0.1);
            }
            // The recovery layer: acknowledge what arrived, declare lost what did not (sometimes spuriously).
            for (let k = 0; k < 6; k++) {
              if (rnd() < 0.7) w.ack(Math.floor(rnd() * 1000));
              else w.lose(Math.floor(rnd() * 1000));
            }
            if (rnd() < 0.7) w.read(1, id, 1 + Math.floor(rnd() * 5000));
            w.drainEvents();
            w.checkInvariants();
          }
          assert.equal(w.app(1, id).read, total);
        },
      ),
      { numRuns: 40, includeErrorInReport: true },
    );
  });
});
