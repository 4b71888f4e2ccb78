// Driver: batch(step, arg) reads the clock once and re-arms the one timer once per batch, whatever the
// number of inputs in it; handleTimeout runs at the engine's deadline; drops are counted by reason index
// (names only when status asks); exceptions from a step, the timer or nextTimeout are contained.

import { describe, expect, it } from 'vitest';
import type { DropSink, Millis, TimedEngine } from '../../src/engine/types.js';
import { Driver } from '../../src/runtime/driver.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { capturedLogger } from '../fakes/log-capture.js';

interface TestSink extends DropSink {
  send(payload: string): void;
}

/** One scripted input: may set the next deadline, send, drop by reason index, or throw. */
interface In {
  payload: string;
  deadline?: Millis | undefined;
  drop?: number;
  throws?: boolean;
}

const REASONS = ['server-case-3-source-not-global', 'ra-hop-limit-not-255', 'never-used'] as const;

/** A scripted engine; `calls` records what it saw, with the `now` it was given. */
class ScriptedEngine implements TimedEngine<TestSink> {
  readonly dropReasons = REASONS;
  deadline: Millis | undefined;
  nextTimeoutThrows = false;
  readonly calls: string[] = [];

  input(x: In, now: Millis, sink: TestSink): void {
    this.calls.push(`input ${x.payload} @${now}`);
    if (x.throws) throw new Error('engine bug');
    if ('deadline' in x) this.deadline = x.deadline;
    if (x.drop !== undefined) sink.drop(x.drop);
    else sink.send(x.payload);
  }

  handleTimeout(now: Millis, sink: TestSink): void {
    this.calls.push(`timeout @${now}`);
    if (this.deadline === undefined || now < this.deadline) return; // spurious: nothing due
    this.deadline = undefined;
    sink.send(`timer@${now}`);
  }

  nextTimeout(): Millis | undefined {
    if (this.nextTimeoutThrows) throw new Error('nextTimeout bug');
    return this.deadline;
  }
}

/** A clock whose reads and armed timers are counted. */
class CountingClock extends FakeClock {
  reads = 0;
  armed = 0;
  override now(): Millis {
    this.reads++;
    return super.now();
  }
  override setTimer(callback: () => void, delayMs: Millis) {
    this.armed++;
    return super.setTimer(callback, delayMs);
  }
}

function setup(logLevel: 'silent' | 'debug' = 'silent') {
  const clock = new CountingClock(1000);
  const engine = new ScriptedEngine();
  const sent: string[] = [];
  const { lines, logger } = capturedLogger('test', logLevel);
  const driver = new Driver<TestSink>({ engine, sink: (drop) => ({ drop, send: (p) => void sent.push(p) }), logger, clock, timers: clock });
  // The step agents pass: a pre-built function over the batch (here an array of inputs).
  const step = (batch: readonly In[], now: Millis, sink: TestSink): void => {
    for (const x of batch) engine.input(x, now, sink);
  };
  const feed = (...batch: In[]): void => driver.batch(step, batch);
  return { clock, engine, sent, driver, lines, feed };
}

