/**
 * pullwire/websocket: RFC 6455 client and server, sans-I/O, with
 * permessage-deflate (RFC 7692). The Node adapter is `pullwire/websocket/node`.
 */
export { WebSocketConnection, closePayload, defaultRandom } from './connection.js';
export type {
  ConnectionOptions,
  ClientOptions,
  ServerOptions,
  OpenOptions,
  SendOptions,
  ConnectionState,
  WebSocketPollResult,
} from './connection.js';
export { TextMessage } from './events.js';
export type {
  WebSocketEvent,
  OpenEvent,
  BinaryMessage,
  MessagePiece,
  PingEvent,
  PongEvent,
  CloseEvent,
  SentClose,
  HandshakeFailedEvent,
} from './events.js';
export {
  OPCODES,
  OPCODE_NAMES,
  OP_CONTINUATION,
  OP_TEXT,
  OP_BINARY,
  OP_CLOSE,
  OP_PING,
  OP_PONG,
  CLOSE_CODES,
  CLOSE_CODE_RANGES,
  isDefinedOpcode,
  isControlOpcode,
  isValidCloseCode,
  closeCodeName,
} from './codes.js';
export type { OpcodeName, Opcode, CloseCodeName } from './codes.js';
export { WebSocketError, WS_ERROR_CODES } from './errors.js';
export type { WebSocketErrorCode } from './errors.js';
export {
  frame,
  frameHeader,
  FrameHeaderParser,
  encodeFrame,
  encodeFrameParts,
  writeFrameHeader,
  frameHeaderSize,
  RSV1,
  RSV2,
  RSV3,
  MAX_CONTROL_PAYLOAD,
} from './frame.js';
export type { Frame, FrameHeader, FrameRules, FrameSpec } from './frame.js';
export { maskInPlace, maskCopy, maskKeyAt, maskKeyBytes } from './mask.js';
export { Utf8Validator, isValidUtf8 } from './utf8.js';
export type { Utf8Check } from './utf8.js';
export { PerMessageDeflate, PERMESSAGE_DEFLATE, deflateOffer, acceptDeflateResponse, negotiateDeflate } from './deflate.js';
export type { DeflateCodec, Compressor, Decompressor, DeflateParams, PerMessageDeflateOptions } from './deflate.js';
export { fflateCodec } from './fflate.js';
export { parseExtensions, formatExtension, parseProtocols, isToken } from './extensions.js';
export type { ExtensionElement, ExtensionParam } from './extensions.js';
export {
  WEBSOCKET_GUID,
  WEBSOCKET_VERSION,
  acceptKey,
  generateKey,
  isValidKey,
  base64,
  buildClientRequest,
  checkServerResponse,
  checkClientRequest,
  acceptClientRequest,
  rejectionResponse,
} from './handshake.js';
export type {
  RandomSource,
  ClientHandshakeOptions,
  ServerHandshakeOptions,
  ClientHandshake,
  HandshakeResult,
  Rejection,
  ClientRequestInfo,
  ServerAcceptance,
} from './handshake.js';
