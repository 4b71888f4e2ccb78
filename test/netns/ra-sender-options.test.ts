// ra-sender's RA options beyond RFC 4861/8106 on a real link, read by independent decoders (issue 19 point 3):
//
//   hr1-ra (ra-sender on hr1-a) ── veth ── hr1-h (hr1-b: tshark, rdisc6)
//
// Once from a radvd.conf (radvd's syntax: AdvHomeAgentFlag, AdvIntervalOpt, nat64prefix, AdvCaptivePortalAPI,
// DNR) and once from ra-sender's own flags (--pref64, --captive-portal, --dnr): tshark 4.0 decodes the H flag,
// the Advertisement Interval, PREF64 and the captive portal field by field and lists the DNR option by its type
// (144; it has no DNR dissector); rdisc6 reports the H flag ("Mobile home agent"). Namespaces are this file's
// own (hr1- prefix), removed after; processes are ended by PID.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addNetns, deleteNetns, ip, waitUntil } from './io-netns.js';
import { skipWithout } from '../require.js';
import { distFile, missingDist } from '../../lab/paths.js';

const MAIN = distFile('agents/ra-sender/main.js');
const RA = 'hr1-ra';
const HOST = 'hr1-h';
const dir = mkdtempSync('/tmp/hr1-ra-options-');
chmodSync(dir, 0o755);
const children: ChildProcess[] = [];

