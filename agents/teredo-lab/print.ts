// Text views of a lab for the terminal: the summary after `up`, and `status`.

import type { Lab } from '../../lab/lab.js';
import { endNodes, type NatSite } from '../../lab/topology.js';
import { isAlive } from '../../lab/processes.js';
import { table } from '../../lab/text-table.js';

export function nodesTable(lab: Lab): string {
  const rows: string[][] = [['node', 'namespace', 'interfaces and addresses', 'role']];
  const daemons = lab.state().daemons ?? [];
  for (const n of endNodes(lab.plan)) {
    const ifs = n.ifaces.map((i) => `${i.name} ${i.addrs.length ? i.addrs.join(' ') : i.segment === 'lan6' ? '(SLAAC)' : ''}`.trim()).join('; ');
    // The lab's own processes in the node (the lossy NAT's delay line, lab/delay-line.ts).
    const own = daemons.filter((d) => d.node === n.name).map((d) => `; ${d.name} pid ${d.proc.pid}${isAlive(d.proc) ? '' : ' (dead)'}`);
    rows.push([n.name, n.ns, ifs, `${n.nat ? natRole(n.name, n.nat) : ''}${own.join('')}`]);
  }
  return table(rows);
}

/** "NAT port-restricted (hairpin)", "carrier-grade NAT in front of nat-cgn", "behind nat-hp". */
function natRole(node: string, site: NatSite): string {
  if (site.carrier?.node === node) return `carrier-grade NAT in front of ${site.nat}`;
  return site.nat === node ? `NAT ${site.kind}${site.zoo ? ` (${site.zoo})` : ''}` : `behind ${site.nat}`;
}

export async function occupantsTable(lab: Lab): Promise<string> {
  const occ = lab.occupants();
  if (occ.length === 0) return '(no occupants: start some with `teredo-lab start <role> <impl>`)';
  const rows: string[][] = [['occupant', 'impl', 'pid', 'ready after', 'state', 'details']];
  for (const o of occ) {
    const s = await lab.occupantStatus(o).catch((e: Error) => ({ state: `error: ${e.message}`, detail: undefined, teredoAddress: undefined }));
    const detail = [s.teredoAddress, ...Object.entries(s.detail ?? {}).map(([k, v]) => `${k}=${v}`)].filter(Boolean).join(' ');
    rows.push([o.key, o.impl, `${o.proc.pid}${isAlive(o.proc) ? '' : ' (dead)'}`, o.readyAfterMs !== undefined ? `${o.readyAfterMs} ms` : '-', s.state, detail]);
  }
  return table(rows);
}

export function tryCommands(lab: Lab): string {
  const id = lab.id;
  return [
    `  teredo-lab exec --id ${id} cli-prc -- ip -6 addr`,
    `  teredo-lab exec --id ${id} cli-prc -- ping -6 -c3 2001:db8:6::100`,
    `  teredo-lab exec --id ${id} h6a -- ip -6 addr show scope global`,
    `  teredo-lab exec --id ${id} nat-fc -- nft list ruleset`,
    `  teredo-lab exec --id ${id} server -- bash        # a shell inside a node`,
    `  teredo-lab down --id ${id}`,
  ].join('\n');
}
