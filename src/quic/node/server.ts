/**
 * The server side of a {@link QuicSocket}: hands out connections whose
 * handshake is complete, as 'connection' events and through async
 * iteration.
 */
import { EventEmitter } from 'node:events';
import type { SocketAddress } from '../connection/events.js';
import type { ConnectionCloseOptions, QuicConnection } from './connection.js';
import type { QuicError } from './errors.js';
import { AsyncQueue } from './queue.js';
import type { QuicSocket } from './socket.js';

/** Events of a {@link QuicServer}. */
export interface QuicServerEvents {
  /** A client connected (handshake complete). */
  connection: [connection: QuicConnection];
  /** A socket error (emitted only when listened to: the connections concerned are closed either way). */
  error: [error: QuicError];
  /** The server stopped. */
  close: [];
}

/**
 * Accepts QUIC connections. Iterate it (`for await (const conn of server)`)
 * or listen to 'connection'. Connections are queued for iteration only once
 * an iterator was asked for, so a server used only through events holds
 * nothing.
 */
export class QuicServer extends EventEmitter<QuicServerEvents> implements AsyncIterable<QuicConnection> {
  /** The socket the server listens on (it may carry client connections too). */
  readonly socket: QuicSocket;
  private readonly ownsSocket: boolean;
  private readonly live = new Set<QuicConnection>();
  private queue: AsyncQueue<QuicConnection> | null = null;
  private closing: Promise<void> | null = null;
  private stopped = false;

  /** @internal Made by {@link QuicSocket.listen}. */
  constructor(socket: QuicSocket, ownsSocket: boolean) {
    super();
    this.socket = socket;
    this.ownsSocket = ownsSocket;
  }

  /** The address the server listens on. */
  address(): SocketAddress {
    return this.socket.address();
  }

  /** Connections accepted and not yet gone. */
  get connections(): QuicConnection[] {
    return [...this.live];
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<QuicConnection> {
    this.queue ??= new AsyncQueue<QuicConnection>();
    if (this.stopped) this.queue.end();
    return this.queue;
  }

  /**
   * Stops accepting, closes every connection of this server (application
   * error 0 unless given) and waits for them; closes the socket when
   * `listen()` made it.
   */
  close(options: ConnectionCloseOptions = {}): Promise<void> {
    this.closing ??= (async () => {
      await this.socket.stopListening(this, options);
      this.onSocketClosed();
      if (this.ownsSocket) await this.socket.close(options);
    })();
    return this.closing;
  }

  /** @internal */
  deliver(conn: QuicConnection): void {
    if (this.stopped) return;
    this.live.add(conn);
    this.queue?.push(conn);
    this.emit('connection', conn);
  }

  /** @internal */
  forget(conn: QuicConnection): void {
    this.live.delete(conn);
  }

  /** @internal */
  reportError(err: QuicError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /** @internal */
  onSocketClosed(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue?.end();
    this.emit('close');
  }
}
