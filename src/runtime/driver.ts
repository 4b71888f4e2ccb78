// The driver: the one event loop every agent shares (radvd's poll loop with the timeout set to the
// earliest deadline, written once), batched. Flow:
//
//   port/TUN batch (≤ 64 packets) ──batch(step)──► clock read ONCE ─► step(arg, now, sink) ─► engine per packet
//   the one timer fires ──────────────────────────► engine.handleTimeout(now, sink)           │ sink.sendUdp …
//   agent control call (stop, SIGUSR1, reload) ──batch(step)──► step(arg, now, sink)           │ sink.drop(i) ─► counts[i]++
//                                                  then re-arm ONE timer at engine.nextTimeout(), once per batch
//
// The engine never sees a clock or a timer; the driver owns both. Engines write into the sink (no output
// arrays, no objects per packet) and count drops by reason index (no string per drop). An exception thrown by
// a step is logged and counted, never allowed to kill the process: an agent must not die on a packet.

import type { DropSink, Millis, TimedEngine } from '../engine/types.js';
import type { Clock, TimerHandle, Timers } from './clock.js';
import { systemClock, systemTimers } from './clock.js';
import type { Logger } from './logger.js';
import { LogRateLimiter } from './logger.js';

/** How often (at most) one drop reason or one internal error is logged. */
export const DROP_LOG_INTERVAL_MS = 10_000;

export interface DriverOptions<S extends DropSink> {
  engine: TimedEngine<S>;
  /**
   * Builds the agent's sink around the driver's drop counter: `(drop) => ({ drop, sendUdp(...) {...} })`.
   * Called once, in the constructor.
   */
  sink: (drop: (reason: number) => void) => S;
  logger: Logger;
  clock?: Clock;
  /** Defaults to real timers; a FakeClock in tests. */
  timers?: Timers;
}

export interface DriverStats {
  /** batch() calls (one per received batch or control call). */
  batches: number;
  timeouts: number;
  /** Drops per reason name, only the reasons seen, e.g. { 'server-case-3-source-not-global': 12 }. */
  drops: Record<string, number>;
  /** Exceptions thrown by a step or the timer (bugs; each is logged at error level, rate-limited). */
  errors: number;
  /** The armed deadline, in the clock's milliseconds, or null when the engine is idle. */
  nextTimeout: Millis | null;
}

export class Driver<S extends DropSink> {
  /** The sink every step receives; also what the agent uses for its own sends outside the engine. */
  readonly sink: S;
  /** Drops per reason index (engine.dropReasons); read by status. */
  readonly dropCounts: Float64Array;
  readonly #engine: TimedEngine<S>;
  readonly #reasons: readonly string[];
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #dropLog = new LogRateLimiter(DROP_LOG_INTERVAL_MS);
  readonly #debug: boolean;
  #now: Millis = 0;
  #timer: TimerHandle | undefined;
  #armedAt: Millis | undefined;
  #batches = 0;
  #timeouts = 0;
  #errors = 0;
  #stopped = true;

  constructor(options: DriverOptions<S>) {
    this.#engine = options.engine;
    this.#reasons = options.engine.dropReasons;
    this.dropCounts = new Float64Array(this.#reasons.length);
    this.#logger = options.logger;
    this.#debug = options.logger.isLevelEnabled('debug');
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
    this.sink = options.sink(this.#drop);
  }

  /** Arms the timer at the engine's first deadline. Batches before start() are processed but arm nothing. */
  start(): void {
    this.#stopped = false;
    this.#now = this.#clock.now();
    this.#rearm();
  }

  /**
   * Runs `step(arg, now, sink)` once for a batch of inputs (or one control call: a graceful stop sending
   * final packets, a SIGUSR1 "act now", a reload): the clock is read once, an exception is contained and
   * counted, and the timer is re-armed once. Pass a pre-bound step and its argument (e.g. the port's batch),
   * so that nothing is allocated per batch. Works after stop() too, so final packets still go out.
   */
  batch<A>(step: (arg: A, now: Millis, sink: S) => void, arg: A): void {
    this.#batches++;
    const now = (this.#now = this.#clock.now());
    try {
      step(arg, now, this.sink);
    } catch (err) {
      this.#internalError('step threw', err);
    }
    this.#rearm();
  }

  /** Clears the timer; batches still run (final packets) but arm nothing. Idempotent. */
  stop(): void {
    this.#stopped = true;
    this.#disarm();
  }

  /** Drops per reason name (only reasons seen). Builds an object: for status, not the data path. */
  drops(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.dropCounts.length; i++) if (this.dropCounts[i]! > 0) out[this.#reasons[i]!] = this.dropCounts[i]!;
    return out;
  }

  stats(): DriverStats {
    return { batches: this.#batches, timeouts: this.#timeouts, drops: this.drops(), errors: this.#errors, nextTimeout: this.#armedAt ?? null };
  }

  // An arrow so the sink can call it unbound. Logging only at debug level, rate-limited per reason; the
  // reason string comes from the engine's list, so nothing is built per drop.
  readonly #drop = (reason: number): void => {
    this.dropCounts[reason]!++;
    if (!this.#debug) return;
    const name = this.#reasons[reason] ?? `reason-${reason}`;
    const suppressed = this.#dropLog.allow(name, this.#now);
    if (suppressed !== undefined) this.#logger.debug({ reason: name, suppressed, total: this.dropCounts[reason] }, 'drop');
  };

  #onTimer = (): void => {
    this.#timer = undefined;
    this.#armedAt = undefined;
    if (this.#stopped) return;
    this.#timeouts++;
    // Called even if the timer woke early (capped delay, clock granularity): engines treat a
    // handleTimeout before any deadline as a no-op, and the re-arm picks the deadline up again.
    this.batch(this.#timeoutStep, undefined);
  };

  readonly #timeoutStep = (_: undefined, now: Millis, sink: S): void => this.#engine.handleTimeout(now, sink);

  #internalError(what: string, err: unknown): void {
    this.#errors++;
    const suppressed = this.#dropLog.allow(`error:${what}`, this.#now);
    if (suppressed !== undefined) this.#logger.error({ err, suppressed }, what);
  }

  /**
   * Exactly one timer, armed at the engine's deadline, none when idle. An unchanged deadline keeps the armed
   * timer: on the data path most batches leave the deadline alone.
   */
  #rearm(): void {
    if (this.#stopped) return this.#disarm();
    let deadline: Millis | undefined;
    try {
      deadline = this.#engine.nextTimeout();
    } catch (err) {
      this.#disarm();
      this.#internalError('nextTimeout threw', err);
      return;
    }
    if (deadline !== undefined && deadline === this.#armedAt && this.#timer !== undefined) return;
    this.#disarm();
    if (deadline === undefined) return;
    // Round up: a timer that fires a fraction of a millisecond early would only cause a spurious wake-up.
    const delay = Math.max(0, Math.ceil(deadline - this.#now));
    this.#armedAt = deadline;
    this.#timer = this.#timers.setTimer(this.#onTimer, delay);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#timers.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#armedAt = undefined;
  }
}
