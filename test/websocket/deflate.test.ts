/**
 * permessage-deflate (RFC 7692): the section 7.2.3 examples, negotiation (section 7.1), context takeover,
 * window bits, decompression limits, and the compression categories of the conformance suite (Autobahn 12
 * and 13: messages of many sizes echoed with compression, under each parameter combination).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  WebSocketConnection,
  acceptDeflateResponse,
  deflateOffer,
  fflateCodec,
  formatExtension,
  negotiateDeflate,
  parseExtensions,
  type DeflateCodec,
  type DeflateParams,
  type PerMessageDeflateOptions,
  type WebSocketEvent,
} from '../../src/websocket/index.js';
import { zlibCodec } from '../../src/websocket/node/zlib.js';
import { concat, hex } from '../support/bytes.js';
import { Driver, assertClosedWith, counterRandom, openClient, openServer, readFrames, wire } from './support.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const TEXT = 1;
const CONT = 0;

const DEFAULT: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};
const fflate = (): DeflateCodec => fflateCodec;
const zlib = (): DeflateCodec => zlibCodec();

/** A client that has agreed on permessage-deflate with `params` (its handshake happened elsewhere). */
const deflateClient = (params: Partial<DeflateParams> = {}, options: PerMessageDeflateOptions = {}): Driver =>
  openClient({ deflate: { ...DEFAULT, ...params }, deflateOptions: options }, { echo: false });
const deflateServer = (params: Partial<DeflateParams> = {}, options: PerMessageDeflateOptions = {}): Driver =>
  openServer({ deflate: { ...DEFAULT, ...params }, deflateOptions: options });

const messages = (d: Driver): string[] =>
  d.events.flatMap((e: WebSocketEvent) => (e.type === 'text' ? [e.text] : e.type === 'binary' ? [`bin:${e.data.length}`] : []));

describe('RFC 7692 section 7.2.3 examples, received by a client', () => {
  it('7.2.3.1 a message compressed in one frame', () => {
    assert.deepStrictEqual(messages(deflateClient().feed(hex('c1 07 f2 48 cd c9 c9 07 00'))), ['Hello']);
  });
  it('7.2.3.1 the same message in two fragments (RSV1 on the first only)', () => {
    assert.deepStrictEqual(messages(deflateClient().feed(hex('41 03 f2 48 cd'), hex('80 04 c9 c9 07 00'))), ['Hello']);
  });
  it('7.2.3.2 sharing the LZ77 window: the second "Hello" refers back into the first', () => {
    assert.deepStrictEqual(messages(deflateClient().feed(hex('c1 07 f2 48 cd c9 c9 07 00'), hex('c1 05 f2 00 11 00 00'))), [
      'Hello',
      'Hello',
    ]);
  });
  it('7.2.3.3 a DEFLATE block with no compression', () => {
    assert.deepStrictEqual(messages(deflateClient().feed(hex('c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00'))), ['Hello']);
  });
  it('7.2.3.4 a DEFLATE block with BFINAL set', () => {
    assert.deepStrictEqual(messages(deflateClient({ serverNoContextTakeover: true }).feed(hex('c1 08 f3 48 cd c9 c9 07 00 00'))), [
      'Hello',
    ]);
  });
  it('7.2.3.5 two DEFLATE blocks in one message', () => {
    assert.deepStrictEqual(messages(deflateClient().feed(hex('c1 0d f2 48 05 00 00 00 ff ff ca c9 c9 07 00'))), ['Hello']);
  });
  it('a server sends "Hello" as the section 7.2.3.1 bytes, and the second one with the shared window (7.2.3.2)', () => {
    const d = deflateServer({}, { threshold: 0, codec: zlibCodec() });
    d.conn.send('Hello');
    d.conn.send('Hello');
    d.pump();
    assert.deepStrictEqual(d.written, hex('c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00'));
  });
});

