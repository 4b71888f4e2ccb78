// `--metrics ADDR:PORT` (src/runtime/metrics.ts): the address flag, the exposition of declared metrics and of
// the runtime's common ones from literal status objects, and a real scrape over HTTP of the tiny agent run in
// process through the shared command line: its declared counter, the runtime's info / reloads series and
// prom-client's process metrics (less the three promtool refuses); other paths are 404, other methods 405; a
// port already taken fails the start naming --metrics; SIGTERM closes the endpoint.

import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgentMain } from '../../src/runtime/cli.js';
import { metricPrefix, metricsText, optional, parseMetricsAddress, runtimeMetrics, serveMetrics, type MetricSpec } from '../../src/runtime/metrics.js';
import type { HostStatus } from '../../src/runtime/host.js';
import type { AgentStatus, RunningStatus, StatusBase } from '../../src/runtime/status.js';
import { captureLogLines } from '../fakes/log-capture.js';
import { tiny } from './fixtures/tiny-definition.js';

const instance = `metrics-${process.pid}`;
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const running: EventEmitter[] = [];
afterEach(() => {
  for (const s of running.splice(0)) s.emit('SIGTERM');
});

function run(argv: string[]) {
  let stderr = '';
  const { lines: logs, destination } = captureLogLines();
  const signals = new EventEmitter();
  let resolveExit: (code: number) => void = () => {};
  const exitCode = new Promise<number>((resolve) => (resolveExit = resolve));
  const done = runAgentMain(tiny, {
    argv,
    io: { stdout: () => undefined, stderr: (t) => void (stderr += t) },
    exit: (code) => resolveExit(code),
    signals: signals as unknown as NodeJS.Process,
    logDestination: destination,
  });
  return { exitCode, done, signals, logs, stderr: () => stderr };
}

/** The lines of a text exposition that are samples (not # HELP / # TYPE). */
const samples = (text: string): string[] => text.split('\n').filter((l) => l && !l.startsWith('#'));

const BASE: StatusBase & HostStatus & { lifecycle: 'running' } = {
  agent: 'teredo-server',
  instance: null,
  pid: 42,
  uptimeSec: 7,
  reloads: 2,
  lifecycle: 'running',
  drops: {},
  ioErrors: {},
  driver: { batches: 0, timeouts: 0, errors: 0 },
};

