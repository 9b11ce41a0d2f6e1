/**
 * Part 3, WebSocket over loopback: our Node server (WebSocketServer on an
 * http.Server at 127.0.0.1:0, echoing every message) with permessage-deflate
 * (RFC 7692) enabled, and two clients in turn:
 *
 *   - ours (`connect`), offering permessage-deflate;
 *   - the `ws` npm package (interop: a peer nobody here wrote). It is a
 *     devDependency: when it cannot be loaded, that part says so and is
 *     skipped.
 *
 * The messages are text and binary, 16 B to 1 MiB (log-uniform, so as many
 * small as large), cut from seeded pools: text from words with 2-byte UTF-8
 * characters, binary from bytes of 4 bits of entropy (so deflate has
 * something to do). The client keeps a window of messages in flight and
 * checks every echo, in order, type and bytes, against what it sent. Then it
 * closes with 1000, and the part waits for the server to close too.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, connect, type WebSocket } from '../../websocket/node/index.js';
import {
  Teardown,
  equalBytes,
  errorText,
  fail,
  int,
  logUniform,
  mb,
  mbps,
  outcome,
  perSecond,
  randomBytes,
  rng,
  say,
  secs,
  since,
  now,
  type DemoOptions,
  type PartOutcome,
} from './common.js';

const MIN_SIZE = 16;
const MAX_SIZE = 1 << 20;
/** Echo pipelining: at most this many messages, and about this many bytes, sent and not yet echoed. */
const WINDOW_MESSAGES = 16;
const WINDOW_BYTES = 4 << 20;

interface Message {
  readonly binary: boolean;
  /** What is sent: a string for text. */
  readonly payload: string | Uint8Array;
  /** Its bytes: what the echo must be. */
  readonly bytes: Uint8Array;
}

const WORDS = ['pull', 'wire', 'frame', 'mask', 'deflate', 'été', 'über', 'κόσμε', 'sans-I/O', 'socket', 'window', 'echo'];

function makeMessages(n: number, max: number, seed: number): { messages: Message[]; bytes: number } {
  const r = rng(seed ^ 0x7773);
  // Pools twice the largest message; every BMP character is one UTF-16 unit, so any substring is valid text.
  const words: string[] = [];
  for (let chars = 0; chars < 2 * max;) {
    const w = WORDS[Math.floor(r() * WORDS.length)]!;
    words.push(w);
    chars += w.length + 1;
  }
  const textPool = words.join(' ');
  const binaryPool = randomBytes(2 * max, seed ^ 0x62696e, 4);
  const messages: Message[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    // The first two are the extremes: the smallest text, the largest binary.
    const size = i === 0 ? MIN_SIZE : i === 1 ? max : logUniform(r, MIN_SIZE, max);
    const binary = i === 0 ? false : i === 1 ? true : r() < 0.5;
    let m: Message;
    if (binary) {
      const at = Math.floor(r() * (binaryPool.length - size));
      const payload = binaryPool.subarray(at, at + size);
      m = { binary, payload, bytes: payload };
    } else {
      const at = Math.floor(r() * (textPool.length - size));
      const payload = textPool.slice(at, at + size);
      m = { binary, payload, bytes: Buffer.from(payload, 'utf8') };
    }
    messages.push(m);
    bytes += m.bytes.length;
  }
  return { messages, bytes };
}

// ---------------------------------------------------------------- our echo server

interface EchoServer {
  readonly url: string;
  /** The server side of each accepted connection (its byte counters are what crossed the wire). */
  readonly sockets: Socket[];
  readonly errors: string[];
  /** Stops listening and resolves once every connection has closed. */
  close(): Promise<void>;
}

