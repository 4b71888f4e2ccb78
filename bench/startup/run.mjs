#!/usr/bin/env node
// Start-up of teredo-client, process start -> qualified with its NAT type, in a running lab
// (`teredo-lab up --id ID --server ours --relay ours`; root). Printed, never asserted.
//
//   node bench/startup/run.mjs --lab ID [--nodes cli-fc,cli-sym] [--rounds 5] [--main dist/agents/teredo-client/main.js]
//   (NODE_FLAGS='--flag ...' adds V8/Node flags to the ones of the --main file's shebang)
//
// For each client node and round: spawns the client in the node's namespace and reads its pino log from stdout
// (no polling process next to it): the time from spawn() to the "client running" line (Node's start-up, module
// loading, the TUN device and sockets), to the "state" qualified line (the Teredo address is configured), and
// the client's own qualificationMs (first RS to qualified). Then SIGTERM, and the next.

import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { benchArgs, printTable } from '../cli.mjs';

const { arg, intArg } = benchArgs('bench/startup');
const lab = arg('lab');
if (!lab) throw new Error('--lab ID is required (a lab up with --server ours --relay ours)');
const nodes = arg('nodes', 'cli-fc,cli-arc,cli-prc,cli-prc2,cli-sym').split(',');
const rounds = intArg('rounds', 5, 1);
const main = arg('main', new URL('../../dist/agents/teredo-client/main.js', import.meta.url).pathname);
// The bin's own V8 flags (its shebang's, as the bin runs), then any of NODE_FLAGS (space-separated) to try.
const { shebangFlags } = await import('../../dist/lab/paths.js');
const flags = [...shebangFlags(main), ...(process.env.NODE_FLAGS ?? '').split(' ').filter(Boolean)];
const SERVER = '198.18.0.10';
const SERVER2 = '198.18.0.11';

function once(node) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('ip', ['netns', 'exec', `${lab}-${node}`, process.execPath, ...flags, main, '--server', SERVER, '--secondary-server', SERVER2, '--interface', `${lab}-hlb`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const out = {};
    let buf = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (d) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        const at = performance.now() - t0;
        if (line.msg === 'client running') out.running = at;
        if (line.msg === 'state' && line.state === 'qualified') {
          Object.assign(out, { qualified: at, nat: line.nat, qualificationMs: line.qualificationMs });
          child.kill('SIGTERM');
        }
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      if (out.qualified !== undefined) resolve(out);
      else reject(new Error(`${node}: not qualified`));
    });
  });
}

console.log(`teredo-client start-up in lab ${lab}, ${rounds} rounds, load ${loadavg().map((l) => l.toFixed(2)).join(' ')} at start`);
const table = [['node', 'NAT type', 'spawn -> "client running"', 'spawn -> qualified', 'first RS -> qualified (client)']];
for (const node of nodes) {
  const rows = [];
  for (let i = 0; i < rounds; i++) rows.push(await once(node));
  const range = (k) => `${Math.min(...rows.map((r) => r[k])).toFixed(0)}-${Math.max(...rows.map((r) => r[k])).toFixed(0)} ms`;
  const med = (k) => rows.map((r) => r[k]).sort((a, b) => a - b)[rows.length >> 1].toFixed(0);
  table.push([node, String(rows[0].nat), `${range('running')} (median ${med('running')})`, `${range('qualified')} (median ${med('qualified')})`, range('qualificationMs')]);
}
printTable(table);
console.log(`load ${loadavg().map((l) => l.toFixed(2)).join(' ')} at end`);
