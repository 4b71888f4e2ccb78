// The teredo-relay process: wires the sans-I/O TeredoRelay engine (src/engine/teredo/relay.ts) to one UDP socket
// (the addon's batched socket unless --udp-sockets dgram) and a TUN device routing 2001::/32, through the
// runtime's batched Driver (one clock read and one timer re-arm per batch; received bytes are lent).
//
//   UDP batch (recvmmsg) ──► driver.batch(udpStep) ──► engine.datagram ─┬─► TUN write      (client -> native)
//   TUN batch ─────────────► driver.batch(tunStep) ──► engine.tun ──────┼─► UDP send       (native -> client, bubbles)
//   timer (peer expiry, bubble retries) ──► engine.handleTimeout ───────┴─► drops counted per reason
//
// Start-up refuses, with one clear line, a socket it cannot bind (IO_BIND) and a device it cannot create or
// route (IO_TUN_OPEN, IO_INTERFACE). It warns when the kernel does not forward IPv6 (the native side is the
// host's routing, so nothing would pass). Stop (SIGTERM/SIGINT) removes the route and the device.
//
// SIGHUP: the policy flags (cone bit, direct bubbles, unknown peers, ICMPv6 source and rate, allowNonGlobal) and
// the stats interval change in place, the peer table is kept; interface, bind address, port, MTU, socket kind
// and the table bounds need a restart (logged).

