// In-memory DatagramPort (wireguard-go conn/bindtest): `deliver` plays datagrams arriving (one batch), `sent`
// collects what the code under test sent, and multicast settings are recorded. Delivered bytes are lent as the
// real ports lend them (ports.ts): at an offset inside a batch buffer that is overwritten as soon as the handler
// returns, so code that keeps a view of a received datagram fails its test instead of hiding behind a copy.

import { ReceiveBatch } from '../../src/io/batch.js';
import type { DatagramBatch, DatagramPort } from '../../src/io/ports.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';

export interface SentDatagram {
  readonly bytes: Uint8Array;
  readonly to: Endpoint4;
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
  private readonly batch = new ReceiveBatch(64);
  private errorHandler: ((error: Error) => void) | undefined;

  constructor(readonly local: Endpoint4 = { addr: 0x7f000001, port: 40000 }) {}

  /** A datagram arrives from `from`; true if a handler received it. */
  deliver(bytes: Uint8Array, from: Endpoint4): boolean {
    return this.deliverBatch([{ bytes, from }]);
  }

  /** Several datagrams arrive in one wake-up (one batch, as recvmmsg hands them over). */
  deliverBatch(datagrams: readonly { bytes: Uint8Array; from: Endpoint4 }[]): boolean {
    if (this.closed || !this.batchHandler) return false;
    const data = new Uint8Array(datagrams.reduce((n, d) => n + d.bytes.length, 0) + 5);
    this.batch.reset(data);
    let at = 5;
    for (const d of datagrams) {
      data.set(d.bytes, at);
      this.batch.push(at, d.bytes.length, d.from.addr, d.from.port);
      at += d.bytes.length;
    }
    this.batchHandler(this.batch);
    data.fill(0x5a); // lent: the memory is reused once the handler returns
    this.batch.release();
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
    this.sent.push({ bytes: data.slice(offset, offset + length), to: { addr: addr | 0, port } }); // int32, src/wire/ipv4.ts
  }

  joinGroup(group: number, interfaceAddress = 0): void {
    this.groups.add(`${group | 0}/${interfaceAddress | 0}`);
  }

  leaveGroup(group: number, interfaceAddress = 0): void {
    this.groups.delete(`${group | 0}/${interfaceAddress | 0}`);
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
