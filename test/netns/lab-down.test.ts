// Self-test of teardown: `teredo-lab down` after a killed `teredo-lab up` leaves no namespace, veth, bridge
// or process; and a lab whose owner dies is removed by its reaper. These tests make their own labs (next
// to the run's shared one) with the compiled CLI, so they need `npm run build`.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { distFile, missingDist } from '../../lab/paths.js';
import { exec, waitFor } from '../../lab/run.js';
import { labDir, readState } from '../../lab/state.js';
import { procStartTime } from '../../lab/processes.js';

const CLI = 'agents/teredo-lab/main.js';

async function freeId(): Promise<string> {
  const used = new Set(await Lab.list());
  for (let i = 0xff; i >= 0; i--) {
    const id = `tl${i.toString(16).padStart(2, '0')}`;
    if (!used.has(id)) return id;
  }
  throw new Error('no free lab id');
}

/** Everything of lab `id` the kernel and /proc still know about. */
async function leftovers(id: string, pids: readonly number[]): Promise<{ namespaces: string[]; links: string[]; processes: number[]; dir: boolean }> {
  const ns = (await exec(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`${id}-`));
  const links = (await exec(['ip', '-o', 'link', 'show'])).stdout.split('\n').filter((l) => l.includes(`${id}-`));
  // Processes: the ones the state file named, plus anything whose command line mentions the lab's directory
  // or its delay line's TUN device (`delay-line --dev <id>-dly`).
  const processes = pids.filter((p) => procStartTime(p) !== undefined && !zombie(p));
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    const cmd = read(`/proc/${name}/cmdline`).replaceAll('\0', ' ');
    if ((cmd.includes(labDir(id)) || cmd.includes(` ${id}-dly `)) && !zombie(Number(name))) processes.push(Number(name));
  }
  return { namespaces: ns, links, processes, dir: existsSync(labDir(id)) };
}

const nothing = { namespaces: [], links: [], processes: [], dir: false };

function read(f: string): string {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
}

function zombie(pid: number): boolean {
  return /^State:\s+Z/m.test(read(`/proc/${pid}/status`));
}

function recordedPids(id: string): number[] {
  const s = readState(id);
  return s ? [...s.occupants, ...(s.daemons ?? [])].map((o) => o.proc.pid).concat(s.reaper ? [s.reaper.pid] : []) : [];
}

/** Starts `teredo-lab up` and SIGKILLs it as soon as `when` holds for its lab. */
async function killedUp(id: string, args: string[], when: (id: string) => Promise<boolean>): Promise<number[]> {
  const missing = missingDist(CLI);
  if (missing) throw new Error(missing);
  const child = spawn(process.execPath, [distFile(CLI), 'up', '--id', id, ...args], { stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  await waitFor(`lab ${id} to reach the kill point`, async () => ((await when(id)) ? true : undefined), 60_000, 10);
  const pids = recordedPids(id);
  child.kill('SIGKILL');
  await exited;
  return pids;
}

async function down(id: string): Promise<void> {
  const r = await exec([process.execPath, distFile(CLI), 'down', '--id', id]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

describe('teredo-lab down after a killed up', () => {
  it('cleans up a lab killed while its namespaces were being built', async () => {
    const id = await freeId();
    const pids = await killedUp(id, [], async () => (await exec(['ip', 'netns', 'list'])).stdout.includes(`${id}-`));
    await down(id);
    expect(await leftovers(id, pids)).toEqual(nothing);
  });

  it('cleans up a lab killed while Miredo occupants were starting', async () => {
    const id = await freeId();
    const pids = await killedUp(id, ['--server', 'miredo', '--relay', 'miredo', '--clients', 'miredo'], async () => (readState(id)?.occupants.length ?? 0) >= 3);
    expect(pids.length).toBeGreaterThanOrEqual(3);
    await down(id);
    expect(await leftovers(id, pids)).toEqual(nothing);
  });

  it('cleans up a lab killed once the lossy NAT\'s delay line runs (its process goes with the namespaces)', async () => {
    const id = await freeId();
    const log = `${labDir(id)}/delay-line@nat-loss.log`;
    await killedUp(id, ['--zoo', 'nat-loss'], async () => read(log).includes('"ready":true'));
    const running = (await leftovers(id, [])).processes;
    expect(running.length).toBe(1); // the delay line, recorded nowhere yet: up was killed before writing it
    await down(id);
    expect(await leftovers(id, running)).toEqual(nothing);
  });

  it('is idempotent: down of a lab that does not exist (any more) succeeds', async () => {
    const id = await freeId();
    await down(id);
    expect(await leftovers(id, [])).toEqual(nothing);
  });
});

describe('the reaper', () => {
  it('removes a lab when its owner process dies', async () => {
    const owner = spawn('sleep', ['600'], { stdio: 'ignore' });
    const lab = await Lab.up({ ownerPid: owner.pid!, occupants: [{ role: 'server', impl: 'miredo' }] });
    const pids = recordedPids(lab.id);
    owner.kill('SIGKILL');
    await waitFor('the reaper to remove the lab', async () => (existsSync(lab.dir) ? undefined : true), 15_000, 100);
    await waitFor('namespaces to go', async () => ((await leftovers(lab.id, pids)).namespaces.length === 0 ? true : undefined), 5_000, 100);
    expect(await leftovers(lab.id, pids)).toEqual(nothing);
  });
});
