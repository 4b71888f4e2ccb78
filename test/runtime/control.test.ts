// Control socket: a round trip over an abstract Unix socket, a reply of megabytes, errors from the handler, the no-listener
// error, a second server refused, a server that never answers, and the connection bounds.

import { createConnection, createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ControlServer } from '../../src/runtime/control.js';
import { controlName, controlSocketPath, queryControl, serveControl } from '../../src/runtime/control.js';
import { AgentError } from '../../src/runtime/errors.js';

// Unique per test process, so parallel runs on one host (same network namespace) never collide.
const unique = (label: string) => `test-${process.pid}-${label}`;

const servers: ControlServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('control socket', () => {
  it('lives in the abstract namespace under teredo-agents/', () => {
    expect(controlSocketPath(controlName('teredo-server', 'lab1'))).toBe('\0teredo-agents/teredo-server/lab1');
    expect(controlName('ra-sender')).toBe('ra-sender');
  });

  it('round-trips a request and a JSON result', async () => {
    const name = unique('roundtrip');
    const seen: unknown[] = [];
    servers.push(
      await serveControl(name, async (req) => {
        seen.push(req);
        return { state: 'qualified', drops: { 'bad-checksum': 2 } };
      }),
    );
    await expect(queryControl(name, { cmd: 'status', verbose: true })).resolves.toEqual({ state: 'qualified', drops: { 'bad-checksum': 2 } });
    expect(seen).toEqual([{ cmd: 'status', verbose: true }]);
  });

  it('carries a reply far over the 64 KiB request limit whole (a large status object)', async () => {
    const name = unique('large');
    const big = { list: Array.from({ length: 20_000 }, (_, i) => ({ sender: `192.0.2.${i % 256}`, hostname: `h${i}`.padEnd(100, 'x') })) };
    servers.push(await serveControl(name, () => big));
    const result = (await queryControl(name, { cmd: 'status' }, 20_000)) as typeof big;
    expect(result.list).toHaveLength(20_000);
    expect(result).toEqual(big);
  });

  it('serves several clients concurrently', async () => {
    const name = unique('concurrent');
    let n = 0;
    servers.push(await serveControl(name, () => ++n));
    const results = await Promise.all([1, 2, 3, 4].map(() => queryControl(name, { cmd: 'status' })));
    expect([...(results as number[])].sort()).toEqual([1, 2, 3, 4]);
  });

  it('turns a handler exception into CONTROL_FAILED with its message', async () => {
    const name = unique('throws');
    servers.push(
      await serveControl(name, (req) => {
        throw new Error(`unknown command "${req.cmd}"`);
      }),
    );
    await expect(queryControl(name, { cmd: 'reboot' })).rejects.toMatchObject({
      code: 'CONTROL_FAILED',
      message: `${name}: unknown command "reboot"`,
    });
  });

  it('says clearly that nothing runs in this namespace', async () => {
    const err = await queryControl(controlName('teredo-server', unique('absent')), { cmd: 'status' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect(err).toMatchObject({
      code: 'CONTROL_NO_LISTENER',
      message: `no teredo-server (instance ${unique('absent')}) running in this network namespace`,
    });
  });

  it('refuses a second server for the same name with IO_BIND', async () => {
    const name = unique('twice');
    servers.push(await serveControl(name, () => 1));
    await expect(serveControl(name, () => 2)).rejects.toMatchObject({ code: 'IO_BIND' });
    // The first one still answers.
    await expect(queryControl(name, { cmd: 'status' })).resolves.toBe(1);
  });

  it('frees the name on close', async () => {
    const name = unique('reuse');
    const first = await serveControl(name, () => 'first');
    await first.close();
    await expect(queryControl(name, { cmd: 'status' })).rejects.toMatchObject({ code: 'CONTROL_NO_LISTENER' });
    servers.push(await serveControl(name, () => 'second'));
    await expect(queryControl(name, { cmd: 'status' })).resolves.toBe('second');
  });

  it('times out on a listener that never answers, at its timeout and not before (fake clock)', async () => {
    const name = unique('mute');
    let requested!: () => void;
    const request = new Promise<void>((resolve) => (requested = resolve));
    const mute = createServer((s) => s.on('data', () => requested()));
    await new Promise<void>((resolve) => mute.listen(controlSocketPath(name), resolve));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let settled = false;
      const answer = queryControl(name, { cmd: 'status' }, 150);
      answer.catch(() => undefined).finally(() => (settled = true));
      await request;
      await vi.advanceTimersByTimeAsync(149);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await expect(answer).rejects.toMatchObject({ code: 'CONTROL_FAILED', message: `${name} did not answer within 150 ms` });
    } finally {
      vi.useRealTimers();
      mute.close();
    }
  });

  it('bounds connections: beyond maxConnections they are closed, and the server closes idle ones, which frees the slots', async () => {
    const name = unique('bounded');
    servers.push(await serveControl(name, () => 'ok', { maxConnections: 2, idleTimeoutMs: 300 }));
    const idle = [createConnection(controlSocketPath(name)), createConnection(controlSocketPath(name))];
    // 'end' is the server's FIN: these clients never close their side.
    const closedByServer = idle.map((s) => new Promise<void>((resolve) => s.on('end', () => resolve())));
    await Promise.all(idle.map((s) => new Promise((resolve) => s.on('connect', resolve))));
    // Both slots are taken by silent clients: a third is turned away instead of queued.
    await expect(queryControl(name, { cmd: 'status' }, 1000)).rejects.toMatchObject({ code: 'CONTROL_FAILED' });
    // The silent ones are dropped after the idle timeout (the socket's own timer, so no fake clock; the test's
    // time limit stands for "never"), which frees the slots.
    await Promise.all(closedByServer);
    await expect(queryControl(name, { cmd: 'status' })).resolves.toBe('ok');
  });

  it('answers a malformed request with an error instead of hanging', async () => {
    const name = unique('garbage');
    servers.push(await serveControl(name, () => 'never'));
    const reply = await new Promise<string>((resolve, reject) => {
      const s = createConnection(controlSocketPath(name));
      let text = '';
      s.setEncoding('utf8');
      s.on('connect', () => s.write('not json\n'));
      s.on('data', (d: string) => (text += d));
      s.on('end', () => resolve(text));
      s.on('error', reject);
    });
    expect(JSON.parse(reply)).toEqual({ ok: false, error: 'request is not JSON' });
  });
});
