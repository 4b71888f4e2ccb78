// DatagramPort over the project's addon (native/src/udp.c + poller.c): the UDP socket for a busy Teredo server.
// node:dgram costs one recvmsg(), one Buffer, one rinfo object and one callback per datagram received, and one
// sendmsg() plus a send callback per datagram sent. Here:
//
//   kernel ──recvmmsg (≤ batchSize)──► ONE call into JS per batch ──► handler(batch) once, lent (ports.ts)
//   send(data, offset, length, addr, port) ──copy into a staging area──► end of this JS turn ──► ONE sendmmsg
//
// Sends go through a SendQueue (send-queue.ts): copied at send(), flushed when the received batch's delivery
// returns (or by one microtask at the end of the current JS turn) together with every other queue that has
// something staged, so everything a batch of RSs
// produces leaves in one native call and a cone-bit RS answered through the other port's socket is flushed
// with the rest. Receiving allocates nothing: the addon's poller lends one receive buffer per port, refilled
// by every wake-up (native/src/poller.c), and one ReceiveBatch per port is refilled from its meta records.
//
// Offloads (issue 18; on unless `offload: false` / TEREDO_UDP_OFFLOAD=0, and where the kernel has them):
// UDP_GRO lets the kernel hand us coalesced datagrams, cut back into one batch entry per datagram in C
// (poller.c POLL_UDP4_GRO; a batch then holds up to batchSize * GRO_SEGS entries), and a flush sends each run
// of same-size datagrams to one destination as one UDP GSO message, in the flush's one sendmmsg (udp.c; EIO
// from the egress device turns GSO off for the socket, and the run is resent plainly).
//
// The DF bit is clear by default (IP_PMTUDISC_DONT): RFC 4380 §5.1.2 says Teredo datagrams SHOULD NOT set it,
// and Linux sets it on UDP unless told otherwise (node:dgram cannot). Failed sends are reported one IoError per
// datagram (code IO_UDP_SEND, with the errno and destination), as send-queue.ts describes.

import { getSystemErrorName } from 'node:util';
import type { Endpoint4 } from '../wire/endpoint.js';
import { formatIpv4 } from '../wire/ipv4.js';
import type { DatagramPortOptions } from './datagram-port.js';
import { ReceiveBatch } from './batch.js';
import { IoError, ioErrorFrom, rethrowLater } from './io-error.js';
import { SendQueue } from './send-queue.js';
import { offloadWanted } from './offload.js';
import { GRO_SEGS, loadNative, POLL_UDP4, POLL_UDP4_GRO, UDP4_META_WORDS, UDP_OPT, UDP_SEND_META_WORDS, type NativeIo, type Poller, type UdpOpened } from './native.js';
import type { DatagramBatch, DatagramPort } from './ports.js';

export interface NativeDatagramPortOptions extends DatagramPortOptions {
  /** Open the socket inside this network namespace: a name under /run/netns or a path. */
  readonly netns?: string;
  /** Datagrams drained per wake-up (1..1024); default 64. */
  readonly batchSize?: number;
  /** Set the DF bit (IP_PMTUDISC_DO); default false, as RFC 4380 §5.1.2 asks of Teredo. */
  readonly dontFragment?: boolean;
  /** Ask for UDP_GRO and UDP GSO; default: yes unless TEREDO_UDP_OFFLOAD=0 (offload.ts). */
  readonly offload?: boolean;
}

/** What the port did; the benchmark and tests read it. */
export interface NativePortStats {
  received: number;
  receiveBatches: number;
  sent: number;
  sendFailed: number;
  /** udpSendBatch calls (each one or more sendmmsg). */
  flushes: number;
}

const DEFAULT_BATCH = 64;
/** Send queue bounds (send-queue.ts): room for a batch's replies, and for the largest datagram (65 507 bytes). */
const STAGING_BYTES = 128 * 1024;
const MAX_QUEUED = 1024;

