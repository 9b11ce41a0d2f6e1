/**
 * Session tickets, PSK resumption and 0-RTT (RFC 8446 sections 2.2, 2.3, 4.2.9-4.2.11, 4.6.1, 8;
 * RFC 9001 sections 4.5, 4.6): our client against our server in memory, for both providers, with the
 * wire checked independently where it can be (binders and early secrets recomputed here with
 * node:crypto's HMAC, message types read off the flights).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { createHash, createHmac, createPrivateKey } from 'node:crypto';
import { UsageError } from '../../../src/combinators/errors.js';
import type { CipherSuite, CryptoProvider, NamedGroup, Signer } from '../../../src/quic/crypto/provider.js';
import { loadCertificateChain, loadPrivateKey } from '../../../src/quic/crypto/node.js';
import { createPacketKeys, protect, unprotect } from '../../../src/quic/packet-protection.js';
import { QUIC_V1 } from '../../../src/quic/version.js';
import { TlsClient, type CertificateVerifier, type TlsClientOptions } from '../../../src/quic/tls/client.js';
import { TlsServer, type TlsServerOptions } from '../../../src/quic/tls/server.js';
import { nodeCertificateVerifier } from '../../../src/quic/tls/node.js';
import type { EncryptionLevel, HandshakeOutput } from '../../../src/quic/tls/handshake.js';
import { HandshakeFramer } from '../../../src/quic/tls/framer.js';
import { decodeHandshake, encodeHandshake, type ClientHello } from '../../../src/quic/tls/messages.js';
import { TlsAlertError } from '../../../src/quic/tls/errors.js';
import {
  QUIC_MAX_EARLY_DATA,
  SessionTicketError,
  decodeSessionTicket,
  encodeSessionTicket,
  type SessionTicket,
} from '../../../src/quic/tls/session.js';
import { SingleUseTicketCache, openTicket, type EarlyDataInfo } from '../../../src/quic/tls/tickets.js';
import { PROVIDERS, PROVIDER_KINDS, alert, concat, type ProviderKind } from './support.js';

const CERTS = '/work/shared/peers/certs';
const PEM = {
  ecdsa: { cert: readFileSync(`${CERTS}/ecdsa-cert.pem`, 'utf8'), key: readFileSync(`${CERTS}/ecdsa-key.pem`, 'utf8') },
  rsa: { cert: readFileSync(`${CERTS}/rsa-cert.pem`, 'utf8'), key: readFileSync(`${CERTS}/rsa-key.pem`, 'utf8') },
};
const CLIENT_TP = Uint8Array.of(0x01, 0x02, 0x03);
const SERVER_TP = Uint8Array.of(0x0f, 0x04, 0xaa, 0xbb, 0xcc, 0xdd);
const SERVER_APP = new TextEncoder().encode('server transport parameters v1');
const TICKET_KEY = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
const HOUR = 3600_000;

// Handshake message types (RFC 8446 section 4).
const EE = 8;
const CERTIFICATE = 11;
const CERTIFICATE_REQUEST = 13;
const CERTIFICATE_VERIFY = 15;
const FINISHED = 20;

function signerFor(kind: ProviderKind): Signer {
  if (kind === 'node') return loadPrivateKey(PEM.ecdsa.key);
  const jwk = createPrivateKey(PEM.ecdsa.key).export({ format: 'jwk' });
  return PROVIDERS.noble.createSigner({ type: 'ecdsa-p256', privateKey: new Uint8Array(Buffer.from(jwk.d!, 'base64url')) });
}

/** A certificate verifier that counts its calls (and really verifies). */
function countingVerifier(): { verify: CertificateVerifier; calls: () => number } {
  const inner = nodeCertificateVerifier({ ca: [PEM.ecdsa.cert] });
  let n = 0;
  return {
    verify: (chain, name) => {
      n++;
      inner(chain, name);
    },
    calls: () => n,
  };
}

const TICKETS = { key: TICKET_KEY, maxEarlyData: QUIC_MAX_EARLY_DATA, applicationData: SERVER_APP } as const;

function makeClient(kind: ProviderKind, o: Partial<TlsClientOptions> = {}): TlsClient {
  return new TlsClient({
    provider: PROVIDERS[kind],
    serverName: 'localhost',
    alpn: ['h3', 'hq-interop'],
    transportParameters: CLIENT_TP,
    verifyCertificate: nodeCertificateVerifier({ ca: [PEM.ecdsa.cert] }),
    ...o,
  });
}

function makeServer(kind: ProviderKind, o: Partial<TlsServerOptions> = {}): TlsServer {
  return new TlsServer({
    provider: PROVIDERS[kind],
    certificateChain: loadCertificateChain(PEM.ecdsa.cert),
    signer: signerFor(kind),
    alpn: ['hq-interop', 'h3'],
    transportParameters: SERVER_TP,
    tickets: TICKETS,
    ...o,
  });
}

interface Flight {
  readonly from: 'client' | 'server';
  readonly level: EncryptionLevel;
  readonly data: Uint8Array;
}
type Tamper = (from: 'client' | 'server', level: EncryptionLevel, data: Uint8Array) => Uint8Array;

interface RunOptions {
  readonly tamper?: Tamper;
  /** The client's and the server's `now` (ms). */
  readonly clientNow?: number;
  readonly serverNow?: number;
}

/** Runs a handshake to its end (or the first alert), with the outputs and the flights in order. */
function run(client: TlsClient, server: TlsServer, o: RunOptions = {}) {
  const tamper = o.tamper ?? ((_f, _l, d) => d);
  const clientOut: HandshakeOutput[] = [];
  const serverOut: HandshakeOutput[] = [];
  const flights: Flight[] = [];
  client.start(o.clientNow ?? 0);
  for (let round = 0; round < 10; round++) {
    const c = client.takeOutputs();
    clientOut.push(...c);
    for (const x of c) {
      if (x.type !== 'send') continue;
      const data = tamper('client', x.level, x.data);
      flights.push({ from: 'client', level: x.level, data });
      server.receive(x.level, data, o.serverNow ?? 0);
    }
    const s = server.takeOutputs();
    serverOut.push(...s);
    for (const x of s) {
      if (x.type !== 'send') continue;
      const data = tamper('server', x.level, x.data);
      flights.push({ from: 'server', level: x.level, data });
      client.receive(x.level, data, o.clientNow ?? 0);
    }
    if (c.length === 0 && s.length === 0) break;
  }
  clientOut.push(...client.takeOutputs());
  return { clientOut, serverOut, flights };
}

