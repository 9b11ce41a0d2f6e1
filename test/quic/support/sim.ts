/**
 * A seeded, deterministic network simulator for sans-I/O endpoints (STYLE.md habit 12), in virtual time.
 *
 * Nodes are anything with `receive(datagram, path, now)` and `poll(now)` returning NEED_WRITE / an event /
 * NEED_READ with a deadline / done: the QUIC `Connection` fits as is ({@link SimNode}), and so does any toy
 * node a test writes. Each node is attached at one or more addresses; a datagram goes to the node owning
 * its destination address, which receives it with `path = { local: destination, remote: source }`.
 *
 * Driving (quinn's `Pair`): one step polls every node until it has nothing more to say (NEED_WRITE datagrams
 * are copied and handed to the link toward their destination, events are logged and passed to the node's
 * `onEvent` hook, the NEED_READ deadline is kept), then moves the clock to the earliest of every node's
 * deadline and every datagram's arrival, and delivers every datagram due (equal arrival times in sending
 * order). Time never goes back. Commands a test issues between runs are seen because every run starts by
 * polling every node at the current time. Every run
 * is bounded ({@link RunLimits}): too many steps, too much virtual time, a node stuck on a past deadline,
 * a poll loop that never ends or steps that never move the clock throw {@link SimLivelockError} with the
 * time, the step count and the last datagrams on the wire, so a livelock fails fast instead of hanging.
 *
 * Links (picoquic's `sim_link`) are one per direction between two nodes (`a -> b` and `b -> a` are
 * configured apart), with latency, jitter, bandwidth with a byte-limited queue, MTU, random loss with
 * bursts or a Gilbert-Elliott model, a repeating 64-bit loss mask, corruption, duplication, reordering,
 * blackhole periods, a scripted per-datagram filter (drop / hold / delay / replace) and a source-address
 * rewrite for NAT rebinding (the reply to a rewritten address comes back to the original one, as through
 * a NAT). The order of the stages is documented on {@link LinkConfig}. All randomness comes from the sim's
 * seed, one generator per link and per kind of impairment, so the same seed replays a run bit for bit and
 * changing one link's settings leaves every other link's draws alone.
 *
 * A tap records every datagram (sent / arrival time, addresses, size, fate, the bytes); it is off by
 * default and capped. {@link describeDatagram} decodes QUIC headers for assertions and reports.
 * Checkpoints ({@link Sim.checkpoint}) snapshot each node's per-path traffic when a condition first holds
 * (for the amplification limit: what a server sent before it validated the client's address).
 *
 * ```ts
 * const sim = new Sim({ seed: 7, tap: true });
 * const client = sim.addNode('client', clientConn, { addresses: { address: '10.0.0.1', port: 5000 } });
 * const server = sim.addNode('server', serverConn, {
 *   addresses: { address: '10.0.0.2', port: 4433 },
 *   onEvent: (e) => { if (e.type === 'stream-readable') serverConn.streamRead(e.streamId); },
 * });
 * sim.connect(client, server, { latency: 20, bandwidth: 10e6, loss: 0.02, maxBurst: 3 }); // both directions
 * sim.link(server, client).configure({ duplication: 0.01 }); // one direction only
 * sim.runUntil(() => client.events.some((e) => e.type === 'handshake-confirmed'), { maxTime: 10_000 });
 * for (const r of sim.tap) console.log(sim.describe(r)); // '#3 t=20->40.5 client->server ... initial(v1 ...)'
 * assert.equal(describeDatagram(sim.tap[0]!.bytes!, 8).packets[0]!.kind, 'initial');
 * ```
 */
import { PullwireError, UsageError } from '../../../src/combinators/errors.js';
import type { EcnMark, Path, SocketAddress } from '../../../src/quic/connection/events.js';
import { decodeDatagram, QUIC_V1, QUIC_V2, type PacketHeader } from '../../../src/quic/packet.js';
import { Rng, type Seed } from './rng.js';

// ---------------------------------------------------------------------------------------------------
// nodes

/** One result of a node's `poll`, generic over its event type (the QUIC `ConnectionPollResult` is `SimPollResult<ConnectionEvent>`). */
export type SimPollResult<E> =
  | { readonly type: 'need-write'; readonly datagram: Uint8Array; readonly path: Path; readonly ecn?: EcnMark }
  | { readonly type: 'event'; readonly event: E }
  | { readonly type: 'need-read'; readonly deadline: number | null }
  | { readonly type: 'done' };

/** What the simulator drives: a sans-I/O endpoint. */
export interface SimNode<E> {
  /** `ecn`: the datagram's ECN codepoint as it arrives (after the link's `ecn` / `ceMarking`). */
  receive(datagram: Uint8Array, path: Path, now: number, ecn?: EcnMark): void;
  poll(now: number): SimPollResult<E>;
}

export interface NodeOptions<E> {
  /** The addresses the node owns (datagrams to them are delivered to it). At least one. */
  readonly addresses: SocketAddress | readonly SocketAddress[];
  /** Called for each event, right after it is logged, while the node is being polled (issue commands here). */
  readonly onEvent?: (event: E, now: number, node: SimNodeHandle<E>) => void;
  /** Keep events in {@link SimNodeHandle.events} (default true; turn off for long transfers). */
  readonly keepEvents?: boolean;
}

/** Bytes and datagrams a node exchanged on one path (as the node sees it: `local` its address, `remote` the peer's). */
export interface PathTraffic {
  readonly local: SocketAddress;
  readonly remote: SocketAddress;
  readonly sentDatagrams: number;
  readonly sentBytes: number;
  readonly receivedDatagrams: number;
  readonly receivedBytes: number;
}

/** Sums of {@link PathTraffic}. */
export interface TrafficTotals {
  readonly sentDatagrams: number;
  readonly sentBytes: number;
  readonly receivedDatagrams: number;
  readonly receivedBytes: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface NodeState {
  readonly name: string;
  readonly node: SimNode<unknown>;
  handle: SimNodeHandle<unknown>;
  readonly addresses: SocketAddress[];
  readonly events: unknown[];
  readonly keepEvents: boolean;
  readonly onEvent: ((event: unknown, now: number, node: SimNodeHandle<unknown>) => void) | null;
  /** null: no timer; the initial value forces a first poll */
  deadline: number | null;
  finished: boolean;
  finishedAt: number | null;
  /** consecutive polls that ended on a deadline <= now with no output and nothing received */
  stalled: number;
  receivedSincePoll: boolean;
  readonly traffic: Map<string, Mutable<PathTraffic>>;
}

/** A node attached to the simulator: its event log, addresses, deadline and traffic counters. */
export class SimNodeHandle<E> {
  /** @internal */
  constructor(
    private readonly state: NodeState,
    private readonly sim: Sim,
  ) {}

