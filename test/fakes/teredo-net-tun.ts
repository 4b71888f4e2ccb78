// TUN devices on the VirtualInternet's clock (teredo-net.ts tunPair): two devices linked back to back, so that
// an IPv6 packet the code under test writes into one arrives, the link's latency later, as a lent batch on the
// other. One end is a client's or relay's TUN device; the other is the test playing the local applications or
// the native IPv6 network (or a second agent). Built on FakeTun: configuration calls are recorded, `written`
// keeps a copy of everything written, and delivery goes through FakeTun.inject, which lends the bytes and
// overwrites them once the handler returns.

import { FakeTun } from './fake-tun.js';

/** Packets a device holds for a reader that has not called onBatch yet (Linux's default txqueuelen). */
export const TUN_QUEUE_LIMIT = 500;
/** Packets per onBatch call. */
export const TUN_BATCH_SIZE = 64;

/** What a device needs from the network it is attached to. */
export interface TunLink {
  /** `packet` (a copy, owned by the link) leaves `from` toward its peer. */
  transmit(from: VirtualTun, packet: Uint8Array): void;
  /** The device has packets to hand over: deliver them at the current instant. */
  wake(tun: VirtualTun): void;
}

export class VirtualTun extends FakeTun {
  /** Packets dropped because the queue was full or the device closed. */
  overflows = 0;
  readonly #link: TunLink;
  readonly #queue: Uint8Array[] = [];
  #reading = false;

  constructor(link: TunLink, name: string, ifindex: number) {
    super(name, ifindex);
    this.#link = link;
  }

  override onBatch(handler: Parameters<FakeTun['onBatch']>[0]): void {
    super.onBatch(handler);
    this.#reading = true;
    if (this.#queue.length > 0) this.#link.wake(this);
  }

  /** Records the packet (FakeTun.written) and sends it to the peer device; false when closed or failing. */
  override write(data: Uint8Array, offset = 0, length = data.length - offset): boolean {
    if (!super.write(data, offset, length)) return false;
    this.#link.transmit(this, this.written[this.written.length - 1]!);
    return true;
  }

  /** Called by the network: a packet reached this device. False when it is dropped. */
  arrive(packet: Uint8Array): boolean {
    if (this.closed || this.#queue.length >= TUN_QUEUE_LIMIT) {
      this.overflows++;
      return false;
    }
    this.#queue.push(packet);
    return true;
  }

  /** Called by the network once the packets due now have arrived: hands them over in lent batches. */
  deliver(): void {
    while (this.#reading && !this.closed && this.#queue.length > 0) this.inject(...this.#queue.splice(0, TUN_BATCH_SIZE));
  }
}
