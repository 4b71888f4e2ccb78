// teredo-client configuration, declared once for the runtime's schema loader (src/runtime/config.ts): flags,
// a JSON file (`--config`) and `--check-config` go through the same checks; SIGHUP re-runs them.
//
// A Miredo client configuration (`--miredo-conf FILE`, miredo-conf.ts) can take the JSON file's place; flags
// override it. Fields marked `live` change on SIGHUP (a new server re-qualifies); interface, port, bind address
// and socket kind need a restart. Defaults and their origin:
//   server           one or more (--server A --server B, or a name with several A records): the first is preferred,
//                    the others are fallbacks in order (the engine falls over when one stops answering)
//   secondaryServer  the first server + 1 (what Windows and Miredo assume; RFC 4380 §5.2 only says "a secondary
//                    address"); every fallback's secondary is its address + 1
//   interface        "teredo" (Miredo's sample configuration)
//   port             0 = a random local port (Miredo's default); set one to keep the NAT mapping across restarts
//   defaultRoute     auto = an IPv6 default route through the Teredo interface only when the host has none
//   probeTimeout / probeAttempts / refreshInterval   RFC 4380 §5.2.1 T = 4 s, N = 3; §2.15 30 s
//   backoffMax       30 s between qualification attempts at most (Miredo: 100 s; Windows: until restarted)
//   localDiscovery   on: RFC 4380 §5.2.8 multicast bubbles on the LAN (Windows does it; Miredo 1.3 only when
//                    configured: its LocalDiscovery directive maps here)
//   portMapping      auto: ask the NAT for a mapping of the Teredo port by PCP, NAT-PMP where PCP is not spoken, then
//                    UPnP IGD (port-mapping.ts),
//                    as Windows' Teredo client does by UPnP: a restricted NAT then qualifies as cone and peers behind
//                    any NAT reach us; qualification waits for PCP / NAT-PMP's answer only (<= 300 ms; a later mapping qualifies again). off: never
//   portMappingLifetime  3600 s asked for (RFC 6886 §3.3 recommends 7200 s; UPnP IGDs here get at least 3600 s; a PCP
//                    server may grant less, RFC 6887 §15)
//   hairpinning      on: RFC 6081 §5.6 (Windows does it; Miredo does not: it ignores the trailer)
//   serverLoadReduction  on: RFC 6081 §5.7 (Windows does it; Miredo ignores the trailer, and a 2 s wait falls back)
//   portPreserving   on: RFC 6081 §5.4 (Windows does it; Miredo ignores the trailer: its bubbles to our mapping
//                    still meet ours as without it)
//   udpSockets       native: the addon's sockets, DF bit clear as RFC 4380 §5.1.2 asks (Linux sets it on UDP, and
//                    node:dgram cannot clear it); dgram is the fallback where the addon cannot be built

import type { DatagramImplementation } from '../../src/io/datagram-port.js';
import type { ConfigSpec } from '../../src/runtime/config.js';
import { STATS_INTERVAL_FIELD, type CommonConfig } from '../../src/runtime/host.js';
import { CLIENT_DEFAULTS, type PortMappingEndpoint, type TeredoClientParams } from '../../src/engine/teredo/client/client-types.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { PORT_MAPPING_MODES, type PortMappingMode } from './port-mapping.js';

export interface ClientAgentConfig extends CommonConfig {
  readonly server: readonly string[];
  readonly secondaryServer: string | undefined;
  readonly interface: string;
  readonly port: number;
  readonly bindAddress: string | undefined;
  readonly defaultRoute: 'auto' | 'on' | 'off';
  readonly qualification: 'fast' | 'strict';
  readonly probeTimeout: number;
  readonly probeAttempts: number;
  readonly refreshInterval: number;
  readonly backoffMax: number;
  readonly preferredRetry: number;
  readonly refuseSymmetric: boolean;
  readonly hook: string | undefined;
  readonly udpSockets: DatagramImplementation;
  readonly localDiscovery: 'on' | 'off';
  readonly portMapping: PortMappingMode;
  readonly portMappingLifetime: number;
  readonly hairpinning: 'on' | 'off';
  readonly serverLoadReduction: 'on' | 'off';
  readonly portPreserving: 'on' | 'off';
}

