// Micro-benchmark of the Teredo server's per-packet path, with no kernel, socket or addon in the way. Prints CPU
// ns per packet and bytes allocated per packet for each path; numbers are printed, never asserted.
//
//   npm run build && node bench/micro/server-path.mjs [--level engine,agent] [--reps 7] [--packets 100000]
//        [--only rs-ra,junk-random] [--client 198.18.0.50]
//
// Two levels, each measured when the build has it:
//   engine  TeredoServer + Driver (src/engine/teredo/server/server.ts, src/runtime/driver.ts), wired as an agent wires
//           them: a batch of 64 datagrams through driver.batch(step, batch), the step calling
//           engine.datagram(socket, data, offset, length, addr, port, now, sink) per datagram (engine.tun for
//           the TUN path), into a sink whose sendUdp / writeNative only add up the bytes. On a build with the
//           older engine (handle(input, now) returning output objects), driver.feed(input) per datagram with the
//           agent's input object and an apply that counts the outputs, as agents/teredo-server/server.ts did.
//   agent   the same plus the agent's glue: the real teredo-server declaration (agents/teredo-server/agent.ts) on the agent host with its
//           engine, driver, counters and logger (pino at info, to /dev/null: debug lines off, as in
//           production), given fake UDP ports and a fake TUN device through the host's HostDeps seams. The fakes hand
//           it a batch of 64 copies of the packet through onBatch, or one datagram at a time through onDatagram /
//           onPacket for the older per-datagram port API; their send() / write() do nothing. The per-datagram
//           adapter also allocated a view and an endpoint object per datagram, which these numbers leave out.
// The packet bytes are restored before every batch, since the code under test may write into lent bytes.
//
// Time: per path, --reps runs of --packets packets (more when that is under 20 ms of CPU) after a warm-up (so
// the code is optimised). Each run is
// timed in CPU time (process.cpuUsage: user + system of this process, so time the scheduler gives to other
// processes on a loaded machine does not count; garbage collection on V8's helper threads does) and in wall-
// clock time; the table prints the median and best CPU ns per packet and the best wall-clock ns. Other load
// still inflates CPU time (shared caches, hyper-threads): the best run is the closest to the path's own cost.
// The load average is printed with the table.
//
// Allocation: the script re-runs itself with --expose-gc and a 64 MiB young generation (--min/max-semi-space-
// size), so that a measurement window of 12,800 packets (200 batches) normally fits without any collection.
// For each path: gc() twice, read v8.getHeapStatistics().used_heap_size, run the window, read it again; the
// difference over the packets is the bytes the path allocated per packet (V8 heap only: typed-array backing
// stores larger than the on-heap limit and pino's buffers outside the heap are not seen, nor is anything
// V8 optimised away, which is the point). A PerformanceObserver counts garbage collections; a window that saw
// one is measured again with half the packets. The same window with a no-op handler is the harness's own
// baseline and is subtracted (it is 0 unless something is wrong).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (rel) => join(root, 'dist', rel);
if (!existsSync(dist('agents/teredo-server/agent.js'))) {
  console.error('bench/micro/server-path: run `npm run build` first');
  process.exit(2);
}
const { TeredoServer } = await import(dist('src/engine/teredo/server/server.js'));
const { Driver } = await import(dist('src/runtime/driver.js'));
const { createLogger } = await import(dist('src/runtime/logger.js'));
const pino = (await import('pino')).default;

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const REPS = Number(arg('reps', '7'));
const PACKETS = Number(arg('packets', '100000'));
const LEVELS = arg('level', 'engine,agent').split(',');
const ONLY = arg('only', undefined)?.split(',');
const BATCH = 64;
const ALLOC_BATCHES = 200;
const MIN_RUN_MS = 20;

// ---- packets (built by hand, so the harness depends on no encoder of the code under test) -------------------

