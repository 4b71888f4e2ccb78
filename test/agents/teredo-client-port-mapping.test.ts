// The client's port mapping manager (agents/teredo-client/port-mapping.ts) over fake gateways: which protocol
// wins in auto (PCP, NAT-PMP after PCP failed: RFC 6887 §9, then UPnP), the attempt while qualification goes on, renewal halfway to expiry (RFC 6886 §3.3), loss of the lease, and
// deletion on stop and on a reload to off; a gateway that lost its state (RFC 6887 §8.5, §14.1.3) has the mapping
// made again at once. Timers are vitest's fake ones.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PortMapping, type PortMappingMode } from '../../agents/teredo-client/port-mapping.js';
import type { PortMappingLease } from '../../src/io/port-mapper.js';
import { fakeGateway, fakePortMapper, type FakeGateway } from '../fakes/fake-port-mapper.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function manager(mode: PortMappingMode, gws: { upnp?: FakeGateway; 'nat-pmp'?: FakeGateway; pcp?: FakeGateway }, lifetimeSec = 3600) {
  const changes: (PortMappingLease | undefined)[] = [];
  const m = new PortMapping({ mode, internalPort: 40000, lifetimeSec, factory: fakePortMapper(gws), onChange: (l) => changes.push(l), log: () => undefined });
  return { m, changes };
}

