// The compose lab (docker-compose.yml) and the sidecar use of the image, for real, with no image registry
// (issue 12, Docker). As root, with docker.io, docker-compose and debootstrap (scripts/setup-host.sh installs them);
// a missing one fails the run as root, and only a run without root skips (test/require.ts).
//
// beforeAll: the engine (./docker-engine.ts: the daemon that answers, else `dockerd --iptables=false
// --ip-forward=false` started here and stopped by PID), the base images (scripts/docker-base.sh), then what the
// README says: `docker-compose up -d --build` (it builds the agents and lab images), under a project and bridge
// prefix unique to this run. Checks:
// - `docker-compose exec client ping -6 -c 3 host6` through the NAT, the server and the relay;
// - `docker-compose exec client teredo-client status`: qualified, NAT restricted (Linux masquerade);
// - `rasadv listen status` in the listener lists the advertiser; h6 autoconfigured from the ra-sender;
// - every agent container is healthy (the image's HEALTHCHECK, `<agent> status`);
// - the sidecar: `docker run --network container:APP --cap-add NET_ADMIN --device /dev/net/tun <image>
//   teredo-client --server 198.18.0.10` gives APP a Teredo address and a route; APP pings host6; the sidecar
//   stops on SIGTERM within `docker stop -t 1` (exit 0, not 137);
// - `npm pack` of this checkout installs with `npm install -g` in a fresh container of the local build image
//   (Debian + Node + npm, nothing of ours), and the bins work there, the addon included.
// afterAll: `docker-compose down`, the sidecar pair removed, the engine stopped if started here; then no container,
// bridge or Docker network namespace of this run is left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec, waitFor } from '../../lab/run.js';
import type { Engine } from './docker-engine.js';
import { IMAGES, REPO, baseImages, docker, missingDockerTools, startEngine } from './docker-engine.js';
import { skipWithout } from '../require.js';

const missing = missingDockerTools();

// Unique per run: the compose project (container and network names) and the host bridges' names (<= 15 bytes).
const PREFIX = `tdl${(process.pid % 100_000).toString(36)}`;
const PROJECT = `teredodl${PREFIX}`;
const HOST6 = '2001:db8:6::100';
const MINUTE = 60_000;
// Outcomes come within seconds; the margin is for a loaded machine, where `docker-compose exec` alone takes seconds.
const WAIT = 3 * MINUTE;

let engine: Engine | undefined;
// Set once `docker-compose up` ran: afterAll then takes the project down.
let composed = false;
const sidecar = { app: `${PROJECT}-app`, client: `${PROJECT}-sidecar` };

function compose(args: readonly string[], timeoutMs = 5 * MINUTE): ReturnType<typeof exec> {
  return exec(['docker-compose', '-f', `${REPO}/docker-compose.yml`, '-p', PROJECT, ...args], {
    timeoutMs,
    env: { ...process.env, TEREDO_IMAGE: IMAGES.agents, TEREDO_LAB_IMAGE: IMAGES.lab, TEREDO_LAB_PREFIX: PREFIX },
  });
}

async function inService(service: string, argv: readonly string[]): Promise<{ code: number | null; out: string }> {
  const r = await compose(['exec', '-T', service, ...argv], WAIT);
  return { code: r.code, out: r.stdout + r.stderr };
}

const ourBridges = (): string[] => readdirSync('/sys/class/net').filter((n) => n.startsWith(`${PREFIX}-`));

