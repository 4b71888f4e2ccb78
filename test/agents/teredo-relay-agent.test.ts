// The teredo-relay agent wiring, in-process: the real engine, Driver and counters with FakeDatagramPort, FakeTun
// and FakeClock. Checks the config rules (what --check-config refuses), --miredo-conf, the socket and device
// set-up (route 2001::/32), packets both ways through the fakes, bubble retries driven by the clock, start-up
// failures, SIGHUP, stop removing the route and the device, and the status object and its rendering.

import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostDeps } from '../../src/runtime/host.js';
import { seededRandom } from '../../src/engine/types.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { validateConfig } from '../../src/runtime/config.js';
import { formatIpv6 } from '../../src/wire/ipv6-address.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { relaySpec, type RelayAgentConfig } from '../../agents/teredo-relay/config.js';
import { miredoRelayImport } from '../../agents/teredo-relay/miredo-conf.js';
import { pickIcmpv6Source, teredoRelay } from '../../agents/teredo-relay/agent.js';
import { fakePorts, startOnHost, type FakePorts } from './host-harness.js';
import { formatTeredoRelayStatus } from '../../agents/teredo-relay/status.js';
import { formatAgentStatus } from '../../src/runtime/status.js';
import { bubble, bubbleSource, CLIENT, echo, HOST6, SERVER, teredoAddr } from '../engine/teredo-relay-fixtures.js';
import { FakeHost, fakeAddress6 } from '../fakes/fake-host.js';

const CLIENT6 = teredoAddr(CLIENT);

function config(flags: Record<string, unknown>): RelayAgentConfig {
  const r = validateConfig(relaySpec, { flags });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
}

function problems(flags: Record<string, unknown>): string[] {
  const r = validateConfig(relaySpec, { flags });
  return r.ok ? [] : r.problems;
}

type Harness = FakePorts & { clock: FakeClock; deps: HostDeps };

function harness(opts: { failTun?: boolean; forwarding?: boolean; hostAddresses?: string[] } = {}): Harness {
  const clock = new FakeClock();
  const ports = fakePorts(opts);
  const facts = new FakeHost({
    forwarding: { all: opts.forwarding ?? true },
    addresses: (opts.hostAddresses ?? ['fe80::1/64', '2001:0:c612:a::1/32', '2001:db8:6::20/64']).map((a) => fakeAddress6(a, 'eth0', 2)),
  });
  return { ...ports, clock, deps: { clock, timers: clock, random: seededRandom(5), facts, openPort: ports.openPort, openTun: ports.openTun } };
}

async function start(flags: Record<string, unknown>, h = harness()) {
  const { agent, log } = await startOnHost(teredoRelay, config(flags), h.deps);
  return { agent, h, log, port: h.ports[0]!, tun: h.tuns[0]! };
}

describe('configuration (what --check-config refuses)', () => {
  it('defaults: device "teredo", 0.0.0.0:3545, MTU 1280, Miredo\'s peer bound, cone bit ignored, unknown peers accepted', () => {
    expect(config({})).toMatchObject({ interface: 'teredo', bind: '0.0.0.0', port: 3545, mtu: 1280, maxPeers: 1_048_576, honorConeBit: false, directBubbles: false, acceptUnknownPeers: true, icmpv6Rate: 10 });
  });

  it('refuses a bad device name, a non-global bind address, port 3544 and a Teredo ICMPv6 source, all at once', () => {
    expect(problems({ interface: 'a-very-long-ifname', bind: '10.0.0.1', port: '3544', 'icmpv6-source': '2001:0:c612:a::1' })).toEqual([
      'interface ("a-very-long-ifname") must be an interface name of 1 to 15 characters without \'/\', \':\' or spaces',
      'bind ("10.0.0.1") is not global unicast (RFC 4380 §5.2.4): clients could not reach it. For a lab, add --allow-non-global',
      'port (3544) is the Teredo server port; clients treat datagrams from it as their server\'s',
      'icmpv6Source ("2001:0:c612:a::1") must be a global unicast address outside 2001::/32',
    ]);
    expect(problems({ mtu: '1200' })).toEqual(['mtu (1200) must be >= 1280']);
  });
});

