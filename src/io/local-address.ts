// The local IPv4 address the kernel would send from toward a destination: a UDP socket connected to it (no packet
// leaves: connect() on UDP only picks the route and the source address) tells its local address. The Teredo client
// announces it to peers behind its own NAT (RFC 6081 §5.6 Alternate Address trailer, client-hairpin.ts).

import { createSocket } from 'node:dgram';
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
