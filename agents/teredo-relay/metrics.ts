// teredo-relay's metrics for --metrics (src/runtime/metrics.ts adds info, reloads, drops and I/O errors): the
// peer table (RFC 4380 §5.4: peers trusted or not, bytes queued while bubbles go out), traffic each way,
// bubbles, the symmetric-NAT mappings proved, and the ICMPv6 errors sent. Read from the status object
// (status.ts) at each scrape; docs/metrics.md lists them.

import { samplesBy, type MetricSpec } from '../../src/runtime/metrics.js';
import type { TeredoRelayStatus } from './status.js';

export const teredoRelayMetrics: readonly MetricSpec<TeredoRelayStatus>[] = [
  {
    name: 'teredo_relay_peers',
    type: 'gauge',
    help: 'Peers in the peer table (RFC 4380 §5.4), by kind: trusted (their mapping proved by a bubble or a direct packet) or untrusted.',
    labelNames: ['kind'],
    read: (s) => samplesBy('kind', { trusted: s.trusted, untrusted: s.peers - s.trusted }),
  },
  {
    name: 'teredo_relay_peer_classes',
    type: 'gauge',
    help: 'Peers in the peer table by class: proven (echoed our nonce; never evicted), pending (the native side sends to it), embedded (admitted by RFC 4380 §5.4.2 (b) from an unsolicited datagram; a pool of 1/8 of the table).',
    labelNames: ['class'],
    read: (s) => samplesBy('class', s.classes),
  },
  {
    name: 'teredo_relay_queued_bytes',
    type: 'gauge',
    help: 'Bytes queued for untrusted peers while their bubbles go out (RFC 4380 §5.4.1; each packet costs its length + 2).',
    read: (s) => s.queuedBytes,
  },
  {
    name: 'teredo_relay_queued_packets_total',
    type: 'counter',
    help: 'Packets queued for an untrusted peer (RFC 4380 §5.4.1).',
    read: (s) => s.queued,
  },
  {
    name: 'teredo_relay_peers_removed_total',
    type: 'counter',
    help: 'Peers removed from the table, by reason: expired (idle) or evicted (the table was full; untrusted peers go first).',
    labelNames: ['reason'],
    read: (s) => samplesBy('reason', { expired: s.peersExpired, evicted: s.peersEvicted }),
  },
  {
    name: 'teredo_relay_relayed_packets_total',
    type: 'counter',
    help: 'Packets relayed, by direction: to_teredo = native IPv6 to a Teredo client (RFC 4380 §5.4.1), to_native = a Teredo client to native IPv6 (§5.4.2).',
    labelNames: ['direction'],
    read: (s) => samplesBy('direction', { to_teredo: s.toTeredo.packets, to_native: s.toNative.packets }),
  },
  {
    name: 'teredo_relay_relayed_bytes_total',
    type: 'counter',
    help: 'Bytes of the packets relayed (IPv6 packets, without UDP encapsulation), by direction as teredo_relay_relayed_packets_total.',
    labelNames: ['direction'],
    read: (s) => samplesBy('direction', { to_teredo: s.toTeredo.bytes, to_native: s.toNative.bytes }),
  },
  { name: 'teredo_relay_bubbles_sent_total', type: 'counter', help: 'Bubbles sent to peers, directly or through their server (RFC 4380 §5.4.1, §5.2.6 pacing).', read: (s) => s.bubblesSent },
  { name: 'teredo_relay_bubbles_received_total', type: 'counter', help: 'Bubbles received from peers.', read: (s) => s.bubblesReceived },
  {
    name: 'teredo_relay_symmetric_mappings_proved_total',
    type: 'counter',
    help: 'Mappings of clients behind symmetric NATs proved by the relay\'s nonce.',
    read: (s) => s.mappingsProved,
  },
  { name: 'teredo_relay_icmpv6_errors_sent_total', type: 'counter', help: 'ICMPv6 Destination Unreachable errors sent to native hosts whose packets cannot reach a Teredo peer (RFC 4443 §3.1).', read: (s) => s.icmpv6Sent },
  { name: 'teredo_relay_icmpv6_errors_rate_limited_total', type: 'counter', help: 'ICMPv6 errors not sent because of the rate limit (RFC 4443 §2.4 f).', read: (s) => s.icmpv6RateLimited },
];
