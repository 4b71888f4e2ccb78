// teredo-client declared for the agent host (src/runtime/host.ts): the sans-I/O TeredoClient engine
// (src/engine/teredo/client/client.ts) fed by the client's Teredo port, a probe port, and the Teredo TUN interface.
//
//   UDP port batch ──► engine.datagrams ─────┬─► sink.sendUdp / sendProbe ─► UDP ports
//   probe port batch ► engine.probeDatagram ─┤   (the probe port: the cone RS only; client/client.ts)
//   pool port batch ─► engine.poolDatagram ──┤─► sink.sendUdpFrom (RFC 6081 §5.4: a port per peer, client-pps.ts)
//   discovery port ──► engine.discoveryDatagram (224.0.0.253:3544, RFC 4380 §5.2.8; --local-discovery on)
//   TUN batch ───────► engine.packets ───────┼─► sink.writeTun ─► TUN device
//   timer ───────────► handleTimeout ────────┼─► sink.addressChanged ─► interface.ts (address, routes)
//                                            └─► sink.stateChanged ───► log line + hook.ts
//
// What is the client's own: the server name resolved to IPv4 at start and on SIGHUP (a name that does not
// resolve is CONFIG_INVALID), the interface's address and routes, and the hook. SIGHUP: the `live` fields
// (config.ts) change in place; another server (or the name resolving elsewhere) re-qualifies.

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { TeredoClient } from '../../src/engine/teredo/client/client.js';
import type { ClientSink, ClientState, PortMappingEndpoint } from '../../src/engine/teredo/client/client-types.js';
import type { AgentDefinition } from '../../src/runtime/cli.js';
import { AgentError } from '../../src/runtime/errors.js';
import type { Host } from '../../src/runtime/host.js';
import type { DatagramPort } from '../../src/io/ports.js';
import { localAddressToward } from '../../src/io/local-address.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import { formatIpv6 } from '../../src/wire/ipv6-address.js';
import { TEREDO_LINK_MTU, TEREDO_PORT } from '../../src/wire/teredo-constants.js';
import { TEREDO_DISCOVERY_ADDRESS } from '../../src/engine/teredo/client/client-local.js';
import { clientSpec, engineParams, type ClientAgentConfig } from './config.js';
import { HookRunner } from './hook.js';
import { removeStaleAddresses, TeredoInterface } from './interface.js';
import { miredoClientImport } from './miredo-conf.js';
import { AGENT_NAME, formatClientStatus, type ClientStatus } from './status.js';
import { clientStatus } from './status-data.js';
import { teredoClientMetrics } from './metrics.js';
import { PortMapping } from './port-mapping.js';
import type { PortMapperFactory } from '../../src/io/port-mapper.js';
import { natPortMapper } from '../../src/io/port-mapper-nat.js';


/** The longest the start waits for PCP / NAT-PMP's answer before qualifying, ms (a gateway that drops port 5351). */
export const PORT_MAPPING_WAIT_MS = 300;

/** Resolves a server name to its IPv4 addresses (uint32, in the resolver's order); the client test swaps it for a table. */
export type ServerResolver = (name: string) => Promise<number[]>;

/**
 * Sockets of the RFC 6081 §5.4 pool (client-pps.ts): peers reached at once from behind a port-preserving symmetric
 * NAT. A host talks to few Teredo peers at a time; each socket is a file descriptor, opened at start whatever the
 * NAT (the engine uses them only behind such a NAT).
 */
const PORT_PRESERVING_POOL = 8;

const dnsResolve: ServerResolver = async (name) => (await lookup(name, { family: 4, all: true })).map((a) => parseIpv4(a.address));

/**
 * The servers' IPv4 addresses for `c`, in order: each configured server, a name contributing every address it
 * resolves to (duplicates dropped); CONFIG_INVALID naming the first that does not resolve.
 */
async function resolveServers(c: ClientAgentConfig, resolve: ServerResolver): Promise<number[]> {
  const out: number[] = [];
  for (const name of c.server) {
    let addrs: number[];
    try {
      addrs = isIP(name) === 4 ? [parseIpv4(name)] : await resolve(name);
      if (addrs.length === 0) throw new Error('no IPv4 address');
    } catch (err) {
      throw new AgentError('CONFIG_INVALID', `server (${JSON.stringify(name)}) does not resolve to an IPv4 address: ${(err as Error).message}`, { cause: err });
    }
    for (const a of addrs) if (!out.includes(a >>> 0)) out.push(a >>> 0);
  }
  return out;
}

/**
 * The local-discovery socket: bound to 224.0.0.253:3544 and joined to it on `bind`'s interface (0: the kernel's
 * choice). A host where that cannot be (no multicast route, as in a namespace without a default route; the port
 * taken without SO_REUSEADDR) runs without local discovery, with a warning, rather than not at all.
 */
