/**
 * The TLS 1.3 code points the handshake uses, one `as const` table each (RFC 8446 appendix B; RFC 9001
 * section 8.2 for quic_transport_parameters). Every name type, and every code-to-name lookup, derives
 * from these tables: there is no second list.
 *
 * Codecs keep code points as numbers (a peer may send values we do not know, and GREASE values
 * (RFC 8701) must survive a decode/encode round trip); the tables give them names.
 */
import type { CipherSuite, NamedGroup, SignatureScheme } from '../crypto/provider.js';

/** A code-to-name map for one table. */
function byCode<K extends string>(table: { readonly [P in K]: { readonly code: number } }): ReadonlyMap<number, K> {
  return new Map((Object.keys(table) as K[]).map((name) => [table[name].code, name]));
}

// ---------------------------------------------------------------------------------------------------
// handshake types

/**
 * Handshake message types (RFC 8446 section 4 and appendix B.3). `quic: false` marks the two TLS 1.3
 * messages QUIC forbids: KeyUpdate (RFC 9001 section 6: "Endpoints MUST treat the receipt of a TLS
 * KeyUpdate message as a connection error of type 0x010a", i.e. unexpected_message) and EndOfEarlyData
 * (RFC 9001 section 8.3: "Clients MUST NOT send the EndOfEarlyData message"). message_hash is never
 * sent: it only appears in the transcript after a HelloRetryRequest (section 4.4.1).
 */
export const HANDSHAKE_TYPES = {
  client_hello: { code: 1, quic: true },
  server_hello: { code: 2, quic: true },
  new_session_ticket: { code: 4, quic: true },
  end_of_early_data: { code: 5, quic: false },
  encrypted_extensions: { code: 8, quic: true },
  certificate: { code: 11, quic: true },
  certificate_request: { code: 13, quic: true },
  certificate_verify: { code: 15, quic: true },
  finished: { code: 20, quic: true },
  key_update: { code: 24, quic: false },
  message_hash: { code: 254, quic: false },
} as const;

export type HandshakeTypeName = keyof typeof HANDSHAKE_TYPES;

const HANDSHAKE_TYPE_BY_CODE = byCode(HANDSHAKE_TYPES);

/** The name of a handshake type code, or null for a code TLS 1.3 does not define. */
export function handshakeTypeName(code: number): HandshakeTypeName | null {
  return HANDSHAKE_TYPE_BY_CODE.get(code) ?? null;
}

// ---------------------------------------------------------------------------------------------------
// extensions

/**
 * The messages an extension may appear in (RFC 8446 section 4.2's table): CH ClientHello, SH
 * ServerHello, HRR HelloRetryRequest, EE EncryptedExtensions, CT Certificate (per entry), CR
 * CertificateRequest, NST NewSessionTicket.
 */
export type ExtensionContext = 'CH' | 'SH' | 'HRR' | 'EE' | 'CT' | 'CR' | 'NST';

/**
 * Extension types (RFC 8446 section 4.2 and appendix B.3.1) with the messages each may appear in. "If
 * an implementation receives an extension which it recognizes and which is not specified for the
 * message in which it appears, it MUST abort the handshake with an "illegal_parameter" alert." Types
 * outside this table are "unknown" to us and pass through the codecs as opaque bytes.
 *
 * quic_transport_parameters: RFC 9001 section 8.2 (ClientHello and EncryptedExtensions).
 */
