// RFC 6081 §4.3 (UPnP-enabled symmetric NAT) in the engine: with a port mapping the NAT granted (the agent's
// --port-mapping hands it over as `portMapping`), a client behind a symmetric NAT embeds the mapping's port in its
// Teredo address instead of the port the NAT chose for its flow to the server; behind any other NAT, or with a
// mapping on another outside address (a second NAT in front), the origin indication's mapping stays. Against the
// real server engine on the in-memory network.

import { describe, expect, it } from 'vitest';
import { decodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { CLIENT_PORT, NAT_PUBLIC, TeredoWorld, type Site } from './teredo-client-fixtures.js';

/** An outside port the NAT forwards to the client (UPnP AddPortMapping / NAT-PMP), unlike any it draws itself. */
const UPNP_PORT = 23000;

function qualify(site: Site, portMapping: { addr: number; port: number } | null) {
  const w = new TeredoWorld();
  const c = w.client(site, { portMapping });
  w.runUntilQualified(c);
  expect(c.engine.state).toBe('qualified');
  return { c, a: decodeTeredoAddress(c.engine.address!), snap: c.engine.snapshot(w.clock.now()) };
}

describe('RFC 6081 §4.3 UPnP-enabled symmetric NAT', () => {
  it('behind a symmetric NAT the address embeds the mapped port on the same outside address', () => {
    const { c, a, snap } = qualify('symmetric', { addr: NAT_PUBLIC, port: UPNP_PORT });
    expect(c.engine.nat).toBe('symmetric');
    expect([a.mappedAddr, a.mappedPort, a.cone]).toEqual([NAT_PUBLIC, UPNP_PORT, false]);
    expect([snap.mappedAddr, snap.mappedPort]).toEqual([NAT_PUBLIC, UPNP_PORT]);
  });

  it('without a mapping, or with one on another outside address, the origin indication decides (the NAT drew a port)', () => {
    for (const pm of [null, { addr: parseIpv4('198.18.0.199'), port: UPNP_PORT }]) {
      const { a } = qualify('symmetric', pm);
      expect(a.mappedAddr).toBe(NAT_PUBLIC);
      expect(a.mappedPort).not.toBe(UPNP_PORT);
      expect(a.mappedPort).not.toBe(CLIENT_PORT);
    }
  });

  it('behind a port-restricted NAT the origin indication stays (its port already serves everyone the NAT lets in)', () => {
    const { c, a } = qualify('port-restricted', { addr: NAT_PUBLIC, port: UPNP_PORT });
    expect(c.engine.nat).toBe('restricted');
    expect([a.mappedAddr, a.mappedPort]).toEqual([NAT_PUBLIC, CLIENT_PORT]);
  });
});
