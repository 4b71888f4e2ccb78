#!/usr/bin/env node
// The demo (`npm run demo`, as root): installs what the lab needs (scripts/setup-host.sh, on a fresh machine),
// then brings up a lab with our agents in every role (`-- --reference`: Miredo and radvd in their roles, ours
// only where no reference implementation exists, i.e. rasadv), and
// shows on one screen that IPv6 works through every NAT: each Teredo client's state, NAT type and address,
// ping6 to the native host6 through the relay with RTTs, three sites of the NAT zoo (scripts/demo-zoo.ts: a port
// forward, two clients behind a NAT without hairpinning, a sequential symmetric NAT with a peer; the NAT type and
// mapping each client reports, and the peer pings), the lan6 hosts' autoconfigured addresses and the rasadv
// listeners' tables. Tears the lab down unless --keep.
// Exit code: 0 when every expected outcome held, 1 when one failed, 2 when the lab could not be built.

import { parseArgs } from 'node:util';
import { Lab } from '../lab/lab.js';
import { LabError } from '../lab/errors.js';
import { choosePreferredOccupants, describeChoice, occupantRequests } from '../lab/choose.js';
import { loadRegistry } from '../lab/registry.js';
import { formatRtt, ping6, raDefaultRouter, waitForSlaac } from '../lab/observe.js';
import { ADDR, NAT_SITES } from '../lab/topology.js';
import { sleep } from '../lab/run.js';
import { table } from '../lab/text-table.js';
import { DEMO_ZOO, zooClientRequests, zooRows } from './demo-zoo.js';

const { values: opts } = parseArgs({ options: { keep: { type: 'boolean' }, id: { type: 'string' }, reference: { type: 'boolean' } } });

interface Check {
  readonly what: string;
  readonly ok: boolean;
}
const checks: Check[] = [];
const check = (what: string, ok: boolean): string => {
  checks.push({ what, ok });
  return ok ? 'ok' : 'FAIL';
};
const out = (s = ''): void => void process.stdout.write(s + '\n');

async function showClients(lab: Lab): Promise<void> {
  const clients = lab.occupants().filter((o) => o.role === 'client' && NAT_SITES.some((s) => s.client === o.node));
  if (clients.length === 0) return out('Teredo clients: no client occupant available\n');
  const pings = await Promise.all(clients.map((c) => ping6(lab, c.node, ADDR.host6, 5)));
  const rows = [['client', 'impl', 'NAT (lab)', 'NAT (client says)', 'state', 'Teredo address', 'mapped', `ping6 ${ADDR.host6} min/avg/max`, '']];
  for (const [i, c] of clients.entries()) {
    const s = await lab.occupantStatus(c);
    const p = pings[i]!;
    const site = NAT_SITES.find((x) => x.client === c.node)!;
    check(`${c.node} qualified`, s.state === 'qualified');
    // The first echo may wait for the relay's bubble exchange (RFC 4380 §5.4.1); the rest must come back.
    const pingOk = check(`${c.node} ping6 host6`, p.received >= p.sent - 1);
    rows.push([c.node, c.impl, site.kind, s.natType ?? '-', s.state, s.teredoAddress ?? '-', s.detail?.['mapped'] ?? '-', `${formatRtt(p)} (${p.received}/${p.sent})`, pingOk]);
  }
  out('Teredo clients behind NATs, ping6 to native host6 through the relay');
  out(table(rows, '  ') + '\n');
}

async function showLan6(lab: Lab): Promise<void> {
  const ra = lab.occupants().find((o) => o.role === 'ra-sender');
  if (!ra) return out('lan6: no RA sender available\n');
  const rows = [['host', 'autoconfigured (SLAAC)', 'default router (from RA)', '']];
  for (const h of ['h6a', 'h6b']) {
    const addrs = await waitForSlaac(lab, h, 10_000);
    const router = await raDefaultRouter(lab, h);
    const ok = check(`${h} autoconfigured in ${ADDR.lan6Prefix}`, addrs.some((a) => a.startsWith('2001:db8:66:')) && router !== undefined);
    rows.push([h, addrs.join(' ') || '-', router ?? '-', ok]);
  }
  out(`lan6 ${ADDR.lan6Prefix}, RAs from ${ra.impl} on node ra`);
  out(table(rows, '  ') + '\n');
}

