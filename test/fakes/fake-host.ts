// In-memory HostFacts (src/io/linux-host.ts): the kernel facts an agent reads, set by the test and changed
// between reads (a route appears, DAD finishes, forwarding is switched off). Questions asked of the facts
// (hasNativeIpv6Route, hasIpv6DefaultRoute) are the real pure functions, so they answer as on a real host.

import { parseIpv4 } from '../../src/wire/ipv4.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { fromHex } from '../../src/wire/bytes.js';
import { RTF_UP, SCOPE_GLOBAL, SCOPE_LINK, type HostFacts, type HostInterface, type Ipv6InterfaceAddress, type Ipv6Route } from '../../src/io/linux-host.js';

export interface FakeHostInit {
  /** net.ipv6.conf.<if>.forwarding by interface name (`all` is the host's switch); missing = unreadable. */
  forwarding?: Record<string, boolean>;
  /** net.ipv6.conf.<if>.mtu by interface name. */
  mtu?: Record<string, number>;
  /** undefined plays a kernel without IPv6 (/proc/net/ipv6_route missing). */
  routes?: Ipv6Route[] | undefined;
  addresses?: Ipv6InterfaceAddress[] | undefined;
  interfaces?: HostInterface[];
}

export class FakeHost implements HostFacts {
  forwarding: Record<string, boolean>;
  mtu: Record<string, number>;
  routes: Ipv6Route[] | undefined;
  addresses: Ipv6InterfaceAddress[] | undefined;
  nics: HostInterface[];

  constructor(init: FakeHostInit = {}) {
    this.forwarding = init.forwarding ?? {};
    this.mtu = init.mtu ?? {};
    this.routes = 'routes' in init ? init.routes : [];
    this.addresses = 'addresses' in init ? init.addresses : [];
    this.nics = init.interfaces ?? [];
  }

  ipv6Forwarding(ifname = 'all'): boolean | undefined {
    return this.forwarding[ifname];
  }

  ipv6Mtu(ifname: string): number | undefined {
    return this.mtu[ifname];
  }

  ipv6Routes(): readonly Ipv6Route[] | undefined {
    return this.routes;
  }

  ipv6Addresses(): readonly Ipv6InterfaceAddress[] | undefined {
    return this.addresses;
  }

  interfaces(): readonly HostInterface[] {
    return this.nics;
  }
}

/** A route to `prefix` ("2001:db8::/32", "::/0") through `device`, up unless `flags` say otherwise. */
export function fakeRoute(prefix: string, device: string, flags = RTF_UP, metric = 1024): Ipv6Route {
  const [addr, len] = prefix.split('/');
  return { destination: parseIpv6(addr!), prefixLength: Number(len), metric, flags, device };
}

/** An IPv6 address "fe80::1/64" on `device` (index `ifindex`); link scope for fe80::/10, else global. */
export function fakeAddress6(cidr: string, device: string, ifindex: number, flags = 0): Ipv6InterfaceAddress {
  const [addr, len] = cidr.split('/');
  const address = parseIpv6(addr!);
  const scope = address[0] === 0xfe && (address[1]! & 0xc0) === 0x80 ? SCOPE_LINK : SCOPE_GLOBAL;
  return { address, ifindex, prefixLength: Number(len), scope, flags, device };
}

/** An interface with these IPv4 addresses (dotted quads), as getifaddrs lists it. */
export function fakeInterface(name: string, ipv4: readonly string[], options: { loopback?: boolean; mac?: string } = {}): HostInterface {
  return {
    name,
    loopback: options.loopback ?? false,
    mac: options.mac === undefined ? undefined : fromHex(options.mac.replace(/:/g, '')),
    ipv4: ipv4.map((text) => ({ text, address: parseIpv4(text) })),
  };
}
