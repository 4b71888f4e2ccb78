// The PCP port mapper (src/io/port-mapper-pcp.ts) against a fake PCP server on a loopback UDP socket: the MAP
// request it sends (RFC 6887 §7.1, §11.1), renewal with the same nonce suggesting the granted port (§11.2.1),
// deletion by lifetime 0 (§15), version negotiation with a NAT-PMP-only server (§9), error result codes (§7.4),
// retransmission (§8.1.1), datagrams that do not match ignored (§11.3), no server, and the abort. The §8.1.1
// timing itself is pinned as numbers. A server that lost its state: its answer's epoch (§8.5) or its unsolicited
// ANNOUNCE (§14.1.3, sent here by unicast to the client port the test picks) calls the watcher, after the
// random delay, at most once per 5 s; ANNOUNCEs from anyone but the server are ignored.

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PcpMapper, pcpRetransmissionMs } from '../../src/io/port-mapper-pcp.js';
import { fromHex } from '../../src/wire/bytes.js';

/** A fake server: answer(request, n) gives the datagrams to send back to the n-th request (0-based). */
interface FakeServer {
  readonly port: number;
  readonly requests: Uint8Array[];
  /** Sends from the server's socket (its address and port) to 127.0.0.1:port. */
  send(b: Uint8Array, port: number): Promise<void>;
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
  return { port: s.address().port, requests, send: (b, port) => sendFrom(s, b, port), close: () => s.close() };
}

function sendFrom(s: Socket, b: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve, reject) => s.send(b, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
}

/**
 * Lets the event loop go round a few times: datagrams already queued on loopback sockets are handled (each round
 * polls), and a timer of 0 ms set meanwhile has run.
 */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** A UDP port free right now (bound, read, closed): the client port the mapper listens on. */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(resolve));
  return port;
}

/** An ANNOUNCE response (Figure 3 alone, opcode 0) with this Epoch Time. */
function announce(epochSec: number): Uint8Array {
  const b = fromHex('02 80 0000 00000000 00000000 00000000 00000000 00000000');
  new DataView(b.buffer).setUint32(8, epochSec);
  return b;
}

/** A MAP response (Figure 3 + Figure 10) for `req`: its nonce, protocol and internal port copied. */
function response(req: Uint8Array, o: { result?: number; lifetime?: number; port?: number; addr?: string; epoch?: number } = {}): Uint8Array {
  const b = new Uint8Array(60);
  const v = new DataView(b.buffer);
  b[0] = 2;
  b[1] = 0x81;
  b[3] = o.result ?? 0;
  v.setUint32(4, o.lifetime ?? 1800);
  v.setUint32(8, o.epoch ?? 42);
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

describe('a server that lost its state (§8.5, §14.1.3)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('an ANNOUNCE from the server whose epoch went back calls the watcher; forged and in-step ones do not', async () => {
    const srv = await fakeServer((r) => [response(r, { epoch: 1000 })]);
    const announcePort = await freePort();
    let clock = 0;
    const m = new PcpMapper({ server: '127.0.0.1', port: srv.port, announcePort, now: () => clock, random: () => 0 });
    await m.map(req());
    let restarts = 0;
    let restarted = (): void => undefined;
    await m.watchRestart(() => {
      restarts++;
      restarted();
    });
    // From another port of the server's address, and from the server's port on another address (anyone on the
    // LAN): ignored, though their epochs say restart.
    for (const [address, port] of [['127.0.0.1', 0], ['127.0.0.2', srv.port]] as const) {
      const forger = createSocket('udp4');
      servers.push(forger);
      await new Promise<void>((resolve) => forger.bind(port, address, resolve));
      await sendFrom(forger, announce(0), announcePort);
    }
    // From the server, 10 s on and 10 s further in its epoch: in step, nothing lost.
    clock = 10_000;
    await srv.send(announce(1010), announcePort);
    await settle();
    expect(restarts).toBe(0);
    // The server restarted: epoch 3 where 1010 + 20 was due.
    clock = 30_000;
    const called = new Promise<void>((resolve) => (restarted = resolve));
    await srv.send(announce(3), announcePort);
    await called;
    expect(restarts).toBe(1);
    await m.close();
  });

  it("a renewal's answer with an epoch gone back calls the watcher at once; again within 5 s waits for the 5 s", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const epochs = [1000, 1010, 5, 0];
    const srv = await fakeServer((r, n) => [response(r, { epoch: epochs[n] })]);
    let clock = 0;
    const m = new PcpMapper({ server: '127.0.0.1', port: srv.port, announcePort: await freePort(), now: () => clock });
    await m.map(req());
    let restarts = 0;
    await m.watchRestart(() => void restarts++);
    clock = 10_000;
    await m.map(req());
    clock = 20_000;
    await m.map(req());
    await vi.advanceTimersByTimeAsync(0);
    expect(restarts).toBe(1);
    // Lost again 1 s later (epoch 0 where 6 was due): not before 5 s after the last call.
    clock = 21_000;
    await m.map(req());
    await vi.advanceTimersByTimeAsync(3999);
    expect(restarts).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(restarts).toBe(2);
    await m.close();
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
