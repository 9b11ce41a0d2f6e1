/**
 * pullwire demo: the whole stack that exists, end to end on loopback, with
 * figures. Every part checks every byte it gets back against what it
 * generated itself, and prints a few lines:
 *
 *   1. combinators: a generated record stream decoded in random chunk sizes
 *      (streaming) and as one buffer (complete mode);
 *   2. mini-protocols: a line handshake, then length-delimited records,
 *      echoed over a real TCP connection (node:net, miniproto Sessions);
 *   3. WebSocket: our server and our client, permessage-deflate, text and
 *      binary messages of 16 B..1 MiB echoed; then our server with the `ws`
 *      package as the client (interop);
 *   4. QUIC wire layer: 1200-byte 1-RTT packets built, protected, opened and
 *      parsed with both crypto providers;
 *   5. QUIC over loopback UDP: our quic-server and our client (Node adapter):
 *      handshakes/s, then a multi-stream download with every byte checked.
 *
 *   npm start                                   (build, then run with the defaults)
 *   node dist/src/cli/demo.js [--quick] [--records N] [--seed N]
 *
 * --quick runs every check on a fraction of the data (a few seconds). The
 * last line is a one-line summary; the exit code is 1 if any check failed,
 * any part raised or timed out, or a socket or timer was left open.
 */
import { runCombinators } from './demo/combinators.js';
import { Teardown, errorText, fail, secs, since, now, type DemoOptions, type PartOutcome } from './demo/common.js';
import { runMiniproto } from './demo/miniproto.js';
import { runQuicWire } from './demo/quic.js';
import { runQuicUdp } from './demo/quic-udp.js';
import { runHttp3 } from './demo/http3.js';
import { runWebSocket, runWebSocketInterop } from './demo/websocket.js';

interface Part {
  /** Short name for the summary line. */
  readonly name: string;
  /** The title line printed before the part's own lines. */
  readonly title: string;
  run(opts: DemoOptions, teardown: Teardown): PartOutcome | Promise<PartOutcome>;
}

const PARTS: readonly Part[] = [
  {
    name: 'combinators',
    title: '1. combinators: a generated record stream, decoded streaming (random chunk sizes) and in complete mode',
    run: (o) => runCombinators(o),
  },
  {
    name: 'mini-protocols',
    title: '2. mini-protocols over loopback TCP (node:net + attachDuplex): line handshake, then length-delimited records',
    run: (o, t) => runMiniproto(o, t),
  },
  {
    name: 'WebSocket',
    title: '3. WebSocket over loopback: our WebSocketServer (on an http.Server) and our client, with and without permessage-deflate',
    run: (o, t) => runWebSocket(o, t),
  },
  {
    name: 'ws interop',
    title: '3b. WebSocket interop: the ws npm package as the client of our server, permessage-deflate',
    run: (o, t) => runWebSocketInterop(o, t),
  },
  {
    name: 'QUIC wire',
    title: '4. QUIC wire layer: 1200-byte 1-RTT packets, one STREAM frame each, AES-128-GCM, both crypto providers',
    run: (o) => runQuicWire(o),
  },
  {
    name: 'QUIC UDP',
    title:
      '5. QUIC over loopback UDP: pullwire quic-server and client (node:dgram adapter, TLS 1.3 verified), handshakes and a 4-stream download',
    run: (o, t) => runQuicUdp(o, t),
  },
  {
    name: 'HTTP/3',
    title: '6. HTTP/3 over loopback UDP: pullwire server and client (QPACK, one connection), then a resumed connection in 0-RTT',
    run: (o, t) => runHttp3(o, t),
  },
];

/** A part that has not finished after this long has failed (a hang must not hang the demo). */
const PART_TIMEOUT_MS = 60_000;

const USAGE = 'usage: demo [--quick] [--records N] [--seed N]';

function parseOptions(argv: readonly string[]): DemoOptions {
  let quick = false;
  let records: number | undefined;
  let seed = 1;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') {
      quick = true;
      continue;
    }
    const value = Number(argv[i + 1]);
    if ((arg === '--records' || arg === '--seed') && Number.isInteger(value) && value >= 0) {
      if (arg === '--records') records = value;
      else seed = value;
      i++;
    } else {
      throw new Error(`${USAGE} (bad argument ${String(arg)})`);
    }
  }
  return { quick, records: records ?? (quick ? 100_000 : 2_000_000), seed };
}

/** Runs a part with a deadline; on failure or timeout, destroys whatever it left open. */
async function runPart(part: Part, opts: DemoOptions): Promise<PartOutcome> {
  const teardown = new Teardown();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<PartOutcome>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${PART_TIMEOUT_MS / 1000} s`)), PART_TIMEOUT_MS);
  });
  let result: PartOutcome;
  try {
    result = await Promise.race([Promise.resolve().then(() => part.run(opts, teardown)), timeout]);
  } catch (e) {
    fail(`${part.name}: ${errorText(e)}`);
    result = 'failed';
  } finally {
    clearTimeout(timer);
  }
  if (result === 'failed') teardown.destroyAll();
  return result;
}

/** Sockets, servers and timers still open once every part is over (there should be none). */
function leftOpen(): string[] {
  return process.getActiveResourcesInfo().filter((r) => /TCP|UDP|Timeout|Immediate|Pipe(Server|Connect)/.test(r));
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const t0 = now();
  console.log(`pullwire demo${opts.quick ? ' --quick' : ''} (seed ${opts.seed}): every part checks every byte it gets back`);
  const results: [string, PartOutcome][] = [];
  for (const part of PARTS) {
    console.log(part.title);
    results.push([part.name, await runPart(part, opts)]);
  }
  // A closed handle leaves the list in the 'close callbacks' phase of the loop, after setImmediate: wait a timer turn.
  await new Promise((resolve) => setTimeout(resolve, 10));
  const open = leftOpen();
  if (open.length > 0) {
    fail(`left open after every part closed its sockets: ${open.join(', ')}`);
    results.push(['cleanup', 'failed']);
  }
  const failed = results.filter(([, r]) => r === 'failed').map(([n]) => n);
  const skipped = results.filter(([, r]) => r === 'skipped').map(([n]) => n);
  const elapsed = secs(since(t0));
  if (failed.length === 0) {
    const names = results.filter(([, r]) => r === 'ok').map(([n]) => n);
    console.log(
      `pullwire demo: OK: ${names.join(', ')}: every check passed in ${elapsed}${skipped.length > 0 ? ` (skipped: ${skipped.join(', ')})` : ''}`,
    );
    return 0;
  }
  console.log(`pullwire demo: FAILED: ${failed.join(', ')} (see the FAIL lines) in ${elapsed}`);
  exitSoon();
  return 1;
}

/** After a failure something may still hold the loop (a peer that never closed): do not hang on it. */
function exitSoon(): void {
  setTimeout(() => process.exit(1), 2000).unref();
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`pullwire demo: ${errorText(e)}`);
    console.log('pullwire demo: FAILED: could not run');
    process.exitCode = 1;
    exitSoon();
  },
);
