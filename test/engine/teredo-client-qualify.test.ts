// Qualification (RFC 4380 §5.2.1) behind each NAT model, in virtual time: the verdict, the phases the client went
// through, how long it took, the RFC 5991 address, retries, backoff, and the strict RFC mode.

import { describe, expect, it } from 'vitest';
import { decodeTeredoAddress, TEREDO_CLIENT_LINK_LOCAL_CONE } from '../../src/wire/teredo-address.js';
import { decodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import { decodeIpv6 } from '../../src/wire/ipv6.js';
import { hex } from '../../src/wire/bytes.js';
import { DROP } from '../../src/engine/teredo/client/client-types.js';
import { CLIENT_PORT, PROBE_PORT, NAT_PUBLIC, PRIMARY, SECONDARY, SimNet, type NatModel } from './teredo-client-fixtures.js';

const isConeRs = (data: Uint8Array): boolean => hex(decodeIpv6(decodeTeredoPayload(data).ipv6).header.src) === hex(TEREDO_CLIENT_LINK_LOCAL_CONE);

describe('fast qualification behind each NAT model', () => {
  const cases: [NatModel, string][] = [
    ['none', 'cone'],
    ['full-cone', 'cone'],
    ['address-restricted', 'restricted'],
    ['port-restricted', 'restricted'],
    ['symmetric', 'symmetric'],
  ];
  for (const [model, nat] of cases) {
    it(`${model} NAT -> ${nat}, address usable in under 0.5 s`, () => {
      const net = new SimNet(model).start();
      const took = net.runUntilQualified();
      expect(net.client.state).toBe('qualified');
      expect(net.client.nat).toBe(nat);
      expect(took).toBeLessThan(500);
      const a = decodeTeredoAddress(net.client.address!);
      expect(a.server).toBe(PRIMARY);
      expect(a.cone).toBe(nat === 'cone');
      expect(a.mappedAddr).toBe(NAT_PUBLIC);
      // The mapping the primary saw (for a symmetric NAT, the one the server's indirect traffic reaches).
      expect(a.mappedPort).toBe(net.mappedPort(PRIMARY, 3544));
      expect(net.addresses).toHaveLength(1);
      const expectedStates = nat === 'cone' ? ['probe-primary', 'qualified'] : ['probe-primary', 'probe-secondary', 'qualified'];
      expect(net.states.map((s) => s.state)).toEqual(expectedStates);
      // Behind a filtering NAT the cone RA never arrives; behind a cone NAT both RAs are used.
      expect(net.drops).toEqual([]);
    });
  }

  it('sends the cone and the non-cone RS to the primary together, and contacts the secondary only after the cone window', () => {
    const net = new SimNet('port-restricted', {}, 20).start();
    net.runUntilQualified();
    const [first, second, third] = net.sent;
    expect(first!.at).toBe(0);
    expect(second!.at).toBe(0);
    expect([first!.addr, second!.addr]).toEqual([PRIMARY, PRIMARY]);
    expect([isConeRs(first!.data), isConeRs(second!.data)]).toEqual([true, false]);
    // The cone RS leaves from the probe socket, so the RA it provokes cannot disturb the main mapping.
    expect([first!.local, second!.local, third!.local]).toEqual([PROBE_PORT, CLIENT_PORT, CLIENT_PORT]);
    // RA after 40 ms (RTT), then a window of max(100, 2 x 40) = 100 ms.
    expect(third!.addr).toBe(SECONDARY);
    expect(third!.at).toBe(140);
    expect(net.sent).toHaveLength(3);
  });

  it('the cone window grows with the round trip (2 x RTT)', () => {
    const net = new SimNet('port-restricted', {}, 100).start();
    net.runUntilQualified();
    expect(net.sent[2]!.at).toBe(200 + 400);
  });

  it('a cone RA let in by the RS to the secondary (NAT filtering per host) is not taken as proof of a cone NAT', () => {
    // A cone RA slower than the window: it arrives after the RS to the secondary opened the NAT to that address.
    const net = new SimNet('address-restricted', { coneWindowMinMs: 1 }, 5);
    net.coneRaExtraMs = 50;
    net.hostWideFiltering = true;
    net.start();
    net.runUntil(1000);
    expect(net.client.nat).toBe('restricted');
    // It did arrive (the NAT let it in), and was refused: its nonce was retired before the secondary RS left.
    expect(net.drops).toEqual([DROP['ra-nonce-mismatch']]);
  });

  it('every RS carries a fresh 8-byte nonce in an authentication header', () => {
    const net = new SimNet('symmetric').start();
    net.runUntilQualified();
    const nonces = net.sent.map((s) => hex(decodeTeredoPayload(s.data).auth!.nonce));
    expect(nonces.every((n) => n.length === 16)).toBe(true);
    expect(new Set(nonces).size).toBe(nonces.length);
  });

  it('new random flag bits (RFC 5991) for every client', () => {
    const bits = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      const net = new SimNet('full-cone', {}, 5, seed).start();
      net.runUntilQualified();
      const a = decodeTeredoAddress(net.client.address!);
      expect(a.flags & 0x4300).toBe(0); // R, U, G zero
      bits.add(a.randomBits);
    }
    expect(bits.size).toBeGreaterThan(15);
  });
});

