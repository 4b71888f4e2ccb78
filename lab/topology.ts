// The lab's network plan: which nodes exist, how they are wired and which addresses they hold.
// Pure data, computed from the run id alone, so every process (CLI, vitest workers, the demo) that knows the id
// agrees on names without talking to the kernel.
//
//                         inet4: 198.18.0.0/24 (bridge in sw-inet4), global per RFC 4380 §5.2.4
//   ┌───────────┬──────────┬─────────┬───────────┬───────────┬───────────┬───────────┬────────────┐
// server      relay      probe     nat-prc     nat-sym     nat-fc      nat-arc     nat-prc2
// .10 + .11   .20        .30       .101        .102        .103        .104        .105
//   │           │                    │           │           │           │           │
//   │           │                  cli-prc     cli-sym     cli-fc      cli-arc     cli-prc2
//   │           │                  192.168.N.2 behind 192.168.N.1 (N = 1..5 in the order above)
//   │           │   inet6: 2001:db8:6::/64 (bridge in sw-inet6)
//   └───────────┴──────────── host6 2001:db8:6::100 (route 2001::/32 via the relay ::20; server ::10)
//
//   lan6 2001:db8:66::/64 (sw-lan6): ra (RA sender, ::1) ─ h6a, h6b (accept_ra, SLAAC)
//   mlan 192.168.77.0/24 (sw-mlan, multicast, no IGMP snooping): adv .1 (rasadv) ─ lst1 .11, lst2 .12
//
// Names: every namespace is `<id>-<node>`, every interface `<id>-<segment>` inside a node and
// `<id>-<node>` as a bridge port, where <id> is `tl` + two hex digits (e.g. `tl3f`). Linux caps interface
// names at 15 bytes (IFNAMSIZ - 1); planLab checks it.

export type NatKind = 'full-cone' | 'address-restricted' | 'port-restricted' | 'symmetric';

/**
 * What a zoo NAT does beyond its kind (lab/nat-zoo.ts has the rules, docs/lab.md the table):
 * port-forward (the client's Teredo port forwarded to it), hairpin / no-hairpin (two clients on one LAN),
 * cgnat (a carrier-grade NAT in 100.64.0.0/10 in front), sequential / port-preserving (symmetric allocation),
 * timeout-30s (UDP mappings live 30 s), reboot (mappings can be lost and come back on new ports),
 * udp-block (UDP can be blocked and opened), lossy (loss and delay: a delay line, delay-line.ts), upnp (miniupnpd: UPnP IGD, NAT-PMP
 * and PCP map ports on request; lab/upnp-nat.ts).
 */
export type ZooBehaviour = 'port-forward' | 'hairpin' | 'no-hairpin' | 'cgnat' | 'sequential' | 'port-preserving' | 'timeout-30s' | 'reboot' | 'udp-block' | 'lossy' | 'upnp';

/** A host on a NAT's LAN. */
export interface LanHost {
  readonly node: string;
  readonly addr: string;
}

/** One NAT router with its client (zoo sites: clients) behind it. */
export interface NatSite {
  readonly nat: string;
  /** The first client; `clients` lists all of them. */
  readonly client: string;
  readonly kind: NatKind;
  /** Short label used in node names and tables. */
  readonly label: string;
  /** The NAT's address on its outside segment (inet4: its public, mapped address; behind a CGNAT: 100.64/10). */
  readonly outside: string;
  /** Segment towards the Internet: `inet4`, or `wan` (a veth to the carrier NAT) for cgnat. */
  readonly outsideSegment: string;
  /** The NAT's LAN address (the clients' default gateway) and the first client's address, /24. */
  readonly inside: string;
  readonly clientAddr: string;
  /** LAN segment: `lan` (a veth to the one client) or `lan-<label>` (a bridge with several clients). */
  readonly lanSegment: string;
  readonly clients: readonly LanHost[];
  readonly zoo?: ZooBehaviour;
  /** cgnat: the carrier-grade NAT (on inet4 at `outside`, towards this NAT at `inside`). */
  readonly carrier?: { readonly node: string; readonly outside: string; readonly inside: string };
  /** port-forward: the UDP port forwarded to the first client, which its Teredo client binds. */
  readonly forwardPort?: number;
}

