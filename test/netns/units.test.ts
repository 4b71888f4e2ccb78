// The agents as their systemd units start them, without systemd: the unit's ExecStart= (with the example config
// from examples/ in place of /etc/teredo-agents) run through setpriv under exactly the user, capability sets
// and NoNewPrivileges the unit file declares (test/agents/unit-file.ts reads them; DynamicUser= is played by
// nobody), in two network namespaces of this test joined by a veth pair:
//
//   tou-<pid>-a  192.0.2.10, 192.0.2.11 (v0)  teredo-server, teredo-relay, ra-sender, rasadv advertise
//   tou-<pid>-b  192.0.2.20 (v1)              teredo-client, rasadv listen, a host autoconfiguring from the RAs
//
// Each works (teredo-server serves with CAP_NET_RAW as its only effective capability, teredo-relay routes
// 2001::/32 into its TUN device with CAP_NET_ADMIN as its only one, teredo-client qualifies against the
// server, ra-sender's RAs give the other namespace an address; the listener hears the
// advertiser and finds it on its allow list) and, for every capability the unit grants, a start with that one
// missing fails cleanly: exit 1 and a message naming the capability.

import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distFile } from '../../lab/paths.js';
import { capMask, readUnit, setprivArgs, type UnitGrants } from '../agents/unit-file.js';
import { agentLink, spawnAgent, logged, stopAgent as stop, type AgentRun } from './agent-process.js';
import { deleteNetns, ip, waitUntil } from './io-netns.js';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const NS_A = `tou-${process.pid}-a`;
const NS_B = `tou-${process.pid}-b`;
const RA_PREFIX = '2001:db8:5::/64';
// Readable by nobody: the examples are copied into a world-readable directory.
const etc = mkdtempSync(join(tmpdir(), 'units-etc-'));

const runs: AgentRun[] = [];

/** Starts the unit's ExecStart= in `ns` under the unit's grants (less `without`); stdout and stderr are kept. */
function startAsUnit(ns: string, unitFile: string, without?: string): { run: AgentRun; unit: UnitGrants } {
  const unit = readUnit(join(REPO, 'systemd', unitFile));
  const [bin, ...args] = unit.execStart;
  const main = distFile(`agents/${bin!.split('/').pop()}/main.js`);
  const argv = args.map((a) => (a.startsWith('/etc/teredo-agents/') ? join(etc, a.slice('/etc/teredo-agents/'.length)) : a));
  const run = spawnAgent(['ip', 'netns', 'exec', ns, ...setprivArgs(unit, without), process.execPath, main, ...argv]);
  runs.push(run);
  return { run, unit };
}

