// RASADV listener table, sans-I/O. [MS-RASA] §3.2.5 only asks a listener to hand "the message text and the
// source IP address" to the application; this is that application, in the spirit of Windows'
// `netsh ras show activeservers`: a table of active servers keyed by (sender IPv4, host name), with first and
// last seen, domain, count, and two judgements the spec leaves to us:
//   - stale: not heard for `staleAfterMs` (the agent's default is 2 advertisement intervals, §3.1.2);
//   - known: on the --allow list (allow.ts). Without a list nothing is authorised, so every server is unknown.
// Datagrams that are not advertisements are dropped through the sink by reason (checkRasAdv, which throws
// and allocates nothing; the reasons are decodeRasAdv's WireError codes).
// Each fresh entry's stale deadline lives in a TimerTable, so a datagram costs O(log n) however many servers
// are listed. The table is bounded: when full, the least recently heard entry (stale ones first, by construction) is
// evicted and reported, so a new server is always reported.

import type { DropSink, Millis, TimedEngine } from '../types.js';
import { TimerTable } from '../timer-table.js';
import { checkRasAdv, decodeRasAdv, RASADV_CHECK, type RasAdvDeviation, type RasAdvField } from '../../wire/rasadv.js';
import { isAllowed, type AllowList } from './allow.js';

export interface ListenerConfig {
  readonly staleAfterMs: Millis;
  /** Absent: no server is authorised. */
  readonly allow?: AllowList;
  /** Default 1024. */
  readonly maxEntries?: number;
}

export interface ServerEntry {
  readonly sender: number;
  readonly port: number;
  readonly hostname: string;
  readonly domain: string | undefined;
  readonly extra: readonly RasAdvField[];
  readonly deviations: readonly RasAdvDeviation[];
  readonly firstSeen: Millis;
  readonly lastSeen: Millis;
  readonly count: number;
  readonly stale: boolean;
  readonly known: boolean;
}

/** new: first time; again: heard before; back: heard after being stale; changed: Domain or extra lines differ. */
export type AdvertisementEvent = 'new' | 'again' | 'back' | 'changed';

/**
 * Where the table's decisions go (the driver's sink). Each `server` is the table's live entry, lent for the
 * call: the table updates it in place later, so a sink that keeps it (a block printed once the reverse DNS
 * answers) copies it.
 */
export interface ListenerSink extends DropSink {
  /** An advertisement was accepted (§3.2.5: the message and its source address). */
  advertisement(event: AdvertisementEvent, server: ServerEntry): void;
  /** A server was not heard for the stale time. */
  stale(server: ServerEntry): void;
  /** The table was full: the least recently heard server was forgotten to make room for a new one. */
  evicted(server: ServerEntry): void;
}

/**
 * Why a datagram was not an advertisement (index = the drop reason code). [MS-RASA] §2.2.1 defines the
 * message as "Hostname=..." lines ending in a NUL; the decoder's WireError code picks the reason.
 */
export const LISTENER_DROP_REASONS = ['empty-message', 'malformed-text', 'not-rasadv'] as const;
export type DropReason = (typeof LISTENER_DROP_REASONS)[number];
const DROP_EMPTY = 0;
const DROP_MALFORMED = 1;
const DROP_NOT_RASADV = 2;

/** What the table knows; the received and dropped counts are the driver's (it counts the drops). */
export interface ListenerStats {
  readonly accepted: number;
  readonly servers: number;
  readonly stale: number;
  readonly unknown: number;
}

const reasonOf = (check: number): number => (check === RASADV_CHECK.EMPTY ? DROP_EMPTY : check === RASADV_CHECK.NO_HOSTNAME ? DROP_NOT_RASADV : DROP_MALFORMED);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Entry = Mutable<ServerEntry>;

const sameExtra = (a: readonly RasAdvField[], b: readonly RasAdvField[]): boolean =>
  a.length === b.length && a.every((f, i) => f.key === b[i]!.key && f.value === b[i]!.value);

export class RasAdvListenerTable implements TimedEngine<ListenerSink> {
  readonly dropReasons: readonly string[] = LISTENER_DROP_REASONS;
  readonly #staleAfter: Millis;
  #allow: AllowList | undefined;
  readonly #max: number;
  /** Map iteration order = least recently heard first (entries are re-inserted on each advertisement). */
  readonly #entries = new Map<string, Entry>();
  /** When each fresh entry goes stale; stale entries have none. Bound: the table's bound (maxEntries). */
  readonly #staleAt = new TimerTable<Entry>();
  #accepted = 0;

