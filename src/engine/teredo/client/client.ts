// The Teredo client engine (RFC 4380 §5.2, RFC 5991), sans-I/O. This file is the engine's face: it routes each
// datagram (RAs to the server procedure, the rest to the data path once qualified), owns the Teredo address built
// from the mapping the procedure found, and reports status.
//   client-procedure.ts  qualification with NAT-type detection (§5.2.1), maintenance (§5.2.5), retries, failover
//   client-data.ts       the data path (§5.2.3, §5.2.4, §5.2.6, §5.2.9), peers, local discovery, prediction
// Every address change resets the data path: peers were reached from the old address.

import type { Millis, Random, TimedEngine } from '../../types.js';
import { encodeTeredoAddress, teredoServerAt } from '../../../wire/teredo-address.js';
import { TEREDO_PORT } from '../../../wire/teredo-constants.js';
import { TeredoPacketView, checkTeredoPayload } from '../../../wire/teredo-view.js';
import { IPV6_FIELD, ipv6HeaderFits } from '../../../wire/ipv6.js';
import { ipv6AddressesEqual } from '../../../wire/ipv6-address.js';
import type { DatagramBatch, PacketBatch } from '../../../wire/packet-batch.js';
import { ClientDataPath, CLIENT_MAX_PEERS, type DataContext } from './client-data.js';
import { isRouterAdvert } from './client-ra.js';
import type { ServerPair } from './client-ra.js';
import type { Mapped } from './client-qualification.js';
import { ServerProcedure, type ProcedureOwner } from './client-procedure.js';
import { CLIENT_DROP_REASONS, DROP, resolveClientConfig } from './client-types.js';
import type { ClientConfig, ClientSink, ClientSnapshot, ClientState, NatType, PortMappingEndpoint, TeredoClientParams } from './client-types.js';

/** The 12 random flag bits of RFC 5991 take values 0..4095. */
const RANDOM_BITS_RANGE = 0x1000;
/**
 * Packets sent with nothing received for this long, ms, make the client suspect its NAT mapping changed
 * (client-procedure.ts suspectMapping): longer than any Teredo round trip worth waiting for, short enough that
 * a ping once a second notices a NAT reboot at its third packet.
 */
const UNANSWERED_MS = 2000;
/** A pause in sending longer than this, ms, ends a run of unanswered packets: sparse traffic proves nothing. */
const UNANSWERED_GAP_MS = 4000;

export class TeredoClient implements TimedEngine<ClientSink> {
  readonly dropReasons = CLIENT_DROP_REASONS;
  #cfg: ClientConfig;
  readonly #random: Random;
  readonly #view = new TeredoPacketView();
  readonly #proc: ServerProcedure;
  #address: Uint8Array | undefined;
  #mappedAddr = 0;
  #mappedPort = 0;
  #randomBits = 0;
  #addressChanges = 0;
  /** When the current run of packets sent since a datagram last came in began; NaN: no such run. */
  #unansweredSince = NaN;
  #lastSentAt = 0;
  /** Where the IPv6 source of the datagram that began the current run of a batch is (datagrams()). */
  #runAt = 0;
  readonly #data: ClientDataPath;
  /** What the data path reads; rewritten on every address change, never per packet. */
  #ctx: DataContext = { address: new Uint8Array(16), server: 0, cone: false, gateway: false };

  constructor(params: TeredoClientParams, random: Random) {
    this.#cfg = resolveClientConfig(params);
    this.#random = random;
    this.#proc = new ServerProcedure(this.#cfg, this.#owner, random);
    this.#data = new ClientDataPath(random);
    this.#applyDataConfig();
  }

  get state(): ClientState {
    return this.#proc.state;
  }

  get nat(): NatType {
    return this.#proc.q.nat;
  }

  /** The Teredo address (16 bytes, do not modify), undefined when there is none. */
  get address(): Uint8Array | undefined {
    return this.#address;
  }

  get config(): ClientConfig {
    return this.#cfg;
  }

  /** The server in use. */
  get server(): ServerPair {
    return this.#proc.server;
  }

  /** Begins qualification (idempotent while running). */
  start(now: Millis, sink: ClientSink): void {
    this.#proc.start(now, sink);
  }

  /** Removes the address and stops every timer; the state becomes offline. */
  stop(_now: Millis, sink: ClientSink): void {
    this.#proc.stop(sink);
  }

  /** SIGHUP: new timing applies from the next timer; other server addresses start a new qualification with the first. */
  reconfigure(params: TeredoClientParams, now: Millis, sink: ClientSink): void {
    const next = resolveClientConfig(params);
    this.#cfg = next;
    this.#applyDataConfig();
    if (this.#proc.reconfigure(next) && this.#proc.running) {
      this.stop(now, sink);
      this.start(now, sink);
    }
  }

