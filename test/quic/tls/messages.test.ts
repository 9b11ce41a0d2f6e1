/**
 * Handshake message codecs (RFC 8446 section 4) against the RFC 8448 traces, the extension rules of
 * section 4.2, round trips of random messages, and the corruption invariant.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { EncodeError, ParseError } from '../../../src/combinators/errors.js';
import { EXTENSION_TYPES, HELLO_RETRY_REQUEST_RANDOM, NAMED_GROUPS, SIGNATURE_SCHEMES, TLS13 } from '../../../src/quic/tls/constants.js';
import { TlsAlertError } from '../../../src/quic/tls/errors.js';
import {
  findExtension,
  type CertificateRequestExtension,
  type ClientHelloExtension,
  type EncryptedExtensionsExtension,
  type HelloRetryRequestExtension,
  type NewSessionTicketExtension,
  type OpaqueExtension,
  type ServerHelloExtension,
} from '../../../src/quic/tls/extensions.js';
import {
  bindersLength,
  decodeHandshake,
  decodeHandshakeBody,
  encodeHandshake,
  fillBinders,
  truncateClientHello,
  type ClientHello,
  type HandshakeMessage,
} from '../../../src/quic/tls/messages.js';
import { checkCorruption } from '../../support/splits.js';
import { RFC8448, RFC8448_MESSAGES } from '../../vectors/rfc8448.js';
import { alert, concat, hex, toHex } from './support.js';

const NAME_TO_TYPE: Readonly<Record<string, HandshakeMessage['type'] | 'end_of_early_data'>> = {
  ClientHello: 'client_hello',
  ServerHello: 'server_hello',
  EncryptedExtensions: 'encrypted_extensions',
  CertificateRequest: 'certificate_request',
  Certificate: 'certificate',
  CertificateVerify: 'certificate_verify',
  Finished: 'finished',
  NewSessionTicket: 'new_session_ticket',
  EndOfEarlyData: 'end_of_early_data',
};

function decodeAs<T extends HandshakeMessage['type']>(bytes: Uint8Array, type: T): Extract<HandshakeMessage, { type: T }> {
  const m = decodeHandshake(bytes);
  assert.equal(m.type, type);
  return m as Extract<HandshakeMessage, { type: T }>;
}

describe('RFC 8448 handshake messages decode and re-encode byte for byte', () => {
  for (const m of RFC8448_MESSAGES) {
    const label = `section ${m.section}, {${m.who}} ${m.name}`;
    const bytes = hex(m.hex);
    if (m.name === 'EndOfEarlyData') {
      it(`${label}: refused, QUIC has no EndOfEarlyData (RFC 9001 section 8.3)`, () => {
        assert.throws(() => decodeHandshake(bytes), alert('unexpected_message'));
      });
      continue;
    }
    it(label, () => {
      const decoded = decodeHandshake(bytes);
      const isRetry = m.section === 5 && m.name === 'ServerHello' && bytes[6] === HELLO_RETRY_REQUEST_RANDOM[0];
      assert.equal(decoded.type, isRetry ? 'hello_retry_request' : NAME_TO_TYPE[m.name]);
      assert.equal(toHex(encodeHandshake(decoded), 4096), m.hex);
    });
  }
});

describe('RFC 8448 section 3 message contents', () => {
  const s = RFC8448.simple;

  it('ClientHello: suites, SNI "server", X25519 share, TLS 1.3, record_size_limit kept opaque', () => {
    const ch = decodeAs(hex(s.clientHello), 'client_hello');
    assert.equal(ch.legacyVersion, 0x0303);
    assert.deepEqual(ch.cipherSuites, [0x1301, 0x1303, 0x1302]);
    assert.equal(ch.legacySessionId.length, 0);
    assert.deepEqual([...ch.legacyCompressionMethods], [0]);
    const sni = findExtension(ch.extensions, 'server_name');
    assert.deepEqual(
      sni?.names.map((n) => [n.nameType, new TextDecoder().decode(n.name)]),
      [[0, 'server']],
    );
    const ks = findExtension(ch.extensions, 'key_share');
    assert.equal(ks?.shares.length, 1);
    assert.equal(ks?.shares[0]?.group, NAMED_GROUPS.x25519.code);
    assert.equal(toHex(ks!.shares[0]!.keyExchange), s.clientPublicKey);
    assert.deepEqual(findExtension(ch.extensions, 'supported_versions')?.versions, [TLS13]);
    assert.deepEqual(findExtension(ch.extensions, 'psk_key_exchange_modes')?.modes, [1]);
    assert.deepEqual(findExtension(ch.extensions, 'supported_groups')?.groups, [0x1d, 0x17, 0x18, 0x19, 0x100, 0x101, 0x102, 0x103, 0x104]);
    const sigs = findExtension(ch.extensions, 'signature_algorithms')?.schemes ?? [];
    assert.ok(sigs.includes(SIGNATURE_SCHEMES.rsa_pss_rsae_sha256.code) && sigs.length === 15);
    // renegotiation_info (0xff01), session_ticket (35) and record_size_limit (28) are not TLS 1.3 extensions we interpret.
    const opaque = ch.extensions
      .filter((e): e is Extract<ClientHelloExtension, { type: 'opaque' }> => e.type === 'opaque')
      .map((e) => e.code);
    assert.deepEqual(opaque, [0xff01, 35, 28]);
  });

  it('ServerHello: TLS_AES_128_GCM_SHA256, the server X25519 share, supported_versions 1.3', () => {
    const sh = decodeAs(hex(s.serverHello), 'server_hello');
    assert.equal(sh.cipherSuite, 0x1301);
    assert.equal(sh.legacyCompressionMethod, 0);
    const ks = findExtension(sh.extensions, 'key_share');
    assert.equal(ks?.share.group, 0x1d);
    assert.equal(toHex(ks!.share.keyExchange), s.serverPublicKey);
    assert.equal(findExtension(sh.extensions, 'supported_versions')?.version, TLS13);
  });

  it('EncryptedExtensions, Certificate, CertificateVerify, Finished, NewSessionTicket', () => {
    const ee = decodeAs(hex(s.encryptedExtensions), 'encrypted_extensions');
    assert.deepEqual(
      ee.extensions.map((e) => e.type),
      ['supported_groups', 'opaque', 'server_name'],
    );
    const cert = decodeAs(hex(s.certificate), 'certificate');
    assert.equal(cert.certificateRequestContext.length, 0);
    assert.equal(cert.certificateList.length, 1);
    assert.equal(cert.certificateList[0]!.certData.length, 0x1b0);
    assert.equal(cert.certificateList[0]!.certData[0], 0x30);
    const cv = decodeAs(hex(s.certificateVerify), 'certificate_verify');
    assert.equal(cv.algorithm, SIGNATURE_SCHEMES.rsa_pss_rsae_sha256.code);
    assert.equal(cv.signature.length, 128);
    const fin = decodeAs(hex(s.serverFinished), 'finished');
    assert.equal(toHex(fin.verifyData), s.serverVerifyData);
    const nst = decodeAs(hex(s.newSessionTicket), 'new_session_ticket');
    assert.equal(nst.ticketLifetime, 30);
    assert.equal(toHex(nst.ticketNonce), s.ticketNonce);
    assert.equal(nst.ticket.length, 178);
    assert.deepEqual(nst.extensions, [{ type: 'early_data', maxEarlyDataSize: 1024 }]);
  });

  it('checks a Finished length against the hash when asked (RFC 8446 section 4.4.4)', () => {
    const fin = hex(s.serverFinished);
    assert.equal(decodeHandshake(fin, { hashLength: 32 }).type, 'finished');
    assert.throws(() => decodeHandshake(fin, { hashLength: 48 }), alert('decode_error'));
  });
});

describe('HelloRetryRequest (RFC 8448 section 5, RFC 8446 section 4.1.3)', () => {
  it('the special random is SHA-256("HelloRetryRequest")', () => {
    assert.equal(toHex(HELLO_RETRY_REQUEST_RANDOM), createHash('sha256').update('HelloRetryRequest').digest('hex'));
  });

  it('a ServerHello with the special random decodes as a HelloRetryRequest with HRR extensions', () => {
    const hrr = decodeAs(hex(RFC8448.helloRetry.helloRetryRequest), 'hello_retry_request');
    assert.equal(hrr.cipherSuite, 0x1301);
    assert.equal(findExtension(hrr.extensions, 'key_share')?.selectedGroup, NAMED_GROUPS.secp256r1.code);
    assert.equal(findExtension(hrr.extensions, 'cookie')?.cookie.length, 0x72);
    assert.equal(findExtension(hrr.extensions, 'supported_versions')?.version, TLS13);
  });

  it('the second ClientHello echoes the cookie and carries a P-256 share; padding stays opaque', () => {
    const ch2 = decodeAs(hex(RFC8448.helloRetry.clientHello2), 'client_hello');
    const hrr = decodeAs(hex(RFC8448.helloRetry.helloRetryRequest), 'hello_retry_request');
    assert.equal(toHex(findExtension(ch2.extensions, 'cookie')!.cookie), toHex(findExtension(hrr.extensions, 'cookie')!.cookie));
    const share = findExtension(ch2.extensions, 'key_share')!.shares[0]!;
    assert.equal(share.group, 0x17);
    assert.equal(toHex(share.keyExchange, 65), RFC8448.helloRetry.clientP256PublicKey);
    assert.ok(ch2.extensions.some((e) => e.type === 'opaque' && e.code === EXTENSION_TYPES.padding.code));
  });

  it('encodes a HelloRetryRequest with the special random, and refuses it in a ServerHello', () => {
    const hrr = decodeAs(hex(RFC8448.helloRetry.helloRetryRequest), 'hello_retry_request');
    assert.equal(toHex(encodeHandshake(hrr).subarray(6, 38)), toHex(HELLO_RETRY_REQUEST_RANDOM));
    const sh = decodeAs(hex(RFC8448.simple.serverHello), 'server_hello');
    assert.throws(
      () => encodeHandshake({ ...sh, random: HELLO_RETRY_REQUEST_RANDOM }),
      (e: unknown) => e instanceof EncodeError,
    );
  });
});

describe('PSK binders (RFC 8448 section 4, RFC 8446 section 4.2.11.2)', () => {
  const r = RFC8448.resumed;

  it('decodes OfferedPsks last, truncates to the prefix the binder covers, and fills binders back in', () => {
    const bytes = hex(r.clientHello);
    const ch = decodeAs(bytes, 'client_hello');
    const psk = ch.extensions[ch.extensions.length - 1];
    assert.equal(psk?.type, 'pre_shared_key');
    if (psk?.type !== 'pre_shared_key') return;
    assert.equal(psk.identities.length, 1);
    assert.equal(psk.identities[0]!.identity.length, 0xb2);
    assert.equal(toHex(psk.binders[0]!), r.binder);
    assert.equal(bindersLength(ch), 2 + 1 + 32);
    assert.equal(toHex(truncateClientHello(bytes, ch), 1024), r.clientHelloPrefix);
    // A client encodes with zero binders, then fills them in.
    const placeholder: ClientHello = {
      ...ch,
      extensions: [...ch.extensions.slice(0, -1), { ...psk, binders: [new Uint8Array(32)] }],
    };
    const encoded = encodeHandshake(placeholder);
    assert.equal(toHex(truncateClientHello(encoded, placeholder), 1024), r.clientHelloPrefix);
    fillBinders(encoded, placeholder, [hex(r.binder)]);
    assert.equal(toHex(encoded, 1024), r.clientHello);
  });

  it('a ClientHello whose pre_shared_key is not the last extension is illegal_parameter', () => {
    const ch = decodeAs(hex(r.clientHello), 'client_hello');
    const psk = ch.extensions[ch.extensions.length - 1]!;
    assert.throws(
      () => encodeHandshake({ ...ch, extensions: [psk, ...ch.extensions.slice(0, -1)] }),
      (e: unknown) => e instanceof EncodeError,
    );
    // By hand: pre_shared_key (one identity "a", one 32-byte binder), then supported_versions.
    const pskExt = hex('0029 002c  0007 0001 61 00000000  0021 20' + '11'.repeat(32));
    const versions = hex('002b 0003 02 0304');
    const body = (exts: Uint8Array) =>
      concat(hex('0303'), new Uint8Array(32), hex('00 0002 1301 0100'), Uint8Array.of(exts.length >> 8, exts.length & 0xff), exts);
    assert.equal(decodeHandshakeBody(1, body(concat(versions, pskExt))).type, 'client_hello');
    assert.throws(() => decodeHandshakeBody(1, body(concat(pskExt, versions))), alert('illegal_parameter'));
  });
});

describe('extension rules of RFC 8446 section 4.2', () => {
  const eeBody = (...exts: Uint8Array[]): Uint8Array => {
    const body = concat(...exts);
    return concat(Uint8Array.of(body.length >> 8, body.length & 0xff), body);
  };
  const ext = (code: number, data: Uint8Array): Uint8Array =>
    concat(Uint8Array.of(code >> 8, code & 0xff, data.length >> 8, data.length & 0xff), data);

  it('a known extension in a message it is not allowed in is illegal_parameter', () => {
    // key_share (51) is CH, SH, HRR only; signature_algorithms (13) is CH, CR only.
    assert.throws(() => decodeHandshakeBody(8, eeBody(ext(51, hex('001d0001ff')))), alert('illegal_parameter'));
    assert.throws(() => decodeHandshakeBody(8, eeBody(ext(13, hex('00020403')))), alert('illegal_parameter'));
  });

  it('two extensions of the same type are illegal_parameter', () => {
    assert.throws(() => decodeHandshakeBody(8, eeBody(ext(0, new Uint8Array(0)), ext(0, new Uint8Array(0)))), alert('illegal_parameter'));
    assert.throws(() => decodeHandshakeBody(8, eeBody(ext(0x4242, hex('01')), ext(0x4242, hex('02')))), alert('illegal_parameter'));
  });

  it('unknown extensions are kept as opaque bytes and re-encoded unchanged', () => {
    const body = eeBody(ext(0x1a1a, hex('')), ext(0xfe0d, hex('0102030405')));
    const ee = decodeHandshakeBody(8, body);
    assert.deepEqual(
      ee.type === 'encrypted_extensions' ? ee.extensions.map((e) => (e.type === 'opaque' ? [e.code, toHex(e.data)] : e.type)) : null,
      [
        [0x1a1a, ''],
        [0xfe0d, '0102030405'],
      ],
    );
    assert.equal(toHex(encodeHandshake(ee).subarray(4)), toHex(body));
  });

  it('a body longer or shorter than its extension length is decode_error', () => {
    // server_name ack must be empty; supported_versions in SH must be exactly 2 bytes.
    assert.throws(() => decodeHandshakeBody(8, eeBody(ext(0, hex('00')))), alert('decode_error'));
    assert.throws(() => decodeHandshakeBody(8, eeBody(ext(10, hex('0002001d00')))), alert('decode_error'));
    assert.throws(() => decodeHandshakeBody(8, eeBody(ext(10, hex('0003001d00')))), alert('decode_error'));
    // Vector lower bounds: named_group_list<2..2^16-1>, protocol_name_list<2..>, ProtocolName<1..>.
    assert.throws(() => decodeHandshakeBody(8, eeBody(ext(10, hex('0000')))), alert('decode_error'));
    assert.throws(() => decodeHandshakeBody(8, eeBody(ext(16, hex('000100')))), alert('decode_error'));
    assert.throws(() => decodeHandshakeBody(8, eeBody(ext(16, hex('00020000')))), alert('decode_error'));
  });

  it('quic_transport_parameters (0x39) is kept as its body bytes, in ClientHello and EncryptedExtensions', () => {
    const ee = decodeHandshakeBody(8, eeBody(ext(0x39, hex('0104800075300a01'))));
    assert.deepEqual(ee.type === 'encrypted_extensions' ? ee.extensions : null, [
      { type: 'quic_transport_parameters', data: hex('0104800075300a01') },
    ]);
  });
});

describe('handshake types QUIC refuses, and framing mismatches', () => {
  it('KeyUpdate is unexpected_message (RFC 9001 section 6), so are unknown and message_hash types', () => {
    assert.throws(() => decodeHandshake(hex('1800000100')), alert('unexpected_message'));
    assert.throws(() => decodeHandshake(hex('05000000')), alert('unexpected_message'));
    assert.throws(() => decodeHandshake(hex('03000000')), alert('unexpected_message'));
    assert.throws(() => decodeHandshake(hex('fe00000100')), alert('unexpected_message'));
  });

  it('a length field that does not match the bytes is decode_error', () => {
    const ee = hex(RFC8448.simple.encryptedExtensions);
    assert.throws(() => decodeHandshake(ee.subarray(0, ee.length - 1)), alert('decode_error'));
    assert.throws(() => decodeHandshake(concat(ee, hex('00'))), alert('decode_error'));
    assert.throws(() => decodeHandshake(hex('0800')), alert('decode_error'));
  });

  it('trailing bytes inside a message body are decode_error, with the ParseError as cause', () => {
    const body = concat(hex(RFC8448.simple.certificateVerify).subarray(4), hex('00'));
    assert.throws(
      () => decodeHandshakeBody(15, body),
      (e: unknown) => e instanceof TlsAlertError && e.code === 'decode_error' && e.cause instanceof ParseError,
    );
  });

  it('alerts map to QUIC CRYPTO_ERROR 0x0100 + alert (RFC 9001 section 4.8)', () => {
    try {
      decodeHandshake(hex('1800000100'));
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof TlsAlertError);
      assert.equal(e.alert, 10);
      assert.equal(e.transportErrorCode, 0x10a);
      const te = e.toTransportError();
      assert.equal(te.code, 'CRYPTO_ERROR');
      assert.equal(te.errorCode, 0x10a);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// round trips of random messages

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytesOf = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const u16List = (min: number, max: number) => fc.array(u16, { minLength: min, maxLength: max });
/** Extension codes this codec does not interpret anywhere (so an opaque one decodes back to opaque). */
const STRUCTURED = new Set<number>(Object.values(EXTENSION_TYPES).map((t) => t.code));
const opaqueExt = fc.record({
  type: fc.constant('opaque' as const),
  code: u16.filter((c) => !STRUCTURED.has(c)),
  data: bytesOf(0, 40),
});

