// The engine as a whole: the sans-I/O contract (no timers, one output per input), statelessness (RFC 4380
// §5.3: the answer to a packet never depends on earlier packets, and nothing is remembered per client: checked
// by the heap, which sees #private fields too), the counters, and robustness: random and mutated datagrams
// never throw.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { TeredoServer } from '../../src/engine/teredo/server/server.js';
import { SERVER_DROP_REASONS, type ServerSink } from '../../src/engine/teredo/server/server-types.js';
import { seededRandom } from '../../src/engine/types.js';
import { hex } from '../../src/wire/bytes.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { TEREDO_CLIENT_LINK_LOCAL_CONE } from '../../src/wire/teredo-address.js';
import { MIREDO_RA_IPV6, MIREDO_RS } from '../fakes/miredo-captures.js';
import { bubble, CLIENT, datagram, echo, OTHER_CLIENT, PRIMARY, RELAY, rsDatagram, SECONDARY, server, teredoAddr, tun, udp, type ServerOutput } from './teredo-server-fixtures.js';

const HOST6 = parseIpv6('2001:db8:6::100');

describe('sans-I/O contract', () => {
  it('has no deadlines and ignores timeouts', () => {
    const s = server();
    expect(s.nextTimeout()).toBeUndefined();
    const calls: string[] = [];
    s.handleTimeout(123, { drop: () => calls.push('drop'), sendUdp: () => calls.push('send'), writeNative: () => calls.push('native') });
    expect(calls).toEqual([]);
  });

  it('answers the same packet the same way at any time', () => {
    const s = server();
    const a = udp(s, MIREDO_RS);
    let b = '';
    s.datagram(0, MIREDO_RS, 0, MIREDO_RS.length, CLIENT.addr, CLIENT.port, 9e12, { drop: () => {}, writeNative: () => {}, sendUdp: (_s, d, o, l) => (b = hex(d.subarray(o, o + l))) });
    expect(a.kind === 'send-udp' && hex(a.bytes)).toBe(b);
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

  let measured: TeredoServer | undefined;
  // Heap growth while serving `clients` distinct clients (an RS and a bubble each), after a full GC. A server
  // that remembered anything per client (a Map entry, a kept view of a datagram) grows by megabytes here.
  function heapGrowth(engine: TeredoServer, clients: number): number {
    // Held from outside this frame: optimized code may otherwise treat `engine` as dead before the last GC.
    measured = engine;
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const sink: ServerSink = { drop: () => {}, sendUdp: () => {}, writeNative: () => {} };
    const rs = rsDatagram();
    const serve = (first: number, count: number): void => {
      for (let i = first; i < first + count; i++) {
        const addr = 0xcb000000 + (i >>> 8);
        const port = 1024 + (i & 0xff);
        engine.datagram(0, rs, 0, rs.length, addr, port, 0, sink);
        const b = datagram(bubble(teredoAddr({ addr, port }), teredoAddr(OTHER_CLIENT)));
        engine.datagram(0, b, 0, b.length, addr, port, 0, sink);
      }
    };
    serve(0, 2000); // warm-up: JIT code and lazily built objects are not per-client state
    gc();
    const before = process.memoryUsage().heapUsed;
    serve(2000, clients);
    gc();
    return process.memoryUsage().heapUsed - before;
  }

  it('keeps nothing per client: the heap does not grow with 100 000 clients served', () => {
    expect(heapGrowth(server(), 100_000)).toBeLessThan(1 << 20);
  });

  it('the heap check sees per-client state, even in a #private field', () => {
    // A server that keeps one small entry per datagram in a private field, to show the check above can fail.
    class Leaky extends TeredoServer {
      readonly #seen = new Map<number, Uint8Array>();
      override datagram(...args: Parameters<TeredoServer['datagram']>): void {
        this.#seen.set(args[4] * 65536 + args[5], args[1].slice(args[2], args[2] + 8));
        super.datagram(...args);
      }
    }
    expect(heapGrowth(new Leaky({ primary: PRIMARY, secondary: SECONDARY }), 100_000)).toBeGreaterThan(4 << 20);
    expect(measured).toBeInstanceOf(Leaky);
  });

  it('the configuration the packet paths read: the defaults and the derived addresses, as literals', () => {
    const { raTemplate, linkLocal, prefix, ...rest } = server().config;
    expect(rest).toEqual({
      primary: 0xc612000a | 0, // 198.18.0.10, int32 as on the data path (wire/ipv4.ts)
      secondary: 0xc612000b | 0,
      forwardIcmpv6MaxPayload: 88, // Miredo's limit (libteredo/server.c); RFC 4380 sets none
      nativeForwarding: false,
      allowNonGlobal: false,
    });
    expect(formatIpv6(linkLocal)).toBe('fe80::8000:f227:39ed:fff5'); // RFC 4380 §5.3.2: cone flag, ~3544, ~primary
    expect(formatIpv6(prefix)).toBe('2001:0:c612:a::'); // RFC 4380 §4: 2001:0000 + the primary address
    // The RA template is the RA of the Miredo capture with the destination and the checksum left zero.
    const expected = MIREDO_RA_IPV6.slice();
    expected.fill(0, 24, 40);
    expected.fill(0, 42, 44);
    expect(hex(raTemplate.packet)).toBe(hex(expected));
  });
});

describe('ServerCounters', () => {
  it('counts RSs per arrival address, RAs per departure address, nonces and forwards by path', () => {
    const s = server({ nativeForwarding: true });
    udp(s, MIREDO_RS, CLIENT, 'primary');
    udp(s, rsDatagram({ src: TEREDO_CLIENT_LINK_LOCAL_CONE, auth: null }), CLIENT, 'primary');
    udp(s, rsDatagram(), CLIENT, 'secondary');
    udp(s, datagram(bubble(parseIpv6('fe80::1'), teredoAddr(CLIENT))), RELAY);
    udp(s, datagram(bubble(teredoAddr(CLIENT), teredoAddr(OTHER_CLIENT, 0xcb007107))), CLIENT);
    udp(s, datagram(echo(teredoAddr(CLIENT), HOST6, 8)), CLIENT);
    tun(s, echo(HOST6, teredoAddr(CLIENT), 8, 129));
    udp(s, new Uint8Array(5));
    expect(s.counters.snapshot()).toEqual({
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
  // udp()/tun() throw unless there is exactly one output; a drop must name a known reason.
  const check = (out: ServerOutput): void => {
    if (out.kind === 'drop') expect(reasons.has(out.reason)).toBe(true);
  };

  it('random datagrams never throw and always give one known output', () => {
    const s = server({ nativeForwarding: true });
    const random = seededRandom(4380);
    for (let i = 0; i < 5000; i++) {
      const bytes = random.bytes(random.int(160));
      // Give half of them a plausible start (auth, origin or IPv6 version) so the deeper checks run too.
      if (bytes.length >= 2 && i % 2 === 0) bytes.set(PLAUSIBLE_STARTS[i % 3]!, 0);
      check(udp(s, bytes, CLIENT, i % 2 === 0 ? 'primary' : 'secondary'));
      check(tun(s, bytes));
    }
  });

  it('every single-byte corruption and every truncation of a valid RS is answered or dropped, never thrown', () => {
    const s = server();
    const rs = rsDatagram({ options: [{ kind: 'source-ll-addr', linkLayerAddress: Uint8Array.of(1, 2, 3, 4, 5, 6) }] });
    for (let i = 0; i < rs.length; i++) {
      check(udp(s, rs.subarray(0, i)));
      for (const v of [0x00, 0xff, rs[i]! ^ 0x01]) {
        const b = rs.slice();
        b[i] = v;
        check(udp(s, b));
      }
    }
  });
});
