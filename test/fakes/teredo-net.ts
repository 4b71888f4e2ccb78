// An in-memory IPv4 internet for Teredo tests (the lab of lab/topology.ts without namespaces): public hosts
// (a Teredo server with two addresses, a relay, a probe) and private hosts behind NAT models
// (teredo-net-nat.ts: the lab's four NAT kinds), all on one FakeClock that also runs the drivers' timers.
//
//   inside host ──lan latency──► NAT (outbound: mapping) ──nat latency──► core ──host latency──► public host
//   public host ──host latency──► core ──nat latency──► NAT (inbound: filtering) ──lan latency──► inside host
//
// Every hop is an event on a queue ordered by (due time, send order), so datagrams on one path arrive in the
// order they were sent, and a NAT decides at the instant a datagram reaches it (two bubbles crossing in flight
// meet the NAT state of their arrival time, as in hole punching). Nothing is delivered synchronously: a send
// arrives when the clock reaches it, through `advance(ms)`, `runUntilIdle()` or the test's own clock calls.
// Datagrams due at one instant reach each port as one lent batch (teredo-net-port.ts). Beside the IPv4 network,
// `tunPair` links two TUN devices (teredo-net-tun.ts) on the same clock: a client's or relay's device and the
// test's view of the IPv6 side.
//
// Use: one FakeClock is the network's clock and the Clock and Timers of every Driver on it.
//   const net = new VirtualInternet(clock, { latencyMs: 5 });
//   const server = net.host([PRIMARY, SECONDARY]);          // server.bind(3544, PRIMARY): a DatagramPort
//   const nat = net.nat('symmetric', parseIpv4('198.18.0.102'), { seed: 7 });
//   const client = net.natHost(nat, parseIpv4('192.168.2.2')); // client.bind(): an ephemeral port
//   ... start the engines on those ports; net.runUntilIdle() or net.advance(ms); net.drops()
//   const log = net.capture();                                // every datagram from now on: sent, delivered, dropped
//   net.spoof(bytes, from, to);                               // a datagram with a forged source, onto the core
//
// Engines plug in as hosts through teredo-net-engines.ts (a server, a client, a relay, each on its Driver), and the
// native IPv6 side behind relays and servers is teredo-net-native.ts.
//
// Bounds: at most `queueLimit` datagrams in flight (default IN_FLIGHT_LIMIT, more are dropped as 'queue-full');
// each port's receive queue, each NAT's table (teredo-net-*.ts); a capture throws past CAPTURE_LIMIT records. Traffic that never ends is a bug in the code
// under test: runUntilIdle, and any clock call during which one instant sees that many hops (a zero-latency
// ping-pong), throws after `eventLimit` hops (default EVENT_LIMIT).
// Behind one NAT, its hosts share a LAN: a datagram to another host's LAN address goes straight there, one to a
// link-local multicast group (224.0.0.0/24: Teredo local discovery's 224.0.0.253) reaches every other host of
// the LAN on that port. Not modelled: other multicast, ICMP errors (a datagram to a closed port just
// disappears). Loss is a NAT's (NatOptions.lossPercent).

import type { Millis } from '../../src/engine/types.js';
import type { FakeClock } from '../../src/runtime/fake-clock.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { VirtualHost, VirtualNat } from './teredo-net-host.js';
import type { NatDrop, NatKind, NatOptions } from './teredo-net-nat.js';
import { VirtualTun } from './teredo-net-tun.js';

export { EPHEMERAL_PORTS, VirtualHost, VirtualNat } from './teredo-net-host.js';
export type { NatKind, NatOptions } from './teredo-net-nat.js';
export type { VirtualDatagramPort } from './teredo-net-port.js';
export type { VirtualTun } from './teredo-net-tun.js';

/** Datagrams in flight at once, across the whole network. */
export const IN_FLIGHT_LIMIT = 10_000;
/** Hops one runUntilIdle() (or one instant) may process before the traffic is declared endless. */
export const EVENT_LIMIT = 100_000;
/** Records one capture holds; past it the capture throws (a test that needs more should capture less). */
export const CAPTURE_LIMIT = 100_000;

/** Why the network discarded a datagram (counted in `drops()`). */
/** 224.0.0.0/24, the link-local multicast groups (RFC 5771), as the top 24 bits. */
const LINK_LOCAL_MULTICAST = 0xe00000;

export type NetDrop = NatDrop | 'no-route' | 'port-unreachable' | 'receive-queue-full' | 'queue-full' | 'nat-no-hairpin' | 'tun-queue-full';

export interface NetworkOptions {
  /** One-way latency of a link when its host or NAT does not say (default 0: due at the same instant). */
  readonly latencyMs?: Millis;
  readonly queueLimit?: number;
  readonly eventLimit?: number;
}

