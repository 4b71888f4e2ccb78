// A link without link-layer addresses (issue 19 point 6): a TUN pair, as root in two namespaces of our own,
// joined by this test, which copies every packet from one device to the other (a point-to-point link):
//
//   hr2-ta: ra-sender on hr2t0 (fe80::1)  ⇄ [ this test: relay ] ⇄  hr2-tb: hr2t1 (fe80::2), a plain Linux host
//
// ra-sender runs with `--unicast-only --clients fe80::2`: every RA must be a unicast to fe80::2 (never to
// ff02::1), hop limit 255, with no Source Link-Layer Address option (a TUN has no link-layer address), and
// the host's kernel must autoconfigure from it (SLAAC on a TUN). An RS from a host not listed is not answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { distFile, missingDist } from '../../lab/paths.js';
import type { TunDevice } from '../../src/io/ports.js';
import { openTun } from '../../src/io/tun-linux.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { decodeIpv6, encodeIpv6, NEXT_HEADER } from '../../src/wire/ipv6.js';
import { ipv6UpperChecksum } from '../../src/wire/checksum.js';
import { decodeIcmpv6 } from '../../src/wire/icmpv6.js';
import { decodeNdisc } from '../../src/wire/ndisc.js';
import type { InterfaceStatus } from '../../agents/ra-sender/status.js';
import { logged, spawnAgent, stopAgent, type AgentRun } from './agent-process.js';
import { addNetns, deleteNetns, ip, waitUntil } from './io-netns.js';

const NS_A = 'hr2-ta';
const NS_B = 'hr2-tb';
const MAIN = distFile('agents/ra-sender/main.js');
const runs: AgentRun[] = [];
let a: TunDevice;
let b: TunDevice;

interface SeenRa {
  readonly src: string;
  readonly dst: string;
  readonly hopLimit: number;
  readonly options: string[];
}
const ras: SeenRa[] = [];

/** Copies every packet read from `from` into `to`, noting the RAs. */
function relay(from: TunDevice, to: TunDevice): void {
  from.onBatch((batch) => {
    for (let n = 0; n < batch.count; n++) {
      const packet = batch.data.subarray(batch.offset(n), batch.offset(n) + batch.length(n));
      const { header, payload } = decodeIpv6(packet);
      if (header.nextHeader === NEXT_HEADER.ICMPV6 && payload[0] === 134) {
        const ra = decodeNdisc(decodeIcmpv6(payload));
        ras.push({ src: formatIpv6(header.src), dst: formatIpv6(header.dst), hopLimit: header.hopLimit, options: ra.options.map((o) => o.kind) });
      }
      to.write(packet);
    }
  });
}

function routerSolicitation(src: Uint8Array): Uint8Array {
  const dst = parseIpv6('ff02::2');
  const msg = new Uint8Array(8);
  msg[0] = 133;
  const sum = ipv6UpperChecksum(src, dst, NEXT_HEADER.ICMPV6, msg);
  msg[2] = sum >> 8;
  msg[3] = sum & 0xff;
  return encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.ICMPV6, hopLimit: 255, src, dst }, msg);
}

beforeAll(() => {
  expect(missingDist('agents/ra-sender/main.js')).toBeUndefined();
  addNetns(NS_A);
  addNetns(NS_B);
  execFileSync('ip', ['netns', 'exec', NS_A, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
  execFileSync('ip', ['netns', 'exec', NS_B, 'sysctl', '-qw', 'net.ipv6.conf.default.accept_ra=1', 'net.ipv6.conf.default.autoconf=1']);
  a = openTun({ name: 'hr2t0', netns: NS_A, mtu: 1400 });
  b = openTun({ name: 'hr2t1', netns: NS_B, mtu: 1400 });
  relay(a, b);
  relay(b, a);
  a.addAddress(parseIpv6('fe80::1'), 64);
  b.addAddress(parseIpv6('fe80::2'), 64);
  a.setUp(true);
  b.setUp(true);
});

afterAll(async () => {
  for (const r of runs) await stopAgent(r);
  a?.close();
  b?.close();
  deleteNetns(NS_A);
  deleteNetns(NS_B);
});

const status = (): InterfaceStatus => (JSON.parse(execFileSync('ip', ['netns', 'exec', NS_A, process.execPath, MAIN, 'status', '--json'], { encoding: 'utf8' })) as { interfaces: InterfaceStatus[] }).interfaces[0]!;
const hostAddresses = (): string[] => ip('-n', NS_B, '-6', '-o', 'addr', 'show', 'dev', 'hr2t1', 'scope', 'global').split('\n').filter(Boolean);

describe('ra-sender on a TUN pair (no link-layer address, unicast only)', () => {
  it('sends unicast RAs without SLLAO to the listed client only, and the host autoconfigures from them', async () => {
    const run = spawnAgent(['ip', 'netns', 'exec', NS_A, process.execPath, MAIN, '--interface', 'hr2t0', '--prefix', '2001:db8:7::/64', '--unicast-only', '--clients', 'fe80::2', '--min-interval', '3', '--max-interval', '4']);
    runs.push(run);
    await logged(run, 'advertising');
    await waitUntil(() => hostAddresses().some((l) => l.includes('inet6 2001:db8:7:')), 30_000, 'a SLAAC address on the host behind the TUN');
    // An RS from a host not in the clients list gets nothing.
    a.write(routerSolicitation(parseIpv6('fe80::3'))); // into the router's kernel, as if from the link
    await waitUntil(() => (status().drops['rs-source-not-in-clients'] ?? 0) >= 1, 10_000, 'the unlisted RS dropped');
    expect(ras.length).toBeGreaterThan(0);
    for (const ra of ras) {
      expect(ra.dst).toBe('fe80::2');
      expect(ra.hopLimit).toBe(255);
      expect(ra.src).toMatch(/^fe80:/);
      expect(ra.options).toEqual(['prefix-info']);
    }
    const s = status();
    expect(s.state).toBe('advertising');
    expect(s.lastRa).toMatchObject({ options: [{ option: 'prefix', prefix: '2001:db8:7::/64' }] });
    expect(await stopAgent(run)).toBe(0);
  }, 90_000);
});
