// Running commands for the lab: on the host, inside a node's namespace, or detached (occupant daemons).
// Everything the lab does to the kernel goes through `ip`, `nft` and `sysctl` processes started here.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { LabError } from './errors.js';

export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  /** Written to the child's stdin, which is then closed. */
  readonly input?: string;
  /** Kill the child (SIGKILL) after this long; the result then has signal SIGKILL. Default 60 s. */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** Runs argv and collects its output; never throws for a non-zero exit (see execOk). */
export function exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new LabError('LAB_BAD_ARGUMENT', 'exec: empty command');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT') reject(new LabError('LAB_MISSING_TOOL', `${cmd} is not installed (run scripts/setup-host.sh)`));
      else reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like exec, but a non-zero exit throws a LabError carrying the command and its stderr. */
export async function execOk(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const r = await exec(argv, opts);
  if (r.code !== 0) {
    const why = r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
    throw new LabError('LAB_COMMAND_FAILED', `${argv.join(' ')}: ${why}\n${(r.stderr || r.stdout).trim()}`);
  }
  return r;
}

/** argv prefix that runs a command inside a namespace (`ip netns exec` also gives it the namespace's /sys). */
export function inNs(ns: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

/** Feeds lines to `ip -batch -` (optionally `ip -n <ns>`): one process for many changes, which keeps `up` fast. */
export async function ipBatch(lines: readonly string[], ns?: string): Promise<void> {
  if (lines.length === 0) return;
  const argv = ns ? ['ip', '-n', ns, '-batch', '-'] : ['ip', '-batch', '-'];
  const r = await exec(argv, { input: lines.join('\n') + '\n' });
  if (r.code !== 0) {
    // ip reports "Command failed -:<line>"; show that line so the error names the change that failed.
    const m = /Command failed -:(\d+)/.exec(r.stderr);
    const line = m ? lines[Number(m[1]) - 1] : undefined;
    throw new LabError('LAB_COMMAND_FAILED', `ip ${ns ? `-n ${ns} ` : ''}-batch failed${line ? ` at "${line}"` : ''}: ${r.stderr.trim()}`);
  }
}

export interface DetachedOptions {
  /** stdout and stderr are appended here. */
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/**
 * Starts a daemon that outlives this process: own session and process group (so `stop` can signal the whole
 * group, helpers included), output to a log file, not waited for.
 */
export function spawnDetached(argv: readonly string[], opts: DetachedOptions): ChildProcess {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new LabError('LAB_BAD_ARGUMENT', 'spawn: empty command');
  const fd = openSync(opts.logFile, 'a', 0o644);
  try {
    const o: SpawnOptions = { detached: true, stdio: ['ignore', fd, fd], env: opts.env ?? process.env };
    if (opts.cwd) o.cwd = opts.cwd;
    const child = spawn(cmd, args, o);
    child.on('error', () => {
      // Reported through the pid check of the caller (a child that failed to spawn has no pid).
    });
    child.unref();
    return child;
  } finally {
    closeSync(fd);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) throw new LabError('LAB_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
