// The Teredo UDP payload (RFC 4380 §5.1.1): optional authentication encapsulation, optional origin indication,
// then one IPv6 packet, then optional RFC 6081 trailers.
//
//   auth   00 01 | ID-len (1) | AU-len (1) | client ID | auth value | nonce (8) | confirmation (1)   >= 13 bytes
//   origin 00 00 | ~port (2) | ~IPv4 (4)                                                            8 bytes
//   IPv6   version 6 | ... | payload length (bytes 4-5) | ...                                       40 + plen
//   trailer (RFC 6081 TLVs), everything after the IPv6 packet: kept opaque and never rejected
//
// When both headers are present, authentication comes first (§5.1.1). The first two bytes tell them apart: an
// IPv6 packet starts with version nibble 6, so 00 01 and 00 00 cannot be IPv6. Validity is that of §5.1.1 and
// §5.2.3: version 6 and 40 + payload length <= remaining bytes. A longer UDP payload is not an error, because
// RFC 6081 appends trailers there; Miredo's check is the same (40 + plen <= length) and its server forwards the
// whole remainder, which is why `trailer` exists and the encoder writes it back untouched.
//
// This runs for every packet in the server and relay: decode returns subarray views into the input (copy what
// you keep, receive buffers are reused), and encode can write into a caller's buffer.

import type { Endpoint4 } from './endpoint.js';
import { ByteReader, ByteWriter } from './bytes.js';
import { WireError, wireAssert } from './errors.js';
import { isIpv4Number } from './ipv4.js';
import { IPV6_FIELD, IPV6_HEADER_LEN, NEXT_HEADER } from './ipv6.js';

/** Bytes of the authentication header without the client ID and auth value: 00 01, two lengths, nonce, conf. */
export const TEREDO_AUTH_MIN_LEN = 13;
export const TEREDO_NONCE_LEN = 8;
/** The origin indication is always 8 bytes. */
export const TEREDO_ORIGIN_LEN = 8;

const AUTH_TYPE = 0x0001;
const ORIGIN_TYPE = 0x0000;

/** The authentication encapsulation (§5.1.1); views into the decoded buffer. */
export interface TeredoAuth {
  /** Client identifier, 0-255 bytes (empty in the nonce-only form Windows, Miredo and pteredor send). */
  readonly clientId: Uint8Array;
  /** Authentication value, 0-255 bytes. */
  readonly authValue: Uint8Array;
  /** 8-byte nonce chosen by the client and echoed by the server (§5.2.2). */
  readonly nonce: Uint8Array;
  /** Confirmation byte: 0 from a client; non-zero from a server asks the client for a new key (§5.2.2). */
  readonly confirmation: number;
}

/** A Teredo UDP payload to encode. The origin is de-obfuscated; `ipv6` must be one whole IPv6 packet. */
export interface TeredoPayload {
  readonly auth?: TeredoAuth;
  readonly origin?: Endpoint4;
  readonly ipv6: Uint8Array;
  /** RFC 6081 trailers, written after the IPv6 packet as they are. */
  readonly trailer?: Uint8Array;
}

/** A decoded Teredo UDP payload: `ipv6` is exactly 40 + payload length bytes; `trailer` may be empty. */
export interface DecodedTeredoPayload extends TeredoPayload {
  readonly trailer: Uint8Array;
}

/** Decodes one Teredo UDP payload; throws only WireError. */
export function decodeTeredoPayload(udpPayload: Uint8Array): DecodedTeredoPayload {
  const r = new ByteReader(udpPayload, 0, 'Teredo payload');
  let auth: TeredoAuth | undefined;
  let origin: Endpoint4 | undefined;
  if (peekType(udpPayload, r.offset) === AUTH_TYPE) auth = readAuth(r);
  if (peekType(udpPayload, r.offset) === ORIGIN_TYPE) origin = readOrigin(r);
  const start = r.offset;
  r.need(IPV6_HEADER_LEN);
  wireAssert(udpPayload[start]! >>> 4 === 6, 'WIRE_BAD_VERSION', `Teredo payload: IP version ${udpPayload[start]! >>> 4} at offset ${start}, expected 6`);
  const payloadLen = (udpPayload[start + 4]! << 8) | udpPayload[start + 5]!;
  const ipv6 = r.bytesView(IPV6_HEADER_LEN + payloadLen);
  // One object shape whatever is present keeps the callers' property accesses monomorphic.
  return { auth, origin, ipv6, trailer: r.rest() };
}

/** Bytes encodeTeredoPayload writes for `p`. */
export function teredoPayloadEncodedLength(p: TeredoPayload): number {
  return (p.auth !== undefined ? teredoAuthEncodedLength(p.auth) : 0) + (p.origin !== undefined ? TEREDO_ORIGIN_LEN : 0) + p.ipv6.length + (p.trailer?.length ?? 0);
}

/**
 * Encodes `p` into `out` at `offset`, or into a new array of the exact size when `out` is omitted, and returns a
 * view of exactly the bytes written (a too small `out` is a RangeError, a programming error). Throws WireError WIRE_BAD_VALUE / WIRE_BAD_LENGTH if `p` could not be decoded back as it is.
 */
