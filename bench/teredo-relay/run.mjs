// Teredo relay benchmark, the relay alone: packets per second through ours (agents/teredo-relay, native sockets)
// and Debian's Miredo relay, side by side in the same harness, with 64-byte and 1280-byte IPv6 packets, TUN ->
// UDP, UDP -> TUN and both at once, plus the relay's CPU time per packet. Numbers are printed, never asserted.
//
//   npm run build && node bench/teredo-relay/run.mjs [--seconds 5] [--relays ours,miredo] [--rounds 1]
//
// Needs root, cc and miredo. Two namespaces, `trb-relay` and `trb-peer`, deleted at the end (also on failure):
//
//   trb-relay: the relay (pinned to CPU 0), 198.18.99.1 on a veth, its TUN routing 2001::/32, IPv6 forwarding
//     on, 2001:db8:cc::/64 blackholed. TUN -> UDP: gen (CPU 1) sends IPv6 UDP to a Teredo address whose
//     mapping 198.18.99.3:40003 belongs to nobody (a permanent neighbour entry sends it out of the veth, the
//     peer namespace drops it): the veth's TX counter is what the relay sent (counted in bytes: a UDP GSO
//     send is one skb there, see datagrams()).
//   trb-peer: 198.18.99.2 (server address of both Teredo peers, and the UDP -> TUN mapping :40002). UDP -> TUN:
//     gen (CPU 1) sends Teredo datagrams from 198.18.99.2:40002 whose IPv6 packet goes to 2001:db8:cc::1: the
//     TUN device's RX counter is what the relay wrote.
//
// Each cell starts a fresh relay, then makes the two peers trusted the RFC 4380 way (Miredo drops packets from
// unknown peers): a ping6 from trb-relay to each Teredo address makes the relay bubble through the peer's
// "server" (198.18.99.2:3544), where handshake.mjs answers with the client's bubble from the mapping. The sink
// peer then stays valid for 30 s (it is never heard from again), longer than a cell.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const MAIN = join(root, 'dist', 'agents', 'teredo-relay', 'main.js');
if (!existsSync(MAIN)) {
  console.error('bench/teredo-relay: run `npm run build` first');
  process.exit(2);
}
const { agentArgv } = await import(join(root, 'dist', 'lab', 'paths.js'));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const SECONDS = Number(arg('seconds', '5'));
const RELAYS = arg('relays', 'ours,miredo').split(',');
const ROUNDS = Number(arg('rounds', '1'));

const NSR = 'trb-relay';
const NSP = 'trb-peer';
const TUN = 'trbt0';
const RELAY4 = '198.18.99.1';
const PEER4 = '198.18.99.2';
const SINK4 = '198.18.99.3';
const RELAY_PORT = 3545;
const GEN_PORT = 40002;
const SINK_PORT = 40003;
const NATIVE_DST = '2001:db8:cc::1';
const SRC6 = '2001:db8:99::1';

