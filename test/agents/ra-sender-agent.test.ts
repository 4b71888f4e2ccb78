// The ra-sender declaration run in process on the agent host (test/agents/host-harness.ts): real engine and
// Driver, FakeIcmpv6Socket, FakeClock and a scripted link (the LinkReader seam of setupRaSender) instead of the
// kernel. Checks the socket set-up (ff02::2, RS-only filter), waiting for DAD, following the link down and up (new
// ifindex = new socket), solicited answers, SIGHUP deprecation, the final RAs, send errors as the host's ioErrors
// per interface, and the status object.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeIcmpv6Socket } from '../fakes/fake-icmpv6-socket.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { validateConfig, type ImportedFile } from '../../src/runtime/config.js';
import type { Icmpv6SocketOptions } from '../../src/io/icmpv6-socket.js';
import type { HostDeps } from '../../src/runtime/host.js';
import { seededRandom } from '../../src/engine/types.js';
import { decodeIcmpv6 } from '../../src/wire/icmpv6.js';
import { decodeNdisc, type RouterAdvert } from '../../src/wire/ndisc.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { fromHex } from '../../src/wire/bytes.js';
import { raSender, setupRaSender } from '../../agents/ra-sender/agent.js';
import { raSenderSpec, radvdConfImport, type RaSenderAgentConfig } from '../../agents/ra-sender/config.js';
import { linkAddresses, type LinkState } from '../../agents/ra-sender/link.js';
import { parseIfInet6 } from '../../src/io/linux-host.js';
import { AgentError } from '../../src/runtime/errors.js';
import { formatRaSenderStatus } from '../../agents/ra-sender/status.js';
import { startOnHost } from './host-harness.js';

/** The config from flags, over a radvd.conf as the runtime imports it (`radvdConfImport.read`) when one is given. */
function config(flags: Record<string, unknown>, radvd?: ImportedFile): RaSenderAgentConfig {
  const r = validateConfig(raSenderSpec, { flags, ...(radvd ? { file: { ...radvd, imported: true } } : {}) });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
}

const UP: LinkState = { ifindex: 7, linkLocal: 'fe80::1', tentative: false, mtu: 1500, mac: fromHex('02005e005301'), autoPrefixes: [parseIpv6('2001:db8:77::')], addresses: ['fe80::1', '2001:db8:77::1'], forwarding: true };
const TENTATIVE: LinkState = { ...UP, linkLocal: undefined, tentative: true };

function harness(flags: Record<string, unknown>, link: LinkState = UP, radvd?: ImportedFile) {
  const clock = new FakeClock(1000);
  const sockets: { options: Icmpv6SocketOptions; socket: FakeIcmpv6Socket }[] = [];
  const state = { link };
  const control = { failNextOpen: false };
  const deps: HostDeps = {
    openIcmpv6: (options) => {
      if (control.failNextOpen) {
        control.failNextOpen = false;
        throw new Error(`cannot open raw ICMPv6 socket on ${options.ifname}`);
      }
      const socket = new FakeIcmpv6Socket(options.ifname, state.link.ifindex ?? 0);
      for (const g of options.groups ?? []) socket.joinGroup(g);
      socket.setTypeFilter(options.types);
      sockets.push({ options, socket });
      return socket;
    },
    clock,
    timers: clock,
    random: seededRandom(3),
  };
  const links = { read: () => state.link };
  const sent = () => sockets.flatMap((s) => s.socket.sent).map((m) => ({ to: formatIpv6(m.destination), ra: decodeNdisc(decodeIcmpv6(m.bytes)) as RouterAdvert }));
  return {
    clock, sockets, state, sent, start: () => startOnHost(raSender, config(flags, radvd), deps, (host) => setupRaSender(host, links)),
    set failNextOpen(v: boolean) {
      control.failNextOpen = v;
    },
  };
}

const RS = new Uint8Array([133, 0, 0, 0, 0, 0, 0, 0]);
const prefixes = (ra: RouterAdvert) => ra.options.flatMap((o) => (o.kind === 'prefix-info' ? [`${formatIpv6(o.prefix)}/${o.prefixLength} ${o.preferredLifetimeSec}`] : []));

