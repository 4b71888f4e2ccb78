// The Docker engine and the images for test/netns/docker-lab.test.ts, with no image registry:
//
// - startEngine(): uses the daemon that answers, or starts one ONLY as `dockerd --iptables=false
//   --ip-forward=false` (a plain dockerd sets the FORWARD policy to DROP and breaks the netns lab's bridges) and
//   stops it by PID, removing the docker0 bridge and the netns mount it leaves when this run created them;
// - buildImages(): the base images by scripts/docker-base.sh (debootstrap + docker import, kept while their
//   fingerprint label matches), then the agents image and the compose lab's image with --pull=false, each tagged
//   with a fingerprint of its inputs (`teredo-agents:fp-<16 hex>`) and not rebuilt while that tag exists.
//   Older fingerprint tags are removed after a build, so the cache holds one generation.
import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, readdirSync, statSync } from 'node:fs';
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

/** sha256 (16 hex) of the named files and of every file under the named directories, paths included. */
function fingerprint(paths: readonly string[], extra: string): string {
  const h = createHash('sha256').update(extra);
  const add = (rel: string): void => {
    const abs = join(REPO, rel);
    if (statSync(abs).isDirectory()) {
      for (const name of readdirSync(abs).sort()) add(join(rel, name));
    } else {
      h.update(`${rel}\0`).update(readFileSync(abs)).update('\0');
    }
  };
  for (const p of paths) add(p);
  return h.digest('hex').slice(0, 16);
}

async function imageExists(ref: string): Promise<boolean> {
  return (await exec(['docker', 'image', 'inspect', ref])).code === 0;
}

/** Builds `repo:fp-<fp>` unless it exists; drops the repository's other fp- tags. Returns the reference. */
async function cachedBuild(repo: string, fp: string, build: (ref: string) => Promise<void>, log: (l: string) => void): Promise<string> {
  const ref = `${repo}:fp-${fp}`;
  if (await imageExists(ref)) {
    log(`docker-lab: ${ref} cached`);
    return ref;
  }
  const t0 = Date.now();
  await build(ref);
  log(`docker-lab: built ${ref} in ${Math.round((Date.now() - t0) / 1000)} s`);
  const tags = (await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', repo])).split('\n');
  for (const old of tags) if (old.startsWith(`${repo}:fp-`) && old !== ref) await exec(['docker', 'image', 'rm', old]);
  return ref;
}

export interface Images {
  /** The agents image (Dockerfile). */
  readonly agents: string;
  /** The compose lab's image: agents + ip, nft, ping (scripts/docker/lab.Dockerfile). */
  readonly lab: string;
}

/** Base images, agents image, lab image; each step is skipped when its inputs did not change. */
export async function buildImages(log: (l: string) => void): Promise<Images> {
  const t0 = Date.now();
  const base = await exec([join(REPO, 'scripts/docker-base.sh')], { timeoutMs: 20 * MINUTE });
  if (base.code !== 0) throw new Error(`scripts/docker-base.sh failed:\n${base.stderr}`);
  log(`docker-lab: base images ready in ${Math.round((Date.now() - t0) / 1000)} s`);
  const baseIds = await docker(['image', 'inspect', '-f', '{{.Id}}', 'teredo-agents-base:bookworm', 'teredo-agents-build:bookworm']);
  const context = ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.json', 'native/binding.gyp', 'native/build.mjs', 'native/src', 'src', 'agents', 'lab', 'scripts'];
  const agents = await cachedBuild('teredo-agents', fingerprint(context, baseIds), async (ref) => {
    const r = await exec(['docker', 'build', '--pull=false', '--network', 'host', '-t', ref, REPO], { timeoutMs: 20 * MINUTE });
    if (r.code !== 0) throw new Error(`docker build failed:\n${(r.stdout + r.stderr).slice(-3000)}`);
  }, log);
  const labFile = 'scripts/docker/lab.Dockerfile';
  const lab = await cachedBuild('teredo-agents-lab', fingerprint([labFile], agents), async (ref) => {
    const r = await exec(['docker', 'build', '--pull=false', '--network', 'host', '--build-arg', `IMAGE=${agents}`, '-t', ref, '-'], {
      input: readFileSync(join(REPO, labFile), 'utf8'),
      timeoutMs: 10 * MINUTE,
    });
    if (r.code !== 0) throw new Error(`docker build (lab image) failed:\n${(r.stdout + r.stderr).slice(-3000)}`);
  }, log);
  return { agents, lab };
}
