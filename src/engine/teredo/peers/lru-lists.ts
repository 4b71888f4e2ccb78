// The peer table's least-recently-used order: a few doubly-linked lists threaded through the peer slots (two
// int32 links per slot), each in last-use order, so the head of a list is its least recently used peer, and
// each with its length. The peer table keeps one per class (proven, pending, embedded): their heads are the
// next peers to expire and the ones a full class evicts, and a use moves a peer to its list's tail in O(1). Instead of a TimerTable entry per peer (a Map entry,
// ~50 bytes, per peer and a heap update per packet). Allocation-free except grow().

/** The end of a list: no slot. */
export const LRU_END = -1;

export class LruLists {
  #prev = new Int32Array(0);
  #next = new Int32Array(0);
  readonly #head: Int32Array;
  readonly #tail: Int32Array;
  readonly #length: Int32Array;

  /** `lists` lists (indices 0 .. lists-1), all empty. */
  constructor(lists: number) {
    this.#head = new Int32Array(lists).fill(LRU_END);
    this.#tail = new Int32Array(lists).fill(LRU_END);
    this.#length = new Int32Array(lists);
  }

  /** Makes room for slots 0 .. slots-1 (more or fewer than before), keeping the links of those slots. */
  resize(slots: number): void {
    this.#prev = resized(this.#prev, slots);
    this.#next = resized(this.#next, slots);
  }

  /** `from` (in `list`) takes the place of `to` (in no list): same neighbours, same position. */
  move(from: number, to: number, list: number): void {
    const p = this.#prev[from]!;
    const n = this.#next[from]!;
    this.#prev[to] = p;
    this.#next[to] = n;
    if (p === LRU_END) this.#head[list] = to;
    else this.#next[p] = to;
    if (n === LRU_END) this.#tail[list] = to;
    else this.#prev[n] = to;
  }

  /** The least recently used slot of `list`, or LRU_END when it is empty. */
  head(list: number): number {
    return this.#head[list]!;
  }

  /** Number of slots in `list`. */
  length(list: number): number {
    return this.#length[list]!;
  }

  /** The slot used after `slot` in its list, or LRU_END. */
  next(slot: number): number {
    return this.#next[slot]!;
  }

  /** Appends `slot` (in no list) to `list` as its most recently used. */
  append(slot: number, list: number): void {
    const t = this.#tail[list]!;
    this.#prev[slot] = t;
    this.#next[slot] = LRU_END;
    if (t === LRU_END) this.#head[list] = slot;
    else this.#next[t] = slot;
    this.#tail[list] = slot;
    this.#length[list] = this.#length[list]! + 1;
  }

  /** Takes `slot` out of `list`, the list it is in. */
  remove(slot: number, list: number): void {
    const p = this.#prev[slot]!;
    const n = this.#next[slot]!;
    if (p === LRU_END) this.#head[list] = n;
    else this.#next[p] = n;
    if (n === LRU_END) this.#tail[list] = p;
    else this.#prev[n] = p;
    this.#length[list] = this.#length[list]! - 1;
  }

  /** `slot` (in `list`) was just used: it becomes the list's most recently used. */
  touch(slot: number, list: number): void {
    if (this.#tail[list] === slot) return;
    this.remove(slot, list);
    this.append(slot, list);
  }
}

/** A copy of `a` with `length` elements: its first ones, zeros after. */
export function resized<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(a: T, length: number): T {
  const out = new (a.constructor as new (n: number) => T)(length);
  out.set((a.length > length ? a.subarray(0, length) : a) as never);
  return out;
}
