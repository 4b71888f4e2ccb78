// teredo-client's metrics for --metrics (src/runtime/metrics.ts adds info, reloads, drops and I/O errors): the
// qualification state and NAT type as enum gauges (one series per value, 1 for the current one), how long the
// last qualification took and the server's round trip, the peers, and the engine's counters (RSs sent, RAs
// accepted, qualifications, ...). Read from the status object (status.ts; its fields may be missing) at each
// scrape; docs/metrics.md lists them.

import type { ClientState, NatType, OfflineCode } from '../../src/engine/teredo/client/client-types.js';
import { optional, samplesBy, stateSamples, type MetricSpec } from '../../src/runtime/metrics.js';
import type { ClientStatus } from './status.js';
import type { PortMappingProtocol } from '../../src/io/port-mapper.js';

/** Every value, so that the compiler finds one added to the type and missing here. */
const STATES = Object.keys({ offline: 0, 'probe-primary': 0, 'probe-secondary': 0, qualified: 0 } satisfies Record<ClientState, 0>);
const NAT_TYPES = Object.keys({ cone: 0, restricted: 0, symmetric: 0, unknown: 0 } satisfies Record<NatType, 0>);
const ERROR_CODES = Object.keys({ 'no-answer': 0, 'ra-refused': 0, 'secondary-no-answer': 0, 'symmetric-refused': 0, 'server-lost': 0 } satisfies Record<OfflineCode, 0>);

const MAPPING_PROTOCOLS = Object.keys({ pcp: 0, 'nat-pmp': 0, upnp: 0 } satisfies Record<PortMappingProtocol, 0>);

const seconds = (ms: number | null | undefined): number | null => (ms === null || ms === undefined ? null : ms / 1000);

/** One of the engine's counters (client.ts snapshot), by its key. */
const counter = (name: string, key: string, help: string): MetricSpec<ClientStatus> => ({ name, type: 'counter', help, read: (s) => optional(s.counters?.[key]) });

