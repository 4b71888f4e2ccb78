// The addon's batched DatagramPort (src/io/datagram-port-native.ts) on loopback: what node:dgram does not do.
// Sends made in one JS turn leave in one native call at its end, whatever port they were made on; send copies
// the bytes; a batch received is one call into JS, and the replies it causes are flushed once; one failing
// datagram is reported with its destination and errno while the rest of its batch goes out; received memory is
// lent (one buffer per port, overwritten by the next batch). The contract it shares with node:dgram is tested
// for both in datagram-port.test.ts; DF bit and namespaces in test/netns/io-udp.

import { afterEach, describe, expect, it } from 'vitest';
import { openNativeDatagramPort, type NativeDatagramPort } from '../../src/io/datagram-port-native.js';
import { IoError } from '../../src/io/io-error.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { onEachDatagram, sendTo } from './port-helpers.js';

const LOOPBACK = parseIpv4('127.0.0.1');
const open: NativeDatagramPort[] = [];

function port(options: Parameters<typeof openNativeDatagramPort>[0] = {}): NativeDatagramPort {
  const p = openNativeDatagramPort({ address: LOOPBACK, ...options });
  open.push(p);
  return p;
}

/** Collects what `p` receives; `until(n)` resolves once n datagrams are in (or rejects after 5 s). */
function collect(p: NativeDatagramPort): { got: { bytes: Uint8Array; from: Endpoint4 }[]; until: (n: number) => Promise<void> } {
  const got: { bytes: Uint8Array; from: Endpoint4 }[] = [];
  let wanted = Infinity;
  let done: (() => void) | undefined;
  onEachDatagram(p, (bytes, from) => {
    got.push({ bytes, from });
    if (got.length >= wanted) done?.();
  });
  return {
    got,
    until: (n) =>
      new Promise((resolve, reject) => {
        if (got.length >= n) return resolve();
        wanted = n;
        const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${n} datagrams`)), 5000);
        done = () => {
          clearTimeout(timer);
          resolve();
        };
      }),
  };
}

function errors(p: NativeDatagramPort): IoError[] {
  const seen: IoError[] = [];
  p.onError((e) => seen.push(e as IoError));
  return seen;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

describe('native DatagramPort: UDP GSO and GRO (issue 18)', () => {
  // 40 datagrams of 1 300 bytes then a short one, one destination: one GSO send, one coalesced receive on
  // loopback; each must still arrive as its own datagram, byte for byte, in order, from the sender's port.
  const burst = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => new Uint8Array(i === n - 1 ? 77 : 1300).fill(i + 1));

  for (const offload of [true, false]) {
    it(`delivers a same-size burst datagram by datagram with offload ${offload ? 'on' : 'off'}`, async () => {
      const a = port({ offload });
      const b = port({ offload });
      expect([a.offload, a.gsoActive]).toEqual([offload, offload]);
      const rx = collect(b);
      const sent = burst(41);
      for (const d of sent) sendTo(a, d, b.local);
      await rx.until(41);
      expect(rx.got.map((d) => d.bytes)).toEqual(sent);
      expect(rx.got.every((d) => d.from.addr === a.local.addr && d.from.port === a.local.port)).toBe(true);
      expect(a.stats()).toMatchObject({ sent: 41, sendFailed: 0 });
      expect(a.gsoActive).toBe(offload);
    });
  }

  it('sends a turn that mixes GSO runs and single datagrams to several destinations, each datagram whole and in order', async () => {
    // The teredo-server's RS -> RA shape: runs to one client (GSO groups) between lone datagrams to others,
    // all in one flush (one sendmmsg whose entries are groups or datagrams).
    const a = port({ offload: true });
    const b = port({ offload: true });
    const c = port({ offload: false });
    const rxB = collect(b);
    const rxC = collect(c);
    const toB: Uint8Array[] = [];
    const toC: Uint8Array[] = [];
    for (let i = 0; i < 12; i++) {
      const run = i % 3 === 0 ? 4 : 1; // groups of 4 to b, singles to c
      for (let k = 0; k < run; k++) {
        const d = new Uint8Array(117).fill(i * 8 + k);
        toB.push(d);
        sendTo(a, d, b.local);
      }
      const lone = Uint8Array.of(i, 0xc);
      toC.push(lone);
      sendTo(a, lone, c.local);
    }
    await rxB.until(toB.length);
    await rxC.until(toC.length);
    expect(rxB.got.map((d) => d.bytes)).toEqual(toB);
    expect(rxC.got.map((d) => d.bytes)).toEqual(toC);
    expect(a.stats()).toMatchObject({ flushes: 1, sent: toB.length + toC.length, sendFailed: 0 });
    expect(a.gsoActive).toBe(true);
  });

  it('receives datagrams sent without GSO on a GRO socket, and GSO datagrams on a socket without GRO', async () => {
    const plain = port({ offload: false });
    const gro = port({ offload: true });
    const rxGro = collect(gro);
    const rxPlain = collect(plain);
    for (const d of burst(10)) sendTo(plain, d, gro.local);
    for (const d of burst(10)) sendTo(gro, d, plain.local);
    await rxGro.until(10);
    await rxPlain.until(10);
    expect(rxGro.got.map((d) => d.bytes)).toEqual(burst(10));
    expect(rxPlain.got.map((d) => d.bytes)).toEqual(burst(10));
  });
});

describe('native DatagramPort: batched send', () => {
  it('sends everything queued in one JS turn in one native call at its end, in order', async () => {
    const a = port();
    const b = port();
    const rx = collect(b);
    for (let i = 0; i < 50; i++) sendTo(a, Uint8Array.of(i, i + 1, i + 2), b.local);
    expect(a.stats()).toMatchObject({ flushes: 0, sent: 0 });
    await rx.until(50);
    expect(a.stats()).toMatchObject({ flushes: 1, sent: 50, sendFailed: 0 });
    expect(rx.got.map((d) => d.bytes[0])).toEqual([...Array(50).keys()]);
    expect([...rx.got[7]!.bytes]).toEqual([7, 8, 9]);
    expect(rx.got.every((d) => d.from.addr === a.local.addr && d.from.port === a.local.port)).toBe(true);
  });

  it('copies the bytes at send(), so the caller may reuse its buffer at once', async () => {
    const a = port();
    const b = port();
    const rx = collect(b);
    const buf = new Uint8Array(4);
    for (let i = 0; i < 3; i++) {
      buf.fill(i);
      sendTo(a, buf, b.local);
    }
    await rx.until(3);
    expect(rx.got.map((d) => [...d.bytes])).toEqual([[0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2]]);
  });

  it('flushes every port with queued sends together, and flush() sends at once', async () => {
    const a = port();
    const c = port();
    const b = port();
    const rx = collect(b);
    sendTo(a, Uint8Array.of(1), b.local);
    sendTo(c, Uint8Array.of(2), b.local);
    a.flush();
    expect(a.stats()).toMatchObject({ flushes: 1, sent: 1 });
    expect(c.stats()).toMatchObject({ flushes: 0, sent: 0 });
    await rx.until(2);
    expect(c.stats()).toMatchObject({ flushes: 1, sent: 1 });
    expect(rx.got.map((d) => d.from.port).sort()).toEqual([a.local.port, c.local.port].sort());
  });

  it('flushes early when a turn queues more than 1024 datagrams or more than the staging area holds', async () => {
    const a = port();
    const sink = port();
    for (let i = 0; i < 1500; i++) sendTo(a, Uint8Array.of(i & 0xff), sink.local);
    expect(a.stats()).toMatchObject({ flushes: 1, sent: 1024 });
    await tick();
    expect(a.stats()).toMatchObject({ flushes: 2, sent: 1500 });
    // 3 x 60 000 bytes do not fit the 128 KiB staging area together: the third send flushes the first two.
    for (let i = 0; i < 3; i++) sendTo(a, new Uint8Array(60_000), sink.local);
    expect(a.stats()).toMatchObject({ flushes: 3, sent: 1502 });
    await tick();
    expect(a.stats()).toMatchObject({ flushes: 4, sent: 1503 });
  });

  it('reports a failing datagram with its destination and errno while the rest of the batch goes out', async () => {
    const a = port();
    const b = port();
    const seen = errors(a);
    const rx = collect(b);
    sendTo(a, Uint8Array.of(1), b.local);
    sendTo(a, Uint8Array.of(2), { addr: LOOPBACK, port: 0 }); // EINVAL
    sendTo(a, new Uint8Array(65_508), b.local); // one byte over the IPv4 UDP maximum: EMSGSIZE
    sendTo(a, Uint8Array.of(3), b.local);
    await rx.until(2);
    expect(rx.got.map((d) => d.bytes[0])).toEqual([1, 3]);
    expect(seen.map((e) => [e.code, e.errno, e.syscall])).toEqual([
      ['IO_UDP_SEND', 22, 'sendmmsg'],
      ['IO_UDP_SEND', 90, 'sendmmsg'],
    ]);
    expect(seen[0]!.message).toBe('send to 127.0.0.1:0: EINVAL');
    expect(seen[1]!.message).toContain(`127.0.0.1:${b.local.port}: EMSGSIZE`);
    expect(a.stats()).toMatchObject({ flushes: 1, sent: 2, sendFailed: 2 });
  });

  it('sends what is queued before closing', async () => {
    const a = port();
    const b = port();
    const rx = collect(b);
    sendTo(a, Uint8Array.of(9), b.local);
    await a.close();
    await rx.until(1);
    expect(a.stats().sent).toBe(1);
  });
});

describe('native DatagramPort: batched receive', () => {
  it('delivers a burst in batches of at most batchSize, each datagram whole, in order, with its sender', async () => {
    const a = port();
    const b = port({ batchSize: 16 });
    const rx = collect(b);
    for (let i = 0; i < 100; i++) sendTo(a, new Uint8Array(1 + (i % 37) * 30).fill(i), b.local);
    await rx.until(100);
    const s = b.stats();
    expect(s.received).toBe(100);
    expect(s.receiveBatches).toBeGreaterThanOrEqual(7); // 100 / 16
    rx.got.forEach((d, i) => {
      expect(d.bytes.length).toBe(1 + (i % 37) * 30);
      expect(d.bytes.every((x) => x === i)).toBe(true);
      expect(d.from).toEqual(a.local);
    });
  });

  it('receives a 65 507-byte datagram, the IPv4 UDP maximum, untruncated', async () => {
    const a = port();
    const b = port();
    const rx = collect(b);
    const big = new Uint8Array(65_507).map((_, i) => i & 0xff);
    sendTo(a, big, b.local);
    sendTo(a, Uint8Array.of(7), b.local);
    await rx.until(2);
    expect(new Uint8Array(rx.got[0]!.bytes)).toEqual(big);
    expect([...rx.got[1]!.bytes]).toEqual([7]);
  });

  it('flushes the replies a received batch causes once per batch (an echo server)', async () => {
    const client = port();
    const echo = port({ batchSize: 64 });
    onEachDatagram(echo, (bytes, from) => sendTo(echo, bytes, from));
    const rx = collect(client);
    for (let i = 0; i < 60; i++) sendTo(client, Uint8Array.of(i), echo.local);
    await rx.until(60);
    const s = echo.stats();
    expect(s.received).toBe(60);
    expect(s.flushes).toBe(s.receiveBatches);
    expect(s.flushes).toBeLessThan(60);
    expect(rx.got.map((d) => d.bytes[0])).toEqual([...Array(60).keys()]);
  });

  it('hands the datagrams of one wake-up over as one lent batch, and reports a throwing handler as IO_HANDLER', async () => {
    const a = port();
    const b = port();
    const seen = errors(b);
    const batches: number[][] = [];
    b.onBatch((batch) => {
      batches.push(Array.from({ length: batch.count }, (_, i) => batch.data[batch.offset(i)]!));
      if (batches.length === 1) throw new Error('engine bug');
    });
    for (const x of [0, 1, 2]) sendTo(a, Uint8Array.of(x), b.local);
    for (let i = 0; i < 100 && batches.flat().length < 3; i++) await tick();
    sendTo(a, Uint8Array.of(3), b.local);
    for (let i = 0; i < 100 && batches.flat().length < 4; i++) await tick();
    expect(batches.flat()).toEqual([0, 1, 2, 3]);
    expect(batches.length).toBeLessThan(4); // the first three arrived together
    expect(seen.map((e) => e.code)).toEqual(['IO_HANDLER']);
  });
});

describe('native DatagramPort: lent receive memory', () => {
  it('hands every batch in the same buffer, allocated once: a view kept past the handler shows the next batch', async () => {
    const a = port();
    const b = port();
    const kept: { data: Uint8Array; at: number; first: number[] }[] = [];
    b.onBatch((batch) => {
      const at = batch.offset(0);
      kept.push({ data: batch.data, at, first: [...batch.data.subarray(at, at + batch.length(0))] });
    });
    sendTo(a, Uint8Array.of(1, 1, 1), b.local);
    for (let i = 0; i < 100 && kept.length < 1; i++) await tick();
    sendTo(a, Uint8Array.of(2, 2, 2), b.local);
    for (let i = 0; i < 100 && kept.length < 2; i++) await tick();
    expect(kept.map((k) => k.first)).toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(kept[1]!.data.buffer).toBe(kept[0]!.data.buffer);
    // What a handler must not do: keep a view. The first batch's bytes were overwritten by the second's.
    expect([...kept[0]!.data.subarray(kept[0]!.at, kept[0]!.at + 3)]).toEqual([2, 2, 2]);
  });

  it('stops receiving with EFAULT, never writing into it, when a handler detaches the lent buffer', async () => {
    const a = port();
    const b = port();
    const seen = errors(b);
    let batches = 0;
    b.onBatch((batch) => {
      batches++;
      structuredClone(batch.data.buffer, { transfer: [batch.data.buffer as ArrayBuffer] });
    });
    sendTo(a, Uint8Array.of(1), b.local);
    for (let i = 0; i < 100 && batches < 1; i++) await tick();
    sendTo(a, Uint8Array.of(2), b.local);
    for (let i = 0; i < 100 && seen.length < 1; i++) await tick();
    expect(batches).toBe(1);
    expect(seen.map((e) => [e.code, e.errno])).toEqual([['IO_UDP_RECV', 14]]);
  });
});

describe('native DatagramPort: open', () => {
  it('reports the effective socket buffer sizes (the kernel doubles what is asked)', () => {
    const p = port({ receiveBufferSize: 100_000, sendBufferSize: 50_000 });
    expect(p.receiveBufferSize).toBe(200_000);
    expect(p.sendBufferSize).toBe(100_000);
  });

  it('refuses an address that is not on this host with IO_UDP_BIND / EADDRNOTAVAIL', () => {
    expect(() => port({ address: parseIpv4('192.0.2.1'), port: 3544 })).toThrow(
      expect.objectContaining({ code: 'IO_UDP_BIND', errno: 99, cause: expect.objectContaining({ code: 'EADDRNOTAVAIL' }) }),
    );
  });
});
