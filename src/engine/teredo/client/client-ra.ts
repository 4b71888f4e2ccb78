// Router Solicitations the client sends and the acceptance rules for the Router Advertisements that answer them
// (RFC 4380 §5.2.1, §5.2.2 with RFC 4861 §6.1.2). Five kinds of RS can be outstanding at once:
//
//   cone           to the primary address from the Teredo port, source fe80::8000:5445:5245:444f (cone bit): the
//                  server answers from its OTHER address (§5.3.2), so the RA only gets through a NAT that filters
//                  nothing on that port (a cone NAT, or a port forward to the Teredo port)
//   primary        to the primary address from the Teredo port, source fe80::ffff:ffff:ffff: gives the mapping the
//                  address embeds (and measures the round trip)
//   map-primary    to the primary address from the probe port (a second local port, see client.ts)
//   map-secondary  to the secondary address from the probe port: a different mapping than map-primary's means
//                  the NAT maps per destination (symmetric, RFC 4787 §4.1 endpoint-dependent)
//   preferred      to the preferred server's primary address from the probe port, while qualified with a
//                  fallback server: an answer means the preferred server is back
//
// Every RS carries an authentication header (§5.1.1) with a fresh random 8-byte nonce, ID and AU lengths 0 (the
// form Windows, Miredo and pteredor send); an RA is matched to its RS by the echoed nonce alone, so an RA cannot
// be forged by anyone who did not see the RS, and a late RA to an RS given up on is refused.
//
// checkRa runs only on datagrams that carry an ICMPv6 Router Advertisement; it returns the drop reason of the
// first rule broken, or -1. It allocates (the RA is decoded with the codecs): RAs are rare, and only a datagram
// from a server address, port 3544, with one of our live nonces gets as far as the decode.

import { WireError } from '../../../wire/errors.js';
import { ICMPV6_TYPE, decodeIcmpv6Packet } from '../../../wire/icmpv6.js';
import { IPV6_HEADER_LEN, NEXT_HEADER } from '../../../wire/ipv6.js';
import { ALL_ROUTERS } from '../../../wire/ipv6-address.js';
import { NDISC_HOP_LIMIT, decodeNdisc, encodeNdiscPacket } from '../../../wire/ndisc.js';
import { NDISC_OPTION } from '../../../wire/ndisc-options.js';
import { TEREDO_CLIENT_LINK_LOCAL, TEREDO_CLIENT_LINK_LOCAL_CONE, isTeredo, teredoServerAt } from '../../../wire/teredo-address.js';
import { TEREDO_PORT } from '../../../wire/teredo-constants.js';
import { TEREDO_NONCE_LEN, encodeTeredoPayload } from '../../../wire/teredo-packet.js';
import type { Millis, Random } from '../../types.js';
import type { TeredoPacketView } from '../../../wire/teredo-view.js';
import { DROP } from './client-types.js';

export const RS_CONE = 0;
export const RS_PRIMARY = 1;
export const RS_MAP_PRIMARY = 2;
export const RS_MAP_SECONDARY = 3;
export const RS_PREFERRED = 4;
export type RsKind = typeof RS_CONE | typeof RS_PRIMARY | typeof RS_MAP_PRIMARY | typeof RS_MAP_SECONDARY | typeof RS_PREFERRED;
const KINDS = 5;

/** A Teredo server's two IPv4 addresses (int32, wire/ipv4.ts). */
export interface ServerPair {
  readonly primary: number;
  readonly secondary: number;
}

/** The kinds that leave from the probe port (sink.sendProbe) and come back there. */
export function fromProbePort(kind: RsKind): boolean {
  return kind >= RS_MAP_PRIMARY;
}

/** RFC 8200 §5 minimum and the 16-bit ceiling Miredo accepts in an RA's MTU option. */
const MTU_MIN = 1280;
const MTU_MAX = 65535;
/** Teredo prefixes are /64 (§4): 2001:0000, the 32-bit server address. */
const TEREDO_CLIENT_PREFIX_LEN = 64;
/** Bytes before the nonce in our RS payload: 00 01, ID length 0, AU length 0. */
const NONCE_AT = 4;
const EMPTY = new Uint8Array(0);

