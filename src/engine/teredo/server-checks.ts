// RFC 4380 §5.3.1: the validity checks a Teredo server applies to every datagram received on port 3544, in the
// RFC's order (cases 1 to 7), plus the address predicates they rely on. The result is either a counted drop or
// an accepted packet, already split into its Teredo headers and IPv6 header, and marked "local" when it is
// addressed to the server itself (ff02::2 or the server's link-local address) rather than to be forwarded.
//
//   own address:3544 source? ──► drop (routing loop)
//   1 well-formed Teredo IPv6 packet?        no ──► drop        (MUST)
//   2 bubble or ICMPv6?                      no ──► drop        (SHOULD; we do not act as a relay here)
//   3 IPv4 source global unicast?            no ──► drop        (MUST)
//   4 link-local src, dst ff02::2, RS        ──► accept        (MUST; secure qualification not offered)
//   5 Teredo src whose mapping = IPv4 source ──► accept        (SHOULD)
//   6 non-Teredo src, dst one of our clients ──► accept        (SHOULD)
//   7 anything else                          ──► drop          (MUST)
//
// Miredo checks the loop after acceptance; we check it first because it is the cheapest test and a looping
// datagram should never reach the parser. The counted reason is the same either way for a well-formed loop.

import { WireError } from '../../wire/errors.js';
import { decodeIpv6, NEXT_HEADER, type DecodedIpv6 } from '../../wire/ipv6.js';
import { ALL_ROUTERS, ipv6Equal, isLinkLocal6, isMulticast6 } from '../../wire/ipv6-address.js';
import { ICMPV6_TYPE } from '../../wire/icmpv6.js';
import { decodeTeredoAddress, isTeredo } from '../../wire/teredo-address.js';
import { TEREDO_PORT } from '../../wire/teredo-constants.js';
import { decodeTeredoPayload, isBubble, type DecodedTeredoPayload } from '../../wire/teredo-packet.js';
import type { Endpoint4 } from '../types.js';
import { drop, type ServerConfig, type ServerDrop, type UdpInput } from './server-types.js';

/** A datagram that passed §5.3.1: its Teredo headers, its IPv6 header, and where it goes. */
export interface AcceptedDatagram {
  readonly kind: 'accepted';
  readonly payload: DecodedTeredoPayload;
  readonly ip: DecodedIpv6;
  /** Addressed to the server itself (ff02::2 or its link-local address): processed locally, never forwarded. */
  readonly local: boolean;
}

export function checkDatagram(cfg: ServerConfig, input: UdpInput): AcceptedDatagram | ServerDrop {
  const { from } = input;
  if (isOwnTeredoEndpoint(cfg, from)) return drop('server-loop-own-address');

  // Case 1: a well-formed Teredo IPv6 packet (§5.1.1). Trailing bytes are RFC 6081 trailers, not an error.
  let payload: DecodedTeredoPayload;
  let ip: DecodedIpv6;
  try {
    payload = decodeTeredoPayload(input.bytes);
    ip = decodeIpv6(payload.ipv6);
  } catch (err) {
    if (err instanceof WireError) return drop('server-case-1-not-teredo-ipv6');
    throw err;
  }
  const { src, dst, nextHeader } = ip.header;

  // Case 2: only bubbles and ICMPv6 go through a server (a server that is also a relay would take the rest).
  if (nextHeader !== NEXT_HEADER.ICMPV6 && !isBubble(payload.ipv6)) return drop('server-case-2-not-icmpv6-or-bubble');

  // Case 3: the IPv4 source must be global unicast (§5.2.4), or nothing can be sent back to it. Port 0 cannot
  // be answered either; the RFC does not name it, but it is never a real NAT mapping.
  if (!cfg.acceptable4(from.addr)) return drop('server-case-3-source-not-global');
  if (from.port === 0) return drop('server-case-3-source-port-zero');

  const accept = (): AcceptedDatagram => ({ kind: 'accepted', payload, ip, local: ipv6Equal(dst, ALL_ROUTERS) || ipv6Equal(dst, cfg.linkLocal) });

  // Case 4: a Router Solicitation from a link-local source to all-routers. Its own validity (RFC 4861
  // §6.1.1) is checked when it is processed, so a broken RS is counted under its own reason.
  if (isLinkLocal6(src) && ipv6Equal(dst, ALL_ROUTERS) && nextHeader === NEXT_HEADER.ICMPV6 && ip.payload[0] === ICMPV6_TYPE.ROUTER_SOLICIT) {
    return accept();
  }

  if (isTeredo(src)) {
    // Case 5: the Teredo source must embed exactly the mapping the datagram came from; otherwise someone is
    // using another client's address (spoofing), and the MUST of case 7 applies.
    return mappingMatches(src, from) ? accept() : drop('server-case-7-spoofed-teredo-source');
  }
  // Case 6: a non-Teredo source (a relay, a native host) may only reach this server's own clients.
  if (isOurClient(cfg, dst)) return accept();
  // Case 7.
  return drop('server-case-7-destination-not-our-client');
}

/** A datagram from (or to) one of our own sockets: forwarding it would loop between our two addresses. */
export function isOwnTeredoEndpoint(cfg: ServerConfig, ep: Endpoint4): boolean {
  return ep.port === TEREDO_PORT && (ep.addr === cfg.primary || ep.addr === cfg.secondary);
}

/** True when `addr` is a Teredo address allocated through this server (bits 32-63 = our primary address). */
export function isOurClient(cfg: ServerConfig, addr: Uint8Array): boolean {
  for (let i = 0; i < 8; i++) if (addr[i] !== cfg.prefix[i]) return false;
  return true;
}

function mappingMatches(teredoAddr: Uint8Array, from: Endpoint4): boolean {
  const t = decodeTeredoAddress(teredoAddr);
  return t.mappedAddr === from.addr && t.mappedPort === from.port;
}

/**
 * RFC 4291 §2.4: may this IPv6 destination be forwarded? Not the unspecified or loopback address, not link-local
 * (fe80::/10), not multicast; also not deprecated site-local (fec0::/10, RFC 3879) and not IPv4-mapped
 * (::ffff:0:0/96, never valid on the wire). Miredo tests the first four.
 */
export function isGlobalUnicast6(a: Uint8Array): boolean {
  if (isMulticast6(a) || isLinkLocal6(a)) return false;
  if (a[0] === 0xfe && (a[1]! & 0xc0) === 0xc0) return false;
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return true;
  if (a[10] === 0xff && a[11] === 0xff) return false;
  if (a[10] !== 0 || a[11] !== 0 || a[12] !== 0 || a[13] !== 0 || a[14] !== 0) return true;
  return a[15]! > 1; // :: and ::1
}

/**
 * The relaxed test of --allow-non-global: any unicast IPv4 address. Still refused: 0.0.0.0/8 ("this network"),
 * 127.0.0.0/8 (loopback), 224.0.0.0/4 (multicast), 240.0.0.0/4 (reserved) and the limited broadcast.
 */
export function isUnicast4(addr: number): boolean {
  const first = addr >>> 24;
  return first !== 0 && first !== 127 && first < 224;
}
