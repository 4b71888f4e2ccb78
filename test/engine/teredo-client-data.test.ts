// The qualified client's data path (RFC 4380 §5.2.3, §5.2.4, §5.2.6, §5.2.9) on the in-memory network, in
// virtual time, with the real server engine between clients, the real relay engine and a native IPv6 host behind
// it, real Teredo peers behind their own NATs, and scripted hosts where a test needs a forged packet: relay
// discovery by the direct connectivity test, bubbles to Teredo peers with their pacing, the acceptance cases,
// the link-local filter, and the bounds.

import { describe, expect, it } from 'vitest';
import type { TeredoClientParams } from '../../src/engine/teredo/client/client-types.js';
import { ICMPV6_TYPE, decodeIcmpv6Packet, decodeEcho, echoMessage, encodeIcmpv6Packet } from '../../src/wire/icmpv6.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { encodeNdiscPacket } from '../../src/wire/ndisc.js';
import { decodeTeredoAddress, encodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { decodeIpv6, encodeIpv6, NEXT_HEADER } from '../../src/wire/ipv6.js';
import type { TeredoClientHost } from '../fakes/teredo-net-engines.js';
import { echoReply } from '../fakes/teredo-net-native.js';
import { HOST6, PRIMARY, RELAY, ROGUE, TeredoWorld, prefixOption, qualifiedTarget, type Sent, type Site } from './teredo-client-fixtures.js';

/** RFC 4380 §2.7: the Teredo port. */
const TEREDO = 3544;
/** RFC 4380 §5.2.4 (2), (5), §5.2.6: 2 s between bubbles or connectivity tests to a peer being reached. */
const RETRY_MS = 2000;
/** RFC 4380 §5.2.4: a peer is valid while heard from less than 30 s ago. */
const VALID_MS = 30_000;
/** The address of a scripted Teredo peer: PRIMARY's client behind ROGUE's address. */
const peer = (port: number, cone = false): Uint8Array => encodeTeredoAddress({ server: PRIMARY, cone, randomBits: 5, mappedAddr: ROGUE, mappedPort: port });

function echo(src: Uint8Array, dst: Uint8Array, type: 128 | 129, data: Uint8Array, hopLimit = 64): Uint8Array {
  return encodeIcmpv6Packet({ src, dst, hopLimit }, echoMessage(type, { id: 7, seq: 1, data }));
}

/** RFC 4380 §2.8: a bubble is an IPv6 header alone, Next Header 59 (no next header), payload length 0. */
function bubble(src: Uint8Array, dst: Uint8Array): Uint8Array {
  return encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 255, src, dst }, new Uint8Array(0));
}
const isBubble = (s: Sent): boolean => s.data.length === 40 && s.data[6] === 59;

/** A world with `site`'s client qualified, and the log position from which its data traffic starts. */
function qualified(site: Site = 'port-restricted', w = new TeredoWorld(), params: Partial<TeredoClientParams> = {}) {
  const c = w.client(site, params);
  w.runUntilQualified(c);
  expect(c.engine.state).toBe('qualified');
  return { w, c, me: c.engine.address!, mark: w.log.length };
}

/** Another client of PRIMARY behind its own `site` NAT, qualified. */
function peerClient(w: TeredoWorld, site: Site): TeredoClientHost {
  const p = w.client(site, {}, { seed: 7 });
  w.runUntilQualified(p);
  expect(p.engine.state).toBe('qualified');
  return p;
}

/** A qualified client at `site` sends an Echo Request to a qualified peer at `peerSite`: what it sent, until idle. */
function sendToPeer(site: Site, peerSite: Site) {
  const { w, c, me } = qualified(site);
  const p = peerClient(w, peerSite);
  const mark = w.log.length;
  const data = echo(me, p.engine.address!, 128, new Uint8Array(8));
  c.stack.send(data);
  w.inet.runUntilIdle();
  return { w, c, p, data, sent: w.sent(c, mark) };
}

/** The endpoint a client's address embeds (its mapping toward its server). */
function mapping(c: TeredoClientHost): [number, number] {
  const a = decodeTeredoAddress(c.engine.address!);
  return [a.mappedAddr, a.mappedPort];
}

