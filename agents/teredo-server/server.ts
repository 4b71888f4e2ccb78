// The teredo-server process: wires the sans-I/O TeredoServer engine (src/engine/teredo/server.ts) to two UDP
// sockets on port 3544 (primary and secondary address; the addon's batched sockets unless --udp-sockets dgram)
// and the native IPv6 network (a send-only raw IPv6 socket by default, or with --forward-interface a TUN
// device both ways; native-forwarding.ts), through the runtime's Driver.
//
//   primary:3544 batch ──┐                                              ┌─► sink.sendUdp: socket send (RAs, forwards)
//   secondary:3544 batch ┼─► driver.batch ─► engine.datagram/tun each ──┼─► sink.writeNative: TUN write (to native IPv6)
//   TUN read batch ──────┘   (clock once, timer once per batch)         └─► sink.drop: counted by the driver per reason
//
// Start-up refuses, with one clear line, what would make a broken server: an address it cannot bind
// (IO_BIND: not on this host, in use, no permission), a TUN device it cannot create (IO_TUN_OPEN). The
// global-unicast rule is a config check (config.ts), so --check-config catches it too. With a TUN device the
// server routes 2001:0:<primary>::/64 into it (replies toward its clients) and warns when the kernel does not
// forward IPv6, since packets it writes there would then be dropped by the kernel.
//
// SIGHUP: the MTU, the ICMPv6 size limit, allowNonGlobal and the stats interval change in place; a new address,
// forward interface or UDP socket setting needs a restart (sockets and devices are not re-created under a
// running server).

import { readFileSync } from 'node:fs';
import { openDatagramPort, type DatagramPortOptions } from '../../src/io/datagram-port.js';
import type { DatagramPort, TunDevice } from '../../src/io/ports.js';
import { openTun, type TunOptions } from '../../src/io/tun-linux.js';
import type { AgentContext, RunningAgent } from '../../src/runtime/cli.js';
import { systemClock, systemTimers, type Clock, type TimerHandle, type Timers } from '../../src/runtime/clock.js';
import { Driver } from '../../src/runtime/driver.js';
import type { DatagramBatch, PacketBatch } from '../../src/io/ports.js';
import { AgentError, bindError } from '../../src/runtime/errors.js';
import { IoErrorLog } from '../../src/runtime/logger.js';
import { SERVER_SOCKET, type ServerSink, type ServerSocket, type ServerSocketIndex } from '../../src/engine/teredo/server/server-types.js';
import { TeredoServer } from '../../src/engine/teredo/server/server.js';
import type { Millis } from '../../src/engine/types.js';
import { formatEndpoint4 } from '../../src/wire/endpoint.js';
import { formatIpv6 } from '../../src/wire/ipv6-address.js';
import { formatIpv4 } from '../../src/wire/ipv4.js';
import { teredoPrefix } from '../../src/wire/teredo-address.js';
import { TEREDO_LINK_MTU, TEREDO_PORT } from '../../src/wire/teredo-constants.js';
import { engineParams, type ServerAgentConfig } from './config.js';
import { nativeForwardingMode, startNativeForwarding, type NativeForwarding, type NativeForwardingDeps } from './native-forwarding.js';
import type { TeredoServerStatus } from './status.js';

/** Seams for tests; each defaults to the real thing. */
export interface ServerDeps extends NativeForwardingDeps {
  openPort?: (options: DatagramPortOptions) => Promise<DatagramPort>;
  openTun?: (options: TunOptions) => TunDevice;
  /** Whether the kernel forwards IPv6 (net.ipv6.conf.all.forwarding); undefined when unknown. */
  ipv6Forwarding?: () => boolean | undefined;
  clock?: Clock;
  timers?: Timers;
}


