// The relay end to end on the in-memory Teredo network (test/fakes/teredo-net.ts) with its NAT models: the real
// teredo-relay agent wiring (batched driver, lent batches) on the relay host and a TUN pair whose far end plays
// the native IPv6 network, our server engine on 198.18.0.10, and a minimal Teredo client behind each NAT kind
// (it learns its mapping from an RA, keeps it open toward its server, answers a bubble relayed by the server
// with its own bubble to the origin, RFC 4380 §5.2.3). Checked: native -> client through the bubble exchange,
// client -> native, the symmetric NAT through the nonce proof, a spoofed source from the probe host.

import { describe, expect, it } from 'vitest';
import { echo, HOST6, teredoAddr } from './teredo-relay-fixtures.js';
import { OUTSIDE, RELAY, world } from './teredo-relay-net-fixtures.js';

describe('the relay on the in-memory network', () => {
  for (const kind of ['port-restricted', 'address-restricted', 'full-cone', 'symmetric'] as const) {
    it(`behind a ${kind} NAT: native -> client after the bubble exchange, then client -> native`, async () => {
      const w = await world(kind);
      const down = [1, 2, 3].map((seq) => echo(HOST6, w.client.address, seq, 129));
      for (const p of down) w.native.write(p);
      w.inet.runUntilIdle();
      expect(w.client.received).toEqual(down); // queued in order, flushed once the client's bubble arrived
      expect(w.status().mappingsProved).toBe(kind === 'symmetric' ? 1 : 0);

      const up = echo(w.client.address, HOST6, 4);
      w.client.send(up, { addr: RELAY, port: 3545 });
      w.inet.runUntilIdle();
      expect(w.toNative).toEqual([up]);
      await w.relay.stop();
    });
  }

  it('a probe on the internet cannot inject packets with the client\'s Teredo source', async () => {
    const w = await world('port-restricted');
    const forged = echo(w.client.address, HOST6, 9);
    w.probe.bind(40000).send(forged, 0, forged.length, RELAY, 3545);
    w.inet.runUntilIdle();
    expect(w.toNative).toEqual([]);
    expect(w.status().drops).toEqual({ 'relay-udp-spoofed-source': 1 });
    await w.relay.stop();
  });

  it('gives up after 4 bubbles when the client is gone, and tells the native sender', async () => {
    const w = await world('port-restricted');
    w.native.write(echo(HOST6, teredoAddr({ addr: OUTSIDE, port: 40999 }), 1));
    w.clock.advance(20_000);
    w.inet.runUntilIdle();
    expect(w.status().bubblesSent).toBe(4);
    expect(w.toNative.map((p) => [p[6], p[40], p[41]])).toEqual([[58, 1, 3]]); // ICMPv6 unreachable, address
    await w.relay.stop();
  });
});
