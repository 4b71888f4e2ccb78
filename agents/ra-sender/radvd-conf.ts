// A reader for radvd.conf (radvd.conf(5); radvd 2.19 as in Debian 12, plus the newer `nat64prefix`,
// `AdvCaptivePortalAPI`, `autoignoreprefixes`, `DNR` and `!addr` clients), so ra-sender can take over from radvd
// with the same file. This file reads the syntax: statements `NAME ARGS... [{ STATEMENTS }] ;`, each option
// checked against the table of its block (names match without regard to case, as radvd 2.20+ does); what each
// means is radvd-settings.ts. Every directive radvd accepts is accepted: implemented, or accepted with a warning
// saying what differs (the `note` of its table entry). Unknown names, bad values and syntax errors are refused
// with FILE:LINE, every refused line reported, not only the first.

import { INFINITE_LIFETIME } from '../../src/wire/ndisc-options.js';
import { PREFERENCES } from './settings.js';

/** Every problem found, each as "FILE:LINE: message". */
export class RadvdConfError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'RadvdConfError';
  }
}

export interface Token {
  readonly text: string;
  readonly line: number;
  readonly quoted: boolean;
}

/** `name args... { block } ;` — `block` undefined when the statement has none. */
export interface Statement {
  readonly name: Token;
  readonly args: readonly Token[];
  readonly block: readonly Statement[] | undefined;
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

/** The statements of radvd.conf text; throws RadvdConfError at the first syntax error. */
export function parseStatements(text: string, file: string): Statement[] {
  const tokens = tokenize(text, file);
  let i = 0;
  const fail = (line: number, message: string): never => {
    throw new RadvdConfError([`${file}:${line}: ${message}`]);
  };
  const next = (what: string): Token => tokens[i++] ?? fail(tokens[tokens.length - 1]?.line ?? 1, `unexpected end of file, expected ${what}`);
  const list = (top: boolean): Statement[] => {
    const out: Statement[] = [];
    while (i < tokens.length && tokens[i]!.text !== '}') {
      const name = next(top ? 'interface' : 'an option');
      if (top && !/^interface$/i.test(name.text)) fail(name.line, `expected "interface NAME {", found "${name.text}"`);
      if (name.quoted || name.text === '{' || name.text === ';') fail(name.line, `expected an option name, found "${name.text}"`);
      const args: Token[] = [];
      while (tokens[i] !== undefined && tokens[i]!.text !== '{' && tokens[i]!.text !== ';' && tokens[i]!.text !== '}') args.push(tokens[i++]!);
      let block: Statement[] | undefined;
      if (tokens[i]?.text === '{') {
        i++;
        block = list(false);
        const close = next('"}"');
        if (close.text !== '}') fail(close.line, `expected "}", found "${close.text}"`);
      }
      const end = next('";"');
      if (end.text !== ';') fail(end.line, `expected ";", found "${end.text}"`);
      out.push({ name, args, block });
    }
    if (top && i < tokens.length) fail(tokens[i]!.line, 'unbalanced "}"');
    return out;
  };
  return list(true);
}

export type Kind = 'bool' | 'number' | 'integer' | 'signed' | 'lifetime' | 'preference' | 'string' | 'address';
/** An option of a block: its value kind, and for those ra-sender does not apply, what differs (a warning). */
export interface OptionSpec {
  readonly kind: Kind;
  readonly note?: (value: unknown) => string | undefined;
}

const ON_NOT_APPLIED = (what: string) => (v: unknown) => (v === true ? what : undefined);

export const IFACE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  AdvSendAdvert: { kind: 'bool' },
  IgnoreIfMissing: { kind: 'bool', note: (v) => (v === false ? 'ra-sender waits for a missing interface whatever this says (radvd would refuse to start without it)' : undefined) },
  UnicastOnly: { kind: 'bool' },
  AdvRASolicitedUnicast: { kind: 'bool' },
  MaxRtrAdvInterval: { kind: 'number' },
  MinRtrAdvInterval: { kind: 'number' },
  MinDelayBetweenRAs: { kind: 'number' },
  AdvManagedFlag: { kind: 'bool' },
  AdvOtherConfigFlag: { kind: 'bool' },
  AdvLinkMTU: { kind: 'integer' },
  AdvRAMTU: { kind: 'integer' },
  AdvReachableTime: { kind: 'integer' },
  AdvRetransTimer: { kind: 'integer' },
  AdvCurHopLimit: { kind: 'integer' },
  AdvDefaultLifetime: { kind: 'integer' },
  AdvDefaultPreference: { kind: 'preference' },
  AdvSourceLLAddress: { kind: 'bool' },
  RemoveAdvOnExit: { kind: 'bool' },
  AdvHomeAgentFlag: { kind: 'bool' },
  AdvHomeAgentInfo: { kind: 'bool' },
  HomeAgentPreference: { kind: 'signed' },
  HomeAgentLifetime: { kind: 'integer' },
  AdvMobRtrSupportFlag: { kind: 'bool' },
  AdvIntervalOpt: { kind: 'bool' },
  AdvCaptivePortalAPI: { kind: 'string' },
  UnrestrictedUnicast: { kind: 'bool', note: ON_NOT_APPLIED('not applied: a Router Solicitation from a global address is answered like one from a link-local address (unicast to it when AdvRASolicitedUnicast is on)') },
  AdvSNACRouterFlag: { kind: 'bool', note: ON_NOT_APPLIED('not applied: the SNAC router flag (RFC 9762 draft bit) is not sent') },
};
export const PREFIX_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  AdvOnLink: { kind: 'bool' },
  AdvAutonomous: { kind: 'bool' },
  AdvRouterAddr: { kind: 'bool' },
  AdvValidLifetime: { kind: 'lifetime' },
  AdvPreferredLifetime: { kind: 'lifetime' },
  DeprecatePrefix: { kind: 'bool' },
  DecrementLifetimes: { kind: 'bool' },
  Base6Interface: { kind: 'string' },
  Base6to4Interface: { kind: 'string' },
  AdvDHCPv6PDPreferred: { kind: 'bool', note: ON_NOT_APPLIED('not applied: the P flag (RFC 9762) is not sent') },
};
export const ROUTE_OPTIONS: Readonly<Record<string, OptionSpec>> = { AdvRoutePreference: { kind: 'preference' }, AdvRouteLifetime: { kind: 'lifetime' }, RemoveRoute: { kind: 'bool' } };
const IGNORED_BY_RADVD = 'deprecated and ignored by radvd too (RFC 6106 drafts); not sent';
export const RDNSS_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  AdvRDNSSLifetime: { kind: 'lifetime' },
  FlushRDNSS: { kind: 'bool' },
  AdvRDNSSPreference: { kind: 'integer', note: () => IGNORED_BY_RADVD },
  AdvRDNSSOpen: { kind: 'bool', note: () => IGNORED_BY_RADVD },
};
export const DNSSL_OPTIONS: Readonly<Record<string, OptionSpec>> = { AdvDNSSLLifetime: { kind: 'lifetime' }, FlushDNSSL: { kind: 'bool' } };
export const LOWPANCO_OPTIONS: Readonly<Record<string, OptionSpec>> = { AdvContextLength: { kind: 'integer' }, AdvContextCompressionFlag: { kind: 'bool' }, AdvContextID: { kind: 'integer' }, AdvLifeTime: { kind: 'integer' } };
// radvd's scanner reads "AdvValidLifeTime" (the man page's spelling) as AdvValidLifetime.
export const ABRO_OPTIONS: Readonly<Record<string, OptionSpec>> = { AdvVersionLow: { kind: 'integer' }, AdvVersionHigh: { kind: 'integer' }, AdvValidLifetime: { kind: 'integer' } };
export const NAT64_OPTIONS: Readonly<Record<string, OptionSpec>> = { AdvValidLifetime: { kind: 'integer' } };
export const DNR_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  AdvDNRPriority: { kind: 'integer' },
  AdvDNRLifetime: { kind: 'lifetime' },
  AdvDNRAddr: { kind: 'address' },
  AdvDNRSvcAlpn: { kind: 'string' },
  AdvDNRSvcPort: { kind: 'integer' },
  AdvDNRSvcDohpath: { kind: 'string' },
};