describe('native destinations: relay discovery (§5.2.9)', () => {
  it('queues, pings through the server with a nonce, trusts the relay the reply comes from, then sends the queue there', () => {
    const { w, c, me, mark } = qualified();
    w.relay();
    const host6 = w.nativeHost(HOST6);
    const userPing = echo(me, HOST6, 128, new Uint8Array(56).fill(1));
    c.stack.send(userPing);
    w.inet.runUntilIdle();
    const [test, answer, flushed, ...rest] = w.sent(c, mark);
    expect([test!.addr, test!.port]).toEqual([PRIMARY, TEREDO]);
    const req = decodeIcmpv6Packet(test!.data);
    expect(req.message.type).toBe(ICMPV6_TYPE.ECHO_REQUEST);
    expect(formatIpv6(req.header.dst)).toBe('2001:db8:6::100');
    expect(decodeEcho(req.message).data).toHaveLength(8); // §5.2.9: a nonce of 64 bits
    // The server forwarded it to the native host; the reply came to the relay, whose indirect bubble through our
    // server (§5.4.1) the client answered with a direct bubble, opening its NAT; then the queued packet went out.
    expect([answer!.addr, answer!.port, isBubble(answer!)]).toEqual([RELAY.addr, RELAY.port, true]);
    expect(flushed).toMatchObject({ addr: RELAY.addr, port: RELAY.port, data: userPing });
    expect(rest).toEqual([]);
    expect(host6.received.map((p) => decodeEcho(decodeIcmpv6Packet(p).message).data.length)).toEqual([8, 56]);
    // The reply to our test was not the host's business; the reply to its own ping was.
    expect(c.tun.written.map((p) => decodeEcho(decodeIcmpv6Packet(p).message).data.length)).toEqual([56]);
    // From now on both ways go straight through the relay.
    const since = w.log.length;
    c.stack.send(userPing);
    w.inet.runUntilIdle();
    expect(w.sent(c, since).map((s) => [s.addr, s.port])).toEqual([[RELAY.addr, RELAY.port]]);
    expect(c.tun.written).toHaveLength(2);
    expect(c.drops).toEqual([]);
  });

  it('a reply with the wrong nonce is not trusted; 4 tests 2 s apart, then the queued packets are dropped', () => {
    const { w, c, me, mark } = qualified();
    w.relay();
    const host6 = w.nativeHost(HOST6);
    // A host that answers with other data than it was sent: not the nonce of the test.
    host6.respond = () => echo(HOST6, me, 129, new Uint8Array(8).fill(9));
    const t0 = w.clock.now();
    c.stack.send(echo(me, HOST6, 128, new Uint8Array(8)));
    w.runUntil(t0 + 10_000);
    const pings = w.sent(c, mark).filter((s) => s.addr === PRIMARY && s.data[40] === 128);
    expect(pings.map((p) => p.at - t0)).toEqual([0, RETRY_MS, 2 * RETRY_MS, 3 * RETRY_MS]);
    expect(host6.received).toHaveLength(4);
    // The wrong replies are held while the test runs (2 per peer, the rest refused), never delivered.
    expect(c.drops).toEqual(['held-full', 'held-full', 'held-not-proven', 'held-not-proven', 'peer-unreachable']);
    // The local stack learns it at once: Destination Unreachable, address unreachable, quoting the packet.
    expect(c.tun.written).toHaveLength(1);
    const err = decodeIcmpv6Packet(c.tun.written[0]!);
    expect([err.message.type, err.message.code]).toEqual([1, 3]); // RFC 4443 §3.1
    expect(formatIpv6(err.header.dst)).toBe(formatIpv6(me));
    expect(formatIpv6(err.header.src)).toBe('fe80::ffff:ffff:ffff');
    expect(formatIpv6(decodeIpv6(err.message.body.subarray(4)).header.dst)).toBe('2001:db8:6::100');
  });

  it('a native host reaching the client through an unknown relay is held and tested, delivered once the relay is proven (CVE-2006-6266)', () => {
    const { w, c, me, mark } = qualified();
    w.relay();
    const host6 = w.nativeHost(HOST6);
    host6.respond = echoReply;
    const first = echo(HOST6, me, 128, new Uint8Array(8).fill(1));
    host6.send(first);
    w.inet.runUntilIdle();
    // The relay's bubble was answered; the test went through our server, never to the relay's IPv4 address; the
    // host answered it through the relay, which is trusted now: the held packet is delivered (Miredo's 5/5).
    const sent = w.sent(c, mark);
    expect(sent.slice(0, 2).map((s) => [s.addr, isBubble(s) ? 'bubble' : s.data[40]])).toEqual([
      [RELAY.addr, 'bubble'],
      [PRIMARY, 128],
    ]);
    expect(c.tun.written).toEqual([first]);
    expect(c.drops).toEqual([]);
    const second = echo(HOST6, me, 128, new Uint8Array(8).fill(2));
    host6.send(second);
    w.inet.runUntilIdle();
    expect(c.tun.written).toEqual([first, second]);
  });

  it('a packet claiming a native source through another relay than the one the test proves is never delivered', () => {
    const { w, c, me, to } = qualifiedTarget('full-cone');
    w.relay();
    const host6 = w.nativeHost(HOST6);
    host6.respond = echoReply;
    // A forger at ROGUE claims HOST6's address first; the test's reply comes back through the real relay.
    const forged = echo(HOST6, me, 128, new Uint8Array(8).fill(9));
    w.inet.spoof(forged, { addr: ROGUE, port: 3333 }, to);
    w.inet.runUntilIdle();
    expect(c.tun.written).toEqual([]);
    expect(c.drops).toEqual(['held-not-proven']);
  });

  it('a native source that never answers the test: its held packets are dropped when the test gives up', () => {
    const { w, c, me, to } = qualifiedTarget('full-cone');
    // No relay and no host: the test through the server goes nowhere.
    for (let i = 0; i < 3; i++) w.inet.spoof(echo(HOST6, me, 128, new Uint8Array(8).fill(i)), { addr: ROGUE, port: 3333 }, to);
    w.inet.runUntilIdle();
    // 2 held per peer; the third is refused by the bound; 4 tests 2 s apart, then both held are dropped.
    expect(c.drops).toEqual(['held-full']);
    w.runUntil(w.clock.now() + 4 * RETRY_MS);
    expect(c.tun.written).toEqual([]);
    expect(c.drops).toEqual(['held-full', 'held-not-proven', 'held-not-proven']);
  });
  it('a trusted native host whose packets come through another relay (anycast relays, one withdrawn) is tested again and moves there', () => {
    const { w, c, me } = qualified();
    w.relay();
    const host6 = w.nativeHost(HOST6);
    c.stack.send(echo(me, HOST6, 128, new Uint8Array(8)));
    w.inet.runUntilIdle();
    expect(c.drops).toEqual([]);
    // The native side now routes the client through a second relay (the upstream withdrew the first's route).
    const other = { addr: parseIpv4('198.18.0.21'), port: 3545 };
    w.relay(other, { prefix: me, length: 128 }, 4);
    const mark = w.log.length;
    const moved = echo(HOST6, me, 128, new Uint8Array(8).fill(3));
    host6.send(moved);
    w.inet.runUntilIdle();
    // Held, not accepted untested (CVE-2006-6266): a test through our server, answered through the new relay,
    // whose reply proves that relay and releases the packet.
    expect(c.drops).toEqual([]);
    expect(c.tun.written).toContainEqual(moved);
    expect(w.sent(c, mark).map((s) => [s.addr, isBubble(s) ? 'bubble' : s.data[40]])).toEqual([
      [other.addr, 'bubble'],
      [PRIMARY, 128],
    ]);
    // From now on both ways go through the new relay.
    const since = w.log.length;
    c.stack.send(echo(me, HOST6, 128, new Uint8Array(8)));
    const next = echo(HOST6, me, 128, new Uint8Array(8).fill(4));
    host6.send(next);
    w.inet.runUntilIdle();
    expect(w.sent(c, since).map((s) => [s.addr, s.port])).toEqual([[other.addr, other.port]]);
    expect(c.tun.written).toContainEqual(next);
    expect(c.drops).toEqual([]);
  });
});

