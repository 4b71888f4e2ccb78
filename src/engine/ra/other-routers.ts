// The other routers' RAs as one interface's RA sender sees them: ours looped back are recognised by their source
// (one of the interface's own addresses: the unicast answer to an RS the router itself sent comes back to its
// socket), the rest checked per §6.1.2 (consistency.ts), kept in monitor mode (monitor.ts) and compared with
// what we advertise (§6.2.7). Allocation-free per RA, like the RS checks.

import type { DropSink, Millis } from '../types.js';
import type { RaContent } from './content.js';
import { checkRouterAdvert, findInconsistencies } from './consistency.js';
import { RouterTable, type MonitoredRouter } from './monitor.js';
import { ipv6Equal } from '../../wire/ipv6-address.js';

export interface OtherRoutersSink extends DropSink {
  /** Another router on the link advertises something else (§6.2.7): `inconsistency` indexes RA_INCONSISTENCIES. Lent source. */
  inconsistent(inconsistency: number, source: Uint8Array): void;
  /** Monitor mode: another router's default route ran out (its router lifetime passed with no new RA). */
  defaultRouteExpired(router: MonitoredRouter): void;
}

export class OtherRouters {
  readonly table = new RouterTable();
  #own: readonly Uint8Array[] = [];

  /** The interface's own addresses (16 bytes each). */
  setOwnAddresses(addresses: readonly Uint8Array[]): void {
    this.#own = addresses;
  }

  /** Whether `source` is one of the interface's own addresses: the RA is ours, looped back. */
  isOwn(source: Uint8Array): boolean {
    for (let i = 0; i < this.#own.length; i++) if (ipv6Equal(this.#own[i]!, source)) return true;
    return false;
  }

  /**
   * Another router's RA: dropped with its §6.1.2 reason, else kept when `monitor`, and compared with `ours`
   * (unless undefined: monitor-only). Returns true when it went into the table (its deadlines moved).
   */
  advert(data: Uint8Array, offset: number, length: number, source: Uint8Array, hopLimit: number, now: Millis, monitor: boolean, ours: RaContent | undefined, sink: OtherRoutersSink): boolean {
    const bad = checkRouterAdvert(data, offset, length, source, hopLimit);
    if (bad >= 0) {
      sink.drop(bad);
      return false;
    }
    const router = monitor ? this.table.observe(data, offset, length, source, now) : undefined;
    if (ours === undefined) return router !== undefined;
    this.#sink = sink;
    this.#source = source;
    this.#router = router;
    findInconsistencies(data, offset, length, ours, this.#report);
    this.#sink = undefined;
    this.#source = undefined;
    this.#router = undefined;
    return router !== undefined;
  }

  // Pre-bound so that comparing an RA creates no closure.
  #sink: OtherRoutersSink | undefined;
  #source: Uint8Array | undefined;
  #router: MonitoredRouter | undefined;
  readonly #report = (inconsistency: number): void => {
    if (this.#router !== undefined) this.#router.inconsistencies++;
    this.#sink?.inconsistent(inconsistency, this.#source!);
  };
}
