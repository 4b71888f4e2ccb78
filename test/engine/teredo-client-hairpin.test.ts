// The Hairpinning Extension (RFC 6081 §5.6, client-hairpin.ts) on the in-memory network: two clients behind one
// port-restricted NAT that does not hairpin (the zoo's nat-nhp), local discovery OFF, reach each other at the
// local addresses their bubbles announce in Alternate Address trailers, both ways; with the extension off they do
// not (RFC 4380). And its bounds: alternates are used only under RFC 6081's condition (the server saw the bubble
// come from our own public address), at most 2, never to a non-unicast address or port 0.

import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { encodeIpv6, NEXT_HEADER } from '../../src/wire/ipv6.js';
import { decodeTeredoAddress, encodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { encodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import { decodeTrailers } from '../../src/wire/teredo-trailers.js';
import { TeredoClientHost } from '../fakes/teredo-net-engines.js';
import { CLIENT_PORT, echoReplies, PRIMARY, qualifiedAnswering, TeredoWorld } from './teredo-client-fixtures.js';

const A_LAN = parseIpv4('192.168.1.2');
const B_LAN = parseIpv4('192.168.1.3');
const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((b) => parseInt(b, 16)));

/** Two qualified clients behind one port-restricted NAT without hairpinning; local discovery off on both. */
function twoBehindOneNat(hairpinning: boolean) {
  const w = new TeredoWorld();
  const common = { localDiscovery: false, hairpinning, localPort: CLIENT_PORT };
  const a = w.client('port-restricted', { ...common, localAddress: A_LAN });
  const b = new TeredoClientHost(w.inet, w.inet.natHost(w.natOf(a), B_LAN), { primary: PRIMARY, ...common, localAddress: B_LAN }, { seed: 7 });
  b.start();
  qualifiedAnswering(w, a, b);
  return { w, a, b };
}

/** A bubble from `src` to `dst` relayed by the server with origin `origin` and the trailer bytes `trailer`. */
function relayedBubble(src: Uint8Array, dst: Uint8Array, origin: { addr: number; port: number }, trailer: Uint8Array): Uint8Array {
  const ipv6 = encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 255, src, dst }, new Uint8Array(0));
  return encodeTeredoPayload({ origin, ipv6, trailer });
}