// IPv4 addresses as int32, as src/wire/ipv4.ts and the ports give them: a small integer for V8 whatever the
// address (as a uint32, half of IPv4, 128.0.0.0 and above, would be boxed into a 16-byte heap number).
const ip4 = (s) => s.split('.').reduce((a, b) => (a << 8) | Number(b), 0);
const SERVER = '198.18.0.10'; // the lab's server address; 198.18.0.0/15 is global for RFC 4380 §5.2.4
// --client: the client's mapped address (default above 128.0.0.0, like half of IPv4).
const CLIENT = { addr: ip4(arg('client', '198.18.0.50')), port: 40000 };
const PEER = { addr: ip4('198.18.0.60'), port: 50000 };

/** 2001:0:<server>:<flags>:<~port>:<~addr> (RFC 4380 §4). */
function teredo(server, flags, port, addr) {
  const o = new Uint8Array(16);
  o.set([0x20, 0x01, 0, 0, server >>> 24, (server >>> 16) & 255, (server >>> 8) & 255, server & 255, flags >> 8, flags & 255]);
  const p = port ^ 0xffff;
  const a = ~addr;
  o.set([p >> 8, p & 255, a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255], 10);
  return o;
}
function ipv6(src, dst, next, hops, payload) {
  const o = new Uint8Array(40 + payload.length);
  o.set([0x60, 0, 0, 0, payload.length >> 8, payload.length & 255, next, hops]);
  o.set(src, 8);
  o.set(dst, 24);
  o.set(payload, 40);
  return o;
}
/** ICMPv6 with its checksum (RFC 4443 §2.3), over the pseudo-header of RFC 8200 §8.1. */
function icmpv6(src, dst, body) {
  const sumOf = (bytes, s) => {
    for (let i = 0; i < bytes.length; i += 2) s += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
    return s;
  };
  let s = sumOf(src, sumOf(dst, body.length + 58));
  s = sumOf(body, s);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  const out = Uint8Array.from(body);
  out[2] = (~s >> 8) & 255;
  out[3] = ~s & 255;
  return out;
}
const concat = (...parts) => {
  const o = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) o.set(p, (at += p.length) - p.length);
  return o;
};
const hex = (s) => Uint8Array.from(s.match(/../g).map((h) => parseInt(h, 16)));

