/**
 * Benchmarks of the WebSocket layer (src/websocket) against ws's own
 * Receiver and Sender (ws 8, without native addons: WS_NO_BUFFER_UTIL=1 and
 * WS_NO_UTF_8_VALIDATE=1 are set before ws is loaded, and neither addon is
 * installed), in the same process.
 *
 * parse-*: N messages of one size, framed back to back, fed in 64 KiB chunks
 *   (a socket's read size). Ours: a `WebSocketConnection` (already open, as
 *   after a handshake) through `receive()` / `poll()`, the full path an
 *   application uses: frame header, unmasking, message assembly, UTF-8
 *   validation of text, event objects. It is configured as the Node adapter
 *   configures it (NODE_CONNECTION_DEFAULTS): `utf8Check` is `node:buffer`'s
 *   `isUtf8` (ws uses the same function for buffers of 24 bytes and more;
 *   below 32 bytes ours validates in JavaScript), large message buffers come
 *   from `Buffer.allocUnsafe` (as ws's). Anchor: ws's `Receiver` (a Writable), `write(chunk)`,
 *   'message' events. Masked cases are a server receiving a client's frames
 *   (ws unmasks in place), unmasked ones a client receiving a server's.
 *   ws's Receiver unmasks inside the chunks it is given, so every run
 *   copies each chunk into a ring of scratch buffers before feeding it, on
 *   both sides alike (~6 µs per 64 KiB). Each message is folded into a digest
 *   (its length and 8 sampled bytes), so neither side decodes text into a
 *   string (ws hands out Buffers; we hand out bytes with a lazy `text`).
 *
 * frame-*: N payloads of one size turned into the arrays to send. Ours:
 *   `encodeFrameParts` (header + payload; masked frames are one array with
 *   the payload copied and masked), masks from a 4 KiB pool filled by
 *   `crypto.randomBytes` as the connection does. Anchor: ws's static
 *   `Sender.frame(data, { fin, opcode, mask, readOnly: true })`, the call
 *   `ws.send()` makes (readOnly: the caller's data is copied, not masked in
 *   place), with ws's own random mask pool.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { WebSocketConnection, encodeFrame, encodeFrameParts, type WebSocketEvent } from '../src/websocket/index.js';
import { NODE_CONNECTION_DEFAULTS } from '../src/websocket/node/index.js';
import { defineCase, rng, type BenchCase, type Prepared } from './harness.js';

// ---------------------------------------------------------------- ws, loaded without native addons

interface WsReceiver {
  on(event: 'message', fn: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'error', fn: (e: Error) => void): void;
  write(chunk: Buffer): boolean;
}
interface WsReceiverClass {
  new (options: {
    binaryType: 'nodebuffer';
    isServer: boolean;
    maxPayload: number;
    skipUTF8Validation: boolean;
    allowSynchronousEvents: boolean;
    extensions: object;
  }): WsReceiver;
}
interface WsSenderClass {
  frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[];
}

let ws: { Receiver: WsReceiverClass; Sender: WsSenderClass } | null = null;
function loadWs(): { Receiver: WsReceiverClass; Sender: WsSenderClass } {
  if (ws === null) {
    process.env.WS_NO_BUFFER_UTIL = '1';
    process.env.WS_NO_UTF_8_VALIDATE = '1';
    const require = createRequire(import.meta.url);
    ws = require('ws') as { Receiver: WsReceiverClass; Sender: WsSenderClass };
  }
  return ws;
}

// ---------------------------------------------------------------- data

const MAX_MESSAGE = 100 * 1024 * 1024;
const CHUNK = 65536;
const DIGEST_SEED = 0x811c9dc5;

/** Folds a message into the digest: its length and 8 bytes sampled across it. */
function mix(h: number, b: Uint8Array): number {
  const n = b.length;
  h = Math.imul(h ^ n, 0x01000193);
  if (n === 0) return h;
  for (let k = 0; k < 8; k++) h = Math.imul(h ^ b[Math.floor((k * (n - 1)) / 7)]!, 0x01000193);
  return h;
}

/** Text of exactly n bytes: mostly ASCII words with some 2-, 3- and 4-byte characters. */
function textBytes(n: number, r: () => number): Uint8Array {
  const words = ['the ', 'quick ', 'brown ', 'fox ', 'jumps ', 'über ', 'naïve ', 'café ', '→ ', '€ ', '😀 ', 'κόσμε '];
  const enc = new TextEncoder();
  const out = new Uint8Array(n);
  let o = 0;
  while (o < n) {
    const w = enc.encode(words[Math.floor(r() * words.length)]!);
    if (o + w.length > n) {
      out.fill(0x2e, o); // '.' to the end
      break;
    }
    out.set(w, o);
    o += w.length;
  }
  return out;
}

function binaryBytes(n: number, r: () => number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}

