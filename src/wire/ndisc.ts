// Neighbor Discovery message bodies (RFC 4861 §4.1-§4.4): Router Solicitation, Router Advertisement (with the
// RFC 4191 §2.2 preference bits), Neighbor Solicitation and Neighbor Advertisement, each followed by options
// (ndisc-options.ts). Redirect (§4.5) is not implemented; it stays a generic ICMPv6 message.
//
// A body is the ICMPv6 message after type, code and checksum (icmpv6.ts). decodeNdisc takes the generic message
// that decodeIcmpv6 / decodeIcmpv6Packet return; encodeNdisc writes only the body, and encodeNdiscPacket builds
// IPv6 header, ICMPv6 header, body and checksum in one buffer (the per-RS path of the Teredo server).
//
// The codec checks structure only. The validity rules of §6.1.1, §6.1.2, §7.1.1 and §7.1.2 (hop limit 255,
// code 0, source address rules) are for the engines, which turn them into drop reasons. Reserved fields and
// flag bits this codec does not name (e.g. the RA Proxy bit, RFC 4389) are ignored on decode and sent as zero.

import { WireError } from './errors.js';
import { ICMPV6_TYPE, encodeIcmpv6PacketHead, fillIcmpv6PacketChecksum, icmpv6PacketEncodedLength, type Icmpv6Message, type Icmpv6PacketParams } from './icmpv6.js';
import { checkUint, decodeNdiscOptions, ndiscOptionsEncodedLength, putU32, u32, writeNdiscOptions, type NdiscOption, type RoutePreference } from './ndisc-options.js';

/** RFC 4861 §6.1, §7.1: ND messages are sent, and must arrive, with hop limit 255 (proof they were not routed). */
export const NDISC_HOP_LIMIT = 255;

/** Router Advertisement flag bits (RFC 4861 §4.2, RFC 3775 §7.1 for H, RFC 4191 §2.2 for Prf). */
export const RA_FLAG = { MANAGED: 0x80, OTHER_CONFIG: 0x40, HOME_AGENT: 0x20, PREFERENCE_MASK: 0x18 } as const;

/** Neighbor Advertisement flag bits (RFC 4861 §4.4). */
export const NA_FLAG = { ROUTER: 0x80, SOLICITED: 0x40, OVERRIDE: 0x20 } as const;

export interface RouterSolicit {
  kind: 'router-solicit';
  options: NdiscOption[];
}

export interface RouterAdvert {
  kind: 'router-advert';
  curHopLimit: number; // 0 = unspecified
  managed: boolean; // M
  otherConfig: boolean; // O
  homeAgent: boolean; // H
  preference: RoutePreference; // Prf, ROUTE_PREFERENCE
  routerLifetimeSec: number; // 0 = not a default router
  reachableTimeMs: number; // 0 = unspecified
  retransTimerMs: number; // 0 = unspecified
  options: NdiscOption[];
}

export interface NeighborSolicit {
  kind: 'neighbor-solicit';
  target: Uint8Array; // 16 bytes
  options: NdiscOption[];
}

export interface NeighborAdvert {
  kind: 'neighbor-advert';
  router: boolean; // R
  solicited: boolean; // S
  override: boolean; // O
  target: Uint8Array; // 16 bytes
  options: NdiscOption[];
}

export type NdiscMessage = RouterSolicit | RouterAdvert | NeighborSolicit | NeighborAdvert;

/** Bytes of each body before its options. */
const FIXED_LEN = { 'router-solicit': 4, 'router-advert': 12, 'neighbor-solicit': 20, 'neighbor-advert': 20 } as const;

const TYPE_OF = {
  'router-solicit': ICMPV6_TYPE.ROUTER_SOLICIT,
  'router-advert': ICMPV6_TYPE.ROUTER_ADVERT,
  'neighbor-solicit': ICMPV6_TYPE.NEIGHBOR_SOLICIT,
  'neighbor-advert': ICMPV6_TYPE.NEIGHBOR_ADVERT,
} as const;

/** The ICMPv6 type that carries `m`. */
export function ndiscType(m: NdiscMessage): number {
  return TYPE_OF[m.kind];
}

/**
 * Decodes the body of an RS, RA, NS or NA (the code is not checked). Another type is WIRE_UNEXPECTED_TYPE; a
 * body shorter than its fixed part is WIRE_TRUNCATED; option errors are as in decodeNdiscOptions. Addresses and
 * option fields are views of the input.
 */
