// NativeIpv6Sender on Linux: a send-only socket(AF_INET6, SOCK_RAW, IPPROTO_RAW) through the project's addon
// (native/src/raw6.c). With protocol IPPROTO_RAW the kernel expects the whole packet, IPv6 header included,
// and routes it by its destination like a packet this host made, so a Teredo server can put a client's
// packet on the native IPv6 network as the client wrote it (source = the client's Teredo address), with
// CAP_NET_RAW and no TUN device, no address and no forwarding sysctl. miredo-server does the same.
//
//   send(data, offset, length) ──SendQueue (send-queue.ts)──► end of this JS turn ──► ONE raw6SendBatch ──► sendmmsg
//
// As with the native UDP port, the packets one received batch produces leave in one native call; the bounds
// and the failure reports (one IoError per packet, code IO_RAW6_SEND, with the errno and the destination) are
// the queue's. Each packet's destination is read from its own header (bytes 24..39) by the addon.

import { IPV6_FIELD, IPV6_HEADER_LEN } from '../wire/ipv6.js';
import { formatIpv6 } from '../wire/ipv6-address.js';
import { ioErrorFrom, rethrowLater } from './io-error.js';
import { loadNative, RAW6_SEND_META_WORDS, type NativeIo } from './native.js';
import type { NativeIpv6Sender } from './ports.js';
import { SendQueue } from './send-queue.js';

export interface RawIpv6Options {
  /** Open the socket inside this network namespace: a name under /run/netns or a path. */
  readonly netns?: string;
}

/** What the sender did; tests and status read it. */
export interface RawIpv6Stats {
  /** Packets the kernel accepted. */
  sent: number;
  /** Packets refused, by us (not IPv6, closed) or by the kernel (no route, too big, firewall). */
  failed: number;
  /** raw6SendBatch calls (each one or more sendmmsg). */
  flushes: number;
}

/** RFC 8200 §3: the fixed header, then at most 65535 bytes of payload. */
const IPV6_MAX = IPV6_HEADER_LEN + 65_535;
/** Send queue bounds (send-queue.ts): the largest IPv6 packet fits. */
const STAGING_BYTES = 128 * 1024;
const MAX_QUEUED = 256;

/** Opens the socket; throws IoError IO_RAW6_OPEN (errno EPERM without CAP_NET_RAW) or IO_NATIVE_MISSING. */
export function openRawIpv6Sender(options: RawIpv6Options = {}): LinuxRawIpv6Sender {
  const native = loadNative();
  let fd: number;
  try {
    fd = native.raw6Open(options.netns ?? null);
  } catch (e) {
    throw ioErrorFrom('IO_RAW6_OPEN', 'cannot open a raw IPv6 socket (needs CAP_NET_RAW)', e);
  }
  return new LinuxRawIpv6Sender(native, fd);
}

export class LinuxRawIpv6Sender implements NativeIpv6Sender {
  readonly #native: NativeIo;
  readonly #fd: number;
  readonly #queue: SendQueue;
  #closed = false;
  #errorHandler: (error: Error) => void = rethrowLater;

  constructor(native: NativeIo, fd: number) {
    this.#native = native;
    this.#fd = fd;
    this.#queue = new SendQueue({
      recordWords: RAW6_SEND_META_WORDS,
      maxPackets: MAX_QUEUED,
      maxBytes: STAGING_BYTES,
      code: 'IO_RAW6_SEND',
      transmit: (data, meta, count) => native.raw6SendBatch(fd, data, meta, count),
      destination: (_meta, _w, data, at) => formatIpv6(data, at + IPV6_FIELD.DST),
      report: (error) => this.#errorHandler(error),
    });
  }

  onError(handler: (error: Error) => void): void {
    this.#errorHandler = handler;
  }

  send(data: Uint8Array, offset: number, length: number): boolean {
    // Version 6 in the first nibble and a length the header can describe; anything else the kernel would
    // send as garbage or refuse with EINVAL, so it is refused here, with a reason.
    if (this.#closed || !(length >= IPV6_HEADER_LEN && length <= IPV6_MAX && offset >= 0 && offset + length <= data.length) || data[offset]! >> 4 !== 6) {
      const why = this.#closed ? 'sender is closed' : `not an IPv6 packet of ${IPV6_HEADER_LEN}..${IPV6_MAX} bytes (offset ${offset}, length ${length})`;
      this.#queue.refuse(`raw IPv6 send: ${why}`);
      return false;
    }
    return this.#queue.stage(data, offset, length) >= 0;
  }

  /** Sends everything queued now (normally done for you at the end of the current JS turn). */
  flush(): void {
    this.#queue.flush();
  }

  stats(): RawIpv6Stats {
    const q = this.#queue;
    return { sent: q.sent, failed: q.failed, flushes: q.flushes };
  }

  close(): void {
    if (this.#closed) return;
    this.#queue.flush();
    this.#closed = true;
    this.#native.closeFd(this.#fd);
  }
}
