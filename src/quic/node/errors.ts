/**
 * Errors of the Node QUIC adapter: what an application sees when a
 * connection, a stream or the socket ends other than normally. Each carries a
 * stable string `code` (branch on it, never on the message) and, where one
 * exists, the QUIC detail: the connection's {@link CloseReason} or the
 * stream's application error code.
 *
 * API misuse (a bad option, a command on a closed connection) raises
 * `UsageError` (`ERR_USAGE`) from the combinator core instead.
 */
import { PullwireError } from '../../combinators/errors.js';
import type { CloseReason } from '../connection/events.js';

/** Every error code of the Node adapter, with its one-line meaning. */
export const QUIC_NODE_ERROR_CODES = {
  ERR_QUIC_HANDSHAKE_FAILED: 'the connection closed before the handshake completed (see closeReason: a TLS alert, a refused ALPN...)',
  ERR_QUIC_HANDSHAKE_TIMEOUT: 'the handshake did not complete within handshakeTimeout',
  ERR_QUIC_CONNECTION_CLOSED: 'the connection was closed by us or by the peer (see closeReason for the code and who closed)',
  ERR_QUIC_IDLE_TIMEOUT: 'the connection was idle for longer than the negotiated idle timeout (RFC 9000 section 10.1)',
  ERR_QUIC_STATELESS_RESET: 'the peer lost the connection state and answered with a stateless reset (RFC 9000 section 10.3)',
  ERR_QUIC_STREAM_RESET: 'the peer reset its sending part of the stream (RESET_STREAM; see errorCode)',
  ERR_QUIC_STREAM_STOPPED: 'the peer asked us to stop sending on the stream (STOP_SENDING; see errorCode)',
  ERR_QUIC_STREAM_ABORTED: 'the application aborted the stream (AbortSignal, abort() or cancel(); see errorCode)',
  ERR_QUIC_SOCKET: 'the UDP socket failed (see cause): the connections on it are closed',
  ERR_QUIC_SOCKET_CLOSED: 'the UDP socket was closed while the operation was pending',
  ERR_QUIC_ABORTED: 'an AbortSignal cancelled the operation (see cause for the signal reason)',
} as const;

/** The `code` of a {@link QuicError}. */
export type QuicNodeErrorCode = keyof typeof QUIC_NODE_ERROR_CODES;

/** What a {@link QuicError} carries besides its code. */
export interface QuicErrorOptions {
  /** Why the connection ended, when the error comes from a connection close. */
  readonly closeReason?: CloseReason | null;
  /** The stream's application error code (RESET_STREAM / STOP_SENDING), when about a stream. */
  readonly errorCode?: bigint | null;
  /** The underlying error (a socket error, an AbortSignal reason). */
  readonly cause?: unknown;
  /** Extra detail for the message. */
  readonly detail?: string;
}

/** An error of a QUIC connection, stream or socket driven by the Node adapter. */
export class QuicError extends PullwireError {
  declare readonly code: QuicNodeErrorCode;
  /** Why the connection ended (null when the error is not about a connection close). */
  readonly closeReason: CloseReason | null;
  /** The application error code of a stream reset / stop sending / abort (null otherwise). */
  readonly errorCode: bigint | null;

  constructor(code: QuicNodeErrorCode, options: QuicErrorOptions = {}) {
    const r = options.closeReason ?? null;
    const parts: string[] = [QUIC_NODE_ERROR_CODES[code]];
    if (r !== null) parts.push(describeCloseReason(r));
    if (options.errorCode !== undefined && options.errorCode !== null) parts.push(`error code 0x${options.errorCode.toString(16)}`);
    if (options.detail !== undefined) parts.push(options.detail);
    super(code, parts.join(': '));
    this.closeReason = r;
    this.errorCode = options.errorCode ?? null;
    if (options.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false, writable: true });
  }
}

/** A one-line description of a close reason, for messages and logs. */
export function describeCloseReason(r: CloseReason): string {
  const code = r.kind === 'transport' ? (r.name ?? `0x${r.code.toString(16)}`) : `application 0x${r.code.toString(16)}`;
  const by = r.initiator === 'local' ? 'closed locally' : r.initiator === 'peer' ? 'closed by the peer' : r.initiator;
  return `${by}, ${code}${r.reason === '' ? '' : ` "${r.reason}"`}`;
}

/** The error that ends streams and pending operations when the connection ended for `r`. */
export function closeError(r: CloseReason, handshakeDone: boolean): QuicError {
  if (r.initiator === 'idle-timeout') return new QuicError('ERR_QUIC_IDLE_TIMEOUT', { closeReason: r });
  if (r.initiator === 'stateless-reset') return new QuicError('ERR_QUIC_STATELESS_RESET', { closeReason: r });
  return new QuicError(handshakeDone ? 'ERR_QUIC_CONNECTION_CLOSED' : 'ERR_QUIC_HANDSHAKE_FAILED', { closeReason: r });
}

/**
 * The application error code carried by an abort or cancel reason: a number
 * or bigint is the code itself, a {@link QuicError} gives its `errorCode`,
 * anything else gives 0.
 */
export function errorCodeOf(reason: unknown): bigint {
  if (typeof reason === 'bigint') return reason >= 0n && reason < 2n ** 62n ? reason : 0n;
  if (typeof reason === 'number') return Number.isSafeInteger(reason) && reason >= 0 ? BigInt(reason) : 0n;
  if (reason instanceof QuicError && reason.errorCode !== null) return reason.errorCode;
  return 0n;
}
