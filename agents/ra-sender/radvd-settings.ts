// What a radvd.conf means (radvd-conf.ts reads its syntax): one RaInterfaceSettings per `interface` block with
// `AdvSendAdvert on`, radvd's defaults (radvd defaults.h) for what the file leaves out, and a warning, naming
// FILE:LINE, for each place where ra-sender does something else than radvd would: a directive accepted but not
// applied, a prefix whose host bits are masked, 6to4 (RFC 7526: deprecated), and a default ra-sender keeps on
// purpose (RDNSS/DNSSL lifetimes: RFC 8106's 3 x MaxRtrAdvInterval where radvd 2.19 sends 1 x). Stopping sends
// 3 final RAs where radvd sends 1 (RFC 4861 §6.2.5 allows 3).

import { networkInterfaces } from 'node:os';
import { Address6 } from 'ip-address';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { INFINITE_LIFETIME } from '../../src/wire/ndisc-options.js';
import { PREF64_MAX_LIFETIME_SEC } from '../../src/wire/ndisc-options-ra.js';
import { RA_CONSTANTS } from '../../src/engine/ra/sender.js';
import { ABRO_OPTIONS, DNR_OPTIONS, DNSSL_OPTIONS, IFACE_OPTIONS, LOWPANCO_OPTIONS, NAT64_OPTIONS, PREFIX_OPTIONS, RDNSS_OPTIONS, ROUTE_OPTIONS, RadvdConfError, describeKind, lookup, parseStatements, valueOf, type OptionSpec, type Statement, type Token, type Value } from './radvd-conf.js';
import { AUTO_PREFIX, DEFAULT_PREFERRED_LIFETIME_SEC, DEFAULT_VALID_LIFETIME_SEC, MAX_RTR_ADV_INTERVAL_LIMIT, type Preference, type RaInterfaceSettings } from './settings.js';
import type { DnrSettings, MoreSettings } from './options.js';

/** radvd.conf has no bound on unicast answers; config.ts applies --max-unicast-rate over this. */
const DEFAULT_MAX_UNICAST_PER_SEC = 100;

/** The addresses of a host interface (Base6to4Interface, Base6Interface), or undefined when it has none. */
export type InterfaceAddresses = (name: string) => { ipv4: string[]; ipv6: Array<{ address: string; prefixLength: number }> } | undefined;

/** The host's own interfaces, read at configuration time (start and SIGHUP), as radvd does. */
export const hostInterfaceAddresses: InterfaceAddresses = (name) => {
  const list = networkInterfaces()[name];
  if (list === undefined) return undefined;
  return {
    ipv4: list.filter((a) => a.family === 'IPv4').map((a) => a.address),
    ipv6: list.filter((a) => a.family === 'IPv6' && !a.address.toLowerCase().startsWith('fe80')).map((a) => ({ address: a.address, prefixLength: Number(a.cidr?.split('/')[1] ?? 64) })),
  };
};

type Opts = Map<string, { value: Value; line: number; all: Value[] }>;

