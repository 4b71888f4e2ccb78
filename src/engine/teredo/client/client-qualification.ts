// What one qualification (RFC 4380 §5.2.1) has learnt so far, and what it concludes from it: the RFC 4380 NAT
// type, the NAT's mapping behaviour (RFC 4787 §4.1), and, when no RA was accepted, why in words a person can act
// on. Kept apart from client-procedure.ts, which decides when to send what; this file only reads the answers.
//
// Qualification, fast mode (default). RFC 4380 runs a cone phase (up to N x T = 12 s) before the non-cone
// phase, so Windows needs 12 s or more behind every non-cone NAT. We send at once:
//   - the cone RS from the Teredo port to the primary: answered from the server's other address, which only a
//     NAT that filters nothing on that port lets in (a cone NAT, or a port forward to the Teredo port);
//   - the non-cone RS from the Teredo port to the primary: any NAT lets its RA in; it gives the mapping the
//     address embeds and measures the round trip;
//   - a non-cone RS from the probe port (a second local port) to the primary: the first half of the mapping test.
// Once the non-cone RA is in, the cone RA (sent by the server at the same moment) gets a window of
// max(coneWindowMinMs, 2 x RTT): in time = cone NAT. Otherwise the cone RS is retired (its nonce forgotten)
// BEFORE the secondary address is contacted, so that a cone RA let in later by a NAT that opened to the
// secondary for the whole host proves nothing. Then one non-cone RS from the probe port to the secondary: the
// same mapping as the probe port's toward the primary = restricted, a different one = symmetric.
// Why the mapping test runs on the probe port and the cone test on the Teredo port: a port forward covers only
// the Teredo port (a cone probe from elsewhere calls a forwarded port restricted), and a refused cone RA leaves a
// conntrack entry (secondary:3544 -> the public port) in a Linux NAT, so an RS from that same port to the
// secondary gets another public port and a restricted NAT looks symmetric; the probe port never saw that RA.

import { formatIpv4 } from '../../../wire/ipv4.js';
import type { ServerPair } from './client-ra.js';
import { CLIENT_DROP_REASONS, SEQUENTIAL_PORT_DELTA_MAX, type ClientConfig, type MappingBehaviour, type NatType, type OfflineCode } from './client-types.js';

/** The least a mapping-test RS waits for its RA in fast mode, ms (a round trip on a LAN is far less). */
export const MAPPING_TEST_WAIT_MIN_MS = 250;

/**
 * How long the mapping test's RSs (to the secondary address) wait for their RA, ms. Fast mode, once the primary
 * answered (`rttMs` known): 4 round trips, at least MAPPING_TEST_WAIT_MIN_MS, at most T, so a lost datagram costs
 * a few round trips rather than T. Strict mode, or no round trip known: T (RFC 4380 §5.2.1's pace).
 */
export function mappingTestWaitMs(cfg: ClientConfig, rttMs: number | undefined): number {
  if (cfg.qualification === 'strict' || rttMs === undefined) return cfg.probeTimeoutMs;
  return Math.min(cfg.probeTimeoutMs, Math.max(MAPPING_TEST_WAIT_MIN_MS, 4 * rttMs));
}

/** A NAT mapping as an RA's origin indication gives it: int32 IPv4 address and port. */
export interface Mapped {
  readonly addr: number;
  readonly port: number;
}

/** What each refused RA check means for whoever reads status (the DROP names say which clause). */
const REFUSAL_HINTS: Partial<Record<(typeof CLIENT_DROP_REASONS)[number], string>> = {
  'ra-source-port-not-3544': 'it did not come from port 3544 (a NAT or firewall rewriting the source port?)',
  'ra-no-auth': 'it carried no authentication header (not a Teredo server, or one too old for RFC 4380 §5.2.2)',
  'ra-nonce-mismatch': 'it did not echo the nonce of our Router Solicitation (a late or forged answer)',
  'ra-wrong-server-address': 'it came from the wrong one of the server\'s two addresses (is the secondary address right?)',
  'ra-no-origin-indication': 'it carried no origin indication, so the mapping is unknown',
  'ra-prefix-not-server': 'its prefix does not embed the server\'s address (is --server the server\'s primary address?)',
};

export class Qualification {
  /** The RA to the cone RS arrived: a cone NAT (or a forwarded Teredo port). */
  coneSeen = false;
  /** The Teredo port's mapping, from the RA to the non-cone RS: what the address embeds. */
  mainMapped: Mapped | undefined;
  /** The probe port's mappings toward the server's primary [0] and secondary [1] address. */
  readonly probeMapped: [Mapped | undefined, Mapped | undefined] = [undefined, undefined];
  /** The conclusion, once qualified; kept after a loss of the server for status. */
  nat: NatType = 'unknown';
  /** DROP index of the last RA refused in this qualification (a server answer we could not use), or -1. */
  #refusal = -1;

  reset(): void {
    this.coneSeen = false;
    this.mainMapped = undefined;
    this.probeMapped[0] = this.probeMapped[1] = undefined;
    this.#refusal = -1;
  }

  /** An RA from a server address was refused with DROP index `reason`. */
  refused(reason: number): void {
    this.#refusal = reason;
  }

  /** Once both probe mappings are known: the same = restricted, different = symmetric (§5.2.1); otherwise undefined. */
  mappingVerdict(): NatType | undefined {
    const [a, b] = this.probeMapped;
    if (a === undefined || b === undefined) return undefined;
    return a.addr === b.addr && a.port === b.port ? 'restricted' : 'symmetric';
  }

  /**
   * The mapping behaviour seen; local ports of 0 mean unknown (port preservation then undefined). `gateway`: the
   * Teredo port went through the gateway's port mapping (client-gateway.ts), so only the probe port shows the NAT.
   */
  mapping(localPort: number, probeLocalPort: number, gateway = false): MappingBehaviour {
    const [a, b] = this.probeMapped;
    const endpointIndependent = this.coneSeen && this.nat === 'cone' && !gateway ? true : a !== undefined && b !== undefined ? a.addr === b.addr && a.port === b.port : undefined;
    let portPreserving: boolean | undefined;
    if (this.mainMapped !== undefined && localPort !== 0 && !gateway) portPreserving = this.mainMapped.port === localPort;
    else if (a !== undefined && probeLocalPort !== 0) portPreserving = a.port === probeLocalPort;
    let portDelta: number | undefined;
    let allocation: MappingBehaviour['allocation'];
    if (endpointIndependent === false) {
      portDelta = (b!.port - a!.port + 0x10000) % 0x10000;
      allocation = portDelta >= 1 && portDelta <= SEQUENTIAL_PORT_DELTA_MAX ? 'sequential' : 'random';
    }
    return { endpointIndependent, portPreserving, portDelta, allocation };
  }

  /** Why a probe phase ended without an accepted RA from `server`: a code and a sentence. */
  noAnswerReason(server: ServerPair): [OfflineCode, string] {
    const at = `${formatIpv4(server.primary)}:3544`;
    if (this.#refusal < 0) return ['no-answer', `no answer from the Teredo server ${at} (UDP to port 3544 blocked on the way, or the server is down)`];
    const name = CLIENT_DROP_REASONS[this.#refusal]!;
    const hint = REFUSAL_HINTS[name] ?? 'it broke an RFC 4380 §5.2.1 / RFC 4861 §6.1.2 check';
    return ['ra-refused', `the Teredo server ${at} answered, but its Router Advertisement was refused (${name}): ${hint}`];
  }
}