const serverAddr = ip4(SERVER);
const clientTeredo = teredo(serverAddr, 0, CLIENT.port, CLIENT.addr);
const peerTeredo = teredo(serverAddr, 0, PEER.port, PEER.addr);
const native6 = hex('20010db8000600000000000000000100'); // host6 in the lab
const echo = (src, dst) => ipv6(src, dst, 58, 64, icmpv6(src, dst, hex('80000000bee00001' + '00'.repeat(24))));
// The RS of a Windows Vista+ / Miredo client: auth header with a nonce, fe80::ffff:ffff:ffff -> ff02::2 (rs-flood.c).
const RS = concat(hex('00010000' + '0123456789abcdef' + '00'), ipv6(hex('fe800000000000000000ffffffffffff'), hex('ff020000000000000000000000000002'), 58, 255, hex('85007d3700000000')));
const random = (n, seed) => {
  const o = new Uint8Array(n);
  for (let i = 0; i < n; i++) o[i] = (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  return o;
};

const PATHS = [
  { name: 'rs-ra', what: 'RS -> RA (auth nonce echoed)', from: CLIENT, bytes: RS },
  { name: 'fwd-teredo', what: 'echo to a Teredo peer (origin indication added)', from: CLIENT, bytes: echo(clientTeredo, peerTeredo) },
  { name: 'fwd-native', what: 'echo to native IPv6 (TUN write)', from: CLIENT, bytes: echo(clientTeredo, native6) },
  { name: 'from-native', what: 'native IPv6 echo from the TUN to a client', tun: true, bytes: echo(native6, clientTeredo) },
  { name: 'junk-random', what: 'junk: 120 random bytes', from: CLIENT, bytes: random(120, 7) },
  { name: 'junk-auth', what: 'junk: auth header with ID/AU lengths 255', from: CLIENT, bytes: concat(hex('0001ffff'), random(100, 9)) },
  { name: 'junk-truncated', what: 'junk: RS cut to 40 bytes', from: CLIENT, bytes: RS.subarray(0, 40) },
  { name: 'junk-liar', what: 'junk: IPv6 payload length 1000, 16 bytes follow', from: CLIENT, bytes: (() => { const b = echo(clientTeredo, peerTeredo); b[4] = 0x03; b[5] = 0xe8; return b; })() },
  { name: 'junk-bubble', what: 'junk: bubble to a client mapped at 224.0.0.1', from: CLIENT, bytes: ipv6(clientTeredo, teredo(serverAddr, 0, 1234, ip4('224.0.0.1')), 59, 21, new Uint8Array(0)) },
].filter((p) => !ONLY || ONLY.includes(p.name));

// ---- fakes ------------------------------------------------------------------------------------------------

/**
 * A batch of BATCH copies of one packet, in the DatagramBatch / PacketBatch shape (src/io/ports.ts). The
 * accessors read typed arrays, as the ports' batches do (source addresses from an Int32Array, batch.ts).
 */
function makeBatch(bytes, from) {
  const stride = bytes.length + 8;
  const data = new Uint8Array(stride * BATCH);
  const template = new Uint8Array(data.length);
  const offsets = new Uint32Array(BATCH);
  const lengths = new Uint32Array(BATCH).fill(bytes.length);
  const addrs = new Int32Array(BATCH).fill(from?.addr ?? 0);
  const portsOf = new Uint16Array(BATCH).fill(from?.port ?? 0);
  for (let i = 0; i < BATCH; i++) {
    offsets[i] = i * stride;
    template.set(bytes, i * stride);
  }
  const views = Array.from({ length: BATCH }, (_, i) => data.subarray(i * stride, i * stride + bytes.length));
  return {
    count: BATCH,
    data,
    offset: (i) => offsets[i],
    length: (i) => lengths[i],
    sourceAddr: (i) => addrs[i],
    sourcePort: (i) => portsOf[i],
    restore: () => data.set(template),
    views,
    from: from ? { addr: from.addr, port: from.port } : undefined,
  };
}

/** Receives whichever handler the agent registers: onBatch (batched ports) or onDatagram/onPacket (older API). */
class FakeReceiver {
  batchHandler = undefined;
  oneHandler = undefined;
  onBatch(h) {
    this.batchHandler = h;
  }
  onDatagram(h) {
    this.oneHandler = h;
  }
  onPacket(h) {
    this.oneHandler = h;
  }
  onError() {}
  /** Hands the agent one batch: in one call, or one call per packet. */
  deliver(b) {
    b.restore();
    if (this.batchHandler) return this.batchHandler(b);
    const h = this.oneHandler;
    for (let i = 0; i < BATCH; i++) h(b.views[i], b.from);
  }
}

class FakePort extends FakeReceiver {
  constructor(options) {
    super();
    this.local = { addr: options.address, port: options.port };
  }
  send() {}
  joinGroup() {}
  leaveGroup() {}
  setMulticastTtl() {}
  setMulticastInterface() {}
  setMulticastLoopback() {}
  setTtl() {}
  async close() {}
}

class FakeTun extends FakeReceiver {
  constructor(options) {
    super();
    this.name = options.name;
    this.ifindex = 99;
  }
  write() {
    return true;
  }
  setMtu() {}
  addAddress() {}
  removeAddress() {}
  addRoute() {}
  removeRoute() {}
  setUp() {}
  close() {}
}

// ---- the code under test ----------------------------------------------------------------------------------

const quietLogger = () => createLogger({ agent: 'teredo-server', level: 'info', destination: pino.destination({ dest: '/dev/null', sync: true }) });

/** Engine + driver, as the agent wires them. Returns receivers for the primary socket and the TUN device. */
function engineLevel() {
  const engine = new TeredoServer({ primary: serverAddr, secondary: serverAddr + 1, nativeForwarding: true });
  let bytesOut = 0;
  const udp = new FakeReceiver();
  const tunIn = new FakeReceiver();
  if (typeof engine.datagram === 'function') {
    const driver = new Driver({
      engine,
      sink: (drop) => ({
        drop,
        sendUdp: (_socket, _data, _offset, length) => void (bytesOut += length),
        writeNative: (_data, _offset, length) => void (bytesOut += length),
      }),
      logger: quietLogger(),
    });
    driver.start();
    const udpStep = (b, now, sink) => {
      for (let i = 0; i < b.count; i++) engine.datagram(0, b.data, b.offset(i), b.length(i), b.sourceAddr(i), b.sourcePort(i), now, sink);
    };
    const tunStep = (b, now, sink) => {
      for (let i = 0; i < b.count; i++) engine.tun(b.data, b.offset(i), b.length(i), now, sink);
    };
    udp.onBatch((b) => driver.batch(udpStep, b));
    tunIn.onBatch((b) => driver.batch(tunStep, b));
    return { udp, tun: tunIn, api: 'engine.datagram / engine.tun in driver.batch, 64 per batch', counts: () => ({ ...engine.counters.snapshot(), drops: driver.drops(), bytesOut }) };
  }
  // The older engine: one input object per datagram, outputs returned as arrays, counted by apply.
  const outputs = {};
  const driver = new Driver({
    engine,
    apply: (outs) => {
      for (const o of outs) {
        const key = o.kind === 'write-tun' ? 'write-tun' : `${o.purpose}${o.fromTun ? '-from-tun' : ''}`;
        outputs[key] = (outputs[key] ?? 0) + 1;
        bytesOut += o.bytes.length;
      }
    },
    logger: quietLogger(),
  });
  driver.start();
  udp.onDatagram((bytes, from) => driver.feed({ kind: 'udp', local: 'primary', from, bytes }));
  tunIn.onPacket((bytes) => driver.feed({ kind: 'tun', bytes }));
  return { udp, tun: tunIn, api: 'driver.feed(input) per datagram', counts: () => ({ outputs, drops: driver.stats().drops, bytesOut }) };
}

/** The agent with fake ports. Returns undefined (and why) when this build's agent cannot start. */
async function agentLevel() {
  const ports = [];
  let tun;
  try {
    const { teredoServer } = await import(dist('agents/teredo-server/agent.js'));
    const { validateConfig } = await import(dist('src/runtime/config.js'));
    const { runAgent } = await import(dist('src/runtime/host.js'));
    const checked = validateConfig(teredoServer.config, { flags: { address: SERVER, 'forward-interface': 'bench0', 'stats-interval': 0 } });
    if (!checked.ok) throw new Error(checked.problems.join('; '));
    const agent = await runAgent(
      teredoServer.config,
      (host) => teredoServer.setup(host),
      { name: 'teredo-server', instance: undefined, config: checked.config, logger: quietLogger(), fatal: (reason) => { throw new Error(`fatal: ${reason}`); } },
      {
        openPort: async (o) => {
          const p = new FakePort(o);
          ports.push(p);
          return p;
        },
        openTun: (o) => (tun = new FakeTun(o)),
        // Native forwarding goes through the fake TUN above (--forward-interface); should a build open its
        // send-only raw IPv6 socket anyway, it gets this fake rather than a real socket.
        openRaw6: () => ({ send: () => true, onError() {}, close() {} }),
        facts: { ipv6Forwarding: () => true, ipv6Mtu: () => undefined, ipv6Routes: () => [], ipv6Addresses: () => [], interfaces: () => [] },
      },
    );
    const udp = ports.find((p) => p.local.addr === serverAddr);
    // Check both receivers work before measuring (a half-migrated agent may register neither handler).
    for (const r of [udp, tun]) if (!r || !(r.batchHandler || r.oneHandler)) throw new Error('the agent registered no receive handler on a fake port');
    const api = udp.batchHandler ? 'agent with batched fake ports (onBatch)' : 'agent with per-datagram fake ports (onDatagram)';
    return { udp, tun, api, counts: () => { const s = agent.status(); return { rsAnswered: s.rsAnswered, forwarded: s.forwarded, drops: s.drops }; } };
  } catch (err) {
    return { unavailable: String(err?.message ?? err).split('\n')[0] };
  }
}

// ---- measurement ------------------------------------------------------------------------------------------

let gcs = 0;
new PerformanceObserver((list) => (gcs += list.getEntries().length)).observe({ entryTypes: ['gc'] });
// GC entries reach the observer asynchronously: wait a little for those of the forced gc() calls.
const settle = () => new Promise((r) => setTimeout(r, 20));

/** CPU ns and wall-clock ns per packet of `batches` deliveries. */
function timeRun(deliver, b, batches) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < batches; k++) deliver(b);
  const wall = Number(process.hrtime.bigint() - t0);
  const c = process.cpuUsage(c0);
  return { cpu: ((c.user + c.system) * 1000) / (batches * BATCH), wall: wall / (batches * BATCH) };
}

