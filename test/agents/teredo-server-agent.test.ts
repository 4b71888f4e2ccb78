// The teredo-server agent wiring, in-process: the real engine, Driver and counters, with FakeDatagramPort,
// FakeTun and FakeClock instead of sockets, devices and time. Checks the config rules (what --check-config
// refuses), which sockets are opened, that RSs and forwards leave from the right socket, start-up failures,
// SIGHUP reload, the stats log line, stop, and the status object and its human rendering.

import { describe, expect, it } from 'vitest';
import { FakeIpv6Sender } from '../fakes/fake-ipv6-sender.js';
import type { HostDeps } from '../../src/runtime/host.js';
import { fakePorts, startOnHost, type FakePorts } from './host-harness.js';
import { IoError } from '../../src/io/io-error.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { validateConfig } from '../../src/runtime/config.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { TEREDO_CLIENT_LINK_LOCAL_CONE } from '../../src/wire/teredo-address.js';
import { secondaryOf, serverSpec, type ServerAgentConfig } from '../../agents/teredo-server/config.js';
import { teredoServer } from '../../agents/teredo-server/agent.js';
import { formatTeredoServerStatus, type TeredoServerStatus } from '../../agents/teredo-server/status.js';
import { formatAgentStatus, type RunningStatus } from '../../src/runtime/status.js';
import { CLIENT, datagram, echo, rsDatagram, teredoAddr } from '../engine/teredo-server-fixtures.js';
import { MIREDO_RA, MIREDO_RS } from '../fakes/miredo-captures.js';
import { FakeHost, fakeRoute } from '../fakes/fake-host.js';

const HOST6 = parseIpv6('2001:db8:6::100');

function config(flags: Record<string, unknown>): ServerAgentConfig {
  const r = validateConfig(serverSpec, { flags });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
}

function problems(flags: Record<string, unknown>): string[] {
  const r = validateConfig(serverSpec, { flags });
  return r.ok ? [] : r.problems;
}


type Harness = FakePorts & { raw: FakeIpv6Sender[]; clock: FakeClock; deps: HostDeps };

function harness(opts: { failBind?: string; failTun?: boolean; forwarding?: boolean } = {}): Harness {
  const clock = new FakeClock();
  const ports = fakePorts(opts);
  const raw: FakeIpv6Sender[] = [];
  const facts = new FakeHost({ forwarding: { all: opts.forwarding ?? true }, routes: [fakeRoute('::/0', 'eth0')] });
  const openRaw6 = (): FakeIpv6Sender => raw[raw.push(new FakeIpv6Sender()) - 1]!;
  return { ...ports, raw, clock, deps: { clock, timers: clock, facts, openRaw6, openPort: ports.openPort, openTun: ports.openTun } };
}

async function start(flags: Record<string, unknown>, h = harness()) {
  const { agent, log } = await startOnHost(teredoServer, config(flags), h.deps);
  return { agent, h, log, primary: h.ports[0]!, secondary: h.ports[1]! };
}

describe('configuration (what --check-config refuses)', () => {
  it('defaults: secondary = primary + 1, MTU 1280, ICMPv6 limit 88, no forward interface, stats every 300 s', () => {
    const c = config({ address: '198.18.0.10' });
    expect(c).toEqual({ address: '198.18.0.10', mtu: 1280, forwardIcmpv6MaxPayload: 88, allowNonGlobal: false, statsInterval: 300, udpSockets: 'native', udpReceiveBuffer: 0 });
    expect(formatIpv4(secondaryOf(c))).toBe('198.18.0.11');
  });

  it('refuses a non-global address, naming the override', () => {
    expect(problems({ address: '192.168.1.1' })).toEqual([
      'address ("192.168.1.1") is not global unicast (RFC 4380 §5.2.4); clients could not reach it. For a lab on private addresses, add --allow-non-global',
      'secondaryAddress ("192.168.1.2") is not global unicast (RFC 4380 §5.2.4); clients could not reach it. For a lab on private addresses, add --allow-non-global',
    ]);
    expect(problems({ address: '192.168.1.1', 'allow-non-global': true })).toEqual([]);
    expect(problems({ address: '127.0.0.1', 'allow-non-global': true })).toHaveLength(2);
  });

  it('refuses a bad secondary, MTU, limit or interface name, all at once', () => {
    expect(problems({ address: '198.18.0.10', 'secondary-address': '198.18.0.10', mtu: '1279', 'forward-icmpv6-max-payload': '-1', 'forward-interface': 'a-very-long-ifname' })).toEqual([
      'mtu (1279) must be >= 1280',
      'forwardIcmpv6MaxPayload (-1) must be >= 0',
    ]);
    expect(problems({ address: '198.18.0.10', 'secondary-address': '198.18.0.10', 'forward-interface': 'a-very-long-ifname' })).toEqual([
      'secondaryAddress ("198.18.0.10") must differ from address',
      'forwardInterface ("a-very-long-ifname") must be an interface name of 1 to 15 characters without \'/\', \':\' or spaces',
    ]);
    expect(problems({})).toEqual(['address is required (--address or "address" in the config file)']);
    expect(problems({ address: '223.255.255.255', 'allow-non-global': true })).toEqual(['secondaryAddress ("224.0.0.0") must be a unicast address']);
  });
});