/** Fixed addresses: the same in every run, since namespaces isolate runs from each other. */
export const ADDR = {
  inet4Cidr: 24,
  server: '198.18.0.10',
  /** RFC 4380 §5.2.1 / Windows clients assume the secondary server address is primary + 1. */
  server2: '198.18.0.11',
  relay: '198.18.0.20',
  /** A third inet4 host no client has talked to; NAT filtering tests send from it. */
  probe: '198.18.0.30',
  inet6Prefix: '2001:db8:6::/64',
  server6: '2001:db8:6::10',
  relay6: '2001:db8:6::20',
  host6: '2001:db8:6::100',
  teredoPrefix: '2001::/32',
  lan6Prefix: '2001:db8:66::/64',
  ra6: '2001:db8:66::1',
  mlanCidr: 24,
  adv: '192.168.77.1',
  lst1: '192.168.77.11',
  lst2: '192.168.77.12',
  rasadvGroup: '239.255.2.2',
  rasadvPort: 9753,
} as const;

export const NAT_SITES: readonly NatSite[] = [
  site('prc', 'port-restricted', 1),
  site('sym', 'symmetric', 2),
  site('fc', 'full-cone', 3),
  site('arc', 'address-restricted', 4),
  site('prc2', 'port-restricted', 5),
];

/**
 * The NAT zoo (`teredo-lab up --zoo`): realistic behaviours beside the textbook NATs above, built on demand
 * because they double the lab's namespaces. Sites 11..22 in the numbering of site().
 */
export const ZOO_SITES: readonly NatSite[] = [
  { ...site('pf', 'port-restricted', 11), zoo: 'port-forward', forwardPort: 3545 },
  site('hp', 'port-restricted', 12, 'hairpin', 2),
  site('nhp', 'port-restricted', 13, 'no-hairpin', 2),
  {
    ...site('cgn', 'port-restricted', 14, 'cgnat'),
    outside: '100.64.0.2',
    outsideSegment: 'wan',
    carrier: { node: 'cgn', outside: '198.18.0.114', inside: '100.64.0.1' },
  },
  site('seq', 'symmetric', 15, 'sequential'),
  site('pps', 'symmetric', 16, 'port-preserving'),
  site('t30', 'port-restricted', 17, 'timeout-30s'),
  site('rb', 'port-restricted', 18, 'reboot'),
  site('blk', 'port-restricted', 19, 'udp-block'),
  site('loss', 'port-restricted', 20, 'lossy'),
  site('upnp', 'port-restricted', 21, 'upnp'),
  site('upnps', 'symmetric', 22, 'upnp'),
];

/** RFC 6598 shared address space (carrier-grade NAT), the prefix length of the carrier's link. */
export const CGNAT_CIDR = 10;

function site(label: string, kind: NatKind, n: number, zoo?: ZooBehaviour, clients = 1): NatSite {
  const hosts = Array.from({ length: clients }, (_, i) => ({ node: `cli-${label}${i === 0 ? '' : String(i + 1)}`, addr: `192.168.${n}.${i + 2}` }));
  return {
    nat: `nat-${label}`,
    client: hosts[0]!.node,
    kind,
    label,
    outside: `198.18.0.${100 + n}`,
    outsideSegment: 'inet4',
    inside: `192.168.${n}.1`,
    clientAddr: hosts[0]!.addr,
    lanSegment: clients > 1 ? `lan-${label}` : 'lan',
    clients: hosts,
    ...(zoo ? { zoo } : {}),
  };
}

/** The NAT sites of a plan: the textbook ones, plus the zoo (or the part of it) that was built. */
export function natSites(plan: LabPlan): NatSite[] {
  return [...NAT_SITES, ...(plan.zoo ? zooSelection(plan.zooSites) : [])];
}

/**
 * The zoo sites named by their NAT (`['nat-pf', 'nat-nhp']`), in ZOO_SITES order; all of them when `names` is
 * undefined. Throws for a name that is not a zoo NAT.
 */
export function zooSelection(names?: readonly string[]): NatSite[] {
  if (names === undefined) return [...ZOO_SITES];
  const unknown = names.filter((n) => !ZOO_SITES.some((s) => s.nat === n));
  if (unknown.length > 0) throw new Error(`not a zoo NAT: ${unknown.join(', ')}; zoo NATs: ${ZOO_SITES.map((s) => s.nat).join(', ')}`);
  return ZOO_SITES.filter((s) => names.includes(s.nat));
}

export type NodeKind = 'switch' | 'router' | 'host';

export interface IfacePlan {
  readonly name: string;
  /** The segment this interface sits on (`inet4`, `inet6`, `lan6`, `mlan`, `lan-<label>`, or `port`). */
  readonly segment: string;
  /** Addresses with prefix length, e.g. `198.18.0.10/24`, `2001:db8:6::10/64`. */
  readonly addrs: readonly string[];
  /** Bridge this interface is enslaved to (switch ports only). */
  readonly master?: string;
}

