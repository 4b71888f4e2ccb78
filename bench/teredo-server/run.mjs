// RS -> RA benchmark: how many Router Solicitations per second one Teredo server process answers, ours
// (agents/teredo-server, Node) with its two UDP socket implementations and miredo-server (Debian, C) side by
// side in the same lab, with the CPU time and memory of the server process and the RS -> RA round trip.
// Numbers are printed, never asserted.
//
//   npm run build && node bench/teredo-server/run.mjs [--seconds 5] [--sockets 64] [--window 4] [--rate 20000]
//        [--light-rate 1000] [--servers ours,ours-dgram,miredo] [--receive-buffer BYTES] [--rounds 1]
//        [--bridge-netfilter off|on] [--threads N]
//
//   ours        teredo-server with its default, the addon's batched sockets (recvmmsg / sendmmsg, DF clear)
//   ours-dgram  the same with --udp-sockets dgram (node:dgram: one system call and one callback per datagram)
//   miredo      Debian's miredo-server, through the lab's occupant
//
// Needs root and a C compiler. One lab (lab/: namespaces `tl<xx>-*`, removed at the end, also if this
// process dies) is shared by all runs; the servers take turns in its `server` node (198.18.0.10 and .11).
// Ours is started here rather than through the lab occupant so the socket flags can vary, and without the
// occupant's TUN device, which the RS -> RA path never touches. The load generator, rs-flood.c, runs in the
// `probe` node (198.18.0.30), directly on the inet4 bridge, so no NAT's connection tracking is in the path;
// each of its sockets (source ports) is one client. --rounds N repeats the whole set, servers interleaved, so
// a change in the machine's load hits every server alike.
//
// --threads N (default: 2, or 1 on a 1-core machine) runs the generator's sockets on N threads (rs-flood.c): one
// thread costs about 5 µs of CPU per RS and would cap the closed loop near 200 000 RS/s, below what our server
// answers on a core; with one per core the closed loop is bounded by server and generator together, the
// scheduler sharing the cores among them, the same for every server. `--threads 1` is the generator before
// December 2026.
//
// --bridge-netfilter off (default) turns off the inet4 switch's bridge netfilter hooks in the lab's switch
// namespace (net.bridge.bridge-nf-call-*; br_netfilter is built into this kernel and on in every new namespace,
// with no rule there to apply): every bridged packet would otherwise go through the iptables hooks, ~28 % of the
// generator's CPU and part of each server's, since the kernel carries an RA across veth and bridge into the
// generator's socket inside the server's sendmmsg. A physical switch costs the server's host nothing; the
// setting is the same for every server. `on` keeps the kernel's default (the numbers before December 2026).
//
// Three measurements per server:
//   closed loop: each socket keeps --window RSs outstanding and sends the next one when an RA arrives: the
//                rate the server sustains, with the machine's 2 cores shared by server and generator;
//   open loop:   --rate RSs per second whatever happens: CPU per RS and loss at one fixed load;
//   light load:  --light-rate RSs per second: the RS -> RA round trip when nothing queues (what a client's
//                qualification sees).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const dist = (rel) => join(root, 'dist', rel);
if (!existsSync(dist('lab/lab.js'))) {
  console.error('bench/teredo-server: run `npm run build` first');
  process.exit(2);
}
const { Lab } = await import(dist('lab/lab.js'));
const { groupUsage, procId, stopGroup } = await import(dist('lab/processes.js'));
const { ADDR } = await import(dist('lab/topology.js'));
const { agentArgv } = await import(dist('lab/paths.js'));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const SECONDS = Number(arg('seconds', '5'));
const SOCKETS = Number(arg('sockets', '64'));
const WINDOW = Number(arg('window', '4'));
const RATE = Number(arg('rate', '20000'));
const LIGHT_RATE = Number(arg('light-rate', '1000'));
const SERVERS = arg('servers', 'ours,ours-dgram,miredo').split(',');
const RECEIVE_BUFFER = arg('receive-buffer', undefined);
const ROUNDS = Number(arg('rounds', '1'));
const BRIDGE_NETFILTER = arg('bridge-netfilter', 'off');
const THREADS = Number(arg('threads', String(Math.min(2, availableParallelism()))));
const OURS = { ours: 'native', 'ours-dgram': 'dgram' };
if (BRIDGE_NETFILTER !== 'on' && BRIDGE_NETFILTER !== 'off') {
  console.error('bench/teredo-server: --bridge-netfilter on|off');
  process.exit(2);
}
for (const s of SERVERS) {
  if (s !== 'miredo' && !(s in OURS)) {
    console.error(`bench/teredo-server: unknown server ${s} (ours, ours-dgram, miredo)`);
    process.exit(2);
  }
}

