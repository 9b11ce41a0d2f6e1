/**
 * Interop against `ws` (npm) over real loopback sockets, both directions: our server with a ws client, our
 * client with a ws server. Text and binary up to 16 MiB, fragmentation, ping/pong, every close path, and
 * permessage-deflate with and without context takeover (and with limited windows).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocket as WsClient, WebSocketServer as WsServer, type PerMessageDeflateOptions as WsDeflate } from 'ws';
import { fflateCodec } from '../../src/websocket/index.js';
import {
  WebSocketServer,
  connect,
  type WebSocket,
  type WebSocketServerOptions,
  type ConnectOptions,
} from '../../src/websocket/node/index.js';

type Message = [data: Buffer, isBinary: boolean];

/** Resolves with the next `n` messages of an emitter that emits ('message', data, isBinary). */
function messages(
  ws: {
    on(event: 'message', fn: (d: Buffer, b: boolean) => void): unknown;
    off(event: 'message', fn: (d: Buffer, b: boolean) => void): unknown;
  },
  n: number,
): Promise<Message[]> {
  return new Promise((resolve) => {
    const got: Message[] = [];
    const on = (d: Buffer, b: boolean): void => {
      got.push([Buffer.from(d), b]);
      if (got.length === n) {
        ws.off('message', on);
        resolve(got);
      }
    };
    ws.on('message', on);
  });
}

const closeOf = (ws: WsClient | WebSocket): Promise<[number, string]> =>
  new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve([code, reason.toString()])));

// ---------------------------------------------------------------- our server, ws clients

