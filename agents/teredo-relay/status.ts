// What `teredo-relay status` reports: the one definition of the relay's status object (what agent.ts status()
// returns, what the lab's occupant reads from `status --json`, what the tests check) and its rendering for
// people under the runtime's header line. The subcommand itself, --json, --instance, --timeout and the exit
// codes are the runtime's (src/runtime/status.ts).

import { formatDrops, formatIoErrors, type RunningStatus } from '../../src/runtime/status.js';

export const AGENT_NAME = 'teredo-relay';

export interface PacketCount {
  readonly packets: number;
  readonly bytes: number;
}

export interface TeredoRelayStatus {
  /** The bound UDP endpoint, "198.18.0.20:3545". */
  readonly udp: string;
  /** The TUN device and the route into it ("2001::/32"). */
  readonly interface: string;
  readonly route: string;
  readonly mtu: number;
  /** Source of ICMPv6 errors, or null when none are sent. */
  readonly icmpv6Source: string | null;
  readonly honorConeBit: boolean;
  readonly directBubbles: boolean;
  readonly acceptUnknownPeers: boolean;
  /** The peer table (RFC 4380 §5.2 peer entries). */
  readonly peers: number;
  readonly trusted: number;
  /** Peers per class: proven by a nonce, pending for the native side, embedded by §5.4.2 (b) (teredo-relay.md). */
  readonly classes: { readonly proven: number; readonly pending: number; readonly embedded: number };
  readonly maxPeers: number;
  readonly queuedBytes: number;
  readonly peersExpired: number;
  readonly peersEvicted: number;
  /** Native IPv6 -> Teredo clients (§5.4.1) and Teredo clients -> native IPv6 (§5.4.2). */
  readonly toTeredo: PacketCount;
  readonly toNative: PacketCount;
  readonly queued: number;
  readonly bubblesSent: number;
  readonly bubblesReceived: number;
  /** Symmetric-NAT clients whose mapping was proved by the relay's nonce. */
  readonly mappingsProved: number;
  readonly icmpv6Sent: number;
  readonly icmpv6RateLimited: number;
}

/** The human view: where it listens, the peer table, traffic each way, then drops by reason (largest first). */
export function formatTeredoRelayStatus(s: RunningStatus<TeredoRelayStatus>): string[] {
  return [
    `UDP ${s.udp}, device ${s.interface} (route ${s.route}, MTU ${s.mtu}), ICMPv6 errors from ${s.icmpv6Source ?? 'none'}`,
    `peers: ${s.peers} of ${s.maxPeers} (${s.trusted} trusted; ${s.classes.proven} proven, ${s.classes.pending} pending, ${s.classes.embedded} embedded), ${s.queuedBytes} bytes queued; ${s.peersExpired} expired, ${s.peersEvicted} evicted`,
    `native -> Teredo: ${s.toTeredo.packets} packets, ${s.toTeredo.bytes} bytes`,
    `Teredo -> native: ${s.toNative.packets} packets, ${s.toNative.bytes} bytes`,
    `bubbles: ${s.bubblesSent} sent, ${s.bubblesReceived} received, ${s.mappingsProved} symmetric mappings proved; ICMPv6 errors: ${s.icmpv6Sent} sent, ${s.icmpv6RateLimited} rate-limited`,
    ...formatDrops(s.drops),
    ...formatIoErrors(s.ioErrors),
  ];
}
