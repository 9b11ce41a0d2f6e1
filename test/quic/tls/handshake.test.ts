/**
 * Client and server handshake state machines (client.ts, server.ts, node.ts): our client against our
 * server in memory for each provider, suite, group and certificate type, packet keys usable across the
 * two sides, and the failure paths with their alerts.
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
import { TlsClient, type TlsClientOptions } from '../../../src/quic/tls/client.js';
import { TlsServer, type TlsServerOptions } from '../../../src/quic/tls/server.js';
import { nodeCertificateVerifier } from '../../../src/quic/tls/node.js';
import type { EncryptionLevel, HandshakeOutput } from '../../../src/quic/tls/handshake.js';
import { HandshakeFramer } from '../../../src/quic/tls/framer.js';
import { decodeHandshake, encodeHandshake, type ClientHello } from '../../../src/quic/tls/messages.js';
import { TlsAlertError } from '../../../src/quic/tls/errors.js';
import { PROVIDERS, PROVIDER_KINDS, alert, type ProviderKind } from './support.js';

const CERTS = '/work/shared/peers/certs';
const PEM = {
  ecdsa: { cert: readFileSync(`${CERTS}/ecdsa-cert.pem`, 'utf8'), key: readFileSync(`${CERTS}/ecdsa-key.pem`, 'utf8') },
  rsa: { cert: readFileSync(`${CERTS}/rsa-cert.pem`, 'utf8'), key: readFileSync(`${CERTS}/rsa-key.pem`, 'utf8') },
};
type CertKind = keyof typeof PEM;

const SUITES: readonly CipherSuite[] = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
const GROUPS: readonly NamedGroup[] = ['x25519', 'secp256r1'];
const CLIENT_TP = Uint8Array.of(0x01, 0x02, 0x03);
const SERVER_TP = Uint8Array.of(0x0f, 0x04, 0xaa, 0xbb, 0xcc, 0xdd);

/** The server's signer for `cert` on `provider`: the noble provider gets the raw P-256 scalar (it takes no PEM). */
function signerFor(kind: ProviderKind, cert: CertKind): Signer {
  if (kind === 'node' || cert === 'rsa') return loadPrivateKey(PEM[cert].key);
  const jwk = createPrivateKey(PEM[cert].key).export({ format: 'jwk' });
  return PROVIDERS.noble.createSigner({ type: 'ecdsa-p256', privateKey: new Uint8Array(Buffer.from(jwk.d!, 'base64url')) });
}

interface Setup {
  readonly client?: Partial<TlsClientOptions>;
  readonly server?: Partial<TlsServerOptions>;
  readonly clientProvider?: CryptoProvider;
  readonly serverProvider?: CryptoProvider;
  readonly cert?: CertKind;
  readonly serverKind?: ProviderKind;
}

function makePair(s: Setup = {}): { client: TlsClient; server: TlsServer } {
  const cert = s.cert ?? 'ecdsa';
  const client = new TlsClient({
    provider: s.clientProvider ?? PROVIDERS.node,
    serverName: 'localhost',
    alpn: ['h3', 'hq-interop'],
    transportParameters: CLIENT_TP,
    verifyCertificate: nodeCertificateVerifier({ ca: [PEM[cert].cert] }),
    ...s.client,
  });
  const server = new TlsServer({
    provider: s.serverProvider ?? PROVIDERS.node,
    certificateChain: loadCertificateChain(PEM[cert].cert),
    signer: signerFor(s.serverKind ?? 'node', cert),
    alpn: ['hq-interop', 'h3'],
    transportParameters: SERVER_TP,
    ...s.server,
  });
  return { client, server };
}

/** A message in flight, for tests that tamper with the flights. */
type Tamper = (from: 'client' | 'server', level: EncryptionLevel, data: Uint8Array) => Uint8Array;

/** Runs the handshake to completion (or the first alert), returning every output of each side. */
function run(client: TlsClient, server: TlsServer, tamper: Tamper = (_f, _l, d) => d) {
  const clientOut: HandshakeOutput[] = [];
  const serverOut: HandshakeOutput[] = [];
  client.start();
  for (let round = 0; round < 10; round++) {
    const c = client.takeOutputs();
    clientOut.push(...c);
    for (const o of c) if (o.type === 'send') server.receive(o.level, tamper('client', o.level, o.data));
    const s = server.takeOutputs();
    serverOut.push(...s);
    for (const o of s) if (o.type === 'send') client.receive(o.level, tamper('server', o.level, o.data));
    if (c.length === 0 && s.length === 0) break;
  }
  return { clientOut, serverOut };
}

