// RFC 4380 §5.2.4: a Teredo client sends nothing to an address that is not global unicast, whoever names it. Each
// path that takes a destination from a packet (the origin indication of an indirect packet, the UDP source it
// trusts, the server and mapping of a Teredo source it asks for proof, the server and mapping of a Teredo
// destination) is fed forged datagrams naming the host itself, its LAN, a multicast group, the broadcast
// address..., on the in-memory network with the real server engine; the capture of the whole network must show
// nothing sent to any of them, and the client must count each under its reason (issue 17: the client used to
// send 16 Echo Requests to such addresses within 8 s).

import { describe, expect, it } from 'vitest';
import { decodeEcho, decodeIcmpv6Packet, echoMessage, encodeIcmpv6Packet } from '../../src/wire/icmpv6.js';
import { NEXT_HEADER, encodeIpv6 } from '../../src/wire/ipv6.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import { encodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { encodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';
import type { TeredoClientHost } from '../fakes/teredo-net-engines.js';
import { echoReply } from '../fakes/teredo-net-native.js';
import { HOST6, PRIMARY, ROGUE, qualifiedTarget, type TeredoWorld } from './teredo-client-fixtures.js';

/** RFC 4380 §2.7: the Teredo port. */
const TEREDO = 3544;
/**
 * Not global unicast (RFC 4380 §5.2.4, RFC 6890): the addresses issue 17 measured (private, loopback, multicast,
 * limited broadcast, private), then "this network" and reserved.
 */
const NOT_GLOBAL = ['10.9.9.9', '127.0.0.1', '224.0.0.1', '255.255.255.255', '192.168.3.1', '0.1.2.3', '240.0.0.1'].map(parseIpv4);
/** Long enough for every retry a path could make: 4 tests or bubbles, 2 s apart (§5.2.4, §5.2.6, §5.2.9). */
const RETRIES_MS = 10_000;

function echo(src: Uint8Array, dst: Uint8Array, type: 128 | 129, data = new Uint8Array(8)): Uint8Array {
  return encodeIcmpv6Packet({ src, dst, hopLimit: 64 }, echoMessage(type, { id: 7, seq: 1, data }));
}

/** RFC 4380 §2.8: a bubble is an IPv6 header alone, Next Header 59 (no next header), payload length 0. */
function bubble(src: Uint8Array, dst: Uint8Array): Uint8Array {
  return encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 255, src, dst }, new Uint8Array(0));
}

const teredo = (server: number, mappedAddr: number, mappedPort: number, cone = false): Uint8Array =>
  encodeTeredoAddress({ server, cone, randomBits: 5, mappedAddr, mappedPort });

/** A client behind a full-cone NAT (which lets any forged source in: the client's own checks decide), qualified. */
function qualified() {
  const t = qualifiedTarget('full-cone');
  return { ...t, mark: t.w.log.length };
}

/** Every datagram anyone sent to a non-global address or to port 0 since `mark`, as "from -> to". */
function sentToNonGlobal(w: TeredoWorld, mark: number): string[] {
  return w.log
    .slice(mark)
    .filter((r) => r.event === 'sent' && (NOT_GLOBAL.includes(r.dst.addr) || r.dst.port === 0))
    .map((r) => `${formatIpv4(r.src.addr)}:${r.src.port} -> ${formatIpv4(r.dst.addr)}:${r.dst.port}`);
}

/**
 * Runs every retry out, then: nothing sent by anyone to a non-global address or port 0, nothing at all by `c`,
 * nothing for its host, and `reasons` counted in order.
 */
function expectRefused(w: TeredoWorld, c: TeredoClientHost, mark: number, reasons: string[]): void {
  w.runUntil(w.clock.now() + RETRIES_MS);
  expect(sentToNonGlobal(w, mark)).toEqual([]);
  expect(w.sent(c, mark)).toEqual([]);
  expect(c.tun.written).toEqual([]);
  expect(c.drops).toEqual(reasons);
}