describe('serving', () => {
  it('binds UDP 3544 on both addresses and answers an RS from the socket it arrived on', async () => {
    const { agent, h, primary, secondary, log } = await start({ address: '198.18.0.10' });
    expect(h.ports.map((p) => `${formatIpv4(p.local.addr)}:${p.local.port}`)).toEqual(['198.18.0.10:3544', '198.18.0.11:3544']);
    primary.deliver(MIREDO_RS, CLIENT);
    expect(primary.sent).toEqual([{ bytes: MIREDO_RA, to: CLIENT }]);
    secondary.deliver(rsDatagram(), CLIENT);
    expect(secondary.sent).toHaveLength(1);
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
    await agent.stop();
  });

  it('handles a received batch in one driver step: every RS of it answered, in order', async () => {
    const { agent, primary } = await start({ address: '198.18.0.10' });
    const before = (agent.status() as { driver: { batches: number } }).driver.batches;
    const clients = [1, 2, 3].map((i) => ({ addr: CLIENT.addr, port: 40000 + i }));
    primary.deliverBatch(clients.map((from) => ({ bytes: MIREDO_RS, from })));
    expect(primary.sent.map((d) => d.to)).toEqual(clients);
    expect((agent.status() as { driver: { batches: number } }).driver.batches - before).toBe(1);
    await agent.stop();
  });

  it('sends the RA for a cone-bit RS from the other address', async () => {
    const { agent, primary, secondary } = await start({ address: '198.18.0.10' });
    primary.deliver(rsDatagram({ src: TEREDO_CLIENT_LINK_LOCAL_CONE }), CLIENT);
    expect(primary.sent).toHaveLength(0);
    expect(secondary.sent.map((s) => s.to)).toEqual([CLIENT]);
    await agent.stop();
  });

  it('opens the batched native sockets by default; --udp-sockets dgram and --udp-receive-buffer reach both', async () => {
    const native = await start({ address: '198.18.0.10' });
    expect(native.h.portOptions.map((o) => [o.implementation, o.receiveBufferSize])).toEqual([['native', 0], ['native', 0]]);
    await native.agent.stop();
    const dgram = await start({ address: '198.18.0.10', 'udp-sockets': 'dgram', 'udp-receive-buffer': '1048576' });
    expect(dgram.h.portOptions.map((o) => [o.implementation, o.receiveBufferSize])).toEqual([['dgram', 1 << 20], ['dgram', 1 << 20]]);
    expect(dgram.log.lines.find((l) => l.msg === 'serving')).toMatchObject({ udpSockets: 'dgram' });
    await dgram.agent.stop();
    expect(problems({ address: '198.18.0.10', 'udp-sockets': 'uv' })).toEqual([expect.stringContaining('udpSockets')]);
  });

  it('uses an explicit secondary address', async () => {
    const { agent, h } = await start({ address: '198.18.0.10', 'secondary-address': '198.18.0.77' });
    expect(formatIpv4(h.ports[1]!.local.addr)).toBe('198.18.0.77');
    await agent.stop();
  });

  it('counts answers and drops, keeps answering after junk, and reports them in status', async () => {
    const { agent, primary, secondary } = await start({ address: '198.18.0.10' });
    primary.deliver(new Uint8Array(7), CLIENT);
    primary.deliver(MIREDO_RS, { addr: 0x0a000001, port: 1000 });
    primary.deliver(MIREDO_RS, CLIENT);
    secondary.deliver(rsDatagram({ src: TEREDO_CLIENT_LINK_LOCAL_CONE }), CLIENT);
    const s = agent.status();
    expect(s).toMatchObject({
      addresses: { primary: '198.18.0.10:3544', secondary: '198.18.0.11:3544' },
      prefix: '2001:0:c612:a::/64',
      mtu: 1280,
      forwardInterface: null,
      rsAnswered: { primary: 1, secondary: 1 },
      raSent: { primary: 2, secondary: 0 },
      drops: { 'server-case-1-not-teredo-ipv6': 1, 'server-case-3-source-not-global': 1 },
    });
    await agent.stop();
  });
});

