/**
 * The benchmark runner.
 *
 *   npm run bench                       every layer
 *   npm run bench -- combinators        one layer
 *   npm run bench -- combinators/record16   the cases of a layer whose name is, or else contains, "record16"
 *
 * Options: --passes N (default 7), --warmup N (default 2), --in-process (no
 * child process per case), --gc (force a full GC before every timed run),
 * --markdown (also print a Markdown table), --strict (exit 1 when a case
 * misses its target).
 *
 * No forced GC by default: after a full GC V8 shrinks the young generation,
 * and the next run pays for growing it again (measured: +50..100 % on a
 * 200k-record run). Without it each side may pay for some of the other's
 * garbage, which the alternating order spreads evenly.
 *
 * A layer is a module bench/<layer>.ts exporting `cases: BenchCase[]`
 * (bench/harness.ts). Each case runs in its own child process, so its figures do not depend on what ran before it (JIT type
 * feedback, heap size); inside that process ours and the anchor alternate.
 * The run ends with one JSON line per case:
 *   {"case": ..., "ours": ..., "anchor": ..., "unit": ..., "ratio": ..., "target": ...}
 * with ratio = ours / anchor as throughput (higher is better for us).
 * The exit code is 1 when a case failed its output check (or, with
 * --strict, missed its target).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { median, runCase, type BenchCase, type CaseResult, type RunOptions } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const self = fileURLToPath(import.meta.url);
/** Modules in bench/ that are not layers (shared helpers belong in harness.ts, or get listed here). */
/**
 * Modules in bench/ that are not layers: quic-udp and http3 run processes over real UDP on their own
 * (npm run bench:udp, npm run bench:http3).
 */
const NOT_LAYERS = new Set(['run', 'harness', 'process', 'quic-udp', 'http3']);
const CHILD_MARK = '@@bench-result ';