const servers: { close(): Promise<void> }[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

/** Our echo server on a fresh port. */
async function ourEchoServer(options: WebSocketServerOptions = {}): Promise<{ url: string; wss: WebSocketServer; http: Server }> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, ...options });
  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (ws.readyState === 1) ws.send(data, { binary: isBinary });
    });
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  servers.push({
    close: async () => {
      wss.close(true);
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  });
  return { url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`, wss, http };
}

async function wsClient(url: string, options: ConstructorParameters<typeof WsClient>[2] = {}): Promise<WsClient> {
  const ws = new WsClient(url, options);
  ws.on('error', () => undefined);
  await once(ws, 'open');
  return ws;
}

/** A ws echo server on a fresh port. */
async function wsEchoServer(options: ConstructorParameters<typeof WsServer>[0] = {}): Promise<{ url: string; server: WsServer }> {
  const server = new WsServer({ port: 0, host: '127.0.0.1', ...options });
  await once(server, 'listening');
  server.on('connection', (ws) => {
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => {
      if (ws.readyState === 1) ws.send(data as Buffer, { binary: isBinary });
    });
  });
  servers.push({
    close: async () => {
      for (const c of server.clients) c.terminate();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

async function ourClient(url: string, options: ConnectOptions = {}): Promise<WebSocket> {
  const ws = connect(url, options);
  ws.on('error', () => undefined);
  await once(ws, 'open');
  return ws;
}

const SIZES = [0, 125, 126, 65536, 1 << 20, 16 << 20];
const binary = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 2654435761) >>> 24;
  return b;
};
const textOf = (n: number): string => {
  // Multi-byte text of n bytes: 'κόσμε ' is 11 bytes.
  const unit = 'κόσμε ';
  const s = unit.repeat(Math.floor(n / 11));
  return s + 'x'.repeat(n - Buffer.byteLength(s));
};

/** Sends each payload and checks that the echo comes back identical. */
async function echoAll(send: (d: Buffer | string, binary: boolean) => void, peer: Parameters<typeof messages>[0]): Promise<void> {
  for (const n of SIZES) {
    for (const isBinary of [false, true]) {
      const payload = isBinary ? binary(n) : textOf(n);
      const got = messages(peer, 1);
      send(payload, isBinary);
      const [data, b] = (await got)[0]!;
      assert.equal(b, isBinary, `${n} bytes, binary ${isBinary}`);
      if (isBinary) assert.ok(data.equals(payload as Buffer), `${n} bytes binary`);
      else assert.equal(data.toString(), payload, `${n} bytes text`);
    }
  }
}

describe('ws client → our server', () => {
  it('text and binary from 0 B to 16 MiB are echoed intact', async () => {
    const { url } = await ourEchoServer();
    const ws = await wsClient(url);
    await echoAll((d, b) => ws.send(d, { binary: b }), ws);
    ws.close();
  });

  it('fragmented messages from ws are reassembled; a ping between fragments is answered', async () => {
    const { url } = await ourEchoServer();
    const ws = await wsClient(url);
    const got = messages(ws, 1);
    const pong = once(ws, 'pong');
    ws.send('frag-1 ', { fin: false });
    ws.ping('in between');
    ws.send('frag-2 ', { fin: false });
    ws.send('frag-3', { fin: true });
    assert.equal((await got)[0]![0].toString(), 'frag-1 frag-2 frag-3');
    assert.equal(((await pong)[0] as Buffer).toString(), 'in between');
    ws.close();
  });

  it('our server pings, ws pongs; ws pings, we pong', async () => {
    const { url, wss } = await ourEchoServer();
    const ws = await wsClient(url);
    const server = [...wss.clients][0]!;
    const pong = once(server, 'pong');
    server.ping('are you there');
    assert.equal(((await pong)[0] as Buffer).toString(), 'are you there');
    const back = once(ws, 'pong');
    ws.ping(Buffer.from([1, 2, 3]));
    assert.deepStrictEqual([...((await back)[0] as Buffer)], [1, 2, 3]);
    ws.close();
  });

  it('close paths: ws closes with a code and reason; our server closes; protocol errors; abrupt ends', async () => {
    const { url, wss } = await ourEchoServer({ maxMessageSize: 1 << 20 });
    // ws starts the closing handshake: our side echoes the code.
    let ws = await wsClient(url);
    let serverSide = [...wss.clients].at(-1)!;
    const ours = closeOf(serverSide);
    ws.close(4000, 'client done');
    assert.deepStrictEqual(await closeOf(ws), [4000, '']);
    assert.deepStrictEqual(await ours, [4000, 'client done']);

    // Our server starts it.
    ws = await wsClient(url);
    serverSide = [...wss.clients].at(-1)!;
    const wsClosed = closeOf(ws);
    serverSide.close(1001, 'going away');
    assert.deepStrictEqual(await wsClosed, [1001, 'going away']);

    // Invalid UTF-8 in a text message: we fail with 1007.
    ws = await wsClient(url);
    const c1007 = closeOf(ws);
    ws.send(Buffer.from([0x48, 0xff]), { binary: false });
    assert.equal((await c1007)[0], 1007);

    // A message over maxMessageSize: 1009.
    ws = await wsClient(url);
    const c1009 = closeOf(ws);
    ws.send(Buffer.alloc((1 << 20) + 1));
    assert.equal((await c1009)[0], 1009);

    // ws drops the TCP connection: our side reports 1006.
    ws = await wsClient(url);
    serverSide = [...wss.clients].at(-1)!;
    const abnormal = closeOf(serverSide);
    ws.terminate();
    assert.equal((await abnormal)[0], 1006);

    // Our side drops it: ws reports 1006.
    ws = await wsClient(url);
    serverSide = [...wss.clients].at(-1)!;
    const wsAbnormal = closeOf(ws);
    serverSide.terminate();
    assert.equal((await wsAbnormal)[0], 1006);
  });

  it('subprotocols are negotiated', async () => {
    const { url } = await ourEchoServer({ protocols: ['v2.chat', 'v1.chat'] });
    const ws = await wsClient(url, undefined);
    ws.close();
    const ws2 = new WsClient(url, ['v1.chat', 'v2.chat']);
    ws2.on('error', () => undefined);
    await once(ws2, 'open');
    assert.equal(ws2.protocol, 'v2.chat');
    ws2.close();
  });

  const deflateCases: [string, WebSocketServerOptions['perMessageDeflate'], WsDeflate, RegExp][] = [
    ['context takeover both ways (node:zlib)', { threshold: 0 }, { threshold: 0 }, /^permessage-deflate$/],
    [
      'no context takeover',
      { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true },
      { threshold: 0 },
      /server_no_context_takeover.*client_no_context_takeover/,
    ],
    [
      'windows limited to 10 bits both ways',
      { threshold: 0, clientMaxWindowBits: 10 },
      { threshold: 0, serverMaxWindowBits: 10 },
      /server_max_window_bits=10; client_max_window_bits=10/,
    ],
    [
      'the portable fflate codec',
      { threshold: 0, codec: fflateCodec },
      { threshold: 0 },
      /^permessage-deflate; server_no_context_takeover$/,
    ],
  ];
  for (const [name, ours, theirs, ext] of deflateCases) {
    it(`permessage-deflate, ${name}`, async () => {
      const { url, wss } = await ourEchoServer({ perMessageDeflate: ours ?? true });
      const ws = await wsClient(url, { perMessageDeflate: theirs });
      // (ws reports only extension names; our side has the agreed parameters.)
      assert.equal(ws.extensions, 'permessage-deflate');
      assert.match([...wss.clients].at(-1)!.extensions, ext);
      for (const n of [0, 10, 2000, 70_000, 1 << 20]) {
        for (let round = 0; round < 2; round++) {
          const t = textOf(n);
          const got = messages(ws, 1);
          ws.send(t);
          assert.equal((await got)[0]![0].toString(), t, `${n} bytes, round ${round}`);
        }
      }
      const frag = messages(ws, 1);
      ws.send('compressed ', { fin: false });
      ws.send('and fragmented', { fin: true });
      assert.equal((await frag)[0]![0].toString(), 'compressed and fragmented');
      ws.close();
    });
  }
});

describe('our client → ws server', () => {
  it('text and binary from 0 B to 16 MiB are echoed intact', async () => {
    const { url } = await wsEchoServer();
    const ws = await ourClient(url);
    await echoAll((d, b) => ws.send(d, { binary: b }), ws);
    ws.close();
  });

  it('fragmented sends are reassembled by ws; pings both ways', async () => {
    const { url, server } = await wsEchoServer();
    const ws = await ourClient(url);
    const got = messages(ws, 1);
    ws.send(Buffer.from('part one, '), { fin: false, binary: false });
    ws.ping('between fragments');
    ws.send('part two', { fin: true });
    const [data, isBinary] = (await got)[0]!;
    assert.deepStrictEqual([data.toString(), isBinary], ['part one, part two', false]);
    const pong = once(ws, 'pong');
    ws.ping('ping from us');
    assert.equal(((await pong)[0] as Buffer).toString(), 'ping from us');
    const theirPong = new Promise<Buffer>((r) => [...server.clients][0]!.once('pong', r));
    [...server.clients][0]!.ping('ping from ws');
    assert.equal((await theirPong).toString(), 'ping from ws');
    ws.close();
  });

  it('close paths: we close, ws closes, ws refuses a big message, abrupt ends', async () => {
    const { url, server } = await wsEchoServer({ maxPayload: 1000 });
    let ws = await ourClient(url);
    ws.close(4321, 'we are done');
    assert.deepStrictEqual(await closeOf(ws), [4321, 'we are done']);

    ws = await ourClient(url);
    const closed = closeOf(ws);
    [...server.clients].at(-1)!.close(1000, 'server says bye');
    assert.deepStrictEqual(await closed, [1000, 'server says bye']);

    ws = await ourClient(url);
    const tooBig = closeOf(ws);
    ws.send(Buffer.alloc(1001));
    assert.equal((await tooBig)[0], 1009);

    ws = await ourClient(url);
    const abnormal = closeOf(ws);
    [...server.clients].at(-1)!.terminate();
    assert.equal((await abnormal)[0], 1006);

    ws = await ourClient(url);
    const theirs = new Promise<number>((r) => [...server.clients].at(-1)!.once('close', (code: number) => r(code)));
    ws.terminate();
    assert.equal(await theirs, 1006);
  });

  it('a refused handshake (ws verifyClient) is an error with the status, then close 1006', async () => {
    const { url } = await wsEchoServer({ verifyClient: () => false });
    const ws = connect(url);
    const err = once(ws, 'error');
    const closed = closeOf(ws);
    const [e] = (await err) as [{ code: string; message: string }];
    assert.equal(e.code, 'ERR_WS_HANDSHAKE_STATUS');
    assert.match(e.message, /401/);
    assert.equal((await closed)[0], 1006);
  });

  const deflateCases: [string, ConnectOptions['perMessageDeflate'], WsDeflate, RegExp][] = [
    ['context takeover both ways', { threshold: 0 }, { threshold: 0 }, /^permessage-deflate$/],
    [
      'ws server without context takeover',
      { threshold: 0 },
      { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true },
      /server_no_context_takeover; client_no_context_takeover/,
    ],
    [
      'ws server limiting the client window to 9 bits',
      { threshold: 0, clientMaxWindowBits: 15 },
      { threshold: 0, clientMaxWindowBits: 9 },
      /client_max_window_bits=9/,
    ],
    ['we ask for a 10-bit server window', { threshold: 0, serverMaxWindowBits: 10 }, { threshold: 0 }, /server_max_window_bits=10/],
    ['the portable fflate codec', { threshold: 0, codec: fflateCodec }, { threshold: 0 }, /client_no_context_takeover/],
  ];
  for (const [name, ours, theirs, ext] of deflateCases) {
    it(`permessage-deflate, ${name}`, async () => {
      const { url } = await wsEchoServer({ perMessageDeflate: theirs });
      const ws = await ourClient(url, { perMessageDeflate: ours ?? true });
      assert.match(ws.extensions, ext);
      for (const n of [0, 10, 2000, 70_000, 1 << 20]) {
        for (let round = 0; round < 2; round++) {
          const payload = round === 0 ? textOf(n) : binary(n);
          const got = messages(ws, 1);
          ws.send(payload);
          const [data, isBinary] = (await got)[0]!;
          assert.equal(isBinary, round === 1);
          assert.ok(round === 0 ? data.toString() === payload : data.equals(payload as Buffer), `${n} bytes, round ${round}`);
        }
      }
      const frag = messages(ws, 1);
      ws.send('compressed ', { fin: false });
      ws.send('and fragmented', { fin: true });
      assert.equal((await frag)[0]![0].toString(), 'compressed and fragmented');
      ws.close();
      await closeOf(ws);
    });
  }
});

describe('Node adapter: backpressure', () => {
  it('send() returns false and bufferedAmount grows while the peer does not read; drain follows', async () => {
    const { url, wss } = await ourEchoServer();
    const port = Number(new URL(url).port);
    // A raw client that completes the handshake, then stops reading.
    const sock = netConnect({ host: '127.0.0.1', port });
    await once(sock, 'connect');
    sock.write(
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const [head] = (await once(sock, 'data')) as [Buffer];
    assert.match(head.toString(), /^HTTP\/1.1 101 /);
    sock.pause();
    const server = [...wss.clients].at(-1)!;
    const big = Buffer.alloc(1 << 20, 7);
    let sent = 0;
    while (server.send(big) && sent < 256) sent++;
    assert.ok(sent < 256, 'send() returned false before 256 MiB were queued');
    assert.ok(server.bufferedAmount >= 1 << 20, `bufferedAmount ${server.bufferedAmount}`);
    const drained = once(server, 'drain');
    let received = 0;
    sock.on('data', (d: Buffer) => (received += d.length));
    sock.resume();
    await drained;
    assert.ok(received > 0);
    sock.destroy();
  });
});
