/**
 * HTTP/3 downloads over real UDP on loopback: pullwire's `h3-server` /
 * `h3-get` next to ngtcp2's example server and client (`gtlsserver` /
 * `gtlsclient`, the GnuTLS builds of Debian's ngtcp2-server / ngtcp2-client),
 * and each of ours against each of theirs (issue 10).
 *
 *   npm run bench:http3                        every workload, 3 passes each (median)
 *   npm run bench:http3 -- --passes 5 --markdown
 *   npm run bench:http3 -- --profile           also one profiled 100 MiB download of our pair
 *   npm run bench:http3 -- --quick             10 MiB instead of 100 MiB (a smoke run, not figures)
 *
 * Workloads (each pair as two processes, server and client, on 127.0.0.1):
 * - bulk: one GET of a 100 MiB file of random bytes. Figure: MiB/s.
 * - requests: 200 GETs of distinct 1 KiB files on one connection (both clients
 *   send them all at once, as far as the server's stream limit lets them).
 *   Figure: requests/s.
 * Every body is checked: h3-get reports each body's sha256; gtlsclient's
 * downloads (it exits 0 even when a request fails) are compared by size and
 * sha256.
 *
 * Timing. h3-get prints its own `seconds`: from the end of the handshake until
 * the last body is complete. gtlsclient prints no timing with -q (and its
 * debug output would slow it), so its figure is the process's wall time minus
 * the median wall time of 3 runs of the same command fetching one 1 KiB file
 * from the same server (process start, handshake, one request, close): that
 * difference approximates the same interval as ours.
 *
 * Datagram sizes: ours sends at most 1200-byte datagrams by default (no PMTUD);
 * ngtcp2 probes the path MTU (up to 1452 bytes on loopback). Ours is also run
 * with `--max-datagram-size 1452` on both processes to separate that effect.
 *
 * Peak memory is each process's high-water RSS (/proc/<pid>/status VmHWM,
 * sampled every 10 ms until it exits).
 *
 * --profile runs our pair once more under `node --cpu-prof` (server and client)
 * and prints the top self-time functions and files of each profile.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median } from './harness.js';
import { Proc, ROOT, freePort } from './process.js';

const PULLWIRE = join(ROOT, 'dist', 'src', 'cli', 'pullwire.js');
const GTLSSERVER = '/usr/sbin/gtlsserver';
const GTLSCLIENT = '/usr/bin/gtlsclient';
const MiB = 1024 * 1024;
const REQUESTS = 200;
const SMALL = 1024;
/** ngtcp2's PMTUD reaches 1452-byte UDP payloads on loopback (1500-byte probes minus IPv4/UDP headers and more). */
const BIG_DATAGRAM = 1452;

function certDir(): string {
  for (const d of [join(ROOT, '..', 'shared', 'peers', 'certs'), join(ROOT, 'node_modules', '.cache', 'pullwire-peers', 'certs')]) {
    if (existsSync(join(d, 'ecdsa-cert.pem'))) return d;
  }
  throw new Error('bench/http3: no test certificates (../shared/peers/certs or node_modules/.cache/pullwire-peers/certs)');
}
const CERTS = certDir();
const CERT = join(CERTS, 'ecdsa-cert.pem');
const KEY = join(CERTS, 'ecdsa-key.pem');

interface Args {
  passes: number;
  markdown: boolean;
  quick: boolean;
  profile: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { passes: 3, markdown: false, quick: false, profile: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--passes') a.passes = Math.max(1, Number(argv[++i]));
    else if (arg === '--markdown') a.markdown = true;
    else if (arg === '--quick') a.quick = true;
    else if (arg === '--profile') a.profile = true;
    else throw new Error(`unknown option ${arg}`);
  }
  return a;
}