interface ParseData {
  chunks: Buffer[];
  /** The payloads, as the generator made them (for the expected digest). */
  messages: Uint8Array[];
  count: number;
  bytes: number;
}

/** `count` messages of `size` bytes, framed (masked with random keys, or not), split into 64 KiB chunks. */
function makeFrames(size: number, count: number, text: boolean, masked: boolean, seed: number): ParseData {
  const r = rng(seed);
  const frames: Uint8Array[] = [];
  const messages: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const payload = text ? textBytes(size, r) : binaryBytes(size, r);
    messages.push(payload);
    const f = encodeFrame({ opcode: text ? 1 : 2, payload, mask: masked ? Math.floor(r() * 2 ** 32) : undefined });
    frames.push(f);
    total += f.length;
  }
  const all = Buffer.allocUnsafe(total);
  let o = 0;
  for (const f of frames) {
    all.set(f, o);
    o += f.length;
  }
  const chunks: Buffer[] = [];
  for (let i = 0; i < total; i += CHUNK) chunks.push(all.subarray(i, Math.min(total, i + CHUNK)));
  return { chunks, messages, count, bytes: count * size };
}

/**
 * A ring of scratch buffers the chunks are copied into before they are fed, so
 * ws's in-place unmasking never touches the prepared data. Big enough that a
 * chunk is not overwritten while a parser still holds it (a message spans at
 * most size / 64 KiB + 2 chunks).
 */
function ring(size: number): Buffer[] {
  const n = Math.max(4, Math.ceil(size / CHUNK) + 3);
  return Array.from({ length: n }, () => Buffer.allocUnsafe(CHUNK));
}

/** The digest of `reps` passes over the messages (the generator recorded them once). */
function repeatDigest(d: ParseData, reps: number): number {
  let h = DIGEST_SEED;
  for (let r = 0; r < reps; r++) for (const m of d.messages) h = mix(h, m);
  return h;
}

function oursParse(d: ParseData, masked: boolean, scratch: Buffer[], reps: number): number {
  const conn = WebSocketConnection.open(masked ? 'server' : 'client', {
    ...NODE_CONNECTION_DEFAULTS,
    maxMessageSize: MAX_MESSAGE,
    maxBuffered: MAX_MESSAGE,
  });
  let h = DIGEST_SEED;
  let got = 0;
  for (let j = 0; j < reps * d.chunks.length; j++) {
    const i = j % d.chunks.length;
    const c = d.chunks[i]!;
    const s = scratch[j % scratch.length]!;
    s.set(c);
    conn.receive(c.length === CHUNK ? s : s.subarray(0, c.length));
    for (;;) {
      const r = conn.poll();
      if (r.type === 'need-read') break;
      if (r.type !== 'event') throw new Error(`unexpected ${r.type}`);
      const e: WebSocketEvent = r.event;
      if (e.type !== 'text' && e.type !== 'binary') throw new Error(`unexpected event ${e.type}`);
      h = mix(h, e.data);
      got++;
    }
  }
  if (got !== reps * d.count) throw new Error(`ours: ${got} of ${reps * d.count} messages`);
  return h;
}

function wsParse(d: ParseData, masked: boolean, scratch: Buffer[], reps: number): number {
  const { Receiver } = loadWs();
  const receiver = new Receiver({
    binaryType: 'nodebuffer',
    isServer: masked,
    maxPayload: MAX_MESSAGE,
    skipUTF8Validation: false,
    allowSynchronousEvents: true,
    extensions: {},
  });
  let h = DIGEST_SEED;
  let got = 0;
  receiver.on('message', (data) => {
    h = mix(h, data);
    got++;
  });
  receiver.on('error', (e) => {
    throw e;
  });
  for (let j = 0; j < reps * d.chunks.length; j++) {
    const i = j % d.chunks.length;
    const c = d.chunks[i]!;
    const s = scratch[j % scratch.length]!;
    s.set(c);
    receiver.write(c.length === CHUNK ? s : s.subarray(0, c.length));
  }
  if (got !== reps * d.count) throw new Error(`ws: ${got} of ${reps * d.count} messages`);
  return h;
}

/**
 * Messages prepared per size, and how many times a run goes over them: a run
 * lasts ~30-60 ms on the faster side, so that a scheduling hiccup on this
 * shared machine does not decide a pass (the input stays small: the
 * repetitions reuse it).
 */
const COUNTS: Record<number, number> = { 16: 100_000, 125: 60_000, 1024: 20_000, 65536: 300, 1048576: 24 };
const REPS: Record<number, number> = { 16: 2, 125: 2, 1024: 3, 65536: 6, 1048576: 3 };
const SIZE_NAME: Record<number, string> = { 16: '16B', 125: '125B', 1024: '1KiB', 65536: '64KiB', 1048576: '1MiB' };

