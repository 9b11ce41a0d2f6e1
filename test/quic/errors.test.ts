import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParseError, PullwireError, UsageError } from '../../src/combinators/errors.js';
import {
  frameEncodingError,
  toTransportError,
  TRANSPORT_ERRORS,
  TransportError,
  transportErrorName,
  type TransportErrorName,
} from '../../src/quic/errors.js';

// RFC 9000 section 20.1 (and RFC 9368 section 4 for 0x11), typed again from the RFC text.
const RFC_CODES: Record<string, number> = {
  NO_ERROR: 0x00,
  INTERNAL_ERROR: 0x01,
  CONNECTION_REFUSED: 0x02,
  FLOW_CONTROL_ERROR: 0x03,
  STREAM_LIMIT_ERROR: 0x04,
  STREAM_STATE_ERROR: 0x05,
  FINAL_SIZE_ERROR: 0x06,
  FRAME_ENCODING_ERROR: 0x07,
  TRANSPORT_PARAMETER_ERROR: 0x08,
  CONNECTION_ID_LIMIT_ERROR: 0x09,
  PROTOCOL_VIOLATION: 0x0a,
  INVALID_TOKEN: 0x0b,
  APPLICATION_ERROR: 0x0c,
  CRYPTO_BUFFER_EXCEEDED: 0x0d,
  KEY_UPDATE_ERROR: 0x0e,
  AEAD_LIMIT_REACHED: 0x0f,
  NO_VIABLE_PATH: 0x10,
  VERSION_NEGOTIATION_ERROR: 0x11,
  CRYPTO_ERROR: 0x0100,
};

describe('transport error table', () => {
  it('has exactly the RFC codes', () => {
    const table = Object.fromEntries(Object.entries(TRANSPORT_ERRORS).map(([k, v]) => [k, v.code]));
    assert.deepEqual(table, RFC_CODES);
    for (const v of Object.values(TRANSPORT_ERRORS)) assert.ok(v.meaning.length > 10);
  });

  it('maps wire codes back to names, CRYPTO_ERROR as a range', () => {
    for (const [name, code] of Object.entries(RFC_CODES)) {
      assert.equal(transportErrorName(code), name);
      assert.equal(transportErrorName(BigInt(code)), name);
    }
    assert.equal(transportErrorName(0x1ff), 'CRYPTO_ERROR');
    assert.equal(transportErrorName(0x128), 'CRYPTO_ERROR');
    assert.equal(transportErrorName(0x12), null);
    assert.equal(transportErrorName(0x200), null);
    assert.equal(transportErrorName(0xff), null);
    assert.equal(transportErrorName((1n << 62n) - 1n), null);
    assert.equal(transportErrorName(-1n), null);
  });
});

describe('TransportError', () => {
  it('carries a stable code, the wire code, the frame type and the reason', () => {
    const e = new TransportError('FRAME_ENCODING_ERROR', 'bad ACK', { frameType: 0x02 });
    assert.ok(e instanceof PullwireError);
    assert.equal(e.code, 'FRAME_ENCODING_ERROR');
    assert.equal(e.errorCode, 0x07);
    assert.equal(e.frameType, 0x02);
    assert.equal(e.reason, 'bad ACK');
    assert.equal(e.parseError, null);
    assert.equal(e.name, 'TransportError');
    assert.equal(new TransportError('PROTOCOL_VIOLATION', 'x').frameType, null);
  });

  it('CRYPTO_ERROR is 0x0100 + the TLS alert (RFC 9001 section 4.8)', () => {
    const e = TransportError.crypto(40, 'handshake_failure');
    assert.equal(e.code, 'CRYPTO_ERROR');
    assert.equal(e.errorCode, 0x128);
    assert.equal(transportErrorName(e.errorCode), 'CRYPTO_ERROR');
  });

  it('every name builds an error with its own code', () => {
    for (const name of Object.keys(TRANSPORT_ERRORS) as TransportErrorName[]) {
      const e = new TransportError(name, 'r');
      assert.equal(e.code, name);
      assert.equal(e.errorCode, RFC_CODES[name]);
    }
  });
});

describe('conversion of codec errors (STYLE.md habit 8)', () => {
  const parseError = new ParseError('ERR_UNEXPECTED_END', 17, 'varint');

  it('turns a ParseError into FRAME_ENCODING_ERROR with the frame type', () => {
    const e = frameEncodingError(parseError, 0x06);
    assert.equal(e.code, 'FRAME_ENCODING_ERROR');
    assert.equal(e.frameType, 0x06);
    assert.equal(e.parseError, parseError);
  });

  it('uses the code it is given (transport parameters)', () => {
    const e = toTransportError(parseError, 'TRANSPORT_PARAMETER_ERROR', null);
    assert.equal(e.code, 'TRANSPORT_PARAMETER_ERROR');
    assert.equal(e.frameType, null);
  });

  it('passes a TransportError through and re-throws anything else', () => {
    const t = new TransportError('PROTOCOL_VIOLATION', 'x', { frameType: 1 });
    assert.equal(frameEncodingError(t, 0x08), t);
    const bug = new TypeError('a bug');
    assert.throws(
      () => frameEncodingError(bug, 1),
      (e) => e === bug,
    );
    const usage = new UsageError('misuse');
    assert.throws(
      () => frameEncodingError(usage, 1),
      (e) => e === usage,
    );
  });
});
