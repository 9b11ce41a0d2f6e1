/**
 * `pullwire ws-echo --port <n>`: a WebSocket echo server on 127.0.0.1, with
 * permessage-deflate enabled, so the server can be exercised from outside
 * (a browser, `ws`, wscat, the Autobahn fuzzing client).
 *
 * Every text / binary message is sent back as it came (fragmented messages
 * are echoed whole). A plain HTTP request gets 426 Upgrade Required.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from '../websocket/node/index.js';
import { intOption, parseCommandLine, untilSignal } from './args.js';

export interface WsEchoOptions {
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Largest message accepted (default: the connection's, 100 MiB). */
  readonly maxMessageSize?: number;
  /** Print a line per connection. */
  readonly verbose?: boolean;
}

export interface WsEchoServer {
  readonly http: Server;
  readonly wss: WebSocketServer;
  /** The URL clients connect to. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the echo server; resolves once it listens. */
export async function startWsEcho(options: WsEchoOptions): Promise<WsEchoServer> {
  const http = createServer((_req, res) => {
    res.writeHead(426, { 'Content-Type': 'text/plain', 'Sec-WebSocket-Version': '13' });
    res.end('pullwire ws-echo: connect with a WebSocket client\n');
  });
  const wss = new WebSocketServer({
    server: http,
    perMessageDeflate: true,
    ...(options.maxMessageSize === undefined ? {} : { maxMessageSize: options.maxMessageSize }),
  });
  let n = 0;
  wss.on('connection', (ws: WebSocket, req: { socket: { remoteAddress?: string; remotePort?: number } }) => {
    const id = ++n;
    if (options.verbose) console.log(`#${id} open from ${req.socket.remoteAddress}:${req.socket.remotePort} extensions="${ws.extensions}"`);
    ws.on('error', (e: unknown) => {
      if (options.verbose) console.log(`#${id} error ${(e as { code?: string }).code ?? String(e)}`);
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (ws.readyState === 1) ws.send(data, { binary: isBinary });
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (options.verbose) console.log(`#${id} close ${code} ${reason.toString()}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  return {
    http,
    wss,
    url: `ws://127.0.0.1:${port}/`,
    close: async () => {
      wss.close();
      http.closeIdleConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

const USAGE = `usage: pullwire ws-echo --port <n> [--max-message-size <bytes>] [--verbose]

WebSocket echo server on 127.0.0.1 (RFC 6455, permessage-deflate enabled).
--port 0 picks a free port. Stop with Ctrl-C.`;

/** The command-line entry of `pullwire ws-echo`. Returns the exit code once the server stops. */
export async function wsEchoMain(argv: readonly string[]): Promise<number> {
  const args = parseCommandLine(
    argv,
    { values: ['--port', '--max-message-size'], flags: ['--verbose'], aliases: { '-p': '--port', '-v': '--verbose' }, positional: false },
    USAGE,
  );
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const port = intOption(args, '--port');
  const maxMessageSize = intOption(args, '--max-message-size');
  const verbose = args.flags.has('--verbose');
  if (port === undefined || port > 65535) throw new Error(`--port <0-65535> is required\n${USAGE}`);
  const server = await startWsEcho({ port, verbose, ...(maxMessageSize === undefined ? {} : { maxMessageSize }) });
  console.log(`pullwire ws-echo listening on ${server.url} (permessage-deflate enabled)`);
  await untilSignal(() => server.close());
  return 0;
}
