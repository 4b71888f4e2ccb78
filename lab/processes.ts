// Processes the lab started, identified by PID *and* start time so a recycled PID is never signalled.
// Stopping is always by PID (or by the process group the lab created for it), never by name.

import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './run.js';

const NETNS_DIR = '/run/netns';

/** A process as the lab recorded it: the PID plus its start time in clock ticks since boot (/proc/<pid>/stat). */
export interface ProcId {
  readonly pid: number;
  readonly startTime: string;
}

/** Field 22 of /proc/<pid>/stat, or undefined when the process is gone. */
export function procStartTime(pid: number): string | undefined {
  const stat = readProc(pid, 'stat');
  if (stat === undefined) return undefined;
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19]; // field 22 overall = index 19 after dropping pid and comm
}

export function procId(pid: number): ProcId | undefined {
  const startTime = procStartTime(pid);
  return startTime === undefined ? undefined : { pid, startTime };
}

/** True while the recorded process is alive and is still the same process (not a zombie). */
export function isAlive(p: ProcId): boolean {
  if (procStartTime(p.pid) !== p.startTime) return false;
  const status = readProc(p.pid, 'status');
  return status !== undefined && !/^State:\s+Z/m.test(status);
}

/** Signals the process group the lab created for `p` (spawnDetached makes each occupant a group leader). */
export function signalGroup(p: ProcId, signal: NodeJS.Signals): void {
  if (procStartTime(p.pid) !== p.startTime) return;
  try {
    process.kill(-p.pid, signal);
  } catch {
    try {
      process.kill(p.pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** SIGTERM the group, wait up to graceMs for the leader to exit, then SIGKILL what is left of the group. */
export async function stopGroup(p: ProcId, graceMs = 2000): Promise<void> {
  if (!isAlive(p)) {
    signalGroup(p, 'SIGKILL'); // helpers (e.g. miredo-privproc) may outlive a leader that died
    return;
  }
  signalGroup(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(p) && Date.now() < deadline) await sleep(25);
  signalGroup(p, 'SIGKILL');
  const hardDeadline = Date.now() + 2000;
  while (isAlive(p) && Date.now() < hardDeadline) await sleep(25);
}

/**
 * PIDs of every process whose network namespace is one of the named ones (what `ip netns pids` reports,
 * in a single pass over /proc for all namespaces).
 */
export function pidsInNamespaces(names: readonly string[]): number[] {
  const inodes = new Set<string>();
  for (const n of names) {
    try {
      inodes.add(`net:[${statSync(join(NETNS_DIR, n)).ino}]`);
    } catch {
      // Not mounted (already deleted).
    }
  }
  if (inodes.size === 0) return [];
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (inodes.has(readlinkSync(`/proc/${name}/ns/net`))) out.push(Number(name));
    } catch {
      // Exited meanwhile, or a kernel thread.
    }
  }
  return out;
}

/** Kills (SIGKILL) every process inside the namespaces, then waits until they are gone. */
export async function killNamespaceProcesses(names: readonly string[]): Promise<number> {
  const pids = pidsInNamespaces(names);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + 3000;
  for (const pid of pids) while (procStartTime(pid) !== undefined && !isZombie(pid) && Date.now() < deadline) await sleep(20);
  return pids.length;
}

function isZombie(pid: number): boolean {
  return /^State:\s+Z/m.test(readProc(pid, 'status') ?? '');
}

/** CPU time and memory of a process group, summed over its live members (for `teredo-lab bench`). */
export interface GroupUsage {
  readonly cpuMs: number;
  /** Current resident set, and the largest any member reached (VmHWM), in KiB. */
  readonly rssKiB: number;
  readonly peakRssKiB: number;
}

export function groupUsage(leader: ProcId): GroupUsage {
  const ticksPerSec = 100; // USER_HZ; 100 on every Linux architecture Node supports
  let cpuTicks = 0;
  let rss = 0;
  let peak = 0;
  for (const pid of groupMembers(leader.pid)) {
    const stat = readProc(pid, 'stat');
    const status = readProc(pid, 'status');
    if (!stat || !status) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    cpuTicks += Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
    rss += kib(status, 'VmRSS');
    peak = Math.max(peak, kib(status, 'VmHWM'));
  }
  return { cpuMs: (cpuTicks * 1000) / ticksPerSec, rssKiB: rss, peakRssKiB: peak };
}

function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProc(Number(name), 'stat');
    if (!stat) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[2]) === pgid) out.push(Number(name)); // field 5 = pgrp
  }
  return out;
}

function kib(status: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : 0;
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}
