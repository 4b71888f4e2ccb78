// rasadv's metric declarations (agents/rasadv/metrics.ts), one list per mode, read from literal status objects:
// the advertiser's advertisements per interface and its send failures as I/O errors; the listener's datagrams
// received and accepted, drops by reason, servers by state and the reverse DNS counters (absent with
// --no-resolve). Host name, domain, payload and the server table are not exported.

import { describe, expect, it } from 'vitest';
import type { RunningStatus } from '../../src/runtime/status.js';
import { rasadvAdvertiseMetrics, rasadvListenMetrics } from '../../agents/rasadv/metrics.js';
import type { AdvertiseStatus, ListenStatus } from '../../agents/rasadv/status.js';
import { RUNNING, exposition } from './metrics-exposition.js';


const ADVERTISE: RunningStatus<AdvertiseStatus> = {
  ...RUNNING,
  agent: 'rasadv advertise',
  mode: 'advertise',
  hostname: 'ras-gateway',
  domain: 'example.org',
  payload: '486f73746e616d653d7261732d676174657761790a',
  interfaces: [
    { iface: 'eth0', address: '192.0.2.10', sent: 4, lastSentSecAgo: 10, nextInSec: 50 },
    { iface: '198.51.100.1', address: '198.51.100.1', sent: 3, lastSentSecAgo: 10, nextInSec: 50 },
  ],
  ioErrors: { eth0: 1, '198.51.100.1': 0 },
};

const LISTEN: RunningStatus<ListenStatus> = {
  ...RUNNING,
  agent: 'rasadv listen',
  mode: 'listen',
  received: 10,
  accepted: 8,
  drops: { 'not-rasadv': 2 },
  servers: 3,
  stale: 1,
  unknown: 2,
  list: [],
  unknownHeard: true,
  reverseDns: { lookups: 3, found: 1, failed: 1, timedOut: 0, skipped: 1, inFlight: 1, cached: 2 },
};

describe('rasadv metrics', () => {
  it('advertise: advertisements sent per interface (refused sends are the runtime\'s I/O errors)', async () => {
    expect(await exposition(rasadvAdvertiseMetrics, ADVERTISE)).toBe(`# TYPE rasadv_advertise_advertisements_sent_total counter
rasadv_advertise_advertisements_sent_total{interface="eth0"} 4
rasadv_advertise_advertisements_sent_total{interface="198.51.100.1"} 3`);
  });

  it('listen: received, accepted, servers by state, unknown servers, reverse DNS (drops are the runtime\'s)', async () => {
    expect(await exposition(rasadvListenMetrics, LISTEN)).toBe(`# TYPE rasadv_listen_advertisements_received_total counter
rasadv_listen_advertisements_received_total 10
# TYPE rasadv_listen_advertisements_accepted_total counter
rasadv_listen_advertisements_accepted_total 8
# TYPE rasadv_listen_servers gauge
rasadv_listen_servers{state="fresh"} 2
rasadv_listen_servers{state="stale"} 1
# TYPE rasadv_listen_unknown_servers gauge
rasadv_listen_unknown_servers 2
# TYPE rasadv_listen_reverse_dns_lookups_total counter
rasadv_listen_reverse_dns_lookups_total 3
# TYPE rasadv_listen_reverse_dns_results_total counter
rasadv_listen_reverse_dns_results_total{result="found"} 1
rasadv_listen_reverse_dns_results_total{result="failed"} 1
rasadv_listen_reverse_dns_results_total{result="timed_out"} 0
# TYPE rasadv_listen_reverse_dns_skipped_total counter
rasadv_listen_reverse_dns_skipped_total 1`);
  });

  it('listen with --no-resolve: no reverse DNS series', async () => {
    const text = await exposition(rasadvListenMetrics, { ...LISTEN, reverseDns: null });
    expect(text.split('\n').filter((l) => l.startsWith('rasadv_listen_reverse_dns'))).toEqual([]);
  });
});