/**
 * Distinct extensions in random order: a random subset of `pool`, every member of `mandatory`, and up to
 * `opaqueCount` unknown ones.
 */
function extensionSet<E extends { type: string }>(
  pool: fc.Arbitrary<E>[],
  mandatory: fc.Arbitrary<E>[] = [],
  opaqueCount = 3,
): fc.Arbitrary<E[]> {
  return fc
    .tuple(
      fc.tuple(...pool.map((a) => fc.option(a, { nil: undefined }))),
      fc.tuple(...mandatory),
      fc.uniqueArray(opaqueExt, { maxLength: opaqueCount, selector: (e) => e.code }),
    )
    .chain(([optional, required, opaque]) => {
      const all = [...optional.filter((e): e is E => e !== undefined), ...required, ...(opaque as unknown as E[])];
      return fc.shuffledSubarray(all, { minLength: all.length });
    });
}

const keyShareEntry = fc.record({ group: u16, keyExchange: bytesOf(1, 70) });
const alpn = fc.record({
  type: fc.constant('application_layer_protocol_negotiation' as const),
  protocols: fc.array(bytesOf(1, 12), { minLength: 1, maxLength: 4 }),
});
const supportedGroups = fc.record({ type: fc.constant('supported_groups' as const), groups: u16List(1, 8) });
const quicTp = fc.record({ type: fc.constant('quic_transport_parameters' as const), data: bytesOf(0, 60) });
const sigAlgs = fc.record({ type: fc.constant('signature_algorithms' as const), schemes: u16List(1, 8) });
const sigAlgsCert = fc.record({ type: fc.constant('signature_algorithms_cert' as const), schemes: u16List(1, 8) });
const cookie = fc.record({ type: fc.constant('cookie' as const), cookie: bytesOf(1, 40) });

