/** QUIC versions pullwire speaks: defined once, used by the packet and packet-protection layers. */

/** QUIC version 1 (RFC 9000 section 15). */
export const QUIC_V1 = 0x00000001;
/** QUIC version 2 (RFC 9369 section 3.1). */
export const QUIC_V2 = 0x6b3343cf;

/** The versions pullwire parses and protects, in preference order. */
export const SUPPORTED_VERSIONS: readonly number[] = Object.freeze([QUIC_V1, QUIC_V2]);
