// teredo-relay's metric declarations (agents/teredo-relay/metrics.ts) read from a literal status object: the
// peer table by kind, traffic each way as counters with a direction label, bubbles, removals by reason; the
// configuration (MTU, maxPeers, flags) is not exported.

import { describe, expect, it } from 'vitest';
import type { RunningStatus } from '../../src/runtime/status.js';
import { teredoRelayMetrics } from '../../agents/teredo-relay/metrics.js';
import type { TeredoRelayStatus } from '../../agents/teredo-relay/status.js';
import { RUNNING, exposition } from './metrics-exposition.js';

const STATUS: RunningStatus<TeredoRelayStatus> = {
  ...RUNNING,
  agent: 'teredo-relay',
  udp: '198.18.0.20:3545',
  interface: 'teredo',
  route: '2001::/32',
  mtu: 1280,
  icmpv6Source: null,
  honorConeBit: false,
  directBubbles: false,
  acceptUnknownPeers: true,
  peers: 12,
  trusted: 9,
  classes: { proven: 7, pending: 3, embedded: 2 },
  maxPeers: 65536,
  queuedBytes: 2600,
  peersExpired: 4,
  peersEvicted: 1,
  toTeredo: { packets: 100, bytes: 12800 },
  toNative: { packets: 90, bytes: 11520 },
  queued: 20,
  bubblesSent: 15,
  bubblesReceived: 14,
  mappingsProved: 2,
  icmpv6Sent: 3,
  icmpv6RateLimited: 0,
  drops: { 'relay-queue-given-up': 5 },
  ioErrors: {},
  driver: { batches: 50, timeouts: 8, errors: 0 },
};

describe('teredo-relay metrics', () => {
  it('declares the peer table, traffic by direction, bubbles and ICMPv6 errors', async () => {
    expect(await exposition(teredoRelayMetrics, STATUS)).toBe(`# TYPE teredo_relay_peers gauge
teredo_relay_peers{kind="trusted"} 9
teredo_relay_peers{kind="untrusted"} 3
# TYPE teredo_relay_peer_classes gauge
teredo_relay_peer_classes{class="proven"} 7
teredo_relay_peer_classes{class="pending"} 3
teredo_relay_peer_classes{class="embedded"} 2
# TYPE teredo_relay_queued_bytes gauge
teredo_relay_queued_bytes 2600
# TYPE teredo_relay_queued_packets_total counter
teredo_relay_queued_packets_total 20
# TYPE teredo_relay_peers_removed_total counter
teredo_relay_peers_removed_total{reason="expired"} 4
teredo_relay_peers_removed_total{reason="evicted"} 1
# TYPE teredo_relay_relayed_packets_total counter
teredo_relay_relayed_packets_total{direction="to_teredo"} 100
teredo_relay_relayed_packets_total{direction="to_native"} 90
# TYPE teredo_relay_relayed_bytes_total counter
teredo_relay_relayed_bytes_total{direction="to_teredo"} 12800
teredo_relay_relayed_bytes_total{direction="to_native"} 11520
# TYPE teredo_relay_bubbles_sent_total counter
teredo_relay_bubbles_sent_total 15
# TYPE teredo_relay_bubbles_received_total counter
teredo_relay_bubbles_received_total 14
# TYPE teredo_relay_symmetric_mappings_proved_total counter
teredo_relay_symmetric_mappings_proved_total 2
# TYPE teredo_relay_icmpv6_errors_sent_total counter
teredo_relay_icmpv6_errors_sent_total 3
# TYPE teredo_relay_icmpv6_errors_rate_limited_total counter
teredo_relay_icmpv6_errors_rate_limited_total 0`);
  });
});
