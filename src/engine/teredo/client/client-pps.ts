// The Port-Preserving Symmetric NAT Extension (RFC 6081 §5.4, with the Random Port trailer of §4.5): behind a
// symmetric NAT that keeps an inside endpoint's port for its first flow when that port is free, but maps every
// later flow elsewhere (at random: no prediction follows it, client-predict.ts), the Teredo port cannot reach a
// new peer (its first flow went to the server). A fresh local port can: its first flow keeps its number outside.
//
//   qualified, the mapping test saw endpoint-dependent mapping and the Teredo port preserved, and the agent gave
//        the engine a pool of extra sockets (TeredoClientParams.portPreservingPorts) ─► the extension is active
//   a peer is bubbled (client-reach.ts) or answered (client-data.ts #bubbleBack) ─► it gets a pool socket of its
//        own (the least recently used one when none is free): the direct bubble leaves from it (the NAT keeps its
//        port P, and opens toward the peer), the indirect bubble through the peer's server carries P in a Random
//        Port trailer; the peer bubbles our mapped address at P, which now lets it in, on that socket
//   everything sent to that peer from then on (queued packets, the host's packets, load-reduction bubbles) leaves
//        from its socket: `via(slot, sink)` gives the sink to send through (ClientSink.sendUdpFrom)
// Datagrams arriving on a pool socket go through the data path as any (TeredoClient.poolDatagram): they prove
// what their Teredo source proves, not which socket they came in on.
// A socket taken from a peer for another: the old peer loses its trust (its packets would leave from the Teredo
// port, which its NAT filters) and is bubbled anew when the host next sends to it. A socket serves its new peer
// only once the NAT's flow toward its old peer has expired (30-120 s); until then the NAT maps the new flow
// elsewhere and the bubbles do not meet: the pool bounds how many such peers are reached at once.
// Bounds: the pool (the agent's PORT_PRESERVING_POOL sockets, at most 255), a byte per peer table slot.

import type { Millis } from '../../types.js';
import type { ClientSink, ClientState } from './client-types.js';

/** A ClientSink whose sendUdp leaves from one pool socket; the rest goes to the engine's sink. No allocation per use. */
class PoolSink implements ClientSink {
  inner: ClientSink | undefined;
  socket = 0;
  drop(reason: number): void {
    this.inner!.drop(reason);
  }
  sendUdp(data: Uint8Array, offset: number, length: number, addr: number, port: number): void {
    this.inner!.sendUdpFrom(this.socket, data, offset, length, addr, port);
  }
  sendUdpFrom(socket: number, data: Uint8Array, offset: number, length: number, addr: number, port: number): void {
    this.inner!.sendUdpFrom(socket, data, offset, length, addr, port);
  }
  sendProbe(data: Uint8Array, offset: number, length: number, addr: number, port: number): void {
    this.inner!.sendProbe(data, offset, length, addr, port);
  }
  writeTun(data: Uint8Array, offset: number, length: number): void {
    this.inner!.writeTun(data, offset, length);
  }
  addressChanged(previous: Uint8Array | undefined, current: Uint8Array | undefined): void {
    this.inner!.addressChanged(previous, current);
  }
  stateChanged(state: ClientState, previous: ClientState): void {
    this.inner!.stateChanged(state, previous);
  }
}

/** Most pool sockets the engine takes (a byte per peer slot names one). */
export const PORT_PRESERVING_POOL_MAX = 255;

export class PortPreservingPool {
  /** Configured on: the extension is used whenever the NAT is found port-preserving symmetric. */
  enabled = true;
  /** Pool sockets handed to a peer (status counter). */
  assigned = 0;
  /** The pool sockets' local ports (= their ports outside, behind such a NAT); empty: no pool. */
  #ports: readonly number[] = [];
  /** The NAT was found port-preserving symmetric at the last qualification. */
  #nat = false;
  /**
   * Per pool socket: the peer slot using it (-1: none), and when a bubble last went through it (every bubble
   * round takes it again: at least every 30 s for a peer in use, whose validity lapses, RFC 4380 §5.2.4).
   */
  #owner = new Int32Array(0);
  #used = new Float64Array(0);
  /** Per peer slot: its pool socket + 1, 0: none. */
  readonly #socketOf: Uint8Array;
  readonly #via = new PoolSink();

  constructor(maxPeers: number) {
    this.#socketOf = new Uint8Array(maxPeers);
  }

  /**
   * The agent's pool: local ports of its sockets, index = ClientSink.sendUdpFrom's socket (the same ones again, as
   * on every reload, keep the peers' sockets). RangeError beyond the max.
   */
  setPorts(ports: readonly number[]): void {
    if (ports.length === this.#ports.length && ports.every((p, i) => p === this.#ports[i])) return;
    if (ports.length > PORT_PRESERVING_POOL_MAX) throw new RangeError(`at most ${PORT_PRESERVING_POOL_MAX} port-preserving pool sockets`);
    this.#ports = ports.slice();
    this.#owner = new Int32Array(ports.length).fill(-1);
    this.#used = new Float64Array(ports.length);
    this.#socketOf.fill(0);
  }

  /** What the last qualification found: endpoint-dependent mapping and the Teredo port kept (RFC 6081 §5.4's NAT). */
  setNat(portPreservingSymmetric: boolean): void {
    this.#nat = portPreservingSymmetric;
  }

  get active(): boolean {
    return this.enabled && this.#nat && this.#ports.length > 0;
  }

  /**
   * The pool socket of the peer in `slot`, handed out now if it has none (the free or least recently used one;
   * `onTaken(oldSlot)` tells of a peer that lost it); -1 when the extension is not active.
   */
  take(slot: number, now: Millis, onTaken: (slot: number) => void): number {
    if (!this.active) return -1;
    const have = this.#socketOf[slot]! - 1;
    if (have >= 0) {
      this.#used[have] = now;
      return have;
    }
    let pick = 0;
    for (let i = 0; i < this.#owner.length; i++) {
      if (this.#owner[i] === -1) {
        pick = i;
        break;
      }
      if (this.#used[i]! < this.#used[pick]!) pick = i;
    }
    const old = this.#owner[pick]!;
    if (old >= 0) {
      this.#socketOf[old] = 0;
      onTaken(old);
    }
    this.#owner[pick] = slot;
    this.#used[pick] = now;
    this.#socketOf[slot] = pick + 1;
    this.assigned++;
    return pick;
  }

  /** The local port of pool socket `socket` (the Random Port told to the peer). */
  port(socket: number): number {
    return this.#ports[socket]!;
  }

  /** The sink to send to the peer in `slot` through: `sink` itself, or one sending from the peer's pool socket. */
  via(slot: number, sink: ClientSink): ClientSink {
    const s = this.#socketOf[slot]! - 1;
    if (s < 0) return sink;
    this.#via.inner = sink;
    this.#via.socket = s;
    return this.#via;
  }

  forget(slot: number): void {
    const s = this.#socketOf[slot]! - 1;
    if (s < 0) return;
    this.#owner[s] = -1;
    this.#socketOf[slot] = 0;
  }

  /** Every peer forgotten (a new address): the sockets are free again; still active until setNat says otherwise. */
  reset(): void {
    this.#owner.fill(-1);
    this.#socketOf.fill(0);
  }
}
