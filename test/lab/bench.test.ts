// teredo-lab bench's table (lab/bench.ts benchRows) and the ping quantiles (lab/observe.ts): the ratios against
// Miredo's stack and p50/p99 by nearest rank, from literal results (no lab).

import { describe, expect, it } from 'vitest';
import { benchRows, type StackResult } from '../../lab/bench.js';
import { quantile } from '../../lab/observe.js';

function stack(label: string, avg: number, p99: number, tcp: number, qualifyMs: number): StackResult {
  return {
    label,
    qualificationMs: { 'cli-fc': qualifyMs },
    ping: { sent: 200, received: 200, rtt: { min: 0.1, avg, max: 2, p50: avg, p99 } },
    tcpUp: { mbps: tcp },
    tcpDown: { error: 'no result' },
    udpSmall: { kpps: 10, lossPercent: 0 },
    usage: {},
  };
}

describe('bench table', () => {
  const native = { label: 'native IPv6', ping: { sent: 200, received: 200 }, tcpUp: { mbps: 9000 }, tcpDown: { mbps: 9000 }, udpSmall: { kpps: 40, lossPercent: 0 } };
  const rows = benchRows([stack('miredo/miredo/miredo', 0.5, 1, 400, 40), stack('ours/ours/ours', 0.25, 3, 600, 100)], native);
  const row = (name: string): string[] => rows.find((r) => r[0] === name)!;

  it('gives every other stack its ratio to the reference stack, the reference none', () => {
    expect(row('ping6 RTT average').slice(1)).toEqual(['0.50 ms', '0.25 ms (0.50x)', '-']);
    expect(row('ping6 RTT p99').slice(1)).toEqual(['1.00 ms', '3.00 ms (3.00x)', '-']);
    expect(row('TCP → host6 (iperf3)').slice(1)).toEqual(['400 Mbit/s', '600 Mbit/s (1.50x)', '9000 Mbit/s']);
    expect(row('TCP ← host6 (iperf3 -R)').slice(1)).toEqual(['(no result)', '(no result)', '9000 Mbit/s']);
    expect(row('qualification behind nat-fc (full-cone)').slice(1)).toEqual(['40 ms', '100 ms (2.50x)', '']);
  });

  it('prints no ratios without the reference stack', () => {
    const alone = benchRows([stack('ours/ours/ours', 0.25, 3, 600, 100)], native);
    expect(alone.find((r) => r[0] === 'ping6 RTT p99')!.slice(1)).toEqual(['3.00 ms', '-']);
  });
});

describe('quantile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  it('p50 and p99 of 1..100 are 50 and 99; of one value, that value', () => {
    expect(quantile(hundred, 0.5)).toBe(50);
    expect(quantile(hundred, 0.99)).toBe(99);
    expect(quantile([7], 0.99)).toBe(7);
  });
});