const clientHelloArb: fc.Arbitrary<ClientHello> = fc
  .record({
    legacyVersion: u16,
    random: bytesOf(32, 32),
    legacySessionId: bytesOf(0, 32),
    cipherSuites: u16List(1, 6),
    legacyCompressionMethods: bytesOf(1, 3),
    // supported_versions and key_share are always there (a TLS 1.3 ClientHello has them), which also
    // meets extensions<8..2^16-1>.
    extensions: extensionSet<ClientHelloExtension>(
      [
        fc.record({
          type: fc.constant('server_name' as const),
          names: fc.array(fc.record({ nameType: fc.integer({ min: 0, max: 255 }), name: bytesOf(1, 20) }), { minLength: 1, maxLength: 2 }),
        }),
        supportedGroups,
        sigAlgs,
        sigAlgsCert,
        alpn,
        quicTp,
        fc.record({
          type: fc.constant('psk_key_exchange_modes' as const),
          modes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 2 }),
        }),
        fc.constant({ type: 'early_data' as const }),
        cookie,
      ],
      [
        fc.record({ type: fc.constant('supported_versions' as const), versions: u16List(1, 4) }),
        fc.record({ type: fc.constant('key_share' as const), shares: fc.array(keyShareEntry, { maxLength: 3 }) }),
      ],
    ),
    psk: fc.option(
      fc.integer({ min: 1, max: 3 }).chain((n) =>
        fc.record({
          type: fc.constant('pre_shared_key' as const),
          identities: fc.array(fc.record({ identity: bytesOf(1, 30), obfuscatedTicketAge: u32 }), { minLength: n, maxLength: n }),
          binders: fc.array(bytesOf(32, 48), { minLength: n, maxLength: n }),
        }),
      ),
      { nil: undefined },
    ),
  })
  .map(({ psk, ...rest }) => ({
    type: 'client_hello' as const,
    ...rest,
    extensions: psk === undefined ? rest.extensions : [...rest.extensions, psk],
  }));

