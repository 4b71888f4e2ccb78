// The IPv6 side of the in-memory Teredo network (teredo-net.ts): what sits behind the engines' TUN devices.
// - Ipv6Stack: a host's IPv6 stack, at the far end of a Teredo client's TUN device (the host's applications) or on
//   the native network. It keeps a copy of every packet it receives and, when given a responder, answers (echoReply:
//   Echo Requests answered as Linux does).
// - NativeNetwork: one IPv6 router joining agents' TUN devices (a relay that routes 2001::/32 into its device, a
//   server that writes its clients' native packets into its own) and native hosts. It routes by destination: a
//   host's address, else the longest attached prefix, else the packet is counted as unroutable.
// Packets cross the TUN pairs (teredo-net-tun.ts) on the network's clock: lent batches, after the pair's latency,
// covered by runUntilIdle. Between two native hosts a packet is handed over at once.

import { hex } from '../../src/wire/bytes.js';
import { decodeIcmpv6Packet, encodeIcmpv6Packet, ICMPV6_TYPE } from '../../src/wire/icmpv6.js';
import { IPV6_FIELD, IPV6_HEADER_LEN, NEXT_HEADER } from '../../src/wire/ipv6.js';
import type { VirtualInternet } from './teredo-net.js';
import type { VirtualTun } from './teredo-net-tun.js';

/** What a stack sends back for a packet it received (undefined: nothing). */
export type Responder = (packet: Uint8Array) => Uint8Array | undefined;

/** Hop limit of the replies (Linux's default for unicast). */
const REPLY_HOP_LIMIT = 64;

/** RFC 4443 §4.2: the Echo Reply to an Echo Request (same identifier, sequence and data); undefined for anything else. */
export function echoReply(packet: Uint8Array): Uint8Array | undefined {
  if (packet.length < IPV6_HEADER_LEN + 8 || packet[IPV6_FIELD.NEXT_HEADER] !== NEXT_HEADER.ICMPV6 || packet[IPV6_HEADER_LEN] !== ICMPV6_TYPE.ECHO_REQUEST) return undefined;
  let request;
  try {
    request = decodeIcmpv6Packet(packet);
  } catch {
    return undefined; // a bad checksum or length: the kernel ignores it
  }
  return encodeIcmpv6Packet({ src: request.header.dst, dst: request.header.src, hopLimit: REPLY_HOP_LIMIT }, { type: ICMPV6_TYPE.ECHO_REPLY, code: 0, body: request.message.body });
}

export class Ipv6Stack {
  /** Copies of every packet received, in order. */
  readonly received: Uint8Array[] = [];
  /** How the stack answers what it receives; undefined answers nothing. */
  respond: Responder | undefined;
  readonly #send: (packet: Uint8Array) => void;

  constructor(send: (packet: Uint8Array) => void, respond?: Responder) {
    this.#send = send;
    this.respond = respond;
  }

  /** A packet from this host (an application's). */
  send(packet: Uint8Array): void {
    this.#send(packet);
  }

  /** A packet for this host; `packet` is the stack's to keep. */
  receive(packet: Uint8Array): void {
    this.received.push(packet);
    const answer = this.respond?.(packet);
    if (answer !== undefined) this.#send(answer);
  }
}

/** The stack at the far end of `tun` (one end of a VirtualInternet tunPair): it receives what the other end writes. */
export function stackBehind(tun: VirtualTun, respond?: Responder): Ipv6Stack {
  const stack = new Ipv6Stack((packet) => void tun.write(packet), respond);
  tun.onBatch((b) => {
    for (let i = 0; i < b.count; i++) stack.receive(b.data.slice(b.offset(i), b.offset(i) + b.length(i)));
  });
  return stack;
}

interface Route {
  readonly prefix: Uint8Array;
  readonly length: number;
  readonly tun: VirtualTun;
}

export class NativeNetwork {
  /** Packets with no host and no route for their destination (or shorter than an IPv6 header). */
  unroutable = 0;
  readonly #inet: VirtualInternet;
  readonly #hosts = new Map<string, Ipv6Stack>();
  readonly #routes: Route[] = [];

  constructor(inet: VirtualInternet) {
    this.#inet = inet;
  }

  /**
   * A TUN device for an agent, joined to this network: what the agent writes is routed, and packets for
   * `route` (if given) are written into it. Returns the agent's end.
   */
  attach(name: string, route?: { readonly prefix: Uint8Array; readonly length: number }): VirtualTun {
    const [agent, router] = this.#inet.tunPair([name, `${name}-native`]);
    router.onBatch((b) => {
      for (let i = 0; i < b.count; i++) this.route(b.data.slice(b.offset(i), b.offset(i) + b.length(i)));
    });
    if (route !== undefined) this.#routes.push({ ...route, tun: router });
    return agent;
  }

  /** A native host at `addr` (16 bytes); by default it answers Echo Requests. */
  host(addr: Uint8Array, respond: Responder | undefined = echoReply): Ipv6Stack {
    const stack = new Ipv6Stack((packet) => this.route(packet), respond);
    this.#hosts.set(hex(addr), stack);
    return stack;
  }

  /** Delivers `packet` (kept by the receiver) to the host it is for, or into the device whose prefix is longest. */
  route(packet: Uint8Array): void {
    if (packet.length < IPV6_HEADER_LEN) return void this.unroutable++;
    const dst = packet.subarray(IPV6_FIELD.DST, IPV6_FIELD.DST + 16);
    const host = this.#hosts.get(hex(dst));
    if (host !== undefined) return host.receive(packet);
    let best: Route | undefined;
    for (const r of this.#routes) if (inPrefix(dst, r) && (best === undefined || r.length > best.length)) best = r;
    if (best === undefined) return void this.unroutable++;
    best.tun.write(packet);
  }
}

function inPrefix(addr: Uint8Array, r: Route): boolean {
  for (let bit = 0; bit < r.length; bit += 8) {
    const mask = (0xff << (8 - Math.min(8, r.length - bit))) & 0xff;
    if ((addr[bit >> 3]! & mask) !== (r.prefix[bit >> 3]! & mask)) return false;
  }
  return true;
}
