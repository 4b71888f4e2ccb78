// A PortMapper (src/io/port-mapper.ts) for unit tests: a gateway per protocol that grants, refuses, never
// answers (until the request's signal aborts), or holds its grant until the test releases it; it records every
// map and unmap, and can tell the mappers watching it that it lost its state (as PCP's ANNOUNCE does). Nothing
// leaves the process.

import type { PortMapper, PortMapperFactory, PortMappingLease, PortMappingProtocol, PortMapRequest } from '../../src/io/port-mapper.js';

export type FakeGatewayBehaviour = 'grant' | 'refuse' | 'silent' | 'hold';

export interface FakeGateway {
  behaviour: FakeGatewayBehaviour;
  /** The outside address it reports. */
  externalAddress: string;
  readonly maps: PortMapRequest[];
  readonly unmaps: PortMappingLease[];
  /** Mappers created and not closed. */
  open: number;
  /** 'hold': the map requests waiting for release. */
  readonly held: (() => void)[];
  /** 'hold': grants every map request waiting so far. */
  release(): void;
  /** The watchRestart callbacks of the open mappers. */
  readonly watchers: Set<() => void>;
  /** Tells every watching mapper's caller that the gateway lost its state (RFC 6887 §14.1.3 ANNOUNCE). */
  restart(): void;
}

export function fakeGateway(behaviour: FakeGatewayBehaviour, externalAddress = '198.18.0.121'): FakeGateway {
  const held: (() => void)[] = [];
  const watchers = new Set<() => void>();
  return {
    behaviour,
    externalAddress,
    maps: [],
    unmaps: [],
    open: 0,
    held,
    release: () => held.splice(0).forEach((f) => f()),
    watchers,
    restart: () => watchers.forEach((f) => f()),
  };
}

function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('timed out')), { once: true }));
}

class FakePortMapper implements PortMapper {
  #watcher: (() => void) | undefined;

  constructor(
    readonly protocol: PortMappingProtocol,
    readonly gw: FakeGateway,
  ) {
    gw.open++;
  }

  async map(req: PortMapRequest): Promise<PortMappingLease> {
    this.gw.maps.push(req);
    if (this.gw.behaviour === 'silent') return whenAborted(req.signal);
    if (this.gw.behaviour === 'refuse') throw new Error('Not Authorized/Refused');
    if (this.gw.behaviour === 'hold') await new Promise<void>((resolve) => this.gw.held.push(resolve));
    return { protocol: this.protocol, externalAddress: this.gw.externalAddress, externalPort: req.internalPort, internalAddress: '192.168.21.2', internalPort: req.internalPort, lifetimeSec: req.lifetimeSec };
  }

  async unmap(lease: PortMappingLease): Promise<void> {
    this.gw.unmaps.push(lease);
  }

  async watchRestart(onRestart: () => void): Promise<void> {
    this.#watcher = onRestart;
    this.gw.watchers.add(onRestart);
  }

  async close(): Promise<void> {
    this.gw.open--;
    if (this.#watcher) this.gw.watchers.delete(this.#watcher);
  }
}

/** A factory over one fake gateway per protocol (a protocol left out is refused). */
export function fakePortMapper(gateways: Partial<Record<PortMappingProtocol, FakeGateway>>): PortMapperFactory {
  return (protocol) => new FakePortMapper(protocol, gateways[protocol] ?? fakeGateway('refuse'));
}
