// A DatagramPort on a VirtualInternet host (teredo-net.ts): what the code under test binds instead of a UDP
// socket. Arrivals wait in a bounded receive queue (the socket buffer) and are handed over in batches of up to
// BATCH_SIZE, like the native recvmmsg port, through one reused ReceiveBatch (src/io/batch.ts) whose bytes are
// LENT (src/io/ports.ts): they sit at a non-zero offset of a buffer that is overwritten with POISON_BYTE as soon as
// the handler returns, and the batch is emptied, so a consumer that kept a view instead of a copy reads garbage
// and fails its test, and one that assumed offset 0 fails at once.

import { ReceiveBatch } from '../../src/io/batch.js';
import type { DatagramBatch, DatagramPort } from '../../src/io/ports.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';

/** Datagrams per onBatch call, the native port's recvmmsg batch. */
export const BATCH_SIZE = 64;
/** Datagrams a port holds before the handler takes them (a socket receive buffer); more are dropped. */
export const RECEIVE_QUEUE_LIMIT = 256;
/** Written over a batch's bytes once the handler returns. */
export const POISON_BYTE = 0xee;
/** Where the first datagram of a batch starts in the batch's buffer. */
const FIRST_OFFSET = 3;
/** Largest UDP payload over IPv4 (65535 - 20 - 8), EMSGSIZE above. */
export const MAX_UDP_PAYLOAD = 65507;

/** What a port needs from the network it is attached to. */
export interface PortNetwork {
  /** Takes a copy of the datagram on its way out from `from`. */
  transmit(from: VirtualDatagramPort, bytes: Uint8Array, addr: number, port: number): void;
  /** The port has datagrams to hand over: deliver them at the current instant. */
  wake(port: VirtualDatagramPort): void;
  /** The port is closed: free its address and port. */
  unbind(port: VirtualDatagramPort): void;
}

interface Arrival {
  readonly bytes: Uint8Array;
  readonly addr: number;
  readonly port: number;
}

export class VirtualDatagramPort implements DatagramPort {
  readonly groups = new Set<number>();
  multicastTtl = 1;
  multicastInterface = 0;
  multicastLoopback = true;
  ttl = 64;
  closed = false;
  /** Datagrams this port refused because its receive queue was full. */
  overflows = 0;
  readonly #net: PortNetwork;
  readonly #queue: Arrival[] = [];
  readonly #batch = new ReceiveBatch(BATCH_SIZE);
  #buffer = new Uint8Array(4096);
  #handler: ((batch: DatagramBatch) => void) | undefined;
  #errorHandler: ((error: Error) => void) | undefined;

  constructor(
    net: PortNetwork,
    /** The bound address and port (never 0: the network picks an ephemeral port). */
    readonly local: Endpoint4,
  ) {
    this.#net = net;
  }

  onBatch(handler: (batch: DatagramBatch) => void): void {
    this.#handler = handler;
    if (this.#queue.length > 0) this.#net.wake(this);
  }

  onError(handler: (error: Error) => void): void {
    this.#errorHandler = handler;
  }

  /** Copies data[offset .. offset + length) out; errors (closed, too big) go to onError like the real port. */
  send(data: Uint8Array, offset: number, length: number, addr: number, port: number): void {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > data.length) {
      throw new RangeError(`send: [${offset}, ${offset}+${length}) is outside a ${data.length}-byte buffer`);
    }
    if (this.closed) return this.#error(new Error('send on a closed port'));
    if (length > MAX_UDP_PAYLOAD) return this.#error(new Error(`EMSGSIZE: ${length}-byte datagram`));
    this.#net.transmit(this, data.slice(offset, offset + length), addr | 0, port); // int32 (src/wire/ipv4.ts)
  }

  /** Reports an error as the real socket would (a receive failure, an asynchronous send error). */
  raise(error: Error): void {
    this.#error(error);
  }

  joinGroup(group: number): void {
    this.groups.add(group);
  }
  leaveGroup(group: number): void {
    this.groups.delete(group);
  }
  setMulticastTtl(ttl: number): void {
    this.multicastTtl = ttl;
  }
  setMulticastInterface(interfaceAddress: number): void {
    this.multicastInterface = interfaceAddress;
  }
  setMulticastLoopback(on: boolean): void {
    this.multicastLoopback = on;
  }
  setTtl(ttl: number): void {
    this.ttl = ttl;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.#queue.length = 0;
      this.#net.unbind(this);
    }
    return Promise.resolve();
  }

  /** Called by the network: a datagram reached this port. False when the receive queue is full (dropped). */
  arrive(bytes: Uint8Array, addr: number, port: number): boolean {
    if (this.#queue.length >= RECEIVE_QUEUE_LIMIT) {
      this.overflows++;
      return false;
    }
    this.#queue.push({ bytes, addr, port });
    return true;
  }

  /**
   * Called by the network once the datagrams due at this instant have arrived: hands the queue to the handler
   * in batches of up to BATCH_SIZE, poisoning each batch after the call. Without a handler the queue waits.
   */
  deliver(): void {
    while (this.#handler && !this.closed && this.#queue.length > 0) {
      const used = this.#fill(this.#queue.splice(0, BATCH_SIZE));
      try {
        this.#handler(this.#batch);
      } finally {
        this.#buffer.fill(POISON_BYTE, 0, used);
        this.#batch.release();
      }
    }
  }

  /** Copies the arrivals into the reused buffer and points the batch at them; returns the bytes used. */
  #fill(arrivals: readonly Arrival[]): number {
    const total = arrivals.reduce((n, a) => n + a.bytes.length, FIRST_OFFSET);
    if (total > this.#buffer.length) this.#buffer = new Uint8Array(Math.max(total, this.#buffer.length * 2));
    this.#batch.reset(this.#buffer);
    let at = FIRST_OFFSET;
    for (const a of arrivals) {
      this.#buffer.set(a.bytes, at);
      this.#batch.push(at, a.bytes.length, a.addr, a.port);
      at += a.bytes.length;
    }
    return at;
  }

  #error(error: Error): void {
    this.#errorHandler?.(error);
  }
}
