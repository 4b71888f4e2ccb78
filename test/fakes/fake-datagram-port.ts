// In-memory DatagramPort (wireguard-go conn/bindtest): `deliver` plays a datagram arriving, `sent` collects
// what the code under test sent, and multicast settings are recorded.

import type { Endpoint4 } from '../../src/engine/types.js';
import type { DatagramPort } from '../../src/io/ports.js';

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
  private datagramHandler: ((bytes: Uint8Array, from: Endpoint4) => void) | undefined;
  private errorHandler: ((error: Error) => void) | undefined;

  constructor(readonly local: Endpoint4 = { addr: 0x7f000001, port: 40000 }) {}

  /** A datagram arrives from `from`; true if a handler received it. */
  deliver(bytes: Uint8Array, from: Endpoint4): boolean {
    if (this.closed || !this.datagramHandler) return false;
    this.datagramHandler(bytes.slice(), from);
    return true;
  }

  /** A socket error, as dgram's 'error' event reports it (receive failures, asynchronous send errors). */
  raise(error: Error): void {
    this.errorHandler?.(error);
  }

  onDatagram(handler: (bytes: Uint8Array, from: Endpoint4) => void): void {
    this.datagramHandler = handler;
  }

  onError(handler: (error: Error) => void): void {
    this.errorHandler = handler;
  }

  send(bytes: Uint8Array, to: Endpoint4): void {
    if (this.closed || this.failSends) {
      this.errorHandler?.(this.failSends ?? new Error('port is closed'));
      return;
    }
    this.sent.push({ bytes: bytes.slice(), to });
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