function rsPayload(source: Uint8Array): Uint8Array {
  const ipv6 = encodeNdiscPacket({ src: source, dst: ALL_ROUTERS, hopLimit: NDISC_HOP_LIMIT }, { kind: 'router-solicit', options: [] });
  return encodeTeredoPayload({ auth: { clientId: EMPTY, authValue: EMPTY, nonce: new Uint8Array(TEREDO_NONCE_LEN), confirmation: 0 }, ipv6 });
}

/** The outstanding RSs: one payload buffer, nonce and send time per kind (allocated once). */
export class RsProbes {
  readonly #payloads: Uint8Array[] = Array.from({ length: KINDS }, (_, k) => rsPayload(k === RS_CONE ? TEREDO_CLIENT_LINK_LOCAL_CONE : TEREDO_CLIENT_LINK_LOCAL));
  readonly #live: boolean[] = new Array<boolean>(KINDS).fill(false);
  readonly #sentAt: number[] = new Array<number>(KINDS).fill(0);

  /** Arms `kind` with a fresh nonce and returns its payload (lent: valid until the next prepare of that kind). */
  prepare(kind: RsKind, random: Random, now: Millis): Uint8Array {
    const p = this.#payloads[kind]!;
    p.set(random.bytes(TEREDO_NONCE_LEN), NONCE_AT);
    this.#live[kind] = true;
    this.#sentAt[kind] = now;
    return p;
  }