  get name(): string {
    return this.state.name;
  }
  get node(): SimNode<E> {
    return this.state.node as SimNode<E>;
  }
  /** Every event the node reported, in order (empty when `keepEvents` is false). */
  get events(): readonly E[] {
    return this.state.events as E[];
  }
  get addresses(): readonly SocketAddress[] {
    return this.state.addresses;
  }
  /** The first address. */
  get address(): SocketAddress {
    return this.state.addresses[0]!;
  }
  /** The node returned `done`: it is not polled and datagrams to it are dropped ('node-done'). */
  get finished(): boolean {
    return this.state.finished;
  }
  get finishedAt(): number | null {
    return this.state.finishedAt;
  }
  /** The deadline of the node's last NEED_READ (null: none). */
  get deadline(): number | null {
    return this.state.finished ? null : this.state.deadline;
  }
  /** Attaches another address (a second interface, the new address of a migrating client). */
  addAddress(address: SocketAddress): this {
    this.sim['attach'](this.state, address);
    return this;
  }
  /** Detaches an address: datagrams to it then have no route. */
  removeAddress(address: SocketAddress): this {
    this.sim['detach'](this.state, address);
    return this;
  }
  /** Per-path counters (a snapshot). */
  traffic(): PathTraffic[] {
    return [...this.state.traffic.values()].map((t) => ({ ...t }));
  }
  /** Totals over the paths whose remote is `remote` (any local address). */
  trafficWith(remote: SocketAddress): TrafficTotals {
    return sumTraffic(this.traffic().filter((t) => sameAddr(t.remote, remote)));
  }
  /** Totals over every path. */
  get totals(): TrafficTotals {
    return sumTraffic(this.traffic());
  }
}

function sumTraffic(paths: readonly PathTraffic[]): TrafficTotals {
  const t = { sentDatagrams: 0, sentBytes: 0, receivedDatagrams: 0, receivedBytes: 0 };
  for (const p of paths) {
    t.sentDatagrams += p.sentDatagrams;
    t.sentBytes += p.sentBytes;
    t.receivedDatagrams += p.receivedDatagrams;
    t.receivedBytes += p.receivedBytes;
  }
  return t;
}

// ---------------------------------------------------------------------------------------------------
// links

/** What a scripted filter and a source rewrite are told about a datagram. */
export interface DatagramInfo {
  /** `"<from node>-><to node>"`. */
  readonly link: string;
  /** 0-based count of datagrams submitted to this link before this one. */
  readonly index: number;
  /** Virtual time of sending. */
  readonly now: number;
  /** Source address as the sender wrote it. */
  readonly from: SocketAddress;
  readonly to: SocketAddress;
}

/**
 * A scripted filter's decision: deliver as usual, drop (fate 'filtered'), hold until
 * {@link SimLink.releaseHeld} (quinn's `delayOutbound` / `finishDelay`), or an object to `delay` it by
 * extra milliseconds (it is overtaken by later datagrams) and/or `replace` its bytes.
 */
export type FilterVerdict = 'deliver' | 'drop' | 'hold' | { readonly delay?: number; readonly replace?: Uint8Array };
export type LinkFilter = (datagram: Uint8Array, info: DatagramInfo) => FilterVerdict;
/** Returns the source address the receiver sees (return `from` to leave it alone). */
export type SourceRewrite = (from: SocketAddress, info: DatagramInfo) => SocketAddress;

/**
 * Gilbert-Elliott loss: a two-state Markov chain stepped once per submitted datagram (first the loss
 * draw in the current state, then the transition). Stationary loss rate: (r * lossInGood + p * lossInBad) / (p + r).
 */
export interface GilbertElliott {
  /** Probability of moving from the good state to the bad state after a datagram. */
  readonly goodToBad: number;
  /** Probability of moving from the bad state back to the good state after a datagram. */
  readonly badToGood: number;
  /** Loss probability in the good state (default 0). */
  readonly lossInGood?: number;
  /** Loss probability in the bad state (default 1). */
  readonly lossInBad?: number;
}

/**
 * One direction of a link. A datagram goes through these stages, in order:
 * 1. `rewriteSource` (NAT), then `filter` ('filtered' when dropped, 'held' when held);
 * 2. `mtu`: larger datagrams are dropped ('mtu');
 * 3. `blackholes`: sent during a [start, end) interval: dropped ('blackhole');
 * 4. `bandwidth` and `queueBytes`: the datagram waits behind those not yet serialized; if they and it
 *    exceed `queueBytes` it is tail-dropped ('queue'); else it leaves after size * 8 / bandwidth;
 * 5. wire loss ('lost'): `gilbertElliott` when set, else `loss` with bursts of 1..`maxBurst` (a random
 *    loss also drops the next 0..maxBurst-1 datagrams); on top, `lossMask` (bit i, least significant
 *    first, drops the datagram with submission index i, repeating every 64: picoquic's loss_mask, which
 *    picoquic counts after its queue);
 * 6. arrival = end of serialization + `latency` + uniform [0, `jitter`) (kept in order when
 *    `jitterKeepsOrder`), plus `reorderDelay` for a `reorder` fraction and the filter's delay;
 * 7. `corruption`: 1..`corruptBytes` distinct bytes XOR-ed with non-zero values ('corrupted');
 * 8. `duplication`: a second copy arrives `duplicateDelay` later ('duplicated').
 *
 * The random decisions (5 to 8) are drawn for every datagram submitted, in submission order, each kind
 * from its own generator: datagram i of a link gets the same draws whatever the filter, MTU, blackholes
 * or queue do to it or to others, and changing one kind's rate never changes another kind's decisions.
 */
export interface LinkConfig {
  /** One-way propagation delay, ms (default 0). */
  readonly latency: number;
  /** Extra uniform delay in [0, jitter) ms (default 0). */
  readonly jitter: number;
  /** Jitter never reorders: a datagram never arrives before the one sent before it (default true). */
  readonly jitterKeepsOrder: boolean;
  /** Bits per second; null = infinite (no serialization delay, no queue). Default null. */
  readonly bandwidth: number | null;
  /** Bytes the queue holds (waiting or being serialized) before tail drop; null = unlimited. Default null. */
  readonly queueBytes: number | null;
  /** Largest datagram carried (UDP payload bytes). Default 65527. */
  readonly mtu: number;
  /** Probability that a random loss (or burst) starts on a datagram (default 0). */
  readonly loss: number;
  /** Longest burst started by a random loss (uniform 1..maxBurst; default 1 = independent losses). */
  readonly maxBurst: number;
  /** Gilbert-Elliott model; replaces `loss` / `maxBurst` when set. Default null. */
  readonly gilbertElliott: GilbertElliott | null;
  /** Repeating 64-bit loss pattern (bit i drops submitted datagram i mod 64); null = none. */
  readonly lossMask: bigint | null;
  /** Probability that a delivered datagram is corrupted (default 0). */
  readonly corruption: number;
  /** Most bytes flipped in one corrupted datagram (default 1). */
  readonly corruptBytes: number;
  /** Probability that a datagram is delivered twice (default 0). */
  readonly duplication: number;
  /** Delay of the copy after the original, ms (default 0: right after it). */
  readonly duplicateDelay: number;
  /** Probability that a datagram is held back by `reorderDelay` (default 0). */
  readonly reorder: number;
  /** Extra delay of a reordered datagram, ms (default 20). */
  readonly reorderDelay: number;
  /** [start, end) intervals of send time during which everything is dropped. */
  readonly blackholes: readonly (readonly [number, number])[];
  /** Scripted decision per datagram (null: deliver all). */
  readonly filter: LinkFilter | null;
  /** Source address rewrite (NAT rebinding); null: none. */
  readonly rewriteSource: SourceRewrite | null;
  /** ECN codepoints (RFC 3168): carried as sent ('pass', default) or cleared to Not-ECT ('bleach'). */
  readonly ecn: 'pass' | 'bleach';
  /** Probability that a delivered ECT(0)/ECT(1) datagram arrives marked CE (a congested AQM router; default 0). */
  readonly ceMarking: number;
}

export type LinkSettings = Partial<LinkConfig>;

const DEFAULT_LINK: LinkConfig = {
  latency: 0,
  jitter: 0,
  jitterKeepsOrder: true,
  bandwidth: null,
  queueBytes: null,
  mtu: 65527,
  loss: 0,
  maxBurst: 1,
  gilbertElliott: null,
  lossMask: null,
  corruption: 0,
  corruptBytes: 1,
  duplication: 0,
  duplicateDelay: 0,
  reorder: 0,
  reorderDelay: 20,
  blackholes: [],
  filter: null,
  rewriteSource: null,
  ecn: 'pass',
  ceMarking: 0,
};

function checkLinkConfig(c: LinkConfig): void {
  const rate = (name: string, v: number): void => {
    if (!(v >= 0 && v <= 1)) throw new UsageError(`link ${name} ${v} is not a probability in [0, 1]`);
  };
  const nonNegative = (name: string, v: number): void => {
    if (!(v >= 0 && Number.isFinite(v))) throw new UsageError(`link ${name} ${v} must be a finite number >= 0`);
  };
  nonNegative('latency', c.latency);
  nonNegative('jitter', c.jitter);
  nonNegative('duplicateDelay', c.duplicateDelay);
  nonNegative('reorderDelay', c.reorderDelay);
  if (c.bandwidth !== null && !(c.bandwidth > 0 && Number.isFinite(c.bandwidth)))
    throw new UsageError(`link bandwidth ${c.bandwidth} must be > 0 bits/s (or null)`);
  if (c.queueBytes !== null) nonNegative('queueBytes', c.queueBytes);
  if (!Number.isSafeInteger(c.mtu) || c.mtu < 0) throw new UsageError(`link mtu ${c.mtu} must be an integer >= 0`);
  rate('loss', c.loss);
  rate('corruption', c.corruption);
  rate('duplication', c.duplication);
  rate('reorder', c.reorder);
  rate('ceMarking', c.ceMarking);
  if (!Number.isSafeInteger(c.maxBurst) || c.maxBurst < 1) throw new UsageError(`link maxBurst ${c.maxBurst} must be an integer >= 1`);
  if (!Number.isSafeInteger(c.corruptBytes) || c.corruptBytes < 1)
    throw new UsageError(`link corruptBytes ${c.corruptBytes} must be an integer >= 1`);
  if (c.lossMask !== null && (c.lossMask < 0n || c.lossMask >= 1n << 64n)) throw new UsageError('link lossMask must fit in 64 bits');
  const ge = c.gilbertElliott;
  if (ge !== null) {
    rate('gilbertElliott.goodToBad', ge.goodToBad);
    rate('gilbertElliott.badToGood', ge.badToGood);
    rate('gilbertElliott.lossInGood', ge.lossInGood ?? 0);
    rate('gilbertElliott.lossInBad', ge.lossInBad ?? 1);
  }
  for (const [s, e] of c.blackholes) if (!(s <= e)) throw new UsageError(`blackhole [${s}, ${e}) has start > end`);
}

/** Why a datagram did not reach a node. */
export type DropCause = 'lost' | 'mtu' | 'queue' | 'blackhole' | 'filtered' | 'no-route' | 'node-done';
const DROP_CAUSES: readonly DropCause[] = ['lost', 'mtu', 'queue', 'blackhole', 'filtered', 'no-route', 'node-done'];

/** Per-link counters. Duplicated copies count once in `delivered` each, not in `sent`. */
export interface LinkCounters {
  /** Datagrams (and bytes) submitted to the link. */
  readonly sent: number;
  readonly sentBytes: number;
  /** Datagrams (and bytes) handed to the receiving node, copies included. */
  readonly delivered: number;
  readonly deliveredBytes: number;
  readonly dropped: Readonly<Record<DropCause, number>>;
  readonly droppedBytes: number;
  readonly corrupted: number;
  readonly duplicated: number;
  readonly reordered: number;
  /** Delayed by the filter. */
  readonly delayed: number;
  readonly replaced: number;
  readonly held: number;
}

/** What happened to a datagram; for one still in flight, what will happen (its `arrived` is null). */
export type TapFate =
  'delivered' | 'corrupted' | 'duplicated' | 'held' | 'lost' | 'mtu' | 'queue' | 'blackhole' | 'filtered' | 'no-route' | 'node-done';

/** One datagram on the wire (a duplicated copy has its own record). */
export interface TapRecord {
  /** Sequence number over the whole simulation. */
  readonly id: number;
  /** `"a->b"`, `"inject"` or `"no-route"`. */
  readonly link: string;
  /** The source the receiver sees (after a rewrite). */
  readonly from: SocketAddress;
  /** The source the sender used. */
  readonly sentFrom: SocketAddress;
  readonly to: SocketAddress;
  readonly size: number;
  readonly sent: number;
  /** Time handed to the node; null while in flight or when dropped. */
  readonly arrived: number | null;
  readonly fate: TapFate;
  readonly corrupted: boolean;
  readonly duplicate: boolean;
  readonly reordered: boolean;
  readonly delayed: boolean;
  readonly replaced: boolean;
  /** A copy of the bytes as sent (null when the tap keeps no bytes). */
  readonly bytes: Uint8Array | null;
  /** The bytes as delivered when they differ (corrupted, replaced); else the same as `bytes`. */
  readonly deliveredBytes: Uint8Array | null;
  /** The ECN codepoint the sender set. */
  readonly ecn: EcnMark;
  /** The ECN codepoint as delivered (bleached or CE-marked by the link). */
  readonly deliveredEcn: EcnMark;
}

type Rec = Mutable<TapRecord> & { raw: Uint8Array };

interface Flight {
  readonly arrival: number;
  readonly seq: number;
  readonly bytes: Uint8Array;
  readonly from: SocketAddress;
  readonly to: SocketAddress;
  readonly link: SimLink | null;
  readonly record: Rec;
  cancelled: boolean;
}

/** The random decisions drawn for one submitted datagram. */
interface Draws {
  readonly lost: boolean;
  readonly jitter: number;
  readonly reordered: boolean;
  /** (position, xor value) pairs, null: not corrupted */
  readonly flips: number[] | null;
  readonly duplicate: boolean;
  /** CE-marked if ECN-capable (drawn for every datagram, from its own generator). */
  readonly ce: boolean;
}

interface HeldDatagram {
  readonly bytes: Uint8Array;
  readonly from: SocketAddress;
  readonly to: SocketAddress;
  readonly record: Rec;
  readonly extraDelay: number;
  readonly draws: Draws;
}

/** One direction between two nodes. Get it with {@link Sim.link}. */
export class SimLink {
  readonly name: string;
  private cfg: LinkConfig;
  private readonly rng: {
    readonly loss: Rng;
    readonly jitter: Rng;
    readonly corrupt: Rng;
    readonly duplicate: Rng;
    readonly reorder: Rng;
    readonly ecn: Rng;
  };
  private readonly c: Mutable<Omit<LinkCounters, 'dropped'>> & { dropped: Record<DropCause, number> };
  private submitted = 0;
  private burstLeft = 0;
  private geBad = false;
  private busyUntil = -Infinity;
  private lastOrdered = -Infinity;
  /** serialization end times and sizes of datagrams not yet fully sent (FIFO from `qHead`) */
  private qEnd: number[] = [];
  private qSize: number[] = [];
  private qHead = 0;
  private qBytes = 0;
  private readonly heldList: HeldDatagram[] = [];
  /** @internal */
  readonly flights = new Set<Flight>();

