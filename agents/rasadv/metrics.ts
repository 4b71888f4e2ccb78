// rasadv's metrics for --metrics, one list per mode (src/runtime/metrics.ts adds info, reloads, drops and I/O
// errors under rasadv_advertise_ / rasadv_listen_: a refused advertisement is an I/O error of its interface's port).
// Read from the status objects (status.ts) at each scrape; docs/metrics.md lists them.

import { samplesBy, type MetricSpec } from '../../src/runtime/metrics.js';
import type { AdvertiseStatus, ListenStatus } from './status.js';

export const rasadvAdvertiseMetrics: readonly MetricSpec<AdvertiseStatus>[] = [
  {
    name: 'rasadv_advertise_advertisements_sent_total',
    type: 'counter',
    help: 'Advertisements ([MS-RASA] §2.2.1 datagrams to 239.255.2.2:9753) sent, by egress interface (the --interface as given, "default" without one).',
    labelNames: ['interface'],
    read: (s) => s.interfaces.map((i) => ({ labels: { interface: i.iface }, value: i.sent })),
  },
];

export const rasadvListenMetrics: readonly MetricSpec<ListenStatus>[] = [
  {
    name: 'rasadv_listen_advertisements_received_total',
    type: 'counter',
    help: 'Datagrams received on 239.255.2.2:9753, accepted or dropped.',
    read: (s) => s.received,
  },
  {
    name: 'rasadv_listen_advertisements_accepted_total',
    type: 'counter',
    help: 'Advertisements ([MS-RASA] §2.2.1) accepted into the server list.',
    read: (s) => s.accepted,
  },
  {
    name: 'rasadv_listen_servers',
    type: 'gauge',
    help: 'RAS servers in the list, by state: fresh, or stale (not heard for the stale time, by default 2 advertisement intervals, [MS-RASA] §3.1.2).',
    labelNames: ['state'],
    read: (s) => samplesBy('state', { fresh: s.servers - s.stale, stale: s.stale }),
  },
  {
    name: 'rasadv_listen_unknown_servers',
    type: 'gauge',
    help: 'Listed RAS servers not on --allow (every one without --allow).',
    read: (s) => s.unknown,
  },
  {
    name: 'rasadv_listen_reverse_dns_lookups_total',
    type: 'counter',
    help: 'Reverse DNS lookups of senders started; absent with --no-resolve.',
    read: (s) => (s.reverseDns ? s.reverseDns.lookups : []),
  },
  {
    name: 'rasadv_listen_reverse_dns_results_total',
    type: 'counter',
    help: 'Reverse DNS lookups finished, by result: found, failed, timed_out; absent with --no-resolve.',
    labelNames: ['result'],
    read: (s) => (s.reverseDns ? samplesBy('result', { found: s.reverseDns.found, failed: s.reverseDns.failed, timed_out: s.reverseDns.timedOut }) : []),
  },
  {
    name: 'rasadv_listen_reverse_dns_skipped_total',
    type: 'counter',
    help: 'Reverse DNS lookups not started because too many were in flight; absent with --no-resolve.',
    read: (s) => (s.reverseDns ? s.reverseDns.skipped : []),
  },
];
