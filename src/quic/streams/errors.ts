/**
 * Errors of the stream API: the application (through the connection) asked
 * for something the stream's state does not allow. These are local misuse or
 * races with the peer (a STOP_SENDING or RESET_STREAM that arrived before the
 * application saw the event), never a reason to close the connection; what
 * the peer did wrong is a {@link TransportError} (`../errors.ts`).
 */
import { PullwireError } from '../../combinators/errors.js';

/** Every stream API error code, with its one-line meaning. */
export const STREAM_ERROR_CODES = {
  ERR_STREAM_UNKNOWN: 'no open stream has this ID (never opened, not yet opened by the peer, or closed and discarded)',
  ERR_STREAM_NOT_READABLE: 'the stream has no receiving part (a unidirectional stream this endpoint opened)',
  ERR_STREAM_NOT_WRITABLE: 'the stream has no sending part (a unidirectional stream the peer opened)',
  ERR_STREAM_FINISHED: 'the sending part was already finished: no more data may be written',
  ERR_STREAM_RESET: "the stream part was reset (by us, in answer to the peer's STOP_SENDING, or by the peer's RESET_STREAM)",
  ERR_STREAM_STOPPED: 'the application asked the peer to stop sending on this stream: its data is discarded',
  ERR_STREAM_LIMIT: 'a configured limit or argument is out of range',
} as const;

export type StreamErrorCode = keyof typeof STREAM_ERROR_CODES;

/** A stream operation the stream's state does not allow. */
export class StreamError extends PullwireError {
  declare readonly code: StreamErrorCode;
  /** The stream the operation was about (-1 when not about one stream). */
  readonly streamId: number;
  /** The application error code of the reset or stop, when `code` is ERR_STREAM_RESET / ERR_STREAM_STOPPED. */
  readonly errorCode: bigint | null;

  constructor(code: StreamErrorCode, streamId: number, detail: string, errorCode: bigint | null = null) {
    super(code, `${STREAM_ERROR_CODES[code]}: stream ${streamId}: ${detail}`);
    this.streamId = streamId;
    this.errorCode = errorCode;
  }
}
