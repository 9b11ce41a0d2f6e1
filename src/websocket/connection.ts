/**
 * The sans-I/O WebSocket connection (RFC 6455), both roles.
 *
 * It is a mini-protocol {@link Session} with two phases over one input
 * Source: the opening handshake (an HTTP/1.1 head, parsed by
 * src/miniproto/http1.ts) and then frames. The bytes after the handshake's
 * blank line stay in the Source and are the first bytes of the first frame:
 * nothing is lost or copied at the switch.
 *
 * The driver contract (the same as every pullwire layer):
 *
 * - input: `receive(bytes)` as bytes arrive (not copied: do not modify a
 *   received buffer while events may still refer to it), `end()` when the
 *   transport's read side closed;
 * - commands: `send`, `ping`, `pong`, `close` (the application's; each
 *   queues frames, in order);
 * - output: call `poll()` until it returns need-read or done. It returns
 *   need-write (bytes to send, in order), event (a {@link WebSocketEvent}),
 *   need-read (feed more input, `needed` bytes when known), or done (the
 *   connection is over: close the transport; a server closes first, RFC 6455
 *   section 7.1.1).
 *
 * No clock, no timer, no randomness of its own: a client's key and masks come
 * from the injected `random` source; a closing timeout is the driver's job.
 *
 * Peer errors never throw: the connection answers them as RFC 6455 asks (a
 * close frame with 1002 / 1007 / 1009, or an HTTP 400 / 426 during the
 * handshake) and reports them in the `close` / `handshake-failed` event.
 * API misuse (sending before `open` or after `close`) raises ERR_USAGE.
 */
import { INCOMPLETE, ParseError, UsageError, type Parser, type PullwireError, type Source } from '../combinators/index.js';
import {
  HttpError,
  parseRequestHead,
  parseResponseHead,
  type HeadOptions,
  type RequestHead,
  type ResponseHead,
} from '../miniproto/http1.js';
import {
  Session,
  phase,
  type Done,
  type EventResult,
  type NeedRead,
  type NeedWrite,
  type Phase,
  type PhaseGen,
  type PhaseIO,
} from '../miniproto/session.js';
import { OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, isValidCloseCode } from './codes.js';
import { PerMessageDeflate, type DeflateCodec, type DeflateParams, type PerMessageDeflateOptions } from './deflate.js';
import { WebSocketError } from './errors.js';
import { TextMessage, type CloseEvent, type MessagePiece, type OpenEvent, type SentClose, type WebSocketEvent } from './events.js';
import { fflateCodec } from './fflate.js';
import { FrameHeaderParser, MAX_CONTROL_PAYLOAD, RSV1, encodeFrame, encodeFrameParts, type FrameHeader } from './frame.js';
import {
  acceptClientRequest,
  buildClientRequest,
  checkClientRequest,
  checkServerResponse,
  rejectionResponse,
  type ClientHandshake,
  type ClientHandshakeOptions,
  type HandshakeResult,
  type RandomSource,
  type ServerHandshakeOptions,
} from './handshake.js';
import { allocBytes, type Allocate } from './alloc.js';
import { maskCopyFrom } from './mask.js';
import { Utf8Validator, type Utf8Check } from './utf8.js';

/** One result of {@link WebSocketConnection.poll}. */
export type WebSocketPollResult = NeedRead | NeedWrite | EventResult<WebSocketEvent> | Done;

export interface ConnectionOptions {
  /**
   * Largest message accepted, in bytes, after decompression. A larger one
   * fails the connection with 1009 as soon as its size is known (a frame
   * header announcing it, or the inflater's output passing it). Default
   * 100 MiB (ws's maxPayload).
   */
  readonly maxMessageSize?: number;
  /**
   * Messages up to this many bytes are delivered whole (`text` / `binary`
   * events); a message that grows past it is delivered in pieces
   * (`message-piece` events) as its bytes arrive, without being buffered
   * whole. Default Infinity (always whole).
   */
  readonly streamOver?: number;
  /** Answer each ping with a pong automatically (RFC 6455 section 5.5.2). Default true. */
  readonly autoPong?: boolean;
  /**
   * Random bytes for the client's key and masking keys (RFC 6455 section
   * 5.3: "derived from a strong source of entropy"). Default:
   * `crypto.getRandomValues`.
   */
  readonly random?: RandomSource;
  /**
   * A fast whole-buffer UTF-8 check for large text pieces (the Node adapter
   * passes `node:buffer`'s `isUtf8`); the incremental validator still
   * decides where a failure is. Default: the portable validator alone.
   */
  readonly utf8Check?: Utf8Check;
  /**
   * Most unconsumed input bytes held (the Source's cap; payloads are
   * consumed as they arrive, so this only bounds what the driver feeds
   * without polling). Default 16 MiB.
   */
  readonly maxBuffered?: number;
  /** See the Session's `coalesce` option (joining small queued frames into one write). Default 16 KiB. */
  readonly coalesce?: number;
  /**
   * Allocates the buffers of large messages (over 8 KiB; smaller ones come
   * from a shared slab). Default `new Uint8Array(n)`, which zeroes them. The
   * Node adapter passes `Buffer.allocUnsafe` (no zeroing, as ws does): the
   * connection writes every byte of a message before handing it out, but a
   * message buffer that grew may hold stale bytes past the message's end.
   */
  readonly allocate?: Allocate;
}

