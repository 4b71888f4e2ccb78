// Packets from native hosts held while the relay they came through is tested (RFC 4380 §5.2.3 case 6, §5.2.9).
//
// A native host's first packet to a client arrives through a relay the client does not know yet. Accepting it
// untested is CVE-2006-6266 (anyone could claim any IPv6 source); dropping it loses the host's first packet
// (host6's first ping). Miredo holds it in the peer's incoming queue and delivers it once the test reply makes a
// mapping trusted, only if it came from that mapping (libteredo/queue.c, teredo_queue_emit). So do we:
//   hold(slot, packet, relay addr:port) ─► copied into a fixed pool; refused when the peer already holds
//                                          HELD_PER_PEER packets, the pool is full (HELD_MAX_ENTRIES), or
//                                          the packet is longer than HELD_MAX_PACKET bytes
//   release(slot, trusted addr:port)    ─► each held packet of the peer that came from that mapping is
//                                          delivered; the others are dropped (they came through another relay)
//   discard(slot)                       ─► all dropped (the test gave up, the peer left the table)
// Bounds: HELD_MAX_ENTRIES packets of at most HELD_MAX_PACKET bytes each, so HELD_MAX_BYTES of pool in all,
// allocated once; nothing is allocated per packet.

/** Packets held for one peer: the first pings of a host arrive 1 s apart, the test takes one round trip. */
export const HELD_PER_PEER = 2;
/** Packets held for all peers together. */
export const HELD_MAX_ENTRIES = 16;
/** The longest packet held, bytes (the Teredo MTU, RFC 4380 §5.1: peers send no more to a Teredo address). */
export const HELD_MAX_PACKET = 1280;
/** The pool's size, bytes. */
export const HELD_MAX_BYTES = HELD_MAX_ENTRIES * HELD_MAX_PACKET;

const FREE = -1;

/** A packet delivered or dropped on release: `deliver` for those from the trusted mapping, `drop` for the others. */
export interface HeldSink {
  deliver(data: Uint8Array, offset: number, length: number): void;
  drop(): void;
}

export class HeldPackets {
  readonly #pool = new Uint8Array(HELD_MAX_BYTES);
  readonly #slot = new Int32Array(HELD_MAX_ENTRIES).fill(FREE);
  readonly #length = new Uint16Array(HELD_MAX_ENTRIES);
  readonly #addr = new Uint32Array(HELD_MAX_ENTRIES);
  readonly #port = new Uint16Array(HELD_MAX_ENTRIES);
  /** Arrival order, so a peer's packets are delivered in the order they came. */
  readonly #seq = new Float64Array(HELD_MAX_ENTRIES);
  #nextSeq = 0;
  #count = 0;

  /** Packets held now. */
  get size(): number {
    return this.#count;
  }

  /** Copies data[offset, offset+length) for peer `slot`, from relay addr:port; false when a bound refuses it. */
  hold(slot: number, data: Uint8Array, offset: number, length: number, addr: number, port: number): boolean {
    if (length > HELD_MAX_PACKET || this.#count === HELD_MAX_ENTRIES) return false;
    let free = FREE;
    let mine = 0;
    for (let i = 0; i < HELD_MAX_ENTRIES; i++) {
      if (this.#slot[i] === slot) mine++;
      else if (this.#slot[i] === FREE && free === FREE) free = i;
    }
    if (mine >= HELD_PER_PEER || free === FREE) return false;
    this.#pool.set(data.subarray(offset, offset + length), free * HELD_MAX_PACKET);
    this.#slot[free] = slot;
    this.#length[free] = length;
    this.#addr[free] = addr >>> 0;
    this.#port[free] = port;
    this.#seq[free] = this.#nextSeq++;
    this.#count++;
    return true;
  }

  /** Peer `slot` is now trusted at addr:port: its packets from there are delivered, in order; the rest dropped. */
  release(slot: number, addr: number, port: number, sink: HeldSink): void {
    for (let i = this.#oldest(slot); i !== FREE; i = this.#oldest(slot)) {
      if (this.#addr[i] === addr >>> 0 && this.#port[i] === port) sink.deliver(this.#pool, i * HELD_MAX_PACKET, this.#length[i]!);
      else sink.drop();
      this.#free(i);
    }
  }

  /** Drops every packet of peer `slot`; returns how many there were. */
  discard(slot: number): number {
    let n = 0;
    for (let i = 0; i < HELD_MAX_ENTRIES; i++) {
      if (this.#slot[i] !== slot) continue;
      this.#free(i);
      n++;
    }
    return n;
  }

  clear(): void {
    this.#slot.fill(FREE);
    this.#count = 0;
  }

  #oldest(slot: number): number {
    let best = FREE;
    for (let i = 0; i < HELD_MAX_ENTRIES; i++) if (this.#slot[i] === slot && (best === FREE || this.#seq[i]! < this.#seq[best]!)) best = i;
    return best;
  }

  #free(i: number): void {
    this.#slot[i] = FREE;
    this.#count--;
  }
}
