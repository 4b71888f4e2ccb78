// Shared helpers for the IPv6 / UDP / ICMPv6 / ND codec tests: asserting a WireError code, and the fuzz
// contract. (The Miredo capture they decode is test/fakes/miredo-captures.ts.)

import { expect } from 'vitest';
import { WireError, type WireErrorCode } from '../../src/wire/errors.js';

/** Runs `fn` and asserts it throws a WireError with `code`. */
export function expectWireError(fn: () => unknown, code: WireErrorCode): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected WireError ${code}`).toBeInstanceOf(WireError);
  expect((thrown as WireError).code).toBe(code);
}

/** Runs `fn`, and rethrows anything it throws that is not a WireError (the fuzz contract). */
export function onlyWireErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
  }
}
