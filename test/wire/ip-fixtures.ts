// Shared fixtures for the IPv6 / UDP / ICMPv6 / ND codec tests: the Miredo qualification frames captured in
// research/miredo-packets.txt, and a helper that asserts a WireError code.

import { expect } from 'vitest';
import { fromHex } from '../../src/wire/bytes.js';
import { WireError, type WireErrorCode } from '../../src/wire/errors.js';

// Frame 1: Ethernet, IPv4 198.18.0.101 -> 198.18.0.10, UDP 56287 -> 3544, Teredo auth header (13 bytes),
// then the IPv6 Router Solicitation fe80::ffff:ffff:ffff -> ff02::2.
export const MIREDO_RS_FRAME = fromHex(
  'fa05fe348c343e42f50f95310800450000592a9200003f11c46ec6120065c612000adbdf0dd800458cea000100005d1040b45d4dc054' +
    '006000000000083afffe800000000000000000ffffffffffffff02000000000000000000000000000285007d3700000000',
);

// Frame 2: the Router Advertisement answer, with Teredo auth (13) and origin indication (8) before the IPv6 packet.
export const MIREDO_RA_FRAME = fromHex(
  '3e42f50f9531fa05fe348c34080045000091d6090000401117bfc612000ac61200650dd8dbdf007d8d22000100005d1040b45d4dc054' +
    '000000242039edff9a6000000000383afffe800000000000008000f22739edfff5fe800000000000000000ffffffffffff8600954c00' +
    '00000000000000000007d003044040ffffffffffffffff0000000020010000c612000a00000000000000000501000000000500',
);

const ETH = 14;
const IPV4 = 20;
const UDP = 8;
const TEREDO_AUTH = 13; // client id len 0, auth len 0, 8-byte nonce, confirmation byte
const TEREDO_ORIGIN = 8;

export const MIREDO_RS_IPV6 = MIREDO_RS_FRAME.subarray(ETH + IPV4 + UDP + TEREDO_AUTH);
export const MIREDO_RA_IPV6 = MIREDO_RA_FRAME.subarray(ETH + IPV4 + UDP + TEREDO_AUTH + TEREDO_ORIGIN);

/** Runs `fn` and asserts it throws a WireError with `code`. */
export function expectWireError(fn: () => unknown, code: WireErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected WireError ${code}`).toBeInstanceOf(WireError);
  expect((thrown as WireError).code).toBe(code);
}

/** Runs `fn`, and rethrows anything it throws that is not a WireError (the fuzz contract). */
export function onlyWireErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
  }
}