export const EXTENSION_TYPES = {
  server_name: { code: 0, in: ['CH', 'EE'] },
  max_fragment_length: { code: 1, in: ['CH', 'EE'] },
  status_request: { code: 5, in: ['CH', 'CR', 'CT'] },
  supported_groups: { code: 10, in: ['CH', 'EE'] },
  signature_algorithms: { code: 13, in: ['CH', 'CR'] },
  use_srtp: { code: 14, in: ['CH', 'EE'] },
  heartbeat: { code: 15, in: ['CH', 'EE'] },
  application_layer_protocol_negotiation: { code: 16, in: ['CH', 'EE'] },
  signed_certificate_timestamp: { code: 18, in: ['CH', 'CR', 'CT'] },
  client_certificate_type: { code: 19, in: ['CH', 'EE'] },
  server_certificate_type: { code: 20, in: ['CH', 'EE'] },
  padding: { code: 21, in: ['CH'] },
  pre_shared_key: { code: 41, in: ['CH', 'SH'] },
  early_data: { code: 42, in: ['CH', 'EE', 'NST'] },
  supported_versions: { code: 43, in: ['CH', 'SH', 'HRR'] },
  cookie: { code: 44, in: ['CH', 'HRR'] },
  psk_key_exchange_modes: { code: 45, in: ['CH'] },
  certificate_authorities: { code: 47, in: ['CH', 'CR'] },
  oid_filters: { code: 48, in: ['CR'] },
  post_handshake_auth: { code: 49, in: ['CH'] },
  signature_algorithms_cert: { code: 50, in: ['CH', 'CR'] },
  key_share: { code: 51, in: ['CH', 'SH', 'HRR'] },
  quic_transport_parameters: { code: 0x39, in: ['CH', 'EE'] },
} as const satisfies Record<string, { code: number; in: readonly ExtensionContext[] }>;

export type ExtensionTypeName = keyof typeof EXTENSION_TYPES;

const EXTENSION_TYPE_BY_CODE = byCode(EXTENSION_TYPES);

/** The name of an extension type code, or null for one this table does not know. */
export function extensionTypeName(code: number): ExtensionTypeName | null {
  return EXTENSION_TYPE_BY_CODE.get(code) ?? null;
}

// ---------------------------------------------------------------------------------------------------
// alerts

/**
 * TLS alert descriptions (RFC 8446 section 6 and appendix B.2), with the RFC's meaning. The `_RESERVED`
 * values of B.2 are left out: TLS 1.3 never sends them. In QUIC a TLS alert is not sent as a record:
 * it becomes the transport error CRYPTO_ERROR 0x0100 + code (RFC 9001 section 4.8).
 */
export const ALERTS = {
  close_notify: { code: 0, meaning: 'the sender will not send any more messages on this connection' },
  unexpected_message: { code: 10, meaning: 'an inappropriate message (e.g. the wrong handshake message) was received' },
  bad_record_mac: { code: 20, meaning: 'a record was received which cannot be deprotected' },
  record_overflow: { code: 22, meaning: 'a record was longer than allowed' },
  handshake_failure: { code: 40, meaning: 'unable to negotiate an acceptable set of security parameters given the options available' },
  bad_certificate: { code: 42, meaning: 'a certificate was corrupt, contained signatures that did not verify correctly, etc.' },
  unsupported_certificate: { code: 43, meaning: 'a certificate was of an unsupported type' },
  certificate_revoked: { code: 44, meaning: 'a certificate was revoked by its signer' },
  certificate_expired: { code: 45, meaning: 'a certificate has expired or is not currently valid' },
  certificate_unknown: { code: 46, meaning: 'some other (unspecified) issue arose in processing the certificate' },
  illegal_parameter: { code: 47, meaning: 'a field in the handshake was incorrect or inconsistent with other fields' },
  unknown_ca: { code: 48, meaning: 'a valid certificate chain was received, but its CA is not known or trusted' },
  access_denied: { code: 49, meaning: 'a valid certificate or PSK was received, but access control denied the handshake' },
  decode_error: { code: 50, meaning: 'a message could not be decoded: a field out of range, or a wrong message length' },
  decrypt_error: {
    code: 51,
    meaning: 'a handshake cryptographic operation failed: a signature, a Finished or a PSK binder did not verify',
  },
  protocol_version: { code: 70, meaning: 'the protocol version the peer attempted to negotiate is recognized but not supported' },
  insufficient_security: { code: 71, meaning: 'the server requires parameters more secure than those supported by the client' },
  internal_error: { code: 80, meaning: 'an internal error unrelated to the peer or the protocol makes it impossible to continue' },
  inappropriate_fallback: { code: 86, meaning: 'sent by a server in response to an invalid connection retry attempt from a client' },
  user_canceled: { code: 90, meaning: 'the user is canceling the handshake for some reason unrelated to a protocol failure' },
  missing_extension: { code: 109, meaning: 'a handshake message does not contain an extension that is mandatory to send' },
  unsupported_extension: { code: 110, meaning: 'a message contains an extension prohibited there, or not offered in the ClientHello' },
  unrecognized_name: { code: 112, meaning: 'the server has no identity matching the server_name the client sent' },
  bad_certificate_status_response: { code: 113, meaning: 'an invalid or unacceptable OCSP response was provided by the server' },
  unknown_psk_identity: { code: 115, meaning: 'PSK key establishment is desired but no acceptable PSK identity was provided' },
  certificate_required: { code: 116, meaning: 'a client certificate is desired but none was provided by the client' },
  no_application_protocol: { code: 120, meaning: 'the client ALPN protocols are not supported by the server (RFC 7301)' },
} as const;

