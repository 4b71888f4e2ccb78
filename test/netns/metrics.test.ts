// Every agent's --metrics, scraped for real and checked by Prometheus' own linter (`promtool check metrics`,
// Debian package prometheus): the six agent definitions run from dist/ in two network namespaces of this test
// joined by a veth pair, each serving on 127.0.0.1 of its namespace, with traffic between them so that the
// labelled series have samples:
//
//   tmt-<pid>-a  192.0.2.10, 192.0.2.11 (v0)  teredo-server :9464, teredo-relay :9465, ra-sender :9466,
//                                            rasadv advertise :9467
//   tmt-<pid>-b  192.0.2.20 (v1)              teredo-client :9464 (qualifies against the server),
//                                            rasadv listen :9465 (hears the advertiser)
//
// Each scrape must pass promtool with no finding at all, and hold the runtime's <prefix>_info with the package
// version and a few key series of the agent.

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distFile } from '../../lab/paths.js';
import { seriesValues } from '../agents/metrics-exposition.js';
import { agentLink, logged, spawnAgent, stopAgent, type AgentRun } from './agent-process.js';
import { deleteNetns, waitUntil } from './io-netns.js';

const NS_A = `tmt-${process.pid}-a`;
const NS_B = `tmt-${process.pid}-b`;
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const example = (name: string): string => new URL(`../../examples/${name}`, import.meta.url).pathname;

const runs: AgentRun[] = [];

/** Starts `<bin> ...args --metrics 127.0.0.1:<port>` from dist/ in `ns`. */
function start(ns: string, bin: string, port: number, args: string[]): AgentRun {
  const run = spawnAgent(['ip', 'netns', 'exec', ns, process.execPath, distFile(`agents/${bin}/main.js`), ...args, '--metrics', `127.0.0.1:${port}`]);
  runs.push(run);
  return run;
}

const FETCH = 'fetch(process.argv[1]).then(async (r) => { if (!r.ok) throw new Error(`HTTP ${r.status}`); process.stdout.write(await r.text()); })';

/** GET /metrics from inside `ns`. */
function scrape(ns: string, port: number): string {
  return execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e', FETCH, `http://127.0.0.1:${port}/metrics`], { encoding: 'utf8' });
}

/** `promtool check metrics` on a scrape: its exit status and everything it printed. */
function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run promtool (Debian package prometheus; scripts/setup-host.sh installs it): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Scrapes, lints, checks the runtime's series; returns the samples by series. */
function checked(ns: string, port: number, prefix: string): Map<string, number> {
  const text = scrape(ns, port);
  expect(promtool(text)).toEqual({ status: 0, output: '' });
  const values = seriesValues(text);
  expect(values.get(`${prefix}_info{version="${VERSION}",instance=""}`)).toBe(1);
  expect(values.get(`${prefix}_reloads_total`)).toBe(0);
  expect(values.get('process_resident_memory_bytes')).toBeGreaterThan(0);
  return values;
}

let server: AgentRun, relay: AgentRun, raSender: AgentRun, advertise: AgentRun, client: AgentRun, listen: AgentRun;

beforeAll(async () => {
  await agentLink(NS_A, NS_B);
  server = start(NS_A, 'teredo-server', 9464, ['--config', example('teredo-server.json')]);
  relay = start(NS_A, 'teredo-relay', 9465, ['--config', example('teredo-relay.json')]);
  raSender = start(NS_A, 'ra-sender', 9466, ['--interface', 'v0', '--prefix', '2001:db8:5::/64']);
  listen = start(NS_B, 'rasadv', 9465, ['listen', '--config', example('rasadv-listen.json'), '--no-resolve']);
  await Promise.all([logged(server, 'serving'), logged(relay, 'relaying'), logged(raSender, 'started'), logged(listen, 'started')]);
  client = start(NS_B, 'teredo-client', 9464, ['--config', example('teredo-client.json')]);
  advertise = start(NS_A, 'rasadv', 9467, ['advertise', '--config', example('rasadv-advertise.json')]);
  await logged(advertise, 'advertisement sent');
  await waitUntil(() => client.lines.some((l) => l.state === 'qualified') || client.child.exitCode !== null, 15_000, 'the client qualified');
  await waitUntil(() => listen.lines.some((l) => l.hostname === 'ras-gateway') || listen.child.exitCode !== null, 15_000, 'the advertisement at the listener');
});

afterAll(async () => {
  for (const r of runs) await stopAgent(r);
  deleteNetns(NS_A);
  deleteNetns(NS_B);
});

describe('--metrics of every agent passes promtool check metrics', () => {
  it('teredo-server: the client\'s RSs answered on the primary address', () => {
    const m = checked(NS_A, 9464, 'teredo_server');
    expect(m.get('teredo_server_router_solicitations_answered_total{address="primary"}')).toBeGreaterThanOrEqual(1);
    expect(m.get('teredo_server_router_advertisements_sent_total{address="primary"}')).toBeGreaterThanOrEqual(1);
  });

  it('teredo-relay: its peer table, empty', () => {
    const m = checked(NS_A, 9465, 'teredo_relay');
    expect(m.get('teredo_relay_peers{kind="trusted"}')).toBe(0);
    expect(m.get('teredo_relay_relayed_packets_total{direction="to_native"}')).toBe(0);
  });

  it('teredo-client: qualified, behind no NAT (cone), in some seconds', () => {
    const m = checked(NS_B, 9464, 'teredo_client');
    expect(m.get('teredo_client_state{state="qualified"}')).toBe(1);
    expect(m.get('teredo_client_state{state="offline"}')).toBe(0);
    expect(m.get('teredo_client_nat_type{type="cone"}')).toBe(1);
    expect(m.get('teredo_client_qualification_seconds')).toBeGreaterThan(0);
  });

  it('ra-sender: advertising on v0, unsolicited RAs sent', async () => {
    await waitUntil(() => (seriesValues(scrape(NS_A, 9466)).get('ra_sender_router_advertisements_sent_total{interface="v0",kind="unsolicited"}') ?? 0) >= 1, 30_000, 'a first RA');
    const m = checked(NS_A, 9466, 'ra_sender');
    expect(m.get('ra_sender_interface_state{interface="v0",state="advertising"}')).toBe(1);
  });

  it('rasadv advertise: advertisements sent on its default socket', () => {
    const m = checked(NS_A, 9467, 'rasadv_advertise');
    expect(m.get('rasadv_advertise_advertisements_sent_total{interface="default"}')).toBeGreaterThanOrEqual(1);
  });

  it('rasadv listen: the advertisement accepted, one fresh server', () => {
    const m = checked(NS_B, 9465, 'rasadv_listen');
    expect(m.get('rasadv_listen_advertisements_accepted_total')).toBeGreaterThanOrEqual(1);
    expect(m.get('rasadv_listen_servers{state="fresh"}')).toBe(1);
  });
});
