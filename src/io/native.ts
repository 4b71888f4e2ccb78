// Loader and typed surface of the project's N-API addon (native/src, built by `npm ci` into native/build).
// Only tun-linux.ts, icmpv6-socket.ts, datagram-port-native.ts and raw-ipv6.ts use it. The addon is found by
// walking up from this file, so the same code works from src/ (vitest) and from dist/src/ (the built agents).

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IoError } from './io-error.js';

/** Receive poller kinds (native/src/poller.c). */
export const POLL_READ = 0;
export const POLL_ICMP6 = 1;
export const POLL_UDP4 = 2;
/** A TUN device opened with offloads: superframes cut into packets in C; records as POLL_READ (poller.c). */
export const POLL_VNET = 3;
/** POLL_UDP4 on a socket with UDP_GRO: one record per segment of a coalesced datagram (poller.c). */
export const POLL_UDP4_GRO = 4;
/** Records a POLL_VNET batch may hold beyond batchMax (native/src/vnet.h VNET_MAX_SEGS). */
export const VNET_MAX_SEGS = 1024;
/** Records per datagram slot of a POLL_UDP4_GRO batch (native/src/poller.c GRO_SEGS). */
export const GRO_SEGS = 128;
/** int32 words (host order) per tunWriteBatch record: length, errno (written back). */
export const TUN_WRITE_META_WORDS = 2;
/** int32 words (host order) per TUN meta record: length. */
export const READ_META_WORDS = 1;
/** int32 words per ICMPv6 meta record: length, ifindex, hop limit (-1 if unknown), scope id, 16-byte source. */
export const ICMP6_META_WORDS = 8;
/** int32 words per received UDP meta record: length, source IPv4 address, source port. */
export const UDP4_META_WORDS = 3;
/** int32 words (host order) per udpSendBatch record: length, IPv4 address, port, errno (written back). */
export const UDP_SEND_META_WORDS = 4;
/** int32 words (host order) per raw6SendBatch record: length, errno (written back). */
export const RAW6_SEND_META_WORDS = 2;
/** udpSetOption option numbers (native/src/udp.c). */
export const UDP_OPT = { ttl: 0, multicastTtl: 1, multicastLoop: 2, multicastInterface: 3 } as const;

export type PollHandle = { readonly __brand: 'PollHandle' };

/**
 * A started poller and its receive memory, allocated once and refilled by every wake-up (lent: valid during
 * the callback only). After a callback with `count` packets, `data` holds them back to back from offset 0 and
 * `meta` one record per packet (the *_META_WORDS above).
 */
export interface Poller {
  readonly handle: PollHandle;
  readonly data: Uint8Array;
  readonly meta: Int32Array;
}

/** errno is 0 for a batch of `count` packets; otherwise a receive error (polling stopped if it was fatal). */
export type PollCallback = (errno: number, count: number) => void;

