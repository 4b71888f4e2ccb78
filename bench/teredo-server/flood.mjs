// Hostile-flood benchmark: how fast a Teredo server disposes of junk, whether its memory grows, and whether the
// clients it serves are still answered while it happens. Ours (agents/teredo-server, through the lab occupant)
// and miredo-server (Debian, C) take turns in the same lab. Numbers are printed, never asserted.
//
//   npm run build && node bench/teredo-server/flood.mjs [--count 1000000] [--rate 100000] [--legit-rate 200]
//        [--warm-up 50000] [--servers ours,miredo] [--rounds 1] [--seed 1]
//
// The generator, hostile-flood.c, runs in the lab's `probe` node (198.18.0.30, directly on the inet4 bridge, no
// NAT in the path) and sends --count datagrams at --rate per second (0: as fast as it can) to 198.18.0.10:3544
// (one in 8 to .11), a seeded mix of random bytes, truncations, auth headers with wild lengths, headers in the
// wrong order, lying IPv6 payload lengths, bubbles to special IPv4s, echoes to non-global IPv6 and spoofed
// sources (its header comment has the list and weights), while valid Router Solicitations go out at
// --legit-rate from sockets of their own and their Router Advertisements are counted.
//
// Per server: start it, send --warm-up datagrams (JIT, allocator pools; a different seed), wait a second, then:
//   processed/s  datagrams the server's sockets took in, per second: the kernel's UDP InDatagrams counter of
//                the server's network namespace (/proc/<pid>/net/snmp; counted when the application reads a
//                datagram, so it is the same measure for both servers) over the time from the generator's start
//                to the counter's last change (the backlog drained). Capped by the offered rate: a server that
//                keeps up shows the offered rate and no kernel drops; to compare capacity, offer more than both
//                take (--rate 0) and read processed/s and µs CPU per datagram.
//   kernel drops RcvbufErrors: datagrams the kernel discarded because the server's receive buffer was full.
//   counters     ours only: the same datagrams as its own `teredo-server status --json` counts them (drops by
//                reason + RSs answered + forwards), a cross-check of the kernel number, and how many it forwarded
//                (every datagram of the mix must be dropped: 0); the drop reasons seen are printed below the table.
//   CPU          CPU time of the server's process group over the same window, per processed datagram.
//   RSS          resident set of the process group when idle, after the warm-up (before) and after the flood;
//                growth = after - before.
//   legit        RSs answered within 1 s (%), and their RS -> RA round trip p50/p99 in µs.
// --rounds N repeats the set with the order of the servers reversed every other round, so a change in the
// machine's load (2 shared cores) hits both alike; the load column is the 1-minute load average then.
//
// Needs root and a C compiler. One lab (namespaces `tl<xx>-*`, removed at the end, also if this process dies).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs, printTable } from '../cli.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const dist = (rel) => join(root, 'dist', rel);
if (!existsSync(dist('lab/lab.js'))) {
  console.error('bench/teredo-server/flood: run `npm run build` first');
  process.exit(2);
}
const { Lab } = await import(dist('lab/lab.js'));
const { groupUsage } = await import(dist('lab/processes.js'));
const { ADDR } = await import(dist('lab/topology.js'));
const { teredoServerStatus } = await import(dist('lab/occupants/teredo-server-ours.js'));

const { arg, intArg } = benchArgs('bench/teredo-server/flood');
const COUNT = intArg('count', '1000000', 1);
const RATE = intArg('rate', '100000', 0);
const LEGIT_RATE = intArg('legit-rate', '200', 0);
const WARM_UP = intArg('warm-up', '50000', 0);
const ROUNDS = intArg('rounds', '1', 1);
const SEED = intArg('seed', '1', 1);
const SERVERS = arg('servers', 'ours,miredo').split(',');
for (const s of SERVERS) {
  if (s !== 'ours' && s !== 'miredo') {
    console.error(`bench/teredo-server/flood: unknown server ${s} (ours, miredo)`);
    process.exit(2);
  }
}

