// The Hairpinning Extension (RFC 6081 §3.5, §5.6; the Alternate Address trailer §4.3, [MS-TERE] 2.2.2): two
// Teredo clients behind one NAT reach each other even when the NAT does not hairpin (a packet to its own public
// address from inside goes nowhere) and local discovery (RFC 4380 §5.2.8, client-local.ts) is off or cannot see
// the other client. Each tells the other its local address and port in an Alternate Address trailer; the other,
// seeing the same mapped address as its own, bubbles those directly.
//
//   our bubbles toward a peer whose address embeds our own mapped IPv4 ─► carry our Alternate Address trailer (the
//        local address and port of the Teredo socket; none while the local address is unknown). Only toward such
//        peers: nobody else can use it, and a LAN address is nobody else's business
//   an indirect bubble (through our server) whose origin indication is our own mapped IPv4, from a Teredo address
//        embedding it, with an Alternate Address trailer ─► its entries are kept for that peer (at most
//        HAIRPIN_MAX_ALTERNATES, unicast with a port, RFC 6081's "valid unicast address", "MUST NOT be zero") and
//        each gets a direct bubble, with the direct bubble to the origin (client-data.ts #bubbleBack)
//   a datagram from a non-global source ─► taken from a peer behind our NAT when the source is one of the
//        alternates kept for it, or, for a bubble, when we are bubbling that peer and its own trailer lists the
//        source; the peer is then trusted there, as a local peer (reached at that address from now on)
//
// Why this may send to private addresses, against the rule that nothing goes to an address a packet names unless
// it is global unicast (docs/bounds.md): RFC 6081's condition replaces it here. The entries are used only when the
// server saw the bubble come from our own public address (its origin indication, which the server writes from
// the UDP source) and the sender's Teredo address embeds that address too: only a host behind our NAT (our LAN,
// or a carrier-grade NAT's other customers) can meet it, the same trust local discovery gives the link. What such
// a host gets: at most HAIRPIN_MAX_ALTERNATES bubbles (56 bytes) per datagram our server relays to us, paced per
// peer, to unicast addresses with a port other than 0 (never a broadcast, a multicast group, 0.0.0.0/8 or port 0);
// no amplification, and nothing but bubbles.
// Bounds: HAIRPIN_MAX_ALTERNATES entries (6 bytes) and a count per peer table slot.

import { isGlobalEndpoint4 } from '../../../wire/ipv4.js';
import { IPV6_FIELD } from '../../../wire/ipv6.js';
import { isTeredo, teredoMappedAddrAt } from '../../../wire/teredo-address.js';
import { readTrailers, writeAlternateAddressTrailer, type TeredoTrailers } from '../../../wire/teredo-trailers.js';
import { TEREDO_BUBBLE_LEN, writeBubbleHeader, type TeredoPacketView } from '../../../wire/teredo-view.js';
import type { ClientSink } from './client-types.js';

/** Alternates kept per peer: RFC 6081 §4.3's length "SHOULD be at most 14" (a local address and one from UPnP). */
export const HAIRPIN_MAX_ALTERNATES = 2;
/** A bubble and an Alternate Address trailer with our one entry (4 + 6 bytes). */
const BUBBLE_WITH_ALTERNATE_LEN = TEREDO_BUBBLE_LEN + 4 + 6;

export class Hairpinning {
  /** Off: no trailer sent, none used (the RFC 4380 behaviour). */
  enabled = true;
  /** Bubbles sent to a peer's alternates (status counter). */
  tried = 0;
  #localAddr = 0;
  #localPort = 0;
  readonly #addrs: Int32Array;
  readonly #ports: Uint16Array;
  readonly #count: Uint8Array;
  readonly #bubble = new Uint8Array(BUBBLE_WITH_ALTERNATE_LEN);
  readonly #one = new Int32Array(1);
  readonly #onePort = new Uint16Array(1);