describe('port mapping', () => {
  it('auto: PCP first; UPnP and NAT-PMP are not asked once PCP mapped', async () => {
    const pcp = fakeGateway('grant');
    const pmp = fakeGateway('grant');
    const upnp = fakeGateway('grant', '198.18.0.200');
    const { m, changes } = manager('auto', { pcp, 'nat-pmp': pmp, upnp });
    await m.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(pcp.maps.map((r) => r.internalPort)).toEqual([40000]);
    expect([upnp.maps, pmp.maps]).toEqual([[], []]);
    expect(m.status()).toMatchObject({ state: 'mapped', protocol: 'pcp', externalAddress: '198.18.0.121', externalPort: 40000, lifetimeLeftSec: 3600 });
    expect(changes.map((l) => l?.protocol)).toEqual(['pcp']);
  });

  it('auto: a gateway that refuses PCP (a NAT-PMP-only server: UNSUPP_VERSION) is asked by NAT-PMP next', async () => {
    const pmp = fakeGateway('grant');
    const { m } = manager('auto', { pcp: fakeGateway('refuse'), 'nat-pmp': pmp, upnp: fakeGateway('refuse') });
    await m.start();
    expect(pmp.maps).toHaveLength(1);
    expect(m.status()).toMatchObject({ state: 'mapped', protocol: 'nat-pmp' });
  });

  it('auto: a silent PCP server is not asked by NAT-PMP again (the same port 5351): one attempt of 2 s', async () => {
    const pmp = fakeGateway('grant');
    const { m } = manager('auto', { pcp: fakeGateway('silent'), 'nat-pmp': pmp, upnp: fakeGateway('refuse') });
    void m.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(pmp.maps).toEqual([]);
    expect(m.status()).toMatchObject({ state: 'none' });
    expect(m.status().error).toContain('pcp: timed out');
  });

  it('a NAT without either service: pending while the attempt runs, then status says none and why', async () => {
    const { m, changes } = manager('auto', { pcp: fakeGateway('silent'), upnp: fakeGateway('refuse') });
    void m.start();
    await vi.advanceTimersByTimeAsync(300);
    expect(m.status().state).toBe('pending');
    // The silent PCP attempt gives up after its 2 s timeout.
    await vi.advanceTimersByTimeAsync(2000);
    const s = m.status();
    expect(s.state).toBe('none');
    expect(s.error).toContain('pcp: timed out');
    expect(s.error).toContain('upnp: Not Authorized/Refused');
    expect(changes).toEqual([]);
  });

  it('renews halfway to expiry; a lease that cannot be renewed is reported lost', async () => {
    const pmp = fakeGateway('grant');
    const { m, changes } = manager('nat-pmp', { 'nat-pmp': pmp }, 600);
    await m.start();
    expect(pmp.maps).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(299_000);
    expect(pmp.maps).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(pmp.maps).toHaveLength(2);
    expect(m.status()).toMatchObject({ renewals: 1, lifetimeLeftSec: 600 });
    expect(changes).toHaveLength(1);
    pmp.behaviour = 'refuse';
    // The renewal at 600 s fails (the lease lasts until 900 s): kept, the error shown, retried every 30 s.
    await vi.advanceTimersByTimeAsync(300_000);
    expect(pmp.maps).toHaveLength(3);
    expect(m.status()).toMatchObject({ state: 'mapped', lifetimeLeftSec: 300, error: 'renewal failed: Not Authorized/Refused' });
    // At 870 s the last retry fails with 30 s left: the lease is lost.
    await vi.advanceTimersByTimeAsync(270_000);
    expect(pmp.maps).toHaveLength(3 + 9);
    expect(m.status().state).not.toBe('mapped');
    expect(changes.at(-1)).toBeUndefined();
    expect(changes).toHaveLength(2);
  });

  it('a gateway that lost its state (the mapper tells: RFC 6887 §14.1.3 ANNOUNCE) gets the same map again at once, counted apart from renewals', async () => {
    const pcp = fakeGateway('grant');
    const { m, changes } = manager('pcp', { pcp }, 600);
    await m.start();
    await vi.advanceTimersByTimeAsync(100_000);
    pcp.restart();
    await vi.advanceTimersByTimeAsync(0);
    expect(pcp.maps.map((r) => [r.internalPort, r.lifetimeSec])).toEqual([
      [40000, 600],
      [40000, 600],
    ]);
    expect(m.status()).toMatchObject({ state: 'mapped', renewals: 0, recreations: 1, lifetimeLeftSec: 600 });
    // The same lease: nothing to qualify again for.
    expect(changes).toHaveLength(1);
    // The halfway renewal counts from the new grant (300 s after it, not after the first).
    await vi.advanceTimersByTimeAsync(299_000);
    expect(pcp.maps).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(m.status()).toMatchObject({ renewals: 1, recreations: 1 });
    // A mapper closed (stop) is no longer listened to.
    await m.stop();
    expect(pcp.watchers.size).toBe(0);
  });

  it('auto: UPnP only after PCP and NAT-PMP made no mapping; stop deletes through the protocol that mapped', async () => {
    const pcp = fakeGateway('refuse');
    const pmp = fakeGateway('refuse');
    const upnp = fakeGateway('grant');
    const { m } = manager('auto', { pcp, 'nat-pmp': pmp, upnp });
    await m.start();
    expect([pcp.maps.length, pmp.maps.length, upnp.maps.length]).toEqual([1, 1, 1]);
    expect(m.status()).toMatchObject({ state: 'mapped', protocol: 'upnp' });
    await m.stop();
    expect([pcp.unmaps, pmp.unmaps, upnp.unmaps.map((l) => l.protocol)]).toEqual([[], [], ['upnp']]);
    expect(upnp.open).toBe(0);
  });

  it('stop during an attempt waits for it and deletes a grant that comes meanwhile', async () => {
    const upnp = fakeGateway('hold');
    const { m, changes } = manager('upnp', { upnp });
    void m.start();
    const stopping = m.stop();
    upnp.release();
    await stopping;
    expect(upnp.unmaps.map((l) => l.externalPort)).toEqual([40000]);
    expect(upnp.open).toBe(0);
    expect(changes).toEqual([]);
  });

  it('stop deletes the mapping and closes the mapper', async () => {
    const upnp = fakeGateway('grant');
    const { m } = manager('upnp', { upnp });
    await m.start();
    await m.stop();
    expect(upnp.unmaps.map((l) => [l.protocol, l.externalPort])).toEqual([['upnp', 40000]]);
    expect(upnp.open).toBe(0);
  });

  it('a reload to off deletes the mapping and reports it gone; back to auto maps again', async () => {
    const pmp = fakeGateway('grant');
    const { m, changes } = manager('nat-pmp', { 'nat-pmp': pmp });
    await m.start();
    await m.setMode('off');
    expect(pmp.unmaps).toHaveLength(1);
    expect(m.status()).toMatchObject({ mode: 'off', state: 'off', protocol: null });
    expect(changes.map((l) => l?.protocol)).toEqual(['nat-pmp', undefined]);
    await m.setMode('auto');
    await vi.advanceTimersByTimeAsync(0);
    expect(m.status().state).toBe('mapped');
    expect(pmp.maps).toHaveLength(2);
  });

  it('off asks nothing', async () => {
    const pmp = fakeGateway('grant');
    const { m } = manager('off', { 'nat-pmp': pmp });
    await m.start();
    expect(pmp.maps).toEqual([]);
    expect(m.status().state).toBe('off');
  });
});