const work = mkdtempSync(join(tmpdir(), 'tsv-bench-'));
const flood = join(work, 'rs-flood');
execFileSync('cc', ['-O2', '-Wall', '-pthread', '-o', flood, join(here, 'rs-flood.c')], { stdio: 'inherit' });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs rs-flood in the probe node while sampling the server's process group; returns both. */
async function measure(lab, server, floodArgs) {
  const before = groupUsage(server.proc);
  const t0 = performance.now();
  const r = await lab.execOk('probe', [flood, '--server', ADDR.server, '--sockets', String(SOCKETS), '--threads', String(THREADS), '--seconds', String(SECONDS), ...floodArgs], { timeoutMs: (SECONDS + 30) * 1000 });
  const wallMs = performance.now() - t0;
  const after = groupUsage(server.proc);
  return { load: JSON.parse(r.stdout), cpuPercent: (100 * (after.cpuMs - before.cpuMs)) / wallMs, rssKiB: after.rssKiB, peakRssKiB: after.peakRssKiB };
}

/** Starts our server in the server node as its own process group; resolves once it logs "serving". */
async function startOurs(lab, sockets) {
  // agentArgv: the V8 flags of the bin's shebang, as a user's `teredo-server` runs.
  const argv = [...agentArgv('agents/teredo-server/main.js'), '--address', ADDR.server, '--secondary-address', ADDR.server2,
    '--stats-interval', '0', '--udp-sockets', sockets, ...(RECEIVE_BUFFER ? ['--udp-receive-buffer', RECEIVE_BUFFER] : [])];
  const child = lab.spawn('server', argv, { detached: true });
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`teredo-server did not start:\n${out}`)), 15_000);
    const onData = (b) => {
      out += b.toString();
      if (out.includes('"msg":"serving"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`teredo-server exited ${code}:\n${out}`)));
  });
  child.stdout.resume();
  child.stderr.resume();
  const proc = procId(child.pid);
  return { proc, stop: () => stopGroup(proc) };
}

async function startServer(lab, impl) {
  if (impl in OURS) return startOurs(lab, OURS[impl]);
  const rec = await lab.startOccupant({ role: 'server', impl });
  return { proc: rec.proc, stop: () => lab.stopOccupant(rec.key) };
}

const results = [];
let lab;
try {
  lab = await Lab.up({ ownerPid: process.pid, log: (l) => console.error(l) });
  if (BRIDGE_NETFILTER === 'off') {
    const keys = ['iptables', 'ip6tables', 'arptables'].map((t) => `net.bridge.bridge-nf-call-${t}=0`);
    await lab.execOk('sw-inet4', ['sysctl', '-q', '-w', ...keys]);
  }
  console.error(`lab ${lab.id} up; ${SECONDS} s per run, ${SOCKETS} client sockets, window ${WINDOW}, open-loop rate ${RATE}/s, light ${LIGHT_RATE}/s, ${ROUNDS} round(s), bridge netfilter ${BRIDGE_NETFILTER}, ${THREADS} generator thread(s)`);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const impl of SERVERS) {
      const server = await startServer(lab, impl);
      try {
        const idle = groupUsage(server.proc);
        await lab.execOk('probe', [flood, '--server', ADDR.server, '--sockets', String(SOCKETS), '--threads', String(THREADS), '--seconds', '1', '--window', String(WINDOW)]); // warm-up (JIT, caches)
        const closed = await measure(lab, server, ['--window', String(WINDOW)]);
        await sleep(500);
        const open = await measure(lab, server, ['--rate', String(RATE)]);
        await sleep(500);
        const light = await measure(lab, server, ['--rate', String(LIGHT_RATE)]);
        results.push({ impl, round, load: loadavg()[0], idleRssKiB: idle.rssKiB, closed, open, light });
        console.error(`${impl}: ${JSON.stringify(results.at(-1))}`);
      } finally {
        await server.stop();
      }
    }
  }
} finally {
  if (lab) await lab.down();
  rmSync(work, { recursive: true, force: true });
}

