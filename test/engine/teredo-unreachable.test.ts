// The ICMPv6 Destination Unreachable errors the Teredo client and relay write to their TUN device
// (src/engine/teredo/unreachable.ts): RFC 4443 §2.4 (e) for both configurations, the rate limit (§2.4 f) in
// both shapes (the relay: N per second; the client: one per 100 ms, Miredo's ICMP_RATE_LIMIT_MS), and the
// error itself, decoded with the codec.
import { describe, expect, it } from 'vitest';
import { UnreachableErrors } from '../../src/engine/teredo/unreachable.js';
import { decodeDstUnreachable, decodeIcmpv6Packet, echoMessage, encodeIcmpv6Packet } from '../../src/wire/icmpv6.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { NEXT_HEADER, encodeIpv6 } from '../../src/wire/ipv6.js';

const T0 = 1_000_000;
const HOST6 = parseIpv6('2001:db8:6::100');
const PEER6 = parseIpv6('2001:0:c612:a::1');
const RELAY6 = parseIpv6('2001:db8:6::20');
const CLIENT_LINK_LOCAL = parseIpv6('fe80::ffff:ffff:ffff'); // RFC 4380 §5.2.1

/** The relay's configuration (10 per second, hop limit 64) and the client's (1 per 100 ms, hop limit 255). */
const relayErrors = (perSecond = 10): UnreachableErrors => new UnreachableErrors({ source: RELAY6, hopLimit: 64, perWindow: perSecond, windowMs: 1000 });
const clientErrors = (): UnreachableErrors => new UnreachableErrors({ source: CLIENT_LINK_LOCAL, hopLimit: 255, perWindow: 1, windowMs: 100 });

const echo = (src = HOST6, dst = PEER6): Uint8Array => encodeIcmpv6Packet({ src, dst, hopLimit: 64 }, echoMessage(128, { id: 1, seq: 1, data: new Uint8Array(8) }));
const built = (e: UnreachableErrors, p: Uint8Array, now = T0): number => e.build(p, 0, p.length, now);

describe('UnreachableErrors', () => {
  it('builds address unreachable (RFC 4443 §3.1 code 3) from the configured source to the packet source', () => {
    for (const [e, src, hopLimit] of [[relayErrors(), RELAY6, 64], [clientErrors(), CLIENT_LINK_LOCAL, 255]] as const) {
      const p = echo();
      const n = built(e, p);
      const d = decodeIcmpv6Packet(e.packet.subarray(0, n));
      expect(d.header).toMatchObject({ src, dst: HOST6, hopLimit });
      expect(decodeDstUnreachable(d.message)).toEqual({ code: 3, invoking: p });
    }
  });

  it('answers nothing §2.4 (e) forbids, in both configurations, without counting it against the rate', () => {
    const error = echo();
    error[40] = 1; // an ICMPv6 Destination Unreachable
    error[42] = 0;
    const forbidden = [
      error,
      echo(HOST6, parseIpv6('ff0e::1')),
      echo(parseIpv6('::'), PEER6),
      echo(parseIpv6('ff02::1'), PEER6),
      encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.ICMPV6, hopLimit: 255, src: HOST6, dst: PEER6 }, Uint8Array.of(137, 0, 0, 0)),
      new Uint8Array(39),
    ];
    for (const e of [relayErrors(1), clientErrors()]) {
      for (const p of forbidden) expect(built(e, p)).toBe(0);
      expect(built(e, echo())).toBeGreaterThan(0);
    }
  });

  it('sends none without a source address', () => {
    expect(built(new UnreachableErrors({ source: undefined, hopLimit: 64, perWindow: 10, windowMs: 1000 }), echo())).toBe(0);
  });

  it('the relay: at most N in the second that the first error opens; 0 sends none', () => {
    const e = relayErrors(3);
    const got = [0, 10, 20, 30, 999, 1000].map((t) => built(e, echo(), T0 + t) > 0);
    expect(got).toEqual([true, true, true, false, false, true]);
    expect(built(relayErrors(0), echo())).toBe(-1);
  });

  it('the client: one per 100 ms, counted from the last one sent', () => {
    const e = clientErrors();
    const got = [0, 50, 99, 100, 150, 199, 250].map((t) => built(e, echo(), T0 + t));
    expect(got.map((n) => Math.sign(n))).toEqual([1, -1, -1, 1, -1, -1, 1]);
  });
});
