/**
 * HTTP/0.9 over QUIC, ALPN `hq-interop`: the request/response protocol of
 * the QUIC interop runner. A client opens a bidirectional stream, writes
 * `GET /path\r\n` and finishes it; the server answers with the file's bytes
 * and finishes its side. No headers, no status, no framing.
 *
 * Same sans-I/O shape as {@link Http3Connection}: pass every QUIC event to
 * `handleEvent`, then take events with `nextEvent` until null (also after
 * commands). The response body is not read from QUIC until `readData` asks,
 * so QUIC flow control holds back a fast server.
 */
import { INCOMPLETE, ParseError, Source, UsageError, until } from '../combinators/index.js';
import type { Connection } from '../quic/connection/connection.js';
import type { CloseReason, ConnectionEvent } from '../quic/connection/events.js';
import { StreamError } from '../quic/streams/errors.js';

/** The ALPN protocol ID of HTTP/0.9 over QUIC in the interop runner. */
export const HQ_ALPN = 'hq-interop';

/** What an {@link HqConnection} reports. */
export type HqEvent =
  /** Server: a request for `path` (the bytes after `GET `, as sent). Answer with `sendData(streamId, bytes, fin)`. */
  | { readonly type: 'request'; readonly streamId: number; readonly path: string }
  /** Server: a request stream that does not start with a `GET <path>` line; it was reset. */
  | { readonly type: 'bad-request'; readonly streamId: number; readonly reason: string }
  /** Client: response bytes can be read with `readData` (read until null; a new hint follows when more arrive). */
  | { readonly type: 'data'; readonly streamId: number }
  /** Client: the response is complete (the server finished the stream). */
  | { readonly type: 'end'; readonly streamId: number }
  /** The peer reset its side of the stream. */
  | { readonly type: 'reset'; readonly streamId: number; readonly errorCode: bigint }
  /** The peer asked us to stop sending on the stream (our side is reset). */
  | { readonly type: 'stop-sending'; readonly streamId: number; readonly errorCode: bigint }
  /** A `sendData` was cut short and the stream takes bytes again. */
  | { readonly type: 'stream-writable'; readonly streamId: number }
  /** The QUIC connection closed. */
  | { readonly type: 'closed'; readonly reason: CloseReason };

export interface HqOptions {
  /** Longest request line accepted (server). Default 8 KiB. */
  readonly maxRequestLine?: number;
  /** Application error code used to reset a bad request (hq-interop defines none). Default 0x1. */
  readonly badRequestCode?: number;
}

interface HqStream {
  readonly id: number;
  /** Server: the request line is parsed from here. */
  readonly src: Source | null;
  /** Server: the request was reported. */
  requested: boolean;
  /** Client: QUIC said readable and no read returned null since. */
  readable: boolean;
  notified: boolean;
  ended: boolean;
  wantWritable: boolean;
}

const GET = 'GET ';
const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Encode = new TextEncoder();

export class HqConnection {
  readonly quic: Connection;
  readonly role: 'client' | 'server';
  private readonly streams = new Map<number, HqStream>();
  private readonly events: HqEvent[] = [];
  private eventHead = 0;
  private readonly requestLine;
  private readonly badRequestCode: number;

  constructor(quic: Connection, options: HqOptions = {}) {
    this.quic = quic;
    this.role = quic.role;
    this.requestLine = until('\n', { max: options.maxRequestLine ?? 8 * 1024, name: 'hq request line' });
    this.badRequestCode = options.badRequestCode ?? 0x1;
  }

  /** Feeds one event of the QUIC connection. */
  handleEvent(ev: ConnectionEvent): void {
    switch (ev.type) {
      case 'stream-opened':
        if (this.role === 'server' && ev.bidi && !this.streams.has(ev.streamId))
          this.streams.set(ev.streamId, this.newStream(ev.streamId, true));
        return;
      case 'stream-readable':
        this.onReadable(ev.streamId);
        return;
      case 'stream-writable': {
        const s = this.streams.get(ev.streamId);
        if (s !== undefined && s.wantWritable) {
          s.wantWritable = false;
          this.events.push({ type: 'stream-writable', streamId: s.id });
        }
        return;
      }
      case 'stream-reset':
        if (this.streams.has(ev.streamId)) this.events.push({ type: 'reset', streamId: ev.streamId, errorCode: ev.errorCode });
        return;
      case 'stream-stop-sending':
        if (this.streams.has(ev.streamId)) this.events.push({ type: 'stop-sending', streamId: ev.streamId, errorCode: ev.errorCode });
        return;
      case 'stream-closed':
        this.streams.delete(ev.streamId);
        return;
      case 'closed':
        this.events.push({ type: 'closed', reason: ev.reason });
        return;
      default:
        return;
    }
  }

