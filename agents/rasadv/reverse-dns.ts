// Reverse DNS names of advertisement senders, for `rasadv listen`: `netsh ras show activeservers` prints the
// sender as "192.105.90.102 (thepcsdnsname.example.com)" (seed 001), so the listener looks the sender's PTR
// name up too. Advertisements are unauthenticated multicast, so every sender address may be spoofed; the
// lookups are bounded so that a datagram flood cannot turn into a DNS flood or hold the output back:
//   - a cache of at most MAX_ENTRIES addresses, least recently used forgotten first; a name is kept for
//     NAME_TTL_MS (then looked up again, so renamed hosts show their new name), a failure (no PTR record,
//     SERVFAIL, timeout) for FAILURE_TTL_MS;
//   - at most one lookup in flight per address, and at most MAX_IN_FLIGHT in all, counted until the resolver
//     really settles (not just until our timeout); with all slots busy, no lookup is started and the name
//     stays unknown (null) for that event;
//   - a caller waits at most TIMEOUT_MS for a name; then it gets null (and the failure is cached), while a
//     late answer still fills the cache for later events;
//   - at most MAX_WAITING callers wait at once; past that, the callers waiting for the same address are
//     answered at once with null (in order, so one sender's blocks are never printed out of order).
// In bytes, through those counts: a cached name is at most 253 printable ASCII bytes (PLAIN_NAME), so the cache
// holds at most MAX_ENTRIES x (name + address + entry), about 0.4 MiB; a waiting caller is the listener's block,
// which holds one copy of a server entry, itself bounded by the listener's per-advertisement bounds (host name
// 63, domain 253, text 512 bytes: at most LISTENER_ENTRY_MAX_BYTES, 2 KiB), so at most about 2 MiB wait, whatever
// the table size. Measured by bench/rasadv/listener-memory.mjs (docs/rasadv.md "Bounds").

import { Resolver } from 'node:dns/promises';
import type { Clock, TimerHandle, Timers } from '../../src/runtime/clock.js';
import type { Millis } from '../../src/engine/types.js';

/** The one call used from node:dns; tests inject a fake. */
export interface ReverseResolver {
  reverse(ip: string): Promise<string[]>;
  /** Abandons the queries in flight (they reject), so a stopping listener does not wait for DNS. */
  cancel?(): void;
}

export const REVERSE_DNS_BOUNDS = {
  MAX_ENTRIES: 1024,
  NAME_TTL_MS: 3_600_000,
  FAILURE_TTL_MS: 300_000,
  TIMEOUT_MS: 2_000,
  MAX_IN_FLIGHT: 32,
  MAX_WAITING: 1024,
} as const;

export type ReverseDnsBounds = { -readonly [K in keyof typeof REVERSE_DNS_BOUNDS]: number };

/** node:dns with one try of TIMEOUT_MS per server, so a real query ends about when we stop waiting for it. */
export function systemReverseResolver(): ReverseResolver {
  return new Resolver({ timeout: REVERSE_DNS_BOUNDS.TIMEOUT_MS, tries: 1 });
}

/**
 * A PTR name is attacker-influenced text (whoever controls the reverse zone of a spoofed address): accept
 * printable ASCII only, at most 253 characters, else treat the lookup as failed.
 */
const PLAIN_NAME = /^[\x21-\x7e]{1,253}$/;

interface CacheEntry {
  readonly name: string | null;
  readonly expires: Millis;
}

interface Pending {
  readonly waiters: ((name: string | null) => void)[];
  timer: TimerHandle | undefined;
}

export interface ReverseDnsStats {
  readonly lookups: number;
  readonly found: number;
  readonly failed: number;
  readonly timedOut: number;
  /** Lookups not started because MAX_IN_FLIGHT were busy. */
  readonly skipped: number;
  readonly inFlight: number;
  readonly cached: number;
}

export class ReverseNames {
  readonly #resolver: ReverseResolver;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #bounds: ReverseDnsBounds;
  readonly #cache = new Map<string, CacheEntry>();
  /** Addresses whose resolver call has not settled yet. */
  readonly #inFlight = new Set<string>();
  /** Addresses with callers waiting (a subset of #inFlight: waiters are answered at the latest on timeout). */
  readonly #pending = new Map<string, Pending>();
  #waiting = 0;
  #stats = { lookups: 0, found: 0, failed: 0, timedOut: 0, skipped: 0 };

