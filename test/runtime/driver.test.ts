// Driver: one timer armed at the engine's deadline, re-armed after every step, handleTimeout on expiry,
// drops counted per reason and kept away from apply, engine exceptions contained.

import { describe, expect, it } from 'vitest';
import type { DropOutput, Engine, Millis } from '../../src/engine/types.js';
import { Driver } from '../../src/runtime/driver.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { createLogger } from '../../src/runtime/logger.js';
import { capturedLogger } from '../fakes/log-capture.js';

type Out = { kind: 'send'; payload: string } | DropOutput;
type In = { payload: string; deadline?: Millis | undefined; drop?: string; throws?: boolean };

/** A scripted engine: each input may set the next deadline, emit a send or a drop, or throw. */
class ScriptedEngine implements Engine<In, Out> {
  deadline: Millis | undefined;
  readonly calls: string[] = [];

  handle(input: In, now: Millis): Out[] {
    this.calls.push(`handle ${input.payload} @${now}`);
    if (input.throws) throw new Error('engine bug');
    if ('deadline' in input) this.deadline = input.deadline;
    return input.drop ? [{ kind: 'drop', reason: input.drop }] : [{ kind: 'send', payload: input.payload }];
  }

  handleTimeout(now: Millis): Out[] {
    this.calls.push(`timeout @${now}`);
    if (this.deadline === undefined || now < this.deadline) return []; // spurious: nothing due
    this.deadline = undefined;
    return [{ kind: 'send', payload: `timer@${now}` }];
  }

  nextTimeout(): Millis | undefined {
    return this.deadline;
  }
}

function setup(logLevel: 'silent' | 'debug' = 'silent') {
  const clock = new FakeClock(1000);
  const engine = new ScriptedEngine();
  const applied: Out[][] = [];
  const { lines, logger } = capturedLogger('test', logLevel);
  const driver = new Driver<In, Out>({ engine, apply: (o) => applied.push(o), logger, clock, timers: clock });
  return { clock, engine, applied, driver, lines };
}

