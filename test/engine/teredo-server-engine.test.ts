// The engine as a whole: the sans-I/O contract (no timers, one output per input), statelessness (RFC 4380
// §5.3: the answer to a packet never depends on earlier packets, and nothing is remembered per client), the
// counters, and robustness: random and mutated datagrams never throw.

import { describe, expect, it } from 'vitest';
import { ServerCounters } from '../../src/engine/teredo/server-counters.js';
import { SERVER_DROP_REASONS, type ServerOutput } from '../../src/engine/teredo/server-types.js';
import { seededRandom } from '../../src/engine/types.js';
import { hex } from '../../src/wire/bytes.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { TEREDO_CLIENT_LINK_LOCAL_CONE } from '../../src/wire/teredo-address.js';
import { bubble, CLIENT, datagram, echo, MIREDO_RS, OTHER_CLIENT, RELAY, rsDatagram, server, teredoAddr, tun, udp } from './teredo-server-fixtures.js';

const HOST6 = parseIpv6('2001:db8:6::100');

describe('sans-I/O contract', () => {
  it('has no deadlines and ignores timeouts', () => {
    const s = server();
    expect(s.nextTimeout()).toBeUndefined();
    expect(s.handleTimeout(123)).toEqual([]);
  });

  it('answers the same packet the same way at any time', () => {
    const s = server();
    const a = udp(s, MIREDO_RS);
    const b = s.handle({ kind: 'udp', local: 'primary', from: CLIENT, bytes: MIREDO_RS }, 9e12)[0]!;
    expect(a.kind === 'send-udp' && b.kind === 'send-udp' && hex(a.bytes) === hex(b.bytes)).toBe(true);
  });
});

describe('stateless (§5.3)', () => {
  it('the answer to a packet does not depend on the tens of thousands of clients served before', () => {
    const s = server({ nativeForwarding: true });
    const probe = (): string => JSON.stringify(udp(s, MIREDO_RS), (_k, v: unknown) => (v instanceof Uint8Array ? hex(v) : v));
    const before = probe();
    const random = seededRandom(7);
    for (let i = 0; i < 20_000; i++) {
      const from = { addr: 0xcb007100 + random.int(256), port: 1024 + random.int(60000) };
      udp(s, rsDatagram({ src: random.int(2) === 0 ? TEREDO_CLIENT_LINK_LOCAL_CONE : undefined }), from);
      udp(s, datagram(bubble(teredoAddr(from), teredoAddr(OTHER_CLIENT))), from);
    }
    expect(probe()).toBe(before);
  });

  it('keeps no reference to the datagrams it answered (the engine holds only its configuration)', () => {
    const s = server();
    const keys = Object.getOwnPropertyNames(s);
    for (let i = 0; i < 100; i++) udp(s, MIREDO_RS, { addr: CLIENT.addr, port: 2000 + i });
    expect(Object.getOwnPropertyNames(s)).toEqual(keys);
    expect(Object.keys(s.config).sort()).toEqual(['acceptable4', 'forwardIcmpv6MaxPayload', 'linkLocal', 'nativeForwarding', 'prefix', 'primary', 'raTemplate', 'secondary']);
  });
});

describe('ServerCounters', () => {
  it('counts RSs per arrival address, RAs per departure address, nonces and forwards by path', () => {
    const s = server({ nativeForwarding: true });
    const c = new ServerCounters();
    const feed = (out: ServerOutput): void => c.record([out]);
    feed(udp(s, MIREDO_RS, CLIENT, 'primary'));
    feed(udp(s, rsDatagram({ src: TEREDO_CLIENT_LINK_LOCAL_CONE, auth: null }), CLIENT, 'primary'));
    feed(udp(s, rsDatagram(), CLIENT, 'secondary'));
    feed(udp(s, datagram(bubble(parseIpv6('fe80::1'), teredoAddr(CLIENT))), RELAY));
    feed(udp(s, datagram(bubble(teredoAddr(CLIENT), teredoAddr(OTHER_CLIENT, 0xcb007107))), CLIENT));
    feed(udp(s, datagram(echo(teredoAddr(CLIENT), HOST6, 8)), CLIENT));
    feed(tun(s, echo(HOST6, teredoAddr(CLIENT), 8, 129)));
    feed(udp(s, new Uint8Array(5)));
    expect(c.snapshot()).toEqual({
      rsAnswered: { primary: 2, secondary: 1 },
      raSent: { primary: 1, secondary: 2 },
      raWithNonce: 2,
      forwarded: { teredo: 2, withOrigin: 1, native: 1, fromTun: 1 },
    });
  });
});

describe('robustness', () => {
  const reasons = new Set<string>(SERVER_DROP_REASONS);
  const PLAUSIBLE_STARTS = [Uint8Array.of(0, 1), Uint8Array.of(0, 0), Uint8Array.of(0x60, 0)];
  const check = (out: ServerOutput[]): void => {
    expect(out).toHaveLength(1);
    if (out[0]!.kind === 'drop') expect(reasons.has(out[0]!.reason)).toBe(true);
  };

  it('random datagrams never throw and always give one known output', () => {
    const s = server({ nativeForwarding: true });
    const random = seededRandom(4380);
    for (let i = 0; i < 5000; i++) {
      const bytes = random.bytes(random.int(160));
      // Give half of them a plausible start (auth, origin or IPv6 version) so the deeper checks run too.
      if (bytes.length >= 2 && i % 2 === 0) bytes.set(PLAUSIBLE_STARTS[i % 3]!, 0);
      check(s.handle({ kind: 'udp', local: i % 2 === 0 ? 'primary' : 'secondary', from: CLIENT, bytes }, 0));
      check(s.handle({ kind: 'tun', bytes }, 0));
    }
  });

  it('every single-byte corruption and every truncation of a valid RS is answered or dropped, never thrown', () => {
    const s = server();
    const rs = rsDatagram({ options: [{ kind: 'source-ll-addr', linkLayerAddress: Uint8Array.of(1, 2, 3, 4, 5, 6) }] });
    for (let i = 0; i < rs.length; i++) {
      check(s.handle({ kind: 'udp', local: 'primary', from: CLIENT, bytes: rs.subarray(0, i) }, 0));
      for (const v of [0x00, 0xff, rs[i]! ^ 0x01]) {
        const b = rs.slice();
        b[i] = v;
        check(s.handle({ kind: 'udp', local: 'primary', from: CLIENT, bytes: b }, 0));
      }
    }
  });
});
