// `teredo-server --miredo-conf FILE`: a miredo-server configuration (miredo-server.conf(5); Debian installs it at
// /etc/miredo-server.conf) read by the runtime's one Miredo reader (src/runtime/miredo-conf.ts: syntax, comments,
// refused lines) at start and on every SIGHUP, like miredo-server. Flags override the file.
//
//   ServerBindAddress  IPv4      -> address
//   ServerBindAddress2 IPv4      -> secondaryAddress (default primary + 1, as Miredo)
//   InterfaceMTU       integer   -> mtu (decimal, 0x hex or 0 octal, as Miredo's strtoul base 0)
//   Prefix             IPv6      only the standard 2001:0::/32 (RFC 4380 §2.6), which is what we serve
//   SyslogFacility     facility  accepted with a warning: our logs are JSON lines on stdout
//
// Host names are not resolved: addresses must be literals.

import type { ConfigImport } from '../../src/runtime/config.js';
import { integerValue, ipv4Value, readMiredoFile, standardPrefixOnly, type MiredoFileKind } from '../../src/runtime/miredo-conf.js';

const CLIENT_FILE = 'a miredo.conf directive, for the client or relay, not for miredo-server';

export const MIREDO_SERVER_FILE: MiredoFileKind = {
  what: 'miredo-server config',
  directives: [
    { name: 'ServerBindAddress', apply: ipv4Value('address') },
    { name: 'ServerBindAddress2', apply: ipv4Value('secondaryAddress') },
    { name: 'InterfaceMTU', apply: integerValue('mtu', 65535) },
    { name: 'Prefix', apply: (value) => standardPrefixOnly(value) },
    { name: 'SyslogFacility', ignored: 'logs are JSON lines on stdout' },
  ],
  elsewhere: Object.fromEntries(['relaytype', 'serveraddress', 'serveraddress2', 'interfacename', 'bindaddress', 'bindport', 'localdiscovery', 'hold'].map((d) => [d, CLIENT_FILE])),
};

export const miredoServerImport: ConfigImport = {
  flag: 'miredo-conf',
  describe: 'read a miredo-server.conf (ServerBindAddress, ServerBindAddress2, InterfaceMTU, Prefix, SyslogFacility) instead of --config; flags override it; read again on SIGHUP',
  read: (path) => readMiredoFile(path, MIREDO_SERVER_FILE),
};
