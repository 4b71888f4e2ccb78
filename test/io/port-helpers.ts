// Per-datagram views over the batched port API for the port tests: each received datagram copied out of the
// lent batch (so the tests may keep it), and send() with an Endpoint4.

import type { DatagramPort } from '../../src/io/ports.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';

/** Calls `handler` for every datagram of every batch `port` receives, with a copy of its bytes. */
export function onEachDatagram(port: DatagramPort, handler: (bytes: Uint8Array, from: Endpoint4) => void): void {
  port.onBatch((batch) => {
    for (let i = 0; i < batch.count; i++) {
      const at = batch.offset(i);
      handler(batch.data.slice(at, at + batch.length(i)), { addr: batch.sourceAddr(i), port: batch.sourcePort(i) });
    }
  });
}

/** port.send of a whole buffer to an endpoint. */
export function sendTo(port: DatagramPort, bytes: Uint8Array, to: Endpoint4): void {
  port.send(bytes, 0, bytes.length, to.addr, to.port);
}