/** The files served, with their sha256, in a fresh temporary folder. */
interface Files {
  readonly dir: string;
  readonly big: { name: string; bytes: number; sha256: string };
  readonly small: { name: string; sha256: string }[];
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function makeFiles(bigBytes: number): Files {
  const dir = mkdtempSync(join(tmpdir(), 'pullwire-bench-http3-'));
  const big = new Uint8Array(randomBytes(bigBytes));
  writeFileSync(join(dir, 'f100m'), big);
  const small = Array.from({ length: REQUESTS }, (_, i) => {
    const name = `k${String(i).padStart(3, '0')}`;
    const body = new Uint8Array(randomBytes(SMALL));
    writeFileSync(join(dir, name), body);
    return { name, sha256: sha256(body) };
  });
  return { dir, big: { name: 'f100m', bytes: bigBytes, sha256: sha256(big) }, small };
}

type Workload = 'bulk' | 'requests';
type Side = 'ours' | 'ngtcp2';

interface Pair {
  readonly label: string;
  readonly server: Side;
  readonly client: Side;
  /** --max-datagram-size for our side(s); null: the default (1200). */
  readonly datagram: number | null;
}

/** What a workload asks for: the paths, and the check of the result. */
interface Expect {
  readonly paths: string[];
  readonly bytes: number;
  readonly sha256: Map<string, string>;
}

function expectFor(files: Files, w: Workload): Expect {
  if (w === 'bulk') return { paths: [files.big.name], bytes: files.big.bytes, sha256: new Map([[files.big.name, files.big.sha256]]) };
  return { paths: files.small.map((f) => f.name), bytes: REQUESTS * SMALL, sha256: new Map(files.small.map((f) => [f.name, f.sha256])) };
}

function startServer(pair: Pair, port: number, files: Files, nodeFlags: readonly string[] = []): { proc: Proc; ready: RegExp } {
  if (pair.server === 'ngtcp2') {
    return {
      proc: Proc.start('gtlsserver', GTLSSERVER, ['-q', '-d', files.dir, '127.0.0.1', String(port), KEY, CERT]),
      ready: /Using document root/,
    };
  }
  const size = pair.datagram === null ? [] : ['--max-datagram-size', String(pair.datagram)];
  return {
    proc: Proc.start('h3-server', process.execPath, [
      ...nodeFlags,
      PULLWIRE,
      'h3-server',
      '--port',
      String(port),
      '--cert',
      CERT,
      '--key',
      KEY,
      '--root',
      files.dir,
      '--alpn',
      'h3',
      ...size,
    ]),
    ready: /listening/,
  };
}

interface H3GetJson {
  files: { url: string; status: number | null; bytes: number; sha256: string }[];
  bytes: number;
  seconds: number;
}

/** Runs our client; returns the seconds it reports after checking every body. */
async function runOurClient(
  pair: Pair,
  port: number,
  e: Expect,
  nodeFlags: readonly string[] = [],
): Promise<{ seconds: number; proc: Proc }> {
  const size = pair.datagram === null ? [] : ['--max-datagram-size', String(pair.datagram)];
  const urls = e.paths.map((p) => `https://127.0.0.1:${port}/${p}`);
  const proc = Proc.start('h3-get', process.execPath, [
    ...nodeFlags,
    PULLWIRE,
    'h3-get',
    ...urls,
    '--ca',
    CERT,
    '--server-name',
    'localhost',
    ...size,
  ]);
  const lines = await proc.result(180_000);
  const json = lines.find((l) => l.startsWith('{'));
  if (json === undefined) throw new Error(`h3-get printed no summary: ${lines.join('\n')}`);
  const s = JSON.parse(json) as H3GetJson;
  for (const f of s.files) {
    const want = e.sha256.get(basename(new URL(f.url).pathname));
    if (f.status !== 200 || f.sha256 !== want) throw new Error(`h3-get ${f.url}: status ${f.status}, sha256 ${f.sha256} (want ${want})`);
  }
  if (s.bytes !== e.bytes || s.files.length !== e.paths.length) throw new Error(`h3-get: ${s.bytes} bytes in ${s.files.length} files`);
  return { seconds: s.seconds, proc };
}

/** Runs gtlsclient into a fresh download folder; returns its wall time after checking every file. */
async function runNgtcp2Client(port: number, e: Expect, out: string): Promise<Proc> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const urls = e.paths.map((p) => `https://127.0.0.1:${port}/${p}`);
  const proc = Proc.start('gtlsclient', GTLSCLIENT, [
    '-q',
    '--no-quic-dump',
    '--no-http-dump',
    '--exit-on-all-streams-close',
    '--download',
    out,
    '127.0.0.1',
    String(port),
    ...urls,
  ]);
  await proc.result(180_000);
  // gtlsclient exits 0 whatever happened: the downloads are the verdict.
  for (const [name, want] of e.sha256) {
    const path = join(out, name);
    if (!existsSync(path)) throw new Error(`gtlsclient: ${name} not downloaded: ${proc.lines.join('\n')}`);
    const got = sha256(readFileSync(path));
    if (got !== want) throw new Error(`gtlsclient: ${name} has ${statSync(path).size} bytes, sha256 ${got} (want ${want})`);
  }
  return proc;
}

interface Sample {
  readonly value: number;
  readonly clientWall: number;
  readonly serverMiB: number;
  readonly clientMiB: number;
}

