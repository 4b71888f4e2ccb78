// TUN I/O benchmark: pushes 64-byte packets TUN -> UDP and UDP -> TUN through each candidate and prints
// packets/s and CPU side by side (docs/performance.md "TUN and raw ICMPv6: the measured choice" records a run).
//
//   npm run build && npm --prefix bench/tun ci && node bench/tun/run.mjs [--seconds 3] [--runs 3]
//
// Needs root. Everything happens inside the namespace `tiobench`, deleted at the end (also on failure/^C):
//
//   gen (C, sendmmsg) ──IPv6 UDP──► route fd00:7469:bb::/64 ──► TUN tiobt0 ──► candidate ──UDP──► 10.74.0.2
//                                                     (veth tiobv0 -> tiobv1, which has no address: dropped)
//   gen (C) ──UDP 127.0.0.1──► candidate ──write──► TUN tiobt0 ──► kernel: fd00:7469:cc::/64 is a blackhole
//
// TUN -> UDP: the generator first fills the device's queue (txqueuelen raised to FILL) while the candidate
// waits, then the candidate drains it alone: no generator competes for the 2 cores, the number is the
// candidate's own rate. UDP -> TUN needs a live generator (a UDP socket buffer holds few packets), so that
// direction runs the generator flat out on one core and measures a window; "offered" shows its rate.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const NS = 'tiobench';
const TUN = 'tiobt0';
const PORT = 47469;
const FILL = 200_000;
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg('seconds', 3);
const RUNS = arg('runs', 3);

const TUN_TO_UDP = ['fs-read', 'read-stream', 'koffi', 'worker', 'addon-1', 'addon-64', 'c'];
const UDP_TO_TUN = ['fs-write', 'fs-write-sync', 'koffi', 'addon', 'c'];

const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });

function setup() {
  teardown();
  ip('netns', 'add', NS);
  ip('-n', NS, 'link', 'set', 'lo', 'up');
  ip('-n', NS, 'tuntap', 'add', 'dev', TUN, 'mode', 'tun'); // persistent: config survives candidates
  ip('-n', NS, 'link', 'set', TUN, 'txqueuelen', String(FILL));
  ip('-n', NS, 'addr', 'add', 'fd00:7469:b::1/64', 'dev', TUN, 'nodad');
  ip('-n', NS, 'link', 'set', TUN, 'up');
  ip('-n', NS, 'route', 'add', 'fd00:7469:bb::/64', 'dev', TUN);
  ip('-n', NS, 'route', 'add', 'blackhole', 'fd00:7469:cc::/64');
  // UDP sink: a veth pair with a permanent neighbour entry; the peer end has no address, so it drops.
  ip('-n', NS, 'link', 'add', 'tiobv0', 'type', 'veth', 'peer', 'name', 'tiobv1');
  ip('-n', NS, 'link', 'set', 'tiobv1', 'address', '02:00:00:74:69:02');
  ip('-n', NS, 'addr', 'add', '10.74.0.1/24', 'dev', 'tiobv0');
  ip('-n', NS, 'link', 'set', 'tiobv0', 'up');
  ip('-n', NS, 'link', 'set', 'tiobv1', 'up');
  ip('-n', NS, 'neigh', 'add', '10.74.0.2', 'lladdr', '02:00:00:74:69:02', 'dev', 'tiobv0', 'nud', 'permanent');
}

function teardown() {
  try {
    ip('netns', 'del', NS);
  } catch {
    // not there
  }
}

