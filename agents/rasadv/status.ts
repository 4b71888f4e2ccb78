// What `rasadv advertise status` and `rasadv listen status` report: the one definition of each mode's status
// object (what advertise.ts / listen.ts return, what the lab's occupants read from `status --json`, what the
// tests check) and its rendering for people under the runtime's header line (src/runtime/status.ts).

import { formatDrops, formatIoErrors, statusTable, type RunningStatus } from '../../src/runtime/status.js';
import type { ListenerCounts, ServerJson } from './format.js';
import type { ReverseDnsStats } from './reverse-dns.js';

/** One egress interface of the advertiser. */
export interface AdvertiseIfaceStatus {
  /** The --interface spec as given, or "default" for the single socket without --interface. */
  readonly iface: string;
  readonly address: string | null;
  readonly sent: number;
  readonly lastSentSecAgo: number | null;
  readonly nextInSec: number;
}

export interface AdvertiseStatus {
  readonly mode: 'advertise';
  readonly hostname: string;
  readonly domain: string | null;
  /** The datagram payload ([MS-RASA] §2.2.1), hex. */
  readonly payload: string;
  readonly interfaces: readonly AdvertiseIfaceStatus[];
}

/** The listener's counters (drops by reason are the host's `drops`), its table and reverse DNS. */
export interface ListenStatus extends Omit<ListenerCounts, 'dropped'> {
  readonly mode: 'listen';
  /** The table, least recently heard first. */
  readonly list: readonly ServerJson[];
  /** True once a server not on --allow was heard (always, without --allow). */
  readonly unknownHeard: boolean;
  /** Null with --no-resolve. */
  readonly reverseDns: ReverseDnsStats | null;
}

const ago = (sec: number | null): string => (sec === null ? 'never' : `${sec} s ago`);

/** One line per interface: sent, last sent, next; then the sends refused (i/o errors by interface). */
export function formatAdvertiseStatus(s: RunningStatus<AdvertiseStatus>): string[] {
  const rows = [['interface', 'address', 'last sent', 'next in', 'sent'], ...s.interfaces.map((i) => [i.iface, i.address ?? '-', ago(i.lastSentSecAgo), `${i.nextInSec} s`, String(i.sent)])];
  return [`advertising Hostname=${s.hostname}${s.domain === null ? '' : ` Domain=${s.domain}`} to 239.255.2.2:9753`, ...statusTable(rows), ...formatIoErrors(s.ioErrors)];
}

/** The counters, then the table of servers like `netsh ras show activeservers`, then the drops by reason. */
export function formatListenStatus(s: RunningStatus<ListenStatus>): string[] {
  const lines = [
    `received ${s.received}, accepted ${s.accepted}; ${s.servers} server${s.servers === 1 ? '' : 's'} listed, ${s.stale} stale, ${s.unknown} unknown`,
  ];
  if (s.list.length > 0) {
    const rows = [
      ['sender', 'host name', 'on --allow', 'state', 'last seen', 'heard'],
      ...s.list.map((x) => [`${x.sender}${x.dnsName ? ` (${x.dnsName})` : ''}`, x.domain === undefined ? x.hostname : `${x.hostname}.${x.domain}`, x.known ? 'yes' : 'UNKNOWN', x.stale ? 'stale' : 'fresh', x.lastSeen, String(x.count)]),
    ];
    lines.push(...statusTable(rows));
  }
  lines.push(...formatDrops(s.drops), ...formatIoErrors(s.ioErrors));
  if (s.reverseDns) {
    const r = s.reverseDns;
    lines.push(`reverse DNS: ${r.lookups} lookups, ${r.found} found, ${r.failed} failed, ${r.timedOut} timed out, ${r.cached} cached`);
  }
  return lines;
}
