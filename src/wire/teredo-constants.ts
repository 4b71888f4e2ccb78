// Teredo specification constants (RFC 4380) shared by the codecs and the server engine. Wire sizes live next to
// their codecs (teredo-address.ts, teredo-packet.ts). The client and relay timing constants (§5.2.1 T/N,
// §5.2.6 bubble pacing, §5.2.4 peer validity) arrive with those engines, where they are used.

/** §2.7: the UDP port a Teredo server listens on (and the port embedded in the server's link-local address). */
export const TEREDO_PORT = 3544;

/** §5.1.2: the Teredo interface MTU a client uses by default and a server advertises in its RA MTU option. */
export const TEREDO_LINK_MTU = 1280;
