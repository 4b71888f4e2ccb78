// teredo-client's metric declarations (agents/teredo-client/metrics.ts) read from literal status objects: the
// qualification state and NAT type as enum gauges, durations in seconds, peers by kind, the engine's counters;
// before qualification (no durations) and without a hook those series are absent, not 0.

import { describe, expect, it } from 'vitest';
import type { RunningStatus } from '../../src/runtime/status.js';
import { teredoClientMetrics } from '../../agents/teredo-client/metrics.js';
import type { ClientStatus } from '../../agents/teredo-client/status.js';
import { RUNNING, exposition } from './metrics-exposition.js';

const QUALIFIED: RunningStatus<ClientStatus> = {
  ...RUNNING,
  agent: 'teredo-client',
  state: 'qualified',
  nat: 'restricted',
  mapping: { endpointIndependent: true, portPreserving: false, portDelta: null, allocation: null },
  address: '2001:0:c612:a:0:f227:39ed:fff4',
  mappedAddress: '198.18.16.11',
  mappedPort: 3115,
  mappedBy: 'server',
  server: 'teredo.example.net',
  serverAddress: '198.18.0.10',
  secondaryServerAddress: '198.18.0.11',
  servers: [{ address: '198.18.0.10', secondaryAddress: '198.18.0.11', inUse: true }],
  type: 'client',
  refreshIntervalSec: 30,
  clientPort: 40000,
  localMapping: '10.1.0.2:40000',
  externalNatMapping: '198.18.16.11:3115',
  interface: 'teredo',
  mtu: 1280,
  defaultRoute: true,
  qualification: 'fast',
  qualificationMs: 350,
  rttMs: 12.5,
  serverHeardAgoSec: 4.2,
  errorCode: null,
  error: null,
  retryInSec: null,
  limitations: [],
  counters: { rsSent: 6, raAccepted: 5, qualifications: 1, addressChanges: 1, offline: 0, serverSwitches: 1, unreachableSent: 2, unreachableLimited: 1, discoverySent: 3, localPeersFound: 1, portsPredicted: 2, randomPortsAssigned: 9, gatewayOpened: 1, gatewayFailed: 2, hairpinBubbles: 4, loadSolicitations: 5, loadAdvertisements: 6, loadRefreshes: 7, loadFallbacks: 8 },
  peers: { count: 3, trusted: 2, max: 1024 },
  drops: {},
  hook: { command: '/usr/local/sbin/teredo-up', runs: 2, failures: 1 },
  portMapping: { mode: 'auto', state: 'mapped', protocol: 'nat-pmp', externalAddress: '198.18.16.11', externalPort: 40000, internalPort: 40000, lifetimeLeftSec: 3541, renewals: 3, recreations: 2, error: null },
};

