// PortMapper (port-mapper.ts) over @achingbrain/nat-port-mapper: UPnP IGD found by SSDP, NAT-PMP sent to the
// IPv4 default gateway (RFC 6886 §3: the NAT-PMP server is the host's default gateway). The library's own
// refresh timers are off: the caller renews (agents/teredo-client/port-mapping.ts), so one place owns timing.
//
// The library's units differ by protocol: its UPnP gateway takes `ttl` in ms and asks for at least 3600 s
// (NewLeaseDuration), its NAT-PMP gateway writes `ttl` as is into the request's lifetime field (seconds).
// Its deletes are wrong in 4.0.5 (seen against miniupnpd 2.3.1, which then keeps the mapping): NAT-PMP's unmap
// asks for TCP whatever was mapped, UPnP's sends DeletePortMapping with an empty NewProtocol and drops the
// error. So NAT-PMP deletes here by mapping UDP with lifetime 0 and external port 0 (RFC 6886 §3.4), and UPnP
// through the library's SOAP runner with NewProtocol UDP.
//
// The library is imported only once a gateway answered port-mapper-probe.ts's one-datagram question (it costs
// about 30 MiB resident and 100-200 ms to load): behind a NAT without NAT-PMP or UPnP it is never loaded.

import type { Gateway } from '@achingbrain/nat-port-mapper';
import type { PortMapper, PortMappingLease, PortMappingProtocol, PortMapRequest } from './port-mapper.js';
import { defaultGateway4, localAddressToward } from './local-address.js';
import { PcpMapper } from './port-mapper-pcp.js';
import { natPmpAnswers, upnpIgdAnswers } from './port-mapper-probe.js';
import { formatIpv4, parseIpv4 } from '../wire/ipv4.js';

/** The NAT-PMP server's port on the gateway (RFC 6886 §3). */
const NATPMP_PORT = 5351;

/** What the library's UPnP gateway (InternetGatewayService) has beside the Gateway interface: its SOAP runner. */
interface SoapGateway {
  getGateway(o: { signal: AbortSignal }): Promise<{ run(service: string, action: string, args: [string, string | number][], o: { signal: AbortSignal }): Promise<unknown> }>;
}
/** The IGDv2 service the library maps through (AddAnyPortMapping). */
const WAN_IP_CONNECTION_2 = 'urn:schemas-upnp-org:service:WANIPConnection:2';

/** The library's UPnP gateway asks for at least this lease, seconds. */
const UPNP_MIN_LEASE_SEC = 3600;
const DESCRIPTION = 'teredo-client (RFC 4380 Teredo port)';

/** Our address toward the gateway: the one the mapping forwards to (local-address.ts; NAT-PMP's port). */
async function internalAddress(gateway: string): Promise<string> {
  const a = await localAddressToward(parseIpv4(gateway), NATPMP_PORT);
  if (a === 0) throw new Error(`no route to the gateway ${gateway}`);
  return formatIpv4(a);
}

function lease(protocol: PortMappingProtocol, m: { externalHost: string; externalPort: number; internalHost: string; internalPort: number }, lifetimeSec: number): PortMappingLease {
  return { protocol, externalAddress: m.externalHost, externalPort: m.externalPort, internalAddress: m.internalHost, internalPort: m.internalPort, lifetimeSec };
}

/** NAT-PMP toward the default gateway (found at the first map). */
class NatPmpMapper implements PortMapper {
  readonly protocol = 'nat-pmp';
  #gateway: Gateway | undefined;

  async map(req: PortMapRequest): Promise<PortMappingLease> {
    if (this.#gateway === undefined) {
      const gw = await defaultGateway4();
      if (gw === undefined) throw new Error('NAT-PMP: no IPv4 default gateway to ask');
      if (!(await natPmpAnswers(gw, req.signal))) throw new Error(`NAT-PMP: the gateway ${gw} did not answer`);
      const { pmpNat } = await import('@achingbrain/nat-port-mapper');
      this.#gateway = pmpNat(gw, { autoRefresh: false });
    }
    const internal = await internalAddress(this.#gateway.host);
    const m = await this.#gateway.map(req.internalPort, internal, { protocol: 'udp', externalPort: req.internalPort, ttl: req.lifetimeSec, autoRefresh: false, description: DESCRIPTION, signal: req.signal });
    return lease('nat-pmp', m, req.lifetimeSec);
  }

  async unmap(l: PortMappingLease, signal: AbortSignal): Promise<void> {
    await this.#gateway?.map(l.internalPort, l.internalAddress, { protocol: 'udp', externalPort: 0, ttl: 0, autoRefresh: false, signal });
  }

  async close(): Promise<void> {
    await this.#gateway?.stop();
  }
}

/** UPnP IGD: the first gateway SSDP finds (at the first map). */
class UpnpMapper implements PortMapper {
  readonly protocol = 'upnp';
  #gateway: Gateway | undefined;

  async map(req: PortMapRequest): Promise<PortMappingLease> {
    if (this.#gateway === undefined) {
      if (!(await upnpIgdAnswers(req.signal))) throw new Error('UPnP: no Internet Gateway Device answered the SSDP search');
      const { upnpNat } = await import('@achingbrain/nat-port-mapper');
      try {
        for await (const gw of upnpNat({ autoRefresh: false }).findGateways({ signal: req.signal })) {
          if (gw.family !== 'IPv4') continue;
          this.#gateway = gw;
          break;
        }
      } catch (err) {
        // The search ends by the abort when nothing answers; other errors are the library's to tell.
        if (!req.signal.aborted) throw err;
      }
      if (this.#gateway === undefined) throw new Error('UPnP: no Internet Gateway Device answered the SSDP search');
    }
    const internal = await internalAddress(this.#gateway.host);
    const lifetimeSec = Math.max(req.lifetimeSec, UPNP_MIN_LEASE_SEC);
    const m = await this.#gateway.map(req.internalPort, internal, { protocol: 'udp', externalPort: req.internalPort, ttl: lifetimeSec * 1000, autoRefresh: false, description: DESCRIPTION, signal: req.signal });
    return lease('upnp', m, lifetimeSec);
  }

  async unmap(l: PortMappingLease, signal: AbortSignal): Promise<void> {
    const gw = this.#gateway as (Gateway & Partial<SoapGateway>) | undefined;
    if (gw === undefined) return;
    if (typeof gw.getGateway !== 'function') throw new Error('UPnP: this library version has no SOAP runner to delete with');
    const device = await gw.getGateway({ signal });
    await device.run(WAN_IP_CONNECTION_2, 'DeletePortMapping', [['NewRemoteHost', ''], ['NewExternalPort', l.externalPort], ['NewProtocol', 'UDP']], { signal });
    // The library forgets it too (its own delete fails silently, as above).
    await gw.unmap(l.internalPort, { signal });
  }

  async close(): Promise<void> {
    // Deletes what the library still remembers (nothing after a successful unmap) and closes its socket.
    await this.#gateway?.stop({ signal: AbortSignal.timeout(1000) }).catch(() => undefined);
  }
}

/** The PortMapperFactory: the library for UPnP and NAT-PMP, our own PCP client (port-mapper-pcp.ts). */
export function natPortMapper(protocol: PortMappingProtocol): PortMapper {
  return protocol === 'nat-pmp' ? new NatPmpMapper() : protocol === 'pcp' ? new PcpMapper() : new UpnpMapper();
}
