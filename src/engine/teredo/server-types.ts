// The Teredo server engine's vocabulary (RFC 4380 §5.3): its parameters, what goes in (a UDP datagram on one of
// the two server addresses, or an IPv6 packet from the TUN device on the native side) and what comes out (a
// datagram to send from one of the two addresses, a packet for the native IPv6 network, or a counted drop).
//
// Every drop reason is listed here once, kebab-case and tied to the clause it enforces, so the status output,
// the tests and the README speak the same words. The engine is stateless (§5.3: "The Teredo server is designed
// to be stateless"): nothing here grows with the number of clients.

import type { DropOutput, Endpoint4 } from '../types.js';
import type { RaTemplate } from './server-ra.js';

/** Which of the two UDP sockets on port 3544: the primary address, or the secondary (primary + 1 by default). */
export type ServerSocket = 'primary' | 'secondary';

export interface TeredoServerParams {
  /** Primary server IPv4 address (uint32): the one embedded in clients' Teredo addresses and the RA prefix. */
  readonly primary: number;
  /** Secondary server IPv4 address; RAs answering a cone-bit RS leave from the address it did not arrive on. */
  readonly secondary: number;
  /** The MTU option of the RA (§5.1.2: 1280 by default); at least 1280, the IPv6 minimum (RFC 8200 §5). */
  readonly mtu?: number;
  /**
   * Largest IPv6 payload of a forwarded ICMPv6 packet (bubbles always pass). Default 88, like Miredo: room for
   * an Echo header, a 64-byte hash and some data (the direct connectivity test of §5.2.9 and Miredo's 128-bit
   * pings fit), too small for application traffic (a G.711 voice packet is about 220 bytes), so the server
   * cannot be used as a free UDP relay. The RFC itself sets no limit; see DEFAULT_FORWARD_ICMPV6_MAX_PAYLOAD.
   */
  readonly forwardIcmpv6MaxPayload?: number;
  /** True when a TUN device carries packets to and from the native IPv6 network; otherwise they are dropped. */
  readonly nativeForwarding?: boolean;
  /**
   * Labs only: accept any unicast IPv4 address where RFC 4380 §5.2.4 asks for a global one (client sources,
   * embedded mappings). Multicast, broadcast, 0/8 and loopback stay refused.
   */
  readonly allowNonGlobal?: boolean;
}

/**
 * What the packet paths read, computed once from the parameters: the defaults applied, and the MTU and
 * allowNonGlobal folded into `raTemplate` and `acceptable4` rather than kept beside them.
 */
export interface ServerConfig {
  readonly primary: number;
  readonly secondary: number;
  readonly forwardIcmpv6MaxPayload: number;
  readonly nativeForwarding: boolean;
  /** fe80::8000:f227:<~primary>: source of our RAs and a local destination (§5.3.2). */
  readonly linkLocal: Uint8Array;
  /** 2001:0:<primary>::/64, the prefix of this server's clients (§4). */
  readonly prefix: Uint8Array;
  /** The RA sent to every client (server-ra.ts teredoRouterAdvert), pre-encoded (server-ra.ts raTemplate). */
  readonly raTemplate: RaTemplate;
  /** The §5.2.4 test applied to IPv4 sources and embedded mappings (isUnicast4 when allowNonGlobal). */
  readonly acceptable4: (addr: number) => boolean;
}

/** Miredo's limit (libteredo/server.c), kept as the default; Microsoft's servers are said to drop these too. */
export const DEFAULT_FORWARD_ICMPV6_MAX_PAYLOAD = 88;

/** RFC 8200 §5: every IPv6 link has an MTU of at least 1280 bytes, so an RA may not advertise less. */
export const MIN_ADVERTISED_MTU = 1280;

/** A datagram that arrived on one of the server's sockets. `bytes` is the UDP payload; the engine may keep views. */
export interface UdpInput {
  readonly kind: 'udp';
  readonly local: ServerSocket;
  readonly from: Endpoint4;
  readonly bytes: Uint8Array;
}

