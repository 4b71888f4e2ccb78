// A reader for radvd.conf (radvd.conf(5), radvd 2.19 as in Debian 12), so ra-sender can take over from radvd
// with the same file: `interface NAME { ... };` blocks with the interface options, `prefix P/LEN {}` (`::/64`
// = the interface's own /64 prefixes, ra-sender's `auto`), `route P/LEN {}`, `RDNSS addr... {}`, `DNSSL
// name... {}` and `clients { addr; ... };`. Defaults are radvd's (AdvSendAdvert off: a block without
// `AdvSendAdvert on;` advertises nothing), except that stopping sends 3 final RAs (RFC 4861 §6.2.5) where
// radvd sends 1.
//
// Nothing is silently ignored: an option ra-sender does not implement is refused with its line and the
// reason, unless it is set to the value that means "feature off" (e.g. `AdvHomeAgentFlag off;`, which only
// restates what ra-sender does). Every refused line is reported, not only the first.

import { AUTO_PREFIX, DEFAULT_PREFERRED_LIFETIME_SEC, DEFAULT_VALID_LIFETIME_SEC, MAX_RTR_ADV_INTERVAL_LIMIT, PREFERENCES, type DnsslSettings, type Preference, type PrefixSettings, type RaInterfaceSettings, type RdnssSettings, type RouteSettings } from './settings.js';
import { INFINITE_LIFETIME } from '../../src/wire/ndisc-options.js';
import { RA_CONSTANTS } from '../../src/engine/ra/sender.js';

/** radvd.conf has no bound on unicast answers; config.ts applies --max-unicast-rate over this. */
const DEFAULT_MAX_UNICAST_PER_SEC = 100;

/** Every problem found, each as "FILE:LINE: message". */
export class RadvdConfError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'RadvdConfError';
  }
}

interface Token {
  readonly text: string;
  readonly line: number;
  readonly quoted: boolean;
}

function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (c === '#') while (i < text.length && text[i] !== '\n') i++;
    else if (c === '{' || c === '}' || c === ';') {
      tokens.push({ text: c, line, quoted: false });
      i++;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0 || text.slice(i, end).includes('\n')) throw new RadvdConfError([`${file}:${line}: unterminated string`]);
      tokens.push({ text: text.slice(i + 1, end), line, quoted: true });
      i = end + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s{};#"]/.test(text[j]!)) j++;
      tokens.push({ text: text.slice(i, j), line, quoted: false });
      i = j;
    }
  }
  return tokens;
}

