/**
 * What an {@link Http3Connection} reports (a discriminated union documented
 * per field) and how it is configured.
 */
import type { CloseReason } from '../quic/connection/events.js';
import type { Http3Error } from './errors.js';
import type { Http3Settings } from './frames.js';
import type { HeaderField, QpackError } from './qpack/index.js';

/**
 * Events of an HTTP/3 connection, in the order they happened. Stream events
 * name a request stream (a client-initiated bidirectional QUIC stream).
 */
export type Http3Event =
  /**
   * A header section: on a server, a request (validated: pseudo-header
   * fields, connection-specific fields, Content-Length); on a client, the
   * final response. The body follows as `data` hints, then optional
   * `trailers`, then `end`.
   */
  | { readonly type: 'headers'; readonly streamId: number; readonly headers: readonly HeaderField[] }
  /** Client: an interim (1xx) response; the final response follows as `headers`. */
  | { readonly type: 'informational'; readonly streamId: number; readonly headers: readonly HeaderField[] }
  /**
   * Body bytes can be read with `readData(streamId)`. Given once, then again
   * only after a `readData` returned null and more arrived: read until null.
   * Nothing is read from the QUIC stream before you ask, so a slow reader
   * holds back the peer (QUIC flow control).
   */
  | { readonly type: 'data'; readonly streamId: number }
  /** The trailer section (after the body). */
  | { readonly type: 'trailers'; readonly streamId: number; readonly trailers: readonly HeaderField[] }
  /** The peer finished its message (FIN): body read in full, Content-Length matched. */
  | { readonly type: 'end'; readonly streamId: number }
  /**
   * The peer reset its side of the stream (RESET_STREAM): the message is
   * incomplete. `errorCode` is an HTTP/3 code (H3_REQUEST_CANCELLED,
   * H3_REQUEST_REJECTED: safe to retry, ...); unknown codes mean H3_NO_ERROR.
   */
  | { readonly type: 'reset'; readonly streamId: number; readonly errorCode: bigint }
  /** The peer does not want (more of) our message (STOP_SENDING); our side of the stream is reset. */
  | { readonly type: 'stop-sending'; readonly streamId: number; readonly errorCode: bigint }
  /**
   * The peer's message was malformed or incomplete (H3_MESSAGE_ERROR,
   * H3_REQUEST_INCOMPLETE, H3_EXCESSIVE_LOAD): we reset the stream and
   * stopped reading it with `error.errorCode` (a stream error, RFC 9114
   * section 8).
   */
  | { readonly type: 'stream-error'; readonly streamId: number; readonly error: Http3Error }
  /** A `sendData` (or a header section) was cut short and the stream takes bytes again. */
  | { readonly type: 'stream-writable'; readonly streamId: number }
  /** The peer's SETTINGS arrived (RFC 9114 section 7.2.4). */
  | { readonly type: 'settings'; readonly settings: Http3Settings }
  /**
   * The peer is shutting down (GOAWAY, section 5.2). From a server, `id` is
   * the first request stream it will not process: our requests at or above it
   * are cancelled and listed in `rejected` (safe to retry elsewhere), and
   * `request()` refuses new ones. From a client, `id` is a push ID.
   */
  | { readonly type: 'goaway'; readonly id: number; readonly rejected: readonly number[] }
  /** Client: `request()` returned null earlier and new request streams can be opened now. */
  | { readonly type: 'streams-available' }
  /**
   * The QUIC connection closed. `error` is the HTTP/3 or QPACK connection
   * error we detected (null when the peer closed, the application did, or the
   * transport failed: see `reason`).
   */
  | { readonly type: 'closed'; readonly reason: CloseReason; readonly error: Http3Error | QpackError | null };

/** Settings and limits of an {@link Http3Connection}. */
export interface Http3Options {
  /**
   * Dynamic table capacity the peer's QPACK encoder may use
   * (SETTINGS_QPACK_MAX_TABLE_CAPACITY). Default 4096, HPACK's default table
   * size (RFC 7541) and nghttp3's; 0 disables the dynamic table.
   */
  readonly qpackMaxTableCapacity?: number;
  /** Streams the peer may leave blocked on QPACK (SETTINGS_QPACK_BLOCKED_STREAMS). Default 100 (nghttp3's examples). */
  readonly qpackBlockedStreams?: number;
  /**
   * Largest header or trailer section accepted (SETTINGS_MAX_FIELD_SECTION_SIZE,
   * RFC 9114 section 4.2.2: names + values + 32 per field). Default 64 KiB
   * (nginx accepts 32 KiB of request head by default, Chrome 256 KiB of
   * response head). A larger section is a stream error H3_EXCESSIVE_LOAD.
   */
  readonly maxFieldSectionSize?: number;
  /** Dynamic table capacity our encoder uses (capped by the peer's setting). Default 4096. */
  readonly encoderTableCapacity?: number;
  /** Huffman-code string literals when shorter (default true). */
  readonly huffman?: boolean;
  /**
   * Send a reserved setting (0x1f * N + 0x21) in SETTINGS, as RFC 9114
   * section 7.2.4.1 recommends, so peers that choke on unknown settings are
   * found early. Default true. `N` comes from `random` when given, else a
   * fixed value (no hidden randomness: the connection stays reproducible).
   */
  readonly grease?: boolean;
  /** Random bytes for the grease values (the QUIC provider's `random` fits). */
  readonly random?: (n: number) => Uint8Array;
}
