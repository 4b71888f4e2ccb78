// The qualified client's data path (RFC 4380 §5.2.3 reception, §5.2.4 transmission, §5.2.6 bubbles, §5.2.9 the
// direct IPv6 connectivity test), over the shared peer table (../peers/peer-table.ts: bounded, LRU, FIFO queues,
// bubble pacing). This file decides what a datagram proves and what the host's packets need; client-reach.ts
// reaches peers. Nothing is allocated per packet: bubbles are built in scratch buffers, queues copied in the pool.
//
// Transmission of an IPv6 packet read from the TUN device, by destination:
//   trusted peer heard from < 30 s ago ─► straight to its mapping (§5.2.4 case 1)
//   Teredo, cone bit ──────────────────► straight to the embedded mapping (case 4); not when our address embeds
//                                        the gateway's mapping (RFC 6081 §5.3): the peer's bubble there first
//   Teredo, no cone bit ───────────────► queue; direct bubble to the embedded mapping + indirect bubble through
//                                        the peer's server (case 5); retried every 2 s within §5.2.6's pacing
//   native IPv6 ───────────────────────► queue; ICMPv6 Echo Request with a random 8-byte nonce through our
//                                        server (§5.2.9); retried every 2 s, 4 tries in all (Miredo's count)
//   (embedded server or mapping not global unicast, multicast, not from our address: dropped, §5.2.4, even
//   toward a trusted peer: the checks come first)
//
// Reception of a datagram (the engine has checked the Teredo encapsulation and handled RAs):
//   from the server with an origin indication ─► a bubble back to the origin (opens our NAT to it: how relays
//                                                and peers behind restricted NATs reach us), then as below
//   origin or UDP source not global unicast ────► dropped before anything: it would be where we answer
//   link-local IPv6 source, not from the server ─► dropped: only the server's RA may carry one, so nobody can
//                                                  give this host a prefix or a default route (Miredo does too)
//   trusted peer, mapping = UDP source ──────────► accepted (case 1); a bubble's Neighbor Discovery Option
//                                                  answered or counted (RFC 6081 §5.7, client-load.ts)
//   Echo Reply carrying the peer's test nonce ───► the peer is trusted at the UDP source (the relay), queue sent
//                                                  (case 2); the reply itself is ours, not the host's
//   Teredo source embedding the UDP source ──────► trusted, queue sent, accepted unless a bubble (case 3, §5.7 too)
//   Teredo source from another mapping ──────────► dropped; an Echo Request with a nonce through the peer's server:
//                                                  its reply from that mapping proves it (a symmetric NAT, beyond
//                                                  Miredo); nothing goes out if its server or mapping is not global
//   native source from an unknown relay ─────────► held (client-held.ts: 2 per peer, 16 in all) while a test of
//                                                  the source runs; delivered only if its reply trusts that relay
//                                                  (case 6; untested: CVE-2006-6266); a known peer's new relay too
//   anything else ───────────────────────────────► dropped, counted
//   (a peer not yet in the table enters only within client-admission.ts's bounds for peers that sent first:
//   never by eviction, 128 at most, 16 per second after a burst of 32; refused datagrams are dropped whole)
//
// A peer that never answers: each queued packet is dropped, reported by an ICMPv6 Unreachable (../unreachable.ts).

import { isGlobalEndpoint4 } from '../../../wire/ipv4.js';
import { IPV6_FIELD, ipv6HeaderFits } from '../../../wire/ipv6.js';
import { ipv6Equal, isGlobalUnicast6, isLinkLocal6, isMulticast6 } from '../../../wire/ipv6-address.js';
import { TEREDO_FLAG_CONE, isTeredo, teredoEmbeds, teredoFlagsAt, teredoMappedAddrAt, teredoMappedPortAt } from '../../../wire/teredo-address.js';
import { teredoMappingIsGlobal, teredoServerIsGlobal } from '../../../wire/teredo-address.js';
import type { TeredoPacketView } from '../../../wire/teredo-view.js';
import type { Millis, Random } from '../../types.js';
import { PEER_EMBEDDED, PEER_PENDING } from '../peers/peer-classes.js';
import { PeerTable } from '../peers/peer-table.js';
import { UnsolicitedPeers } from './client-admission.js';
import { HeldPackets, type HeldSink } from './client-held.js';
import { Hairpinning } from './client-hairpin.js';
import { ServerLoadReduction } from './client-load.js';
import { LocalDiscovery } from './client-local.js';
import { PortPrediction, RANDOM_PORT_WINDOW } from './client-predict.js';
import { PortPreservingPool } from './client-pps.js';
import { PeerReach } from './client-reach.js';
import { readTrailers, TeredoTrailers } from '../../../wire/teredo-trailers.js';
import { DROP, type ClientSink } from './client-types.js';