function all<T extends HandshakeOutput['type']>(out: readonly HandshakeOutput[], type: T): Extract<HandshakeOutput, { type: T }>[] {
  return out.filter((x): x is Extract<HandshakeOutput, { type: T }> => x.type === type);
}

function only<T extends HandshakeOutput['type']>(out: readonly HandshakeOutput[], type: T): Extract<HandshakeOutput, { type: T }> {
  const found = all(out, type);
  assert.equal(found.length, 1, `one ${type} output`);
  return found[0]!;
}

function keysOf(out: readonly HandshakeOutput[], level: 'early' | 'handshake' | 'application', direction: 'read' | 'write') {
  const found = all(out, 'keys').filter((k) => k.level === level && k.direction === direction);
  assert.equal(found.length, 1, `one ${level} ${direction} key`);
  return found[0]!;
}

function hasKeys(out: readonly HandshakeOutput[], level: 'early'): boolean {
  return all(out, 'keys').some((k) => k.level === level);
}

/** Handshake message types of a flight. */
function types(data: Uint8Array): number[] {
  return new HandshakeFramer().push(data).map((m) => m.msgType);
}

/** The server's handshake-level flight. */
function serverFlightTypes(flights: readonly Flight[]): number[] {
  const f = flights.find((x) => x.from === 'server' && x.level === 'handshake');
  assert.ok(f !== undefined);
  return types(f.data);
}

/** The last ClientHello sent. */
function lastClientHello(flights: readonly Flight[]): { bytes: Uint8Array; hello: ClientHello } {
  const f = flights.filter((x) => x.from === 'client' && x.level === 'initial').at(-1)!;
  const hello = decodeHandshake(f.data);
  assert.ok(hello.type === 'client_hello');
  return { bytes: f.data, hello };
}

/** A full handshake with tickets: the sessions the client got. */
function issue(kind: ProviderKind, o: { client?: Partial<TlsClientOptions>; server?: Partial<TlsServerOptions>; now?: number } = {}) {
  const client = makeClient(kind, o.client);
  const server = makeServer(kind, o.server);
  const r = run(client, server, { clientNow: o.now ?? 0, serverNow: o.now ?? 0 });
  assert.equal(client.state, 'client-complete');
  assert.equal(server.state, 'server-complete');
  return { ...r, sessions: all(r.clientOut, 'session-ticket').map((x) => x.session) };
}

function firstSession(kind: ProviderKind, o: Parameters<typeof issue>[1] = {}): SessionTicket {
  const s = issue(kind, o).sessions[0];
  assert.ok(s !== undefined, 'a session ticket');
  return s;
}

// Independent TLS 1.3 key schedule pieces for SHA-256 (RFC 8446 section 7.1, RFC 5869), on node:crypto.
function expandLabel(secret: Uint8Array, label: string, context: Uint8Array, length = 32): Buffer {
  const full = Buffer.from(`tls13 ${label}`);
  const info = Buffer.concat([Buffer.of(length >> 8, length & 0xff, full.length), full, Buffer.of(context.length), context]);
  return createHmac('sha256', secret)
    .update(Buffer.concat([info, Buffer.of(1)]))
    .digest()
    .subarray(0, length);
}
const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();
const earlySecretOf = (psk: Uint8Array): Buffer => createHmac('sha256', Buffer.alloc(32)).update(psk).digest();

/** Protects a packet with `writeSecret`'s QUIC keys and opens it with `readSecret`'s. */
function crossProtect(provider: CryptoProvider, suite: CipherSuite, writeSecret: Uint8Array, readSecret: Uint8Array): void {
  const w = createPacketKeys(provider, QUIC_V1, suite, writeSecret);
  const r = createPacketKeys(provider, QUIC_V1, suite, readSecret);
  const payload = new TextEncoder().encode('0-RTT request');
  const pnOffset = 9;
  const packet = new Uint8Array(pnOffset + 2 + payload.length + 16);
  packet[0] = 0x41;
  packet[pnOffset + 1] = 3;
  packet.set(payload, pnOffset + 2);
  protect(packet, pnOffset, 2, pnOffset + 2 + payload.length, 3, w);
  const res = unprotect(packet, pnOffset, r, (t) => t);
  assert.ok(res.ok);
  assert.deepEqual(res.payload, payload);
}

