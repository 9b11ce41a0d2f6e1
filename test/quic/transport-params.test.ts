import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EncodeError } from '../../src/combinators/errors.js';
import { Writer } from '../../src/combinators/writer.js';
import { TransportError } from '../../src/quic/errors.js';
import {
  decodeTransportParameters,
  defaultTransportParameters,
  encodeTransportParameters,
  TRANSPORT_PARAMETERS,
  type PreferredAddress,
  type Role,
  type TransportParameters,
} from '../../src/quic/transport-params.js';
import { concat, hex, toHex } from '../support/bytes.js';
import { checkCorruption } from '../support/splits.js';
import { A2_CRYPTO_FRAME, A2_TRANSPORT_PARAMETERS, A_CLIENT_DCID } from '../vectors/rfc9001-frames.js';
import { plainValue, u53 } from './support/frames.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const ISCID = '0f 04 01020304'; // initial_source_connection_id = 01020304, mandatory from both sides
const ODCID = '00 04 0a0b0c0d'; // original_destination_connection_id, mandatory from a server

function tpe(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => e instanceof TransportError && e.code === 'TRANSPORT_PARAMETER_ERROR' && e.frameType === null);
}

/** One parameter: id, minimal length, value (independent of the encoder under test). */
function tp(id: number, value: string): string {
  const v = hex(value);
  const varint = (n: number): string => (n < 0x40 ? n.toString(16).padStart(2, '0') : (0x4000 | n).toString(16).padStart(4, '0'));
  return `${varint(id)} ${varint(v.length)} ${toHex(v, 1 << 20)}`;
}

function encode(p: Partial<TransportParameters>, sender: Role): Uint8Array {
  const w = new Writer();
  encodeTransportParameters(w, p, sender);
  return w.toBytes();
}

describe('RFC 9001 appendix A.2 ClientHello transport parameters', () => {
  it('is the quic_transport_parameters extension inside the CRYPTO frame (copy check)', () => {
    const crypto = toHex(hex(A2_CRYPTO_FRAME), 1 << 20);
    // extension type 0x0039, length 0x0032, then the value
    assert.ok(crypto.includes(`00390032${toHex(hex(A2_TRANSPORT_PARAMETERS), 1 << 20)}`));
  });

  it('decodes, with initial_max_data = 2^62 - 1 saturated', () => {
    const p = decodeTransportParameters(hex(A2_TRANSPORT_PARAMETERS), 'client');
    assert.deepEqual(plainValue(p), {
      ...plainValue(defaultTransportParameters()),
      initialMaxData: MAX_SAFE,
      initialMaxStreamDataBidiLocal: 65535,
      initialMaxStreamDataBidiRemote: 65535,
      initialMaxStreamDataUni: 65535,
      initialMaxStreamsBidi: 16,
      initialMaxStreamsUni: 16,
      maxIdleTimeout: 30000,
      initialSourceConnectionId: hex(A_CLIENT_DCID),
    });
  });
});

describe('defaults (RFC 9000 section 18.2)', () => {
  it('are the RFC values', () => {
    const d = defaultTransportParameters();
    assert.equal(d.maxUdpPayloadSize, 65527);
    assert.equal(d.ackDelayExponent, 3);
    assert.equal(d.maxAckDelay, 25);
    assert.equal(d.activeConnectionIdLimit, 2);
    assert.equal(d.initialMaxData, 0);
    assert.equal(d.maxDatagramFrameSize, 0);
    assert.equal(d.disableActiveMigration, false);
    assert.equal(d.preferredAddress, null);
    assert.equal(d.versionInformation, null);
  });

  it('the table has the RFC ids', () => {
    const ids = Object.fromEntries(Object.values(TRANSPORT_PARAMETERS).map((v) => [v.name, v.id]));
    assert.deepEqual(ids, {
      original_destination_connection_id: 0x00,
      max_idle_timeout: 0x01,
      stateless_reset_token: 0x02,
      max_udp_payload_size: 0x03,
      initial_max_data: 0x04,
      initial_max_stream_data_bidi_local: 0x05,
      initial_max_stream_data_bidi_remote: 0x06,
      initial_max_stream_data_uni: 0x07,
      initial_max_streams_bidi: 0x08,
      initial_max_streams_uni: 0x09,
      ack_delay_exponent: 0x0a,
      max_ack_delay: 0x0b,
      disable_active_migration: 0x0c,
      preferred_address: 0x0d,
      active_connection_id_limit: 0x0e,
      initial_source_connection_id: 0x0f,
      retry_source_connection_id: 0x10,
      version_information: 0x11,
      max_datagram_frame_size: 0x20,
      grease_quic_bit: 0x2ab2,
    });
  });

  it('values equal to their default are not written', () => {
    const p = { ...defaultTransportParameters(), initialSourceConnectionId: hex('01020304') };
    assert.deepEqual(encode(p, 'client'), hex(ISCID));
  });
});

