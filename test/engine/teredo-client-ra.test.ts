// RA acceptance (RFC 4380 §5.2.1, §5.2.2): each refusal is counted under its own reason and changes nothing;
// the RA that follows the rules is taken; and an RS answered on one port speeds the other port's retries. The client is on the in-memory network (on a public address, links
// without latency) and its server is down; the RAs, crafted with the wire codecs, reach it over the network
// from whatever source each case needs (VirtualInternet.spoof: a datagram with any source on the core).

import { describe, expect, it } from 'vitest';
import type { ClientDropReason } from '../../src/engine/teredo/client/client-types.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { fillIcmpv6PacketChecksum } from '../../src/wire/icmpv6.js';
import { decodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import type { TeredoClientHost } from '../fakes/teredo-net-engines.js';
import { CLIENT_PORT, NAT_PUBLIC, PRIMARY, PROBE_PORT, SECONDARY, TeredoWorld, prefixOption, raPayload, type RaOptions } from './teredo-client-fixtures.js';

const MAPPED = { addr: NAT_PUBLIC, port: 50000 };

/** The client on a public address, its server down; inject() and injectProbe() reach its two sockets from any source. */
class Net {
  readonly w = new TeredoWorld({ oneWayMs: 0 });
  readonly client: TeredoClientHost;

  constructor() {
    this.w.server.stop();
    this.client = this.w.client('none');
  }

  inject(bytes: Uint8Array, addr: number, port: number): void {
    this.#deliver(bytes, addr, port, CLIENT_PORT);
  }

  injectProbe(bytes: Uint8Array, addr: number, port: number): void {
    this.#deliver(bytes, addr, port, PROBE_PORT);
  }

  #deliver(bytes: Uint8Array, addr: number, port: number, to: number): void {
    this.w.inet.spoof(bytes, { addr, port }, { addr: NAT_PUBLIC, port: to });
    this.w.inet.runUntilIdle();
  }
}

interface FirstRss {
  readonly cone: Uint8Array;
  readonly primary: Uint8Array;
  readonly mapPrimary: Uint8Array;
}

/**
 * A client that sent its first three RSs at 0 and hears nothing (the server is down): RAs are sent by hand. The
 * cone and non-cone RSs leave from the Teredo port, the first mapping-test RS from the probe port.
 */
function waiting(): { net: Net } & FirstRss {
  const net = new Net();
  const [cone, primary, mapPrimary] = net.w.sent(net.client);
  expect([cone!.local, primary!.local, mapPrimary!.local]).toEqual([CLIENT_PORT, CLIENT_PORT, PROBE_PORT]);
  return { net, cone: cone!.data, primary: primary!.data, mapPrimary: mapPrimary!.data };
}

function expectRefused(send: (net: Net, rs: FirstRss) => void, reason: ClientDropReason): void {
  const { net, ...rss } = waiting();
  send(net, rss);
  expect(net.client.drops).toEqual([reason]);
  expect(net.client.engine.state).toBe('probe-primary');
  expect(net.client.addresses).toHaveLength(0);
  // RFC 4380 §5.2.1: still waiting T = 4 s on the RSs sent at 0: no state change at all.
  expect(net.client.engine.nextTimeout()).toBe(4000);
}

const ra = (rs: Uint8Array, o: RaOptions = {}): Uint8Array => raPayload(rs, MAPPED, o);