describe('ra-sender agent', () => {
  it('opens a socket joined to ff02::2 for RSs and RAs only, sends the first RA at once, answers an RS by unicast', async () => {
    const h = harness({ interface: 'eth0', prefix: ['2001:db8:66::/64'], rdnss: ['2001:db8::53'] });
    const { agent, log } = await h.start();
    h.clock.advance(0);
    expect(h.sockets.length).toBe(1);
    const s = h.sockets[0]!.socket;
    expect(s.groups.map((g) => formatIpv6(g))).toEqual(['ff02::2']);
    expect(s.typeFilter).toEqual([133, 134]);
    expect(h.sent().map((m) => m.to)).toEqual(['ff02::1']);
    const first = h.sent()[0]!.ra;
    expect(first.routerLifetimeSec).toBe(1800);
    expect(first.options.map((o) => o.kind)).toEqual(['source-ll-addr', 'prefix-info', 'rdnss']);
    s.deliver({ bytes: RS, source: parseIpv6('fe80::99') });
    expect(h.sent().map((m) => m.to)).toEqual(['ff02::1', 'fe80::99']);
    s.deliver({ bytes: RS, source: parseIpv6('fe80::99'), hopLimit: 64 });
    const st = agent.status();
    expect(st.interfaces[0]).toMatchObject({ interface: 'eth0', state: 'advertising', linkLocal: 'fe80::1', counters: { solicitations: 2, answeredUnicast: 1 }, drops: { 'rs-hop-limit-not-255': 1 } });
    expect(st.interfaces[0]!.lastRa).toMatchObject({ routerLifetime: 1800, options: [{ option: 'source-ll-addr', address: '02:00:5e:00:53:01' }, { option: 'prefix', prefix: '2001:db8:66::/64' }, { option: 'rdnss', servers: ['2001:db8::53'] }] });
    // Another router's RA with a different hop limit (§6.2.7): counted, logged.
    const otherRa = new Uint8Array([134, 0, 0, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    s.deliver({ bytes: otherRa, source: parseIpv6('fe80::2') });
    expect(agent.status().interfaces[0]!.inconsistencies).toEqual({ 'cur-hop-limit': 1 });
    expect(log.lines.some((l) => l.level === 'warn' && l.router === 'fe80::2' && l.inconsistency === 'cur-hop-limit')).toBe(true);
    const text = formatRaSenderStatus({ agent: 'ra-sender', instance: null, pid: 1, uptimeSec: 1, reloads: 0, lifecycle: 'running', ...agent.status() }).join('\n');
    expect(text).toContain('eth0: advertising from fe80::1, MTU 1500, forwarding on');
    expect(text).toContain('RSs: 2 received, 1 answered by unicast, 0 by multicast');
    expect(text).toMatch(/dropped: 1\n\s+rs-hop-limit-not-255\s+1/);
    expect(text).toContain('last RA: {"curHopLimit":64');
    expect(text).toContain("other routers' RAs with a different cur-hop-limit: 1 (RFC 4861 §6.2.7)");
    await stopAll(h, agent);
  });

  it('counts refused sends as i/o errors of the interface\'s port (host ioErrors "icmpv6:<interface>"), and keeps going', async () => {
    const h = harness({ interface: ['eth0', 'eth1'] });
    const { agent, log } = await h.start();
    const eth1 = h.sockets.find((x) => x.options.ifname === 'eth1')!.socket;
    eth1.failSends = new Error('ENETDOWN');
    h.clock.advance(0);
    expect(agent.status().ioErrors).toEqual({ 'icmpv6:eth0': 0, 'icmpv6:eth1': 1 });
    expect(log.lines.filter((l) => l.msg === 'i/o error').map((l) => l.where)).toEqual(['icmpv6:eth1']);
    const text = formatRaSenderStatus({ agent: 'ra-sender', instance: null, pid: 1, uptimeSec: 1, reloads: 0, lifecycle: 'running', ...agent.status() }).join('\n');
    expect(text).toMatch(/^eth0: .*\n.*\n.*send errors 0$/m);
    expect(text).toMatch(/^eth1: .*\n.*\n.*send errors 1$/m);
    eth1.failSends = undefined;
    eth1.deliver({ bytes: RS, source: parseIpv6('fe80::99') });
    expect(eth1.sent.map((m) => formatIpv6(m.destination))).toEqual(['fe80::99']);
    await stopAll(h, agent);
  });

  it("AdvRASrcAddress: RAs leave from the first listed address the interface holds, the kernel's choice when it holds none", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ra-sender-radvd-'));
    try {
      const path = join(dir, 'radvd.conf');
      writeFileSync(path, 'interface eth0 {\n  AdvSendAdvert on;\n  AdvRASrcAddress { fe80::99; fe80::1; };\n};\n');
      const h = harness({}, UP, radvdConfImport.read(path));
      const { agent } = await h.start();
      h.clock.advance(100_000);
      const sources = () => h.sockets.flatMap((x) => x.socket.sent).map((m) => (m.source === undefined ? 'kernel' : formatIpv6(m.source)));
      expect(new Set(sources())).toEqual(new Set(['fe80::1']));
      // fe80::99 appears on the link: it is listed first, so it is used from the next poll on.
      h.state.link = { ...UP, addresses: [...UP.addresses, 'fe80::99'] };
      h.clock.advance(700_000); // past MaxRtrAdvInterval (600 s): at least one periodic RA
      expect(sources().at(-1)).toBe('fe80::99');
      h.state.link = { ...UP, addresses: ['fe80::1234'] };
      h.clock.advance(700_000);
      expect(sources().at(-1)).toBe('kernel');
      await stopAll(h, agent);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('advertises what an imported radvd.conf says, and applies the file read again on SIGHUP', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ra-sender-radvd-'));
    try {
      const path = join(dir, 'radvd.conf');
      const conf = (prefix: string) => `interface eth0 {\n  AdvSendAdvert on;\n  prefix ${prefix} { };\n};\n`;
      writeFileSync(path, conf('2001:db8:66::/64'));
      const h = harness({}, UP, radvdConfImport.read(path));
      const { agent, log } = await h.start();
      h.clock.advance(100_000);
      expect(prefixes(h.sent().at(-1)!.ra)).toEqual(['2001:db8:66::/64 14400']);
      writeFileSync(path, conf('2001:db8:67::/64'));
      await agent.reload(config({}, radvdConfImport.read(path)));
      h.clock.advance(0);
      expect(prefixes(h.sent().at(-1)!.ra)).toEqual(['2001:db8:67::/64 14400', '2001:db8:66::/64 0']);
      expect(log.lines.filter((l) => l.msg === 'restart needed')).toEqual([]);
      await stopAll(h, agent);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('waits while the link-local address is tentative (DAD), then advertises', async () => {
    const h = harness({ interface: 'eth0', prefix: 'auto' }, TENTATIVE);
    const { agent } = await h.start();
    h.clock.advance(5000);
    expect(h.sent()).toEqual([]);
    expect(agent.status().interfaces[0]!.state).toBe('waiting-for-dad');
    h.state.link = UP;
    h.clock.advance(1000);
    expect(h.sent().length).toBe(1);
    expect(prefixes(h.sent()[0]!.ra)).toEqual(['2001:db8:77::/64 14400']);
    await stopAll(h, agent);
  });

  it('follows the interface going away and coming back with a new ifindex (new socket, new initial burst)', async () => {
    const h = harness({ interface: 'eth0', prefix: 'auto', 'max-interval': '600' });
    const { agent } = await h.start();
    h.clock.advance(40_000);
    expect(h.sent().length).toBe(3);
    h.state.link = { ...UP, ifindex: undefined, linkLocal: undefined, mtu: undefined, autoPrefixes: [] };
    h.clock.advance(1000);
    expect(h.sockets[0]!.socket.closed).toBe(true);
    h.clock.advance(1000_000);
    expect(h.sent().length).toBe(3);
    h.state.link = { ...UP, ifindex: 9 };
    h.clock.advance(1000);
    expect(h.sockets.length).toBe(2);
    expect(h.sockets[1]!.socket.ifindex).toBe(9);
    h.clock.advance(40_000);
    expect(h.sent().length).toBe(6);
    await stopAll(h, agent);
  });

  it('deprecates a prefix removed by reload and an auto prefix whose address left the interface', async () => {
    const h = harness({ interface: 'eth0', prefix: ['2001:db8:66::/64', 'auto'] });
    const { agent } = await h.start();
    h.clock.advance(100_000);
    await agent.reload(config({ interface: 'eth0', prefix: ['auto'] }));
    h.clock.advance(0);
    expect(prefixes(h.sent().at(-1)!.ra)).toEqual(['2001:db8:77::/64 14400', '2001:db8:66::/64 0']);
    h.state.link = { ...UP, autoPrefixes: [parseIpv6('2001:db8:78::')] };
    h.clock.advance(3000);
    expect(prefixes(h.sent().at(-1)!.ra)).toEqual(['2001:db8:78::/64 14400', '2001:db8:66::/64 0', '2001:db8:77::/64 0']);
    const st = agent.status();
    expect(st.interfaces[0]!.deprecated.map((d) => d.prefix)).toEqual(['2001:db8:66::/64', '2001:db8:77::/64']);
    await stopAll(h, agent);
  });

  it('keeps polling the other interfaces when one socket cannot be opened, and retries it', async () => {
    const h = harness({ interface: ['eth0', 'eth1'] });
    const { agent, log } = await h.start();
    h.clock.advance(0);
    const realOpen = h.sockets.length;
    expect(realOpen).toBe(2);
    // eth0 vanishes and comes back with a new ifindex, but opening its socket fails once.
    h.state.link = { ...UP, ifindex: 11 };
    h.failNextOpen = true;
    h.clock.advance(1000);
    expect(log.lines.some((l) => l.level === 'error' && l.msg === 'link poll failed')).toBe(true);
    h.clock.advance(1000);
    expect(agent.status().interfaces.map((i) => [i.interface, i.state, i.ifindex])).toEqual([['eth0', 'advertising', 11], ['eth1', 'advertising', 11]]);
    await stopAll(h, agent);
  });

  it('applies a reload that came while the link was down once the link is back', async () => {
    const h = harness({ interface: 'eth0', prefix: ['2001:db8:66::/64'] });
    const { agent } = await h.start();
    h.clock.advance(1000);
    h.state.link = TENTATIVE;
    h.clock.advance(1000);
    await agent.reload(config({ interface: 'eth0', prefix: ['2001:db8:67::/64'] }));
    h.clock.advance(5000);
    h.state.link = UP;
    h.clock.advance(1000);
    expect(prefixes(h.sent().at(-1)!.ra)).toEqual(['2001:db8:67::/64 14400', '2001:db8:66::/64 0']);
    await stopAll(h, agent);
  });

  it('warns when the router lifetime is non-zero but the interface does not forward, without zeroing it', async () => {
    const h = harness({ interface: 'eth0' }, { ...UP, forwarding: false });
    const { agent, log } = await h.start();
    h.clock.advance(0);
    expect(log.lines.some((l) => l.level === 'warn' && String(l.msg).includes('IPv6 forwarding is off on this interface'))).toBe(true);
    expect(h.sent()[0]!.ra.routerLifetimeSec).toBe(1800);
    const st = agent.status();
    expect(st.interfaces[0]!.warnings.join()).toMatch(/net\.ipv6\.conf\.eth0\.forwarding = 0/);
    await stopAll(h, agent);
  });

  it('refuses to start when the MTU option is above the interface MTU', async () => {
    const h = harness({ interface: 'eth0', mtu: '9000' });
    await expect(h.start()).rejects.toThrow(AgentError);
    await expect(h.start()).rejects.toMatchObject({ details: ['interface eth0: mtu (9000) is above the interface\'s own MTU (1500)'] });
  });

  it('sends the final RAs of an interface a reload removes (§6.2.5: advertising turned off at run time)', async () => {
    const h = harness({ interface: 'eth0', prefix: ['2001:db8:66::/64'] });
    const { agent } = await h.start();
    h.clock.advance(20_000);
    const before = h.sent().length;
    const reloaded = agent.reload(config({ interface: 'eth1' }));
    h.clock.advance(10_000);
    await reloaded;
    const eth0 = h.sockets.find((x) => x.options.ifname === 'eth0')!.socket;
    expect(eth0.closed).toBe(true);
    expect(h.sent().slice(before).filter((m) => m.ra.routerLifetimeSec === 0).length).toBe(3);
    expect(agent.status().interfaces.map((i) => i.interface)).toEqual(['eth1']);
    await stopAll(h, agent);
  });

  it('sends 3 final RAs with router lifetime 0 on stop, then closes the socket', async () => {
    const h = harness({ interface: 'eth0', prefix: ['2001:db8:66::/64'] });
    const { agent } = await h.start();
    h.clock.advance(20_000);
    const before = h.sent().length;
    const stopped = agent.stop();
    h.clock.advance(10_000);
    await stopped;
    const finals = h.sent().slice(before);
    expect(finals.map((f) => [f.to, f.ra.routerLifetimeSec])).toEqual([['ff02::1', 0], ['ff02::1', 0], ['ff02::1', 0]]);
    expect(h.sockets[0]!.socket.closed).toBe(true);
  });
});

async function stopAll(h: ReturnType<typeof harness>, agent: Awaited<ReturnType<ReturnType<typeof harness>['start']>>['agent']): Promise<void> {
  const p = agent.stop();
  h.clock.advance(20_000);
  await p;
}

describe('ra-sender agent: renumbering state and monitor mode (issue 19)', () => {
  it('deprecates at start a prefix the state file says hosts still hold, and saves every change of it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ra-sender-state-'));
    try {
      const file = join(dir, 'ra-sender.state.json');
      const held = { prefix: '2001:db8:67::/64', onLink: true, autonomous: true, routerAddress: false, validUntil: Date.now() + 5_000_000 };
      writeFileSync(file, JSON.stringify({ version: 1, interfaces: { eth0: [held], gone: [held] } }));
      const h = harness({ interface: 'eth0', prefix: ['2001:db8:66::/64'], 'state-dir': dir });
      const { agent, log } = await h.start();
      h.clock.advance(0);
      const first = h.sent()[0]!.ra.options.flatMap((o) => (o.kind === 'prefix-info' ? [`${formatIpv6(o.prefix)} ${o.preferredLifetimeSec}/${o.validLifetimeSec}`] : []));
      expect(first[0]).toBe('2001:db8:66:: 14400/86400');
      expect(first[1]).toMatch(/^2001:db8:67:: 0\/(4999|5000)$/);
      expect(log.lines.some((l) => String(l.msg).startsWith('renumbering state read'))).toBe(true);
      const saved = () => (JSON.parse(readFileSync(file, 'utf8')) as { interfaces: Record<string, { prefix: string }[]> }).interfaces;
      h.clock.advance(1000);
      expect(Object.keys(saved())).toEqual(['eth0']);
      expect(saved().eth0!.map((p) => p.prefix)).toEqual(['2001:db8:66::/64', '2001:db8:67::/64']);
      await agent.reload(config({ interface: 'eth0', prefix: ['2001:db8:68::/64'], 'state-dir': dir }));
      h.clock.advance(1000);
      expect(saved().eth0!.map((p) => p.prefix)).toEqual(['2001:db8:68::/64', '2001:db8:67::/64', '2001:db8:66::/64']);
      await stopAll(h, agent);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('caps advertised lifetimes with --max-preferred-lifetime / --max-valid-lifetime (RFC 9096 §3.3)', async () => {
    const h = harness({ interface: 'eth0', prefix: ['2001:db8:66::/64'], 'max-preferred-lifetime': 2700, 'max-valid-lifetime': 5400 });
    const { agent } = await h.start();
    h.clock.advance(0);
    expect(h.sent()[0]!.ra.options.flatMap((o) => (o.kind === 'prefix-info' ? [[o.preferredLifetimeSec, o.validLifetimeSec]] : []))).toEqual([[2700, 5400]]);
    await stopAll(h, agent);
  });

  it('monitor-only keeps the other routers in status, sends nothing, and drops its own looped-back RA', async () => {
    const h = harness({ interface: 'eth0', 'monitor-only': true });
    const { agent } = await h.start();
    h.clock.advance(5000);
    const s = h.sockets[0]!.socket;
    const other = new Uint8Array([134, 0, 0, 0, 64, 0x40, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0]); // O flag, router lifetime 1800
    s.deliver({ bytes: other, source: parseIpv6('fe80::2') });
    s.deliver({ bytes: other, source: parseIpv6('fe80::1') }); // our own address (UP.linkLocal)
    s.deliver({ bytes: RS, source: parseIpv6('fe80::99') });
    h.clock.advance(10_000);
    const st = agent.status().interfaces[0]!;
    expect(h.sent()).toEqual([]);
    expect(st.state).toBe('monitoring');
    expect(st.drops).toEqual({ 'ra-from-self': 1, 'rs-not-advertising': 1 });
    expect(st.monitor).toMatchObject({ routers: [{ router: 'fe80::2', advertisements: 1, otherConfig: true, routerLifetime: 1800, defaultRouteRemainingSec: 1790, prefixes: [] }], defaultRouteExpirations: 0 });
    const text = formatRaSenderStatus({ agent: 'ra-sender', instance: null, pid: 1, uptimeSec: 1, reloads: 0, lifecycle: 'running', ...agent.status() }).join('\n');
    expect(text).toContain('fe80::2: 1 RAs, last 10 s ago, default route 1790 s more, 0 inconsistencies');
    await stopAll(h, agent);
  });
});

describe('link state from /proc/net/if_inet6', () => {
  // address, ifindex, prefix length, scope (0x20 link, 0x00 global), flags (0x40 tentative, 0x08 DAD failed,
  // 0x01 temporary), name, as Linux prints them.
  const TEXT = [
    'fe80000000000000020000fffe000001 07 40 20 80     eth0',
    '20010db8006600000200000000000001 07 40 00 00     eth0',
    '20010db8006600000000000000000099 07 40 00 01     eth0',
    '20010db8000100000000000000000001 07 30 00 80     eth0',
    '20010db8000200000000000000000001 07 40 00 80     eth0',
    'fe80000000000000020000fffe000002 08 40 20 40     eth1',
    'fe80000000000000020000fffe000003 09 40 20 08     eth2',
    '00000000000000000000000000000001 01 80 10 80       lo',
  ].join('\n');

  it('finds the usable link-local address, and the global /64 prefixes for auto (not temporary ones, not a /48)', () => {
    const s = linkAddresses(parseIfInet6(TEXT), 'eth0');
    expect(s).toMatchObject({ ifindex: 7, linkLocal: 'fe80::200:ff:fe00:1', tentative: false });
    expect(s.autoPrefixes.map((p) => formatIpv6(p))).toEqual(['2001:db8:2::', '2001:db8:66::']);
  });

  it('reports a link-local address still in DAD (or failed) as tentative, and an absent interface as such', () => {
    expect(linkAddresses(parseIfInet6(TEXT), 'eth1')).toMatchObject({ ifindex: 8, linkLocal: undefined, tentative: true });
    expect(linkAddresses(parseIfInet6(TEXT), 'eth2')).toMatchObject({ ifindex: 9, linkLocal: undefined, tentative: true });
    expect(linkAddresses(parseIfInet6(TEXT), 'eth9')).toEqual({ ifindex: undefined, linkLocal: undefined, tentative: false, autoPrefixes: [], addresses: [] });
  });
});
