// Maintenance (RFC 4380 §5.2.5): the refresh RS at a random 75-100 % of the refresh interval, skipped while the
// server is heard, a new address when the NAT mapping changes, and offline + re-qualification when the server
// stops answering.

import { describe, expect, it } from 'vitest';
import { decodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { decodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import { CLIENT_PORT, PRIMARY, PROBE_PORT, SimNet } from './teredo-client-fixtures.js';

/** Times of the RSs sent after qualification. */
function refreshTimes(net: SimNet, after: number): number[] {
  return net.sent.filter((s) => s.at > after).map((s) => s.at);
}

describe('refresh timing', () => {
  it('refresh RSs come at 75-100 % of the interval after the server was last heard, never at a fixed period', () => {
    const gaps: number[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const net = new SimNet('port-restricted', {}, 5, seed).start();
      net.runUntilQualified();
      const q = net.now;
      net.runUntil(q + 200_000);
      const times = [q, ...refreshTimes(net, q)];
      // Each refresh RA arrives 10 ms after its RS; the next check is planned from that arrival.
      for (let i = 1; i < times.length; i++) gaps.push(times[i]! - times[i - 1]! - (i === 1 ? 0 : 10));
    }
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(22_500);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(30_000);
    expect(new Set(gaps).size).toBeGreaterThan(gaps.length / 2);
  });

  it('refreshes with the non-cone RS from the main socket, even a cone client (it keeps the embedded mapping alive)', () => {
    const net = new SimNet('full-cone').start();
    net.runUntilQualified();
    const q = net.now;
    net.runUntil(q + 31_000);
    const refresh = net.sent.filter((s) => s.at > q);
    expect(refresh).toHaveLength(1);
    expect(decodeTeredoPayload(refresh[0]!.data).ipv6[16]! & 0x80).toBe(0);
    expect(refresh[0]!.local).toBe(CLIENT_PORT);
    expect(net.client.state).toBe('qualified');
  });

  it('no refresh RS while the server is heard (e.g. indirect bubbles arrive through it)', () => {
    const net = new SimNet('port-restricted').start();
    net.runUntilQualified();
    const q = net.now;
    // A bubble from the server every 10 s for 2 minutes (counted as server traffic whatever becomes of it).
    const bubble = new Uint8Array(40);
    bubble[0] = 0x60;
    bubble[6] = 59;
    for (let t = q + 10_000; t <= q + 120_000; t += 10_000) {
      net.runUntil(t);
      net.inject(bubble, PRIMARY, 3544);
    }
    expect(refreshTimes(net, q)).toEqual([]);
    net.runUntil(q + 160_000);
    expect(refreshTimes(net, q).length).toBeGreaterThan(0);
  });
});

describe('mapping change and loss of the server', () => {
  it('a changed mapping (NAT state flushed) gives a new address; the old one is removed', () => {
    const net = new SimNet('port-restricted').start();
    net.runUntilQualified();
    const first = net.client.address!.slice();
    net.natEpoch++;
    net.runUntil(net.now + 31_000);
    expect(net.client.state).toBe('qualified');
    const second = net.client.address!;
    expect(decodeTeredoAddress(second).mappedPort).not.toBe(decodeTeredoAddress(first).mappedPort);
    const change = net.addresses.at(-1)!;
    expect(change.previous).toEqual(first);
    expect(change.current).toEqual(second);
  });

  it('the server stops answering: offline after N x T, address removed; back up by itself when it returns', () => {
    const net = new SimNet('symmetric').start();
    net.runUntilQualified();
    const q = net.now;
    net.serverUp = false;
    // The refresh is due within 30 s, then N x T = 12 s without an answer.
    net.runUntil(q + 30_000 + 12_000);
    expect(net.states.filter((s) => s.at > q).map((s) => s.state)[0]).toBe('offline');
    expect(net.addresses.at(-1)!.current).toBeUndefined();
    expect(net.client.snapshot(net.now).error ?? net.client.snapshot(net.now).counters.offline).toBeTruthy();
    net.serverUp = true;
    net.runUntil(net.now + 30_000);
    expect(net.client.state).toBe('qualified');
    expect(net.client.nat).toBe('symmetric');
  });

  it('re-qualifying while the NAT still holds a pinhole to the secondary on the main mapping: no false "cone"', () => {
    const net = new SimNet('address-restricted').start();
    net.runUntilQualified();
    expect(net.client.nat).toBe('restricted');
    net.serverUp = false;
    net.runUntil(net.now + 42_000);
    expect(net.states.map((s) => s.state)).toContain('offline');
    net.serverUp = true;
    const q = net.now;
    net.runUntil(q + 30_000);
    expect(net.client.state).toBe('qualified');
    expect(net.client.nat).toBe('restricted');
    // The cone RS went out again, from the probe socket, whose mapping the pinhole does not cover.
    expect(net.sent.filter((s) => s.at > q && (decodeTeredoPayload(s.data).ipv6[16]! & 0x80) !== 0).map((s) => s.local)).toContain(PROBE_PORT);
  });

  it('stop() removes the address and leaves nothing armed', () => {
    const net = new SimNet('full-cone').start();
    net.runUntilQualified();
    net.client.stop(net.now, net.sink);
    expect(net.client.state).toBe('offline');
    expect(net.addresses.at(-1)!.current).toBeUndefined();
    expect(net.client.nextTimeout()).toBeUndefined();
  });

  it('reconfigure with another server starts over', () => {
    const net = new SimNet('full-cone').start();
    net.runUntilQualified();
    net.client.reconfigure({ primary: PRIMARY, refreshIntervalMs: 20_000 }, net.now, net.sink);
    expect(net.client.state).toBe('qualified');
    net.client.reconfigure({ primary: PRIMARY + 2 }, net.now, net.sink);
    expect(net.client.state).toBe('probe-primary');
    expect(net.client.address).toBeUndefined();
  });
});
