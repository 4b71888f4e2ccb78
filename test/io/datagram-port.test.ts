// DatagramPort on loopback with ephemeral ports, the same contract for both implementations: node:dgram and
// the addon's batched port (datagram-port-native.ts; its batching is tested in datagram-port-native.test.ts).
// No multicast traffic leaves this test: membership and multicast options are exercised on 127.0.0.1 only.

import { afterEach, describe, expect, it } from 'vitest';
import { openDatagramPort, type DatagramImplementation, type DatagramPortOptions } from '../../src/io/datagram-port.js';
import { IoError } from '../../src/io/io-error.js';
import type { DatagramPort } from '../../src/io/ports.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { onEachDatagram, sendTo } from './port-helpers.js';

const LOOPBACK = parseIpv4('127.0.0.1');
const open: DatagramPort[] = [];

function nextDatagram(p: DatagramPort): Promise<{ bytes: Uint8Array; from: Endpoint4 }> {
  return new Promise((resolve) => onEachDatagram(p, (bytes, from) => resolve({ bytes, from })));
}

function nextError(p: DatagramPort): Promise<Error> {
  return new Promise((resolve) => p.onError(resolve));
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.close()));
});

describe.each<DatagramImplementation>(['dgram', 'native'])('DatagramPort (%s, IPv4)', (implementation) => {
  async function port(options: DatagramPortOptions = { address: LOOPBACK }): Promise<DatagramPort> {
    const p = await openDatagramPort({ ...options, implementation });
    open.push(p);
    return p;
  }

  it('binds port 0 to an ephemeral port and reports it as a uint32 endpoint', async () => {
    const p = await port();
    expect(p.local.addr).toBe(LOOPBACK);
    expect(p.local.port).toBeGreaterThan(0);
    expect(p.local.port).toBeLessThan(65536);
  });

  it('delivers bytes with the sender endpoint, both ways', async () => {
    const a = await port();
    const b = await port();
    const atB = nextDatagram(b);
    sendTo(a, Uint8Array.of(1, 2, 3), b.local);
    const got = await atB;
    expect([...got.bytes]).toEqual([1, 2, 3]);
    expect(got.from).toEqual(a.local);

    const atA = nextDatagram(a);
    sendTo(b, new Uint8Array(1200).fill(0xab), got.from);
    const back = await atA;
    expect(back.bytes.length).toBe(1200);
    expect(back.bytes.every((x) => x === 0xab)).toBe(true);
    expect(back.from).toEqual(b.local);
  });

  it('reports a synchronous send failure (bad port) to onError instead of throwing', async () => {
    const a = await port();
    const err = nextError(a);
    expect(() => sendTo(a, Uint8Array.of(1), { addr: LOOPBACK, port: 70000 })).not.toThrow();
    const e = await err;
    expect(e).toBeInstanceOf(IoError);
    expect((e as IoError).code).toBe('IO_UDP_SEND');
    expect(e.message).toContain('127.0.0.1:70000');
  });

  it('reports an asynchronous send failure (broadcast without SO_BROADCAST: EACCES) to onError', async () => {
    const a = await port({ address: LOOPBACK });
    const err = nextError(a);
    sendTo(a, Uint8Array.of(1), { addr: parseIpv4('255.255.255.255'), port: 9 });
    const e = (await err) as IoError;
    expect(e.code).toBe('IO_UDP_SEND');
    expect(e.errno).toBeGreaterThan(0);
  });

  it('reports a send after close to onError', async () => {
    const a = await port();
    const err = nextError(a);
    await a.close();
    sendTo(a, Uint8Array.of(1), { addr: LOOPBACK, port: 9 });
    expect(((await err) as IoError).code).toBe('IO_UDP_SEND');
    await a.close(); // idempotent
  });

  it('routes a throwing handler to onError as IO_HANDLER, and keeps receiving', async () => {
    const a = await port();
    const b = await port();
    const err = nextError(b);
    onEachDatagram(b, () => {
      throw new Error('engine bug');
    });
    sendTo(a, Uint8Array.of(1), b.local);
    const e = (await err) as IoError;
    expect(e.code).toBe('IO_HANDLER');
    expect(e.message).toContain('engine bug');
    const next = nextDatagram(b);
    sendTo(a, Uint8Array.of(2), b.local);
    expect([...(await next).bytes]).toEqual([2]);
  });

  it('fails to bind a port already in use with IO_UDP_BIND', async () => {
    const a = await port();
    const taken = openDatagramPort({ address: LOOPBACK, port: a.local.port, implementation });
    await expect(taken).rejects.toMatchObject({ code: 'IO_UDP_BIND', cause: { code: 'EADDRINUSE' } });
  });

  it('lets two reuseAddr ports share one port', async () => {
    const a = await port({ address: 0, port: 0, reuseAddr: true });
    const b = await port({ address: 0, port: a.local.port, reuseAddr: true });
    expect(b.local.port).toBe(a.local.port);
  });

  it('receives a multicast datagram on a group joined on 127.0.0.1 (sent out lo only, TTL 0: host-local)', async () => {
    const group = parseIpv4('239.255.74.69');
    const listener = await port({ address: 0, port: 0, reuseAddr: true });
    listener.joinGroup(group, LOOPBACK);
    const sender = await port();
    sender.setMulticastInterface(LOOPBACK);
    sender.setMulticastTtl(0);
    const got = nextDatagram(listener);
    sendTo(sender, Uint8Array.of(0x74, 0x69), { addr: group, port: listener.local.port });
    const d = await got;
    expect([...d.bytes]).toEqual([0x74, 0x69]);
    expect(d.from).toEqual(sender.local);
  });

  it('accepts multicast options after bind and rejects invalid values with IO_UDP_CONFIG', async () => {
    const p = await port({ address: 0 });
    p.setMulticastTtl(8);
    p.setMulticastLoopback(false);
    p.setMulticastInterface(LOOPBACK);
    p.setTtl(64);
    p.joinGroup(parseIpv4('239.255.42.99'), LOOPBACK);
    p.leaveGroup(parseIpv4('239.255.42.99'), LOOPBACK);
    expect(() => p.setMulticastTtl(256)).toThrow(expect.objectContaining({ code: 'IO_UDP_CONFIG' }));
    expect(() => p.setTtl(0)).toThrow(expect.objectContaining({ code: 'IO_UDP_CONFIG' }));
    expect(() => p.joinGroup(parseIpv4('10.1.2.3'), LOOPBACK)).toThrow(IoError);
  });
});