  /** @internal */
  constructor(
    private readonly sim: Sim,
    readonly from: SimNodeHandle<unknown>,
    readonly to: SimNodeHandle<unknown>,
    seed: Seed,
    config: LinkConfig,
  ) {
    this.name = `${from.name}->${to.name}`;
    checkLinkConfig(config);
    this.cfg = config;
    const base = Rng.fromSeed(seed, `link:${this.name}`);
    this.rng = {
      loss: base.fork('loss'),
      jitter: base.fork('jitter'),
      corrupt: base.fork('corrupt'),
      duplicate: base.fork('duplicate'),
      reorder: base.fork('reorder'),
      ecn: base.fork('ecn'),
    };
    const dropped = {} as Record<DropCause, number>;
    for (const d of DROP_CAUSES) dropped[d] = 0;
    this.c = {
      sent: 0,
      sentBytes: 0,
      delivered: 0,
      deliveredBytes: 0,
      dropped,
      droppedBytes: 0,
      corrupted: 0,
      duplicated: 0,
      reordered: 0,
      delayed: 0,
      replaced: 0,
      held: 0,
    };
  }

  get config(): LinkConfig {
    return this.cfg;
  }

  /** Changes some settings (the others stay); takes effect for datagrams sent from now on. */
  configure(settings: LinkSettings): this {
    const next = { ...this.cfg, ...settings };
    checkLinkConfig(next);
    this.cfg = next;
    return this;
  }

