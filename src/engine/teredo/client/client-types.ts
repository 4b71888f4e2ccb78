// The Teredo client engine's vocabulary (RFC 4380 §5.2, RFC 5991): parameters with their defaults, the states
// of qualification (§5.2.1) as Windows names them (`netsh interface teredo show state`), the NAT types it
// detects, the sink it writes into, and every drop reason, kebab-case and tied to the clause it enforces.
//
//   offline ──start──► probe-primary ──non-cone RA, cone window over──► probe-secondary ──RA──► qualified
//      ▲                    │ cone RA (from the other server address) ──────────────────────────► qualified
//      └──backoff◄── N×T without an RA (either probe phase, or the maintenance RS of §5.2.5) ◄──────┘

import type { DropSink, Millis } from '../../types.js';
import type { ServerPair } from './client-ra.js';
import { isIpv4Number } from '../../../wire/ipv4.js';

export type ClientState = 'offline' | 'probe-primary' | 'probe-secondary' | 'qualified';

/**
 * What qualification found (§5.2.1): `cone` = the RA to the cone-bit RS came back from the server's other
 * address; `restricted` = it did not, and both server addresses saw the same mapping (address- or
 * port-restricted); `symmetric` = the two addresses saw different mappings; `unknown` = not (yet) known, e.g. the
 * secondary address never answered.
 */
export type NatType = 'cone' | 'restricted' | 'symmetric' | 'unknown';

/**
 * The NAT's mapping behaviour as qualification saw it (RFC 4787 §4.1), beside the RFC 4380 type:
 * `endpointIndependent` = the probe port got the same external address:port toward both server addresses (a cone
 * NAT is endpoint-independent by definition); `portPreserving` = the Teredo port's external port is its local
 * port; for an endpoint-dependent mapping, `portDelta` = the probe port's second external port minus its first
 * (mod 65536) and `allocation` = `sequential` when that delta is 1..SEQUENTIAL_PORT_DELTA_MAX, else `random`.
 * undefined = not observed (e.g. the secondary address did not answer, or the local port is not known).
 */
export interface MappingBehaviour {
  readonly endpointIndependent: boolean | undefined;
  readonly portPreserving: boolean | undefined;
  readonly portDelta: number | undefined;
  readonly allocation: 'sequential' | 'random' | undefined;
}

/** The largest port step between two consecutive mappings still called sequential (other hosts may take a few ports between). */
export const SEQUENTIAL_PORT_DELTA_MAX = 16;

/**
 * Why the client is not qualified, as a stable code for scripts (status `errorCode`, the hook's ERROR_CODE) and a
 * sentence for people (status `error`):
 *   no-answer            no RA from the server at all (UDP to port 3544 blocked on the way, or the server is down)
 *   ra-refused           the server answered, but every RA broke an acceptance rule (the sentence names it)
 *   secondary-no-answer  strict mode: the secondary address never answered the symmetric-NAT test
 *   symmetric-refused    behind a symmetric NAT with refuseSymmetric set
 *   server-lost          qualified, then the maintenance RSs went unanswered (§5.2.5)
 */
export type OfflineCode = 'no-answer' | 'ra-refused' | 'secondary-no-answer' | 'symmetric-refused' | 'server-lost';

/** `fast` (default): cone and non-cone RS together, an RTT-derived cone window. `strict`: RFC 4380's phases in turn. */
export type QualificationMode = 'fast' | 'strict';

