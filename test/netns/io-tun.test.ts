// TunDevice against the real kernel, inside the namespace `tiotun` (root required; run by `npm test`).
//
//   [ kernel of tiotun ] fd00:7469:1::1/64 on tiotun0 ── route fd00:7469:2::/48 via tiotun0 ──► [ this test ]
//
// Both directions: packets the kernel routes into the device are read back (ping's Echo Requests), and
// packets written to the device are taken by the kernel (our Echo Requests get Echo Replies; our Echo Replies
// complete a real `ping`). Twice: with offloads (IFF_VNET_HDR, the default: writes are queued to the end of
// the JS turn, reads pass through the virtio-net cut) and on a plain device (offload: false), issue 18.

import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoError } from '../../src/io/io-error.js';
import type { TunDevice } from '../../src/io/ports.js';
import { openTun, type LinuxTun } from '../../src/io/tun-linux.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { addNetns, deleteNetns, echoPacket, ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, ip, parseEcho, waitFor, waitUntil } from './io-netns.js';

/** Receives `n` datagrams on [host]:port, prints "listening", then each payload as hex on its own line. */
const UDP_RECEIVER = `
const s = require('node:dgram').createSocket('udp6');
const [host, port, n] = process.argv.slice(1);
let left = Number(n);
s.on('message', (m) => { console.log(m.toString('hex')); if (--left === 0) s.close(); });
s.bind(Number(port), host, () => console.log('listening'));`;

