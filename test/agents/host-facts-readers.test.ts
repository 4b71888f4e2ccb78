// The agents' readings of kernel facts through src/io/linux-host.ts, on the fake host (test/fakes/fake-host.ts):
// what the RA sender makes of an interface (link-local once DAD is done, MTU, MAC, /64 prefixes, forwarding),
// which stale addresses the Teredo client removes from its device, and when it takes the default route.
// The parsers behind the real host: test/io/linux-host.test.ts.

import { describe, expect, it } from 'vitest';
import { IFA_F_TEMPORARY, IFA_F_TENTATIVE, RTF_REJECT, RTF_UP } from '../../src/io/linux-host.js';
import { formatIpv6 } from '../../src/wire/ipv6-address.js';
import { hostLinkReader } from '../../agents/ra-sender/link.js';
import { removeStaleAddresses, TeredoInterface } from '../../agents/teredo-client/interface.js';
import { capturedLogger } from '../fakes/log-capture.js';
import { FakeHost, fakeAddress6, fakeInterface, fakeRoute } from '../fakes/fake-host.js';
import { FakeTun } from '../fakes/fake-tun.js';

describe('ra-sender link state from the host facts', () => {
  const host = new FakeHost({
    forwarding: { all: false, eth0: true },
    mtu: { eth0: 1480 },
    interfaces: [fakeInterface('eth0', [], { mac: '02:00:00:00:00:07' })],
    addresses: [
      fakeAddress6('fe80::7/64', 'eth0', 7, IFA_F_TENTATIVE),
      fakeAddress6('2001:db8:66::1/64', 'eth0', 7),
      fakeAddress6('2001:db8:66::99/64', 'eth0', 7, IFA_F_TEMPORARY),
      fakeAddress6('2001:db8:1::1/48', 'eth0', 7),
      fakeAddress6('fe80::8/64', 'eth1', 8),
    ],
  });
  const links = hostLinkReader(host);

  it('waits while the link-local address is tentative, then reads address, MTU, MAC, /64 prefixes and forwarding', () => {
    expect(links.read('eth0')).toMatchObject({ ifindex: 7, linkLocal: undefined, tentative: true });
    host.addresses![0] = fakeAddress6('fe80::7/64', 'eth0', 7);
    const s = links.read('eth0');
    expect({ ...s, mac: [...s.mac!], autoPrefixes: s.autoPrefixes.map((p) => formatIpv6(p)) }).toEqual({
      ifindex: 7, linkLocal: 'fe80::7', tentative: false, mtu: 1480, mac: [2, 0, 0, 0, 0, 7], autoPrefixes: ['2001:db8:66::'], forwarding: true,
      // Past DAD, any scope (where AdvRASrcAddress picks from); the tentative one only once DAD is done.
      addresses: ['fe80::7', '2001:db8:66::1', '2001:db8:66::99', '2001:db8:1::1'],
    });
  });

  it('an interface the kernel does not list has no index, no MAC and no addresses', () => {
    expect(links.read('eth9')).toEqual({ ifindex: undefined, linkLocal: undefined, tentative: false, mtu: undefined, mac: undefined, autoPrefixes: [], addresses: [], forwarding: undefined });
  });
});

describe('teredo-client interface and the host facts', () => {
  it('removes the Teredo addresses an earlier run left on its device, and only those', () => {
    const tun = new FakeTun('teredo');
    const host = new FakeHost({
      addresses: [fakeAddress6('2001:0:c612:a::1/32', 'teredo', 5), fakeAddress6('fe80::1/64', 'teredo', 5), fakeAddress6('2001:0:c612:a::2/32', 'eth0', 2)],
    });
    removeStaleAddresses(tun, host);
    expect(tun.config.filter((c) => c.op === 'remove-address').map((c) => 'address' in c && formatIpv6(c.address))).toEqual(['2001:0:c612:a::1']);
  });

  it('auto: takes ::/0 only while no other device has a default route (a reject route on lo does not count)', () => {
    const host = new FakeHost({ routes: [fakeRoute('::/0', 'lo', RTF_UP | RTF_REJECT)] });
    const tun = new FakeTun('teredo');
    const iface = new TeredoInterface(tun, 'auto', capturedLogger('test').logger, host);
    iface.change(undefined, new Uint8Array(16).fill(0x20));
    expect(iface.hasDefaultRoute).toBe(true);
    host.routes!.push(fakeRoute('::/0', 'eth0'));
    iface.change(iface.address, new Uint8Array(16).fill(0x21));
    expect(iface.hasDefaultRoute).toBe(false);
  });
});
