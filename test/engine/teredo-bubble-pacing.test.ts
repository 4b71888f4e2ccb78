// RFC 4380 §5.2.6 bubble pacing as pure functions of a peer's numbers (src/engine/teredo/peers/bubble-pacing.ts):
// >= 2 s after the last transmission, at most 4 bubbles per 300 s window without a response. The RFC's numbers
// are written out here, not read from the code under test.
import { describe, expect, it } from 'vitest';
import { bubbleAllowed, bubbleOpensWindow, bubbleRetryAt, bubblesExhausted } from '../../src/engine/teredo/peers/bubble-pacing.js';

const T0 = 1_000_000;

describe('bubble pacing (RFC 4380 §5.2.6)', () => {
  it('no bubble less than 2 s after the last transmission, whatever the count', () => {
    expect(bubbleAllowed(T0 + 1_999, T0, 0, T0 - 300_000)).toBe(false);
    expect(bubbleAllowed(T0 + 2_000, T0, 0, T0 - 300_000)).toBe(true);
    expect(bubbleAllowed(T0 + 2_000, T0, 3, T0)).toBe(true);
    // A new peer's last transmission is dated 30 s back (§5.2.3), so it may be bubbled at once.
    expect(bubbleAllowed(T0, T0 - 30_000, 0, T0 - 300_000)).toBe(true);
  });

  it('no fifth bubble within the 300 s window that the first one opened', () => {
    expect(bubblesExhausted(T0 + 299_999, 4, T0)).toBe(true);
    expect(bubbleAllowed(T0 + 299_999, T0 + 6_000, 4, T0)).toBe(false);
    expect(bubblesExhausted(T0 + 300_000, 4, T0)).toBe(false);
    expect(bubbleAllowed(T0 + 300_000, T0 + 6_000, 4, T0)).toBe(true);
    expect(bubblesExhausted(T0 + 1, 3, T0)).toBe(false);
  });

  it('the first bubble after a response, or after the window, opens a new window', () => {
    expect(bubbleOpensWindow(T0, 0, T0 - 1)).toBe(true);
    expect(bubbleOpensWindow(T0 + 2_000, 1, T0)).toBe(false);
    expect(bubbleOpensWindow(T0 + 299_999, 4, T0)).toBe(false);
    expect(bubbleOpensWindow(T0 + 300_000, 4, T0)).toBe(true);
  });

  it('a peer with packets waiting is looked at again 2 s after the last transmission', () => {
    expect(bubbleRetryAt(T0)).toBe(T0 + 2_000);
  });

  it('run as an engine runs them, a steady demand gets 4 bubbles 2 s apart, then 4 more 300 s after the first', () => {
    let lastTx = T0 - 30_000;
    let count = 0;
    let windowStart = T0 - 300_000;
    const sent: number[] = [];
    for (let now = T0; now < T0 + 310_000; now += 500) {
      if (!bubbleAllowed(now, lastTx, count, windowStart)) continue;
      if (bubbleOpensWindow(now, count, windowStart)) [windowStart, count] = [now, 0];
      count++;
      lastTx = now;
      sent.push(now - T0);
    }
    expect(sent).toEqual([0, 2_000, 4_000, 6_000, 300_000, 302_000, 304_000, 306_000]);
  });
});
