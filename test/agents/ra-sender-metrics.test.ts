// ra-sender's metric declarations (agents/ra-sender/metrics.ts) read from a literal status object with two
// interfaces, one advertising and one still waiting for its interface (no counters yet): every series carries
// the interface; RAs sent by kind, RSs received and answered, other routers' RAs and their inconsistencies,
// send errors, drops by interface and reason; the link's MTU, forwarding and the RA content are not exported.

import { describe, expect, it } from 'vitest';
import type { RunningStatus } from '../../src/runtime/status.js';
import { raSenderMetrics } from '../../agents/ra-sender/metrics.js';
import type { InterfaceStatus, RaSenderStatus } from '../../agents/ra-sender/status.js';
import { RUNNING, exposition } from './metrics-exposition.js';
import type { MonitoredRouterStatus } from '../../agents/ra-sender/monitor-status.js';

const WAITING: InterfaceStatus = {
  interface: 'eth2',
  state: 'waiting-for-interface',
  linkLocal: null,
  ifindex: null,
  mtu: null,
  forwarding: null,
  problems: [],
  warnings: [],
  counters: null,
  drops: {},
  inconsistencies: {},
  lastAdvertSecAgo: null,
  nextAdvertInSec: null,
  monitor: null,
  deprecated: [],
  lastRa: null,
  driver: null,
};

const PREFIX = { prefix: '2001:db8:2::/64', onLink: true, autonomous: true, validLifetime: 3000, preferredLifetime: 1000 } as const;
const ROUTER: MonitoredRouterStatus = {
  router: 'fe80::2',
  firstHeardSecAgo: 60,
  lastHeardSecAgo: 5,
  advertisements: 7,
  inconsistencies: 2,
  curHopLimit: 64,
  managed: false,
  otherConfig: false,
  preference: 'medium',
  routerLifetime: 1800,
  defaultRouteRemainingSec: 1500,
  reachableTimeMs: 0,
  retransTimerMs: 0,
  mtu: null,
  prefixes: [PREFIX],
  lastRa: null,
};

const STATUS: RunningStatus<RaSenderStatus> = {
  ...RUNNING,
  agent: 'ra-sender',
  interfaces: [
    {
      ...WAITING,
      interface: 'eth1',
      state: 'advertising',
      linkLocal: 'fe80::1',
      ifindex: 3,
      mtu: 1500,
      forwarding: true,
      counters: { advertisements: 9, finalAdvertisements: 0, solicitations: 5, answeredUnicast: 1, answeredMulticast: 3, messagesSent: 10, advertsReceived: 2 },
      drops: { 'rs-hop-limit-not-255': 1 },
      inconsistencies: { mtu: 2 },
      lastAdvertSecAgo: 100,
      nextAdvertInSec: 200,
      deprecated: [{ prefix: '2001:db8:1::/64', remainingSec: 7000 }],
      monitor: {
        routers: [
          { ...ROUTER, router: 'fe80::2', defaultRouteRemainingSec: 1500, prefixes: [PREFIX, { ...PREFIX, prefix: '2001:db8:3::/64' }] },
          { ...ROUTER, router: 'fe80::3', routerLifetime: 0, defaultRouteRemainingSec: null },
        ],
        defaultRouteExpirations: 4,
        evictions: 1,
      },
      lastRa: { routerLifetime: 1800 },
      driver: { batches: 20, timeouts: 9, drops: { 'rs-hop-limit-not-255': 1 }, errors: 0, nextTimeout: 1 },
    },
    WAITING,
  ],
};

