// When the client may send a maintenance RS early (client-procedure.ts suspectMapping): its traffic went
// unanswered, so the NAT may have lost the mapping (a reboot), which only a maintenance RA reveals (RFC 4380
// §5.2.5). The first early RS may go at once; each that finds the mapping unchanged doubles the wait before the
// next, from EARLY_REFRESH_MIN_MS up to the refresh interval, so traffic that is never answered (one-way UDP, a
// peer that is down) costs a few RSs and then none beyond maintenance's own; a datagram from a peer (traffic
// answered again) starts the wait at EARLY_REFRESH_MIN_MS again.

import type { Millis } from '../../types.js';

/** The shortest wait between two early maintenance RSs, ms. */
export const EARLY_REFRESH_MIN_MS = 5000;

export class EarlyRefresh {
  #lastAt: Millis = -Infinity;
  #gapMs = EARLY_REFRESH_MIN_MS;
  /** The maintenance RS out now is an early one. */
  #out = false;

  /** True (and counted as sent) when an early RS may go at `now`. */
  take(now: Millis): boolean {
    if (now - this.#lastAt < this.#gapMs) return false;
    this.#lastAt = now;
    this.#out = true;
    return true;
  }

  /** A maintenance RA came; `unchanged`: it showed the mapping the address embeds already. */
  answered(unchanged: boolean, refreshIntervalMs: number): void {
    if (this.#out && unchanged) this.#gapMs = Math.min(2 * this.#gapMs, refreshIntervalMs);
    this.#out = false;
  }

  /** A datagram from a peer: the next suspicion gets its early RS after the shortest wait again. */
  reset(): void {
    this.#gapMs = EARLY_REFRESH_MIN_MS;
  }
}
