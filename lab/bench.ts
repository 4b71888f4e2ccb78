// `teredo-lab bench`: the same measurements for each Teredo stack (server, relay, client implementations)
// on one lab, side by side, with the native IPv6 path (relay node ↔ host6 over inet6, no Teredo) as the
// ceiling. Numbers are printed, never asserted: they depend on the machine and its load.
//
// Per stack: qualification time behind each NAT (client start → Teredo address, one client at a time);
// then, from cli-prc through the relay to host6: ping6 RTT (min/avg/max, p50, p99 of 200 pings), iperf3 TCP
// both ways, iperf3 UDP with 64-byte payloads (small packets stress per-packet cost); CPU time and peak RSS of
// every occupant process group over the data-plane tests. With Miredo's stack in the run, every other stack's
// numbers carry their ratio to it.

import type { Lab } from './lab.js';
import type { OccupantRecord } from './state.js';
import { formatRtt, ping6, type PingResult } from './observe.js';
import { groupUsage, type GroupUsage } from './processes.js';
import { sleep, waitFor } from './run.js';
import { ADDR, NAT_SITES } from './topology.js';

export interface Stack {
  readonly server: string;
  readonly relay: string;
  readonly client: string;
}

export interface BenchOptions {
  /** Seconds per iperf3 run. */
  readonly seconds: number;
  readonly log?: (line: string) => void;
}

interface Throughput {
  readonly mbps?: number;
  readonly error?: string;
}

interface UdpResult {
  readonly kpps?: number;
  readonly lossPercent?: number;
  readonly error?: string;
}

export interface StackResult {
  readonly label: string;
  readonly qualificationMs: Readonly<Record<string, number | string>>;
  readonly ping: PingResult;
  readonly tcpUp: Throughput;
  readonly tcpDown: Throughput;
  readonly udpSmall: UdpResult;
  /** Occupant key → usage over the data-plane tests. */
  readonly usage: Readonly<Record<string, GroupUsage>>;
}

const IPERF_PORT = 5201;
/** Pings per latency measurement (enough for a p99 that is not simply the maximum) and their interval. */
const PINGS = 200;
const PING_INTERVAL_S = 0.01;
/** The stack every other is compared with when it is in the run: Miredo in every role. */
const REFERENCE = 'miredo/miredo/miredo';
const DATA_NODE = 'cli-prc';

export function stackLabel(s: Stack): string {
  return `${s.server}/${s.relay}/${s.client}`;
}

export async function benchStack(lab: Lab, stack: Stack, opts: BenchOptions): Promise<StackResult> {
  const log = opts.log ?? (() => undefined);
  log(`bench: stack ${stackLabel(stack)} (server/relay/client)`);
  await lab.startOccupants([
    { role: 'server', impl: stack.server },
    { role: 'relay', impl: stack.relay },
  ]);
  const qualificationMs: Record<string, number | string> = {};
  for (const site of NAT_SITES) {
    try {
      const rec = await lab.startOccupant({ role: 'client', impl: stack.client, node: site.client });
      qualificationMs[site.client] = rec.readyAfterMs ?? 'n/a';
    } catch (e) {
      qualificationMs[site.client] = `failed: ${(e as Error).message.split('\n')[0]}`;
    }
    // Only cli-prc carries the data-plane tests; the others would only add noise to CPU numbers.
    if (site.client !== DATA_NODE) await lab.stopOccupant(`client@${site.client}`);
  }
  log('bench: data plane');
  await ping6(lab, DATA_NODE, ADDR.host6, 2); // warm-up: relay discovery and bubbles (RFC 4380 §5.2.9, §5.4.1)
  const before = usageOf(lab.occupants());
  const ping = await ping6(lab, DATA_NODE, ADDR.host6, PINGS, PING_INTERVAL_S);
  const tcpUp = await iperfTcp(lab, DATA_NODE, ADDR.host6, opts.seconds, false);
  const tcpDown = await iperfTcp(lab, DATA_NODE, ADDR.host6, opts.seconds, true);
  const udpSmall = await iperfUdpSmall(lab, DATA_NODE, ADDR.host6, opts.seconds);
  const after = usageOf(lab.occupants());
  const usage: Record<string, GroupUsage> = {};
  for (const [k, a] of Object.entries(after)) usage[k] = { ...a, cpuMs: a.cpuMs - (before[k]?.cpuMs ?? 0) };
  for (const o of lab.occupants()) await lab.stopOccupant(o.key);
  return { label: stackLabel(stack), qualificationMs, ping, tcpUp, tcpDown, udpSmall, usage };
}

