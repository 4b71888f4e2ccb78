// The shared Teredo peer table (RFC 4380 §5.2 peer entries): lookup by address bytes inside a packet, bounds,
// LRU eviction, 30 s expiry, FIFO queues, §5.2.6 bubble pacing, nonces.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/engine/types.js';
import { PEER_EMBEDDED, PEER_PENDING, PEER_PROVEN } from '../../src/engine/teredo/peers/peer-classes.js';
import { DEFAULT_MAX_PEERS, PeerTable, type PeerRemoval } from '../../src/engine/teredo/peers/peer-table.js';
import { encodeTeredoAddress } from '../../src/wire/teredo-address.js';

const T0 = 1_000_000;
// The RFC's numbers, written out here rather than read from the code under test:
/** RFC 4380 §5.2.4: a peer entry is valid for 30 s after its last reception (Miredo's TEREDO_TIMEOUT 30 s). */
const PEER_EXPIRY_MS = 30_000;
/** RFC 4380 §5.2.6: no bubble less than 2 s after the last transmission ... */
const BUBBLE_MIN_INTERVAL_MS = 2_000;
/** ... and no more than 4 bubbles (Miredo's CountBubble, libteredo/relay.c) ... */
const BUBBLE_MAX_COUNT = 4;
/** ... in 300 s without a direct response. */
const BUBBLE_WINDOW_MS = 300_000;

/** The Teredo address of peer i (server 192.0.2.1, mapping 203.0.113.x:i). */
function peerAddr(i: number, out = new Uint8Array(16), off = 0): Uint8Array {
  encodeTeredoAddress({ server: 0xc0000201, mappedPort: 1024 + (i & 0xffff), mappedAddr: (0xcb007100 + (i >>> 16)) >>> 0 }, out, off);
  return out;
}

function table(over: Partial<ConstructorParameters<typeof PeerTable>[0]> = {}): PeerTable {
  return new PeerTable({ random: seededRandom(7), ...over });
}

describe('PeerTable lookup', () => {
  it('finds a peer by the 16 address bytes at any offset of a packet, and only that peer', () => {
    const t = table();
    const a = peerAddr(1);
    expect(t.find(a, 0)).toBe(-1);
    const s = t.insert(a, 0, T0, PEER_PENDING);
    const packet = new Uint8Array(64);
    peerAddr(1, packet, 8);
    expect(t.find(packet, 8)).toBe(s);
    expect(t.find(peerAddr(2), 0)).toBe(-1);
    const out = new Uint8Array(16);
    t.copyAddress(s, out, 0);
    expect(out).toEqual(a);
    expect(t.size).toBe(1);
  });

  it('keeps every peer findable through growth and deletions (backward-shift index)', () => {
    const t = table({ maxPeers: 5000 });
    const slots = new Map<number, number>();
    for (let i = 0; i < 5000; i++) {
      slots.set(i, t.insert(peerAddr(i), 0, T0, PEER_PENDING));
      t.prove(slots.get(i)!, T0); // proven peers may fill the table: none is evicted
    }
    for (let i = 0; i < 5000; i += 3) t.remove(slots.get(i)!);
    for (let i = 0; i < 5000; i++) expect(t.find(peerAddr(i), 0)).toBe(i % 3 === 0 ? -1 : slots.get(i));
    expect(t.size).toBe(5000 - Math.ceil(5000 / 3));
  });

  it('defaults to at least Miredo\'s 1,048,576 peers and rejects bad bounds naming the option', () => {
    expect(table().maxPeers).toBe(DEFAULT_MAX_PEERS);
    expect(DEFAULT_MAX_PEERS).toBeGreaterThanOrEqual(1_048_576);
    expect(() => table({ maxPeers: 0 })).toThrow(/maxPeers/);
    expect(() => table({ queueBytes: -1 })).toThrow(/queueBytes/);
  });
});

