#!/usr/bin/env node
// teredo-server: an RFC 4380 §5.3 Teredo server on two IPv4 addresses.
//
//   teredo-server --address <IPv4> [--secondary-address <IPv4>] [--mtu N] [--native-forwarding raw|tun|off]
//                 [--forward-interface NAME]
//                 [--forward-icmpv6-max-payload N] [--allow-non-global] [--stats-interval S]
//                 [--config FILE | --miredo-conf FILE] [--log-level L] [--instance NAME] [--metrics ADDR:PORT] [--check-config]
//   teredo-server status [--json] [--instance NAME] [--timeout MS]
//
// Runs on the shared runtime (src/runtime/cli.ts): JSON config file with flags on top, --check-config (used by
// the systemd unit's ExecStartPre), pino JSON logs on stdout, SIGHUP reload, SIGTERM/SIGINT clean stop, and a
// control socket in the abstract namespace of this network namespace, which `status` queries.
//
// Exit codes: 0 ok; 1 start-up failure (invalid config, an address that cannot be bound, a TUN device that
// cannot be created, a raw IPv6 socket it may not open: no CAP_NET_RAW); 2 usage; 3 `status` found no server
// running in this network namespace.

import type { AgentDefinition } from '../../src/runtime/cli.js';
import { runAgentMain } from '../../src/runtime/cli.js';
import { serverSpec, type ServerAgentConfig } from './config.js';
import { readMiredoServerConf } from './miredo-conf.js';
import { startTeredoServer } from './server.js';
import { teredoServerMetrics } from './metrics.js';
import { AGENT_NAME, formatTeredoServerStatus, type TeredoServerStatus } from './status.js';

const teredoServer: AgentDefinition<ServerAgentConfig, TeredoServerStatus> = {
  name: AGENT_NAME,
  description:
    'Teredo server (RFC 4380 §5.3): answers Router Solicitations on UDP 3544 of a primary and a secondary IPv4 address, ' +
    'and forwards bubbles and small ICMPv6 packets for Teredo clients. `teredo-server status [--json]` shows its counters.',
  config: serverSpec,
  start: (ctx) => startTeredoServer(ctx),
  formatStatus: formatTeredoServerStatus,
  metrics: teredoServerMetrics,
  foreignConfig: {
    flag: 'miredo-conf',
    describe: 'read a miredo-server.conf (ServerBindAddress, ServerBindAddress2, InterfaceMTU, Prefix, SyslogFacility) instead of --config; flags override it',
    read: readMiredoServerConf,
  },
};

await runAgentMain(teredoServer);