async function openDiscovery(host: Host<ClientAgentConfig>, bind: number): Promise<DatagramPort | undefined> {
  let port: DatagramPort | undefined;
  try {
    port = await host.udp('discovery', { address: TEREDO_DISCOVERY_ADDRESS, port: TEREDO_PORT, reuseAddr: true, implementation: host.config.udpSockets });
    port.joinGroup(TEREDO_DISCOVERY_ADDRESS, bind);
    return port;
  } catch (err) {
    void port?.close();
    host.logger.warn({ error: (err as Error).message }, 'local discovery off: no socket for 224.0.0.253:3544 on this host (RFC 4380 §5.2.8)');
    return undefined;
  }
}

const hookState = (s: ClientState): 'up' | 'down' => (s === 'qualified' ? 'up' : 'down');

/** The client's own seam beside the host's: name resolution. */
export interface ClientSeams {
  readonly resolve?: ServerResolver;
  readonly portMapper?: PortMapperFactory;
}

export async function setupClient(host: Host<ClientAgentConfig>, seams: ClientSeams = {}) {
  const resolve = seams.resolve ?? dnsResolve;
  const c = host.config;
  const logger = host.logger;
  const servers = await resolveServers(c, resolve);
  const bind = c.bindAddress === undefined ? 0 : parseIpv4(c.bindAddress);
  const udp = await host.udp('udp', { address: bind, port: c.port, implementation: c.udpSockets });
  const probe = await host.udp('probe', { address: bind, port: 0, implementation: c.udpSockets });
  // Local discovery (client-local.ts): a socket bound to the group itself, so it gets the discovery bubbles of
  // the link and nothing else on port 3544 (SO_REUSEADDR: several clients or a server on one host). Our own
  // bubbles leave from the Teredo socket, on the interface of `bind` when one is set.
  const discovery = c.localDiscovery === 'on' ? await openDiscovery(host, bind) : undefined;
  if (discovery !== undefined && bind !== 0) udp.setMulticastInterface(bind);
  const pool: DatagramPort[] = [];
  for (let i = 0; i < PORT_PRESERVING_POOL; i++) pool.push(await host.udp(`peer-${i}`, { address: bind, port: 0, implementation: c.udpSockets }));
  // Without the socket the engine sends no discovery bubbles either (whatever a reload says: it needs a restart).
  const discoveryOff = (x: ClientAgentConfig): ClientAgentConfig => (discovery === undefined ? { ...x, localDiscovery: 'off' } : x);
  // The address announced to peers behind our NAT (RFC 6081 §5.6): the bound one, or the kernel's source toward
  // the first server (found once, at start).
  const localAddress = bind !== 0 ? bind : await localAddressToward(servers[0]!, TEREDO_PORT);
  const ports = { localPort: udp.local.port, probeLocalPort: probe.local.port, localAddress, portPreservingPorts: pool.map((p) => p.local.port) };
  // Qualify again when a mapping comes or goes (it changes what the server's cone test sees, and behind a
  // symmetric NAT the address embeds it: RFC 6081 §5.3, client.ts); not while stopping.
  let stopping = false;
  let requalify = (): void => undefined;
  const portMapping = new PortMapping({
    mode: c.portMapping,
    internalPort: udp.local.port,
    lifetimeSec: c.portMappingLifetime,
    factory: seams.portMapper ?? natPortMapper,
    onChange: () => {
      if (!stopping) requalify();
    },
    log: (level, fields, message) => logger[level](fields, message),
  });
  // Qualification waits for PCP / NAT-PMP's answer (a round trip to the gateway, or its ICMP refusal at once
  // behind a NAT without them), at most PORT_MAPPING_WAIT_MS; not for UPnP's search, which only a silence ends.
  // A mapping that comes later (UPnP) makes the client qualify again.
  void portMapping.start();
  await Promise.race([portMapping.firstChainDone, new Promise((r) => setTimeout(r, PORT_MAPPING_WAIT_MS).unref())]);
  // The gateway's mapping of the Teredo port, as the engine takes it (RFC 6081 §5.3).
  const gatewayMapping = (): PortMappingEndpoint | undefined => {
    const l = portMapping.lease;
    return l === undefined ? undefined : { addr: parseIpv4(l.externalAddress), port: l.externalPort };
  };
  const params = (x: ClientAgentConfig, resolved: readonly number[]) => engineParams(discoveryOff(x), resolved, ports, gatewayMapping());
  const engine = new TeredoClient(params(c, servers), host.random);
  const tun = host.tun('tun', { name: c.interface, mtu: TEREDO_LINK_MTU });
  removeStaleAddresses(tun, host.facts);
  const iface = new TeredoInterface(tun, c.defaultRoute, logger, host.facts);
  const hook = new HookRunner(c.hook, logger);

  const runHook = (state: ClientState, previous: ClientState, oldAddress: Uint8Array | undefined): void => {
    const a = engine.address;
    hook.fire({ state: hookState(state), oldState: hookState(previous), clientState: state, iface: tun.name, address: a ? formatIpv6(a) : '', oldAddress: oldAddress ? formatIpv6(oldAddress) : '', mtu: iface.mtu, nat: engine.nat });
  };
  // The address removed by the last addressChanged, for the OLD_ADDRESS of the state change that follows.
  let removed: Uint8Array | undefined;
  const driver = host.drive<ClientSink>(
    engine,
    (drop) => ({
      drop,
      sendUdp: (data, offset, length, addr, p) => udp.send(data, offset, length, addr, p),
      sendUdpFrom: (socket, data, offset, length, addr, p) => pool[socket]!.send(data, offset, length, addr, p),
      sendProbe: (data, offset, length, addr, p) => probe.send(data, offset, length, addr, p),
      writeTun: (data, offset, length) => void tun.write(data, offset, length),
      addressChanged: (previous, current) => {
        iface.change(previous, current);
        removed = previous?.slice();
        if (previous !== undefined && current !== undefined) {
          // A new mapping while qualified (RFC 4380 §5.2.5): no state change, but the address did change.
          logger.info({ address: formatIpv6(current), previous: formatIpv6(previous) }, 'address changed');
          runHook('qualified', 'qualified', previous);
        }
      },
      stateChanged: (state, previous) => {
        const s = engine.snapshot(host.clock.now());
        const fields = {
          state,
          previous,
          nat: s.nat,
          address: s.address ? formatIpv6(s.address) : null,
          mapped: s.mappedAddr !== undefined ? `${formatIpv4(s.mappedAddr)}:${s.mappedPort}` : null,
          qualificationMs: state === 'qualified' ? s.qualificationMs : undefined,
          errorCode: s.errorCode,
          error: s.error,
          server: formatIpv4(s.primary),
        };
        if (state === 'qualified' || state === 'offline') logger.info(fields, 'state');
        else logger.debug(fields, 'state');
        if (hookState(state) !== hookState(previous)) runHook(state, previous, removed);
        removed = undefined;
      },
    }),
    [
      // Whole batches: the engine checks what consecutive packets of a superframe share once (client.ts).
      { from: udp, datagrams: (b, now, s) => engine.datagrams(b, now, s) },
      { from: probe, datagram: (d, o, l, a, p, now, s) => engine.probeDatagram(d, o, l, a, p, now, s) },
      ...pool.map((from, i) => ({ from, datagram: (d: Uint8Array, o: number, l: number, a: number, p: number, now: number, s: ClientSink) => engine.poolDatagram(i, d, o, l, a, p, now, s) })),
      ...(discovery === undefined ? [] : [{ from: discovery, datagram: engine.discoveryDatagram.bind(engine) }]),
      { from: tun, packets: (b, now, s) => engine.packets(b, now, s) },
    ],
  );
  driver.batch((_: undefined, now, s) => engine.start(now, s), undefined);
  requalify = () => {
    logger.info({ portMapping: portMapping.status().state }, 'port mapping changed: qualifying again');
    driver.batch((_: undefined, now, s) => {
      engine.setPortMapping(gatewayMapping());
      engine.stop(now, s);
      engine.start(now, s);
    }, undefined);
  };
  logger.info({ server: c.server, primary: formatIpv4(engine.config.primary), secondary: formatIpv4(engine.config.secondary), fallbacks: engine.config.fallbacks.map((f) => formatIpv4(f.primary)), local: `${formatIpv4(udp.local.addr)}:${udp.local.port}`, interface: tun.name, qualification: c.qualification, defaultRoute: c.defaultRoute }, 'client running');

  return {
    reload: async (next: ClientAgentConfig) => {
      const resolved = await resolveServers(next, resolve);
      hook.setCommand(next.hook);
      iface.setMode(next.defaultRoute);
      driver.batch((_: undefined, now, s) => engine.reconfigure(params(next, resolved), now, s), undefined);
      await portMapping.setMode(next.portMapping);
    },
    stop: async () => {
      stopping = true;
      await portMapping.stop();
      driver.batch((_: undefined, now, s) => engine.stop(now, s), undefined);
      iface.clear();
      await hook.drain();
    },
    status: (): ClientStatus => ({
      ...clientStatus({
        snapshot: engine.snapshot(host.clock.now()),
        serverNames: host.config.server,
        local: udp.local,
        interfaceName: tun.name,
        mtu: iface.mtu,
        defaultRoute: iface.hasDefaultRoute,
        qualification: host.config.qualification,
        portPreservingPool: host.config.portPreserving === 'on' ? pool.length : 0,
      }),
      portMapping: portMapping.status(),
      peers: engine.peerSummary(),
      hook: host.config.hook === undefined ? null : { command: host.config.hook, ...hook.counters },
    }),
  };
}

export const teredoClient: AgentDefinition<ClientAgentConfig, ClientStatus> = {
  name: AGENT_NAME,
  description:
    'Teredo client (RFC 4380 §5.2): qualifies with a Teredo server, detecting the NAT type (cone, restricted, symmetric) in well under a second, ' +
    'and brings up a TUN interface with the Teredo address so ordinary IPv6 tools work. Also: `status [--json]`, ' +
    '`decode <ipv6>` and `encode --server A --mapped-ip B --mapped-port N` for Teredo addresses.',
  config: clientSpec,
  imports: [miredoClientImport],
  setup: (host) => setupClient(host),
  formatStatus: formatClientStatus,
  metrics: teredoClientMetrics,
};
