// The send queue of the addon's batched senders (src/io/send-queue.ts) against a recording transmit function:
// one microtask flushes every queue staged in a turn (or the end of a received batch's delivery does), each with
// one native call; the bounds flush early; what
// can never be staged and what the kernel refuses is counted and reported, never thrown. The same behaviour
// through the real addon: datagram-port-native.test.ts (UDP) and test/netns/io-raw-ipv6.test.ts.

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { IoError } from '../../src/io/io-error.js';
import { ReceiveBatch } from '../../src/io/batch.js';
import { SendQueue, type SendQueueOptions } from '../../src/io/send-queue.js';

interface Recorded {
  readonly queue: SendQueue;
  /** Each transmit call: the packets it carried (copied) and their first extra word. */
  readonly calls: { packets: number[][]; words: number[] }[];
  readonly errors: IoError[];
}

/** A queue with 3-word records (length, one owner word, errno); `fail(i)` is the errno packet i of a call gets. */
function recorded(options: Partial<SendQueueOptions> = {}, fail: (i: number) => number = () => 0): Recorded {
  const calls: Recorded['calls'] = [];
  const errors: IoError[] = [];
  const queue = new SendQueue({
    recordWords: 3,
    maxPackets: 4,
    maxBytes: 16,
    code: 'IO_TEST_SEND',
    transmit: (data, meta, count) => {
      const words = new Int32Array(meta.buffer, meta.byteOffset, count * 3);
      const call = { packets: [] as number[][], words: [] as number[] };
      let at = 0;
      let failed = 0;
      for (let i = 0; i < count; i++) {
        call.packets.push([...data.subarray(at, at + words[i * 3]!)]);
        call.words.push(words[i * 3 + 1]!);
        at += words[i * 3]!;
        words[i * 3 + 2] = fail(i);
        if (fail(i) !== 0) failed++;
      }
      calls.push(call);
      return failed;
    },
    destination: (meta, w) => `peer ${meta[w + 1]}`,
    report: (e) => errors.push(e as IoError),
    ...options,
  });
  return { queue, calls, errors };
}

function stage(q: SendQueue, bytes: number[], word = 0): number {
  const w = q.stage(Uint8Array.from(bytes), 0, bytes.length);
  if (w >= 0) q.meta[w + 1] = word;
  return w;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('SendQueue', () => {
  it('flushes every queue staged in one turn from ONE microtask, one transmit call each, in order', async () => {
    const spy = vi.spyOn(globalThis, 'queueMicrotask');
    const a = recorded();
    const b = recorded();
    stage(a.queue, [1, 2], 10);
    stage(b.queue, [3], 30);
    stage(a.queue, [4], 11);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(a.calls).toEqual([]);
    await Promise.resolve();
    expect(a.calls).toEqual([{ packets: [[1, 2], [4]], words: [10, 11] }]);
    expect(b.calls).toEqual([{ packets: [[3]], words: [30] }]);
    expect([a.queue.sent, a.queue.flushes, b.queue.sent, b.queue.flushes]).toEqual([2, 1, 1, 1]);
  });

  it('within a delivery (ReceiveBatch.deliver), flushes every queue staged when the delivery returns, with no microtask', () => {
    const spy = vi.spyOn(globalThis, 'queueMicrotask');
    const a = recorded();
    const b = recorded();
    const rx = { data: Uint8Array.from([1, 2, 3]), meta: Int32Array.from([2, 1]) };
    new ReceiveBatch(4).deliver(
      rx,
      2,
      1,
      (batch) => {
        stage(a.queue, [...batch.data.subarray(batch.offset(0), batch.offset(0) + batch.length(0))], 10);
        stage(b.queue, [9], 30);
        stage(a.queue, [...batch.data.subarray(batch.offset(1), batch.offset(1) + batch.length(1))], 11);
        expect(a.calls).toEqual([]);
      },
      () => undefined,
    );
    expect(spy).not.toHaveBeenCalled();
    expect(a.calls).toEqual([{ packets: [[1, 2], [3]], words: [10, 11] }]);
    expect(b.calls).toEqual([{ packets: [[9]], words: [30] }]);
    // and outside a delivery the microtask again
    stage(a.queue, [5], 12);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('copies at stage(), so the caller may reuse its buffer at once', async () => {
    const { queue, calls } = recorded();
    const buf = Uint8Array.of(5, 5);
    queue.stage(buf, 0, 2);
    buf.fill(9);
    queue.stage(buf, 1, 1);
    await Promise.resolve();
    expect(calls[0]!.packets).toEqual([[5, 5], [9]]);
  });

  it('flushes early, inside the send, when the next packet would pass maxPackets or maxBytes', () => {
    const { queue, calls } = recorded();
    for (let i = 0; i < 5; i++) stage(queue, [i]);
    expect(calls.map((c) => c.packets.length)).toEqual([4]); // maxPackets 4: the fifth flushed the first four
    queue.flush();
    stage(queue, new Array<number>(10).fill(1));
    stage(queue, new Array<number>(6).fill(2)); // 16 bytes: fits exactly
    stage(queue, [3]); // would be 17
    expect(calls.map((c) => c.packets.length)).toEqual([4, 1, 2]);
    expect(queue.failed).toBe(0);
  });

  it('drops a packet that can never be staged: counted and reported, never thrown', async () => {
    const { queue, calls, errors } = recorded();
    expect(stage(queue, new Array<number>(17).fill(0))).toBe(-1);
    expect(queue.stage(new Uint8Array(4), 2, 4)).toBe(-1); // runs past its buffer
    expect(queue.failed).toBe(2);
    expect(errors.map((e) => e.code)).toEqual(['IO_TEST_SEND', 'IO_TEST_SEND']);
    expect(errors[0]!.message).toContain('packet of 17 bytes');
    await Promise.resolve();
    expect(calls).toEqual([]);
  });

  it('reports each packet the kernel refused with its destination and errno; the rest count as sent', async () => {
    const { queue, errors } = recorded({}, (i) => (i === 1 ? 101 : 0)); // ENETUNREACH
    stage(queue, [1], 7);
    stage(queue, [2], 8);
    stage(queue, [3], 9);
    await Promise.resolve();
    expect([queue.sent, queue.failed]).toEqual([2, 1]);
    expect(errors.map((e) => [e.code, e.errno, e.syscall, e.message])).toEqual([['IO_TEST_SEND', 101, 'sendmmsg', 'send to peer 8: ENETUNREACH']]);
  });

  it('counts a whole flush as failed when the native call throws, and reports it once', async () => {
    const errors: IoError[] = [];
    const queue = new SendQueue({
      recordWords: 2, maxPackets: 4, maxBytes: 16, code: 'IO_TEST_SEND',
      transmit: () => {
        throw new TypeError('bad record');
      },
      destination: () => '?',
      report: (e) => errors.push(e as IoError),
    });
    queue.stage(Uint8Array.of(1), 0, 1);
    queue.stage(Uint8Array.of(2), 0, 1);
    await Promise.resolve();
    expect([queue.sent, queue.failed]).toEqual([0, 2]);
    expect(errors.map((e) => e.message)).toEqual(['sendmmsg of 2 packets: bad record']);
  });
});
