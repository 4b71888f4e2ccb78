// Port Control Protocol (RFC 6887), the part a client needs to map one port: the MAP request (§7.1 common
// request header + §11.1 MAP opcode), and the response (§7.2 common response header + §11.1 MAP opcode), with the
// result codes of §7.4, and the ANNOUNCE opcode's response (§14.1: the common header alone), which a server
// also sends unsolicited after it lost its state (§14.1.3). IPv4 only as this project uses it: every address field holds an IPv4-mapped IPv6 address
// (::ffff:a.b.c.d, §5). Options (§7.3) are neither sent nor read (a response's options are skipped).
//
// Version negotiation (§9): PCP shares the server port 5351 with NAT-PMP (RFC 6886), whose messages begin with
// version 0. A NAT-PMP-only server answers our version-2 request with its own UNSUPP_VERSION (RFC 6886 §3.5:
// version 0, opcode 128 + ours, result code 1); decodePcpResponse returns that as kind 'nat-pmp'.

import { WireError, wireAssert } from './errors.js';

/** §19.1: the PCP server's UDP port (NAT-PMP's too). */
export const PCP_SERVER_PORT = 5351;
/** §19.1: the PCP client port, where unsolicited ANNOUNCE responses are sent (§14.1.3). */
export const PCP_CLIENT_PORT = 5350;
/** §14.1.3: the IPv4 group unsolicited ANNOUNCE responses go to (all hosts, RFC 1112). */
export const PCP_ANNOUNCE_GROUP = '224.0.0.1';
/** §9: the version this client speaks. */
export const PCP_VERSION = 2;
/** §19.2: opcodes ANNOUNCE and MAP. */
export const PCP_OPCODE_ANNOUNCE = 0;
export const PCP_OPCODE_MAP = 1;
/** §7.2: the R bit of the second byte: 1 in a response. */
const PCP_R_BIT = 0x80;
/** IANA protocol number of UDP (§11.1 Protocol field). */
export const PCP_PROTOCOL_UDP = 17;
/** §7: a message is at most 1100 bytes and a multiple of 4. */
export const PCP_MAX_MESSAGE = 1100;
/** §7.1 / §7.2: the common headers are 24 bytes; §11.1: the MAP opcode adds 36. */
const HEADER_LENGTH = 24;
export const PCP_MAP_LENGTH = HEADER_LENGTH + 36;
/** §11.1: the mapping nonce, bytes. */
export const PCP_NONCE_LENGTH = 12;

/** §7.4 result codes, by value. */
const RESULT_NAMES = [
  'SUCCESS',
  'UNSUPP_VERSION',
  'NOT_AUTHORIZED',
  'MALFORMED_REQUEST',
  'UNSUPP_OPCODE',
  'UNSUPP_OPTION',
  'MALFORMED_OPTION',
  'NETWORK_FAILURE',
  'NO_RESOURCES',
  'UNSUPP_PROTOCOL',
  'USER_EX_QUOTA',
  'CANNOT_PROVIDE_EXTERNAL',
  'ADDRESS_MISMATCH',
  'EXCESSIVE_REMOTE_PEERS',
] as const;
export const PCP_SUCCESS = 0;
export const PCP_UNSUPP_VERSION = 1;

/** The §7.4 name of a result code ("result 42" for one the RFC does not define). */
export function pcpResultName(code: number): string {
  return RESULT_NAMES[code] ?? `result ${code}`;
}

/** A MAP request (§11.1). Addresses are int32 IPv4 (wire/ipv4.ts); 0 as the suggested address: no preference. */
export interface PcpMapRequest {
  /** §11.1: 12 random bytes the client keeps for the mapping's life (renewal and deletion repeat it). */
  readonly nonce: Uint8Array;
  /** IANA protocol number (PCP_PROTOCOL_UDP). */
  readonly protocol: number;
  readonly internalPort: number;
  readonly suggestedExternalPort: number;
  readonly suggestedExternalAddress: number;
  /** §7.1: the client's own source address, as the server should see it (else ADDRESS_MISMATCH). */
  readonly clientAddress: number;
  /** Seconds; 0 deletes the mapping (§15). */
  readonly lifetimeSec: number;
}

/** The MAP opcode's fields of a response (§11.1); externalAddress is undefined when not IPv4-mapped. */
export interface PcpMapResult {
  readonly nonce: Uint8Array;
  readonly protocol: number;
  readonly internalPort: number;
  readonly externalPort: number;
  readonly externalAddress: number | undefined;
}

