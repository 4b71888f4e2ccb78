// Helpers for the I/O adapters' kernel tests (io-*.test.ts): namespaces with the `tio` prefix, `ip` calls,
// waiting for packets, and tiny ICMPv6 Echo packets built from the wire codecs (IPv6 header + RFC 1071 sum).

import { execFileSync } from 'node:child_process';
import { ipv6UpperChecksum } from '../../src/wire/checksum.js';
import { decodeIpv6, encodeIpv6, NEXT_HEADER } from '../../src/wire/ipv6.js';

/** Runs `ip args...` and returns stdout; throws with stderr on failure. */
export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Creates a fresh namespace (deleting a leftover of a crashed run first) with loopback up. */
export function addNetns(name: string): void {
  deleteNetns(name);
  ip('netns', 'add', name);
  ip('-n', name, 'link', 'set', 'lo', 'up');
}

/** Deletes a namespace and everything in it (veths, TUN devices); never throws. */
export function deleteNetns(name: string): void {
  try {
    ip('netns', 'del', name);
  } catch {
    // not there: nothing to clean up
  }
}

/** Resolves with the first value `register` hands over, or rejects after `ms`. */
export function waitFor<T>(register: (resolve: (value: T) => void) => void, ms = 5000, what = 'event'): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** Polls `check` every 100 ms until it returns true; rejects after `ms`. */
export async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;

export interface Echo {
  type: number;
  id: number;
  seq: number;
  data: Uint8Array;
}

/** A whole IPv6 packet carrying an ICMPv6 Echo Request/Reply with a correct checksum. */
export function echoPacket(src: Uint8Array, dst: Uint8Array, echo: Echo, hopLimit = 64): Uint8Array {
  const msg = new Uint8Array(8 + echo.data.length);
  msg[0] = echo.type;
  msg[4] = echo.id >> 8;
  msg[5] = echo.id & 0xff;
  msg[6] = echo.seq >> 8;
  msg[7] = echo.seq & 0xff;
  msg.set(echo.data, 8);
  const sum = ipv6UpperChecksum(src, dst, NEXT_HEADER.ICMPV6, msg);
  msg[2] = sum >> 8;
  msg[3] = sum & 0xff;
  return encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.ICMPV6, hopLimit, src, dst }, msg);
}

/** Parses an IPv6 packet carrying an ICMPv6 Echo; undefined for anything else. Checks the checksum. */
export function parseEcho(packet: Uint8Array): (Echo & { src: Uint8Array; dst: Uint8Array }) | undefined {
  const { header, payload } = decodeIpv6(packet);
  if (header.nextHeader !== NEXT_HEADER.ICMPV6 || payload.length < 8) return undefined;
  const type = payload[0]!;
  if (type !== ICMPV6_ECHO_REQUEST && type !== ICMPV6_ECHO_REPLY) return undefined;
  if (ipv6UpperChecksum(header.src, header.dst, NEXT_HEADER.ICMPV6, payload) !== 0) return undefined;
  return {
    type,
    id: (payload[4]! << 8) | payload[5]!,
    seq: (payload[6]! << 8) | payload[7]!,
    data: payload.subarray(8),
    src: header.src,
    dst: header.dst,
  };
}
