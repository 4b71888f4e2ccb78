// Several Teredo servers in the lab (issue "Through every NAT": server failover): our client behind the
// port-restricted NAT is given the lab's server (198.18.0.10/.11) and a second teredo-server in the probe node
// (198.18.0.30/.31, its second address added for this test). The first server is stopped: the client moves to
// the second without going offline and says so in status; the first comes back: the client returns to it.
// Timers are short (refresh 5 s, T = 500 ms, preferred retry 2 s); waits are deadlines for outcomes only.

import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { TeredoClientLabStatus } from '../../lab/occupants/teredo-client-ours.js';
import { waitForClient } from './teredo-client-watch.js';
import { distFile } from '../../lab/paths.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { decodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { ADDR, useLab } from './lab.js';

const lab = useLab();
const CLIENT = distFile('agents/teredo-client/main.js');
const SERVER = distFile('agents/teredo-server/main.js');
const SECOND = '198.18.0.30';
const SECOND2 = '198.18.0.31';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});
afterAll(async () => {
  await lab.exec('probe', ['ip', 'addr', 'del', `${SECOND2}/${ADDR.inet4Cidr}`, 'dev', `${lab.state().plan.id}-inet4`]);
});

const waitFor = (node: string, what: string, ok: (s: TeredoClientLabStatus) => boolean): Promise<TeredoClientLabStatus> => waitForClient(lab, node, what, ok, 40_000);

const serverOf = (s: TeredoClientLabStatus): number => decodeTeredoAddress(parseIpv6(s.address!)).server >>> 0;

describe('teredo-client with two servers', () => {
  it('the first server stops: on the second without going offline; it comes back: on the first again', async () => {
    if (!lab.occupants().some((o) => o.role === 'server')) await lab.startOccupants([{ role: 'server', impl: 'ours' }]);
    await lab.execOk('probe', ['ip', 'addr', 'replace', `${SECOND2}/${ADDR.inet4Cidr}`, 'dev', `${lab.state().plan.id}-inet4`]);
    children.push(lab.spawn('probe', [process.execPath, SERVER, '--address', SECOND, '--secondary-address', SECOND2, '--instance', 'second'], { stdio: 'ignore' }));
    const argv = ['--server', ADDR.server, '--server', SECOND, '--interface', lab.state().plan.tunName, '--refresh-interval', '5', '--probe-timeout', '500', '--probe-attempts', '2', '--backoff-max', '3', '--preferred-retry', '2'];
    children.push(lab.spawn('cli-prc', [process.execPath, CLIENT, ...argv], { stdio: 'ignore' }));

    const first = await waitFor('cli-prc', 'qualified', (s) => s.state === 'qualified');
    expect(serverOf(first)).toBe(parseIpv4(ADDR.server) >>> 0);
    expect(first.servers).toEqual([
      { address: ADDR.server, secondaryAddress: ADDR.server2, inUse: true },
      { address: SECOND, secondaryAddress: SECOND2, inUse: false },
    ]);

    const server = lab.occupants().find((o) => o.role === 'server')!;
    await lab.stopOccupant(server.key);
    const moved = await waitFor('cli-prc', 'on the second server', (s) => s.state === 'qualified' && s.serverAddress === SECOND);
    expect(serverOf(moved)).toBe(parseIpv4(SECOND) >>> 0);
    expect(moved.servers?.map((x) => x.inUse)).toEqual([false, true]);
    expect(moved.nat).toBe('restricted');
    // Straight from one server to the next: never offline, one switch.
    expect(moved.counters).toMatchObject({ offline: 0, serverSwitches: 1 });

    await lab.startOccupants([{ role: 'server', impl: 'ours' }]);
    const back = await waitFor('cli-prc', 'back on the first server', (s) => s.state === 'qualified' && s.serverAddress === ADDR.server);
    expect(serverOf(back)).toBe(parseIpv4(ADDR.server) >>> 0);
    expect(back.counters).toMatchObject({ offline: 0, serverSwitches: 2 });
  });
});