  /**
   * The gateway's mapping of the Teredo port came, changed or went (agents/teredo-client/port-mapping.ts): used from
   * the next qualification, which the caller starts (RFC 6081 §5.3, client-gateway.ts).
   */
  setPortMapping(portMapping: PortMappingEndpoint | undefined): void {
    this.#cfg = { ...this.#cfg, portMapping };
    this.#proc.reconfigure(this.#cfg);
  }

  /** One UDP datagram received on the client's socket, data[offset .. offset + length) (lent). */
  datagram(data: Uint8Array, offset: number, length: number, addr: number, port: number, now: Millis, sink: ClientSink): void {
    const view = this.#view;
    if (checkTeredoPayload(view, data, offset, length) < 0) return sink.drop(DROP.malformed);
    this.#unansweredSince = NaN;
    const fromServer = this.#fromServer(addr, port);
    if (fromServer) this.#proc.heard(now);
    else this.#proc.peerHeard();
    if (isRouterAdvert(view)) return this.#proc.routerAdvert(view, addr, port, false, now, sink);
    if (this.state !== 'qualified') return fromServer && view.isBubble && this.#proc.gatewayDone(true, now, sink) ? undefined : sink.drop(DROP['not-qualified']);
    this.#data.datagram(view, addr, port, fromServer, now, this.#ctx, sink);
  }

  /**
   * A datagram on the discovery socket (joined to 224.0.0.253, port 3544; RFC 4380 §5.2.8): a local client's
   * discovery bubble (client-local.ts).
   */
  discoveryDatagram(data: Uint8Array, offset: number, length: number, addr: number, port: number, now: Millis, sink: ClientSink): void {
    const view = this.#view;
    if (checkTeredoPayload(view, data, offset, length) < 0) return sink.drop(DROP.malformed);
    if (this.state !== 'qualified') return sink.drop(DROP['not-qualified']);
    this.#data.discoveryBubble(view, addr, port, now, this.#ctx, sink);
  }

  /**
   * A datagram on pool socket `socket` (ClientSink.sendUdpFrom's, RFC 6081 §5.4, client-pps.ts): a peer's answer to
   * the bubble that left from it; the data path judges it as any peer's datagram (never the server's).
   */
  poolDatagram(_socket: number, data: Uint8Array, offset: number, length: number, addr: number, port: number, now: Millis, sink: ClientSink): void {
    const view = this.#view;
    if (checkTeredoPayload(view, data, offset, length) < 0) return sink.drop(DROP.malformed);
    this.#unansweredSince = NaN;
    this.#proc.peerHeard();
    if (this.state !== 'qualified') return sink.drop(DROP['not-qualified']);
    this.#data.datagram(view, addr, port, false, now, this.#ctx, sink);
  }

  /** A datagram on the probe socket (sink.sendProbe's): only RAs answering its RSs belong there. */
  probeDatagram(data: Uint8Array, offset: number, length: number, addr: number, port: number, now: Millis, sink: ClientSink): void {
    const view = this.#view;
    if (checkTeredoPayload(view, data, offset, length) < 0) return sink.drop(DROP.malformed);
    if (!isRouterAdvert(view)) return sink.drop(DROP['probe-socket-unexpected']);
    this.#proc.routerAdvert(view, addr, port, true, now, sink);
  }

