// The agent host: the one place that runs an agent declaration. An agent (agents/<name>/agent.ts) declares its
// config spec (with a `live` flag per field), its imports (foreign files), its status type and formatter, and a
// `setup(host)` that names its ports and engines; the host does everything that is the same for all of them:
//
//   host.udp / tun / icmpv6 / raw6   open a port with ONE error translation (IO_BIND, IO_TUN_OPEN, IO_INTERFACE,
//                                    IO_RAW_SOCKET naming what was opened), count its I/O errors by port label and
//                                    log them rate-limited (IoErrorLog), close it at stop (routes removed first)
//   host.drive(engine, sink, inputs) the batched Driver for an engine, with one generic step per port kind
//                                    (datagrams, packets) feeding the declared engine input; drops counted
//   stats log                        a "counters" line every `statsInterval` seconds, for every agent
//   reload (SIGHUP)                  "restart needed" computed from the fields' live flags; restart-only fields
//                                    keep their running values; the agent's reload() sees only the live change
//   status                           { drops, ioErrors, driver } for every agent, beside the agent's own fields
//
// If a port fails to open, everything opened before it is closed again and the error propagates: a failed start
// leaves nothing behind.

import { openDatagramPort, type DatagramPortOptions } from '../io/datagram-port.js';
import { openIcmpv6Socket, type Icmpv6SocketOptions } from '../io/icmpv6-socket.js';
import type { DatagramBatch, DatagramPort, Icmpv6Socket, NativeIpv6Sender, PacketBatch, TunDevice } from '../io/ports.js';
import { linuxHost, type HostFacts } from '../io/linux-host.js';
import { openRawIpv6Sender } from '../io/raw-ipv6.js';
import { openTun, type TunOptions } from '../io/tun-linux.js';
import type { DropSink, Millis, Random, TimedEngine } from '../engine/types.js';
import { formatEndpoint4 } from '../wire/endpoint.js';
import { formatIpv4 } from '../wire/ipv4.js';
import { systemClock, systemTimers, type Clock, type TimerHandle, type Timers } from './clock.js';
import { changedFields, type ConfigSpec, type FieldSpec } from './config.js';
import { Driver } from './driver.js';
import { AgentError, bindError } from './errors.js';
import { IoErrorLog, type Logger } from './logger.js';
import { cryptoRandom } from './random.js';

/** Every agent's config has these fields (declared with STATS_INTERVAL_FIELD). */
export interface CommonConfig {
  /** Seconds between "counters" log lines; 0 = never. */
  readonly statsInterval: number;
}

export const DEFAULT_STATS_INTERVAL_SEC = 300;

export const STATS_INTERVAL_FIELD: FieldSpec = {
  type: 'integer',
  default: DEFAULT_STATS_INTERVAL_SEC,
  min: 0,
  max: 86_400,
  live: true,
  description: 'seconds between "counters" log lines at info level; 0 = never',
};

/** Seams for tests; each defaults to the real thing. */
export interface HostDeps {
  /** The kernel facts (routes, addresses, forwarding, interfaces); a FakeHost in tests. */
  facts?: HostFacts;
  openPort?: (options: DatagramPortOptions) => Promise<DatagramPort>;
  openTun?: (options: TunOptions) => TunDevice;
  openIcmpv6?: (options: Icmpv6SocketOptions) => Icmpv6Socket;
  openRaw6?: () => NativeIpv6Sender;
  clock?: Clock;
  timers?: Timers;
  random?: Random;
}

/** What the host knows of the process it runs in (the runtime's cli.ts fills it). */
export interface AgentContext<C> {
  readonly name: string;
  readonly instance: string | undefined;
  readonly config: C;
  readonly logger: Logger;
  /** For failures once running that the agent cannot survive: graceful stop, then exit with `exitCode` (default 1). */
  fatal(reason: string, exitCode?: number): void;
}