  /** The next event, or null. */
  nextEvent(): HqEvent | null {
    if (this.eventHead >= this.events.length) {
      this.events.length = 0;
      this.eventHead = 0;
      return null;
    }
    return this.events[this.eventHead++]!;
  }

  /** Client: requests `path` on a new stream; null at the server's stream limit (retry after `streams-available`). */
  get(path: string): number | null {
    if (this.role !== 'client') throw new UsageError('get() is for clients');
    if (/[\r\n]/.test(path)) throw new UsageError('hq: the path must not contain CR or LF');
    const id = this.quic.openStream(true);
    if (id === null) return null;
    this.streams.set(id, this.newStream(id, false));
    const line = utf8Encode.encode(`${GET}${path}\r\n`);
    if (this.quic.streamWrite(id, line) !== line.length) throw new UsageError('hq: the request line does not fit the send buffer');
    this.quic.streamFinish(id);
    return id;
  }

  /**
   * Client: up to `max` response bytes (owned by the caller), or null when
   * none are readable now. The `end` event follows the last bytes.
   */
  readData(streamId: number, max = Infinity): Uint8Array | null {
    const s = this.streams.get(streamId);
    if (s === undefined || s.ended || !s.readable) {
      if (s !== undefined) s.notified = false;
      return null;
    }
    let r;
    try {
      r = this.quic.streamRead(streamId, max);
    } catch (e) {
      if (e instanceof StreamError) return null; // reset: the event follows
      throw e;
    }
    if (r === null) {
      s.readable = false;
      s.notified = false;
      return null;
    }
    if (r.fin) {
      s.ended = true;
      s.readable = false;
      this.events.push({ type: 'end', streamId });
    }
    return r.data.length > 0 || !r.fin ? r.data : null;
  }

  /**
   * Server: writes response bytes; returns how many the stream took (wait
   * for `stream-writable` for the rest). `fin` ends the response once
   * everything is taken.
   */
  sendData(streamId: number, data: Uint8Array, fin = false): number {
    const s = this.streams.get(streamId);
    if (s === undefined) throw new UsageError(`hq: no open stream ${streamId}`);
    const n = data.length === 0 ? 0 : this.quic.streamWrite(streamId, data);
    if (n < data.length) s.wantWritable = true;
    else if (fin) this.quic.streamFinish(streamId);
    return n;
  }

  /** Abandons a stream in both directions with `errorCode`. */
  cancel(streamId: number, errorCode: number): void {
    this.abort(streamId, errorCode);
    this.streams.delete(streamId);
  }

  private newStream(id: number, server: boolean): HqStream {
    return {
      id,
      src: server ? new Source({ maxBuffered: 64 * 1024 }) : null,
      requested: false,
      readable: false,
      notified: false,
      ended: false,
      wantWritable: false,
    };
  }

  private onReadable(id: number): void {
    const s = this.streams.get(id);
    if (s === undefined) return;
    if (this.role === 'client') {
      s.readable = true;
      if (!s.notified && !s.ended) {
        s.notified = true;
        this.events.push({ type: 'data', streamId: id });
      }
      return;
    }
    this.readRequest(s);
  }

  /** Server: reads the request line; whatever follows it is read and ignored. */
  private readRequest(s: HqStream): void {
    const src = s.src!;
    for (;;) {
      let r;
      try {
        r = this.quic.streamRead(s.id);
      } catch (e) {
        if (e instanceof StreamError) return;
        throw e;
      }
      if (r === null) return;
      if (!s.requested) {
        if (r.data.length > 0) src.feed(r.data);
        if (r.fin) src.end();
        this.parseRequest(s, src);
      }
      if (r.fin) return;
    }
  }

  private parseRequest(s: HqStream, src: Source): void {
    let lineBytes: Uint8Array;
    try {
      const v = this.requestLine.readFast(src);
      if (v === INCOMPLETE) return;
      lineBytes = v;
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      // No newline before the end: a request line ended by the FIN is accepted as it is.
      if (e.code === 'ERR_UNEXPECTED_END' || e.code === 'ERR_REGION_OVERRUN') lineBytes = src.takeRest();
      else return this.badRequest(s, `request line: ${e.code}`);
    }
    s.requested = true;
    let text = utf8.decode(lineBytes);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (!text.startsWith(GET) || text.length === GET.length) return this.badRequest(s, 'not a GET <path> line');
    this.events.push({ type: 'request', streamId: s.id, path: text.slice(GET.length).trim() });
  }

  private badRequest(s: HqStream, reason: string): void {
    s.requested = true;
    this.abort(s.id, this.badRequestCode);
    this.events.push({ type: 'bad-request', streamId: s.id, reason });
  }

  private abort(id: number, code: number): void {
    for (const op of [() => this.quic.streamStopSending(id, code), () => this.quic.streamReset(id, code)]) {
      try {
        op();
      } catch (e) {
        if (!(e instanceof StreamError)) throw e;
      }
    }
  }
}