interface Args {
  selectors: string[];
  passes: number;
  warmup: number;
  inProcess: boolean;
  gc: boolean;
  markdown: boolean;
  strict: boolean;
  child: { layer: string; case: string } | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { selectors: [], passes: 7, warmup: 2, inProcess: false, gc: false, markdown: false, strict: false, child: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${arg} needs a non-negative integer`);
      return v;
    };
    if (arg === '--passes') a.passes = Math.max(1, num());
    else if (arg === '--warmup') a.warmup = num();
    else if (arg === '--in-process') a.inProcess = true;
    else if (arg === '--gc') a.gc = true;
    else if (arg === '--markdown') a.markdown = true;
    else if (arg === '--strict') a.strict = true;
    else if (arg === '--child') a.child = { layer: argv[++i] ?? '', case: argv[++i] ?? '' };
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else a.selectors.push(arg);
  }
  return a;
}

function layerNames(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3))
    .filter((n) => !NOT_LAYERS.has(n))
    .sort();
}

async function loadLayer(layer: string): Promise<BenchCase[]> {
  const mod = (await import(pathToFileURL(join(here, `${layer}.js`)).href)) as { cases?: unknown };
  if (!Array.isArray(mod.cases)) throw new Error(`bench/${layer}.ts does not export cases: BenchCase[]`);
  return mod.cases as BenchCase[];
}

/** A GC function: the global one under --expose-gc, else switched on at run time. */
function gcFunction(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g !== undefined) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function runOptions(a: Args): RunOptions {
  return { passes: a.passes, warmup: a.warmup, gc: a.gc ? gcFunction() : undefined };
}

/** Child mode: run one case and print its per-pass figures. */
async function child(a: Args, target: { layer: string; case: string }): Promise<void> {
  const c = (await loadLayer(target.layer)).find((x) => x.name === target.case);
  if (c === undefined) throw new Error(`no case ${target.case} in layer ${target.layer}`);
  const r = await runCase(c, runOptions(a));
  process.stdout.write(CHILD_MARK + JSON.stringify(r) + '\n');
}

function runInChild(a: Args, layer: string, c: BenchCase): CaseResult | Error {
  const argv = [self, '--child', layer, c.name, '--passes', String(a.passes), '--warmup', String(a.warmup)];
  if (a.gc) argv.push('--gc');
  const p = spawnSync(process.execPath, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 });
  const line = p.stdout.split('\n').find((l) => l.startsWith(CHILD_MARK));
  if (p.status !== 0 || line === undefined) {
    const why = (p.stderr || p.stdout || `exit ${p.status ?? p.signal}`).trim().split('\n').slice(0, 6).join('\n    ');
    return new Error(why);
  }
  return JSON.parse(line.slice(CHILD_MARK.length)) as CaseResult;
}

interface Row {
  layer: string;
  c: BenchCase;
  ours: number;
  anchor: number;
  ratio: number;
  pass: boolean;
}

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toPrecision(2));
const round = (x: number, digits: number): number => Number(x.toPrecision(digits));

function machine(): string {
  let model = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m !== null) model = m[1]!;
  } catch {
    // not Linux: os.cpus() is good enough
  }
  return `node ${process.version}, ${cpus().length} CPUs, ${model}`;
}

async function main(): Promise<number> {
  const a = parseArgs(process.argv.slice(2));
  if (a.child !== null) {
    await child(a, a.child);
    return 0;
  }
  const all = layerNames();
  const wanted = a.selectors.length === 0 ? all.map((l) => ({ layer: l, filter: '' })) : a.selectors.map(parseSelector);
  for (const w of wanted) if (!all.includes(w.layer)) throw new Error(`no bench layer "${w.layer}" (have: ${all.join(', ')})`);

  console.log(`# pullwire bench: ${machine()}, ${new Date().toISOString()}`);
  console.log(
    `# ${a.passes} timed passes per case (median), ours and anchor interleaved, ${a.inProcess ? 'one process' : 'one process per case'}${a.gc ? ', forced GC before each run' : ''}`,
  );
  const rows: Row[] = [];
  let failed = 0;
  for (const w of wanted) {
    const layerCases = await loadLayer(w.layer);
    // An exact case name selects that case only; otherwise the filter is a substring.
    const exact = layerCases.filter((c) => c.name === w.filter);
    const cases = exact.length > 0 ? exact : layerCases.filter((c) => c.name.includes(w.filter));
    if (cases.length === 0) throw new Error(`no case in layer ${w.layer} matches "${w.filter}"`);
    for (const c of cases) {
      console.log(`\n${w.layer}/${c.name}: ${c.description}`);
      let r: CaseResult | Error;
      try {
        r = a.inProcess ? await runCase(c, runOptions(a)) : runInChild(a, w.layer, c);
      } catch (e) {
        r = e instanceof Error ? e : new Error(String(e));
      }
      if (r instanceof Error) {
        failed++;
        console.log(`  ERROR ${r.message}`);
        continue;
      }
      const ours = median(r.ours);
      const anchor = median(r.anchor);
      const ratio = ours / anchor;
      const paired = r.ours.map((o, i) => o / r.anchor[i]!);
      const row: Row = { layer: w.layer, c, ours, anchor, ratio, pass: ratio >= c.target };
      rows.push(row);
      console.log(`  ours   ${fmt(ours)} ${c.unit}  (passes ${fmt(Math.min(...r.ours))}..${fmt(Math.max(...r.ours))})`);
      console.log(`  anchor ${fmt(anchor)} ${c.unit}  (passes ${fmt(Math.min(...r.anchor))}..${fmt(Math.max(...r.anchor))})`);
      console.log(
        `  ratio  ${fmt(ratio)}  (per-pass ${fmt(Math.min(...paired))}..${fmt(Math.max(...paired))})  target >= ${c.target}  ${row.pass ? 'PASS' : 'MISS'}`,
      );
    }
  }

  console.log('');
  for (const r of rows) {
    console.log(`${r.pass ? 'PASS' : 'MISS'}  ${r.layer}/${r.c.name}  ratio ${fmt(r.ratio)} (target ${r.c.target})`);
  }
  if (a.markdown) {
    console.log('\n| case | ours | anchor | unit | ratio | target | |');
    console.log('| --- | ---: | ---: | --- | ---: | ---: | --- |');
    for (const r of rows) {
      console.log(
        `| ${r.c.name} | ${fmt(r.ours)} | ${fmt(r.anchor)} | ${r.c.unit} | ${fmt(r.ratio)} | ${r.c.target} | ${r.pass ? 'PASS' : 'MISS'} |`,
      );
    }
  }
  console.log('');
  for (const r of rows) {
    console.log(
      JSON.stringify({
        case: r.c.name,
        ours: round(r.ours, 4),
        anchor: round(r.anchor, 4),
        unit: r.c.unit,
        ratio: round(r.ratio, 3),
        target: r.c.target,
      }),
    );
  }
  if (failed > 0) return 1;
  return a.strict && rows.some((r) => !r.pass) ? 1 : 0;
}

function parseSelector(s: string): { layer: string; filter: string } {
  const i = s.indexOf('/');
  return i === -1 ? { layer: s, filter: '' } : { layer: s.slice(0, i), filter: s.slice(i + 1) };
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 2;
  },
);
