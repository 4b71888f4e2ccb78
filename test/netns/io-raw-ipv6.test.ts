// NativeIpv6Sender (raw IPv6, IPPROTO_RAW) against the real kernel: three namespaces, a router in the middle
// (root required). A packet written in tr6a with a source address tr6a does not own must come out of the
// router into tr6b as written, one hop limit less: the kernel routed it as a packet of its own.
//
//   [ tr6a ] tr6a0 2001:db8:a::a ═══ tr6ra 2001:db8:a::1 [ tr6r, forwarding ] tr6rb 2001:db8:b::1 ═══ tr6b0 2001:db8:b::b [ tr6b ]
//            route 2001:db8:b::/64 via 2001:db8:a::1 (and nothing else)                 default via 2001:db8:b::1
//
// Addresses are static and `nodad`, so forwarding works at once; tr6b hears through a raw ICMPv6 socket.

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIcmpv6Socket } from '../../src/io/icmpv6-socket.js';
import type { IoError } from '../../src/io/io-error.js';
import type { Icmpv6Socket } from '../../src/io/ports.js';
import { openRawIpv6Sender, type LinuxRawIpv6Sender } from '../../src/io/raw-ipv6.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { addNetns, deleteNetns, echoPacket, ICMPV6_ECHO_REQUEST, ip, parseEcho, sleep, waitUntil } from './io-netns.js';

const A = 'tr6a';
const R = 'tr6r';
const B = 'tr6b';
const B_ADDR = parseIpv6('2001:db8:b::b');
/** A Teredo client's address (server 198.18.0.10): not an address of tr6a, as when a Teredo server forwards. */
const FOREIGN_SOURCE = parseIpv6('2001:0:c612:a:8000:f227:39ed:fff5');
const MARK = 0x7236;
const ADDON = fileURLToPath(new URL('../../native/build/Release/teredo_io.node', import.meta.url));

const closers: Array<{ close(): void }> = [];
let listener: Icmpv6Socket;
/** Echo Requests with our identifier that reached tr6b, in arrival order. */
const heard: Array<{ src: string; seq: number; hopLimit: number; data: string }> = [];

function sender(): LinuxRawIpv6Sender {
  const s = openRawIpv6Sender({ netns: A });
  closers.push(s);
  return s;
}

function echo(seq: number, dst = B_ADDR, hopLimit = 64): Uint8Array {
  return echoPacket(FOREIGN_SOURCE, dst, { type: ICMPV6_ECHO_REQUEST, id: MARK, seq, data: Buffer.from(`raw6 ${seq}`) }, hopLimit);
}

