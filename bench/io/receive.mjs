// Receive-path benchmark of the addon's poller (native/src/poller.c) through the two batched ports that use it
// for data: the native UDP port (recvmmsg, src/io/datagram-port-native.ts) and the TUN device (read,
// src/io/tun-linux.ts). Numbers are printed, never asserted.
//
//   npm run build && node bench/io/receive.mjs [--packets 100000] [--runs 5] [--size 64] [--batch 64]
//
// Each run first queues --packets packets while the port is open but not reading, then starts reading and
// times the drain, so no generator competes for the 2 cores and the number is the receive path's own cost:
//   udp  datagrams of --size bytes from a second native port over 127.0.0.1 into a receive buffer forced to
//        256 MiB (SO_RCVBUFFORCE);
//   tun  IPv4 UDP datagrams of --size bytes routed into the TUN device, whose queue (txqueuelen) holds them all.
// The handler reads each packet's first byte (and, for UDP, its source address and port), as an engine would.
// Printed per kind, median of --runs (after one warm-up run): ns of wall time and of CPU (user + system, all
// threads) per packet, and the garbage collections the drain caused (allocation shows up there).
//
// Needs root: everything runs in the namespace `tiorx` (deleted at the end, also on failure or ^C).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const NS = 'tiorx';
const TUN = 'tiorx0';
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const PACKETS = arg('packets', 100_000);
const RUNS = arg('runs', 5);
const SIZE = arg('size', 64);
const BATCH = arg('batch', 64);

const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });

function setup() {
  teardown();
  ip('netns', 'add', NS);
  ip('-n', NS, 'link', 'set', 'lo', 'up');
  ip('-n', NS, 'tuntap', 'add', 'dev', TUN, 'mode', 'tun');
  ip('-n', NS, 'link', 'set', TUN, 'txqueuelen', String(PACKETS * 2));
  ip('-n', NS, 'addr', 'add', '10.98.0.1/24', 'dev', TUN);
  ip('-n', NS, 'link', 'set', TUN, 'up');
  ip('-n', NS, 'route', 'add', '10.99.0.0/16', 'dev', TUN);
}

function teardown() {
  try {
    ip('netns', 'del', NS);
  } catch {
    // not there
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Inside the namespace: one kind, a warm-up run and RUNS measured runs; prints one JSON line per run. */
async function child(kind) {
  const { openNativeDatagramPort } = await import(join(root, 'dist/src/io/datagram-port-native.js'));
  const { openTun } = await import(join(root, 'dist/src/io/tun-linux.js'));
  const { parseIpv4 } = await import(join(root, 'dist/src/wire/ipv4.js'));
  let gcs = 0;
  new PerformanceObserver((list) => (gcs += list.getEntries().length)).observe({ entryTypes: ['gc'] });
  const payload = new Uint8Array(SIZE).fill(7);
  for (let run = 0; run <= RUNS; run++) {
    const tx = openNativeDatagramPort({ address: 0 });
    const rx = kind === 'udp'
      ? openNativeDatagramPort({ address: parseIpv4('127.0.0.1'), receiveBufferSize: 256 << 20, batchSize: BATCH })
      : openTun({ name: TUN, batchSize: BATCH });
    const to = kind === 'udp' ? rx.local : { addr: parseIpv4('10.99.0.2'), port: 9 };
    for (let i = 0; i < PACKETS; i++) tx.send(payload, 0, SIZE, to.addr, to.port);
    await tick();
    let got = 0;
    let sum = 0;
    const done = await new Promise((resolve) => {
      const gc0 = gcs;
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const finish = () => {
        const ns = Number(process.hrtime.bigint() - t0);
        const cpu = process.cpuUsage(cpu0);
        resolve({ ns, cpuNs: (cpu.user + cpu.system) * 1000, gcs: gcs - gc0 });
      };
      rx.onBatch((batch) => {
        for (let i = 0; i < batch.count; i++) {
          sum += batch.data[batch.offset(i)];
          if (kind === 'udp') sum += batch.sourceAddr(i) + batch.sourcePort(i);
        }
        got += batch.count;
        if (got >= PACKETS) finish();
      });
      // Datagrams lost on the way (a full queue) would leave the drain short: give up after a quiet second.
      let last = -1;
      const watch = setInterval(() => {
        if (got === last && got < PACKETS) {
          clearInterval(watch);
          finish();
        }
        last = got;
      }, 1000);
      watch.unref();
    });
    await tx.close();
    await rx.close();
    // the GC observer reports asynchronously: let it catch up before the next run starts counting
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (run > 0) console.log(JSON.stringify({ kind, got, ...done, check: sum > 0 }));
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main() {
  if (process.getuid?.() !== 0) throw new Error('run as root (namespace, TUN)');
  if (!existsSync(join(root, 'dist/src/io/tun-linux.js'))) throw new Error('run `npm run build` first');
  const stop = () => {
    teardown();
    process.exit(130);
  };
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, stop);
  try {
    setup();
    console.log(`${PACKETS} packets of ${SIZE} bytes drained per run, batch ${BATCH}; median of ${RUNS} runs`);
    console.log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    console.log('| kind | wall ns/packet | cpu ns/packet | GCs per drain | received |');
    console.log('|------|---------------:|--------------:|--------------:|---------:|');
    for (const kind of ['udp', 'tun']) {
      const out = spawnSync('ip', ['netns', 'exec', NS, process.execPath, fileURLToPath(import.meta.url), '--child', kind, ...process.argv.slice(2)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (out.status !== 0) throw new Error(`${kind}: child exited with ${out.status}`);
      const runs = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
      const row = (f) => median(runs.map(f));
      console.log(`| ${kind}  | ${row((r) => r.ns / r.got).toFixed(0)} | ${row((r) => r.cpuNs / r.got).toFixed(0)} | ${row((r) => r.gcs)} | ${Math.min(...runs.map((r) => r.got))} |`);
    }
  } finally {
    teardown();
  }
}

const childKind = process.argv.indexOf('--child');
if (childKind >= 0) await child(process.argv[childKind + 1]);
else main();