  /**
   * The main socket's datagrams of one wake-up (recvmmsg; a UDP_GRO superframe is a run of one UDP source). A
   * datagram with the UDP source and IPv6 source and destination of the previous one, which case 1 (§5.2.3: a
   * trusted peer from its mapping, nothing queued or pending) delivered to the TUN, is delivered after its own
   * framing (checkTeredoPayload) and bubble and RA checks only; any other (the server's too) through datagram().
   */
  datagrams(batch: DatagramBatch, now: Millis, sink: ClientSink): void {
    let slot = -1;
    for (let i = 0; i < batch.count; i++) if (slot < 0 || !this.#datagramAgain(batch, i, sink)) slot = this.#datagramFirst(batch, i, now, sink);
  }

  /** Datagram i after i - 1 (which passed every check, or this one): true if like it and handled as it was. */
  #datagramAgain(b: DatagramBatch, i: number, sink: ClientSink): boolean {
    const view = this.#view;
    if (b.sourceAddr(i) !== b.sourceAddr(i - 1) || b.sourcePort(i) !== b.sourcePort(i - 1) || checkTeredoPayload(view, b.data, b.offset(i), b.length(i)) < 0) return false;
    if (view.isBubble || isRouterAdvert(view) || !ipv6AddressesEqual(b.data, view.srcOffset, this.#runAt)) return false;
    sink.writeTun(b.data, view.ipv6Offset, view.ipv6Length);
    return true;
  }

  /** Datagram i through every check: the slot a like next one may pass as, -1 for none. */
  #datagramFirst(b: DatagramBatch, i: number, now: Millis, sink: ClientSink): number {
    const view = this.#view;
    this.#data.passed = -1;
    this.datagram(b.data, b.offset(i), b.length(i), b.sourceAddr(i), b.sourcePort(i), now, sink);
    // (Case 1 runs after the framing checks: the view is this datagram's.)
    this.#runAt = view.srcOffset;
    const slot = this.#data.passed;
    return slot < 0 || view.isBubble || this.#fromServer(b.sourceAddr(i), b.sourcePort(i)) ? -1 : slot;
  }

  /** One IPv6 packet read from the TUN device, data[offset .. offset + length) (lent). */
  tunPacket(data: Uint8Array, offset: number, length: number, now: Millis, sink: ClientSink): void {
    if (this.state !== 'qualified') return sink.drop(DROP['not-qualified']);
    this.#sending(now, sink);
    this.#data.tunPacket(data, offset, length, now, this.#ctx, sink);
  }

  /**
   * The TUN device's packets of one wake-up (a TSO/USO superframe: consecutive segments to one destination). A
   * packet with the IPv6 source and destination of the previous one, which went to a trusted, valid peer (§5.2.4
   * case 1), goes to that peer after its own framing checks (version, payload length); any other as tunPacket().
   */
  packets(batch: PacketBatch, now: Millis, sink: ClientSink): void {
    if (this.state !== 'qualified') {
      for (let i = 0; i < batch.count; i++) sink.drop(DROP['not-qualified']);
      return;
    }
    // One `now` for the whole batch: the tracking would do for every packet what it does for the first.
    this.#sending(now, sink);
    let slot = -1;
    for (let i = 0; i < batch.count; i++) if (slot < 0 || !this.#packetAgain(batch, i, slot, sink)) slot = this.#packetFirst(batch, i, now, sink);
  }

  /** Packet i after i - 1 (which passed every check as `slot`, or this one): true if like it and sent as it was. */
  #packetAgain(b: PacketBatch, i: number, slot: number, sink: ClientSink): boolean {
    const offset = b.offset(i);
    if (!ipv6HeaderFits(b.data, offset, b.length(i)) || !ipv6AddressesEqual(b.data, offset + IPV6_FIELD.SRC, b.offset(i - 1) + IPV6_FIELD.SRC)) return false;
    const peers = this.#data.peers;
    this.#data.pool.via(slot, sink).sendUdp(b.data, offset, b.length(i), peers.mappedAddr(slot), peers.mappedPort(slot));
    return true;
  }

  /** Packet i through every check: the slot a like next one may pass as, -1 for none. */
  #packetFirst(b: PacketBatch, i: number, now: Millis, sink: ClientSink): number {
    this.#data.passed = -1;
    this.#data.tunPacket(b.data, b.offset(i), b.length(i), now, this.#ctx, sink);
    return this.#data.passed;
  }

  /** Packets go out at `now`: a run of them unanswered for UNANSWERED_MS makes the mapping suspect. */
  #sending(now: Millis, sink: ClientSink): void {
    const since = this.#unansweredSince;
    // NaN (the first packet since the last one in) or a pause: a new run starts here.
    if (since !== since || now - this.#lastSentAt > UNANSWERED_GAP_MS) this.#unansweredSince = now;
    else if (now - since >= UNANSWERED_MS) this.#proc.suspectMapping(now, UNANSWERED_MS, sink);
    this.#lastSentAt = now;
  }

