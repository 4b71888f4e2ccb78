// What `rasadv listen` prints on stdout. Text mode copies `netsh ras show activeservers` (the Windows
// listener, [MS-RASA] product note <2>), as shown in the seed:
//
//   Timestamp                 Sender
//   ------------------------  ----------------------------------
//   Tue Dec 10 18:36:49 2002  192.105.90.102 (thepcsdnsname.example.com)
//      Hostname=thepcsname
//
// one block per advertisement heard, each line of the message indented by three spaces; the sender's reverse
// DNS name, when known (reverse-dns.ts), follows its address in parentheses as netsh shows it. Two additions, on the
// Sender line only so the block stays parseable the netsh way: "UNKNOWN" when an --allow list is in force and
// the server is not on it, and "stale (...)" when a server has not been heard for the stale time.
// JSON mode (--json) writes one object per line instead: {"event":"advertisement"|"stale"|"summary", ...}.

import { formatIpv4 } from '../../src/wire/ipv4.js';
import type { ServerEntry } from '../../src/engine/rasadv/listener.js';
import type { Millis } from '../../src/engine/types.js';
import type { RasAdvDeviation, RasAdvField } from '../../src/wire/rasadv.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

/** C ctime()/asctime() layout in local time, as netsh prints it: "Tue Dec 10 18:36:49 2002". */
export function formatCtime(d: Date): string {
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

export const NETSH_HEADER = 'Timestamp                 Sender\n------------------------  ----------------------------------\n';

/** Maps the driver's monotonic milliseconds to wall-clock dates for display. */
export type WallClock = (mono: Millis) => Date;

/**
 * The decoder already refused C0 controls except TAB; C1 controls (U+0080..U+009F, reachable through UTF-8)
 * can still drive some terminals, so text mode shows them, and TAB, as \u escapes.
 */
const printable = (s: string): string => s.replace(/[\t\u0080-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** One netsh-style block; `at` is when the event happened (the advertisement arrived, or the server went stale). */
export function textBlock(server: ServerEntry, at: Date, wall: WallClock, opts: { allowList: boolean; stale?: boolean; dnsName?: string | null | undefined }): string {
  let sender = formatIpv4(server.sender);
  if (opts.dnsName) sender += ` (${printable(opts.dnsName)})`;
  if (opts.allowList && !server.known) sender += '  UNKNOWN';
  if (opts.stale) sender += `  stale (not heard since ${formatCtime(wall(server.lastSeen))})`;
  const lines = [`Hostname=${server.hostname}`];
  if (server.domain !== undefined) lines.push(`Domain=${server.domain}`);
  for (const f of server.extra) lines.push(`${f.key}=${f.value}`);
  return `${formatCtime(at)}  ${sender}\n${lines.map((l) => `   ${printable(l)}\n`).join('')}`;
}

/** One server as JSON lines and `status` show it; times are ISO 8601 wall-clock. */
export interface ServerJson {
  readonly sender: string;
  /** The sender's reverse DNS name; null when unknown (not looked up, failed, or --no-resolve). */
  readonly dnsName: string | null;
  readonly port: number;
  readonly hostname: string;
  readonly domain?: string;
  readonly extra?: readonly RasAdvField[];
  /** On the --allow list. */
  readonly known: boolean;
  readonly stale: boolean;
  readonly count: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly deviations?: readonly RasAdvDeviation[];
}

/** The listener's counters: every datagram received is accepted or dropped for one reason. */
export interface ListenerCounts {
  readonly received: number;
  readonly accepted: number;
  /** Drops per reason, only the reasons seen (the engine's LISTENER_DROP_REASONS). */
  readonly dropped: Readonly<Record<string, number>>;
  readonly servers: number;
  readonly stale: number;
  readonly unknown: number;
}

export function serverJson(server: ServerEntry, wall: WallClock, dnsName: string | null | undefined): ServerJson {
  return {
    sender: formatIpv4(server.sender),
    dnsName: dnsName ?? null,
    port: server.port,
    hostname: server.hostname,
    ...(server.domain === undefined ? {} : { domain: server.domain }),
    ...(server.extra.length === 0 ? {} : { extra: server.extra }),
    known: server.known,
    stale: server.stale,
    count: server.count,
    firstSeen: wall(server.firstSeen).toISOString(),
    lastSeen: wall(server.lastSeen).toISOString(),
    ...(server.deviations.length === 0 ? {} : { deviations: server.deviations }),
  };
}

export function jsonLine(event: string, fields: object, at: Date): string {
  return `${JSON.stringify({ event, time: at.toISOString(), ...fields })}\n`;
}

export function summaryFields(counts: ListenerCounts, servers: readonly ServerEntry[], wall: WallClock, dnsName: (sender: number) => string | null | undefined): ListenerCounts & { readonly list: ServerJson[] } {
  return { ...counts, list: servers.map((s) => serverJson(s, wall, dnsName(s.sender))) };
}