  constructor(maxPeers: number) {
    this.#addrs = new Int32Array(maxPeers * HAIRPIN_MAX_ALTERNATES);
    this.#ports = new Uint16Array(maxPeers * HAIRPIN_MAX_ALTERNATES);
    this.#count = new Uint8Array(maxPeers);
    writeBubbleHeader(this.#bubble);
  }

  /** Our own alternate: the Teredo socket's local IPv4 address (int32; 0 = unknown, no trailer) and port. */
  setLocal(addr: number, port: number): void {
    const known = addr !== 0 && isGlobalEndpoint4(addr, port, true);
    this.#localAddr = known ? addr | 0 : 0;
    this.#localPort = known ? port : 0;
    if (known) writeAlternateAddressTrailer(this.#bubble, TEREDO_BUBBLE_LEN, this.#setOne(addr), this.#onePort, 1);
  }

  /**
   * Keeps the Alternate Address entries of `t` for the peer in `slot` (replacing earlier ones): unicast addresses
   * with a port other than 0, at most HAIRPIN_MAX_ALTERNATES. The caller has checked RFC 6081's condition.
   */
  record(slot: number, t: TeredoTrailers): void {
    if (!this.enabled) return;
    let n = 0;
    for (let i = 0; i < t.alternateCount && n < HAIRPIN_MAX_ALTERNATES; i++) {
      const addr = t.alternateAddr(i) | 0;
      const port = t.alternatePort(i);
      if (!isGlobalEndpoint4(addr, port, true)) continue;
      this.#addrs[slot * HAIRPIN_MAX_ALTERNATES + n] = addr;
      this.#ports[slot * HAIRPIN_MAX_ALTERNATES + n] = port;
      n++;
    }
    this.#count[slot] = n;
  }

  /**
   * RFC 6081's condition for an indirect bubble from the server: its origin indication (`origin`, int32) is our own
   * public address, and so is the mapping the sender's address (`peer`, 16 bytes) embeds; `me`: our address.
   */
  behindOurNat(origin: number, peer: Uint8Array, me: Uint8Array): boolean {
    const ours = teredoMappedAddrAt(me, 0);
    return this.enabled && origin === ours && isTeredo(peer, 0) && teredoMappedAddrAt(peer, 0) === ours;
  }

  /**
   * A datagram in `view` from addr:port (not global) from the peer in `slot` is taken: its Teredo address embeds
   * `ours` (our public IPv4), addr:port is unicast with a port, and it is one of the alternates kept for the peer,
   * or (a bubble, while we are `bubbling` the peer) one its own trailer lists (`t` is filled from the datagram).
   */
  accepts(view: TeredoPacketView, addr: number, port: number, slot: number, bubbling: boolean, ours: number, t: TeredoTrailers): boolean {
    const data = view.data;
    if (!isGlobalEndpoint4(addr, port, true) || !isTeredo(data, view.srcOffset) || teredoMappedAddrAt(data, view.srcOffset) !== ours) return false;
    if (this.isAlternate(slot, addr, port)) return true;
    if (!view.isBubble || !bubbling) return false;
    readTrailers(t, data, view.ipv6Offset + view.ipv6Length, view.end);
    return Hairpinning.lists(t, addr, port);
  }

  /** addr:port is one of the alternates kept for the peer in `slot`. */
  isAlternate(slot: number, addr: number, port: number): boolean {
    for (let i = 0; i < this.#count[slot]!; i++) {
      if (this.#addrs[slot * HAIRPIN_MAX_ALTERNATES + i] === (addr | 0) && this.#ports[slot * HAIRPIN_MAX_ALTERNATES + i] === port) return true;
    }
    return false;
  }

  /** The trailer `t` (of a datagram from addr:port) lists addr:port among its sender's alternates. */
  static lists(t: TeredoTrailers, addr: number, port: number): boolean {
    for (let i = 0; i < t.alternateCount; i++) if ((t.alternateAddr(i) | 0) === (addr | 0) && t.alternatePort(i) === port) return true;
    return false;
  }

  forget(slot: number): void {
    this.#count[slot] = 0;
  }

  reset(): void {
    this.#count.fill(0);
  }

  /** A bubble from `src` to `dst` (16 bytes each) to addr:port, with our Alternate Address trailer when we have one. */
  sendBubble(src: Uint8Array, dst: Uint8Array, addr: number, port: number, sink: ClientSink): void {
    const b = this.#bubble;
    b.set(src, IPV6_FIELD.SRC);
    b.set(dst, IPV6_FIELD.DST);
    sink.sendUdp(b, 0, this.#localAddr !== 0 && this.enabled ? BUBBLE_WITH_ALTERNATE_LEN : TEREDO_BUBBLE_LEN, addr, port);
  }

  /** A bubble (with our trailer) to each alternate kept for the peer in `slot`. */
  bubbleAlternates(slot: number, src: Uint8Array, dst: Uint8Array, sink: ClientSink): void {
    if (!this.enabled) return;
    for (let i = 0; i < this.#count[slot]!; i++) {
      this.tried++;
      this.sendBubble(src, dst, this.#addrs[slot * HAIRPIN_MAX_ALTERNATES + i]!, this.#ports[slot * HAIRPIN_MAX_ALTERNATES + i]!, sink);
    }
  }

  #setOne(addr: number): Int32Array {
    this.#one[0] = addr;
    this.#onePort[0] = this.#localPort;
    return this.#one;
  }
}
