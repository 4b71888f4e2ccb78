// TunDevice on Linux: /dev/net/tun with IFF_TUN | IFF_NO_PI through the project's addon (native/src/tun.c).
//
// Receive flow: the addon's uv_poll watcher sees the fd readable -> drains up to `batchSize` packets with
// non-blocking read() into the poller's receive buffer, allocated once and lent (native/src/poller.c) -> one
// JS call -> onBatch(handler) once per wake-up with a refilled batch over that buffer (lent: ports.ts).
// Writes are one write() each: the kernel takes a TUN write synchronously (it never blocks), so there is
// nothing to queue. Why this design and not
// fs.read / koffi / a worker: bench/tun and docs/performance.md "TUN and raw ICMPv6: the measured choice".
//
// Offloads (issue 18, on unless TunOptions.offload / TEREDO_TUN_OFFLOAD=0 say no, and where the kernel takes
// them): the device is opened with IFF_VNET_HDR and TSO/checksum offload, so the kernel hands us TCP/UDP
// superframes of up to 64 KiB in one read, cut into wire-sized packets in C before JavaScript sees them
// (poller.c POLL_VNET; a batch then holds up to batchSize - 1 + VNET_MAX_SEGS packets). Writes are then
// queued like UDP sends (send-queue.ts: copied, flushed at the end of the JS turn) and leave in one native
// call, consecutive TCP segments (and UDP datagrams, where the kernel has USO) of one flow merged into one
// superframe write (native/src/tun-offload.c).
//
// Configuration (MTU, addresses, routes, up) uses ioctls on a socket opened in the device's network
// namespace, so `netns` works for creation and configuration alike (the tests create devices in namespaces).

import { getSystemErrorName } from 'node:util';
import { IoError, ioErrorFrom, rethrowLater } from './io-error.js';
import { loadNative, POLL_READ, POLL_VNET, READ_META_WORDS, TUN_WRITE_META_WORDS, VNET_MAX_SEGS, type NativeIo, type Poller, type TunOpened } from './native.js';
import { ReceiveBatch } from './batch.js';
import { offloadWanted } from './offload.js';
import { SendQueue } from './send-queue.js';
import type { PacketBatch, TunDevice } from './ports.js';

export interface TunOptions {
  /** Interface name (max 15 characters). An existing persistent TUN device of that name is attached to. */
  readonly name: string;
  /** Create the device inside this network namespace: a name under /run/netns or a path. */
  readonly netns?: string;
  readonly mtu?: number;
  /** Packets drained per wake-up (1..1024); default 64. */
  readonly batchSize?: number;
  /** Ask for IFF_VNET_HDR offloads; default: yes unless TEREDO_TUN_OFFLOAD=0 (offload.ts). */
  readonly offload?: boolean;
}

const DEFAULT_BATCH = 64;
/** Write queue bounds with offloads (send-queue.ts): a turn's worth of packets, and the largest IPv6 packet. */
const WRITE_STAGING_BYTES = 256 * 1024;
const WRITE_MAX_QUEUED = 1024;

export function openTun(options: TunOptions): TunDevice {
  const native = loadNative();
  let opened: TunOpened;
  try {
    opened = native.tunOpen(options.name, options.netns ?? null, offloadWanted('tun', options.offload));
  } catch (e) {
    throw ioErrorFrom('IO_TUN_OPEN', `cannot open TUN device ${JSON.stringify(options.name)}`, e);
  }
  const tun = new LinuxTun(native, opened, options.batchSize ?? DEFAULT_BATCH);
  if (options.mtu !== undefined) {
    try {
      tun.setMtu(options.mtu);
    } catch (e) {
      tun.close();
      throw e;
    }
  }
  return tun;
}

export class LinuxTun implements TunDevice {
  readonly name: string;
  readonly ifindex: number;
  /** The device reads superframes and takes merged writes (IFF_VNET_HDR). */
  readonly offload: boolean;
  readonly #native: NativeIo;
  readonly #fd: number;
  readonly #ctlFd: number;
  readonly #batchSize: number;
  #poller: Poller | undefined;
  #closed = false;
  #batchHandler: (batch: PacketBatch) => void = () => {};
  readonly #batch: ReceiveBatch;
  #errorHandler: (error: Error) => void = rethrowLater;
  /** With offloads: the write queue, and the merge switch the addon clears if the kernel refuses a superframe. */
  readonly #queue: SendQueue | undefined;
  readonly #merge: Uint8Array;

