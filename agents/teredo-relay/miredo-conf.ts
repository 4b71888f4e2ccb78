// `--miredo-conf FILE`: reads a Miredo relay configuration (miredo.conf(5)) so that an existing Miredo relay
// switches to teredo-relay by changing the command. The file becomes flags; a flag also given on the command
// line is taken from the command line:
//
//   RelayType relay | cone   -> (the default: bubbles through the peer's server only)
//   RelayType restricted     -> --direct-bubbles (Miredo: "the relay is behind a restricted NAT")
//   InterfaceName NAME       -> --interface NAME
//   BindAddress IPv4         -> --bind IPv4
//   BindPort N               -> --port N
//   InterfaceMTU N           -> --mtu N
//   Prefix 2001:0::          -> accepted only as the RFC 4380 prefix (Miredo 1.3 removed custom prefixes)
//   SyslogFacility, LocalDiscovery, ServerAddress, ServerAddress2: ignored (logging goes to stdout; the rest
//   concern clients)
//
// Syntax as Miredo parses it: one "Directive value" per line, directive names case-insensitive, '#' starts a
// comment. A client RelayType, an unknown directive or a bad value is an error naming the file and line.

import { readFileSync } from 'node:fs';
import { AgentError } from '../../src/runtime/errors.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';

const IGNORED = new Set(['syslogfacility', 'localdiscovery', 'serveraddress', 'serveraddress2']);

/** The flags (e.g. ['--interface', 'teredo']) a Miredo relay configuration text stands for; throws AgentError CONFIG_INVALID. */
export function miredoConfFlags(text: string, path: string): string[] {
  const flags: string[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const [directive = '', value = '', ...rest] = line.split(/\s+/);
    const where = `${path}:${i + 1}`;
    const key = directive.toLowerCase();
    if (IGNORED.has(key)) return;
    if (value === '' || rest.length > 0) {
      problems.push(`${where}: ${directive} takes exactly one value`);
      return;
    }
    switch (key) {
      case 'relaytype': {
        const type = value.toLowerCase();
        if (type === 'restricted') flags.push('--direct-bubbles');
        else if (type !== 'relay' && type !== 'cone') problems.push(`${where}: RelayType ${value} is not a relay (teredo-relay takes relay, cone or restricted; use teredo-client for a client)`);
        return;
      }
      case 'interfacename':
        flags.push('--interface', value);
        return;
      case 'bindaddress':
        if (!valid(() => parseIpv4(value))) problems.push(`${where}: BindAddress ${value} is not an IPv4 address`);
        else flags.push('--bind', value);
        return;
      case 'bindport':
        if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) problems.push(`${where}: BindPort ${value} is not a port number`);
        else flags.push('--port', value);
        return;
      case 'interfacemtu':
        if (!/^\d{1,5}$/.test(value)) problems.push(`${where}: InterfaceMTU ${value} is not a number`);
        else flags.push('--mtu', value);
        return;
      case 'prefix':
        if (!valid(() => parseIpv6(value)) || !isTeredoPrefix(parseIpv6(value))) problems.push(`${where}: Prefix ${value}: only the RFC 4380 prefix 2001:0::/32 is supported`);
        return;
      default:
        problems.push(`${where}: unknown directive ${JSON.stringify(directive)}`);
    }
  });
  if (problems.length > 0) throw new AgentError('CONFIG_INVALID', `invalid Miredo configuration ${path}`, { details: problems });
  return flags;
}

/**
 * Replaces `--miredo-conf FILE` (or `--miredo-conf=FILE`) in argv by the flags the file stands for, except those
 * the command line gives itself (it wins). argv without it is returned as is.
 */
export function expandMiredoConf(argv: readonly string[], read: (path: string) => string = (p) => readFileSync(p, 'utf8')): string[] {
  const at = argv.findIndex((a) => a === '--miredo-conf' || a.startsWith('--miredo-conf='));
  if (at < 0) return [...argv];
  const inline = argv[at]!.startsWith('--miredo-conf=');
  const path = inline ? argv[at]!.slice('--miredo-conf='.length) : argv[at + 1];
  if (path === undefined || path === '') throw new AgentError('USAGE', '--miredo-conf needs a file name');
  let text: string;
  try {
    text = read(path);
  } catch (err) {
    throw new AgentError('CONFIG_READ', `cannot read Miredo configuration ${path}: ${(err as Error).message}`, { cause: err });
  }
  const rest = [...argv.slice(0, at), ...argv.slice(at + (inline ? 1 : 2))];
  const given = new Set(rest.filter((a) => a.startsWith('--')).map((a) => a.replace(/^--(no-)?/, '--').replace(/=.*/, '')));
  const fromFile = miredoConfFlags(text, path);
  const kept: string[] = [];
  for (let i = 0; i < fromFile.length; i++) {
    const flag = fromFile[i]!;
    const takesValue = flag !== '--direct-bubbles';
    if (!given.has(flag)) kept.push(...(takesValue ? [flag, fromFile[i + 1]!] : [flag]));
    if (takesValue) i++;
  }
  return [...rest, ...kept];
}

function valid(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch {
    return false;
  }
}

function isTeredoPrefix(a: Uint8Array): boolean {
  return a[0] === 0x20 && a[1] === 0x01 && a[2] === 0 && a[3] === 0;
}