export const DEFAULT_INTERFACE = 'teredo';

// Interface names: IFNAMSIZ - 1 = 15 bytes, no '/', ':' or whitespace (the kernel's dev_valid_name).
const IFNAME = /^[^\s/:]{1,15}$/;
// A host name (RFC 1123 labels) or a dotted IPv4 address.
const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export const clientSpec: ConfigSpec<ClientAgentConfig> = {
  fields: {
    server: { live: true, type: 'list', default: [], description: 'Teredo server: IPv4 address or host name (resolved at start and on SIGHUP); repeat for fallbacks, tried in order when one stops answering (a name with several addresses gives one server each); required unless --miredo-conf names one' },
    secondaryServer: { live: true, type: 'ipv4', description: "the first server's secondary IPv4 address, used for the symmetric-NAT test (default: that server + 1)" },
    interface: { type: 'string', default: DEFAULT_INTERFACE, description: 'name of the TUN interface' },
    port: { type: 'integer', default: 0, min: 0, max: 65535, description: 'local UDP port (0: random)' },
    bindAddress: { type: 'ipv4', description: 'local IPv4 address to send from (default: any)' },
    defaultRoute: { live: true, type: 'enum', values: ['auto', 'on', 'off'], default: 'auto', description: 'IPv6 default route through the Teredo interface: auto = only when the host has no other, on, off' },
    qualification: { live: true, type: 'enum', values: ['fast', 'strict'], default: CLIENT_DEFAULTS.qualification, description: 'fast: cone and non-cone probes together (NAT type in well under a second); strict: RFC 4380 §5.2.1 phases in turn' },
    probeTimeout: { live: true, type: 'integer', min: 100, max: 60_000, default: CLIENT_DEFAULTS.probeTimeoutMs, description: 'ms an RS waits for its RA (RFC 4380 §5.2.1 T)' },
    probeAttempts: { live: true, type: 'integer', min: 1, max: 10, default: CLIENT_DEFAULTS.probeAttempts, description: 'RSs per qualification phase (RFC 4380 §5.2.1 N)' },
    refreshInterval: { live: true, type: 'integer', min: 5, max: 3600, default: CLIENT_DEFAULTS.refreshIntervalMs / 1000, description: 'seconds; the NAT mapping is refreshed at a random 75-100 % of it (RFC 4380 §5.2.5)' },
    backoffMax: { live: true, type: 'integer', min: 1, max: 3600, default: CLIENT_DEFAULTS.backoffMaxMs / 1000, description: 'seconds; longest wait between qualification attempts while offline' },
    preferredRetry: { live: true, type: 'integer', min: 1, max: 86_400, default: CLIENT_DEFAULTS.preferredRetryMs / 1000, description: 'seconds; while on a fallback server, how often to ask the first server whether it is back' },
    refuseSymmetric: { live: true, type: 'boolean', default: false, description: 'behind a symmetric NAT stay offline (strict RFC 4380) instead of bringing the address up' },
    hook: { live: true, type: 'string', description: 'program run on every state change, with STATE, OLD_STATE, IFACE, ADDRESS, OLD_ADDRESS, MTU, NAT in its environment (like Miredo\'s client hook)' },
    statsInterval: STATS_INTERVAL_FIELD,
    localDiscovery: { type: 'enum', values: ['on', 'off'], default: 'on', description: 'local client discovery (RFC 4380 §5.2.8): multicast bubbles to 224.0.0.253:3544 find Teredo clients on the LAN, reached directly (two clients behind a NAT that does not hairpin); needs a restart' },
    portMapping: { live: true, type: 'enum', values: PORT_MAPPING_MODES, default: 'auto', description: 'map the Teredo UDP port on the NAT: auto (PCP, NAT-PMP where PCP is not spoken, then UPnP IGD), pcp, nat-pmp, upnp, or off; a mapped port makes a NAT that keeps ports a cone for Teredo; deleted on stop' },
    portMappingLifetime: { type: 'integer', min: 120, max: 86_400, default: 3600, description: 'seconds of port mapping lifetime asked for; renewed halfway (RFC 6886 §3.3, RFC 6887 §11.2.1); needs a restart' },
    hairpinning: { live: true, type: 'enum', values: ['on', 'off'], default: 'on', description: 'RFC 6081 hairpinning extension: bubbles to Teredo clients behind our own NAT carry our local address (Alternate Address trailer), and theirs are tried, so two clients behind a NAT that does not hairpin reach each other without local discovery' },
    portPreserving: { live: true, type: 'enum', values: ['on', 'off'], default: 'on', description: 'RFC 6081 port-preserving symmetric NAT extension: behind a symmetric NAT that keeps a new socket\'s port, each Teredo peer is bubbled from a socket of its own (a pool of 8) whose port it is told in a Random Port trailer, so peers behind port-restricted NATs are reached' },
    serverLoadReduction: { live: true, type: 'enum', values: ['on', 'off'], default: 'on', description: 'RFC 6081 server load reduction extension: a Teredo peer trusted at a mapping but not heard for 30 s is asked there first, with a direct bubble carrying a Neighbor Discovery Option trailer (solicitation), and only after 2 s without an advertisement through its server; solicitations from peers are answered' },
    udpSockets: { type: 'enum', values: ['native', 'dgram'], default: 'native', description: 'UDP sockets: native (the addon: DF bit clear per RFC 4380 §5.1.2, batched) or dgram (node:dgram, DF set by Linux)' },
  },
  check: clientProblems,
};