describe('--miredo-conf (the runtime reads it at start and on SIGHUP)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-miredo-'));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const CONF = '# a Miredo relay\nRelayType restricted\nInterfaceName miredo\nBindAddress 198.18.0.20\nBindPort 3600\nInterfaceMTU 1400\nPrefix 2001:0::\nSyslogFacility daemon\n';

  it('reads a Miredo relay configuration into the config fields; SyslogFacility is a warning', () => {
    const read = miredoRelayImport.read(file('m.conf', CONF));
    expect(read.values).toEqual({ directBubbles: true, interface: 'miredo', bind: '198.18.0.20', port: 3600, mtu: 1400 });
    expect(read.warnings).toEqual([`${join(dir, 'm.conf')}:8: SyslogFacility ignored: logs are JSON lines on stdout`]);
    const r = validateConfig(relaySpec, { file: { ...read, imported: true }, flags: { port: '4000' } });
    expect(r.ok && r.config).toMatchObject({ interface: 'miredo', port: 4000, directBubbles: true }); // the command line wins
  });

  it('refuses a client configuration, unknown or repeated directives and bad values, naming file and line', () => {
    const path = file('c.conf', 'RelayType client\nBindPort x\nPrefix 3ffe:831f::\nFoo 1\nInterfaceName a\nInterfaceName b\n');
    expect(() => miredoRelayImport.read(path)).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        details: [
          `${path}:1: RelayType client is not a relay (teredo-relay takes relay, cone or restricted; use teredo-client --miredo-conf for a client)`,
          `${path}:2: BindPort ("x") must be an integer from 0 to 65535`,
          `${path}:3: Prefix ("3ffe:831f::") is not supported: only the standard Teredo prefix 2001:0::/32 (RFC 4380 §2.6)`,
          `${path}:4: unknown directive "Foo"; Miredo relay configuration takes RelayType, InterfaceName, BindAddress, BindPort, InterfaceMTU, Prefix, SyslogFacility`,
          `${path}:6: InterfaceName repeated (first at line 5)`,
        ],
      }),
    );
    expect(() => miredoRelayImport.read(join(dir, 'nonexistent'))).toThrow(expect.objectContaining({ code: 'CONFIG_READ' }));
  });

  it("refuses Debian's default client file (no RelayType: Miredo would run a client there)", () => {
    const debian = file('debian.conf', '# Debian miredo.conf\nInterfaceName teredo\n#ServerAddress teredo.remlab.net\n');
    expect(() => miredoRelayImport.read(debian)).toThrow(expect.objectContaining({ details: [expect.stringMatching(/no RelayType: Miredo runs this file as a client/)] }));
    expect(() => miredoRelayImport.read(file('client.conf', 'ServerAddress 198.18.0.10\n'))).toThrow(expect.objectContaining({ details: [expect.stringMatching(/:1: unknown directive "ServerAddress" \(a client directive/)] }));
  });
});