describe('parseMetricsAddress', () => {
  it('takes IPv4:PORT and [IPv6]:PORT literals, port 0 included', () => {
    expect(parseMetricsAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseMetricsAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
  });

  it.each(['localhost:9464', '127.0.0.1', '::1:9464', '[127.0.0.1]:1', '127.0.0.1:65536', '1.2.3.4:-1', ''])('refuses %j naming the flag', (bad) => {
    expect(() => parseMetricsAddress(bad)).toThrow(/^--metrics \(.*\) must be ADDRESS:PORT/);
  });
});

describe('declared metrics', () => {
  it('the prefix is the definition name snake-cased', () => {
    expect(['teredo-server', 'ra-sender', 'rasadv advertise', 'rasadv listen'].map(metricPrefix)).toEqual(['teredo_server', 'ra_sender', 'rasadv_advertise', 'rasadv_listen']);
  });

  it('the runtime\'s: info, reloads, drops by reason, I/O errors by port', async () => {
    const status = { ...BASE, drops: { 'server-case-3-source-not-global': 12, 'rs-too-short': 1 }, ioErrors: { primary: 3 }, mtu: 1280 };
    expect(await metricsText(runtimeMetrics('teredo_server', '1.2.3'), status)).toBe(`# HELP teredo_server_info Always 1: the teredo-agents version and the instance name (--instance; empty for the default instance).
# TYPE teredo_server_info gauge
teredo_server_info{version="1.2.3",instance=""} 1

# HELP teredo_server_reloads_total Configuration reloads (SIGHUP) applied since start.
# TYPE teredo_server_reloads_total counter
teredo_server_reloads_total 2

# HELP teredo_server_drops_total Packets dropped, by reason (the engine's drop reason names).
# TYPE teredo_server_drops_total counter
teredo_server_drops_total{reason="server-case-3-source-not-global"} 12
teredo_server_drops_total{reason="rs-too-short"} 1

# HELP teredo_server_io_errors_total Socket and device errors (sends the kernel refused, failed reads), by port.
# TYPE teredo_server_io_errors_total counter
teredo_server_io_errors_total{port="primary"} 3
`);
  });

  it('I/O errors by port name, every port listed; no drop series before a drop', async () => {
    const [, , drops, io] = runtimeMetrics('x', '1');
    const byPort = { ...BASE, instance: 'b', ioErrors: { udp: 2, tun: 0 } };
    expect(samples(await metricsText([drops!, io!], byPort))).toEqual(['x_io_errors_total{port="udp"} 2', 'x_io_errors_total{port="tun"} 0']);
    expect(samples(await metricsText([drops!, io!], BASE))).toEqual([]);
  });

  it('a gauge read as no sample (optional null) shows no line; an unlabelled read shows one', async () => {
    const specs: MetricSpec<{ rtt: number | null }>[] = [{ name: 'x_rtt_seconds', type: 'gauge', help: 'h', read: (s) => optional(s.rtt) }];
    expect(samples(await metricsText(specs, { ...BASE, rtt: null }))).toEqual([]);
    expect(samples(await metricsText(specs, { ...BASE, rtt: 0.25 }))).toEqual(['x_rtt_seconds 0.25']);
  });

  it('a label outside labelNames, and a negative counter, throw', async () => {
    const bad: MetricSpec<object>[] = [{ name: 'x_a_total', type: 'counter', help: 'h', labelNames: ['port'], read: () => [{ labels: { iface: 'eth0' }, value: 1 }] }];
    await expect(metricsText(bad, BASE)).rejects.toThrow(/iface/);
    await expect(metricsText([{ name: 'x_b_total', type: 'counter', help: 'h', read: () => -1 }], BASE)).rejects.toThrow(/decrease/);
  });
});

describe('--metrics on a running agent', () => {
  it('serves the declared, common and process metrics at /metrics, 404 elsewhere, 405 for POST, and closes on SIGTERM', async () => {
    const r = run(['--instance', `${instance}-a`, '--metrics', '127.0.0.1:0']);
    running.push(r.signals);
    await r.done;
    const url = r.logs.find((l) => l.msg === 'metrics serving')?.url as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(samples(text)).toEqual(
      expect.arrayContaining(['tiny_agent_ticks_total 0', 'tiny_agent_reloads_total 0', `tiny_agent_info{version="${VERSION}",instance="${instance}-a"} 1`]),
    );
    expect(text).toContain('# TYPE tiny_agent_ticks_total counter');
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    expect(text).toMatch(/^# TYPE nodejs_active_handles gauge$/m);
    expect(text).not.toMatch(/^nodejs_active_(handles|requests|resources)_total/m);
    expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);

    // A reload shows up in the next scrape: values are read from status at scrape time.
    r.signals.emit('SIGHUP');
    await expect.poll(async () => samples(await (await fetch(url)).text())).toContain('tiny_agent_reloads_total 1');

    r.signals.emit('SIGTERM');
    await expect(r.exitCode).resolves.toBe(0);
    await expect(fetch(url)).rejects.toThrow();
  });

  it('a status that throws is a 500 for that scrape, and the endpoint keeps serving; while starting only process metrics', async () => {
    let state: 'fail' | 'starting' | 'running' = 'fail';
    const status = (): AgentStatus<{ n: number }> => {
      if (state === 'fail') throw new Error('status broke');
      return state === 'starting' ? { ...BASE, agent: 'x', lifecycle: 'starting' } : { ...BASE, agent: 'x', n: 1 };
    };
    const spec: MetricSpec<{ n: number }> = { name: 'x_n', type: 'gauge', help: 'h', read: (s) => s.n };
    const m = await serveMetrics('x', { host: '127.0.0.1', port: 0 }, status, [spec]);
    const scrape = async () => (await fetch(`http://${m.address}/metrics`)).text();
    try {
      const bad = await fetch(`http://${m.address}/metrics`);
      expect(bad.status).toBe(500);
      expect(await bad.text()).toBe('metrics failed: Error: status broke\n');
      state = 'starting';
      const starting = samples(await scrape());
      expect(starting.some((l) => l.startsWith('process_'))).toBe(true);
      expect(starting.filter((l) => l.startsWith('x_'))).toEqual([]);
      state = 'running';
      expect(samples(await scrape()).filter((l) => l.startsWith('x_'))).toEqual(['x_info{version="' + VERSION + '",instance=""} 1', 'x_reloads_total 2', 'x_n 1']);
    } finally {
      await m.close();
    }
  });

  it('an agent\'s metric named like a common one replaces it; a name without the agent\'s prefix is refused', async () => {
    const drops: MetricSpec<{ d: number }> = { name: 'x_drops_total', type: 'counter', help: 'h', labelNames: ['iface', 'reason'], read: (s) => [{ labels: { iface: 'e0', reason: 'r' }, value: s.d }] };
    const m = await serveMetrics('x', { host: '127.0.0.1', port: 0 }, (): RunningStatus<{ d: number }> => ({ ...BASE, d: 4 }), [drops]);
    try {
      const text = await (await fetch(`http://${m.address}/metrics`)).text();
      expect(samples(text).filter((l) => l.startsWith('x_drops'))).toEqual(['x_drops_total{iface="e0",reason="r"} 4']);
      expect(text.match(/^# TYPE x_drops_total /gm)).toHaveLength(1);
    } finally {
      await m.close();
    }
    await expect(serveMetrics('x', { host: '127.0.0.1', port: 0 }, () => ({ ...BASE, d: 4 }), [{ ...drops, name: 'y_drops_total' }])).rejects.toThrow('metric y_drops_total of x does not start with x_');
  });

  it('is off without the flag', async () => {
    const r = run(['--instance', `${instance}-b`]);
    running.push(r.signals);
    await r.done;
    expect(r.logs.some((l) => l.msg === 'metrics serving')).toBe(false);
  });

  it('a taken port fails the start with exit 1 naming --metrics, and frees the control socket', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = run(['--instance', `${instance}-c`, '--metrics', `127.0.0.1:${port}`]);
      await expect(r.exitCode).resolves.toBe(1);
      expect(r.stderr()).toBe(`tiny-agent: cannot bind --metrics 127.0.0.1:${port}: address already in use\n`);
      const again = run(['--instance', `${instance}-c`]);
      running.push(again.signals);
      await again.done;
      expect(again.logs.some((l) => l.msg === 'started')).toBe(true);
    } finally {
      taken.close();
    }
  });

  it('--check-config refuses a bad --metrics with exit 2', async () => {
    const r = run(['--check-config', '--metrics', 'localhost:9464']);
    await expect(r.exitCode).resolves.toBe(2);
    expect(r.stderr()).toContain('--metrics ("localhost:9464") must be ADDRESS:PORT');
  });
});
