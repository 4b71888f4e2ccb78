// Bubble pacing (RFC 4380 §5.2.6), as pure functions over a peer's numbers: the date of the last transmission
// to it, the bubbles sent since it last answered, and when the current 300 s window of bubbles began. The peer
// table stores those numbers per slot and asks these functions; the client and the relay never see the rule.
//
// §5.2.6: a bubble MUST NOT be sent if the last transmission to the peer is less than 2 s old, nor if 4
// bubbles went out in the last 300 s without a direct response. Miredo's CountBubble (libteredo/relay.c) is
// the model: the count restarts when the peer answers (teredo_predecap) and when the 300 s are over. Two
// differences: the 300 s run from the window's first bubble, as the RFC's "in the last 300 s" reads, where
// Miredo counts them from the last transmission (the fourth bubble); and the 2 s spacing applies from any
// transmission, the first bubble included (Miredo sends a first bubble whatever went before).
//
//   count 0 ─bubble─► window opens (start = now), count 1 ─≥2 s─► 2 ─≥2 s─► 3 ─≥2 s─► 4: exhausted
//     ▲                                                                                │
//     └──── a reception (count 0), or 300 s after the window opened (the next bubble opens a new one) ◄──┘

import type { Millis } from '../../types.js';

/** RFC 4380 §5.2.6: no bubble if the last transmission to the peer is less than 2 s old. */
export const BUBBLE_MIN_INTERVAL_MS = 2_000;
/** RFC 4380 §5.2.6: no more than 4 bubbles ... */
export const BUBBLE_MAX_COUNT = 4;
/** ... in 300 s without a direct response. */
export const BUBBLE_WINDOW_MS = 300_000;

/**
 * True when 4 bubbles went out in the window that began at `windowStart` (ms) and that window is not over at
 * `now`: no bubble may go until it is, or until the peer answers.
 */
export function bubblesExhausted(now: Millis, count: number, windowStart: Millis): boolean {
  return count >= BUBBLE_MAX_COUNT && now - windowStart < BUBBLE_WINDOW_MS;
}

/** True when a bubble may go at `now`: the last transmission (`lastTx`, ms) is >= 2 s old and the count allows one. */
export function bubbleAllowed(now: Millis, lastTx: Millis, count: number, windowStart: Millis): boolean {
  return now - lastTx >= BUBBLE_MIN_INTERVAL_MS && !bubblesExhausted(now, count, windowStart);
}

/**
 * True when a bubble sent at `now` opens a new window (its start becomes `now` and the count restarts before
 * this bubble is counted): it is the first since the peer answered, or the window is over.
 */
export function bubbleOpensWindow(now: Millis, count: number, windowStart: Millis): boolean {
  return count === 0 || now - windowStart >= BUBBLE_WINDOW_MS;
}

/**
 * When an engine with packets waiting for the peer should try again (ms): 2 s after the last transmission, the
 * earliest a bubble may go. It may find the bubbles exhausted then, which is when an engine gives up.
 */
export function bubbleRetryAt(lastTx: Millis): Millis {
  return lastTx + BUBBLE_MIN_INTERVAL_MS;
}
