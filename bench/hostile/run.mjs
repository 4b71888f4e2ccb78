// Hostile floods, agent by agent: does each of our agents stay alive and keep serving while the lab's probe
// floods it with datagrams it must drop, how much memory does it keep, what does it count, and how much does it
// log? Numbers are printed, never asserted (they depend on the machine and its load).
//
//   npm run build && node bench/hostile/run.mjs [--count 100000] [--rate 20000] [--sockets 64]
//        [--agents server,relay,client,rasadv-listener,relay-poison,relay-tun,client-peers,rasadv-names]
//        [--seed 1] [--attack-scale 1]
//
// The last four are issue 17's attacks at their rates with forged sources (attacks.mjs, spoof-flood.c: each
// measures the traffic that must keep flowing and the agent's RSS before, at its peak and at rest);
// --attack-scale multiplies their datagram counts. The first four are the junk floods below.
//
// One lab of its own (lab/: namespaces `tl<xx>-*`, removed at the end, also on failure or if this process dies)
// with our teredo-server, teredo-relay, a teredo-client behind the full-cone NAT (cli-fc) and rasadv (advertise
// on adv, listen on lst1). Per agent, in turn:
//   server  bench/teredo-server/hostile-flood.c from `probe` to 198.18.0.10:3544 (one in 8 to .11): random bytes,
//           truncations, wild auth headers, lying lengths, bad bubbles and echoes, spoofed sources; meanwhile
//           valid Router Solicitations at 200/s, whose answers are the server's "legit RS" column;
//   relay   relay-flood.c (here) from `probe` to 198.18.0.20:3545: Teredo datagrams to host6 whose IPv6 source
//           embeds the sending socket's own mapping (a peer per socket, taken on its embedded mapping), someone
//           else's (spoofed) or a native address;
//   client  hostile-flood.c from `probe` to the client's NAT mapping (nat-fc's outside address and mapped port:
//           a full-cone NAT lets everybody in), no legitimate RSs;
//   rasadv-listener  hostile-flood.c's mix (junk to a [MS-RASA] parser) from lst2 to 239.255.2.2:9753 on mlan,
//           heard by `rasadv listen` on lst1 beside the lab's advertiser on adv.
// and for each: VmRSS of the agent's process (/proc/<pid>/status) before and after, the drops by reason it
// counts (`<agent> status --json`, the host's `drops`, after minus before), the lines the flood added to its
// log, whether it is alive after, and whether it still serves during the flood and after it (see serving()).
// Defaults are modest for a 2-core machine; raise --count and --rate (0: as fast as the generator can) to push
// harder.
//
// Needs root and a C compiler.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs, printTable } from '../cli.mjs';
import { ATTACKS, runAttack } from './attacks.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const dist = (rel) => join(root, 'dist', rel);
if (!existsSync(dist('lab/lab.js'))) {
  console.error('bench/hostile: run `npm run build` first');
  process.exit(2);
}
const { Lab } = await import(dist('lab/lab.js'));
const { isAlive, signalGroup } = await import(dist('lab/processes.js'));
const { ping6 } = await import(dist('lab/observe.js'));
const { ADDR, NAT_SITES, iface } = await import(dist('lab/topology.js'));
const { agentStatus } = await import(dist('lab/occupant-kit.js'));
const { teredoServerStatus } = await import(dist('lab/occupants/teredo-server-ours.js'));
const { teredoRelayStatus, RELAY_PORT } = await import(dist('lab/occupants/teredo-relay-ours.js'));
const { teredoClientStatus } = await import(dist('lab/occupants/teredo-client-ours.js'));

const { arg, intArg } = benchArgs('bench/hostile');
const COUNT = intArg('count', '100000', 1);
const RATE = intArg('rate', '20000', 0);
const SOCKETS = intArg('sockets', '64', 1);
const SEED = intArg('seed', '1', 1);
const SCALE = Number(arg('attack-scale', '1'));
const ALL = ['server', 'relay', 'client', 'rasadv-listener', ...Object.keys(ATTACKS)];
const AGENTS = arg('agents', ALL.join(',')).split(',');
for (const a of AGENTS) {
  if (!ALL.includes(a)) {
    console.error(`bench/hostile: unknown agent or attack ${a} (${ALL.join(', ')})`);
    process.exit(2);
  }
}
const RELAY_ATTACK = AGENTS.some((a) => a.startsWith('relay-'));
const SITE = NAT_SITES.find((s) => s.kind === 'full-cone');
const CLIENT = SITE.client;

