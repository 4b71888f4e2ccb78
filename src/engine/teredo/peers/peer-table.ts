// The Teredo peer table (RFC 4380 §5.2 "peer entries", used by the client §5.2.3/§5.2.4 and the relay §5.4):
// per peer IPv6 address, its mapped IPv4 address and port, the trusted flag, the nonce of the last connectivity
// test, the last reception and last transmission dates, the number of bubbles sent and a FIFO packet queue.
//
// Shape: struct-of-arrays indexed by a slot number (0..maxPeers-1) that the owner keeps as the peer's handle;
// address-index.ts finds the slot from the 16 address bytes inside a lent packet without allocating, and
// peer-queues.ts holds the queues. Arrays grow by doubling up to maxPeers, so an idle relay does not pay for a
// million peers, and shrink again when expiry leaves them at most 1/8 used (an owner that passes onMove: the
// peers in high slots move down first), so a flood's arrays do not outlive it. Nothing here allocates after the
// arrays have grown, except that shrinking.
//
// Bounds (§7.3.3, §7.3.5):
// - maxPeers (default 1,048,576 = Miredo's MAX_PEERS) in three classes with their own bounds and LRU lists
//   (peer-classes.ts: proven, never evicted; pending, for the native side; embedded, from unsolicited
//   datagrams, maxPeers / 8); insert() refuses (-1) when none of the allowed classes can give a place. The
//   trusted flag is apart: an embedded peer is trusted (§5.4.2) but not proven.
// - Peers expire after expiryMs (30 s, §5.2.4 / Miredo's relay GC period) without traffic; each class list is
//   in last-use order, so its head expires next: nextTimeout() is O(1) and cached, expire() pops heads.
// - Queues: at most queueBytes per peer (FIFO, the packet that does not fit is refused), drawn from a pool of at
//   most maxQueuedBytes / queueBytes buffers; a buffer returns to the pool when the queue is drained or the peer
//   removed. Each queued packet costs its length + 2 bytes.
//
// Bubble pacing (§5.2.6) is the rule in bubble-pacing.ts; the table only keeps its numbers per slot (last
// transmission, bubble count, start of the bubble window).
//
// Memory: PEER_TABLE_BYTES_PER_PEER bytes of typed arrays per slot (+ 8 to 16 of index; bench/teredo-relay/
// peer-table-memory.mjs); queue buffers come on top, bounded by maxQueuedBytes.

import type { Millis, Random } from '../../types.js';
import { AddressIndex, word, writeWord } from './address-index.js';
import { BUBBLE_WINDOW_MS, bubbleAllowed, bubbleOpensWindow, bubblesExhausted } from './bubble-pacing.js';
import { LRU_END, resized } from './lru-lists.js';
import { PEER_CLASSES as CLASSES, PEER_EMBEDDED, PEER_PENDING, PEER_PROVEN, PeerClasses, REFUSE, type PeerAdmission, type PeerClass } from './peer-classes.js';
import { PeerQueues } from './peer-queues.js';

/** Miredo's relay bound when built with libJudy (libteredo/relay.c MAX_PEERS; 1024 without): the default. */
export const DEFAULT_MAX_PEERS = 1_048_576;
/** RFC 4380 §5.2.4: a peer entry is valid for 30 s after the last reception; idle entries go after that. */
export const PEER_EXPIRY_MS = 30_000;
/** Per-peer queue: two full 1280-byte Teredo MTU packets (Miredo: 1280 bytes in total). */
export const DEFAULT_QUEUE_BYTES = 2 * (1280 + 2);
/** All queues together (16 MiB): bounds memory when many untrusted peers have packets waiting. */
export const DEFAULT_MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/**
 * Typed-array bytes per peer slot (without the index cells): address 16, mapping 4+2, state 1, bubbles 1,
 * nonce 8, four Float64 dates 32, LRU links 8, queue buffer + length 4+4, free-list 4.
 */