beforeAll(() => {
  const missing = missingDist('agents/ra-sender/main.js');
  if (missing !== undefined) throw new Error(missing);
  addNetns(RA);
  addNetns(HOST);
  ip('-n', RA, 'link', 'add', 'hr1-a', 'type', 'veth', 'peer', 'name', 'hr1-b', 'netns', HOST);
  for (const [ns, dev] of [[RA, 'hr1-a'], [HOST, 'hr1-b']] as const) {
    // No DAD: the link-local address is usable at once, so the first RA goes out without waiting.
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${dev}.accept_dad=0`]);
    ip('-n', ns, 'link', 'set', dev, 'up');
  }
  execFileSync('ip', ['netns', 'exec', RA, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
});

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await new Promise((res) => (c.exitCode !== null || c.signalCode !== null ? res(undefined) : c.on('close', res)));
  }
});

afterAll(() => {
  deleteNetns(RA);
  deleteNetns(HOST);
});

function run(ns: string, argv: string[]): { child: ChildProcess; out: string[] } {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const out: string[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => out.push(b.toString()));
  return { child, out };
}

const FIELDS = ['ipv6.src', 'icmpv6.nd.ra.flag.h', 'icmpv6.opt.type', 'icmpv6.opt.advertisement_interval', 'icmpv6.opt.pref64.prefix', 'icmpv6.opt.pref64.plc', 'icmpv6.opt.pref64.scaled_lifetime', 'icmpv6.opt.captive_portal'];

/** Starts tshark on the host side, then ra-sender with `args`; the fields of the first RA tshark sees. */
async function firstRa(args: string[]): Promise<Record<string, string>> {
  const tshark = run(HOST, ['tshark', '-l', '-n', '-i', 'hr1-b', '-c', '1', '-f', 'icmp6 and ip6[40] == 134', '-T', 'fields', '-E', 'separator=|', ...FIELDS.flatMap((f) => ['-e', f])]);
  await waitUntil(() => tshark.out.join('').includes('Capturing on'), 60_000, 'tshark to capture');
  run(RA, [process.execPath, MAIN, ...args]);
  await waitUntil(() => tshark.child.exitCode !== null, 60_000, 'an RA on hr1-b');
  const line = tshark.out.join('').split('\n').find((l) => l.includes('|'))!;
  return Object.fromEntries(line.split('|').map((v, i) => [FIELDS[i]!, v]));
}

describe.skipIf(skipWithout('root (network namespaces)', process.getuid?.() === 0))('ra-sender options decoded by tshark and rdisc6', () => {
  it('from a radvd.conf: H flag, Advertisement Interval, PREF64, captive portal, DNR', async () => {
    const conf = join(dir, 'radvd.conf');
    writeFileSync(
      conf,
      [
        'interface hr1-a {',
        '  AdvSendAdvert on;',
        '  MaxRtrAdvInterval 60;',
        '  AdvHomeAgentFlag on;',
        '  AdvIntervalOpt on;',
        '  AdvCaptivePortalAPI "https://portal.example/api";',
        '  prefix 2001:db8:19::/64 { };',
        '  nat64prefix 64:ff9b::/96 { AdvValidLifetime 1800; };',
        '  DNR resolver.example { AdvDNRPriority 1; AdvDNRLifetime 1800; AdvDNRAddr 2001:db8:19::53; AdvDNRSvcAlpn "h2"; };',
        '};',
        '',
      ].join('\n'),
      { mode: 0o644 },
    );
    const ra = await firstRa(['--radvd-conf', conf]);
    expect(ra['icmpv6.nd.ra.flag.h']).toMatch(/^(1|True)$/);
    expect(ra['icmpv6.opt.advertisement_interval']).toBe('60000');
    expect(ra['icmpv6.opt.pref64.prefix']).toBe('64:ff9b::');
    expect(ra['icmpv6.opt.pref64.plc']).toBe('0x0000'); // PLC 0 = /96 (tshark prints the masked field)
    expect(ra['icmpv6.opt.pref64.scaled_lifetime']).toBe('225');
    expect(ra['icmpv6.opt.captive_portal']).toBe('https://portal.example/api');
    // Types in order: SLLAO 1, Advertisement Interval 7, PIO 3, PREF64 38, DNR 144, captive portal 37.
    expect(ra['icmpv6.opt.type']).toBe('1,7,3,38,144,37');
    // rdisc6 (ndisc6 1.0.5) decodes the H flag; it skips the options it does not know.
    const rdisc6 = execFileSync('ip', ['netns', 'exec', HOST, 'rdisc6', '-1', '-w', '5000', 'hr1-b'], { encoding: 'utf8' });
    expect(rdisc6).toMatch(/Mobile home agent\s*:\s*Yes/);
    expect(rdisc6).toMatch(/Prefix\s*:\s*2001:db8:19::\/64/);
  });

  it('AdvRASrcAddress: the RA leaves from the listed address the interface holds, not the kernel\'s choice', async () => {
    execFileSync('ip', ['-n', RA, '-6', 'addr', 'add', 'fe80::1234/64', 'dev', 'hr1-a', 'nodad']);
    try {
      const conf = join(dir, 'radvd-src.conf');
      writeFileSync(conf, 'interface hr1-a {\n  AdvSendAdvert on;\n  MaxRtrAdvInterval 60;\n  AdvRASrcAddress { fe80::99; fe80::1234; };\n  prefix 2001:db8:19::/64 { };\n};\n', { mode: 0o644 });
      expect((await firstRa(['--radvd-conf', conf]))['ipv6.src']).toBe('fe80::1234');
    } finally {
      execFileSync('ip', ['-n', RA, '-6', 'addr', 'del', 'fe80::1234/64', 'dev', 'hr1-a']);
    }
  });

  it("from ra-sender's own flags: --pref64, --captive-portal, --dnr", async () => {
    const ra = await firstRa(['--interface', 'hr1-a', '--prefix', '2001:db8:19::/64', '--max-interval', '60', '--pref64', '2001:db8:64::/48', '--pref64-lifetime', '600', '--captive-portal', 'https://cp.example/', '--dnr', '[{"adn":"doh.example","addresses":["2001:db8:19::53"],"alpn":["h2"],"dohpath":"/dns-query{?dns}"}]']);
    expect(ra['icmpv6.nd.ra.flag.h']).toMatch(/^(0|False)$/);
    expect(ra['icmpv6.opt.pref64.prefix']).toBe('2001:db8:64::');
    expect(ra['icmpv6.opt.pref64.plc']).toBe('0x0003'); // PLC 3 = /48
    expect(ra['icmpv6.opt.pref64.scaled_lifetime']).toBe('75');
    expect(ra['icmpv6.opt.captive_portal']).toBe('https://cp.example/');
    expect(ra['icmpv6.opt.type']).toBe('1,3,38,144,37');
  });
});
