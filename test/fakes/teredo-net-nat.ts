// The NAT models of the in-memory Teredo network (teredo-net.ts): the translation and filtering a lab NAT
// router performs (lab/nat.ts, self-tested by test/netns/lab-nat.test.ts), as plain tables over virtual time.
// RFC 4787 terms, RFC 4380 §2.7-§2.8 names:
//
//   kind                mapping (RFC 4787 §4.1)         filtering (RFC 4787 §5)
//   full-cone           endpoint-independent            endpoint-independent
//   address-restricted  endpoint-independent            address-dependent
//   port-restricted     endpoint-independent            address-and-port-dependent
//   symmetric           address-and-port-dependent      address-and-port-dependent
//
// The same mechanism as the lab's nftables ruleset, piece by piece:
// - conntrack flows (inside endpoint, remote endpoint) <-> outside port: every NAT has them. A reply from the
//   exact remote endpoint of a live flow gets in (that alone is the port-restricted NAT). Timeouts as Linux's
//   UDP conntrack (nf_conntrack_proto_udp.c): 30 s after each packet, 120 s once the flow has seen packets both
//   ways and is older than 2 s; any packet either way refreshes it.
// - masquerade keeps the inside source port when it is free (endpoint-independent mapping); `fully-random`
//   draws a new port for every new flow (the symmetric NAT), from a seeded generator so tests are reproducible.
// - the cone kinds add bindings refreshed by every outgoing packet (the `@bindings` set, CONE_BINDING_TIMEOUT_S),
//   keyed by the mapped port (full cone) or by remote address and mapped port (address-restricted); an inbound
//   packet matching one is let in to the inside endpoint (the DNAT rule) and starts a flow. Only outgoing
//   packets refresh a binding. The lab keys the set by the inside port, equal to the mapped port whenever the
//   port is preserved (one client per NAT); this model keys it by the mapped port, the behaviour meant.
// `filterPerHost` (address-restricted only) is a NAT the lab does not build: one whose address-dependent filter
// is kept per inside HOST, so a packet to an address opens every mapping of that host to it (some home routers).
// Simplifications: a preserved port counts as taken when another inside endpoint holds it (Linux would share
// it between flows to different remotes); no port parity or ranges.
//
// The zoo's behaviours (lab/nat-zoo.ts), as options: `ports` 'sequential' (the next port of the window from
// SEQ_BASE for each new mapping: per flow on a symmetric NAT, per inside endpoint on a cone) or
// 'port-preserving' (symmetric: an inside endpoint's first flow keeps its port, later ones count) or
// 'port-preserving-random' (the same first flow, later ones drawn at random: no prediction can follow); `hairpin`
// (the network delivers a packet to the NAT's own address to the inside endpoint holding that port, whatever
// the filtering, from the sender's mapping: see hairpinTarget); short timeouts through conntrackTimeoutMs and
// conntrackStreamTimeoutMs; `reboot()` (flows and bindings forgotten, the sequential counter goes on, so
// sequential mappings come back on new ports); `blockUdp()` (everything dropped); `lossPercent` (seeded).
// `forward(outsidePort, inside)`: a port forward, or a gateway's port mapping (miniupnpd's DNAT rule): a packet to
// that port with no flow goes to `inside` and starts a flow, whatever the filtering. It does not make the inside
// endpoint's own flows leave from that port (a symmetric NAT still draws theirs). As in Linux, a forwarded packet
// whose flow would have the reply tuple of one the inside endpoint already has toward that remote (a clash) is
// let in with another source port (drawn); replies to that port are not translated back (a simplification: the
// engines drop such packets before answering them).

import { seededRandom, type Millis, type Random } from '../../src/engine/types.js';
import { CONE_BINDING_TIMEOUT_S } from '../../lab/nat.js';
import { SEQ_BASE, SEQ_WINDOW } from '../../lab/nat-zoo.js';
import type { NatKind } from '../../lab/topology.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';

export type { NatKind };

export interface NatBehaviour {
  readonly mapping: 'endpoint-independent' | 'address-and-port-dependent';
  readonly filtering: 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent';
}

export const NAT_BEHAVIOURS: Readonly<Record<NatKind, NatBehaviour>> = {
  'full-cone': { mapping: 'endpoint-independent', filtering: 'endpoint-independent' },
  'address-restricted': { mapping: 'endpoint-independent', filtering: 'address-dependent' },
  'port-restricted': { mapping: 'endpoint-independent', filtering: 'address-and-port-dependent' },
  symmetric: { mapping: 'address-and-port-dependent', filtering: 'address-and-port-dependent' },
};

