// Prefixes that left the configuration (SIGHUP reload, or an `auto` prefix whose address left the interface)
// keep being advertised with preferred lifetime 0 and a valid lifetime counting down to their expiry, so
// hosts deprecate the addresses they formed from them (RFC 4862 §5.5.4: a deprecated address is not used for
// new communication) instead of keeping them preferred until the old preferred lifetime runs out. radvd
// only offers this on exit (DeprecatePrefix); its users asked for it on change (radvd issues #91, #85).
//
// The countdown starts at the prefix's valid lifetime at removal. An infinite valid lifetime counts down from
// 2 hours: RFC 4862 §5.5.3 (e) makes a host lower a longer remaining lifetime to 2 hours at most, never less,
// so a shorter advertised value would not be applied anyway.
//
// Bound: at most MAX_DEPRECATED prefixes are kept; removing more drops the one closest to expiry (it is
// deprecated on the hosts already: they heard preferred 0 at least once, or they will at their own expiry).

import type { Millis } from '../types.js';
import type { RaPrefix } from './content.js';
import { INFINITE_LIFETIME } from '../../wire/ndisc-options.js';

export const MAX_DEPRECATED = 64;
/** RFC 4862 §5.5.3 (e): the 2 hours a host keeps an address whatever a shorter valid lifetime says. */
export const TWO_HOURS_SEC = 7200;

export interface DeprecatedEntry {
  readonly prefix: RaPrefix;
  readonly expiresAt: Millis;
}

export function samePrefix(a: RaPrefix, b: RaPrefix): boolean {
  if (a.prefixLength !== b.prefixLength) return false;
  for (let i = 0; i < 16; i++) if (a.prefix[i] !== b.prefix[i]) return false;
  return true;
}

export class DeprecatedPrefixes {
  #entries: DeprecatedEntry[] = [];

  get size(): number {
    return this.#entries.length;
  }

  /**
   * A new configuration replaces `before` with `after` at `now`: prefixes only in `before` start their
   * countdown, prefixes back in `after` stop being deprecated. Returns true when the set changed.
   */
  update(before: readonly RaPrefix[], after: readonly RaPrefix[], now: Millis): boolean {
    const n = this.#entries.length;
    this.#entries = this.#entries.filter((e) => !after.some((p) => samePrefix(p, e.prefix)));
    let changed = this.#entries.length !== n;
    for (const p of before) {
      if (after.some((q) => samePrefix(p, q)) || this.#entries.some((e) => samePrefix(p, e.prefix))) continue;
      // A prefix that was advertised as already invalid has nothing to deprecate.
      if (p.validLifetimeSec === 0) continue;
      const sec = p.validLifetimeSec === INFINITE_LIFETIME ? TWO_HOURS_SEC : p.validLifetimeSec;
      this.#entries.push({ prefix: p, expiresAt: now + sec * 1000 });
      changed = true;
    }
    this.#bound();
    return changed;
  }

  /**
   * A prefix advertised before a restart (the state file, agents/ra-sender/renumbering-state.ts) whose valid
   * lifetime on the hosts ends at `expiresAt`: deprecated unless `current` (what is advertised now) has it.
   * Returns true when it was added. Keeps the later expiry when the prefix is already counting down.
   */
  restore(prefix: RaPrefix, expiresAt: Millis, current: readonly RaPrefix[], now: Millis): boolean {
    if (expiresAt <= now || current.some((p) => samePrefix(p, prefix))) return false;
    const existing = this.#entries.findIndex((e) => samePrefix(e.prefix, prefix));
    if (existing >= 0) {
      if (this.#entries[existing]!.expiresAt >= expiresAt) return false;
      this.#entries[existing] = { prefix, expiresAt };
      return true;
    }
    this.#entries.push({ prefix, expiresAt });
    this.#bound();
    return true;
  }

  /** Every deprecated prefix with the time its valid lifetime ends (for the state file). */
  entries(): readonly DeprecatedEntry[] {
    return this.#entries;
  }

  #bound(): void {
    if (this.#entries.length > MAX_DEPRECATED) {
      this.#entries.sort((a, b) => b.expiresAt - a.expiresAt);
      this.#entries.length = MAX_DEPRECATED;
    }
  }

  /** Forgets prefixes whose valid lifetime ran out by `now`; true when one was forgotten. */
  expire(now: Millis): boolean {
    const n = this.#entries.length;
    this.#entries = this.#entries.filter((e) => e.expiresAt > now);
    return this.#entries.length !== n;
  }

  /** The earliest expiry, undefined when nothing is deprecated. */
  nextExpiry(): Millis | undefined {
    let next: Millis | undefined;
    for (const e of this.#entries) if (next === undefined || e.expiresAt < next) next = e.expiresAt;
    return next;
  }

  /** The Prefix Information to advertise at `now`: preferred 0, valid = the remaining whole seconds (rounded up). */
  advertised(now: Millis): RaPrefix[] {
    return this.#entries.map((e) => ({ ...e.prefix, preferredLifetimeSec: 0, validLifetimeSec: Math.max(0, Math.ceil((e.expiresAt - now) / 1000)) }));
  }

  /** For status: each deprecated prefix and its remaining seconds. */
  list(now: Millis): { prefix: RaPrefix; remainingSec: number }[] {
    return this.#entries.map((e) => ({ prefix: e.prefix, remainingSec: Math.max(0, Math.ceil((e.expiresAt - now) / 1000)) }));
  }
}
