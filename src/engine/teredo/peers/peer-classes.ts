// The classes of the Teredo peer table (RFC 4380 §5.4.2, §7.3.5: a relay limits the state it spends on peers that
// have not proven themselves), each with its own LRU list (lru-lists.ts) and bound, so that state created by
// unauthenticated datagrams never pushes out state that was proven or that the native side is waiting on:
//
//   proven    echoed the nonce of our bubble (§5.2.6 bubble answered from the real mapping; a blind spoofer never
//             sees the nonce). Never evicted; only expiry (30 s idle) removes it.
//   pending   created for the native side (host6 sends to it: queued packets, bubbles out). At most
//             maxPeers - embeddedMax; a new pending peer evicts the least recently used pending one, or, when
//             the table is full and none is pending, an embedded one.
//   embedded  admitted by §5.4.2 (b): an unsolicited datagram whose Teredo source embeds its UDP source (trusted
//             by the RFC, proven by nothing: one spoofed datagram makes one). A pool of embeddedMax =
//             maxPeers / 8; a new one evicts only the least recently used embedded peer.
//
// When no peer of the allowed classes exists the new peer is refused, as Miredo refuses every new peer when its
// list is full (libteredo/peerlist.c); here that happens only when proven peers fill the rest of the table.

import { LRU_END, LruLists } from './lru-lists.js';

/** A peer's class; insert() takes a PeerAdmission, prove() makes PEER_PROVEN. */
export type PeerClass = typeof PEER_PROVEN | PeerAdmission;
export type PeerAdmission = typeof PEER_PENDING | typeof PEER_EMBEDDED;
/** Echoed the nonce of our bubble. */
export const PEER_PROVEN = 0;
/** Created for the native side: the owner has packets for it. */
export const PEER_PENDING = 1;
/** Admitted from an unsolicited datagram whose address embeds its source (§5.4.2 (b)). */
export const PEER_EMBEDDED = 2;
/** Number of classes (and LRU lists), numbered 0 .. PEER_CLASSES - 1. */
export const PEER_CLASSES = 3;
/** The embedded pool is maxPeers / EMBEDDED_SHARE (at least 1). */
const EMBEDDED_SHARE = 8;
/** victim(): nothing may be evicted, the new peer is refused. */
export const REFUSE = -2;

/** One LRU list per class, with the class bounds of a table of maxPeers. */
export class PeerClasses extends LruLists {
  /** Bound of the embedded class: maxPeers / 8, at least 1. */
  readonly embeddedMax: number;
  /** Bound of the pending class: maxPeers - embeddedMax, at least 1. */
  readonly pendingMax: number;

  constructor(maxPeers: number) {
    super(PEER_CLASSES);
    this.embeddedMax = Math.max(1, Math.floor(maxPeers / EMBEDDED_SHARE));
    this.pendingMax = Math.max(1, maxPeers - this.embeddedMax);
  }

  /**
   * The slot to evict before a peer of class `admission` is added (`full`: the table holds maxPeers), LRU_END
   * when there is room, REFUSE when the peer may not be added. O(1).
   */
  victim(admission: PeerAdmission, full: boolean): number {
    if (!full && this.length(admission) < (admission === PEER_EMBEDDED ? this.embeddedMax : this.pendingMax)) return LRU_END;
    let v = this.head(admission);
    if (v === LRU_END && admission === PEER_PENDING && full) v = this.head(PEER_EMBEDDED);
    return v === LRU_END ? REFUSE : v;
  }
}
