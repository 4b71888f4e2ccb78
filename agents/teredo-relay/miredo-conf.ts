// `teredo-relay --miredo-conf FILE`: a Miredo relay configuration (miredo.conf(5)) read by the runtime's one
// Miredo reader (src/runtime/miredo-conf.ts: syntax, comments, refused lines) at start and on every SIGHUP, so
// an existing Miredo relay switches by changing the command. Flags on the command line override the file.
//
//   RelayType relay | cone     (required: without it Miredo runs the file as a CLIENT; a client type is refused)
//   RelayType restricted       -> directBubbles (Miredo: "the relay is behind a restricted NAT")
//   InterfaceName NAME         -> interface
//   BindAddress IPv4           -> bind
//   BindPort N                 -> port
//   InterfaceMTU N             -> mtu
//   Prefix 2001:0::            accepted only as the RFC 4380 prefix (Miredo 1.3 removed custom prefixes)
//   SyslogFacility             accepted with a warning (our logs are JSON lines on stdout)
//   ServerAddress, ServerAddress2, LocalDiscovery   refused: client directives, the file is not a relay's

import type { ConfigImport } from '../../src/runtime/config.js';
import { integerValue, ipv4Value, readMiredoFile, standardPrefixOnly, textValue, type MiredoFileKind } from '../../src/runtime/miredo-conf.js';

const CLIENT_TYPES = new Set(['client', 'autoclient']);

export const MIREDO_RELAY_FILE: MiredoFileKind = {
  what: 'Miredo relay configuration',
  directives: [
    {
      name: 'RelayType',
      apply: (value, out) => {
        const type = value.toLowerCase();
        if (type === 'restricted') out.directBubbles = true;
        else if (type === 'relay' || type === 'cone') out.directBubbles = false;
        else return `${value} is not a relay (teredo-relay takes relay, cone or restricted${CLIENT_TYPES.has(type) ? '; use teredo-client --miredo-conf for a client' : ''})`;
        return undefined;
      },
    },
    { name: 'InterfaceName', apply: textValue('interface') },
    { name: 'BindAddress', apply: ipv4Value('bind') },
    { name: 'BindPort', apply: integerValue('port', 65535) },
    { name: 'InterfaceMTU', apply: integerValue('mtu', 65535) },
    { name: 'Prefix', apply: (value) => standardPrefixOnly(value) },
    { name: 'SyslogFacility', ignored: 'logs are JSON lines on stdout' },
  ],
  elsewhere: {
    serveraddress: 'a client directive: this file configures a Miredo client',
    serveraddress2: 'a client directive: this file configures a Miredo client',
    localdiscovery: 'a client directive: this file configures a Miredo client',
    serverbindaddress: 'a miredo-server.conf directive: use teredo-server --miredo-conf',
  },
  finish: (seen) => (seen.has('relaytype') ? [] : ['no RelayType: Miredo runs this file as a client (RelayType defaults to client); add "RelayType relay" or use teredo-client --miredo-conf']),
};

export const miredoRelayImport: ConfigImport = {
  flag: 'miredo-conf',
  describe: 'read a Miredo relay configuration (RelayType relay|cone|restricted, InterfaceName, BindAddress, BindPort, InterfaceMTU, Prefix) instead of --config; flags override it; read again on SIGHUP',
  read: (path) => readMiredoFile(path, MIREDO_RELAY_FILE),
};