/** The ceiling: relay node → host6 over inet6 directly (same veths and bridge, no Teredo, no TUN). */
export async function benchNative(lab: Lab, opts: BenchOptions): Promise<Omit<StackResult, 'qualificationMs' | 'usage'>> {
  opts.log?.('bench: native IPv6 (relay ↔ host6)');
  await ping6(lab, 'relay', ADDR.host6, 2);
  return {
    label: 'native IPv6',
    ping: await ping6(lab, 'relay', ADDR.host6, PINGS, PING_INTERVAL_S),
    tcpUp: await iperfTcp(lab, 'relay', ADDR.host6, opts.seconds, false),
    tcpDown: await iperfTcp(lab, 'relay', ADDR.host6, opts.seconds, true),
    udpSmall: await iperfUdpSmall(lab, 'relay', ADDR.host6, opts.seconds),
  };
}

function usageOf(occ: readonly OccupantRecord[]): Record<string, GroupUsage> {
  return Object.fromEntries(occ.map((o) => [o.key, groupUsage(o.proc)]));
}

/** Runs an iperf3 client in `from` against a one-shot iperf3 server on host6; returns the client's JSON. */
async function iperf(lab: Lab, from: string, dst: string, args: readonly string[], seconds: number): Promise<Record<string, unknown>> {
  const server = lab.spawn('host6', ['iperf3', '-s', '-1', '-B', dst, '-p', String(IPERF_PORT)], { stdio: 'ignore' });
  try {
    await waitFor('iperf3 server on host6', async () => ((await lab.exec('host6', ['ss', '-Hltn', `sport = :${IPERF_PORT}`])).stdout.trim() ? true : undefined), 5_000);
    const r = await lab.exec(from, ['iperf3', '-6', '-c', dst, '-p', String(IPERF_PORT), '-t', String(seconds), '-J', ...args], { timeoutMs: (seconds + 20) * 1000 });
    return JSON.parse(r.stdout || '{}') as Record<string, unknown>;
  } finally {
    server.kill('SIGKILL');
    await sleep(100);
  }
}

async function iperfTcp(lab: Lab, from: string, dst: string, seconds: number, reverse: boolean): Promise<Throughput> {
  const j = await iperf(lab, from, dst, reverse ? ['-R'] : [], seconds);
  const bps = (j['end'] as { sum_received?: { bits_per_second?: number } } | undefined)?.sum_received?.bits_per_second;
  return bps !== undefined ? { mbps: bps / 1e6 } : { error: String(j['error'] ?? 'no result') };
}

async function iperfUdpSmall(lab: Lab, from: string, dst: string, seconds: number): Promise<UdpResult> {
  // -b 0: as fast as the sender can; -l 64: 64-byte payloads (a 168-byte Teredo datagram on the IPv4 side).
  const j = await iperf(lab, from, dst, ['-u', '-b', '0', '-l', '64'], seconds);
  const sum = (j['end'] as { sum?: { packets?: number; lost_packets?: number; lost_percent?: number; seconds?: number } } | undefined)?.sum;
  if (!sum?.packets || !sum.seconds) return { error: String(j['error'] ?? 'no result') };
  return { kpps: (sum.packets - (sum.lost_packets ?? 0)) / sum.seconds / 1000, lossPercent: sum.lost_percent ?? 0 };
}

