// The production Random: bytes from the kernel CSPRNG (node:crypto). Teredo's unpredictable address bits
// (RFC 4380 §5.2.1: 12 random flag bits), nonces (§5.1.1 authentication) and RA jitter (RFC 4861 §6.2.4)
// all come from here; tests use seededRandom from src/engine/types.ts instead.

import { randomBytes, randomInt } from 'node:crypto';
import type { Random } from '../engine/types.js';

export const cryptoRandom: Random = {
  bytes(n) {
    const b = randomBytes(n);
    // A plain Uint8Array view, so engines never depend on Buffer behaviour.
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  },
  int(maxExclusive) {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1) {
      throw new RangeError(`Random.int bound must be a positive integer, got ${maxExclusive}`);
    }
    // crypto.randomInt is unbiased (rejection sampling), limited to ranges below 2^48.
    return randomInt(maxExclusive);
  },
};
