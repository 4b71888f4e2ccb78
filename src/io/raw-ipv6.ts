// NativeIpv6Sender on Linux: a send-only socket(AF_INET6, SOCK_RAW, IPPROTO_RAW) through the project's addon
// (native/src/raw6.c). With protocol IPPROTO_RAW the kernel expects the whole packet, IPv6 header included,
// and routes it by its destination like a packet this host made, so a Teredo server can put a client's
// packet on the native IPv6 network as the client wrote it (source = the client's Teredo address), with
// CAP_NET_RAW and no TUN device, no address and no forwarding sysctl. miredo-server does the same.
//
//   send(data, offset, length) ──copy into a staging area──► ... end of this JS turn ──► ONE raw6SendBatch ──► sendmmsg
//
// As with the native UDP port (datagram-port-native.ts), sends are queued and flushed by a microtask, so the
// packets one received batch produces leave in one native call. Each packet's destination is read from its
// own header (bytes 24..39) by the addon. Failures are reported one IoError per packet (code IO_RAW6_SEND,
// with the errno and the destination); EAGAIN / ENOBUFS fails the rest of that flush, as a full queue would.
//
// Bounds: at most MAX_QUEUED packets and STAGING_BYTES bytes wait for a flush; more flush early.

import { getSystemErrorName } from 'node:util';
import { formatIpv6 } from '../wire/ipv6-address.js';
import { IoError, ioErrorFrom, rethrowLater } from './io-error.js';
import { LITTLE_ENDIAN, loadNative, RAW6_SEND_META_LEN, type NativeIo } from './native.js';
import type { NativeIpv6Sender } from './ports.js';

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

/** RFC 8200 §3: a 40-byte fixed header, then at most 65535 bytes of payload. */
const IPV6_HEADER = 40;
const IPV6_MAX = IPV6_HEADER + 65_535;
const STAGING_BYTES = 64 * 1024;
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

/** Every sender with queued packets; flushed together by one microtask at the end of the current JS turn. */
const pending = new Set<LinuxRawIpv6Sender>();
let flushScheduled = false;

function flushPending(): void {
  flushScheduled = false;
  for (const sender of pending) sender.flush();
}

export class LinuxRawIpv6Sender implements NativeIpv6Sender {
  private closed = false;
  private errorHandler: (error: Error) => void = rethrowLater;
  private staging = new Uint8Array(STAGING_BYTES);
  private stagedBytes = 0;
  private readonly meta = new Uint8Array(MAX_QUEUED * RAW6_SEND_META_LEN);
  private readonly metaView = new DataView(this.meta.buffer);
  private queued = 0;
  private readonly counters: RawIpv6Stats = { sent: 0, failed: 0, flushes: 0 };

  constructor(
    private readonly native: NativeIo,
    private readonly fd: number,
  ) {}

  onError(handler: (error: Error) => void): void {
    this.errorHandler = handler;
  }

  send(data: Uint8Array, offset: number, length: number): boolean {
    // Version 6 in the first nibble and a length the header can describe; anything else the kernel would
    // send as garbage or refuse with EINVAL, so it is refused here, with a reason.
    if (this.closed || !(length >= IPV6_HEADER && length <= IPV6_MAX && offset >= 0 && offset + length <= data.length) || data[offset]! >> 4 !== 6) {
      this.counters.failed++;
      const why = this.closed ? 'sender is closed' : `not an IPv6 packet of ${IPV6_HEADER}..${IPV6_MAX} bytes (offset ${offset}, length ${length})`;
      this.errorHandler(new IoError('IO_RAW6_SEND', `raw IPv6 send: ${why}`));
      return false;
    }
    if (this.queued === MAX_QUEUED || this.stagedBytes + length > this.staging.length) this.flush();
    if (length > this.staging.length) this.staging = new Uint8Array(length);
    this.staging.set(data.subarray(offset, offset + length), this.stagedBytes);
    this.metaView.setUint32(this.queued * RAW6_SEND_META_LEN, length, LITTLE_ENDIAN);
    this.stagedBytes += length;
    this.queued++;
    if (this.queued === 1) pending.add(this);
    if (!flushScheduled) {
      flushScheduled = true;
      queueMicrotask(flushPending);
    }
    return true;
  }

  /** Sends everything queued now (normally done for you at the end of the current JS turn). */
  flush(): void {
    pending.delete(this);
    const count = this.queued;
    if (count === 0) return;
    this.queued = 0;
    this.stagedBytes = 0;
    this.counters.flushes++;
    let failed: number;
    try {
      failed = this.native.raw6SendBatch(this.fd, this.staging, this.meta, count);
    } catch (e) {
      this.counters.failed += count;
      this.errorHandler(ioErrorFrom('IO_RAW6_SEND', `sendmmsg of ${count} IPv6 packets`, e));
      return;
    }
    this.counters.sent += count - failed;
    if (failed > 0) this.reportFailures(count);
  }

  stats(): RawIpv6Stats {
    return { ...this.counters };
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.native.closeFd(this.fd);
  }

  /** One IoError per refused packet, naming its destination (read back from the staged header). */
  private reportFailures(count: number): void {
    let at = 0;
    for (let i = 0; i < count; i++) {
      const length = this.metaView.getUint32(i * RAW6_SEND_META_LEN, LITTLE_ENDIAN);
      const errno = this.metaView.getInt32(i * RAW6_SEND_META_LEN + 4, LITTLE_ENDIAN);
      if (errno !== 0) {
        this.counters.failed++;
        const to = formatIpv6(this.staging, at + 24);
        this.errorHandler(new IoError('IO_RAW6_SEND', `send to ${to}: ${getSystemErrorName(-errno)}`, errno, 'sendmmsg'));
      }
      at += length;
    }
  }
}
