// Kernel facts (src/io/linux-host.ts): the one parser of /proc/net/ipv6_route and of /proc/net/if_inet6 against
// text as Linux prints it, the questions agents ask of the routes (a native IPv6 route for the server, another
// default route for the client), interfaces from a getifaddrs table, and the real host read once.

import { describe, expect, it } from 'vitest';
import type { NetworkInterfaceInfo } from 'node:os';
import { hasIpv6DefaultRoute, hasNativeIpv6Route, hostInterfacesOf, linuxHost, parseIfInet6, parseIpv6Routes } from '../../src/io/linux-host.js';
import { formatIpv6 } from '../../src/wire/ipv6-address.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';

/** /proc/net/ipv6_route of a container: a ULA /64 and a default route through fd00::1 on eth0. */
const ROUTES = `fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo
fd000000000000000000000000000002 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 80200001     eth0
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`;

/** One /proc/net/ipv6_route line: dest/plen, flags, device, metric. */
function route(dest: string, plen: number, flags: number, dev: string, metric = 0x100): string {
  const zero = '0'.repeat(32);
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
  return [dest, hex(plen, 2), zero, '00', zero, hex(metric, 8), '00000001', '00000000', hex(flags, 8), dev.padStart(8)].join(' ');
}
const UP = 0x1;
const GATEWAY = 0x2;
const REJECT = 0x200;
const ZERO = '0'.repeat(32);
/** What the kernel lists in every namespace with IPv6: ::1 (local table) and the ::/0 reject route on lo. */
const ALWAYS = [route('00000000000000000000000000000001', 128, 0x80200001, 'lo', 0), route(ZERO, 0, 0x00200200, 'lo', 0xffffffff)];
const LINK_LOCAL = route('fe800000000000000000000000000000', 64, UP, 'eth0');
const routes = (lines: readonly string[]) => parseIpv6Routes(lines.join('\n'));

describe('parseIpv6Routes (/proc/net/ipv6_route)', () => {
  it('reads destination, prefix length, metric, flags and device of each line, in hex as Linux prints them', () => {
    const r = parseIpv6Routes(ROUTES);
    expect(r).toHaveLength(7);
    expect(r.map((x) => `${formatIpv6(x.destination)}/${x.prefixLength} ${x.device} ${x.metric} ${x.flags.toString(16)}`)).toEqual([
      'fd00::/64 eth0 256 1',
      'fe80::/64 eth0 256 1',
      '::/0 eth0 1024 3',
      '::1/128 lo 0 80200001',
      'fd00::2/128 eth0 0 80200001',
      'ff00::/8 eth0 256 1',
      '::/0 lo 4294967295 200200',
    ]);
  });

  it('skips what is not a route line', () => {
    expect(parseIpv6Routes('')).toEqual([]);
    expect(parseIpv6Routes('garbage\nfe80 40 x\n' + route(ZERO, 0, UP, 'eth0').replace(' 00 ', ' zz '))).toEqual([]);
  });
});

describe('hasNativeIpv6Route: can a packet for a native global address leave?', () => {
  it('a default route counts (even through a ULA gateway), and so does the connected /64 of a global address', () => {
    expect(hasNativeIpv6Route(parseIpv6Routes(ROUTES))).toBe(true);
    expect(hasNativeIpv6Route(routes([...ALWAYS, LINK_LOCAL, route(ZERO, 0, UP | GATEWAY, 'eth0', 1024)]))).toBe(true);
    expect(hasNativeIpv6Route(routes([...ALWAYS, LINK_LOCAL, route('20010db8000600000000000000000000', 64, UP, 'inet6')]))).toBe(true);
    expect(hasNativeIpv6Route(routes([...ALWAYS, route('20000000000000000000000000000000', 3, UP | GATEWAY, 'wan')]))).toBe(true);
  });

  it('none: only loopback, reject routes, link-local, ULA, multicast, or the Teredo prefix (a relay\'s own TUN)', () => {
    expect(hasNativeIpv6Route(routes(ALWAYS))).toBe(false);
    expect(hasNativeIpv6Route([])).toBe(false);
    const notNative = [
      ...ALWAYS,
      LINK_LOCAL,
      route('fd000000000000000000000000000000', 64, UP, 'eth0'),
      route('ff000000000000000000000000000000', 8, UP, 'eth0'),
      route('20010000000000000000000000000000', 32, UP, 'teredo'),
      route('20010db8000000000000000000000000', 32, UP | REJECT, 'lo'), // an unreachable route
      route('20010db8000700000000000000000001', 128, 0x80200001, 'eth0'), // a local address, table local
      route('20010db8000800000000000000000000', 64, 0, 'eth1'), // not up
    ];
    expect(hasNativeIpv6Route(routes(notNative))).toBe(false);
  });
});

