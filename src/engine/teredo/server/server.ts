// The Teredo server engine (RFC 4380 §5.3), sans-I/O and sink-style: one call per received datagram or TUN
// packet, writing what to send into the driver's sink. Stateless by design (§5.3): no per-client memory, no
// timers, so nextTimeout() is always undefined and `now` is never needed. Per packet it allocates nothing: the
// received bytes are read in place (TeredoPacketView), RAs and origin-indication forwards are assembled in one
// scratch buffer the engine owns, drops are counted by reason index.
//
//   datagram on primary|secondary:3544
//     └─► server-checks.ts  §5.3.1 cases 1-7 ─► sink.drop(reason)
//           ├─ local (ff02::2, our link-local) ─► server-ra.ts      §5.3.2 RS ─► RA  sink.sendUdp(via, …)
//           └─ otherwise ──────────────────────► server-forward.ts  Teredo dst ─► sink.sendUdp(primary, …)
//                                                                   native dst ─► sink.writeNative(…)
//   tun packet (native side) ───────────────────► server-forward.ts  our client ─► sink.sendUdp(primary, …)
//
// Implemented: all of §5.3.1 and §5.3.2 except secure qualification (§5.2.2; an RS is never refused for lacking
// an authentication value, and RAs carry only the echoed nonce). Deliberate differences from the RFC, all
// shared with Miredo: forwarded ICMPv6 is size-limited, and datagrams from our own addresses' port 3544 are
// dropped. Difference from Miredo: the RS is validated per RFC 4861 §6.1.1.

import type { Millis, TimedEngine } from '../../types.js';
import { isGlobalUnicast4, isIpv4Number, isUnicast4 } from '../../../wire/ipv4.js';
import { teredoPrefix, teredoServerLinkLocal } from '../../../wire/teredo-address.js';
import { TEREDO_LINK_MTU } from '../../../wire/teredo-constants.js';
import { TEREDO_ORIGIN_LEN } from '../../../wire/teredo-packet.js';
import { TeredoPacketView } from '../../../wire/teredo-view.js';
import { ACCEPT_FORWARD, ACCEPT_LOCAL, checkDatagram } from './server-checks.js';
import { ServerCounters } from './server-counters.js';
import { forwardDatagram, forwardFromTun } from './server-forward.js';
import { answerLocal, raTemplate, teredoRouterAdvert } from './server-ra.js';
import {
  DEFAULT_FORWARD_ICMPV6_MAX_PAYLOAD,
  MIN_ADVERTISED_MTU,
  SERVER_DROP_REASONS,
  type ServerConfig,
  type ServerSink,
  type ServerSocketIndex,
  type TeredoServerParams,
} from './server-types.js';

/** Largest UDP payload, plus room for an inserted origin indication. */
const SCRATCH_BYTES = 0xffff + TEREDO_ORIGIN_LEN;

export class TeredoServer implements TimedEngine<ServerSink> {
  readonly dropReasons = SERVER_DROP_REASONS;
  /** RSs answered, RAs sent, packets forwarded; a fixed set of numbers (server-counters.ts). */
  readonly counters = new ServerCounters();
  #cfg: ServerConfig;
  readonly #view = new TeredoPacketView();
  readonly #scratch = new Uint8Array(SCRATCH_BYTES);

  /** Throws RangeError for parameters the agent's config validation already refuses. */
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

  /**
   * One UDP datagram data[offset .. offset + length) received on `socket` (0 primary, 1 secondary) from
   * fromAddr:fromPort (int32 IPv4, port). §5.3.1 then §5.3.2 or forwarding; results go to `sink`. The bytes are lent.
   */
  datagram(socket: ServerSocketIndex, data: Uint8Array, offset: number, length: number, fromAddr: number, fromPort: number, _now: Millis, sink: ServerSink): void {
    const cfg = this.#cfg;
    const view = this.#view;
    const verdict = checkDatagram(cfg, view, data, offset, length, fromAddr, fromPort);
    if (verdict === ACCEPT_LOCAL) answerLocal(cfg, view, socket, fromAddr, fromPort, this.#scratch, this.counters, sink);
    else if (verdict === ACCEPT_FORWARD) forwardDatagram(cfg, view, fromAddr, fromPort, this.#scratch, this.counters, sink);
    else sink.drop(verdict);
  }

  /** One IPv6 packet data[offset .. offset + length) from the native side (TUN device), for one of our clients. */
  tun(data: Uint8Array, offset: number, length: number, _now: Millis, sink: ServerSink): void {
    forwardFromTun(this.#cfg, data, offset, length, this.counters, sink);
  }

  handleTimeout(_now: Millis, _sink: ServerSink): void {}

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
  const allowNonGlobal = params.allowNonGlobal === true;
  const acceptable4 = allowNonGlobal ? isUnicast4 : isGlobalUnicast4;
  if (!isIpv4Number(params.primary) || !isIpv4Number(params.secondary)) throw new RangeError('server addresses must be 32-bit IPv4 addresses');
  const primary = params.primary | 0; // int32 (wire/ipv4.ts), as the data path compares them
  const secondary = params.secondary | 0;
  if (primary === secondary) throw new RangeError('the primary and secondary server addresses must differ');
  if (!acceptable4(primary) || !acceptable4(secondary)) throw new RangeError('server addresses must be global unicast (or allowNonGlobal set)');
  if (!Number.isInteger(mtu) || mtu < MIN_ADVERTISED_MTU || mtu > 0xffffffff) throw new RangeError(`advertised MTU must be an integer >= ${MIN_ADVERTISED_MTU}, got ${mtu}`);
  if (!Number.isInteger(limit) || limit < 0 || limit > 0xffff) throw new RangeError(`forwardIcmpv6MaxPayload must be 0..65535, got ${limit}`);
  const linkLocal = teredoServerLinkLocal(primary);
  return {
    primary,
    secondary,
    forwardIcmpv6MaxPayload: limit,
    nativeForwarding: params.nativeForwarding ?? false,
    allowNonGlobal,
    linkLocal,
    prefix: teredoPrefix(primary),
    raTemplate: raTemplate(linkLocal, teredoRouterAdvert(primary, mtu)),
  };
}