  constructor(native: NativeIo, opened: TunOpened, batchSize: number) {
    this.#native = native;
    this.#fd = opened.fd;
    this.#ctlFd = opened.ctlFd;
    this.#batchSize = batchSize;
    this.name = opened.name;
    this.ifindex = opened.ifindex;
    this.offload = opened.offload;
    this.#merge = new Uint8Array(new Int32Array([opened.merge]).buffer);
    this.#batch = new ReceiveBatch(opened.offload ? batchSize - 1 + VNET_MAX_SEGS : batchSize);
    this.#queue = !opened.offload ? undefined : new SendQueue({
      recordWords: TUN_WRITE_META_WORDS,
      maxPackets: WRITE_MAX_QUEUED,
      maxBytes: WRITE_STAGING_BYTES,
      code: 'IO_TUN_WRITE',
      transmit: (data, meta, count) => native.tunWriteBatch(this.#fd, data, meta, count, this.#merge),
      destination: () => this.name,
      report: (error) => this.#errorHandler(error),
    });
  }

  onBatch(handler: (batch: PacketBatch) => void): void {
    this.#batchHandler = handler;
    if (this.#poller !== undefined || this.#closed) return;
    this.#poller = this.#native.pollerStart(this.#fd, this.offload ? POLL_VNET : POLL_READ, this.#batchSize, this.#onRead);
  }

  onError(handler: (error: Error) => void): void {
    this.#errorHandler = handler;
  }

  /** With offloads the packet is queued (true once staged) and written at the end of this JS turn. */
  write(data: Uint8Array, offset = 0, length = data.length - offset): boolean {
    if (this.#closed) return false;
    if (this.#queue !== undefined) return this.#queue.stage(data, offset, length) >= 0;
    const n = this.#native.writeFd(this.#fd, data, offset, length);
    if (n >= 0) return true;
    this.#errorHandler(new IoError('IO_TUN_WRITE', `write ${this.name}: ${getSystemErrorName(n)}`, -n, 'write'));
    return false;
  }

  setMtu(mtu: number): void {
    this.#config(`set MTU ${mtu}`, () => this.#native.ifSetMtu(this.#ctlFd, this.name, mtu));
  }

  addAddress(address: Uint8Array, prefixLength: number): void {
    this.#config('add address', () => this.#native.ifAddress6(this.#ctlFd, this.ifindex, address, prefixLength, true));
  }

  removeAddress(address: Uint8Array, prefixLength: number): void {
    this.#config('remove address', () => this.#native.ifAddress6(this.#ctlFd, this.ifindex, address, prefixLength, false));
  }

  addRoute(prefix: Uint8Array, prefixLength: number, metric = 0): void {
    this.#config('add route', () => this.#native.ifRoute6(this.#ctlFd, this.ifindex, prefix, prefixLength, metric, true));
  }

  removeRoute(prefix: Uint8Array, prefixLength: number, metric = 0): void {
    this.#config('remove route', () => this.#native.ifRoute6(this.#ctlFd, this.ifindex, prefix, prefixLength, metric, false));
  }

  setUp(up: boolean): void {
    this.#config(up ? 'bring up' : 'bring down', () => this.#native.ifSetUp(this.#ctlFd, this.name, up));
  }

  close(): void {
    if (this.#closed) return;
    this.#queue?.flush();
    this.#closed = true;
    if (this.#poller !== undefined) this.#native.pollerClose(this.#poller.handle);
    else this.#native.closeFd(this.#fd);
    this.#native.closeFd(this.#ctlFd);
  }

  readonly #onRead = (errno: number, count: number): void => {
    if (errno !== 0) {
      this.#errorHandler(new IoError('IO_TUN_READ', `read ${this.name}: ${getSystemErrorName(-errno)}`, errno, 'read'));
      return;
    }
    if (!this.#closed) this.#batch.deliver(this.#poller!, count, READ_META_WORDS, this.#batchHandler, this.#handlerThrew);
  };

  readonly #handlerThrew = (e: unknown): void => this.#errorHandler(ioErrorFrom('IO_HANDLER', `batch handler of ${this.name} threw`, e));

  #config(what: string, op: () => void): void {
    if (this.#closed) throw new IoError('IO_CLOSED', `${this.name} is closed`);
    try {
      op();
    } catch (e) {
      throw ioErrorFrom('IO_IF_CONFIG', `${this.name}: ${what}`, e);
    }
  }
}
