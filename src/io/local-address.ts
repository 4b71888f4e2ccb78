// The local IPv4 address the kernel would send from toward a destination: a UDP socket connected to it (no packet
// leaves: connect() on UDP only picks the route and the source address) tells its local address. The Teredo client
// announces it to peers behind its own NAT (RFC 6081 §5.6 Alternate Address trailer, client-hairpin.ts). And the
// IPv4 default gateway, from the kernel's routing table: where NAT-PMP and PCP ask (RFC 6886 §3, RFC 6887 §8.1).

import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { formatIpv4, parseIpv4 } from '../wire/ipv4.js';

/** The source address toward addr:port (int32 IPv4), or 0 when there is no route (or anything else fails). */
export function localAddressToward(addr: number, port: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const done = (result: number): void => {
      socket.close();
      resolve(result);
    };
    socket.once('error', () => done(0));
    socket.connect(port, formatIpv4(addr), () => {
      try {
        done(parseIpv4(socket.address().address));
      } catch {
        done(0);
      }
    });
  });
}

/** The IPv4 default gateway from /proc/net/route (little-endian hex), or undefined without one. */
export async function defaultGateway4(routes = '/proc/net/route'): Promise<string | undefined> {
  const lines = (await readFile(routes, 'utf8')).split('\n').slice(1);
  for (const line of lines) {
    const f = line.trim().split(/\s+/);
    // Iface Destination Gateway Flags ...; RTF_GATEWAY = 0x2.
    if (f.length < 4 || f[1] !== '00000000' || (parseInt(f[3]!, 16) & 2) === 0) continue;
    const g = parseInt(f[2]!, 16);
    return [g & 0xff, (g >>> 8) & 0xff, (g >>> 16) & 0xff, g >>> 24].join('.');
  }
  return undefined;
}
