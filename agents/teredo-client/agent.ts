// The teredo-client process: the sans-I/O TeredoClient engine (src/engine/teredo/client.ts) wired through the
// batched Driver to one UDP socket (the client's Teredo port) and the Teredo TUN interface (interface.ts).
//
//   UDP socket batch ──driver.batch──► engine.datagram ─┬─► sink.sendUdp  ─► UDP socket
//   probe socket batch ────────────────► probeDatagram   ├─► sink.sendProbe ─► probe socket (cone RS only)
//   TUN batch ─────────driver.batch──► engine.tunPacket ┼─► sink.writeTun ─► TUN device
//   timer ─────────────────────────────► handleTimeout  ├─► sink.addressChanged ─► interface.ts (address, routes)
//                                                        └─► sink.stateChanged ───► log line + hook.ts
//
// Start-up refuses, with one clear line: a server name that does not resolve to IPv4 (CONFIG_INVALID), a port
// it cannot bind (IO_BIND), a TUN device it cannot create (IO_TUN_OPEN). SIGHUP: timing, hook and default-route
// mode change in place; another server (or the name resolving elsewhere) re-qualifies; interface, port and bind
// address need a restart.

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { openDatagramPort, type DatagramPortOptions } from '../../src/io/datagram-port.js';
import type { DatagramBatch, DatagramPort, PacketBatch, TunDevice } from '../../src/io/ports.js';
import { openTun } from '../../src/io/tun-linux.js';
import type { AgentContext, RunningAgent } from '../../src/runtime/cli.js';
import { systemClock, systemTimers, type Clock, type Timers } from '../../src/runtime/clock.js';
import { Driver } from '../../src/runtime/driver.js';
import { AgentError, bindError } from '../../src/runtime/errors.js';
import type { ClientStatus } from './status.js';
import { IoErrorLog } from '../../src/runtime/logger.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { TeredoClient } from '../../src/engine/teredo/client/client.js';
import type { ClientSink, ClientState } from '../../src/engine/teredo/client/client-types.js';
import type { Millis } from '../../src/engine/types.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import { formatIpv6 } from '../../src/wire/ipv6-address.js';
import { engineParams, resolveSettings, type ClientAgentConfig, type ClientSettings } from './config.js';
import { HookRunner } from './hook.js';
import { TeredoInterface, openTeredoInterface, type RouteTableReader } from './interface.js';
import { clientStatus } from './status-data.js';

/** Seams for tests; each defaults to the real thing. */
export interface ClientDeps {
  openPort?: (options: DatagramPortOptions) => Promise<DatagramPort>;
  openTun?: (options: { name: string; mtu: number }) => TunDevice;
  resolve?: (name: string) => Promise<number>;
  routes?: RouteTableReader;
  clock?: Clock;
  timers?: Timers;
}


/** IPv4 of `name` (an address is returned as is). CONFIG_INVALID when it does not resolve. */
async function resolveServer(name: string, resolve: (n: string) => Promise<number>, what: string): Promise<number> {
  if (isIP(name) === 4) return parseIpv4(name);
  try {
    return await resolve(name);
  } catch (err) {
    throw new AgentError('CONFIG_INVALID', `${what} (${JSON.stringify(name)}) does not resolve to an IPv4 address: ${(err as Error).message}`, { cause: err });
  }
}

const dnsResolve = async (name: string): Promise<number> => parseIpv4((await lookup(name, { family: 4 })).address);

