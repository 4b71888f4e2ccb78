// Prometheus metrics, owned by the runtime for every agent: `--metrics ADDR:PORT` (off by default) serves
// GET /metrics in the Prometheus text format, built with prom-client from the same status object that
// `<agent> status --json` prints, read at scrape time (nothing is counted twice, nothing runs between
// scrapes). The mapping, the one rule every agent follows (README "Metrics" lists the names):
//
//   a number at path a.bC.d of the status object   gauge   teredo_agents_a_b_c_d{agent="<name>"}
//   a boolean                                      gauge   same name, 0 or 1
//   an object under a key "drops" or "dropped"     counter teredo_agents_<path>_drops_total{agent, reason}
//     (drop counts by reason name: drops {x: 3} at the top level is teredo_agents_drops_total{reason="x"} 3)
//   strings, nulls, arrays (tables), pid           not exported
//
// plus prom-client's default process_* and nodejs_* metrics. Bounds: at most MAX_SERIES series from the
// status object per scrape (the rest are left out and counted in teredo_agents_metrics_series_dropped), at
// most MAX_CONNECTIONS open connections, requests and headers time out after REQUEST_TIMEOUT_MS.

import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { AgentError, bindError } from './errors.js';

export const METRIC_PREFIX = 'teredo_agents_';
/** Series taken from one status object; an agent's status holds a few dozen numbers. */
export const MAX_SERIES = 2000;
/** Simultaneous scrapers; Prometheus keeps one connection per target. */
export const MAX_CONNECTIONS = 8;
export const REQUEST_TIMEOUT_MS = 5000;

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

const snake = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9_]/g, '_').toLowerCase();

interface Series {
  readonly kind: 'gauge' | 'drops';
  readonly name: string;
  readonly path: string;
  readonly value?: number;
  readonly byReason?: Readonly<Record<string, unknown>>;
}

/** The status object's exportable leaves, in walk order, at most `max` (the count of the rest in `skipped`). */
function walk(status: Readonly<Record<string, unknown>>, max: number): { series: Series[]; skipped: number } {
  const series: Series[] = [];
  let skipped = 0;
  const visit = (obj: Readonly<Record<string, unknown>>, names: string[], keys: string[]): void => {
    for (const [key, value] of Object.entries(obj)) {
      if (names.length === 0 && key === 'pid') continue;
      const path = [...keys, key].join('.');
      const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
      let item: Series | undefined;
      if (isObject && (key === 'drops' || key === 'dropped')) {
        item = { kind: 'drops', name: `${METRIC_PREFIX}${[...names, 'drops_total'].join('_')}`, path, byReason: value as Record<string, unknown> };
      } else if (isObject) {
        visit(value as Record<string, unknown>, [...names, snake(key)], [...keys, key]);
      } else if (typeof value === 'number' && Number.isFinite(value)) {
        item = { kind: 'gauge', name: `${METRIC_PREFIX}${[...names, snake(key)].join('_')}`, path, value };
      } else if (typeof value === 'boolean') {
        item = { kind: 'gauge', name: `${METRIC_PREFIX}${[...names, snake(key)].join('_')}`, path, value: value ? 1 : 0 };
      }
      if (item === undefined) continue;
      if (series.length < max) series.push(item);
      else skipped++;
    }
  };
  visit(status, [], []);
  return { series, skipped };
}

/**
 * The text exposition of one status object (what a scrape returns, without the process metrics): a fresh
 * prom-client registry per call, labelled agent=`agent`. Names that collide (two paths snake-casing alike)
 * keep the first.
 */
export async function statusMetricsText(agent: string, status: Readonly<Record<string, unknown>>, max = MAX_SERIES): Promise<string> {
  return (await statusRegistry(agent, status, max)).metrics();
}

function statusRegistry(agent: string, status: Readonly<Record<string, unknown>>, max: number): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ agent });
  const { series, skipped } = walk(status, max);
  const seen = new Set<string>();
  for (const s of series) {
    if (seen.has(s.name)) continue;
    seen.add(s.name);
    if (s.kind === 'gauge') {
      new Gauge({ name: s.name, help: `status field ${s.path}`, registers: [registry] }).set(s.value!);
      continue;
    }
    const counter = new Counter({ name: s.name, help: `packets dropped, by reason (status field ${s.path})`, labelNames: ['reason'], registers: [registry] });
    for (const [reason, n] of Object.entries(s.byReason!)) if (typeof n === 'number' && n >= 0) counter.inc({ reason }, n);
  }
  new Gauge({ name: `${METRIC_PREFIX}metrics_series_dropped`, help: `status fields left out of this scrape (more than ${max})`, registers: [registry] }).set(skipped);
  return registry;
}

export interface MetricsServer {
  /** Where it listens, "127.0.0.1:9464" or "[::1]:9464" (the real port when 0 was asked). */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Serves GET /metrics on `where` for the agent `agent`, calling `status()` at each scrape (the object the
 * control socket returns). Other paths answer 404, other methods 405. Throws AgentError IO_BIND naming
 * --metrics when the address cannot be bound.
 */
export async function serveMetrics(agent: string, where: MetricsAddress, status: () => Readonly<Record<string, unknown>>): Promise<MetricsServer> {
  const processRegistry = new Registry();
  processRegistry.setDefaultLabels({ agent });
  collectDefaultMetrics({ register: processRegistry });
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
    // Two expositions back to back (Registry.merge would drop each registry's agent label). A failure while
    // reading the status is a 500 for this scrape, never an exception out of the request handler.
    Promise.resolve()
      .then(() => Promise.all([processRegistry.metrics(), statusRegistry(agent, status(), MAX_SERIES).metrics()]))
      .then(
        ([proc, own]) => res.writeHead(200, { 'content-type': processRegistry.contentType }).end(req.method === 'HEAD' ? undefined : `${proc}\n${own}`),
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
