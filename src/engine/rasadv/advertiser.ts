// RASADV advertiser schedule, sans-I/O: [MS-RASA] §3.1.3 (send a server advertisement immediately at start)
// and §3.1.6 (send one each time the Advertisement Timer expires, then restart it; §3.1.2 period 1 hour).
//
// One schedule per egress interface, so each interface keeps its own jitter and a failure on one does not
// move the others. Beyond the spec:
//   - jitter: each period is drawn uniformly from [interval - jitter, interval + jitter], so a fleet started
//     together (a power cut, a config push) does not advertise in lockstep for ever;
//   - "send now" (the agent maps SIGUSR1 to it): sends at once and restarts that interface's timer, exactly as
//     a timer expiry would (§3.1.6), so the next periodic send is one full period later.
// Interfaces are opaque labels chosen by the driver (a name or an address); the engine never resolves them.

import type { Engine, Millis, Random } from '../types.js';
import { encodeRasAdv, type RasAdv } from '../../wire/rasadv.js';

export interface AdvertiserConfig {
  /** What to advertise; encoded (and validated: WireError on a bad name) once, in the constructor. */
  readonly message: RasAdv;
  /** At least one label; duplicates are refused. */
  readonly interfaces: readonly string[];
  /** The Advertisement Timer period (§3.1.2: SHOULD be 3_600_000). */
  readonly intervalMs: Millis;
  /** 0 (default) for a fixed period; otherwise < intervalMs. */
  readonly jitterMs?: Millis;
  readonly random: Random;
}

export type SendCause = 'start' | 'timer' | 'request';

export type AdvertiserInput = { readonly kind: 'send-now'; readonly iface?: string };

export interface AdvertiserSend {
  readonly kind: 'send';
  readonly iface: string;
  /** The same buffer every time: the driver must not modify it. */
  readonly payload: Uint8Array;
  readonly cause: SendCause;
  /** 1 for the first advertisement on this interface. */
  readonly seq: number;
}

export interface AdvertiserIfaceStatus {
  readonly iface: string;
  readonly sent: number;
  readonly lastSentAt: Millis | undefined;
  readonly nextAt: Millis;
}

interface Schedule {
  sent: number;
  lastSentAt: Millis | undefined;
  nextAt: Millis;
}

export class RasAdvAdvertiser implements Engine<AdvertiserInput, AdvertiserSend> {
  readonly payload: Uint8Array;
  readonly #interval: Millis;
  readonly #jitter: Millis;
  readonly #random: Random;
  readonly #schedules = new Map<string, Schedule>();

  /** Every interface is due at `now`: the driver's first handleTimeout(now) sends the start advertisements. */
  constructor(cfg: AdvertiserConfig, now: Millis) {
    const jitter = cfg.jitterMs ?? 0;
    if (!(Number.isFinite(cfg.intervalMs) && cfg.intervalMs > 0)) throw new RangeError(`interval must be > 0 ms, got ${cfg.intervalMs}`);
    if (!(Number.isInteger(jitter) && jitter >= 0 && jitter < cfg.intervalMs)) {
      throw new RangeError(`jitter must be a whole number of ms in [0, interval), got ${jitter}`);
    }
    if (cfg.interfaces.length === 0) throw new RangeError('at least one interface is needed');
    this.payload = encodeRasAdv(cfg.message);
    this.#interval = cfg.intervalMs;
    this.#jitter = jitter;
    this.#random = cfg.random;
    for (const iface of cfg.interfaces) {
      if (this.#schedules.has(iface)) throw new RangeError(`interface ${iface} is listed twice`);
      this.#schedules.set(iface, { sent: 0, lastSentAt: undefined, nextAt: now });
    }
  }

  /** `send-now` for one interface, or for all when `iface` is omitted. An unknown label sends nothing. */
  handle(input: AdvertiserInput, now: Millis): AdvertiserSend[] {
    const out: AdvertiserSend[] = [];
    for (const [iface, s] of this.#schedules) {
      if (input.iface === undefined || input.iface === iface) out.push(this.#send(iface, s, s.sent === 0 ? 'start' : 'request', now));
    }
    return out;
  }

  handleTimeout(now: Millis): AdvertiserSend[] {
    const out: AdvertiserSend[] = [];
    for (const [iface, s] of this.#schedules) {
      if (s.nextAt <= now) out.push(this.#send(iface, s, s.sent === 0 ? 'start' : 'timer', now));
    }
    return out;
  }

  nextTimeout(): Millis | undefined {
    let next: Millis | undefined;
    for (const s of this.#schedules.values()) if (next === undefined || s.nextAt < next) next = s.nextAt;
    return next;
  }

  status(): AdvertiserIfaceStatus[] {
    return [...this.#schedules].map(([iface, s]) => ({ iface, sent: s.sent, lastSentAt: s.lastSentAt, nextAt: s.nextAt }));
  }

  // The next period counts from `now`, not from the missed deadline: after a suspend or a stalled event loop
  // the agent sends once, not a burst of catch-up advertisements.
  #send(iface: string, s: Schedule, cause: SendCause, now: Millis): AdvertiserSend {
    s.sent += 1;
    s.lastSentAt = now;
    s.nextAt = now + this.#period();
    return { kind: 'send', iface, payload: this.payload, cause, seq: s.sent };
  }

  #period(): Millis {
    if (this.#jitter === 0) return this.#interval;
    return this.#interval - this.#jitter + this.#random.int(2 * this.#jitter + 1);
  }
}