describe.skipIf(skipWithout('root', process.getuid?.() === 0) || skipWithout(`${missing.join(', ')} (scripts/setup-host.sh)`, missing.length === 0))('the compose lab and the sidecar in Docker (no registry)', { timeout: 10 * MINUTE }, () => {
  beforeAll(async () => {
    const t0 = Date.now();
    engine = await startEngine(`/tmp/${PROJECT}-dockerd.log`);
    await baseImages((l) => console.error(l));
    composed = true;
    const up = await compose(['up', '-d', '--build'], 30 * MINUTE);
    if (up.code !== 0) throw new Error(`docker-compose up -d --build failed:\n${(up.stdout + up.stderr).slice(-3000)}`);
    console.error(`docker-lab: engine, base images and docker-compose up -d --build in ${Math.round((Date.now() - t0) / 1000)} s`);
  }, 40 * MINUTE);

  afterAll(async () => {
    if (composed) {
      await exec(['docker', 'rm', '-f', sidecar.client, sidecar.app]);
      await compose(['down', '--volumes', '--remove-orphans', '-t', '2']);
      const left = await exec(['docker', 'ps', '-aq', '--filter', `label=com.docker.compose.project=${PROJECT}`]);
      expect(left.stdout.trim(), 'containers left by docker-compose down').toBe('');
    }
    await engine?.stop();
    expect(ourBridges(), 'bridges left on the host').toEqual([]);
    if (existsSync('/run/docker/netns')) {
      const namespaces = readdirSync('/run/docker/netns').filter((n) => n !== 'default');
      // Other projects on a daemon that was already running may hold namespaces; with ours, none may remain.
      if ((await exec(['docker', 'info'])).code !== 0) expect(namespaces, 'Docker network namespaces left').toEqual([]);
    }
  }, 5 * MINUTE);

  it('client behind the NAT qualifies (status: qualified, NAT restricted) and pings host6', async () => {
    const status = await waitFor('client qualified', async () => {
      const r = await inService('client', ['teredo-client', 'status']);
      return /^\s*State\s*: qualified$/m.test(r.out) ? r.out : undefined;
    }, WAIT, 500);
    expect(status).toMatch(/^\s*NAT\s*: restricted$/m);
    expect(status).toMatch(/^\s*External NAT Mapping\s*: 198\.18\.0\.101:\d+$/m);
    expect(status).toMatch(/^\s*Teredo Address\s*: 2001:0:c612:a:/m);
    const ping = await inService('client', ['ping', '-6', '-c', '3', 'host6']);
    expect(ping.out).toMatch(/3 packets transmitted, 3 received/);
    expect(ping.code).toBe(0);
  });

  it('the listener lists the advertiser; h6 autoconfigures from the ra-sender', async () => {
    const table = await waitFor('the listener to list RRAS-DOCKER', async () => {
      const r = await inService('listener', ['rasadv', 'listen', 'status']);
      return /RRAS-DOCKER/.test(r.out) ? r.out : undefined;
    }, WAIT, 500);
    expect(table).toMatch(/^\s+192\.168\.77\.1\b.*RRAS-DOCKER\s+yes\b/m);
    const addr = await waitFor('a SLAAC address on h6', async () => {
      const r = await inService('h6', ['ip', '-6', 'addr', 'show', 'scope', 'global', 'dynamic']);
      return /inet6 2001:db8:66:0:[0-9a-f:]+\/64 scope global dynamic/.exec(r.out)?.[0];
    }, WAIT, 500);
    expect(addr).toBeDefined();
  });

  it('every agent container is healthy by the image HEALTHCHECK (<agent> status)', async () => {
    for (const service of ['server', 'relay', 'client', 'adv', 'listener', 'ra']) {
      const state = await waitFor(`${service} healthy`, async () => {
        const id = (await compose(['ps', '-q', service])).stdout.trim();
        const s = (await docker(['inspect', '-f', '{{.State.Health.Status}}', id])).trim();
        return s === 'healthy' ? s : undefined;
      }, WAIT, 500);
      expect(state, service).toBe('healthy');
    }
  });

  it('sidecar: --network container:APP --cap-add NET_ADMIN --device /dev/net/tun gives APP a Teredo address and route', async () => {
    // APP: a plain container on inet4 (IPv6 on in its namespace; Docker turns it off on IPv4-only networks).
    await docker(['run', '-d', '--pull', 'never', '--name', sidecar.app, '--network', `${PROJECT}_inet4`,
      '--sysctl', 'net.ipv6.conf.all.disable_ipv6=0', IMAGES.lab, 'sh', '-c', 'trap "exit 0" TERM; sleep infinity & wait']);
    await docker(['run', '-d', '--pull', 'never', '--name', sidecar.client, '--network', `container:${sidecar.app}`,
      '--cap-add', 'NET_ADMIN', '--device', '/dev/net/tun', IMAGES.agents, 'teredo-client', '--server', '198.18.0.10']);
    const address = await waitFor('a Teredo address in APP', async () => {
      const r = await exec(['docker', 'exec', sidecar.app, 'ip', '-6', 'addr', 'show', 'dev', 'teredo', 'scope', 'global']);
      return /inet6 (2001:0:c612:a:[0-9a-f:]+)\/32/.exec(r.stdout)?.[1];
    }, WAIT, 500);
    const routes = await docker(['exec', sidecar.app, 'ip', '-6', 'route', 'show', 'dev', 'teredo']);
    expect(routes).toMatch(/^default /m);
    expect(routes).toMatch(/^2001::\/32 /m);
    const ping = await exec(['docker', 'exec', sidecar.app, 'ping', '-6', '-c', '3', '-I', address, HOST6], { timeoutMs: MINUTE });
    expect(ping.stdout).toMatch(/3 packets transmitted, 3 received/);
    // The agent in the sidecar runs as uid 10001 with NET_ADMIN and NET_RAW (+ NET_BIND_SERVICE) only.
    const caps = await docker(['exec', sidecar.client, 'sh', '-c', 'grep -E "^(Uid|CapEff):" /proc/1/status']);
    expect(caps).toMatch(/^Uid:\s+10001\s/m);
    expect(caps).toMatch(/^CapEff:\s+0000000000003400$/m);
    await docker(['stop', '-t', '1', sidecar.client]);
    expect((await docker(['inspect', '-f', '{{.State.ExitCode}}', sidecar.client])).trim(), 'exit after SIGTERM (137 = SIGKILL)').toBe('0');
  });

  it('npm pack: the tarball installs with npm install -g in a fresh container of the local build image, and its bins work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tdl-pack-'));
    try {
      // --ignore-scripts: dist/ is already built (npm test builds it first); prepack would build it again.
      const pack = await exec(['npm', 'pack', REPO, '--ignore-scripts', '--silent', '--pack-destination', dir], { timeoutMs: 5 * MINUTE });
      expect(pack.code, pack.stderr).toBe(0);
      const tarball = pack.stdout.trim().split('\n').pop()!;
      const script = [
        'set -e',
        `npm install -g --no-audit --no-fund /pkg/${tarball} >/tmp/npm.log 2>&1 || { tail -30 /tmp/npm.log; exit 1; }`,
        'teredo-server --help >/dev/null && rasadv --help >/dev/null && teredo-relay --help >/dev/null && ra-sender --help >/dev/null',
        'teredo-client decode 2001:0:1117:34fa:1027:374b:e1fc:f635',
        // The addon was built by the package's install script (native/build.mjs): load it.
        'node -e "require(require(\'path\').join(require(\'child_process\').execSync(\'npm root -g\').toString().trim(), \'teredo-agents/native/build/Release/teredo_io.node\')); console.log(\'addon ok\')"',
      ].join('\n');
      const r = await exec(['docker', 'run', '--rm', '--pull', 'never', '--network', 'host', '-v', `${dir}:/pkg:ro`, 'teredo-agents-build:bookworm', 'sh', '-c', script], { timeoutMs: 10 * MINUTE });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('17.23.52.250');
      expect(r.stdout).toContain('addon ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