const capEff = (pid: number): bigint => BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]}`);

beforeAll(async () => {
  chmodSync(etc, 0o755);
  for (const f of ['teredo-server.json', 'teredo-relay.json', 'teredo-client.json', 'rasadv-advertise.json', 'rasadv-listen.json']) {
    copyFileSync(join(REPO, 'examples', f), join(etc, f));
    chmodSync(join(etc, f), 0o644);
  }
  // examples/ra-sender.json names eth1 and the interface's own prefixes; here the link is v0.
  writeFileSync(join(etc, 'ra-sender.json'), JSON.stringify({ interfaces: ['v0'], prefixes: [RA_PREFIX] }));
  chmodSync(join(etc, 'ra-sender.json'), 0o644);
  await agentLink(NS_A, NS_B);
});

afterAll(async () => {
  for (const r of runs) await stop(r);
  deleteNetns(NS_A);
  deleteNetns(NS_B);
  rmSync(etc, { recursive: true, force: true });
});

describe('teredo-server as systemd/teredo-server.service runs it', () => {
  it('serves with the unit\'s capabilities, and no other, as the unit\'s user', async () => {
    const { run, unit } = startAsUnit(NS_A, 'teredo-server.service');
    expect(await logged(run, 'serving')).toMatchObject({ primary: '192.0.2.10:3544', secondary: '192.0.2.11:3544', nativeForwarding: 'raw' });
    expect(capEff(run.child.pid!)).toBe(capMask(unit.ambient));
    expect(readFileSync(`/proc/${run.child.pid}/status`, 'utf8')).toMatch(new RegExp(`^Uid:\\s+${unit.uid}\\s+${unit.uid}\\s`, 'm'));
    expect(await stop(run)).toBe(0);
  });

  const grants = readUnit(join(REPO, 'systemd', 'teredo-server.service')).ambient;
  it.each(grants)('without %s: exit 1, naming it', async (cap) => {
    const { run } = startAsUnit(NS_A, 'teredo-server.service', cap);
    expect(await run.exited).toBe(1);
    expect(run.stderr).toContain(cap);
    expect(run.stderr).toMatch(/^teredo-server: /);
  });
});

describe('teredo-relay as systemd/teredo-relay.service runs it', () => {
  it('relays (TUN device created, 2001::/32 routed) with the unit\'s capabilities, and no other', async () => {
    const { run, unit } = startAsUnit(NS_A, 'teredo-relay.service');
    expect(await logged(run, 'relaying')).toMatchObject({ udp: '0.0.0.0:3545', interface: 'teredo', route: '2001::/32' });
    expect(capEff(run.child.pid!)).toBe(capMask(unit.ambient));
    expect(ip('-n', NS_A, '-6', 'route', 'show', '2001::/32')).toContain('dev teredo');
    expect(await stop(run)).toBe(0);
  });

  const grants = readUnit(join(REPO, 'systemd', 'teredo-relay.service')).ambient;
  it.each(grants)('without %s: exit 1, naming it', async (cap) => {
    const { run } = startAsUnit(NS_A, 'teredo-relay.service', cap);
    expect(await run.exited).toBe(1);
    expect(run.stderr).toContain(cap);
    expect(run.stderr).toMatch(/^teredo-relay: /);
  });
});

describe('teredo-client as systemd/teredo-client.service runs it', () => {
  it('qualifies against teredo-server, both as their units run them (examples/teredo-client.json names 192.0.2.10)', async () => {
    const server = startAsUnit(NS_A, 'teredo-server.service');
    await logged(server.run, 'serving');
    const { run, unit } = startAsUnit(NS_B, 'teredo-client.service');
    await waitUntil(() => run.lines.some((l) => l.state === 'qualified') || run.child.exitCode !== null, 15_000, 'qualified');
    expect(run.lines.find((l) => l.state === 'qualified')).toMatchObject({ nat: 'cone', mapped: expect.stringMatching(/^192\.0\.2\.20:\d+$/), address: expect.stringMatching(/^2001:0:c000:20a:/) });
    expect(capEff(run.child.pid!)).toBe(capMask(unit.ambient));
    expect(await stop(run)).toBe(0);
    expect(await stop(server.run)).toBe(0);
  });

  const grants = readUnit(join(REPO, 'systemd', 'teredo-client.service')).ambient;
  it.each(grants)('without %s: exit 1, naming it', async (cap) => {
    const { run } = startAsUnit(NS_B, 'teredo-client.service', cap);
    expect(await run.exited).toBe(1);
    expect(run.stderr).toContain(cap);
    expect(run.stderr).toMatch(/^teredo-client: /);
  });
});

describe('ra-sender as systemd/ra-sender.service runs it', () => {
  it(`the host on the link autoconfigures from ${RA_PREFIX}`, async () => {
    const { run, unit } = startAsUnit(NS_A, 'ra-sender.service');
    await logged(run, 'started');
    expect(capEff(run.child.pid!)).toBe(capMask(unit.ambient));
    const slaac = (): boolean => /inet6 2001:db8:5:0:\S+\/64 scope global/.test(ip('-n', NS_B, '-6', 'addr', 'show', 'dev', 'v1'));
    await waitUntil(() => slaac() || run.child.exitCode !== null, 30_000, 'an address from the RA on v1');
    expect(slaac()).toBe(true);
    expect(await stop(run)).toBe(0);
  });

  const grants = readUnit(join(REPO, 'systemd', 'ra-sender.service')).ambient;
  it.each(grants)('without %s: exit 1, naming it', async (cap) => {
    const { run } = startAsUnit(NS_A, 'ra-sender.service', cap);
    expect(await run.exited).toBe(1);
    expect(run.stderr).toContain(cap);
    expect(run.stderr).toMatch(/^ra-sender: /);
  });
});

describe('rasadv as systemd/rasadv-advertise.service and rasadv-listen.service run it', () => {
  it('the listener hears the advertiser, with no capability at all', async () => {
    const listen = startAsUnit(NS_B, 'rasadv-listen.service');
    await logged(listen.run, 'started');
    const advertise = startAsUnit(NS_A, 'rasadv-advertise.service');
    await logged(advertise.run, 'advertisement sent');
    for (const r of [listen, advertise]) expect(capEff(r.run.child.pid!)).toBe(capMask(r.unit.ambient));
    expect(listen.unit.ambient).toEqual([]);
    await waitUntil(() => listen.run.lines.some((l) => l.hostname === 'ras-gateway'), 15_000, 'the advertisement at the listener');
    // examples/rasadv-listen.json allows ras-gateway.example.org, which examples/rasadv-advertise.json announces.
    expect(listen.run.lines.find((l) => l.hostname === 'ras-gateway')).toMatchObject({ sender: '192.0.2.10', domain: 'example.org', known: true });
    expect(await stop(advertise.run)).toBe(0);
    expect(await stop(listen.run)).toBe(0);
  });
});
