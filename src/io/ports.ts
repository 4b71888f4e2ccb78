// The OS boundary of every agent (wireguard-go's tun.Device / conn.Bind idea): three small interfaces that
// drivers use and tests replace with in-memory fakes (test/fakes/). The Linux implementations are
// tun-linux.ts, icmpv6-socket.ts (both over the project's own N-API addon, see README "TUN and raw ICMPv6")
// and datagram-port.ts (node:dgram, or the addon's batched recvmmsg/sendmmsg port, datagram-port-native.ts).
//
// Conventions shared by all three:
// - receiving is a callback registered once with onX(handler); a later call replaces the handler;
// - bytes handed to a handler are the handler's to keep (never reused by the adapter);
// - I/O errors after open (a failed send, a receive error) go to the onError handler as an IoError and are
//   never thrown into the event loop; only opening and configuration throw (start-up problems are fatal).

import type { Endpoint4 } from '../engine/types.js';

/** A layer-3 TUN device carrying whole IPv6 packets (IFF_TUN | IFF_NO_PI: no packet-information prefix). */
export interface TunDevice {
  readonly name: string;
  readonly ifindex: number;
  /** Each packet the kernel routes into the device, one IPv6 packet per call. Reading starts at the first call. */
  onPacket(handler: (packet: Uint8Array) => void): void;
  onError(handler: (error: Error) => void): void;
  /** Hands one whole IPv6 packet to the kernel. false (and an IoError to onError) if the kernel refused it. */
  write(packet: Uint8Array): boolean;
  setMtu(mtu: number): void;
  /** address: 16 bytes (src/wire/ipv6-address.ts parseIpv6). */
  addAddress(address: Uint8Array, prefixLength: number): void;
  removeAddress(address: Uint8Array, prefixLength: number): void;
  /** A route to prefix/prefixLength through this device; metric 0 lets the kernel choose (1024). */
  addRoute(prefix: Uint8Array, prefixLength: number, metric?: number): void;
  removeRoute(prefix: Uint8Array, prefixLength: number, metric?: number): void;
  setUp(up: boolean): void;
  /** Stops reading and closes the device (a non-persistent device disappears). Idempotent. */
  close(): void;
}

/** One received ICMPv6 message (the bytes start at the ICMPv6 type field; the IPv6 header is not included). */
export interface Icmpv6Message {
  readonly bytes: Uint8Array;
  /** Source address, 16 bytes. */
  readonly source: Uint8Array;
  /** Interface the message arrived on (IPV6_PKTINFO). */
  readonly ifindex: number;
  /** Hop limit of the received packet (IPV6_HOPLIMIT); RFC 4861 receivers check it equals 255. -1 if unknown. */
  readonly hopLimit: number;
}

/** A raw ICMPv6 socket bound to one interface (RFC 4861 style: hop limit 255, kernel checksum, no loopback). */
export interface Icmpv6Socket {
  readonly ifname: string;
  readonly ifindex: number;
  onMessage(handler: (message: Icmpv6Message) => void): void;
  onError(handler: (error: Error) => void): void;
  /**
   * Sends an ICMPv6 message (type first; the checksum field is filled by the kernel) to a unicast or
   * multicast destination (16 bytes) out of this socket's interface. false (and an IoError) on failure.
   */
  send(destination: Uint8Array, message: Uint8Array): boolean;
  joinGroup(group: Uint8Array): void;
  leaveGroup(group: Uint8Array): void;
  /** Only these ICMPv6 types are delivered (ICMP6_FILTER); undefined passes every type. */
  setTypeFilter(types: readonly number[] | undefined): void;
  close(): void;
}

/** An IPv4 UDP socket. Addresses are uint32 (src/wire/ipv4.ts). */
export interface DatagramPort {
  /** The bound address and port (the real port when 0 was asked for). */
  readonly local: Endpoint4;
  onDatagram(handler: (bytes: Uint8Array, from: Endpoint4) => void): void;
  onError(handler: (error: Error) => void): void;
  /** Queues a datagram; a failure is reported to onError, never thrown. */
  send(bytes: Uint8Array, to: Endpoint4): void;
  /** Joins `group` on the interface that has `interfaceAddress` (0 / omitted: the kernel's choice). */
  joinGroup(group: number, interfaceAddress?: number): void;
  leaveGroup(group: number, interfaceAddress?: number): void;
  /** TTL of multicast datagrams we send (Node's and the kernel's default is 1). */
  setMulticastTtl(ttl: number): void;
  /** Outgoing interface for multicast, by its IPv4 address. */
  setMulticastInterface(interfaceAddress: number): void;
  setMulticastLoopback(on: boolean): void;
  /** TTL of unicast datagrams we send. */
  setTtl(ttl: number): void;
  close(): Promise<void>;
}
