// RFC 6081 §5.3 (UPnP-enabled symmetric NAT): behind a NAT whose gateway mapped the Teredo port (UPnP IGD,
// NAT-PMP or PCP; agents/teredo-client/port-mapping.ts), the client should be reached at that mapping. A NAT that
// draws a port for every outbound flow (symmetric) does not use it for the client's own flows, though: on a Linux
// router (miniupnpd) the mapping is only a DNAT rule, and the flow to the server gets a drawn port, which the
// server then sees, embeds and sends to. Worse, the server's packets to the mapping afterwards share their reply
// tuple with that flow, so conntrack rewrites their source port.
//
// So the mapping is opened toward the server before the Teredo port sends it anything:
//   1. the probe port's RS to the primary (RS_MAP_PRIMARY; the mapping test's first half) gives the probe
//      port's mapping Q;
//   2. from the probe port, a bubble from the Teredo address embedding Q to the one embedding the gateway's
//      mapping G goes through the server (RFC 4380 §5.3.1: a Teredo destination of its own prefix: forwarded to
//      G, from port 3544). The NAT lets it in by the gateway's rule: the flow server:3544 <-> G now exists in
//      the NAT, begun from outside;
//   3. once it arrives on the Teredo port (or after a window of max(coneWindowMinMs, 2 x the round trip) without
//      it: the mapping does not work, qualification goes on as without one), the usual qualification runs. The
//      Teredo port's RSs now leave through the flow of step 2, from G: the server sees G, and its cone test
//      reaches G by the gateway's rule: the client qualifies as cone, at G. The probe port's RS to the secondary
//      goes with them (the NAT's own mapping behaviour, for status); not before the opening worked, since toward a
//      NAT filtering per host it could let in a cone RA that proves nothing.
// The address then embeds G, and peers reach it there (their packets open their own NAT toward G, and our
// answers leave through it). Our first packet to a destination that has not sent to G still gets a drawn port
// from such a NAT; the data path therefore begins every flow with the peer's bubble toward G (client-data.ts,
// DataContext.gateway).
// Cost: one round trip before the usual qualification, only with a gateway mapping.

import { isGlobalEndpoint4, isSharedAddressSpace4 } from '../../../wire/ipv4.js';
import { encodeTeredoAddress } from '../../../wire/teredo-address.js';
import { IPV6_FIELD } from '../../../wire/ipv6.js';
import { TEREDO_BUBBLE_LEN, writeBubbleHeader } from '../../../wire/teredo-view.js';
import { TEREDO_PORT } from '../../../wire/teredo-constants.js';
import type { Millis } from '../../types.js';
import type { Mapped } from './client-qualification.js';
import type { ClientConfig, ClientSink, PortMappingEndpoint } from './client-types.js';

/** Where the opening stands in the current qualification. */
export type GatewayPhase = 'off' | 'probe' | 'bubble' | 'done';

export class GatewayOpening {
  #phase: GatewayPhase = 'off';
  /** Openings whose bubble came back through the gateway's mapping (status counter). */
  opened = 0;
  /** Openings given up (no bubble within the window): the mapping let nothing in from the server. */
  failed = 0;
  /** The last qualification's opening worked: the Teredo port's flow to the server goes through the gateway's mapping. */
  arrived = false;
  readonly #bubble = new Uint8Array(TEREDO_BUBBLE_LEN);

  constructor() {
    writeBubbleHeader(this.#bubble);
  }

  get phase(): GatewayPhase {
    return this.#phase;
  }

  /**
   * A qualification begins: with a gateway mapping, the probe port's RS comes first (step 1). Not for a mapping at
   * a non-global address, nor in the shared address space (a home router behind a carrier's NAT): no server
   * reaches it there.
   */
  begin(gateway: PortMappingEndpoint | undefined): void {
    const reachable = gateway !== undefined && isGlobalEndpoint4(gateway.addr, gateway.port) && !isSharedAddressSpace4(gateway.addr);
    this.#phase = reachable ? 'probe' : 'off';
    this.arrived = false;
  }

  /**
   * Step 2: sends the bubble from the probe port to `server`:3544, from the Teredo address of `server` embedding the
   * probe port's mapping (its RA came back `rttMs` after its RS) to the one embedding the gateway's (random bits 0
   * and no cone bit in both: only the embedded mappings matter to the server). Returns when its window ends.
   */
  open(server: number, probe: Mapped, cfg: ClientConfig, rttMs: number, now: Millis, sink: ClientSink): Millis {
    const gateway = cfg.portMapping!;
    this.#phase = 'bubble';
    const b = this.#bubble;
    encodeTeredoAddress({ server, cone: false, randomBits: 0, mappedPort: probe.port, mappedAddr: probe.addr }, b, IPV6_FIELD.SRC);
    encodeTeredoAddress({ server, cone: false, randomBits: 0, mappedPort: gateway.port, mappedAddr: gateway.addr }, b, IPV6_FIELD.DST);
    sink.sendProbe(b, 0, TEREDO_BUBBLE_LEN, server, TEREDO_PORT);
    return now + Math.min(cfg.probeTimeoutMs, Math.max(cfg.coneWindowMinMs, 2 * rttMs));
  }

  /**
   * Step 3: the bubble arrived (`arrived`), or its window ended, or step 1's RS went unanswered (false both); the
   * usual qualification follows either way. False (nothing done) when no opening is under way.
   */
  finish(arrived: boolean): boolean {
    if (this.#phase !== 'probe' && this.#phase !== 'bubble') return false;
    if (arrived && this.#phase !== 'bubble') return false;
    this.#phase = 'done';
    this.arrived = arrived;
    if (arrived) this.opened++;
    else this.failed++;
    return true;
  }
}
