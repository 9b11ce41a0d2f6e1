/**
 * What a WebSocket connection reports to the application: one discriminated
 * union, matched exhaustively on `type`.
 *
 * Byte views are borrowed like every view pullwire hands out: `data` may be
 * a view of a buffer given to `receive()` (an unmasked message that arrived
 * inside one buffer), valid as long as that buffer is not modified. Copy it
 * (`.slice()`) to keep it beyond that.
 */
import type { PullwireError } from '../combinators/index.js';
import type { RequestHead, ResponseHead } from '../miniproto/http1.js';
import type { DeflateParams } from './deflate.js';
import type { WebSocketError } from './errors.js';

/** The opening handshake completed: messages may flow. */
export interface OpenEvent {
  readonly type: 'open';
  /** The subprotocol both sides agreed on, if any. */
  readonly protocol: string | undefined;
  /** The agreed Sec-WebSocket-Extensions value ('' for none). */
  readonly extensions: string;
  /** The agreed permessage-deflate parameters, or null. */
  readonly deflate: DeflateParams | null;
  /** The client's request (server side) or the server's response (client side), when this connection ran the handshake. */
  readonly head: RequestHead | ResponseHead | undefined;
}

const decoder = new TextDecoder();

/** A whole text message. `data` is valid UTF-8 (checked before the event); `text` decodes it (once, on first use). */
export class TextMessage {
  readonly type: 'text';
  readonly data: Uint8Array;
  private decoded: string | undefined;
  constructor(data: Uint8Array) {
    this.type = 'text';
    this.data = data;
    this.decoded = undefined;
  }
  get text(): string {
    if (this.decoded === undefined) this.decoded = decoder.decode(this.data);
    return this.decoded;
  }
}

/** A whole binary message. */
export interface BinaryMessage {
  readonly type: 'binary';
  readonly data: Uint8Array;
}

/**
 * A piece of a message delivered in pieces (see the `streamOver` option):
 * pieces arrive in order, the first has `first`, the last has `fin`. Text
 * pieces are validated as they arrive (the bytes so far are a valid prefix)
 * but a piece may end inside a UTF-8 sequence; decode them with a streaming
 * `TextDecoder` if needed.
 */
export interface MessagePiece {
  readonly type: 'message-piece';
  readonly binary: boolean;
  readonly data: Uint8Array;
  readonly first: boolean;
  readonly fin: boolean;
}

/** A ping arrived (answered automatically unless `autoPong` is false). */
export interface PingEvent {
  readonly type: 'ping';
  readonly data: Uint8Array;
}

/** A pong arrived. */
export interface PongEvent {
  readonly type: 'pong';
  readonly data: Uint8Array;
}

/** A close frame this endpoint sent. */
export interface SentClose {
  /** The status code sent, or 1005 when the frame carried none. */
  readonly code: number;
  readonly reason: string;
}

/**
 * The connection is closed; nothing more will be read or sent. The driver
 * closes the transport (a server at once; RFC 6455 section 7.1.1).
 */
export interface CloseEvent {
  readonly type: 'close';
  /**
   * RFC 6455 section 7.1.5: the status code of the peer's close frame, 1005
   * when it carried none, 1006 when no close frame was received (the
   * transport ended, or this endpoint failed the connection).
   */
  readonly code: number;
  /** The peer's close reason (section 7.1.6), '' if none. */
  readonly reason: string;
  /** True when both close frames were exchanged (section 7.1.4 "cleanly"). */
  readonly wasClean: boolean;
  /** Who started the closing handshake: 'remote' or 'local'; 'none' when the connection ended without one. */
  readonly initiator: 'local' | 'remote' | 'none';
  /** The close frame this endpoint sent, if any (on a failure: the error's status code). */
  readonly sent: SentClose | null;
  /** Why the connection failed: the peer's protocol violation, or the transport ending (ERR_WS_ABNORMAL_CLOSURE). Null for a clean close. */
  readonly error: PullwireError | null;
}

/** The opening handshake failed: no WebSocket connection was established. */
export interface HandshakeFailedEvent {
  readonly type: 'handshake-failed';
  readonly error: WebSocketError;
  /**
   * Server: the HTTP status it answered. Client: the server's status (0 when
   * the response could not be parsed or never came).
   */
  readonly status: number;
  /** Client: the server's response head, when one was parsed. */
  readonly response: ResponseHead | undefined;
}

export type WebSocketEvent =
  OpenEvent | TextMessage | BinaryMessage | MessagePiece | PingEvent | PongEvent | CloseEvent | HandshakeFailedEvent;
