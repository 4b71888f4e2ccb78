// scripts/bundle.ts: a bin's bundle is one self-contained file that keeps its shebang's V8 flags and runs.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleAgent } from '../../scripts/bundle.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'teredo-bundle-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('bundleAgent', () => {
  it('writes teredo-server as one file: static imports of builtins only, lazy imports of packages only', async () => {
    await bundleAgent(root, 'teredo-server', out);
    const text = readFileSync(join(out, 'teredo-server', 'main.js'), 'utf8');
    expect(text.split('\n')[0]).toBe('#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1');
    const statics = [...text.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    const lazy = [...text.matchAll(/\bimport\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(statics.length).toBeGreaterThan(0);
    expect(statics.filter((s) => !s!.startsWith('node:'))).toEqual([]);
    // src/runtime/cli.ts and metrics.ts: yargs only for --help and status, prom-client only with --metrics.
    expect(lazy).toContain('yargs');
    expect(lazy).toContain('prom-client');
    expect(lazy.filter((s) => s!.startsWith('.'))).toEqual([]);
    expect(text).not.toMatch(/require\("pino"\)/);
  });

  it('runs from a directory with nothing else in it: --check-config parses and validates', () => {
    const r = spawnSync(process.execPath, [join(out, 'teredo-server', 'main.js'), '--check-config', '--address', '192.0.2.1', '--secondary-address', '192.0.2.2'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('config ok');
    expect(r.status).toBe(0);
  });
});
