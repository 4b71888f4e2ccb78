// The loop behind the Teredo engines' batch inputs (the relay's datagrams() / packets(), the client's): in a run of
// packets that share what the engine checks (the segments of a UDP_GRO or TSO superframe, cut back into one batch
// entry each), the first goes through every check and the others through their own framing only.

import type { PacketBatch } from '../../wire/packet-batch.js';
import type { Millis } from '../types.js';

/** An engine's two ways with packet i of a batch `B` (read through the batch's accessors). */
export interface SuperframeSteps<B extends PacketBatch, S> {
  /**
   * Packet i (i >= 1) after packet i - 1, which passed every check as `slot` or was handled here: true when it is
   * like that one (its own framing checked) and was handled as it was; false when it differs in a checked field.
   */
  again(batch: B, i: number, slot: number, now: Millis, sink: S): boolean;
  /** Packet i through every check: the slot a like next packet may pass as, -1 for none. */
  first(batch: B, i: number, now: Millis, sink: S): number;
}

/** Every packet of `batch` in order, each through `steps.again` when the previous passed, else `steps.first`. */
export function runSuperframes<B extends PacketBatch, S>(steps: SuperframeSteps<B, S>, batch: B, now: Millis, sink: S): void {
  let slot = -1;
  for (let i = 0; i < batch.count; i++) {
    if (slot < 0 || !steps.again(batch, i, slot, now, sink)) slot = steps.first(batch, i, now, sink);
  }
}
