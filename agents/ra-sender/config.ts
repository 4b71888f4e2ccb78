// ra-sender's configuration for the runtime's schema loader (src/runtime/config.ts): flags and the JSON file
// (`--config`, the same keys) describe what to advertise on the --interface(s), all with the same content;
// `--radvd-conf FILE` instead imports a radvd.conf (radvd-conf.ts, read by the runtime at start and on every
// SIGHUP), one block per interface. Both go through checkSettings (settings.ts), so --check-config, the start and
// SIGHUP refuse the same things. Every field is live: SIGHUP re-advertises what changed (agent.ts).

import { readFileSync } from 'node:fs';
import type { ConfigImport, ConfigSpec, FieldSpec } from '../../src/runtime/config.js';
import { AgentError } from '../../src/runtime/errors.js';
import { STATS_INTERVAL_FIELD, type CommonConfig } from '../../src/runtime/host.js';
import { RA_CONSTANTS } from '../../src/engine/ra/sender.js';
import { INFINITE_LIFETIME } from '../../src/wire/ndisc-options.js';
import { PREF64_MAX_LIFETIME_SEC } from '../../src/wire/ndisc-options-ra.js';
import { AUTO_PREFIX, DEFAULT_PREFERRED_LIFETIME_SEC, DEFAULT_VALID_LIFETIME_SEC, MAX_REACHABLE_TIME_MS, MAX_RTR_ADV_INTERVAL_LIMIT, PREFERENCES, checkSettings, type Findings, type Preference, type RaInterfaceSettings } from './settings.js';
import { RadvdConfError } from './radvd-conf.js';
import { parseRadvdConf } from './radvd-settings.js';

export interface RaSenderAgentConfig extends CommonConfig {
  readonly interfaces: readonly string[];
  readonly prefixes: readonly string[];
  readonly routes: readonly string[];
  readonly rdnss: readonly string[];
  readonly dnssl: readonly string[];
  readonly routerLifetime: number | undefined;
  readonly routerPreference: Preference;
  readonly mtu: number;
  readonly managed: boolean;
  readonly other: boolean;
  readonly minInterval: number | undefined;
  readonly maxInterval: number;
  readonly minDelayBetweenRas: number;
  readonly curHopLimit: number;
  readonly reachableTime: number;
  readonly retransTimer: number;
  readonly validLifetime: number;
  readonly preferredLifetime: number;
  readonly onLink: boolean;
  readonly autonomous: boolean;
  readonly routeLifetime: number | undefined;
  readonly routePreference: Preference;
  readonly rdnssLifetime: number | undefined;
  readonly dnsslLifetime: number | undefined;
  readonly sourceLinkLayerAddress: boolean;
  readonly unicastSolicited: boolean;
  readonly unicastOnly: boolean;
  readonly clients: readonly string[];
  readonly finalAdvertisements: number;
  readonly maxUnicastRate: number;
  /** The interfaces of an imported radvd.conf (--radvd-conf); only the import sets it. */
  readonly radvd: ImportedRadvd | undefined;
  // --- Engine state and lifecycle (issue 19): renumbering state, RFC 9096 caps, monitor mode. ---
  /** Directory of the renumbering state file (default: systemd's $STATE_DIRECTORY; none = nothing persisted). */
  readonly stateDir: string | undefined;
  /** RFC 9096 §3.3 caps on the advertised prefix lifetimes (e.g. 2700 / 5400); undefined = no cap. */
  readonly maxPreferredLifetime: number | undefined;
  readonly maxValidLifetime: number | undefined;
  /** Keep a table of the other routers' RAs (status, metrics). */
  readonly monitor: boolean;
  /** Only listen to the other routers, never send an RA. */
  readonly monitorOnly: boolean;
  // RA options beyond RFC 4861/8106 (options.ts): PREF64, captive portal, DNR.
  readonly pref64: readonly string[];
  readonly pref64Lifetime: number | undefined;
  readonly captivePortal: string | undefined;
  readonly dnr: readonly DnrConfig[];
}

