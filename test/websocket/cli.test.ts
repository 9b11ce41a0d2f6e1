import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocket as WsClient } from 'ws';

const here = dirname(fileURLToPath(import.meta.url));
// dist/test/websocket → dist/src/cli/pullwire.js
const CLI = join(here, '..', '..', 'src', 'cli', 'pullwire.js');

describe('pullwire ws-echo', () => {
  it('listens on 127.0.0.1, echoes with permessage-deflate, stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, 'ws-echo', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stdout.setEncoding('utf8');
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: string) => {
          out += d;
          const m = /listening on (ws:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (m !== null) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      const ws = new WsClient(url, { perMessageDeflate: { threshold: 0 } });
      const upgrade = once(ws, 'upgrade');
      await once(ws, 'open');
      const [res] = (await upgrade) as [{ headers: Record<string, string> }];
      assert.match(res.headers['sec-websocket-extensions'] ?? '', /^permessage-deflate/);
      const text = 'echo me '.repeat(500);
      ws.send(text);
      const [data, isBinary] = (await once(ws, 'message')) as [Buffer, boolean];
      assert.deepStrictEqual([data.toString(), isBinary], [text, false]);
      ws.send(Buffer.from([1, 2, 3]));
      const [bin, isBin] = (await once(ws, 'message')) as [Buffer, boolean];
      assert.deepStrictEqual([[...bin], isBin], [[1, 2, 3], true]);
      ws.close(1000);
      assert.equal(((await once(ws, 'close')) as [number])[0], 1000);
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('refuses to start without --port, and lists its commands', async () => {
    const run = async (args: string[]): Promise<[number | null, string]> => {
      const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (text += d));
      const [code] = (await once(child, 'exit')) as [number | null];
      return [code, text];
    };
    const [code, text] = await run(['ws-echo']);
    assert.equal(code, 1);
    assert.match(text, /--port/);
    const [helpCode, help] = await run(['help']);
    assert.equal(helpCode, 0);
    assert.match(help, /ws-echo/);
    const [unknownCode] = await run(['nope']);
    assert.equal(unknownCode, 2);
  });
});