const cid = (min: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: min, maxLength: 20 });
const version = fc.integer({ min: 1, max: 0xffffffff });
const preferred: fc.Arbitrary<PreferredAddress> = fc.record({
  ipv4Address: fc.uint8Array({ minLength: 4, maxLength: 4 }),
  ipv4Port: fc.integer({ min: 0, max: 0xffff }),
  ipv6Address: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  ipv6Port: fc.integer({ min: 0, max: 0xffff }),
  connectionId: cid(1),
  statelessResetToken: fc.uint8Array({ minLength: 16, maxLength: 16 }),
});

function paramsArb(sender: Role): fc.Arbitrary<TransportParameters> {
  const server = sender === 'server';
  const serverOnly = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> => (server ? fc.option(arb, { nil: null }) : fc.constant(null));
  return fc.record({
    originalDestinationConnectionId: server ? cid(0) : fc.constant(null),
    maxIdleTimeout: u53(),
    statelessResetToken: serverOnly(fc.uint8Array({ minLength: 16, maxLength: 16 })),
    maxUdpPayloadSize: fc.integer({ min: 1200, max: MAX_SAFE }),
    initialMaxData: u53(),
    initialMaxStreamDataBidiLocal: u53(),
    initialMaxStreamDataBidiRemote: u53(),
    initialMaxStreamDataUni: u53(),
    initialMaxStreamsBidi: u53(),
    initialMaxStreamsUni: u53(),
    ackDelayExponent: fc.integer({ min: 0, max: 20 }),
    maxAckDelay: fc.integer({ min: 0, max: 2 ** 14 - 1 }),
    disableActiveMigration: fc.boolean(),
    preferredAddress: serverOnly(preferred),
    activeConnectionIdLimit: fc.integer({ min: 2, max: MAX_SAFE }),
    initialSourceConnectionId: cid(0),
    retrySourceConnectionId: serverOnly(cid(0)),
    versionInformation: fc.option(fc.record({ chosenVersion: version, availableVersions: fc.array(version, { maxLength: 20 }) }), {
      nil: null,
    }),
    maxDatagramFrameSize: u53(),
    greaseQuicBit: fc.boolean(),
  });
}

describe('round trip (random valid parameters -> encode -> decode equal)', () => {
  for (const sender of ['client', 'server'] as const) {
    it(`sent by a ${sender}`, () => {
      fc.assert(
        fc.property(paramsArb(sender), (p) => {
          assert.deepEqual(plainValue(decodeTransportParameters(encode(p, sender), sender)), plainValue(p));
        }),
        { numRuns: 300 },
      );
    });
  }

  it('a partial set fills in the defaults; unknown and reserved parameters are ignored', () => {
    const w = new Writer();
    encodeTransportParameters(w, { initialSourceConnectionId: hex('aa'), maxAckDelay: 40 }, 'client', {
      extra: [
        { id: 27, value: hex('0102') }, // 31 * 0 + 27
        { id: 31 * 1000 + 27, value: new Uint8Array(0) },
        { id: (1n << 62n) - 1n, value: hex('ff') },
      ],
    });
    const p = decodeTransportParameters(w.toBytes(), 'client');
    assert.deepEqual(plainValue(p), { ...plainValue(defaultTransportParameters()), initialSourceConnectionId: hex('aa'), maxAckDelay: 40 });
    assert.throws(
      () => encodeTransportParameters(new Writer(), {}, 'client', { extra: [{ id: 0x0b, value: hex('01') }] }),
      (e: unknown) => e instanceof EncodeError,
    );
  });
});

