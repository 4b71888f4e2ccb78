// A received batch as a poller lends it (src/io/batch.ts ReceiveBatch over one buffer), for the engines' batch
// inputs: the bytes are only valid during the call, as on a real port.
import { ReceiveBatch } from '../../src/io/batch.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';

/** `packets` back to back in one buffer (after 5 filler bytes), from `from[i]`; overwritten once `call` returns. */
export function lendBatch(packets: readonly Uint8Array[], from: readonly Endpoint4[], call: (b: ReceiveBatch) => void): void {
  const total = packets.reduce((n, p) => n + p.length, 0);
  const data = new Uint8Array(total + 5).fill(0xee);
  const batch = new ReceiveBatch(packets.length);
  batch.reset(data);
  let at = 5;
  packets.forEach((p, i) => {
    data.set(p, at);
    batch.push(at, p.length, from[i]!.addr, from[i]!.port);
    at += p.length;
  });
  call(batch);
  data.fill(0xdd);
}
