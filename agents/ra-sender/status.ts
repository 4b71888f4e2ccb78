// What `ra-sender status` reports: the one definition of the status object (what agent.ts returns, what the
// lab's occupant reads from `status --json`, what the tests check), and its rendering for people under the
// runtime's header line (src/runtime/status.ts): per interface its state, RAs sent and RSs answered, drops by
// reason, deprecated prefixes, problems and warnings, and the content of the last RA.

import type { DriverStats } from '../../src/runtime/driver.js';
import { formatDrops, type RunningStatus } from '../../src/runtime/status.js';
import type { RaSenderCounters } from '../../src/engine/ra/sender.js';
import type { InterfaceState } from './interface.js';
import type { MonitorStatus } from './monitor-status.js';

export interface InterfaceStatus {
  readonly interface: string;
  readonly state: InterfaceState;
  /** The source of our RAs, once DAD is done. */
  readonly linkLocal: string | null;
  readonly ifindex: number | null;
  readonly mtu: number | null;
  /** net.ipv6.conf.<interface>.forwarding. */
  readonly forwarding: boolean | null;
  /** What keeps the interface `refused` (e.g. an MTU option above the link's MTU). */
  readonly problems: readonly string[];
  /** Config warnings (a non-/64 autonomous prefix...) and the forwarding warning. */
  readonly warnings: readonly string[];
  readonly counters: RaSenderCounters | null;
  readonly drops: Readonly<Record<string, number>>;
  /** Other routers' RAs that differ from ours, per RFC 4861 §6.2.7 field (cur-hop-limit, mtu, ...). */
  readonly inconsistencies: Readonly<Record<string, number>>;
  readonly lastAdvertSecAgo: number | null;
  readonly nextAdvertInSec: number | null;
  /** Monitor mode: the other routers heard on the link (monitor-status.ts); null when monitor mode is off. */
  readonly monitor: MonitorStatus | null;
  readonly deprecated: readonly { readonly prefix: string; readonly remainingSec: number }[];
  /** The last RA sent (format.ts describeRas), null before the first. */
  readonly lastRa: Readonly<Record<string, unknown>> | null;
  readonly driver: DriverStats | null;
}

export interface RaSenderStatus {
  readonly interfaces: readonly InterfaceStatus[];
}

/** A paragraph per interface. */
export function formatRaSenderStatus(s: RunningStatus<RaSenderStatus>): string[] {
  const lines: string[] = [];
  // A radvd.conf without an `AdvSendAdvert on` interface runs (as radvd does) and advertises nothing.
  if (s.interfaces.length === 0) lines.push('no interface to advertise on (a radvd.conf with none set to AdvSendAdvert on); a reload can add one');
  for (const i of s.interfaces) {
    lines.push(`${i.interface}: ${i.state}${i.linkLocal ? ` from ${i.linkLocal}` : ''}, MTU ${i.mtu ?? '?'}, forwarding ${i.forwarding === null ? '?' : i.forwarding ? 'on' : 'off'}`);
    const c = i.counters;
    if (c) {
      lines.push(`  RAs sent: ${c.advertisements} (${c.finalAdvertisements} final); RSs: ${c.solicitations} received, ${c.answeredUnicast} answered by unicast, ${c.answeredMulticast} by multicast; RAs of other routers: ${c.advertsReceived}`);
      lines.push(`  last RA ${i.lastAdvertSecAgo === null ? 'never' : `${i.lastAdvertSecAgo} s ago`}, next in ${i.nextAdvertInSec === null ? '-' : `${i.nextAdvertInSec} s`}; send errors ${s.ioErrors[`icmpv6:${i.interface}`] ?? 0}`);
    }
    lines.push(...formatDrops(i.drops).map((l) => `  ${l}`));
    for (const [what, n] of Object.entries(i.inconsistencies)) lines.push(`  other routers' RAs with a different ${what}: ${n} (RFC 4861 §6.2.7)`);
    if (i.monitor) {
      lines.push(`  other routers: ${i.monitor.routers.length}; default routes expired: ${i.monitor.defaultRouteExpirations}`);
      for (const r of i.monitor.routers) {
        const route = r.defaultRouteRemainingSec === null ? 'not a default router' : `default route ${r.defaultRouteRemainingSec} s more`;
        lines.push(`    ${r.router}: ${r.advertisements} RAs, last ${r.lastHeardSecAgo} s ago, ${route}, ${r.inconsistencies} inconsistencies`);
        for (const p of r.prefixes) lines.push(`      prefix ${p.prefix} valid ${p.validLifetime} preferred ${p.preferredLifetime}${p.autonomous ? ' autonomous' : ''}${p.onLink ? ' on-link' : ''}`);
      }
    }
    for (const d of i.deprecated) lines.push(`  deprecating ${d.prefix} (valid ${d.remainingSec} s more)`);
    for (const p of i.problems) lines.push(`  PROBLEM: ${p}`);
    for (const w of i.warnings) lines.push(`  WARNING: ${w}`);
    if (i.lastRa) lines.push(`  last RA: ${JSON.stringify(i.lastRa)}`);
  }
  return lines;
}
