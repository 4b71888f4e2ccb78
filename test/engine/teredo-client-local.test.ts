// Local client discovery (RFC 4380 §5.2.8) on the in-memory network: two clients behind one port-restricted NAT
// that does not hairpin (the zoo's nat-nhp) find each other by multicast bubbles to 224.0.0.253:3544 and talk
// over the LAN, both ways; off, they cannot; the bounds and checks of the discovery socket.

import { describe, expect, it } from 'vitest';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import { encodeIpv6, NEXT_HEADER } from '../../src/wire/ipv6.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { encodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { TeredoClientHost } from '../fakes/teredo-net-engines.js';
import { echoReply } from '../fakes/teredo-net-native.js';
import { echoReplies, echoRequest, PRIMARY, TeredoWorld } from './teredo-client-fixtures.js';

/** RFC 4380 §2.17: the Teredo IPv4 discovery address, and §2.7 the Teredo port. */
const DISCOVERY = '224.0.0.253';
const TEREDO = 3544;
const A_LAN = parseIpv4('192.168.1.2');
const B_LAN = parseIpv4('192.168.1.3');


/** Two qualified clients behind one port-restricted NAT without hairpinning, each with its discovery socket. */
function twoBehindOneNat(localDiscovery: boolean) {
  const w = new TeredoWorld();
  const a = w.client('port-restricted', { localDiscovery }, { discovery: true });
  const nat = w.natOf(a);
  const b = new TeredoClientHost(w.inet, w.inet.natHost(nat, B_LAN), { primary: PRIMARY, localDiscovery }, { seed: 7, discovery: true });
  w.runUntilQualified(a);
  // B starts half a second after A qualified: A's answer to B's bubble falls within A's 1 s answer interval.
  w.runUntil(w.clock.now() + 500);
  b.start();
  w.runUntilQualified(b);
  expect([a.engine.state, b.engine.state]).toEqual(['qualified', 'qualified']);
  a.stack.respond = echoReply;
  b.stack.respond = echoReply;
  w.runUntil(w.clock.now() + 1000); // discovery settles (see the first test)
  return { w, a, b };
}

describe('local discovery (RFC 4380 §5.2.8)', () => {
  it('two clients behind a NAT without hairpinning find each other by multicast bubbles and ping over the LAN, both ways', () => {
    const { w, a, b } = twoBehindOneNat(true);
    const discovery = w.log.filter((r) => r.event === 'sent' && formatIpv4(r.dst.addr) === DISCOVERY);
    // Each sent one at qualification, from its Teredo socket, to 224.0.0.253:3544: a bubble to ff02::1.
    expect(discovery.length).toBeGreaterThanOrEqual(2);
    for (const d of discovery) {
      expect([d.dst.port, d.bytes.length, d.bytes[6], d.bytes[24], d.bytes[25], d.bytes[39]]).toEqual([TEREDO, 40, 59, 0xff, 0x02, 1]);
    }
    // Qualified within a second of each other: A's answer to B's bubble waited out the interval instead of being
    // lost, so each found the other before any ping.
    expect([a, b].map((c) => c.engine.snapshot(w.clock.now()).counters.localPeersFound)).toEqual([1, 1]);
    expect(echoReplies(w, a, b, 5)).toBe(5);
    expect(echoReplies(w, b, a, 5)).toBe(5);
    // All of it over the LAN: nothing between them went to the NAT's public address (it does not hairpin).
    expect(w.inet.drops()['nat-no-hairpin']).toBeUndefined();
    const lan = w.log.filter((r) => r.event === 'delivered' && [A_LAN, B_LAN].includes(r.src.addr) && [A_LAN, B_LAN].includes(r.dst.addr));
    expect(lan.length).toBeGreaterThanOrEqual(20);
  });

  it('after 30 s of silence the path is bubbled again at the LAN address and still works', () => {
    const { w, a, b } = twoBehindOneNat(true);
    expect(echoReplies(w, a, b, 1)).toBe(1);
    w.runUntil(w.clock.now() + 45_000);
    expect(echoReplies(w, a, b, 3)).toBe(3);
    expect(echoReplies(w, b, a, 3)).toBe(3);
  });

  it('off (--local-discovery off): no multicast bubble, and the clients cannot reach each other there', () => {
    const { w, a, b } = twoBehindOneNat(false);
    expect(w.log.filter((r) => formatIpv4(r.dst.addr) === DISCOVERY)).toEqual([]);
    expect(echoReplies(w, a, b, 3)).toBe(0);
  });

  it('the discovery socket takes only bubbles from Teredo addresses behind our own NAT; our own looped back is ignored', () => {
    const { a, b } = twoBehindOneNat(true);
    const me = a.engine.address!;
    const drops = a.drops.length;
    const notBubble = echoRequest(b.engine.address!, me, 1);
    const native = encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 255, src: parseIpv6('2001:db8::1'), dst: me }, new Uint8Array(0));
    const own = encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 255, src: me, dst: me }, new Uint8Array(0));
    // A Teredo address embedding another public IPv4: a LAN host posing as a peer on the Internet.
    const far = encodeTeredoAddress({ server: PRIMARY, cone: false, randomBits: 1, mappedAddr: parseIpv4('198.18.0.200'), mappedPort: 5000 });
    const farBubble = encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 255, src: far, dst: me }, new Uint8Array(0));
    for (const p of [notBubble, native, farBubble, own]) a.control((e, now, s) => e.discoveryDatagram(p, 0, p.length, B_LAN, 40000, now, s));
    expect(a.drops.slice(drops)).toEqual(['discovery-unexpected', 'discovery-unexpected', 'discovery-unexpected']);
  });
});