export type PcpResponse =
  | {
      readonly kind: 'pcp';
      readonly version: number;
      /** Without the R bit. */
      readonly opcode: number;
      readonly resultCode: number;
      /** §7.2: on SUCCESS the mapping's lifetime; on an error how long the error lasts. Seconds. */
      readonly lifetimeSec: number;
      /** §8.5: the server's Epoch Time, seconds since it last lost its state. */
      readonly epochSec: number;
      /** The MAP fields, for opcode MAP when the response is long enough to hold them (an error may not be). */
      readonly map: PcpMapResult | undefined;
    }
  /** A NAT-PMP server's answer (version 0, RFC 6886 §3.5): PCP is not spoken there. */
  | { readonly kind: 'nat-pmp'; readonly resultCode: number };

function writeMappedIpv4(view: DataView, offset: number, addr: number): void {
  view.setUint16(offset + 10, 0xffff);
  view.setUint32(offset + 12, addr >>> 0);
}

/** The int32 IPv4 of an IPv4-mapped IPv6 address at offset, or undefined for any other address. */
function readMappedIpv4(b: Uint8Array, offset: number): number | undefined {
  for (let i = 0; i < 10; i++) if (b[offset + i] !== 0) return undefined;
  if (b[offset + 10] !== 0xff || b[offset + 11] !== 0xff) return undefined;
  return ((b[offset + 12]! << 24) | (b[offset + 13]! << 16) | (b[offset + 14]! << 8) | b[offset + 15]!) | 0;
}

/** The 60-byte MAP request (§7.1 + §11.1), options none. Throws WireError for a nonce not 12 bytes. */
export function encodePcpMapRequest(r: PcpMapRequest): Uint8Array {
  wireAssert(r.nonce.length === PCP_NONCE_LENGTH, 'WIRE_BAD_LENGTH', `PCP nonce: ${r.nonce.length} bytes, need ${PCP_NONCE_LENGTH}`);
  const b = new Uint8Array(PCP_MAP_LENGTH);
  const v = new DataView(b.buffer);
  b[0] = PCP_VERSION;
  b[1] = PCP_OPCODE_MAP; // R = 0: a request
  v.setUint32(4, r.lifetimeSec >>> 0);
  writeMappedIpv4(v, 8, r.clientAddress);
  b.set(r.nonce, 24);
  b[36] = r.protocol;
  v.setUint16(40, r.internalPort);
  v.setUint16(42, r.suggestedExternalPort);
  writeMappedIpv4(v, 44, r.suggestedExternalAddress);
  return b;
}

/**
 * A datagram from the server port: a PCP response (§7.2, MAP fields per §11.1) or a NAT-PMP answer (version 0).
 * Throws WireError: WIRE_TRUNCATED (shorter than a header), WIRE_BAD_LENGTH (§7: over 1100 bytes or not a
 * multiple of 4), WIRE_UNEXPECTED_TYPE (a request: R bit clear).
 */
export function decodePcpResponse(b: Uint8Array): PcpResponse {
  if (b.length >= 1 && b[0] === 0) {
    wireAssert(b.length >= 4, 'WIRE_TRUNCATED', `NAT-PMP answer of ${b.length} bytes`);
    return { kind: 'nat-pmp', resultCode: (b[2]! << 8) | b[3]! };
  }
  wireAssert(b.length >= HEADER_LENGTH, 'WIRE_TRUNCATED', `PCP response of ${b.length} bytes, header needs ${HEADER_LENGTH}`);
  wireAssert(b.length <= PCP_MAX_MESSAGE && b.length % 4 === 0, 'WIRE_BAD_LENGTH', `PCP response of ${b.length} bytes`);
  if ((b[1]! & PCP_R_BIT) === 0) throw new WireError('WIRE_UNEXPECTED_TYPE', 'PCP request, not a response');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const opcode = b[1]! & ~PCP_R_BIT;
  const map: PcpMapResult | undefined =
    opcode === PCP_OPCODE_MAP && b.length >= PCP_MAP_LENGTH
      ? { nonce: b.slice(24, 36), protocol: b[36]!, internalPort: v.getUint16(40), externalPort: v.getUint16(42), externalAddress: readMappedIpv4(b, 44) }
      : undefined;
  return { kind: 'pcp', version: b[0]!, opcode, resultCode: b[3]!, lifetimeSec: v.getUint32(4), epochSec: v.getUint32(8), map };
}
