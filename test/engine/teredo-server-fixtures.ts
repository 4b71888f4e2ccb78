// Shared packets for the Teredo server engine tests: the lab's addresses, and builders for RSs (with the nonce
// of the Miredo capture, test/fakes/miredo-captures.ts), bubbles and echoes wrapped in Teredo UDP payloads.

import { TeredoServer } from '../../src/engine/teredo/server/server.js';
import { SERVER_DROP_REASONS, SERVER_SOCKET, type ServerDropReason, type ServerSink, type ServerSocket, type TeredoServerParams } from '../../src/engine/teredo/server/server-types.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';
import { echoMessage, encodeIcmpv6Packet, ICMPV6_TYPE } from '../../src/wire/icmpv6.js';
import { encodeIpv6, NEXT_HEADER } from '../../src/wire/ipv6.js';
import { ALL_ROUTERS } from '../../src/wire/ipv6-address.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { encodeNdiscPacket } from '../../src/wire/ndisc.js';
import type { NdiscOption } from '../../src/wire/ndisc-options.js';
import { encodeTeredoAddress, TEREDO_CLIENT_LINK_LOCAL } from '../../src/wire/teredo-address.js';
import { encodeTeredoPayload, type TeredoAuth } from '../../src/wire/teredo-packet.js';
import { MIREDO_NONCE } from '../fakes/miredo-captures.js';

export const PRIMARY = parseIpv4('198.18.0.10');
export const SECONDARY = parseIpv4('198.18.0.11');
/** The port-restricted NAT's public side in the capture, and the client's mapped port there. */
export const CLIENT: Endpoint4 = { addr: parseIpv4('198.18.0.101'), port: 56287 };
export const OTHER_CLIENT: Endpoint4 = { addr: parseIpv4('198.18.0.103'), port: 3545 };
export const RELAY: Endpoint4 = { addr: parseIpv4('198.18.0.20'), port: 58273 };

export function server(params: Partial<TeredoServerParams> = {}): TeredoServer {
  return new TeredoServer({ primary: PRIMARY, secondary: SECONDARY, ...params });
}

/** A Router Advertisement answering a Router Solicitation (§5.3.2), as the tests see it. */
export interface RaOutput {
  readonly kind: 'send-udp';
  readonly purpose: 'ra';
  readonly via: ServerSocket;
  readonly to: Endpoint4;
  readonly bytes: Uint8Array;
  /** The socket the RS arrived on (`via` differs from it when the RS carried the cone bit). */
  readonly receivedOn: ServerSocket;
  /** True when the RA echoes an authentication nonce. */
  readonly nonce: boolean;
}

/** A packet re-encapsulated toward the mapping embedded in a Teredo destination. */
export interface ForwardOutput {
  readonly kind: 'send-udp';
  readonly purpose: 'forward';
  readonly via: ServerSocket;
  readonly to: Endpoint4;
  readonly bytes: Uint8Array;
  /** True when an origin indication was inserted (the destination is a client of this server). */
  readonly origin: boolean;
  /** True when the packet came from the TUN device (native IPv6) rather than over UDP. */
  readonly fromTun: boolean;
}

export type ServerOutput = RaOutput | ForwardOutput | { readonly kind: 'write-native'; readonly bytes: Uint8Array } | { readonly kind: 'drop'; readonly reason: ServerDropReason };

const SOCKET_NAMES: readonly ServerSocket[] = ['primary', 'secondary'];

/**
 * Runs one engine call with a recording sink and returns its single output, rebuilt as an object: the purpose
 * and flags come from the engine's counters (an RA counted, an origin counted), so they are checked too. The
 * input is lent as the ports lend it: copied at an odd offset into a larger buffer that is overwritten after
 * the call, so an engine that keeps a view, or ignores the offset, fails.
 */