export const PEER_TABLE_BYTES_PER_PEER = 16 + 4 + 2 + 1 + 1 + 8 + 32 + 8 + 8 + 4;

export interface PeerTableOptions {
  /** Hash key source (seed it in tests). */
  readonly random: Random;
  /** Peer bound, >= 1 (default DEFAULT_MAX_PEERS). */
  readonly maxPeers?: number;
  /** Idle time before a peer is removed, ms > 0 (default PEER_EXPIRY_MS). */
  readonly expiryMs?: number;
  /** Per-peer queue capacity in bytes, >= 0; 0 disables queueing (default DEFAULT_QUEUE_BYTES). */
  readonly queueBytes?: number;
  /** Bytes of queue buffers all peers together may hold (default DEFAULT_MAX_QUEUED_BYTES). */
  readonly maxQueuedBytes?: number;
  /**
   * Called with the slot just before a peer is removed by eviction or expiry (not by remove()), while its fields
   * and queue are still readable: the owner cancels its own per-peer timers and accounts the queued packets.
   */
  readonly onRemove?: (slot: number, why: PeerRemoval) => void;
  /**
   * Called when expiry moves a peer from slot `from` to slot `to` to shrink the arrays (fields and queue move
   * with it): the owner moves its own per-slot state. Without it the arrays never shrink.
   */
  readonly onMove?: (from: number, to: number) => void;
}

/** Why a peer left the table without the owner asking. */
export type PeerRemoval = 'expired' | 'evicted';

// #state per slot: bit 0 used, bit 1 trusted, bits 2-3 the class.
const STATE_USED = 1;
const STATE_TRUSTED = 2;
const CLASS_SHIFT = 2;
const INITIAL_SLOTS = 1024;
/** The arrays shrink when expiry leaves at most 1/SHRINK_BELOW of their slots used (hysteresis: they doubled at full). */
const SHRINK_BELOW = 8;

/** A bounded, allocation-free (on lookups and updates) Teredo peer table; see the file comment. */
export class PeerTable {
  readonly maxPeers: number;
  readonly expiryMs: number;
  /** The peers' packet queues, indexed by slot (emptied when a peer is removed). */
  readonly queues: PeerQueues;
  readonly #onRemove: ((slot: number, why: PeerRemoval) => void) | undefined;
  readonly #onMove: ((from: number, to: number) => void) | undefined;
  readonly #index: AddressIndex;

  #cap = 0;
  #size = 0;
  #trusted = 0;
  // per slot
  #mappedAddr = new Int32Array(0); // int32 IPv4 (wire/ipv4.ts): no heap number per read
  #mappedPort = new Uint16Array(0);
  #state = new Uint8Array(0);
  #bubbles = new Uint8Array(0);
  #nonce = new Uint32Array(0); // 2 words per slot
  #lastRx = new Float64Array(0);
  #lastTx = new Float64Array(0);
  #lastUse = new Float64Array(0);
  #bubbleWindow = new Float64Array(0);
  #freeSlots = new Int32Array(0);
  #freeCount = 0;
  #used = 0; // slots ever handed out (high-water mark below #cap)
  #checkAt: Millis | undefined; // nextTimeout's cached value
  readonly #lru: PeerClasses;

  /** Throws RangeError naming the option when a bound is out of range. */
  constructor(opts: PeerTableOptions) {
    this.maxPeers = checkInt(opts.maxPeers ?? DEFAULT_MAX_PEERS, 'maxPeers', 1, 2 ** 26);
    this.#lru = new PeerClasses(this.maxPeers);
    this.expiryMs = checkInt(opts.expiryMs ?? PEER_EXPIRY_MS, 'expiryMs', 1, 2 ** 31);
    const queueBytes = checkInt(opts.queueBytes ?? DEFAULT_QUEUE_BYTES, 'queueBytes', 0, 0xffff);
    this.queues = new PeerQueues(queueBytes, checkInt(opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES, 'maxQueuedBytes', 0, 2 ** 32));
    this.#onRemove = opts.onRemove;
    this.#onMove = opts.onMove;
    this.#index = new AddressIndex(opts.random);
    this.#resize(Math.min(INITIAL_SLOTS, this.maxPeers));
  }

