#!/usr/bin/env node
// Where a ping's round trip goes: per Teredo hop and direction, the time a packet spends inside the client and
// inside the relay, from kernel capture timestamps (no instrumentation in the agents, so ours and Miredo's are
// measured alike). Printed, never asserted. Root; a running lab with a client on --node and a relay:
//
//   teredo-lab up --id ID --server ours --relay ours --clients ours   (or miredo in any role)
//   node bench/latency/run.mjs --lab ID [--node cli-prc] [--count 200] [--interval 0.01]
//
// tcpdump (-i any, LINUX_SLL2) runs in the client's node and in the relay's node while `ping -6` goes from the
// client node to host6. Each echo request / reply is seen twice in each node: as IPv6 on the TUN device and
// Teredo-encapsulated (IPv4/UDP) on the node's Ethernet side. Their capture times' difference is the packet's
// time in that agent: from the kernel handing it to the agent (TUN queued, UDP received) to the agent handing it
// back (UDP sent, TUN written). Everything else in the RTT (NATs, bridges, host6, ping itself) is "outside".

import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { benchArgs, printTable } from '../cli.mjs';

const HOST6 = '2001:db8:6::100'; // lab/topology.ts ADDR.host6
const ARPHRD_NONE = 0xfffe; // a TUN device in a LINUX_SLL2 header
const { arg, intArg } = benchArgs('bench/latency');
const lab = arg('lab');
if (!lab) {
  console.error('bench/latency: --lab ID is required (a running lab with a client and a relay)');
  process.exit(2);
}
const clientNode = arg('node', 'cli-prc');
const count = intArg('count', 200, 1);
const interval = arg('interval', '0.01');

/** Starts tcpdump in a node; resolves once it listens. */
function capture(node) {
  const file = `/tmp/hl-latency-${lab}-${node}.pcap`;
  const proc = spawn('ip', ['netns', 'exec', `${lab}-${node}`, 'tcpdump', '-i', 'any', '-y', 'LINUX_SLL2', '-U', '-n', '-s', '200', '-w', file, 'icmp6 or udp'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    proc.stderr.on('data', (d) => String(d).includes('listening on') && resolve({ proc, file }));
    proc.on('exit', (code) => reject(new Error(`tcpdump in ${node} exited (${code})`)));
  });
}

/** The IPv6 packet's offset in a Teredo UDP payload at `at` (RFC 4380 §5.1.1: auth, then origin indication). */
function teredoIpv6(b, at, end) {
  if (at + 2 <= end && b[at] === 0 && b[at + 1] === 1) at += 13 + b[at + 2] + b[at + 3];
  if (at + 2 <= end && b[at] === 0 && b[at + 1] === 0) at += 8;
  return at < end && b[at] >> 4 === 6 ? at : -1;
}

/** Capture time (µs) per ICMPv6 echo `type:seq`, as { tun, udp }: first sighting on the TUN and encapsulated. */
function sightings(file) {
  const b = readFileSync(file);
  const nano = b.readUInt32LE(0) === 0xa1b23c4d;
  const out = new Map();
  for (let at = 24; at + 16 <= b.length; ) {
    const t = b.readUInt32LE(at) * 1e6 + b.readUInt32LE(at + 4) / (nano ? 1000 : 1);
    const len = b.readUInt32LE(at + 8);
    const p = at + 16;
    at = p + len;
    const proto = b.readUInt16BE(p);
    const tun = b.readUInt16BE(p + 8) === ARPHRD_NONE;
    let ip6 = -1;
    let encapsulated = false;
    if (proto === 0x86dd) ip6 = p + 20;
    else if (proto === 0x0800 && b[p + 20 + 9] === 17) {
      encapsulated = true;
      ip6 = teredoIpv6(b, p + 20 + (b[p + 20] & 15) * 4 + 8, at);
    }
    if (ip6 < 0 || ip6 + 48 > at || b[ip6 + 6] !== 58) continue;
    const type = b[ip6 + 40];
    if (type !== 128 && type !== 129) continue;
    const key = `${type}:${b.readUInt16BE(ip6 + 46)}`;
    const seen = out.get(key) ?? {};
    if (tun && seen.tun === undefined) seen.tun = t;
    if (encapsulated && seen.udp === undefined) seen.udp = t;
    out.set(key, seen);
  }
  return out;
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (f) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(f * s.length) - 1))];
  return s.length === 0 ? ['-', '-', '-', '0'] : [(s.reduce((a, x) => a + x, 0) / s.length).toFixed(0), q(0.5).toFixed(0), q(0.99).toFixed(0), String(s.length)];
};

const load0 = loadavg()[0].toFixed(2);
const caps = [await capture(clientNode), await capture('relay')];
const ping = execFileSync('ip', ['netns', 'exec', `${lab}-${clientNode}`, 'ping', '-6', '-n', '-c', String(count), '-i', interval, '-W', '2', HOST6], { encoding: 'utf8' });
await new Promise((r) => setTimeout(r, 300));
for (const c of caps) c.proc.kill('SIGINT');
await Promise.all(caps.map((c) => new Promise((r) => c.proc.on('exit', r))));
const [cli, relay] = caps.map((c) => sightings(c.file));
for (const c of caps) rmSync(c.file, { force: true });

const rtts = [...ping.matchAll(/icmp_seq=(\d+) .* time=([\d.]+) ms/g)].map((m) => ({ seq: Number(m[1]), us: Number(m[2]) * 1000 }));
const hop = (map, type, seq) => {
  const s = map.get(`${type}:${seq}`);
  return s?.tun !== undefined && s.udp !== undefined ? Math.abs(s.udp - s.tun) : undefined;
};
const cols = { cliOut: [], relayIn: [], relayOut: [], cliIn: [], inside: [], outside: [], rtt: [] };
for (const { seq, us } of rtts) {
  const h = [hop(cli, 128, seq), hop(relay, 128, seq), hop(relay, 129, seq), hop(cli, 129, seq)];
  if (h.some((x) => x === undefined)) continue;
  const inside = h.reduce((a, x) => a + x, 0);
  [cols.cliOut, cols.relayIn, cols.relayOut, cols.cliIn].forEach((c, i) => c.push(h[i]));
  cols.inside.push(inside);
  cols.outside.push(us - inside);
  cols.rtt.push(us);
}
console.log(`bench/latency: lab ${lab}, ${rtts.length}/${count} replies from ${clientNode} to host6 every ${interval} s, load ${load0} at start, ${loadavg()[0].toFixed(2)} at end; µs`);
printTable([
  ['', 'avg', 'p50', 'p99', 'packets'],
  ['client: echo request TUN -> UDP', ...stats(cols.cliOut)],
  ['relay: echo request UDP -> TUN', ...stats(cols.relayIn)],
  ['relay: echo reply TUN -> UDP', ...stats(cols.relayOut)],
  ['client: echo reply UDP -> TUN', ...stats(cols.cliIn)],
  ['inside the two agents', ...stats(cols.inside)],
  ['outside (kernel, NATs, host6)', ...stats(cols.outside)],
  ['round trip (ping)', ...stats(cols.rtt)],
]);