export function openNativeDatagramPort(options: NativeDatagramPortOptions = {}): NativeDatagramPort {
  const native = loadNative();
  const address = options.address ?? 0;
  const port = options.port ?? 0;
  let opened: UdpOpened;
  try {
    opened = native.udpOpen(address, port, options.netns ?? null, options.reuseAddr ?? false,
      options.receiveBufferSize ?? 0, options.sendBufferSize ?? 0, options.dontFragment ?? false, offloadWanted('udp', options.offload));
  } catch (e) {
    const errno = (e as { errno?: unknown }).errno;
    const bind = (e as { code?: unknown }).code === 'IO_UDP_BIND';
    // Like node:dgram's errors, the cause carries the errno's name as `code` (EADDRINUSE, ...).
    const cause = typeof errno === 'number' ? Object.assign(new Error((e as Error).message), { code: getSystemErrorName(-errno), errno, syscall: (e as { syscall?: string }).syscall }) : e;
    throw ioErrorFrom(bind ? 'IO_UDP_BIND' : 'IO_UDP_OPEN', `cannot ${bind ? 'bind' : 'open'} UDP ${formatIpv4(address)}:${port}`, cause);
  }
  return new NativeDatagramPort(native, opened, options.batchSize ?? DEFAULT_BATCH);
}

export class NativeDatagramPort implements DatagramPort {
  readonly local: Endpoint4;
  /** Effective socket buffer sizes as the kernel reports them (twice what was asked, socket(7)). */
  readonly receiveBufferSize: number;
  readonly sendBufferSize: number;
  /** UDP_GRO and UDP GSO are on (GSO may turn itself off later: gsoActive). */
  readonly offload: boolean;
  readonly #native: NativeIo;
  readonly #fd: number;
  readonly #batchSize: number;
  #poller: Poller | undefined;
  #closed = false;
  #batchHandler: (batch: DatagramBatch) => void = () => {};
  readonly #batch: ReceiveBatch;
  #errorHandler: (error: Error) => void = rethrowLater;
  readonly #queue: SendQueue;
  /** gso[0] = 1 while sends use UDP GSO; the addon clears it when the egress device refuses (EIO). */
  readonly #gso: Int32Array;
  readonly #gsoBytes: Uint8Array;
  #received = 0;
  #receiveBatches = 0;