export function encodeTeredoPayload(p: TeredoPayload, out?: Uint8Array, offset = 0): Uint8Array {
  checkIpv6(p.ipv6);
  const len = teredoPayloadEncodedLength(p);
  const buf = out ?? new Uint8Array(len);
  const w = new ByteWriter(buf, out === undefined ? 0 : offset);
  const begin = w.offset;
  if (p.auth !== undefined) writeAuth(w, p.auth);
  if (p.origin !== undefined) writeOrigin(w, p.origin);
  w.bytes(p.ipv6);
  if (p.trailer !== undefined) w.bytes(p.trailer);
  return buf.subarray(begin, begin + len);
}

export function teredoAuthEncodedLength(a: TeredoAuth): number {
  return TEREDO_AUTH_MIN_LEN + a.clientId.length + a.authValue.length;
}

/** Decodes an origin indication at `offset` (00 00, ~port, ~IPv4); throws WireError. */
export function decodeTeredoOrigin(bytes: Uint8Array, offset = 0): Endpoint4 {
  const r = new ByteReader(bytes, offset, 'Teredo origin indication');
  wireAssert(peekType(bytes, offset) === ORIGIN_TYPE, 'WIRE_UNEXPECTED_TYPE', 'not a Teredo origin indication');
  return readOrigin(r);
}

/** Encodes an origin indication into `out` at `offset` (a new 8-byte array by default); returns the 8-byte view. */
export function encodeTeredoOrigin(origin: Endpoint4, out: Uint8Array = new Uint8Array(TEREDO_ORIGIN_LEN), offset = 0): Uint8Array {
  const w = new ByteWriter(out, offset);
  writeOrigin(w, origin);
  return out.subarray(offset, offset + TEREDO_ORIGIN_LEN);
}

/** RFC 4380 §2.8: a bubble is an IPv6 packet with Next Header 59 and payload length 0. */
export function isBubble(ipv6: Uint8Array): boolean {
  return ipv6.length >= IPV6_HEADER_LEN && ipv6[IPV6_FIELD.PAYLOAD_LENGTH] === 0 && ipv6[IPV6_FIELD.PAYLOAD_LENGTH + 1] === 0 && ipv6[IPV6_FIELD.NEXT_HEADER] === NEXT_HEADER.NO_NEXT;
}

/** The 16-bit type at `offset`, or -1 when fewer than 2 bytes remain (the IPv6 check then reports truncation). */
function peekType(b: Uint8Array, offset: number): number {
  return offset + 2 <= b.length ? (b[offset]! << 8) | b[offset + 1]! : -1;
}

function readAuth(r: ByteReader): TeredoAuth {
  r.skip(2);
  const idLen = r.u8();
  const auLen = r.u8();
  r.need(idLen + auLen + TEREDO_NONCE_LEN + 1);
  const clientId = r.bytesView(idLen);
  const authValue = r.bytesView(auLen);
  const nonce = r.bytesView(TEREDO_NONCE_LEN);
  return { clientId, authValue, nonce, confirmation: r.u8() };
}

function readOrigin(r: ByteReader): Endpoint4 {
  r.need(TEREDO_ORIGIN_LEN);
  r.skip(2);
  const port = r.u16() ^ 0xffff;
  const addr = ~r.u32(); // int32 (ipv4.ts)
  return { addr, port };
}

function writeAuth(w: ByteWriter, a: TeredoAuth): void {
  wireAssert(a.clientId.length <= 0xff && a.authValue.length <= 0xff, 'WIRE_BAD_LENGTH', 'Teredo auth: client ID and auth value are at most 255 bytes');
  wireAssert(a.nonce.length === TEREDO_NONCE_LEN, 'WIRE_BAD_LENGTH', `Teredo auth: nonce must be 8 bytes, got ${a.nonce.length}`);
  wireAssert(Number.isInteger(a.confirmation) && a.confirmation >= 0 && a.confirmation <= 0xff, 'WIRE_BAD_VALUE', `Teredo auth: confirmation must be 0..255, got ${a.confirmation}`);
  w.u16(AUTH_TYPE).u8(a.clientId.length).u8(a.authValue.length).bytes(a.clientId).bytes(a.authValue).bytes(a.nonce).u8(a.confirmation);
}

function writeOrigin(w: ByteWriter, o: Endpoint4): void {
  wireAssert(Number.isInteger(o.port) && o.port >= 0 && o.port <= 0xffff, 'WIRE_BAD_VALUE', `Teredo origin: port must be 0..65535, got ${o.port}`);
  wireAssert(isIpv4Number(o.addr), 'WIRE_BAD_VALUE', `Teredo origin: bad IPv4 ${o.addr}`);
  w.u16(ORIGIN_TYPE).u16(o.port ^ 0xffff).u32(~o.addr);
}

/** The encoder's guard: exactly one IPv6 packet, so that trailers and the packet cannot blur on decode. */
function checkIpv6(ipv6: Uint8Array): void {
  if (ipv6.length < IPV6_HEADER_LEN) throw new WireError('WIRE_BAD_LENGTH', `Teredo payload: IPv6 packet of ${ipv6.length} bytes is shorter than its header`);
  wireAssert(ipv6[0]! >>> 4 === 6, 'WIRE_BAD_VERSION', 'Teredo payload: not an IPv6 packet');
  const plen = (ipv6[4]! << 8) | ipv6[5]!;
  wireAssert(ipv6.length === IPV6_HEADER_LEN + plen, 'WIRE_BAD_LENGTH', `Teredo payload: IPv6 packet is ${ipv6.length} bytes but its header says ${IPV6_HEADER_LEN + plen}`);
}
