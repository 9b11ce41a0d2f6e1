/**
 * Errors of the mini-protocol layer.
 *
 * A {@link ProtocolError} is the peer's fault (like a combinator
 * `ParseError`): a session that meets one fails with an `error` result and
 * stays failed. API misuse raises the combinators' `UsageError` and is thrown
 * from the call that misused the API. Branch on `code`, never on the message.
 */
import { ParseError, PullwireError } from '../combinators/index.js';

/** Every code a mini-protocol phase of this package raises, with its one-line meaning. */
export const MINIPROTO_ERROR_CODES = {
  ERR_PROTOCOL: 'the peer sent something the current phase does not allow',
  ERR_HANDSHAKE_REJECTED: 'a handshake phase rejected the peer’s message',
} as const;

export type MiniprotoErrorCode = keyof typeof MINIPROTO_ERROR_CODES;

/**
 * Base class of the errors the peer causes in a protocol built on this layer.
 * Protocols subclass it with their own codes (HTTP: `HttpError`, RESP:
 * `RespProtocolError`).
 */
export class ProtocolError extends PullwireError {
  /** Absolute input offset where the problem was found, when known (-1 otherwise). */
  readonly offset: number;
  constructor(code: string, message: string, offset = -1) {
    super(code, message);
    this.offset = offset;
  }
}

/** A peer-caused failure: what a session's `error` result carries. */
export type SessionError = ParseError | ProtocolError;

/** True for the errors a session turns into an `error` result (the others are thrown). */
export function isSessionError(e: unknown): e is SessionError {
  return e instanceof ParseError || e instanceof ProtocolError;
}

/** The error a handshake's `then` throws to refuse the peer's message (code ERR_HANDSHAKE_REJECTED). */
export function handshakeRejected(reason: string, offset = -1): ProtocolError {
  return new ProtocolError('ERR_HANDSHAKE_REJECTED', `${MINIPROTO_ERROR_CODES.ERR_HANDSHAKE_REJECTED}: ${reason}`, offset);
}
