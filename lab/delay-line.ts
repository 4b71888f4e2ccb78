// Loss and delay for the lossy zoo NAT (nat-loss), without tc netem (the kernels the lab runs on have no
// sch_netem): a TUN device `<id>-dly` in the NAT's namespace, policy routing that sends every IPv4 packet
// arriving on the NAT's LAN or outside interface into it, and the delay-line process (tools/delay-line.ts)
// that drops LOSS_PERCENT of them, holds the rest DELAY_MS and writes them back. Packets written back arrive
// on `dly` and are routed by the main table (and NATed) as usual:
//
//   cli-loss ──lan──▶ [raw: mark, notrack] ─▶ rule fwmark → table 100: default dev dly ─▶ delay-line (TUN)
//                                                                                            │ 40 ms
//   inet4 ◀── masquerade ◀── main table ◀── conntrack, NAT ◀── arrives on dly (mark 0) ◀─────┘
//
// and the same from inet4 towards the LAN (the reply is de-NATed on its second pass). Why these pieces:
//   - The first pass is not tracked (notrack): conntrack and NAT then see each packet once, on its second pass,
//     as if the delay line were a cable in front of the NAT on either side.
//   - A mark selects the packets rather than `iif`: ARP's route lookup for the NAT's own addresses must still
//     find them local, and ARP carries no mark. The `local` rule moves from preference 0 to 1000, behind the
//     mark rule, so marked packets addressed to the NAT itself are delayed too.
//   - Packets from `dly` carry no mark (a TUN write is a new packet), so they never loop.
//   - The NAT's "unsolicited UDP to the router" drop (nat.ts) matches the outside interface; on the second
//     pass such packets arrive on `dly`, so a rule here drops them there.
//   - Loss lives in the delay line rather than in nftables: packets cross the forward hook twice here, and one
//     element for both impairments (like netem) applies each once per direction and counts them.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from './errors.js';
import { LOSS_PERCENT } from './nat-zoo.js';
import { distFile, missingDist } from './paths.js';
import { procId } from './processes.js';
import type { DaemonRecord } from './state.js';
import { execOk, inNs, ipBatch, spawnDetached, waitFor } from './run.js';
import { iface, natSites, type LabPlan, type NatSite } from './topology.js';

/** How long the lossy NAT holds each packet, per direction, ms (a ping's round trip through it: twice this). */
export const DELAY_MS = 40;
/** Queue bounds of the delay line: netem's default limit of 1000 packets, and 1 MiB of packet bytes. */
export const DELAY_QUEUE_PACKETS = 1000;
export const DELAY_QUEUE_BYTES = 1024 * 1024;

const DELAY_MARK = '0x64';
const DELAY_TABLE = '100';
const DELAY_TOOL = 'lab/tools/delay-line.js';
const READY_TIMEOUT_MS = 30_000;

/** The TUN device of a lab's delay lines (one per namespace, so one name does). */
export function delayDevice(plan: LabPlan): string {
  return `${plan.id}-dly`;
}

/** Sets up routing and starts a delay line in every lossy NAT of the plan; returns the processes started. */
export async function startDelayLines(plan: LabPlan, labDir: string): Promise<DaemonRecord[]> {
  const sites = natSites(plan).filter((s) => s.zoo === 'lossy');
  if (sites.length === 0) return [];
  const missing = missingDist(DELAY_TOOL);
  if (missing) throw new LabError('LAB_MISSING_TOOL', missing);
  return Promise.all(sites.map((s) => startDelayLine(plan, s, labDir)));
}

async function startDelayLine(plan: LabPlan, site: NatSite, labDir: string): Promise<DaemonRecord> {
  const ns = plan.nodes[site.nat]!.ns;
  const dly = delayDevice(plan);
  await ipBatch([
    `tuntap add dev ${dly} mode tun`,
    `link set ${dly} up`,
    `route add default dev ${dly} table ${DELAY_TABLE}`,
    `rule add pref 100 fwmark ${DELAY_MARK} lookup ${DELAY_TABLE}`,
    `rule add pref 1000 lookup local`,
    `rule del pref 0 lookup local`,
  ], ns);
  // Packets from dly have sources reachable through other interfaces: strict reverse-path filtering would drop them.
  await execOk(inNs(ns, ['sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=0', `net.ipv4.conf.${dly}.rp_filter=0`]));
  await execOk(inNs(ns, ['nft', '-f', '-']), { input: delayRuleset(plan, site, dly) });

  const key = `delay-line@${site.nat}`;
  const logFile = join(labDir, `${key}.log`);
  const argv = [process.execPath, distFile(DELAY_TOOL), '--dev', dly, '--delay-ms', String(DELAY_MS), '--loss-percent', String(LOSS_PERCENT),
    '--max-packets', String(DELAY_QUEUE_PACKETS), '--max-bytes', String(DELAY_QUEUE_BYTES)];
  const child = spawnDetached(inNs(ns, argv), { logFile });
  const proc = child.pid !== undefined ? procId(child.pid) : undefined;
  if (!proc) throw new LabError('LAB_COMMAND_FAILED', `${key}: could not start ${argv.join(' ')}`);
  await waitFor(`${key} to attach to ${dly}`, async () => (readText(logFile).includes('"ready":true') ? true : undefined), READY_TIMEOUT_MS, 50);
  return { name: `delay-line-${site.nat}`, node: site.nat, proc, logFile };
}

/** The first pass: mark and leave untracked what arrives on the LAN or outside; the NAT's input drop for the second. */
function delayRuleset(plan: LabPlan, site: NatSite, dly: string): string {
  const lan = iface(plan, site.nat, site.lanSegment);
  const out = iface(plan, site.nat, site.outsideSegment);
  return [
    'table ip tl_delay {',
    '  chain prerouting { type filter hook prerouting priority raw; policy accept;',
    `    iifname { "${lan}", "${out}" } meta mark set ${DELAY_MARK} notrack`,
    '  }',
    '  chain input { type filter hook input priority filter; policy accept;',
    `    iifname "${dly}" ip daddr ${site.outside} meta l4proto udp ct state new drop`,
    '  }',
    '}',
    '',
  ].join('\n');
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
