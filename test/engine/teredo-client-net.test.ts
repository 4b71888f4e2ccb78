// Teredo to Teredo on the in-memory network (test/fakes/teredo-net*.ts): client engines behind NATs of different
// kinds reach each other through the real server engine's forwarding (RFC 4380 §5.3.1) and the bubble exchange
// (§5.2.6), including a peer behind a symmetric NAT. Each host's stack answers Echo Requests, as Linux does.
// The NAT type each client finds: teredo-client-qualify.test.ts.

import { describe, expect, it } from 'vitest';
import { decodeIcmpv6Packet, echoMessage, encodeIcmpv6Packet } from '../../src/wire/icmpv6.js';
import type { TeredoClientHost } from '../fakes/teredo-net-engines.js';
import { echoReply } from '../fakes/teredo-net-native.js';
import { TeredoWorld, type Site } from './teredo-client-fixtures.js';

const ping = (src: Uint8Array, dst: Uint8Array, seq: number): Uint8Array => encodeIcmpv6Packet({ src, dst, hopLimit: 64 }, echoMessage(128, { id: 1, seq, data: new Uint8Array(16) }));

/** Qualified clients at `sites`, each host answering Echo Requests. */
function clients(w: TeredoWorld, sites: readonly Site[]): TeredoClientHost[] {
  return sites.map((site, i) => {
    const c = w.client(site, {}, { seed: i + 1 });
    c.stack.respond = echoReply;
    w.runUntilQualified(c);
    expect(c.engine.state).toBe('qualified');
    return c;
  });
}

/** What `c`'s host received of `type` (128 Echo Request, 129 Echo Reply) from `src`. */
function received(c: TeredoClientHost, type: number, src: Uint8Array): number {
  return c.stack.received.filter((p) => {
    const m = decodeIcmpv6Packet(p);
    return m.message.type === type && m.header.src.every((b, i) => b === src[i]);
  }).length;
}

describe('client and server engines on the in-memory network', () => {
  it('Teredo to Teredo: two port-restricted clients reach each other after the bubble exchange', () => {
    const w = new TeredoWorld();
    const [x, y] = clients(w, ['port-restricted', 'port-restricted']);
    const [a, b] = [x!.engine.address!, y!.engine.address!];
    for (let seq = 1; seq <= 3; seq++) x!.stack.send(ping(a, b, seq));
    w.inet.runUntilIdle();
    // All three, queued while the bubbles opened both NATs, then sent directly; and the answers came back.
    expect(received(y!, 128, a)).toBe(3);
    expect(received(x!, 129, b)).toBe(3);
    expect([x!.drops, y!.drops]).toEqual([[], []]);
  });

  it('through our server: port-restricted -> full cone, and symmetric <-> full cone (proof through the server)', () => {
    const w = new TeredoWorld();
    const [prc, fc, sym] = clients(w, ['port-restricted', 'full-cone', 'symmetric']);
    const [a, b, s] = [prc!.engine.address!, fc!.engine.address!, sym!.engine.address!];
    prc!.stack.send(ping(a, b, 1));
    w.inet.runUntilIdle();
    expect(received(fc!, 128, a)).toBe(1);
    expect(received(prc!, 129, b)).toBe(1);
    // The symmetric client's first packet to the cone peer is dropped while the peer asks for proof through
    // the server; the next ones arrive, and the answers go back to the port they really came from.
    for (let seq = 1; seq <= 3; seq++) {
      sym!.stack.send(ping(s, b, seq));
      w.inet.runUntilIdle();
    }
    expect(received(fc!, 128, s)).toBe(2);
    expect(received(sym!, 129, b)).toBe(2);
  });
});