export async function startTeredoClient(ctx: AgentContext<ClientAgentConfig>, deps: ClientDeps = {}): Promise<RunningAgent<ClientAgentConfig, ClientStatus>> {
  const { logger } = ctx;
  let config = ctx.config;
  const clock = deps.clock ?? systemClock;
  const timers = deps.timers ?? systemTimers;
  const resolve = deps.resolve ?? dnsResolve;
  const settings: ClientSettings = resolveSettings(config).settings;
  if (settings.ignoredMiredoDirectives.length > 0) logger.info({ ignored: settings.ignoredMiredoDirectives }, 'miredo.conf directives without meaning here');
  const servers = async (s: ClientSettings): Promise<{ primary: number; secondary: number | undefined }> => ({
    primary: await resolveServer(s.server, resolve, 'server'),
    secondary: s.secondaryServer === undefined ? undefined : parseIpv4(s.secondaryServer),
  });
  let server = await servers(settings);
  const engine = new TeredoClient(engineParams(config, server.primary, server.secondary), cryptoRandom);

  const bind = settings.bindAddress === undefined ? 0 : parseIpv4(settings.bindAddress);
  let port: DatagramPort;
  try {
    port = await (deps.openPort ?? openDatagramPort)({ address: bind, port: settings.port, implementation: config.udpSockets });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'IO_NATIVE_MISSING') throw new AgentError('IO_BIND', `cannot open UDP ${formatIpv4(bind)}:${settings.port}: ${(err as Error).message}; or run with --udp-sockets dgram`, { cause: err });
    throw bindError(`UDP ${formatIpv4(bind)}:${settings.port}`, (err as { cause?: unknown }).cause ?? err);
  }
  // The probe socket: a second, random local port for the cone RS only (src/engine/teredo/client.ts says why).
  let probe: DatagramPort;
  try {
    probe = await (deps.openPort ?? openDatagramPort)({ address: bind, port: 0, implementation: config.udpSockets });
  } catch (err) {
    await port.close();
    throw bindError(`UDP ${formatIpv4(bind)}:0 (probe socket)`, (err as { cause?: unknown }).cause ?? err);
  }
  let iface: TeredoInterface;
  try {
    iface = new TeredoInterface(openTeredoInterface(settings.interface, deps.openTun ?? openTun), config.defaultRoute, logger, deps.routes);
  } catch (err) {
    await Promise.all([port.close(), probe.close()]);
    throw err;
  }
  const hook = new HookRunner(config.hook, logger);
  const ioErrors = new IoErrorLog(logger, () => clock.now());

  const hookState = (s: ClientState): 'up' | 'down' => (s === 'qualified' ? 'up' : 'down');
  const runHook = (state: ClientState, previous: ClientState, oldAddress: Uint8Array | undefined): void => {
    const a = engine.address;
    hook.fire({ state: hookState(state), oldState: hookState(previous), clientState: state, iface: iface.tun.name, address: a ? formatIpv6(a) : '', oldAddress: oldAddress ? formatIpv6(oldAddress) : '', mtu: iface.mtu, nat: engine.nat });
  };
  // The address removed by the last addressChanged, for the OLD_ADDRESS of the state change that follows.
  let removed: Uint8Array | undefined;
  const sink = (drop: (reason: number) => void): ClientSink => ({
    drop,
    sendUdp: (data, offset, length, addr, p) => port.send(data, offset, length, addr, p),
    sendProbe: (data, offset, length, addr, p) => probe.send(data, offset, length, addr, p),
    writeTun: (data, offset, length) => void iface.tun.write(data, offset, length),
    addressChanged: (previous, current) => {
      iface.change(previous, current);
      removed = previous?.slice();
      if (previous !== undefined && current !== undefined) {
        // A new mapping while qualified (RFC 4380 §5.2.5): no state change, but the address did change.
        logger.info({ address: formatIpv6(current), previous: formatIpv6(previous) }, 'address changed');
        runHook('qualified', 'qualified', previous);
      }
    },
    stateChanged: (state, previous) => {
      const s = engine.snapshot(clock.now());
      const fields = {
        state,
        previous,
        nat: s.nat,
        address: s.address ? formatIpv6(s.address) : null,
        mapped: s.mappedAddr !== undefined ? `${formatIpv4(s.mappedAddr)}:${s.mappedPort}` : null,
        qualificationMs: state === 'qualified' ? s.qualificationMs : undefined,
        error: s.error,
      };
      if (state === 'qualified' || state === 'offline') logger.info(fields, 'state');
      else logger.debug(fields, 'state');
      if (hookState(state) !== hookState(previous)) runHook(state, previous, removed);
      removed = undefined;
    },
  });
  const driver = new Driver<ClientSink>({ engine, sink, logger, clock, timers });

  const udpStep = (b: DatagramBatch, now: Millis, s: ClientSink): void => {
    for (let i = 0; i < b.count; i++) engine.datagram(b.data, b.offset(i), b.length(i), b.sourceAddr(i), b.sourcePort(i), now, s);
  };
  const probeStep = (b: DatagramBatch, now: Millis, s: ClientSink): void => {
    for (let i = 0; i < b.count; i++) engine.probeDatagram(b.data, b.offset(i), b.length(i), b.sourceAddr(i), b.sourcePort(i), now, s);
  };
  const tunStep = (b: PacketBatch, now: Millis, s: ClientSink): void => {
    for (let i = 0; i < b.count; i++) engine.tunPacket(b.data, b.offset(i), b.length(i), now, s);
  };
  port.onError(ioErrors.handler('udp'));
  port.onBatch((b) => driver.batch(udpStep, b));
  probe.onError(ioErrors.handler('probe'));
  probe.onBatch((b) => driver.batch(probeStep, b));
  iface.tun.onError(ioErrors.handler('tun'));
  iface.tun.onBatch((b) => driver.batch(tunStep, b));
  driver.start();
  driver.batch((_: undefined, now, s) => engine.start(now, s), undefined);
  logger.info(
    { server: settings.server, primary: formatIpv4(server.primary), secondary: formatIpv4(engine.config.secondary), local: `${formatIpv4(port.local.addr)}:${port.local.port}`, interface: iface.tun.name, qualification: config.qualification, defaultRoute: config.defaultRoute },
    'client running',
  );

  return {
    reload: async (next) => {
      const nextSettings = resolveSettings(next).settings;
      const changed = [...(['interface', 'port', 'bindAddress'] as const).filter((k) => nextSettings[k] !== settings[k]), ...(next.udpSockets !== config.udpSockets ? ['udpSockets'] : [])];
      if (changed.length > 0) logger.warn({ changed, kept: 'running socket and interface' }, 'restart needed');
      server = await servers(nextSettings);
      config = next;
      hook.setCommand(next.hook);
      iface.setMode(next.defaultRoute);
      driver.batch((_: undefined, now, s) => engine.reconfigure(engineParams(next, server.primary, server.secondary), now, s), undefined);
    },
    stop: async () => {
      driver.batch((_: undefined, now, s) => engine.stop(now, s), undefined);
      driver.stop();
      iface.close();
      await hook.drain();
      await Promise.all([port.close(), probe.close()]);
    },
    status: () => ({
      ...clientStatus({
        snapshot: engine.snapshot(clock.now()),
        serverName: settings.server,
        local: port.local,
        interfaceName: iface.tun.name,
        mtu: iface.mtu,
        defaultRoute: iface.hasDefaultRoute,
        qualification: config.qualification,
      }),
      peers: engine.peerSummary(),
      hook: config.hook === undefined ? null : { command: config.hook, ...hook.counters },
      ioErrors: ioErrors.count,
      drops: driver.drops(),
      driver: driver.stats(),
    }),
  };
}