describe('validation (RFC 9000 sections 7.3, 7.4, 18.2; RFC 9368; RFC 9287)', () => {
  const client = (...params: string[]): TransportParameters => decodeTransportParameters(hex([ISCID, ...params].join(' ')), 'client');
  const server = (...params: string[]): TransportParameters =>
    decodeTransportParameters(hex([ISCID, ODCID, ...params].join(' ')), 'server');

  it('duplicates, known or not, are TRANSPORT_PARAMETER_ERROR', () => {
    tpe(() => client(tp(0x01, '05'), tp(0x01, '05')));
    tpe(() => client(tp(0x1b, ''), tp(0x1b, '')));
    tpe(() => decodeTransportParameters(hex(`${ISCID} ${ISCID}`), 'client'));
  });

  it('server-only parameters from a client are TRANSPORT_PARAMETER_ERROR', () => {
    tpe(() => client(ODCID));
    tpe(() => client(tp(0x02, '00'.repeat(16))));
    tpe(() => client(tp(0x10, '01')));
    const pa = `01020304 1234 ${'00'.repeat(16)} 0000 04 aabbccdd ${'11'.repeat(16)}`;
    tpe(() => client(tp(0x0d, pa)));
    const s = server(tp(0x02, '00'.repeat(16)), tp(0x10, '01'), tp(0x0d, pa));
    assert.equal(s.preferredAddress?.ipv4Port, 0x1234);
    assert.deepEqual(plainValue(s.preferredAddress?.connectionId), hex('aabbccdd'));
  });

  it('mandatory connection IDs must be there', () => {
    tpe(() => decodeTransportParameters(new Uint8Array(0), 'client'));
    tpe(() => decodeTransportParameters(hex(ISCID), 'server'));
    tpe(() => decodeTransportParameters(hex(ODCID), 'server'));
  });

  it('integer limits', () => {
    tpe(() => client(tp(0x03, '44af'))); // 1199
    assert.equal(client(tp(0x03, '44b0')).maxUdpPayloadSize, 1200);
    tpe(() => client(tp(0x0a, '15'))); // 21
    assert.equal(client(tp(0x0a, '14')).ackDelayExponent, 20);
    tpe(() => client(tp(0x0b, '80004000'))); // 2^14
    assert.equal(client(tp(0x0b, '7fff')).maxAckDelay, 2 ** 14 - 1);
    tpe(() => client(tp(0x0e, '01')));
    assert.equal(client(tp(0x0e, '02')).activeConnectionIdLimit, 2);
    tpe(() => client(tp(0x08, 'd000000000000001'))); // 2^60 + 1
    tpe(() => client(tp(0x09, 'd000000000000001')));
    assert.equal(client(tp(0x08, 'd000000000000000')).initialMaxStreamsBidi, MAX_SAFE, '2^60 is allowed, saturated');
    assert.equal(client(tp(0x04, '9d7f3e7d')).initialMaxData, 494878333);
  });

  it('malformed values', () => {
    tpe(() => client(tp(0x01, '0505'))); // bytes after the varint
    tpe(() => client(tp(0x01, '')));
    tpe(() => client(tp(0x01, '4005').slice(0, -2))); // value shorter than its Length
    tpe(() => server(tp(0x02, '00'.repeat(15))));
    tpe(() => decodeTransportParameters(hex(tp(0x0f, '00'.repeat(21))), 'client'));
    tpe(() => client(tp(0x0c, '00')));
    tpe(() => client(tp(0x2ab2, '00')));
    assert.equal(client(tp(0x0c, ''), tp(0x2ab2, '')).greaseQuicBit, true);
    tpe(() => decodeTransportParameters(hex(`${ISCID} 01 05 00`), 'client')); // value past the end
    tpe(() => decodeTransportParameters(hex(`${ISCID} 01`), 'client'));
  });

  it('preferred_address: a zero-length connection ID is TRANSPORT_PARAMETER_ERROR', () => {
    const pa = (cidHex: string, len: number): string =>
      `01020304 1234 ${'00'.repeat(16)} 0000 ${len.toString(16).padStart(2, '0')} ${cidHex} ${'11'.repeat(16)}`;
    tpe(() => server(tp(0x0d, pa('', 0))));
    tpe(() => server(tp(0x0d, pa('00'.repeat(21), 21))));
    tpe(() => server(tp(0x0d, pa('aa', 2))));
    assert.ok(server(tp(0x0d, pa('00'.repeat(20), 20))).preferredAddress !== null);
  });

  it('version_information (RFC 9368 section 3)', () => {
    assert.deepEqual(client(tp(0x11, '00000001 6b3343cf 00000001')).versionInformation, {
      chosenVersion: 1,
      availableVersions: [0x6b3343cf, 1],
    });
    tpe(() => client(tp(0x11, '')));
    tpe(() => client(tp(0x11, '000001')));
    tpe(() => client(tp(0x11, '00000001 000001')));
    tpe(() => client(tp(0x11, '00000000')));
    tpe(() => client(tp(0x11, '00000001 00000000')));
  });

  it('the encoder refuses what the decoder would reject', () => {
    const bad: [Partial<TransportParameters>, Role][] = [
      [{ maxUdpPayloadSize: 1199 }, 'client'],
      [{ ackDelayExponent: 21 }, 'client'],
      [{ maxAckDelay: 2 ** 14 }, 'client'],
      [{ activeConnectionIdLimit: 1 }, 'client'],
      [{ statelessResetToken: new Uint8Array(16) }, 'client'],
      [{ statelessResetToken: new Uint8Array(15) }, 'server'],
      [{ initialSourceConnectionId: new Uint8Array(21) }, 'client'],
      [{ versionInformation: { chosenVersion: 0, availableVersions: [] } }, 'client'],
    ];
    for (const [p, sender] of bad)
      assert.throws(
        () => encode(p, sender),
        (e: unknown) => e instanceof EncodeError,
        JSON.stringify(p),
      );
  });
});

