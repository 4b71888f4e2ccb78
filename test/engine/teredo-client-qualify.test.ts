// Qualification (RFC 4380 §5.2.1) against the real server engine, behind each NAT model of the in-memory network,
// in virtual time: the verdict, the phases the client went through, how long it took, the RFC 5991 address,
// retries, backoff, and the strict RFC mode. The NAT (not the client) decides which RA gets through, and the
// capture shows it.

import { describe, expect, it } from 'vitest';
import { decodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { decodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import { hex } from '../../src/wire/bytes.js';
import { decodeIpv6 } from '../../src/wire/ipv6.js';
import { CLIENT_PORT, NAT_PUBLIC, PRIMARY, PROBE_PORT, SECONDARY, TeredoWorld, type Site } from './teredo-client-fixtures.js';

/** RFC 4380 §5.2.1: the cone RS has the cone bit (0x8000 of the flags, §4) set in its link-local source... */
const isConeRs = (data: Uint8Array): boolean => (decodeIpv6(decodeTeredoPayload(data).ipv6).header.src[8]! & 0x80) !== 0;
/** ... and the RA answering it is sent back to that address. */
const isConeRa = (data: Uint8Array): boolean => (decodeIpv6(decodeTeredoPayload(data).ipv6).header.dst[8]! & 0x80) !== 0;
/** RFC 4380 §5.2.1: T = 4 s per RS, N = 3 RSs per phase. */
const T = 4000;
const N = 3;

describe('fast qualification behind each NAT model', () => {
  const cases: [Site, string][] = [
    ['none', 'cone'],
    ['full-cone', 'cone'],
    ['address-restricted', 'restricted'],
    ['port-restricted', 'restricted'],
    ['symmetric', 'symmetric'],
  ];
  for (const [site, nat] of cases) {
    it(`${site} NAT -> ${nat}, address usable in under 0.5 s`, () => {
      const w = new TeredoWorld();
      const c = w.client(site);
      const took = w.runUntilQualified(c);
      expect(c.engine.state).toBe('qualified');
      expect(c.engine.nat).toBe(nat);
      expect(took).toBeLessThan(500);
      const a = decodeTeredoAddress(c.engine.address!);
      expect(a.server).toBe(PRIMARY);
      expect(a.cone).toBe(nat === 'cone');
      expect(a.mappedAddr).toBe(NAT_PUBLIC);
      // The mapping the primary saw the main socket's RS come from (for a symmetric NAT, the one the server's
      // indirect traffic reaches); an endpoint-independent NAT keeps the port, as Linux masquerade does.
      const seen = w.log.find((r) => r.event === 'delivered' && r.dst.addr === PRIMARY && r.dst.port === 3544 && !isConeRs(r.bytes))!;
      expect(a.mappedPort).toBe(seen.src.port);
      if (site !== 'symmetric') expect(a.mappedPort).toBe(CLIENT_PORT);
      expect(c.addresses).toHaveLength(1);
      const expectedStates = nat === 'cone' ? ['probe-primary', 'qualified'] : ['probe-primary', 'probe-secondary', 'qualified'];
      expect(c.states.map((s) => s.state)).toEqual(expectedStates);
      expect(c.drops).toEqual([]);
      // The RA to the cone RS leaves from the secondary address (§5.3.2): a filtering NAT refuses it.
      const coneRa = w.log.filter((r) => r.src.addr === SECONDARY && r.event !== 'sent' && isConeRa(r.bytes)).map((r) => r.event);
      expect(coneRa).toEqual([nat === 'cone' ? 'delivered' : 'nat-filtered']);
    });
  }

  it('sends the cone and the non-cone RS to the primary together, and contacts the secondary only after the cone window', () => {
    const w = new TeredoWorld({ oneWayMs: 20 });
    // Local discovery off: its multicast bubble at qualification is not an RS (teredo-client-local.test.ts).
    const c = w.client('port-restricted', { localDiscovery: false });
    w.runUntilQualified(c);
    const sent = w.sent(c);
    const [first, second, third, fourth] = sent;
    expect([first!.at, second!.at, third!.at]).toEqual([0, 0, 0]);
    expect([first!.addr, second!.addr, third!.addr]).toEqual([PRIMARY, PRIMARY, PRIMARY]);
    expect([isConeRs(first!.data), isConeRs(second!.data), isConeRs(third!.data)]).toEqual([true, false, false]);
    // The cone test runs on the Teredo port (a port forward covers it), the mapping test on the probe port (a
    // refused cone RA cannot disturb its mapping toward the secondary).
    expect([first!.local, second!.local, third!.local, fourth!.local]).toEqual([CLIENT_PORT, CLIENT_PORT, PROBE_PORT, PROBE_PORT]);
    // RA after 40 ms (RTT), then a window of max(100, 2 x 40) = 100 ms.
    expect(fourth!.addr).toBe(SECONDARY);
    expect(fourth!.at).toBe(140);
    expect(sent).toHaveLength(4);
  });

  it('the cone window grows with the round trip (2 x RTT)', () => {
    const w = new TeredoWorld({ oneWayMs: 100 });
    const c = w.client('port-restricted');
    w.runUntilQualified(c);
    expect(w.sent(c)[3]!.at).toBe(200 + 400);
  });

  it('a cone RA let in by the RS to the secondary (NAT filtering per host) is not taken as proof of a cone NAT', () => {
    // The secondary address is 30 ms away, the primary 5: the cone RA (from the secondary) arrives at 35 ms,
    // after the window (RA at 10 ms + max(1, 2 x 10)) closed at 30 ms and the RS to the secondary opened the NAT
    // to that address for the whole host.
    const w = new TeredoWorld({ oneWayMs: 5, secondaryOneWayMs: 30 });
    const c = w.client('address-restricted', { coneWindowMinMs: 1 }, { nat: { filterPerHost: true } });
    w.runUntil(1000);
    expect(c.engine.nat).toBe('restricted');
    const coneRa = w.log.find((r) => r.src.addr === SECONDARY && r.dst.port === CLIENT_PORT && r.event === 'delivered' && isConeRa(r.bytes));
    expect(coneRa?.at).toBe(35);
    // It did arrive (the NAT let it in), and was refused: its nonce was retired before the secondary RS left.
    expect(w.sent(c).find((s) => s.addr === SECONDARY)!.at).toBe(30);
    expect(c.drops).toEqual(['ra-nonce-mismatch']);
  });

  it('every RS carries a fresh 8-byte nonce in an authentication header (§5.2.2), echoed by the server', () => {
    const w = new TeredoWorld();
    const c = w.client('symmetric', { localDiscovery: false }); // only RSs leave (no discovery bubble)
    w.runUntilQualified(c);
    const nonces = w.sent(c).map((s) => hex(decodeTeredoPayload(s.data).auth!.nonce));
    expect(nonces.every((n) => n.length === 16)).toBe(true);
    expect(new Set(nonces).size).toBe(nonces.length);
    const echoed = w.log.filter((r) => r.event === 'delivered' && r.src.port === 3544).map((r) => hex(decodeTeredoPayload(r.bytes).auth!.nonce));
    expect(echoed.length).toBeGreaterThan(0);
    expect(echoed.every((n) => nonces.includes(n))).toBe(true);
  });

  it('new random flag bits (RFC 5991) for every client', () => {
    const bits = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      const w = new TeredoWorld();
      const c = w.client('full-cone', {}, { seed });
      w.runUntilQualified(c);
      const a = decodeTeredoAddress(c.engine.address!);
      expect(a.flags & 0x4300).toBe(0); // RFC 5991 §3: R, U, G zero
      bits.add(a.randomBits);
    }
    expect(bits.size).toBeGreaterThan(15);
  });
});

describe('retries, offline and backoff', () => {
  it('resends every T, N times, then goes offline with a reason and retries after the backoff', () => {
    const w = new TeredoWorld();
    w.server.stop();
    const c = w.client('port-restricted', { probeTimeoutMs: T, probeAttempts: N, backoffInitialMs: 2000, backoffMaxMs: 30_000 });
    w.runUntil(11_999);
    // Cone and non-cone RS from the Teredo port, the mapping-test RS from the probe port, each attempt.
    expect(w.sent(c).map((s) => s.at)).toEqual([0, 0, 0, 4000, 4000, 4000, 8000, 8000, 8000]);
    w.runUntil(12_000);
    expect(c.engine.state).toBe('offline');
    const s = c.engine.snapshot(w.clock.now());
    expect(s.errorCode).toBe('no-answer');
    expect(s.error).toMatch(/no answer from the Teredo server .*:3544 \(UDP to port 3544 blocked/);
    expect(c.engine.snapshot(w.clock.now()).retryInMs).toBe(2000);
    w.runUntil(14_000);
    expect(c.engine.state).toBe('probe-primary');
  });

  it('the backoff doubles and is capped at backoffMaxMs', () => {
    const w = new TeredoWorld();
    w.server.stop();
    const c = w.client('full-cone', { probeTimeoutMs: 1000, probeAttempts: 1, backoffInitialMs: 1000, backoffMaxMs: 5000 });
    w.runUntil(60_000);
    const starts = c.states.filter((s) => s.state === 'probe-primary').map((s) => s.at);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]! - 1000);
    expect(gaps.slice(0, 5)).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it('captive portal: UDP to the server blocked for 60 s, then open: qualifies by itself within the 30 s cap', () => {
    const w = new TeredoWorld();
    const c = w.client('port-restricted', {}, { start: false });
    const nat = w.natOf(c);
    nat.block(PRIMARY);
    nat.block(SECONDARY);
    c.start();
    w.runUntil(60_000);
    expect(c.engine.state).not.toBe('qualified');
    nat.unblock(PRIMARY);
    nat.unblock(SECONDARY);
    const took = w.runUntilQualified(c, 60_000);
    expect(c.engine.state).toBe('qualified');
    // At most one backoff (30 s) plus one round of probes (N x T) after the portal opens.
    expect(took).toBeLessThanOrEqual(30_000 + N * T);
  });

  it('no answer from the secondary address: qualified with NAT type unknown (strict mode: offline)', () => {
    for (const qualification of ['fast', 'strict'] as const) {
      const w = new TeredoWorld();
      const c = w.client('port-restricted', { qualification, secondary: SECONDARY + 5 });
      w.runUntil(40_000);
      if (qualification === 'fast') {
        expect(c.engine.state).toBe('qualified');
        expect(c.engine.nat).toBe('unknown');
      } else {
        expect(c.states.map((s) => s.state)).toContain('offline');
      }
    }
  });

  it('a lost RS to the secondary is sent again after 4 round trips (at least 250 ms), not after T: restricted in under half a second', () => {
    const w = new TeredoWorld();
    const c = w.client('port-restricted', {}, { start: false });
    const nat = w.natOf(c);
    nat.block(SECONDARY); // the first RS to the secondary is lost on the way (creating no state)
    c.start();
    w.runUntil(150); // the primary answered (10 ms round trip), the cone window ended, that RS went out
    nat.unblock(SECONDARY);
    const took = w.runUntilQualified(c);
    expect(c.engine.nat).toBe('restricted');
    expect(w.sent(c).filter((s) => s.addr === SECONDARY)).toHaveLength(2);
    // From 150 ms: the 250 ms wait (4 x 10 ms is less) and a round trip, far from T.
    expect(took).toBeLessThan(500);
  });

  it('refuseSymmetric: behind a symmetric NAT the client stays offline and says why', () => {
    const w = new TeredoWorld();
    const c = w.client('symmetric', { refuseSymmetric: true });
    w.runUntil(1000);
    expect(c.engine.state).toBe('offline');
    expect(c.engine.nat).toBe('symmetric');
    expect(c.addresses).toHaveLength(0);
    expect(c.engine.snapshot(w.clock.now()).error).toMatch(/symmetric/);
  });
});

describe('strict RFC 4380 timing', () => {
  it('cone phase first (N x T), then non-cone, then the secondary: ~12 s behind a restricted NAT', () => {
    const w = new TeredoWorld();
    const c = w.client('port-restricted', { qualification: 'strict' });
    const took = w.runUntilQualified(c);
    expect(c.engine.nat).toBe('restricted');
    expect(took).toBeGreaterThanOrEqual(N * T);
    const sent = w.sent(c);
    expect(sent.slice(0, N).every((s) => isConeRs(s.data))).toBe(true);
    expect(sent.slice(N).some((s) => isConeRs(s.data))).toBe(false);
  });

  it('a cone NAT is found by the first RS', () => {
    const w = new TeredoWorld();
    const c = w.client('full-cone', { qualification: 'strict' });
    expect(w.runUntilQualified(c)).toBeLessThan(100);
    expect(c.engine.nat).toBe('cone');
  });
});
