// The rasadv agent wiring, in-process: real engines and Driver, FakeDatagramPort and FakeClock instead of
// sockets and time. Checks what the sockets are told (bind address, TTL 15, loopback, egress interface,
// group membership), what is sent when, and what the listener prints and logs.
import { describe, expect, it } from 'vitest';
import { hostname as osHostname } from 'node:os';
import { FakeDatagramPort } from '../fakes/fake-datagram-port.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { capturedLogger } from '../fakes/log-capture.js';
import { validateConfig, type ConfigSpec } from '../../src/runtime/config.js';
import type { DatagramPortOptions } from '../../src/io/datagram-port.js';
import { seededRandom } from '../../src/engine/types.js';
import { encodeRasAdv } from '../../src/wire/rasadv.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import { startAdvertiser } from '../../agents/rasadv/advertise.js';
import { startListener } from '../../agents/rasadv/listen.js';
import { advertiseSpec, listenSpec } from '../../agents/rasadv/config.js';
import { formatCtime } from '../../agents/rasadv/format.js';
import { formatAdvertiseStatus, formatListenStatus } from '../../agents/rasadv/status.js';
import { formatAgentStatus } from '../../src/runtime/status.js';
import type { ReverseResolver } from '../../agents/rasadv/reverse-dns.js';
import { allIpv4Interfaces, resolveInterface, resolveInterfaces } from '../../agents/rasadv/interfaces.js';
import { FakeHost, fakeInterface } from '../fakes/fake-host.js';

const NIC_LIST = [fakeInterface('lo', ['127.0.0.1'], { loopback: true }), fakeInterface('eth0', ['192.0.2.1']), fakeInterface('eth1', ['198.51.100.1'])];
const NICS = new FakeHost({ interfaces: NIC_LIST });
const GROUP = parseIpv4('239.255.2.2');

function config<T>(spec: ConfigSpec<T>, flags: Record<string, unknown>): T {
  const r = validateConfig(spec, { flags });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
}

const logCapture = () => capturedLogger('rasadv test');

/** An AgentContext as the runtime builds it; `fatal` calls are recorded. */
function ctx<T>(config: T, logger = logCapture().logger) {
  const fatal: [string, number | undefined][] = [];
  return { name: 'rasadv test', instance: undefined, config, logger, fatal: (reason: string, code?: number) => void fatal.push([reason, code]), fatals: fatal };
}

function fakeOpen() {
  const opened: { options: DatagramPortOptions; port: FakeDatagramPort }[] = [];
  const openPort = (options: DatagramPortOptions) => {
    const port = new FakeDatagramPort({ addr: options.address ?? 0, port: options.port || 40_000 + opened.length });
    opened.push({ options, port });
    return Promise.resolve(port);
  };
  return { opened, openPort };
}

