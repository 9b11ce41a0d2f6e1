/**
 * pullwire/http3: HTTP/3 (RFC 9114) with QPACK (RFC 9204), and HTTP/0.9 over
 * QUIC (`hq-interop`), sans-I/O on top of a pullwire QUIC `Connection`.
 */
export { Http3Connection } from './connection.js';
export type { Http3Event, Http3Options } from './events.js';
export { HqConnection, HQ_ALPN } from './hq.js';
export type { HqEvent, HqOptions } from './hq.js';
export { Http3Error, H3, H3_ERRORS, http3ErrorName } from './errors.js';
export type { Http3ErrorName, Http3ErrorScope } from './errors.js';
export {
  FrameReader,
  FRAME_TYPES,
  STREAM_TYPES,
  SETTINGS_IDS,
  DEFAULT_SETTINGS,
  decodeFrame,
  decodeFrames,
  encodeFrame,
  writeFrame,
  frameSize,
  encodeDataFrameHeader,
  encodeStreamType,
  readSettings,
  isReservedCode,
  reservedCode,
} from './frames.js';
export type { Http3Frame, FrameStart, FrameReaderOptions, Http3Settings, Setting } from './frames.js';
export { checkRequestHead, checkResponseHead, checkTrailers, fieldSectionSize, headerValue } from './fields.js';
export type { RequestHead, ResponseHead } from './fields.js';
export { QpackEncoder, QpackDecoder, QpackError, QPACK_ERRORS } from './qpack/index.js';
export type { HeaderField, QpackErrorCode, QpackErrorKind } from './qpack/index.js';
