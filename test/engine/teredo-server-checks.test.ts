// RFC 4380 §5.3.1: one test per validity check (cases 1-7, in the RFC's order), the routing-loop drop, and the
// address predicates behind them.

import { describe, expect, it } from 'vitest';
import { isGlobalUnicast6 } from '../../src/wire/ipv6-address.js';
import { isUnicast4 } from '../../src/wire/ipv4.js';
import { encodeIpv6, NEXT_HEADER } from '../../src/wire/ipv6.js';
import { ALL_ROUTERS, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { teredoServerLinkLocal } from '../../src/wire/teredo-address.js';
import { TEREDO_PORT } from '../../src/wire/teredo-constants.js';
import { MIREDO_RS } from '../fakes/miredo-captures.js';
import { bubble, CLIENT, datagram, echo, OTHER_CLIENT, PRIMARY, RELAY, rsDatagram, SECONDARY, server, teredoAddr, udp } from './teredo-server-fixtures.js';

const HOST6 = parseIpv6('2001:db8:6::100');
const OUR_CLIENT = teredoAddr(CLIENT);
const OUR_OTHER_CLIENT = teredoAddr(OTHER_CLIENT);
const FOREIGN_CLIENT = teredoAddr(OTHER_CLIENT, parseIpv4('203.0.113.7'));

describe('routing-loop protection', () => {
  it('drops UDP from either of our own addresses with source port 3544, before anything else', () => {
    const s = server();
    expect(udp(s, MIREDO_RS, { addr: PRIMARY, port: TEREDO_PORT })).toEqual({ kind: 'drop', reason: 'server-loop-own-address' });
    expect(udp(s, MIREDO_RS, { addr: SECONDARY, port: TEREDO_PORT }, 'secondary')).toEqual({ kind: 'drop', reason: 'server-loop-own-address' });
    // Even garbage from there is counted as a loop, not as malformed.
    expect(udp(s, new Uint8Array(3), { addr: PRIMARY, port: TEREDO_PORT })).toEqual({ kind: 'drop', reason: 'server-loop-own-address' });
  });

  it('only port 3544 counts: a client on the server host itself is still answered', () => {
    expect(udp(server(), MIREDO_RS, { addr: PRIMARY, port: 40000 })).toMatchObject({ purpose: 'ra' });
  });
});

describe('§5.3.1 case 1: not a well-formed Teredo IPv6 packet -> MUST discard', () => {
  const s = server();
  const rs = rsDatagram();
  it.each([
    ['empty', new Uint8Array(0)],
    ['shorter than an IPv6 header', rs.subarray(0, 13 + 39)],
    ['IPv6 payload length beyond the datagram', rs.subarray(0, rs.length - 1)],
    ['auth header cut inside the nonce', rs.subarray(0, 8)],
    ['auth header whose ID length runs past the end', Uint8Array.of(0, 1, 200, 0, ...new Uint8Array(60))],
    ['IP version 4', (() => { const b = rs.slice(); b[13] = 0x45; return b; })()],
    ['origin indication and nothing else', Uint8Array.of(0, 0, 1, 2, 3, 4, 5, 6)],
  ])('%s', (_what, bytes) => {
    expect(udp(s, bytes)).toEqual({ kind: 'drop', reason: 'server-case-1-not-teredo-ipv6' });
  });

  it('bytes after the IPv6 packet are RFC 6081 trailers, not a malformation', () => {
    const withTrailer = Uint8Array.of(...rsDatagram(), 0x01, 0x04, 1, 2, 3, 4);
    expect(udp(s, withTrailer)).toMatchObject({ kind: 'send-udp', purpose: 'ra' });
  });
});

describe('§5.3.1 case 2: neither a bubble nor ICMPv6 -> SHOULD discard', () => {
  const s = server();
  it('drops UDP-over-IPv6 from a client', () => {
    const udp6 = encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.UDP, hopLimit: 64, src: OUR_CLIENT, dst: HOST6 }, new Uint8Array(16));
    expect(udp(s, datagram(udp6))).toEqual({ kind: 'drop', reason: 'server-case-2-not-icmpv6-or-bubble' });
  });

  it('drops "no next header" with a payload (a bubble has payload length 0)', () => {
    const fat = encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 64, src: OUR_CLIENT, dst: OUR_OTHER_CLIENT }, new Uint8Array(8));
    expect(udp(s, datagram(fat))).toEqual({ kind: 'drop', reason: 'server-case-2-not-icmpv6-or-bubble' });
  });

  it('drops ICMPv6 behind an extension header (only a direct ICMPv6 Next Header counts, as in Miredo)', () => {
    const hbh = encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.HOP_BY_HOP, hopLimit: 64, src: OUR_CLIENT, dst: HOST6 }, Uint8Array.of(58, 0, 1, 4, 0, 0, 0, 0));
    expect(udp(s, datagram(hbh))).toEqual({ kind: 'drop', reason: 'server-case-2-not-icmpv6-or-bubble' });
  });
});

