// Logger: one JSON line per event with a level name, the agent, an ISO time and fields beside a short msg;
// level filtering; and the per-key rate limiter used for drop logs.

import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LogRateLimiter, createLogger, isLogLevel } from '../../src/runtime/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  it('writes JSON lines with level names, agent, time and data fields', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ agent: 'ra-sender', level: 'info', destination });
    logger.child({ iface: 'eth0' }).info({ to: 'ff02::1', routerLifetimeSec: 1800 }, 'ra sent');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', agent: 'ra-sender', pid: process.pid, iface: 'eth0', to: 'ff02::1', routerLifetimeSec: 1800, msg: 'ra sent' });
    expect(typeof line.time).toBe('string');
    expect(Number.isNaN(Date.parse(line.time as string))).toBe(false);
  });

  it('filters below the configured level', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ agent: 'x', level: 'warn', destination });
    logger.debug('hidden');
    logger.info('hidden');
    logger.warn('shown');
    logger.fatal('shown too');
    expect(lines.map((l) => (JSON.parse(l) as { level: string }).level)).toEqual(['warn', 'fatal']);
  });

  it('recognises exactly the pino level names', () => {
    expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].every(isLogLevel)).toBe(true);
    expect(isLogLevel('verbose')).toBe(false);
    expect(isLogLevel(3)).toBe(false);
  });
});

describe('LogRateLimiter', () => {
  it('allows the first event per key, then one per interval with the suppressed count', () => {
    const limiter = new LogRateLimiter(1000);
    expect(limiter.allow('a', 0)).toBe(0);
    expect(limiter.allow('b', 0)).toBe(0); // keys are independent
    expect(limiter.allow('a', 10)).toBeUndefined();
    expect(limiter.allow('a', 999)).toBeUndefined();
    expect(limiter.allow('a', 1000)).toBe(2);
    expect(limiter.allow('a', 1500)).toBeUndefined();
    expect(limiter.allow('a', 2000)).toBe(1);
  });

  it('allows a burst of events per window, then reports the suppressed ones with the next window', () => {
    const limiter = new LogRateLimiter(60_000, 3);
    expect([0, 1, 2].map((t) => limiter.allow('unknown', t))).toEqual([0, 0, 0]);
    expect(limiter.allow('unknown', 3)).toBeUndefined();
    expect(limiter.allow('unknown', 59_999)).toBeUndefined();
    expect(limiter.allow('unknown', 60_003)).toBe(2);
    expect(limiter.allow('unknown', 60_004)).toBe(0);
  });
});
