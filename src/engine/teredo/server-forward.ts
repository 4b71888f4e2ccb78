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

import { IPV6_FIELD, IPV6_HEADER_LEN, NEXT_HEADER } from '../../wire/ipv6.js';
import { isGlobalUnicast6, isLinkLocal6, isMulticast6, isUnspecified6 } from '../../wire/ipv6-address.js';
import { isTeredo, teredoMappedAddrAt, teredoMappedPortAt } from '../../wire/teredo-address.js';
import { TEREDO_ORIGIN_LEN } from '../../wire/teredo-packet.js';
import type { TeredoPacketView } from '../../wire/teredo-view.js';
import { acceptable4, isOurClient, isOwnTeredoEndpoint } from './server-checks.js';
import type { ServerCounters } from './server-counters.js';
import { SERVER_DROP, SERVER_SOCKET, type ServerConfig, type ServerSink } from './server-types.js';

const PRIMARY = SERVER_SOCKET.primary;

/**
 * An accepted datagram for someone else (view filled by checkDatagram): to a Teredo mapping over UDP, or to the
 * native side. With an origin indication to insert, the datagram is assembled in `scratch` (>= 65535 + 8
 * bytes, owned by the engine); otherwise the received tail is sent as it is. Allocation-free.
 */
export function forwardDatagram(cfg: ServerConfig, view: TeredoPacketView, fromAddr: number, fromPort: number, scratch: Uint8Array, counters: ServerCounters, sink: ServerSink): void {
  const data = view.data;
  const dst = view.dstOffset;
  if (!isGlobalUnicast6(data, dst)) return sink.drop(SERVER_DROP['server-destination-not-global']);
  if (!view.isBubble && view.payloadLength > cfg.forwardIcmpv6MaxPayload) return sink.drop(SERVER_DROP['server-forward-too-big']);

  if (!isTeredo(data, dst)) {
    if (!cfg.nativeForwarding) return sink.drop(SERVER_DROP['server-no-native-forwarding']);
    counters.native++;
    return sink.writeNative(data, view.ipv6Offset, view.ipv6Length);
  }
  const toAddr = teredoMappedAddrAt(data, dst);
  const toPort = teredoMappedPortAt(data, dst);
  if (!acceptable4(cfg, toAddr)) return sink.drop(SERVER_DROP['server-teredo-destination-not-global']);
  if (toPort === 0) return sink.drop(SERVER_DROP['server-teredo-destination-port-zero']);
  if (isOwnTeredoEndpoint(cfg, toAddr, toPort)) return sink.drop(SERVER_DROP['server-loop-own-address']);

  counters.teredo++;
  // The IPv6 packet and its trailers are contiguous at the end of the received payload.
  const tail = view.end - view.ipv6Offset;
  if (!isOurClient(cfg, data, dst)) return sink.sendUdp(PRIMARY, data, view.ipv6Offset, tail, toAddr, toPort);
  counters.withOrigin++;
  const port = fromPort ^ 0xffff;
  const addr = ~fromAddr;
  scratch[0] = 0;
  scratch[1] = 0;
  scratch[2] = port >>> 8;
  scratch[3] = port & 0xff;
  scratch[4] = addr >>> 24;
  scratch[5] = (addr >>> 16) & 0xff;
  scratch[6] = (addr >>> 8) & 0xff;
  scratch[7] = addr & 0xff;
  for (let i = 0; i < tail; i++) scratch[TEREDO_ORIGIN_LEN + i] = data[view.ipv6Offset + i]!;
  sink.sendUdp(PRIMARY, scratch, 0, TEREDO_ORIGIN_LEN + tail, toAddr, toPort);
}

/** A native IPv6 packet data[offset .. offset + length) from the TUN device, for one of this server's clients. */
export function forwardFromTun(cfg: ServerConfig, data: Uint8Array, offset: number, length: number, counters: ServerCounters, sink: ServerSink): void {
  // The device hands over exactly one packet: version 6 and a length field that matches.
  if (length < IPV6_HEADER_LEN || data[offset]! >>> 4 !== 6) return sink.drop(SERVER_DROP['server-tun-malformed']);
  const payloadLength = (data[offset + IPV6_FIELD.PAYLOAD_LENGTH]! << 8) | data[offset + IPV6_FIELD.PAYLOAD_LENGTH + 1]!;
  if (IPV6_HEADER_LEN + payloadLength !== length) return sink.drop(SERVER_DROP['server-tun-malformed']);
  const src = offset + IPV6_FIELD.SRC;
  const dst = offset + IPV6_FIELD.DST;
  // The kernel's own link chatter on the device (MLD reports, Router Solicitations from its link-local
  // address): never for a client, counted apart so it does not hide real drops.
  if (isLinkLocal6(data, src) || isMulticast6(data, dst) || isUnspecified6(data, src)) return sink.drop(SERVER_DROP['server-tun-link-scope']);
  const nextHeader = data[offset + IPV6_FIELD.NEXT_HEADER];
  const bubble = payloadLength === 0 && nextHeader === NEXT_HEADER.NO_NEXT;
  if (nextHeader !== NEXT_HEADER.ICMPV6 && !bubble) return sink.drop(SERVER_DROP['server-tun-not-icmpv6-or-bubble']);
  if (!bubble && payloadLength > cfg.forwardIcmpv6MaxPayload) return sink.drop(SERVER_DROP['server-tun-too-big']);
  // A Teredo source here would be a Teredo packet coming back in through the native side: a loop or a spoof.
  if (!isGlobalUnicast6(data, src) || isTeredo(data, src)) return sink.drop(SERVER_DROP['server-tun-source-not-native-global']);
  if (!isOurClient(cfg, data, dst)) return sink.drop(SERVER_DROP['server-tun-destination-not-our-client']);
  const toAddr = teredoMappedAddrAt(data, dst);
  const toPort = teredoMappedPortAt(data, dst);
  if (!acceptable4(cfg, toAddr)) return sink.drop(SERVER_DROP['server-tun-destination-not-global']);
  if (toPort === 0) return sink.drop(SERVER_DROP['server-tun-destination-port-zero']);
  if (isOwnTeredoEndpoint(cfg, toAddr, toPort)) return sink.drop(SERVER_DROP['server-loop-own-address']);
  counters.fromTun++;
  sink.sendUdp(PRIMARY, data, offset, length, toAddr, toPort);
}