/** One encrypted DNS resolver (RFC 9463), as the JSON config / --dnr give it. */
export interface DnrConfig {
  readonly adn: string;
  readonly priority: number;
  readonly addresses: readonly string[];
  readonly lifetime?: number;
  readonly alpn?: readonly string[];
  readonly port?: number;
  readonly dohpath?: string;
}

export interface ImportedRadvd {
  readonly path: string;
  readonly interfaces: readonly RaInterfaceSettings[];
}

/** MaxRtrAdvInterval default (RFC 4861 §6.2.1); MinRtrAdvInterval then defaults to 200 s. */
export const DEFAULT_MAX_INTERVAL_SEC = 600;
/** Unicast answers per second (token bucket size and refill rate): the bound on what an RS flood gets back. */
export const DEFAULT_MAX_UNICAST_RATE = 100;

const lifetime = (description: string, extra: object = {}): FieldSpec => ({ live: true, type: 'integer', min: 0, max: INFINITE_LIFETIME, description: `${description} (${INFINITE_LIFETIME} = infinity)`, ...extra });

export const raSenderSpec: ConfigSpec<RaSenderAgentConfig> = {
  fields: {
    interfaces: { live: true, type: 'list', flag: 'interface', default: [], description: 'interface to advertise on; repeat for several (same content on each)' },
    prefixes: { live: true, type: 'list', flag: 'prefix', default: [], description: `prefix to advertise (P/LEN), or "${AUTO_PREFIX}" for the interface's own /64 prefixes` },
    routes: { live: true, type: 'list', flag: 'route', default: [], description: 'route to advertise in a Route Information option (RFC 4191), e.g. 2001::/32' },
    rdnss: { live: true, type: 'list', of: 'ipv6', default: [], description: 'recursive DNS server address (RFC 8106 RDNSS)' },
    dnssl: { live: true, type: 'list', default: [], description: 'DNS search domain (RFC 8106 DNSSL)' },
    routerLifetime: { live: true, type: 'integer', min: 0, max: MAX_RTR_ADV_INTERVAL_LIMIT, description: 'router lifetime in seconds; 0 = not a default router (default 3 x max interval)' },
    routerPreference: { live: true, type: 'enum', values: PREFERENCES, default: 'medium', description: 'default router preference (RFC 4191)' },
    mtu: { live: true, type: 'integer', min: 0, max: INFINITE_LIFETIME, default: 0, description: 'MTU option value; 0 = no MTU option' },
    managed: { live: true, type: 'boolean', default: false, description: 'M flag: addresses from DHCPv6' },
    other: { live: true, type: 'boolean', default: false, description: 'O flag: other configuration from DHCPv6' },
    minInterval: { live: true, type: 'number', min: 3, description: 'MinRtrAdvInterval in seconds (default max interval / 3, at least 3)' },
    maxInterval: { live: true, type: 'number', min: 4, max: MAX_RTR_ADV_INTERVAL_LIMIT, default: DEFAULT_MAX_INTERVAL_SEC, description: 'MaxRtrAdvInterval in seconds' },
    minDelayBetweenRas: { live: true, type: 'number', min: 0.03, default: RA_CONSTANTS.MIN_DELAY_BETWEEN_RAS / 1000, description: 'MIN_DELAY_BETWEEN_RAS in seconds' },
    curHopLimit: { live: true, type: 'integer', min: 0, max: 255, default: 64, description: 'Cur Hop Limit; 0 = unspecified' },
    reachableTime: { live: true, type: 'integer', min: 0, max: MAX_REACHABLE_TIME_MS, default: 0, description: 'Reachable Time in ms; 0 = unspecified' },
    retransTimer: { live: true, type: 'integer', min: 0, max: INFINITE_LIFETIME, default: 0, description: 'Retrans Timer in ms; 0 = unspecified' },
    validLifetime: lifetime('valid lifetime of the prefixes, seconds', { default: DEFAULT_VALID_LIFETIME_SEC }),
    preferredLifetime: lifetime('preferred lifetime of the prefixes, seconds', { default: DEFAULT_PREFERRED_LIFETIME_SEC }),
    onLink: { live: true, type: 'boolean', default: true, description: 'L flag of the prefixes' },
    autonomous: { live: true, type: 'boolean', default: true, description: 'A flag of the prefixes (SLAAC)' },
    routeLifetime: lifetime('lifetime of the routes, seconds (default 3 x max interval)'),
    routePreference: { live: true, type: 'enum', values: PREFERENCES, default: 'medium', description: 'preference of the routes' },
    rdnssLifetime: lifetime('RDNSS lifetime, seconds (default 3 x max interval, RFC 8106 §5.1)'),
    dnsslLifetime: lifetime('DNSSL lifetime, seconds (default 3 x max interval, RFC 8106 §5.2)'),
    sourceLinkLayerAddress: { live: true, type: 'boolean', flag: 'source-ll-address', default: true, description: 'include the Source Link-Layer Address option' },
    unicastSolicited: { live: true, type: 'boolean', default: true, description: 'answer a Router Solicitation with a unicast RA at once (RFC 7772); --no-unicast-solicited: with the next multicast RA' },
    unicastOnly: { live: true, type: 'boolean', default: false, description: 'never multicast (links without multicast): only answer solicitations, or advertise to --clients' },
    clients: { live: true, type: 'list', of: 'ipv6', default: [], description: 'send RAs only to these hosts, by unicast (radvd clients)' },
    finalAdvertisements: { live: true, type: 'integer', min: 0, max: 3, default: 3, description: 'RAs with router lifetime 0 sent on stop (RFC 4861 §6.2.5)' },
    maxUnicastRate: { live: true, type: 'integer', min: 1, max: 1_000_000, default: DEFAULT_MAX_UNICAST_RATE, description: 'unicast answers per second at most, per interface' },
    radvd: { live: true, type: 'imported', description: 'the interfaces of the radvd.conf given with --radvd-conf' },
    statsInterval: STATS_INTERVAL_FIELD,
    // RA options beyond RFC 4861/8106 (options.ts).
    pref64: { live: true, type: 'list', default: [], description: 'NAT64 prefix for the PREF64 option (RFC 8781), e.g. 64:ff9b::/96; lengths 96, 64, 56, 48, 40, 32' },
    pref64Lifetime: { live: true, type: 'integer', min: 0, max: PREF64_MAX_LIFETIME_SEC, description: 'PREF64 lifetime in seconds, sent in 8 s units (default 3 x max interval, RFC 8781 §4.1)' },
    captivePortal: { live: true, type: 'string', description: 'captive portal API URI (RFC 8910, RFC 8908), https://...' },
    dnr: {
      live: true,
      type: 'objects',
      default: [],
      description: 'encrypted DNS resolvers (RFC 9463 DNR option), JSON: [{"adn":"doh.example","priority":1,"addresses":["2001:db8::53"],"alpn":["h2"],"port":443,"dohpath":"/dns-query{?dns}","lifetime":1800}]; no addresses = ADN-only',
      fields: {
        adn: { type: 'string', required: true, description: 'authentication domain name' },
        priority: { type: 'integer', min: 1, max: 65535, default: 1, description: 'service priority' },
        addresses: { type: 'list', of: 'ipv6', default: [], description: 'resolver addresses' },
        lifetime: { type: 'integer', min: 0, max: INFINITE_LIFETIME, description: 'seconds (default 3 x max interval)' },
        alpn: { type: 'list', description: 'ALPN ids, e.g. h2, h3, dot' },
        port: { type: 'integer', min: 1, max: 65535, description: 'port' },
        dohpath: { type: 'string', description: 'DoH URI template (RFC 9461)' },
      },
    },
    // --- Engine state and lifecycle (issue 19; agents/ra-sender/renumbering-state.ts, src/engine/ra/monitor.ts). ---
    stateDir: { live: true, type: 'string', description: 'directory for the renumbering state file (prefixes hosts may still hold), so a restart keeps deprecating them (RFC 9096); default $STATE_DIRECTORY' },
    maxPreferredLifetime: { live: true, type: 'integer', min: 0, max: INFINITE_LIFETIME, description: 'cap on the advertised preferred lifetimes, seconds (RFC 9096 §3.3 suggests 2700)' },
    maxValidLifetime: { live: true, type: 'integer', min: 0, max: INFINITE_LIFETIME, description: 'cap on the advertised valid lifetimes, seconds (RFC 9096 §3.3 suggests 5400)' },
    monitor: { live: true, type: 'boolean', default: false, description: "keep the other routers' RAs (prefixes, lifetimes, options) for status and metrics" },
    monitorOnly: { live: true, type: 'boolean', default: false, description: 'listen to the other routers only, never send an RA (implies --monitor)' },
  },
  check: (c) => {
    const r = resolveInterfaces(c);
    return Array.isArray(r) ? r : r.findings.errors;
  },
  warnings: (c) => {
    const r = resolveInterfaces(c);
    return Array.isArray(r) ? [] : r.findings.warnings;
  },
};

