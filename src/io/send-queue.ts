// The send side of the addon's batched senders: the native UDP port (datagram-port-native.ts) and the raw
// IPv6 sender (raw-ipv6.ts). A send is copied into the queue's staging area with one meta record; at the end
// of the current JS turn ONE microtask flushes every queue that has something staged, each with one native
// call (udpSendBatch / raw6SendBatch, a sendmmsg loop in native/src/common.c). While a received batch is
// being handled (batch.ts ReceiveBatch.deliver) the end of its delivery does that flush instead, a moment
// earlier in the same callback, and no microtask is queued: one less per wake-up (issue 18, point 3).
//
//   send ──stage()──► staging bytes + meta record ──► end of the delivery, or else a microtask at the end of
//                                                      this turn ──► transmit(): sendmmsg
//
// So everything a received batch (or a timer) produces leaves in one native call per socket, no caller has to
// remember to flush, and the caller may reuse its buffer as soon as send returns.
//
// Bounds: at most `maxPackets` packets and `maxBytes` bytes wait. A send that would go over either flushes
// what is staged at once (synchronously, inside the send) and is staged after it, so a busy turn costs more
// native calls but never unbounded memory and never a loss. A packet that can never fit (longer than
// `maxBytes`, or a range outside its buffer) is dropped: counted in `failed` and reported to the owner's
// error handler as an IoError, never thrown. Failures the kernel reports per packet (errno written back into
// the meta record by the addon) are counted and reported the same way, one IoError per packet; EAGAIN /
// ENOBUFS (send queue full) fail the rest of that flush, as a full UDP queue would.
//
// Meta records are int32 words in host byte order (the addon reads them as C integers): word 0 is the
// packet's length, the last word the errno the addon writes back (0 = handed to the kernel); the owner writes
// any words in between (the UDP port: destination address and port).

import { getSystemErrorName } from 'node:util';
import { copyBytes } from './batch.js';
import { IoError, ioErrorFrom } from './io-error.js';

export interface SendQueueOptions {
  /** int32 words per meta record (>= 2): word 0 = length, last word = errno written back by the addon. */
  readonly recordWords: number;
  /** Packets staged at most before an early flush. */
  readonly maxPackets: number;
  /** Bytes staged at most before an early flush; also the largest packet that can be sent. */
  readonly maxBytes: number;
  /** IoError code of every failure (IO_UDP_SEND, IO_RAW6_SEND). */
  readonly code: string;
  /** The native call: sends `count` staged packets, returns how many failed (their errno word set); may throw. */
  readonly transmit: (data: Uint8Array, meta: Uint8Array, count: number) => number;
  /** The destination of the staged packet whose record starts at word `w` and bytes at `at`, for messages. */
  readonly destination: (meta: Int32Array, w: number, data: Uint8Array, at: number) => string;
  /** Where failures go: the owner's current onError handler. */
  readonly report: (error: Error) => void;
}

/** Queues with something staged; one microtask at the end of the current JS turn flushes them all. */
const pending = new Set<SendQueue>();
let flushScheduled = false;
/** Deliveries in progress (holdFlushes): what they stage is flushed when the outermost returns, not by a microtask. */
let holding = 0;

function flushPending(): void {
  flushScheduled = false;
  for (const queue of pending) queue.flush();
}

/**
 * A received batch is being handled (ReceiveBatch.deliver): sends staged until releaseFlushes() leave then,
 * together, without a microtask per wake-up (the same moment: the poller's callback returns right after).
 */
export function holdFlushes(): void {
  holding++;
}

/** The delivery is over: flushes every queue staged during it, unless a microtask already will. */
export function releaseFlushes(): void {
  holding--;
  if (holding === 0 && !flushScheduled && pending.size > 0) flushPending();
}

export class SendQueue {
  /** The meta records; the owner fills the words between the length and the errno after stage(). */
  readonly meta: Int32Array;
  readonly #metaBytes: Uint8Array;
  readonly #staging: Uint8Array;
  readonly #options: SendQueueOptions;
  readonly #words: number;
  #queued = 0;
  #stagedBytes = 0;
  #sent = 0;
  #failed = 0;
  #flushes = 0;

  constructor(options: SendQueueOptions) {
    if (!(options.recordWords >= 2 && options.maxPackets >= 1 && options.maxBytes >= 1)) throw new RangeError('SendQueue: recordWords >= 2, maxPackets and maxBytes >= 1');
    this.#options = options;
    this.#words = options.recordWords;
    this.meta = new Int32Array(options.maxPackets * options.recordWords);
    this.#metaBytes = new Uint8Array(this.meta.buffer);
    this.#staging = new Uint8Array(options.maxBytes);
  }

  /** Packets handed to the kernel. */
  get sent(): number {
    return this.#sent;
  }

  /** Packets refused, dropped or failed in the kernel; each was reported once. */
  get failed(): number {
    return this.#failed;
  }

  /** Native calls made (each one or more sendmmsg). */
  get flushes(): number {
    return this.#flushes;
  }

  /**
   * Copies data[offset .. offset + length) into the staging area and writes its length into a new meta record;
   * returns the record's first word for the owner's fields, or -1 when the packet was dropped (counted, reported).
   */
  stage(data: Uint8Array, offset: number, length: number): number {
    if (!(length >= 0 && length <= this.#staging.length && offset >= 0 && offset + length <= data.length)) {
      this.refuse(`packet of ${length} bytes at offset ${offset} of ${data.length} cannot be sent (the send queue holds packets of at most ${this.#staging.length} bytes)`);
      return -1;
    }
    if (this.#queued === this.#options.maxPackets || this.#stagedBytes + length > this.#staging.length) this.flush();
    copyBytes(data, offset, length, this.#staging, this.#stagedBytes);
    const w = this.#queued * this.#words;
    this.meta[w] = length;
    this.#stagedBytes += length;
    this.#queued++;
    if (this.#queued === 1) pending.add(this);
    if (!flushScheduled && holding === 0) {
      flushScheduled = true;
      queueMicrotask(flushPending);
    }
    return w;
  }

  /** Counts and reports a send its owner refuses before staging (closed, bad destination, not a packet). */
  refuse(why: string): void {
    this.#failed++;
    this.#options.report(new IoError(this.#options.code, why));
  }

  /** Sends everything staged now (normally the end of the delivery or of the turn does it). */
  flush(): void {
    pending.delete(this);
    const count = this.#queued;
    if (count === 0) return;
    this.#queued = 0;
    this.#stagedBytes = 0;
    this.#flushes++;
    let failed: number;
    try {
      failed = this.#options.transmit(this.#staging, this.#metaBytes, count);
    } catch (e) {
      this.#failed += count;
      this.#options.report(ioErrorFrom(this.#options.code, `sendmmsg of ${count} packets`, e));
      return;
    }
    this.#sent += count - failed;
    if (failed > 0) this.#reportFailures(count);
  }

  /** One IoError per packet the kernel refused, naming its destination. */
  #reportFailures(count: number): void {
    const { meta } = this;
    const errnoWord = this.#words - 1;
    let at = 0;
    for (let i = 0; i < count; i++) {
      const w = i * this.#words;
      const errno = meta[w + errnoWord]!;
      if (errno !== 0) {
        this.#failed++;
        const to = this.#options.destination(meta, w, this.#staging, at);
        this.#options.report(new IoError(this.#options.code, `send to ${to}: ${getSystemErrorName(-errno)}`, errno, 'sendmmsg'));
      }
      at += meta[w]!;
    }
  }
}
