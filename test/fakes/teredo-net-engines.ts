// The Teredo engines plugged into the in-memory network (teredo-net.ts) as its hosts, each on the real Driver
// with the network's FakeClock as clock and timers, wired as the agents wire them (agents/teredo-*/):
//   TeredoServerHost  a TeredoServer on primary:3544 and secondary:3544 (one host holding both addresses, or two
//                     hosts: the addresses on links of different latency), writing native packets into a TUN
//                     device; stop() and start() close and reopen its sockets (the agent stopped, restarted)
//   TeredoClientHost  a TeredoClient with its main socket, its probe socket, on demand a pool of sockets (RFC 6081
//                     §5.4) and a TUN device whose far end is the host's IPv6 stack (teredo-net-native.ts); it
//                     logs its states, addresses and drops
//   TeredoRelayHost   a TeredoRelay on one socket, its TUN device on the native side
// Datagrams and TUN packets reach the engines lent, in batches poisoned after the call (teredo-net-port.ts), as
// in production; every input goes through Driver.batch, every timer through the Driver's one timer.

import { TeredoClient } from '../../src/engine/teredo/client/client.js';
import { CLIENT_DROP_REASONS, type ClientSink, type ClientState, type TeredoClientParams } from '../../src/engine/teredo/client/client-types.js';
import { TeredoRelay } from '../../src/engine/teredo/relay/relay.js';
import type { RelaySink, TeredoRelayParams } from '../../src/engine/teredo/relay/relay-types.js';
import { TeredoServer } from '../../src/engine/teredo/server/server.js';
import type { ServerSink, ServerSocketIndex, TeredoServerParams } from '../../src/engine/teredo/server/server-types.js';
import { seededRandom, type DropSink, type Millis, type TimedEngine } from '../../src/engine/types.js';
import type { DatagramBatch, PacketBatch } from '../../src/io/ports.js';
import { Driver } from '../../src/runtime/driver.js';
import type { FakeClock } from '../../src/runtime/fake-clock.js';
import { TEREDO_PORT } from '../../src/wire/teredo-constants.js';
import { capturedLogger } from './log-capture.js';
import type { VirtualHost, VirtualInternet } from './teredo-net.js';
import { stackBehind, type Ipv6Stack } from './teredo-net-native.js';
import type { VirtualDatagramPort } from './teredo-net-port.js';
import type { VirtualTun } from './teredo-net-tun.js';

/** A client's main socket port by default (the agent's configured port), and its probe socket's. */
const CLIENT_MAIN_PORT = 40000;
const CLIENT_PROBE_PORT = 40001;
/** The first pool socket's port (the next ones count up), as the agent's would be from the kernel's ephemeral range. */
const CLIENT_POOL_BASE_PORT = 50000;

function drive<S extends DropSink>(name: string, engine: TimedEngine<S>, clock: FakeClock, sink: (drop: (reason: number) => void) => S): Driver<S> {
  return new Driver<S>({ engine, logger: capturedLogger(name, 'info').logger, clock, timers: clock, sink });
}

/** Each datagram of a batch to `on(data, offset, length, addr, port, now, sink)`. */
function perDatagram<S>(on: (data: Uint8Array, offset: number, length: number, addr: number, port: number, now: Millis, sink: S) => void) {
  return (b: DatagramBatch, now: Millis, sink: S): void => {
    for (let i = 0; i < b.count; i++) on(b.data, b.offset(i), b.length(i), b.sourceAddr(i), b.sourcePort(i), now, sink);
  };
}

/** Each packet of a TUN batch to `on(data, offset, length, now, sink)`. */
function perPacket<S>(on: (data: Uint8Array, offset: number, length: number, now: Millis, sink: S) => void) {
  return (b: PacketBatch, now: Millis, sink: S): void => {
    for (let i = 0; i < b.count; i++) on(b.data, b.offset(i), b.length(i), now, sink);
  };
}

