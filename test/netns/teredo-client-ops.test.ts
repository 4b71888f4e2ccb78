// teredo-client operations in the lab (issue 9 "Tests", "Operations"): the server stopped and started again
// (offline, then qualified by itself), the NAT's conntrack table flushed (a new mapping, so a new address, the
// hook told), a captive portal blocking UDP to the server for a while (qualifies by itself within the backoff
// once it opens), SIGKILL (the kernel removes the TUN device with its address and routes; a restart works),
// and the interface as configured: MTU 1280, the address, 2001::/32 and the default route.
//
// The client runs with short timers (refresh 5 s, T = 500 ms, backoff cap 3 s) so each case takes seconds;
// the waits are deadlines for outcomes, never timing assertions.

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { TeredoClientLabStatus } from '../../lab/occupants/teredo-client-ours.js';
import { waitForClient } from './teredo-client-watch.js';
import { distFile } from '../../lab/paths.js';
import { ADDR, useLab } from './lab.js';
import { formatIpv6 } from '../../src/wire/ipv6-address.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { encodeTeredoAddress } from '../../src/wire/teredo-address.js';

const lab = useLab();
const MAIN = distFile('agents/teredo-client/main.js');
const dir = mkdtempSync(join(tmpdir(), 'tcl-ops-'));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOOK = join(dir, 'hook.sh');
writeFileSync(HOOK, `#!/bin/sh\necho "$STATE $CLIENT_STATE $IFACE $ADDRESS $OLD_ADDRESS $MTU $NAT" >> ${join(dir, 'hook.log')}\n`, { mode: 0o755 });
const hookLines = (): string[] => (existsSync(join(dir, 'hook.log')) ? readFileSync(join(dir, 'hook.log'), 'utf8').trim().split('\n') : []);

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

/** Our server in the server node (started once, or again after a test stopped it). */
async function ensureServer(): Promise<void> {
  if (!lab.occupants().some((o) => o.role === 'server')) await lab.startOccupants([{ role: 'server', impl: 'ours' }]);
}

function tun(): string {
  return lab.state().plan.tunName;
}

function startClient(node: string, extra: string[] = []): ChildProcess {
  const argv = [process.execPath, MAIN, '--server', ADDR.server, '--interface', tun(), '--refresh-interval', '5', '--probe-timeout', '500', '--probe-attempts', '2', '--backoff-max', '3', '--hook', HOOK, ...extra];
  child = lab.spawn(node, argv, { stdio: 'ignore' });
  return child;
}

const waitFor = (node: string, what: string, ok: (s: TeredoClientLabStatus) => boolean): Promise<TeredoClientLabStatus> => waitForClient(lab, node, what, ok, 30_000);