describe('start-up failures', () => {
  it('an address it cannot bind: IO_BIND naming the address, and the other socket closed', async () => {
    const h = harness({ failBind: '198.18.0.11' });
    await expect(start({ address: '198.18.0.10' }, h)).rejects.toMatchObject({
      code: 'IO_BIND',
      message: 'cannot bind UDP 198.18.0.11:3544 (secondary): address not available on this host',
    });
    expect(h.ports.map((p) => p.closed)).toEqual([true]);
  });

  it('native sockets without the addon built: IO_BIND naming the fallback flag', async () => {
    const h = harness();
    h.deps.openPort = () => Promise.reject(new IoError('IO_NATIVE_MISSING', 'native/build/Release/teredo_io.node not found: run `npm ci`'));
    const err = await start({ address: '198.18.0.10' }, h).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'IO_BIND', message: 'cannot open UDP 198.18.0.10:3544 (primary): native/build/Release/teredo_io.node not found: run `npm ci`; or run with --udp-sockets dgram' });
  });

  it('a TUN device it cannot create: IO_TUN_OPEN, sockets closed', async () => {
    const h = harness({ failTun: true });
    await expect(start({ address: '198.18.0.10', 'forward-interface': 'tsv-teredo' }, h)).rejects.toMatchObject({ code: 'IO_TUN_OPEN', message: expect.stringContaining('tsv-teredo') });
    expect(h.ports.every((p) => p.closed)).toBe(true);
  });
});

describe('native IPv6 through the raw socket (the default)', () => {
  it('hands a client\'s packet for a native destination to the raw IPv6 sender, as written', async () => {
    const { agent, h, primary } = await start({ address: '198.18.0.10' });
    expect([h.raw.length, h.tuns.length]).toEqual([1, 0]);
    const request = echo(teredoAddr(CLIENT), HOST6, 16);
    primary.deliver(datagram(request), CLIENT);
    expect(h.raw[0]!.sent).toEqual([request]);
    expect(agent.status()).toMatchObject({ forwardInterface: null, nativeForwarding: 'raw', nativeIpv6Route: true, forwarded: { native: 1 } });
    await agent.stop();
    expect(h.raw[0]!.closed).toBe(true);
  });

  it('--native-forwarding off opens no socket and drops such packets, counted', async () => {
    const { agent, h, primary } = await start({ address: '198.18.0.10', 'native-forwarding': 'off' });
    primary.deliver(datagram(echo(teredoAddr(CLIENT), HOST6, 16)), CLIENT);
    expect(h.raw).toEqual([]);
    expect(agent.status()).toMatchObject({ nativeForwarding: 'off', nativeIpv6Route: null, drops: { 'server-no-native-forwarding': 1 } });
    await agent.stop();
  });
});

describe('--forward-interface (native IPv6 through a TUN device)', () => {
  it('brings the device up, routes 2001:0:<primary>::/64 into it, and moves packets both ways', async () => {
    const { agent, h, primary } = await start({ address: '198.18.0.10', 'forward-interface': 'tsv-teredo' });
    const tun = h.tuns[0]!;
    expect(tun.name).toBe('tsv-teredo');
    expect(tun.config.map((c) => (c.op === 'add-route' ? `route ${formatIpv6(c.prefix)}/${c.prefixLength}` : c.op === 'up' ? `up ${c.up}` : c.op))).toEqual(['mtu', 'up true', 'route 2001:0:c612:a::/64']);

    const request = echo(teredoAddr(CLIENT), HOST6, 16);
    primary.deliver(datagram(request), CLIENT);
    expect(tun.written).toEqual([request]);
    expect(h.raw).toEqual([]); // no raw socket next to the device

    const reply = echo(HOST6, teredoAddr(CLIENT), 16, 129);
    tun.inject(reply);
    expect(primary.sent).toEqual([{ bytes: reply, to: CLIENT }]);
    expect(agent.status()).toMatchObject({ forwardInterface: 'tsv-teredo', forwarded: { native: 1, fromTun: 1 } });
    await agent.stop();
    expect(tun.closed).toBe(true);
  });

  it('warns when the kernel does not forward IPv6', async () => {
    const { agent, log } = await start({ address: '198.18.0.10', 'forward-interface': 'tsv-teredo' }, harness({ forwarding: false }));
    expect(log.lines.some((l) => l.level === 'warn' && l.msg === 'ipv6 forwarding off')).toBe(true);
    await agent.stop();
  });
});