export interface NativeIo {
  pollerStart(fd: number, kind: number, batchMax: number, callback: PollCallback): Poller;
  /** Stops polling and closes the fd. */
  pollerClose(handle: PollHandle): void;
  /** With `offload`, IFF_VNET_HDR + TUNSETOFFLOAD; `offload` in the result says whether the kernel took them. */
  tunOpen(name: string, netns: string | null, offload: boolean): TunOpened;
  /**
   * Writes `count` IPv6 packets (TUN_WRITE_META_WORDS records) to a device opened with offloads; `state` is the
   * bytes of one host-order int32 (an Int32Array's buffer, as every int32 argument here). With state 1 consecutive TCP segments of one flow go as one superframe (cleared when the kernel refuses one).
   * Returns how many failed (their errno set).
   */
  tunWriteBatch(fd: number, data: Uint8Array, meta: Uint8Array, count: number, state: Uint8Array): number;
  /** Test window on the read-side cut: frame = virtio header + packet; -1 when refused (native/src/vnet.h). */
  vnetSegment(frame: Uint8Array, out: Uint8Array, lens: Uint8Array): number;
  /** Test window on the write-side merge: the writes tunWriteBatch would make, concatenated; returns their count. */
  vnetCoalesce(data: Uint8Array, lens: Uint8Array, count: number, kinds: number, out: Uint8Array, outLens: Uint8Array): number;
  ifSetMtu(ctlFd: number, name: string, mtu: number): void;
  ifSetUp(ctlFd: number, name: string, up: boolean): void;
  ifAddress6(ctlFd: number, ifindex: number, address: Uint8Array, prefixLength: number, add: boolean): void;
  ifRoute6(ctlFd: number, ifindex: number, prefix: Uint8Array, prefixLength: number, metric: number, add: boolean): void;
  /** write(2) of bytes[offset .. offset + length) (the whole buffer by default); -errno on failure. */
  writeFd(fd: number, bytes: Uint8Array, offset?: number, length?: number): number;
  closeFd(fd: number): void;
  icmp6Open(ifname: string, netns: string | null, hopLimit: number, multicastLoop: boolean, types: readonly number[] | null): { fd: number; ifindex: number };
  icmp6SetFilter(fd: number, types: readonly number[] | null): void;
  icmp6Membership(fd: number, ifindex: number, group: Uint8Array, join: boolean): void;
  /** Bytes sent, or -errno. */
  icmp6Send(fd: number, destination: Uint8Array, scopeId: number, message: Uint8Array, source?: Uint8Array): number;
  /** Throws with code IO_UDP_BIND (and the errno) when bind() fails. Buffer sizes 0 = the kernel's default. */
  udpOpen(address: number, port: number, netns: string | null, reuseAddr: boolean, receiveBufferSize: number, sendBufferSize: number, dontFragment: boolean, offload: boolean): UdpOpened;
  /**
   * Sends `count` datagrams described by UDP_SEND_META_LEN records; returns how many failed (their errno set).
   * With gso (an int32's bytes) = 1, runs to one destination go as UDP GSO sends (cleared when the egress device refuses).
   */
  udpSendBatch(fd: number, data: Uint8Array, meta: Uint8Array, count: number, gso?: Uint8Array): number;
  udpSetOption(fd: number, option: number, value: number): void;
  udpMembership(fd: number, group: number, interfaceAddress: number, join: boolean): void;
  /** A send-only socket(AF_INET6, SOCK_RAW, IPPROTO_RAW): whole IPv6 packets, header included (native/src/raw6.c). */
  raw6Open(netns: string | null): number;
  /** Sends `count` whole IPv6 packets described by RAW6_SEND_META_LEN records; returns how many failed (their errno set). */
  raw6SendBatch(fd: number, data: Uint8Array, meta: Uint8Array, count: number): number;
}

export interface TunOpened {
  fd: number;
  ctlFd: number;
  name: string;
  ifindex: number;
  /** Reads and writes carry a virtio-net header (IFF_VNET_HDR, offloads on). */
  offload: boolean;
  /** Superframes the device takes on write, tunWriteBatch's initial state: 0, 1 (TCP) or 3 (TCP and UDP, USO). */
  merge: number;
}

export interface UdpOpened {
  fd: number;
  /** UDP_GRO and UDP_SEGMENT work on the socket. */
  offload: boolean;
  address: number;
  port: number;
  /** Effective sizes as the kernel reports them (twice the requested size, socket(7)). */
  receiveBufferSize: number;
  sendBufferSize: number;
}

const ADDON = join('native', 'build', 'Release', 'teredo_io.node');
let cached: NativeIo | undefined;

export function loadNative(): NativeIo {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, ADDON);
    if (existsSync(candidate)) {
      cached = createRequire(import.meta.url)(candidate) as NativeIo;
      return cached;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new IoError('IO_NATIVE_MISSING', `${ADDON} not found: run \`npm ci\` (or \`node native/build.mjs\`) to build the addon`);
}