class Reader {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];
  constructor(readonly file: string) {}

  at(t: Token): string {
    return `${this.file}:${t.line}`;
  }

  /** The options of a block per `table`; other statements (sub-blocks) go to `other`, or are refused. */
  options(block: readonly Statement[] | undefined, table: Readonly<Record<string, OptionSpec>>, where: string, other?: (s: Statement) => boolean): Opts {
    const opts: Opts = new Map();
    for (const s of block ?? []) {
      if (other?.(s) === true) continue;
      const name = lookup(table, s.name.text);
      if (name === undefined) {
        this.problems.push(`${this.at(s.name)}: unknown option ${s.name.text} in ${where}${this.#elsewhere(s.name.text)}`);
        continue;
      }
      const spec = table[name]!;
      const [arg, ...extra] = s.args;
      if (arg === undefined || extra.length > 0 || s.block !== undefined) {
        this.problems.push(`${this.at(s.name)}: ${name} takes one value (${describeKind(spec.kind)})`);
        continue;
      }
      const value = valueOf(spec.kind, arg);
      if (value === undefined) {
        this.problems.push(`${this.at(arg)}: ${name}: bad value "${arg.text}" (expected ${describeKind(spec.kind)})`);
        continue;
      }
      const note = spec.note?.(value);
      if (note !== undefined) this.warnings.push(`${this.at(s.name)}: ${name} ${arg.text}: ${note}`);
      const prev = opts.get(name);
      opts.set(name, { value, line: s.name.line, all: [...(prev?.all ?? []), value] });
    }
    return opts;
  }

  #elsewhere(name: string): string {
    for (const [block, table] of [['interface', IFACE_OPTIONS], ['prefix', PREFIX_OPTIONS], ['route', ROUTE_OPTIONS], ['RDNSS', RDNSS_OPTIONS], ['DNSSL', DNSSL_OPTIONS]] as const) {
      if (lookup(table, name) !== undefined) return ` (it belongs in an ${block} block)`;
    }
    return '';
  }

  /** "P/LEN" with host bits masked (warned); `keep` leaves them (AdvRouterAddr: the field is the router's address). */
  prefix(t: Token | undefined, what: string, keep = false): string | undefined {
    if (t === undefined || !/^[0-9A-Fa-f:.]+\/\d{1,3}$/.test(t.text) || !Address6.isValid(t.text) || Number(t.text.split('/')[1]) > 128) {
      this.problems.push(`${this.at(t ?? { line: 0, text: '', quoted: false })}: ${what} takes one IPv6 prefix P/LEN`);
      return undefined;
    }
    const len = t.text.split('/')[1]!;
    const masked = `${new Address6(t.text).startAddress().correctForm()}/${len}`;
    if (!keep && masked !== `${new Address6(t.text.split('/')[0]!).correctForm()}/${len}`) {
      const why = what === 'prefix' ? 'as radvd does' : `the bits past the length must be zero (RFC 4191 §2.3, RFC 8781 §4); radvd sends them as written`;
      this.warnings.push(`${this.at(t)}: ${what} ${t.text} has host bits set: advertised as ${masked}, ${why}`);
      return masked;
    }
    return t.text;
  }
}

const num = (o: Opts, k: string): number | undefined => (typeof o.get(k)?.value === 'number' ? (o.get(k)!.value as number) : undefined);
const bool = (o: Opts, k: string, dflt: boolean): boolean => (typeof o.get(k)?.value === 'boolean' ? (o.get(k)!.value as boolean) : dflt);
const str = (o: Opts, k: string): string | undefined => (typeof o.get(k)?.value === 'string' ? (o.get(k)!.value as string) : undefined);

/** A 6to4 prefix (RFC 3056 §2): 2002:V4ADDR, then the configured prefix's bits after the first 48. */
function sixToFour(prefix: string, ipv4: string): string {
  const [addr, len] = prefix.split('/') as [string, string];
  const out = parseIpv6(addr);
  out.set([0x20, 0x02, ...ipv4.split('.').map(Number)], 0);
  return `${formatIpv6(out)}/${len}`;
}

/** Base6Interface: the interface's prefix (its address's first `prefixLength` bits), then the configured bits, as a /64. */
function combined(prefix: string, address: string, prefixLength: number): string {
  const cfg = parseIpv6(prefix.split('/')[0]!);
  const own = parseIpv6(address);
  const out = new Uint8Array(16);
  for (let bit = 0; bit < 64; bit++) {
    const mask = 0x80 >> (bit & 7);
    if (((bit < prefixLength ? own : cfg)[bit >> 3]! & mask) !== 0) out[bit >> 3]! |= mask;
  }
  return `${formatIpv6(out)}/64`;
}

/**
 * Parses radvd.conf text (`file` names it in messages). Returns the interfaces with `AdvSendAdvert on` and the
 * warnings (skipped interfaces, differences from radvd); throws RadvdConfError with every refused line.
 */
export function parseRadvdConf(text: string, file: string, addresses: InterfaceAddresses = hostInterfaceAddresses): { interfaces: RaInterfaceSettings[]; warnings: string[] } {
  const r = new Reader(file);
  const interfaces: RaInterfaceSettings[] = [];
  for (const s of parseStatements(text, file)) {
    const name = s.args[0];
    if (name === undefined || s.args.length > 1 || s.block === undefined) {
      r.problems.push(`${r.at(s.name)}: expected "interface NAME { ... };"`);
      continue;
    }
    const settings = readInterface(r, name.text, s.block, addresses);
    if (settings !== undefined) interfaces.push(settings);
  }
  // Sub-blocks are read after their interface's options: report in file order.
  const byLine = (list: string[]): string[] => {
    const line = (m: string): number => Number(/^[^\n]*?:(\d+): /.exec(m.slice(file.length))?.[1] ?? Infinity);
    return list.map((m, k) => [m, k] as const).sort((a, b) => line(a[0]) - line(b[0]) || a[1] - b[1]).map(([m]) => m);
  };
  if (r.problems.length > 0) throw new RadvdConfError(byLine(r.problems));
  return { interfaces, warnings: byLine(r.warnings) };
}