  /** Adds a blackhole period [start, end) of send time. */
  blackhole(start: number, end: number): this {
    return this.configure({ blackholes: [...this.cfg.blackholes, [start, end]] });
  }

  /** A snapshot of the counters. */
  get counters(): LinkCounters {
    return { ...this.c, dropped: { ...this.c.dropped } };
  }

  /** Datagrams held by the filter. */
  get held(): number {
    return this.heldList.length;
  }

  /** Datagrams scheduled to arrive. */
  get inFlight(): number {
    return this.flights.size;
  }

  /** Sends every held datagram on, now, through the rest of the link (MTU, queue, loss, latency...). Returns how many. */
  releaseHeld(): number {
    const held = this.heldList.splice(0);
    for (const h of held) this.transmit(h.bytes, h.from, h.to, h.record, h.extraDelay, h.draws);
    return held.length;
  }

  /** Drops every datagram in flight on this link (fate 'filtered'), as quinn's tests clear a queue. Returns how many. */
  dropInFlight(): number {
    const n = this.flights.size;
    for (const f of this.flights) {
      f.cancelled = true;
      this.drop(f.record, 'filtered');
    }
    this.flights.clear();
    return n;
  }

  /** @internal Entry point: a node sent `bytes` (already a private copy) over this link. */
  submit(bytes: Uint8Array, from: SocketAddress, to: SocketAddress, ecn: EcnMark = 'not-ect'): void {
    const cfg = this.cfg;
    const now = this.sim.now;
    const info: DatagramInfo = { link: this.name, index: this.submitted++, now, from, to };
    this.c.sent++;
    this.c.sentBytes += bytes.length;
    let seenFrom = from;
    if (cfg.rewriteSource !== null) {
      seenFrom = cfg.rewriteSource(from, info);
      if (!sameAddr(seenFrom, from)) this.sim['mapNat'](seenFrom, from);
    }
    const record = this.sim['newRecord'](this.name, seenFrom, from, to, bytes);
    record.ecn = record.deliveredEcn = ecn;
    const verdict = cfg.filter === null ? 'deliver' : cfg.filter(bytes, info);
    let extraDelay = 0;
    if (typeof verdict === 'object') {
      if (verdict.replace !== undefined) {
        bytes = verdict.replace.slice();
        record.deliveredBytes = record.bytes === null ? null : bytes;
        record.size = bytes.length;
        record.replaced = true;
        this.c.replaced++;
      }
      if (verdict.delay !== undefined && verdict.delay > 0) {
        extraDelay = verdict.delay;
        record.delayed = true;
        this.c.delayed++;
      }
    }
    // Draw every random decision now, for every datagram submitted, whatever happens to it next.
    const draws = this.draw(info.index, bytes.length);
    if (verdict === 'drop') return this.drop(record, 'filtered');
    if (verdict === 'hold') {
      record.fate = 'held';
      this.c.held++;
      this.heldList.push({ bytes, from: seenFrom, to, record, extraDelay, draws });
      return;
    }
    this.transmit(bytes, seenFrom, to, record, extraDelay, draws);
  }

  /** The random decisions for submitted datagram `index`: each kind from its own generator, in submission order. */
  private draw(index: number, size: number): Draws {
    const cfg = this.cfg;
    const r = this.rng;
    let flips: number[] | null = null;
    if (size > 0 && r.corrupt.chance(cfg.corruption)) {
      flips = [];
      const n = r.corrupt.int(1, Math.min(cfg.corruptBytes, size));
      while (flips.length < 2 * n) {
        const at = r.corrupt.below(size);
        if (flips.some((p, i) => i % 2 === 0 && p === at)) continue;
        flips.push(at, r.corrupt.int(1, 255));
      }
    }
    return {
      lost: this.lossDecision(index),
      jitter: cfg.jitter > 0 ? r.jitter.float() * cfg.jitter : 0,
      reordered: r.reorder.chance(cfg.reorder),
      flips,
      duplicate: r.duplicate.chance(cfg.duplication),
      ce: r.ecn.chance(cfg.ceMarking),
    };
  }

  private lossDecision(index: number): boolean {
    const cfg = this.cfg;
    const rng = this.rng.loss;
    const ge = cfg.gilbertElliott;
    let lost: boolean;
    if (ge !== null) {
      lost = rng.chance(this.geBad ? (ge.lossInBad ?? 1) : (ge.lossInGood ?? 0));
      if (this.geBad ? rng.chance(ge.badToGood) : rng.chance(ge.goodToBad)) this.geBad = !this.geBad;
    } else if (this.burstLeft > 0) {
      this.burstLeft--;
      lost = true;
    } else {
      lost = rng.chance(cfg.loss);
      if (lost && cfg.maxBurst > 1) this.burstLeft = rng.int(1, cfg.maxBurst) - 1;
    }
    // The mask is applied on top, so the random models advance the same way with or without it.
    if (cfg.lossMask !== null && ((cfg.lossMask >> BigInt(index % 64)) & 1n) === 1n) lost = true;
    return lost;
  }

  private drop(record: Rec, cause: DropCause): void {
    record.fate = cause;
    this.c.dropped[cause]++;
    this.c.droppedBytes += record.size;
  }

  private transmit(bytes: Uint8Array, from: SocketAddress, to: SocketAddress, record: Rec, extraDelay: number, draws: Draws): void {
    const cfg = this.cfg;
    const now = this.sim.now;
    record.fate = 'delivered';
    if (bytes.length > cfg.mtu) return this.drop(record, 'mtu');
    for (const [s, e] of cfg.blackholes) if (now >= s && now < e) return this.drop(record, 'blackhole');

    let txEnd = now;
    if (cfg.bandwidth !== null) {
      while (this.qHead < this.qEnd.length && this.qEnd[this.qHead]! <= now) {
        this.qBytes -= this.qSize[this.qHead]!;
        this.qHead++;
      }
      if (this.qHead > 1024 && this.qHead * 2 > this.qEnd.length) {
        this.qEnd = this.qEnd.slice(this.qHead);
        this.qSize = this.qSize.slice(this.qHead);
        this.qHead = 0;
      }
      if (cfg.queueBytes !== null && this.qBytes + bytes.length > cfg.queueBytes) return this.drop(record, 'queue');
      txEnd = Math.max(now, this.busyUntil) + (bytes.length * 8 * 1000) / cfg.bandwidth;
      this.busyUntil = txEnd;
      this.qEnd.push(txEnd);
      this.qSize.push(bytes.length);
      this.qBytes += bytes.length;
    }

    if (draws.lost) return this.drop(record, 'lost');
    if (cfg.ecn === 'bleach') record.deliveredEcn = 'not-ect';
    else if (draws.ce && (record.ecn === 'ect0' || record.ecn === 'ect1')) record.deliveredEcn = 'ce';

    let arrival = txEnd + cfg.latency + draws.jitter;
    if (cfg.jitterKeepsOrder && arrival < this.lastOrdered) arrival = this.lastOrdered;
    this.lastOrdered = Math.max(this.lastOrdered, arrival);
    if (draws.reordered) {
      arrival += cfg.reorderDelay;
      record.reordered = true;
      this.c.reordered++;
    }
    arrival += extraDelay;

    if (draws.flips !== null) {
      bytes = bytes.slice();
      for (let i = 0; i < draws.flips.length; i += 2) bytes[draws.flips[i]!] = bytes[draws.flips[i]!]! ^ draws.flips[i + 1]!;
      record.corrupted = true;
      record.fate = 'corrupted';
      if (record.bytes !== null) record.deliveredBytes = bytes;
      this.c.corrupted++;
    }
    this.schedule(arrival, bytes, from, to, record);

    if (draws.duplicate) {
      const copy = this.sim['newRecord'](this.name, from, record.sentFrom, to, record.raw);
      copy.size = bytes.length;
      copy.fate = 'duplicated';
      copy.duplicate = true;
      copy.corrupted = record.corrupted;
      copy.reordered = record.reordered;
      copy.delayed = record.delayed;
      copy.replaced = record.replaced;
      copy.deliveredBytes = record.deliveredBytes;
      copy.ecn = record.ecn;
      copy.deliveredEcn = record.deliveredEcn;
      this.c.duplicated++;
      this.schedule(arrival + cfg.duplicateDelay, bytes, from, to, copy);
    }
  }