describe('hasIpv6DefaultRoute: is there a default route other than ours?', () => {
  it('another device with ::/0 counts; ours, the kernel reject route and other prefixes do not', () => {
    expect(hasIpv6DefaultRoute(routes([route(ZERO, 0, UP | GATEWAY, 'eth0')]), 'teredo')).toBe(true);
    expect(hasIpv6DefaultRoute(parseIpv6Routes(ROUTES), 'teredo')).toBe(true);
    expect(hasIpv6DefaultRoute(parseIpv6Routes(ROUTES), 'eth0')).toBe(false);
    expect(hasIpv6DefaultRoute(routes([route(ZERO, 0, UP, 'teredo'), ...ALWAYS, route('20010000000000000000000000000000', 32, UP, 'eth0')]), 'teredo')).toBe(false);
  });
});

describe('parseIfInet6 (/proc/net/if_inet6)', () => {
  it('reads address, ifindex, prefix length, scope, flags and device of each line', () => {
    const text = [
      'fe8000000000000000fc00fffe000001 04 40 20 80     eth0',
      '00000000000000000000000000000001 01 80 10 80       lo',
      'fd000000000000000000000000000002 04 40 00 82     eth0',
      'fe80000000000000020000fffe000002 08 40 20 40     eth1', // tentative: DAD running
      'not a line',
    ].join('\n');
    expect(parseIfInet6(text).map((a) => [formatIpv6(a.address), a.ifindex, a.prefixLength, a.scope, a.flags, a.device])).toEqual([
      ['fe80::fc:ff:fe00:1', 4, 64, 0x20, 0x80, 'eth0'],
      ['::1', 1, 128, 0x10, 0x80, 'lo'],
      ['fd00::2', 4, 64, 0x00, 0x82, 'eth0'],
      ['fe80::200:ff:fe00:2', 8, 64, 0x20, 0x40, 'eth1'],
    ]);
  });
});

describe('hostInterfacesOf (getifaddrs through os.networkInterfaces)', () => {
  const info = (family: 'IPv4' | 'IPv6', address: string, mac: string, internal = false) => ({ family, address, mac, internal }) as NetworkInterfaceInfo;
  it('gives each interface its loopback flag, MAC (none for all zeros) and IPv4 addresses as text and int32', () => {
    const nics = hostInterfacesOf({
      lo: [info('IPv4', '127.0.0.1', '00:00:00:00:00:00', true), info('IPv6', '::1', '00:00:00:00:00:00', true)],
      eth0: [info('IPv4', '203.0.113.5', '02:00:00:00:00:01'), info('IPv4', '203.0.113.6', '02:00:00:00:00:01'), info('IPv6', 'fe80::1', '02:00:00:00:00:01')],
      wg0: [info('IPv6', 'fd00::1', '00:00:00:00:00:00')],
    });
    expect(nics.map((n) => [n.name, n.loopback, n.mac && formatMac(n.mac), n.ipv4.map((a) => a.text)])).toEqual([
      ['lo', true, undefined, ['127.0.0.1']],
      ['eth0', false, '02:00:00:00:00:01', ['203.0.113.5', '203.0.113.6']],
      ['wg0', false, undefined, []],
    ]);
    expect(nics[1]!.ipv4[0]!.address).toBe(parseIpv4('203.0.113.5'));
  });
});

describe('linuxHost (this machine)', () => {
  it('lists the loopback interface with 127.0.0.1, and answers undefined for what it cannot read', () => {
    expect(linuxHost.interfaces().find((n) => n.loopback)?.ipv4.map((a) => a.text)).toContain('127.0.0.1');
    expect(linuxHost.ipv6Forwarding('no-such-if0')).toBeUndefined();
    expect(linuxHost.ipv6Mtu('no-such-if0')).toBeUndefined();
  });
});

function formatMac(mac: Uint8Array): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
