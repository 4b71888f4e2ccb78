// Self-test of the lab plan (pure, no kernel): names fit IFNAMSIZ and carry the run prefix for every id,
// the wiring is consistent, and the addresses are what Teredo needs: inet4 passes RFC 4380 §5.2.4's
// global-unicast check, the NAT LANs do not.

import { describe, expect, it } from 'vitest';
import { isGlobalUnicast4, parseIpv4 } from '../../src/wire/ipv4.js';
import { natRuleset } from '../../lab/nat.js';
import { ADDR, NAT_SITES, natSites, planLab } from '../../lab/topology.js';
import { nodeScript } from '../../lab/netns.js';

const ids = Array.from({ length: 256 }, (_, i) => `tl${i.toString(16).padStart(2, '0')}`);

describe('planLab', () => {
  it('names every namespace and interface with the run prefix, within 15 bytes, for every id', () => {
    for (const id of ids) {
      const plan = planLab(id);
      for (const n of Object.values(plan.nodes)) {
        expect(n.ns.startsWith(`${id}-`)).toBe(true);
        for (const i of n.ifaces) {
          expect(i.name.startsWith(`${id}-`)).toBe(true);
          expect(Buffer.byteLength(i.name)).toBeLessThanOrEqual(15);
        }
      }
      expect(plan.tunName.length).toBeLessThanOrEqual(15);
    }
  });

  it('rejects ids that would not carry the tl prefix', () => {
    for (const bad of ['tl', 'tl3', 'tl3g', 'xx3f', 'tl3f-', 'TL3F']) expect(() => planLab(bad)).toThrow(/lab id/);
  });

  it('wires every link between interfaces that exist, each interface used once', () => {
    const plan = planLab('tl3f');
    const seen = new Set<string>();
    for (const l of plan.links) {
      for (const end of [l.a, l.b]) {
        const node = plan.nodes[end.node];
        expect(node?.ifaces.some((i) => i.name === end.iface)).toBe(true);
        const key = `${end.node}/${end.iface}`;
        expect(seen.has(key)).toBe(false);
        seen.add(key);
      }
    }
    const ifaceCount = Object.values(plan.nodes).flatMap((n) => n.ifaces.filter((i) => !(n.kind === 'switch' && !i.master))).length;
    expect(seen.size).toBe(ifaceCount);
  });

  it('gives inet4 addresses that pass RFC 4380 §5.2.4 and LAN addresses that do not', () => {
    const inet4 = [ADDR.server, ADDR.server2, ADDR.relay, ADDR.probe, ...NAT_SITES.map((s) => s.outside)];
    for (const a of inet4) expect(isGlobalUnicast4(parseIpv4(a)), a).toBe(true);
    for (const a of NAT_SITES.flatMap((s) => [s.inside, s.clientAddr])) expect(isGlobalUnicast4(parseIpv4(a)), a).toBe(false);
    // The secondary server address is the primary + 1, as Windows clients assume.
    expect(parseIpv4(ADDR.server2) - parseIpv4(ADDR.server)).toBe(1);
  });

  it('routes host6 to the Teredo prefix via the relay and clients via their NAT', () => {
    const plan = planLab('tl3f');
    expect(nodeScript(plan.nodes['host6']!)).toContain(`route add ${ADDR.teredoPrefix} via ${ADDR.relay6}`);
    for (const s of NAT_SITES) expect(nodeScript(plan.nodes[s.client]!)).toContain(`route add default via ${s.inside}`);
  });
});

describe('natRuleset', () => {
  const base = { outsideIf: 'tl3f-inet4', insideIf: 'tl3f-lan', clientAddr: '192.168.3.2', outsideAddr: '198.18.0.103' };
  it('uses fully-random masquerade only for the symmetric NAT', () => {
    expect(natRuleset({ ...base, kind: 'symmetric' })).toMatch(/masquerade fully-random/);
    for (const kind of ['full-cone', 'address-restricted', 'port-restricted'] as const) expect(natRuleset({ ...base, kind })).not.toMatch(/fully-random/);
  });
  it('opens inbound UDP only on the cone NATs, keyed by port (full) or remote address and port (restricted)', () => {
    expect(natRuleset({ ...base, kind: 'full-cone' })).toMatch(/udp dport @bindings dnat to 192\.168\.3\.2/);
    expect(natRuleset({ ...base, kind: 'address-restricted' })).toMatch(/ip saddr \. udp dport @bindings dnat to 192\.168\.3\.2/);
    expect(natRuleset({ ...base, kind: 'port-restricted' })).not.toMatch(/dnat/);
  });
});

describe('planLab with the zoo', () => {
  it('adds the zoo only on request: two clients on a bridged LAN at nat-hp, the carrier NAT in front of nat-cgn', () => {
    expect(planLab('tl3f').nodes['nat-pf']).toBeUndefined();
    const plan = planLab('tl3f', { zoo: true });
    expect(plan.nodes['sw-lan-hp']?.kind).toBe('switch');
    expect(nodeScript(plan.nodes['cli-hp2']!)).toContain('addr add 192.168.12.3/24 dev tl3f-lan-hp');
    expect(nodeScript(plan.nodes['nat-cgn']!)).toContain('route add default via 100.64.0.1');
    expect(nodeScript(plan.nodes['cgn']!)).toContain('addr add 198.18.0.114/24 dev tl3f-inet4');
    // The UPnP NAT (miniupnpd, lab/upnp-nat.ts): site 21, its client behind it.
    expect(nodeScript(plan.nodes['nat-upnp']!)).toContain('addr add 198.18.0.121/24 dev tl3f-inet4');
    expect(nodeScript(plan.nodes['cli-upnp']!)).toContain('addr add 192.168.21.2/24 dev tl3f-lan');
  });

  it('builds only the named zoo sites on request (`up --zoo nat-pf,nat-nhp`), and refuses a name that is no zoo NAT', () => {
    const plan = planLab('tl3f', { zoo: ['nat-nhp', 'nat-pf'] });
    const zooNodes = Object.keys(plan.nodes).filter((n) => !planLab('tl3f').nodes[n]);
    expect(zooNodes.sort()).toEqual(['cli-nhp', 'cli-nhp2', 'cli-pf', 'nat-nhp', 'nat-pf', 'sw-lan-nhp']);
    expect(natSites(plan).map((s) => s.nat)).toEqual(['nat-prc', 'nat-sym', 'nat-fc', 'nat-arc', 'nat-prc2', 'nat-pf', 'nat-nhp']);
    expect(() => planLab('tl3f', { zoo: ['nat-pf', 'nat-prc'] })).toThrow(/not a zoo NAT: nat-prc/);
  });
});