/** nf_conntrack_udp_timeout: a flow that has not seen packets both ways. */
export const CONNTRACK_UDP_TIMEOUT_MS = 30_000;
/** nf_conntrack_udp_timeout_stream: a flow that has seen packets both ways (and lived over 2 s). */
export const CONNTRACK_UDP_STREAM_TIMEOUT_MS = 120_000;
/** A flow must be older than this before a packet extends it to the stream timeout (udp_packet's stream_ts). */
export const CONNTRACK_STREAM_AFTER_MS = 2_000;
/** Default bound on flows + bindings of one NAT (nf_conntrack_max, scaled to tests); new flows beyond are dropped. */
export const NAT_TABLE_LIMIT = 4096;

export interface NatOptions {
  readonly conntrackTimeoutMs?: Millis;
  readonly conntrackStreamTimeoutMs?: Millis;
  /** Cone kinds: how long a binding lives after the last outgoing packet (default the lab's 120 s). */
  readonly bindingTimeoutMs?: Millis;
  readonly tableLimit?: number;
  /** Seed of the port draws (symmetric NAT, or a preserved port already taken). */
  readonly seed?: number;
  /** Address-restricted: filter per inside host instead of per mapping (see above). Default false. */
  readonly filterPerHost?: boolean;
  /** Port allocation (see above); default: kept when free (cone kinds), drawn at random (symmetric). */
  readonly ports?: 'sequential' | 'port-preserving' | 'port-preserving-random';
  /** Packets from inside to the NAT's own address reach the inside endpoint holding the port. Default false. */
  readonly hairpin?: boolean;
  /** Share of packets lost each way, percent (seeded). Default 0. */
  readonly lossPercent?: number;
}

/** Where an inbound packet goes: the inside endpoint, and the source port it arrives from (rewritten on a clash). */
export interface Inbound {
  readonly inside: Endpoint4;
  readonly sourcePort: number;
}

/** Why a NAT refused a packet. */
export type NatDrop = 'nat-filtered' | 'nat-blocked' | 'nat-table-full' | 'nat-udp-blocked' | 'nat-lost';

interface Flow {
  readonly inside: Endpoint4;
  readonly remote: Endpoint4;
  readonly outsidePort: number;
  /** The remote port as the inside endpoint sees it (remote.port, or another after a clash). */
  readonly seenPort: number;
  readonly created: Millis;
  expires: Millis;
  sawOut: boolean;
  sawIn: boolean;
}

interface Binding {
  readonly inside: Endpoint4;
  readonly outsidePort: number;
  expires: Millis;
}

const key = (a: number, p: number): string => `${a}:${p}`;

export class NatModel {
  readonly behaviour: NatBehaviour;
  readonly #timeout: Millis;
  readonly #streamTimeout: Millis;
  readonly #bindingTimeout: Millis;
  readonly #limit: number;
  readonly #random: Random;
  readonly #perHost: boolean;
  /** Flows by inside endpoint > remote endpoint, and by outside port < remote endpoint. */
  readonly #byInside = new Map<string, Flow>();
  readonly #byOutside = new Map<string, Flow>();
  /** Cone bindings by mapped port (full cone), remote address + mapped port (address-restricted), or remote address + inside host (filterPerHost). */
  readonly #bindings = new Map<string, Binding>();
  readonly #blocked = new Set<number>();
  /** Port forwards / gateway port mappings: outside port -> inside endpoint. */
  readonly #forwards = new Map<number, Endpoint4>();
  readonly #ports: NatOptions['ports'];
  readonly #loss: number;
  readonly hairpin: boolean;
  #udpBlocked = false;
  /** Mappings handed out by the sequential allocator (it goes on across reboots). */
  #sequence = 0;

  constructor(
    readonly kind: NatKind,
    options: NatOptions = {},
  ) {
    this.behaviour = NAT_BEHAVIOURS[kind];
    this.#timeout = options.conntrackTimeoutMs ?? CONNTRACK_UDP_TIMEOUT_MS;
    this.#streamTimeout = options.conntrackStreamTimeoutMs ?? CONNTRACK_UDP_STREAM_TIMEOUT_MS;
    this.#bindingTimeout = options.bindingTimeoutMs ?? CONE_BINDING_TIMEOUT_S * 1000;
    this.#limit = options.tableLimit ?? NAT_TABLE_LIMIT;
    this.#random = seededRandom(options.seed ?? 4380);
    this.#perHost = options.filterPerHost === true && this.behaviour.filtering === 'address-dependent';
    this.#ports = options.ports;
    this.#loss = options.lossPercent ?? 0;
    this.hairpin = options.hairpin === true;
  }

