// Which peers may enter the client's peer table without the local host having asked for them (issue 17: a
// client flooded with spoofed peers). RFC 4380 §5.2.3 case 3 trusts at once a Teredo source that embeds the
// UDP source it came from, and anyone can forge such a datagram; the other ways in from the network (an
// indirect bubble through the server §5.2.6, a Teredo peer asked for proof of its mapping, a native source
// tested through our server, case 6) cost an entry too. Unchecked, 20,000 spoofed peers at 97k/s filled the
// 1024-entry table with trusted fakes and evicted the relay the host was using: its pings got 29/79.
//
// The rule: a peer that sent first is *unsolicited* until the local host sends it a packet (traffic both ways);
// then it is one of the host's conversations. Unsolicited peers
// - never evict anyone: refused when the table is full (Miredo refuses every new peer when full);
// - hold at most UNSOLICITED_MAX_PEERS entries together (refused beyond: `unsolicited-peers-full`), so the host
//   keeps CLIENT_MAX_PEERS - UNSOLICITED_MAX_PEERS entries for its own conversations whatever arrives;
// - come in at most UNSOLICITED_PEERS_PER_S per second after a burst of UNSOLICITED_BURST (a token bucket per
//   engine; beyond: `unsolicited-peers-rate-limited`). A refused datagram costs a hash lookup and this check, so
//   packets from the server and from known peers keep their share of each batch under a flood.
// Refused datagrams are dropped whole (even case 3's, whose address would have vouched for them): under a
// flood the host is not handed the attacker's packets either.
//
// State: one byte per peer slot and a counter; the bucket is the peer tables' RateBuckets (../peers/rate-bucket.ts).

import type { Millis } from '../../types.js';
import { RateBuckets } from '../../rate-bucket.js';
import { DROP } from './client-types.js';

/** Entries of the peer table that unsolicited peers may hold together (1/8 of the client's 1024). */
export const UNSOLICITED_MAX_PEERS = 128;
/** New unsolicited peers admitted per second, once the burst is spent. */
export const UNSOLICITED_PEERS_PER_S = 16;
/** New unsolicited peers admitted at once after a quiet period (the bucket's size). */
export const UNSOLICITED_BURST = 32;

/** The unsolicited mark per peer slot, their count, and the admission bucket; see the file comment. */
export class UnsolicitedPeers {
  readonly #mark: Uint8Array;
  #count = 0;
  readonly #bucket = new RateBuckets(1, UNSOLICITED_PEERS_PER_S, UNSOLICITED_BURST);

  /** `maxPeers`: the peer table's bound (slots are 0..maxPeers-1). */
  constructor(maxPeers: number) {
    this.#mark = new Uint8Array(maxPeers);
  }

  /** Unsolicited peers in the table. */
  get count(): number {
    return this.#count;
  }

  /**
   * -1 when one more unsolicited peer may enter at `now` (its share of the bucket is taken), else the drop code
   * saying why not. `tableFull`: the peer table holds its maximum (an unsolicited peer never evicts).
   */
  refusal(now: Millis, tableFull: boolean): number {
    if (tableFull || this.#count >= UNSOLICITED_MAX_PEERS) return DROP['unsolicited-peers-full'];
    return this.#bucket.take(0, now) ? -1 : DROP['unsolicited-peers-rate-limited'];
  }

  /** The peer just inserted in `slot` came from the network. */
  mark(slot: number): void {
    if (this.#mark[slot] === 1) return;
    this.#mark[slot] = 1;
    this.#count++;
  }

  /** The peer in `slot` is a conversation now (the host sent to it), or left the table: no longer counted. */
  release(slot: number): void {
    if (this.#mark[slot] === 0) return;
    this.#mark[slot] = 0;
    this.#count--;
  }

  /** Every peer was forgotten (new address). The bucket is kept: a flood does not restart with the address. */
  clear(): void {
    this.#mark.fill(0);
    this.#count = 0;
  }
}
