/**
 * Child processes for the benchmarks that run real peers (quic-udp, http3): output lines collected and
 * waited on, peak RSS sampled from /proc/<pid>/status (VmHWM) until exit, free UDP ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/bench). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A child process whose output lines (stdout and stderr) are collected and whose peak RSS is sampled. */
export class Proc {
  readonly lines: string[] = [];
  private readonly waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  private peakKiB = 0;
  private readonly sampler: NodeJS.Timeout;
  readonly exited: Promise<number | null>;
  readonly started = performance.now();
  /** performance.now() when the process exited. */
  ended = 0;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    for (const stream of [child.stdout!, child.stderr!]) {
      let buffered = '';
      stream.setEncoding('utf8').on('data', (d: string) => {
        buffered += d;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          this.line(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
        }
      });
    }
    this.sampler = setInterval(() => this.sample(), 10);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        this.ended = performance.now();
        resolve(code);
      }),
    );
    void this.exited.then(() => clearInterval(this.sampler));
  }

  /** Spawns `command args...` in `cwd` (default: the repository root). */
  static start(name: string, command: string, args: readonly string[], cwd: string = ROOT): Proc {
    return new Proc(name, spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  private line(l: string): void {
    if (this.lines.length < 1000) this.lines.push(l);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.re.test(l)) {
        this.waiters.splice(i, 1);
        w.resolve(l);
      }
    }
  }

  private sample(): void {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
      if (m !== null) this.peakKiB = Math.max(this.peakKiB, Number(m[1]));
    } catch {
      // exited between samples
    }
  }

  get peakMiB(): number {
    return this.peakKiB / 1024;
  }

  /** Wall time in seconds from spawn to exit. */
  get wallSeconds(): number {
    return (this.ended - this.started) / 1000;
  }

  waitFor(re: RegExp, timeoutMs = 20_000): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name}: no ${re} within ${timeoutMs} ms: ${this.lines.join('\n')}`)), timeoutMs);
      this.waiters.push({
        re,
        resolve: (l) => {
          clearTimeout(t);
          resolve(l);
        },
      });
    });
  }

  async result(timeoutMs: number): Promise<string[]> {
    this.sample();
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(t);
    if (code !== 0) throw new Error(`${this.name} exited with ${code}: ${this.lines.join('\n')}`);
    return this.lines;
  }

  async stop(): Promise<void> {
    this.sample();
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(t);
  }
}

export async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(resolve));
  return port;
}
