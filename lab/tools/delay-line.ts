#!/usr/bin/env node
// delay-line: the lab's stand-in for tc netem (which the kernels the lab runs on lack: no sch_netem). It attaches
// to a TUN device the lab created in a NAT's namespace (lab/delay-line.ts routes the site's packets into it),
// drops each packet read with probability --loss-percent, holds the others --delay-ms and writes them back, so
// the kernel routes them on as if they had just arrived. One packet passes once per direction, so the delay and
// the loss apply once each way (like netem on each of two links).
//
//   delay-line --dev NAME --delay-ms D [--loss-percent P] [--max-packets N] [--max-bytes B]
//
// The queue is a FIFO (every packet waits the same time) of --max-packets slots of MTU bytes, allocated once,
// and at most --max-bytes of packets in it (sum of lengths); a packet beyond either bound is dropped, as netem
// drops beyond its `limit` (default 1000 packets). Packets are written back no earlier than D ms after they were
// read (monotonic clock; a timer that fires early is re-armed). Prints {"ready":true} once reading, and its
// counters as one JSON line when ended with SIGTERM or SIGINT.

import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openTun } from '../../src/io/tun-linux.js';
import type { PacketBatch } from '../../src/io/ports.js';

/** The largest packet a slot holds: the device's MTU (the lab leaves TUN devices at 1500). */
export const DELAY_LINE_MTU = 1500;

const { values } = parseArgs({
  options: {
    dev: { type: 'string' },
    'delay-ms': { type: 'string' },
    'loss-percent': { type: 'string', default: '0' },
    'max-packets': { type: 'string', default: '1000' },
    'max-bytes': { type: 'string', default: String(1024 * 1024) },
  },
});
const dev = values.dev;
const delayMs = Number(values['delay-ms']);
const lossPercent = Number(values['loss-percent']);
const maxPackets = Number(values['max-packets']);
const maxBytes = Number(values['max-bytes']);
if (!dev || !(delayMs >= 0) || !(lossPercent >= 0 && lossPercent <= 100) || !(maxPackets >= 1) || !(maxBytes >= DELAY_LINE_MTU)) {
  process.stderr.write('usage: delay-line --dev NAME --delay-ms D [--loss-percent P] [--max-packets N] [--max-bytes B]\n');
  process.exit(2);
}

const slots = new Uint8Array(maxPackets * DELAY_LINE_MTU);
const lengths = new Int32Array(maxPackets);
/** performance.now() (ms) at which each queued packet may leave. */
const due = new Float64Array(maxPackets);
let head = 0;
let count = 0;
let queuedBytes = 0;
let timer: NodeJS.Timeout | undefined;
const counters = { read: 0, written: 0, lost: 0, overflow: 0, tooBig: 0, writeErrors: 0 };

const tun = openTun({ name: dev, offload: false });
tun.onError(() => void counters.writeErrors++);
tun.onBatch(onBatch);

function onBatch(batch: PacketBatch): void {
  const now = performance.now();
  for (let i = 0; i < batch.count; i++) {
    counters.read++;
    const len = batch.length(i);
    if (lossPercent > 0 && Math.random() * 100 < lossPercent) counters.lost++;
    else if (len > DELAY_LINE_MTU) counters.tooBig++;
    else if (count === maxPackets || queuedBytes + len > maxBytes) counters.overflow++;
    else {
      const slot = (head + count) % maxPackets;
      slots.set(batch.data.subarray(batch.offset(i), batch.offset(i) + len), slot * DELAY_LINE_MTU);
      lengths[slot] = len;
      due[slot] = now + delayMs;
      count++;
      queuedBytes += len;
    }
  }
  if (timer === undefined && count > 0) arm(now);
}

function arm(now: number): void {
  // setTimeout counts whole ms on a coarser clock: round up, and release() re-arms when it fires early.
  timer = setTimeout(release, Math.max(0, Math.ceil(due[head]! - now)));
}

function release(): void {
  timer = undefined;
  const now = performance.now();
  while (count > 0 && due[head]! <= now) {
    if (tun.write(slots, head * DELAY_LINE_MTU, lengths[head]!)) counters.written++;
    queuedBytes -= lengths[head]!;
    head = (head + 1) % maxPackets;
    count--;
  }
  if (count > 0) arm(now);
}

function end(): void {
  process.stdout.write(JSON.stringify({ ...counters, queued: count }) + '\n');
  tun.close();
  process.exit(0);
}
process.on('SIGTERM', end);
process.on('SIGINT', end);
process.stdout.write(JSON.stringify({ ready: true, dev, delayMs, lossPercent, maxPackets, maxBytes }) + '\n');