/**
 * One datagram as the capture saw it: leaving a port or a spoofer ('sent'), reaching a port ('delivered'), or
 * discarded (the network's reason). Endpoints as they were at that point: the sender's bound endpoint when sent,
 * NAT-translated when delivered or dropped on the way.
 */
export interface Captured {
  readonly at: Millis;
  readonly event: 'sent' | 'delivered' | NetDrop;
  readonly src: Endpoint4;
  readonly dst: Endpoint4;
  /** The UDP payload: the network's own copy, never lent, never modified. */
  readonly bytes: Uint8Array;
}

interface Datagram {
  srcAddr: number;
  srcPort: number;
  dstAddr: number;
  dstPort: number;
  readonly bytes: Uint8Array;
}

/** Where a datagram is about to arrive: a hop's far end. */
type Stop =
  | { readonly at: 'core' }
  | { readonly at: 'port'; readonly host: VirtualHost }
  | { readonly at: 'nat-in' | 'nat-out'; readonly nat: VirtualNat }
  | { readonly at: 'tun'; readonly tun: VirtualTun };

interface Hop {
  readonly due: Millis;
  readonly seq: number;
  readonly stop: Stop;
  readonly d: Datagram;
}

const CORE: Stop = { at: 'core' };

export class VirtualInternet {
  readonly clock: FakeClock;
  readonly #latency: Millis;
  readonly #queueLimit: number;
  readonly #eventLimit: number;
  /** Public addresses: the host or NAT that holds each. */
  readonly #routes = new Map<number, VirtualHost | VirtualNat>();
  /** A binary min-heap of hops by (due, seq). */
  readonly #heap: Hop[] = [];
  readonly #drops = new Map<NetDrop, number>();
  /** Ports and devices that received something at this instant, in first-arrival order. */
  readonly #waking = new Set<{ deliver(): void }>();
  #seq = 0;
  /** Hops processed: in all, and at the instant #instant. */
  #hops = 0;
  #instant: Millis | undefined;
  #instantHops = 0;
  #delivered = 0;
  #timer: unknown;
  #armedAt: Millis | undefined;
  #capture: Captured[] | undefined;

  constructor(clock: FakeClock, options: NetworkOptions = {}) {
    this.clock = clock;
    this.#latency = options.latencyMs ?? 0;
    this.#queueLimit = options.queueLimit ?? IN_FLIGHT_LIMIT;
    this.#eventLimit = options.eventLimit ?? EVENT_LIMIT;
  }

  /** A host on the internet holding `addrs` (a Teredo server: primary and secondary). */
  host(addrs: number | readonly number[], options: { latencyMs?: Millis } = {}): VirtualHost {
    // Addresses are int32 like the real ports' (src/wire/ipv4.ts); a test may write them as uint32 literals.
    const list = (typeof addrs === 'number' ? [addrs] : [...addrs]).map((a) => a | 0);
    const h = this.#attach(list, options.latencyMs ?? this.#latency, undefined);
    for (const a of list) this.#claim(a, h);
    return h;
  }