/** One whole IPv6 packet read from the TUN device: native IPv6 traffic routed toward a Teredo client. */
export interface TunInput {
  readonly kind: 'tun';
  readonly bytes: Uint8Array;
}

export type ServerInput = UdpInput | TunInput;

/** A Router Advertisement answering a Router Solicitation (§5.3.2). */
export interface RaOutput {
  readonly kind: 'send-udp';
  readonly purpose: 'ra';
  readonly via: ServerSocket;
  readonly to: Endpoint4;
  readonly bytes: Uint8Array;
  /** The socket the RS arrived on (`via` differs from it when the RS carried the cone bit). */
  readonly receivedOn: ServerSocket;
  /** True when the RS carried an authentication header whose nonce the RA echoes. */
  readonly nonce: boolean;
}

/** A packet re-encapsulated toward the mapping embedded in a Teredo destination (§5.3.1, last paragraph). */
export interface ForwardOutput {
  readonly kind: 'send-udp';
  readonly purpose: 'forward';
  readonly via: 'primary';
  readonly to: Endpoint4;
  readonly bytes: Uint8Array;
  /** True when an origin indication was inserted (the destination is a client of this server). */
  readonly origin: boolean;
  /** True when the packet came from the TUN device (native IPv6) rather than over UDP. */
  readonly fromTun: boolean;
}

/** An IPv6 packet for the native IPv6 network, written to the TUN device (§5.3.1: "regular IPv6 routing"). */
export interface WriteTunOutput {
  readonly kind: 'write-tun';
  readonly bytes: Uint8Array;
}

export const SERVER_DROP_REASONS = [
  // Routing-loop protection (Miredo MTFL-SA 0603; RFC 6324 describes the family of attacks): a datagram
  // from one of our own addresses with source port 3544, or one we would send to ourselves.
  'server-loop-own-address',
  // §5.3.1 validity checks, in the RFC's order.
  'server-case-1-not-teredo-ipv6',
  'server-case-2-not-icmpv6-or-bubble',
  'server-case-3-source-not-global',
  'server-case-3-source-port-zero',
  'server-case-7-spoofed-teredo-source',
  'server-case-7-destination-not-our-client',
  // Local delivery (destination ff02::2 or the server's link-local address): only RSs are processed.
  'server-local-not-router-solicitation',
  // RFC 4861 §6.1.1 validity of the Router Solicitation itself.
  'server-rs-truncated',
  'server-rs-hop-limit-not-255',
  'server-rs-code-not-0',
  'server-rs-bad-checksum',
  'server-rs-bad-options',
  // Forwarding (§5.3.1, after acceptance).
  'server-destination-not-global',
  'server-forward-too-big',
  'server-teredo-destination-not-global',
  'server-teredo-destination-port-zero',
  'server-no-native-forwarding',
  // Packets from the TUN device toward Teredo clients.
  'server-tun-malformed',
  'server-tun-link-scope',
  'server-tun-not-icmpv6-or-bubble',
  'server-tun-too-big',
  'server-tun-source-not-native-global',
  'server-tun-destination-not-our-client',
  'server-tun-destination-not-global',
  'server-tun-destination-port-zero',
] as const;

export type ServerDropReason = (typeof SERVER_DROP_REASONS)[number];

export interface ServerDrop extends DropOutput {
  readonly reason: ServerDropReason;
}

export type ServerOutput = RaOutput | ForwardOutput | WriteTunOutput | ServerDrop;

// One frozen object per reason: a flood of junk costs no allocation per dropped packet.
const DROPS = new Map<ServerDropReason, ServerDrop>(SERVER_DROP_REASONS.map((reason) => [reason, Object.freeze({ kind: 'drop', reason })]));

export function drop(reason: ServerDropReason): ServerDrop {
  return DROPS.get(reason)!;
}