export type AlertName = keyof typeof ALERTS;

const ALERT_BY_CODE = byCode(ALERTS);

/** The name of an alert code (as received in a CRYPTO_ERROR), or null for an unknown one. */
export function alertName(code: number): AlertName | null {
  return ALERT_BY_CODE.get(code) ?? null;
}

// ---------------------------------------------------------------------------------------------------
// groups, signature schemes, cipher suites

/**
 * Named groups (RFC 8446 section 4.2.7 and appendix B.3.1.4). `supported` marks the groups the crypto
 * providers implement ({@link NamedGroup}).
 */
export const NAMED_GROUPS = {
  secp256r1: { code: 0x0017, supported: true },
  secp384r1: { code: 0x0018, supported: false },
  secp521r1: { code: 0x0019, supported: false },
  x25519: { code: 0x001d, supported: true },
  x448: { code: 0x001e, supported: false },
  ffdhe2048: { code: 0x0100, supported: false },
  ffdhe3072: { code: 0x0101, supported: false },
  ffdhe4096: { code: 0x0102, supported: false },
  ffdhe6144: { code: 0x0103, supported: false },
  ffdhe8192: { code: 0x0104, supported: false },
} as const satisfies Record<string, { code: number; supported: boolean }>;

export type NamedGroupName = keyof typeof NAMED_GROUPS;

const GROUP_BY_CODE = byCode(NAMED_GROUPS);

/** The name of a group code, or null. */
export function namedGroupName(code: number): NamedGroupName | null {
  return GROUP_BY_CODE.get(code) ?? null;
}

/** The provider group for a code, or null when no provider implements it. */
export function supportedGroup(code: number): NamedGroup | null {
  const name = GROUP_BY_CODE.get(code);
  return name === 'x25519' || name === 'secp256r1' ? name : null;
}

/**
 * Signature schemes (RFC 8446 section 4.2.3 and appendix B.3.1.3). `supported` marks the schemes the
 * providers implement ({@link SignatureScheme}); `legacy` marks the ones TLS 1.3 only allows in
 * certificate signatures, never in CertificateVerify (RSASSA-PKCS1-v1_5 and SHA-1, section 4.2.3).
 */
export const SIGNATURE_SCHEMES = {
  rsa_pkcs1_sha256: { code: 0x0401, supported: false, legacy: true },
  rsa_pkcs1_sha384: { code: 0x0501, supported: false, legacy: true },
  rsa_pkcs1_sha512: { code: 0x0601, supported: false, legacy: true },
  ecdsa_secp256r1_sha256: { code: 0x0403, supported: true, legacy: false },
  ecdsa_secp384r1_sha384: { code: 0x0503, supported: false, legacy: false },
  ecdsa_secp521r1_sha512: { code: 0x0603, supported: false, legacy: false },
  rsa_pss_rsae_sha256: { code: 0x0804, supported: true, legacy: false },
  rsa_pss_rsae_sha384: { code: 0x0805, supported: false, legacy: false },
  rsa_pss_rsae_sha512: { code: 0x0806, supported: false, legacy: false },
  ed25519: { code: 0x0807, supported: true, legacy: false },
  ed448: { code: 0x0808, supported: false, legacy: false },
  rsa_pss_pss_sha256: { code: 0x0809, supported: true, legacy: false },
  rsa_pss_pss_sha384: { code: 0x080a, supported: false, legacy: false },
  rsa_pss_pss_sha512: { code: 0x080b, supported: false, legacy: false },
  rsa_pkcs1_sha1: { code: 0x0201, supported: false, legacy: true },
  ecdsa_sha1: { code: 0x0203, supported: false, legacy: true },
} as const satisfies Record<string, { code: number; supported: boolean; legacy: boolean }>;