/** Cross-field rules and the server's form (a name is resolved at start and on SIGHUP). */
function clientProblems(c: ClientAgentConfig): string[] {
  const problems: string[] = [];
  if (c.server.length === 0) problems.push('server is required (--server, the JSON file, or ServerAddress in --miredo-conf)');
  for (const name of c.server) if (!HOSTNAME.test(name)) problems.push(`server (${JSON.stringify(name)}) must be an IPv4 address or a host name`);
  if (!IFNAME.test(c.interface)) problems.push(`interface (${JSON.stringify(c.interface)}) must be an interface name of 1 to 15 characters without '/', ':' or spaces`);
  return problems;
}

/**
 * The local ports of the client's two sockets (for the engine's port-preservation report) and of its pool, and the local address
 * toward the server (int32; 0 unknown), announced to peers behind our NAT (RFC 6081 §5.6).
 */
export interface LocalPorts {
  readonly localPort: number;
  readonly probeLocalPort: number;
  readonly localAddress?: number;
  /** The local ports of the RFC 6081 §5.4 pool sockets (client-pps.ts). */
  readonly portPreservingPorts?: readonly number[];
}

/**
 * The engine's parameters, given the servers' resolved IPv4 addresses in order (uint32 or int32; at least one):
 * the first with `secondaryServer`, the others as fallbacks; `portMapping`: the gateway's mapping of the Teredo port (RFC 6081 §5.3).
 */
export function engineParams(c: ClientAgentConfig, servers: readonly number[], ports: LocalPorts, portMapping?: PortMappingEndpoint): TeredoClientParams {
  return {
    ...(portMapping !== undefined ? { portMapping } : {}),
    primary: servers[0]!,
    ...(c.secondaryServer !== undefined ? { secondary: parseIpv4(c.secondaryServer) } : {}),
    fallbacks: servers.slice(1).map((primary) => ({ primary })),
    ...ports,
    qualification: c.qualification,
    probeTimeoutMs: c.probeTimeout,
    probeAttempts: c.probeAttempts,
    refreshIntervalMs: c.refreshInterval * 1000,
    backoffMaxMs: c.backoffMax * 1000,
    preferredRetryMs: c.preferredRetry * 1000,
    refuseSymmetric: c.refuseSymmetric,
    localDiscovery: c.localDiscovery === 'on',
    hairpinning: c.hairpinning === 'on',
    serverLoadReduction: c.serverLoadReduction === 'on',
    portPreserving: c.portPreserving === 'on',
  };
}