describe('Driver', () => {
  it('arms nothing for an idle engine and one timer at its deadline', () => {
    const { clock, driver } = setup();
    driver.start();
    expect(clock.pendingTimers).toBe(0);
    driver.feed({ payload: 'a', deadline: 1500 });
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(1500);
    expect(driver.stats().nextTimeout).toBe(1500);
  });

  it('re-arms after every input, never holding more than one timer', () => {
    const { clock, driver } = setup();
    driver.start();
    driver.feed({ payload: 'a', deadline: 5000 });
    driver.feed({ payload: 'b', deadline: 2000 }); // earlier deadline replaces the armed one
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(2000);
    driver.feed({ payload: 'c', deadline: 9000 }); // later deadline too: the engine's answer is the truth
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(9000);
    driver.feed({ payload: 'd', deadline: undefined });
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps the armed timer while the deadline is unchanged (no clear/set per packet)', () => {
    const { clock, driver } = setup();
    let armed = 0;
    const setTimer = clock.setTimer.bind(clock);
    clock.setTimer = (cb, delay) => {
      armed++;
      return setTimer(cb, delay);
    };
    driver.feed({ payload: 'a', deadline: 3000 });
    for (let i = 0; i < 100; i++) driver.feed({ payload: `p${i}` }); // deadline untouched
    expect(armed).toBe(1);
    driver.feed({ payload: 'b', deadline: 2500 });
    expect(armed).toBe(2);
    expect(clock.pendingTimers).toBe(1);
  });

  it('calls handleTimeout at the deadline with now = deadline and applies its outputs', () => {
    const { clock, engine, applied, driver } = setup();
    driver.start();
    driver.feed({ payload: 'a', deadline: 1250 });
    clock.advance(249);
    expect(engine.calls).toEqual(['handle a @1000']);
    clock.advance(1);
    expect(engine.calls).toEqual(['handle a @1000', 'timeout @1250']);
    expect(applied).toEqual([[{ kind: 'send', payload: 'a' }], [{ kind: 'send', payload: 'timer@1250' }]]);
    expect(clock.pendingTimers).toBe(0);
    expect(driver.stats()).toMatchObject({ inputs: 1, timeouts: 1, nextTimeout: null });
  });

  it('rounds fractional deadlines up and survives a timer that fires early', () => {
    const { clock, engine, driver } = setup();
    driver.start();
    driver.feed({ payload: 'a', deadline: 1000.4 });
    expect(clock.nextTimerAt()).toBe(1001); // ceil: never fires before the deadline
    // A spurious wake-up (e.g. a capped delay): the engine sees a no-op timeout, the deadline is re-armed.
    engine.deadline = 1100;
    clock.advance(1);
    expect(engine.calls.at(-1)).toBe('timeout @1001');
    expect(clock.nextTimerAt()).toBe(1100);
    clock.advance(99);
    expect(engine.calls.at(-1)).toBe('timeout @1100');
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires immediately for a deadline already in the past', () => {
    const { clock, engine, driver } = setup();
    driver.feed({ payload: 'a', deadline: 10 });
    expect(clock.nextTimerAt()).toBe(1000);
    clock.advance(0);
    expect(engine.calls.at(-1)).toBe('timeout @1000');
  });

  it('counts drops per reason, keeps them from apply, and logs them at debug rate-limited', () => {
    const { clock, applied, driver, lines } = setup('debug');
    for (let i = 0; i < 5; i++) driver.feed({ payload: `x${i}`, drop: 'server-case-3-source-not-global' });
    driver.feed({ payload: 'y', drop: 'ra-hop-limit-not-255' });
    driver.feed({ payload: 'ok' });
    expect(applied).toEqual([[{ kind: 'send', payload: 'ok' }]]);
    expect(Object.fromEntries(driver.drops)).toEqual({ 'server-case-3-source-not-global': 5, 'ra-hop-limit-not-255': 1 });
    expect(driver.stats().drops).toEqual({ 'server-case-3-source-not-global': 5, 'ra-hop-limit-not-255': 1 });
    const dropLines = () => lines.filter((l) => l.msg === 'drop');
    expect(dropLines().map((l) => l.reason)).toEqual(['server-case-3-source-not-global', 'ra-hop-limit-not-255']);
    clock.advance(10_000);
    driver.feed({ payload: 'z', drop: 'server-case-3-source-not-global' });
    expect(dropLines()).toHaveLength(3);
    expect(dropLines()[2]).toMatchObject({ level: 'debug', reason: 'server-case-3-source-not-global', suppressed: 4, total: 6 });
  });

  it('contains an engine exception: counted, logged, timer still consistent', () => {
    const { clock, driver, lines } = setup('debug');
    driver.feed({ payload: 'a', deadline: 1500 });
    driver.feed({ payload: 'boom', throws: true });
    expect(driver.stats().errors).toBe(1);
    expect(lines.some((l) => l.msg === 'engine threw' && l.level === 'error')).toBe(true);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(1500);
  });

  it('contains an apply exception', () => {
    const clock = new FakeClock();
    const engine = new ScriptedEngine();
    const driver = new Driver<In, Out>({
      engine,
      apply: () => {
        throw new Error('send failed');
      },
      logger: createLogger({ agent: 'test', level: 'silent' }),
      clock,
      timers: clock,
    });
    driver.feed({ payload: 'a' });
    expect(driver.stats().errors).toBe(1);
  });

  it('handles re-entrant feeds from apply with one timer', () => {
    const clock = new FakeClock();
    const engine = new ScriptedEngine();
    const driver: Driver<In, Out> = new Driver<In, Out>({
      engine,
      // A loopback port that delivers synchronously: apply feeds the driver again.
      apply: (outs) => {
        for (const o of outs) if (o.kind === 'send' && o.payload === 'ping') driver.feed({ payload: 'pong', deadline: 50 });
      },
      logger: createLogger({ agent: 'test', level: 'silent' }),
      clock,
      timers: clock,
    });
    driver.feed({ payload: 'ping', deadline: 10 });
    expect(engine.calls).toEqual(['handle ping @0', 'handle pong @0']);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(50);
  });

  it('run() applies the outputs of any engine call; stop() clears the timer and ignores inputs', () => {
    const { clock, engine, applied, driver } = setup();
    driver.start();
    driver.feed({ payload: 'a', deadline: 2000 });
    driver.stop();
    expect(clock.pendingTimers).toBe(0);
    driver.feed({ payload: 'late' });
    expect(engine.calls).toEqual(['handle a @1000']);
    // Final packets after stop (RAs with lifetime 0) still go out, and no timer comes back.
    driver.run((now) => [{ kind: 'send', payload: `final@${now}` }]);
    expect(applied.at(-1)).toEqual([{ kind: 'send', payload: 'final@1000' }]);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(5000);
    expect(engine.calls).toEqual(['handle a @1000']);
  });
});