function once(engine: TeredoServer, bytes: Uint8Array, call: (data: Uint8Array, offset: number, sink: ServerSink) => void, receivedOn: ServerSocket, fromTun: boolean): ServerOutput {
  const out: ServerOutput[] = [];
  const before = { ...engine.counters };
  const sink: ServerSink = {
    drop: (reason) => void out.push({ kind: 'drop', reason: SERVER_DROP_REASONS[reason]! }),
    writeNative: (data, offset, length) => void out.push({ kind: 'write-native', bytes: data.slice(offset, offset + length) }),
    sendUdp: (socket, data, offset, length, addr, port) => {
      const c = engine.counters;
      const common = { kind: 'send-udp', via: SOCKET_NAMES[socket]!, to: { addr, port }, bytes: data.slice(offset, offset + length) } as const;
      if (c.raPrimary + c.raSecondary > before.raPrimary + before.raSecondary) out.push({ ...common, purpose: 'ra', receivedOn, nonce: c.raWithNonce > before.raWithNonce });
      else out.push({ ...common, purpose: 'forward', origin: c.withOrigin > before.withOrigin, fromTun });
    },
  };
  const lent = new Uint8Array(bytes.length + 11).fill(0xee);
  lent.set(bytes, 5);
  call(lent, 5, sink);
  lent.fill(0xdd);
  if (out.length !== 1) throw new Error(`expected one output, got ${out.length}`);
  return out[0]!;
}

/** Feeds one UDP datagram (on the primary socket unless said otherwise) and returns the single output. */
export function udp(engine: TeredoServer, bytes: Uint8Array, from: Endpoint4 = CLIENT, local: ServerSocket = 'primary'): ServerOutput {
  return once(engine, bytes, (data, offset, sink) => engine.datagram(SERVER_SOCKET[local], data, offset, bytes.length, from.addr, from.port, 0, sink), local, false);
}

export function tun(engine: TeredoServer, bytes: Uint8Array): ServerOutput {
  return once(engine, bytes, (data, offset, sink) => engine.tun(data, offset, bytes.length, 0, sink), 'primary', true);
}

export function authWithNonce(nonce: Uint8Array = MIREDO_NONCE): TeredoAuth {
  return { clientId: new Uint8Array(0), authValue: new Uint8Array(0), nonce, confirmation: 0 };
}

export interface RsOptions {
  readonly src?: Uint8Array;
  readonly dst?: Uint8Array;
  readonly hopLimit?: number;
  readonly options?: NdiscOption[];
  readonly auth?: TeredoAuth | null;
}

/** A Teredo UDP payload carrying an RS (by default Vista's: bare, from fe80::ffff:ffff:ffff, with a nonce). */
export function rsDatagram(o: RsOptions = {}): Uint8Array {
  const ipv6 = encodeNdiscPacket({ src: o.src ?? TEREDO_CLIENT_LINK_LOCAL, dst: o.dst ?? ALL_ROUTERS, hopLimit: o.hopLimit ?? 255 }, { kind: 'router-solicit', options: o.options ?? [] });
  return encodeTeredoPayload({ auth: o.auth === null ? undefined : (o.auth ?? authWithNonce()), ipv6 });
}

/** The Teredo address a client behind `mapping` gets from `serverAddr` (flags 0). */
export function teredoAddr(mapping: Endpoint4, serverAddr: number = PRIMARY, flags = 0): Uint8Array {
  return encodeTeredoAddress({ server: serverAddr, flags, mappedPort: mapping.port, mappedAddr: mapping.addr });
}

/** A bubble (§2.8): IPv6 header only, Next Header 59, payload length 0. */
export function bubble(src: Uint8Array, dst: Uint8Array): Uint8Array {
  return encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 0, src, dst }, new Uint8Array(0));
}

/** An ICMPv6 Echo Request whose IPv6 payload is 8 + dataLength bytes. */
export function echo(src: Uint8Array, dst: Uint8Array, dataLength: number, type: 128 | 129 = ICMPV6_TYPE.ECHO_REQUEST): Uint8Array {
  const data = new Uint8Array(dataLength).map((_, i) => i & 0xff);
  return encodeIcmpv6Packet({ src, dst, hopLimit: 64 }, echoMessage(type, { id: 0x1234, seq: 1, data }));
}

/** A Teredo UDP payload around `ipv6`, with optional headers and trailer. */
export function datagram(ipv6: Uint8Array, extra: { auth?: TeredoAuth; origin?: Endpoint4; trailer?: Uint8Array } = {}): Uint8Array {
  return encodeTeredoPayload({ ...extra, ipv6 });
}
