// Reads a Miredo client configuration (miredo.conf(5)) so that a host running Miredo switches by changing the
// command: `teredo-client --miredo-conf /etc/miredo.conf`. The directives a client uses are taken:
//
//   RelayType client|autoclient   (anything else is a relay, which this agent is not: refused)
//   ServerAddress host            -> server
//   ServerAddress2 host           -> secondaryServer (Miredo's client ignores it; we use it)
//   InterfaceName name            -> interface
//   BindAddress ip, BindPort port -> bindAddress, port
//
// The syntax is Miredo's: one "Directive value" per line, '#' starts a comment, directive names are not case
// sensitive. Directives that only concern Miredo (SyslogFacility, LocalDiscovery, InterfaceMTU...) are listed
// in `ignored` so the agent can say it skipped them, rather than failing on a working Miredo file.

import { readFileSync } from 'node:fs';

export interface MiredoClientConf {
  readonly server?: string;
  readonly secondaryServer?: string;
  readonly interface?: string;
  readonly bindAddress?: string;
  readonly port?: number;
  /** Directives present but without meaning here. */
  readonly ignored: readonly string[];
}

const CLIENT_TYPES = new Set(['client', 'autoclient']);

/** Parses the text of a miredo.conf; problems are returned as lines naming the directive and line number. */
export function parseMiredoConf(text: string): { conf: MiredoClientConf; problems: string[] } {
  const problems: string[] = [];
  const ignored: string[] = [];
  const out: { server?: string; secondaryServer?: string; interface?: string; bindAddress?: string; port?: number } = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const [name = '', ...rest] = line.split(/\s+/);
    const value = rest.join(' ');
    const where = `miredo.conf line ${i + 1}: ${name}`;
    if (value === '') return void problems.push(`${where} has no value`);
    switch (name.toLowerCase()) {
      case 'relaytype':
        if (!CLIENT_TYPES.has(value.toLowerCase())) problems.push(`${where} ${value}: only a client configuration (RelayType client) can be used by teredo-client`);
        break;
      case 'serveraddress':
        out.server = value;
        break;
      case 'serveraddress2':
        out.secondaryServer = value;
        break;
      case 'interfacename':
        out.interface = value;
        break;
      case 'bindaddress':
        out.bindAddress = value;
        break;
      case 'bindport': {
        const port = /^\d+$/.test(value) ? Number(value) : NaN;
        if (!(port >= 0 && port <= 65535)) problems.push(`${where} (${value}) must be a port number 0..65535`);
        else out.port = port;
        break;
      }
      default:
        ignored.push(name);
    }
  });
  return { conf: { ...out, ignored }, problems };
}

/** Reads and parses `path`; an unreadable file is one problem line. */
export function readMiredoConf(path: string): { conf: MiredoClientConf; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { conf: { ignored: [] }, problems: [`miredoConf (${JSON.stringify(path)}) cannot be read: ${(err as Error).message}`] };
  }
  return parseMiredoConf(text);
}
