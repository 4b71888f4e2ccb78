// The shape of a received batch, shared by the ports that fill it (src/io) and the engines that may take one
// whole (the relay checks what a superframe's segments share once): kept here, below both layers.

/**
 * Packets received in one wake-up (up to the adapter's batch size), lent for the call (src/io/ports.ts). Packet i
 * is `data[offset(i) .. offset(i) + length(i))`. Accessors read typed arrays: nothing is allocated per packet.
 */
export interface PacketBatch {
  readonly count: number;
  readonly data: Uint8Array;
  offset(i: number): number;
  length(i: number): number;
}

/** Datagrams received in one wake-up (recvmmsg), lent for the call; also the IPv4 source of each. */
export interface DatagramBatch extends PacketBatch {
  /** Source IPv4 address of datagram i (int32, src/wire/ipv4.ts). */
  sourceAddr(i: number): number;
  /** Source UDP port of datagram i. */
  sourcePort(i: number): number;
}
