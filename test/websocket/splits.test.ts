/**
 * The chunk-split property (test/support/splits.ts) on a whole connection: the opening handshake, then
 * frames, on one input. Any split of the input gives the same writes and events, each as soon as its last
 * byte arrived; the bytes after the closing handshake stay unread in the Source.
 */
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { constants, deflateRawSync } from 'node:zlib';
import { WebSocketConnection, type ClientOptions, type ServerOptions, type WebSocketEvent } from '../../src/websocket/index.js';
import { concat, hex } from '../support/bytes.js';
import { backToBack, checkSplits, type SplitDriver, type SplitFixture } from '../support/splits.js';
import { closeBody, counterRandom, wire } from './support.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** What the driver collects: a write (bytes out) or an event, as plain data. */
type Out = { readonly write: Uint8Array } | { readonly event: string; readonly data?: Uint8Array | string; readonly code?: number };

function plainEvent(e: WebSocketEvent): Out {
  switch (e.type) {
    case 'text':
      return { event: 'text', data: e.text };
    case 'binary':
    case 'ping':
    case 'pong':
      return { event: e.type, data: e.data };
    case 'message-piece':
      return { event: `piece${e.fin ? '-fin' : ''}`, data: e.data };
    case 'close':
      return { event: 'close', code: e.code };
    case 'open':
      return { event: 'open', data: `${e.protocol ?? ''}|${e.extensions}` };
    case 'handshake-failed':
      return { event: 'handshake-failed', code: e.status };
    default: {
      const never: never = e;
      throw new Error(`unknown event ${String(never)}`);
    }
  }
}

function connectionDriver(make: () => WebSocketConnection): SplitDriver<Out> {
  return (want) => {
    const conn = make();
    let got = 0;
    let needed: number | undefined;
    const pull = (): Out[] => {
      const out: Out[] = [];
      while (got < want) {
        const r = conn.poll();
        if (r.type === 'need-read') {
          needed = r.needed;
          break;
        }
        if (r.type === 'done') break;
        out.push(r.type === 'need-write' ? { write: r.data.slice() } : plainEvent(r.event));
        got++;
      }
      return out;
    };
    // A client writes its request before any input: collect it with the first feed.
    return {
      feed(chunk) {
        conn.receive(chunk);
        return pull();
      },
      end() {
        conn.end();
        return pull();
      },
      needed: () => needed,
      rest: () => conn.source.takeRest(),
    };
  };
}

/** A fixture part: input bytes and the outputs they produce once complete. */
const part = (input: Uint8Array, ...outs: Out[]): SplitFixture<Out> => ({ input, values: outs, ends: outs.map(() => input.length) });

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const accept = (key: string): string =>
  createHash('sha1')
    .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
    .digest('base64');