export interface ClientOptions extends ConnectionOptions, ClientHandshakeOptions {
  /** Limits for the response head. */
  readonly head?: HeadOptions;
}

export interface ServerOptions extends ConnectionOptions, ServerHandshakeOptions {
  /** Limits for the request head (default 16 KiB, 100 fields). */
  readonly head?: HeadOptions;
}

/** For {@link WebSocketConnection.open}: a connection whose handshake happened elsewhere. */
export interface OpenOptions extends ConnectionOptions {
  /** The agreed permessage-deflate parameters, or null / undefined for none. */
  readonly deflate?: DeflateParams | null;
  /** Options of the deflate runtime (codec, level, threshold). */
  readonly deflateOptions?: PerMessageDeflateOptions;
  readonly protocol?: string;
}

export interface SendOptions {
  /** Binary (true) or text (false) message. Default: text for a string, binary for bytes. Ignored after the first fragment. */
  readonly binary?: boolean;
  /**
   * False sends a fragment: the message goes on with the next `send`
   * (RFC 6455 section 5.4), and control frames may go in between. Default true.
   */
  readonly fin?: boolean;
  /** Compress with permessage-deflate when negotiated (default: when the message reaches the threshold). Decided on the first fragment. */
  readonly compress?: boolean;
}

export type ConnectionState = 'connecting' | 'open' | 'closing' | 'closed';

const DEFAULT_MAX_MESSAGE = 100 * 1024 * 1024;
/** Messages up to this size get their buffer allocated at once from the frame header; larger ones grow as bytes arrive (a header alone cannot make us allocate much). */
const EXACT_ALLOCATION = 4 * 1024 * 1024;
const EMPTY = new Uint8Array(0);
/** Random bytes asked for at a time for masking keys (1024 keys; ws pools 8 KiB of randomness for the same purpose). */
const MASK_POOL = 4096;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Default random source: the Web Crypto API (Node >= 19, browsers, Deno, Bun). */
export function defaultRandom(n: number): Uint8Array {
  const c = (globalThis as { crypto?: { getRandomValues<T extends Uint8Array>(a: T): T } }).crypto;
  if (c === undefined) throw new UsageError('no crypto.getRandomValues here: pass a random source');
  return c.getRandomValues(new Uint8Array(n));
}

const defaultCodec = (): DeflateCodec => fflateCodec;

/**
 * A WebSocket connection. Create one with {@link WebSocketConnection.client},
 * {@link WebSocketConnection.server}, {@link WebSocketConnection.serverFromRequest}
 * or {@link WebSocketConnection.open}; see the module documentation for the
 * driver contract.
 */
export class WebSocketConnection {
  readonly role: 'client' | 'server';
  private readonly session: Session<WebSocketEvent>;
  private readonly maxMessage: number;
  private readonly streamOver: number;
  private readonly autoPong: boolean;
  private readonly random: RandomSource;
  private readonly utf8Check: Utf8Check | undefined;
  private readonly allocate: Allocate | undefined;
  private stateValue: ConnectionState = 'connecting';
  private headerParser: FrameHeaderParser;
  private deflate: PerMessageDeflate | null = null;
  private protocolValue: string | undefined = undefined;
  private extensionsValue = '';
  /** The failure already reported (a session-level error after the phases). */
  private reportedEnd = false;

  // ---- receiving: the message in progress
  /** 0: none; OP_TEXT / OP_BINARY: a fragmented message is in progress. */
  private msgOpcode = 0;
  private msgCompressed = false;
  /** Payload bytes of the message so far (decompressed). */
  private msgSize = 0;
  /** Wire bytes of the message so far (compressed). */
  private msgWire = 0;
  /** Delivering this message in pieces. */
  private msgStreaming = false;
  private msgFirstPiece = true;
  private buf: Uint8Array = EMPTY;
  private bufLen = 0;
  private readonly validator: Utf8Validator;
  /** Pieces produced by the inflater during one decompress call. */
  private readonly inflated: Uint8Array[] = [];
  /** The last piece of a streamed message, held until finishMessage sends it with `fin`. */
  private pendingLast: Uint8Array | null = null;

  // ---- sending
  private sendOpcode = 0; // the fragmented message being sent (0: none)
  private sendCompressed = false;
  private sentClose: SentClose | null = null;
  private closeInitiator: 'local' | 'remote' | 'none' = 'none';
  private maskPool: Uint8Array = EMPTY;
  private maskAt = 0;

  /** `build` makes the first phase (it needs the connection, hence a function). */
  private constructor(role: 'client' | 'server', options: ConnectionOptions, build: (c: WebSocketConnection) => Phase<WebSocketEvent>) {
    this.role = role;
    this.maxMessage = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE;
    this.streamOver = options.streamOver ?? Infinity;
    this.autoPong = options.autoPong ?? true;
    this.random = options.random ?? defaultRandom;
    this.utf8Check = options.utf8Check;
    this.allocate = options.allocate;
    this.validator = new Utf8Validator(this.utf8Check);
    this.headerParser = this.makeHeaderParser(false);
    const sessionOptions: { maxBuffered?: number; coalesce?: number } = {};
    if (options.maxBuffered !== undefined) sessionOptions.maxBuffered = options.maxBuffered;
    if (options.coalesce !== undefined) sessionOptions.coalesce = options.coalesce;
    this.session = new Session<WebSocketEvent>(build(this), sessionOptions);
  }

