// The client hook runner (agents/teredo-client/hook.ts): runs one at a time in order, keeps at most MAX_PENDING
// waiting (the oldest dropped: only the latest state matters), and counts failures without ever throwing.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HookRunner, MAX_PENDING, type HookEvent } from '../../agents/teredo-client/hook.js';
import { capturedLogger } from '../fakes/log-capture.js';

const dir = mkdtempSync(join(tmpdir(), 'tcl-hook-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const event = (n: number): HookEvent => ({ state: n % 2 ? 'up' : 'down', oldState: n % 2 ? 'down' : 'up', clientState: 'qualified', iface: 'teredo', address: `2001:0:c612:a::${n}`, oldAddress: '', mtu: 1280, nat: 'cone' });

describe('HookRunner', () => {
  it('runs in order, one at a time; a burst keeps the first and the last MAX_PENDING', async () => {
    const out = join(dir, 'order.out');
    const hook = join(dir, 'slow.sh');
    writeFileSync(hook, `#!/bin/sh\nsleep 0.05\necho "$ADDRESS" >> ${out}\n`, { mode: 0o755 });
    const log = capturedLogger('hook test');
    const runner = new HookRunner(hook, log.logger);
    for (let n = 1; n <= 12; n++) runner.fire(event(n));
    await runner.drain();
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    // The first started at once; of the 11 that queued behind it, the 8 newest were kept.
    expect(lines).toEqual([1, ...Array.from({ length: MAX_PENDING }, (_, i) => 12 - MAX_PENDING + 1 + i)].map((n) => `2001:0:c612:a::${n}`));
    expect(runner.counters).toEqual({ runs: 1 + MAX_PENDING, failures: 0 });
  });

  it('counts a failing hook and a missing program, and goes on', async () => {
    const failing = join(dir, 'fail.sh');
    writeFileSync(failing, '#!/bin/sh\necho oops >&2\nexit 3\n', { mode: 0o755 });
    const log = capturedLogger('hook test');
    const runner = new HookRunner(failing, log.logger);
    runner.fire(event(1));
    await runner.drain();
    runner.setCommand(join(dir, 'does-not-exist'));
    runner.fire(event(2));
    await runner.drain();
    expect(runner.counters).toEqual({ runs: 2, failures: 2 });
    expect(log.lines.filter((l) => l.msg === 'hook failed').map((l) => l.code ?? 'spawn error')).toEqual([3, 'spawn error']);
    expect(log.lines.find((l) => l.code === 3)?.stderr).toBe('oops');
  });
});