beforeAll(async () => {
  for (const ns of [A, R, B]) addNetns(ns);
  ip('link', 'add', 'tr6a0', 'netns', A, 'type', 'veth', 'peer', 'name', 'tr6ra', 'netns', R);
  ip('link', 'add', 'tr6b0', 'netns', B, 'type', 'veth', 'peer', 'name', 'tr6rb', 'netns', R);
  for (const [ns, dev, addr] of [[A, 'tr6a0', '2001:db8:a::a'], [R, 'tr6ra', '2001:db8:a::1'], [R, 'tr6rb', '2001:db8:b::1'], [B, 'tr6b0', '2001:db8:b::b']] as const) {
    ip('-n', ns, 'addr', 'add', `${addr}/64`, 'dev', dev, 'nodad');
    ip('-n', ns, 'link', 'set', dev, 'up');
  }
  ip('netns', 'exec', R, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1');
  ip('-n', A, 'route', 'add', '2001:db8:b::/64', 'via', '2001:db8:a::1');
  ip('-n', B, 'route', 'add', 'default', 'via', '2001:db8:b::1');
  // A veth drops what is sent before its carrier is up (linkwatch can take a second): wait for a routed ping.
  await waitUntil(() => {
    try {
      ip('netns', 'exec', A, 'ping', '-6', '-c', '1', '-W', '1', '2001:db8:b::b');
      return true;
    } catch {
      return false;
    }
  }, 10_000, 'tr6a -> tr6r -> tr6b to pass traffic');
  listener = openIcmpv6Socket({ ifname: 'tr6b0', netns: B, hopLimit: 64, types: [ICMPV6_ECHO_REQUEST] });
  closers.push(listener);
  listener.onError((e) => {
    throw e;
  });
  listener.onMessage((m) => {
    if (m.bytes[4] !== MARK >> 8 || m.bytes[5] !== (MARK & 0xff)) return;
    const seq = (m.bytes[6]! << 8) | m.bytes[7]!;
    heard.push({ src: formatIpv6(m.source), seq, hopLimit: m.hopLimit, data: Buffer.from(m.bytes.subarray(8)).toString() });
  });
});

afterAll(() => {
  for (const c of closers) c.close();
  for (const ns of [A, R, B]) deleteNetns(ns);
});

async function heardSeq(seq: number): Promise<(typeof heard)[number]> {
  await waitUntil(() => heard.some((h) => h.seq === seq), 5000, `Echo Request ${seq} in tr6b`);
  return heard.find((h) => h.seq === seq)!;
}

describe('NativeIpv6Sender (raw IPv6 socket, Linux)', () => {
  it('sends the packet as written: foreign source kept, routed by the kernel through tr6r (hop limit 64 -> 63)', async () => {
    const s = sender();
    const packet = echo(1);
    // A packet in the middle of a larger buffer, as a Teredo datagram's IPv6 packet after its UDP headers.
    const buffer = new Uint8Array(packet.length + 20).fill(0xee);
    buffer.set(packet, 12);
    expect(s.send(buffer, 12, packet.length)).toBe(true);
    const got = await heardSeq(1);
    expect(got).toMatchObject({ src: '2001:0:c612:a:8000:f227:39ed:fff5', hopLimit: 63, data: 'raw6 1' });
    expect(parseEcho(packet)).toBeDefined(); // the checksum we wrote was right, so the kernel's copy is the same bytes
    expect(s.stats()).toEqual({ sent: 1, failed: 0, flushes: 1 });
  });

  it('sends what one JS turn queued in one flush, every packet arriving', async () => {
    const s = sender();
    for (let seq = 100; seq < 150; seq++) expect(s.send(echo(seq), 0, echo(seq).length)).toBe(true);
    expect(s.stats().flushes).toBe(0); // queued, not yet sent
    await heardSeq(149);
    await waitUntil(() => heard.filter((h) => h.seq >= 100 && h.seq < 150).length === 50, 5000, '50 Echo Requests');
    expect(s.stats()).toEqual({ sent: 50, failed: 0, flushes: 1 });
  });

  it('reports a destination without a route as ENETUNREACH, and the rest of the batch still goes out', async () => {
    const s = sender();
    const errors: IoError[] = [];
    s.onError((e) => errors.push(e as IoError));
    const nowhere = echo(200, parseIpv6('2001:db8:ffff::1'));
    expect(s.send(nowhere, 0, nowhere.length)).toBe(true);
    const after = echo(201);
    expect(s.send(after, 0, after.length)).toBe(true);
    await heardSeq(201);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'IO_RAW6_SEND', errno: 101, syscall: 'sendmmsg' }); // ENETUNREACH
    expect(errors[0]!.message).toContain('2001:db8:ffff::1');
    expect(s.stats()).toEqual({ sent: 1, failed: 1, flushes: 1 });
  });

  it('refuses what is not an IPv6 packet, and sends nothing after close', async () => {
    const s = sender();
    const errors: IoError[] = [];
    s.onError((e) => errors.push(e as IoError));
    const v4 = echo(300);
    v4[0] = 0x45;
    expect(s.send(v4, 0, v4.length)).toBe(false);
    expect(s.send(echo(301), 0, 39)).toBe(false);
    expect(s.send(echo(302), 8, echo(302).length)).toBe(false); // runs past the buffer
    s.close();
    expect(s.send(echo(303), 0, echo(303).length)).toBe(false);
    expect(errors.map((e) => e.code)).toEqual(['IO_RAW6_SEND', 'IO_RAW6_SEND', 'IO_RAW6_SEND', 'IO_RAW6_SEND']);
    await sleep(300);
    expect(heard.filter((h) => h.seq >= 300 && h.seq < 400)).toEqual([]);
    expect(s.stats()).toEqual({ sent: 0, failed: 4, flushes: 0 });
  });

  it('needs CAP_NET_RAW: without it, opening fails with EPERM', () => {
    // A child without CAP_NET_RAW in its bounding set (so root's exec does not get it back) loads the addon.
    const script = `try { require(${JSON.stringify(ADDON)}).raw6Open(null); console.log('opened'); } catch (e) { console.log(JSON.stringify({ code: e.code, errno: e.errno })); }`;
    const out = execFileSync('setpriv', ['--bounding-set', '-net_raw', process.execPath, '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ code: 'IO_RAW6_OPEN', errno: 1 });
  });
});
