// The real rasadv binary (dist/, built once per run by test/build-dist.ts; spawned with node): modes, --help,
// --check-config and exit codes.
// Nothing here opens a network socket (one test serves a control socket, an abstract Unix socket); the
// agents' network behaviour is tested in test/netns/rasadv-lab.test.ts.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { controlName, serveControl } from '../../src/runtime/control.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const MAIN = resolve(ROOT, pkg.bin.rasadv!);

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}


describe('rasadv binary', () => {
  it('starts with a node shebang (with the young-generation bound of docs/performance.md)', () => {
    expect(readFileSync(MAIN, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1');
  });

  it('without a mode prints usage and exits 2; an unknown mode too', () => {
    expect(run()).toMatchObject({ status: 2, stdout: expect.stringContaining('rasadv <advertise|listen>') });
    expect(run('broadcast')).toMatchObject({ status: 2, stderr: expect.stringContaining('unknown mode "broadcast"') });
    expect(run('--help')).toMatchObject({ status: 0 });
  });

  it('documents the issue\'s flags in each mode\'s --help', () => {
    const adv = run('advertise', '--help');
    expect(adv.status).toBe(0);
    for (const f of ['--hostname', '--domain', '--interface', '--interval', '--jitter', '--ttl', '--loopback', '--check-config']) expect(adv.stdout).toContain(f);
    const lst = run('listen', '--help');
    for (const f of ['--interface', '--json', '--allow', '--once', '--timeout', '--stale-after', '--resolve']) expect(lst.stdout).toContain(f);
  });

  it('--check-config accepts a good configuration and lists every problem of a bad one', () => {
    expect(run('advertise', '--check-config', '--hostname', 'thepcsname', '--domain', 'EARTH.COM', '--interface', 'eth0', '--interface', '10.0.0.1')).toMatchObject({ status: 0, stdout: 'config ok\n' });
    // Field checks first (the runtime runs the cross-field checks only once every field is valid).
    const ttl = run('advertise', '--check-config', '--ttl', '0', '--interval', '0');
    expect(ttl.status).toBe(1);
    expect(ttl.stderr).toContain('ttl (0) must be >= 1');
    expect(ttl.stderr).toContain('interval (0) must be >= 1');
    const bad = run('advertise', '--check-config', '--hostname', 'bad name', '--domain', 'a\nb', '--interval', '10', '--jitter', '10');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('(3 problems)');
    expect(bad.stderr).toContain('hostname "bad name" contains a space at position 3');
    expect(bad.stderr).toContain('domain "a\\nb" contains a newline at position 1');
    expect(bad.stderr).toContain('jitter (10) must be smaller than interval (10)');
  });

  it('--check-config reads and checks --allow files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rasadv-'));
    try {
      const good = join(dir, 'allow.txt');
      writeFileSync(good, '# authorised RAS servers\nRRAS01\n10.1.0.0/16  # VPN subnet\n');
      expect(run('listen', '--check-config', '--allow', `@${good}`, '--allow', 'thepcsname,192.0.2.9')).toMatchObject({ status: 0, stdout: 'config ok\n' });
      const bad = join(dir, 'bad.txt');
      writeFileSync(bad, 'ok\n10.1.0.1/16\n');
      const r = run('listen', '--check-config', '--allow', `@${bad}`);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`${bad}:2: "10.1.0.1/16" has host bits set`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reverse DNS is on by default and turned off with --no-resolve or --resolve false', () => {
    expect(run('listen', '--check-config', '--no-resolve')).toMatchObject({ status: 0, stdout: 'config ok\n' });
    expect(run('listen', '--check-config', '--resolve', 'false')).toMatchObject({ status: 0, stdout: 'config ok\n' });
  });

  it('--once needs --timeout, and --timeout needs --once', () => {
    expect(run('listen', '--check-config', '--once').stderr).toContain('once needs timeout');
    expect(run('listen', '--check-config', '--timeout', '5').stderr).toContain('timeout (--timeout) only applies with --once');
  });

  it('a JSON config file is checked like flags, with unknown keys reported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rasadv-'));
    try {
      const f = join(dir, 'advertise.json');
      writeFileSync(f, JSON.stringify({ hostname: 'RRAS01', domain: 'corp.example', interfaces: ['eth0'], interval: 3600, jitter: 300, intervall: 5 }));
      const r = run('advertise', '--check-config', '--config', f);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('unknown key "intervall"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('"once": true in a config file gets its own control socket, beside a listener holding the default one', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rasadv-'));
    // Stands in for the listening daemon: it holds `rasadv listen`'s default control socket name.
    const daemon = await serveControl(controlName('rasadv listen'), () => ({ lifecycle: 'running' }));
    try {
      const f = join(dir, 'once.json');
      // The interface does not exist, so the run ends right after the control socket step, before any
      // network socket is opened: the error says which step it reached.
      writeFileSync(f, JSON.stringify({ once: true, timeout: 1, interfaces: ['nosuchif0'], resolve: false }));
      const child = spawn(process.execPath, [MAIN, 'listen', '--config', f], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const status = await new Promise<number | null>((res) => child.on('close', res));
      expect(stderr).not.toContain('already running');
      expect(stderr).toContain('--interface nosuchif0: no such interface');
      expect(status).toBe(1);
    } finally {
      await daemon.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