describe('relaying', () => {
  it('binds the configured address and port, creates the device with the MTU and routes 2001::/32 into it', async () => {
    const { agent, h, tun } = await start({ bind: '198.18.0.20', port: '3600', interface: 'tr0', mtu: '1400' });
    expect(h.portOptions.map((o) => [formatIpv4(o.address ?? 0), o.port, o.implementation])).toEqual([['198.18.0.20', 3600, 'native']]);
    expect(tun.name).toBe('tr0');
    expect(tun.config.map((c) => (c.op === 'add-route' ? `${c.op} ${formatIpv6(c.prefix)}/${c.prefixLength}` : c.op))).toEqual(['mtu', 'up', 'add-route 2001::/32']);
    await agent.stop();
  });

  it('carries packets both ways: client -> TUN, TUN -> queue + bubble via the server, reply bubble -> flush', async () => {
    const { agent, port, tun, h } = await start({});
    const up = echo(CLIENT6, HOST6);
    port.deliver(up, CLIENT);
    expect(tun.written).toEqual([up]);

    const other = teredoAddr({ addr: CLIENT.addr, port: 40099 });
    const down = echo(HOST6, other, 5, 129);
    tun.inject(down);
    expect(port.sent.map((s) => s.to)).toEqual([{ addr: SERVER, port: 3544 }]);
    h.clock.advance(2000); // the 2 s bubble retry, driven by the driver's one timer
    expect(port.sent).toHaveLength(2);
    port.deliver(bubble(other, bubbleSource(port.sent[0]!.bytes)), { addr: CLIENT.addr, port: 40099 });
    expect(port.sent.at(-1)).toEqual({ bytes: down, to: { addr: CLIENT.addr, port: 40099 } });
    const s = agent.status();
    expect(s).toMatchObject({ peers: 2, trusted: 2, classes: { proven: 1, pending: 0, embedded: 1 }, toNative: { packets: 1 }, toTeredo: { packets: 1 }, bubblesSent: 2, icmpv6Source: '2001:db8:6::20' });
    await agent.stop();
  });

  it('counts drops by reason in status, and renders them for people', async () => {
    const { agent, port } = await start({});
    port.deliver(echo(CLIENT6, HOST6), { addr: CLIENT.addr, port: 1 });
    const s = agent.status();
    expect(s.drops).toEqual({ 'relay-udp-spoofed-source': 1 });
    const text = formatAgentStatus({ ...s, agent: 'teredo-relay', pid: 1, instance: null, uptimeSec: 75, reloads: 0, lifecycle: 'running' }, formatTeredoRelayStatus);
    expect(text).toContain('teredo-relay: running, pid 1, up 1m15s, 0 reloads');
    expect(text).toContain('peers: 0 of 1048576 (0 trusted; 0 proven, 0 pending, 0 embedded)');
    expect(text).toMatch(/relay-udp-spoofed-source\s+1/);
    await agent.stop();
  });

  it('stop removes the route, closes the device and the socket', async () => {
    const { agent, port, tun } = await start({});
    await agent.stop();
    expect(tun.config.at(-1)).toMatchObject({ op: 'remove-route', prefixLength: 32 });
    expect([tun.closed, port.closed]).toEqual([true, true]);
  });

  it('SIGHUP applies the policy flags in place and keeps the peer table; a new port needs a restart', async () => {
    const { agent, port, tun, log } = await start({});
    port.deliver(echo(CLIENT6, HOST6), CLIENT);
    // A peer whose address has the cone bit (0x8000): before the reload it is bubbled through its server ...
    const coneMapping = { addr: CLIENT.addr, port: 40100 };
    const cone = teredoAddr(coneMapping, SERVER, 0x8000);
    tun.inject(echo(HOST6, cone, 1, 129));
    expect(port.sent.map((s) => s.to)).toEqual([{ addr: SERVER, port: 3544 }]);
    await agent.reload(config({ 'honor-cone-bit': true, port: '4000' }));
    // ... after it, a second cone peer is sent to at once, straight to its mapping (RFC 4380 §5.4.1 case 2).
    const cone2 = teredoAddr({ addr: CLIENT.addr, port: 40101 }, SERVER, 0x8000);
    const down = echo(HOST6, cone2, 2, 129);
    tun.inject(down);
    expect(port.sent.at(-1)).toEqual({ bytes: down, to: { addr: CLIENT.addr, port: 40101 } });
    const s = agent.status();
    expect(s).toMatchObject({ peers: 3, honorConeBit: true, udp: '0.0.0.0:3545' });
    expect(log.lines.find((l) => l.msg === 'restart needed')).toMatchObject({ changed: ['port'] });
    await agent.stop();
  });

  it('fails start-up with IO_TUN_OPEN when the device cannot be created, closing the socket', async () => {
    const h = harness({ failTun: true });
    await expect(start({}, h)).rejects.toMatchObject({ code: 'IO_TUN_OPEN' });
    expect(h.ports[0]!.closed).toBe(true);
  });

  it('warns when IPv6 forwarding is off or no ICMPv6 source exists', async () => {
    const { agent, log } = await start({}, harness({ forwarding: false, hostAddresses: ['fe80::1/64'] }));
    expect(log.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['ipv6 forwarding off', 'no global IPv6 address for ICMPv6 errors: none will be sent']));
    await agent.stop();
  });

  it('picks the first global address outside 2001::/32 as the ICMPv6 source', () => {
    expect(pickIcmpv6Source(['fe80::1', 'bogus', '2001:0:1::1', 'ff02::1', '2001:db8::7'])).toEqual(new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]));
    expect(pickIcmpv6Source([])).toBeUndefined();
  });
});
