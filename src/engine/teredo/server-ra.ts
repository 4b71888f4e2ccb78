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

import { WireError } from '../../wire/errors.js';
import { ipv6PseudoHeaderSum, onesSum } from '../../wire/checksum.js';
import { ICMPV6_FIELD, ICMPV6_TYPE, verifyIcmpv6Checksum } from '../../wire/icmpv6.js';
import { IPV6_FIELD, IPV6_HEADER_LEN, NEXT_HEADER } from '../../wire/ipv6.js';
import { UNSPECIFIED6 } from '../../wire/ipv6-address.js';
import { NDISC_HOP_LIMIT, encodeNdiscPacket, type RouterAdvert } from '../../wire/ndisc.js';
import { INFINITE_LIFETIME, decodeNdiscOptions } from '../../wire/ndisc-options.js';
import { ipv4ToBytes } from '../../wire/ipv4.js';
import { TEREDO_FLAG_CONE, TEREDO_PREFIX, readTeredoFlags } from '../../wire/teredo-address.js';
import { encodeTeredoPayload, type TeredoAuth } from '../../wire/teredo-packet.js';
import type { AcceptedDatagram } from './server-checks.js';
import { drop, type RaOutput, type ServerConfig, type ServerDrop, type ServerSocket, type UdpInput } from './server-types.js';

/** Miredo's RA retransmission timer, kept for byte-identical RAs (see above). */
export const TEREDO_RA_RETRANS_TIMER_MS = 2000;

/** Teredo prefixes are /64: 32 bits of 2001:0000 and the 32-bit server address (§4). */
const TEREDO_CLIENT_PREFIX_LEN = 64;

const EMPTY = new Uint8Array(0);

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
        prefix: teredoPrefixOf(primary),
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

/** 2001:0:<server>::, the /64 prefix of a server's clients, as a 16-byte address. */
export function teredoPrefixOf(server: number): Uint8Array {
  const prefix = new Uint8Array(16);
  prefix.set(TEREDO_PREFIX.subarray(0, 4), 0);
  ipv4ToBytes(server, prefix, 4);
  return prefix;
}

/** Processes a datagram addressed to the server itself: an RS gets its RA, anything else is dropped. */
export function answerLocal(cfg: ServerConfig, input: UdpInput, accepted: AcceptedDatagram): RaOutput | ServerDrop {
  const { ip, payload } = accepted;
  const icmp = ip.payload;
  if (ip.header.nextHeader !== NEXT_HEADER.ICMPV6 || icmp[0] !== ICMPV6_TYPE.ROUTER_SOLICIT) return drop('server-local-not-router-solicitation');
  // RFC 4861 §6.1.1: ICMP length >= 8, hop limit 255 (proof it was not routed), code 0, valid checksum,
  // every option with a non-zero length that fits.
  if (icmp.length < 8) return drop('server-rs-truncated');
  if (ip.header.hopLimit !== NDISC_HOP_LIMIT) return drop('server-rs-hop-limit-not-255');
  if (icmp[1] !== 0) return drop('server-rs-code-not-0');
  if (!verifyIcmpv6Checksum(icmp, ip.header)) return drop('server-rs-bad-checksum');
  try {
    // Windows XP puts a (dummy) link-layer option in its RS; Vista and later send none. Any valid set is fine.
    decodeNdiscOptions(icmp.subarray(8));
  } catch (err) {
    if (err instanceof WireError) return drop('server-rs-bad-options');
    throw err;
  }

  const rsSource = ip.header.src;
  const auth: TeredoAuth | undefined = payload.auth === undefined ? undefined : { clientId: EMPTY, authValue: EMPTY, nonce: payload.auth.nonce, confirmation: 0 };
  const { packet, partialSum } = cfg.raTemplate;
  const bytes = encodeTeredoPayload({ auth, origin: input.from, ipv6: packet });
  // Only the destination (the RS source) and the checksum differ between two RAs: patch them in.
  const at = bytes.length - packet.length;
  bytes.set(rsSource, at + IPV6_FIELD.DST);
  const checksum = ~onesSum(rsSource, partialSum) & 0xffff;
  bytes[at + IPV6_HEADER_LEN + ICMPV6_FIELD.CHECKSUM] = checksum >> 8;
  bytes[at + IPV6_HEADER_LEN + ICMPV6_FIELD.CHECKSUM + 1] = checksum & 0xff;
  const cone = (readTeredoFlags(rsSource) & TEREDO_FLAG_CONE) !== 0;
  return { kind: 'send-udp', purpose: 'ra', via: cone ? other(input.local) : input.local, to: input.from, bytes, receivedOn: input.local, nonce: auth !== undefined };
}

function other(s: ServerSocket): ServerSocket {
  return s === 'primary' ? 'secondary' : 'primary';
}