async function measure(pair: Pair, w: Workload, files: Files, out: string): Promise<Sample> {
  const port = await freePort();
  const { proc: server, ready } = startServer(pair, port, files);
  const e = expectFor(files, w);
  try {
    await server.waitFor(ready);
    let seconds: number;
    let client: Proc;
    if (pair.client === 'ours') {
      ({ seconds, proc: client } = await runOurClient(pair, port, e));
    } else {
      // The fixed cost of a gtlsclient run against this server: start, handshake, one small GET, close.
      const one: Expect = {
        paths: [files.small[0]!.name],
        bytes: SMALL,
        sha256: new Map([[files.small[0]!.name, files.small[0]!.sha256]]),
      };
      const base: number[] = [];
      for (let i = 0; i < 3; i++) base.push((await runNgtcp2Client(port, one, out)).wallSeconds);
      client = await runNgtcp2Client(port, e, out);
      seconds = client.wallSeconds - median(base);
      if (seconds <= 0) throw new Error(`gtlsclient: wall ${client.wallSeconds} s is not above its fixed cost ${median(base)} s`);
    }
    const value = w === 'bulk' ? e.bytes / MiB / seconds : e.paths.length / seconds;
    return { value, clientWall: client.wallSeconds, serverMiB: server.peakMiB, clientMiB: client.peakMiB };
  } finally {
    await server.stop();
  }
}

interface Result {
  readonly pair: Pair;
  readonly value: number;
  readonly clientWall: number;
  readonly serverMiB: number;
  readonly clientMiB: number;
}

async function run(pair: Pair, w: Workload, passes: number, files: Files, out: string): Promise<Result> {
  const samples: Sample[] = [];
  for (let i = 0; i < passes; i++) samples.push(await measure(pair, w, files, out));
  return {
    pair,
    value: median(samples.map((s) => s.value)),
    clientWall: median(samples.map((s) => s.clientWall)),
    serverMiB: Math.max(...samples.map((s) => s.serverMiB)),
    clientMiB: Math.max(...samples.map((s) => s.clientMiB)),
  };
}

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

