// Port mapping on the NAT in front of this host: ask the home gateway to forward an outside UDP port to a local
// one, through UPnP IGD (WANIPConnection AddPortMapping / DeletePortMapping), NAT-PMP (RFC 6886 §3.3) or PCP
// (RFC 6887 §11). This is the interface the Teredo client's mapping manager uses
// (agents/teredo-client/port-mapping.ts); the implementations: over @achingbrain/nat-port-mapper
// port-mapper-nat.ts (UPnP, NAT-PMP), our own port-mapper-pcp.ts (PCP); the unit tests' fake test/fakes/.

export type PortMappingProtocol = 'upnp' | 'nat-pmp' | 'pcp';

/** A mapping the gateway granted: outside externalAddress:externalPort (UDP) → internalAddress:internalPort. */
export interface PortMappingLease {
  readonly protocol: PortMappingProtocol;
  /** Dotted IPv4, as the gateway reports its outside address. */
  readonly externalAddress: string;
  readonly externalPort: number;
  readonly internalAddress: string;
  readonly internalPort: number;
  /** Seconds the gateway keeps it without a renewal (what it granted; UPnP IGDs grant at least one hour here). */
  readonly lifetimeSec: number;
}

export interface PortMapRequest {
  /** The local UDP port to forward to; the outside port asked for is the same (a NAT that keeps source ports then uses it outbound too). */
  readonly internalPort: number;
  /** Seconds asked for. */
  readonly lifetimeSec: number;
  /** Aborts the exchange (a bounded wait at start; stop). */
  readonly signal: AbortSignal;
}

/**
 * One way of asking one gateway. `map` also renews (asking again for the same ports extends the lease: RFC 6886
 * §3.3, UPnP IGD AddPortMapping on an existing entry, RFC 6887 §11.2.1). Every method rejects with an Error whose message says
 * why (no gateway answered, the gateway refused, aborted); none throws synchronously.
 */
export interface PortMapper {
  readonly protocol: PortMappingProtocol;
  map(req: PortMapRequest): Promise<PortMappingLease>;
  /** Deletes the mapping `lease` describes. */
  unmap(lease: PortMappingLease, signal: AbortSignal): Promise<void>;
  /**
   * PCP only (RFC 6887 §8.5, §14.1.3): after the first map, calls `onRestart` whenever the gateway shows that it
   * lost its state, and with it the mapping; the caller maps again. Rejects when the gateway's announcements
   * cannot be listened for (its answers still tell then). Absent where the protocol has no such signal.
   */
  watchRestart?(onRestart: () => void): Promise<void>;
  /** Frees sockets; the mapper is not used afterwards. */
  close(): Promise<void>;
}

/** Creates the mapper for a protocol (port-mapper-nat.ts, or a fake in tests). */
export type PortMapperFactory = (protocol: PortMappingProtocol) => PortMapper;