/** What an agent's setup() hands back: its own parts of status, reload, stop and SIGUSR1. */
export interface AgentParts<C, S> {
  /** The agent's own status fields (plain data: it travels as JSON); the host adds drops, ioErrors, driver. */
  status(): S;
  /** SIGHUP: `config` is the running config with the live fields changed (`changed` names them). */
  reload?(config: C, changed: readonly (keyof C & string)[]): Promise<void> | void;
  /** Final actions before the host stops the drivers and closes the ports (final RAs, engine.stop). */
  stop?(): Promise<void> | void;
  /** SIGUSR1: act now (rasadv: advertise now). */
  usr1?(): Promise<void> | void;
}

/** Fields the host adds to every agent's status. */
export interface HostStatus {
  /** Drops per reason, summed over the agent's drivers. */
  readonly drops: Readonly<Record<string, number>>;
  /** I/O errors per port label ('primary', 'tun', 'icmpv6:eth0', ...), every port listed. */
  readonly ioErrors: Readonly<Record<string, number>>;
  readonly driver: { readonly batches: number; readonly timeouts: number; readonly errors: number };
}

/** A route the host adds through a TUN device after bringing it up, and removes before closing it. */
export interface TunRoute {
  readonly prefix: Uint8Array;
  readonly length: number;
}

/**
 * One engine input fed by one port: per packet (`datagram` / `packet`: the host builds the step that loops over
 * each batch), or per batch (`datagrams` / `packets`: the engine's own loop is the step, for an engine that
 * checks what consecutive packets share once, as the relay does for superframes).
 */
export type EngineInput<K> =
  | { readonly from: DatagramPort; readonly datagram: (data: Uint8Array, offset: number, length: number, addr: number, port: number, now: Millis, sink: K) => void }
  | { readonly from: DatagramPort; readonly datagrams: (batch: DatagramBatch, now: Millis, sink: K) => void }
  | { readonly from: TunDevice; readonly packet: (data: Uint8Array, offset: number, length: number, now: Millis, sink: K) => void }
  | { readonly from: TunDevice; readonly packets: (batch: PacketBatch, now: Millis, sink: K) => void };

interface Closer {
  close(): Promise<void> | void;
}

export class Host<C extends CommonConfig> {
  readonly name: string;
  readonly instance: string | undefined;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: Random;
  /** What the agent asks of the kernel outside its ports (src/io/linux-host.ts). */
  readonly facts: HostFacts;
  readonly fatal: (reason: string, exitCode?: number) => void;
  #config: C;
  readonly #deps: HostDeps;
  readonly #ioErrors: IoErrorLog;
  readonly #ioByPort = new Map<string, number>();
  readonly #closers: Closer[] = [];
  readonly #drivers: Driver<DropSink>[] = [];

  constructor(ctx: AgentContext<C>, deps: HostDeps = {}) {
    this.name = ctx.name;
    this.instance = ctx.instance;
    this.logger = ctx.logger;
    this.fatal = ctx.fatal;
    this.#config = ctx.config;
    this.#deps = deps;
    this.clock = deps.clock ?? systemClock;
    this.timers = deps.timers ?? systemTimers;
    this.random = deps.random ?? cryptoRandom;
    this.facts = deps.facts ?? linuxHost;
    this.#ioErrors = new IoErrorLog(ctx.logger, () => this.clock.now());
  }

  /** The running config: the start-up one, then each reload's (restart-only fields keep their running values). */
  get config(): C {
    return this.#config;
  }

  /** A UDP socket, labelled `label` in status and logs. Throws AgentError IO_BIND naming the address. */
  async udp(label: string, options: DatagramPortOptions): Promise<DatagramPort> {
    const what = `UDP ${formatIpv4(options.address ?? 0)}:${options.port ?? 0} (${label})`;
    let port: DatagramPort;
    try {
      port = await (this.#deps.openPort ?? openDatagramPort)(options);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'IO_NATIVE_MISSING') {
        throw new AgentError('IO_BIND', `cannot open ${what}: ${(err as Error).message}; or run with --udp-sockets dgram`, { cause: err });
      }
      // The adapter wraps the errno in an IoError; bindError reads the errno from the original error.
      throw bindError(what, (err as { cause?: unknown }).cause ?? err);
    }
    this.#track(label, port);
    return port;
  }

