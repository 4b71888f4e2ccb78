// What `teredo-server status` reports: the one definition of the server's status object (what agent.ts
// status() returns, what the lab's occupant reads from `status --json`, what the tests check) and its
// rendering for people under the runtime's header line. The subcommand itself, --json, --instance, --timeout
// and the exit codes are the runtime's (src/runtime/status.ts).

import { formatDrops, formatIoErrors, statusTable, type RunningStatus } from '../../src/runtime/status.js';
import type { NativeForwardingMode } from './native-forwarding.js';

export const AGENT_NAME = 'teredo-server';

/** Per server address (RFC 4380 §5.3: the primary answers RSs, the secondary only sends RAs). */
export interface PerAddress {
  readonly primary: number;
  readonly secondary: number;
}

export interface TeredoServerStatus {
  /** Bound UDP endpoints, "198.18.0.10:3544". */
  readonly addresses: { readonly primary: string; readonly secondary: string };
  /** The Teredo prefix advertised, "2001:0:c612:a::/64" (RFC 4380 §4). */
  readonly prefix: string;
  readonly mtu: number;
  /** The TUN device toward the native IPv6 network, or null. */
  readonly forwardInterface: string | null;
  /** How packets for native IPv6 leave (raw socket, TUN device, or dropped; native-forwarding.ts). */
  readonly nativeForwarding: NativeForwardingMode;
  /** Whether the host has a route toward native IPv6 now; null when unknown or the mode is off. */
  readonly nativeIpv6Route: boolean | null;
  readonly forwardIcmpv6MaxPayload: number;
  readonly allowNonGlobal: boolean;
  readonly rsAnswered: PerAddress;
  readonly raSent: PerAddress;
  /** RAs that echoed an RS's nonce (RFC 4380 §5.2.1, the Nonce parameter). */
  readonly raWithNonce: number;
  readonly forwarded: { readonly teredo: number; readonly withOrigin: number; readonly native: number; readonly fromTun: number };
}

/** The human view: one line per address, then forwards and drops by reason (largest first). */
export function formatTeredoServerStatus(s: RunningStatus<TeredoServerStatus>): string[] {
  const rows: string[][] = [
    ['', 'address', 'RS answered', 'RA sent'],
    ['primary', s.addresses.primary, String(s.rsAnswered.primary), String(s.raSent.primary)],
    ['secondary', s.addresses.secondary, String(s.rsAnswered.secondary), String(s.raSent.secondary)],
  ];
  const f = s.forwarded;
  return [
    ...statusTable(rows),
    `prefix ${s.prefix}, MTU ${s.mtu}, forward interface ${s.forwardInterface ?? 'none'}, ICMPv6 forward limit ${s.forwardIcmpv6MaxPayload} bytes`,
    `RAs echoing a nonce: ${s.raWithNonce}`,
    `native IPv6 forwarding: ${s.nativeForwarding}${s.nativeIpv6Route === false ? ' (this host has no IPv6 route: such packets fail)' : ''}`,
    `forwarded: ${f.teredo} to Teredo mappings (${f.withOrigin} with origin indication), ${f.native} to native IPv6, ${f.fromTun} from native IPv6`,
    ...formatDrops(s.drops),
    ...formatIoErrors(s.ioErrors),
  ];
}
