// Prometheus metrics, served by the runtime for every agent: `--metrics ADDR:PORT` (off by default) serves
// GET /metrics in the Prometheus text format, built with prom-client. The metrics are declared, not derived:
// each agent lists its own (agents/<name>/metrics.ts, a MetricSpec per metric: name, type, help, labels, and
// how to read the value from the running status object), and the runtime adds the ones every agent has:
//
//   <prefix>_info{version, instance}   gauge    1; the package version and the instance name ("" = default)
//   <prefix>_reloads_total             counter  SIGHUP reloads applied (StatusBase.reloads)
//   <prefix>_drops_total{reason}       counter  status.drops (the host's), packets dropped by reason name
//   <prefix>_io_errors_total{port}     counter  status.ioErrors (the host's), by port label (primary, tun, icmpv6:eth0)
//
// <prefix> is the agent's name snake-cased (teredo_server, rasadv_advertise). An agent whose status has more
// dimensions for one of these (ra-sender's drops per interface) declares it under the same name, and its
// declaration replaces the runtime's. Values are read from `status()` at scrape time, so nothing is counted
// twice and nothing runs between scrapes; while the agent is still starting only the process metrics are
// served. Beside them, prom-client's default process_* and nodejs_* metrics, less three that promtool refuses.
// Bounds: at most MAX_CONNECTIONS open connections, requests and headers time out after REQUEST_TIMEOUT_MS;
// other paths answer 404, other methods 405, a status or read that throws 500. docs/metrics.md lists them all.
// prom-client and node:http are imported when first needed (`--metrics` given, or metricsText called): loading it costs an agent
// started without --metrics ~40 ms and ~4 MiB (docs/performance.md, start-up and memory).

import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { isIP } from 'node:net';
import { AgentError, bindError } from './errors.js';
import type { AgentStatus, RunningStatus } from './status.js';

/** Simultaneous scrapers; Prometheus keeps one connection per target. */
export const MAX_CONNECTIONS = 8;
export const REQUEST_TIMEOUT_MS = 5000;

/**
 * prom-client's sums of nodejs_active_{handles,requests,resources}{type}: gauges named _total, which promtool
 * refuses (only counters end in _total). The gauges by type stay, and sum() gives the same number.
 */
const REFUSED_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export interface MetricSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricSpec<S> {
  /** Full name, e.g. 'teredo_server_router_solicitations_total'; counters end in _total; units as suffix (_seconds, _bytes). */
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly labelNames?: readonly string[];
  /** Read at scrape time from the running status (RunningStatus<S>, src/runtime/status.ts): one number, or labelled samples. */
  read(status: RunningStatus<S>): number | readonly MetricSample[];
}

/** The metric name prefix of an agent: its definition name snake-cased ("rasadv advertise" -> "rasadv_advertise"). */
export function metricPrefix(agent: string): string {
  return agent.replace(/[^A-Za-z0-9]+/g, '_').toLowerCase();
}

/** One sample per key of `counts`, the key as label `label`, beside the labels `base` (e.g. the interface). */
export function samplesBy<K extends string>(label: string, counts: { readonly [k in K]: number }, base: Readonly<Record<string, string>> = {}): MetricSample[] {
  return (Object.entries(counts) as [string, number][]).map(([key, value]) => ({ labels: { ...base, [label]: key }, value }));
}

/** An enum as a gauge: one sample per possible value, 1 for `current` and 0 for the others. */
export function stateSamples(label: string, values: readonly string[], current: string | undefined, base: Readonly<Record<string, string>> = {}): MetricSample[] {
  return values.map((v) => ({ labels: { ...base, [label]: v }, value: v === current ? 1 : 0 }));
}

/** A number that may be missing (null: not known yet) as a sample list: none, or the one unlabelled sample. */
export function optional(value: number | null | undefined): number | readonly MetricSample[] {
  return value === null || value === undefined ? [] : value;
}

/** The metrics the runtime adds for every agent (the table at the top of this file). */
export function runtimeMetrics(prefix: string, version: string): MetricSpec<unknown>[] {
  return [
    {
      name: `${prefix}_info`,
      type: 'gauge',
      help: 'Always 1: the teredo-agents version and the instance name (--instance; empty for the default instance).',
      labelNames: ['version', 'instance'],
      read: (s) => [{ labels: { version, instance: s.instance ?? '' }, value: 1 }],
    },
    { name: `${prefix}_reloads_total`, type: 'counter', help: 'Configuration reloads (SIGHUP) applied since start.', read: (s) => s.reloads },
    {
      name: `${prefix}_drops_total`,
      type: 'counter',
      help: 'Packets dropped, by reason (the engine\'s drop reason names).',
      labelNames: ['reason'],
      read: (s) => samplesBy('reason', s.drops),
    },
    {
      name: `${prefix}_io_errors_total`,
      type: 'counter',
      help: 'Socket and device errors (sends the kernel refused, failed reads), by port.',
      labelNames: ['port'],
      read: (s) => samplesBy('port', s.ioErrors),
    },
  ];
}