describe('PeerTable classes: bound and eviction (proven, pending, embedded)', () => {
  it('a flood of embedded peers stays in its pool of maxPeers / 8, evicting only embedded peers', () => {
    const removed: number[] = [];
    const t = table({ maxPeers: 64, onRemove: (s) => removed.push(s) });
    const proven = t.insert(peerAddr(1), 0, T0, PEER_PENDING);
    t.prove(proven, T0);
    const pending = t.insert(peerAddr(2), 0, T0, PEER_PENDING);
    for (let i = 100; i < 100 + 10_000; i++) t.insert(peerAddr(i), 0, T0 + i, PEER_EMBEDDED);
    // 64 / 8 = 8 embedded peers at most: the last 8 of the flood.
    expect([t.classSize(PEER_EMBEDDED), t.classSize(PEER_PENDING), t.classSize(PEER_PROVEN), t.size]).toEqual([8, 1, 1, 10]);
    expect(removed).toHaveLength(10_000 - 8);
    expect(removed).not.toContain(proven);
    expect(removed).not.toContain(pending);
    expect(t.find(peerAddr(100 + 10_000 - 1), 0)).toBeGreaterThanOrEqual(0);
    expect(t.find(peerAddr(100 + 10_000 - 9), 0)).toBe(-1);
  });

  it('adopt(): an embedded peer the owner now sends to becomes pending, out of the embedded flood\'s reach', () => {
    const removed: number[] = [];
    const t = table({ maxPeers: 64, onRemove: (s) => removed.push(s) });
    const spokeFirst = t.insert(peerAddr(1), 0, T0, PEER_EMBEDDED);
    t.adopt(spokeFirst);
    t.adopt(spokeFirst); // a second call changes nothing
    for (let i = 100; i < 100 + 1000; i++) t.insert(peerAddr(i), 0, T0 + i, PEER_EMBEDDED);
    expect([t.classSize(PEER_EMBEDDED), t.classSize(PEER_PENDING)]).toEqual([8, 1]);
    expect(removed).not.toContain(spokeFirst);
  });

  it('pending peers evict the least recently used pending one (at most maxPeers - maxPeers / 8), never a proven one', () => {
    const removed: Array<[number, PeerRemoval]> = [];
    const t = table({ maxPeers: 8, onRemove: (s, why) => removed.push([s, why]) });
    const a = t.insert(peerAddr(1), 0, T0, PEER_PENDING);
    t.prove(a, T0); // proven, and the oldest of all
    const pending = [2, 3, 4, 5, 6, 7, 8].map((i) => t.insert(peerAddr(i), 0, T0 + i, PEER_PENDING));
    t.used(pending[0]!, T0 + 10); // peer 3 is now the least recently used pending peer
    const n = t.insert(peerAddr(9), 0, T0 + 11, PEER_PENDING); // 8 - 8 / 8 = 7 pending at most
    expect(removed).toEqual([[pending[1], 'evicted']]);
    expect([t.find(peerAddr(1), 0), t.find(peerAddr(2), 0), t.find(peerAddr(9), 0)]).toEqual([a, pending[0], n]);
  });

  it('a full table: a pending peer takes an embedded place; with the rest proven, new peers are refused (-1)', () => {
    const t = table({ maxPeers: 2 });
    const a = t.insert(peerAddr(1), 0, T0, PEER_PENDING);
    t.prove(a, T0);
    t.insert(peerAddr(2), 0, T0 + 1, PEER_EMBEDDED);
    expect(t.insert(peerAddr(3), 0, T0 + 2, PEER_PENDING)).toBeGreaterThanOrEqual(0);
    expect(t.find(peerAddr(2), 0)).toBe(-1);
    t.prove(t.find(peerAddr(3), 0), T0 + 3);
    expect(t.insert(peerAddr(4), 0, T0 + 4, PEER_EMBEDDED)).toBe(-1);
    expect(t.insert(peerAddr(5), 0, T0 + 5, PEER_PENDING)).toBe(-1);
    expect([t.size, t.classSize(PEER_PROVEN)]).toEqual([2, 2]);
  });

  it('trust is apart from the class: setTrusted keeps the class, prove keeps the trust', () => {
    const t = table({ maxPeers: 16 });
    const s = t.insert(peerAddr(1), 0, T0, PEER_EMBEDDED);
    t.setTrusted(s, true, T0);
    expect([t.trustedCount, t.classSize(PEER_EMBEDDED)]).toEqual([1, 1]);
    t.prove(s, T0 + 1);
    expect([t.trusted(s), t.classSize(PEER_EMBEDDED), t.classSize(PEER_PROVEN)]).toEqual([true, 0, 1]);
    t.remove(s);
    expect([t.trustedCount, t.classSize(PEER_PROVEN), t.size]).toEqual([0, 0, 0]);
  });
});

