/**
 * RFC 8448 section 4, "Resumed 0-RTT Handshake", through the resumption code the state machines use
 * (session.ts): the section 3 NewSessionTicket becomes a session whose PSK, binder, early secrets,
 * handshake and application secrets are the trace's, the ClientHello with pre_shared_key decodes and
 * re-encodes byte for byte, and the client's binder encoder rebuilds the trace's ClientHello exactly
 * from a placeholder. Every expected value is the RFC's (test/vectors/rfc8448.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeySchedule, Transcript } from '../../../src/quic/tls/key-schedule.js';
import { decodeHandshake, encodeHandshake, type ClientHello } from '../../../src/quic/tls/messages.js';
import {
  QUIC_MAX_EARLY_DATA,
  encodeClientHelloWithBinders,
  obfuscatedTicketAge,
  sessionAllowsEarlyData,
  sessionFromNewSessionTicket,
  ticketAge,
  verifyPskBinder,
} from '../../../src/quic/tls/session.js';
import { TlsAlertError } from '../../../src/quic/tls/errors.js';
import { RFC8448 } from '../../vectors/rfc8448.js';
import { PROVIDERS, PROVIDER_KINDS, hex, toHex } from './support.js';

const full = (b: Uint8Array): string => toHex(b, 1 << 20);
const s3 = RFC8448.simple;
const r = RFC8448.resumed;

/** The section 4 ClientHello, decoded, and its pre_shared_key. */
function trace(): { bytes: Uint8Array; hello: ClientHello; psk: Extract<ClientHello['extensions'][number], { type: 'pre_shared_key' }> } {
  const bytes = hex(r.clientHello);
  const hello = decodeHandshake(bytes);
  assert.ok(hello.type === 'client_hello');
  const psk = hello.extensions.at(-1);
  assert.ok(psk?.type === 'pre_shared_key', 'pre_shared_key is the last extension');
  return { bytes, hello, psk };
}