  /** An inside endpoint sends to `remote`: the outside port it leaves from, or why it is dropped. */
  outbound(now: Millis, inside: Endpoint4, remote: Endpoint4): number | NatDrop {
    if (this.#blocked.has(remote.addr)) return 'nat-blocked';
    if (this.#udpBlocked) return 'nat-udp-blocked';
    if (this.#lost()) return 'nat-lost';
    this.#expire(now);
    const flowKey = `${key(inside.addr, inside.port)}>${key(remote.addr, remote.port)}`;
    let flow = this.#byInside.get(flowKey);
    if (!flow) {
      if (this.#byInside.size + this.#bindings.size >= this.#limit) return 'nat-table-full';
      flow = { inside, remote, outsidePort: this.#choosePort(inside), seenPort: remote.port, created: now, expires: 0, sawOut: false, sawIn: false };
      this.#byInside.set(flowKey, flow);
      this.#byOutside.set(`${flow.outsidePort}<${key(remote.addr, remote.port)}`, flow);
    }
    flow.sawOut = true;
    this.#refresh(flow, now);
    const binding = this.#bindingKey(remote.addr, flow.outsidePort, inside.addr);
    if (binding !== undefined) this.#bindings.set(binding, { inside, outsidePort: flow.outsidePort, expires: now + this.#bindingTimeout });
    return flow.outsidePort;
  }

  /** `remote` sends to the outside address's `outsidePort`: where it arrives, or why not. */
  inbound(now: Millis, remote: Endpoint4, outsidePort: number): Inbound | NatDrop {
    if (this.#blocked.has(remote.addr)) return 'nat-blocked';
    if (this.#udpBlocked) return 'nat-udp-blocked';
    if (this.#lost()) return 'nat-lost';
    this.#expire(now);
    const remoteKey = key(remote.addr, remote.port);
    let flow = this.#byOutside.get(`${outsidePort}<${remoteKey}`);
    if (!flow) {
      const inside = this.#forwards.get(outsidePort) ?? this.#boundInside(remote, outsidePort);
      if (inside === undefined) return 'nat-filtered';
      if (this.#byInside.size + this.#bindings.size >= this.#limit) return 'nat-table-full';
      // The DNAT rule: the packet goes in and conntrack starts a flow for it (on a clash, from another port).
      let seenPort = remote.port;
      while (this.#byInside.has(`${key(inside.addr, inside.port)}>${key(remote.addr, seenPort)}`)) seenPort = 1024 + this.#random.int(65536 - 1024);
      flow = { inside, remote, outsidePort, seenPort, created: now, expires: 0, sawOut: false, sawIn: false };
      this.#byInside.set(`${key(inside.addr, inside.port)}>${key(remote.addr, seenPort)}`, flow);
      this.#byOutside.set(`${outsidePort}<${remoteKey}`, flow);
    }
    flow.sawIn = true;
    this.#refresh(flow, now);
    return { inside: flow.inside, sourcePort: flow.seenPort };
  }

  /** The inside endpoint a cone binding lets `remote` in to at `outsidePort`, if any. */
  #boundInside(remote: Endpoint4, outsidePort: number): Endpoint4 | undefined {
    // Per host, the packet goes to whoever holds the port, if that host has sent to the remote address.
    const owner = this.#perHost ? this.#holder(outsidePort) : undefined;
    const bindingKey = this.#bindingKey(remote.addr, outsidePort, owner?.addr);
    const binding = bindingKey === undefined ? undefined : this.#bindings.get(bindingKey);
    return binding === undefined ? undefined : (owner ?? binding.inside);
  }

  /** A port forward (or a gateway's port mapping) of `outsidePort` to `inside`; undefined removes it. */
  forward(outsidePort: number, inside: Endpoint4 | undefined): void {
    if (inside === undefined) this.#forwards.delete(outsidePort);
    else this.#forwards.set(outsidePort, inside);
  }

  /** `conntrack -F`: every flow is forgotten. The cone bindings (an nftables set) survive, as in the lab. */
  flush(): void {
    this.#byInside.clear();
    this.#byOutside.clear();
  }

  /** A reboot: every flow and binding is forgotten; sequential mappings come back on new ports. */
  reboot(): void {
    this.flush();
    this.#bindings.clear();
  }

  /** Drops all UDP both ways (true) or lets it pass again (false); creates no state. */
  blockUdp(on: boolean): void {
    this.#udpBlocked = on;
  }

  /**
   * Hairpinning: the inside endpoint holding `outsidePort` (a live flow or binding), which a packet from the LAN
   * to the NAT's own address reaches whatever the filtering (the lab's hairpin map does the same); undefined
   * when nobody holds it.
   */
  hairpinTarget(now: Millis, outsidePort: number): Endpoint4 | undefined {
    this.#expire(now);
    return this.#holder(outsidePort);
  }

  /** Drops everything to and from `addr` (a captive portal, a firewall rule), creating no state. */
  block(addr: number): void {
    this.#blocked.add(addr | 0);
  }

  unblock(addr: number): void {
    this.#blocked.delete(addr | 0);
  }

  /** Live flows (conntrack entries), for tests of the model. */
  flowCount(now: Millis): number {
    this.#expire(now);
    return this.#byInside.size;
  }

  /** The binding an inbound packet needs; `insideAddr` = the host holding the port (filterPerHost only). */
  #bindingKey(remoteAddr: number, outsidePort: number, insideAddr: number | undefined): string | undefined {
    if (this.behaviour.filtering === 'endpoint-independent') return String(outsidePort);
    if (this.#perHost) return insideAddr === undefined ? undefined : `${remoteAddr}>${insideAddr}`;
    if (this.behaviour.filtering === 'address-dependent') return key(remoteAddr, outsidePort);
    return undefined;
  }

  /** The inside endpoint whose mapping is `outsidePort`, if a live flow or binding has it. */
  #holder(outsidePort: number): Endpoint4 | undefined {
    for (const f of this.#byInside.values()) if (f.outsidePort === outsidePort) return f.inside;
    for (const b of this.#bindings.values()) if (b.outsidePort === outsidePort) return b.inside;
    return undefined;
  }

  #refresh(flow: Flow, now: Millis): void {
    const stream = flow.sawOut && flow.sawIn && now - flow.created > CONNTRACK_STREAM_AFTER_MS;
    flow.expires = Math.max(flow.expires, now + (stream ? this.#streamTimeout : this.#timeout));
  }

  /** Endpoint-independent: the inside endpoint's current port, else its own port if free. Symmetric: a fresh draw. */
  #choosePort(inside: Endpoint4): number {
    const holders = new Map<number, Endpoint4>();
    for (const f of this.#byInside.values()) holders.set(f.outsidePort, f.inside);
    for (const b of this.#bindings.values()) holders.set(b.outsidePort, b.inside);
    const mine = (p: number): boolean => {
      const h = holders.get(p);
      return h !== undefined && h.addr === inside.addr && h.port === inside.port;
    };
    if (this.behaviour.mapping === 'endpoint-independent') {
      for (const [p] of holders) if (mine(p)) return p;
      if (this.#ports !== 'sequential' && !holders.has(inside.port)) return inside.port;
    }
    const preserving = this.#ports === 'port-preserving' || this.#ports === 'port-preserving-random';
    if (preserving && !holders.has(inside.port) && ![...holders.values()].some((h) => h.addr === inside.addr && h.port === inside.port)) return inside.port;
    if (this.#ports === 'sequential' || this.#ports === 'port-preserving') {
      for (let i = 0; i < SEQ_WINDOW; i++) {
        const p = SEQ_BASE + (this.#sequence++ % SEQ_WINDOW);
        if (!holders.has(p)) return p;
      }
      // The window is full: a real NAT would refuse; the model falls back to a draw.
    }
    for (;;) {
      const p = 1024 + this.#random.int(65536 - 1024);
      if (!holders.has(p)) return p;
    }
  }

  #lost(): boolean {
    return this.#loss > 0 && this.#random.int(100) < this.#loss;
  }

  #expire(now: Millis): void {
    for (const [k, f] of this.#byInside) {
      if (f.expires > now) continue;
      this.#byInside.delete(k);
      this.#byOutside.delete(`${f.outsidePort}<${key(f.remote.addr, f.remote.port)}`);
    }
    for (const [k, b] of this.#bindings) if (b.expires <= now) this.#bindings.delete(k);
  }
}
