// The Router Advertisement sender of one interface (RFC 4861 §6.2), sans-I/O: it takes `now`, the received
// Router Solicitations and configuration changes, keeps its deadlines in a TimerTable, and writes RAs into
// a sink. One engine per advertising interface; the agent gives each its own raw ICMPv6 socket and driver.
//
// Schedule (§6.2.4): when the interface becomes an advertising interface (start, link back up) the first RA
// goes out at once, then the interval is a uniform random value in [MinRtrAdvInterval, MaxRtrAdvInterval],
// capped at MAX_INITIAL_RTR_ADVERT_INTERVAL for the first MAX_INITIAL_RTR_ADVERTISEMENTS RAs. Consecutive
// multicast RAs are never closer than MIN_DELAY_BETWEEN_RAS (configurable, as radvd's MinDelayBetweenRAs).
//
// Solicited RAs (§6.2.6): by default (RFC 7772 §5.1, radvd's AdvRASolicitedUnicast) an RS from a link-local
// address is answered at once with a unicast RA to that host only, so a flood of RSs never touches the
// multicast schedule; unicast answers are bounded by a token bucket (maxUnicastPerSec). Otherwise (option
// off, or the solicitor is :: or not link-local, whose unicast answer would leave from a non-link-local source
// that hosts reject, §6.1.2) the answer is the next multicast RA, moved earlier to a random time within
// MAX_RA_DELAY_TIME, but never closer than MIN_DELAY_BETWEEN_RAS to the previous multicast RA: all RSs in
// that window are answered by the same RA (coalesced), so the multicast rate cannot rise above 1 per
// MIN_DELAY_BETWEEN_RAS whatever arrives.
//
// Stop (§6.2.5): up to MAX_FINAL_RTR_ADVERTISEMENTS final RAs with router lifetime 0, MIN_DELAY_BETWEEN_RAS
// apart (radvd sends only one, radvd.c stop_adverts), then sink.finalDone(). Reload: a changed content is sent with
// the next RA, and counts as a new initial period (§6.2.4 allows up to MAX_INITIAL_RTR_ADVERTISEMENTS RAs
// after a change) so hosts learn it within seconds; removed prefixes are deprecated (deprecation.ts).
// Other routers' RAs are checked for consistency with ours (§6.2.7) and, in monitor mode, kept per router
// (other-routers.ts); `advertise: false` is monitor-only (nothing is ever sent). RAs from the interface's own
// addresses (setOwnAddresses) are dropped: they are ours, looped back.

import { ALL_NODES, ipv6Equal, isLinkLocal6, isUnspecified6 } from '../../wire/ipv6-address.js';
import { bytesEqual } from '../../wire/bytes.js';
import { RateBuckets } from '../rate-bucket.js';
import { TimerTable } from '../timer-table.js';
import type { Millis, Random, TimedEngine } from '../types.js';
import { buildRaMessages, decrementedPrefixes, decrementsLifetimes, type RaContent, type RaPrefix } from './content.js';
import { DeprecatedPrefixes } from './deprecation.js';
import { RA_DROP, RA_DROP_REASONS, checkRouterSolicit } from './solicit.js';
import { WithdrawnOptions } from './withdrawal.js';
import type { RouterTable } from './monitor.js';
import { OtherRouters, type OtherRoutersSink } from './other-routers.js';
import type { DeprecatedEntry } from './deprecation.js';

/** RFC 4861 §10 router constants, in milliseconds. */
export const RA_CONSTANTS = {
  MAX_INITIAL_RTR_ADVERT_INTERVAL: 16_000,
  MAX_INITIAL_RTR_ADVERTISEMENTS: 3,
  MAX_FINAL_RTR_ADVERTISEMENTS: 3,
  MIN_DELAY_BETWEEN_RAS: 3_000,
  MAX_RA_DELAY_TIME: 500,
} as const;

export interface RaSink extends OtherRoutersSink {
  /** Sends one RA (ICMPv6 message, type first, checksum left to the kernel) to `destination` (16 bytes). Lent bytes. */
  sendRa(destination: Uint8Array, message: Uint8Array): void;
  /** The final RAs are out (or none were due): the interface can be closed. Called once, from stop or a timeout. */
  finalDone(): void;
}

