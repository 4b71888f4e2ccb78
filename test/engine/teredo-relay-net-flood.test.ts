// Issue 17's attacks on the relay, end to end on the in-memory network in virtual time (deterministic): the real
// teredo-relay agent (driver, lent batches, its flags), our server, a Teredo client behind a NAT, the native side
// through the TUN pair. Under each flood the client's own traffic must keep >= 90 % of its packets; here it keeps
// all of them, and without the rate limit in question it loses them.
// - forged §5.4.2 (b) peers: 100 datagrams per ms from distinct spoofed sources, each Teredo source embedding
//   its own; the client behind a symmetric NAT was proven by the relay's nonce before;
// - the native side: another /64 than host6's sends to 100 distinct Teredo destinations per ms while host6 calls
//   the client, which the relay has never seen.

import { describe, expect, it } from 'vitest';
import type { Endpoint4 } from '../../src/wire/endpoint.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { echo, HOST6, teredoAddr } from './teredo-relay-fixtures.js';
import { RELAY, world } from './teredo-relay-net-fixtures.js';

const RELAY_PORT = 3545;
const FAKE_BASE = parseIpv4('198.18.64.0');
const ATTACKER6 = parseIpv6('2001:db8:7::66');
/** 64 peers: 8 embedded, 56 pending (the class bounds are maxPeers / 8 and the rest). */
const SMALL_TABLE = { 'max-peers': '64' };

const fake = (i: number): Endpoint4 => ({ addr: (FAKE_BASE + (i >>> 12)) | 0, port: 1024 + (i & 0xfff) });
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

describe('the relay under issue 17\'s floods, on the in-memory network', () => {
  it('20,000 forged self-embedding peers in 200 ms: the proven symmetric-NAT client keeps 20/20 each way', async () => {
    const w = await world('symmetric', { ...SMALL_TABLE, 'unanswered-rate': '1000' });
    // host6 speaks first: queued, bubbled through the server, the client's answer proves its mapping.
    w.native.write(echo(HOST6, w.client.address, 1, 129));
    w.inet.runUntilIdle();
    expect(w.status().mappingsProved).toBe(1);
    const relay = { addr: RELAY, port: RELAY_PORT };
    const ups: Uint8Array[] = [];
    const downs: Uint8Array[] = [];
    for (let k = 0; k < 200; k++) {
      for (let j = 0; j < 100; j++) {
        const from = fake(k * 100 + j);
        w.inet.spoof(echo(teredoAddr(from), HOST6, j), from, relay);
      }
      if (k % 10 === 5) {
        const up = echo(w.client.address, HOST6, 100 + k);
        ups.push(up);
        w.client.send(up, relay);
        const down = echo(HOST6, w.client.address, 100 + k, 129);
        downs.push(down);
        w.native.write(down);
      }
      w.inet.advance(1);
    }
    w.inet.runUntilIdle();
    expect(ups.filter((u) => w.toNative.some((p) => sameBytes(p, u)))).toHaveLength(20);
    expect(downs.filter((d) => w.client.received.some((p) => sameBytes(p, d)))).toHaveLength(20);
    const s = w.status();
    expect(s.classes.proven).toBe(1);
    expect(s.drops['relay-udp-unanswered-rate-limited']).toBeGreaterThan(18_000);
    await w.relay.stop();
  });

  it('20,000 native packets to distinct Teredo peers in 200 ms from another /64: host6 reaches a new client, 15/15', async () => {
    const w = await world('port-restricted', { ...SMALL_TABLE, 'new-peers-per-prefix': '100' });
    const downs: Uint8Array[] = [];
    for (let k = 0; k < 200; k++) {
      for (let j = 0; j < 100; j++) w.native.write(echo(ATTACKER6, teredoAddr(fake(k * 100 + j)), j, 129));
      if (k >= 50 && k % 10 === 0) {
        const down = echo(HOST6, w.client.address, k, 129);
        downs.push(down);
        w.native.write(down);
      }
      w.inet.advance(1);
    }
    w.inet.runUntilIdle();
    expect(downs.filter((d) => w.client.received.some((p) => sameBytes(p, d)))).toHaveLength(15);
    expect(w.status().drops['relay-tun-new-peers-rate-limited']).toBeGreaterThan(19_000);
    await w.relay.stop();
  });
});
