// The machines of the in-memory Teredo network (teredo-net.ts): hosts that bind UDP ports on their IPv4
// addresses, and NAT routers (a NatModel, teredo-net-nat.ts, with an outside address and hosts behind it).

import type { Millis } from '../../src/engine/types.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { NatModel, type NatKind, type NatOptions } from './teredo-net-nat.js';
import { type PortNetwork, VirtualDatagramPort } from './teredo-net-port.js';

/** Linux's default ip_local_port_range: where bind(0) draws ports. */
export const EPHEMERAL_PORTS = { first: 32768, last: 60999 } as const;

/** A machine with one or more IPv4 addresses (public, or private behind `nat`) and the ports bound on them. */
export class VirtualHost {
  /** Bound ports by "addr:port". */
  readonly ports = new Map<string, VirtualDatagramPort>();
  readonly #link: PortNetwork;
  #nextEphemeral: number = EPHEMERAL_PORTS.first;

  constructor(
    link: PortNetwork,
    readonly addrs: readonly number[],
    /** One-way latency of the link to the core (public) or to the NAT (private). */
    readonly latencyMs: Millis,
    readonly nat: VirtualNat | undefined,
  ) {
    this.#link = link;
  }

  /** A UDP port on `addr` (default the first address); port 0 draws an ephemeral port. Throws if taken. */
  bind(port = 0, address: number = this.addrs[0]!): VirtualDatagramPort {
    const addr = address | 0; // int32, as the network keys hosts (src/wire/ipv4.ts)
    if (!this.addrs.includes(addr)) throw new Error(`bind: ${formatIpv4(addr)} is not an address of this host`);
    if (port === 0) port = this.#ephemeral(addr);
    const k = `${addr}:${port}`;
    if (this.ports.has(k)) throw new Error(`EADDRINUSE: ${formatIpv4(addr)}:${port}`);
    const p = new VirtualDatagramPort(this.#link, { addr, port });
    this.ports.set(k, p);
    return p;
  }

  #ephemeral(addr: number): number {
    const span = EPHEMERAL_PORTS.last - EPHEMERAL_PORTS.first + 1;
    for (let i = 0; i < span; i++) {
      const p = this.#nextEphemeral;
      this.#nextEphemeral = p === EPHEMERAL_PORTS.last ? EPHEMERAL_PORTS.first : p + 1;
      if (!this.ports.has(`${addr}:${p}`)) return p;
    }
    throw new Error('EADDRINUSE: no ephemeral port left');
  }
}

/** A NAT router: `outside` on the internet, private hosts behind it. */
export class VirtualNat {
  readonly model: NatModel;
  readonly hosts = new Map<number, VirtualHost>();

  constructor(
    readonly outside: number,
    readonly latencyMs: Millis,
    kind: NatKind,
    options: NatOptions,
  ) {
    this.model = new NatModel(kind, options);
  }

  /** `conntrack -F` (NatModel.flush). */
  flush(): void {
    this.model.flush();
  }
  /** Everything to and from `addr` is dropped (NatModel.block): a captive portal, a firewall rule. */
  block(addr: number): void {
    this.model.block(addr);
  }
  unblock(addr: number): void {
    this.model.unblock(addr);
  }
  /** Mappings lost, sequential ones come back on new ports (NatModel.reboot). */
  reboot(): void {
    this.model.reboot();
  }
  /** All UDP dropped (true) or passed (false) (NatModel.blockUdp). */
  blockUdp(on: boolean): void {
    this.model.blockUdp(on);
  }
}
