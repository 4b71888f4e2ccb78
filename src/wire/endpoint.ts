// An IPv4 UDP endpoint (address + port): the unit every Teredo mapping, server and peer is named by
// (RFC 4380 §2: "mapped address" and "mapped port"). Shared by wire, engines and io, so it lives at the bottom.

import { formatIpv4 } from './ipv4.js';

/** An IPv4 UDP endpoint; `addr` is the IPv4 address as an int32 (see ipv4.ts). */
export interface Endpoint4 {
  readonly addr: number;
  readonly port: number;
}

/** "a.b.c.d:port", the one textual form used in logs, status and errors (never on the data path). */
export function formatEndpoint4(ep: Endpoint4): string {
  return `${formatIpv4(ep.addr)}:${ep.port}`;
}
