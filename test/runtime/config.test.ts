// Config: every bad field reported by name, unknown keys with suggestions, defaults < file < flags,
// yargs options generated from the schema, frozen results, and cross-field checks.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConfigSpec } from '../../src/runtime/config.js';
import { configYargsOptions, readConfigFile, validateConfig } from '../../src/runtime/config.js';
import { AgentError } from '../../src/runtime/errors.js';

interface Prefix {
  prefix: string;
  validLifetimeSec: number;
  autonomous: boolean;
}

interface TestConfig {
  interface: string;
  mtu: number;
  serverAddress: string;
  listenAddress: string;
  maxRtrAdvIntervalSec: number;
  minRtrAdvIntervalSec: number;
  mode: 'cone' | 'restricted';
  managed: boolean;
  rdnss: string[];
  ports: number[];
  prefixes: Prefix[];
  note?: string;
}

const spec: ConfigSpec<TestConfig> = {
  fields: {
    interface: { type: 'string', description: 'interface', required: true },
    mtu: { type: 'integer', description: 'link MTU', default: 1280, min: 1280, max: 65535 },
    serverAddress: { type: 'ipv4', description: 'Teredo server', default: '192.0.2.1' },
    listenAddress: { type: 'ipv6', description: 'listen address', default: '::' },
    maxRtrAdvIntervalSec: { type: 'number', description: 'MaxRtrAdvInterval', default: 600, min: 4, max: 1800 },
    minRtrAdvIntervalSec: { type: 'number', description: 'MinRtrAdvInterval', default: 200, min: 3 },
    mode: { type: 'enum', description: 'NAT mode', values: ['cone', 'restricted'], default: 'cone' },
    managed: { type: 'boolean', description: 'M flag', default: false, flag: 'managed-flag' },
    rdnss: { type: 'list', of: 'ipv6', description: 'DNS servers', default: [] },
    ports: { type: 'list', of: 'integer', description: 'ports', default: [3544], min: 1, max: 65535 },
    prefixes: {
      type: 'objects',
      description: 'prefixes to advertise',
      default: [],
      fields: {
        prefix: { type: 'cidr6', description: 'prefix', required: true },
        validLifetimeSec: { type: 'integer', description: 'valid lifetime', default: 86400, min: 0 },
        autonomous: { type: 'boolean', description: 'A flag', default: true },
      },
    },
    note: { type: 'string', description: 'free text', flag: false },
  },
  // RFC 4861 §6.2.1: MinRtrAdvInterval <= 0.75 * MaxRtrAdvInterval.
  check: (c) =>
    c.minRtrAdvIntervalSec > 0.75 * c.maxRtrAdvIntervalSec
      ? [`minRtrAdvIntervalSec (${c.minRtrAdvIntervalSec}) must be <= 0.75 * maxRtrAdvIntervalSec (${0.75 * c.maxRtrAdvIntervalSec})`]
      : [],
};

const file = (values: unknown) => ({ path: '/etc/test.json', values });
const problemsOf = (r: ReturnType<typeof validateConfig>) => (r.ok ? [] : r.problems);

