// `rasadv advertise` run in process on the agent host (test/agents/host-harness.ts): the real engine and Driver,
// FakeDatagramPort and FakeClock instead of sockets and time (rasadv-fixtures.ts). Checks what the sockets are
// told (bind address, TTL 15, loopback, egress interface), what is sent when, what the host reports for it
// (ioErrors per interface, "restart needed" on SIGHUP), its status rendering, and the interface resolution both
// modes share.
import { describe, expect, it } from 'vitest';
import { hostname as osHostname } from 'node:os';
import { encodeRasAdv } from '../../src/wire/rasadv.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import { rasadvAdvertise } from '../../agents/rasadv/advertise.js';
import { advertiseSpec } from '../../agents/rasadv/config.js';
import { formatAdvertiseStatus } from '../../agents/rasadv/status.js';
import { formatAgentStatus } from '../../src/runtime/status.js';
import { allIpv4Interfaces, resolveInterface, resolveInterfaces } from '../../agents/rasadv/interfaces.js';
import { startOnHost } from './host-harness.js';
import { GROUP, NIC_LIST, STATUS_BASE, config, fakeHost } from './rasadv-fixtures.js';
import { FakeHost, fakeInterface } from '../fakes/fake-host.js';

async function advertiser(flags: Record<string, unknown>, start = 0) {
  const h = fakeHost(start);
  const { agent, log } = await startOnHost(rasadvAdvertise, config(advertiseSpec, flags), h.deps);
  return { ...h, agent, log };
}

