// RFC 4380 §5.3.1 forwarding: bubbles and small ICMPv6 re-encapsulated to the embedded mapping (with an origin
// indication only for this server's clients), RFC 6081 trailers passed through, non-global destinations refused,
// native destinations written to the TUN device, and native packets from the TUN device sent to our clients.

import { describe, expect, it } from 'vitest';

import { hex } from '../../src/wire/bytes.js';
import { encodeIpv6, NEXT_HEADER } from '../../src/wire/ipv6.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { TEREDO_PORT } from '../../src/wire/teredo-constants.js';
import { decodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import { authWithNonce, bubble, CLIENT, datagram, echo, OTHER_CLIENT, PRIMARY, RELAY, server, teredoAddr, tun, udp, type ForwardOutput, type ServerOutput } from './teredo-server-fixtures.js';

const HOST6 = parseIpv6('2001:db8:6::100');
const RELAY_LL = parseIpv6('fe80::3c85:d813:5dc2:9d41');
const FOREIGN_SERVER = parseIpv4('203.0.113.7');
const OUR_CLIENT = teredoAddr(CLIENT);
const OUR_OTHER_CLIENT = teredoAddr(OTHER_CLIENT);
const TRAILER = Uint8Array.of(0x01, 0x04, 0xde, 0xad, 0xbe, 0xef); // an RFC 6081 nonce trailer, as bytes

function asForward(out: ServerOutput): ForwardOutput {
  if (out.kind !== 'send-udp' || out.purpose !== 'forward') throw new Error(`expected a forward, got ${JSON.stringify(out)}`);
  return out;
}

describe('forwarding to a Teredo destination', () => {
  it('relay bubble to our client: sent from primary:3544 to the embedded mapping, origin = the relay (capture frame 13)', () => {
    const b = bubble(RELAY_LL, OUR_CLIENT);
    const out = asForward(udp(server(), datagram(b), RELAY, 'primary'));
    expect(out).toMatchObject({ via: 'primary', to: CLIENT, origin: true, fromTun: false });
    // 00 00 ~58273 ~198.18.0.20, then the bubble untouched (frame 13: origin port 58273, address 198.18.0.20).
    expect(hex(out.bytes)).toBe(`0000${(58273 ^ 0xffff).toString(16)}39edffeb${hex(b)}`);
  });

  it('a bubble that arrived on the secondary address is still forwarded from the primary', () => {
    expect(asForward(udp(server(), datagram(bubble(RELAY_LL, OUR_CLIENT)), RELAY, 'secondary')).via).toBe('primary');
  });

  it('client to client of this server: origin indication = the sending client\'s mapping', () => {
    const out = asForward(udp(server(), datagram(bubble(OUR_CLIENT, OUR_OTHER_CLIENT)), CLIENT));
    expect(out.to).toEqual(OTHER_CLIENT);
    expect(decodeTeredoPayload(out.bytes).origin).toEqual(CLIENT);
  });

  it('destination served by another server: no origin indication, the packet as received', () => {
    const b = bubble(OUR_CLIENT, teredoAddr(OTHER_CLIENT, FOREIGN_SERVER));
    const out = asForward(udp(server(), datagram(b), CLIENT));
    expect(out).toMatchObject({ to: OTHER_CLIENT, origin: false });
    expect(hex(out.bytes)).toBe(hex(b));
  });

  it('passes RFC 6081 trailers through untouched, with and without an origin indication', () => {
    const withOrigin = asForward(udp(server(), datagram(bubble(RELAY_LL, OUR_CLIENT), { trailer: TRAILER }), RELAY));
    expect(hex(decodeTeredoPayload(withOrigin.bytes).trailer)).toBe(hex(TRAILER));
    const b = bubble(OUR_CLIENT, teredoAddr(OTHER_CLIENT, FOREIGN_SERVER));
    const without = asForward(udp(server(), datagram(b, { trailer: TRAILER }), CLIENT));
    expect(hex(without.bytes)).toBe(hex(b) + hex(TRAILER));
  });

  it('does not forward a received authentication header or origin indication (they concern one hop only)', () => {
    const b = bubble(RELAY_LL, OUR_CLIENT);
    const out = asForward(udp(server(), datagram(b, { auth: authWithNonce(), origin: { addr: parseIpv4('192.0.2.66'), port: 666 } }), RELAY));
    const p = decodeTeredoPayload(out.bytes);
    expect(p.auth).toBeUndefined();
    expect(p.origin).toEqual(RELAY);
    expect(hex(p.ipv6)).toBe(hex(b));
  });

  it('refuses an embedded IPv4 address that is not global unicast', () => {
    const dst = teredoAddr({ addr: parseIpv4('192.168.1.2'), port: 4000 });
    expect(udp(server(), datagram(bubble(RELAY_LL, dst)), RELAY)).toEqual({ kind: 'drop', reason: 'server-teredo-destination-not-global' });
  });

  it('refuses an embedded port 0', () => {
    const dst = teredoAddr({ addr: CLIENT.addr, port: 0 });
    expect(udp(server(), datagram(bubble(RELAY_LL, dst)), RELAY)).toEqual({ kind: 'drop', reason: 'server-teredo-destination-port-zero' });
  });

  it('never sends to its own addresses\' port 3544 (a forwarding loop)', () => {
    const dst = teredoAddr({ addr: PRIMARY, port: TEREDO_PORT });
    expect(udp(server(), datagram(bubble(RELAY_LL, dst)), RELAY)).toEqual({ kind: 'drop', reason: 'server-loop-own-address' });
  });
});

describe('non-global destinations are never forwarded', () => {
  it.each(['fe80::1', 'ff02::1', 'ff0e::1', '::1', '::'])('%s', (d) => {
    expect(udp(server(), datagram(bubble(OUR_CLIENT, parseIpv6(d))), CLIENT)).toEqual({ kind: 'drop', reason: 'server-destination-not-global' });
  });
});

describe('ICMPv6 size limit (Miredo: 88 bytes of IPv6 payload; bubbles always pass)', () => {
  it('forwards an echo of exactly 88 payload bytes and drops one of 89', () => {
    expect(udp(server(), datagram(echo(OUR_CLIENT, OUR_OTHER_CLIENT, 80)), CLIENT)).toMatchObject({ purpose: 'forward' });
    expect(udp(server(), datagram(echo(OUR_CLIENT, OUR_OTHER_CLIENT, 81)), CLIENT)).toEqual({ kind: 'drop', reason: 'server-forward-too-big' });
  });

  it('applies to the native path too', () => {
    expect(udp(server({ nativeForwarding: true }), datagram(echo(OUR_CLIENT, HOST6, 81)), CLIENT)).toEqual({ kind: 'drop', reason: 'server-forward-too-big' });
  });

  it('is configurable', () => {
    expect(udp(server({ forwardIcmpv6MaxPayload: 200 }), datagram(echo(OUR_CLIENT, OUR_OTHER_CLIENT, 150)), CLIENT)).toMatchObject({ purpose: 'forward' });
    expect(udp(server({ forwardIcmpv6MaxPayload: 0 }), datagram(echo(OUR_CLIENT, OUR_OTHER_CLIENT, 0)), CLIENT)).toEqual({ kind: 'drop', reason: 'server-forward-too-big' });
    expect(udp(server({ forwardIcmpv6MaxPayload: 0 }), datagram(bubble(OUR_CLIENT, OUR_OTHER_CLIENT)), CLIENT)).toMatchObject({ purpose: 'forward' });
  });
});

describe('native IPv6 destinations go to the TUN device', () => {
  it('writes the IPv6 packet alone (no Teredo headers, no trailer) when a TUN device is configured', () => {
    const e = echo(OUR_CLIENT, HOST6, 16);
    const out = udp(server({ nativeForwarding: true }), datagram(e, { auth: authWithNonce(), trailer: TRAILER }), CLIENT);
    expect(out.kind).toBe('write-native');
    expect(out.kind === 'write-native' && hex(out.bytes)).toBe(hex(e));
  });

  it('drops them without a TUN device', () => {
    expect(udp(server(), datagram(echo(OUR_CLIENT, HOST6, 16)), CLIENT)).toEqual({ kind: 'drop', reason: 'server-no-native-forwarding' });
  });
});

describe('packets from the TUN device (native IPv6 toward our clients)', () => {
  const s = server({ nativeForwarding: true });

  it('an echo reply for our client goes from primary:3544 to its mapping, as is, without origin indication', () => {
    const reply = echo(HOST6, OUR_CLIENT, 56, 129);
    const out = asForward(tun(s, reply));
    expect(out).toMatchObject({ via: 'primary', to: CLIENT, origin: false, fromTun: true });
    expect(hex(out.bytes)).toBe(hex(reply));
  });

  it('a bubble passes', () => {
    expect(asForward(tun(s, bubble(HOST6, OUR_CLIENT))).to).toEqual(CLIENT);
  });

  it.each([
    ['a client of another server', echo(HOST6, teredoAddr(CLIENT, FOREIGN_SERVER), 8), 'server-tun-destination-not-our-client'],
    ['a native destination', echo(HOST6, parseIpv6('2001:db8:7::1'), 8), 'server-tun-destination-not-our-client'],
    ['a Teredo source', echo(OUR_OTHER_CLIENT, OUR_CLIENT, 8), 'server-tun-source-not-native-global'],
    ['a link-local source (the kernel\'s own chatter on the device)', echo(parseIpv6('fe80::1'), OUR_CLIENT, 8), 'server-tun-link-scope'],
    ['an MLD report to a multicast group', echo(parseIpv6('2001:db8:6::5'), parseIpv6('ff02::16'), 8), 'server-tun-link-scope'],
    ['the unspecified source', echo(parseIpv6('::'), OUR_CLIENT, 8), 'server-tun-link-scope'],
    ['a site-local source', echo(parseIpv6('fec0::1'), OUR_CLIENT, 8), 'server-tun-source-not-native-global'],
    ['a big echo', echo(HOST6, OUR_CLIENT, 200), 'server-tun-too-big'],
    ['TCP', encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.TCP, hopLimit: 64, src: HOST6, dst: OUR_CLIENT }, new Uint8Array(20)), 'server-tun-not-icmpv6-or-bubble'],
    ['a truncated packet', echo(HOST6, OUR_CLIENT, 8).subarray(0, 50), 'server-tun-malformed'],
    ['bytes after the packet', Uint8Array.of(...echo(HOST6, OUR_CLIENT, 8), 0), 'server-tun-malformed'],
    ['a private embedded mapping', echo(HOST6, teredoAddr({ addr: parseIpv4('10.0.0.9'), port: 9 }), 8), 'server-tun-destination-not-global'],
    ['an embedded port 0', echo(HOST6, teredoAddr({ addr: CLIENT.addr, port: 0 }), 8), 'server-tun-destination-port-zero'],
    ['our own address as the mapping', echo(HOST6, teredoAddr({ addr: PRIMARY, port: TEREDO_PORT }), 8), 'server-loop-own-address'],
  ])('drops %s', (_what, packet, reason) => {
    expect(tun(s, packet)).toEqual({ kind: 'drop', reason });
  });
});
