// A Debian 12 container with systemd as PID 1, for test/netns/deb-systemd.test.ts:
//
//   systemd-nspawn --boot --register=no --keep-unit --private-network --bind=/dev/net/tun -D ROOT
//
// --register=no/--keep-unit: no systemd-machined or host systemd is needed (this machine's own init is not
// systemd). --private-network gives the container a network namespace of its own with CAP_NET_ADMIN in it; the
// test names that namespace (`ip netns attach`, so `ip -n NAME` and `ip netns exec NAME` reach it from the host)
// and moves a veth end into it. Commands run inside through nsenter into the container's PID 1 (its mount, UTS,
// IPC, network and PID namespaces): `systemctl`, `journalctl`, `apt` are the container's own.
// Stopped by SIGTERM to systemd-nspawn (which asks PID 1 to power off), SIGKILL after 60 s.

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import type { ExecResult } from '../../lab/run.js';
import { exec, sleep, waitFor } from '../../lab/run.js';

const MINUTE = 60_000;
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface Container {
  /** PID (on the host) of the container's systemd. */
  readonly leader: number;
  /** Runs argv inside the container, as its root, with a clean environment. */
  inside(argv: readonly string[], timeoutMs?: number): Promise<ExecResult>;
  /** As inside(), throwing with the output on a non-zero exit; resolves with stdout. */
  insideOk(argv: readonly string[], timeoutMs?: number): Promise<string>;
  /** Powers the container off (SIGTERM to systemd-nspawn) and waits for it; SIGKILL after 60 s. */
  stop(): Promise<void>;
}

/** The container's PID 1: systemd-nspawn's child once it runs systemd. */
function leaderOf(nspawn: number): number | undefined {
  const children = readFileSync(`/proc/${nspawn}/task/${nspawn}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  for (const c of children) {
    if (existsSync(`/proc/${c}/comm`) && readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'systemd') return Number(c);
  }
  return undefined;
}

/**
 * Boots `root` and waits for `systemctl is-system-running --wait` (running or degraded: the failed units are
 * named in the error otherwise); the container's network namespace is attached as `netns`.
 * @param logFile the container's console (boot messages)
 */
export async function bootContainer(root: string, netns: string, logFile: string): Promise<Container> {
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn('systemd-nspawn', ['--boot', '--register=no', '--keep-unit', '--private-network',
    '--bind=/dev/net/tun', '--console=read-only', '-D', root], { stdio: ['ignore', log, log] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(MINUTE)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    await exec(['ip', 'netns', 'delete', netns]);
  };
  try {
    const leader = await waitFor('systemd as the container\'s PID 1', async () => {
      if (child.exitCode !== null) throw new Error(`systemd-nspawn exited ${child.exitCode} (console: ${logFile})`);
      return leaderOf(child.pid!);
    }, 2 * MINUTE, 100);
    const inside = (argv: readonly string[], timeoutMs = 2 * MINUTE): Promise<ExecResult> =>
      exec(['nsenter', '-t', String(leader), '-m', '-u', '-i', '-n', '-p', '--', 'env', '-i', PATH, ...argv], { timeoutMs });
    const insideOk = async (argv: readonly string[], timeoutMs?: number): Promise<string> => {
      const r = await inside(argv, timeoutMs);
      if (r.code !== 0) throw new Error(`in the container: ${argv.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
      return r.stdout;
    };
    // Until PID 1 listens on its private socket, systemctl prints nothing (it cannot connect).
    const state = await waitFor('the container\'s systemd to answer', async () => {
      const s = (await inside(['systemctl', 'is-system-running', '--wait'], 5 * MINUTE)).stdout.trim();
      return s === '' ? undefined : s;
    }, 5 * MINUTE, 500);
    if (state !== 'running' && state !== 'degraded') throw new Error(`the container's systemd is ${state} (console: ${logFile})`);
    if (state === 'degraded') {
      const failed = (await inside(['systemctl', '--failed', '--no-legend', '--plain'])).stdout.trim();
      throw new Error(`the container booted degraded, failed units:\n${failed}`);
    }
    const attach = await exec(['ip', 'netns', 'attach', netns, String(leader)]);
    if (attach.code !== 0) throw new Error(`ip netns attach ${netns} ${leader}: ${attach.stderr}`);
    return { leader, inside, insideOk, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
