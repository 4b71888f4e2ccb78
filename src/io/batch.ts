// The batch objects ports hand to their handlers (ports.ts PacketBatch / DatagramBatch): one per port, refilled
// for every wake-up, so receiving allocates nothing per packet. The bytes are lent: valid during the handler
// call only (ports.ts, "RECEIVED BYTES ARE LENT"). Source addresses are int32 (src/wire/ipv4.ts): read from an
// Int32Array they stay small integers in V8 whatever the address, where a uint32 of 128.0.0.0 or more would be
// a heap number allocated per packet.

import type { DatagramBatch } from './ports.js';
import { holdFlushes, releaseFlushes } from './send-queue.js';

const EMPTY = new Uint8Array(0);

/** A refillable DatagramBatch of at most `capacity` entries; also serves as a PacketBatch (address 0, port 0). */
export class ReceiveBatch implements DatagramBatch {
  count = 0;
  data: Uint8Array = EMPTY;
  readonly #offsets: Int32Array;
  readonly #lengths: Int32Array;
  readonly #addrs: Int32Array;
  readonly #ports: Uint16Array;

  constructor(readonly capacity: number) {
    this.#offsets = new Int32Array(capacity);
    this.#lengths = new Int32Array(capacity);
    this.#addrs = new Int32Array(capacity);
    this.#ports = new Uint16Array(capacity);
  }

  offset(i: number): number {
    return this.#offsets[i]!;
  }

  length(i: number): number {
    return this.#lengths[i]!;
  }

  sourceAddr(i: number): number {
    return this.#addrs[i]!;
  }

  sourcePort(i: number): number {
    return this.#ports[i]!;
  }

  /** Starts a new batch over `data` (the entries pushed next point into it). */
  reset(data: Uint8Array): void {
    this.data = data;
    this.count = 0;
  }

  /**
   * Refills the batch from a poller's lent memory (native.ts Poller): `count` packets back to back in `data`,
   * one record of `words` int32s each in `meta`: the length, then (UDP, 3 words) source address and port.
   */
  fill(data: Uint8Array, meta: Int32Array, count: number, words: number): void {
    this.reset(data);
    let offset = 0;
    for (let i = 0, w = 0; i < count; i++, w += words) {
      const length = meta[w]!;
      this.push(offset, length, words > 1 ? meta[w + 1]! : 0, words > 2 ? meta[w + 2]! : 0);
      offset += length;
    }
  }

  /**
   * One wake-up of a poller (native.ts Poller): refills the batch from its lent memory, hands it to `handler`,
   * flushes what the handler sent (send-queue.ts holdFlushes), then forgets the memory. What the handler throws goes to `threw` (pass a pre-bound function: nothing is
   * allocated per batch).
   */
  deliver(rx: { readonly data: Uint8Array; readonly meta: Int32Array }, count: number, words: number, handler: (batch: this) => void, threw: (e: unknown) => void): void {
    this.fill(rx.data, rx.meta, count, words);
    holdFlushes();
    try {
      handler(this);
    } catch (e) {
      threw(e);
    }
    releaseFlushes();
    this.release();
  }

  /** Appends one entry (`addr` as int32 or uint32; stored as int32); false when the batch is full. */
  push(offset: number, length: number, addr = 0, port = 0): boolean {
    const i = this.count;
    if (i === this.capacity) return false;
    this.#offsets[i] = offset;
    this.#lengths[i] = length;
    this.#addrs[i] = addr;
    this.#ports[i] = port;
    this.count = i + 1;
    return true;
  }

  /** Forgets the data reference once delivered, so lent memory is not kept alive by the batch. */
  release(): void {
    this.data = EMPTY;
    this.count = 0;
  }
}

/**
 * Copies data[offset .. offset + length) into `out` at `at` without creating a subarray view: a plain loop for
 * the short packets of the data path (RAs, bubbles, pings), `set` on a view for long ones where the view's cost
 * is nothing next to the copy.
 */
export function copyBytes(data: Uint8Array, offset: number, length: number, out: Uint8Array, at: number): void {
  if (length <= 256) {
    for (let i = 0; i < length; i++) out[at + i] = data[offset + i]!;
  } else {
    out.set(data.subarray(offset, offset + length), at);
  }
}
