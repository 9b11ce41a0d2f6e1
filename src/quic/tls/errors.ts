/**
 * The TLS layer's error: a fatal alert (RFC 8446 section 6.2). Everything that goes wrong in the
 * handshake ends as one {@link TlsAlertError} carrying the alert to report; QUIC does not send TLS
 * alerts as records but closes the connection with CRYPTO_ERROR 0x0100 + alert (RFC 9001 section 4.8),
 * see {@link TlsAlertError.toTransportError}.
 *
 * Conversions happen once, at the TLS boundary (STYLE.md habit 8): codec errors of the combinator
 * layer ({@link ParseError}) become `decode_error` (RFC 8446 section 6.2: "A message could not be
 * decoded because some field was out of the specified range or the length of the message was
 * incorrect"), and crypto failures ({@link CryptoError}) become the alert their code maps to.
 */
import { ParseError, PullwireError } from '../../combinators/errors.js';
import { CryptoError, type CryptoErrorCode } from '../crypto/provider.js';
import { TransportError, TRANSPORT_ERRORS, type TransportErrorName } from '../errors.js';
import { ALERTS, type AlertName } from './constants.js';

/**
 * A fatal TLS alert. `code` is the alert's name (`'decode_error'`, `'illegal_parameter'`...), stable
 * and documented in {@link ALERTS}; `alert` its number on the wire.
 */
export class TlsAlertError extends PullwireError {
  declare readonly code: AlertName;
  /** The alert description number (RFC 8446 appendix B.2). */
  readonly alert: number;
  /** Why, for logs and the CONNECTION_CLOSE reason phrase (never branch on it). */
  readonly reason: string;
  /** The codec or crypto error this was converted from, if any. */
  override readonly cause: ParseError | CryptoError | null;
  /**
   * A QUIC transport error RFC 9001 names for this failure instead of CRYPTO_ERROR, or null. Example:
   * a NewSessionTicket whose early_data is not 0xffffffff is a PROTOCOL_VIOLATION (RFC 9001 section
   * 4.6.1); `code` then still names the closest TLS alert, for logs.
   */
  readonly quicError: TransportErrorName | null;

  constructor(
    alert: AlertName,
    reason: string,
    cause: ParseError | CryptoError | null = null,
    quicError: TransportErrorName | null = null,
  ) {
    super(alert, `TLS alert ${alert} (${ALERTS[alert].code}): ${reason}`);
    this.alert = ALERTS[alert].code;
    this.reason = reason;
    this.cause = cause;
    this.quicError = quicError;
  }

  /**
   * The QUIC transport error code for this alert: CRYPTO_ERROR, 0x0100 + alert (RFC 9001 section 4.8),
   * or the code of {@link TlsAlertError.quicError} when set.
   */
  get transportErrorCode(): number {
    return this.quicError === null ? 0x0100 + this.alert : TRANSPORT_ERRORS[this.quicError].code;
  }

  /** The QUIC CONNECTION_CLOSE error for this alert (RFC 9001 section 4.8), or for its {@link TlsAlertError.quicError}. */
  toTransportError(): TransportError {
    if (this.quicError !== null) return new TransportError(this.quicError, this.reason);
    return TransportError.crypto(this.alert, `${this.code}: ${this.reason}`);
  }
}

/**
 * The alert each crypto failure maps to:
 * - a bad key share: `illegal_parameter` (RFC 8446 section 4.2.8: peers MUST validate the key share;
 *   an invalid one is an "incorrect field");
 * - a certificate key that is malformed, not a certificate, or of a type we cannot use:
 *   `bad_certificate` / `unsupported_certificate` (section 6.2);
 * - a key that does not fit the signature scheme the peer chose: `illegal_parameter` (section 4.4.3:
 *   the algorithm must be one offered and compatible with the key);
 * - our own key material failing to load: `internal_error`.
 */
const ALERT_FOR_CRYPTO: Readonly<Record<CryptoErrorCode, AlertName>> = {
  ERR_INVALID_KEY_SHARE: 'illegal_parameter',
  ERR_INVALID_PUBLIC_KEY: 'bad_certificate',
  ERR_INVALID_CERTIFICATE: 'bad_certificate',
  ERR_KEY_SCHEME_MISMATCH: 'illegal_parameter',
  ERR_UNSUPPORTED_ALGORITHM: 'unsupported_certificate',
  ERR_INVALID_PRIVATE_KEY: 'internal_error',
};

/** The alert for a crypto failure (see the table above). */
export function alertForCryptoError(e: CryptoError): AlertName {
  return ALERT_FOR_CRYPTO[e.code];
}

/**
 * Converts what a codec or a crypto call raised into the alert to send: a TlsAlertError passes through,
 * a ParseError becomes `decode_error` (or `alert` when given), a CryptoError its mapped alert. Anything
 * else is re-thrown unchanged: it is a bug, not bad input.
 */
export function toTlsAlert(e: unknown, context: string, alert?: AlertName): TlsAlertError {
  if (e instanceof TlsAlertError) return e;
  if (e instanceof ParseError) return new TlsAlertError(alert ?? 'decode_error', `${context}: ${e.message}`, e);
  if (e instanceof CryptoError) return new TlsAlertError(alert ?? alertForCryptoError(e), `${context}: ${e.message}`, e);
  throw e;
}
