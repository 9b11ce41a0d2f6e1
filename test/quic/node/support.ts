/**
 * Helpers for the Node adapter's tests: the shared test certificates (self-signed
 * for localhost, 127.0.0.1 and ::1), servers on loopback, stream helpers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { listen, type ListenOptions, type QuicConnection, type QuicServer, type QuicStream } from '../../../src/quic/node.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from dist/test/quic/node). */
export const ROOT = join(here, '..', '..', '..', '..');
// ../shared next to the checkout on the project machines, else /work/shared (as the other QUIC tests use).
const SIBLING = join(ROOT, '..', 'shared', 'peers', 'certs');
const CERTS = existsSync(SIBLING) ? SIBLING : '/work/shared/peers/certs';
export const CERT = readFileSync(join(CERTS, 'ecdsa-cert.pem'), 'utf8');
export const KEY = readFileSync(join(CERTS, 'ecdsa-key.pem'), 'utf8');
export const RSA_CERT = readFileSync(join(CERTS, 'rsa-cert.pem'), 'utf8');
export const CERT_FILE = join(CERTS, 'ecdsa-cert.pem');
export const KEY_FILE = join(CERTS, 'ecdsa-key.pem');
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'pullwire.js');

export const ALPN = 'pw-test';

/** A server on 127.0.0.1 (or `host`) with the test certificate; `onConnection` runs for each client. */
export async function testServer(onConnection: (conn: QuicConnection) => void, options: Partial<ListenOptions> = {}): Promise<QuicServer> {
  const server = await listen({ host: '127.0.0.1', port: 0, cert: CERT, key: KEY, alpn: ALPN, ...options });
  server.on('connection', onConnection);
  return server;
}

/** Echoes every bidirectional stream of `conn` (uni streams are drained). */
export function echoStreams(conn: QuicConnection): void {
  conn.on('stream', (s) => {
    if (s.bidirectional) void s.readable.pipeTo(s.writable).catch(() => {});
    else void readAll(s.readable).catch(() => {});
  });
}

/** Everything a readable gives until its end. */
export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of readable) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Writes `data` in pieces of `piece` bytes, then closes. */
export async function writeAll(stream: QuicStream, data: Uint8Array, piece = 16_384): Promise<void> {
  const w = stream.writable.getWriter();
  for (let off = 0; off < data.length; off += piece) await w.write(data.subarray(off, off + piece));
  await w.close();
}

/** Deterministic bytes (a simple LCG), so a failure can be reproduced. */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the first value `next()` gives (e.g. the first connection of a server). */
export async function first<T>(it: AsyncIterable<T>): Promise<T> {
  for await (const v of it) return v;
  throw new Error('the iterator ended');
}

/** The rejection of `p` (fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}