function parseCase(size: number, text: boolean, masked: boolean): BenchCase {
  const name = `parse-${text ? 'text' : 'binary'}-${masked ? 'masked' : 'unmasked'}-${SIZE_NAME[size]}`;
  const count = COUNTS[size]!;
  const reps = REPS[size]!;
  const big = size >= 65536;
  return defineCase({
    name,
    unit: big ? 'MB/s' : 'M msg/s',
    scale: 1e6,
    target: 1.0,
    description: `${count} x ${reps} ${text ? 'text (UTF-8 validated)' : 'binary'} messages of ${size} B, ${masked ? 'masked (server side)' : 'unmasked (client side)'}, fed in 64 KiB chunks; ours: WebSocketConnection receive/poll; anchor: ws Receiver`,
    prepare(): Prepared<number> {
      const d = makeFrames(size, count, text, masked, size * 31 + (text ? 1 : 2) + (masked ? 4 : 0));
      const scratch = ring(size);
      loadWs();
      return {
        ours: { items: reps * (big ? d.bytes : count), run: () => oursParse(d, masked, scratch, reps) },
        anchor: { items: reps * (big ? d.bytes : count), run: () => wsParse(d, masked, scratch, reps) },
        checksum: (h) => h >>> 0,
        expected: repeatDigest(d, reps) >>> 0,
      };
    },
  });
}

// ---------------------------------------------------------------- framing

/** Masked framing copies and masks every byte: counts by size. Unmasked framing writes a header only (the payload is not touched): 1M frames at every size. */
const FRAME_COUNTS: Record<number, number> = { 16: 300_000, 125: 200_000, 1024: 100_000, 65536: 1_000, 1048576: 60 };
const UNMASKED_FRAMES = 1_000_000;

/** Digest of framed output: total length and the first header byte of each frame (the same on both sides). */
function frameDigest(parts: readonly Uint8Array[], h: number): number {
  let n = 0;
  for (let i = 0; i < parts.length; i++) n += parts[i]!.length;
  return Math.imul(h ^ n ^ parts[0]![0]!, 0x01000193);
}

function frameCase(size: number, masked: boolean): BenchCase {
  const name = `frame-${masked ? 'masked' : 'unmasked'}-${SIZE_NAME[size]}`;
  const count = masked ? FRAME_COUNTS[size]! : UNMASKED_FRAMES;
  // Throughput in MB/s only where bytes are processed.
  const big = masked && size >= 65536;
  return defineCase({
    name,
    unit: big ? 'MB/s' : 'M msg/s',
    scale: 1e6,
    target: 1.0,
    description: `${count} binary payloads of ${size} B framed ${masked ? 'masked (client side: copy + mask)' : 'unmasked (server side: header + payload)'}; ours: encodeFrameParts; anchor: ws Sender.frame(readOnly)`,
    prepare(): Prepared<number> {
      const { Sender } = loadWs();
      const r = rng(size + (masked ? 7 : 3));
      const payloads: Buffer[] = [];
      for (let i = 0; i < 16; i++) payloads.push(Buffer.from(binaryBytes(size, r)));
      // The expected digest, computed from the frame layout rules (RFC 6455 section 5.2): header 2/4/10 bytes, +4 masked.
      const headerSize = (size < 126 ? 2 : size < 65536 ? 4 : 10) + (masked ? 4 : 0);
      let expected = DIGEST_SEED;
      for (let i = 0; i < count; i++) expected = Math.imul(expected ^ (headerSize + size) ^ 0x82, 0x01000193);
      let pool = new Uint8Array(0);
      let at = 0;
      const nextMask = (): number => {
        if (at + 4 > pool.length) {
          pool = randomBytes(4096);
          at = 0;
        }
        const m = ((pool[at]! << 24) | (pool[at + 1]! << 16) | (pool[at + 2]! << 8) | pool[at + 3]!) >>> 0;
        at += 4;
        return m;
      };
      const wsOptions = { fin: true, opcode: 2, mask: masked, readOnly: true, rsv1: false };
      return {
        ours: {
          items: big ? count * size : count,
          run: () => {
            let h = DIGEST_SEED;
            for (let i = 0; i < count; i++) {
              const parts = encodeFrameParts({ opcode: 2, payload: payloads[i & 15]!, mask: masked ? nextMask() : undefined });
              h = frameDigest(parts, h);
            }
            return h;
          },
        },
        anchor: {
          items: big ? count * size : count,
          run: () => {
            let h = DIGEST_SEED;
            for (let i = 0; i < count; i++) h = frameDigest(Sender.frame(payloads[i & 15]!, wsOptions), h);
            return h;
          },
        },
        checksum: (h) => h >>> 0,
        expected: expected >>> 0,
      };
    },
  });
}

const SIZES = [16, 125, 1024, 65536, 1048576];

export const cases: BenchCase[] = [
  ...SIZES.flatMap((s) => [parseCase(s, false, true), parseCase(s, false, false), parseCase(s, true, true), parseCase(s, true, false)]),
  ...SIZES.flatMap((s) => [frameCase(s, true), frameCase(s, false)]),
];
