/**
 * QPACK errors (RFC 9204 section 6).
 *
 * QPACK defines three connection errors; HTTP/3 closes the connection with
 * the `h3Code` of the error (RFC 9204 section 6: "QPACK_DECOMPRESSION_FAILED
 * (0x0200) ... QPACK_ENCODER_STREAM_ERROR (0x0201) ... QPACK_DECODER_STREAM_ERROR
 * (0x0202)"). Every error caused by the peer's bytes is a {@link QpackError};
 * misuse of the API by our own caller is a `UsageError` of the combinator
 * layer. Tests and callers branch on `code` (and `kind` for the finer reason),
 * never on `message`.
 */
import { PullwireError } from '../../combinators/errors.js';

/** The three QPACK error codes with their HTTP/3 wire value (RFC 9204 section 6, IANA section 8.3). */
export const QPACK_ERRORS = {
  QPACK_DECOMPRESSION_FAILED: { h3Code: 0x0200, meaning: 'the decoder failed to interpret an encoded field section' },
  QPACK_ENCODER_STREAM_ERROR: {
    h3Code: 0x0201,
    meaning: 'the decoder failed to interpret an encoder instruction received on the encoder stream',
  },
  QPACK_DECODER_STREAM_ERROR: {
    h3Code: 0x0202,
    meaning: 'the encoder failed to interpret a decoder instruction received on the decoder stream',
  },
} as const;

export type QpackErrorCode = keyof typeof QPACK_ERRORS;

/**
 * What exactly was wrong, as a stable string (finer than `code`, which is what
 * goes on the wire). Listed with their meaning so the README can show them.
 */
export const QPACK_ERROR_KINDS = {
  truncated: 'the input ended inside a representation or instruction',
  'integer-overflow': 'a prefixed integer is above 2^53 - 1 or longer than 9 bytes (see prefixed-int.ts)',
  'huffman-eos': 'a Huffman string contains the EOS symbol (RFC 7541 section 5.2)',
  'huffman-padding': 'a Huffman string ends with more than 7 bits of padding, or padding that is not the EOS prefix (RFC 7541 section 5.2)',
  'static-index': 'a reference to a static table index that does not exist (RFC 9204 section 3.1)',
  'dynamic-index':
    'a reference to a dynamic table entry that was evicted, not yet inserted, or at or above the Required Insert Count (RFC 9204 section 2.2.3)',
  'required-insert-count': 'an Encoded Required Insert Count no conforming encoder could produce (RFC 9204 section 4.5.1.1)',
  base: 'a negative Base (RFC 9204 section 4.5.1.2)',
  'blocked-streams': 'more blocked streams than SETTINGS_QPACK_BLOCKED_STREAMS allows (RFC 9204 section 2.1.2)',
  'field-section-size': 'the decoded field section is larger than maxFieldSectionSize (RFC 9114 section 4.2.2 accounting)',
  capacity: 'Set Dynamic Table Capacity above SETTINGS_QPACK_MAX_TABLE_CAPACITY (RFC 9204 section 4.3.1)',
  'entry-too-large': 'an inserted entry is larger than the dynamic table capacity (RFC 9204 section 3.2.2)',
  'unknown-section': 'Section Acknowledgment for a stream with no unacknowledged field section (RFC 9204 section 4.4.1)',
  'insert-count-increment': 'Insert Count Increment of zero, or beyond what the encoder inserted (RFC 9204 section 4.4.3)',
} as const;

export type QpackErrorKind = keyof typeof QPACK_ERROR_KINDS;

/**
 * A QPACK connection error. `code` is the RFC 9204 name, `h3Code` the HTTP/3
 * error code to close the connection with, `kind` the precise reason.
 */
export class QpackError extends PullwireError {
  declare readonly code: QpackErrorCode;
  /** HTTP/3 error code (0x200, 0x201, 0x202). */
  readonly h3Code: number;
  /** The precise reason; stable, see {@link QPACK_ERROR_KINDS}. */
  readonly kind: QpackErrorKind;

  constructor(code: QpackErrorCode, kind: QpackErrorKind, detail?: string) {
    super(code, `${code}: ${QPACK_ERROR_KINDS[kind]}${detail === undefined ? '' : ` (${detail})`}`);
    this.h3Code = QPACK_ERRORS[code].h3Code;
    this.kind = kind;
  }
}
