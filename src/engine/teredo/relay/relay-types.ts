// The Teredo relay engine's vocabulary (RFC 4380 §5.4): its parameters, its sink (a datagram to a Teredo peer,
// an IPv6 packet for the native side, a counted drop) and its drop reasons, each tied to the clause it enforces.

import { reasonIndex, type DropSink, type Random } from '../../types.js';

/** Default unansweredPerSecond: new or unanswered embedded peers' datagrams relayed per second (and burst). */
export const DEFAULT_UNANSWERED_RATE = 4096;

/** Default newPeersPerPrefix: new pending peers per second (and burst) per native source /64. */
export const DEFAULT_NEW_PEERS_PER_PREFIX = 256;

export interface TeredoRelayParams {
  /** Randomness for the peer table's hash key and the bubble nonces (cryptoRandom in production). */
  readonly random: Random;
  /** Peer table bound (default 1,048,576, Miredo's). */
  readonly maxPeers?: number;
  /** Per-peer queue bound in bytes (default ../peers/peer-table.ts DEFAULT_QUEUE_BYTES); 0 disables queueing. */
  readonly queueBytes?: number;
  /** All queues together, bytes (default 16 MiB). */
  readonly maxQueuedBytes?: number;
  /**
   * §5.4.1 case 2: send at once to a peer whose address has the cone bit. Default false: RFC 5991 and Miredo
   * ignore the bit (a client behind a NAT that changed type would be unreachable), so every new peer is bubbled.
   */
  readonly honorConeBit?: boolean;
  /**
   * §5.4.1: a relay behind a restricted NAT also sends a direct bubble to the peer's mapping, to open its own
   * NAT (Miredo's RelayType restricted). Default false: a relay should have a public address.
   */
  readonly directBubbles?: boolean;
  /**
   * §5.4.2 "MAY discard" packets from peers not in the list. Default true (accept, when the Teredo source
   * embeds the UDP source), so clients carry on through a restarted relay without a new connectivity test;
   * false is Miredo's choice.
   */
  readonly acceptUnknownPeers?: boolean;
  /**
   * Work the relay spends per second on embedded peers (§5.4.2 (b): trusted on their address alone, which one
   * spoofed datagram forges) until the native side answers them: new such peers admitted plus their packets
   * relayed to the native side, together (default DEFAULT_UNANSWERED_RATE; the burst is the same number).
   * Beyond it their datagrams are dropped before any table or TUN work, so a flood of forged peers leaves the
   * relay the time to serve proven, pending and answered peers.
   */
  readonly unansweredPerSecond?: number;
  /**
   * New pending peers (§5.4.1 case 3: a native packet to a Teredo client not in the table: a queued packet, a
   * bubble, a retry timer) per second that one native source /64 may create (default DEFAULT_NEW_PEERS_PER_PREFIX;
   * the burst is the same number). Beyond it the packet is dropped (`relay-tun-new-peers-rate-limited`), so a
   * native host sending to many Teredo destinations can neither fill the pending class (which would evict a
   * real new client before it answers its bubble) nor grow the table's memory.
   */
  readonly newPeersPerPrefix?: number;
  /** Source of ICMPv6 errors sent to native hosts (16 bytes, one of the host's global addresses); none if absent. */
  readonly icmpv6Source?: Uint8Array;
  /** ICMPv6 errors per second at most (default 10, Miredo's ICMP_RATE_LIMIT_MS 100); 0 sends none. */
  readonly icmpv6RatePerSecond?: number;
  /** Labs only: accept any unicast IPv4 where §5.2.4 asks for a global one (embedded server and mapping). */
  readonly allowNonGlobal?: boolean;
}

/**
 * Where the relay writes what it decides; the bytes are lent for the call (the UDP port copies them into its
 * send batch, a TUN write consumes them before returning).
 */
export interface RelaySink extends DropSink {
  /** A Teredo datagram data[offset .. offset + length) to addr:port (int32 IPv4, wire/ipv4.ts; port) from the relay's socket. */
  sendUdp(data: Uint8Array, offset: number, length: number, addr: number, port: number): void;
  /** One IPv6 packet for the native side (the TUN device). */
  writeTun(data: Uint8Array, offset: number, length: number): void;
}

