// RA sender benchmark: ours (agents/ra-sender, Node) and Debian's radvd (C) side by side in the lab's lan6,
// with the same radvd.conf (ours reads it with --radvd-conf). Numbers are printed, never asserted.
//
//   npm run build && node bench/ra-sender/run.mjs [--seconds 5] [--rate 1000] [--senders radvd,ours,ours-unbounded]
//
//   radvd           radvd -n with the lab's radvd.conf (MinRtrAdvInterval 3, MaxRtrAdvInterval 10, one /64)
//   ours            ra-sender --radvd-conf (same file): unicast answers bounded at 100/s (the default)
//   ours-unbounded  the same with --max-unicast-rate 1000000: what the Node process sustains answering each RS
//
// Per sender: the time from start to h6a's SLAAC address (a fresh host: addresses and RA routes flushed), the
// sender's RSS, then an RS flood from h6b (rs-flood6.c: AF_PACKET, random fe80:: sources, each RS with an
// SLLAO) at --rate RS/s (the 1000/s) and at full speed (--rate 0), for --seconds each. Counted by
// nftables on the ra node: RSs the kernel received, RAs sent by unicast and to ff02::1 (the multicast rate must
// not rise), and the sender's CPU time per RS from /proc (utime + stime of its process group).
//
// Needs root and a C compiler. One lab (namespaces `tl<xx>-*`) is brought up and removed at the end.

import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const dist = (rel) => join(root, 'dist', rel);
if (!existsSync(dist('agents/ra-sender/main.js'))) {
  console.error('bench/ra-sender: run `npm run build` first');
  process.exit(2);
}
const { Lab } = await import(dist('lab/lab.js'));
const { groupUsage, procId, stopGroup } = await import(dist('lab/processes.js'));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const SECONDS = Number(arg('seconds', '5'));
const RATE = Number(arg('rate', '1000'));
const SENDERS = arg('senders', 'radvd,ours,ours-unbounded').split(',');

