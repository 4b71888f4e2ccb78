// The "worker" candidate's reader thread (bench/tun/candidate.mjs): non-blocking readSync on the TUN fd in a
// loop, packets collected into one ArrayBuffer per batch and transferred to the main thread. When the queue
// is empty it posts what it has and naps 50 µs (Atomics.wait), so an idle device costs little CPU.
import { readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const BATCH = 64;
const SLOT = 2048;
const nap = new Int32Array(new SharedArrayBuffer(4));
let data = new Uint8Array(BATCH * SLOT);
let lengths = [];
let used = 0;

function flush() {
  parentPort.postMessage({ data: data.buffer, lengths }, [data.buffer]);
  data = new Uint8Array(BATCH * SLOT);
  lengths = [];
  used = 0;
}

for (;;) {
  let n;
  try {
    n = readSync(workerData.fd, data, used, SLOT, null);
  } catch (e) {
    if (e.code !== 'EAGAIN') throw e;
    if (lengths.length > 0) flush();
    Atomics.wait(nap, 0, 0, 0.05);
    continue;
  }
  lengths.push(n);
  used += n;
  if (lengths.length === BATCH) flush();
}