const work = mkdtempSync(join(tmpdir(), 'hostile-'));
const hostile = join(work, 'hostile-flood');
const relayFlood = join(work, 'relay-flood');
const spoof = join(work, 'spoof-flood');
execFileSync('cc', ['-O2', '-Wall', '-o', hostile, join(here, '..', 'teredo-server', 'hostile-flood.c')], { stdio: 'inherit' });
execFileSync('cc', ['-O2', '-Wall', '-o', relayFlood, join(here, 'relay-flood.c')], { stdio: 'inherit' });
execFileSync('cc', ['-O2', '-Wall', '-o', spoof, join(here, 'spoof-flood.c')], { stdio: 'inherit' });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const vmRssKiB = (pid) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
// Log lines, less those naming the lab's advertiser: `rasadv listen --json` prints one per advertisement heard,
// and the serving check below makes it advertise; what is left is what the flood caused.
const logLines = (file) => readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.includes(`"${ADDR.adv}"`)).length;

/** RcvbufErrors of the Udp: lines of /proc/<pid>/net/snmp: datagrams the kernel dropped in the agent's namespace, its receive buffer full. */
function rcvbufErrors(pid) {
  const [names, values] = readFileSync(`/proc/${pid}/net/snmp`, 'utf8').split('\n').filter((l) => l.startsWith('Udp: ')).map((l) => l.split(/\s+/));
  return Number(values[names.indexOf('RcvbufErrors')]);
}

/** The generator's argv for one agent; the client's target is read from its status. */
async function floodArgv(lab, agent) {
  const common = ['--count', String(COUNT), '--rate', String(RATE), '--sockets', String(SOCKETS), '--seed', String(SEED)];
  if (agent === 'server') return [hostile, '--server', ADDR.server, '--secondary', ADDR.server2, '--legit-rate', '200', ...common];
  if (agent === 'relay') return [relayFlood, '--relay', ADDR.relay, '--port', String(RELAY_PORT), '--source', ADDR.probe, '--server', ADDR.server, '--dst', ADDR.host6, ...common];
  if (agent === 'rasadv-listener') {
    // lst2 has no route to the group (its listener binds the group, it never sends there): one, via mlan.
    await lab.execOk(FLOOD_NODE[agent], ['ip', 'route', 'replace', `${ADDR.rasadvGroup}/32`, 'dev', iface(lab.plan, FLOOD_NODE[agent], 'mlan')]);
    return [hostile, '--server', ADDR.rasadvGroup, '--port', String(ADDR.rasadvPort), '--legit-rate', '0', ...common];
  }
  const s = await teredoClientStatus({ exec: (argv, opts) => lab.exec(CLIENT, argv, opts) });
  if (!s?.mappedAddress || !s.mappedPort) throw new Error(`bench/hostile: the client has no mapping: ${JSON.stringify(s)}`);
  return [hostile, '--server', s.mappedAddress, '--port', String(s.mappedPort), '--legit-rate', '0', ...common];
}

/** Where each flood comes from: the inet4 probe, or the other listener's node on the multicast LAN. */
const FLOOD_NODE = { server: 'probe', relay: 'probe', client: 'probe', 'rasadv-listener': 'lst2' };
const rasadvListenStatus = (ctx) => agentStatus(ctx, [process.execPath, dist('agents/rasadv/main.js'), 'listen']);
const rasadvAdvertiseStatus = (ctx) => agentStatus(ctx, [process.execPath, dist('agents/rasadv/main.js'), 'advertise']);
const STATUS = { server: teredoServerStatus, relay: teredoRelayStatus, client: teredoClientStatus, 'rasadv-listener': rasadvListenStatus };
const nodeCtx = (lab, node) => ({ exec: (argv, opts) => lab.exec(node, argv, opts) });