const work = mkdtempSync(join(tmpdir(), 'ra-bench-'));
chmodSync(work, 0o755);
const flood = join(work, 'rs-flood6');
execFileSync('cc', ['-O2', '-Wall', '-o', flood, join(here, 'rs-flood6.c')], { stdio: 'inherit' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const NFT = `table inet rabench {
  chain in { type filter hook input priority 0; icmpv6 type nd-router-solicit counter; }
  chain out { type filter hook output priority 0; icmpv6 type nd-router-advert ip6 daddr ff02::1 counter; icmpv6 type nd-router-advert ip6 daddr != ff02::1 counter; }
}`;

/** [RS in, multicast RA out, unicast RA out] from the ra node's nftables counters. */
async function counters(lab) {
  const r = await lab.execOk('ra', ['nft', '-j', 'list', 'table', 'inet', 'rabench']);
  const rules = JSON.parse(r.stdout).nftables.filter((x) => x.rule).map((x) => x.rule.expr.find((e) => e.counter).counter.packets);
  return { rsIn: rules[0], raMulticast: rules[1], raUnicast: rules[2] };
}

async function startSender(lab, impl, conf) {
  const argv = impl === 'radvd'
    ? ['radvd', '-n', '-m', 'stderr', '-C', conf, '-p', join(work, 'radvd.pid')]
    : [process.execPath, dist('agents/ra-sender/main.js'), '--radvd-conf', conf, '--log-level', 'warn', ...(impl === 'ours-unbounded' ? ['--max-unicast-rate', '1000000'] : [])];
  const child = lab.spawn('ra', argv, { detached: true });
  child.stdout.resume();
  child.stderr.resume();
  const proc = procId(child.pid);
  return { proc, stop: () => stopGroup(proc, 15_000) };
}

async function slaac(lab, ifname) {
  const r = await lab.exec('h6a', ['ip', '-6', '-o', 'addr', 'show', 'dev', ifname, 'scope', 'global', 'dynamic']);
  return r.stdout.includes('2001:db8:66:');
}

async function floodRun(lab, sender, rate) {
  const c0 = await counters(lab);
  const u0 = groupUsage(sender.proc);
  const t0 = performance.now();
  const r = await lab.execOk('h6b', [flood, '--interface', lab.iface('h6b', 'lan6'), '--rate', String(rate), '--seconds', String(SECONDS)], { timeoutMs: (SECONDS + 30) * 1000 });
  await sleep(300); // answers still in flight
  const wallMs = performance.now() - t0;
  const u1 = groupUsage(sender.proc);
  const c1 = await counters(lab);
  // Rates over the flood's own duration (the answers still in flight are counted in).
  const flooded = JSON.parse(r.stdout);
  const sec = flooded.seconds;
  const rsIn = c1.rsIn - c0.rsIn;
  const cpuMs = u1.cpuMs - u0.cpuMs;
  return {
    offeredPerSec: flooded.sentPerSec,
    rsInPerSec: rsIn / sec,
    unicastRaPerSec: (c1.raUnicast - c0.raUnicast) / sec,
    multicastRas: c1.raMulticast - c0.raMulticast,
    cpuPercent: (100 * cpuMs) / wallMs,
    cpuUsPerRs: (1000 * cpuMs) / Math.max(1, rsIn),
    rssKiB: u1.rssKiB,
  };
}

const results = [];
let lab;
try {
  lab = await Lab.up({ ownerPid: process.pid, log: (l) => console.error(l) });
  await lab.execOk('ra', ['nft', '-f', '-'], { input: NFT });
  const raIf = lab.iface('ra', 'lan6');
  const h6a = lab.iface('h6a', 'lan6');
  const conf = join(work, 'radvd.conf');
  writeFileSync(conf, `interface ${raIf} {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 10;\n  prefix 2001:db8:66::/64 { };\n};\n`, { mode: 0o644 });
  console.error(`lab ${lab.id} up; floods of ${SECONDS} s at ${RATE} RS/s and at full speed`);
  for (const impl of SENDERS) {
    await lab.execOk('h6a', ['ip', '-6', 'addr', 'flush', 'dev', h6a, 'scope', 'global']);
    await lab.execOk('h6a', ['ip', '-6', 'route', 'flush', 'dev', h6a, 'proto', 'ra']);
    const t0 = performance.now();
    const sender = await startSender(lab, impl, conf);
    try {
      while (!(await slaac(lab, h6a))) {
        if (performance.now() - t0 > 30_000) throw new Error(`${impl}: no SLAAC address on h6a after 30 s`);
        await sleep(10);
      }
      const toSlaacMs = performance.now() - t0;
      await sleep(1000);
      const idleRssKiB = groupUsage(sender.proc).rssKiB;
      const atRate = await floodRun(lab, sender, RATE);
      await sleep(1000);
      const full = await floodRun(lab, sender, 0);
      results.push({ impl, toSlaacMs, idleRssKiB, atRate, full, load: loadavg()[0] });
      console.error(`${impl}: ${JSON.stringify(results.at(-1))}`);
    } finally {
      await sender.stop();
    }
  }
} finally {
  if (lab) await lab.down();
  rmSync(work, { recursive: true, force: true });
}

const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
const rows = [
  ['sender', 'start -> SLAAC', 'RSS idle', `RS/s in (${RATE} offered)`, 'unicast RA/s', 'multicast RAs', 'CPU', 'µs CPU/RS', 'RS/s in (full speed)', 'unicast RA/s', 'multicast RAs', 'CPU', 'µs CPU/RS', 'RSS after'],
  ...results.map(({ impl, toSlaacMs, idleRssKiB, atRate, full }) => [
    impl, `${toSlaacMs.toFixed(0)} ms`, mib(idleRssKiB),
    atRate.rsInPerSec.toFixed(0), atRate.unicastRaPerSec.toFixed(0), String(atRate.multicastRas), `${atRate.cpuPercent.toFixed(0)}%`, atRate.cpuUsPerRs.toFixed(1),
    full.rsInPerSec.toFixed(0), full.unicastRaPerSec.toFixed(0), String(full.multicastRas), `${full.cpuPercent.toFixed(0)}%`, full.cpuUsPerRs.toFixed(1),
    mib(Math.max(atRate.rssKiB, full.rssKiB)),
  ]),
];
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
console.log(`RS flood on lan6, ${SECONDS} s per run (multicast RAs: sent to ff02::1 during the run; MinRtrAdvInterval 3 s), load average ${loadavg()[0].toFixed(2)}`);
for (const r of rows) console.log(r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  '));
