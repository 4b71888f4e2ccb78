// teredo-client in the lab (issue 9 "Tests"): our client behind each of the lab's NATs detects the NAT type
// against our server and against miredo-server, and every qualified client (the symmetric one too) pings host6
// through Miredo's relay; a client reaches a full-cone peer directly. Qualification time is measured next to
// Miredo's client (printed, never asserted).

import { describe, expect, it } from 'vitest';
import { teredoClientStatus, type TeredoClientLabStatus } from '../../lab/occupants/teredo-client-ours.js';
import { distFile } from '../../lab/paths.js';
import { ADDR, NAT_SITES, useLab } from './lab.js';

const lab = useLab();
const MAIN = distFile('agents/teredo-client/main.js');

const EXPECTED_NAT: Readonly<Record<string, string>> = {
  'full-cone': 'cone',
  'address-restricted': 'restricted',
  'port-restricted': 'restricted',
  symmetric: 'symmetric',
};

async function status(node: string): Promise<TeredoClientLabStatus> {
  const s = await teredoClientStatus({ exec: (argv, o) => lab.exec(node, argv, o) });
  if (!s) throw new Error(`teredo-client in ${node} did not answer status`);
  return s;
}

/** Echo replies received out of `count` pings from `node` to `dst`. */
async function pings(node: string, dst: string, count = 3): Promise<number> {
  const r = await lab.exec(node, ['ping', '-6', '-n', '-c', String(count), '-i', '0.3', '-W', '2', dst]);
  return Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
}

for (const server of ['ours', 'miredo'] as const) {
  describe(`against ${server === 'ours' ? 'our server' : 'miredo-server'}`, () => {
    it('detects each NAT type and reaches host6 through the relay from behind every NAT', async () => {
      await lab.startOccupants([
        { role: 'server', impl: server },
        { role: 'relay', impl: 'miredo' },
        { role: 'client', impl: 'ours' },
      ]);
      for (const site of NAT_SITES) {
        const s = await status(site.client);
        expect({ node: site.client, state: s.state, nat: s.nat }).toEqual({ node: site.client, state: 'qualified', nat: EXPECTED_NAT[site.kind] });
        expect(s.address).toMatch(/^2001:0:c612:a:/);
        expect(s.mappedAddress).toBe(site.outside);
        expect(await pings(site.client, ADDR.host6)).toBeGreaterThanOrEqual(2);
      }
      for (const o of lab.occupants()) await lab.stopOccupant(o.key);
    });
  });
}

describe('Teredo to Teredo', () => {
  it('a client behind a port-restricted NAT reaches a full-cone client directly (cone bit: no bubbles needed)', async () => {
    await lab.startOccupants([
      { role: 'server', impl: 'ours' },
      { role: 'client', impl: 'ours', node: 'cli-prc' },
      { role: 'client', impl: 'ours', node: 'cli-fc' },
    ]);
    const fc = await status('cli-fc');
    expect(await pings('cli-prc', fc.address!)).toBeGreaterThanOrEqual(2);
    for (const o of lab.occupants()) await lab.stopOccupant(o.key);
  });

  it('two clients behind port-restricted NATs reach each other after the bubble exchange (§5.2.6), both ways', async () => {
    await lab.startOccupants([
      { role: 'server', impl: 'ours' },
      { role: 'client', impl: 'ours', node: 'cli-prc' },
      { role: 'client', impl: 'ours', node: 'cli-prc2' },
      { role: 'client', impl: 'ours', node: 'cli-arc' },
    ]);
    const prc = await status('cli-prc');
    const prc2 = await status('cli-prc2');
    // The first echoes wait in the peer queue while the bubbles through the server open both NATs.
    expect(await pings('cli-prc', prc2.address!, 5)).toBeGreaterThanOrEqual(3);
    expect(await pings('cli-prc2', prc.address!, 5)).toBeGreaterThanOrEqual(3);
    expect(await pings('cli-arc', prc.address!, 5)).toBeGreaterThanOrEqual(3);
    for (const o of lab.occupants()) await lab.stopOccupant(o.key);
  });

  it('beyond Miredo: a client behind the symmetric NAT reaches a full-cone client, and back (proof through its server)', async () => {
    await lab.startOccupants([
      { role: 'server', impl: 'ours' },
      { role: 'client', impl: 'ours', node: 'cli-sym' },
      { role: 'client', impl: 'ours', node: 'cli-fc' },
    ]);
    const sym = await status('cli-sym');
    const fc = await status('cli-fc');
    // The first echo is spent on the proof round trip; the rest get through.
    expect(await pings('cli-sym', fc.address!, 5)).toBeGreaterThanOrEqual(3);
    expect(await pings('cli-fc', sym.address!, 5)).toBeGreaterThanOrEqual(3);
    for (const o of lab.occupants()) await lab.stopOccupant(o.key);
  });
});

/**
 * Runs `argv` in `node` and returns the milliseconds until a global Teredo address is on `ifname` (a shell loop
 * inside the node polls `ip`, so both clients are timed the same way, start of process to usable address).
 */
async function timeToAddress(node: string, ifname: string, argv: readonly string[], before = ''): Promise<{ ms: number; extra: string }> {
  const script = `s=$(date +%s%N); "$@" >/dev/null 2>&1 & pid=$!
for i in $(seq 1 4000); do ip -6 -o addr show dev ${ifname} scope global 2>/dev/null | grep -q ' 2001:0:' && break; sleep 0.005; done
e=$(date +%s%N); echo $(( (e - s) / 1000000 )); ${before} kill $pid; wait $pid 2>/dev/null`;
  const r = await lab.execOk(node, ['sh', '-c', script, 'sh', ...argv]);
  const [ms, ...extra] = r.stdout.trim().split('\n');
  return { ms: Number(ms), extra: extra.join('\n') };
}

describe('qualification time, ours and Miredo side by side (printed, not asserted)', () => {
  it('measures start to usable address behind each NAT', async () => {
    await lab.startOccupants([{ role: 'server', impl: 'ours' }]);
    const tun = lab.state().plan.tunName;
    const rows: string[] = [];
    for (const site of NAT_SITES) {
      const status = `${process.execPath} ${MAIN} status --json --instance bench;`;
      const ours = await timeToAddress(site.client, tun, [process.execPath, MAIN, '--server', ADDR.server, '--interface', tun, '--instance', 'bench'], status);
      const engine = (JSON.parse(ours.extra) as TeredoClientLabStatus & { nat: string }).qualificationMs;
      const conf = `/tmp/${tun}-miredo-bench.conf`;
      await lab.execOk(site.client, ['sh', '-c', `printf 'RelayType client\\nServerAddress ${ADDR.server}\\nInterfaceName ${tun}\\n' > ${conf}`]);
      const miredo = await timeToAddress(site.client, tun, ['miredo', '-f', '-c', conf, '-p', `/tmp/${tun}-miredo-bench.pid`]);
      rows.push(`${site.kind.padEnd(20)} ours ${String(ours.ms).padStart(5)} ms (first RS to address ${engine} ms, NAT type included)   miredo ${String(miredo.ms).padStart(5)} ms (no NAT type)`);
      expect(ours.ms).toBeGreaterThan(0);
      expect(miredo.ms).toBeGreaterThan(0);
    }
    console.log(`qualification, start to address (ms):\n${rows.join('\n')}`);
  });
});