describe('Teredo destinations (§5.2.4 cases 4, 5; §5.2.6)', () => {
  it('non-cone peer: queue, indirect bubble through its server and direct bubble; its direct bubble back makes it trusted', () => {
    const { w, c, p, data, sent } = sendToPeer('port-restricted', 'port-restricted');
    const [indirect, direct, queued, ...rest] = sent;
    expect([indirect, direct].map((s) => [s!.addr, s!.port, isBubble(s!)])).toEqual([
      [PRIMARY, TEREDO, true],
      [...mapping(p), true],
    ]);
    // The peer's NAT refused our direct bubble, but it opened ours: the peer's answer got in (case 3).
    expect(w.log.find((r) => r.src.port === c.main.local.port && r.event === 'nat-filtered')).toBeDefined();
    expect(queued).toMatchObject({ addr: mapping(p)[0], port: mapping(p)[1], data });
    expect(rest).toEqual([]);
    expect(p.tun.written).toEqual([data]);
    expect(c.tun.written).toHaveLength(0);
  });

  it('bubble pacing: >= 2 s apart, at most 4 in 300 s, then the queue is dropped', () => {
    const { w, c, me, mark } = qualified();
    const them = peer(3545); // nobody there
    const t0 = w.clock.now();
    c.stack.send(echo(me, them, 128, new Uint8Array(8)));
    // More packets for the same peer meanwhile do not add bubbles.
    for (let i = 0; i < 5; i++) {
      w.runUntil(w.clock.now() + 300);
      c.stack.send(echo(me, them, 128, new Uint8Array(8)));
    }
    w.runUntil(t0 + 60_000);
    const indirect = w
      .sent(c, mark)
      .filter((s) => s.addr === PRIMARY && isBubble(s))
      .map((s) => s.at - t0);
    // RFC 4380 §5.2.6: no bubble within 2 s of the last, none after 4 in 300 s without an answer.
    expect(indirect).toEqual([0, RETRY_MS, 2 * RETRY_MS, 3 * RETRY_MS]);
    // The 6 queued packets are dropped when the bubbles are exhausted; one error reaches the local stack, the
    // rate limit (one per 100 ms) holds back the other five.
    expect(c.drops).toEqual(Array(6).fill('peer-unreachable'));
    expect(c.tun.written).toHaveLength(1);
    expect(c.engine.snapshot(w.clock.now()).counters).toMatchObject({ unreachableSent: 1, unreachableLimited: 5 });
  });

  it('the per-peer queue holds two full-size packets; more are refused while the peer is being reached', () => {
    const { w, c, me } = qualified();
    for (let i = 0; i < 3; i++) c.stack.send(echo(me, peer(3545), 128, new Uint8Array(1280 - 48))); // 1280 bytes
    w.inet.runUntilIdle();
    expect(c.drops).toEqual(['queue-full']);
  });

  it('cone peer: sent straight to its embedded mapping', () => {
    const { p, data, sent } = sendToPeer('port-restricted', 'full-cone');
    expect(sent).toEqual([expect.objectContaining({ addr: mapping(p)[0], port: mapping(p)[1], data })]);
    expect(p.tun.written).toEqual([data]);
  });

  it('a cone client sends only the indirect bubble (its NAT needs no hole)', () => {
    const { p, data, sent } = sendToPeer('full-cone', 'port-restricted');
    expect(sent.map((s) => [s.addr, isBubble(s)])).toEqual([
      [PRIMARY, true],
      [mapping(p)[0], false], // the queued packet, once the peer's bubble came back
    ]);
    expect(p.tun.written).toEqual([data]);
  });
});