/** Peers a client keeps (each costs ~100 bytes + its queue): a host talks to few peers; LRU beyond. */
export const CLIENT_MAX_PEERS = 1024;
/** Bytes of queued packets for all peers together (each peer: 2 full packets at most). */
export const CLIENT_MAX_QUEUED_BYTES = 256 * 1024;
/** The client's address (16 bytes), server, cone NAT or not, address at the gateway's mapping or not (client-gateway.ts). */
export interface DataContext {
  readonly address: Uint8Array;
  readonly server: number;
  readonly cone: boolean;
  readonly gateway: boolean;
}

export class ClientDataPath {
  readonly peers: PeerTable;
  /** Peers that sent first and the local host has not sent to yet: bounded apart (client-admission.ts). */
  readonly #unsolicited = new UnsolicitedPeers(CLIENT_MAX_PEERS);
  /** Native packets from relays being tested (case 6), bounded apart. */
  readonly #held = new HeldPackets();
  /** Peers on our link (§5.2.8, client-local.ts): reached at their LAN address. */
  readonly local: LocalDiscovery;
  readonly predict = new PortPrediction(CLIENT_MAX_PEERS); // our ports behind a sequential symmetric NAT, predicted
  readonly pool = new PortPreservingPool(CLIENT_MAX_PEERS); // behind a port-preserving symmetric NAT: a socket per peer (RFC 6081 §5.4)
  readonly hairpin = new Hairpinning(CLIENT_MAX_PEERS); // peers behind our own NAT at their local addresses (RFC 6081 §5.6)
  readonly load: ServerLoadReduction; // trusted peers refreshed without their server (RFC 6081 §5.7, client-load.ts)
  /** RFC 6081 trailers of the datagram being handled (a reused view: nothing allocated). */
  readonly #trailers = new TeredoTrailers();
  /** Bubbles and connectivity tests toward peers the host queued packets for (client-reach.ts). */
  readonly #reach: PeerReach;
  readonly #peerAddr = new Uint8Array(16);
  // The destination of queued packets being sent (drain's visitor reads them: no closure per call).
  #sink: ClientSink | undefined;
  #toAddr = 0;
  #toPort = 0;
  #refused = 0;
  /** The peer the last trusted send (tunPacket) or case 1 (datagram) went to (TeredoClient's batch inputs reset it). */
  passed = -1;

