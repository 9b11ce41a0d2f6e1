/**
 * `pullwire quic-server` and `pullwire quic-client` as processes, and the
 * request protocol they share (../shared/peers/README.md).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkPattern, patternPiece } from '../../../src/cli/quic-server.js';
import { connect } from '../../../src/quic/node.js';
import { CERT, CERT_FILE, CLI, KEY_FILE, bytes, readAll, writeAll } from './support.js';

const RSA_CERT_FILE = CERT_FILE.replace('ecdsa-cert', 'rsa-cert');

async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Starts `pullwire quic-server` on a free port; resolves with the port and a stop function. */
async function startServer(extra: string[] = []): Promise<{ port: number; stop: () => Promise<number | null> }> {
  const child = spawn(
    process.execPath,
    [CLI, 'quic-server', '--port', '0', '--cert', CERT_FILE, '--key', KEY_FILE, '--alpn', 'bench', ...extra],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      const m = /listening on 127\.0\.0\.1 port (\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`quic-server exited with ${code}: ${out}`)));
  });
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

describe('the request protocol pattern', () => {
  it('is byte i = i % 251 at any offset, and checkPattern finds the first wrong byte', () => {
    for (const offset of [0, 1, 250, 251, 64_255, 1_000_003]) {
      const piece = patternPiece(offset, 1000);
      for (let i = 0; i < piece.length; i++) assert.equal(piece[i], (offset + i) % 251);
      assert.equal(checkPattern(piece, offset), -1);
      const bad = piece.slice();
      bad[777] = (bad[777]! + 1) % 256;
      assert.equal(checkPattern(bad, offset), offset + 777);
    }
  });
});

describe('pullwire quic-server / quic-client', () => {
  it('serves N-byte requests on concurrent streams; the client verifies them and prints a JSON summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-cli-'));
    const server = await startServer(['--retry']);
    try {
      const r = await run([
        'quic-client',
        '127.0.0.1',
        String(server.port),
        '--alpn',
        'bench',
        '--get',
        '300000',
        '--streams',
        '3',
        '--ca',
        CERT_FILE,
        '--server-name',
        'localhost',
        '--keylog',
        join(dir, 'keys.log'),
        '--qlog-dir',
        join(dir, 'qlog'),
      ]);
      assert.equal(r.code, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as Record<string, number>;
      assert.deepEqual(Object.keys(summary).sort(), ['MBps', 'bytes', 'handshakeMs', 'peakRssMiB', 'seconds', 'streams']);
      assert.ok(summary.peakRssMiB! > 10, 'a Node process holds more than 10 MiB');
      assert.equal(summary.bytes, 900_000);
      assert.equal(summary.streams, 3);
      assert.ok(summary.seconds! > 0 && summary.MBps! > 0 && summary.handshakeMs! > 0);
      assert.match(readFileSync(join(dir, 'keys.log'), 'utf8'), /^CLIENT_TRAFFIC_SECRET_0 /m);
      assert.equal(readdirSync(join(dir, 'qlog')).length, 1);
    } finally {
      assert.equal(await server.stop(), 0);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--handshakes n makes n connections one after another (here with the portable crypto provider on both sides)', async () => {
    const server = await startServer(['--provider', 'noble']);
    try {
      const r = await run([
        'quic-client',
        '127.0.0.1',
        String(server.port),
        '--alpn',
        'bench',
        '--handshakes',
        '3',
        '--provider',
        'noble',
        '--ca',
        CERT_FILE,
        '--server-name',
        'localhost',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as Record<string, number>;
      assert.deepEqual(Object.keys(summary).sort(), ['handshakes', 'msEach', 'peakRssMiB', 'perSecond', 'seconds']);
      assert.equal(summary.handshakes, 3);
      assert.ok(Math.abs(summary.perSecond! * summary.seconds! - 3) < 0.1);
    } finally {
      assert.equal(await server.stop(), 0);
    }
    const bad = await run(['quic-client', '127.0.0.1', '4433', '--alpn', 'bench', '--handshakes', '3', '--provider', 'openssl']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--provider must be node or noble/);
  });

  it('echoes any other stream, and exits 1 with a message when verification fails', async () => {
    const server = await startServer();
    try {
      const conn = await connect({ host: '127.0.0.1', port: server.port, serverName: 'localhost', alpn: 'bench', ca: CERT });
      const s = await conn.openStream();
      const data = bytes(70_000, 4);
      data[0] = 0x41; // not a digit: not a request
      const [, back] = await Promise.all([writeAll(s, data), readAll(s.readable)]);
      assert.ok(back.equals(data));
      // "N\n" followed by more request bytes: the rest is read and discarded.
      const q = await conn.openStream();
      const [, reply] = await Promise.all([writeAll(q, new TextEncoder().encode('1000\nignored')), readAll(q.readable)]);
      assert.equal(reply.length, 1000);
      assert.equal(checkPattern(reply, 0), -1);
      await conn.close();

      const r = await run([
        'quic-client',
        '127.0.0.1',
        String(server.port),
        '--alpn',
        'bench',
        '--get',
        '10',
        '--ca',
        RSA_CERT_FILE,
        '--server-name',
        'localhost',
      ]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.ok(r.stderr.length > 0);
    } finally {
      await server.stop();
    }
  });

  it('refuses bad arguments and lists both commands', async () => {
    assert.equal((await run(['quic-server', '--port', '0'])).code, 1);
    assert.equal((await run(['quic-client', '127.0.0.1'])).code, 1);
    const help = await run(['help']);
    assert.match(help.stdout, /quic-server/);
    assert.match(help.stdout, /quic-client/);
    assert.ok(existsSync(CLI));
  });
});
