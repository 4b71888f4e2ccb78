// AgentDefinition.defaultInstance: the instance name chosen from the loaded config when no --instance is
// given (rasadv listen: a one-shot run from a config file must not take the daemon's control socket).

import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAgentMain } from '../../src/runtime/cli.js';
import { controlName, queryControl } from '../../src/runtime/control.js';
import { captureLogLines } from '../fakes/log-capture.js';
import { tiny } from './fixtures/tiny-definition.js';

const dir = mkdtempSync(join(tmpdir(), 'runtime-instance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const solo = `solo-${process.pid}`;
/** tiny-agent, asking for its own instance when greeting is "solo" (from any config source). */
const def: typeof tiny = { ...tiny, defaultInstance: (c) => (c.greeting === 'solo' ? solo : undefined) };

function run(argv: string[]) {
  const signals = new EventEmitter();
  let stderr = '';
  let resolveExit: (code: number) => void = () => {};
  const exitCode = new Promise<number>((resolve) => (resolveExit = resolve));
  const done = runAgentMain(def, {
    argv,
    io: { stdout: () => {}, stderr: (t) => void (stderr += t) },
    exit: (code) => resolveExit(code),
    signals: signals as unknown as NodeJS.Process,
    logDestination: captureLogLines().destination,
  });
  return { exitCode, done, signals, stderr: () => stderr };
}

const statusOf = (instance: string | undefined) => queryControl(controlName('tiny-agent', instance), { cmd: 'status' }) as Promise<Record<string, unknown>>;

describe('AgentDefinition.defaultInstance', () => {
  it('names the control socket from a config file value when --instance is absent', async () => {
    const file = join(dir, 'solo.json');
    writeFileSync(file, JSON.stringify({ greeting: 'solo' }));
    const r = run(['--config', file]);
    await r.done;
    expect(r.stderr()).toBe('');
    await expect(statusOf(solo)).resolves.toMatchObject({ instance: solo, lifecycle: 'running' });
    await expect(statusOf(undefined)).rejects.toMatchObject({ code: 'CONTROL_NO_LISTENER' });
    r.signals.emit('SIGTERM');
    await expect(r.exitCode).resolves.toBe(0);
  });

  it('--instance still wins', async () => {
    const chosen = `chosen-${process.pid}`;
    const r = run(['--greeting', 'solo', '--instance', chosen]);
    await r.done;
    await expect(statusOf(chosen)).resolves.toMatchObject({ instance: chosen });
    await expect(statusOf(solo)).rejects.toMatchObject({ code: 'CONTROL_NO_LISTENER' });
    r.signals.emit('SIGTERM');
    await expect(r.exitCode).resolves.toBe(0);
  });
});
