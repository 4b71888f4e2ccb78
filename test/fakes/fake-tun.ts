// In-memory TunDevice for engine drivers' tests (wireguard-go tun/tuntest ChannelTUN): `inject` plays the
// kernel routing a packet into the device, `written` collects what the code under test wrote, and the
// configuration calls are recorded so a test can assert the device was set up as intended. Injected packets are
// lent as the real device lends them (ports.ts): at an offset inside a batch buffer that is overwritten as soon
// as the handler returns, so code that keeps a view of a received packet fails its test.

import { ReceiveBatch } from '../../src/io/batch.js';
import type { PacketBatch, TunDevice } from '../../src/io/ports.js';

export type TunConfigCall =
  | { op: 'mtu'; mtu: number }
  | { op: 'add-address' | 'remove-address'; address: Uint8Array; prefixLength: number }
  | { op: 'add-route' | 'remove-route'; prefix: Uint8Array; prefixLength: number; metric: number }
  | { op: 'up'; up: boolean };

export class FakeTun implements TunDevice {
  readonly written: Uint8Array[] = [];
  readonly config: TunConfigCall[] = [];
  closed = false;
  /** When set, write() fails with this error (reported to onError) instead of recording the packet. */
  failWrites: Error | undefined;
  private batchHandler: ((batch: PacketBatch) => void) | undefined;
  private readonly batch = new ReceiveBatch(64);
  private errorHandler: ((error: Error) => void) | undefined;

  constructor(
    readonly name = 'faketun0',
    readonly ifindex = 7,
  ) {}

  /** The kernel hands packets to the device, as one batch; true if a handler received it. */
  inject(...packets: Uint8Array[]): boolean {
    if (this.closed || !this.batchHandler) return false;
    const total = packets.reduce((n, p) => n + p.length, 0);
    const data = new Uint8Array(total + 3);
    this.batch.reset(data);
    let at = 3;
    for (const p of packets) {
      data.set(p, at);
      this.batch.push(at, p.length);
      at += p.length;
    }
    this.batchHandler(this.batch);
    data.fill(0xa5); // lent: the memory is reused once the handler returns
    this.batch.release();
    return true;
  }

  /** Reports a receive error as the real device would. */
  injectError(error: Error): void {
    this.errorHandler?.(error);
  }

  onBatch(handler: (batch: PacketBatch) => void): void {
    this.batchHandler = handler;
  }

  onError(handler: (error: Error) => void): void {
    this.errorHandler = handler;
  }

  write(data: Uint8Array, offset = 0, length = data.length - offset): boolean {
    if (this.closed) return false;
    if (this.failWrites) {
      this.errorHandler?.(this.failWrites);
      return false;
    }
    this.written.push(data.slice(offset, offset + length));
    return true;
  }

  setMtu(mtu: number): void {
    this.config.push({ op: 'mtu', mtu });
  }

  addAddress(address: Uint8Array, prefixLength: number): void {
    this.config.push({ op: 'add-address', address: address.slice(), prefixLength });
  }

  removeAddress(address: Uint8Array, prefixLength: number): void {
    this.config.push({ op: 'remove-address', address: address.slice(), prefixLength });
  }

  addRoute(prefix: Uint8Array, prefixLength: number, metric = 0): void {
    this.config.push({ op: 'add-route', prefix: prefix.slice(), prefixLength, metric });
  }

  removeRoute(prefix: Uint8Array, prefixLength: number, metric = 0): void {
    this.config.push({ op: 'remove-route', prefix: prefix.slice(), prefixLength, metric });
  }

  setUp(up: boolean): void {
    this.config.push({ op: 'up', up });
  }

  close(): void {
    this.closed = true;
  }
}