describe('no UDP to non-global addresses (RFC 4380 §5.2.4)', () => {
  it('proof for a Teredo source from another mapping: never to a non-global server it embeds (peer-server-not-global)', () => {
    const { w, c, me, to, mark } = qualified();
    // From a global UDP source, but not the mapping the address embeds: the symmetric-NAT proof path.
    for (const server of NOT_GLOBAL) w.inet.spoof(echo(teredo(server, ROGUE, 3545), me, 128), { addr: ROGUE, port: 3333 }, to);
    expectRefused(w, c, mark, NOT_GLOBAL.map(() => 'peer-server-not-global'));
  });

  it('proof for a Teredo source from another mapping: never for a non-global mapping or port 0 (peer-mapping-not-global)', () => {
    const { w, c, me, to, mark } = qualified();
    const sources = [...NOT_GLOBAL.map((addr) => teredo(PRIMARY, addr, 3545)), teredo(PRIMARY, ROGUE, 0)];
    for (const src of sources) w.inet.spoof(echo(src, me, 128), { addr: ROGUE, port: 3333 }, to);
    // The proof would go to PRIMARY, for a mapping nothing may be sent to: none goes at all.
    expectRefused(w, c, mark, sources.map(() => 'peer-mapping-not-global'));
  });

  it('an indirect packet from our server: no bubble back to a non-global origin, nothing taken (origin-not-global)', () => {
    const { w, c, me, to, mark } = qualified();
    const origins: Endpoint4[] = [...NOT_GLOBAL.map((addr) => ({ addr, port: 3545 })), { addr: ROGUE, port: 0 }];
    const src = teredo(PRIMARY, ROGUE, 3545);
    for (const origin of origins) {
      for (const ipv6 of [bubble(src, me), echo(src, me, 128)]) w.inet.spoof(encodeTeredoPayload({ origin, ipv6 }), { addr: PRIMARY, port: TEREDO }, to);
    }
    expectRefused(w, c, mark, origins.flatMap(() => ['origin-not-global', 'origin-not-global']));
  });

  it('a non-global UDP source is never trusted: not by the reply to our test, not as a mapping its source embeds (udp-source-not-global)', () => {
    const { w, c, me, to, mark } = qualified();
    const host6 = w.nativeHost(HOST6);
    host6.respond = undefined; // the test's reply comes forged, from the addresses below
    c.stack.send(echo(me, HOST6, 128, new Uint8Array(56))); // queued while the relay is found (§5.2.9)
    c.stack.respond = echoReply; // the client's host answers what reaches it, as Linux does
    w.inet.runUntilIdle();
    const nonce = Uint8Array.from(decodeEcho(decodeIcmpv6Packet(host6.received[0]!).message).data);
    expect(nonce).toHaveLength(8);
    const sources: Endpoint4[] = [...NOT_GLOBAL.map((addr) => ({ addr, port: 3545 })), { addr: ROGUE, port: 0 }];
    for (const from of sources) {
      // §5.2.3 case 2: the reply with the right nonce, as if its relay were there; the queued packet would follow.
      w.inet.spoof(echo(HOST6, me, 129, nonce), from, to);
      // Case 3: a Teredo source embedding the UDP source it comes from; the host's answer would go there.
      w.inet.spoof(echo(teredo(PRIMARY, from.addr, from.port), me, 128), from, to);
    }
    w.inet.runUntilIdle();
    expect(sentToNonGlobal(w, mark)).toEqual([]);
    expect(c.tun.written).toEqual([]);
    expect(c.drops).toEqual(sources.flatMap(() => ['udp-source-not-global', 'udp-source-not-global']));
  });

  it('a Teredo destination embedding a non-global server: no indirect bubble, nothing queued (destination-server-not-global)', () => {
    const { w, c, me, mark } = qualified();
    for (const server of NOT_GLOBAL) c.stack.send(echo(me, teredo(server, ROGUE, 3545), 128));
    expectRefused(w, c, mark, NOT_GLOBAL.map(() => 'destination-server-not-global'));
  });

  it('a Teredo destination embedding a non-global mapping or port 0, cone bit or not: nothing sent (destination-mapping-not-global)', () => {
    const { w, c, me, mark } = qualified();
    const dsts = [...NOT_GLOBAL, ROGUE].flatMap((addr) => {
      const port = addr === ROGUE ? 0 : 3545;
      return [teredo(PRIMARY, addr, port, true), teredo(PRIMARY, addr, port, false)];
    });
    for (const dst of dsts) c.stack.send(echo(me, dst, 128));
    expectRefused(w, c, mark, dsts.map(() => 'destination-mapping-not-global'));
  });

  it('the same forged sources with global addresses do get answers (the checks above are not blanket refusals)', () => {
    const { w, c, me, to, mark } = qualified();
    const rogue2 = parseIpv4('198.18.0.31');
    w.inet.spoof(echo(teredo(rogue2, ROGUE, 3545), me, 128), { addr: ROGUE, port: 3333 }, to);
    w.inet.runUntilIdle();
    // The proof through the peer's server: an Echo Request, and RFC 6081 §5.2's bubble with a Nonce trailer.
    expect(w.sent(c, mark).map((s) => [formatIpv4(s.addr), s.port])).toEqual([['198.18.0.31', TEREDO], ['198.18.0.31', TEREDO]]);
    expect(c.drops).toEqual(['unknown-peer']);
  });
});