/**
 * RFC 4861 §6.2.1: MinRtrAdvInterval defaults to a third of MaxRtrAdvInterval (200 s for 600 s), at least 3 s
 * and at most 0.75 x MaxRtrAdvInterval (3 s for the smallest maximum, 4 s).
 */
export function defaultMinInterval(max: number): number {
  return Math.max(3, Math.round((max / 3) * 1000) / 1000);
}

/** The settings of each --interface, from flags and the JSON file. */
function fromFlags(c: RaSenderAgentConfig): RaInterfaceSettings[] {
  const max = c.maxInterval;
  const threeMax = Math.min(INFINITE_LIFETIME, Math.round(3 * max));
  return c.interfaces.map((name) => ({
    name,
    minIntervalSec: c.minInterval ?? defaultMinInterval(max),
    maxIntervalSec: max,
    minDelayBetweenRasSec: c.minDelayBetweenRas,
    managed: c.managed,
    otherConfig: c.other,
    routerLifetimeSec: c.routerLifetime ?? Math.min(MAX_RTR_ADV_INTERVAL_LIMIT, threeMax),
    routerPreference: c.routerPreference,
    curHopLimit: c.curHopLimit,
    reachableTimeMs: c.reachableTime,
    retransTimerMs: c.retransTimer,
    mtu: c.mtu,
    sourceLinkLayerAddress: c.sourceLinkLayerAddress,
    unicastSolicited: c.unicastSolicited,
    unicastOnly: c.unicastOnly,
    clients: c.clients,
    finalAdvertisements: c.finalAdvertisements,
    maxUnicastPerSec: c.maxUnicastRate,
    prefixes: c.prefixes.map((prefix) => ({ prefix, onLink: c.onLink, autonomous: c.autonomous, routerAddress: false, validLifetimeSec: c.validLifetime, preferredLifetimeSec: c.preferredLifetime })),
    routes: c.routes.map((prefix) => ({ prefix, preference: c.routePreference, lifetimeSec: c.routeLifetime ?? threeMax })),
    rdnss: c.rdnss.length > 0 ? [{ servers: c.rdnss, lifetimeSec: c.rdnssLifetime ?? threeMax }] : [],
    dnssl: c.dnssl.length > 0 ? [{ domains: c.dnssl, lifetimeSec: c.dnsslLifetime ?? threeMax }] : [],
    more: {
      pref64: c.pref64.map((prefix) => ({ prefix, lifetimeSec: c.pref64Lifetime ?? Math.min(PREF64_MAX_LIFETIME_SEC, threeMax) })),
      ...(c.captivePortal !== undefined ? { captivePortal: c.captivePortal } : {}),
      dnr: c.dnr.map((d) => ({ ...d, lifetimeSec: d.lifetime ?? threeMax })),
    },
  }));
}