  // ---------------------------------------------------------------- construction

  /** A client: its first poll returns the opening request (need-write); then it reads the server's answer. */
  static client(options: ClientOptions): WebSocketConnection {
    return new WebSocketConnection('client', options, (c) => c.clientHandshake(options));
  }

  /** A server that reads the client's opening request from its input. */
  static server(options: ServerOptions = {}): WebSocketConnection {
    return new WebSocketConnection('server', options, (c) => c.serverHandshake(options));
  }

  /**
   * A server for a request another HTTP parser already read (Node's
   * http.Server 'upgrade' event): its first poll returns the 101 response
   * (or the refusal). Feed the bytes that followed the request head (Node's
   * `head` argument) with `receive` before polling for frames.
   */
  static serverFromRequest(request: RequestHead, options: ServerOptions = {}): WebSocketConnection {
    return new WebSocketConnection('server', options, (c) =>
      phase<WebSocketEvent>('websocket server handshake', (io) => c.answerRequest(io, request, options), { holdOutput: true }),
    );
  }

  /** A connection whose handshake happened elsewhere (tests, benchmarks, other transports): open at once, no `open` event. */
  static open(role: 'client' | 'server', options: OpenOptions = {}): WebSocketConnection {
    const c = new WebSocketConnection(role, options, (conn) => conn.framesPhase());
    const result: HandshakeResult = { protocol: options.protocol, deflate: options.deflate ?? null, extensions: '' };
    c.setOpen(result, options.deflateOptions ?? {});
    return c;
  }

  // ---------------------------------------------------------------- getters

  get state(): ConnectionState {
    return this.stateValue;
  }
  /** The agreed subprotocol. */
  get protocol(): string | undefined {
    return this.protocolValue;
  }
  /** The agreed Sec-WebSocket-Extensions value. */
  get extensions(): string {
    return this.extensionsValue;
  }
  /** The agreed permessage-deflate parameters, or null. */
  get deflateParams(): DeflateParams | null {
    return this.deflate === null ? null : this.deflate.params;
  }
  /** Bytes queued by commands and not yet handed out by `poll`. */
  get pendingOutput(): number {
    return this.session.pendingOutput;
  }
  /** The input Source (unconsumed bytes stay here after the connection is done). */
  get source(): Source {
    return this.session.source;
  }
  /**
   * Called when a command queued output while the driver may be waiting for
   * input (set by a driver to schedule a poll).
   */
  set onWake(fn: (() => void) | null) {
    this.session.onWake = fn;
  }

  // ---------------------------------------------------------------- input and output

  /** Feeds bytes from the transport (not copied). */
  receive(bytes: Uint8Array): void {
    this.session.receive(bytes);
  }

  /** The transport's read side closed: no more input. */
  end(): void {
    this.session.end();
  }

  /** The next thing for the driver: need-write, event, need-read or done. */
  poll(): WebSocketPollResult {
    for (;;) {
      const r = this.session.poll();
      switch (r.type) {
        case 'switched':
          continue;
        case 'error': {
          // A failure outside the phases' own handling (the driver fed more than maxBuffered).
          if (this.reportedEnd) return { type: 'done' };
          this.reportedEnd = true;
          const wasOpen = this.stateValue !== 'connecting';
          this.stateValue = 'closed';
          const event: WebSocketEvent = wasOpen
            ? this.closeEvent(1006, '', false, r.error)
            : {
                type: 'handshake-failed',
                error: new WebSocketError('ERR_WS_ABNORMAL_CLOSURE', r.error.message),
                status: 0,
                response: undefined,
              };
          return { type: 'event', event };
        }
        default:
          return r;
      }
    }
  }

  // ---------------------------------------------------------------- commands

  /**
   * Sends a message (or a fragment of one, with `fin: false`). A string is
   * sent as UTF-8 text, bytes as binary, unless `binary` says otherwise.
   * The bytes are not copied when they go out unmasked (a server's frames):
   * do not modify them until the need-write that carries them was written.
   */
  send(data: Uint8Array | string, options: SendOptions = {}): void {
    this.checkOpen('send');
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    const fin = options.fin ?? true;
    let opcode: number;
    let rsv = 0;
    if (this.sendOpcode === 0) {
      opcode = (options.binary ?? typeof data !== 'string') ? OP_BINARY : OP_TEXT;
      const d = this.deflate;
      this.sendCompressed = d !== null && (options.compress ?? (bytes.length >= d.threshold || !fin));
      if (this.sendCompressed) rsv = RSV1;
      if (!fin) this.sendOpcode = opcode;
    } else {
      opcode = OP_CONTINUATION;
      if (fin) this.sendOpcode = 0;
    }
    const payload = this.sendCompressed ? this.deflate!.compress(bytes, fin) : bytes;
    this.writeFrame(fin, rsv, opcode, payload);
  }

