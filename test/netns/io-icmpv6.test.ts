// Icmpv6Socket against the real kernel: two namespaces joined by a veth pair (root required).
//
//   [ tioa ] tioa0 fe80::a, fd00:7469:ab::a ═══ veth ═══ tiob0 fe80::b, fd00:7469:ab::b [ tiob ]
//
// Addresses are static and `nodad` (addrgenmode none), so sends work at once and sources are known.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIcmpv6Socket } from '../../src/io/icmpv6-socket.js';
import { IoError } from '../../src/io/io-error.js';
import type { Icmpv6Message, Icmpv6Socket } from '../../src/io/ports.js';
import { ipv6UpperChecksum } from '../../src/wire/checksum.js';
import { ALL_NODES, ALL_ROUTERS, formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { NEXT_HEADER } from '../../src/wire/ipv6.js';
import { addNetns, deleteNetns, ip, sleep, waitFor, waitUntil } from './io-netns.js';

const A = 'tioa';
const B = 'tiob';
const RS = 133;
const RA = 134;
const ECHO_REQUEST = 128;

const sockets: Icmpv6Socket[] = [];
function open(...args: Parameters<typeof openIcmpv6Socket>): Icmpv6Socket {
  const s = openIcmpv6Socket(...args);
  sockets.push(s);
  return s;
}

/**
 * Collects the messages a socket receives that carry our marker (the kernel sends Router Solicitations of its
 * own when an interface comes up; those must not be mistaken for ours); `next()` waits for the next one.
 */
function collect(s: Icmpv6Socket): { got: Icmpv6Message[]; next: () => Promise<Icmpv6Message> } {
  const got: Icmpv6Message[] = [];
  let waiting: ((m: Icmpv6Message) => void) | undefined;
  s.onError((e) => {
    throw e;
  });
  s.onMessage((m) => {
    if (m.bytes[4] !== MARK[0] || m.bytes[5] !== MARK[1]) return;
    got.push(m);
    waiting?.(m);
    waiting = undefined;
  });
  return { got, next: () => waitFor((resolve) => (waiting = resolve), 5000, `ICMPv6 on ${s.ifname}`) };
}

/** Marker in the first two body bytes (RS/RA reserved or Cur Hop Limit + flags, Echo identifier). */
const MARK = [0x74, 0x69] as const;

/** An ICMPv6 message with the checksum left zero (the kernel fills it) and `bodyLength` bytes after the header. */
function message(type: number, bodyLength = 4): Uint8Array {
  const m = new Uint8Array(4 + bodyLength);
  m[0] = type;
  m.set(MARK, 4);
  return m;
}

beforeAll(async () => {
  addNetns(A);
  addNetns(B);
  ip('link', 'add', 'tioa0', 'netns', A, 'type', 'veth', 'peer', 'name', 'tiob0', 'netns', B);
  for (const [ns, dev, host] of [[A, 'tioa0', 'a'], [B, 'tiob0', 'b']] as const) {
    ip('-n', ns, 'link', 'set', dev, 'addrgenmode', 'none');
    ip('-n', ns, 'addr', 'add', `fe80::${host}/64`, 'dev', dev, 'nodad');
    ip('-n', ns, 'addr', 'add', `fd00:7469:ab::${host}/64`, 'dev', dev, 'nodad');
    ip('-n', ns, 'link', 'set', dev, 'up');
  }
  // A veth drops what is sent before its carrier is up (linkwatch can take a second): wait for a ping.
  await waitUntil(() => {
    try {
      ip('netns', 'exec', A, 'ping', '-6', '-c', '1', '-W', '1', 'fd00:7469:ab::b');
      return true;
    } catch {
      return false;
    }
  }, 10_000, 'veth tioa0 <-> tiob0 to pass traffic');
});

afterAll(() => {
  for (const s of sockets) s.close();
  deleteNetns(A); // deleting a namespace removes its end of the veth, and with it the pair
  deleteNetns(B);
});

describe('Icmpv6Socket (raw ICMPv6, Linux)', () => {
  it('multicast to ff02::2 arrives with hop limit 255, the sender link-local source, ifindex and a valid checksum', async () => {
    const a = open({ ifname: 'tioa0', netns: A, groups: [ALL_ROUTERS], types: [RS, RA] });
    const b = open({ ifname: 'tiob0', netns: B, groups: [ALL_ROUTERS], types: [RS] });
    const atA = collect(a);
    const atB = collect(b);
    const got = atB.next();
    expect(a.send(ALL_ROUTERS, message(RS))).toBe(true);
    const m = await got;
    expect(formatIpv6(m.source)).toBe('fe80::a');
    expect(m.hopLimit).toBe(255);
    expect(m.ifindex).toBe(b.ifindex);
    expect(m.bytes[0]).toBe(RS);
    expect(m.bytes.length).toBe(8);
    expect(ipv6UpperChecksum(m.source, ALL_ROUTERS, NEXT_HEADER.ICMPV6, m.bytes)).toBe(0);
    await sleep(200);
    expect(atA.got).toHaveLength(0); // member of ff02::2 too, but multicast loopback is off: no echo of itself
  });

  it('unicast to a link-local and to a global address both arrive with hop limit 255', async () => {
    const a = open({ ifname: 'tioa0', netns: A, types: [RA] });
    const b = open({ ifname: 'tiob0', netns: B, types: [RS] });
    const atA = collect(a);
    collect(b);
    const first = atA.next();
    expect(b.send(parseIpv6('fe80::a'), message(RA, 12))).toBe(true);
    const ll = await first;
    expect(formatIpv6(ll.source)).toBe('fe80::b');
    expect(ll.hopLimit).toBe(255);
    expect(ll.bytes.length).toBe(16);
    const second = atA.next();
    expect(b.send(parseIpv6('fd00:7469:ab::a'), message(RA, 12))).toBe(true);
    const global = await second;
    expect(formatIpv6(global.source)).toBe('fd00:7469:ab::b');
    expect(global.hopLimit).toBe(255);
  });

  it('reports the hop limit a message was received with (what an RA sender checks to drop an RS)', async () => {
    const a = open({ ifname: 'tioa0', netns: A, hopLimit: 64, types: [] });
    const b = open({ ifname: 'tiob0', netns: B, groups: [ALL_ROUTERS], types: [RS] });
    const atB = collect(b);
    const got = atB.next();
    a.send(ALL_ROUTERS, message(RS));
    expect((await got).hopLimit).toBe(64);
  });

  it('delivers only the types in the filter, and the filter can be changed', async () => {
    const a = open({ ifname: 'tioa0', netns: A, types: [] });
    const b = open({ ifname: 'tiob0', netns: B, types: [RS] });
    const atB = collect(b);
    a.send(parseIpv6('fe80::b'), message(ECHO_REQUEST));
    await sleep(200);
    expect(atB.got).toHaveLength(0);
    b.setTypeFilter([RS, ECHO_REQUEST]);
    const got = atB.next();
    a.send(parseIpv6('fe80::b'), message(ECHO_REQUEST));
    expect((await got).bytes[0]).toBe(ECHO_REQUEST);
  });

  it('joins and leaves configurable groups', async () => {
    const group = parseIpv6('ff02::7469');
    const a = open({ ifname: 'tioa0', netns: A, types: [] });
    const b = open({ ifname: 'tiob0', netns: B, types: [RA] });
    const atB = collect(b);
    b.joinGroup(group);
    expect(ip('-n', B, '-6', 'maddr', 'show', 'dev', 'tiob0')).toContain('ff02::7469');
    const got = atB.next();
    a.send(group, message(RA, 12));
    expect(formatIpv6((await got).source)).toBe('fe80::a');
    b.leaveGroup(group);
    expect(ip('-n', B, '-6', 'maddr', 'show', 'dev', 'tiob0')).not.toContain('ff02::7469');
  });

  it('reports open and send failures as IoError with a code', async () => {
    expect(() => openIcmpv6Socket({ ifname: 'tio-none', netns: A })).toThrow(expect.objectContaining({ code: 'IO_ICMPV6_OPEN' }));
    const a = open({ ifname: 'tioa0', netns: A, types: [] });
    const err = waitFor<Error>((resolve) => a.onError(resolve), 2000, 'send error');
    expect(a.send(ALL_NODES, new Uint8Array(70000))).toBe(false); // larger than any IPv6 packet: EMSGSIZE
    const e = (await err) as IoError;
    expect(e.code).toBe('IO_ICMPV6_SEND');
    expect(e.errno).toBe(90); // EMSGSIZE
  });
});
