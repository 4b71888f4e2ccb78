// Shared RA sender test fixtures: a content with every option (the golden-bytes configuration).
import type { RaContent } from '../../src/engine/ra/content.js';
import { ROUTE_PREFERENCE } from '../../src/wire/ndisc-options.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { fromHex } from '../../src/wire/bytes.js';

export const FULL: RaContent = {
  curHopLimit: 64,
  managed: true,
  otherConfig: true,
  preference: ROUTE_PREFERENCE.HIGH,
  routerLifetimeSec: 1800,
  reachableTimeMs: 30_000,
  retransTimerMs: 1000,
  sourceLinkLayerAddress: fromHex('02005e005301'),
  mtu: 1480,
  prefixes: [{ prefix: parseIpv6('2001:db8:66::'), prefixLength: 64, onLink: true, autonomous: true, routerAddress: false, validLifetimeSec: 86_400, preferredLifetimeSec: 14_400 }],
  routes: [{ prefix: parseIpv6('2001::'), prefixLength: 32, preference: ROUTE_PREFERENCE.LOW, lifetimeSec: 1800 }],
  rdnss: [{ servers: [parseIpv6('2001:db8:66::53'), parseIpv6('2001:db8::53')], lifetimeSec: 1200 }],
  dnssl: [{ domains: ['example.com', 'lab.example'], lifetimeSec: 1200 }],
};
