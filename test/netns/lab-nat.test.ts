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
