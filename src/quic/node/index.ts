/**
 * QUIC on Node's UDP sockets: the sans-I/O engine (../connection,
 * ../endpoint) driven by `node:dgram` and one timer, with connections and
 * streams as Node users expect them (promises, async iteration, Web Streams
 * with backpressure, AbortSignal, typed errors).
 *
 * ```ts
 * import { listen, connect } from 'pullwire/quic/node';
 *
 * const server = await listen({ host: '127.0.0.1', port: 4433, cert, key, alpn: 'echo' });
 * (async () => {
 *   for await (const conn of server) {
 *     for await (const stream of conn.incomingStreams()) void stream.readable.pipeTo(stream.writable);
 *   }
 * })();
 *
 * const conn = await connect({ host: '127.0.0.1', port: 4433, serverName: 'localhost', alpn: 'echo', ca: cert });
 * const stream = await conn.openStream();
 * ```
 *
 * One socket can carry a server and any number of client connections:
 * {@link QuicSocket.create}, then `socket.listen(...)` and `socket.connect(...)`.
 */
import { isIP } from 'node:net';
import type { QuicConnection } from './connection.js';
import type { ConnectOptions, ListenOptions } from './options.js';
import type { QuicServer } from './server.js';
import { QuicSocket } from './socket.js';

export { QuicSocket } from './socket.js';
export type { QuicSocketEvents } from './socket.js';
export { QuicServer } from './server.js';
export type { QuicServerEvents } from './server.js';
export { QuicConnection } from './connection.js';
export type { ConnectionCloseOptions, OpenStreamOptions, QuicConnectionEvents } from './connection.js';
export { QuicStream } from './streams.js';
export type { StreamBufferOptions } from './streams.js';
export { QuicError, QUIC_NODE_ERROR_CODES, describeCloseReason, errorCodeOf } from './errors.js';
export type { QuicErrorOptions, QuicNodeErrorCode } from './errors.js';
export type { KeylogOption } from './keylog.js';
export { keylogSink } from './keylog.js';
export { QlogWriter } from './qlog.js';
export type { QlogTraceInfo } from './qlog.js';
export type {
  ClientOptions,
  ConnectOptions,
  DebugOptions,
  ListenOptions,
  ServerOptions,
  SocketOptions,
  TransportOptions,
} from './options.js';

/**
 * Binds a UDP socket and starts a server on it (aioquic's `serve()`).
 * `server.close()` closes the socket too.
 */
export async function listen(options: ListenOptions): Promise<QuicServer> {
  const socket = await QuicSocket.create(options);
  try {
    return socket.listen(options, true);
  } catch (e) {
    socket.destroy();
    throw e;
  }
}

/**
 * Connects to a QUIC server and resolves once the handshake is complete
 * (aioquic's `connect()`). Without `options.socket`, the connection gets a
 * socket of its own (IPv6 when the server's address is), closed when the
 * connection is gone.
 */
export async function connect(options: ConnectOptions): Promise<QuicConnection> {
  if (options.socket !== undefined) return options.socket.connect(options);
  const family = isIP(options.host);
  // A name is resolved by the socket; its own address family decides: IPv4 unless the local host is IPv6.
  const v6 = family === 6 || (family === 0 && options.localHost?.includes(':') === true);
  const socket = await QuicSocket.create({
    type: v6 ? 'udp6' : 'udp4',
    ...(options.localHost === undefined ? {} : { host: options.localHost }),
    ...(options.localPort === undefined ? {} : { port: options.localPort }),
  });
  socket.autoClose = true;
  try {
    return await socket.connect(options);
  } catch (e) {
    socket.destroy();
    throw e;
  }
}