  /** Sends a text message. */
  sendText(text: string): void {
    this.send(text);
  }

  /** Sends a binary message. */
  sendBinary(data: Uint8Array): void {
    this.send(data);
  }

  /** Sends a ping (at most 125 bytes of data). */
  ping(data: Uint8Array | string = EMPTY): void {
    this.checkOpen('ping');
    this.writeControl(OP_PING, typeof data === 'string' ? encoder.encode(data) : data);
  }

  /** Sends a pong (an unsolicited heartbeat, or the answer to a ping when autoPong is off). */
  pong(data: Uint8Array | string = EMPTY): void {
    this.checkOpen('pong');
    this.writeControl(OP_PONG, typeof data === 'string' ? encoder.encode(data) : data);
  }

  /**
   * Starts the closing handshake (RFC 6455 section 7.1.2): sends a close
   * frame with `code` (1000, 1001, ... or 3000-4999; undefined sends a close
   * frame without a status) and a reason of at most 123 bytes of UTF-8. Then
   * no more frames are sent; the connection keeps reading until the peer's
   * close frame arrives (a `close` event, then done). A second call does
   * nothing.
   */
  close(code: number | undefined = 1000, reason = ''): void {
    if (this.stateValue === 'connecting') throw new UsageError('close() before the handshake completed: end the transport instead');
    if (this.sentClose !== null || this.stateValue === 'closed') return;
    const payload = closePayload(code, reason);
    this.closeInitiator = 'local';
    this.sentClose = { code: code ?? 1005, reason };
    this.stateValue = 'closing';
    this.writeFrame(true, 0, OP_CLOSE, payload);
  }

  private checkOpen(what: string): void {
    if (this.stateValue !== 'open') throw new UsageError(`${what}() while the connection is ${this.stateValue}`);
  }

  private writeControl(op: number, data: Uint8Array): void {
    if (data.length > MAX_CONTROL_PAYLOAD)
      throw new UsageError(`control frame data of ${data.length} bytes (at most ${MAX_CONTROL_PAYLOAD})`);
    this.writeFrame(true, 0, op, data);
  }

  private writeFrame(fin: boolean, rsv: number, opcode: number, payload: Uint8Array): void {
    if (this.role === 'client') {
      this.session.send(encodeFrame({ fin, rsv, opcode, payload, mask: this.nextMask() }));
      return;
    }
    for (const part of encodeFrameParts({ fin, rsv, opcode, payload })) this.session.send(part);
  }

  /** The frame bytes for a phase to write directly (close replies, pongs). */
  private frameBytes(opcode: number, payload: Uint8Array): Uint8Array {
    return encodeFrame({ opcode, payload, mask: this.role === 'client' ? this.nextMask() : undefined });
  }

  /** A masking key from the random source (read MASK_POOL bytes at a time). */
  private nextMask(): number {
    if (this.maskAt + 4 > this.maskPool.length) {
      this.maskPool = this.random(MASK_POOL);
      this.maskAt = 0;
      if (this.maskPool.length < 4) throw new UsageError('the random source returned too few bytes');
    }
    const b = this.maskPool;
    const i = this.maskAt;
    this.maskAt = i + 4;
    return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
  }

  // ---------------------------------------------------------------- handshake phases

  private makeHeaderParser(rsv1: boolean): FrameHeaderParser {
    return new FrameHeaderParser({
      receiver: this.role,
      allowedRsv: rsv1 ? RSV1 : 0,
      maxPayload: this.maxMessage,
    });
  }

  private setOpen(result: HandshakeResult, deflateOptions: PerMessageDeflateOptions): void {
    this.protocolValue = result.protocol;
    this.extensionsValue = result.extensions;
    if (result.deflate !== null) {
      this.deflate = new PerMessageDeflate(result.deflate, this.role, deflateOptions, defaultCodec);
      this.headerParser = this.makeHeaderParser(true);
    }
    this.stateValue = 'open';
  }

  private openEvent(result: HandshakeResult, head: RequestHead | ResponseHead): OpenEvent {
    return { type: 'open', protocol: result.protocol, extensions: result.extensions, deflate: result.deflate, head };
  }

  private clientHandshake(options: ClientOptions): Phase<WebSocketEvent> {
    return phase<WebSocketEvent>(
      'websocket client handshake',
      (io) => {
        const hs = buildClientRequest(options, this.random, defaultCodec);
        return this.runClientHandshake(io, hs, options);
      },
      { holdOutput: true },
    );
  }

