/**
 * Tests of the network simulator (sim.ts) and the seeded generator (rng.ts), with toy nodes: a scripted
 * sender, a sink, an echo node, and a stop-and-wait sender / receiver pair with a retransmission timer.
 * Expected times are computed from the link formulas (latency + size * 8 / bandwidth), never read back
 * from the simulator.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ConnectionEvent, ConnectionPollResult, Path, SocketAddress } from '../../../src/quic/connection/events.js';
import { createNobleProvider } from '../../../src/quic/crypto/noble.js';
import { Rng, seededRandomSource } from './rng.js';
import {
  describeDatagram,
  formatAddress,
  goodput,
  Sim,
  SimLivelockError,
  type LinkSettings,
  type SimNode,
  type SimNodeHandle,
  type SimPollResult,
  type TapFate,
  type TapRecord,
} from './sim.js';

// ---------------------------------------------------------------------------------------------------
// toy nodes

const A: SocketAddress = { address: '10.0.0.1', port: 5000 };
const B: SocketAddress = { address: '10.0.0.2', port: 4433 };
const C: SocketAddress = { address: '10.0.0.3', port: 4433 };
const D: SocketAddress = { address: '10.0.0.4', port: 4433 };

type Result<E> = SimPollResult<E>;
const NEED_READ_NONE = { type: 'need-read', deadline: null } as const;

/** Throws if a node ever sees time go back. */
class Clock {
  last = -Infinity;
  see(now: number): void {
    if (now < this.last) throw new Error(`time went back: ${now} < ${this.last}`);
    this.last = now;
  }
}

interface Planned {
  readonly at: number;
  readonly to: SocketAddress;
  readonly size?: number;
  readonly bytes?: Uint8Array;
  readonly from?: SocketAddress;
}

interface Received {
  readonly now: number;
  readonly bytes: Uint8Array;
  readonly path: Path;
}

/** Datagram `i` of a script: its index as u32 big-endian, then bytes derived from it. */
function scriptBytes(i: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let k = 0; k < size; k++) b[k] = (i * 31 + k * 7) & 0xff;
  if (size >= 4) new DataView(b.buffer).setUint32(0, i);
  return b;
}

function indexOf(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
}

/**
 * Sends planned datagrams at planned times (deadline = the next one's time) and records what it receives.
 * With `reuse`, every datagram is written into one buffer, overwritten on the next poll (as a connection may).
 */
class ScriptNode implements SimNode<never> {
  readonly received: Received[] = [];
  readonly clock = new Clock();
  private i = 0;
  private readonly buf = new Uint8Array(65536);
  constructor(
    private readonly me: SocketAddress,
    private readonly plan: readonly Planned[],
    private readonly reuse = false,
  ) {}
  receive(datagram: Uint8Array, path: Path, now: number): void {
    this.clock.see(now);
    this.received.push({ now, bytes: datagram, path });
  }
  poll(now: number): Result<never> {
    this.clock.see(now);
    if (this.reuse) this.buf.fill(0xee);
    const p = this.plan[this.i];
    if (p === undefined) return NEED_READ_NONE;
    if (p.at > now) return { type: 'need-read', deadline: p.at };
    const bytes = p.bytes ?? scriptBytes(this.i, p.size ?? 100);
    this.i++;
    let datagram = bytes;
    if (this.reuse) {
      this.buf.set(bytes);
      datagram = this.buf.subarray(0, bytes.length);
    }
    return { type: 'need-write', datagram, path: { local: p.from ?? this.me, remote: p.to } };
  }
}

/** `n` datagrams of `size` bytes to `to`, the i-th at `at(i)`. */
function plan(n: number, to: SocketAddress, at: (i: number) => number = () => 0, size = 100): Planned[] {
  return Array.from({ length: n }, (_, i) => ({ at: at(i), to, size }));
}

type SinkEvent = { readonly type: 'got'; readonly size: number };

/** Records what arrives, reports each arrival as an event, and sends whatever `reply` queues (a command). */
class Sink implements SimNode<SinkEvent> {
  readonly received: Received[] = [];
  readonly clock = new Clock();
  private readonly events: SinkEvent[] = [];
  private readonly out: { datagram: Uint8Array; path: Path }[] = [];
  /** Overwrite received datagrams in place (as a receiver decrypting in place would). */
  constructor(private readonly scribble = false) {}
  receive(datagram: Uint8Array, path: Path, now: number): void {
    this.clock.see(now);
    this.received.push({ now, bytes: datagram.slice(), path });
    if (this.scribble) datagram.fill(0);
    this.events.push({ type: 'got', size: datagram.length });
  }
  reply(datagram: Uint8Array, path: Path): void {
    this.out.push({ datagram, path });
  }
  poll(now: number): Result<SinkEvent> {
    this.clock.see(now);
    const e = this.events.shift();
    if (e !== undefined) return { type: 'event', event: e };
    const o = this.out.shift();
    if (o !== undefined) return { type: 'need-write', ...o };
    return NEED_READ_NONE;
  }
}

/** Sends every datagram back where it came from. */
class Echo implements SimNode<never> {
  readonly seen: Received[] = [];
  private readonly out: { datagram: Uint8Array; path: Path }[] = [];
  receive(datagram: Uint8Array, path: Path, now: number): void {
    this.seen.push({ now, bytes: datagram.slice(), path });
    this.out.push({ datagram: datagram.slice(), path });
  }
  poll(): Result<never> {
    const o = this.out.shift();
    return o === undefined ? NEED_READ_NONE : { type: 'need-write', ...o };
  }
}

/** Checksum of a toy packet: sum of every byte but the second-to-last... kept simple: all bytes but byte 4. */
function checksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i++) if (i !== 4) s = (s + b[i]!) & 0xff;
  return s;
}

function toyPacket(seq: number, size: number): Uint8Array {
  const b = scriptBytes(seq, Math.max(size, 5));
  b[4] = checksum(b);
  return b;
}

function toyValid(b: Uint8Array): boolean {
  return b.length >= 5 && b[4] === checksum(b);
}

type SenderEvent = { readonly type: 'acked'; readonly seq: number } | { readonly type: 'complete' };

/** Stop-and-wait: sends message `seq`, retransmits it every `rto` ms until its ACK arrives, then the next. */
class StopAndWaitSender implements SimNode<SenderEvent> {
  readonly clock = new Clock();
  seq = 0;
  transmissions = 0;
  private timer: number | null = null;
  private readonly events: SenderEvent[] = [];
  private completeSent = false;
  constructor(
    private readonly me: SocketAddress,
    private readonly peer: SocketAddress,
    private readonly count: number,
    private readonly rto = 100,
    private readonly size = 200,
  ) {}
  receive(datagram: Uint8Array, _path: Path, now: number): void {
    this.clock.see(now);
    if (!toyValid(datagram) || indexOf(datagram) !== this.seq || this.seq >= this.count) return;
    this.events.push({ type: 'acked', seq: this.seq });
    this.seq++;
    this.timer = null;
  }
  poll(now: number): Result<SenderEvent> {
    this.clock.see(now);
    const e = this.events.shift();
    if (e !== undefined) return { type: 'event', event: e };
    if (this.seq >= this.count) {
      if (!this.completeSent) {
        this.completeSent = true;
        return { type: 'event', event: { type: 'complete' } };
      }
      return { type: 'done' };
    }
    if (this.timer === null || this.timer <= now) {
      this.timer = now + this.rto;
      this.transmissions++;
      return { type: 'need-write', datagram: toyPacket(this.seq, this.size), path: { local: this.me, remote: this.peer } };
    }
    return { type: 'need-read', deadline: this.timer };
  }
}

