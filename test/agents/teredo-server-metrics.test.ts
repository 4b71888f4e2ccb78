// teredo-server's metrics (agents/teredo-server/metrics.ts, served by the runtime's --metrics): the declarations
// read from a literal status object, as exposition text; then the real engine, Driver and status object on fake
// sockets, scraped over HTTP before and after an RS from Miredo's client and a junk datagram: the RS answered,
// the RA sent and the drop by reason show up under the names docs/metrics.md lists.

import { afterEach, describe, expect, it } from 'vitest';
import { FakeDatagramPort } from '../fakes/fake-datagram-port.js';
import { FakeIpv6Sender } from '../fakes/fake-ipv6-sender.js';
import { MIREDO_RS } from '../fakes/miredo-captures.js';
import { CLIENT } from '../engine/teredo-server-fixtures.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { validateConfig } from '../../src/runtime/config.js';
import { serveMetrics, type MetricsServer } from '../../src/runtime/metrics.js';
import type { RunningStatus } from '../../src/runtime/status.js';
import { serverSpec } from '../../agents/teredo-server/config.js';
import { teredoServer } from '../../agents/teredo-server/agent.js';
import { teredoServerMetrics } from '../../agents/teredo-server/metrics.js';
import type { TeredoServerStatus } from '../../agents/teredo-server/status.js';
import { startOnHost } from './host-harness.js';
import { RUNNING, exposition, seriesValues } from './metrics-exposition.js';
import { FakeHost, fakeRoute } from '../fakes/fake-host.js';

const open: MetricsServer[] = [];
afterEach(async () => {
  for (const m of open.splice(0)) await m.close();
});

const STATUS: RunningStatus<TeredoServerStatus> = {
  ...RUNNING,
  agent: 'teredo-server',
  addresses: { primary: '198.18.0.10:3544', secondary: '198.18.0.11:3544' },
  prefix: '2001:0:c612:a::/64',
  mtu: 1280,
  forwardInterface: null,
  nativeForwarding: 'raw',
  nativeIpv6Route: false,
  forwardIcmpv6MaxPayload: 88,
  allowNonGlobal: false,
  rsAnswered: { primary: 11, secondary: 2 },
  raSent: { primary: 10, secondary: 3 },
  raWithNonce: 9,
  forwarded: { teredo: 7, withOrigin: 5, native: 4, fromTun: 6 },
  drops: { 'rs-too-short': 1 },
  ioErrors: {},
  driver: { batches: 30, timeouts: 2, errors: 0 },
};

describe('teredo-server metrics', () => {
  it('declares counters per address and path, and the route gauge; no config values', async () => {
    expect(await exposition(teredoServerMetrics, STATUS)).toBe(`# TYPE teredo_server_router_solicitations_answered_total counter
teredo_server_router_solicitations_answered_total{address="primary"} 11
teredo_server_router_solicitations_answered_total{address="secondary"} 2
# TYPE teredo_server_router_advertisements_sent_total counter
teredo_server_router_advertisements_sent_total{address="primary"} 10
teredo_server_router_advertisements_sent_total{address="secondary"} 3
# TYPE teredo_server_router_advertisements_with_nonce_total counter
teredo_server_router_advertisements_with_nonce_total 9
# TYPE teredo_server_forwarded_packets_total counter
teredo_server_forwarded_packets_total{kind="teredo"} 7
teredo_server_forwarded_packets_total{kind="to_native"} 4
teredo_server_forwarded_packets_total{kind="from_native"} 6
# TYPE teredo_server_forwarded_with_origin_total counter
teredo_server_forwarded_with_origin_total 5
# TYPE teredo_server_native_ipv6_route gauge
teredo_server_native_ipv6_route 0`);
    // Unknown route (native forwarding off): no sample at all rather than a made-up 0.
    expect(await exposition(teredoServerMetrics, { ...STATUS, nativeIpv6Route: null })).toMatch(/# TYPE teredo_server_native_ipv6_route gauge$/);
  });

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
        facts: new FakeHost({ forwarding: { all: true }, routes: [fakeRoute('::/0', 'eth0')] }),
        openRaw6: () => new FakeIpv6Sender(),
        openPort: (o) => {
          const p = new FakeDatagramPort({ addr: o.address ?? 0, port: o.port ?? 0 });
          ports.push(p);
          return Promise.resolve(p);
        },
      },
    );
    const metrics = await serveMetrics('teredo-server', { host: '127.0.0.1', port: 0 }, () => ({ ...RUNNING, agent: 'teredo-server', ...agent.status() }), teredoServerMetrics);
    open.push(metrics);
    const scrape = async () => seriesValues(await (await fetch(`http://${metrics.address}/metrics`)).text());

    const before = await scrape();
    expect(before.get('teredo_server_router_solicitations_answered_total{address="primary"}')).toBe(0);
    expect(before.get('teredo_server_router_advertisements_sent_total{address="primary"}')).toBe(0);

    ports[0]!.deliver(MIREDO_RS, CLIENT);
    ports[0]!.deliver(new Uint8Array([1, 2, 3]), CLIENT);
    const after = await scrape();
    expect(after.get('teredo_server_router_solicitations_answered_total{address="primary"}')).toBe(1);
    expect(after.get('teredo_server_router_advertisements_sent_total{address="primary"}')).toBe(1);
    expect(after.get('teredo_server_router_advertisements_with_nonce_total')).toBe(1);
    const drops = [...after].filter(([k]) => k.startsWith('teredo_server_drops_total{'));
    expect(drops).toHaveLength(1);
    expect(drops[0]![0]).toMatch(/^teredo_server_drops_total\{reason="[a-z0-9-]+"\}$/);
    expect(drops[0]![1]).toBe(1);
    await agent.stop();
  });
});