for (const kind of PROVIDER_KINDS) {
  const p = PROVIDERS[kind];

  describe(`${kind} provider: RFC 8448 section 4 resumption from the section 3 ticket`, () => {
    const nst = decodeHandshake(hex(s3.newSessionTicket));
    assert.ok(nst.type === 'new_session_ticket');
    // The TLS trace's ticket allows 1024 bytes of early data: a non-QUIC value, accepted only by the
    // TLS-level parse here; our QUIC client treats it as a PROTOCOL_VIOLATION (RFC 9001 section 4.6.1).
    const quicNst = {
      ...nst,
      extensions: nst.extensions.map((e) => (e.type === 'early_data' ? { ...e, maxEarlyDataSize: QUIC_MAX_EARLY_DATA } : e)),
    };
    const context = {
      suite: 'TLS_AES_128_GCM_SHA256' as const,
      resumptionMasterSecret: hex(s3.resumptionMasterSecret),
      alpn: 'h3',
      serverName: 'server',
    };

    it('the NewSessionTicket gives the PSK of section 4 and the ticket the section 4 ClientHello offers', () => {
      const session = sessionFromNewSessionTicket(p, quicNst, context, 0)!;
      assert.equal(full(session.psk), s3.resumptionPsk);
      assert.equal(full(session.psk), r.psk);
      const { psk } = trace();
      assert.equal(psk.identities.length, 1);
      assert.deepEqual(session.ticket, psk.identities[0]!.identity);
      assert.equal(session.ticketAgeAdd, nst.ticketAgeAdd);
      assert.equal(session.lifetime, nst.ticketLifetime);
      assert.ok(sessionAllowsEarlyData(session));
      // The trace's own early_data value (not 0xffffffff) is refused in QUIC with PROTOCOL_VIOLATION.
      assert.throws(
        () => sessionFromNewSessionTicket(p, nst, context, 0),
        (e: unknown) => e instanceof TlsAlertError && e.quicError === 'PROTOCOL_VIOLATION',
      );
    });

    it('the ClientHello decodes and re-encodes byte for byte, and the binder encoder rebuilds it from a placeholder', () => {
      const { bytes, hello, psk } = trace();
      assert.equal(full(encodeHandshake(hello)), r.clientHello);
      assert.equal(full(psk.binders[0]!), r.binder);
      const session = sessionFromNewSessionTicket(p, quicNst, context, 0)!;
      // What the client sends: the ClientHello with a zero binder, completed by encodeClientHelloWithBinders.
      const placeholder: ClientHello = {
        ...hello,
        extensions: [...hello.extensions.slice(0, -1), { ...psk, binders: [new Uint8Array(32)] }],
      };
      const prefix = new Transcript(p);
      prefix.setHash('sha256');
      assert.equal(full(encodeClientHelloWithBinders(p, prefix, placeholder, [session.psk])), r.clientHello);
      // What the server checks.
      assert.ok(verifyPskBinder(p, prefix, bytes, hello, 0, session.psk));
      assert.equal(verifyPskBinder(p, prefix, bytes, hello, 1, session.psk), false);
      assert.equal(verifyPskBinder(p, prefix, bytes, hello, 0, hex(s3.resumptionMasterSecret)), false);
      const flipped = bytes.slice();
      flipped[flipped.length - 1]! ^= 1;
      assert.equal(verifyPskBinder(p, prefix, flipped, decodeHandshake(flipped) as ClientHello, 0, session.psk), false);
      // An external PSK uses another label ("ext binder"): the same key does not verify.
      assert.equal(verifyPskBinder(p, prefix, bytes, hello, 0, session.psk, 'external'), false);
    });

    it("the obfuscated ticket age is the client's age plus ticket_age_add, mod 2^32 (RFC 8446 section 4.2.11.1)", () => {
      const { psk } = trace();
      const obfuscated = psk.identities[0]!.obfuscatedTicketAge;
      // The age the trace's client claims, computed here with BigInt arithmetic.
      const age = Number((BigInt(obfuscated) - BigInt(nst.ticketAgeAdd) + 2n ** 32n) % 2n ** 32n);
      const session = sessionFromNewSessionTicket(p, quicNst, context, 1_000_000)!;
      assert.equal(obfuscatedTicketAge(session, 1_000_000 + age), obfuscated);
      assert.equal(ticketAge(session, 1_000_000 + age), age);
      // The ticket lives 30 seconds (ticket_lifetime 0x1e); the trace resumes within it.
      assert.ok(age < nst.ticketLifetime * 1000, `age ${age} ms within the lifetime`);
    });

    it('the PSK gives the early, handshake and application secrets of the trace', () => {
      const session = sessionFromNewSessionTicket(p, quicNst, context, 0)!;
      const ks = new KeySchedule(p, 'sha256', session.psk);
      assert.equal(full(ks.earlySecret), r.earlySecret);
      assert.equal(full(ks.binderKey('resumption')), r.binderKey);
      const t = new Transcript(p);
      t.setHash('sha256');
      t.add(hex(r.clientHello));
      assert.equal(full(t.digest()), r.clientHelloHash);
      assert.equal(full(ks.clientEarlyTrafficSecret(t.digest())), r.clientEarlyTrafficSecret);
      assert.equal(full(ks.earlyExporterMasterSecret(t.digest())), r.earlyExporterMasterSecret);

      // ServerHello selects identity 0 (section 4.2.11) and round-trips.
      const sh = decodeHandshake(hex(r.serverHello));
      assert.ok(sh.type === 'server_hello');
      assert.deepEqual(
        sh.extensions.find((e) => e.type === 'pre_shared_key'),
        { type: 'pre_shared_key', selectedIdentity: 0 },
      );
      assert.equal(full(encodeHandshake(sh)), r.serverHello);
      t.add(hex(r.serverHello));
      assert.equal(full(t.digest()), r.helloHash);
      assert.equal(full(ks.toHandshake(hex(r.sharedSecret))), r.handshakeSecret);
      assert.equal(full(ks.clientHandshakeTrafficSecret(t.digest())), r.clientHandshakeTrafficSecret);
      assert.equal(full(ks.serverHandshakeTrafficSecret(t.digest())), r.serverHandshakeTrafficSecret);

      // EncryptedExtensions accepts early data (section 4.2.10) and round-trips.
      const ee = decodeHandshake(hex(r.encryptedExtensions));
      assert.ok(ee.type === 'encrypted_extensions');
      assert.ok(ee.extensions.some((e) => e.type === 'early_data'));
      assert.equal(full(encodeHandshake(ee)), r.encryptedExtensions);
      t.add(hex(r.encryptedExtensions));
      t.add(hex(r.serverFinished));
      assert.equal(full(t.digest()), r.serverFinishedHash);
      assert.equal(full(ks.toMaster()), r.masterSecret);
      assert.equal(full(ks.clientApplicationTrafficSecret(t.digest())), r.clientApplicationTrafficSecret);
      assert.equal(full(ks.serverApplicationTrafficSecret(t.digest())), r.serverApplicationTrafficSecret);
    });
  });
}
