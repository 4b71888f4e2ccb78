// ra-sender in the lab's lan6 (issue 11 acceptance), as root in network namespaces:
//
//   ra (RA sender, forwarding on) ──┬── h6a (plain Linux host: accept_ra, SLAAC)
//                                   └── h6b
//
// Each shared check runs twice with the SAME radvd.conf: once with Debian's radvd, once with ours
// (`ra-sender --radvd-conf`), so the expectations are known to be right and ours is shown to be a drop-in:
// - h6a autoconfigures an address in the advertised /64 and a default route via the sender's link-local
//   address; `rdisc6` prints exactly the configured values and `radvdump` prints them back in radvd.conf
//   syntax; after SIGTERM the default route is gone;
// - router lifetime 0 gives the address but no default route;
// - a /48 autonomous prefix gives no SLAAC address (ours also warns);
// - for the same radvd.conf the host ends up with the same addresses and routes from ours as from radvd.
// Ours only: a prefix removed by SIGHUP becomes deprecated on the host; a second router (radvd on h6b) that
// advertises other values is logged (§6.2.7); the lab's `ours` occupant serves both hosts. Hosts are reset (global addresses and RA routes flushed) before each check; processes are ended by PID.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useLab } from './lab.js';
import { distFile, missingDist } from '../../lab/paths.js';
import { waitFor } from '../../lab/run.js';
import { raDefaultRouter, waitForSlaac } from '../../lab/observe.js';

const MAIN = distFile('agents/ra-sender/main.js');
const lab = useLab();
const dir = mkdtempSync('/tmp/ra-sender-netns-');
chmodSync(dir, 0o755);

interface Proc {
  readonly child: ChildProcess;
  readonly out: string[];
  readonly exited: Promise<number | null>;
}
const procs: Proc[] = [];

function spawn(argv: string[], node = 'ra'): Proc {
  const child = lab.spawn(node, argv);
  const out: string[] = [];
  // Whole lines only: a pipe may cut a log line in two between reads.
  const collect = () => {
    let partial = '';
    return (b: Buffer) => {
      const parts = (partial + b.toString()).split('\n');
      partial = parts.pop()!;
      out.push(...parts.filter((l) => l !== ''));
    };
  };
  child.stdout!.on('data', collect());
  child.stderr!.on('data', collect());
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  const p = { child, out, exited };
  procs.push(p);
  return p;
}

async function stop(p: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  return p.exited;
}

afterEach(async () => {
  for (const p of procs.splice(0)) await stop(p, 'SIGKILL');
});

const raIf = () => lab.iface('ra', 'lan6');
const hostIf = () => lab.iface('h6a', 'lan6');
const until = <T>(what: string, check: () => Promise<T | undefined>, ms = 20_000) => waitFor(what, check, ms, 200);

let n = 0;
function writeConf(text: string): string {
  const file = join(dir, `radvd-${++n}.conf`);
  writeFileSync(file, text, { mode: 0o644 });
  return file;
}

type Impl = 'ours' | 'radvd';

/** Starts `impl` on ra with `conf` (radvd.conf text for ra's lan6 interface) and waits until it advertises. */
async function startSender(impl: Impl, conf: string): Promise<Proc> {
  const file = writeConf(conf);
  if (impl === 'radvd') {
    const p = spawn(['radvd', '-n', '-m', 'stderr', '-d', '1', '-C', file, '-p', join(dir, `radvd-${n}.pid`)]);
    await until('radvd up', async () => ((await lab.exec('ra', ['test', '-e', join(dir, `radvd-${n}.pid`)])).code === 0 ? true : undefined), 10_000);
    return p;
  }
  const p = spawn([process.execPath, MAIN, '--radvd-conf', file]);
  try {
    await until('ra-sender advertising', async () => (p.out.some((l) => l.includes('"msg":"advertising"')) && p.out.some((l) => l.includes('"msg":"started"')) ? true : undefined), 20_000);
  } catch (e) {
    throw new Error(`${(e as Error).message}; its output:\n${p.out.join('\n')}`, { cause: e });
  }
  return p;
}

const iface = (body: string) => `interface ${raIf()} {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 10;\n${body}\n};\n`;

async function senderLinkLocal(): Promise<string> {
  const r = await lab.execOk('ra', ['ip', '-6', '-o', 'addr', 'show', 'dev', raIf(), 'scope', 'link']);
  return /inet6 (fe80::[0-9a-f:]+)\//.exec(r.stdout)![1]!;
}

