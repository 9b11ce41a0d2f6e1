/**
 * QUIC transport errors (RFC 9000 section 20.1).
 *
 * Two levels, converted once (STYLE.md habit 8): the codecs of the combinator
 * layer raise {@link ParseError} (`ERR_UNEXPECTED_END`, `ERR_MALFORMED`, ...);
 * the QUIC frame loop and the transport-parameter decoder turn those into a
 * {@link TransportError} carrying the transport error code the peer will see
 * in our CONNECTION_CLOSE, plus the frame type being parsed. Checks that need
 * a specific code (a frame in the wrong packet type, a reserved bit) raise
 * the TransportError directly.
 */
import { ParseError, PullwireError } from '../combinators/errors.js';

/**
 * Every transport error code, with the RFC's one-line meaning. This is the
 * only list: the names, the type {@link TransportErrorName} and the reverse
 * lookup all derive from it. CRYPTO_ERROR is a range (0x0100 + TLS alert).
 */
export const TRANSPORT_ERRORS = {
  NO_ERROR: { code: 0x00, meaning: 'the connection is being closed abruptly in the absence of any error' },
  INTERNAL_ERROR: { code: 0x01, meaning: 'the endpoint encountered an internal error and cannot continue with the connection' },
  CONNECTION_REFUSED: { code: 0x02, meaning: 'the server refused to accept a new connection' },
  FLOW_CONTROL_ERROR: { code: 0x03, meaning: 'an endpoint received more data than it permitted in its advertised data limits' },
  STREAM_LIMIT_ERROR: {
    code: 0x04,
    meaning:
      'an endpoint received a frame for a stream identifier that exceeded its advertised stream limit for the corresponding stream type',
  },
  STREAM_STATE_ERROR: {
    code: 0x05,
    meaning: 'an endpoint received a frame for a stream that was not in a state that permitted that frame',
  },
  FINAL_SIZE_ERROR: {
    code: 0x06,
    meaning: 'data beyond an established final size, or a final size lower than the data received or different from the one established',
  },
  FRAME_ENCODING_ERROR: { code: 0x07, meaning: 'an endpoint received a frame that was badly formatted' },
  TRANSPORT_PARAMETER_ERROR: {
    code: 0x08,
    meaning: 'transport parameters were badly formatted, invalid, missing a mandatory one, included a forbidden one, or otherwise in error',
  },
  CONNECTION_ID_LIMIT_ERROR: {
    code: 0x09,
    meaning: 'the number of connection IDs provided by the peer exceeds the advertised active_connection_id_limit',
  },
  PROTOCOL_VIOLATION: { code: 0x0a, meaning: 'an error with protocol compliance that was not covered by more specific error codes' },
  INVALID_TOKEN: { code: 0x0b, meaning: 'a server received a client Initial that contained an invalid Token field' },
  APPLICATION_ERROR: { code: 0x0c, meaning: 'the application or application protocol caused the connection to be closed' },
  CRYPTO_BUFFER_EXCEEDED: { code: 0x0d, meaning: 'an endpoint has received more data in CRYPTO frames than it can buffer' },
  KEY_UPDATE_ERROR: { code: 0x0e, meaning: 'an endpoint detected errors in performing key updates' },
  AEAD_LIMIT_REACHED: { code: 0x0f, meaning: 'an endpoint has reached the confidentiality or integrity limit for the AEAD algorithm' },
  NO_VIABLE_PATH: { code: 0x10, meaning: 'an endpoint has determined that the network path is incapable of supporting QUIC' },
  /** RFC 9368 section 4 (compatible version negotiation). */
  VERSION_NEGOTIATION_ERROR: { code: 0x11, meaning: 'an endpoint detected a failure of compatible version negotiation (RFC 9368)' },
  /** 0x0100-0x01ff: 0x0100 + the TLS alert (RFC 9001 section 4.8). */
  CRYPTO_ERROR: { code: 0x0100, meaning: 'the cryptographic handshake failed (0x0100 + TLS alert)' },
} as const;

