// In-memory DatagramPort (wireguard-go conn/bindtest): `deliver` plays a datagram arriving (a batch of one),
// `sent` collects what the code under test sent, and multicast settings are recorded. Received bytes are
// lent (src/io/ports.ts): the batch's buffer is overwritten as soon as the handler returns, so code that
// keeps a view instead of a copy fails its tests.

import type { Endpoint4 } from '../../src/wire/endpoint.js';
import type { DatagramBatch, DatagramPort } from '../../src/io/ports.js';

export interface SentDatagram {
  readonly bytes: Uint8Array;
  readonly to: Endpoint4;
}

/** One datagram as a DatagramBatch, in the middle of a larger buffer (offset 0 would hide offset bugs). */
const PAD = 5;
class OneDatagram implements DatagramBatch {
  readonly count = 1;
  readonly data: Uint8Array;
  readonly #length: number;
  constructor(
    bytes: Uint8Array,
    readonly from: Endpoint4,
  ) {
    this.data = new Uint8Array(bytes.length + 2 * PAD);
    this.data.set(bytes, PAD);
    this.#length = bytes.length;
  }
  offset(): number {
    return PAD;
  }
  length(): number {
    return this.#length;
  }
  sourceAddr(): number {
    return this.from.addr;
  }
  sourcePort(): number {
    return this.from.port;
  }
}

export class FakeDatagramPort implements DatagramPort {
  readonly sent: SentDatagram[] = [];
  readonly groups = new Set<string>();
  multicastTtl = 1;
  multicastInterface = 0;
  multicastLoopback = true;
  ttl = 64;
  closed = false;
  /** When set, send() reports this error to onError instead of sending. */
  failSends: Error | undefined;
  private batchHandler: ((batch: DatagramBatch) => void) | undefined;
  private errorHandler: ((error: Error) => void) | undefined;

  constructor(readonly local: Endpoint4 = { addr: 0x7f000001, port: 40000 }) {}

  /** A datagram arrives from `from`; true if a handler received it. The bytes are scribbled over afterwards. */
  deliver(bytes: Uint8Array, from: Endpoint4): boolean {
    if (this.closed || !this.batchHandler) return false;
    const batch = new OneDatagram(bytes, from);
    try {
      this.batchHandler(batch);
    } finally {
      batch.data.fill(0xa5);
    }
    return true;
  }

  /** A socket error, as dgram's 'error' event reports it (receive failures, asynchronous send errors). */
  raise(error: Error): void {
    this.errorHandler?.(error);
  }

  onBatch(handler: (batch: DatagramBatch) => void): void {
    this.batchHandler = handler;
  }

  onError(handler: (error: Error) => void): void {
    this.errorHandler = handler;
  }

  send(data: Uint8Array, offset: number, length: number, addr: number, port: number): void {
    if (this.closed || this.failSends) {
      this.errorHandler?.(this.failSends ?? new Error('port is closed'));
      return;
    }
    this.sent.push({ bytes: data.slice(offset, offset + length), to: { addr, port } });
  }

  joinGroup(group: number, interfaceAddress = 0): void {
    this.groups.add(`${group}/${interfaceAddress}`);
  }

  leaveGroup(group: number, interfaceAddress = 0): void {
    this.groups.delete(`${group}/${interfaceAddress}`);
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
    this.closed = true;
    return Promise.resolve();
  }
}
