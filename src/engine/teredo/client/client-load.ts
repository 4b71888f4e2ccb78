// The Server Load Reduction Extension (RFC 6081 §5.7 as recalled; [MS-TERE] 3.2.5.x; the Neighbor Discovery Option
// trailer §4.4): a trusted peer whose 30 s of validity lapsed (RFC 4380 §5.2.4) is asked directly whether its
// mapping still works, instead of through its server with an indirect bubble.
//
//   reaching a trusted peer (not a local one, not one asked for proof) ─► ONE direct bubble to the mapping it is
//        trusted at, with a Neighbor Discovery Option trailer, DiscoveryType TeredoDiscoverySolicitation; the
//        RFC 4380 bubbles (direct + indirect through its server, client-reach.ts) wait SOLICITATION_WAIT_MS
//   answered: its direct bubble (TeredoDiscoveryAdvertisement) comes from that mapping, which proves the path as
//        the answer to the indirect bubble would (client-data.ts case 1); the server saw nothing
//   not answered within the wait ─► the RFC 4380 bubbles; the peer is then marked and later lapses go straight to
//        them (an RFC 4380 peer, Miredo among them, ignores the trailer: each lapse would cost the wait again),
//        until it sends a solicitation or an advertisement itself (it speaks the extension after all)
//   a solicitation in a direct bubble from a peer accepted there (trusted at that mapping, or embedding it in its
//        address: where a direct bubble is taken at all) ─► an advertisement direct bubble to it, paced per peer
//        as every bubble is (RFC 4380 §5.2.6: not within 2 s of our last transmission, 4 in 300 s without an
//        answer); nothing for a sender the peer table does not hold: no state is made for it here
//
// Why the wait is 2 s: the solicitation is a bubble, and §5.2.6 lets the next bubble to the same peer leave no
// sooner than 2 s after it, so a shorter wait would gain nothing; a peer's answer is one round trip, far less.
// The trailer's layout (type 0x04, length 1, DiscoveryType 0 or 1) is the codec's reading of RFC 6081 §4.4
// (src/wire/teredo-trailers.ts); it could not be checked against the RFC's text here. A peer reading it otherwise
// takes our solicitation as a plain bubble and does not answer: the fallback covers it.
// Bounds: one byte per peer table slot.

import { IPV6_FIELD } from '../../../wire/ipv6.js';
import { DISCOVERY_TYPE, readTrailers, TeredoTrailers, writeNeighborDiscoveryTrailer } from '../../../wire/teredo-trailers.js';
import { TEREDO_BUBBLE_LEN, writeBubbleHeader, type TeredoPacketView } from '../../../wire/teredo-view.js';
import type { Millis } from '../../types.js';
import type { PeerTable } from '../peers/peer-table.js';
import type { ClientSink } from './client-types.js';

/** How long a solicitation waits for its advertisement before the RFC 4380 bubbles go (RFC 4380 §5.2.6's 2 s). */
export const SOLICITATION_WAIT_MS = 2000;
/** A bubble and a Neighbor Discovery Option trailer (type, length, DiscoveryType). */
const BUBBLE_WITH_DISCOVERY_LEN = TEREDO_BUBBLE_LEN + 3;
/** Per slot: a solicitation waits for its answer; the last one went unanswered (the peer seems RFC 4380 only). */
const OUTSTANDING = 1;
const UNANSWERED = 2;

export class ServerLoadReduction {
  /** Off: no solicitation sent, none answered (the RFC 4380 behaviour). */
  enabled = true;
  /** Solicitations and advertisements sent, paths refreshed by an advertisement, solicitations that fell back. */
  solicitations = 0;
  advertisements = 0;
  refreshes = 0;
  fallbacks = 0;
  readonly #peers: PeerTable;
  readonly #state: Uint8Array;
  /** The trailers of the bubble being handled (a reused view: nothing allocated). */
  readonly #trailers = new TeredoTrailers();
  readonly #solicitation = new Uint8Array(BUBBLE_WITH_DISCOVERY_LEN);
  readonly #advertisement = new Uint8Array(BUBBLE_WITH_DISCOVERY_LEN);