export type Value = number | boolean | string;

/** The value of one option token, or undefined when it is not of `kind`. */
export function valueOf(kind: Kind, t: Token): Value | undefined {
  const text = t.text;
  switch (kind) {
    case 'bool':
      return /^on$/i.test(text) ? true : /^off$/i.test(text) ? false : undefined;
    case 'preference':
      return (PREFERENCES as readonly string[]).includes(text.toLowerCase()) ? text.toLowerCase() : undefined;
    case 'lifetime':
      if (/^infinity$/i.test(text)) return INFINITE_LIFETIME;
      return /^\d+$/.test(text) && Number(text) <= INFINITE_LIFETIME ? Number(text) : undefined;
    case 'integer':
      return /^\d+$/.test(text) && Number(text) <= INFINITE_LIFETIME ? Number(text) : undefined;
    case 'signed':
      return /^-?\d+$/.test(text) ? Number(text) : undefined;
    case 'number':
      return /^\d+(\.\d+)?$/.test(text) ? Number(text) : undefined;
    case 'string':
    case 'address':
      return text;
  }
}

export function describeKind(kind: Kind): string {
  return { bool: 'on or off', preference: 'low, medium or high', lifetime: 'seconds or infinity', integer: 'a whole number', signed: 'a whole number', number: 'a number', string: 'a string', address: 'an IPv6 address' }[kind];
}

/** The canonical name of `name` in `table` (case-insensitive), or undefined. */
export function lookup(table: Readonly<Record<string, OptionSpec>>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(table).find((k) => k.toLowerCase() === lower);
}
