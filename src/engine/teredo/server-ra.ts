// RFC 4380 §5.3.2: a Teredo server answers a Router Solicitation with a Router Advertisement that tells the
// client its mapping and its prefix. The RS is first checked as RFC 4861 §6.1.1 asks of any router (hop limit
// 255, code 0, a valid checksum, options that parse); Miredo skips these checks, we count each failure.
//
//   UDP payload of the RA = [authentication header echoing the RS nonce, confirmation 0]   if the RS had one
//                         + origin indication = the RS's IPv4 source and UDP port (the client's mapping)
//                         + IPv6 fe80::8000:f227:<~primary> -> the RS source, hop limit 255
//                           + RA: cur hop limit 0, flags 0, router lifetime 0, reachable 0, retrans 2000 ms
//                             + Prefix Information 2001:0:<primary>::/64, A flag, lifetimes infinite
//                             + MTU option (1280 unless configured higher)
//
// Sent to the RS's IPv4 source and port, from the socket it arrived on, or from the other one when the RS
// source address carries the cone bit (the client is testing whether its NAT is a cone NAT, §5.2.1).
//
// The fields are Miredo's (libteredo/server.c SendRA), so our RA is byte for byte the one a Miredo server
// sends (test/engine/teredo-server-ra.test.ts compares against a capture):
// - router lifetime 0: the server is not the client's default router; a client reaches native IPv6 through
//   relays, and Teredo peers directly (§5.2.4), never through its server;
// - L (on-link) clear, A set: clients build their address from the prefix but are not on one link, since
//   two clients can only talk after a bubble exchange;
// - retrans timer 2000 ms: Miredo's value; Teredo clients do not run address resolution on the Teredo
//   interface, so it only keeps the bytes identical;
// - client identifier and authentication value empty: secure qualification (§5.2.2, an HMAC over the RA with
//   a shared key) is not offered, so only the nonce is echoed, with confirmation byte 0 ("key still valid").

import { ipv6PseudoHeaderSum, onesSum, onesSumRange } from '../../wire/checksum.js';
import { ICMPV6_FIELD, ICMPV6_TYPE } from '../../wire/icmpv6.js';
import { IPV6_FIELD, IPV6_HEADER_LEN, NEXT_HEADER } from '../../wire/ipv6.js';
import { UNSPECIFIED6 } from '../../wire/ipv6-address.js';
import { NDISC_HOP_LIMIT, encodeNdiscPacket, type RouterAdvert } from '../../wire/ndisc.js';
import { INFINITE_LIFETIME } from '../../wire/ndisc-options.js';
import { TEREDO_FLAG_CONE, teredoFlagsAt, teredoPrefix } from '../../wire/teredo-address.js';
import { TEREDO_AUTH_MIN_LEN, TEREDO_NONCE_LEN, TEREDO_ORIGIN_LEN } from '../../wire/teredo-packet.js';
import type { TeredoPacketView } from '../../wire/teredo-view.js';
import type { ServerCounters } from './server-counters.js';
import { SERVER_DROP, type ServerConfig, type ServerSink, type ServerSocketIndex } from './server-types.js';

/** Miredo's RA retransmission timer, kept for byte-identical RAs (see above). */
export const TEREDO_RA_RETRANS_TIMER_MS = 2000;

/** Teredo prefixes are /64: 32 bits of 2001:0000 and the 32-bit server address (§4). */
const TEREDO_CLIENT_PREFIX_LEN = 64;

/** The RA body this server sends to every client; it only depends on the primary address and the MTU. */
export function teredoRouterAdvert(primary: number, mtu: number): RouterAdvert {
  return {
    kind: 'router-advert',
    curHopLimit: 0,
    managed: false,
    otherConfig: false,
    homeAgent: false,
    preference: 0,
    routerLifetimeSec: 0,
    reachableTimeMs: 0,
    retransTimerMs: TEREDO_RA_RETRANS_TIMER_MS,
    options: [
      {
        kind: 'prefix-info',
        prefixLength: TEREDO_CLIENT_PREFIX_LEN,
        onLink: false,
        autonomous: true,
        routerAddress: false,
        validLifetimeSec: INFINITE_LIFETIME,
        preferredLifetimeSec: INFINITE_LIFETIME,
        prefix: teredoPrefix(primary),
      },
      { kind: 'mtu', mtu },
    ],
  };
}

/**
 * The RA packet (IPv6 header + RA) built once with the codecs, with the destination and the checksum left zero,
 * and the one's-complement sum of everything else the checksum covers (RFC 4443 §2.3: the pseudo-header with
 * source, length and next header, and the message). Per RS, adding the destination's words to `partialSum`
 * gives the checksum: one 16-byte sum instead of encoding and summing the whole packet.
 */
export interface RaTemplate {
  readonly packet: Uint8Array;
  readonly partialSum: number;
}

export function raTemplate(linkLocal: Uint8Array, ra: RouterAdvert): RaTemplate {
  const packet = encodeNdiscPacket({ src: linkLocal, dst: UNSPECIFIED6, hopLimit: NDISC_HOP_LIMIT }, ra);
  const message = packet.subarray(IPV6_HEADER_LEN);
  message[ICMPV6_FIELD.CHECKSUM] = 0;
  message[ICMPV6_FIELD.CHECKSUM + 1] = 0;
  return { packet, partialSum: onesSum(message, ipv6PseudoHeaderSum(linkLocal, UNSPECIFIED6, message.length, NEXT_HEADER.ICMPV6)) };
}

