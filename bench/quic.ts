/**
 * Benchmarks of the QUIC connection engine in memory (no sockets), each next
 * to an anchor that does only the unavoidable part of the same work with the
 * same crypto provider, in the same process:
 *
 * - bulk: a client sends one stream of BULK bytes to a server (both
 *   `Connection`s, lossless zero-latency wire, virtual time so pacing and
 *   ACK delays cost nothing real), the server reads it all. The anchor is the
 *   wire layer alone moving the same bytes: PacketBuilder + protectDatagram
 *   for 1200-byte 1-RTT packets carrying one STREAM frame each, then
 *   PacketOpener.open of each, and no ACKs, streams, recovery or flow control.
 *   The ratio is how much of the per-byte cost is the connection machinery.
 * - handshake: a full connection handshake (client and server Connections,
 *   X25519, ECDSA P-256 certificate verified, AES-128-GCM) until both confirm.
 *   The anchor is the TLS handshake alone (TlsClient + TlsServer in memory).
 *
 * CPU per MB: the bulk case's time per MB is CPU time (one thread, no I/O).
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Connection,
  createNobleProvider,
  PacketBuilder,
  PacketOpener,
  protectDatagram,
  readFirstInitial,
  type ClientConnectionOptions,
  type CryptoProvider,
  type Path,
  type ServerConnectionOptions,
} from '../src/quic/index.js';
import { createNodeProvider } from '../src/quic/node.js';
import { loadCertificateChain, loadPrivateKey } from '../src/quic/crypto/node.js';
import { createPacketKeys } from '../src/quic/packet-protection.js';
import { TlsClient, TlsServer, type HandshakeOutput } from '../src/quic/tls/index.js';
import { nodeCertificateVerifier } from '../src/quic/tls/node.js';
import { Checksum, defineCase, type BenchCase } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const CERTS = join(here, '..', '..', 'bench', 'certs');
const CERT = readFileSync(join(CERTS, 'ecdsa-leaf-cert.pem'), 'utf8');
const KEY = readFileSync(join(CERTS, 'ecdsa-leaf-key.pem'), 'utf8');
const CA = readFileSync(join(CERTS, 'ecdsa-ca-cert.pem'), 'utf8');

const CLIENT: Path = { local: { address: '10.0.0.1', port: 1 }, remote: { address: '10.0.0.2', port: 2 } };
const SERVER: Path = { local: CLIENT.remote, remote: CLIENT.local };

type Kind = 'noble' | 'node';
const provider = (kind: Kind): CryptoProvider => (kind === 'noble' ? createNobleProvider() : createNodeProvider());

function options(kind: Kind): { client: ClientConnectionOptions; server: ServerConnectionOptions } {
  const p = provider(kind);
  // The noble provider takes the raw P-256 scalar: read it out of the PEM with node:crypto (setup only).
  const signer =
    kind === 'node'
      ? loadPrivateKey(KEY)
      : p.createSigner({
          type: 'ecdsa-p256',
          privateKey: new Uint8Array(Buffer.from(createPrivateKey(KEY).export({ format: 'jwk' }).d!, 'base64url')),
        });
  const verify = nodeCertificateVerifier({ ca: [CA] });
  return {
    client: { provider: p, alpn: ['bench'], serverName: 'localhost', verifyCertificate: verify, idleTimeout: 0 },
    server: { provider: p, alpn: ['bench'], certificateChain: loadCertificateChain(CERT), signer, idleTimeout: 0 },
  };
}

/** Drives a client and a server over a lossless wire in virtual time until `done()`. */
function drive(client: Connection, serverOptions: ServerConnectionOptions, done: (server: Connection | null) => boolean): Connection {
  let server: Connection | null = null;
  let now = 0;
  for (let step = 0; step < 10_000_000; step++) {
    let moved = false;
    for (let r = client.poll(now); r.type !== 'need-read' && r.type !== 'done'; r = client.poll(now)) {
      moved = true;
      if (r.type !== 'need-write') continue;
      const d = r.datagram.slice();
      if (server === null) {
        const first = readFirstInitial(d);
        if (first === null) continue;
        server = Connection.server(serverOptions, first, SERVER, now);
      }
      server.receive(d, SERVER, now);
    }
    if (server !== null) {
      for (let r = server.poll(now); r.type !== 'need-read' && r.type !== 'done'; r = server.poll(now)) {
        moved = true;
        if (r.type === 'need-write') client.receive(r.datagram.slice(), CLIENT, now);
      }
    }
    if (done(server)) return server!;
    if (moved) continue;
    const a = client.poll(now);
    const b = server?.poll(now);
    let next = a.type === 'need-read' ? a.deadline : null;
    if (b !== undefined && b.type === 'need-read' && b.deadline !== null && (next === null || b.deadline < next)) next = b.deadline;
    if (next === null) throw new Error('bench/quic: stalled');
    now = Math.max(now, next);
  }
  throw new Error('bench/quic: step limit');
}

function bulkOurs(kind: Kind, bytes: number): () => Checksum {
  const data = new Uint8Array(bytes).map((_, i) => i % 251);
  return () => {
    const o = options(kind);
    const client = Connection.client(o.client, CLIENT, 0);
    let id: number | null = null;
    let written = 0;
    const sum = new Checksum();
    let received = 0;
    let fin = false;
    drive(client, o.server, (server) => {
      if (id === null && client.isHandshakeComplete) id = client.openStream(true);
      if (id !== null && written < bytes) {
        written += client.streamWrite(id, data.subarray(written));
        if (written === bytes) client.streamFinish(id);
      }
      if (server !== null && id !== null && server.streamIds().includes(id)) {
        for (let r = server.streamRead(id); r !== null; r = server.streamRead(id)) {
          received += r.data.length;
          sum.add(r.data[0] ?? 0);
          if (r.fin) fin = true;
        }
      }
      return fin;
    });
    const out = new Checksum();
    out.add(received);
    return out;
  };
}

