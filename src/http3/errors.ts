/**
 * HTTP/3 errors (RFC 9114 section 8).
 *
 * One table lists every HTTP/3 error code with its wire value and the RFC's
 * one-line meaning (section 8.1); names, types and the reverse lookup derive
 * from it. An {@link Http3Error} is what the peer did wrong: `scope` says
 * whether it ends the whole connection (a connection error: CONNECTION_CLOSE
 * of type 0x1d with `errorCode`) or one request stream (a stream error: the
 * stream is reset and reading is aborted with `errorCode`). Misuse of the API
 * raises the combinators' `UsageError` instead. Branch on `code`, never on
 * the message wording.
 */
import { PullwireError } from '../combinators/errors.js';

/** Every HTTP/3 error code (RFC 9114 section 8.1). */
export const H3_ERRORS = {
  H3_NO_ERROR: { code: 0x0100, meaning: 'no error: the connection or stream is closed without an error to signal' },
  H3_GENERAL_PROTOCOL_ERROR: { code: 0x0101, meaning: 'the peer violated protocol requirements in a way no more specific code covers' },
  H3_INTERNAL_ERROR: { code: 0x0102, meaning: 'an internal error occurred in the HTTP stack' },
  H3_STREAM_CREATION_ERROR: { code: 0x0103, meaning: 'the peer created a stream that will not be accepted' },
  H3_CLOSED_CRITICAL_STREAM: { code: 0x0104, meaning: 'a stream required by the HTTP/3 connection was closed or reset' },
  H3_FRAME_UNEXPECTED: {
    code: 0x0105,
    meaning: 'a frame was received that is not permitted in the current state or on the current stream',
  },
  H3_FRAME_ERROR: { code: 0x0106, meaning: 'a frame that fails to satisfy layout requirements or with an invalid size was received' },
  H3_EXCESSIVE_LOAD: { code: 0x0107, meaning: 'the peer is exhibiting a behavior that might be generating excessive load' },
  H3_ID_ERROR: { code: 0x0108, meaning: 'a stream ID or push ID was used incorrectly (exceeding or reducing a limit, or reused)' },
  H3_SETTINGS_ERROR: { code: 0x0109, meaning: 'an error in the payload of a SETTINGS frame' },
  H3_MISSING_SETTINGS: { code: 0x010a, meaning: 'no SETTINGS frame at the beginning of the control stream' },
  H3_REQUEST_REJECTED: { code: 0x010b, meaning: 'the server rejected a request without performing any application processing' },
  H3_REQUEST_CANCELLED: { code: 0x010c, meaning: 'the request or its response is cancelled' },
  H3_REQUEST_INCOMPLETE: { code: 0x010d, meaning: "the client's stream terminated without containing a fully formed request" },
  H3_MESSAGE_ERROR: { code: 0x010e, meaning: 'an HTTP message was malformed and cannot be processed' },
  H3_CONNECT_ERROR: {
    code: 0x010f,
    meaning: 'the TCP connection established in response to a CONNECT request was reset or abnormally closed',
  },
  H3_VERSION_FALLBACK: { code: 0x0110, meaning: 'the requested operation cannot be served over HTTP/3; retry over HTTP/1.1' },
} as const;

export type Http3ErrorName = keyof typeof H3_ERRORS;

/** Wire values by name, for commands that take an error code (`cancel(id, H3.H3_REQUEST_CANCELLED)`). */
export const H3 = Object.fromEntries(Object.entries(H3_ERRORS).map(([name, e]) => [name, e.code])) as {
  readonly [K in Http3ErrorName]: (typeof H3_ERRORS)[K]['code'];
};

const NAME_BY_CODE = new Map<number, Http3ErrorName>((Object.keys(H3_ERRORS) as Http3ErrorName[]).map((n) => [H3_ERRORS[n].code, n]));

/**
 * The name of an HTTP/3 error code received from the peer, or null for a code
 * this table does not define (RFC 9114 section 8: an unknown code, including
 * the reserved 0x1f * N + 0x21 codes, means the same as H3_NO_ERROR).
 * QPACK's codes (RFC 9204 section 6) are named by the QPACK module.
 */
export function http3ErrorName(errorCode: number | bigint): Http3ErrorName | null {
  const n = typeof errorCode === 'bigint' ? (errorCode >= 0n && errorCode <= 0xffffn ? Number(errorCode) : -1) : errorCode;
  return NAME_BY_CODE.get(n) ?? null;
}

/** Whether an error ends the connection or one request stream (RFC 9114 section 8). */
export type Http3ErrorScope = 'connection' | 'stream';

/**
 * An HTTP/3 protocol error caused by the peer. `code` is the stable name,
 * `errorCode` the value on the wire, `streamId` the stream it was found on
 * (-1 when it is not about one stream).
 */
export class Http3Error extends PullwireError {
  declare readonly code: Http3ErrorName;
  readonly errorCode: number;
  readonly scope: Http3ErrorScope;
  readonly streamId: number;
  /** The short reason (also sent as the CONNECTION_CLOSE reason phrase). */
  readonly reason: string;

  constructor(code: Http3ErrorName, reason: string, options: { scope?: Http3ErrorScope; streamId?: number } = {}) {
    const scope = options.scope ?? 'connection';
    const streamId = options.streamId ?? -1;
    super(code, `${code}: ${reason}${streamId >= 0 ? ` (stream ${streamId})` : ''}`);
    this.errorCode = H3_ERRORS[code].code;
    this.scope = scope;
    this.streamId = streamId;
    this.reason = reason;
  }
}