import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { openDatagramPort, type DatagramPortOptions } from '../../src/io/datagram-port.js';
import type { DatagramBatch, DatagramPort, PacketBatch, TunDevice } from '../../src/io/ports.js';
import { openTun, type TunOptions } from '../../src/io/tun-linux.js';
import { TeredoRelay } from '../../src/engine/teredo/relay/relay.js';
import type { RelaySink } from '../../src/engine/teredo/relay/relay-types.js';
import type { Millis, Random } from '../../src/engine/types.js';
import type { AgentContext, RunningAgent } from '../../src/runtime/cli.js';
import { systemClock, systemTimers, type Clock, type TimerHandle, type Timers } from '../../src/runtime/clock.js';
import { Driver } from '../../src/runtime/driver.js';
import { AgentError, bindError } from '../../src/runtime/errors.js';
import { IoErrorLog } from '../../src/runtime/logger.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { formatEndpoint4 } from '../../src/wire/endpoint.js';
import { formatIpv6, isGlobalUnicast6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { isTeredo, TEREDO_PREFIX, TEREDO_PREFIX_LEN } from '../../src/wire/teredo-address.js';
import { engineParams, type RelayAgentConfig } from './config.js';
import type { TeredoRelayStatus } from './status.js';

/** Seams for tests; each defaults to the real thing. */
export interface RelayDeps {
  openPort?: (options: DatagramPortOptions) => Promise<DatagramPort>;
  openTun?: (options: TunOptions) => TunDevice;
  /** Whether the kernel forwards IPv6 (net.ipv6.conf.all.forwarding); undefined when unknown. */
  ipv6Forwarding?: () => boolean | undefined;
  /** The host's IPv6 addresses (text), for the default ICMPv6 error source. */
  hostAddresses6?: () => string[];
  clock?: Clock;
  timers?: Timers;
  random?: Random;
}


export async function startTeredoRelay(ctx: AgentContext<RelayAgentConfig>, deps: RelayDeps = {}): Promise<RunningAgent<RelayAgentConfig, TeredoRelayStatus>> {
  const { logger } = ctx;
  let config = ctx.config;
  const clock = deps.clock ?? systemClock;
  const timers = deps.timers ?? systemTimers;
  const random = deps.random ?? cryptoRandom;
  const hostAddresses6 = deps.hostAddresses6 ?? defaultHostAddresses6;
  const icmpSource = (c: RelayAgentConfig): Uint8Array | undefined => (c.icmpv6Source !== undefined ? parseIpv6(c.icmpv6Source) : pickIcmpv6Source(hostAddresses6()));
  let source = icmpSource(config);
  const engine = new TeredoRelay(engineParams(config, random, source));

  const port = await openPort(config, deps.openPort ?? openDatagramPort);
  let tun: TunDevice;
  try {
    tun = openRelayTun(config, deps.openTun ?? openTun);
  } catch (err) {
    await port.close();
    throw err;
  }

  const ioErrors = new IoErrorLog(logger, () => clock.now());

  const driver = new Driver<RelaySink>({
    engine,
    logger,
    clock,
    timers,
    sink: (drop) => ({
      drop,
      sendUdp: (data, offset, length, addr, p) => port.send(data, offset, length, addr, p),
      writeTun: (data, offset, length) => void tun.write(data, offset, length),
    }),
  });
  // Pre-bound steps: nothing is allocated per batch or per packet.
  const udpStep = (batch: DatagramBatch, now: Millis, sink: RelaySink): void => {
    for (let i = 0; i < batch.count; i++) engine.datagram(batch.data, batch.offset(i), batch.length(i), batch.sourceAddr(i), batch.sourcePort(i), now, sink);
  };
  const tunStep = (batch: PacketBatch, now: Millis, sink: RelaySink): void => {
    for (let i = 0; i < batch.count; i++) engine.tun(batch.data, batch.offset(i), batch.length(i), now, sink);
  };
  port.onError(ioErrors.handler('udp'));
  tun.onError(ioErrors.handler('tun'));
  port.onBatch((batch) => driver.batch(udpStep, batch));
  tun.onBatch((batch) => driver.batch(tunStep, batch));
  driver.start();

  const snapshot = () => ({ ...engine.summary(), ...engine.counters.snapshot(), drops: driver.drops(), ioErrors: ioErrors.count });
  let statsTimer: TimerHandle | undefined;
  const armStats = (): void => {
    if (statsTimer !== undefined) timers.clearTimer(statsTimer);
    statsTimer = undefined;
    if (config.statsInterval === 0) return;
    statsTimer = timers.setTimer(() => {
      logger.info(snapshot(), 'counters');
      armStats();
    }, config.statsInterval * 1000);
  };
  armStats();

  if ((deps.ipv6Forwarding ?? readIpv6Forwarding)() === false) {
    logger.warn({ interface: tun.name, sysctl: 'net.ipv6.conf.all.forwarding=0', effect: 'the kernel drops what the relay writes for the native network' }, 'ipv6 forwarding off');
  }
  if (source === undefined) logger.warn({ fix: 'set --icmpv6-source' }, 'no global IPv6 address for ICMPv6 errors: none will be sent');
  const describe = () => ({
    udp: formatEndpoint4(port.local),
    interface: tun.name,
    route: `${formatIpv6(TEREDO_PREFIX)}/${TEREDO_PREFIX_LEN}`,
    mtu: config.mtu,
    icmpv6Source: source === undefined ? null : formatIpv6(source),
    honorConeBit: config.honorConeBit,
    directBubbles: config.directBubbles,
    acceptUnknownPeers: config.acceptUnknownPeers,
  });
  logger.info({ ...describe(), maxPeers: config.maxPeers, udpSockets: config.udpSockets }, 'relaying');

  return {
    reload: (next) => {
      const restartOnly = ['interface', 'bind', 'port', 'mtu', 'udpSockets', 'udpReceiveBuffer', 'maxPeers', 'queueBytes', 'maxQueuedBytes'] as const;
      const changed = restartOnly.filter((k) => next[k] !== ctx.config[k]);
      if (changed.length > 0) logger.warn({ changed, kept: 'running socket, device and peer table' }, 'restart needed');
      const kept = Object.fromEntries(restartOnly.map((k) => [k, ctx.config[k]]));
      config = { ...next, ...kept } as RelayAgentConfig;
      source = icmpSource(config);
      engine.reconfigure(engineParams(config, random, source));
      armStats();
    },
    stop: async () => {
      if (statsTimer !== undefined) timers.clearTimer(statsTimer);
      driver.stop();
      logger.info(snapshot(), 'counters');
      try {
        tun.removeRoute(TEREDO_PREFIX, TEREDO_PREFIX_LEN);
      } catch (err) {
        logger.warn({ err }, 'route removal failed (the device goes anyway)');
      }
      tun.close();
      await port.close();
    },
    status: (): TeredoRelayStatus => ({ ...describe(), ...snapshot(), driver: driver.stats() }),
  };
}

/** The first global unicast IPv6 address outside 2001::/32 among `addresses`, or undefined. */
export function pickIcmpv6Source(addresses: readonly string[]): Uint8Array | undefined {
  for (const text of addresses) {
    let a: Uint8Array;
    try {
      a = parseIpv6(text);
    } catch {
      continue;
    }
    if (isGlobalUnicast6(a) && !isTeredo(a)) return a;
  }
  return undefined;
}

async function openPort(c: RelayAgentConfig, open: (o: DatagramPortOptions) => Promise<DatagramPort>): Promise<DatagramPort> {
  const address = parseIpv4(c.bind);
  try {
    return await open({ implementation: c.udpSockets, receiveBufferSize: c.udpReceiveBuffer, address, port: c.port });
  } catch (err) {
    const what = `UDP ${c.bind}:${c.port}`;
    if ((err as { code?: unknown }).code === 'IO_NATIVE_MISSING') {
      throw new AgentError('IO_BIND', `cannot open ${what}: ${(err as Error).message}; or run with --udp-sockets dgram`, { cause: err });
    }
    throw bindError(what, (err as { cause?: unknown }).cause ?? err);
  }
}

function openRelayTun(c: RelayAgentConfig, open: (o: TunOptions) => TunDevice): TunDevice {
  let tun: TunDevice;
  try {
    tun = open({ name: c.interface, mtu: c.mtu });
  } catch (err) {
    throw new AgentError('IO_TUN_OPEN', `cannot create TUN device ${JSON.stringify(c.interface)} (needs CAP_NET_ADMIN and /dev/net/tun): ${(err as Error).message}`, { cause: err });
  }
  try {
    tun.setUp(true);
    // The native side reaches every Teredo client through the relay (RFC 4380 §5.4).
    tun.addRoute(TEREDO_PREFIX, TEREDO_PREFIX_LEN);
  } catch (err) {
    tun.close();
    throw new AgentError('IO_INTERFACE', `cannot configure TUN device ${JSON.stringify(c.interface)}: ${(err as Error).message}`, { cause: err });
  }
  return tun;
}

function defaultHostAddresses6(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined && i.family === 'IPv6' && !i.internal)
    .map((i) => i!.address);
}

function readIpv6Forwarding(): boolean | undefined {
  try {
    return readFileSync('/proc/sys/net/ipv6/conf/all/forwarding', 'utf8').trim() === '1';
  } catch {
    return undefined;
  }
}
