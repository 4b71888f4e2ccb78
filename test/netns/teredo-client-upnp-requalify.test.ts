// teredo-client behind a UPnP-only gateway: the zoo's nat-upnp (port-restricted, miniupnpd) with its NAT-PMP/PCP
// port refused (an nftables reject on the router's 5351: ICMP port unreachable, what a router without either
// service answers). `--port-mapping auto` then gets PCP's and NAT-PMP's refusal at once, qualifies without a
// mapping (restricted), and UPnP's mapping, which comes after, makes it qualify again as cone: a new Teredo address
// (the cone bit, new random bits). host6 pings that new address at once, 5 of 5 in every round
// (docs/teredo-client.md, port mapping). The first round runs right after the lab came up: a node whose
// link-local address is still tentative (DAD) cannot resolve its neighbours, and the server then held the
// client's RFC 4380 §5.2.9 test toward host6 until DAD ended, losing 2-3 of 5 pings (lab/netns.ts turns DAD off).

import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { distFile } from '../../lab/paths.js';
import { ADDR } from '../../lab/topology.js';
import { pingCount, requireClientStatus, waitForClient } from './teredo-client-watch.js';

const MAIN = distFile('agents/teredo-client/main.js');
/** The NAT-PMP / PCP server port (RFC 6886 §3, RFC 6887 §19), written out here. */
const PCP_PORT = 5351;
/** Rounds of start, re-qualification and pings: the loss this guards against was seen in 1 run of 4. */
const ROUNDS = 3;

/** The nodes on the way of host6's pings and of the client's test, read right after the lab came up. */
const PATH_NODES = ['server', 'relay', 'host6', 'nat-upnp', 'cli-upnp'];

let zoo: Lab;
let child: ChildProcess | undefined;
/** `ip -6 addr show tentative` per node of PATH_NODES, at once after Lab.up. */
const tentative: Record<string, string> = {};

beforeAll(async () => {
  zoo = await Lab.up({ zoo: ['nat-upnp'], ownerPid: process.pid, install: false });
  await Promise.all(PATH_NODES.map(async (n) => (tentative[n] = (await zoo.execOk(n, ['ip', '-6', 'addr', 'show', 'tentative'])).stdout.trim())));
  await zoo.startOccupants([
    { role: 'server', impl: 'ours' },
    { role: 'relay', impl: 'ours' },
  ]);
  // miniupnpd keeps serving UPnP IGD; NAT-PMP and PCP are refused from the LAN.
  await zoo.execOk('nat-upnp', ['nft', 'insert', 'rule', 'ip', 'tl_nat', 'input', 'iifname', zoo.iface('nat-upnp', 'lan'), 'udp', 'dport', String(PCP_PORT), 'reject']);
}, 60_000);

// Each round's client goes with its round, and is gone before the next one starts (it holds the namespace's
// control socket until it has exited); the lab goes with the file.
afterEach(async () => {
  const c = child;
  child = undefined;
  if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
  const exited = once(c, 'exit');
  c.kill('SIGKILL');
  await exited;
});
afterAll(() => zoo?.down());

describe('teredo-client behind a UPnP-only gateway (nat-upnp, NAT-PMP/PCP refused)', () => {
  it('the lab hands out its nodes with every IPv6 address usable (none tentative: DAD off)', () => {
    expect(tentative).toEqual(Object.fromEntries(PATH_NODES.map((n) => [n, ''])));
  });

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: qualifies restricted, UPnP maps, qualifies again as cone; host6 pings the new address 5/5`, async () => {
      const c = zoo.spawn('cli-upnp', [process.execPath, MAIN, '--server', ADDR.server, '--interface', zoo.state().plan.tunName, '--port-mapping', 'auto'], { stdio: 'ignore' });
      child = c;
      const s = await waitForClient(zoo, 'cli-upnp', 'qualified as cone with a UPnP mapping', (x) => x.state === 'qualified' && x.nat === 'cone' && x.portMapping?.state === 'mapped');
      expect(s.portMapping!.protocol).toBe('upnp');
      // It qualified before the mapping (restricted), then with it: two addresses, the second one cone.
      expect(s.counters!.addressChanges).toBe(2);
      const received = await pingCount(zoo, 'host6', s.address!, 5, 0.5, 3);
      const after = await requireClientStatus(zoo, 'cli-upnp');
      // (drops shown on failure: held-full is the client refusing host6's pings while its test of the relay runs.)
      expect({ received, address: after.address, drops: after.drops }).toEqual({ received: 5, address: s.address, drops: expect.not.objectContaining({ 'held-full': expect.anything() }) });
    });
  }
});