describe('rasadv advertise (agent wiring)', () => {
  it('opens one socket per interface with TTL 15, loopback off, IP_MULTICAST_IF, and sends at start and each interval', async () => {
    const clock = new FakeClock(1000);
    const { opened, openPort } = fakeOpen();
    const { logger, lines } = logCapture();
    const c = config(advertiseSpec, { hostname: 'thepcsname', interface: ['eth0', '198.51.100.1'], interval: '60' });
    const agent = await startAdvertiser(ctx(c, logger), { openPort, clock, timers: clock, interfaces: NICS, random: seededRandom(1) });

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
    expect(lines.filter((l) => l.msg === 'advertisement sent').map((l) => l.cause)).toEqual(['start', 'start', 'timer', 'timer', 'request', 'request', 'timer', 'timer']);
    await agent.stop();
    expect(opened.every((o) => o.port.closed)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('without --interface uses one socket on 0.0.0.0 and leaves the egress choice to the kernel', async () => {
    const clock = new FakeClock();
    const { opened, openPort } = fakeOpen();
    const c = config(advertiseSpec, { hostname: 'h', domain: 'EARTH.COM', loopback: true });
    const agent = await startAdvertiser(ctx(c), { openPort, clock, timers: clock, interfaces: NICS });
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

  it('refuses an unknown interface with IO_INTERFACE', async () => {
    const c = config(advertiseSpec, { hostname: 'h', interface: ['wlan9'] });
    await expect(startAdvertiser(ctx(c), { ...fakeOpen(), interfaces: NICS })).rejects.toMatchObject({ code: 'IO_INTERFACE', message: expect.stringContaining('no such interface') });
  });

  it('logs send failures (rate-limited) and keeps going', async () => {
    const clock = new FakeClock();
    const { opened, openPort } = fakeOpen();
    const { logger, lines } = logCapture();
    const c = config(advertiseSpec, { hostname: 'h', interval: '1' });
    const agent = await startAdvertiser(ctx(c, logger), { openPort, clock, timers: clock, interfaces: NICS });
    opened[0]!.port.failSends = new Error('ENETUNREACH');
    clock.advance(5_000);
    expect(lines.filter((l) => l.msg === 'advertisement not sent')).toHaveLength(1);
    expect(agent.status().sendFailures).toBe(6);
    await agent.stop();
  });
});

describe('rasadv listen (agent wiring)', () => {
  // Reverse DNS is off unless a test asks for it (with a fake resolver): output then appears synchronously.
  async function listener(flags: Record<string, unknown>, resolver?: ReverseResolver) {
    const clock = new FakeClock(0);
    const { opened, openPort } = fakeOpen();
    const log = logCapture();
    let out = '';
    const context = ctx(config(listenSpec, { resolve: resolver !== undefined, ...flags }), log.logger);
    const agent = await startListener(context, { write: (t) => (out += t), ...(resolver ? { resolver } : {}) }, { openPort, clock, timers: clock, interfaces: NICS });
    return { agent, clock, port: opened[0]!.port, opened, log, output: () => out, fatals: context.fatals };
  }
  const from = (ip: string) => ({ addr: parseIpv4(ip), port: 1034 });

  it('binds 239.255.2.2:9753 with SO_REUSEADDR and joins the group on every non-loopback IPv4 interface', async () => {
    const { opened, agent } = await listener({});
    expect(opened).toHaveLength(1);
    expect(opened[0]!.options).toEqual({ address: GROUP, port: 9753, reuseAddr: true });
    expect([...opened[0]!.port.groups]).toEqual([`${GROUP}/${parseIpv4('192.0.2.1')}`, `${GROUP}/${parseIpv4('198.51.100.1')}`]);
    await agent.stop();
  });

  it('prints the netsh-style table and warns about an unknown server', async () => {
    const { agent, port, output, log } = await listener({ allow: ['JYRAALAN2K'] });
    port.deliver(encodeRasAdv({ hostname: 'thepcsname' }), from('192.105.90.102'));
    port.deliver(encodeRasAdv({ hostname: 'JYRAALAN2K', domain: 'EARTH.COM' }), from('192.0.2.7'));
    const text = output();
    const lines = text.split('\n');
    expect(lines.slice(0, 2)).toEqual(['Timestamp                 Sender', '------------------------  ----------------------------------']);
    expect(lines[2]).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \d{4} {2}192\.105\.90\.102 {2}UNKNOWN$/);
    expect(lines[3]).toBe('   Hostname=thepcsname');
    expect(lines[4]).toMatch(/ {2}192\.0\.2\.7$/);
    expect(lines.slice(5, 7)).toEqual(['   Hostname=JYRAALAN2K', '   Domain=EARTH.COM']);
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => [l.msg, l.hostname, l.sender])).toEqual([['unknown RAS server', 'thepcsname', '192.105.90.102']]);
    expect(agent.unknownHeard()).toBe(true);
    await agent.stop();
  });

  it('writes JSON lines, marks a silent server stale after 2 intervals, and summarises --once runs', async () => {
    const { agent, port, clock, output, fatals } = await listener({ json: true, interval: '10', once: true, timeout: '60', allow: ['192.0.2.0/24'] });
    port.deliver(encodeRasAdv({ hostname: 'rras1' }), from('192.0.2.5'));
    clock.advance(10_000);
    port.deliver(encodeRasAdv({ hostname: 'rras1' }), from('192.0.2.5'));
    port.deliver(Uint8Array.of(0xde, 0xad, 0x01), from('192.0.2.66'));
    clock.advance(19_999);
    expect(output().trim().split('\n')).toHaveLength(2);
    clock.advance(1);
    clock.advance(29_999);
    expect(fatals).toEqual([]);
    clock.advance(1);
    expect(fatals).toEqual([['--once: timeout reached', 0]]);
    expect(agent.unknownHeard()).toBe(false);
    await agent.stop();
    const events = output().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => [e.event, e.change, e.count])).toEqual([
      ['advertisement', 'new', 1],
      ['advertisement', 'again', 2],
      ['stale', undefined, 2],
      ['summary', undefined, undefined],
    ]);
    expect(events[0]).toMatchObject({ sender: '192.0.2.5', port: 1034, hostname: 'rras1', known: true, stale: false });
    expect(events[3]).toMatchObject({ received: 3, accepted: 2, dropped: { 'malformed-text': 1 }, servers: 1, stale: 1, unknown: 0, unknownHeard: false });
  });

  it('--once ends with exit code 4 when an unknown server was heard', async () => {
    const { agent, port, clock, fatals } = await listener({ once: true, timeout: '5', allow: ['rras1'] });
    port.deliver(encodeRasAdv({ hostname: 'rras1' }), from('192.0.2.5'));
    port.deliver(encodeRasAdv({ hostname: 'rogue' }), from('192.0.2.6'));
    clock.advance(5_000);
    expect(fatals).toEqual([['--once: an unknown RAS server was heard', 4]]);
    await agent.stop();
  });

  it('reload (SIGHUP) applies a new allow list and names the servers whose verdict changed', async () => {
    const { agent, port, log } = await listener({ allow: ['alpha'] });
    port.deliver(encodeRasAdv({ hostname: 'alpha' }), from('192.0.2.1'));
    port.deliver(encodeRasAdv({ hostname: 'beta' }), from('192.0.2.2'));
    log.lines.length = 0;
    await agent.reload!(config(listenSpec, { allow: ['beta'], json: true }));
    expect(log.lines.map((l) => [l.level, l.msg, l.hostname])).toEqual([
      ['warn', 'restart needed', undefined],
      ['warn', 'unknown RAS server', 'alpha'],
      ['info', 'RAS server now allowed', 'beta'],
      ['info', 'allow list reloaded', undefined],
    ]);
    expect(agent.status().list.map((x) => [x.hostname, x.known])).toEqual([
      ['alpha', false],
      ['beta', true],
    ]);
    await agent.stop();
  });

  it('a full table forgets the least recently heard server, logging that at most once a minute', async () => {
    const { agent, port, clock, log } = await listener({ 'max-servers': '2' });
    for (let i = 1; i <= 5; i++) port.deliver(encodeRasAdv({ hostname: `h${i}` }), from(`192.0.2.${i}`));
    const full = () => log.lines.filter((l) => l.msg === 'server forgotten');
    expect(full().map((l) => [l.hostname, l.suppressed])).toEqual([['h1', 0]]);
    clock.advance(60_000);
    port.deliver(encodeRasAdv({ hostname: 'h6' }), from('192.0.2.6'));
    expect(full().map((l) => [l.hostname, l.suppressed])).toEqual([['h1', 0], ['h4', 2]]);
    expect(agent.status().list.map((x) => x.hostname).sort()).toEqual(['h5', 'h6']);
    await agent.stop();
  });

  it('warns about at most 20 unknown servers a minute, then reports how many it held back', async () => {
    const { agent, port, clock, log, output } = await listener({ allow: ['known'] });
    for (let i = 1; i <= 25; i++) port.deliver(encodeRasAdv({ hostname: `spoof${i}` }), from(`198.51.100.${i}`));
    const warned = () => log.lines.filter((l) => l.msg === 'unknown RAS server');
    expect(warned()).toHaveLength(20);
    expect(output().match(/Hostname=spoof/g)).toHaveLength(25); // the listing itself is never thinned
    clock.advance(60_000);
    port.deliver(encodeRasAdv({ hostname: 'late' }), from('198.51.100.99'));
    expect(warned().slice(-1).map((l) => [l.hostname, l.suppressed])).toEqual([['late', 5]]);
    await agent.stop();
  });

  it('handles a batch of datagrams in one driver step: each one listed, the junk counted, one clock read', async () => {
    const { agent, port, output } = await listener({ json: true });
    port.deliverBatch([
      { bytes: encodeRasAdv({ hostname: 'a' }), from: from('192.0.2.1') },
      { bytes: Uint8Array.of(0xff, 0x01), from: from('192.0.2.2') },
      { bytes: encodeRasAdv({ hostname: 'b' }), from: from('192.0.2.3') },
    ]);
    const events = output().trim().split('\n').map((l) => JSON.parse(l) as { hostname: string; firstSeen: string });
    expect(events.map((e) => e.hostname)).toEqual(['a', 'b']);
    expect(events[0]!.firstSeen).toBe(events[1]!.firstSeen);
    expect(agent.status()).toMatchObject({ received: 3, accepted: 2, dropped: { 'malformed-text': 1 }, driver: { batches: 1 } });
    await agent.stop();
  });

  it('logs receive errors at most once a minute and keeps listening', async () => {
    const { agent, port, clock, log } = await listener({});
    for (let i = 0; i < 3; i++) port.raise(new Error('ENOBUFS'));
    clock.advance(60_000);
    port.raise(new Error('ENOBUFS'));
    expect(log.lines.filter((l) => l.msg === 'receive error').map((l) => l.suppressed)).toEqual([0, 2]);
    port.deliver(encodeRasAdv({ hostname: 'h' }), from('192.0.2.9'));
    expect(agent.status().list).toHaveLength(1);
    await agent.stop();
  });

  it('shows the sender\'s reverse DNS name like netsh, holding a block until the lookup answers', async () => {
    const asked: string[] = [];
    const answers = new Map<string, (names: string[]) => void>();
    const resolver: ReverseResolver = {
      reverse: (ip) => {
        asked.push(ip);
        return new Promise((resolve) => answers.set(ip, resolve));
      },
    };
    const { agent, port, output } = await listener({}, resolver);
    port.deliver(encodeRasAdv({ hostname: 'thepcsname' }), from('192.105.90.102'));
    port.deliver(encodeRasAdv({ hostname: 'thepcsname' }), from('192.105.90.102'));
    expect(asked).toEqual(['192.105.90.102']); // one lookup in flight per address
    expect(output()).not.toContain('Hostname=');
    answers.get('192.105.90.102')!(['thepcsdnsname.example.com']);
    await Promise.resolve();
    const lines = output().split('\n');
    expect(lines[2]).toMatch(/ {2}192\.105\.90\.102 \(thepcsdnsname\.example\.com\)$/);
    expect(lines[3]).toBe('   Hostname=thepcsname');
    expect(lines[4]).toMatch(/ {2}192\.105\.90\.102 \(thepcsdnsname\.example\.com\)$/);
    port.deliver(encodeRasAdv({ hostname: 'thepcsname' }), from('192.105.90.102'));
    expect(output().match(/\(thepcsdnsname\.example\.com\)/g)).toHaveLength(3); // cached: printed at once
    expect(asked).toHaveLength(1);
    expect(agent.status().list[0]!.dnsName).toBe('thepcsdnsname.example.com');
    await agent.stop();
  });

  it('JSON lines carry dnsName: null after a timeout, and the name once a late answer is cached', async () => {
    let answer: (names: string[]) => void = () => {};
    const resolver: ReverseResolver = { reverse: () => new Promise((resolve) => (answer = resolve)) };
    const { agent, port, clock, output } = await listener({ json: true }, resolver);
    port.deliver(encodeRasAdv({ hostname: 'slow' }), from('192.0.2.5'));
    clock.advance(1_999);
    expect(output()).toBe('');
    clock.advance(1);
    expect(JSON.parse(output())).toMatchObject({ event: 'advertisement', sender: '192.0.2.5', dnsName: null });
    answer(['slow.example.com.']);
    await Promise.resolve();
    port.deliver(encodeRasAdv({ hostname: 'slow' }), from('192.0.2.5'));
    expect(JSON.parse(output().trim().split('\n')[1]!)).toMatchObject({ change: 'again', dnsName: 'slow.example.com' });
    await agent.stop();
  });

  it('--no-resolve prints at once, with dnsName null, and asks no DNS', async () => {
    const resolver: ReverseResolver = { reverse: () => expect.fail('no lookup with --no-resolve') };
    const off = await listener({ json: true, resolve: false }, resolver);
    off.port.deliver(encodeRasAdv({ hostname: 'h' }), from('192.0.2.9'));
    expect(JSON.parse(off.output())).toMatchObject({ hostname: 'h', dnsName: null });
    expect(off.agent.status().reverseDns).toBeNull();
    await off.agent.stop();
  });

  it('stop prints the blocks still waiting for a name, before the --once summary', async () => {
    const resolver: ReverseResolver = { reverse: () => new Promise(() => {}), cancel: () => {} };
    const { agent, port, output } = await listener({ json: true, once: true, timeout: '60' }, resolver);
    port.deliver(encodeRasAdv({ hostname: 'h' }), from('192.0.2.9'));
    expect(output()).toBe('');
    await agent.stop();
    expect(output().trim().split('\n').map((l) => (JSON.parse(l) as { event: string }).event)).toEqual(['advertisement', 'summary']);
  });

  it('formats timestamps like ctime()', () => {
    expect(formatCtime(new Date(2002, 11, 10, 18, 36, 49))).toBe('Tue Dec 10 18:36:49 2002');
    expect(formatCtime(new Date(2024, 0, 5, 7, 8, 9))).toBe('Fri Jan 05 07:08:09 2024');
  });
});