async function startEchoServer(teardown: Teardown): Promise<EchoServer> {
  const http = createServer((_req, res) => {
    res.writeHead(426, { 'Sec-WebSocket-Version': '13' });
    res.end();
  });
  const wss = new WebSocketServer({ server: http, perMessageDeflate: true });
  teardown.add(() => {
    wss.close(true);
    http.closeAllConnections();
    http.close();
  });
  const sockets: Socket[] = [];
  const errors: string[] = [];
  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    sockets.push(req.socket);
    ws.on('error', (e: unknown) => errors.push(errorText(e)));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (ws.readyState === 1) ws.send(data, { binary: isBinary });
    });
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const closed = once(http, 'close');
  closed.catch(() => undefined); // an 'error' instead is reported where close() awaits it
  return {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/demo`,
    sockets,
    errors,
    close: async () => {
      wss.close();
      http.close();
      await closed;
    },
  };
}

// ---------------------------------------------------------------- the echo loop

/** What the two clients have in common, reduced to what the echo loop needs. */
interface EchoClient {
  send(m: Message): void;
  onMessage(fn: (data: Uint8Array, isBinary: boolean) => void): void;
  onClose(fn: (code: number) => void): void;
}

interface EchoResult {
  readonly seconds: number;
  readonly mismatches: number;
}

/** Sends every message with a window in flight; resolves when all are echoed (checked), rejects if the connection closes first. */
function echoAll(messages: readonly Message[], client: EchoClient): Promise<EchoResult> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let echoed = 0;
    let inFlight = 0;
    let mismatches = 0;
    const t0 = now();
    const topUp = (): void => {
      while (sent < messages.length && sent - echoed < WINDOW_MESSAGES && inFlight < WINDOW_BYTES) {
        const m = messages[sent++]!;
        inFlight += m.bytes.length;
        client.send(m);
      }
    };
    client.onMessage((data, isBinary) => {
      const i = echoed++;
      const m = messages[i];
      if (m === undefined) {
        if (mismatches++ < 5) fail(`an echo nobody sent (${data.length} bytes)`);
        return;
      }
      if ((isBinary !== m.binary || !equalBytes(data, m.bytes)) && mismatches++ < 5) {
        fail(
          `echo ${i} (${m.binary ? 'binary' : 'text'}, ${m.bytes.length} B) came back as ${isBinary ? 'binary' : 'text'}, ${data.length} B, different`,
        );
      }
      inFlight -= m.bytes.length;
      if (echoed === messages.length) resolve({ seconds: since(t0), mismatches });
      else topUp();
    });
    client.onClose((code) => reject(new Error(`the connection closed (${code}) after ${echoed} of ${messages.length} echoes`)));
    topUp();
  });
}

// ---------------------------------------------------------------- the two clients

/** A client being driven: the echo loop's needs, plus opening and closing. */
interface Client extends EchoClient {
  /** Settles once the handshake is over; rejects if the connection closes first. */
  readonly opened: Promise<void>;
  /** The close code. */
  readonly closed: Promise<number>;
  readonly errors: string[];
  extensions(): string;
  close(): void;
  terminate(): void;
}

/** The lifetime events both WebSocket classes emit in the same shape ('open', 'close' (code), 'error'). */
interface Emitter {
  on(event: 'error', fn: (e: unknown) => void): unknown;
  once(event: 'close', fn: (code: number) => void): unknown;
  once(event: 'open', fn: () => void): unknown;
}

function lifetime(ws: Emitter): Pick<Client, 'opened' | 'closed' | 'errors' | 'onClose'> {
  const errors: string[] = [];
  ws.on('error', (e) => errors.push(errorText(e)));
  const closed = new Promise<number>((resolve) => ws.once('close', resolve));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    void closed.then((code) => reject(new Error(`handshake failed (${code}): ${errors.join('; ')}`)));
  });
  opened.catch(() => undefined);
  return { opened, closed, errors, onClose: (fn) => void closed.then(fn) };
}

function ourClient(url: string, deflate: boolean): Client {
  const ws = connect(url, { perMessageDeflate: deflate });
  return {
    ...lifetime(ws),
    send: (m) => ws.send(m.payload, { binary: m.binary }),
    onMessage: (fn) => ws.on('message', (data: Buffer, isBinary: boolean) => fn(data, isBinary)),
    extensions: () => ws.extensions,
    close: () => ws.close(1000, 'done'),
    terminate: () => ws.terminate(),
  };
}

type WsModule = typeof import('ws');

function wsClient(mod: WsModule, url: string): Client {
  const ws = new mod.WebSocket(url, { perMessageDeflate: true });
  return {
    ...lifetime(ws),
    send: (m) => ws.send(m.payload, { binary: m.binary }),
    onMessage: (fn) =>
      ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) =>
        fn(Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data, isBinary),
      ),
    extensions: () => ws.extensions,
    close: () => ws.close(1000, 'done'),
    terminate: () => ws.terminate(),
  };
}

interface MessageSet {
  readonly messages: readonly Message[];
  /** Payload bytes of all messages. */
  readonly bytes: number;
  /** "16 B..1 MiB" */
  readonly range: string;
}

function messageSet(opts: DemoOptions): MessageSet {
  const { n, max } = opts.quick ? { n: 40, max: 256 * 1024 } : { n: 200, max: MAX_SIZE };
  const range = `${MIN_SIZE} B..${max >= 1 << 20 ? `${max >> 20} MiB` : `${max >> 10} KiB`}`;
  return { ...makeMessages(n, max, opts.seed), range };
}

const percent = (part: number, whole: number): string => `${((part / whole) * 100).toFixed(0)}%`;

/**
 * One client on `server`: open, echo every message, close with 1000 and wait
 * for the close. Prints the figures (and, with `wire`, what the server's
 * socket counted on the wire). True when every check passed.
 */
async function echoOver(
  server: EchoServer,
  teardown: Teardown,
  name: string,
  client: Client,
  set: MessageSet,
  wire: boolean,
): Promise<boolean> {
  teardown.add(() => client.terminate());
  await client.opened;
  const extensions = client.extensions();
  const r = await echoAll(set.messages, client);
  client.close();
  const code = await client.closed;
  const socket = server.sockets[server.sockets.length - 1];
  const errors = [...client.errors, ...server.errors];
  const n = set.messages.length;
  const ok = r.mismatches === 0 && code === 1000 && errors.length === 0;
  const line =
    `${name} (extensions "${extensions}"): ${int(n)} messages of ${set.range}, ${mb(set.bytes)} each way,` +
    ` ${r.mismatches === 0 ? 'every echo matches' : `FAIL: ${r.mismatches} echoes differ`}` +
    ` in ${secs(r.seconds)}: ${perSecond(n, r.seconds, 'messages')}, ${mbps(set.bytes, r.seconds)} each way`;
  if (r.mismatches === 0) say(line);
  else fail(line);
  if (wire && socket !== undefined) {
    say(
      `  on the wire: ${percent(socket.bytesRead, set.bytes)} of the payload client->server, ${percent(socket.bytesWritten, set.bytes)} server->client` +
        ` (${mb(socket.bytesRead)}, ${mb(socket.bytesWritten)}); closed with ${code}`,
    );
  }
  if (code !== 1000 || errors.length > 0)
    fail(`${name}: close code ${code} (expected 1000)${errors.length > 0 ? `, errors: ${errors.join('; ')}` : ''}`);
  return ok;
}

export async function runWebSocket(opts: DemoOptions, teardown: Teardown): Promise<PartOutcome> {
  const set = messageSet(opts);
  const server = await startEchoServer(teardown);
  say(`our echo server at ${server.url}`);
  let ok = await echoOver(server, teardown, 'our client', ourClient(server.url, true), set, true);
  // The same messages without compression: what the framing costs without zlib's share.
  ok = (await echoOver(server, teardown, 'our client, no deflate', ourClient(server.url, false), set, false)) && ok;
  await server.close();
  say('every connection closed, then the server');
  return outcome(ok);
}

export async function runWebSocketInterop(opts: DemoOptions, teardown: Teardown): Promise<PartOutcome> {
  let mod: WsModule;
  let version = '';
  try {
    mod = await import('ws');
    version = ` ${(createRequire(import.meta.url)('ws/package.json') as { version: string }).version}`;
  } catch (e) {
    say(`skipped: the ws package (a devDependency) cannot be loaded: ${errorText(e)}`);
    return 'skipped';
  }
  const set = messageSet(opts);
  const server = await startEchoServer(teardown);
  const ok = await echoOver(server, teardown, `ws${version} client`, wsClient(mod, server.url), set, true);
  await server.close();
  return outcome(ok);
}
