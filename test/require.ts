// What a test may do when something it needs is missing (a command, a file a Debian package installs, the npm
// registry, root). A run as root on Linux is the run that must be complete: CI (.ci/run) and the README's test
// command run that way, after scripts/setup-host.sh installed everything. There a missing prerequisite FAILS,
// with a message naming it and how to get it. Only any other run (a developer without root) may skip, and it
// says so on stderr, so a skip is never silent and never hides a broken machine.

import type { TestContext } from 'vitest';

/** Whether this run must have every prerequisite: root on Linux. */
export const MUST_BE_COMPLETE = process.platform === 'linux' && process.getuid?.() === 0;

function missingError(what: string): Error {
  return new Error(`missing prerequisite: ${what} (a run as root must have it: run scripts/setup-host.sh, see scripts/host-commands.tsv)`);
}

/**
 * For `describe.skipIf` / `it.skipIf`: false when `present`. When `what` is missing, throws (so the test file
 * fails) on a run as root on Linux; elsewhere warns and returns true (skip).
 * @param what the prerequisite as a person would look for it, e.g. "/usr/bin/systemd-analyze (Debian systemd)"
 */
export function skipWithout(what: string, present: boolean): boolean {
  if (present) return false;
  if (MUST_BE_COMPLETE) throw missingError(what);
  console.warn(`skipped (not root, so allowed): missing ${what}`);
  return true;
}

/** Inside a running test: fails it (run as root on Linux) or skips it (otherwise) for the missing `what`. */
export function skipOrFail(ctx: TestContext, what: string): void {
  if (MUST_BE_COMPLETE) throw missingError(what);
  console.warn(`${ctx.task.name}: skipped (not root, so allowed): missing ${what}`);
  ctx.skip();
}
