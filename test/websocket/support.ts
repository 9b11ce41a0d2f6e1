/**
 * Test helpers for WebSocket connections: a frame builder and a frame reader written here, byte by byte
 * from RFC 6455 section 5.2 (so fixtures do not come from the code under test), and a driver that feeds a
 * connection, polls it to need-read / done, and records what came out.
 */
import assert from 'node:assert/strict';
import { WebSocketConnection, type ConnectionOptions, type OpenOptions, type WebSocketEvent } from '../../src/websocket/index.js';
import { concat } from '../support/bytes.js';

export interface WireFrame {
  readonly fin?: boolean;
  readonly rsv?: number;
  readonly opcode: number;
  readonly payload?: Uint8Array | string;
  /** Masking key bytes; null for an unmasked frame. Default: a fixed key (client frames are masked). */
  readonly mask?: readonly number[] | null;
}

const DEFAULT_KEY = [0x12, 0x34, 0x56, 0x78] as const;
const enc = new TextEncoder();

export const bytesOf = (p: Uint8Array | string | undefined): Uint8Array =>
  p === undefined ? new Uint8Array(0) : typeof p === 'string' ? enc.encode(p) : p;

/** One frame, built by hand: minimal length encoding, masked unless `mask: null`. */
export function wire(f: WireFrame): Uint8Array {
  const payload = bytesOf(f.payload);
  const n = payload.length;
  const key = f.mask === undefined ? DEFAULT_KEY : f.mask;
  const head: number[] = [((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | f.opcode];
  const m = key === null ? 0 : 0x80;
  if (n < 126) head.push(m | n);
  else if (n < 65536) head.push(m | 126, n >> 8, n & 0xff);
  else
    head.push(
      m | 127,
      0,
      0,
      Math.floor(n / 2 ** 40) & 0xff,
      Math.floor(n / 2 ** 32) & 0xff,
      (n >>> 24) & 0xff,
      (n >>> 16) & 0xff,
      (n >>> 8) & 0xff,
      n & 0xff,
    );
  if (key !== null) head.push(...key);
  const body = key === null ? payload : payload.map((b, i) => b ^ key[i % 4]!);
  return concat(Uint8Array.from(head), body);
}

/** A close frame body: big-endian code and UTF-8 reason. */
export function closeBody(code: number, reason: string | Uint8Array = ''): Uint8Array {
  return concat(Uint8Array.of(code >> 8, code & 0xff), bytesOf(reason));
}

/** A frame as the test reader sees it. */
export interface ReadFrame {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  readonly payload: Uint8Array;
}

/** Reads back-to-back frames (unmasking them); the bytes must end exactly at a frame end. */
export function readFrames(bytes: Uint8Array): ReadFrame[] {
  const out: ReadFrame[] = [];
  let o = 0;
  while (o < bytes.length) {
    const b0 = bytes[o]!;
    const b1 = bytes[o + 1]!;
    let n = b1 & 0x7f;
    let p = o + 2;
    if (n === 126) {
      n = (bytes[p]! << 8) | bytes[p + 1]!;
      p += 2;
    } else if (n === 127) {
      n = 0;
      for (let i = 0; i < 8; i++) n = n * 256 + bytes[p + i]!;
      p += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    let key: Uint8Array | null = null;
    if (masked) {
      key = bytes.subarray(p, p + 4);
      p += 4;
    }
    assert.ok(p + n <= bytes.length, 'readFrames: truncated frame in the output');
    const raw = bytes.subarray(p, p + n);
    const payload = key === null ? raw.slice() : raw.map((b, i) => b ^ key![i % 4]!);
    out.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, payload });
    o = p + n;
  }
  return out;
}

/** What a connection produced while being driven. */
export interface Outcome {
  /** Everything written, joined. */
  readonly written: Uint8Array;
  /** The frames written (after any handshake bytes the caller strips). */
  readonly frames: ReadFrame[];
  readonly events: WebSocketEvent[];
  readonly done: boolean;
}

export interface DriveOptions {
  /** Echo every text / binary message back (as an Autobahn test server does). Default true. */
  readonly echo?: boolean;
  /** Strip this many bytes of written handshake before reading frames. */
  readonly skipWritten?: number;
}

/**
 * Feeds `chunks` one at a time, polling after each until need-read or done; collects writes and events.
 * Echoes messages when asked. Accumulates into `acc` when given (to continue a run).
 */
export class Driver {
  readonly writes: Uint8Array[] = [];
  readonly events: WebSocketEvent[] = [];
  done = false;
  constructor(
    readonly conn: WebSocketConnection,
    private readonly options: DriveOptions = {},
  ) {}

  pump(): this {
    for (let guard = 0; guard < 1_000_000; guard++) {
      const r = this.conn.poll();
      if (r.type === 'need-read') return this;
      if (r.type === 'done') {
        this.done = true;
        return this;
      }
      if (r.type === 'need-write') {
        this.writes.push(r.data.slice());
        continue;
      }
      const e = r.event;
      this.events.push(e);
      if ((this.options.echo ?? true) && this.conn.state === 'open') {
        if (e.type === 'text') this.conn.send(e.text);
        else if (e.type === 'binary') this.conn.send(e.data.slice());
      }
    }
    throw new Error('Driver: no need-read after a million polls');
  }

  feed(...chunks: Uint8Array[]): this {
    for (const c of chunks) {
      if (this.done) break;
      this.conn.receive(c);
      this.pump();
    }
    return this;
  }

  /** Feeds `bytes` one byte at a time. */
  feedBytewise(bytes: Uint8Array): this {
    for (let i = 0; i < bytes.length && !this.done; i++) this.feed(bytes.subarray(i, i + 1).slice());
    return this;
  }

  end(): this {
    this.conn.end();
    return this.pump();
  }

  get written(): Uint8Array {
    return concat(...this.writes);
  }

  frames(skip = this.options.skipWritten ?? 0): ReadFrame[] {
    return readFrames(this.written.subarray(skip));
  }

  outcome(): Outcome {
    return { written: this.written, frames: this.frames(), events: this.events, done: this.done };
  }
}

/** An open server connection (its handshake happened elsewhere) driven with echo. */
export function openServer(options: OpenOptions & ConnectionOptions = {}, drive: DriveOptions = {}): Driver {
  return new Driver(WebSocketConnection.open('server', options), drive);
}

/** An open client connection. Its masks come from a counter, so runs are reproducible. */
export function openClient(options: OpenOptions & ConnectionOptions = {}, drive: DriveOptions = {}): Driver {
  return new Driver(WebSocketConnection.open('client', { random: counterRandom(), ...options }), drive);
}

/** A deterministic "random" source: 1, 2, 3, ... (tests only). */
export function counterRandom(seed = 1): (n: number) => Uint8Array {
  let x = seed;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = x++ & 0xff;
    return out;
  };
}

/** Asserts the last thing written is a close frame with `code` (undefined: no status) and the connection is done. */
export function assertClosedWith(d: Driver, code: number | undefined, errorCode?: string): void {
  const frames = d.frames();
  const last = frames[frames.length - 1];
  assert.ok(last !== undefined && last.opcode === 8, `expected a close frame last, got opcodes ${frames.map((f) => f.opcode).join(',')}`);
  if (code === undefined) assert.equal(last.payload.length, 0);
  else assert.equal((last.payload[0]! << 8) | last.payload[1]!, code, 'close code sent');
  assert.equal(d.done, true, 'the connection is done');
  const close = d.events.find((e) => e.type === 'close');
  assert.ok(close !== undefined && close.type === 'close', 'a close event');
  if (errorCode !== undefined) assert.equal(close.error?.code, errorCode);
}

/** The opcodes and payload texts of frames, for compact assertions. */
export function summary(frames: readonly ReadFrame[]): string[] {
  return frames.map((f) => `${f.opcode}:${f.fin ? 'F' : '-'}:${new TextDecoder().decode(f.payload)}`);
}