  private *runClientHandshake(io: PhaseIO<WebSocketEvent>, hs: ClientHandshake, options: ClientOptions): PhaseGen<WebSocketEvent> {
    yield* io.write(hs.request);
    let response: ResponseHead;
    try {
      response = yield* io.read(parseResponseHead(options.head ?? {}));
    } catch (e) {
      let error: WebSocketError;
      if (e instanceof HttpError) error = new WebSocketError('ERR_WS_HANDSHAKE_HTTP', `${e.code}: ${e.message}`, e.offset);
      else if (e instanceof ParseError)
        error = new WebSocketError('ERR_WS_ABNORMAL_CLOSURE', `${e.code} while reading the response head`, e.offset);
      else throw e;
      this.stateValue = 'closed';
      yield* io.emit({ type: 'handshake-failed', error, status: 0, response: undefined });
      return null;
    }
    let result: HandshakeResult;
    try {
      result = checkServerResponse(response, hs, defaultCodec);
    } catch (e) {
      if (!(e instanceof WebSocketError)) throw e;
      this.stateValue = 'closed';
      yield* io.emit({ type: 'handshake-failed', error: e, status: response.status, response });
      return null;
    }
    this.setOpen(result, hs.deflate ?? {});
    yield* io.emit(this.openEvent(result, response));
    return this.framesPhase();
  }

  private serverHandshake(options: ServerOptions): Phase<WebSocketEvent> {
    const headParser = parseRequestHead(options.head ?? {});
    return phase<WebSocketEvent>('websocket server handshake', (io) => this.readRequest(io, headParser, options), { holdOutput: true });
  }

  private *readRequest(io: PhaseIO<WebSocketEvent>, headParser: Parser<RequestHead>, options: ServerOptions): PhaseGen<WebSocketEvent> {
    let request: RequestHead;
    try {
      request = yield* io.read(headParser);
    } catch (e) {
      // A malformed head gets the HTTP error's status (400, 431, 505).
      if (e instanceof HttpError)
        return yield* this.reject(io, new WebSocketError('ERR_WS_HTTP', `${e.code}: ${e.message}`, e.offset, e.status));
      if (e instanceof ParseError) {
        this.stateValue = 'closed';
        const error = new WebSocketError('ERR_WS_ABNORMAL_CLOSURE', `${e.code} while reading the request head`, e.offset);
        yield* io.emit({ type: 'handshake-failed', error, status: 0, response: undefined });
        return null;
      }
      throw e;
    }
    return yield* this.answerRequest(io, request, options);
  }

  private *answerRequest(io: PhaseIO<WebSocketEvent>, request: RequestHead, options: ServerOptions): PhaseGen<WebSocketEvent> {
    let acceptance: ReturnType<typeof acceptClientRequest>;
    try {
      const info = checkClientRequest(request);
      const verdict = options.verify?.(request) ?? true;
      if (verdict !== true) {
        const error = new WebSocketError('ERR_WS_REJECTED', `${verdict.status}`, -1, verdict.status);
        return yield* this.reject(io, error, rejectionResponse(verdict));
      }
      acceptance = acceptClientRequest(request, info, options, defaultCodec);
    } catch (e) {
      if (e instanceof WebSocketError) return yield* this.reject(io, e);
      throw e;
    }
    this.setOpen(acceptance, typeof options.perMessageDeflate === 'object' ? options.perMessageDeflate : {});
    yield* io.write(acceptance.response);
    yield* io.emit(this.openEvent(acceptance, request));
    return this.framesPhase();
  }

  private *reject(io: PhaseIO<WebSocketEvent>, error: WebSocketError, response?: Uint8Array): PhaseGen<WebSocketEvent> {
    this.stateValue = 'closed';
    yield* io.write(response ?? rejectionResponse({ status: error.status }));
    yield* io.emit({ type: 'handshake-failed', error, status: error.status, response: undefined });
    return null;
  }

  // ---------------------------------------------------------------- the frames phase

  private framesPhase(): Phase<WebSocketEvent> {
    return phase<WebSocketEvent>('websocket frames', (io) => this.readFrames(io));
  }

  /**
   * The frame loop. Hot path: a complete single-frame message (or control
   * frame) already in the current input chunk is handled inline, with no
   * sub-generator; everything else goes through `readData` /
   * `readControl`, which consume payloads piece by piece as they arrive.
   */
  private *readFrames(io: PhaseIO<WebSocketEvent>): PhaseGen<WebSocketEvent> {
    const src = io.source;
    try {
      for (;;) {
        let h = this.headerParser.readFast(src);
        while (h === INCOMPLETE) {
          if (src.ended) return yield* this.transportEnded(io);
          yield* io.more();
          h = this.headerParser.readFast(src);
        }
        const op = h.opcode;
        const n = h.length;
        if (op >= OP_CLOSE) {
          const payload = yield* this.readControl(io, h);
          if (op === OP_CLOSE) return yield* this.handleClose(io, payload);
          if (op === OP_PING) {
            if (this.autoPong && this.sentClose === null) yield* io.write(this.frameBytes(OP_PONG, payload));
            yield* io.emit({ type: 'ping', data: payload });
          } else {
            yield* io.emit({ type: 'pong', data: payload });
          }
          continue;
        }
        // The common case: a whole unfragmented, uncompressed message inside the current chunk.
        const o = src.off;
        if (h.fin && op !== OP_CONTINUATION && h.rsv === 0 && this.msgOpcode === 0 && o + n <= src.lim && n <= this.streamOver) {
          const b = src.buf;
          let data: Uint8Array;
          if (h.masked) {
            data = allocBytes(n, this.allocate);
            maskCopyFrom(b, o, n, data, 0, h.maskKey);
          } else {
            data = b.subarray(o, o + n);
          }
          src.off = o + n;
          if (src.off === b.length) src.advance();
          if (op === OP_TEXT) {
            const v = this.validator;
            v.reset();
            const bad = v.update(data);
            if (bad !== -1 || !v.complete)
              throw new WebSocketError('ERR_WS_INVALID_UTF8', 'in a text message', bad === -1 ? src.position : src.position - n + bad);
            yield* io.emit(new TextMessage(data));
          } else {
            yield* io.emit({ type: 'binary', data });
          }
          continue;
        }
        yield* this.readData(io, h);
      }
    } catch (e) {
      if (e instanceof WebSocketError) return yield* this.fail(io, e);
      if (e instanceof ParseError && e.code === 'ERR_UNEXPECTED_END') return yield* this.transportEnded(io);
      throw e;
    }
  }

