// The batch objects ports hand to their handlers (ports.ts PacketBatch / DatagramBatch): one per port, refilled
// for every wake-up, so receiving allocates nothing per packet. The bytes are lent: valid during the handler
// call only (ports.ts, "RECEIVED BYTES ARE LENT").

import type { DatagramBatch } from './ports.js';

const EMPTY = new Uint8Array(0);

/** A refillable DatagramBatch of at most `capacity` entries; also serves as a PacketBatch (address 0, port 0). */
export class ReceiveBatch implements DatagramBatch {
  count = 0;
  data: Uint8Array = EMPTY;
  readonly #offsets: Uint32Array;
  readonly #lengths: Uint32Array;
  readonly #addrs: Uint32Array;
  readonly #ports: Uint16Array;

  constructor(readonly capacity: number) {
    this.#offsets = new Uint32Array(capacity);
    this.#lengths = new Uint32Array(capacity);
    this.#addrs = new Uint32Array(capacity);
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

  /** Appends one entry; false when the batch is full (the caller delivers it and resets). */
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
