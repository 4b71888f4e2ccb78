// Aggregate counters of a Teredo server, kept by the engine as it decides: Router Solicitations answered per
// address they arrived on, Router Advertisements sent per address they left from (those from the secondary
// answer cone-bit RSs, §5.3.2), and forwarded packets by path. Drops are counted by the runtime's driver, per
// reason (server-types.ts SERVER_DROP_REASONS). A fixed set of numbers: memory does not grow with clients, and
// counting is a field increment (the data path builds no objects; snapshot() is for status only).

import type { ServerSocket, ServerSocketIndex } from './server-types.js';

export interface ServerCounterSnapshot {
  /** RSs answered, by the address they arrived on. */
  readonly rsAnswered: Readonly<Record<ServerSocket, number>>;
  /** RAs sent, by the address they left from; `secondary` > 0 means cone-bit RSs were answered. */
  readonly raSent: Readonly<Record<ServerSocket, number>>;
  /** RAs that echoed an authentication nonce (every Miredo and Windows Vista+ client sends one). */
  readonly raWithNonce: number;
  readonly forwarded: {
    /** Datagrams re-encapsulated to a Teredo mapping (origin indication or not). */
    readonly teredo: number;
    /** Of those, the ones that carried an origin indication (the destination is our client). */
    readonly withOrigin: number;
    /** Packets sent toward the native IPv6 network. */
    readonly native: number;
    /** Native packets (from the TUN device) sent to one of our clients. */
    readonly fromTun: number;
  };
}

export class ServerCounters {
  rsPrimary = 0;
  rsSecondary = 0;
  raPrimary = 0;
  raSecondary = 0;
  raWithNonce = 0;
  teredo = 0;
  withOrigin = 0;
  native = 0;
  fromTun = 0;

  /** One RA: the RS arrived on `receivedOn`, the RA leaves from `via`. */
  countRa(receivedOn: ServerSocketIndex, via: ServerSocketIndex, nonce: boolean): void {
    if (receivedOn === 0) this.rsPrimary++;
    else this.rsSecondary++;
    if (via === 0) this.raPrimary++;
    else this.raSecondary++;
    if (nonce) this.raWithNonce++;
  }

  snapshot(): ServerCounterSnapshot {
    return {
      rsAnswered: { primary: this.rsPrimary, secondary: this.rsSecondary },
      raSent: { primary: this.raPrimary, secondary: this.raSecondary },
      raWithNonce: this.raWithNonce,
      forwarded: { teredo: this.teredo, withOrigin: this.withOrigin, native: this.native, fromTun: this.fromTun },
    };
  }
}