  /** A control frame's payload (at most 125 bytes), whole and unmasked. */
  private *readControl(
    io: PhaseIO<WebSocketEvent>,
    h: FrameHeader,
  ): Generator<NeedRead | NeedWrite | EventResult<WebSocketEvent>, Uint8Array, undefined> {
    const src = io.source;
    const n = h.length;
    while (src.available < n) {
      src.needed = n - src.available;
      yield* io.more();
    }
    const p = io.take(n) as Uint8Array;
    if (!h.masked) return p;
    const out = allocBytes(n, this.allocate);
    maskCopyFrom(p, 0, n, out, 0, h.maskKey);
    return out;
  }

  /** A data frame: fragmentation rules, then the payload piece by piece. */
  private *readData(
    io: PhaseIO<WebSocketEvent>,
    h: FrameHeader,
  ): Generator<NeedRead | NeedWrite | EventResult<WebSocketEvent>, void, undefined> {
    const src = io.source;
    const at = src.position;
    if (h.opcode === OP_CONTINUATION) {
      // RFC 6455 section 5.4: a continuation needs a fragmented message in progress.
      if (this.msgOpcode === 0) throw new WebSocketError('ERR_WS_UNEXPECTED_CONTINUATION', '', at - h.headerSize);
      // RFC 7692 section 6.1: RSV1 only on the first frame of a message.
      if ((h.rsv & RSV1) !== 0) throw new WebSocketError('ERR_WS_RESERVED_BITS', 'RSV1 on a continuation frame', at - h.headerSize);
    } else {
      if (this.msgOpcode !== 0) throw new WebSocketError('ERR_WS_EXPECTED_CONTINUATION', '', at - h.headerSize);
      this.startMessage(h.opcode, (h.rsv & RSV1) !== 0);
    }
    const n = h.length;
    // Fail as soon as the header says the message will be too big.
    if (this.msgCompressed) {
      this.msgWire += n;
      if (this.msgWire > this.maxMessage)
        throw new WebSocketError('ERR_WS_MESSAGE_TOO_BIG', `more than ${this.maxMessage} compressed bytes`, at - h.headerSize);
    } else if (this.msgSize + n > this.maxMessage) {
      throw new WebSocketError('ERR_WS_MESSAGE_TOO_BIG', `${this.msgSize + n} bytes, at most ${this.maxMessage}`, at - h.headerSize);
    }
    let left = n;
    let phase = 0;
    while (left > 0) {
      if (src.off === src.buf.length) src.advance();
      const avail = src.lim - src.off;
      if (avail === 0) {
        src.needed = left;
        yield* io.more();
        continue;
      }
      const k = avail < left ? avail : left;
      const view = io.take(k) as Uint8Array; // inside the current chunk: a view
      left -= k;
      if (this.msgCompressed) {
        let data = view;
        if (h.masked) {
          data = allocBytes(k, this.allocate);
          phase = maskCopyFrom(view, 0, k, data, 0, h.maskKey, phase);
        }
        this.deflate!.decompress(data, this.maxMessage, (out) => this.inflated.push(out));
        yield* this.acceptInflated(io);
      } else if (this.msgStreaming || this.msgSize + k > this.streamOver) {
        yield* this.acceptPiece(io, view, h.masked, h.maskKey, phase, left, h.fin);
        phase = (phase + k) & 3;
      } else {
        // Whole-message mode needs no yield per piece: a plain call.
        this.appendPlain(view, h.masked, h.maskKey, phase, left, src.position - k);
        phase = (phase + k) & 3;
      }
    }
    if (!h.fin) {
      this.headerParser.maxPayload = this.maxMessage - (this.msgCompressed ? this.msgWire : this.msgSize);
      return;
    }
    if (this.msgCompressed || this.msgStreaming) {
      yield* this.finishMessage(io);
      return;
    }
    // An uncompressed message delivered whole: finish it here (no sub-generator).
    const text = this.msgOpcode === OP_TEXT;
    if (text && !this.validator.complete)
      throw new WebSocketError('ERR_WS_INVALID_UTF8', 'the text message ends inside a UTF-8 sequence', src.position);
    const data = this.buf.length === this.bufLen ? this.buf : this.buf.subarray(0, this.bufLen);
    this.endMessage();
    yield* io.emit(text ? new TextMessage(data) : { type: 'binary', data });
  }