export interface RaSchedule {
  readonly minIntervalMs: Millis; // MinRtrAdvInterval
  readonly maxIntervalMs: Millis; // MaxRtrAdvInterval
  readonly minDelayBetweenRasMs: Millis; // MIN_DELAY_BETWEEN_RAS
  /** Answer an RS from a link-local address by unicast at once (RFC 7772); else by the next multicast RA. */
  readonly unicastSolicited: boolean;
  /** No multicast at all (radvd UnicastOnly, for links without multicast): only answers to RSs, by unicast. */
  readonly unicastOnly: boolean;
  /** radvd `clients {}`: if not empty, every RA goes by unicast to each of these (16 bytes each), RSs from others are dropped. */
  readonly clients: readonly Uint8Array[];
  /** Bound on unicast answers: a bucket of this many tokens refilled at this many per second. */
  readonly maxUnicastPerSec: number;
  /** Final RAs on stop, 0..MAX_FINAL_RTR_ADVERTISEMENTS (radvd RemoveAdvOnExit off = 0). */
  readonly finalAdvertisements: number;
}

export interface RaSenderConfig {
  readonly schedule: RaSchedule;
  readonly content: RaContent;
  /** The interface's MTU: RAs are split to fit it (content.ts). */
  readonly linkMtu: number;
  /** Keep a table of the other routers' RAs (monitor.ts); default false. */
  readonly monitor?: boolean;
  /** false: monitor only, never send an RA (no schedule, RSs dropped as rs-not-advertising); default true. */
  readonly advertise?: boolean;
}

export type RaSenderState = 'idle' | 'advertising' | 'stopping' | 'stopped';

export interface RaSenderCounters {
  /** Multicast RAs (or rounds of unicast RAs to `clients`), final ones included; a split RA counts once. */
  advertisements: number;
  finalAdvertisements: number;
  solicitations: number;
  /** RSs answered by a unicast RA at once. */
  answeredUnicast: number;
  /** RSs answered by (coalesced into) a multicast RA. */
  answeredMulticast: number;
  /** RA messages handed to the sink (split RAs count each part, each client counts). */
  messagesSent: number;
  /** RAs received from other routers (§6.2.7). */
  advertsReceived: number;
}

type TimerKey = 'advert' | 'lifetimes' | 'monitor';

/** A loop, not Array.some: no closure per Router Solicitation. */
function isClient(clients: readonly Uint8Array[], source: Uint8Array): boolean {
  for (let i = 0; i < clients.length; i++) if (ipv6Equal(clients[i]!, source)) return true;
  return false;
}