/** Forgets everything h6a learned from RAs: addresses, default and on-link routes, the link MTU option. */
async function resetHost(): Promise<void> {
  await lab.execOk('h6a', ['ip', '-6', 'route', 'flush', 'dev', hostIf(), 'proto', 'ra']);
  await lab.execOk('h6a', ['ip', '-6', 'route', 'flush', 'dev', hostIf(), 'root', '2001:db8::/32']);
  await lab.execOk('h6a', ['ip', '-6', 'addr', 'flush', 'dev', hostIf(), 'scope', 'global']);
  // The kernel only re-applies an MTU option (and marks the new default route with it) when it changes.
  await lab.execOk('h6a', ['sysctl', '-qw', `net.ipv6.conf.${hostIf()}.mtu=1500`]);
}

/** h6a's RA-derived state without the counting-down parts: addresses (with flags) and routes. */
async function hostState(): Promise<{ addrs: string[]; routes: string[] }> {
  const a = await lab.execOk('h6a', ['ip', '-6', '-o', 'addr', 'show', 'dev', hostIf(), 'scope', 'global']);
  const r = await lab.execOk('h6a', ['ip', '-6', 'route', 'show', 'dev', hostIf()]);
  const strip = (l: string) => l.replace(/\s+(valid_lft|preferred_lft|expires)\s+\S+/g, '').replace(/\s+tentative\b/, '').replace(/\\\s*/g, '').replace(/^\d+:\s+\S+\s+/, '').replace(/\s+/g, ' ').trim();
  return { addrs: a.stdout.split('\n').filter(Boolean).map(strip).sort(), routes: r.stdout.split('\n').filter(Boolean).map(strip).sort() };
}

