/**
 * The 0-RTT bookkeeping of src/quic/connection/early-data.ts: the remembered transport parameters
 * record (RFC 9000 section 7.4.1) a client keeps and a server seals into its tickets, its typed errors,
 * the "not reduced" checks, and the journal a rejected 0-RTT attempt is replayed from (RFC 9001
 * section 4.6.2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeRememberedParameters,
  decodeServerTicketData,
  EarlyDataError,
  EarlyDataJournal,
  encodeRememberedParameters,
  encodeServerTicketData,
  reducedParameter,
  rememberedFrom,
  serverRejectsFor,
  type RememberedParameters,
  type ReplayTarget,
} from '../../../src/quic/connection/early-data.js';
import { defaultTransportParameters } from '../../../src/quic/transport-params.js';
import { checkCorruption } from '../../support/splits.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

const EXAMPLE: RememberedParameters = {
  maxIdleTimeout: 0,
  maxUdpPayloadSize: 1200,
  initialMaxData: 1000,
  initialMaxStreamDataBidiLocal: 10,
  initialMaxStreamDataBidiRemote: 63,
  initialMaxStreamDataUni: 64,
  initialMaxStreamsBidi: 100,
  initialMaxStreamsUni: 3,
  activeConnectionIdLimit: 2,
  maxDatagramFrameSize: 65535,
  disableActiveMigration: true,
  greaseQuicBit: false,
};
// The layout of the module doc, written by hand with the varint encoding of RFC 9000 section 16:
// format 01, then 0, 1200 (44b0), 1000 (43e8), 10, 63, 64 (4040), 100 (4064), 3, 2, 65535 (8000ffff), flags 01.
const EXAMPLE_BYTES = hex('01 00 44b0 43e8 0a 3f 4040 4064 03 02 8000ffff 01');

const arbParams: fc.Arbitrary<RememberedParameters> = fc.record({
  maxIdleTimeout: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  maxUdpPayloadSize: fc.integer({ min: 1200, max: 65527 }),
  initialMaxData: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  initialMaxStreamDataBidiLocal: fc.nat({ max: 2 ** 40 }),
  initialMaxStreamDataBidiRemote: fc.nat({ max: 2 ** 40 }),
  initialMaxStreamDataUni: fc.nat({ max: 2 ** 40 }),
  initialMaxStreamsBidi: fc.nat({ max: 2 ** 50 }),
  initialMaxStreamsUni: fc.nat({ max: 2 ** 50 }),
  activeConnectionIdLimit: fc.integer({ min: 2, max: 1000 }),
  maxDatagramFrameSize: fc.nat({ max: 65535 }),
  disableActiveMigration: fc.boolean(),
  greaseQuicBit: fc.boolean(),
});

function code(e: unknown): string {
  assert.ok(e instanceof EarlyDataError, `an EarlyDataError, got ${String(e)}`);
  return e.code;
}

describe('remembered transport parameters record', () => {
  it('encodes the documented layout (hand-written vector) and decodes it back', () => {
    assert.deepEqual(encodeRememberedParameters(EXAMPLE), EXAMPLE_BYTES);
    assert.deepEqual(decodeRememberedParameters(EXAMPLE_BYTES), EXAMPLE);
  });

  it('round-trips any valid set (property)', () => {
    fc.assert(
      fc.property(arbParams, (p) => {
        // fast-check builds records without a prototype: compare with a plain copy.
        assert.deepEqual(decodeRememberedParameters(encodeRememberedParameters(p)), { ...p });
      }),
      { numRuns: 300 },
    );
  });

  it('keeps exactly the parameters RFC 9000 section 7.4.1 lets a client remember', () => {
    const tp = {
      ...defaultTransportParameters(),
      maxIdleTimeout: 5,
      initialMaxData: 7,
      ackDelayExponent: 10,
      maxAckDelay: 100,
      statelessResetToken: new Uint8Array(16),
      initialSourceConnectionId: hex('0102'),
    };
    const r = rememberedFrom(tp);
    // "A client MUST NOT use remembered values for ... ack_delay_exponent, max_ack_delay,
    // initial_source_connection_id, original_destination_connection_id, preferred_address,
    // retry_source_connection_id, and stateless_reset_token."
    for (const banned of [
      'ackDelayExponent',
      'maxAckDelay',
      'initialSourceConnectionId',
      'originalDestinationConnectionId',
      'preferredAddress',
      'retrySourceConnectionId',
      'statelessResetToken',
    ]) {
      assert.ok(!(banned in r), banned);
    }
    assert.equal(r.maxIdleTimeout, 5);
    assert.equal(r.initialMaxData, 7);
  });

  it('refuses another format version with ERR_EARLY_DATA_FORMAT, and bad records with ERR_EARLY_DATA_MALFORMED', () => {
    const other = EXAMPLE_BYTES.slice();
    other[0] = 2;
    assert.equal(code(catching(() => decodeRememberedParameters(other))), 'ERR_EARLY_DATA_FORMAT');
    assert.equal(code(catching(() => decodeRememberedParameters(new Uint8Array(0)))), 'ERR_EARLY_DATA_MALFORMED');
    assert.equal(code(catching(() => decodeRememberedParameters(EXAMPLE_BYTES.subarray(0, 10)))), 'ERR_EARLY_DATA_MALFORMED');
    const trailing = Uint8Array.of(...EXAMPLE_BYTES, 0);
    assert.equal(code(catching(() => decodeRememberedParameters(trailing))), 'ERR_EARLY_DATA_MALFORMED');
    // max_udp_payload_size 1199 (RFC 9000 section 18.2: "Values below 1200 are invalid").
    const small = hex('01 00 44af 43e8 0a 3f 4040 4064 03 02 8000ffff 01');
    assert.equal(code(catching(() => decodeRememberedParameters(small))), 'ERR_EARLY_DATA_MALFORMED');
    // active_connection_id_limit 1 ("MUST be at least 2").
    const cids = hex('01 00 44b0 43e8 0a 3f 4040 4064 03 01 8000ffff 01');
    assert.equal(code(catching(() => decodeRememberedParameters(cids))), 'ERR_EARLY_DATA_MALFORMED');
    // An unknown flag bit.
    const flags = hex('01 00 44b0 43e8 0a 3f 4040 4064 03 02 8000ffff 04');
    assert.equal(code(catching(() => decodeRememberedParameters(flags))), 'ERR_EARLY_DATA_MALFORMED');
  });

  it('corruption invariant: any input decodes or raises an EarlyDataError', () => {
    checkCorruption((b) => decodeRememberedParameters(b), [EXAMPLE_BYTES], {
      numRuns: 300,
      isTypedError: (e) => e instanceof EarlyDataError,
    });
  });
});

describe('server ticket data', () => {
  it('carries the record and the application data, and round-trips (property)', () => {
    const app = Uint8Array.of(9, 8, 7);
    const bytes = encodeServerTicketData({ parameters: EXAMPLE, applicationData: app });
    // format 01, record length 0017 (23 bytes), the record, the application's bytes.
    assert.deepEqual(bytes, Uint8Array.of(1, 0, EXAMPLE_BYTES.length, ...EXAMPLE_BYTES, 9, 8, 7));
    fc.assert(
      fc.property(arbParams, fc.uint8Array({ maxLength: 64 }), (parameters, applicationData) => {
        const d = decodeServerTicketData(encodeServerTicketData({ parameters, applicationData }));
        assert.deepEqual(d.parameters, { ...parameters });
        assert.deepEqual(d.applicationData, applicationData);
      }),
      { numRuns: 200 },
    );
  });

  it('corruption invariant: any input decodes or raises an EarlyDataError', () => {
    const bytes = encodeServerTicketData({ parameters: EXAMPLE, applicationData: Uint8Array.of(1, 2) });
    checkCorruption((b) => decodeServerTicketData(b), [bytes], { numRuns: 300, isTypedError: (e) => e instanceof EarlyDataError });
  });
});

describe('0-RTT parameter checks (RFC 9000 section 7.4.1, RFC 9221 section 3)', () => {
  const lower: [keyof RememberedParameters, string][] = [
    ['activeConnectionIdLimit', 'active_connection_id_limit'],
    ['initialMaxData', 'initial_max_data'],
    ['initialMaxStreamDataBidiLocal', 'initial_max_stream_data_bidi_local'],
    ['initialMaxStreamDataBidiRemote', 'initial_max_stream_data_bidi_remote'],
    ['initialMaxStreamDataUni', 'initial_max_stream_data_uni'],
    ['initialMaxStreamsBidi', 'initial_max_streams_bidi'],
    ['initialMaxStreamsUni', 'initial_max_streams_uni'],
    ['maxDatagramFrameSize', 'max_datagram_frame_size'],
  ];
  for (const [key, name] of lower) {
    it(`${name} below the remembered value is reported by both checks; equal or above is fine`, () => {
      const remembered = EXAMPLE;
      const down = { ...EXAMPLE, [key]: (EXAMPLE[key] as number) - 1 };
      const up = { ...EXAMPLE, [key]: (EXAMPLE[key] as number) + 1 };
      assert.equal(reducedParameter(remembered, down), name);
      assert.equal(serverRejectsFor(remembered, down), name);
      assert.equal(reducedParameter(remembered, up), null);
      assert.equal(serverRejectsFor(remembered, up), null);
      assert.equal(reducedParameter(remembered, remembered), null);
    });
  }

  it('the server also refuses a shorter idle timeout, a smaller UDP payload and newly disabled migration (the MAYs)', () => {
    const base = { ...EXAMPLE, maxIdleTimeout: 30_000, maxUdpPayloadSize: 1500, disableActiveMigration: false };
    assert.equal(serverRejectsFor(base, { ...base, maxIdleTimeout: 29_999 }), 'max_idle_timeout');
    // 0 means no idle timeout: longer than any.
    assert.equal(serverRejectsFor(base, { ...base, maxIdleTimeout: 0 }), null);
    assert.equal(serverRejectsFor({ ...base, maxIdleTimeout: 0 }, base), 'max_idle_timeout');
    assert.equal(serverRejectsFor(base, { ...base, maxUdpPayloadSize: 1400 }), 'max_udp_payload_size');
    assert.equal(serverRejectsFor(base, { ...base, disableActiveMigration: true }), 'disable_active_migration');
    // None of these concern the client's check.
    assert.equal(reducedParameter(base, { ...base, maxIdleTimeout: 1, maxUdpPayloadSize: 1200, disableActiveMigration: true }), null);
  });
});

/** A stream manager double that records the calls and hands out stream IDs in client order. */
class Recorder implements ReplayTarget {
  readonly calls: string[] = [];
  private next = [0, 2];
  constructor(private readonly limit = Infinity) {}
  openStream(bidi: boolean): number | null {
    const i = bidi ? 0 : 1;
    if (this.next[i]! / 4 >= this.limit) return null;
    const id = this.next[i]!;
    this.next[i]! += 4;
    this.calls.push(`open ${id}`);
    return id;
  }
  write(id: number, data: Uint8Array): number {
    this.calls.push(`write ${id} ${Buffer.from(data).toString()}`);
    return data.length;
  }
  finish(id: number): void {
    this.calls.push(`finish ${id}`);
  }
  resetStream(id: number, errorCode: bigint): void {
    this.calls.push(`reset ${id} ${errorCode}`);
  }
  stopSending(id: number, errorCode: bigint): void {
    this.calls.push(`stop ${id} ${errorCode}`);
  }
}

