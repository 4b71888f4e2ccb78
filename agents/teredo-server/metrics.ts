// teredo-server's metrics for --metrics (src/runtime/metrics.ts adds info, reloads, drops and I/O errors):
// Router Solicitations answered and Router Advertisements sent per server address (RFC 4380 §5.3.1; the
// secondary sends the RAs that answer cone-bit RSs, §5.3.2), and packets forwarded per path. Read from the
// status object (status.ts) at each scrape; docs/metrics.md lists them.

import { optional, samplesBy, type MetricSpec } from '../../src/runtime/metrics.js';
import type { TeredoServerStatus } from './status.js';

export const teredoServerMetrics: readonly MetricSpec<TeredoServerStatus>[] = [
  {
    name: 'teredo_server_router_solicitations_answered_total',
    type: 'counter',
    help: 'Router Solicitations answered (RFC 4380 §5.3.1), by the server address they arrived on (primary, secondary).',
    labelNames: ['address'],
    read: (s) => samplesBy('address', s.rsAnswered),
  },
  {
    name: 'teredo_server_router_advertisements_sent_total',
    type: 'counter',
    help: 'Router Advertisements sent, by the server address they left from (secondary: answers to cone-bit RSs, RFC 4380 §5.3.2).',
    labelNames: ['address'],
    read: (s) => samplesBy('address', s.raSent),
  },
  {
    name: 'teredo_server_router_advertisements_with_nonce_total',
    type: 'counter',
    help: 'Router Advertisements that echoed the RS\'s authentication nonce (RFC 4380 §5.2.1).',
    read: (s) => s.raWithNonce,
  },
  {
    name: 'teredo_server_forwarded_packets_total',
    type: 'counter',
    help: 'Packets forwarded (RFC 4380 §5.3.1), by path: teredo = to a Teredo mapping, to_native = toward the native IPv6 network, from_native = from the native IPv6 network (the TUN device) to a client.',
    labelNames: ['kind'],
    read: (s) => samplesBy('kind', { teredo: s.forwarded.teredo, to_native: s.forwarded.native, from_native: s.forwarded.fromTun }),
  },
  {
    name: 'teredo_server_forwarded_with_origin_total',
    type: 'counter',
    help: 'Of the packets forwarded to a Teredo mapping, those that carried an origin indication (the destination is our client, RFC 4380 §5.3.1).',
    read: (s) => s.forwarded.withOrigin,
  },
  {
    name: 'teredo_server_native_ipv6_route',
    type: 'gauge',
    help: '1 when the host has a route toward native IPv6, 0 when packets for it fail; absent when unknown or native forwarding is off.',
    read: (s) => optional(s.nativeIpv6Route === null ? null : Number(s.nativeIpv6Route)),
  },
];
