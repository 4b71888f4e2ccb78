// Monitor mode: what the other routers on the link advertise (RFC 4861 §6.2.7 asks routers to watch each
// other; CoreRAD's monitor mode reports it), kept per router from their valid RAs (§6.1.2, consistency.ts):
// the header values, each prefix with its lifetimes counted down from when it was heard (merged across RAs,
// so a router that splits its RAs keeps all its prefixes), and a copy of its last RA for the other options
// (decoded only when status asks). A default route that runs out (router lifetime elapsed with no new RA
// from that router) is reported once: the hosts lose that router now.
//
// Our own RAs are never recorded: the sender drops RAs from the interface's own addresses before they get here
// (an RS sent from the router itself is answered to itself and loops back).
//
// Bounds: MAX_ROUTERS routers (a new one evicts the one heard least recently), MAX_PREFIXES_PER_ROUTER
// prefixes each (further ones are not kept), MAX_RA_COPY bytes of each last RA: at most
// MAX_ROUTERS x (MAX_RA_COPY + MAX_PREFIXES_PER_ROUTER x 16 + a few numbers) bytes whatever the link sends.
// A known router's RA allocates nothing; a router is forgotten MONITOR_HOLD_MS after its last RA once its
// default route and every prefix it advertised have expired.

import type { Millis } from '../types.js';
import { NDISC_OPTION, INFINITE_LIFETIME, u32 } from '../../wire/ndisc-options.js';
import { ipv6Equal } from '../../wire/ipv6-address.js';

export const MAX_ROUTERS = 16;
export const MAX_PREFIXES_PER_ROUTER = 16;
export const MAX_RA_COPY = 1280;
export const MONITOR_HOLD_MS = 600_000;

const RA_FIXED_LEN = 16;
const PIO_LEN = 32;

export interface MonitoredPrefix {
  readonly prefix: Uint8Array; // 16 bytes
  prefixLength: number;
  onLink: boolean;
  autonomous: boolean;
  validLifetimeSec: number;
  preferredLifetimeSec: number;
  heardAt: Millis;
}

export interface MonitoredRouter {
  readonly source: Uint8Array; // 16 bytes, its link-local address
  readonly firstHeardAt: Millis;
  lastHeardAt: Millis;
  advertisements: number;
  /** §6.2.7 differences from what we advertise (only counted while we advertise too). */
  inconsistencies: number;
  curHopLimit: number;
  managed: boolean;
  otherConfig: boolean;
  /** RFC 4191 §2.2 preference bits (0 medium, 1 high, 3 low). */
  preference: number;
  routerLifetimeSec: number;
  reachableTimeMs: number;
  retransTimerMs: number;
  /** MTU option value, 0 when its last RA had none. */
  mtu: number;
  /** When its default route runs out on the hosts; undefined when it is not a default router (or it ran out). */
  defaultRouteExpiresAt: Millis | undefined;
  readonly prefixes: MonitoredPrefix[];
  /** Its last RA (ICMPv6 bytes, at most MAX_RA_COPY), for status. */
  readonly last: Uint8Array;
  lastLength: number;
}

const prefixExpiry = (p: MonitoredPrefix): Millis => (p.validLifetimeSec === INFINITE_LIFETIME ? Infinity : p.heardAt + p.validLifetimeSec * 1000);

export class RouterTable {
  readonly routers: MonitoredRouter[] = [];
  /** Default routes that ran out (router lifetime elapsed with no RA from that router since). */
  defaultRouteExpirations = 0;
  /** Routers forgotten to make room for a new one (the table was full). */
  evictions = 0;

  /** The entry for `source`, undefined when unknown. */
  find(source: Uint8Array): MonitoredRouter | undefined {
    for (let i = 0; i < this.routers.length; i++) if (ipv6Equal(source, this.routers[i]!.source)) return this.routers[i];
    return undefined;
  }

  /** Records a valid RA (checkRouterAdvert passed) `data[offset .. offset + length)` from `source` at `now`. */
  observe(data: Uint8Array, offset: number, length: number, source: Uint8Array, now: Millis): MonitoredRouter {
    const r = this.find(source) ?? this.#add(source, now);
    r.lastHeardAt = now;
    r.advertisements++;
    r.curHopLimit = data[offset + 4]!;
    const flags = data[offset + 5]!;
    r.managed = (flags & 0x80) !== 0;
    r.otherConfig = (flags & 0x40) !== 0;
    r.preference = (flags >> 3) & 3;
    r.routerLifetimeSec = (data[offset + 6]! << 8) | data[offset + 7]!;
    r.defaultRouteExpiresAt = r.routerLifetimeSec === 0 ? undefined : now + r.routerLifetimeSec * 1000;
    r.reachableTimeMs = u32(data, offset + 8);
    r.retransTimerMs = u32(data, offset + 12);
    r.mtu = 0;
    r.lastLength = Math.min(length, MAX_RA_COPY);
    r.last.set(data.subarray(offset, offset + r.lastLength));
    const end = offset + length;
    for (let at = offset + RA_FIXED_LEN; at < end; at += data[at + 1]! * 8) {
      const type = data[at]!;
      const len = data[at + 1]! * 8;
      if (type === NDISC_OPTION.MTU && len === 8) r.mtu = u32(data, at + 4);
      else if (type === NDISC_OPTION.PREFIX_INFO && len === PIO_LEN) this.#prefix(r, data, at, now);
    }
    return r;
  }

