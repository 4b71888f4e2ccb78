// Teredo specification constants (RFC 4380 unless noted), shared by the codecs and by the server, relay and
// client engines. Wire sizes live next to their codecs (teredo-address.ts, teredo-packet.ts); this file holds the
// numbers the protocol fixes for ports, addresses, MTU and timing, each with the section that sets it.
// Durations carry their unit in the name.

/** §2.7: the UDP port a Teredo server listens on (and the port embedded in the server's link-local address). */
export const TEREDO_PORT = 3544;

/** §2.17, §5.2.8: the IPv4 multicast group for local discovery bubbles (224.0.0.253), sent with IPv4 TTL 1. */
export const TEREDO_DISCOVERY_IPV4 = 0xe00000fd;

/** §5.1.2: the Teredo interface MTU a client uses by default and a server advertises in its RA MTU option. */
export const TEREDO_LINK_MTU = 1280;

/** §2.15: default refresh interval; the client randomises it uniformly to 75-100 % of this (§5.2). */
export const TEREDO_REFRESH_INTERVAL_MS = 30_000;

/** §5.2.1: qualification waits T = 4 s for an RA before repeating the RS ... */
export const TEREDO_QUALIFICATION_TIMEOUT_MS = 4_000;

/** ... and gives up a phase (cone, non-cone, secondary server) after N = 3 attempts. */
export const TEREDO_QUALIFICATION_ATTEMPTS = 3;

/** §5.2.6: a bubble MUST NOT be sent to a peer if the last one left less than 2 s ago ... */
export const TEREDO_BUBBLE_MIN_INTERVAL_MS = 2_000;

/** ... nor if 4 bubbles went out within the last 300 s without a direct answer. */
export const TEREDO_BUBBLE_MAX_COUNT = 4;
export const TEREDO_BUBBLE_WINDOW_MS = 300_000;

/** §5.2.4 (2), (5) and §5.4.1 (3): connectivity tests and indirect bubbles wait 2 s, up to 3 repetitions. */
export const TEREDO_PROBE_TIMEOUT_MS = 2_000;
export const TEREDO_PROBE_REPEATS = 3;

/** §5.2.4: a peer entry is valid while its last reception is younger than 30 s ... */
export const TEREDO_PEER_VALIDITY_MS = 30_000;

/** ... and a peer is "local" if a discovery bubble from it arrived within the last 600 s (case 3). */
export const TEREDO_LOCAL_PEER_VALIDITY_MS = 600_000;

/** §5.2.8: local discovery bubbles go out at uniformly random intervals between 200 and 300 s. */
export const TEREDO_DISCOVERY_INTERVAL_MIN_MS = 200_000;
export const TEREDO_DISCOVERY_INTERVAL_MAX_MS = 300_000;