/** Largest RA datagram: auth header with empty ID and value + origin indication + the RA packet (< 200 bytes). */
export function raDatagramCapacity(template: RaTemplate): number {
  return TEREDO_AUTH_MIN_LEN + TEREDO_ORIGIN_LEN + template.packet.length;
}

/**
 * Processes a datagram addressed to the server itself (view filled by checkDatagram): an RS gets its RA, written
 * into `scratch` (at least raDatagramCapacity bytes, owned by the engine) and handed to the sink; anything else
 * is dropped. Allocation-free.
 */
export function answerLocal(cfg: ServerConfig, view: TeredoPacketView, socket: ServerSocketIndex, fromAddr: number, fromPort: number, scratch: Uint8Array, counters: ServerCounters, sink: ServerSink): void {
  const data = view.data;
  const icmp = view.payloadOffset;
  const icmpLength = view.payloadLength;
  if (view.nextHeader !== NEXT_HEADER.ICMPV6 || icmpLength === 0 || data[icmp] !== ICMPV6_TYPE.ROUTER_SOLICIT) return sink.drop(SERVER_DROP['server-local-not-router-solicitation']);
  // RFC 4861 §6.1.1: ICMP length >= 8, hop limit 255 (proof it was not routed), code 0, valid checksum,
  // every option with a non-zero length that fits.
  if (icmpLength < 8) return sink.drop(SERVER_DROP['server-rs-truncated']);
  if (view.hopLimit !== NDISC_HOP_LIMIT) return sink.drop(SERVER_DROP['server-rs-hop-limit-not-255']);
  if (data[icmp + 1] !== 0) return sink.drop(SERVER_DROP['server-rs-code-not-0']);
  if (!checksumValid(view)) return sink.drop(SERVER_DROP['server-rs-bad-checksum']);
  // Windows XP puts a (dummy) link-layer option in its RS; Vista and later send none. Any well-formed set is fine.
  if (!optionsWellFormed(data, icmp + 8, icmp + icmpLength)) return sink.drop(SERVER_DROP['server-rs-bad-options']);

  let at = 0;
  if (view.nonceOffset >= 0) {
    // Authentication header echoing the nonce: no client ID, no auth value, confirmation 0 (§5.2.2).
    scratch[0] = 0;
    scratch[1] = 1;
    scratch[2] = 0;
    scratch[3] = 0;
    for (let i = 0; i < TEREDO_NONCE_LEN; i++) scratch[4 + i] = data[view.nonceOffset + i]!;
    scratch[4 + TEREDO_NONCE_LEN] = 0;
    at = TEREDO_AUTH_MIN_LEN;
  }
  // Origin indication: the RS's IPv4 source and port, obfuscated (§5.1.1).
  const port = fromPort ^ 0xffff;
  const addr = ~fromAddr;
  scratch[at] = 0;
  scratch[at + 1] = 0;
  scratch[at + 2] = port >>> 8;
  scratch[at + 3] = port & 0xff;
  scratch[at + 4] = addr >>> 24;
  scratch[at + 5] = (addr >>> 16) & 0xff;
  scratch[at + 6] = (addr >>> 8) & 0xff;
  scratch[at + 7] = addr & 0xff;
  at += TEREDO_ORIGIN_LEN;
  // Only the destination (the RS source) and the checksum differ between two RAs: patch them into the template.
  const { packet, partialSum } = cfg.raTemplate;
  scratch.set(packet, at);
  const src = view.srcOffset;
  for (let i = 0; i < 16; i++) scratch[at + IPV6_FIELD.DST + i] = data[src + i]!;
  const checksum = ~onesSumRange(data, src, src + 16, partialSum) & 0xffff;
  scratch[at + IPV6_HEADER_LEN + ICMPV6_FIELD.CHECKSUM] = checksum >> 8;
  scratch[at + IPV6_HEADER_LEN + ICMPV6_FIELD.CHECKSUM + 1] = checksum & 0xff;
  const length = at + packet.length;

  // A cone-bit RS source asks for the RA from the other address (§5.2.1 cone test, §5.3.2).
  const via: ServerSocketIndex = (teredoFlagsAt(data, src) & TEREDO_FLAG_CONE) !== 0 ? (socket === 0 ? 1 : 0) : socket;
  counters.countRa(socket, via, view.nonceOffset >= 0);
  sink.sendUdp(via, scratch, 0, length, fromAddr, fromPort);
}

/** RFC 4443 §2.3 over the RS in place: pseudo-header (src, dst, length, 58) + message must sum to 0xffff. */
function checksumValid(view: TeredoPacketView): boolean {
  const data = view.data;
  let sum = onesSumRange(data, view.srcOffset, view.srcOffset + 32);
  const length = view.payloadLength;
  sum += (length >>> 16) + (length & 0xffff) + NEXT_HEADER.ICMPV6;
  sum = onesSumRange(data, view.payloadOffset, view.payloadOffset + length, sum);
  return sum === 0xffff;
}

/** RFC 4861 §4.6: every option has a non-zero length (in units of 8 bytes) and ends within the message. */
function optionsWellFormed(data: Uint8Array, start: number, end: number): boolean {
  let at = start;
  while (at < end) {
    if (at + 2 > end) return false;
    const units = data[at + 1]!;
    if (units === 0) return false;
    at += units * 8;
  }
  return at === end;
}