  private schedule(arrival: number, bytes: Uint8Array, from: SocketAddress, to: SocketAddress, record: Rec): void {
    const f = this.sim['enqueue'](arrival, bytes, from, to, this, record);
    this.flights.add(f);
  }

  /** @internal The sim delivered (or failed to deliver) a flight of this link. */
  landed(f: Flight, cause: DropCause | null): void {
    this.flights.delete(f);
    if (cause !== null) return this.drop(f.record, cause);
    this.c.delivered++;
    this.c.deliveredBytes += f.bytes.length;
  }
}

// ---------------------------------------------------------------------------------------------------
// errors

/** Why a run could not finish. Tests assert on `code`. */
export const SIM_ERROR_CODES = {
  ERR_SIM_MAX_STEPS: 'the run took maxSteps steps without reaching its goal',
  ERR_SIM_MAX_TIME: "the next event lies beyond the run's maxTime budget of virtual time",
  ERR_SIM_TIME_STUCK: 'too many consecutive steps without the clock moving (maxStepsAtSameTime)',
  ERR_SIM_STUCK_TIMER: 'a node keeps returning a deadline <= now without sending or reporting anything (maxStalledPolls)',
  ERR_SIM_POLL_LOOP: 'a node returned more than maxPollsPerStep results in one step without NEED_READ',
  ERR_SIM_IDLE: 'nothing is scheduled (no deadline, no datagram in flight) and the predicate is still false',
} as const;

export type SimErrorCode = keyof typeof SIM_ERROR_CODES;

/** The run livelocked, deadlocked or ran out of budget. Carries what a human needs to see why. */
export class SimLivelockError extends PullwireError {
  declare readonly code: SimErrorCode;
  /** Virtual time when it was raised. */
  readonly time: number;
  /** Steps taken by this run, and by the simulator in total. */
  readonly steps: number;
  readonly totalSteps: number;
  /** The last datagrams submitted, described (oldest first). */
  readonly recent: readonly string[];
  /** Each node's state. */
  readonly nodes: readonly { readonly name: string; readonly deadline: number | null; readonly finished: boolean }[];

  constructor(
    code: SimErrorCode,
    detail: string,
    time: number,
    steps: number,
    totalSteps: number,
    recent: readonly string[],
    nodes: SimLivelockError['nodes'],
  ) {
    const nodeText = nodes.map((n) => `${n.name}: ${n.finished ? 'done' : `deadline ${n.deadline}`}`).join('; ');
    super(
      code,
      `${SIM_ERROR_CODES[code]}${detail ? ` (${detail})` : ''} at t=${time} ms after ${steps} steps (${totalSteps} in total); ` +
        `nodes: ${nodeText}; last datagrams:${recent.length === 0 ? ' none' : `\n  ${recent.join('\n  ')}`}`,
    );
    this.time = time;
    this.steps = steps;
    this.totalSteps = totalSteps;
    this.recent = recent;
    this.nodes = nodes;
  }
}

// ---------------------------------------------------------------------------------------------------
// the simulator

export interface TapOptions {
  /** Most records kept (default 100,000). */
  readonly limit?: number;
  /** Which records to keep past the limit: the first ones (default) or the most recent. */
  readonly keep?: 'first' | 'last';
  /** Keep copies of the bytes (default true). */
  readonly bytes?: boolean;
}

export interface SimOptions {
  /** Seed of every random draw (default 0). */
  readonly seed?: Seed;
  /** Initial virtual time, ms (default 0). */
  readonly start?: number;
  /** Settings of links not configured otherwise. */
  readonly defaultLink?: LinkSettings;
  /** Record datagrams (default off). `true` = default options. */
  readonly tap?: boolean | TapOptions;
  /** Short-header DCID length for descriptions in reports (default 8). */
  readonly shortDcidLength?: number;
  /** How many recent datagrams a livelock report shows (default 8). */
  readonly recentDatagrams?: number;
  /** Consecutive zero-progress polls on a past deadline before ERR_SIM_STUCK_TIMER (default 1000). */
  readonly maxStalledPolls?: number;
  /** Consecutive steps without the clock moving before ERR_SIM_TIME_STUCK (default 100,000). */
  readonly maxStepsAtSameTime?: number;
  /** Results one node may return in one step before ERR_SIM_POLL_LOOP (default 1,000,000). */
  readonly maxPollsPerStep?: number;
}

/** Bounds of one run. */
export interface RunLimits {
  /** Steps this run may take (default 2,000,000). */
  readonly maxSteps?: number;
  /** Virtual milliseconds this run may advance the clock by (default 3,600,000 = one hour). */
  readonly maxTime?: number;
}

export interface RunResult {
  /** Steps taken by this run. */
  readonly steps: number;
  /** Virtual time at the end. */
  readonly time: number;
}

export type NodeRef = SimNodeHandle<unknown> | string;

/** Traffic of every node, frozen when a condition first held. */
export class SimCheckpoint {
  private at: number | null = null;
  private snapshot: ReadonlyMap<string, readonly PathTraffic[]> = new Map();

  /** @internal */
  constructor(
    readonly label: string,
    /** @internal */ readonly predicate: () => boolean,
  ) {}

  get reached(): boolean {
    return this.at !== null;
  }
  /** Virtual time when the condition first held (null: not yet). */
  get time(): number | null {
    return this.at;
  }
  /** @internal */
  take(now: number, nodes: readonly NodeState[]): void {
    this.at = now;
    this.snapshot = new Map(nodes.map((n) => [n.name, n.handle.traffic()]));
  }
  private paths(node: NodeRef): readonly PathTraffic[] {
    if (this.at === null) throw new UsageError(`checkpoint ${this.label} was not reached`);
    const name = typeof node === 'string' ? node : node.name;
    const p = this.snapshot.get(name);
    if (p === undefined) throw new UsageError(`no node ${name} at checkpoint ${this.label}`);
    return p;
  }
  /** The node's per-path counters at the checkpoint. */
  traffic(node: NodeRef): readonly PathTraffic[] {
    return this.paths(node);
  }
  /** The node's totals with `remote` at the checkpoint. */
  trafficWith(node: NodeRef, remote: SocketAddress): TrafficTotals {
    return sumTraffic(this.paths(node).filter((t) => sameAddr(t.remote, remote)));
  }
  /** The node's totals at the checkpoint. */
  totals(node: NodeRef): TrafficTotals {
    return sumTraffic(this.paths(node));
  }
}

const DEFAULT_MAX_STEPS = 2_000_000;
const DEFAULT_MAX_TIME = 3_600_000;

/** The simulator. See the module doc. */
export class Sim {
  readonly seed: Seed;
  private clock: number;
  private totalSteps = 0;
  private sameTimeSteps = 0;
  private readonly states: NodeState[] = [];
  private readonly byName = new Map<string, NodeState>();
  private readonly owners = new Map<string, NodeState>();
  /** translated address -> original address (a NAT's table, filled by source rewrites) */
  private readonly nat = new Map<string, SocketAddress>();
  private readonly links = new Map<string, SimLink>();
  private readonly defaultLink: LinkConfig;
  private readonly heap: Flight[] = [];
  private flightSeq = 0;
  private recordSeq = 0;
  private readonly tapOn: boolean;
  private readonly tapLimit: number;
  private readonly tapKeepLast: boolean;
  private readonly tapBytes: boolean;
  private tapRecords: Rec[] = [];
  private tapHead = 0;
  private tapSkipped = 0;
  private readonly recentRing: Rec[] = [];
  private recentAt = 0;
  private readonly recentSize: number;
  private readonly shortDcidLength: number;
  private readonly maxStalledPolls: number;
  private readonly maxStepsAtSameTime: number;
  private readonly maxPollsPerStep: number;
  private checkpoints: SimCheckpoint[] = [];
  private noRouteCount = 0;
  /** steps of the current run, for error reports */
  private runSteps = 0;

