/**
 * The demo (`npm start`) as a user runs it, in its small-size mode: a child
 * process that must exit by itself with code 0, print every part's
 * verification line and end with the one-line summary.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// dist/test/cli → dist/src/cli/demo.js
const DEMO = join(here, '..', '..', 'src', 'cli', 'demo.js');

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

async function runDemo(args: readonly string[], killAfterMs: number): Promise<Run> {
  const child = spawn(process.execPath, [DEMO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // A demo that leaves a socket open never exits: kill it, and the exit code says so.
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    return { code, signal, stdout, stderr };
  } finally {
    clearTimeout(killer);
  }
}

describe('demo --quick (npm start, small sizes)', () => {
  it('runs every part on loopback, checks every byte, exits by itself with 0 and a summary line', { timeout: 20_000 }, async () => {
    const r = await runDemo(['--quick'], 15_000);
    assert.equal(r.signal, null, `killed: the demo did not exit by itself\n${r.stdout}${r.stderr}`);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.doesNotMatch(r.stderr, /FAIL/);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(
      lines[lines.length - 1]!,
      /^pullwire demo: OK: combinators, mini-protocols, WebSocket, ws interop, QUIC wire, QUIC UDP, HTTP\/3: every check passed in \d+\.\d\d s$/,
    );
    // Each part's own verdict (ws is a devDependency, so the interop part runs here).
    for (const verdict of [
      /streaming: .* 100,000 messages match/,
      /complete: .* 100,000 messages match/,
      /5,000 records of 16\.\.1,024 B .* every byte matches/,
      /server report "OK records=5000 bytes=\d+ fnv=0x[0-9a-f]{8}" = the client's own/,
      /our client \(extensions "permessage-deflate"\): 40 messages .* every echo matches/,
      /our client, no deflate \(extensions ""\): 40 messages .* every echo matches/,
      /ws [\d.]+ client \(extensions "permessage-deflate"\): 40 messages .* every echo matches/,
      /node provider : 2,000 packets .* every frame verified/,
      /noble provider: 300 packets .* every frame verified/,
      /byte-identical/,
      /10 handshakes one after another \(connect until 1-RTT\)/,
      /download 4\.0 MB on 4 concurrent streams, every byte checked/,
      /GET \/big: 2\.0 MB in .* body byte-identical/,
      /100 concurrent small GETs on one connection: .* every response checked/,
      /request sent in 0-RTT \(\d+ bytes, accepted\)/,
    ]) {
      assert.match(r.stdout, verdict);
    }
  });

  it('refuses an unknown argument with a non-zero exit code and a FAILED summary', { timeout: 10_000 }, async () => {
    const r = await runDemo(['--bogus'], 8_000);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /usage: demo/);
    assert.match(r.stdout, /^pullwire demo: FAILED/m);
  });
});
