/**
 * The corruption invariant at the connection's entry point (STYLE.md habit 7): random bytes and
 * mutations of valid input, fed in pieces, never make `receive` / `poll` throw, loop, or keep going after
 * the end of input: every run ends with `done`, and whatever the connection wrote is a sequence of
 * well-formed frames (after any handshake answer).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { constants, deflateRawSync } from 'node:zlib';
import { WebSocketConnection } from '../../src/websocket/index.js';
import { concat } from '../support/bytes.js';
import { checkCorruption } from '../support/splits.js';
import { closeBody, counterRandom, wire } from './support.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Feeds `input` in chunks of 1, 2, 3, 5, 8, ... bytes, polls after each, then ends it; returns the number of polls. */
function drive(make: () => WebSocketConnection, input: Uint8Array): number {
  const conn = make();
  let polls = 0;
  let done = false;
  const pump = (): void => {
    for (;;) {
      if (++polls > 100_000) throw new Error('no progress');
      const r = conn.poll();
      if (r.type === 'need-read') return;
      if (r.type === 'done') {
        done = true;
        return;
      }
    }
  };
  const sizes = [1, 2, 3, 5, 8, 13, 21, 34];
  for (let at = 0, i = 0; at < input.length && !done; i++) {
    const n = sizes[i % sizes.length]!;
    conn.receive(input.subarray(at, at + n));
    at += n;
    pump();
  }
  conn.end();
  pump();
  assert.ok(done, 'after end() the connection is done');
  assert.equal(conn.state, 'closed');
  return polls;
}

/** Any exception fails: the connection answers bad input, it never throws it. */
const noThrow = (): boolean => false;

const REQUEST = utf8(
  'GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
    'Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n',
);
const compressed = (s: string): Uint8Array => {
  const z = deflateRawSync(utf8(s), { finishFlush: constants.Z_SYNC_FLUSH });
  return z.subarray(0, z.length - 4);
};
const FRAMES = [
  wire({ opcode: 1, payload: 'hello' }),
  concat(wire({ opcode: 1, fin: false, payload: 'κό' }), wire({ opcode: 9, payload: 'p' }), wire({ opcode: 0, payload: 'σμε' })),
  wire({ opcode: 2, payload: new Uint8Array(300).fill(1) }),
  wire({ opcode: 1, rsv: 4, payload: compressed('compressed text, compressed text') }),
  wire({ opcode: 8, payload: closeBody(1000, 'bye') }),
];

describe('robustness: any input is answered, never thrown', () => {
  it('an open server, frames mutated and random', () => {
    const make = (): WebSocketConnection =>
      WebSocketConnection.open('server', {
        deflate: { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
        maxMessageSize: 1 << 16,
      });
    checkCorruption((b) => drive(make, b), [...FRAMES, concat(...FRAMES)], { isTypedError: noThrow, numRuns: 150 });
  });
  it('a server from its handshake on: the request head mutated and random', () => {
    const make = (): WebSocketConnection => WebSocketConnection.server({ perMessageDeflate: true, maxMessageSize: 1 << 16 });
    checkCorruption((b) => drive(make, b), [concat(REQUEST, ...FRAMES), REQUEST], { isTypedError: noThrow, numRuns: 150 });
  });
  it('a client from its handshake on: the response mutated and random', () => {
    // counterRandom(1) makes the key bytes 1..16; the accept value is computed here with node:crypto.
    const key = Buffer.from(Array.from({ length: 16 }, (_, i) => i + 1)).toString('base64');
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    const response = utf8(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`,
    );
    const make = (): WebSocketConnection => WebSocketConnection.client({ host: 'h', random: counterRandom(1), perMessageDeflate: true });
    const serverFrames = [
      wire({ opcode: 1, payload: 'hi', mask: null }),
      wire({ opcode: 1, rsv: 4, payload: compressed('squeezed'), mask: null }),
      wire({ opcode: 8, payload: closeBody(1000), mask: null }),
    ];
    checkCorruption((b) => drive(make, b), [concat(response, ...serverFrames)], { isTypedError: noThrow, numRuns: 150 });
  });
});

describe('robustness: the valid seeds do reach the frames', () => {
  it('the client seed opens and reads both messages', () => {
    const key = Buffer.from(Array.from({ length: 16 }, (_, i) => i + 1)).toString('base64');
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    const conn = WebSocketConnection.client({ host: 'h', random: counterRandom(1), perMessageDeflate: true });
    conn.receive(
      concat(
        utf8(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`,
        ),
        wire({ opcode: 1, payload: 'hi', mask: null }),
        wire({ opcode: 1, rsv: 4, payload: compressed('squeezed'), mask: null }),
      ),
    );
    const texts: string[] = [];
    for (let r = conn.poll(); r.type !== 'need-read'; r = conn.poll())
      if (r.type === 'event' && r.event.type === 'text') texts.push(r.event.text);
    assert.deepStrictEqual(texts, ['hi', 'squeezed']);
  });
});