export class TeredoServerHost {
  readonly engine: TeredoServer;
  readonly driver: Driver<ServerSink>;
  readonly #hosts: readonly [VirtualHost, VirtualHost];
  readonly #addrs: readonly [number, number];
  readonly #steps = [0, 1].map((s) => perDatagram<ServerSink>((d, o, l, a, p, now, sink) => this.engine.datagram(s as ServerSocketIndex, d, o, l, a, p, now, sink)));
  #ports: VirtualDatagramPort[] = [];

  /** Starts at once. `hosts` hold params.primary and params.secondary; `native` takes what goes to native IPv6. */
  constructor(clock: FakeClock, hosts: readonly [VirtualHost, VirtualHost], params: TeredoServerParams, native?: VirtualTun) {
    this.engine = new TeredoServer(params);
    this.#hosts = hosts;
    this.#addrs = [params.primary, params.secondary];
    this.driver = drive('teredo-server', this.engine, clock, (drop) => ({
      drop,
      sendUdp: (socket, data, offset, length, addr, port) => this.#ports[socket]!.send(data, offset, length, addr, port),
      writeNative: (data, offset, length) => void native?.write(data, offset, length),
    }));
    const fromTun = perPacket<ServerSink>(this.engine.tun.bind(this.engine));
    native?.onBatch((b) => this.driver.batch(fromTun, b));
    this.start();
  }

  /** Binds both sockets and serves. */
  start(): void {
    this.#ports = this.#hosts.map((h, i) => h.bind(TEREDO_PORT, this.#addrs[i]));
    this.#ports.forEach((p, i) => p.onBatch((b) => this.driver.batch(this.#steps[i]!, b)));
    this.driver.start();
  }

  /** The server goes away: its sockets close, datagrams to them are lost ('port-unreachable'). */
  stop(): void {
    this.driver.stop();
    for (const p of this.#ports) void p.close();
  }
}

export interface ClientHostOptions {
  /** Seed of the engine's randomness (nonces, random address bits, refresh jitter). Default 1. */
  readonly seed?: number;
  readonly mainPort?: number;
  readonly probePort?: number;
  /** Bind the discovery socket (port 3544, RFC 4380 §5.2.8 local discovery) as the agent does. Default false. */
  readonly discovery?: boolean;
  /** Sockets in the RFC 6081 §5.4 pool (client-pps.ts), given to the engine as the agent does. Default 0. */
  readonly pool?: number;
}

export class TeredoClientHost {
  readonly engine: TeredoClient;
  readonly driver: Driver<ClientSink>;
  readonly main: VirtualDatagramPort;
  readonly probe: VirtualDatagramPort;
  readonly pool: readonly VirtualDatagramPort[];
  /** The client's TUN device: `tun.written` holds every packet the engine handed to the host, at once. */
  readonly tun: VirtualTun;
  /** The host's IPv6 stack at the device's far end (it answers nothing unless given a responder). */
  readonly stack: Ipv6Stack;
  readonly states: { readonly at: Millis; readonly state: ClientState }[] = [];
  readonly addresses: { readonly at: Millis; readonly previous: Uint8Array | undefined; readonly current: Uint8Array | undefined }[] = [];
  /** Every drop by reason name, in order (an index outside CLIENT_DROP_REASONS shows as `invalid-<index>`). */
  readonly drops: string[] = [];
  readonly #clock: FakeClock;

