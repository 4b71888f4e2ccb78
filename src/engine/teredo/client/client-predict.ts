// Port prediction behind a sequential or port-preserving symmetric NAT (the idea of RFC 6081 §3's symmetric NAT
// extensions, with its Random Port trailer, §4.5; behind a port-preserving one only while the RFC 6081 §5.4 pool
// is off or absent, client-pps.ts, which does not depend on later flows counting): such a NAT gives each new destination the next port of a
// counter, so the port our first packet toward a peer will leave from can be guessed, and told to the peer in
// the bubble its server relays to it. The peer then bubbles that port too, which opens its own NAT toward it
// (a port-restricted NAT filters every other port) and passes ours (the flow we opened toward the peer).
//
//   qualified behind such a NAT ─► next = the probe port's mapping toward the secondary (the last flow the
//                                  NAT allocated) + the observed step (1 behind a port-preserving NAT, whose
//                                  later flows count up)
//   first bubble toward a peer ───► that peer's port = next; next += step (one flow each, kept per peer)
//   an indirect bubble with a Random Port trailer ─► the origin is bubbled at that port and the next
//                                  RANDOM_PORT_WINDOW - 1 as well (any client)
// Anything else the host (or another host behind the NAT) sends to a new destination also takes a port from the
// NAT, so a prediction can miss; the window covers a couple of such flows behind a NAT counting by 1, beyond
// that the bubbles simply do not meet, as without it. Bounds: one port per peer table slot.

import { IPV6_FIELD } from '../../../wire/ipv6.js';
import { TEREDO_PORT } from '../../../wire/teredo-constants.js';
import { writeRandomPortTrailer } from '../../../wire/teredo-trailers.js';
import { TEREDO_BUBBLE_LEN, writeBubbleHeader } from '../../../wire/teredo-view.js';
import type { ClientSink } from './client-types.js';

/**
 * Ports bubbled from a Random Port trailer's on: the port itself and the next two. A prediction is the last port
 * the NAT allocated + the step; anything else through the same NAT in between (another host, a DNS query of
 * ours) takes that port and moves our flow one step on. Three bubbles per relayed datagram (still no more than
 * the datagram that carried the trailer plus a few bytes each, to the origin's own address) cover two such flows
 * behind a NAT counting by 1. Not from RFC 6081, which bubbles the one port.
 */
export const RANDOM_PORT_WINDOW = 3;

/** A bubble and a Random Port trailer (RFC 6081 §4.5: 4 bytes). */
const BUBBLE_WITH_PORT_LEN = TEREDO_BUBBLE_LEN + 4;

export class PortPrediction {
  readonly #ports: Uint16Array;
  readonly #bubble = new Uint8Array(BUBBLE_WITH_PORT_LEN);
  /** The port the NAT gives the next new flow, or 0: no prediction (not such a NAT, or not known). */
  #next = 0;
  #step = 0;
  /** Predictions made (status counter). */
  made = 0;

  constructor(maxPeers: number) {
    this.#ports = new Uint16Array(maxPeers);
    writeBubbleHeader(this.#bubble);
  }

  /** From now on the next new flow leaves from `next`, later ones `step` apart; next 0 turns prediction off. */
  configure(next: number, step: number): void {
    this.#next = next & 0xffff;
    this.#step = step;
  }

  /** Every prediction forgotten, and off until configured again (a new mapping: the counter is unknown). */
  reset(): void {
    this.#ports.fill(0);
    this.#next = 0;
  }

  forget(slot: number): void {
    this.#ports[slot] = 0;
  }

  /** The port our flow toward peer `slot` leaves from (predicted once, on first use), or 0 when off. */
  portFor(slot: number): number {
    if (this.#next === 0) return 0;
    if (this.#ports[slot] === 0) {
      this.#ports[slot] = this.#next;
      this.#next = (this.#next + this.#step) & 0xffff || 1;
      this.made++;
    }
    return this.#ports[slot]!;
  }

  /** An indirect bubble from `src` to `dst` through `server`:3544 carrying a Random Port trailer with `port`. */
  sendIndirect(src: Uint8Array, dst: Uint8Array, server: number, port: number, sink: ClientSink): void {
    const b = this.#bubble;
    b.set(src, IPV6_FIELD.SRC);
    b.set(dst, IPV6_FIELD.DST);
    writeRandomPortTrailer(b, TEREDO_BUBBLE_LEN, port);
    sink.sendUdp(b, 0, BUBBLE_WITH_PORT_LEN, server, TEREDO_PORT);
  }
}
