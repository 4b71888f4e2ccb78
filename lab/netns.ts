// Turns a LabPlan into kernel state and back, with as few processes as possible:
//   1. one `ip -batch` creates every namespace and turns DAD off in it (namespaceScript),
//   2. one `ip -batch` creates every veth pair with both ends already in their namespaces (nothing ever
//      appears in the host's namespace),
//   3. one `ip -n <ns> -batch` per namespace, all in parallel, sets up bridges, addresses and routes,
//      and in parallel with it one `sysctl` and one `nft -f` per namespace that needs them.
// Teardown kills whatever still runs in the namespaces and deletes them; deleting a namespace destroys its
// veths, bridges and TUN devices with it.

import { readFileSync } from 'node:fs';
import { exec, execOk, inNs, ipBatch } from './run.js';
import { killNamespaceProcesses } from './processes.js';
import { natRuleset } from './nat.js';
import { zooSysctls } from './nat-zoo.js';
import { upnpTables } from './upnp-nat.js';
import { iface, type LabPlan, type NodePlan } from './topology.js';

export function namespaces(plan: LabPlan): string[] {
  return Object.values(plan.nodes).map((n) => n.ns);
}

/**
 * `ip -batch` lines that create namespace `ns` with DAD off for the interfaces made in it later (their IPv6
 * settings copy the namespace's `default` when created). The kernel's own link-local addresses would otherwise
 * stay tentative for 1-2 s after `link up`, and a tentative link-local is no source for Neighbor Solicitations:
 * a node that forwards to a neighbour it has not resolved yet (the server writing a client's RFC 4380 §5.2.9
 * test to host6) holds the packet until DAD ends. A lab's first test lost pings to that (2-3 of 5,
 * test/netns/teredo-client-upnp-requalify.test.ts). Every address in the lab is unique by construction.
 */
function namespaceScript(ns: string): string[] {
  return [`netns add ${ns}`, `netns exec ${ns} sysctl -q -w net.ipv6.conf.default.accept_dad=0`];
}

export async function buildNetwork(plan: LabPlan): Promise<void> {
  await ipBatch(namespaces(plan).flatMap(namespaceScript));
  const ns = (node: string): string => plan.nodes[node]!.ns;
  await ipBatch(plan.links.map((l) => `link add ${l.a.iface} netns ${ns(l.a.node)} type veth peer name ${l.b.iface} netns ${ns(l.b.node)}`));
  const nodes = Object.values(plan.nodes);
  await Promise.all([
    ...nodes.map((n) => ipBatch(nodeScript(n), n.ns)),
    ...nodes.map((n) => applySysctls(n)),
    ...nodes.map((n) => applyNat(plan, n)),
  ]);
}

/** `ip -batch` lines that configure one namespace. */
export function nodeScript(n: NodePlan): string[] {
  const lines = ['link set lo up'];
  if (n.kind === 'switch') {
    const br = n.ifaces.find((i) => i.segment !== 'port')!;
    // No IGMP snooping: multicast (rasadv, MLD, RAs) floods to every port like on a dumb switch, and no
    // querier is needed for group traffic to keep flowing. No IPv6 on the bridge: a switch has no address.
    lines.push(`link add ${br.name} type bridge mcast_snooping 0`, `link set ${br.name} addrgenmode none`, `link set ${br.name} up`);
    for (const p of n.ifaces.filter((i) => i.master)) lines.push(`link set ${p.name} addrgenmode none`, `link set ${p.name} master ${p.master} up`);
    return lines;
  }
  for (const i of n.ifaces) {
    // nodad: static addresses are usable at once (DAD would hold them tentative for a second); the kernel's
    // link-local ones are, by the namespace's accept_dad (namespaceScript).
    for (const a of i.addrs) lines.push(`addr add ${a} dev ${i.name}${a.includes(':') ? ' nodad' : ''}`);
    lines.push(`link set ${i.name} up`);
  }
  for (const r of n.routes) lines.push(`route add ${r}`);
  return lines;
}

async function applySysctls(n: NodePlan): Promise<void> {
  const kv = Object.entries(n.sysctls)
    .filter(([k, v]) => inheritedValue(k) !== v)
    .map(([k, v]) => `${k}=${v}`);
  if (kv.length > 0) await execOk(inNs(n.ns, ['sysctl', '-q', '-w', ...kv]));
}

/**
 * The value a new namespace starts with for the forwarding switches, so bring-up spawns `sysctl` only where
 * a value must change. Per net.core.devconf_inherit_init_net: 0 (default) = IPv4 copies the host's
 * settings, IPv6 starts from kernel defaults; 1 or 3 = both copy the host (we create from the host's
 * namespace); 2 = both start from kernel defaults, where forwarding is 0. Other keys: unknown.
 */
function inheritedValue(key: string): string | undefined {
  const forwardingKeys: Record<string, 'ipv4' | 'ipv6'> = { 'net.ipv4.ip_forward': 'ipv4', 'net.ipv6.conf.all.forwarding': 'ipv6' };
  const family = forwardingKeys[key];
  if (!family) return undefined;
  const inherit = readSysctl('net.core.devconf_inherit_init_net') ?? '0';
  const copiesHost = inherit === '1' || inherit === '3' || (inherit === '0' && family === 'ipv4');
  return copiesHost ? readSysctl(key) : '0';
}

function readSysctl(key: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

async function applyNat(plan: LabPlan, n: NodePlan): Promise<void> {
  const site = n.nat;
  if (n.kind !== 'router' || !site) return;
  if (site.carrier?.node === n.name) {
    // The carrier-grade NAT in front of a home NAT: port-restricted, like the big ones (RFC 6888 asks for
    // endpoint-independent mapping).
    const insideIf = iface(plan, n.name, site.outsideSegment);
    const outsideAddr = site.carrier.outside;
    const ruleset = natRuleset({ kind: 'port-restricted', outsideIf: iface(plan, n.name, 'inet4'), insideIf, clientAddr: site.outside, outsideAddr });
    await execOk(inNs(n.ns, ['nft', '-f', '-']), { input: ruleset });
    return;
  }
  if (site.nat !== n.name) return;
  const ruleset = natRuleset({
    kind: site.kind,
    outsideIf: iface(plan, n.name, site.outsideSegment),
    insideIf: iface(plan, n.name, site.lanSegment),
    clientAddr: site.clientAddr,
    outsideAddr: site.outside,
    ...(site.zoo ? { zoo: site.zoo } : {}),
    ...(site.forwardPort !== undefined ? { forwardPort: site.forwardPort } : {}),
  });
  await execOk(inNs(n.ns, ['nft', '-f', '-']), { input: ruleset });
  if (site.zoo === 'upnp') await execOk(inNs(n.ns, ['nft', '-f', '-']), { input: upnpTables() });
  const kv = Object.entries(zooSysctls(site)).map(([k, v]) => `${k}=${v}`);
  if (kv.length > 0) await execOk(inNs(n.ns, ['sysctl', '-q', '-w', ...kv]));
}

/** Namespaces that exist now and carry the run prefix `<id>-`. */
export async function existingNamespaces(id?: string): Promise<string[]> {
  const r = await exec(['ip', 'netns', 'list']);
  const names = r.stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
  return id === undefined ? names : names.filter((n) => n.startsWith(`${id}-`));
}

/** Kills every process inside, then deletes the namespaces; tolerant of ones already gone. */
export async function destroyNamespaces(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await killNamespaceProcesses(names);
  await exec(['ip', '-force', '-batch', '-'], { input: names.map((n) => `netns del ${n}`).join('\n') + '\n' });
}
