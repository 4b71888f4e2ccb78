// `<agent> status --json` is whole however large: a real agent (the tiny fixture) with a status object over
// 1 MiB, queried by a real `status` process whose stdout is a pipe, then a file, then by the lab's reader. Node writes to pipes
// asynchronously, so a CLI that calls process.exit() right after writing cuts the output at the pipe buffer
// (64 KiB on Linux); the runtime's exit waits until stdout has drained (src/runtime/cli.ts exitAfterDrain).

import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentStatus } from '../../lab/occupant-kit.js';
import { exec } from '../../lab/run.js';
import { killSpawned, msg, spawnTs } from './spawn-agent.js';
import type { TinyStatus } from './fixtures/tiny-definition.js';

const TINY = fileURLToPath(new URL('./fixtures/tiny-agent.ts', import.meta.url));
const REGISTER = fileURLToPath(new URL('./fixtures/ts-register.mjs', import.meta.url));
/** Over 1 MiB, sixteen times the Linux pipe buffer. */
const PADDING = 1_200_000;

/** `node ... tiny-agent status --json` for `instance`, with a timeout no busy machine reaches. */
const statusArgv = (instance: string): string[] => ['--import', REGISTER, TINY, 'status', '--json', '--instance', instance, '--timeout', '20000'];

/** Runs `tiny-agent status --json` with stdout to `stdout` ('pipe': read here); resolves with its exit code and stdout. */
function statusCommand(instance: string, stdout: 'pipe' | number): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, statusArgv(instance), { stdio: ['ignore', stdout, 'inherit'] });
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (b: Buffer) => chunks.push(b));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out: Buffer.concat(chunks).toString() })));
}

describe('status --json through a pipe', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'runtime-status-pipe-'));
  const instance = `status-pipe-${process.pid}`;
  afterEach(killSpawned);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the whole object, byte for byte what a file receives, exits 0, and the lab reads it', async () => {
    const agent = spawnTs(TINY, ['--status-padding', String(PADDING), '--instance', instance]);
    await agent.waitForLog(msg('started'));

    const piped = await statusCommand(instance, 'pipe');
    const file = join(dir, 'status.json');
    const fd = openSync(file, 'w');
    const toFile = await statusCommand(instance, fd);
    closeSync(fd);
    const written = readFileSync(file, 'utf8');

    expect(piped.code).toBe(0);
    expect(toFile.code).toBe(0);
    expect(written.length).toBeGreaterThan(PADDING);
    // The two commands run seconds apart on a busy machine: uptimeSec may gain a digit in between (9 -> 10).
    const sameUptime = (text: string): string => text.replace(/"uptimeSec": \d+/, '"uptimeSec": 0');
    expect(sameUptime(piped.out).length).toBe(sameUptime(written).length);
    const status = JSON.parse(piped.out) as { lifecycle: string; padding: string };
    expect(status.lifecycle).toBe('running');
    expect(status.padding).toHaveLength(PADDING);

    // The lab's occupants read `status --json` the same way (lab/occupant-kit.ts; undefined if it did not parse).
    const seen = await agentStatus<TinyStatus>({ exec }, [process.execPath, '--import', REGISTER, TINY, '--instance', instance]);
    expect(seen?.lifecycle).toBe('running');
    expect(seen?.lifecycle === 'running' ? seen.padding : undefined).toHaveLength(PADDING);
  });

  it('a reader that stops early (EPIPE) neither hangs the command nor changes its exit code', async () => {
    const agent = spawnTs(TINY, ['--status-padding', String(PADDING), '--instance', `${instance}-head`]);
    await agent.waitForLog(msg('started'));
    const child = spawn(process.execPath, statusArgv(`${instance}-head`), { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(err).toBe('');
  });
});
