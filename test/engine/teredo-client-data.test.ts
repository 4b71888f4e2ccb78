// The qualified client's data path (RFC 4380 §5.2.3, §5.2.4, §5.2.6, §5.2.9) in virtual time: relay discovery
// by the direct connectivity test, bubbles to Teredo peers with their pacing, the acceptance cases, the
// link-local filter, and the bounds.

import { describe, expect, it } from 'vitest';
import { CLIENT_DROP_REASONS, DROP } from '../../src/engine/teredo/client/client-types.js';
import { ICMPV6_TYPE, decodeIcmpv6Packet, decodeEcho, echoMessage, encodeIcmpv6Packet } from '../../src/wire/icmpv6.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { encodeNdiscPacket } from '../../src/wire/ndisc.js';
import { encodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { encodeTeredoPayload, decodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import { decodeIpv6 } from '../../src/wire/ipv6.js';
import { PRIMARY, SimNet, prefixOption } from './teredo-client-fixtures.js';

const HOST6 = parseIpv6('2001:db8:6::100');
const RELAY = { addr: parseIpv4('198.18.0.20'), port: 58273 };
const PEER_NAT = parseIpv4('198.18.0.103');

function qualified(nat: 'port-restricted' | 'full-cone' = 'port-restricted'): SimNet {
  const net = new SimNet(nat).start();
  net.runUntilQualified();
  net.sent.length = 0;
  net.drops.length = 0;
  return net;
}

function echo(src: Uint8Array, dst: Uint8Array, type: 128 | 129, data: Uint8Array, hopLimit = 64): Uint8Array {
  return encodeIcmpv6Packet({ src, dst, hopLimit }, echoMessage(type, { id: 7, seq: 1, data }));
}

function tun(net: SimNet, packet: Uint8Array): void {
  net.client.tunPacket(packet, 0, packet.length, net.now, net.sink);
}

const reasons = (net: SimNet): string[] => net.drops.map((d) => CLIENT_DROP_REASONS[d]!);
const peer = (port: number, cone = false): Uint8Array => encodeTeredoAddress({ server: PRIMARY, cone, randomBits: 5, mappedAddr: PEER_NAT, mappedPort: port });

describe('native destinations: relay discovery (§5.2.9)', () => {
  it('queues, pings through the server with a nonce, trusts the relay the reply comes from, then sends the queue there', () => {
    const net = qualified();
    const me = net.client.address!;
    const userPing = echo(me, HOST6, 128, new Uint8Array(56).fill(1));
    tun(net, userPing);
    expect(net.sent).toHaveLength(1);
    const test = net.sent[0]!;
    expect([test.addr, test.port]).toEqual([PRIMARY, 3544]);
    const req = decodeIcmpv6Packet(test.data);
    expect(req.message.type).toBe(ICMPV6_TYPE.ECHO_REQUEST);
    expect(formatIpv6(req.header.dst)).toBe('2001:db8:6::100');
    const nonce = decodeEcho(req.message).data;
    expect(nonce).toHaveLength(8);
    // The reply, through the relay nearest host6.
    net.inject(echo(HOST6, me, 129, nonce), RELAY.addr, RELAY.port);
    expect(net.tun).toHaveLength(0); // our test's reply is not the host's business
    expect(net.sent.at(-1)).toMatchObject({ addr: RELAY.addr, port: RELAY.port, data: userPing });
    // From now on both ways go straight through the relay.
    const reply = echo(HOST6, me, 129, new Uint8Array(56).fill(1));
    net.inject(reply, RELAY.addr, RELAY.port);
    expect(net.tun).toEqual([reply]);
    tun(net, userPing);
    expect(net.sent.at(-1)).toMatchObject({ addr: RELAY.addr, port: RELAY.port });
    expect(net.drops).toEqual([]);
  });

  it('a reply with the wrong nonce is not trusted; 4 tests 2 s apart, then the queued packets are dropped', () => {
    const net = qualified();
    const me = net.client.address!;
    tun(net, echo(me, HOST6, 128, new Uint8Array(8)));
    net.inject(echo(HOST6, me, 129, new Uint8Array(8).fill(9)), RELAY.addr, RELAY.port);
    expect(reasons(net)).toEqual(['unknown-peer']);
    const t0 = net.now;
    net.runUntil(t0 + 10_000);
    const pings = net.sent.filter((s) => s.addr === PRIMARY && decodeTeredoPayload(s.data).ipv6[40] === 128);
    expect(pings.map((p) => p.at - t0)).toEqual([0, 2000, 4000, 6000]);
    expect(reasons(net)).toEqual(['unknown-peer', 'peer-unreachable']);
    // The local stack learns it at once: Destination Unreachable, address unreachable, quoting the packet.
    expect(net.tun).toHaveLength(1);
    const err = decodeIcmpv6Packet(net.tun[0]!);
    expect([err.message.type, err.message.code]).toEqual([1, 3]);
    expect(formatIpv6(err.header.dst)).toBe(formatIpv6(me));
    expect(formatIpv6(err.header.src)).toBe('fe80::ffff:ffff:ffff');
    expect(formatIpv6(decodeIpv6(err.message.body.subarray(4)).header.dst)).toBe('2001:db8:6::100');
  });

  it('a native host answering through an unknown relay is dropped and tested, never accepted untested (CVE-2006-6266)', () => {
    const net = qualified();
    const me = net.client.address!;
    net.inject(echo(HOST6, me, 128, new Uint8Array(8)), RELAY.addr, RELAY.port);
    expect(net.tun).toHaveLength(0);
    expect(reasons(net)).toEqual(['unknown-peer']);
    // The test goes through our server, never to the sender's IPv4 address.
    expect(net.sent.map((s) => s.addr)).toEqual([PRIMARY]);
  });
});

describe('Teredo destinations (§5.2.4 cases 4, 5; §5.2.6)', () => {
  it('non-cone peer: queue, indirect bubble through its server and direct bubble; its direct bubble back makes it trusted', () => {
    const net = qualified();
    const me = net.client.address!;
    const them = peer(3545);
    const data = echo(me, them, 128, new Uint8Array(8));
    tun(net, data);
    expect(net.sent.map((s) => [s.addr, s.port])).toEqual([
      [PRIMARY, 3544],
      [PEER_NAT, 3545],
    ]);
    expect(net.sent.every((s) => s.data.length === 40 && s.data[6] === 59)).toBe(true);
    // The peer's direct bubble (its address embeds the mapping it comes from): case 3.
    const bubble = new Uint8Array(40);
    bubble[0] = 0x60;
    bubble[6] = 59;
    bubble.set(them, 8);
    bubble.set(me, 24);
    net.inject(bubble, PEER_NAT, 3545);
    expect(net.sent.at(-1)).toMatchObject({ addr: PEER_NAT, port: 3545, data });
    expect(net.tun).toHaveLength(0);
  });

  it('bubble pacing: >= 2 s apart, at most 4 in 300 s, then the queue is dropped', () => {
    const net = qualified();
    const me = net.client.address!;
    const them = peer(3545);
    const t0 = net.now;
    tun(net, echo(me, them, 128, new Uint8Array(8)));
    // More packets for the same peer meanwhile do not add bubbles.
    for (let i = 0; i < 5; i++) {
      net.runUntil(net.now + 300);
      tun(net, echo(me, them, 128, new Uint8Array(8)));
    }
    net.runUntil(t0 + 60_000);
    const indirect = net.sent.filter((s) => s.addr === PRIMARY && s.data.length === 40).map((s) => s.at - t0); // not the refresh RSs
    expect(indirect).toEqual([0, 2000, 4000, 6000]);
    for (let i = 1; i < indirect.length; i++) expect(indirect[i]! - indirect[i - 1]!).toBeGreaterThanOrEqual(2000);
    // The 6 queued packets are dropped when the bubbles are exhausted; one error reaches the local stack, the
    // rate limit (one per 100 ms) holds back the other five.
    expect(reasons(net)).toEqual(Array(6).fill('peer-unreachable'));
    expect(net.tun).toHaveLength(1);
    expect(net.client.snapshot(net.now).counters).toMatchObject({ unreachableSent: 1, unreachableLimited: 5 });
  });

  it('the per-peer queue holds two full-size packets; more are refused while the peer is being reached', () => {
    const net = qualified();
    const me = net.client.address!;
    for (let i = 0; i < 3; i++) tun(net, echo(me, peer(3545), 128, new Uint8Array(1280 - 48)));
    expect(reasons(net)).toEqual(['queue-full']);
  });

  it('cone peer: sent straight to its embedded mapping', () => {
    const net = qualified();
    const data = echo(net.client.address!, peer(4000, true), 128, new Uint8Array(8));
    tun(net, data);
    expect(net.sent).toHaveLength(1);
    expect(net.sent[0]).toMatchObject({ addr: PEER_NAT, port: 4000, data });
  });

  it('a cone client sends only the indirect bubble (its NAT needs no hole)', () => {
    const net = qualified('full-cone');
    tun(net, echo(net.client.address!, peer(3545), 128, new Uint8Array(8)));
    expect(net.sent.map((s) => s.addr)).toEqual([PRIMARY]);
  });

  it('a Teredo destination embedding a private IPv4 is dropped (§5.2.4)', () => {
    const net = qualified();
    const them = encodeTeredoAddress({ server: PRIMARY, mappedAddr: parseIpv4('192.168.1.9'), mappedPort: 5 });
    tun(net, echo(net.client.address!, them, 128, new Uint8Array(8)));
    expect(reasons(net)).toEqual(['destination-not-global']);
    expect(net.sent).toEqual([]);
  });
});

describe('reception (§5.2.3)', () => {
  it('an indirect bubble (through the server, with origin) is answered with a direct bubble to the origin', () => {
    const net = qualified();
    const me = net.client.address!;
    const relayLinkLocal = parseIpv6('fe80::3c85:d813:5dc2:9d41');
    const b = new Uint8Array(40);
    b[0] = 0x60;
    b[6] = 59;
    b.set(relayLinkLocal, 8);
    b.set(me, 24);
    net.inject(encodeTeredoPayload({ origin: RELAY, ipv6: b }), PRIMARY, 3544);
    expect(net.sent).toHaveLength(1);
    const back = net.sent[0]!;
    expect([back.addr, back.port]).toEqual([RELAY.addr, RELAY.port]);
    expect(formatIpv6(decodeIpv6(back.data).header.dst)).toBe('fe80::3c85:d813:5dc2:9d41');
    // A second one within 2 s: no second bubble (§5.2.6).
    net.inject(encodeTeredoPayload({ origin: RELAY, ipv6: b }), PRIMARY, 3544);
    expect(net.sent).toHaveLength(1);
    expect(net.tun).toHaveLength(0);
  });

  it('a trusted peer silent for 30 s gets bubbles again; its answer sends what was queued meanwhile', () => {
    const net = qualified();
    const me = net.client.address!;
    const them = peer(3545);
    net.inject(echo(them, me, 128, new Uint8Array(8)), PEER_NAT, 3545); // trusted (case 3)
    for (let t = 0; t < 2; t++) {
      net.runUntil(net.now + 10_000);
      tun(net, echo(me, them, 128, new Uint8Array(8)));
      expect(net.sent.at(-1)).toMatchObject({ addr: PEER_NAT, port: 3545 });
    }
    // 31 s after the peer was last heard: queued, and bubbles go out (indirect, then direct).
    net.runUntil(net.now + 11_000);
    const queued = echo(me, them, 128, new Uint8Array(8).fill(4));
    tun(net, queued);
    expect(net.sent.slice(-2).map((s) => s.data.length)).toEqual([40, 40]);
    const bubble = new Uint8Array(40);
    bubble[0] = 0x60;
    bubble[6] = 59;
    bubble.set(them, 8);
    bubble.set(me, 24);
    net.inject(bubble, PEER_NAT, 3545);
    expect(net.sent.at(-1)).toMatchObject({ addr: PEER_NAT, port: 3545, data: queued });
    expect(reasons(net)).toEqual([]);
  });

  it('a Teredo peer whose address embeds the UDP source is accepted (case 3); a mismatching one is not', () => {
    const net = qualified();
    const me = net.client.address!;
    const packet = echo(peer(3545), me, 128, new Uint8Array(8));
    net.inject(packet, PEER_NAT, 3545);
    expect(net.tun).toEqual([packet]);
    net.inject(echo(peer(3546), me, 128, new Uint8Array(8)), PEER_NAT, 9999);
    expect(reasons(net)).toEqual(['unknown-peer']);
  });

  it('link-local sources from peers never reach the TUN device: a forged RA with a prefix, a redirect', () => {
    const net = qualified();
    const me = net.client.address!;
    const ll = parseIpv6('fe80::1');
    const forgedRa = encodeNdiscPacket(
      { src: ll, dst: me, hopLimit: 255 },
      { kind: 'router-advert', curHopLimit: 64, managed: false, otherConfig: false, homeAgent: false, preference: 0, routerLifetimeSec: 1800, reachableTimeMs: 0, retransTimerMs: 0, options: [prefixOption(PRIMARY)] },
    );
    net.inject(forgedRa, PEER_NAT, 3545);
    const redirect = encodeIcmpv6Packet({ src: ll, dst: me, hopLimit: 255 }, { type: 137, code: 0, body: new Uint8Array(36) });
    net.inject(redirect, PEER_NAT, 3545);
    const llEcho = echo(ll, me, 128, new Uint8Array(8));
    net.inject(llEcho, RELAY.addr, RELAY.port);
    expect(net.tun).toEqual([]);
    expect(reasons(net)).toEqual(['ra-source-not-server', 'link-local-source', 'link-local-source']);
  });

  it('a peer behind a symmetric NAT (packets from another mapping than its address embeds) is trusted after proof', () => {
    const net = qualified('full-cone');
    const me = net.client.address!;
    const otherServer = parseIpv4('198.18.0.50');
    const symNat = parseIpv4('198.18.0.102');
    const x = encodeTeredoAddress({ server: otherServer, randomBits: 9, mappedAddr: symNat, mappedPort: 1111 });
    const data = echo(x, me, 128, new Uint8Array(8).fill(3));
    // From the port its NAT picked for us, not the one its address embeds: dropped, and a proof is asked for.
    net.inject(data, symNat, 2222);
    expect(net.tun).toEqual([]);
    expect(reasons(net)).toEqual(['unknown-peer']);
    expect(net.sent).toHaveLength(1);
    expect([net.sent[0]!.addr, net.sent[0]!.port]).toEqual([otherServer, 3544]); // through ITS server
    const req = decodeIcmpv6Packet(net.sent[0]!.data);
    expect(formatIpv6(req.header.dst)).toBe(formatIpv6(x));
    const nonce = decodeEcho(req.message).data;
    // Its kernel answers; the reply comes from the real mapping and carries the nonce.
    net.inject(echo(x, me, 129, nonce), symNat, 2222);
    net.inject(data, symNat, 2222);
    expect(net.tun).toEqual([data]);
    tun(net, echo(me, x, 129, new Uint8Array(8).fill(3)));
    expect([net.sent.at(-1)!.addr, net.sent.at(-1)!.port]).toEqual([symNat, 2222]);
    // A wrong nonce from yet another port proves nothing.
    net.inject(echo(x, me, 129, new Uint8Array(8)), symNat, 3333);
    expect(reasons(net)).toEqual(['unknown-peer', 'unknown-peer']);
  });

  it('packets for another address are dropped', () => {
    const net = qualified();
    net.inject(echo(peer(3545), peer(1), 128, new Uint8Array(8)), PEER_NAT, 3545);
    expect(reasons(net)).toEqual(['not-for-our-address']);
  });
});

describe('before qualification and on address change', () => {
  it('TUN packets and peer traffic are dropped while not qualified', () => {
    const net = new SimNet('port-restricted');
    net.serverUp = false;
    net.start();
    const p = echo(parseIpv6('2001:0:c612:a::1'), HOST6, 128, new Uint8Array(8));
    tun(net, p);
    net.inject(p, RELAY.addr, RELAY.port);
    expect(net.drops).toEqual([DROP['not-qualified'], DROP['not-qualified']]);
  });

  it('a new address forgets every peer (their trust was in the old mapping)', () => {
    const net = qualified();
    const me = net.client.address!;
    net.inject(echo(peer(3545), me, 128, new Uint8Array(8)), PEER_NAT, 3545);
    expect(net.client.peerSummary().trusted).toBe(1);
    net.natEpoch++;
    net.runUntil(net.now + 31_000);
    expect(net.client.address).not.toEqual(me);
    expect(net.client.peerSummary()).toEqual({ count: 0, trusted: 0, max: 1024 });
  });
});