describe('PeerTable expiry (30 s without traffic)', () => {
  it('removes a peer 30 s after its last use, reports the deadline, and keeps a peer with traffic', () => {
    const removed: number[] = [];
    const t = table({ onRemove: (s) => removed.push(s) });
    expect(t.nextTimeout()).toBeUndefined();
    const a = t.insert(peerAddr(1), 0, T0, PEER_PENDING);
    const b = t.insert(peerAddr(2), 0, T0 + 1000, PEER_PENDING);
    t.setTrusted(b, true, T0 + 1000);
    expect(t.nextTimeout()).toBe(T0 + PEER_EXPIRY_MS);
    t.transmitted(a, T0 + 20_000);
    // Cached until expire() runs: early, never late; expire() then finds nothing and moves it.
    expect(t.nextTimeout()).toBe(T0 + PEER_EXPIRY_MS);
    expect(t.expire(T0 + PEER_EXPIRY_MS)).toBe(0);
    expect(t.nextTimeout()).toBe(T0 + 1000 + PEER_EXPIRY_MS);
    expect(t.expire(T0 + 1000 + PEER_EXPIRY_MS - 1)).toBe(0);
    expect(t.expire(T0 + 1000 + PEER_EXPIRY_MS)).toBe(1);
    expect(removed).toEqual([b]);
    expect(t.trustedCount).toBe(0);
    expect(t.nextTimeout()).toBe(T0 + 20_000 + PEER_EXPIRY_MS);
    expect(t.expire(T0 + 20_000 + PEER_EXPIRY_MS)).toBe(1);
    expect(t.size).toBe(0);
  });

  it('a new entry is not valid (last reception = now - 30 s, §5.2.3) until it is heard from', () => {
    const t = table();
    const a = t.insert(peerAddr(1), 0, T0, PEER_PENDING);
    expect(t.valid(a, T0)).toBe(false);
    expect(t.lastTx(a)).toBe(T0 - PEER_EXPIRY_MS);
    t.received(a, T0 + 5);
    expect(t.valid(a, T0 + 5 + PEER_EXPIRY_MS - 1)).toBe(true);
    expect(t.valid(a, T0 + 5 + PEER_EXPIRY_MS)).toBe(false);
  });
});

