// `--metrics ADDR:PORT` (src/runtime/metrics.ts): the status-object-to-metrics rule, the address flag, and a
// real scrape over HTTP of the tiny agent run in process through the shared command line: the numbers its
// `status` shows come out as teredo_agents_* with the agent label, next to prom-client's process metrics;
// other paths are 404; a port already taken fails the start naming --metrics; SIGTERM closes the endpoint.

import { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgentMain } from '../../src/runtime/cli.js';
import { MAX_SERIES, parseMetricsAddress, serveMetrics, statusMetricsText } from '../../src/runtime/metrics.js';
import { captureLogLines } from '../fakes/log-capture.js';
import { tiny } from './fixtures/tiny-definition.js';

const instance = `metrics-${process.pid}`;
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

describe('parseMetricsAddress', () => {
  it('takes IPv4:PORT and [IPv6]:PORT literals, port 0 included', () => {
    expect(parseMetricsAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseMetricsAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
  });

  it.each(['localhost:9464', '127.0.0.1', '::1:9464', '[127.0.0.1]:1', '127.0.0.1:65536', '1.2.3.4:-1', ''])('refuses %j naming the flag', (bad) => {
    expect(() => parseMetricsAddress(bad)).toThrow(/^--metrics \(.*\) must be ADDRESS:PORT/);
  });
});

describe('status object to metrics', () => {
  it('numbers and booleans become gauges named by path, drops a counter by reason; strings, arrays, pid left out', async () => {
    const text = await statusMetricsText('teredo-server', {
      agent: 'teredo-server',
      pid: 42,
      uptimeSec: 7,
      allowNonGlobal: true,
      prefix: '2001:0:c612:a::/64',
      rsAnswered: { primary: 3, secondary: 1 },
      list: [{ count: 9 }],
      drops: { 'server-case-3-source-not-global': 12, 'rs-too-short': 1 },
      driver: { batches: 5, nextTimeout: null, drops: {} },
    });
    expect(samples(text)).toEqual([
      'teredo_agents_uptime_sec{agent="teredo-server"} 7',
      'teredo_agents_allow_non_global{agent="teredo-server"} 1',
      'teredo_agents_rs_answered_primary{agent="teredo-server"} 3',
      'teredo_agents_rs_answered_secondary{agent="teredo-server"} 1',
      'teredo_agents_drops_total{reason="server-case-3-source-not-global",agent="teredo-server"} 12',
      'teredo_agents_drops_total{reason="rs-too-short",agent="teredo-server"} 1',
      'teredo_agents_driver_batches{agent="teredo-server"} 5',
      'teredo_agents_metrics_series_dropped{agent="teredo-server"} 0',
    ]);
    expect(text).toContain('# TYPE teredo_agents_drops_total counter');
    expect(text).toContain('# TYPE teredo_agents_rs_answered_primary gauge');
    expect(text).toContain('# HELP teredo_agents_rs_answered_primary status field rsAnswered.primary');
  });

  it(`keeps at most ${MAX_SERIES} series per scrape and counts the rest`, async () => {
    const wide = Object.fromEntries(Array.from({ length: MAX_SERIES + 5 }, (_, i) => [`n${i}`, i]));
    const out = samples(await statusMetricsText('x', wide));
    expect(out).toHaveLength(MAX_SERIES + 1);
    expect(out.at(-1)).toBe('teredo_agents_metrics_series_dropped{agent="x"} 5');
  });
});

describe('--metrics on a running agent', () => {
  it('serves the status counters and process metrics at /metrics, 404 elsewhere, and closes on SIGTERM', async () => {
    const r = run(['--instance', `${instance}-a`, '--metrics', '127.0.0.1:0']);
    running.push(r.signals);
    await r.done;
    const url = r.logs.find((l) => l.msg === 'metrics serving')?.url as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(samples(text)).toEqual(expect.arrayContaining(['teredo_agents_ticks{agent="tiny-agent"} 0', 'teredo_agents_reloads{agent="tiny-agent"} 0', 'teredo_agents_driver_errors{agent="tiny-agent"} 0']));
    expect(text).toMatch(/^process_resident_memory_bytes\{agent="tiny-agent"\} \d+/m);
    expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);

    // A reload shows up in the next scrape: values are read from status at scrape time.
    r.signals.emit('SIGHUP');
    await expect.poll(async () => samples(await (await fetch(url)).text())).toContain('teredo_agents_reloads{agent="tiny-agent"} 1');

    r.signals.emit('SIGTERM');
    await expect(r.exitCode).resolves.toBe(0);
    await expect(fetch(url)).rejects.toThrow();
  });

  it('a status that throws is a 500 for that scrape, and the endpoint keeps serving', async () => {
    let fail = true;
    const m = await serveMetrics('x', { host: '127.0.0.1', port: 0 }, () => {
      if (fail) throw new Error('status broke');
      return { n: 1 };
    });
    try {
      const bad = await fetch(`http://${m.address}/metrics`);
      expect(bad.status).toBe(500);
      expect(await bad.text()).toBe('metrics failed: Error: status broke\n');
      fail = false;
      expect(samples(await (await fetch(`http://${m.address}/metrics`)).text())).toContain('teredo_agents_n{agent="x"} 1');
    } finally {
      await m.close();
    }
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