describe('0-RTT journal (RFC 9001 section 4.6.2)', () => {
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);

  it('replays opens, writes, FIN, resets and STOP_SENDING in opening order, with copies of the data', () => {
    const j = new EarlyDataJournal();
    j.opened(0, true);
    j.opened(2, false);
    j.opened(4, true);
    const buf = text('GET a');
    j.wrote(0, buf);
    buf.fill(0); // the application reuses its buffer: the journal kept a copy
    j.wrote(2, text('x'));
    j.finished(0);
    j.reset(2, 7n);
    j.wrote(2, text('after reset'));
    j.wrote(4, text('b'));
    j.stopSending(4, 9n);
    const r = new Recorder();
    assert.deepEqual(j.replay(r), [0, 2, 4]);
    assert.deepEqual(r.calls, ['open 0', 'write 0 GET a', 'finish 0', 'open 2', 'reset 2 7', 'open 4', 'write 4 b', 'stop 4 9']);
    assert.ok(j.isEmpty);
  });

  it('stops at the stream limit and goes on later; writes wait in the journal, bounded by the send buffer size', () => {
    const j = new EarlyDataJournal();
    for (const id of [0, 4, 8]) j.opened(id, true);
    j.wrote(8, text('12345'));
    const first = new Recorder(2);
    assert.deepEqual(j.replay(first), [0, 4]);
    assert.ok(!j.isEmpty && j.has(8) && !j.has(0));
    assert.ok(j.waiting(true) && !j.waiting(false));
    assert.equal(j.writable(8, 8), 3);
    assert.equal(j.write(8, text('6789'), 8), 3);
    assert.equal(j.writable(8, 8), 0);
    j.finished(8);
    assert.equal(j.write(8, text('z'), 100), 0);
    const later = new Recorder();
    later.openStream(true);
    later.openStream(true);
    later.calls.length = 0;
    assert.deepEqual(j.replay(later), [8]);
    assert.deepEqual(later.calls, ['open 8', 'write 8 12345', 'write 8 678', 'finish 8']);
  });

  it('a target that hands out another stream ID is a usage error, not a silent mix-up', () => {
    const j = new EarlyDataJournal();
    j.opened(4, true);
    assert.throws(
      () => j.replay(new Recorder()),
      (e: unknown) => e instanceof Error && (e as { code?: string }).code === 'ERR_USAGE',
    );
  });
});

function catching(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return assert.fail('expected an error');
}