describe('rasadv advertise (agent wiring)', () => {
  it('opens one socket per interface with TTL 15, loopback off, IP_MULTICAST_IF, and sends at start and each interval', async () => {
    const { agent, clock, opened, log } = await advertiser({ hostname: 'thepcsname', interface: ['eth0', '198.51.100.1'], interval: '60' }, 1000);

    expect(opened.map((o) => [formatIpv4(o.options.address!), o.options.port])).toEqual([
      ['192.0.2.1', 0],
      ['198.51.100.1', 0],
    ]);
    for (const { port, options } of opened) {
      expect(port.multicastTtl).toBe(15);
      expect(port.multicastLoopback).toBe(false);
      expect(port.multicastInterface).toBe(options.address);
    }
    clock.advance(0);
    const seed = encodeRasAdv({ hostname: 'thepcsname' });
    for (const { port } of opened) {
      expect(port.sent).toHaveLength(1);
      expect(port.sent[0]!.to).toEqual({ addr: GROUP, port: 9753 });
      expect(port.sent[0]!.bytes).toEqual(seed);
    }
    clock.advance(59_999);
    expect(opened[0]!.port.sent).toHaveLength(1);
    clock.advance(1);
    expect(opened.map((o) => o.port.sent.length)).toEqual([2, 2]);

    clock.advance(10_000);
    await agent.usr1!();
    expect(opened.map((o) => o.port.sent.length)).toEqual([3, 3]);
    clock.advance(59_999);
    expect(opened.map((o) => o.port.sent.length)).toEqual([3, 3]);
    clock.advance(1);
    expect(opened.map((o) => o.port.sent.length)).toEqual([4, 4]);

    const status = agent.status();
    expect(status.interfaces.map((i) => [i.iface, i.address, i.sent])).toEqual([
      ['eth0', '192.0.2.1', 4],
      ['198.51.100.1', '198.51.100.1', 4],
    ]);
    expect(log.lines.filter((l) => l.msg === 'advertisement sent').map((l) => l.cause)).toEqual(['start', 'start', 'timer', 'timer', 'request', 'request', 'timer', 'timer']);
    await agent.stop();
    expect(opened.every((o) => o.port.closed)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('without --interface uses one socket on 0.0.0.0 and leaves the egress choice to the kernel', async () => {
    const { agent, clock, opened } = await advertiser({ hostname: 'h', domain: 'EARTH.COM', loopback: true });
    clock.advance(0);
    expect(opened).toHaveLength(1);
    expect(opened[0]!.options.address).toBe(0);
    expect(opened[0]!.port.multicastInterface).toBe(0);
    expect(opened[0]!.port.multicastLoopback).toBe(true);
    expect(new TextDecoder().decode(opened[0]!.port.sent[0]!.bytes)).toBe('Hostname=h\nDomain=EARTH.COM\n\0');
    await agent.stop();
  });

  it('advertises the machine\'s name (its first label) when no --hostname is given', () => {
    const expected = osHostname().split('.')[0]!;
    expect(expected).not.toBe('');
    expect(config(advertiseSpec, {}).hostname).toBe(expected);
  });

  it('refuses an unknown interface with IO_INTERFACE, opening nothing', async () => {
    const h = fakeHost();
    await expect(startOnHost(rasadvAdvertise, config(advertiseSpec, { hostname: 'h', interface: ['eth0', 'wlan9'] }), h.deps)).rejects.toMatchObject({ code: 'IO_INTERFACE', message: expect.stringContaining('no such interface') });
    expect(h.opened).toEqual([]);
  });

  it('counts refused sends as i/o errors of that interface (host ioErrors), logs them rate-limited, and keeps going', async () => {
    const { agent, clock, opened, log } = await advertiser({ hostname: 'h', interface: ['eth0', 'eth1'], interval: '1' });
    opened[1]!.port.failSends = new Error('ENETUNREACH');
    clock.advance(5_000);
    expect(log.lines.filter((l) => l.msg === 'i/o error').map((l) => [l.where, l.suppressed])).toEqual([['eth1', 0]]);
    expect(agent.status().ioErrors).toEqual({ eth0: 0, eth1: 6 });
    expect(opened[0]!.port.sent).toHaveLength(6);
    const text = formatAgentStatus({ ...STATUS_BASE, agent: 'rasadv advertise', ...agent.status() }, formatAdvertiseStatus);
    expect(text).toContain('  i/o errors: 6 (eth1 6)\n');
    opened[1]!.port.failSends = undefined;
    clock.advance(1_000);
    expect(opened[1]!.port.sent).toHaveLength(1);
    await agent.stop();
  });

  it('SIGHUP applies nothing: every change is "restart needed", the running values stay', async () => {
    const { agent, clock, opened, log } = await advertiser({ hostname: 'h', interval: '60' });
    await agent.reload(config(advertiseSpec, { hostname: 'other', interval: '10' }));
    expect(log.lines.filter((l) => l.msg === 'restart needed').map((l) => [l.level, l.changed])).toEqual([['warn', ['hostname', 'interval']]]);
    clock.advance(60_000);
    expect(opened[0]!.port.sent.map((d) => new TextDecoder().decode(d.bytes))).toEqual(['Hostname=h\n\0', 'Hostname=h\n\0']);
    expect(agent.status().hostname).toBe('h');
    await agent.stop();
  });
});

describe('rasadv advertise status', () => {
  it('advertise: one row per interface with sent, last and next; no i/o error line while there are none', async () => {
    const { agent, clock } = await advertiser({ hostname: 'thepcsname', domain: 'EARTH.COM', interface: ['eth0', 'eth1'], interval: '60' }, 1000);
    clock.advance(5_000);
    const text = formatAgentStatus({ ...STATUS_BASE, agent: 'rasadv advertise', ...agent.status() }, formatAdvertiseStatus);
    expect(text.split('\n')).toEqual([
      'rasadv advertise: running, pid 7, up 1m5s, 0 reloads',
      '  advertising Hostname=thepcsname Domain=EARTH.COM to 239.255.2.2:9753',
      '  interface  address       last sent  next in  sent',
      '  eth0       192.0.2.1     5 s ago    55 s        1',
      '  eth1       198.51.100.1  5 s ago    55 s        1',
      '',
    ]);
    await agent.stop();
  });
});

describe('rasadv interface resolution', () => {
  const nics = new FakeHost({ interfaces: [...NIC_LIST, fakeInterface('wg0', []), fakeInterface('eth2', ['203.0.113.5', '203.0.113.6'])] });

  it('resolves a name to its first IPv4 address and an address to its interface', () => {
    expect(resolveInterface('eth2', nics)).toEqual({ spec: 'eth2', name: 'eth2', address: '203.0.113.5', addr: parseIpv4('203.0.113.5') });
    expect(resolveInterface('203.0.113.6', nics)).toMatchObject({ name: 'eth2', address: '203.0.113.6' });
    expect(resolveInterface('lo', nics)).toMatchObject({ address: '127.0.0.1' });
  });

  it.each([
    ['wlan9', 'no such interface'],
    ['wg0', 'has no IPv4 address'],
    ['192.0.2.99', 'no interface of this host has that address'],
    ['999.1.1.1', 'not a valid IPv4 address'],
  ])('refuses %s (%s)', (spec, message) => {
    expect(() => resolveInterface(spec, nics)).toThrow(message);
  });

  it('refuses two specs that are the same address', () => {
    expect(() => resolveInterfaces(['eth0', '192.0.2.1'], nics)).toThrow('are the same address 192.0.2.1');
  });

  it('the listener default is every non-loopback interface with IPv4', () => {
    expect(allIpv4Interfaces(nics).map((i) => `${i.name}=${i.address}`)).toEqual(['eth0=192.0.2.1', 'eth1=198.51.100.1', 'eth2=203.0.113.5']);
  });
});