export const teredoClientMetrics: readonly MetricSpec<ClientStatus>[] = [
  {
    name: 'teredo_client_state',
    type: 'gauge',
    help: 'The qualification state (RFC 4380 §5.2.1): 1 for the current one (offline, probe-primary, probe-secondary, qualified), 0 for the others.',
    labelNames: ['state'],
    read: (s) => stateSamples('state', STATES, s.state),
  },
  {
    name: 'teredo_client_nat_type',
    type: 'gauge',
    help: 'The NAT type the last qualification found (RFC 4380 §5.2.1, RFC 6081 §3): 1 for the current one, 0 for the others.',
    labelNames: ['type'],
    read: (s) => stateSamples('type', NAT_TYPES, s.nat),
  },
  {
    name: 'teredo_client_error',
    type: 'gauge',
    help: 'Why the client is not qualified after a failure (status errorCode): 1 for the current code, all 0 when qualified or never failed.',
    labelNames: ['code'],
    read: (s) => stateSamples('code', ERROR_CODES, s.errorCode ?? undefined),
  },
  {
    name: 'teredo_client_qualification_seconds',
    type: 'gauge',
    help: 'How long the last qualification took, from the first RS to the address; absent before the first.',
    read: (s) => optional(seconds(s.qualificationMs)),
  },
  {
    name: 'teredo_client_server_rtt_seconds',
    type: 'gauge',
    help: 'Round-trip time to the Teredo server, RS to RA, of the last exchange; absent before the first.',
    read: (s) => optional(seconds(s.rttMs)),
  },
  {
    name: 'teredo_client_peers',
    type: 'gauge',
    help: 'Peers in the peer table (RFC 4380 §5.2), by kind: trusted (their mapping proved) or untrusted.',
    labelNames: ['kind'],
    read: (s) => (s.peers ? samplesBy('kind', { trusted: s.peers.trusted, untrusted: s.peers.count - s.peers.trusted }) : []),
  },
  counter('teredo_client_router_solicitations_sent_total', 'rsSent', 'Router Solicitations sent to the server, qualification and maintenance (RFC 4380 §5.2.1, §5.2.5).'),
  counter('teredo_client_router_advertisements_accepted_total', 'raAccepted', 'Router Advertisements from the server accepted (nonce and origin indication checked).'),
  counter('teredo_client_qualifications_total', 'qualifications', 'Qualifications that ended with an address.'),
  counter('teredo_client_address_changes_total', 'addressChanges', 'Times the Teredo address was set, the first one included (a new mapping, server or NAT type changes it).'),
  counter('teredo_client_offline_transitions_total', 'offline', 'Times the client went offline: the server did not answer a qualification or maintenance RS.'),
  counter('teredo_client_server_switches_total', 'serverSwitches', 'Times the client moved to another configured server: to the next when one stopped answering, back to the first when it answered again.'),
  counter('teredo_client_icmpv6_unreachable_sent_total', 'unreachableSent', 'ICMPv6 Destination Unreachable errors sent for packets the client cannot deliver.'),
  counter('teredo_client_icmpv6_unreachable_rate_limited_total', 'unreachableLimited', 'ICMPv6 errors not sent because of the rate limit (RFC 4443 §2.4 f).'),
  counter('teredo_client_local_discovery_bubbles_sent_total', 'discoverySent', 'Local discovery bubbles sent to 224.0.0.253:3544 (RFC 4380 §5.2.8).'),
  counter('teredo_client_local_peers_found_total', 'localPeersFound', 'Teredo clients found on the link (local discovery, or the RFC 6081 hairpinning extension), reached at their LAN address.'),
  counter('teredo_client_hairpin_bubbles_sent_total', 'hairpinBubbles', 'Bubbles sent to the local addresses a Teredo client behind our own NAT announced (RFC 6081 hairpinning extension, Alternate Address trailer).'),
  counter('teredo_client_ports_predicted_total', 'portsPredicted', 'NAT ports predicted for flows toward peers behind a sequential or port-preserving symmetric NAT (RFC 6081 Random Port trailer).'),
  counter('teredo_client_random_ports_assigned_total', 'randomPortsAssigned', 'Pool sockets handed to Teredo peers behind a port-preserving symmetric NAT, their port named in a Random Port trailer (RFC 6081 §5.4 port-preserving symmetric NAT extension).'),
  counter('teredo_client_gateway_mappings_opened_total', 'gatewayOpened', 'Qualifications that opened the gateway\'s port mapping toward the server first, so the address embeds it (RFC 6081 §5.3 UPnP-enabled symmetric NAT extension).'),
  counter('teredo_client_gateway_mappings_unopened_total', 'gatewayFailed', 'Qualifications whose bubble through the server to the gateway\'s port mapping never came back: qualified without it.'),
  {
    name: 'teredo_client_port_mapping',
    type: 'gauge',
    help: 'The NAT mapping of the Teredo port (--port-mapping): 1 for the protocol that made it (pcp, nat-pmp, upnp), all 0 without one.',
    labelNames: ['protocol'],
    read: (s) => stateSamples('protocol', MAPPING_PROTOCOLS, s.portMapping?.protocol ?? undefined),
  },
  {
    name: 'teredo_client_port_mapping_lifetime_seconds',
    type: 'gauge',
    help: 'Seconds until the NAT forgets the port mapping unless renewed (renewed halfway); absent without one.',
    read: (s) => optional(s.portMapping?.lifetimeLeftSec),
  },
  { name: 'teredo_client_port_mapping_renewals_total', type: 'counter', help: 'Port mapping renewals the NAT granted (RFC 6886 §3.3 halfway renewal).', read: (s) => optional(s.portMapping?.renewals) },
  {
    name: 'teredo_client_port_mapping_recreations_total',
    type: 'counter',
    help: 'Port mappings made again at once after the NAT lost them (PCP: its epoch showed a restart, RFC 6887 §8.5, §14.1.3 ANNOUNCE).',
    read: (s) => optional(s.portMapping?.recreations),
  },
  counter('teredo_client_load_reduction_solicitations_sent_total', 'loadSolicitations', 'Direct bubbles with a Neighbor Discovery Option solicitation sent to trusted peers not heard for 30 s, instead of indirect bubbles through their server (RFC 6081 server load reduction extension).'),
  counter('teredo_client_load_reduction_advertisements_sent_total', 'loadAdvertisements', 'Direct bubbles with a Neighbor Discovery Option advertisement sent in answer to solicitations from peers (RFC 6081 server load reduction extension).'),
  counter('teredo_client_load_reduction_refreshes_total', 'loadRefreshes', 'Paths to trusted peers refreshed by their advertisement, without their server (RFC 6081 server load reduction extension).'),
  counter('teredo_client_load_reduction_fallbacks_total', 'loadFallbacks', 'Solicitations not answered within 2 s: the peer was then bubbled through its server (RFC 4380), as it is from then on.'),
  { name: 'teredo_client_hook_runs_total', type: 'counter', help: 'Runs of the --hook program; absent without one.', read: (s) => optional(s.hook?.runs) },
  { name: 'teredo_client_hook_failures_total', type: 'counter', help: 'Runs of the --hook program that failed; absent without one.', read: (s) => optional(s.hook?.failures) },
];
