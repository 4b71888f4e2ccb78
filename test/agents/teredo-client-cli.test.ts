// The real teredo-client binary (dist/, built once per run by test/build-dist.ts), spawned with node, checked
// on stdout, stderr and exit code.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const MAIN = resolve(ROOT, pkg.bin['teredo-client']!);

const SEED = '2001:0:1117:34fa:1027:374b:e1fc:f635';

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}


describe('teredo-client binary', () => {
  it('starts with a node shebang so it can be installed as a bin (young generation bounded: docs/performance.md)', () => {
    expect(readFileSync(MAIN, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1');
  });

  it('decode prints the embedded fields as text', () => {
    const r = run('decode', SEED);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^server\s+17\.23\.52\.250$/m);
    expect(r.stdout).toMatch(/^flags\s+0x1027 \(cone: no, random bits: 0x427\)$/m);
    expect(r.stdout).toMatch(/^mapped port\s+51380$/m);
    expect(r.stdout).toMatch(/^mapped IPv4\s+30\.3\.9\.202$/m);
  });

  it('decode --json prints one JSON object', () => {
    const r = run('decode', SEED, '--json');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toEqual({
      address: SEED,
      server: '17.23.52.250',
      flags: 0x1027,
      flagsHex: '0x1027',
      cone: false,
      randomBits: 0x427,
      mappedPort: 51380,
      mappedAddress: '30.3.9.202',
    });
  });

  it('decode shows the cone bit', () => {
    const r = run('decode', '2001:0:4136:e378:8000:ec77:7c94:fffe', '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ cone: true, randomBits: 0, mappedPort: 5000, mappedAddress: '131.107.0.1' });
  });

  it('encode reverses decode', () => {
    const r = run('encode', '--server', '17.23.52.250', '--mapped-ip', '30.3.9.202', '--mapped-port', '51380', '--random-bits', '0x427');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${SEED}\n`);
    expect(run('encode', '--server', '17.23.52.250', '--mapped-ip', '30.3.9.202', '--mapped-port', '51380', '--random-bits', '1063').stdout).toBe(`${SEED}\n`);
  });

  it('encode --cone sets the cone flag', () => {
    const r = run('encode', '--server', '65.54.227.120', '--mapped-ip', '131.107.0.1', '--mapped-port', '5000', '--cone');
    expect(r.stdout).toBe('2001:0:4136:e378:8000:ec77:7c94:fffe\n');
  });

  const enc = ['encode', '--server', '1.2.3.4', '--mapped-ip', '5.6.7.8'];
  it.each([
    ['not IPv6', ['decode', 'hello']],
    ['not a Teredo address', ['decode', '2001:db8::1']],
    ['an IPv4 address', ['decode', '17.23.52.250']],
    ['no command', []],
    ['an unknown command', ['frobnicate']],
    ['decode without an address', ['decode']],
    ['a bad server IPv4', ['encode', '--server', '1.2.3', '--mapped-ip', '5.6.7.8', '--mapped-port', '1']],
    ['a bad mapped IPv4', ['encode', '--server', '1.2.3.4', '--mapped-ip', '256.0.0.1', '--mapped-port', '1']],
    ['a port out of range', [...enc, '--mapped-port', '65536']],
    ['a negative port', [...enc, '--mapped-port', '-1']],
    ['a non-numeric port', [...enc, '--mapped-port', '80a']],
    ['random bits out of range', [...enc, '--mapped-port', '1', '--random-bits', '0x1000']],
    ['a missing option', enc],
    ['an unknown option', [...enc, '--mapped-port', '1', '--bogus']],
  ])('%s: one line on stderr, exit code 2', (_name, args) => {
    const r = run(...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^teredo-client: [^\n]+\n$/);
  });

  it('--help exits 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('decode <ipv6>');
    expect(r.stdout).toContain('encode');
  });
});

describe('teredo-client run mode and status', () => {
  it('--check-config: "config ok" for a usable command line', () => {
    const r = run('--server', '198.18.0.10', '--default-route', 'off', '--check-config');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('config ok\n');
  });

  it('--check-config: every problem by field name, exit 1', () => {
    const r = run('--interface', 'a-very-long-ifname', '--check-config');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('server is required');
    expect(r.stderr).toContain('interface ("a-very-long-ifname")');
  });

  it('--help lists the client flags of the issue', () => {
    const r = run('--help');
    for (const flag of ['--server', '--secondary-server', '--interface', '--port', '--default-route', '--config', '--log-level', '--miredo-conf', '--hook']) expect(r.stdout).toContain(flag);
  });

  it('status with no client in this network namespace: exit 3', () => {
    const r = run('status', '--json', '--instance', `none-${process.pid}`);
    expect(r.status).toBe(3);
  });
});