/** The wire layer alone: build + protect + open 1-RTT packets carrying `bytes` of STREAM data. */
function bulkAnchor(kind: Kind, bytes: number): () => Checksum {
  const data = new Uint8Array(bytes).map((_, i) => i % 251);
  const p = provider(kind);
  const secret = new Uint8Array(32).fill(1);
  const keys = createPacketKeys(p, 1, 'TLS_AES_128_GCM_SHA256', secret);
  const dcid = new Uint8Array(8).fill(7);
  return () => {
    const b = new PacketBuilder({ maxDatagramSize: 1200, role: 'client' });
    const opener = new PacketOpener({ shortDcidLength: 8 });
    const openKeys = { oneRtt: { hp: keys.hp, aead: [keys.aead, null] as const } };
    let at = 0;
    let pn = 0;
    let received = 0;
    while (at < bytes) {
      b.startShort({ dcid, pn, largestAcked: pn - 1 });
      const room = b.room - 12;
      const n = Math.min(room, bytes - at);
      b.addFrame({ type: 'stream', streamId: 0, offset: at, fin: at + n === bytes, data: data.subarray(at, at + n) });
      const dg = b.finishDatagram()!;
      const wire = protectDatagram(dg, { oneRtt: keys }).slice();
      for (const r of opener.open(wire, openKeys)) {
        if (r.status === 'opened') for (const f of r.frames) if (f.type === 'stream') received += f.data.length;
      }
      at += n;
      pn++;
    }
    const out = new Checksum();
    out.add(received);
    return out;
  };
}

function handshakeOurs(kind: Kind, count: number): () => Checksum {
  return () => {
    const sum = new Checksum();
    for (let i = 0; i < count; i++) {
      const o = options(kind);
      const client = Connection.client(o.client, CLIENT, 0);
      drive(client, o.server, (server) => client.isHandshakeConfirmed && server !== null && server.isHandshakeConfirmed);
      sum.add(1);
    }
    return sum;
  };
}

function handshakeAnchor(kind: Kind, count: number): () => Checksum {
  return () => {
    const sum = new Checksum();
    for (let i = 0; i < count; i++) {
      const p = provider(kind);
      const tp = new Uint8Array([0x0f, 0x00]);
      const client = new TlsClient({
        provider: p,
        alpn: ['bench'],
        serverName: 'localhost',
        transportParameters: tp,
        verifyCertificate: nodeCertificateVerifier({ ca: [CA] }),
      });
      const server = new TlsServer({
        provider: p,
        alpn: ['bench'],
        transportParameters: new Uint8Array([0x00, 0x00, 0x0f, 0x00]),
        certificateChain: loadCertificateChain(CERT),
        signer: loadPrivateKey(KEY),
      });
      client.start();
      let done = 0;
      for (let round = 0; round < 10 && done < 2; round++) {
        const pass = (from: TlsClient | TlsServer, to: TlsClient | TlsServer): void => {
          for (const o of from.takeOutputs() as HandshakeOutput[]) {
            if (o.type === 'send') to.receive(o.level, o.data);
            else if (o.type === 'complete') done++;
          }
        };
        pass(client, server);
        pass(server, client);
      }
      sum.add(done === 2 ? 1 : 0);
    }
    return sum;
  };
}

function expectBytes(n: number): number {
  const c = new Checksum();
  c.add(n);
  return c.value;
}

function expectCount(n: number): number {
  const c = new Checksum();
  for (let i = 0; i < n; i++) c.add(1);
  return c.value;
}

const BULK: Record<Kind, number> = { noble: 2 * 1024 * 1024, node: 8 * 1024 * 1024 };
const HANDSHAKES: Record<Kind, number> = { noble: 10, node: 40 };

export const cases: BenchCase[] = (['node', 'noble'] as const).flatMap((kind) => [
  defineCase({
    name: `bulk-${kind}`,
    unit: 'MB/s',
    scale: 1e6,
    target: 0.3,
    description: `one stream of ${BULK[kind] / 1048576} MiB client->server through two Connections (${kind} provider) vs build+protect+open of the same STREAM packets`,
    prepare: () => ({
      ours: { items: BULK[kind], run: bulkOurs(kind, BULK[kind]) },
      anchor: { items: BULK[kind], run: bulkAnchor(kind, BULK[kind]) },
      checksum: (c: Checksum) => c.value,
      expected: expectBytes(BULK[kind]),
    }),
  }),
  defineCase({
    name: `handshake-${kind}`,
    unit: 'handshakes/s',
    scale: 1,
    target: 0.5,
    description: `full QUIC handshakes in memory until both confirm (${kind} provider) vs the TLS handshake alone`,
    prepare: () => ({
      ours: { items: HANDSHAKES[kind], run: handshakeOurs(kind, HANDSHAKES[kind]) },
      anchor: { items: HANDSHAKES[kind], run: handshakeAnchor(kind, HANDSHAKES[kind]) },
      checksum: (c: Checksum) => c.value,
      expected: expectCount(HANDSHAKES[kind]),
    }),
  }),
]);