describe('rasadv status', () => {
  const base = { agent: 'rasadv listen', instance: null, pid: 7, uptimeSec: 65, reloads: 0, lifecycle: 'running' as const };

  it('advertise: one row per interface with sent, last and next, and the send failures', async () => {
    const clock = new FakeClock(1000);
    const { openPort } = fakeOpen();
    const c = config(advertiseSpec, { hostname: 'thepcsname', domain: 'EARTH.COM', interface: ['eth0', 'eth1'], interval: '60' });
    const agent = await startAdvertiser(ctx(c), { openPort, clock, timers: clock, interfaces: NICS, random: seededRandom(1) });
    clock.advance(5_000);
    const text = formatAgentStatus({ ...base, agent: 'rasadv advertise', ...agent.status() }, formatAdvertiseStatus);
    expect(text.split('\n')).toEqual([
      'rasadv advertise: running, pid 7, up 1m5s, 0 reloads',
      '  advertising Hostname=thepcsname Domain=EARTH.COM to 239.255.2.2:9753',
      '  interface  address       last sent  next in  sent',
      '  eth0       192.0.2.1     5 s ago    55 s        1',
      '  eth1       198.51.100.1  5 s ago    55 s        1',
      '  send failures: 0',
      '',
    ]);
    await agent.stop();
  });

  it('listen: the counters, the table of servers and the drops by reason', async () => {
    const clock = new FakeClock(0);
    const { opened, openPort } = fakeOpen();
    const c = config(listenSpec, { resolve: false, allow: ['rras1'] });
    const agent = await startListener(ctx(c), { write: () => {} }, { openPort, clock, timers: clock, interfaces: NICS });
    const port = opened[0]!.port;
    port.deliver(encodeRasAdv({ hostname: 'rras1', domain: 'EARTH.COM' }), { addr: parseIpv4('192.0.2.5'), port: 1034 });
    port.deliver(encodeRasAdv({ hostname: 'rogue' }), { addr: parseIpv4('192.0.2.6'), port: 1034 });
    port.deliver(encodeRasAdv({ hostname: 'rras1', domain: 'EARTH.COM' }), { addr: parseIpv4('192.0.2.5'), port: 1034 });
    port.deliver(new Uint8Array(0), { addr: parseIpv4('192.0.2.7'), port: 1034 });
    port.deliver(Uint8Array.of(1, 2), { addr: parseIpv4('192.0.2.7'), port: 1034 });
    port.deliver(Uint8Array.of(1, 2), { addr: parseIpv4('192.0.2.7'), port: 1034 });
    const s = agent.status();
    expect(s).toMatchObject({ mode: 'listen', received: 6, accepted: 3, dropped: { 'empty-message': 1, 'malformed-text': 2 }, servers: 2, unknown: 1, unknownHeard: true });
    const lines = formatAgentStatus({ ...base, ...s }, formatListenStatus).split('\n');
    expect(lines[1]).toBe('  received 6, accepted 3; 2 servers listed, 0 stale, 1 unknown');
    expect(lines[2]).toMatch(/^ {2}sender +host name +on --allow +state +last seen +heard$/);
    expect(lines[3]).toMatch(/^ {2}192\.0\.2\.6 +rogue +UNKNOWN +fresh +\S+ +1$/);
    expect(lines[4]).toMatch(/^ {2}192\.0\.2\.5 +rras1\.EARTH\.COM +yes +fresh +\S+ +2$/);
    expect(lines.slice(5)).toEqual(['  dropped: 3', '    malformed-text  2', '    empty-message   1', '']);
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
