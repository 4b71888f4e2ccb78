// ra-sender's metrics for --metrics (src/runtime/metrics.ts adds info, reloads and I/O errors), every one per
// advertising interface (label `interface`): its state as an enum gauge, Router Advertisements sent by kind,
// Router Solicitations received and how they were answered (RFC 4861 §6.2.6), other routers' RAs and their
// inconsistencies (§6.2.7), send errors, and drops by reason. The drops replace the runtime's
// ra_sender_drops_total{reason}: here they have an interface too. Read from the status object (status.ts) at
// each scrape; an interface whose engine has not started yet (counters null) has no counter samples. Monitor
// mode (--monitor) adds the other routers kept, their prefixes and expired default routes.

import { samplesBy, stateSamples, type MetricSample, type MetricSpec } from '../../src/runtime/metrics.js';
import type { InterfaceState } from './interface.js';
import type { InterfaceStatus, RaSenderStatus } from './status.js';

/** Every state, so that the compiler finds one added to InterfaceState and missing here. */
const STATES = Object.keys({ 'waiting-for-interface': 0, 'waiting-for-dad': 0, advertising: 0, monitoring: 0, refused: 0, stopping: 0, stopped: 0 } satisfies Record<InterfaceState, 0>);

type Counters = NonNullable<InterfaceStatus['counters']>;

/** The samples of `read` for every interface whose engine runs, each with its interface label. */
function perInterface(read: (c: Counters, i: Readonly<Record<string, string>>) => MetricSample[]): (s: RaSenderStatus) => MetricSample[] {
  return (s) => s.interfaces.flatMap((i) => (i.counters ? read(i.counters, { interface: i.interface }) : []));
}

/** One counter per interface, no other label. */
const single = (value: (c: Counters) => number) => perInterface((c, labels) => [{ labels, value: value(c) }]);

export const raSenderMetrics: readonly MetricSpec<RaSenderStatus>[] = [
  {
    name: 'ra_sender_interface_state',
    type: 'gauge',
    help: 'The state of each interface: 1 for the current one (waiting-for-interface, waiting-for-dad, advertising, refused, stopping, stopped), 0 for the others.',
    labelNames: ['interface', 'state'],
    read: (s) => s.interfaces.flatMap((i) => stateSamples('state', STATES, i.state, { interface: i.interface })),
  },
  {
    name: 'ra_sender_router_advertisements_sent_total',
    type: 'counter',
    help: 'Router Advertisements sent, by kind: unsolicited = the schedule\'s multicast RAs (RFC 4861 §6.2.4; RSs may bring one forward, §6.2.6), solicited = unicast answers to an RS, final = router lifetime 0 at stop (§6.2.5).',
    labelNames: ['interface', 'kind'],
    read: perInterface((c, i) => samplesBy('kind', { unsolicited: c.advertisements - c.finalAdvertisements, solicited: c.answeredUnicast, final: c.finalAdvertisements }, i)),
  },
  {
    name: 'ra_sender_router_advertisement_messages_sent_total',
    type: 'counter',
    help: 'RA messages handed to the socket: an RA split for size counts each part, an RA to N listed clients counts N.',
    labelNames: ['interface'],
    read: single((c) => c.messagesSent),
  },
  {
    name: 'ra_sender_router_solicitations_received_total',
    type: 'counter',
    help: 'Router Solicitations received, valid or not (RFC 4861 §6.1.1; the invalid ones are also in ra_sender_drops_total).',
    labelNames: ['interface'],
    read: single((c) => c.solicitations),
  },
  {
    name: 'ra_sender_router_solicitations_answered_total',
    type: 'counter',
    help: 'Router Solicitations answered (RFC 4861 §6.2.6), by reply: unicast (an RA to the soliciting host at once) or multicast (coalesced into the next multicast RA).',
    labelNames: ['interface', 'reply'],
    read: perInterface((c, i) => samplesBy('reply', { unicast: c.answeredUnicast, multicast: c.answeredMulticast }, i)),
  },
  {
    name: 'ra_sender_router_advertisements_received_total',
    type: 'counter',
    help: 'Router Advertisements received from other routers on the link (RFC 4861 §6.2.7).',
    labelNames: ['interface'],
    read: single((c) => c.advertsReceived),
  },
  {
    name: 'ra_sender_inconsistent_advertisements_total',
    type: 'counter',
    help: 'Other routers\' RAs that differ from ours, by field (RFC 4861 §6.2.7: cur-hop-limit, managed-flag, other-config-flag, reachable-time, retrans-timer, mtu, prefix-valid-lifetime, prefix-preferred-lifetime).',
    labelNames: ['interface', 'field'],
    read: (s) => s.interfaces.flatMap((i) => samplesBy('field', i.inconsistencies, { interface: i.interface })),
  },
  {
    name: 'ra_sender_drops_total',
    type: 'counter',
    help: 'Packets dropped, by interface and reason (the engine\'s drop reason names: invalid RSs, RSs while not advertising, rate limits).',
    labelNames: ['interface', 'reason'],
    read: (s) => s.interfaces.flatMap((i) => samplesBy('reason', i.drops, { interface: i.interface })),
  },
  {
    name: 'ra_sender_monitor_routers',
    type: 'gauge',
    help: 'Monitor mode (--monitor): other routers whose RAs are kept (at most 16), by whether they are a default router now (router lifetime not run out).',
    labelNames: ['interface', 'kind'],
    read: (s) => s.interfaces.flatMap((i) => (i.monitor ? samplesBy('kind', { default: i.monitor.routers.filter((r) => r.defaultRouteRemainingSec !== null).length, other: i.monitor.routers.filter((r) => r.defaultRouteRemainingSec === null).length }, { interface: i.interface }) : [])),
  },
  {
    name: 'ra_sender_monitor_prefixes',
    type: 'gauge',
    help: 'Monitor mode: prefixes the other routers advertise with a valid lifetime not run out, summed over routers.',
    labelNames: ['interface'],
    read: (s) => s.interfaces.flatMap((i) => (i.monitor ? [{ labels: { interface: i.interface }, value: i.monitor.routers.reduce((n, r) => n + r.prefixes.length, 0) }] : [])),
  },
  {
    name: 'ra_sender_monitor_default_route_expirations_total',
    type: 'counter',
    help: "Monitor mode: other routers' default routes that ran out (their router lifetime passed with no new RA from them): the hosts lost that router.",
    labelNames: ['interface'],
    read: (s) => s.interfaces.flatMap((i) => (i.monitor ? [{ labels: { interface: i.interface }, value: i.monitor.defaultRouteExpirations }] : [])),
  },
  {
    name: 'ra_sender_monitor_evictions_total',
    type: 'counter',
    help: 'Monitor mode: routers forgotten to make room for a new one (the table holds 16 per interface).',
    labelNames: ['interface'],
    read: (s) => s.interfaces.flatMap((i) => (i.monitor ? [{ labels: { interface: i.interface }, value: i.monitor.evictions }] : [])),
  },
  {
    name: 'ra_sender_deprecated_prefixes',
    type: 'gauge',
    help: 'Prefixes that left the configuration, still advertised with preferred lifetime 0 and a valid lifetime counting down (RFC 4862 §5.5.4).',
    labelNames: ['interface'],
    read: (s) => s.interfaces.map((i) => ({ labels: { interface: i.interface }, value: i.deprecated.length })),
  },
];