/**
 * Is the agent serving, over about `seconds`: { sent, received }. Teredo agents: the client's ping6 to host6
 * (through client and relay; the server answers the flood's legitimate RSs besides). The rasadv listener: the
 * advertiser is made to advertise every 0.5 s (SIGUSR1) and the listener's count for it must follow.
 */
async function serving(lab, agent, seconds) {
  if (agent !== 'rasadv-listener') return ping6(lab, CLIENT, ADDR.host6, Math.max(10, Math.round(seconds / 0.25)), 0.25);
  const adv = lab.occupants().find((o) => o.role === 'rasadv');
  const counts = async () => ({
    sent: (await rasadvAdvertiseStatus(nodeCtx(lab, adv.node)))?.interfaces.reduce((a, i) => a + i.sent, 0) ?? 0,
    heard: (await rasadvListenStatus(nodeCtx(lab, 'lst1')))?.list.find((x) => x.sender === ADDR.adv)?.count ?? 0,
  });
  const c0 = await counts();
  for (let i = 0; i < Math.max(5, Math.round(seconds / 0.5)); i++) {
    signalGroup(adv.proc, 'SIGUSR1');
    await sleep(500);
  }
  const c1 = await counts();
  return { sent: c1.sent - c0.sent, received: c1.heard - c0.heard };
}

async function floodOne(lab, agent) {
  const rec = lab.occupants().find((o) => o.role === agent);
  const status = () => STATUS[agent](nodeCtx(lab, rec.node));
  const argv = await floodArgv(lab, agent);
  const s0 = await status();
  const before = { rss: vmRssKiB(rec.proc.pid), drops: s0?.drops ?? {}, toNative: s0?.toNative?.packets ?? 0, kernel: rcvbufErrors(rec.proc.pid), lines: logLines(rec.logFile) };
  const seconds = RATE ? COUNT / RATE : COUNT / 50_000;
  // The serving check runs as long as the flood is planned to, started together with it.
  const [gen, during] = await Promise.all([
    lab.execOk(FLOOD_NODE[agent], argv, { timeoutMs: (seconds * 3 + 30) * 1000 }).then((r) => JSON.parse(r.stdout)),
    serving(lab, agent, seconds),
  ]);
  await sleep(1000);
  const alive = isAlive(rec.proc);
  const after = await serving(lab, agent, 2.5);
  const s = await status();
  const drops = {};
  for (const [k, v] of Object.entries(s?.drops ?? {})) if (v - (before.drops[k] ?? 0) > 0) drops[k] = v - (before.drops[k] ?? 0);
  return {
    agent,
    sent: gen.sent ?? gen.datagrams,
    sentPerSec: gen.sentPerSec,
    legit: gen.legit?.sent ? `${gen.legit.answered}/${gen.legit.sent}` : '-',
    junkReplies: gen.junkReplies ?? '-',
    // The relay's share of the flood it relayed (embedded-source peers) and its peer table after.
    relayed: agent === 'relay' ? `${(s?.toNative?.packets ?? 0) - before.toNative} (${s?.peers} of ${s?.maxPeers} peers)` : '-',
    alive: alive && s !== undefined,
    during,
    after,
    rss: { before: before.rss, after: alive ? vmRssKiB(rec.proc.pid) : NaN },
    kernelDrops: alive ? rcvbufErrors(rec.proc.pid) - before.kernel : NaN,
    drops,
    logLines: logLines(rec.logFile) - before.lines,
  };
}