  constructor(cfg: ListenerConfig) {
    if (!(Number.isFinite(cfg.staleAfterMs) && cfg.staleAfterMs > 0)) throw new RangeError(`staleAfter must be > 0 ms, got ${cfg.staleAfterMs}`);
    const max = cfg.maxEntries ?? 1024;
    if (!(Number.isInteger(max) && max >= 1)) throw new RangeError(`maxEntries must be a positive integer, got ${max}`);
    this.#staleAfter = cfg.staleAfterMs;
    this.#allow = cfg.allow;
    this.#max = max;
  }

  /**
   * One datagram received on 239.255.2.2:9753 (§3.2.5), data[offset .. offset + length) from addr:port
   * (int32 IPv4, UDP port). The bytes are lent: what the table keeps is decoded text.
   */
  datagram(data: Uint8Array, offset: number, length: number, addr: number, port: number, now: Millis, sink: ListenerSink): void {
    // Junk is refused by the check, which builds nothing: a flood costs no Error per datagram. What passes
    // decodes (a throw here would be a bug, which the driver contains and counts).
    const check = checkRasAdv(data, offset, length);
    if (check < 0) {
      sink.drop(reasonOf(check));
      return;
    }
    const adv = decodeRasAdv(data.subarray(offset, offset + length));
    this.#accepted += 1;
    const key = `${addr}/${adv.hostname}`;
    const prev = this.#entries.get(key);
    const heard = { port, domain: adv.domain, extra: adv.extra, deviations: adv.deviations, lastSeen: now, stale: false };
    let event: AdvertisementEvent;
    let entry: Entry;
    if (prev) {
      event = prev.stale ? 'back' : prev.domain !== adv.domain || !sameExtra(prev.extra, adv.extra) ? 'changed' : 'again';
      entry = Object.assign(prev, heard, { count: prev.count + 1 });
      // A changed Domain line can change the verdict ("host.domain" entries), so judge every time.
      entry.known = this.#judge(entry.sender, entry.hostname, entry.domain);
      this.#entries.delete(key);
    } else {
      event = 'new';
      if (this.#entries.size >= this.#max) {
        const [oldKey, oldest] = this.#entries.entries().next().value!;
        this.#entries.delete(oldKey);
        this.#staleAt.delete(oldest);
        sink.evicted(oldest);
      }
      entry = { sender: addr, hostname: adv.hostname, firstSeen: now, count: 1, known: this.#judge(addr, adv.hostname, adv.domain), ...heard };
    }
    this.#entries.set(key, entry);
    this.#staleAt.set(entry, now + this.#staleAfter);
    sink.advertisement(event, entry);
  }

  #judge(sender: number, hostname: string, domain: string | undefined): boolean {
    return this.#allow !== undefined && isAllowed(this.#allow, sender, hostname, domain);
  }

  /**
   * Replaces the allow list (the agent's SIGHUP reload) and judges every known server again. Returns the
   * servers whose verdict changed, so the agent can say which ones just became unknown (or allowed).
   */
  setAllowList(allow: AllowList | undefined): ServerEntry[] {
    this.#allow = allow;
    const changed: ServerEntry[] = [];
    for (const e of this.#entries.values()) {
      const known = this.#judge(e.sender, e.hostname, e.domain);
      if (known !== e.known) {
        e.known = known;
        changed.push({ ...e });
      }
    }
    return changed;
  }

  /** Marks stale every server not heard for the stale time (none before a deadline). */
  handleTimeout(now: Millis, sink: ListenerSink): void {
    for (let e = this.#staleAt.popExpired(now); e !== undefined; e = this.#staleAt.popExpired(now)) {
      e.stale = true;
      sink.stale(e);
    }
  }

  /** The earliest moment a fresh entry goes stale. */
  nextTimeout(): Millis | undefined {
    return this.#staleAt.nextTimeout();
  }

  /** Snapshot, least recently heard first. */
  servers(): ServerEntry[] {
    return [...this.#entries.values()].map((e) => ({ ...e }));
  }

  stats(): ListenerStats {
    let stale = 0;
    let unknown = 0;
    for (const e of this.#entries.values()) {
      if (e.stale) stale += 1;
      if (!e.known) unknown += 1;
    }
    return { accepted: this.#accepted, servers: this.#entries.size, stale, unknown };
  }
}
