/**
 * Shared pieces of the simulator scenarios (test/quic/sim/*.test.ts), the QUIC interop runner's test
 * cases replayed in virtual time over ../support/sim.ts:
 *
 * - certificates made in-process (Ed25519 keys from fixed seeds, DER written here, signed with
 *   node:crypto): deterministic signatures with both providers, and chains of any size (the
 *   amplification-limit scenario needs one over 7500 bytes);
 * - seeded providers (`seededRandomSource`), so a run replays bit for bit;
 * - {@link EndpointNode}: an {@link Endpoint} as a simulator node (its poll results mapped to events);
 * - a tiny request/response application: the client opens a bidirectional stream and sends
 *   `GET <size>`, the server answers with `size` bytes of a pattern derived from the stream ID, and the
 *   client checks every byte as it arrives ({@link ClientApp}, {@link ServerApp});
 * - {@link Scenario}: a client endpoint and a server endpoint on a simulated link, with both apps wired.
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { Connection } from '../../../src/quic/connection/connection.js';
import type { ConnectionEvent, EcnMark, Path, SocketAddress } from '../../../src/quic/connection/events.js';
import type { ClientConnectionOptions } from '../../../src/quic/connection/options.js';
import { createNobleProvider } from '../../../src/quic/crypto/noble.js';
import { createNodeProvider } from '../../../src/quic/crypto/node.js';
import type { CryptoProvider } from '../../../src/quic/crypto/provider.js';
import { Endpoint, type EndpointOptions, type EndpointServerOptions } from '../../../src/quic/endpoint/endpoint.js';
import { nodeCertificateVerifier } from '../../../src/quic/tls/node.js';
import { Rng, seededRandomSource } from '../support/rng.js';
import {
  Sim,
  type LinkFilter,
  type LinkSettings,
  type SimNode,
  type SimNodeHandle,
  type SimOptions,
  type SimPollResult,
} from '../support/sim.js';
import { concat as concatBytes } from '../../support/bytes.js';

export type ProviderKind = 'noble' | 'node';
export const PROVIDER_KINDS: readonly ProviderKind[] = ['noble', 'node'];

export const CLIENT_ADDRESS: SocketAddress = { address: '10.0.0.1', port: 50000 };
export const SERVER_ADDRESS: SocketAddress = { address: '10.0.0.2', port: 4433 };
export const CLIENT_PATH: Path = { local: CLIENT_ADDRESS, remote: SERVER_ADDRESS };
export const ALPN = 'hq-sim';
export const SERVER_NAME = 'localhost';

/** A provider whose randomness comes from `seed` and `label` only. */
export function makeProvider(kind: ProviderKind, seed: number, label: string): CryptoProvider {
  const random = seededRandomSource(seed, label);
  return kind === 'noble' ? createNobleProvider({ random }) : createNodeProvider({ random });
}

// ---------------------------------------------------------------------------------------------------
// certificates (DER written by hand: RFC 5280 section 4.1, RFC 8410 for Ed25519)

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const head = [tag, ...derLength(len)];
  const out = new Uint8Array(head.length + len);
  out.set(head);
  let at = head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const seq = (...parts: Uint8Array[]): Uint8Array => tlv(0x30, ...parts);
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
/** OID 1.3.101.112 (id-Ed25519). */
const ED25519_ALG = seq(bytes(0x06, 0x03, 0x2b, 0x65, 0x70));
const OID_CN = bytes(0x06, 0x03, 0x55, 0x04, 0x03);
const OID_BASIC_CONSTRAINTS = bytes(0x06, 0x03, 0x55, 0x1d, 0x13);
const OID_SAN = bytes(0x06, 0x03, 0x55, 0x1d, 0x11);
/** A private-arc OID for the padding extension (non-critical, so verifiers ignore it). */
const OID_PADDING = bytes(0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x99, 0x01);

function name(cn: string): Uint8Array {
  return seq(tlv(0x31, seq(OID_CN, tlv(0x0c, ascii(cn)))));
}

/** An Ed25519 private key from a 32-byte seed (PKCS#8, RFC 8410 section 7). */
function ed25519Key(seed: number): { key: KeyObject; raw: Uint8Array } {
  const raw = new Uint8Array(32).map((_, i) => (seed * 31 + i * 7 + 1) & 0xff);
  const pkcs8 = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20, ...raw]);
  return { key: createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }), raw };
}

