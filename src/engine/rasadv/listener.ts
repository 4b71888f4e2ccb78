// RASADV listener table, sans-I/O. [MS-RASA] §3.2.5 only asks a listener to hand "the message text and the
// source IP address" to the application; this is that application, in the spirit of Windows'
// `netsh ras show activeservers`: a table of active servers keyed by (sender IPv4, host name), with first and
// last seen, domain, count, and two judgements the spec leaves to us:
//   - stale: not heard for `staleAfterMs` (the agent's default is 2 advertisement intervals, §3.1.2);
//   - known: on the --allow list (allow.ts). Without a list nothing is authorised, so every server is unknown.
// Datagrams that do not decode are dropped and counted by reason (the WireError code of decodeRasAdv).
// The table is bounded: when full, the least recently heard entry (stale ones first, by construction) is
// evicted and reported, so a new server is always reported.

import type { DropOutput, Endpoint4, Engine, Millis } from '../types.js';
import { decodeRasAdv, type RasAdvDeviation, type RasAdvField } from '../../wire/rasadv.js';
import { WireError, type WireErrorCode } from '../../wire/errors.js';
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

export type ListenerInput = { readonly kind: 'datagram'; readonly from: Endpoint4; readonly payload: Uint8Array };

/** new: first time; again: heard before; back: heard after being stale; changed: Domain or extra lines differ. */
export type AdvertisementEvent = 'new' | 'again' | 'back' | 'changed';

export type ListenerOutput =
  | { readonly kind: 'advertisement'; readonly event: AdvertisementEvent; readonly server: ServerEntry }
  | { readonly kind: 'stale'; readonly server: ServerEntry }
  | { readonly kind: 'evicted'; readonly server: ServerEntry }
  | (DropOutput & { readonly from: Endpoint4; readonly detail: string });

export type DropReason = 'empty-message' | 'malformed-text' | 'not-rasadv';

export interface ListenerStats {
  readonly received: number;
  readonly accepted: number;
  readonly dropped: Readonly<Record<DropReason, number>>;
  readonly servers: number;
  readonly stale: number;
  readonly unknown: number;
}

const reasonOf = (code: WireErrorCode): DropReason =>
  code === 'WIRE_TRUNCATED' ? 'empty-message' : code === 'WIRE_UNEXPECTED_TYPE' ? 'not-rasadv' : 'malformed-text';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const sameExtra = (a: readonly RasAdvField[], b: readonly RasAdvField[]): boolean =>
  a.length === b.length && a.every((f, i) => f.key === b[i]!.key && f.value === b[i]!.value);

export class RasAdvListenerTable implements Engine<ListenerInput, ListenerOutput> {
  readonly #staleAfter: Millis;
  #allow: AllowList | undefined;
  readonly #max: number;
  /** Map iteration order = least recently heard first (entries are re-inserted on each advertisement). */
  readonly #entries = new Map<string, Mutable<ServerEntry>>();
  #accepted = 0;
  readonly #dropped: Record<DropReason, number> = { 'empty-message': 0, 'malformed-text': 0, 'not-rasadv': 0 };

  constructor(cfg: ListenerConfig) {
    if (!(Number.isFinite(cfg.staleAfterMs) && cfg.staleAfterMs > 0)) throw new RangeError(`staleAfter must be > 0 ms, got ${cfg.staleAfterMs}`);
    const max = cfg.maxEntries ?? 1024;
    if (!(Number.isInteger(max) && max >= 1)) throw new RangeError(`maxEntries must be a positive integer, got ${max}`);
    this.#staleAfter = cfg.staleAfterMs;
    this.#allow = cfg.allow;
    this.#max = max;
  }

  handle(input: ListenerInput, now: Millis): ListenerOutput[] {
    let adv;
    try {
      adv = decodeRasAdv(input.payload);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      const reason = reasonOf(e.code);
      this.#dropped[reason] += 1;
      return [{ kind: 'drop', reason, from: input.from, detail: e.message }];
    }
    this.#accepted += 1;
    const out: ListenerOutput[] = [];
    const key = `${input.from.addr}/${adv.hostname}`;
    const prev = this.#entries.get(key);
    const heard = { port: input.from.port, domain: adv.domain, extra: adv.extra, deviations: adv.deviations, lastSeen: now, stale: false };
    let event: AdvertisementEvent;
    let entry: Mutable<ServerEntry>;
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
        out.push({ kind: 'evicted', server: { ...oldest } });
      }
      entry = { sender: input.from.addr, hostname: adv.hostname, firstSeen: now, count: 1, known: this.#judge(input.from.addr, adv.hostname, adv.domain), ...heard };
    }
    this.#entries.set(key, entry);
    out.push({ kind: 'advertisement', event, server: { ...entry } });
    return out;
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

  handleTimeout(now: Millis): ListenerOutput[] {
    const out: ListenerOutput[] = [];
    for (const e of this.#entries.values()) {
      if (!e.stale && now >= e.lastSeen + this.#staleAfter) {
        e.stale = true;
        out.push({ kind: 'stale', server: { ...e } });
      }
    }
    return out;
  }

  /** The earliest moment a fresh entry goes stale: the least recently heard fresh entry decides. */
  nextTimeout(): Millis | undefined {
    for (const e of this.#entries.values()) if (!e.stale) return e.lastSeen + this.#staleAfter;
    return undefined;
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
    // Every datagram is either accepted or dropped for one reason, so the received count is their sum.
    const received = Object.values(this.#dropped).reduce((sum, n) => sum + n, this.#accepted);
    return { received, accepted: this.#accepted, dropped: { ...this.#dropped }, servers: this.#entries.size, stale, unknown };
  }
}
