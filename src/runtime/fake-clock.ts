// FakeClock: virtual time for tests (quinn's Pair::drive, undici's fake timers). It is both the Clock and
// the Timers of a Driver, so a test advances time and sees exactly the timer callbacks that would have run,
// in deadline order, each seeing `now()` equal to its own deadline. Shipped from src/ (like undici's
// MockAgent) so engine, agent and runtime tests share one implementation.

import type { Millis } from '../engine/types.js';
import type { Clock, TimerHandle, Timers } from './clock.js';

interface PendingTimer {
  readonly id: number;
  readonly at: Millis;
  readonly callback: () => void;
}

export class FakeClock implements Clock, Timers {
  #now: Millis;
  #nextId = 1;
  #timers: PendingTimer[] = [];

  constructor(start: Millis = 0) {
    this.#now = start;
  }

  now(): Millis {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: Millis): TimerHandle {
    const timer = { id: this.#nextId++, at: this.#now + Math.max(0, delayMs), callback };
    this.#timers.push(timer);
    return timer.id;
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  /** Number of timers currently armed (a Driver keeps at most one). */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Deadline of the earliest armed timer, or undefined when none is armed. */
  nextTimerAt(): Millis | undefined {
    let best: Millis | undefined;
    for (const t of this.#timers) if (best === undefined || t.at < best) best = t.at;
    return best;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, earliest first (ties in
   * arming order). Timers armed by a callback fire too if they fall within the window.
   */
  advance(ms: Millis): void {
    if (ms < 0) throw new RangeError(`FakeClock cannot go backwards (advance ${ms})`);
    this.advanceTo(this.#now + ms);
  }

  /** Moves time to the absolute instant `t` (not earlier than now), firing due timers in order. */
  advanceTo(t: Millis): void {
    if (t < this.#now) throw new RangeError(`FakeClock cannot go backwards (${this.#now} -> ${t})`);
    for (;;) {
      const due = this.#earliestDue(t);
      if (due === undefined) break;
      this.#timers = this.#timers.filter((x) => x !== due);
      this.#now = Math.max(this.#now, due.at);
      due.callback();
    }
    this.#now = t;
  }

  /**
   * Jumps to the next armed timer and fires it (and any others due at the same instant). Returns false
   * when nothing is armed: the system under test is idle.
   */
  runNext(): boolean {
    const at = this.nextTimerAt();
    if (at === undefined) return false;
    this.advanceTo(Math.max(at, this.#now));
    return true;
  }

  #earliestDue(limit: Millis): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.#timers) {
      if (t.at > limit) continue;
      if (best === undefined || t.at < best.at || (t.at === best.at && t.id < best.id)) best = t;
    }
    return best;
  }
}
