/**
 * The code point tables: codes are unique, lookups invert them, and the "supported" flags agree with
 * what the crypto providers implement (the TLS tables and the provider types must not drift apart).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CIPHER_SUITES, KEY_SHARE_LENGTH, SCHEMES_BY_KEY_TYPE, SIGNATURE_SCHEMES_SUPPORTED } from '../../../src/quic/crypto/provider.js';
import {
  ALERTS,
  CIPHER_SUITE_CODES,
  EXTENSION_TYPES,
  HANDSHAKE_TYPES,
  NAMED_GROUPS,
  SIGNATURE_SCHEMES,
  alertName,
  cipherSuiteName,
  extensionTypeName,
  handshakeTypeName,
  namedGroupName,
  signatureSchemeName,
  supportedCipherSuite,
  supportedGroup,
  supportedSignatureScheme,
} from '../../../src/quic/tls/constants.js';

describe('TLS code point tables', () => {
  const tables = [
    ['handshake types', HANDSHAKE_TYPES, handshakeTypeName],
    ['extension types', EXTENSION_TYPES, extensionTypeName],
    ['alerts', ALERTS, alertName],
    ['named groups', NAMED_GROUPS, namedGroupName],
    ['signature schemes', SIGNATURE_SCHEMES, signatureSchemeName],
    ['cipher suites', CIPHER_SUITE_CODES, cipherSuiteName],
  ] as const;

  for (const [label, table, lookup] of tables) {
    it(`${label}: unique codes, and the lookup inverts the table`, () => {
      const entries = Object.entries(table as Record<string, { code: number }>);
      assert.equal(new Set(entries.map(([, v]) => v.code)).size, entries.length);
      for (const [name, v] of entries) assert.equal((lookup as (c: number) => string | null)(v.code), name);
      assert.equal((lookup as (c: number) => string | null)(0xfafa), null);
    });
  }

  it('a few codes from RFC 8446 appendix B and RFC 9001 section 8.2', () => {
    assert.equal(HANDSHAKE_TYPES.certificate_verify.code, 15);
    assert.equal(EXTENSION_TYPES.key_share.code, 51);
    assert.equal(EXTENSION_TYPES.quic_transport_parameters.code, 0x39);
    assert.equal(ALERTS.no_application_protocol.code, 120);
    assert.equal(NAMED_GROUPS.x25519.code, 0x1d);
    assert.equal(SIGNATURE_SCHEMES.rsa_pss_pss_sha256.code, 0x0809);
  });

  it('the "supported" flags match the providers', () => {
    const groups = Object.entries(NAMED_GROUPS)
      .filter(([, v]) => v.supported)
      .map(([k]) => k);
    assert.deepEqual(groups.sort(), Object.keys(KEY_SHARE_LENGTH).sort());
    for (const g of groups) assert.equal(supportedGroup(NAMED_GROUPS[g as keyof typeof NAMED_GROUPS].code), g);
    const schemes = Object.entries(SIGNATURE_SCHEMES)
      .filter(([, v]) => v.supported)
      .map(([k]) => k);
    assert.deepEqual(schemes.sort(), [...SIGNATURE_SCHEMES_SUPPORTED].sort());
    assert.deepEqual([...new Set(Object.values(SCHEMES_BY_KEY_TYPE).flat())].sort(), [...SIGNATURE_SCHEMES_SUPPORTED].sort());
    for (const s of schemes) assert.equal(supportedSignatureScheme(SIGNATURE_SCHEMES[s as keyof typeof SIGNATURE_SCHEMES].code), s);
    assert.equal(supportedSignatureScheme(SIGNATURE_SCHEMES.rsa_pkcs1_sha256.code), null);
    const suites = Object.entries(CIPHER_SUITE_CODES).filter(([, v]) => v.supported);
    assert.deepEqual(suites.map(([k]) => k).sort(), Object.keys(CIPHER_SUITES).sort());
    for (const [name, v] of suites) {
      assert.equal(CIPHER_SUITES[name as keyof typeof CIPHER_SUITES].code, v.code);
      assert.equal(supportedCipherSuite(v.code), name);
    }
    assert.equal(supportedCipherSuite(CIPHER_SUITE_CODES.TLS_AES_128_CCM_8_SHA256.code), null);
  });
});
