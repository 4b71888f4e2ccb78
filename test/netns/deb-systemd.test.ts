// The Debian package under systemd as PID 1 (issue 20): scripts/build-deb.sh's package installed with
// `apt install ./teredo-agents_*.deb` into a fresh Debian 12 root (scripts/debian-root.sh --systemd: the minbase
// root docker-base.sh also starts from, plus systemd and procps) booted with `systemd-nspawn --boot`
// (./nspawn.ts), and every unit run by that systemd. The container has no network but a veth pair to one peer
// namespace of this test, where the other side of each check runs (this checkout's dist/, on the test's Node):
//
//   container  hd-<pid>-c  c0 192.0.2.20/24 (+ .30, .31 for teredo-server)   the six units
//   peer       hd-<pid>-p  p0 192.0.2.10/24, 192.0.2.11/24                   teredo-server, teredo-client, rasadv
//
// Per unit: `systemctl start` runs it (teredo-client qualifies against the peer's server; the peer's client
// qualifies against the teredo-server unit; teredo-relay routes 2001::/32 into its TUN device; the peer
// autoconfigures from ra-sender's RAs; the rasadv-listen unit hears the peer's advertiser, the peer's listener
// hears the rasadv-advertise unit), `systemctl reload` applies an edited config, the main process is a dynamic
// user (uid 61184-65519) with exactly the unit's capability in CapEff/CapBnd/CapAmb and NoNewPrivs, a bad config
// fails the start in ExecStartPre (a control process; the main process never runs) with the field in the
// journal, `systemctl stop` leaves no TUN device or route. Then `apt purge` leaves no file behind.
// Time: ~1.5 min with the root cached; the first run on a machine adds the root (debootstrap, unless
// scripts/docker-base.sh ran first, then ~1 min for systemd in a chroot).
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execOk, waitFor } from '../../lab/run.js';
import { distFile } from '../../lab/paths.js';
import { spawnAgent, stopAgent, type AgentRun } from './agent-process.js';
import { addNetns, deleteNetns, ip, waitUntil } from './io-netns.js';
import { bootContainer, type Container } from './nspawn.js';
import { REPO } from './docker-engine.js';
import { skipWithout } from '../require.js';

const MINUTE = 60_000;
const C = `hd-${process.pid}-c`;
const P = `hd-${process.pid}-p`;
const tools = ['systemd-nspawn', 'nsenter', 'debootstrap', 'dpkg-deb', 'strip'];
const missing = tools.filter((t) => !['/usr/bin', '/usr/sbin', '/bin', '/sbin'].some((d) => existsSync(join(d, t))));
const work = mkdtempSync('/var/tmp/hd-deb-');
const root = join(work, 'root');
let ct: Container;
const peers: AgentRun[] = [];

/** What a fresh install leaves in the container, for the purge check: every path but logs, caches and state. */
const FILES = ['sh', '-c', 'find / -xdev \\( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp -o -path /var/log '
  + '-o -path /var/cache -o -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/lib/systemd/timers -o -path /root \\) -prune -o -print | sort'];
let before = '';

const etc = (file: string): string => join(root, 'etc/teredo-agents', file);
const peer = (...argv: string[]): AgentRun => {
  const run = spawnAgent(['ip', 'netns', 'exec', P, process.execPath, ...argv]);
  peers.push(run);
  return run;
};
const systemctl = (...args: string[]) => ct.inside(['systemctl', ...args]);

interface Proc { uid: number; capEff: string; capBnd: string; capAmb: string; noNewPrivs: string }
/** /proc/<MainPID>/status of the unit, read in the container. */
async function mainProcess(unit: string): Promise<Proc> {
  const pid = (await ct.insideOk(['systemctl', 'show', '-p', 'MainPID', '--value', unit])).trim();
  expect(Number(pid), `${unit} MainPID`).toBeGreaterThan(0);
  const s = await ct.insideOk(['cat', `/proc/${pid}/status`]);
  const field = (name: string): string => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(s)![1]!;
  return { uid: Number(field('Uid')), capEff: field('CapEff'), capBnd: field('CapBnd'), capAmb: field('CapAmb'), noNewPrivs: field('NoNewPrivs') };
}

/** CAP_NET_ADMIN is capability 12, CAP_NET_RAW 13 (linux/capability.h). */
const NET_ADMIN = '0000000000001000';
const NET_RAW = '0000000000002000';
const NONE = '0000000000000000';

