// Test helper: spawn a TypeScript entry point (through fixtures/ts-register.mjs), collect its JSON log lines
// and stderr, wait for a given log event, and always kill what was spawned.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REGISTER = fileURLToPath(new URL('./fixtures/ts-register.mjs', import.meta.url));

export interface SpawnedAgent {
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[];
  stdout(): string;
  stderr(): string;
  /** Resolves with the first log line (already seen or future) matching `predicate`. */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or 128 + signal number style string when killed). */
  exited: Promise<number | string>;
}

const live = new Set<ChildProcess>();

export function spawnTs(entry: string, args: string[], env: Record<string, string> = {}): SpawnedAgent {
  const child = spawn(process.execPath, ['--import', REGISTER, entry, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  let err = '';
  const logs: Record<string, unknown>[] = [];
  const waiters: Array<() => void> = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    logs.length = 0;
    for (const line of out.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a partial line: parsed on the next chunk
      }
    }
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      live.delete(child);
      for (const w of waiters.splice(0)) w();
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  const waitForLog = (predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 15_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`)), timeoutMs);
      const check = (): void => {
        const hit = logs.find(predicate);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(timer);
          reject(new Error(`process exited before the log line; stdout:\n${out}\nstderr:\n${err}`));
        } else {
          waiters.push(check);
        }
      };
      check();
    });
  return { child, logs, stdout: () => out, stderr: () => err, waitForLog, exited };
}

/** Kills (by PID) every process this helper spawned that is still running; for afterEach. */
export function killSpawned(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

export const msg = (name: string) => (line: Record<string, unknown>) => line.msg === name;
