/**
 * Connection test helpers: client and server options with the test certificates (both providers, seeded
 * randomness when asked), and a lossless in-memory pair driven in virtual time, for the connection's own
 * tests. Network scenarios (loss, delay, reordering) use the simulator in ../support/sim.ts.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createNobleProvider } from '../../../src/quic/crypto/noble.js';
import { createNodeProvider, loadCertificateChain, loadPrivateKey } from '../../../src/quic/crypto/node.js';
import type { CryptoProvider, RandomSource, Signer } from '../../../src/quic/crypto/provider.js';
import { Connection, readFirstInitial } from '../../../src/quic/connection/connection.js';
import type { ConnectionEvent, Path } from '../../../src/quic/connection/events.js';
import type { ClientConnectionOptions, ServerConnectionOptions } from '../../../src/quic/connection/options.js';
import { nodeCertificateVerifier } from '../../../src/quic/tls/node.js';

export type ProviderKind = 'noble' | 'node';
export const PROVIDER_KINDS: readonly ProviderKind[] = ['noble', 'node'];

const CERTS = '/work/shared/peers/certs';
export const PEM = {
  cert: readFileSync(`${CERTS}/ecdsa-cert.pem`, 'utf8'),
  key: readFileSync(`${CERTS}/ecdsa-key.pem`, 'utf8'),
};

/** A deterministic random source (xorshift128+ over a seed): the same seed replays a connection bit for bit. */
export function seededRandom(seed: number): RandomSource {
  let s0 = BigInt(seed) * 0x9e3779b97f4a7c15n + 1n;
  let s1 = (BigInt(seed) ^ 0xdeadbeefn) * 0xbf58476d1ce4e5b9n + 7n;
  const mask = (1n << 64n) - 1n;
  s0 &= mask;
  s1 &= mask;
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 8) {
      let x = s0;
      const y = s1;
      s0 = y;
      x ^= (x << 23n) & mask;
      s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
      let v = (s1 + y) & mask;
      for (let j = 0; j < 8 && i + j < n; j++) {
        out[i + j] = Number(v & 0xffn);
        v >>= 8n;
      }
    }
    return out;
  };
}

export function provider(kind: ProviderKind, seed?: number): CryptoProvider {
  const options = seed === undefined ? {} : { random: seededRandom(seed) };
  return kind === 'noble' ? createNobleProvider(options) : createNodeProvider(options);
}

/** The server's signer on `kind`: the noble provider takes the raw P-256 scalar. */
export function serverSigner(kind: ProviderKind, p: CryptoProvider): Signer {
  if (kind === 'node') return loadPrivateKey(PEM.key);
  const jwk = createPrivateKey(PEM.key).export({ format: 'jwk' });
  return p.createSigner({ type: 'ecdsa-p256', privateKey: new Uint8Array(Buffer.from(jwk.d!, 'base64url')) });
}

export const CLIENT_ADDRESS = { address: '10.0.0.1', port: 50000 };
export const SERVER_ADDRESS = { address: '10.0.0.2', port: 4433 };
export const CLIENT_PATH: Path = { local: CLIENT_ADDRESS, remote: SERVER_ADDRESS };
export const SERVER_PATH: Path = { local: SERVER_ADDRESS, remote: CLIENT_ADDRESS };

export interface PairOptions {
  readonly clientKind?: ProviderKind;
  readonly serverKind?: ProviderKind;
  readonly seed?: number;
  readonly client?: Partial<ClientConnectionOptions>;
  readonly server?: Partial<ServerConnectionOptions>;
}

export function clientOptions(o: PairOptions = {}): ClientConnectionOptions {
  const p = provider(o.clientKind ?? 'node', o.seed === undefined ? undefined : o.seed * 2 + 1);
  return {
    provider: p,
    alpn: ['test'],
    serverName: 'localhost',
    verifyCertificate: nodeCertificateVerifier({ ca: [PEM.cert] }),
    ...o.client,
  };
}

