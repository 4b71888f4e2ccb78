// Self-test of the lab's NATs: each behaves as its name says (RFC 4787 mapping and filtering, the NAT types
// of RFC 4380 §2). Reflectors run on the server's two addresses and on the probe host; the client behind
// each NAT learns its mapped endpoint from them.
//
// Filtering: the client talks to 198.18.0.10:4000 only, then 198.18.0.10 sends from another port and the
// probe host (never contacted) sends too; which of those reach the client tells the filtering behaviour.
// Mapping: from a fresh port the client asks .10, .11 and the probe host; equal mapped ports mean
// endpoint-independent mapping, different ones a symmetric NAT.

import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { natAction } from '../../lab/nat-zoo.js';
import { ADDR, JsonLines, NAT_SITES, udpProbe, useLab } from './lab.js';

const lab = useLab();
const REFLECT_PORT = 4000;
const reflectors: ChildProcess[] = [];

beforeAll(async () => {
  const servers = lab.spawn('server', udpProbe('reflect', '--bind', `${ADDR.server}:${REFLECT_PORT}`, '--bind', `${ADDR.server2}:${REFLECT_PORT}`));
  const probe = lab.spawn('probe', udpProbe('reflect', '--bind', `${ADDR.probe}:${REFLECT_PORT}`));
  reflectors.push(servers, probe);
  await Promise.all(reflectors.map((c) => new JsonLines(c).next('ready')));
});

afterAll(() => {
  for (const c of reflectors) c.kill('SIGKILL');
});

/**
 * What each kind must do, by RFC 4787's definitions (§4.1 mapping, §5 filtering) under RFC 4380 §2's names:
 * written out here, not read from the lab's own table (lab/nat.ts), so a wrong table fails this test.
 */
const EXPECTED: Readonly<Record<string, { sameMappingForEveryDestination: boolean; admitsOtherPortSameAddress: boolean; admitsOtherAddress: boolean }>> = {
  'full-cone': { sameMappingForEveryDestination: true, admitsOtherPortSameAddress: true, admitsOtherAddress: true },
  'address-restricted': { sameMappingForEveryDestination: true, admitsOtherPortSameAddress: true, admitsOtherAddress: false },
  'port-restricted': { sameMappingForEveryDestination: true, admitsOtherPortSameAddress: false, admitsOtherAddress: false },
  symmetric: { sameMappingForEveryDestination: false, admitsOtherPortSameAddress: false, admitsOtherAddress: false },
};

/**
 * The client port of one check at one site: distinct per site and check, so no check inherits another's NAT
 * state, and below Linux's ephemeral range (32768-60999), so no agent's socket in the lab holds it.
 */
const clientPort = (site: number, check: 'filter' | 'map'): number => 21000 + site * 10 + (check === 'map' ? 1 : 0);

describe.each(NAT_SITES.map((s, i) => [s.nat, s, i] as const))('%s', (_name, site, index) => {
  const expected = EXPECTED[site.kind]!;

  it(`filters like a ${site.kind} NAT`, async () => {
    const port = clientPort(index, 'filter');
    const target = `${ADDR.server}:${REFLECT_PORT}`;
    const client = new JsonLines(lab.spawn(site.client, udpProbe('map', '--port', String(port), '--to', target, '--listen-ms', '1200')));
    const mapped = ((await client.next('mapped')).mapped as Record<string, string>)[target]!;
    expect(mapped).toMatch(new RegExp(`^${site.outside.replaceAll('.', '\\.')}:\\d+$`));

    await Promise.all([
      lab.execOk('server', udpProbe('send', '--port', String(REFLECT_PORT + 1), '--to', mapped, '--text', 'other-port')),
      lab.execOk('probe', udpProbe('send', '--port', String(REFLECT_PORT + 2), '--to', mapped, '--text', 'other-address')),
    ]);
    await client.next('done');
    const got = new Set(client.lines.filter((l) => 'text' in l).map((l) => l.text));
    expect({ otherPort: got.has('other-port'), otherAddress: got.has('other-address') }).toEqual({
      otherPort: expected.admitsOtherPortSameAddress,
      otherAddress: expected.admitsOtherAddress,
    });
  });

  it(`maps like a ${site.kind} NAT`, async () => {
    const targets = [ADDR.server, ADDR.server2, ADDR.probe].map((a) => `${a}:${REFLECT_PORT}`);
    const client = new JsonLines(lab.spawn(site.client, udpProbe('map', '--port', String(clientPort(index, 'map')), ...targets.flatMap((t) => ['--to', t]), '--listen-ms', '0')));
    const mapped = (await client.next('mapped')).mapped as Record<string, string>;
    const ports = targets.map((t) => mapped[t]);
    for (const m of ports) expect(m).toMatch(new RegExp(`^${site.outside.replaceAll('.', '\\.')}:\\d+$`));
    expect(new Set(ports).size === 1).toBe(expected.sameMappingForEveryDestination);
  });
});