interface CertSpec {
  readonly subject: string;
  readonly issuer: string;
  readonly serial: number;
  readonly subjectKey: KeyObject;
  readonly issuerKey: KeyObject;
  readonly ca: boolean;
  readonly dnsName?: string;
  /** Bytes of an opaque non-critical extension, to make the certificate big. */
  readonly padding?: number;
}

function certificate(s: CertSpec): Uint8Array {
  const spki = new Uint8Array(createPublicKey(s.subjectKey).export({ type: 'spki', format: 'der' }));
  const extensions: Uint8Array[] = [];
  // basicConstraints (critical): cA for the root and intermediates.
  extensions.push(seq(OID_BASIC_CONSTRAINTS, bytes(0x01, 0x01, 0xff), tlv(0x04, seq(...(s.ca ? [bytes(0x01, 0x01, 0xff)] : [])))));
  if (s.dnsName !== undefined) extensions.push(seq(OID_SAN, tlv(0x04, seq(tlv(0x82, ascii(s.dnsName))))));
  if (s.padding !== undefined) extensions.push(seq(OID_PADDING, tlv(0x04, tlv(0x04, new Uint8Array(s.padding).fill(0x5a)))));
  const tbs = seq(
    tlv(0xa0, bytes(0x02, 0x01, 0x02)),
    tlv(0x02, bytes(s.serial & 0x7f)),
    ED25519_ALG,
    name(s.issuer),
    seq(tlv(0x18, ascii('20000101000000Z')), tlv(0x18, ascii('20991231235959Z'))),
    name(s.subject),
    spki,
    tlv(0xa3, seq(...extensions)),
  );
  const signature = new Uint8Array(sign(null, tbs, s.issuerKey));
  return seq(tbs, ED25519_ALG, tlv(0x03, bytes(0), signature));
}

/** A server certificate chain (leaf first, without the root), the root to trust, and the leaf's key seed. */
export interface TestChain {
  readonly chain: readonly Uint8Array[];
  readonly root: Uint8Array;
  readonly leafKey: Uint8Array;
  /** Total DER bytes of `chain` (what goes in the TLS Certificate message, plus small per-entry overhead). */
  readonly size: number;
}

/**
 * A root, `intermediates` intermediate CAs (each with `padding` bytes of an opaque extension) and a leaf
 * for {@link SERVER_NAME}, with keys from seeds `keySeed`, `keySeed + 1`... Deterministic: the same
 * arguments give the same bytes (another `keySeed` gives a root with the same name and another key).
 */
export function makeChain(intermediates = 0, padding = 0, keySeed = 1): TestChain {
  const keys = Array.from({ length: intermediates + 2 }, (_, i) => ed25519Key(keySeed + i));
  const cn = (i: number): string => (i === 0 ? 'pullwire sim root' : `pullwire sim intermediate ${i}`);
  const root = certificate({ subject: cn(0), issuer: cn(0), serial: 1, subjectKey: keys[0]!.key, issuerKey: keys[0]!.key, ca: true });
  const chain: Uint8Array[] = [];
  for (let i = 1; i <= intermediates; i++) {
    const spec = { subject: cn(i), issuer: cn(i - 1), serial: i + 1, subjectKey: keys[i]!.key, issuerKey: keys[i - 1]!.key, ca: true };
    chain.unshift(certificate(padding > 0 ? { ...spec, padding } : spec));
  }
  const leafIndex = intermediates + 1;
  const leaf = certificate({
    subject: SERVER_NAME,
    issuer: cn(intermediates),
    serial: 100,
    subjectKey: keys[leafIndex]!.key,
    issuerKey: keys[intermediates]!.key,
    ca: false,
    dnsName: SERVER_NAME,
  });
  chain.unshift(leaf);
  return { chain, root, leafKey: keys[leafIndex]!.raw, size: chain.reduce((n, c) => n + c.length, 0) };
}

let defaultChain: TestChain | null = null;
/** Root + leaf, made once per process. */
export function simpleChain(): TestChain {
  defaultChain ??= makeChain();
  return defaultChain;
}

// ---------------------------------------------------------------------------------------------------
// connection options