const dir = mkdtempSync(join(tmpdir(), 'trb-'));
const run = (...a) => execFileSync(a[0], a.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const inNs = (ns, ...a) => run('ip', 'netns', 'exec', ns, ...a);

/** The Teredo address of mapping addr:port served by PEER4 (flags 0). */
function teredo(addr, port) {
  const v4 = addr.split('.').map(Number);
  const s = PEER4.split('.').map(Number);
  const h = (n) => n.toString(16);
  const p = port ^ 0xffff;
  return `2001:0:${h((s[0] << 8) | s[1])}:${h((s[2] << 8) | s[3])}:0:${h(p)}:${h(((v4[0] << 8) | v4[1]) ^ 0xffff)}:${h(((v4[2] << 8) | v4[3]) ^ 0xffff)}`;
}

function ipv6Bytes(text) {
  const [head, tail = ''] = text.split('::');
  const parse = (t) => (t ? t.split(':').map((g) => parseInt(g, 16)) : []);
  const a = parse(head);
  const b = parse(tail);
  const groups = [...a, ...new Array(8 - a.length - b.length).fill(0), ...b];
  return Buffer.from(groups.flatMap((g) => [g >> 8, g & 0xff]));
}

/** An IPv6/UDP packet of `size` bytes from src to dst (UDP checksum 0: forwarding does not check it). */
function ipv6Udp(src, dst, size) {
  const p = Buffer.alloc(size);
  p[0] = 0x60;
  p.writeUInt16BE(size - 40, 4);
  p[6] = 17;
  p[7] = 64;
  ipv6Bytes(src).copy(p, 8);
  ipv6Bytes(dst).copy(p, 24);
  p.writeUInt16BE(9, 40);
  p.writeUInt16BE(9, 42);
  p.writeUInt16BE(size - 40, 44);
  // RFC 8200 §8.1: the UDP checksum is mandatory over IPv6 (a native host drops a zero one).
  let sum = size - 40 + 17;
  for (let i = 8; i < size; i += 2) sum += p.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  p.writeUInt16BE(~sum & 0xffff || 0xffff, 46);
  return p;
}

function setup() {
  teardown();
  run('cc', '-O2', '-o', join(dir, 'gen'), join(here, 'gen.c'));
  for (const ns of [NSR, NSP]) {
    run('ip', 'netns', 'add', ns);
    run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  }
  run('ip', '-n', NSR, 'link', 'add', 'trbv0', 'type', 'veth', 'peer', 'name', 'trbv1', 'netns', NSP);
  run('ip', '-n', NSR, 'addr', 'add', `${RELAY4}/24`, 'dev', 'trbv0');
  run('ip', '-n', NSP, 'addr', 'add', `${PEER4}/24`, 'dev', 'trbv1');
  run('ip', '-n', NSR, 'link', 'set', 'trbv0', 'up');
  run('ip', '-n', NSP, 'link', 'set', 'trbv1', 'up');
  const peerMac = JSON.parse(run('ip', '-j', '-n', NSP, 'link', 'show', 'trbv1'))[0].address;
  run('ip', '-n', NSR, 'neigh', 'replace', SINK4, 'lladdr', peerMac, 'dev', 'trbv0', 'nud', 'permanent');
  run('ip', '-n', NSR, 'addr', 'add', `${SRC6}/128`, 'dev', 'lo');
  run('ip', '-n', NSR, 'route', 'add', 'blackhole', '2001:db8:cc::/64');
  inNs(NSR, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1');
  for (const ns of [NSR, NSP]) inNs(ns, 'sysctl', '-q', '-w', 'net.core.rmem_default=4194304', 'net.core.wmem_default=4194304');
}

function teardown() {
  for (const ns of [NSR, NSP]) {
    try {
      run('ip', 'netns', 'pids', ns)
        .split('\n')
        .filter(Boolean)
        .forEach((pid) => process.kill(Number(pid), 'SIGKILL'));
    } catch {
      /* no such namespace */
    }
    try {
      run('ip', 'netns', 'del', ns);
    } catch {
      /* already gone */
    }
  }
}

function startRelay(kind) {
  const log = join(dir, `${kind}.log`);
  let argv;
  if (kind === 'ours') {
    // agentArgv: node with the flags of the bin's shebang, as a user's `teredo-relay` runs.
    argv = [...agentArgv('agents/teredo-relay/main.js'), '--interface', TUN, '--bind', RELAY4, '--port', String(RELAY_PORT), '--icmpv6-source', SRC6, '--stats-interval', '0', '--log-level', 'warn', '--udp-receive-buffer', '4194304'];
  } else {
    const conf = join(dir, 'miredo.conf');
    writeFileSync(conf, `RelayType cone\nInterfaceName ${TUN}\nBindAddress ${RELAY4}\nBindPort ${RELAY_PORT}\n`);
    argv = ['miredo', '-f', '-c', conf, '-p', join(dir, 'miredo.pid')];
  }
  const child = spawn('ip', ['netns', 'exec', NSR, 'taskset', '-c', '0', ...argv], { stdio: ['ignore', 'ignore', 'ignore'], detached: true });
  return { child, log };
}

async function stopRelay(relay) {
  for (const sig of ['SIGTERM', 'SIGKILL']) {
    try {
      process.kill(-relay.child.pid, sig);
    } catch {
      return;
    }
    await sleep(700);
  }
}

async function waitRoute() {
  for (let i = 0; i < 100; i++) {
    try {
      if (/^2001::\/32/m.test(inNs(NSR, 'ip', '-6', 'route', 'show', 'dev', TUN))) return;
    } catch {
      /* device not there yet */
    }
    await sleep(100);
  }
  throw new Error('relay did not route 2001::/32');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The relay's main process (miredo forks a privileged helper: the one holding the UDP socket is the relay). */
function relayPid() {
  const out = inNs(NSR, 'ss', '-Hunlp', `sport = :${RELAY_PORT}`);
  const m = /pid=(\d+)/.exec(out);
  if (!m) throw new Error(`no process on UDP ${RELAY_PORT}: ${out}`);
  return Number(m[1]);
}

function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
}

function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

function counter(ns, dev, dir6) {
  const s = JSON.parse(run('ip', '-j', '-s', '-n', ns, 'link', 'show', dev))[0].stats64;
  return dir6 === 'tx' ? s.tx : s.rx;
}

/**
 * Teredo datagrams of `size`-byte IPv6 packets in a veth TX counter delta. A UDP GSO send (issue 18) crosses
 * the veth as ONE skb carrying many datagrams, so packets undercount: each skb has one Ethernet + IPv4 + UDP
 * header (42 bytes) and a payload of whole IPv6 packets, whatever the segmentation.
 */
const datagrams = (d, size) => Math.round((d.bytes - d.packets * 42) / size);
/** IPv6 packets of `size` bytes in a TUN RX counter delta: a merged write (USO/TSO) is one packet of many. */
const tunPackets = (d, size) => Math.round((d.bytes - d.packets * 48) / (size - 48));
const delta = (a, b) => ({ bytes: a.bytes - b.bytes, packets: a.packets - b.packets });

/** Makes both peers trusted: the relay bubbles through PEER4:3544, handshake.mjs answers from each mapping. */
async function handshake() {
  run('ip', '-n', NSP, 'addr', 'replace', `${SINK4}/24`, 'dev', 'trbv1');
  const hs = spawn('ip', ['netns', 'exec', NSP, process.execPath, join(here, 'handshake.mjs'), PEER4, SINK4, String(GEN_PORT), String(SINK_PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  hs.stdout.on('data', (b) => (out += b.toString()));
  while (!out.includes('listening')) await sleep(20);
  for (const [addr, port] of [[PEER4, GEN_PORT], [SINK4, SINK_PORT]]) {
    try {
      inNs(NSR, 'ping', '-6', '-c', '1', '-W', '1', '-I', SRC6, teredo(addr, port));
    } catch {
      /* the reply is not the point: the relay's bubble is */
    }
  }
  await new Promise((r) => hs.on('exit', r));
  if (!out.includes('"answered":2')) throw new Error(`handshake failed: ${out}`);
  run('ip', '-n', NSP, 'addr', 'del', `${SINK4}/24`, 'dev', 'trbv1');
}

function gen(ns, args) {
  return new Promise((resolve, reject) => {
    const g = spawn('ip', ['netns', 'exec', ns, 'taskset', '-c', '1', join(dir, 'gen'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    g.stdout.on('data', (b) => (out += b.toString()));
    g.on('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`gen exited ${code}`))));
  });
}

async function measure(pid, size, dirs) {
  await handshake();
  const toUdp = ipv6Udp(SRC6, teredo(SINK4, SINK_PORT), size).toString('hex');
  const toTun = ipv6Udp(teredo(PEER4, GEN_PORT), NATIVE_DST, size).toString('hex');
  const tx0 = counter(NSR, 'trbv0', 'tx');
  const rx0 = counter(NSR, TUN, 'rx');
  const cpu0 = cpuMs(pid);
  const gens = [];
  if (dirs.includes('tun')) gens.push(gen(NSR, ['6', teredo(SINK4, SINK_PORT), '9', String(SECONDS), '-', '0', toUdp.slice(96)]));
  if (dirs.includes('udp')) gens.push(gen(NSP, ['4', RELAY4, String(RELAY_PORT), String(SECONDS), PEER4, String(GEN_PORT), toTun]));
  const offered = await Promise.all(gens);
  await sleep(200); // let the relay drain what is queued in its socket and device
  const sent = datagrams(delta(counter(NSR, 'trbv0', 'tx'), tx0), size);
  const written = tunPackets(delta(counter(NSR, TUN, 'rx'), rx0), size);
  const cpu = cpuMs(pid) - cpu0;
  const packets = (dirs.includes('tun') ? sent : 0) + (dirs.includes('udp') ? written : 0);
  return { tunToUdp: dirs.includes('tun') ? sent / SECONDS : null, udpToTun: dirs.includes('udp') ? written / SECONDS : null, offered: offered.reduce((a, b) => a + b, 0) / SECONDS, cpuUsPerPacket: packets ? (cpu * 1000) / packets : null, rss: rssKiB(pid) };
}

const fmt = (x) => (x === null ? '-' : x >= 1000 ? `${(x / 1000).toFixed(0)}k` : x.toFixed(1));

try {
  setup();
  console.log(`teredo-relay bench: ${SECONDS} s per cell, relay on CPU 0, generators on CPU 1, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('relay   size  direction    relayed/s  offered/s  CPU µs/pkt  RSS MiB');
  for (let round = 0; round < ROUNDS; round++) {
    for (const size of [64, 1280]) {
      for (const [label, dirs] of [['TUN->UDP', ['tun']], ['UDP->TUN', ['udp']], ['both', ['tun', 'udp']]]) {
        for (const kind of RELAYS) {
          // A fresh relay per cell: an empty peer table, and the handshake makes both peers trusted.
          const relay = startRelay(kind);
          try {
            await waitRoute();
            await sleep(300);
            const pid = relayPid();
            const r = await measure(pid, size, dirs);
            const rate = label === 'both' ? `${fmt(r.tunToUdp)}+${fmt(r.udpToTun)}` : fmt(r.tunToUdp ?? r.udpToTun);
            console.log(`${kind.padEnd(7)} ${String(size).padStart(4)}  ${label.padEnd(10)} ${rate.padStart(11)}  ${fmt(r.offered).padStart(9)}  ${r.cpuUsPerPacket === null ? '-' : r.cpuUsPerPacket.toFixed(2).padStart(10)}  ${(r.rss / 1024).toFixed(1).padStart(7)}`);
          } finally {
            await stopRelay(relay);
          }
        }
      }
    }
  }
} finally {
  teardown();
  rmSync(dir, { recursive: true, force: true });
}
