// test/require.ts decides every skip: a run as root on Linux (CI, the README's command) fails on a missing
// prerequisite, any other run skips saying so. This keeps it the only way a test can skip.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MUST_BE_COMPLETE, skipWithout } from './require.js';

const TEST = fileURLToPath(new URL('.', import.meta.url));

/** A skip that bypasses require.ts: skipIf/runIf on anything but skipWithout(...), .skip, .todo, ctx.skip(). */
const OWN_SKIP = /\.(?:skipIf|runIf)\((?!skipWithout\()|\b(?:it|test|describe)\.(?:skip|todo)\b|\bctx\.skip\(/;

function* testFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir)) {
    const path = join(dir, e);
    if (statSync(path).isDirectory()) yield* testFiles(path);
    else if (path.endsWith('.ts') && e !== 'require.ts' && e !== 'require.test.ts') yield path;
  }
}

describe('skips', () => {
  it('every test file skips only through test/require.ts', () => {
    const own: string[] = [];
    for (const file of testFiles(TEST)) {
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        if (OWN_SKIP.test(line)) own.push(`${relative(TEST, file)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(own).toEqual([]);
  });

  it('the pattern sees the ways around it', () => {
    for (const line of ['describe.skipIf(!haveCc())(', "it.skipIf(!existsSync(DEBIAN))('x'", 'if (offline) ctx.skip();', "it.skip('x'", 'describe.runIf(isRoot)(']) {
      expect(OWN_SKIP.test(line), line).toBe(true);
    }
    expect(OWN_SKIP.test("describe.skipIf(skipWithout('cc (Debian gcc)', haveCc()))(")).toBe(false);
  });

  it('a present prerequisite never skips; a missing one fails a run as root and skips any other', () => {
    expect(skipWithout('sh', true)).toBe(false);
    if (MUST_BE_COMPLETE) expect(() => skipWithout('frobnicator (Debian frob)', false)).toThrow('missing prerequisite: frobnicator (Debian frob)');
    else expect(skipWithout('frobnicator (Debian frob)', false)).toBe(true);
  });
});
