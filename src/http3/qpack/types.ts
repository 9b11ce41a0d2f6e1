/**
 * The public value types of QPACK.
 */

/**
 * One field line. `name` is lowercase (HTTP/3 requires it, RFC 9114 section
 * 4.2; the HTTP/3 layer checks it, QPACK carries what it is given). Both
 * strings travel as UTF-8 on the wire; bytes that are not valid UTF-8 decode
 * to U+FFFD (QPACK never fails on them: field validity is HTTP's business).
 *
 * Objects returned by the decoder may be shared between field sections (an
 * indexed reference to the same table entry returns the same object): treat
 * them as immutable.
 */
export interface HeaderField {
  readonly name: string;
  readonly value: string;
  /**
   * The 'N' (never-indexed) bit of RFC 9204 section 4.5.4: set on decoded
   * fields whose representation had N=1 (absent otherwise), and honoured by
   * the encoder, which then always sends this field as a literal with N=1,
   * never inserting it into the dynamic table, so an intermediary that
   * re-encodes a decoded field keeps it protected.
   */
  readonly sensitive?: boolean;
}
