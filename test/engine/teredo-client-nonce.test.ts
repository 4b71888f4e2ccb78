// The client's nonces. RFC 4380 §5.2.9: one nonce for a round of connectivity tests, so a late reply to an earlier
// test of the round still proves the relay. RFC 6081 §5.2 (Symmetric NAT Support) with the Nonce trailer of §4.2, on the in-memory network with the real
// server engine between our client and a scripted peer. Proving side: a Teredo peer whose packets come from
// another mapping than its address embeds gets, through its own server, an Echo Request (our mechanism) and an
// indirect bubble with a Nonce trailer; a direct bubble from the other mapping echoing that nonce makes the
// mapping trusted, a wrong one does not. Answering side: an indirect bubble carrying a Nonce trailer is answered
// with a direct bubble carrying the same trailer.

import { describe, expect, it } from 'vitest';
import { decodeEcho, decodeIcmpv6Packet, echoMessage, encodeIcmpv6Packet } from '../../src/wire/icmpv6.js';
import { encodeIpv6, NEXT_HEADER } from '../../src/wire/ipv6.js';
import { encodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { decodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import type { VirtualDatagramPort } from '../fakes/teredo-net-port.js';
import { echoReply } from '../fakes/teredo-net-native.js';
import { HOST6, PRIMARY, ROGUE, TeredoWorld } from './teredo-client-fixtures.js';

const TEREDO = 3544;
/** The scripted peer: a client of PRIMARY whose address embeds ROGUE:40000, its packets coming from ROGUE:41000. */
const EMBEDDED_PORT = 40000;
const REAL_PORT = 41000;
const X = encodeTeredoAddress({ server: PRIMARY, cone: false, randomBits: 9, mappedAddr: ROGUE, mappedPort: EMBEDDED_PORT });

/** RFC 4380 §2.8 bubble from `src` to `dst`, then `trailer` bytes (RFC 6081 §4.1). */
function bubble(src: Uint8Array, dst: Uint8Array, trailer: number[] = []): Uint8Array {
  const b = encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 255, src, dst }, new Uint8Array(0));
  return Uint8Array.from([...b, ...trailer]);
}

const echo = (src: Uint8Array, dst: Uint8Array, seq: number): Uint8Array => encodeIcmpv6Packet({ src, dst, hopLimit: 64 }, echoMessage(128, { id: 7, seq, data: new Uint8Array(8).fill(seq) }));

/** Collects what arrives at `port` (copies). */
function collect(port: VirtualDatagramPort): Uint8Array[] {
  const got: Uint8Array[] = [];
  port.onBatch((b) => {
    for (let i = 0; i < b.count; i++) got.push(b.data.slice(b.offset(i), b.offset(i) + b.length(i)));
  });
  return got;
}

/** Our client behind a full-cone NAT, qualified, and the scripted peer's two sockets. */
function setup() {
  const w = new TeredoWorld();
  const c = w.client('full-cone');
  w.runUntilQualified(c);
  const me = c.engine.address!;
  const rogue = w.host(ROGUE);
  const embedded = rogue.bind(EMBEDDED_PORT);
  const real = rogue.bind(REAL_PORT);
  const s = c.engine.snapshot(w.clock.now());
  return { w, c, me, embedded, real, addr: s.mappedAddr!, port: s.mappedPort!, atEmbedded: collect(embedded) };
}

describe('RFC 4380 §5.2.9: the connectivity test nonce', () => {
  it('a reply to the first test that comes after the second was sent still trusts the relay; the queued packet goes', () => {
    const { w, c, me } = setup();
    w.relay();
    const host6 = w.nativeHost(HOST6);
    host6.respond = undefined; // silent at first, as a server waiting on its neighbour discovery
    const userPing = encodeIcmpv6Packet({ src: me, dst: HOST6, hopLimit: 64 }, echoMessage(128, { id: 1, seq: 1, data: new Uint8Array(56) }));
    c.stack.send(userPing);
    w.runUntil(w.clock.now() + 2500);
    expect(host6.received).toHaveLength(2); // two tests of the round, 2 s apart
    host6.send(echoReply(host6.received[0]!)!);
    w.inet.runUntilIdle();
    expect(host6.received.map((p) => decodeEcho(decodeIcmpv6Packet(p).message).data.length)).toEqual([8, 8, 56]);
  });
});

describe('RFC 6081 §5.2: the Nonce trailer', () => {
  it('proving a peer from another mapping: an indirect bubble with a Nonce trailer through its server; the echo from that mapping trusts it', () => {
    const { w, c, me, real, addr, port, atEmbedded } = setup();
    const first = echo(X, me, 1);
    real.send(first, 0, first.length, addr, port);
    w.inet.runUntilIdle();
    expect(c.drops).toEqual(['unknown-peer']);
    // The server delivered both to the mapping X's address embeds: the Echo Request, and the bubble with its trailer.
    const bubbles = atEmbedded.map((d) => decodeTeredoPayload(d)).filter((p) => p.ipv6.length === 40);
    expect(bubbles).toHaveLength(1);
    const trailer = bubbles[0]!.trailer;
    expect([...trailer.subarray(0, 2)]).toEqual([0x01, 0x04]); // §4.2: type 1, length 4
    // A wrong nonce from the real mapping proves nothing.
    const wrong = bubble(X, me, [0x01, 0x04, trailer[2]! ^ 0xff, trailer[3]!, trailer[4]!, trailer[5]!]);
    real.send(wrong, 0, wrong.length, addr, port);
    w.inet.runUntilIdle();
    expect(c.drops).toEqual(['unknown-peer', 'unknown-peer']);
    // The echo: trusted there, and the next packet from there reaches the host.
    const proof = bubble(X, me, [...trailer]);
    real.send(proof, 0, proof.length, addr, port);
    const data = echo(X, me, 2);
    real.send(data, 0, data.length, addr, port);
    w.inet.runUntilIdle();
    expect(c.tun.written).toEqual([data]);
    expect(c.drops).toEqual(['unknown-peer', 'unknown-peer']);
  });

  // (From the mapping X's address embeds: the server forwards only what its source address vouches for.)
  it('answering: an indirect bubble with a Nonce trailer gets a direct bubble carrying the same trailer', () => {
    const { w, me, embedded, atEmbedded: got } = setup();
    const withNonce = bubble(X, me, [0x01, 0x04, 0xde, 0xad, 0xbe, 0xef]);
    embedded.send(withNonce, 0, withNonce.length, PRIMARY, TEREDO);
    w.inet.runUntilIdle();
    expect(got).toHaveLength(1);
    expect(got[0]!.length).toBe(46);
    expect([...got[0]!.subarray(40)]).toEqual([0x01, 0x04, 0xde, 0xad, 0xbe, 0xef]);
  });

  it('answering an indirect bubble without one: a plain 40-byte bubble (RFC 4380)', () => {
    const { w, me, embedded, atEmbedded: got } = setup();
    const plain = bubble(X, me);
    embedded.send(plain, 0, plain.length, PRIMARY, TEREDO);
    w.inet.runUntilIdle();
    expect(got.map((d) => d.length)).toEqual([40]);
  });
});