  /** A NAT of `kind` whose public address is `outside`; put hosts behind it with `natHost`. */
  nat(kind: NatKind, outside: number, options: NatOptions & { latencyMs?: Millis } = {}): VirtualNat {
    const n = new VirtualNat(outside | 0, options.latencyMs ?? this.#latency, kind, options);
    this.#claim(outside | 0, n);
    return n;
  }

  /** A private host at `addr` behind `nat`, `latencyMs` away from it. */
  natHost(nat: VirtualNat, address: number, options: { latencyMs?: Millis } = {}): VirtualHost {
    const addr = address | 0;
    if (nat.hosts.has(addr)) throw new Error(`${formatIpv4(addr)} is already behind this NAT`);
    const h = this.#attach([addr], options.latencyMs ?? this.#latency, nat);
    nat.hosts.set(addr, h);
    return h;
  }

  /**
   * Two TUN devices linked back to back, `latencyMs` apart (default the network's): what the code under test
   * writes into one arrives as a lent batch on the other.
   */
  tunPair(names: readonly [string, string] = ['tun-a', 'tun-b'], options: { latencyMs?: Millis } = {}): [VirtualTun, VirtualTun] {
    const latency = options.latencyMs ?? this.#latency;
    const peers = new Map<VirtualTun, VirtualTun>();
    const link = {
      transmit: (from: VirtualTun, packet: Uint8Array) => {
        this.#push(latency, { at: 'tun', tun: peers.get(from)! }, { srcAddr: 0, srcPort: 0, dstAddr: 0, dstPort: 0, bytes: packet });
      },
      wake: (tun: VirtualTun) => this.#wake(tun),
    };
    const a = new VirtualTun(link, names[0], 1);
    const b = new VirtualTun(link, names[1], 2);
    peers.set(a, b).set(b, a);
    return [a, b];
  }

  /**
   * A datagram from any source, put on the core by a host that forges it (no ingress filtering, BCP 38): an
   * attacker's packets, or a fuzzer's. It crosses the destination's NAT like any other.
   */
  spoof(bytes: Uint8Array, from: Endpoint4, to: Endpoint4): void {
    const d: Datagram = { srcAddr: from.addr | 0, srcPort: from.port, dstAddr: to.addr | 0, dstPort: to.port, bytes: bytes.slice() };
    this.#record('sent', d);
    this.#push(this.#latency, CORE, d);
  }

  /**
   * Starts recording every datagram from now on (tcpdump on every link at once) and returns the list it fills,
   * in time order; a second call returns the same list. TUN packets are not recorded.
   */
  capture(): readonly Captured[] {
    this.#capture ??= [];
    return this.#capture;
  }

  /** Moves the clock forward `ms`, delivering every datagram and firing every timer due on the way. */
  advance(ms: Millis): void {
    this.clock.advance(ms);
  }

  /**
   * Delivers datagrams until none is in flight, moving the clock to each arrival (timers due on the way fire,
   * later ones do not). Throws after `eventLimit` hops: traffic that never settles.
   */
  runUntilIdle(): void {
    const start = this.#hops;
    while (this.#heap.length > 0 || this.#waking.size > 0) {
      if (this.#hops - start > this.#eventLimit) throw new Error(`runUntilIdle: still busy after ${this.#eventLimit} hops`);
      const due = this.#heap.length > 0 ? this.#heap[0]!.due : this.clock.now();
      this.clock.advanceTo(Math.max(due, this.clock.now()));
    }
  }

  /** Datagrams in flight. */
  get inFlight(): number {
    return this.#heap.length;
  }

  /** Datagrams and TUN packets that reached their port or device so far. */
  get delivered(): number {
    return this.#delivered;
  }

  /** Discarded datagrams per reason (only reasons seen). */
  drops(): Partial<Record<NetDrop, number>> {
    return Object.fromEntries(this.#drops);
  }

  /** A host and the link its ports send through (teredo-net-port.ts PortNetwork). */
  #attach(addrs: readonly number[], latencyMs: Millis, nat: VirtualNat | undefined): VirtualHost {
    const host: VirtualHost = new VirtualHost(
      {
        transmit: (from, bytes, addr, port) => {
          const d: Datagram = { srcAddr: from.local.addr, srcPort: from.local.port, dstAddr: addr, dstPort: port, bytes };
          this.#record('sent', d);
          this.#push(latencyMs, nat ? { at: 'nat-in', nat } : CORE, d);
        },
        wake: (port) => this.#wake(port),
        unbind: (port) => host.ports.delete(`${port.local.addr}:${port.local.port}`),
      },
      addrs,
      latencyMs,
      nat,
    );
    return host;
  }

  #wake(target: { deliver(): void }): void {
    this.#waking.add(target);
    this.#arm(this.clock.now());
  }

  #claim(addr: number, holder: VirtualHost | VirtualNat): void {
    if (this.#routes.has(addr)) throw new Error(`${formatIpv4(addr)} is already on the internet`);
    this.#routes.set(addr, holder);
  }

  /** Counts a discarded datagram (`d` undefined for a TUN packet, which is not captured). */
  #drop(reason: NetDrop, d: Datagram | undefined): void {
    this.#drops.set(reason, (this.#drops.get(reason) ?? 0) + 1);
    if (d !== undefined) this.#record(reason, d);
  }

