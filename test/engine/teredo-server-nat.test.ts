// The Teredo server engine behind each of the lab's NAT kinds, on the in-memory network (test/fakes/teredo-net.ts):
// a client behind a full-cone, address-restricted, port-restricted or symmetric NAT sends Router Solicitations
// built with src/wire to a TeredoServer run by the real Driver on one FakeClock, and the test sees which Router
// Advertisements come back and what they say. These are the RS/RA exchanges of the qualification procedure
// (RFC 4380 §5.2.1): the cone RS whose RA leaves from the other server address (§5.3.2) gets through a full
// cone only, a plain RS is answered through any NAT, and the second RS, to the secondary address, shows a
// symmetric NAT by the different mapping in the RA's origin indication.

import { describe, expect, it } from 'vitest';
import { TeredoServer } from '../../src/engine/teredo/server/server.js';
import type { ServerSink, ServerSocketIndex } from '../../src/engine/teredo/server/server-types.js';
import type { Millis } from '../../src/engine/types.js';
import type { DatagramBatch } from '../../src/io/ports.js';
import { Driver } from '../../src/runtime/driver.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { formatEndpoint4 } from '../../src/wire/endpoint.js';
import { decodeIcmpv6Packet } from '../../src/wire/icmpv6.js';
import { ALL_ROUTERS, formatIpv6 } from '../../src/wire/ipv6-address.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { decodeNdisc, encodeNdiscPacket } from '../../src/wire/ndisc.js';
import { TEREDO_CLIENT_LINK_LOCAL, TEREDO_CLIENT_LINK_LOCAL_CONE } from '../../src/wire/teredo-address.js';
import { TEREDO_PORT } from '../../src/wire/teredo-constants.js';
import { decodeTeredoPayload, encodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import { capturedLogger } from '../fakes/log-capture.js';
import { VirtualInternet, type NatKind } from '../fakes/teredo-net.js';

const PRIMARY = parseIpv4('198.18.0.10');
const SECONDARY = parseIpv4('198.18.0.11');
const OUTSIDE = parseIpv4('198.18.0.103');
const CLIENT_LAN = parseIpv4('192.168.3.2');
const CLIENT_PORT = 50_000;
const KINDS: readonly NatKind[] = ['full-cone', 'address-restricted', 'port-restricted', 'symmetric'];

/** What the client learnt from one RA, read inside the handler (the bytes are lent). */
interface Ra {
  readonly from: string;
  readonly nonce: string;
  readonly origin: string;
  readonly prefix: string;
}

/** A Teredo UDP payload with an authentication header (nonce) around an RS from the client's link-local. */
function routerSolicitation(cone: boolean, nonce: number): Uint8Array {
  const ipv6 = encodeNdiscPacket({ src: cone ? TEREDO_CLIENT_LINK_LOCAL_CONE : TEREDO_CLIENT_LINK_LOCAL, dst: ALL_ROUTERS, hopLimit: 255 }, { kind: 'router-solicit', options: [] });
  const auth = { clientId: new Uint8Array(0), authValue: new Uint8Array(0), nonce: new Uint8Array(8).fill(nonce), confirmation: 0 };
  return encodeTeredoPayload({ auth, ipv6 });
}

/** A server on PRIMARY and SECONDARY:3544 (engine + Driver wired as agents/teredo-server does) and a client behind a `kind` NAT. */
function site(kind: NatKind) {
  const clock = new FakeClock(0);
  const inet = new VirtualInternet(clock, { latencyMs: 5 });
  const host = inet.host([PRIMARY, SECONDARY]);
  const sockets = [host.bind(TEREDO_PORT, PRIMARY), host.bind(TEREDO_PORT, SECONDARY)] as const;
  const native: number[] = [];
  const engine = new TeredoServer({ primary: PRIMARY, secondary: SECONDARY });
  const driver = new Driver<ServerSink>({
    engine,
    logger: capturedLogger('teredo-server-nat', 'info').logger,
    clock,
    timers: clock,
    sink: (drop) => ({
      drop,
      sendUdp: (socket, data, offset, length, addr, port) => sockets[socket].send(data, offset, length, addr, port),
      writeNative: (_data, _offset, length) => native.push(length),
    }),
  });
  const step = (socket: ServerSocketIndex) => (batch: DatagramBatch, now: Millis, sink: ServerSink): void => {
    for (let i = 0; i < batch.count; i++) engine.datagram(socket, batch.data, batch.offset(i), batch.length(i), batch.sourceAddr(i), batch.sourcePort(i), now, sink);
  };
  sockets.forEach((s, i) => s.onBatch((batch) => driver.batch(step(i as ServerSocketIndex), batch)));
  driver.start();

  const client = inet.natHost(inet.nat(kind, OUTSIDE), CLIENT_LAN).bind(CLIENT_PORT);
  const ras: Ra[] = [];
  client.onBatch((b) => {
    for (let i = 0; i < b.count; i++) {
      const p = decodeTeredoPayload(b.data.subarray(b.offset(i), b.offset(i) + b.length(i)));
      const ra = decodeNdisc(decodeIcmpv6Packet(p.ipv6).message);
      const pio = ra.options.find((o) => o.kind === 'prefix-info');
      ras.push({
        from: formatEndpoint4({ addr: b.sourceAddr(i), port: b.sourcePort(i) }),
        nonce: String(p.auth?.nonce[0]),
        origin: p.origin ? formatEndpoint4(p.origin) : 'none',
        prefix: pio ? `${formatIpv6(pio.prefix)}/${pio.prefixLength}` : 'none',
      });
    }
  });
  const solicit = (cone: boolean, nonce: number, to: number): void => {
    const rs = routerSolicitation(cone, nonce);
    client.send(rs, 0, rs.length, to, TEREDO_PORT);
  };
  return { inet, driver, engine, native, ras, solicit };
}

describe.each(KINDS)('client behind a %s NAT', (kind) => {
  it('a plain RS to the primary address is answered from it with the mapping the NAT gave and the primary prefix', () => {
    const s = site(kind);
    s.solicit(false, 1, PRIMARY);
    s.inet.runUntilIdle();
    expect(s.ras).toHaveLength(1);
    const ra = s.ras[0]!;
    expect(ra).toMatchObject({ from: `198.18.0.10:${TEREDO_PORT}`, nonce: '1', prefix: '2001:0:c612:a::/64' });
    expect(ra.origin).toMatch(/^198\.18\.0\.103:\d+$/);
    // Masquerade keeps the client's port on the endpoint-independent NATs; the symmetric one draws a port.
    expect(ra.origin === `198.18.0.103:${CLIENT_PORT}`).toBe(kind !== 'symmetric');
    expect(s.engine.counters.snapshot()).toMatchObject({ rsAnswered: { primary: 1, secondary: 0 }, raSent: { primary: 1, secondary: 0 } });
    expect(s.native).toEqual([]);
  });

  it(`a cone RS is answered from the secondary address, which gets through ${kind === 'full-cone' ? '' : 'no NAT but '}a full cone`, () => {
    const s = site(kind);
    s.solicit(true, 2, PRIMARY);
    s.inet.runUntilIdle();
    expect(s.engine.counters.snapshot()).toMatchObject({ rsAnswered: { primary: 1, secondary: 0 }, raSent: { primary: 0, secondary: 1 } });
    if (kind === 'full-cone') {
      expect(s.ras).toEqual([expect.objectContaining({ from: `198.18.0.11:${TEREDO_PORT}`, nonce: '2', prefix: '2001:0:c612:a::/64' })]);
    } else {
      expect(s.ras).toEqual([]);
      expect(s.inet.drops()).toEqual({ 'nat-filtered': 1 });
    }
  });

  it('the second RS, to the secondary address, shows the same mapping unless the NAT is symmetric (§5.2.1)', () => {
    const s = site(kind);
    s.solicit(false, 3, PRIMARY);
    s.inet.runUntilIdle();
    s.solicit(false, 4, SECONDARY);
    s.inet.runUntilIdle();
    expect(s.ras.map((r) => [r.from, r.nonce])).toEqual([
      [`198.18.0.10:${TEREDO_PORT}`, '3'],
      [`198.18.0.11:${TEREDO_PORT}`, '4'],
    ]);
    expect(s.ras[0]!.origin === s.ras[1]!.origin).toBe(kind !== 'symmetric');
    expect(s.driver.drops()).toEqual({});
  });
});
