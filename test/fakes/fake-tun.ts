// In-memory TunDevice for engine drivers' tests (wireguard-go tun/tuntest ChannelTUN): `inject` plays the
// kernel routing a packet into the device, `written` collects what the code under test wrote, and the
// configuration calls are recorded so a test can assert the device was set up as intended.

import type { TunDevice } from '../../src/io/ports.js';

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
  private packetHandler: ((packet: Uint8Array) => void) | undefined;
  private errorHandler: ((error: Error) => void) | undefined;

  constructor(
    readonly name = 'faketun0',
    readonly ifindex = 7,
  ) {}

  /** The kernel hands a packet to the device; true if a handler received it. */
  inject(packet: Uint8Array): boolean {
    if (this.closed || !this.packetHandler) return false;
    this.packetHandler(packet.slice());
    return true;
  }

  /** Reports a receive error as the real device would. */
  injectError(error: Error): void {
    this.errorHandler?.(error);
  }

  onPacket(handler: (packet: Uint8Array) => void): void {
    this.packetHandler = handler;
  }

  onError(handler: (error: Error) => void): void {
    this.errorHandler = handler;
  }

  write(packet: Uint8Array): boolean {
    if (this.closed) return false;
    if (this.failWrites) {
      this.errorHandler?.(this.failWrites);
      return false;
    }
    this.written.push(packet.slice());
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
