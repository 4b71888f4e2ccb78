// What a native-side (TUN) flood leaves in the relay's memory, in memory with a fake clock (no kernel, no lab):
// N packets from one native host to N distinct Teredo destinations (each a pending peer: a queued packet, a
// bubble, a retry timer), then the 30 s expiry and the bubble give-ups, then a full GC. Prints, per stage, the
// process's RSS, V8 heap used / total, external and ArrayBuffer bytes, and the relay's table (peers, array
// capacity, queue buffer bytes). The per-/64 limit on new pending peers is lifted by default
// (--new-peers-per-prefix 100000000): the worst case, an attacker with as many native /64s as it likes.
// Printed, never asserted.
//
//   npm run build && node bench/hostile/relay-memory.mjs [--peers 1200000] [--max-peers 1048576]
//        [--new-peers-per-prefix 100000000]

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs, printTable } from '../cli.mjs';

if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (rel) => join(root, 'dist', rel);
if (!existsSync(dist('src/engine/teredo/relay/relay.js'))) {
  console.error('bench/hostile/relay-memory: run `npm run build` first');
  process.exit(2);
}
const { TeredoRelay } = await import(dist('src/engine/teredo/relay/relay.js'));
const { seededRandom } = await import(dist('src/engine/types.js'));
const { encodeTeredoAddress } = await import(dist('src/wire/teredo-address.js'));
const { parseIpv6 } = await import(dist('src/wire/ipv6-address.js'));
const { parseIpv4 } = await import(dist('src/wire/ipv4.js'));
const { encodeIpv6 } = await import(dist('src/wire/ipv6.js'));

const { intArg } = benchArgs('bench/hostile/relay-memory');
const PEERS = intArg('peers', '1200000', 1);
const MAX_PEERS = intArg('max-peers', '1048576', 1);
const PER_PREFIX = intArg('new-peers-per-prefix', '100000000', 0);

const sink = { drop() {}, sendUdp() {}, writeTun() {} };
const relay = new TeredoRelay({ random: seededRandom(1), maxPeers: MAX_PEERS, newPeersPerPrefix: PER_PREFIX });
const server = parseIpv4('198.18.0.10');
const host6 = parseIpv6('2001:db8:6::100');
// One IPv6/UDP packet (8 bytes of payload) whose destination is rewritten per peer.
const packet = encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: 17, hopLimit: 64, src: host6, dst: new Uint8Array(16) }, new Uint8Array(16));

const MiB = (n) => (n / 1048576).toFixed(1);
const rows = [['stage', 'RSS MiB', 'heap used', 'heap total', 'external', 'array buffers', 'peers', 'slots', 'queue buffers MiB']];
function stage(name) {
  const m = process.memoryUsage();
  const s = relay.summary();
  rows.push([name, MiB(m.rss), MiB(m.heapUsed), MiB(m.heapTotal), MiB(m.external), MiB(m.arrayBuffers), String(s.peers), String(relay.peers.capacity), MiB(relay.peers.queues.bufferBytes)]);
}

const dest = { server, flags: 0, mappedAddr: 0, mappedPort: 0 };
let now = 1_000_000;
globalThis.gc();
stage('before');
for (let i = 0; i < PEERS; i++) {
  dest.mappedAddr = (0x0b000000 + i) | 0;
  dest.mappedPort = 1024 + (i & 0x7fff);
  encodeTeredoAddress(dest, packet, 24); // in place: the bench itself allocates nothing per packet
  if (i % 56 === 0) {
    now++;
    relay.handleTimeout(now, sink);
  }
  relay.tun(packet, 0, packet.length, now, sink);
}
stage('after the flood (56k/s)');
for (const t = now + 60_000; now < t; now += 100) relay.handleTimeout(now, sink);
stage('60 s later (expired)');
globalThis.gc();
stage('after a full GC');
await new Promise((r) => setTimeout(r, 1000));
globalThis.gc();
stage('1 s and a second GC later');
printTable(rows);
