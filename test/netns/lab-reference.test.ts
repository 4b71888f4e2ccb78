// Self-test of the lab with reference occupants: a Miredo client behind the port-restricted NAT qualifies
// against miredo-server (RFC 4380 §5.2.1) and reaches the native host6 through the Miredo relay (§5.4);
// radvd on lan6 makes both plain hosts autoconfigure (RFC 4862 §5.5.3).

import { describe, expect, it } from 'vitest';
import { ADDR, expectMiredoClientQualifies, useLab } from './lab.js';
import { raDefaultRouter, waitForSlaac } from '../../lab/observe.js';

const lab = useLab();

/** Packets the kernel handed to the relay's TUN, i.e. IPv6 the relay sent towards Teredo clients. */
async function relayTunTxPackets(): Promise<number> {
  const r = await lab.execOk('relay', ['ip', '-s', '-j', 'link', 'show', 'dev', lab.plan.tunName]);
  const [link] = JSON.parse(r.stdout) as [{ stats64: { tx: { packets: number } } }];
  return link.stats64.tx.packets;
}

describe('miredo', () => {
  it('qualifies a client behind the port-restricted NAT against miredo-server', () => expectMiredoClientQualifies(lab, 'miredo'));

  it('pings host6 from the client through the relay', async () => {
    const before = await relayTunTxPackets();
    const r = await lab.exec('cli-prc', ['ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', ADDR.host6]);
    expect(r.stdout).toMatch(/3 packets transmitted, 3 received/);
    // Replies come back via host6's route 2001::/32 → relay, so the relay's TUN carried at least 3 packets.
    expect((await relayTunTxPackets()) - before).toBeGreaterThanOrEqual(3);
  });
});

describe('radvd', () => {
  it('makes the lan6 hosts autoconfigure addresses in 2001:db8:66::/64 with a default route via ra', async () => {
    await lab.startOccupant({ role: 'ra-sender', impl: 'radvd' });
    for (const host of ['h6a', 'h6b']) {
      expect(await waitForSlaac(lab, host, 20_000)).toContainEqual(expect.stringMatching(/^2001:db8:66:[0-9a-f:]+\/64$/));
      expect(await raDefaultRouter(lab, host)).toMatch(/^fe80::/);
    }
  });
});
