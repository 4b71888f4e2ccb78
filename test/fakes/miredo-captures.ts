// The Miredo capture every test compares against, in one place: frames 1 and 2 of
// /work/shared/research/miredo-packets.txt (dumpcap on the lab server's IPv4 interface): a Miredo 1.2.6
// client's Router Solicitation from behind the port-restricted NAT (198.18.0.101:56287 -> 198.18.0.10:3544)
// and the Router Advertisement a Miredo 1.2.6 server answered with. RFC 4380 §5.1.1 (payload layout), §5.2.1
// (qualification), §5.3.2 (the server's RA). Each layer is exported: the whole Ethernet frame, the UDP payload
// (what a Teredo port receives), the IPv6 packet inside it.
//
// These arrays are shared between tests: never write into them (copy with slice() first).

import { fromHex } from '../../src/wire/bytes.js';

/** The capture's nonce (auth header of frame 1, echoed in frame 2), as hex and as bytes. */
export const MIREDO_NONCE_HEX = '5d1040b45d4dc054';
export const MIREDO_NONCE = fromHex(MIREDO_NONCE_HEX);

/** Frame 1, UDP payload (61 bytes): auth header with the nonce, then the bare RS Windows Vista and Miredo send. */
export const MIREDO_RS = fromHex(
  [
    '0001 00 00 5d1040b45d4dc054 00', // auth: type 0001, ID-len 0, AU-len 0, nonce, confirmation 0
    '60000000 0008 3a ff', // IPv6: version 6, payload length 8, next header 58 (ICMPv6), hop limit 255
    'fe800000000000000000ffffffffffff', // source fe80::ffff:ffff:ffff
    'ff020000000000000000000000000002', // destination ff02::2
    '85 00 7d37 00000000', // ICMPv6 Router Solicitation, checksum 0x7d37, reserved, no options
  ].join(''),
);

/** Frame 2, UDP payload (117 bytes) of the RA sent from 198.18.0.10:3544 to 198.18.0.101:56287. */
export const MIREDO_RA = fromHex(
  [
    '0001 00 00 5d1040b45d4dc054 00', // auth header echoing the RS nonce
    '0000 2420 39edff9a', // origin indication: ~0x2420 = 56287, ~0x39edff9a = 198.18.0.101
    '60000000 0038 3a ff', // IPv6: payload length 56, ICMPv6, hop limit 255
    'fe80000000000000 8000f22739edfff5', // source fe80::8000:f227:39ed:fff5 (server link-local)
    'fe80000000000000 0000ffffffffffff', // destination fe80::ffff:ffff:ffff (the RS source)
    '86 00 954c 00 00 0000 00000000 000007d0', // RA: hop limit 0, flags 0, lifetime 0, reachable 0, retrans 2000
    '03 04 40 40 ffffffff ffffffff 00000000 20010000c612000a0000000000000000', // PIO 2001:0:c612:a::/64, A
    '05 01 0000 00000500', // MTU option 1280
  ].join(''),
);

const ETH = 14;
const IPV4 = 20;
const UDP = 8;
const TEREDO_AUTH = 13; // client id len 0, auth len 0, 8-byte nonce, confirmation byte
const TEREDO_ORIGIN = 8;

/** Frame 1 whole: Ethernet, IPv4 198.18.0.101 -> 198.18.0.10 (TTL 63, after the NAT), UDP 56287 -> 3544, MIREDO_RS. */
export const MIREDO_RS_FRAME = frame('fa05fe348c343e42f50f9531' + '0800' + '450000592a9200003f11c46ec6120065c612000a' + 'dbdf0dd800458cea', MIREDO_RS);

/** Frame 2 whole: Ethernet, IPv4 198.18.0.10 -> 198.18.0.101, UDP 3544 -> 56287, MIREDO_RA. */
export const MIREDO_RA_FRAME = frame('3e42f50f9531fa05fe348c34' + '0800' + '45000091d6090000401117bfc612000ac6120065' + '0dd8dbdf007d8d22', MIREDO_RA);

/** The IPv6 packets inside the payloads: the RS fe80::ffff:ffff:ffff -> ff02::2, and the RA back. */
export const MIREDO_RS_IPV6 = MIREDO_RS_FRAME.subarray(ETH + IPV4 + UDP + TEREDO_AUTH);
export const MIREDO_RA_IPV6 = MIREDO_RA_FRAME.subarray(ETH + IPV4 + UDP + TEREDO_AUTH + TEREDO_ORIGIN);

function frame(headersHex: string, payload: Uint8Array): Uint8Array {
  const headers = fromHex(headersHex);
  const out = new Uint8Array(headers.length + payload.length);
  out.set(headers);
  out.set(payload, headers.length);
  return out;
}