/** Heap bytes allocated per packet over `batches` deliveries, or undefined if a collection got in the way. */
async function allocRun(deliver, b, batches) {
  globalThis.gc();
  globalThis.gc();
  await settle();
  const g0 = gcs;
  const h0 = v8.getHeapStatistics().used_heap_size;
  for (let k = 0; k < batches; k++) deliver(b);
  const h1 = v8.getHeapStatistics().used_heap_size;
  await settle();
  return gcs === g0 && h1 >= h0 ? (h1 - h0) / (batches * BATCH) : undefined;
}

async function allocPerPacket(deliver, b) {
  for (let batches = ALLOC_BATCHES; batches >= 1; batches >>= 1) {
    const v = await allocRun(deliver, b, batches);
    if (v !== undefined) return v;
  }
  return NaN;
}

const median = (xs) => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)];
const noop = new FakeReceiver();
noop.onBatch(() => undefined);
const baselineBatch = makeBatch(RS, CLIENT);
for (let k = 0; k < 1000; k++) noop.deliver(baselineBatch);
const baseline = await allocPerPacket((b) => noop.deliver(b), baselineBatch);

const levels = [];
if (LEVELS.includes('engine')) levels.push({ level: 'engine', ...engineLevel() });
if (LEVELS.includes('agent')) levels.push({ level: 'agent', ...(await agentLevel()) });