const serverHelloArb: fc.Arbitrary<HandshakeMessage> = fc.oneof(
  fc.record({
    type: fc.constant('server_hello' as const),
    legacyVersion: u16,
    random: bytesOf(32, 32).filter((r) => toHex(r) !== toHex(HELLO_RETRY_REQUEST_RANDOM)),
    legacySessionIdEcho: bytesOf(0, 32),
    cipherSuite: u16,
    legacyCompressionMethod: fc.integer({ min: 0, max: 255 }),
    // ServerHello.extensions<6..2^16-1>: supported_versions alone is 6 bytes.
    extensions: extensionSet<ServerHelloExtension>(
      [
        fc.record({ type: fc.constant('key_share' as const), share: keyShareEntry }),
        fc.record({ type: fc.constant('pre_shared_key' as const), selectedIdentity: u16 }),
      ],
      [fc.record({ type: fc.constant('supported_versions' as const), version: u16 })],
    ),
  }),
  fc.record({
    type: fc.constant('hello_retry_request' as const),
    legacyVersion: u16,
    legacySessionIdEcho: bytesOf(0, 32),
    cipherSuite: u16,
    legacyCompressionMethod: fc.integer({ min: 0, max: 255 }),
    extensions: extensionSet<HelloRetryRequestExtension>(
      [fc.record({ type: fc.constant('key_share' as const), selectedGroup: u16 }), cookie],
      [fc.record({ type: fc.constant('supported_versions' as const), version: u16 })],
    ),
  }),
);