async function expectConfined(unit: string, caps: string): Promise<void> {
  const p = await mainProcess(unit);
  // DynamicUser= takes uids from 61184-65519 (systemd.exec(5)).
  expect(p.uid, `${unit} uid`).toBeGreaterThanOrEqual(61184);
  expect(p.uid, `${unit} uid`).toBeLessThanOrEqual(65519);
  expect({ eff: p.capEff, bnd: p.capBnd, amb: p.capAmb, nnp: p.noNewPrivs }, unit).toEqual({ eff: caps, bnd: caps, amb: caps, nnp: '1' });
}

/** The unit's journal after `cursor` (all of it without one), message text only. */
async function journalSince(unit: string, cursor: string | undefined): Promise<string> {
  return ct.insideOk(['journalctl', '-u', unit, '-o', 'cat', '--no-pager', ...(cursor === undefined ? [] : [`--after-cursor=${cursor}`])]);
}
/** The cursor of the unit's last journal entry; undefined while it has none (journalctl then exits 1). */
async function cursorOf(unit: string): Promise<string | undefined> {
  const r = await ct.inside(['journalctl', '-u', unit, '-n', '1', '--show-cursor', '--no-pager']);
  return /^-- cursor: (.+)$/m.exec(r.stdout)?.[1];
}

/** Reload: `systemctl reload` and the agent's "config reloaded" line in the journal. */
async function reloads(unit: string): Promise<void> {
  const cursor = await cursorOf(unit);
  await ct.insideOk(['systemctl', 'reload', unit]);
  await until(`${unit}: config reloaded`, async () => (await journalSince(unit, cursor)).includes('config reloaded'));
  expect(await journalSince(unit, cursor)).not.toContain('reload rejected');
}

/** Polls `check` until it holds (lab/run.ts waitFor, which throws after `ms`). */
async function until(what: string, check: () => Promise<boolean>, ms = MINUTE): Promise<void> {
  await waitFor(what, async () => ((await check()) ? true : undefined), ms, 250);
}

/** `systemctl stop`, then neither the TUN device nor a route through it is left in the container. */
async function stopsClean(unit: string, tun: string | undefined): Promise<void> {
  await ct.insideOk(['systemctl', 'stop', unit]);
  expect((await systemctl('is-active', unit)).stdout.trim()).toBe('inactive');
  if (tun !== undefined) {
    expect(ip('-n', C, '-o', 'link', 'show')).not.toContain(`${tun}:`);
    expect(ip('-n', C, '-6', 'route', 'show', '2001::/32')).toBe('');
    expect(ip('-n', C, '-6', 'route', 'show', 'default')).toBe('');
  }
}

