// A PortMapper (src/io/port-mapper.ts) for unit tests: a gateway per protocol that grants, refuses, or never
// answers (until the request's signal aborts), and records every map and unmap. Nothing leaves the process.

import type { PortMapper, PortMapperFactory, PortMappingLease, PortMappingProtocol, PortMapRequest } from '../../src/io/port-mapper.js';

export type FakeGatewayBehaviour = 'grant' | 'refuse' | 'silent';

export interface FakeGateway {
  behaviour: FakeGatewayBehaviour;
  /** The outside address it reports. */
  externalAddress: string;
  readonly maps: PortMapRequest[];
  readonly unmaps: PortMappingLease[];
  /** Mappers created and not closed. */
  open: number;
}

export function fakeGateway(behaviour: FakeGatewayBehaviour, externalAddress = '198.18.0.121'): FakeGateway {
  return { behaviour, externalAddress, maps: [], unmaps: [], open: 0 };
}

function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('timed out')), { once: true }));
}

class FakePortMapper implements PortMapper {
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
    return { protocol: this.protocol, externalAddress: this.gw.externalAddress, externalPort: req.internalPort, internalAddress: '192.168.21.2', internalPort: req.internalPort, lifetimeSec: req.lifetimeSec };
  }

  async unmap(lease: PortMappingLease): Promise<void> {
    this.gw.unmaps.push(lease);
  }

  async close(): Promise<void> {
    this.gw.open--;
  }
}

/** A factory over one fake gateway per protocol (a protocol left out is refused). */
export function fakePortMapper(gateways: Partial<Record<PortMappingProtocol, FakeGateway>>): PortMapperFactory {
  return (protocol) => new FakePortMapper(protocol, gateways[protocol] ?? fakeGateway('refuse'));
}