const otherMessageArb: fc.Arbitrary<HandshakeMessage> = fc.oneof(
  fc.record({
    type: fc.constant('encrypted_extensions' as const),
    extensions: extensionSet<EncryptedExtensionsExtension>([
      fc.constant({ type: 'server_name' as const }),
      supportedGroups,
      alpn,
      quicTp,
      fc.constant({ type: 'early_data' as const }),
    ]),
  }),
  fc.record({
    type: fc.constant('certificate_request' as const),
    certificateRequestContext: bytesOf(0, 10),
    // CertificateRequest.extensions<2..2^16-1>; signature_algorithms is mandatory there (RFC 8446 section 4.3.2).
    extensions: extensionSet<CertificateRequestExtension>([sigAlgsCert], [sigAlgs]),
  }),
  fc.record({
    type: fc.constant('certificate' as const),
    certificateRequestContext: bytesOf(0, 10),
    certificateList: fc.array(fc.record({ certData: bytesOf(1, 80), extensions: extensionSet<OpaqueExtension>([], [], 2) }), {
      maxLength: 3,
    }),
  }),
  fc.record({ type: fc.constant('certificate_verify' as const), algorithm: u16, signature: bytesOf(0, 80) }),
  fc.record({ type: fc.constant('finished' as const), verifyData: bytesOf(0, 64) }),
  fc.record({
    type: fc.constant('new_session_ticket' as const),
    ticketLifetime: u32,
    ticketAgeAdd: u32,
    ticketNonce: bytesOf(0, 8),
    ticket: bytesOf(1, 60),
    extensions: extensionSet<NewSessionTicketExtension>([fc.record({ type: fc.constant('early_data' as const), maxEarlyDataSize: u32 })]),
  }),
);

