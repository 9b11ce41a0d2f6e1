/**
 * QUIC over real UDP on loopback: pullwire's `quic-server` / `quic-client`
 * against each other, next to @matrixai/quic's (Cloudflare quiche through
 * napi-rs) server and client against each other, in the same run.
 *
 *   npm run bench:udp                      every workload, 3 passes each (median)
 *   npm run bench:udp -- --passes 5 --markdown
 *   npm run bench:udp -- --quick           smaller workloads (a smoke run, not figures)
 *
 * Workloads (each pair as two processes, server and client, like real use):
 * - bulk: one stream, 100 MiB downloaded by the client, every byte checked
 *   (both clients verify the pattern). Ours at the default 1200-byte
 *   datagrams and at 16 KiB datagrams; @matrixai/quic tuned as
 *   ../shared/peers/README.md measured it (16 KiB UDP payloads, 64 KiB reads)
 *   and with its defaults (10 MiB only: it moves ~1 MiB/s).
 * - streams: 100 concurrent streams of 100 KiB on one connection.
 * - handshakes: 100 connections one after another, each until 1-RTT with the
 *   server certificate verified (test CA), then closed.
 * Ours runs with the node:crypto provider, and once with the portable
 *   (@noble) one. Peak memory is each process's high-water RSS
 *   (/proc/<pid>/status VmHWM, sampled until it exits).
 *
 * The anchor needs the npm peers installed (.ci/run does it; or
 * ../shared/peers/setup.sh --into node_modules/.cache/pullwire-peers).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './harness.js';
import { Proc, ROOT, freePort } from './process.js';

const PEERS = join(ROOT, 'node_modules', '.cache', 'pullwire-peers');
const PULLWIRE = join(ROOT, 'dist', 'src', 'cli', 'pullwire.js');
const CERT = join(PEERS, 'certs', 'ecdsa-cert.pem');
const KEY = join(PEERS, 'certs', 'ecdsa-key.pem');
const MiB = 1024 * 1024;

interface Args {
  passes: number;
  markdown: boolean;
  quick: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { passes: 3, markdown: false, quick: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--passes') a.passes = Math.max(1, Number(argv[++i]));
    else if (arg === '--markdown') a.markdown = true;
    else if (arg === '--quick') a.quick = true;
    else throw new Error(`unknown option ${arg}`);
  }
  return a;
}

/** One measurement: the figure, and the peak RSS of server and client. */
interface Sample {
  readonly value: number;
  readonly serverMiB: number;
  readonly clientMiB: number;
}

type Workload = { kind: 'bulk'; bytes: number; streams: number } | { kind: 'handshakes'; count: number };

interface Setup {
  readonly label: string;
  /** Server process arguments and the line that says it listens. */
  server(port: number): { args: string[]; ready: RegExp; cwd?: string };
  /** Client arguments for a workload and how to read the figure from its output. */
  client(port: number, w: Workload): { args: string[]; cwd?: string; read(lines: string[]): number };
}

const ourClientCommon = (port: number, extra: readonly string[]): string[] => [
  PULLWIRE,
  'quic-client',
  '127.0.0.1',
  String(port),
  '--alpn',
  'bench',
  '--ca',
  CERT,
  '--server-name',
  'localhost',
  ...extra,
];

function ours(label: string, provider: 'node' | 'noble', datagramSize: number | null): Setup {
  const size = datagramSize === null ? [] : ['--max-datagram-size', String(datagramSize)];
  const prov = ['--provider', provider];
  return {
    label,
    server: (port) => ({
      args: [PULLWIRE, 'quic-server', '--port', String(port), '--cert', CERT, '--key', KEY, '--alpn', 'bench', ...prov, ...size],
      ready: /listening/,
    }),
    client: (port, w) => {
      if (w.kind === 'handshakes') {
        return {
          args: ourClientCommon(port, ['--handshakes', String(w.count), ...prov]),
          read: (lines) => (JSON.parse(lastJson(lines)) as { perSecond: number }).perSecond,
        };
      }
      return {
        args: ourClientCommon(port, ['--get', String(w.bytes), '--streams', String(w.streams), ...prov, ...size]),
        read: (lines) => {
          const s = JSON.parse(lastJson(lines)) as { bytes: number; seconds: number };
          if (s.bytes !== w.bytes * w.streams) throw new Error(`ours: ${s.bytes} bytes`);
          return s.bytes / MiB / s.seconds;
        },
      };
    },
  };
}

/**
 * The anchor's handshake loop: @matrixai/quic clients created one after another in one process
 * (jsquic-client.mjs makes one connection per process). Written next to the peers so that it
 * resolves their node_modules.
 */