export function serverOptions(o: PairOptions = {}): ServerConnectionOptions {
  const kind = o.serverKind ?? 'node';
  const p = provider(kind, o.seed === undefined ? undefined : o.seed * 2 + 2);
  return { provider: p, alpn: ['test'], certificateChain: loadCertificateChain(PEM.cert), signer: serverSigner(kind, p), ...o.server };
}

/**
 * Client and server connected by a lossless zero-latency wire (plus an optional per-datagram filter), in
 * virtual time: `drive` polls both until neither has anything to send, jumping time to the next deadline
 * when asked.
 */
export class Pair {
  now = 0;
  readonly client: Connection;
  server: Connection | null = null;
  readonly clientEvents: ConnectionEvent[] = [];
  readonly serverEvents: ConnectionEvent[] = [];
  /** Datagrams sent, in order, with their direction (copies). */
  readonly wire: { from: 'client' | 'server'; datagram: Uint8Array }[] = [];
  /** Return false to drop a datagram. */
  filter: (from: 'client' | 'server', datagram: Uint8Array, index: number) => boolean = () => true;
  private readonly serverOptions: ServerConnectionOptions;
  clientDone = false;
  serverDone = false;

  constructor(o: PairOptions = {}) {
    this.serverOptions = serverOptions(o);
    this.client = Connection.client(clientOptions(o), CLIENT_PATH, this.now);
  }

  /** True when the last {@link flush} moved anything (a datagram or an event). */
  moved = false;

  /** Polls both sides until both are waiting; returns the earliest deadline. */
  flush(maxRounds = 10_000): number | null {
    this.moved = false;
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (;;) {
        const r = this.client.poll(this.now);
        if (r.type === 'need-read') break;
        if (r.type === 'done') {
          this.clientDone = true;
          break;
        }
        moved = true;
        if (r.type === 'event') this.clientEvents.push(r.event);
        else this.deliver('client', r.datagram.slice());
      }
      const s = this.server;
      if (s !== null) {
        for (;;) {
          const r = s.poll(this.now);
          if (r.type === 'need-read') break;
          if (r.type === 'done') {
            this.serverDone = true;
            break;
          }
          moved = true;
          if (r.type === 'event') this.serverEvents.push(r.event);
          else this.deliver('server', r.datagram.slice());
        }
      }
      if (!moved) return this.deadline();
      this.moved = true;
    }
    throw new Error('Pair.flush: no quiescence');
  }

  deadline(): number | null {
    const a = this.client.poll(this.now);
    const b = this.server?.poll(this.now) ?? null;
    const da = a.type === 'need-read' ? a.deadline : null;
    const db = b !== null && b.type === 'need-read' ? b.deadline : null;
    if (da === null) return db;
    if (db === null) return da;
    return Math.min(da, db);
  }

  /** Flushes, then jumps to deadlines until `until` holds or `maxSteps` pass. */
  run(until: () => boolean, maxSteps = 10_000): void {
    for (let i = 0; i < maxSteps; i++) {
      this.flush();
      if (until()) return;
      // `until` may have issued commands (reads, writes): let them go out, and look again, before time moves.
      const d = this.flush();
      if (this.moved) continue;
      if (d === null) throw new Error('Pair.run: nothing left to do and the condition does not hold');
      this.now = Math.max(this.now, d);
    }
    throw new Error('Pair.run: step limit');
  }

  handshake(): void {
    this.run(
      () =>
        this.clientEvents.some((e) => e.type === 'handshake-confirmed') && this.serverEvents.some((e) => e.type === 'handshake-confirmed'),
    );
  }

  private deliver(from: 'client' | 'server', datagram: Uint8Array): void {
    const index = this.wire.length;
    this.wire.push({ from, datagram: datagram.slice() });
    if (!this.filter(from, datagram, index)) return;
    if (from === 'client') {
      if (this.server === null) {
        const first = readFirstInitial(datagram);
        if (first === null) return;
        this.server = Connection.server(this.serverOptions, first, SERVER_PATH, this.now);
      }
      this.server.receive(datagram, SERVER_PATH, this.now);
    } else {
      this.client.receive(datagram, CLIENT_PATH, this.now);
    }
  }
}
