// Token buckets on the millisecond clock: the admission limits of the Teredo peer tables (issue 17: peers that have not
// proven anything may cost the relay or client only so much work per second, whatever a flood offers). A set of
// `count` buckets in typed arrays (no object per bucket): one for a global limit, or one per hashed key, such as
// the relay's per-source-prefix limit on new pending peers. Credit is kept in thousandths of a token, so refills
// are exact integer arithmetic: perSecond thousandths per elapsed ms. Allocation-free; O(1) per take().

import type { Millis } from './types.js';

const TOKEN = 1000;

export class RateBuckets {
  readonly #perSecond: number;
  readonly #max: number;
  readonly #credit: Float64Array;
  readonly #creditAt: Float64Array; // NaN: never taken from

  /** `count` buckets of `perSecond` tokens per second (>= 0), at most `burst` (>= 1) saved up; all start full. */
  constructor(count: number, perSecond: number, burst: number) {
    if (!Number.isInteger(perSecond) || perSecond < 0 || !Number.isInteger(burst) || burst < 1 || !Number.isInteger(count) || count < 1) {
      throw new RangeError(`rate buckets: count >= 1, perSecond >= 0 and burst >= 1 must be integers, got ${count} / ${perSecond} / ${burst}`);
    }
    this.#perSecond = perSecond;
    this.#max = burst * TOKEN;
    this.#credit = new Float64Array(count).fill(this.#max);
    this.#creditAt = new Float64Array(count).fill(NaN);
  }

  /** Takes one token of bucket `i` at `now` (ms); false (nothing taken) when it has none left. */
  take(i: number, now: Millis): boolean {
    const at = this.#creditAt[i]!;
    const elapsed = at === at ? Math.max(0, now - at) : 0; // at !== at: NaN, never taken from
    const credit = Math.min(this.#max, this.#credit[i]! + elapsed * this.#perSecond);
    this.#creditAt[i] = now;
    if (credit < TOKEN) {
      this.#credit[i] = credit;
      return false;
    }
    this.#credit[i] = credit - TOKEN;
    return true;
  }
}