/** Deep equality with byte views compared by content. */
function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return toHex(v, 1 << 20);
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

describe('random messages round-trip: decode(encode(m)) = m and encode(decode(b)) = b (property)', () => {
  for (const [name, arb] of [
    ['ClientHello', clientHelloArb as fc.Arbitrary<HandshakeMessage>],
    ['ServerHello / HelloRetryRequest', serverHelloArb],
    ['EncryptedExtensions ... NewSessionTicket', otherMessageArb],
  ] as const) {
    it(name, () => {
      fc.assert(
        fc.property(arb, (m) => {
          const bytes = encodeHandshake(m);
          const back = decodeHandshake(bytes);
          assert.deepEqual(normalize(back), normalize(m));
          assert.equal(toHex(encodeHandshake(back), 1 << 20), toHex(bytes, 1 << 20));
        }),
        { numRuns: 150 },
      );
    });
  }

  it('the encoder refuses values the wire cannot carry (EncodeError, not a broken message)', () => {
    const ch = decodeAs(hex(RFC8448.simple.clientHello), 'client_hello');
    for (const bad of [
      { ...ch, random: new Uint8Array(31) },
      { ...ch, legacySessionId: new Uint8Array(33) },
      { ...ch, cipherSuites: [] },
      { ...ch, legacyCompressionMethods: new Uint8Array(0) },
      { ...ch, extensions: [...ch.extensions, ch.extensions[0]!] },
      { ...ch, extensions: [{ type: 'opaque' as const, code: 51, data: new Uint8Array(4) }, ...ch.extensions.slice(1)] },
    ]) {
      assert.throws(
        () => encodeHandshake(bad),
        (e: unknown) => e instanceof EncodeError,
      );
    }
    assert.throws(
      () => encodeHandshake({ type: 'encrypted_extensions', extensions: [{ type: 'opaque', code: 51, data: new Uint8Array(1) }] }),
      (e: unknown) => e instanceof EncodeError,
    );
  });
});

