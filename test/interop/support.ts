/**
 * Interop test support: where the independent peers live, child processes
 * that are waited on by their output, free UDP ports.
 *
 * The @matrixai/quic peers are installed by `.ci/run` with
 * `../shared/peers/setup.sh --into node_modules/.cache/pullwire-peers`
 * (override with PULLWIRE_PEERS). A missing peer fails the tests: interop
 * that silently skips proves nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from dist/test/interop). */
export const ROOT = join(here, '..', '..', '..');
export const PEERS = process.env.PULLWIRE_PEERS ?? join(ROOT, 'node_modules', '.cache', 'pullwire-peers');
/** Our own glue script on @matrixai/quic (compiled next to this file). */
export const JSQUIC_PEER = join(here, 'jsquic-peer.js');
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'pullwire.js');

/** Throws (so the suite fails) unless the @matrixai/quic peers are installed. */
export function requirePeers(): void {
  const pkg = join(PEERS, 'node_modules', '@matrixai', 'quic', 'package.json');
  if (!existsSync(pkg) || !existsSync(join(PEERS, 'jsquic-server.mjs')))
    throw new Error(
      `@matrixai/quic peers missing in ${PEERS}: run .ci/run, or ../shared/peers/setup.sh --into node_modules/.cache/pullwire-peers`,
    );
}

export const cert = (kind: 'ecdsa' | 'rsa' = 'ecdsa'): string => readFileSync(join(PEERS, 'certs', `${kind}-cert.pem`), 'utf8');
export const key = (kind: 'ecdsa' | 'rsa' = 'ecdsa'): string => readFileSync(join(PEERS, 'certs', `${kind}-key.pem`), 'utf8');

/** A free UDP port on 127.0.0.1 (bound and released: another process could take it meanwhile, rarely). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A child process whose stdout and stderr are collected and can be waited on. */
export class Peer {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly exited: Promise<number | null>;
  private readonly watchers = new Set<() => void>();

  /** Runs `node args...`, or `command args...` when `command` is given (e.g. gtlsserver). */
  constructor(args: readonly string[], env: Record<string, string> = {}, command: string = process.execPath) {
    this.child = spawn(command, args, {
      cwd: PEERS,
      env: { ...process.env, PULLWIRE_PEERS: PEERS, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      for (const w of this.watchers) w();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      for (const w of this.watchers) w();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    void this.exited.then(() => {
      for (const w of this.watchers) w();
    });
  }

  /**
   * Resolves with the first match of `re` in stdout (or stderr with `stream`), looking only after
   * character `from`; rejects on exit or timeout.
   */
  waitFor(re: RegExp, timeoutMs = 20_000, stream: 'stdout' | 'stderr' = 'stdout', from = 0): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = re.exec((stream === 'stdout' ? this.stdout : this.stderr).slice(from));
        if (m !== null) {
          done();
          resolve(m);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done();
          reject(new Error(`peer exited (${this.child.exitCode ?? this.child.signalCode}) before ${re}:\n${this.stdout}\n${this.stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timeout waiting for ${re}:\nstdout: ${this.stdout}\nstderr: ${this.stderr.slice(-4000)}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.watchers.delete(check);
      };
      this.watchers.add(check);
      check();
    });
  }

  /** Resolves with the exit code (kills the process after `timeoutMs`). */
  async exit(timeoutMs = 60_000): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then waits for the exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exit(5_000);
  }
}

/** Runs a peer script to its end; returns its exit code and output. */
export async function runPeer(
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = new Peer(args);
  const code = await p.exit(timeoutMs);
  return { code, stdout: p.stdout, stderr: p.stderr };
}