type ReceiverEvent = { readonly type: 'data'; readonly seq: number };

/** Acknowledges every valid message (with a 5-byte ACK echoing its number) and reports new ones in order. */
class StopAndWaitReceiver implements SimNode<ReceiverEvent> {
  readonly clock = new Clock();
  expected = 0;
  corruptSeen = 0;
  private readonly events: ReceiverEvent[] = [];
  private readonly acks: { datagram: Uint8Array; path: Path }[] = [];
  receive(datagram: Uint8Array, path: Path, now: number): void {
    this.clock.see(now);
    if (!toyValid(datagram)) {
      this.corruptSeen++;
      return;
    }
    const seq = indexOf(datagram);
    if (seq === this.expected) {
      this.events.push({ type: 'data', seq });
      this.expected++;
    }
    if (seq < this.expected) this.acks.push({ datagram: toyPacket(seq, 5), path });
  }
  poll(now: number): Result<ReceiverEvent> {
    this.clock.see(now);
    const e = this.events.shift();
    if (e !== undefined) return { type: 'event', event: e };
    const a = this.acks.shift();
    if (a !== undefined) return { type: 'need-write', ...a };
    return NEED_READ_NONE;
  }
}

/** Two nodes sending one datagram back and forth forever. */
class PingPong implements SimNode<never> {
  private pending: Path | null;
  constructor(me: SocketAddress, peer: SocketAddress, starts: boolean) {
    this.pending = starts ? { local: me, remote: peer } : null;
  }
  receive(_d: Uint8Array, path: Path): void {
    this.pending = path;
  }
  poll(): Result<never> {
    const p = this.pending;
    if (p === null) return NEED_READ_NONE;
    this.pending = null;
    return { type: 'need-write', datagram: Uint8Array.of(1, 2, 3, 4, 5), path: p };
  }
}

/** A node with a fixed poll behaviour, for the livelock checks. */
class FixedNode<E> implements SimNode<E> {
  polls = 0;
  constructor(private readonly result: (now: number) => Result<E>) {}
  receive(): void {}
  poll(now: number): Result<E> {
    this.polls++;
    return this.result(now);
  }
}

