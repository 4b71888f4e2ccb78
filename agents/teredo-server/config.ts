// teredo-server configuration, declared once for the runtime's schema loader (src/runtime/config.ts): flags
// (`--address 192.0.2.10 --mtu 1400`), a JSON file (`--config`, keys as below) and `--check-config` go through
// the same checks, and SIGHUP re-runs them before anything changes. Fields marked `live` change on SIGHUP;
// the others (addresses, sockets, forwarding device) need a restart.
//
// Defaults and where they come from:
//   secondaryAddress  primary + 1: what Windows clients assume and what Miredo defaults to (RFC 4380 §5.2.1
//                     only says "a secondary address"); another value works only with clients told about it
//   mtu               1280, RFC 4380 §5.1.2; never less (RFC 8200 §5)
//   forwardIcmpv6MaxPayload  88, Miredo's limit (src/engine/teredo/server/server-types.ts says why)
//   statsInterval     300 s between "counters" log lines, for every agent (src/runtime/host.ts; 0 turns them off)
//   udpSockets        native: the addon's batched sockets (recvmmsg/sendmmsg, DF bit clear as RFC 4380 §5.1.2
//                     asks); dgram (node:dgram) is the fallback, e.g. where the addon cannot be built
//   udpReceiveBuffer  0 = the kernel's SO_RCVBUF default (net.core.rmem_default)
//   nativeForwarding  tun when forwardInterface is set, else raw: a send-only raw IPv6 socket, as miredo-server
//                     forwards out of the box (native-forwarding.ts)

import type { DatagramImplementation } from '../../src/io/datagram-port.js';
import type { ConfigSpec } from '../../src/runtime/config.js';
import { STATS_INTERVAL_FIELD, type CommonConfig } from '../../src/runtime/host.js';
import { DEFAULT_FORWARD_ICMPV6_MAX_PAYLOAD, MIN_ADVERTISED_MTU, type TeredoServerParams } from '../../src/engine/teredo/server/server-types.js';
import { formatIpv4, isGlobalUnicast4, isUnicast4, parseIpv4 } from '../../src/wire/ipv4.js';
import { TEREDO_LINK_MTU } from '../../src/wire/teredo-constants.js';
import { NATIVE_FORWARDING_MODES, nativeForwardingMode, type NativeForwardingMode } from './native-forwarding.js';

export interface ServerAgentConfig extends CommonConfig {
  readonly address: string;
  readonly secondaryAddress: string | undefined;
  readonly mtu: number;
  readonly forwardInterface: string | undefined;
  readonly nativeForwarding: NativeForwardingMode | undefined;
  readonly forwardIcmpv6MaxPayload: number;
  readonly allowNonGlobal: boolean;
  readonly udpSockets: DatagramImplementation;
  readonly udpReceiveBuffer: number;
}

// Interface names: IFNAMSIZ - 1 = 15 bytes, no '/', ':' or whitespace (the kernel's dev_valid_name).
const IFNAME = /^[^\s/:]{1,15}$/;

export const serverSpec: ConfigSpec<ServerAgentConfig> = {
  fields: {
    address: { type: 'ipv4', required: true, description: 'primary server IPv4 address: clients send here, and it is embedded in their Teredo prefix 2001:0:<address>::/64' },
    secondaryAddress: { type: 'ipv4', description: 'secondary server IPv4 address (default: primary + 1, what Windows clients assume)' },
    mtu: { live: true, type: 'integer', default: TEREDO_LINK_MTU, min: MIN_ADVERTISED_MTU, max: 65535, description: 'link MTU advertised in the RA MTU option (RFC 4380 §5.1.2)' },
    forwardInterface: { type: 'string', description: 'TUN device to create for packets between clients and the native IPv6 network, both ways (needs CAP_NET_ADMIN); implies --native-forwarding tun' },
    nativeForwarding: { type: 'enum', values: NATIVE_FORWARDING_MODES, description: 'packets from clients to native IPv6: raw (default without --forward-interface: a send-only raw IPv6 socket, needs CAP_NET_RAW; replies come back through relays), tun (the --forward-interface device, both ways), off (dropped)' },
    forwardIcmpv6MaxPayload: { live: true, type: 'integer', default: DEFAULT_FORWARD_ICMPV6_MAX_PAYLOAD, min: 0, max: 65535, description: 'largest IPv6 payload of an ICMPv6 packet the server forwards (bubbles always pass; Miredo: 88)' },
    allowNonGlobal: { live: true, type: 'boolean', default: false, description: 'labs only: accept non-global unicast server addresses, client sources and mappings (RFC 4380 §5.2.4 forbids them)' },
    statsInterval: STATS_INTERVAL_FIELD,
    udpSockets: { type: 'enum', values: ['native', 'dgram'], default: 'native', description: 'UDP sockets: native (batched recvmmsg/sendmmsg, DF bit clear per RFC 4380 §5.1.2) or dgram (node:dgram, one system call per datagram)' },
    udpReceiveBuffer: { type: 'integer', default: 0, min: 0, max: 1 << 30, description: 'SO_RCVBUF of each UDP socket in bytes (room for bursts of RSs); 0 = the kernel default' },
  },
  check: (c) => {
    const problems: string[] = [];
    const primary = parseIpv4(c.address);
    const secondary = secondaryOf(c);
    if (secondary === primary) problems.push(`secondaryAddress (${JSON.stringify(c.secondaryAddress)}) must differ from address`);
    const usable = c.allowNonGlobal ? isUnicast4 : isGlobalUnicast4;
    for (const [key, addr] of [['address', primary], ['secondaryAddress', secondary]] as const) {
      if (usable(addr)) continue;
      problems.push(
        c.allowNonGlobal
          ? `${key} (${JSON.stringify(formatIpv4(addr))}) must be a unicast address`
          : `${key} (${JSON.stringify(formatIpv4(addr))}) is not global unicast (RFC 4380 §5.2.4); clients could not reach it. For a lab on private addresses, add --allow-non-global`,
      );
    }
    if (c.forwardInterface !== undefined && !IFNAME.test(c.forwardInterface)) {
      problems.push(`forwardInterface (${JSON.stringify(c.forwardInterface)}) must be an interface name of 1 to 15 characters without '/', ':' or spaces`);
    }
    const mode = nativeForwardingMode(c);
    if (mode === 'tun' && c.forwardInterface === undefined) problems.push('nativeForwarding ("tun") needs forwardInterface, the name of the TUN device to create');
    if (mode !== 'tun' && c.forwardInterface !== undefined) problems.push(`forwardInterface (${JSON.stringify(c.forwardInterface)}) is only used with nativeForwarding "tun", not ${JSON.stringify(mode)}`);
    return problems;
  },
};

/** The secondary address as int32: the configured one, or primary + 1 (255.255.255.255 wraps, and is refused). */
export function secondaryOf(c: ServerAgentConfig): number {
  return c.secondaryAddress !== undefined ? parseIpv4(c.secondaryAddress) : (parseIpv4(c.address) + 1) | 0;
}

/** The engine's parameters for a validated config. */
export function engineParams(c: ServerAgentConfig): TeredoServerParams {
  return {
    primary: parseIpv4(c.address),
    secondary: secondaryOf(c),
    mtu: c.mtu,
    forwardIcmpv6MaxPayload: c.forwardIcmpv6MaxPayload,
    nativeForwarding: nativeForwardingMode(c) !== 'off',
    allowNonGlobal: c.allowNonGlobal,
  };
}