describe('hairpinning extension (RFC 6081 §5.6)', () => {
  for (const first of ['a', 'b'] as const) {
    it(`two clients behind a NAT without hairpinning, local discovery off: pings both ways at the announced local addresses (${first} first)`, () => {
      const { w, a, b } = twoBehindOneNat(true);
      const [x, y] = first === 'a' ? [a, b] : [b, a];
      const mark = w.log.length;
      // The first exchange opens the path (its request waits in the queue and goes once the bubble meets).
      expect(echoReplies(w, x, y, 5)).toBe(5);
      expect(echoReplies(w, y, x, 5)).toBe(5);
      // x's indirect bubble through the server carried its Alternate Address trailer: type 3, length 8, reserved
      // 0, its LAN address and Teredo port (RFC 6081 §4.3).
      const xLan = x === a ? 'c0a80102' : 'c0a80103';
      const indirect = w.log.slice(mark).find((r) => r.event === 'sent' && r.dst.addr === PRIMARY && r.bytes.length === 50);
      expect(indirect?.bytes.subarray(40)).toEqual(hex(`03 08 0000 ${xLan} 9c40`));
      expect(decodeTrailers(indirect!.bytes.subarray(40))).toEqual([{ kind: 'alternate-address', entries: [{ addr: (x === a ? A_LAN : B_LAN) >>> 0, port: CLIENT_PORT }] }]);
      expect(y.engine.snapshot(w.clock.now()).counters.hairpinBubbles).toBeGreaterThanOrEqual(1);
      // Their public mappings never met: the NAT dropped what went to its own address.
      expect(w.inet.drops()['nat-no-hairpin']).toBeGreaterThanOrEqual(1);
    });
  }

  it('off (RFC 4380 alone): the clients cannot reach each other there, and no trailer is sent', () => {
    const { w, a, b } = twoBehindOneNat(false);
    const mark = w.log.length;
    expect(echoReplies(w, a, b, 3)).toBe(0);
    expect(w.log.slice(mark).filter((r) => r.event === 'sent' && r.bytes.length > 40 && r.bytes[6] === 59)).toEqual([]);
  });

  it('an RFC 4380 peer (the extension off) behind a NAT that hairpins takes our trailer-carrying bubbles as plain ones: both ways', () => {
    const w = new TeredoWorld();
    const a = w.client('port-restricted', { localDiscovery: false, localAddress: A_LAN, localPort: CLIENT_PORT }, { nat: { hairpin: true } });
    const b = new TeredoClientHost(w.inet, w.inet.natHost(w.natOf(a), B_LAN), { primary: PRIMARY, localDiscovery: false, hairpinning: false }, { seed: 7 });
    b.start();
    qualifiedAnswering(w, a, b);
    const mark = w.log.length;
    expect(echoReplies(w, a, b, 5)).toBe(5);
    expect(echoReplies(w, b, a, 5)).toBe(5);
    // Ours did send it bubbles with the trailer (type 3 after the 40-byte bubble); b sent none.
    expect(w.sent(a, mark).filter((x) => x.data.length === 50 && x.data[40] === 3).length).toBeGreaterThanOrEqual(1);
    expect(w.sent(b, mark).filter((x) => x.data.length > 40 && x.data[6] === 59)).toEqual([]);
  });

  it('a peer elsewhere is never told our local address', () => {
    const w = new TeredoWorld();
    const a = w.client('port-restricted', { localDiscovery: false, localAddress: A_LAN, localPort: CLIENT_PORT });
    const far = w.client('port-restricted', { localDiscovery: false }, { seed: 9 });
    qualifiedAnswering(w, a, far);
    const mark = w.log.length;
    echoReplies(w, a, far, 2);
    const bubbles = w.sent(a, mark).filter((s) => s.data[6] === 59);
    expect(bubbles.length).toBeGreaterThanOrEqual(2);
    expect(bubbles.every((s) => s.data.length === 40)).toBe(true);
  });

  it('alternates are bubbled only when the server saw our own public address; at most 2, unicast, port not 0', () => {
    const { w, a } = twoBehindOneNat(true);
    const me = a.engine.address!;
    const ours = decodeTeredoAddress(me).mappedAddr;
    // A Teredo address behind our NAT, and one behind another public address.
    const twin = (bits: number): Uint8Array => encodeTeredoAddress({ server: PRIMARY, cone: false, randomBits: bits, mappedAddr: ours, mappedPort: 50000 });
    const far = encodeTeredoAddress({ server: PRIMARY, cone: false, randomBits: 5, mappedAddr: parseIpv4('198.18.0.200'), mappedPort: 50000 });
    // 5 entries would be 32 bytes (not a valid length); 4: 10.0.0.9:7 (used), 0.0.0.1:7 and 224.0.0.1:7 (not
    // unicast), 10.0.0.10:0 (port 0), then 10.0.0.11:8 (used, the second) and the 4-entry limit ends the list.
    const trailer = hex('03 1a 0000  0a000009 0007  00000001 0007  e0000001 0007  0a00000a 0000');
    const trailer2 = hex('03 14 0000  0a000009 0007  0a00000b 0008  0a00000c 0009');
    const send = (p: Uint8Array): void => a.control((e, now, s) => e.datagram(p, 0, p.length, PRIMARY, 3544, now, s));
    const toPrivate = (since: number) => w.sent(a, since).filter((s) => (s.addr >>> 24) === 10 || (s.addr >>> 24) === 0 || (s.addr >>> 24) === 224);
    // Origin elsewhere (the server saw another address): nothing to private addresses, whatever the trailer says.
    let mark = w.log.length;
    send(relayedBubble(twin(1), me, { addr: parseIpv4('198.18.0.200'), port: 50000 }, trailer));
    send(relayedBubble(far, me, { addr: parseIpv4('198.18.0.200'), port: 50000 }, trailer));
    expect(toPrivate(mark)).toEqual([]);
    // Our own public address as origin, but the Teredo source embeds another: nothing either.
    send(relayedBubble(far, me, { addr: ours, port: 50000 }, trailer));
    expect(toPrivate(mark)).toEqual([]);
    // RFC 6081's condition met: only the one valid entry of the first trailer...
    mark = w.log.length;
    send(relayedBubble(twin(2), me, { addr: ours, port: 50000 }, trailer));
    expect(toPrivate(mark).map((s) => [s.addr >>> 0, s.port])).toEqual([[0x0a000009, 7]]);
    // ...and of three valid ones, the first two (RFC 6081 §4.3: "SHOULD be at most 14" bytes).
    mark = w.log.length;
    send(relayedBubble(twin(3), me, { addr: ours, port: 50000 }, trailer2));
    expect(toPrivate(mark).map((s) => [s.addr >>> 0, s.port])).toEqual([[0x0a000009, 7], [0x0a00000b, 8]]);
  });
});