function livelockCode(code: string, fn: () => unknown): SimLivelockError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SimLivelockError, `expected SimLivelockError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code);
  return caught;
}

function pair(options: ConstructorParameters<typeof Sim>[0], aPlan: readonly Planned[], link: LinkSettings) {
  const sim = new Sim(options);
  const sender = new ScriptNode(A, aPlan);
  const sink = new Sink();
  const a = sim.addNode('a', sender, { addresses: A });
  const b = sim.addNode('b', sink, { addresses: B });
  const l = sim.link(a, b).configure(link);
  return { sim, sender, sink, a, b, link: l };
}

function fates(tap: readonly TapRecord[]): TapFate[] {
  return tap.map((r) => r.fate);
}

// ---------------------------------------------------------------------------------------------------
// rng

/** PCG32 (XSH RR 64/32) in BigInt, straight from the reference description, to check the 32-bit version. */
function pcgReference(initState: bigint, initSeq: bigint, n: number): number[] {
  const M = (1n << 64n) - 1n;
  const inc = ((initSeq << 1n) | 1n) & M;
  let state = 0n;
  const next = (): number => {
    const old = state;
    state = (old * 6364136223846793005n + inc) & M;
    const xs = Number((((old >> 18n) ^ old) >> 27n) & 0xffffffffn);
    const rot = Number(old >> 59n);
    return ((xs >>> rot) | (xs << (-rot & 31))) >>> 0;
  };
  next();
  state = (state + initState) & M;
  next();
  return Array.from({ length: n }, next);
}

describe('rng', () => {
  it('matches the pcg32-demo reference output (seed 42, sequence 54)', () => {
    // pcg-c-basic's pcg32-demo, round 1: pcg32_srandom_r(&rng, 42u, 54u).
    const r = new Rng(42n, 54n);
    assert.deepEqual(
      Array.from({ length: 6 }, () => r.u32()),
      [0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e],
    );
  });

  it('matches a BigInt PCG32 for any state and sequence', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }), (s, q) => {
        const r = new Rng(s, q);
        assert.deepEqual(
          Array.from({ length: 20 }, () => r.u32()),
          pcgReference(s, q, 20),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('replays equal seeds and labels, separates different ones, and forks without drawing', () => {
    const draw = (r: Rng) => Array.from({ length: 8 }, () => r.u32());
    assert.deepEqual(draw(Rng.fromSeed(7, 'x')), draw(Rng.fromSeed(7, 'x')));
    assert.deepEqual(draw(Rng.fromSeed(7n, 'x')), draw(Rng.fromSeed(7, 'x')));
    assert.notDeepEqual(draw(Rng.fromSeed(7, 'x')), draw(Rng.fromSeed(8, 'x')));
    assert.notDeepEqual(draw(Rng.fromSeed(7, 'x')), draw(Rng.fromSeed(7, 'y')));
    assert.notDeepEqual(draw(Rng.fromSeed('7', 'x')), draw(Rng.fromSeed(7, 'x')));
    const parent = Rng.fromSeed(1);
    const twin = Rng.fromSeed(1);
    const child = parent.fork('c');
    assert.deepEqual(draw(parent), draw(twin));
    assert.deepEqual(draw(child), draw(Rng.fromSeed(1).fork('c')));
    assert.notDeepEqual(draw(Rng.fromSeed(1).fork('c')), draw(Rng.fromSeed(1).fork('d')));
  });

  it('gives ranges and floats within bounds, roughly uniform', () => {
    const r = Rng.fromSeed(3);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60000; i++) {
      const v = r.int(1, 6);
      assert.ok(Number.isInteger(v) && v >= 1 && v <= 6);
      counts[v - 1]!++;
      const f = r.float();
      assert.ok(f >= 0 && f < 1);
    }
    for (const c of counts) assert.ok(Math.abs(c - 10000) < 500, `face count ${c}`);
    assert.ok(r.below(2 ** 40) < 2 ** 40);
    assert.equal(r.chance(0), false);
    assert.equal(r.chance(1), true);
    assert.throws(() => r.below(0), RangeError);
    assert.throws(() => r.int(3, 2), RangeError);
  });

  it('fills bytes from the 32-bit outputs, little-endian, for any length', () => {
    const words = Array.from(
      { length: 3 },
      (
        (r) => () =>
          r.u32()
      )(Rng.fromSeed(9)),
    );
    const le = (w: number) => [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24];
    assert.deepEqual([...Rng.fromSeed(9).bytes(10)], [...le(words[0]!), ...le(words[1]!), ...le(words[2]!).slice(0, 2)]);
    assert.equal(Rng.fromSeed(9).bytes(0).length, 0);
  });

  it('makes a RandomSource the crypto providers replay', () => {
    const a = createNobleProvider({ random: seededRandomSource(5, 'client') });
    const b = createNobleProvider({ random: seededRandomSource(5, 'client') });
    const c = createNobleProvider({ random: seededRandomSource(5, 'server') });
    const x = a.random(48);
    assert.equal(x.length, 48);
    assert.deepEqual(b.random(48), x);
    assert.notDeepEqual(c.random(48), x);
    assert.deepEqual(seededRandomSource(5, 'client')(48), x);
  });
});

// ---------------------------------------------------------------------------------------------------
// links

describe('sim links', () => {
  it('adds latency and serialization delay: datagrams queue behind each other', () => {
    const size = 1250;
    const bandwidth = 10e6; // 1250 B * 8 / 10 Mbit/s = 1 ms each
    const latency = 5;
    const sends = [0, 0, 0, 10, 10.5];
    const { sim, sink } = pair(
      {},
      sends.map((at) => ({ at, to: B, size })),
      { latency, bandwidth },
    );
    sim.runUntilIdle();
    const tx = (size * 8 * 1000) / bandwidth;
    // Each datagram starts serializing when the link is free: max(send time, previous end).
    let busy = -Infinity;
    const expected = sends.map((at) => {
      busy = Math.max(at, busy) + tx;
      return busy + latency;
    });
    assert.deepEqual(expected, [6, 7, 8, 16, 17]);
    assert.deepEqual(
      sink.received.map((r) => r.now),
      expected,
    );
    assert.deepEqual(
      sink.received.map((r) => indexOf(r.bytes)),
      [0, 1, 2, 3, 4],
    );
  });

  it('starts at the given virtual time and never goes back', () => {
    const { sim, sink, sender } = pair({ start: 1000 }, [{ at: 1000, to: B }], { latency: 3 });
    assert.equal(sim.now, 1000);
    sim.runUntilIdle();
    assert.deepEqual(
      sink.received.map((r) => r.now),
      [1003],
    );
    assert.ok(sender.clock.last >= 1000);
  });

  it('tail-drops what does not fit in the queue, and admits again once it drained', () => {
    // 8 Mbit/s: 1000 bytes take 1 ms. The queue holds 3000 bytes, counting the one being serialized.
    const sends = [0, 0, 0, 0, 0, 1];
    const { sim, sink, link } = pair(
      { tap: true },
      sends.map((at) => ({ at, to: B, size: 1000 })),
      { bandwidth: 8e6, queueBytes: 3000 },
    );
    sim.runUntilIdle();
    assert.deepEqual(fates(sim.tap), ['delivered', 'delivered', 'delivered', 'queue', 'queue', 'delivered']);
    // At t=1 the first datagram is out: 2000 bytes queued, the sixth fits and leaves after the third (t=3).
    assert.deepEqual(
      sink.received.map((r) => [indexOf(r.bytes), r.now]),
      [
        [0, 1],
        [1, 2],
        [2, 3],
        [5, 4],
      ],
    );
    assert.equal(link.counters.dropped.queue, 2);
  });

  it('drops datagrams larger than the MTU', () => {
    const { sim, sink, link } = pair(
      { tap: true },
      [1280, 1281, 1200].map((size) => ({ at: 0, to: B, size })),
      { mtu: 1280 },
    );
    sim.runUntilIdle();
    assert.deepEqual(fates(sim.tap), ['delivered', 'mtu', 'delivered']);
    assert.deepEqual(
      sink.received.map((r) => r.bytes.length),
      [1280, 1200],
    );
    assert.equal(link.counters.dropped.mtu, 1);
    assert.equal(link.counters.droppedBytes, 1281);
  });

  it('drops everything sent during a blackhole period [start, end)', () => {
    const sends = [50, 100, 150, 199.5, 200, 250];
    const { sim, sink, link } = pair(
      { tap: true },
      sends.map((at) => ({ at, to: B })),
      { latency: 10 },
    );
    link.blackhole(100, 200).blackhole(240, 260);
    sim.runUntilIdle();
    assert.deepEqual(fates(sim.tap), ['delivered', 'blackhole', 'blackhole', 'blackhole', 'delivered', 'blackhole']);
    assert.deepEqual(
      sink.received.map((r) => r.now),
      [60, 210],
    );
  });

  it('loses close to the configured rate', () => {
    const n = 20000;
    const { sim, sink, link } = pair({ seed: 11 }, plan(n, B), { loss: 0.1 });
    sim.runUntilIdle();
    const rate = 1 - sink.received.length / n;
    assert.ok(Math.abs(rate - 0.1) < 0.01, `loss rate ${rate}`);
    assert.equal(link.counters.dropped.lost, n - sink.received.length);
    assert.equal(link.counters.sent, n);
    assert.equal(link.counters.delivered, sink.received.length);
  });

  /** Lengths of the runs of consecutive lost datagrams. */
  function lossRuns(lost: readonly boolean[]): number[] {
    const runs: number[] = [];
    let run = 0;
    for (const l of [...lost, false]) {
      if (l) run++;
      else if (run > 0) {
        runs.push(run);
        run = 0;
      }
    }
    return runs;
  }

  function lostFlags(sim: Sim, n: number): boolean[] {
    const lost = new Array<boolean>(n).fill(false);
    for (const r of sim.tap) if (r.fate === 'lost') lost[indexOf(r.bytes!)] = true;
    return lost;
  }

  it('loses in bursts of 1..maxBurst when asked', () => {
    const n = 20000;
    const independent = pair({ seed: 5, tap: { bytes: true } }, plan(n, B), { loss: 0.05 });
    independent.sim.runUntilIdle();
    const bursty = pair({ seed: 5, tap: true }, plan(n, B), { loss: 0.05, maxBurst: 4 });
    bursty.sim.runUntilIdle();
    const iRuns = lossRuns(lostFlags(independent.sim, n));
    const bRuns = lossRuns(lostFlags(bursty.sim, n));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // Independent losses at 5%: runs average 1/(1 - 0.05) ~ 1.05. Bursts of uniform 1..4 average 2.5
    // (a little more where a new loss starts right after a burst).
    assert.ok(mean(iRuns) < 1.15, `independent mean run ${mean(iRuns)}`);
    assert.ok(mean(bRuns) > 2.2 && mean(bRuns) < 3, `bursty mean run ${mean(bRuns)}`);
    assert.ok(Math.max(...bRuns) >= 4);
  });

  it('follows a Gilbert-Elliott model', () => {
    const n = 40000;
    const p = 0.01;
    const r = 0.25;
    const { sim } = pair({ seed: 8, tap: true }, plan(n, B), { gilbertElliott: { goodToBad: p, badToGood: r } });
    sim.runUntilIdle();
    const lost = lostFlags(sim, n);
    const rate = lost.filter(Boolean).length / n;
    const runs = lossRuns(lost);
    const meanRun = runs.reduce((a, b) => a + b, 0) / runs.length;
    // Stationary share of the bad state p / (p + r) ~ 3.85%; bad periods last 1 / r = 4 datagrams on average.
    assert.ok(Math.abs(rate - p / (p + r)) < 0.008, `rate ${rate}`);
    assert.ok(Math.abs(meanRun - 1 / r) < 0.7, `mean run ${meanRun}`);
  });

  it('drops exactly what a repeating 64-bit loss mask says', () => {
    const mask = (1n << 63n) | 0b1011n; // bits 0, 1, 3 and 63
    const n = 130;
    const { sim, sink } = pair({ tap: true }, plan(n, B), { lossMask: mask });
    sim.runUntilIdle();
    const expectedLost = [0, 1, 3, 63, 64, 65, 67, 127, 128, 129];
    assert.deepEqual(
      sim.tap.filter((t) => t.fate === 'lost').map((t) => indexOf(t.bytes!)),
      expectedLost,
    );
    assert.equal(sink.received.length, n - expectedLost.length);
  });

  it('counts loss-mask bits by submission index, whatever happened to earlier datagrams', () => {
    // Datagram 1 is dropped for its size; bit 2 still means the third datagram submitted.
    const { sim } = pair(
      { tap: true },
      [100, 2000, 100, 100].map((size) => ({ at: 0, to: B, size })),
      { lossMask: 0b100n, mtu: 1500 },
    );
    sim.runUntilIdle();
    assert.deepEqual(fates(sim.tap), ['delivered', 'mtu', 'lost', 'delivered']);
  });

  it('corrupts 1..corruptBytes bytes of a datagram, keeping its length', () => {
    const n = 300;
    const { sim, sink, link } = pair({ seed: 2, tap: true }, plan(n, B), { corruption: 1, corruptBytes: 3 });
    sim.runUntilIdle();
    assert.equal(sink.received.length, n);
    const changed = new Set<number>();
    sink.received.forEach((r, i) => {
      const sent = scriptBytes(i, 100);
      assert.equal(r.bytes.length, sent.length);
      let diff = 0;
      for (let k = 0; k < sent.length; k++) if (sent[k] !== r.bytes[k]) diff++;
      assert.ok(diff >= 1 && diff <= 3, `datagram ${i}: ${diff} bytes differ`);
      changed.add(diff);
    });
    assert.deepEqual([...changed].sort(), [1, 2, 3]);
    assert.ok(sim.tap.every((t) => t.fate === 'corrupted' && t.corrupted));
    assert.deepEqual(sim.tap[0]!.bytes, scriptBytes(0, 100));
    assert.deepEqual(sim.tap[0]!.deliveredBytes, sink.received[0]!.bytes);
    assert.equal(link.counters.corrupted, n);
  });

  it('corrupts about the configured fraction', () => {
    const n = 10000;
    const { sim, link } = pair({ seed: 4 }, plan(n, B), { corruption: 0.05 });
    sim.runUntilIdle();
    assert.ok(Math.abs(link.counters.corrupted / n - 0.05) < 0.01);
  });

  it('duplicates: the copy arrives duplicateDelay after the original', () => {
    const { sim, sink, link } = pair(
      { tap: true },
      plan(3, B, (i) => i * 100),
      { latency: 10, duplication: 1, duplicateDelay: 2 },
    );
    sim.runUntilIdle();
    assert.deepEqual(
      sink.received.map((r) => [indexOf(r.bytes), r.now]),
      [
        [0, 10],
        [0, 12],
        [1, 110],
        [1, 112],
        [2, 210],
        [2, 212],
      ],
    );
    assert.deepEqual(fates(sim.tap), ['delivered', 'duplicated', 'delivered', 'duplicated', 'delivered', 'duplicated']);
    assert.ok(sim.tap.filter((t) => t.fate === 'duplicated').every((t) => t.duplicate));
    const c = link.counters;
    assert.equal(c.sent, 3);
    assert.equal(c.duplicated, 3);
    assert.equal(c.delivered, 6);
  });

  it('reorders a fraction of datagrams by reorderDelay, losing none', () => {
    const n = 200;
    const { sim, sink, link } = pair(
      { seed: 9, tap: true },
      plan(n, B, (i) => i),
      { latency: 10, reorder: 0.3, reorderDelay: 5 },
    );
    sim.runUntilIdle();
    const order = sink.received.map((r) => indexOf(r.bytes));
    assert.deepEqual(
      [...order].sort((x, y) => x - y),
      Array.from({ length: n }, (_, i) => i),
    );
    assert.notDeepEqual(
      order,
      Array.from({ length: n }, (_, i) => i),
    );
    for (const r of sim.tap) assert.equal(r.arrived, indexOf(r.bytes!) + 10 + (r.reordered ? 5 : 0));
    const reordered = link.counters.reordered;
    assert.ok(reordered > 30 && reordered < 90, `reordered ${reordered}`);
  });

  it('jitters within [latency, latency + jitter), in order unless told otherwise', () => {
    const n = 300;
    for (const keep of [true, false]) {
      const { sim, sink } = pair(
        { seed: 1, tap: true },
        plan(n, B, (i) => i),
        { latency: 10, jitter: 4, jitterKeepsOrder: keep },
      );
      sim.runUntilIdle();
      for (const r of sim.tap) {
        const delay = r.arrived! - r.sent;
        assert.ok(delay >= 10 && delay < 14, `delay ${delay}`);
      }
      const order = sink.received.map((r) => indexOf(r.bytes));
      const inOrder = order.every((v, i) => i === 0 || v > order[i - 1]!);
      assert.equal(inOrder, keep);
    }
  });

  it('runs a scripted filter: drop the third datagram, delay one, replace one, hold one', () => {
    const replacement = Uint8Array.of(9, 9, 9, 9, 9);
    const { sim, sink, link } = pair(
      { tap: true },
      plan(6, B, (i) => i * 10),
      {
        latency: 1,
        filter: (d, info) => {
          assert.equal(indexOf(d), info.index);
          assert.equal(info.link, 'a->b');
          if (info.index === 2) return 'drop';
          if (info.index === 0) return { delay: 25 };
          if (info.index === 3) return { replace: replacement };
          if (info.index === 4) return 'hold';
          return 'deliver';
        },
      },
    );
    sim.runUntilIdle();
    assert.deepEqual(fates(sim.tap), ['delivered', 'delivered', 'filtered', 'delivered', 'held', 'delivered']);
    // Arrivals: 1 at 11, 0 at 0 + 1 + 25 = 26 (overtaken by 1), 3 at 31, 5 at 51; 2 dropped, 4 held.
    assert.deepEqual(
      sink.received.map((r) => r.now),
      [11, 26, 31, 51],
    );
    assert.deepEqual(sink.received[2]!.bytes, replacement);
    assert.deepEqual(sim.tap[3]!.deliveredBytes, replacement);
    assert.equal(sim.tap[3]!.size, 5);
    assert.equal(link.held, 1);
    assert.ok(sim.isIdle());

    sim.runFor(100);
    assert.equal(link.releaseHeld(), 1);
    sim.runUntilIdle();
    assert.equal(sim.tap[4]!.fate, 'delivered');
    assert.equal(sim.tap[4]!.arrived, sim.now);
    // Released at 151 (51 + 100), it still crosses the link's 1 ms latency.
    assert.equal(sink.received.at(-1)!.now, 152);
    assert.equal(indexOf(sink.received.at(-1)!.bytes), 4);
    const c = link.counters;
    assert.deepEqual([c.dropped.filtered, c.delayed, c.replaced, c.held], [1, 1, 1, 1]);
  });

  it('can drop everything in flight on a link', () => {
    const { sim, sink, link } = pair({ tap: true }, plan(3, B), { latency: 100 });
    sim.runFor(10);
    assert.equal(link.inFlight, 3);
    assert.equal(link.dropInFlight(), 3);
    sim.runUntilIdle();
    assert.equal(sink.received.length, 0);
    assert.deepEqual(fates(sim.tap), ['filtered', 'filtered', 'filtered']);
    assert.equal(sim.now, 10);
  });

  it('rewrites the source address (NAT rebinding) and routes replies back through the NAT', () => {
    const sim = new Sim({ tap: true });
    const client = new ScriptNode(A, [
      { at: 0, to: B },
      { at: 100, to: B },
    ]);
    const echo = new Echo();
    const c = sim.addNode('client', client, { addresses: A });
    const s = sim.addNode('server', echo, { addresses: B });
    const rebound = { address: '192.0.2.7', port: 61000 };
    sim.connect(c, s, { latency: 5 }, { latency: 7 });
    sim.link(c, s).configure({ rewriteSource: (from, info) => (info.now >= 50 ? rebound : from) });
    sim.runUntilIdle();
    assert.deepEqual(
      echo.seen.map((r) => r.path),
      [
        { local: B, remote: A },
        { local: B, remote: rebound },
      ],
    );
    // The client receives both echoes on its own address, from the server.
    assert.deepEqual(
      client.received.map((r) => [r.now, r.path]),
      [
        [12, { local: A, remote: B }],
        [112, { local: A, remote: B }],
      ],
    );
    const second = sim.tap[2]!;
    assert.deepEqual([second.from, second.sentFrom], [rebound, A]);
    assert.deepEqual(sim.tap[3]!.to, rebound);
    assert.deepEqual(s.trafficWith(rebound), { sentDatagrams: 1, sentBytes: 100, receivedDatagrams: 1, receivedBytes: 100 });
  });

  it('keeps each link`s random draws independent of other links and of other kinds', () => {
    const run = (ab: LinkSettings, ba: LinkSettings) => {
      const sim = new Sim({ seed: 77, tap: true });
      const a = sim.addNode(
        'a',
        new ScriptNode(
          A,
          plan(500, B, (i) => i),
        ),
        { addresses: A },
      );
      const b = sim.addNode(
        'b',
        new ScriptNode(
          B,
          plan(500, A, (i) => i),
        ),
        { addresses: B },
      );
      sim.connect(a, b, ab, ba);
      sim.runUntilIdle();
      const of = (link: string) =>
        new Map(sim.tap.filter((t) => t.link === link && t.fate !== 'duplicated').map((t) => [indexOf(t.bytes!), t] as const));
      return { ab: of('a->b'), ba: of('b->a') };
    };
    // Record ids number datagrams over the whole simulation, so they shift with the other link's traffic.
    const strip = (m: ReadonlyMap<number, TapRecord>) => [...m.values()].map(({ id: _id, ...rest }) => rest);
    const base: LinkSettings = { latency: 10, jitter: 5, jitterKeepsOrder: false, loss: 0.1, corruption: 0.1, duplication: 0.1 };
    const one = run(base, base);
    const two = run(base, { ...base, loss: 0.5, jitter: 20, corruption: 0.3, reorder: 0.4 });
    // Another link's settings do not touch a->b at all.
    assert.deepEqual(strip(one.ab), strip(two.ab));
    assert.notDeepEqual(
      [...one.ba.values()].map((t) => t.fate),
      [...two.ba.values()].map((t) => t.fate),
    );
    // On one link, a different loss model (bursts draw more) keeps every surviving datagram's jitter and corruption...
    const three = run({ ...base, loss: 0.3, maxBurst: 3 }, base);
    let compared = 0;
    for (const [i, t] of three.ab) {
      const o = one.ab.get(i)!;
      if (t.fate === 'lost' || o.fate === 'lost') continue;
      compared++;
      assert.equal(t.arrived, o.arrived);
      assert.deepEqual(t.deliveredBytes, o.deliveredBytes);
    }
    // ...and a different corruption rate (which draws positions and values) keeps every loss and arrival time.
    const four = run({ ...base, corruption: 0.6, corruptBytes: 4 }, base);
    assert.deepEqual(
      [...four.ab.values()].map((t) => [t.fate === 'lost', t.arrived]),
      [...one.ab.values()].map((t) => [t.fate === 'lost', t.arrived]),
    );
    assert.notDeepEqual(
      [...four.ab.values()].map((t) => t.corrupted),
      [...one.ab.values()].map((t) => t.corrupted),
    );
    // Switching duplication off and reordering on (rates going to and from 0) changes nothing else either.
    const five = run({ ...base, duplication: 0, reorder: 0.3, reorderDelay: 50 }, base);
    const essentials = (m: ReadonlyMap<number, TapRecord>) =>
      [...m.values()].map((t) => [
        t.fate,
        t.arrived === null ? null : Math.round((t.arrived - (t.reordered ? 50 : 0)) * 1e6),
        t.deliveredBytes,
      ]);
    assert.deepEqual(essentials(five.ab), essentials(one.ab));
    assert.ok([...five.ab.values()].some((t) => t.reordered));
    assert.ok(compared > 200);
  });

  it('rejects bad settings with a UsageError', () => {
    const sim = new Sim();
    const a = sim.addNode('a', new Sink(), { addresses: A });
    const l = sim.link(a, a);
    for (const bad of [
      { loss: 1.5 },
      { loss: -0.1 },
      { latency: -1 },
      { bandwidth: 0 },
      { mtu: 1.5 },
      { maxBurst: 0 },
      { lossMask: 1n << 64n },
      { blackholes: [[5, 1]] as const },
      { gilbertElliott: { goodToBad: 2, badToGood: 0.1 } },
    ] satisfies LinkSettings[]) {
      assert.throws(
        () => l.configure(bad),
        (e: unknown) => (e as { code?: string }).code === 'ERR_USAGE',
      );
    }
    assert.equal(l.config.loss, 0);
    assert.throws(() => sim.addNode('a', new Sink(), { addresses: C }), { code: 'ERR_USAGE' });
    assert.throws(() => sim.addNode('x', new Sink(), { addresses: A }), { code: 'ERR_USAGE' });
    assert.throws(() => sim.addNode('y', new Sink(), { addresses: [] }), { code: 'ERR_USAGE' });
    assert.throws(() => new Sim({ defaultLink: { duplication: 2 } }), { code: 'ERR_USAGE' });
  });
});