/** An IPv6 UDP packet with a valid checksum (RFC 8200 §8.1), computed here. */
function udpPacket(src: Uint8Array, dst: Uint8Array, sport: number, dport: number, data: Uint8Array): Uint8Array {
  const l4 = 8 + data.length;
  const p = new Uint8Array(40 + l4);
  p.set([0x60, 0, 0, 0, l4 >> 8, l4 & 0xff, 17, 64, ...src, ...dst, sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, l4 >> 8, l4 & 0xff]);
  p.set(data, 48);
  let sum = l4 + 17;
  for (let i = 8; i < p.length; i += 2) sum += (p[i]! << 8) | (p[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff || 0xffff;
  p[46] = c >> 8;
  p[47] = c & 0xff;
  return p;
}

/** The device's RX packet counter: what was written to it, a merged write counting once. */
function tunRxPackets(ns: string, dev: string): number {
  return (JSON.parse(ip('-n', ns, '-j', '-s', 'link', 'show', dev)) as Array<{ stats64: { rx: { packets: number } } }>)[0]!.stats64.rx.packets;
}

const LOCAL = parseIpv6('fd00:7469:1::1'); // the kernel's address on the device
const REMOTE_PREFIX = parseIpv6('fd00:7469:2::'); // "behind" the device: what the agent would serve
const REMOTE = parseIpv6('fd00:7469:2::9');

for (const offload of [true, false]) {
  const NS = offload ? 'tiotun' : 'tiotunp';
  const DEV = offload ? 'tiotun0' : 'tiotunp0';
  let tun: TunDevice;
  const errors: Error[] = [];
  /** Every packet read from the device goes through this list of one-shot listeners. */
  let listeners: Array<(p: Uint8Array) => boolean> = [];
  /** The buffer behind every batch read (lent memory: the poller allocates it once). */
  const lentBuffers = new Set<ArrayBufferLike>();
  let batches = 0;
  /** The size of every batch read, in order. */
  const batchSizes: number[] = [];

  function nextPacket(match: (p: Uint8Array) => boolean, what: string): Promise<Uint8Array> {
    return waitFor((resolve) => {
      listeners.push((p) => {
        if (!match(p)) return false;
        resolve(p);
        return true;
      });
    }, 5000, what);
  }

  beforeAll(() => {
    addNetns(NS);
    tun = openTun({ name: DEV, netns: NS, mtu: 1400, offload });
    expect((tun as LinuxTun).offload).toBe(offload);
    tun.onError((e) => errors.push(e));
    tun.onBatch((batch) => {
      lentBuffers.add(batch.data.buffer);
      batches++;
      batchSizes.push(batch.count);
      for (let n = 0; n < batch.count; n++) {
        const p = batch.data.slice(batch.offset(n), batch.offset(n) + batch.length(n)); // lent: keep a copy
        const i = listeners.findIndex((l) => l(p));
        if (i >= 0) listeners.splice(i, 1);
      }
    });
    tun.addAddress(LOCAL, 64);
    tun.setUp(true);
    tun.addRoute(REMOTE_PREFIX, 48, 10);
  });

  afterAll(() => {
    tun?.close();
    deleteNetns(NS);
  });

  describe(`TunDevice (Linux, /dev/net/tun, offload ${offload ? 'on' : 'off'})`, () => {
    it('creates the device in the namespace with the MTU, address, route and up state asked for', () => {
      const [link] = JSON.parse(ip('-n', NS, '-j', 'link', 'show', DEV)) as Array<{ ifindex: number; mtu: number; flags: string[] }>;
      expect(link?.ifindex).toBe(tun.ifindex);
      expect(link?.mtu).toBe(1400);
      expect(link?.flags).toContain('UP');
      expect(ip('-n', NS, '-6', 'addr', 'show', DEV)).toContain('fd00:7469:1::1/64');
      expect(ip('-n', NS, '-6', 'route', 'show', 'fd00:7469:2::/48')).toMatch(new RegExp(`dev ${DEV} metric 10`));
    });

    it('hands the kernel a written Echo Request and reads its Echo Reply back', async () => {
      const data = new TextEncoder().encode('tio echo through the kernel');
      const reply = nextPacket((p) => parseEcho(p)?.type === ICMPV6_ECHO_REPLY && parseEcho(p)?.id === 0x7469, 'echo reply');
      expect(tun.write(echoPacket(REMOTE, LOCAL, { type: ICMPV6_ECHO_REQUEST, id: 0x7469, seq: 1, data }))).toBe(true);
      const echo = parseEcho(await reply)!;
      expect(formatIpv6(echo.src)).toBe('fd00:7469:1::1');
      expect(formatIpv6(echo.dst)).toBe('fd00:7469:2::9');
      expect(echo.seq).toBe(1);
      expect(new TextDecoder().decode(echo.data)).toBe('tio echo through the kernel');
    });

    it('writes a packet lying at an offset inside a larger buffer (a lent batch), and only that packet', async () => {
      const packet = echoPacket(REMOTE, LOCAL, { type: ICMPV6_ECHO_REQUEST, id: 0x746a, seq: 2, data: new Uint8Array(8) });
      const buffer = new Uint8Array(packet.length + 40).fill(0x60);
      buffer.set(packet, 13);
      const reply = nextPacket((p) => parseEcho(p)?.type === ICMPV6_ECHO_REPLY && parseEcho(p)?.id === 0x746a, 'echo reply');
      expect(tun.write(buffer, 13, packet.length)).toBe(true);
      expect(parseEcho(await reply)!.seq).toBe(2);
    });

    it('reads what the kernel routes into it (ping) and completes the ping with written replies', async () => {
      // Answer every Echo Request to fd00:7469:2::5 as if a host were behind the device.
      const target = parseIpv6('fd00:7469:2::5');
      let answered = 0;
      const responder = (p: Uint8Array): boolean => {
        const e = parseEcho(p);
        if (e?.type !== ICMPV6_ECHO_REQUEST || formatIpv6(e.dst) !== 'fd00:7469:2::5') return false;
        answered++;
        tun.write(echoPacket(target, e.src, { ...e, type: ICMPV6_ECHO_REPLY }));
        return false; // stay registered
      };
      listeners.push(responder);
      try {
        const out = await new Promise<string>((resolve, reject) =>
          execFile('ip', ['netns', 'exec', NS, 'ping', '-6', '-c', '3', '-i', '0.2', '-W', '2', 'fd00:7469:2::5'], (err, stdout) =>
            err ? reject(new Error(`ping failed: ${stdout}`)) : resolve(stdout)));
        expect(out).toMatch(/3 packets transmitted, 3 received/);
        expect(answered).toBe(3);
      } finally {
        listeners = listeners.filter((l) => l !== responder);
      }
    });

    it('hands the kernel a turn of UDP datagrams of one flow: one merged (USO) write with offloads, each arrives', async () => {
      const receiver = execFile('ip', ['netns', 'exec', NS, process.execPath, '-e', UDP_RECEIVER, 'fd00:7469:1::1', '5555', '6']);
      let out = '';
      receiver.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      const exited = new Promise<void>((resolve) => receiver.on('exit', () => resolve()));
      await waitUntil(() => out.includes('listening'), 5000, 'UDP receiver');
      const rx0 = tunRxPackets(NS, DEV);
      const grams = [0, 1, 2, 3, 4, 5].map((i) => udpPacket(REMOTE, LOCAL, 5000, 5555, new Uint8Array(i < 5 ? 1000 : 123).fill(i + 1)));
      for (const g of grams) expect(tun.write(g)).toBe(true);
      await exited;
      const got = out.split('\n').filter((l) => /^[0-9a-f]+$/.test(l));
      expect(got).toEqual(grams.map((g) => Buffer.from(g.subarray(48)).toString('hex')));
      expect(tunRxPackets(NS, DEV) - rx0).toBe(offload ? 1 : 6); // Linux >= 6.2 (USO) on this machine
    });

    it('delivers a burst in order without loss (batched reads)', async () => {
      const n = 300;
      const seen: number[] = [];
      const done = waitFor<void>((resolve) => {
        listeners.push((p) => {
          const e = parseEcho(p);
          if (e?.type === ICMPV6_ECHO_REPLY && e.id === 0x7470) seen.push(e.seq);
          if (seen.length === n) resolve();
          return seen.length === n;
        });
      }, 10000, `${n} echo replies`);
      for (let seq = 0; seq < n; seq++) {
        expect(tun.write(echoPacket(REMOTE, LOCAL, { type: ICMPV6_ECHO_REQUEST, id: 0x7470, seq, data: new Uint8Array(16) }))).toBe(true);
      }
      await done;
      expect(seen).toEqual([...Array(n).keys()]);
    });

    it('hands a lone packet over before reading on, after a quiet spell (no batching delay), and batches the rest', async () => {
      const reply = (seq: number) => nextPacket((p) => parseEcho(p)?.type === ICMPV6_ECHO_REPLY && parseEcho(p)?.seq === seq && parseEcho(p)?.id === 0x7471, `echo reply ${seq}`);
      const lone = reply(0);
      tun.write(echoPacket(REMOTE, LOCAL, { type: ICMPV6_ECHO_REQUEST, id: 0x7471, seq: 0, data: new Uint8Array(8) }));
      await lone;
      const from = batchSizes.length;
      const last = reply(5);
      // The kernel answers each request as it is written: five replies wait when the poller next wakes up.
      for (let seq = 1; seq <= 5; seq++) tun.write(echoPacket(REMOTE, LOCAL, { type: ICMPV6_ECHO_REQUEST, id: 0x7471, seq, data: new Uint8Array(8) }));
      await last;
      expect(batchSizes.slice(from)).toEqual([1, 4]);
    });

    it('reads every batch into the one receive buffer the poller lends', () => {
      expect(batches).toBeGreaterThan(1);
      expect(lentBuffers.size).toBe(1);
    });

    it('attaches to an existing persistent TUN device by name', () => {
      ip('-n', NS, 'tuntap', 'add', 'dev', 'tiotunp', 'mode', 'tun');
      const [link] = JSON.parse(ip('-n', NS, '-j', 'link', 'show', 'tiotunp')) as Array<{ ifindex: number }>;
      const attached = openTun({ name: 'tiotunp', netns: NS });
      try {
        expect(attached.name).toBe('tiotunp');
        expect(attached.ifindex).toBe(link?.ifindex);
      } finally {
        attached.close();
        ip('-n', NS, 'tuntap', 'del', 'dev', 'tiotunp', 'mode', 'tun');
      }
    });

    it('reports open and configuration failures as IoError with a code', () => {
      expect(() => openTun({ name: 'tiotunx', netns: 'tio-no-such-ns' })).toThrow(expect.objectContaining({ code: 'IO_TUN_OPEN' }));
      expect(() => openTun({ name: 'name-longer-than-15' })).toThrow(IoError);
      expect(() => tun.setMtu(10)).toThrow(expect.objectContaining({ code: 'IO_IF_CONFIG', errno: 22 })); // TUN minimum is 68
    });

    it('reports a write to a device that is down to onError (at once and returning false without offloads)', async () => {
      tun.setUp(false);
      try {
        // With offloads the write is queued (true) and fails when the queue is flushed at the end of this turn.
        expect(tun.write(echoPacket(REMOTE, LOCAL, { type: ICMPV6_ECHO_REQUEST, id: 1, seq: 1, data: new Uint8Array(0) }))).toBe(offload);
        if (offload) await new Promise((resolve) => setImmediate(resolve));
        const e = errors.at(-1) as IoError;
        expect(e.code).toBe('IO_TUN_WRITE');
        expect(e.errno).toBe(5); // EIO
      } finally {
        tun.setUp(true);
      }
    });
  });
}