/** The settings that apply beside a radvd.conf (it has no equivalent for the unicast answer bound). */
const WITH_RADVD_CONF: ReadonlySet<string> = new Set(['radvd', 'interfaces', 'maxUnicastRate', 'statsInterval', 'stateDir', 'maxPreferredLifetime', 'maxValidLifetime', 'monitor', 'monitorOnly']);

/** Interface names: IFNAMSIZ - 1 = 15 bytes, no '/', ':' or whitespace (the kernel's dev_valid_name). */
const IFNAME = /^[^\s/:]{1,15}$/;

/**
 * The interfaces to serve and what was found wrong with them, or the lines saying why the config cannot be
 * read at all (the radvd.conf is missing, or the lines it refuses, each named FILE:LINE).
 */
export function resolveInterfaces(c: RaSenderAgentConfig): { interfaces: RaInterfaceSettings[]; findings: Findings } | string[] {
  let interfaces: RaInterfaceSettings[];
  const findings: Findings = { errors: [], warnings: [] };
  if (c.radvd !== undefined) {
    if (c.interfaces.length > 0) return ['interfaces (--interface) and --radvd-conf exclude each other: the radvd.conf names its interfaces'];
    // Content flags beside a radvd.conf would be ignored: refuse them rather than drop them silently.
    const fields = raSenderSpec.fields as Readonly<Record<string, { default?: unknown }>>;
    const ignored = Object.keys(fields).filter((k) => !WITH_RADVD_CONF.has(k) && JSON.stringify((c as unknown as Record<string, unknown>)[k]) !== JSON.stringify(fields[k]!.default));
    if (ignored.length > 0) return [`${ignored.join(', ')}: not used with --radvd-conf, whose file says what to advertise`];
    // radvd.conf has no unicast answer bound: the flag (or its default) applies to every interface.
    interfaces = c.radvd.interfaces.map((s) => ({ ...s, maxUnicastPerSec: c.maxUnicastRate }));
    // radvd runs such a file and sends nothing; so does ra-sender, saying so (a SIGHUP can add interfaces).
    if (interfaces.length === 0) findings.warnings.push(`${c.radvd.path}: no interface with AdvSendAdvert on: running, advertising nothing until a reload brings one`);
  } else {
    if (c.interfaces.length === 0) return ['interfaces is required (--interface NAME, or --radvd-conf FILE)'];
    interfaces = fromFlags(c);
  }
  for (const s of interfaces) {
    if (!IFNAME.test(s.name)) findings.errors.push(`interface ${JSON.stringify(s.name)} must be an interface name (at most 15 characters)`);
    const f = checkSettings(s);
    findings.errors.push(...f.errors);
    findings.warnings.push(...f.warnings);
  }
  const names = interfaces.map((s) => s.name);
  for (const n of new Set(names)) if (names.filter((x) => x === n).length > 1) findings.errors.push(`interface ${n} is given more than once`);
  return { interfaces, findings };
}

/**
 * `--radvd-conf FILE`: the runtime reads it at start and on every SIGHUP. radvd-conf.ts parses it (every refused
 * line as FILE:LINE, the accepted differences from radvd as warnings). Throws AgentError CONFIG_READ / CONFIG_INVALID.
 */
export const radvdConfImport: ConfigImport = {
  flag: 'radvd-conf',
  describe: 'read interfaces and content from this radvd.conf instead of --config and the content flags; read again on SIGHUP',
  read: (path) => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new AgentError('CONFIG_READ', `cannot read radvd.conf ${path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const parsed = parseRadvdConf(text, path);
      return { path, values: { radvd: { path, interfaces: parsed.interfaces } satisfies ImportedRadvd }, warnings: parsed.warnings };
    } catch (err) {
      if (err instanceof RadvdConfError) throw new AgentError('CONFIG_INVALID', `invalid radvd.conf (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}):`, { details: err.problems });
      throw err;
    }
  },
};
