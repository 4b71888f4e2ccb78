// In-memory Icmpv6Socket for RA-sender driver tests: `deliver` plays a message arriving (with the source,
// interface and received hop limit the real socket reports), `sent` collects what was sent, and the joined
// groups and type filter are kept so a test can assert the socket was set up as RFC 4861 requires.

import type { Icmpv6Message, Icmpv6Socket } from '../../src/io/ports.js';

export interface SentIcmpv6 {
  readonly destination: Uint8Array;
  readonly bytes: Uint8Array;
  /** The source asked for (IPV6_PKTINFO), absent for the kernel's choice. */
  readonly source?: Uint8Array;
}

export class FakeIcmpv6Socket implements Icmpv6Socket {
  readonly sent: SentIcmpv6[] = [];
  readonly groups: Uint8Array[] = [];
  typeFilter: readonly number[] | undefined;
  closed = false;
  /** When set, send() reports this error to onError instead of sending, as the real socket does a failed sendto. */
  failSends: Error | undefined;
  private messageHandler: ((message: Icmpv6Message) => void) | undefined;
  private errorHandler: ((error: Error) => void) | undefined;

  constructor(
    readonly ifname = 'fake0',
    readonly ifindex = 3,
  ) {}

  /** A message arrives; filtered by type like the kernel's ICMP6_FILTER. true if a handler received it. */
  deliver(message: { bytes: Uint8Array; source: Uint8Array; hopLimit?: number; ifindex?: number }): boolean {
    if (this.closed || !this.messageHandler) return false;
    const type = message.bytes[0];
    if (this.typeFilter && (type === undefined || !this.typeFilter.includes(type))) return false;
    this.messageHandler({
      bytes: message.bytes.slice(),
      source: message.source.slice(),
      hopLimit: message.hopLimit ?? 255,
      ifindex: message.ifindex ?? this.ifindex,
    });
    return true;
  }

  onMessage(handler: (message: Icmpv6Message) => void): void {
    this.messageHandler = handler;
  }

  onError(handler: (error: Error) => void): void {
    this.errorHandler = handler;
  }

  send(destination: Uint8Array, message: Uint8Array, source?: Uint8Array): boolean {
    if (this.closed || this.failSends) {
      this.errorHandler?.(this.failSends ?? new Error('socket is closed'));
      return false;
    }
    this.sent.push({ destination: destination.slice(), bytes: message.slice(), ...(source ? { source: source.slice() } : {}) });
    return true;
  }

  joinGroup(group: Uint8Array): void {
    this.groups.push(group.slice());
  }

  leaveGroup(group: Uint8Array): void {
    const at = this.groups.findIndex((g) => g.every((b, i) => b === group[i]));
    if (at >= 0) this.groups.splice(at, 1);
  }

  setTypeFilter(types: readonly number[] | undefined): void {
    this.typeFilter = types;
  }

  close(): void {
    this.closed = true;
  }
}
