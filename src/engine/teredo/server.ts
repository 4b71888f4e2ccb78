// The Teredo server engine (RFC 4380 §5.3), sans-I/O: one call per received datagram or TUN packet, returning
// what to send and what was dropped. Stateless by design (§5.3): no per-client memory, no timers, so
// nextTimeout() is always undefined and `now` is never needed.
//
//   UDP datagram on primary|secondary:3544
//     └─► server-checks.ts  §5.3.1 cases 1-7 ─► drop
//           ├─ local (ff02::2, our link-local) ─► server-ra.ts      §5.3.2 RS ─► RA (send-udp, purpose 'ra')
//           └─ otherwise ──────────────────────► server-forward.ts  Teredo dst ─► send-udp, purpose 'forward'
//                                                                   native dst ─► write-tun
//   TUN packet ─────────────────────────────────► server-forward.ts  our client ─► send-udp, purpose 'forward'
//
// Implemented: all of §5.3.1 and §5.3.2 except secure qualification (§5.2.2; an RS is never refused for lacking
// an authentication value, and RAs carry only the echoed nonce). Deliberate differences from the RFC, all
// shared with Miredo: forwarded ICMPv6 is size-limited, and datagrams from our own addresses' port 3544 are
// dropped. Differences from Miredo: the RS is validated per RFC 4861 §6.1.1, and native IPv6 goes out and
// comes back through a TUN device instead of a send-only raw socket.

import type { Engine, Millis } from '../types.js';
import { isGlobalUnicast4 } from '../../wire/ipv4.js';
import { teredoServerLinkLocal } from '../../wire/teredo-address.js';
import { TEREDO_LINK_MTU } from '../../wire/teredo-constants.js';
import { checkDatagram, isUnicast4 } from './server-checks.js';
import { forwardDatagram, forwardFromTun } from './server-forward.js';
import { answerLocal, raTemplate, teredoPrefixOf, teredoRouterAdvert } from './server-ra.js';
import {
  DEFAULT_FORWARD_ICMPV6_MAX_PAYLOAD,
  MIN_ADVERTISED_MTU,
  type ServerConfig,
  type ServerInput,
  type ServerOutput,
  type TeredoServerParams,
} from './server-types.js';

export class TeredoServer implements Engine<ServerInput, ServerOutput> {
  #cfg: ServerConfig;

  constructor(params: TeredoServerParams) {
    this.#cfg = resolveServerConfig(params);
  }

  /** What the packet paths use now (defaults applied, derived values computed). */
  get config(): ServerConfig {
    return this.#cfg;
  }

  /** SIGHUP: new parameters take effect from the next packet. Throws RangeError like the constructor. */
  reconfigure(params: TeredoServerParams): void {
    this.#cfg = resolveServerConfig(params);
  }

  handle(input: ServerInput, _now: Millis): ServerOutput[] {
    const cfg = this.#cfg;
    if (input.kind === 'tun') return [forwardFromTun(cfg, input)];
    const accepted = checkDatagram(cfg, input);
    if (accepted.kind === 'drop') return [accepted];
    return [accepted.local ? answerLocal(cfg, input, accepted) : forwardDatagram(cfg, input, accepted)];
  }

  handleTimeout(_now: Millis): ServerOutput[] {
    return [];
  }

  nextTimeout(): Millis | undefined {
    return undefined;
  }
}

/**
 * Applies defaults and derives what every packet needs. Throws RangeError for values the agent's config
 * validation already refuses (a programming error if it happens here).
 */
function resolveServerConfig(params: TeredoServerParams): ServerConfig {
  const mtu = params.mtu ?? TEREDO_LINK_MTU;
  const limit = params.forwardIcmpv6MaxPayload ?? DEFAULT_FORWARD_ICMPV6_MAX_PAYLOAD;
  const acceptable4 = params.allowNonGlobal === true ? isUnicast4 : isGlobalUnicast4;
  if (!isU32(params.primary) || !isU32(params.secondary)) throw new RangeError('server addresses must be uint32 IPv4 addresses');
  if (params.primary === params.secondary) throw new RangeError('the primary and secondary server addresses must differ');
  if (!acceptable4(params.primary) || !acceptable4(params.secondary)) throw new RangeError('server addresses must be global unicast (or allowNonGlobal set)');
  if (!Number.isInteger(mtu) || mtu < MIN_ADVERTISED_MTU || mtu > 0xffffffff) throw new RangeError(`advertised MTU must be an integer >= ${MIN_ADVERTISED_MTU}, got ${mtu}`);
  if (!Number.isInteger(limit) || limit < 0 || limit > 0xffff) throw new RangeError(`forwardIcmpv6MaxPayload must be 0..65535, got ${limit}`);
  const linkLocal = teredoServerLinkLocal(params.primary);
  return {
    primary: params.primary,
    secondary: params.secondary,
    forwardIcmpv6MaxPayload: limit,
    nativeForwarding: params.nativeForwarding ?? false,
    linkLocal,
    prefix: teredoPrefixOf(params.primary),
    raTemplate: raTemplate(linkLocal, teredoRouterAdvert(params.primary, mtu)),
    acceptable4,
  };
}

function isU32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}
