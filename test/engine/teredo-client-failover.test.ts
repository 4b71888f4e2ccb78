// Several servers, why the client is not qualified, and the mapping behaviour it reports (issue "Through every
// NAT", point 2), against the real server engines on the in-memory network in virtual time.

import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { decodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { CLIENT_PORT, PRIMARY, PROBE_PORT, SECONDARY, TeredoWorld } from './teredo-client-fixtures.js';

/** RFC 4380 §5.2.1 T and N, §2.15 refresh interval: the defaults. */
const T = 4000;
const N = 3;
const REFRESH_MS = 30_000;
const FALLBACK = parseIpv4('198.18.0.40');
const FALLBACK2 = parseIpv4('198.18.0.41');

const serverOf = (address: Uint8Array | undefined): number | undefined => (address === undefined ? undefined : decodeTeredoAddress(address).server);

describe('several servers', () => {
  it('the server in use goes away: the next one within a refresh and N x T, never offline; back to the first once it answers', () => {
    const w = new TeredoWorld();
    w.addServer(FALLBACK, FALLBACK2);
    const c = w.client('port-restricted', { fallbacks: [{ primary: FALLBACK }], preferredRetryMs: 20_000 });
    w.runUntilQualified(c);
    expect(serverOf(c.engine.address)).toBe(PRIMARY);
    w.server.stop();
    const lost = w.clock.now();
    w.runUntil(lost + REFRESH_MS + N * T + 1000);
    const s = c.engine.snapshot(w.clock.now());
    expect([s.state, s.serverIndex, serverOf(s.address), s.counters.serverSwitches]).toEqual(['qualified', 1, FALLBACK, 1]);
    expect(c.states.map((x) => x.state)).not.toContain('offline');
    // The address moved to the fallback's prefix 2001:0:<fallback>::/64 in one change (the old one removed).
    expect(c.addresses.map((a) => [serverOf(a.previous), serverOf(a.current)])).toEqual([
      [undefined, PRIMARY],
      [PRIMARY, undefined],
      [undefined, FALLBACK],
    ]);
    // The first server comes back: within one preferredRetryMs the client is its client again.
    w.server.start();
    const back = w.clock.now();
    w.runUntil(back + 20_000 + 1000);
    const after = c.engine.snapshot(w.clock.now());
    expect([after.state, after.serverIndex, serverOf(after.address)]).toEqual(['qualified', 0, PRIMARY]);
  });

  it('the first server is down at start: qualified with the fallback after N x T', () => {
    const w = new TeredoWorld();
    w.server.stop();
    w.addServer(FALLBACK, FALLBACK2);
    const c = w.client('symmetric', { fallbacks: [{ primary: FALLBACK, secondary: FALLBACK2 }] });
    const took = w.runUntilQualified(c, 60_000);
    expect(took).toBeGreaterThanOrEqual(N * T);
    expect(took).toBeLessThan(N * T + 1000);
    expect(serverOf(c.engine.address)).toBe(FALLBACK);
    expect(c.engine.nat).toBe('symmetric');
  });

  it('every server down: offline with the reason after one round, then again from the first after the backoff', () => {
    const w = new TeredoWorld();
    w.server.stop();
    const c = w.client('port-restricted', { fallbacks: [{ primary: FALLBACK }], backoffInitialMs: 2000 });
    w.runUntil(2 * N * T);
    const s = c.engine.snapshot(w.clock.now());
    expect(s.state).toBe('offline');
    expect(s.errorCode).toBe('no-answer');
    expect(s.error).toBe('no answer from the Teredo server 198.18.0.40:3544 (UDP to port 3544 blocked on the way, or the server is down)');
    expect(s.retryInMs).toBe(2000);
    w.runUntil(2 * N * T + 2000);
    const firstRetry = w.sent(c).filter((x) => x.at === 2 * N * T + 2000);
    expect(firstRetry.map((x) => x.addr)).toEqual([PRIMARY, PRIMARY, PRIMARY]);
  });
});

describe('why not qualified', () => {
  it('a reason while still probing after a failure, and none once qualified', () => {
    const w = new TeredoWorld();
    w.server.stop();
    const c = w.client('full-cone', { backoffInitialMs: 1000 });
    w.runUntil(N * T + 500);
    expect(c.engine.snapshot(w.clock.now()).errorCode).toBe('no-answer');
    w.runUntil(N * T + 1000);
    expect(c.engine.state).toBe('probe-primary');
    expect(c.engine.snapshot(w.clock.now()).errorCode).toBe('no-answer');
    w.server.start();
    w.runUntilQualified(c, 60_000);
    expect(c.engine.snapshot(w.clock.now()).errorCode).toBeUndefined();
    expect(c.engine.snapshot(w.clock.now()).error).toBeUndefined();
  });

  it("the server's addresses swapped in the configuration: its RAs are refused, and the reason says which check and what to look at", () => {
    const w = new TeredoWorld();
    // The secondary address answers an RS sent to it, with the prefix of the server's real primary (§5.3.1).
    const c = w.client('full-cone', { primary: SECONDARY, secondary: PRIMARY });
    w.runUntil(N * T);
    const s = c.engine.snapshot(w.clock.now());
    expect(s.state).toBe('offline');
    expect(s.errorCode).toBe('ra-refused');
    expect(s.error).toMatch(/^the Teredo server 198\.18\.0\.11:3544 answered, but its Router Advertisement was refused \(ra-prefix-not-server\): .*primary address/);
  });

  it('refused behind a symmetric NAT by configuration: its own code', () => {
    const w = new TeredoWorld();
    const c = w.client('symmetric', { refuseSymmetric: true });
    w.runUntil(1000);
    expect(c.engine.snapshot(w.clock.now()).errorCode).toBe('symmetric-refused');
  });
});

describe('mapping behaviour (RFC 4787 §4.1)', () => {
  const ports = { localPort: CLIENT_PORT, probeLocalPort: PROBE_PORT };
  it('port-restricted (Linux masquerade): endpoint-independent and port-preserving', () => {
    const w = new TeredoWorld();
    const c = w.client('port-restricted', ports);
    w.runUntilQualified(c);
    expect(c.engine.snapshot(w.clock.now()).mapping).toEqual({ endpointIndependent: true, portPreserving: true, portDelta: undefined, allocation: undefined });
  });

  it('full cone: endpoint-independent by definition', () => {
    const w = new TeredoWorld();
    const c = w.client('full-cone', ports);
    w.runUntilQualified(c);
    expect(c.engine.snapshot(w.clock.now()).mapping).toMatchObject({ endpointIndependent: true, portPreserving: true });
  });

  it('symmetric (fully random ports): endpoint-dependent, random allocation, not port-preserving', () => {
    const w = new TeredoWorld();
    const c = w.client('symmetric', ports);
    w.runUntilQualified(c);
    const m = c.engine.snapshot(w.clock.now()).mapping;
    expect([m.endpointIndependent, m.portPreserving, m.allocation]).toEqual([false, false, 'random']);
    expect(m.portDelta).toBeGreaterThan(16);
  });

  it('without the local ports, port preservation is unknown', () => {
    const w = new TeredoWorld();
    const c = w.client('port-restricted');
    w.runUntilQualified(c);
    expect(c.engine.snapshot(w.clock.now()).mapping.portPreserving).toBeUndefined();
  });
});