// ---- cpuprofile summary

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time (ms) by function and by file, from a V8 .cpuprofile. */
function summarize(path: string, top: number): string[] {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const frame = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  // Sample i lasts until sample i+1 (timeDeltas[i+1] microseconds), as in Chrome DevTools.
  for (let i = 0; i < p.samples.length; i++) {
    const us = p.timeDeltas[i + 1] ?? 0;
    const f = frame.get(p.samples[i]!);
    if (f === undefined) continue;
    total += us;
    const file = f.url === '' ? '(native/VM)' : f.url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '');
    const fn = `${f.functionName === '' ? '(anonymous)' : f.functionName}${f.url === '' ? '' : ` ${file}:${f.lineNumber + 1}`}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
  const rows = (m: Map<string, number>): string[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `  ${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  return [
    `${basename(path)}: ${(total / 1e6).toFixed(2)} s sampled`,
    ' by function (self time):',
    ...rows(byFn),
    ' by file (self time):',
    ...rows(byFile),
  ];
}

async function profile(files: Files, dir: string): Promise<void> {
  const pair: Pair = { label: 'ours (default datagrams), profiled', server: 'ours', client: 'ours', datagram: null };
  const serverDir = join(dir, 'server');
  const clientDir = join(dir, 'client');
  const port = await freePort();
  const { proc: server, ready } = startServer(pair, port, files, ['--cpu-prof', '--cpu-prof-dir', serverDir]);
  try {
    await server.waitFor(ready);
    const { seconds } = await runOurClient(pair, port, expectFor(files, 'bulk'), ['--cpu-prof', '--cpu-prof-dir', clientDir]);
    console.log(`profile: one ${files.big.bytes / MiB} MiB download under --cpu-prof: ${fmt(files.big.bytes / MiB / seconds)} MiB/s`);
  } finally {
    await server.stop();
  }
  for (const [side, d] of [
    ['server', serverDir],
    ['client', clientDir],
  ] as const) {
    const f = readdirSync(d).find((n) => n.endsWith('.cpuprofile'));
    if (f === undefined) throw new Error(`no .cpuprofile in ${d}`);
    console.log(`\n${side} (${join(d, f)}):`);
    for (const l of summarize(join(d, f), 15)) console.log(l);
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  for (const bin of [GTLSSERVER, GTLSCLIENT]) {
    if (!existsSync(bin)) {
      console.error(`bench/http3: ${bin} is missing (Debian packages ngtcp2-server and ngtcp2-client)`);
      return 1;
    }
  }
  const t0 = performance.now();
  const bigBytes = (args.quick ? 10 : 100) * MiB;
  const files = makeFiles(bigBytes);
  const out = mkdtempSync(join(tmpdir(), 'pullwire-bench-http3-out-'));
  const ngtcp2Version = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'ngtcp2-client'], { encoding: 'utf8' }).stdout || 'unknown';
  const load = (): string =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  try {
    console.log(`http3 on 127.0.0.1: pullwire vs ngtcp2 ${ngtcp2Version} (gtlsserver/gtlsclient); load average ${load()}`);
    const p = args.passes;
    const D = BIG_DATAGRAM;
    const ourPair: Pair = { label: 'ours -> ours (1200-byte datagrams, default)', server: 'ours', client: 'ours', datagram: null };
    const ourPairBig: Pair = { label: `ours -> ours (--max-datagram-size ${D})`, server: 'ours', client: 'ours', datagram: D };
    const anchor: Pair = { label: 'ngtcp2 -> ngtcp2 (PMTUD)', server: 'ngtcp2', client: 'ngtcp2', datagram: null };
    const pairs: Pair[] = [
      ourPair,
      ourPairBig,
      anchor,
      { label: 'h3-get from gtlsserver (default)', server: 'ngtcp2', client: 'ours', datagram: null },
      { label: `h3-get from gtlsserver (--max-datagram-size ${D})`, server: 'ngtcp2', client: 'ours', datagram: D },
      { label: 'gtlsclient from h3-server (default)', server: 'ours', client: 'ngtcp2', datagram: null },
      { label: `gtlsclient from h3-server (--max-datagram-size ${D})`, server: 'ours', client: 'ngtcp2', datagram: D },
    ];
    const tables: { w: Workload; unit: string; results: Result[] }[] = [];
    for (const [w, unit, title, list, passes] of [
      ['bulk', 'MiB/s', `bulk: one GET of ${bigBytes / MiB} MiB`, pairs, p],
      // Small requests are quick and their figures noisy: more passes, the datagram size does not matter.
      [
        'requests',
        'requests/s',
        `requests: ${REQUESTS} GETs of ${SMALL}-byte files on one connection`,
        pairs.filter((x) => x.datagram === null),
        Math.max(5, p),
      ],
    ] as const) {
      console.log(`${title} (median of ${passes})`);
      const results: Result[] = [];
      for (const pair of list) {
        const r = await run(pair, w, passes, files, out);
        results.push(r);
        console.log(
          `  ${pair.label}: ${fmt(r.value)} ${unit} (client wall ${r.clientWall.toFixed(2)} s; peak RSS server ${fmt(r.serverMiB)} MiB, client ${fmt(r.clientMiB)} MiB)`,
        );
      }
      const a = results.find((r) => r.pair === anchor)!;
      for (const r of results) {
        if (r.pair === anchor) continue;
        const ratio = r.value / a.value;
        // Issue 10 sets the target for throughput of our pair; the other ratios are for explanation.
        const target = w === 'bulk' && r.pair.server === 'ours' && r.pair.client === 'ours' ? 0.5 : null;
        console.log(
          `  ratio ${r.pair.label} / ngtcp2 pair: ${ratio.toFixed(2)}x${target === null ? '' : ` (target ${target}x) ${ratio >= target ? 'OK' : 'MISS'}`}`,
        );
        console.log(JSON.stringify({ case: `http3/${w}/${r.pair.label}`, ours: r.value, anchor: a.value, unit, ratio, target }));
      }
      tables.push({ w, unit, results });
    }
    console.log(`bench time ${((performance.now() - t0) / 1000).toFixed(0)} s; load average ${load()}`);
    if (args.markdown) {
      console.log(
        '\n| workload | pair (server <- client) | figure | client wall | peak RSS server / client | ratio to ngtcp2 pair | target |',
      );
      console.log('|---|---|---|---|---|---|---|');
      for (const t of tables) {
        const a = t.results.find((r) => r.pair === anchor)!;
        for (const r of t.results) {
          const target = t.w === 'bulk' && r.pair.server === 'ours' && r.pair.client === 'ours' ? 0.5 : null;
          const ratio = r.value / a.value;
          console.log(
            `| ${t.w} | ${r.pair.label} | ${fmt(r.value)} ${t.unit} | ${r.clientWall.toFixed(2)} s | ${fmt(r.serverMiB)} / ${fmt(r.clientMiB)} MiB | ${r.pair === anchor ? '' : `${ratio.toFixed(2)}x`} | ${target === null ? '' : `${target}x ${ratio >= target ? 'OK' : 'MISS'}`} |`,
          );
        }
      }
    }
    if (args.profile) {
      console.log('');
      await profile(files, join(out, 'profiles'));
    }
  } finally {
    rmSync(files.dir, { recursive: true, force: true });
    if (!args.profile) rmSync(out, { recursive: true, force: true });
    else console.log(`\n(profiles kept in ${join(out, 'profiles')})`);
  }
  return 0;
}

process.exitCode = await main();
