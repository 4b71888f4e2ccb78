// One advertising interface: its RaSender engine, a Driver for the engine's timers, and its raw ICMPv6 socket
// (src/io/icmpv6-socket.ts: hop limit 255, joined to ff02::2, only RSs delivered). It follows the link: the
// socket opens and the engine starts once the interface has a usable link-local address (DAD done), pauses
// when that address goes (link down), re-opens when the interface comes back with a new ifindex, and reloads
// the engine when the MAC, MTU or the addresses behind `prefix auto` change. Lifecycle options beside the
// settings: monitor mode (the engine keeps the other routers' RAs; monitor-only sends nothing), RFC 9096
// lifetime caps, and the prefixes a previous run left on the hosts (the state file), handed to the engine
// once it exists and kept in the saved state until then.

import type { Icmpv6Message, Icmpv6Socket } from '../../src/io/ports.js';
import type { Driver } from '../../src/runtime/driver.js';
import type { Host } from '../../src/runtime/host.js';
import type { Logger } from '../../src/runtime/logger.js';
import { LogRateLimiter } from '../../src/runtime/logger.js';
import { RaSender, type RaSenderConfig, type RaSink } from '../../src/engine/ra/sender.js';
import { RA_INCONSISTENCIES } from '../../src/engine/ra/consistency.js';
import type { Millis } from '../../src/engine/types.js';
import { ICMPV6_TYPE } from '../../src/wire/icmpv6.js';
import { ALL_ROUTERS, formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { hex } from '../../src/wire/bytes.js';
import { linkProblems, toEngineConfig, type RaInterfaceSettings } from './settings.js';
import type { LinkState } from './link.js';
import { describeRas } from './format.js';
import { raSource } from './options.js';
import type { InterfaceStatus } from './status.js';
import type { RaSenderAgentConfig } from './config.js';
import { capLifetimes, snapshot, toStored, type LifetimeCaps, type RestoredPrefix, type StoredPrefix } from './renumbering-state.js';
import { monitorStatus } from './monitor-status.js';

/** What the agent-wide flags say about every interface (issue 19's lifecycle block of config.ts). */
export interface LifecycleOptions extends LifetimeCaps {
  readonly monitor: boolean;
  readonly monitorOnly: boolean;
}

export function lifecycleOptions(c: RaSenderAgentConfig): LifecycleOptions {
  return { monitor: c.monitor || c.monitorOnly, monitorOnly: c.monitorOnly, maxPreferredLifetimeSec: c.maxPreferredLifetime, maxValidLifetimeSec: c.maxValidLifetime };
}

/** What an interface takes from the agent host: its socket (host.icmpv6), driver (host.drive), clock, random. */
export type InterfaceHost = Pick<Host<RaSenderAgentConfig>, 'icmpv6' | 'drive' | 'clock' | 'random' | 'logger'>;

export type InterfaceState = 'waiting-for-interface' | 'waiting-for-dad' | 'advertising' | 'monitoring' | 'refused' | 'stopping' | 'stopped';

/** §6.2.7 inconsistencies of one kind are logged at most once a minute. */
const INCONSISTENCY_LOG_MS = 60_000;

export class AdvertisingInterface {
  #settings: RaInterfaceSettings;
  readonly #host: InterfaceHost;
  readonly #log: Logger;
  #engine: RaSender | undefined;
  #driver: Driver<RaSink> | undefined;
  #socket: Icmpv6Socket | undefined;
  #link: LinkState | undefined;
  /** AdvRASrcAddress picked for this link (options.ts raSource), or undefined: the kernel's choice. */
  #source: Uint8Array | undefined;
  #sourceText: string | undefined;
  #config: RaSenderConfig | undefined;
  #problems: string[] = [];
  /** Settings from a reload not yet in the engine config: rebuilt at the next poll with a usable link. */
  #settingsChanged = false;
  #state: InterfaceState = 'waiting-for-interface';
  #finalDone: (() => void) | undefined;
  /** The stop in progress: a second stop() waits for the same final RAs. */
  #stopping: Promise<void> | undefined;
  /** §6.2.7 inconsistencies seen per kind (RA_INCONSISTENCIES), each logged at most once a minute. */
  readonly #inconsistencies = new Float64Array(RA_INCONSISTENCIES.length);
  readonly #inconsistencyLog = new LogRateLimiter(INCONSISTENCY_LOG_MS);
  readonly #warnings: string[];
  #options: LifecycleOptions;
  /** Prefixes a previous run left on the hosts, until the engine exists to take them. */
  #restored: readonly RestoredPrefix[];
  #wallClock: () => number;

  constructor(settings: RaInterfaceSettings, warnings: readonly string[], host: InterfaceHost, options: LifecycleOptions, restored: readonly RestoredPrefix[] = [], wallClock: () => number = Date.now) {
    this.#settings = settings;
    this.#options = options;
    this.#restored = restored;
    this.#wallClock = wallClock;
    this.#warnings = [...warnings];
    this.#host = host;
    this.#log = host.logger.child({ iface: settings.name });
  }

  get name(): string {
    return this.#settings.name;
  }

  get state(): InterfaceState {
    return this.#state;
  }

  /** Problems only the live link shows (MTU option above the link MTU, a part that does not fit). */
  get problems(): readonly string[] {
    return this.#problems;
  }

  /** New settings (SIGHUP): applied by the next poll that finds the link usable (the agent polls right after). */
  reload(settings: RaInterfaceSettings, warnings: readonly string[], options: LifecycleOptions): void {
    this.#settings = settings;
    this.#options = options;
    this.#settingsChanged = true;
    this.#warnings.splice(0, this.#warnings.length, ...warnings);
  }

  /** Applies the link's current state (and settings a reload left pending). */
  poll(link: LinkState): void {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    const previous = this.#link;
    this.#link = link;
    if (link.ifindex === undefined || link.linkLocal === undefined || link.mtu === undefined) {
      const next: InterfaceState = link.ifindex === undefined ? 'waiting-for-interface' : 'waiting-for-dad';
      if (this.#state === 'advertising' || this.#state === 'monitoring') this.#log.warn({ state: next }, 'link-local address gone (link down?): not advertising');
      if (next !== this.#state) this.#log.info({ state: next, tentative: link.tentative }, next === 'waiting-for-interface' ? 'waiting for the interface' : 'waiting for the link-local address (DAD)');
      this.#state = next;
      this.#driver?.batch(this.#pauseStep, undefined);
      if (link.ifindex === undefined) this.#closeSocket();
      return;
    }
    const facts = { mac: link.mac, autoPrefixes: link.autoPrefixes };
    this.#problems = linkProblems(this.#settings, facts, link.mtu);
    if (this.#problems.length > 0) {
      if (this.#state !== 'refused') this.#log.error({ problems: this.#problems }, 'not advertising on this interface');
      this.#state = 'refused';
      this.#driver?.batch(this.#pauseStep, undefined);
      return;
    }
    if (this.#socket !== undefined && this.#socket.ifindex !== link.ifindex) this.#closeSocket();
    if (this.#socket === undefined) this.#openSocket();
    const force = this.#settingsChanged;
    const changed = force || previous === undefined || previous.mtu !== link.mtu || hex(previous.mac ?? new Uint8Array()) !== hex(link.mac ?? new Uint8Array()) || previous.autoPrefixes.map((p) => hex(p)).join() !== link.autoPrefixes.map((p) => hex(p)).join();
    if (this.#engine === undefined || changed || this.#config === undefined) {
      const base = toEngineConfig(this.#settings, facts, link.mtu);
      const o = this.#options;
      this.#config = { ...base, content: { ...base.content, prefixes: capLifetimes(base.content.prefixes, o) }, monitor: o.monitor, advertise: !o.monitorOnly };
      this.#settingsChanged = false;
      this.#ensureEngine(this.#config).batch(this.#reloadStep, this.#config);
      if (this.#restored.length > 0) {
        this.#driver!.batch(this.#restoreStep, this.#restored);
        this.#restored = [];
      }
    }
    const source = raSource(this.#settings, link.addresses);
    if (link.linkLocal !== previous?.linkLocal || source !== this.#sourceText) {
      this.#sourceText = source;
      this.#source = source === undefined ? undefined : parseIpv6(source);
      // Our own RAs, heard back by the monitor, come from either.
      this.#engine!.setOwnAddresses(this.#source === undefined ? [parseIpv6(link.linkLocal)] : [parseIpv6(link.linkLocal), this.#source]);
    }
    const active: InterfaceState = this.#options.monitorOnly ? 'monitoring' : 'advertising';
    const fwdOff = link.forwarding === false && this.#settings.routerLifetimeSec > 0 && !this.#options.monitorOnly;
    if (fwdOff && (this.#state !== active || previous?.forwarding !== false || force)) this.#log.warn(forwardingWarning(this.#settings));
    if (this.#state !== active) {
      this.#log.info({ linkLocal: link.linkLocal, ifindex: link.ifindex, mtu: link.mtu, forwarding: link.forwarding ?? null }, active);
      this.#state = active;
      this.#driver!.batch(this.#startStep, undefined);
    }
  }

  /** Graceful stop: the final RAs (§6.2.5), then the socket is closed. Resolves when done. */
  stop(): Promise<void> {
    if (this.#state === 'stopped') return Promise.resolve();
    const driver = this.#driver;
    if (driver === undefined) {
      this.#state = 'stopped';
      this.#closeSocket();
      return Promise.resolve();
    }
    if (this.#stopping !== undefined) return this.#stopping;
    this.#state = 'stopping';
    const done = new Promise<void>((resolve) => {
      this.#finalDone = resolve;
    });
    driver.batch(this.#stopStep, undefined);
    this.#stopping = done.then(() => {
      this.#state = 'stopped';
      driver.stop();
      this.#closeSocket();
      this.#log.info({ finalAdvertisements: this.#engine?.counters.finalAdvertisements ?? 0 }, 'stopped');
    });
    return this.#stopping;
  }

  /** Bumped when what the hosts may hold from us changes (the engine's renumberingVersion). */
  get renumberingVersion(): number {
    return this.#engine?.renumberingVersion ?? 0;
  }

  /** The prefixes hosts may hold from us, for the state file: the engine's, or those restored and not yet handed over. */
  stored(now: Millis, marginMs: number): StoredPrefix[] {
    const wall = this.#wallClock();
    if (this.#engine !== undefined) return snapshot(this.#engine, now, wall, marginMs);
    return this.#restored.map((p) => toStored(p.prefix, p.validUntil));
  }

  status(now: Millis): InterfaceStatus {
    const e = this.#engine;
    const link = this.#link;
    const warnings = [...this.#warnings];
    if (link?.forwarding === false && this.#settings.routerLifetimeSec > 0) warnings.push(forwardingWarning(this.#settings));
    return {
      interface: this.#settings.name,
      state: this.#state,
      linkLocal: link?.linkLocal ?? null,
      ifindex: link?.ifindex ?? null,
      mtu: link?.mtu ?? null,
      forwarding: link?.forwarding ?? null,
      problems: this.#problems,
      warnings,
      counters: e ? { ...e.counters } : null,
      drops: this.#driver?.drops() ?? {},
      inconsistencies: Object.fromEntries(RA_INCONSISTENCIES.flatMap((r, i) => (this.#inconsistencies[i]! > 0 ? [[r, this.#inconsistencies[i]!]] : []))),
      lastAdvertSecAgo: e?.lastMulticastAt === undefined ? null : Math.round((now - e.lastMulticastAt) / 1000),
      nextAdvertInSec: e?.nextAdvertAt === undefined ? null : Math.max(0, Math.round((e.nextAdvertAt - now) / 1000)),
      monitor: e && this.#options.monitor ? monitorStatus(e.routers, now) : null,
      deprecated: e?.deprecated(now).map((d) => ({ prefix: `${formatIpv6(d.prefix.prefix)}/${d.prefix.prefixLength}`, remainingSec: d.remainingSec })) ?? [],
      lastRa: e ? (describeRas(e.lastSent) ?? null) : null,
      driver: this.#driver?.stats() ?? null,
    };
  }

  #ensureEngine(config: RaSenderConfig): Driver<RaSink> {
    if (this.#driver !== undefined) return this.#driver;
    const engine = new RaSender(config, this.#host.random);
    this.#engine = engine;
    const sink = (drop: (reason: number) => void): RaSink => ({
      drop,
      sendRa: (destination, message) => {
        this.#socket?.send(destination, message, this.#source);
      },
      finalDone: () => this.#finalDone?.(),
      defaultRouteExpired: (router) => this.#log.warn({ router: formatIpv6(router.source), routerLifetime: router.routerLifetimeSec }, "another router's default route expired: no RA from it within its router lifetime"),
      inconsistent: (inconsistency, source) => {
        this.#inconsistencies[inconsistency]!++;
        const what = RA_INCONSISTENCIES[inconsistency]!;
        const suppressed = this.#inconsistencyLog.allow(what, this.#host.clock.now());
        if (suppressed !== undefined) this.#log.warn({ router: formatIpv6(source), inconsistency: what, suppressed }, 'another router advertises differently (RFC 4861 §6.2.7)');
      },
    });
    this.#driver = this.#host.drive<RaSink>(engine, sink);
    return this.#driver;
  }

  #openSocket(): void {
    // RSs to answer, and other routers' RAs to compare with ours (§6.2.7); our own multicast is not looped back.
    // Its errors are counted by the host as i/o errors of port "icmpv6:<interface>" (status ioErrors).
    const socket = this.#host.icmpv6(`icmpv6:${this.#settings.name}`, { ifname: this.#settings.name, groups: [ALL_ROUTERS], types: [ICMPV6_TYPE.ROUTER_SOLICIT, ICMPV6_TYPE.ROUTER_ADVERT] });
    socket.onMessage(this.#onMessage);
    this.#socket = socket;
  }

  #closeSocket(): void {
    this.#socket?.close();
    this.#socket = undefined;
  }

  readonly #onMessage = (message: Icmpv6Message): void => {
    this.#driver?.batch(this.#solicitStep, message);
  };

  readonly #solicitStep = (m: Icmpv6Message, now: Millis, sink: RaSink): void => {
    if (m.bytes[0] === ICMPV6_TYPE.ROUTER_ADVERT) this.#engine!.advert(m.bytes, 0, m.bytes.length, m.source, m.hopLimit, now, sink);
    else this.#engine!.solicit(m.bytes, 0, m.bytes.length, m.source, m.hopLimit, now, sink);
  };
  readonly #reloadStep = (config: RaSenderConfig, now: Millis): void => this.#engine!.reload(config, now);
  readonly #restoreStep = (previous: readonly RestoredPrefix[], now: Millis): void => {
    const wall = this.#wallClock();
    this.#engine!.restore(previous.map((p) => ({ prefix: p.prefix, expiresAt: now + (p.validUntil - wall) })), now);
  };
  readonly #startStep = (_: undefined, now: Millis): void => this.#engine!.start(now);
  readonly #pauseStep = (): void => this.#engine!.pause();
  readonly #stopStep = (_: undefined, now: Millis, sink: RaSink): void => this.#engine!.stop(now, sink);
}

/** radvd silently zeroes the router lifetime when forwarding is off (its #1 support question); we say so instead. */
export function forwardingWarning(s: RaInterfaceSettings): string {
  return `interface ${s.name}: router lifetime ${s.routerLifetimeSec} s but IPv6 forwarding is off on this interface (net.ipv6.conf.${s.name}.forwarding = 0): hosts will send traffic to a router that does not forward it; enable forwarding or set router lifetime 0`;
}