/** Spawns `cmd` inside the namespace (ip netns exec execs it: the child's pid is the program's). */
function inNetns(cmd, args) {
  return spawn('ip', ['netns', 'exec', NS, cmd, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
}

function lines(child, onLine) {
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}

async function once(direction, candidate, bins) {
  const cand = candidate === 'c'
    ? inNetns(bins.ceiling, [direction, TUN, String(SECONDS), String(PORT)])
    : inNetns(process.execPath, [join(here, 'candidate.mjs'), candidate, direction, TUN, String(SECONDS), String(PORT)]);
  let gen;
  let offered = 0;
  try {
    const result = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${candidate} ${direction}: no result`)), 120_000);
      cand.on('exit', (code) => code !== 0 && reject(new Error(`${candidate} ${direction} exited with ${code}`)));
      lines(cand, (line) => {
        if (line === 'ready' && direction === 'tun2udp') {
          gen = inNetns(bins.gen, ['6', 'fd00:7469:bb::2', '9', '60', String(FILL)]);
          gen.on('exit', () => cand.stdin.write('go\n'));
        } else if (line === 'ready') {
          gen = inNetns(bins.gen, ['4', '127.0.0.1', String(PORT), String(SECONDS + 3)]);
          lines(gen, (sent) => (offered = Number(sent) / (SECONDS + 3)));
        } else if (line.startsWith('{')) {
          clearTimeout(timer);
          resolve(JSON.parse(line));
        }
      });
    });
    if (gen && gen.exitCode === null) await new Promise((resolve) => gen.on('exit', resolve));
    return { pps: result.packets / result.seconds, cpu: result.cpu, offered, packets: result.packets };
  } finally {
    if (cand.exitCode === null) cand.kill();
    if (gen && gen.exitCode === null) gen.kill();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const k = (pps) => `${(pps / 1000).toFixed(0)}k`.padStart(6);

async function main() {
  if (process.getuid?.() !== 0) throw new Error('run as root (namespaces, TUN)');
  if (!existsSync(join(root, 'dist/src/io/tun-linux.js'))) throw new Error('run `npm run build` first (addon candidates use dist/)');
  if (!existsSync(join(here, 'node_modules/koffi'))) throw new Error('run `npm --prefix bench/tun ci` first');
  const tmp = mkdtempSync(join(tmpdir(), 'tio-bench-'));
  const bins = { gen: join(tmp, 'gen'), ceiling: join(tmp, 'ceiling') };
  execFileSync('cc', ['-O2', '-o', bins.gen, join(here, 'gen.c')]);
  execFileSync('cc', ['-O2', '-o', bins.ceiling, join(here, 'ceiling.c')]);
  const stop = () => {
    teardown();
    process.exit(130);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    setup();
    console.log(`64-byte IPv6 packets; median of ${RUNS} runs; cpu = % of one core, all threads of the candidate`);
    console.log(`load average at start: ${loadavg().map((x) => x.toFixed(1)).join(' ')} (other work on the machine skews results)`);
    for (const [direction, candidates] of [['tun2udp', TUN_TO_UDP], ['udp2tun', UDP_TO_TUN]]) {
      const title = direction === 'tun2udp' ? `TUN -> UDP (drain ${FILL} queued packets)` : `UDP -> TUN (${SECONDS} s window)`;
      const extra = direction === 'tun2udp' ? 'drained' : 'offered';
      console.log(`\n${title}\n| candidate      | packets/s | cpu % | cpu µs/packet | ${extra} |`);
      console.log('| -------------- | --------- | ----- | ------------- | ------- |');
      for (const candidate of candidates) {
        const runs = [];
        for (let r = 0; r < RUNS; r++) runs.push(await once(direction, candidate, bins));
        const pps = median(runs.map((x) => x.pps));
        const cpu = median(runs.map((x) => x.cpu));
        const last = direction === 'tun2udp' ? k(median(runs.map((x) => x.packets))) : k(median(runs.map((x) => x.offered)));
        const usPerPacket = (cpu / 100 / pps) * 1e6;
        console.log(`| ${candidate.padEnd(14)} | ${k(pps).padStart(9)} | ${cpu.toFixed(0).padStart(5)} | ${usPerPacket.toFixed(2).padStart(13)} | ${last.padStart(7)} |`);
      }
    }
  } finally {
    teardown();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
