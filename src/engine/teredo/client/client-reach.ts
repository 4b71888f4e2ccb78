// Reaching a peer the host queued packets for (RFC 4380 §5.2.4, §5.2.6 bubbles, §5.2.9 the direct IPv6
// connectivity test), one attempt every RETRY_INTERVAL_MS until the peer answers (client-data.ts then trusts it
// and calls `trusted`) or the attempts run out (its queued packets are then dropped, each reported to the local
// stack by an ICMPv6 Destination Unreachable, ../unreachable.ts). Kept apart from client-data.ts, which decides
// what a received datagram proves; this file only sends: bubbles and Echo Requests built in scratch buffers.
//
//   trusted Teredo peer whose validity lapsed ─► first a solicitation direct bubble at its trusted mapping, and
//                  SOLICITATION_WAIT_MS for the answer (RFC 6081 §5.7, client-load.ts); then as any Teredo peer
//   Teredo peer ─► direct bubble to the embedded mapping + indirect bubble through its server (§5.2.4 case 5);
//                  a local peer (§5.2.8): one bubble at its LAN address; behind a NAT whose ports we predict,
//                  the Random Port trailer rides the indirect bubble (client-predict.ts); behind a
//                  port-preserving symmetric NAT the direct bubble leaves from the peer's own pool socket and
//                  the trailer names its port (RFC 6081 §5.4, client-pps.ts); 4 bubbles in 300 s without an
//                  answer: given up (§5.2.6)
//   native peer, or a Teredo peer asked to prove a mapping its address does not embed ─► an Echo Request with a
//                  random 8-byte nonce, through our server (native, §5.2.9) or through the peer's own server
//                  (which delivers only to the mapping its address embeds; with it an indirect bubble carrying
//                  the nonce's low half in a Nonce trailer, RFC 6081 §5.2, which such a peer echoes in a direct
//                  bubble from where its packets come from: isNonceEcho); MAX_PINGS in all
// Bounds: one byte of state each per peer table slot, one timer per slot.

import { ICMPV6_TYPE, fillIcmpv6PacketChecksum } from '../../../wire/icmpv6.js';
import { IPV6_FIELD, IPV6_HEADER_LEN, NEXT_HEADER } from '../../../wire/ipv6.js';
import { TEREDO_CLIENT_LINK_LOCAL, isTeredo, teredoMappedAddrAt, teredoMappedPortAt, teredoServerAt } from '../../../wire/teredo-address.js';
import { TEREDO_PORT } from '../../../wire/teredo-constants.js';
import { TEREDO_BUBBLE_LEN, writeBubbleHeader, type TeredoPacketView } from '../../../wire/teredo-view.js';
import { readTrailers, writeNonceTrailer, type TeredoTrailers } from '../../../wire/teredo-trailers.js';
import { NDISC_HOP_LIMIT } from '../../../wire/ndisc.js';
import { TimerTable } from '../../timer-table.js';
import type { Millis, Random } from '../../types.js';
import type { PeerTable } from '../peers/peer-table.js';
import { UnreachableErrors } from '../unreachable.js';
import type { DataContext } from './client-data.js';
import type { Hairpinning } from './client-hairpin.js';
import { SOLICITATION_WAIT_MS, type ServerLoadReduction } from './client-load.js';
import type { LocalDiscovery } from './client-local.js';
import type { PortPrediction } from './client-predict.js';
import type { PortPreservingPool } from './client-pps.js';
import { DROP, type ClientSink } from './client-types.js';

/** §5.2.4 (2), (5): 2 s between connectivity tests / bubbles toward a peer being reached. */
export const RETRY_INTERVAL_MS = 2000;
/** Connectivity tests per native destination: 1 + 3 repeats (§5.2.4 "up to 3 times", Miredo's 4 pings). */
export const MAX_PINGS = 4;
/**
 * At most one Destination Unreachable to the local stack per this many ms (Miredo's ICMP_RATE_LIMIT_MS,
 * libteredo/relay.c; RFC 4443 §2.4 f). The error comes from fe80::ffff:ffff:ffff, the client's link-local
 * (§5.2.1), with hop limit 255, as a message on the link.
 */
const UNREACHABLE_INTERVAL_MS = 100;
/** Hop limit of our Echo Requests (Miredo's, raised from 21 which did not reach far enough). */
const PING_HOP_LIMIT = 128;
/** Echo Request: IPv6 header + type, code, checksum, identifier, sequence + the 8-byte nonce. */
const PING_LEN = IPV6_HEADER_LEN + 8 + 8;
const ECHO_NONCE_AT = IPV6_HEADER_LEN + 8;
/** RFC 6081 §4.2: a Nonce trailer is type, length and 4 bytes. */
const NONCE_TRAILER_LEN = 6;

