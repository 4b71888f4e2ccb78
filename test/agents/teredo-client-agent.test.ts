// The teredo-client agent wiring, in-process: the real engine and Driver with FakeDatagramPort, FakeTun and
// FakeClock. Checks the config rules (what --check-config refuses, --miredo-conf), the sockets (RFC 6081 §5.4 pool too), the
// interface (address /32, default route by mode), the status object and its netsh-like rendering, the hook,
// reload and stop.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeDatagramPort } from '../fakes/fake-datagram-port.js';
import type { HostDeps } from '../../src/runtime/host.js';
import { fakePorts, startOnHost, type FakePorts } from './host-harness.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { fakeGateway, fakePortMapper } from '../fakes/fake-port-mapper.js';
import { validateConfig } from '../../src/runtime/config.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import { clientSpec, type ClientAgentConfig } from '../../agents/teredo-client/config.js';
import { setupClient, teredoClient, type ClientSeams } from '../../agents/teredo-client/agent.js';
import { miredoClientImport } from '../../agents/teredo-client/miredo-conf.js';
import { formatClientStatus, type ClientStatus } from '../../agents/teredo-client/status.js';
import type { ClientStatusJson } from '../../agents/teredo-client/status-data.js';
import { echoRequest, raPayload } from '../engine/teredo-client-fixtures.js';
import { decodeIpv6, encodeIpv6, NEXT_HEADER } from '../../src/wire/ipv6.js';
import { encodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { decodeTrailers } from '../../src/wire/teredo-trailers.js';
import { decodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import { FakeHost, fakeRoute } from '../fakes/fake-host.js';
import type { Ipv6Route } from '../../src/io/linux-host.js';

const dir = mkdtempSync(join(tmpdir(), 'tcl-agent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PUBLIC = { addr: parseIpv4('198.18.0.101'), port: 41000 };

function problems(flags: Record<string, unknown>): string[] {
  const r = validateConfig(clientSpec, { flags });
  return r.ok ? [] : r.problems;
}

function config(flags: Record<string, unknown>): ClientAgentConfig {
  const r = validateConfig(clientSpec, { flags });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
}

describe('configuration', () => {
  it('needs a server; names every bad field', () => {
    expect(problems({})).toEqual(['server is required (--server, the JSON file, or ServerAddress in --miredo-conf)']);
    expect(problems({ server: 'bad name!', interface: 'a-very-long-ifname', 'default-route': 'maybe' })).toEqual(['defaultRoute ("maybe") must be one of auto, on, off']);
    expect(problems({ server: 'bad name!', interface: 'a-very-long-ifname' })).toEqual([
      'server ("bad name!") must be an IPv4 address or a host name',
      'interface ("a-very-long-ifname") must be an interface name of 1 to 15 characters without \'/\', \':\' or spaces',
    ]);
    expect(problems({ server: 'teredo.example.net' })).toEqual([]);
  });

  it('--miredo-conf supplies server, secondary, interface, bind address and port; flags win', () => {
    const file = join(dir, 'miredo.conf');
    writeFileSync(file, '# Miredo\nRelayType client\nServerAddress 198.18.0.10\nServerAddress2 198.18.0.11\nInterfaceName teredo0\nBindPort 3545\nSyslogFacility daemon\n');
    const read = miredoClientImport.read(file);
    expect(read.values).toEqual({ server: '198.18.0.10', secondaryServer: '198.18.0.11', interface: 'teredo0', port: 3545 });
    expect(read.warnings).toEqual([`${file}:7: SyslogFacility ignored: logs are JSON lines on stdout`]);
    const r = validateConfig(clientSpec, { file: { ...read, imported: true }, flags: { port: '4000' } });
    expect(r.ok && r.config).toMatchObject({ server: ['198.18.0.10'], interface: 'teredo0', port: 4000 });
    expect(r.ok && r.warnings).toEqual(read.warnings);
  });

  it('--miredo-conf maps LocalDiscovery enabled|disabled to --local-discovery on|off; other words are refused', () => {
    for (const [word, value] of [['enabled', 'on'], ['disabled', 'off'], ['no', 'off']] as const) {
      const file = join(dir, `ld-${word}.conf`);
      writeFileSync(file, `ServerAddress 198.18.0.10\nLocalDiscovery ${word}\n`);
      expect(miredoClientImport.read(file).values).toEqual({ server: '198.18.0.10', localDiscovery: value });
    }
    const bad = join(dir, 'ld-bad.conf');
    writeFileSync(bad, 'ServerAddress 198.18.0.10\nLocalDiscovery maybe\n');
    expect(() => miredoClientImport.read(bad)).toThrow(expect.objectContaining({ details: [`${bad}:2: LocalDiscovery ("maybe") must be enabled or disabled`] }));
  });

  it('--miredo-conf refuses a relay file, a misspelled directive and bad values, naming FILE:LINE', () => {
    const relay = join(dir, 'relay.conf');
    writeFileSync(relay, 'RelayType cone\nBindPort 70000\n');
    expect(() => miredoClientImport.read(relay)).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        details: [
          `${relay}:1: RelayType cone: only a client configuration (RelayType client) can be used by teredo-client; use teredo-relay --miredo-conf for a relay`,
          `${relay}:2: BindPort ("70000") must be an integer from 0 to 65535`,
        ],
      }),
    );
    // Miredo only logs "superfluous directive" for this and runs without a secondary server.
    const typo = join(dir, 'typo.conf');
    writeFileSync(typo, 'ServerAddress 198.18.0.10\nServerAdress2 198.18.0.11\n');
    expect(() => miredoClientImport.read(typo)).toThrow(expect.objectContaining({ details: [`${typo}:2: unknown directive "ServerAdress2" (did you mean ServerAddress2?)`] }));
    expect(() => miredoClientImport.read(join(dir, 'missing.conf'))).toThrow(expect.objectContaining({ code: 'CONFIG_READ' }));
  });
});

type Harness = FakePorts & { clock: FakeClock; deps: HostDeps; seams: ClientSeams };

function harness(routes: Ipv6Route[] = [], failBind?: string): Harness {
  const clock = new FakeClock();
  // Port 0 (the client's default, and its probe socket) binds 40000, 40001, ...
  const ports = fakePorts({ ephemeral: 40000, ...(failBind === undefined ? {} : { failBind }) });
  const seams: ClientSeams = {
    // No gateway maps ports: the agent tests send nothing outside the process (port mapping has its own tests).
    portMapper: fakePortMapper({}),
    resolve: (name) => {
      const table: Record<string, string[]> = { 'teredo.example.net': ['198.18.0.10'], 'pool.example.net': ['198.18.0.40', '198.18.0.50'] };
      return table[name] ? Promise.resolve(table[name].map(parseIpv4)) : Promise.reject(new Error('ENOTFOUND'));
    },
  };
  return { ...ports, clock, seams, deps: { clock, timers: clock, facts: new FakeHost({ routes }), openPort: ports.openPort, openTun: ports.openTun } };
}

async function start(flags: Record<string, unknown>, h = harness()) {
  const { agent, log } = await startOnHost(teredoClient, config(flags), h.deps, (host) => setupClient(host, h.seams));
  return { agent, h, log, main: h.ports[0]!, probe: h.ports[1]!, tun: h.tuns[0]! };
}

/** RFC 4380 §5.2.1: the cone RS's link-local source has the cone bit (0x80 of its 9th byte). */
const isConeRs = (bytes: Uint8Array): boolean => (decodeIpv6(decodeTeredoPayload(bytes).ipv6).header.src[8]! & 0x80) !== 0;

/**
 * Answers the client's RSs as the server would behind a port-restricted NAT: only the non-cone RAs get in (the
 * cone RA, from the other address, is filtered), each port keeps one mapping whatever the destination.
 */
function answerRestricted(ports: { main: FakeDatagramPort; probe: FakeDatagramPort }): void {
  for (const port of [ports.main, ports.probe]) {
    for (const s of port.sent.splice(0)) if (!isConeRs(s.bytes)) port.deliver(raPayload(s.bytes, PUBLIC), { addr: s.to.addr, port: 3544 });
  }
}

describe('running', () => {
  it('opens the main socket (configured port), a probe socket and 8 pool sockets; the TUN device gets MTU 1280 and comes up', async () => {
    const { agent, h, main, probe, tun } = await start({ server: 'teredo.example.net', port: '3545', interface: 'teredo7' });
    // And the local discovery socket (RFC 4380 §5.2.8): bound to 224.0.0.253:3544 itself, shared, joined to it.
    expect(h.portOptions.map((o) => [o.port, formatIpv4(o.address ?? 0), o.reuseAddr === true])).toEqual([
      [3545, '0.0.0.0', false],
      [0, '0.0.0.0', false],
      [3544, '224.0.0.253', true],
      // The RFC 6081 §5.4 pool (client-pps.ts): ports of the kernel's choosing.
      ...Array.from({ length: 8 }, () => [0, '0.0.0.0', false]),
    ]);
    expect([...h.ports[2]!.groups]).toEqual([`${0xe00000fd | 0}/0`]);
    expect(tun.name).toBe('teredo7');
    expect(tun.config).toEqual([{ op: 'mtu', mtu: 1280 }, { op: 'up', up: true }]);
    // The cone and non-cone RSs from the Teredo port, the first mapping-test RS from the probe port.
    expect(main.sent.map((s) => [formatIpv4(s.to.addr), isConeRs(s.bytes)])).toEqual([['198.18.0.10', true], ['198.18.0.10', false]]);
    expect(probe.sent.map((s) => [formatIpv4(s.to.addr), isConeRs(s.bytes)])).toEqual([['198.18.0.10', false]]);
    await agent.stop();
  });

  it('--local-discovery off: no discovery socket', async () => {
    const { agent, h } = await start({ server: '198.18.0.10', 'local-discovery': 'off' });
    expect(h.portOptions.map((o) => o.port)).toEqual([0, 0, ...new Array<number>(8).fill(0)]);
    await agent.stop();
  });

  it('qualified: address /32 (2001::/32 with it) and a default route when the host has none; status has the fields', async () => {
    const { agent, h, main, probe, tun } = await start({ server: '198.18.0.10' });
    answerRestricted({ main, probe });
    h.clock.advance(200); // the cone window passes, the RS to the secondary goes out
    answerRestricted({ main, probe });
    const s = agent.status() as ClientStatusJson;
    expect(s).toMatchObject({ state: 'qualified', nat: 'restricted', mappedAddress: '198.18.0.101', mappedPort: 41000, server: '198.18.0.10', secondaryServerAddress: '198.18.0.11', interface: 'teredo', mtu: 1280, defaultRoute: true, type: 'client', refreshIntervalSec: 30 });
    const address = parseIpv6(s.address!);
    expect(tun.config.slice(2)).toEqual([
      { op: 'add-address', address, prefixLength: 32 },
      { op: 'add-route', prefix: new Uint8Array(16), prefixLength: 0, metric: 1029 },
    ]);
    const text = formatClientStatus({ agent: 'teredo-client', instance: null, pid: 1, uptimeSec: 1, reloads: 0, lifecycle: 'running', ...agent.status() }).join('\n');
    for (const field of ['Type', 'Server Name', 'Client Refresh Interval', 'Client Port', 'State', 'NAT', 'Local Mapping', 'External NAT Mapping', 'Teredo Address']) expect(text).toMatch(new RegExp(`^${field} +: `, 'm'));
    expect(text).toMatch(/^NAT +: restricted$/m);
    // The fake NAT maps the Teredo port 40000 to 41000 and both server addresses see that one mapping.
    expect(s.mapping).toEqual({ endpointIndependent: true, portPreserving: false, portDelta: null, allocation: null });
    expect(text).toMatch(/^NAT Mapping +: endpoint-independent, port not preserved$/m);
    expect(text).toContain(`Teredo Address          : ${formatIpv6(address)}`);
    await agent.stop();
    expect(tun.config.slice(-2)).toEqual([
      { op: 'remove-route', prefix: new Uint8Array(16), prefixLength: 0, metric: 1029 },
      { op: 'remove-address', address, prefixLength: 32 },
    ]);
    expect(tun.closed).toBe(true);
    expect(main.closed && h.ports[1]!.closed).toBe(true);
  });

  it('behind a port-preserving symmetric NAT: a peer is bubbled from a pool socket, told its port, and answered there (RFC 6081 §5.4)', async () => {
    const { agent, h, main, probe, tun } = await start({ server: '198.18.0.10', 'local-discovery': 'off' });
    // Ports of the kernel's choosing, 40000 on: main, probe, then the pool's eight.
    const pool = h.ports.slice(2);
    expect(pool.map((p) => p.local.port)).toEqual([40002, 40003, 40004, 40005, 40006, 40007, 40008, 40009]);
    // The NAT keeps the Teredo port and the probe port toward the primary; the probe toward the secondary gets 52345.
    const answer = (): void => {
      for (const port of [main, probe]) {
        for (const sent of port.sent.splice(0)) {
          if (isConeRs(sent.bytes)) continue;
          const mapped = port === main || sent.to.addr === parseIpv4('198.18.0.10') ? port.local.port : 52345;
          port.deliver(raPayload(sent.bytes, { addr: PUBLIC.addr, port: mapped }), { addr: sent.to.addr, port: 3544 });
        }
      }
    };
    answer();
    h.clock.advance(200);
    answer();
    const s = agent.status() as ClientStatusJson;
    expect(s).toMatchObject({ state: 'qualified', nat: 'symmetric', mapping: { endpointIndependent: false, portPreserving: true, allocation: 'random' } });
    expect(s.limitations[0]).toMatch(/^Teredo peers behind symmetric NATs cannot be reached; those behind port-restricted NATs are, .*\(RFC 6081 §5\.4\), 8 at a time$/);
    const me = parseIpv6(s.address!);
    const peerAt = { addr: parseIpv4('198.18.0.150'), port: 45000 };
    const peer = encodeTeredoAddress({ server: parseIpv4('198.18.0.10'), cone: false, randomBits: 0, mappedAddr: peerAt.addr, mappedPort: peerAt.port });
    main.sent.splice(0);
    tun.inject(echoRequest(me, peer, 1));
    // The direct bubble from pool socket 0; the indirect one through the peer's server names its port.
    expect(pool[0]!.sent.map((d) => [formatIpv4(d.to.addr), d.to.port, d.bytes.length])).toEqual([['198.18.0.150', 45000, 40]]);
    const indirect = main.sent.find((d) => d.to.port === 3544 && d.bytes.length === 44);
    expect(indirect && decodeTrailers(indirect.bytes.subarray(40))).toEqual([{ kind: 'random-port', port: 40002 }]);
    // The peer's bubble arrives on that socket: the queued Echo Request leaves from it.
    pool[0]!.deliver(encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 255, src: peer, dst: me }, new Uint8Array(0)), peerAt);
    expect(pool[0]!.sent.slice(1).map((d) => [d.to.port, decodeIpv6(d.bytes).header.nextHeader])).toEqual([[45000, NEXT_HEADER.ICMPV6]]);
    expect((agent.status() as ClientStatusJson).counters.randomPortsAssigned).toBe(1);
    await agent.stop();
  });

  it('port mapping: in status and its text; a mapping granted after the start qualifies again; stop deletes it', async () => {
    const h = harness();
    const gw = fakeGateway('hold');
    const { agent, main, probe } = await start({ server: '198.18.0.10' }, { ...h, seams: { ...h.seams, portMapper: fakePortMapper({ 'nat-pmp': gw }) } });
    // The start waited its bound for the mapping, then qualified without it.
    expect((agent.status() as ClientStatus).portMapping).toMatchObject({ mode: 'auto', state: 'pending', protocol: null });
    answerRestricted({ main, probe });
    h.clock.advance(200);
    answerRestricted({ main, probe });
    expect((agent.status() as ClientStatus).state).toBe('qualified');
    main.sent.splice(0);
    probe.sent.splice(0);
    gw.release();
    await new Promise((resolve) => setImmediate(resolve));
    const s = agent.status() as ClientStatus;
    expect(s.portMapping).toMatchObject({ state: 'mapped', protocol: 'nat-pmp', externalAddress: '198.18.0.121', externalPort: 40000, internalPort: 40000, lifetimeLeftSec: 3600 });
    // Qualifying again, the mapping opened toward the server first (RFC 6081 §5.3, client-gateway.ts): the address
    // gone, the probe port's RS to the primary out, nothing from the Teredo port yet.
    expect(s.state).not.toBe('qualified');
    expect(main.sent).toEqual([]);
    expect(probe.sent.map((x) => formatIpv4(x.to.addr))).toEqual(['198.18.0.10']);
    const text = formatClientStatus({ agent: 'teredo-client', instance: null, pid: 1, uptimeSec: 1, reloads: 0, lifecycle: 'running', ...agent.status() }).join('\n');
    expect(text).toMatch(/^Port Mapping +: nat-pmp 198\.18\.0\.121:40000 -> port 40000, 3600 s left$/m);
    await agent.stop();
    expect(gw.unmaps.map((l) => [l.protocol, l.externalPort])).toEqual([['nat-pmp', 40000]]);
  });

  it('default route auto: none when the host has another; off: never', async () => {
    const other = [fakeRoute('::/0', 'eth0')];
    for (const [flags, routes] of [[{ server: '198.18.0.10' }, other], [{ server: '198.18.0.10', 'default-route': 'off' }, []]] as const) {
      const { agent, h, main, probe, tun } = await start(flags, harness([...routes]));
      answerRestricted({ main, probe });
      h.clock.advance(200);
      answerRestricted({ main, probe });
      expect(tun.config.filter((c) => c.op === 'add-route')).toEqual([]);
      expect(tun.config.filter((c) => c.op === 'add-address')).toHaveLength(1);
      await agent.stop();
    }
  });

  it('runs the hook with STATE up / down, the interface, address and MTU', async () => {
    const out = join(dir, 'hook.out');
    const hook = join(dir, 'hook.sh');
    writeFileSync(hook, `#!/bin/sh\necho "$STATE $OLD_STATE $CLIENT_STATE $IFACE $ADDRESS|$OLD_ADDRESS $MTU $NAT" >> ${out}\n`, { mode: 0o755 });
    const { agent, h, main, probe } = await start({ server: '198.18.0.10', hook });
    answerRestricted({ main, probe });
    h.clock.advance(200);
    answerRestricted({ main, probe });
    const address = (agent.status() as ClientStatusJson).address!;
    await agent.stop();
    expect(readFileSync(out, 'utf8').trim().split('\n')).toEqual([`up down qualified teredo ${address}| 1280 restricted`, `down up offline teredo |${address} 1280 restricted`]);
  });

  it('SIGHUP: a new default-route mode applies at once; another server starts a new qualification', async () => {
    const { agent, h, main, probe, tun } = await start({ server: '198.18.0.10' });
    answerRestricted({ main, probe });
    h.clock.advance(200);
    answerRestricted({ main, probe });
    await agent.reload(config({ server: '198.18.0.10', 'default-route': 'off' }));
    expect(tun.config.at(-1)).toEqual({ op: 'remove-route', prefix: new Uint8Array(16), prefixLength: 0, metric: 1029 });
    expect((agent.status() as ClientStatusJson).state).toBe('qualified');
    await agent.reload(config({ server: '198.18.0.20', 'default-route': 'off' }));
    const s = agent.status();
    // The configured server and its address both follow the reload (status showed the old name before).
    expect([s.state, s.address, s.server, s.serverAddress]).toEqual(['probe-primary', null, '198.18.0.20', '198.18.0.20']);
    expect(main.sent.map((d) => formatIpv4(d.to.addr))).toEqual(['198.18.0.20', '198.18.0.20']);
    await agent.stop();
  });

  it('several servers: repeated --server and a name with several addresses, tried in that order; status lists them', async () => {
    const { agent } = await start({ server: ['198.18.0.10', 'pool.example.net'], 'secondary-server': '198.18.0.12' });
    const s = agent.status() as ClientStatusJson;
    expect(s.servers).toEqual([
      { address: '198.18.0.10', secondaryAddress: '198.18.0.12', inUse: true },
      { address: '198.18.0.40', secondaryAddress: '198.18.0.41', inUse: false },
      { address: '198.18.0.50', secondaryAddress: '198.18.0.51', inUse: false },
    ]);
    expect(s.server).toBe('198.18.0.10');
    await agent.stop();
    // The JSON file's (or Miredo's ServerAddress's) single value is a list of one.
    expect(validateConfig(clientSpec, { file: { path: 'x.json', values: { server: '198.18.0.10' } } })).toMatchObject({ ok: true, config: { server: ['198.18.0.10'] } });
  });

  it('no discovery socket possible (no multicast route, port taken): runs without local discovery, with a warning', async () => {
    const { agent, log, main, probe } = await start({ server: '198.18.0.10' }, harness([], '224.0.0.253'));
    expect(log.lines.filter((l) => String(l.msg).startsWith('local discovery off'))).toHaveLength(1);
    // It still probes the server, and sends no discovery bubble to the group.
    expect(main.sent.length + probe.sent.length).toBeGreaterThan(0);
    expect([...main.sent, ...probe.sent].map((s) => formatIpv4(s.to.addr))).not.toContain('224.0.0.253');
    expect((agent.status() as ClientStatusJson).state).toBe('probe-primary');
    await agent.stop();
  });

  it('a server name that does not resolve is a start-up error naming it', async () => {
    await expect(start({ server: 'nowhere.example.net' })).rejects.toThrow(/server \("nowhere.example.net"\) does not resolve/);
  });
});