export type TransportErrorName = keyof typeof TRANSPORT_ERRORS;

const CRYPTO_ERROR_FIRST = 0x0100;
const CRYPTO_ERROR_LAST = 0x01ff;

const NAME_BY_CODE = new Map<number, TransportErrorName>(
  (Object.keys(TRANSPORT_ERRORS) as TransportErrorName[]).map((name) => [TRANSPORT_ERRORS[name].code, name]),
);

/**
 * The name of a transport error code received from the peer (a CONNECTION_CLOSE
 * of type 0x1c), or null for a code this implementation does not know.
 */
export function transportErrorName(errorCode: number | bigint): TransportErrorName | null {
  const n = typeof errorCode === 'bigint' ? (errorCode <= 0xffffn && errorCode >= 0n ? Number(errorCode) : -1) : errorCode;
  if (n >= CRYPTO_ERROR_FIRST && n <= CRYPTO_ERROR_LAST) return 'CRYPTO_ERROR';
  return NAME_BY_CODE.get(n) ?? null;
}

/**
 * A QUIC connection error of the transport layer: what we put in our
 * CONNECTION_CLOSE (type 0x1c). `code` is the stable string name; `errorCode`
 * the number on the wire; `frameType` the type of the frame that triggered it
 * (null when it is not about a frame, e.g. transport parameters).
 */
export class TransportError extends PullwireError {
  declare readonly code: TransportErrorName;
  /** The error code on the wire (0x0100 + alert for CRYPTO_ERROR). */
  readonly errorCode: number;
  /** Frame type that triggered the error, or null. */
  readonly frameType: number | null;
  /** Human-readable reason (goes into the reason phrase; never branch on it). */
  readonly reason: string;
  /** The codec error this was converted from, if any. */
  readonly parseError: ParseError | null;

  constructor(code: TransportErrorName, reason: string, options: TransportErrorOptions = {}) {
    const frameType = options.frameType ?? null;
    super(code, `${code}${frameType === null ? '' : ` in frame type 0x${frameType.toString(16)}`}: ${reason}`);
    this.errorCode = options.errorCode ?? TRANSPORT_ERRORS[code].code;
    this.frameType = frameType;
    this.reason = reason;
    this.parseError = options.parseError ?? null;
  }

  /** CRYPTO_ERROR for a TLS alert (RFC 9001 section 4.8: 0x0100 + alert). */
  static crypto(alert: number, reason: string): TransportError {
    return new TransportError('CRYPTO_ERROR', reason, { errorCode: CRYPTO_ERROR_FIRST + (alert & 0xff) });
  }
}

export interface TransportErrorOptions {
  /** Frame type that triggered the error (default null). */
  readonly frameType?: number | null;
  /** The codec error this replaces. */
  readonly parseError?: ParseError | null;
  /** Wire code; only needed for CRYPTO_ERROR (0x0100 + alert). */
  readonly errorCode?: number;
}

/**
 * Converts a codec error raised while decoding something QUIC into the
 * transport error the RFC asks for: FRAME_ENCODING_ERROR with the frame type
 * for a frame (RFC 9000 section 12.4), TRANSPORT_PARAMETER_ERROR for transport
 * parameters (section 7.4). Called once, by the frame loop / parameter
 * decoder; a TransportError passes through unchanged, anything else is
 * re-thrown (it is a bug, not bad input).
 */
export function toTransportError(e: unknown, code: TransportErrorName, frameType: number | null): TransportError {
  if (e instanceof TransportError) return e;
  if (e instanceof ParseError)
    return new TransportError(code, `${e.code}: expected ${e.expected} at offset ${e.offset}`, { frameType, parseError: e });
  throw e;
}

/** {@link toTransportError} for a frame of type `frameType`: FRAME_ENCODING_ERROR. */
export function frameEncodingError(e: unknown, frameType: number): TransportError {
  return toTransportError(e, 'FRAME_ENCODING_ERROR', frameType);
}
