// RASADV advertiser schedule, sans-I/O: [MS-RASA] §3.1.3 (send a server advertisement immediately at start)
// and §3.1.6 (send one each time the Advertisement Timer expires, then restart it; §3.1.2 period 1 hour).
//
// One Advertisement Timer per egress interface (a TimerTable keyed by the interface's index), so each
// interface keeps its own jitter and a failure on one does not move the others. Beyond the spec:
//   - jitter: each period is drawn uniformly from [interval - jitter, interval + jitter], so a fleet started
//     together (a power cut, a config push) does not advertise in lockstep for ever;
//   - "send now" (the agent maps SIGUSR1 to it): sends at once and restarts that interface's timer, exactly as
//     a timer expiry would (§3.1.6), so the next periodic send is one full period later.
// Interfaces are opaque labels chosen by the driver (a name or an address); the engine never resolves them,
// and names them to its sink by index (the order of `interfaces` in the config).

import type { DropSink, Millis, Random, TimedEngine } from '../types.js';
import { TimerTable } from '../timer-table.js';
import { encodeRasAdv, type RasAdv } from '../../wire/rasadv.js';

export interface AdvertiserConfig {
  /** What to advertise; encoded (and validated: WireError on a bad name) once, in the constructor. */
  readonly message: RasAdv;
  /** At least one label; duplicates are refused. The sink names an interface by its index here. */
  readonly interfaces: readonly string[];
  /** The Advertisement Timer period (§3.1.2: SHOULD be 3_600_000). */
  readonly intervalMs: Millis;
  /** 0 (default) for a fixed period; otherwise < intervalMs. */
  readonly jitterMs?: Millis;
  readonly random: Random;
}

/** Why an advertisement left: §3.1.3 start, §3.1.6 timer expiry, or an operator's request (SIGUSR1). */
export type SendCause = 'start' | 'timer' | 'request';

/** Where the advertiser's decisions go (the driver's sink). */
export interface AdvertiserSink extends DropSink {
  /**
   * Send the advertisement data[offset .. offset + length) on interface `iface` (index into the config's
   * `interfaces`), to 239.255.2.2:9753 (§2.1). The bytes are the engine's own: lent for the call, never to be
   * modified. `seq` is 1 for the first advertisement on this interface.
   */
  advertise(iface: number, data: Uint8Array, offset: number, length: number, cause: SendCause, seq: number): void;
}

export interface AdvertiserIfaceStatus {
  readonly iface: string;
  readonly sent: number;
  readonly lastSentAt: Millis | undefined;
  readonly nextAt: Millis;
}

/** The advertiser never refuses anything: it has no input from the network. */
const DROP_REASONS: readonly string[] = [];

export class RasAdvAdvertiser implements TimedEngine<AdvertiserSink> {
  readonly dropReasons = DROP_REASONS;
  /** The encoded §2.2.1 message, the same bytes every time. */
  readonly payload: Uint8Array;
  readonly #labels: readonly string[];
  readonly #interval: Millis;
  readonly #jitter: Millis;
  readonly #random: Random;
  readonly #sent: number[];
  readonly #lastSentAt: (Millis | undefined)[];
  /** One Advertisement Timer per interface index. Bound: the number of interfaces. */
  readonly #timers = new TimerTable<number>();

  /** Every interface is due at `now`: the driver's first handleTimeout(now) sends the start advertisements. */
  constructor(cfg: AdvertiserConfig, now: Millis) {
    const jitter = cfg.jitterMs ?? 0;
    if (!(Number.isFinite(cfg.intervalMs) && cfg.intervalMs > 0)) throw new RangeError(`interval must be > 0 ms, got ${cfg.intervalMs}`);
    if (!(Number.isInteger(jitter) && jitter >= 0 && jitter < cfg.intervalMs)) {
      throw new RangeError(`jitter must be a whole number of ms in [0, interval), got ${jitter}`);
    }
    if (cfg.interfaces.length === 0) throw new RangeError('at least one interface is needed');
    const seen = new Set<string>();
    for (const iface of cfg.interfaces) {
      if (seen.has(iface)) throw new RangeError(`interface ${iface} is listed twice`);
      seen.add(iface);
    }
    this.payload = encodeRasAdv(cfg.message);
    this.#labels = [...cfg.interfaces];
    this.#interval = cfg.intervalMs;
    this.#jitter = jitter;
    this.#random = cfg.random;
    this.#sent = this.#labels.map(() => 0);
    this.#lastSentAt = this.#labels.map(() => undefined);
    for (let i = 0; i < this.#labels.length; i++) this.#timers.set(i, now);
  }

  /** The interface labels, in index order. */
  get interfaces(): readonly string[] {
    return this.#labels;
  }

  /**
   * "Send now" on the interface labelled `iface`, or on all when undefined, each restarting its timer. An
   * unknown label sends nothing. Before an interface's start advertisement this is that start advertisement.
   */
  sendNow(iface: string | undefined, now: Millis, sink: AdvertiserSink): void {
    for (let i = 0; i < this.#labels.length; i++) {
      if (iface === undefined || iface === this.#labels[i]) this.#send(i, this.#sent[i] === 0 ? 'start' : 'request', now, sink);
    }
  }

  /** Sends on every interface whose timer expired (none before a deadline: spurious calls are harmless). */
  handleTimeout(now: Millis, sink: AdvertiserSink): void {
    for (let i = this.#timers.popExpired(now); i !== undefined; i = this.#timers.popExpired(now)) {
      this.#send(i, this.#sent[i] === 0 ? 'start' : 'timer', now, sink);
    }
  }

  nextTimeout(): Millis | undefined {
    return this.#timers.nextTimeout();
  }

  /** For `status`: one entry per interface, in index order. */
  status(): AdvertiserIfaceStatus[] {
    return this.#labels.map((iface, i) => ({ iface, sent: this.#sent[i]!, lastSentAt: this.#lastSentAt[i], nextAt: this.#timers.deadline(i)! }));
  }

  // The next period counts from `now`, not from the missed deadline: after a suspend or a stalled event loop
  // the agent sends once, not a burst of catch-up advertisements. The period is >= 1 ms (jitter < interval),
  // so handleTimeout's loop cannot pop the same interface twice.
  #send(i: number, cause: SendCause, now: Millis, sink: AdvertiserSink): void {
    const seq = ++this.#sent[i]!;
    this.#lastSentAt[i] = now;
    this.#timers.set(i, now + this.#period());
    sink.advertise(i, this.payload, 0, this.payload.length, cause, seq);
  }

  #period(): Millis {
    if (this.#jitter === 0) return this.#interval;
    return this.#interval - this.#jitter + this.#random.int(2 * this.#jitter + 1);
  }
}
