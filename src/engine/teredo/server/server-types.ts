// The Teredo server engine's vocabulary (RFC 4380 §5.3): its parameters, what goes in (a UDP datagram on one of
// the two server addresses, or an IPv6 packet from the TUN device on the native side) and what comes out (a
// datagram to send from one of the two addresses, a packet for the native IPv6 network, or a counted drop).
//
// Every drop reason is listed here once, kebab-case and tied to the clause it enforces, so the status output,
// the tests and the docs (docs/teredo-server.md) speak the same words. The engine is stateless (§5.3: "The Teredo server is designed
// to be stateless"): nothing here grows with the number of clients.

import { reasonIndex, type DropSink } from '../../types.js';
import type { RaTemplate } from './server-ra.js';

/** Which of the two UDP sockets on port 3544, as the index the sink takes. */
export const SERVER_SOCKET = { primary: 0, secondary: 1 } as const;
export type ServerSocket = keyof typeof SERVER_SOCKET;
/** The socket index: 0 = primary address, 1 = secondary (primary + 1 by default). */
export type ServerSocketIndex = (typeof SERVER_SOCKET)[ServerSocket];

export interface TeredoServerParams {
  /** Primary server IPv4 address (int32, wire/ipv4.ts; a uint32 is normalized): the one embedded in clients' Teredo addresses and the RA prefix. */
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
  /** True when packets for native IPv6 destinations can leave (sink.writeNative); otherwise they are dropped. */
  readonly nativeForwarding?: boolean;
  /**
   * Labs only: accept any unicast IPv4 address where RFC 4380 §5.2.4 asks for a global one (client sources,
   * embedded mappings). Multicast, broadcast, 0/8 and loopback stay refused.
   */
  readonly allowNonGlobal?: boolean;
}

/** What the packet paths read, computed once from the parameters (defaults applied, the RA pre-encoded). */
export interface ServerConfig {
  readonly primary: number;
  readonly secondary: number;
  readonly forwardIcmpv6MaxPayload: number;
  readonly nativeForwarding: boolean;
  readonly allowNonGlobal: boolean;
  /** fe80::8000:f227:<~primary>: source of our RAs and a local destination (§5.3.2). */
  readonly linkLocal: Uint8Array;
  /** 2001:0:<primary>::/64, the prefix of this server's clients (§4). */
  readonly prefix: Uint8Array;
  /** The RA sent to every client (server-ra.ts teredoRouterAdvert), pre-encoded (server-ra.ts raTemplate). */
  readonly raTemplate: RaTemplate;
}

/** Miredo's limit (libteredo/server.c), kept as the default; Microsoft's servers are said to drop these too. */
export const DEFAULT_FORWARD_ICMPV6_MAX_PAYLOAD = 88;

/** RFC 8200 §5: every IPv6 link has an MTU of at least 1280 bytes, so an RA may not advertise less. */
export const MIN_ADVERTISED_MTU = 1280;

/**
 * Where the server engine writes what it decides. The bytes are lent for the call (the port copies them into
 * its send batch; a raw socket or TUN write consumes them before returning).
 */
export interface ServerSink extends DropSink {
  /** A datagram data[offset .. offset + length) from the given socket (SERVER_SOCKET) to addr:port. */
  sendUdp(socket: ServerSocketIndex, data: Uint8Array, offset: number, length: number, addr: number, port: number): void;
  /** One IPv6 packet for the native IPv6 network (§5.3.1: "regular IPv6 routing"). */
  writeNative(data: Uint8Array, offset: number, length: number): void;
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

/** Reason name -> the index sink.drop takes. */
export const SERVER_DROP = reasonIndex(SERVER_DROP_REASONS);