describe.skipIf(skipWithout('root', process.getuid?.() === 0) || skipWithout(`${missing.join(', ')} (scripts/setup-host.sh)`, missing.length === 0))('the Debian package under systemd as PID 1 (systemd-nspawn --boot)', { timeout: 5 * MINUTE }, () => {
  beforeAll(async () => {
    const t0 = Date.now();
    const built = await execOk([join(REPO, 'scripts/build-deb.sh'), '--out', work, '--no-compress'], { timeoutMs: 10 * MINUTE });
    const deb = built.stdout.trim().split('\n').pop()!;
    const tarball = (await execOk([join(REPO, 'scripts/debian-root.sh'), '--systemd'], { timeoutMs: 20 * MINUTE })).stdout.trim();
    await execOk(['mkdir', '-p', root]);
    await execOk(['tar', '-C', root, '-xf', tarball]);
    copyFileSync(deb, join(root, 'root/teredo-agents.deb'));
    console.error(`deb-systemd: package and root in ${Math.round((Date.now() - t0) / 1000)} s`);
    ct = await bootContainer(root, C, join(work, 'console.log'));
    console.error(`deb-systemd: container up in ${Math.round((Date.now() - t0) / 1000)} s`);
    addNetns(P);
    ip('-n', P, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'c0', 'netns', C);
    for (const a of ['192.0.2.10/24', '192.0.2.11/24']) ip('-n', P, 'addr', 'add', a, 'dev', 'p0');
    for (const a of ['192.0.2.20/24', '192.0.2.30/24', '192.0.2.31/24']) ip('-n', C, 'addr', 'add', a, 'dev', 'c0');
    for (const [ns, dev] of [[P, 'p0'], [C, 'c0'], [C, 'lo']] as const) ip('-n', ns, 'link', 'set', dev, 'up');
    // The advertisers send their multicast along the default route.
    ip('-n', P, 'route', 'add', 'default', 'dev', 'p0');
    ip('-n', C, '-4', 'route', 'add', 'default', 'dev', 'c0');
    await waitUntil(() => /state UP/.test(ip('-n', P, 'link', 'show', 'p0')), 10_000, 'carrier on p0');
    before = await ct.insideOk(FILES);
  }, 40 * MINUTE);

  afterAll(async () => {
    for (const r of peers) await stopAgent(r);
    await ct?.stop();
    deleteNetns(P);
    rmSync(work, { recursive: true, force: true });
  }, 5 * MINUTE);

  it('apt installs it from the base root alone (no network), no unit enabled, its configs conffiles in /etc/teredo-agents', async () => {
    const r = await ct.inside(['apt-get', 'install', '-y', '--no-install-recommends', '/root/teredo-agents.deb'], 5 * MINUTE);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const enabled = await ct.inside(['systemctl', 'is-enabled', 'teredo-client', 'teredo-relay', 'teredo-server', 'ra-sender', 'rasadv-listen', 'rasadv-advertise']);
    expect(enabled.stdout.trim().split('\n')).toEqual(Array(6).fill('disabled'));
    expect((await ct.insideOk(['dpkg-query', '-W', '-f', '${Conffiles}', 'teredo-agents'])).match(/\/etc\/teredo-agents\/\S+\.json/g)).toHaveLength(6);
  });

  it('teredo-client: qualifies against the peer\'s server, reloads, runs confined, stops clean', async () => {
    const server = peer(distFile('agents/teredo-server/main.js'), '--address', '192.0.2.10', '--secondary-address', '192.0.2.11');
    await waitUntil(() => server.lines.some((l) => l.msg === 'serving'), 30_000, 'the peer\'s server');
    // examples/teredo-client.json, as installed, names 192.0.2.10.
    await ct.insideOk(['systemctl', 'start', 'teredo-client']);
    await until('qualified', async () => /State\s*: qualified/.test((await ct.inside(['teredo-client', 'status'])).stdout));
    expect(ip('-n', C, '-6', 'addr', 'show', 'dev', 'teredo')).toMatch(/inet6 2001:0:c000:20a:/);
    await expectConfined('teredo-client', NET_ADMIN);
    await reloads('teredo-client');
    await stopsClean('teredo-client', 'teredo');
    await stopAgent(server);
  });

  it('teredo-server: the peer\'s client qualifies against it (edited file: its two addresses)', async () => {
    writeFileSync(etc('teredo-server.json'), JSON.stringify({ address: '192.0.2.30', secondaryAddress: '192.0.2.31' }));
    await ct.insideOk(['systemctl', 'start', 'teredo-server']);
    await until('teredo-server status', async () => (await ct.inside(['teredo-server', 'status'])).code === 0);
    const client = peer(distFile('agents/teredo-client/main.js'), '--server', '192.0.2.30', '--interface', 'hdtun');
    await waitUntil(() => client.lines.some((l) => l.state === 'qualified'), 30_000, 'the peer\'s client qualified');
    await stopAgent(client);
    await expectConfined('teredo-server', NET_RAW);
    await reloads('teredo-server');
    await stopsClean('teredo-server', undefined);
  });

  it('teredo-relay: routes 2001::/32 into its TUN device, reloads, runs confined, stops clean', async () => {
    await ct.insideOk(['systemctl', 'start', 'teredo-relay']);
    await until('2001::/32 dev teredo', async () => ip('-n', C, '-6', 'route', 'show', '2001::/32').includes('dev teredo'));
    await expectConfined('teredo-relay', NET_ADMIN);
    await reloads('teredo-relay');
    await stopsClean('teredo-relay', 'teredo');
  });

  it('ra-sender: the peer autoconfigures from its RAs; a reload adds a prefix; stop withdraws the default route', async () => {
    writeFileSync(etc('ra-sender.json'), JSON.stringify({ interfaces: ['c0'], prefixes: ['2001:db8:5::/64'], minInterval: 3, maxInterval: 4 }));
    await ct.insideOk(['systemctl', 'start', 'ra-sender']);
    const slaac = (prefix: string): boolean => new RegExp(`inet6 ${prefix}\\S+/64 scope global`).test(ip('-n', P, '-6', 'addr', 'show', 'dev', 'p0'));
    await waitUntil(() => slaac('2001:db8:5:0:'), MINUTE, 'an address from 2001:db8:5::/64 on p0');
    await expectConfined('ra-sender', NET_RAW);
    writeFileSync(etc('ra-sender.json'), JSON.stringify({ interfaces: ['c0'], prefixes: ['2001:db8:5::/64', '2001:db8:6::/64'], minInterval: 3, maxInterval: 4 }));
    await reloads('ra-sender');
    await waitUntil(() => slaac('2001:db8:6:0:'), MINUTE, 'an address from 2001:db8:6::/64 after the reload');
    expect(ip('-n', P, '-6', 'route', 'show', 'default')).toMatch(/via fe80::/);
    await stopsClean('ra-sender', undefined);
    // Its final RAs carry router lifetime 0 (RFC 4861 §6.2.5).
    await waitUntil(() => ip('-n', P, '-6', 'route', 'show', 'default') === '', 30_000, 'the peer\'s default route withdrawn');
  });

  it('rasadv-listen hears the peer\'s advertiser (unknown, then allowed after an edit and a reload); the peer hears rasadv-advertise', async () => {
    const adv = peer(distFile('agents/rasadv/main.js'), 'advertise', '--hostname', 'RRAS-PEER', '--interval', '2');
    await ct.insideOk(['systemctl', 'start', 'rasadv-listen']);
    const row = async (): Promise<string | undefined> => /^.*RRAS-PEER.*$/m.exec((await ct.inside(['rasadv', 'listen', 'status'])).stdout)?.[0];
    await until('RRAS-PEER at the listener', async () => (await row()) !== undefined);
    // With an allow list in force, a server not on it is marked UNKNOWN (agents/rasadv/format.ts).
    expect(await row()).toMatch(/\bUNKNOWN\b/);
    await expectConfined('rasadv-listen', NONE);
    writeFileSync(etc('rasadv-listen.json'), JSON.stringify({ allow: ['RRAS-PEER'] }));
    await reloads('rasadv-listen');
    await until('RRAS-PEER allowed after the reload', async () => !/\bUNKNOWN\b/.test((await row()) ?? 'UNKNOWN'));
    await stopsClean('rasadv-listen', undefined);
    await stopAgent(adv);

    const listen = peer(distFile('agents/rasadv/main.js'), 'listen', '--allow', 'ras-gateway.example.org');
    await waitUntil(() => listen.lines.some((l) => l.msg === 'started'), 30_000, 'the peer\'s listener');
    await ct.insideOk(['systemctl', 'start', 'rasadv-advertise']);
    // examples/rasadv-advertise.json, as installed: ras-gateway in example.org.
    await waitUntil(() => listen.lines.some((l) => l.hostname === 'ras-gateway'), MINUTE, 'the advertisement at the peer');
    expect(listen.lines.find((l) => l.hostname === 'ras-gateway')).toMatchObject({ sender: '192.0.2.20', domain: 'example.org', known: true });
    await expectConfined('rasadv-advertise', NONE);
    await stopsClean('rasadv-advertise', undefined);
    await stopAgent(listen);
  });

  // A field each agent's validation rejects, and the words its message uses for it.
  const bad: [string, string, object, RegExp][] = [
    ['teredo-client', 'teredo-client.json', { server: '192.0.2.10', interface: 'this-name-is-too-long' }, /interface \("this-name-is-too-long"\) must be/],
    ['teredo-server', 'teredo-server.json', { address: '192.0.2.30', mtu: 100 }, /mtu \(100\) must be >= 1280/],
    ['teredo-relay', 'teredo-relay.json', { mtu: 100 }, /mtu \(100\) must be >= 1280/],
    ['ra-sender', 'ra-sender.json', { interfaces: ['c0'], prefixes: ['2001:db8:5::1/64'] }, /prefix 2001:db8:5::1\/64 has host bits set/],
    ['rasadv-listen', 'rasadv-listen.json', { interval: -1 }, /interval \(-1\) must be >= 1/],
    ['rasadv-advertise', 'rasadv-advertise.json', { hostname: '' }, /hostname is empty/],
  ];
  it.each(bad)('%s: a bad config fails the start in ExecStartPre, the field named in the journal', async (unit, file, config, message) => {
    writeFileSync(etc(file), JSON.stringify(config));
    const cursor = await cursorOf(unit);
    const start = await systemctl('start', unit);
    expect(start.code, `systemctl start ${unit}`).not.toBe(0);
    const journal = await journalSince(unit, cursor);
    expect(journal).toMatch(message);
    // ExecStartPre= is a control process; "Main process exited" would mean the agent itself ran.
    expect(journal).toMatch(/Control process exited, code=exited, status=\d+/);
    expect(journal).not.toMatch(/Main process exited/);
    // Restart=on-failure would try again in RestartSec: stop that.
    await ct.insideOk(['systemctl', 'stop', unit]);
  });

  it('apt purge (after enabling a unit) leaves nothing behind', async () => {
    await ct.insideOk(['systemctl', 'enable', 'teredo-client']);
    await ct.insideOk(['apt-get', 'purge', '-y', 'teredo-agents'], 5 * MINUTE);
    expect((await ct.inside(['dpkg-query', '-W', 'teredo-agents'])).stdout).not.toMatch(/\S+\t\S/);
    expect(await ct.insideOk(FILES)).toBe(before);
  });
});