export function formatThroughput(t: Throughput): string {
  return t.mbps !== undefined ? `${t.mbps.toFixed(0)} Mbit/s` : `(${t.error})`;
}

export function formatUdp(u: UdpResult): string {
  return u.kpps !== undefined ? `${u.kpps.toFixed(1)} kpps (loss ${u.lossPercent!.toFixed(1)} %)` : `(${u.error})`;
}

/** Rows of the bench table: metric, then one cell per stack, then the native column. */
export function benchRows(stacks: readonly StackResult[], native: Omit<StackResult, 'qualificationMs' | 'usage'>): string[][] {
  const rows: string[][] = [['', ...stacks.map((s) => s.label), native.label]];
  const reference = stacks.find((s) => s.label === REFERENCE);
  // "(1.20x)": this stack's value over the reference stack's, in the same run.
  const vs = (s: StackResult, get: (r: StackResult) => number | undefined): string => {
    const [mine, theirs] = [get(s), reference ? get(reference) : undefined];
    return s === reference || mine === undefined || !theirs ? '' : ` (${(mine / theirs).toFixed(2)}x)`;
  };
  const ms = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(2)} ms`);
  for (const site of NAT_SITES) {
    const q = (r: StackResult): number | undefined => numberOrUndefined(r.qualificationMs[site.client]);
    rows.push([`qualification behind ${site.nat} (${site.kind})`, ...stacks.map((s) => fmtMs(s.qualificationMs[site.client]) + vs(s, q)), '']);
  }
  rows.push([`ping6 RTT ${DATA_NODE} → host6 min/avg/max`, ...stacks.map((s) => `${formatRtt(s.ping)} (${s.ping.received}/${s.ping.sent})`), formatRtt(native.ping)]);
  rows.push(['ping6 RTT average', ...stacks.map((s) => ms(s.ping.rtt?.avg) + vs(s, (r) => r.ping.rtt?.avg)), ms(native.ping.rtt?.avg)]);
  rows.push(['ping6 RTT p50', ...stacks.map((s) => ms(s.ping.rtt?.p50) + vs(s, (r) => r.ping.rtt?.p50)), ms(native.ping.rtt?.p50)]);
  rows.push(['ping6 RTT p99', ...stacks.map((s) => ms(s.ping.rtt?.p99) + vs(s, (r) => r.ping.rtt?.p99)), ms(native.ping.rtt?.p99)]);
  rows.push(['TCP → host6 (iperf3)', ...stacks.map((s) => formatThroughput(s.tcpUp) + vs(s, (r) => r.tcpUp.mbps)), formatThroughput(native.tcpUp)]);
  rows.push(['TCP ← host6 (iperf3 -R)', ...stacks.map((s) => formatThroughput(s.tcpDown) + vs(s, (r) => r.tcpDown.mbps)), formatThroughput(native.tcpDown)]);
  rows.push(['UDP 64 B → host6, received', ...stacks.map((s) => formatUdp(s.udpSmall) + vs(s, (r) => r.udpSmall.kpps)), formatUdp(native.udpSmall)]);
  for (const role of ['server', 'relay', 'client']) {
    const key = (s: StackResult): string | undefined => Object.keys(s.usage).find((k) => k.startsWith(`${role}@`));
    rows.push([`CPU ${role} (data-plane tests)`, ...stacks.map((s) => fmtUsage(s.usage[key(s) ?? ''], (u) => `${(u.cpuMs / 1000).toFixed(2)} s`)), '']);
    rows.push([`peak RSS ${role}`, ...stacks.map((s) => fmtUsage(s.usage[key(s) ?? ''], (u) => `${(u.peakRssKiB / 1024).toFixed(1)} MiB`)), '']);
  }
  return rows;
}

function numberOrUndefined(v: number | string | undefined): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function fmtMs(v: number | string | undefined): string {
  return typeof v === 'number' ? `${v} ms` : (v ?? '-');
}

function fmtUsage(u: GroupUsage | undefined, f: (u: GroupUsage) => string): string {
  return u ? f(u) : '-';
}