describe('ra-sender metrics', () => {
  it('declares per-interface state, RAs by kind, RSs by reply, inconsistencies, monitor mode, send errors and drops', async () => {
    expect(await exposition(raSenderMetrics, STATUS)).toBe(`# TYPE ra_sender_interface_state gauge
ra_sender_interface_state{interface="eth1",state="waiting-for-interface"} 0
ra_sender_interface_state{interface="eth1",state="waiting-for-dad"} 0
ra_sender_interface_state{interface="eth1",state="advertising"} 1
ra_sender_interface_state{interface="eth1",state="monitoring"} 0
ra_sender_interface_state{interface="eth1",state="refused"} 0
ra_sender_interface_state{interface="eth1",state="stopping"} 0
ra_sender_interface_state{interface="eth1",state="stopped"} 0
ra_sender_interface_state{interface="eth2",state="waiting-for-interface"} 1
ra_sender_interface_state{interface="eth2",state="waiting-for-dad"} 0
ra_sender_interface_state{interface="eth2",state="advertising"} 0
ra_sender_interface_state{interface="eth2",state="monitoring"} 0
ra_sender_interface_state{interface="eth2",state="refused"} 0
ra_sender_interface_state{interface="eth2",state="stopping"} 0
ra_sender_interface_state{interface="eth2",state="stopped"} 0
# TYPE ra_sender_router_advertisements_sent_total counter
ra_sender_router_advertisements_sent_total{interface="eth1",kind="unsolicited"} 9
ra_sender_router_advertisements_sent_total{interface="eth1",kind="solicited"} 1
ra_sender_router_advertisements_sent_total{interface="eth1",kind="final"} 0
# TYPE ra_sender_router_advertisement_messages_sent_total counter
ra_sender_router_advertisement_messages_sent_total{interface="eth1"} 10
# TYPE ra_sender_router_solicitations_received_total counter
ra_sender_router_solicitations_received_total{interface="eth1"} 5
# TYPE ra_sender_router_solicitations_answered_total counter
ra_sender_router_solicitations_answered_total{interface="eth1",reply="unicast"} 1
ra_sender_router_solicitations_answered_total{interface="eth1",reply="multicast"} 3
# TYPE ra_sender_router_advertisements_received_total counter
ra_sender_router_advertisements_received_total{interface="eth1"} 2
# TYPE ra_sender_inconsistent_advertisements_total counter
ra_sender_inconsistent_advertisements_total{interface="eth1",field="mtu"} 2
# TYPE ra_sender_drops_total counter
ra_sender_drops_total{interface="eth1",reason="rs-hop-limit-not-255"} 1
# TYPE ra_sender_monitor_routers gauge
ra_sender_monitor_routers{interface="eth1",kind="default"} 1
ra_sender_monitor_routers{interface="eth1",kind="other"} 1
# TYPE ra_sender_monitor_prefixes gauge
ra_sender_monitor_prefixes{interface="eth1"} 3
# TYPE ra_sender_monitor_default_route_expirations_total counter
ra_sender_monitor_default_route_expirations_total{interface="eth1"} 4
# TYPE ra_sender_monitor_evictions_total counter
ra_sender_monitor_evictions_total{interface="eth1"} 1
# TYPE ra_sender_deprecated_prefixes gauge
ra_sender_deprecated_prefixes{interface="eth1"} 1
ra_sender_deprecated_prefixes{interface="eth2"} 0`);
  });

  it('final RAs at stop are their own kind, not counted as unsolicited', async () => {
    const eth1 = STATUS.interfaces[0]!;
    const stopping: RunningStatus<RaSenderStatus> = { ...STATUS, interfaces: [{ ...eth1, state: 'stopped', counters: { ...eth1.counters!, advertisements: 12, finalAdvertisements: 3 } }] };
    expect((await exposition(raSenderMetrics, stopping)).split('\n').filter((l) => l.startsWith('ra_sender_router_advertisements_sent_total'))).toEqual([
      'ra_sender_router_advertisements_sent_total{interface="eth1",kind="unsolicited"} 9',
      'ra_sender_router_advertisements_sent_total{interface="eth1",kind="solicited"} 1',
      'ra_sender_router_advertisements_sent_total{interface="eth1",kind="final"} 3',
    ]);
  });
});