  /**
   * A TUN device, up, with `routes` through it. Throws AgentError IO_TUN_OPEN (cannot create: CAP_NET_ADMIN,
   * /dev/net/tun) or IO_INTERFACE (cannot bring it up or route), the device closed again.
   */
  tun(label: string, options: TunOptions, routes: readonly TunRoute[] = []): TunDevice {
    let tun: TunDevice;
    try {
      tun = (this.#deps.openTun ?? openTun)(options);
    } catch (err) {
      throw new AgentError('IO_TUN_OPEN', `cannot create TUN device ${JSON.stringify(options.name)} (needs CAP_NET_ADMIN and /dev/net/tun): ${(err as Error).message}`, { cause: err });
    }
    try {
      tun.setUp(true);
      for (const r of routes) tun.addRoute(r.prefix, r.length);
    } catch (err) {
      tun.close();
      throw new AgentError('IO_INTERFACE', `cannot configure TUN device ${JSON.stringify(options.name)}: ${(err as Error).message}`, { cause: err });
    }
    tun.onError(this.#errorsOf(label));
    this.#closers.push({
      close: () => {
        for (const r of routes) {
          try {
            tun.removeRoute(r.prefix, r.length);
          } catch (err) {
            this.logger.warn({ err, port: label }, 'route removal failed (the device goes anyway)');
          }
        }
        tun.close();
      },
    });
    return tun;
  }

