// Micro-benchmark of the Teredo relay engine's per-packet paths (src/engine/teredo/relay/relay.ts) behind the Driver,
// and of the client engine's (src/engine/teredo/client/client.ts), with no kernel, socket or addon: CPU ns per
// packet and V8 heap bytes allocated per packet. Printed, never asserted.
//
//   npm run build && node bench/teredo-relay/engine-path.mjs [--packets 200000]
//
// Paths: udp (a trusted peer's packet to the native side), tun (a native packet to a trusted peer), spoofed (a
// forged Teredo source, dropped), junk (not IPv6, dropped). Each is a batch of 64 through driver.batch (the
// ports' ReceiveBatch), into a sink that only adds up bytes, twice: a step calling engine.datagram / engine.tun
// per packet (the agent before issue 18), and "batch", the engine's datagrams() / packets() the agent now uses,
// where the 64 packets of one peer are one superframe's segments whose shared fields are checked once. Allocation: the script re-runs itself with --expose-gc and a
// 64 MiB young generation; gc(), v8 used_heap_size before and after a window of 12,800 packets.
// Client paths (`client ...`): a client qualified in the tests' in-memory world (dist/test, no NAT) that trusts a
// peer at its mapping; udp = the peer's packet to the TUN (§5.2.3 case 1), tun = the host's packet to the peer
// (§5.2.4), junk = not Teredo; per packet (datagram / tunPacket) and through datagrams() / packets().

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (rel) => join(root, 'dist', rel);
if (!existsSync(dist('src/engine/teredo/relay/relay.js'))) {
  console.error('bench/teredo-relay/engine-path: run `npm run build` first');
  process.exit(2);
}
const { TeredoRelay } = await import(dist('src/engine/teredo/relay/relay.js'));
const { Driver } = await import(dist('src/runtime/driver.js'));
const { createLogger } = await import(dist('src/runtime/logger.js'));
const { seededRandom } = await import(dist('src/engine/types.js'));
const { encodeTeredoAddress } = await import(dist('src/wire/teredo-address.js'));
const { parseIpv6 } = await import(dist('src/wire/ipv6-address.js'));
const { encodeIcmpv6Packet, echoMessage } = await import(dist('src/wire/icmpv6.js'));
const { ReceiveBatch } = await import(dist('src/io/batch.js'));
const { qualifiedTarget } = await import(dist('test/engine/teredo-client-fixtures.js'));

const i = process.argv.indexOf('--packets');
const PACKETS = i > 0 ? Number(process.argv[i + 1]) : 200_000;
const CLIENT = { addr: 0xc6120065, port: 40001 };
const SERVER = 0xc612000a;
const client6 = encodeTeredoAddress({ server: SERVER, mappedAddr: CLIENT.addr, mappedPort: CLIENT.port });
const host6 = parseIpv6('2001:db8:6::100');
const echo = (src, dst) => encodeIcmpv6Packet({ src, dst, hopLimit: 64 }, echoMessage(128, { id: 1, seq: 1, data: new Uint8Array(16) }));

let bytes = 0;
const engine = new TeredoRelay({ random: seededRandom(1) });
const timers = { setTimer: () => 0, clearTimer: () => undefined };
const clock = { now: () => 1000 };
const driver = new Driver({ engine, logger: createLogger({ agent: 'bench', level: 'info', destination: { write: () => true } }), clock, timers, sink: (drop) => ({ drop, sendUdp: (d, o, l) => void (bytes += l), writeTun: (d, o, l) => void (bytes += l) }) });
driver.start();

/** 64 copies of `packet` from CLIENT in the ports' own batch type (typed arrays behind the accessors). */
function batchOf(packet, from = CLIENT) {
  const data = new Uint8Array(packet.length * 64);
  const batch = new ReceiveBatch(64);
  batch.reset(data);
  for (let k = 0; k < 64; k++) {
    data.set(packet, k * packet.length);
    batch.push(k * packet.length, packet.length, from.addr, from.port);
  }
  return batch;
}
const udpStep = (b, now, sink) => {
  for (let k = 0; k < b.count; k++) engine.datagram(b.data, b.offset(k), b.length(k), b.sourceAddr(k), b.sourcePort(k), now, sink);
};
const tunStep = (b, now, sink) => {
  for (let k = 0; k < b.count; k++) engine.tun(b.data, b.offset(k), b.length(k), now, sink);
};
// Make the client a trusted peer first.
driver.batch(udpStep, batchOf(echo(client6, host6)));
const spoofed = echo(encodeTeredoAddress({ server: SERVER, mappedAddr: CLIENT.addr, mappedPort: 1 }), host6);
// The agent's steps since issue 18: the engine's own batch loops, which check a superframe's shared fields once.
const udpBatch = (b, now, sink) => engine.datagrams(b, now, sink);
const tunBatch = (b, now, sink) => engine.packets(b, now, sink);
// Native side answered: the client leaves the embedded class, whose datagrams each cost a token.
driver.batch(tunStep, batchOf(echo(host6, client6)));