describe('validateConfig', () => {
  it('fills defaults and returns a deeply frozen config', () => {
    const r = validateConfig(spec, { flags: { interface: 'eth0' } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toEqual({
      interface: 'eth0',
      mtu: 1280,
      serverAddress: '192.0.2.1',
      listenAddress: '::',
      maxRtrAdvIntervalSec: 600,
      minRtrAdvIntervalSec: 200,
      mode: 'cone',
      managed: false,
      rdnss: [],
      ports: [3544],
      prefixes: [],
    });
    expect(Object.isFrozen(r.config)).toBe(true);
    expect(Object.isFrozen(r.config.ports)).toBe(true);
    expect('note' in r.config).toBe(false);
  });

  it('reports every bad field by name in one pass', () => {
    const r = validateConfig(spec, {
      file: file({
        interface: 7,
        mtu: 1200,
        serverAddress: '10.0.0.256',
        listenAddress: 'fe80::1::2',
        maxRtrAdvIntervalSec: 2000,
        mode: 'symmetric',
        managed: 'yes',
        rdnss: ['2001:db8::53', 'dns.example'],
        ports: [3544, 70000, 1.5],
        prefixes: [{ prefix: '2001:db8::/64' }, { prefix: '2001:db8::/129', validLifetimeSec: -1, onLink: true }, 'x', { prefix: '2001:db8:0:1::1/64' }],
      }),
    });
    expect(problemsOf(r)).toEqual([
      'interface (7) must be a string',
      'mtu (1200) must be >= 1280',
      'serverAddress ("10.0.0.256") must be an IPv4 address',
      'listenAddress ("fe80::1::2") must be an IPv6 address',
      'maxRtrAdvIntervalSec (2000) must be <= 1800',
      'mode ("symmetric") must be one of cone, restricted',
      'managed ("yes") must be true or false',
      'rdnss[1] ("dns.example") must be an IPv6 address',
      'ports[1] (70000) must be <= 65535',
      'ports[2] (1.5) must be an integer',
      'unknown key "onLink" in prefixes[1]',
      'prefixes[1].prefix ("2001:db8::/129") must be an IPv6 prefix like 2001:db8::/64',
      'prefixes[1].validLifetimeSec (-1) must be >= 0',
      'prefixes[2] ("x") must be an object',
      'prefixes[3].prefix ("2001:db8:0:1::1/64") has host bits set (did you mean 2001:db8:0:1::/64?)',
    ]);
  });

  it('reports missing required fields with the flag and key that would set them', () => {
    expect(problemsOf(validateConfig(spec, {}))).toEqual(['interface is required (--interface or "interface" in the config file)']);
    expect(problemsOf(validateConfig(spec, { flags: { interface: 'e', prefixes: '[{}]' } }))).toEqual(['prefixes[0].prefix is required']);
  });

  it('reports unknown keys in the file, suggesting the near miss', () => {
    const r = validateConfig(spec, { file: file({ interface: 'eth0', mtuu: 1500, 'server-address': '1.2.3.4', bogus: 1 }) });
    expect(problemsOf(r)).toEqual([
      'unknown key "mtuu" in /etc/test.json (did you mean "mtu"?)',
      'unknown key "server-address" in /etc/test.json (did you mean "serverAddress"?)',
      'unknown key "bogus" in /etc/test.json',
    ]);
  });

  it('rejects a file that is not a JSON object', () => {
    expect(problemsOf(validateConfig(spec, { file: file([1, 2]), flags: { interface: 'e' } }))).toEqual([
      'config file /etc/test.json must contain a JSON object',
    ]);
  });

  it('merges defaults < file < flags, per field', () => {
    const r = validateConfig(spec, {
      file: file({ interface: 'eth0', mtu: 1400, mode: 'restricted', rdnss: ['2001:db8::1'] }),
      flags: { mtu: '1500', 'managed-flag': true, rdnss: ['2001:db8::2,2001:db8::3', '2001:db8::4'] },
    });
    expect(r.ok && r.config).toMatchObject({
      interface: 'eth0', // file
      mtu: 1500, // flag beats file
      mode: 'restricted', // file beats default
      managed: true, // flag, under its custom name
      serverAddress: '192.0.2.1', // default
      rdnss: ['2001:db8::2', '2001:db8::3', '2001:db8::4'], // repeated and comma-separated flag replaces the file list
    });
  });

  it('quotes flag text as typed and takes the last of a repeated scalar flag', () => {
    expect(problemsOf(validateConfig(spec, { flags: { interface: 'e', mtu: 'big', ports: 'x' } }))).toEqual([
      'mtu ("big") must be an integer',
      'ports[0] ("x") must be an integer',
    ]);
    const r = validateConfig(spec, { flags: { interface: 'e', mtu: ['1300', '1400'] } });
    expect(r.ok && r.config.mtu).toBe(1400);
  });

  it('parses JSON for objects flags', () => {
    const r = validateConfig(spec, { flags: { interface: 'e', prefixes: '[{"prefix":"2001:db8:1::/48","autonomous":false}]' } });
    expect(r.ok && r.config.prefixes).toEqual([{ prefix: '2001:db8:1::/48', validLifetimeSec: 86400, autonomous: false }]);
    expect(problemsOf(validateConfig(spec, { flags: { interface: 'e', prefixes: '{oops' } }))).toEqual(['prefixes ("{oops") must be a JSON array']);
  });

  it('ignores flags for file-only fields and runs cross-field checks only on valid fields', () => {
    const r = validateConfig(spec, { flags: { interface: 'e', note: 'from a flag' } });
    expect(r.ok && 'note' in r.config).toBe(false);
    expect(problemsOf(validateConfig(spec, { flags: { interface: 'e', 'max-rtr-adv-interval-sec': '100', 'min-rtr-adv-interval-sec': '90' } }))).toEqual([
      'minRtrAdvIntervalSec (90) must be <= 0.75 * maxRtrAdvIntervalSec (75)',
    ]);
    expect(problemsOf(validateConfig(spec, { flags: { interface: 'e', 'max-rtr-adv-interval-sec': '1', 'min-rtr-adv-interval-sec': '90' } }))).toEqual([
      'maxRtrAdvIntervalSec (1) must be >= 4',
    ]);
  });
});

describe('configYargsOptions', () => {
  it('generates kebab-case flags, booleans as booleans, and skips file-only fields', () => {
    const opts = configYargsOptions(spec);
    expect(Object.keys(opts)).toEqual([
      'interface',
      'mtu',
      'server-address',
      'listen-address',
      'max-rtr-adv-interval-sec',
      'min-rtr-adv-interval-sec',
      'mode',
      'managed-flag',
      'rdnss',
      'ports',
      'prefixes',
    ]);
    expect(opts['managed-flag']!.type).toBe('boolean');
    expect(opts.mtu!.type).toBe('string');
    expect(opts.mtu!.describe).toBe('link MTU (1280..65535; default 1280)');
    expect(opts.mode!.describe).toContain('one of: cone, restricted');
    expect(opts.ports!.describe).toBe('ports (1..65535; default [3544]; repeatable or comma-separated)');
    // An empty default list is "none given": no "default []" note, the description says what happens.
    expect(opts.rdnss!.describe).toBe('DNS servers (repeatable or comma-separated)');
  });
});


describe('readConfigFile (--config FILE)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'runtime-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the file; validated with the flags on top, every problem listed', () => {
    const path = join(dir, 'ok.json');
    writeFileSync(path, JSON.stringify({ interface: 'eth1', mtu: 1400 }));
    const ok = validateConfig(spec, { file: readConfigFile(path), flags: { mtu: '1480' } });
    expect(ok.ok && ok.config).toMatchObject({ interface: 'eth1', mtu: 1480 });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ mtu: 1200, mode: 'x' }));
    expect(validateConfig(spec, { file: readConfigFile(bad) })).toEqual({
      ok: false,
      problems: ['interface is required (--interface or "interface" in the config file)', 'mtu (1200) must be >= 1280', 'mode ("x") must be one of cone, restricted'],
    });
  });

  it('throws CONFIG_READ for a missing file or bad JSON, naming the file', () => {
    expect(catchError(() => readConfigFile(join(dir, 'nope.json')))).toMatchObject({
      code: 'CONFIG_READ',
      message: `cannot read config file ${join(dir, 'nope.json')}: no such file`,
    });
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{"mtu": 1280,');
    const err = catchError(() => readConfigFile(path));
    expect(err).toBeInstanceOf(AgentError);
    expect(err).toMatchObject({ code: 'CONFIG_READ' });
    expect((err as Error).message).toContain(`config file ${path} is not valid JSON`);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