const work = mkdtempSync(join(tmpdir(), 'tsv-flood-'));
const generator = join(work, 'hostile-flood');
execFileSync('cc', ['-O2', '-Wall', '-o', generator, join(here, 'hostile-flood.c')], { stdio: 'inherit' });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The Udp: line pair of /proc/<pid>/net/snmp (the server's namespace) as { InDatagrams, RcvbufErrors, ... }. */
function udpCounters(pid) {
  const lines = readFileSync(`/proc/${pid}/net/snmp`, 'utf8').split('\n').filter((l) => l.startsWith('Udp: '));
  const names = lines[0].split(/\s+/).slice(1);
  const values = lines[1].split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}

const sum = (o) => Object.values(o ?? {}).reduce((a, b) => a + b, 0);

/** Datagrams our server accounted for: every one is dropped (by reason), answered, or forwarded. */
function oursCounted(s) {
  if (!s) return undefined;
  return sum(s.drops) + sum(s.rsAnswered) + (s.forwarded?.teredo ?? 0) + (s.forwarded?.native ?? 0);
}

function flood(lab, count, seed) {
  const argv = [generator, '--server', ADDR.server, '--secondary', ADDR.server2, '--count', String(count), '--rate', String(RATE),
    '--legit-rate', String(LEGIT_RATE), '--seed', String(seed)];
  const seconds = RATE ? count / RATE : count / 50_000;
  return lab.execOk('probe', argv, { timeoutMs: (seconds * 3 + 30) * 1000 }).then((r) => JSON.parse(r.stdout));
}

async function measureOne(lab, impl) {
  const rec = await lab.startOccupant({ role: 'server', impl });
  const ctx = { exec: (argv, opts) => lab.exec('server', argv, opts) };
  const status = () => (impl === 'ours' ? teredoServerStatus(ctx) : Promise.resolve(undefined));
  try {
    await sleep(500);
    const idle = groupUsage(rec.proc);
    if (WARM_UP > 0) await flood(lab, WARM_UP, SEED + 1000);
    await sleep(1000);
    const before = { usage: groupUsage(rec.proc), udp: udpCounters(rec.proc.pid), status: await status(), t: performance.now() };
    // Sample InDatagrams to find when the server took its last datagram (the backlog may drain after the generator stops).
    let last = { t: before.t, v: before.udp.InDatagrams };
    const sampler = setInterval(() => {
      const v = udpCounters(rec.proc.pid).InDatagrams;
      if (v !== last.v) last = { t: performance.now(), v };
    }, 50);
    let load;
    try {
      load = await flood(lab, COUNT, SEED);
      while (performance.now() - last.t < 500) await sleep(50); // 500 ms without a new datagram: drained
    } finally {
      clearInterval(sampler);
    }
    const after = { usage: groupUsage(rec.proc), udp: udpCounters(rec.proc.pid), status: await status() };
    const windowSec = (last.t - before.t) / 1000;
    const processed = after.udp.InDatagrams - before.udp.InDatagrams;
    const cpuMs = after.usage.cpuMs - before.usage.cpuMs;
    const counted = oursCounted(after.status) === undefined ? undefined : oursCounted(after.status) - oursCounted(before.status);
    const fwd = (s) => (s?.forwarded?.teredo ?? 0) + (s?.forwarded?.native ?? 0);
    const forwarded = after.status ? fwd(after.status) - fwd(before.status) : undefined;
    const drops = {};
    for (const [k, v] of Object.entries(after.status?.drops ?? {})) if (v - (before.status?.drops?.[k] ?? 0) > 0) drops[k] = v - (before.status?.drops?.[k] ?? 0);
    return {
      impl,
      load: loadavg()[0],
      offeredPerSec: load.sentPerSec,
      processed,
      processedPerSec: processed / windowSec,
      kernelDrops: after.udp.RcvbufErrors - before.udp.RcvbufErrors,
      counted,
      forwarded,
      cpuPercent: (100 * cpuMs) / (windowSec * 1000),
      cpuUsPerDatagram: (cpuMs * 1000) / Math.max(1, processed),
      rssKiB: { idle: idle.rssKiB, before: before.usage.rssKiB, after: after.usage.rssKiB, peak: after.usage.peakRssKiB },
      legit: load.legit,
      junkReplies: load.junkReplies,
      byKind: load.byKind,
      drops,
    };
  } finally {
    await lab.stopOccupant(rec.key);
  }
}

const results = [];
let lab;
const startLoad = loadavg()[0];
try {
  lab = await Lab.up({ ownerPid: process.pid, log: (l) => console.error(l) });
  console.error(`lab ${lab.id} up; ${COUNT} datagrams at ${RATE || 'max'}/s, legit RS ${LEGIT_RATE}/s, warm-up ${WARM_UP}, ${ROUNDS} round(s)`);
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? SERVERS : [...SERVERS].reverse();
    for (const impl of order) {
      const r = { round, ...(await measureOne(lab, impl)) };
      results.push(r);
      console.error(`${impl}: ${JSON.stringify(r)}`);
    }
  }
} finally {
  if (lab) await lab.down();
  rmSync(work, { recursive: true, force: true });
}

const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
const rows = [
  ['server', 'round', 'load', 'offered/s', 'processed/s', 'kernel drops', 'counted (ours)', 'forwarded (ours)', 'server CPU', 'µs CPU/datagram',
    'RSS idle', 'RSS before', 'RSS after', 'growth', 'legit RS answered', 'legit RTT µs p50/p99', 'junk replies'],
  ...results.map((r) => [
    r.impl,
    String(r.round),
    r.load.toFixed(1),
    r.offeredPerSec.toFixed(0),
    r.processedPerSec.toFixed(0),
    String(r.kernelDrops),
    r.counted === undefined ? '-' : String(r.counted),
    r.forwarded === undefined ? '-' : String(r.forwarded),
    `${r.cpuPercent.toFixed(0)}%`,
    r.cpuUsPerDatagram.toFixed(2),
    mib(r.rssKiB.idle),
    mib(r.rssKiB.before),
    mib(r.rssKiB.after),
    mib(r.rssKiB.after - r.rssKiB.before),
    `${r.legit.answeredPercent.toFixed(1)}% of ${r.legit.sent}`,
    `${r.legit.rttUs.p50}/${r.legit.rttUs.p99}`,
    String(r.junkReplies),
  ]),
];
console.log(`Hostile flood: ${COUNT} datagrams at ${RATE || 'max'}/s offered, legit RS at ${LEGIT_RATE}/s, seed ${SEED}; load average ${startLoad.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end`);
printTable(rows);
const mix = results[0]?.byKind;
if (mix) console.log(`mix (datagrams per kind, first run): ${Object.entries(mix).map(([k, v]) => `${k} ${v}`).join(', ')}`);
for (const r of results.filter((x) => Object.keys(x.drops).length)) {
  console.log(`drop reasons, ${r.impl} round ${r.round}: ${Object.entries(r.drops).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
}