// ---------------------------------------------------------------------------------------------------
// driving

function stopAndWait(seed: number | string, link: LinkSettings, count = 30) {
  const sim = new Sim({ seed, tap: true });
  const sender = new StopAndWaitSender(A, B, count);
  const receiver = new StopAndWaitReceiver();
  const s = sim.addNode('sender', sender, { addresses: A });
  const r = sim.addNode('receiver', receiver, { addresses: B });
  sim.connect(s, r, link);
  return { sim, sender, receiver, s, r };
}

const ROUGH: LinkSettings = {
  latency: 10,
  jitter: 6,
  jitterKeepsOrder: false,
  bandwidth: 2e6,
  loss: 0.15,
  maxBurst: 3,
  corruption: 0.05,
  duplication: 0.05,
  reorder: 0.1,
};

describe('sim driving', () => {
  it('runs a stop-and-wait transfer to completion over a rough link', () => {
    const { sim, sender, receiver, s, r } = stopAndWait(1, ROUGH);
    const result = sim.runUntil(() => s.finished, { maxTime: 60_000 });
    assert.equal(result.time, sim.now);
    assert.equal(receiver.expected, 30);
    assert.deepEqual(
      r.events.map((e) => e.seq),
      Array.from({ length: 30 }, (_, i) => i),
    );
    assert.deepEqual(s.events.at(-1), { type: 'complete' });
    assert.ok(sender.transmissions > 30, 'some losses were retransmitted');
    assert.equal(s.finishedAt, sim.now);
    assert.equal(s.deadline, null);
    const fateSet = new Set(fates(sim.tap));
    for (const f of ['delivered', 'lost', 'corrupted', 'duplicated'] as const) assert.ok(fateSet.has(f), f);
  });

  it('replays bit for bit with the same seed and differs with another', () => {
    const trace = (seed: number | string) => {
      const { sim, s, r } = stopAndWait(seed, ROUGH);
      sim.runUntil(() => s.finished, { maxTime: 60_000 });
      return { time: sim.now, steps: sim.steps, tap: sim.tap, events: [s.events, r.events] };
    };
    const one = trace(42);
    assert.deepEqual(trace(42), one);
    assert.deepEqual(trace('seed'), trace('seed'));
    const other = trace(43);
    assert.notDeepEqual(
      other.tap.map((t) => [t.fate, t.sent, t.arrived]),
      one.tap.map((t) => [t.fate, t.sent, t.arrived]),
    );
  });

  it('delivers reliably and keeps time monotonic under random link settings (property)', () => {
    const settings = fc.record({
      latency: fc.integer({ min: 0, max: 50 }),
      jitter: fc.integer({ min: 0, max: 20 }),
      jitterKeepsOrder: fc.boolean(),
      bandwidth: fc.option(fc.integer({ min: 100_000, max: 100_000_000 }), { nil: null }),
      loss: fc.double({ min: 0, max: 0.3, noNaN: true }),
      maxBurst: fc.integer({ min: 1, max: 4 }),
      corruption: fc.double({ min: 0, max: 0.2, noNaN: true }),
      duplication: fc.double({ min: 0, max: 0.2, noNaN: true }),
      reorder: fc.double({ min: 0, max: 0.3, noNaN: true }),
      blackholes: fc.array(
        fc.tuple(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 300 })).map(([s, d]) => [s, s + d] as const),
        { maxLength: 2 },
      ),
    });
    fc.assert(
      fc.property(fc.integer(), settings, (seed, link) => {
        const { sim, s, receiver, sender } = stopAndWait(seed, link, 10);
        sim.runUntil(() => s.finished, { maxTime: 600_000 });
        assert.equal(receiver.expected, 10);
        assert.ok(sender.clock.last <= sim.now && receiver.clock.last <= sim.now);
        for (const t of sim.tap) if (t.arrived !== null) assert.ok(t.arrived >= t.sent);
      }),
      { numRuns: 25 },
    );
  });

  it('hands each node the datagram with path = { local: destination, remote: source }, on any of its addresses', () => {
    const sim = new Sim();
    const B2 = { address: 'fd00::2', port: 443 };
    const sink = new Sink();
    sim.addNode(
      'a',
      new ScriptNode(A, [
        { at: 0, to: B },
        { at: 1, to: B2 },
        { at: 2, to: B2, from: C },
      ]),
      { addresses: [A, C] },
    );
    const b = sim.addNode('b', sink, { addresses: B });
    b.addAddress(B2);
    assert.deepEqual(b.addresses, [B, B2]);
    sim.runUntilIdle();
    assert.deepEqual(
      sink.received.map((r) => r.path),
      [
        { local: B, remote: A },
        { local: B2, remote: A },
        { local: B2, remote: C },
      ],
    );
    assert.equal(formatAddress(B2), '[fd00::2]:443');
    assert.equal(b.traffic().length, 3);
    assert.deepEqual(b.totals, { sentDatagrams: 0, sentBytes: 0, receivedDatagrams: 3, receivedBytes: 300 });
  });

  it('copies datagrams on both sides: senders may reuse buffers, receivers may scribble on theirs', () => {
    const sim = new Sim({ tap: true });
    const sink = new Sink(true);
    const a = sim.addNode('a', new ScriptNode(A, plan(4, B), true), { addresses: A });
    const b = sim.addNode('b', sink, { addresses: B });
    sim.link(a, b).configure({ duplication: 1 });
    sim.runUntilIdle();
    assert.equal(sink.received.length, 8);
    sink.received.forEach((r, i) => assert.deepEqual(r.bytes, scriptBytes(i >> 1, 100)));
    sim.tap.forEach((t, i) => assert.deepEqual(t.bytes, scriptBytes(i >> 1, 100)));
  });

  it('logs events and calls onEvent while polling, so commands go out in the same step', () => {
    const sim = new Sim();
    const sink = new Sink();
    const seenAt: number[] = [];
    sim.addNode(
      'a',
      new ScriptNode(
        A,
        plan(2, B, (i) => i * 50),
      ),
      { addresses: A },
    );
    const b = sim.addNode('b', sink, {
      addresses: B,
      onEvent: (e, now, node) => {
        assert.equal(node.name, 'b');
        seenAt.push(now);
        sink.reply(Uint8Array.of(e.size), { local: B, remote: A });
      },
    });
    const a = sim.node('a');
    sim.connect(a, b, { latency: 4 });
    sim.runUntilIdle();
    assert.deepEqual(b.events, [
      { type: 'got', size: 100 },
      { type: 'got', size: 100 },
    ]);
    assert.deepEqual(seenAt, [4, 54]);
    assert.deepEqual(
      (a.node as ScriptNode).received.map((r) => [r.now, r.bytes[0]]),
      [
        [8, 100],
        [58, 100],
      ],
    );
  });

  it('runFor moves the clock exactly; runUntilIdle stops when nothing is scheduled', () => {
    const sim = new Sim();
    let polls = 0;
    const ticker = new FixedNode<never>((now) => {
      polls++;
      return { type: 'need-read', deadline: Math.floor(now / 7) * 7 + 7 };
    });
    sim.addNode('t', ticker, { addresses: A });
    assert.deepEqual(sim.runFor(100), { steps: sim.steps, time: 100 });
    assert.equal(sim.now, 100);
    // Polled at 0, 7, ..., 98: 15 times.
    assert.equal(polls, 15);
    sim.runFor(0);
    assert.equal(sim.now, 100);

    const idle = pair(
      {},
      plan(3, B, (i) => i * 10),
      { latency: 5 },
    );
    const r = idle.sim.runUntilIdle();
    assert.equal(r.time, 25);
    assert.ok(idle.sim.isIdle());
    assert.equal(idle.sim.nextEventTime(), null);
    assert.equal(idle.sim.step(), false);
  });

  it('stops runUntil as soon as the predicate holds', () => {
    const { sim, sink } = pair(
      {},
      plan(5, B, (i) => i * 10),
      { latency: 1 },
    );
    const r = sim.runUntil(() => sink.received.length === 2);
    assert.equal(r.time, 11);
    assert.equal(sink.received.length, 2);
    assert.deepEqual(
      sim.runUntil(() => true),
      { steps: 0, time: 11 },
    );
  });

  it('drops datagrams with no route (tapped), at sending and at arrival, and those to finished nodes', () => {
    const sim = new Sim({ tap: true });
    const nowhere = { address: '203.0.113.9', port: 9 };
    const sink = new Sink();
    const finisher = new FixedNode<never>(() => ({ type: 'done' }));
    const a = sim.addNode(
      'a',
      new ScriptNode(A, [
        { at: 0, to: nowhere },
        { at: 0, to: B },
        { at: 0, to: D },
        { at: 20, to: B },
      ]),
      { addresses: A },
    );
    const b = sim.addNode('b', sink, { addresses: B });
    const d = sim.addNode('d', finisher, { addresses: D });
    sim.connect(a, b, { latency: 10 });
    sim.link(a, d).configure({ latency: 10 });
    sim.runFor(5);
    b.removeAddress(B); // the datagram in flight to B now has no route
    sim.runUntilIdle();
    assert.deepEqual(
      sim.tap.map((t) => [t.link, t.fate]),
      [
        ['no-route', 'no-route'],
        ['a->b', 'no-route'],
        ['a->d', 'node-done'],
        ['no-route', 'no-route'],
      ],
    );
    assert.equal(sim.noRoute, 3);
    assert.equal(sink.received.length, 0);
    assert.ok(d.finished);
    assert.equal(finisher.polls, 1);
    assert.equal(sim.link(a, d).counters.dropped['node-done'], 1);
    assert.equal(a.totals.sentDatagrams, 4);
  });

  it('injects datagrams from any address, bypassing the links', () => {
    const sim = new Sim({ tap: true });
    const sink = new Sink();
    sim.addNode('b', sink, { addresses: B });
    const spoofed = { address: '198.51.100.1', port: 1 };
    sim.inject(Uint8Array.of(1, 2, 3), spoofed, B, 30);
    sim.runUntilIdle();
    assert.deepEqual(
      sink.received.map((r) => [r.now, [...r.bytes], r.path]),
      [[30, [1, 2, 3], { local: B, remote: spoofed }]],
    );
    assert.equal(sim.tap[0]!.link, 'inject');
  });

  it('freezes per-path traffic at a checkpoint, right after the receive that made it true', () => {
    // A toy server that answers each datagram with two until it has seen three (its "address validation").
    class Amplifier implements SimNode<never> {
      seen = 0;
      private out: Path[] = [];
      receive(_d: Uint8Array, path: Path): void {
        this.seen++;
        this.out.push(path, path);
      }
      poll(): Result<never> {
        const p = this.out.shift();
        return p === undefined ? NEED_READ_NONE : { type: 'need-write', datagram: new Uint8Array(300), path: p };
      }
    }
    const sim = new Sim();
    const amp = new Amplifier();
    sim.addNode(
      'client',
      new ScriptNode(
        A,
        plan(5, B, (i) => i * 10, 100),
      ),
      { addresses: A },
    );
    const server = sim.addNode('server', amp, { addresses: B });
    sim.connect('client', 'server', { latency: 1 });
    const validated = sim.checkpoint(() => amp.seen >= 3, 'validated');
    assert.equal(validated.reached, false);
    sim.runUntilIdle();
    assert.equal(validated.reached, true);
    assert.equal(validated.time, 21);
    // Before the third datagram was processed the server had answered the first two: 4 x 300 bytes.
    assert.deepEqual(validated.trafficWith(server, A), { sentDatagrams: 4, sentBytes: 1200, receivedDatagrams: 3, receivedBytes: 300 });
    assert.deepEqual(server.trafficWith(A), { sentDatagrams: 10, sentBytes: 3000, receivedDatagrams: 5, receivedBytes: 500 });
    assert.equal(validated.totals('client').sentDatagrams, 3);
    assert.equal(sim.checkpoint(() => true).time, sim.now);
    assert.throws(() => sim.checkpoint(() => false).totals(server), { code: 'ERR_USAGE' });
  });

  it('computes goodput in bits per second', () => {
    assert.equal(goodput(1_250_000, 1000), 10_000_000);
    assert.throws(() => goodput(1, 0), { code: 'ERR_USAGE' });
  });

  it('accepts the QUIC connection poll results as they are (type check)', () => {
    // Compile-time: something with the Connection's receive/poll shape is a SimNode<ConnectionEvent>.
    interface ConnectionLike {
      receive(datagram: Uint8Array, path: Path, now: number): void;
      poll(now: number): ConnectionPollResult;
    }
    const fake: ConnectionLike = {
      receive: () => {},
      poll: (): ConnectionPollResult => ({ type: 'event', event: { type: 'handshake-confirmed' } }),
    };
    let polls = 0;
    const conn: ConnectionLike = {
      receive: fake.receive,
      poll: (now) => (polls++ === 0 ? fake.poll(now) : { type: 'need-read', deadline: null }),
    };
    const asNode: SimNode<ConnectionEvent> = conn;
    const sim = new Sim();
    const h: SimNodeHandle<ConnectionEvent> = sim.addNode('conn', asNode, { addresses: A });
    sim.runUntilIdle();
    assert.deepEqual(h.events, [{ type: 'handshake-confirmed' }]);
  });
});