describe('operations', () => {
  it('logs the counters at info every statsInterval seconds, and once more on stop', async () => {
    const { agent, h, primary, log } = await start({ address: '198.18.0.10', 'stats-interval': '60' }, harness());
    primary.deliver(MIREDO_RS, CLIENT);
    h.clock.advance(59_999);
    expect(log.lines.filter((l) => l.msg === 'counters')).toHaveLength(0);
    h.clock.advance(1);
    h.clock.advance(60_000);
    const lines = log.lines.filter((l) => l.msg === 'counters');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'info', rsAnswered: { primary: 1, secondary: 0 } });
    await agent.stop();
    expect(log.lines.filter((l) => l.msg === 'counters')).toHaveLength(3);
    expect(h.clock.pendingTimers).toBe(0);
    expect(h.ports.every((p) => p.closed)).toBe(true);
  });

  it('SIGHUP reload changes the MTU in place and keeps the sockets when the address changed', async () => {
    const { agent, h, primary, log } = await start({ address: '198.18.0.10' }, harness());
    await agent.reload(config({ address: '198.18.0.50', mtu: '1400' }));
    expect(log.lines.find((l) => l.level === 'warn' && l.msg === 'restart needed')).toMatchObject({ changed: ['address'] });
    primary.deliver(MIREDO_RS, CLIENT);
    const ra = primary.sent[0]!.bytes;
    expect([...ra.subarray(ra.length - 4)]).toEqual([0, 0, 0x05, 0x78]); // MTU option 1400
    expect(h.ports).toHaveLength(2);
    expect(agent.status()).toMatchObject({ mtu: 1400, addresses: { primary: '198.18.0.10:3544' } });
    await agent.stop();
  });
});

describe('status', () => {
  const sample: RunningStatus<TeredoServerStatus> = {
    agent: 'teredo-server',
    pid: 4242,
    instance: null,
    uptimeSec: 3725,
    reloads: 1,
    lifecycle: 'running',
    addresses: { primary: '198.18.0.10:3544', secondary: '198.18.0.11:3544' },
    prefix: '2001:0:c612:a::/64',
    mtu: 1280,
    forwardInterface: 'teredo',
    nativeForwarding: 'tun',
    nativeIpv6Route: true,
    forwardIcmpv6MaxPayload: 88,
    allowNonGlobal: false,
    rsAnswered: { primary: 120, secondary: 3 },
    raSent: { primary: 118, secondary: 5 },
    raWithNonce: 123,
    forwarded: { teredo: 10, withOrigin: 8, native: 4, fromTun: 2 },
    drops: { 'server-rs-bad-checksum': 1, 'server-case-3-source-not-global': 2 },
    ioErrors: { primary: 0, secondary: 0, tun: 0 },
    driver: { batches: 130, timeouts: 0, errors: 0 },
  };

  it('renders a table for people under the runtime\'s header line', () => {
    expect(formatAgentStatus(sample, formatTeredoServerStatus)).toBe(
      [
        'teredo-server: running, pid 4242, up 1h2m, 1 reload',
        '             address           RS answered  RA sent',
        '  primary    198.18.0.10:3544  120              118',
        '  secondary  198.18.0.11:3544  3                  5',
        '  prefix 2001:0:c612:a::/64, MTU 1280, forward interface teredo, ICMPv6 forward limit 88 bytes',
        '  RAs echoing a nonce: 123',
        '  native IPv6 forwarding: tun',
        '  forwarded: 10 to Teredo mappings (8 with origin indication), 4 to native IPv6, 2 from native IPv6',
        '  dropped: 3',
        '    server-case-3-source-not-global  2',
        '    server-rs-bad-checksum           1',
        '',
      ].join('\n'),
    );
  });
});