  constructor(native: NativeIo, opened: UdpOpened, batchSize: number) {
    this.#native = native;
    this.#fd = opened.fd;
    this.#batchSize = batchSize;
    this.local = { addr: opened.address | 0, port: opened.port };
    this.receiveBufferSize = opened.receiveBufferSize;
    this.sendBufferSize = opened.sendBufferSize;
    this.offload = opened.offload;
    this.#gso = new Int32Array([opened.offload ? 1 : 0]);
    this.#gsoBytes = new Uint8Array(this.#gso.buffer);
    this.#batch = new ReceiveBatch(opened.offload ? batchSize * GRO_SEGS : batchSize);
    this.#queue = new SendQueue({
      recordWords: UDP_SEND_META_WORDS,
      maxPackets: MAX_QUEUED,
      maxBytes: STAGING_BYTES,
      code: 'IO_UDP_SEND',
      transmit: (data, meta, count) => native.udpSendBatch(this.#fd, data, meta, count, this.#gsoBytes),
      destination: (meta, w) => `${formatIpv4(meta[w + 1]!)}:${meta[w + 2]!}`,
      report: (error) => this.#errorHandler(error),
    });
  }

  /** Receiving starts at the first call (a send-only port never polls). */
  onBatch(handler: (batch: DatagramBatch) => void): void {
    this.#batchHandler = handler;
    if (this.#poller !== undefined || this.#closed) return;
    this.#poller = this.#native.pollerStart(this.#fd, this.offload ? POLL_UDP4_GRO : POLL_UDP4, this.#batchSize, this.#onReceived);
  }

  onError(handler: (error: Error) => void): void {
    this.#errorHandler = handler;
  }

  send(data: Uint8Array, offset: number, length: number, addr: number, port: number): void {
    if (this.#closed || !(port >= 0 && port <= 65535 && Number.isInteger(port))) {
      const why = this.#closed ? 'port is closed' : 'destination port must be an integer 0..65535';
      this.#queue.refuse(`send to ${formatIpv4(addr)}:${port}: ${why}`);
      return;
    }
    const w = this.#queue.stage(data, offset, length);
    if (w < 0) return;
    const meta = this.#queue.meta;
    meta[w + 1] = addr;
    meta[w + 2] = port;
  }

  /** Sends everything queued now (normally done for you at the end of the current JS turn). */
  flush(): void {
    this.#queue.flush();
  }

  joinGroup(group: number, interfaceAddress = 0): void {
    this.#config(`join ${formatIpv4(group)}`, () => this.#native.udpMembership(this.#fd, group, interfaceAddress, true));
  }

  leaveGroup(group: number, interfaceAddress = 0): void {
    this.#config(`leave ${formatIpv4(group)}`, () => this.#native.udpMembership(this.#fd, group, interfaceAddress, false));
  }

  setMulticastTtl(ttl: number): void {
    this.#config(`multicast TTL ${ttl}`, () => this.#native.udpSetOption(this.#fd, UDP_OPT.multicastTtl, checkTtl(ttl, 0)));
  }

  setMulticastInterface(interfaceAddress: number): void {
    this.#config(`multicast interface ${formatIpv4(interfaceAddress)}`, () =>
      this.#native.udpSetOption(this.#fd, UDP_OPT.multicastInterface, interfaceAddress));
  }

  setMulticastLoopback(on: boolean): void {
    this.#config(`multicast loopback ${on}`, () => this.#native.udpSetOption(this.#fd, UDP_OPT.multicastLoop, on ? 1 : 0));
  }

  setTtl(ttl: number): void {
    this.#config(`TTL ${ttl}`, () => this.#native.udpSetOption(this.#fd, UDP_OPT.ttl, checkTtl(ttl, 1)));
  }

  /** Sends still use UDP GSO (false without offloads, or after the egress device refused it). */
  get gsoActive(): boolean {
    return this.#gso[0] === 1;
  }

  stats(): NativePortStats {
    const q = this.#queue;
    return { received: this.#received, receiveBatches: this.#receiveBatches, sent: q.sent, sendFailed: q.failed, flushes: q.flushes };
  }

  /** Sends what is queued, then stops receiving and closes the socket. Idempotent. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#queue.flush();
      this.#closed = true;
      if (this.#poller !== undefined) this.#native.pollerClose(this.#poller.handle);
      else this.#native.closeFd(this.#fd);
    }
    return Promise.resolve();
  }

  readonly #onReceived = (errno: number, count: number): void => {
    if (errno !== 0) {
      this.#errorHandler(new IoError('IO_UDP_RECV', `recvmmsg on port ${this.local.port}: ${getSystemErrorName(-errno)}`, errno, 'recvmmsg'));
      return;
    }
    if (this.#closed) return;
    this.#receiveBatches++;
    this.#received += count;
    this.#batch.deliver(this.#poller!, count, UDP4_META_WORDS, this.#batchHandler, this.#handlerThrew);
  };

  readonly #handlerThrew = (e: unknown): void => this.#errorHandler(ioErrorFrom('IO_HANDLER', `batch handler on port ${this.local.port} threw`, e));

  #config(what: string, op: () => void): void {
    if (this.#closed) throw new IoError('IO_CLOSED', `UDP port ${this.local.port} is closed`);
    try {
      op();
    } catch (e) {
      throw ioErrorFrom('IO_UDP_CONFIG', `UDP port ${this.local.port}: ${what}`, e);
    }
  }
}

/** node:dgram's bounds: multicast TTL 0..255 (0 = this host only), unicast TTL 1..255. */
function checkTtl(ttl: number, min: number): number {
  if (!Number.isInteger(ttl) || ttl < min || ttl > 255) throw new RangeError(`TTL must be an integer ${min}..255, got ${ttl}`);
  return ttl;
}