describe('mlan', () => {
  it('carries multicast from the advertiser node to both listeners (TTL 15, like rasadv)', async () => {
    const group = `${ADDR.rasadvGroup}`;
    const port = String(ADDR.rasadvPort + 1); // not 9753: a rasadv occupant may run
    const listeners = [
      new JsonLines(lab.spawn('lst1', udpProbe('listen', '--port', port, '--group', group, '--iface', ADDR.lst1, '--ms', '1500'))),
      new JsonLines(lab.spawn('lst2', udpProbe('listen', '--port', port, '--group', group, '--iface', ADDR.lst2, '--ms', '1500'))),
    ];
    await Promise.all(listeners.map((l) => l.next('ready')));
    await lab.execOk('adv', udpProbe('send', '--to', `${group}:${port}`, '--ttl', '15', '--iface', ADDR.adv, '--text', 'Hostname=LAB\n'));
    for (const l of listeners) expect((await l.next('from')).from).toMatch(new RegExp(`^${ADDR.adv.replaceAll('.', '\\.')}:`));
  });
});

/**
 * The NAT zoo (`teredo-lab up --zoo`, lab/nat-zoo.ts), in a lab of its own brought up for these tests: each
 * site's behaviour beside its kind, seen with the same probes. Expected ports and addresses are written out
 * here (RFC 6598's 100.64/10 behind 198.18.0.114, the sequential window from 20000), not read from the lab.
 */
