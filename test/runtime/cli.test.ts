// The shared command line: --check-config output and exit codes, usage errors (exit 2), --help, extra
// subcommands, start-up failures naming the problem, `status` against a running agent (in process and
// from a second process) and against nothing (exit 3).

import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunOptions } from '../../src/runtime/cli.js';
import { runAgentMain } from '../../src/runtime/cli.js';
import { controlName, queryControl } from '../../src/runtime/control.js';
import { captureLogLines } from '../fakes/log-capture.js';
import { tiny } from './fixtures/tiny-definition.js';
import { killSpawned, msg, spawnTs } from './spawn-agent.js';

const TINY = fileURLToPath(new URL('./fixtures/tiny-agent.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'runtime-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(killSpawned);

/** Runs the tiny agent's command line in process; resolves at the first exit() call. */
function run(argv: string[], extra: Partial<RunOptions> = {}) {
  let stdout = '';
  let stderr = '';
  const { lines: logs, destination } = captureLogLines();
  const signals = new EventEmitter();
  let resolveExit: (code: number) => void = () => {};
  const exitCode = new Promise<number>((resolve) => (resolveExit = resolve));
  const done = runAgentMain(tiny, {
    argv,
    io: { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) },
    exit: (code) => resolveExit(code),
    signals: signals as unknown as NodeJS.Process,
    logDestination: destination,
    ...extra,
  });
  return { exitCode, done, signals, logs, stdout: () => stdout, stderr: () => stderr };
}

describe('--check-config', () => {
  it('prints "config ok" and exits 0 for a valid config', async () => {
    const r = run(['--check-config', '--mtu', '1500']);
    await expect(r.exitCode).resolves.toBe(0);
    expect(r.stdout()).toBe('config ok\n');
    expect(r.stderr()).toBe('');
  });

  it('lists every problem from the file and flags and exits 1', async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ greeting: 5, tickMs: 0, mtuu: 1500 }));
    const r = run(['--check-config', '--config', path, '--mtu', '1200']);
    await expect(r.exitCode).resolves.toBe(1);
    expect(r.stdout()).toBe('');
    expect(r.stderr()).toBe(
      [
        'tiny-agent: invalid configuration (4 problems):',
        `  unknown key "mtuu" in ${path} (did you mean "mtu"?)`,
        '  greeting (5) must be a string',
        '  tickMs (0) must be >= 1',
        '  mtu (1200) must be >= 1280',
        '',
      ].join('\n'),
    );
  });

  it('rejects a bad --log-level, LOG_LEVEL or --instance with exit 2, as the start would', async () => {
    const flag = run(['--check-config', '--log-level', 'loud']);
    await expect(flag.exitCode).resolves.toBe(2);
    expect(flag.stdout()).toBe('');
    expect(flag.stderr()).toContain('--log-level (loud) must be one of');
    const saved = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'loud';
    try {
      const env = run(['--check-config']);
      await expect(env.exitCode).resolves.toBe(2);
      expect(env.stderr()).toContain('LOG_LEVEL (loud) must be one of');
    } finally {
      if (saved === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = saved;
    }
    const instance = run(['--check-config', '--instance', 'a/b']);
    await expect(instance.exitCode).resolves.toBe(2);
    expect(instance.stderr()).toContain('--instance ("a/b")');
  });

  it('exits 1 naming an unreadable config file', async () => {
    const r = run(['--check-config', '--config', join(dir, 'missing.json')]);
    await expect(r.exitCode).resolves.toBe(1);
    expect(r.stderr()).toBe(`tiny-agent: cannot read config file ${join(dir, 'missing.json')}: no such file\n`);
  });
});

describe('usage', () => {
  it('rejects an unknown flag with exit 2 and a hint', async () => {
    const r = run(['--mtux', '1500']);
    await expect(r.exitCode).resolves.toBe(2);
    expect(r.stderr()).toBe("tiny-agent: Unknown argument: mtux\nTry 'tiny-agent --help'.\n");
  });

  // A plain start is read without yargs (cli.ts plainStart); it must mean what yargs would make of it.
  it('reads a plain command line as yargs does: --flag=value, a repeated flag (the last wins), booleans', async () => {
    const ok = run(['--check-config', '--mtu=1400', '--greeting', 'hi', '--mtu', '1200', '--mtu', '1500']);
    await expect(ok.exitCode).resolves.toBe(0);
    expect(ok.stdout()).toBe('config ok\n');
    const bad = run(['--check-config', '--mtu', '1500', '--mtu', '1200']);
    await expect(bad.exitCode).resolves.toBe(1);
    expect(bad.stderr()).toContain('mtu (1200) must be >= 1280');
  });

  it('leaves anything else to yargs: a flag without its value still reads as empty', async () => {
    const r = run(['--check-config', '--mtu']);
    await expect(r.exitCode).resolves.toBe(1);
    expect(r.stderr()).toContain('mtu ("") must be an integer');
  });

  it('rejects a bad --log-level with exit 2', async () => {
    const r = run(['--log-level', 'verbose']);
    await expect(r.exitCode).resolves.toBe(2);
    expect(r.stderr()).toContain('--log-level (verbose) must be one of trace, debug, info, warn, error, fatal, silent');
  });

  it('rejects an instance name that cannot be part of a socket name', async () => {
    const r = run(['status', '--instance', 'a/b']);
    await expect(r.exitCode).resolves.toBe(2);
    expect(r.stderr()).toContain(`--instance ("a/b") must be 1-64 letters, digits, '.', '_' or '-'`);
  });

  it('prints --help with the generated flags and exits 0', async () => {
    const r = run(['--help']);
    await expect(r.exitCode).resolves.toBe(0);
    expect(r.stdout()).toContain('--stop-delay-ms');
    expect(r.stdout()).toContain('--check-config');
    expect(r.stdout()).toContain('tiny-agent status');
  });
});