  /** Slots the arrays hold now (INITIAL_SLOTS .. maxPeers): what the table costs, PEER_TABLE_BYTES_PER_PEER each. */
  get capacity(): number {
    return this.#cap;
  }

  /** Number of peers. */
  get size(): number {
    return this.#size;
  }

  /** Number of trusted peers. */
  get trustedCount(): number {
    return this.#trusted;
  }

  /** Number of peers in class `cls`. */
  classSize(cls: PeerClass): number {
    return this.#lru.length(cls);
  }

  /** The peer slot for the 16-byte IPv6 address at `data[offset]`, or -1. Allocation-free. */
  find(data: Uint8Array, offset: number): number {
    return this.#index.find(data, offset);
  }

  /**
   * Adds the peer with the 16-byte address at `data[offset]` (find() gave -1) in class `admission`; returns its
   * slot: untrusted, mapping 0:0, nonce 0, no bubbles, last reception and transmission = now - 30 s (§5.2.3
   * case 3, §5.2.6: bubble at once), last use = now. A full class or table first evicts (onRemove 'evicted')
   * the peer PeerClasses.victim names; -1 (nothing added) when it names none.
   */
  insert(data: Uint8Array, offset: number, now: Millis, admission: PeerAdmission): number {
    const victim = this.#lru.victim(admission, this.#size === this.maxPeers);
    if (victim === REFUSE) return -1;
    if (victim !== LRU_END) {
      this.#onRemove?.(victim, 'evicted');
      this.remove(victim);
    }
    if (this.#size === 0) this.#checkAt = undefined;
    let slot: number;
    if (this.#freeCount > 0) slot = this.#freeSlots[--this.#freeCount]!;
    else {
      if (this.#used === this.#cap) this.#resize(Math.min(this.#cap * 2, this.maxPeers));
      slot = this.#used++;
    }
    this.#index.insert(slot, data, offset);
    this.#mappedAddr[slot] = 0;
    this.#mappedPort[slot] = 0;
    this.#state[slot] = STATE_USED | (admission << CLASS_SHIFT);
    this.#bubbles[slot] = 0;
    this.setNonce(slot, 0, 0);
    this.#lastRx[slot] = now - PEER_EXPIRY_MS;
    this.#lastTx[slot] = now - PEER_EXPIRY_MS;
    this.#bubbleWindow[slot] = now - BUBBLE_WINDOW_MS;
    this.#lastUse[slot] = now;
    this.#lru.append(slot, admission);
    this.#size++;
    return slot;
  }

  /** Removes the peer in `slot` (dropping its queue) without calling onRemove. */
  remove(slot: number): void {
    if (!this.has(slot)) return;
    this.queues.clear(slot);
    this.#index.delete(slot);
    this.#lru.remove(slot, this.#class(slot));
    if ((this.#state[slot]! & STATE_TRUSTED) !== 0) this.#trusted--;
    this.#state[slot] = 0;
    this.#freeSlots[this.#freeCount++] = slot;
    this.#size--;
  }

  /** True when `slot` holds a peer. */
  has(slot: number): boolean {
    return slot >= 0 && slot < this.#used && (this.#state[slot]! & STATE_USED) !== 0;
  }

  /** Copies the peer's 16-byte IPv6 address into `out` at `offset`. */
  copyAddress(slot: number, out: Uint8Array, offset: number): void {
    this.#index.copyAddress(slot, out, offset);
  }

  trusted(slot: number): boolean {
    return (this.#state[slot]! & STATE_TRUSTED) !== 0;
  }

  /** Marks the peer trusted or not at `now`; this counts as a use (trust changes on traffic). Its class stays. */
  setTrusted(slot: number, trusted: boolean, now: Millis): void {
    if (this.trusted(slot) !== trusted) {
      this.#state[slot] = this.#state[slot]! ^ STATE_TRUSTED;
      this.#trusted += trusted ? 1 : -1;
    }
    this.#touch(slot, now);
  }

  /** True while the peer is in the embedded class (admitted unsolicited, neither adopted nor proven). */
  embedded(slot: number): boolean {
    return this.#class(slot) === PEER_EMBEDDED;
  }

  /** True once the peer was proven (prove()). */
  proven(slot: number): boolean {
    return this.#class(slot) === PEER_PROVEN;
  }

  /**
   * The owner now has traffic for this peer (the client's host sends to a peer that spoke first): an embedded
   * peer moves to the pending class, where unsolicited newcomers cannot evict it. Proven and pending peers stay.
   */
  adopt(slot: number): void {
    if (this.#class(slot) !== PEER_EMBEDDED) return;
    this.#lru.remove(slot, PEER_EMBEDDED);
    this.#state[slot] = (this.#state[slot]! & ((1 << CLASS_SHIFT) - 1)) | (PEER_PENDING << CLASS_SHIFT);
    this.#lru.append(slot, PEER_PENDING);
  }

  /** The peer echoed a nonce only its mapping could have seen: proven at `now` (a use); trust is apart. */
  prove(slot: number, now: Millis): void {
    const from = this.#class(slot);
    if (from !== PEER_PROVEN) {
      this.#lru.remove(slot, from);
      this.#state[slot] = this.#state[slot]! & (STATE_USED | STATE_TRUSTED); // class PEER_PROVEN = 0
      this.#lru.append(slot, PEER_PROVEN);
    }
    this.#touch(slot, now);
  }

  /** The peer's mapped IPv4 address (int32), 0 until set. */
  mappedAddr(slot: number): number {
    return this.#mappedAddr[slot]!;
  }

  /** The peer's mapped UDP port, 0 until set. */
  mappedPort(slot: number): number {
    return this.#mappedPort[slot]!;
  }

  /** True when the peer's mapping is addr:port. */
  mappingIs(slot: number, addr: number, port: number): boolean {
    return this.#mappedAddr[slot] === (addr | 0) && this.#mappedPort[slot] === port;
  }

  setMapping(slot: number, addr: number, port: number): void {
    this.#mappedAddr[slot] = addr;
    this.#mappedPort[slot] = port;
  }

  /** Last transmission date (ms). */
  lastTx(slot: number): Millis {
    return this.#lastTx[slot]!;
  }

  /** A packet came from the peer: last reception = now, bubble count 0 (§5.2.6 "without a direct response"), a use. */
  received(slot: number, now: Millis): void {
    this.#lastRx[slot] = now;
    this.#bubbles[slot] = 0;
    this.#touch(slot, now);
  }

  /** A packet (not a bubble: see bubbleSent) went to the peer: last transmission = now, most recently used. */
  transmitted(slot: number, now: Millis): void {
    this.#lastTx[slot] = now;
    this.#touch(slot, now);
  }

  /**
   * A packet for the peer was queued or refused (bubbles exhausted): a use, so the entry and its bubble count
   * outlive the 30 s expiry while traffic for it continues (Miredo's GC likewise keeps looked-up entries).
   */
  used(slot: number, now: Millis): void {
    this.#touch(slot, now);
  }

  /** RFC 4380 §5.2.4: a valid entry was heard from less than 30 s ago. */
  valid(slot: number, now: Millis): boolean {
    return now - this.#lastRx[slot]! < PEER_EXPIRY_MS;
  }

  /** §5.2.6 (bubble-pacing.ts bubbleAllowed): true when a bubble may be sent to the peer at `now`. */
  mayBubble(slot: number, now: Millis): boolean {
    return bubbleAllowed(now, this.#lastTx[slot]!, this.#bubbles[slot]!, this.#bubbleWindow[slot]!);
  }

  /** §5.2.6 (bubble-pacing.ts): 4 bubbles went out in the current 300 s without a response; none may go now. */
  bubblesExhausted(slot: number, now: Millis): boolean {
    return bubblesExhausted(now, this.#bubbles[slot]!, this.#bubbleWindow[slot]!);
  }

  /** Records a bubble sent now (call only when mayBubble was true): counts it and updates last transmission. */
  bubbleSent(slot: number, now: Millis): void {
    if (bubbleOpensWindow(now, this.#bubbles[slot]!, this.#bubbleWindow[slot]!)) {
      this.#bubbleWindow[slot] = now;
      this.#bubbles[slot] = 0;
    }
    this.#bubbles[slot]!++;
    this.transmitted(slot, now);
  }

  /** Bubbles sent since the last reception (within the current 300 s window). */
  bubbleCount(slot: number): number {
    return this.#bubbles[slot]!;
  }

  /** Stores the 64-bit nonce of a connectivity test or mapping proof (two uint32 halves). */
  setNonce(slot: number, hi: number, lo: number): void {
    this.#nonce[2 * slot] = hi;
    this.#nonce[2 * slot + 1] = lo;
  }

  /** True once a nonce was set (a nonce is never 0). */
  hasNonce(slot: number): boolean {
    return (this.#nonce[2 * slot]! | this.#nonce[2 * slot + 1]!) !== 0;
  }

  /** The stored nonce's low 32 bits (an RFC 6081 Nonce trailer's value: never 0 once a nonce was set). */
  nonceLow(slot: number): number {
    return this.#nonce[2 * slot + 1]!;
  }

  /** Writes the peer's 8-byte nonce into out[offset] (big-endian halves). */
  writeNonce(slot: number, out: Uint8Array, offset: number): void {
    writeWord(out, offset, this.#nonce[2 * slot]!);
    writeWord(out, offset + 4, this.#nonce[2 * slot + 1]!);
  }

  /** True when the 8 bytes at `data[offset]` equal the peer's stored nonce (and a nonce was set: 0 never matches). */
  nonceMatches(slot: number, data: Uint8Array, offset: number): boolean {
    const hi = this.#nonce[2 * slot]!;
    const lo = this.#nonce[2 * slot + 1]!;
    if ((hi | lo) === 0) return false;
    return word(data, offset) >>> 0 === hi && word(data, offset + 4) >>> 0 === lo;
  }

  /** When expire() should run next (ms; undefined: empty). O(1), cached until expire() runs: maybe early, never late. */
  nextTimeout(): Millis | undefined {
    if (this.#size === 0) return undefined;
    return (this.#checkAt ??= this.#earliestExpiry());
  }

  /** Removes every peer idle for expiryMs or more at `now` (onRemove 'expired' first); returns how many. */
  expire(now: Millis): number {
    let n = 0;
    for (let list = 0; list < CLASSES; list++) {
      for (let s = this.#lru.head(list); s !== LRU_END && now - this.#lastUse[s]! >= this.expiryMs; s = this.#lru.head(list)) {
        this.#onRemove?.(s, 'expired');
        this.remove(s);
        n++;
      }
    }
    this.#checkAt = this.#size === 0 ? undefined : this.#earliestExpiry();
    if (n > 0) {
      this.queues.trim();
      if (this.#onMove !== undefined && this.#cap > INITIAL_SLOTS && this.#size <= this.#cap / SHRINK_BELOW) this.#shrink(this.#onMove);
    }
    return n;
  }

  /** Calls visit(slot) for each peer, least recently used first (status output, tests); not for the data path. */
  forEach(visit: (slot: number) => void): void {
    for (let list = 0; list < CLASSES; list++) for (let s = this.#lru.head(list); s !== LRU_END; s = this.#lru.next(s)) visit(s);
  }

  /** Removes every peer (no onRemove): a client that requalifies with a new address starts afresh (Miredo resets its list). */
  clear(): void {
    for (let list = 0; list < CLASSES; list++) while (this.#lru.head(list) !== LRU_END) this.remove(this.#lru.head(list));
    this.#checkAt = undefined;
  }

  #earliestExpiry(): Millis {
    let at = Infinity;
    for (let list = 0; list < CLASSES; list++) {
      const s = this.#lru.head(list);
      if (s !== LRU_END) at = Math.min(at, this.#lastUse[s]!);
    }
    return at + this.expiryMs;
  }

  /**
   * Moves every peer to a slot below the new capacity (2 x size, at least INITIAL_SLOTS), then reallocates the
   * arrays at that size. O(slots used before); runs from expire() only, after a flood has gone.
   */
  #shrink(onMove: (from: number, to: number) => void): void {
    let cap = INITIAL_SLOTS;
    while (cap < this.#size * 2) cap *= 2;
    let to = 0;
    for (let from = cap; from < this.#used; from++) {
      if ((this.#state[from]! & STATE_USED) === 0) continue;
      while ((this.#state[to]! & STATE_USED) !== 0) to++;
      this.#move(from, to);
      onMove(from, to);
    }
    this.#used = Math.min(this.#used, cap);
    this.#freeCount = 0;
    for (let s = this.#used - 1; s >= 0; s--) if ((this.#state[s]! & STATE_USED) === 0) this.#freeSlots[this.#freeCount++] = s;
    this.#resize(cap);
  }

  /** Peer `from` takes the free slot `to`: fields, index cell, LRU position and queue. */
  #move(from: number, to: number): void {
    this.#index.move(from, to);
    this.#lru.move(from, to, this.#class(from));
    this.queues.move(from, to);
    this.#mappedAddr[to] = this.#mappedAddr[from]!;
    this.#mappedPort[to] = this.#mappedPort[from]!;
    this.#state[to] = this.#state[from]!;
    this.#bubbles[to] = this.#bubbles[from]!;
    this.#nonce[2 * to] = this.#nonce[2 * from]!;
    this.#nonce[2 * to + 1] = this.#nonce[2 * from + 1]!;
    this.#lastRx[to] = this.#lastRx[from]!;
    this.#lastTx[to] = this.#lastTx[from]!;
    this.#lastUse[to] = this.#lastUse[from]!;
    this.#bubbleWindow[to] = this.#bubbleWindow[from]!;
    this.#state[from] = 0;
  }

  #touch(slot: number, now: Millis): void {
    this.#lastUse[slot] = now;
    this.#lru.touch(slot, this.#class(slot));
  }

  /** The peer's class, which is also its LRU list. */
  #class(slot: number): number {
    return this.#state[slot]! >>> CLASS_SHIFT;
  }

  #resize(cap: number): void {
    this.#cap = cap;
    this.#index.resize(cap);
    this.#mappedAddr = resized(this.#mappedAddr, cap);
    this.#mappedPort = resized(this.#mappedPort, cap);
    this.#state = resized(this.#state, cap);
    this.#bubbles = resized(this.#bubbles, cap);
    this.#nonce = resized(this.#nonce, cap * 2);
    this.#lastRx = resized(this.#lastRx, cap);
    this.#lastTx = resized(this.#lastTx, cap);
    this.#lastUse = resized(this.#lastUse, cap);
    this.#bubbleWindow = resized(this.#bubbleWindow, cap);
    this.#lru.resize(cap);
    this.queues.resize(cap);
    this.#freeSlots = resized(this.#freeSlots, cap);
  }
}

function checkInt(v: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`peer table ${name} must be an integer in ${min}..${max}, got ${v}`);
  return v;
}
