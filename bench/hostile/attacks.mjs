// The attacks of issue 17 at their rates, on real sockets in the lab, for bench/hostile/run.mjs
// (`--agents relay-poison,relay-tun,client-peers,rasadv-names`). Each floods with spoof-flood.c (here) and
// measures, during the flood, the traffic that must keep flowing, and the agent's RSS before, at its peak and
// after (once its tables are back at rest: peers expire 30 s after their last packet, RFC 4380 §5.2.4):
//
//   relay-poison  ~56k/s Teredo datagrams from forged sources whose Teredo address embeds the source (§5.4.2 (b)),
//                 --peers distinct (default 200,000: above the default table's embedded pool of 131,072), while
//                 the symmetric-NAT client (cli-sym, proven by the relay's nonce before) pings host6 and host6
//                 pings a client the relay did not know (cli-prc, qualified but silent until then).
//   relay-tun     the native side's flood: host6 sends from a second /64 (2001:db8:6:1::100, another native
//                 host as far as the relay can tell) to --peers distinct Teredo destinations (default 1,200,000:
//                 more than the table holds) while the same two pings are measured.
//   client-peers  ~97k/s from 20,000 forged peers (self-embedding) to the full-cone client's mapping, while that
//                 client pings host6.
//   rasadv-names  ~20k/s advertisements from 100,000 forged senders on the multicast LAN, 3 in 4 with maximal
//                 names (a new entry each), 1 in 4 with a 1,400-byte host name; the listener's table and log.
//
// Numbers are printed by run.mjs, never asserted.

import { readFileSync } from 'node:fs';