/** Client options (minus provider) that verify the chain's root and the server name. */
export function clientSettings(
  chain: TestChain = simpleChain(),
  extra: Partial<ClientConnectionOptions> = {},
): Omit<ClientConnectionOptions, 'provider'> {
  return { alpn: [ALPN], serverName: SERVER_NAME, verifyCertificate: nodeCertificateVerifier({ ca: [chain.root] }), ...extra };
}

/** Server options (minus provider) with the chain and a signer from `provider`. */
export function serverSettings(
  provider: CryptoProvider,
  chain: TestChain = simpleChain(),
  extra: Partial<EndpointServerOptions> = {},
): EndpointServerOptions {
  return {
    alpn: [ALPN],
    certificateChain: chain.chain,
    signer: provider.createSigner({ type: 'ed25519', privateKey: chain.leafKey }),
    ...extra,
  };
}

/** A bare client Connection (the simulator drives it directly) on {@link CLIENT_PATH}. */
export function clientConnection(kind: ProviderKind, seed: number, extra: Partial<ClientConnectionOptions> = {}, now = 0): Connection {
  return Connection.client({ ...clientSettings(simpleChain(), extra), provider: makeProvider(kind, seed, 'client') }, CLIENT_PATH, now);
}

// ---------------------------------------------------------------------------------------------------
// an Endpoint as a simulator node

/** What an {@link EndpointNode} reports: the endpoint's poll results that are not datagrams or deadlines. */
export type EndpointEvent =
  | { readonly type: 'incoming'; readonly connection: Connection }
  | { readonly type: 'connection-event'; readonly connection: Connection; readonly event: ConnectionEvent }
  | { readonly type: 'connection-done'; readonly connection: Connection };

/** Adapts an {@link Endpoint} to {@link SimNode}: `incoming`, `event` and `connection-done` become events. */
export class EndpointNode implements SimNode<EndpointEvent> {
  constructor(readonly endpoint: Endpoint) {}

  receive(datagram: Uint8Array, path: Path, now: number, ecn: EcnMark = 'not-ect'): void {
    this.endpoint.receive(datagram, path, now, ecn);
  }