  constructor(options: SimOptions = {}) {
    this.seed = options.seed ?? 0;
    this.clock = options.start ?? 0;
    if (!Number.isFinite(this.clock)) throw new UsageError(`start ${this.clock} is not a finite time`);
    this.defaultLink = { ...DEFAULT_LINK, ...options.defaultLink };
    checkLinkConfig(this.defaultLink);
    const tap = options.tap === true ? {} : options.tap === false || options.tap === undefined ? null : options.tap;
    this.tapOn = tap !== null;
    this.tapLimit = tap?.limit ?? 100_000;
    this.tapKeepLast = tap?.keep === 'last';
    this.tapBytes = tap?.bytes ?? true;
    this.recentSize = options.recentDatagrams ?? 8;
    this.shortDcidLength = options.shortDcidLength ?? 8;
    this.maxStalledPolls = options.maxStalledPolls ?? 1000;
    this.maxStepsAtSameTime = options.maxStepsAtSameTime ?? 100_000;
    this.maxPollsPerStep = options.maxPollsPerStep ?? 1_000_000;
  }

  /** Current virtual time, ms. */
  get now(): number {
    return this.clock;
  }

  /** Steps taken since the simulator was created. */
  get steps(): number {
    return this.totalSteps;
  }

  get nodes(): readonly SimNodeHandle<unknown>[] {
    return this.states.map((s) => s.handle);
  }

  /** Datagrams dropped because no node owned the destination (at sending or arrival). */
  get noRoute(): number {
    return this.noRouteCount;
  }

  /** Attaches a node at its addresses. Names are unique; each address has one owner. */
  addNode<E>(name: string, node: SimNode<E>, options: NodeOptions<E>): SimNodeHandle<E> {
    if (this.byName.has(name)) throw new UsageError(`a node named ${name} exists`);
    const addresses = Array.isArray(options.addresses)
      ? (options.addresses as readonly SocketAddress[])
      : [options.addresses as SocketAddress];
    if (addresses.length === 0) throw new UsageError(`node ${name} needs at least one address`);
    const onEvent = options.onEvent as NodeState['onEvent'] | undefined;
    const state: NodeState = {
      name,
      node: node as SimNode<unknown>,
      handle: undefined as unknown as SimNodeHandle<unknown>,
      addresses: [],
      events: [],
      keepEvents: options.keepEvents ?? true,
      onEvent: onEvent ?? null,
      deadline: this.clock,
      finished: false,
      finishedAt: null,
      stalled: 0,
      receivedSincePoll: false,
      traffic: new Map(),
    };
    state.handle = new SimNodeHandle<unknown>(state, this);
    for (const a of addresses) this.attach(state, a);
    this.states.push(state);
    this.byName.set(name, state);
    return state.handle as SimNodeHandle<E>;
  }

  /** The node with this name. */
  node(name: string): SimNodeHandle<unknown> {
    return this.state(name).handle;
  }

  private state(ref: NodeRef): NodeState {
    const name = typeof ref === 'string' ? ref : ref.name;
    const s = this.byName.get(name);
    if (s === undefined) throw new UsageError(`no node named ${name}`);
    return s;
  }

  private attach(state: NodeState, address: SocketAddress): void {
    const key = addrKey(address);
    const owner = this.owners.get(key);
    if (owner !== undefined) {
      if (owner === state) return;
      throw new UsageError(`${formatAddress(address)} already belongs to ${owner.name}`);
    }
    this.owners.set(key, state);
    state.addresses.push({ address: address.address, port: address.port });
  }

  private detach(state: NodeState, address: SocketAddress): void {
    const key = addrKey(address);
    if (this.owners.get(key) !== state) throw new UsageError(`${formatAddress(address)} does not belong to ${state.name}`);
    this.owners.delete(key);
    const i = state.addresses.findIndex((a) => sameAddr(a, address));
    state.addresses.splice(i, 1);
  }

  /** The link from one node to another (created with the default settings on first use). */
  link(from: NodeRef, to: NodeRef): SimLink {
    const a = this.state(from);
    const b = this.state(to);
    const key = `${a.name}\u0000${b.name}`;
    let l = this.links.get(key);
    if (l === undefined) {
      l = new SimLink(this, a.handle, b.handle, this.seed, this.defaultLink);
      this.links.set(key, l);
    }
    return l;
  }

  /** Configures both directions between `a` and `b` (`reverse` for b -> a, default the same settings). */
  connect(a: NodeRef, b: NodeRef, settings: LinkSettings, reverse: LinkSettings = settings): [SimLink, SimLink] {
    return [this.link(a, b).configure(settings), this.link(b, a).configure(reverse)];
  }

  /**
   * Puts a datagram on the wire from any address (an attacker, a spoofed or replayed packet), bypassing
   * the links: it arrives `delay` ms from now, untouched.
   */
  inject(datagram: Uint8Array, from: SocketAddress, to: SocketAddress, delay = 0): void {
    if (!(delay >= 0)) throw new UsageError(`inject delay ${delay} must be >= 0`);
    const bytes = datagram.slice();
    const record = this.newRecord('inject', from, from, to, bytes);
    record.fate = 'delivered';
    this.enqueue(this.clock + delay, bytes, from, to, null, record);
  }

  /**
   * A checkpoint: after every `receive` and every poll result, until `predicate` first returns true,
   * then every node's per-path traffic is frozen in it. Checked once right away.
   */
  checkpoint(predicate: () => boolean, label = 'checkpoint'): SimCheckpoint {
    const cp = new SimCheckpoint(label, predicate);
    if (predicate()) cp.take(this.clock, this.states);
    else this.checkpoints.push(cp);
    return cp;
  }

  /** Recorded datagrams (see {@link TapOptions}); empty when the tap is off. */
  get tap(): readonly TapRecord[] {
    if (this.tapHead === 0) return this.tapRecords;
    return [...this.tapRecords.slice(this.tapHead), ...this.tapRecords.slice(0, this.tapHead)];
  }

  /** Records not kept because of the tap's limit. */
  get tapOverflow(): number {
    return this.tapSkipped;
  }

  /** Forgets the recorded datagrams. */
  clearTap(): void {
    this.tapRecords = [];
    this.tapHead = 0;
    this.tapSkipped = 0;
  }

  /** The last few datagrams submitted (kept even with the tap off), oldest first. */
  recent(): readonly TapRecord[] {
    const n = this.recentRing.length;
    if (n < this.recentSize) return [...this.recentRing];
    return [...this.recentRing.slice(this.recentAt), ...this.recentRing.slice(0, this.recentAt)];
  }