// ---------------------------------------------------------------------------------------------------
// livelocks

describe('sim livelock detection', () => {
  function pingPong(options: ConstructorParameters<typeof Sim>[0], latency: number) {
    const sim = new Sim(options);
    const a = sim.addNode('a', new PingPong(A, B, true), { addresses: A });
    const b = sim.addNode('b', new PingPong(B, A, false), { addresses: B });
    sim.connect(a, b, { latency });
    return sim;
  }

  it('throws ERR_SIM_MAX_STEPS with the time, the steps and the last datagrams', () => {
    const sim = pingPong({ recentDatagrams: 5 }, 1);
    const e = livelockCode('ERR_SIM_MAX_STEPS', () => sim.runUntil(() => false, { maxSteps: 500 }));
    assert.equal(e.steps, 500);
    assert.equal(e.time, sim.now);
    assert.ok(e.time > 0 && e.time <= 500);
    assert.equal(e.recent.length, 5);
    assert.ok(e.recent.every((line) => line.includes('a->b') || line.includes('b->a')));
    assert.deepEqual(
      e.nodes.map((n) => n.name),
      ['a', 'b'],
    );
    assert.ok(e.message.includes(`t=${e.time}`));
  });

  it('throws ERR_SIM_MAX_TIME when the next event lies past the budget', () => {
    const sim = pingPong({}, 30);
    const e = livelockCode('ERR_SIM_MAX_TIME', () => sim.runUntil(() => false, { maxTime: 100 }));
    assert.ok(e.time <= 100 && e.time >= 70);
    assert.equal(sim.now, e.time);
  });

  it('throws ERR_SIM_TIME_STUCK when steps do not move the clock (zero-latency ping-pong)', () => {
    const sim = pingPong({ maxStepsAtSameTime: 1000 }, 0);
    const e = livelockCode('ERR_SIM_TIME_STUCK', () => sim.runUntilIdle());
    assert.equal(e.time, 0);
    assert.ok(e.steps <= 1002);
  });

  it('throws ERR_SIM_STUCK_TIMER for a node that keeps reporting a past deadline', () => {
    const sim = new Sim({ maxStalledPolls: 50, start: 10 });
    const stuck = new FixedNode<never>((now) => ({ type: 'need-read', deadline: now - 1 }));
    sim.addNode('stuck', stuck, { addresses: A });
    const e = livelockCode('ERR_SIM_STUCK_TIMER', () => sim.runUntilIdle());
    assert.equal(stuck.polls, 51);
    assert.equal(e.time, 10);
    assert.deepEqual(e.nodes, [{ name: 'stuck', deadline: 9, finished: false }]);
  });

  it('throws ERR_SIM_POLL_LOOP for a node that never stops returning results', () => {
    const sim = new Sim({ maxPollsPerStep: 10_000 });
    sim.addNode('chatty', new FixedNode<string>(() => ({ type: 'event', event: 'again' })), { addresses: A, keepEvents: false });
    livelockCode('ERR_SIM_POLL_LOOP', () => sim.runUntil(() => false));
  });

  it('throws ERR_SIM_IDLE when nothing is scheduled and the predicate is false', () => {
    const { sim } = pair({}, plan(1, B), { latency: 5 });
    const e = livelockCode('ERR_SIM_IDLE', () => sim.runUntil(() => false));
    assert.equal(e.time, 5);
  });
});