describe('corruption invariant: decode returns parameters or raises TRANSPORT_PARAMETER_ERROR', () => {
  const serverSet = encode(
    {
      originalDestinationConnectionId: hex('0a0b0c0d'),
      initialSourceConnectionId: hex('01020304'),
      statelessResetToken: new Uint8Array(16).fill(3),
      preferredAddress: {
        ipv4Address: hex('7f000001'),
        ipv4Port: 443,
        ipv6Address: new Uint8Array(16),
        ipv6Port: 0,
        connectionId: hex('0506'),
        statelessResetToken: new Uint8Array(16).fill(9),
      },
      versionInformation: { chosenVersion: 1, availableVersions: [1, 0x6b3343cf] },
      maxAckDelay: 30,
      greaseQuicBit: true,
    },
    'server',
  );
  for (const sender of ['client', 'server'] as const) {
    it(sender, () => {
      const seeds = sender === 'client' ? [hex(A2_TRANSPORT_PARAMETERS), concat(hex(A2_TRANSPORT_PARAMETERS), hex('0c00'))] : [serverSet];
      checkCorruption((b) => decodeTransportParameters(b, sender), seeds, {
        numRuns: 150,
        isTypedError: (e) => e instanceof TransportError && e.code === 'TRANSPORT_PARAMETER_ERROR',
      });
    });
  }
});