export interface TeredoClientParams {
  /** Primary server IPv4 (int32, wire/ipv4.ts; a uint32 is normalized): RSs go here, and it is embedded in the Teredo prefix 2001:0:<primary>::/64. */
  readonly primary: number;
  /**
   * Secondary server IPv4 (int32 or uint32); default primary + 1: RFC 4380 §5.2 leaves it to configuration, and Windows
   * assumes the next address (Miredo's misc/miredo-server.conf-in says so).
   */
  readonly secondary?: number;
  /** §5.2.1 T: how long each RS waits for its RA, ms. Default 4000. */
  readonly probeTimeoutMs?: number;
  /** §5.2.1 N: RSs per phase before giving the phase up. Default 3. */
  readonly probeAttempts?: number;
  readonly qualification?: QualificationMode;
  /**
   * Fast mode: after the non-cone RA, how long to wait for the cone RA: max(coneWindowMinMs, 2 x the measured
   * round trip), never more than T. Default 100 ms: both RAs leave the server at once, so only jitter between
   * the server's two addresses separates them.
   */
  readonly coneWindowMinMs?: number;
  /** §2.15 refresh interval, ms; the maintenance timer runs at a uniform 75-100 % of it (§5.2.5). Default 30000. */
  readonly refreshIntervalMs?: number;
  /** First wait after a failed qualification, ms, doubled per failure. Default 2000. */
  readonly backoffInitialMs?: number;
  /** Cap of that wait, ms. Default 30000 (Miredo waits 100 s; Windows stays offline until restarted). */
  readonly backoffMaxMs?: number;
  /** Strict RFC 4380 §5.2.1: behind a symmetric NAT stay offline instead of bringing the address up. Default false. */
  readonly refuseSymmetric?: boolean;
  /**
   * Servers to fall over to, in order, when the current one stops answering (qualification or maintenance);
   * each secondary defaults to its primary + 1. After a round of all of them the client backs off and starts
   * again from the primary. Default none.
   */
  readonly fallbacks?: readonly { readonly primary: number; readonly secondary?: number }[];
  /** While qualified with a fallback, how often to ask the first server whether it is back, ms. Default 60000. */
  readonly preferredRetryMs?: number;
  /** The local ports of the Teredo and probe sockets, only to report port preservation; 0 = unknown. Default 0. */
  readonly localPort?: number;
  readonly probeLocalPort?: number;
  /** RFC 4380 §5.2.8 local client discovery (client-local.ts): multicast bubbles on the LAN. Default true. */
  readonly localDiscovery?: boolean;
  /**
   * The Teredo socket's local IPv4 address (int32), announced with localPort in the Alternate Address trailer of
   * the bubbles to peers behind our own NAT (RFC 6081 §5.6, client-hairpin.ts); 0 = unknown: none announced.
   * Default 0.
   */
  readonly localAddress?: number;
  /** RFC 6081 §5.6 Hairpinning Extension (client-hairpin.ts): announce and use local alternates. Default true. */
  readonly hairpinning?: boolean;
  /**
   * RFC 6081 §5.7 Server Load Reduction Extension (client-load.ts): a lapsed trusted peer is asked directly with a
   * Neighbor Discovery Option trailer before its server is bothered, and such questions are answered. Default true.
   */
  readonly serverLoadReduction?: boolean;
  /**
   * RFC 6081 §5.4 Port-Preserving Symmetric NAT Extension (client-pps.ts): behind such a NAT each peer is reached
   * from a pool socket of its own, its port told in a Random Port trailer. Default true (it needs a pool).
   */
  readonly portPreserving?: boolean;
  /**
   * The local ports of the agent's pool sockets (index = ClientSink.sendUdpFrom's `socket`), at most 255;
   * default none: the extension is never used.
   */
  readonly portPreservingPorts?: readonly number[];
  /**
   * The gateway's mapping of the Teredo port (UPnP IGD, NAT-PMP or PCP; agents/teredo-client/port-mapping.ts):
   * its external IPv4 (int32) and port. Behind a symmetric NAT whose public address it is, the Teredo address
   * embeds it, with the cone bit (RFC 6081 §5.3, client.ts). Default none.
   */
  readonly portMapping?: PortMappingEndpoint;
}

/** An external IPv4 address (int32) and port. */
export interface PortMappingEndpoint {
  readonly addr: number;
  readonly port: number;
}