describe('teredo-client operations', () => {
  it('configures the interface, and the server going away and coming back: offline, then qualified by itself', async () => {
    await ensureServer();
    startClient('cli-prc');
    const q = await waitFor('cli-prc', 'qualified', (s) => s.state === 'qualified');
    const link = (await lab.execOk('cli-prc', ['ip', '-o', 'link', 'show', 'dev', tun()])).stdout;
    expect(link).toMatch(/mtu 1280/);
    const addrs = (await lab.execOk('cli-prc', ['ip', '-6', '-o', 'addr', 'show', 'dev', tun(), 'scope', 'global'])).stdout;
    expect(addrs).toContain(`${q.address}/32`);
    const routes = (await lab.execOk('cli-prc', ['ip', '-6', 'route', 'show', 'dev', tun()])).stdout;
    expect(routes).toMatch(/^2001::\/32 /m);
    expect(routes).toMatch(/^default .*metric 1029/m);

    const server = lab.occupants().find((o) => o.role === 'server')!;
    await lab.stopOccupant(server.key);
    const off = await waitFor('cli-prc', 'offline', (s) => s.state === 'offline');
    expect(off.address).toBeNull();
    expect(off.error).toMatch(/server/);
    expect((await lab.execOk('cli-prc', ['ip', '-6', 'route', 'show', 'dev', tun()])).stdout.trim()).not.toMatch(/2001::\/32|default/);
    await lab.startOccupants([{ role: 'server', impl: 'ours' }]);
    await waitFor('cli-prc', 'qualified again', (s) => s.state === 'qualified');
    const states = hookLines().map((l) => l.split(' ')[0]);
    expect(states).toEqual(['up', 'down', 'up']);
    expect(hookLines()[0]).toContain(`${q.address} `);
    expect(hookLines()[0]).toMatch(/ 1280 restricted$/);
  });

  it('conntrack flushed in the NAT: a new mapping at the next refresh, a new address, the hook sees both', async () => {
    await ensureServer();
    rmSync(join(dir, 'hook.log'), { force: true });
    // The symmetric NAT picks random ports, so a new conntrack entry means a new public port.
    startClient('cli-sym');
    const before = await waitFor('cli-sym', 'qualified', (s) => s.state === 'qualified');
    await lab.execOk('nat-sym', ['conntrack', '-F']);
    const after = await waitFor('cli-sym', 'on a new address', (s) => s.state === 'qualified' && s.address !== before.address);
    expect(after.mappedPort).not.toBe(before.mappedPort);
    const changed = hookLines().at(-1)!.split(' ');
    expect(changed.slice(0, 2)).toEqual(['up', 'qualified']);
    expect(changed[3]).toBe(after.address);
    expect(changed[4]).toBe(before.address);
  });

  it('captive portal: UDP to the server blocked, then opened: qualifies by itself within the backoff cap', async () => {
    await ensureServer();
    const table = `${tun()}-portal`.replace(/-/g, '_');
    await lab.execOk('nat-arc', ['nft', `add table ip ${table}; add chain ip ${table} block { type filter hook forward priority 0; }; add rule ip ${table} block udp dport 3544 drop`]);
    try {
      startClient('cli-arc');
      const off = await waitFor('cli-arc', 'offline', (s) => s.state === 'offline');
      // The reason, as a code for scripts and a sentence naming the server and what to check.
      expect(off.errorCode).toBe('no-answer');
      expect(off.error).toMatch(/^no answer from the Teredo server [\d.]+:3544 \(UDP to port 3544 blocked on the way, or the server is down\)$/);
    } finally {
      await lab.execOk('nat-arc', ['nft', 'delete', 'table', 'ip', table]);
    }
    const q = await waitFor('cli-arc', 'qualified after the portal opened', (s) => s.state === 'qualified');
    expect(q.nat).toBe('restricted');
  });

  it('an unreachable Teredo peer: ping is told "address unreachable" once the bubbles got no answer', async () => {
    await ensureServer();
    startClient('cli-prc2');
    await waitFor('cli-prc2', 'qualified', (s) => s.state === 'qualified');
    // A non-cone Teredo address whose mapping (198.18.0.104:9) answers nothing.
    const nobody = formatIpv6(encodeTeredoAddress({ server: parseIpv4(ADDR.server), mappedAddr: parseIpv4('198.18.0.104'), mappedPort: 9 }));
    const r = await lab.exec('cli-prc2', ['ping', '-6', '-n', '-c1', '-W', '15', nobody]);
    expect(r.stdout).toMatch(/Destination unreachable: Address unreachable/);
  });

  it('SIGKILL: the kernel removes the TUN device (address and routes with it); the next run starts cleanly', async () => {
    await ensureServer();
    const first = startClient('cli-fc');
    await waitFor('cli-fc', 'qualified', (s) => s.state === 'qualified');
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    expect((await lab.exec('cli-fc', ['ip', 'link', 'show', 'dev', tun()])).code).not.toBe(0);
    startClient('cli-fc');
    const again = await waitFor('cli-fc', 'qualified after restart', (s) => s.state === 'qualified');
    expect(again.nat).toBe('cone');
  });
});
