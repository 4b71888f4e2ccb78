// The lookup half of the Teredo peer table: 16-byte IPv6 address -> peer slot, read straight out of a lent
// packet without allocating. The addresses are kept as four int32 words per slot; the index is open addressing
// with linear probing (load <= 1/2, backward-shift deletion, so no tombstones and short probe chains) over a
// keyed hash: the key is random per table, so an attacker choosing peer addresses cannot aim them all at one
// probe chain (RFC 4380 §7.3.3, peer-list denial of service).
//
// Memory: 16 bytes of address per slot + 4 bytes per index cell (2 to 4 cells per slot: the index is a power of
// two >= 2 x the slot capacity).

import type { Random } from '../../types.js';
import { resized } from './lru-lists.js';

const NONE = -1;

export class AddressIndex {
  readonly #k0: number;
  readonly #k1: number;
  #addr = new Int32Array(0); // 4 words per slot
  #cells = new Int32Array(2); // slot + 1, 0 = empty
  #mask = 1;

  constructor(random: Random) {
    const key = random.bytes(8);
    this.#k0 = (key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24)) | 1;
    this.#k1 = key[4]! | (key[5]! << 8) | (key[6]! << 16) | (key[7]! << 24);
  }

  /**
   * Makes room for slots 0..slots-1 (more or fewer than before: every slot in the index must be below `slots`),
   * rehashing the present entries when the index changes size.
   */
  resize(slots: number): void {
    this.#addr = resized(this.#addr, slots * 4);
    let size = 2;
    while (size < slots * 2) size *= 2;
    if (size === this.#cells.length) return;
    const old = this.#cells;
    this.#cells = new Int32Array(size);
    this.#mask = size - 1;
    for (const e of old) if (e !== 0) this.#place(e - 1);
  }

  /** The slot holding the 16-byte address at data[offset], or -1. */
  find(data: Uint8Array, offset: number): number {
    const w0 = word(data, offset);
    const w1 = word(data, offset + 4);
    const w2 = word(data, offset + 8);
    const w3 = word(data, offset + 12);
    const a = this.#addr;
    const mask = this.#mask;
    for (let i = this.#hash(w0, w1, w2, w3) & mask; ; i = (i + 1) & mask) {
      const e = this.#cells[i]!;
      if (e === 0) return NONE;
      const s = (e - 1) << 2;
      if (a[s] === w0 && a[s + 1] === w1 && a[s + 2] === w2 && a[s + 3] === w3) return e - 1;
    }
  }

  /** Files `slot` (not in the index) under the 16-byte address at data[offset]. */
  insert(slot: number, data: Uint8Array, offset: number): void {
    const s = slot << 2;
    for (let i = 0; i < 4; i++) this.#addr[s + i] = word(data, offset + 4 * i);
    this.#place(slot);
  }

  /** Removes `slot` (which must be in the index). */
  delete(slot: number): void {
    const cells = this.#cells;
    const mask = this.#mask;
    let i = this.#slotHash(slot) & mask;
    while (cells[i] !== slot + 1) i = (i + 1) & mask;
    // Backward shift (Knuth 6.4 algorithm R): move a later entry of the chain into the hole unless its home
    // cell lies cyclically in (hole, entry].
    for (let j = (i + 1) & mask; cells[j] !== 0; j = (j + 1) & mask) {
      const home = this.#slotHash(cells[j]! - 1) & mask;
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        cells[i] = cells[j]!;
        i = j;
      }
    }
    cells[i] = 0;
  }

  /** Files the address of `from` (in the index) under `to` (not in it) instead. */
  move(from: number, to: number): void {
    this.delete(from);
    this.#addr.copyWithin(to << 2, from << 2, (from << 2) + 4);
    this.#place(to);
  }

  /** Copies the 16-byte address of `slot` into out[offset]. */
  copyAddress(slot: number, out: Uint8Array, offset: number): void {
    const s = slot << 2;
    for (let i = 0; i < 4; i++) {
      const w = this.#addr[s + i]!;
      out[offset + 4 * i] = w >>> 24;
      out[offset + 4 * i + 1] = (w >>> 16) & 0xff;
      out[offset + 4 * i + 2] = (w >>> 8) & 0xff;
      out[offset + 4 * i + 3] = w & 0xff;
    }
  }

  #place(slot: number): void {
    const mask = this.#mask;
    let i = this.#slotHash(slot) & mask;
    while (this.#cells[i] !== 0) i = (i + 1) & mask;
    this.#cells[i] = slot + 1;
  }

  #slotHash(slot: number): number {
    const s = slot << 2;
    const a = this.#addr;
    return this.#hash(a[s]!, a[s + 1]!, a[s + 2]!, a[s + 3]!);
  }

  // Keyed multiply-xorshift rounds (murmur3 constants) over the four words.
  #hash(w0: number, w1: number, w2: number, w3: number): number {
    let h = this.#k1;
    h = Math.imul(h ^ w0, this.#k0);
    h = Math.imul(h ^ (h >>> 15) ^ w1, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13) ^ w2, this.#k0);
    h = Math.imul(h ^ (h >>> 16) ^ w3, 0xc2b2ae35);
    return h ^ (h >>> 16);
  }
}

/** The big-endian 32-bit word at data[offset], as an int32. */
export function word(data: Uint8Array, offset: number): number {
  return (data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!;
}

/** Writes the 32-bit `value` big-endian at out[offset] (word's inverse). */
export function writeWord(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 0xff;
  out[offset + 2] = (value >>> 8) & 0xff;
  out[offset + 3] = value & 0xff;
}