  constructor(random: Random) {
    this.local = new LocalDiscovery(CLIENT_MAX_PEERS, random);
    this.peers = new PeerTable({ random, maxPeers: CLIENT_MAX_PEERS, maxQueuedBytes: CLIENT_MAX_QUEUED_BYTES, onRemove: this.#onRemove });
    this.load = new ServerLoadReduction(this.peers);
    this.#reach = new PeerReach(this.peers, this.local, this.predict, this.pool, this.hairpin, this.load, random, (slot, sink) => this.#discardHeld(slot, sink));
  }

  nextTimeout(): Millis | undefined {
    let t = this.#reach.nextTimeout();
    for (const u of [this.peers.nextTimeout(), this.local.nextTimeout()]) if (u !== undefined && (t === undefined || u < t)) t = u;
    return t;
  }

  /** Forgets every peer (the address changed or went away: mappings and trust belonged to the old one). */
  reset(sink: ClientSink): void {
    this.peers.forEach((slot) => this.#dropQueue(slot, sink));
    this.peers.clear();
    this.#reach.reset();
    this.#unsolicited.clear();
    for (let i = this.#held.size; i > 0; i--) sink.drop(DROP['held-not-proven']);
    this.#held.clear();
    this.local.reset();
    this.predict.reset();
    this.pool.reset();
    this.hairpin.reset();
  }

  handleTimeout(now: Millis, ctx: DataContext, sink: ClientSink): void {
    this.#sink = sink;
    this.peers.expire(now);
    this.local.handleTimeout(now, ctx.address, sink);
    this.#reach.handleTimeout(now, ctx, sink);
  }

  // ---- transmission (§5.2.4) ----

  tunPacket(data: Uint8Array, offset: number, length: number, now: Millis, ctx: DataContext, sink: ClientSink): void {
    this.#sink = sink;
    if (!ipv6HeaderFits(data, offset, length)) return sink.drop(DROP['tun-malformed']);
    const dst = offset + IPV6_FIELD.DST;
    if (!ipv6Equal(data, ctx.address, offset + IPV6_FIELD.SRC, 0)) return sink.drop(DROP['tun-source-not-ours']);
    if (!isGlobalUnicast6(data, dst)) return sink.drop(DROP['tun-destination-not-global']);
    const teredo = isTeredo(data, dst);
    // §5.2.4: its server gets the indirect bubbles, its mapping the packets and direct bubbles.
    if (teredo && !teredoServerIsGlobal(data, dst)) return sink.drop(DROP['destination-server-not-global']);
    if (teredo && !teredoMappingIsGlobal(data, dst)) return sink.drop(DROP['destination-mapping-not-global']);
    let slot = this.peers.find(data, dst);
    // The host talks to this peer: a conversation now, whoever spoke first.
    if (slot >= 0) {
      this.#unsolicited.release(slot);
      this.peers.adopt(slot);
    }
    if (slot >= 0 && this.peers.trusted(slot) && this.peers.valid(slot, now)) {
      this.peers.transmitted(slot, now);
      this.passed = slot;
      return this.pool.via(slot, sink).sendUdp(data, offset, length, this.peers.mappedAddr(slot), this.peers.mappedPort(slot));
    }
    // (Not toward a local peer: its public mapping may not hairpin; it is bubbled at its LAN address below.)
    if (teredo && !ctx.gateway && (slot < 0 || !this.local.isLocal(slot)) && (teredoFlagsAt(data, dst) & TEREDO_FLAG_CONE) !== 0) return sink.sendUdp(data, offset, length, teredoMappedAddrAt(data, dst), teredoMappedPortAt(data, dst));
    if (slot < 0) slot = this.peers.insert(data, dst, now, PEER_PENDING);
    else this.peers.used(slot, now);
    if (!this.peers.queues.enqueue(slot, data, offset, length)) sink.drop(DROP['queue-full']);
    if (!this.#reach.pending(slot)) this.#reach.reach(slot, now, ctx, sink);
  }

  #dropQueue(slot: number, sink: ClientSink): void {
    const n = this.peers.queues.count(slot);
    this.peers.queues.clear(slot);
    for (let i = 0; i < n; i++) sink.drop(DROP['peer-unreachable']);
  }

  // ---- reception (§5.2.3) ----

  /** A datagram from anyone but the server's RA path; `fromServer` = it came from the server's address:3544. */
  datagram(view: TeredoPacketView, addr: number, port: number, fromServer: boolean, now: Millis, ctx: DataContext, sink: ClientSink): void {
    this.#sink = sink;
    const data = view.data;
    const src = view.srcOffset;
    if (fromServer) {
      if (view.originOffset < 0) return sink.drop(DROP['server-unexpected']);
      // Relayed by the server from the origin: answer with a direct bubble, which opens our NAT toward it. The
      // origin indication is as easy to forge as any UDP source (§5.2.4: never toward a non-global address).
      addr = view.originAddr;
      port = view.originPort;
      if (!isGlobalEndpoint4(addr, port)) return sink.drop(DROP['origin-not-global']);
      // A Random Port trailer (RFC 6081 §4.5): the port the origin's next flow leaves from; bubbled too.
      readTrailers(this.#trailers, data, view.ipv6Offset + view.ipv6Length, view.end);
      this.#bubbleBack(data, src, addr, port, this.#trailers.randomPort > 0 ? this.#trailers.randomPort : 0, now, ctx, sink);
      if (view.isBubble) return;
    } else if (!isGlobalEndpoint4(addr, port) && !this.#fromLocalPeer(view, addr, port) && !this.#fromHairpinPeer(view, addr, port, now, ctx, sink)) return sink.drop(DROP['udp-source-not-global']);
    if (!ipv6Equal(data, ctx.address, view.dstOffset, 0)) return sink.drop(DROP['not-for-our-address']);
    if (isLinkLocal6(data, src) || isMulticast6(data, src)) return sink.drop(DROP['link-local-source']);
    let slot = this.peers.find(data, src);
    if (slot >= 0 && this.peers.trusted(slot) && this.peers.mappingIs(slot, addr, port)) {
      // Case 1. A trusted peer not heard for 30 s gets packets queued and bubbles again (§5.2.4): its answer
      // sends the queue. A local peer's bubble is answered unless we are the one bubbling (§5.2.8).
      if (view.isBubble) this.load.bubble(view, slot, addr, port, ctx.address, now, this.pool.via(slot, sink));
      if (view.isBubble && this.local.isLocal(slot) && !this.#reach.pending(slot) && this.peers.mayBubble(slot, now)) {
        this.peers.bubbleSent(slot, now);
        this.peers.copyAddress(slot, this.#peerAddr, 0);
        this.#reach.sendBubble(ctx.address, this.#peerAddr, addr, port, sink);
      }
      if (this.peers.queues.length(slot) > 0 || this.#reach.pending(slot)) this.#trust(slot, addr, port, now, sink);
      else {
        this.peers.received(slot, now);
        this.passed = slot;
      }
      return this.#deliver(view, sink);
    }
    if (slot >= 0 && this.#reach.isTestReply(view, slot)) {
      // Case 2: the reply to our test came back through the relay nearest the peer: that relay is its mapping.
      this.#trust(slot, addr, port, now, sink);
      return;
    }
    if (teredoEmbeds(data, src, addr, port)) {
      // Case 3: the source's own address vouches for the mapping it came from.
      if (slot < 0 && (slot = this.#admit(data, src, now)) < 0) return sink.drop(this.#refused);
      if (view.isBubble) this.load.bubble(view, slot, addr, port, ctx.address, now, sink);
      this.#trust(slot, addr, port, now, sink);
      if (!view.isBubble) this.#deliver(view, sink);
      return;
    }
    if (isTeredo(data, src)) {
      // A Teredo peer whose packets come from another mapping than its address embeds: it is behind a symmetric
      // NAT, which maps each destination apart (RFC 6081 §3 addresses this with a new trailer; this needs none).
      // Ask it for proof: an Echo Request with a nonce through ITS server, which delivers only to the mapping
      // its address embeds; its reply comes back from where its packets really come from and, carrying the
      // nonce, makes that mapping trusted (case 2). Miredo drops these packets: no symmetric peer reaches it.
      // Anyone can forge the address: the proof goes only to a global server for a global mapping (§5.2.4).
      if (!teredoServerIsGlobal(data, src)) return sink.drop(DROP['peer-server-not-global']);
      if (!teredoMappingIsGlobal(data, src)) return sink.drop(DROP['peer-mapping-not-global']);
      // RFC 6081 §5.2: the proof by a peer with the extension (client-reach.ts isNonceEcho), as case 2.
      if (slot >= 0 && this.#reach.isNonceEcho(view, slot, this.#trailers)) return this.#trust(slot, addr, port, now, sink);
      if (slot < 0 && (slot = this.#admit(data, src, now)) < 0) return sink.drop(this.#refused);
      sink.drop(DROP['unknown-peer']);
      // One proof at a time; a peer we are bubbling (it answered from another mapping) is asked for it now.
      if (this.#reach.proving(slot) && this.#reach.pending(slot)) return;
      this.#reach.startProof(slot);
      this.#reach.reach(slot, now, ctx, sink);
      return;
    }
    // Case 6, safely: a native host answering through a relay we do not know yet. Test the source through our
    // server (it is a global IPv6 address, so the server forwards the Echo Request natively, never to the
    // sender's IPv4); its reply will arrive through the right relay and make it trusted. The packet waits for
    // that reply (client-held.ts), and is delivered only if it came through the relay the reply proves. A known
    // peer too: relays that share 2001::/32 (docs/scaling-out.md) move its traffic to another when one dies, and
    // the test's reply moves its mapping there; until then the old mapping stands (a forged packet moves nothing).
    if (!isGlobalUnicast6(data, src)) return sink.drop(DROP['unknown-peer']);
    if (slot < 0 && (slot = this.#admit(data, src, now)) < 0) return sink.drop(this.#refused);
    if (!this.#held.hold(slot, data, view.ipv6Offset, view.ipv6Length, addr, port)) sink.drop(DROP['held-full']);
    if (!this.#reach.pending(slot)) this.#reach.reach(slot, now, ctx, sink);
  }

  /** A datagram from a non-global source is taken only from a peer found on our link, at its LAN address. */
  #fromLocalPeer(view: TeredoPacketView, addr: number, port: number): boolean {
    const slot = this.peers.find(view.data, view.srcOffset);
    return slot >= 0 && this.local.isLocal(slot) && this.peers.trusted(slot) && this.peers.mappingIs(slot, addr, port);
  }

  /** RFC 6081 §5.6: a datagram from a non-global source taken from a peer behind our NAT (client-hairpin.ts). */
  #fromHairpinPeer(view: TeredoPacketView, addr: number, port: number, now: Millis, ctx: DataContext, sink: ClientSink): boolean {
    const slot = this.hairpin.enabled ? this.peers.find(view.data, view.srcOffset) : -1;
    if (slot < 0 || !this.hairpin.accepts(view, addr, port, slot, this.#reach.pending(slot), teredoMappedAddrAt(ctx.address, 0), this.#trailers)) return false;
    this.#trust(slot, addr, port, now, sink);
    this.local.setLocal(slot, true);
    return true;
  }

  /**
   * A bubble received on the discovery socket (224.0.0.253:3544, §5.2.8) from addr:port: its Teredo source is on
   * our link, reached there from now on; a peer new to the link gets our discovery bubble in answer.
   */
  discoveryBubble(view: TeredoPacketView, addr: number, port: number, now: Millis, ctx: DataContext, sink: ClientSink): void {
    this.#sink = sink;
    const data = view.data;
    const src = view.srcOffset;
    if (!this.local.enabled) return sink.drop(DROP['discovery-off']);
    if (!view.isBubble || !isTeredo(data, src) || !isGlobalEndpoint4(addr, port, true)) return sink.drop(DROP['discovery-unexpected']);
    if (ipv6Equal(data, ctx.address, src, 0)) return; // our own, looped back by the kernel
    // Only a client behind our own NAT (its address embeds our public IPv4, as Miredo checks): a LAN host cannot
    // claim to be any Teredo peer on the Internet.
    if (teredoMappedAddrAt(data, src) !== teredoMappedAddrAt(ctx.address, 0)) return sink.drop(DROP['discovery-unexpected']);
    let slot = this.peers.find(data, src);
    if (slot < 0 && (slot = this.#admit(data, src, now)) < 0) return sink.drop(this.#refused);
    const known = this.local.isLocal(slot) && this.peers.mappingIs(slot, addr, port);
    this.#trust(slot, addr, port, now, sink);
    this.local.setLocal(slot, true);
    if (!known) this.local.sendLimited(now, ctx.address, sink);
  }

  #discardHeld(slot: number, sink: ClientSink): void {
    for (let n = this.#held.discard(slot); n > 0; n--) sink.drop(DROP['held-not-proven']);
  }

  /**
   * A table slot for the peer at data[offset] that sent first (unsolicited until the host sends to it), or -1
   * when client-admission.ts refuses it (#refused: the drop code saying why).
   */
  #admit(data: Uint8Array, offset: number, now: Millis): number {
    const refusal = this.#unsolicited.refusal(now, this.peers.size === this.peers.maxPeers);
    if (refusal >= 0) {
      this.#refused = refusal;
      return -1;
    }
    // The embedded class (its own pool, peer-classes.ts): never evicts the host's own peers (pending).
    const slot = this.peers.insert(data, offset, now, PEER_EMBEDDED);
    if (slot < 0) {
      this.#refused = DROP['unsolicited-peers-full'];
      return -1;
    }
    this.#unsolicited.mark(slot);
    return slot;
  }

  #trust(slot: number, addr: number, port: number, now: Millis, sink: ClientSink): void {
    const p = this.peers;
    // Proven at another mapping than its LAN address: no longer reached as a local peer.
    if (this.local.isLocal(slot) && !p.mappingIs(slot, addr, port)) this.local.setLocal(slot, false);
    p.setMapping(slot, addr, port);
    p.setTrusted(slot, true, now);
    p.received(slot, now);
    p.setNonce(slot, 0, 0);
    this.#reach.forget(slot);
    this.#sink = this.pool.via(slot, sink); // (a peer reached from a pool socket gets its queue from there)
    this.#toAddr = addr;
    this.#toPort = port;
    if (p.queues.count(slot) > 0) {
      p.transmitted(slot, now);
      p.queues.drain(slot, this.#sendQueued);
    }
    if (this.#held.size > 0) this.#held.release(slot, addr, port, this.#heldSink);
  }

  // Held native packets on release: those from the trusted relay to the local host, the others counted.
  readonly #heldSink: HeldSink = {
    deliver: (data, offset, length) => this.#sink!.writeTun(data, offset, length),
    drop: () => this.#sink!.drop(DROP['held-not-proven']),
  };

  /** Destination Unreachable errors written to the local stack, and those the rate limit held back. */
  get unreachableErrors(): { sent: number; limited: number } {
    return this.#reach.unreachableErrors;
  }

  readonly #sendQueued = (data: Uint8Array, offset: number, length: number): void => {
    this.#sink!.sendUdp(data, offset, length, this.#toAddr, this.#toPort);
  };

  #deliver(view: TeredoPacketView, sink: ClientSink): void {
    if (!view.isBubble) sink.writeTun(view.data, view.ipv6Offset, view.ipv6Length);
  }

  /**
   * The direct bubble answering an indirect one (§5.2.6), paced per source like every bubble. A new source that
   * client-admission.ts refuses is still answered, without an entry to pace it: a relay's indirect bubble is
   * how a native host starts to reach us and must get through a flood; and since a sender chooses its IPv6
   * source freely, an entry never limited what it gets back (one 40-byte bubble per datagram our server relays
   * to us, each at least a 40-byte bubble + an 8-byte origin indication: nothing amplified).
   */
  #bubbleBack(data: Uint8Array, src: number, addr: number, port: number, randomPort: number, now: Millis, ctx: DataContext, sink: ClientSink): void {
    let slot = this.peers.find(data, src);
    if (slot < 0) slot = this.#admit(data, src, now);
    const paced = slot < 0 || this.peers.mayBubble(slot, now);
    if (paced && slot >= 0) this.peers.bubbleSent(slot, now);
    const peer = this.#peerAddr;
    for (let i = 0; i < 16; i++) peer[i] = data[src + i]!;
    // RFC 6081 §5.6: a peer behind our NAT; its alternates may reach it where the NAT does not hairpin.
    const sameNat = this.hairpin.behindOurNat(addr, peer, ctx.address);
    if (sameNat && slot >= 0 && this.#trailers.alternateCount > 0) this.hairpin.record(slot, this.#trailers);
    if (paced && sameNat) {
      this.hairpin.sendBubble(ctx.address, peer, addr, port, sink);
      if (slot >= 0 && !this.local.isLocal(slot)) this.hairpin.bubbleAlternates(slot, ctx.address, peer, sink);
    } else if (paced) this.#reach.sendBubble(ctx.address, peer, addr, port, sink, this.#trailers.hasNonce ? this.#trailers.nonce : 0); // (RFC 6081 §5.2: its Nonce echoed)
    // The origin told the port its flow toward us leaves from (client-predict.ts): our bubble there opens our NAT
    // to it; sent even within the pacing (our own bubbles to the peer may just have left), still a fixed few per
    // relayed datagram: that port and the next ones (RANDOM_PORT_WINDOW: another flow through the peer's NAT may
    // have taken the predicted one). The same address only: a trailer cannot point our bubbles elsewhere.
    for (let k = 0; randomPort !== 0 && k < RANDOM_PORT_WINDOW; k++) {
      const p = (randomPort + k) & 0xffff;
      if (p !== 0 && p !== port) this.#reach.sendBubble(ctx.address, peer, addr, p, sink);
    }
    // Our answer leaves from a new port of a NAT we predict or a pool socket: the peer learns which through its server.
    if (paced && slot >= 0 && !ctx.cone && isTeredo(peer, 0) && teredoServerIsGlobal(peer, 0)) this.#reach.tellPort(slot, peer, addr, port, now, ctx, sink);
  }

  readonly #onRemove = (slot: number): void => {
    this.#reach.forget(slot);
    this.#unsolicited.release(slot);
    this.local.setLocal(slot, false);
    this.predict.forget(slot);
    this.pool.forget(slot);
    this.hairpin.forget(slot);
    this.load.forget(slot);
    if (this.#sink !== undefined) {
      this.#dropQueue(slot, this.#sink);
      this.#discardHeld(slot, this.#sink);
    } else this.#held.discard(slot);
  };
}