  /** One line about a record, with its QUIC headers decoded. */
  describe(record: TapRecord): string {
    const r = record as Rec;
    const when = r.arrived === null ? `t=${r.sent}` : `t=${r.sent}->${r.arrived}`;
    const nat = sameAddr(r.from, r.sentFrom) ? '' : ` (sent from ${formatAddress(r.sentFrom)})`;
    const flags = (['corrupted', 'duplicate', 'reordered', 'delayed', 'replaced'] as const).filter((k) => r[k]);
    return (
      `#${r.id} ${when} ${r.link} ${formatAddress(r.from)}${nat} -> ${formatAddress(r.to)} ${r.fate}` +
      `${flags.length > 0 ? ` [${flags.join(',')}]` : ''}: ${describeDatagram(r.raw, this.shortDcidLength).text}`
    );
  }

  /** Time of the next thing scheduled (a deadline or an arrival), null when there is none. */
  nextEventTime(): number | null {
    let next: number | null = null;
    for (const s of this.states) if (!s.finished && s.deadline !== null && (next === null || s.deadline < next)) next = s.deadline;
    while (this.heap.length > 0 && this.heap[0]!.cancelled) heapPop(this.heap);
    const top = this.heap[0];
    if (top !== undefined && (next === null || top.arrival < next)) next = top.arrival;
    return next;
  }

  /** Nothing scheduled: no node deadline and no datagram in flight (held datagrams do not count). */
  isIdle(): boolean {
    return this.nextEventTime() === null;
  }

  /**
   * One step: poll every node until NEED_READ or done, then move the clock to the next deadline or
   * arrival and deliver what is due. Returns false (and does nothing more) when idle.
   */
  step(): boolean {
    this.totalSteps++;
    this.pollAll();
    const next = this.nextEventTime();
    if (next === null) return false;
    this.advanceTo(next);
    return true;
  }

  /** Steps until `predicate` holds (checked before the first step and after each half-step). */
  runUntil(predicate: () => boolean, limits: RunLimits = {}): RunResult {
    return this.run('until', predicate, limits.maxTime ?? DEFAULT_MAX_TIME, limits);
  }

  /** Steps until `ms` of virtual time have passed, then sets the clock to exactly that. */
  runFor(ms: number, limits: Pick<RunLimits, 'maxSteps'> = {}): RunResult {
    if (!(ms >= 0)) throw new UsageError(`runFor(${ms}): need a duration >= 0`);
    return this.run('for', null, ms, limits);
  }

  /** Steps until nothing is scheduled: no deadline, no datagram in flight. */
  runUntilIdle(limits: RunLimits = {}): RunResult {
    return this.run('idle', null, limits.maxTime ?? DEFAULT_MAX_TIME, limits);
  }

  private run(kind: 'until' | 'for' | 'idle', predicate: (() => boolean) | null, budget: number, limits: RunLimits): RunResult {
    const maxSteps = limits.maxSteps ?? DEFAULT_MAX_STEPS;
    const endTime = this.clock + budget;
    this.runSteps = 0;
    this.sameTimeSteps = 0;
    const done = (): RunResult => ({ steps: this.runSteps, time: this.clock });
    if (predicate !== null && predicate()) return done();
    for (;;) {
      if (this.runSteps >= maxSteps) throw this.livelock('ERR_SIM_MAX_STEPS', `maxSteps ${maxSteps}`);
      this.runSteps++;
      this.totalSteps++;
      this.pollAll();
      if (predicate !== null && predicate()) return done();
      const next = this.nextEventTime();
      if (next === null || next > endTime) {
        if (kind === 'for') {
          this.clock = Math.max(this.clock, endTime);
          return done();
        }
        if (next === null) {
          if (kind === 'idle') return done();
          throw this.livelock('ERR_SIM_IDLE', '');
        }
        throw this.livelock('ERR_SIM_MAX_TIME', `maxTime ${budget} ms: next event at t=${next}`);
      }
      this.advanceTo(next);
      if (predicate !== null && predicate()) return done();
    }
  }

  private advanceTo(next: number): void {
    if (next <= this.clock) {
      if (++this.sameTimeSteps > this.maxStepsAtSameTime)
        throw this.livelock('ERR_SIM_TIME_STUCK', `${this.sameTimeSteps - 1} steps at t=${this.clock}`);
    } else {
      this.sameTimeSteps = 0;
      this.clock = next;
    }
    const heap = this.heap;
    while (heap.length > 0 && heap[0]!.arrival <= this.clock) this.deliver(heapPop(heap));
  }

  private pollAll(): void {
    for (const s of this.states) if (!s.finished) this.pollNode(s);
  }

  private pollNode(s: NodeState): void {
    const now = this.clock;
    let progress = false;
    for (let i = 0; ; i++) {
      if (i >= this.maxPollsPerStep) throw this.livelock('ERR_SIM_POLL_LOOP', `node ${s.name}: ${i} results`);
      const r = s.node.poll(now);
      if (r.type === 'need-write') {
        progress = true;
        this.send(s, r.datagram.slice(), r.path, r.ecn ?? 'not-ect');
      } else if (r.type === 'event') {
        progress = true;
        if (s.keepEvents) s.events.push(r.event);
        s.onEvent?.(r.event, now, s.handle);
      } else if (r.type === 'need-read') {
        const d = r.deadline;
        if (d !== null && Number.isNaN(d)) throw new UsageError(`node ${s.name} returned a NaN deadline`);
        s.deadline = d === null || d === Infinity ? null : d;
        this.checkCheckpoints();
        break;
      } else if (r.type === 'done') {
        s.finished = true;
        s.finishedAt = now;
        s.deadline = null;
        this.checkCheckpoints();
        break;
      } else {
        const never: never = r;
        throw new UsageError(`node ${s.name} returned an unknown poll result ${JSON.stringify(never)}`);
      }
      this.checkCheckpoints();
    }
    if (!s.finished && s.deadline !== null && s.deadline <= now && !progress && !s.receivedSincePoll) {
      if (++s.stalled > this.maxStalledPolls)
        throw this.livelock('ERR_SIM_STUCK_TIMER', `node ${s.name} returned deadline ${s.deadline} at t=${now} ${s.stalled} times`);
    } else {
      s.stalled = 0;
    }
    s.receivedSincePoll = false;
  }

  private checkCheckpoints(): void {
    if (this.checkpoints.length === 0) return;
    const keep: SimCheckpoint[] = [];
    for (const cp of this.checkpoints) {
      if (cp.predicate()) cp.take(this.clock, this.states);
      else keep.push(cp);
    }
    this.checkpoints = keep;
  }

  private count(s: NodeState, local: SocketAddress, remote: SocketAddress): Mutable<PathTraffic> {
    const key = `${addrKey(local)}|${addrKey(remote)}`;
    let t = s.traffic.get(key);
    if (t === undefined) {
      t = { local, remote, sentDatagrams: 0, sentBytes: 0, receivedDatagrams: 0, receivedBytes: 0 };
      s.traffic.set(key, t);
    }
    return t;
  }

  /** A node handed over a datagram (`bytes` is already a private copy). */
  private send(s: NodeState, bytes: Uint8Array, path: Path, ecn: EcnMark): void {
    const t = this.count(s, path.local, path.remote);
    t.sentDatagrams++;
    t.sentBytes += bytes.length;
    const dest = this.resolve(path.remote);
    if (dest === null) {
      const record = this.newRecord('no-route', path.local, path.local, path.remote, bytes);
      record.fate = 'no-route';
      this.noRouteCount++;
      return;
    }
    this.link(s.handle, dest.state.handle).submit(bytes, path.local, path.remote, ecn);
  }

  /** Who receives datagrams sent to `address`: its owner, or through the NAT table the owner of the original address. */
  private resolve(address: SocketAddress): { readonly state: NodeState; readonly local: SocketAddress } | null {
    const owner = this.owners.get(addrKey(address));
    if (owner !== undefined) return { state: owner, local: address };
    const original = this.nat.get(addrKey(address));
    if (original === undefined) return null;
    const behind = this.owners.get(addrKey(original));
    return behind === undefined ? null : { state: behind, local: original };
  }