/** radvd options that ra-sender does not implement, accepted only with the value that turns them off. */
const OFF_ONLY: Readonly<Record<string, string>> = {
  AdvHomeAgentFlag: 'Mobile IPv6 home agent flag (RFC 6275)',
  AdvHomeAgentInfo: 'Mobile IPv6 Home Agent Information option (RFC 6275)',
  AdvMobRtrSupportFlag: 'NEMO mobile router support flag',
  AdvIntervalOpt: 'Advertisement Interval option (RFC 6275 §7.3)',
  UnrestrictedUnicast: 'unicast RAs to non-link-local solicitors',
  DecrementLifetimes: 'counting prefix lifetimes down',
  AdvDHCPv6PDPreferred: 'the P flag (RFC 9762)',
};
/** Options ra-sender always behaves as "on" for (final RAs zero them), accepted only as on. */
const ON_ONLY: Readonly<Record<string, string>> = {
  RemoveRoute: 'routes are always sent with lifetime 0 in the final RAs',
  FlushRDNSS: 'RDNSS is always sent with lifetime 0 in the final RAs',
  FlushDNSSL: 'DNSSL is always sent with lifetime 0 in the final RAs',
};
/** Options and blocks refused whatever their value. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  HomeAgentLifetime: 'Mobile IPv6 home agent information is not supported',
  HomeAgentPreference: 'Mobile IPv6 home agent information is not supported',
  AdvCaptivePortalAPI: 'the captive portal option (RFC 8910) is not supported',
  Base6to4Interface: '6to4 prefixes derived from an IPv4 interface are not supported',
  Base6Interface: 'prefixes derived from another interface are not supported',
  AdvRASrcAddress: 'choosing the RA source address is not supported (RAs leave from the link-local address)',
  abro: '6LoWPAN border router options are not supported',
  lowpanco: '6LoWPAN context options are not supported',
  nat64prefix: 'the PREF64 option (RFC 8781) is not supported',
  autoignoreprefixes: 'prefix ::/64 takes every global /64 of the interface; excluding some is not supported',
  AdvSNACRouterFlag: 'the SNAC router flag is not supported',
};

interface Pending {
  name: string;
  opts: Map<string, number | boolean | string>;
  prefixes: Array<{ prefix: string; opts: Map<string, number | boolean | string> }>;
  routes: Array<{ prefix: string; opts: Map<string, number | boolean | string> }>;
  rdnss: Array<{ servers: string[]; opts: Map<string, number | boolean | string> }>;
  dnssl: Array<{ domains: string[]; opts: Map<string, number | boolean | string> }>;
  clients: string[];
}

type Kind = 'bool' | 'number' | 'lifetime' | 'preference';
const IFACE_OPTS: Readonly<Record<string, Kind>> = {
  AdvSendAdvert: 'bool', IgnoreIfMissing: 'bool', UnicastOnly: 'bool', AdvRASolicitedUnicast: 'bool', MaxRtrAdvInterval: 'number', MinRtrAdvInterval: 'number',
  MinDelayBetweenRAs: 'number', AdvManagedFlag: 'bool', AdvOtherConfigFlag: 'bool', AdvLinkMTU: 'number', AdvReachableTime: 'number', AdvRetransTimer: 'number',
  AdvCurHopLimit: 'number', AdvDefaultLifetime: 'number', AdvDefaultPreference: 'preference', AdvSourceLLAddress: 'bool', RemoveAdvOnExit: 'bool',
};
const PREFIX_OPTS: Readonly<Record<string, Kind>> = { AdvOnLink: 'bool', AdvAutonomous: 'bool', AdvRouterAddr: 'bool', AdvValidLifetime: 'lifetime', AdvPreferredLifetime: 'lifetime', DeprecatePrefix: 'bool' };
const ROUTE_OPTS: Readonly<Record<string, Kind>> = { AdvRoutePreference: 'preference', AdvRouteLifetime: 'lifetime' };
const RDNSS_OPTS: Readonly<Record<string, Kind>> = { AdvRDNSSLifetime: 'lifetime' };
const DNSSL_OPTS: Readonly<Record<string, Kind>> = { AdvDNSSLLifetime: 'lifetime' };

class Parser {
  #i = 0;
  readonly problems: string[] = [];
  constructor(
    private readonly tokens: Token[],
    private readonly file: string,
  ) {}

  #fail(line: number, message: string): never {
    throw new RadvdConfError([...this.problems, `${this.file}:${line}: ${message}`]);
  }

  #next(what: string): Token {
    const t = this.tokens[this.#i++];
    if (t === undefined) this.#fail(this.tokens[this.tokens.length - 1]?.line ?? 1, `unexpected end of file, expected ${what}`);
    return t;
  }

  #expect(text: string): void {
    const t = this.#next(`"${text}"`);
    if (t.text !== text || t.quoted) this.#fail(t.line, `expected "${text}", found "${t.text}"`);
  }

  #peek(): Token | undefined {
    return this.tokens[this.#i];
  }

  parse(): Pending[] {
    const out: Pending[] = [];
    while (this.#peek() !== undefined) {
      const t = this.#next('interface');
      if (t.text !== 'interface') this.#fail(t.line, `expected "interface NAME {", found "${t.text}"`);
      const name = this.#next('an interface name');
      const p: Pending = { name: name.text, opts: new Map(), prefixes: [], routes: [], rdnss: [], dnssl: [], clients: [] };
      this.#expect('{');
      while (this.#peek()?.text !== '}') this.#statement(p);
      this.#expect('}');
      this.#expect(';');
      out.push(p);
    }
    return out;
  }

  /** Words up to "{" (the arguments of prefix / route / RDNSS / DNSSL). */
  #args(what: string): Token[] {
    const args: Token[] = [];
    for (let t = this.#peek(); t !== undefined && t.text !== '{'; t = this.#peek()) {
      if (t.text === ';' || t.text === '}') this.#fail(t.line, `expected "{" after ${what}`);
      args.push(this.#next(what));
    }
    return args;
  }

  #block(kinds: Readonly<Record<string, Kind>>): Map<string, number | boolean | string> {
    const opts = new Map<string, number | boolean | string>();
    this.#expect('{');
    while (this.#peek()?.text !== '}') this.#option(kinds, opts);
    this.#expect('}');
    this.#expect(';');
    return opts;
  }

  #statement(p: Pending): void {
    const t = this.#peek() ?? this.#next('an option');
    switch (t.text) {
      case 'prefix': {
        this.#i++;
        const [prefix, ...extra] = this.#args('prefix P/LEN');
        if (prefix === undefined || extra.length > 0) this.#fail(t.line, 'prefix takes one P/LEN');
        p.prefixes.push({ prefix: prefix.text === '::/64' ? AUTO_PREFIX : prefix.text, opts: this.#block(PREFIX_OPTS) });
        return;
      }
      case 'route': {
        this.#i++;
        const [prefix, ...extra] = this.#args('route P/LEN');
        if (prefix === undefined || extra.length > 0) this.#fail(t.line, 'route takes one P/LEN');
        p.routes.push({ prefix: prefix.text, opts: this.#block(ROUTE_OPTS) });
        return;
      }
      case 'RDNSS':
        this.#i++;
        p.rdnss.push({ servers: this.#args('RDNSS addresses').map((a) => a.text), opts: this.#block(RDNSS_OPTS) });
        return;
      case 'DNSSL':
        this.#i++;
        p.dnssl.push({ domains: this.#args('DNSSL domains').map((a) => a.text), opts: this.#block(DNSSL_OPTS) });
        return;
      case 'clients':
        this.#i++;
        this.#expect('{');
        while (this.#peek()?.text !== '}') {
          p.clients.push(this.#next('a client address').text);
          this.#expect(';');
        }
        this.#expect('}');
        this.#expect(';');
        return;
      default:
        this.#option(IFACE_OPTS, p.opts);
    }
  }

  #option(kinds: Readonly<Record<string, Kind>>, opts: Map<string, number | boolean | string>): void {
    const name = this.#next('an option');
    if (name.quoted || name.text === '{' || name.text === ';') this.#fail(name.line, `expected an option name, found "${name.text}"`);
    if (Object.hasOwn(UNSUPPORTED, name.text)) {
      this.problems.push(`${this.file}:${name.line}: ${name.text}: ${UNSUPPORTED[name.text]}`);
      this.#skipStatement();
      return;
    }
    const value = this.#next(`a value for ${name.text}`);
    if (value.text === '{' && !value.quoted) this.#fail(value.line, `${name.text} is not a block`);
    this.#expect(';');
    const off = Object.hasOwn(OFF_ONLY, name.text);
    const on = Object.hasOwn(ON_ONLY, name.text);
    if (off || on) {
      const wanted = off ? 'off' : 'on';
      if (value.text !== wanted) this.problems.push(`${this.file}:${name.line}: ${name.text} ${value.text}: not supported (${off ? OFF_ONLY[name.text] : ON_ONLY[name.text]}); only "${name.text} ${wanted};" is accepted`);
      return;
    }
    const kind = kinds[name.text];
    if (kind === undefined) {
      this.problems.push(`${this.file}:${name.line}: unknown option ${name.text}${this.#elsewhere(name.text)}`);
      return;
    }
    const v = this.#value(kind, value);
    if (v === undefined) this.problems.push(`${this.file}:${value.line}: ${name.text}: bad value "${value.text}" (expected ${kind === 'bool' ? 'on or off' : kind === 'preference' ? 'low, medium or high' : kind === 'lifetime' ? 'seconds or infinity' : 'a number'})`);
    else opts.set(name.text, v);
  }

  #elsewhere(name: string): string {
    for (const [block, kinds] of [['interface', IFACE_OPTS], ['prefix', PREFIX_OPTS], ['route', ROUTE_OPTS], ['RDNSS', RDNSS_OPTS], ['DNSSL', DNSSL_OPTS]] as const) {
      if (Object.hasOwn(kinds, name)) return ` here (it belongs in an ${block} block)`;
    }
    return '';
  }

  #value(kind: Kind, t: Token): number | boolean | string | undefined {
    switch (kind) {
      case 'bool':
        return t.text === 'on' ? true : t.text === 'off' ? false : undefined;
      case 'preference':
        return (PREFERENCES as readonly string[]).includes(t.text) ? t.text : undefined;
      case 'lifetime':
        if (t.text === 'infinity') return INFINITE_LIFETIME;
        return /^\d+$/.test(t.text) ? Number(t.text) : undefined;
      case 'number':
        return /^\d+(\.\d+)?$/.test(t.text) ? Number(t.text) : undefined;
    }
  }

  #skipStatement(): void {
    let depth = 0;
    for (let t = this.#next('";"'); ; t = this.#next('";"')) {
      if (t.text === '{') depth++;
      else if (t.text === '}') depth--;
      if (depth === 0 && t.text === ';') return;
      if (depth < 0) this.#fail(t.line, 'unbalanced "}"');
    }
  }
}

function num(opts: Map<string, unknown>, key: string): number | undefined {
  const v = opts.get(key);
  return typeof v === 'number' ? v : undefined;
}
function bool(opts: Map<string, unknown>, key: string, dflt: boolean): boolean {
  const v = opts.get(key);
  return typeof v === 'boolean' ? v : dflt;
}

/** radvd's defaults for what the block leaves out (radvd.conf(5), defaults.h). */
function settingsOf(p: Pending): RaInterfaceSettings {
  const o = p.opts;
  const max = num(o, 'MaxRtrAdvInterval') ?? 600;
  const threeMax = Math.min(INFINITE_LIFETIME, Math.round(3 * max));
  const prefixes: PrefixSettings[] = p.prefixes.map((x) => ({
    prefix: x.prefix,
    onLink: bool(x.opts, 'AdvOnLink', true),
    autonomous: bool(x.opts, 'AdvAutonomous', true),
    routerAddress: bool(x.opts, 'AdvRouterAddr', false),
    deprecateOnExit: bool(x.opts, 'DeprecatePrefix', false),
    validLifetimeSec: num(x.opts, 'AdvValidLifetime') ?? DEFAULT_VALID_LIFETIME_SEC,
    preferredLifetimeSec: num(x.opts, 'AdvPreferredLifetime') ?? DEFAULT_PREFERRED_LIFETIME_SEC,
  }));
  const routes: RouteSettings[] = p.routes.map((x) => ({ prefix: x.prefix, preference: (x.opts.get('AdvRoutePreference') as Preference | undefined) ?? 'medium', lifetimeSec: num(x.opts, 'AdvRouteLifetime') ?? threeMax }));
  const rdnss: RdnssSettings[] = p.rdnss.map((x) => ({ servers: x.servers, lifetimeSec: num(x.opts, 'AdvRDNSSLifetime') ?? threeMax }));
  const dnssl: DnsslSettings[] = p.dnssl.map((x) => ({ domains: x.domains, lifetimeSec: num(x.opts, 'AdvDNSSLLifetime') ?? threeMax }));
  return {
    name: p.name,
    minIntervalSec: num(o, 'MinRtrAdvInterval') ?? Math.max(3, Math.round(0.33 * max * 1000) / 1000),
    maxIntervalSec: max,
    minDelayBetweenRasSec: num(o, 'MinDelayBetweenRAs') ?? RA_CONSTANTS.MIN_DELAY_BETWEEN_RAS / 1000,
    managed: bool(o, 'AdvManagedFlag', false),
    otherConfig: bool(o, 'AdvOtherConfigFlag', false),
    routerLifetimeSec: num(o, 'AdvDefaultLifetime') ?? Math.min(MAX_RTR_ADV_INTERVAL_LIMIT, Math.max(1, threeMax)),
    routerPreference: (o.get('AdvDefaultPreference') as Preference | undefined) ?? 'medium',
    curHopLimit: num(o, 'AdvCurHopLimit') ?? 64,
    reachableTimeMs: num(o, 'AdvReachableTime') ?? 0,
    retransTimerMs: num(o, 'AdvRetransTimer') ?? 0,
    mtu: num(o, 'AdvLinkMTU') ?? 0,
    sourceLinkLayerAddress: bool(o, 'AdvSourceLLAddress', true),
    unicastSolicited: bool(o, 'AdvRASolicitedUnicast', true),
    unicastOnly: bool(o, 'UnicastOnly', false),
    clients: p.clients,
    finalAdvertisements: bool(o, 'RemoveAdvOnExit', true) ? RA_CONSTANTS.MAX_FINAL_RTR_ADVERTISEMENTS : 0,
    maxUnicastPerSec: DEFAULT_MAX_UNICAST_PER_SEC,
    prefixes,
    routes,
    rdnss,
    dnssl,
  };
}

/**
 * Parses radvd.conf text (`file` names it in messages). Returns the interfaces with `AdvSendAdvert on`
 * (others are listed in `warnings`); throws RadvdConfError with every refused line, or the first syntax error.
 */
export function parseRadvdConf(text: string, file: string): { interfaces: RaInterfaceSettings[]; warnings: string[] } {
  const parser = new Parser(tokenize(text, file), file);
  const blocks = parser.parse();
  if (parser.problems.length > 0) throw new RadvdConfError(parser.problems);
  const warnings: string[] = [];
  const interfaces: RaInterfaceSettings[] = [];
  for (const b of blocks) {
    if (b.opts.get('AdvSendAdvert') === true) interfaces.push(settingsOf(b));
    else warnings.push(`${file}: interface ${b.name}: AdvSendAdvert is off (radvd's default): not advertised`);
  }
  return { interfaces, warnings };
}