describe('running and status', () => {
  const instance = `cli-${process.pid}`;

  it('status with nothing running exits 3 with a clear message', async () => {
    const r = run(['status', '--instance', `${instance}-none`]);
    await expect(r.exitCode).resolves.toBe(3);
    expect(r.stderr()).toBe(`tiny-agent: no tiny-agent (instance ${instance}-none) running in this network namespace\n`);
  });

  it('refuses to start with an invalid config: every problem on stderr, exit 1', async () => {
    const r = run(['--mtu', '99999', '--tick-ms', 'soon', '--instance', `${instance}-bad`]);
    await expect(r.exitCode).resolves.toBe(1);
    expect(r.stderr()).toBe('tiny-agent: invalid configuration (2 problems):\n  tickMs ("soon") must be an integer\n  mtu (99999) must be <= 65535\n');
  });

  it('a start-up AgentError is reported, exits 1, and frees the control socket', async () => {
    const r = run(['--greeting', 'fail', '--instance', `${instance}-fail`]);
    await expect(r.exitCode).resolves.toBe(1);
    expect(r.stderr()).toBe('tiny-agent: cannot bind UDP [::]:3544: address already in use\n');
    await expect(queryControl(controlName('tiny-agent', `${instance}-fail`), { cmd: 'status' })).rejects.toMatchObject({ code: 'CONTROL_NO_LISTENER' });
  });

  it('serves status while running, refuses a second instance, stops on SIGTERM', async () => {
    const r = run(['--instance', `${instance}-live`, '--log-level', 'debug']);
    await r.done;
    const status = (await queryControl(controlName('tiny-agent', `${instance}-live`), { cmd: 'status' })) as Record<string, unknown>;
    expect(status).toMatchObject({ agent: 'tiny-agent', instance: `${instance}-live`, pid: process.pid, lifecycle: 'running', reloads: 0, driver: { errors: 0 } });
    expect(typeof (status.ticker as { nextTimeout: unknown }).nextTimeout).toBe('number'); // the driver's armed deadline
    expect(status).toMatchObject({ drops: {}, ioErrors: {}, driver: { errors: 0 } }); // the host's fields, for every agent

    const second = run(['--instance', `${instance}-live`]);
    await expect(second.exitCode).resolves.toBe(1);
    expect(second.stderr()).toBe(
      `tiny-agent: another tiny-agent instance ${instance}-live is already running in this network namespace (use --instance to run several)\n`,
    );

    r.signals.emit('SIGTERM');
    await expect(r.exitCode).resolves.toBe(0);
    expect(r.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['started', 'stopping', 'final packet sent', 'stopped']));
    await expect(queryControl(controlName('tiny-agent', `${instance}-live`), { cmd: 'status' })).rejects.toMatchObject({ code: 'CONTROL_NO_LISTENER' });
  });

  it('a fatal error while running stops gracefully and exits 1', async () => {
    const r = run(['--greeting', 'fatal', '--instance', `${instance}-fatal`]);
    await r.done;
    r.signals.emit('SIGUSR1');
    await expect(r.exitCode).resolves.toBe(1);
    expect(r.logs.find((l) => l.msg === 'stopping')).toMatchObject({ level: 'error', reason: 'socket died', exitCode: 1 });
    expect(r.logs.some((l) => l.msg === 'final packet sent')).toBe(true);
  });

  it('`status` from another process prints the header and the agent\'s lines, or with --json the whole object', { timeout: 30_000 }, async () => {
    const agent = spawnTs(TINY, ['--instance', `${instance}-spawned`]);
    await agent.waitForLog(msg('started'));
    const text = run(['status', '--instance', `${instance}-spawned`]);
    await expect(text.exitCode).resolves.toBe(0);
    expect(text.stdout()).toMatch(new RegExp(`^tiny-agent \\(instance ${instance}-spawned\\): running, pid ${agent.child.pid}, up \\d+s?, 0 reloads\n  0 ticks, next at [\\d.]+\n$`));
    const json = run(['status', '--json', '--instance', `${instance}-spawned`]);
    await expect(json.exitCode).resolves.toBe(0);
    const printed = JSON.parse(json.stdout()) as Record<string, unknown>;
    expect(printed).toMatchObject({ agent: 'tiny-agent', instance: `${instance}-spawned`, pid: agent.child.pid, lifecycle: 'running', ticks: 0, driver: { batches: expect.any(Number) } });
    agent.child.kill('SIGTERM');
    await expect(agent.exited).resolves.toBe(0);
  });

  it('`status --timeout` must be a positive integer (exit 2)', async () => {
    const r = run(['status', '--timeout', 'soon', '--instance', `${instance}-none`]);
    await expect(r.exitCode).resolves.toBe(2);
    expect(r.stderr()).toContain('--timeout (soon) must be a positive integer');
  });

  it('`status --help` documents --json, --instance and --timeout', async () => {
    const r = run(['status', '--help']);
    await expect(r.exitCode).resolves.toBe(0);
    expect(r.stdout()).toMatch(/^tiny-agent status \[--json\] \[--instance NAME\] \[--timeout MS\]\n\nShow the state and counters of the tiny-agent/);
  });
});
