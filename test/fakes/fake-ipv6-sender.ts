// In-memory NativeIpv6Sender (the raw IPv6 socket of src/io/raw-ipv6.ts): `sent` collects a copy of every
// packet handed to it (the caller's bytes are lent, ports.ts), `closed` says whether it was closed.

import type { NativeIpv6Sender } from '../../src/io/ports.js';

export class FakeIpv6Sender implements NativeIpv6Sender {
  readonly sent: Uint8Array[] = [];
  closed = false;

  send(data: Uint8Array, offset: number, length: number): boolean {
    if (this.closed) return false;
    this.sent.push(data.slice(offset, offset + length));
    return true;
  }

  onError(): void {}

  close(): void {
    this.closed = true;
  }
}
