// The client under a flood of spoofed Teredo peers (issue 17 point 3), on the in-memory network in virtual time:
// thousands of distinct peers whose Teredo address embeds the UDP source they are forged from (RFC 4380 §5.2.3
// case 3: trusted at once), while the local host pings a native host through the real relay. Peers that sent
// first enter the table only within client-admission.ts's bounds: never by eviction, 128 at most, 16 per second
// after a burst of 32; the host's own conversation (its relay) is never pushed out.

import { describe, expect, it } from 'vitest';
import { decodeIcmpv6Packet, echoMessage, encodeIcmpv6Packet } from '../../src/wire/icmpv6.js';
import { encodeTeredoAddress } from '../../src/wire/teredo-address.js';
import type { TeredoClientHost } from '../fakes/teredo-net-engines.js';
import { HOST6, PRIMARY, RELAY, ROGUE, qualifiedTarget, type TeredoWorld } from './teredo-client-fixtures.js';

/** RFC 4380 §2.7: the Teredo port. */
const TEREDO = 3544;
/** RFC 4380 §5.2.4: a peer entry is valid for 30 s after the last reception. */
const VALID_MS = 30_000;

const echoPacket = (src: Uint8Array, dst: Uint8Array, seq: number, size: number): Uint8Array =>
  encodeIcmpv6Packet({ src, dst, hopLimit: 64 }, echoMessage(128, { id: 9, seq, data: new Uint8Array(size) }));

/** The n-th fake peer: a Teredo address embedding ROGUE:(10000 + n), where its datagrams are forged from. */
const fake = (n: number): Uint8Array => encodeTeredoAddress({ server: PRIMARY, cone: false, randomBits: 1, mappedAddr: ROGUE, mappedPort: 10_000 + n });

/** A qualified client on a public address: every spoofed datagram reaches it (a NAT's table would fill first). */
const floodTarget = () => qualifiedTarget('none');

/** Spoofs fake peers first .. first + count - 1 toward `c`, `perMs` per virtual millisecond; `each(k)` runs at ms k. */
function flood(w: TeredoWorld, c: TeredoClientHost, to: { addr: number; port: number }, first: number, count: number, perMs: number, each?: (k: number) => void): void {
  const me = c.engine.address!;
  const start = w.clock.now();
  for (let k = 0; k * perMs < count; k++) {
    each?.(k);
    for (let i = 0; i < perMs && k * perMs + i < count; i++) {
      const n = first + k * perMs + i;
      w.inet.spoof(echoPacket(fake(n), me, 1, 8), { addr: ROGUE, port: 10_000 + n }, to);
    }
    w.runUntil(start + k + 1);
  }
  w.inet.runUntilIdle();
}

/** How many `reason` drops `c` counted. */
const dropped = (c: TeredoClientHost, reason: string): number => c.drops.filter((d) => d === reason).length;

/** Packets the client wrote to its TUN device that came from `src`. */
function fromSource(c: TeredoClientHost, src: Uint8Array): number {
  return c.tun.written.filter((p) => decodeIcmpv6Packet(p).header.src.every((b, i) => b === src[i])).length;
}