describe('teredo-client metrics', () => {
  it('qualified: state and NAT type as enums, durations in seconds, peers, counters, hook', async () => {
    expect(await exposition(teredoClientMetrics, QUALIFIED)).toBe(`# TYPE teredo_client_state gauge
teredo_client_state{state="offline"} 0
teredo_client_state{state="probe-primary"} 0
teredo_client_state{state="probe-secondary"} 0
teredo_client_state{state="qualified"} 1
# TYPE teredo_client_nat_type gauge
teredo_client_nat_type{type="cone"} 0
teredo_client_nat_type{type="restricted"} 1
teredo_client_nat_type{type="symmetric"} 0
teredo_client_nat_type{type="unknown"} 0
# TYPE teredo_client_error gauge
teredo_client_error{code="no-answer"} 0
teredo_client_error{code="ra-refused"} 0
teredo_client_error{code="secondary-no-answer"} 0
teredo_client_error{code="symmetric-refused"} 0
teredo_client_error{code="server-lost"} 0
# TYPE teredo_client_qualification_seconds gauge
teredo_client_qualification_seconds 0.35
# TYPE teredo_client_server_rtt_seconds gauge
teredo_client_server_rtt_seconds 0.0125
# TYPE teredo_client_peers gauge
teredo_client_peers{kind="trusted"} 2
teredo_client_peers{kind="untrusted"} 1
# TYPE teredo_client_router_solicitations_sent_total counter
teredo_client_router_solicitations_sent_total 6
# TYPE teredo_client_router_advertisements_accepted_total counter
teredo_client_router_advertisements_accepted_total 5
# TYPE teredo_client_qualifications_total counter
teredo_client_qualifications_total 1
# TYPE teredo_client_address_changes_total counter
teredo_client_address_changes_total 1
# TYPE teredo_client_offline_transitions_total counter
teredo_client_offline_transitions_total 0
# TYPE teredo_client_server_switches_total counter
teredo_client_server_switches_total 1
# TYPE teredo_client_icmpv6_unreachable_sent_total counter
teredo_client_icmpv6_unreachable_sent_total 2
# TYPE teredo_client_icmpv6_unreachable_rate_limited_total counter
teredo_client_icmpv6_unreachable_rate_limited_total 1
# TYPE teredo_client_local_discovery_bubbles_sent_total counter
teredo_client_local_discovery_bubbles_sent_total 3
# TYPE teredo_client_local_peers_found_total counter
teredo_client_local_peers_found_total 1
# TYPE teredo_client_hairpin_bubbles_sent_total counter
teredo_client_hairpin_bubbles_sent_total 4
# TYPE teredo_client_ports_predicted_total counter
teredo_client_ports_predicted_total 2
# TYPE teredo_client_random_ports_assigned_total counter
teredo_client_random_ports_assigned_total 9
# TYPE teredo_client_gateway_mappings_opened_total counter
teredo_client_gateway_mappings_opened_total 1
# TYPE teredo_client_gateway_mappings_unopened_total counter
teredo_client_gateway_mappings_unopened_total 2
# TYPE teredo_client_port_mapping gauge
teredo_client_port_mapping{protocol="pcp"} 0
teredo_client_port_mapping{protocol="nat-pmp"} 1
teredo_client_port_mapping{protocol="upnp"} 0
# TYPE teredo_client_port_mapping_lifetime_seconds gauge
teredo_client_port_mapping_lifetime_seconds 3541
# TYPE teredo_client_port_mapping_renewals_total counter
teredo_client_port_mapping_renewals_total 3
# TYPE teredo_client_port_mapping_recreations_total counter
teredo_client_port_mapping_recreations_total 2
# TYPE teredo_client_load_reduction_solicitations_sent_total counter
teredo_client_load_reduction_solicitations_sent_total 5
# TYPE teredo_client_load_reduction_advertisements_sent_total counter
teredo_client_load_reduction_advertisements_sent_total 6
# TYPE teredo_client_load_reduction_refreshes_total counter
teredo_client_load_reduction_refreshes_total 7
# TYPE teredo_client_load_reduction_fallbacks_total counter
teredo_client_load_reduction_fallbacks_total 8
# TYPE teredo_client_hook_runs_total counter
teredo_client_hook_runs_total 2
# TYPE teredo_client_hook_failures_total counter
teredo_client_hook_failures_total 1`);
  });

  it('probing, never qualified, no hook: no durations and no hook series', async () => {
    const probing: RunningStatus<ClientStatus> = {
      ...QUALIFIED,
      state: 'probe-secondary',
      nat: 'unknown',
      qualificationMs: null,
      rttMs: null,
      hook: null,
      portMapping: { mode: 'auto', state: 'none', protocol: null, externalAddress: null, externalPort: null, internalPort: 40000, lifetimeLeftSec: null, renewals: 0, recreations: 0, error: 'no port mapping' },
    };
    const lines = (await exposition(teredoClientMetrics, probing)).split('\n');
    expect(lines).toContain('teredo_client_state{state="probe-secondary"} 1');
    expect(lines).toContain('teredo_client_nat_type{type="unknown"} 1');
    expect(lines.filter((l) => /^teredo_client_(qualification_seconds|server_rtt_seconds|hook_\w+_total|port_mapping_lifetime_seconds)[ {]/.test(l))).toEqual([]);
    expect(lines).toContain('teredo_client_port_mapping{protocol="nat-pmp"} 0');
  });
});