describe('Driver', () => {
  it('arms nothing for an idle engine and one timer at its deadline', () => {
    const { clock, driver, feed } = setup();
    driver.start();
    expect(clock.pendingTimers).toBe(0);
    feed({ payload: 'a', deadline: 1500 });
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(1500);
    expect(driver.stats().nextTimeout).toBe(1500);
  });

  it('reads the clock once per batch: every input of a batch sees the same now', () => {
    const { clock, engine, driver, feed } = setup();
    driver.start();
    const before = clock.reads;
    feed(...Array.from({ length: 64 }, (_, i) => ({ payload: `p${i}` })));
    expect(clock.reads - before).toBe(1);
    expect(new Set(engine.calls.map((c) => c.split('@')[1]))).toEqual(new Set(['1000']));
    expect(driver.stats().batches).toBe(1);
  });

  it('re-arms once per batch, however often the batch moved the deadline', () => {
    const { clock, driver, feed } = setup();
    driver.start();
    feed({ payload: 'a', deadline: 5000 }, { payload: 'b', deadline: 2000 }, { payload: 'c', deadline: 9000 }, { payload: 'd', deadline: 3000 });
    expect(clock.armed).toBe(1);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(3000); // the engine's answer after the batch is the truth
    feed({ payload: 'e', deadline: 2500 });
    expect(clock.armed).toBe(2);
    expect(clock.pendingTimers).toBe(1);
    feed({ payload: 'f', deadline: undefined });
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps the armed timer while the deadline is unchanged (no clear/set per batch)', () => {
    const { clock, driver, feed } = setup();
    driver.start();
    feed({ payload: 'a', deadline: 3000 });
    for (let i = 0; i < 100; i++) feed({ payload: `p${i}` }); // deadline untouched
    expect(clock.armed).toBe(1);
    expect(clock.pendingTimers).toBe(1);
  });

  it('calls handleTimeout at the deadline with now = deadline, through the same sink', () => {
    const { clock, engine, sent, driver, feed } = setup();
    driver.start();
    feed({ payload: 'a', deadline: 1250 });
    clock.advance(249);
    expect(engine.calls).toEqual(['input a @1000']);
    clock.advance(1);
    expect(engine.calls).toEqual(['input a @1000', 'timeout @1250']);
    expect(sent).toEqual(['a', 'timer@1250']);
    expect(clock.pendingTimers).toBe(0);
    expect(driver.stats()).toEqual({ batches: 2, timeouts: 1, drops: {}, errors: 0, nextTimeout: null });
  });

  it('start() arms the deadline an engine was built with', () => {
    const { clock, engine, driver } = setup();
    engine.deadline = 1000; // due at once, like the advertiser's start advertisement
    driver.start();
    expect(clock.nextTimerAt()).toBe(1000);
    clock.advance(0);
    expect(engine.calls).toEqual(['timeout @1000']);
  });

  it('rounds fractional deadlines up and survives a timer that fires early', () => {
    const { clock, engine, driver, feed } = setup();
    driver.start();
    feed({ payload: 'a', deadline: 1000.4 });
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
    const { clock, engine, driver, feed } = setup();
    driver.start();
    feed({ payload: 'a', deadline: 10 });
    expect(clock.nextTimerAt()).toBe(1000);
    clock.advance(0);
    expect(engine.calls.at(-1)).toBe('timeout @1000');
  });

  it('counts drops by reason index, names them only for status, and logs them at debug rate-limited', () => {
    const { clock, sent, driver, lines, feed } = setup('debug');
    feed(...Array.from({ length: 5 }, (_, i) => ({ payload: `x${i}`, drop: 0 })), { payload: 'y', drop: 1 }, { payload: 'ok' });
    expect(sent).toEqual(['ok']);
    expect([...driver.dropCounts]).toEqual([5, 1, 0]);
    expect(driver.drops()).toEqual({ 'server-case-3-source-not-global': 5, 'ra-hop-limit-not-255': 1 });
    expect(driver.stats().drops).toEqual(driver.drops());
    const dropLines = () => lines.filter((l) => l.msg === 'drop');
    expect(dropLines().map((l) => l.reason)).toEqual(['server-case-3-source-not-global', 'ra-hop-limit-not-255']);
    clock.advance(10_000);
    feed({ payload: 'z', drop: 0 });
    expect(dropLines()).toHaveLength(3);
    expect(dropLines()[2]).toMatchObject({ level: 'debug', reason: 'server-case-3-source-not-global', suppressed: 4, total: 6 });
  });

  it('logs no drop above debug level, but still counts it', () => {
    const clock = new FakeClock();
    const engine = new ScriptedEngine();
    const { lines, logger } = capturedLogger('test', 'info');
    const driver = new Driver<TestSink>({ engine, sink: (drop) => ({ drop, send: () => {} }), logger, clock, timers: clock });
    driver.batch((_: undefined, now, sink) => engine.input({ payload: 'x', drop: 1 }, now, sink), undefined);
    expect(driver.dropCounts[1]).toBe(1);
    expect(lines.filter((l) => l.msg === 'drop')).toEqual([]);
  });

  it('contains an exception thrown by a step: counted, logged, the timer still consistent, the next batch runs', () => {
    const { clock, sent, driver, lines, feed } = setup('debug');
    driver.start();
    feed({ payload: 'a', deadline: 1500 });
    feed({ payload: 'boom', throws: true });
    expect(driver.stats().errors).toBe(1);
    expect(lines.filter((l) => l.msg === 'step threw').map((l) => l.level)).toEqual(['error']);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(1500);
    feed({ payload: 'b' });
    expect(sent).toEqual(['a', 'b']);
  });

  it('contains an exception from nextTimeout: counted, and no timer is left armed at a stale deadline', () => {
    const { clock, engine, driver, feed } = setup();
    driver.start();
    feed({ payload: 'a', deadline: 1500 });
    engine.nextTimeoutThrows = true;
    feed({ payload: 'b' });
    expect(driver.stats().errors).toBe(1);
    expect(clock.pendingTimers).toBe(0);
    engine.nextTimeoutThrows = false;
    feed({ payload: 'c' });
    expect(clock.nextTimerAt()).toBe(1500);
  });

  it('handles a re-entrant batch from the sink (a loopback port) with one timer', () => {
    const clock = new FakeClock();
    const engine = new ScriptedEngine();
    const step = (batch: readonly In[], now: Millis, sink: TestSink): void => {
      for (const x of batch) engine.input(x, now, sink);
    };
    const driver: Driver<TestSink> = new Driver<TestSink>({
      engine,
      // A port that delivers synchronously: sending "ping" makes a "pong" batch arrive at once.
      sink: (drop) => ({ drop, send: (p) => void (p === 'ping' && driver.batch(step, [{ payload: 'pong', deadline: 50 }])) }),
      logger: capturedLogger('test', 'silent').logger,
      clock,
      timers: clock,
    });
    driver.start();
    driver.batch(step, [{ payload: 'ping', deadline: 10 }]);
    expect(engine.calls).toEqual(['input ping @0', 'input pong @0']);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(50);
  });

  it('stop() clears the timer; batches after it still run (final packets) but arm nothing', () => {
    const { clock, engine, sent, driver, feed } = setup();
    driver.start();
    feed({ payload: 'a', deadline: 2000 });
    driver.stop();
    expect(clock.pendingTimers).toBe(0);
    feed({ payload: 'final', deadline: 3000 });
    expect(sent).toEqual(['a', 'final']);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(5000);
    expect(engine.calls).toEqual(['input a @1000', 'input final @1000']);
    expect(driver.stats().timeouts).toBe(0);
  });

  it('builds the sink once and hands the same one to every step and timeout', () => {
    const { clock, engine, driver } = setup();
    const seen = new Set<TestSink>();
    driver.start();
    for (let i = 0; i < 3; i++) driver.batch((_: undefined, _now, sink) => void seen.add(sink), undefined);
    engine.deadline = 1000;
    const original = engine.handleTimeout.bind(engine);
    engine.handleTimeout = (now, sink) => {
      seen.add(sink);
      original(now, sink);
    };
    driver.batch(() => {}, undefined);
    clock.advance(0);
    expect([...seen]).toEqual([driver.sink]);
  });
});
