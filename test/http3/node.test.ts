/**
 * pullwire/http3/node over real UDP on loopback: Http3Client against
 * serveHttp3 (both protocols), bodies both ways with backpressure, the file
 * handler's limits, handler failures, 0-RTT, and the h3-server / h3-get
 * commands as processes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Http3Client, Http3StreamError, fileHandler, serveHttp3, type Http3Handler } from '../../src/http3/node.js';
import type { QuicServer } from '../../src/quic/node.js';
import { CERT, CERT_FILE, CLI, KEY, KEY_FILE, bytes } from '../quic/node/support.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-h3-'));
  writeFileSync(join(dir, 'big.bin'), bytes(1_500_000, 3));
  writeFileSync(join(dir, 'small.txt'), 'small file\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The test handler: files under `dir`, POST /echo echoes the body, GET /boom throws. */
const handler: Http3Handler = async (req) => {
  if (req.method === 'POST' && req.path === '/echo') {
    const body = await req.body.bytes();
    return { status: 200, headers: [{ name: 'x-length', value: String(body.length) }], body };
  }
  if (req.path === '/boom') throw new Error('handler failed on purpose');
  return fileHandler(dir)(req);
};

describe('HTTP/3 on Node: Http3Client <-> serveHttp3', () => {
  let server: QuicServer;
  let port: number;
  const errors: unknown[] = [];

  before(async () => {
    server = await serveHttp3({
      host: '127.0.0.1',
      port: 0,
      cert: CERT,
      key: KEY,
      handler,
      onError: (e) => errors.push(e),
      tickets: { key: new Uint8Array(32).fill(9) },
      earlyData: true,
    });
    port = server.address().port;
  });
  after(async () => server?.close());

  const client = (extra: Partial<Parameters<typeof Http3Client.connect>[0]> = {}): Promise<Http3Client> =>
    Http3Client.connect({ host: '127.0.0.1', port, serverName: 'localhost', ca: CERT, ...extra });

  it('GETs files (1.5 MB byte-exact, with content-length), 404 outside the root, 405 for other methods', async () => {
    const c = await client();
    try {
      const [big, small, missing, escape] = await Promise.all([
        c.get('/big.bin'),
        c.get('/small.txt'),
        c.get('/nope'),
        c.get('/../etc/passwd'),
      ]);
      assert.equal(big.status, 200);
      assert.equal(sha(big.body), sha(readFileSync(join(dir, 'big.bin'))));
      assert.equal(big.headers.find((h) => h.name === 'content-length')?.value, '1500000');
      assert.equal(new TextDecoder().decode(small.body), 'small file\n');
      assert.equal(missing.status, 404);
      assert.equal(escape.status, 404);
      const put = await c.request({ method: 'PUT', path: '/small.txt', body: text('x') });
      assert.equal(put.status, 405);
      await put.body.bytes();
    } finally {
      await c.close();
    }
  });

  it('POSTs a 600 KB body in chunks and gets it back (backpressure both ways)', async () => {
    const c = await client();
    try {
      const data = bytes(600_000, 5);
      const chunks = (function* () {
        for (let off = 0; off < data.length; off += 50_000) yield data.subarray(off, off + 50_000);
      })();
      const r = await c.request({ method: 'POST', path: '/echo', body: chunks });
      assert.equal(r.status, 200);
      assert.equal(r.headers.find((h) => h.name === 'x-length')?.value, '600000');
      assert.equal(sha(await r.body.bytes()), sha(data));
    } finally {
      await c.close();
    }
  });

  it('a handler that throws gives 500 and reaches onError; the connection stays usable', async () => {
    const c = await client();
    try {
      errors.length = 0;
      const r = await c.get('/boom');
      assert.equal(r.status, 500);
      assert.equal(errors.length, 1);
      assert.equal((await c.get('/small.txt')).status, 200);
    } finally {
      await c.close();
    }
  });

  it('cancelling a response fails its body with a typed error (no hang); the connection stays usable', async () => {
    const c = await client();
    try {
      const r = await c.request({ path: '/big.bin' });
      r.cancel();
      await assert.rejects(r.body.bytes(), (e: unknown) => e instanceof Http3StreamError && e.code === 'ERR_HTTP3_STREAM_RESET');
      assert.equal((await c.get('/small.txt')).status, 200);
    } finally {
      await c.close();
    }
  });

  it('hq-interop: GET by request line, the body is the file', async () => {
    const c = await client({ protocol: 'hq-interop' });
    try {
      const r = await c.get('/big.bin');
      assert.equal(r.status, null);
      assert.equal(sha(r.body), sha(readFileSync(join(dir, 'big.bin'))));
      await assert.rejects(c.request({ method: 'POST', path: '/echo' }), /hq-interop only has GET/);
    } finally {
      await c.close();
    }
  });

  it('resumes with a ticket and sends the request in 0-RTT, which the server accepts', async () => {
    let ticket: Uint8Array | null = null;
    const first = await client();
    first.quic.on('session-ticket', (t: Uint8Array) => (ticket = t));
    await first.get('/small.txt');
    await first.close();
    assert.ok(ticket !== null, 'the server sent a ticket');
    const second = await client({ session: ticket, earlyData: true });
    try {
      const r = await second.get('/small.txt');
      await second.quic.handshake;
      assert.equal(r.status, 200);
      assert.equal(second.quic.engine.isResumed, true);
      assert.ok(second.quic.stats.zeroRttBytesSent > 0);
      assert.equal(second.quic.earlyDataAccepted, true);
    } finally {
      await second.close();
    }
  });
});

describe('pullwire h3-server / h3-get', () => {
  it('serves a folder; h3-get fetches two files on one connection (h3 and hq-interop) and saves them', async () => {
    const server = spawn(process.execPath, [CLI, 'h3-server', '--port', '0', '--cert', CERT_FILE, '--key', KEY_FILE, '--root', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        server.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          const m = /port (\d+)/.exec(out);
          if (m !== null) resolve(Number(m[1]));
        });
        server.once('exit', (code) => reject(new Error(`h3-server exited ${code}`)));
      });
      for (const alpn of ['h3', 'hq-interop']) {
        const outDir = mkdtempSync(join(dir, 'out-'));
        const get = spawn(
          process.execPath,
          [
            CLI,
            'h3-get',
            `https://127.0.0.1:${port}/big.bin`,
            `https://127.0.0.1:${port}/small.txt`,
            '--ca',
            CERT_FILE,
            '--server-name',
            'localhost',
            '--output',
            outDir,
            '--alpn',
            alpn,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stdout = '';
        get.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        const code = await new Promise<number | null>((resolve) => get.once('exit', resolve));
        assert.equal(code, 0, stdout);
        const summary = JSON.parse(stdout) as { files: { bytes: number; sha256: string }[]; bytes: number };
        assert.equal(summary.bytes, 1_500_000 + 11);
        assert.equal(summary.files[0]!.sha256, sha(readFileSync(join(dir, 'big.bin'))));
        assert.equal(sha(readFileSync(join(outDir, 'big.bin'))), sha(readFileSync(join(dir, 'big.bin'))));
        assert.equal(readFileSync(join(outDir, 'small.txt'), 'utf8'), 'small file\n');
      }
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
  });
});