const JSQUIC_HANDSHAKES = `// Written by pullwire's bench/quic-udp.ts: N sequential @matrixai/quic connections, handshake only.
import { readFileSync } from 'node:fs';
import { QUICClient } from '@matrixai/quic';
import { makeLogger, clientCrypto, patchEarlyStreams } from './jsquic-common.mjs';
patchEarlyStreams();
const [port, count] = process.argv.slice(2).map(Number);
const ca = readFileSync(new URL('./certs/ecdsa-cert.pem', import.meta.url), 'utf8');
const t0 = performance.now();
for (let i = 0; i < count; i++) {
  const client = await QUICClient.createQUICClient({
    host: '127.0.0.1', port, serverName: 'localhost', localHost: '0.0.0.0', crypto: clientCrypto(),
    config: { applicationProtos: ['bench'], verifyPeer: true, ca, maxIdleTimeout: 30_000 },
    logger: makeLogger('jsquic-handshakes'),
  }, { timer: 15_000 });
  await client.destroy({ force: true });
}
const s = (performance.now() - t0) / 1000;
console.log('OK handshakes=' + count + ' seconds=' + s.toFixed(4) + ' perSecond=' + (count / s).toFixed(1));
process.exit(0);
`;

function jsquic(label: string, tuned: boolean): Setup {
  const tuning = tuned ? ['--udp-payload', '16384', '--chunk-size', '65536'] : [];
  return {
    label,
    server: (port) => ({
      args: ['jsquic-server.mjs', '--port', String(port), '--alpn', 'bench', ...tuning],
      ready: /LISTENING/,
      cwd: PEERS,
    }),
    client: (port, w) => {
      if (w.kind === 'handshakes') {
        return {
          args: ['jsquic-handshakes.mjs', String(port), String(w.count)],
          cwd: PEERS,
          read: (lines) => Number(/perSecond=([\d.]+)/.exec(lines.join('\n'))![1]),
        };
      }
      return {
        args: [
          'jsquic-client.mjs',
          '--port',
          String(port),
          '--bytes',
          String(w.bytes),
          '--streams',
          String(w.streams),
          '--verify',
          '1',
          '--timeout',
          '120000',
          ...tuning,
        ],
        cwd: PEERS,
        read: (lines) => {
          const text = lines.join('\n');
          const m = /OK get bytes=(\d+) .*transfer_s=([\d.]+)/.exec(text);
          if (m === null) throw new Error(`jsquic-client: ${text}`);
          if (Number(m[1]) !== w.bytes * w.streams) throw new Error(`jsquic-client: ${m[1]} bytes`);
          return Number(m[1]) / MiB / Number(m[2]);
        },
      };
    },
  };
}

async function measure(setup: Setup, w: Workload): Promise<Sample> {
  const port = await freePort();
  const s = setup.server(port);
  const server = Proc.start(`${setup.label} server`, process.execPath, s.args, s.cwd);
  try {
    await server.waitFor(s.ready);
    const c = setup.client(port, w);
    const client = Proc.start(`${setup.label} client`, process.execPath, c.args, c.cwd);
    const lines = await client.result(300_000);
    return { value: c.read(lines), serverMiB: server.peakMiB, clientMiB: client.peakMiB };
  } finally {
    await server.stop();
  }
}

interface Row {
  readonly workload: string;
  readonly unit: string;
  readonly ours: { label: string; value: number; serverMiB: number; clientMiB: number }[];
  readonly anchor: { label: string; value: number; serverMiB: number; clientMiB: number };
  /** Which of ours the ratio and target compare to the anchor. */
  readonly compare: number;
  readonly target: number;
}

async function run(
  setup: Setup,
  w: Workload,
  passes: number,
): Promise<{ label: string; value: number; serverMiB: number; clientMiB: number }> {
  const samples: Sample[] = [];
  for (let i = 0; i < passes; i++) samples.push(await measure(setup, w));
  return {
    label: setup.label,
    value: median(samples.map((s) => s.value)),
    serverMiB: Math.max(...samples.map((s) => s.serverMiB)),
    clientMiB: Math.max(...samples.map((s) => s.clientMiB)),
  };
}