export async function startTeredoServer(ctx: AgentContext<ServerAgentConfig>, deps: ServerDeps = {}): Promise<RunningAgent<ServerAgentConfig, TeredoServerStatus>> {
  const { logger } = ctx;
  let config = ctx.config;
  const clock = deps.clock ?? systemClock;
  const timers = deps.timers ?? systemTimers;
  const params = engineParams(config);
  const engine = new TeredoServer(params);

  const portOptions = { implementation: config.udpSockets, receiveBufferSize: config.udpReceiveBuffer };
  const sockets = await openSockets(params.primary, params.secondary, portOptions, deps.openPort ?? openDatagramPort);
  let tun: TunDevice | undefined;
  let native: NativeForwarding;
  try {
    if (config.forwardInterface !== undefined) tun = openForwardInterface(config.forwardInterface, params.primary, deps.openTun ?? openTun);
    native = startNativeForwarding(nativeForwardingMode(config), logger, deps);
  } catch (err) {
    tun?.close();
    await Promise.all([sockets.primary.close(), sockets.secondary.close()]);
    throw err;
  }

  const ioErrors = new IoErrorLog(logger, () => clock.now());

  const byIndex: readonly DatagramPort[] = [sockets.primary, sockets.secondary];
  const driver = new Driver<ServerSink>({
    engine,
    logger,
    clock,
    timers,
    sink: (drop) => ({
      drop,
      sendUdp: (socket, data, offset, length, addr, port) => {
        byIndex[socket]!.send(data, offset, length, addr, port);
      },
      writeNative: (data, offset, length) => {
        if (tun) tun.write(data, offset, length);
        else native.sender?.send(data, offset, length);
      },
    }),
  });
  // One step per received batch: every datagram of it at the same `now` (the driver reads the clock once).
  const datagramStep = (socket: ServerSocketIndex) => (batch: DatagramBatch, now: Millis, sink: ServerSink): void => {
    for (let i = 0; i < batch.count; i++) engine.datagram(socket, batch.data, batch.offset(i), batch.length(i), batch.sourceAddr(i), batch.sourcePort(i), now, sink);
  };
  const tunStep = (batch: PacketBatch, now: Millis, sink: ServerSink): void => {
    for (let i = 0; i < batch.count; i++) engine.tun(batch.data, batch.offset(i), batch.length(i), now, sink);
  };
  for (const local of ['primary', 'secondary'] as const) {
    const step = datagramStep(SERVER_SOCKET[local]);
    sockets[local].onError(ioErrors.handler(local));
    sockets[local].onBatch((batch) => driver.batch(step, batch));
  }
  native.sender?.onError(ioErrors.handler('raw6'));
  if (tun) {
    tun.onError(ioErrors.handler('tun'));
    tun.onBatch((batch) => driver.batch(tunStep, batch));
  }
  driver.start();

  const snapshot = () => ({ ...engine.counters.snapshot(), drops: driver.drops(), ioErrors: ioErrors.count });
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

  const forwarding = (deps.ipv6Forwarding ?? readIpv6Forwarding)();
  if (tun && forwarding === false) {
    logger.warn({ forwardInterface: tun.name, sysctl: 'net.ipv6.conf.all.forwarding=0', effect: 'the kernel drops packets for the native network' }, 'ipv6 forwarding off');
  }
  logger.info(
    {
      primary: formatEndpoint4(sockets.primary.local),
      secondary: formatEndpoint4(sockets.secondary.local),
      prefix: `${formatIpv6(teredoPrefix(params.primary))}/64`,
      mtu: config.mtu,
      forwardInterface: tun?.name ?? null,
      nativeForwarding: native.mode,
      forwardIcmpv6MaxPayload: config.forwardIcmpv6MaxPayload,
      allowNonGlobal: config.allowNonGlobal,
      udpSockets: config.udpSockets,
    },
    'serving',
  );

  return {
    reload: (next) => {
      const changed = (['address', 'secondaryAddress', 'forwardInterface', 'nativeForwarding', 'udpSockets', 'udpReceiveBuffer'] as const).filter((k) => next[k] !== ctx.config[k]);
      if (changed.length > 0) {
        logger.warn({ changed, kept: 'running sockets and device' }, 'restart needed');
      }
      // Only the settings that can change in place; the addresses stay those of the sockets.
      config = { ...next, address: ctx.config.address, secondaryAddress: ctx.config.secondaryAddress, forwardInterface: ctx.config.forwardInterface, nativeForwarding: ctx.config.nativeForwarding, udpSockets: ctx.config.udpSockets, udpReceiveBuffer: ctx.config.udpReceiveBuffer };
      engine.reconfigure(engineParams(config));
      armStats();
    },
    stop: async () => {
      if (statsTimer !== undefined) timers.clearTimer(statsTimer);
      driver.stop();
      logger.info(snapshot(), 'counters');
      tun?.close();
      native.close();
      await Promise.all([sockets.primary.close(), sockets.secondary.close()]);
    },
    status: (): TeredoServerStatus => ({
      addresses: { primary: formatEndpoint4(sockets.primary.local), secondary: formatEndpoint4(sockets.secondary.local) },
      prefix: `${formatIpv6(teredoPrefix(params.primary))}/64`,
      mtu: config.mtu,
      forwardInterface: tun?.name ?? null,
      ...native.status(),
      forwardIcmpv6MaxPayload: config.forwardIcmpv6MaxPayload,
      allowNonGlobal: config.allowNonGlobal,
      ...snapshot(),
      driver: driver.stats(),
    }),
  };
}

/** Both sockets, with the configured implementation (native: batched, DF clear) and receive buffer. */
async function openSockets(primary: number, secondary: number, options: DatagramPortOptions, open: (o: DatagramPortOptions) => Promise<DatagramPort>): Promise<Record<ServerSocket, DatagramPort>> {
  const bind = async (addr: number, which: ServerSocket): Promise<DatagramPort> => {
    try {
      return await open({ ...options, address: addr, port: TEREDO_PORT });
    } catch (err) {
      const what = `UDP ${formatIpv4(addr)}:${TEREDO_PORT} (${which} address)`;
      if ((err as { code?: unknown }).code === 'IO_NATIVE_MISSING') {
        throw new AgentError('IO_BIND', `cannot open ${what}: ${(err as Error).message}; or run with --udp-sockets dgram`, { cause: err });
      }
      // The adapter wraps the errno in an IoError; bindError reads the errno from the original error.
      throw bindError(what, (err as { cause?: unknown }).cause ?? err);
    }
  };
  const p = await bind(primary, 'primary');
  try {
    return { primary: p, secondary: await bind(secondary, 'secondary') };
  } catch (err) {
    await p.close();
    throw err;
  }
}

function openForwardInterface(name: string, primary: number, open: (o: TunOptions) => TunDevice): TunDevice {
  let tun: TunDevice;
  try {
    tun = open({ name, mtu: TEREDO_LINK_MTU });
  } catch (err) {
    throw new AgentError('IO_TUN_OPEN', `cannot create TUN device ${JSON.stringify(name)} (needs CAP_NET_ADMIN and /dev/net/tun): ${(err as Error).message}`, { cause: err });
  }
  try {
    tun.setUp(true);
    // Native replies to our clients come back through the device; route their prefix into it.
    tun.addRoute(teredoPrefix(primary), 64);
  } catch (err) {
    tun.close();
    throw new AgentError('IO_INTERFACE', `cannot configure TUN device ${JSON.stringify(name)}: ${(err as Error).message}`, { cause: err });
  }
  return tun;
}

function readIpv6Forwarding(): boolean | undefined {
  try {
    return readFileSync('/proc/sys/net/ipv6/conf/all/forwarding', 'utf8').trim() === '1';
  } catch {
    return undefined;
  }
}
