// RASADV listener table, sans-I/O. [MS-RASA] §3.2.5 only asks a listener to hand "the message text and the
// source IP address" to the application; this is that application, in the spirit of Windows'
// `netsh ras show activeservers`: a table of active servers keyed by (sender IPv4, host name), with first and
// last seen, domain, count, and two judgements the spec leaves to us:
//   - stale: not heard for `staleAfterMs` (the agent's default is 2 advertisement intervals, §3.1.2);
//   - known: on the --allow list (allow.ts). Without a list nothing is authorised, so every server is unknown.
// Datagrams that are not advertisements are dropped through the sink by reason (checkRasAdv, which throws
// and allocates nothing; the reasons are decodeRasAdv's WireError codes).
// Each fresh entry's stale deadline lives in a TimerTable, so a datagram costs O(log n) however many servers
// are listed.
// Bounds, against a flood of spoofed senders with huge names: what one entry keeps is bounded by the protocol
// (checkRasAdv drops, by named reason, an advertisement whose host name exceeds 63 bytes, domain 253, text 512
// or lines 8: src/wire/rasadv.ts RASADV_MAX_*), and the table by entries (maxEntries) and by bytes (maxBytes,
// each entry charged entryBytes(): LISTENER_ENTRY_BYTES + 2 bytes per character of its text). When either is
// reached the least recently heard entry (stale ones first, by construction) is evicted and reported, so a new
// server is always reported.

import type { DropSink, Millis, TimedEngine } from '../types.js';
import { TimerTable } from '../timer-table.js';
import { checkRasAdv, decodeRasAdv, RASADV_MAX_TEXT_LENGTH, type RasAdvDeviation, type RasAdvField } from '../../wire/rasadv.js';
import { isAllowed, type AllowList } from './allow.js';

export interface ListenerConfig {
  readonly staleAfterMs: Millis;
  /** Absent: no server is authorised. */
  readonly allow?: AllowList;
  /** Default 1024. */
  readonly maxEntries?: number;
  /**
   * Bytes the entries may be charged in all (entryBytes); default maxEntries x LISTENER_ENTRY_MAX_BYTES, the
   * entry bound's worst case. At least LISTENER_ENTRY_MAX_BYTES, so that any advertisement fits.
   */
  readonly maxBytes?: number;
}

/**
 * What one entry costs beyond its text, in bytes of V8 heap (64-bit, no pointer compression: Node 20's
 * default): the entry object, its Map slot and key string (sender/hostname), its TimerTable slot, the extra and
 * deviations arrays with up to RASADV_MAX_LINES field objects, short strings copied out of the text. An upper
 * bound measured with bench/rasadv/listener-memory.mjs (see docs/rasadv.md "Bounds").
 */
export const LISTENER_ENTRY_BYTES = 1024;
/**
 * The text an entry keeps, 2 bytes per character: its strings are slices of the decoded text (which V8 keeps
 * whole) or copies of parts of it, two-byte when it holds non-ASCII.
 */
export const entryBytes = (textLength: number): number => LISTENER_ENTRY_BYTES + 2 * textLength;
/** The worst case of entryBytes: a text of RASADV_MAX_TEXT_LENGTH (512) bytes, 2,048 bytes. */
export const LISTENER_ENTRY_MAX_BYTES = entryBytes(RASADV_MAX_TEXT_LENGTH);

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
  /** What the entry is charged against the table's byte bound (entryBytes of its latest advertisement). */
  readonly bytes: number;
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
 * Why a datagram was not stored (index = the drop reason code; the negated RASADV_CHECK value minus one).
 * [MS-RASA] §2.2.1 defines the message as "Hostname=..." lines ending in a NUL; the decoder's WireError code
 * picks the first three reasons; the others are the bounds of what an entry keeps (src/wire/rasadv.ts):
 * text over 512 bytes, over 8 lines, a host name over 63 bytes, a domain over 253 bytes.
 */
export const LISTENER_DROP_REASONS = ['empty-message', 'malformed-text', 'not-rasadv', 'text-too-long', 'too-many-lines', 'hostname-too-long', 'domain-too-long'] as const;
export type DropReason = (typeof LISTENER_DROP_REASONS)[number];

/** What the table knows; the received and dropped counts are the driver's (it counts the drops). */
export interface ListenerStats {
  readonly accepted: number;
  readonly servers: number;
  readonly stale: number;
  readonly unknown: number;
}

/** RASADV_CHECK.EMPTY (-1) .. DOMAIN_TOO_LONG (-7) -> 0 .. 6, in LISTENER_DROP_REASONS' order. */
const reasonOf = (check: number): number => -check - 1;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Entry = Mutable<ServerEntry>;

const sameExtra = (a: readonly RasAdvField[], b: readonly RasAdvField[]): boolean =>
  a.length === b.length && a.every((f, i) => f.key === b[i]!.key && f.value === b[i]!.value);

export class RasAdvListenerTable implements TimedEngine<ListenerSink> {
  readonly dropReasons: readonly string[] = LISTENER_DROP_REASONS;
  readonly #staleAfter: Millis;
  #allow: AllowList | undefined;
  readonly #max: number;
  readonly #maxBytes: number;
  /** Sum of the entries' `bytes`. */
  #bytes = 0;
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
    const maxBytes = cfg.maxBytes ?? max * LISTENER_ENTRY_MAX_BYTES;
    if (!(Number.isInteger(maxBytes) && maxBytes >= LISTENER_ENTRY_MAX_BYTES)) throw new RangeError(`maxBytes must be an integer >= ${LISTENER_ENTRY_MAX_BYTES}, got ${maxBytes}`);
    this.#max = max;
    this.#maxBytes = maxBytes;
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
    const bytes = entryBytes(check);
    const heard = { port, domain: adv.domain, extra: adv.extra, deviations: adv.deviations, lastSeen: now, stale: false, bytes };
    let event: AdvertisementEvent;
    let entry: Entry;
    if (prev) {
      event = prev.stale ? 'back' : prev.domain !== adv.domain || !sameExtra(prev.extra, adv.extra) ? 'changed' : 'again';
      this.#entries.delete(key);
      this.#bytes -= prev.bytes;
      entry = Object.assign(prev, heard, { count: prev.count + 1 });
      // A changed Domain line can change the verdict ("host.domain" entries), so judge every time.
      entry.known = this.#judge(entry.sender, entry.hostname, entry.domain);
    } else {
      event = 'new';
      entry = { sender: addr, hostname: adv.hostname, firstSeen: now, count: 1, known: this.#judge(addr, adv.hostname, adv.domain), ...heard };
    }
    // Room for the entry: out of the map while it is (re)charged, so only others are evicted. Terminates:
    // bytes <= LISTENER_ENTRY_MAX_BYTES <= maxBytes, and maxEntries >= 1.
    while (this.#entries.size >= this.#max || this.#bytes + bytes > this.#maxBytes) this.#evictOldest(sink);
    this.#entries.set(key, entry);
    this.#bytes += bytes;
    this.#staleAt.set(entry, now + this.#staleAfter);
    sink.advertisement(event, entry);
  }

  #evictOldest(sink: ListenerSink): void {
    const [oldKey, oldest] = this.#entries.entries().next().value!;
    this.#entries.delete(oldKey);
    this.#bytes -= oldest.bytes;
    this.#staleAt.delete(oldest);
    sink.evicted(oldest);
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

  /** What the entries are charged in all (<= maxBytes). */
  bytes(): number {
    return this.#bytes;
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