export interface NodePlan {
  readonly name: string;
  readonly ns: string;
  readonly kind: NodeKind;
  readonly ifaces: readonly IfacePlan[];
  /** `ip route` arguments, e.g. `default via 192.168.1.1`. */
  readonly routes: readonly string[];
  /** sysctl key → value, applied once links exist. */
  readonly sysctls: Readonly<Record<string, string>>;
  /** Set on NAT routers and their clients. */
  readonly nat?: NatSite;
}

/** A veth pair; each end named inside its own namespace. */
export interface LinkPlan {
  readonly a: { readonly node: string; readonly iface: string };
  readonly b: { readonly node: string; readonly iface: string };
}

export interface LabPlan {
  readonly id: string;
  readonly nodes: Readonly<Record<string, NodePlan>>;
  readonly links: readonly LinkPlan[];
  /** Name a TUN device in this lab must use (carries the run prefix). */
  readonly tunName: string;
  /** Whether the NAT zoo (ZOO_SITES) is part of this lab. */
  readonly zoo?: boolean;
  /** Only these zoo sites, by NAT name (`up --zoo nat-pf,nat-nhp`); all when absent. */
  readonly zooSites?: readonly string[];
}

export interface PlanOptions {
  /** Build the NAT zoo too: true for all of ZOO_SITES, or the NAT names of a part of it (zooSelection). */
  readonly zoo?: boolean | readonly string[];
}

export const LAB_ID_PATTERN = /^tl[0-9a-f]{2}$/;
const IFNAMSIZ_MAX = 15;

