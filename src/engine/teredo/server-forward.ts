// RFC 4380 §5.3.1, second half: what a Teredo server does with an accepted packet that is not addressed to
// itself, and with native IPv6 packets the TUN device hands it for its clients.
//
//   accepted datagram ─► destination global unicast?         no ─► drop (MUST NOT forward)
//                        bubble, or ICMPv6 within the limit? no ─► drop (Miredo's deliberate deviation)
//                        Teredo destination? ─ yes ─► embedded IPv4 global unicast, port non-zero? no ─► drop
//                             │                       send from primary:3544 to the embedded mapping, with an
//                             │                       origin indication (the datagram's IPv4 source and port)
//                             │                       when the destination is one of this server's clients
//                             └ no ──► write to the TUN device (the kernel routes it to the native network),
//                                      or drop if no TUN device is configured
//
//   TUN packet ─► well-formed, bubble or small ICMPv6, native global source, destination one of our clients
//                 whose embedded mapping is global ─► send from primary:3544 to that mapping, no origin indication
//                 (the packet has no IPv4 origin). Our clients keep their NAT mapping toward primary:3544 open with
//                 their periodic RSs, so this path needs no per-client state even behind restricted NATs.
//
// The size limit: the RFC forwards any ICMPv6 packet. Like Miredo we forward only bubbles and ICMPv6 packets
// with an IPv6 payload of at most `forwardIcmpv6MaxPayload` bytes (88 by default): enough for the direct IPv6
// connectivity test (§5.2.9) and for Miredo's hashed pings, not enough to make the server a free relay for
// application traffic. A conformant client never sends bigger packets through its server.
//
// RFC 6081 trailers (the bytes after the IPv6 packet in the UDP payload) are forwarded untouched: the datagram
// we send is the received IPv6 packet and everything after it, behind our own origin indication if any. An
// authentication header or origin indication that came in is not forwarded: both only ever concern the hop
// between a client and its server.

import { WireError } from '../../wire/errors.js';
import { decodeIpv6, NEXT_HEADER, type DecodedIpv6 } from '../../wire/ipv6.js';
import { UNSPECIFIED6, ipv6Equal, isLinkLocal6, isMulticast6 } from '../../wire/ipv6-address.js';
import { decodeTeredoAddress, isTeredo } from '../../wire/teredo-address.js';
import { encodeTeredoPayload, isBubble } from '../../wire/teredo-packet.js';
import type { Endpoint4 } from '../types.js';
import { isGlobalUnicast6, isOurClient, isOwnTeredoEndpoint, type AcceptedDatagram } from './server-checks.js';
import { drop, type ForwardOutput, type ServerConfig, type ServerDrop, type TunInput, type UdpInput, type WriteTunOutput } from './server-types.js';

/** An accepted datagram for someone else: to a Teredo mapping over UDP, or to the native side through the TUN. */
export function forwardDatagram(cfg: ServerConfig, input: UdpInput, accepted: AcceptedDatagram): ForwardOutput | WriteTunOutput | ServerDrop {
  const { ip, payload } = accepted;
  const dst = ip.header.dst;
  if (!isGlobalUnicast6(dst)) return drop('server-destination-not-global');
  if (!isBubble(payload.ipv6) && ip.payloadLength > cfg.forwardIcmpv6MaxPayload) return drop('server-forward-too-big');

  if (!isTeredo(dst)) {
    if (!cfg.nativeForwarding) return drop('server-no-native-forwarding');
    return { kind: 'write-tun', bytes: payload.ipv6 };
  }
  const to = embeddedMapping(dst);
  if (!cfg.acceptable4(to.addr)) return drop('server-teredo-destination-not-global');
  if (to.port === 0) return drop('server-teredo-destination-port-zero');
  if (isOwnTeredoEndpoint(cfg, to)) return drop('server-loop-own-address');

  const origin = isOurClient(cfg, dst);
  // The IPv6 packet and its trailers are contiguous at the end of the received payload: without an origin
  // indication to insert, the datagram to send is simply that tail (no copy).
  const bytes = origin
    ? encodeTeredoPayload({ origin: input.from, ipv6: payload.ipv6, trailer: payload.trailer })
    : input.bytes.subarray(payload.ipv6.byteOffset - input.bytes.byteOffset);
  return { kind: 'send-udp', purpose: 'forward', via: 'primary', to, bytes, origin, fromTun: false };
}

/** A native IPv6 packet from the TUN device, for one of this server's clients. */
export function forwardFromTun(cfg: ServerConfig, input: TunInput): ForwardOutput | ServerDrop {
  let ip: DecodedIpv6;
  try {
    ip = decodeIpv6(input.bytes);
  } catch (err) {
    if (err instanceof WireError) return drop('server-tun-malformed');
    throw err;
  }
  // The device hands over exactly one packet; extra bytes mean the length field lies.
  if (ip.trailer.length !== 0) return drop('server-tun-malformed');
  const { src, dst } = ip.header;
  // The kernel's own link chatter on the device (MLD reports, Router Solicitations from its link-local
  // address): never for a client, counted apart so it does not hide real drops.
  if (isLinkLocal6(src) || isMulticast6(dst) || ipv6Equal(src, UNSPECIFIED6)) return drop('server-tun-link-scope');
  const bubble = isBubble(input.bytes);
  if (ip.header.nextHeader !== NEXT_HEADER.ICMPV6 && !bubble) return drop('server-tun-not-icmpv6-or-bubble');
  if (!bubble && ip.payloadLength > cfg.forwardIcmpv6MaxPayload) return drop('server-tun-too-big');
  // A Teredo source here would be a Teredo packet coming back in through the native side: a loop or a spoof.
  if (!isGlobalUnicast6(src) || isTeredo(src)) return drop('server-tun-source-not-native-global');
  if (!isOurClient(cfg, dst)) return drop('server-tun-destination-not-our-client');
  const to = embeddedMapping(dst);
  if (!cfg.acceptable4(to.addr)) return drop('server-tun-destination-not-global');
  if (to.port === 0) return drop('server-tun-destination-port-zero');
  if (isOwnTeredoEndpoint(cfg, to)) return drop('server-loop-own-address');
  return { kind: 'send-udp', purpose: 'forward', via: 'primary', to, bytes: input.bytes, origin: false, fromTun: true };
}

function embeddedMapping(teredoAddr: Uint8Array): Endpoint4 {
  const t = decodeTeredoAddress(teredoAddr);
  return { addr: t.mappedAddr, port: t.mappedPort };
}
