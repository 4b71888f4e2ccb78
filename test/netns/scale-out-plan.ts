// The network of the scale-out test (relay-scale-out.test.ts): its own namespaces `hs-<node>`, apart from the
// shared lab, built and torn down by the lab's own code (lab/netns.ts, NATs from lab/nat.ts):
//
//             inet4 198.18.0.0/24 (bridge in hs-sw-inet4)
//   ┌─────────────┬──────────────┬─────────────┬────────────┬────────────┐
// server       relay-a        relay-b       nat-prc      nat-sym      nat-fc     (.101-.103, lab/topology.ts)
// .10 + .11    .21            .22             │            │            │
//   │            │  BGP, AS 65001  │          cli-prc      cli-sym      cli-fc    (our teredo-client)
//   │            │                 │
//   └────────────┴── core6 2001:db8:60::/64 (bridge in hs-sw-core6) ──┐
//     ::10          ::a            ::b                              up ::1 (BIRD, AS 65000; ECMP 2001::/32)
//                                                                    │ edge6 2001:db8:6::/64
//                                                                  host6 ::100
//
// Each relay node runs teredo-relay (device "teredo") and BIRD with examples/bird/teredo-relay.conf; `up` runs
// BIRD with examples/bird/upstream.conf and hashes multipath routes on the address pair alone.

import { NAT_SITES, type IfacePlan, type LabPlan, type NatSite, type NodePlan } from '../../lab/topology.js';

export const SCALE = {
  id: 'hs',
  server: '198.18.0.10',
  server2: '198.18.0.11',
  relays: { 'relay-a': { v4: '198.18.0.21', v6: '2001:db8:60::a' }, 'relay-b': { v4: '198.18.0.22', v6: '2001:db8:60::b' } },
  server6: '2001:db8:60::10',
  upstream6: '2001:db8:60::1',
  edge6: '2001:db8:6::1',
  host6: '2001:db8:6::100',
  teredoPrefix: '2001::/32',
} as const;

export type RelayNode = keyof typeof SCALE.relays;
export const RELAY_NODES = Object.keys(SCALE.relays) as RelayNode[];
/** Several NAT kinds, including the symmetric one (a relay that takes over must prove its mapping). */
export const SCALE_SITES: readonly NatSite[] = NAT_SITES.filter((s) => ['prc', 'sym', 'fc'].includes(s.label));

const ns = (node: string): string => `${SCALE.id}-${node}`;
const ifname = (segment: string): string => `${SCALE.id}-${segment}`;
const forwarding = (v4: string, v6: string): Record<string, string> => ({ 'net.ipv4.ip_forward': v4, 'net.ipv6.conf.all.forwarding': v6 });

export function planScaleOut(): LabPlan {
  const nodes: Record<string, { kind: NodePlan['kind']; ifaces: IfacePlan[]; routes: string[]; sysctls: Record<string, string>; nat?: NatSite }> = {};
  const links: LabPlan['links'][number][] = [];
  const node = (name: string, kind: NodePlan['kind'], sysctls: Record<string, string>, routes: string[] = [], nat?: NatSite): void => {
    nodes[name] = { kind, ifaces: [], routes, sysctls, ...(nat ? { nat } : {}) };
  };
  /** `name` on bridge `segment` (a switch node per segment, created on first use) with `addrs`. */
  const attach = (name: string, segment: string, addrs: string[]): void => {
    const sw = `sw-${segment}`;
    if (!nodes[sw]) {
      node(sw, 'switch', {});
      nodes[sw]!.ifaces.push({ name: ifname('br'), segment, addrs: [] });
    }
    nodes[name]!.ifaces.push({ name: ifname(segment), segment, addrs });
    nodes[sw]!.ifaces.push({ name: ifname(name), segment: 'port', addrs: [], master: ifname('br') });
    links.push({ a: { node: name, iface: ifname(segment) }, b: { node: sw, iface: ifname(name) } });
  };
  const wire = (a: string, b: string, segment: string, addrA: string, addrB: string): void => {
    nodes[a]!.ifaces.push({ name: ifname(segment), segment, addrs: [addrA] });
    nodes[b]!.ifaces.push({ name: ifname(segment), segment, addrs: [addrB] });
    links.push({ a: { node: a, iface: ifname(segment) }, b: { node: b, iface: ifname(segment) } });
  };
  const toUpstream = `default via ${SCALE.upstream6}`;

  // The server forwards its clients' native packets (their connectivity tests) from its TUN device to core6.
  node('server', 'router', forwarding('0', '1'), [toUpstream]);
  attach('server', 'inet4', [`${SCALE.server}/24`, `${SCALE.server2}/24`]);
  attach('server', 'core6', [`${SCALE.server6}/64`]);
  for (const relay of RELAY_NODES) {
    node(relay, 'router', forwarding('0', '1'), [toUpstream]);
    attach(relay, 'inet4', [`${SCALE.relays[relay].v4}/24`]);
    attach(relay, 'core6', [`${SCALE.relays[relay].v6}/64`]);
  }
  // Policy 3 = the fields listed in fib_multipath_hash_fields; 3 = source and destination address (no flow
  // label, no ports): every packet between host6 and one Teredo client takes the same relay.
  node('up', 'router', { ...forwarding('0', '1'), 'net.ipv6.fib_multipath_hash_fields': '3', 'net.ipv6.fib_multipath_hash_policy': '3' });
  attach('up', 'core6', [`${SCALE.upstream6}/64`]);
  node('host6', 'host', forwarding('0', '0'), [`default via ${SCALE.edge6}`]);
  wire('up', 'host6', 'edge6', `${SCALE.edge6}/64`, `${SCALE.host6}/64`);
  for (const s of SCALE_SITES) {
    node(s.nat, 'router', forwarding('1', '0'), [], s);
    attach(s.nat, 'inet4', [`${s.outside}/24`]);
    node(s.client, 'host', forwarding('0', '0'), [`default via ${s.inside}`], s);
    wire(s.nat, s.client, 'lan', `${s.inside}/24`, `${s.clientAddr}/24`);
  }
  const plan: Record<string, NodePlan> = {};
  for (const [name, n] of Object.entries(nodes)) plan[name] = { name, ns: ns(name), ...n };
  return { id: SCALE.id, nodes: plan, links, tunName: 'teredo' };
}
