// `teredo-server --miredo-conf FILE`: reads a miredo-server configuration (miredo-server.conf(5); Debian
// installs it at /etc/miredo-server.conf) into the server's config fields, so a Miredo server moves over with
// its file unchanged. Flags still override what the file says; --config (JSON) and --miredo-conf exclude
// each other. SIGHUP reads the file again, like miredo-server.
//
// The syntax is Miredo's (its src/conf.c): one directive per line, "Name value", separated by spaces or tabs;
// names are case-insensitive; a line whose first word starts with '#' is a comment; empty lines are
// ignored; there is no quoting (a quote is part of the value, as in Miredo, where "\"192.0.2.1\"" fails too).
//
//   ServerBindAddress  IPv4      -> address
//   ServerBindAddress2 IPv4      -> secondaryAddress (default primary + 1, as Miredo)
//   InterfaceMTU       integer   -> mtu (decimal, 0x hex or 0 octal, as Miredo's strtoul base 0)
//   Prefix             IPv6      only the standard 2001:0::/32 (RFC 4380 §2.6), which is what we serve
//   SyslogFacility     facility  accepted (Miredo's list) and not used: our logs are JSON lines on stdout
//
// Where Miredo only warns and carries on, this reader refuses, naming the line: an unknown or repeated
// directive (Miredo: "Superfluous directive", the first one wins), a directive without value or with more
// than one word after it other than a '#' comment (Miredo ignores the extra words), a line longer than
// Miredo's 1054 characters (Miredo skips it). Host names are not resolved: addresses must be literals.
// Unlike Miredo, a last line without a newline is read, not skipped.

import { readFileSync } from 'node:fs';
import { AgentError } from '../../src/runtime/errors.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';

/** Longest line Miredo reads: its 1056-byte buffer less the newline and the terminating NUL. */
export const MIREDO_MAX_LINE = 1054;

/** syslog facilities Miredo knows (src/conf.c), for SyslogFacility. */
const FACILITIES = new Set(['auth', 'authpriv', 'cron', 'daemon', 'ftp', 'kern', 'lpr', 'mail', 'news', 'syslog', 'user', 'uucp', ...[0, 1, 2, 3, 4, 5, 6, 7].map((n) => `local${n}`)]);

/** Directives of miredo.conf(5) (client and relay), named when found here by mistake. */
const CLIENT_DIRECTIVES = new Set(['relaytype', 'serveraddress', 'serveraddress2', 'interfacename', 'bindaddress', 'bindport', 'localdiscovery', 'hold']);

type Directive = 'ServerBindAddress' | 'ServerBindAddress2' | 'InterfaceMTU' | 'Prefix' | 'SyslogFacility';
const DIRECTIVES: readonly Directive[] = ['ServerBindAddress', 'ServerBindAddress2', 'InterfaceMTU', 'Prefix', 'SyslogFacility'];

/** Config values by field name (ServerAgentConfig keys), as a JSON --config file would hold them. */
export type MiredoServerValues = { address?: string; secondaryAddress?: string; mtu?: number };

/**
 * Parses the text of a miredo-server.conf. `where` names the file in messages ("FILE line N: ..."). Returns
 * the values and every problem found (an empty list when the file is usable).
 */