  /** The live kind whose nonce is at data[at], or -1. */
  match(data: Uint8Array, at: number): RsKind | -1 {
    for (let k = 0; k < KINDS; k++) {
      if (this.#live[k] === true && nonceAt(this.#payloads[k]!, data, at)) return k as RsKind;
    }
    return -1;
  }

  isLive(kind: RsKind): boolean {
    return this.#live[kind]!;
  }

  sentAt(kind: RsKind): Millis {
    return this.#sentAt[kind]!;
  }

  /** Forgets `kind`'s nonce: its RA, if it still comes, is refused as a nonce mismatch. */
  retire(kind: RsKind): void {
    this.#live[kind] = false;
  }

  /** Keeps `kind`'s nonce live (after retireAll) without a new one: its RA is still accepted. */
  keep(kind: RsKind): void {
    this.#live[kind] = true;
  }

  retireAll(): void {
    this.#live.fill(false);
  }
}

function nonceAt(payload: Uint8Array, data: Uint8Array, at: number): boolean {
  for (let i = 0; i < TEREDO_NONCE_LEN; i++) if (payload[NONCE_AT + i] !== data[at + i]) return false;
  return true;
}

/** True when the datagram's IPv6 packet is an ICMPv6 Router Advertisement (the only thing checkRa looks at). */
export function isRouterAdvert(view: TeredoPacketView): boolean {
  return view.nextHeader === NEXT_HEADER.ICMPV6 && view.ipv6Length > IPV6_HEADER_LEN && view.data[view.payloadOffset] === ICMPV6_TYPE.ROUTER_ADVERT;
}

/** Where an RS of `kind` goes: the current server's secondary for map-secondary, the preferred server's primary for preferred. */
export function rsDestination(kind: RsKind, server: ServerPair, preferred: ServerPair): number {
  return kind === RS_MAP_SECONDARY ? server.secondary : kind === RS_PREFERRED ? preferred.primary : server.primary;
}

/** Where the RA to an RS of `kind` must come from: the other address for the cone RS (§5.3.2), the address asked otherwise. */
function raSource(kind: RsKind, server: ServerPair, preferred: ServerPair): number {
  return kind === RS_CONE ? server.secondary : rsDestination(kind, server, preferred);
}

/**
 * The acceptance rules, in order, for an RA from addr:port on the Teredo port or the probe port. `server` is the
 * server in use, `preferred` the first configured one (asked only through RS_PREFERRED). Returns -1 when the RA
 * is acceptable, otherwise the DROP index of the first rule it breaks.
 */
export function checkRa(server: ServerPair, preferred: ServerPair, probes: RsProbes, view: TeredoPacketView, addr: number, port: number, probeSocket: boolean): number {
  const known = addr === server.primary || addr === server.secondary || (probes.isLive(RS_PREFERRED) && addr === preferred.primary);
  if (!known) return DROP['ra-source-not-server'];
  if (port !== TEREDO_PORT) return DROP['ra-source-port-not-3544'];
  if (view.nonceOffset < 0) return DROP['ra-no-auth'];
  const kind = probes.match(view.data, view.nonceOffset);
  if (kind === -1) return DROP['ra-nonce-mismatch'];
  // Each RA comes back to the port its RS left from.
  if (fromProbePort(kind) !== probeSocket) return DROP['ra-wrong-socket'];
  // The cone test is only sound when the RA to the cone RS left from the other address (§5.3.2).
  if (addr !== raSource(kind, server, preferred)) return DROP['ra-wrong-server-address'];
  if (view.originOffset < 0) return DROP['ra-no-origin-indication'];
  const prefixServer = kind === RS_PREFERRED ? preferred.primary : server.primary;
  return checkRaBody(prefixServer, kind, view.data.subarray(view.ipv6Offset, view.ipv6Offset + view.ipv6Length));
}

function checkRaBody(prefixServer: number, kind: RsKind, ipv6: Uint8Array): number {
  let ra;
  let hopLimit: number;
  let dst: Uint8Array;
  try {
    // Verifies the checksum (WIRE_BAD_CHECKSUM) as well as the structure.
    const packet = decodeIcmpv6Packet(ipv6);
    if (packet.message.code !== 0) return DROP['ra-malformed'];
    hopLimit = packet.header.hopLimit;
    dst = packet.header.dst;
    ra = decodeNdisc(packet.message);
  } catch (err) {
    if (err instanceof WireError) return DROP['ra-malformed'];
    throw err;
  }
  if (ra.kind !== 'router-advert' || hopLimit !== NDISC_HOP_LIMIT) return DROP['ra-malformed'];
  const expectedDst = kind === RS_CONE ? TEREDO_CLIENT_LINK_LOCAL_CONE : TEREDO_CLIENT_LINK_LOCAL;
  for (let i = 0; i < 16; i++) if (dst[i] !== expectedDst[i]) return DROP['ra-bad-destination'];
  let prefixes = 0;
  let prefixProblem = -1;
  for (const o of ra.options) {
    if (o.kind === 'prefix-info') {
      prefixes++;
      if (o.prefixLength !== TEREDO_CLIENT_PREFIX_LEN) prefixProblem = DROP['ra-prefix-bad-length'];
      else if (!isServerPrefix(o.prefix, prefixServer)) prefixProblem = DROP['ra-prefix-not-server'];
    } else if (o.kind === 'raw' && o.type === NDISC_OPTION.PREFIX_INFO) {
      // A PIO whose length is not 4 units (RFC 4861 §4.6.2): the codec keeps it raw.
      prefixes++;
      prefixProblem = DROP['ra-prefix-bad-length'];
    } else if (o.kind === 'mtu' && (o.mtu < MTU_MIN || o.mtu > MTU_MAX)) {
      return DROP['ra-bad-mtu'];
    }
  }
  if (prefixes !== 1) return DROP['ra-not-one-prefix'];
  return prefixProblem;
}

/** 2001:0000:<server>::/64 with the interface-id half ignored (a PIO's host bits carry no meaning). */
function isServerPrefix(prefix: Uint8Array, server: number): boolean {
  return isTeredo(prefix) && teredoServerAt(prefix) === server;
}
