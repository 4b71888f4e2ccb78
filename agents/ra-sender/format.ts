// The last RA of an interface, decoded for `ra-sender status` (not the data path: status builds objects).

import { decodeIcmpv6 } from '../../src/wire/icmpv6.js';
import { decodeNdisc } from '../../src/wire/ndisc.js';
import { formatIpv6 } from '../../src/wire/ipv6-address.js';
import type { NdiscOption } from '../../src/wire/ndisc-options.js';
import { INFINITE_LIFETIME } from '../../src/wire/ndisc-options.js';
import { hex } from '../../src/wire/bytes.js';

/** RFC 4191 §2.1 preference bits (0 medium, 1 high, 2 reserved, 3 low) by name. */
export const PREFERENCE_NAMES = ['medium', 'high', 'reserved', 'low'] as const;

const lifetime = (s: number): number | 'infinity' => (s === INFINITE_LIFETIME ? 'infinity' : s);

function option(o: NdiscOption): Record<string, unknown> {
  switch (o.kind) {
    case 'source-ll-addr':
    case 'target-ll-addr':
      return { option: o.kind, address: [...o.linkLayerAddress].map((b) => b.toString(16).padStart(2, '0')).join(':') };
    case 'mtu':
      return { option: 'mtu', mtu: o.mtu };
    case 'prefix-info':
      return { option: 'prefix', prefix: `${formatIpv6(o.prefix)}/${o.prefixLength}`, onLink: o.onLink, autonomous: o.autonomous, routerAddress: o.routerAddress, validLifetime: lifetime(o.validLifetimeSec), preferredLifetime: lifetime(o.preferredLifetimeSec) };
    case 'route-info': {
      const full = new Uint8Array(16);
      full.set(o.prefix);
      return { option: 'route', prefix: `${formatIpv6(full)}/${o.prefixLength}`, preference: PREFERENCE_NAMES[o.preference], lifetime: lifetime(o.routeLifetimeSec) };
    }
    case 'rdnss':
      return { option: 'rdnss', servers: o.servers.map((s) => formatIpv6(s)), lifetime: lifetime(o.lifetimeSec) };
    case 'dnssl':
      return { option: 'dnssl', domains: o.domains, lifetime: lifetime(o.lifetimeSec) };
    case 'raw':
      return { option: o.type, data: hex(o.data) };
    case 'adv-interval':
      return { option: 'advertisement-interval', intervalMs: o.intervalMs };
    case 'home-agent-info':
      return { option: 'home-agent', preference: o.preference, lifetime: o.lifetimeSec, mobileRouterSupport: o.mobileRouterSupport };
    case '6lowpan-context':
      return { option: '6co', contextId: o.contextId, contextLength: o.contextLength, compression: o.compression, lifetimeMinutes: o.validLifetimeMin, prefix: hex(o.prefix) };
    case 'abro':
      return { option: 'abro', address: formatIpv6(o.address), versionLow: o.versionLow, versionHigh: o.versionHigh, lifetimeMinutes: o.validLifetimeMin };
    case 'captive-portal':
      return { option: 'captive-portal', uri: o.uri };
    case 'pref64': {
      const full = new Uint8Array(16);
      full.set(o.prefix);
      return { option: 'pref64', prefix: `${formatIpv6(full)}/${o.prefixLength}`, lifetime: o.scaledLifetime * 8 };
    }
    case 'dnr':
      return { option: 'dnr', adn: o.adn, priority: o.priority, lifetime: lifetime(o.lifetimeSec), addresses: o.addresses.map((a) => formatIpv6(a)), svcParams: hex(o.svcParams) };
  }
}

/** The RA messages (ICMPv6 bytes) as JSON: header fields and each option; undefined before the first RA. */
export function describeRas(messages: readonly Uint8Array[]): Record<string, unknown> | undefined {
  const first = messages[0];
  if (first === undefined) return undefined;
  const ras = messages.map((m) => decodeNdisc(decodeIcmpv6(m)));
  const ra = ras[0]!;
  if (ra.kind !== 'router-advert') return undefined;
  return {
    curHopLimit: ra.curHopLimit,
    managed: ra.managed,
    otherConfig: ra.otherConfig,
    ...(ra.homeAgent ? { homeAgent: true } : {}),
    preference: PREFERENCE_NAMES[ra.preference],
    routerLifetime: ra.routerLifetimeSec,
    reachableTimeMs: ra.reachableTimeMs,
    retransTimerMs: ra.retransTimerMs,
    // A split RA (larger than the link MTU) shows as several messages; the options are listed together.
    messages: messages.length,
    bytes: messages.map((m) => m.length),
    options: ras.flatMap((r) => r.options.map(option)),
  };
}