describe('reception (§5.2.3)', () => {
  it('an indirect bubble (through the server, with origin) is answered with a direct bubble to the origin', () => {
    const { w, c, me } = qualified();
    const relay = w.host(ROGUE).bind(3545);
    const got: Uint8Array[] = [];
    relay.onBatch((b) => got.push(b.data.slice(b.offset(0), b.offset(0) + b.length(0))));
    const b = bubble(parseIpv6('fe80::3c85:d813:5dc2:9d41'), me);
    relay.send(b, 0, b.length, PRIMARY, TEREDO);
    w.inet.runUntilIdle();
    expect(got).toHaveLength(1);
    expect(formatIpv6(decodeIpv6(got[0]!).header.dst)).toBe('fe80::3c85:d813:5dc2:9d41');
    // A second one within 2 s: no second bubble (§5.2.6).
    relay.send(b, 0, b.length, PRIMARY, TEREDO);
    w.inet.runUntilIdle();
    expect(got).toHaveLength(1);
    expect(c.tun.written).toHaveLength(0);
  });

  it('a trusted peer silent for 30 s gets bubbles again; its answer sends what was queued meanwhile (RFC 4380 alone)', () => {
    // Server load reduction off: its solicitation would come first (RFC 6081 §5.7, teredo-client-load.test.ts).
    const { w, c, me } = qualified('port-restricted', new TeredoWorld(), { serverLoadReduction: false });
    const p = peerClient(w, 'port-restricted');
    const them = p.engine.address!;
    p.stack.send(echo(them, me, 128, new Uint8Array(8))); // through the bubble exchange: trusted (case 3)
    w.inet.runUntilIdle();
    expect(c.tun.written).toHaveLength(1);
    const heard = w.clock.now();
    for (let t = 1; t <= 2; t++) {
      w.runUntil(heard + t * 10_000);
      const mark = w.log.length;
      c.stack.send(echo(me, them, 128, new Uint8Array(8)));
      w.inet.runUntilIdle();
      expect(w.sent(c, mark).map((s) => [s.addr, s.port])).toEqual([mapping(p)]);
    }
    // 31 s after the peer was last heard: queued, and bubbles go out (indirect, then direct).
    w.runUntil(heard + VALID_MS + 1000);
    const mark = w.log.length;
    const queued = echo(me, them, 128, new Uint8Array(8).fill(4));
    c.stack.send(queued);
    w.inet.runUntilIdle();
    const sent = w.sent(c, mark);
    expect(sent.map((s) => [s.addr, isBubble(s)])).toEqual([
      [PRIMARY, true],
      [mapping(p)[0], true],
      [mapping(p)[0], false],
    ]);
    expect(sent[2]!.data).toEqual(queued);
    expect(c.drops).toEqual([]);
  });

  it('a Teredo peer whose address embeds the UDP source is accepted (case 3); a mismatching one is not', () => {
    const { w, c, me } = qualified('full-cone'); // lets any source in: the client's own checks decide
    const rogue = w.host(ROGUE);
    const packet = echo(peer(3545), me, 128, new Uint8Array(8));
    rogue.bind(3545).send(packet, 0, packet.length, ...mapping(c));
    const lie = echo(peer(3546), me, 128, new Uint8Array(8));
    rogue.bind(9999).send(lie, 0, lie.length, ...mapping(c));
    w.inet.runUntilIdle();
    expect(c.tun.written).toEqual([packet]);
    expect(c.drops).toEqual(['unknown-peer']);
  });

  it('RFC 6081 trailers after the IPv6 packet are ignored: the packet alone reaches the TUN device', () => {
    const { w, c, me } = qualified('full-cone');
    const packet = echo(peer(3545), me, 128, new Uint8Array(8));
    // A Nonce trailer (RFC 6081 §4.2: type 1, length 4) and an unknown one (type 0x7f, length 2).
    const withTrailers = new Uint8Array([...packet, 0x01, 0x04, 0xde, 0xad, 0xbe, 0xef, 0x7f, 0x02, 0x00, 0x00]);
    w.host(ROGUE).bind(3545).send(withTrailers, 0, withTrailers.length, ...mapping(c));
    w.inet.runUntilIdle();
    expect(c.tun.written).toEqual([packet]);
    expect(c.drops).toEqual([]);
  });

  it('link-local sources from peers never reach the TUN device: a forged RA with a prefix, a redirect', () => {
    const { w, c, me } = qualified('full-cone');
    const rogue = w.host(ROGUE).bind(3545);
    const ll = parseIpv6('fe80::1');
    const forgedRa = encodeNdiscPacket(
      { src: ll, dst: me, hopLimit: 255 },
      { kind: 'router-advert', curHopLimit: 64, managed: false, otherConfig: false, homeAgent: false, preference: 0, routerLifetimeSec: 1800, reachableTimeMs: 0, retransTimerMs: 0, options: [prefixOption(PRIMARY)] },
    );
    const redirect = encodeIcmpv6Packet({ src: ll, dst: me, hopLimit: 255 }, { type: 137, code: 0, body: new Uint8Array(36) });
    const llEcho = echo(ll, me, 128, new Uint8Array(8));
    for (const p of [forgedRa, redirect, llEcho]) rogue.send(p, 0, p.length, ...mapping(c));
    w.inet.runUntilIdle();
    expect(c.tun.written).toEqual([]);
    expect(c.drops).toEqual(['ra-source-not-server', 'link-local-source', 'link-local-source']);
  });

  it('a peer behind a symmetric NAT (packets from another mapping than its address embeds) is trusted after proof', () => {
    const { w, c, me } = qualified('full-cone');
    const otherServer = parseIpv4('198.18.0.50');
    w.addServer(otherServer, otherServer + 1);
    const x = w.client('symmetric', { primary: otherServer }, { seed: 9 });
    w.runUntilQualified(x);
    const xa = x.engine.address!;
    const mark = w.log.length;
    x.stack.respond = echoReply; // its host answers Echo Requests, as Linux does
    // The peer sends to our cone mapping from the port its NAT picked for us, not the one its address embeds:
    // dropped, and a proof is asked for through ITS server, which delivers only to the embedded mapping.
    const data = echo(xa, me, 128, new Uint8Array(8).fill(3));
    x.stack.send(data);
    w.inet.runUntilIdle();
    const proof = w.sent(c, mark).find((s) => !isBubble(s))!;
    expect([proof.addr, proof.port]).toEqual([otherServer, TEREDO]);
    const req = decodeIcmpv6Packet(proof.data);
    expect([req.message.type, formatIpv6(req.header.dst)]).toEqual([128, formatIpv6(xa)]);
    // The first packet was dropped, and the peer's answering bubble too (not yet proven); the reply to the proof
    // came from the real mapping with the nonce, and was ours, not the host's.
    expect(c.drops).toEqual(['unknown-peer', 'unknown-peer']);
    expect(c.tun.written).toEqual([]);
    x.stack.send(data);
    w.inet.runUntilIdle();
    expect(c.tun.written).toEqual([data]);
    const from = w.log.filter((r) => r.event === 'delivered' && r.dst.port === c.main.local.port && r.src.addr === mapping(x)[0]).at(-1)!.src;
    expect(from.port).not.toBe(mapping(x)[1]); // symmetric: not the mapping its address embeds
    const since = w.log.length;
    c.stack.send(echo(me, xa, 129, new Uint8Array(8).fill(3)));
    w.inet.runUntilIdle();
    expect(w.sent(c, since).map((s) => [s.addr, s.port])).toEqual([[from.addr, from.port]]);
    // A wrong nonce from yet another port proves nothing.
    const drops = c.drops.length;
    w.inet.spoof(echo(xa, me, 129, new Uint8Array(8)), { addr: from.addr, port: 3333 }, { addr: mapping(c)[0], port: mapping(c)[1] });
    w.inet.runUntilIdle();
    expect(c.drops.slice(drops)).toEqual(['unknown-peer']);
  });

  it('packets for another address are dropped', () => {
    const { w, c } = qualified('full-cone');
    const packet = echo(peer(3545), peer(1), 128, new Uint8Array(8));
    w.host(ROGUE).bind(3545).send(packet, 0, packet.length, ...mapping(c));
    w.inet.runUntilIdle();
    expect(c.drops).toEqual(['not-for-our-address']);
  });
});

describe('before qualification and on address change', () => {
  it('TUN packets and peer traffic are dropped while not qualified', () => {
    const w = new TeredoWorld();
    w.server.stop();
    const c = w.client('full-cone');
    const p = echo(parseIpv6('2001:0:c612:a::1'), HOST6, 128, new Uint8Array(8));
    c.stack.send(p);
    w.inet.spoof(p, RELAY, { addr: parseIpv4('198.18.0.101'), port: c.main.local.port });
    w.inet.runUntilIdle();
    expect(c.drops).toEqual(['not-qualified', 'not-qualified']);
  });

  it('a new address forgets every peer (their trust was in the old mapping)', () => {
    const { w, c, me } = qualified();
    const p = peerClient(w, 'port-restricted');
    p.stack.send(echo(p.engine.address!, me, 128, new Uint8Array(8)));
    w.inet.runUntilIdle();
    expect(c.engine.peerSummary().trusted).toBe(1);
    w.remap(c);
    w.runUntil(w.clock.now() + VALID_MS + 1000);
    expect(c.engine.address).not.toEqual(me);
    expect(c.engine.peerSummary()).toEqual({ count: 0, trusted: 0, max: 1024 });
  });
});
