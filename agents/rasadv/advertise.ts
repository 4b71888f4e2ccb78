// `rasadv advertise`: the RAS server side of [MS-RASA]. Wires the sans-I/O schedule (RasAdvAdvertiser) to one
// UDP socket per egress interface through the runtime's Driver:
//   - §2.1: each advertisement is one datagram to 239.255.2.2:9753 with IP TTL 15. Node's (and the kernel's)
//     default multicast TTL is 1, so the socket's multicast TTL is set right after bind (it cannot be set
//     before: dgram throws EBADF on an unbound socket);
//   - the source port is ephemeral (bind to port 0), as Windows does (port 1034 in the seed capture);
//   - multicast loopback is off unless --loopback, so a listener on the same host does not hear us;
//   - one socket per interface, each bound to that interface's address and with IP_MULTICAST_IF set to it;
//     without --interface a single socket lets the kernel route 239.255.2.2 (usually the default route).
// SIGUSR1 sends an advertisement on every interface at once and restarts the timers. The engine names an
// interface by its index, which is the index of its socket here.

import type { AgentContext, RunningAgent } from '../../src/runtime/cli.js';
import { Driver } from '../../src/runtime/driver.js';
import type { Clock, Timers } from '../../src/runtime/clock.js';
import { systemClock } from '../../src/runtime/clock.js';
import { AgentError } from '../../src/runtime/errors.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { LogRateLimiter } from '../../src/runtime/logger.js';
import { openDatagramPort, type DatagramPortOptions } from '../../src/io/datagram-port.js';
import type { DatagramPort } from '../../src/io/ports.js';
import { RasAdvAdvertiser, type AdvertiserSink, type SendCause } from '../../src/engine/rasadv/advertiser.js';
import type { Millis, Random } from '../../src/engine/types.js';
import { hex } from '../../src/wire/bytes.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { RASADV_GROUP, RASADV_PORT } from '../../src/wire/rasadv.js';
import type { AdvertiseConfig } from './config.js';
import type { AdvertiseStatus } from './status.js';
import { resolveInterfaces, type InterfaceTable, type ResolvedInterface } from './interfaces.js';

/** Seams for tests; each defaults to the real thing. */
export interface AgentDeps {
  openPort?: (options: DatagramPortOptions) => Promise<DatagramPort>;
  clock?: Clock;
  timers?: Timers;
  interfaces?: InterfaceTable;
  random?: Random;
}

/** The label of the single socket used when no --interface is given. */
export const DEFAULT_ROUTE = 'default';
const SEND_ERROR_LOG_INTERVAL_MS = 60_000;

interface Egress {
  readonly label: string;
  readonly iface: ResolvedInterface | undefined;
  readonly port: DatagramPort;
}

async function openEgress(iface: ResolvedInterface | undefined, c: AdvertiseConfig, open: AgentDeps['openPort'] & {}): Promise<Egress> {
  const label = iface?.spec ?? DEFAULT_ROUTE;
  let port: DatagramPort;
  try {
    port = await open({ address: iface?.addr ?? 0, port: 0 });
  } catch (err) {
    throw new AgentError('IO_BIND', `cannot open a UDP socket on ${iface ? `${iface.address} (${iface.name})` : '0.0.0.0'}: ${(err as Error).message}`, { cause: err });
  }
  try {
    port.setMulticastTtl(c.ttl);
    port.setMulticastLoopback(c.loopback);
    if (iface) port.setMulticastInterface(iface.addr);
  } catch (err) {
    await port.close();
    throw new AgentError('IO_INTERFACE', `cannot configure multicast on ${label}: ${(err as Error).message}`, { cause: err });
  }
  return { label, iface, port };
}

export async function startAdvertiser(ctx: AgentContext<AdvertiseConfig>, deps: AgentDeps = {}): Promise<RunningAgent<AdvertiseConfig, AdvertiseStatus>> {
  const { config: c, logger } = ctx;
  const clock = deps.clock ?? systemClock;
  const resolved = c.interfaces.length === 0 ? [undefined] : resolveInterfaces(c.interfaces, deps.interfaces);
  const open = deps.openPort ?? openDatagramPort;

  const egress: Egress[] = [];
  try {
    for (const iface of resolved) egress.push(await openEgress(iface, c, open));
  } catch (err) {
    await Promise.all(egress.map((e) => e.port.close()));
    throw err;
  }

  const engine = new RasAdvAdvertiser(
    {
      message: { hostname: c.hostname, ...(c.domain === undefined ? {} : { domain: c.domain }) },
      interfaces: egress.map((e) => e.label),
      intervalMs: c.interval * 1000,
      jitterMs: Math.round(c.jitter * 1000),
      random: deps.random ?? cryptoRandom,
    },
    clock.now(),
  );
  const group = { addr: parseIpv4(RASADV_GROUP), port: RASADV_PORT };
  const sendErrors = new LogRateLimiter(SEND_ERROR_LOG_INTERVAL_MS);
  let sendFailures = 0;
  for (const e of egress) {
    e.port.onError((err) => {
      sendFailures++;
      const suppressed = sendErrors.allow(e.label, clock.now());
      if (suppressed !== undefined) logger.warn({ err, iface: e.label, suppressed }, 'advertisement not sent');
    });
  }

  // One advertisement an hour per interface: logging each one is affordable, and what an operator wants.
  const sink = (drop: (reason: number) => void): AdvertiserSink => ({
    drop,
    advertise: (iface: number, data: Uint8Array, offset: number, length: number, cause: SendCause, seq: number) => {
      const e = egress[iface]!;
      e.port.send(data, offset, length, group.addr, group.port);
      logger.info({ iface: e.label, address: e.iface?.address, cause, seq, bytes: length }, 'advertisement sent');
    },
  });
  const driver = new Driver({ engine, sink, logger, clock, ...(deps.timers ? { timers: deps.timers } : {}) });
  const sendNow = (_: undefined, now: Millis, out: AdvertiserSink): void => engine.sendNow(undefined, now, out);
  logger.info(
    { hostname: c.hostname, domain: c.domain ?? null, interfaces: egress.map((e) => ({ iface: e.label, address: e.iface?.address ?? null, sourcePort: e.port.local.port })), intervalSec: c.interval, jitterSec: c.jitter, ttl: c.ttl, payload: hex(engine.payload) },
    'advertising',
  );
  driver.start();

  return {
    usr1: () => driver.batch(sendNow, undefined),
    stop: async () => {
      driver.stop();
      await Promise.all(egress.map((e) => e.port.close()));
    },
    status: (): AdvertiseStatus => {
      const now = clock.now();
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
        sendFailures,
        driver: driver.stats(),
      };
    },
  };
}
