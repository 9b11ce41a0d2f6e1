/**
 * Part 5, QUIC on real UDP over loopback with the Node adapter (pullwire/quic/node): our `pullwire
 * quic-server` request-protocol server and our client (`listen` / `connect` on node:dgram, the sans-I/O
 * Connection and Endpoint underneath, TLS 1.3 verified against the test certificate). It times
 * handshakes (a fresh connection each, until 1-RTT), then downloads N bytes on each of k concurrent
 * streams, every byte checked against the pattern (byte i = i % 251).
 */
import { performance } from 'node:perf_hooks';
import { connect } from '../../quic/node.js';
import { TEST_CERTIFICATE } from '../../quic/testing.js';
import { runQuicClient } from '../quic-client.js';
import { startQuicServer } from '../quic-server.js';
import { fail, int, mb, outcome, perSecond, say, secs, type DemoOptions, type PartOutcome, type Teardown } from './common.js';

export async function runQuicUdp(opts: DemoOptions, teardown: Teardown): Promise<PartOutcome> {
  const server = await startQuicServer({ port: 0, cert: TEST_CERTIFICATE.pem, key: TEST_CERTIFICATE.keyPem, alpn: 'pullwire-demo' });
  teardown.add(() => void server.close());
  const port = server.address().port;
  const client = { host: '127.0.0.1', port, alpn: 'pullwire-demo', serverName: 'localhost', ca: TEST_CERTIFICATE.pem };
  let ok = true;

  const handshakes = opts.quick ? 10 : 50;
  let hs = 0;
  const closing: Promise<unknown>[] = [];
  for (let i = 0; i < handshakes; i++) {
    const t0 = performance.now();
    const conn = await connect(client);
    hs += (performance.now() - t0) / 1000;
    // Closing lingers three PTOs (RFC 9000 section 10.2): not part of the handshake time.
    closing.push(conn.close({ errorCode: 0 }));
  }
  await Promise.all(closing);
  say(
    `${int(handshakes)} handshakes one after another (connect until 1-RTT): ${perSecond(handshakes, hs, 'handshakes')}, ${((hs / handshakes) * 1000).toFixed(1)} ms each`,
  );

  const streams = 4;
  const get = opts.quick ? 1_000_000 : 10_000_000;
  const summary = await runQuicClient({ ...client, get, streams });
  if (summary.bytes !== get * streams) {
    fail(`QUIC download: ${summary.bytes} bytes, expected ${get * streams}`);
    ok = false;
  }
  say(
    `download ${mb(summary.bytes)} on ${streams} concurrent streams, every byte checked: ${secs(summary.seconds)}, ${summary.MBps.toFixed(1)} MB/s (handshake ${summary.handshakeMs.toFixed(1)} ms)`,
  );
  await server.close();
  return outcome(ok);
}
