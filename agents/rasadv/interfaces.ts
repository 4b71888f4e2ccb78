// Turns `--interface NAME|IPv4` into the IPv4 address the sockets need: Node's dgram selects a multicast
// interface (IP_MULTICAST_IF) and joins a group (IP_ADD_MEMBERSHIP) by the interface's IPv4 address only, so
// a name is resolved with os.networkInterfaces() once, at start.

import { networkInterfaces } from 'node:os';
import type { NetworkInterfaceInfo } from 'node:os';
import { AgentError } from '../../src/runtime/errors.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';

export interface ResolvedInterface {
  /** What the user wrote: the label logs and the advertiser engine use. */
  readonly spec: string;
  /** The interface holding the address (undefined only if the address is not found, which resolve refuses). */
  readonly name: string;
  /** Dotted quad. */
  readonly address: string;
  /** As an int32 (src/wire/ipv4.ts). */
  readonly addr: number;
}

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

const IPV4_LITERAL = /^\d{1,3}(\.\d{1,3}){3}$/;

const ipv4Of = (infos: readonly NetworkInterfaceInfo[] | undefined): NetworkInterfaceInfo[] => (infos ?? []).filter((i) => i.family === 'IPv4');

/**
 * A name picks the interface's first IPv4 address; an address must belong to an interface of this host
 * (a foreign address would only fail later, at the first send, with EADDRNOTAVAIL).
 */
export function resolveInterface(spec: string, table: InterfaceTable = networkInterfaces()): ResolvedInterface {
  if (IPV4_LITERAL.test(spec)) {
    let addr: number;
    try {
      addr = parseIpv4(spec);
    } catch {
      throw new AgentError('IO_INTERFACE', `--interface ${spec}: not a valid IPv4 address`);
    }
    for (const [name, infos] of Object.entries(table)) {
      if (ipv4Of(infos).some((i) => i.address === spec)) return { spec, name, address: spec, addr };
    }
    throw new AgentError('IO_INTERFACE', `--interface ${spec}: no interface of this host has that address`);
  }
  const infos = table[spec];
  if (infos === undefined) {
    const known = Object.keys(table).join(', ');
    throw new AgentError('IO_INTERFACE', `--interface ${spec}: no such interface (this host has: ${known || 'none'})`);
  }
  const first = ipv4Of(infos)[0];
  if (first === undefined) throw new AgentError('IO_INTERFACE', `--interface ${spec}: the interface has no IPv4 address`);
  return { spec, name: spec, address: first.address, addr: parseIpv4(first.address) };
}

/** Resolves every spec; two specs naming the same address are refused (they would double every datagram). */
export function resolveInterfaces(specs: readonly string[], table: InterfaceTable = networkInterfaces()): ResolvedInterface[] {
  const out: ResolvedInterface[] = [];
  for (const spec of specs) {
    const r = resolveInterface(spec, table);
    const dup = out.find((o) => o.address === r.address);
    if (dup) throw new AgentError('IO_INTERFACE', `--interface ${spec} and --interface ${dup.spec} are the same address ${r.address}`);
    out.push(r);
  }
  return out;
}

/** The listener's default: every non-loopback interface with an IPv4 address (first address of each). */
export function allIpv4Interfaces(table: InterfaceTable = networkInterfaces()): ResolvedInterface[] {
  const out: ResolvedInterface[] = [];
  for (const [name, infos] of Object.entries(table)) {
    const first = ipv4Of(infos).find((i) => !i.internal);
    if (first) out.push({ spec: name, name, address: first.address, addr: parseIpv4(first.address) });
  }
  return out;
}
