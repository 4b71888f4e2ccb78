// Clocks: the system clock is monotonic; FakeClock fires timers in deadline order with now() = deadline,
// including timers armed by callbacks, and never goes backwards. Also the crypto-backed Random.

import { describe, expect, it } from 'vitest';
import { MAX_TIMER_DELAY_MS, systemClock, systemTimers } from '../../src/runtime/clock.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';

describe('systemClock / systemTimers', () => {
  it('is monotonic and timers fire no earlier than asked', async () => {
    const t0 = systemClock.now();
    const fired = await new Promise<number>((resolve) => systemTimers.setTimer(() => resolve(systemClock.now()), 20));
    expect(fired - t0).toBeGreaterThanOrEqual(19); // libuv's millisecond granularity
    expect(systemClock.now()).toBeGreaterThanOrEqual(fired);
  });

  it('clears a timer, and caps huge delays instead of letting Node fire them at once', async () => {
    let fired = false;
    const h = systemTimers.setTimer(() => (fired = true), 1);
    systemTimers.clearTimer(h);
    const far = systemTimers.setTimer(() => (fired = true), 30 * 24 * 3600 * 1000); // 30 days > 2^31-1 ms
    await new Promise((resolve) => setTimeout(resolve, 20));
    systemTimers.clearTimer(far);
    expect(fired).toBe(false);
    expect(MAX_TIMER_DELAY_MS).toBe(2147483647);
  });
});

describe('FakeClock', () => {
  it('fires due timers in deadline order, each seeing its own deadline as now', () => {
    const clock = new FakeClock(100);
    const seen: string[] = [];
    clock.setTimer(() => seen.push(`b@${clock.now()}`), 50);
    clock.setTimer(() => seen.push(`a@${clock.now()}`), 10);
    clock.setTimer(() => seen.push(`c@${clock.now()}`), 50); // same deadline as b: arming order
    clock.setTimer(() => seen.push('late'), 500);
    clock.advance(60);
    expect(seen).toEqual(['a@110', 'b@150', 'c@150']);
    expect(clock.now()).toBe(160);
    expect(clock.pendingTimers).toBe(1);
  });

  it('fires timers armed by callbacks when they fall inside the window', () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    const rearm = () => {
      seen.push(clock.now());
      if (seen.length < 10) clock.setTimer(rearm, 30);
    };
    clock.setTimer(rearm, 30);
    clock.advance(100);
    expect(seen).toEqual([30, 60, 90]);
    expect(clock.nextTimerAt()).toBe(120);
  });

  it('clears timers, runs the next one on demand, and refuses to go backwards', () => {
    const clock = new FakeClock();
    let fired = 0;
    const h = clock.setTimer(() => fired++, 5);
    clock.clearTimer(h);
    expect(clock.runNext()).toBe(false);
    clock.setTimer(() => fired++, 1000);
    expect(clock.runNext()).toBe(true);
    expect(fired).toBe(1);
    expect(clock.now()).toBe(1000);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.advanceTo(999)).toThrow(RangeError);
  });
});

describe('cryptoRandom', () => {
  it('returns plain Uint8Arrays of the requested length', () => {
    const b = cryptoRandom.bytes(8);
    expect(b).toHaveLength(8);
    expect(Object.getPrototypeOf(b)).toBe(Uint8Array.prototype);
    expect(cryptoRandom.bytes(0)).toHaveLength(0);
  });

  it('draws integers in range, covering all values', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = cryptoRandom.int(16);
      expect(Number.isInteger(v) && v >= 0 && v < 16).toBe(true);
      seen.add(v);
    }
    expect(seen.size).toBe(16);
    expect(cryptoRandom.int(1)).toBe(0);
    expect(() => cryptoRandom.int(0)).toThrow(RangeError);
    expect(() => cryptoRandom.int(2.5)).toThrow(RangeError);
  });
});