  /**
   * Handles what ran out by `now`: default routes (counted, and `expired(router)` called once each), prefixes
   * past their valid lifetime, routers to forget. Returns true when the table changed.
   */
  expire(now: Millis, expired: (router: MonitoredRouter) => void): boolean {
    let changed = false;
    for (let i = this.routers.length - 1; i >= 0; i--) {
      const r = this.routers[i]!;
      if (r.defaultRouteExpiresAt !== undefined && r.defaultRouteExpiresAt <= now) {
        r.defaultRouteExpiresAt = undefined;
        this.defaultRouteExpirations++;
        expired(r);
        changed = true;
      }
      for (let k = r.prefixes.length - 1; k >= 0; k--) {
        if (prefixExpiry(r.prefixes[k]!) <= now) {
          r.prefixes.splice(k, 1);
          changed = true;
        }
      }
      if (r.defaultRouteExpiresAt === undefined && r.prefixes.length === 0 && r.lastHeardAt + MONITOR_HOLD_MS <= now) {
        this.routers.splice(i, 1);
        changed = true;
      }
    }
    return changed;
  }

  /** The next time expire() has something to do; undefined when nothing is pending. */
  nextDeadline(): Millis | undefined {
    let next = Infinity;
    for (const r of this.routers) {
      let quiet = true;
      if (r.defaultRouteExpiresAt !== undefined) {
        next = Math.min(next, r.defaultRouteExpiresAt);
        quiet = false;
      }
      for (const p of r.prefixes) {
        next = Math.min(next, prefixExpiry(p));
        quiet = false;
      }
      if (quiet) next = Math.min(next, r.lastHeardAt + MONITOR_HOLD_MS);
    }
    return next === Infinity ? undefined : next;
  }

  #add(source: Uint8Array, now: Millis): MonitoredRouter {
    if (this.routers.length >= MAX_ROUTERS) {
      let oldest = 0;
      for (let i = 1; i < this.routers.length; i++) if (this.routers[i]!.lastHeardAt < this.routers[oldest]!.lastHeardAt) oldest = i;
      this.routers.splice(oldest, 1);
      this.evictions++;
    }
    const r: MonitoredRouter = {
      source: Uint8Array.from(source.subarray(0, 16)),
      firstHeardAt: now,
      lastHeardAt: now,
      advertisements: 0,
      inconsistencies: 0,
      curHopLimit: 0,
      managed: false,
      otherConfig: false,
      preference: 0,
      routerLifetimeSec: 0,
      reachableTimeMs: 0,
      retransTimerMs: 0,
      mtu: 0,
      defaultRouteExpiresAt: undefined,
      prefixes: [],
      last: new Uint8Array(MAX_RA_COPY),
      lastLength: 0,
    };
    this.routers.push(r);
    return r;
  }

  /** The Prefix Information at data[at..at+32) (RFC 4861 §4.6.2): updated, added, or removed (valid lifetime 0). */
  #prefix(r: MonitoredRouter, data: Uint8Array, at: number, now: Millis): void {
    const length = data[at + 2]!;
    const valid = u32(data, at + 4);
    let p: MonitoredPrefix | undefined;
    let index = -1;
    for (let k = 0; k < r.prefixes.length; k++) {
      const q = r.prefixes[k]!;
      if (q.prefixLength === length && ipv6Equal(data, q.prefix, at + 16)) {
        p = q;
        index = k;
        break;
      }
    }
    if (valid === 0) {
      if (index >= 0) r.prefixes.splice(index, 1);
      return;
    }
    if (p === undefined) {
      if (r.prefixes.length >= MAX_PREFIXES_PER_ROUTER) return;
      p = { prefix: Uint8Array.from(data.subarray(at + 16, at + 32)), prefixLength: length, onLink: false, autonomous: false, validLifetimeSec: 0, preferredLifetimeSec: 0, heardAt: now };
      r.prefixes.push(p);
    }
    p.onLink = (data[at + 3]! & 0x80) !== 0;
    p.autonomous = (data[at + 3]! & 0x40) !== 0;
    p.validLifetimeSec = valid;
    p.preferredLifetimeSec = u32(data, at + 8);
    p.heardAt = now;
  }
}