export const RELAY_DROP_REASONS = [
  // §5.4.2, datagrams from Teredo clients.
  'relay-udp-not-teredo-ipv6', // §5.1.1 framing (version 6, lengths)
  'relay-udp-source-ipv4-not-global', // §5.2.4: nothing may be sent back to it
  'relay-udp-source-not-teredo', // §5.4.2: native, link-local or multicast IPv6 source
  'relay-udp-destination-not-native', // §5.4.2 "served by the relay": multicast, link-local, Teredo (loops, RFC 6324)
  'relay-udp-spoofed-source', // §5.4.2: mapping differs from the UDP source and no proof of the mapping
  'relay-udp-unknown-peer', // §5.4.2 MAY discard (acceptUnknownPeers false)
  'relay-udp-bubble-without-proof', // a bubble to our link-local address without our nonce
  'relay-udp-peer-table-full', // §7.3.5: a new (b) peer, and proven and pending peers fill the table
  'relay-udp-unanswered-rate-limited', // §7.3.5: a new or unanswered (b) peer beyond unansweredPerSecond
  // §5.4.1, IPv6 packets from the native side toward Teredo clients.
  'relay-tun-malformed',
  'relay-tun-link-scope', // the kernel's own chatter on the device (MLD, RS): link-local or unspecified source, multicast destination
  'relay-tun-destination-not-teredo', // routing sent us something outside 2001::/32 (ICMPv6 unreachable)
  'relay-tun-server-not-global', // §5.2.4: embedded server IPv4 not global unicast: no bubble may go there
  'relay-tun-mapping-not-global', // §5.2.4: embedded mapped IPv4 not global unicast, or port 0
  'relay-tun-queue-full', // §5.4.1 "SHOULD limit the size of the queue"
  'relay-tun-peer-table-full', // §7.3.5: a new peer, and proven peers fill the table
  'relay-tun-new-peers-rate-limited', // §7.3.5: a new pending peer beyond newPeersPerPrefix for its native source /64
  'relay-tun-peer-unreachable', // §5.2.6: 4 bubbles unanswered; ICMPv6 unreachable (rate-limited)
  'relay-queue-given-up', // queued packets of a peer that never answered its bubbles
  'relay-queue-peer-removed', // queued packets lost with an evicted or expired peer
] as const;

export type RelayDropReason = (typeof RELAY_DROP_REASONS)[number];

/** Reason name -> the index sink.drop takes. */
export const RELAY_DROP = reasonIndex(RELAY_DROP_REASONS);

/** Relay counters (numbers only; snapshot() for status). */
export class RelayCounters {
  /** Packets and bytes (IPv6 packet lengths) from the native side sent to Teredo peers. */
  toTeredoPackets = 0;
  toTeredoBytes = 0;
  /** Packets and bytes from Teredo peers written to the native side. */
  toNativePackets = 0;
  toNativeBytes = 0;
  bubblesSent = 0;
  bubblesReceived = 0;
  /** Peers whose mapping was proved by our nonce though it differs from their address (symmetric NATs). */
  mappingsProved = 0;
  queued = 0;
  icmpv6Sent = 0;
  icmpv6RateLimited = 0;
  peersEvicted = 0;
  peersExpired = 0;

  snapshot(): RelayCounterSnapshot {
    return {
      toTeredo: { packets: this.toTeredoPackets, bytes: this.toTeredoBytes },
      toNative: { packets: this.toNativePackets, bytes: this.toNativeBytes },
      bubblesSent: this.bubblesSent,
      bubblesReceived: this.bubblesReceived,
      mappingsProved: this.mappingsProved,
      queued: this.queued,
      icmpv6Sent: this.icmpv6Sent,
      icmpv6RateLimited: this.icmpv6RateLimited,
      peersEvicted: this.peersEvicted,
      peersExpired: this.peersExpired,
    };
  }
}

export interface RelayCounterSnapshot {
  readonly toTeredo: { readonly packets: number; readonly bytes: number };
  readonly toNative: { readonly packets: number; readonly bytes: number };
  readonly bubblesSent: number;
  readonly bubblesReceived: number;
  readonly mappingsProved: number;
  readonly queued: number;
  readonly icmpv6Sent: number;
  readonly icmpv6RateLimited: number;
  readonly peersEvicted: number;
  readonly peersExpired: number;
}