/** rdisc6's "Label : value" lines (ndisc6 1.0.5), keyed by label. */
async function rdisc6(): Promise<Record<string, string>> {
  const r = await lab.execOk('h6a', ['rdisc6', '-1', '-r', '3', '-w', '2000', hostIf()]);
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*([A-Za-z][A-Za-z .-]*?)\s*:\s+(.*)$/.exec(line);
    if (m && !(m[1]! in out)) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

beforeAll(() => {
  expect(missingDist('agents/ra-sender/main.js')).toBeUndefined();
});
beforeEach(resetHost);

const FULL_CONF = `  AdvDefaultLifetime 300;
  AdvDefaultPreference high;
  AdvOtherConfigFlag on;
  AdvCurHopLimit 60;
  AdvReachableTime 30000;
  AdvRetransTimer 1000;
  AdvLinkMTU 1400;
  prefix 2001:db8:66::/64 { AdvValidLifetime 7200; AdvPreferredLifetime 3600; };
  route 2001::/32 { AdvRouteLifetime 600; AdvRoutePreference low; };
  RDNSS 2001:db8:66::53 { AdvRDNSSLifetime 600; };
  DNSSL lab.example { AdvDNSSLLifetime 600; };`;

describe.each<Impl>(['radvd', 'ours'])('RA sender %s on lan6', (impl) => {
  it('makes h6a autoconfigure with a default route via its link-local address; rdisc6 shows the configured values, radvdump prints them back; SIGTERM removes the route', async () => {
    const p = await startSender(impl, iface(FULL_CONF));
    const addrs = await waitForSlaac(lab, 'h6a', 20_000);
    expect(addrs).toContainEqual(expect.stringMatching(/^2001:db8:66:[0-9a-f:]+\/64$/));
    const ll = await senderLinkLocal();
    expect(await until('default route', () => raDefaultRouter(lab, 'h6a'))).toBe(ll);

    const v = await rdisc6();
    expect(v).toMatchObject({
      'Hop limit': expect.stringMatching(/^60 /),
      'Stateful address conf.': 'No',
      'Stateful other conf.': 'Yes',
      'Router preference': 'high',
      'Router lifetime': expect.stringMatching(/^300 /),
      'Reachable time': expect.stringMatching(/^30000 /),
      'Retransmit time': expect.stringMatching(/^1000 /),
      Prefix: '2001:db8:66::/64',
      'On-link': 'Yes',
      'Autonomous address conf.': 'Yes',
      'Valid time': expect.stringMatching(/^7200 /),
      'Pref. time': expect.stringMatching(/^3600 /),
      MTU: expect.stringMatching(/^1400 bytes/),
      Route: '2001::/32',
      'Route preference': 'low',
      'Route lifetime': expect.stringMatching(/^600 /),
      'Recursive DNS server': '2001:db8:66::53',
      'DNS search list': 'lab.example',
    });

    // radvdump (Debian radvdump) prints the RA it hears back in radvd.conf syntax; rdisc6 makes one arrive.
    const dump = lab.spawn('h6a', ['stdbuf', '-oL', 'radvdump']);
    let dumped = '';
    dump.stdout!.on('data', (b: Buffer) => (dumped += b.toString()));
    try {
      await until('radvdump printed an RA', async () => {
        await rdisc6();
        return dumped.includes('}; # End of interface definition') ? true : undefined;
      });
    } finally {
      dump.kill('SIGKILL');
    }
    for (const line of ['AdvOtherConfigFlag on;', 'AdvCurHopLimit 60;', 'AdvDefaultLifetime 300;', 'AdvDefaultPreference high;', 'AdvReachableTime 30000;', 'AdvRetransTimer 1000;', 'AdvLinkMTU 1400;', 'prefix 2001:db8:66::/64', 'AdvValidLifetime 7200;', 'AdvPreferredLifetime 3600;', 'route 2001::/32', 'AdvRoutePreference low;', 'AdvRouteLifetime 600;', 'RDNSS 2001:db8:66::53', 'AdvRDNSSLifetime 600;', 'DNSSL lab.example', 'AdvDNSSLLifetime 600;']) {
      expect(dumped).toContain(line);
    }

    expect(await stop(p)).toBe(0);
    expect(await until('default route gone', async () => ((await raDefaultRouter(lab, 'h6a')) === undefined ? true : undefined), 10_000)).toBe(true);
  });

  it('gives an address but no default route when the router lifetime is 0', async () => {
    await startSender(impl, iface('  AdvDefaultLifetime 0;\n  prefix 2001:db8:66::/64 { };'));
    expect(await waitForSlaac(lab, 'h6a', 20_000)).toContainEqual(expect.stringMatching(/^2001:db8:66:/));
    expect(await raDefaultRouter(lab, 'h6a')).toBeUndefined();
  });

  it('gives no SLAAC address for a /48 autonomous prefix (the prefix is only on-link)', async () => {
    const p = await startSender(impl, iface('  prefix 2001:db8:68::/48 { };\n  prefix 2001:db8:66::/64 { };'));
    // Both prefixes came in the same RA: once the /64 gave an address, the /48 was seen too.
    expect(await waitForSlaac(lab, 'h6a', 20_000)).toContainEqual(expect.stringMatching(/^2001:db8:66:/));
    const onLink = await lab.execOk('h6a', ['ip', '-6', 'route', 'show', '2001:db8:68::/48']);
    expect(onLink.stdout).toMatch(/^2001:db8:68::\/48 dev /);
    expect((await hostState()).addrs.filter((a) => a.includes('2001:db8:68:'))).toEqual([]);
    if (impl === 'ours') expect(p.out.some((l) => l.includes('"level":"warn"') && l.includes('not a /64'))).toBe(true);
  });
});

describe('ra-sender only', () => {
  it('leaves the host with the same addresses and routes as radvd for the same radvd.conf', async () => {
    const state: Partial<Record<Impl, { addrs: string[]; routes: string[] }>> = {};
    for (const impl of ['radvd', 'ours'] as const) {
      await resetHost();
      const p = await startSender(impl, iface(FULL_CONF));
      await waitForSlaac(lab, 'h6a', 20_000);
      const ll = await senderLinkLocal();
      // The default route comes with the RA that gave the address: the host has taken all of that RA.
      await until('default route', async () => ((await raDefaultRouter(lab, 'h6a')) === ll ? true : undefined));
      state[impl] = await hostState();
      expect(await stop(p)).toBe(0);
    }
    expect(state.radvd!.addrs).toContainEqual(expect.stringMatching(/^inet6 2001:db8:66:/));
    expect(state.ours).toEqual(state.radvd);
  });

  it('deprecates on the host a prefix removed by SIGHUP', async () => {
    const conf = join(dir, 'reload.json');
    const write = (prefixes: string[]) => writeFileSync(conf, JSON.stringify({ interfaces: [raIf()], prefixes, minInterval: 3, maxInterval: 10 }), { mode: 0o644 });
    write(['2001:db8:66::/64', '2001:db8:67::/64']);
    const p = spawn([process.execPath, MAIN, '--config', conf]);
    await until('started', async () => (p.out.some((l) => l.includes('"msg":"started"')) ? true : undefined), 10_000);
    const addr67 = await until('address in 2001:db8:67::/64', async () => (await hostState()).addrs.find((a) => a.includes('2001:db8:67:')));
    expect(addr67).not.toMatch(/deprecated/);
    write(['2001:db8:66::/64']);
    p.child.kill('SIGHUP');
    const after = await until('2001:db8:67 address deprecated', async () => (await hostState()).addrs.find((a) => a.includes('2001:db8:67:') && a.includes('deprecated')));
    expect(after).toMatch(/2001:db8:67:/);
    expect((await hostState()).addrs.find((a) => a.includes('2001:db8:66:'))).not.toMatch(/deprecated/);
  });

  it('runs as its systemd unit does: an unprivileged user with only CAP_NET_RAW (and fails clearly without it), advertising `auto`', async () => {
    const user = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--no-new-privs'];
    // `--prefix auto`: ra's own /64 (2001:db8:66::1/64 in the lab), read from /proc like radvd's `prefix ::/64`.
    const args = [process.execPath, MAIN, '--interface', raIf(), '--prefix', 'auto', '--min-interval', '3', '--max-interval', '10'];
    const none = spawn([...user, '--inh-caps=-all', '--bounding-set=-all', ...args]);
    expect(await none.exited).toBe(1);
    expect(none.out.join('\n')).toMatch(/raw ICMPv6 socket/i);
    const p = spawn([...user, '--inh-caps=-all,+net_raw', '--ambient-caps=+net_raw', '--bounding-set=-all,+net_raw', ...args]);
    await until('advertising', async () => (p.out.some((l) => l.includes('"msg":"advertising"')) ? true : undefined), 10_000);
    expect(await until('default route', () => raDefaultRouter(lab, 'h6a'))).toBe(await senderLinkLocal());
    expect(await waitForSlaac(lab, 'h6a', 20_000)).toContainEqual(expect.stringMatching(/^2001:db8:66:[0-9a-f:]+\/64$/));
  });

  it('follows its link going down and up, and waits for an interface created after it started', async () => {
    // A veth pair inside ra stands for an interface that appears late (the dummy module may not be loadable).
    const late = `${lab.id}-rsd`;
    const create = async () => {
      await lab.execOk('ra', ['ip', 'link', 'add', late, 'type', 'veth', 'peer', 'name', `${lab.id}-rsp`]);
      await lab.execOk('ra', ['ip', 'link', 'set', `${lab.id}-rsp`, 'up']);
      await lab.execOk('ra', ['ip', 'link', 'set', late, 'up']);
    };
    const p = spawn([process.execPath, MAIN, '--interface', raIf(), '--interface', late, '--prefix', '2001:db8:66::/64', '--min-interval', '3', '--max-interval', '10', '--final-advertisements', '0']);
    await until('started', async () => (p.out.some((l) => l.includes('"msg":"started"')) ? true : undefined), 20_000);
    const state = async (name: string) => (JSON.parse((await lab.execOk('ra', [process.execPath, MAIN, 'status', '--json'])).stdout) as { interfaces: { interface: string; state: string; ifindex: number | null }[] }).interfaces.find((i) => i.interface === name)!;
    const reaches = (name: string, wanted: string) => until(`${name} ${wanted}`, async () => ((await state(name)).state === wanted ? true : undefined));
    expect((await state(late)).state).toBe('waiting-for-interface');
    try {
      await create();
      await reaches(late, 'advertising');
      const first = (await state(late)).ifindex;
      await lab.execOk('ra', ['ip', 'link', 'del', late]);
      await reaches(late, 'waiting-for-interface');
      await create();
      await reaches(late, 'advertising');
      expect((await state(late)).ifindex).not.toBe(first);
    } finally {
      await lab.exec('ra', ['ip', 'link', 'del', late]);
    }
    // lan6 down: the kernel removes the link-local address, so the agent stops; up again (no DAD in the lab), RAs, and
    // h6a (reset) autoconfigures again.
    await lab.execOk('ra', ['ip', 'link', 'set', raIf(), 'down']);
    await until('lan6 not advertising', async () => ((await state(raIf())).state !== 'advertising' ? true : undefined));
    await resetHost();
    await lab.execOk('ra', ['ip', 'link', 'set', raIf(), 'up']);
    await reaches(raIf(), 'advertising');
    expect(await waitForSlaac(lab, 'h6a', 20_000)).toContainEqual(expect.stringMatching(/^2001:db8:66:/));
    expect(p.out.some((l) => l.includes('link-local address gone'))).toBe(true);
  });

  it('logs another router on the link that advertises different values (§6.2.7)', async () => {
    const p = spawn([process.execPath, MAIN, '--interface', raIf(), '--prefix', '2001:db8:66::/64', '--min-interval', '3', '--max-interval', '10']);
    await until('advertising', async () => (p.out.some((l) => l.includes('"msg":"advertising"')) ? true : undefined), 20_000);
    // radvd on h6b plays a misconfigured second router (it warns that h6b does not forward, and goes on).
    const conf = writeConf(`interface ${lab.iface('h6b', 'lan6')} {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n  AdvCurHopLimit 32;\n  prefix 2001:db8:66::/64 { AdvValidLifetime 600; AdvPreferredLifetime 300; };\n};\n`);
    spawn(['radvd', '-n', '-m', 'stderr', '-C', conf, '-p', join(dir, 'other-router.pid')], 'h6b');
    const status = async () => (JSON.parse((await lab.execOk('ra', [process.execPath, MAIN, 'status', '--json'])).stdout) as { interfaces: { inconsistencies: Record<string, number> }[] }).interfaces[0]!;
    const seen = await until('inconsistencies', async () => {
      const i = (await status()).inconsistencies;
      return i['cur-hop-limit'] && i['prefix-valid-lifetime'] && i['prefix-preferred-lifetime'] ? i : undefined;
    });
    expect(Object.keys(seen).sort()).toEqual(['cur-hop-limit', 'prefix-preferred-lifetime', 'prefix-valid-lifetime']);
    expect(p.out.some((l) => l.includes('"level":"warn"') && l.includes('"inconsistency":"cur-hop-limit"') && l.includes('"router":"fe80::'))).toBe(true);
  });

  it('the lab occupant makes both lan6 hosts autoconfigure', async () => {
    await lab.startOccupant({ role: 'ra-sender', impl: 'ours' });
    for (const host of ['h6a', 'h6b']) {
      expect(await waitForSlaac(lab, host, 20_000)).toContainEqual(expect.stringMatching(/^2001:db8:66:[0-9a-f:]+\/64$/));
      expect(await until('default route', () => raDefaultRouter(lab, host))).toBe(await senderLinkLocal());
    }
    const rec = lab.occupants().find((o) => o.role === 'ra-sender')!;
    expect((await lab.occupantStatus(rec)).state).toBe('advertising');
  });

  it('status shows the RAs, and warns when forwarding is off on the interface itself (not only "all")', async () => {
    // The occupant of the test before, or a new one when this test runs alone.
    if (!lab.occupants().some((o) => o.role === 'ra-sender')) await lab.startOccupant({ role: 'ra-sender', impl: 'ours' });
    const status = async () => JSON.parse((await lab.execOk('ra', [process.execPath, MAIN, 'status', '--json'])).stdout) as { interfaces: { forwarding: boolean; warnings: string[]; counters: { advertisements: number } }[] };
    const before = (await status()).interfaces[0]!;
    // The lab's short intervals also draw the short-router-lifetime warning; none about forwarding yet.
    expect([before.forwarding, before.warnings.filter((w) => w.includes('forwarding'))]).toEqual([true, []]);
    const knob = `net.ipv6.conf.${raIf()}.forwarding`;
    await lab.execOk('ra', ['sysctl', '-qw', `${knob}=0`]);
    try {
      const warned = await until('forwarding warning', async () => (await status()).interfaces[0]!.warnings.find((w) => w.includes(`${knob} = 0`)));
      expect(warned).toMatch(/IPv6 forwarding is off on this interface/);
      expect((await lab.execOk('ra', ['sysctl', '-n', 'net.ipv6.conf.all.forwarding'])).stdout.trim()).toBe('1');
      const text = (await lab.execOk('ra', [process.execPath, MAIN, 'status'])).stdout;
      expect(text).toMatch(new RegExp(`^ra-sender: running, pid \\d+`));
      expect(text).toContain(`${raIf()}: advertising from fe80::`);
      expect(text).toContain('WARNING: ');
    } finally {
      await lab.execOk('ra', ['sysctl', '-qw', `${knob}=1`]);
    }
  });
});