describe('PeerTable memory after a flood (issue 17)', () => {
  it('shrinks its arrays when expiry leaves them 1/8 used: survivors move down with fields, order and queue', () => {
    const moves: [number, number][] = [];
    const t = table({ maxPeers: 8192, onMove: (from, to) => moves.push([from, to]) });
    for (let i = 0; i < 5000; i++) t.insert(peerAddr(i), 0, T0, PEER_PENDING);
    expect(t.capacity).toBe(8192);
    // Ten survivors with traffic, in the high slots the flood filled last.
    const survivors = Array.from({ length: 10 }, (_, k) => 4990 + k);
    for (const i of survivors) {
      const s = t.find(peerAddr(i), 0);
      t.setMapping(s, 0x0b000000 + i, 1000 + i);
      t.setTrusted(s, true, T0 + 20_000 + i);
    }
    const last = t.find(peerAddr(4999), 0);
    t.queues.enqueue(last, Uint8Array.of(1, 2, 3), 0, 3);
    t.prove(t.find(peerAddr(4995), 0), T0 + 25_000);
    expect(t.expire(T0 + PEER_EXPIRY_MS)).toBe(4990);
    // 10 peers: 1024 slots (the initial size), every survivor below them, found at its new slot.
    expect(t.capacity).toBe(1024);
    expect(moves.length).toBe(10);
    for (const i of survivors) {
      const s = t.find(peerAddr(i), 0);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThan(1024);
      expect([t.mappedAddr(s), t.mappedPort(s), t.trusted(s)]).toEqual([0x0b000000 + i, 1000 + i, true]);
    }
    expect(t.proven(t.find(peerAddr(4995), 0))).toBe(true);
    const order: number[] = [];
    t.forEach((s) => order.push(t.mappedPort(s) - 1000));
    expect(order).toEqual([4995, 4990, 4991, 4992, 4993, 4994, 4996, 4997, 4998, 4999]);
    const seen: number[][] = [];
    t.queues.drain(t.find(peerAddr(4999), 0), (d, o, l) => seen.push([...d.subarray(o, o + l)]));
    expect(seen).toEqual([[1, 2, 3]]);
    // And it grows again and keeps working.
    for (let i = 10_000; i < 12_000; i++) expect(t.insert(peerAddr(i), 0, T0 + PEER_EXPIRY_MS, PEER_PENDING)).toBeGreaterThanOrEqual(0);
    expect(t.size).toBe(2010);
    for (const i of [...survivors, 10_000, 11_999]) expect(t.find(peerAddr(i), 0)).toBeGreaterThanOrEqual(0);
  });

  it('without onMove (an owner with per-slot state of its own) the arrays keep their size', () => {
    const t = table({ maxPeers: 8192 });
    for (let i = 0; i < 5000; i++) t.insert(peerAddr(i), 0, T0, PEER_PENDING);
    t.expire(T0 + PEER_EXPIRY_MS);
    expect([t.size, t.capacity]).toEqual([0, 8192]);
  });

  it('keeps 64 idle queue buffers after expiry and lets the rest go', () => {
    const t = table({ queueBytes: 100, maxQueuedBytes: 100 * 1000 });
    for (let i = 0; i < 500; i++) t.queues.enqueue(t.insert(peerAddr(i), 0, T0, PEER_PENDING), new Uint8Array(10), 0, 10);
    expect(t.queues.bufferBytes).toBe(500 * 100);
    t.expire(T0 + PEER_EXPIRY_MS);
    expect(t.queues.bufferBytes).toBe(64 * 100);
    // The pool still gives up to its bound.
    for (let i = 0; i < 1000; i++) t.queues.enqueue(t.insert(peerAddr(i), 0, T0 + PEER_EXPIRY_MS, PEER_PENDING), new Uint8Array(10), 0, 10);
    expect(t.queues.bufferBytes).toBe(1000 * 100);
  });
});

describe('PeerTable queue', () => {
  it('is FIFO, copies the lent bytes, and refuses what does not fit in its byte bound', () => {
    const t = table({ queueBytes: 2 + 3 + 2 + 4 });
    const s = t.insert(peerAddr(1), 0, T0, PEER_PENDING);
    const lent = Uint8Array.of(9, 1, 2, 3, 9);
    expect(t.queues.enqueue(s, lent, 1, 3)).toBe(true);
    lent.fill(0); // the caller reuses its buffer: the queue must hold a copy
    expect(t.queues.enqueue(s, Uint8Array.of(4, 5, 6, 7), 0, 4)).toBe(true);
    expect(t.queues.enqueue(s, Uint8Array.of(8), 0, 1)).toBe(false);
    expect(t.queues.count(s)).toBe(2);
    expect(t.queues.queuedBytes).toBe(11);
    const seen: number[][] = [];
    expect(t.queues.drain(s, (d, o, l) => seen.push([...d.subarray(o, o + l)]))).toBe(2);
    expect(seen).toEqual([[1, 2, 3], [4, 5, 6, 7]]);
    expect(t.queues.length(s)).toBe(0);
    expect(t.queues.queuedBytes).toBe(0);
  });

  it('bounds all queues together by the buffer pool, and returns buffers on drain and removal', () => {
    const t = table({ queueBytes: 100, maxQueuedBytes: 200 });
    const [a, b, c] = [1, 2, 3].map((i) => t.insert(peerAddr(i), 0, T0, PEER_PENDING)) as [number, number, number];
    const p = new Uint8Array(10);
    expect(t.queues.enqueue(a, p, 0, 10)).toBe(true);
    expect(t.queues.enqueue(b, p, 0, 10)).toBe(true);
    expect(t.queues.enqueue(c, p, 0, 10)).toBe(false);
    t.remove(a);
    expect(t.queues.enqueue(c, p, 0, 10)).toBe(true);
    t.queues.clear(b);
    expect(t.queues.queuedBytes).toBe(12);
    const d = t.insert(peerAddr(4), 0, T0, PEER_PENDING);
    expect(t.queues.enqueue(d, p, 0, 10)).toBe(true);
  });

  it('queueBytes 0 disables queueing', () => {
    const t = table({ queueBytes: 0 });
    const s = t.insert(peerAddr(1), 0, T0, PEER_PENDING);
    expect(t.queues.enqueue(s, new Uint8Array(1), 0, 1)).toBe(false);
  });
});

