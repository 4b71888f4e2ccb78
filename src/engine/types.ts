// The sans-I/O contract shared by every engine (quinn-proto / smoltcp style): engines take `now` and inputs,
// write what they decide into a sink, and expose their earliest deadline. They never read a clock, open a
// socket or log.

/** Monotonic milliseconds from the runtime's Clock; never wall time. */
export type Millis = number;

export type { Endpoint4 } from '../wire/endpoint.js';

/** Randomness is injected so tests can seed it (smoltcp Config::random_seed). */
export interface Random {
  /** n random bytes. */
  bytes(n: number): Uint8Array;
  /** A uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
}

/**
 * The data-path contract: an engine writes what it decides into a sink the driver provides, and counts a drop
 * by the index of its reason in the engine's reason list (kebab-case, tied to the RFC clause). Nothing is
 * allocated per packet: no output objects, no strings. Each engine extends this with its own send methods,
 * e.g. `sendUdp(socket, data, offset, length, addr, port)`; the bytes handed to a sink are lent for the call
 * (the sink copies what it keeps, as the batched UDP port does into its staging area).
 */
export interface DropSink {
  /** One packet dropped for `reason`, an index into the engine's `dropReasons`. */
  drop(reason: number): void;
}

/**
 * What the driver needs of every sink-style engine: its drop reason names (index = reason code, kebab-case,
 * tied to the RFC clause), its timers, and the earliest deadline. Inputs are engine-specific methods
 * (e.g. `datagram(socket, data, offset, length, addr, port, now, sink)`) called inside `Driver.batch`.
 */
export interface TimedEngine<S extends DropSink> {
  readonly dropReasons: readonly string[];
  /** Called when the driver's timer fires (also spuriously: an engine does nothing before a deadline). */
  handleTimeout(now: Millis, sink: S): void;
  /** Earliest deadline (TimerTable.nextTimeout()), undefined when idle. Must be cheap: read once per batch. */
  nextTimeout(): Millis | undefined;
}

/**
 * Maps each reason of an engine's drop-reason list to its index, the code passed to DropSink.drop:
 * `const DROP = reasonIndex(REASONS); sink.drop(DROP['server-case-1-not-teredo-ipv6'])`.
 */
export function reasonIndex<const R extends readonly string[]>(reasons: R): { readonly [K in R[number]]: number } {
  const out: Record<string, number> = {};
  reasons.forEach((r, i) => (out[r] = i));
  return Object.freeze(out) as { readonly [K in R[number]]: number };
}

/** A tiny deterministic PRNG (mulberry32) for tests and reproducible simulations. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    bytes(n) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
    int(maxExclusive) {
      return Math.floor(next() * maxExclusive);
    },
  };
}