describe('zoo', () => {
  let zoo: Lab;
  const zooReflectors: ChildProcess[] = [];
  const server = `${ADDR.server}:${REFLECT_PORT}`;
  const three = [ADDR.server, ADDR.server2, ADDR.probe].map((a) => `${a}:${REFLECT_PORT}`);
  const mapFrom = async (node: string, port: number, targets: readonly string[], listenMs = 0): Promise<{ ports: number[]; addrs: string[]; probe: JsonLines }> => {
    const probe = new JsonLines(zoo.spawn(node, udpProbe('map', '--port', String(port), ...targets.flatMap((t) => ['--to', t]), '--listen-ms', String(listenMs))));
    const mapped = (await probe.next('mapped')).mapped as Record<string, string>;
    const eps = targets.map((t) => mapped[t]!);
    return { ports: eps.map((e) => Number(e.split(':')[1])), addrs: eps.map((e) => e.split(':')[0]!), probe };
  };
  const received = (p: JsonLines): string[] => p.lines.filter((l) => 'text' in l).map((l) => String(l.text));
  /** Resolves when a `listen` probe has exited (after its --ms), or after timeoutMs. */
  const exited = (p: JsonLines, timeoutMs: number): Promise<unknown> => p.next('exit', timeoutMs).catch(() => undefined);

  beforeAll(async () => {
    zoo = await Lab.up({ zoo: true, ownerPid: process.pid, install: false });
    zooReflectors.push(
      zoo.spawn('server', udpProbe('reflect', '--bind', `${ADDR.server}:${REFLECT_PORT}`, '--bind', `${ADDR.server2}:${REFLECT_PORT}`)),
      zoo.spawn('probe', udpProbe('reflect', '--bind', `${ADDR.probe}:${REFLECT_PORT}`)),
    );
    await Promise.all(zooReflectors.map((c) => new JsonLines(c).next('ready')));
  }, 60_000);

  afterAll(async () => {
    for (const c of zooReflectors) c.kill('SIGKILL');
    await zoo?.down();
  });

  it('nat-pf forwards its UDP port 3545 to cli-pf: unsolicited datagrams from anyone get in, to other ports not', async () => {
    const listener = new JsonLines(zoo.spawn('cli-pf', udpProbe('listen', '--port', '3545', '--ms', '1500')));
    const other = new JsonLines(zoo.spawn('cli-pf', udpProbe('listen', '--port', '3546', '--ms', '1500')));
    await Promise.all([listener.next('ready'), other.next('ready')]);
    await zoo.execOk('probe', udpProbe('send', '--to', '198.18.0.111:3545', '--text', 'forwarded'));
    await zoo.execOk('probe', udpProbe('send', '--to', '198.18.0.111:3546', '--text', 'not-forwarded'));
    await Promise.all([exited(listener, 3000), exited(other, 3000)]);
    expect(received(listener)).toContain('forwarded');
    expect(received(other)).toEqual([]);
    // The forwarded port keeps its number outward (masquerade keeps a free port): the cone Teredo needs.
    expect((await mapFrom('cli-pf', 3545, three)).ports).toEqual([3545, 3545, 3545]);
  });

  it('nat-hp hairpins: cli-hp reaches cli-hp2 at its public mapping and is seen at its own; nat-nhp drops it', async () => {
    for (const [site, outside, expectIn] of [['hp', '198.18.0.112', true], ['nhp', '198.18.0.113', false]] as const) {
      const { probe } = await mapFrom(`cli-${site}2`, 22000, [server], 1500);
      await zoo.execOk(`cli-${site}`, udpProbe('send', '--port', '22001', '--to', `${outside}:22000`, '--text', `hairpin-${site}`));
      await probe.next('done');
      const from = probe.lines.filter((l) => l.text === `hairpin-${site}`).map((l) => l.from);
      expect(from.length > 0).toBe(expectIn);
      if (expectIn) expect(from[0]).toBe(`${outside}:22001`);
    }
  });

  it('nat-cgn sits behind a carrier-grade NAT: mapped to the carrier 198.18.0.114, endpoint-independent, home WAN in 100.64/10', async () => {
    const { ports, addrs } = await mapFrom('cli-cgn', 22010, three);
    expect(addrs).toEqual(['198.18.0.114', '198.18.0.114', '198.18.0.114']);
    expect(new Set(ports).size).toBe(1);
    expect((await zoo.execOk('nat-cgn', ['ip', '-4', 'addr'])).stdout).toMatch(/inet 100\.64\.0\.2\/10/);
  });

  it('nat-seq is symmetric with sequential ports; nat-pps keeps the port for the first destination, then counts', async () => {
    const seq = (await mapFrom('cli-seq', 22020, three)).ports;
    expect(seq[1]! - seq[0]!).toBe(1);
    expect(seq[2]! - seq[1]!).toBe(1);
    expect(seq[0]).toBeGreaterThanOrEqual(20000);
    const pps = (await mapFrom('cli-pps', 22021, three)).ports;
    expect(pps[0]).toBe(22021);
    expect(pps[2]! - pps[1]!).toBe(1);
    expect(pps[1]).not.toBe(22021);
  });

  it('nat-t30 forgets a UDP mapping idle for 30 s that nat-prc2-like NATs keep (both saw replies over > 2 s)', async () => {
    // Two exchanges 3 s apart make the flow a "stream" to conntrack (replied, older than 2 s): 120 s by default.
    const sites = [['cli-t30', 22030], ['cli-blk', 22031]] as const; // nat-blk (open) is a default port-restricted NAT
    const first = await Promise.all(sites.map(([n, p]) => mapFrom(n, p, [server])));
    await new Promise((r) => setTimeout(r, 3000));
    await Promise.all(sites.map(([n, p]) => mapFrom(n, p, [server])));
    await new Promise((r) => setTimeout(r, 35_000));
    const listeners = sites.map(([n, p]) => new JsonLines(zoo.spawn(n, udpProbe('listen', '--port', String(p), '--ms', '1500'))));
    await Promise.all(listeners.map((l) => l.next('ready')));
    for (const f of first) await zoo.execOk('server', udpProbe('send', '--port', String(REFLECT_PORT), '--to', `${f.addrs[0]}:${f.ports[0]}`, '--text', 'late'));
    await Promise.all(listeners.map((l) => exited(l, 2500)));
    expect(listeners.map((l) => received(l).includes('late'))).toEqual([false, true]);
  }, 60_000);

  it('nat-rb maps endpoint-independently and, after `reboot`, maps the same inside endpoint to a new port', async () => {
    const before = (await mapFrom('cli-rb', 22040, three)).ports;
    expect(new Set(before).size).toBe(1);
    await natAction(zoo, 'nat-rb', 'reboot');
    const after = (await mapFrom('cli-rb', 22040, three)).ports;
    expect(new Set(after).size).toBe(1);
    expect(after[0]).not.toBe(before[0]);
  });

  it('nat-blk blocks all UDP on `block-udp` and passes it again on `open-udp`', async () => {
    await natAction(zoo, 'nat-blk', 'block-udp');
    expect((await mapFrom('cli-blk', 22050, [server])).ports[0]).toBeNaN(); // "no answer"
    await natAction(zoo, 'nat-blk', 'open-udp');
    expect((await mapFrom('cli-blk', 22051, [server])).addrs[0]).toBe('198.18.0.119');
  });

  it('nat-loss drops some, not all, of 400 datagrams (5 % each way)', async () => {
    const listener = new JsonLines(zoo.spawn('probe', udpProbe('listen', '--port', '22060', '--ms', '4000')));
    await listener.next('ready');
    await zoo.execOk('cli-loss', udpProbe('send', '--to', `${ADDR.probe}:22060`, '--count', '400', '--gap-ms', '2', '--text', 'x'));
    await exited(listener, 5000);
    const n = received(listener).length;
    // Binomial(400, 0.95): mean 380, sd 4.4; 400 has probability 1e-9, fewer than 330 far less.
    expect(n).toBeLessThan(400);
    expect(n).toBeGreaterThan(330);
  });

  it('nat-loss holds each packet 40 ms each way: 200 pings through it take 80 ms or more, about 10 % lost', async () => {
    const r = await zoo.exec('cli-loss', ['ping', '-n', '-q', '-c', '200', '-i', '0.01', '-W', '2', ADDR.probe]);
    const counts = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
    const rtt = /rtt min\/avg\/max\/mdev = ([\d.]+)\//.exec(r.stdout);
    expect(counts, r.stdout).not.toBeNull();
    expect(rtt, r.stdout).not.toBeNull();
    // The delay line's lower bound, not a bound on our speed: 40 ms towards the probe host and 40 ms back.
    expect(Number(rtt![1])).toBeGreaterThanOrEqual(80);
    // A ping survives 5 % loss twice: 0.95² ≈ 90 %. Binomial(200, 0.0975): mean 19.5 lost, sd 4.2.
    const lost = Number(counts![1]) - Number(counts![2]);
    expect(Number(counts![1])).toBe(200);
    expect(lost).toBeGreaterThan(2);
    expect(lost).toBeLessThan(45);
  });

  it('nat-upnp is port-restricted until a NAT-PMP mapping (natpmpc, miniupnpd) opens a port to cli-upnp; deleting it closes it again', async () => {
    // Unsolicited UDP from the probe to 198.18.0.121:<port> reaches cli-upnp:<port> only while mapped.
    const attempt = async (port: number, text: string): Promise<string[]> => {
      const listener = new JsonLines(zoo.spawn('cli-upnp', udpProbe('listen', '--port', String(port), '--ms', '1500')));
      await listener.next('ready');
      await zoo.execOk('probe', udpProbe('send', '--to', `198.18.0.121:${port}`, '--text', text));
      await exited(listener, 3000);
      return received(listener);
    };
    expect(await attempt(22070, 'before')).toEqual([]);
    // natpmpc -a <public port> <private port> <protocol> <lifetime s>: RFC 6886 §3.3 to the default gateway.
    const add = await zoo.execOk('cli-upnp', ['natpmpc', '-g', '192.168.21.1', '-a', '22070', '22070', 'udp', '120']);
    // miniupnpd learnt its outside address from the lab's STUN server (it refuses to map without one).
    expect(add.stdout).toMatch(/Public IP address : 198\.18\.0\.121/);
    expect(add.stdout).toMatch(/Mapped public port 22070 protocol UDP to local port 22070 liftime 120/); // (sic: natpmpc 20150609 prints "liftime")
    expect(await attempt(22070, 'mapped')).toContain('mapped');
    expect((await zoo.execOk('nat-upnp', ['nft', 'list', 'table', 'inet', 'tl_upnp'])).stdout).toMatch(/dport 22070 dnat ip to 192\.168\.21\.2:22070/);
    await zoo.execOk('cli-upnp', ['natpmpc', '-g', '192.168.21.1', '-a', '22070', '22070', 'udp', '0']);
    expect(await attempt(22070, 'deleted')).toEqual([]);
    // The mapped port keeps its number outward (masquerade keeps a free port): what makes the NAT a cone for it.
    expect((await mapFrom('cli-upnp', 22071, three)).ports).toEqual([22071, 22071, 22071]);
  });

  it('nat-upnps maps on request too (natpmpc) but stays symmetric for outbound flows', async () => {
    const listener = new JsonLines(zoo.spawn('cli-upnps', udpProbe('listen', '--port', '22080', '--ms', '1500')));
    await listener.next('ready');
    const add = await zoo.execOk('cli-upnps', ['natpmpc', '-g', '192.168.22.1', '-a', '22080', '22080', 'udp', '120']);
    expect(add.stdout).toMatch(/Public IP address : 198\.18\.0\.122/);
    await zoo.execOk('probe', udpProbe('send', '--to', '198.18.0.122:22080', '--text', 'mapped'));
    await exited(listener, 3000);
    expect(received(listener)).toContain('mapped');
    await zoo.execOk('cli-upnps', ['natpmpc', '-g', '192.168.22.1', '-a', '22080', '22080', 'udp', '0']);
    // A mapped port's own outbound flows still get drawn ports, one per destination.
    const { ports } = await mapFrom('cli-upnps', 22081, three);
    expect(new Set(ports).size).toBe(3);
  });
});