describe('negotiation (RFC 7692 section 7.1)', () => {
  const offer = (s: string) => parseExtensions([s], 'ERR_WS_BAD_EXTENSIONS');
  const answer = (options: PerMessageDeflateOptions, s: string, codec: () => DeflateCodec = zlib): string | null => {
    const r = negotiateDeflate(options, offer(s), codec);
    return r === null ? null : formatExtension(r.response);
  };
  it('server: accepts the plain offer, and the client_max_window_bits hint without limiting it', () => {
    assert.equal(answer({}, 'permessage-deflate'), 'permessage-deflate');
    assert.equal(answer({}, 'permessage-deflate; client_max_window_bits'), 'permessage-deflate');
  });
  it('server: server_no_context_takeover offered is answered (7.1.1.1); the client_no_context_takeover hint is echoed', () => {
    assert.equal(answer({}, 'permessage-deflate; server_no_context_takeover'), 'permessage-deflate; server_no_context_takeover');
    assert.equal(answer({}, 'permessage-deflate; client_no_context_takeover'), 'permessage-deflate; client_no_context_takeover');
  });
  it('server: its own no-context-takeover choices are answered even when not offered', () => {
    assert.equal(
      answer({ serverNoContextTakeover: true, clientNoContextTakeover: true }, 'permessage-deflate'),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    );
  });
  it('server: client_max_window_bits is limited only when the client offered it (7.1.2.2)', () => {
    assert.equal(
      answer({ clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits'),
      'permessage-deflate; client_max_window_bits=10',
    );
    assert.equal(
      answer({ clientMaxWindowBits: 10 }, 'permessage-deflate; client_max_window_bits=9'),
      'permessage-deflate; client_max_window_bits=9',
    );
    assert.equal(answer({ clientMaxWindowBits: 10 }, 'permessage-deflate'), 'permessage-deflate');
  });
  it('server: server_max_window_bits needs a compressor that can honour it; fflate cannot, so that offer is declined for the next', () => {
    assert.equal(answer({}, 'permessage-deflate; server_max_window_bits=10', fflate), null);
    assert.equal(
      answer({}, 'permessage-deflate; server_max_window_bits=10, permessage-deflate', fflate),
      'permessage-deflate; server_no_context_takeover',
    );
    assert.equal(answer({}, 'permessage-deflate; server_max_window_bits=10'), 'permessage-deflate; server_max_window_bits=10');
    assert.equal(answer({ serverMaxWindowBits: 12 }, 'permessage-deflate'), 'permessage-deflate; server_max_window_bits=12');
    assert.equal(
      answer({ serverMaxWindowBits: 12 }, 'permessage-deflate; server_max_window_bits=10'),
      'permessage-deflate; server_max_window_bits=10',
    );
    assert.equal(answer({}, 'permessage-deflate; server_max_window_bits=8'), null, 'zlib cannot do 8');
  });
  it('server: a codec without context takeover (fflate) always answers server_no_context_takeover', () => {
    assert.equal(answer({}, 'permessage-deflate', fflate), 'permessage-deflate; server_no_context_takeover');
  });
  for (const bad of [
    'permessage-deflate; server_max_window_bits',
    'permessage-deflate; server_max_window_bits=16',
    'permessage-deflate; server_max_window_bits=08',
    'permessage-deflate; client_max_window_bits=7',
    'permessage-deflate; server_no_context_takeover=1',
    'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
    'permessage-deflate; x-unknown',
    'x-webkit-deflate-frame',
  ]) {
    it(`server: declines ${JSON.stringify(bad)}`, () => assert.equal(answer({}, bad), null));
  }

  const respond = (options: PerMessageDeflateOptions, s: string, codec: () => DeflateCodec = zlib): DeflateParams =>
    acceptDeflateResponse(options, offer(s)[0]!, codec);
  it('client: the offer by codec and options', () => {
    assert.equal(
      formatExtension(deflateOffer({}, fflate)),
      'permessage-deflate; client_no_context_takeover',
      'fflate compresses every message on its own',
    );
    assert.equal(
      formatExtension(deflateOffer({}, zlib)),
      'permessage-deflate',
      'zlib cannot do 8 bits, so no unlimited client_max_window_bits',
    );
    assert.equal(
      formatExtension(deflateOffer({ clientMaxWindowBits: 10, serverMaxWindowBits: 9, serverNoContextTakeover: true }, zlib)),
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=10',
    );
  });
  it('client: accepts valid answers', () => {
    assert.deepStrictEqual(respond({}, 'permessage-deflate'), DEFAULT);
    assert.deepStrictEqual(
      respond({}, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10'),
      {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 10,
        clientMaxWindowBits: 15,
      },
    );
    assert.equal(respond({ clientMaxWindowBits: 12 }, 'permessage-deflate; client_max_window_bits=11').clientMaxWindowBits, 11);
    assert.equal(
      respond({ clientMaxWindowBits: 12 }, 'permessage-deflate').clientMaxWindowBits,
      12,
      'the offered value binds the client anyway',
    );
    assert.equal(respond({}, 'permessage-deflate', fflate).clientNoContextTakeover, true, 'offered, so it holds');
  });
  for (const [options, s] of [
    [{}, 'permessage-deflate; client_max_window_bits=10'],
    [{}, 'permessage-deflate; client_max_window_bits'],
    [{ serverMaxWindowBits: 10 }, 'permessage-deflate'],
    [{ serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=11'],
    [{ serverNoContextTakeover: true }, 'permessage-deflate'],
    [{}, 'permessage-deflate; x=1'],
    [{}, 'permessage-deflate; server_max_window_bits=10; server_max_window_bits=10'],
  ] as [PerMessageDeflateOptions, string][]) {
    it(`client: fails on ${JSON.stringify(s)} to ${JSON.stringify(options)}`, () => {
      assert.throws(
        () => respond(options, s),
        (e: unknown) => (e as { code?: string }).code === 'ERR_WS_HANDSHAKE_EXTENSIONS',
      );
    });
  }
});

describe('receiving compressed data', () => {
  const compress = (b: Uint8Array): Uint8Array => {
    const out = deflateRawSync(b, { finishFlush: constants.Z_SYNC_FLUSH });
    return out.subarray(0, out.length - 4);
  };
  it('a decompression bomb (16 MiB of zeros in ~16 KB) fails 1009 with maxMessageSize 1 MiB', () => {
    const bomb = compress(new Uint8Array(16 << 20));
    assert.ok(bomb.length < 20_000, `${bomb.length} compressed bytes`);
    const d = openServer({ deflate: DEFAULT, maxMessageSize: 1 << 20 }).feed(wire({ opcode: 2, rsv: 4, payload: bomb }));
    assertClosedWith(d, 1009, 'ERR_WS_MESSAGE_TOO_BIG');
  });
  it('the same bomb fails before all of it has arrived', () => {
    const bomb = compress(new Uint8Array(16 << 20));
    const frame = wire({ opcode: 2, rsv: 4, payload: bomb });
    const d = openServer({ deflate: DEFAULT, maxMessageSize: 1 << 20 }).feed(frame.subarray(0, frame.length >> 1));
    assertClosedWith(d, 1009);
  });
  it('a message that inflates to exactly maxMessageSize is fine', () => {
    const payload = new Uint8Array(100_000).map((_, i) => i % 7);
    const d = openServer({ deflate: DEFAULT, maxMessageSize: 100_000 }, { echo: false }).feed(
      wire({ opcode: 2, rsv: 4, payload: compress(payload) }),
    );
    const e = d.events[0]!;
    assert.ok(e.type === 'binary');
    assert.deepStrictEqual(e.data, payload);
  });
  it('invalid DEFLATE data fails 1007', () => {
    assertClosedWith(
      openServer({ deflate: DEFAULT }).feed(wire({ opcode: 2, rsv: 4, payload: hex('ff ff ff ff ff') })),
      1007,
      'ERR_WS_DECOMPRESSION_FAILED',
    );
  });
  it('compressed text with invalid UTF-8 fails 1007; RSV1 on a continuation fails 1002; RSV1 without the extension fails 1002', () => {
    assertClosedWith(
      openServer({ deflate: DEFAULT }).feed(wire({ opcode: TEXT, rsv: 4, payload: compress(hex('48 65 ff')) })),
      1007,
      'ERR_WS_INVALID_UTF8',
    );
    assertClosedWith(
      openServer({ deflate: DEFAULT }).feed(
        wire({ opcode: TEXT, rsv: 4, fin: false, payload: compress(utf8('ab')) }),
        wire({ opcode: CONT, rsv: 4, payload: new Uint8Array(0) }),
      ),
      1002,
      'ERR_WS_RESERVED_BITS',
    );
    assertClosedWith(openServer().feed(wire({ opcode: TEXT, rsv: 4, payload: compress(utf8('ab')) })), 1002, 'ERR_WS_RESERVED_BITS');
  });
  it('uncompressed messages still pass on a connection with the extension', () => {
    assert.deepStrictEqual(messages(deflateClient().feed(wire({ opcode: TEXT, payload: 'plain', mask: null }))), ['plain']);
  });
});

/** A client and a server that agreed on `params`, wired to each other in memory. */
function pair(params: DeflateParams, clientOptions: PerMessageDeflateOptions, serverOptions: PerMessageDeflateOptions) {
  const client = new Driver(
    WebSocketConnection.open('client', { deflate: params, deflateOptions: clientOptions, random: counterRandom() }),
    { echo: false },
  );
  const server = new Driver(WebSocketConnection.open('server', { deflate: params, deflateOptions: serverOptions }), { echo: true });
  /** Sends from the client; the server echoes; returns what the client got back and the client's sent frames. */
  const roundTrip = (data: string | Uint8Array, fragments = 1) => {
    const before = client.writes.length;
    const bytes = typeof data === 'string' ? utf8(data) : data;
    const step = Math.ceil(bytes.length / fragments) || 1;
    for (let i = 0; i < fragments; i++) {
      const piece = bytes.subarray(i * step, (i + 1) * step);
      client.conn.send(typeof data === 'string' ? text(piece) : piece, { fin: i === fragments - 1, binary: typeof data !== 'string' });
    }
    client.pump();
    const sent = concat(...client.writes.slice(before));
    const eventsBefore = client.events.length;
    const serverWritesBefore = server.writes.length;
    server.feed(sent);
    client.feed(concat(...server.writes.slice(serverWritesBefore)));
    return { sent: readFrames(sent), back: client.events.slice(eventsBefore) };
  };
  return { client, server, roundTrip };
}

describe('12 / 13 compression: echo through our client and our server under each parameter set', () => {
  const sizes = [0, 16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072];
  const payload = (n: number): string => {
    // Compressible, but not trivially: words drawn from a small vocabulary.
    const words = ['alpha', 'beta', 'gamma', 'delta', 'épsilon', 'ζeta', '😀', 'theta'];
    let s = '';
    let x = n * 7 + 1;
    while (s.length < n) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      s += words[(x >>> 16) % words.length]! + ' ';
    }
    return s.slice(0, n).replace(/[\ud800-\udbff]$/, 'x');
  };
  const combos: [string, DeflateParams, () => DeflateCodec][] = [
    ['13.1 defaults (context takeover both ways)', DEFAULT, fflate],
    ['13.2 client_no_context_takeover', { ...DEFAULT, clientNoContextTakeover: true }, fflate],
    ['13.3 server_no_context_takeover', { ...DEFAULT, serverNoContextTakeover: true }, fflate],
    ['13.4 both no_context_takeover', { ...DEFAULT, serverNoContextTakeover: true, clientNoContextTakeover: true }, fflate],
    ['13.5 window bits 9 both ways (zlib)', { ...DEFAULT, serverMaxWindowBits: 9, clientMaxWindowBits: 9 }, zlib],
    [
      '13.6 window bits 15 / 12, no context takeover (zlib)',
      { ...DEFAULT, clientMaxWindowBits: 12, serverNoContextTakeover: true, clientNoContextTakeover: true },
      zlib,
    ],
    ['13.7 defaults with zlib (context takeover both ways)', DEFAULT, zlib],
  ];
  for (const [name, params, codec] of combos) {
    it(`${name}: every size echoed intact, compressed with RSV1 on the first frame`, () => {
      const p = pair(params, { threshold: 0, codec: codec() }, { threshold: 0, codec: codec() });
      for (const n of sizes) {
        const t = payload(n);
        const r = p.roundTrip(t);
        assert.equal(r.sent.length, 1);
        assert.equal(r.sent[0]!.rsv, 4);
        assert.equal(r.sent[0]!.masked, true);
        const back = r.back[0]!;
        assert.ok(back.type === 'text', `${n}: ${back.type}`);
        assert.equal(back.text, t, `${n} bytes`);
      }
      // Fragmented compressed messages, text and binary.
      const r = p.roundTrip(payload(5000), 4);
      assert.deepStrictEqual(
        r.sent.map((f) => [f.opcode, f.rsv, f.fin]),
        [
          [TEXT, 4, false],
          [CONT, 0, false],
          [CONT, 0, false],
          [CONT, 0, true],
        ],
      );
      assert.ok(r.back[0]!.type === 'text' && r.back[0]!.text === payload(5000));
      const bin = new Uint8Array(70_000).map((_, i) => (i * i) & 0xff);
      const rb = p.roundTrip(bin, 3);
      assert.ok(rb.back[0]!.type === 'binary');
      assert.deepStrictEqual(rb.back[0]!.data, bin);
    });
  }
  it('12.x the window limit is honoured: every back-reference the zlib codec emits at 9 bits is within 512 bytes', () => {
    // Inflating with an independent inflater limited to a 9-bit window fails on any longer distance.
    const p = pair(
      { ...DEFAULT, clientMaxWindowBits: 9, serverMaxWindowBits: 9 },
      { threshold: 0, codec: zlib() },
      { threshold: 0, codec: zlib() },
    );
    const chunks: Uint8Array[] = [];
    for (const n of [1000, 3000, 700]) {
      const r = p.roundTrip(payload(n));
      chunks.push(r.sent[0]!.payload, hex('00 00 ff ff'));
    }
    const inflated = inflateRawSync(concat(...chunks), { windowBits: 9, finishFlush: constants.Z_SYNC_FLUSH });
    assert.equal(text(inflated), payload(1000) + payload(3000) + payload(700));
  });
  it('what each codec sends inflates with an independent inflater (node:zlib), fragments included', () => {
    for (const codec of [fflate, zlib]) {
      const p = pair(DEFAULT, { threshold: 0, codec: codec() }, {});
      const parts: Uint8Array[] = [];
      for (const [n, fragments] of [
        [3000, 1],
        [200_000, 3],
        [10, 1],
        [0, 1],
      ] as const) {
        const r = p.roundTrip(payload(n), fragments);
        for (const f of r.sent) parts.push(f.payload);
        parts.push(hex('00 00 ff ff'));
        // A final block ends zlib's stream: inflate each message on its own for the one-shot codec.
        if (codec === fflate) {
          assert.equal(text(inflateRawSync(concat(...parts))), payload(n), `fflate, ${n} bytes in ${fragments}`);
          parts.length = 0;
        }
      }
      if (codec === zlib) {
        const all = inflateRawSync(concat(...parts), { finishFlush: constants.Z_SYNC_FLUSH });
        assert.equal(text(all), payload(3000) + payload(200_000) + payload(10) + payload(0));
      }
    }
  });
  it('messages under the threshold go uncompressed; compress: false forces it off', () => {
    const p = pair(DEFAULT, { threshold: 100 }, {});
    assert.equal(p.roundTrip('short').sent[0]!.rsv, 0);
    assert.equal(p.roundTrip('x'.repeat(200)).sent[0]!.rsv, 4);
    p.client.conn.send('y'.repeat(300), { compress: false });
    p.client.pump();
    const last = readFrames(p.client.writes[p.client.writes.length - 1]!)[0]!;
    assert.equal(last.rsv, 0);
  });
  it('context takeover really shares the window: the second identical message is much smaller', () => {
    const t = payload(2000);
    const takeover = pair(DEFAULT, { threshold: 0, codec: zlib() }, {});
    takeover.roundTrip(t);
    const second = takeover.roundTrip(t).sent[0]!.payload.length;
    const none = pair({ ...DEFAULT, clientNoContextTakeover: true }, { threshold: 0, codec: zlib() }, {});
    none.roundTrip(t);
    const fresh = none.roundTrip(t).sent[0]!.payload.length;
    assert.ok(second * 4 < fresh, `with takeover ${second} bytes, without ${fresh}`);
  });
});
