// RS -> RA benchmark: how many Router Solicitations per second one Teredo server process answers, ours
// (agents/teredo-server, Node) and miredo-server (Debian, C) side by side in the same lab, with the CPU time and
// memory of the server process. Numbers are printed, never asserted.
//
//   npm run build && node bench/teredo-server/run.mjs [--seconds 5] [--sockets 64] [--window 4] [--rate 20000]
//                                                    [--servers ours,miredo]
//
// Needs root and a C compiler. One lab (src/lab: namespaces `tl<xx>-*`, removed at the end, also if this
// process dies) is shared by both runs; the servers take turns in its `server` node (198.18.0.10 and .11).
// The load generator, rs-flood.c, runs in the `probe` node (198.18.0.30), directly on the inet4 bridge, so no
// NAT's connection tracking is in the path; each of its sockets (source ports) is one client.
//
// Two measurements per server:
//   closed loop: each socket keeps --window RSs outstanding and sends the next one when an RA arrives: the
//                rate the server sustains, with the machine's 2 cores shared by server and generator;
//   open loop:   --rate RSs per second whatever happens: CPU per RS and loss at one fixed load.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const dist = (rel) => join(root, 'dist', rel);
if (!existsSync(dist('src/lab/lab.js'))) {
  console.error('bench/teredo-server: run `npm run build` first');
  process.exit(2);
}
const { Lab } = await import(dist('src/lab/lab.js'));
const { groupUsage } = await import(dist('src/lab/processes.js'));
const { ADDR } = await import(dist('src/lab/topology.js'));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const SECONDS = Number(arg('seconds', '5'));
const SOCKETS = Number(arg('sockets', '64'));
const WINDOW = Number(arg('window', '4'));
const RATE = Number(arg('rate', '20000'));
const SERVERS = arg('servers', 'ours,miredo').split(',');

const work = mkdtempSync(join(tmpdir(), 'tsv-bench-'));
const flood = join(work, 'rs-flood');
execFileSync('cc', ['-O2', '-Wall', '-o', flood, join(here, 'rs-flood.c')], { stdio: 'inherit' });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs rs-flood in the probe node while sampling the server's process group; returns both. */
async function measure(lab, rec, floodArgs) {
  const before = groupUsage(rec.proc);
  const t0 = performance.now();
  const r = await lab.execOk('probe', [flood, '--server', ADDR.server, '--sockets', String(SOCKETS), '--seconds', String(SECONDS), ...floodArgs], { timeoutMs: (SECONDS + 30) * 1000 });
  const wallMs = performance.now() - t0;
  const after = groupUsage(rec.proc);
  return { load: JSON.parse(r.stdout), cpuPercent: (100 * (after.cpuMs - before.cpuMs)) / wallMs, rssKiB: after.rssKiB, peakRssKiB: after.peakRssKiB };
}

const results = [];
let lab;
try {
  lab = await Lab.up({ ownerPid: process.pid, log: (l) => console.error(l) });
  console.error(`lab ${lab.id} up; ${SECONDS} s per run, ${SOCKETS} client sockets, window ${WINDOW}, open-loop rate ${RATE}/s`);
  for (const impl of SERVERS) {
    const rec = await lab.startOccupant({ role: 'server', impl });
    try {
      const idle = groupUsage(rec.proc);
      await lab.execOk('probe', [flood, '--server', ADDR.server, '--sockets', String(SOCKETS), '--seconds', '1', '--window', String(WINDOW)]); // warm-up (JIT, caches)
      const closed = await measure(lab, rec, ['--window', String(WINDOW)]);
      await sleep(500);
      const open = await measure(lab, rec, ['--rate', String(RATE)]);
      results.push({ impl, idleRssKiB: idle.rssKiB, closed, open });
      console.error(`${impl}: ${JSON.stringify(results.at(-1))}`);
    } finally {
      await lab.stopOccupant(rec.key);
    }
  }
} finally {
  if (lab) await lab.down();
  rmSync(work, { recursive: true, force: true });
}

const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
const rows = [
  ['server', 'RA/s (closed loop)', 'server CPU', 'lost', `RA/s at ${RATE}/s offered`, 'server CPU', 'loss', 'µs CPU per RS', 'RSS idle', 'RSS after', 'peak RSS (one process)'],
  ...results.map(({ impl, idleRssKiB, closed, open }) => [
    impl,
    closed.load.answeredPerSec.toFixed(0),
    `${closed.cpuPercent.toFixed(0)}%`,
    String(closed.load.lost),
    open.load.answeredPerSec.toFixed(0),
    `${open.cpuPercent.toFixed(0)}%`,
    `${((100 * open.load.lost) / Math.max(1, open.load.sent)).toFixed(2)}%`,
    ((open.cpuPercent * 10_000) / Math.max(1, open.load.answeredPerSec)).toFixed(1),
    mib(idleRssKiB),
    mib(closed.rssKiB > open.rssKiB ? closed.rssKiB : open.rssKiB),
    mib(Math.max(closed.peakRssKiB, open.peakRssKiB)),
  ]),
];
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
console.log(`RS -> RA, ${SECONDS} s per run, ${SOCKETS} client sockets, load average ${loadavg()[0].toFixed(2)} after the runs`);
for (const r of rows) console.log(r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  '));
