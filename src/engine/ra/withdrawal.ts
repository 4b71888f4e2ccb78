// Routes, DNS servers and search domains that left the configuration on a reload (SIGHUP) are withdrawn: they
// keep being advertised with lifetime 0 (RFC 4191 §3.1: a Route Information with lifetime 0 removes the route;
// RFC 8106 §5.1/§5.2: an RDNSS or DNSSL lifetime of 0 means the servers or domains "MUST no longer be used")
// until the lifetime hosts last heard for them would have run out, so a host that missed the first RA after
// the reload still drops them. What is still configured is never sent with lifetime 0 (a reload is hitless:
// issue 19 point 7); prefixes have their own countdown (deprecation.ts: RFC 4862 needs preferred 0 and a
// valid lifetime that runs down, not 0).
//
// An infinite lifetime is withdrawn for 2 hours, as a deprecated prefix is. Bound: MAX_WITHDRAWN entries per
// kind; beyond that the one closest to expiry is forgotten.

import type { Millis } from '../types.js';
import type { RaContent, RaRoute } from './content.js';
import { INFINITE_LIFETIME } from '../../wire/ndisc-options.js';
import { TWO_HOURS_SEC } from './deprecation.js';
import { bytesEqual } from '../../wire/bytes.js';

export const MAX_WITHDRAWN = 16;

interface Withdrawn<T> {
  readonly item: T;
  readonly expiresAt: Millis;
}

const sameRoute = (a: RaRoute, b: RaRoute): boolean => a.prefixLength === b.prefixLength && bytesEqual(a.prefix, b.prefix);
const sameDomain = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

const expiry = (now: Millis, lifetimeSec: number): Millis => now + (lifetimeSec === INFINITE_LIFETIME ? TWO_HOURS_SEC : lifetimeSec) * 1000;

/** `list` after a reload: entries back in `after` dropped, those only in `before` (lifetime > 0) added. */
function updated<T>(list: Withdrawn<T>[], before: readonly { item: T; lifetimeSec: number }[], after: readonly T[], same: (a: T, b: T) => boolean, now: Millis): Withdrawn<T>[] {
  const out = list.filter((w) => !after.some((a) => same(a, w.item)));
  for (const b of before) {
    if (b.lifetimeSec === 0 || after.some((a) => same(a, b.item)) || out.some((w) => same(w.item, b.item))) continue;
    out.push({ item: b.item, expiresAt: expiry(now, b.lifetimeSec) });
  }
  if (out.length > MAX_WITHDRAWN) {
    out.sort((a, b) => b.expiresAt - a.expiresAt);
    out.length = MAX_WITHDRAWN;
  }
  return out;
}

export class WithdrawnOptions {
  #routes: Withdrawn<RaRoute>[] = [];
  #servers: Withdrawn<Uint8Array>[] = [];
  #domains: Withdrawn<string>[] = [];

  get size(): number {
    return this.#routes.length + this.#servers.length + this.#domains.length;
  }

  /** A reload replaces `before` with `after` at `now`. */
  update(before: RaContent, after: RaContent, now: Millis): void {
    this.#routes = updated(this.#routes, before.routes.map((r) => ({ item: r, lifetimeSec: r.lifetimeSec })), after.routes, sameRoute, now);
    const servers = (c: RaContent) => c.rdnss.flatMap((d) => d.servers.map((s) => ({ item: s, lifetimeSec: d.lifetimeSec })));
    this.#servers = updated(this.#servers, servers(before), servers(after).map((s) => s.item), bytesEqual, now);
    const domains = (c: RaContent) => c.dnssl.flatMap((d) => d.domains.map((s) => ({ item: s, lifetimeSec: d.lifetimeSec })));
    this.#domains = updated(this.#domains, domains(before), domains(after).map((s) => s.item), sameDomain, now);
  }

  /** Forgets what expired by `now`; true when something was forgotten. */
  expire(now: Millis): boolean {
    const n = this.size;
    this.#routes = this.#routes.filter((w) => w.expiresAt > now);
    this.#servers = this.#servers.filter((w) => w.expiresAt > now);
    this.#domains = this.#domains.filter((w) => w.expiresAt > now);
    return this.size !== n;
  }

  nextExpiry(): Millis | undefined {
    let next: Millis | undefined;
    for (const w of [...this.#routes, ...this.#servers, ...this.#domains]) if (next === undefined || w.expiresAt < next) next = w.expiresAt;
    return next;
  }

  /** `content` plus the withdrawn routes, servers and domains, each with lifetime 0 (after the configured ones). */
  extend(content: RaContent): RaContent {
    if (this.size === 0) return content;
    return {
      ...content,
      routes: [...content.routes, ...this.#routes.map((w) => ({ ...w.item, lifetimeSec: 0 }))],
      rdnss: this.#servers.length === 0 ? content.rdnss : [...content.rdnss, { servers: this.#servers.map((w) => w.item), lifetimeSec: 0 }],
      // One option per domain: each fitted in an RA when it was configured, several together might not.
      dnssl: [...content.dnssl, ...this.#domains.map((w) => ({ domains: [w.item], lifetimeSec: 0 }))],
    };
  }
}