  private mapNat(translated: SocketAddress, original: SocketAddress): void {
    this.nat.set(addrKey(translated), { address: original.address, port: original.port });
  }

  private newRecord(link: string, from: SocketAddress, sentFrom: SocketAddress, to: SocketAddress, raw: Uint8Array): Rec {
    const keep = this.tapOn && this.tapBytes;
    const r: Rec = {
      id: this.recordSeq++,
      link,
      from,
      sentFrom,
      to,
      size: raw.length,
      sent: this.clock,
      arrived: null,
      fate: 'delivered',
      corrupted: false,
      duplicate: false,
      reordered: false,
      delayed: false,
      replaced: false,
      bytes: keep ? raw : null,
      deliveredBytes: keep ? raw : null,
      ecn: 'not-ect',
      deliveredEcn: 'not-ect',
      raw,
    };
    if (this.recentRing.length < this.recentSize) this.recentRing.push(r);
    else if (this.recentSize > 0) {
      this.recentRing[this.recentAt] = r;
      this.recentAt = (this.recentAt + 1) % this.recentSize;
    }
    if (this.tapOn) {
      if (this.tapRecords.length < this.tapLimit) this.tapRecords.push(r);
      else if (this.tapKeepLast && this.tapLimit > 0) {
        this.tapRecords[this.tapHead] = r;
        this.tapHead = (this.tapHead + 1) % this.tapLimit;
        this.tapSkipped++;
      } else this.tapSkipped++;
    }
    return r;
  }

  private enqueue(arrival: number, bytes: Uint8Array, from: SocketAddress, to: SocketAddress, link: SimLink | null, record: Rec): Flight {
    const f: Flight = { arrival, seq: this.flightSeq++, bytes, from, to, link, record, cancelled: false };
    heapPush(this.heap, f);
    return f;
  }

  private deliver(f: Flight): void {
    if (f.cancelled) return;
    const dest = this.resolve(f.to);
    const cause: DropCause | null = dest === null ? 'no-route' : dest.state.finished ? 'node-done' : null;
    if (f.link !== null) f.link.landed(f, cause);
    if (dest === null || cause !== null) {
      f.record.fate = cause!;
      if (cause === 'no-route') this.noRouteCount++;
      return;
    }
    f.record.arrived = this.clock;
    const s = dest.state;
    const t = this.count(s, dest.local, f.from);
    t.receivedDatagrams++;
    t.receivedBytes += f.bytes.length;
    s.receivedSincePoll = true;
    // A fresh copy per delivery: receivers may decrypt in place, and a duplicate shares the sender's bytes.
    s.node.receive(f.bytes.slice(), { local: dest.local, remote: f.from }, this.clock, f.record.deliveredEcn);
    this.checkCheckpoints();
  }

  private livelock(code: SimErrorCode, detail: string): SimLivelockError {
    return new SimLivelockError(
      code,
      detail,
      this.clock,
      this.runSteps,
      this.totalSteps,
      this.recent().map((r) => this.describe(r)),
      this.states.map((s) => ({ name: s.name, deadline: s.finished ? null : s.deadline, finished: s.finished })),
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// binary heap of flights ordered by (arrival, seq): equal arrival times keep sending order

function before(a: Flight, b: Flight): boolean {
  return a.arrival < b.arrival || (a.arrival === b.arrival && a.seq < b.seq);
}

function heapPush(h: Flight[], f: Flight): void {
  h.push(f);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!before(h[i]!, h[p]!)) break;
    [h[i], h[p]] = [h[p]!, h[i]!];
    i = p;
  }
}

function heapPop(h: Flight[]): Flight {
  const top = h[0]!;
  const last = h.pop()!;
  if (h.length > 0) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
  return top;
}

// ---------------------------------------------------------------------------------------------------
// addresses, descriptions, statistics

function addrKey(a: SocketAddress): string {
  return `${a.address}|${a.port}`;
}

function sameAddr(a: SocketAddress, b: SocketAddress): boolean {
  return a.port === b.port && a.address === b.address;
}

/** `10.0.0.1:4433`, `[::1]:4433`. */
export function formatAddress(a: SocketAddress): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** Goodput in bits per second: `bytes` of application data over `ms` milliseconds. */
export function goodput(bytes: number, ms: number): number {
  if (!(ms > 0)) throw new UsageError(`goodput over ${ms} ms: need a duration > 0`);
  return (bytes * 8 * 1000) / ms;
}

/** One packet of a datagram, as far as its cleartext header tells. */
export interface PacketSummary {
  readonly kind: PacketHeader['kind'];
  /** Null for short headers. */
  readonly version: number | null;
  /** Hex. */
  readonly dcid: string;
  /** Hex; null for short headers. */
  readonly scid: string | null;
  /** Initial and Retry: token length; else null. */
  readonly tokenLength: number | null;
  /** Bytes of the packet in the datagram (header, protected payload and tag). */
  readonly length: number;
  /** Version Negotiation: the versions offered; else null. */
  readonly versions: readonly number[] | null;
}

export interface DatagramDescription {
  readonly size: number;
  readonly packets: readonly PacketSummary[];
  /** Code of the parse error that stopped decoding (null when the whole datagram parsed). */
  readonly error: string | null;
  /** Offset of that error (the datagram's size when none). */
  readonly errorOffset: number;
  /** One line: `1200 B: initial(v1 dcid=.. scid=.. token=0 1162 B) padding...`. */
  readonly text: string;
}

function toHexString(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

function versionName(v: number): string {
  if (v === QUIC_V1) return 'v1';
  if (v === QUIC_V2) return 'v2';
  return `0x${v.toString(16).padStart(8, '0')}`;
}

/**
 * Decodes the cleartext headers of a datagram's packets (types, versions, connection IDs, lengths;
 * payloads stay encrypted) with `decodeDatagram` from src/quic/packet.ts. Never throws on bad bytes:
 * what did not parse is reported in `error`. `shortDcidLength` is the DCID length of 1-RTT packets.
 */
export function describeDatagram(bytes: Uint8Array, shortDcidLength: number): DatagramDescription {
  const decoded = decodeDatagram(bytes, { shortDcidLength });
  const packets: PacketSummary[] = decoded.packets.map((p) => {
    const long = p.kind !== '1rtt';
    return {
      kind: p.kind,
      version: p.kind === '1rtt' ? null : p.kind === 'version-negotiation' ? 0 : p.version,
      dcid: toHexString(p.dcid),
      scid: long ? toHexString(p.scid) : null,
      tokenLength: p.kind === 'initial' || p.kind === 'retry' ? p.token.length : null,
      length: p.end - p.start,
      versions: p.kind === 'version-negotiation' ? p.versions : null,
    };
  });
  const parts = packets.map((p) => {
    if (p.kind === '1rtt') return `1rtt(dcid=${p.dcid} ${p.length} B)`;
    if (p.kind === 'version-negotiation')
      return `version-negotiation(dcid=${p.dcid} scid=${p.scid} ${p.versions!.map(versionName).join(',')})`;
    const token = p.tokenLength === null ? '' : ` token=${p.tokenLength}`;
    return `${p.kind}(${versionName(p.version!)} dcid=${p.dcid} scid=${p.scid}${token} ${p.length} B)`;
  });
  const error = decoded.error === null ? null : decoded.error.code;
  if (error !== null) {
    const rest = bytes.subarray(decoded.errorOffset, decoded.errorOffset + 16);
    parts.push(`unparsed@${decoded.errorOffset}(${error}: ${toHexString(rest)}${bytes.length - decoded.errorOffset > 16 ? '..' : ''})`);
  }
  return { size: bytes.length, packets, error, errorOffset: decoded.errorOffset, text: `${bytes.length} B: ${parts.join(' ')}` };
}
