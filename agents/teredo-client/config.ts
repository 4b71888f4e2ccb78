// teredo-client configuration, declared once for the runtime's schema loader (src/runtime/config.ts): flags,
// a JSON file (`--config`) and `--check-config` go through the same checks; SIGHUP re-runs them.
//
// A Miredo client configuration (`--miredo-conf FILE`, miredo-conf.ts) supplies server, secondaryServer,
// interface, bindAddress and port where neither a flag nor the JSON file does. Defaults and their origin:
//   secondaryServer  server + 1 (what Windows and Miredo assume; RFC 4380 §5.2 only says "a secondary address")
//   interface        "teredo" (Miredo's sample configuration)
//   port             0 = a random local port (Miredo's default); set one to keep the NAT mapping across restarts
//   defaultRoute     auto = an IPv6 default route through the Teredo interface only when the host has none
//   probeTimeout / probeAttempts / refreshInterval   RFC 4380 §5.2.1 T = 4 s, N = 3; §2.15 30 s
//   backoffMax       30 s between qualification attempts at most (Miredo: 100 s; Windows: until restarted)
//   udpSockets       native: the addon's sockets, DF bit clear as RFC 4380 §5.1.2 asks (Linux sets it on UDP, and
//                    node:dgram cannot clear it); dgram is the fallback where the addon cannot be built

import { isIP } from 'node:net';
import type { DatagramImplementation } from '../../src/io/datagram-port.js';
import type { ConfigSpec } from '../../src/runtime/config.js';
import { CLIENT_DEFAULTS, type TeredoClientParams } from '../../src/engine/teredo/client/client-types.js';
import { readMiredoConf } from './miredo-conf.js';

export interface ClientAgentConfig {
  readonly server: string | undefined;
  readonly secondaryServer: string | undefined;
  readonly interface: string | undefined;
  readonly port: number | undefined;
  readonly bindAddress: string | undefined;
  readonly defaultRoute: 'auto' | 'on' | 'off';
  readonly qualification: 'fast' | 'strict';
  readonly probeTimeout: number;
  readonly probeAttempts: number;
  readonly refreshInterval: number;
  readonly backoffMax: number;
  readonly refuseSymmetric: boolean;
  readonly hook: string | undefined;
  readonly miredoConf: string | undefined;
  readonly udpSockets: DatagramImplementation;
}

export const DEFAULT_INTERFACE = 'teredo';

// Interface names: IFNAMSIZ - 1 = 15 bytes, no '/', ':' or whitespace (the kernel's dev_valid_name).
const IFNAME = /^[^\s/:]{1,15}$/;
// A host name (RFC 1123 labels) or a dotted IPv4 address.
const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export const clientSpec: ConfigSpec<ClientAgentConfig> = {
  fields: {
    server: { type: 'string', description: 'Teredo server: IPv4 address or host name (resolved at start and on SIGHUP); required unless --miredo-conf names one' },
    secondaryServer: { type: 'ipv4', description: "the server's secondary IPv4 address, used for the symmetric-NAT test (default: server + 1)" },
    interface: { type: 'string', description: `name of the TUN interface (default ${DEFAULT_INTERFACE})` },
    port: { type: 'integer', min: 0, max: 65535, description: 'local UDP port (default 0: random)' },
    bindAddress: { type: 'ipv4', description: 'local IPv4 address to send from (default: any)' },
    defaultRoute: { type: 'enum', values: ['auto', 'on', 'off'], default: 'auto', description: 'IPv6 default route through the Teredo interface: auto = only when the host has no other, on, off' },
    qualification: { type: 'enum', values: ['fast', 'strict'], default: CLIENT_DEFAULTS.qualification, description: 'fast: cone and non-cone probes together (NAT type in well under a second); strict: RFC 4380 §5.2.1 phases in turn' },
    probeTimeout: { type: 'integer', min: 100, max: 60_000, default: CLIENT_DEFAULTS.probeTimeoutMs, description: 'ms an RS waits for its RA (RFC 4380 §5.2.1 T)' },
    probeAttempts: { type: 'integer', min: 1, max: 10, default: CLIENT_DEFAULTS.probeAttempts, description: 'RSs per qualification phase (RFC 4380 §5.2.1 N)' },
    refreshInterval: { type: 'integer', min: 5, max: 3600, default: CLIENT_DEFAULTS.refreshIntervalMs / 1000, description: 'seconds; the NAT mapping is refreshed at a random 75-100 % of it (RFC 4380 §5.2.5)' },
    backoffMax: { type: 'integer', min: 1, max: 3600, default: CLIENT_DEFAULTS.backoffMaxMs / 1000, description: 'seconds; longest wait between qualification attempts while offline' },
    refuseSymmetric: { type: 'boolean', default: false, description: 'behind a symmetric NAT stay offline (strict RFC 4380) instead of bringing the address up' },
    hook: { type: 'string', description: 'program run on every state change, with STATE, OLD_STATE, IFACE, ADDRESS, OLD_ADDRESS, MTU, NAT in its environment (like Miredo\'s client hook)' },
    miredoConf: { type: 'string', description: 'read ServerAddress, ServerAddress2, InterfaceName, BindAddress, BindPort from a Miredo client configuration' },
    udpSockets: { type: 'enum', values: ['native', 'dgram'], default: 'native', description: 'UDP sockets: native (the addon: DF bit clear per RFC 4380 §5.1.2, batched) or dgram (node:dgram, DF set by Linux)' },
  },
  check: (c) => resolveSettings(c).problems,
};

