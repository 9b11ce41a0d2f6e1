/**
 * A Redis client for Node over `net.Socket`: the sans-I/O RespConnection
 * run by the miniproto Node adapter. Every `call` returns a promise; calls
 * made without awaiting are pipelined (sent back to back, answered in order).
 *
 * ```ts
 * const redis = await RedisClient.connect({ port: 6379, protocol: 3 });
 * await redis.call('SET', 'k', new Uint8Array([1, 2, 3]));
 * const v = await redis.call('GET', 'k'); // Uint8Array
 * await redis.close();
 * ```
 */
import { connect as netConnect, type Socket } from 'node:net';
import { UsageError } from '../../combinators/index.js';
import { attachDuplex, type DuplexAttachment } from '../node.js';
import { RespConnection, type RespArg, type RespConnectionOptions } from './client.js';
import { RedisError, type RespValue } from './types.js';

export interface RedisClientOptions extends RespConnectionOptions {
  readonly host?: string;
  readonly port: number;
  /** 3 sends HELLO 3 first (RESP3 replies: maps, sets, doubles, pushes). Default 2. */
  readonly protocol?: 2 | 3;
  /** Receives push messages (RESP3 `>`, RESP2 pub/sub). */
  readonly onPush?: (value: RespValue) => void;
}

interface Waiter {
  resolve(v: RespValue): void;
  reject(e: unknown): void;
}

export class RedisClient {
  private readonly waiters: Waiter[] = [];
  private head = 0;
  private failure: unknown = null;
  private readonly attachment: DuplexAttachment;

  private constructor(
    private readonly socket: Socket,
    private readonly conn: RespConnection,
    onPush: ((value: RespValue) => void) | undefined,
  ) {
    this.attachment = attachDuplex(conn.session, socket, {
      onEvent: (e) => {
        if (e.type === 'push') {
          onPush?.(e.value);
          return;
        }
        const w = this.waiters[this.head];
        this.waiters[this.head++] = undefined as unknown as Waiter;
        if (this.head === this.waiters.length) {
          this.waiters.length = 0;
          this.head = 0;
        }
        if (w === undefined) return;
        if (e.value instanceof RedisError) w.reject(e.value);
        else w.resolve(e.value);
      },
    });
    this.attachment.finished.then(
      () => this.failAll(new UsageError('the connection is closed')),
      (e: unknown) => this.failAll(e),
    );
  }

  /** Connects (and sends HELLO 3 when asked). */
  static async connect(options: RedisClientOptions): Promise<RedisClient> {
    const socket = netConnect({ host: options.host ?? '127.0.0.1', port: options.port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RedisClient(socket, new RespConnection(options), options.onPush);
    if (options.protocol === 3) await client.call('HELLO', '3');
    return client;
  }

  /** Sends one command. Resolves with its reply; rejects with a RedisError for an error reply. */
  call(...args: RespArg[]): Promise<RespValue> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise<RespValue>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.conn.command(args);
    });
  }

  /** Commands sent and not yet answered. */
  get waiting(): number {
    return this.conn.waiting;
  }

  /** Closes the connection after the replies already asked for arrived. */
  async close(): Promise<void> {
    if (this.failure !== null) return;
    const last = this.waiters.length > this.head ? this.call('PING').catch(() => undefined) : Promise.resolve();
    await last;
    this.socket.end();
    await this.attachment.finished.catch(() => undefined);
  }

  private failAll(e: unknown): void {
    this.failure ??= e;
    for (let i = this.head; i < this.waiters.length; i++) this.waiters[i]?.reject(this.failure);
    this.waiters.length = 0;
    this.head = 0;
  }
}
