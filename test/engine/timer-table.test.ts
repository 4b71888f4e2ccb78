// TimerTable: the earliest deadline in O(1) after any sequence of set / move / delete / pop, checked against a
// plain model (a Map scanned for its minimum) on random operation sequences.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimerTable } from '../../src/engine/timer-table.js';

describe('TimerTable', () => {
  it('is empty at first and pops nothing', () => {
    const t = new TimerTable<string>();
    expect(t.nextTimeout()).toBeUndefined();
    expect(t.popExpired(1e12)).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it('pops due keys in deadline order and leaves the rest', () => {
    const t = new TimerTable<string>();
    t.set('refresh', 30_000);
    t.set('probe', 4_000);
    t.set('bubble', 2_000);
    t.set('probe', 1_000); // moved earlier
    expect(t.nextTimeout()).toBe(1_000);
    expect([t.popExpired(5_000), t.popExpired(5_000), t.popExpired(5_000)]).toEqual(['probe', 'bubble', undefined]);
    expect(t.nextTimeout()).toBe(30_000);
    expect(t.deadline('refresh')).toBe(30_000);
    expect(t.delete('refresh')).toBe(true);
    expect(t.delete('refresh')).toBe(false);
    expect(t.nextTimeout()).toBeUndefined();
  });

  it('agrees with a scanned model on random operations', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 30 }), at: fc.integer({ min: 0, max: 1000 }) }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ kind: fc.constant('pop' as const), now: fc.integer({ min: 0, max: 1000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const t = new TimerTable<number>();
        const model = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            t.set(o.key, o.at);
            model.set(o.key, o.at);
          } else if (o.kind === 'delete') {
            expect(t.delete(o.key)).toBe(model.delete(o.key));
          } else {
            const key = t.popExpired(o.now);
            const min = Math.min(...model.values());
            if (model.size === 0 || min > o.now) expect(key).toBeUndefined();
            else {
              expect(model.get(key!)).toBe(min);
              model.delete(key!);
            }
          }
          expect(t.size).toBe(model.size);
          expect(t.nextTimeout()).toBe(model.size === 0 ? undefined : Math.min(...model.values()));
        }
      }),
      { numRuns: 300 },
    );
  });
});