describe('§5.3.1 case 3: IPv4 source not global unicast -> MUST discard', () => {
  it.each(['10.1.2.3', '192.168.1.2', '172.16.0.1', '127.0.0.1', '169.254.1.1', '224.0.0.253', '0.1.2.3', '255.255.255.255', '192.88.99.1'])('%s', (addr) => {
    expect(udp(server(), MIREDO_RS, { addr: parseIpv4(addr), port: 5000 })).toEqual({ kind: 'drop', reason: 'server-case-3-source-not-global' });
  });

  it('also drops source port 0, which no NAT maps and no RA could reach', () => {
    expect(udp(server(), MIREDO_RS, { addr: CLIENT.addr, port: 0 })).toEqual({ kind: 'drop', reason: 'server-case-3-source-port-zero' });
  });

  it('--allow-non-global (labs on private space) accepts private unicast sources, never loopback or multicast', () => {
    const lab = server({ primary: parseIpv4('10.0.0.1'), secondary: parseIpv4('10.0.0.2'), allowNonGlobal: true });
    expect(udp(lab, MIREDO_RS, { addr: parseIpv4('10.9.9.9'), port: 5000 })).toMatchObject({ purpose: 'ra' });
    expect(udp(lab, MIREDO_RS, { addr: parseIpv4('127.0.0.1'), port: 5000 })).toEqual({ kind: 'drop', reason: 'server-case-3-source-not-global' });
    expect(udp(lab, MIREDO_RS, { addr: parseIpv4('239.1.1.1'), port: 5000 })).toEqual({ kind: 'drop', reason: 'server-case-3-source-not-global' });
  });
});

describe('§5.3.1 case 4: link-local source, destination ff02::2, a Router Solicitation -> MUST accept', () => {
  it('answers a Vista+ RS from fe80::ffff:ffff:ffff', () => {
    expect(udp(server(), MIREDO_RS)).toMatchObject({ kind: 'send-udp', purpose: 'ra' });
  });

  it('any link-local source will do (the XP cone address, a random interface id)', () => {
    expect(udp(server(), rsDatagram({ src: parseIpv6('fe80::8000:5445:5245:444f') }))).toMatchObject({ purpose: 'ra' });
    expect(udp(server(), rsDatagram({ src: parseIpv6('fe80::1234:5678:9abc:def0') }))).toMatchObject({ purpose: 'ra' });
  });

  it('an RS from a native global source to ff02::2 is not case 4 and falls through to case 7', () => {
    expect(udp(server(), rsDatagram({ src: HOST6 }))).toEqual({ kind: 'drop', reason: 'server-case-7-destination-not-our-client' });
  });

  it('an echo from a link-local source to ff02::2 is not case 4 either', () => {
    expect(udp(server(), datagram(echo(parseIpv6('fe80::1'), ALL_ROUTERS, 8)))).toEqual({ kind: 'drop', reason: 'server-case-7-destination-not-our-client' });
  });
});