function keysOf(out: readonly HandshakeOutput[], level: 'handshake' | 'application', direction: 'read' | 'write') {
  const k = out.filter((o) => o.type === 'keys' && o.level === level && o.direction === direction);
  assert.equal(k.length, 1, `one ${level} ${direction} key`);
  const o = k[0]!;
  assert.ok(o.type === 'keys');
  return o;
}

function only<T extends HandshakeOutput['type']>(out: readonly HandshakeOutput[], type: T): Extract<HandshakeOutput, { type: T }> {
  const all = out.filter((o): o is Extract<HandshakeOutput, { type: T }> => o.type === type);
  assert.equal(all.length, 1, `one ${type} output`);
  return all[0]!;
}

/** Protects a short-header packet with `writer`'s keys and opens it with `reader`'s. */
function crossProtect(provider: CryptoProvider, suite: CipherSuite, writeSecret: Uint8Array, readSecret: Uint8Array): void {
  const w = createPacketKeys(provider, QUIC_V1, suite, writeSecret);
  const r = createPacketKeys(provider, QUIC_V1, suite, readSecret);
  const payload = new TextEncoder().encode('hello over 1-RTT');
  const pnOffset = 1 + 8;
  const packet = new Uint8Array(pnOffset + 2 + payload.length + 16);
  packet[0] = 0x40 | 0x01; // short header, 2-byte packet number
  packet.fill(7, 1, pnOffset);
  packet[pnOffset + 1] = 5;
  packet.set(payload, pnOffset + 2);
  protect(packet, pnOffset, 2, pnOffset + 2 + payload.length, 5, w);
  const res = unprotect(packet, pnOffset, r, (t) => t);
  assert.ok(res.ok);
  assert.deepEqual(res.payload, payload);
}

/** The messages of a flight, tampered by `edit(type, whole message)` (return null to drop it). */
function editFlight(data: Uint8Array, edit: (type: number, m: Uint8Array) => Uint8Array | null): Uint8Array {
  const parts = new HandshakeFramer()
    .push(data)
    .map((m) => edit(m.msgType, m.bytes))
    .filter((m): m is Uint8Array => m !== null);
  return Buffer.concat(parts);
}

function flipLast(m: Uint8Array): Uint8Array {
  const c = m.slice();
  c[c.length - 1]! ^= 0x01;
  return c;
}

/** A DER TLV (X.690 definite length). */
function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(content);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.of(tag, ...length), body]);
}

/**
 * A certificate with the X.509 layout (RFC 5280 section 4.1) around `spki` but no valid signature: enough
 * for the client to take the leaf key when chain verification is off.
 */
function structuralCertificate(spki: Uint8Array): Uint8Array {
  const ed25519 = tlv(0x30, tlv(0x06, Buffer.of(0x2b, 0x65, 0x70)));
  const name = tlv(0x30, tlv(0x31, tlv(0x30, tlv(0x06, Buffer.of(0x55, 0x04, 0x03)), tlv(0x0c, Buffer.from('localhost')))));
  const validity = tlv(0x30, tlv(0x17, Buffer.from('260101000000Z')), tlv(0x17, Buffer.from('360101000000Z')));
  const tbs = tlv(0x30, tlv(0xa0, tlv(0x02, Buffer.of(2))), tlv(0x02, Buffer.of(1)), ed25519, name, validity, name, spki);
  return tlv(0x30, tbs, ed25519, tlv(0x03, Buffer.of(0), new Uint8Array(64)));
}

