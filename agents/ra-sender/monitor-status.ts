// Monitor mode in `ra-sender status`: the other routers the engine's RouterTable (src/engine/ra/monitor.ts)
// keeps, as JSON (not the data path: status builds objects). Lifetimes are what remains at `now`.

import type { MonitoredRouter, RouterTable } from '../../src/engine/ra/monitor.js';
import type { Millis } from '../../src/engine/types.js';
import { INFINITE_LIFETIME } from '../../src/wire/ndisc-options.js';
import { formatIpv6 } from '../../src/wire/ipv6-address.js';
import { PREFERENCE_NAMES, describeRas } from './format.js';

export interface MonitoredPrefixStatus {
  readonly prefix: string;
  readonly onLink: boolean;
  readonly autonomous: boolean;
  /** Seconds left at status time, or 'infinity'. */
  readonly validLifetime: number | 'infinity';
  readonly preferredLifetime: number | 'infinity';
}

export interface MonitoredRouterStatus {
  readonly router: string;
  readonly firstHeardSecAgo: number;
  readonly lastHeardSecAgo: number;
  readonly advertisements: number;
  /** §6.2.7 differences from what we advertise. */
  readonly inconsistencies: number;
  readonly curHopLimit: number;
  readonly managed: boolean;
  readonly otherConfig: boolean;
  readonly preference: string;
  readonly routerLifetime: number;
  /** Seconds until its default route runs out on the hosts; null when it is not (any more) a default router. */
  readonly defaultRouteRemainingSec: number | null;
  readonly reachableTimeMs: number;
  readonly retransTimerMs: number;
  readonly mtu: number | null;
  readonly prefixes: readonly MonitoredPrefixStatus[];
  /** The options of its last RA, decoded (format.ts); null when they do not decode. */
  readonly lastRa: Readonly<Record<string, unknown>> | null;
}

export interface MonitorStatus {
  readonly routers: readonly MonitoredRouterStatus[];
  readonly defaultRouteExpirations: number;
  readonly evictions: number;
}

const remaining = (lifetimeSec: number, heardAt: Millis, now: Millis): number | 'infinity' => (lifetimeSec === INFINITE_LIFETIME ? 'infinity' : Math.max(0, Math.ceil(lifetimeSec - (now - heardAt) / 1000)));

function lastRa(r: MonitoredRouter): Record<string, unknown> | null {
  try {
    return describeRas([r.last.subarray(0, r.lastLength)]) ?? null;
  } catch {
    return null; // another router's options that our decoder refuses (or a copy cut at MAX_RA_COPY)
  }
}

export function monitorStatus(table: RouterTable, now: Millis): MonitorStatus {
  return {
    routers: table.routers.map((r) => ({
      router: formatIpv6(r.source),
      firstHeardSecAgo: Math.round((now - r.firstHeardAt) / 1000),
      lastHeardSecAgo: Math.round((now - r.lastHeardAt) / 1000),
      advertisements: r.advertisements,
      inconsistencies: r.inconsistencies,
      curHopLimit: r.curHopLimit,
      managed: r.managed,
      otherConfig: r.otherConfig,
      preference: PREFERENCE_NAMES[r.preference]!,
      routerLifetime: r.routerLifetimeSec,
      defaultRouteRemainingSec: r.defaultRouteExpiresAt === undefined ? null : Math.max(0, Math.ceil((r.defaultRouteExpiresAt - now) / 1000)),
      reachableTimeMs: r.reachableTimeMs,
      retransTimerMs: r.retransTimerMs,
      mtu: r.mtu === 0 ? null : r.mtu,
      prefixes: r.prefixes.map((p) => ({
        prefix: `${formatIpv6(p.prefix)}/${p.prefixLength}`,
        onLink: p.onLink,
        autonomous: p.autonomous,
        validLifetime: remaining(p.validLifetimeSec, p.heardAt, now),
        preferredLifetime: remaining(p.preferredLifetimeSec, p.heardAt, now),
      })),
      lastRa: lastRa(r),
    })),
    defaultRouteExpirations: table.defaultRouteExpirations,
    evictions: table.evictions,
  };
}