describe('session tickets and resumption', () => {
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: a full handshake ends with NewSessionTickets at the application level, one session each`, () => {
      const { sessions, flights, serverOut } = issue(kind, { server: { tickets: { ...TICKETS, count: 2, lifetimeSeconds: 7200 } } });
      only(serverOut, 'complete');
      assert.equal(only(serverOut, 'complete').resumed, false);
      const nstFlight = flights.filter((f) => f.level === 'application');
      assert.equal(nstFlight.length, 1);
      assert.equal(nstFlight[0]!.from, 'server');
      const nsts = new HandshakeFramer().push(nstFlight[0]!.data).map((m) => decodeHandshake(m.bytes));
      assert.equal(nsts.length, 2);
      for (const nst of nsts) {
        assert.ok(nst.type === 'new_session_ticket');
        assert.equal(nst.ticketLifetime, 7200);
        // RFC 9001 section 4.6.1: 0-RTT allowed is signalled with exactly 0xffffffff.
        assert.deepEqual(nst.extensions, [{ type: 'early_data', maxEarlyDataSize: 0xffffffff }]);
      }
      assert.notDeepEqual(nsts[0], nsts[1]);
      assert.equal(sessions.length, 2);
      const [a, b] = sessions as [SessionTicket, SessionTicket];
      assert.notDeepEqual(a.ticket, b.ticket);
      // Different nonces give different PSKs (RFC 8446 section 4.6.1).
      assert.notDeepEqual(a.psk, b.psk);
      assert.equal(a.suite, 'TLS_AES_128_GCM_SHA256');
      assert.equal(a.alpn, 'hq-interop');
      assert.equal(a.serverName, 'localhost');
      assert.equal(a.lifetime, 7200);
      assert.equal(a.maxEarlyDataSize, 0xffffffff);
      assert.equal(a.applicationData.length, 0);
      assert.equal(a.psk.length, 32);
    });

    it(`${kind}: a resumed handshake sends no certificate, verifies none, and reports resumed`, () => {
      const session = firstSession(kind);
      const verifier = countingVerifier();
      const client = makeClient(kind, { session, verifyCertificate: verifier.verify });
      const server = makeServer(kind);
      const { clientOut, serverOut, flights } = run(client, server, { clientNow: 5000, serverNow: 5000 });
      assert.equal(client.state, 'client-complete');
      assert.equal(server.state, 'server-complete');
      assert.deepEqual(only(clientOut, 'complete'), { type: 'complete', resumed: true });
      assert.deepEqual(only(serverOut, 'complete'), { type: 'complete', resumed: true });
      assert.equal(client.resumed, true);
      assert.equal(server.resumed, true);
      assert.equal(verifier.calls(), 0);
      // RFC 8446 section 2.2: EncryptedExtensions and Finished only.
      assert.deepEqual(serverFlightTypes(flights), [EE, FINISHED]);
      assert.deepEqual(server.ticketApplicationData, SERVER_APP);
      // ClientHello: psk_dhe_ke only, a key share, pre_shared_key last with this ticket; no early_data.
      const { hello } = lastClientHello(flights);
      const last = hello.extensions.at(-1);
      assert.ok(last?.type === 'pre_shared_key');
      assert.deepEqual(last.identities[0]!.identity, session.ticket);
      assert.deepEqual(
        hello.extensions.find((e) => e.type === 'psk_key_exchange_modes'),
        { type: 'psk_key_exchange_modes', modes: [1] },
      );
      assert.ok(hello.extensions.some((e) => e.type === 'key_share'));
      assert.ok(!hello.extensions.some((e) => e.type === 'early_data'));
      // ServerHello selects identity 0 and still carries a key share (QUIC keeps (EC)DHE).
      const sh = decodeHandshake(flights.find((f) => f.from === 'server' && f.level === 'initial')!.data);
      assert.ok(sh.type === 'server_hello');
      assert.ok(sh.extensions.some((e) => e.type === 'pre_shared_key' && 'selectedIdentity' in e && e.selectedIdentity === 0));
      assert.ok(sh.extensions.some((e) => e.type === 'key_share'));
      // Both sides agree on every secret; no 0-RTT keys without early data.
      assert.deepEqual(keysOf(clientOut, 'handshake', 'write').secret, keysOf(serverOut, 'handshake', 'read').secret);
      assert.deepEqual(keysOf(clientOut, 'application', 'write').secret, keysOf(serverOut, 'application', 'read').secret);
      assert.deepEqual(keysOf(clientOut, 'application', 'read').secret, keysOf(serverOut, 'application', 'write').secret);
      assert.equal(hasKeys(clientOut, 'early') || hasKeys(serverOut, 'early'), false);
      assert.equal(all(clientOut, 'early-data').length + all(serverOut, 'early-data').length, 0);
      // The resumed session issues new tickets in turn.
      assert.equal(all(clientOut, 'session-ticket').length, 1);
    });

    it(`${kind}: 0-RTT accepted: early write keys right after the ClientHello, the same read keys at the server`, () => {
      const session = firstSession(kind);
      const client = makeClient(kind, { session, earlyData: true });
      client.start(1000);
      const first = client.takeOutputs();
      assert.deepEqual(
        first.map((o) => `${o.type}:${o.type === 'send' || o.type === 'keys' ? o.level : ''}`),
        ['send:initial', 'keys:early'],
      );
      const early = keysOf(first, 'early', 'write');
      assert.equal(early.suite, session.suite);
      const server = makeServer(kind);
      server.receive('initial', (first[0] as { data: Uint8Array }).data, 1000);
      const serverOut = server.takeOutputs();
      assert.deepEqual(only(serverOut, 'early-data'), { type: 'early-data', accepted: true });
      assert.equal(server.earlyDataAccepted, true);
      assert.deepEqual(keysOf(serverOut, 'early', 'read').secret, early.secret);
      crossProtect(PROVIDERS[kind], session.suite, early.secret, keysOf(serverOut, 'early', 'read').secret);
      // Independently: client_early_traffic_secret = Derive-Secret(Early Secret(PSK), "c e traffic", CH).
      const ch = (first[0] as { data: Uint8Array }).data;
      assert.deepEqual(Buffer.from(early.secret), expandLabel(earlySecretOf(session.psk), 'c e traffic', sha256(ch)));
      const ee = new HandshakeFramer().push(
        (serverOut.find((o) => o.type === 'send' && o.level === 'handshake') as { data: Uint8Array }).data,
      )[0]!;
      const eeMessage = decodeHandshake(ee.bytes);
      assert.ok(eeMessage.type === 'encrypted_extensions' && eeMessage.extensions.some((e) => e.type === 'early_data'));
      for (const o of serverOut) if (o.type === 'send') client.receive(o.level, o.data, 1000);
      const clientOut = client.takeOutputs();
      assert.deepEqual(only(clientOut, 'early-data'), { type: 'early-data', accepted: true });
      assert.equal(client.earlyDataAccepted, true);
      for (const o of clientOut) if (o.type === 'send') server.receive(o.level, o.data, 1000);
      assert.equal(only(server.takeOutputs(), 'complete').resumed, true);
      assert.equal(only(clientOut, 'complete').resumed, true);
    });

    it(`${kind}: 0-RTT refused by a server with earlyData false: early-data false, resumed handshake completes`, () => {
      const session = firstSession(kind);
      const client = makeClient(kind, { session, earlyData: true });
      const server = makeServer(kind, { earlyData: false });
      const { clientOut, serverOut, flights } = run(client, server);
      assert.ok(hasKeys(clientOut, 'early'));
      assert.equal(hasKeys(serverOut, 'early'), false);
      assert.deepEqual(only(clientOut, 'early-data'), { type: 'early-data', accepted: false });
      assert.deepEqual(only(serverOut, 'early-data'), { type: 'early-data', accepted: false });
      assert.equal(client.state, 'client-complete');
      assert.equal(only(clientOut, 'complete').resumed, true);
      const ee = decodeHandshake(
        new HandshakeFramer().push(flights.find((f) => f.from === 'server' && f.level === 'handshake')!.data)[0]!.bytes,
      );
      assert.ok(ee.type === 'encrypted_extensions' && !ee.extensions.some((e) => e.type === 'early_data'));
    });

    it(`${kind}: an expired ticket is not offered by the client and refused by the server (full handshakes)`, () => {
      const session = firstSession(kind, { server: { tickets: { ...TICKETS, lifetimeSeconds: 60 } } });
      assert.equal(session.lifetime, 60);
      // The client's own clock says it expired: no pre_shared_key, a plain full handshake.
      const a = run(makeClient(kind, { session, earlyData: true }), makeServer(kind), { clientNow: 60_000, serverNow: 60_000 });
      assert.ok(!lastClientHello(a.flights).hello.extensions.some((e) => e.type === 'pre_shared_key'));
      assert.equal(hasKeys(a.clientOut, 'early'), false);
      assert.equal(only(a.clientOut, 'complete').resumed, false);
      // The client thinks it is fresh, the server's clock says it expired: full handshake, certificate
      // verified, 0-RTT rejected.
      const verifier = countingVerifier();
      const client = makeClient(kind, { session, earlyData: true, verifyCertificate: verifier.verify });
      const b = run(client, makeServer(kind), { clientNow: 59_000, serverNow: 61_000 });
      assert.ok(lastClientHello(b.flights).hello.extensions.some((e) => e.type === 'pre_shared_key'));
      assert.equal(client.state, 'client-complete');
      assert.equal(only(b.clientOut, 'complete').resumed, false);
      assert.equal(verifier.calls(), 1);
      assert.deepEqual(serverFlightTypes(b.flights), [EE, CERTIFICATE, CERTIFICATE_VERIFY, FINISHED]);
      assert.deepEqual(only(b.clientOut, 'early-data'), { type: 'early-data', accepted: false });
    });

    it(`${kind}: a tampered ticket, or one sealed under another key, gives a full handshake, not an alert`, () => {
      const session = firstSession(kind);
      const tampered = session.ticket.slice();
      tampered[20]! ^= 0x04;
      for (const [s, server] of [
        [{ ...session, ticket: tampered }, makeServer(kind)],
        [session, makeServer(kind, { tickets: { ...TICKETS, key: new Uint8Array(32).fill(9) } })],
      ] as const) {
        const verifier = countingVerifier();
        const client = makeClient(kind, { session: s, earlyData: true, verifyCertificate: verifier.verify });
        const r = run(client, server);
        assert.equal(client.state, 'client-complete');
        assert.equal(server.state, 'server-complete');
        assert.equal(only(r.clientOut, 'complete').resumed, false);
        assert.equal(verifier.calls(), 1);
        assert.equal(server.ticketApplicationData, null);
        assert.deepEqual(only(r.clientOut, 'early-data').accepted, false);
      }
    });

    it(`${kind}: ALPN changed on resumption: 0-RTT rejected, the PSK still accepted`, () => {
      // The first connection negotiates h3 (the only protocol the client offers).
      const session = firstSession(kind, { client: { alpn: ['h3'] } });
      assert.equal(session.alpn, 'h3');
      // Now both are offered and the server prefers hq-interop: the early data was for h3.
      const client = makeClient(kind, { session, earlyData: true, alpn: ['h3', 'hq-interop'] });
      const server = makeServer(kind);
      const r = run(client, server);
      assert.ok(hasKeys(r.clientOut, 'early'));
      assert.equal(only(r.clientOut, 'alpn').protocol, 'hq-interop');
      assert.deepEqual(only(r.serverOut, 'early-data'), { type: 'early-data', accepted: false });
      assert.deepEqual(only(r.clientOut, 'early-data'), { type: 'early-data', accepted: false });
      assert.equal(only(r.clientOut, 'complete').resumed, true);
    });

    it(`${kind}: a HelloRetryRequest rejects 0-RTT; the second ClientHello keeps the PSK with a new binder`, () => {
      const session = firstSession(kind);
      const client = makeClient(kind, { session, earlyData: true, groups: ['x25519', 'secp256r1'] });
      const server = makeServer(kind, { groups: ['secp256r1'] });
      const r = run(client, server, { clientNow: 2000, serverNow: 2000 });
      const hellos = r.flights
        .filter((f) => f.from === 'client' && f.level === 'initial')
        .map((f) => decodeHandshake(f.data) as ClientHello);
      assert.equal(hellos.length, 2);
      assert.ok(hellos[0]!.extensions.some((e) => e.type === 'early_data'));
      assert.ok(!hellos[1]!.extensions.some((e) => e.type === 'early_data'));
      const binders = hellos.map((h) => {
        const last = h.extensions.at(-1);
        assert.ok(last?.type === 'pre_shared_key');
        return last.binders[0]!;
      });
      assert.notDeepEqual(binders[0], binders[1]);
      assert.deepEqual(only(r.clientOut, 'early-data'), { type: 'early-data', accepted: false });
      assert.deepEqual(only(r.serverOut, 'early-data'), { type: 'early-data', accepted: false });
      assert.equal(hasKeys(r.serverOut, 'early'), false);
      assert.equal(client.state, 'client-complete');
      assert.equal(only(r.clientOut, 'complete').resumed, true);
      assert.deepEqual(keysOf(r.clientOut, 'application', 'write').secret, keysOf(r.serverOut, 'application', 'read').secret);
    });

    it(`${kind}: a session stored with encodeSessionTicket resumes after decodeSessionTicket`, () => {
      const stored = encodeSessionTicket({ ...firstSession(kind), applicationData: SERVER_TP });
      const session = decodeSessionTicket(stored);
      assert.deepEqual(session.applicationData, SERVER_TP);
      const client = makeClient(kind, { session, earlyData: true });
      const r = run(client, makeServer(kind));
      assert.equal(only(r.clientOut, 'complete').resumed, true);
      assert.equal(only(r.clientOut, 'early-data').accepted, true);
    });
  }

  it('the ClientHello binder matches an independent computation over the truncated ClientHello (RFC 8446 section 4.2.11.2)', () => {
    const session = firstSession('node');
    const client = makeClient('node', { session });
    const r = run(client, makeServer('node'), { clientNow: 12_345 });
    const { bytes, hello } = lastClientHello(r.flights);
    const last = hello.extensions.at(-1);
    assert.ok(last?.type === 'pre_shared_key');
    // binders<33..2^16-1> with one 32-byte entry: 2 + 1 + 32 bytes at the end.
    const truncated = bytes.subarray(0, bytes.length - 35);
    const binderKey = expandLabel(earlySecretOf(session.psk), 'res binder', sha256(new Uint8Array(0)));
    const expected = createHmac('sha256', expandLabel(binderKey, 'finished', new Uint8Array(0)))
      .update(sha256(truncated))
      .digest();
    assert.deepEqual(Buffer.from(last.binders[0]!), expected);
    // obfuscated_ticket_age = age + ticket_age_add mod 2^32 (RFC 8446 section 4.2.11.1).
    assert.equal(last.identities[0]!.obfuscatedTicketAge, Number((12_345n + BigInt(session.ticketAgeAdd)) % 2n ** 32n));
  });

  it('a wrong binder is decrypt_error at the server', () => {
    const session = firstSession('node');
    const client = makeClient('node', { session });
    const server = makeServer('node');
    const tamper: Tamper = (from, level, data) => {
      if (from !== 'client' || level !== 'initial') return data;
      const c = data.slice();
      c[c.length - 1]! ^= 0x80;
      return c;
    };
    assert.throws(() => run(client, server, { tamper }), alert('decrypt_error'));
    assert.equal(server.error?.code, 'decrypt_error');
  });

  it('pre_shared_key not the last extension is illegal_parameter at the server', () => {
    const session = firstSession('node');
    const tamper: Tamper = (from, level, data) => {
      if (from !== 'client' || level !== 'initial') return data;
      const ch = decodeHandshake(data) as ClientHello;
      const psk = ch.extensions.at(-1);
      assert.ok(psk?.type === 'pre_shared_key');
      // The extension block starts after header (4), version (2), random (32), session id, suites and
      // compression methods; the pre_shared_key extension is its tail: move it to the front by hand
      // (the encoder refuses to write this).
      const blockStart = 4 + 2 + 32 + 1 + ch.legacySessionId.length + 2 + 2 * ch.cipherSuites.length + 1 + 1 + 2;
      const pskLength =
        4 + 2 + psk.identities.reduce((n, i) => n + 2 + i.identity.length + 4, 0) + 2 + psk.binders.reduce((n, b) => n + 1 + b.length, 0);
      const tail = data.subarray(data.length - pskLength);
      assert.equal((tail[0]! << 8) | tail[1]!, 41);
      return concat(data.subarray(0, blockStart), tail, data.subarray(blockStart, data.length - pskLength));
    };
    const server = makeServer('node');
    assert.throws(() => run(makeClient('node', { session }), server, { tamper }), alert('illegal_parameter'));
    assert.equal(server.error?.code, 'illegal_parameter');
  });

  it('pre_shared_key without psk_key_exchange_modes is missing_extension (RFC 8446 section 4.2.9)', () => {
    const session = firstSession('node');
    const tamper: Tamper = (from, level, data) => {
      if (from !== 'client' || level !== 'initial') return data;
      const ch = decodeHandshake(data) as ClientHello;
      return encodeHandshake({ ...ch, extensions: ch.extensions.filter((e) => e.type !== 'psk_key_exchange_modes') });
    };
    assert.throws(() => run(makeClient('node', { session }), makeServer('node'), { tamper }), alert('missing_extension'));
  });

  it('psk_ke only (no psk_dhe_ke): the server declines the PSK and runs a full handshake', () => {
    const session = firstSession('node');
    const client = makeClient('node', { session });
    const server = makeServer('node');
    const tamper: Tamper = (from, level, data) => {
      if (from !== 'client' || level !== 'initial') return data;
      const ch = decodeHandshake(data) as ClientHello;
      return encodeHandshake({
        ...ch,
        extensions: ch.extensions.map((e) => (e.type === 'psk_key_exchange_modes' ? { ...e, modes: [0] } : e)),
      });
    };
    // The client's transcript has the original ClientHello, so it refuses the server's CertificateVerify
    // (decrypt_error); the point is that the server did not resume and raised no alert itself.
    assert.throws(() => run(client, server, { tamper }), alert('decrypt_error'));
    assert.equal(client.state, 'client-expect-certificate-verify');
    assert.equal(server.error, null);
    assert.equal(server.resumed, false);
  });

  it('a selected_identity out of range is illegal_parameter at the client', () => {
    const session = firstSession('node');
    const client = makeClient('node', { session });
    const tamper: Tamper = (from, level, data) => {
      if (from !== 'server' || level !== 'initial') return data;
      const sh = decodeHandshake(data);
      assert.ok(sh.type === 'server_hello');
      return encodeHandshake({
        ...sh,
        extensions: sh.extensions.map((e) => (e.type === 'pre_shared_key' ? { ...e, selectedIdentity: 1 } : e)),
      });
    };
    assert.throws(() => run(client, makeServer('node'), { tamper }), alert('illegal_parameter'));
    assert.equal(client.error?.code, 'illegal_parameter');
  });

  it('a ServerHello selecting a PSK the client did not offer is unsupported_extension', () => {
    const client = makeClient('node');
    const tamper: Tamper = (from, level, data) => {
      if (from !== 'server' || level !== 'initial') return data;
      const sh = decodeHandshake(data);
      assert.ok(sh.type === 'server_hello');
      return encodeHandshake({ ...sh, extensions: [...sh.extensions, { type: 'pre_shared_key', selectedIdentity: 0 }] });
    };
    assert.throws(() => run(client, makeServer('node'), { tamper }), alert('unsupported_extension'));
  });

  it('early_data in EncryptedExtensions when the client did not offer it is unsupported_extension', () => {
    const session = firstSession('node');
    const client = makeClient('node', { session });
    const server = makeServer('node');
    client.start();
    for (const o of client.takeOutputs()) if (o.type === 'send') server.receive(o.level, o.data);
    const out = server.takeOutputs();
    const sh = out.find((o) => o.type === 'send' && o.level === 'initial') as { data: Uint8Array };
    client.receive('initial', sh.data);
    // An EncryptedExtensions with early_data (the transcript does not matter: the check comes first).
    const ee = encodeHandshake({
      type: 'encrypted_extensions',
      extensions: [
        { type: 'application_layer_protocol_negotiation', protocols: [new TextEncoder().encode('hq-interop')] },
        { type: 'quic_transport_parameters', data: SERVER_TP },
        { type: 'early_data' },
      ],
    });
    assert.throws(() => client.receive('handshake', ee), alert('unsupported_extension'));
  });

  it('a NewSessionTicket with max_early_data_size other than 0xffffffff is a PROTOCOL_VIOLATION (RFC 9001 section 4.6.1)', () => {
    const client = makeClient('node');
    run(client, makeServer('node', { tickets: { ...TICKETS, count: 0 } }));
    assert.equal(client.state, 'client-complete');
    const nst = (extensions: { type: 'early_data'; maxEarlyDataSize: number }[], ticketLifetime = 600) =>
      encodeHandshake({
        type: 'new_session_ticket',
        ticketLifetime,
        ticketAgeAdd: 5,
        ticketNonce: Uint8Array.of(1),
        ticket: Uint8Array.of(9, 9),
        extensions,
      });
    // Lifetime 0: discard; over 7 days: capped; then the bad early_data value.
    client.receive('application', nst([], 0), 10);
    client.receive('application', nst([{ type: 'early_data', maxEarlyDataSize: 0xffffffff }], 700_000), 10);
    const sessions = all(client.takeOutputs(), 'session-ticket');
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]!.session.lifetime, 604800);
    assert.equal(sessions[0]!.session.receivedAt, 10);
    assert.equal(sessions[0]!.session.maxEarlyDataSize, 0xffffffff);
    let caught: unknown;
    try {
      client.receive('application', nst([{ type: 'early_data', maxEarlyDataSize: 16384 }]));
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof TlsAlertError);
    assert.equal(caught.quicError, 'PROTOCOL_VIOLATION');
    assert.equal(caught.transportErrorCode, 0x0a);
    assert.equal(caught.toTransportError().code, 'PROTOCOL_VIOLATION');
  });

  it('a ticket for another server name, or whose hash no offered suite has, is not offered', () => {
    const session = firstSession('node');
    const a = run(makeClient('node', { session: { ...session, serverName: 'example.org' } }), makeServer('node'));
    assert.ok(!lastClientHello(a.flights).hello.extensions.some((e) => e.type === 'pre_shared_key'));
    const b = run(makeClient('node', { session, cipherSuites: ['TLS_AES_256_GCM_SHA384'] }), makeServer('node'));
    assert.ok(!lastClientHello(b.flights).hello.extensions.some((e) => e.type === 'pre_shared_key'));
    assert.equal(only(b.clientOut, 'complete').resumed, false);
  });

  it('another suite of the same hash still resumes (RFC 8446 section 4.2.11), without 0-RTT', () => {
    const session = firstSession('node');
    assert.equal(session.suite, 'TLS_AES_128_GCM_SHA256');
    const client = makeClient('node', { session, earlyData: true, cipherSuites: ['TLS_CHACHA20_POLY1305_SHA256'] });
    const r = run(client, makeServer('node'));
    assert.equal(client.cipherSuite, 'TLS_CHACHA20_POLY1305_SHA256');
    assert.equal(only(r.clientOut, 'complete').resumed, true);
    // Early data needs the ticket's own suite (section 4.2.10): not attempted.
    assert.equal(hasKeys(r.clientOut, 'early'), false);
    assert.equal(all(r.clientOut, 'early-data').length, 0);
  });

  it('a SHA-384 session resumes with TLS_AES_256_GCM_SHA384 and 0-RTT', () => {
    const session = firstSession('noble', { client: { cipherSuites: ['TLS_AES_256_GCM_SHA384'] } });
    assert.equal(session.psk.length, 48);
    const client = makeClient('noble', { session, earlyData: true });
    const r = run(client, makeServer('noble'));
    assert.equal(client.cipherSuite, 'TLS_AES_256_GCM_SHA384');
    assert.equal(only(r.clientOut, 'early-data').accepted, true);
    assert.deepEqual(keysOf(r.clientOut, 'early', 'write').secret, keysOf(r.serverOut, 'early', 'read').secret);
  });

  it("a client's ticket age far from the server's view rejects 0-RTT (RFC 8446 section 8.3) but resumes", () => {
    const session = firstSession('node');
    // The client claims an age of 0 while the server's clock says an hour passed.
    const r = run(makeClient('node', { session, earlyData: true }), makeServer('node'), { clientNow: 0, serverNow: HOUR });
    assert.equal(only(r.serverOut, 'early-data').accepted, false);
    assert.equal(only(r.clientOut, 'complete').resumed, true);
    // Within the tolerance it is accepted.
    const ok = run(makeClient('node', { session, earlyData: true }), makeServer('node'), { clientNow: HOUR - 3000, serverNow: HOUR });
    assert.equal(only(ok.serverOut, 'early-data').accepted, true);
  });

  it('the earlyData hook sees the ticket; a single-use cache accepts 0-RTT once per ticket', () => {
    const session = firstSession('node');
    const cache = new SingleUseTicketCache(8);
    const seen: EarlyDataInfo[] = [];
    const earlyData = (info: EarlyDataInfo): boolean => {
      seen.push(info);
      return cache.useOnce(info.ticketId, info.expiresAt, info.now);
    };
    const first = run(makeClient('node', { session, earlyData: true }), makeServer('node', { earlyData }), {
      clientNow: 100,
      serverNow: 100,
    });
    const replay = run(makeClient('node', { session, earlyData: true }), makeServer('node', { earlyData }), {
      clientNow: 200,
      serverNow: 200,
    });
    assert.equal(only(first.clientOut, 'early-data').accepted, true);
    assert.equal(only(replay.clientOut, 'early-data').accepted, false);
    assert.equal(only(replay.clientOut, 'complete').resumed, true);
    assert.equal(seen.length, 2);
    const info = seen[0]!;
    assert.equal(info.alpn, 'hq-interop');
    assert.equal(info.serverName, 'localhost');
    assert.deepEqual(info.applicationData, SERVER_APP);
    assert.equal(info.now, 100);
    assert.equal(info.clientTicketAge, 100);
    assert.equal(info.expiresAt - info.issuedAt, 86400_000);
    assert.equal(seen[1]!.ticketId, info.ticketId);
    // Another ticket of the same connection has another id.
    const other = issue('node', { server: { tickets: { ...TICKETS, count: 2 } } }).sessions;
    const ids = other.map((s) => openTicket(PROVIDERS.node, TICKET_KEY, s.ticket)!.id);
    assert.notEqual(ids[0], ids[1]);
  });

  it('SingleUseTicketCache: once per id, entries live until their expiry, full cache refuses', () => {
    const cache = new SingleUseTicketCache(2);
    assert.equal(cache.useOnce('a', 100, 0), true);
    assert.equal(cache.useOnce('a', 100, 50), false);
    assert.equal(cache.useOnce('b', 200, 50), true);
    // Full of live entries: refuse (fail closed).
    assert.equal(cache.useOnce('c', 300, 60), false);
    // 'a' expired at 100: it makes room, and 'a' itself is usable again (its ticket is dead anyway).
    assert.equal(cache.useOnce('c', 300, 150), true);
    assert.equal(cache.size, 2);
    assert.equal(cache.useOnce('b', 200, 199), false);
    assert.throws(
      () => new SingleUseTicketCache(0),
      (e: unknown) => e instanceof UsageError,
    );
  });

  it('mutual TLS: a resumed session needs no client certificate; a ticket without one is refused by a server requiring it', () => {
    const clientAuthentication = {
      verifyCertificate: nodeCertificateVerifier({ ca: [PEM.rsa.cert], checkServerName: false }),
    };
    const clientCert: Partial<TlsClientOptions> = {
      certificateChain: loadCertificateChain(PEM.rsa.cert),
      signer: loadPrivateKey(PEM.rsa.key),
    };
    const withCert = firstSession('node', { client: clientCert, server: { clientAuthentication } });
    const r = run(makeClient('node', { session: withCert }), makeServer('node', { clientAuthentication }));
    assert.equal(only(r.clientOut, 'complete').resumed, true);
    assert.deepEqual(serverFlightTypes(r.flights), [EE, FINISHED]);
    // A ticket from a server that did not ask for a certificate: full handshake with CertificateRequest.
    const without = firstSession('node');
    const server = makeServer('node', { clientAuthentication });
    const f = run(makeClient('node', { session: without, ...clientCert }), server);
    assert.equal(server.resumed, false);
    assert.equal(server.state, 'server-complete');
    assert.deepEqual(serverFlightTypes(f.flights), [EE, CERTIFICATE_REQUEST, CERTIFICATE, CERTIFICATE_VERIFY, FINISHED]);
  });

  it('bad ticket options are usage errors', () => {
    const bad = (tickets: Partial<NonNullable<TlsServerOptions['tickets']>>) => () =>
      makeServer('node', { tickets: { ...TICKETS, ...tickets } });
    const usage = (e: unknown) => e instanceof UsageError;
    assert.throws(bad({ key: new Uint8Array(31) }), usage);
    assert.throws(bad({ maxEarlyData: 16384 }), usage);
    assert.throws(bad({ lifetimeSeconds: 604801 }), usage);
    assert.throws(bad({ count: 17 }), usage);
    assert.throws(bad({ applicationData: new Uint8Array(40000) }), usage);
    assert.throws(() => makeClient('node').start(Number.NaN), usage);
  });

  it('a server without tickets declines resumption and sends no NewSessionTicket', () => {
    const session = firstSession('node');
    const server = new TlsServer({
      provider: PROVIDERS.node,
      certificateChain: loadCertificateChain(PEM.ecdsa.cert),
      signer: signerFor('node'),
      alpn: ['hq-interop'],
      transportParameters: SERVER_TP,
    });
    const x = run(makeClient('node', { session, earlyData: true }), server);
    assert.equal(only(x.clientOut, 'complete').resumed, false);
    assert.equal(only(x.clientOut, 'early-data').accepted, false);
    assert.equal(x.flights.filter((f) => f.level === 'application').length, 0);
  });
});

describe('stored session tickets (encodeSessionTicket / decodeSessionTicket)', () => {
  const suites: readonly CipherSuite[] = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
  const arbSession: fc.Arbitrary<SessionTicket> = fc
    .record({
      suite: fc.constantFrom(...suites),
      ticket: fc.uint8Array({ minLength: 1, maxLength: 300 }),
      seed: fc.uint8Array({ minLength: 48, maxLength: 48 }),
      alpn: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => new TextEncoder().encode(s).length <= 255),
      serverName: fc.option(fc.domain(), { nil: null }),
      ticketAgeAdd: fc.nat({ max: 0xffffffff }),
      receivedAt: fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.double({ noNaN: true, noDefaultInfinity: true })),
      lifetime: fc.integer({ min: 0, max: 604800 }),
      maxEarlyDataSize: fc.constantFrom(0, 0xffffffff),
      applicationData: fc.uint8Array({ maxLength: 200 }),
    })
    .map(({ seed, ...r }) => ({ ...r, psk: seed.subarray(0, r.suite === 'TLS_AES_256_GCM_SHA384' ? 48 : 32) }));

  it('round trip: decode(encode(s)) equals s', () => {
    fc.assert(
      fc.property(arbSession, (s) => {
        const flat = (t: SessionTicket) => ({ ...t, ticket: [...t.ticket], psk: [...t.psk], applicationData: [...t.applicationData] });
        // deepStrictEqual compares numbers with Object.is: -0 and every double must come back exactly.
        assert.deepEqual(flat(decodeSessionTicket(encodeSessionTicket(s))), flat(s));
      }),
      { numRuns: 200 },
    );
  });

  it('garbage, truncations and bit flips give a SessionTicketError or a valid session, never another error', () => {
    const check = (bytes: Uint8Array): void => {
      try {
        const s = decodeSessionTicket(bytes);
        assert.ok(s.ticket.length > 0);
      } catch (e) {
        assert.ok(e instanceof SessionTicketError, `not a SessionTicketError: ${String(e)}`);
        assert.ok(e.code === 'ERR_SESSION_TICKET_MALFORMED' || e.code === 'ERR_SESSION_TICKET_VERSION');
      }
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => check(b)),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => check(concat(Uint8Array.of(1), b))),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(arbSession, fc.nat(), fc.integer({ min: 0, max: 7 }), fc.nat(), (s, at, bit, cut) => {
        const bytes = encodeSessionTicket(s);
        const flipped = bytes.slice();
        flipped[at % bytes.length]! ^= 1 << bit;
        check(flipped);
        check(bytes.subarray(0, cut % bytes.length));
      }),
      { numRuns: 200 },
    );
  });

  it('typed codes: another version, truncation, an unknown suite, a PSK of the wrong length', () => {
    const s: SessionTicket = {
      ticket: Uint8Array.of(1, 2, 3),
      psk: new Uint8Array(32),
      suite: 'TLS_AES_128_GCM_SHA256',
      alpn: 'h3',
      serverName: 'localhost',
      ticketAgeAdd: 7,
      receivedAt: 1000,
      lifetime: 3600,
      maxEarlyDataSize: 0,
      applicationData: new Uint8Array(0),
    };
    const bytes = encodeSessionTicket(s);
    const code = (c: string) => (e: unknown) => e instanceof SessionTicketError && e.code === c;
    const v2 = bytes.slice();
    v2[0] = 2;
    assert.throws(() => decodeSessionTicket(v2), code('ERR_SESSION_TICKET_VERSION'));
    assert.throws(() => decodeSessionTicket(new Uint8Array(0)), code('ERR_SESSION_TICKET_MALFORMED'));
    assert.throws(() => decodeSessionTicket(bytes.subarray(0, bytes.length - 1)), code('ERR_SESSION_TICKET_MALFORMED'));
    assert.throws(() => decodeSessionTicket(concat(bytes, Uint8Array.of(0))), code('ERR_SESSION_TICKET_MALFORMED'));
    const suite = bytes.slice();
    suite[2] = 0x09; // 0x1309 is no TLS 1.3 suite
    assert.throws(() => decodeSessionTicket(suite), code('ERR_SESSION_TICKET_MALFORMED'));
    // A 32-byte PSK labelled SHA-384 (0x1302).
    const wrongPsk = bytes.slice();
    wrongPsk[2] = 0x02;
    assert.throws(() => decodeSessionTicket(wrongPsk), code('ERR_SESSION_TICKET_MALFORMED'));
    assert.deepEqual(decodeSessionTicket(bytes).serverName, 'localhost');
  });
});

describe('resumed handshake properties', () => {
  const groups: readonly NamedGroup[] = ['x25519'];

  it('a resumed 0-RTT handshake completes with the same secrets whatever the CRYPTO chunking', () => {
    const session = firstSession('node');
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 48 }), { minLength: 1, maxLength: 16 }), (sizes) => {
        const client = makeClient('node', { session, earlyData: true, groups });
        const server = makeServer('node');
        let k = 0;
        const outs: { c: HandshakeOutput[]; s: HandshakeOutput[] } = { c: [], s: [] };
        const feed = (to: TlsClient | TlsServer, from: HandshakeOutput[]): void => {
          for (const o of from) {
            if (o.type !== 'send') continue;
            for (let at = 0; at < o.data.length;) {
              const n = sizes[k++ % sizes.length]!;
              to.receive(o.level, o.data.subarray(at, at + n), 500);
              at += n;
            }
          }
        };
        client.start(500);
        for (let round = 0; round < 4; round++) {
          const c = client.takeOutputs();
          outs.c.push(...c);
          feed(server, c);
          const s = server.takeOutputs();
          outs.s.push(...s);
          feed(client, s);
        }
        outs.c.push(...client.takeOutputs());
        assert.equal(client.state, 'client-complete');
        assert.equal(server.state, 'server-complete');
        assert.equal(only(outs.c, 'early-data').accepted, true);
        assert.equal(only(outs.c, 'complete').resumed, true);
        assert.deepEqual(keysOf(outs.c, 'early', 'write').secret, keysOf(outs.s, 'early', 'read').secret);
        assert.deepEqual(keysOf(outs.c, 'application', 'write').secret, keysOf(outs.s, 'application', 'read').secret);
        assert.equal(all(outs.c, 'session-ticket').length, 1);
      }),
      { numRuns: 25 },
    );
  });

  it('any flipped bit in a resumed handshake flight ends in a TLS alert, a stall, or a full handshake, never another error', () => {
    const session = firstSession('node');
    fc.assert(
      fc.property(fc.nat({ max: 3 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (flight, offset, bit) => {
        const client = makeClient('node', { session, earlyData: true });
        const server = makeServer('node');
        let n = 0;
        const tamper: Tamper = (_f, _l, data) => {
          if (n++ !== flight) return data;
          const c = data.slice();
          c[offset % c.length]! ^= 1 << bit;
          return c;
        };
        try {
          run(client, server, { tamper });
        } catch (e) {
          assert.ok(e instanceof TlsAlertError, `not a TLS alert: ${String(e)}`);
          return;
        }
        // Flights 0-3 (ClientHello, ServerHello, server flight, client Finished) are all in the transcript
        // or the binder: a flip can only leave a side waiting for bytes (a longer length).
        assert.ok(client.state !== 'client-complete' || server.state !== 'server-complete', 'completed despite the flip');
      }),
      { numRuns: 120 },
    );
  });
});
