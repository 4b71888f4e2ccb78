// `teredo-server --miredo-conf FILE` (agents/teredo-server/miredo-conf.ts on the runtime's one Miredo reader,
// src/runtime/miredo-conf.ts): Miredo's syntax (case-insensitive names, '#' comments, first word only, no
// quoting), the mapping onto our fields, refusals that name FILE:LINE, warnings for what has no meaning here,
// and the real binary (dist/) checking Debian's own /etc/miredo-server.conf and hand-written files, with flags
// overriding the file.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MIREDO_SERVER_FILE } from '../../agents/teredo-server/miredo-conf.js';
import { MIREDO_MAX_LINE, parseMiredoText } from '../../src/runtime/miredo-conf.js';
import { distFile } from '../../lab/paths.js';
import { skipWithout } from '../require.js';

const MAIN = distFile('agents/teredo-server/main.js');
const dir = mkdtempSync(join(tmpdir(), 'miredo-conf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const parse = (text: string) => parseMiredoText(text, 'f.conf', MIREDO_SERVER_FILE);

describe('miredo-server.conf syntax, as Miredo parses it', () => {
  it('maps the directives onto our fields; names are case-insensitive, comments and blank lines ignored', () => {
    const text = [
      '#! /usr/sbin/miredo-server -f -c',
      '',
      '   # indented comment',
      'serverbindaddress\t198.18.0.10',
      'SERVERBINDADDRESS2 198.18.0.20   # trailing comment',
      'InterfaceMTU 0x500',
      'Prefix 2001:0::',
      'SyslogFacility LOCAL3',
    ].join('\n');
    expect(parse(text)).toEqual({ values: { address: '198.18.0.10', secondaryAddress: '198.18.0.20', mtu: 1280 }, problems: [], warnings: ['f.conf:8: SyslogFacility ignored: logs are JSON lines on stdout'] });
  });

  it('reads InterfaceMTU like strtoul base 0 (decimal, hex, octal), and a last line without newline', () => {
    expect(parse('InterfaceMTU 1400').values.mtu).toBe(1400);
    expect(parse('InterfaceMTU 02400\n').values.mtu).toBe(1280);
    expect(parse('InterfaceMTU 1280x').problems).toEqual(['f.conf:1: InterfaceMTU ("1280x") must be an integer from 0 to 65535']);
  });

  it('refuses what Miredo would only warn about, naming each line', () => {
    const text = [
      'ServerBindAddress 198.18.0.10',
      'ServerAddress teredo.remlab.net',
      'ServerBindAddress 198.18.0.11',
      'InterfaceMTU',
      'ServerBindAddress2 198.18.0.20 198.18.0.21',
      'Prefx 2001::',
      `# ${'x'.repeat(MIREDO_MAX_LINE)}`,
    ].join('\n');
    expect(parse(text).problems).toEqual([
      'f.conf:2: unknown directive "ServerAddress" (a miredo.conf directive, for the client or relay, not for miredo-server)',
      'f.conf:3: ServerBindAddress repeated (first at line 1)',
      'f.conf:4: InterfaceMTU needs a value',
      'f.conf:5: ServerBindAddress2 takes one value, not "198.18.0.20 198.18.0.21"',
      'f.conf:6: unknown directive "Prefx" (did you mean Prefix?)',
      `f.conf:7: longer than ${MIREDO_MAX_LINE} characters`,
    ]);
    // A misspelled directive that Miredo would skip with a "superfluous directive" warning, running on its default.
    expect(parse('ServerBindAdress2 198.18.0.20').problems).toEqual(['f.conf:1: unknown directive "ServerBindAdress2" (did you mean ServerBindAddress2?)']);
  });

  it('has no quoting (a quote is part of the value), resolves no host names, serves only the standard prefix', () => {
    expect(parse('ServerBindAddress "198.18.0.10"').problems).toEqual(['f.conf:1: ServerBindAddress ("\\"198.18.0.10\\"") must be an IPv4 address (host names are not resolved)']);
    expect(parse('ServerBindAddress teredo.example.net').problems).toHaveLength(1);
    expect(parse('Prefix 3ffe:831f::').problems).toEqual(['f.conf:1: Prefix ("3ffe:831f::") is not supported: only the standard Teredo prefix 2001:0::/32 (RFC 4380 §2.6)']);
    expect(parse('Prefix 2001::').problems).toEqual([]);
    expect(parse('SyslogFacility console')).toMatchObject({ problems: [], warnings: ['f.conf:1: SyslogFacility ignored: logs are JSON lines on stdout'] });
  });
});

describe('teredo-server --miredo-conf (the binary)', { timeout: 60_000 }, () => {
  // Debian's miredo-server package installs its example here (192.0.2.221, which RFC 4380 §5.2.4 counts as global).
  const DEBIAN = '/etc/miredo-server.conf';

  it.skipIf(skipWithout(`${DEBIAN} (Debian miredo-server)`, existsSync(DEBIAN)))(`checks Debian's ${DEBIAN} as it is`, () => {
    expect(readFileSync(DEBIAN, 'utf8')).toMatch(/^ServerBindAddress /m);
    expect(run('--miredo-conf', DEBIAN, '--check-config')).toMatchObject({ status: 0, stdout: 'config ok\n' });
  });

  it('maps the file onto the config, and flags override it', () => {
    const conf = file('a.conf', 'ServerBindAddress 10.1.1.1\nServerBindAddress2 10.1.1.9\nInterfaceMTU 1200\n');
    const r = run('--miredo-conf', conf, '--check-config');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('teredo-server: invalid configuration (1 problem):\n  mtu (1200) must be >= 1280\n');
    const mapped = run('--miredo-conf', conf, '--mtu', '1400', '--check-config');
    expect(mapped.stderr).toContain('address ("10.1.1.1") is not global unicast');
    expect(mapped.stderr).toContain('secondaryAddress ("10.1.1.9") is not global unicast');
    expect(run('--miredo-conf', conf, '--mtu', '1400', '--allow-non-global', '--check-config')).toMatchObject({ status: 0, stdout: 'config ok\n' });
    expect(run('--miredo-conf', conf, '--mtu', '1400', '--address', '198.18.0.10', '--secondary-address', '198.18.0.12', '--check-config')).toMatchObject({ status: 0, stdout: 'config ok\n' });
  });

  it('a bad file fails naming every bad line; a missing file and --config with it are refused', () => {
    const bad = file('bad.conf', 'ServerBindAddress 198.18.0.10\nRelayType cone\nInterfaceMTU big\n');
    const r = run('--miredo-conf', bad, '--check-config');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `teredo-server: invalid miredo-server config (2 problems):\n  ${bad}:2: unknown directive "RelayType" (a miredo.conf directive, for the client or relay, not for miredo-server)\n  ${bad}:3: InterfaceMTU ("big") must be an integer from 0 to 65535\n`,
    );
    expect(run('--miredo-conf', join(dir, 'none.conf'), '--check-config')).toMatchObject({ status: 1, stderr: `teredo-server: cannot read miredo-server config ${join(dir, 'none.conf')}: no such file\n` });
    const json = file('s.json', '{"address":"198.18.0.10"}');
    expect(run('--miredo-conf', bad, '--config', json, '--check-config')).toMatchObject({ status: 2, stderr: expect.stringContaining('--config and --miredo-conf exclude each other') });
  });

  it('--check-config prints the warnings on stderr and still says config ok', () => {
    const conf = file('w.conf', 'ServerBindAddress 198.18.0.10\nSyslogFacility daemon\n');
    expect(run('--miredo-conf', conf, '--check-config')).toMatchObject({ status: 0, stdout: 'config ok\n', stderr: `warning: ${conf}:2: SyslogFacility ignored: logs are JSON lines on stdout\n` });
  });

  it('--help documents --miredo-conf and --metrics', () => {
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--miredo-conf');
    expect(help.stdout).toContain('--metrics');
  });
});
