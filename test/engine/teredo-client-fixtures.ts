// The Teredo world of the client engine's tests, on the in-memory network (test/fakes/teredo-net*.ts): the REAL
// server engine on 198.18.0.10 and .11 (forwarding to native IPv6 through its TUN device), clients behind the
// lab's NAT kinds or on a public address, and on demand the real relay engine, native IPv6 hosts, more servers,
// and scripted hosts; one FakeClock starting at 0, every datagram captured (`log`) for the tests to assert on.
//
// Latency: all of it on the links of public hosts (oneWayMs each, default 5), none on a client's LAN or NAT
// link, so a client's round trip to its server is 2 x oneWayMs behind any NAT. `secondaryOneWayMs` puts the
// server's secondary address on its own link: jitter between the two addresses.
//
// raPayload builds an RA with the wire codecs (not with the server engine), so a test can also craft broken ones.

import type { TeredoClientParams } from '../../src/engine/teredo/client/client-types.js';
import type { TeredoServerParams } from '../../src/engine/teredo/server/server-types.js';
import { seededRandom, type Millis } from '../../src/engine/types.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';
import { echoMessage, encodeIcmpv6Packet } from '../../src/wire/icmpv6.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { decodeIpv6 } from '../../src/wire/ipv6.js';
import { NDISC_HOP_LIMIT, encodeNdiscPacket, type RouterAdvert } from '../../src/wire/ndisc.js';
import { INFINITE_LIFETIME, type NdiscOption } from '../../src/wire/ndisc-options.js';
import { decodeTeredoAddress, teredoServerLinkLocal } from '../../src/wire/teredo-address.js';
import { decodeTeredoPayload, encodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import { VirtualInternet, type Captured, type NatKind, type NatOptions, type VirtualHost, type VirtualNat } from '../fakes/teredo-net.js';
import { TeredoClientHost, TeredoRelayHost, TeredoServerHost, type ClientHostOptions } from '../fakes/teredo-net-engines.js';
import { echoReply, NativeNetwork, type Ipv6Stack } from '../fakes/teredo-net-native.js';

export const PRIMARY = parseIpv4('198.18.0.10');
export const SECONDARY = parseIpv4('198.18.0.11');
/** The first client's public address: its NAT's outside address, or its own on a public site. */
export const NAT_PUBLIC = parseIpv4('198.18.0.101');
export const CLIENT_PORT = 40000;
/** The client's probe socket (sink.sendProbe). */
export const PROBE_PORT = 40001;
export const RELAY: Endpoint4 = { addr: parseIpv4('198.18.0.20'), port: 3545 };
/** A host on the internet that tests script (a peer, a rogue sender). */
export const ROGUE = parseIpv4('198.18.0.30');
export const HOST6 = parseIpv6('2001:db8:6::100');
const RELAY6 = parseIpv6('2001:db8:6::20');
/** RFC 4380 §2.6: the Teredo prefix 2001:0000::/32, routed to the relay on the native side. */
const TEREDO_ROUTE = { prefix: parseIpv6('2001::'), length: 32 };

/** A NAT kind of the lab, or 'none': the client on a public address. */
export type Site = NatKind | 'none';

export interface WorldOptions {
  readonly oneWayMs?: Millis;
  readonly secondaryOneWayMs?: Millis;
  readonly server?: Partial<TeredoServerParams>;
}

/** A datagram a client sent, from its main socket (local = CLIENT_PORT) or its probe socket (PROBE_PORT). */
export interface Sent {
  readonly at: Millis;
  readonly data: Uint8Array;
  readonly addr: number;
  readonly port: number;
  readonly local: number;
}

export class TeredoWorld {
  readonly clock = new FakeClock(0);
  readonly inet = new VirtualInternet(this.clock);
  readonly log: readonly Captured[] = this.inet.capture();
  readonly native = new NativeNetwork(this.inet);
  readonly oneWayMs: Millis;
  /** The host holding the server's primary address, and the one holding its secondary (the same one by default). */
  readonly serverHosts: readonly [VirtualHost, VirtualHost];
  readonly server: TeredoServerHost;
  readonly #nats = new Map<TeredoClientHost, VirtualNat>();
  #sites = 0;

  constructor(o: WorldOptions = {}) {
    this.oneWayMs = o.oneWayMs ?? 5;
    const primary = o.secondaryOneWayMs === undefined ? this.host([PRIMARY, SECONDARY]) : this.host(PRIMARY);
    this.serverHosts = [primary, o.secondaryOneWayMs === undefined ? primary : this.inet.host(SECONDARY, { latencyMs: o.secondaryOneWayMs })];
    const params = { primary: PRIMARY, secondary: SECONDARY, nativeForwarding: true, ...o.server };
    this.server = new TeredoServerHost(this.clock, this.serverHosts, params, this.native.attach('teredo-server'));
  }

  /** A public host at `addrs`, oneWayMs from the core. */
  host(addrs: number | readonly number[]): VirtualHost {
    return this.inet.host(addrs, { latencyMs: this.oneWayMs });
  }

  /** Another Teredo server (its clients' prefix 2001:0:<primary>::/64), on one host holding both addresses. */
  addServer(primary: number, secondary: number): TeredoServerHost {
    const h = this.host([primary, secondary]);
    return new TeredoServerHost(this.clock, [h, h], { primary, secondary });
  }

  /**
   * A client of PRIMARY (unless params say otherwise) at the next site: behind a fresh `site` NAT whose outside
   * address is 198.18.0.<101 + n> (LAN 192.168.<1 + n>.2), or on that address itself. Started unless told not to.
   */
  client(site: Site, params: Partial<TeredoClientParams> = {}, o: ClientHostOptions & { nat?: NatOptions; start?: boolean } = {}): TeredoClientHost {
    const n = this.#sites++;
    const outside = NAT_PUBLIC + n;
    let host: VirtualHost;
    let nat: VirtualNat | undefined;
    if (site === 'none') host = this.inet.host(outside);
    else {
      nat = this.inet.nat(site, outside, { seed: n + 1, ...o.nat });
      host = this.inet.natHost(nat, parseIpv4(`192.168.${n + 1}.2`));
    }
    const c = new TeredoClientHost(this.inet, host, { primary: PRIMARY, ...params }, o);
    if (nat !== undefined) this.#nats.set(c, nat);
    return o.start === false ? c : c.start();
  }

  /** The NAT in front of `c`. */
  natOf(c: TeredoClientHost): VirtualNat {
    const nat = this.#nats.get(c);
    if (nat === undefined) throw new Error('this client is on a public address');
    return nat;
  }

  /**
   * The real relay at `at` (default RELAY); on the native side it routes `route` (default 2001::/32; the
   * longest prefix wins, so a second relay given a longer one takes that traffic from the first); `seed` draws
   * its nonces (two relays must not draw the same).
   */
  relay(at: Endpoint4 = RELAY, route: { readonly prefix: Uint8Array; readonly length: number } = TEREDO_ROUTE, seed = 3): TeredoRelayHost {
    return new TeredoRelayHost(this.clock, this.host(at.addr), at.port, { random: seededRandom(seed), icmpv6Source: RELAY6 }, this.native.attach(`teredo-relay-${at.addr}`, route));
  }

  /** A native IPv6 host at `addr` (it answers Echo Requests). */
  nativeHost(addr: Uint8Array): Ipv6Stack {
    return this.native.host(addr);
  }

  /** What `c` sent from either socket, in order, from log record `since` on. */
  sent(c: TeredoClientHost, since = 0): Sent[] {
    const from = (r: Captured, p: Endpoint4): boolean => r.src.addr === p.addr && r.src.port === p.port;
    return this.log
      .slice(since)
      .filter((r) => r.event === 'sent' && (from(r, c.main.local) || from(r, c.probe.local)))
      .map((r) => ({ at: r.at, data: r.bytes, addr: r.dst.addr, port: r.dst.port, local: r.src.port }));
  }

  /** Moves the clock to `t`: every datagram and timer due on the way. */
  runUntil(t: Millis): void {
    this.clock.advanceTo(t);
  }

  /** Runs until `c` is qualified, or `limit` ms have passed; returns the time it took (by the clock). */
  runUntilQualified(c: TeredoClientHost, limit: Millis = 120_000): Millis {
    const start = this.clock.now();
    while (c.engine.state !== 'qualified' && this.clock.now() - start < limit && this.clock.runNext());
    return this.clock.now() - start;
  }

  /**
   * The NAT in front of `c` loses its state (conntrack -F) and another host behind it takes c's port at once: c's
   * next datagram leaves from another mapping, as after a NAT reboot.
   */
  remap(c: TeredoClientHost): void {
    const nat = this.natOf(c);
    nat.flush();
    const squatter = this.inet.natHost(nat, c.main.local.addr + 1).bind(c.main.local.port);
    squatter.send(new Uint8Array(1), 0, 1, ROGUE, 9);
    this.inet.runUntilIdle();
  }
}

/** Runs until each of `clients` is qualified (throws if one does not), then their hosts answer Echo Requests. */
export function qualifiedAnswering(w: TeredoWorld, ...clients: TeredoClientHost[]): void {
  for (const c of clients) {
    w.runUntilQualified(c);
    if (c.engine.state !== 'qualified') throw new Error(`a client did not qualify (${c.engine.state})`);
  }
  for (const c of clients) c.stack.respond = echoReply;
}

/** An ICMPv6 Echo Request from `src` to `dst` with sequence number `seq` (8 data bytes of `seq`). */
export const echoRequest = (src: Uint8Array, dst: Uint8Array, seq: number): Uint8Array =>
  encodeIcmpv6Packet({ src, dst, hopLimit: 64 }, echoMessage(128, { id: 1, seq, data: new Uint8Array(8).fill(seq) }));

/** Echo Replies `from`'s host got back out of `n` Echo Requests to `to`'s address, 1 s apart (by the world's clock). */
export function echoReplies(w: TeredoWorld, from: TeredoClientHost, to: TeredoClientHost, n: number): number {
  const before = from.stack.received.length;
  for (let i = 1; i <= n; i++) {
    from.stack.send(echoRequest(from.engine.address!, to.engine.address!, i));
    w.runUntil(w.clock.now() + 1000);
  }
  return from.stack.received.slice(before).filter((p) => p[40] === 129).length;
}

/**
 * A world with a client at `site` qualified, and the endpoint its Teredo address embeds: where forged datagrams
 * go ('full-cone' and 'none' let any source in, so the client's own checks decide). Throws if it did not qualify.
 */
export function qualifiedTarget(site: Site): { w: TeredoWorld; c: TeredoClientHost; me: Uint8Array; to: Endpoint4 } {
  const w = new TeredoWorld();
  const c = w.client(site);
  w.runUntilQualified(c);
  if (c.engine.state !== 'qualified') throw new Error(`the client at ${site} did not qualify`);
  const a = decodeTeredoAddress(c.engine.address!);
  return { w, c, me: c.engine.address!, to: { addr: a.mappedAddr, port: a.mappedPort } };
}

export interface RaOptions {
  readonly options?: NdiscOption[];
  readonly hopLimit?: number;
  readonly dst?: Uint8Array;
  readonly nonce?: Uint8Array | null;
  readonly origin?: { addr: number; port: number } | null;
}

/** The RA a Teredo server sends (Miredo's fields), with any part overridable to build refusals. */
export function raPayload(rsPayload: Uint8Array, origin: { addr: number; port: number }, o: RaOptions = {}): Uint8Array {
  const rs = decodeTeredoPayload(rsPayload);
  const ra: RouterAdvert = {
    kind: 'router-advert',
    curHopLimit: 0,
    managed: false,
    otherConfig: false,
    homeAgent: false,
    preference: 0,
    routerLifetimeSec: 0,
    reachableTimeMs: 0,
    retransTimerMs: 2000,
    options: o.options ?? [prefixOption(PRIMARY), { kind: 'mtu', mtu: 1280 }],
  };
  const ipv6 = encodeNdiscPacket({ src: teredoServerLinkLocal(PRIMARY), dst: o.dst ?? decodeIpv6(rs.ipv6).header.src, hopLimit: o.hopLimit ?? NDISC_HOP_LIMIT }, ra);
  const nonce = o.nonce === undefined ? rs.auth!.nonce : o.nonce;
  const auth = nonce === null ? undefined : { clientId: new Uint8Array(0), authValue: new Uint8Array(0), nonce, confirmation: 0 };
  return encodeTeredoPayload({ auth, origin: o.origin === null ? undefined : (o.origin ?? origin), ipv6 });
}

/** RFC 4380 §4: the Prefix Information option of a server's RA, 2001:0:<server>::/prefixLength. */
export function prefixOption(server: number, prefixLength = 64): NdiscOption {
  const prefix = parseIpv6('2001:0::');
  prefix[4] = server >>> 24;
  prefix[5] = (server >>> 16) & 0xff;
  prefix[6] = (server >>> 8) & 0xff;
  prefix[7] = server & 0xff;
  return { kind: 'prefix-info', prefixLength, onLink: false, autonomous: true, routerAddress: false, validLifetimeSec: INFINITE_LIFETIME, preferredLifetimeSec: INFINITE_LIFETIME, prefix };
}
