// The PCP port mapper (src/io/port-mapper-pcp.ts) against a fake PCP server on a loopback UDP socket: the MAP
// request it sends (RFC 6887 §7.1, §11.1), renewal with the same nonce suggesting the granted port (§11.2.1),
// deletion by lifetime 0 (§15), version negotiation with a NAT-PMP-only server (§9), error result codes (§7.4),
// retransmission (§8.1.1), datagrams that do not match ignored (§11.3), no server, and the abort. The §8.1.1
// timing itself is pinned as numbers.

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { PcpMapper, pcpRetransmissionMs } from '../../src/io/port-mapper-pcp.js';
import { fromHex } from '../../src/wire/bytes.js';

/** A fake server: answer(request, n) gives the datagrams to send back to the n-th request (0-based). */
interface FakeServer {
  readonly port: number;
  readonly requests: Uint8Array[];
  close(): void;
}
let servers: Socket[] = [];
afterEach(() => {
  for (const s of servers) s.close();
  servers = [];
});

async function fakeServer(answer: (req: Uint8Array, n: number) => Uint8Array[]): Promise<FakeServer> {
  const s = createSocket('udp4');
  servers.push(s);
  const requests: Uint8Array[] = [];
  s.on('message', (msg: Buffer, from: RemoteInfo) => {
    const req = new Uint8Array(msg);
    requests.push(req);
    for (const a of answer(req, requests.length - 1)) s.send(a, from.port, from.address);
  });
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return { port: s.address().port, requests, close: () => s.close() };
}

/** A MAP response (Figure 3 + Figure 10) for `req`: its nonce, protocol and internal port copied. */
function response(req: Uint8Array, o: { result?: number; lifetime?: number; port?: number; addr?: string } = {}): Uint8Array {
  const b = new Uint8Array(60);
  const v = new DataView(b.buffer);
  b[0] = 2;
  b[1] = 0x81;
  b[3] = o.result ?? 0;
  v.setUint32(4, o.lifetime ?? 1800);
  v.setUint32(8, 42);
  b.set(req.subarray(24, 44), 24); // nonce, protocol, reserved, internal port (+ suggested port, overwritten)
  v.setUint16(42, o.port ?? 40001);
  b.set(fromHex(o.addr ?? '00000000 00000000 0000ffff c6120079'), 44);
  return b;
}

const req = (lifetimeSec = 3600, signal = AbortSignal.timeout(5000)) => ({ internalPort: 40000, lifetimeSec, signal });

describe('PcpMapper', () => {
  it('maps: the request per Figure 2 + 9, the lease from the response; renewal repeats the nonce and suggests the granted port; unmap sends lifetime 0', async () => {
    const srv = await fakeServer((r) => [response(r, { lifetime: new DataView(r.buffer).getUint32(4) === 0 ? 0 : 1800 })]);
    const m = new PcpMapper({ server: '127.0.0.1', port: srv.port });
    const lease = await m.map(req());
    expect(lease).toEqual({ protocol: 'pcp', externalAddress: '198.18.0.121', externalPort: 40001, internalAddress: '127.0.0.1', internalPort: 40000, lifetimeSec: 1800 });
    const first = srv.requests[0]!;
    expect(first.length).toBe(60);
    expect(first.subarray(0, 24)).toEqual(fromHex('02 01 0000 00000e10 00000000 00000000 0000ffff 7f000001'));
    expect(first.subarray(36, 60)).toEqual(fromHex('11 000000 9c40 9c40 00000000 00000000 0000ffff 00000000'));
    const nonce = first.subarray(24, 36);

    await m.map(req());
    const renewal = srv.requests[1]!;
    expect(renewal.subarray(24, 36)).toEqual(nonce);
    expect(renewal.subarray(40, 60)).toEqual(fromHex('9c40 9c41 00000000 00000000 0000ffff c6120079'));

    await m.unmap(lease, AbortSignal.timeout(5000));
    const del = srv.requests[2]!;
    expect(del.subarray(4, 8)).toEqual(fromHex('00000000'));
    expect(del.subarray(24, 36)).toEqual(nonce);
    await m.close();
  });

  it('each mapper draws its own nonce', async () => {
    const srv = await fakeServer((r) => [response(r)]);
    await new PcpMapper({ server: '127.0.0.1', port: srv.port }).map(req());
    await new PcpMapper({ server: '127.0.0.1', port: srv.port }).map(req());
    expect(srv.requests[0]!.subarray(24, 36)).not.toEqual(srv.requests[1]!.subarray(24, 36));
  });

  it('a NAT-PMP-only server (version 0 UNSUPP_VERSION, §9): PCP not supported', async () => {
    const srv = await fakeServer(() => [fromHex('00 81 0001 0000002a')]);
    await expect(new PcpMapper({ server: '127.0.0.1', port: srv.port }).map(req())).rejects.toThrow(/PCP not supported/);
  });

  it('an error result code is the rejection (§7.4)', async () => {
    const srv = await fakeServer((r) => [response(r, { result: 2, lifetime: 30 })]);
    await expect(new PcpMapper({ server: '127.0.0.1', port: srv.port }).map(req())).rejects.toThrow(/NOT_AUTHORIZED/);
  });

  it('retransmits the same request until answered (§8.1.1); garbage and answers to other mappings are ignored (§11.3)', async () => {
    const srv = await fakeServer((r, n) => {
      if (n === 0) return [];
      const other = response(r, { port: 50000 });
      other[24] = other[24]! ^ 0xff; // another nonce
      return [fromHex('deadbeef'), other, response(r)];
    });
    const lease = await new PcpMapper({ server: '127.0.0.1', port: srv.port, irtMs: 20 }).map(req());
    expect(lease.externalPort).toBe(40001);
    expect(srv.requests.length).toBeGreaterThanOrEqual(2);
    expect(srv.requests[1]).toEqual(srv.requests[0]);
  });

  it('no server on the port (ICMP port unreachable): refused at once', async () => {
    const srv = await fakeServer(() => []);
    const port = srv.port;
    srv.close();
    servers = [];
    await expect(new PcpMapper({ server: '127.0.0.1', port }).map(req())).rejects.toThrow(/refused/);
  });

  it('a silent server: the signal ends the wait', async () => {
    const srv = await fakeServer(() => []);
    const c = new AbortController();
    const p = new PcpMapper({ server: '127.0.0.1', port: srv.port, irtMs: 20 }).map(req(3600, c.signal));
    setTimeout(() => c.abort(new Error('timed out after 2000 ms')), 100);
    await expect(p).rejects.toThrow(/no answer from 127.0.0.1 \(timed out after 2000 ms\)/);
  });
});

describe('§8.1.1 retransmission timing', () => {
  it('IRT 3 s, then doubling up to MRT 1024 s, each with RAND in [-0.1, +0.1]', () => {
    expect(pcpRetransmissionMs(0, 0.5)).toBeCloseTo(3000);
    expect(pcpRetransmissionMs(0, 0)).toBeCloseTo(2700);
    expect(pcpRetransmissionMs(0, 1)).toBeCloseTo(3300);
    expect(pcpRetransmissionMs(3000, 0.5)).toBeCloseTo(6000);
    expect(pcpRetransmissionMs(1_000_000, 0.5)).toBeCloseTo(1_024_000);
  });
});