console.log(`Teredo server per-packet path; ${REPS} runs of ${PACKETS} packets after a warm-up; Node ${process.version}; load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const lv of levels) {
  if (lv.unavailable) {
    console.log(`\n${lv.level}: not measured, this build's agent does not start with fake ports: ${lv.unavailable}`);
    continue;
  }
  const results = [];
  for (const p of PATHS) {
    const receiver = p.tun ? lv.tun : lv.udp;
    const b = makeBatch(p.bytes, p.from);
    const deliver = (x) => receiver.deliver(x);
    // Warm-up (the JIT optimises this path), then enough packets per run for MIN_RUN_MS of CPU time at least,
    // since process.cpuUsage is not precise below a few milliseconds.
    const warm = timeRun(deliver, b, Math.max(1, Math.round(PACKETS / BATCH / 2)));
    const batches = Math.max(Math.round(PACKETS / BATCH), Math.ceil((MIN_RUN_MS * 1e6) / Math.max(1, Math.min(warm.cpu, warm.wall)) / BATCH));
    const runs = [];
    for (let r = 0; r < REPS; r++) runs.push(timeRun(deliver, b, batches));
    const cpu = runs.map((x) => x.cpu);
    const bytes = (await allocPerPacket(deliver, b)) - baseline;
    results.push({ ...p, median: median(cpu), best: Math.min(...cpu), wallBest: Math.min(...runs.map((x) => x.wall)), bytes, load: loadavg()[0] });
  }
  console.log(`\n${lv.level}: ${lv.api}`);
  const rows = [
    ['path', 'CPU ns/packet median', 'best', 'wall ns best', 'bytes/packet', 'load', 'what'],
    ...results.map((r) => [r.name, r.median.toFixed(0), r.best.toFixed(0), r.wallBest.toFixed(0), Number.isNaN(r.bytes) ? '?' : Math.max(0, r.bytes).toFixed(0), r.load.toFixed(1), r.what]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((v, c) => (c === 0 || c === r.length - 1 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ').trimEnd());
  // What the code made of the packets: every path must have done what its name says (a check on the harness).
  console.log(`counters: ${JSON.stringify(lv.counts())}`);
}
process.exit(0); // the agent level leaves its (fake) sockets open