const results = [];
const attackResults = [];
const startLoad = loadavg();
let lab;
try {
  lab = await Lab.up({ ownerPid: process.pid, log: (l) => console.error(l), occupants: [{ role: 'server', impl: 'ours' }, { role: 'relay', impl: 'ours' }] });
  await lab.startOccupant({ role: 'client', impl: 'ours', node: CLIENT });
  if (RELAY_ATTACK) await Promise.all(['cli-sym', 'cli-prc'].map((node) => lab.startOccupant({ role: 'client', impl: 'ours', node })));
  if (AGENTS.includes('rasadv-listener') || AGENTS.includes('rasadv-names')) await lab.startOccupants([{ role: 'rasadv-listener', impl: 'ours', node: 'lst1' }, { role: 'rasadv', impl: 'ours' }]);
  console.error(`lab ${lab.id} up; ${COUNT} datagrams per agent at ${RATE || 'max'}/s from ${SOCKETS} sockets`);
  await ping6(lab, CLIENT, ADDR.host6, 3); // warm-up: the client's relay discovery and bubbles
  // The symmetric-NAT client's warm-up makes it proven by the relay's nonce (host6's reply is queued, bubbled).
  if (RELAY_ATTACK) await ping6(lab, 'cli-sym', ADDR.host6, 3);
  const kit = {
    lab, ADDR, RELAY_PORT, spoof, ping6, rcvbufErrors, logLines, iface, isAlive, scale: SCALE,
    clientStatus: (node) => teredoClientStatus(nodeCtx(lab, node)),
    status: (role) => STATUS[role](nodeCtx(lab, lab.occupants().find((o) => o.role === role && (role !== 'client' || o.node === CLIENT)).node)),
  };
  for (const agent of AGENTS) {
    if (agent in ATTACKS) {
      const r = await runAttack(agent, kit);
      attackResults.push(r);
      console.error(`${agent}: ${JSON.stringify(r)}`);
      continue;
    }
    const r = await floodOne(lab, agent);
    results.push(r);
    console.error(`${agent}: ${JSON.stringify(r)}`);
    await sleep(2000); // let the machine settle before the next agent
  }
} finally {
  if (lab) await lab.down();
  rmSync(work, { recursive: true, force: true });
}

const mib = (kib) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MiB` : '-');
const ping = (p) => `${p.received}/${p.sent}`;
const rows = [
  ['agent', 'flood sent', 'sent/s', 'alive', 'serving during', 'after', 'legit RS answered', 'replies to junk', 'relayed (peers)', 'RSS before', 'RSS after', 'drops counted', 'kernel drops', 'log lines'],
  ...results.map((r) => [
    r.agent,
    String(r.sent),
    r.sentPerSec.toFixed(0),
    r.alive ? 'yes' : 'NO',
    ping(r.during),
    ping(r.after),
    r.legit,
    String(r.junkReplies),
    r.relayed,
    mib(r.rss.before),
    mib(r.rss.after),
    String(Object.values(r.drops).reduce((a, b) => a + b, 0)),
    String(r.kernelDrops),
    String(r.logLines),
  ]),
];
const load = (l) => l.map((x) => x.toFixed(2)).join(' ');
if (results.length > 0) console.log(`Hostile floods: ${COUNT} datagrams per agent at ${RATE || 'max'}/s offered from ${SOCKETS} sockets, seed ${SEED}; load average ${load(startLoad)} at start, ${load(loadavg())} at end`);
if (results.length > 0) printTable(rows);
if (results.length > 0) console.log('kernel drops: RcvbufErrors in the agent\'s namespace (its receive buffer was full); drops counted: the agent\'s own, by reason below');
if (results.length > 0) console.log(`serving: answered/sent of the ${CLIENT} client's ping6 to host6 (Teredo agents), advertisements heard/sent (rasadv listener)`);
for (const r of results) {
  console.log(`drops by reason, ${r.agent}: ${Object.entries(r.drops).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
}

if (attackResults.length > 0) {
  console.log(`\nIssue 17's attacks (spoof-flood.c); load average ${load(startLoad)} at start, ${load(loadavg())} at end`);
  printTable([
    ['attack', 'dead', 'sent', 'sent/s', 'distinct peers', 'measured during the flood (received/sent)', 'table after flood -> at rest (proven/pending/embedded)', 'RSS before', 'peak', 'at rest', 'kept', 'kernel drops', 'log lines'],
    ...attackResults.map((r) => [r.attack, r.dead.join(' ') || 'none', String(r.sent), String(r.sentPerSec), String(r.peers), r.measured, r.table, mib(r.rss.before), mib(r.rss.peak), mib(r.rss.after), mib(r.rss.after - r.rss.before), String(r.kernelDrops), String(r.logLines)]),
  ]);
  for (const r of attackResults) console.log(`drops by reason, ${r.attack}: ${Object.entries(r.drops).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
}
