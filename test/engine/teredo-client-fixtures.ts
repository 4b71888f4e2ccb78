// A tiny simulated Internet for the client engine's tests: the client behind one NAT model, a Teredo server on
// two addresses answering RSs as RFC 4380 §5.3.2 says (RA from the other address for a cone-bit RS), a latency
// per hop, and virtual time. RAs are built here with the wire codecs (not with our server engine), so the
// client is tested against the RFC's packets, and a test can also craft broken ones.
//
// NAT models (RFC 4787 terms): full cone = endpoint-independent mapping and filtering; address-restricted =
// EI mapping, address-dependent filtering; port-restricted = EI mapping, address+port-dependent filtering;
// symmetric = a new mapping per destination, address+port-dependent filtering. Like a Linux NAT, a refused
// inbound datagram leaves a conntrack entry: a later outbound flow that would reuse its tuple gets another
// public port (what made restricted NATs look symmetric when the cone RS shared the main socket).

import { TeredoClient } from '../../src/engine/teredo/client/client.js';
import type { ClientSink, ClientState, TeredoClientParams } from '../../src/engine/teredo/client/client-types.js';
import { seededRandom, type Millis } from '../../src/engine/types.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { NDISC_HOP_LIMIT, encodeNdiscPacket, type RouterAdvert } from '../../src/wire/ndisc.js';
import { INFINITE_LIFETIME, type NdiscOption } from '../../src/wire/ndisc-options.js';
import { teredoServerLinkLocal } from '../../src/wire/teredo-address.js';
import { encodeTeredoPayload, decodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import { decodeIpv6 } from '../../src/wire/ipv6.js';

export const PRIMARY = parseIpv4('198.18.0.10');
export const SECONDARY = parseIpv4('198.18.0.11');
export const NAT_PUBLIC = parseIpv4('198.18.0.101');
export const CLIENT_PORT = 40000;
/** The client's probe socket (sink.sendProbe). */
export const PROBE_PORT = 40001;

export type NatModel = 'none' | 'full-cone' | 'address-restricted' | 'port-restricted' | 'symmetric';

export interface Sent {
  readonly at: Millis;
  readonly data: Uint8Array;
  readonly addr: number;
  readonly port: number;
  /** The client's local port it left from: CLIENT_PORT (main socket) or PROBE_PORT. */
  readonly local: number;
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

export function prefixOption(server: number, prefixLength = 64): NdiscOption {
  const prefix = parseIpv6('2001:0::');
  prefix[4] = server >>> 24;
  prefix[5] = (server >>> 16) & 0xff;
  prefix[6] = (server >>> 8) & 0xff;
  prefix[7] = server & 0xff;
  return { kind: 'prefix-info', prefixLength, onLink: false, autonomous: true, routerAddress: false, validLifetimeSec: INFINITE_LIFETIME, preferredLifetimeSec: INFINITE_LIFETIME, prefix };
}

/** The client engine in a simulated network. `step()` runs until nothing is pending before `until`. */
export class SimNet {
  now: Millis = 0;
  readonly client: TeredoClient;
  readonly sent: Sent[] = [];
  readonly states: { at: Millis; state: ClientState }[] = [];
  readonly addresses: { at: Millis; previous: Uint8Array | undefined; current: Uint8Array | undefined }[] = [];
  readonly drops: number[] = [];
  readonly tun: Uint8Array[] = [];
  /** Whether the server answers, and whether UDP toward it passes (a captive portal blocks it). */
  serverUp = true;
  udpBlocked = false;
  /** Changing it simulates the NAT losing its state (conntrack flush): every mapping gets a new port. */
  natEpoch = 0;
  /** Extra delay of RAs answering a cone RS (jitter between the server's two addresses). */
  coneRaExtraMs = 0;
  /** Address-restricted filtering for the whole host: a datagram to one address opens every mapping to it. */
  hostWideFiltering = false;
  readonly sink: ClientSink;
  readonly #inflight: { at: Millis; data: Uint8Array; addr: number; port: number; toPort: number; local: number }[] = [];
  readonly #opened = new Set<string>();
  readonly #mappings = new Map<string, number>();
  /** Inbound tuples the NAT refused ("remote/public port"): conntrack entries no outbound flow may reuse. */
  readonly #refused = new Set<string>();
  #nextPublicPort = 50000;

  constructor(
    readonly nat: NatModel,
    params: Partial<TeredoClientParams> = {},
    readonly oneWayMs = 5,
    seed = 1,
  ) {
    this.client = new TeredoClient({ primary: PRIMARY, ...params }, seededRandom(seed));
    this.sink = {
      drop: (r) => void this.drops.push(r),
      sendUdp: (data, offset, length, addr, port) => this.#send(data.slice(offset, offset + length), addr, port, CLIENT_PORT),
      sendProbe: (data, offset, length, addr, port) => this.#send(data.slice(offset, offset + length), addr, port, PROBE_PORT),
      writeTun: (data, offset, length) => void this.tun.push(data.slice(offset, offset + length)),
      addressChanged: (previous, current) => void this.addresses.push({ at: this.now, previous: previous?.slice(), current: current?.slice() }),
      stateChanged: (state) => void this.states.push({ at: this.now, state }),
    };
  }

  start(): this {
    this.client.start(this.now, this.sink);
    return this;
  }

  /** Advances virtual time to `until`, delivering datagrams and firing the engine's timers in order. */
  runUntil(until: Millis): void {
    for (;;) {
      const net = this.#inflight.reduce<Millis | undefined>((m, d) => (m === undefined || d.at < m ? d.at : m), undefined);
      const timer = this.client.nextTimeout();
      const next = Math.min(net ?? Infinity, timer ?? Infinity);
      if (next > until) break;
      this.now = Math.max(this.now, next);
      if (net !== undefined && net <= this.now) {
        const i = this.#inflight.findIndex((d) => d.at === net);
        const d = this.#inflight.splice(i, 1)[0]!;
        // The NAT filters on arrival: an RS sent meanwhile may have opened it.
        if (!this.#admits(d.toPort, d.addr, d.port)) this.#refused.add(`${this.natEpoch}/${d.addr}:${d.port}/${d.toPort}`);
        else if (d.local === PROBE_PORT) this.client.probeDatagram(d.data, 0, d.data.length, d.addr, d.port, this.now, this.sink);
        else this.client.datagram(d.data, 0, d.data.length, d.addr, d.port, this.now, this.sink);
      } else {
        this.client.handleTimeout(this.now, this.sink);
      }
    }
    this.now = until;
  }

  /** Runs until the client is qualified (or `limit`); returns the time it took. */
  runUntilQualified(limit: Millis = 120_000): Millis {
    const start = this.now;
    while (this.client.state !== 'qualified' && this.now < start + limit) this.runUntil(this.now + 1);
    return this.now - start;
  }

  /** Delivers a datagram to the client right now, as if it came from addr:port (bypassing the NAT). */
  inject(data: Uint8Array, addr: number, port: number): void {
    this.client.datagram(data, 0, data.length, addr, port, this.now, this.sink);
  }

  /** Delivers a datagram to the client's probe socket right now (bypassing the NAT). */
  injectProbe(data: Uint8Array, addr: number, port: number): void {
    this.client.probeDatagram(data, 0, data.length, addr, port, this.now, this.sink);
  }

  /** The public port the NAT uses from the client's `local` port toward addr:port. */
  mappedPort(addr: number, port: number, local = CLIENT_PORT): number {
    if (this.nat === 'none') return local;
    const flow = `${this.natEpoch}/${local}/${addr}:${port}`;
    let p = this.#mappings.get(flow);
    if (p !== undefined) return p;
    // Endpoint-independent mapping: the port this local port already uses, unless that tuple is taken.
    const shared = this.nat === 'symmetric' ? undefined : this.#mappings.get(`${this.natEpoch}/${local}`);
    p = shared !== undefined && !this.#refused.has(`${this.natEpoch}/${addr}:${port}/${shared}`) ? shared : this.#nextPublicPort++;
    if (shared === undefined) this.#mappings.set(`${this.natEpoch}/${local}`, p);
    this.#mappings.set(flow, p);
    return p;
  }

  #send(data: Uint8Array, addr: number, port: number, local: number): void {
    this.sent.push({ at: this.now, data, addr, port, local });
    if (this.udpBlocked) return;
    const mapped = { addr: NAT_PUBLIC, port: this.mappedPort(addr, port, local) };
    // Pinholes belong to the mapping they were opened on (a symmetric NAT has one mapping per destination).
    this.#opened.add(`${this.natEpoch}/${mapped.port}/${addr}:${port}`);
    this.#opened.add(`${this.natEpoch}/${mapped.port}/${addr}`);
    this.#opened.add(`${this.natEpoch}/*/${addr}`);
    if (!this.serverUp || port !== 3544 || (addr !== PRIMARY && addr !== SECONDARY)) return;
    const rs = decodeTeredoPayload(data);
    const src = decodeIpv6(rs.ipv6).header.src;
    if (rs.ipv6[40] !== 133) return;
    const cone = (src[8]! & 0x80) !== 0;
    const from = cone ? (addr === PRIMARY ? SECONDARY : PRIMARY) : addr;
    this.#inflight.push({ at: this.now + 2 * this.oneWayMs + (cone ? this.coneRaExtraMs : 0), data: raPayload(data, mapped), addr: from, port: 3544, toPort: mapped.port, local });
  }

  #admits(toPort: number, addr: number, port: number): boolean {
    switch (this.nat) {
      case 'none':
      case 'full-cone':
        return true;
      case 'address-restricted':
        return this.#opened.has(`${this.natEpoch}/${this.hostWideFiltering ? '*' : toPort}/${addr}`);
      default:
        return this.#opened.has(`${this.natEpoch}/${toPort}/${addr}:${port}`);
    }
  }
}