/** The parameters with defaults applied. */
export type ClientConfig = Required<Omit<TeredoClientParams, 'fallbacks' | 'portMapping'>> & {
  readonly fallbacks: readonly ServerPair[];
  readonly portMapping: PortMappingEndpoint | undefined;
};

export const CLIENT_DEFAULTS = {
  probeTimeoutMs: 4000,
  probeAttempts: 3,
  qualification: 'fast',
  coneWindowMinMs: 100,
  refreshIntervalMs: 30_000,
  backoffInitialMs: 2000,
  backoffMaxMs: 30_000,
  refuseSymmetric: false,
  preferredRetryMs: 60_000,
  localDiscovery: true,
  hairpinning: true,
  serverLoadReduction: true,
  portPreserving: true,
} as const satisfies Partial<TeredoClientParams>;

/** Applies the defaults; RangeError for values no configuration should let through. */
export function resolveClientConfig(p: TeredoClientParams): ClientConfig {
  const c: ClientConfig = {
    primary: p.primary | 0,
    secondary: p.secondary !== undefined ? p.secondary | 0 : (p.primary + 1) | 0,
    probeTimeoutMs: p.probeTimeoutMs ?? CLIENT_DEFAULTS.probeTimeoutMs,
    probeAttempts: p.probeAttempts ?? CLIENT_DEFAULTS.probeAttempts,
    qualification: p.qualification ?? CLIENT_DEFAULTS.qualification,
    coneWindowMinMs: p.coneWindowMinMs ?? CLIENT_DEFAULTS.coneWindowMinMs,
    refreshIntervalMs: p.refreshIntervalMs ?? CLIENT_DEFAULTS.refreshIntervalMs,
    backoffInitialMs: p.backoffInitialMs ?? CLIENT_DEFAULTS.backoffInitialMs,
    backoffMaxMs: p.backoffMaxMs ?? CLIENT_DEFAULTS.backoffMaxMs,
    refuseSymmetric: p.refuseSymmetric ?? CLIENT_DEFAULTS.refuseSymmetric,
    fallbacks: (p.fallbacks ?? []).map((f) => ({ primary: f.primary | 0, secondary: f.secondary !== undefined ? f.secondary | 0 : (f.primary + 1) | 0 })),
    preferredRetryMs: p.preferredRetryMs ?? CLIENT_DEFAULTS.preferredRetryMs,
    localPort: p.localPort ?? 0,
    probeLocalPort: p.probeLocalPort ?? 0,
    localDiscovery: p.localDiscovery ?? CLIENT_DEFAULTS.localDiscovery,
    localAddress: (p.localAddress ?? 0) | 0,
    hairpinning: p.hairpinning ?? CLIENT_DEFAULTS.hairpinning,
    serverLoadReduction: p.serverLoadReduction ?? CLIENT_DEFAULTS.serverLoadReduction,
    portPreserving: p.portPreserving ?? CLIENT_DEFAULTS.portPreserving,
    portPreservingPorts: p.portPreservingPorts ?? [],
    portMapping: p.portMapping === undefined ? undefined : { addr: p.portMapping.addr | 0, port: p.portMapping.port },
  };
  const pairs = [{ primary: p.primary, secondary: p.secondary }, ...(p.fallbacks ?? [])];
  for (const pair of pairs) {
    for (const k of ['primary', 'secondary'] as const) if (!isIpv4Number(pair[k] ?? 0)) throw new RangeError(`${k} must be a 32-bit IPv4 address`);
  }
  for (const pair of [c, ...c.fallbacks]) if (pair.primary === pair.secondary) throw new RangeError('the primary and secondary server addresses must differ');
  for (const k of ['probeTimeoutMs', 'probeAttempts', 'coneWindowMinMs', 'refreshIntervalMs', 'backoffInitialMs', 'backoffMaxMs', 'preferredRetryMs'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new RangeError(`${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.backoffMaxMs < c.backoffInitialMs) throw new RangeError('backoffMaxMs must be >= backoffInitialMs');
  return c;
}

/**
 * Where the engine writes. Bytes are lent for the call (copy what you keep). `addressChanged` and
 * `stateChanged` are rare (qualification, mapping change, loss of the server) and may allocate and log.
 */
export interface ClientSink extends DropSink {
  /** One UDP datagram from the client's socket to addr:port (int32 IPv4, port). */
  sendUdp(data: Uint8Array, offset: number, length: number, addr: number, port: number): void;
  /**
   * One UDP datagram from pool socket `socket` (an index into TeredoClientParams.portPreservingPorts; RFC 6081
   * §5.4, client-pps.ts); its datagrams come back through TeredoClient.poolDatagram.
   */
  sendUdpFrom(socket: number, data: Uint8Array, offset: number, length: number, addr: number, port: number): void;
  /**
   * One UDP datagram from the probe socket: a second local port, used only for the cone RS (client.ts says
   * why); its datagrams come back through TeredoClient.probeDatagram.
   */
  sendProbe(data: Uint8Array, offset: number, length: number, addr: number, port: number): void;
  /** One whole IPv6 packet for the local stack (the TUN device). */
  writeTun(data: Uint8Array, offset: number, length: number): void;
  /**
   * The Teredo address changed: remove `previous` (if any) and configure `current` (if any). Called before the
   * stateChanged that accompanies it, so a hook run on the state change sees the interface as it is.
   */
  addressChanged(previous: Uint8Array | undefined, current: Uint8Array | undefined): void;
  stateChanged(state: ClientState, previous: ClientState): void;
}

// Drop reasons, index = code. Grouped by where they are decided.
export const CLIENT_DROP_REASONS = [
  // RA acceptance (§5.2.1, §5.2.2), in the order the checks run. None of them changes any state.
  'ra-source-not-server', // not from one of the server's two IPv4 addresses
  'ra-source-port-not-3544', // from a server address but not from port 3544 (§2.7)
  'ra-no-auth', // §5.2.2: our RSs carry a nonce, an RA without the authentication header cannot echo it
  'ra-nonce-mismatch', // §5.2.2 MUST discard: not the nonce of an RS we are waiting on
  'ra-wrong-server-address', // the RA to the cone RS must come from the other address (§5.3.2), the others from the one asked
  'ra-wrong-socket', // an RA on another local port than the one its RS left from
  'ra-no-origin-indication', // §5.2.1: the mapping is learnt from it
  'ra-malformed', // RFC 4861 §6.1.2: not an RA, hop limit not 255, code not 0, bad checksum, options that do not parse
  'ra-bad-destination', // §5.2.1: the IPv6 destination must be the RS's link-local source
  'ra-not-one-prefix', // §5.2.1: exactly one Prefix Information option
  'ra-prefix-bad-length', // a PIO whose option length is not 4 units or whose prefix length is not 64
  'ra-prefix-not-server', // §5.2.1: the prefix must be 2001:0:<server IPv4>::/64
  'ra-bad-mtu', // an MTU option outside 1280..65535 (Miredo's check)
  // Any datagram (§5.1.1, §5.2.3).
  'malformed', // not a Teredo payload: bad headers, not IPv6, payload length beyond the datagram
  'not-qualified', // traffic before the client has an address (§5.2.3 needs it)
  'probe-socket-unexpected', // on the probe socket, which only expects the RA to the cone RS
  'server-unexpected', // from the server and not an RA we wait for, a bubble or an indirect packet we can use
  // Reception (§5.2.3).
  'origin-not-global', // §5.2.4: the server's origin indication names a non-global address or port 0: no bubble back, nothing taken
  'udp-source-not-global', // §5.2.4: a peer's UDP source is not global unicast, or port 0: nothing may be sent back to it
  'not-for-our-address', // §5.2.3: the IPv6 destination should be our Teredo address
  'link-local-source', // only the server's RA may have a link-local source (no one may hand us a prefix or a route)
  'unknown-peer', // §5.2.3 case 6: not a trusted peer, not a test reply, not a Teredo source embedding its mapping
  'held-full', // case 6: a native packet that would be held while its relay is tested, beyond client-held.ts's bounds
  'discovery-unexpected', // §5.2.8: on the discovery socket, not a bubble from a Teredo address at a unicast address and port
  'discovery-off', // a discovery bubble while local discovery is off (--local-discovery off)
  'held-not-proven', // case 6: a held native packet whose relay the test did not make trusted (another relay, no reply)
  'peer-server-not-global', // §5.2.4: a Teredo source from another mapping embeds a non-global server: no proof goes there
  'peer-mapping-not-global', // §5.2.4: a Teredo source from another mapping embeds a non-global mapping (or port 0)
  'unsolicited-peers-full', // a new peer that sent first, while 128 such peers or 1024 peers in all are in the table (client-admission.ts)
  'unsolicited-peers-rate-limited', // a new peer that sent first, beyond 16 per second after a burst of 32 (client-admission.ts)
  // Transmission (§5.2.4).
  'tun-malformed', // not one whole IPv6 packet
  'tun-source-not-ours', // not from our Teredo address (e.g. the kernel's own link-local traffic)
  'tun-destination-not-global', // multicast, link-local...: nothing to send it to
  'destination-server-not-global', // §5.2.4 case 5: the server a Teredo destination embeds (indirect bubbles) is not global unicast
  'destination-mapping-not-global', // §5.2.4 cases 4-5: the mapping it embeds is not global unicast, or port 0
  'queue-full', // the peer's queue (../peers/peer-table.ts bound) is full while it is being reached
  'peer-unreachable', // queued for a peer that did not answer the bubbles / connectivity tests (§5.2.6, §5.2.9)
] as const;

export type ClientDropReason = (typeof CLIENT_DROP_REASONS)[number];

/** Index of each reason, for `sink.drop(DROP['ra-no-auth'])`. */
export const DROP = Object.fromEntries(CLIENT_DROP_REASONS.map((r, i) => [r, i])) as { readonly [K in ClientDropReason]: number };

/** The engine's view of itself for `status` (built on request, never on the data path). */
export interface ClientSnapshot {
  readonly state: ClientState;
  readonly nat: NatType;
  readonly mapping: MappingBehaviour;
  /** The server in use (int32 IPv4 addresses) and its place in [primary server, ...fallbacks]. */
  readonly primary: number;
  readonly secondary: number;
  readonly serverIndex: number;
  readonly servers: readonly ServerPair[];
  /** 16 bytes, or undefined when there is none (offline, probing). */
  readonly address: Uint8Array | undefined;
  readonly mappedAddr: number | undefined;
  readonly mappedPort: number | undefined;
  /** The address embeds the gateway's port mapping (RFC 6081 §5.3), not the mapping the server saw. */
  readonly mappedByGateway: boolean;
  readonly refreshIntervalMs: number;
  /** Time the last qualification took, from its first RS to the address, ms. */
  readonly qualificationMs: number | undefined;
  /** Round trip of the last RS answered, ms. */
  readonly rttMs: number | undefined;
  /** How long ago the server was last heard, ms. */
  readonly serverHeardAgoMs: number | undefined;
  /** While not qualified after a failure: why (OfflineCode and a sentence); and in how many ms qualification starts again. */
  readonly errorCode: OfflineCode | undefined;
  readonly error: string | undefined;
  readonly retryInMs: number | undefined;
  readonly counters: Readonly<Record<string, number>>;
}

/** Milliseconds in a uniform [75 %, 100 %] of `interval` (RFC 4380 §5.2, §5.2.5). */
export function jitteredInterval(interval: Millis, random01: number): Millis {
  return Math.round(interval * (0.75 + 0.25 * random01));
}