  poll(now: number): SimPollResult<EndpointEvent> {
    const r = this.endpoint.poll(now);
    switch (r.type) {
      case 'need-write':
      case 'need-read':
        return r;
      case 'incoming':
        return { type: 'event', event: { type: 'incoming', connection: r.connection } };
      case 'event':
        return { type: 'event', event: { type: 'connection-event', connection: r.connection, event: r.event } };
      case 'connection-done':
        return { type: 'event', event: { type: 'connection-done', connection: r.connection } };
      default: {
        const never: never = r;
        throw new Error(`unknown endpoint poll result ${JSON.stringify(never)}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// the request/response application

/** The response pattern of a stream: xorshift32 bytes seeded by the stream ID (an independent computation from the server's). */
export function expectedBytes(streamId: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (streamId * 2654435761 + 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
    if (i + 1 < size) out[i + 1] = (x >>> 8) & 0xff;
    if (i + 2 < size) out[i + 2] = (x >>> 16) & 0xff;
    if (i + 3 < size) out[i + 3] = x >>> 24;
  }
  return out;
}

const patternCache = new Map<string, Uint8Array>();
function pattern(streamId: number, size: number): Uint8Array {
  const key = `${streamId}:${size}`;
  let p = patternCache.get(key);
  if (p === undefined) {
    p = expectedBytes(streamId, size);
    if (size >= 64 * 1024) patternCache.set(key, p);
  }
  return p;
}

/** Writes what the stream takes, finishing after the last byte; returns the new offset. */
export function pump(conn: Connection, streamId: number, data: Uint8Array, offset: number): number {
  let at = offset;
  while (at < data.length) {
    const n = conn.streamWrite(streamId, data.subarray(at));
    if (n === 0) break;
    at += n;
  }
  if (at === data.length) conn.streamFinish(streamId);
  return at;
}

interface Reply {
  readonly data: Uint8Array;
  written: number;
}

/**
 * The server side: reads `GET <size>` on each bidirectional stream the client opens and answers with
 * `size` pattern bytes and FIN. Unidirectional or malformed requests are answered with STOP_SENDING 1.
 */
export class ServerApp {
  private readonly requests = new Map<number, Uint8Array[]>();
  private readonly replies = new Map<number, Reply>();
  /** Responses completely handed to the stream (FIN written). */
  answered = 0;
  closed: ConnectionEvent | null = null;
  closedAt: number | null = null;
  readonly events: ConnectionEvent[] = [];

  constructor(
    readonly conn: Connection,
    private readonly keepEvents = true,
  ) {}

  /** Bytes of the request on `streamId` read so far (0 once answered). */
  requestBytes(streamId: number): number {
    return (this.requests.get(streamId) ?? []).reduce((n, p) => n + p.length, 0);
  }

  onEvent(e: ConnectionEvent, now: number): void {
    if (this.keepEvents) this.events.push(e);
    if (e.type === 'closed') {
      this.closed = e;
      this.closedAt = now;
    }
    if (this.conn.state !== 'established' && this.conn.state !== 'handshake') return;
    if (e.type === 'stream-readable') this.readRequest(e.streamId);
    else if (e.type === 'stream-writable') this.answer(e.streamId);
    else if (e.type === 'stream-stop-sending') this.replies.delete(e.streamId);
    else if (e.type === 'stream-reset') this.requests.delete(e.streamId);
  }

  private readRequest(id: number): void {
    const parts = this.requests.get(id) ?? [];
    this.requests.set(id, parts);
    for (let r = this.conn.streamRead(id); r !== null; r = this.conn.streamRead(id)) {
      parts.push(r.data);
      if (!r.fin) continue;
      const text = new TextDecoder().decode(concat(parts));
      this.requests.delete(id);
      const m = /^GET (\d+)$/.exec(text);
      if (m === null) {
        // Not a request. A unidirectional stream is discarded once its FIN is read (nothing is left to stop:
        // streamStopSending would throw ERR_STREAM_UNKNOWN); a bidirectional one still has our sending part.
        if ((id & 2) === 0) this.conn.streamStopSending(id, 1);
        return;
      }
      this.replies.set(id, { data: pattern(id, Number(m[1])), written: 0 });
      this.answer(id);
      return;
    }
  }

  private answer(id: number): void {
    const reply = this.replies.get(id);
    if (reply === undefined) return;
    reply.written = pump(this.conn, id, reply.data, reply.written);
    if (reply.written === reply.data.length) {
      this.replies.delete(id);
      this.answered++;
    }
  }
}

/** One download of the client. */
export interface Download {
  readonly size: number;
  streamId: number | null;
  /** Bytes received and checked. */
  received: number;
  done: boolean;
  /** Virtual time when the last byte and FIN arrived. */
  doneAt: number | null;
}

/**
 * The client side: once the handshake completes, opens a stream per download (as many at once as
 * `concurrency` and the peer's MAX_STREAMS allow, more on `streams-available`), sends `GET <size>`, and
 * compares every received byte with {@link expectedBytes}. A mismatch, an extra byte or a missing FIN is
 * recorded in `errors` (the test asserts it is empty).
 */
export class ClientApp {
  readonly downloads: Download[];
  private next = 0;
  private readonly byStream = new Map<number, Download>();
  private readonly expected = new Map<number, Uint8Array>();
  readonly errors: string[] = [];
  readonly events: ConnectionEvent[] = [];
  handshakeAt: number | null = null;
  closed: ConnectionEvent | null = null;
  closedAt: number | null = null;
  /** Most streams ever open at once. */
  maxOpen = 0;
  /** openStream returned null at least once (the peer's stream limit was reached). */
  blockedOnStreams = false;
  /** Called once every download is complete. */
  onComplete: ((now: number) => void) | null = null;

  constructor(
    readonly conn: Connection,
    sizes: readonly number[],
    private readonly concurrency = Infinity,
    private readonly keepEvents = true,
  ) {
    this.downloads = sizes.map((size) => ({ size, streamId: null, received: 0, done: false, doneAt: null }));
  }

  get complete(): boolean {
    return this.downloads.every((d) => d.done);
  }

  get bytesReceived(): number {
    return this.downloads.reduce((n, d) => n + d.received, 0);
  }

  onEvent(e: ConnectionEvent, now: number): void {
    if (this.keepEvents) this.events.push(e);
    switch (e.type) {
      case 'handshake-completed':
        this.handshakeAt = now;
        this.openMore();
        break;
      case 'streams-available':
        this.openMore();
        break;
      case 'stream-readable':
        this.read(e.streamId, now);
        break;
      case 'stream-reset':
        this.errors.push(`stream ${e.streamId} reset by the server (${e.errorCode})`);
        break;
      case 'closed':
        this.closed = e;
        this.closedAt = now;
        break;
      default:
        break;
    }
  }

  /**
   * Opens the downloads' streams now, before the handshake completes: with a session that allows 0-RTT
   * (client options `session` + `earlyData`) the requests go in 0-RTT packets, within the remembered limits.
   */
  openEarly(): void {
    this.openMore(true);
  }

  private openMore(early = false): void {
    if (this.conn.state !== 'established' && !(early && this.conn.state === 'handshake')) return;
    while (this.next < this.downloads.length && this.byStream.size < this.concurrency) {
      const id = this.conn.openStream(true);
      if (id === null) {
        this.blockedOnStreams = true;
        return;
      }
      const d = this.downloads[this.next++]!;
      d.streamId = id;
      this.byStream.set(id, d);
      this.maxOpen = Math.max(this.maxOpen, this.byStream.size);
      const request = new TextEncoder().encode(`GET ${d.size}`);
      if (pump(this.conn, id, request, 0) !== request.length) this.errors.push(`stream ${id}: request did not fit the send buffer`);
    }
  }

  private read(id: number, now: number): void {
    const d = this.byStream.get(id);
    if (d === undefined) {
      this.errors.push(`data on unknown stream ${id}`);
      return;
    }
    let expected = this.expected.get(id);
    if (expected === undefined) {
      expected = expectedBytes(id, d.size);
      this.expected.set(id, expected);
    }
    for (let r = this.conn.streamRead(id); r !== null; r = this.conn.streamRead(id)) {
      const chunk = r.data;
      if (d.received + chunk.length > d.size) {
        this.errors.push(`stream ${id}: ${d.received + chunk.length} bytes, expected ${d.size}`);
        return;
      }
      if (!Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).equals(expected.subarray(d.received, d.received + chunk.length))) {
        this.errors.push(`stream ${id}: wrong bytes in [${d.received}, ${d.received + chunk.length})`);
        return;
      }
      d.received += chunk.length;
      if (r.fin) {
        if (d.received !== d.size) this.errors.push(`stream ${id}: FIN after ${d.received} of ${d.size} bytes`);
        d.done = true;
        d.doneAt = now;
        this.byStream.delete(id);
        this.expected.delete(id);
        this.openMore();
        if (this.complete) this.onComplete?.(now);
        return;
      }
    }
  }
}

/** {@link concatBytes} over an array. */
export const concat = (parts: readonly Uint8Array[]): Uint8Array => concatBytes(...parts);

// ---------------------------------------------------------------------------------------------------
// loss models

/**
 * The QUIC network simulator's `drop-rate` model (quic-interop/quic-network-simulator, used by the interop
 * runner's handshakeloss and transferloss cases): each datagram is dropped with probability `rate`, except
 * that after more than `burst` drops in a row the next one goes through. Its long-run loss rate stays near
 * `rate` (the simulator's own `loss` + `maxBurst` knobs start a burst with probability `loss`, which loses
 * more). Seeded: `seed` and `label` pick the draws.
 */
export function dropRate(rate: number, burst: number, seed: number, label: string): LinkFilter {
  const rng = Rng.fromSeed(seed, `drop-rate:${label}`);
  let inARow = 0;
  return () => {
    if (inARow > burst) {
      inARow = 0;
      return 'deliver';
    }
    if (rng.chance(rate)) {
      inARow++;
      return 'drop';
    }
    inARow = 0;
    return 'deliver';
  };
}

// ---------------------------------------------------------------------------------------------------
// scenarios

export interface ScenarioOptions {
  readonly seed: number;
  /** Provider of both sides (or give clientKind/serverKind). */
  readonly kind?: ProviderKind;
  readonly clientKind?: ProviderKind;
  readonly serverKind?: ProviderKind;
  /** Link settings for both directions (client -> server, and server -> client unless `reverse`). */
  readonly link?: LinkSettings;
  readonly reverse?: LinkSettings;
  readonly sim?: Omit<SimOptions, 'seed'>;
  readonly chain?: TestChain;
  /** Common connection settings for both sides (limits, idle timeout...). */
  readonly client?: Partial<ClientConnectionOptions>;
  readonly server?: Partial<EndpointServerOptions>;
  readonly endpoint?: Partial<Omit<EndpointOptions, 'provider' | 'server' | 'local'>>;
  /** Keep every connection event in the apps (default true). */
  readonly keepEvents?: boolean;
}

/**
 * A client endpoint and a server endpoint on one simulated link. {@link Scenario.connect} opens a client
 * connection with a {@link ClientApp}; the server answers with a {@link ServerApp} per connection.
 */
export class Scenario {
  readonly sim: Sim;
  readonly clientEndpoint: Endpoint;
  readonly serverEndpoint: Endpoint;
  readonly clientNode: SimNodeHandle<EndpointEvent>;
  readonly serverNode: SimNodeHandle<EndpointEvent>;
  readonly clients = new Map<Connection, ClientApp>();
  readonly servers = new Map<Connection, ServerApp>();
  /** Server connections in order of arrival. */
  readonly serverList: ServerApp[] = [];
  /** When each connection was over and forgotten by its endpoint (`connection-done`). */
  readonly doneAt = new Map<Connection, number>();
  private readonly clientSettings: Omit<ClientConnectionOptions, 'provider'>;
  private readonly keepEvents: boolean;

  constructor(readonly options: ScenarioOptions) {
    const seed = options.seed;
    const chain = options.chain ?? simpleChain();
    const clientProvider = makeProvider(options.clientKind ?? options.kind ?? 'node', seed, 'client');
    const serverProvider = makeProvider(options.serverKind ?? options.kind ?? 'node', seed, 'server');
    this.keepEvents = options.keepEvents ?? true;
    this.sim = new Sim({ ...options.sim, seed });
    this.clientSettings = clientSettings(chain, options.client);
    this.clientEndpoint = new Endpoint({ ...options.endpoint, provider: clientProvider, local: CLIENT_ADDRESS });
    this.serverEndpoint = new Endpoint({
      ...options.endpoint,
      provider: serverProvider,
      local: SERVER_ADDRESS,
      server: serverSettings(serverProvider, chain, options.server),
    });
    this.clientNode = this.sim.addNode('client', new EndpointNode(this.clientEndpoint), {
      addresses: CLIENT_ADDRESS,
      keepEvents: false,
      onEvent: (e, now) => {
        if (e.type === 'connection-event') this.clients.get(e.connection)?.onEvent(e.event, now);
        else if (e.type === 'connection-done') this.doneAt.set(e.connection, now);
      },
    });
    this.serverNode = this.sim.addNode('server', new EndpointNode(this.serverEndpoint), {
      addresses: SERVER_ADDRESS,
      keepEvents: false,
      onEvent: (e, now) => {
        if (e.type === 'incoming') {
          const app = new ServerApp(e.connection, this.keepEvents);
          this.servers.set(e.connection, app);
          this.serverList.push(app);
        } else if (e.type === 'connection-event') this.servers.get(e.connection)?.onEvent(e.event, now);
        else if (e.type === 'connection-done') this.doneAt.set(e.connection, now);
      },
    });
    this.sim.connect(this.clientNode, this.serverNode, options.link ?? {}, options.reverse ?? options.link ?? {});
  }

  /** Opens a client connection that downloads `sizes` (bytes each) once the handshake completes. */
  connect(sizes: readonly number[] = [], concurrency = Infinity, extra: Partial<ClientConnectionOptions> = {}): ClientApp {
    const conn = this.clientEndpoint.connect({ ...this.clientSettings, ...extra }, SERVER_ADDRESS, this.sim.now);
    const app = new ClientApp(conn, sizes, concurrency, this.keepEvents);
    this.clients.set(conn, app);
    return app;
  }
}

/** Asserts-friendly summary of a failed run: the errors of every client app. */
export function clientErrors(s: Scenario): string[] {
  return [...s.clients.values()].flatMap((a) => a.errors);
}

/** Milliseconds of wall-clock time `fn` took (reports only; never asserted). */
export function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

export const KiB = 1024;
export const MiB = 1024 * 1024;