  /** addr:port is the server's (either address, port 3544). */
  #fromServer(addr: number, port: number): boolean {
    const server = this.server;
    return port === TEREDO_PORT && (addr === server.primary || addr === server.secondary);
  }

  /** Peers in the table (for status). */
  peerSummary(): { count: number; trusted: number; max: number } {
    return { count: this.#data.peers.size, trusted: this.#data.peers.trustedCount, max: CLIENT_MAX_PEERS };
  }

  handleTimeout(now: Millis, sink: ClientSink): void {
    if (this.state === 'qualified') this.#data.handleTimeout(now, this.#ctx, sink);
    this.#proc.handleTimeout(now, sink);
  }

  nextTimeout(): Millis | undefined {
    const t = this.#proc.nextTimeout();
    const d = this.state === 'qualified' ? this.#data.nextTimeout() : undefined;
    return t === undefined ? d : d === undefined ? t : Math.min(t, d);
  }

  snapshot(now: Millis): ClientSnapshot {
    const s = this.#proc.snapshot(now);
    const d = this.#data;
    const has = this.#address !== undefined;
    return {
      ...s,
      address: this.#address?.slice(),
      mappedAddr: has ? this.#mappedAddr : undefined,
      mappedPort: has ? this.#mappedPort : undefined,
      mappedByGateway: has && this.#byGateway(),
      counters: { ...s.counters, addressChanges: this.#addressChanges, unreachableSent: d.unreachableErrors.sent, unreachableLimited: d.unreachableErrors.limited, discoverySent: d.local.sent, localPeersFound: d.local.found, portsPredicted: d.predict.made, randomPortsAssigned: d.pool.assigned, hairpinBubbles: d.hairpin.tried, ...d.load.counters },
    };
  }

  /** What the data path takes from the configuration: local discovery and the RFC 6081 extensions. */
  #applyDataConfig(): void {
    const c = this.#cfg;
    this.#data.local.enabled = c.localDiscovery;
    this.#data.hairpin.enabled = c.hairpinning;
    this.#data.load.enabled = c.serverLoadReduction;
    this.#data.pool.enabled = c.portPreserving;
    this.#data.pool.setPorts(c.portPreservingPorts);
    this.#data.hairpin.setLocal(c.localAddress, c.localPort);
  }

  // ---- the address (RFC 4380 §4, RFC 5991) ----

  readonly #owner: ProcedureOwner = {
    useMapping: (mapped, qualified, sink) => {
      this.#useMapping(mapped, sink);
      if (qualified) this.#configurePrediction();
    },
    dropAddress: (sink) => this.#setAddress(undefined, sink),
    hasMapping: (mapped) => this.#address !== undefined && this.#mappedAddr === mapped.addr && this.#mappedPort === mapped.port,
  };

  #useMapping(mapped: Mapped, sink: ClientSink): void {
    const cone = this.nat === 'cone';
    const a = this.#address;
    const server = this.server.primary;
    if (a !== undefined && this.#mappedAddr === mapped.addr && this.#mappedPort === mapped.port && ((a[8]! & 0x80) !== 0) === cone && teredoServerAt(a) === server) return;
    this.#mappedAddr = mapped.addr;
    this.#mappedPort = mapped.port;
    // RFC 5991: 12 random flag bits, new for every new address, so the address cannot be guessed from the mapping.
    this.#randomBits = this.#random.int(RANDOM_BITS_RANGE);
    const address = encodeTeredoAddress({ server, cone, randomBits: this.#randomBits, mappedPort: mapped.port, mappedAddr: mapped.addr });
    this.#setAddress(address, sink);
  }

  #setAddress(address: Uint8Array | undefined, sink: ClientSink): void {
    const previous = this.#address;
    if (previous === undefined && address === undefined) return;
    this.#address = address;
    // Peers were reached from the old address (mappings, trust, queued packets): start over.
    this.#data.reset(sink);
    if (address !== undefined) {
      this.#addressChanges++;
      this.#ctx = { address, server: this.server.primary, cone: this.nat === 'cone', gateway: this.#byGateway() };
    }
    sink.addressChanged(previous, address);
  }

  /** The address embeds the gateway's mapping of the Teredo port (RFC 6081 §5.3, client-gateway.ts). */
  #byGateway(): boolean {
    const pm = this.#cfg.portMapping;
    return pm !== undefined && pm.addr === this.#mappedAddr && pm.port === this.#mappedPort;
  }

  /**
   * Behind a symmetric NAT that allocates sequentially, or preserves ports and counts up for later flows: the
   * next flow's port is the last allocated one (the probe port toward the secondary) + the step (client-predict.ts).
   * Behind one that preserves ports, a pool socket per peer instead when the agent gave a pool (client-pps.ts):
   * later flows may well not count up.
   */
  #configurePrediction(): void {
    const q = this.#proc.q;
    const m = q.mapping(this.#cfg.localPort, this.#cfg.probeLocalPort, this.#proc.gateway.arrived);
    const last = q.probeMapped[1];
    const step = m.allocation === 'sequential' ? m.portDelta! : m.portPreserving === true ? 1 : 0;
    this.#data.pool.setNat(m.endpointIndependent === false && m.portPreserving === true);
    if (m.endpointIndependent === false && last !== undefined && step > 0) this.#data.predict.configure(last.port + step, step);
  }
}
