/**
 * The handshake-message framer: the chunk-split property on RFC 8448 flights (every way of cutting the
 * CRYPTO stream gives the same messages), the message size limit, key-change boundaries, and the
 * corruption invariant for framer + decoder together.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HandshakeFramer, type FramedMessage, type HandshakeFramerOptions } from '../../../src/quic/tls/framer.js';
import { TlsAlertError } from '../../../src/quic/tls/errors.js';
import { decodeHandshake } from '../../../src/quic/tls/messages.js';
import { backToBack, checkCorruption, checkSplits, fixture, type SplitDriver, type SplitFixture } from '../../support/splits.js';
import { RFC8448, RFC8448_MESSAGES } from '../../vectors/rfc8448.js';
import { alert, concat, hex } from './support.js';

/** The split-property driver: feed chunks, read messages until `want` are out, leave the rest alone. */
function framerDriver(options: HandshakeFramerOptions = {}): SplitDriver<FramedMessage> {
  return (want) => {
    const framer = new HandshakeFramer(options);
    let got = 0;
    const pull = (): FramedMessage[] => {
      const out: FramedMessage[] = [];
      while (got < want) {
        const m = framer.read();
        if (m === null) break;
        out.push(m);
        got++;
      }
      return out;
    };
    return {
      feed(chunk) {
        framer.feed(chunk);
        return pull();
      },
      needed: () => framer.needed,
      rest: () => framer.takeRest(),
    };
  };
}

/** The expected framing of one message, built from the vector bytes alone. */
function framed(messageHex: string): SplitFixture<FramedMessage> {
  const b = hex(messageHex);
  return fixture(b, { msgType: b[0]!, bytes: b, body: b.subarray(4) });
}

describe('handshake framer: chunk splits (STYLE.md habit 6)', () => {
  const s = RFC8448.simple;

  it("RFC 8448 section 3 server Handshake flight: EncryptedExtensions, Certificate, CertificateVerify, Finished in one record's bytes", () => {
    const fx = backToBack(framed(s.encryptedExtensions), framed(s.certificate), framed(s.certificateVerify), framed(s.serverFinished));
    // The trace sent them as one record: the same bytes.
    assert.deepEqual(fx.input, hex(s.serverFlight));
    checkSplits(framerDriver(), fx, { numRuns: 60 });
  });

  it('RFC 8448 section 5 Initial-level messages: ClientHello1, HelloRetryRequest, ClientHello2, ServerHello back to back', () => {
    const h = RFC8448.helloRetry;
    checkSplits(
      framerDriver(),
      backToBack(framed(h.clientHello1), framed(h.helloRetryRequest), framed(h.clientHello2), framed(h.serverHello)),
      {
        numRuns: 40,
        maxTwoWay: 200,
      },
    );
  });

  it('an empty-bodied message and trailing bytes that start another message', () => {
    // A zero-length Finished is framed (the decoder judges its length), and a partial header stays buffered.
    checkSplits(framerDriver(), backToBack(framed('14000000'), framed(s.clientFinished)), { trailing: hex('0800'), numRuns: 40 });
  });

  it('hands out owned copies: modifying a fed chunk afterwards does not change a message', () => {
    const framer = new HandshakeFramer();
    const chunk = hex(s.serverFlight);
    const messages = framer.push(chunk);
    chunk.fill(0);
    assert.equal(messages.length, 4);
    assert.deepEqual(
      messages.map((m) => m.msgType),
      [8, 11, 15, 20],
    );
    assert.deepEqual(messages[3]!.bytes, hex(s.serverFinished));
    assert.equal(decodeHandshake(messages[1]!.bytes).type, 'certificate');
  });
});

describe('handshake framer: limits and boundaries', () => {
  it('refuses a message longer than maxMessageSize as soon as its header is in (illegal_parameter)', () => {
    const framer = new HandshakeFramer({ maxMessageSize: 400 });
    const cert = hex(RFC8448.simple.certificate); // 441-byte body
    framer.feed(cert.subarray(0, 3));
    assert.equal(framer.read(), null);
    framer.feed(cert.subarray(3, 4));
    assert.throws(() => framer.read(), alert('illegal_parameter'));
    // After an error every call raises the same alert.
    assert.throws(() => framer.feed(new Uint8Array(1)), alert('illegal_parameter'));
    assert.throws(() => framer.read(), alert('illegal_parameter'));
  });

  it('the default limit is 64 KiB', () => {
    const framer = new HandshakeFramer();
    assert.equal(framer.maxMessageSize, 65536);
    assert.deepEqual(framer.push(concat(hex('0b010000'), new Uint8Array(100))), []);
    assert.throws(() => new HandshakeFramer().push(hex('0b010001')), alert('illegal_parameter'));
  });

  it('a partial message at a key change is unexpected_message (RFC 8446 section 5.1)', () => {
    const framer = new HandshakeFramer();
    framer.checkBoundary();
    const fin = hex(RFC8448.simple.serverFinished);
    assert.equal(framer.push(fin.subarray(0, 10)).length, 0);
    assert.equal(framer.buffered, 10);
    assert.equal(framer.needed, 26);
    assert.throws(() => framer.checkBoundary(), alert('unexpected_message'));
    const whole = new HandshakeFramer();
    assert.equal(whole.push(fin).length, 1);
    whole.checkBoundary();
  });
});

describe('framer + decoder corruption invariant: any CRYPTO stream gives messages or a TLS alert', () => {
  it('on mutations of RFC 8448 flights', () => {
    const decodeStream = (input: Uint8Array): unknown[] => {
      const framer = new HandshakeFramer({ maxMessageSize: 4096 });
      const out: unknown[] = [];
      for (let at = 0; at < input.length; at += 7) {
        for (const m of framer.push(input.subarray(at, at + 7))) out.push(decodeHandshake(m.bytes));
      }
      return out;
    };
    const flights = [
      hex(RFC8448.simple.serverFlight),
      concat(hex(RFC8448.simple.clientHello), hex(RFC8448.simple.serverHello)),
      ...RFC8448_MESSAGES.filter((m) => m.section === 6 && m.who === 'client').map((m) => hex(m.hex)),
    ];
    // EndOfEarlyData and KeyUpdate are alerts too, so every fixture is valid input here.
    checkCorruption(decodeStream, flights, { isTypedError: (e) => e instanceof TlsAlertError, numRuns: 60 });
  });
});