/** What the agent runs with once the Miredo configuration (if any) has filled the gaps. */
export interface ClientSettings {
  readonly server: string;
  readonly secondaryServer: string | undefined;
  readonly interface: string;
  readonly port: number;
  readonly bindAddress: string | undefined;
  /** Miredo directives read but without meaning here (for a log line). */
  readonly ignoredMiredoDirectives: readonly string[];
}

export function resolveSettings(c: ClientAgentConfig): { settings: ClientSettings; problems: string[] } {
  const problems: string[] = [];
  const m = c.miredoConf === undefined ? undefined : readMiredoConf(c.miredoConf);
  if (m) problems.push(...m.problems);
  const server = c.server ?? m?.conf.server;
  const settings: ClientSettings = {
    server: server ?? '',
    secondaryServer: c.secondaryServer ?? m?.conf.secondaryServer,
    interface: c.interface ?? m?.conf.interface ?? DEFAULT_INTERFACE,
    port: c.port ?? m?.conf.port ?? 0,
    bindAddress: c.bindAddress ?? m?.conf.bindAddress,
    ignoredMiredoDirectives: m?.conf.ignored ?? [],
  };
  if (server === undefined) problems.push('server is required (--server, the JSON file, or ServerAddress in --miredo-conf)');
  else if (!HOSTNAME.test(server)) problems.push(`server (${JSON.stringify(server)}) must be an IPv4 address or a host name`);
  if (settings.secondaryServer !== undefined && isIP(settings.secondaryServer) !== 4) problems.push(`secondaryServer (${JSON.stringify(settings.secondaryServer)}) must be an IPv4 address`);
  if (settings.bindAddress !== undefined && isIP(settings.bindAddress) !== 4) problems.push(`bindAddress (${JSON.stringify(settings.bindAddress)}) must be an IPv4 address`);
  if (!IFNAME.test(settings.interface)) problems.push(`interface (${JSON.stringify(settings.interface)}) must be an interface name of 1 to 15 characters without '/', ':' or spaces`);
  return { settings, problems };
}

/** The engine's parameters, given the resolved server addresses. */
export function engineParams(c: ClientAgentConfig, primary: number, secondary: number | undefined): TeredoClientParams {
  return {
    primary,
    ...(secondary !== undefined ? { secondary } : {}),
    qualification: c.qualification,
    probeTimeoutMs: c.probeTimeout,
    probeAttempts: c.probeAttempts,
    refreshIntervalMs: c.refreshInterval * 1000,
    backoffMaxMs: c.backoffMax * 1000,
    refuseSymmetric: c.refuseSymmetric,
  };
}
