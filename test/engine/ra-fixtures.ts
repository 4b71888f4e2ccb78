// Shared RA sender test fixtures: a content with every option (the golden-bytes configuration), a schedule,
// a recording sink that decodes what is sent, and helpers that drive the engine as the driver would.
import type { RaContent } from '../../src/engine/ra/content.js';
import { RaSender, RA_CONSTANTS, type RaSenderConfig, type RaSink, type RaSchedule } from '../../src/engine/ra/sender.js';
import { RA_DROP_REASONS } from '../../src/engine/ra/solicit.js';
import { RA_INCONSISTENCIES } from '../../src/engine/ra/consistency.js';
import type { MonitoredRouter } from '../../src/engine/ra/monitor.js';
import { seededRandom } from '../../src/engine/types.js';
import { decodeIcmpv6 } from '../../src/wire/icmpv6.js';
import { decodeNdisc, type RouterAdvert } from '../../src/wire/ndisc.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { ROUTE_PREFERENCE } from '../../src/wire/ndisc-options.js';
import { fromHex } from '../../src/wire/bytes.js';

export const FULL: RaContent = {
  curHopLimit: 64,
  managed: true,
  otherConfig: true,
  preference: ROUTE_PREFERENCE.HIGH,
  routerLifetimeSec: 1800,
  reachableTimeMs: 30_000,
  retransTimerMs: 1000,
  sourceLinkLayerAddress: fromHex('02005e005301'),
  mtu: 1480,
  prefixes: [{ prefix: parseIpv6('2001:db8:66::'), prefixLength: 64, onLink: true, autonomous: true, routerAddress: false, validLifetimeSec: 86_400, preferredLifetimeSec: 14_400 }],
  routes: [{ prefix: parseIpv6('2001::'), prefixLength: 32, preference: ROUTE_PREFERENCE.LOW, lifetimeSec: 1800 }],
  rdnss: [{ servers: [parseIpv6('2001:db8:66::53'), parseIpv6('2001:db8::53')], lifetimeSec: 1200 }],
  dnssl: [{ domains: ['example.com', 'lab.example'], lifetimeSec: 1200 }],
};

export const S = 1000;
export const SCHEDULE: RaSchedule = {
  minIntervalMs: 200 * S,
  maxIntervalMs: 600 * S,
  minDelayBetweenRasMs: RA_CONSTANTS.MIN_DELAY_BETWEEN_RAS,
  unicastSolicited: true,
  unicastOnly: false,
  clients: [],
  maxUnicastPerSec: 100,
  finalAdvertisements: 3,
};
export const config = (over: Partial<RaSchedule> = {}, content = FULL): RaSenderConfig => ({ schedule: { ...SCHEDULE, ...over }, content, linkMtu: 1500 });

export interface Sent {
  at: number;
  to: string;
  ra: RouterAdvert;
}

export class Recorder implements RaSink {
  readonly sent: Sent[] = [];
  readonly drops: string[] = [];
  done = 0;
  now = 0;
  drop(reason: number): void {
    this.drops.push(RA_DROP_REASONS[reason]!);
  }
  sendRa(destination: Uint8Array, message: Uint8Array): void {
    const ra = decodeNdisc(decodeIcmpv6(message));
    if (ra.kind !== 'router-advert') throw new Error('sent something else than an RA');
    this.sent.push({ at: this.now, to: formatIpv6(destination), ra });
  }
  finalDone(): void {
    this.done++;
  }
  readonly inconsistencies: string[] = [];
  inconsistent(inconsistency: number, source: Uint8Array): void {
    this.inconsistencies.push(`${RA_INCONSISTENCIES[inconsistency]} from ${formatIpv6(source)}`);
  }
  readonly expiredDefaultRoutes: string[] = [];
  defaultRouteExpired(router: MonitoredRouter): void {
    this.expiredDefaultRoutes.push(`${formatIpv6(router.source)} at ${this.now}`);
  }
  multicastTimes(): number[] {
    return this.sent.filter((s) => s.to === 'ff02::1').map((s) => s.at);
  }
}

/** Fires every deadline up to `until`, as the driver would. */
export function run(e: RaSender, sink: Recorder, until: number): void {
  for (let t = e.nextTimeout(); t !== undefined && t <= until; t = e.nextTimeout()) {
    sink.now = t;
    e.handleTimeout(t, sink);
  }
  sink.now = until;
}

export const RS = new Uint8Array([133, 0, 0, 0, 0, 0, 0, 0]);
export const RS_SLLAO = new Uint8Array([133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 0, 0, 0, 0, 1]);
export const HOST = parseIpv6('fe80::1');
export const UNSPEC = new Uint8Array(16);

export function solicit(e: RaSender, sink: Recorder, at: number, source = HOST, bytes = RS, hopLimit = 255): void {
  run(e, sink, at);
  e.solicit(bytes, 0, bytes.length, source, hopLimit, at, sink);
}

export function started(over: Partial<RaSchedule> = {}, seed = 7): { e: RaSender; sink: Recorder } {
  const e = new RaSender(config(over), seededRandom(seed));
  e.start(0);
  return { e, sink: new Recorder() };
}