describe('RA refusals', () => {
  it('from an address that is not the server', () => expectRefused((n, rs) => n.inject(ra(rs.primary), PRIMARY + 7, 3544), 'ra-source-not-server'));
  it('from another port', () => expectRefused((n, rs) => n.inject(ra(rs.primary), PRIMARY, 3545), 'ra-source-port-not-3544'));
  it('without an authentication header', () => expectRefused((n, rs) => n.inject(ra(rs.primary, { nonce: null }), PRIMARY, 3544), 'ra-no-auth'));
  it('with a wrong nonce', () => expectRefused((n, rs) => n.inject(ra(rs.primary, { nonce: new Uint8Array(8).fill(7) }), PRIMARY, 3544), 'ra-nonce-mismatch'));
  it('answering the cone RS from the address it was sent to (proves nothing about the NAT)', () =>
    expectRefused((n, rs) => n.inject(ra(rs.cone), PRIMARY, 3544), 'ra-wrong-server-address'));
  it('an RA on the other port than its RS left from', () => {
    expectRefused((n, rs) => n.injectProbe(ra(rs.cone), SECONDARY, 3544), 'ra-wrong-socket');
    expectRefused((n, rs) => n.injectProbe(ra(rs.primary), PRIMARY, 3544), 'ra-wrong-socket');
    expectRefused((n, rs) => n.inject(ra(rs.mapPrimary), PRIMARY, 3544), 'ra-wrong-socket');
  });
  it('answering the mapping-test RS from the other address', () => expectRefused((n, rs) => n.injectProbe(ra(rs.mapPrimary), SECONDARY, 3544), 'ra-wrong-server-address'));
  it('anything but an RA on the probe socket', () =>
    expectRefused((n) => {
      const bubble = new Uint8Array(40);
      bubble[0] = 0x60;
      bubble[6] = 59;
      n.injectProbe(bubble, PRIMARY, 3544);
    }, 'probe-socket-unexpected'));
  it('answering the non-cone RS from the other address', () => expectRefused((n, rs) => n.inject(ra(rs.primary), SECONDARY, 3544), 'ra-wrong-server-address'));
  it('without an origin indication', () => expectRefused((n, rs) => n.inject(ra(rs.primary, { origin: null }), PRIMARY, 3544), 'ra-no-origin-indication'));
  it('with a hop limit other than 255', () => expectRefused((n, rs) => n.inject(ra(rs.primary, { hopLimit: 64 }), PRIMARY, 3544), 'ra-malformed'));
  it('with a bad checksum', () =>
    expectRefused((n, rs) => {
      const bytes = ra(rs.primary);
      bytes[bytes.length - 1]! ^= 0xff;
      n.inject(bytes, PRIMARY, 3544);
    }, 'ra-malformed'));
  it('to another destination than the RS source', () => expectRefused((n, rs) => n.inject(ra(rs.primary, { dst: parseIpv6('fe80::1') }), PRIMARY, 3544), 'ra-bad-destination'));
  it('with two prefixes', () =>
    expectRefused((n, rs) => n.inject(ra(rs.primary, { options: [prefixOption(PRIMARY), prefixOption(PRIMARY)] }), PRIMARY, 3544), 'ra-not-one-prefix'));
  it('with no prefix', () => expectRefused((n, rs) => n.inject(ra(rs.primary, { options: [{ kind: 'mtu', mtu: 1280 }] }), PRIMARY, 3544), 'ra-not-one-prefix'));
  it('with a prefix length other than 64', () => expectRefused((n, rs) => n.inject(ra(rs.primary, { options: [prefixOption(PRIMARY, 48)] }), PRIMARY, 3544), 'ra-prefix-bad-length'));
  it('with a prefix option of the wrong length (5 units instead of 4)', () =>
    expectRefused((n, rs) => {
      // A raw option of type 3 with 38 data bytes: length field 5.
      const options = [{ kind: 'raw' as const, type: 3, data: new Uint8Array(38) }];
      n.inject(ra(rs.primary, { options }), PRIMARY, 3544);
    }, 'ra-prefix-bad-length'));
  it("with another server's prefix", () => expectRefused((n, rs) => n.inject(ra(rs.primary, { options: [prefixOption(PRIMARY + 100)] }), PRIMARY, 3544), 'ra-prefix-not-server'));
  it('with an MTU below 1280', () =>
    expectRefused((n, rs) => n.inject(ra(rs.primary, { options: [prefixOption(PRIMARY), { kind: 'mtu', mtu: 1200 }] }), PRIMARY, 3544), 'ra-bad-mtu'));
  it('truncated Teredo payloads are malformed', () =>
    expectRefused((n, rs) => {
      const bytes = ra(rs.primary);
      n.inject(bytes.subarray(0, bytes.length - 10), PRIMARY, 3544);
    }, 'malformed'));

  it('a not-quite RA whose ICMPv6 body is shorter than an RA is malformed', () =>
    expectRefused((n, rs) => {
      const good = decodeTeredoPayload(ra(rs.primary));
      const bytes = ra(rs.primary);
      const ipAt = bytes.length - good.ipv6.length;
      // Payload length 8: only the first 8 bytes of the RA body remain.
      bytes[ipAt + 5] = 8;
      fillIcmpv6PacketChecksum(bytes.subarray(ipAt, ipAt + 48));
      n.inject(bytes.subarray(0, ipAt + 48), PRIMARY, 3544);
    }, 'ra-malformed'));
});

describe('RA acceptance', () => {
  it('the RA that follows every rule starts the cone window; the cone RA from the other address qualifies as cone', () => {
    const { net, cone, primary } = waiting();
    net.inject(ra(primary), PRIMARY, 3544);
    expect(net.client.drops).toEqual([]);
    expect(net.client.engine.nextTimeout()).toBe(100); // the cone window: the RA came at once, so its minimum
    net.inject(ra(cone), SECONDARY, 3544);
    expect(net.client.engine.state).toBe('qualified');
    expect(net.client.engine.nat).toBe('cone');
  });

  it('a replayed RA (its nonce already used) is refused', () => {
    const { net, primary } = waiting();
    const bytes = ra(primary);
    net.inject(bytes, PRIMARY, 3544);
    net.inject(bytes, PRIMARY, 3544);
    expect(net.client.drops).toEqual(['ra-nonce-mismatch']);
  });

  it('an RA from a peer (not the server) never reaches the TUN device', () => {
    const { net, primary } = waiting();
    net.inject(ra(primary), 0xc6120066, 40000);
    expect(net.client.tun.written).toHaveLength(0);
    expect(net.client.drops).toEqual(['ra-source-not-server']);
  });
});

describe('retransmission once the server is heard', () => {
  it('the probe port answered and the Teredo port not: its RSs go again after 4 round trips (at least 250 ms), not after T', () => {
    const { net, mapPrimary } = waiting();
    net.w.runUntil(20);
    net.injectProbe(raPayload(mapPrimary, MAPPED), PRIMARY, 3544);
    net.w.runUntil(270);
    // The cone and non-cone RSs of 0, and again at 20 + 250 (4 x 20 ms is less than the floor).
    expect(net.w.sent(net.client).filter((s) => s.local === CLIENT_PORT).map((s) => s.at)).toEqual([0, 0, 270, 270]);
  });
});