export class PeerReach {
  readonly #peers: PeerTable;
  readonly #local: LocalDiscovery;
  readonly #predict: PortPrediction;
  readonly #pool: PortPreservingPool;
  readonly #hairpin: Hairpinning;
  readonly #load: ServerLoadReduction;
  /** Called when a peer is given up on (its held packets go too). */
  readonly #onGiveUp: (slot: number, sink: ClientSink) => void;
  readonly #random: Random;
  readonly #retries = new TimerTable<number>();
  readonly #pings: Uint8Array;
  /** 1 while a Teredo peer is being asked for proof of a mapping its address does not embed (client-data.ts). */
  readonly #proving: Uint8Array;
  readonly #bubble = new Uint8Array(TEREDO_BUBBLE_LEN + NONCE_TRAILER_LEN);
  readonly #ping = new Uint8Array(PING_LEN);
  readonly #peerAddr = new Uint8Array(16);
  readonly #unreachable = new UnreachableErrors({ source: TEREDO_CLIENT_LINK_LOCAL, hopLimit: NDISC_HOP_LIMIT, perWindow: 1, windowMs: UNREACHABLE_INTERVAL_MS });
  #unreachableSent = 0;
  #unreachableLimited = 0;
  // The destination of unreachable errors being reported (drain's visitor reads them: no closure per call).
  #sink: ClientSink | undefined;
  #now: Millis = 0;

