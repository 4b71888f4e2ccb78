// RFC 4380 §5.3.1: the validity checks a Teredo server applies to every datagram received on port 3544, in the
// RFC's order (cases 1 to 7), plus the address predicates they rely on. The result is either a drop reason or
// a verdict, with the packet's parts located in a TeredoPacketView: "local" when it is addressed to the server
// itself (ff02::2 or the server's link-local address), "forward" otherwise.
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
// Everything here reads the received bytes in place through a TeredoPacketView: no exceptions, no allocation,
// so a flood of junk costs a few comparisons per datagram.

import { ICMPV6_TYPE } from '../../../wire/icmpv6.js';
import { ALL_ROUTERS, ipv6Equal, isLinkLocal6 } from '../../../wire/ipv6-address.js';
import { NEXT_HEADER } from '../../../wire/ipv6.js';
import { isGlobalUnicast4, isUnicast4 } from '../../../wire/ipv4.js';
import { isTeredo, teredoEmbeds } from '../../../wire/teredo-address.js';
import { TEREDO_PORT } from '../../../wire/teredo-constants.js';
import { checkTeredoPayload, type TeredoPacketView } from '../../../wire/teredo-view.js';
import { SERVER_DROP, type ServerConfig } from './server-types.js';

/** checkDatagram's verdicts besides a drop reason (which is >= 0): addressed to the server, or to forward. */
export const ACCEPT_LOCAL = -1;
export const ACCEPT_FORWARD = -2;

/**
 * §5.3.1 for the datagram data[offset .. offset + length) from fromAddr:fromPort. Fills `view` (the packet's
 * parts) and returns ACCEPT_LOCAL (ff02::2 or our link-local: processed by server-ra.ts), ACCEPT_FORWARD, or a
 * SERVER_DROP reason index. Allocation-free, never throws.
 */
export function checkDatagram(cfg: ServerConfig, view: TeredoPacketView, data: Uint8Array, offset: number, length: number, fromAddr: number, fromPort: number): number {
  if (isOwnTeredoEndpoint(cfg, fromAddr, fromPort)) return SERVER_DROP['server-loop-own-address'];

  // Case 1: a well-formed Teredo IPv6 packet (§5.1.1). Trailing bytes are RFC 6081 trailers, not an error.
  if (checkTeredoPayload(view, data, offset, length) < 0) return SERVER_DROP['server-case-1-not-teredo-ipv6'];
  const nextHeader = view.nextHeader;

  // Case 2: only bubbles and ICMPv6 go through a server (a server that is also a relay would take the rest).
  if (nextHeader !== NEXT_HEADER.ICMPV6 && !view.isBubble) return SERVER_DROP['server-case-2-not-icmpv6-or-bubble'];

  // Case 3: the IPv4 source must be global unicast (§5.2.4), or nothing can be sent back to it. Port 0 cannot
  // be answered either; the RFC does not name it, but it is never a real NAT mapping.
  if (!acceptable4(cfg, fromAddr)) return SERVER_DROP['server-case-3-source-not-global'];
  if (fromPort === 0) return SERVER_DROP['server-case-3-source-port-zero'];

  const src = view.srcOffset;
  const dst = view.dstOffset;
  const toAllRouters = ipv6Equal(data, ALL_ROUTERS, dst);
  const verdict = toAllRouters || ipv6Equal(data, cfg.linkLocal, dst) ? ACCEPT_LOCAL : ACCEPT_FORWARD;

  // Case 4: a Router Solicitation from a link-local source to all-routers. Its own validity (RFC 4861
  // §6.1.1) is checked when it is processed, so a broken RS is counted under its own reason.
  if (toAllRouters && isLinkLocal6(data, src) && nextHeader === NEXT_HEADER.ICMPV6 && view.payloadLength > 0 && data[view.payloadOffset] === ICMPV6_TYPE.ROUTER_SOLICIT) {
    return verdict;
  }
  if (isTeredo(data, src)) {
    // Case 5: the Teredo source must embed exactly the mapping the datagram came from; otherwise someone is
    // using another client's address (spoofing), and the MUST of case 7 applies.
    return teredoEmbeds(data, src, fromAddr, fromPort) ? verdict : SERVER_DROP['server-case-7-spoofed-teredo-source'];
  }
  // Case 6: a non-Teredo source (a relay, a native host) may only reach this server's own clients.
  if (isOurClient(cfg, data, dst)) return verdict;
  // Case 7.
  return SERVER_DROP['server-case-7-destination-not-our-client'];
}

/** The §5.2.4 test applied to IPv4 sources and embedded mappings (any unicast with allowNonGlobal). */
export function acceptable4(cfg: ServerConfig, addr: number): boolean {
  return cfg.allowNonGlobal ? isUnicast4(addr) : isGlobalUnicast4(addr);
}

/** A datagram from (or to) one of our own sockets: forwarding it would loop between our two addresses. */
export function isOwnTeredoEndpoint(cfg: ServerConfig, addr: number, port: number): boolean {
  return port === TEREDO_PORT && (addr === cfg.primary || addr === cfg.secondary);
}

/** True when the address at `offset` is a Teredo address allocated through this server (bits 32-63 = our primary). */
export function isOurClient(cfg: ServerConfig, data: Uint8Array, offset: number): boolean {
  for (let i = 0; i < 8; i++) if (data[offset + i] !== cfg.prefix[i]) return false;
  return true;
}