  constructor(resolver: ReverseResolver, clock: Clock, timers: Timers, bounds: Partial<ReverseDnsBounds> = {}) {
    this.#resolver = resolver;
    this.#clock = clock;
    this.#timers = timers;
    this.#bounds = { ...REVERSE_DNS_BOUNDS, ...bounds };
  }

  /** The cached name without starting a lookup: a name, null (lookup failed), undefined (not known). */
  peek(ip: string): string | null | undefined {
    const e = this.#cache.get(ip);
    return e !== undefined && e.expires > this.#clock.now() ? e.name : undefined;
  }

  /**
   * Calls `done` with the name of `ip`: synchronously when it is cached, no lookup can start or the waiting
   * bound is reached; otherwise when the lookup settles or after TIMEOUT_MS, whichever is first. Callers for
   * one address are answered in call order.
   */
  withName(ip: string, done: (name: string | null) => void): void {
    const pending = this.#pending.get(ip);
    if (pending === undefined) {
      const cached = this.#fresh(ip);
      if (cached !== undefined) return done(cached);
      if (this.#inFlight.has(ip) || !this.#start(ip)) return done(null);
    }
    if (this.#waiting >= this.#bounds.MAX_WAITING) {
      this.#answer(ip, null);
      return done(null);
    }
    this.#pending.get(ip)!.waiters.push(done);
    this.#waiting++;
  }

  stats(): ReverseDnsStats {
    return { ...this.#stats, inFlight: this.#inFlight.size, cached: this.#cache.size };
  }

  /** Answers every waiting caller with what is known now, and cancels the resolver's queries. */
  stop(): void {
    for (const ip of [...this.#pending.keys()]) this.#answer(ip, this.peek(ip) ?? null);
    this.#resolver.cancel?.();
  }

  /** A fresh cache entry, marked most recently used; expired entries are dropped. */
  #fresh(ip: string): string | null | undefined {
    const e = this.#cache.get(ip);
    if (e === undefined) return undefined;
    this.#cache.delete(ip);
    if (e.expires <= this.#clock.now()) return undefined;
    this.#cache.set(ip, e);
    return e.name;
  }

  #store(ip: string, name: string | null): void {
    this.#cache.delete(ip);
    this.#cache.set(ip, { name, expires: this.#clock.now() + (name === null ? this.#bounds.FAILURE_TTL_MS : this.#bounds.NAME_TTL_MS) });
    if (this.#cache.size > this.#bounds.MAX_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
  }

  #start(ip: string): boolean {
    if (this.#inFlight.size >= this.#bounds.MAX_IN_FLIGHT) {
      this.#stats.skipped++;
      return false;
    }
    this.#stats.lookups++;
    this.#inFlight.add(ip);
    const pending: Pending = { waiters: [], timer: undefined };
    this.#pending.set(ip, pending);
    pending.timer = this.#timers.setTimer(() => {
      pending.timer = undefined;
      if (this.#pending.get(ip) !== pending) return;
      this.#stats.timedOut++;
      this.#store(ip, null);
      this.#answer(ip, null);
    }, this.#bounds.TIMEOUT_MS);
    const settle = (name: string | null): void => {
      this.#inFlight.delete(ip);
      this.#stats[name === null ? 'failed' : 'found']++;
      this.#store(ip, name);
      if (this.#pending.get(ip) === pending) this.#answer(ip, name);
    };
    let call: Promise<string[]>;
    try {
      call = this.#resolver.reverse(ip);
    } catch {
      call = Promise.resolve([]);
    }
    call.then(
      (names) => settle(names.map((n) => n.replace(/\.$/, '')).find((n) => PLAIN_NAME.test(n)) ?? null),
      () => settle(null),
    );
    return true;
  }

  #answer(ip: string, name: string | null): void {
    const pending = this.#pending.get(ip);
    if (pending === undefined) return;
    this.#pending.delete(ip);
    if (pending.timer !== undefined) this.#timers.clearTimer(pending.timer);
    this.#waiting -= pending.waiters.length;
    for (const w of pending.waiters) w(name);
  }
}
