/**
 * A capture of real traffic, decoded by Wireshark's dissector (tshark) with
 * our NSS key log: every packet of ours must decrypt and dissect cleanly
 * (no malformed packet, no expert warning), which checks our packets against
 * an implementation nobody here wrote, and checks the key log.
 *
 * Traffic: our client and our server (with Retry), and our client against
 * @matrixai/quic's server, in one capture on the loopback interface.
 * Needs tshark (Debian package `tshark`, installed by .ci/run) and the right
 * to capture on `lo` (root in CI); a missing tshark fails the test.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requestPattern } from '../../src/cli/quic-client.js';
import { startQuicServer } from '../../src/cli/quic-server.js';
import { connect } from '../../src/quic/node.js';
import { PEERS, Peer, cert, freeUdpPort, key, requirePeers } from './support.js';

function tsharkPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v tshark'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('tshark is missing: install the Debian package tshark (.ci/run does)');
  }
}

/** Lines tshark prints for the frames of `file` matching `filter`, decrypted with `keylog`. */
function decode(tshark: string, file: string, keylog: string, filter: string, fields: string[] = []): string[] {
  const args = ['-r', file, '-o', `tls.keylog_file:${keylog}`, '-Y', filter];
  if (fields.length > 0) args.push('-T', 'fields', ...fields.flatMap((f) => ['-e', f]));
  const out = execFileSync(tshark, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((l) => l.trim() !== '');
}

describe('interop: a loopback capture of our QUIC decoded by tshark', () => {
  let dir: string;
  let tshark: string;

  before(() => {
    requirePeers();
    tshark = tsharkPath();
    dir = mkdtempSync(join(tmpdir(), 'pw-capture-'));
  });
  after(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('shows no malformed packet and decrypts every packet with the key log', { timeout: 60_000 }, async () => {
    const keylog = join(dir, 'keys.log');
    const pcap = join(dir, 'cap.pcapng');
    const ourPort = await freeUdpPort();
    const jsquicPort = await freeUdpPort();

    const capture = spawn(tshark, ['-i', 'lo', '-f', `udp port ${ourPort} or udp port ${jsquicPort}`, '-w', pcap], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let captureLog = '';
    capture.stderr.setEncoding('utf8').on('data', (d: string) => (captureLog += d));
    const captureExit = new Promise<number | null>((resolve) => capture.once('exit', (code) => resolve(code)));
    const jsquic = new Peer([`${PEERS}/jsquic-server.mjs`, '--port', String(jsquicPort), '--alpn', 'bench']);
    try {
      for (let i = 0; i < 100 && !/Capturing on/.test(captureLog); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(captureLog, /Capturing on/, `tshark could not capture on lo: ${captureLog}`);
      await new Promise((r) => setTimeout(r, 300));
      await jsquic.waitFor(/LISTENING/);

      const server = await startQuicServer({
        host: '127.0.0.1',
        port: ourPort,
        cert: cert(),
        key: key(),
        alpn: 'bench',
        validateAddress: true,
      });
      try {
        for (const port of [ourPort, jsquicPort]) {
          const conn = await connect({ host: '127.0.0.1', port, serverName: 'localhost', alpn: 'bench', ca: cert(), keylog });
          // Against quiche, one size per connection: quiche 0.18 never sends the FIN of a response whose
          // data was all acknowledged before its close() (SendBuf::write drops an empty FIN then), which
          // a small response next to a large one triggers with our prompt ACKs.
          const sizes = port === ourPort ? [200_000, 3_000] : [200_000, 200_000];
          await Promise.all(sizes.map((n) => requestPattern(conn, n)));
          await conn.close({ errorCode: 5, reason: 'capture done' });
        }
      } finally {
        await server.close();
      }
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      capture.kill('SIGINT');
      await captureExit;
      await jsquic.stop();
    }

    const all = decode(tshark, pcap, keylog, 'quic');
    assert.ok(all.length > 100, `only ${all.length} QUIC datagrams captured`);
    assert.deepEqual(decode(tshark, pcap, keylog, '_ws.malformed'), []);
    assert.deepEqual(decode(tshark, pcap, keylog, '_ws.expert.severity >= warning', ['frame.number', '_ws.expert.message']), []);
    assert.deepEqual(decode(tshark, pcap, keylog, 'quic.decryption_failed', ['frame.number', '_ws.expert.message']), []);
    // Both handshakes went through a Retry (ours, then quiche's, which always sends one).
    assert.equal(decode(tshark, pcap, keylog, 'quic.long.packet_type == 3').length, 2);
    // Our application close, decrypted: code and reason phrase, once per connection at least.
    const closes = decode(tshark, pcap, keylog, 'quic.frame_type == 0x1d', ['quic.cc.error_code.app', 'quic.cc.reason_phrase']);
    assert.ok(closes.length >= 2, closes.join('\n'));
    for (const c of closes) assert.equal(c, '5\tcapture done');
  });
});