  constructor(peers: PeerTable, local: LocalDiscovery, predict: PortPrediction, pool: PortPreservingPool, hairpin: Hairpinning, load: ServerLoadReduction, random: Random, onGiveUp: (slot: number, sink: ClientSink) => void) {
    this.#peers = peers;
    this.#local = local;
    this.#predict = predict;
    this.#pool = pool;
    this.#hairpin = hairpin;
    this.#load = load;
    this.#random = random;
    this.#onGiveUp = onGiveUp;
    this.#pings = new Uint8Array(peers.maxPeers);
    this.#proving = new Uint8Array(peers.maxPeers);
    writeBubbleHeader(this.#bubble);
    this.#ping[0] = 0x60;
    this.#ping[IPV6_FIELD.PAYLOAD_LENGTH + 1] = PING_LEN - IPV6_HEADER_LEN;
    this.#ping[IPV6_FIELD.NEXT_HEADER] = NEXT_HEADER.ICMPV6;
    this.#ping[IPV6_FIELD.HOP_LIMIT] = PING_HOP_LIMIT;
    this.#ping[IPV6_HEADER_LEN] = ICMPV6_TYPE.ECHO_REQUEST;
  }

  nextTimeout(): Millis | undefined {
    return this.#retries.nextTimeout();
  }

  handleTimeout(now: Millis, ctx: DataContext, sink: ClientSink): void {
    for (let slot = this.#retries.popExpired(now); slot !== undefined; slot = this.#retries.popExpired(now)) this.reach(slot, now, ctx, sink);
  }

  /** Being reached now (an attempt is armed). */
  pending(slot: number): boolean {
    return this.#retries.has(slot);
  }

  /** Asking the Teredo peer in `slot` to prove a mapping its address does not embed. */
  proving(slot: number): boolean {
    return this.#proving[slot] === 1;
  }

  /** From now on the peer in `slot` is reached by a proof (an Echo Request through its own server). */
  startProof(slot: number): void {
    this.#proving[slot] = 1;
  }

  /** The peer answered (or left the table): its attempts stop. */
  forget(slot: number): void {
    this.#load.settle(slot);
    this.#retries.delete(slot);
    this.#pings[slot] = 0;
    this.#proving[slot] = 0;
  }

  /** Every peer forgotten (new address). */
  reset(): void {
    this.#load.reset();
    this.#retries.clear();
    this.#pings.fill(0);
    this.#proving.fill(0);
  }

  /** One attempt to reach a queued-for peer: bubbles (Teredo) or a connectivity test (native); re-armed 2 s on. */
  reach(slot: number, now: Millis, ctx: DataContext, sink: ClientSink): void {
    const p = this.#peers;
    if (!p.has(slot)) return;
    p.copyAddress(slot, this.#peerAddr, 0);
    const peer = this.#peerAddr;
    const local = this.#local;
    if (isTeredo(peer, 0) && this.#proving[slot] === 0) {
      // §5.2.6: 4 bubbles in the last 300 s and no answer: give up.
      if (p.bubblesExhausted(slot, now)) return this.#giveUp(slot, now, sink);
      // RFC 6081 §5.7: a peer trusted at a mapping is asked there first, without its server.
      if (p.trusted(slot) && !local.isLocal(slot) && this.#load.solicit(slot, ctx.address, peer, now, this.#pool.via(slot, sink))) {
        this.#retries.set(slot, now + SOLICITATION_WAIT_MS);
        return;
      }
      // A peer behind our own NAT (same public address) may be on our link: ask there too (§5.2.8); and our
      // bubbles to it carry our local address, which it tries where the NAT does not hairpin (RFC 6081 §5.6).
      const sameNat = teredoMappedAddrAt(peer, 0) === teredoMappedAddrAt(ctx.address, 0);
      if (!local.isLocal(slot) && sameNat) local.sendLimited(now, ctx.address, sink);
      if (p.mayBubble(slot, now) && local.isLocal(slot)) {
        // A local peer (§5.2.8): a direct bubble at its LAN address; it answers with one.
        p.bubbleSent(slot, now);
        this.sendBubble(ctx.address, peer, p.mappedAddr(slot), p.mappedPort(slot), sink);
      } else if (p.mayBubble(slot, now)) {
        p.bubbleSent(slot, now);
        // A cone client needs no hole toward the peer; others open one (§5.2.4 case 5). Behind a NAT whose ports
        // we predict, the hole first (it takes the predicted port), then the indirect bubble telling the peer;
        // behind a port-preserving symmetric NAT, the hole from the peer's pool socket, whose port is told.
        this.#now = now;
        const pooled = ctx.cone || sameNat ? -1 : this.#pool.take(slot, now, this.#untrust);
        const told = pooled >= 0 ? this.#pool.port(pooled) : ctx.cone ? 0 : this.#predict.portFor(slot);
        const bubbles = sameNat ? this.#hairpin : this;
        if (told === 0) bubbles.sendBubble(ctx.address, peer, teredoServerAt(peer, 0), TEREDO_PORT, sink);
        if (!ctx.cone) bubbles.sendBubble(ctx.address, peer, teredoMappedAddrAt(peer, 0), teredoMappedPortAt(peer, 0), this.#pool.via(slot, sink));
        if (sameNat) this.#hairpin.bubbleAlternates(slot, ctx.address, peer, sink);
        if (told !== 0) this.#predict.sendIndirect(ctx.address, peer, teredoServerAt(peer, 0), told, sink);
      }
    } else {
      if (this.#pings[slot]! >= MAX_PINGS) return this.#giveUp(slot, now, sink);
      this.#pings[slot]!++;
      // A native peer is tested through our server (§5.2.9); a Teredo peer asked for proof, through its own
      // server, which delivers only to the mapping its address embeds.
      this.#sendPing(slot, this.#proving[slot] === 1 ? teredoServerAt(peer, 0) : ctx.server, ctx, sink);
      if (this.#proving[slot] === 1) this.sendBubble(ctx.address, peer, teredoServerAt(peer, 0), TEREDO_PORT, sink, p.nonceLow(slot));
      p.transmitted(slot, now);
    }
    this.#retries.set(slot, now + RETRY_INTERVAL_MS);
  }

  /** The reply to our connectivity test of the peer in `slot` (an Echo Reply carrying its nonce). */
  isTestReply(view: TeredoPacketView, slot: number): boolean {
    const at = view.payloadOffset;
    return view.nextHeader === NEXT_HEADER.ICMPV6 && view.payloadLength >= 16 && view.data[at] === ICMPV6_TYPE.ECHO_REPLY && this.#peers.nonceMatches(slot, view.data, at + 8);
  }

  /**
   * RFC 6081 §5.2: a direct bubble echoing, in its Nonce trailer (`trailers`: a reused view, overwritten), the nonce
   * our indirect bubble through the peer's own server carried: the peer in `slot` got it at the mapping its address
   * embeds, and answers from where its packets come from.
   */
  isNonceEcho(view: TeredoPacketView, slot: number, trailers: TeredoTrailers): boolean {
    if (!view.isBubble || this.#proving[slot] !== 1) return false;
    readTrailers(trailers, view.data, view.ipv6Offset + view.ipv6Length, view.end);
    return trailers.hasNonce && trailers.nonce !== 0 && trailers.nonce === this.#peers.nonceLow(slot);
  }

  /**
   * Our direct bubble answering the peer in `slot` (16 bytes at `peer`, a Teredo address with a global server)
   * at addr:port left from a port it cannot know: behind a port-preserving symmetric NAT, one more from the
   * peer's pool socket, and its port told in the Random Port trailer of an indirect bubble through the peer's
   * server (RFC 6081 §5.4); behind a NAT whose ports we predict, the predicted port told the same way.
   */
  tellPort(slot: number, peer: Uint8Array, addr: number, port: number, now: Millis, ctx: DataContext, sink: ClientSink): void {
    const sameNat = teredoMappedAddrAt(peer, 0) === teredoMappedAddrAt(ctx.address, 0);
    this.#now = now;
    const pooled = sameNat ? -1 : this.#pool.take(slot, now, this.#untrust);
    if (pooled >= 0) this.sendBubble(ctx.address, peer, addr, port, this.#pool.via(slot, sink));
    const told = pooled >= 0 ? this.#pool.port(pooled) : this.#predict.portFor(slot);
    if (told !== 0) this.#predict.sendIndirect(ctx.address, peer, teredoServerAt(peer, 0), told, sink);
  }

  // A peer whose pool socket went to another: its packets would leave from the Teredo port, which its NAT does
  // not let in; untrusted, it is bubbled anew when the host next sends to it.
  readonly #untrust = (slot: number): void => this.#peers.setTrusted(slot, false, this.#now);

  /** A bubble (§5.2.6) from `src` to `dst` (16 bytes each) sent to addr:port; with an RFC 6081 Nonce trailer unless `nonce` is 0. */
  sendBubble(src: Uint8Array, dst: Uint8Array, addr: number, port: number, sink: ClientSink, nonce = 0): void {
    const b = this.#bubble;
    b.set(src, IPV6_FIELD.SRC);
    b.set(dst, IPV6_FIELD.DST);
    sink.sendUdp(b, 0, nonce === 0 ? TEREDO_BUBBLE_LEN : writeNonceTrailer(b, TEREDO_BUBBLE_LEN, nonce), addr, port);
  }

  /** Destination Unreachable errors written to the local stack, and those the rate limit held back. */
  get unreachableErrors(): { sent: number; limited: number } {
    return { sent: this.#unreachableSent, limited: this.#unreachableLimited };
  }

  /** The peer did not answer: its queued packets are dropped, each reported to the local stack as unreachable. */
  #giveUp(slot: number, now: Millis, sink: ClientSink): void {
    this.#retries.delete(slot);
    this.#sink = sink;
    this.#now = now;
    this.#onGiveUp(slot, sink);
    this.#peers.queues.drain(slot, this.#reportUnreachable);
    this.#peers.setNonce(slot, 0, 0);
    this.#pings[slot] = 0;
    this.#proving[slot] = 0;
  }

  // Each queued packet of a peer given up on: counted, and reported to the local stack as unreachable.
  readonly #reportUnreachable = (data: Uint8Array, offset: number, length: number): void => {
    const sink = this.#sink!;
    sink.drop(DROP['peer-unreachable']);
    const n = this.#unreachable.build(data, offset, length, this.#now);
    if (n > 0) {
      this.#unreachableSent++;
      sink.writeTun(this.#unreachable.packet, 0, n);
    } else if (n < 0) this.#unreachableLimited++;
  };

  /** §5.2.9: an Echo Request from our address to the peer with the round's nonce, sent to `server`:3544. */
  #sendPing(slot: number, server: number, ctx: DataContext, sink: ClientSink): void {
    // One nonce per round of tests (cleared when the peer is trusted or given up): a reply to an earlier test of
    // the round still counts when it comes late (a server's first forward may wait 1-2 s for its neighbour
    // discovery; the relay keeps its bubbles' nonce the same way).
    if (!this.#peers.hasNonce(slot)) {
      const hi = this.#random.int(0x100000000) >>> 0;
      const lo = (this.#random.int(0x100000000) | 1) >>> 0; // never all zero (zero means "no nonce")
      this.#peers.setNonce(slot, hi, lo);
    }
    const ping = this.#ping;
    ping.set(ctx.address, IPV6_FIELD.SRC);
    this.#peers.copyAddress(slot, ping, IPV6_FIELD.DST);
    this.#peers.writeNonce(slot, ping, ECHO_NONCE_AT);
    fillIcmpv6PacketChecksum(ping);
    sink.sendUdp(ping, 0, PING_LEN, server, TEREDO_PORT);
  }
}