// ---------------------------------------------------------------------------------------------------
// tap

describe('sim tap', () => {
  it('records every fate', () => {
    const sim = new Sim({ tap: true });
    const sender = new ScriptNode(A, [
      { at: 0, to: B }, // 0 delivered
      { at: 0, to: B }, // 1 filtered
      { at: 0, to: B }, // 2 held
      { at: 0, to: B, size: 2000 }, // 3 mtu
      { at: 0, to: B }, // 4 lost (mask)
      { at: 0, to: B, size: 1000 }, // 5 queue
      { at: 0, to: C }, // corrupted + duplicated
      { at: 0, to: { address: '203.0.113.1', port: 1 } }, // no-route
      { at: 0, to: D }, // node-done
      { at: 50, to: B }, // 9 blackhole
    ]);
    const a = sim.addNode('a', sender, { addresses: A });
    sim.addNode('b', new Sink(), { addresses: B });
    sim.addNode('c', new Sink(), { addresses: C });
    sim.addNode('d', new FixedNode<never>(() => ({ type: 'done' })), { addresses: D });
    sim.link(a, 'b').configure({
      mtu: 1500,
      bandwidth: 8e6,
      queueBytes: 1000,
      lossMask: 0b1_0000n,
      blackholes: [[40, 60]],
      latency: 1,
      filter: (_d, info) => (info.index === 1 ? 'drop' : info.index === 2 ? 'hold' : 'deliver'),
    });
    sim.link(a, 'c').configure({ corruption: 1, duplication: 1 });
    sim.link(a, 'd').configure({ latency: 1 });
    sim.runUntilIdle();
    const all: TapFate[] = [
      'delivered',
      'corrupted',
      'duplicated',
      'held',
      'lost',
      'mtu',
      'queue',
      'blackhole',
      'filtered',
      'no-route',
      'node-done',
    ];
    assert.deepEqual(new Set(fates(sim.tap)), new Set(all));
    for (const t of sim.tap) {
      const arrivedExpected = t.fate === 'delivered' || t.fate === 'corrupted' || t.fate === 'duplicated';
      assert.equal(t.arrived !== null, arrivedExpected, `${t.fate}`);
      assert.ok(sim.describe(t).includes(t.fate));
    }
    assert.deepEqual(
      sim.tap.map((t) => t.id),
      sim.tap.map((_, i) => i),
    );
  });

  it('keeps the first or the last records up to its limit, with or without bytes', () => {
    const run = (tap: ConstructorParameters<typeof Sim>[0]) => {
      const { sim } = pair(tap, plan(20, B), {});
      sim.runUntilIdle();
      return sim;
    };
    const first = run({ tap: { limit: 5 } });
    assert.deepEqual(
      first.tap.map((t) => indexOf(t.bytes!)),
      [0, 1, 2, 3, 4],
    );
    assert.equal(first.tapOverflow, 15);
    const last = run({ tap: { limit: 5, keep: 'last' } });
    assert.deepEqual(
      last.tap.map((t) => indexOf(t.bytes!)),
      [15, 16, 17, 18, 19],
    );
    const noBytes = run({ tap: { bytes: false } });
    assert.equal(noBytes.tap.length, 20);
    assert.ok(noBytes.tap.every((t) => t.bytes === null && t.deliveredBytes === null));
    const off = run({});
    assert.equal(off.tap.length, 0);
    assert.equal(off.recent().length, 8);
    assert.deepEqual(
      off.recent().map((t) => t.id),
      [12, 13, 14, 15, 16, 17, 18, 19],
    );
    first.clearTap();
    assert.equal(first.tap.length, 0);
  });
});