describe('TLS handshake, client against server', () => {
  for (const kind of PROVIDER_KINDS) {
    for (const suite of SUITES) {
      for (const group of GROUPS) {
        it(`${kind}: ${suite}, ${group}, ECDSA P-256`, () => {
          const provider = PROVIDERS[kind];
          const { client, server } = makePair({
            clientProvider: provider,
            serverProvider: provider,
            serverKind: kind,
            client: { cipherSuites: [suite], groups: [group] },
          });
          const { clientOut, serverOut } = run(client, server);
          assert.equal(client.state, 'client-complete');
          assert.equal(server.state, 'server-complete');
          assert.equal(client.cipherSuite, suite);
          // Both sides derive the same secrets for each direction.
          assert.deepEqual(keysOf(clientOut, 'handshake', 'write').secret, keysOf(serverOut, 'handshake', 'read').secret);
          assert.deepEqual(keysOf(clientOut, 'handshake', 'read').secret, keysOf(serverOut, 'handshake', 'write').secret);
          assert.deepEqual(keysOf(clientOut, 'application', 'write').secret, keysOf(serverOut, 'application', 'read').secret);
          assert.deepEqual(keysOf(clientOut, 'application', 'read').secret, keysOf(serverOut, 'application', 'write').secret);
          assert.notDeepEqual(keysOf(clientOut, 'application', 'write').secret, keysOf(clientOut, 'application', 'read').secret);
          const hashLength = suite === 'TLS_AES_256_GCM_SHA384' ? 48 : 32;
          assert.equal(keysOf(clientOut, 'application', 'write').secret.length, hashLength);
          for (const o of [...clientOut, ...serverOut]) if (o.type === 'keys') assert.equal(o.suite, suite);
          // The server's preference wins among the offered protocols.
          assert.equal(only(clientOut, 'alpn').protocol, 'hq-interop');
          assert.equal(only(serverOut, 'alpn').protocol, 'hq-interop');
          assert.deepEqual(only(clientOut, 'peer-transport-parameters').bytes, SERVER_TP);
          assert.deepEqual(only(serverOut, 'peer-transport-parameters').bytes, CLIENT_TP);
          only(clientOut, 'complete');
          only(serverOut, 'complete');
          // The secrets work as QUIC packet keys in both directions and at both levels.
          crossProtect(provider, suite, keysOf(clientOut, 'application', 'write').secret, keysOf(serverOut, 'application', 'read').secret);
          crossProtect(provider, suite, keysOf(serverOut, 'application', 'write').secret, keysOf(clientOut, 'application', 'read').secret);
          crossProtect(provider, suite, keysOf(clientOut, 'handshake', 'write').secret, keysOf(serverOut, 'handshake', 'read').secret);
        });
      }
    }
    it(`${kind}: HelloRetryRequest when the client's first share is in a group the server does not take`, () => {
      const provider = PROVIDERS[kind];
      const { client, server } = makePair({
        clientProvider: provider,
        serverProvider: provider,
        serverKind: kind,
        client: { groups: ['x25519', 'secp256r1'], cipherSuites: ['TLS_AES_256_GCM_SHA384'] },
        server: { groups: ['secp256r1'] },
      });
      const initial: { from: string; type: string; data: Uint8Array }[] = [];
      const { clientOut, serverOut } = run(client, server, (from, level, data) => {
        if (level === 'initial') initial.push({ from, type: decodeHandshake(data).type, data });
        return data;
      });
      assert.deepEqual(
        initial.map((m) => `${m.from}:${m.type}`),
        ['client:client_hello', 'server:hello_retry_request', 'client:client_hello', 'server:server_hello'],
      );
      const ch1 = decodeHandshake(initial[0]!.data) as ClientHello;
      const ch2 = decodeHandshake(initial[2]!.data) as ClientHello;
      // RFC 8446 section 4.1.2: same random, one new share in the selected group (secp256r1, 65 bytes).
      assert.deepEqual(ch2.random, ch1.random);
      const share = ch2.extensions.find((e) => e.type === 'key_share');
      assert.ok(share?.type === 'key_share' && 'shares' in share);
      assert.deepEqual(
        share.shares.map((x) => [x.group, x.keyExchange.length]),
        [[0x0017, 65]],
      );
      assert.equal(client.state, 'client-complete');
      assert.equal(server.state, 'server-complete');
      assert.deepEqual(keysOf(clientOut, 'application', 'write').secret, keysOf(serverOut, 'application', 'read').secret);
      assert.deepEqual(keysOf(clientOut, 'handshake', 'read').secret, keysOf(serverOut, 'handshake', 'write').secret);
    });
    it(`${kind} client against a node server with an RSA certificate (rsa_pss_rsae_sha256)`, () => {
      const { client, server } = makePair({ clientProvider: PROVIDERS[kind], cert: 'rsa' });
      const { clientOut, serverOut } = run(client, server);
      assert.equal(client.state, 'client-complete');
      assert.equal(server.state, 'server-complete');
      assert.deepEqual(keysOf(clientOut, 'application', 'write').secret, keysOf(serverOut, 'application', 'read').secret);
    });
  }

  it('both Finished messages match an independent computation over the observed flights (RFC 8446 section 4.4.4)', () => {
    // HKDF-Expand-Label(secret, "finished", "", 32) as one HMAC block (RFC 5869 section 2.3, RFC 8446 section 7.1).
    const finishedKey = (secret: Uint8Array): Buffer => {
      const label = Buffer.from('tls13 finished');
      const info = Buffer.concat([Buffer.of(0, 32, label.length), label, Buffer.of(0, 1)]);
      return createHmac('sha256', secret).update(info).digest();
    };
    const { client, server } = makePair({ client: { cipherSuites: ['TLS_AES_128_GCM_SHA256'] } });
    const flights: { from: string; level: EncryptionLevel; data: Uint8Array }[] = [];
    const { clientOut, serverOut } = run(client, server, (from, level, data) => {
      flights.push({ from, level, data });
      return data;
    });
    const [ch, sh, serverFlight, clientFinished] = flights.map((f) => f.data);
    const messages = new HandshakeFramer().push(serverFlight!).map((m) => m.bytes);
    assert.deepEqual(
      messages.map((m) => m[0]),
      [8, 11, 15, 20],
    );
    const serverFinished = messages[3]!;
    const beforeServerFinished = createHash('sha256').update(ch!).update(sh!);
    for (const m of messages.slice(0, 3)) beforeServerFinished.update(m);
    const serverHs = keysOf(serverOut, 'handshake', 'write').secret;
    const expectServer = createHmac('sha256', finishedKey(serverHs)).update(beforeServerFinished.copy().digest()).digest();
    assert.deepEqual(Buffer.from(serverFinished.subarray(4)), expectServer);
    const clientHs = keysOf(clientOut, 'handshake', 'write').secret;
    const expectClient = createHmac('sha256', finishedKey(clientHs)).update(beforeServerFinished.update(serverFinished).digest()).digest();
    assert.deepEqual(Buffer.from(clientFinished!.subarray(4)), expectClient);
  });

  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: Ed25519 CertificateVerify (a structural certificate around the key, chain check off)`, () => {
      const provider = PROVIDERS[kind];
      const signer = provider.createSigner({ type: 'ed25519', privateKey: new Uint8Array(32).fill(9) });
      const { client, server } = makePair({
        clientProvider: provider,
        serverProvider: provider,
        client: { insecureSkipVerify: true },
        server: { certificateChain: [structuralCertificate(signer.publicKey)], signer },
      });
      let algorithm = -1;
      const { clientOut, serverOut } = run(client, server, (from, level, data) => {
        if (from === 'server' && level === 'handshake') {
          for (const m of new HandshakeFramer().push(data)) {
            const d = decodeHandshake(m.bytes);
            if (d.type === 'certificate_verify') algorithm = d.algorithm;
          }
        }
        return data;
      });
      assert.equal(algorithm, 0x0807);
      assert.equal(client.state, 'client-complete');
      assert.deepEqual(keysOf(clientOut, 'application', 'write').secret, keysOf(serverOut, 'application', 'read').secret);
    });
  }

  it('noble client against node server and back: the providers interoperate', () => {
    const a = makePair({ clientProvider: PROVIDERS.noble, serverProvider: PROVIDERS.node });
    run(a.client, a.server);
    assert.equal(a.client.state, 'client-complete');
    const b = makePair({ clientProvider: PROVIDERS.node, serverProvider: PROVIDERS.noble, serverKind: 'noble' });
    run(b.client, b.server);
    assert.equal(b.server.state, 'server-complete');
  });

  it('a client verifying 127.0.0.1 checks the IP SAN and sends no server_name', () => {
    const { client, server } = makePair({ client: { serverName: '127.0.0.1' } });
    let sni = true;
    run(client, server, (from, level, data) => {
      if (from === 'client' && level === 'initial') {
        const ch = decodeHandshake(data) as ClientHello;
        sni = ch.extensions.some((e) => e.type === 'server_name');
      }
      return data;
    });
    assert.equal(client.state, 'client-complete');
    assert.equal(sni, false);
  });

  it('completes when every flight arrives one byte at a time', () => {
    const { client, server } = makePair();
    client.start();
    const feed = (to: TlsClient | TlsServer, outs: HandshakeOutput[]): void => {
      for (const o of outs) if (o.type === 'send') for (let i = 0; i < o.data.length; i++) to.receive(o.level, o.data.subarray(i, i + 1));
    };
    feed(server, client.takeOutputs());
    feed(client, server.takeOutputs());
    feed(server, client.takeOutputs());
    assert.equal(client.state, 'client-complete');
    assert.equal(server.state, 'server-complete');
  });

  it('insecureSkipVerify accepts a certificate the verifier would refuse', () => {
    const { client, server } = makePair({ client: { serverName: 'example.com', insecureSkipVerify: true } });
    run(client, server);
    assert.equal(client.state, 'client-complete');
  });
});

describe('TLS handshake failures', () => {
  it('a client without a verifier and without insecureSkipVerify is a usage error', () => {
    assert.throws(
      () => new TlsClient({ provider: PROVIDERS.node, alpn: ['h3'], transportParameters: CLIENT_TP }),
      (e: unknown) => e instanceof UsageError,
    );
  });

  it('wrong server name: bad_certificate', () => {
    const { client, server } = makePair({ client: { serverName: 'example.com' } });
    assert.throws(() => run(client, server), alert('bad_certificate'));
    assert.equal(client.error?.code, 'bad_certificate');
    assert.equal(client.error?.transportErrorCode, 0x100 + 42);
  });

  it('a chain not leading to a trusted CA: unknown_ca', () => {
    const { client, server } = makePair({ client: { verifyCertificate: nodeCertificateVerifier({ ca: [PEM.rsa.cert] }) } });
    assert.throws(() => run(client, server), alert('unknown_ca'));
  });

  it('a certificate outside its validity period: certificate_expired', () => {
    const verifyCertificate = nodeCertificateVerifier({ ca: [PEM.ecdsa.cert], now: () => new Date('2040-01-01T00:00:00Z') });
    const { client, server } = makePair({ client: { verifyCertificate } });
    assert.throws(() => run(client, server), alert('certificate_expired'));
  });

  for (const cert of ['ecdsa', 'rsa'] as const) {
    it(`tampered CertificateVerify (${cert}): decrypt_error`, () => {
      const { client, server } = makePair({ cert });
      const tamper: Tamper = (from, level, data) =>
        from === 'server' && level === 'handshake' ? editFlight(data, (t, m) => (t === 15 ? flipLast(m) : m)) : data;
      assert.throws(() => run(client, server, tamper), alert('decrypt_error'));
      assert.equal(client.state, 'client-expect-certificate-verify');
    });
  }

  it('tampered server Finished: decrypt_error at the client', () => {
    const { client, server } = makePair();
    const tamper: Tamper = (from, level, data) =>
      from === 'server' && level === 'handshake' ? editFlight(data, (t, m) => (t === 20 ? flipLast(m) : m)) : data;
    assert.throws(() => run(client, server, tamper), alert('decrypt_error'));
    assert.equal(client.state, 'client-expect-finished');
  });

  it('tampered client Finished: decrypt_error at the server, which never releases 1-RTT read keys', () => {
    const { client, server } = makePair();
    const tamper: Tamper = (from, level, data) => (from === 'client' && level === 'handshake' ? flipLast(data) : data);
    assert.throws(() => run(client, server, tamper), alert('decrypt_error'));
    assert.equal(server.state, 'server-expect-finished');
    assert.equal(server.error?.code, 'decrypt_error');
  });

  it('no common ALPN protocol: no_application_protocol at the server', () => {
    const { client, server } = makePair({ client: { alpn: ['foo'] } });
    assert.throws(() => run(client, server), alert('no_application_protocol'));
    assert.equal(server.error?.code, 'no_application_protocol');
  });

  it('a server ALPN the client did not offer: illegal_parameter', () => {
    const { client, server } = makePair();
    const tamper: Tamper = (from, level, data) =>
      from === 'server' && level === 'handshake'
        ? editFlight(data, (t, m) =>
            t === 8
              ? encodeHandshake({
                  type: 'encrypted_extensions',
                  extensions: [
                    { type: 'application_layer_protocol_negotiation', protocols: [new TextEncoder().encode('smtp')] },
                    { type: 'quic_transport_parameters', data: SERVER_TP },
                  ],
                })
              : m,
          )
        : data;
    assert.throws(() => run(client, server, tamper), alert('illegal_parameter'));
  });

  it('a server that selects no ALPN protocol: no_application_protocol at the client', () => {
    const { client, server } = makePair();
    const tamper: Tamper = (from, level, data) =>
      from === 'server' && level === 'handshake'
        ? editFlight(data, (t, m) =>
            t === 8
              ? encodeHandshake({ type: 'encrypted_extensions', extensions: [{ type: 'quic_transport_parameters', data: SERVER_TP }] })
              : m,
          )
        : data;
    assert.throws(() => run(client, server, tamper), alert('no_application_protocol'));
  });

  it('a CertificateVerify scheme that does not fit the leaf key: illegal_parameter', () => {
    const { client, server } = makePair();
    const tamper: Tamper = (from, level, data) =>
      from === 'server' && level === 'handshake'
        ? editFlight(data, (t, m) => {
            if (t !== 15) return m;
            const cv = decodeHandshake(m);
            assert.ok(cv.type === 'certificate_verify');
            return encodeHandshake({ ...cv, algorithm: 0x0804 });
          })
        : data;
    assert.throws(() => run(client, server, tamper), alert('illegal_parameter'));
  });

  it('a CertificateVerify scheme the client did not offer: illegal_parameter', () => {
    const { client, server } = makePair({ client: { signatureSchemes: ['ecdsa_secp256r1_sha256', 'rsa_pss_rsae_sha256'] } });
    const tamper: Tamper = (from, level, data) =>
      from === 'server' && level === 'handshake'
        ? editFlight(data, (t, m) => {
            if (t !== 15) return m;
            const cv = decodeHandshake(m);
            assert.ok(cv.type === 'certificate_verify');
            return encodeHandshake({ ...cv, algorithm: 0x0807 });
          })
        : data;
    assert.throws(() => run(client, server, tamper), alert('illegal_parameter'));
  });

  it('no signature scheme for the server key among those offered: handshake_failure at the server', () => {
    const { client, server } = makePair({ cert: 'rsa', client: { signatureSchemes: ['ecdsa_secp256r1_sha256'] } });
    assert.throws(() => run(client, server), alert('handshake_failure'));
    assert.equal(server.error?.code, 'handshake_failure');
  });

  it('server without quic_transport_parameters: missing_extension at the client', () => {
    const { client, server } = makePair();
    const tamper: Tamper = (from, level, data) =>
      from === 'server' && level === 'handshake'
        ? editFlight(data, (t, m) =>
            t === 8
              ? encodeHandshake({
                  type: 'encrypted_extensions',
                  extensions: [{ type: 'application_layer_protocol_negotiation', protocols: [new TextEncoder().encode('h3')] }],
                })
              : m,
          )
        : data;
    assert.throws(() => run(client, server, tamper), alert('missing_extension'));
  });

  it('client without quic_transport_parameters: missing_extension at the server', () => {
    const { client, server } = makePair();
    const tamper: Tamper = (from, level, data) => {
      if (from !== 'client' || level !== 'initial') return data;
      const ch = decodeHandshake(data) as ClientHello;
      return encodeHandshake({ ...ch, extensions: ch.extensions.filter((e) => e.type !== 'quic_transport_parameters') });
    };
    assert.throws(() => run(client, server, tamper), alert('missing_extension'));
  });

  it('messages out of order: unexpected_message', () => {
    // CertificateVerify where Certificate is expected.
    const a = makePair();
    const dropCertificate: Tamper = (from, level, data) =>
      from === 'server' && level === 'handshake' ? editFlight(data, (t, m) => (t === 11 ? null : m)) : data;
    assert.throws(() => run(a.client, a.server, dropCertificate), alert('unexpected_message'));
    assert.equal(a.client.state, 'client-expect-certificate');
    // A Finished as the server's first message.
    const b = makePair();
    b.client.start();
    assert.throws(
      () => b.client.receive('initial', encodeHandshake({ type: 'finished', verifyData: new Uint8Array(32) })),
      alert('unexpected_message'),
    );
    // A Finished where the server expects a ClientHello.
    const c = makePair();
    assert.throws(
      () => c.server.receive('initial', encodeHandshake({ type: 'finished', verifyData: new Uint8Array(32) })),
      alert('unexpected_message'),
    );
  });

  it('a message at the wrong encryption level: unexpected_message', () => {
    const { client, server } = makePair();
    client.start();
    const hello = client.takeOutputs().find((o) => o.type === 'send');
    assert.ok(hello?.type === 'send' && hello.level === 'initial');
    // A ClientHello at the Handshake level.
    assert.throws(() => server.receive('handshake', hello.data), alert('unexpected_message'));
  });

  it('after completion: the client ignores a NewSessionTicket at 1-RTT; other messages are unexpected', () => {
    const { client, server } = makePair();
    run(client, server);
    const ticket = encodeHandshake({
      type: 'new_session_ticket',
      ticketLifetime: 3600,
      ticketAgeAdd: 1,
      ticketNonce: Uint8Array.of(0),
      ticket: Uint8Array.of(1, 2, 3),
      extensions: [],
    });
    client.receive('application', ticket);
    assert.equal(client.state, 'client-complete');
    assert.throws(() => client.receive('handshake', ticket), alert('unexpected_message'));
    assert.throws(() => server.receive('application', ticket), alert('unexpected_message'));
  });

  it('the first alert is latched: later calls raise it again', () => {
    const { client, server } = makePair({ client: { serverName: 'example.com' } });
    assert.throws(() => run(client, server), alert('bad_certificate'));
    assert.throws(() => client.receive('handshake', new Uint8Array(1)), alert('bad_certificate'));
  });

  it('no group in common: handshake_failure', () => {
    const { client, server } = makePair({ client: { groups: ['x25519'] }, server: { groups: ['secp256r1'] } });
    assert.throws(() => run(client, server), alert('handshake_failure'));
  });

  it('a second HelloRetryRequest: unexpected_message', () => {
    const { client, server } = makePair({ client: { groups: ['x25519', 'secp256r1'] }, server: { groups: ['secp256r1'] } });
    let hrr: Uint8Array | null = null;
    const tamper: Tamper = (from, level, data) => {
      if (from === 'server' && level === 'initial' && hrr === null) hrr = data;
      else if (from === 'server' && level === 'initial' && hrr !== null) return hrr;
      return data;
    };
    assert.throws(() => run(client, server, tamper), alert('unexpected_message'));
    assert.equal(client.state, 'client-expect-server-hello-after-retry');
  });

  it('a second ClientHello with a share in another group than selected: illegal_parameter', () => {
    const { client, server } = makePair({ client: { groups: ['x25519', 'secp256r1'] }, server: { groups: ['secp256r1'] } });
    let hellos = 0;
    let first: Uint8Array | null = null;
    const tamper: Tamper = (from, level, data) => {
      if (from !== 'client' || level !== 'initial') return data;
      hellos++;
      if (hellos === 1) first = data;
      // Resend ClientHello1 (an x25519 share) as ClientHello2.
      return hellos === 2 ? first! : data;
    };
    assert.throws(() => run(client, server, tamper), alert('illegal_parameter'));
    assert.equal(server.error?.code, 'illegal_parameter');
  });

  it('a ServerHello choosing a suite the client did not offer: illegal_parameter', () => {
    const { client, server } = makePair({ client: { cipherSuites: ['TLS_AES_128_GCM_SHA256'] } });
    const tamper: Tamper = (from, level, data) => {
      if (from !== 'server' || level !== 'initial') return data;
      const sh = decodeHandshake(data);
      assert.ok(sh.type === 'server_hello');
      return encodeHandshake({ ...sh, cipherSuite: 0x1303 });
    };
    assert.throws(() => run(client, server, tamper), alert('illegal_parameter'));
  });

  it('garbage bytes never crash: they give an alert', () => {
    const { server } = makePair();
    assert.throws(
      () => server.receive('initial', Uint8Array.of(1, 0, 0, 3, 0xff, 0xff, 0xff)),
      (e: unknown) => e instanceof TlsAlertError,
    );
  });
});

describe('TLS handshake properties', () => {
  it('completes with the same secrets whatever the CRYPTO data chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }), (sizes) => {
        const { client, server } = makePair();
        let k = 0;
        const chunked = (to: TlsClient | TlsServer, outs: HandshakeOutput[]): HandshakeOutput[] => {
          for (const o of outs) {
            if (o.type !== 'send') continue;
            for (let at = 0; at < o.data.length;) {
              const n = sizes[k++ % sizes.length]!;
              to.receive(o.level, o.data.subarray(at, at + n));
              at += n;
            }
          }
          return outs;
        };
        client.start();
        const c1 = chunked(server, client.takeOutputs());
        const s1 = chunked(client, server.takeOutputs());
        const c2 = chunked(server, client.takeOutputs());
        const s2 = server.takeOutputs();
        assert.equal(client.state, 'client-complete');
        assert.equal(server.state, 'server-complete');
        assert.deepEqual(keysOf([...c1, ...c2], 'application', 'write').secret, keysOf([...s1, ...s2], 'application', 'read').secret);
      }),
      { numRuns: 30 },
    );
  });

  it('any single flipped bit in any flight ends in a TLS alert or a stall, never another error or a completed handshake', () => {
    // Every byte is in the transcript or authenticated by it, so no flip can go unnoticed.
    fc.assert(
      fc.property(fc.nat({ max: 3 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (flight, offset, bit) => {
        const { client, server } = makePair();
        let n = 0;
        const tamper: Tamper = (_from, _level, data) => {
          if (n++ !== flight) return data;
          const c = data.slice();
          c[offset % c.length]! ^= 1 << bit;
          return c;
        };
        try {
          run(client, server, tamper);
        } catch (e) {
          assert.ok(e instanceof TlsAlertError, `not a TLS alert: ${String(e)}`);
          return;
        }
        // No alert: only possible when the flip made a length longer, so a side still waits for bytes.
        assert.ok(client.state !== 'client-complete' || server.state !== 'server-complete', 'completed despite the flip');
      }),
      { numRuns: 150 },
    );
  });
});

describe('TLS handshake with client certificates (mutual TLS)', () => {
  const clientAuth = (required?: boolean): Partial<TlsServerOptions> => ({
    clientAuthentication: {
      verifyCertificate: nodeCertificateVerifier({ ca: [PEM.rsa.cert], checkServerName: false }),
      ...(required === undefined ? {} : { required }),
    },
  });
  const clientCert: Partial<TlsClientOptions> = {
    certificateChain: loadCertificateChain(PEM.rsa.cert),
    signer: loadPrivateKey(PEM.rsa.key),
  };

  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: the client authenticates with an RSA certificate`, () => {
      const provider = PROVIDERS[kind];
      const { client, server } = makePair({
        clientProvider: provider,
        serverProvider: provider,
        serverKind: kind,
        client: clientCert,
        server: clientAuth(),
      });
      const flights: { from: string; level: EncryptionLevel; data: Uint8Array }[] = [];
      const { clientOut, serverOut } = run(client, server, (from, level, data) => {
        flights.push({ from, level, data });
        return data;
      });
      assert.equal(client.state, 'client-complete');
      assert.equal(server.state, 'server-complete');
      assert.deepEqual(keysOf(clientOut, 'application', 'write').secret, keysOf(serverOut, 'application', 'read').secret);
      const types = (i: number): number[] => new HandshakeFramer().push(flights[i]!.data).map((m) => m.msgType);
      assert.deepEqual(types(2), [8, 13, 11, 15, 20]);
      assert.deepEqual(types(3), [11, 15, 20]);
    });
  }

  it('a client without a certificate: certificate_required', () => {
    const { client, server } = makePair({ server: clientAuth() });
    assert.throws(() => run(client, server), alert('certificate_required'));
    assert.equal(server.error?.code, 'certificate_required');
  });

  it('a client without a certificate when it is optional: completes', () => {
    const { client, server } = makePair({ server: clientAuth(false) });
    run(client, server);
    assert.equal(server.state, 'server-complete');
  });

  it('a client certificate from an unknown CA: unknown_ca', () => {
    const { client, server } = makePair({
      client: { certificateChain: loadCertificateChain(PEM.ecdsa.cert), signer: loadPrivateKey(PEM.ecdsa.key) },
      server: clientAuth(),
    });
    assert.throws(() => run(client, server), alert('unknown_ca'));
  });

  it('a tampered client CertificateVerify: decrypt_error', () => {
    const { client, server } = makePair({ client: clientCert, server: clientAuth() });
    const tamper: Tamper = (from, level, data) =>
      from === 'client' && level === 'handshake' ? editFlight(data, (t, m) => (t === 15 ? flipLast(m) : m)) : data;
    assert.throws(() => run(client, server, tamper), alert('decrypt_error'));
    assert.equal(server.state, 'server-expect-client-certificate-verify');
  });

  it('a client Finished without its Certificate: unexpected_message', () => {
    const { client, server } = makePair({ client: clientCert, server: clientAuth() });
    const tamper: Tamper = (from, level, data) =>
      from === 'client' && level === 'handshake' ? editFlight(data, (t, m) => (t === 20 ? m : null)) : data;
    assert.throws(() => run(client, server, tamper), alert('unexpected_message'));
  });

  it('a second CertificateRequest: unexpected_message', () => {
    const { client, server } = makePair({ client: clientCert, server: clientAuth() });
    const tamper: Tamper = (from, level, data) =>
      from === 'server' && level === 'handshake' ? editFlight(data, (t, m) => (t === 13 ? Buffer.concat([m, m]) : m)) : data;
    assert.throws(() => run(client, server, tamper), alert('unexpected_message'));
  });
});
