// teredo-relay configuration, declared once for the runtime's schema loader (src/runtime/config.ts): flags
// (`--interface teredo --bind 192.0.2.20`), a JSON file (`--config`, keys as below), a Miredo relay file
// (`--miredo-conf`, miredo-conf.ts), `--check-config` and SIGHUP all go through these checks. Fields marked
// `live` change on SIGHUP; the others (socket, device, table bounds) need a restart.
//
// Defaults and where they come from:
//   interface     "teredo": Miredo's sample config (its built-in default is "miredo")
//   bind / port   0.0.0.0:3545. Miredo binds a random port; a fixed one means clients that trust the relay's
//                 mapping keep reaching it across a restart (RFC 4380 §5.2.4: they send to the mapping they
//                 learnt). 3545 is next to the Teredo port and is not 3544, which clients treat as a server's
//   mtu           1280, RFC 4380 §5.1.2 (the TUN device's MTU)
//   maxPeers      1,048,576, Miredo's bound; queueBytes / maxQueuedBytes: src/engine/teredo/peers/peer-table.ts
//   honorConeBit  false: RFC 5991 and Miredo ignore the cone bit
//   acceptUnknownPeers  true: see src/engine/teredo/relay/relay-types.ts (Miredo: false)
//   icmpv6Rate    10 per second, Miredo's ICMP_RATE_LIMIT_MS 100
//   icmpv6Source  the host's first global IPv6 address outside 2001::/32 (ICMPv6 errors need a source)