  #record(event: Captured['event'], d: Datagram): void {
    const log = this.#capture;
    if (log === undefined) return;
    if (log.length >= CAPTURE_LIMIT) throw new Error(`capture: more than ${CAPTURE_LIMIT} datagrams`);
    log.push({ at: this.clock.now(), event, src: { addr: d.srcAddr, port: d.srcPort }, dst: { addr: d.dstAddr, port: d.dstPort }, bytes: d.bytes });
  }

  /** A datagram reaches the far end of a hop. */
  #arrive(stop: Stop, d: Datagram, now: Millis): void {
    switch (stop.at) {
      case 'core': {
        const to = this.#routes.get(d.dstAddr);
        if (to === undefined) return this.#drop('no-route', d);
        if (to instanceof VirtualNat) return this.#push(to.latencyMs, { at: 'nat-out', nat: to }, d);
        return this.#push(to.latencyMs, { at: 'port', host: to }, d);
      }
      case 'nat-in': {
        if (d.dstAddr === stop.nat.outside) return this.#hairpin(stop.nat, d, now);
        if ((d.dstAddr >>> 8) === LINK_LOCAL_MULTICAST) return this.#lanMulticast(stop.nat, d);
        const neighbour = stop.nat.hosts.get(d.dstAddr);
        if (neighbour !== undefined) return this.#push(neighbour.latencyMs, { at: 'port', host: neighbour }, d);
        const port = stop.nat.model.outbound(now, { addr: d.srcAddr, port: d.srcPort }, { addr: d.dstAddr, port: d.dstPort });
        if (typeof port !== 'number') return this.#drop(port, d);
        d.srcAddr = stop.nat.outside;
        d.srcPort = port;
        return this.#push(stop.nat.latencyMs, CORE, d);
      }
      case 'nat-out': {
        const r = stop.nat.model.inbound(now, { addr: d.srcAddr, port: d.srcPort }, d.dstPort);
        if (typeof r !== 'object') return this.#drop(r, d);
        const host = stop.nat.hosts.get(r.inside.addr);
        if (host === undefined) return this.#drop('no-route', d);
        d.dstAddr = r.inside.addr;
        d.dstPort = r.inside.port;
        d.srcPort = r.sourcePort;
        return this.#push(host.latencyMs, { at: 'port', host }, d);
      }
      case 'port': {
        const port = stop.host.ports.get(`${d.dstAddr}:${d.dstPort}`);
        if (port === undefined) return this.#drop('port-unreachable', d);
        if (!port.arrive(d.bytes, d.srcAddr, d.srcPort)) return this.#drop('receive-queue-full', d);
        this.#delivered++;
        this.#record('delivered', d);
        this.#waking.add(port);
        return;
      }
      case 'tun': {
        if (!stop.tun.arrive(d.bytes)) return this.#drop('tun-queue-full', undefined);
        this.#delivered++;
        this.#waking.add(stop.tun);
      }
    }
  }

  /** A datagram from inside `nat` to a link-local group: a copy to each other host of the LAN, addressed to it. */
  #lanMulticast(nat: VirtualNat, d: Datagram): void {
    for (const [addr, host] of nat.hosts) if (addr !== d.srcAddr) this.#push(host.latencyMs, { at: 'port', host }, { ...d, dstAddr: addr });
  }

  /** A datagram from inside `nat` to its own address: back in to the holder of the port, from the sender's mapping. */
  #hairpin(nat: VirtualNat, d: Datagram, now: Millis): void {
    const model = nat.model;
    const target = model.hairpin ? model.hairpinTarget(now, d.dstPort) : undefined;
    if (target === undefined) return this.#drop('nat-no-hairpin', d);
    const port = model.outbound(now, { addr: d.srcAddr, port: d.srcPort }, { addr: nat.outside, port: d.dstPort });
    if (typeof port !== 'number') return this.#drop(port, d);
    const host = nat.hosts.get(target.addr);
    if (host === undefined) return this.#drop('no-route', d);
    d.srcAddr = nat.outside;
    d.srcPort = port;
    d.dstAddr = target.addr;
    d.dstPort = target.port;
    return this.#push(host.latencyMs, { at: 'port', host }, d);
  }

  #push(latency: Millis, stop: Stop, d: Datagram): void {
    if (this.#heap.length >= this.#queueLimit) return this.#drop('queue-full', stop.at === 'tun' ? undefined : d);
    const hop: Hop = { due: this.clock.now() + latency, seq: this.#seq++, stop, d };
    const h = this.#heap;
    let i = h.push(hop) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
    this.#arm(hop.due);
  }

  #pop(): Hop {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  /** One FakeClock timer at the earliest due hop, like the Driver's single timer. */
  #arm(due: Millis): void {
    if (this.#armedAt !== undefined && this.#armedAt <= due) return;
    if (this.#timer !== undefined) this.clock.clearTimer(this.#timer);
    this.#armedAt = due;
    this.#timer = this.clock.setTimer(this.#onTimer, due - this.clock.now());
  }

  /**
   * Every hop due now, in (due, seq) order, including hops they cause with zero latency; then each port that
   * received something gets its batches. Handlers' sends are queued, to arrive in a later round.
   */
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#armedAt = undefined;
    const now = this.clock.now();
    if (now !== this.#instant) {
      this.#instant = now;
      this.#instantHops = 0;
    }
    while (this.#heap.length > 0 && this.#heap[0]!.due <= now) {
      if (++this.#instantHops > this.#eventLimit) throw new Error(`still busy after ${this.#eventLimit} hops at t=${now} ms`);
      this.#hops++;
      const hop = this.#pop();
      this.#arrive(hop.stop, hop.d, now);
    }
    const waking = [...this.#waking];
    this.#waking.clear();
    for (const target of waking) target.deliver();
    if (this.#heap.length > 0) this.#arm(this.#heap[0]!.due);
  };
}

function before(a: Hop, b: Hop): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}
