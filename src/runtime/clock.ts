// Time for the runtime: a monotonic Clock (never wall time, so NTP steps cannot fire or starve timers) and
// the Timers the driver arms. Engines never see either; they get `now` from the driver. Tests substitute
// FakeClock (fake-clock.ts), which implements both interfaces over virtual time.

import type { Millis } from '../engine/types.js';

export interface Clock {
  /** Monotonic milliseconds since an arbitrary origin (fractional). */
  now(): Millis;
}

/** An armed timer; only meaningful to the Timers that created it. */
export type TimerHandle = unknown;

export interface Timers {
  /** Calls `callback` once, no earlier than `delayMs` from now (0 = as soon as possible). */
  setTimer(callback: () => void, delayMs: Millis): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** performance.now(): monotonic, sub-millisecond, origin = process start. */
export const systemClock: Clock = {
  now: () => performance.now(),
};

/**
 * Node clamps setTimeout delays above 2^31-1 ms to 1 ms (with a warning), so a far deadline (an RA
 * lifetime of days) would spin. Longer delays are armed at this cap; the early wake-up is harmless
 * because callers re-check their deadline.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export const systemTimers: Timers = {
  setTimer(callback, delayMs) {
    return setTimeout(callback, Math.min(Math.max(0, delayMs), MAX_TIMER_DELAY_MS));
  },
  clearTimer(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