// The client: qualified, trusting PEER (its address embeds PEER: §5.2.3 case 3 on its first datagram).
const { w, c, me } = qualifiedTarget('none');
const client = c.engine;
const PEER = { addr: 0xc612001e, port: 40000 };
const peer6 = encodeTeredoAddress({ server: SERVER, mappedAddr: PEER.addr, mappedPort: PEER.port });
const clientSink = (drop) => ({ drop, sendUdp: (d, o, l) => void (bytes += l), sendUdpFrom: () => undefined, sendProbe: () => undefined, writeTun: (d, o, l) => void (bytes += l), addressChanged: () => undefined, stateChanged: () => undefined });
const clientDriver = new Driver({ engine: client, logger: createLogger({ agent: 'bench', level: 'info', destination: { write: () => true } }), clock: { now: () => w.clock.now() }, timers, sink: clientSink });
clientDriver.start();
const clientUdp = (b, now, sink) => {
  for (let k = 0; k < b.count; k++) client.datagram(b.data, b.offset(k), b.length(k), b.sourceAddr(k), b.sourcePort(k), now, sink);
};
const clientTun = (b, now, sink) => {
  for (let k = 0; k < b.count; k++) client.tunPacket(b.data, b.offset(k), b.length(k), now, sink);
};
const clientUdpBatch = (b, now, sink) => client.datagrams(b, now, sink);
const clientTunBatch = (b, now, sink) => client.packets(b, now, sink);
clientDriver.batch(clientUdp, batchOf(echo(peer6, me), PEER));

const paths = [
  ['udp', driver, udpStep, batchOf(echo(client6, host6))],
  ['udp batch', driver, udpBatch, batchOf(echo(client6, host6))],
  ['tun', driver, tunStep, batchOf(echo(host6, client6))],
  ['tun batch', driver, tunBatch, batchOf(echo(host6, client6))],
  ['spoofed', driver, udpStep, batchOf(spoofed)],
  ['spoofed batch', driver, udpBatch, batchOf(spoofed)],
  ['junk', driver, udpStep, batchOf(new Uint8Array(60).fill(0x45))],
  ['junk batch', driver, udpBatch, batchOf(new Uint8Array(60).fill(0x45))],
  ['client udp', clientDriver, clientUdp, batchOf(echo(peer6, me), PEER)],
  ['client udp batch', clientDriver, clientUdpBatch, batchOf(echo(peer6, me), PEER)],
  ['client tun', clientDriver, clientTun, batchOf(echo(me, peer6))],
  ['client tun batch', clientDriver, clientTunBatch, batchOf(echo(me, peer6))],
  ['client junk', clientDriver, clientUdp, batchOf(new Uint8Array(60).fill(0x45), PEER)],
  ['client junk batch', clientDriver, clientUdpBatch, batchOf(new Uint8Array(60).fill(0x45), PEER)],
];
console.log(`teredo-relay and teredo-client engine paths, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('path                 CPU ns/packet (best of 5)  heap bytes/packet');
for (const [name, driver, step, batch] of paths) {
  const run = (n) => {
    for (let k = 0; k < n / 64; k++) driver.batch(step, batch);
  };
  run(PACKETS); // warm-up
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = process.cpuUsage();
    run(PACKETS);
    const t = process.cpuUsage(t0);
    best = Math.min(best, ((t.user + t.system) * 1000) / PACKETS);
  }
  globalThis.gc();
  globalThis.gc();
  const h0 = v8.getHeapStatistics().used_heap_size;
  run(12_800);
  const alloc = (v8.getHeapStatistics().used_heap_size - h0) / 12_800;
  console.log(`${name.padEnd(20)} ${best.toFixed(0).padStart(24)}  ${alloc.toFixed(1).padStart(17)}`);
}