async function showRasadv(lab: Lab): Promise<void> {
  const listeners = lab.occupants().filter((o) => o.role === 'rasadv-listener');
  const adv = lab.occupants().find((o) => o.role === 'rasadv');
  if (listeners.length === 0 || !adv) return out('rasadv: no advertiser/listener occupant available\n');
  const rows = [['listener', 'table', '']];
  for (const l of listeners) {
    // The advertiser sends at start-up, so listeners (started first) have normally heard it already.
    let heard = '';
    for (let i = 0; i < 30 && !heard.includes(ADDR.adv); i++) {
      heard = Object.values((await lab.occupantStatus(l)).detail ?? {}).join(' ');
      if (!heard.includes(ADDR.adv)) await sleep(500);
    }
    rows.push([l.node, heard || '-', check(`${l.node} lists the advertiser ${ADDR.adv}`, heard.includes(ADDR.adv))]);
  }
  out(`rasadv on mlan: ${adv.impl} advertiser on adv (${ADDR.adv}) → ${ADDR.rasadvGroup}:${ADDR.rasadvPort}`);
  out(table(rows, '  ') + '\n');
}

async function main(): Promise<number> {
  const t0 = Date.now();
  let lab: Lab;
  let lines: string[];
  try {
    // Installs Miredo and radvd on a fresh machine before judging what can run, so the first run shows the
    // same checks as every later one.
    const choices = await choosePreferredOccupants({ registry: await loadRegistry(), reference: opts.reference ?? false, log: (l) => out(l) });
    lines = choices.map(describeChoice);
    const clientImpl = choices.find((c) => c.role === 'client')?.occupant?.impl;
    const occupants = [...occupantRequests(choices), ...(clientImpl ? zooClientRequests(clientImpl) : [])];
    lab = await Lab.up({ ...(opts.id ? { id: opts.id } : {}), ...(opts.keep ? {} : { ownerPid: process.pid }), occupants, zoo: [...DEMO_ZOO], log: (l) => out(l) });
  } catch (e) {
    if (!(e instanceof LabError)) throw e;
    process.stderr.write(`demo: ${e.message}\n`);
    return 2;
  }
  try {
    const who = opts.reference ? 'the reference implementations (Miredo, radvd) where they exist' : 'our agents in every role';
    out(`teredo-agents demo: ${who}; lab ${lab.id} up with occupants in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    out(`  ${lines.join(' · ')}\n`);
    // The zoo's peer paths take a few seconds to find: searched while the textbook clients ping.
    const zoo = zooRows(lab, check);
    await showClients(lab);
    out(`NAT zoo sites (teredo-lab up --zoo ${DEMO_ZOO.join(',')}); peers found as \`teredo-lab matrix\` does`);
    out(table(await zoo, '  ') + '\n');
    await showLan6(lab);
    await showRasadv(lab);
    const failed = checks.filter((c) => !c.ok);
    out(failed.length === 0 ? `all ${checks.length} checks passed` : `${failed.length} of ${checks.length} checks FAILED: ${failed.map((c) => c.what).join('; ')}`);
    return failed.length === 0 ? 0 : 1;
  } finally {
    if (opts.keep) {
      out(`\nlab ${lab.id} left up; try:`);
      for (const c of [`cli-prc -- ping -6 -c3 ${ADDR.host6}`, 'cli-fc -- ip -6 addr', 'cli-nhp -- ip -6 addr', 'nat-seq -- nft list ruleset', 'h6a -- ip -6 route', 'server -- bash']) out(`  teredo-lab exec --id ${lab.id} ${c}`);
      out(`  teredo-lab status --id ${lab.id}\n  teredo-lab down --id ${lab.id}`);
    } else {
      await lab.down();
      out(`lab ${lab.id} torn down (--keep leaves it up)`);
    }
  }
}

process.exitCode = await main();
