// `teredo-client status [--json]` (the runtime's status subcommand, src/runtime/status.ts) prints its header line,
// then what Windows' `netsh interface teredo show state` prints (Type, Server Name, Client Refresh Interval,
// Client Port, State, NAT, Local Mapping, External NAT Mapping), plus the Teredo address, peers, what cannot work
// from here, and the drop counters. The client's own `state` (offline, probe-primary, probe-secondary, qualified)
// is a field of its status object, apart from the runtime's `lifecycle`.

import { formatDrops, formatIoErrors, type RunningStatus } from '../../src/runtime/status.js';
import type { ClientStatusJson } from './status-data.js';
import type { PortMappingStatus } from './port-mapping.js';

export const AGENT_NAME = 'teredo-client';

/** What the client's status() returns beside the runtime's fields (drops, ioErrors, driver: the host's). */
export type ClientStatus = ClientStatusJson & {
  readonly peers: { readonly count: number; readonly trusted: number; readonly max: number };
  readonly hook: { command: string; runs: number; failures: number } | null;
  /** The NAT's mapping of the Teredo port (--port-mapping; port-mapping.ts). */
  readonly portMapping: PortMappingStatus;
};

const STATE_TEXT: Readonly<Record<string, string>> = {
  offline: 'offline',
  'probe-primary': 'probe (primary server)',
  'probe-secondary': 'probe (secondary server)',
  qualified: 'qualified',
};

/** The netsh layout: "Name : value" with the names padded to one column (the runtime prints the header line). */
export function formatClientStatus(s: RunningStatus<ClientStatus>): string[] {
  const rows: [string, string][] = [
    ['Type', s.type ?? 'client'],
    ['Server Name', `${s.server ?? '?'}${s.serverAddress && s.serverAddress !== s.server ? ` (${s.serverAddress})` : ''}, secondary ${s.secondaryServerAddress ?? '?'}`],
    ['Client Refresh Interval', `${s.refreshIntervalSec ?? '?'} seconds`],
    ['Client Port', String(s.clientPort ?? 'unspecified')],
    ['State', STATE_TEXT[s.state ?? ''] ?? String(s.state)],
    ['Client Type', 'teredo client'],
    ['NAT', s.nat === 'unknown' ? '(unknown)' : String(s.nat)],
    ['Local Mapping', s.localMapping ?? '?'],
    ['External NAT Mapping', `${s.externalNatMapping ?? '-'}${s.mappedBy === 'gateway' ? " (the gateway's port mapping, RFC 6081 §5.3)" : ''}`],
    ['Teredo Address', s.address ?? '-'],
    ['Interface', `${s.interface ?? '?'}, MTU ${s.mtu ?? '?'}${s.defaultRoute ? ', default route' : ''}`],
  ];
  const mapping = s.mapping ? mappingText(s.mapping) : '';
  if (mapping !== '') rows.splice(7, 0, ['NAT Mapping', mapping]);
  if (s.qualificationMs !== null && s.qualificationMs !== undefined) rows.push(['Qualified In', `${s.qualificationMs} ms (${s.qualification ?? '?'}), server RTT ${s.rttMs ?? '?'} ms`]);
  if ((s.servers?.length ?? 0) > 1) rows.push(['Servers', s.servers!.map((x) => `${x.address}${x.inUse ? ' (in use)' : ''}`).join(', ')]);
  if (s.error) rows.push(['Error', `${s.errorCode ? `[${s.errorCode}] ` : ''}${s.error}${s.retryInSec !== null && s.retryInSec !== undefined ? `; retrying in ${s.retryInSec} s` : ''}`]);
  if (s.portMapping) rows.push(['Port Mapping', portMappingText(s.portMapping)]);
  if (s.peers) rows.push(['Peers', `${s.peers.count} (${s.peers.trusted} trusted, at most ${s.peers.max})`]);
  if (s.hook) rows.push(['Hook', `${s.hook.command} (${s.hook.runs} runs, ${s.hook.failures} failed)`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(width)} : ${v}`);
  for (const l of s.limitations ?? []) lines.push(`  cannot: ${l}`);
  return [...lines, ...formatDrops(s.drops), ...formatIoErrors(s.ioErrors)];
}

/** "nat-pmp 198.18.0.121:3544 -> port 3544, 3541 s left" or why there is none. */
function portMappingText(p: PortMappingStatus): string {
  if (p.state === 'off') return 'off';
  if (p.state === 'pending') return `asking (${p.mode})`;
  if (p.state === 'none') return `none (${p.error ?? 'no gateway answered'})`;
  return `${p.protocol} ${p.externalAddress}:${p.externalPort} -> port ${p.internalPort}, ${p.lifetimeLeftSec} s left${p.renewals > 0 ? `, renewed ${p.renewals}x` : ''}${p.recreations > 0 ? `, re-created ${p.recreations}x after gateway restarts` : ''}`;
}

/** "endpoint-independent, port-preserving" and the like (RFC 4787 terms); '' when nothing was observed. */
export function mappingText(m: ClientStatusJson['mapping']): string {
  const parts: string[] = [];
  if (m.endpointIndependent !== null) parts.push(m.endpointIndependent ? 'endpoint-independent' : 'endpoint-dependent');
  if (m.portPreserving !== null) parts.push(m.portPreserving ? 'port-preserving' : 'port not preserved');
  if (m.allocation !== null) parts.push(`${m.allocation} ports${m.portDelta !== null ? ` (+${m.portDelta})` : ''}`);
  return parts.join(', ');
}
