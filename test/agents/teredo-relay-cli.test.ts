// The real teredo-relay binary (dist/, built once per run by test/build-dist.ts), spawned with node, checked on
// stdout, stderr and exit code: --check-config, --miredo-conf, and `status` with no relay running here.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const MAIN = resolve(ROOT, pkg.bin['teredo-relay']!);
const dir = mkdtempSync(join(tmpdir(), 'trl-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('teredo-relay binary', () => {
  it('starts with a node shebang so it can be installed as a bin (young generation bounded: docs/performance.md)', () => {
    expect(readFileSync(MAIN, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1');
  });

  it('--check-config accepts the defaults and refuses every bad field at once (exit 1)', () => {
    expect(run('--check-config')).toMatchObject({ status: 0, stdout: 'config ok\n' });
    const bad = run('--check-config', '--bind', '10.0.0.1', '--port', '3544');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('bind ("10.0.0.1") is not global unicast');
    expect(bad.stderr).toContain('port (3544) is the Teredo server port');
  });

  it('--miredo-conf reads a Miredo relay file; a client file is refused naming the line', () => {
    const relay = file('relay.conf', 'RelayType cone\nInterfaceName miredo\nBindAddress 192.0.2.20\nBindPort 3600\n');
    expect(run('--miredo-conf', relay, '--check-config')).toMatchObject({ status: 0, stdout: 'config ok\n' });
    const bad = file('client.conf', 'RelayType client\nServerAddress teredo.remlab.net\n');
    const r = run('--miredo-conf', bad, '--check-config');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${bad}:1: RelayType client is not a relay`);
    expect(run('--miredo-conf', join(dir, 'missing.conf')).status).toBe(1);
  });

  it('status exits 3 when no relay runs in this network namespace', () => {
    const r = run('status', '--timeout', '500');
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('no teredo-relay running');
  });
});
