/**
 * Part 6, HTTP/3 over loopback UDP (pullwire/http3/node): our server (`serveHttp3`, QPACK with the dynamic
 * table) and our client (`Http3Client`) on the QUIC adapter. One connection downloads a large body and runs
 * many small requests at once, every byte checked; then a second connection resumes the session with the
 * ticket of the first and sends its request in 0-RTT.
 */
import { performance } from 'node:perf_hooks';
import { Http3Client, serveHttp3 } from '../../http3/node.js';
import { TEST_CERTIFICATE } from '../../quic/testing.js';
import {
  equalBytes,
  fail,
  int,
  mb,
  outcome,
  perSecond,
  randomBytes,
  say,
  secs,
  type DemoOptions,
  type PartOutcome,
  type Teardown,
} from './common.js';

export async function runHttp3(opts: DemoOptions, teardown: Teardown): Promise<PartOutcome> {
  const big = randomBytes(opts.quick ? 2_000_000 : 20_000_000, 7);
  const server = await serveHttp3({
    host: '127.0.0.1',
    port: 0,
    cert: TEST_CERTIFICATE.pem,
    key: TEST_CERTIFICATE.keyPem,
    tickets: { key: randomBytes(32, 11) },
    earlyData: true, // GETs of fixed bodies: replaying them is harmless
    handler: (req) => ({ status: 200, body: req.path === '/big' ? big : new TextEncoder().encode(`small ${req.path}`) }),
  });
  teardown.add(() => void server.close());
  const options = { host: '127.0.0.1', port: server.address().port, serverName: 'localhost', ca: TEST_CERTIFICATE.pem };
  let ok = true;
  let ticket: Uint8Array | null = null;

  const client = await Http3Client.connect(options);
  client.quic.on('session-ticket', (t: Uint8Array) => (ticket = t));
  let t0 = performance.now();
  const r = await client.get('/big');
  const bigSeconds = (performance.now() - t0) / 1000;
  if (r.status !== 200 || !equalBytes(r.body, big)) {
    fail('HTTP/3 download: wrong status or body');
    ok = false;
  }
  say(`GET /big: ${mb(big.length)} in ${secs(bigSeconds)}, ${(big.length / 1e6 / bigSeconds).toFixed(1)} MB/s, body byte-identical`);

  const n = opts.quick ? 100 : 1000;
  t0 = performance.now();
  const small = await Promise.all(Array.from({ length: n }, (_, i) => client.get(`/s${i}`)));
  const smallSeconds = (performance.now() - t0) / 1000;
  const bad = small.filter((x, i) => x.status !== 200 || new TextDecoder().decode(x.body) !== `small /s${i}`).length;
  if (bad > 0) {
    fail(`${bad} of ${n} small responses wrong`);
    ok = false;
  }
  say(`${int(n)} concurrent small GETs on one connection: ${perSecond(n, smallSeconds, 'requests')}, every response checked`);
  await client.close();

  if (ticket === null) {
    fail('no session ticket arrived');
    return outcome(false);
  }
  t0 = performance.now();
  const resumed = await Http3Client.connect({ ...options, session: ticket, earlyData: true });
  const again = await resumed.get('/s0');
  const ms = performance.now() - t0;
  await resumed.quic.handshake;
  const early = resumed.quic.stats.zeroRttBytesSent;
  if (again.status !== 200 || !resumed.quic.engine.isResumed || early === 0 || !resumed.quic.earlyDataAccepted) {
    fail(
      `resumption: status ${again.status}, resumed ${resumed.quic.engine.isResumed}, 0-RTT bytes ${early}, accepted ${resumed.quic.earlyDataAccepted}`,
    );
    ok = false;
  }
  say(`resumed with the ticket, request sent in 0-RTT (${early} bytes, accepted): response ${ms.toFixed(1)} ms after connect() started`);
  await resumed.close();
  await server.close();
  return outcome(ok);
}