function requestHead(extensions?: string): Uint8Array {
  return utf8(
    `GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\n` +
      `Sec-WebSocket-Version: 13\r\n${extensions === undefined ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`}\r\n`,
  );
}

/** Unmasked server frame as the server writes it (built by hand). */
const serverFrame = (opcode: number, payload: Uint8Array): Uint8Array => wire({ opcode, payload, mask: null });

describe('chunk splits: handshake, then frames, on one input', () => {
  it('server: request head, masked frames (single, fragmented, ping, binary 300 B), close; trailing bytes stay', () => {
    const bin = new Uint8Array(300).map((_, i) => i);
    const fx = backToBack(
      part(
        requestHead(),
        {
          write: concat(
            utf8(
              `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(KEY)}\r\n\r\n`,
            ),
          ),
        },
        { event: 'open', data: '|' },
      ),
      part(hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'), { event: 'text', data: 'Hello' }),
      part(wire({ opcode: 1, fin: false, payload: 'Hel' })),
      part(wire({ opcode: 9, payload: 'ping!' }), { write: serverFrame(10, utf8('ping!')) }, { event: 'ping', data: utf8('ping!') }),
      part(wire({ opcode: 0, payload: 'lo, κόσμε' }), { event: 'text', data: 'Hello, κόσμε' }),
      part(wire({ opcode: 2, payload: bin }), { event: 'binary', data: bin }),
      part(
        wire({ opcode: 8, payload: closeBody(1000, 'bye') }),
        { write: serverFrame(8, closeBody(1000)) },
        { event: 'close', code: 1000 },
      ),
    );
    checkSplits(
      connectionDriver(() => WebSocketConnection.server()),
      fx,
      { numRuns: 60, trailing: concat(wire({ opcode: 1, payload: 'after close' }), hex('0d 0a 00 ff')) },
    );
  });

  it('server with permessage-deflate: compressed messages across splits', () => {
    const compress = (s: string): Uint8Array => {
      const z = deflateRawSync(utf8(s), { finishFlush: constants.Z_SYNC_FLUSH });
      return z.subarray(0, z.length - 4);
    };
    const ext = 'permessage-deflate; client_no_context_takeover';
    const options: ServerOptions = { perMessageDeflate: true };
    const fx = backToBack(
      part(
        requestHead(ext),
        {
          write: utf8(
            `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(KEY)}\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n\r\n`,
          ),
        },
        { event: 'open', data: '|permessage-deflate; server_no_context_takeover; client_no_context_takeover' },
      ),
      part(wire({ opcode: 1, rsv: 4, payload: compress('Hello, compressed world! '.repeat(20)) }), {
        event: 'text',
        data: 'Hello, compressed world! '.repeat(20),
      }),
      part(wire({ opcode: 1, payload: 'plain' }), { event: 'text', data: 'plain' }),
      part(wire({ opcode: 1, rsv: 4, payload: compress('second') }), { event: 'text', data: 'second' }),
    );
    checkSplits(
      connectionDriver(() => WebSocketConnection.server(options)),
      fx,
      { numRuns: 60 },
    );
  });

  it('client: its request first, then the 101 response and unmasked frames in the same input', () => {
    const options: ClientOptions = { host: 'server.example.com', path: '/chat' };
    // counterRandom(1) gives the key bytes 1..16: the request is checked byte for byte by the property.
    const key = Buffer.from(Array.from({ length: 16 }, (_, i) => i + 1)).toString('base64');
    const request = utf8(
      `GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const res = utf8(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n\r\n`,
    );
    const fx = backToBack(
      { input: new Uint8Array(0), values: [{ write: request }], ends: [0] },
      part(res, { event: 'open', data: '|' }),
      part(serverFrame(1, utf8('from the server')), { event: 'text', data: 'from the server' }),
      part(serverFrame(10, utf8('pong')), { event: 'pong', data: utf8('pong') }),
    );
    // A fresh random source per run: every run sends the same key.
    checkSplits(
      connectionDriver(() => WebSocketConnection.client({ ...options, random: counterRandom(1) })),
      fx,
      { numRuns: 60 },
    );
  });

  it('streamed pieces: any split gives the same bytes in order (pieces joined)', () => {
    const big = new Uint8Array(5000).map((_, i) => (i * 7) & 0xff);
    const fx = backToBack(
      part(requestHead(), { write: new Uint8Array(0) }, { event: 'open', data: '|' }),
      part(wire({ opcode: 2, payload: big })),
    );
    // Pieces depend on the split; join them before comparing (the property's `normalize`).
    const normalize = (vs: readonly Out[]): unknown => {
      const data: Uint8Array[] = [];
      let ended = false;
      for (const v of vs) {
        if (!('event' in v) || !v.event.startsWith('piece')) continue;
        data.push(v.data as Uint8Array);
        ended = v.event === 'piece-fin';
      }
      return { bytes: concat(...data), ended };
    };
    // The driver reads everything (the number of pieces is not fixed); no trailing bytes then.
    const driver = connectionDriver(() => WebSocketConnection.server({ streamOver: 100 }));
    checkSplits(
      () => driver(Number.MAX_SAFE_INTEGER),
      { input: fx.input, values: [{ event: 'piece-fin', data: big }], ends: [fx.input.length] },
      { numRuns: 40, boundaries: false, trailing: new Uint8Array(0), normalize },
    );
  });
});
