// The Teredo interface: a TUN device (MTU 1280, RFC 4380 §5.1.2) that carries the Teredo address while the
// client is qualified, so ordinary tools (ping, curl, ssh) use it.
//
//   qualified    address <teredo>/32 (the kernel adds the on-link route 2001::/32 with it, as Miredo's hook
//                does with `ip -6 addr add $ADDRESS/32`), and ::/0 through the device when defaultRoute is
//                `on`, or `auto` and the host has no other IPv6 default route (src/io/linux-host.ts)
//   otherwise    no address and no routes: packets to Teredo destinations fail at once instead of vanishing
//
// Cleanup: the device is not persistent, so the kernel deletes it, with its address and routes, when the
// process exits, even by SIGKILL. A stale device of that name that outlived a run (made persistent by someone
// else) is attached to and its Teredo addresses removed before use.

import { hasIpv6DefaultRoute, linuxHost, type HostFacts } from '../../src/io/linux-host.js';
import type { TunDevice } from '../../src/io/ports.js';
import type { Logger } from '../../src/runtime/logger.js';
import { isTeredo } from '../../src/wire/teredo-address.js';
import { TEREDO_LINK_MTU } from '../../src/wire/teredo-constants.js';

/** Miredo's client hook uses metric 1029 for its default route, above any ordinary (1024) one. */
export const DEFAULT_ROUTE_METRIC = 1029;
/** The address is configured with the Teredo prefix length, so the kernel routes 2001::/32 on the device. */
const TEREDO_PREFIX_LEN = 32;
const DEFAULT_ROUTE = new Uint8Array(16);

export type DefaultRouteMode = 'auto' | 'on' | 'off';

/** Where the kernel's IPv6 routes are read; the fake host in tests. */
export type RouteTableReader = Pick<HostFacts, 'ipv6Routes'>;

/** The interface while the agent runs: applies address changes and owns the default route. */
export class TeredoInterface {
  #address: Uint8Array | undefined;
  #defaultRoute = false;

  constructor(
    readonly tun: TunDevice,
    private mode: DefaultRouteMode,
    private readonly logger: Logger,
    private readonly routes: RouteTableReader = linuxHost,
  ) {}

  get address(): Uint8Array | undefined {
    return this.#address;
  }

  get hasDefaultRoute(): boolean {
    return this.#defaultRoute;
  }

  get mtu(): number {
    return TEREDO_LINK_MTU;
  }

  /** SIGHUP: a new default-route mode applies at once. */
  setMode(mode: DefaultRouteMode): void {
    this.mode = mode;
    if (this.#address !== undefined) this.#syncDefaultRoute();
  }

  /** Moves the interface from `previous` to `current` (either may be undefined). Never throws: logs. */
  change(previous: Uint8Array | undefined, current: Uint8Array | undefined): void {
    if (previous !== undefined) {
      if (this.#defaultRoute) this.#removeDefaultRoute();
      this.#try('remove address', () => this.tun.removeAddress(previous, TEREDO_PREFIX_LEN));
    }
    this.#address = current?.slice();
    if (current !== undefined) {
      this.#try('add address', () => this.tun.addAddress(current, TEREDO_PREFIX_LEN));
      this.#syncDefaultRoute();
    }
  }

  /** Removes what we configured (the device itself goes when the host closes it). */
  clear(): void {
    this.change(this.#address, undefined);
  }

  #syncDefaultRoute(): void {
    const want = this.mode === 'on' || (this.mode === 'auto' && !hasIpv6DefaultRoute(this.routes.ipv6Routes() ?? [], this.tun.name));
    if (want && !this.#defaultRoute) {
      this.#defaultRoute = this.#try('add default route', () => this.tun.addRoute(DEFAULT_ROUTE, 0, DEFAULT_ROUTE_METRIC));
    } else if (!want && this.#defaultRoute) {
      this.#removeDefaultRoute();
    }
  }

  #removeDefaultRoute(): void {
    this.#try('remove default route', () => this.tun.removeRoute(DEFAULT_ROUTE, 0, DEFAULT_ROUTE_METRIC));
    this.#defaultRoute = false;
  }

  #try(what: string, f: () => void): boolean {
    try {
      f();
      return true;
    } catch (err) {
      this.logger.error({ err, interface: this.tun.name, what }, 'interface configuration failed');
      return false;
    }
  }
}

/** Removes the Teredo addresses an earlier run left on a device of the same name (if it was made persistent). */
export function removeStaleAddresses(tun: TunDevice, host: Pick<HostFacts, 'ipv6Addresses'>): void {
  for (const stale of host.ipv6Addresses() ?? []) {
    if (stale.device !== tun.name || !isTeredo(stale.address)) continue;
    try {
      tun.removeAddress(stale.address, TEREDO_PREFIX_LEN);
    } catch {
      // Configured with another prefix length by someone else: not ours to fight over; the new address is added anyway.
    }
  }
}
