// `rasadv listen` run in process on the agent host (test/agents/host-harness.ts) through setupListener's seams
// (stdout writer, reverse DNS resolver): the real engine and Driver, FakeDatagramPort and FakeClock instead of
// sockets and time (rasadv-fixtures.ts). Checks the socket (group, SO_REUSEADDR, memberships), what is printed
// and logged, --once exit codes, SIGHUP (allow lists applied and @FILEs read again; the rest "restart needed"),
// the host's drops and ioErrors, and the status rendering.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRasAdv } from '../../src/wire/rasadv.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { rasadvListen, setupListener } from '../../agents/rasadv/listen.js';
import { listenSpec } from '../../agents/rasadv/config.js';
import { formatCtime } from '../../agents/rasadv/format.js';
import { formatListenStatus } from '../../agents/rasadv/status.js';
import { formatAgentStatus } from '../../src/runtime/status.js';
import type { ReverseResolver } from '../../agents/rasadv/reverse-dns.js';
import { startOnHost } from './host-harness.js';
import { GROUP, STATUS_BASE, config, fakeHost } from './rasadv-fixtures.js';

describe('rasadv listen (agent wiring)', () => {
  // Reverse DNS is off unless a test asks for it (with a fake resolver): output then appears synchronously.
  async function listener(flags: Record<string, unknown>, resolver?: ReverseResolver) {
    const { clock, opened, deps } = fakeHost();
    let out = '';
    const hooks = { write: (t: string) => void (out += t), ...(resolver ? { resolver } : {}) };
    const c = config(listenSpec, { resolve: resolver !== undefined, ...flags });
    const { agent, log, fatal, exitCodes } = await startOnHost(rasadvListen, c, deps, (host) => setupListener(host, hooks));
    return { agent, clock, port: opened[0]!.port, opened, log, output: () => out, fatals: () => fatal.map((reason, i) => [reason, exitCodes[i]]) };
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
    expect(agent.status().unknownHeard).toBe(true);
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
    expect(fatals()).toEqual([]);
    clock.advance(1);
    expect(fatals()).toEqual([['--once: timeout reached', 0]]);
    expect(agent.status().unknownHeard).toBe(false);
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
    expect(fatals()).toEqual([['--once: an unknown RAS server was heard', 4]]);
    await agent.stop();
  });

  it('SIGHUP applies a new allow list and names the servers whose verdict changed; the rest waits for a restart', async () => {
    const { agent, port, log, output } = await listener({ allow: ['alpha'] });
    port.deliver(encodeRasAdv({ hostname: 'alpha' }), from('192.0.2.1'));
    port.deliver(encodeRasAdv({ hostname: 'beta' }), from('192.0.2.2'));
    log.lines.length = 0;
    await agent.reload(config(listenSpec, { allow: ['beta'], json: true, resolve: false }));
    expect(log.lines.map((l) => [l.level, l.msg, l.hostname ?? l.changed])).toEqual([
      ['warn', 'restart needed', ['json']],
      ['warn', 'unknown RAS server', 'alpha'],
      ['info', 'RAS server now allowed', 'beta'],
      ['info', 'allow list reloaded', undefined],
    ]);
    expect(agent.status().list.map((x) => [x.hostname, x.known])).toEqual([
      ['alpha', false],
      ['beta', true],
    ]);
    // json is not live: the listener keeps printing the netsh-style table.
    port.deliver(encodeRasAdv({ hostname: 'gamma' }), from('192.0.2.3'));
    expect(output().trimEnd().split('\n').at(-1)).toBe('   Hostname=gamma');
    await agent.stop();
  });

  it('SIGHUP re-reads an @FILE allow list whose entries did not change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rasadv-allow-'));
    try {
      const file = join(dir, 'allow.txt');
      writeFileSync(file, 'alpha\n');
      const flags = { allow: [`@${file}`] };
      const { agent, port, log } = await listener(flags);
      port.deliver(encodeRasAdv({ hostname: 'beta' }), from('192.0.2.2'));
      writeFileSync(file, 'alpha\nbeta\n');
      log.lines.length = 0;
      await agent.reload(config(listenSpec, { ...flags, resolve: false }));
      expect(log.lines.map((l) => [l.msg, l.hostname])).toEqual([
        ['RAS server now allowed', 'beta'],
        ['allow list reloaded', undefined],
      ]);
      await agent.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
    expect(agent.status()).toMatchObject({ received: 3, accepted: 2, drops: { 'malformed-text': 1 }, driver: { batches: 1 } });
    await agent.stop();
  });

  it('counts receive errors as i/o errors of its port, logs them at most once a minute, and keeps listening', async () => {
    const { agent, port, clock, log } = await listener({});
    for (let i = 0; i < 3; i++) port.raise(new Error('ENOBUFS'));
    clock.advance(60_000);
    port.raise(new Error('ENOBUFS'));
    expect(log.lines.filter((l) => l.msg === 'i/o error').map((l) => [l.where, l.suppressed])).toEqual([['udp', 0], ['udp', 2]]);
    expect(agent.status().ioErrors).toEqual({ udp: 4 });
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

describe('rasadv listen status', () => {
  it('listen: the counters, the table of servers and the drops by reason', async () => {
    const { opened, deps } = fakeHost();
    const c = config(listenSpec, { resolve: false, allow: ['rras1'] });
    const { agent } = await startOnHost(rasadvListen, c, deps, (host) => setupListener(host, { write: () => {} }));
    const port = opened[0]!.port;
    port.deliver(encodeRasAdv({ hostname: 'rras1', domain: 'EARTH.COM' }), { addr: parseIpv4('192.0.2.5'), port: 1034 });
    port.deliver(encodeRasAdv({ hostname: 'rogue' }), { addr: parseIpv4('192.0.2.6'), port: 1034 });
    port.deliver(encodeRasAdv({ hostname: 'rras1', domain: 'EARTH.COM' }), { addr: parseIpv4('192.0.2.5'), port: 1034 });
    port.deliver(new Uint8Array(0), { addr: parseIpv4('192.0.2.7'), port: 1034 });
    port.deliver(Uint8Array.of(1, 2), { addr: parseIpv4('192.0.2.7'), port: 1034 });
    port.deliver(Uint8Array.of(1, 2), { addr: parseIpv4('192.0.2.7'), port: 1034 });
    const s = agent.status();
    expect(s).toMatchObject({ mode: 'listen', received: 6, accepted: 3, drops: { 'empty-message': 1, 'malformed-text': 2 }, servers: 2, unknown: 1, unknownHeard: true, ioErrors: { udp: 0 } });
    const lines = formatAgentStatus({ ...STATUS_BASE, agent: 'rasadv listen', ...s }, formatListenStatus).split('\n');
    expect(lines[1]).toBe('  received 6, accepted 3; 2 servers listed, 0 stale, 1 unknown');
    expect(lines[2]).toMatch(/^ {2}sender +host name +on --allow +state +last seen +heard$/);
    expect(lines[3]).toMatch(/^ {2}192\.0\.2\.6 +rogue +UNKNOWN +fresh +\S+ +1$/);
    expect(lines[4]).toMatch(/^ {2}192\.0\.2\.5 +rras1\.EARTH\.COM +yes +fresh +\S+ +2$/);
    expect(lines.slice(5)).toEqual(['  dropped: 3', '    malformed-text  2', '    empty-message   1', '']);
    await agent.stop();
  });
});
