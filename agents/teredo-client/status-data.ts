// The JSON object `teredo-client status --json` prints (the agent's part; the runtime adds pid, uptime...). The
// first fields are the stable ones scripts rely on (issue: state, nat, address, mappedAddress, mappedPort,
// server); then the fields of Windows' `netsh interface teredo show state`, then ours.

import type { ClientSnapshot, ClientState, MappingBehaviour, NatType, OfflineCode } from '../../src/engine/teredo/client/client-types.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { formatIpv6 } from '../../src/wire/ipv6-address.js';

export interface ClientStatusJson {
  readonly state: ClientState;
  readonly nat: NatType;
  readonly address: string | null;
  readonly mappedAddress: string | null;
  readonly mappedPort: number | null;
  /**
   * Where the mapping the address embeds comes from: `server` (the origin indication of its RA, RFC 4380 §5.2.1),
   * `gateway` (the gateway's port mapping, behind a symmetric NAT: RFC 6081 §5.3); null without an address.
   */
  readonly mappedBy: 'server' | 'gateway' | null;
  /** The NAT's mapping behaviour (RFC 4787 §4.1) beside the RFC 4380 type; null = not observed. */
  readonly mapping: { readonly [K in keyof MappingBehaviour]: Exclude<MappingBehaviour[K], undefined> | null };
  /** The first server as configured (a name or an address); `servers` has them all. */
  readonly server: string;
  /** The server in use: its two addresses. */
  readonly serverAddress: string;
  readonly secondaryServerAddress: string;
  /** Every server in the order they are tried (the configured ones, names resolved), the one in use marked. */
  readonly servers: readonly { readonly address: string; readonly secondaryAddress: string; readonly inUse: boolean }[];
  readonly type: 'client';
  readonly refreshIntervalSec: number;
  readonly clientPort: number;
  readonly localMapping: string;
  readonly externalNatMapping: string | null;
  readonly interface: string;
  readonly mtu: number;
  readonly defaultRoute: boolean;
  readonly qualification: 'fast' | 'strict';
  readonly qualificationMs: number | null;
  readonly rttMs: number | null;
  readonly serverHeardAgoSec: number | null;
  /** Why not qualified (after a failure): a stable code (client-types.ts OfflineCode) and a sentence. */
  readonly errorCode: OfflineCode | null;
  readonly error: string | null;
  readonly retryInSec: number | null;
  /** What cannot work from here, given the NAT type (docs/teredo-client.md "Which paths work"). */
  readonly limitations: readonly string[];
  readonly counters: Readonly<Record<string, number>>;
}

export interface StatusInputs {
  readonly snapshot: ClientSnapshot;
  readonly serverNames: readonly string[];
  readonly local: Endpoint4;
  readonly interfaceName: string;
  readonly mtu: number;
  readonly defaultRoute: boolean;
  readonly qualification: 'fast' | 'strict';
  /** Sockets of the RFC 6081 §5.4 pool in use (0: the extension is off). */
  readonly portPreservingPool: number;
}

/**
 * Paths that cannot work behind each NAT type (RFC 4380 §5.2.1, RFC 6081 §3), for people reading status; behind a
 * symmetric NAT, by its mapping behaviour (`pool`: sockets of the RFC 6081 §5.4 extension, 0 when it is off).
 */
export function limitationsFor(nat: NatType, state: ClientState, mapping?: MappingBehaviour, pool = 0, byGateway = false): string[] {
  if (state !== 'qualified') return ['no Teredo connectivity until qualified'];
  // The address at the gateway's mapping (RFC 6081 §5.3, client-gateway.ts): only the flow to our server was opened there.
  if (byGateway) return ["Teredo peers using another server than ours are reached once they send first (our bubbles to their server may leave from a port the NAT draws, not the gateway's mapping)"];
  switch (nat) {
    case 'symmetric':
      return [
        mapping?.portPreserving === true && pool > 0
          ? `Teredo peers behind symmetric NATs cannot be reached; those behind port-restricted NATs are, from a socket of their own whose port the NAT keeps (RFC 6081 §5.4), ${pool} at a time`
          : mapping?.allocation === 'sequential' || mapping?.portPreserving === true
            ? 'Teredo peers behind symmetric NATs cannot be reached; those behind port-restricted NATs are when the NAT port predicted for them is right (RFC 6081 Random Port trailer)'
            : 'Teredo peers behind port-restricted or symmetric NATs cannot be reached (their NAT filters the port our NAT picks for them, which nothing predicts)',
        'native IPv6 and cone / address-restricted peers work (relays and peers answer to where our packets come from)',
      ];
    case 'restricted':
      return ['Teredo peers behind a symmetric NAT cannot reach us when our NAT is port-restricted'];
    case 'unknown':
      return ['the secondary server address did not answer: the NAT type (restricted or symmetric) is unknown'];
    case 'cone':
      return [];
  }
}

export function clientStatus(i: StatusInputs): ClientStatusJson {
  const s = i.snapshot;
  const mapped = s.mappedAddr !== undefined && s.mappedPort !== undefined ? `${formatIpv4(s.mappedAddr)}:${s.mappedPort}` : null;
  return {
    state: s.state,
    nat: s.nat,
    mapping: {
      endpointIndependent: s.mapping.endpointIndependent ?? null,
      portPreserving: s.mapping.portPreserving ?? null,
      portDelta: s.mapping.portDelta ?? null,
      allocation: s.mapping.allocation ?? null,
    },
    address: s.address ? formatIpv6(s.address) : null,
    mappedAddress: s.mappedAddr !== undefined ? formatIpv4(s.mappedAddr) : null,
    mappedPort: s.mappedPort ?? null,
    mappedBy: s.address === undefined ? null : s.mappedByGateway ? 'gateway' : 'server',
    server: i.serverNames[0] ?? '',
    serverAddress: formatIpv4(s.primary),
    secondaryServerAddress: formatIpv4(s.secondary),
    servers: s.servers.map((p, n) => ({ address: formatIpv4(p.primary), secondaryAddress: formatIpv4(p.secondary), inUse: n === s.serverIndex })),
    type: 'client',
    refreshIntervalSec: s.refreshIntervalMs / 1000,
    clientPort: i.local.port,
    localMapping: `${formatIpv4(i.local.addr)}:${i.local.port}`,
    externalNatMapping: mapped,
    interface: i.interfaceName,
    mtu: i.mtu,
    defaultRoute: i.defaultRoute,
    qualification: i.qualification,
    qualificationMs: s.qualificationMs ?? null,
    rttMs: s.rttMs ?? null,
    serverHeardAgoSec: s.serverHeardAgoMs === undefined ? null : Math.round(s.serverHeardAgoMs / 100) / 10,
    errorCode: s.errorCode ?? null,
    error: s.error ?? null,
    retryInSec: s.retryInMs === undefined ? null : Math.round(s.retryInMs / 100) / 10,
    limitations: limitationsFor(s.nat, s.state, s.mapping, i.portPreservingPool, s.mappedByGateway),
    counters: s.counters,
  };
}
