// Named deadlines with an O(1) earliest deadline: the one timer structure every engine keeps (rasadv schedules,
// the client's probe / refresh / backoff timers, the relay's per-peer expiry and bubble pacing). The driver
// arms one OS timer at nextTimeout(); an engine's handleTimeout pops what is due. So the cost of a packet does
// not grow with the number of peers: set/delete are O(log n), nextTimeout O(1) (an indexed binary min-heap,
// like the timer heaps of libuv and smoltcp's socket set polling, with a key -> slot map for updates).
//
// Bound: one entry per key; the owner bounds the keys (the relay's peer table bound bounds this table).

import type { Millis } from './types.js';

export class TimerTable<K> {
  readonly #keys: K[] = [];
  readonly #deadlines: number[] = [];
  readonly #slot = new Map<K, number>();

  /** Number of armed deadlines. */
  get size(): number {
    return this.#keys.length;
  }

  /** Arms (or moves) `key`'s deadline to `deadline` (the clock's ms). O(log n). */
  set(key: K, deadline: Millis): void {
    const at = this.#slot.get(key);
    if (at === undefined) {
      const i = this.#keys.length;
      this.#keys.push(key);
      this.#deadlines.push(deadline);
      this.#slot.set(key, i);
      this.#up(i);
      return;
    }
    const old = this.#deadlines[at]!;
    this.#deadlines[at] = deadline;
    if (deadline < old) this.#up(at);
    else if (deadline > old) this.#down(at);
  }

  /** Disarms `key`; false if it was not armed. O(log n). */
  delete(key: K): boolean {
    const at = this.#slot.get(key);
    if (at === undefined) return false;
    this.#removeAt(at);
    return true;
  }

  /** `key`'s deadline, or undefined when not armed. */
  deadline(key: K): Millis | undefined {
    const at = this.#slot.get(key);
    return at === undefined ? undefined : this.#deadlines[at];
  }

  has(key: K): boolean {
    return this.#slot.has(key);
  }

  /** The earliest deadline, undefined when nothing is armed. O(1). */
  nextTimeout(): Millis | undefined {
    return this.#deadlines[0];
  }

  /**
   * Removes and returns the key with the earliest deadline when that deadline is <= now; undefined otherwise.
   * handleTimeout loops on it: `for (let k; (k = t.popExpired(now)) !== undefined;) ...`. Ties come out in
   * no particular order.
   */
  popExpired(now: Millis): K | undefined {
    if (this.#keys.length === 0 || this.#deadlines[0]! > now) return undefined;
    const key = this.#keys[0]!;
    this.#removeAt(0);
    return key;
  }

  /** Disarms everything. */
  clear(): void {
    this.#keys.length = 0;
    this.#deadlines.length = 0;
    this.#slot.clear();
  }

  #removeAt(i: number): void {
    const last = this.#keys.length - 1;
    this.#slot.delete(this.#keys[i]!);
    if (i !== last) {
      this.#keys[i] = this.#keys[last]!;
      this.#deadlines[i] = this.#deadlines[last]!;
      this.#slot.set(this.#keys[i]!, i);
    }
    this.#keys.pop();
    this.#deadlines.pop();
    if (i < last) {
      this.#down(i);
      this.#up(i);
    }
  }

  #up(i: number): void {
    const d = this.#deadlines;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (d[parent]! <= d[i]!) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const d = this.#deadlines;
    const n = d.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const c = r < n && d[r]! < d[l]! ? r : l;
      if (d[i]! <= d[c]!) return;
      this.#swap(i, c);
      i = c;
    }
  }

  #swap(i: number, j: number): void {
    const k = this.#keys;
    const d = this.#deadlines;
    const ki = k[i]!;
    const di = d[i]!;
    k[i] = k[j]!;
    d[i] = d[j]!;
    k[j] = ki;
    d[j] = di;
    this.#slot.set(k[i]!, i);
    this.#slot.set(k[j]!, j);
  }
}
