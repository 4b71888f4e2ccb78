// vitest global setup of the `unit` project: builds dist/ once (tsc -p tsconfig.json, then the bins' bundles of
// scripts/bundle.ts, as `npm run build` does) before any test, for
// the tests that spawn the real binaries (test/agents/*-cli.test.ts). One build per run instead of one per
// test file: two tsc runs writing dist/ at once could hand a spawned binary a half-written module, and each
// costs a core for ~15 s. Skipped under `npm test`, whose build step ran just before (and fails the run on
// any type error; here tsc's diagnostics are left to that step, since tsc emits regardless).

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  if (process.env.npm_lifecycle_event === 'test') return;
  const root = fileURLToPath(new URL('..', import.meta.url));
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
  if (tsc.error) throw tsc.error;
  if (tsc.status !== 0) console.error(`unit: tsc reported problems (dist/ was still emitted):\n${tsc.stdout}`);
  // Then the bins' bundles, as `npm run build` makes them (scripts/bundle.ts), so the tests spawn what ships.
  const bundle = spawnSync(process.execPath, ['dist/scripts/bundle.js'], { cwd: root, encoding: 'utf8' });
  if (bundle.error) throw bundle.error;
  if (bundle.status !== 0) throw new Error(`unit: bundling the bins failed:\n${bundle.stderr}`);
}