/** The last line that is a JSON object (the client's summary; stderr lines are collected too). */
const lastJson = (lines: readonly string[]): string => [...lines].reverse().find((l) => l.startsWith('{')) ?? '';

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(join(PEERS, 'node_modules', '@matrixai', 'quic'))) {
    console.error(
      `bench/quic-udp: the @matrixai/quic peer is not installed in ${PEERS} (run .ci/run, or ../shared/peers/setup.sh --into node_modules/.cache/pullwire-peers)`,
    );
    return 1;
  }
  writeFileSync(join(PEERS, 'jsquic-handshakes.mjs'), JSQUIC_HANDSHAKES);
  const q = args.quick;
  const bulk: Workload = { kind: 'bulk', bytes: (q ? 10 : 100) * MiB, streams: 1 };
  const anchorDefaultBulk: Workload = { kind: 'bulk', bytes: (q ? 1 : 10) * MiB, streams: 1 };
  const many: Workload = { kind: 'bulk', bytes: 100 * 1024, streams: q ? 20 : 100 };
  const hs: Workload = { kind: 'handshakes', count: q ? 20 : 100 };
  const p = args.passes;
  // The anchor is slow (seconds to a minute per run): one pass of its streams workload is enough.
  const rows: Row[] = [];
  const say = (r: Row): void => {
    const a = r.anchor;
    const c = r.ours[r.compare]!;
    const ratio = c.value / a.value;
    for (const o of r.ours) {
      console.log(`  ours ${o.label}: ${fmt(o.value)} ${r.unit} (peak RSS server ${fmt(o.serverMiB)} MiB, client ${fmt(o.clientMiB)} MiB)`);
    }
    console.log(`  anchor ${a.label}: ${fmt(a.value)} ${r.unit} (peak RSS server ${fmt(a.serverMiB)} MiB, client ${fmt(a.clientMiB)} MiB)`);
    console.log(`  ratio ${c.label} / anchor: ${ratio.toFixed(2)}x (target ${r.target}x) ${ratio >= r.target ? 'OK' : 'MISS'}`);
    console.log(JSON.stringify({ case: `quic-udp/${r.workload}`, ours: c.value, anchor: a.value, unit: r.unit, ratio, target: r.target }));
  };

  console.log(
    `bulk: one stream, ${bulk.kind === 'bulk' ? bulk.bytes / MiB : 0} MiB download (anchor with defaults: ${anchorDefaultBulk.kind === 'bulk' ? anchorDefaultBulk.bytes / MiB : 0} MiB)`,
  );
  const bulkRow: Row = {
    workload: 'bulk',
    unit: 'MiB/s',
    ours: [
      await run(ours('node, 16 KiB datagrams', 'node', 16384), bulk, p),
      await run(ours('node, 1200-byte datagrams (default)', 'node', null), bulk, p),
      await run(ours('noble, 16 KiB datagrams', 'noble', 16384), bulk, p),
    ],
    anchor: await run(jsquic('@matrixai/quic tuned (16 KiB UDP payloads, 64 KiB reads)', true), bulk, p),
    compare: 0,
    target: 10,
  };
  say(bulkRow);
  const defaults = await run(jsquic('@matrixai/quic defaults', false), anchorDefaultBulk, 1);
  console.log(
    `  anchor ${defaults.label}: ${fmt(defaults.value)} MiB/s (ours at defaults: ${(bulkRow.ours[1]!.value / defaults.value).toFixed(1)}x)`,
  );
  rows.push(bulkRow);

  console.log(`streams: ${many.kind === 'bulk' ? many.streams : 0} concurrent streams of 100 KiB`);
  const streamsRow: Row = {
    workload: 'streams',
    unit: 'MiB/s',
    ours: [
      await run(ours('node, 16 KiB datagrams', 'node', 16384), many, p),
      await run(ours('node, 1200-byte datagrams (default)', 'node', null), many, p),
    ],
    anchor: await run(jsquic('@matrixai/quic tuned', true), many, 1),
    compare: 0,
    target: 10,
  };
  say(streamsRow);
  rows.push(streamsRow);

  console.log(`handshakes: ${hs.kind === 'handshakes' ? hs.count : 0} connections one after another (certificate verified)`);
  const hsRow: Row = {
    workload: 'handshakes',
    unit: 'handshakes/s',
    ours: [await run(ours('node', 'node', null), hs, p), await run(ours('noble', 'noble', null), hs, p)],
    anchor: await run(jsquic('@matrixai/quic', false), hs, p),
    compare: 0,
    target: 10,
  };
  say(hsRow);
  rows.push(hsRow);

  if (args.markdown) {
    console.log('\n| workload | ours | figure | peak RSS server / client | anchor | figure | peak RSS server / client | ratio | target |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      for (const [i, o] of r.ours.entries()) {
        const a = r.anchor;
        const ratio = o.value / a.value;
        console.log(
          `| ${r.workload} | ${o.label} | ${fmt(o.value)} ${r.unit} | ${fmt(o.serverMiB)} / ${fmt(o.clientMiB)} MiB | ${i === 0 ? a.label : ''} | ${i === 0 ? `${fmt(a.value)} ${r.unit}` : ''} | ${i === 0 ? `${fmt(a.serverMiB)} / ${fmt(a.clientMiB)} MiB` : ''} | ${ratio.toFixed(1)}x | ${i === r.compare ? `${r.target}x` : ''} |`,
        );
      }
    }
    console.log(
      `| bulk | | | | @matrixai/quic defaults (${anchorDefaultBulk.kind === 'bulk' ? anchorDefaultBulk.bytes / MiB : 0} MiB) | ${fmt(defaults.value)} MiB/s | ${fmt(defaults.serverMiB)} / ${fmt(defaults.clientMiB)} MiB | | |`,
    );
  }
  return 0;
}

process.exitCode = await main();
