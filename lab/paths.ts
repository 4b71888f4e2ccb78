// Where the project's files are, whether this code runs from lab/ (vitest) or from dist/lab/ (the CLI).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The directory holding the project's package.json. */
export function repoRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'teredo-agents') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('teredo-lab: cannot find the teredo-agents package root');
    dir = up;
  }
}

/** A compiled file under dist/, e.g. distFile('agents/teredo-client/main.js'). */
export function distFile(rel: string): string {
  return join(repoRoot(), 'dist', rel);
}

/** Undefined when the compiled file exists; otherwise a sentence saying how to get it. */
export function missingDist(rel: string): string | undefined {
  return existsSync(distFile(rel)) ? undefined : `${join('dist', rel)} is not built (run npm run build)`;
}

/**
 * The command that runs a compiled agent as its `bin` entry does: this Node, the V8 flags of the file's
 * shebang (`#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1`: the bounds of docs/performance.md "Memory"),
 * then the file. Occupants start agents with it, so the lab measures what a user runs.
 */
export function agentArgv(rel: string): string[] {
  const file = distFile(rel);
  return [process.execPath, ...shebangFlags(file), file];
}

/** The `--flag=value` words of a file's `#!/usr/bin/env -S node --flag=value ...` line; [] for any other first line. */
export function shebangFlags(file: string): string[] {
  const shebang = /^#!\/usr\/bin\/env -S node((?: --[\w-]+=\S+)*)\n/.exec(readFileSync(file, 'utf8').slice(0, 200));
  return shebang?.[1]?.trim().split(' ').filter(Boolean) ?? [];
}