describe('corruption invariant: any input gives a message or a TLS alert', () => {
  const isAlert = (e: unknown): boolean => e instanceof TlsAlertError;
  // One message of each kind (the PSK ClientHello, the HelloRetryRequest and the CertificateRequest
  // included): every prefix of each is tried, so the set is kept small.
  const pick = (section: number, who: string, name: string, nth = 0): Uint8Array =>
    hex(RFC8448_MESSAGES.filter((m) => m.section === section && m.who === who && m.name === name)[nth]!.hex);
  const fixtures = [
    pick(3, 'client', 'ClientHello'),
    pick(4, 'client', 'ClientHello'),
    pick(3, 'server', 'ServerHello'),
    pick(5, 'server', 'ServerHello', 0),
    pick(3, 'server', 'EncryptedExtensions'),
    pick(6, 'server', 'CertificateRequest'),
    pick(3, 'server', 'Certificate'),
    pick(3, 'server', 'CertificateVerify'),
    pick(3, 'server', 'Finished'),
    pick(3, 'server', 'NewSessionTicket'),
  ];

  it('decodeHandshake on mutations of RFC 8448 messages (headers and lengths included)', () => {
    checkCorruption((b) => decodeHandshake(b), fixtures, { isTypedError: isAlert, numRuns: 60 });
  });

  it('every body decoder on mutated and random bodies (the first byte picks the message type)', () => {
    const types = [1, 2, 4, 8, 11, 13, 15, 20];
    const decodeBody = (b: Uint8Array) => (b.length === 0 ? null : decodeHandshakeBody(types[b[0]! % types.length]!, b.subarray(1)));
    const seeds = fixtures.map((f) => concat(Uint8Array.of(types.indexOf(f[0]!)), f.subarray(4)));
    checkCorruption(decodeBody, seeds, { isTypedError: isAlert, numRuns: 150 });
  });
});