  /**
   * A raw ICMPv6 socket on one interface. Not closed by the host: an agent that follows its links (ra-sender)
   * opens and closes these itself. Throws AgentError IO_RAW_SOCKET.
   */
  icmpv6(label: string, options: Icmpv6SocketOptions): Icmpv6Socket {
    let socket: Icmpv6Socket;
    try {
      socket = (this.#deps.openIcmpv6 ?? openIcmpv6Socket)(options);
    } catch (err) {
      throw new AgentError('IO_RAW_SOCKET', `cannot open a raw ICMPv6 socket on ${options.ifname} (needs CAP_NET_RAW): ${(err as Error).message}`, { cause: err });
    }
    socket.onError(this.#errorsOf(label));
    return socket;
  }

  /** A send-only raw IPv6 socket (native forwarding). Throws AgentError IO_RAW_SOCKET with `hint` appended. */
  raw6(label: string, hint: string): NativeIpv6Sender {
    let sender: NativeIpv6Sender;
    try {
      sender = (this.#deps.openRaw6 ?? openRawIpv6Sender)();
    } catch (err) {
      throw new AgentError('IO_RAW_SOCKET', `cannot open the raw IPv6 socket (${label}; needs CAP_NET_RAW): ${(err as Error).message}; ${hint}`, { cause: err });
    }
    this.#track(label, sender);
    return sender;
  }

  /**
   * The batched Driver for `engine`, its sink built around the driver's drop counter, each input bound to its
   * port (reading starts here), the timer armed. Stopped by the host at stop.
   */
  drive<K extends DropSink>(engine: TimedEngine<K>, sink: (drop: (reason: number) => void) => K, inputs: readonly EngineInput<K>[] = []): Driver<K> {
    const driver = new Driver<K>({ engine, sink, logger: this.logger, clock: this.clock, timers: this.timers });
    for (const input of inputs) {
      if ('datagrams' in input) {
        const step = input.datagrams;
        input.from.onBatch((b) => driver.batch(step, b));
      } else if ('packets' in input) {
        const step = input.packets;
        input.from.onBatch((b) => driver.batch(step, b));
      } else if ('datagram' in input) {
        const handle = input.datagram;
        const step = (b: DatagramBatch, now: Millis, s: K): void => {
          for (let i = 0; i < b.count; i++) handle(b.data, b.offset(i), b.length(i), b.sourceAddr(i), b.sourcePort(i), now, s);
        };
        input.from.onBatch((b) => driver.batch(step, b));
      } else {
        const handle = input.packet;
        const step = (b: PacketBatch, now: Millis, s: K): void => {
          for (let i = 0; i < b.count; i++) handle(b.data, b.offset(i), b.length(i), now, s);
        };
        input.from.onBatch((b) => driver.batch(step, b));
      }
    }
    this.#drivers.push(driver as unknown as Driver<DropSink>);
    driver.start();
    return driver;
  }

  /** drops, ioErrors and driver totals, for status and the stats log line. */
  hostStatus(): HostStatus {
    const drops: Record<string, number> = {};
    let batches = 0;
    let timeouts = 0;
    let errors = 0;
    for (const d of this.#drivers) {
      for (const [reason, n] of Object.entries(d.drops())) drops[reason] = (drops[reason] ?? 0) + n;
      const s = d.stats();
      batches += s.batches;
      timeouts += s.timeouts;
      errors += s.errors;
    }
    return { drops, ioErrors: Object.fromEntries(this.#ioByPort), driver: { batches, timeouts, errors } };
  }

  #track(label: string, port: { onError(h: (e: Error) => void): void; close(): Promise<void> | void }): void {
    port.onError(this.#errorsOf(label));
    this.#closers.push(port);
  }

  #errorsOf(label: string): (err: Error) => void {
    if (!this.#ioByPort.has(label)) this.#ioByPort.set(label, 0);
    const log = this.#ioErrors.handler(label);
    return (err) => {
      this.#ioByPort.set(label, this.#ioByPort.get(label)! + 1);
      log(err);
    };
  }

  /** Stops every driver, then closes the ports, last opened first. */
  async close(): Promise<void> {
    for (const d of this.#drivers) d.stop();
    for (const c of this.#closers.splice(0).reverse()) await c.close();
  }

  /** Reload bookkeeping (runAgent below): the config the agent now runs with. */
  setConfig(next: C): void {
    this.#config = next;
  }
}

/** Formats a bound port for logs and status: "198.18.0.10:3544". */
export const portText = (port: DatagramPort): string => formatEndpoint4(port.local);

/** What the runtime (cli.ts) needs of a running agent: its hooks for signals and `status`. */
export interface RunningAgent<C, S> {
  stop(): Promise<void>;
  reload(config: C): Promise<void>;
  usr1?(): Promise<void> | void;
  status(): HostStatus & S;
}

/**
 * Runs `setup` on a new host: the ports it opens are closed again if it throws. Returns the hooks for signals and
 * status, with the stats log armed and reload computed from `spec`'s live flags.
 */
export async function runAgent<C extends CommonConfig, S>(
  spec: ConfigSpec<C>,
  setup: (host: Host<C>) => Promise<AgentParts<C, S>> | AgentParts<C, S>,
  ctx: AgentContext<C>,
  deps: HostDeps = {},
): Promise<RunningAgent<C, S>> {
  const host = new Host<C>(ctx, deps);
  let parts: AgentParts<C, S>;
  try {
    parts = await setup(host);
  } catch (err) {
    await host.close();
    throw err;
  }
  const status = (): HostStatus & S => ({ ...parts.status(), ...host.hostStatus() });
  let statsTimer: TimerHandle | undefined;
  const armStats = (): void => {
    if (statsTimer !== undefined) host.timers.clearTimer(statsTimer);
    statsTimer = undefined;
    if (host.config.statsInterval === 0) return;
    statsTimer = host.timers.setTimer(() => {
      host.logger.info(status() as object, 'counters');
      armStats();
    }, host.config.statsInterval * 1000);
  };
  armStats();

  return {
    stop: async () => {
      if (statsTimer !== undefined) host.timers.clearTimer(statsTimer);
      try {
        await parts.stop?.();
      } finally {
        host.logger.info(status() as object, 'counters');
        await host.close();
      }
    },
    reload: async (next) => {
      const running = host.config;
      const { live, restart } = changedFields(spec, running, next);
      if (restart.length > 0) host.logger.warn({ changed: restart, kept: 'running values (restart to apply)' }, 'restart needed');
      const kept = Object.fromEntries(restart.map((k) => [k, running[k]]));
      const applied = { ...next, ...kept } as C;
      host.setConfig(applied);
      if (live.length > 0) await parts.reload?.(applied, live);
      armStats();
    },
    ...(parts.usr1 ? { usr1: () => parts.usr1!() } : {}),
    status,
  };
}
