// TunDevice on Linux: /dev/net/tun with IFF_TUN | IFF_NO_PI through the project's addon (native/src/tun.c).
//
// Receive flow: the addon's uv_poll watcher sees the fd readable -> drains up to `batchSize` packets with
// non-blocking read() into the poller's receive buffer, allocated once and lent (native/src/poller.c) -> one
// JS call -> onBatch(handler) once per wake-up with a refilled batch over that buffer (lent: ports.ts).
// Writes are one write() each: the kernel takes a TUN write synchronously (it never blocks), so there is
// nothing to queue. Why this design and not
// fs.read / koffi / a worker: bench/tun and docs/performance.md "TUN and raw ICMPv6: the measured choice".
//
// Configuration (MTU, addresses, routes, up) uses ioctls on a socket opened in the device's network
// namespace, so `netns` works for creation and configuration alike (the tests create devices in namespaces).

import { getSystemErrorName } from 'node:util';
import { IoError, ioErrorFrom, rethrowLater } from './io-error.js';
import { loadNative, POLL_READ, READ_META_WORDS, type NativeIo, type Poller } from './native.js';
import { ReceiveBatch } from './batch.js';
import type { PacketBatch, TunDevice } from './ports.js';

export interface TunOptions {
  /** Interface name (max 15 characters). An existing persistent TUN device of that name is attached to. */
  readonly name: string;
  /** Create the device inside this network namespace: a name under /run/netns or a path. */
  readonly netns?: string;
  readonly mtu?: number;
  /** Packets drained per wake-up (1..1024); default 64. */
  readonly batchSize?: number;
}

const DEFAULT_BATCH = 64;

export function openTun(options: TunOptions): TunDevice {
  const native = loadNative();
  let opened: ReturnType<NativeIo['tunOpen']>;
  try {
    opened = native.tunOpen(options.name, options.netns ?? null);
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

class LinuxTun implements TunDevice {
  readonly name: string;
  readonly ifindex: number;
  readonly #native: NativeIo;
  readonly #fd: number;
  readonly #ctlFd: number;
  readonly #batchSize: number;
  #poller: Poller | undefined;
  #closed = false;
  #batchHandler: (batch: PacketBatch) => void = () => {};
  readonly #batch: ReceiveBatch;
  #errorHandler: (error: Error) => void = rethrowLater;

  constructor(native: NativeIo, opened: { fd: number; ctlFd: number; name: string; ifindex: number }, batchSize: number) {
    this.#native = native;
    this.#fd = opened.fd;
    this.#ctlFd = opened.ctlFd;
    this.#batchSize = batchSize;
    this.name = opened.name;
    this.ifindex = opened.ifindex;
    this.#batch = new ReceiveBatch(batchSize);
  }

  onBatch(handler: (batch: PacketBatch) => void): void {
    this.#batchHandler = handler;
    if (this.#poller !== undefined || this.#closed) return;
    this.#poller = this.#native.pollerStart(this.#fd, POLL_READ, this.#batchSize, this.#onRead);
  }

  onError(handler: (error: Error) => void): void {
    this.#errorHandler = handler;
  }

  write(data: Uint8Array, offset = 0, length = data.length - offset): boolean {
    if (this.#closed) return false;
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