  /** The message is delivered: back to waiting for a new one. */
  private endMessage(): void {
    this.msgOpcode = 0;
    this.buf = EMPTY;
    this.bufLen = 0;
    this.msgSize = 0;
    this.headerParser.maxPayload = this.maxMessage;
  }

  private startMessage(opcode: number, compressed: boolean): void {
    this.msgOpcode = opcode;
    this.msgCompressed = compressed;
    this.msgSize = 0;
    this.msgWire = 0;
    this.msgStreaming = false;
    this.msgFirstPiece = true;
    this.bufLen = 0;
    this.validator.reset();
  }

  /**
   * Uncompressed payload bytes (a view of the input) of a message delivered
   * whole: copied into the message buffer (unmasked in the same pass), then
   * validated there if it is text. `at` is the input offset of the view.
   */
  private appendPlain(view: Uint8Array, masked: boolean, key: number, phase: number, leftInFrame: number, at: number): void {
    const k = view.length;
    this.msgSize += k;
    const o = this.bufLen;
    this.reserve(o + k, o + k + leftInFrame);
    const buf = this.buf;
    if (masked) maskCopyFrom(view, 0, k, buf, o, key, phase);
    else buf.set(view, o);
    this.bufLen = o + k;
    this.checkText(buf, o, o + k, at);
  }

  /**
   * Uncompressed payload bytes of a message delivered in pieces (or growing
   * past `streamOver` now): validated, then delivered as a piece (a view of
   * the input when unmasked, else an unmasked copy).
   */
  private *acceptPiece(
    io: PhaseIO<WebSocketEvent>,
    view: Uint8Array,
    masked: boolean,
    key: number,
    phase: number,
    leftInFrame: number,
    fin: boolean,
  ): Generator<NeedRead | NeedWrite | EventResult<WebSocketEvent>, void, undefined> {
    const k = view.length;
    this.msgSize += k;
    if (!this.msgStreaming) yield* this.startStreaming(io);
    let data = view;
    if (masked) {
      data = allocBytes(k, this.allocate);
      maskCopyFrom(view, 0, k, data, 0, key, phase);
    }
    this.checkText(data, 0, k, io.source.position - k);
    // The last piece goes out from finishMessage, with fin set.
    if (leftInFrame > 0 || !fin) yield* io.emit(this.piece(data, false));
    else this.pendingLast = data;
  }

  /** Decompressed output collected in `inflated`: validate and buffer or deliver. */
  private *acceptInflated(io: PhaseIO<WebSocketEvent>): Generator<NeedRead | NeedWrite | EventResult<WebSocketEvent>, void, undefined> {
    const list = this.inflated;
    for (let i = 0; i < list.length; i++) {
      const out = list[i]!;
      list[i] = EMPTY;
      this.msgSize += out.length;
      if (!this.msgStreaming && this.msgSize > this.streamOver) yield* this.startStreaming(io);
      this.checkText(out, 0, out.length, io.source.position);
      if (this.msgStreaming) {
        yield* io.emit(this.piece(out, false));
      } else {
        const at = this.bufLen;
        this.reserve(at + out.length, at + out.length);
        this.buf.set(out, at);
        this.bufLen = at + out.length;
      }
    }
    list.length = 0;
  }

  /** Switches the message in progress to pieces: what was buffered goes out as the first piece. */
  private *startStreaming(io: PhaseIO<WebSocketEvent>): Generator<NeedRead | NeedWrite | EventResult<WebSocketEvent>, void, undefined> {
    this.msgStreaming = true;
    if (this.bufLen > 0) {
      const data = this.buf.subarray(0, this.bufLen);
      this.buf = EMPTY;
      this.bufLen = 0;
      yield* io.emit(this.piece(data, false));
    }
  }

  private piece(data: Uint8Array, fin: boolean): MessagePiece {
    const first = this.msgFirstPiece;
    this.msgFirstPiece = false;
    return { type: 'message-piece', binary: this.msgOpcode === OP_BINARY, data, first, fin };
  }

  /** Text validation of `b[start..end)`, failing at the first invalid byte (`at` is the input offset of `b[start]`, for the error). */
  private checkText(b: Uint8Array, start: number, end: number, at: number): void {
    if (this.msgOpcode !== OP_TEXT) return;
    const bad = this.validator.update(b, start, end);
    if (bad !== -1) throw new WebSocketError('ERR_WS_INVALID_UTF8', 'in a text message', at + (bad - start));
  }

  /**
   * Grows the message buffer to hold `need` bytes; `hint` is what the current
   * frame announced (a bound the message reaches if the frame completes).
   * Up to 4 MiB the announced size is allocated at once (one copy of the
   * payload, no regrowth); beyond, the buffer starts at 4 MiB and doubles as
   * bytes actually arrive, so a header alone cannot make us allocate much.
   * Growth is geometric across fragments.
   */
  private reserve(need: number, hint: number): void {
    const have = this.buf.length;
    if (need <= have) return;
    const size = Math.min(Math.max(need, have * 2, Math.min(hint, EXACT_ALLOCATION)), Math.max(need, this.maxMessage));
    const next = allocBytes(size, this.allocate);
    if (this.bufLen > 0) next.set(this.buf.subarray(0, this.bufLen));
    this.buf = next;
  }

