// NAT type detection behind a port forward (issue "Through every NAT"): the port-restricted NAT of cli-prc gets a
// UDP port forward of 3545 to the client (as people set up for Teredo and consoles), and the client binds 3545.
// The cone RA from the server's secondary address reaches that forwarded port, so the client is reachable as a
// cone there and must say `cone` (the cone test runs on the Teredo port); before, the cone RS left from a
// throwaway port the forward does not cover, and the client said `restricted`. Without the forward the same
// client says `restricted` (teredo-client.test.ts).

import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { distFile } from '../../lab/paths.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { decodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { ADDR, useLab } from './lab.js';
import { waitForClient } from './teredo-client-watch.js';

const lab = useLab();
const CLIENT = distFile('agents/teredo-client/main.js');
const FORWARDED = 3545;

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

describe('teredo-client behind a port-restricted NAT with a port forward', () => {
  it('reports cone, port-preserving, and its address carries the cone bit and the forwarded port', async () => {
    if (!lab.occupants().some((o) => o.role === 'server')) await lab.startOccupants([{ role: 'server', impl: 'ours' }]);
    const { id, tunName } = lab.state().plan;
    const table = `${id}_fwd`;
    const site = { nat: 'nat-prc', client: 'cli-prc', clientAddr: '192.168.1.2', outside: '198.18.0.101' };
    await lab.execOk(site.nat, ['nft', `add table ip ${table}; add chain ip ${table} pre { type nat hook prerouting priority dstnat; }; add rule ip ${table} pre iifname "${id}-inet4" udp dport ${FORWARDED} dnat to ${site.clientAddr}`]);
    try {
      child = lab.spawn(site.client, [process.execPath, CLIENT, '--server', ADDR.server, '--port', String(FORWARDED), '--interface', tunName], { stdio: 'ignore' });
      const s = await waitForClient(lab, site.client, 'qualified', (x) => x.state === 'qualified');
      expect(s.nat).toBe('cone');
      expect(s.mapping).toMatchObject({ endpointIndependent: true, portPreserving: true });
      const a = decodeTeredoAddress(parseIpv6(s.address!));
      expect([a.cone, a.mappedPort]).toEqual([true, FORWARDED]);
      expect(s.externalNatMapping).toBe(`${site.outside}:${FORWARDED}`);
    } finally {
      await lab.exec(site.nat, ['nft', 'delete', 'table', 'ip', table]);
    }
  });
});