describe('retries, offline and backoff', () => {
  it('resends every T, N times, then goes offline with a reason and retries after the backoff', () => {
    const net = new SimNet('port-restricted', { probeTimeoutMs: 4000, probeAttempts: 3, backoffInitialMs: 2000, backoffMaxMs: 30_000 });
    net.serverUp = false;
    net.start();
    net.runUntil(11_999);
    expect(net.sent.map((s) => s.at)).toEqual([0, 0, 4000, 4000, 8000, 8000]);
    net.runUntil(12_000);
    expect(net.client.state).toBe('offline');
    expect(net.client.snapshot(net.now).error).toMatch(/primary server/);
    expect(net.client.snapshot(net.now).retryInMs).toBe(2000);
    net.runUntil(14_000);
    expect(net.client.state).toBe('probe-primary');
  });

  it('the backoff doubles and is capped at backoffMaxMs', () => {
    const net = new SimNet('full-cone', { probeTimeoutMs: 1000, probeAttempts: 1, backoffInitialMs: 1000, backoffMaxMs: 5000 });
    net.serverUp = false;
    net.start();
    net.runUntil(60_000);
    const starts = net.states.filter((s) => s.state === 'probe-primary').map((s) => s.at);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]! - 1000);
    expect(gaps.slice(0, 5)).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it('captive portal: UDP blocked for 60 s, then open: qualifies by itself within the 30 s cap', () => {
    const net = new SimNet('port-restricted');
    net.udpBlocked = true;
    net.start();
    net.runUntil(60_000);
    expect(net.client.state).not.toBe('qualified');
    net.udpBlocked = false;
    const took = net.runUntilQualified(60_000);
    expect(net.client.state).toBe('qualified');
    // At most one backoff (30 s) plus one round of probes (3 x 4 s) after the portal opens.
    expect(took).toBeLessThanOrEqual(30_000 + 12_000);
  });

  it('no answer from the secondary address: qualified with NAT type unknown (strict mode: offline)', () => {
    for (const qualification of ['fast', 'strict'] as const) {
      const net = new SimNet('port-restricted', { qualification, secondary: SECONDARY + 5 }).start();
      net.runUntil(40_000);
      if (qualification === 'fast') {
        expect(net.client.state).toBe('qualified');
        expect(net.client.nat).toBe('unknown');
      } else {
        expect(net.states.map((s) => s.state)).toContain('offline');
      }
    }
  });

  it('refuseSymmetric: behind a symmetric NAT the client stays offline and says why', () => {
    const net = new SimNet('symmetric', { refuseSymmetric: true }).start();
    net.runUntil(1000);
    expect(net.client.state).toBe('offline');
    expect(net.client.nat).toBe('symmetric');
    expect(net.addresses).toHaveLength(0);
    expect(net.client.snapshot(net.now).error).toMatch(/symmetric/);
  });
});

describe('strict RFC 4380 timing', () => {
  it('cone phase first (N x T), then non-cone, then the secondary: ~12 s behind a restricted NAT', () => {
    const net = new SimNet('port-restricted', { qualification: 'strict' }).start();
    const took = net.runUntilQualified();
    expect(net.client.nat).toBe('restricted');
    expect(took).toBeGreaterThanOrEqual(12_000);
    expect(net.sent.slice(0, 3).every((s) => isConeRs(s.data))).toBe(true);
    expect(net.sent.slice(3).some((s) => isConeRs(s.data))).toBe(false);
  });

  it('a cone NAT is found by the first RS', () => {
    const net = new SimNet('full-cone', { qualification: 'strict' }).start();
    expect(net.runUntilQualified()).toBeLessThan(100);
    expect(net.client.nat).toBe('cone');
  });
});