const sameMessages = (a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean => a.length === b.length && a.every((x, i) => bytesEqual(x, b[i]!));

export class RaSender implements TimedEngine<RaSink> {
  readonly dropReasons = RA_DROP_REASONS;
  readonly counters: RaSenderCounters = { advertisements: 0, finalAdvertisements: 0, solicitations: 0, answeredUnicast: 0, answeredMulticast: 0, messagesSent: 0, advertsReceived: 0 };
  readonly #timers = new TimerTable<TimerKey>();
  readonly #deprecated = new DeprecatedPrefixes();
  readonly #withdrawn = new WithdrawnOptions();
  readonly #others = new OtherRouters();
  #renumberingVersion = 0;
  readonly #random: Random;
  #config: RaSenderConfig;
  #state: RaSenderState = 'idle';
  #initialLeft = 0;
  #finalLeft = 0;
  #lastMulticastAt: Millis | undefined;
  #unicastBucket: RateBuckets; // the unicast answers' (maxUnicastPerSec)
  /** The RAs for the current content, built lazily; rebuilt each second while a deprecated prefix counts down. */
  #messages: Uint8Array[] | undefined;
  #messagesSecond = -1;
  /** When the configured lifetimes began to count down (DecrementLifetimes): start or the last reload. */
  #contentSince: Millis | undefined;
  #finalMessages: Uint8Array[] = [];
  #lastSent: readonly Uint8Array[] = [];
  #pendingSolicited = 0;

  constructor(config: RaSenderConfig, random: Random) {
    this.#config = config;
    this.#random = random;
    this.#unicastBucket = unicastBucket(config);
  }

  get state(): RaSenderState {
    return this.#state;
  }

  get config(): RaSenderConfig {
    return this.#config;
  }

  /** The RA messages last handed to the sink (for status), [] before the first. */
  get lastSent(): readonly Uint8Array[] {
    return this.#lastSent;
  }

  /** When the next multicast RA (periodic, solicited or final) is due; undefined when none is scheduled. */
  get nextAdvertAt(): Millis | undefined {
    return this.#timers.deadline('advert');
  }

  get lastMulticastAt(): Millis | undefined {
    return this.#lastMulticastAt;
  }

  /** Deprecated prefixes and their remaining valid lifetime at `now`. */
  deprecated(now: Millis): ReturnType<DeprecatedPrefixes['list']> {
    return this.#deprecated.list(now);
  }

  /** Bumped when the advertised or deprecated prefixes change (the agent then saves the renumbering state). */
  get renumberingVersion(): number {
    return this.#renumberingVersion;
  }

  /** Deprecated prefixes with the time their valid lifetime ends (for the state file). */
  deprecatedEntries(): readonly DeprecatedEntry[] {
    return this.#deprecated.entries();
  }

  /** Prefixes a previous run advertised, valid on the hosts until `expiresAt`: deprecated if not advertised now (RFC 9096). */
  restore(previous: readonly { prefix: RaPrefix; expiresAt: Millis }[], now: Millis): void {
    let changed = false;
    for (const p of previous) if (this.#deprecated.restore(p.prefix, p.expiresAt, this.#config.content.prefixes, now)) changed = true;
    if (!changed) return;
    this.#renumberingVersion++;
    this.#messages = undefined;
    this.#armLifetimes();
  }

  /** The interface's own addresses (16 bytes each): RAs from them are ours, looped back, and dropped. */
  setOwnAddresses(addresses: readonly Uint8Array[]): void {
    this.#others.setOwnAddresses(addresses);
  }

  /** Monitor mode: the other routers heard (empty when off). */
  get routers(): RouterTable {
    return this.#others.table;
  }

  /** The interface became an advertising interface (§6.2.4): first RA at once, then the initial period. */
  start(now: Millis): void {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    this.#state = 'advertising';
    this.#contentSince ??= now;
    this.#initialLeft = RA_CONSTANTS.MAX_INITIAL_RTR_ADVERTISEMENTS;
    if (this.#sendsPeriodic()) this.#timers.set('advert', this.#earliestMulticast(now));
  }

  /** The interface stopped being usable (link down, link-local address gone): no RAs until start(). */
  pause(): void {
    if (this.#state !== 'advertising') return;
    this.#state = 'idle';
    this.#timers.delete('advert');
    this.#pendingSolicited = 0;
  }

  /** A Router Solicitation `data[offset .. offset + length)` from `source` arrived with IPv6 hop limit `hopLimit`. */
  solicit(data: Uint8Array, offset: number, length: number, source: Uint8Array, hopLimit: number, now: Millis, sink: RaSink): void {
    this.counters.solicitations++;
    const bad = checkRouterSolicit(data, offset, length, source, hopLimit);
    if (bad >= 0) return sink.drop(bad);
    if (this.#state !== 'advertising' || this.#config.advertise === false) return sink.drop(RA_DROP['rs-not-advertising']);
    const s = this.#config.schedule;
    if (s.clients.length > 0 && !isClient(s.clients, source)) return sink.drop(RA_DROP['rs-source-not-in-clients']);
    const unspecified = isUnspecified6(source);
    if (s.unicastOnly || (s.unicastSolicited && isLinkLocal6(source))) {
      if (unspecified) return sink.drop(RA_DROP['rs-unspecified-source-unicast-only']);
      if (!this.#unicastBucket.take(0, now)) return sink.drop(RA_DROP['rs-unicast-rate-limited']);
      this.counters.answeredUnicast++;
      this.#send(source, this.#currentMessages(now), sink);
      return;
    }
    // §6.2.6: a random delay in [0, MAX_RA_DELAY_TIME]; after a recent multicast RA, that delay counts from
    // MIN_DELAY_BETWEEN_RAS after it; an RA already due sooner answers this RS too.
    this.#pendingSolicited++;
    const delay = this.#random.int(RA_CONSTANTS.MAX_RA_DELAY_TIME + 1);
    const last = this.#lastMulticastAt;
    const at = last !== undefined && now - last < s.minDelayBetweenRasMs ? last + s.minDelayBetweenRasMs + delay : now + delay;
    const due = this.#timers.deadline('advert');
    if (due === undefined || at < due) this.#timers.set('advert', at);
  }

  /**
   * A Router Advertisement from another router (`source`, received with IPv6 hop limit `hopLimit`): checked
   * per §6.1.2 (else dropped), then compared with what we advertise (§6.2.7); each difference goes to
   * sink.inconsistent. Allocation-free.
   */
  advert(data: Uint8Array, offset: number, length: number, source: Uint8Array, hopLimit: number, now: Millis, sink: RaSink): void {
    if (this.#others.isOwn(source)) return sink.drop(RA_DROP['ra-from-self']);
    this.counters.advertsReceived++;
    const c = this.#config;
    if (this.#others.advert(data, offset, length, source, hopLimit, now, c.monitor === true, c.advertise === false ? undefined : c.content, sink)) this.#armMonitor();
  }

  /**
   * A new configuration (SIGHUP, an `auto` prefix or the link MTU changed). Prefixes no longer configured are
   * deprecated; a content change restarts the initial period so hosts hear it soon.
   */
  reload(config: RaSenderConfig, now: Millis): void {
    const before = this.#currentMessages(now);
    this.#deprecated.update(this.#config.content.prefixes, config.content.prefixes, now);
    this.#withdrawn.update(this.#config.content, config.content, now);
    this.#renumberingVersion++;
    if (config.monitor !== true) this.routers.routers.length = 0;
    // A new rate starts a full bucket of its own size: a reload (the operator's SIGHUP) may grant one more burst.
    if (config.schedule.maxUnicastPerSec !== this.#config.schedule.maxUnicastPerSec) this.#unicastBucket = unicastBucket(config);
    this.#config = config;
    this.#contentSince = now;
    this.#messages = undefined;
    this.#armLifetimes();
    if (this.#state !== 'advertising') return;
    if (!this.#sendsPeriodic()) {
      this.#timers.delete('advert');
      return;
    }
    let next = this.#timers.deadline('advert') ?? now + config.schedule.maxIntervalMs;
    if (!sameMessages(before, this.#currentMessages(now))) {
      this.#initialLeft = RA_CONSTANTS.MAX_INITIAL_RTR_ADVERTISEMENTS;
      next = Math.min(next, this.#earliestMulticast(now));
    }
    this.#timers.set('advert', Math.min(next, now + config.schedule.maxIntervalMs));
  }

  /** Graceful stop (§6.2.5): final RAs, then sink.finalDone(). Idempotent. */
  stop(now: Millis, sink: RaSink): void {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    const wasAdvertising = this.#state === 'advertising';
    this.#timers.clear();
    this.#finalLeft = Math.min(this.#config.schedule.finalAdvertisements, RA_CONSTANTS.MAX_FINAL_RTR_ADVERTISEMENTS);
    if (!wasAdvertising || this.#finalLeft === 0 || !this.#sendsPeriodic()) {
      this.#state = 'stopped';
      sink.finalDone();
      return;
    }
    this.#state = 'stopping';
    this.#finalMessages = this.#build(now, true);
    this.#timers.set('advert', this.#earliestMulticast(now));
  }

  handleTimeout(now: Millis, sink: RaSink): void {
    for (let key = this.#timers.popExpired(now); key !== undefined; key = this.#timers.popExpired(now)) {
      if (key === 'lifetimes') {
        if (this.#deprecated.expire(now)) {
          this.#messages = undefined;
          this.#renumberingVersion++;
        }
        if (this.#withdrawn.expire(now)) this.#messages = undefined;
        this.#armLifetimes();
      } else if (key === 'monitor') {
        this.routers.expire(now, (router) => sink.defaultRouteExpired(router));
        this.#armMonitor();
      } else if (this.#state === 'stopping') {
        this.#multicast(now, this.#finalMessages, sink);
        this.counters.finalAdvertisements++;
        if (--this.#finalLeft > 0) {
          this.#timers.set('advert', now + this.#config.schedule.minDelayBetweenRasMs);
        } else {
          this.#state = 'stopped';
          sink.finalDone();
        }
      } else if (this.#state === 'advertising') {
        this.counters.answeredMulticast += this.#pendingSolicited;
        this.#pendingSolicited = 0;
        this.#multicast(now, this.#currentMessages(now), sink);
        if (this.#initialLeft > 0) this.#initialLeft--;
        this.#timers.set('advert', now + this.#interval());
      }
    }
  }

  nextTimeout(): Millis | undefined {
    return this.#timers.nextTimeout();
  }

  /** §6.2.4: uniform in [Min, Max]; capped at MAX_INITIAL_RTR_ADVERT_INTERVAL during the initial period. */
  #interval(): Millis {
    const s = this.#config.schedule;
    const span = Math.max(0, Math.round(s.maxIntervalMs - s.minIntervalMs));
    const interval = s.minIntervalMs + this.#random.int(span + 1);
    return this.#initialLeft > 0 ? Math.min(interval, RA_CONSTANTS.MAX_INITIAL_RTR_ADVERT_INTERVAL) : interval;
  }

  /** Now, unless a multicast RA went out less than MIN_DELAY_BETWEEN_RAS ago (§6.2.4 rate limit). */
  #earliestMulticast(now: Millis): Millis {
    const last = this.#lastMulticastAt;
    return last === undefined ? now : Math.max(now, last + this.#config.schedule.minDelayBetweenRasMs);
  }

  /** Whether there is anyone to send unsolicited RAs to: the link's all-nodes group, or the listed clients. */
  #sendsPeriodic(): boolean {
    const s = this.#config.schedule;
    return this.#config.advertise !== false && (!s.unicastOnly || s.clients.length > 0);
  }

  #multicast(now: Millis, messages: readonly Uint8Array[], sink: RaSink): void {
    this.#lastMulticastAt = now;
    this.counters.advertisements++;
    const clients = this.#config.schedule.clients;
    if (clients.length === 0) this.#send(ALL_NODES, messages, sink);
    else for (const c of clients) this.#send(c, messages, sink);
  }

  #send(destination: Uint8Array, messages: readonly Uint8Array[], sink: RaSink): void {
    for (let i = 0; i < messages.length; i++) sink.sendRa(destination, messages[i]!);
    this.counters.messagesSent += messages.length;
    this.#lastSent = messages;
  }

  #currentMessages(now: Millis): Uint8Array[] {
    const second = Math.floor(now / 1000);
    const counting = this.#deprecated.size > 0 || decrementsLifetimes(this.#config.content.prefixes);
    if (this.#messages === undefined || (counting && second !== this.#messagesSecond)) {
      this.#messages = this.#build(now, false);
      this.#messagesSecond = second;
    }
    return this.#messages;
  }

  #build(now: Millis, final: boolean): Uint8Array[] {
    const c = this.#config;
    const own = decrementedPrefixes(c.content.prefixes, Math.floor((now - (this.#contentSince ?? now)) / 1000));
    const withPrefixes = { ...c.content, prefixes: [...own, ...this.#deprecated.advertised(now)] };
    const content = this.#withdrawn.extend(withPrefixes);
    return buildRaMessages(content, c.linkMtu, final);
  }

  #armLifetimes(): void {
    const a = this.#deprecated.nextExpiry();
    const b = this.#withdrawn.nextExpiry();
    const next = a === undefined ? b : b === undefined ? a : Math.min(a, b);
    if (next === undefined) this.#timers.delete('lifetimes');
    else this.#timers.set('lifetimes', next);
  }

  #armMonitor(): void {
    const next = this.routers.nextDeadline();
    if (next === undefined) this.#timers.delete('monitor');
    else this.#timers.set('monitor', next);
  }
}

/** One bucket of maxUnicastPerSec answers per second, a second's worth saved up. */
const unicastBucket = (c: RaSenderConfig): RateBuckets => new RateBuckets(1, c.schedule.maxUnicastPerSec, c.schedule.maxUnicastPerSec);
