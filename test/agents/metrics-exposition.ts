// For the tests of the agents' metrics (agents/*/metrics.ts): the text exposition of a list of specs read from
// a literal status object, as a scrape would show it, less the # HELP lines (their text is documentation,
// listed in docs/metrics.md; a metric without help text fails instead); and the samples of a scrape by series.

import { metricsText, type MetricSpec } from '../../src/runtime/metrics.js';
import type { HostStatus } from '../../src/runtime/host.js';
import type { RunningStatus, StatusBase } from '../../src/runtime/status.js';

/** The runtime's and the host's part of a running status: instance "lab", up 60 s, reloaded once, nothing dropped. */
export const RUNNING = {
  instance: 'lab',
  pid: 4242,
  uptimeSec: 60,
  reloads: 1,
  lifecycle: 'running',
  drops: {},
  ioErrors: {},
  driver: { batches: 0, timeouts: 0, errors: 0 },
} as const satisfies Omit<StatusBase, 'agent'> & HostStatus & { lifecycle: 'running' };

export async function exposition<S>(specs: readonly MetricSpec<S>[], status: RunningStatus<S>): Promise<string> {
  const text = await metricsText(specs, status);
  for (const s of specs) if (!new RegExp(`^# HELP ${s.name} \\S`, 'm').test(text)) throw new Error(`${s.name} has no help text`);
  return text
    .split('\n')
    .filter((l) => !l.startsWith('# HELP') && l !== '')
    .join('\n');
}

/** Sample value by series, `name{labels}` as written in a text exposition. */
export function seriesValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([^#\s]\S*) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}
