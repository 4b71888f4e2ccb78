// teredo-client behind the zoo's nat-upnp (lab/upnp-nat.ts): a port-restricted NAT whose router runs Debian's
// miniupnpd with UPnP IGD, NAT-PMP and PCP, in a zoo lab of its own with our server and relay. With --port-mapping
// the client maps its Teredo port, the server's cone test reaches it through the mapping (RFC 4380 §5.2.1: cone),
// host6 and the client ping each other, and once the client stops (SIGTERM) miniupnpd's rule is gone. With
// --port-mapping off the same NAT is what it is: restricted. The mapping is read from miniupnpd's nftables
// chain (what the NAT does), not only from the client's status. Behind nat-upnps (symmetric, miniupnpd too) the
// port is mapped but our outbound flows still get drawn ports: the client opens the mapping toward its server
// first (RFC 6081 §5.3, client-gateway.ts) and qualifies as cone at it, so a peer behind a port-restricted NAT
// (cli-prc) and the client ping each other both ways; with --port-mapping off they cannot (0 both ways).
// The PCP client (src/io/port-mapper-pcp.ts) is also run on its own against miniupnpd: renewal, deletion, nonces.
// And miniupnpd is restarted under a mapped client, its rules gone (as Debian's service restart leaves them):
// its ANNOUNCE (RFC 6887 §14.1.3), whose epoch fails the client's §8.5 test, makes the client map again at once.

import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { restartUpnp } from '../../lab/nat-zoo.js';
import { distFile } from '../../lab/paths.js';
import { ADDR } from '../../lab/topology.js';
import { pingCount, waitForClient } from './teredo-client-watch.js';

const MAIN = distFile('agents/teredo-client/main.js');
const PCP_MAPPER = pathToFileURL(distFile('src/io/port-mapper-pcp.js')).href;
/** nat-upnp's outside address and its client's LAN address (site 21 of lab/topology.ts), written out here. */
const NAT_OUTSIDE = '198.18.0.121';
const CLIENT_LAN = '192.168.21.2';
/** nat-upnps (site 22): the same with a symmetric NAT. */
const NAT_UPNPS_OUTSIDE = '198.18.0.122';

let zoo: Lab;
let child: ChildProcess | undefined;
/** Clients started beside `child` (the peer in cli-prc). */
const others: ChildProcess[] = [];

beforeAll(async () => {
  zoo = await Lab.up({ zoo: true, ownerPid: process.pid, install: false });
  await zoo.startOccupants([
    { role: 'server', impl: 'ours' },
    { role: 'relay', impl: 'ours' },
  ]);
}, 60_000);

afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
  for (const c of others.splice(0)) c.kill('SIGKILL');
});

afterAll(async () => {
  await zoo?.down();
});

function startClient(mode: string, node = 'cli-upnp'): ChildProcess {
  const argv = [process.execPath, MAIN, '--server', ADDR.server, '--interface', zoo.state().plan.tunName, '--port-mapping', mode];
  child = zoo.spawn(node, argv, { stdio: 'ignore' });
  return child;
}

/** SIGTERM, then wait for the client to exit (it deletes its mapping on the way out). */
async function stopClient(c: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code)));
  c.kill('SIGTERM');
  const code = await exited;
  child = undefined;
  return code;
}

/** miniupnpd's DNAT rules (its prerouting chain): "<outside port> -> <inside address>:<port>" each. */
async function natRedirects(): Promise<string[]> {
  const r = await zoo.execOk('nat-upnp', ['nft', 'list', 'chain', 'inet', 'tl_upnp', 'prerouting_miniupnpd']);
  return [...r.stdout.matchAll(/dport (\d+) dnat ip to ([\d.]+:\d+)/g)].map((m) => `${m[1]} -> ${m[2]}`);
}

const pings = (node: string, dst: string): Promise<number> => pingCount(zoo, node, dst, 5, 0.5, 3);

/** Our client in cli-prc (behind the lab's port-restricted NAT), qualified: its Teredo address. */
async function startPeer(): Promise<string> {
  others.push(zoo.spawn('cli-prc', [process.execPath, MAIN, '--server', ADDR.server, '--interface', zoo.state().plan.tunName, '--port-mapping', 'off'], { stdio: 'ignore' }));
  return (await waitForClient(zoo, 'cli-prc', 'qualified', (x) => x.state === 'qualified')).address!;
}

