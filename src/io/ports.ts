// The OS boundary of every agent (wireguard-go's tun.Device / conn.Bind idea): three small interfaces that
// drivers use and tests replace with in-memory fakes (test/fakes/). The Linux implementations are
// tun-linux.ts, icmpv6-socket.ts (both over the project's own N-API addon, see docs/performance.md "TUN and raw ICMPv6")
// and datagram-port.ts (node:dgram, or the addon's batched recvmmsg/sendmmsg port, datagram-port-native.ts).
//
// Conventions shared by all three:
// - receiving is a callback registered once with onX(handler); a later call replaces the handler;
// - RECEIVED BYTES ARE LENT. A batch (and every byte of its `data`) belongs to the handler only for the
//   duration of the call: the adapter reuses the memory for the next batch (the addon's poller lends one
//   receive buffer per port, native/src/poller.c), and the fakes (test/fakes/) overwrite it as soon as the
//   handler returns, so code that keeps a view fails its tests. Whoever keeps
//   bytes (a relay's per-peer queue, a client's pending packet) copies them; nobody else pays for a copy.
// - bytes handed to send/write are lent the same way: the adapter copies or writes them before returning;
// - I/O errors after open (a failed send, a receive error) go to the onError handler as an IoError and are
//   never thrown into the event loop; only opening and configuration throw (start-up problems are fatal).

import type { Endpoint4 } from '../wire/endpoint.js';

/** A received batch (PacketBatch) and a received datagram batch (DatagramBatch), lent as above. */
import type { DatagramBatch, PacketBatch } from '../wire/packet-batch.js';

export type { DatagramBatch, PacketBatch };

/** A layer-3 TUN device carrying whole IPv6 packets (IFF_TUN | IFF_NO_PI: no packet-information prefix). */
export interface TunDevice {
  readonly name: string;
  readonly ifindex: number;
  /** The packets the kernel routes into the device, one batch per wake-up (lent). Reading starts at the first call. */
  onBatch(handler: (batch: PacketBatch) => void): void;
  onError(handler: (error: Error) => void): void;
  /**
   * Hands one whole IPv6 packet, data[offset .. offset + length), to the kernel. false (and an IoError to
   * onError) if the kernel refused it.
   */
  write(data: Uint8Array, offset?: number, length?: number): boolean;
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

/**
 * One received ICMPv6 message (the bytes start at the ICMPv6 type field; the IPv6 header is not included).
 * `bytes` and `source` are lent like a batch: valid during the handler call only.
 */
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
   * multicast destination (16 bytes) out of this socket's interface, from `source` (16 bytes, one of the
   * interface's addresses; IPV6_PKTINFO) or the kernel's choice. false (and an IoError) on failure.
   */
  send(destination: Uint8Array, message: Uint8Array, source?: Uint8Array): boolean;
  joinGroup(group: Uint8Array): void;
  leaveGroup(group: Uint8Array): void;
  /** Only these ICMPv6 types are delivered (ICMP6_FILTER); undefined passes every type. */
  setTypeFilter(types: readonly number[] | undefined): void;
  close(): void;
}

/** An IPv4 UDP socket. Addresses are int32 (src/wire/ipv4.ts); a uint32 is accepted where one is passed in. */
export interface DatagramPort {
  /** The bound address and port (the real port when 0 was asked for). */
  readonly local: Endpoint4;
  /** The datagrams received, one batch per wake-up (lent). Receiving starts at the first call. */
  onBatch(handler: (batch: DatagramBatch) => void): void;
  onError(handler: (error: Error) => void): void;
  /**
   * Queues the datagram data[offset .. offset + length) to addr:port (the bytes are copied before this
   * returns); a failure is reported to onError, never thrown. Queued datagrams leave at the end of the
   * current JS turn at the latest (one sendmmsg for a batch's worth on the native port).
   */
  send(data: Uint8Array, offset: number, length: number, addr: number, port: number): void;
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

/**
 * A send-only raw IPv6 socket (socket(AF_INET6, SOCK_RAW, IPPROTO_RAW), native/src/raw6.c): whole IPv6
 * packets, header included, go to the kernel's IPv6 routing as written (the source address is not checked
 * or replaced, the hop limit not decremented). This is how a Teredo server forwards a client's packet to a
 * native IPv6 destination without a TUN device (as miredo-server does); it needs CAP_NET_RAW only. Nothing
 * comes back through it: native replies reach clients through a relay (RFC 4380 §5.4), or a TUN device.
 */
export interface NativeIpv6Sender {
  /**
   * Queues the IPv6 packet data[offset .. offset + length) (copied before this returns); queued packets leave
   * at the end of the current JS turn at the latest (one sendmmsg per batch). false, and an IoError to
   * onError, when it cannot be queued (closed, or not an IPv6 packet of 40..65575 bytes); the kernel's
   * refusal (ENETUNREACH when there is no route, EMSGSIZE, EPERM) is reported to onError when the batch leaves.
   */
  send(data: Uint8Array, offset: number, length: number): boolean;
  onError(handler: (error: Error) => void): void;
  /** Sends what is queued, then closes the socket. Idempotent. */
  close(): void;
}
