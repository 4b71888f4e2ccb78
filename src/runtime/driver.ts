// The driver: the one event loop every agent shares (radvd's poll loop with the timeout set to the
// earliest deadline, written once). Flow:
//
//   socket/TUN input ──feed()──► engine.handle(input, now) ──┐
//   the one timer fires ───────► engine.handleTimeout(now) ──┼─► drops counted + logged (rate-limited)
//   agent calls run(fn) ───────► fn(now), e.g. engine.stop ──┘   everything else ─► apply(outputs)
//                                                                 then re-arm ONE timer at nextTimeout()
//
// The engine never sees a clock or a timer; the driver owns both. An exception thrown by the engine or by
// `apply` is logged and counted, never allowed to kill the process: an agent must not die on a packet.

import type { DropOutput, Engine, Millis } from '../engine/types.js';
import type { Clock, TimerHandle, Timers } from './clock.js';
import { systemClock, systemTimers } from './clock.js';
import type { Logger } from './logger.js';
import { LogRateLimiter } from './logger.js';

/** How often (at most) one drop reason or one internal error is logged. */
export const DROP_LOG_INTERVAL_MS = 10_000;

export interface DriverOptions<In, Out extends { kind: string }> {
  engine: Engine<In, Out>;
  /** Performs the engine's non-drop outputs (send datagrams, write the TUN device, log state changes). */
  apply: (outputs: Exclude<Out, DropOutput>[]) => void;
  logger: Logger;
  clock?: Clock;
  /** Defaults to real timers; a FakeClock in tests. */
  timers?: Timers;
}

export interface DriverStats {
  inputs: number;
  timeouts: number;
  /** Drops per reason, e.g. { 'server-case-3-source-not-global': 12 }. */
  drops: Record<string, number>;
  /** Exceptions thrown by the engine or by apply (bugs; each is logged at error level, rate-limited). */
  errors: number;
  /** The armed deadline, in the clock's milliseconds, or null when the engine is idle. */
  nextTimeout: Millis | null;
}

export class Driver<In, Out extends { kind: string }> {
  readonly #engine: Engine<In, Out>;
  readonly #apply: (outputs: Exclude<Out, DropOutput>[]) => void;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #dropLog = new LogRateLimiter(DROP_LOG_INTERVAL_MS);
  readonly #drops = new Map<string, number>();
  #timer: TimerHandle | undefined;
  #armedAt: Millis | undefined;
  #inputs = 0;
  #timeouts = 0;
  #errors = 0;
  #stopped = false;

  constructor(options: DriverOptions<In, Out>) {
    this.#engine = options.engine;
    this.#apply = options.apply;
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
  }

  /** Arms the timer at the engine's first deadline. Inputs fed before start() are processed too. */
  start(): void {
    this.#stopped = false;
    this.#rearm();
  }

  /** One input (a datagram, a TUN packet, an RS): handled at the current time, outputs applied. */
  feed(input: In): void {
    if (this.#stopped) return;
    this.#inputs++;
    this.#step((now) => this.#engine.handle(input, now));
  }

  /**
   * Runs any other engine call that returns outputs (a graceful `stop(now)` sending final RAs, a SIGUSR1
   * "advertise now", a reconfigure after reload), applies its outputs and re-arms. Works after stop() too,
   * so final packets can still go out, but then arms no timer.
   */
  run(call: (now: Millis) => Out[]): void {
    this.#step(call);
  }

  /** Clears the timer and ignores further inputs. Idempotent. */
  stop(): void {
    this.#stopped = true;
    this.#disarm();
  }

  stats(): DriverStats {
    return {
      inputs: this.#inputs,
      timeouts: this.#timeouts,
      drops: Object.fromEntries(this.#drops),
      errors: this.#errors,
      nextTimeout: this.#armedAt ?? null,
    };
  }

  /** Drop counts per reason (live view). */
  get drops(): ReadonlyMap<string, number> {
    return this.#drops;
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    this.#armedAt = undefined;
    if (this.#stopped) return;
    this.#timeouts++;
    // Called even if the timer woke early (capped delay, clock granularity): engines treat a
    // handleTimeout before any deadline as a no-op, and the re-arm below picks the deadline up again.
    this.#step((now) => this.#engine.handleTimeout(now));
  };

  #step(call: (now: Millis) => Out[]): void {
    const now = this.#clock.now();
    let outputs: Out[] = [];
    try {
      outputs = call(now);
    } catch (err) {
      this.#internalError('engine threw', err, now);
    }
    const rest: Exclude<Out, DropOutput>[] = [];
    for (const out of outputs) {
      if (isDrop(out)) this.#countDrop(out, now);
      else rest.push(out as Exclude<Out, DropOutput>);
    }
    if (rest.length > 0) {
      try {
        this.#apply(rest);
      } catch (err) {
        this.#internalError('apply threw', err, now);
      }
    }
    this.#rearm();
  }

  #countDrop(out: DropOutput, now: Millis): void {
    this.#drops.set(out.reason, (this.#drops.get(out.reason) ?? 0) + 1);
    const suppressed = this.#dropLog.allow(`drop:${out.reason}`, now);
    if (suppressed !== undefined) this.#logger.debug({ ...out, suppressed, total: this.#drops.get(out.reason) }, 'drop');
  }

  #internalError(what: string, err: unknown, now: Millis): void {
    this.#errors++;
    const suppressed = this.#dropLog.allow(`error:${what}`, now);
    if (suppressed !== undefined) this.#logger.error({ err, suppressed }, what);
  }

  /**
   * Exactly one timer, armed at the engine's deadline, none when idle. An unchanged deadline keeps the
   * armed timer: on the data path most packets leave the deadline alone, and skipping clearTimeout +
   * setTimeout there halves the per-packet cost.
   */
  #rearm(): void {
    if (this.#stopped) return this.#disarm();
    let deadline: Millis | undefined;
    try {
      deadline = this.#engine.nextTimeout();
    } catch (err) {
      this.#disarm();
      this.#internalError('nextTimeout threw', err, this.#clock.now());
      return;
    }
    if (deadline !== undefined && deadline === this.#armedAt && this.#timer !== undefined) return;
    this.#disarm();
    if (deadline === undefined) return;
    // Round up: a timer that fires a fraction of a millisecond early would only cause a spurious wake-up.
    const delay = Math.max(0, Math.ceil(deadline - this.#clock.now()));
    this.#armedAt = deadline;
    this.#timer = this.#timers.setTimer(this.#onTimer, delay);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#timers.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#armedAt = undefined;
  }
}

function isDrop(out: { kind: string }): out is DropOutput {
  return out.kind === 'drop';
}
