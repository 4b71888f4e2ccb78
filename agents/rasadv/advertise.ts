// `rasadv advertise`: the RAS server side of [MS-RASA]. Wires the sans-I/O schedule (RasAdvAdvertiser) to one
// UDP socket per egress interface, declared for the agent host (src/runtime/host.ts):
//   - §2.1: each advertisement is one datagram to 239.255.2.2:9753 with IP TTL 15. Node's (and the kernel's)
//     default multicast TTL is 1, so the socket's multicast TTL is set right after bind (it cannot be set
//     before: dgram throws EBADF on an unbound socket);
//   - the source port is ephemeral (bind to port 0), as Windows does (port 1034 in the seed capture);
//   - multicast loopback is off unless --loopback, so a listener on the same host does not hear us;
//   - one socket per interface, each bound to that interface's address and with IP_MULTICAST_IF set to it;
//     without --interface a single socket lets the kernel route 239.255.2.2 (usually the default route).
// SIGUSR1 sends an advertisement on every interface at once and restarts the timers. The engine names an
// interface by its index, which is the index of its socket here. Nothing is live: SIGHUP says "restart needed"
// for any change. A refused send is an i/o error of that socket's port (status ioErrors, logged rate-limited).

import type { AgentDefinition } from '../../src/runtime/cli.js';
import { AgentError } from '../../src/runtime/errors.js';
import type { Host } from '../../src/runtime/host.js';
import type { DatagramPort } from '../../src/io/ports.js';
import { RasAdvAdvertiser, type AdvertiserSink, type SendCause } from '../../src/engine/rasadv/advertiser.js';
import type { Millis } from '../../src/engine/types.js';
import { hex } from '../../src/wire/bytes.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { RASADV_GROUP, RASADV_PORT } from '../../src/wire/rasadv.js';
import { advertiseSpec, type AdvertiseConfig } from './config.js';
import { formatAdvertiseStatus, type AdvertiseStatus } from './status.js';
import { resolveInterfaces, type ResolvedInterface } from './interfaces.js';
import { rasadvAdvertiseMetrics } from './metrics.js';

/** The label of the single socket used when no --interface is given. */
export const DEFAULT_ROUTE = 'default';

interface Egress {
  readonly label: string;
  readonly iface: ResolvedInterface | undefined;
  readonly port: DatagramPort;
}

async function openEgress(host: Host<AdvertiseConfig>, iface: ResolvedInterface | undefined): Promise<Egress> {
  const c = host.config;
  const label = iface?.spec ?? DEFAULT_ROUTE;
  const port = await host.udp(label, { address: iface?.addr ?? 0, port: 0 });
  try {
    port.setMulticastTtl(c.ttl);
    port.setMulticastLoopback(c.loopback);
    if (iface) port.setMulticastInterface(iface.addr);
  } catch (err) {
    throw new AgentError('IO_INTERFACE', `cannot configure multicast on ${label}: ${(err as Error).message}`, { cause: err });
  }
  return { label, iface, port };
}

async function setup(host: Host<AdvertiseConfig>) {
  const c = host.config;
  const resolved = c.interfaces.length === 0 ? [undefined] : resolveInterfaces(c.interfaces, host.facts);
  const egress: Egress[] = [];
  for (const iface of resolved) egress.push(await openEgress(host, iface));

  const engine = new RasAdvAdvertiser(
    {
      message: { hostname: c.hostname, ...(c.domain === undefined ? {} : { domain: c.domain }) },
      interfaces: egress.map((e) => e.label),
      intervalMs: c.interval * 1000,
      jitterMs: Math.round(c.jitter * 1000),
      random: host.random,
    },
    host.clock.now(),
  );
  const group = parseIpv4(RASADV_GROUP);
  host.logger.info(
    { hostname: c.hostname, domain: c.domain ?? null, interfaces: egress.map((e) => ({ iface: e.label, address: e.iface?.address ?? null, sourcePort: e.port.local.port })), intervalSec: c.interval, jitterSec: c.jitter, ttl: c.ttl, payload: hex(engine.payload) },
    'advertising',
  );
  // One advertisement an hour per interface: logging each one is affordable, and what an operator wants.
  const driver = host.drive<AdvertiserSink>(engine, (drop) => ({
    drop,
    advertise: (iface: number, data: Uint8Array, offset: number, length: number, cause: SendCause, seq: number) => {
      const e = egress[iface]!;
      e.port.send(data, offset, length, group, RASADV_PORT);
      host.logger.info({ iface: e.label, address: e.iface?.address, cause, seq, bytes: length }, 'advertisement sent');
    },
  }));
  const sendNow = (_: undefined, now: Millis, out: AdvertiserSink): void => engine.sendNow(undefined, now, out);

  return {
    usr1: () => driver.batch(sendNow, undefined),
    status: (): AdvertiseStatus => {
      const now = host.clock.now();
      return {
        mode: 'advertise',
        hostname: c.hostname,
        domain: c.domain ?? null,
        payload: hex(engine.payload),
        interfaces: engine.status().map((s, i) => ({
          iface: s.iface,
          address: egress[i]!.iface?.address ?? null,
          sent: s.sent,
          lastSentSecAgo: s.lastSentAt === undefined ? null : Math.round((now - s.lastSentAt) / 1000),
          nextInSec: Math.max(0, Math.round((s.nextAt - now) / 1000)),
        })),
      };
    },
  };
}

export const rasadvAdvertise: AgentDefinition<AdvertiseConfig, AdvertiseStatus> = {
  name: 'rasadv advertise',
  description: 'Advertise this host as a RAS server ([MS-RASA]): one datagram to 239.255.2.2:9753 (TTL 15) at start, then every --interval seconds; SIGUSR1 advertises at once.',
  config: advertiseSpec,
  setup,
  formatStatus: formatAdvertiseStatus,
  metrics: rasadvAdvertiseMetrics,
};
