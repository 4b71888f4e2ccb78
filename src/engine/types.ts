// The sans-I/O contract shared by every engine (quinn-proto / smoltcp style): engines take `now` and
// inputs, return outputs, and expose their earliest deadline. They never read a clock, open a socket or log.

/** Monotonic milliseconds from the runtime's Clock; never wall time. */
export type Millis = number;

/** An IPv4 UDP endpoint; `addr` is the IPv4 address as an unsigned 32-bit integer (see src/wire/ipv4.ts). */
export interface Endpoint4 {
  readonly addr: number;
  readonly port: number;
}

/** Randomness is injected so tests can seed it (smoltcp Config::random_seed). */
export interface Random {
  /** n random bytes. */
  bytes(n: number): Uint8Array;
  /** A uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
}

/** A packet the engine refused, with a stable kebab-case reason tied to the RFC clause it enforces. */
export interface DropOutput {
  readonly kind: 'drop';
  readonly reason: string;
}

/**
 * An engine: `handle` an input at `now`, `handleTimeout` when the driver's timer fires (spurious calls are
 * harmless), `nextTimeout` = earliest named deadline, undefined when idle.
 */
export interface Engine<In, Out> {
  handle(input: In, now: Millis): Out[];
  handleTimeout(now: Millis): Out[];
  nextTimeout(): Millis | undefined;
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
