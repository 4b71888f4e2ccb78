// Lifecycle: in-process with a fake signal source (ordering, second signal, timeout, reload errors), then
// a real spawned agent receiving real SIGTERM / SIGINT / SIGHUP / SIGUSR1.

import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { installLifecycle } from '../../src/runtime/lifecycle.js';
import type { LifecycleHandlers } from '../../src/runtime/lifecycle.js';
import { createLogger } from '../../src/runtime/logger.js';
import { killSpawned, msg, spawnTs } from './spawn-agent.js';

const TINY = fileURLToPath(new URL('./fixtures/tiny-agent.ts', import.meta.url));
const logger = createLogger({ agent: 'test', level: 'silent' });
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

function harness(handlers: Partial<LifecycleHandlers> & { stopTimeoutMs?: number }) {
  const signals = new EventEmitter();
  const events: string[] = [];
  const exits: number[] = [];
  const lifecycle = installLifecycle({
    logger,
    signals: signals as unknown as NodeJS.Process,
    exit: (code) => exits.push(code),
    stopTimeoutMs: handlers.stopTimeoutMs ?? 1000,
    handlers: { stop: handlers.stop ?? (() => void events.push('stop')), ...handlers },
  });
  return { signals, events, exits, lifecycle };
}

describe('installLifecycle (in process)', () => {
  it('SIGTERM runs stop, then exits 0 and removes its handlers', async () => {
    const { signals, events, exits, lifecycle } = harness({});
    signals.emit('SIGTERM');
    expect(events).toEqual([]); // the handler only enqueued the work
    await expect(lifecycle.exited).resolves.toBe(0);
    expect(events).toEqual(['stop']);
    expect(exits).toEqual([0]);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('runs reload and usr1 serially, and a stop waits for the job in progress', async () => {
    const events: string[] = [];
    let release: () => void = () => {};
    const { signals, exits, lifecycle } = harness({
      reload: async () => {
        events.push('reload start');
        await new Promise<void>((resolve) => (release = resolve));
        events.push('reload end');
      },
      usr1: () => void events.push('usr1'),
      stop: () => void events.push('stop'),
    });
    signals.emit('SIGHUP');
    signals.emit('SIGUSR1'); // queued behind the reload
    await tick();
    expect(events).toEqual(['reload start']);
    release();
    await tick();
    expect(events).toEqual(['reload start', 'reload end', 'usr1']);
    signals.emit('SIGINT');
    await expect(lifecycle.exited).resolves.toBe(0);
    expect(events.at(-1)).toBe('stop');
    expect(exits).toEqual([0]);
  });

  it('drops queued reloads once a stop is requested', async () => {
    const events: string[] = [];
    let release: () => void = () => {};
    const { signals, lifecycle } = harness({
      reload: async () => {
        events.push('reload');
        await new Promise<void>((resolve) => (release = resolve));
      },
      stop: () => void events.push('stop'),
    });
    signals.emit('SIGHUP');
    await tick(); // the first reload is now in progress
    signals.emit('SIGHUP');
    signals.emit('SIGTERM');
    await tick();
    expect(events).toEqual(['reload']); // the stop waits for the running reload
    release();
    await lifecycle.exited;
    expect(events).toEqual(['reload', 'stop']);
  });

  it('a reload that throws is logged and the agent keeps running', async () => {
    const { signals, exits } = harness({
      reload: () => {
        throw new Error('bad');
      },
    });
    signals.emit('SIGHUP');
    await tick();
    expect(exits).toEqual([]);
    expect(signals.listenerCount('SIGHUP')).toBe(1);
  });

  it('a second SIGTERM forces exit 1 while the first stop is still running', async () => {
    const { signals, exits, lifecycle } = harness({ stop: () => new Promise(() => {}) });
    signals.emit('SIGTERM');
    await tick();
    signals.emit('SIGTERM');
    await expect(lifecycle.exited).resolves.toBe(1);
    expect(exits).toEqual([1]);
  });

  it('a stop that exceeds the timeout forces exit 1; a stop that throws exits 1', async () => {
    const slow = harness({ stop: () => new Promise(() => {}), stopTimeoutMs: 30 });
    slow.signals.emit('SIGTERM');
    await expect(slow.lifecycle.exited).resolves.toBe(1);
    const broken = harness({
      stop: () => {
        throw new Error('close failed');
      },
    });
    broken.signals.emit('SIGTERM');
    await expect(broken.lifecycle.exited).resolves.toBe(1);
  });

  it('requestStop behaves like SIGTERM, with the exit code asked for', async () => {
    const graceful = harness({});
    graceful.lifecycle.requestStop('operator');
    await expect(graceful.lifecycle.exited).resolves.toBe(0);
    expect(graceful.events).toEqual(['stop']);
    const fatal = harness({});
    fatal.lifecycle.requestStop('tun device vanished', 1);
    await expect(fatal.lifecycle.exited).resolves.toBe(1);
    expect(fatal.events).toEqual(['stop']); // final packets still go out
  });
});

// Each spawn loads TypeScript (~1.5 s on this machine), hence the generous timeout.
describe('a spawned agent under real signals', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'runtime-lifecycle-'));
  const instance = `lifecycle-${process.pid}`;
  afterEach(killSpawned);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('SIGTERM: final packet, the host\'s last "counters" line, "stopped", exit 0', async () => {
    const agent = spawnTs(TINY, ['--instance', `${instance}-term`]);
    await agent.waitForLog(msg('started'));
    agent.child.kill('SIGTERM');
    await expect(agent.exited).resolves.toBe(0);
    const order = agent.logs.map((l) => l.msg);
    expect(order.slice(order.indexOf('stopping'))).toEqual(['stopping', 'final packet sent', 'counters', 'stopped']);
    expect(agent.logs.find(msg('stopping'))).toMatchObject({ reason: 'SIGTERM', level: 'info', agent: 'tiny-agent' });
  });

  it('SIGHUP applies a valid new config, keeps the old one on an invalid file, and SIGUSR1 pokes', async () => {
    const path = join(dir, 'tiny.json');
    writeFileSync(path, JSON.stringify({ greeting: 'first' }));
    const agent = spawnTs(TINY, ['--config', path, '--instance', `${instance}-hup`]);
    await agent.waitForLog(msg('started')); // signal handlers are installed from here on
    expect(agent.logs.find((l) => l.msg === 'greeting')).toMatchObject({ greeting: 'first' });

    writeFileSync(path, JSON.stringify({ greeting: 'second' }));
    agent.child.kill('SIGHUP');
    await agent.waitForLog((l) => l.msg === 'greeting' && l.greeting === 'second');
    await agent.waitForLog(msg('config reloaded'));

    writeFileSync(path, JSON.stringify({ greeting: 'third', mtu: 1000, extra: 1 }));
    agent.child.kill('SIGHUP');
    const rejected = await agent.waitForLog(msg('reload rejected'));
    expect(rejected.problems).toEqual([
      'invalid configuration (2 problems):',
      `unknown key "extra" in ${path}`,
      'mtu (1000) must be >= 1280',
    ]);
    expect(agent.logs.some((l) => l.greeting === 'third')).toBe(false);

    agent.child.kill('SIGUSR1');
    await agent.waitForLog(msg('usr1'));
    agent.child.kill('SIGINT');
    await expect(agent.exited).resolves.toBe(0);
  });

  it('a stop slower than the stop timeout is forced: exit 1', async () => {
    const agent = spawnTs(TINY, ['--stop-delay-ms', '10000', '--instance', `${instance}-slow`], { TINY_STOP_TIMEOUT_MS: '300' });
    await agent.waitForLog(msg('started'));
    agent.child.kill('SIGTERM');
    await expect(agent.exited).resolves.toBe(1);
    expect(agent.logs.some(msg('stop timed out'))).toBe(true);
    expect(agent.logs.some(msg('final packet sent'))).toBe(false);
  });

  it('a second signal during a slow stop forces exit 1 at once', async () => {
    const agent = spawnTs(TINY, ['--stop-delay-ms', '10000', '--instance', `${instance}-twice`]);
    await agent.waitForLog(msg('started'));
    agent.child.kill('SIGTERM');
    await agent.waitForLog(msg('stopping'));
    agent.child.kill('SIGINT');
    await expect(agent.exited).resolves.toBe(1);
    expect(agent.logs.find(msg('forced exit'))).toMatchObject({ reason: 'SIGINT', level: 'warn' });
  });
});
