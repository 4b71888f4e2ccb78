// The Teredo relay engine (RFC 4380 §5.4), sans-I/O and sink-style: IPv6 packets from the native side (the TUN
// device routing 2001::/32) go to Teredo clients over UDP, and datagrams from Teredo clients go to the native
// side. Per packet nothing is allocated: addresses are read in place, the peer table (../peers/peer-table.ts)
// is keyed by the address bytes, bubbles and ICMPv6 errors (../unreachable.ts) are built in scratch buffers,
// drops are counted by index.
//
//   tun(packet) §5.4.1 ─► malformed / link scope / not 2001::/32 ─► drop (not Teredo: ICMPv6 unreachable)
//     embedded server and mapped IPv4 global unicast, port != 0 (§5.2.4)? no ─► drop, nothing on the wire
//     trusted and valid peer (heard from < 30 s) ─► sendUdp(packet, mapping)
//     [honorConeBit and cone bit ─► trust the embedded mapping, send]
//     a new peer: at most newPeersPerPrefix per second per native source /64 ─► else drop
//     otherwise ─► queue (FIFO, bounded) + bubble via the peer's server:3544, >= 2 s apart, <= 4 per 300 s
//                  (§5.2.6), retried every 2 s; 4 unanswered ─► queue dropped with ICMPv6 unreachable
//
//   datagram(udp) §5.4.2 ─► §5.1.1 framing, global IPv4 source, Teredo IPv6 source (no link-local, multicast,
//     native sources) ─► the peer is trusted when
//       (a) it is trusted and the datagram comes from its mapping, or
//       (b) its address embeds the datagram's source (a new peer only if acceptUnknownPeers; never a proven
//           peer's mapping moved), or
//       (c) it is a bubble to fe80::<nonce>, the nonce of our bubbles to that peer: the client saw our bubble
//           and answered from its real mapping, which a symmetric NAT makes differ from its address (Miredo's
//           extension, there with an HMAC); the mapping becomes the datagram's source.
//     otherwise ─► drop (spoofed source). An echo of our nonce makes the peer proven, which no new peer evicts
//     (../peers/peer-classes.ts: proven; pending, for the native side; embedded, admitted by (b), in a pool of
//     maxPeers / 8). An embedded peer the native side sends to (traffic both ways) becomes pending, out of
//     the reach of (b) floods. Until then an embedded peer costs a token of one bucket (unansweredPerSecond)
//     per datagram, its admission included: beyond it the datagram is dropped before any table or TUN work,
//     so a flood of forged (b) peers cannot starve the others of the relay's time (issue 17).
//     Then: last reception = now, queue flushed in order, bubbles consumed,
//     other packets ─► writeTun unless the destination is not native (multicast, link-local, Teredo).

import { isGlobalEndpoint4 } from '../../../wire/ipv4.js';
import { ipv6AddressesEqual, isGlobalUnicast6, isLinkLocal6, isMulticast6, isUnspecified6 } from '../../../wire/ipv6-address.js';
import { IPV6_FIELD, IPV6_HEADER_LEN } from '../../../wire/ipv6.js';
import { isTeredo, teredoEmbeds, teredoFlagsAt, teredoMappedAddrAt, teredoMappedPortAt, teredoMappingIsGlobal, teredoServerAt, teredoServerIsGlobal, TEREDO_FLAG_CONE } from '../../../wire/teredo-address.js';
import { TEREDO_PORT } from '../../../wire/teredo-constants.js';
import { checkTeredoPayload, TEREDO_BUBBLE_LEN, TeredoPacketView, writeBubbleHeader } from '../../../wire/teredo-view.js';
import { TimerTable } from '../../timer-table.js';
import type { DatagramBatch, PacketBatch } from '../../../wire/packet-batch.js';
import type { Millis, Random, TimedEngine } from '../../types.js';
import { bubbleRetryAt } from '../peers/bubble-pacing.js';
import { PEER_EMBEDDED, PEER_PENDING, PEER_PROVEN } from '../peers/peer-classes.js';
import { PeerTable, type PeerRemoval } from '../peers/peer-table.js';
import type { UnreachableErrors } from '../unreachable.js';
import type { RateBuckets } from '../../rate-bucket.js';
import { word } from '../peers/address-index.js';
import { icmpFor, newPeersBuckets, PREFIX_BUCKETS, resolveConfig, unansweredBucket, type RelayConfig } from './relay-config.js';
import { RELAY_DROP, RELAY_DROP_REASONS, RelayCounters, type RelaySink, type TeredoRelayParams } from './relay-types.js';