  /** The final frame of a message arrived: finish decompression and UTF-8, deliver. */
  private *finishMessage(io: PhaseIO<WebSocketEvent>): Generator<NeedRead | NeedWrite | EventResult<WebSocketEvent>, void, undefined> {
    if (this.msgCompressed) {
      this.deflate!.finishMessage(this.maxMessage, (out) => this.inflated.push(out));
      yield* this.acceptInflated(io);
    }
    const text = this.msgOpcode === OP_TEXT;
    if (text && !this.validator.complete)
      throw new WebSocketError('ERR_WS_INVALID_UTF8', 'the text message ends inside a UTF-8 sequence', io.source.position);
    let event: WebSocketEvent;
    if (this.msgStreaming) {
      const last = this.pendingLast ?? EMPTY;
      this.pendingLast = null;
      event = this.piece(last, true);
    } else {
      const data = this.buf.length === this.bufLen ? this.buf : this.buf.subarray(0, this.bufLen);
      event = text ? new TextMessage(data) : { type: 'binary', data };
    }
    this.endMessage();
    yield* io.emit(event);
  }

  /** A close frame arrived (RFC 6455 section 5.5.1): check it, answer it, report, and stop reading. */
  private *handleClose(io: PhaseIO<WebSocketEvent>, payload: Uint8Array): PhaseGen<WebSocketEvent> {
    let code = 1005;
    let reason = '';
    if (payload.length === 1) throw new WebSocketError('ERR_WS_BAD_CLOSE_PAYLOAD', '', io.source.position - 1);
    if (payload.length >= 2) {
      code = (payload[0]! << 8) | payload[1]!;
      if (!isValidCloseCode(code)) throw new WebSocketError('ERR_WS_INVALID_CLOSE_CODE', `${code}`, io.source.position - payload.length);
      const r = payload.subarray(2);
      const v = new Utf8Validator();
      const bad = v.update(r);
      if (bad !== -1 || !v.complete)
        throw new WebSocketError('ERR_WS_INVALID_UTF8', 'in the close reason', io.source.position - r.length + Math.max(0, bad));
      reason = decoder.decode(r);
    }
    if (this.sentClose === null) {
      // Section 5.5.1: answer with a close frame, typically echoing the status code.
      this.closeInitiator = 'remote';
      this.sentClose = { code, reason: '' };
      yield* io.write(this.frameBytes(OP_CLOSE, code === 1005 ? EMPTY : closePayload(code, '')));
    }
    this.abortMessage();
    this.stateValue = 'closed';
    yield* io.emit(this.closeEvent(code, reason, true, null));
    return null;
  }

  /**
   * _Fail the WebSocket Connection_ (section 7.1.7): send a close frame with
   * the error's status code (unless one was sent already), report, and stop
   * reading.
   */
  private *fail(io: PhaseIO<WebSocketEvent>, error: WebSocketError): PhaseGen<WebSocketEvent> {
    if (this.sentClose === null) {
      this.sentClose = { code: error.closeCode, reason: '' };
      yield* io.write(this.frameBytes(OP_CLOSE, closePayload(error.closeCode, '')));
    }
    this.abortMessage();
    this.stateValue = 'closed';
    yield* io.emit(this.closeEvent(1006, '', false, error));
    return null;
  }

  /** The transport ended before a close frame arrived: an abnormal closure (1006, section 7.1.5). */
  private *transportEnded(io: PhaseIO<WebSocketEvent>): PhaseGen<WebSocketEvent> {
    this.abortMessage();
    this.stateValue = 'closed';
    const error = new WebSocketError('ERR_WS_ABNORMAL_CLOSURE', '', io.source.position);
    yield* io.emit(this.closeEvent(1006, '', false, error));
    return null;
  }

  private abortMessage(): void {
    this.msgOpcode = 0;
    this.buf = EMPTY;
    this.bufLen = 0;
    this.pendingLast = null;
    this.inflated.length = 0;
    this.deflate?.abortMessage();
  }

  private closeEvent(code: number, reason: string, wasClean: boolean, error: PullwireError | null): CloseEvent {
    this.reportedEnd = true;
    return { type: 'close', code, reason, wasClean, initiator: this.closeInitiator, sent: this.sentClose, error };
  }
}

/** The payload of a close frame: status code and UTF-8 reason (RFC 6455 section 5.5.1), checked. */
export function closePayload(code: number | undefined, reason: string): Uint8Array {
  if (code === undefined) {
    if (reason !== '') throw new UsageError('a close reason needs a status code');
    return EMPTY;
  }
  if (!Number.isInteger(code) || !isValidCloseCode(code)) throw new UsageError(`close code ${code} may not be sent (RFC 6455 section 7.4)`);
  const r = encoder.encode(reason);
  if (r.length > MAX_CONTROL_PAYLOAD - 2) throw new UsageError(`close reason of ${r.length} bytes (at most ${MAX_CONTROL_PAYLOAD - 2})`);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}