/**
 * The text exposition of `specs` read from one status object, with a fresh prom-client registry. Throws what
 * a read throws, and prom-client's errors: a label not in labelNames, a negative counter.
 */
export async function metricsText<S>(specs: readonly MetricSpec<S>[], status: RunningStatus<S>): Promise<string> {
  const { Counter, Gauge, Registry } = await import('prom-client');
  const registry = new Registry();
  for (const spec of specs) {
    const config = { name: spec.name, help: spec.help, labelNames: [...(spec.labelNames ?? [])], registers: [registry] };
    const metric = spec.type === 'counter' ? new Counter(config) : new Gauge(config);
    // prom-client starts an unlabelled metric at 0; a read with no sample (not known yet) must show nothing.
    metric.remove({});
    const value = spec.read(status);
    for (const sample of typeof value === 'number' ? [{ labels: {}, value }] : value) {
      if (metric instanceof Counter) metric.inc(sample.labels, sample.value);
      else metric.set(sample.labels, sample.value);
    }
  }
  return registry.metrics();
}

/** The teredo-agents version from package.json: two levels above src/runtime (vitest), three above dist/src/runtime. */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    const url = new URL(up, import.meta.url);
    if (!existsSync(url)) continue;
    const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: unknown; version?: unknown };
    if (pkg.name === 'teredo-agents' && typeof pkg.version === 'string') return pkg.version;
  }
  return 'unknown';
}

export interface MetricsAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `--metrics`: "IPv4:PORT" or "[IPv6]:PORT", an address literal (no host names: the endpoint binds
 * exactly where asked), PORT 0-65535 (0: the kernel picks one, logged). Throws AgentError USAGE naming the flag.
 */
export function parseMetricsAddress(text: string): MetricsAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  const family = host === undefined ? 0 : isIP(host);
  if (!m || host === undefined || family === 0 || (m[1] !== undefined && family !== 6) || port > 65535) {
    throw new AgentError('USAGE', `--metrics (${JSON.stringify(text)}) must be ADDRESS:PORT with an IP address literal, e.g. 127.0.0.1:9464 or [::1]:9464`);
  }
  return { host, port };
}

export interface MetricsServer {
  /** Where it listens, "127.0.0.1:9464" or "[::1]:9464" (the real port when 0 was asked). */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Serves GET /metrics on `where` for the agent `agent`: the process metrics, then (once running) the runtime's
 * and the agent's `specs` read from `status()` at each scrape. Throws AgentError INTERNAL when a spec's name
 * lacks the agent's prefix, IO_BIND naming --metrics when the address cannot be bound.
 */
export async function serveMetrics<S>(agent: string, where: MetricsAddress, status: () => AgentStatus<S>, specs: readonly MetricSpec<S>[] = []): Promise<MetricsServer> {
  const prefix = metricPrefix(agent);
  const stray = specs.find((s) => !s.name.startsWith(`${prefix}_`));
  if (stray) throw new AgentError('INTERNAL', `metric ${stray.name} of ${agent} does not start with ${prefix}_`);
  const declared = new Set(specs.map((s) => s.name));
  const all: readonly MetricSpec<S>[] = [...runtimeMetrics(prefix, packageVersion()).filter((c) => !declared.has(c.name)), ...specs];
  const [promClient, { createServer }] = await Promise.all([import('prom-client'), import('node:http')]);
  const processRegistry = new promClient.Registry();
  promClient.collectDefaultMetrics({ register: processRegistry });
  for (const name of REFUSED_DEFAULT_METRICS) processRegistry.removeSingleMetric(name);

  const server: Server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS }, (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    // Two expositions back to back. A failure while reading the status is a 500 for this scrape, never an
    // exception out of the request handler.
    Promise.resolve()
      .then(() => {
        const s = status();
        return Promise.all([processRegistry.metrics(), s.lifecycle === 'running' ? metricsText(all, s) : '']);
      })
      .then(
        ([proc, own]) => res.writeHead(200, { 'content-type': processRegistry.contentType }).end(req.method === 'HEAD' ? undefined : `${proc}${own}`),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(err)}\n`),
      );
  });
  server.maxConnections = MAX_CONNECTIONS;
  server.keepAliveTimeout = REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: where.host, port: where.port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    throw bindError(`--metrics ${formatHostPort(where.host, where.port)}`, err);
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : where.port;
  return {
    address: formatHostPort(where.host, port),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