export function planLab(id: string, opts: PlanOptions = {}): LabPlan {
  if (!LAB_ID_PATTERN.test(id)) throw new Error(`lab id must look like tl3f (tl + 2 hex digits), got ${JSON.stringify(id)}`);
  const b = new PlanBuilder(id);
  const v4 = (a: string, len: number = ADDR.inet4Cidr): string => `${a}/${len}`;
  const v6 = (a: string): string => `${a}/64`;
  const noForward = { 'net.ipv4.ip_forward': '0', 'net.ipv6.conf.all.forwarding': '0' };

  for (const sw of ['inet4', 'inet6', 'lan6', 'mlan']) b.switch(`sw-${sw}`);

  b.host('server', 'host', noForward);
  b.attach('server', 'inet4', [v4(ADDR.server), v4(ADDR.server2)]);
  b.attach('server', 'inet6', [v6(ADDR.server6)]);

  // The relay routes between Teredo (its TUN, set up by the occupant) and native IPv6 (RFC 4380 §5.4).
  b.host('relay', 'router', { 'net.ipv4.ip_forward': '0', 'net.ipv6.conf.all.forwarding': '1' });
  b.attach('relay', 'inet4', [v4(ADDR.relay)]);
  b.attach('relay', 'inet6', [v6(ADDR.relay6)]);

  b.host('probe', 'host', noForward);
  b.attach('probe', 'inet4', [v4(ADDR.probe)]);

  b.host('host6', 'host', noForward);
  b.attach('host6', 'inet6', [v6(ADDR.host6)]);
  b.route('host6', `${ADDR.teredoPrefix} via ${ADDR.relay6}`);

  const router = { 'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '0' };
  const zooSites = Array.isArray(opts.zoo) ? (opts.zoo as readonly string[]) : undefined;
  for (const s of [...NAT_SITES, ...(opts.zoo ? zooSelection(zooSites) : [])]) {
    b.host(s.nat, 'router', router, s);
    if (s.carrier) {
      // The carrier-grade NAT: on inet4, with the home NAT's WAN behind it (RFC 6598 addresses).
      b.host(s.carrier.node, 'router', router, s);
      b.attach(s.carrier.node, 'inet4', [v4(s.carrier.outside)]);
      b.pointToPoint(s.carrier.node, s.nat, s.outsideSegment, [v4(s.carrier.inside, CGNAT_CIDR)], [v4(s.outside, CGNAT_CIDR)]);
      b.route(s.nat, `default via ${s.carrier.inside}`);
    } else b.attach(s.nat, s.outsideSegment, [v4(s.outside)]);
    if (s.clients.length > 1) b.switch(`sw-${s.lanSegment}`);
    for (const c of s.clients) {
      b.host(c.node, 'host', noForward, s);
      b.route(c.node, `default via ${s.inside}`);
      if (s.clients.length > 1) b.attach(c.node, s.lanSegment, [v4(c.addr)]);
    }
    if (s.clients.length > 1) b.attach(s.nat, s.lanSegment, [v4(s.inside)]);
    else b.pointToPoint(s.nat, s.client, s.lanSegment, [v4(s.inside)], [v4(s.clientAddr)]);
  }

  // radvd (and RFC 4861 §6.2.2 generally) advertises a router lifetime of 0 unless the node forwards.
  b.host('ra', 'router', { 'net.ipv4.ip_forward': '0', 'net.ipv6.conf.all.forwarding': '1' });
  b.attach('ra', 'lan6', [v6(ADDR.ra6)]);
  for (const h of ['h6a', 'h6b']) {
    // Kernel defaults do SLAAC: accept_ra=1 (RAs are taken because forwarding is 0) and autoconf=1.
    b.host(h, 'host', noForward);
    b.attach(h, 'lan6', []);
  }

  const mlan: Array<[string, string]> = [['adv', ADDR.adv], ['lst1', ADDR.lst1], ['lst2', ADDR.lst2]];
  for (const [name, addr] of mlan) {
    b.host(name, 'host', noForward);
    b.attach(name, 'mlan', [v4(addr, ADDR.mlanCidr)]);
    // No default route on this LAN: multicast sends need a route to pick the interface.
    b.route(name, `224.0.0.0/4 dev ${b.ifname('mlan')}`);
  }
  return { ...b.build(), ...(opts.zoo ? { zoo: true } : {}), ...(zooSites ? { zooSites } : {}) };
}

class PlanBuilder {
  private readonly nodes = new Map<string, { plan: Omit<NodePlan, 'ifaces' | 'routes'>; ifaces: IfacePlan[]; routes: string[] }>();
  private readonly links: LinkPlan[] = [];

  constructor(private readonly id: string) {}

  ifname(suffix: string): string {
    const name = `${this.id}-${suffix}`;
    if (Buffer.byteLength(name) > IFNAMSIZ_MAX) throw new Error(`interface name ${name} is longer than ${IFNAMSIZ_MAX} bytes`);
    return name;
  }

  switch(name: string): void {
    this.add({ name, ns: `${this.id}-${name}`, kind: 'switch', sysctls: {} });
    this.get(name).ifaces.push({ name: this.ifname('br'), segment: name.slice('sw-'.length), addrs: [] });
  }

  host(name: string, kind: NodeKind, sysctls: Record<string, string>, nat?: NatSite): void {
    this.add({ name, ns: `${this.id}-${name}`, kind, sysctls, ...(nat ? { nat } : {}) });
  }

  /** Connects `node` to the bridge of `segment` with a veth pair. */
  attach(node: string, segment: string, addrs: string[]): void {
    const sw = `sw-${segment}`;
    const inNode: IfacePlan = { name: this.ifname(segment), segment, addrs };
    const port: IfacePlan = { name: this.ifname(node), segment: 'port', addrs: [], master: this.ifname('br') };
    this.get(node).ifaces.push(inNode);
    this.get(sw).ifaces.push(port);
    this.links.push({ a: { node, iface: inNode.name }, b: { node: sw, iface: port.name } });
  }

  pointToPoint(a: string, b: string, segment: string, addrsA: string[], addrsB: string[]): void {
    const name = this.ifname(segment);
    this.get(a).ifaces.push({ name, segment, addrs: addrsA });
    this.get(b).ifaces.push({ name, segment, addrs: addrsB });
    this.links.push({ a: { node: a, iface: name }, b: { node: b, iface: name } });
  }

  route(node: string, route: string): void {
    this.get(node).routes.push(route);
  }

  build(): LabPlan {
    const nodes: Record<string, NodePlan> = {};
    for (const [name, n] of this.nodes) nodes[name] = { ...n.plan, ifaces: n.ifaces, routes: n.routes };
    return { id: this.id, nodes, links: this.links, tunName: this.ifname('teredo') };
  }

  private add(plan: Omit<NodePlan, 'ifaces' | 'routes'>): void {
    if (this.nodes.has(plan.name)) throw new Error(`duplicate node ${plan.name}`);
    this.nodes.set(plan.name, { plan, ifaces: [], routes: [] });
  }

  private get(name: string): { ifaces: IfacePlan[]; routes: string[] } {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`unknown node ${name}`);
    return n;
  }
}

/** The interface `node` uses on `segment` (e.g. iface(plan, 'server', 'inet4') → 'tl3f-inet4'). */
export function iface(plan: LabPlan, node: string, segment: string): string {
  const n = plan.nodes[node];
  const i = n?.ifaces.find((x) => x.segment === segment);
  if (!i) throw new Error(`node ${node} has no interface on ${segment}`);
  return i.name;
}

export function nodePlan(plan: LabPlan, node: string): NodePlan {
  const n = plan.nodes[node];
  if (!n) throw new Error(`unknown lab node ${JSON.stringify(node)}; nodes: ${Object.keys(plan.nodes).join(', ')}`);
  return n;
}

/** Nodes a user would run commands in (everything but the bridges' namespaces). */
export function endNodes(plan: LabPlan): NodePlan[] {
  return Object.values(plan.nodes).filter((n) => n.kind !== 'switch');
}