describe('PeerTable bubble pacing (RFC 4380 §5.2.6)', () => {
  it('allows a bubble to a new peer at once, then >= 2 s apart, at most 4 per 300 s', () => {
    const t = table({ expiryMs: 10 * BUBBLE_WINDOW_MS });
    const s = t.insert(peerAddr(1), 0, T0, PEER_PENDING);
    const sent: number[] = [];
    for (let now = T0; now < T0 + BUBBLE_WINDOW_MS + 10_000; now += 500) {
      if (t.mayBubble(s, now)) {
        t.bubbleSent(s, now);
        sent.push(now - T0);
      }
    }
    const burst = [0, 1, 2, 3].map((k) => k * BUBBLE_MIN_INTERVAL_MS);
    // 4 bubbles, silence until 300 s after the first, then the next window's 4.
    expect(sent).toEqual([...burst, ...burst.map((x) => x + BUBBLE_WINDOW_MS)]);
  });

  it('a reception restarts the count; any transmission delays the next bubble by 2 s', () => {
    const t = table();
    const s = t.insert(peerAddr(1), 0, T0, PEER_PENDING);
    for (let k = 0; k < BUBBLE_MAX_COUNT; k++) t.bubbleSent(s, T0 + k * BUBBLE_MIN_INTERVAL_MS);
    const after = T0 + BUBBLE_MAX_COUNT * BUBBLE_MIN_INTERVAL_MS;
    expect(t.mayBubble(s, after)).toBe(false);
    t.received(s, after);
    expect(t.bubbleCount(s)).toBe(0);
    expect(t.mayBubble(s, after)).toBe(true);
    t.transmitted(s, after);
    expect(t.mayBubble(s, after + BUBBLE_MIN_INTERVAL_MS - 1)).toBe(false);
  });
});

describe('PeerTable fields', () => {
  it('stores mapping, trust and a nonce that only matches once set', () => {
    const t = table();
    const s = t.insert(peerAddr(1), 0, T0, PEER_PENDING);
    t.setMapping(s, 0xcb007101, 40000);
    expect(t.mappingIs(s, 0xcb007101, 40000)).toBe(true);
    expect(t.mappingIs(s, 0xcb007101, 40001)).toBe(false);
    const zero = new Uint8Array(8);
    expect(t.nonceMatches(s, zero, 0)).toBe(false);
    t.setNonce(s, 0xdeadbeef, 0x01020304);
    expect(t.nonceMatches(s, Uint8Array.of(0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4), 1)).toBe(true);
    expect(t.nonceMatches(s, Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 5), 0)).toBe(false);
    t.setTrusted(s, true, T0);
    expect([t.trusted(s), t.trustedCount]).toEqual([true, 1]);
    const all: number[] = [];
    t.forEach((x) => all.push(x));
    expect(all).toEqual([s]);
    t.clear();
    expect([t.size, t.trustedCount, t.has(s)]).toEqual([0, 0, false]);
  });
});