// ---------------------------------------------------------------------------------------------------
// describeDatagram

describe('describeDatagram', () => {
  // Hand-built headers (RFC 9000 sections 17.2.2, 17.3.1, 17.2.1); payloads are opaque filler.
  const dcid = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
  const scid = [0xaa, 0xbb, 0xcc, 0xdd];
  const initial = [
    0xc0, // long header, fixed bit, Initial (v1 type 0), packet number length 1
    0x00,
    0x00,
    0x00,
    0x01,
    dcid.length,
    ...dcid,
    scid.length,
    ...scid,
    0x02,
    0x77,
    0x77, // token of 2 bytes
    0x40,
    0x14, // Length 20 (2-byte varint)
    ...new Array<number>(20).fill(0x11),
  ];
  const handshake = [0xe0, 0x00, 0x00, 0x00, 0x01, dcid.length, ...dcid, scid.length, ...scid, 0x10, ...new Array<number>(16).fill(0x22)];
  const short = [0x40, ...dcid, ...new Array<number>(30).fill(0x33)];

  it('lists the coalesced packets with their types, versions, CIDs and lengths', () => {
    const bytes = Uint8Array.from([...initial, ...handshake, ...short]);
    const d = describeDatagram(bytes, 8);
    assert.equal(d.size, bytes.length);
    assert.equal(d.error, null);
    assert.deepEqual(
      d.packets.map((p) => [p.kind, p.version, p.dcid, p.scid, p.tokenLength, p.length]),
      [
        ['initial', 1, '8394c8f03e515708', 'aabbccdd', 2, initial.length],
        ['handshake', 1, '8394c8f03e515708', 'aabbccdd', null, handshake.length],
        ['1rtt', null, '8394c8f03e515708', null, null, short.length],
      ],
    );
    assert.match(
      d.text,
      /^\d+ B: initial\(v1 dcid=8394c8f03e515708 scid=aabbccdd token=2 \d+ B\) handshake\(v1 .*\) 1rtt\(dcid=8394c8f03e515708/,
    );
  });

  it('shows Version Negotiation versions', () => {
    const vn = Uint8Array.from([0x80, 0, 0, 0, 0, 1, 0x01, 1, 0x02, 0x6b, 0x33, 0x43, 0xcf, 0x00, 0x00, 0x00, 0x01]);
    const d = describeDatagram(vn, 8);
    assert.deepEqual(d.packets[0]!.versions, [0x6b3343cf, 1]);
    assert.ok(d.text.includes('v2,v1'));
  });

  it('reports, never throws, what does not parse', () => {
    const d = describeDatagram(Uint8Array.from([...handshake, 0xc0, 0x00]), 8);
    assert.equal(d.packets.length, 1);
    assert.equal(d.error, 'ERR_UNEXPECTED_END');
    assert.equal(d.errorOffset, handshake.length);
    assert.ok(d.text.includes('unparsed@'));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 20 }), (b, n) => {
        const x = describeDatagram(b, n);
        assert.equal(x.size, b.length);
      }),
      { numRuns: 300 },
    );
  });
});
