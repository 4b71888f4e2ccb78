// Aggregate counters of a Teredo server, tallied from the engine's outputs: Router Solicitations answered per
// address they arrived on, Router Advertisements sent per address they left from (those from the secondary
// answer cone-bit RSs, §5.3.2), and forwarded packets by path. Drops are counted by the runtime's driver, per
// reason (server-types.ts SERVER_DROP_REASONS). A fixed set of numbers: memory does not grow with clients.

import type { ServerOutput, ServerSocket } from './server-types.js';

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
    /** Packets written to the TUN device, toward the native IPv6 network. */
    readonly native: number;
    /** Native packets read from the TUN device and sent to one of our clients. */
    readonly fromTun: number;
  };
}

export class ServerCounters {
  #rsPrimary = 0;
  #rsSecondary = 0;
  #raPrimary = 0;
  #raSecondary = 0;
  #raWithNonce = 0;
  #teredo = 0;
  #withOrigin = 0;
  #native = 0;
  #fromTun = 0;

  /** Counts one batch of outputs (drops are ignored here: the driver counts them). */
  record(outputs: readonly ServerOutput[]): void {
    for (const out of outputs) {
      if (out.kind === 'write-tun') {
        this.#native++;
      } else if (out.kind === 'send-udp') {
        if (out.purpose === 'ra') {
          if (out.receivedOn === 'primary') this.#rsPrimary++;
          else this.#rsSecondary++;
          if (out.via === 'primary') this.#raPrimary++;
          else this.#raSecondary++;
          if (out.nonce) this.#raWithNonce++;
        } else if (out.fromTun) {
          this.#fromTun++;
        } else {
          this.#teredo++;
          if (out.origin) this.#withOrigin++;
        }
      }
    }
  }

  snapshot(): ServerCounterSnapshot {
    return {
      rsAnswered: { primary: this.#rsPrimary, secondary: this.#rsSecondary },
      raSent: { primary: this.#raPrimary, secondary: this.#raSecondary },
      raWithNonce: this.#raWithNonce,
      forwarded: { teredo: this.#teredo, withOrigin: this.#withOrigin, native: this.#native, fromTun: this.#fromTun },
    };
  }
}