describe('a client flooded with spoofed peers (issue 17 point 3)', () => {
  it('20,000 spoofed peers at 2 per ms: all 10 host pings through the relay are answered, the relay stays', () => {
    const { w, c, me, to } = floodTarget();
    w.relay();
    w.nativeHost(HOST6);
    const mark = w.log.length;
    // The host pings host6 once a second during the 10 s of the flood (the measurement of issue 17: 29/79).
    flood(w, c, to, 0, 20_000, 2, (k) => {
      if (k % 1000 === 0) c.stack.send(echoPacket(me, HOST6, k / 1000, 56));
    });
    expect(fromSource(c, HOST6)).toBe(10);
    // One connectivity test found the relay; every ping went there after it, none was tested again.
    const sent = w.sent(c, mark);
    expect(sent.filter((s) => s.addr === PRIMARY && s.port === TEREDO)).toHaveLength(1);
    expect(sent.filter((s) => s.addr === RELAY.addr && s.port === RELAY.port && s.data.length === 40 + 8 + 56)).toHaveLength(10);
    // Admitted: the burst of 32, then 16 per second: the 128th at ms 6000 (32,000 + 6,000 x 16 = 128,000
    // thousandths), after 2 x 6000 + 1 = 12,001 fakes; all later ones refused as "full". Each admitted fake's
    // packet delivered, every other one dropped whole.
    expect(dropped(c, 'unsolicited-peers-rate-limited')).toBe(12_001 - 128);
    expect(dropped(c, 'unsolicited-peers-full')).toBe(20_000 - 12_001);
    expect(c.drops).toHaveLength(20_000 - 128);
    expect(c.tun.written).toHaveLength(10 + 128);
    expect(c.engine.peerSummary()).toEqual({ count: 1 + 128, trusted: 1 + 128, max: 1024 });
  });

  it('at most 128 unsolicited peers; the host sending to one makes room; the table is whole again after the flood', () => {
    const { w, c, me, to } = floodTarget();
    // 1 per ms: the 128th is admitted at ms 6000 (as above), the 3,999 after it are refused.
    flood(w, c, to, 0, 10_000, 1);
    expect(dropped(c, 'unsolicited-peers-rate-limited')).toBe(6001 - 128);
    expect(dropped(c, 'unsolicited-peers-full')).toBe(3999);
    expect(c.engine.peerSummary().count).toBe(128);
    // The host answers the first fake (trusted by case 3): a conversation now, no longer counted; the next new
    // peer gets its place (the bucket refilled while every newcomer was refused as "full").
    const mark = w.log.length;
    c.stack.send(echoPacket(me, fake(0), 1, 8));
    w.inet.runUntilIdle();
    expect(w.sent(c, mark).map((s) => [s.addr, s.port])).toEqual([[ROGUE, 10_000]]);
    flood(w, c, to, 20_000, 2, 1);
    expect(fromSource(c, fake(20_000))).toBe(1);
    expect(fromSource(c, fake(20_001))).toBe(0);
    expect(c.drops.at(-1)).toBe('unsolicited-peers-full');
    // 30 s after the flood every unsolicited entry has expired, and newcomers are admitted again.
    w.runUntil(w.clock.now() + VALID_MS);
    expect(c.engine.peerSummary().count).toBe(0);
    flood(w, c, to, 30_000, 1, 1);
    expect(fromSource(c, fake(30_000))).toBe(1);
  });

  it('a full table (the host\'s own destinations in their 896 entries, 128 that spoke first): a newcomer is refused, nobody is evicted', () => {
    const { w, c, me, to } = floodTarget();
    // 896 native destinations (1024 - 1024 / 8: the pending class of the client's table, peer-classes.ts), each
    // queued while its connectivity test is out; in rounds of 256, within what the TUN link holds at once.
    for (let i = 0; i < 896; i++) {
      const dst = HOST6.slice();
      dst[14] = i >> 8;
      dst[15] = i & 0xff;
      c.stack.send(echoPacket(me, dst, i, 8));
      if (i % 256 === 255 || i === 895) w.runUntil(w.clock.now() + 20);
    }
    expect(c.engine.peerSummary().count).toBe(896);
    // 128 unsolicited peers, one per 100 ms (under the 16/s admission rate), fill the table.
    for (let n = 0; n < 128; n++) {
      flood(w, c, to, n, 1, 1);
      w.runUntil(w.clock.now() + 100);
    }
    expect(c.engine.peerSummary().count).toBe(1024);
    // (Meanwhile some of the host's connectivity tests timed out: those are counted, not evictions.)
    const unreachable = dropped(c, 'peer-unreachable');
    flood(w, c, to, 128, 1, 1);
    expect(fromSource(c, fake(128))).toBe(0);
    expect(dropped(c, 'unsolicited-peers-full')).toBe(1);
    expect(dropped(c, 'peer-unreachable')).toBe(unreachable);
    expect(c.engine.peerSummary().count).toBe(1024);
  });
});