export function decodeNdisc(msg: Icmpv6Message): NdiscMessage {
  const b = msg.body;
  switch (msg.type) {
    case ICMPV6_TYPE.ROUTER_SOLICIT:
      need(b, 'router-solicit');
      return { kind: 'router-solicit', options: decodeNdiscOptions(b.subarray(4)) };
    case ICMPV6_TYPE.ROUTER_ADVERT: {
      need(b, 'router-advert');
      const flags = b[1]!;
      return {
        kind: 'router-advert',
        curHopLimit: b[0]!,
        managed: (flags & RA_FLAG.MANAGED) !== 0,
        otherConfig: (flags & RA_FLAG.OTHER_CONFIG) !== 0,
        homeAgent: (flags & RA_FLAG.HOME_AGENT) !== 0,
        preference: ((flags & RA_FLAG.PREFERENCE_MASK) >> 3) as RoutePreference,
        routerLifetimeSec: (b[2]! << 8) | b[3]!,
        reachableTimeMs: u32(b, 4),
        retransTimerMs: u32(b, 8),
        options: decodeNdiscOptions(b.subarray(12)),
      };
    }
    case ICMPV6_TYPE.NEIGHBOR_SOLICIT:
      need(b, 'neighbor-solicit');
      return { kind: 'neighbor-solicit', target: b.subarray(4, 20), options: decodeNdiscOptions(b.subarray(20)) };
    case ICMPV6_TYPE.NEIGHBOR_ADVERT: {
      need(b, 'neighbor-advert');
      const flags = b[0]!;
      return {
        kind: 'neighbor-advert',
        router: (flags & NA_FLAG.ROUTER) !== 0,
        solicited: (flags & NA_FLAG.SOLICITED) !== 0,
        override: (flags & NA_FLAG.OVERRIDE) !== 0,
        target: b.subarray(4, 20),
        options: decodeNdiscOptions(b.subarray(20)),
      };
    }
    default:
      throw new WireError('WIRE_UNEXPECTED_TYPE', `icmpv6: type ${msg.type} is not RS, RA, NS or NA`);
  }
}

function need(body: Uint8Array, kind: NdiscMessage['kind']): void {
  if (body.length < FIXED_LEN[kind]) {
    throw new WireError('WIRE_TRUNCATED', `${kind}: body ${body.length} bytes, fixed part needs ${FIXED_LEN[kind]}`);
  }
}

/** Length of the body (fixed part + options). Throws WIRE_BAD_VALUE for an option that cannot be encoded. */
export function ndiscEncodedLength(m: NdiscMessage): number {
  return FIXED_LEN[m.kind] + ndiscOptionsEncodedLength(m.options);
}

/** Writes the body at `out[offset]` (reserved bytes zeroed) and returns a view of the bytes written. */
export function encodeNdisc(m: NdiscMessage, out?: Uint8Array, offset = 0): Uint8Array {
  const buf = out ?? new Uint8Array(offset + ndiscEncodedLength(m));
  return buf.subarray(offset, writeNdisc(m, buf, offset));
}

/** Cursor form of encodeNdisc: writes the body at `out[offset]` and returns the offset just past it. */
export function writeNdisc(m: NdiscMessage, out: Uint8Array, offset: number): number {
  const fixed = FIXED_LEN[m.kind];
  if (offset < 0 || offset + fixed > out.length) throw new RangeError('ndisc: output buffer too small');
  out.fill(0, offset, offset + fixed);
  switch (m.kind) {
    case 'router-solicit':
      break;
    case 'router-advert':
      checkUint(m.curHopLimit, 0xff, 'cur hop limit');
      checkUint(m.preference, 3, 'router preference');
      checkUint(m.routerLifetimeSec, 0xffff, 'router lifetime');
      out[offset] = m.curHopLimit;
      out[offset + 1] = (m.managed ? RA_FLAG.MANAGED : 0) | (m.otherConfig ? RA_FLAG.OTHER_CONFIG : 0) | (m.homeAgent ? RA_FLAG.HOME_AGENT : 0) | (m.preference << 3);
      out[offset + 2] = m.routerLifetimeSec >> 8;
      out[offset + 3] = m.routerLifetimeSec & 0xff;
      putU32(out, offset + 4, m.reachableTimeMs, 'reachable time');
      putU32(out, offset + 8, m.retransTimerMs, 'retrans timer');
      break;
    case 'neighbor-solicit':
      putTarget(m.target, out, offset + 4);
      break;
    case 'neighbor-advert':
      out[offset] = (m.router ? NA_FLAG.ROUTER : 0) | (m.solicited ? NA_FLAG.SOLICITED : 0) | (m.override ? NA_FLAG.OVERRIDE : 0);
      putTarget(m.target, out, offset + 4);
      break;
  }
  return writeNdiscOptions(m.options, out, offset + fixed);
}

function putTarget(target: Uint8Array, out: Uint8Array, at: number): void {
  if (target.length !== 16) throw new WireError('WIRE_BAD_VALUE', 'ndisc: target address must be 16 bytes');
  out.set(target, at);
}

/** The generic ICMPv6 message (code 0) for `m`, for callers that go through encodeIcmpv6 / encodeIcmpv6Packet. */
export function ndiscMessage(m: NdiscMessage): Icmpv6Message {
  return { type: ndiscType(m), code: 0, body: encodeNdisc(m) };
}

export function ndiscPacketEncodedLength(m: NdiscMessage): number {
  return icmpv6PacketEncodedLength(ndiscEncodedLength(m));
}

/**
 * Builds the whole IPv6 packet for `m` (ICMPv6 code 0, checksum filled) in one buffer and returns a view of
 * the bytes written. ND wants `params.hopLimit` = NDISC_HOP_LIMIT.
 */
export function encodeNdiscPacket(params: Icmpv6PacketParams, m: NdiscMessage, out?: Uint8Array, offset = 0): Uint8Array {
  const bodyLength = ndiscEncodedLength(m);
  const len = icmpv6PacketEncodedLength(bodyLength);
  const buf = out ?? new Uint8Array(offset + len);
  const bodyAt = encodeIcmpv6PacketHead(params, ndiscType(m), 0, bodyLength, buf, offset);
  writeNdisc(m, buf, bodyAt);
  const packet = buf.subarray(offset, offset + len);
  fillIcmpv6PacketChecksum(packet);
  return packet;
}