const LINK_LOCAL_IID = 8;

/** Peers, trusted peers and queued bytes: the table's state for status. */
export interface RelayPeerSummary {
  readonly peers: number;
  readonly trusted: number;
  /** Peers per class (peers/peer-classes.ts): proven by a nonce, pending for the native side, embedded by §5.4.2 (b). */
  readonly classes: { readonly proven: number; readonly pending: number; readonly embedded: number };
  readonly queuedBytes: number;
  readonly maxPeers: number;
}

export class TeredoRelay implements TimedEngine<RelaySink> {
  readonly dropReasons = RELAY_DROP_REASONS;
  readonly counters = new RelayCounters();
  readonly peers: PeerTable;
  #cfg: RelayConfig;
  #icmp: UnreachableErrors;
  #unanswered: RateBuckets;
  /** New pending peers per native source /64, hashed into PREFIX_BUCKETS buckets by a per-relay key. */
  #newPeers: RateBuckets;
  readonly #prefixKey: number;
  readonly #random: Random;
  /** Bubble retries of peers with queued packets (§5.4.1: every 2 s); bounded by the queue pool's buffers. */
  readonly #retries = new TimerTable<number>();
  readonly #view = new TeredoPacketView();
  readonly #bubble = new Uint8Array(TEREDO_BUBBLE_LEN);
  // Set on entry to every input so that callbacks from the peer table (removals, queue draining) reach the
  // sink and the peer being flushed without a closure per call.
  #sink: RelaySink | undefined;
  #flushSlot = 0;
  #now: Millis = 0;
  /** The slot the last input relayed through if a like next packet passes the same way (datagrams()); else -1. */
  #passed = -1;