describe('§5.3.1 case 5: Teredo source whose mapping is the IPv4 source -> SHOULD accept', () => {
  it('accepts a bubble from a client whose address embeds the datagram source', () => {
    expect(udp(server(), datagram(bubble(OUR_CLIENT, OUR_OTHER_CLIENT)))).toMatchObject({ kind: 'send-udp', purpose: 'forward' });
  });

  it('accepts a client of another server too (the RFC does not ask whose client the source is)', () => {
    const foreignSource = teredoAddr(CLIENT, parseIpv4('203.0.113.7'));
    expect(udp(server(), datagram(bubble(foreignSource, OUR_OTHER_CLIENT)))).toMatchObject({ purpose: 'forward' });
  });

  it('drops a Teredo source that embeds another port (spoofed or stale mapping) under case 7', () => {
    const from = { addr: CLIENT.addr, port: CLIENT.port + 1 };
    expect(udp(server(), datagram(bubble(OUR_CLIENT, OUR_OTHER_CLIENT)), from)).toEqual({ kind: 'drop', reason: 'server-case-7-spoofed-teredo-source' });
  });

  it('drops a Teredo source that embeds another IPv4 address under case 7', () => {
    expect(udp(server(), datagram(bubble(OUR_CLIENT, OUR_OTHER_CLIENT)), RELAY)).toEqual({ kind: 'drop', reason: 'server-case-7-spoofed-teredo-source' });
  });
});

describe('§5.3.1 case 6: non-Teredo source, destination a client of this server -> SHOULD accept', () => {
  it('accepts a relay\'s bubble from its link-local address to our client', () => {
    expect(udp(server(), datagram(bubble(parseIpv6('fe80::3c85:d813:5dc2:9d41'), OUR_CLIENT)), RELAY)).toMatchObject({ purpose: 'forward' });
  });

  it('accepts a native host\'s small ICMPv6 to our client', () => {
    expect(udp(server(), datagram(echo(HOST6, OUR_CLIENT, 8)), RELAY)).toMatchObject({ purpose: 'forward' });
  });

  it('a destination with our address in bits 32-63 but another server\'s prefix is not our client', () => {
    expect(udp(server(), datagram(bubble(HOST6, FOREIGN_CLIENT)), RELAY)).toEqual({ kind: 'drop', reason: 'server-case-7-destination-not-our-client' });
  });
});

describe('§5.3.1 case 7: anything else -> MUST discard', () => {
  it('a native source to a native destination (we are nobody\'s open relay)', () => {
    expect(udp(server(), datagram(echo(HOST6, parseIpv6('2001:db8:9::1'), 8)), RELAY)).toEqual({ kind: 'drop', reason: 'server-case-7-destination-not-our-client' });
  });

  it('a link-local source to our link-local address that is not an RS', () => {
    expect(udp(server(), datagram(echo(parseIpv6('fe80::1'), teredoServerLinkLocal(PRIMARY), 8)))).toEqual({ kind: 'drop', reason: 'server-case-7-destination-not-our-client' });
  });
});

describe('address predicates', () => {
  it('isGlobalUnicast6 refuses what must never be forwarded', () => {
    for (const a of ['::', '::1', 'fe80::1', 'febf::1', 'fec0::1', 'ff02::1', 'ff0e::1', '::ffff:192.0.2.1']) expect(isGlobalUnicast6(parseIpv6(a)), a).toBe(false);
    for (const a of ['2001:db8:6::100', '2001:0:c612:a::1', 'fd00::1', '::2', '64:ff9b::192.0.2.1']) expect(isGlobalUnicast6(parseIpv6(a)), a).toBe(true);
  });

  it('isUnicast4 (the --allow-non-global test) refuses this-network, loopback, multicast, reserved and broadcast', () => {
    for (const a of ['0.0.0.0', '127.0.0.1', '224.0.0.1', '240.0.0.1', '255.255.255.255']) expect(isUnicast4(parseIpv4(a)), a).toBe(false);
    for (const a of ['10.0.0.1', '192.168.1.1', '100.64.0.1', '198.18.0.10']) expect(isUnicast4(parseIpv4(a)), a).toBe(true);
  });
});