  /** Not started: call start(). */
  constructor(inet: VirtualInternet, host: VirtualHost, params: TeredoClientParams, options: ClientHostOptions = {}) {
    this.#clock = inet.clock;
    this.pool = Array.from({ length: options.pool ?? 0 }, (_, i) => host.bind(CLIENT_POOL_BASE_PORT + i));
    const portPreservingPorts = this.pool.map((p) => p.local.port);
    this.engine = new TeredoClient({ ...params, portPreservingPorts }, seededRandom(options.seed ?? 1));
    this.main = host.bind(options.mainPort ?? CLIENT_MAIN_PORT);
    this.probe = host.bind(options.probePort ?? CLIENT_PROBE_PORT);
    const [tun, far] = inet.tunPair(['teredo', 'host']);
    this.tun = tun;
    this.stack = stackBehind(far);
    this.driver = drive('teredo-client', this.engine, inet.clock, (drop) => ({
      drop: (reason) => {
        this.drops.push(CLIENT_DROP_REASONS[reason] ?? `invalid-${reason}`);
        drop(reason);
      },
      sendUdp: (data, offset, length, addr, port) => this.main.send(data, offset, length, addr, port),
      sendUdpFrom: (socket, data, offset, length, addr, port) => this.pool[socket]!.send(data, offset, length, addr, port),
      sendProbe: (data, offset, length, addr, port) => this.probe.send(data, offset, length, addr, port),
      writeTun: (data, offset, length) => void this.tun.write(data, offset, length),
      addressChanged: (previous, current) => void this.addresses.push({ at: this.#clock.now(), previous: previous?.slice(), current: current?.slice() }),
      stateChanged: (state) => void this.states.push({ at: this.#clock.now(), state }),
    }));
    const engine = this.engine;
    const onMain = perDatagram<ClientSink>(engine.datagram.bind(engine));
    const onProbe = perDatagram<ClientSink>(engine.probeDatagram.bind(engine));
    const onTun = perPacket<ClientSink>(engine.tunPacket.bind(engine));
    this.main.onBatch((b) => this.driver.batch(onMain, b));
    this.probe.onBatch((b) => this.driver.batch(onProbe, b));
    this.tun.onBatch((b) => this.driver.batch(onTun, b));
    this.pool.forEach((p, i) => {
      const onPool = perDatagram<ClientSink>((d, o, l, a, port, now, sink) => engine.poolDatagram(i, d, o, l, a, port, now, sink));
      p.onBatch((b) => this.driver.batch(onPool, b));
    });
    if (options.discovery === true) {
      const onDiscovery = perDatagram<ClientSink>(engine.discoveryDatagram.bind(engine));
      host.bind(TEREDO_PORT).onBatch((b) => this.driver.batch(onDiscovery, b));
    }
  }

  /** Starts the driver and qualification, as the agent does. */
  start(): this {
    this.driver.start();
    this.control((engine, now, sink) => engine.start(now, sink));
    return this;
  }

  /** A control call through the driver at the current time (stop, reconfigure), as the agent makes them. */
  control(call: (engine: TeredoClient, now: Millis, sink: ClientSink) => void): void {
    this.driver.batch((_: undefined, now, sink) => call(this.engine, now, sink), undefined);
  }
}

export class TeredoRelayHost {
  readonly engine: TeredoRelay;
  readonly driver: Driver<RelaySink>;
  readonly port: VirtualDatagramPort;

  /** Starts at once: the relay's socket is `port` on `host`; `tun` is its device on the native side. */
  constructor(clock: FakeClock, host: VirtualHost, port: number, params: TeredoRelayParams, tun: VirtualTun) {
    this.engine = new TeredoRelay(params);
    this.port = host.bind(port);
    this.driver = drive('teredo-relay', this.engine, clock, (drop) => ({
      drop,
      sendUdp: (data, offset, length, addr, p) => this.port.send(data, offset, length, addr, p),
      writeTun: (data, offset, length) => void tun.write(data, offset, length),
    }));
    const onUdp = perDatagram<RelaySink>(this.engine.datagram.bind(this.engine));
    const onTun = perPacket<RelaySink>(this.engine.tun.bind(this.engine));
    this.port.onBatch((b) => this.driver.batch(onUdp, b));
    tun.onBatch((b) => this.driver.batch(onTun, b));
    this.driver.start();
  }
}