  /** Throws RangeError naming the parameter for bounds the agent's config validation already refuses. */
  constructor(params: TeredoRelayParams) {
    this.#random = params.random;
    this.#cfg = resolveConfig(params);
    this.#icmp = icmpFor(params);
    this.#unanswered = unansweredBucket(params);
    this.#newPeers = newPeersBuckets(params);
    this.#prefixKey = params.random.int(0x100000000) | 1;
    this.peers = new PeerTable({
      random: params.random,
      maxPeers: params.maxPeers,
      queueBytes: params.queueBytes,
      maxQueuedBytes: params.maxQueuedBytes,
      onRemove: this.#onRemove,
      onMove: this.#onMove,
    });
    // Our bubbles come from fe80::<nonce of the peer> (written per bubble).
    writeBubbleHeader(this.#bubble);
    this.#bubble[IPV6_FIELD.SRC] = 0xfe;
    this.#bubble[IPV6_FIELD.SRC + 1] = 0x80;
  }

  /** SIGHUP: the policy flags, ICMPv6 settings and rates change from the next packet; the peer table is kept. */
  reconfigure(params: TeredoRelayParams): void {
    this.#cfg = resolveConfig(params);
    this.#icmp = icmpFor(params);
    this.#unanswered = unansweredBucket(params);
    this.#newPeers = newPeersBuckets(params);
  }

  summary(): RelayPeerSummary {
    const p = this.peers;
    const classes = { proven: p.classSize(PEER_PROVEN), pending: p.classSize(PEER_PENDING), embedded: p.classSize(PEER_EMBEDDED) };
    return { peers: p.size, trusted: p.trustedCount, classes, queuedBytes: p.queues.queuedBytes, maxPeers: p.maxPeers };
  }

  /** §5.4.1: one IPv6 packet data[offset .. offset + length) routed into the TUN device. Bytes are lent. */
  tun(data: Uint8Array, offset: number, length: number, now: Millis, sink: RelaySink): void {
    this.#sink = sink;
    this.#now = now;
    if (!ipv6Framed(data, offset, length)) return sink.drop(RELAY_DROP['relay-tun-malformed']);
    const src = offset + IPV6_FIELD.SRC;
    const dst = offset + IPV6_FIELD.DST;
    if (isLinkLocal6(data, src) || isUnspecified6(data, src) || isMulticast6(data, dst)) return sink.drop(RELAY_DROP['relay-tun-link-scope']);
    if (!isTeredo(data, dst)) {
      this.#unreachable(data, offset, length, now, sink);
      return sink.drop(RELAY_DROP['relay-tun-destination-not-teredo']);
    }
    const cfg = this.#cfg;
    // §5.2.4 (and §7.4.3): never a datagram, bubble or not, toward a private, loopback, multicast... address.
    if (!teredoServerIsGlobal(data, dst, cfg.allowNonGlobal)) return sink.drop(RELAY_DROP['relay-tun-server-not-global']);
    if (!teredoMappingIsGlobal(data, dst, cfg.allowNonGlobal)) return sink.drop(RELAY_DROP['relay-tun-mapping-not-global']);
    const mappedAddr = teredoMappedAddrAt(data, dst);
    const mappedPort = teredoMappedPortAt(data, dst);

    const table = this.peers;
    let slot = table.find(data, dst);
    // Traffic both ways: an embedded peer the native side answers leaves the (b) pool (peer-classes.ts).
    if (slot >= 0) table.adopt(slot);
    if (slot >= 0 && table.trusted(slot) && table.valid(slot, now)) {
      this.#passed = slot;
      return this.#send(slot, data, offset, length, now, sink);
    }
    if (slot < 0) {
      if (!this.#newPeers.take(this.#prefixBucket(data, src), now)) return sink.drop(RELAY_DROP['relay-tun-new-peers-rate-limited']);
      // A pending peer: evicted only by another pending one, never by unsolicited datagrams (peer-classes.ts).
      slot = table.insert(data, dst, now, PEER_PENDING);
      if (slot < 0) return sink.drop(RELAY_DROP['relay-tun-peer-table-full']);
      table.setMapping(slot, mappedAddr, mappedPort);
    }
    if (cfg.honorConeBit && (teredoFlagsAt(data, dst) & TEREDO_FLAG_CONE) !== 0) {
      // §5.4.1 case 2: a cone NAT accepts the datagram from anyone, so the embedded mapping is trusted.
      table.setMapping(slot, mappedAddr, mappedPort);
      table.setTrusted(slot, true, now);
      return this.#send(slot, data, offset, length, now, sink);
    }
    // §5.4.1 case 3 (and a trusted peer not heard from for 30 s): queue, and bubble through its server.
    table.used(slot, now);
    if (table.bubblesExhausted(slot, now)) {
      this.#unreachable(data, offset, length, now, sink);
      return sink.drop(RELAY_DROP['relay-tun-peer-unreachable']);
    }
    if (table.queues.enqueue(slot, data, offset, length)) this.counters.queued++;
    else sink.drop(RELAY_DROP['relay-tun-queue-full']);
    if (table.mayBubble(slot, now)) this.#sendBubbles(slot, now, sink);
    // Retries exist to deliver the queue: a peer with nothing queued gets none, so the timers are bounded by the
    // queue pool (maxQueuedBytes / queueBytes peers), not by the pending class.
    if (table.queues.length(slot) > 0 && !this.#retries.has(slot)) this.#retries.set(slot, bubbleRetryAt(table.lastTx(slot)));
  }

  /**
   * §5.4.2: one UDP datagram data[offset .. offset + length) from fromAddr:fromPort (int32 IPv4, port) on the
   * relay's socket. Bytes are lent.
   */
  datagram(data: Uint8Array, offset: number, length: number, fromAddr: number, fromPort: number, now: Millis, sink: RelaySink): void {
    this.#sink = sink;
    this.#now = now;
    const view = this.#view;
    if (checkTeredoPayload(view, data, offset, length) < 0) return sink.drop(RELAY_DROP['relay-udp-not-teredo-ipv6']);
    if (!isGlobalEndpoint4(fromAddr, fromPort, this.#cfg.allowNonGlobal)) return sink.drop(RELAY_DROP['relay-udp-source-ipv4-not-global']);
    const src = view.srcOffset;
    if (!isTeredo(data, src)) return sink.drop(RELAY_DROP['relay-udp-source-not-teredo']);
    const table = this.peers;
    let slot = table.find(data, src);
    const proof = slot >= 0 && view.isBubble && isLinkLocal6(data, view.dstOffset) && table.nonceMatches(slot, data, view.dstOffset + LINK_LOCAL_IID);
    // An embedded peer's datagram (a new one's too) costs a token of the unanswered bucket once accepted.
    const unanswered = !proof && (slot < 0 || table.embedded(slot));
    if (slot >= 0 && table.trusted(slot) && table.mappingIs(slot, fromAddr, fromPort)) {
      // (a) the common case: a trusted peer from its mapping.
      if (unanswered && !this.#unanswered.take(0, now)) return sink.drop(RELAY_DROP['relay-udp-unanswered-rate-limited']);
    } else if (teredoEmbeds(data, src, fromAddr, fromPort) && !(slot >= 0 && table.proven(slot))) {
      // (b) the address vouches for the source (§5.4.2); anyone can send that, so it never moves the mapping
      // a nonce proved (a symmetric NAT's): only a new proof does.
      if (slot < 0 && !this.#cfg.acceptUnknownPeers) return sink.drop(RELAY_DROP['relay-udp-unknown-peer']);
      if (unanswered && !this.#unanswered.take(0, now)) return sink.drop(RELAY_DROP['relay-udp-unanswered-rate-limited']);
      if (slot < 0) {
        // One spoofed datagram makes such a peer: it only competes with its own kind (peer-classes.ts).
        slot = table.insert(data, src, now, PEER_EMBEDDED);
        if (slot < 0) return sink.drop(RELAY_DROP['relay-udp-peer-table-full']);
      }
      table.setMapping(slot, fromAddr, fromPort);
      table.setTrusted(slot, true, now);
    } else if (proof) {
      // (c) the mapping is proved by the nonce of our bubble.
      table.setMapping(slot, fromAddr, fromPort);
      table.setTrusted(slot, true, now);
      this.counters.mappingsProved++;
    } else {
      return sink.drop(RELAY_DROP[view.isBubble && isLinkLocal6(data, view.dstOffset) ? 'relay-udp-bubble-without-proof' : 'relay-udp-spoofed-source']);
    }
    // Whichever way it was accepted, an echo of our nonce proves the peer: no flood evicts it (peer-classes.ts).
    if (proof) table.prove(slot, now);
    // §5.4.2: the last reception date is updated whatever the destination; the queue goes out in order.
    table.received(slot, now);
    if (table.queues.length(slot) > 0) this.#flush(slot);
    if (view.isBubble) {
      this.counters.bubblesReceived++;
      return;
    }
    const dst = view.dstOffset;
    if (isTeredo(data, dst) || !isGlobalUnicast6(data, dst)) return sink.drop(RELAY_DROP['relay-udp-destination-not-native']);
    // A next datagram like this one passes (a) without a token unless the peer is embedded (one token each).
    if (!table.embedded(slot)) this.#passed = slot;
    this.#toNative(data, sink);
  }

  /**
   * §5.4.2 for a batch (one recvmmsg; a UDP_GRO superframe is a run of one UDP source). A datagram with the UDP
   * source and IPv6 source and destination of the previous one, which went native from a trusted non-embedded
   * peer, passes the peer checks as that one did: only its framing and bubble-ness are checked; others: datagram().
   */
  datagrams(batch: DatagramBatch, now: Millis, sink: RelaySink): void {
    const data = batch.data;
    const view = this.#view;
    let slot = -1;
    let addr = 0;
    let port = 0;
    let at = 0;
    for (let i = 0; i < batch.count; i++) {
      const offset = batch.offset(i);
      const length = batch.length(i);
      const fromAddr = batch.sourceAddr(i);
      const fromPort = batch.sourcePort(i);
      if (slot >= 0 && fromAddr === addr && fromPort === port && checkTeredoPayload(view, data, offset, length) >= 0 && !view.isBubble && ipv6AddressesEqual(data, view.srcOffset, at)) {
        this.#toNative(data, sink);
        continue;
      }
      this.#passed = -1;
      this.datagram(data, offset, length, fromAddr, fromPort, now, sink);
      slot = this.#passed;
      addr = fromAddr;
      port = fromPort;
      at = view.srcOffset;
    }
  }

  /**
   * §5.4.1 for a batch from the TUN device (a TSO/USO superframe: consecutive segments to one destination). A
   * packet with the addresses of the previous one, which went to a trusted, valid peer, goes there after its own
   * framing checks (version, payload length); any packet that differs goes through tun().
   */
  packets(batch: PacketBatch, now: Millis, sink: RelaySink): void {
    const data = batch.data;
    let slot = -1;
    let at = 0;
    for (let i = 0; i < batch.count; i++) {
      const offset = batch.offset(i);
      const length = batch.length(i);
      if (slot >= 0 && ipv6Framed(data, offset, length) && ipv6AddressesEqual(data, offset + IPV6_FIELD.SRC, at)) {
        this.#send(slot, data, offset, length, now, sink);
        continue;
      }
      this.#passed = -1;
      this.tun(data, offset, length, now, sink);
      slot = this.#passed;
      at = offset + IPV6_FIELD.SRC;
    }
  }

  /** Peer expiry (30 s idle) and bubble retries (2 s). Harmless when nothing is due. */
  handleTimeout(now: Millis, sink: RelaySink): void {
    this.#sink = sink;
    this.#now = now;
    this.peers.expire(now);
    const table = this.peers;
    for (let slot = this.#retries.popExpired(now); slot !== undefined; slot = this.#retries.popExpired(now)) {
      if (table.queues.length(slot) === 0 || (table.trusted(slot) && table.valid(slot, now))) continue;
      if (table.bubblesExhausted(slot, now)) {
        // §5.4.1: "after 3 retries" the queued packets are dropped; their senders learn it by ICMPv6.
        this.#giveUp(slot);
        continue;
      }
      if (table.mayBubble(slot, now)) this.#sendBubbles(slot, now, sink);
      this.#retries.set(slot, bubbleRetryAt(table.lastTx(slot)));
    }
  }

  nextTimeout(): Millis | undefined {
    const expiry = this.peers.nextTimeout();
    const retry = this.#retries.nextTimeout();
    if (expiry === undefined) return retry;
    return retry === undefined || expiry < retry ? expiry : retry;
  }

  /** The bucket of the /64 of the IPv6 source at data[src]: a keyed hash of its two words, so none can be aimed at. */
  #prefixBucket(data: Uint8Array, src: number): number {
    let h = Math.imul(word(data, src) ^ this.#prefixKey, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13) ^ word(data, src + 4), 0xc2b2ae35);
    return (h ^ (h >>> 16)) & (PREFIX_BUCKETS - 1);
  }

  #send(slot: number, data: Uint8Array, offset: number, length: number, now: Millis, sink: RelaySink): void {
    this.peers.transmitted(slot, now);
    this.counters.toTeredoPackets++;
    this.counters.toTeredoBytes += length;
    sink.sendUdp(data, offset, length, this.peers.mappedAddr(slot), this.peers.mappedPort(slot));
  }

  /** The IPv6 packet of the datagram in this.#view (checked) to the native side. */
  #toNative(data: Uint8Array, sink: RelaySink): void {
    const view = this.#view;
    this.counters.toNativePackets++;
    this.counters.toNativeBytes += view.ipv6Length;
    sink.writeTun(data, view.ipv6Offset, view.ipv6Length);
  }

  /** §5.4.1 case 3: the indirect bubble via the peer's server (and a direct one if the relay is restricted). */
  #sendBubbles(slot: number, now: Millis, sink: RelaySink): void {
    const table = this.peers;
    const b = this.#bubble;
    if (!table.hasNonce(slot)) table.setNonce(slot, this.#random.int(0x100000000) | 1, this.#random.int(0x100000000));
    table.writeNonce(slot, b, IPV6_FIELD.SRC + LINK_LOCAL_IID);
    table.copyAddress(slot, b, IPV6_FIELD.DST);
    sink.sendUdp(b, 0, TEREDO_BUBBLE_LEN, teredoServerAt(b, IPV6_FIELD.DST), TEREDO_PORT);
    this.counters.bubblesSent++;
    if (this.#cfg.directBubbles) {
      sink.sendUdp(b, 0, TEREDO_BUBBLE_LEN, table.mappedAddr(slot), table.mappedPort(slot));
      this.counters.bubblesSent++;
    }
    table.bubbleSent(slot, now);
  }

  #flush(slot: number): void {
    this.#flushSlot = slot;
    this.peers.queues.drain(slot, this.#flushOne);
  }

  readonly #flushOne = (data: Uint8Array, offset: number, length: number): void => {
    this.#send(this.#flushSlot, data, offset, length, this.#now, this.#sink!);
  };

  #giveUp(slot: number): void {
    this.peers.queues.drain(slot, this.#dropGivenUp);
  }

  readonly #dropGivenUp = (data: Uint8Array, offset: number, length: number): void => {
    const sink = this.#sink!;
    this.#unreachable(data, offset, length, this.#now, sink);
    sink.drop(RELAY_DROP['relay-queue-given-up']);
  };

  #unreachable(data: Uint8Array, offset: number, length: number, now: Millis, sink: RelaySink): void {
    const n = this.#icmp.build(data, offset, length, now);
    if (n > 0) {
      this.counters.icmpv6Sent++;
      sink.writeTun(this.#icmp.packet, 0, n);
    } else if (n < 0) this.counters.icmpv6RateLimited++;
  }

  // Called by the peer table when it shrinks after a flood: the peer's retry timer follows it to its new slot.
  readonly #onMove = (from: number, to: number): void => {
    const at = this.#retries.deadline(from);
    if (at === undefined) return;
    this.#retries.delete(from);
    this.#retries.set(to, at);
  };

  // Called by the peer table before it evicts or expires a peer: its retry timer goes, its packets are counted.
  readonly #onRemove = (slot: number, why: PeerRemoval): void => {
    this.#retries.delete(slot);
    if (why === 'evicted') this.counters.peersEvicted++;
    else this.counters.peersExpired++;
    const lost = this.peers.queues.count(slot);
    for (let i = 0; i < lost; i++) this.#sink?.drop(RELAY_DROP['relay-queue-peer-removed']);
  };
}

/** An IPv6 packet of exactly `length` bytes: version 6, a whole header, the payload length it says. */
function ipv6Framed(data: Uint8Array, offset: number, length: number): boolean {
  return length >= IPV6_HEADER_LEN && data[offset]! >>> 4 === 6 && IPV6_HEADER_LEN + ((data[offset + IPV6_FIELD.PAYLOAD_LENGTH]! << 8) | data[offset + IPV6_FIELD.PAYLOAD_LENGTH + 1]!) === length;
}
