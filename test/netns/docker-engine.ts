// The Docker engine and the images for test/netns/docker-lab.test.ts, with no image registry:
//
// - startEngine(): uses the daemon that answers, or starts one ONLY as `dockerd --iptables=false
//   --ip-forward=false` (a plain dockerd sets the FORWARD policy to DROP and breaks the netns lab's bridges) and
//   stops it by PID, removing the docker0 bridge and the netns mount it leaves when this run created them;
// - baseImages(): the base images by scripts/docker-base.sh (the cached debootstrap root + docker import, kept
//   while their fingerprint label matches); `docker-compose up -d --build` builds the agents and lab images on them
//   (Docker's layer cache keeps what did not change).
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { exec, execOk, sleep, waitFor } from '../../lab/run.js';

export const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const MINUTE = 60_000;

/** Every tool the Docker lab needs; the names of the missing ones (scripts/setup-host.sh installs them). */
export function missingDockerTools(): string[] {
  const onPath = (tool: string): boolean =>
    (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, tool)));
  return ['docker', 'dockerd', 'docker-compose', 'debootstrap'].filter((t) => !onPath(t));
}

export async function docker(args: readonly string[], timeoutMs = 2 * MINUTE): Promise<string> {
  return (await execOk(['docker', ...args], { timeoutMs })).stdout;
}

export interface Engine {
  /** Stops the daemon if this run started it (by PID), and removes what it left on the host. */
  stop(): Promise<void>;
}

export async function startEngine(logFile: string): Promise<Engine> {
  if ((await exec(['docker', 'info'], { timeoutMs: 20_000 })).code === 0) return { stop: async () => {} };
  const hadDocker0 = existsSync('/sys/class/net/docker0');
  const hadNetnsMount = (await exec(['mountpoint', '-q', '/run/docker/netns/default'])).code === 0;
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn('dockerd', ['--iptables=false', '--ip-forward=false'], { stdio: ['ignore', log, log] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(30_000)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    if (!hadDocker0) await exec(['ip', 'link', 'delete', 'docker0']);
    if (!hadNetnsMount) {
      // dockerd bind-mounts the host's netns there; the empty file under the mount stays after the unmount.
      await exec(['umount', '/run/docker/netns/default']);
      await exec(['rm', '-f', '/run/docker/netns/default']);
    }
  };
  try {
    await waitFor('dockerd to answer', async () => ((await exec(['docker', 'info'])).code === 0 ? true : undefined), MINUTE, 250);
  } catch (e) {
    await stop();
    throw new Error(`dockerd did not come up (log: ${logFile})`, { cause: e });
  }
  return { stop };
}

/** The images docker-compose.yml builds (targets `agents` and `lab` of the Dockerfile), by the compose file's default names. */
export const IMAGES = { agents: 'teredo-agents', lab: 'teredo-agents-lab' } as const;

/** The local base images (scripts/docker-base.sh: kept while their fingerprint label matches). */
export async function baseImages(log: (l: string) => void): Promise<void> {
  const t0 = Date.now();
  const base = await exec([join(REPO, 'scripts/docker-base.sh')], { timeoutMs: 20 * MINUTE });
  if (base.code !== 0) throw new Error(`scripts/docker-base.sh failed:\n${base.stderr}`);
  log(`docker-lab: base images ready in ${Math.round((Date.now() - t0) / 1000)} s`);
}