const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
const cpuPerRs = (m) => ((m.cpuPercent * 10_000) / Math.max(1, m.load.answeredPerSec)).toFixed(1);
const rtt = (m) => `${m.load.rttUs.p50}/${m.load.rttUs.p99}`;
const rows = [
  ['server', 'round', 'load', 'RA/s (closed loop)', 'server CPU', 'µs CPU per RS', 'generator CPU', 'lost', `RA/s at ${RATE}/s offered`, 'server CPU', 'loss', 'µs CPU per RS', `RTT µs p50/p99 at ${RATE}/s`,
    `µs CPU per RS at ${LIGHT_RATE}/s`, `RTT µs p50/p99 at ${LIGHT_RATE}/s`, 'RSS idle', 'RSS after', 'peak RSS (one process)'],
  ...results.map(({ impl, round, load, idleRssKiB, closed, open, light }) => [
    impl,
    String(round),
    load.toFixed(1),
    closed.load.answeredPerSec.toFixed(0),
    `${closed.cpuPercent.toFixed(0)}%`,
    cpuPerRs(closed),
    `${(closed.load.cpuUs / (closed.load.seconds * 10_000)).toFixed(0)}%`,
    String(closed.load.lost),
    open.load.answeredPerSec.toFixed(0),
    `${open.cpuPercent.toFixed(0)}%`,
    `${((100 * open.load.lost) / Math.max(1, open.load.sent)).toFixed(2)}%`,
    cpuPerRs(open),
    rtt(open),
    cpuPerRs(light),
    rtt(light),
    mib(idleRssKiB),
    mib(Math.max(closed.rssKiB, open.rssKiB, light.rssKiB)),
    mib(Math.max(closed.peakRssKiB, open.peakRssKiB, light.peakRssKiB)),
  ]),
];
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
console.log(`RS -> RA, ${SECONDS} s per run, ${SOCKETS} client sockets, window ${WINDOW}, ${THREADS} generator thread(s), bridge netfilter ${BRIDGE_NETFILTER}, load average ${loadavg()[0].toFixed(2)} after the runs (load column: 1-minute average after each server's runs)`);
for (const r of rows) console.log(r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  '));

// Ours against miredo round by round (the two ran back to back in one round), then the median over the rounds.
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[Math.floor((s.length - 1) / 2)] + s[Math.floor(s.length / 2)]) / 2;
};
for (const impl of SERVERS.filter((s) => s !== 'miredo' && SERVERS.includes('miredo'))) {
  const pairs = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const o = results.find((r) => r.impl === impl && r.round === round);
    const m = results.find((r) => r.impl === 'miredo' && r.round === round);
    if (o && m) pairs.push({ rate: o.closed.load.answeredPerSec / Math.max(1, m.closed.load.answeredPerSec), cpu: Number(cpuPerRs(m.closed)) / Math.max(0.1, Number(cpuPerRs(o.closed))) });
  }
  if (pairs.length === 0) continue;
  const list = (k) => pairs.map((p) => p[k].toFixed(2)).join(' ');
  console.log(`${impl} / miredo, closed loop: RA/s ${list('rate')} (median ${median(pairs.map((p) => p.rate)).toFixed(2)}x); ` +
    `CPU per RS, miredo's over ours: ${list('cpu')} (median ${median(pairs.map((p) => p.cpu)).toFixed(2)}x)`);
}
