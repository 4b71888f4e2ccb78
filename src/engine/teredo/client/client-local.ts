// Local client discovery (RFC 4380 §5.2.8, as Windows does it): Teredo clients on one link find each other by
// multicast bubbles, so two clients behind one NAT reach each other over the LAN, even when the NAT does not
// hairpin (their public mappings are then of no use to each other).
//
//   qualified (new address) ─► a bubble from our Teredo address to ff02::1, sent from the Teredo socket to
//                              224.0.0.253:3544 (the Teredo IPv4 discovery address, §2.17); again every
//                              200-300 s (uniform); and out of turn (at most one per
//                              DISCOVERY_ANSWER_INTERVAL_MS) in answer to a peer we did not know as local yet, and
//                              when the host sends to a Teredo peer behind our own NAT's public address that is
//                              not known local (peers expire after 30 s idle: this finds it again at once)
//   a peer's discovery bubble ► the peer is local at the bubble's UDP source (its LAN address and Teredo port):
//                              trusted there, data goes straight over the LAN (client-data.ts)
// Only a bubble received on the socket joined to 224.0.0.253 counts: routers never forward that group (link-local
// scope, TTL 1), so whoever sent it is on our link; and only from a Teredo address embedding our own public IPv4
// (a client behind our NAT, Miredo's check too): a LAN host can claim such an address, not any peer on the
// Internet (the trust RFC 4380 §5.2.8 gives the link).
// Bounds: one flag per peer table slot; local peers enter the table within client-admission.ts's bounds.

import { parseIpv6 } from '../../../wire/ipv6-address.js';
import { IPV6_FIELD } from '../../../wire/ipv6.js';
import { TEREDO_PORT } from '../../../wire/teredo-constants.js';
import { TEREDO_BUBBLE_LEN, writeBubbleHeader } from '../../../wire/teredo-view.js';
import type { Millis, Random } from '../../types.js';
import type { ClientSink } from './client-types.js';

/** RFC 4380 §2.17: the Teredo IPv4 discovery address 224.0.0.253 (int32). */
export const TEREDO_DISCOVERY_ADDRESS = 0xe00000fd | 0;
/** §5.2.8: discovery bubbles at uniformly random intervals of 200 to 300 s. */
export const DISCOVERY_INTERVAL_MIN_MS = 200_000;
export const DISCOVERY_INTERVAL_MAX_MS = 300_000;
/** At most one discovery bubble answering new local peers per this many ms (a LAN flood gets 1 per second). */
export const DISCOVERY_ANSWER_INTERVAL_MS = 1000;
/** The all-nodes link-local group, the destination of discovery bubbles. */
const ALL_NODES = parseIpv6('ff02::1');

export class LocalDiscovery {
  /** Off: nothing is sent, discovery bubbles are refused (`--local-discovery off`). */
  enabled = true;
  /** Discovery bubbles sent, and peers found local. */
  sent = 0;
  found = 0;
  readonly #local: Uint8Array;
  readonly #bubble = new Uint8Array(TEREDO_BUBBLE_LEN);
  readonly #random: Random;
  /** When the next periodic bubble is due; 0 = as soon as the client is qualified. */
  #next: Millis = 0;
  #lastSent = -Infinity;

  constructor(maxPeers: number, random: Random) {
    this.#local = new Uint8Array(maxPeers);
    this.#random = random;
    writeBubbleHeader(this.#bubble);
    this.#bubble.set(ALL_NODES, IPV6_FIELD.DST);
  }

  isLocal(slot: number): boolean {
    return this.#local[slot] === 1;
  }

  setLocal(slot: number, on: boolean): void {
    if (on && this.#local[slot] === 0) this.found++;
    this.#local[slot] = on ? 1 : 0;
  }

  /** A new address: every peer forgotten, and a discovery bubble due at once. */
  reset(): void {
    this.#local.fill(0);
    this.#next = 0;
  }

  nextTimeout(): Millis | undefined {
    return this.enabled ? this.#next : undefined;
  }

  /** The periodic bubble, from `address` (our Teredo address, 16 bytes), when due. */
  handleTimeout(now: Millis, address: Uint8Array, sink: ClientSink): void {
    if (!this.enabled || now < this.#next) return;
    this.#send(now, address, sink);
    this.#next = now + DISCOVERY_INTERVAL_MIN_MS + this.#random.int(DISCOVERY_INTERVAL_MAX_MS - DISCOVERY_INTERVAL_MIN_MS + 1);
  }

  /**
   * A bubble out of turn (answering a peer just found local, or looking for a peer behind our own NAT); when one
   * left less than DISCOVERY_ANSWER_INTERVAL_MS ago, it waits until that interval is over.
   */
  sendLimited(now: Millis, address: Uint8Array, sink: ClientSink): void {
    if (!this.enabled) return;
    if (now - this.#lastSent >= DISCOVERY_ANSWER_INTERVAL_MS) return this.#send(now, address, sink);
    // Too soon: it leaves when the interval is over instead (two clients qualifying within a second of each
    // other must still hear each other).
    this.#next = Math.min(this.#next, this.#lastSent + DISCOVERY_ANSWER_INTERVAL_MS);
  }

  #send(now: Millis, address: Uint8Array, sink: ClientSink): void {
    this.#bubble.set(address, IPV6_FIELD.SRC);
    sink.sendUdp(this.#bubble, 0, TEREDO_BUBBLE_LEN, TEREDO_DISCOVERY_ADDRESS, TEREDO_PORT);
    this.#lastSent = now;
    this.sent++;
  }
}