describe('teredo-client behind a NAT with UPnP IGD, NAT-PMP and PCP (nat-upnp)', () => {
  for (const mode of ['auto', 'pcp', 'nat-pmp', 'upnp'] as const) {
    it(`--port-mapping ${mode}: maps its port, qualifies as cone through it, pings host6 both ways; SIGTERM deletes the mapping`, async () => {
      const c = startClient(mode);
      const s = await waitForClient(zoo, 'cli-upnp', 'qualified with a port mapping', (x) => x.state === 'qualified' && x.portMapping?.state === 'mapped');
      const port = s.clientPort!;
      expect(s.portMapping).toMatchObject({ mode, state: 'mapped', externalAddress: NAT_OUTSIDE, externalPort: port, internalPort: port, error: null });
      // auto asks PCP first; miniupnpd speaks it, so neither NAT-PMP nor UPnP is asked.
      expect(s.portMapping!.protocol).toBe(mode === 'auto' ? 'pcp' : mode);
      expect(s.portMapping!.lifetimeLeftSec).toBeGreaterThan(0);
      // What the NAT does: miniupnpd's rule, exactly one.
      expect((await natRedirects()).filter((r) => r.endsWith(`${CLIENT_LAN}:${port}`))).toEqual([`${port} -> ${CLIENT_LAN}:${port}`]);
      // The server's cone RA (from its second address) got in through the mapping: RFC 4380 cone, port kept.
      expect(s.nat).toBe('cone');
      expect([s.mappedAddress, s.mappedPort]).toEqual([NAT_OUTSIDE, port]);
      expect(await pings('host6', s.address!)).toBeGreaterThanOrEqual(4);
      expect(await pings('cli-upnp', ADDR.host6)).toBeGreaterThanOrEqual(4);

      expect(await stopClient(c)).toBe(0);
      expect((await natRedirects()).filter((r) => r.endsWith(`${CLIENT_LAN}:${port}`))).toEqual([]);
    });
  }

  it('behind the symmetric nat-upnps (RFC 6081 §5.3): the mapping opened toward the server, cone at it; a port-restricted peer and host6 both ways', async () => {
    const c = startClient('auto', 'cli-upnps');
    const s = await waitForClient(zoo, 'cli-upnps', 'qualified with a port mapping', (x) => x.state === 'qualified' && x.portMapping?.state === 'mapped');
    expect(s.portMapping).toMatchObject({ state: 'mapped', externalAddress: NAT_UPNPS_OUTSIDE, externalPort: s.clientPort });
    // The Teredo port's flow to the server went through the mapping: the server's cone RA got in there too.
    expect([s.nat, s.mappedBy, s.mappedAddress, s.mappedPort]).toEqual(['cone', 'gateway', NAT_UPNPS_OUTSIDE, s.clientPort]);
    expect(s.counters).toMatchObject({ gatewayOpened: 1, gatewayFailed: 0 });
    // The NAT itself, from the probe port: still symmetric (endpoint-dependent, drawn ports).
    expect(s.mapping).toMatchObject({ endpointIndependent: false, allocation: 'random' });
    const peer = await startPeer();
    expect(await pings('cli-prc', s.address!)).toBeGreaterThanOrEqual(4);
    expect(await pings('cli-upnps', peer)).toBeGreaterThanOrEqual(4);
    expect(await pings('host6', s.address!)).toBeGreaterThanOrEqual(4);
    expect(await pings('cli-upnps', ADDR.host6)).toBeGreaterThanOrEqual(4);
    expect(await stopClient(c)).toBe(0);
  });

  it('behind nat-upnps with --port-mapping off (RFC 4380): symmetric at a drawn port; the port-restricted peer is out of reach both ways, host6 is not', async () => {
    const c = startClient('off', 'cli-upnps');
    const s = await waitForClient(zoo, 'cli-upnps', 'qualified', (x) => x.state === 'qualified');
    expect([s.nat, s.mappedBy]).toEqual(['symmetric', 'server']);
    expect(s.mappedPort).not.toBe(s.clientPort);
    const peer = await startPeer();
    expect(await pings('cli-prc', s.address!)).toBe(0);
    expect(await pings('cli-upnps', peer)).toBe(0);
    expect(await pings('host6', s.address!)).toBeGreaterThanOrEqual(4);
    expect(await stopClient(c)).toBe(0);
  });

  it('PCP against miniupnpd (RFC 6887): a renewal with the same nonce keeps the one rule, a delete with another nonce leaves it, ours deletes it', async () => {
    // One PcpMapper in cli-upnp: map, renew, a second mapper (another nonce) tries the delete; then on "delete" the
    // first one deletes.
    const script = `
      const { PcpMapper } = await import(${JSON.stringify(PCP_MAPPER)});
      const req = { internalPort: 40123, lifetimeSec: 600 };
      const m = new PcpMapper();
      const first = await m.map({ ...req, signal: AbortSignal.timeout(2000) });
      const renewed = await m.map({ ...req, signal: AbortSignal.timeout(2000) });
      const otherDelete = await new PcpMapper().unmap(first, AbortSignal.timeout(2000)).then(() => 'deleted', (e) => e.message);
      console.log(JSON.stringify({ first, renewed, otherDelete }));
      process.stdin.once('data', async () => { await m.unmap(renewed, AbortSignal.timeout(2000)); console.log('deleted'); process.exit(0); });`;
    const c = zoo.spawn('cli-upnp', [process.execPath, '--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    child = c;
    const lines = createInterface({ input: c.stdout! })[Symbol.asyncIterator]();
    const r = JSON.parse((await lines.next()).value as string);
    const lease = { protocol: 'pcp', externalAddress: NAT_OUTSIDE, externalPort: 40123, internalAddress: CLIENT_LAN, internalPort: 40123, lifetimeSec: 600 };
    expect([r.first, r.renewed]).toEqual([lease, lease]);
    // §15 / miniupnpd's nonce check: another nonce does not delete the rule (2.3.1 answers SUCCESS all the same).
    expect(typeof r.otherDelete).toBe('string');
    expect((await natRedirects()).filter((x) => x.endsWith(`${CLIENT_LAN}:40123`))).toEqual([`40123 -> ${CLIENT_LAN}:40123`]);
    c.stdin!.write('delete\n');
    expect((await lines.next()).value).toBe('deleted');
    await once(c, 'exit');
    child = undefined;
    expect((await natRedirects()).filter((x) => x.endsWith(`${CLIENT_LAN}:40123`))).toEqual([]);
  });

  it('PCP: miniupnpd restarts with its rules gone; its ANNOUNCE fails the epoch test (RFC 6887 §8.5, §14.1.3) and the client maps again at once', async () => {
    startClient('pcp');
    const s = await waitForClient(zoo, 'cli-upnp', 'qualified with a port mapping', (x) => x.state === 'qualified' && x.portMapping?.state === 'mapped');
    const port = s.clientPort!;
    const ours = async (): Promise<string[]> => (await natRedirects()).filter((r) => r.endsWith(`${CLIENT_LAN}:${port}`));
    expect(await ours()).toEqual([`${port} -> ${CLIENT_LAN}:${port}`]);
    expect(s.portMapping).toMatchObject({ protocol: 'pcp', renewals: 0, recreations: 0 });
    // §8.5 tells a restart only from an epoch that went back further than its slack (2 s, and 1 s of reordering):
    // the answer must be some seconds old. (A lab just built has a miniupnpd of epoch 0 or 1 at the first map,
    // whose ANNOUNCE 1 s later says epoch 0 again: seen, and valid by the RFC's test.)
    await waitForClient(zoo, 'cli-upnp', 'mapped 4 s ago', (x) => (x.portMapping?.lifetimeLeftSec ?? Infinity) <= s.portMapping!.lifetimeLeftSec! - 4);
    // Stopped, its chains flushed (the rule is gone while it is down), started again.
    await restartUpnp(zoo, 'nat-upnp', async () => expect(await ours()).toEqual([]));
    // Its renewal comes only halfway through the lifetime (1800 s of 3600): the mapping back now is the ANNOUNCE's doing.
    const after = await waitForClient(zoo, 'cli-upnp', 'mapped again', (x) => x.portMapping?.recreations === 1);
    expect(after.portMapping).toMatchObject({ state: 'mapped', protocol: 'pcp', externalAddress: NAT_OUTSIDE, externalPort: port, renewals: 0, recreations: 1 });
    expect(await ours()).toEqual([`${port} -> ${CLIENT_LAN}:${port}`]);
  });

  it('--port-mapping off: nothing mapped, and the client reports the NAT as it is (restricted)', async () => {
    startClient('off');
    const s = await waitForClient(zoo, 'cli-upnp', 'qualified', (x) => x.state === 'qualified');
    expect(s.portMapping).toMatchObject({ mode: 'off', state: 'off', protocol: null });
    expect(s.nat).toBe('restricted');
    expect((await natRedirects()).filter((r) => r.endsWith(`${CLIENT_LAN}:${s.clientPort}`))).toEqual([]);
  });
});
