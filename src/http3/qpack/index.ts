/**
 * QPACK (RFC 9204): field compression for HTTP/3, sans-I/O.
 *
 * {@link QpackEncoder} turns field sections into HEADERS payloads plus
 * encoder-stream bytes and reads the peer's decoder stream;
 * {@link QpackDecoder} does the reverse. Neither touches a stream: the HTTP/3
 * layer moves the bytes. Errors are {@link QpackError}s carrying the HTTP/3
 * error code to close the connection with.
 *
 * The codec pieces (Huffman code, prefixed integers, field line
 * representations, dynamic table) are internal modules of this folder, not
 * part of the public surface.
 */
export type { HeaderField } from './types.js';
export { QpackError, QPACK_ERRORS, QPACK_ERROR_KINDS } from './errors.js';
export type { QpackErrorCode, QpackErrorKind } from './errors.js';
export { QpackDecoder } from './decoder.js';
export type { QpackDecoderOptions, DecodeResult, UnblockedSection } from './decoder.js';
export { QpackEncoder, DEFAULT_ENCODER_TABLE_CAPACITY, isSensitiveByDefault } from './encoder.js';
export type { QpackEncoderOptions, QpackPeerSettings } from './encoder.js';
export { STATIC_TABLE, STATIC_TABLE_SIZE } from './static-table.js';
