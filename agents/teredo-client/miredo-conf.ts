// `teredo-client --miredo-conf FILE`: a Miredo client configuration (miredo.conf(5)) read by the runtime's one
// Miredo reader (src/runtime/miredo-conf.ts: syntax, comments, refused lines) at start and on every SIGHUP, so a
// host running Miredo switches by changing the command. Flags override the file.
//
//   RelayType client|autoclient   (Miredo's default when absent; a relay type is refused: use teredo-relay)
//   ServerAddress host            -> server (a name is resolved at start and on SIGHUP, as Miredo does)
//   ServerAddress2 IPv4           -> secondaryServer (Miredo's client ignores it; we use it)
//   InterfaceName name            -> interface
//   BindAddress IPv4, BindPort N  -> bindAddress, port
//   LocalDiscovery enabled|disabled -> localDiscovery on|off (yes/no, true/false, on/off accepted too;
//                                     absent: ours stays on, where Miredo's default is off)
//   InterfaceMTU, Prefix, SyslogFacility, IgnoreConeBit   accepted with a warning (no meaning here)

import type { ConfigImport } from '../../src/runtime/config.js';
import { integerValue, ipv4Value, readMiredoFile, textValue, type MiredoFileKind } from '../../src/runtime/miredo-conf.js';

const CLIENT_TYPES = new Set(['client', 'autoclient']);

const ON = new Set(['enabled', 'yes', 'true', 'on']);
const OFF = new Set(['disabled', 'no', 'false', 'off']);

/** A Miredo boolean directive into an on|off field. */
function onOffValue(field: string): (value: string, out: Record<string, unknown>) => string | undefined {
  return (value, out) => {
    const v = value.toLowerCase();
    if (!ON.has(v) && !OFF.has(v)) return `(${JSON.stringify(value)}) must be enabled or disabled`;
    out[field] = ON.has(v) ? 'on' : 'off';
    return undefined;
  };
}

export const MIREDO_CLIENT_FILE: MiredoFileKind = {
  what: 'Miredo client configuration',
  directives: [
    {
      name: 'RelayType',
      apply: (value) => (CLIENT_TYPES.has(value.toLowerCase()) ? undefined : `${value}: only a client configuration (RelayType client) can be used by teredo-client; use teredo-relay --miredo-conf for a relay`),
    },
    { name: 'ServerAddress', apply: textValue('server') },
    { name: 'ServerAddress2', apply: ipv4Value('secondaryServer') },
    { name: 'InterfaceName', apply: textValue('interface') },
    { name: 'BindAddress', apply: ipv4Value('bindAddress') },
    { name: 'BindPort', apply: integerValue('port', 65535) },
    { name: 'InterfaceMTU', ignored: 'the MTU comes from the server\'s Router Advertisement (RFC 4380 §5.2.1)' },
    { name: 'Prefix', ignored: 'the prefix comes from the server\'s Router Advertisement' },
    { name: 'SyslogFacility', ignored: 'logs are JSON lines on stdout' },
    { name: 'IgnoreConeBit', ignored: 'there is no such switch here: the cone bit of peers is handled as RFC 5991 asks' },
    { name: 'LocalDiscovery', apply: onOffValue('localDiscovery') },
  ],
  elsewhere: { serverbindaddress: 'a miredo-server.conf directive: use teredo-server --miredo-conf' },
};

export const miredoClientImport: ConfigImport = {
  flag: 'miredo-conf',
  describe: 'read a Miredo client configuration (ServerAddress, ServerAddress2, InterfaceName, BindAddress, BindPort, RelayType client) instead of --config; flags override it; read again on SIGHUP',
  read: (path) => readMiredoFile(path, MIREDO_CLIENT_FILE),
};
