// Per-peer FIFO packet queues of the Teredo peer table (RFC 4380 §5.2.4 / §5.4.1: packets wait while the peer
// is not trusted yet, are sent in order once it is, and are dropped with the entry). Indexed by peer slot.
//
// Bounds: each queue holds at most queueBytes (packet + a 2-byte length header each; a packet that does not fit
// is refused, never an older one dropped: FIFO, where Miredo's list is LIFO), and all queues together at most
// maxBuffers buffers of queueBytes. A buffer is taken from the pool at the first packet and returned when the
// queue is drained or cleared, so idle peers cost 8 bytes here and nothing is allocated once the pool is warm.
// After a flood (a native-side flood fills the pool: one buffer per pending peer) trim() lets all but
// KEEP_FREE_BUFFERS idle buffers go to the garbage collector, so the pool's memory is held only while queues use it.

import { resized } from './lru-lists.js';

const NONE = -1;
const QUEUE_HEADER = 2;
/** Idle buffers trim() keeps for the next packets (64 x 2,564 bytes = 160 KiB at the default queueBytes). */
export const KEEP_FREE_BUFFERS = 64;

export class PeerQueues {
  readonly queueBytes: number;
  readonly #maxBuffers: number;
  #buf = new Int32Array(0);
  #len = new Int32Array(0);
  #queued = 0;
  /** Buffers by number; undefined where one was trimmed (its number is in #holes). */
  readonly #buffers: (Uint8Array | undefined)[] = [];
  readonly #freeBuffers: number[] = [];
  readonly #holes: number[] = [];
  #live = 0;

  /** queueBytes per peer (0 disables queueing), maxQueuedBytes for all peers together. */
  constructor(queueBytes: number, maxQueuedBytes: number) {
    this.queueBytes = queueBytes;
    this.#maxBuffers = queueBytes === 0 ? 0 : Math.floor(maxQueuedBytes / queueBytes);
  }

  /** Bytes of queue buffers allocated (in use or idle): at most maxQueuedBytes. */
  get bufferBytes(): number {
    return this.#live * this.queueBytes;
  }

  /** Lets idle buffers beyond KEEP_FREE_BUFFERS go (after a flood); the next packets allocate again if needed. */
  trim(): void {
    while (this.#freeBuffers.length > KEEP_FREE_BUFFERS) {
      const b = this.#freeBuffers.pop()!;
      this.#buffers[b] = undefined;
      this.#holes.push(b);
      this.#live--;
    }
  }

  /** Bytes of packets (with their 2-byte headers) waiting in all queues. */
  get queuedBytes(): number {
    return this.#queued;
  }

  /** Makes room for slots 0..slots-1, more or fewer than before (new slots have empty queues). */
  resize(slots: number): void {
    const old = this.#buf.length;
    this.#buf = resized(this.#buf, slots);
    if (slots > old) this.#buf.fill(NONE, old);
    this.#len = resized(this.#len, slots);
  }

  /** Slot `from`'s queue becomes slot `to`'s (whose queue is empty). */
  move(from: number, to: number): void {
    this.#buf[to] = this.#buf[from]!;
    this.#len[to] = this.#len[from]!;
    this.#buf[from] = NONE;
    this.#len[from] = 0;
  }

  /**
   * Appends a copy of data[offset, offset+length) to the peer's FIFO queue; false (nothing kept) when it does
   * not fit in queueBytes or the buffer pool is exhausted.
   */
  enqueue(slot: number, data: Uint8Array, offset: number, length: number): boolean {
    const used = this.#len[slot]!;
    if (used + QUEUE_HEADER + length > this.queueBytes || length > 0xffff) return false;
    let b = this.#buf[slot]!;
    if (b === NONE) {
      b = this.#takeBuffer();
      if (b === NONE) return false;
      this.#buf[slot] = b;
    }
    const buf = this.#buffers[b]!;
    buf[used] = length >>> 8;
    buf[used + 1] = length & 0xff;
    buf.set(data.subarray(offset, offset + length), used + QUEUE_HEADER);
    this.#len[slot] = used + QUEUE_HEADER + length;
    this.#queued += QUEUE_HEADER + length;
    return true;
  }

  /** Bytes (with headers) in the peer's queue. */
  length(slot: number): number {
    return this.#len[slot]!;
  }

  /**
   * Calls visit(buffer, offset, length) for each queued packet, oldest first, then empties the queue. The bytes
   * are lent for the call. Returns the number of packets visited.
   */
  drain(slot: number, visit: (data: Uint8Array, offset: number, length: number) => void): number {
    const b = this.#buf[slot]!;
    if (b === NONE) return 0;
    const buf = this.#buffers[b]!;
    const end = this.#len[slot]!;
    // Empty the queue first, so a visitor that re-queues to this peer starts from a clean queue.
    this.#buf[slot] = NONE;
    this.#len[slot] = 0;
    this.#queued -= end;
    let n = 0;
    for (let at = 0; at < end; n++) {
      const len = (buf[at]! << 8) | buf[at + 1]!;
      visit(buf, at + QUEUE_HEADER, len);
      at += QUEUE_HEADER + len;
    }
    this.#freeBuffers.push(b);
    return n;
  }

  /** Number of packets in the peer's queue. */
  count(slot: number): number {
    const b = this.#buf[slot]!;
    if (b === NONE) return 0;
    const buf = this.#buffers[b]!;
    const end = this.#len[slot]!;
    let n = 0;
    for (let at = 0; at < end; n++) at += QUEUE_HEADER + ((buf[at]! << 8) | buf[at + 1]!);
    return n;
  }

  /** Drops the peer's queue. */
  clear(slot: number): void {
    const b = this.#buf[slot]!;
    if (b === NONE) return;
    this.#queued -= this.#len[slot]!;
    this.#buf[slot] = NONE;
    this.#len[slot] = 0;
    this.#freeBuffers.push(b);
  }

  #takeBuffer(): number {
    const b = this.#freeBuffers.pop();
    if (b !== undefined) return b;
    if (this.#live >= this.#maxBuffers) return NONE;
    const n = this.#holes.pop() ?? this.#buffers.length;
    this.#buffers[n] = new Uint8Array(this.queueBytes);
    this.#live++;
    return n;
  }
}
