// Configuration of both rasadv modes, declared once for the runtime's schema loader (src/runtime/config.ts):
// flags (`--interface eth0 --interface 10.0.0.1`), a JSON file (`--config`, keys as below) and
// `--check-config` all go through the same checks. Interfaces are only checked for form here; they are
// resolved against the host's interfaces at start (a missing interface is exit 1, IO_INTERFACE).

import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import type { ConfigSpec } from '../../src/runtime/config.js';
import { STATS_INTERVAL_FIELD, type CommonConfig } from '../../src/runtime/host.js';
import { LISTENER_ENTRY_BYTES, LISTENER_ENTRY_MAX_BYTES } from '../../src/engine/rasadv/listener.js';
import { RASADV_INTERVAL_SECONDS, RASADV_TTL, validateRasAdvName } from '../../src/wire/rasadv.js';
import { WireError } from '../../src/wire/errors.js';
import { AllowListError, parseAllowList, type AllowList, type AllowListSource } from '../../src/engine/rasadv/allow.js';

export interface AdvertiseConfig extends CommonConfig {
  readonly hostname: string;
  readonly domain: string | undefined;
  readonly interfaces: readonly string[];
  readonly interval: number;
  readonly jitter: number;
  readonly ttl: number;
  readonly loopback: boolean;
}

export interface ListenConfig extends CommonConfig {
  readonly interfaces: readonly string[];
  readonly json: boolean;
  readonly allow: readonly string[];
  readonly once: boolean;
  readonly timeout: number | undefined;
  readonly interval: number;
  readonly staleAfter: number | undefined;
  readonly maxServers: number;
  readonly maxTableBytes: number | undefined;
  readonly resolve: boolean;
}

/**
 * Windows advertises its computer name, a single label ("thepcsname", "JYRAALAN2K"), and the AD domain only
 * in the Domain line; Linux hostnames are sometimes FQDNs, so the default is the first label.
 */
export function defaultHostname(): string {
  return osHostname().split('.')[0] ?? '';
}

// Interface names: IFNAMSIZ - 1 = 15 bytes, no '/', no whitespace (the kernel's dev_valid_name); or an IPv4.
const INTERFACE_SPEC = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[^\s/:]{1,15})$/;

function interfaceProblems(specs: readonly string[]): string[] {
  return specs.filter((s) => !INTERFACE_SPEC.test(s)).map((s) => `interfaces (${JSON.stringify(s)}) must be an interface name (at most 15 characters) or an IPv4 address`);
}

function nameProblem(value: string, what: string): string[] {
  try {
    validateRasAdvName(value, what);
    return [];
  } catch (e) {
    if (e instanceof WireError) return [e.message];
    throw e;
  }
}

const interfacesField = {
  type: 'list',
  flag: 'interface',
  default: [],
  description: 'egress/listening interface, by name or IPv4 address; repeat for several',
} as const;

export const advertiseSpec: ConfigSpec<AdvertiseConfig> = {
  fields: {
    hostname: { type: 'string', default: defaultHostname(), description: 'host name to advertise (default: this host\'s name, first label)' },
    domain: { type: 'string', description: 'domain name to advertise in a Domain= line ([MS-RASA] §2.2.1: for domain members)' },
    interfaces: { ...interfacesField, description: `${interfacesField.description} (default: the kernel's route for 239.255.2.2)` },
    interval: { type: 'number', default: RASADV_INTERVAL_SECONDS, min: 1, max: 86_400, description: 'seconds between advertisements ([MS-RASA] §3.1.2: 3600)' },
    jitter: { type: 'number', default: 0, min: 0, description: 'each period is interval ± a random amount up to this many seconds' },
    ttl: { type: 'integer', default: RASADV_TTL, min: 1, max: 255, description: 'IP TTL of advertisements ([MS-RASA] §2.1: 15)' },
    statsInterval: STATS_INTERVAL_FIELD,
    loopback: { type: 'boolean', default: false, description: 'also deliver advertisements to listeners on this host (IP_MULTICAST_LOOP)' },
  },
  check: (c) => [
    ...nameProblem(c.hostname, 'hostname'),
    ...(c.domain === undefined ? [] : nameProblem(c.domain, 'domain')),
    ...interfaceProblems(c.interfaces),
    ...(c.jitter < c.interval ? [] : [`jitter (${c.jitter}) must be smaller than interval (${c.interval})`]),
  ],
};

export const listenSpec: ConfigSpec<ListenConfig> = {
  fields: {
    interfaces: { ...interfacesField, description: `${interfacesField.description} (default: every non-loopback IPv4 interface)` },
    statsInterval: STATS_INTERVAL_FIELD,
    json: { type: 'boolean', default: false, description: 'print one JSON object per line instead of the netsh-style table' },
    allow: { live: true, rereads: true, type: 'list', default: [], description: 'authorised servers: host names, IPv4 addresses or prefixes, or @FILE (one per line, # comments); any other server is UNKNOWN' },
    once: { type: 'boolean', default: false, description: 'listen for --timeout seconds, then exit with 0 (no unknown server heard) or 4 (an unknown server was heard)' },
    timeout: { type: 'number', min: 0.1, description: 'seconds to listen with --once' },
    interval: { type: 'number', default: RASADV_INTERVAL_SECONDS, min: 1, description: 'the advertisers\' interval in seconds, for the stale time' },
    staleAfter: { type: 'number', min: 0.1, description: 'seconds without an advertisement before a server is stale (default: 2 intervals)' },
    maxServers: { type: 'integer', default: 1024, min: 1, max: 1_000_000, description: 'table size; the least recently heard server is forgotten first' },
    maxTableBytes: { type: 'integer', min: LISTENER_ENTRY_MAX_BYTES, max: 2 ** 40, description: `bytes the table may hold, each server charged ${LISTENER_ENTRY_BYTES} + 2 per byte of its advertisement (default: max-servers x ${LISTENER_ENTRY_MAX_BYTES}, the worst case)` },
    resolve: { type: 'boolean', default: true, description: 'show each sender\'s reverse DNS name, as netsh does (--no-resolve: addresses only, no DNS traffic)' },
  },
  check: (c) => {
    const problems = interfaceProblems(c.interfaces);
    if (c.once && c.timeout === undefined) problems.push('once needs timeout (--once --timeout SECONDS)');
    if (!c.once && c.timeout !== undefined) problems.push('timeout (--timeout) only applies with --once');
    try {
      loadAllowList(c.allow);
    } catch (e) {
      if (!(e instanceof AllowListError)) throw e;
      problems.push(e.message);
    }
    return problems;
  },
};

/** Stale time in ms: --stale-after, else 2 advertisement intervals (issue 5). */
export function staleAfterMs(c: ListenConfig): number {
  return 1000 * (c.staleAfter ?? 2 * c.interval);
}

/** Reads the --allow entries, expanding @FILE; undefined when no --allow was given (nothing is authorised). */
export function loadAllowList(entries: readonly string[]): AllowList | undefined {
  if (entries.length === 0) return undefined;
  const sources: AllowListSource[] = entries.map((e) => {
    if (!e.startsWith('@')) return { text: e, origin: '--allow' };
    const path = e.slice(1);
    try {
      return { text: readFileSync(path, 'utf8'), origin: path };
    } catch (err) {
      throw new AllowListError(`--allow @${path}: cannot read the file: ${(err as Error).message}`, { cause: err });
    }
  });
  return parseAllowList(sources);
}