/** The native-side attacker's source: on host6, in another /64 than host6's own address. */
const ATTACKER6 = '2001:db8:6:1::100';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** VmRSS of a process in KiB; NaN when it is gone. */
export function vmRssKiB(pid) {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** The namespace's UDP receive-buffer drops, NaN when the process is gone. */
function kernelDrops(k, pid) {
  try {
    return k.rcvbufErrors(pid);
  } catch {
    return NaN;
  }
}

/** Occupants that died during an attack (printed with the end of their log, so that the run says why). */
function deaths(k) {
  const dead = k.lab.occupants().filter((o) => !k.isAlive(o.proc));
  for (const o of dead) console.error(`bench/hostile: ${o.role} on ${o.node} is dead; its log ends:\n${readFileSync(o.logFile, 'utf8').split('\n').slice(-15).join('\n')}`);
  return dead.map((o) => `${o.role}@${o.node}`);
}

/** The attacks: which occupant is measured, default rate, count and distinct peers. */
export const ATTACKS = {
  'relay-poison': { role: 'relay', rate: 56_000, seconds: 20, peers: 200_000 },
  'relay-tun': { role: 'relay', rate: 56_000, seconds: 20, peers: 1_200_000 },
  'client-peers': { role: 'client', rate: 97_000, seconds: 10, peers: 20_000 },
  'rasadv-names': { role: 'rasadv-listener', rate: 20_000, seconds: 10, peers: 100_000 },
};

/**
 * Runs one attack. `k`: { lab, ADDR, RELAY_PORT, spoof (the generator's path), ping6, clientStatus(node),
 * status(role) (the agent's status --json), rcvbufErrors(pid), logLines(file), scale (multiplies the count) }.
 */
export async function runAttack(name, k) {
  const a = ATTACKS[name];
  const { lab, ADDR } = k;
  const rec = lab.occupants().find((o) => o.role === a.role && (a.role !== 'client' || o.node === 'cli-fc'));
  const count = Math.round(a.rate * a.seconds * k.scale);
  const common = ['--count', String(count), '--rate', String(a.rate), '--peers', String(a.peers)];
  let node;
  let argv;
  const measured = [];
  if (name === 'relay-poison' || name === 'relay-tun') {
    const fresh = await k.clientStatus('cli-prc');
    measured.push({ what: 'cli-sym -> host6', run: (n) => k.ping6(lab, 'cli-sym', ADDR.host6, n, 0.25) });
    measured.push({ what: `host6 -> cli-prc (new to the relay)`, run: (n) => k.ping6(lab, 'host6', fresh.address, n, 0.25) });
    if (name === 'relay-poison') {
      node = 'probe';
      argv = [k.spoof, '--mode', 'teredo', '--dst', ADDR.relay, '--port', String(k.RELAY_PORT), '--server', ADDR.server, '--dst6', ADDR.host6, '--src-base', '198.18.0.128', '--src-hosts', '100', ...common];
    } else {
      node = 'host6';
      // Deprecated at once (preferred_lft 0): the generator binds it, host6's own pings never pick it as source.
      await lab.execOk('host6', ['ip', '-6', 'addr', 'replace', `${ATTACKER6}/128`, 'dev', k.iface(lab.plan, 'host6', 'inet6'), 'nodad', 'preferred_lft', '0']);
      argv = [k.spoof, '--mode', 'tun', '--server', ADDR.server, '--src6', ATTACKER6, ...common];
    }
  } else if (name === 'client-peers') {
    const s = await k.clientStatus('cli-fc');
    node = 'probe';
    argv = [k.spoof, '--mode', 'teredo', '--dst', s.mappedAddress, '--port', String(s.mappedPort), '--server', ADDR.server, '--dst6', s.address, '--src-base', '198.18.0.128', '--src-hosts', '100', ...common];
    measured.push({ what: 'cli-fc -> host6', run: (n) => k.ping6(lab, 'cli-fc', ADDR.host6, n, 0.25) });
  } else {
    node = 'lst2';
    argv = [k.spoof, '--mode', 'rasadv', '--dst', ADDR.rasadvGroup, '--port', String(ADDR.rasadvPort), '--src-base', '192.168.77.100', '--src-hosts', '100', ...common];
  }
  const s0 = await k.status(a.role);
  const before = { rss: vmRssKiB(rec.proc.pid), kernel: kernelDrops(k, rec.proc.pid), lines: k.logLines(rec.logFile), drops: s0?.drops ?? {} };
  let peak = before.rss;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, vmRssKiB(rec.proc.pid) || 0);
      await sleep(200);
    }
  })();
  // The measured traffic starts 1 s into the flood, when the tables are already under pressure, and goes on in
  // rounds of 10 pings (0.25 s apart) until the generator is done: a loaded machine may send slower than asked.
  let done = false;
  const flood = lab.execOk(node, argv, { timeoutMs: (count / 2000 + 60) * 1000 }).then((r) => ((done = true), JSON.parse(r.stdout)));
  const measure = async (m) => {
    await sleep(1000);
    const total = { sent: 0, received: 0 };
    while (!done) {
      const p = await m.run(10);
      total.sent += p.sent;
      total.received += p.received;
    }
    return total;
  };
  const [gen, ...during] = await Promise.all([flood, ...measured.map(measure)]);
  const sFlood = await k.status(a.role);
  // At rest again: every flood peer expired (30 s after its last packet), queues drained; RSS sampled until then.
  for (let t = 0; t < 40; t++) await sleep(1000);
  sampling = false;
  await sampler;
  const dead = deaths(k);
  const sAfter = await k.status(a.role);
  const after = vmRssKiB(rec.proc.pid);
  const drops = {};
  for (const [r, v] of Object.entries(sAfter?.drops ?? {})) if (v - (before.drops[r] ?? 0) > 0) drops[r] = v - (before.drops[r] ?? 0);
  return {
    attack: name,
    dead,
    sent: gen.sent,
    sentPerSec: gen.sentPerSec,
    sendErrors: gen.sendErrors,
    peers: gen.peers,
    measured: measured.map((m, i) => `${m.what} ${during[i].received}/${during[i].sent}`).join('; ') || '-',
    table: tableOf(a.role, sFlood, sAfter),
    rss: { before: before.rss, peak, after },
    kernelDrops: kernelDrops(k, rec.proc.pid) - before.kernel,
    drops,
    logLines: k.logLines(rec.logFile) - before.lines,
  };
}

/** The agent's table right after the flood and at rest. */
function tableOf(role, s, rest) {
  if (role === 'relay') {
    const c = (x) => `${x?.peers} peers (${x?.classes?.proven}/${x?.classes?.pending}/${x?.classes?.embedded}), ${x?.queuedBytes} B queued`;
    return `${c(s)} -> ${c(rest)}; ${rest?.peersEvicted} evicted`;
  }
  if (role === 'client') return `${s?.peers?.count} peers -> ${rest?.peers?.count}`;
  return `${s?.list?.length} servers -> ${rest?.list?.length}`;
}
