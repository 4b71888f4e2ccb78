// Observations made from inside lab nodes with standard tools (ping, ip): what the demo shows and the
// benchmark measures. Parsing is of iputils and iproute2 output as shipped in Debian 12.

import type { Lab } from './lab.js';
import { sleep } from './run.js';

export interface PingResult {
  readonly sent: number;
  readonly received: number;
  /** Round-trip times in ms; undefined when nothing came back. p50 / p99 from the per-reply times (nearest rank). */
  readonly rtt?: { readonly min: number; readonly avg: number; readonly max: number; readonly p50: number; readonly p99: number };
}

/** The `q` quantile (0..1) of `sorted` (ascending, non-empty), nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** `ping -6` from a node; intervalS below 0.2 needs root (we are). */
export async function ping6(lab: Lab, node: string, dst: string, count = 4, intervalS = 0.2): Promise<PingResult> {
  const r = await lab.exec(node, ['ping', '-6', '-n', '-c', String(count), '-i', String(intervalS), '-W', '2', dst], { timeoutMs: 10_000 + count * 2_000 });
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  const t = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(r.stdout);
  const times = [...r.stdout.matchAll(/ time=([\d.]+) ms/g)].map((x) => Number(x[1])).sort((a, b) => a - b);
  return {
    sent: m ? Number(m[1]) : count,
    received: m ? Number(m[2]) : 0,
    ...(t && times.length > 0 ? { rtt: { min: Number(t[1]), avg: Number(t[2]), max: Number(t[3]), p50: quantile(times, 0.5), p99: quantile(times, 0.99) } } : {}),
  };
}

export function formatRtt(p: PingResult): string {
  return p.rtt ? `${p.rtt.min.toFixed(2)}/${p.rtt.avg.toFixed(2)}/${p.rtt.max.toFixed(2)} ms` : '-';
}

/** Global IPv6 addresses a host autoconfigured (kernel-marked `dynamic`, i.e. from an RA's prefix). */
export async function slaacAddresses(lab: Lab, node: string): Promise<string[]> {
  const r = await lab.exec(node, ['ip', '-6', '-o', 'addr', 'show', 'scope', 'global', 'dynamic']);
  return [...r.stdout.matchAll(/inet6 ([0-9a-f:]+\/\d+)/g)].map((m) => m[1]!);
}

/** The RA-learned default router of a host, or undefined. */
export async function raDefaultRouter(lab: Lab, node: string): Promise<string | undefined> {
  const r = await lab.exec(node, ['ip', '-6', 'route', 'show', 'default', 'proto', 'ra']);
  return /via (\S+)/.exec(r.stdout)?.[1];
}

/** Polls slaacAddresses until one appears or timeoutMs passes. */
export async function waitForSlaac(lab: Lab, node: string, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = await slaacAddresses(lab, node);
    if (a.length > 0 || Date.now() > deadline) return a;
    await sleep(200);
  }
}
