/**
 * Errors of the WebSocket layer. One table lists every code with the close
 * status code the connection sends when the peer causes it (frames and
 * messages), or the HTTP status a server answers (opening handshake).
 *
 * A {@link WebSocketError} is the peer's fault: the connection turns it into
 * its answer (a close frame with `closeCode`, or an HTTP error response with
 * `status`) and reports it in the `close` / `handshake-failed` event. Misuse
 * of the API raises the combinators' `UsageError` from the call that misused
 * it. Branch on `code`, never on the message wording.
 */
import { ProtocolError } from '../miniproto/errors.js';

export const WS_ERROR_CODES = {
  // ---- frames (RFC 6455 section 5)
  ERR_WS_RESERVED_BITS: { close: 1002, status: 0, meaning: 'RSV1/RSV2/RSV3 set without an extension that defines it (section 5.2)' },
  ERR_WS_RESERVED_OPCODE: { close: 1002, status: 0, meaning: 'a reserved opcode (0x3-0x7, 0xB-0xF; section 5.2)' },
  ERR_WS_UNMASKED_FRAME: { close: 1002, status: 0, meaning: 'a server received an unmasked frame (section 5.1)' },
  ERR_WS_MASKED_FRAME: { close: 1002, status: 0, meaning: 'a client received a masked frame (section 5.1)' },
  ERR_WS_NON_MINIMAL_LENGTH: {
    close: 1002,
    status: 0,
    meaning: 'the payload length is not encoded in the minimal number of bytes (section 5.2)',
  },
  ERR_WS_LENGTH_HIGH_BIT: { close: 1002, status: 0, meaning: 'the 64-bit payload length has its most significant bit set (section 5.2)' },
  ERR_WS_CONTROL_TOO_LONG: { close: 1002, status: 0, meaning: 'a control frame with more than 125 bytes of payload (section 5.5)' },
  ERR_WS_CONTROL_FRAGMENTED: {
    close: 1002,
    status: 0,
    meaning: 'a control frame without FIN (section 5.5: control frames are never fragmented)',
  },
  ERR_WS_UNEXPECTED_CONTINUATION: {
    close: 1002,
    status: 0,
    meaning: 'a continuation frame with no fragmented message in progress (section 5.4)',
  },
  ERR_WS_EXPECTED_CONTINUATION: {
    close: 1002,
    status: 0,
    meaning: 'a new text/binary frame while a fragmented message is in progress (section 5.4)',
  },
  ERR_WS_BAD_CLOSE_PAYLOAD: { close: 1002, status: 0, meaning: 'a close frame with a 1-byte payload (section 5.5.1)' },
  ERR_WS_INVALID_CLOSE_CODE: { close: 1002, status: 0, meaning: 'a close frame with a status code not allowed on the wire (section 7.4)' },
  ERR_WS_INVALID_UTF8: { close: 1007, status: 0, meaning: 'a text message or close reason that is not valid UTF-8 (section 8.1)' },
  ERR_WS_MESSAGE_TOO_BIG: { close: 1009, status: 0, meaning: 'a message (decompressed) larger than maxMessageSize' },
  ERR_WS_DECOMPRESSION_FAILED: {
    close: 1007,
    status: 0,
    meaning: 'a compressed message is not valid DEFLATE data (RFC 7692 section 7.2.2)',
  },
  ERR_WS_ABNORMAL_CLOSURE: { close: 1006, status: 0, meaning: 'the transport ended before the closing handshake (section 7.1.5)' },
  // ---- opening handshake, server side (RFC 6455 section 4.2.1); `status` is the HTTP answer
  ERR_WS_HTTP: { close: 0, status: 400, meaning: 'the request head is not valid HTTP/1.1 (the status comes from the HTTP error)' },
  ERR_WS_METHOD: { close: 0, status: 405, meaning: 'the opening handshake is not a GET request' },
  ERR_WS_HTTP_VERSION: { close: 0, status: 400, meaning: 'the opening handshake is not HTTP/1.1 or later' },
  ERR_WS_HOST: { close: 0, status: 400, meaning: 'no (or more than one) Host header field' },
  ERR_WS_UPGRADE: { close: 0, status: 400, meaning: 'Upgrade does not name websocket, or Connection does not contain upgrade' },
  ERR_WS_KEY: { close: 0, status: 400, meaning: 'Sec-WebSocket-Key is missing, repeated, or not the base64 of 16 bytes' },
  ERR_WS_VERSION: { close: 0, status: 426, meaning: 'Sec-WebSocket-Version is not 13 (answered with 426 and the supported version)' },
  ERR_WS_REQUEST_BODY: { close: 0, status: 400, meaning: 'the opening handshake request has a body' },
  ERR_WS_BAD_EXTENSIONS: { close: 0, status: 400, meaning: 'Sec-WebSocket-Extensions does not follow the grammar of section 9.1' },
  ERR_WS_BAD_PROTOCOLS: { close: 0, status: 400, meaning: 'Sec-WebSocket-Protocol is not a list of tokens' },
  ERR_WS_REJECTED: { close: 0, status: 403, meaning: 'the application refused the request (the status is the application’s)' },
  // ---- opening handshake, client side (RFC 6455 section 4.1, "the client MUST _Fail the WebSocket Connection_")
  ERR_WS_HANDSHAKE_STATUS: { close: 0, status: 0, meaning: 'the server answered with a status other than 101' },
  ERR_WS_HANDSHAKE_UPGRADE: { close: 0, status: 0, meaning: 'the 101 response lacks Upgrade: websocket or Connection: upgrade' },
  ERR_WS_HANDSHAKE_ACCEPT: { close: 0, status: 0, meaning: 'Sec-WebSocket-Accept is missing or does not match the key' },
  ERR_WS_HANDSHAKE_EXTENSIONS: {
    close: 0,
    status: 0,
    meaning: 'the server accepted an extension that was not offered, or answered it wrongly',
  },
  ERR_WS_HANDSHAKE_PROTOCOL: { close: 0, status: 0, meaning: 'the server selected a subprotocol that was not offered' },
  ERR_WS_HANDSHAKE_HTTP: { close: 0, status: 0, meaning: 'the response head is not valid HTTP/1.1' },
} as const;

export type WebSocketErrorCode = keyof typeof WS_ERROR_CODES;

/** A peer-caused WebSocket failure. */
export class WebSocketError extends ProtocolError {
  declare readonly code: WebSocketErrorCode;
  /** The close status code sent for this error (frames and messages), else 0. */
  readonly closeCode: number;
  /** The HTTP status a server answers (opening handshake), else 0. */
  readonly status: number;
  constructor(code: WebSocketErrorCode, detail = '', offset = -1, status?: number) {
    const entry = WS_ERROR_CODES[code];
    super(code, `${entry.meaning}${detail === '' ? '' : `: ${detail}`}${offset >= 0 ? ` (at offset ${offset})` : ''}`, offset);
    this.closeCode = entry.close;
    this.status = status ?? entry.status;
  }
}
