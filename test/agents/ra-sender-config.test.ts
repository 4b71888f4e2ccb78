// ra-sender configuration: the checks with messages naming the field (RFC 4861 §6.2.1 / RFC 8319 ranges,
// host bits, preferred > valid, MTU, the /48 SLAAC pitfall, route ::/0 lifetime 0), the radvd.conf reader
// (line-numbered refusals, radvd's defaults, Debian's example files), and the real binary's --check-config
// and --help.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateConfig } from '../../src/runtime/config.js';
import { raSenderSpec, radvdConfImport, resolveInterfaces, type RaSenderAgentConfig } from '../../agents/ra-sender/config.js';
import { RadvdConfError } from '../../agents/ra-sender/radvd-conf.js';
import { parseRadvdConf } from '../../agents/ra-sender/radvd-settings.js';
import { checkSettings, toContent } from '../../agents/ra-sender/settings.js';
import { formatRaSenderStatus } from '../../agents/ra-sender/status.js';
import { skipWithout } from '../require.js';

const dir = mkdtempSync(join(tmpdir(), 'ra-sender-conf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The flags over the radvd.conf at `radvdConf`, imported as the runtime does for --radvd-conf. */
const sources = (flags: Record<string, unknown>, radvdConf?: string) => ({ flags, ...(radvdConf === undefined ? {} : { file: { ...radvdConfImport.read(radvdConf), imported: true } }) });

function check(flags: Record<string, unknown>, radvdConf?: string): string[] {
  const r = validateConfig(raSenderSpec, sources(flags, radvdConf));
  return r.ok ? [] : r.problems;
}

function warnings(flags: Record<string, unknown>, radvdConf?: string): string[] {
  const r = validateConfig(raSenderSpec, sources(flags, radvdConf));
  if (!r.ok) throw new Error(r.problems.join('; '));
  const res = resolveInterfaces(r.config);
  if (Array.isArray(res)) throw new Error(res.join('; '));
  return res.findings.warnings;
}

describe('ra-sender config checks', () => {
  it('accepts the defaults: 200..600 s, router lifetime 1800 s', () => {
    const r = validateConfig(raSenderSpec, { flags: { interface: 'eth0', prefix: '2001:db8:1::/64' } });
    expect(r.ok).toBe(true);
    const res = resolveInterfaces((r as { config: RaSenderAgentConfig }).config);
    expect(Array.isArray(res) ? res : res.interfaces[0]).toMatchObject({ minIntervalSec: 200, maxIntervalSec: 600, routerLifetimeSec: 1800, curHopLimit: 64, finalAdvertisements: 3 });
  });

  it('names every bad field', () => {
    expect(check({})).toEqual(['interfaces is required (--interface NAME, or --radvd-conf FILE)']);
    expect(check({ interface: 'eth0', prefix: '2001:db8:1::1/64' })).toEqual(['interface eth0: prefix 2001:db8:1::1/64 has host bits set (did you mean 2001:db8:1::/64?)']);
    expect(check({ interface: 'eth0', prefix: '2001:db8:1::/64', 'preferred-lifetime': '9000', 'valid-lifetime': '600' })).toEqual([
      'interface eth0: prefix 2001:db8:1::/64: preferred lifetime (9000) must not exceed valid lifetime (600) (RFC 4861 §4.6.2: hosts ignore such a prefix)',
    ]);
    expect(check({ interface: 'eth0', mtu: '1200' })).toEqual(['interface eth0: mtu (1200) must be 0 (no MTU option) or at least 1280 (RFC 8200 §5)']);
    expect(check({ interface: 'eth0', 'max-interval': '100', 'min-interval': '90' })).toEqual(['interface eth0: min interval (90) must be 3..0.75 x max interval (75) s (RFC 4861 §6.2.1)']);
    expect(check({ interface: 'eth0', 'max-interval': '100', 'router-lifetime': '50' })).toEqual(['interface eth0: router lifetime (50) must be 0 or max interval (100)..65535 s (RFC 4861 §6.2.1, RFC 8319)']);
    expect(check({ interface: 'eth0', 'max-interval': '70000' })).toEqual(['maxInterval (70000) must be <= 65535']);
    expect(check({ interface: 'eth0', route: '2001::/16x' })).toEqual(['interface eth0: route 2001::/16x must be an IPv6 prefix like 2001:db8::/64']);
    expect(check({ interface: 'eth0', dnssl: 'bad..name' })[0]).toMatch(/^interface eth0: dnssl bad\.\.name: ndisc dnssl: bad label length/);
    expect(check({ interface: 'eth0', prefix: 'fe80::/64' })).toEqual(['interface eth0: prefix fe80::/64: the link-local prefix must not be advertised (RFC 4861 §6.2.1)']);
    expect(check({ interface: ['eth0', 'eth0'] })).toEqual(['interface eth0 is given more than once']);
  });

  it('warns loudly about an autonomous prefix that is not a /64 (hosts ignore it for SLAAC), and route ::/0 with lifetime 0', () => {
    expect(warnings({ interface: 'eth0', prefix: 'fdcc:7c4e:3651::/48' })).toEqual([
      expect.stringMatching(/^interface eth0: prefix fdcc:7c4e:3651::\/48: an autonomous prefix that is not a \/64: hosts will NOT form SLAAC addresses/),
    ]);
    expect(warnings({ interface: 'eth0', prefix: 'fdcc:7c4e:3651::/48', autonomous: false })).toEqual([]);
    expect(warnings({ interface: 'eth0', route: '::/0', 'route-lifetime': '0' })).toEqual([expect.stringMatching(/route ::\/0: route lifetime 0 for ::\/0 beside router lifetime 1800/)]);
  });

  it('refuses an RDNSS list too long for one option and a DNSSL list that cannot fit a 1280-byte RA', () => {
    const servers = Array.from({ length: 128 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`);
    expect(check({ interface: 'eth0', rdnss: servers })).toEqual(['interface eth0: ndisc rdnss option: 2056 bytes, max 2040']);
    const domains = Array.from({ length: 40 }, (_, i) => `n${i}.${'x'.repeat(25)}.example`);
    expect(check({ interface: 'eth0', dnssl: domains })[0]).toMatch(/does not fit in one RA on a link with MTU 1280/);
  });
});

describe('radvd.conf reader', () => {
  const conf = (body: string) => `interface eth0 {\n  AdvSendAdvert on;\n${body}\n};\n`;

  it('reads interface, prefix, route, RDNSS, DNSSL and clients blocks with radvd defaults', () => {
    const { interfaces } = parseRadvdConf(
      conf(`  MaxRtrAdvInterval 30;\n  AdvManagedFlag on;\n  AdvLinkMTU 1400;\n  UnicastOnly off;\n  prefix ::/64 { AdvAutonomous off; DeprecatePrefix on; };\n  prefix 2001:db8:1::/64 { AdvPreferredLifetime infinity; AdvValidLifetime infinity; };\n  route 2001::/32 { };\n  RDNSS 2001:db8::1 2001:db8::2 { };\n  DNSSL a.example b.example { AdvDNSSLLifetime 60; };\n  clients { fe80::1; fe80::2; };`),
      'x.conf',
    );
    expect(interfaces).toEqual([
      expect.objectContaining({
        name: 'eth0', maxIntervalSec: 30, minIntervalSec: 9.9, routerLifetimeSec: 90, managed: true, mtu: 1400, clients: ['fe80::1', 'fe80::2'],
        prefixes: [
          { prefix: 'auto', onLink: true, autonomous: false, routerAddress: false, deprecateOnExit: true, validLifetimeSec: 86_400, preferredLifetimeSec: 14_400 },
          { prefix: '2001:db8:1::/64', onLink: true, autonomous: true, routerAddress: false, deprecateOnExit: false, validLifetimeSec: 0xffffffff, preferredLifetimeSec: 0xffffffff },
        ],
        routes: [{ prefix: '2001::/32', preference: 'medium', lifetimeSec: 90, removeOnExit: true }],
        rdnss: [{ servers: ['2001:db8::1', '2001:db8::2'], lifetimeSec: 90, flushOnExit: true }],
        dnssl: [{ domains: ['a.example', 'b.example'], lifetimeSec: 60, flushOnExit: true }],
      }),
    ]);
  });

  it('skips an interface without AdvSendAdvert on (radvd default off), saying so', () => {
    const r = parseRadvdConf('interface eth1 { MaxRtrAdvInterval 10; };\n', 'x.conf');
    expect(r).toEqual({ interfaces: [], warnings: ['x.conf: interface eth1: AdvSendAdvert is off (radvd\'s default): not advertised'] });
  });

  it('refuses unknown options and bad values with their line, every one of them', () => {
    const text = conf('  AdvHomeAgentFlag off;\n  AdvIntervalOpt maybe;\n  prefix 2001:db8::/64 {\n    AdvAutonomus on;\n  };\n  AdvOnLink on;');
    let err: unknown;
    try {
      parseRadvdConf(text, 'r.conf');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RadvdConfError);
    expect((err as RadvdConfError).problems).toEqual([
      'r.conf:4: AdvIntervalOpt: bad value "maybe" (expected on or off)',
      'r.conf:6: unknown option AdvAutonomus in prefix 2001:db8::/64',
      'r.conf:8: unknown option AdvOnLink in interface eth0 (it belongs in an prefix block)',
    ]);
  });

  it('reports syntax errors and bad values with their line', () => {
    expect(() => parseRadvdConf('interface eth0 {\n  AdvSendAdvert on\n};\n', 'a.conf')).toThrow('a.conf:3: expected ";", found "}"');
    expect(() => parseRadvdConf('interface eth0 {\n  AdvSendAdvert on;\n', 'a.conf')).toThrow('a.conf:2: unexpected end of file, expected "}"');
    expect(() => parseRadvdConf('iface eth0 {};', 'a.conf')).toThrow('a.conf:1: expected "interface NAME {", found "iface"');
    expect(() => parseRadvdConf(conf('  MaxRtrAdvInterval ten;'), 'a.conf')).toThrow('a.conf:3: MaxRtrAdvInterval: bad value "ten" (expected a number)');
  });

  it('checks what it imported like flags: a radvd.conf with a /48 prefix warns, bad ranges are refused', () => {
    const file = join(dir, 'radvd.conf');
    writeFileSync(file, conf('  prefix fdcc:7c4e:3651::/48 { };\n  MinRtrAdvInterval 500;'));
    expect(check({}, file)).toEqual(['interface eth0: min interval (500) must be 3..0.75 x max interval (450) s (RFC 4861 §6.2.1)']);
    expect(check({ interface: 'eth1' }, file)).toEqual(['interfaces (--interface) and --radvd-conf exclude each other: the radvd.conf names its interfaces']);
    expect(check({ prefix: '2001:db8::/64', managed: true }, file)).toEqual(['prefixes, managed: not used with --radvd-conf, whose file says what to advertise']);
    writeFileSync(file, conf('  prefix fdcc:7c4e:3651::/48 { };'));
    expect(warnings({}, file)[0]).toMatch(/not a \/64/);
  });

  it('imports a radvd.conf as { path, values: { radvd }, warnings }, which only an import may set', () => {
    const file = join(dir, 'radvd.conf');
    writeFileSync(file, `${conf('  prefix 2001:db8:1::/64 { };')}interface eth1 { };\n`);
    const read = radvdConfImport.read(file);
    expect(read).toEqual({
      path: file,
      values: { radvd: { path: file, interfaces: [expect.objectContaining({ name: 'eth0', prefixes: [expect.objectContaining({ prefix: '2001:db8:1::/64' })] })] } },
      warnings: [`${file}: interface eth1: AdvSendAdvert is off (radvd's default): not advertised`],
    });
    const r = validateConfig(raSenderSpec, { file: { ...read, imported: true }, flags: { 'max-unicast-rate': '5' } });
    expect(r.ok && resolveInterfaces(r.config)).toMatchObject({ interfaces: [{ name: 'eth0', maxUnicastPerSec: 5 }] });
    expect(r.ok && r.warnings).toEqual(read.warnings);
    // The same values from a JSON --config are refused: the interfaces of a radvd.conf were checked by its reader.
    expect(validateConfig(raSenderSpec, { file: { path: 'ra.json', values: read.values }, flags: {} })).toEqual({ ok: false, problems: ['radvd can only come from an imported file, not from ra.json'] });
  });

  it('refuses an unreadable radvd.conf (CONFIG_READ) and one with bad lines (CONFIG_INVALID, every line as FILE:LINE)', () => {
    const missing = join(dir, 'missing.conf');
    expect(() => radvdConfImport.read(missing)).toThrow(expect.objectContaining({ code: 'CONFIG_READ', message: expect.stringMatching(/^cannot read radvd\.conf .*missing\.conf: /) }));
    const bad = join(dir, 'bad.conf');
    writeFileSync(bad, conf('  AdvIntervalOpt sometimes;\n  AdvOnLink on;'));
    expect(() => radvdConfImport.read(bad)).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: 'invalid radvd.conf (2 problems):',
        details: [
          `${bad}:3: AdvIntervalOpt: bad value "sometimes" (expected on or off)`,
          `${bad}:4: unknown option AdvOnLink in interface eth0 (it belongs in an prefix block)`,
        ],
      }),
    );
  });

  const EXAMPLES = '/usr/share/doc/radvd/examples';
  const ppp0 = (name: string) => (name === 'ppp0' ? { ipv4: ['192.0.2.1'], ipv6: [] } : undefined);
  it.skipIf(skipWithout(`${EXAMPLES} (Debian radvd)`, existsSync(EXAMPLES)))("loads Debian's radvd examples whole, the 6to4 prefix derived from ppp0 with RFC 7526's warning", () => {
    const simple = parseRadvdConf(readFileSync(join(EXAMPLES, 'simple-radvd.conf'), 'utf8'), 'simple-radvd.conf');
    expect(simple.interfaces.map((i) => [i.name, i.prefixes.map((p) => p.prefix)])).toEqual([['eth0', ['2001:db8::/64']]]);
    const example = parseRadvdConf(readFileSync(join(EXAMPLES, 'radvd.conf.example'), 'utf8'), 'radvd.conf.example', ppp0);
    const [lo] = example.interfaces;
    expect(lo).toMatchObject({ name: 'lo', minIntervalSec: 3, maxIntervalSec: 10, routerPreference: 'low', routes: [{ prefix: '2001:db0:fff::/48', preference: 'high', lifetimeSec: 3600 }], dnssl: [{ domains: ['branch.example.com', 'example.com'], lifetimeSec: 30 }] });
    // 192.0.2.1 = c000:0201; the SLA ID 1234 stays (RFC 3056 §2).
    expect(lo!.prefixes.map((p) => p.prefix)).toEqual(['2001:db8:1:0::/64', '2002:c000:201:1234::/64']);
    expect(example.warnings).toEqual([expect.stringMatching(/^radvd\.conf\.example:82: Base6to4Interface ppp0: 6to4 is deprecated \(RFC 7526\).*advertising 2002:c000:201:1234::\/64 from ppp0's 192\.0\.2\.1$/)]);
    // Without an IPv4 address on ppp0 the prefix is left out until a reload, as radvd does.
    expect(parseRadvdConf(readFileSync(join(EXAMPLES, 'radvd.conf.example'), 'utf8'), 'x', () => undefined).interfaces[0]!.prefixes.map((p) => p.prefix)).toEqual(['2001:db8:1:0::/64']);
  });

  const FIXTURES = fileURLToPath(new URL('./fixtures/radvd/', import.meta.url));
  const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.conf'));
  it('loads every file of the radvd.conf fixture set (real-world files radvd 2.19 accepts, radvd test configs, newer syntax)', () => {
    expect(fixtures.length).toBe(16);
    for (const f of fixtures) {
      const r = validateConfig(raSenderSpec, sources({}, join(FIXTURES, f)));
      expect(r.ok ? [] : r.problems, f).toEqual([]);
    }
    // radvd's test_rdnss_long.conf: 45 s lifetimes beside the default 600 s interval; radvd logs it, ours warns.
    expect(warnings({}, join(FIXTURES, 'radvd-test_rdnss_long.conf'))).toEqual([
      expect.stringMatching(/^interface eth0: rdnss 2000::1 .*: lifetime 45 s is shorter than max interval 600 s/),
      expect.stringMatching(/^interface eth0: dnssl h\.piggy\.net: lifetime 45 s is shorter than max interval 600 s/),
      expect.stringMatching(/^interface eth0: rdnss 2000::1 .*: lifetime 45 s is below 180 s/),
      expect.stringMatching(/^interface eth0: dnssl h\.piggy\.net: lifetime 45 s is below 180 s/),
    ]);
  });

  const RADVD = '/usr/sbin/radvd';
  it.skipIf(skipWithout(`${RADVD} (Debian radvd)`, existsSync(RADVD)))('radvd 2.19 itself accepts the fixtures SOURCES.md says it accepts', () => {
    const accepted = [...readFileSync(join(FIXTURES, 'SOURCES.md'), 'utf8').matchAll(/^\| (\S+\.conf) \|.*\| accepts \|$/gm)].map((m) => m[1]!);
    expect(accepted.length).toBe(12);
    for (const f of accepted) expect(spawnSync(RADVD, ['--configtest', '-C', join(FIXTURES, f)], { encoding: 'utf8' }).status, f).toBe(0);
  });

  it("implements radvd's Mobile IPv6 file: H flag, Advertisement Interval, Home Agent Information, sub-3 s intervals", () => {
    const [s] = parseRadvdConf(readFileSync(join(FIXTURES, 'mipv6-home-agent.conf'), 'utf8'), 'm.conf').interfaces;
    expect(s).toMatchObject({ minIntervalSec: 1, maxIntervalSec: 3, more: { homeAgentFlag: true, advIntervalOpt: true, homeAgentInfo: { preference: 10, lifetimeSec: 1800, mobileRouterSupport: false } } });
    // AdvRouterAddr: the prefix field carries the home agent's address, host bits and all (RFC 6275 §7.2).
    expect(s!.prefixes[0]).toMatchObject({ prefix: '2001:db8:ffff:0::1000/64', routerAddress: true });
    expect(checkSettings(s!).errors).toEqual([]);
    const c = toContent(s!, { mac: new Uint8Array(6), autoPrefixes: [] });
    expect(c).toMatchObject({ homeAgent: true, advIntervalMs: 3000, homeAgentInfo: { preference: 10, lifetimeSec: 1800 } });
  });

  it("radvd's test1.conf: 6CO (CID masked to 4 bits, warned), ABRO, RemoveRoute off, DecrementLifetimes; no AdvSendAdvert, so nothing advertised", () => {
    const text = readFileSync(join(FIXTURES, 'radvd-test1.conf'), 'utf8').replace('AdvSendAdvert off;', 'AdvSendAdvert on;');
    const { interfaces, warnings: w } = parseRadvdConf(text, 't.conf');
    expect(interfaces[0]!.more).toMatchObject({ lowpanContexts: [{ contextLength: 50, compression: true, contextId: 4, lifetimeMin: 1000 }], abros: [{ address: 'fe80::a200:0:0:1', versionLow: 10, versionHigh: 2, lifetimeMin: 2 }] });
    expect(interfaces[0]!.routes.map((r) => r.removeOnExit)).toEqual([true, false, true]);
    expect(interfaces[0]!.prefixes.map((p) => p.decrementLifetimes === true)).toEqual([true, false, false]);
    expect(w).toEqual(expect.arrayContaining([expect.stringMatching(/^t\.conf:61: lowpanco AdvContextID 100 does not fit the 4-bit CID/)]));
    expect(w.filter((x) => x.includes('DecrementLifetimes'))).toEqual([]);
    expect(parseRadvdConf(readFileSync(join(FIXTURES, 'radvd-test1.conf'), 'utf8'), 't.conf').interfaces).toEqual([]);
  });

  it('newer radvd syntax: PREF64, captive portal, autoignoreprefixes, DNR, legacy RDNSS keys and host bits', () => {
    const [s] = parseRadvdConf(readFileSync(join(FIXTURES, 'radvd-2.20-options.conf'), 'utf8'), 'n.conf').interfaces;
    expect(s!.more).toMatchObject({ captivePortal: 'https://portal.example/api', autoExclude: ['fd00::/8'], pref64: [{ prefix: '64:ff9b::/96', lifetimeSec: 1800 }] });
    expect(s!.clients).toEqual(['fe80::1']);
    const dnr = parseRadvdConf(readFileSync(join(FIXTURES, 'radvd-test_dnr_svcparams.conf'), 'utf8').replace('{\n\tMax', '{\n\tAdvSendAdvert on;\n\tMax'), 'd.conf').interfaces[0]!;
    expect(dnr.more?.dnr).toEqual([{ adn: 'doh1.example.com', priority: 100, lifetimeSec: 1800, addresses: ['2001:db8::1'], alpn: ['h2', 'h3'], port: 443, dohpath: '/dns-query{?dns}' }]);
    const legacy = parseRadvdConf(conf('  RDNSS 2001:db8::53 { AdvRDNSSPreference 8; AdvRDNSSOpen on; };\n  prefix 2001:db8:1::1/64 { };\n  route 2001:db8:2::1/48 { };'), 'l.conf');
    expect(legacy.interfaces[0]!.prefixes[0]!.prefix).toBe('2001:db8:1::/64');
    expect(legacy.interfaces[0]!.routes[0]!.prefix).toBe('2001:db8:2::/48');
    expect(legacy.warnings).toEqual([
      'l.conf:3: AdvRDNSSPreference 8: deprecated and ignored by radvd too (RFC 6106 drafts); not sent',
      'l.conf:3: AdvRDNSSOpen on: deprecated and ignored by radvd too (RFC 6106 drafts); not sent',
      "l.conf:3: RDNSS without AdvRDNSSLifetime: lifetime 1800 s (3 x MaxRtrAdvInterval, RFC 8106 §5.1) where radvd 2.19 sends 600 s (1 x): a host that misses one RA keeps the server; write \"AdvRDNSSLifetime 600;\" for radvd's value",
      'l.conf:4: prefix 2001:db8:1::1/64 has host bits set: advertised as 2001:db8:1::/64, as radvd does',
      'l.conf:5: route 2001:db8:2::1/48 has host bits set: advertised as 2001:db8:2::/48, the bits past the length must be zero (RFC 4191 §2.3, RFC 8781 §4); radvd sends them as written',
    ]);
  });

  it('a file with no AdvSendAdvert-on interface loads (runs, advertising nothing) and says so', () => {
    const file = join(dir, 'off.conf');
    writeFileSync(file, 'interface eth1 { MaxRtrAdvInterval 10; };\n');
    const r = validateConfig(raSenderSpec, sources({}, file));
    expect(r.ok && resolveInterfaces(r.config)).toMatchObject({ interfaces: [], findings: { errors: [], warnings: [`${file}: no interface with AdvSendAdvert on: running, advertising nothing until a reload brings one`] } });
    const status = { agent: 'ra-sender', instance: null, pid: 1, uptimeSec: 1, reloads: 0, lifecycle: 'running' as const, interfaces: [], drops: {}, ioErrors: {}, driver: { batches: 0, timeouts: 0, errors: 0 } };
    expect(formatRaSenderStatus(status)).toEqual(['no interface to advertise on (a radvd.conf with none set to AdvSendAdvert on); a reload can add one']);
  });

  it('MinDelayBetweenRAs above MinRtrAdvInterval is accepted with a warning, as radvd accepts it', () => {
    expect(warnings({ interface: 'eth0', 'max-interval': '60', 'min-interval': '20', 'min-delay-between-ras': '25' })).toEqual([expect.stringMatching(/^interface eth0: min delay between RAs \(25 s\) is above the min interval \(20 s\): periodic RAs still follow/)]);
  });

  it('warns when lifetimes fall below what Android and accept_ra_min_lft hosts accept (180 s), saying what to set', () => {
    expect(warnings({ interface: 'eth0', 'max-interval': '10', rdnss: '2001:db8::53', 'rdnss-lifetime': '100' })).toEqual([
      expect.stringMatching(/^interface eth0: router lifetime 30 s is below 180 s: Android \(accept_ra_min_lft = 180\).*no default route; set the router lifetime \(AdvDefaultLifetime, --router-lifetime\) to at least 180 s \(its default is 3 x max interval: a max interval of at least 60 s gives 180 s\)$/),
      expect.stringMatching(/^interface eth0: rdnss 2001:db8::53: lifetime 100 s is below 180 s: .*set AdvRDNSSLifetime \/ --rdnss-lifetime to at least 180 s$/),
    ]);
    expect(warnings({ interface: 'eth0', 'max-interval': '60' })).toEqual([]);
    expect(warnings({ interface: 'eth0', 'max-interval': '10', 'router-lifetime': '0' })).toEqual([]);
  });

  it('PREF64, captive portal and DNR from flags / JSON, checked', () => {
    const r = validateConfig(raSenderSpec, { flags: { interface: 'eth0', pref64: '64:ff9b::/96', 'captive-portal': 'https://cp.example/api', dnr: '[{"adn":"doh.example","addresses":["2001:db8::53"],"alpn":["h2"]}]' } });
    expect(r.ok && resolveInterfaces(r.config)).toMatchObject({ interfaces: [{ more: { pref64: [{ prefix: '64:ff9b::/96', lifetimeSec: 1800 }], captivePortal: 'https://cp.example/api', dnr: [{ adn: 'doh.example', priority: 1, addresses: ['2001:db8::53'], alpn: ['h2'], lifetimeSec: 1800 }] } }] });
    expect(check({ interface: 'eth0', pref64: '64:ff9b::/80' })).toEqual(['interface eth0: pref64 64:ff9b::/80: the length must be 96, 64, 56, 48, 40 or 32 (RFC 6052 §2.2, RFC 8781 §4)']);
    expect(check({ interface: 'eth0', 'captive-portal': 'http://cp.example/' })).toEqual(['interface eth0: captive portal "http://cp.example/" must be an https:// URI of printable ASCII (RFC 8910 §2, RFC 8908 §2)']);
    expect(check({ interface: 'eth0', dnr: '[{"adn":"doh.example","alpn":["h2"]}]' })).toEqual(['interface eth0: dnr doh.example: SvcParams (alpn, port, dohpath) need at least one address (RFC 9463 §6.1 ADN-only mode carries none)']);
  });
});

describe('ra-sender binary', () => {
  const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
  const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const MAIN = resolve(ROOT, pkg.bin['ra-sender']!);
  const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });

  it("documents the issue's flags in --help", () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    for (const f of ['--interface', '--prefix', '--router-lifetime', '--mtu', '--managed', '--other', '--rdnss', '--dnssl', '--route', '--min-interval', '--max-interval', '--config', '--radvd-conf', '--check-config']) expect(r.stdout).toContain(f);
  });

  it('--check-config prints "config ok" or every problem, exit 0 / 1', () => {
    expect(run('--check-config', '--interface', 'eth0', '--prefix', 'auto')).toMatchObject({ status: 0, stdout: 'config ok\n' });
    const bad = run('--check-config', '--interface', 'eth0', '--prefix', '2001:db8::1/64', '--mtu', '1000');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('has host bits set (did you mean 2001:db8::/64?)');
    expect(bad.stderr).toContain('mtu (1000) must be 0 (no MTU option) or at least 1280');
  });

  it('--check-config --radvd-conf imports the file: "config ok" with its warnings, or its bad lines as FILE:LINE', () => {
    const good = join(dir, 'good-radvd.conf');
    writeFileSync(good, 'interface eth0 {\n  AdvSendAdvert on;\n  prefix 2001:db8:1::/64 { };\n};\ninterface eth1 { };\n');
    expect(run('--check-config', '--radvd-conf', good)).toMatchObject({ status: 0, stdout: 'config ok\n', stderr: `warning: ${good}: interface eth1: AdvSendAdvert is off (radvd's default): not advertised\n` });
    const bad = join(dir, 'bad-radvd.conf');
    writeFileSync(bad, 'interface eth0 {\n  AdvSendAdvert on;\n  AdvOnLink on;\n};\n');
    const r = run('--check-config', '--radvd-conf', bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${bad}:3: unknown option AdvOnLink in interface eth0`);
  });

  const EXAMPLE = '/usr/share/doc/radvd/examples/radvd.conf.example';
  it.skipIf(skipWithout(`${EXAMPLE} (Debian radvd)`, existsSync(EXAMPLE)))("--check-config on radvd's own example: config ok, and every warning (6to4, short lifetimes) printed", () => {
    const r = run('--check-config', '--radvd-conf', EXAMPLE);
    expect(r).toMatchObject({ status: 0, stdout: 'config ok\n' });
    expect(r.stderr).toMatch(/^warning: .*radvd\.conf\.example:82: Base6to4Interface ppp0: 6to4 is deprecated \(RFC 7526\)/m);
    expect(r.stderr).toMatch(/^warning: interface lo: router lifetime 30 s is below 180 s/m);
    expect(r.stderr).toMatch(/^warning: interface lo: rdnss 2001:db8::1 2001:db8::2: lifetime 30 s is below 180 s/m);
  });
});
