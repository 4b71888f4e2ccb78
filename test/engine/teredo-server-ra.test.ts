// RFC 4380 §5.3.2: Router Solicitation -> Router Advertisement, one test per rule, the golden bytes of the RA a
// Miredo 1.2.6 server sent in the lab capture, and RFC 4861 §6.1.1 validity of the RS itself.

import { describe, expect, it } from 'vitest';

import { TeredoServer } from '../../src/engine/teredo/server/server.js';
import { hex } from '../../src/wire/bytes.js';
import { decodeIcmpv6Packet, fillIcmpv6PacketChecksum } from '../../src/wire/icmpv6.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import { decodeNdisc, encodeNdiscPacket, type RouterAdvert } from '../../src/wire/ndisc.js';
import { teredoRouterAdvert } from '../../src/engine/teredo/server/server-ra.js';
import { seededRandom } from '../../src/engine/types.js';
import { TEREDO_CLIENT_LINK_LOCAL, TEREDO_CLIENT_LINK_LOCAL_CONE, teredoServerLinkLocal } from '../../src/wire/teredo-address.js';
import { decodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import { MIREDO_RA, MIREDO_RS } from '../fakes/miredo-captures.js';
import { CLIENT, datagram, echo, PRIMARY, rsDatagram, SECONDARY, server, teredoAddr, udp, type RaOutput, type ServerOutput } from './teredo-server-fixtures.js';

function asRa(out: ServerOutput): RaOutput {
  if (out.kind !== 'send-udp' || out.purpose !== 'ra') throw new Error(`expected an RA, got ${JSON.stringify(out)}`);
  return out;
}

/** Decodes our RA down to its Neighbor Discovery body (checking the ICMPv6 checksum on the way). */
function decodeRa(bytes: Uint8Array) {
  const payload = decodeTeredoPayload(bytes);
  const packet = decodeIcmpv6Packet(payload.ipv6);
  const ra = decodeNdisc(packet.message) as RouterAdvert;
  return { payload, header: packet.header, ra };
}

describe('golden bytes: the RA a Miredo server sent (lab capture, frame 2)', () => {
  it('answers the captured RS with exactly the captured RA, from the primary address to the RS source', () => {
    const out = asRa(udp(server(), MIREDO_RS, CLIENT, 'primary'));
    expect(hex(out.bytes)).toBe(hex(MIREDO_RA));
    expect(out).toMatchObject({ via: 'primary', receivedOn: 'primary', nonce: true, to: CLIENT });
  });
});

describe('§5.3.2 rules', () => {
  it('mapped address and port = the RS\'s IPv4 source and UDP port, carried in the origin indication', () => {
    const from = { addr: parseIpv4('203.0.113.9'), port: 61000 };
    const out = asRa(udp(server(), rsDatagram(), from));
    expect(out.to).toEqual(from);
    expect(decodeRa(out.bytes).payload.origin).toEqual(from);
  });

  it('echoes the RS nonce with confirmation byte 0 and empty client ID and authentication value', () => {
    const nonce = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const auth = decodeRa(asRa(udp(server(), rsDatagram({ auth: { clientId: new Uint8Array(0), authValue: new Uint8Array(0), nonce, confirmation: 0 } }))).bytes).payload.auth;
    expect(auth && hex(auth.nonce)).toBe(hex(nonce));
    expect(auth).toMatchObject({ confirmation: 0, clientId: new Uint8Array(0), authValue: new Uint8Array(0) });
  });

  it('an RS without an authentication header gets an RA without one (origin indication first)', () => {
    const out = asRa(udp(server(), rsDatagram({ auth: null })));
    expect(out.nonce).toBe(false);
    expect(out.bytes[0]).toBe(0);
    expect(out.bytes[1]).toBe(0);
    expect(decodeRa(out.bytes).payload.auth).toBeUndefined();
  });

  it('advertises exactly one prefix, 2001:0:<primary IPv4>::/64, autonomous, not on-link, infinite lifetimes', () => {
    const { ra } = decodeRa(asRa(udp(server(), rsDatagram())).bytes);
    const pios = ra.options.filter((o) => o.kind === 'prefix-info');
    expect(pios).toHaveLength(1);
    expect(pios[0]).toMatchObject({ prefixLength: 64, onLink: false, autonomous: true, validLifetimeSec: 0xffffffff, preferredLifetimeSec: 0xffffffff });
    expect(formatIpv6(pios[0]!.kind === 'prefix-info' ? pios[0]!.prefix : new Uint8Array(16))).toBe('2001:0:c612:a::');
  });

  it('the prefix is the primary\'s even when the RS arrived on the secondary address', () => {
    const { ra } = decodeRa(asRa(udp(server(), rsDatagram(), CLIENT, 'secondary')).bytes);
    const pio = ra.options.find((o) => o.kind === 'prefix-info');
    expect(pio?.kind === 'prefix-info' && formatIpv6(pio.prefix)).toBe('2001:0:c612:a::');
  });

  it('MTU option 1280 by default, the configured value otherwise; below 1280 is refused', () => {
    const mtuOf = (s: TeredoServer): unknown => decodeRa(asRa(udp(s, rsDatagram())).bytes).ra.options.find((o) => o.kind === 'mtu');
    expect(mtuOf(server())).toEqual({ kind: 'mtu', mtu: 1280 });
    expect(mtuOf(server({ mtu: 1472 }))).toEqual({ kind: 'mtu', mtu: 1472 });
    expect(() => server({ mtu: 1279 })).toThrow(RangeError);
  });

  it('router lifetime 0 (the server is not a default router), hop limit 0, reachable 0, retrans 2000 ms', () => {
    expect(decodeRa(asRa(udp(server(), rsDatagram())).bytes).ra).toMatchObject({
      curHopLimit: 0,
      managed: false,
      otherConfig: false,
      routerLifetimeSec: 0,
      reachableTimeMs: 0,
      retransTimerMs: 2000,
    });
  });

  it('IPv6 source fe80::8000:f227:<~server IPv4>, destination the RS source, hop limit 255', () => {
    const { header } = decodeRa(asRa(udp(server(), rsDatagram())).bytes);
    expect(formatIpv6(header.src)).toBe('fe80::8000:f227:39ed:fff5');
    expect(header.src).toEqual(teredoServerLinkLocal(PRIMARY));
    expect(header.dst).toEqual(TEREDO_CLIENT_LINK_LOCAL);
    expect(header.hopLimit).toBe(255);
  });

  it('an RS from a Teredo source that matches its mapping gets its RA addressed to that Teredo address', () => {
    const src = teredoAddr(CLIENT);
    const { header } = decodeRa(asRa(udp(server(), rsDatagram({ src }))).bytes);
    expect(header.dst).toEqual(src);
  });

  it('an RS sent to the server\'s link-local address instead of ff02::2 is answered too', () => {
    const src = teredoAddr(CLIENT);
    expect(udp(server(), rsDatagram({ src, dst: teredoServerLinkLocal(PRIMARY) }))).toMatchObject({ purpose: 'ra' });
  });
});

describe('the pre-encoded RA', () => {
  it('equals a fresh encoding for any RS source (destination and checksum patched per RS)', () => {
    const random = seededRandom(5991);
    const s = server({ mtu: 1500 });
    for (let i = 0; i < 300; i++) {
      const src = Uint8Array.of(0xfe, 0x80, 0, 0, 0, 0, 0, 0, ...random.bytes(8));
      const out = asRa(udp(s, rsDatagram({ src })));
      const ra = decodeTeredoPayload(out.bytes).ipv6;
      const reference = encodeNdiscPacket({ src: teredoServerLinkLocal(PRIMARY), dst: src, hopLimit: 255 }, teredoRouterAdvert(PRIMARY, 1500));
      expect(hex(ra)).toBe(hex(reference));
    }
  });
});

describe('§5.3.2 cone bit: the RA leaves from the other address', () => {
  it('cone-bit RS on the primary -> RA from the secondary', () => {
    expect(asRa(udp(server(), rsDatagram({ src: TEREDO_CLIENT_LINK_LOCAL_CONE }), CLIENT, 'primary'))).toMatchObject({ via: 'secondary', receivedOn: 'primary' });
  });

  it('cone-bit RS on the secondary -> RA from the primary', () => {
    expect(asRa(udp(server(), rsDatagram({ src: TEREDO_CLIENT_LINK_LOCAL_CONE }), CLIENT, 'secondary'))).toMatchObject({ via: 'primary', receivedOn: 'secondary' });
  });

  it('no cone bit -> the RA leaves from the address the RS arrived on', () => {
    expect(asRa(udp(server(), rsDatagram(), CLIENT, 'primary')).via).toBe('primary');
    expect(asRa(udp(server(), rsDatagram(), CLIENT, 'secondary')).via).toBe('secondary');
  });

  it('the RA content does not depend on the socket it leaves from', () => {
    const s = server();
    const a = asRa(udp(s, rsDatagram({ src: TEREDO_CLIENT_LINK_LOCAL_CONE }), CLIENT, 'primary'));
    const b = asRa(udp(s, rsDatagram({ src: TEREDO_CLIENT_LINK_LOCAL_CONE }), CLIENT, 'secondary'));
    expect(hex(a.bytes)).toBe(hex(b.bytes));
  });
});

describe('client variants', () => {
  it('Vista+: a bare RS (ICMPv6 length 8, no options) from fe80::ffff:ffff:ffff', () => {
    expect(MIREDO_RS.length).toBe(13 + 40 + 8);
    expect(udp(server(), MIREDO_RS)).toMatchObject({ purpose: 'ra' });
  });

  it('XP: cone-first RS from fe80::8000:5445:5245:444f with a (dummy) link-layer address option', () => {
    const rs = rsDatagram({ src: TEREDO_CLIENT_LINK_LOCAL_CONE, options: [{ kind: 'source-ll-addr', linkLayerAddress: Uint8Array.of(0, 0, 0, 0, 0, 0) }] });
    expect(asRa(udp(server(), rs))).toMatchObject({ via: 'secondary' });
  });

  it('unknown options are skipped, as RFC 4861 §4.6 asks', () => {
    expect(udp(server(), rsDatagram({ options: [{ kind: 'raw', type: 200, data: new Uint8Array(6) }] }))).toMatchObject({ purpose: 'ra' });
  });
});

describe('RFC 4861 §6.1.1: the RS itself must be valid', () => {
  it('hop limit other than 255 (the RS was routed)', () => {
    expect(udp(server(), rsDatagram({ hopLimit: 254 }))).toEqual({ kind: 'drop', reason: 'server-rs-hop-limit-not-255' });
  });

  it('bad ICMPv6 checksum', () => {
    const b = MIREDO_RS.slice();
    b[b.length - 5] = b[b.length - 5]! ^ 0xff; // the checksum's low byte
    expect(udp(server(), b)).toEqual({ kind: 'drop', reason: 'server-rs-bad-checksum' });
  });

  it('code other than 0 (checked before the checksum, so the checksum may be stale)', () => {
    const b = MIREDO_RS.slice();
    b[b.length - 7] = 1; // code
    expect(udp(server(), b)).toEqual({ kind: 'drop', reason: 'server-rs-code-not-0' });
  });

  it('an option of length zero', () => {
    expect(udp(server(), rsDatagram({ options: [{ kind: 'raw', type: 1, data: new Uint8Array(6) }] }))).toMatchObject({ purpose: 'ra' });
    const b = rsDatagram({ options: [{ kind: 'raw', type: 1, data: new Uint8Array(6) }] });
    b[b.length - 7] = 0; // the option's length byte
    fillIcmpv6PacketChecksum(b.subarray(13)); // a correct checksum, so that only the option is wrong
    expect(udp(server(), b)).toEqual({ kind: 'drop', reason: 'server-rs-bad-options' });
  });

  it('an ICMPv6 RS shorter than 8 bytes', () => {
    const ipv6 = MIREDO_RS.slice(13, 13 + 40 + 4);
    ipv6[5] = 4; // payload length 4: type, code, checksum only
    expect(udp(server(), datagram(ipv6))).toEqual({ kind: 'drop', reason: 'server-rs-truncated' });
  });

  it('something other than an RS sent to the server itself', () => {
    const src = teredoAddr(CLIENT);
    expect(udp(server(), datagram(echo(src, teredoServerLinkLocal(PRIMARY), 8)))).toEqual({ kind: 'drop', reason: 'server-local-not-router-solicitation' });
  });
});

describe('refusal of non-global sources', () => {
  it('never sends an RA to a private or loopback IPv4 address (§5.3.1 case 3 before §5.3.2)', () => {
    for (const a of ['192.168.1.2', '10.0.0.1', '127.0.0.1']) {
      expect(udp(server(), MIREDO_RS, { addr: parseIpv4(a), port: 1234 }), a).toMatchObject({ kind: 'drop' });
    }
  });

  it('refuses to be built on a non-global address unless allowNonGlobal', () => {
    expect(() => new TeredoServer({ primary: parseIpv4('10.0.0.1'), secondary: parseIpv4('10.0.0.2') })).toThrow(RangeError);
    expect(() => new TeredoServer({ primary: PRIMARY, secondary: PRIMARY })).toThrow(RangeError);
    expect(formatIpv4(new TeredoServer({ primary: parseIpv4('10.0.0.1'), secondary: parseIpv4('10.0.0.2'), allowNonGlobal: true }).config.secondary)).toBe('10.0.0.2');
  });
});

describe('reconfigure (SIGHUP)', () => {
  it('applies a new MTU from the next RS on', () => {
    const s = server();
    s.reconfigure({ primary: PRIMARY, secondary: SECONDARY, mtu: 1400 });
    expect(decodeRa(asRa(udp(s, rsDatagram())).bytes).ra.options.find((o) => o.kind === 'mtu')).toEqual({ kind: 'mtu', mtu: 1400 });
    expect(parseIpv6('fe80::8000:f227:39ed:fff5')).toEqual(s.config.linkLocal);
  });
});