export type SignatureSchemeName = keyof typeof SIGNATURE_SCHEMES;

const SCHEME_BY_CODE = byCode(SIGNATURE_SCHEMES);

/** The name of a signature scheme code, or null. */
export function signatureSchemeName(code: number): SignatureSchemeName | null {
  return SCHEME_BY_CODE.get(code) ?? null;
}

/** The provider scheme for a code, or null when no provider implements it. */
export function supportedSignatureScheme(code: number): SignatureScheme | null {
  const name = SCHEME_BY_CODE.get(code);
  if (name === undefined || !SIGNATURE_SCHEMES[name].supported) return null;
  return name as SignatureScheme;
}

/**
 * TLS 1.3 cipher suites (RFC 8446 appendix B.4). `quic: false` marks TLS_AES_128_CCM_8_SHA256, the one
 * suite QUIC cannot use (RFC 9001 section 5.3: no header protection scheme is defined for it; a server
 * still "MUST NOT reject a ClientHello that offers" it); `supported` marks the suites the providers
 * implement ({@link CipherSuite}).
 */
export const CIPHER_SUITE_CODES = {
  TLS_AES_128_GCM_SHA256: { code: 0x1301, supported: true, quic: true },
  TLS_AES_256_GCM_SHA384: { code: 0x1302, supported: true, quic: true },
  TLS_CHACHA20_POLY1305_SHA256: { code: 0x1303, supported: true, quic: true },
  TLS_AES_128_CCM_SHA256: { code: 0x1304, supported: false, quic: true },
  TLS_AES_128_CCM_8_SHA256: { code: 0x1305, supported: false, quic: false },
} as const satisfies Record<string, { code: number; supported: boolean; quic: boolean }>;

export type CipherSuiteName = keyof typeof CIPHER_SUITE_CODES;

const SUITE_BY_CODE = byCode(CIPHER_SUITE_CODES);

/** The name of a cipher suite code, or null. */
export function cipherSuiteName(code: number): CipherSuiteName | null {
  return SUITE_BY_CODE.get(code) ?? null;
}

/** The provider suite for a code, or null when no provider implements it. */
export function supportedCipherSuite(code: number): CipherSuite | null {
  const name = SUITE_BY_CODE.get(code);
  if (name === undefined || !CIPHER_SUITE_CODES[name].supported) return null;
  return name as CipherSuite;
}

// ---------------------------------------------------------------------------------------------------
// fixed values

/** TLS 1.3 in supported_versions (RFC 8446 section 4.2.1). */
export const TLS13 = 0x0304;
/** legacy_version of ClientHello and ServerHello (RFC 8446 sections 4.1.2, 4.1.3). */
export const LEGACY_VERSION = 0x0303;

/**
 * The ServerHello.random that makes a ServerHello a HelloRetryRequest: SHA-256 of
 * "HelloRetryRequest" (RFC 8446 section 4.1.3).
 */
// prettier-ignore
export const HELLO_RETRY_REQUEST_RANDOM = Uint8Array.of(
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
  0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
);

/**
 * Downgrade sentinels: the last 8 bytes of ServerHello.random of a TLS 1.3 server that negotiated TLS
 * 1.2 or below (RFC 8446 section 4.1.3: "DOWNGRD" then 01 or 00). A TLS 1.3 client that sees one
 * "MUST abort the handshake with an "illegal_parameter" alert".
 */
export const DOWNGRADE_TLS12 = Uint8Array.of(0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01);
export const DOWNGRADE_TLS11 = Uint8Array.of(0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x00);

/** psk_key_exchange_modes values (RFC 8446 section 4.2.9). */
export const PSK_KEY_EXCHANGE_MODES = { psk_ke: 0, psk_dhe_ke: 1 } as const;

/** server_name NameType (RFC 6066 section 3): the only one defined. */
export const SERVER_NAME_HOST_NAME = 0;

/** CertificateVerify context strings (RFC 8446 section 4.4.3). */
export const CERTIFICATE_VERIFY_CONTEXT = {
  server: 'TLS 1.3, server CertificateVerify',
  client: 'TLS 1.3, client CertificateVerify',
} as const;