export function parseMiredoServerConf(text: string, where: string): { values: MiredoServerValues; problems: string[] } {
  const values: MiredoServerValues = {};
  const problems: string[] = [];
  const seen = new Map<Directive, number>();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = i + 1;
    const at = `${where} line ${line}`;
    if (raw.length > MIREDO_MAX_LINE) {
      problems.push(`${at}: longer than ${MIREDO_MAX_LINE} characters`);
      return;
    }
    const words = raw.split(/[ \t\r\v\f]+/).filter((w) => w !== '');
    const [name, value, extra] = words;
    if (name === undefined || name.startsWith('#')) return;
    const directive = DIRECTIVES.find((d) => d.toLowerCase() === name.toLowerCase());
    if (directive === undefined) {
      const hint = CLIENT_DIRECTIVES.has(name.toLowerCase()) ? ' (a miredo.conf directive, for the client or relay, not for miredo-server)' : '';
      problems.push(`${at}: unknown directive ${JSON.stringify(name)}${hint}; miredo-server.conf knows ${DIRECTIVES.join(', ')}`);
      return;
    }
    if (value === undefined) {
      problems.push(`${at}: ${directive} needs a value`);
      return;
    }
    if (extra !== undefined && !extra.startsWith('#')) {
      problems.push(`${at}: ${directive} takes one value, not ${JSON.stringify(words.slice(1).join(' '))}`);
      return;
    }
    const first = seen.get(directive);
    if (first !== undefined) {
      problems.push(`${at}: ${directive} repeated (first at line ${first})`);
      return;
    }
    seen.set(directive, line);
    const problem = apply(directive, value, values);
    if (problem !== undefined) problems.push(`${at}: ${directive} ${problem}`);
  });
  return { values, problems };
}

/** Stores one directive's value into `values`; returns what is wrong with it, or undefined. */
function apply(directive: Directive, value: string, values: MiredoServerValues): string | undefined {
  switch (directive) {
    case 'ServerBindAddress':
    case 'ServerBindAddress2': {
      if (!isIpv4Literal(value)) return `(${JSON.stringify(value)}) must be an IPv4 address (host names are not resolved)`;
      if (directive === 'ServerBindAddress') values.address = value;
      else values.secondaryAddress = value;
      return undefined;
    }
    case 'InterfaceMTU': {
      const mtu = strtoulBase0(value);
      if (mtu === undefined || mtu > 65535) return `(${JSON.stringify(value)}) must be an integer from 0 to 65535`;
      values.mtu = mtu;
      return undefined;
    }
    case 'Prefix': {
      let bytes: Uint8Array;
      try {
        bytes = parseIpv6(value);
      } catch {
        return `(${JSON.stringify(value)}) must be an IPv6 prefix`;
      }
      const standard = bytes[0] === 0x20 && bytes[1] === 0x01 && bytes[2] === 0 && bytes[3] === 0;
      return standard ? undefined : `(${JSON.stringify(value)}) is not supported: only the standard Teredo prefix 2001:0::/32 (RFC 4380 §2.6)`;
    }
    case 'SyslogFacility':
      return FACILITIES.has(value.toLowerCase()) ? undefined : `(${JSON.stringify(value)}) must be one of ${[...FACILITIES].join(', ')}`;
  }
}

function isIpv4Literal(text: string): boolean {
  try {
    parseIpv4(text);
    return true;
  } catch {
    return false;
  }
}

/** An unsigned integer the way C's strtoul(s, &end, 0) reads a whole word: 0x hex, leading-0 octal, decimal. */
function strtoulBase0(text: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^0[0-7]*$/.test(text)) return Number.parseInt(text, 8);
  if (/^[1-9][0-9]*$/.test(text)) return Number(text);
  return undefined;
}

/**
 * Reads FILE for `--miredo-conf` (the runtime's AgentDefinition.foreignConfig): the values by field name,
 * to be validated by the server's schema with the flags on top. Throws AgentError CONFIG_READ when the file
 * cannot be read, CONFIG_INVALID listing every line that is wrong.
 */
export function readMiredoServerConf(path: string): { path: string; values: MiredoServerValues } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new AgentError('CONFIG_READ', `cannot read miredo-server config ${path}: ${why}`, { cause: err });
  }
  const { values, problems } = parseMiredoServerConf(text, path);
  if (problems.length > 0) {
    const n = problems.length;
    throw new AgentError('CONFIG_INVALID', `invalid miredo-server config (${n} problem${n === 1 ? '' : 's'}):`, { details: problems });
  }
  return { path, values };
}
