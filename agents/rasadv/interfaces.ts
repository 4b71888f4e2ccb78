// Turns `--interface NAME|IPv4` into the IPv4 address the sockets need: a UDP socket selects a multicast
// interface (IP_MULTICAST_IF) and joins a group (IP_ADD_MEMBERSHIP) by the interface's IPv4 address only, so
// a name is resolved once, at start, from the host's interfaces (src/io/linux-host.ts).

import { linuxHost, type HostFacts, type HostInterface } from '../../src/io/linux-host.js';
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

/** Where the interfaces are read; the fake host in tests. */
export type InterfaceTable = Pick<HostFacts, 'interfaces'>;

const IPV4_LITERAL = /^\d{1,3}(\.\d{1,3}){3}$/;

const resolved = (spec: string, nic: HostInterface, a: HostInterface['ipv4'][number]): ResolvedInterface => ({ spec, name: nic.name, address: a.text, addr: a.address });

/**
 * A name picks the interface's first IPv4 address; an address must belong to an interface of this host
 * (a foreign address would only fail later, at the first send, with EADDRNOTAVAIL).
 */
export function resolveInterface(spec: string, host: InterfaceTable = linuxHost): ResolvedInterface {
  const nics = host.interfaces();
  if (IPV4_LITERAL.test(spec)) {
    try {
      parseIpv4(spec);
    } catch {
      throw new AgentError('IO_INTERFACE', `--interface ${spec}: not a valid IPv4 address`);
    }
    for (const nic of nics) {
      const a = nic.ipv4.find((x) => x.text === spec);
      if (a) return resolved(spec, nic, a);
    }
    throw new AgentError('IO_INTERFACE', `--interface ${spec}: no interface of this host has that address`);
  }
  const nic = nics.find((n) => n.name === spec);
  if (nic === undefined) {
    const known = nics.map((n) => n.name).join(', ');
    throw new AgentError('IO_INTERFACE', `--interface ${spec}: no such interface (this host has: ${known || 'none'})`);
  }
  const first = nic.ipv4[0];
  if (first === undefined) throw new AgentError('IO_INTERFACE', `--interface ${spec}: the interface has no IPv4 address`);
  return resolved(spec, nic, first);
}

/** Resolves every spec; two specs naming the same address are refused (they would double every datagram). */
export function resolveInterfaces(specs: readonly string[], host: InterfaceTable = linuxHost): ResolvedInterface[] {
  const out: ResolvedInterface[] = [];
  for (const spec of specs) {
    const r = resolveInterface(spec, host);
    const dup = out.find((o) => o.address === r.address);
    if (dup) throw new AgentError('IO_INTERFACE', `--interface ${spec} and --interface ${dup.spec} are the same address ${r.address}`);
    out.push(r);
  }
  return out;
}

/** The listener's default: every non-loopback interface with an IPv4 address (first address of each). */
export function allIpv4Interfaces(host: InterfaceTable = linuxHost): ResolvedInterface[] {
  return host
    .interfaces()
    .filter((n) => !n.loopback && n.ipv4.length > 0)
    .map((n) => resolved(n.name, n, n.ipv4[0]!));
}
