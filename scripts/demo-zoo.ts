// The demo's part of the NAT zoo (docs/lab.md "NAT zoo"): three sites that show the most for the least bring-up
// (8 namespaces and 4 clients beside the base lab's 24 and 5):
//   nat-pf   a port-restricted NAT with the Teredo port forwarded: the client must call it a cone NAT, mapped to
//            the forwarded port 198.18.0.111:3545, and reach host6;
//   nat-nhp  two clients behind one NAT without hairpinning: they reach each other only by local discovery
//            (RFC 4380 §5.2.8);
//   nat-seq  a sequential symmetric NAT: its client reports endpoint-dependent, sequential mapping and reaches
//            cli-prc (behind the base lab's port-restricted NAT) by RFC 6081 port prediction.
// A peer path is tried like `teredo-lab matrix` does (lab/matrix.ts bothWays: one ping a second until answered,
// then 5 each way). Miredo has neither local discovery nor port prediction (docs/lab.md "Matrix"): with its
// clients (`--reference`) the peer pairs get one round of 5 pings each way, shown but not counted as checks.

import type { Lab } from '../lab/lab.js';
import { bothWays } from '../lab/matrix.js';
import { formatRtt, ping6, type PingResult } from '../lab/observe.js';
import type { OccupantRequest } from '../lab/occupant.js';
import type { OccupantRecord } from '../lab/state.js';
import { ADDR } from '../lab/topology.js';
import { OURS } from '../lab/registry.js';

/** The zoo NATs the demo builds (`Lab.up({ zoo })`). */
export const DEMO_ZOO = ['nat-pf', 'nat-nhp', 'nat-seq'] as const;

/** Zoo client nodes, with what each site is in a few words. */
const SITES: ReadonlyArray<{ readonly node: string; readonly nat: string; readonly behaviour: string }> = [
  { node: 'cli-pf', nat: 'nat-pf', behaviour: 'port-restricted, UDP 3545 forwarded' },
  { node: 'cli-nhp', nat: 'nat-nhp', behaviour: 'port-restricted, no hairpinning' },
  { node: 'cli-nhp2', nat: 'nat-nhp', behaviour: 'port-restricted, no hairpinning' },
  { node: 'cli-seq', nat: 'nat-seq', behaviour: 'symmetric, sequential ports' },
];

/** The forwarded port's public endpoint (docs/lab.md: nat-pf is 198.18.0.111, UDP 3545 forwarded). */
const PF_MAPPED = '198.18.0.111:3545';

/** Client occupants for the zoo sites, of the implementation the base lab's clients have. */
export function zooClientRequests(impl: string): OccupantRequest[] {
  return SITES.map((s) => ({ role: 'client', impl, node: s.node }));
}

type Check = (what: string, ok: boolean) => string;

interface PathResult {
  readonly label: string;
  readonly there: PingResult;
  readonly back: PingResult;
  readonly ok: boolean;
  /** Time to the path both ways (the search), ms. */
  readonly ms?: number;
}

/** Runs the zoo sites' checks; returns the table rows (header first). */
export async function zooRows(lab: Lab, check: Check): Promise<string[][]> {
  const clients = new Map(lab.occupants().filter((o) => o.role === 'client').map((o) => [o.node, o]));
  const status = new Map(await Promise.all(SITES.map(async (s) => [s.node, await statusOf(lab, clients.get(s.node))] as const)));
  const addr = (node: string): string | undefined => status.get(node)?.teredoAddress;
  const impl = clients.get('cli-pf')?.impl ?? '-';
  const prc = clients.get('cli-prc');
  const prcAddr = prc ? (await lab.occupantStatus(prc)).teredoAddress : undefined;
  const [pf, nhp, seq] = await Promise.all([
    path(lab, 'cli-pf', addr('cli-pf'), 'host6', ADDR.host6, true),
    path(lab, 'cli-nhp', addr('cli-nhp'), 'cli-nhp2', addr('cli-nhp2'), impl === OURS),
    path(lab, 'cli-seq', addr('cli-seq'), 'cli-prc', prcAddr, impl === OURS),
  ]);
  const paths: Record<string, PathResult> = { 'cli-pf': pf, 'cli-nhp': nhp, 'cli-nhp2': nhp, 'cli-seq': seq };
  const rows = [['site', 'client', 'impl', 'behaviour', 'NAT (client says)', 'mapping (client says)', 'mapped', 'path (found after; ping6 each way)', 'min/avg/max', '']];
  for (const s of SITES) {
    const st = status.get(s.node);
    // What the row's last cell says: 'ok', or the checks that failed and notes.
    const notes: string[] = [];
    const expect = (what: string, ok: boolean): void => void (check(what, ok) === 'ok' || notes.push(`FAIL ${what}`));
    expect(`${s.node} qualified`, st?.state === 'qualified');
    const mapped = st?.detail?.['mapped'] ?? '-';
    if (s.node === 'cli-pf') {
      expect('cli-pf mapped to the forwarded port', mapped === PF_MAPPED);
      // Miredo's client reports no NAT type; ours must see the forward as a cone.
      if (st?.natType !== undefined) expect('cli-pf reports a cone NAT', st.natType === 'cone');
    }
    if (s.node === 'cli-seq' && st?.detail?.['mapping'] !== undefined) expect('cli-seq reports sequential ports', /endpoint-dependent.*sequential/.test(st.detail['mapping']));
    const p = paths[s.node]!;
    const counted = impl === OURS || s.node === 'cli-pf';
    // Each pair appears on its first client's row; the second client of nat-nhp shares the row above.
    const found = p.ms !== undefined ? `${(p.ms / 1000).toFixed(1)} s; ` : '';
    const pathCells = s.node === 'cli-nhp2' ? ['(row above)', ''] : [`${p.label} (${found}${p.there.received}/${p.there.sent}, back ${p.back.received}/${p.back.sent})`, formatRtt(p.there)];
    if (s.node !== 'cli-nhp2') {
      if (counted) expect(`${p.label} both ways`, p.ok);
      else notes.push(`${p.ok ? 'a path' : 'no path'} (not expected of ${impl})`);
    }
    rows.push([s.nat, s.node, clients.get(s.node)?.impl ?? '-', s.behaviour, st?.natType ?? '-', st?.detail?.['mapping'] ?? '-', mapped, ...pathCells, notes.length === 0 ? 'ok' : notes.join('; ')]);
  }
  return rows;
}

async function statusOf(lab: Lab, rec: OccupantRecord | undefined): Promise<Awaited<ReturnType<Lab['occupantStatus']>> | undefined> {
  return rec ? lab.occupantStatus(rec) : undefined;
}

/**
 * Node a (address aAddr) and b: with `retry`, the matrix's path search (bothWays) and its 5 pings each way;
 * without, only the 5 pings each way.
 */
async function path(lab: Lab, a: string, aAddr: string | undefined, b: string, bAddr: string | undefined, retry: boolean): Promise<PathResult> {
  const label = `${a}↔${b}`;
  const none: PingResult = { sent: 0, received: 0 };
  if (!aAddr || !bAddr) return { label, there: none, back: none, ok: false };
  if (retry) {
    const r = await bothWays({ lab, stack: '-', log: () => undefined }, a, aAddr, b, bAddr, Date.now());
    return { label, there: r.pings?.there ?? none, back: r.pings?.back ?? none, ok: r.ok, ...(r.ms !== undefined ? { ms: r.ms } : {}) };
  }
  const [there, back] = [await ping6(lab, a, bAddr, 5, 0.5), await ping6(lab, b, aAddr, 5, 0.5)];
  return { label, there, back, ok: there.received > 0 && back.received > 0 };
}
