// Icmpv6Socket on Linux: a raw ICMPv6 socket bound to one interface through the project's addon
// (native/src/icmp6.c), configured for RFC 4861 Neighbor Discovery: hop limit 255 for unicast and multicast
// (§6.1.2, §7.1.2: receivers drop ND messages with any other hop limit), the kernel fills the checksum
// (IPV6_CHECKSUM offset 2), multicast loopback off, IPV6_RECVPKTINFO + IPV6_RECVHOPLIMIT so each message
// carries its interface and received hop limit (an RA sender must drop RSs whose hop limit is not 255, §6.1.1),
// and an ICMP6_FILTER type filter. Receiving uses the same batched uv_poll loop as the TUN device, whose
// receive memory is lent (native/src/poller.c): a message's bytes and source are valid during the handler only.

import { getSystemErrorName } from 'node:util';
import { isLinkLocal6, isMulticast6 } from '../wire/ipv6-address.js';
import { IoError, ioErrorFrom, rethrowLater } from './io-error.js';
import { ICMP6_META_WORDS, loadNative, POLL_ICMP6, type NativeIo, type Poller } from './native.js';
import type { Icmpv6Message, Icmpv6Socket } from './ports.js';

export interface Icmpv6SocketOptions {
  /** The interface to bind to (SO_BINDTODEVICE). */
  readonly ifname: string;
  /** Open the socket inside this network namespace: a name under /run/netns or a path. */
  readonly netns?: string;
  /** Multicast groups to join on the interface, 16 bytes each (an RA sender joins ff02::2, ALL_ROUTERS). */
  readonly groups?: readonly Uint8Array[];
  /** ICMPv6 types to receive; undefined receives all. */
  readonly types?: readonly number[];
  /** Unicast and multicast hop limit; default 255 as Neighbor Discovery requires. */
  readonly hopLimit?: number;
  /** Receive our own multicast sends; default false. */
  readonly multicastLoopback?: boolean;
  /** Messages drained per wake-up (1..1024); default 16. */
  readonly batchSize?: number;
}

const ND_HOP_LIMIT = 255;
const DEFAULT_BATCH = 16;

export function openIcmpv6Socket(options: Icmpv6SocketOptions): Icmpv6Socket {
  const native = loadNative();
  let opened: { fd: number; ifindex: number };
  try {
    opened = native.icmp6Open(options.ifname, options.netns ?? null, options.hopLimit ?? ND_HOP_LIMIT,
      options.multicastLoopback ?? false, options.types ?? null);
  } catch (e) {
    throw ioErrorFrom('IO_ICMPV6_OPEN', `cannot open raw ICMPv6 socket on ${options.ifname} (needs CAP_NET_RAW)`, e);
  }
  const socket = new LinuxIcmpv6Socket(native, options.ifname, opened, options.batchSize ?? DEFAULT_BATCH);
  try {
    for (const group of options.groups ?? []) socket.joinGroup(group);
  } catch (e) {
    socket.close();
    throw e;
  }
  return socket;
}

class LinuxIcmpv6Socket implements Icmpv6Socket {
  readonly ifindex: number;
  readonly #native: NativeIo;
  readonly #fd: number;
  readonly #batchSize: number;
  #poller: Poller | undefined;
  /** The poller's meta records as bytes, for the 16-byte source addresses. */
  #metaBytes: Uint8Array | undefined;
  #closed = false;
  #messageHandler: (message: Icmpv6Message) => void = () => {};
  #errorHandler: (error: Error) => void = rethrowLater;

  constructor(native: NativeIo, readonly ifname: string, opened: { fd: number; ifindex: number }, batchSize: number) {
    this.#native = native;
    this.#fd = opened.fd;
    this.#batchSize = batchSize;
    this.ifindex = opened.ifindex;
  }

  onMessage(handler: (message: Icmpv6Message) => void): void {
    this.#messageHandler = handler;
    if (this.#poller !== undefined || this.#closed) return;
    const poller = this.#native.pollerStart(this.#fd, POLL_ICMP6, this.#batchSize, this.#onReceived);
    this.#poller = poller;
    this.#metaBytes = new Uint8Array(poller.meta.buffer, poller.meta.byteOffset, poller.meta.byteLength);
  }

  onError(handler: (error: Error) => void): void {
    this.#errorHandler = handler;
  }

  send(destination: Uint8Array, message: Uint8Array, source?: Uint8Array): boolean {
    if (this.#closed) return false;
    // Link-local and multicast destinations are only meaningful with a zone: ours.
    const scope = isLinkLocal6(destination) || isMulticast6(destination) ? this.ifindex : 0;
    const n = this.#native.icmp6Send(this.#fd, destination, scope, message, source);
    if (n >= 0) return true;
    this.#errorHandler(new IoError('IO_ICMPV6_SEND', `sendto on ${this.ifname}: ${getSystemErrorName(n)}`, -n, 'sendto'));
    return false;
  }

  joinGroup(group: Uint8Array): void {
    this.#config('join group', () => this.#native.icmp6Membership(this.#fd, this.ifindex, group, true));
  }

  leaveGroup(group: Uint8Array): void {
    this.#config('leave group', () => this.#native.icmp6Membership(this.#fd, this.ifindex, group, false));
  }

  setTypeFilter(types: readonly number[] | undefined): void {
    this.#config('set type filter', () => this.#native.icmp6SetFilter(this.#fd, types ?? null));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#poller !== undefined) this.#native.pollerClose(this.#poller.handle);
    else this.#native.closeFd(this.#fd);
  }

  /** One Icmpv6Message per message of the batch; its bytes and source are views of the lent receive memory. */
  readonly #onReceived = (errno: number, count: number): void => {
    if (errno !== 0) {
      this.#errorHandler(new IoError('IO_ICMPV6_RECV', `recvmsg on ${this.ifname}: ${getSystemErrorName(-errno)}`, errno, 'recvmsg'));
      return;
    }
    const { data, meta } = this.#poller!;
    const metaBytes = this.#metaBytes!;
    let offset = 0;
    for (let i = 0; i < count && !this.#closed; i++) {
      const w = i * ICMP6_META_WORDS;
      const length = meta[w]!;
      this.#deliver({
        bytes: data.subarray(offset, offset + length),
        ifindex: meta[w + 1]!,
        hopLimit: meta[w + 2]!,
        source: metaBytes.subarray(w * 4 + 16, w * 4 + 32),
      });
      offset += length;
    }
  };

  #deliver(message: Icmpv6Message): void {
    try {
      this.#messageHandler(message);
    } catch (e) {
      this.#errorHandler(ioErrorFrom('IO_HANDLER', `message handler on ${this.ifname} threw`, e));
    }
  }

  #config(what: string, op: () => void): void {
    if (this.#closed) throw new IoError('IO_CLOSED', `ICMPv6 socket on ${this.ifname} is closed`);
    try {
      op();
    } catch (e) {
      throw ioErrorFrom('IO_ICMPV6_CONFIG', `${this.ifname}: ${what}`, e);
    }
  }
}
