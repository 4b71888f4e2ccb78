// teredo-server's counters as Prometheus metrics (the runtime's --metrics, src/runtime/metrics.ts): the real
// engine, Driver and status object on fake sockets, scraped over HTTP before and after an RS from Miredo's
// client and a junk datagram. The RS answered and the drop by reason show up under the names the README lists.

import { afterEach, describe, expect, it } from 'vitest';
import { FakeDatagramPort } from '../fakes/fake-datagram-port.js';
import { FakeIpv6Sender } from '../fakes/fake-ipv6-sender.js';
import { MIREDO_RS } from '../fakes/miredo-captures.js';
import { CLIENT } from '../engine/teredo-server-fixtures.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { validateConfig } from '../../src/runtime/config.js';
import { serveMetrics, type MetricsServer } from '../../src/runtime/metrics.js';
import { serverSpec } from '../../agents/teredo-server/config.js';
import { teredoServer } from '../../agents/teredo-server/agent.js';
import { startOnHost } from './host-harness.js';

const open: MetricsServer[] = [];
afterEach(async () => {
  for (const m of open.splice(0)) await m.close();
});

/** sample name{labels} -> value, from a text exposition. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\S+) (\S+)$/.exec(line);
    if (m && !line.startsWith('#')) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

describe('teredo-server metrics', () => {
  it('RSs answered, RAs sent and drops by reason increment in the scrape', async () => {
    const r = validateConfig(serverSpec, { flags: { address: '198.18.0.10' } });
    if (!r.ok) throw new Error(r.problems.join('; '));
    const ports: FakeDatagramPort[] = [];
    const clock = new FakeClock();
    const { agent } = await startOnHost(
      teredoServer,
      r.config,
      {
        clock,
        timers: clock,
        facts: { ipv6Forwarding: () => true, nativeIpv6Route: () => true },
        openRaw6: () => new FakeIpv6Sender(),
        openPort: (o) => {
          const p = new FakeDatagramPort({ addr: o.address ?? 0, port: o.port ?? 0 });
          ports.push(p);
          return Promise.resolve(p);
        },
      },
    );
    const metrics = await serveMetrics('teredo-server', { host: '127.0.0.1', port: 0 }, () => agent.status() as unknown as Record<string, unknown>);
    open.push(metrics);
    const scrape = async () => parse(await (await fetch(`http://${metrics.address}/metrics`)).text());

    const before = await scrape();
    expect(before.get('teredo_agents_rs_answered_primary{agent="teredo-server"}')).toBe(0);
    expect(before.get('teredo_agents_ra_sent_primary{agent="teredo-server"}')).toBe(0);

    ports[0]!.deliver(MIREDO_RS, CLIENT);
    ports[0]!.deliver(new Uint8Array([1, 2, 3]), CLIENT);
    const after = await scrape();
    expect(after.get('teredo_agents_rs_answered_primary{agent="teredo-server"}')).toBe(1);
    expect(after.get('teredo_agents_ra_sent_primary{agent="teredo-server"}')).toBe(1);
    expect(after.get('teredo_agents_ra_with_nonce{agent="teredo-server"}')).toBe(1);
    const drops = [...after].filter(([k]) => k.startsWith('teredo_agents_drops_total{'));
    expect(drops).toHaveLength(1);
    expect(drops[0]![0]).toMatch(/^teredo_agents_drops_total\{reason="[a-z0-9-]+",agent="teredo-server"\}$/);
    expect(drops[0]![1]).toBe(1);
    expect(after.get('teredo_agents_driver_batches{agent="teredo-server"}')).toBe((before.get('teredo_agents_driver_batches{agent="teredo-server"}') ?? 0) + 2);
    await agent.stop();
  });
});
