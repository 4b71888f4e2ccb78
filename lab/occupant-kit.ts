// Helpers for occupant modules (lab/occupants/*): finding binaries, writing configs, probing sockets and
// addresses inside a node, reading an agent's status (`status --json`), describing Teredo addresses.

import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OccupantContext, ToolProbe } from './occupant.js';
import { decodeTeredoAddress } from '../src/wire/teredo-address.js';
import { parseIpv6 } from '../src/wire/ipv6-address.js';
import { formatIpv4 } from '../src/wire/ipv4.js';
import type { AgentStatus } from '../src/runtime/status.js';

const SEARCH_PATH = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The real ToolProbe: the command is in one of the system directories. */
export const installedTool: ToolProbe = (bin) => SEARCH_PATH.some((d) => existsSync(join(d, bin)));

/** Undefined when `bin` is installed, else why not (the message names the Debian package). */
export function missingBinary(bin: string, pkg: string, installed: ToolProbe): string | undefined {
  return installed(bin) ? undefined : `${bin} is not installed (apt-get install ${pkg}, or scripts/setup-host.sh)`;
}

/** Writes a config file readable by daemons that drop root (miredo runs as user `miredo`). */
export function writeConfig(ctx: OccupantContext, name: string, text: string): string {
  const file = join(ctx.dir, name);
  writeFileSync(file, text, { mode: 0o644 });
  return file;
}

/** Reference configs must never name anything outside the lab: refuse any IPv4 not on a lab segment. */
export function assertLabIpv4(addr: string): string {
  if (!/^(198\.18\.0|192\.168\.\d{1,3})\.\d{1,3}$/.test(addr)) throw new Error(`refusing a non-lab address in an occupant config: ${addr}`);
  return addr;
}

/** Local UDP endpoints (addr:port) bound in the node, from `ss`. */
export async function udpListeners(ctx: OccupantContext): Promise<string[]> {
  const r = await ctx.exec(['ss', '-Hnlu']);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[3])
    .filter((x): x is string => x !== undefined);
}

/** Global IPv6 addresses (without prefix length) on an interface of the node; [] when it does not exist. */
export async function globalAddrs6(ctx: OccupantContext, ifname: string): Promise<string[]> {
  const r = await ctx.exec(['ip', '-6', '-o', 'addr', 'show', 'dev', ifname, 'scope', 'global']);
  if (r.code !== 0) return [];
  return [...r.stdout.matchAll(/inet6 ([0-9a-f:]+)\/\d+/g)].map((m) => m[1]!);
}

/**
 * An agent's status object, as its runtime-owned `<program> status --json` prints it (src/runtime/status.ts),
 * run in the node; undefined when the agent does not answer (yet) or prints something else. `program` is the
 * agent's command without the subcommand, e.g. [node, main.js] or [node, main.js, 'listen']; S is the agent's
 * status type (agents/<name>/status.ts), so the occupant reads the fields the agent defines.
 */
export async function agentStatus<S>(ctx: Pick<OccupantContext, 'exec'>, program: readonly string[]): Promise<AgentStatus<S> | undefined> {
  const r = await ctx.exec([...program, 'status', '--json', '--timeout', '1000']);
  if (r.code !== 0) return undefined;
  try {
    return JSON.parse(r.stdout) as AgentStatus<S>;
  } catch {
    return undefined;
  }
}

export async function linkExists(ctx: OccupantContext, ifname: string): Promise<boolean> {
  return (await ctx.exec(['ip', 'link', 'show', 'dev', ifname])).code === 0;
}

/** Human view of a Teredo address: the public mapping and server it encodes (RFC 4380 §4). */
export function describeTeredo(addr: string): Record<string, string> {
  const t = decodeTeredoAddress(parseIpv6(addr));
  return {
    mapped: `${formatIpv4(t.mappedAddr)}:${t.mappedPort}`,
    server: formatIpv4(t.server),
    cone: t.cone ? 'yes' : 'no',
  };
}