function readInterface(r: Reader, name: string, block: readonly Statement[], addresses: InterfaceAddresses): RaInterfaceSettings | undefined {
  const subs: Statement[] = [];
  const o = r.options(block, IFACE_OPTIONS, `interface ${name}`, (s) => {
    const isSub = ['prefix', 'route', 'rdnss', 'dnssl', 'clients', 'advrasrcaddress', 'autoignoreprefixes', 'lowpanco', 'abro', 'nat64prefix', 'dnr'].includes(s.name.text.toLowerCase());
    if (isSub) subs.push(s);
    return isSub;
  });
  const mip = bool(o, 'AdvHomeAgentFlag', false) || bool(o, 'AdvHomeAgentInfo', false) || bool(o, 'AdvIntervalOpt', false);
  const max = num(o, 'MaxRtrAdvInterval') ?? 600;
  const threeMax = Math.min(INFINITE_LIFETIME, Math.round(3 * max));
  const routerLifetimeSec = num(o, 'AdvDefaultLifetime') ?? Math.min(MAX_RTR_ADV_INTERVAL_LIMIT, Math.max(1, threeMax));
  const s = {
    name,
    prefixes: [] as RaInterfaceSettings['prefixes'][number][],
    routes: [] as RaInterfaceSettings['routes'][number][],
    rdnss: [] as RaInterfaceSettings['rdnss'][number][],
    dnssl: [] as RaInterfaceSettings['dnssl'][number][],
    clients: [] as string[],
  };
  const more: { -readonly [K in keyof MoreSettings]: MoreSettings[K] } = {};
  const list = <T>(key: keyof MoreSettings, item: T): void => void ((more as Record<string, T[]>)[key] ??= []).push(item);
  for (const sub of subs) {
    const kind = sub.name.text.toLowerCase();
    const at = r.at(sub.name);
    const entries = (sub.block ?? []).map((e) => e.name);
    switch (kind) {
      case 'prefix': {
        const p = r.options(sub.block, PREFIX_OPTIONS, `prefix ${sub.args[0]?.text ?? ''}`);
        const routerAddress = bool(p, 'AdvRouterAddr', false);
        const auto = sub.args[0]?.text === '::/64';
        let prefix = auto ? AUTO_PREFIX : r.prefix(sub.args[0], 'prefix', routerAddress);
        if (prefix === undefined) break;
        const base4 = str(p, 'Base6to4Interface');
        const base6 = str(p, 'Base6Interface');
        if (base4 !== undefined) {
          const v4 = addresses(base4)?.ipv4[0];
          r.warnings.push(`${r.file}:${p.get('Base6to4Interface')!.line}: Base6to4Interface ${base4}: 6to4 is deprecated (RFC 7526): most hosts prefer IPv4 to a 2002::/16 address and relays are gone; ${v4 === undefined ? `${base4} has no IPv4 address now, so this prefix is not advertised until a reload (as radvd)` : `advertising ${sixToFour(prefix, v4)} from ${base4}'s ${v4}`}`);
          if (v4 === undefined) break;
          prefix = sixToFour(prefix, v4);
        } else if (base6 !== undefined) {
          const v6 = addresses(base6)?.ipv6[0];
          if (v6 === undefined) {
            r.warnings.push(`${r.file}:${p.get('Base6Interface')!.line}: Base6Interface ${base6} has no global IPv6 address now: this prefix is not advertised until a reload (as radvd)`);
            break;
          }
          prefix = combined(prefix, v6.address, v6.prefixLength);
        }
        s.prefixes.push({
          prefix,
          onLink: bool(p, 'AdvOnLink', true),
          autonomous: bool(p, 'AdvAutonomous', true),
          routerAddress,
          deprecateOnExit: bool(p, 'DeprecatePrefix', false),
          ...(bool(p, 'DecrementLifetimes', false) ? { decrementLifetimes: true } : {}),
          validLifetimeSec: num(p, 'AdvValidLifetime') ?? DEFAULT_VALID_LIFETIME_SEC,
          preferredLifetimeSec: num(p, 'AdvPreferredLifetime') ?? DEFAULT_PREFERRED_LIFETIME_SEC,
        });
        break;
      }
      case 'route': {
        const p = r.options(sub.block, ROUTE_OPTIONS, 'route');
        const prefix = r.prefix(sub.args[0], 'route');
        if (prefix !== undefined) s.routes.push({ prefix, preference: (str(p, 'AdvRoutePreference') as Preference | undefined) ?? 'medium', lifetimeSec: num(p, 'AdvRouteLifetime') ?? threeMax, removeOnExit: bool(p, 'RemoveRoute', true) });
        break;
      }
      case 'rdnss': {
        const p = r.options(sub.block, RDNSS_OPTIONS, 'RDNSS');
        const servers = sub.args.map((a) => a.text);
        if (num(p, 'AdvRDNSSLifetime') === undefined) r.warnings.push(defaultNote(at, 'RDNSS', 'AdvRDNSSLifetime', max));
        s.rdnss.push({ servers, lifetimeSec: num(p, 'AdvRDNSSLifetime') ?? threeMax, flushOnExit: bool(p, 'FlushRDNSS', true) });
        break;
      }
      case 'dnssl': {
        const p = r.options(sub.block, DNSSL_OPTIONS, 'DNSSL');
        if (num(p, 'AdvDNSSLLifetime') === undefined) r.warnings.push(defaultNote(at, 'DNSSL', 'AdvDNSSLLifetime', max));
        s.dnssl.push({ domains: sub.args.map((a) => a.text), lifetimeSec: num(p, 'AdvDNSSLLifetime') ?? threeMax, flushOnExit: bool(p, 'FlushDNSSL', true) });
        break;
      }
      case 'clients':
        for (const e of entries) {
          if (e.text.startsWith('!')) r.warnings.push(`${r.at(e)}: clients ${e.text}: excluding a client is not applied: ${e.text.slice(1)} is neither advertised to nor refused specially`);
          else s.clients.push(e.text);
        }
        break;
      case 'advrasrcaddress':
        more.raSourceAddresses = entries.map((e) => e.text);
        break;
      case 'autoignoreprefixes':
        more.autoExclude = entries.map((e) => r.prefix(e, 'autoignoreprefixes', true) ?? e.text);
        break;
      case 'lowpanco': {
        const p = r.options(sub.block, LOWPANCO_OPTIONS, 'lowpanco');
        const cid = num(p, 'AdvContextID') ?? 0;
        if (cid > 15) r.warnings.push(`${at}: lowpanco AdvContextID ${cid} does not fit the 4-bit CID (RFC 6775 §4.2): ${cid & 0x0f} is sent, as radvd does`);
        list('lowpanContexts', { contextLength: num(p, 'AdvContextLength') ?? 0, compression: bool(p, 'AdvContextCompressionFlag', false), contextId: cid & 0x0f, lifetimeMin: num(p, 'AdvLifeTime') ?? 0 });
        break;
      }
      case 'abro': {
        const p = r.options(sub.block, ABRO_OPTIONS, 'abro');
        list('abros', { address: (sub.args[0]?.text ?? '').split('/')[0]!, versionLow: num(p, 'AdvVersionLow') ?? 0, versionHigh: num(p, 'AdvVersionHigh') ?? 0, lifetimeMin: num(p, 'AdvValidLifetime') ?? 0 });
        break;
      }
      case 'nat64prefix': {
        const p = r.options(sub.block, NAT64_OPTIONS, 'nat64prefix');
        const prefix = r.prefix(sub.args[0], 'nat64prefix');
        // RFC 8781 §4.1: by default 3 x MaxRtrAdvInterval, at most 65528 s.
        if (prefix !== undefined) list('pref64', { prefix, lifetimeSec: num(p, 'AdvValidLifetime') ?? Math.min(PREF64_MAX_LIFETIME_SEC, threeMax) });
        break;
      }
      case 'dnr': {
        const p = r.options(sub.block, DNR_OPTIONS, 'DNR');
        const alpn = str(p, 'AdvDNRSvcAlpn');
        const port = num(p, 'AdvDNRSvcPort');
        const dohpath = str(p, 'AdvDNRSvcDohpath');
        const d: DnrSettings = {
          adn: sub.args[0]?.text ?? '',
          priority: num(p, 'AdvDNRPriority') ?? 1,
          lifetimeSec: num(p, 'AdvDNRLifetime') ?? threeMax,
          addresses: (p.get('AdvDNRAddr')?.all ?? []) as string[],
          ...(alpn !== undefined ? { alpn: alpn.split(',') } : {}),
          ...(port !== undefined ? { port } : {}),
          ...(dohpath !== undefined ? { dohpath } : {}),
        };
        list('dnr', d);
        break;
      }
    }
  }
  if (bool(o, 'AdvHomeAgentFlag', false)) more.homeAgentFlag = true;
  if (bool(o, 'AdvIntervalOpt', false)) more.advIntervalOpt = true;
  // radvd sends the option only when something in it differs from what the H flag and router lifetime say.
  const haPreference = num(o, 'HomeAgentPreference') ?? 0;
  const haLifetime = num(o, 'HomeAgentLifetime') ?? routerLifetimeSec;
  const mobileRouterSupport = bool(o, 'AdvMobRtrSupportFlag', false);
  if (bool(o, 'AdvHomeAgentInfo', false) && (mobileRouterSupport || haPreference !== 0 || haLifetime !== routerLifetimeSec)) more.homeAgentInfo = { preference: haPreference, lifetimeSec: haLifetime, mobileRouterSupport };
  const raMtu = num(o, 'AdvRAMTU');
  if (raMtu !== undefined) more.raMtu = raMtu;
  const portal = str(o, 'AdvCaptivePortalAPI');
  if (portal !== undefined) more.captivePortal = portal;
  if (bool(o, 'AdvSendAdvert', false) !== true) {
    r.warnings.push(`${r.file}: interface ${name}: AdvSendAdvert is off (radvd's default): not advertised`);
    return undefined;
  }
  const routerAddr = s.prefixes.some((p) => p.routerAddress);
  return {
    ...s,
    // radvd: 0.33 x Max; ra-sender keeps RFC 4861's floor of 3 s unless Mobile IPv6 allows less (RFC 6275 §7.5).
    minIntervalSec: num(o, 'MinRtrAdvInterval') ?? (mip || routerAddr ? Math.round(0.33 * max * 1000) / 1000 : Math.max(3, Math.round(0.33 * max * 1000) / 1000)),
    maxIntervalSec: max,
    minDelayBetweenRasSec: num(o, 'MinDelayBetweenRAs') ?? RA_CONSTANTS.MIN_DELAY_BETWEEN_RAS / 1000,
    managed: bool(o, 'AdvManagedFlag', false),
    otherConfig: bool(o, 'AdvOtherConfigFlag', false),
    routerLifetimeSec,
    routerPreference: (str(o, 'AdvDefaultPreference') as Preference | undefined) ?? 'medium',
    curHopLimit: num(o, 'AdvCurHopLimit') ?? 64,
    reachableTimeMs: num(o, 'AdvReachableTime') ?? 0,
    retransTimerMs: num(o, 'AdvRetransTimer') ?? 0,
    mtu: num(o, 'AdvLinkMTU') ?? 0,
    sourceLinkLayerAddress: bool(o, 'AdvSourceLLAddress', true),
    unicastSolicited: bool(o, 'AdvRASolicitedUnicast', true),
    unicastOnly: bool(o, 'UnicastOnly', false),
    finalAdvertisements: bool(o, 'RemoveAdvOnExit', true) ? RA_CONSTANTS.MAX_FINAL_RTR_ADVERTISEMENTS : 0,
    maxUnicastPerSec: DEFAULT_MAX_UNICAST_PER_SEC,
    ...(Object.keys(more).length > 0 ? { more } : {}),
  };
}

/** The RDNSS/DNSSL default ra-sender keeps on purpose, said with the effective value and the reason. */
function defaultNote(at: string, what: string, key: string, max: number): string {
  const three = Math.round(3 * max);
  return `${at}: ${what} without ${key}: lifetime ${three} s (3 x MaxRtrAdvInterval, RFC 8106 §5.1) where radvd 2.19 sends ${Math.round(max)} s (1 x): a host that misses one RA keeps the server; write "${key} ${Math.round(max)};" for radvd's value`;
}