import type { DatagramImplementation } from '../../src/io/datagram-port.js';
import { DEFAULT_MAX_PEERS, DEFAULT_MAX_QUEUED_BYTES, DEFAULT_QUEUE_BYTES } from '../../src/engine/teredo/peers/peer-table.js';
import { DEFAULT_NEW_PEERS_PER_PREFIX, DEFAULT_UNANSWERED_RATE, type TeredoRelayParams } from '../../src/engine/teredo/relay/relay-types.js';
import type { Random } from '../../src/engine/types.js';
import type { ConfigSpec } from '../../src/runtime/config.js';
import { STATS_INTERVAL_FIELD, type CommonConfig } from '../../src/runtime/host.js';
import { isGlobalUnicast6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { formatIpv4, isGlobalUnicast4, isUnicast4, parseIpv4 } from '../../src/wire/ipv4.js';
import { isTeredo } from '../../src/wire/teredo-address.js';
import { TEREDO_LINK_MTU, TEREDO_PORT } from '../../src/wire/teredo-constants.js';

export interface RelayAgentConfig extends CommonConfig {
  readonly interface: string;
  readonly bind: string;
  readonly port: number;
  readonly mtu: number;
  readonly maxPeers: number;
  readonly queueBytes: number;
  readonly maxQueuedBytes: number;
  readonly honorConeBit: boolean;
  readonly directBubbles: boolean;
  readonly acceptUnknownPeers: boolean;
  readonly icmpv6Source: string | undefined;
  readonly icmpv6Rate: number;
  readonly unansweredRate: number;
  readonly newPeersPerPrefix: number;
  readonly allowNonGlobal: boolean;
  readonly udpSockets: DatagramImplementation;
  readonly udpReceiveBuffer: number;
}

export const DEFAULT_RELAY_PORT = 3545;
export const DEFAULT_INTERFACE = 'teredo';

// IFNAMSIZ - 1 = 15 bytes, no '/', ':' or whitespace (the kernel's dev_valid_name).
const IFNAME = /^[^\s/:]{1,15}$/;

export const relaySpec: ConfigSpec<RelayAgentConfig> = {
  fields: {
    interface: { type: 'string', default: DEFAULT_INTERFACE, description: 'TUN device to create; 2001::/32 is routed into it' },
    bind: { type: 'ipv4', default: '0.0.0.0', description: 'IPv4 address of the UDP socket Teredo clients reach the relay on' },
    port: { type: 'integer', default: DEFAULT_RELAY_PORT, min: 0, max: 65535, description: 'UDP port (0: the kernel chooses, as Miredo does; a fixed port survives restarts)' },
    mtu: { type: 'integer', default: TEREDO_LINK_MTU, min: 1280, max: 65535, description: 'MTU of the TUN device (RFC 4380 §5.1.2: 1280)' },
    maxPeers: { type: 'integer', default: DEFAULT_MAX_PEERS, min: 1, max: 2 ** 26, description: 'peer table bound; when full the least recently used untrusted peer is evicted' },
    queueBytes: { type: 'integer', default: DEFAULT_QUEUE_BYTES, min: 0, max: 65535, description: 'bytes queued per peer while its bubble is unanswered (0: no queue)' },
    maxQueuedBytes: { type: 'integer', default: DEFAULT_MAX_QUEUED_BYTES, min: 0, max: 2 ** 32, description: 'bytes queued for all peers together' },
    honorConeBit: { live: true, type: 'boolean', default: false, description: 'send at once to peers whose address has the cone bit (RFC 4380 §5.4.1 case 2; RFC 5991 advises against)' },
    directBubbles: { live: true, type: 'boolean', default: false, description: 'also bubble peers directly, for a relay behind a restricted NAT (Miredo RelayType restricted)' },
    acceptUnknownPeers: { live: true, type: 'boolean', default: true, description: 'accept packets from Teredo clients not in the peer table when their address embeds the UDP source (RFC 4380 §5.4.2 MAY discard them)' },
    icmpv6Source: { live: true, type: 'ipv6', description: 'source address of ICMPv6 errors to native hosts (default: the first global IPv6 address of this host outside 2001::/32)' },
    icmpv6Rate: { live: true, type: 'integer', default: 10, min: 0, max: 1_000_000, description: 'ICMPv6 errors per second at most (0: none)' },
    newPeersPerPrefix: { live: true, type: 'integer', default: DEFAULT_NEW_PEERS_PER_PREFIX, min: 0, max: 100_000_000, description: 'new Teredo peers per second (and burst) that one native source /64 may make the relay queue and bubble for (issue 17: a native-side flood)' },
    unansweredRate: { live: true, type: 'integer', default: DEFAULT_UNANSWERED_RATE, min: 0, max: 100_000_000, description: 'datagrams per second (and burst) relayed for peers trusted on their address alone until the native side answers them, new peers included (issue 17: a flood of forged peers)' },
    allowNonGlobal: { live: true, type: 'boolean', default: false, description: 'labs only: accept non-global unicast IPv4 where RFC 4380 §5.2.4 asks for global ones' },
    statsInterval: STATS_INTERVAL_FIELD,
    udpSockets: { type: 'enum', values: ['native', 'dgram'], default: 'native', description: 'UDP socket: native (batched recvmmsg/sendmmsg) or dgram (node:dgram)' },
    udpReceiveBuffer: { type: 'integer', default: 4 * 1024 * 1024, min: 0, max: 1 << 30, description: 'SO_RCVBUF in bytes (room for ~0.1 s of a 56k/s flood while the process is not scheduled); 0 = the kernel default' },
  },
  check: (c) => {
    const problems: string[] = [];
    if (!IFNAME.test(c.interface)) problems.push(`interface (${JSON.stringify(c.interface)}) must be an interface name of 1 to 15 characters without '/', ':' or spaces`);
    const bind = parseIpv4(c.bind);
    if (bind !== 0 && !(c.allowNonGlobal ? isUnicast4 : isGlobalUnicast4)(bind)) {
      problems.push(`bind (${JSON.stringify(formatIpv4(bind))}) is not global unicast (RFC 4380 §5.2.4): clients could not reach it. For a lab, add --allow-non-global`);
    }
    if (c.port === TEREDO_PORT) problems.push(`port (${TEREDO_PORT}) is the Teredo server port; clients treat datagrams from it as their server's`);
    if (c.icmpv6Source !== undefined) {
      const a = parseIpv6(c.icmpv6Source);
      if (!isGlobalUnicast6(a) || isTeredo(a)) problems.push(`icmpv6Source (${JSON.stringify(c.icmpv6Source)}) must be a global unicast address outside 2001::/32`);
    }
    return problems;
  },
};

/** The engine's parameters for a validated config; `icmpv6Source` is the resolved source (or none). */
export function engineParams(c: RelayAgentConfig, random: Random, icmpv6Source: Uint8Array | undefined): TeredoRelayParams {
  return {
    random,
    maxPeers: c.maxPeers,
    queueBytes: c.queueBytes,
    maxQueuedBytes: c.maxQueuedBytes,
    honorConeBit: c.honorConeBit,
    directBubbles: c.directBubbles,
    acceptUnknownPeers: c.acceptUnknownPeers,
    icmpv6Source,
    icmpv6RatePerSecond: c.icmpv6Rate,
    unansweredPerSecond: c.unansweredRate,
    newPeersPerPrefix: c.newPeersPerPrefix,
    allowNonGlobal: c.allowNonGlobal,
  };
}
