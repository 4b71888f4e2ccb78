// The listener's list of authorised RAS servers (`rasadv listen --allow`): the seed's use case is finding RAS
// servers an administrator did not authorise. Pure parsing and matching; the agent reads @files.
//
// Syntax: entries separated by commas, whitespace or newlines; `#` starts a comment to the end of the line.
// An entry is an IPv4 address, an IPv4 prefix (a.b.c.d/len), or a name. A name matches the advertised host
// name, or "hostname.domain" when the advertisement carries a Domain line, compared case-insensitively
// (Windows names are: NetBIOS names are sent in upper case, DNS names usually in lower case).
// [MS-RASA] §5: advertisements are not authenticated, so the list tells honest servers apart, nothing more.

import { parseIpv4 } from '../../wire/ipv4.js';

export class AllowListError extends Error {
  override readonly name = 'AllowListError';
  readonly code = 'RASADV_BAD_ALLOW';
}

export interface AllowListSource {
  readonly text: string;
  /** Where the text came from, for error messages: "--allow" or a file name. */
  readonly origin: string;
}

export interface AllowList {
  /** Lower-case names. */
  readonly names: ReadonlySet<string>;
  readonly prefixes: readonly { readonly net: number; readonly mask: number }[];
}

const NAME = /^[A-Za-z0-9_$.-]+$/;

function parseEntry(entry: string, where: string): { name: string } | { net: number; mask: number } {
  const prefix = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?$/.exec(entry);
  if (prefix) {
    let addr: number;
    try {
      addr = parseIpv4(prefix[1]!);
    } catch {
      throw new AllowListError(`${where}: ${JSON.stringify(entry)} is not a valid IPv4 address`);
    }
    const len = prefix[2] === undefined ? 32 : Number(prefix[2]);
    if (len > 32) throw new AllowListError(`${where}: prefix length ${len} in ${JSON.stringify(entry)} is over 32`);
    const mask = len === 0 ? 0 : -1 << (32 - len);
    if ((addr & mask) !== addr) throw new AllowListError(`${where}: ${JSON.stringify(entry)} has host bits set`);
    return { net: addr, mask };
  }
  if (!NAME.test(entry)) throw new AllowListError(`${where}: ${JSON.stringify(entry)} is neither an IPv4 address, a prefix nor a host name`);
  return { name: entry.toLowerCase() };
}

export function parseAllowList(sources: readonly AllowListSource[]): AllowList {
  const names = new Set<string>();
  const prefixes: { net: number; mask: number }[] = [];
  for (const { text, origin } of sources) {
    for (const [i, rawLine] of text.split('\n').entries()) {
      const line = rawLine.replace(/#.*$/, '');
      for (const entry of line.split(/[\s,]+/)) {
        if (entry === '') continue;
        const e = parseEntry(entry, `${origin}:${i + 1}`);
        if ('name' in e) names.add(e.name);
        else prefixes.push(e);
      }
    }
  }
  return { names, prefixes };
}

export function allowListSize(list: AllowList): number {
  return list.names.size + list.prefixes.length;
}

/** True when the sender address or the advertised name is on the list. */
export function isAllowed(list: AllowList, sender: number, hostname: string, domain: string | undefined): boolean {
  for (const p of list.prefixes) if ((sender & p.mask) === p.net) return true; // int32 (wire/ipv4.ts); & yields int32
  const host = hostname.toLowerCase();
  if (host !== '' && list.names.has(host)) return true;
  return domain !== undefined && host !== '' && list.names.has(`${host}.${domain.toLowerCase()}`);
}