  constructor(peers: PeerTable) {
    this.#peers = peers;
    this.#state = new Uint8Array(peers.maxPeers);
    writeBubbleHeader(this.#solicitation);
    writeBubbleHeader(this.#advertisement);
    writeNeighborDiscoveryTrailer(this.#solicitation, TEREDO_BUBBLE_LEN, DISCOVERY_TYPE.SOLICITATION);
    writeNeighborDiscoveryTrailer(this.#advertisement, TEREDO_BUBBLE_LEN, DISCOVERY_TYPE.ADVERTISEMENT);
  }

  /**
   * One step of reaching the trusted peer in `slot` from `src` to `dst` (16 bytes each) at `now`: true when a
   * solicitation went to its trusted mapping (the caller then waits SOLICITATION_WAIT_MS); false when the RFC 4380
   * bubbles are due: the extension is off, the peer left a solicitation unanswered (now or before), or §5.2.6's
   * pacing holds every bubble back.
   */
  solicit(slot: number, src: Uint8Array, dst: Uint8Array, now: Millis, sink: ClientSink): boolean {
    const state = this.#state[slot]!;
    if (state === OUTSTANDING) {
      this.#state[slot] = UNANSWERED;
      this.fallbacks++;
    }
    const p = this.#peers;
    if (!this.enabled || state !== 0 || !p.mayBubble(slot, now)) return false;
    p.bubbleSent(slot, now);
    this.#state[slot] = OUTSTANDING;
    this.solicitations++;
    this.#solicitation.set(dst, IPV6_FIELD.DST);
    this.#send(this.#solicitation, src, p.mappedAddr(slot), p.mappedPort(slot), sink);
    return true;
  }

  /**
   * A direct bubble in `view` from addr:port, where the peer in `slot` is accepted (the caller checked it), to us
   * at `me` (16 bytes): a solicitation is answered with an advertisement (paced), an advertisement answering ours
   * is counted (the caller's proof of the mapping does the rest). Either marks the peer as speaking the extension.
   */
  bubble(view: TeredoPacketView, slot: number, addr: number, port: number, me: Uint8Array, now: Millis, sink: ClientSink): void {
    if (!this.enabled) return;
    const t = this.#trailers;
    readTrailers(t, view.data, view.ipv6Offset + view.ipv6Length, view.end);
    if (t.discoveryType !== DISCOVERY_TYPE.SOLICITATION && t.discoveryType !== DISCOVERY_TYPE.ADVERTISEMENT) return;
    if (t.discoveryType === DISCOVERY_TYPE.ADVERTISEMENT && this.#state[slot] === OUTSTANDING) this.refreshes++;
    this.#state[slot] = 0;
    const p = this.#peers;
    if (t.discoveryType !== DISCOVERY_TYPE.SOLICITATION || !p.mayBubble(slot, now)) return;
    p.bubbleSent(slot, now);
    this.advertisements++;
    const b = this.#advertisement;
    p.copyAddress(slot, b, IPV6_FIELD.DST);
    this.#send(b, me, addr, port, sink);
  }

  /** Status counters: solicitations and advertisements sent, paths refreshed by an advertisement, fallbacks. */
  get counters(): { loadSolicitations: number; loadAdvertisements: number; loadRefreshes: number; loadFallbacks: number } {
    return { loadSolicitations: this.solicitations, loadAdvertisements: this.advertisements, loadRefreshes: this.refreshes, loadFallbacks: this.fallbacks };
  }

  /** The peer in `slot` proved its mapping: an outstanding solicitation is settled (its mark of RFC 4380 stays). */
  settle(slot: number): void {
    if (this.#state[slot] === OUTSTANDING) this.#state[slot] = 0;
  }

  /** The slot was freed: its peer forgotten. */
  forget(slot: number): void {
    this.#state[slot] = 0;
  }

  reset(): void {
    this.#state.fill(0);
  }

  /** The bubble `b` (its destination set) from `src` to addr:port. */
  #send(b: Uint8Array, src: Uint8Array, addr: number, port: number, sink: ClientSink): void {
    b.set(src, IPV6_FIELD.SRC);
    sink.sendUdp(b, 0, BUBBLE_WITH_DISCOVERY_LEN, addr, port);
  }
}
