// The lint rule that keeps src/wire and src/engine sans-I/O (eslint.config.js) really fires: the same code
// is refused under src/engine and src/wire and accepted under src/runtime, where I/O belongs.

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });

const IO_CODE = [
  "import { readFileSync } from 'node:fs';",
  "import { createSocket } from 'dgram';",
  "import { systemClock } from '../runtime/clock.js';",
  'export const f = () => [readFileSync, createSocket, systemClock, Date.now(), new Date(), Math.random(), performance.now(),',
  '  setTimeout(() => {}, 1), setInterval(() => {}, 1), process.pid, Buffer.alloc(1)];',
  '',
].join('\n');

/** Each problem as "<rule>: <the code it points at>". */
async function ruleHits(filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(IO_CODE, { filePath });
  const lines = IO_CODE.split('\n');
  return result!.messages.map((m) => `${m.ruleId}: ${lines[m.line - 1]!.slice(m.column - 1, m.endLine === m.line ? m.endColumn! - 1 : undefined)}`);
}

describe('sans-I/O lint rule', () => {
  it.each(['src/engine/probe.ts', 'src/engine/teredo/probe.ts', 'src/wire/probe.ts'])('refuses node I/O, clocks, timers, randomness, process and Buffer in %s', async (path) => {
    const hits = await ruleHits(path);
    expect(hits).toEqual([
      "no-restricted-imports: import { readFileSync } from 'node:fs';",
      "no-restricted-imports: import { createSocket } from 'dgram';",
      "no-restricted-imports: import { systemClock } from '../runtime/clock.js';",
      'no-restricted-properties: Date.now',
      'no-restricted-syntax: new Date()',
      'no-restricted-properties: Math.random',
      'no-restricted-globals: performance',
      'no-restricted-globals: setTimeout',
      'no-restricted-globals: setInterval',
      'no-restricted-globals: process',
      'no-restricted-globals: Buffer',
    ]);
  });

  it('allows the same code in src/runtime', async () => {
    expect(await ruleHits('src/runtime/probe.ts')).toEqual([]);
  });

  it('refuses an engine import in src/wire and src/io, and allows it in src/runtime', async () => {
    const code = "import type { Millis } from '../engine/types.js';\nexport type T = Millis;\n";
    const hits = async (filePath: string): Promise<string[]> => (await eslint.lintText(code, { filePath }))[0]!.messages.map((m) => m.ruleId ?? '');
    expect(await hits('src/wire/probe.ts')).toEqual(['no-restricted-imports']);
    expect(await hits('src/io/probe.ts')).toEqual(['no-restricted-imports']);
    expect(await hits('src/runtime/probe.ts')).toEqual([]);
  });
});
