// Preconditions on the host: root, and the Debian packages the lab drives. On a clean machine the first
// `teredo-lab up` installs what is missing by running scripts/setup-host.sh (which keeps Miredo and radvd
// from starting as system services).

import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { LabError } from './errors.js';
import { repoRoot } from './paths.js';

/** Commands the lab, its self-tests and the reference occupants need, with the package providing each. */
const REQUIRED_TOOLS: ReadonlyArray<[string, string]> = [
  ['ip', 'iproute2'],
  ['ss', 'iproute2'],
  ['nft', 'nftables'],
  ['sysctl', 'procps'],
  ['ping', 'iputils-ping'],
  ['miredo', 'miredo'],
  ['miredo-server', 'miredo-server'],
  ['radvd', 'radvd'],
  ['rdisc6', 'ndisc6'],
  ['iperf3', 'iperf3'],
  // The zoo's upnp NAT (lab/upnp-nat.ts) and its self-test.
  ['miniupnpd', 'miniupnpd-nftables'],
  ['stund', 'stun-server'],
  ['natpmpc', 'natpmpc'],
];

export function assertRoot(): void {
  if (process.getuid?.() !== 0) {
    const how = process.env['npm_lifecycle_event'] ? `sudo npm run ${process.env['npm_lifecycle_event']}` : `sudo ${process.argv.slice(1).join(' ')}`;
    throw new LabError('LAB_NOT_ROOT', `the lab needs root: it creates network namespaces, veth pairs and nftables rules (try: ${how})`);
  }
}

export function missingTools(): string[] {
  const path = (process.env['PATH'] ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  return REQUIRED_TOOLS.filter(([cmd]) => !path.some((d) => d && existsSync(join(d, cmd)))).map(([cmd, pkg]) => `${cmd} (${pkg})`);
}

/**
 * Makes sure the host can run a lab: root, tools installed (installing them when `install` is set),
 * /dev/net/tun present. Throws a LabError saying what to do otherwise.
 */
export function ensureHost(opts: { install: boolean; log?: (line: string) => void }): void {
  assertRoot();
  let missing = missingTools();
  if (missing.length > 0 && opts.install) {
    const script = join(repoRoot(), 'scripts', 'setup-host.sh');
    opts.log?.(`teredo-lab: installing missing packages for ${missing.join(', ')} with ${script}`);
    const r = spawnSync(script, { stdio: 'inherit' });
    if (r.status !== 0) throw new LabError('LAB_MISSING_TOOL', `${script} failed (exit ${r.status ?? r.signal})`);
    missing = missingTools();
  }
  if (missing.length > 0) throw new LabError('LAB_MISSING_TOOL', `missing: ${missing.join(', ')}; run scripts/setup-host.sh as root`);
  if (!existsSync('/dev/net/tun')) {
    throw new LabError('LAB_MISSING_TOOL', '/dev/net/tun is missing: load the tun module (modprobe tun) or pass --device /dev/net/tun to the container');
  }
}
